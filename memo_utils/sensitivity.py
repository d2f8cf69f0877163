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
import torch.nn.functional as F
from torch.func import grad, vjp, vmap


def init_params(sizes, generator, dtype=torch.float32, device="cpu"):
    """A ReLU MLP's parameters as a flat tuple (W1, b1, W2, b2, ...), nn.Linear's default init."""
    from .models import init_mlp

    return tuple(t.to(device, dtype) for pair in init_mlp(sizes, generator) for t in pair)


def forward(params, x):
    h = x
    for i in range(0, len(params), 2):
        h = h @ params[i] + params[i + 1]
        if i < len(params) - 2:
            h = torch.relu(h)
    return h


def batch_loss(params, x, y):
    return F.cross_entropy(forward(params, x), y)


def class_losses(params, x):
    """L(y=i) for every class i: the minibatch mean of -log softmax_i, as a vector over i."""
    return -F.log_softmax(forward(params, x), dim=-1).mean(0)


_param_grad = grad(batch_loss)


def _backprop(params, x, y):
    """Forward and backward pass of the mean cross-entropy, keeping what the R-pass needs.

    Returns the parameter gradients and a cache: the input of every layer, the ReLU masks,
    the softmax probabilities and the deltas dL/dz of every layer's pre-activation.
    """
    weights, biases = params[0::2], params[1::2]
    inputs, masks, h = [x], [], x
    for i, (w, b) in enumerate(zip(weights, biases)):
        z = torch.addmm(b, h, w)
        if i < len(weights) - 1:
            masks.append(z > 0)
            h = z * masks[-1]
            inputs.append(h)
    probabilities = torch.softmax(z, dim=-1)
    delta = probabilities.clone()
    delta[torch.arange(len(y), device=y.device), y] -= 1
    delta /= len(y)
    deltas, grads = [None] * len(weights), [None] * len(params)
    for i in range(len(weights) - 1, -1, -1):
        deltas[i] = delta
        grads[2 * i], grads[2 * i + 1] = inputs[i].T @ delta, delta.sum(0)
        if i > 0:
            delta = (delta @ weights[i].T) * masks[i - 1]
    return tuple(grads), (inputs, masks, probabilities, deltas)


def sgd_step_fast(params, x, y, lr):
    grads, _ = _backprop(params, x, y)
    return tuple(p - lr * g for p, g in zip(params, grads))


def hvp_and_input_vjp(params, x, y, directions):
    """For each direction a (stacked on dim 0): (H a, (d^2 l / dX dtheta)^T a).

    H is the Hessian of the minibatch loss l(theta, X) in theta. Both are the directional
    derivative R{.} of backpropagation along a (Pearlmutter 1994): R{grad_theta l} = H a, and
    R{grad_X l} is the mixed term, since mixed partial derivatives commute.
    """
    weights = params[0::2]
    dirs_w, dirs_b = directions[0::2], directions[1::2]
    _, (inputs, masks, probabilities, deltas) = _backprop(params, x, y)
    r_inputs = [None]  # R{x} = 0: the inputs are not perturbed
    for i, w in enumerate(weights):
        r_z = inputs[i] @ dirs_w[i] + dirs_b[i].unsqueeze(-2)
        if r_inputs[i] is not None:
            r_z = r_z + r_inputs[i] @ w
        if i < len(weights) - 1:
            r_inputs.append(r_z * masks[i])
    r_delta = probabilities * (r_z - (probabilities * r_z).sum(-1, keepdim=True)) / len(y)
    out = [None] * len(params)
    for i in range(len(weights) - 1, -1, -1):
        r_grad_w = inputs[i].T @ r_delta
        if r_inputs[i] is not None:
            r_grad_w = r_grad_w + r_inputs[i].transpose(-1, -2) @ deltas[i]
        out[2 * i], out[2 * i + 1] = r_grad_w, r_delta.sum(-2)
        r_back = r_delta @ weights[i].T + deltas[i] @ dirs_w[i].transpose(-1, -2)
        if i > 0:
            r_delta = r_back * masks[i - 1]
    return tuple(out), r_back


def grad_and_vjp_reference(params, x, y, directions):
    """The same quantities as :func:`hvp_and_input_vjp` with ``torch.func`` (slow, general)."""
    _, pullback = vjp(lambda p, xb: _param_grad(p, xb, y), params, x)
    return vmap(pullback)(directions)


def minibatch_schedule(n, batch_size, steps, generator):
    """Indices (steps, batch_size) of each SGD step: epochs of random permutations, last partial batch dropped."""
    per_epoch = n // batch_size
    epochs = math.ceil((steps + 1) / per_epoch)
    orders = [torch.randperm(n, generator=generator)[: per_epoch * batch_size].view(per_epoch, batch_size)
              for _ in range(epochs)]
    return torch.cat(orders)[: steps + 1]  # step t's batch; row `steps` is the batch of L_steps


