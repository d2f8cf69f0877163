"""The regularization chapter: a smoke run, the interpolated 'kept' measure, and verdicts that follow the numbers."""
import numpy as np
import pytest

from memo_utils import cache, experiments
from memo_utils.chapter import Results
from memo_utils.errors import ConfigError
from memo_utils.experiments import regularization as reg

CHAPTER = experiments.get("regularization")


def test_smoke_run_gives_curves_per_strength_and_seed_for_every_regularizer():
    cfg = CHAPTER.config("smoke")
    results = CHAPTER.run(cfg, device="cpu")
    for regularizer in reg.REGULARIZERS:
        n = len(reg.strengths(cfg, regularizer))
        assert reg.curve(results, cfg, regularizer, "randY", "train_loss").shape == (n, len(cfg["seeds"]), cfg["epochs"])
        memorized, generalized = reg.figure_10_points(results, cfg, regularizer)
        assert memorized.shape == generalized.shape == (n, len(cfg["seeds"]))
    assert {c.verdict for c in CHAPTER.claims(results, cfg)} == {"not at this scale"}


def test_bad_strengths_are_refused_with_one_line():
    with pytest.raises(ConfigError, match="dropout_rates=.*below 1"):
        CHAPTER.config("cpu", dropout_rates=[0.5, 1.0])
    with pytest.raises(ConfigError, match="weight_decays=.*positive numbers"):
        CHAPTER.config("cpu", weight_decays=[-0.1])
    assert "adversarial" not in reg.run_regularizers(CHAPTER.config("cpu"))  # left out of the cpu budget


def _fake_results(cfg, randy_fit, val_best, real_fit=lambda regularizer, strength, seed: 0.99):
    """Cells whose final randY (real-data) training accuracy is ``randy_fit`` (``real_fit``) of (regularizer,
    strength, seed) and whose real-data validation accuracy peaks at ``val_best(regularizer, strength, seed)``."""
    part = CHAPTER.part("train")
    meta = {"dims": {k: list(v) for k, v in part.dims.items()}, "config": {"data": {"d": {"label": "t"}}}}
    entries = []
    for cell in reg.cells(cfg):
        r = cell["regularizer"]
        levels = reg.own_zero_point(r) + ([] if r == "none" else list(cfg[reg.REGULARIZERS[r][0]]))
        seeds, epochs = cfg["seeds"], cfg["epochs"]
        fit_of = randy_fit if cell["data"] == "randY" else real_fit
        fit = np.array([[fit_of(r, s, seed) for seed in seeds] for s in levels])
        best = np.array([[val_best(r, s, seed) for seed in seeds] for s in levels])
        ramp = np.linspace(0.5, 1.0, epochs)
        arrays = {"strength": np.array(levels), "seed": np.array(seeds), "train_loss": 2 - fit[..., None] * ramp,
                  "train_accuracy": fit[..., None] * ramp, "final_train_accuracy": fit,
                  "val_accuracy": best[..., None] * ramp, "finite": np.ones(fit.shape, bool)}
        entries.append(("train", cell, cache.Result(arrays, meta, True)))
    return Results(entries)


def _strength_rank(regularizer, strength, cfg):
    return reg.strengths(cfg, regularizer).index(strength) if regularizer != "none" else 0


def test_the_validation_accuracy_kept_at_half_memorization_is_interpolated_along_the_curve():
    cfg = CHAPTER.config("cpu")
    # randY fit 0.5, 0.3, 0.1 along the strengths: memorization above chance 0.4, 0.2, 0.0 -> half (0.2) at the middle
    fit = lambda r, s, seed: [0.5, 0.3, 0.1][_strength_rank(r, s, cfg)]
    val = lambda r, s, seed: [0.6, 0.5, 0.2][_strength_rank(r, s, cfg)] + 0.01 * seed
    results = _fake_results(cfg, fit, val)
    np.testing.assert_allclose(reg.kept_at_half_memorization(results, cfg, "dropout"), [0.5, 0.51, 0.52])
    never = _fake_results(cfg, lambda r, s, seed: 0.5, val)
    assert np.isnan(reg.kept_at_half_memorization(never, cfg, "dropout")).all()


def test_claims_follow_the_numbers():
    cfg = CHAPTER.config("cpu")
    order = {"dropout": 1, "input_dropout": 2, "input_noise": 3, "hidden_noise": 4, "weight_decay": 5}
    fit = lambda r, s, seed: [0.5, 0.3, 0.1 + 0.01 * order.get(r, 0)][_strength_rank(r, s, cfg)] + 0.001 * seed
    # dropout keeps validation accuracy; every other regularizer loses it as it stops memorization
    val = lambda r, s, seed: 0.6 - (0.0 if r == "dropout" else 0.1) * _strength_rank(r, s, cfg) + 0.002 * seed
    reversed_fit = lambda r, s, seed: 0.9 - 0.01 * order.get(r, 0)  # real labels: the randY order reversed
    verdicts = {c.id: c.verdict for c in CHAPTER.claims(_fake_results(cfg, fit, val, reversed_fit), cfg)}
    assert verdicts["arpit2017-regularization-lowers-randY-dropout"] == "reproduced"
    assert verdicts["arpit2017-regularization-dropout-keeps-generalization"] == "reproduced"
    assert verdicts["arpit2017-regularization-ordering"] == "reproduced"
    assert verdicts["arpit2017-regularization-adversarial-keeps-more"] == "not at this scale"  # not run at cpu
    # the same order on both datasets, and dropout no better than the others
    same = lambda r, s, seed: 0.9 + 0.01 * order.get(r, 0)
    flat = lambda r, s, seed: 0.6 - 0.1 * _strength_rank(r, s, cfg) + 0.002 * seed
    verdicts = {c.id: c.verdict for c in CHAPTER.claims(_fake_results(cfg, fit, flat, same), cfg)}
    assert verdicts["arpit2017-regularization-dropout-keeps-generalization"] == "not reproduced"
    assert verdicts["arpit2017-regularization-ordering"] == "not reproduced"
    # networks that never began to fit random labels: nothing to lower
    unfit = {c.id: c.verdict for c in CHAPTER.claims(_fake_results(cfg, lambda r, s, seed: 0.11, val), cfg)}
    assert unfit["arpit2017-regularization-lowers-randY-dropout"] == "not at this scale"
