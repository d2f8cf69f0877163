"""Turn-over dropout (Kobayashi et al. 2020), as Liu, Lin & Jaggi use it to estimate memorization.

Every training example i has a fixed mask m(i) per layer: half of the hidden units of a dense
layer (the hidden layers of :class:`memo_utils.engine.ensemble.MLPEnsemble`), or half of the feature maps
of a convolution (their Appendix B's spatial turn-over dropout, :class:`Masked`). A step on example
i trains only the sub-network that m(i) keeps; the flipped mask 1 - m(i) selects a sub-network that
i never updates, a proxy for the network trained without i:

    score(i) = L(f^{1 - m(i)}, z_i) - L(f^{m(i)}, z_i)          (their Equation 6)

and the influence of z_i on another example z_t replaces z_i by z_t in both losses (Equation 5).
Both sub-networks keep exactly half of every masked layer, and kept units are scaled by 2
(inverted dropout at rate 1/2), so either sub-network works on the scale of the full one and
the two losses are comparable.

Masks are computed, never stored: a hash bit of (seed, l, i, p) keeps one unit of each pair p of
layer l (units p and p + U_l/2). Two examples share a network's mask only if they share every
layer's; with independent fair bits, the chance that any two of N examples do is at most
N(N - 1)/2 * prod_l 2^(-U_l / 2) (:func:`collision_bound`), and :func:`duplicate_masks` checks a
given set of examples exactly.
"""

from __future__ import annotations

import math
import numbers

import torch
from torch import nn

_LOW32 = 0xFFFFFFFF


def _multiply32(x, constant):
    """(x * constant) mod 2^32 for int64 tensors x < 2^32, in two halves so that nothing overflows int64."""
    low = x * (constant & 0xFFFF)
    high = ((x * (constant >> 16)) & 0xFFFF) << 16
    return (low + high) & _LOW32


def _hash32(x):
    """A 32-bit integer hash (Wellons' lowbias32) of an int64 tensor, elementwise, or of a Python int; the same
    on every device."""
    x = x & _LOW32
    x = x ^ (x >> 16)
    x = _multiply32(x, 0x7FEB352D)
    x = x ^ (x >> 15)
    x = _multiply32(x, 0x846CA68B)
    return x ^ (x >> 16)


