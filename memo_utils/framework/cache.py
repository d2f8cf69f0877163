"""Results cache: every expensive run is a pure function of its config.

An entry lives in ``results/<experiment>/<key>/`` where ``key`` hashes the experiment
name, its version and its config. Only the book's own runs (a profile's settings, see
:func:`for_book`) write into the tracked ``results/``; every other run (smoke, overrides)
writes into the git-ignored ``scratch/`` and reads both, so that no tweak leaves an
untracked file in ``results/``. ``$MEMO_RESULTS_DIR`` replaces both. It holds ``arrays.npz`` (numbers for figures and
claims, never checkpoints) and ``meta.json`` (config, versions, device, wall time, date,
and the SHA-256 of ``arrays.npz``). An entry whose meta does not parse to an object,
whose config differs or whose checksum fails is recomputed, never served.

Writes are safe against interruption and against concurrent writers: an entry is
written into ``.tmp-<pid>-<key>-*`` beside it, then swapped into place by two renames
under a per-entry lock file ``.<key>.lock`` (``filelock``). Readers take no lock on the
fast path; what they read is checked against the checksum, and a miss is read again
under the lock, so a reader never gets a half-written entry nor a spurious miss in the
middle of a swap. A process killed before it could clean up (SIGTERM, power loss) leaves
a ``.tmp-*`` folder; the next write to that folder removes it once its process is dead.
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime
import hashlib
import io
import json
import os
import re
import shutil
import tempfile
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np
import torch
from filelock import FileLock

from .. import __version__
from ..engine import devices
from ..errors import ResultsUnwritableError

# A temporary folder whose process still runs is left alone for this long: past it the
# pid has likely been reused by an unrelated process (or the writer is on another host).
STALE_TMP_AGE_S = 3600
_TMP_PID = re.compile(r"\.tmp-(\d+)-")
_TMP_OLD = re.compile(r"\.tmp-\d+-([0-9a-f]{16})-.*-old$")  # an entry moved aside for a swap (see cached)
# Keys cached() itself writes; meta_extra may not shadow them, or an entry could lie about itself.
_CORE_META = frozenset(
    {
        "experiment",
        "version",
        "config",
        "package_version",
        "torch_version",
        "device",
        "wall_time_s",
        "date",
        "arrays_sha256",
    }
)


TRACKED = Path(__file__).resolve().parents[2] / "results"  # the book's results, committed
SCRATCH = Path(__file__).resolve().parents[2] / "scratch"  # every other run's, git-ignored
_BOOK_RUN = contextvars.ContextVar("book_run", default=False)


@contextlib.contextmanager
def for_book(book: bool) -> Iterator[None]:
    """Within this block, results are written into the tracked ``results/`` when ``book`` (a run of a profile's
    own settings, whose results the book shows) and into ``scratch/`` otherwise."""
    token = _BOOK_RUN.set(book)
    try:
        yield
    finally:
        _BOOK_RUN.reset(token)


def results_dir() -> Path:
    """Where results are written: ``$MEMO_RESULTS_DIR``, else ``results/`` for the book's runs and ``scratch/``
    for any other (:func:`for_book`)."""
    env = os.environ.get("MEMO_RESULTS_DIR")
    return Path(env) if env else TRACKED if _BOOK_RUN.get() else SCRATCH


def read_path(relative: str | Path) -> Path:
    """The first existing ``relative`` file among the folders results are read from (see :func:`read_dirs`),
    or where it would be written: claims and timings read through ``make lab``'s base as cache entries do."""
    for folder in read_dirs():
        if (folder / relative).exists():
            return folder / relative
    return results_dir() / relative


