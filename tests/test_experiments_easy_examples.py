"""The easy-examples experiment: its verdicts follow the numbers, and it runs at the smoke profile."""
import numpy as np
import pytest
import torch

from memo_utils import cache, experiments
from memo_utils.chapter import Results
from memo_utils.experiments import easy_examples

from conftest import SHARED_DATA

CHAPTER = experiments.get("easy_examples")


def _fake_results(randx_error_rates, n_runs=100, seed=0, cnn_seeds=(0, 1, 2), moved=1.0):
    """Results whose randX misclassification has given per-example rates; real and randY fixed.

    The CNN cells hold smooth real filters, noisy randX ones and randY ones in between, each
    moved from its initialisation by ``moved`` times the initial norm.
    """
    rng = np.random.default_rng(seed)
    n_eval = len(randx_error_rates)
    real = np.r_[np.zeros(n_eval // 2), np.ones(n_eval - n_eval // 2) * 0.6]
    mlp_part, cnn_part = CHAPTER.parts
    meta = lambda part, dataset: {"dims": {k: list(v) for k, v in part.dims.items()},
                                  "config": {"data": {dataset: {"label": "test data"}}}}
    entries = []
    for name, rates in (("real", real), ("randX", randx_error_rates), ("randY", np.linspace(0.7, 0.95, n_eval))):
        arrays = {"misclassified": (rng.random((1, n_runs, n_eval)) < rates).astype(np.uint8),
                  "finite": np.ones(n_runs, dtype=bool), "eval_labels": np.arange(n_eval) % 10,
                  "true_labels": np.arange(n_eval) % 10, "predicted_class_counts": np.full((1, n_runs, 10), n_eval // 10),
                  "checkpoint": np.array([1.0]), "checkpoint_steps": np.array([1])}
        entries.append(("mlp", {"dataset": name}, cache.Result(arrays, meta(mlp_part, "mnist"), True)))
    ramp = np.linspace(0, 1, 5)
    for s in cnn_seeds:
        initial = rng.normal(size=(8, 3, 5, 5))
        smooth = np.ones((8, 3, 5, 5)) * ramp * rng.uniform(0.5, 1.5, size=(8, 3, 1, 1))
        noisy = rng.normal(size=(8, 3, 5, 5))
        norm = np.linalg.norm(initial)
        change = lambda target: initial + moved * norm * (target - initial) / np.linalg.norm(target - initial)
        filters = np.stack([change(smooth), change(0.5 * smooth + 0.1 * noisy), change(noisy)])
        cnn = {"dataset": np.array(easy_examples.CNN_DATASETS), "filters": filters, "initial_filters": initial,
               "train_accuracy": np.full((3, 1), 0.5), "test_accuracy": np.full(3, 0.5), "finite": np.ones(3, bool)}
        entries.append(("cnn", {"seed": s}, cache.Result(cnn, meta(cnn_part, "cifar10"), True)))
    return Results(entries)


def _verdicts(results, profile="cpu"):
    cfg = CHAPTER.config(profile)
    return {c.id: c.verdict for c in CHAPTER.claims(results, cfg)}


def test_binomial_randx_reproduces_and_heterogeneous_randx_does_not():
    homogeneous = _verdicts(_fake_results(np.full(1000, 0.85)))
    assert homogeneous["arpit2017-easy-2"] == "reproduced" and homogeneous["arpit2017-easy-2w"] == "reproduced"
    assert homogeneous["arpit2017-easy-1"] == "reproduced"
    heterogeneous = _verdicts(_fake_results(np.r_[np.full(500, 0.5), np.full(500, 0.99)]))
    assert heterogeneous["arpit2017-easy-2"] == "not reproduced"
    assert heterogeneous["arpit2017-easy-1"] == "not reproduced"  # randX then varies as much as real data


def test_filter_claims_use_seeds_as_replicates_and_need_the_filters_to_have_moved():
    moved = _verdicts(_fake_results(np.full(1000, 0.85)))
    assert moved["arpit2017-easy-4"] == "reproduced" and moved["arpit2017-easy-4b"] == "reproduced"
    barely = _verdicts(_fake_results(np.full(1000, 0.85), moved=0.2))
    assert barely["arpit2017-easy-4"] == "not at this scale" == barely["arpit2017-easy-4b"]
    one_seed = _verdicts(_fake_results(np.full(1000, 0.85), cnn_seeds=(0,)))
    assert one_seed["arpit2017-easy-4"] == "not at this scale"  # one replicate: no interval, no verdict


def test_a_randx_collapsed_onto_one_class_has_no_within_class_verdict_rather_than_nan():
    results = _fake_results(np.full(1000, 0.85))
    cell = results.cell("mlp", dataset="randX")
    cell.arrays["misclassified"] = np.broadcast_to(cell["eval_labels"] != 3, cell["misclassified"].shape).astype(np.uint8)
    claim = {c.id: c for c in CHAPTER.claims(results, CHAPTER.config("cpu"))}["arpit2017-easy-2w"]
    assert claim.verdict == "not at this scale" and claim.interval is None and "nan" not in claim.measured


def test_smoke_profile_never_claims_a_reproduction():
    assert set(_verdicts(_fake_results(np.full(1000, 0.85)), profile="smoke").values()) == {"not at this scale"}


def test_smoke_run_produces_every_figure_array():
    cfg = CHAPTER.config("smoke", n_runs=4, train_size=1000, n_eval=200, cnn_train_size=256)
    results = CHAPTER.run(cfg, device="cpu")
    steps = -(-1000 // cfg["batch_size"])
    for name in easy_examples.DATASETS:
        cell = results.cell("mlp", dataset=name)
        assert list(cell["checkpoint_steps"]) == [round(f * steps) for f in easy_examples.CHECKPOINT_FRACTIONS]
        assert cell["misclassified"].shape == (4, 4, 200)
        assert cell["finite"].all()
    assert results.sel("cnn", "filters", seed=0, dataset="randX").shape == (cfg["cnn_width"], 3, 5, 5)
    assert not np.array_equal(results.sel("cnn", "filters", seed=0, dataset="real"),
                              results.sel("cnn", "initial_filters", seed=0))
    assert len(CHAPTER.claims(results, cfg)) == 7


def test_each_dataset_of_figure_1_is_its_own_cell_and_equals_the_whole_run(isolated_results):
    cfg = CHAPTER.config("smoke", n_runs=3, train_size=600, n_eval=100, cnn_train_size=64)
    alone = CHAPTER.run(cfg, device="cpu", parts=["mlp/dataset=randY"])
    assert [(p, c) for p, c, _ in alone] == [("mlp", {"dataset": "randY"})]
    together = CHAPTER.run(cfg, device="cpu", recompute=True)
    np.testing.assert_array_equal(together.cell("mlp", dataset="randY")["misclassified"],
                                  alone.cell("mlp", dataset="randY")["misclassified"])


@pytest.mark.skipif(not (SHARED_DATA / "cifar10_jpeg.npz").exists(), reason="needs ../shared/data")
def test_a_cnn_result_on_the_jpeg_copy_carries_its_label():
    cfg = CHAPTER.config("smoke", cnn_train_size=3001, cnn_epochs=1, cnn_width=4)
    results = CHAPTER.run(cfg, device="cpu", data_dir=SHARED_DATA, parts=["cnn"])
    assert [c for p, c, _ in results] == [{"seed": 0}]
    assert results.data_labels()["cnn"] == ["CIFAR-10 (JPEG copy)"]


def test_the_initial_mlps_are_drawn_once_and_every_dataset_gets_its_own_copy():
    from memo_utils.ensemble import MLPEnsemble

    sizes, run_seeds = (784, 16, 16, 10), (5, 6, 7)
    first = easy_examples._initial_ensemble(sizes, run_seeds, "cpu")
    fresh = MLPEnsemble(list(sizes), run_seeds)
    assert all(torch.equal(a, b) for a, b in zip(first.parameters(), fresh.parameters()))
    for p in first.parameters():  # training one dataset's copy in place ...
        p.add_(1.0)
    second = easy_examples._initial_ensemble(sizes, run_seeds, "cpu")  # ... leaves the next one's start untouched
    assert all(torch.equal(a, b) for a, b in zip(second.parameters(), fresh.parameters()))
    assert easy_examples._initial_mlps.cache_info().hits >= 1
