"""The turn-over dropout chapter: a smoke run, the examples its figures show, and verdicts that follow the numbers
(each of the four verdicts arising from synthetic replicates where it should)."""

import numpy as np
import pytest
import torch
from conftest import fake_results

from memo_utils import experiments
from memo_utils.engine import data, per_example
from memo_utils.engine.ensemble import MLPEnsemble
from memo_utils.errors import ConfigError
from memo_utils.experiments import turn_over_dropout as tod
from memo_utils.framework import cache
from memo_utils.framework.chapter import Results

CHAPTER = experiments.get("turn_over_dropout")
CIFAR_IDS = {
    "liu2021-easy-faster-difficult-from-start-cifar10",
    "liu2021-easy-test-higher-cifar10",
    "liu2021-difficult-more-informative-cifar10",
    "liu2021-more-noise-slower-fit",
    "liu2021-noisy-test-peaks-then-falls",
}
FIGURE_9 = "liu2021-sub-networks-converge-early"


def test_smoke_run_gives_scores_accuracies_and_shown_images():
    """The code path only: at the smoke profile every verdict is 'not at this scale'."""
    cfg = CHAPTER.config("smoke")
    results = CHAPTER.run(cfg, device="cpu")
    n, seeds = cfg["train_size"], len(cfg["seeds"])
    for labels in tod.CELLS:
        assert tod.per_seed(results, "scores", "scores", labels=labels).shape == (seeds, n)
        assert tod.per_seed(results, "scores", "muted_accuracy", labels=labels).shape == (seeds, cfg["epochs"])
        assert tod.per_seed(results, "scores", "lowest_similarity", labels=labels).shape == (seeds, 10)
        cell = results.cell("scores", labels=labels, seed_half=0)
        assert cell["lowest_per_class_images"].shape == (10, tod.SHOWN_PER_CLASS, 28, 28)
    assert tod.per_seed(results, "validation", "loo").shape == (seeds, cfg["loo_examples"])
    for name in tod.GRADIENT_CURVES + ("random_subset_accuracy",):
        assert tod.per_seed(results, "dynamics", name).shape == (seeds, cfg["dynamics_epochs"])
    assert tod.per_seed(results, "subsets", "accuracy").shape == (
        seeds,
        len(tod.RUNS),
        len(tod.SUBSETS),
        cfg["subsets_epochs"],
    )
    test_images = len(data.load("mnist", min_train=cfg["train_size"]).x_test)
    assert tod.per_seed(results, "subsets", "test_scores").shape == (seeds, test_images)  # every test example scored
    assert results.sel("cifar", "accuracy").shape == (seeds, len(tod.RUNS), len(tod.SUBSETS), cfg["cifar_epochs"])
    assert results.cell("cifar")["highest_per_class_images"].shape == (10, tod.SHOWN_PER_CLASS, 32, 32, 3)
    assert results.sel("corruption", "test_accuracy", fraction=1.0).shape == (seeds, cfg["cifar_epochs"])
    assert {c.verdict for c in CHAPTER.judge(results, cfg)} == {"not at this scale"}


def test_seed_halves_split_the_seeds_and_per_seed_puts_them_back_in_order():
    cfg = {"seeds": [4, 5, 6, 7, 8]}
    halves = tod.seed_halves(cfg)
    assert [tod._half(cfg, h)["seeds"] for h in halves] == [[4, 5, 6], [7, 8]]
    assert tod.seed_halves({"seeds": [3]}) == [{"seed_half": 0}]
    meta = {"dims": {"x": ["seed"]}, "config": {"data": {}}}
    results = Results(
        [
            ("p", {"seed_half": h}, cache.Result({"seed": np.array(s), "x": np.array(s) * 10.0}, meta, True))
            for h, s in ((1, [7, 8]), (0, [4, 5, 6]))
        ]
    )
    assert tod.per_seed(results, "p", "x").tolist() == [40, 50, 60, 70, 80]