def masks(example_ids, units, layer, seed=0):
    """The turn-over mask of layer ``layer`` for each example: bool (*example_ids.shape, units), exactly half True.

    Units u and u + units/2 form a pair, and a hash bit of (seed, layer, example id, pair) keeps one
    of the two: every mask keeps exactly half the layer, each unit for about half of the examples,
    with no sort and no loop over examples. Deterministic on every device.
    """
    if units < 2 or units % 2:
        raise ValueError(f"units={units} is not allowed: a turn-over layer needs an even number of units (>= 2)")
    ids = torch.as_tensor(example_ids, dtype=torch.int64)
    key = _hash32(_hash32(seed * 1_000_003 + layer) ^ ids)  # a Python int for (seed, layer): no host-to-device copy
    pair = torch.arange(units // 2, dtype=torch.int64, device=ids.device)
    first = (_hash32(key[..., None] ^ _hash32(pair + 0x9E3779B9)) & 1).bool()
    return torch.cat([first, ~first], dim=-1)


def layer_masks(example_ids, layer_units, seeds=0, flipped=False):
    """Float masks (0 or 2: kept units scaled by 2) of every masked layer: a list with one
    (*example_ids.shape, units) tensor per layer; ``flipped`` gives the muted sub-network's, 1 - m(i).
    ``seeds`` is one seed, or one per row of ``example_ids`` (K, B): model k's masks come from seeds[k]."""
    ids = torch.as_tensor(example_ids)
    per_row = not isinstance(seeds, numbers.Integral)
    if per_row and len(seeds) != len(ids):
        raise ValueError(f"seeds has {len(seeds)} entries; must have one per row of example_ids ({len(ids)})")
    out = []
    for layer, units in enumerate(layer_units):
        m = (
            torch.stack([masks(row, units, layer, s) for row, s in zip(ids, seeds)])
            if per_row
            else masks(ids, units, layer, seeds)
        )
        out.append(((~m if flipped else m).to(torch.float32)) * 2)
    return out


def collision_bound(n_examples, layer_units):
    """Upper bound on the probability that two of ``n_examples`` share their whole mask (each layer's 2^(U/2)
    masks equally likely, independent across layers and examples): the union bound over pairs."""
    log_masks = sum(u / 2 for u in layer_units) * math.log(2)
    return min(1.0, n_examples * (n_examples - 1) / 2 * math.exp(-log_masks))


def duplicate_masks(example_ids, layer_units, seed=0):
    """How many of ``example_ids`` share their whole mask (all layers) with an earlier one: 0 means unique."""
    rows = torch.cat([masks(example_ids, u, layer, seed) for layer, u in enumerate(layer_units)], dim=-1)
    return len(rows) - len(torch.unique(rows, dim=0))


def ensemble_masks(ensemble, seeds=0):
    """The ``hidden_masks`` argument of :func:`memo_utils.engine.ensemble.train_ensemble` that trains ``ensemble``
    with turn-over dropout: example i's masks on every hidden layer (``seeds``: one, or one per model)."""
    units = ensemble.sizes[1:-1]
    return lambda idx: [m.to(ensemble.weights[0].dtype) for m in layer_masks(idx, units, seeds)]


class Masked(nn.Module):
    """A feed-forward ``nn.Sequential`` (a VGG) whose every ReLU output is scaled by the turn-over masks:
    per unit after a linear layer, per whole feature map after a convolution (spatial turn-over dropout).

    ``forward(x, masks)`` takes one (B, units) factor per ReLU, as :func:`layer_masks` gives them; without
    masks it is the full network. Masking after the ReLU and before max-pooling is the same as after it.
    The network must have no bias in its last layer (``vgg(output_bias=False)``), so that the two
    sub-networks share no parameter: a convolution's weights and bias belong to its output map.
    """

    def __init__(self, network):
        super().__init__()
        if getattr(network[-1], "bias", None) is not None:
            raise ValueError(
                "network's last layer has a bias; turn-over dropout needs none (the sub-networks would share it)"
            )
        if any(isinstance(m, nn.modules.batchnorm._NormBase) for m in network.modules()):
            raise ValueError(
                "network has batch norm; turn-over dropout needs none (its running statistics would "
                "carry every example into both sub-networks)"
            )
        self.network = network
        self.units, width = [], None
        for module in network:
            width = getattr(module, "out_channels", getattr(module, "out_features", width))
            if isinstance(module, nn.ReLU):
                self.units.append(width)

    def forward(self, x, masks=None):
        layer = 0
        for module in self.network:
            x = module(x)
            if masks is not None and isinstance(module, nn.ReLU):
                m = masks[layer].to(x.dtype)
                x = x * m.view(*m.shape, *(1,) * (x.dim() - m.dim()))
                layer += 1
        return x


def module_masks(model, seed=0):
    """The ``masks`` argument of :func:`memo_utils.engine.training.train_classifier` that trains a :class:`Masked`
    network with turn-over dropout: example i's masks on every ReLU layer."""
    return lambda idx: layer_masks(idx, model.units, seed)


@torch.no_grad()
def _masked_logits(model, x, mask_ids, seed, flipped, chunk):
    """Logits (1, N, classes) of a :class:`Masked` network's sub-networks (as an ensemble of one)."""
    model.eval()
    device = next(model.parameters()).device
    mask_ids = torch.as_tensor(mask_ids, device=device)
    out = [
        model(
            x[start : start + chunk].to(device),
            layer_masks(mask_ids[start : start + chunk], model.units, seed, flipped),
        )
        for start in range(0, len(x), chunk)
    ]
    return torch.cat(out)[None]


@torch.no_grad()
def _sub_network_logits(ensemble, x, mask_ids, seeds, flipped, chunk):
    """Logits (K, N, classes) of the sub-networks that the masks of ``mask_ids`` select (the muted ones if
    ``flipped``), on inputs ``x`` (N, ...) shared by all models; a :class:`Masked` network is a K = 1 ensemble."""
    if isinstance(ensemble, Masked):
        return _masked_logits(ensemble, x, mask_ids, seeds, flipped, min(chunk, 1000))
    x = x.flatten(1).to(ensemble.weights[0].device)
    mask_ids = torch.as_tensor(mask_ids, device=x.device)
    per_model = not isinstance(seeds, numbers.Integral)
    out = []
    for start in range(0, len(x), chunk):
        ids = mask_ids[start : start + chunk].expand(ensemble.k, -1) if per_model else mask_ids[start : start + chunk]
        hidden = [
            m.to(x.dtype).expand(ensemble.k, -1, -1) for m in layer_masks(ids, ensemble.sizes[1:-1], seeds, flipped)
        ]
        out.append(ensemble.forward(x[start : start + chunk].expand(ensemble.k, -1, -1), hidden))
    return torch.cat(out, dim=1)


def predictions(ensemble, x, mask_ids, seeds=0, flipped=False, chunk=4096):
    """Class predictions (K, N) of the unmuted (or, ``flipped``, the muted) sub-networks of ``mask_ids``
    (``ensemble``: an :class:`memo_utils.engine.ensemble.MLPEnsemble` or a :class:`Masked` network, K = 1)."""
    return _sub_network_logits(ensemble, x, mask_ids, seeds, flipped, chunk).argmax(-1)


def scores(ensemble, x, y, mask_ids, seeds=0, chunk=4096):
    """Equation 5 for every model and example: L(f^{1 - m(i)}, z) - L(f^{m(i)}, z), (K, N).

    ``x`` (N, ...) and ``y`` (N,) or (K, N) are the examples z evaluated; ``mask_ids`` (N,) names, for
    each, the training example i whose masks select the two sub-networks. ``mask_ids = arange(N)`` on the
    training set gives the memorization scores (self-influence, Equation 6).
    """
    losses = []
    for flipped in (True, False):
        logits = _sub_network_logits(ensemble, x, mask_ids, seeds, flipped, chunk)
        labels = torch.as_tensor(y, device=logits.device).expand(len(logits), -1)
        losses.append(
            torch.nn.functional.cross_entropy(logits.flatten(0, 1), labels.flatten(), reduction="none").view(
                len(logits), -1
            )
        )
    return losses[0] - losses[1]
