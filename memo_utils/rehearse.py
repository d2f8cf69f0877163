"""A rehearsal (``python -m memo_utils run CHAPTER --rehearse``): each cell at its profile's real sizes, stopped
after two steps of the first loop that takes them (:func:`step_limit`), writing nothing, so that a cell that cannot
load its data or allocate its networks fails here, not after hours of cluster time. A stopped cell has no results,
so the claims code is rehearsed apart (:func:`rehearse_claims`): every cell of the profile's grid, run to the end at
the smoke profile's sizes, then judged.

A cell too large for this machine (the cluster's GPUs hold more) is rehearsed as a *slice*: the same cell, its
networks and data at their real sizes, but fewer of its models trained at once. :data:`MODELS_AT_ONCE` names the
parameters that count them; they are declared here, not in the experiment modules, because they change no result
and those modules' code is fingerprinted.
"""

from __future__ import annotations

import contextlib
import functools
import resource
import time
from pathlib import Path

import numpy as np
import torch
from torch.optim.optimizer import register_optimizer_step_post_hook

from . import experiments
from .engine import data, devices, graphs, memory
from .errors import ConfigError, InsufficientMemoryError
from .framework import cache, claims, plan
from .framework.chapter import Cell, Chapter, Config, Part, Results, cell_id
from .progress import RehearsalDone, rehearsal

# what became of a rehearsed cell or chapter's claims
REHEARSED, SLICED, TOO_LARGE, FAILED = "rehearsed", "rehearsed as a slice", "does not fit here", "failed"
OUTCOMES = (REHEARSED, SLICED, TOO_LARGE, FAILED)

# chapter -> the parameters that count models trained at once, which a rehearsal may shrink (an int halves, a
# list keeps its first half, never below one). dissection trains one replicate at a time and loss_sensitivity a
# fixed group of settings per cell: neither has a count that lowers a cell's memory.
MODELS_AT_ONCE = {
    "easy_examples": ("n_runs",),  # the MLP ensemble of a cell
    "capacity": ("seeds",),  # a row's ensemble: every noise level x seed
    "critical_sample_ratio": ("seeds",),  # the MLPs' ensemble (its CNNs train one at a time)
    "regularization": ("seeds",),  # a cell's models: every strength x seed, stacked
    "turn_over_dropout": ("seeds", "subsampling_models"),  # a seed half's ensemble; Feldman & Zhang's models
    # each part's networks of one seed
    "measure_agreement": (
        "hardness_models",
        "sensitivity_runs",
        "lass_models",
        "turn_over_models",
        "subsampling_models",
    ),
}


# chapter -> {a list of sizes: the number it is relative to}. A claims rehearsal scales it by that number's
# smoke-to-profile ratio (kept increasing), so that it keeps its length and its cells: capacity's widths (MLP and
# CNN) with the widest, its training-set sizes (the dataset_size cells) with train_size, loss_sensitivity's steps
# with the longest.
SCALED_LISTS = {
    "capacity": {"widths": "widths", "cifar_widths": "cifar_widths", "dataset_sizes": "train_size"},
    "loss_sensitivity": {"steps": "steps"},
}
# chapter -> {a number picked from a scaled list: that list}; it follows its pick (capacity's dataset_size networks
# have one of its widths, or none)
PICKED = {"capacity": {"size_width": "widths"}}
# chapter -> numbers that a claims rehearsal keeps: how many times a claim is measured (CSR's points in training)
MEASUREMENTS = {"critical_sample_ratio": ("csr_points", "cifar_csr_points")}


def _estimate(chapter: Chapter, part: Part, cell: Cell, cfg: Config) -> int:
    return part.memory(chapter.part_config(part, cfg), cell)


def _gib(n: float) -> str:
    return f"{n / 2**30:,.2f} GiB"


