"""What reproduction costs: measured wall times, and the extrapolated cost of the larger profiles.

An estimate scales each part's measured time by the ratio of work (each part's ``work(cfg, cell)``,
FLOPs or steps up to a constant per part) between two profiles. The ``paper`` profile's GPU time
is scaled from the ``gpu`` profile's once every ``gpu`` cell computed on a GPU is in the cache;
before that, the ``gpu`` and ``paper`` profiles are scaled from the ``cpu`` profile's single-core
times, and turned into GPU hours only through :data:`ASSUMED_GPU_SPEEDUP`, stated as an assumption.
"""

from __future__ import annotations

import json
from pathlib import Path

from ..engine import devices
from . import cache
from .profiles import PROFILES


def cached_metas(chapter, cfg):
    """{cell id: metadata} of every cell of ``cfg``, or None if any cell is not in the cache."""
    status = chapter.status(cfg)
    if any(hit is None for _, hit in status):
        return None
    return {cid: hit.meta for cid, hit in status}


def on_gpu(metas):
    return metas is not None and not any(m["device"].startswith("cpu") for m in metas.values())


# How much faster one GPU (an H100 or H200) runs these chapters than one core of the 2-core machine that measured
# the cpu profile: an assumption, stated wherever it is used, until the gpu profile is measured on a GPU. One core
# peaks at about 0.08 TFLOP/s in float32 (two AVX2 FMA units at 2.5 GHz), an H100's float32 peak is 67 TFLOP/s
# (about 1,000x); the chapters' small models use a far smaller share of a GPU than of a core, hence the lower end.
ASSUMED_GPU_SPEEDUP = (100, 1000)


def part_rates(chapter, measured, metas):
    """{part: measured seconds per unit of counted work (``part.work``)} at profile ``measured``, from its cells'
    ``metas`` (:func:`cached_metas`), for every part that profile runs."""
    cfg = chapter.config(measured)
    rates = {}
    for part in chapter.parts:
        work = sum(part.work(cfg, c) for p, c in chapter.cells(cfg) if p is part)
        if work:
            rates[part.name] = (
                sum(m["wall_time_s"] for cid, m in metas.items() if cid.split("/")[0] == part.name) / work
            )
    return rates


def scaled(chapter, measured, target, metas):
    """Seconds of ``target``'s cells at the rates measured at profile ``measured`` (:func:`part_rates`), and the
    parts that ``target`` runs but ``measured`` did not (no rate: left out of the sum)."""
    rates, target_cfg = part_rates(chapter, measured, metas), chapter.config(target)
    total, unrated = 0.0, []
    for part in chapter.parts:
        target_work = sum(part.work(target_cfg, c) for p, c in chapter.cells(target_cfg) if p is part)
        if part.name in rates:
            total += rates[part.name] * target_work
        elif target_work:
            unrated.append(part.name)
    return total, unrated


def on_cpu(metas):
    """Whether every cell was computed on a CPU (one core each: the rate :func:`core_estimate` scales)."""
    return metas is not None and all(m["device"].startswith("cpu") for m in metas.values())


def paper_estimate_seconds(chapter):
    """GPU seconds of the paper profile, scaled from the gpu profile's cells measured on a GPU; None before."""
    metas = cached_metas(chapter, chapter.config("gpu"))
    if not on_gpu(metas):
        return None
    return scaled(chapter, "gpu", "paper", metas)[0]


def core_estimate(chapter, target):
    """Single-core seconds of ``target`` extrapolated from the cpu profile's cells (computed one per core), and
    the parts with no cpu rate to scale; None when a cpu cell is missing or was computed elsewhere."""
    metas = cached_metas(chapter, chapter.config("cpu"))
    return scaled(chapter, "cpu", target, metas) if on_cpu(metas) else None


def paper_estimate_sentence(chapter):
    seconds = paper_estimate_seconds(chapter)
    if seconds is not None:
        return f"Extrapolated from the gpu profile's measured time: about {seconds / 3600:,.1f} GPU hours."
    estimate = core_estimate(chapter, "paper")
    if estimate is None:
        return "Its cost is estimated from measured times, and neither the gpu nor the cpu profile's are cached."
    low, high = (estimate[0] / s / 3600 for s in reversed(ASSUMED_GPU_SPEEDUP))
    left_out = f" (without {', '.join(estimate[1])}, which the cpu profile does not run)" if estimate[1] else ""
    return (
        f"Extrapolated by counted work from the cpu profile's measured time{left_out}: about "
        f"{estimate[0] / 3600:,.0f} CPU-core hours, or {low:,.1f} to {high:,.1f} GPU hours at an assumed "
        f"{ASSUMED_GPU_SPEEDUP[0]:,}-{ASSUMED_GPU_SPEEDUP[1]:,}x speed-up over one core (an estimate until a GPU "
        f"measures the gpu profile)."
    )


def _timings_path(profile):
    return cache.results_dir() / "timings" / f"{profile}.json"


def record_wall_time(profile, chapter, seconds, how):
    """Keep the last wall time of a chapter per profile and per way of running it
    (``results/timings/<profile>.json``: chapter -> how -> seconds and device), so that one
    profile's runs never rewrite another's."""
    entry = {"seconds": round(seconds, 1), "device": devices.name(devices.default_device())}

    def change(recorded):
        recorded.setdefault(chapter, {})[how] = entry
        return recorded

    cache.update_json(_timings_path(profile), change, {})


def recorded_wall_times():
    """{profile: {chapter: {how: {seconds, device}}}} for every profile with recorded times."""
    out = {}
    for profile in PROFILES:
        try:
            out[profile] = json.loads(cache.read_path(Path("timings") / f"{profile}.json").read_text())
        except (OSError, ValueError):
            pass
    return out