def test_odd_hidden_layers_are_refused_with_one_line():
    with pytest.raises(ConfigError, match="hidden=5 is not allowed: must be even"):
        CHAPTER.config("cpu", hidden=5)


def test_shown_examples_are_the_extremes_of_each_class_and_spread_over_deciles():
    scores = np.arange(100, dtype=float)[::-1]
    labels = np.arange(100) % 10
    shown = tod.shown_examples(scores, labels, per_class=2, per_decile=3)
    assert shown["lowest_per_class"][3].tolist() == [93, 83] and shown["highest_per_class"][3].tolist() == [3, 13]
    assert shown["decile_examples"][0].tolist() == [99, 95, 90]  # the lowest tenth of the scores


def test_mean_pairwise_cosine_is_one_for_copies_and_zero_for_disjoint_strokes():
    stroke = np.zeros((3, 4, 4))
    stroke[:, 1, :] = 1.0
    assert tod.mean_pairwise_cosine(stroke) == pytest.approx(1.0)
    disjoint = np.eye(4).reshape(4, 2, 2)
    assert tod.mean_pairwise_cosine(disjoint) == pytest.approx(0.0)


def test_in_batch_contributions_are_projections_of_per_example_gradients_on_the_batch_gradient():
    """Equation 4 for a minibatch's members, against autograd's per-example gradients of the same MLP."""
    torch.manual_seed(0)
    ensemble = MLPEnsemble([6, 5, 3], [1], dtype=torch.float64)
    x, y = torch.randn(7, 6, dtype=torch.float64), torch.randint(3, (7,))
    contribution = tod.in_batch_contributions(per_example.mlp_gradient_factors(ensemble, x, y[None]))[0]
    grads = []
    for i in range(len(x)):
        params = [p.clone().requires_grad_(True) for p in ensemble.parameters()]
        h = torch.relu(x[i] @ params[0][0] + params[1][0, 0])
        loss = torch.nn.functional.cross_entropy((h @ params[2][0] + params[3][0, 0])[None], y[i : i + 1])
        grads.append(torch.cat([g.flatten() for g in torch.autograd.grad(loss, params)]))
    v = torch.stack(grads)
    g = v.mean(0)
    torch.testing.assert_close(contribution, v @ g / g.norm())
    torch.testing.assert_close(contribution.mean(), g.norm())  # all members together: |g|


def test_smoothing_is_a_centred_mean_that_shrinks_at_the_ends():
    np.testing.assert_allclose(tod.smoothed([[1.0, 2, 3, 4, 5, 6]], window=3), [[1.5, 2, 3, 4, 5, 5.5]])


def test_subsets_are_the_score_extremes_and_each_run_trains_on_its_own():
    scores = torch.tensor([[5.0, 0.1, 3.0, -1.0, 2.0, 9.0, 0.0, 4.0, 1.0, 7.0]])
    easy, difficult = tod.split_by_score(scores, 0.2)
    assert easy.tolist() == [[3, 6]] and difficult.tolist() == [[5, 9]]
    subsets = {"easy": easy, "difficult": difficult}
    keep = tod._kept(subsets, 10)[0]
    assert keep[tod.RUNS.index("full")].all()
    assert torch.nonzero(~keep[tod.RUNS.index("control")])[:, 0].tolist() == [5, 9]
    assert torch.nonzero(keep[tod.RUNS.index("easy_only")])[:, 0].tolist() == [3, 6]
    assert torch.nonzero(keep[tod.RUNS.index("difficult_only")])[:, 0].tolist() == [5, 9]


