"""The dissection chapter: a smoke run, Dist from stored outputs, and verdicts that follow the numbers."""
import numpy as np
import pytest

from memo_utils import cache, experiments
from memo_utils.chapter import Results
from memo_utils.errors import ConfigError
from memo_utils.experiments import dissection as dis

CHAPTER = experiments.get("dissection")


def test_smoke_run_gives_curves_outputs_and_images_for_every_cell():
    """The code path only: one replicate gives no interval, so every verdict is 'not at this scale'."""
    cfg = CHAPTER.config("smoke")
    results = CHAPTER.run(cfg, device="cpu")
    for cell in dis.cells(cfg):
        n_models = len(dis.architectures(cfg, cell))
        assert results.sel("train", "input_gradient", **cell).shape == (cfg["replicates"], n_models, cfg["epochs"])
        assert dis.dist(results, cell, "logit").shape == (cfg["replicates"], n_models - 1)
        assert results.cell("train", **cell)["x_star"].shape == (1, 10, cfg["am_codes"], 32, 32, 3)
    assert {c.verdict for c in CHAPTER.claims(results, cfg)} == {"not at this scale"}


def test_bad_objectives_are_refused_with_one_line():
    with pytest.raises(ConfigError, match="am_objectives=.*logit, log_softmax"):
        CHAPTER.config("cpu", am_objectives=["softmax"])
    assert CHAPTER.config("cpu", am_objectives=["log_softmax", "logit"])["am_objectives"] == ["logit", "log_softmax"]


def test_hunting_and_crossing_epochs():
    gradient = np.array([[1.0, 1.0, 4.0, 10.0, 6.0], [8.0, 9.0, 10.0, 2.0, 1.0], [1.0, np.nan, 1.0, 1.0, 1.0]])
    assert dis.hunting_epochs(gradient)[:2].tolist() == [3, 0]
    assert np.isnan(dis.hunting_epochs(gradient)[2])  # a diverged run has no hunting stage to measure
    epochs, censored = dis.crossing_epochs(np.array([[0.1, 0.6, 0.9], [0.1, 0.2, 0.3]]))
    assert epochs.tolist() == [2, 3] and censored.tolist() == [False, True]


def _fake_results(cfg, dist_of, fit=0.99, crossing=None, hunting=None, gan_hash=lambda cell: "same"):
    """Cells whose f2 outputs give Dist(f1, f2) = dist_of(cell, replicate, k) (via two-class logits), whose networks
    reach final training accuracy ``fit``, whose VGG-11 runs cross 50% at ``crossing(cell, replicate, k)`` and
    have G peak after ``hunting(cell, replicate, k)`` epochs, and whose DCGAN's weights hash to ``gan_hash(cell)``."""
    part = CHAPTER.part("train")
    meta = {"dims": {k: list(v) for k, v in part.dims.items()}, "config": {"data": {"d": {"label": "t"}}}}
    entries = []
    epochs, replicates = cfg["epochs"], cfg["replicates"]
    for cell in dis.cells(cfg):
        models = len(dis.architectures(cfg, cell))
        logits = np.full((replicates, len(cfg["am_objectives"]), models, 10, cfg["am_codes"], 10), -100.0)
        logits[..., 0] = 0.0  # f1 puts all its mass on class 0
        for r in range(replicates):
            for k in range(1, models):  # f2 gives class 0 the probability exp(-t), the rest to class 1: KL = t
                logits[r, :, k, ..., 1] = np.log(np.expm1(dist_of(cell, r, k)))
        accuracy = np.array([[[0.1 if (e + 1) < (crossing(cell, r, k) if crossing else 1) else 0.99
                               for e in range(epochs)] for k in range(models)] for r in range(replicates)])
        gradient = np.array([[[10.0 if e >= (hunting(cell, r, k) if hunting else 0) else 1.0
                               for e in range(epochs)] for k in range(models)] for r in range(replicates)])
        arrays = {"replicate": np.arange(replicates), "model": np.array(dis.model_names(dis.architectures(cfg, cell))),
                  "objective": np.array(cfg["am_objectives"]), "train_accuracy": accuracy,
                  "train_loss": 1 - accuracy, "input_gradient": gradient, "val_accuracy": np.full_like(accuracy, 0.5),
                  "final_train_accuracy": np.full((replicates, models), fit), "finite": np.ones((replicates, models), bool),
                  "am_logits": logits.astype(np.float32), "gan_finite": np.array(True),
                  "gan_weights_sha256": np.array(gan_hash(cell))}
        entries.append(("train", cell, cache.Result(arrays, meta, True)))
    return Results(entries)


def test_dist_is_read_from_the_stored_outputs():
    cfg = CHAPTER.config("cpu")
    results = _fake_results(cfg, lambda cell, r, k: 1.0 + r + 0.1 * k)
    np.testing.assert_allclose(dis.dist(results, dis.TRUE_LABELS, "logit"), [[1.1, 1.2], [2.1, 2.2], [3.1, 3.2]], rtol=1e-4)


