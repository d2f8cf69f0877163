"""Batched ensembles: K independent MLPs trained as one computation.

The papers' experiments are grids of small, independent runs (100 initialisations, noise
levels, seeds). Training them one by one leaves a GPU waiting on kernel launches; here the
K models' weights are stacked to ``(K, in, out)`` and every layer is one ``baddbmm``.
Each model keeps its own initialisation, its own data order and, optionally, its own
labels, so the semantics are exactly those of K separate runs of :func:`train_reference`
(tested in float32 and float64).
"""

from __future__ import annotations

from contextlib import nullcontext

import torch
import torch.nn.functional as F

from .. import progress, seeds
from . import mlp
from .graphs import GraphedStep, graph_mode
from .models import init_mlp


class MLPEnsemble:
    """K ReLU MLPs with layer sizes ``sizes``, model k initialised from ``init_seeds[k]``.

    Without ``output_bias`` the last layer has none (a zero, never trained), so that every
    parameter belongs to hidden units: turn-over dropout's sub-networks then share nothing.
    """

    def __init__(self, sizes, init_seeds, device="cpu", dtype=torch.float32, output_bias=True):
        self.sizes = list(sizes)
        inits = [init_mlp(self.sizes, torch.Generator().manual_seed(s)) for s in init_seeds]
        self.weights = [torch.stack([m[i][0] for m in inits]).to(device, dtype) for i in range(len(sizes) - 1)]
        self.biases = [
            torch.stack([m[i][1] for m in inits]).unsqueeze(1).to(device, dtype) for i in range(len(sizes) - 1)
        ]
        self.output_bias = output_bias
        if not output_bias:
            self.biases[-1].zero_()
        self.step_mode = None  # how train_ensemble ran its full-size steps (a graphs.GraphedStep mode)

    @property
    def k(self):
        return self.weights[0].shape[0]

    def parameters(self):
        params = [p for pair in zip(self.weights, self.biases) for p in pair]
        return params if self.output_bias else params[:-1]

    def forward(self, x, hidden_masks=None):
        """x: (K, B, in) -> logits (K, B, classes). ``hidden_masks``: one (K, B, units) factor per hidden layer,
        applied after its ReLU (turn-over dropout, :mod:`memo_utils.methods.turn_over`)."""
        h = x
        for i, (w, b) in enumerate(zip(self.weights, self.biases)):
            h = torch.baddbmm(b, h, w)
            if i < len(self.weights) - 1:
                h = torch.relu(h)
                if hidden_masks is not None:
                    h = h * hidden_masks[i]
        return h

    @torch.no_grad()
    def predict(self, x, chunk=4096):
        """Class predictions (K, N) for inputs shared by all models, x: (N, ...), or one set per model, (K, N, d)."""
        if _per_model(x, self):
            return torch.cat([self.forward(x[:, i : i + chunk]).argmax(-1) for i in range(0, x.shape[1], chunk)], dim=1)
        x = x.flatten(1)
        return torch.cat(
            [self.forward(x[i : i + chunk].expand(self.k, -1, -1)).argmax(-1) for i in range(0, len(x), chunk)], dim=1
        )


def _per_model(x, ensemble):
    """Whether ``x`` holds one flattened input set per model, (K, N, d), rather than one shared set."""
    return x.ndim == 3 and x.shape[0] == ensemble.k and x.shape[2] == ensemble.sizes[0]


def data_orders(order_seeds, n, epoch):
    """The permutation of ``range(n)`` that model k uses in ``epoch``: one generator per model."""
    return torch.stack(
        [torch.randperm(n, generator=torch.Generator().manual_seed(seeds.epoch_order(s, epoch))) for s in order_seeds]
    )


