"""The capacity chapter: a smoke run, censoring in the time claims, and verdicts that follow the numbers."""
import numpy as np

from memo_utils import cache, experiments
from memo_utils.chapter import Results
from memo_utils.experiments import capacity

CHAPTER = experiments.get("capacity")


def test_smoke_run_gives_curves_per_level_and_seed_and_an_eigenvalue_per_model():
    cfg = CHAPTER.config("smoke")
    results = CHAPTER.run(cfg, device="cpu")
    curves = results.sel("capacity", "train_accuracy", noise="randX", width=cfg["widths"][0])
    assert curves.shape == (len(cfg["noise_levels"]), len(cfg["seeds"]), cfg["epochs"])
    assert results.sel("capacity", "top_eigenvalue", noise="randY", width=8, level=0.8).shape == (len(cfg["seeds"]),)
    assert results.sel("dataset_size", "train_accuracy", noise="randY", size=100, level=0.0, seed=1).shape == (2,)
    assert {c.verdict for c in CHAPTER.claims(results, cfg)} == {"not at this scale"}
    assert results.sel("cifar", "val_accuracy", noise="randX", width=4, level=0.8).shape == (len(cfg["seeds"]), 1)


def test_the_cifar_grid_is_a_not_at_this_scale_row_where_the_profile_does_not_run_it():
    cfg = CHAPTER.config("cpu")
    assert cfg["cifar_epochs"] == 0 and [c for p, c in CHAPTER.cells(cfg) if p.name == "cifar"] == []
    rows = {c.id: c for c in CHAPTER.claims(_fake_results(cfg, lambda *a: 5), cfg)}
    assert rows["arpit2017-capacity-cifar-randX"].verdict == "not at this scale"
    assert "does not fit" in rows["arpit2017-capacity-cifar-randY"].precondition


def _fake_results(cfg, epochs_to_fit, eigen=lambda kind, level: 1 + level):
    """Training curves that cross 99% at ``epochs_to_fit(part, kind, value, level, seed)`` (never if None)."""
    rng = np.random.default_rng(0)
    part_capacity, part_size = CHAPTER.part("capacity"), CHAPTER.part("dataset_size")
    meta = lambda part: {"dims": {k: list(v) for k, v in part.dims.items()}, "config": {"data": {"mnist": {"label": "t"}}}}
    entries = []
    for part, key, values in ((part_capacity, "width", cfg["widths"]), (part_size, "size", cfg["dataset_sizes"])):
        for kind in capacity.NOISE_KINDS:
            for value in values:
                train = np.zeros((len(cfg["noise_levels"]), len(cfg["seeds"]), cfg["epochs"]))
                for i, level in enumerate(cfg["noise_levels"]):
                    for j, seed in enumerate(cfg["seeds"]):
                        fit = epochs_to_fit(part.name, kind, value, level, seed)
                        train[i, j] = np.where(np.arange(1, cfg["epochs"] + 1) >= (fit or cfg["epochs"] + 1), 1.0, 0.9)
                arrays = {"level": np.array(cfg["noise_levels"]), "seed": np.array(cfg["seeds"]),
                          "train_accuracy": train, "finite": np.ones(train.shape[:2], bool)}
                if part is part_capacity:
                    arrays["val_accuracy"] = np.full_like(train, 0.95) - 0.05 * np.array(cfg["noise_levels"])[:, None, None] \
                        * (value != max(values))
                    arrays["top_eigenvalue"] = np.array([[eigen(kind, lvl) * rng.uniform(0.95, 1.05) for _ in cfg["seeds"]]
                                                         for lvl in cfg["noise_levels"]])
                    arrays["hessian_converged"] = np.ones(train.shape[:2], bool)
                entries.append((part.name, {"noise": kind, key: value}, cache.Result(arrays, meta(part), True)))
    return Results(entries)


def test_time_claims_use_censored_times_only_as_lower_bounds():
    cfg = CHAPTER.config("cpu", epochs=50, seeds=[0, 1, 2])
    noisy = lambda part, kind, value, level, seed: (10 + seed if level == 0 else
                                                    (None if kind == "randY" else 5 + seed))  # randY never fits
    verdicts = {c.id: c.verdict for c in CHAPTER.claims(_fake_results(cfg, noisy), cfg)}
    # randY is censored at the budget (a lower bound), real and randX converged: "longer" and "shorter" both hold
    assert verdicts["krueger2017-time-labels-vs-inputs"] == "reproduced"
    # the width slow-down of randY subtracts a censored time: it cannot be judged
    assert verdicts["krueger2017-time-width-randY"] == "not at this scale"
    assert verdicts["krueger2017-capacity-randX"] == "reproduced"  # the widest width gains more under noise
    assert verdicts["krueger2017-sharpness-randX"] == "reproduced"
    real_never = lambda part, kind, value, level, seed: None if level == 0 else 5
    assert {c.id: c.verdict for c in CHAPTER.claims(_fake_results(cfg, real_never), cfg)}[
        "krueger2017-time-labels-vs-inputs"] == "not at this scale"
    flat = {c.id: c.verdict for c in CHAPTER.claims(_fake_results(cfg, noisy, eigen=lambda k, l: 2.0), cfg)}
    assert flat["krueger2017-sharpness-randX"] == "not reproduced"


def test_a_failing_time_test_with_censored_times_is_inconclusive_not_a_refutation():
    cfg = CHAPTER.config("cpu", epochs=50, seeds=[0, 1, 2])
    # randY at the smallest width never fits (censored at 50, a lower bound) while clean data takes 40
    # epochs there: the measured slow-down is negative, but only because the true randY time is unknown
    slow_clean = lambda part, kind, value, level, seed: (
        (40 + seed if value == min(cfg["widths"]) else 10 + seed) if level == 0 else
        (None if value == min(cfg["widths"]) else 30 + seed))
    verdicts = {c.id: c.verdict for c in CHAPTER.claims(_fake_results(cfg, slow_clean), cfg)}
    assert verdicts["krueger2017-time-width-randY"] == "not at this scale"
