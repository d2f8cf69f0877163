"""The capacity chapter: a smoke run, the four verdicts from synthetic replicates, and censored times that count
only in the direction they bound."""

import math

import numpy as np
import pytest
from conftest import fake_results

from memo_utils import experiments
from memo_utils.errors import ConfigError
from memo_utils.experiments import capacity
from memo_utils.framework.claims import above, across

CHAPTER = experiments.get("capacity")


def test_smoke_run_gives_curves_per_level_and_seed_an_eigenvalue_per_model_and_a_probe_per_seed():
    cfg = CHAPTER.config("smoke")
    results = CHAPTER.run(cfg, device="cpu")
    curves = results.sel("capacity", "train_accuracy", noise="randX", width=cfg["widths"][0])
    assert curves.shape == (len(cfg["noise_levels"]), len(cfg["seeds"]), cfg["epochs"])
    assert results.sel("capacity", "top_eigenvalue", noise="randY", width=8, level=0.8).shape == (len(cfg["seeds"]),)
    assert results.sel("dataset_size", "train_accuracy", noise="randY", size=100, level=0.0, seed=1).shape == (2,)
    # the largest size is the width grid's training set, trained once, by part capacity
    assert capacity.trained_sizes(cfg) == [100]
    assert capacity.convergence(results, "randX", cfg, "size")[0].shape == (2, 2, 2)
    assert capacity.probe_noise_fit(results, "randX").shape == (len(cfg["seeds"]),)
    assert {c.verdict for c in CHAPTER.judge(results, cfg)} == {"not at this scale"}
    assert results.sel("cifar", "val_accuracy", noise="randX", width=4, level=0.8).shape == (len(cfg["seeds"]), 1)


def test_the_grid_of_sizes_ends_at_the_width_grids_training_set():
    cfg = CHAPTER.config("cpu")
    assert capacity.size_grid(cfg) == cfg["dataset_sizes"] + [cfg["train_size"]]
    assert capacity.trained_sizes(cfg) == cfg["dataset_sizes"]  # train_size at size_width is the width grid's run
    assert capacity.trained_sizes({**cfg, "size_width": 64}) == capacity.size_grid(cfg)
    with pytest.raises(ConfigError, match="below train_size"):
        CHAPTER.config("cpu", dataset_sizes=[500, 2000])


def test_grids_that_cannot_compare_noise_with_real_data_or_two_widths_are_refused():
    # the claims read the first noise level as real data and compare the widest width with a narrower one
    with pytest.raises(ConfigError, match="must hold 0"):
        CHAPTER.config("cpu", noise_levels=[0.4, 0.8])
    with pytest.raises(ConfigError, match="must hold 0"):
        CHAPTER.config("cpu", cifar_noise_levels=[0.0])
    with pytest.raises(ConfigError, match="two or more"):
        CHAPTER.config("cpu", widths=[128])
    with pytest.raises(ConfigError, match="must be increasing"):  # refused, not silently reordered
        CHAPTER.config("cpu", widths=[128, 8, 32])


def _epochs(part, kind, value, level, seed, cfg):
    """Default epochs to fit, a seed adding a little spread. Width grid: 20 at every width and level but the
    narrowest, where real data take 30 and noise 60. Smaller training sets (at the widest width): real data 15,
    noise 5; the largest is the width grid's widest run (20 and 20). Noise needs capacity, real data less so."""
    if part == "dataset_size":
        return (15 if level == 0 else 5) + seed
    narrowest = value == min(cfg["widths"])
    return (30 if level == 0 else 60) + seed if narrowest else 20 + seed


