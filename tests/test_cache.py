import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from memo_utils.framework import cache

ROOT = Path(__file__).resolve().parents[1]


def _compute(counter, value=1.0):
    def compute():
        counter.append(1)
        return {"x": np.full(3, value)}

    return compute


def _entry(results, config, experiment="exp", version=1):
    # Not next(iterdir()): the experiment folder also holds the entries' lock files.
    return results / experiment / cache.config_key(experiment, version, config)


def _leftovers(results):
    return sorted(p.name for p in results.rglob(".tmp-*"))


def test_a_second_call_reads_the_cache_and_records_metadata():
    calls = []
    first = cache.cached("exp", 1, {"a": 1}, _compute(calls))
    second = cache.cached("exp", 1, {"a": 1}, _compute(calls))
    assert len(calls) == 1 and not first.from_cache and second.from_cache
    np.testing.assert_array_equal(second["x"], first["x"])
    for key in ("config", "device", "wall_time_s", "date", "torch_version", "package_version"):
        assert key in second.meta


def test_a_different_config_or_version_is_a_different_entry():
    calls = []
    cache.cached("exp", 1, {"a": 1}, _compute(calls))
    cache.cached("exp", 1, {"a": 2}, _compute(calls))
    cache.cached("exp", 2, {"a": 1}, _compute(calls))
    assert len(calls) == 3


def test_a_corrupt_entry_is_recomputed(isolated_results):
    calls = []
    cache.cached("exp", 1, {"a": 1}, _compute(calls))
    entry = _entry(isolated_results, {"a": 1})
    (entry / "arrays.npz").write_bytes(b"not a zip file")
    again = cache.cached("exp", 1, {"a": 1}, _compute(calls, 2.0))
    assert len(calls) == 2 and not again.from_cache and again["x"][0] == 2.0
    (entry / "meta.json").write_text("{ truncated")
    assert not cache.cached("exp", 1, {"a": 1}, _compute(calls)).from_cache


def test_an_interrupted_run_leaves_no_entry_and_no_temporary_folder(isolated_results):
    def crash():
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        cache.cached("exp", 1, {"a": 1}, crash)
    assert not (isolated_results / "exp").exists() or not any((isolated_results / "exp").iterdir())


def test_recompute_ignores_a_valid_entry():
    calls = []
    cache.cached("exp", 1, {"a": 1}, _compute(calls))
    assert not cache.cached("exp", 1, {"a": 1}, _compute(calls), recompute=True).from_cache
    assert len(calls) == 2


def test_arrays_are_stored_without_pickles(isolated_results):
    cache.cached("exp", 1, {"a": 1}, lambda: {"label": np.array("MNIST")})
    entry = _entry(isolated_results, {"a": 1})
    with np.load(entry / "arrays.npz", allow_pickle=False) as npz:
        assert str(npz["label"]) == "MNIST"
    assert json.loads((entry / "meta.json").read_text())["config"] == {"a": 1}


@pytest.mark.parametrize("text", ["null", "[]", '"x"', "1", "{}"])
def test_a_meta_that_is_not_a_full_object_is_recomputed(isolated_results, text):
    calls = []
    cache.cached("exp", 1, {"a": 1}, _compute(calls))
    (_entry(isolated_results, {"a": 1}) / "meta.json").write_text(text)
    assert cache.lookup("exp", 1, {"a": 1}) is None
    again = cache.cached("exp", 1, {"a": 1}, _compute(calls, 2.0))
    assert len(calls) == 2 and not again.from_cache and again["x"][0] == 2.0
    assert cache.cached("exp", 1, {"a": 1}, _compute(calls)).from_cache


def test_valid_arrays_that_fail_the_checksum_are_recomputed(isolated_results):
    calls = []
    cache.cached("exp", 1, {"a": 1}, _compute(calls))
    np.savez_compressed(_entry(isolated_results, {"a": 1}) / "arrays.npz", x=np.full(3, 7.0))  # meta untouched
    assert cache.lookup("exp", 1, {"a": 1}) is None
    again = cache.cached("exp", 1, {"a": 1}, _compute(calls, 2.0))
    assert len(calls) == 2 and not again.from_cache and again["x"][0] == 2.0


def test_non_finite_numbers_fail_before_anything_is_written(isolated_results):
    calls = []
    with pytest.raises(ValueError):
        cache.cached("exp", 1, {"a": float("nan")}, _compute(calls))
    with pytest.raises(ValueError):
        cache.cached("exp", 1, {"a": 1}, _compute(calls), meta_extra={"loss": float("inf")})
    with pytest.raises(ValueError):
        cache.write_json_atomic(isolated_results / "claims" / "c.json", [{"value": float("-inf")}])
    assert not calls and not isolated_results.exists()


def test_meta_extra_is_stored_but_cannot_shadow_the_core_meta(isolated_results):
    stored = cache.cached("exp", 1, {"a": 1}, _compute([]), meta_extra={"data_sha256": "abc"})
    assert stored.meta["data_sha256"] == "abc"
    assert cache.lookup("exp", 1, {"a": 1}).meta["data_sha256"] == "abc"
    with pytest.raises(ValueError):
        cache.cached("exp", 1, {"a": 2}, _compute([]), meta_extra={"arrays_sha256": "0" * 64})


