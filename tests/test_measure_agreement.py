"""The measure-agreement chapter: its comparisons against direct computations on small cases, its seeds, and one
smoke run whose parts must agree on what they trained on."""

import numpy as np
import pytest

from memo_utils.errors import ConfigError
from memo_utils.experiments import measure_agreement as ma
from memo_utils.framework import stats


def _random_measures(n=60, seed=0):
    rng = np.random.default_rng(seed)
    wrong = np.zeros(n, dtype=bool)
    wrong[rng.choice(n, 8, replace=False)] = True
    base = rng.normal(size=n) + 2 * wrong
    values = {name: base + rng.normal(scale=0.5 + i, size=n) for i, name in enumerate(ma.MEASURES)}
    values["hardness_end"] = np.round(values["hardness_end"])  # ties, as hardness at the end has
    return values, wrong


def test_comparisons_match_direct_computations():
    values, wrong = _random_measures()
    found = ma.comparisons(values, wrong, seed=3)
    names = list(ma.MEASURES)
    k = int(wrong.sum())
    for i, a in enumerate(names):
        assert found["auroc"][i] == pytest.approx(stats.auroc(values[a], wrong))
        for j, b in enumerate(names):
            assert found["spearman"][i, j] == pytest.approx(stats.spearman(values[a], values[b]))
            assert found["spearman_clean"][i, j] == pytest.approx(stats.spearman(values[a][~wrong], values[b][~wrong]))
            top_a, top_b = ma.top_k(values[a], k, (3, i)), ma.top_k(values[b], k, (3, j))
            assert found["overlap"][i, j] == pytest.approx(len(set(top_a) & set(top_b)) / k)
    assert np.allclose(np.diag(found["overlap"]), 1.0)


def test_an_example_a_measure_leaves_undefined_leaves_every_comparison():
    values, wrong = _random_measures()
    values["feldman_zhang"][5] = np.nan
    found = ma.comparisons(values, wrong, seed=0)
    keep = np.arange(len(wrong)) != 5
    assert found["kept"] == pytest.approx(keep.mean())
    a, b = values["turn_over"][keep], values["loss_sensitivity"][keep]
    i, j = list(ma.MEASURES).index("turn_over"), list(ma.MEASURES).index("loss_sensitivity")
    assert found["spearman"][i, j] == pytest.approx(stats.spearman(a, b))


def test_two_measures_that_tie_everywhere_share_only_what_chance_gives():
    values, wrong = _random_measures(n=2000)
    values["hardness_end"][:] = 0.0
    values["criticality"][:] = 0.0
    found = ma.comparisons(values, wrong, seed=0)
    i, j = ma.NAMES.index("hardness_end"), ma.NAMES.index("criticality")
    assert found["chance_overlap"] == pytest.approx(wrong.mean())
    assert found["overlap"][i, j] < 3 * found["chance_overlap"]  # the same tie-break would give 1


def test_bad_settings_are_refused_in_one_line():
    for settings, message in (
        ({"noise_fraction": 0.0}, "noise_fraction=0.0 is not allowed"),
        ({"noise_fraction": 1.0}, "noise_fraction=1.0 is not allowed"),
        ({"batch_size": 500}, "batch_size=500 is not allowed: must be at most train_size=200"),
        ({"hidden": 15}, "hidden=15 is not allowed"),
    ):
        with pytest.raises(ConfigError, match=message):
            ma.CHAPTER.config("smoke", **settings)


def test_top_k_breaks_ties_at_random_not_by_position():
    values = np.zeros(1000)
    picked = np.concatenate([ma.top_k(values, 10, seed) for seed in range(20)])
    assert picked.mean() > 300  # by position it would be 4.5
    assert set(ma.top_k(np.arange(10.0), 3, 0)) == {7, 8, 9}


def test_every_part_trains_networks_of_its_own():
    counts = {"training": 16, "sensitivity": 2, "lass": 4, "turn_over": 1, "subsampling": 1}
    used = [s for part, n in counts.items() for s in ma.network_seeds(0, part, n)]
    assert len(used) == len(set(used))
    with pytest.raises(ConfigError, match="hardness_models=201 is not allowed"):
        ma.CHAPTER.config("smoke", hardness_models=201)


def test_a_smoke_run_gives_every_measure_for_every_example(tmp_path, monkeypatch):
    monkeypatch.setenv("MEMO_RESULTS_DIR", str(tmp_path))
    cfg = ma.CHAPTER.config("smoke")
    results = ma.CHAPTER.run(cfg, device="cpu")
    values, wrong = ma.seed_measures(results, cfg, cfg["seeds"][0])
    assert set(values) == set(ma.MEASURES)
    assert all(v.shape == (cfg["train_size"],) for v in values.values())
    assert 0 < wrong.sum() <= round(cfg["noise_fraction"] * cfg["train_size"])
    correct = results.sel("training", "correct", seed=cfg["seeds"][0])
    assert correct.shape == (cfg["hardness_models"], cfg["epochs"], cfg["train_size"])
    assert np.allclose(values["hardness_end"], 1 - correct[:, -1].mean(0))
    found = ma.all_comparisons(results, cfg)
    assert found["spearman"].shape == (len(cfg["seeds"]), len(ma.MEASURES), len(ma.MEASURES))
    tampered = results.sel("lass", "labels", seed=cfg["seeds"][0])
    tampered[0] = (tampered[0] + 1) % 10  # one part trained on other labels: refused, not compared
    with pytest.raises(ValueError, match="different labels"):
        ma.seed_measures(results, cfg, cfg["seeds"][0])
