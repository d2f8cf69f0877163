"""Loss-sensitivity by differentiating through unrolled SGD (Arpit et al. 2017, section 3.2).

For a training example x and a loss L_t measured after t SGD updates, g_x^t = ||dL_t/dx||_1,
where x influences L_t only through the updates it took part in (the inputs of the measured
loss are detached). With theta_{s+1} = theta_s - lr * grad_theta l_s(theta_s, X_s), reverse
mode carries the adjoint a_s = dL_t/dtheta_s backwards through each update:

    a_s = a_{s+1} - lr * H_s a_{s+1},     dL_t/dX_s += -lr * (d^2 l_s / dX_s dtheta)^T a_{s+1},

both given by one vector-Jacobian product of (theta, X) -> grad_theta l_s. Many losses are
handled in the same backward sweep: their adjoints are stacked and the VJP is vmapped over
them, so the cost is one forward pass, one recomputation and one batched backward pass,
whatever the number of measured losses. Memory stays bounded: parameters are checkpointed
every ``segment`` steps and recomputed segment by segment during the backward sweep.

The network is tiny and the trajectory long, so each step's cost is overhead, not
arithmetic. The backward sweep therefore uses a closed-form second-order pass for the ReLU
MLP (Pearlmutter's R-operator applied to backpropagation, batched over the adjoints) instead
of ``torch.func.vjp``; :func:`grad_and_vjp_reference` keeps the ``torch.func`` version, and the
tests check that both agree and that the result matches finite differences.
"""

from __future__ import annotations

import math

import torch
from torch.func import vmap

from .. import progress
from ..engine.graphs import GraphedStep, graph_mode
from ..engine.mlp import _param_grad, class_losses, grad_and_vjp_reference, hvp_and_input_vjp, sgd_step


def minibatch_schedule(n, batch_size, steps, generator):
    """Indices (steps, batch_size) of each SGD step: epochs of random permutations, last partial batch dropped."""
    per_epoch = n // batch_size
    epochs = math.ceil((steps + 1) / per_epoch)
    orders = [
        torch.randperm(n, generator=generator)[: per_epoch * batch_size].view(per_epoch, batch_size)
        for _ in range(epochs)
    ]
    return torch.cat(orders)[: steps + 1]  # step t's batch; row `steps` is the batch of L_steps


# Several independent runs (seeds, label settings) are swept together: every function below
# takes parameters with a leading run dimension R, inputs (R, N, d), labels (R, N) and
# schedules (R, steps + 1, B). The closed-form steps broadcast over R; only the rare seeding
# of adjoints and the torch.func reference are vmapped (vmap costs overhead on every step).
_grad_runs = vmap(_param_grad)
_class_jacobian_runs = vmap(torch.func.jacrev(class_losses))


SECOND_ORDER = {"closed_form": hvp_and_input_vjp, "torch_func": vmap(grad_and_vjp_reference)}


def _minibatch(x, y, idx):
    """Inputs (R, B, d) and labels (R, B) of every run's minibatch, given its indices idx (R, B)."""
    runs = torch.arange(len(idx), device=idx.device)[:, None]
    return x[runs, idx], y[runs, idx]


def _sgd_steps(x, y, schedule, lr, mode):
    """``step(s, params)``: the parameters of every run after SGD update s, as a :class:`GraphedStep`.

    Under a CUDA graph the returned tensors are overwritten by the next call: clone to keep.
    """
    graphed = GraphedStep(lambda idx, *params: sgd_step(params, *_minibatch(x, y, idx), lr), mode)
    return lambda s, params: graphed(schedule[:, s], *params)


def train_runs(params, x, y, schedule, lr, steps, segment, graphs="auto"):
    """Run ``steps`` SGD updates of every run; return the parameters every ``segment`` steps."""
    step = _sgd_steps(x, y, schedule, lr, graph_mode(graphs, x.device))
    checkpoints = [params]
    shown = progress.bar(steps, f"{len(x)} runs, SGD steps")
    for s in range(steps):
        params = step(s, params)
        shown.update()
        if (s + 1) % segment == 0:
            checkpoints.append(tuple(p.clone() for p in params))
    shown.close()
    return checkpoints, tuple(p.clone() for p in params)


def train(params, x, y, schedule, lr, steps, segment):
    """One run of :func:`train_runs` (no run dimension)."""
    checkpoints, final = train_runs(
        tuple(p[None] for p in params), x[None], y[None], schedule[None], lr, steps, segment
    )
    return [tuple(p[0] for p in c) for c in checkpoints], tuple(p[0] for p in final)


def input_gradients(
    params0,
    x,
    y,
    *,
    lr,
    schedule,
    measure_steps,
    class_specific_steps=(),
    segment=256,
    second_order="closed_form",
    graphs="auto",
):
    """:func:`input_gradients_runs` for a single run (no run dimension in inputs or outputs)."""
    grads, classes = input_gradients_runs(
        tuple(p[None] for p in params0),
        x[None],
        y[None],
        lr=lr,
        schedule=schedule[None],
        measure_steps=measure_steps,
        class_specific_steps=class_specific_steps,
        segment=segment,
        second_order=second_order,
        graphs=graphs,
    )
    return grads[0], (classes[0] if classes is not None else None)


