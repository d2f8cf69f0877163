"""The closed-form maths of a ReLU MLP given as a flat parameter tuple (W1, b1, W2, b2, ...).

Forward and backward passes written out, so that they broadcast over leading "run" dimensions
(many independent MLPs at once) without ``vmap``'s overhead, and the exact second-order pass
(Pearlmutter's R-operator applied to backpropagation) that gives Hessian-vector products and the
mixed input-parameter term in one sweep. The batched ensemble's fused SGD step
(:mod:`memo_utils.engine.ensemble`), the Hessian's top eigenvalue (:mod:`memo_utils.methods.hessian`)
and loss-sensitivity through unrolled SGD (:mod:`memo_utils.methods.sensitivity`) all build on it;
:func:`grad_and_vjp_reference` keeps the general ``torch.func`` version that the tests compare with.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch.func import grad, vjp, vmap

from .models import init_mlp


def init_params(sizes, generator, dtype=torch.float32, device="cpu"):
    """A ReLU MLP's parameters as a flat tuple (W1, b1, W2, b2, ...), nn.Linear's default init."""
    return tuple(t.to(device, dtype) for pair in init_mlp(sizes, generator) for t in pair)


def forward(params, x):
    h = x
    for i in range(0, len(params), 2):
        h = h @ params[i] + params[i + 1].unsqueeze(-2)  # leading dimensions, if any, are runs
        if i < len(params) - 2:
            h = torch.relu(h)
    return h


def batch_loss(params, x, y):
    return F.cross_entropy(forward(params, x), y)


def class_losses(params, x, y):
    """L(y=i) for every class i: "the term in the cross-entropy sum corresponding to class i"
    (Arpit et al. 2017, 3.2), i.e. the part of the minibatch loss contributed by the examples
    labelled i, (1/B) sum_{b: y_b = i} -log softmax_i(x_b). The terms add up to the minibatch
    loss; a class absent from the minibatch contributes 0."""
    log_p = F.log_softmax(forward(params, x), dim=-1)
    one_hot = (y.unsqueeze(-1) == torch.arange(log_p.shape[-1], device=y.device)).to(log_p.dtype)  # vmap-safe
    return -(one_hot * log_p).sum(-2) / y.shape[-1]


_param_grad = grad(batch_loss)


def forward_cache(params, x, hidden_masks=None):
    """A ReLU MLP's forward pass, keeping what backpropagation needs: the input of every layer, the factor
    dh/dz of every hidden layer (its ReLU mask, times ``hidden_masks[i]`` when given: turn-over dropout),
    and the logits. Biases broadcast over the examples (shape (..., n_out) or (..., 1, n_out))."""
    weights, biases = params[0::2], params[1::2]
    inputs, masks, h = [x], [], x
    for i, (w, b) in enumerate(zip(weights, biases)):
        z = h @ w + (b if b.dim() == w.dim() else b.unsqueeze(-2))
        if i < len(weights) - 1:
            masks.append(z > 0 if hidden_masks is None else (z > 0) * hidden_masks[i])
            h = z * masks[-1]
            inputs.append(h)
    return inputs, masks, z


def layer_deltas(weights, masks, delta):
    """Backpropagation from the top layer down: yields (i, dL/dz_i) for every layer i, given ``delta`` = dL/dz
    of the last. dL/dz_{i-1} = (dL/dz_i W_i^T) * mask_{i-1} is computed before layer i is yielded, so the
    caller may update W_i in place (the fused SGD step of :func:`memo_utils.engine.ensemble.fused_sgd_step`)."""
    for i in range(len(weights) - 1, -1, -1):
        below = (delta @ weights[i].transpose(-1, -2)) * masks[i - 1] if i > 0 else None
        yield i, delta
        delta = below


def _backprop(params, x, y):
    """Forward and backward pass of the mean cross-entropy, keeping what the R-pass needs.

    Any leading dimensions are independent runs (x: (..., B, d), weights (..., n_in, n_out)).
    Returns the parameter gradients and a cache: the input of every layer, the ReLU masks,
    the softmax probabilities and the deltas dL/dz of every layer's pre-activation.
    """
    weights = params[0::2]
    inputs, masks, z = forward_cache(params, x)
    probabilities = torch.softmax(z, dim=-1)
    delta = (probabilities - F.one_hot(y, probabilities.shape[-1]).to(probabilities.dtype)) / y.shape[-1]
    deltas, grads = [None] * len(weights), [None] * len(params)
    for i, layer_delta in layer_deltas(weights, masks, delta):
        deltas[i] = layer_delta
        grads[2 * i], grads[2 * i + 1] = inputs[i].transpose(-1, -2) @ layer_delta, layer_delta.sum(-2)
    return tuple(grads), (inputs, masks, probabilities, deltas)


def sgd_step(params, x, y, lr):
    grads, _ = _backprop(params, x, y)
    return tuple(p - lr * g for p, g in zip(params, grads))


def hvp_and_input_vjp(params, x, y, directions):
    """For each direction a (stacked on the dimension after the runs): (H a, (d^2 l / dX dtheta)^T a).

    H is the Hessian of the minibatch loss l(theta, X) in theta. Both are the directional
    derivative R{.} of backpropagation along a (Pearlmutter 1994): R{grad_theta l} = H a, and
    R{grad_X l} is the mixed term, since mixed partial derivatives commute. Shapes: params
    (..., *shape), x (..., B, d), directions (..., A, *shape); outputs (..., A, ...).
    """
    weights = params[0::2]
    dirs_w, dirs_b = directions[0::2], directions[1::2]
    _, (inputs, masks, probabilities, deltas) = _backprop(params, x, y)
    per_direction = lambda t: t.unsqueeze(-3)  # (..., B, n) -> (..., 1, B, n), broadcast over A
    r_inputs = [None]  # R{x} = 0: the inputs are not perturbed
    for i, w in enumerate(weights):
        r_z = per_direction(inputs[i]) @ dirs_w[i] + dirs_b[i].unsqueeze(-2)
        if r_inputs[i] is not None:
            r_z = r_z + r_inputs[i] @ w.unsqueeze(-3)
        if i < len(weights) - 1:
            r_inputs.append(r_z * per_direction(masks[i]))
    p = per_direction(probabilities)
    r_delta = p * (r_z - (p * r_z).sum(-1, keepdim=True)) / y.shape[-1]
    out = [None] * len(params)
    for i in range(len(weights) - 1, -1, -1):
        r_grad_w = per_direction(inputs[i]).transpose(-1, -2) @ r_delta
        if r_inputs[i] is not None:
            r_grad_w = r_grad_w + r_inputs[i].transpose(-1, -2) @ per_direction(deltas[i])
        out[2 * i], out[2 * i + 1] = r_grad_w, r_delta.sum(-2)
        r_back = r_delta @ weights[i].transpose(-1, -2).unsqueeze(-3) + per_direction(deltas[i]) @ dirs_w[i].transpose(
            -1, -2
        )
        if i > 0:
            r_back = r_back * per_direction(masks[i - 1])
            r_delta = r_back
    return tuple(out), r_back


def grad_and_vjp_reference(params, x, y, directions):
    """The same quantities as :func:`hvp_and_input_vjp` with ``torch.func`` (slow, general)."""
    _, pullback = vjp(lambda p, xb: _param_grad(p, xb, y), params, x)
    return vmap(pullback)(directions)
