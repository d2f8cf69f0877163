"""One fixed-shape training step replayed as a CUDA graph, with a plain eager fallback.

Small models with small minibatches (the papers' MLPs, batch 10 to 100) spend most of a
GPU step launching kernels. A CUDA graph records the step's kernels once and replays them
with one launch. Its contract shapes how a step is written: the step reads its inputs
from, and writes its outputs to, tensors at fixed addresses. :class:`GraphedStep` copies each
call's inputs into static buffers and returns the same output tensors every call, so a
caller that keeps an output past the next call must clone it. State the step updates in
place (parameters, accumulators) must be allocated before the first call.

The first ``warmup`` calls run eagerly on a side stream (as PyTorch requires before
capture) and are real steps; the captured call is then replayed, so every call performs
exactly one step. ``mode``:

- "cuda graph": the above, on a CUDA device (falls back to "eager" if capture fails);
- "eager": a plain call, the fallback off CUDA;
- "emulated graph": eager computation with the graph's buffer semantics (static inputs,
  outputs overwritten in place on every call), so CPU tests catch a caller that keeps an
  output it must clone.
"""

from __future__ import annotations

import warnings

import torch

SETTINGS = (True, False, "auto", "emulate")


def graph_mode(setting, device):
    """The :class:`GraphedStep` mode for a ``graphs`` argument: True/"auto" mean CUDA graphs on CUDA."""
    if setting not in SETTINGS:
        raise ValueError(f"graphs={setting!r} is not allowed: choose one of {', '.join(map(repr, SETTINGS))}")
    if setting == "emulate":
        return "emulated graph"
    return "cuda graph" if setting in (True, "auto") and torch.device(device).type == "cuda" else "eager"


class GraphedStep:
    """``fn(*inputs) -> tuple of tensors``, all of fixed shapes, called through a CUDA graph."""

    def __init__(self, fn, mode, warmup=3):
        self.fn, self.mode, self.warmup = fn, mode, warmup
        self._calls, self._graph, self._inputs, self._outputs = 0, None, None, None

    def __call__(self, *inputs):
        if self.mode == "eager":
            return self.fn(*inputs)
        self._calls += 1
        if self._calls <= self.warmup:
            return self._warm(inputs)
        if self._inputs is None:
            self._inputs = [t.clone() for t in inputs]
            if self.mode == "cuda graph" and not self._capture():
                return self.fn(*inputs)
        for static, value in zip(self._inputs, inputs):
            static.copy_(value)
        if self.mode == "cuda graph":
            self._graph.replay()
        else:
            outputs = self.fn(*self._inputs)
            if self._outputs is None:
                self._outputs = outputs
            for static, value in zip(self._outputs, outputs):
                static.copy_(value)
        return self._outputs

    def _warm(self, inputs):
        if self.mode != "cuda graph":
            return self.fn(*inputs)
        stream = torch.cuda.Stream()
        stream.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(stream):
            out = self.fn(*inputs)
        torch.cuda.current_stream().wait_stream(stream)
        return out

    def _capture(self):
        graph = torch.cuda.CUDAGraph()
        try:
            with torch.cuda.graph(graph):
                self._outputs = self.fn(*self._inputs)
        except RuntimeError as error:  # an op that cannot be captured: stay eager, and say so
            warnings.warn(f"CUDA graph capture failed, running eagerly: {error}", stacklevel=3)
            self.mode = "eager"
            return False
        self._graph = graph
        return True