def train_ensemble(
    ensemble,
    x,
    y,
    *,
    order_seeds,
    epochs,
    batch_size,
    lr,
    momentum=0.0,
    autocast_dtype=None,
    checkpoints=(),
    callback=None,
    graphs="auto",
    keep=None,
    hidden_masks=None,
):
    """Minibatch SGD on every model at once.

    x: (N, d) shared by all models or (K, N, d), one input set per model (for example a different
    randX draw per model); y: (N,) shared or (K, N), one label set per model (a randY draw). Model k visits the data
    in the order
    :func:`data_orders` gives it; the last, smaller minibatch of an epoch is kept. SGD with
    momentum follows ``torch.optim.SGD`` (v = m v + g; p -= lr v). ``callback(step, ensemble)``
    runs after each step listed in ``checkpoints``. ``graphs`` ("auto": on CUDA) replays the
    full-size steps as one CUDA graph (:mod:`memo_utils.engine.graphs`). Returns a (K,) bool tensor:
    which models kept a finite loss throughout. Diverged models do not affect the others.
    ``keep`` (K, N) bool trains model k on the examples it marks only (leave-one-out, random halves):
    the batches still come from the permutation of all N, and a model's loss is the mean over the
    kept examples of its batch. ``hidden_masks(idx)`` returns the forward's masks for the examples
    ``idx`` (K, B) of a step (turn-over dropout).
    """
    per_model_inputs = _per_model(x, ensemble)
    n = x.shape[1] if per_model_inputs else x.shape[0]
    device = ensemble.weights[0].device
    x = (x if per_model_inputs else x.flatten(1)).to(device)
    per_model_labels = y.ndim == 2
    y = y.to(device)
    params = ensemble.parameters()
    velocity = [torch.zeros_like(p) for p in params] if momentum else None
    finite = torch.ones(ensemble.k, dtype=torch.bool, device=device)
    rows = torch.arange(ensemble.k, device=device)[:, None]
    keep = None if keep is None else keep.to(device)

    def step(idx):
        xb = x[rows, idx] if per_model_inputs else x[idx]
        yb = y[rows, idx] if per_model_labels else y[idx]
        for p in params:
            p.requires_grad_(True)
        # no autocast weight cache: a CUDA graph must not keep casts from its capture
        with (
            torch.autocast(device.type, dtype=autocast_dtype, cache_enabled=False) if autocast_dtype else nullcontext()
        ):
            logits = ensemble.forward(xb, None if hidden_masks is None else hidden_masks(idx))
        if autocast_dtype is not None:
            logits = logits.float()  # the loss in full precision, as autocast does for nn modules
        per_model_loss = F.cross_entropy(logits.flatten(0, 1), yb.flatten(), reduction="none").view(ensemble.k, -1)
        if keep is None:
            per_model_loss = per_model_loss.mean(1)
        else:
            kept = keep[rows, idx].to(per_model_loss.dtype)
            per_model_loss = (per_model_loss * kept).sum(1) / kept.sum(1).clamp_min(1)
        grads = torch.autograd.grad(per_model_loss.sum(), params)
        with torch.no_grad():
            finite.logical_and_(torch.isfinite(per_model_loss))
            for i, (p, g) in enumerate(zip(params, grads)):
                if velocity is not None:
                    g = velocity[i].mul_(momentum).add_(g)
                p.requires_grad_(False)
                p.sub_(lr * g)
        return ()

    full_step = GraphedStep(step, graph_mode(graphs, device))
    checkpoints = set(checkpoints)
    count = 0
    shown = progress.bar(epochs * -(-n // batch_size), f"{ensemble.k} MLPs, SGD steps")
    for epoch in range(epochs):
        order = data_orders(order_seeds, n, epoch).to(device)
        for start in range(0, n, batch_size):
            idx = order[:, start : start + batch_size]
            (full_step if idx.shape[1] == batch_size else step)(idx)
            count += 1
            shown.update()
            if count in checkpoints and callback is not None:
                callback(count, ensemble)
    shown.close()
    ensemble.step_mode = full_step.mode
    return finite


@torch.no_grad()
def fused_sgd_step(ensemble, x, y, lr, momentum=0.0, velocity=None, hidden_masks=None, kept=None):
    """One SGD step of every model on its minibatch x (K, B, d), y (K, B), with no gradient materialised.

    The closed-form ReLU-MLP backward of :mod:`memo_utils.methods.sensitivity` runs from the top layer down;
    each layer's delta for the layer below is formed first, then its weights are updated in place by
    one ``baddbmm`` (W <- W - lr h^T delta), or, with momentum, the velocity by one ``baddbmm``
    (v <- m v + h^T delta, as ``torch.optim.SGD``) and W <- W - lr v. Autograd's path writes each
    weight's gradient, then reads it and writes a temporary lr * g before the update; here the update
    reads and writes the weight once (issue: the MLP step is memory-bound). ``velocity``: one buffer per
    ``ensemble.parameters()`` entry when momentum is used. ``hidden_masks`` and ``kept`` (K, B) as in
    :func:`train_ensemble`. Returns the per-model loss (K,), for the finiteness check.
    """
    params = [t for pair in zip(ensemble.weights, ensemble.biases) for t in pair]
    inputs, masks, logits = mlp.forward_cache(params, x, hidden_masks)
    log_p = torch.log_softmax(logits, -1)
    picked = log_p.gather(-1, y.unsqueeze(-1)).squeeze(-1)
    delta = log_p.exp()
    delta.scatter_add_(-1, y.unsqueeze(-1), -torch.ones_like(picked).unsqueeze(-1))
    weight = (
        torch.full_like(picked, 1.0 / y.shape[-1])
        if kept is None
        else kept.to(picked.dtype) / kept.sum(1, keepdim=True).clamp_min(1).to(picked.dtype)
    )
    delta.mul_(weight.unsqueeze(-1))
    for i, d in mlp.layer_deltas(ensemble.weights, masks, delta):
        h, w, b = inputs[i].transpose(1, 2), ensemble.weights[i], ensemble.biases[i]
        train_bias = i < len(ensemble.weights) - 1 or ensemble.output_bias
        if velocity is None:  # W <- W - lr h^T delta, in one baddbmm
            w.baddbmm_(h, d, alpha=-lr)
            if train_bias:
                b.sub_(d.sum(1, keepdim=True), alpha=lr)
        else:
            velocity[2 * i].baddbmm_(h, d, beta=momentum)
            w.sub_(velocity[2 * i], alpha=lr)
            if train_bias:
                velocity[2 * i + 1].mul_(momentum).add_(d.sum(1, keepdim=True))
                b.sub_(velocity[2 * i + 1], alpha=lr)
    return -(picked * weight).sum(1)


def train_fused(
    ensemble,
    x,
    y,
    *,
    order_seeds,
    epochs,
    batch_size,
    lr,
    momentum=0.0,
    keep=None,
    hidden_masks=None,
    checkpoints=(),
    callback=None,
):
    """:func:`train_ensemble`'s schedule (shared inputs, labels (N,) or (K, N); ``callback(step, ensemble)``
    after each step in ``checkpoints``) with every step taken by :func:`fused_sgd_step`, eagerly. A
    candidate engine: the benchmark compares it with :func:`train_ensemble`, which the chapters keep
    using until a GPU measurement says the fused step is faster. Returns which models kept a finite loss."""
    device = ensemble.weights[0].device
    x, y = x.flatten(1).to(device), y.to(device).expand(ensemble.k, -1)
    rows = torch.arange(ensemble.k, device=device)[:, None]
    keep = None if keep is None else keep.to(device)
    velocity = [torch.zeros_like(p) for p in ensemble.parameters()] if momentum else None
    finite = torch.ones(ensemble.k, dtype=torch.bool, device=device)
    checkpoints, count = set(checkpoints), 0
    for epoch in range(epochs):
        order = data_orders(order_seeds, len(x), epoch).to(device)
        for start in range(0, len(x), batch_size):
            idx = order[:, start : start + batch_size]
            loss = fused_sgd_step(
                ensemble,
                x[idx],
                y[rows, idx],
                lr,
                momentum,
                velocity,
                None if hidden_masks is None else hidden_masks(idx),
                None if keep is None else keep[rows, idx],
            )
            finite &= torch.isfinite(loss)
            count += 1
            if count in checkpoints and callback is not None:
                callback(count, ensemble)
    return finite


def train_reference(model, x, y, *, order_seed, epochs, batch_size, lr, momentum=0.0):
    """One MLP (``mlp_module``) the usual way: ``torch.optim.SGD`` and a Python loop.

    The straightforward baseline that the ensemble must match and that the benchmark beats.
    """
    device = next(model.parameters()).device
    optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum)
    x, y = x.flatten(1).to(device), y.to(device)
    for epoch in range(epochs):
        order = data_orders([order_seed], len(x), epoch)[0].to(device)
        for start in range(0, len(x), batch_size):
            idx = order[start : start + batch_size]
            optimizer.zero_grad(set_to_none=True)
            F.cross_entropy(model(x[idx]), y[idx]).backward()
            optimizer.step()
    return model
