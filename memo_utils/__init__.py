"""memo_utils: the computations behind the memorization book.

Imports need only torch and numpy (plus filelock and tqdm), so experiments run with
``python -m memo_utils`` on a GPU machine without Jupyter; plotting (``plots``, ``figures``)
and widgets are imported by the chapters.

A chapter is declared once, in ``experiments/<name>.py``, through :mod:`memo_utils.framework.chapter`
(parameters, cached parts, claims) and listed in :data:`memo_utils.experiments.CHAPTERS`.

Which SGD engine a chapter uses. There are three, each tested equal to a plain reference:
MLPs train as batched ensembles (:func:`memo_utils.engine.ensemble.train_ensemble`: K models, one
``baddbmm`` per layer, each with its own initialisation, data order and labels); CNNs train
through :func:`memo_utils.engine.training.train_classifier` (one model, the reference loop) or
:func:`memo_utils.engine.stacked.train_classifiers` (K models stacked under ``vmap``, the same
semantics, faster on a GPU); unrolled-SGD sensitivity uses :mod:`memo_utils.methods.sensitivity`.
A new chapter picks one of these and expresses what it varies as model or data features
(a per-model label set; the examples a model trains on, ``keep``, for leave-one-out and
subsampling; turn-over dropout's per-example masks, :mod:`memo_utils.methods.turn_over`; dropout, noise,
weight decay and adversarial training as per-model settings, :mod:`memo_utils.methods.regularization`,
tested equal in both CNN trainers), never as a fourth training loop.
"""

__version__ = "0.1.0"
