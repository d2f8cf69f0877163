"""Results cache: every expensive run is a pure function of its config.

An entry lives in ``results/<experiment>/<key>/`` where ``key`` hashes the experiment
name, its version and its config. It holds ``arrays.npz`` (numbers for figures and
claims, never checkpoints) and ``meta.json`` (config, versions, device, wall time, date,
and the SHA-256 of ``arrays.npz``). An entry is written into a temporary folder and
renamed into place, so an interrupted run leaves nothing half-written; an entry whose
meta does not parse, whose config differs or whose checksum fails is recomputed.
"""
from __future__ import annotations

import datetime
import hashlib
import json
import os
import platform
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from . import __version__


def results_dir():
    """``$MEMO_RESULTS_DIR``, else ``results/`` at the repository root."""
    env = os.environ.get("MEMO_RESULTS_DIR")
    return Path(env) if env else Path(__file__).resolve().parents[1] / "results"


def config_key(experiment, version, config):
    blob = json.dumps({"experiment": experiment, "version": version, "config": config}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


@dataclass
class Result:
    arrays: dict
    meta: dict
    from_cache: bool

    def __getitem__(self, name):
        return self.arrays[name]


def _sha256(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _read(entry, experiment, version, config):
    try:
        meta = json.loads((entry / "meta.json").read_text())
        if (meta["experiment"], meta["version"], meta["config"]) != (experiment, version, config):
            return None
        if _sha256(entry / "arrays.npz") != meta["arrays_sha256"]:
            return None
        with np.load(entry / "arrays.npz", allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
    except (OSError, ValueError, KeyError):
        return None
    return Result(arrays, meta, from_cache=True)


def device_name(device):
    device = torch.device(device)
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    return f"cpu ({platform.processor() or platform.machine()}, {torch.get_num_threads()} threads)"


def lookup(experiment, version, config):
    """The valid cache entry for ``config``, or None; never computes."""
    config = json.loads(json.dumps(config))
    return _read(results_dir() / experiment / config_key(experiment, version, config), experiment, version, config)


def cached(experiment, version, config, compute, *, device="cpu", recompute=False):
    """Return ``compute()``'s arrays for ``config``, from the cache when a valid entry exists.

    ``compute`` returns a dict of numpy arrays. ``config`` must be JSON-serialisable and
    hold everything the result depends on (not the device: a GPU result serves a CPU render).
    """
    if not recompute:
        hit = lookup(experiment, version, config)
        if hit is not None:
            return hit
    config = json.loads(json.dumps(config))  # normalise tuples to lists, as stored
    entry = results_dir() / experiment / config_key(experiment, version, config)
    start = time.perf_counter()
    arrays = {k: np.asarray(v) for k, v in compute().items()}
    wall = time.perf_counter() - start
    entry.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".tmp-{entry.name}-", dir=entry.parent))
    try:
        np.savez_compressed(tmp / "arrays.npz", **arrays)
        meta = {
            "experiment": experiment, "version": version, "config": config,
            "package_version": __version__, "torch_version": torch.__version__,
            "device": device_name(device), "wall_time_s": round(wall, 3),
            "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "arrays_sha256": _sha256(tmp / "arrays.npz"),
        }
        (tmp / "meta.json").write_text(json.dumps(meta, indent=1, sort_keys=True) + "\n")
        if entry.exists():
            shutil.rmtree(entry)
        os.replace(tmp, entry)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return Result(arrays, meta, from_cache=False)


def write_json_atomic(path, obj):
    """Write JSON so that a reader sees the old file or the new one, never a torn one."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    with os.fdopen(fd, "w") as f:
        json.dump(obj, f, indent=1, sort_keys=True)
        f.write("\n")
    os.replace(tmp, path)
