"""Several CNNs trained as one computation: ``torch.func`` stacked module state under ``vmap``.

The chapters train a few CNNs that differ only in labels, seed or setting (real vs randY,
seeds of a sweep). One such model with batch 128 leaves most of a GPU idle. Here the K
models' parameters and buffers are stacked along a leading dimension and one
``vmap(functional_call)`` runs all of them; under ``vmap`` a convolution whose weights carry
a model dimension becomes one grouped convolution, and batch norm keeps per-model
statistics. :func:`train_classifiers` has exactly the semantics of K calls of
:func:`memo_utils.engine.training.train_classifier` (tested in float64), so the two are
interchangeable and the benchmark can compare them on the same workload.
"""

from __future__ import annotations

import copy
import functools
from contextlib import nullcontext

import torch
import torch.nn.functional as F
from torch.func import functional_call, stack_module_state, vmap

from .. import progress
from .graphs import GraphedStep, graph_mode


class StackedModels:
    """K modules of identical architecture as one batched module (state stacked on dim 0)."""

    def __init__(self, models):
        self.models = list(models)
        self.params, self.buffers = stack_module_state(self.models)
        self._base = copy.deepcopy(self.models[0]).to("meta")
        self._forward = vmap(lambda p, b, x, *extra: functional_call(self._base, (p, b), (x, *extra)))

    @property
    def k(self):
        return len(self.models)

    def __call__(self, x, *extra):
        """x: (K, B, ...) one minibatch per model -> (K, B, classes); ``extra`` inputs, one slice per model."""
        return self._forward(self.params, self.buffers, x, *extra)

    def train(self, mode=True):
        self._base.train(mode)

    @torch.no_grad()
    def write_back(self):
        """Copy the stacked state into the K original modules (for evaluation and inspection)."""
        for k, model in enumerate(self.models):
            for name, tensor in model.named_parameters():
                tensor.copy_(self.params[name][k])
            for name, tensor in model.named_buffers():
                tensor.copy_(self.buffers[name][k])


