"""Gu & Tresp (2019), Neural Network Memorization Dissection: the measures of sections 2 and 4.

- :func:`gradient_magnitude`, G(x) = sum_j |dL/dx_j|, the L1 norm of the loss's gradient with
  respect to the input, per example (section 2, Figure 1);
- :func:`activation_maximization`, Equation 1: z_j* = argmax_z f1_j(G(z)) by gradient ascent
  from many starting codes at once, every (class, seed) pair an independent ascent;
- :func:`dissimilarity`, Equation 2: Dist(f1, f2) = (1/C) sum_j KL(f1(x_j*) || f2(x_j*)), per
  seed of the ascent.

The networks are used in evaluation mode, so that examples (and codes) do not interact through
batch norm and one batched call equals separate calls (tested).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F


def gradient_magnitude(model, x, y, chunk=1000):
    """G(x) for every example: the L1 norm of d cross_entropy(model(x_i), y_i) / d x_i, shape (N,).

    The loss of each example is its own (not the minibatch mean), so G does not depend on how
    many examples are evaluated together.
    """
    out = []
    for xs, ys in zip(torch.split(x, chunk), torch.split(y, chunk)):
        xs = xs.detach().requires_grad_(True)
        with torch.enable_grad():
            loss = F.cross_entropy(model(xs), ys, reduction="sum")
            (grad,) = torch.autograd.grad(loss, xs)
        out.append(grad.abs().flatten(1).sum(1))
    return torch.cat(out)


def activation_maximization(generator, classifier, z, *, lr=0.05, iterations=1000, objective="logit"):
    """Equation 1, batched: z of shape (C, S, z_dim), row j ascends class j of ``classifier``.

    Plain gradient ascent with step ``lr`` on f1_j(G(z)), where f1_j is the class's logit
    (``objective="logit"``) or its log-probability (``"log_softmax"``); each (class, seed) code
    moves independently. Returns the optimized codes z* (the images are ``generator(z*)``).
    """
    if objective not in ("logit", "log_softmax"):
        raise ValueError(f"objective={objective!r} is not allowed: choose logit or log_softmax")
    classes = torch.arange(z.shape[0], device=z.device)
    z = z.detach().clone()
    for _ in range(iterations):
        z.requires_grad_(True)
        with torch.enable_grad():
            logits = classifier(generator(z).flatten(0, 1)).view(*z.shape[:2], -1)
            if objective == "log_softmax":
                logits = torch.log_softmax(logits, -1)
            target = logits.gather(-1, classes.view(-1, 1, 1).expand(-1, z.shape[1], 1)).sum()
            (grad,) = torch.autograd.grad(target, z)
        z = (z + lr * grad).detach()
    return z


def dissimilarity(f1_logits, f2_logits):
    """Equation 2 per seed: (1/C) sum_j KL(softmax f1(x_j*) || softmax f2(x_j*)), shape (S,).

    The logits have shape (C, S, classes): row j holds the outputs at the images optimized for
    class j, one per seed of the ascent.
    """
    log_p, log_q = torch.log_softmax(f1_logits, -1), torch.log_softmax(f2_logits, -1)
    kl = (log_p.exp() * (log_p - log_q)).sum(-1)  # (C, S)
    return kl.mean(0)