@pytest.mark.parametrize(
    "override, message",
    [
        ({"subset_fraction": 0.6}, "subset_fraction=0.6 is not allowed: must be in (0, 0.5]"),
        ({"vgg_width": 0.3}, "vgg_width=0.3 is not allowed: every VGG-11 layer must have an even number of channels"),
        ({"corrupted_fractions": [0.5, 0.0]}, "corrupted_fractions=[0.5, 0.0] is not allowed: list distinct shares"),
    ],
)
def test_settings_that_would_break_a_figure_are_refused_with_one_line(override, message):
    with pytest.raises(
        ConfigError, match=message.replace("(", r"\(").replace(")", r"\)").replace("[", r"\[").replace("]", r"\]")
    ):
        CHAPTER.config("gpu", **override)


# --- Synthetic results: each verdict where it should arise -----------------------------------------

EPOCHS = 40


def _as_the_paper(k):
    """Figure 3 as the paper draws it, seed k: the test accuracy peaks near epoch 12, when the true labels are fitted
    and the random ones barely are, and falls by about 0.2 as the random labels are fitted."""
    t = np.arange(EPOCHS)
    random = np.clip(0.1 + 0.9 * (t - 12) / 25, 0.1, 1.0)
    test = 0.9 - 0.25 * (random - 0.1) - 0.3 * np.exp(-t / 3) + 0.002 * k
    return test, random, np.clip(0.6 + 0.05 * t, 0, 0.99)


def _rising(k):
    """The test accuracy never falls (and the random labels are still fitted)."""
    return np.linspace(0.5, 0.9, EPOCHS), np.linspace(0.1, 0.9, EPOCHS), np.full(EPOCHS, 0.99)


def _never_memorised(k):
    return np.full(EPOCHS, 0.8), np.full(EPOCHS, 0.15), np.full(EPOCHS, 0.99)


AGREEING = {
    "easy_cosine": 0.3,
    "difficult_cosine": 0.05,
    "easy_contribution": 0.5,
    "difficult_contribution": 2.0,
    "all_contribution": 1.0,
    "easy_contribution_outside": 0.5,
    "difficult_contribution_outside": 0.4,
}
REVERSED = {
    "easy_cosine": 0.05,
    "difficult_cosine": 0.3,
    "easy_contribution": 2.0,
    "difficult_contribution": 0.5,
    "all_contribution": 1.0,
    "easy_contribution_outside": 2.0,
    "difficult_contribution_outside": 0.5,
}


def _subset_curves(seeds, as_the_paper, epochs=20):
    """Figures 5 and 6's accuracy (seed, run, subset, epoch): as the paper finds, or every effect reversed."""
    t = np.linspace(0, 1, epochs)
    rise = lambda start, end, speed: end - (end - start) * np.exp(-speed * t)
    curves = {
        ("full", "easy"): rise(0.8, 1.0, 20),
        ("full", "difficult"): rise(0.4, 1.0, 3),
        ("control", "difficult"): rise(0.3, 0.6, 3),
        ("full", "easy_test"): rise(0.8, 0.95, 20),
        ("full", "difficult_test"): rise(0.4, 0.6, 3),
        ("full", "test"): rise(0.7, 0.95, 10),
        ("easy_only", "easy"): rise(0.8, 1.0, 20),
        ("easy_only", "difficult"): rise(0.3, 0.4, 3),
        ("difficult_only", "difficult"): rise(0.3, 1.0, 3),
        ("difficult_only", "easy"): rise(0.5, 0.9, 3),
    }
    if not as_the_paper:
        swap = {
            "easy": "difficult",
            "difficult": "easy",
            "easy_test": "difficult_test",
            "difficult_test": "easy_test",
            "easy_only": "difficult_only",
            "difficult_only": "easy_only",
        }
        curves = {(swap.get(r, r), swap.get(s, s)): c for (r, s), c in curves.items()}
        curves[("control", "difficult")] = curves[("full", "difficult")] + 0.05  # never trained on, still better
        curves[("full", "easy")] = np.maximum(curves[("full", "easy")], 0.95)  # the easy subset still fitted
    accuracy = np.full((len(seeds), len(tod.RUNS), len(tod.SUBSETS), epochs), 0.95)
    for (run, subset), curve in curves.items():
        accuracy[:, tod.RUNS.index(run), tod.SUBSETS.index(subset)] = curve + 0.002 * np.arange(len(seeds))[:, None]
    return accuracy