def _fake_results(cfg, epochs_to_fit=_epochs, val=None, eigen=None, probe=0.2, final=1.0):
    """Synthetic results of every part at ``cfg``: training curves that cross 99% at ``epochs_to_fit(part, kind,
    value, level, seed, cfg)`` (never if None; then they end at ``final``), best validation accuracies
    ``val(kind, width, level, seed)``, top eigenvalues ``eigen(kind, level, seed)`` and the probe's beyond-chance
    share of noise fitted ``probe`` (per kind: a dict)."""
    val = val or (lambda kind, width, level, seed: 0.95 - (0.1 * level if width != max(cfg["widths"]) else 0))
    eigen = eigen or (lambda kind, level, seed: 2.0 * (1 + 2 * level) * (1 + 0.02 * seed))
    levels, seeds, epochs = cfg["noise_levels"], cfg["seeds"], np.arange(1, cfg["epochs"] + 1)
    coords = {"level": np.array(levels), "seed": np.array(seeds)}

    def curves(part, kind, value):
        out = np.empty((len(levels), len(seeds), cfg["epochs"]))
        for i, level in enumerate(levels):
            for j, seed in enumerate(seeds):
                fit = epochs_to_fit(part, kind, value, level, seed, cfg)
                out[i, j] = np.where(epochs >= (fit or cfg["epochs"] + 1), 1.0, min(final, 0.98))
        return out

    entries = []
    for kind in capacity.NOISE_KINDS:
        for width in cfg["widths"]:
            train = curves("capacity", kind, width)
            arrays = {
                **coords,
                "train_accuracy": train,
                "finite": np.ones(train.shape[:2], bool),
                "val_accuracy": np.array([[[val(kind, width, lv, s)] * cfg["epochs"] for s in seeds] for lv in levels]),
                "top_eigenvalue": np.array([[eigen(kind, lv, s) for s in seeds] for lv in levels]),
                "hessian_converged": np.ones(train.shape[:2], bool),
            }
            entries.append(("capacity", {"noise": kind, "width": width}, arrays))
        for size in capacity.trained_sizes(cfg):
            train = curves("dataset_size", kind, size)
            entries.append(
                (
                    "dataset_size",
                    {"noise": kind, "size": size},
                    {**coords, "train_accuracy": train, "finite": np.ones(train.shape[:2], bool)},
                )
            )
        share = probe[kind] if isinstance(probe, dict) else probe
        entries.append(
            (
                "probe",
                {"noise": kind},
                {
                    "seed": np.array(seeds),
                    "probe_accuracy": np.full(len(seeds), 0.5),
                    "probe_noise_accuracy": np.full(len(seeds), 0.1 + 0.9 * share),
                },
            )
        )
    return fake_results(CHAPTER, entries)


def _verdicts(results, cfg):
    return {c.id: c.verdict for c in CHAPTER.judge(results, cfg)}


def test_effects_in_the_papers_direction_with_a_small_spread_are_reproduced():
    cfg = CHAPTER.config("cpu")
    verdicts = _verdicts(_fake_results(cfg), cfg)
    for kind in capacity.NOISE_KINDS:
        for claim in ("capacity", "time-width", "time-size", "sharpness"):
            assert verdicts[f"krueger2017-{claim}-{kind}"] == "reproduced", claim
    # randY and randX both take as long as real data at the widest width: 'longer' and 'shorter' fail
    assert verdicts["krueger2017-time-labels-vs-inputs"] == "not reproduced"


def test_effects_excluded_from_the_papers_direction_are_not_reproduced():
    cfg = CHAPTER.config("cpu")
    flat = _fake_results(
        cfg, val=lambda kind, width, level, seed: 0.95, eigen=lambda kind, level, seed: 2.0 + seed / 100
    )
    verdicts = _verdicts(flat, cfg)
    for kind in capacity.NOISE_KINDS:
        assert verdicts[f"krueger2017-capacity-{kind}"] == "not reproduced"
        assert verdicts[f"krueger2017-sharpness-{kind}"] == "not reproduced"


def test_an_effect_in_every_seed_with_a_wide_spread_is_inconclusive_not_a_refutation():
    cfg = CHAPTER.config("cpu")
    # the widest width gains 0.002 to 0.06 more under noise in every seed: above 0 throughout, but spread widely
    gains = dict(zip(cfg["seeds"], (0.002, 0.06, 0.005, 0.05, 0.01)))
    spread = lambda kind, width, level, seed: 0.9 + (gains[seed] * level / 0.8 if width == max(cfg["widths"]) else 0)
    (claim,) = [c for c in CHAPTER.judge(_fake_results(cfg, val=spread), cfg) if c.id == "krueger2017-capacity-randX"]
    assert claim.verdict == "inconclusive" and "seeds would resolve it" in claim.why