def _halved(chapter: Chapter, cfg: Config, name: str) -> Config | None:
    """``cfg`` with half as many of ``name``, validated as any config is; None at one, or when the chapter refuses
    it (a constraint between parameters)."""
    value = cfg[name]
    smaller = value[: max(1, len(value) // 2)] if isinstance(value, list) else max(1, value // 2)
    if smaller == value:
        return None
    settings = {k: v for k, v in cfg.items() if k != "profile"}
    try:
        return chapter.config(cfg["profile"], **{**settings, name: smaller})
    except ConfigError:
        return None


def slice_to_fit(chapter: Chapter, part: Part, cell: Cell, cfg: Config, free: int) -> tuple[Config, int]:
    """The largest slice of ``cell`` (``cfg`` with its model counts halved, round by round) whose estimate, times
    :data:`~memo_utils.framework.plan.HEADROOM`, fits in ``free`` bytes, and that estimate: ``cfg`` itself when it
    fits, the smallest slice reached when none does. A count is halved only where that lowers the estimate (the
    part may not hold those models at once) and ``cell`` stays a cell of the slice (cells may follow the seeds)."""
    names = [n for n in MODELS_AT_ONCE.get(chapter.name, ()) if n in chapter.part_config(part, cfg)]
    current = _estimate(chapter, part, cell, cfg)
    while plan.HEADROOM * current > free:
        shrunk = False
        for name in names:
            smaller = _halved(chapter, cfg, name)
            if smaller is None or cell not in part.cells(smaller):
                continue
            estimate = _estimate(chapter, part, cell, smaller)
            if estimate < current:
                cfg, current, shrunk = smaller, estimate, True
                if plan.HEADROOM * current <= free:
                    break
        if not shrunk:
            break
    return cfg, current


STAND_IN_SIZES = {"mnist": ((28, 28), 60000), "cifar10": ((32, 32, 3), 50000)}  # image shape, full training set
STAND_IN_TEST = 10000


def stand_in(name, n_train):
    """Random images and labels of dataset ``name``'s shape, and a source naming them as such: a rehearsal without
    the archives (``--stand-in-data``) still allocates every network and runs its first steps at the real sizes.
    Made once per process and size, as a run loads each archive once for all its cells."""
    return _stand_in(name, max(n_train, STAND_IN_SIZES[name][1]))


@functools.lru_cache(maxsize=2)
def _stand_in(name, n):
    shape = STAND_IN_SIZES[name][0]
    rng = np.random.default_rng(0)
    images = lambda count: rng.integers(0, 256, size=(count, *shape), dtype=np.uint8)
    label = f"{name} stand-in (random images)"
    source = data.DataSource(name, Path("stand-in"), "stand-in", label, False, "stand-in", "stand-in", n)
    labels = lambda count: rng.integers(0, data.NUM_CLASSES, size=count).astype(np.int64)
    return source, data.ImageData(
        name, images(n), labels(n), images(STAND_IN_TEST), labels(STAND_IN_TEST), "stand-in", label, False
    )


def _sources(chapter, part, cfg, data_dir, stand_in_data, loaded):
    """The data sources of ``part``: the archives, or stand-ins (put into ``loaded``, as if loaded already)."""
    if not stand_in_data:
        return chapter.sources(part, cfg, data_dir)
    made = {name: stand_in(name, n) for name, n in part.datasets(cfg).items()}
    loaded.update({source: images for source, images in made.values()})
    return {name: source for name, (source, _) in made.items()}


@contextlib.contextmanager
def step_limit(steps):
    """Within this block, the ``steps``-th progress tick (:func:`memo_utils.progress.rehearsal`), optimizer step,
    :class:`~memo_utils.engine.graphs.GraphedStep` call or ``torch.autograd.grad`` call ends the computation with
    :class:`~memo_utils.progress.RehearsalDone`: the CNN and DCGAN loops tick their progress per epoch, and LASS
    searches before any training, both long at the real sizes on a CPU. All are observed from outside (a global
    optimizer hook, wrapped calls), so no computing code changes; nothing is stopped while a CUDA graph is being
    captured."""
    count = {"optimizer step": 0, "training step": 0, "gradient step": 0}

    def counted(kind):
        count[kind] += 1
        capturing = torch.cuda.is_available() and torch.cuda.is_current_stream_capturing()
        if count[kind] >= steps and not capturing:
            raise RehearsalDone(f"{kind}s: stopped after {count[kind]} of them")

    call, grad = graphs.GraphedStep.__call__, torch.autograd.grad

    def graphed_call(self, *inputs):
        out = call(self, *inputs)
        counted("training step")
        return out

    def counted_grad(*args, **kwargs):
        out = grad(*args, **kwargs)
        counted("gradient step")
        return out

    handle = register_optimizer_step_post_hook(lambda *_: counted("optimizer step"))
    graphs.GraphedStep.__call__, torch.autograd.grad = graphed_call, counted_grad
    try:
        with rehearsal(steps):
            yield
    finally:
        graphs.GraphedStep.__call__, torch.autograd.grad = call, grad
        handle.remove()


def rehearse_cell(
    chapter_name: str,
    part_name: str,
    cell: Cell,
    cfg: Config,
    device: str | None,
    data_dir: str | None,
    stand_in_data: bool = False,
) -> tuple[str, str]:
    """Rehearse one cell (here, or on a Ray worker): its line and its outcome (one of :data:`OUTCOMES`). Its
    memory is checked against this machine's free memory; a cell too large for it is sliced."""
    chapter = experiments.get(chapter_name)
    part = chapter.part(part_name)
    device = devices.resolve(device)
    devices.configure_threads(device)
    cid = f"{chapter.name}/{cell_id(part.name, cell)}"
    free = memory.free(device)
    run_cfg, estimate = slice_to_fit(chapter, part, cell, cfg, free)
    whole = estimate if run_cfg is cfg else _estimate(chapter, part, cell, cfg)
    changes = ", ".join(f"{n} {cfg[n]} -> {run_cfg[n]}" for n in chapter.param_names if run_cfg[n] != cfg[n])
    if plan.HEADROOM * estimate > free:  # the estimate is a lower bound: running it could end in the OOM killer
        smallest = f" (even as a slice, {changes}: {_gib(estimate)})" if changes else ""
        return (
            f"{cid}: does not fit here: at least {_gib(whole)}{smallest}, {plan.HEADROOM}x that to be safe, "
            f"and {device} has {_gib(free)} free; rehearse it on a node like the cluster's",
            TOO_LARGE,
        )
    if device != "cpu":
        torch.cuda.reset_peak_memory_stats(device)
    start = time.perf_counter()
    loaded = {}
    try:
        sources = _sources(chapter, part, run_cfg, data_dir, stand_in_data, loaded)
        with step_limit(steps=2):
            chapter.compute_cell(part, cell, run_cfg, sources, device, loaded)
        how = "ran to the end (no training loop to stop)"
    except RehearsalDone as stop:
        how = str(stop)
    except InsufficientMemoryError as error:
        return f"{cid}: does not fit here: {error}", TOO_LARGE
    except Exception as error:  # noqa: BLE001 - a rehearsal reports every cell's failure, then goes on
        return f"{cid}: failed: {type(error).__name__}: {error}", FAILED
    if device != "cpu":
        peak = f"peak {torch.cuda.max_memory_allocated(device) / 2**30:,.2f} GiB allocated"
    else:  # the process's peak resident memory so far (Linux: KiB), an upper bound for this cell
        peak = f"process peak {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20:,.2f} GiB resident"
    seconds = time.perf_counter() - start
    on = " on stand-in data" if stand_in_data else ""
    if changes:
        return (
            f"{cid}: rehearsed a slice ({changes}){on} in {seconds:.1f} s ({how}); {peak}, plan's estimate for the "
            f"whole cell {_gib(whole)}, for the slice {_gib(estimate)}",
            SLICED,
        )
    return f"{cid}: rehearsed{on} in {seconds:.1f} s ({how}); {peak}, plan's estimate {_gib(whole)}", REHEARSED


def _scaled(values, ratio):
    """Each of ``values`` times ``ratio``, rounded down, kept increasing and at least one (a grid stays a grid),
    none above the largest scaled (a size stays below what it is relative to)."""
    out = []
    for v in values:
        out.append(max(int(v * ratio), out[-1] + 1 if out else 1))
    out[-1] = max(int(values[-1] * ratio), len(values))
    for i in range(len(out) - 2, -1, -1):
        out[i] = min(out[i], out[i + 1] - 1)
    return out


def claims_config(chapter: Chapter, cfg: Config) -> Config:
    """``cfg``'s grid at the smoke profile's sizes: every choice (a list of cells, seeds, noise levels or settings
    compared; a flag; a name; a zero, which turns a part off; a replicate seed; a :data:`MEASUREMENTS` count)
    keeps ``cfg``'s value, every other number (data, epochs, a network's width, models per ensemble) takes the
    smoke profile's, and every :data:`SCALED_LISTS` entry is scaled down with it (a :data:`PICKED` number with
    its list). It has ``cfg``'s cells, with any scaled size in their coordinates."""
    smoke, scaled, picked = chapter.config("smoke"), SCALED_LISTS.get(chapter.name, {}), PICKED.get(chapter.name, {})
    kept = {p.name for p in chapter.params if p.replicates} | set(MEASUREMENTS.get(chapter.name, ()))
    last = lambda v: v[-1] if isinstance(v, list) else v
    size = lambda n: isinstance(cfg[n], (int, float)) and not isinstance(cfg[n], bool) and cfg[n] and n not in kept
    settings = {n: smoke[n] if size(n) else cfg[n] for n in chapter.param_names}
    ratios = {n: last(smoke[to]) / last(cfg[to]) for n, to in scaled.items()}
    for name in scaled:
        settings[name] = _scaled(cfg[name], ratios[name])
    for name, values in picked.items():
        if cfg[name] in cfg[values]:  # the same pick
            settings[name] = settings[values][cfg[values].index(cfg[name])]
        else:  # scaled too, and still none of them
            settings[name] = max(1, int(cfg[name] * ratios[values]))
            while settings[name] in settings[values]:
                settings[name] += 1
    return chapter.config(cfg["profile"], **settings)


def rehearse_claims(chapter_name: str, cfg: Config, device: str | None, data_dir: str | None) -> tuple[str, str]:
    """Rehearse a chapter's claims code (here, or on a Ray worker): every cell of :func:`claims_config`, computed
    to the end and checked as the cache would store it, but not stored, then judged. It proves that the evidence
    finds each cell and seed of the profile's grid and runs each claim's code; a claim whose measurement needs
    the real sizes (enough SGD steps, say) comes out not measured, and its line names it. The verdicts mean nothing
    at these sizes and are only counted. It reads the data a smoke run reads (``data_dir``, else
    ``$MEMO_DATA_DIR``, else the sample bundled with the package). Returns its line and outcome, as
    :func:`rehearse_cell` does."""
    chapter = experiments.get(chapter_name)
    device = devices.resolve(device)
    devices.configure_threads(device)
    start, loaded, entries = time.perf_counter(), {}, []
    try:
        small = claims_config(chapter, cfg)
        for part, cell in chapter.cells(small):
            sources = chapter.sources(part, small, data_dir)
            arrays = cache.as_stored(chapter.compute_cell(part, cell, small, sources, device, loaded))
            meta = {"config": chapter.key(part, cell, small, sources=sources)[2], **chapter.meta_extra(part)}
            entries.append((part.name, cell, cache.Result(arrays, meta, from_cache=False)))
        results = Results(entries)
        judged = chapter.judge(results, small)
    except Exception as error:  # noqa: BLE001 - reported as a failed cell is, and the rehearsal goes on
        return f"{chapter.name}: claims rehearsal failed: {type(error).__name__}: {error}", FAILED
    unmeasured = [c.id for c in judged if not all(e.judgeable for e in c.estimates)]
    labels = ", ".join(sorted({label for part in results.data_labels().values() for label in part}))
    return (
        f"{chapter.name}: claims code reached: {len(judged)} claims judged on the {cfg['profile']} profile's grid "
        f"({len(entries)} cells) at the smoke profile's sizes ({labels or 'no data'}) in "
        f"{time.perf_counter() - start:.1f} s; {len(judged) - len(unmeasured)} measured"
        + (f", not measured at these sizes: {', '.join(unmeasured)}" if unmeasured else "")
        + f" ({claims.tally_text([c.as_dict() for c in judged])}: verdicts at these sizes mean nothing)",
        REHEARSED,
    )


def _call(fn, args):
    return fn(*args)


def run(
    chapters: list[tuple[Chapter, Config]],
    parts: list[str] | None,
    device: str | None,
    data_dir: str | None = None,
    stand_in_data: bool = False,
    ray_address: str | None = None,
    num_cpus: int | None = None,
) -> dict[str, int]:
    """Rehearse each selected cell of each (chapter, config) and, unless ``parts`` selects cells, each chapter's
    claims code (:func:`rehearse_claims`), here or (``ray_address``: "local" starts Ray here) as Ray tasks, all in
    one pool; print one line per cell (how it ran, its peak memory beside the plan's estimate, a lower bound; a cell
    too large for the free memory, even as its smallest slice, is only named) and per chapter's claims. Returns how
    many of them had each outcome."""
    cells = [
        (rehearse_cell, (chapter.name, part.name, cell, cfg, device, data_dir, stand_in_data))
        for chapter, cfg in chapters
        for part, cell in chapter.cells(cfg, parts)
    ]
    judged = [] if parts else [(rehearse_claims, (c.name, cfg, device, data_dir)) for c, cfg in chapters]
    if ray_address is None:
        outcomes = (_call(*job) for job in cells + judged)
    else:
        from . import cluster

        address = None if ray_address == "local" else ray_address
        outcomes = cluster.map_tasks(_call, cells + judged, address=address, num_cpus=num_cpus, device=device)
    tally = dict.fromkeys(OUTCOMES, 0)
    for line, outcome in outcomes:
        print(line, flush=True)
        tally[outcome] += 1
    names = ", ".join(chapter.name for chapter, _ in chapters)
    profiles = ", ".join(sorted({cfg["profile"] for _, cfg in chapters}))
    reached = f"claims code of {len(judged)} chapter(s) rehearsed" if judged else "claims code not rehearsed (--part)"
    print(
        f"{names}: rehearsal of the {profiles} profile wrote nothing; {len(cells)} cell(s) and {reached}: "
        f"{tally[FAILED]} failed, {tally[TOO_LARGE]} cell(s) do not fit here, {tally[SLICED]} cell(s) rehearsed as "
        "a slice (fewer models at once)"
    )
    return tally
