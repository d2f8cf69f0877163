"""The device a computation runs on: the default, validation, and how it is described.

One place for it, because the cache metadata, the benchmark and the reproducibility
appendix all say which device computed a result.
"""

from __future__ import annotations

import os
import platform

import torch

from ..errors import ConfigError


def default_device():
    return "cuda" if torch.cuda.is_available() else "cpu"


def resolve(device):
    """``device`` (None: the default) as a string torch accepts and this machine has, or one line of error."""
    if device is None:
        return default_device()
    try:
        parsed = torch.device(device)
    except (RuntimeError, TypeError):
        raise ConfigError(f"device={device!r} is not allowed: choose cpu or cuda (cuda:N)") from None
    if parsed.type not in ("cpu", "cuda"):
        raise ConfigError(f"device={device!r} is not allowed: choose cpu or cuda (cuda:N)")
    if parsed.type == "cuda" and (not torch.cuda.is_available() or (parsed.index or 0) >= torch.cuda.device_count()):
        raise ConfigError(
            f"device={device!r} is not allowed: this machine has {torch.cuda.device_count()} CUDA device(s); use cpu"
        )
    return str(parsed)


def configure_threads(device):
    """One torch thread on the CPU: two OpenMP threads on two shared cores are often 25-50x slower than one."""
    if torch.device(device).type == "cpu":
        torch.set_num_threads(1)


def name(device):
    """What a result's metadata says computed it, e.g. "NVIDIA H100 80GB HBM3" or "cpu (x86_64, 1 threads)"."""
    device = torch.device(device)
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    return f"cpu ({platform.processor() or platform.machine()}, {torch.get_num_threads()} threads)"


def description():
    """The machine, for the reproducibility appendix."""
    if torch.cuda.is_available():
        return f"{torch.cuda.get_device_name(0)} (CUDA {torch.version.cuda})"
    processor = platform.processor() or platform.machine()
    return f"CPU: {processor}, {os.cpu_count()} cores, {torch.get_num_threads()} torch threads"
