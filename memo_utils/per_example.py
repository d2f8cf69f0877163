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
