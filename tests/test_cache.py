import json

import numpy as np
import pytest

from memo_utils import cache


def _compute(counter, value=1.0):
    def compute():
        counter.append(1)
        return {"x": np.full(3, value)}
    return compute


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
    entry = next((isolated_results / "exp").iterdir())
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
    entry = next((isolated_results / "exp").iterdir())
    with np.load(entry / "arrays.npz", allow_pickle=False) as npz:
        assert str(npz["label"]) == "MNIST"
    assert json.loads((entry / "meta.json").read_text())["config"] == {"a": 1}
