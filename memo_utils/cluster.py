"""A chapter's missing cells as Ray tasks, on a local Ray instance or on a cluster (``run --ray [ADDRESS]``).

Ray schedules each cell by the resources :mod:`memo_utils.framework.plan` gives it (a share of a GPU, or one CPU
core), retries a cell whose worker died (``max_retries``), and returns its arrays to the driver, which writes the
cache entry atomically (:func:`memo_utils.framework.cache.store`): a cluster needs no shared file system for the
results, and the cache on the driver stays the one source of truth. The data must be readable at the same path on
every node (the bundled sample always is). A cell whose code raises is reported once, with its error, and the
others go on. Arrays travel through Ray's own serialization inside the cluster, never through a file.

Fault injection, for the tests: with ``MEMO_RAY_EXIT_ONCE=FOLDER`` a task exits hard the first time it runs a
cell (leaving a marker file in FOLDER), as a killed worker would; ``MEMO_RAY_RAISE=CELL`` makes that cell raise.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from . import experiments
from .engine import devices
from .framework import cache, plan
from .framework.chapter import Config, cell_id

MAX_RETRIES = 3  # a worker that dies (a node lost, out of memory) gets its cell back this many times


def _compute(chapter_name: str, cfg: Config, part_name: str, cell: dict, data_dir: str | None, device: str | None):
    """On a worker: one cell's arrays, the seconds they took and the name of the device that computed them."""
    chapter = experiments.get(chapter_name)
    part = chapter.part(part_name)
    cid = cell_id(part_name, cell)
    marker_dir = os.environ.get("MEMO_RAY_EXIT_ONCE")
    if marker_dir:
        marker = Path(marker_dir) / cid.replace("/", "__")
        if not marker.exists():
            marker.touch()
            os._exit(17)  # as a killed worker: no exception, no cleanup
    if os.environ.get("MEMO_RAY_RAISE") == cid:
        raise RuntimeError(f"{cid}: injected failure (MEMO_RAY_RAISE)")
    device = devices.resolve(device)
    devices.configure_threads(device)
    start = time.perf_counter()
    arrays = chapter.compute_cell(part, cell, cfg, chapter.sources(part, cfg, data_dir), device)
    return arrays, time.perf_counter() - start, devices.name(device)


def run(chapter_names, cfgs, *, address=None, data_dir=None, device=None, num_cpus=None):
    """Compute every missing cell of each chapter (with its ``cfgs[name]``) as a Ray task and store it; returns
    ({cell: seconds} computed, {cell: error line} failed). ``address``: None starts Ray locally; ``"auto"``,
    ``"ray://..."`` or ``$RAY_ADDRESS`` join a running cluster."""
    import ray
    from tqdm.auto import tqdm

    todo = []
    for name in chapter_names:
        chapter, cfg = experiments.get(name), cfgs[name]
        cells = {cell_id(part.name, cell): (part, cell) for part, cell in chapter.cells(cfg)}
        todo += [(chapter, cfg, *cells[p.cell], p) for p in plan.plan(chapter, cfg, data_dir)]
    if not todo:
        return {}, {}
    _init(ray, address, num_cpus)
    try:
        gpu = _on_gpus(ray, device)
        device = device or ("cuda" if gpu else "cpu")
        refs = {}
        for chapter, cfg, part, cell, p in todo:
            resources = {"num_gpus": p.gpu_fraction, "num_cpus": 1} if gpu else {"num_cpus": 1}
            task = ray.remote(_compute).options(max_retries=MAX_RETRIES, retry_exceptions=False, **resources)
            refs[task.remote(chapter.name, cfg, part.name, cell, data_dir, device)] = (chapter, cfg, part, cell)
        done, failed = {}, {}
        pending = list(refs)
        with tqdm(total=len(refs), unit="cell", desc="ray") as bar:
            while pending:
                ready, pending = ray.wait(pending, num_returns=1)
                chapter, cfg, part, cell = refs[ready[0]]
                cid = f"{chapter.name}/{cell_id(part.name, cell)}"
                try:
                    arrays, seconds, device_name = ray.get(ready[0])
                except ray.exceptions.RayError as error:
                    failed[cid] = _one_line(error)
                else:
                    with cache.for_book(chapter.for_book(cfg)):
                        cache.store(
                            *chapter.key(part, cell, cfg, data_dir),
                            arrays,
                            wall_time_s=seconds,
                            device_name=device_name,
                            meta_extra=chapter.meta_extra(part),
                        )
                    done[cid] = seconds
                bar.update()
                bar.set_postfix(done=len(done), running=len(pending), failed=len(failed))
        return done, failed
    finally:
        ray.shutdown()


def _init(ray, address, num_cpus):
    init = {"address": address} if address else {"num_cpus": num_cpus}
    ray.init(**init, include_dashboard=False, log_to_driver=False, ignore_reinit_error=True)


def _on_gpus(ray, device):
    """Whether the tasks run on GPUs: the driver may have none while the workers do, so ask the cluster."""
    return (device or "").startswith("cuda") or (device is None and ray.cluster_resources().get("GPU", 0) > 0)


def map_tasks(fn, args, *, address=None, num_cpus=None, device=None):
    """``fn(*a)`` for each ``a`` of ``args`` as Ray tasks, each with a whole GPU where the cluster has GPUs (a
    rehearsal measures the memory it finds free), else one CPU; yields the results as they complete, a task
    whose worker died retried (``max_retries``). ``fn`` reports its own errors in what it returns."""
    import ray

    _init(ray, address, num_cpus)
    try:
        resources = {"num_gpus": 1, "num_cpus": 1} if _on_gpus(ray, device) else {"num_cpus": 1}
        task = ray.remote(fn).options(max_retries=MAX_RETRIES, retry_exceptions=False, **resources)
        pending = [task.remote(*a) for a in args]
        while pending:
            ready, pending = ray.wait(pending, num_returns=1)
            yield ray.get(ready[0])
    finally:
        ray.shutdown()


def _one_line(error):
    """A task's error as one line: its own exception's type and message, not Ray's wrapped traceback."""
    cause = getattr(error, "cause", None) or error
    return f"{type(cause).__name__}: {str(cause).strip().splitlines()[-1] if str(cause).strip() else ''}"
