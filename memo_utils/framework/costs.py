"""What reproduction costs: measured wall times and the extrapolated cost of the paper profile.

The estimate for the ``paper`` profile scales each part's measured ``gpu``-profile time by the
ratio of work (each part's ``work(cfg, cell)``, FLOPs or steps up to a constant) between the
two profiles. It exists only once every ``gpu`` cell computed on a GPU is in the cache.
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


def paper_estimate_seconds(chapter):
    gpu_cfg, paper_cfg = chapter.config("gpu"), chapter.config("paper")
    metas = cached_metas(chapter, gpu_cfg)
    if not on_gpu(metas):
        return None
    total = 0.0
    for part in chapter.parts:
        gpu_cells = [c for p, c in chapter.cells(gpu_cfg) if p is part]
        seconds = sum(m["wall_time_s"] for cid, m in metas.items() if cid.split("/")[0] == part.name)
        rate = seconds / sum(part.work(gpu_cfg, c) for c in gpu_cells)
        total += rate * sum(part.work(paper_cfg, c) for p, c in chapter.cells(paper_cfg) if p is part)
    return total


def paper_estimate_sentence(chapter):
    seconds = paper_estimate_seconds(chapter)
    if seconds is None:
        return "Its cost is estimated from the gpu profile's measured time, which is not in the cache yet."
    return f"Extrapolated from the gpu profile's measured time: about {seconds / 3600:,.1f} GPU hours."


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