def test_claims_follow_the_numbers():
    cfg = CHAPTER.config("cpu", replicates=3)
    memorized = lambda cell, r, k: (0.1 + 0.9 * cell["fraction"]) * (1 + 0.05 * r) * (1 + 0.1 * k)
    crossing = lambda cell, r, k: 3 if cell["fraction"] < 1 else 3 + k * (2 + r)  # s1 and s2 apart on X_R only
    hunting = lambda cell, r, k: 0 if cell["fraction"] < 1 else 4 + r + k
    verdicts = {c.id: c.verdict for c in CHAPTER.claims(_fake_results(cfg, memorized, crossing=crossing,
                                                                      hunting=hunting), cfg)}
    assert verdicts["gu2019-one-way-to-learn-seed"] == verdicts["gu2019-one-way-to-learn-size"] == "reproduced"
    # ResNet-32 and the log-probability objective are not run at cpu
    assert verdicts["gu2019-one-way-to-learn-architecture"] == "not at this scale"
    assert verdicts["gu2019-one-way-to-learn-log-softmax"] == "not at this scale"
    assert verdicts["gu2019-dist-grows-with-label-noise"] == "reproduced"
    assert verdicts["gu2019-hunting-stage"] == "reproduced"
    assert verdicts["gu2019-diverse-paths"] == "reproduced"
    assert verdicts["gu2019-ablation-weight-decay"] == "reproduced"  # the ablation cells equal X_R
    assert verdicts["gu2019-vgg11-test-accuracy"] == "not at this scale"
    # the same Dist everywhere, the same paths: nothing reproduced
    flat = {c.id: c.verdict for c in CHAPTER.claims(_fake_results(cfg, lambda cell, r, k: 1.0 + 0.01 * r), cfg)}
    for claim in ("one-way-to-learn-seed", "one-way-to-learn-size", "dist-grows-with-label-noise", "hunting-stage", "diverse-paths"):
        assert flat[f"gu2019-{claim}"] == "not reproduced"
    # augmentation that triples Dist on X_R is not "about unchanged"
    tripled = lambda cell, r, k: memorized(cell, r, k) * (3 if cell["regularizer"] == "augmentation" else 1)
    assert {c.id: c.verdict for c in CHAPTER.claims(_fake_results(cfg, tripled), cfg)}[
        "gu2019-ablation-augmentation"] == "not reproduced"
    # networks that did not fit their labels: not at this scale
    unfit = {c.id: c.verdict for c in CHAPTER.claims(_fake_results(cfg, memorized, fit=0.5), cfg)}
    assert unfit["gu2019-one-way-to-learn-seed"] == unfit["gu2019-ablation-augmentation"] == "not at this scale"


def test_the_paper_objectives_and_architectures_have_their_own_rows_when_run():
    cfg = CHAPTER.config("cpu", replicates=3, am_objectives=["logit", "log_softmax"], other_architectures=["vgg13", "resnet32"])
    memorized = lambda cell, r, k: (0.1 + 0.9 * cell["fraction"]) * (1 + 0.05 * r) * (1 + 0.1 * k)
    verdicts = {c.id: c.verdict for c in CHAPTER.claims(_fake_results(cfg, memorized), cfg)}
    for row in ("seed", "size", "architecture", "log-softmax"):
        assert verdicts[f"gu2019-one-way-to-learn-{row}"] == "reproduced"
    # one f2 alike on both datasets fails the pooled log-probability row
    resnet_alike = lambda cell, r, k: 0.5 * (1 + 0.05 * r) if k == 3 else memorized(cell, r, k)
    verdicts = {c.id: c.verdict for c in CHAPTER.claims(_fake_results(cfg, resnet_alike), cfg)}
    assert verdicts["gu2019-one-way-to-learn-architecture"] == verdicts["gu2019-one-way-to-learn-log-softmax"] == "not reproduced"
    assert verdicts["gu2019-one-way-to-learn-size"] == "reproduced"


def test_cells_that_used_different_dcgans_are_not_compared():
    cfg = CHAPTER.config("cpu", replicates=3)
    memorized = lambda cell, r, k: (0.1 + 0.9 * cell["fraction"]) * (1 + 0.05 * r) * (1 + 0.1 * k)
    claims = CHAPTER.claims(_fake_results(cfg, memorized, gan_hash=lambda cell: str(cell["fraction"])), cfg)
    verdicts = {c.id: c for c in claims}
    assert verdicts["gu2019-one-way-to-learn-seed"].verdict == "not at this scale"
    assert "one DCGAN served every cell (no)" in verdicts["gu2019-one-way-to-learn-seed"].precondition


def test_a_diverged_network_fails_the_fit_precondition():
    cfg = CHAPTER.config("cpu", replicates=3)
    memorized = lambda cell, r, k: (0.1 + 0.9 * cell["fraction"]) * (1 + 0.05 * r) * (1 + 0.1 * k)
    results = _fake_results(cfg, memorized)
    results.cell("train", **dis.RANDOM_LABELS).arrays["finite"][1, 0] = False
    verdicts = {c.id: c.verdict for c in CHAPTER.claims(results, cfg)}
    assert verdicts["gu2019-one-way-to-learn-seed"] == verdicts["gu2019-hunting-stage"] == "not at this scale"