def _fake_results(
    cfg,
    clean_scores,
    corrupted_scores,
    turn_over_vs_reference,
    fit=0.99,
    memorised=0.9,
    muted_right=1.0,
    stable=True,
    dynamics=_as_the_paper,
    gradients=AGREEING,
    subsets_as_the_paper=True,
    typical=True,
):
    """Every part's cells, split into seed halves as the run splits them, with the given score generators (per
    seed) and a validation part whose turn-over scores relate to the references by ``turn_over_vs_reference``.
    The unmuted sub-networks get a true label right with probability ``fit``, a random one with ``memorised``;
    the muted ones agree with them with probability ``muted_right``; ``stable`` curves of Figure 9 stay flat."""
    seeds, n = cfg["seeds"], 300
    rng = np.random.default_rng(0)
    arrays = {}
    for labels in tod.CELLS:
        corrupted = np.zeros((len(seeds), n), bool)
        if labels == "corrupted":
            corrupted[:, : n // 3] = True
        scores = np.array([clean_scores(s, rng, n) for s in seeds])
        if labels == "corrupted":
            scores[corrupted] = np.concatenate([corrupted_scores(s, rng, n // 3) for s in seeds])
        y = np.tile(np.arange(n) % 10, (len(seeds), 1))
        right = np.where(corrupted, rng.random(y.shape) < memorised, rng.random(y.shape) < fit)
        predicted = np.where(right, y, (y + 1) % 10)
        muted = np.where(rng.random(y.shape) < muted_right, predicted, (predicted + 1) % 10)
        curve = np.tile(np.linspace(0.99 if stable else 0.5, 1.0, cfg["epochs"]), (len(seeds), 1))
        alike = np.full((len(seeds), 10), 0.6 if typical else 0.3)
        arrays[("scores", labels)] = {
            "scores": scores,
            "labels": y,
            "corrupted": corrupted,
            "unmuted_prediction": predicted,
            "muted_prediction": muted,
            "finite": np.ones(len(seeds), bool),
            "unmuted_accuracy": curve,
            "muted_accuracy": curve,
            "lowest_similarity": alike,
            "highest_similarity": np.full((len(seeds), 10), 0.45),
        }
    reference = rng.normal(size=(len(seeds), 200))
    arrays[("validation", None)] = {
        "loo": reference[:, :40],
        "subsampling": reference,
        "corrupted": np.zeros((len(seeds), 200), bool),
        "turn_over": np.array([turn_over_vs_reference(r, s) for r, s in zip(reference, seeds)]),
    }
    test, random, true = (np.array(curves) for curves in zip(*(dynamics(k) for k in range(len(seeds)))))
    jitter = 0.001 * np.arange(len(seeds))[:, None]
    arrays[("dynamics", None)] = {
        "finite": np.ones(len(seeds), bool),
        "test_accuracy": test,
        "random_subset_accuracy": random,
        "true_subset_accuracy": true,
        "train_accuracy": np.ones_like(test),
        **{name: np.full(test.shape, value) + jitter for name, value in gradients.items()},
    }
    arrays[("subsets", None)] = {
        "accuracy": _subset_curves(seeds, subsets_as_the_paper),
        "finite": np.ones((len(seeds), len(tod.RUNS)), bool),
    }
    entries = [
        entry
        for (part, labels), values in arrays.items()
        for entry in _halves(cfg, part, {} if labels is None else {"labels": labels}, values)
    ]
    if cfg["cifar"]:
        entries.append(("cifar", {}, {"seed": np.array(seeds), **arrays[("subsets", None)]}))
        for fraction in cfg["corrupted_fractions"]:
            curves = _as_the_paper(0) if subsets_as_the_paper else _rising(0)
            fitted = np.clip(
                np.linspace(0.3, 1.0, EPOCHS) - (0.3 * fraction if subsets_as_the_paper else -0.3 * fraction), 0, 1
            )
            entries.append(
                (
                    "corruption",
                    {"fraction": fraction},
                    {
                        "seed": np.array(seeds),
                        "finite": np.ones(len(seeds), bool),
                        "train_accuracy": fitted + jitter,
                        "test_accuracy": (curves[0] if 0 < fraction < 1 else np.full(EPOCHS, 0.8)) + jitter,
                    },
                )
            )
    return fake_results(CHAPTER, entries)


def _halves(cfg, part, coords, arrays):
    """One entry per seed half, as the run splits the MNIST parts' seeds."""
    out, start = [], 0
    for half in tod.seed_halves(cfg):
        seeds = tod._half(cfg, half)["seeds"]
        rows = {name: values[start : start + len(seeds)] for name, values in arrays.items()}
        out.append((part, {**coords, **half}, {"seed": np.array(seeds), **rows}))
        start += len(seeds)
    return out


LONG_TAIL = lambda s, rng, n: rng.exponential(1.0, n) ** 2  # skewness far above 1
HIGH = lambda s, rng, n: 5 + rng.random(n)
SYMMETRIC = lambda s, rng, n: rng.normal(size=n)
CLOSE = lambda reference, s: reference + 0.1 * np.random.default_rng(s).normal(size=reference.shape)
UNRELATED = lambda reference, s: np.random.default_rng(s).normal(size=reference.shape)


def _verdicts(cfg, **kwargs):
    return {c.id: c.verdict for c in CHAPTER.judge(_fake_results(cfg, **kwargs), cfg)}


def test_the_papers_effects_are_reproduced_and_cifar_and_figure_9_are_not_at_this_scale_at_cpu():
    cfg = CHAPTER.config("cpu")
    verdicts = _verdicts(cfg, clean_scores=LONG_TAIL, corrupted_scores=HIGH, turn_over_vs_reference=CLOSE)
    assert {verdicts.pop(i) for i in CIFAR_IDS | {FIGURE_9}} == {"not at this scale"}
    assert set(verdicts.values()) == {"reproduced"}, verdicts


def test_the_papers_effects_are_reproduced_with_cifar_on_and_long_enough_training():
    cfg = CHAPTER.config("cpu", cifar=True, epochs=120)  # 120 epochs of 20 steps: twice the paper's first five
    verdicts = _verdicts(cfg, clean_scores=LONG_TAIL, corrupted_scores=HIGH, turn_over_vs_reference=CLOSE)
    assert set(verdicts.values()) == {"reproduced"}, verdicts


def test_reversed_effects_are_not_reproduced():
    cfg = CHAPTER.config("cpu", cifar=True, epochs=120)
    verdicts = _verdicts(
        cfg,
        clean_scores=SYMMETRIC,
        corrupted_scores=SYMMETRIC,
        turn_over_vs_reference=UNRELATED,
        dynamics=_rising,
        gradients=REVERSED,
        subsets_as_the_paper=False,
        typical=False,
        muted_right=0.5,
        stable=False,
    )
    assert set(verdicts.values()) == {"not reproduced"}, verdicts


def test_an_effect_in_every_seed_with_a_wide_spread_is_inconclusive():
    """The issue's case: the test accuracy falls by 0.26, 0.13 and 0.10 after its peak in three seeds. Every seed
    shows the fall, but three seeds this far apart cannot place it above two points of accuracy."""
    cfg = CHAPTER.config("cpu", seeds=[0, 1, 2])
    falls = (0.26, 0.13, 0.10)

    def spread(k):
        test, random, true = _as_the_paper(0)
        peak = int(np.argmax(test))
        test = test.copy()
        test[peak + 1 :] = test[peak] - falls[k] * np.linspace(0, 1, EPOCHS - peak - 1) ** 0.5
        return test, random, true

    claims = {c.id: c for c in CHAPTER.judge(_fake_results(cfg, LONG_TAIL, HIGH, CLOSE, dynamics=spread), cfg)}
    claim = claims["liu2021-test-peaks-before-random-fitted"]
    assert claim.verdict == "inconclusive" and claim.outcomes[0] == "inconclusive"
    assert claim.estimates[0].low < tod.ACCURACY_STEP < claim.estimates[0].estimate
    assert claim.replicates_needed > 3 and "would resolve it" in claim.why


def test_a_failing_precondition_gives_not_at_this_scale_and_names_it():
    cfg = CHAPTER.config("cpu")
    claims = {
        c.id: c
        for c in CHAPTER.judge(
            _fake_results(cfg, LONG_TAIL, HIGH, CLOSE, dynamics=_never_memorised, memorised=0.3), cfg
        )
    }
    for claim_id in (
        "liu2021-test-peaks-before-random-fitted",
        "liu2021-easy-gradients-agree",
        "liu2021-difficult-gradients-contribute",
    ):
        assert claims[claim_id].verdict == "not at this scale"
        assert "random-label subset's final smoothed training accuracy" in claims[claim_id].why
    assert claims["liu2021-corrupted-score-higher"].verdict == "not at this scale"
    assert "random-label examples" in claims["liu2021-corrupted-score-higher"].why
    assert claims["liu2021-long-tail"].verdict == "reproduced"  # other networks are not affected
    unfit = _verdicts(cfg, clean_scores=LONG_TAIL, corrupted_scores=HIGH, turn_over_vs_reference=CLOSE, fit=0.5)
    assert unfit["liu2021-long-tail"] == unfit["liu2021-easiest-typical"] == "not at this scale"


def test_figure_9_needs_more_sgd_steps_than_the_papers_first_five_epochs():
    cfg = CHAPTER.config("cpu")
    claim = {c.id: c for c in CHAPTER.judge(_fake_results(cfg, LONG_TAIL, HIGH, CLOSE), cfg)}[FIGURE_9]
    ((precondition, value),) = [(p, v) for p, v in claim.failed]
    assert precondition.id == "clean-long-enough"
    assert value == pytest.approx(cfg["epochs"] * -(-cfg["train_size"] // cfg["batch_size"]) / tod.PAPER_STEPS)


def test_subset_claims_are_not_at_this_scale_when_the_subset_runs_did_not_fit():
    cfg = CHAPTER.config("cpu")
    results = _fake_results(cfg, LONG_TAIL, HIGH, CLOSE)
    for half in tod.seed_halves(cfg):
        accuracy = results.cell("subsets", **half)["accuracy"]
        accuracy[:, tod.RUNS.index("difficult_only"), tod.SUBSETS.index("difficult")] = 0.5  # never fitted
    verdicts = {c.id: c.verdict for c in CHAPTER.judge(results, cfg)}
    assert verdicts["liu2021-difficult-more-informative-mnist"] == "not at this scale"
    assert verdicts["liu2021-easy-test-higher-mnist"] == "reproduced"


def test_figure_10_claims_need_a_run_without_random_labels():
    cfg = CHAPTER.config("cpu", cifar=True, corrupted_fractions=[0.2, 0.4])
    claims = {c.id: c for c in CHAPTER.judge(_fake_results(cfg, LONG_TAIL, HIGH, CLOSE), cfg)}
    claim = claims["liu2021-noisy-test-peaks-then-falls"]
    assert claim.verdict == "not at this scale" and "corrupted_fractions=[0.2, 0.4] needs 0" in claim.measured


def test_undefined_reference_scores_are_left_out_of_the_rank_correlation_and_counted():
    reference = np.array([0.1, np.nan, 0.3, 0.2, np.nan, 0.5])
    estimates = np.array([1.0, 9.0, 3.0, 2.0, -9.0, 5.0])
    rho, left_out = tod.defined_spearman(estimates, reference)
    assert rho == pytest.approx(1.0) and left_out == 2