def read_dirs() -> list[Path]:
    """Where results are looked up: ``results_dir()``; for a run that is not the book's, the tracked ``results/``
    too; then ``$MEMO_RESULTS_BASE`` if set, a folder that is only read (``make lab`` reads the committed
    ``results/`` and writes a reader's runs into an ignored folder, so that no tweak changes a tracked file).
    A book run never reads ``scratch/``: what it finds missing it computes into ``results/``."""
    base = os.environ.get("MEMO_RESULTS_BASE")
    dirs = [results_dir()]
    if not os.environ.get("MEMO_RESULTS_DIR") and not _BOOK_RUN.get():
        dirs.append(TRACKED)
    if base and Path(base).resolve() not in {d.resolve() for d in dirs}:
        dirs.append(Path(base))
    return dirs


def config_key(experiment: str, version: int, config: dict) -> str:
    blob = json.dumps({"experiment": experiment, "version": version, "config": config}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


@dataclass
class Result:
    arrays: dict[str, np.ndarray]
    meta: dict
    from_cache: bool

    def __getitem__(self, name: str) -> np.ndarray:
        return self.arrays[name]


def _sha256(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _as_json(obj):
    """``obj`` as it reads back from JSON (tuples become lists); NaN or infinity raise
    ValueError here, before any compute, since they would be written as invalid JSON."""
    return json.loads(json.dumps(obj, allow_nan=False))


def _read(entry, experiment, version, config):
    """The entry if its meta matches and its arrays pass the checksum, else None.

    The arrays are hashed and loaded from the same bytes, so a concurrent swap between
    the check and the load cannot slip unchecked arrays through.
    """
    try:
        meta = json.loads((entry / "meta.json").read_text())
        if not isinstance(meta, dict):
            return None
        if (meta["experiment"], meta["version"], meta["config"]) != (experiment, version, config):
            return None
        data = (entry / "arrays.npz").read_bytes()
        if hashlib.sha256(data).hexdigest() != meta["arrays_sha256"]:
            return None
        with np.load(io.BytesIO(data), allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
    except (OSError, ValueError, KeyError, TypeError, EOFError, zipfile.BadZipFile):
        return None
    return Result(arrays, meta, from_cache=True)


def _lock(entry):
    # Held only for the two renames of a swap, so a short poll interval costs little.
    return FileLock(entry.parent / f".{entry.name}.lock", poll_interval=0.005)


def _read_settled(entry, experiment, version, config):
    """``_read``, and on a miss once more under the entry's lock: a writer may have been
    between its two renames, which would otherwise cost a needless recompute."""
    hit = _read(entry, experiment, version, config)
    if hit is None and entry.parent.is_dir():
        try:
            with _lock(entry):
                hit = _read(entry, experiment, version, config)
        except OSError:  # a read-only results folder: no lock file can be made, nor a swap happen
            pass
    return hit


def _pid_alive(pid):
    if pid == os.getpid():
        return True  # perhaps another thread's write in progress
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True  # another user's process, or not a pid we can judge: leave it to the age rule
    return True


def _remove_stale_tmp(folder):
    """Remove ``.tmp-*`` left in ``folder`` by writers killed before their cleanup ran:
    those whose pid is dead, and any older than ``STALE_TMP_AGE_S``."""
    now = time.time()
    for path in Path(folder).glob(".tmp-*"):
        match = _TMP_PID.match(path.name)
        try:
            age = now - path.lstat().st_mtime
        except FileNotFoundError:
            continue  # another writer removed it first
        dead = match is not None and int(match.group(1)) > 0 and not _pid_alive(int(match.group(1)))
        if (dead or age > STALE_TMP_AGE_S) and _recovered(path):
            continue
        if dead or age > STALE_TMP_AGE_S:
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)


def _recovered(path):
    """Put back an entry that a writer killed between the two renames of its swap left moved aside (``-old``),
    unless a newer entry took its place meanwhile. True if ``path`` was such a copy and is dealt with."""
    old = _TMP_OLD.match(path.name)
    if old is None or not path.is_dir():
        return False
    entry = path.parent / old.group(1)
    with _lock(entry):
        if not entry.exists():
            os.replace(path, entry)
            return True
    return False


def _writable(folder):
    """Refuse, before any compute, a results folder that cannot be written (read-only, missing permission)."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=_tmp_prefix("probe"), dir=folder)
        os.close(fd)
        os.unlink(probe)
    except OSError as error:
        raise ResultsUnwritableError(
            f"the results folder {folder} is not writable ({error.strerror or error}): "
            f"set MEMO_RESULTS_DIR to a writable folder"
        ) from None


def _rescued(arrays, entry, error):
    """Keep computed arrays in a temporary file when their entry cannot be written (a full disk), and say where."""
    try:
        fd, rescue = tempfile.mkstemp(prefix=f"memo-{entry.name}-", suffix=".npz")
        with os.fdopen(fd, "wb") as f:
            np.savez_compressed(f, **arrays)
        kept = f"the computed arrays are kept in {rescue}"
    except OSError:
        kept = "the computed arrays could not be kept either"
    return ResultsUnwritableError(f"could not write the cache entry {entry} ({error.strerror or error}): {kept}")


def _umask():
    """The process's umask: entries take the modes it allows, as any other file would (mkdtemp gives 0700)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _tmp_prefix(name):
    return f".tmp-{os.getpid()}-{name}-"


def lookup(experiment: str, version: int, config: dict) -> Result | None:
    """The valid cache entry for ``config``, or None; never computes."""
    config = _as_json(config)
    key = config_key(experiment, version, config)
    written, *bases = read_dirs()
    hit = _read_settled(written / experiment / key, experiment, version, config)
    for base in bases:  # only read: no lock file is made there (nothing writes to it)
        hit = hit or _read(base / experiment / key, experiment, version, config)
    return hit


def matching(experiment: str, version: int, accept: Callable[[dict], bool]) -> list[Result]:
    """Every valid entry of ``experiment`` at ``version`` whose config satisfies ``accept(config)``.

    For reading results whose full key cannot be built here, for example committed GPU
    results whose data archive this machine does not have.
    """
    found, seen = [], set()
    folders = [d / experiment for d in read_dirs()]
    for entry in [e for f in folders if f.is_dir() for e in sorted(f.iterdir())]:
        if entry.name in seen:  # the written folder's entry shadows the base's
            continue
        try:
            config = json.loads((entry / "meta.json").read_text())["config"]
        except (OSError, ValueError, KeyError, TypeError):
            continue
        if accept(config):
            hit = _read(entry, experiment, version, config)
            if hit is not None:
                found.append(hit)
                seen.add(entry.name)
    return found


def cached(
    experiment: str,
    version: int,
    config: dict,
    compute: Callable[[], dict[str, np.ndarray]],
    *,
    device: str = "cpu",
    recompute: bool = False,
    meta_extra: dict | None = None,
) -> Result:
    """Return ``compute()``'s arrays for ``config``, from the cache when a valid entry exists.

    ``compute`` returns a dict of numpy arrays (no object arrays: they would need pickles).
    ``config`` must be JSON-serialisable with finite numbers and hold everything the result
    depends on (not the device: a GPU result serves a CPU render). ``meta_extra`` is stored
    in the meta for provenance (e.g. data or source fingerprints) but is not part of the key.
    Concurrent calls for the same key are safe; the last writer's entry wins.
    """
    config = _as_json(config)  # normalise tuples to lists, as stored
    _extra(meta_extra)  # a bad one is refused before any compute
    if not recompute:
        hit = lookup(experiment, version, config)
        if hit is not None:
            return hit
    _writable(results_dir() / experiment)
    start = time.perf_counter()
    arrays = compute()
    wall = time.perf_counter() - start
    return store(
        experiment, version, config, arrays, wall_time_s=wall, device_name=devices.name(device), meta_extra=meta_extra
    )


def _extra(meta_extra):
    """``meta_extra`` as stored; refused if it would shadow a key the cache writes itself."""
    extra = _as_json(meta_extra or {})
    if not isinstance(extra, dict) or _CORE_META & extra.keys():
        raise ValueError(f"meta_extra must be a dict without the keys {sorted(_CORE_META)}")
    return extra


def as_stored(arrays: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """``arrays`` as an entry holds them: numpy arrays, refused if they hold Python objects (only a pickle could
    store those). A result made without the cache (a rehearsal) passes the same check."""
    arrays = {k: np.asarray(v) for k, v in arrays.items()}
    for name, value in arrays.items():
        if value.dtype.hasobject:
            raise TypeError(f"array {name!r} holds Python objects; it could only be stored as a pickle")
    return arrays


def store(
    experiment: str,
    version: int,
    config: dict,
    arrays: dict[str, np.ndarray],
    *,
    wall_time_s: float,
    device_name: str,
    meta_extra: dict | None = None,
) -> Result:
    """Write ``arrays``, computed in ``wall_time_s`` on the device named ``device_name`` (by :func:`cached`, or
    elsewhere: a Ray worker, :mod:`memo_utils.cluster`), as the entry of ``config``, atomically."""
    config, extra, arrays = _as_json(config), _extra(meta_extra), as_stored(arrays)
    entry = results_dir() / experiment / config_key(experiment, version, config)
    _writable(entry.parent)
    try:
        return _write_entry(entry, experiment, version, config, arrays, wall_time_s, device_name, extra)
    except OSError as error:
        raise _rescued(arrays, entry, error) from None


def _write_entry(entry, experiment, version, config, arrays, wall, device_name, extra):
    """Write ``arrays`` and their meta into ``entry`` atomically: into a temporary folder, then swapped in."""
    entry.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale_tmp(entry.parent)
    tmp = Path(tempfile.mkdtemp(prefix=_tmp_prefix(entry.name), dir=entry.parent))
    os.chmod(tmp, 0o777 & ~_umask())
    old = tmp.with_name(tmp.name + "-old")  # same pid prefix: a killed writer's copy is put back (_recovered)
    try:
        np.savez_compressed(tmp / "arrays.npz", **arrays)
        meta = {
            "experiment": experiment,
            "version": version,
            "config": config,
            "package_version": __version__,
            "torch_version": torch.__version__,
            "device": device_name,
            "wall_time_s": round(wall, 3),
            "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "arrays_sha256": _sha256(tmp / "arrays.npz"),
            **extra,
        }
        (tmp / "meta.json").write_text(json.dumps(meta, indent=1, sort_keys=True, allow_nan=False) + "\n")
        # A directory cannot be renamed onto a non-empty one: move the old entry aside, then
        # put the new one in its place. The lock keeps another writer out of that gap.
        with _lock(entry):
            try:
                if entry.exists():
                    os.replace(entry, old)
                os.replace(tmp, entry)
            finally:
                if old.exists() and not entry.exists():  # interrupted in the gap: keep the old entry
                    try:
                        os.replace(old, entry)
                    except OSError:
                        pass
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.rmtree(old, ignore_errors=True)
    return Result(arrays, meta, from_cache=False)


def update_json(path: Path, change: Callable[[Any], Any], default: Any) -> Any:
    """Read-modify-write a JSON file under a lock beside it (``.<name>.lock``), so that processes updating it
    at once lose no update: ``change(current)`` returns the new content (``default`` when the file is
    missing or unreadable)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(path.parent / f".{path.name}.lock"):
        try:
            current = json.loads(path.read_text())
        except (OSError, ValueError):
            current = default
        write_json_atomic(path, change(current))


def write_json_atomic(path: Path, obj: Any) -> None:
    """Write JSON so that a reader sees the old file or the new one, never a torn one.

    NaN and infinity raise ValueError before anything is written: JSON has no such values.
    """
    path = Path(path)
    text = json.dumps(obj, indent=1, sort_keys=True, allow_nan=False) + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale_tmp(path.parent)
    fd, tmp = tempfile.mkstemp(prefix=_tmp_prefix(path.name), suffix=".part", dir=path.parent)
    os.chmod(tmp, 0o666 & ~_umask())
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
