"""Ground truths for memorization scores (self-influence, Liu et al. Equation 2): exact leave-one-out
retraining and Feldman & Zhang's subsampling estimator, each trained as one batched MLP ensemble.

Both use :func:`memo_utils.engine.ensemble.train_ensemble` with ``keep``: model k trains on the examples its
row marks, with the batches of the permutation of all N (so the full run and a leave-one-out run see
the same minibatches but for the one example), from the same initialisation and data order unless
stated. A score is a loss difference, L(trained without z_i, z_i) - L(trained with z_i, z_i), the
quantity turn-over dropout estimates (:func:`memo_utils.methods.turn_over.scores`).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from .. import seeds
from ..engine.ensemble import MLPEnsemble, train_ensemble


@torch.no_grad()
def _losses(ensemble, x, y):
    """Per-model, per-example cross-entropy of inputs shared by all models: (K, N)."""
    logits = ensemble.forward(x.flatten(1).expand(ensemble.k, -1, -1))
    return F.cross_entropy(logits.flatten(0, 1), y.repeat(ensemble.k), reduction="none").view(ensemble.k, -1)


def leave_one_out(sizes, x, y, examples, *, seed, output_bias=False, **train):
    """Exact leave-one-out self-influence of ``examples`` (indices into x): one full model and one model per
    left-out example, all from initialisation ``seed`` and its data order, trained as one ensemble.
    ``train`` goes to :func:`train_ensemble` (epochs, batch_size, lr, ...). Returns (len(examples),)."""
    examples = torch.as_tensor(examples)
    keep = torch.ones(len(examples) + 1, len(x), dtype=torch.bool)
    keep[torch.arange(1, len(examples) + 1), examples] = False  # row 0: the full model
    ensemble = MLPEnsemble(sizes, [seed] * len(keep), x.device, x.dtype, output_bias=output_bias)
    finite = train_ensemble(ensemble, x, y, order_seeds=[seed] * len(keep), keep=keep, **train)
    losses = _losses(ensemble, x[examples], y[examples])  # (1 + E, E)
    scores = losses[1:].diagonal() - losses[0]
    return torch.where(finite[1:] & finite[0], scores, torch.nan)  # a diverged model is reported, not ranked


def subsampling(sizes, x, y, *, models, seed, output_bias=False, with_finite=False, **train):
    """Feldman & Zhang's estimator: ``models`` networks, each on a random half of the data with its own
    initialisation and order; score(i) = mean loss on z_i of the models without it minus of those with it,
    over the models whose training stayed finite. Returns (N,).

    The score of an example is undefined, and returned as nan, when every finite model kept it or none did
    (no model to compare with): with M models that happens to an example with probability 2^(1 - M). A
    caller ranks only the finite scores and reports how many it left out. ``with_finite`` also returns which
    models kept a finite loss, (models,), for a caller that checks it."""
    generator = torch.Generator().manual_seed(seed)
    keep = torch.rand(models, len(x), generator=generator) < 0.5
    run_seeds = seeds.subsampling_models(seed, models)
    ensemble = MLPEnsemble(sizes, run_seeds, x.device, x.dtype, output_bias=output_bias)
    finite = train_ensemble(ensemble, x, y, order_seeds=run_seeds, keep=keep, **train)
    losses = _losses(ensemble, x, y)[finite]  # diverged models leave the estimate
    kept = keep.to(losses.device, losses.dtype)[finite]
    with_i = (losses * kept).sum(0) / kept.sum(0).clamp_min(1)
    without_i = (losses * (1 - kept)).sum(0) / (1 - kept).sum(0).clamp_min(1)
    compared = (kept.sum(0) > 0) & ((1 - kept).sum(0) > 0)
    scores = torch.where(compared, without_i - with_i, torch.nan)
    return (scores, finite) if with_finite else scores
