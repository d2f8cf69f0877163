"""Per-example gradients with ``torch.func``: one vectorised pass instead of a loop over examples.

Used where a method needs each training example's own gradient (gradient magnitudes,
turn-over dropout); checked against the straightforward loop in the tests and the benchmark.
BackPACK (optional, ``pip install backpack-for-pytorch``) is a third way the benchmark compares.
"""

from __future__ import annotations

import copy
import warnings

import torch
import torch.nn.functional as F
from torch.func import functional_call, grad, vmap


def per_example_grads(model, x, y, loss=F.cross_entropy):
    """{name: (B, *param.shape)} gradients of ``loss`` on each example of the batch separately.

    Buffers are passed through unchanged, so use a model without batch-norm updates
    (``model.eval()``) when it has any.
    """
    params = {k: v.detach() for k, v in model.named_parameters()}
    buffers = {k: v.detach() for k, v in model.named_buffers()}

    def one_example_loss(p, xi, yi):
        out = functional_call(model, (p, buffers), (xi.unsqueeze(0),))
        return loss(out, yi.unsqueeze(0))

    return vmap(grad(one_example_loss), in_dims=(None, 0, 0))(params, x, y)


def per_example_grads_loop(model, x, y, loss=F.cross_entropy):
    """The reference: one backward pass per example."""
    out = {k: [] for k, _ in model.named_parameters()}
    for xi, yi in zip(x, y):
        model.zero_grad(set_to_none=True)
        loss(model(xi.unsqueeze(0)), yi.unsqueeze(0)).backward()
        for k, p in model.named_parameters():
            out[k].append(p.grad.detach().clone())
    return {k: torch.stack(v) for k, v in out.items()}


def per_example_grads_backpack(model, x, y):
    """The same with BackPACK's ``BatchGrad`` (cross-entropy only), on a copy of ``model``."""
    from backpack import backpack, extend
    from backpack.extensions import BatchGrad

    model = extend(copy.deepcopy(model))
    loss = extend(torch.nn.CrossEntropyLoss(reduction="sum"))  # summed: grad_batch is each example's gradient
    with backpack(BatchGrad()), warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Full backward hook is firing")  # inputs need no gradient here
        loss(model(x), y).backward()
    return {k: p.grad_batch.detach() for k, p in model.named_parameters()}


@torch.no_grad()
def mlp_gradient_factors(ensemble, x, y):
    """The factors of each example's loss gradient in a one-hidden-layer
    :class:`memo_utils.engine.ensemble.MLPEnsemble`, per model: (x, h, d1, d2), with W1's gradient x (x) d1, b1's
    d1, W2's h (x) d2 and b2's d2 (d2 = softmax - onehot, d1 = (W2 d2) * [h > 0]). x: (N, ...) shared by
    the models or (K, N, d) one set per model; y: (N,) or (K, N)."""
    if len(ensemble.sizes) != 3:
        raise ValueError(f"sizes={ensemble.sizes}: the closed form is for one hidden layer")
    (w1, w2), (b1, b2) = ensemble.weights, ensemble.biases
    with torch.no_grad():
        x = x if x.ndim == 3 else x.flatten(1).expand(ensemble.k, -1, -1)
        h = torch.relu(torch.baddbmm(b1, x, w1))
        d2 = torch.softmax(torch.baddbmm(b2, h, w2), -1) - F.one_hot(y, w2.shape[-1]).to(x.dtype)
        d1 = (d2 @ w2.mT) * (h > 0)
    return x, h, d1, d2, ensemble.output_bias


def gradient_gram(a, b):
    """Inner products <grad L(z_a), grad L(z_b)> of two sets' gradients from their :func:`mlp_gradient_factors`,
    (K, A, B), without forming a gradient: (x_a . x_b + 1)(d1_a . d1_b) + (h_a . h_b + [output bias])(d2_a . d2_b).
    Tested against :func:`per_example_grads`."""
    (xa, ha, d1a, d2a, bias), (xb, hb, d1b, d2b, _) = a, b
    return (xa @ xb.mT + 1) * (d1a @ d1b.mT) + (ha @ hb.mT + float(bias)) * (d2a @ d2b.mT)


def mlp_gradient_gram(ensemble, x_a, y_a, x_b, y_b):
    """Inner products of per-example loss gradients between two sets of examples, per model: (K, A, B)."""
    return gradient_gram(mlp_gradient_factors(ensemble, x_a, y_a), mlp_gradient_factors(ensemble, x_b, y_b))


def cosine_similarity_and_contribution(examples, batch):
    """Liu et al.'s Equations 3 and 4 for a set of examples, per model, from the :func:`mlp_gradient_factors` of
    the set and of a minibatch: the mean pairwise cosine similarity of their loss gradients (i != j), and
    their mean contribution, the projection of each gradient on the minibatch gradient: (K,), (K,)."""
    within = gradient_gram(examples, examples)  # (K, n, n)
    norms = within.diagonal(dim1=1, dim2=2).clamp_min(1e-30).sqrt()
    cosine = within / (norms[:, :, None] * norms[:, None, :])
    n = cosine.shape[-1]
    mean_cosine = (cosine.sum((1, 2)) - cosine.diagonal(dim1=1, dim2=2).sum(1)) / (n * (n - 1))
    to_batch = gradient_gram(examples, batch).mean(-1)  # v_i . g, with g the minibatch's mean gradient
    batch_norm = gradient_gram(batch, batch).mean((1, 2)).clamp_min(1e-30).sqrt()
    return mean_cosine, (to_batch / batch_norm[:, None]).mean(1)
