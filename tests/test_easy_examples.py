"""The easy-examples experiment: its verdicts follow the numbers, and it runs at the smoke profile."""
import numpy as np
import pytest

from memo_utils import cache
from memo_utils.experiments import easy_examples

from conftest import SHARED_DATA


def _fake_results(randx_error_rates, n_runs=100, seed=0):
    """Results whose randX misclassification has given per-example rates; real and randY fixed."""
    rng = np.random.default_rng(seed)
    n_eval = len(randx_error_rates)
    real = np.r_[np.zeros(n_eval // 2), np.ones(n_eval - n_eval // 2) * 0.6]
    arrays = {"data_label": np.array("test data"), "checkpoint_steps": np.array([1])}
    for name, rates in (("real", real), ("randX", randx_error_rates), ("randY", np.linspace(0.7, 0.95, n_eval))):
        arrays[f"{name}_misclassified"] = (rng.random((1, n_runs, n_eval)) < rates).astype(np.uint8)
        arrays[f"{name}_finite"] = np.ones(n_runs, dtype=bool)
        arrays[f"{name}_eval_labels"] = np.arange(n_eval) % 10
    smooth = np.ones((8, 3, 5, 5)) * np.linspace(0, 1, 5)
    noisy = rng.normal(size=(8, 3, 5, 5))
    cnn = {"data_label": np.array("test data")}
    for name, filters in (("real", smooth), ("randY", noisy)):
        cnn.update({f"{name}_filters": filters, f"{name}_initial_filters": noisy,
                    f"{name}_train_accuracy": np.array([0.5]), f"{name}_test_accuracy": np.array(0.5),
                    f"{name}_finite": np.array(True)})
    meta = {}
    return {"mlp": cache.Result(arrays, meta, True), "cnn": cache.Result(cnn, meta, True)}


def _verdicts(results, profile="cpu"):
    cfg = easy_examples.config(profile)
    return {c.id: c.verdict for c in easy_examples.claims(results, cfg)}


def test_binomial_randx_reproduces_and_heterogeneous_randx_does_not():
    homogeneous = _verdicts(_fake_results(np.full(1000, 0.85)))
    assert homogeneous["arpit2017-easy-2"] == "reproduced"
    assert homogeneous["arpit2017-easy-1"] == "reproduced"
    heterogeneous = _verdicts(_fake_results(np.r_[np.full(500, 0.5), np.full(500, 0.99)]))
    assert heterogeneous["arpit2017-easy-2"] == "not reproduced"
    assert heterogeneous["arpit2017-easy-1"] == "not reproduced"  # randX then varies as much as real data


def test_smoke_profile_never_claims_a_reproduction():
    assert set(_verdicts(_fake_results(np.full(1000, 0.85)), profile="smoke").values()) == {"not at this scale"}


def test_smoke_run_produces_every_figure_array():
    cfg = easy_examples.config("smoke", n_runs=4, train_size=1000, n_eval=200, cnn_train_size=256)
    results = easy_examples.run(cfg, device="cpu")
    mlp, cnn = results["mlp"], results["cnn"]
    steps = -(-1000 // cfg["batch_size"])
    assert list(mlp["checkpoint_steps"]) == [round(f * steps) for f in easy_examples.CHECKPOINT_FRACTIONS]
    for name in easy_examples.DATASETS:
        assert mlp[f"{name}_misclassified"].shape == (4, 4, 200)
        assert mlp[f"{name}_finite"].all()
    assert cnn["real_filters"].shape == (cfg["cnn_width"], 3, 5, 5)
    assert not np.array_equal(cnn["real_filters"], cnn["real_initial_filters"])
    assert len(easy_examples.claims(results, cfg)) == 4


@pytest.mark.skipif(not (SHARED_DATA / "cifar10_jpeg.npz").exists(), reason="needs ../shared/data")
def test_a_cnn_result_on_the_jpeg_copy_carries_its_label():
    cfg = easy_examples.config("smoke", cnn_train_size=3001, cnn_epochs=1, cnn_width=4)
    results = easy_examples.run(cfg, device="cpu", data_dir=SHARED_DATA)
    assert str(results["cnn"]["data_label"]) == "CIFAR-10 (JPEG copy)"
    assert all(c.data == "CIFAR-10 (JPEG copy)" for c in easy_examples.claims(results, cfg) if c.figure == "Fig. 2")
