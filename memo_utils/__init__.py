"""memo_utils: the computations behind the memorization book, in layers that import only downwards
(tests/test_layers.py checks it):

- ``errors``, ``progress``, ``seeds``: one-line errors, progress bars, where every random draw's seed comes from;
- ``engine/``: how networks train on CPU and GPU: models, the closed-form MLP maths, three SGD engines, data, memory;
- ``methods/``: the papers' algorithms, one module each (LASS, loss-sensitivity, Hessian, turn-over dropout, ...);
- ``framework/``: the book's machinery: the chapter contract, profiles, cache, fingerprints, claims, a page's face;
- ``experiments/``: one module per chapter, declaring its parameters, cached parts and claims (the registry);
- ``figures/``: one module per chapter's figures, the shared plot style and the widgets;
- ``bench/``: the GPU benchmark; ``report``: the book-wide tables; ``cluster``: cells as Ray tasks;
  ``rehearse``: cells at their real sizes, stopped early; ``scaffold``: a new chapter from a template;
  ``__main__``: the command line.

Everything below ``figures`` needs only torch and numpy (plus filelock, tqdm, psutil), so experiments run with
``python -m memo_utils`` on a GPU machine without Jupyter. A new chapter picks one of the three engines
(:mod:`memo_utils.engine.ensemble`, :mod:`~memo_utils.engine.training`, :mod:`~memo_utils.engine.stacked`, each
tested equal to a plain reference) and expresses what it varies as model or data features (per-model labels, the
examples a model keeps, turn-over masks, regularizers as per-model settings), never as a fourth training loop.
"""

__version__ = "0.1.0"
