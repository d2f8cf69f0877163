"""Gu & Tresp (2019), Neural Network Memorization Dissection: the measures of sections 2 and 4.

- :func:`gradient_magnitude`, G(x) = sum_j |dL/dx_j|, the L1 norm of the loss's gradient with
  respect to the input, per example (section 2, Figure 1);
- :func:`per_step_gradient_magnitude`, G recorded at every training step instead of per epoch, so
  that a hunting stage shorter than an epoch can be resolved;
- :func:`activation_maximization`, Equation 1: z_j* = argmax_z f1_j(G(z)) by gradient ascent
  from many starting codes at once, every (class, seed) pair an independent ascent;
- :func:`dissimilarity`, Equation 2: Dist(f1, f2) = (1/C) sum_j KL(f1(x_j*) || f2(x_j*)), per
  seed of the ascent;
- :func:`train_dcgan`, the generator that keeps Equation 1's images near the data (section 4).

The networks are used in evaluation mode, so that examples (and codes) do not interact through
batch norm and one batched call equals separate calls (tested).
"""

from __future__ import annotations

import contextlib

import torch
import torch.nn.functional as F

from .. import progress
from ..engine.models import DCGANDiscriminator, DCGANGenerator


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


@contextlib.contextmanager
def per_step_gradient_magnitude(model):
    """Record G at every training step of ``model``: yields a list that receives, per minibatch trained on, the
    mean over its examples of sum_j |dL/dx_j|, L being the minibatch's summed loss: the quantity that
    :func:`memo_utils.engine.training.train_classifier` averages per epoch with ``input_gradient=True``, at step
    resolution.

    Hooks, so that the training loop stays the shared one: in training mode, a forward pre-hook puts a hook on the
    model's input (when it requires a gradient), which receives the minibatch mean loss's gradient dL/dx in the
    backward pass; the mean over the B examples of B |dL/dx_i|_1 is |dL/dx|_1. The values stay on the device (0-dim
    tensors) until the caller reads them, so that recording does not synchronise every step.
    """
    record = []

    def on_forward(module, args):
        inputs = args[0]
        if module.training and inputs.requires_grad:
            inputs.register_hook(lambda grad: record.append(grad.detach().abs().sum()))

    handle = model.register_forward_pre_hook(on_forward)
    try:
        yield record
    finally:
        handle.remove()


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


def train_dcgan(images, *, width, epochs, batch_size=128, lr=2e-4, beta1=0.5, seed=0, z_dim=100):
    """A DCGAN trained on ``images`` (N, 3, 32, 32) in [-1, 1]; returns (generator in eval mode, history).

    Radford et al.'s recipe, which Gu & Tresp follow ("the same as in [15]"): weights from
    N(0, 0.02) (batch-norm scales from N(1, 0.02)), Adam with learning rate 2e-4 and beta1 = 0.5
    for both networks, minibatches of 128, the non-saturating generator loss. Initialisation,
    data order and codes come from ``seed`` on the CPU. The history holds per-epoch mean losses
    of the discriminator and the generator, and whether both stayed finite.
    """
    generator_cpu = torch.Generator().manual_seed(seed)
    g, d = DCGANGenerator(z_dim, width).to(images.device), DCGANDiscriminator(width).to(images.device)
    for net in (g, d):
        for module in net.modules():
            if isinstance(module, (torch.nn.Conv2d, torch.nn.ConvTranspose2d)):
                module.weight.data.copy_(torch.randn(module.weight.shape, generator=generator_cpu) * 0.02)
            elif isinstance(module, torch.nn.BatchNorm2d):
                module.weight.data.copy_(1 + torch.randn(module.weight.shape, generator=generator_cpu) * 0.02)
                module.bias.data.zero_()
    optimizers = [torch.optim.Adam(net.parameters(), lr=lr, betas=(beta1, 0.999)) for net in (d, g)]
    history = {"discriminator_loss": [], "generator_loss": [], "finite": True}
    batch_size = min(batch_size, len(images))
    shown = progress.bar(epochs, "DCGAN, epochs")
    for _ in range(epochs):
        g.train(), d.train()
        order = torch.randperm(len(images), generator=generator_cpu).to(images.device)
        sums, steps = torch.zeros(2, device=images.device), 0
        for start in range(0, len(images) - batch_size + 1, batch_size):
            real = images[order[start : start + batch_size]]
            z = torch.randn(batch_size, z_dim, generator=generator_cpu).to(images.device)
            fake = g(z)
            ones, zeros = torch.ones(batch_size, device=images.device), torch.zeros(batch_size, device=images.device)
            d_loss = F.binary_cross_entropy_with_logits(d(real), ones) + F.binary_cross_entropy_with_logits(
                d(fake.detach()), zeros
            )
            optimizers[0].zero_grad(set_to_none=True)
            d_loss.backward()
            optimizers[0].step()
            g_loss = F.binary_cross_entropy_with_logits(d(fake), ones)  # non-saturating: G maximizes log D(G(z))
            optimizers[1].zero_grad(set_to_none=True)
            g_loss.backward()
            optimizers[1].step()
            sums += torch.stack([d_loss.detach(), g_loss.detach()])
            steps += 1
        d_mean, g_mean = (sums / steps).tolist()
        history["discriminator_loss"].append(d_mean)
        history["generator_loss"].append(g_mean)
        history["finite"] = history["finite"] and all(map(torch.isfinite, torch.tensor([d_mean, g_mean])))
        shown.update()
    shown.close()
    return g.eval(), history
