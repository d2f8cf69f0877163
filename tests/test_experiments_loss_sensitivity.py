"""The loss-sensitivity experiment: step sampling, the class-matrix measures, a smoke run."""
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
    assert results.sel("sensitivity", "loss_sensitivity", setting="random inputs", seed=1).shape == (2, 100)
    assert len(CHAPTER.claims(results, cfg)) == 4


def test_diagonal_measures_of_the_class_matrix():
    identity_like = torch.eye(4).numpy() * 9 + 1
    assert loss_sensitivity.diagonal_dominance(identity_like) == pytest.approx(10.0)
    assert loss_sensitivity.off_diagonal_share(identity_like) == pytest.approx(12 / 52)
    assert loss_sensitivity.diagonal_dominance(torch.ones(4, 4).numpy()) == pytest.approx(1.0)