def test_object_arrays_are_refused_rather_than_never_read_back():
    with pytest.raises(TypeError):
        cache.cached("exp", 1, {"a": 1}, lambda: {"x": np.array([{"a": 1}], dtype=object)})


def _raise_on_call(monkeypatch, owner, name, n):
    """Make ``owner.name`` raise KeyboardInterrupt on its ``n``-th call, as a Ctrl-C there would."""
    real, count = getattr(owner, name), []

    def patched(*args, **kwargs):
        count.append(1)
        if len(count) == n:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(owner, name, patched)


@pytest.mark.parametrize(
    "owner, name, n",
    [
        (np, "savez_compressed", 1),  # while the arrays are written into the temporary folder
        (os, "replace", 1),  # before the old entry is moved aside
        (os, "replace", 2),  # between moving the old entry aside and putting the new one in place
    ],
)
def test_an_interrupted_write_keeps_the_old_entry_and_leaves_no_temporary_folder(
    isolated_results, monkeypatch, owner, name, n
):
    cache.cached("exp", 1, {"a": 1}, _compute([], 1.0))
    with monkeypatch.context() as patch, pytest.raises(KeyboardInterrupt):
        _raise_on_call(patch, owner, name, n)
        cache.cached("exp", 1, {"a": 1}, _compute([], 2.0), recompute=True)
    assert _leftovers(isolated_results) == []
    assert cache.lookup("exp", 1, {"a": 1})["x"][0] == 1.0


def _dead_pid():
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_a_write_removes_temporary_folders_of_dead_or_long_gone_writers(isolated_results):
    folder = isolated_results / "exp"
    folder.mkdir(parents=True)
    dead = folder / f".tmp-{_dead_pid()}-0123456789abcdef-killed"
    ancient = folder / f".tmp-{os.getppid()}-0123456789abcdef-ancient"  # a live pid, but a day old
    running = folder / f".tmp-{os.getppid()}-0123456789abcdef-running"  # a live writer: keep it
    for tmp in (dead, ancient, running):
        tmp.mkdir()
        (tmp / "arrays.npz").write_bytes(b"half")
    day_ago = time.time() - 86400
    os.utime(ancient, (day_ago, day_ago))
    cache.cached("exp", 1, {"a": 1}, _compute([]))
    assert _leftovers(isolated_results) == [running.name]


def test_write_json_atomic_removes_a_dead_writers_temporary_file(isolated_results):
    folder = isolated_results / "claims"
    folder.mkdir(parents=True)
    (folder / f".tmp-{_dead_pid()}-c.json-x.part").write_text("[")
    cache.write_json_atomic(folder / "c.json", [1])
    assert sorted(p.name for p in folder.iterdir()) == ["c.json"]


_WRITER = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    import numpy as np
    from memo_utils.framework import cache

    me, n, sync = int(sys.argv[1]), int(sys.argv[2]), Path(sys.argv[3])
    (sync / f"ready-{me}").touch()
    while not (sync / "go").exists():
        time.sleep(0.005)
    for i in range(n):
        cache.cached("exp", 1, {"a": 1}, lambda: {"x": np.full(1000, float(me))}, recompute=True)
        hit = cache.lookup("exp", 1, {"a": 1})
        assert hit is not None, "a reader missed the entry during a concurrent write"
        assert len(set(hit["x"].tolist())) == 1, "a reader saw a mixed entry"
