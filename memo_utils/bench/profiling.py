"""Where a profiled run's time went: device kernels (or host operators) by kind, from torch.profiler."""

from __future__ import annotations

import time

import torch


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize()


def kernel_kind(name):
    """ "convolution", "gemm" or "elementwise" (everything else: pointwise, reductions, copies, indexing)
    for a CUDA kernel's or an aten operator's name."""
    name = name.lower()
    if any(w in name for w in ("convolution", "convolve", "conv2d", "fprop", "dgrad", "wgrad", "winograd")):
        return "convolution"
    if any(w in name for w in ("gemm", "gemv", "nvjet", "cublas", "cutlass", "xmma", "matmul")) or name in (
        "aten::mm",
        "aten::addmm",
        "aten::bmm",
        "aten::baddbmm",
        "aten::addbmm",
        "aten::_addmm_activation",
    ):
        return "gemm"
    return "elementwise"


def time_split(events, wall, on_device):
    """How a profiled run spent its time: ``busy`` = time inside device kernels (on a CPU: inside
    operators) / wall time, and each kernel kind's share of that time (:func:`kernel_kind`).

    A busy fraction far below 1 means the run waits on launches or the host; a large elementwise share
    means memory-bound glue around the GEMMs (the evidence to give when a target is missed). On CUDA
    only device events (kernels, copies) count; on a CPU, every operator's self time.
    """
    from torch.autograd import DeviceType

    times = {}
    for e in events:
        if on_device and getattr(e, "device_type", None) != DeviceType.CUDA:
            continue
        spent = getattr(e, "self_device_time_total", 0) if on_device else e.self_cpu_time_total
        if spent > 0:
            kind = kernel_kind(e.key)
            times[kind] = times.get(kind, 0.0) + spent / 1e6
    total = sum(times.values())
    return {
        "busy": total / wall,
        **{kind: times.get(kind, 0.0) / total if total else 0.0 for kind in ("gemm", "convolution", "elementwise")},
    }


class Profiler:
    """torch.profiler between ``start()`` and ``stop()`` (which returns the report text and time split), so
    that a run can be profiled over its steady-state steps only."""

    def __init__(self, device):
        from torch.profiler import ProfilerActivity, profile

        self.device, self.on_device = device, device.type == "cuda"
        self._profile = profile(activities=[ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if self.on_device else []))

    def start(self):
        sync(self.device)
        self._profile.start()
        self._start = time.perf_counter()

    def stop(self):
        sync(self.device)
        wall = time.perf_counter() - self._start
        self._profile.stop()
        return profile_report(self._profile.key_averages(), wall, self.on_device)


def profile_report(events, wall, on_device):
    """The profile's text (time split, then the top operators by self time) and its time split."""
    split = time_split(events, wall, on_device)
    where = "device kernels" if on_device else "operators (host)"
    lines = [
        f"wall {wall:.4f} s; busy in {where} {split['busy']:.0%} of wall; of that: GEMM {split['gemm']:.0%}, "
        f"convolution {split['convolution']:.0%}, elementwise and other {split['elementwise']:.0%}"
    ]
    sort_by = "self_device_time_total" if on_device else "self_cpu_time_total"
    return "\n".join(lines + [events.table(sort_by=sort_by, row_limit=12)]), split
