"""The chapter contract: a chapter declares its settings and its cached computations once.

A chapter is a :class:`Chapter` built in its experiment module
(``memo_utils/experiments/<name>.py``) from

- :class:`Param`, one per setting: its validator, its value per profile, the paper's value,
  the note that explains a deviation, and the parts whose results it changes;
- :class:`Part`, one per cached computation: a version, a ``compute`` function, the datasets
  it reads and, optionally, independent *cells* (a dataset, a grid row), each its own cache
  entry, so that cells can be computed separately (``--part``) and on different machines;
- its claims, registered before any result exists (:mod:`memo_utils.framework.claims`): the networks it
  trains, the preconditions that make its setting able to test claims about them, the claims'
  definitions, and ``evidence(results, cfg)``, which measures them; :meth:`Chapter.judge` gives
  the verdicts, which a page and the command line save alike (:meth:`Chapter.save_claims`).

Everything else is derived from those declarations, so nothing can drift: the validated
config of a profile with overrides, each cell's cache key (exactly the parameters tagged with
its part, the cell's coordinates and the fingerprint of the data it reads), the settings
table, the command line's ``--set`` names, the parameter cell a page must declare, the
paper-profile guard and the page setup (:meth:`Chapter.page`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np

from .. import progress
from ..engine import data, devices, memory
from ..errors import ConfigError, DataUnavailableError
from . import cache, profiles
from . import claims as claims_module
from .costs import paper_estimate_sentence

RUNTIME = ("profile", "data_dir", "device", "recompute")  # options every chapter takes; no result depends on them

Config = dict[str, Any]  # a chapter's settings for one run: every parameter's value, and "profile"
Cell = dict[str, Any]  # the coordinates of one cell of a part, e.g. {"noise": "randX", "width": 256}
Arrays = dict[str, np.ndarray]  # what a part computes for one cell, and what the cache stores


@dataclass(frozen=True)
class Param:
    """One setting of a chapter.

    ``default`` is its value in every profile not named in ``by_profile``. ``parts`` names the
    parts whose results it changes: it goes into their cache keys and nowhere else.
    """

    name: str
    check: Callable[[str, Any], None]
    default: Any
    paper: str
    parts: tuple[str, ...]
    note: str = ""
    by_profile: dict[str, Any] = field(default_factory=dict)
    # the seed (or seed list) of a claim's replicates: shown with the claims, offset by --reseed
    replicates: bool = False

    def value(self, profile: str) -> Any:
        return self.by_profile.get(profile, self.default)


@dataclass(frozen=True)
class Part:
    """One cached computation: ``compute(cfg, cell, inputs, device) -> {name: array}``.

    ``datasets(cfg)`` maps each dataset the part reads to the training images it needs
    (``{"mnist": 10000}``); ``inputs`` holds them loaded. ``cells(cfg)`` lists the
    coordinates of its independent cells (one entry, ``{}``, when it has none). ``dims``
    names the dimensions of its arrays, for :meth:`Results.sel`; a dimension's coordinates
    are the array of the same name. ``work(cfg, cell)`` is its compute in arbitrary units
    (FLOPs up to a constant), to extrapolate costs between profiles; ``flops_per_work``, where
    the work counts multiply-accumulates, turns it into floating-point operations, so that
    ``plan`` can price a part no profile has measured at a GPU's data-sheet peak (a lower
    bound). ``memory(cfg, cell)``
    is the bytes it cannot do without on its device (:mod:`memo_utils.engine.memory`), checked
    before it computes. Bump ``version`` when the code changes its results.
    """

    name: str
    version: int
    compute: Callable[[Config, Cell, dict[str, Any], str], Arrays]
    datasets: Callable[[Config], dict[str, int]] = lambda cfg: {}
    cells: Callable[[Config], list[Cell]] = lambda cfg: [{}]
    dims: dict[str, tuple[str, ...]] = field(default_factory=dict)
    work: Callable[[Config, Cell], float] = lambda cfg, cell: 1.0
    flops_per_work: float | None = None
    memory: Callable[[Config, Cell], int] = lambda cfg, cell: 0


def cell_id(part: str, cell: Cell) -> str:
    """``mlp`` or ``mlp/dataset=randX``: how the command line and the cost page name a cell."""
    return "/".join([part] + [f"{k}={v}" for k, v in cell.items()])


class Results:
    """The cached arrays of a chapter's run, one :class:`cache.Result` per cell.

    Pages never build key strings: ``results.sel("mlp", "misclassified", dataset="randX")``
    picks the cell whose coordinates match and indexes the array's named dimensions by value.
    """

    def __init__(self, entries: list[tuple[str, Cell, cache.Result]]):
        self.entries = entries  # [(part name, cell coordinates, cache.Result)]

    def __iter__(self) -> Iterator[tuple[str, Cell, cache.Result]]:
        return iter(self.entries)

    def cell(self, part: str, **coords: Any) -> cache.Result:
        """The one cell of ``part`` whose coordinates include ``coords``."""
        found = [r for p, c, r in self.entries if p == part and all(c.get(k) == v for k, v in coords.items())]
        if len(found) != 1:
            raise KeyError(f"{len(found)} cells of part {part!r} match {coords}")
        return found[0]

    def sel(self, part: str, name: str, **coords: Any) -> np.ndarray:
        """Array ``name`` of ``part``, selected by cell coordinates and by named dimensions."""
        candidates = [
            (c, r) for p, c, r in self.entries if p == part and all(c[k] == v for k, v in coords.items() if k in c)
        ]
        for cell, result in candidates:
            dims = result.meta.get("dims", {}).get(name, ())
            wanted = {k: v for k, v in coords.items() if k not in cell}
            if set(wanted) <= set(dims) and all(_has(result[d], v) for d, v in wanted.items()):
                index = tuple(_position(result[d], wanted[d]) if d in wanted else slice(None) for d in dims)
                return result[name][index] if dims else result[name]
        raise KeyError(f"part {part!r} has no array {name!r} at {coords}")

    def sel_finite(self, part: str, name: str, **coords: Any) -> np.ndarray:
        """``sel`` as floats, with the runs whose ``finite`` flag is false set to nan: a diverged run is
        reported, never plotted or averaged. ``finite`` indexes the leading dimensions of ``name``."""
        values = self.sel(part, name, **coords).astype(float)
        finite = np.asarray(self.sel(part, "finite", **coords), dtype=bool)
        return np.where(finite.reshape(finite.shape + (1,) * (values.ndim - finite.ndim)), values, np.nan)

    def data_labels(self) -> dict[str, list[str]]:
        """What the figures call the data each part read, e.g. "CIFAR-10 (JPEG copy)"."""
        return {p: sorted({f["label"] for f in r.meta["config"]["data"].values()}) for p, _, r in self.entries}


def _has(coordinates, value):
    return bool(np.any(np.asarray(coordinates) == value))


def _position(coordinates, value):
    return int(np.flatnonzero(np.asarray(coordinates) == value)[0])


@dataclass(frozen=True)
class Chapter:
    """A chapter's declarations; every other piece (keys, tables, page setup) is derived."""

    name: str
    paper: str | None  # a key of claims.PAPERS; None for a chapter beyond the papers (listed apart)
    params: tuple[Param, ...]
    parts: tuple[Part, ...]
    claims: tuple[claims_module.Definition, ...]  # registered before the results
    evidence: Callable[[Results, Config], claims_module.Evidence]
    networks: dict[str, str] = field(default_factory=dict)  # name -> what the networks are, for the preconditions
    # each applying to every claim on its networks
    preconditions: tuple[claims_module.Precondition, ...] = ()
    check: Callable[[Config], None] = lambda cfg: None  # constraints between parameters, raising ConfigError

    def __post_init__(self):
        claims_module.check_declarations(self.name, self.networks, self.preconditions, self.claims)
        part_names = {p.name for p in self.parts}
        for param in self.params:
            if not param.parts or not set(param.parts) <= part_names:
                raise ValueError(
                    f"{self.name}: parameter {param.name} must name the parts it changes, "
                    f"among {sorted(part_names)} (got {param.parts})"
                )
            if param.name in RUNTIME:
                raise ValueError(f"{self.name}: {param.name} is a runtime option, not a parameter")

    @property
    def param_names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.params)

    def part(self, name: str) -> Part:
        for p in self.parts:
            if p.name == name:
                return p
        raise ConfigError(f"part={name!r} is not allowed: choose one of {', '.join(p.name for p in self.parts)}")

    def config(self, profile: str | None = None, **overrides: Any) -> Config:
        """The run's settings: ``profile``'s values, overridden by every keyword that is not None."""
        profile = profiles.default_profile() if profile is None else profile
        profiles.one_of(*profiles.PROFILES)("profile", profile)
        unknown = sorted(set(overrides) - set(self.param_names))
        if unknown:
            raise ConfigError(
                f"{unknown[0]} is not a parameter of {self.name}: choose from {', '.join(sorted(self.param_names))}"
            )
        cfg = {p.name: p.value(profile) for p in self.params}
        cfg.update({k: v for k, v in overrides.items() if v is not None})
        for p in self.params:
            p.check(p.name, cfg[p.name])
        cfg = json.loads(json.dumps(cfg, allow_nan=False))  # the form stored in the cache: tuples become lists
        self.check(cfg)
        return {**cfg, "profile": profile}

    def overridden(self, cfg: Config) -> list[str]:
        """Names whose value differs from the profile's."""
        profile_cfg = self.config(cfg["profile"])
        return [n for n in self.param_names if cfg[n] != profile_cfg[n]]

    def for_book(self, cfg: Config) -> bool:
        """Whether ``cfg`` is a run whose results the book shows: a profile meant to test claims, at its own
        settings or with only its seeds moved (:meth:`reseeded`). Only such runs write the tracked ``results/``
        (:func:`memo_utils.framework.cache.for_book`); smoke and override runs write into ``scratch/``."""
        return cfg["profile"] in claims_module.TESTED_PROFILES and (
            not self.overridden(cfg) or self.reseed_offset(cfg) is not None
        )

    def cells(self, cfg: Config, parts: list[str] | None = None) -> list[tuple[Part, Cell]]:
        """(part, cell coordinates) of every cached computation behind ``cfg``, or of those selected.

        ``parts`` holds part names or cell ids (``mlp/dataset=randX``).
        """
        every = [(p, c) for p in self.parts for c in p.cells(cfg)]
        if parts is None:
            return every
        ids = {cell_id(p.name, c) for p, c in every}
        for wanted in parts:
            if wanted not in ids and wanted not in {p.name for p in self.parts}:
                raise ConfigError(f"part={wanted!r} is not allowed: choose one of {', '.join(sorted(ids))}")
        return [(p, c) for p, c in every if p.name in parts or cell_id(p.name, c) in parts]

    def part_config(self, part: Part, cfg: Config) -> Config:
        """The settings ``part.compute`` sees: only the parameters tagged with the part, so that
        using an untagged one (which its cache key would not hold) fails loudly instead of
        serving stale results."""
        return {p.name: cfg[p.name] for p in self.params if part.name in p.parts}

    def sources(self, part: Part, cfg: Config, data_dir: str | None = None) -> dict[str, data.DataSource]:
        data.explicit_dir(data_dir)  # data_dir='' is refused, not read as unset
        return {name: data.source(name, min_train=n, data_dir=data_dir) for name, n in part.datasets(cfg).items()}

    def key(
        self,
        part: Part,
        cell: Cell,
        cfg: Config,
        data_dir: str | None = None,
        data_fingerprints: bool = True,
        sources: dict[str, data.DataSource] | None = None,
    ) -> tuple[str, int, dict]:
        """(cache experiment, version, config) of one cell: its part's parameters, its coordinates, its data
        (``sources`` when already resolved)."""
        params = self.part_config(part, cfg)
        if data_fingerprints:
            sources = self.sources(part, cfg, data_dir) if sources is None else sources
        fingerprints = {name: data.fingerprint(s) for name, s in sources.items()} if data_fingerprints else None
        return f"{self.name}/{part.name}", part.version, {"params": params, "cell": cell, "data": fingerprints}

    def lookup(self, part: Part, cell: Cell, cfg: Config, data_dir: str | None = None) -> cache.Result | None:
        """The cached result of one cell, or None.

        Without the data a cell reads, its key cannot be built; then, when no data source was given
        (neither ``data_dir`` nor ``$MEMO_DATA_DIR``), a cached result of the same settings is still found
        (committed GPU results render on a machine without the full datasets), as long as only one data
        source produced such results. An explicitly given source is used or refused, never replaced.
        """
        with cache.for_book(self.for_book(cfg)):
            return self._lookup(part, cell, cfg, data_dir)

    def _lookup(self, part: Part, cell: Cell, cfg: Config, data_dir: str | None) -> cache.Result | None:
        try:
            return cache.lookup(*self.key(part, cell, cfg, data_dir))
        except DataUnavailableError:
            if data.explicit_dir(data_dir):
                raise
            experiment, version, config = self.key(part, cell, cfg, data_dir, data_fingerprints=False)
            found = cache.matching(experiment, version, lambda c: {**c, "data": None} == config)
            if len(found) > 1:
                labels = sorted({f["label"] for r in found for f in r.meta["config"]["data"].values()})
                raise DataUnavailableError(
                    f"{self.name}/{cell_id(part.name, cell)}: results from several data "
                    f"sources are cached ({', '.join(labels)}) and no data source is given "
                    f"here: set data_dir to the one to use"
                ) from None
            return found[0] if found else None

    def status(self, cfg: Config, data_dir: str | None = None) -> list[tuple[str, cache.Result | None]]:
        """[(cell id, cache.Result or None)] for every cell: which are cached and which are missing."""
        return [(cell_id(p.name, c), self.lookup(p, c, cfg, data_dir)) for p, c in self.cells(cfg)]

    def missing(self, cfg: Config, data_dir: str | None = None) -> list[str]:
        return [cid for cid, hit in self.status(cfg, data_dir) if hit is None]

    def run(
        self,
        cfg: Config,
        *,
        device: str | None = None,
        data_dir: str | None = None,
        recompute: bool = False,
        parts: list[str] | None = None,
    ) -> Results:
        """The results of every cell of ``cfg`` (or of ``parts``), from the cache when present."""
        with cache.for_book(self.for_book(cfg)):
            return self._run(cfg, device, data_dir, recompute, parts)

    def _run(self, cfg, device, data_dir, recompute, parts):
        device = devices.resolve(device)
        loaded = {}  # each dataset is loaded once per run, and only if a cell must be computed
        entries = []
        for part, cell in self.cells(cfg, parts):
            try:
                sources = self.sources(part, cfg, data_dir)
            except DataUnavailableError:  # no data here, but perhaps results computed elsewhere (no source given)
                hit = None if recompute or data.explicit_dir(data_dir) else self.lookup(part, cell, cfg, data_dir)
                if hit is None:
                    raise
                entries.append((part.name, cell, hit))
                continue

            result = cache.cached(
                *self.key(part, cell, cfg, sources=sources),
                lambda part=part, cell=cell, sources=sources: self.compute_cell(
                    part, cell, cfg, sources, device, loaded
                ),
                device=device,
                recompute=recompute,
                meta_extra=self.meta_extra(part),
            )
            entries.append((part.name, cell, result))
        return Results(entries)

    def compute_cell(
        self,
        part: Part,
        cell: Cell,
        cfg: Config,
        sources: dict[str, data.DataSource],
        device: str,
        loaded: dict | None = None,
    ) -> dict[str, np.ndarray]:
        """One cell's arrays, computed without the cache, after checking its memory estimate against ``device``;
        each dataset is loaded once per ``loaded`` (a run's shared dict). The cache, a ``--jobs`` worker and a Ray
        task (:mod:`memo_utils.cluster`) all compute a cell here."""
        loaded = {} if loaded is None else loaded
        part_cfg = self.part_config(part, cfg)
        sizes = [p.name for p in self.params if part.name in p.parts and type(p.default) is int and not p.replicates]
        memory.check(
            part.memory(part_cfg, cell),
            device,
            f"{self.name}/{cell_id(part.name, cell)}",
            ", ".join(sizes) or "its sizes",
        )
        with progress.task(f"{self.name}/{cell_id(part.name, cell)}"):
            for s in sources.values():
                if s not in loaded:
                    loaded[s] = data.load_source(s)
            return part.compute(part_cfg, cell, {name: loaded[s] for name, s in sources.items()}, device)

    def meta_extra(self, part: Part) -> dict[str, Any]:
        """What a cell's cache entry records beside its arrays: its part's dimensions (for :meth:`Results.sel`)."""
        return {"dims": {k: list(v) for k, v in part.dims.items()}}

    def replicate_seeds(self, cfg: Config) -> dict[str, Any]:
        """{name: value} of the parameters that seed the replicates."""
        return {p.name: cfg[p.name] for p in self.params if p.replicates}

    def reseeded(self, cfg: Config, offset: int) -> dict[str, Any]:
        """``cfg``'s overrides with every replicate seed moved by ``offset``: a disjoint seed set, to check
        that the verdicts survive it."""
        shift = lambda v: [s + offset for s in v] if isinstance(v, list) else v + offset
        return {name: shift(value) for name, value in self.replicate_seeds(cfg).items()}

    def judge(self, results: Results, cfg: Config) -> list[claims_module.Claim]:
        """The chapter's claims, judged on ``results`` (:func:`memo_utils.framework.claims.judge`)."""
        labels = sorted({label for part_labels in results.data_labels().values() for label in part_labels})
        seeds = "; ".join(f"{name}={value}" for name, value in self.replicate_seeds(cfg).items())
        return claims_module.judge(
            self.claims,
            self.preconditions,
            self.evidence(results, cfg),
            profile=cfg["profile"],
            data=", ".join(labels),
            seeds=seeds,
            chapter=self.name,
        )

    def reseed_offset(self, cfg: Config) -> int | None:
        """The offset k when ``cfg`` is its profile's settings with every replicate seed moved by k (and nothing
        else changed), else None."""
        profile_cfg = self.config(cfg["profile"])
        names = list(self.replicate_seeds(cfg))
        if not names or set(self.overridden(cfg)) != set(names):
            return None
        first = (
            cfg[names[0]][0] - profile_cfg[names[0]][0]
            if isinstance(cfg[names[0]], list)
            else cfg[names[0]] - profile_cfg[names[0]]
        )
        return first if first and cfg == {**profile_cfg, **self.reseeded(profile_cfg, first)} else None

    def save_claims(self, results: Results, cfg: Config) -> tuple[list[claims_module.Claim], Path | None, str]:
        """Judge and save the verdicts for the claims page when ``cfg`` holds the profile's settings (a page and
        ``python -m memo_utils run`` write the same file), or the profile's with the seeds moved by k
        (:meth:`reseeded`: saved apart, to check that verdicts survive another seed set). Returns the claims,
        the file saved (None: not saved) and, when not saved, why."""
        judged = self.judge(results, cfg)
        with cache.for_book(self.for_book(cfg)):
            return self._save_claims(judged, cfg)

    def _save_claims(self, judged, cfg):
        offset = None if not self.overridden(cfg) else self.reseed_offset(cfg)
        if self.overridden(cfg) and offset is None:
            return (
                judged,
                None,
                (f"this run overrides {', '.join(self.overridden(cfg))} of the {cfg['profile']} profile"),
            )
        variant = "" if offset is None else f"{claims_module.RESEED}{offset}"
        try:
            return judged, claims_module.save(self.name, cfg["profile"], judged, variant=variant), ""
        except OSError as error:  # a read-only results folder: the verdicts are still shown
            return judged, None, f"the results folder cannot be written ({error.strerror or error})"

    def stop_unless_cached(self, cfg: Config, data_dir: str | None = None) -> None:
        """The paper profile is not run by accident: without cached results it stops with one line."""
        if cfg["profile"] == "paper" and self.missing(cfg, data_dir):
            raise ConfigError(
                f"profile='paper' is not run here: {paper_estimate_sentence(self)} Run it with "
                f"python -m memo_utils run {self.name} --profile paper --force on a GPU machine."
            )
