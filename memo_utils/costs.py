"""What reproduction costs: measured GPU wall times and extrapolated costs of the paper profile.

The estimate for the ``paper`` profile scales each cached ``gpu``-profile part by the ratio of
work (each experiment's ``work(cfg)``, FLOPs or steps up to a constant) between the two
profiles. It exists only once a ``gpu`` result computed on a GPU is in the cache.
"""
from __future__ import annotations

import json

from . import cache, experiments
from .errors import ConfigError
from .profiles import PROFILES, default_device


def cached_meta(module, cfg):
    """Metadata of every cached part of ``cfg``, or None if any part is not in the cache."""
    metas = {}
    for name, key in module.parts(cfg).items():
        hit = cache.lookup(*key)
        if hit is None:
            return None
        metas[name] = hit.meta
    return metas


def _gpu_meta(module, cfg):
    """Like :func:`cached_meta`, but only when every part was computed on a GPU."""
    metas = cached_meta(module, cfg)
    if metas is None or any(m["device"].startswith("cpu") for m in metas.values()):
        return None
    return metas


def paper_estimate_seconds(module):
    gpu_cfg, paper_cfg = module.config("gpu"), module.config("paper")
    metas = _gpu_meta(module, gpu_cfg)
    if metas is None:
        return None
    gpu_work, paper_work = module.work(gpu_cfg), module.work(paper_cfg)
    return sum(metas[p]["wall_time_s"] * paper_work[p] / gpu_work[p] for p in metas)


def paper_estimate_sentence(chapter):
    seconds = paper_estimate_seconds(experiments.get(chapter))
    if seconds is None:
        return "Its cost is estimated from the gpu profile's measured time, which is not in the cache yet."
    return f"Extrapolated from the gpu profile's measured time: about {seconds / 3600:,.1f} GPU hours."


def stop_unless_cached(module, cfg, chapter):
    """The paper profile is not run by accident: without cached results it stops with one line."""
    if cfg["profile"] == "paper" and cached_meta(module, cfg) is None:
        raise ConfigError(f"profile='paper' is not run here: {paper_estimate_sentence(chapter)} "
                          f"Run it with python -m memo_utils run {chapter} --profile paper on a GPU machine.")


def compute_times():
    """Per profile and chapter with cached results: total compute wall time and devices."""
    rows = []
    for profile in PROFILES:
        for chapter in experiments.CHAPTERS:
            module = experiments.get(chapter)
            metas = cached_meta(module, module.config(profile))
            if metas:
                rows.append({"profile": profile, "chapter": chapter,
                             "seconds": sum(m["wall_time_s"] for m in metas.values()),
                             "device": ", ".join(sorted({m["device"] for m in metas.values()})),
                             "date": max(m["date"] for m in metas.values())[:10]})
    return rows


def chapter_costs():
    """Per chapter: the measured wall time of the gpu profile on a GPU, and the paper estimate."""
    rows = []
    for chapter in experiments.CHAPTERS:
        module = experiments.get(chapter)
        metas = _gpu_meta(module, module.config("gpu"))
        estimate = paper_estimate_seconds(module)
        rows.append({"chapter": chapter,
                     "gpu_wall_time_s": sum(m["wall_time_s"] for m in metas.values()) if metas else None,
                     "gpu_device": ", ".join(sorted({m["device"] for m in metas.values()})) if metas else None,
                     "paper_gpu_hours": estimate / 3600 if estimate is not None else None})
    return rows


def record_wall_time(profile, chapter, seconds, how):
    """Keep the last wall time of a chapter per profile and per way of running it
    (``results/timings.json``: profile -> chapter -> how -> seconds and device)."""
    path = cache.results_dir() / "timings.json"
    try:
        recorded = json.loads(path.read_text())
    except (OSError, ValueError):
        recorded = {}
    recorded.setdefault(profile, {}).setdefault(chapter, {})[how] = {
        "seconds": round(seconds, 1), "device": cache.device_name(default_device())}
    cache.write_json_atomic(path, recorded)


def recorded_wall_times():
    try:
        return json.loads((cache.results_dir() / "timings.json").read_text())
    except (OSError, ValueError):
        return {}
