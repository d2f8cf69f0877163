"""Cells as Ray tasks (`run --ray`, memo_utils.cluster) on a local 2-CPU Ray instance: the cache they write is the
serial run's, bit for bit; a worker killed mid-cell is retried and leaves no partial entry; a cell that raises is
reported once while the others complete; a re-run computes nothing. And `plan` prices the missing cells."""

import os
import subprocess
import sys

import numpy as np
import pytest
from conftest import ROOT

pytest.importorskip("ray")
pytestmark = pytest.mark.slow  # each test starts a local Ray instance (about 20 s here)

CHAPTER = "loss_sensitivity"  # five small cells at smoke, MNIST only


def _run(*args, env_extra=None, timeout=600):
    env = dict(os.environ, OMP_NUM_THREADS="1", RAY_AUTH_MODE="disabled", **(env_extra or {}))
    env.pop("RAY_ADDRESS", None)
    return subprocess.run(
        [sys.executable, "-m", "memo_utils", *args], capture_output=True, text=True, cwd=ROOT, env=env, timeout=timeout
    )


def _entries(folder):
    """{key folder: {array name: array}} of every cache entry under ``folder``."""
    out = {}
    for meta in folder.rglob("meta.json"):
        with np.load(meta.parent / "arrays.npz") as arrays:
            out[meta.parent.relative_to(folder)] = {k: arrays[k] for k in arrays.files}
    return out


def test_cells_on_ray_match_a_serial_run_survive_a_killed_worker_and_are_not_recomputed(tmp_path):
    on_ray, serial, markers = tmp_path / "ray", tmp_path / "serial", tmp_path / "markers"
    markers.mkdir()
    env = {"MEMO_RESULTS_DIR": str(on_ray), "MEMO_RAY_EXIT_ONCE": str(markers)}
    done = _run("run", CHAPTER, "--profile", "smoke", "--ray", "--ray-cpus", "2", env_extra=env)
    assert done.returncode == 0, done.stderr[-3000:]
    cells = [line for line in done.stdout.splitlines() if "computed on Ray" in line]
    assert len(cells) == len(list(markers.iterdir())) >= 2  # every cell's worker died once, and was retried
    assert not list(on_ray.rglob(".tmp-*")) and "not at this scale" in done.stdout  # no partial entry; judged
    assert _run("run", CHAPTER, "--profile", "smoke", env_extra={"MEMO_RESULTS_DIR": str(serial)}).returncode == 0
    ray_entries, serial_entries = _entries(on_ray), _entries(serial)
    assert ray_entries.keys() == serial_entries.keys() and len(ray_entries) == len(cells)
    for key, arrays in serial_entries.items():
        assert arrays.keys() == ray_entries[key].keys()
        same = lambda a, b: a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()  # bit for bit
        assert all(same(arrays[k], ray_entries[key][k]) for k in arrays), key
    again = _run("run", CHAPTER, "--profile", "smoke", "--ray", "--ray-cpus", "2", env_extra=env)
    assert again.returncode == 0 and "computed on Ray" not in again.stdout and "ray" not in again.stderr.lower()


def test_a_cell_that_raises_is_reported_once_and_the_others_complete(tmp_path):
    listed = _run("parts", CHAPTER, "--profile", "smoke", env_extra={"MEMO_RESULTS_DIR": str(tmp_path)})
    cells = [line.split(":")[0] for line in listed.stdout.splitlines()[1:]]
    env = {"MEMO_RESULTS_DIR": str(tmp_path), "MEMO_RAY_RAISE": cells[0]}
    done = _run("run", CHAPTER, "--profile", "smoke", "--ray", "--ray-cpus", "2", env_extra=env)
    assert done.returncode == 1
    failed = [line for line in done.stderr.splitlines() if "failed on Ray" in line]
    assert failed == [
        f"{CHAPTER}/{cells[0]}: failed on Ray: RuntimeError: {cells[0]}: injected failure (MEMO_RAY_RAISE)"
    ]
    assert sum("computed on Ray" in line for line in done.stdout.splitlines()) == len(cells) - 1
    status = _run("parts", CHAPTER, "--profile", "smoke", env_extra={"MEMO_RESULTS_DIR": str(tmp_path)})
    assert [line.endswith("missing") for line in status.stdout.splitlines()[1:]] == [True] + [False] * (len(cells) - 1)


def test_plan_prices_every_missing_cell_and_totals_them(tmp_path):
    done = _run("plan", CHAPTER, "--profile", "smoke", "--gpus", "2", env_extra={"MEMO_RESULTS_DIR": str(tmp_path)})
    assert done.returncode == 0, done.stderr
    rows = [line for line in done.stdout.splitlines() if line.startswith(f"{CHAPTER}/")]
    assert rows and all(line.split(" | ")[-1] in ("0.125", "0.25", "0.5", "1") for line in rows)
    assert done.stdout.splitlines()[-1].startswith(f"total: {len(rows)} missing cells")


def test_a_rehearsal_on_ray_rehearses_every_cell_of_several_chapters_as_tasks_and_writes_nothing(tmp_path):
    done = _run(
        "run",
        CHAPTER,
        "easy_examples",
        "--profile",
        "smoke",
        "--rehearse",
        "--ray",
        "--ray-cpus",
        "2",
        env_extra={"MEMO_RESULTS_DIR": str(tmp_path)},
    )
    assert done.returncode == 0, done.stderr[-3000:]
    cells = set()
    for name in (CHAPTER, "easy_examples"):  # both chapters' cells in one pool of tasks
        listed = _run("parts", name, "--profile", "smoke", env_extra={"MEMO_RESULTS_DIR": str(tmp_path)})
        assert all(line.endswith("missing") for line in listed.stdout.splitlines()[1:])
        cells |= {f"{name}/{line.split(':')[0]}" for line in listed.stdout.splitlines()[1:]}
    rehearsed = {line.split(":")[0] for line in done.stdout.splitlines() if ": rehearsed in " in line}
    assert (
        rehearsed == cells
        and f"{len(cells)} cell(s) and claims code of 2 chapter(s) rehearsed: 0 failed" in done.stdout
    )
    assert all(f"{name}: claims code reached: " in done.stdout for name in (CHAPTER, "easy_examples"))