def train_classifiers(
    models,
    x,
    y,
    *,
    seeds,
    epochs,
    batch_size,
    lr,
    momentum=0.9,
    lr_halving_every=15,
    weight_decay=0.0,
    adversary=None,
    autocast_dtype=None,
    graphs=False,
    callback=None,
):
    """Train ``models`` at once; model k as ``train_classifier(models[k], x, y[k], seed=seeds[k],
    weight_decay=weight_decay[k])``.

    x: (N, ...) shared inputs; y: (N,) shared or (K, N) one label set per model. Same SGD
    with momentum (v = m v + g; p -= lr v), learning-rate halving and dropped last minibatch
    as the single-model loop. The trained state is written back into ``models``. Returns one
    (history, finite) pair per model; a diverged model does not affect the others.
    ``autocast_dtype`` (e.g. ``torch.bfloat16``) runs the forward pass under autocast; the
    loss and the updates stay in the parameters' precision. ``weight_decay`` is one value or one
    per model, as is the weight of an ``adversary`` (:class:`memo_utils.methods.regularization.Adversary`,
    adversarial training). Models that draw their own dropout masks and noise (``draw_randomness``, see
    :mod:`memo_utils.methods.regularization`) draw them before each step, so each sees what it would
    alone. ``callback(epoch, models)`` runs after each epoch, the state written back.
    ``graphs`` (:mod:`memo_utils.engine.graphs`; True: on CUDA) replays each step, forward, backward and update,
    as one CUDA graph, captured anew when the learning rate halves; not with an adversary or models that
    draw their own randomness (their steps call the host). The chapters leave it off (see the cost page).
    """
    stacked = StackedModels(models)
    k, n = stacked.k, len(x)
    if len(seeds) != k:
        raise ValueError(f"seeds has {len(seeds)} entries; must have one per model ({k})")
    draws = hasattr(models[0], "draw_randomness")
    mode = graph_mode(graphs, x.device)
    if graphs is not False and (adversary is not None or draws):  # refused on every device, not only on CUDA
        raise ValueError(
            f"graphs={graphs!r} is not allowed with an adversary or models that draw their own "
            "randomness: use graphs=False"
        )
    y = y.expand(k, -1) if y.ndim == 1 else y
    generators = [torch.Generator().manual_seed(s) for s in seeds]
    params = list(stacked.params.values())
    velocity = [torch.zeros_like(p) for p in params]
    rows = torch.arange(k, device=x.device)[:, None]
    batch_size = min(batch_size, n)
    histories = [{"loss": [], "accuracy": []} for _ in range(k)]
    finite = torch.ones(k, dtype=torch.bool, device=x.device)
    # no autocast weight cache: a CUDA graph must not keep casts from its capture
    amp = (
        (lambda: torch.autocast(x.device.type, dtype=autocast_dtype, cache_enabled=False))
        if autocast_dtype
        else nullcontext
    )
    decay = torch.as_tensor(weight_decay, dtype=params[0].dtype, device=x.device).expand(k)
    decaying = bool(decay.any())
    loss_sum = torch.zeros(k, device=x.device)  # allocated once: a graphed step adds into the same tensors
    correct = torch.zeros(k, device=x.device)

    def step(idx, step_lr):
        labels = y[rows, idx]
        randomness = lambda: (
            [
                torch.stack(site).to(x.device, x.dtype)
                for site in zip(*(m.draw_randomness(batch_size, x.shape[1:]) for m in models))
            ]
            if draws
            else []
        )
        extra = randomness()
        with amp():
            logits = stacked(x[idx], *extra).float() if autocast_dtype else stacked(x[idx], *extra)
        loss = F.cross_entropy(logits.flatten(0, 1), labels.flatten(), reduction="none").view(k, -1).mean(1)
        if adversary is not None:  # memo_utils.methods.regularization.Adversary: adversarial training
            loss = adversary.stacked_loss(stacked, models, x[idx], labels, loss, randomness)
        grads = torch.autograd.grad(loss.sum(), params)
        with torch.no_grad():
            if decaying:  # as torch.optim.SGD: the gradient plus weight_decay * p, before momentum
                grads = [g + decay.view(-1, *[1] * (p.ndim - 1)) * p for p, g in zip(params, grads)]
            torch._foreach_mul_(velocity, momentum)  # v = m v + g; p -= lr v, each as one multi-tensor kernel
            torch._foreach_add_(velocity, grads)
            torch._foreach_add_(params, velocity, alpha=-step_lr)
            loss_sum.add_(loss * batch_size)
            correct.add_((logits.argmax(-1) == labels).sum(1))
        return ()

    run_step = None  # captured anew for each learning rate (a graph bakes it in)
    shown = progress.bar(epochs, f"{k} stacked {type(models[0]).__name__}s, epochs")
    for epoch in range(epochs):
        stacked.train()
        step_lr = lr * 0.5 ** (epoch // lr_halving_every)
        if run_step is None or run_step.fn.keywords["step_lr"] != step_lr:
            run_step = GraphedStep(functools.partial(step, step_lr=step_lr), mode)
        order = torch.stack([torch.randperm(n, generator=g) for g in generators]).to(x.device)
        loss_sum.zero_()
        correct.zero_()
        seen = 0
        for start in range(0, n - batch_size + 1, batch_size):
            run_step(order[:, start : start + batch_size])
            seen += batch_size
        finite &= torch.isfinite(loss_sum)
        for h, loss, c in zip(histories, loss_sum.tolist(), correct.tolist()):
            h["loss"].append(loss / seen)
            h["accuracy"].append(c / seen)
        if callback is not None:
            stacked.write_back()
            callback(epoch + 1, stacked.models)
        shown.update()
    shown.close()
    stacked.write_back()
    return list(zip(histories, finite.tolist()))
