"""Timing on a CPU or a GPU: medians of repeated calls, or of steady-state stretches of one run, each with
its profiled time split when a trace is asked for (returned with the time: no module state)."""

from __future__ import annotations

import contextlib
import statistics
import time

import torch

from .profiling import Profiler, sync

WARMUP_STEPS = 5  # a graphed step's 3 eager warm-up steps, its capture and a first replay, then steady state


class Timer:
    """Times calls on ``device``. With ``trace``, each timed variant also runs once under torch.profiler: its
    report is kept in ``traces`` as (label, text) and its time split returned with its time, for its row."""

    def __init__(self, device, trace=False):
        self.device, self.traces = device, [] if trace else None

    def timed(self, fn, repeats, label, trace=True):
        """(median wall time of ``fn()`` over ``repeats`` runs after one warm-up run, {"profile": time split} or {})."""
        fn()
        sync(self.device)
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            fn()
            sync(self.device)
            times.append(time.perf_counter() - start)
        split = {}
        if self.traces is not None and trace:
            profiler = Profiler(self.device)  # one more run, profiled
            profiler.start()
            fn()
            text, split["profile"] = profiler.stop()
            self.traces.append((label, text))
        return statistics.median(times), split

    def steady(self, run, label):
        """(median seconds between the marks ``run(mark)`` makes, {"profile": time split} or {}): ``mark()`` after
        the warm-up (and graph capture, and compilation), then after each of three equal stretches of steps, so
        only steady-state steps are timed. Traced (if asked) over the same stretches of one more ``run``."""
        marks = []

        def mark(*_):
            sync(self.device)
            marks.append(time.perf_counter())

        run(mark)
        split = {}
        if self.traces is not None:
            profiler, seen = Profiler(self.device), []

            def profile_mark(*_):  # the profiler runs from the first mark to the last
                seen.append(None)
                if len(seen) == 1:
                    profiler.start()
                elif len(seen) == len(marks):
                    text, split["profile"] = profiler.stop()
                    self.traces.append((label, text))

            run(profile_mark)
        return statistics.median(b - a for a, b in zip(marks, marks[1:])), split


def peak_memory(device):
    return torch.cuda.max_memory_allocated(device) / 2**30 if device.type == "cuda" else None


def reserved_memory(device):
    """What the caching allocator held at most: the memory a run really took from the GPU."""
    return torch.cuda.max_memory_reserved(device) / 2**30 if device.type == "cuda" else None


def reset_memory(device):
    if device.type == "cuda":
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats(device)


def max_abs_diff(tensors, reference):
    return max(float((a.detach().cpu() - b.detach()).abs().max()) for a, b in zip(tensors, reference))


@contextlib.contextmanager
def matmul_precision(precision):
    """float32 matmuls at ``precision`` ("highest": full float32, "high": TF32) inside, PyTorch's setting after."""
    default = torch.get_float32_matmul_precision()
    torch.set_float32_matmul_precision(precision)
    try:
        yield
    finally:
        torch.set_float32_matmul_precision(default)
