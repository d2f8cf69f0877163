"""How much memory a cell needs, estimated before it allocates anything.

A setting within its bounds can still ask for more memory than the machine has (``hidden=10**7``
is 31 GB of weights per MLP). Allocating first ends in an allocator traceback at best, and at
worst in the kernel's out-of-memory killer taking the whole machine down. So each part states
``memory(cfg, cell)``, and :meth:`memo_utils.framework.chapter.Chapter.run` compares it with the device's
free memory before computing the cell, refusing in one line with the estimate.

An estimate counts what a cell cannot do without: the parameters of the networks it holds at
once with their gradients and optimizer state, the data it keeps on the device, and the
activations of one minibatch forward and backward. Allocator overheads, temporaries and library
workspaces come on top, so it is a lower bound: a refused cell would not have fitted, and no
cell that fits is refused. Parameter counts and activation sizes come from the networks
themselves, built on PyTorch's ``meta`` device (shapes without storage).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import psutil
import torch

from ..errors import InsufficientMemoryError

BYTES = 4  # float32
STATE = 2  # a parameter and its gradient (optimizer state, where there is one, comes on top)
SAVED = 2  # an activation kept for the backward pass, and its gradient


@dataclass(frozen=True)
class Footprint:
    """Floats held by ``models`` networks of ``parameters`` each, whose one-minibatch forward produces
    ``activations`` floats each."""

    parameters: int
    activations: int
    models: int = 1

    def floats(self):
        return self.models * (STATE * self.parameters + SAVED * self.activations)


def mlp(sizes, batch, models=1):
    """A ReLU MLP with layer sizes ``sizes`` (weights and biases), on minibatches of ``batch``."""
    parameters = sum(n_in * n_out + n_out for n_in, n_out in zip(sizes[:-1], sizes[1:]))
    return Footprint(parameters, batch * sum(sizes[1:]), models)


def network(build, input_shape, batch, models=1):
    """``build()``, an ``nn.Module``, on minibatches of ``batch`` inputs of ``input_shape``: its parameters and the
    outputs of its leaf modules, from one forward pass on the meta device (no memory used)."""
    with torch.device("meta"):
        model = build()
    outputs = []
    hooks = [
        m.register_forward_hook(lambda m, i, out: outputs.append(out.numel()))
        for m in model.modules()
        if not list(m.children())
    ]
    with torch.no_grad():
        model(torch.empty(batch, *input_shape, device="meta"))
    for hook in hooks:
        hook.remove()
    return Footprint(sum(p.numel() for p in model.parameters()), sum(outputs), models)


def images(count, shape, copies=1):
    """Floats of ``count`` float32 images of ``shape`` kept on the device, ``copies`` times (noise, standardizing)."""
    size = 1
    for side in shape:
        size *= side
    return copies * count * size


def needed(*footprints, data=0):
    """Bytes: the footprints together, and ``data`` floats."""
    return BYTES * (sum(f.floats() for f in footprints) + data)


def free(device):
    """Bytes free on ``device``: for the CPU, available host memory within this container's limit (cgroup v2);
    for a GPU, the CUDA driver's count."""
    device = torch.device(device)
    if device.type == "cuda":
        return torch.cuda.mem_get_info(device)[0]
    available = psutil.virtual_memory().available
    try:
        limit, used = (Path("/sys/fs/cgroup", name).read_text().strip() for name in ("memory.max", "memory.current"))
        return min(available, int(limit) - int(used))
    except (OSError, ValueError):  # no cgroup v2 limit ("max", or another system)
        return available


def check(estimate, device, what, settings):
    """Refuse, in one line, a cell whose estimated memory exceeds what ``device`` has free."""
    available = free(device)
    if estimate > available:
        raise InsufficientMemoryError(
            f"{what} needs at least {_gib(estimate)} on {device}, which has {_gib(available)} free: lower "
            f"{settings}, or run it on a larger device"
        )


def _gib(n):
    return f"{n / 2**30:,.1f} GiB"