def input_gradients_runs(
    params0,
    x,
    y,
    *,
    lr,
    schedule,
    measure_steps,
    class_specific_steps=(),
    segment=256,
    second_order="closed_form",
    graphs="auto",
):
    """dL_t/dX for every measured loss L_t of every run, by one batched backward sweep.

    ``measure_steps``: steps t whose minibatch loss L_t is measured. ``class_specific_steps``:
    steps whose per-class losses L_t(y=i) (:func:`class_losses`) are measured (Figure 4); the same steps for every
    run. Returns ``(grads, classes)``: grads (R, len(measure_steps), N, d) and classes
    (R, len(class_specific_steps), C, N, d) or None. ``second_order`` computes (H a, mixed
    term) per step: "closed_form" (:func:`hvp_and_input_vjp`) or "torch_func"
    (:func:`grad_and_vjp_reference`, vmapped over the runs; the benchmark compares the two).
    ``graphs`` ("auto": on CUDA) replays the forward, recomputation and backward steps as
    CUDA graphs, one per number of live adjoints (:mod:`memo_utils.engine.graphs`).
    """
    if second_order not in SECOND_ORDER:
        raise ValueError(f"second_order={second_order!r} is not allowed: choose one of {', '.join(SECOND_ORDER)}")
    second_order = SECOND_ORDER[second_order]
    measure_steps, class_specific_steps = list(measure_steps), list(class_specific_steps)
    last = max(measure_steps + class_specific_steps)
    if min(measure_steps + class_specific_steps) < 1 or last >= schedule.shape[1]:
        raise ValueError(f"measured steps must lie in [1, {schedule.shape[1] - 1}], the steps the schedule covers")
    runs, n = x.shape[:2]
    mode = graph_mode(graphs, x.device)
    checkpoints, _ = train_runs(params0, x, y, schedule, lr, last, segment, graphs)
    params_at = _Recomputer(checkpoints, _sgd_steps(x, y, schedule, lr, mode), segment, last)
    # one adjoint per measured loss (or per class of a class-specific one), ordered by decreasing step
    seeds = sorted(
        [(t, False, k) for k, t in enumerate(measure_steps)]
        + [(t, True, k) for k, t in enumerate(class_specific_steps)],
        key=lambda seed: -seed[0],
    )
    parts, owners = [], []  # owners[j] = (step, class-specific?, index, class)
    for t, class_specific, k in seeds:
        xb, yb = _minibatch(x, y, schedule[:, t])
        if class_specific:
            part = _class_jacobian_runs(params_at(t), xb.detach(), yb)  # each (R, C, *shape)
        else:
            part = tuple(g.unsqueeze(1) for g in _grad_runs(params_at(t), xb.detach(), yb))
        parts.append(part)
        owners += [(t, class_specific, k, c) for c in range(part[0].shape[1])]
    # the adjoints and gx are updated in place, so that a graphed step finds them at fixed addresses
    adjoints = tuple(torch.cat([part[i] for part in parts], dim=1) for i in range(len(params0)))
    starts = torch.tensor([o[0] for o in owners])  # adjoint j is alive for updates s < starts[j]
    # gx[j, r * n + i] accumulates dL_j/dx_i of run r
    gx = torch.zeros((len(owners), runs * n) + x.shape[2:], dtype=x.dtype, device=x.device)
    offsets = (torch.arange(runs, device=x.device) * n)[:, None]

    def backward_step(alive):
        """Carry the first ``alive`` adjoints back through update s (given its minibatch and theta_s)."""

        def step(idx, *params):
            xb, yb = _minibatch(x, y, idx)
            h_a, j_x = second_order(params, xb, yb, tuple(a[:, :alive] for a in adjoints))
            for a, ha in zip(adjoints, h_a):
                a[:, :alive].sub_(lr * ha)
            contributions = j_x.transpose(0, 1).flatten(1, 2)  # (alive, R * B, d)
            gx[:alive].index_add_(1, (idx + offsets).flatten(), -lr * contributions)
            return ()

        return GraphedStep(step, mode)

    backward_steps = {}
    shown = progress.bar(last, f"{runs} runs, backward sweep")
    for s in range(last - 1, -1, -1):
        shown.update()
        alive = int((starts > s).sum())  # a prefix, since owners are sorted by decreasing step
        if alive == 0:
            continue
        if alive not in backward_steps:
            backward_steps[alive] = backward_step(alive)
        backward_steps[alive](schedule[:, s], *params_at(s))
    shown.close()
    gx = gx.view((len(owners), runs, n) + x.shape[2:]).transpose(0, 1)  # (R, adjoints, N, d)
    grads = torch.zeros((runs, len(measure_steps), n) + x.shape[2:], dtype=x.dtype, device=x.device)
    classes = None
    if class_specific_steps:
        n_classes = sum(1 for o in owners if o[1] and o[2] == 0)
        classes = torch.zeros(
            (runs, len(class_specific_steps), n_classes, n) + x.shape[2:], dtype=x.dtype, device=x.device
        )
    for j, (_, class_specific, k, c) in enumerate(owners):
        if class_specific:
            classes[:, k, c] = gx[:, j]
        else:
            grads[:, k] = gx[:, j]
    return grads, classes


class _Recomputer:
    """theta_s (every run) for any s <= ``last``, recomputed from the nearest checkpoint.

    Holds one segment of parameters at a time, so memory is O(segment + steps / segment).
    ``step`` is :func:`_sgd_steps`'s.
    """

    def __init__(self, checkpoints, step, segment, last):
        self.checkpoints, self.step, self.segment, self.last = checkpoints, step, segment, last
        self.cached_segment, self.states = None, None

    def __call__(self, s):
        seg = s // self.segment
        if seg != self.cached_segment:
            params = self.checkpoints[seg]
            self.states = [params]
            for r in range(seg * self.segment, min(seg * self.segment + self.segment - 1, self.last)):
                params = self.step(r, params)
                self.states.append(tuple(p.clone() for p in params))
            self.cached_segment = seg
        return self.states[s - seg * self.segment]