""")


@pytest.mark.slow  # three python subprocesses
def test_concurrent_writers_of_one_key_neither_fail_nor_tear_the_entry(isolated_results, tmp_path):
    writers, n = 3, 100
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=str(ROOT))
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _WRITER, str(me), str(n), str(tmp_path)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for me in range(writers)
    ]
    try:
        deadline = time.time() + 120
        while len(list(tmp_path.glob("ready-*"))) < writers and time.time() < deadline:
            if any(p.poll() is not None for p in procs):
                break
            time.sleep(0.01)
        (tmp_path / "go").touch()  # start together, after each has paid for importing torch
        outcomes = [(p.wait(timeout=120), p.communicate()[1]) for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
    assert [rc for rc, _ in outcomes] == [0] * writers, "\n".join(err for _, err in outcomes)
    final = cache.lookup("exp", 1, {"a": 1})
    assert final is not None and final["x"][0] in range(writers) and len(set(final["x"].tolist())) == 1
    assert _leftovers(isolated_results) == []


def test_a_read_only_base_serves_its_entries_and_new_ones_go_to_the_written_folder(tmp_path, monkeypatch):
    base, written = tmp_path / "committed", tmp_path / "mine"
    monkeypatch.setenv("MEMO_RESULTS_DIR", str(base))
    calls = []
    cache.cached("exp", 1, {"a": 1}, _compute(calls))
    before = sorted(str(p.relative_to(base)) for p in base.rglob("*"))
    monkeypatch.setenv("MEMO_RESULTS_DIR", str(written))
    monkeypatch.setenv("MEMO_RESULTS_BASE", str(base))
    assert cache.cached("exp", 1, {"a": 1}, _compute(calls)).from_cache and len(calls) == 1
    assert len(cache.matching("exp", 1, lambda config: True)) == 1
    assert not cache.cached("exp", 1, {"a": 2}, _compute(calls)).from_cache and len(calls) == 2
    assert _entry(written, {"a": 2}).is_dir() and not _entry(base, {"a": 2}).exists()
    assert sorted(str(p.relative_to(base)) for p in base.rglob("*")) == before  # not even a lock file
    assert len(cache.matching("exp", 1, lambda config: True)) == 2


def test_claims_and_timings_are_read_through_the_base_and_written_to_the_written_folder(tmp_path, monkeypatch):
    from memo_utils.framework import claims, costs

    base, written = tmp_path / "committed", tmp_path / "mine"
    monkeypatch.setenv("MEMO_RESULTS_DIR", str(base))
    claim = {"id": "x", "paper": "arpit2017", "verdict": "reproduced", "fingerprint": "0123"}
    claims.save("ch", "cpu", [claim])
    costs.record_wall_time("cpu", "ch", 12.0, "how")
    monkeypatch.setenv("MEMO_RESULTS_DIR", str(written))
    monkeypatch.setenv("MEMO_RESULTS_BASE", str(base))
    assert [c["id"] for c in claims.load_largest(["ch"])] == ["x"]
    assert costs.recorded_wall_times()["cpu"]["ch"]["how"]["seconds"] == 12.0
    claims.save("ch", "smoke", [claim])
    assert (written / "claims" / "ch" / "smoke.json").exists() and not (base / "claims" / "ch" / "smoke.json").exists()


def test_an_entry_moved_aside_by_a_writer_killed_mid_swap_is_put_back_not_deleted(isolated_results):
    """A kill between the swap's two renames leaves no entry and the old one in ``.tmp-<pid>-<key>-*-old``; the
    next write to the folder, even for another key, recovers it."""
    cache.cached("exp", 1, {"a": 1}, _compute([], 1.0))
    entry = _entry(isolated_results, {"a": 1})
    entry.rename(entry.parent / f".tmp-{_dead_pid()}-{entry.name}-x1y2-old")
    assert cache.lookup("exp", 1, {"a": 1}) is None
    cache.cached("exp", 1, {"b": 2}, _compute([]))
    assert cache.lookup("exp", 1, {"a": 1})["x"][0] == 1.0 and _leftovers(isolated_results) == []


def test_an_unwritable_results_folder_is_one_line_before_any_compute(tmp_path, monkeypatch):
    from memo_utils.errors import ResultsUnwritableError

    blocker = tmp_path / "a-file"
    blocker.write_text("")
    monkeypatch.setenv("MEMO_RESULTS_DIR", str(blocker / "results"))  # cannot be created, even by root
    calls = []
    with pytest.raises(ResultsUnwritableError, match="is not writable .*set MEMO_RESULTS_DIR to a writable folder"):
        cache.cached("exp", 1, {"a": 1}, _compute(calls))
    assert calls == []


def test_a_write_that_fails_after_the_compute_keeps_the_arrays_and_names_the_file(isolated_results, monkeypatch):
    import errno

    from memo_utils.errors import ResultsUnwritableError

    def full_disk(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(cache, "_write_entry", full_disk)
    with pytest.raises(ResultsUnwritableError, match="No space left on device") as error:
        cache.cached("exp", 1, {"a": 1}, _compute([], 7.0))
    kept = Path(str(error.value).rsplit("kept in ", 1)[1])
    with np.load(kept) as arrays:
        assert arrays["x"].tolist() == [7.0] * 3
    kept.unlink()


_UPDATER = textwrap.dedent("""
    import sys
    from memo_utils.framework import costs
    for i in range(20):
        costs.record_wall_time("cpu", f"chapter{sys.argv[1]}", float(i), f"way{i}")
""")


@pytest.mark.slow  # python subprocesses
def test_concurrent_updates_of_the_timings_lose_nothing(isolated_results):
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=str(ROOT))
    procs = [subprocess.Popen([sys.executable, "-c", _UPDATER, str(me)], env=env) for me in range(4)]
    assert [p.wait(timeout=120) for p in procs] == [0] * 4
    recorded = json.loads((isolated_results / "timings" / "cpu.json").read_text())
    assert {c: len(ways) for c, ways in recorded.items()} == {f"chapter{me}": 20 for me in range(4)}


def test_entries_and_json_files_take_the_modes_the_umask_allows(isolated_results):
    previous = os.umask(0o002)  # a group-shared results folder
    try:
        cache.cached("exp", 1, {"a": 1}, _compute([]))
        cache.write_json_atomic(isolated_results / "claims" / "c.json", [1])
    finally:
        os.umask(previous)
    entry = _entry(isolated_results, {"a": 1})
    assert oct(entry.stat().st_mode & 0o777) == "0o775"
    assert oct((entry / "arrays.npz").stat().st_mode & 0o777) == "0o664"
    assert oct((isolated_results / "claims" / "c.json").stat().st_mode & 0o777) == "0o664"
