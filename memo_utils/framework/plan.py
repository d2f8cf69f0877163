"""What a profile's missing cells would cost, before any of them runs: per cell, its estimated compute time on one
GPU, its peak memory and the share of a GPU it should request; then the totals a cluster run needs.

Compute is each part's counted work (``part.work``) times a rate in seconds per unit of work: the rate measured on
a GPU where the cache holds that part's ``gpu``-profile cells computed on one, else the ``cpu`` profile's
single-core rate divided by the low end of :data:`memo_utils.framework.costs.ASSUMED_GPU_SPEEDUP` (an assumption,
so an upper estimate), else, for a part whose work counts multiply-accumulates (``part.flops_per_work``), its
floating-point operations at :data:`DATA_SHEET_FLOPS` (a lower bound: no GPU reaches its peak on these small
networks). The plan says which basis each cell has. Memory is the part's own estimate
(:mod:`memo_utils.engine.memory`), a lower bound; the GPU share leaves it room to double.
"""

from __future__ import annotations

from dataclasses import dataclass

from . import costs
from .chapter import Chapter, Config, cell_id

GPU_MEMORY = 80 * 2**30  # bytes of the smallest GPU the gpu profile is sized for (an H100 80GB)
FRACTIONS = (0.125, 0.25, 0.5, 1.0)  # shares of a GPU a cell may request: up to 8 cells share one
HEADROOM = 2  # a memory estimate is a lower bound (no allocator overhead, no workspaces): request twice it
# An H100 SXM's data-sheet peak for the float32 convolutions the chapters train: cuDNN runs them in TF32 by default,
# 989 TFLOP/s with structured sparsity, half that dense. The fastest any such cell could run, so a lower bound.
DATA_SHEET_FLOPS = 494.7e12
AT_PEAK = f"data-sheet peak, {DATA_SHEET_FLOPS / 1e12:.0f} TFLOP/s (a lower bound)"


@dataclass(frozen=True)
class CellPlan:
    chapter: str
    cell: str
    seconds: float | None  # on one GPU; None: no measured rate for its part
    basis: str  # where the rate comes from
    memory: int  # bytes, a lower bound
    gpu_fraction: float


def gpu_fraction(memory: int) -> float:
    """The smallest share of a GPU (of :data:`FRACTIONS`) whose memory holds :data:`HEADROOM` times ``memory``."""
    return next((f for f in FRACTIONS if HEADROOM * memory <= f * GPU_MEMORY), 1.0)


def rates(chapter: Chapter) -> dict[str, tuple[float, str]]:
    """{part: (seconds of one GPU per unit of work, basis)} for every part with a measured time to scale: the gpu
    profile's rate where it was computed on a GPU, else the cpu profile's over the assumed speed-up."""
    low = costs.ASSUMED_GPU_SPEEDUP[0]
    out = {}
    cpu = costs.cached_metas(chapter, chapter.config("cpu"))
    if costs.on_cpu(cpu):
        for part, rate in costs.part_rates(chapter, "cpu", cpu).items():
            out[part] = (rate / low, f"cpu rate / {low}x (assumed)")
    gpu = costs.cached_metas(chapter, chapter.config("gpu"))
    if costs.on_gpu(gpu):
        out.update({part: (rate, "measured on a GPU") for part, rate in costs.part_rates(chapter, "gpu", gpu).items()})
    return out


def plan(
    chapter: Chapter, cfg: Config, data_dir: str | None = None, known: dict[str, tuple[float, str]] | None = None
) -> list[CellPlan]:
    """A :class:`CellPlan` for every cell of ``cfg`` missing from the cache, at the rates ``known`` ({part: (seconds
    per unit of work, basis)}; default :func:`rates`)."""
    known = rates(chapter) if known is None else known
    out = []
    for part, cell in chapter.cells(cfg):
        if chapter.lookup(part, cell, cfg, data_dir) is not None:
            continue
        rate, basis = known.get(part.name, (None, "no measured rate for this part"))
        if rate is None and part.flops_per_work is not None:
            rate, basis = part.flops_per_work / DATA_SHEET_FLOPS, AT_PEAK
        needed = part.memory(chapter.part_config(part, cfg), cell)
        seconds = None if rate is None else rate * part.work(cfg, cell)
        out.append(CellPlan(chapter.name, cell_id(part.name, cell), seconds, basis, needed, gpu_fraction(needed)))
    return out


def totals(plans: list[CellPlan], gpus: int) -> dict[str, float | int]:
    """GPU hours (each cell holds its share of a GPU for its time) and the wall time on ``gpus`` GPUs (that total
    spread evenly, or the longest cell if longer); cells with no rate, and those timed at the data-sheet peak, are
    counted apart."""
    timed = [p for p in plans if p.seconds is not None]
    gpu_seconds = sum(p.seconds * p.gpu_fraction for p in timed)
    longest = max((p.seconds for p in timed), default=0.0)
    return {
        "cells": len(plans),
        "unrated": len(plans) - len(timed),
        "at_peak": sum(p.basis == AT_PEAK for p in plans),
        "gpu_hours": gpu_seconds / 3600,
        "wall_hours": max(gpu_seconds / gpus, longest) / 3600,
    }