def train(params, x, y, schedule, lr, steps, segment):
    """Run ``steps`` SGD updates; return the parameters every ``segment`` steps (checkpoints)."""
    checkpoints = [params]
    for s in range(steps):
        idx = schedule[s]
        params = sgd_step_fast(params, x[idx], y[idx], lr)
        if (s + 1) % segment == 0:
            checkpoints.append(params)
    return checkpoints, params


def _seed_adjoints(params_t, x, y, schedule, t, class_specific):
    """dL_t/dtheta_t for the minibatch loss at step t (inputs detached), or one per class."""
    idx = schedule[t]
    xb = x[idx].detach()
    if not class_specific:
        return tuple(g.unsqueeze(0) for g in _param_grad(params_t, xb, y[idx]))
    jac = torch.func.jacrev(class_losses)(params_t, xb)  # each: (classes, *param shape)
    return tuple(jac)


def input_gradients(params0, x, y, *, lr, schedule, measure_steps, class_specific_steps=(), segment=256,
                    second_order=None):
    """dL_t/dX for every measured loss L_t, by one batched backward sweep through unrolled SGD.

    ``measure_steps``: steps t whose minibatch loss L_t is measured. ``class_specific_steps``:
    steps whose per-class losses L_t(y=i) are measured (Figure 4). Returns ``(grads, classes)``:
    grads (len(measure_steps), N, d) and classes (len(class_specific_steps), C, N, d).
    ``second_order`` computes (H a, mixed term) per step: the closed form by default, or
    :func:`grad_and_vjp_reference` (the benchmark compares the two).
    """
    second_order = second_order or hvp_and_input_vjp
    measure_steps, class_specific_steps = list(measure_steps), list(class_specific_steps)
    last = max(measure_steps + class_specific_steps)
    if min(measure_steps + class_specific_steps) < 1 or last >= len(schedule):
        raise ValueError(f"measured steps must lie in [1, {len(schedule) - 1}], the steps the schedule covers")
    checkpoints, _ = train(params0, x, y, schedule, lr, last, segment)
    # one adjoint per measured loss (or per class of a class-specific one), ordered by its step
    seeds = [(t, False, k) for k, t in enumerate(measure_steps)]
    seeds += [(t, True, k) for k, t in enumerate(class_specific_steps)]
    seeds.sort(key=lambda s: -s[0])
    adjoint_parts, owners = [], []  # owners[j] = (t, class_specific, k, class or None)
    params_at = _Recomputer(checkpoints, x, y, schedule, lr, segment, last)
    for t, class_specific, k in seeds:
        seed = _seed_adjoints(params_at(t), x, y, schedule, t, class_specific)
        adjoint_parts.append(seed)
        rows = seed[0].shape[0]
        owners += [(t, class_specific, k, c if class_specific else None) for c in range(rows)]
    adjoints = tuple(torch.cat([part[i] for part in adjoint_parts]) for i in range(len(params0)))
    starts = torch.tensor([o[0] for o in owners])  # adjoint j is alive for updates s < starts[j]
    gx = torch.zeros((len(owners),) + x.shape, dtype=x.dtype, device=x.device)
    for s in range(last - 1, -1, -1):
        alive = int((starts > s).sum())  # owners are sorted by decreasing step: a prefix is alive
        if alive == 0:
            continue
        idx = schedule[s]
        h_a, j_x = second_order(params_at(s), x[idx], y[idx], tuple(a[:alive] for a in adjoints))
        adjoints = tuple(torch.cat([a[:alive] - lr * ha, a[alive:]]) for a, ha in zip(adjoints, h_a))
        gx[:alive].index_add_(1, idx.to(x.device), -lr * j_x)
    grads = torch.zeros((len(measure_steps),) + x.shape, dtype=x.dtype, device=x.device)
    classes_out = None
    if class_specific_steps:
        n_classes = adjoint_parts[[s[1] for s in seeds].index(True)][0].shape[0]
        classes_out = torch.zeros((len(class_specific_steps), n_classes) + x.shape, dtype=x.dtype, device=x.device)
    for j, (t, class_specific, k, c) in enumerate(owners):
        if class_specific:
            classes_out[k, c] = gx[j]
        else:
            grads[k] = gx[j]
    return grads, classes_out


class _Recomputer:
    """theta_s for any s <= the last checkpointed run, recomputed from the nearest checkpoint.

    Holds one segment of parameters at a time, so memory is O(segment + steps / segment).
    """

    def __init__(self, checkpoints, x, y, schedule, lr, segment, last):
        self.checkpoints, self.x, self.y, self.schedule = checkpoints, x, y, schedule
        self.lr, self.segment, self.last = lr, segment, last
        self.cached_segment, self.states = None, None

    def __call__(self, s):
        seg = s // self.segment
        if seg != self.cached_segment:
            params = self.checkpoints[seg]
            self.states = [params]
            for r in range(seg * self.segment, min(seg * self.segment + self.segment - 1, self.last)):
                idx = self.schedule[r]
                params = sgd_step_fast(params, self.x[idx], self.y[idx], self.lr)
                self.states.append(params)
            self.cached_segment = seg
        return self.states[s - seg * self.segment]