def test_a_failing_precondition_makes_every_claim_on_its_networks_not_at_this_scale_and_names_itself():
    cfg = CHAPTER.config("cpu")
    # a linear probe memorises most of randY's noise: capacity cannot bind for the randY networks
    judged = {c.id: c for c in CHAPTER.judge(_fake_results(cfg, probe={"randX": 0.2, "randY": 0.9}), cfg)}
    for claim in ("capacity-randY", "time-width-randY", "time-size-randY", "sharpness-randY", "time-labels-vs-inputs"):
        assert judged[f"krueger2017-{claim}"].verdict == "not at this scale", claim
        assert "linear probe" in judged[f"krueger2017-{claim}"].why
    assert judged["krueger2017-capacity-randX"].verdict == "reproduced"
    # the real-data networks learned less than a linear classifier of all of MNIST: no MLP claim can be tested
    weak = lambda kind, width, level, seed: 0.8 if level == 0 else 0.7
    judged = {c.id: c for c in CHAPTER.judge(_fake_results(cfg, val=weak), cfg)}
    for claim in judged.values():
        if "cifar" not in claim.id:
            assert claim.verdict == "not at this scale" and "real-data MLPs" in claim.why, claim.id
    # the widest networks do not fit the noise: the width grid cannot test its claims, the size grid can
    unfit = lambda part, kind, value, level, seed, cfg: None if level > 0 and part == "capacity" else 20
    verdicts = _verdicts(_fake_results(cfg, unfit, final=0.9), cfg)
    width_grid = {verdicts[f"krueger2017-{c}-randX"] for c in ("capacity", "time-width", "sharpness")}
    assert width_grid == {"not at this scale"}
    assert verdicts["krueger2017-time-size-randX"] != "not at this scale"


def test_the_cifar_grid_is_not_at_this_scale_where_the_profile_does_not_run_it():
    cfg = CHAPTER.config("cpu")
    assert cfg["cifar_epochs"] == 0 and [c for p, c in CHAPTER.cells(cfg) if p.name == "cifar"] == []
    judged = {c.id: c for c in CHAPTER.judge(_fake_results(cfg), cfg)}
    for kind in capacity.NOISE_KINDS:
        claim = judged[f"arpit2017-capacity-cifar-{kind}"]
        assert claim.verdict == "not at this scale" and "not measured" in claim.why


def test_a_censored_time_that_still_clears_the_smallest_effect_reproduces_the_claim():
    cfg = CHAPTER.config("cpu")
    # randX never fits at the narrowest width (censored at the budget, a lower bound): the slow-down is at least
    # log(250 / 20) - log(30 / 20), far above a tenth
    never = lambda part, kind, value, level, seed, cfg: (
        None
        if part == "capacity" and level > 0 and value == min(cfg["widths"])
        else _epochs(part, kind, value, level, seed, cfg)
    )
    judged = {c.id: c for c in CHAPTER.judge(_fake_results(cfg, never), cfg)}
    assert judged["krueger2017-time-width-randX"].verdict == "reproduced"
    assert "lower bound" in judged["krueger2017-time-width-randX"].measured


def test_a_censored_time_that_falls_short_is_never_a_refutation():
    cfg = CHAPTER.config("cpu", epochs=50)
    # the narrowest network never fits the noise within 50 epochs, but real data take 48 or 49 there: the lower
    # bound on the slow-down, log(50 / 20) - log(48 / 20) ~ 0.03, lies below a tenth, and the true value is unknown
    slow = lambda part, kind, value, level, seed, cfg: (
        (None if level > 0 else 48 + seed % 2) if part == "capacity" and value == min(cfg["widths"]) else 20 + seed
    )
    claim = {c.id: c for c in CHAPTER.judge(_fake_results(cfg, slow), cfg)}["krueger2017-time-width-randX"]
    assert claim.verdict == "not at this scale" and "cannot decide" in claim.measured
    # the same numbers uncensored are a refutation: it is the censoring that withholds the verdict
    exact = lambda part, kind, value, level, seed, cfg: (
        49 if slow(part, kind, value, level, seed, cfg) is None else slow(part, kind, value, level, seed, cfg)
    )
    assert _verdicts(_fake_results(cfg, exact), cfg)["krueger2017-time-width-randX"] == "not reproduced"


def test_bounded_keeps_an_interval_only_where_its_unknown_side_cannot_change_the_outcome():
    criterion = above("d", math.log(1.1), "r")
    values, none = np.array([0.5, 0.6, 0.55]), np.zeros(3, bool)
    some = np.array([True, False, False])
    assert capacity.bounded(values, some, none, criterion)[0].judgeable  # lower bounds above the bound: reproduced
    assert not capacity.bounded(values, none, some, criterion)[0].judgeable  # upper bounds above it: unknown
    low = np.array([-0.5, -0.6, -0.55])
    assert not capacity.bounded(low, some, none, criterion)[0].judgeable  # lower bounds below it: unknown
    assert capacity.bounded(low, none, some, criterion)[0].judgeable  # upper bounds below it: not reproduced
    assert not capacity.bounded(values, some, some, criterion)[0].judgeable  # bounds on both sides
    assert capacity.bounded(values, none, none, criterion) == (across(values), "")
