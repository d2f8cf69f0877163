"""The loss-sensitivity experiment: step sampling, the class-matrix measures, a smoke run, and the verdicts that
synthetic results with known Gini coefficients, fits and class matrices must receive."""

import numpy as np
import pytest
import torch
from conftest import fake_results

from memo_utils import experiments
from memo_utils.experiments import loss_sensitivity
from memo_utils.framework import stats

CHAPTER = experiments.get("loss_sensitivity")
SEEDS = (0, 1, 2, 3, 4)
# a setting in which every claim holds: (Gini at the first T, Gini at the last T), training accuracy,
# log10 of the class matrix's diagonal dominance
HOLDS = {
    "real": ((0.30, 0.50), 1.0, 0.3),
    "50% real": ((0.25, 0.35), 0.85, 0.5),
    "randY": ((0.15, 0.20), 0.70, 0.7),
    "randX": ((0.20, 0.25), 0.99, 0.7),
    "real inputs": ((0.20, 0.22), 0.95, None),
    "random inputs": ((0.17, 0.18), 1.0, None),
}
STEADY = np.array([0.004, -0.002, 0.001, -0.004, 0.001])  # a small seed-to-seed spread of every Gini


def test_stratified_steps_cover_every_slice_of_the_range():
    steps = loss_sensitivity.stratified_steps(1000, 10, torch.Generator().manual_seed(0))
    assert len(steps) == 10 and 1 <= steps[0] and steps[-1] <= 1000
    assert [(s - 1) // 100 for s in steps] == list(range(10))  # one step in each slice (100k, 100(k+1)]


def test_smoke_run_gives_one_gini_curve_per_setting_and_seed():
    cfg = CHAPTER.config("smoke", n_examples=100, steps=[30, 60], seeds=[0, 1])
    results = CHAPTER.run(cfg, device="cpu")
    curves = loss_sensitivity.gini_curves(results)
    assert set(curves) == set(loss_sensitivity.SETTING_NAMES)
    assert all(c.shape == (2, 2) for c in curves.values())
    assert loss_sensitivity.class_matrix(results, "real").shape == (10, 10)
    assert loss_sensitivity.sel(results, "loss_sensitivity", "random inputs").shape == (2, 3, 2, 100)
    assert loss_sensitivity.sel(results, "loss_sensitivity", "randX", norm="l1").shape == (2, 2, 100)
    assert {c.verdict for c in CHAPTER.judge(results, cfg)} == {"not at this scale"}


def test_each_seed_samples_its_own_steps_shared_by_the_settings_of_its_cell():
    cfg = CHAPTER.config("smoke", n_examples=100, steps=[40], seeds=[0, 1], measured_steps=5)
    results = CHAPTER.run(cfg, device="cpu")
    sens = loss_sensitivity.sel(results, "loss_sensitivity", "real", norm="l1")[:, 0]
    assert not np.allclose(sens[0], sens[1])
    generators = [loss_sensitivity._sampled_steps_generator(seed) for seed in (0, 1)]
    assert loss_sensitivity.stratified_steps(40, 5, generators[0]) != loss_sensitivity.stratified_steps(
        40, 5, generators[1]
    )


def _with_gini(target, n=200):
    """Non-negative values whose Gini is ``target``: (i/n)^k over i = 1..n has Gini close to k / (k + 2)."""
    return (np.arange(1, n + 1) / n) ** (2 * target / (1 - target))


def test_values_built_for_a_gini_have_that_gini():
    assert stats.gini(_with_gini(0.3)) == pytest.approx(0.3, abs=0.005)


def _fake_results(settings=HOLDS, spread=STEADY, seeds=SEEDS, n=200):
    """One cell per group and seed, as the part writes them: each setting's Gini at the first and the last T
    plus ``spread[seed]`` (a dict gives a setting its own spread), the same values for every norm."""
    (part,) = CHAPTER.parts
    entries = []
    for group, names in loss_sensitivity.GROUPS.items():
        for k, seed in enumerate(seeds):
            noise = lambda name: (spread.get(name, STEADY) if isinstance(spread, dict) else spread)[k]
            sens = np.stack([[[_with_gini(g + noise(name), n) for g in settings[name][0]]] * 3 for name in names])
            arrays = {
                "setting": np.array(list(names)),
                "T": np.array([100, 200]),
                "norm": np.array(loss_sensitivity.NORMS),
                "loss_sensitivity": sens,
                "step_normalized": sens[:, 0],
                "finite": np.ones(len(names), bool),
                "final_train_accuracy": np.array([settings[name][1] for name in names]),
            }
            if group == "10 classes":
                arrays["class_matrix"] = np.stack(
                    [np.ones((10, 10)) + np.eye(10) * (10 ** settings[name][2] - 1) for name in names]
                )
            entries.append(("sensitivity", {"group": group, "seed": seed}, arrays))
    return fake_results(CHAPTER, entries)


def _verdicts(results, seeds=SEEDS):
    cfg = CHAPTER.config("cpu", steps=[100, 200], seeds=list(seeds))
    return {c.id: c for c in CHAPTER.judge(results, cfg)}


def test_every_claim_is_reproduced_where_its_effect_is_clear_and_its_networks_fitted():
    judged = _verdicts(_fake_results())
    assert {i: c.verdict for i, c in judged.items()} == {i: "reproduced" for i in judged}
    assert len(judged) == len(loss_sensitivity.CLAIMS)


def test_a_gap_smaller_than_a_tick_of_figure_3_is_not_reproduced():
    flat = {**HOLDS, "real": ((0.20, 0.205), 1.0, 0.3)}  # real barely above randY (0.20): below the 0.02 step
    judged = _verdicts(_fake_results(flat))
    assert judged["arpit2017-sens-1a"].verdict == "not reproduced"
    assert judged["arpit2017-sens-6"].verdict == "not reproduced"  # 0.20 -> 0.205: no rise
    same_diagonal = {**HOLDS, "randY": (HOLDS["randY"][0], 0.7, 0.3)}  # as dominant as real data's: no spread
    assert _verdicts(_fake_results(same_diagonal))["arpit2017-sens-4a"].verdict == "not reproduced"
    assert _verdicts(_fake_results(same_diagonal))["arpit2017-sens-4b"].verdict == "reproduced"


def test_an_effect_in_every_seed_with_a_wide_spread_is_inconclusive_and_says_what_would_resolve_it():
    wide = {"real": np.array([-0.27, 0.30, -0.26, 0.25, -0.25])}  # the real - randY gap: 0.03 to 0.60 by seed
    claim = _verdicts(_fake_results(spread=wide))["arpit2017-sens-1a"]
    values = [HOLDS["real"][0][1] + w - HOLDS["randY"][0][1] - s for w, s in zip(wide["real"], STEADY)]
    assert min(values) > 0 and claim.estimates[0].low < 0.02 < claim.estimates[0].high
    assert claim.verdict == "inconclusive" and "would resolve it" in claim.why


def test_a_failed_precondition_makes_every_claim_on_those_networks_not_at_this_scale():
    unfitted = {**HOLDS, "randY": (HOLDS["randY"][0], 0.30, HOLDS["randY"][2])}
    judged = _verdicts(_fake_results(unfitted))
    on_randy = {c.id for c in loss_sensitivity.CLAIMS if "randY" in c.networks}
    assert on_randy == {"arpit2017-sens-1a", "arpit2017-sens-2", "arpit2017-sens-4a", "arpit2017-sens-5"}
    assert all(
        judged[i].verdict == "not at this scale" and "randY MLPs" in judged[i].why and "0.300" in judged[i].why
        for i in on_randy
    )
    assert all(c.verdict == "reproduced" for i, c in judged.items() if i not in on_randy)
    unique = {**HOLDS, "real inputs": (HOLDS["real inputs"][0], 0.2, None)}
    assert _verdicts(_fake_results(unique))["arpit2017-sens-3"].verdict == "not at this scale"


def test_one_seed_gives_no_interval_and_no_verdict():
    judged = _verdicts(_fake_results(seeds=(0,)), seeds=(0,))
    assert {c.verdict for c in judged.values()} == {"not at this scale"}


def test_diagonal_measures_of_the_class_matrix():
    identity_like = torch.eye(4).numpy() * 9 + 1
    assert loss_sensitivity.diagonal_dominance(identity_like) == pytest.approx(10.0)
    assert loss_sensitivity.off_diagonal_share(identity_like) == pytest.approx(12 / 52)
    assert loss_sensitivity.diagonal_dominance(torch.ones(4, 4).numpy()) == pytest.approx(1.0)
