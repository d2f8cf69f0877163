"""The easy-examples experiment: its verdicts follow the numbers, and it runs at the smoke profile."""

import numpy as np
import pytest
import torch
from conftest import SHARED_DATA, fake_results

from memo_utils import experiments
from memo_utils.experiments import easy_examples

CHAPTER = experiments.get("easy_examples")


SEEDS = (0, 1, 2, 3, 4, 5)


def _fake_results(
    randx_error_rates,
    n_runs=100,
    seed=0,
    real_error=0.3,
    randy_noise=(0.5,) * 6,
    randy_fit=0.9,
    real_test=0.55,
    randx_outcomes=None,
):
    """Synthetic results: given per-example randX error rates (or (run, example) ``randx_outcomes``), real examples
    of two kinds (easy and hard) with mean error ``real_error``, randY ones spread within each label.

    The CNN cells (one per entry of ``randy_noise``) add to random initial filters W0 a smooth pattern for real data,
    the same pattern plus noise of weight ``randy_noise[seed]`` for randY (0.5: smoothness about 0.3, against 0.9
    for real data), and pure noise for randX.
    """
    rng = np.random.default_rng(seed)
    n_eval = len(randx_error_rates)
    half = n_eval // 2  # mean error real_error: half the examples at max(0, 2e - 1), half at min(1, 2e)
    real = np.r_[np.full(half, max(0.0, 2 * real_error - 1)), np.full(n_eval - half, min(1.0, 2 * real_error))]
    entries = []
    for name, rates in (("real", real), ("randX", randx_error_rates), ("randY", np.linspace(0.7, 0.95, n_eval))):
        wrong = (rng.random((1, n_runs, n_eval)) < rates).astype(np.uint8)
        if name == "randX" and randx_outcomes is not None:
            wrong = randx_outcomes[None].astype(np.uint8)
        arrays = {
            "misclassified": wrong,
            "finite": np.ones(n_runs, dtype=bool),
            "eval_labels": np.arange(n_eval) % 10,
            "true_labels": np.arange(n_eval) % 10,
            "predicted_class_counts": np.full((1, n_runs, 10), n_eval // 10),
            "checkpoint": np.array([1.0]),
            "checkpoint_steps": np.array([1]),
        }
        entries.append(("mlp", {"dataset": name}, arrays))
    ramp = np.linspace(0, 1, 5)
    for s, noise_weight in zip(SEEDS, randy_noise):
        initial = rng.normal(size=(8, 3, 5, 5))
        smooth = np.ones((8, 3, 5, 5)) * ramp * rng.uniform(0.5, 1.5, size=(8, 3, 1, 1))
        learned = [smooth, smooth + noise_weight * rng.normal(size=smooth.shape), rng.normal(size=smooth.shape)]
        cnn = {
            "dataset": np.array(easy_examples.CNN_DATASETS),
            "filters": initial + np.stack(learned),
            "initial_filters": initial,
            "train_accuracy": np.array([[0.99], [randy_fit], [1.0]]),
            "test_accuracy": np.array([real_test, 0.1, 0.1]),
            "finite": np.ones(3, bool),
        }
        entries.append(("cnn", {"seed": s}, cnn))
    return fake_results(CHAPTER, entries)


def _judged(results, profile="cpu"):
    return {c.id: c for c in CHAPTER.judge(results, CHAPTER.config(profile))}


def _verdicts(results, profile="cpu"):
    return {i: c.verdict for i, c in _judged(results, profile).items()}


def test_binomial_randx_reproduces_and_heterogeneous_randx_does_not():
    homogeneous = _verdicts(_fake_results(np.full(1000, 0.85)))
    assert homogeneous["arpit2017-easy-2"] == "reproduced" and homogeneous["arpit2017-easy-2w"] == "reproduced"
    assert homogeneous["arpit2017-easy-1"] == "reproduced"
    heterogeneous = _verdicts(_fake_results(np.r_[np.full(500, 0.5), np.full(500, 0.99)]))
    assert heterogeneous["arpit2017-easy-2"] == "not reproduced"
    assert heterogeneous["arpit2017-easy-1"] == "not reproduced"  # randX then varies as much as real data


def test_randy_overdispersion_within_labels_is_reproduced_but_not_explained_by_digits_equal_to_the_labels():
    verdicts = _verdicts(_fake_results(np.full(1000, 0.85)))
    assert verdicts["arpit2017-easy-3"] == "reproduced" and verdicts["arpit2017-easy-1y"] == "reproduced"
    assert verdicts["arpit2017-easy-3b"] == "not reproduced"  # the true digit is the random label here: ratio 1


def test_runs_that_each_predict_one_class_make_randx_examples_too_alike_to_be_binomial():
    labels = np.arange(1000) % 10
    collapsed = np.arange(100)[:, None] % 10 != labels[None, :]  # run k predicts class k % 10 for every example
    claim = _judged(_fake_results(np.full(1000, 0.85), randx_outcomes=collapsed))["arpit2017-easy-2w"]
    assert claim.estimates[0].estimate == 0 and claim.verdict == "not reproduced"  # a one-sided margin let it pass


def test_a_randx_collapsed_onto_one_class_leaves_nothing_to_test_and_reports_the_groups_left_out():
    labels = np.arange(1000) % 10
    one_class = np.broadcast_to(
        labels != 3, (100, 1000)
    )  # every run predicts class 3: each class always right or wrong
    claim = _judged(_fake_results(np.full(1000, 0.85), randx_outcomes=one_class))["arpit2017-easy-2w"]
    assert claim.verdict == "not at this scale" and "nan" not in claim.measured
    assert "10 group(s), 1000 examples, left out" in claim.measured


def test_figure_1_claims_need_an_epoch_that_learned_the_real_data():
    judged = _judged(_fake_results(np.full(1000, 0.85), real_error=0.4, seed=1))
    unlearned = _judged(_fake_results(np.full(1000, 0.85), real_error=0.7, seed=1))
    figure_1 = [i for i, c in judged.items() if all(n.endswith("MLPs") for n in c.definition.networks)]
    assert len(figure_1) == 6 and judged["arpit2017-easy-2"].verdict == "reproduced"
    assert {unlearned[i].verdict for i in figure_1} == {"not at this scale"}
    assert (
        "misclassification rate" in unlearned["arpit2017-easy-2"].why
        and "needs <= 0.500" in unlearned["arpit2017-easy-2"].why
    )
    assert unlearned["arpit2017-easy-4b"].verdict == "reproduced"  # the CNN claims have their own preconditions


def test_filter_claims_use_seeds_as_replicates_and_each_verdict_arises_where_it_should():
    clear = _verdicts(_fake_results(np.full(1000, 0.85)))
    assert clear["arpit2017-easy-4"] == clear["arpit2017-easy-4b"] == clear["arpit2017-easy-4c"] == "reproduced"
    alike = _verdicts(_fake_results(np.full(1000, 0.85), randy_noise=(0.05,) * 6))
    assert alike["arpit2017-easy-4"] == "not reproduced"  # randY filters as smooth as real ones
    spread = _judged(_fake_results(np.full(1000, 0.85), randy_noise=(0.1, 0.5, 0.15, 0.6, 0.12, 0.45)))
    gap = spread["arpit2017-easy-4"]
    assert gap.verdict == "inconclusive" and gap.replicates_needed > len(SEEDS)  # present in every seed, wide spread
    assert "seeds would resolve it" in gap.why


def test_filter_claims_need_networks_that_learned_cifar10_and_fitted_randy():
    unfitted = _judged(_fake_results(np.full(1000, 0.85), randy_fit=0.3))
    assert {unfitted[i].verdict for i in ("arpit2017-easy-4", "arpit2017-easy-4b", "arpit2017-easy-4c")} == {
        "not at this scale"
    }
    assert "randY CNNs" in unfitted["arpit2017-easy-4b"].why and "0.3" in unfitted["arpit2017-easy-4b"].why
    unlearned = _verdicts(_fake_results(np.full(1000, 0.85), real_test=0.2))
    assert unlearned["arpit2017-easy-4"] == "not at this scale" and unlearned["arpit2017-easy-4b"] == "reproduced"
    one_seed = _fake_results(np.full(1000, 0.85), randy_noise=(0.5,))
    assert _verdicts(one_seed)["arpit2017-easy-4"] == "not at this scale"  # one replicate: no interval, no verdict


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
    assert not np.array_equal(
        results.sel("cnn", "filters", seed=0, dataset="real"), results.sel("cnn", "initial_filters", seed=0)
    )
    assert {c.verdict for c in CHAPTER.judge(results, cfg)} == {"not at this scale"}


def test_each_dataset_of_figure_1_is_its_own_cell_and_equals_the_whole_run(isolated_results):
    cfg = CHAPTER.config("smoke", n_runs=3, train_size=600, n_eval=100, cnn_train_size=64)
    alone = CHAPTER.run(cfg, device="cpu", parts=["mlp/dataset=randY"])
    assert [(p, c) for p, c, _ in alone] == [("mlp", {"dataset": "randY"})]
    together = CHAPTER.run(cfg, device="cpu", recompute=True)
    np.testing.assert_array_equal(
        together.cell("mlp", dataset="randY")["misclassified"], alone.cell("mlp", dataset="randY")["misclassified"]
    )


@pytest.mark.slow  # decodes the JPEG copy and trains
@pytest.mark.skipif(not (SHARED_DATA / "cifar10_jpeg.npz").exists(), reason="needs ../shared/data")
def test_a_cnn_result_on_the_jpeg_copy_carries_its_label():
    cfg = CHAPTER.config("smoke", cnn_train_size=3001, cnn_epochs=1, cnn_width=4)
    results = CHAPTER.run(cfg, device="cpu", data_dir=SHARED_DATA, parts=["cnn"])
    assert [c for p, c, _ in results] == [{"seed": 0}]
    assert results.data_labels()["cnn"] == ["CIFAR-10 (JPEG copy)"]


def test_the_initial_mlps_are_drawn_once_and_every_dataset_gets_its_own_copy():
    from memo_utils.engine.ensemble import MLPEnsemble

    sizes, run_seeds = (784, 16, 16, 10), (5, 6, 7)
    first = easy_examples._initial_ensemble(sizes, run_seeds, "cpu")
    fresh = MLPEnsemble(list(sizes), run_seeds)
    assert all(torch.equal(a, b) for a, b in zip(first.parameters(), fresh.parameters()))
    for p in first.parameters():  # training one dataset's copy in place ...
        p.add_(1.0)
    second = easy_examples._initial_ensemble(sizes, run_seeds, "cpu")  # ... leaves the next one's start untouched
    assert all(torch.equal(a, b) for a, b in zip(second.parameters(), fresh.parameters()))
    assert easy_examples._initial_mlps.cache_info().hits >= 1
