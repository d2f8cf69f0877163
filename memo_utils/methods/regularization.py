"""Arpit et al.'s regularizers (section 5) as per-model settings of the small AlexNet.

Dropout on the hidden layers, input dropout, Gaussian noise on the input and on the hidden
layers are strengths held in buffers, so that K models with K different strengths stack into
one computation (:mod:`memo_utils.engine.stacked`) like models that differ only in their weights.
Weight decay is a per-model setting of the SGD update (``weight_decay`` of
:func:`memo_utils.engine.training.train_classifier` and :func:`memo_utils.engine.stacked.train_classifiers`).

The random draws (dropout masks, noise) of a training step come from each model's own
generator, in a fixed order of sites, through :meth:`RegularizedAlexNet.draw_randomness`: the
single-model loop draws them in ``forward``, the stacked loop draws every model's before the
step and passes them in. Both therefore see identical draws, and a stacked run with K different
strengths equals K separate runs (tested).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ..engine.models import SmallAlexNet
from . import lass

STRENGTHS = ("dropout", "input_dropout", "input_noise", "hidden_noise")


class RegularizedAlexNet(SmallAlexNet):
    """The small AlexNet with regularization at fixed sites, active in training mode only.

    - ``dropout``: inverted dropout of units after each hidden block (both convolutional blocks,
      after pooling, and both dense layers, after ReLU), rate p in [0, 1);
    - ``input_dropout``: the same on the input pixels;
    - ``input_noise``: additive N(0, sigma^2) on the (standardised) input;
    - ``hidden_noise``: additive N(0, sigma^2) at the hidden sites.

    ``noise_seed`` seeds the generator of the masks and noise. Parameter names are those of
    :class:`SmallAlexNet`, so weights compare one to one.
    """

    def __init__(
        self, width=200, noise_seed=0, dropout=0.0, input_dropout=0.0, input_noise=0.0, hidden_noise=0.0, **kwargs
    ):
        super().__init__(width=width, **kwargs)
        for name, value in zip(STRENGTHS, (dropout, input_dropout, input_noise, hidden_noise)):
            self.register_buffer(name, torch.tensor(float(value)))
        self.generator = torch.Generator().manual_seed(noise_seed)
        self._hidden_shapes = self._probe_hidden_shapes(kwargs.get("in_channels", 3), kwargs.get("image_size", 32))

    def _probe_hidden_shapes(self, channels, size):
        self.eval()  # one probe image: batch norm must not need batch statistics
        with torch.no_grad():
            h = torch.zeros(1, channels, size, size)[..., 2:-2, 2:-2]
            shapes = []
            for block in self._blocks():
                h = block(h)
                shapes.append(tuple(h.shape[1:]))
        self.train()
        return shapes[:-1]  # every block but the output layer

    def _blocks(self):
        f, c = self.features, self.classifier
        return [f[0:4], f[4:8], c[0:4], c[4:7], c[7:]]

    def draw_randomness(self, batch, input_shape):
        """The draws of one training step, per site (input first): (uniform or None, normal or None).

        Only what the model's strengths need is drawn; the rest is zeros, which leave the site
        unchanged, so that models with different regularizers still stack.
        """
        dropout, noise = float(self.dropout), float(self.hidden_noise)
        sites = [(float(self.input_dropout), float(self.input_noise), tuple(input_shape))]
        sites += [(dropout, noise, shape) for shape in self._hidden_shapes]
        out = []
        for rate, sigma, shape in sites:
            size = (batch, *shape)
            uniform = torch.rand(size, generator=self.generator) if rate > 0 else torch.ones(size)
            normal = torch.randn(size, generator=self.generator) if sigma > 0 else torch.zeros(size)
            out += [uniform, normal]
        return out

    def forward(self, x, *randomness):
        if not self.training:
            return super().forward(x)
        if not randomness:
            randomness = [r.to(x.device, x.dtype) for r in self.draw_randomness(len(x), x.shape[1:])]
        h = _regularize(x, randomness[0], randomness[1], self.input_dropout, self.input_noise)[..., 2:-2, 2:-2]
        for i, block in enumerate(self._blocks()):
            h = block(h)
            if i < len(self._hidden_shapes):
                h = _regularize(h, randomness[2 * i + 2], randomness[2 * i + 3], self.dropout, self.hidden_noise)
        return h


def _regularize(h, uniform, normal, rate, sigma):
    """Inverted dropout with keep mask ``uniform >= rate``, then additive noise ``sigma * normal``.

    Written without branches on the strengths, so that it runs under ``vmap`` with a strength
    per model; a zero strength leaves ``h`` unchanged (mask of ones, noise of zeros).
    """
    keep = (uniform >= rate).to(h.dtype)
    return h * keep / (1 - rate) + sigma * normal


class Adversary:
    """Adversarial training with LASS's samples (Arpit et al. footnote 7): the loss of a step becomes
    (1 - w) L(x) + w L(x̂), with x̂ the points LASS (:mod:`memo_utils.methods.lass`, the paper's default
    settings) reaches from each training example, adversarial where it found a critical sample.

    The search runs in evaluation mode (no dropout, batch norm's running statistics). Its noise is
    drawn before the search from each model's own generator, between the masks of the clean and
    of the adversarial forward pass, so the stacked and the single-model loops draw alike.
    ``weight`` is one value or one per model.
    """

    def __init__(self, weight, *, pixel_mean, pixel_std, max_iter):
        self.weight, self.pixel_mean, self.pixel_std, self.max_iter = weight, pixel_mean, pixel_std, max_iter
        self.unit, self.low, self.high = lass.pixel_units(pixel_mean, pixel_std)

    def for_model(self, k):
        """The adversary of model k of a stacked set, for training it alone."""
        weight = self.weight[k] if isinstance(self.weight, (list, tuple)) else self.weight
        return Adversary(weight, pixel_mean=self.pixel_mean, pixel_std=self.pixel_std, max_iter=self.max_iter)

    def draw_noise(self, model, shape):
        """Noise for every step of one search, from the model's own generator (a RegularizedAlexNet's)."""
        return torch.randn((self.max_iter, *shape), generator=model.generator)

    def samples(self, forward, x, noise):
        settings = dict(
            radius=lass.PAPER_RADIUS * self.unit,
            alpha=lass.PAPER_ALPHA * self.unit,
            beta=lass.PAPER_BETA * self.unit,
            low=self.low,
            high=self.high,
            max_iter=self.max_iter,
        )
        noise = noise.to(x.device, x.dtype)
        return lass.lass(forward, x, noise=lambda t: noise[t - 1], **settings).x_hat.detach()

    def loss(self, model, x, y, clean_loss):
        """One model (``train_classifier``): the mixed loss of a minibatch whose clean loss is ``clean_loss``."""
        noise = self.draw_noise(model, x.shape)
        model.eval()
        x_hat = self.samples(model, x, noise)
        model.train()
        return (1 - self.weight) * clean_loss + self.weight * F.cross_entropy(model(x_hat), y)

    def stacked_loss(self, stacked, models, x, y, clean_loss, forward_extra):
        """K stacked models (``train_classifiers``): x (K, B, ...), y (K, B), clean_loss (K,)."""
        noise = torch.stack([self.draw_noise(m, x.shape[1:]) for m in models], dim=1)
        stacked.train(False)
        x_hat = self.samples(stacked, x, noise)
        stacked.train()
        logits = stacked(x_hat, *forward_extra())
        adversarial = F.cross_entropy(logits.flatten(0, 1), y.flatten(), reduction="none").view(len(models), -1).mean(1)
        weight = torch.as_tensor(self.weight, dtype=clean_loss.dtype, device=clean_loss.device)
        return (1 - weight) * clean_loss + weight * adversarial
