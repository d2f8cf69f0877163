"""The loss-sensitivity experiment: step sampling, the class-matrix measures, a smoke run."""
import numpy as np
import pytest
import torch

from memo_utils import experiments
from memo_utils.experiments import loss_sensitivity

CHAPTER = experiments.get("loss_sensitivity")


def test_stratified_steps_cover_every_slice_of_the_range():
    steps = loss_sensitivity.stratified_steps(1000, 10, torch.Generator().manual_seed(0))
    assert len(steps) == 10 and 1 <= steps[0] and steps[-1] <= 1000
    assert [(s - 1) // 100 for s in steps] == list(range(10))  # one step in each slice (100k, 100(k+1)]


def test_smoke_run_gives_one_gini_curve_per_setting_and_seed():
    cfg = CHAPTER.config("smoke", n_examples=100, steps=[60, 30], seeds=[0, 1])
    assert cfg["steps"] == [30, 60]
    results = CHAPTER.run(cfg, device="cpu")
    curves = loss_sensitivity.gini_curves(results)
    assert set(curves) == set(loss_sensitivity.SETTING_NAMES)
    assert all(c.shape == (2, 2) for c in curves.values())
    assert loss_sensitivity.class_matrix(results, "real").shape == (10, 10)
    assert results.sel("sensitivity", "loss_sensitivity", setting="random inputs", seed=1).shape == (3, 2, 100)
    assert results.sel("sensitivity", "loss_sensitivity", setting="randX", seed=1, norm="l1").shape == (2, 100)
    assert {c.verdict for c in CHAPTER.claims(results, cfg)} == {"not at this scale"}


def _fake_results(half_real_accuracy=0.9, seeds=(0, 1, 2), n=200):
    """Results with heavy-tailed sensitivities for real data and flat ones for random data."""
    from memo_utils import cache
    from memo_utils.chapter import Results

    rng = np.random.default_rng(0)
    (part,) = CHAPTER.parts
    entries = []
    for group, names in loss_sensitivity.GROUPS.items():
        names = list(names)
        tail = {"real": 3.0, "50% real": 2.0, "randY": 1.0, "randX": 1.0, "real inputs": 2.0, "random inputs": 1.0}
        sens = np.stack([[[[rng.exponential(size=n) ** tail[name] for _ in range(2)] for _ in loss_sensitivity.NORMS]
                          for _ in seeds] for name in names])
        accuracy = np.array([[half_real_accuracy if name == "50% real" else 0.95 for _ in seeds] for name in names])
        arrays = {"setting": np.array(names), "seed": np.array(seeds), "T": np.array([100, 200]),
                  "norm": np.array(loss_sensitivity.NORMS), "loss_sensitivity": sens, "step_normalized": sens[:, :, 0],
                  "final_train_accuracy": accuracy, "finite": np.ones((len(names), len(seeds)), bool)}
        if group == "10 classes":
            spread = {"real": 0.5, "50% real": 0.3, "randY": 0.1, "randX": 0.1}
            arrays["class_matrix"] = np.stack([[np.eye(10) + spread[name] * rng.uniform(0.9, 1.1, (10, 10))
                                                for _ in seeds] for name in names])
        meta = {"dims": {k: list(v) for k, v in part.dims.items()}, "config": {"data": {"mnist": {"label": "test"}}}}
        entries.append(("sensitivity", {"group": group}, cache.Result(arrays, meta, True)))
    return Results(entries)


def test_verdicts_follow_the_numbers_and_the_fit_precondition():
    cfg = CHAPTER.config("cpu", steps=[100, 200])
    verdicts = {c.id: c.verdict for c in CHAPTER.claims(_fake_results(), cfg)}
    assert verdicts["arpit2017-sens-1a"] == verdicts["arpit2017-sens-1b"] == "reproduced"
    assert verdicts["arpit2017-sens-2"] == "reproduced" and verdicts["arpit2017-sens-4a"] == "reproduced"
    unfitted = {c.id: c.verdict for c in CHAPTER.claims(_fake_results(half_real_accuracy=0.55), cfg)}
    assert unfitted["arpit2017-sens-2"] == "not at this scale"
    one_seed = {c.id: c.verdict for c in CHAPTER.claims(_fake_results(seeds=(0,)), CHAPTER.config("cpu", seeds=[0]))}
    assert set(one_seed.values()) == {"not at this scale"}


def test_diagonal_measures_of_the_class_matrix():
    identity_like = torch.eye(4).numpy() * 9 + 1
    assert loss_sensitivity.diagonal_dominance(identity_like) == pytest.approx(10.0)
    assert loss_sensitivity.off_diagonal_share(identity_like) == pytest.approx(12 / 52)
    assert loss_sensitivity.diagonal_dominance(torch.ones(4, 4).numpy()) == pytest.approx(1.0)
