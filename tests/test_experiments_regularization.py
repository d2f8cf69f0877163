"""The regularization chapter: a smoke run, Figure 10's curves in shares read at half memorization, and verdicts that
follow synthetic numbers (reproduced, not reproduced, inconclusive, not at this scale)."""

import numpy as np
import pytest
from conftest import fake_results

from memo_utils import experiments
from memo_utils.errors import ConfigError
from memo_utils.experiments import regularization as reg
from memo_utils.framework.claims import format_number

CHAPTER = experiments.get("regularization")
SEEDS = [0, 1, 2, 3, 4]
ORDER = {
    r: i + 1 for i, r in enumerate(reg.SINGLE)
}  # distinct fits at the strongest strengths, so orderings have no ties


def test_smoke_run_gives_curves_per_strength_and_seed_for_every_regularizer():
    cfg = CHAPTER.config("smoke")
    results = CHAPTER.run(cfg, device="cpu")
    for regularizer in reg.REGULARIZERS:
        n = len(reg.strengths(cfg, regularizer))
        assert reg.curve(results, cfg, regularizer, "randY", "train_loss").shape == (
            n,
            len(cfg["seeds"]),
            cfg["epochs"],
        )
        memorized, generalized = reg.figure_10_points(results, cfg, regularizer)
        assert memorized.shape == generalized.shape == (n, len(cfg["seeds"]))
    assert {c.verdict for c in CHAPTER.judge(results, cfg)} == {"not at this scale"}


def test_bad_strengths_are_refused_with_one_line():
    with pytest.raises(ConfigError, match="dropout_rates=.*below 1"):
        CHAPTER.config("cpu", dropout_rates=[0.5, 1.0])
    with pytest.raises(ConfigError, match="weight_decays=.*positive numbers"):
        CHAPTER.config("cpu", weight_decays=[-0.1])
    assert "adversarial" not in reg.run_regularizers(CHAPTER.config("cpu"))  # left out of the cpu budget


def _fake_results(cfg, randy_fit, val_best, real_fit=lambda regularizer, position, seed: 0.99):
    """Cells whose final randY (real-data) training accuracy is ``randy_fit`` (``real_fit``) of (regularizer, position,
    seed) and whose real-data validation accuracy peaks at ``val_best(regularizer, position, seed)``. ``position`` is a
    strength's place along its regularizer's strengths, 0 (unregularized) to 1 (the strongest)."""
    entries = []
    for cell in reg.cells(cfg):
        r = cell["regularizer"]
        levels = reg.own_zero_point(r) + ([] if r == "none" else list(cfg[reg.REGULARIZERS[r][0]]))
        every = [0.0] if r == "none" else reg.strengths(cfg, r)
        positions = [every.index(s) / max(len(every) - 1, 1) for s in levels]
        fit_of = randy_fit if cell["data"] == "randY" else real_fit
        fit = np.array([[fit_of(r, p, seed) for seed in cfg["seeds"]] for p in positions])
        best = np.array([[val_best(r, p, seed) for seed in cfg["seeds"]] for p in positions])
        ramp = np.linspace(0.5, 1.0, cfg["epochs"])
        arrays = {
            "strength": np.array(levels),
            "seed": np.array(cfg["seeds"]),
            "train_loss": 2 - fit[..., None] * ramp,
            "train_accuracy": fit[..., None] * ramp,
            "final_train_accuracy": fit,
            "val_accuracy": best[..., None] * ramp,
            "finite": np.ones(fit.shape, bool),
        }
        entries.append(("train", cell, arrays))
    return fake_results(CHAPTER, entries)


def _memorizing(position_scale=1.0, none_fit=0.9):
    """randY fit: ``none_fit`` unregularized, falling linearly with the strength to nearly chance (a little more left
    for each regularizer in ORDER, so the orderings have no ties); ``position_scale`` < 1 stops the fall early."""
    kept = lambda r, p: 1 - p * position_scale * (1 - 0.04 * ORDER.get(r, 0))
    return lambda r, p, seed: reg.CHANCE + (none_fit - reg.CHANCE) * kept(r, p)


def _learning(cost, none_val=0.5):
    """Best validation accuracy: ``none_val`` unregularized, losing ``cost(r, seed)`` of its share above chance at the
    strongest strength (linearly in between). Under _memorizing(), half of the memorization is removed at position
    0.5 / a with a = 1 - 0.04 ORDER[r], where the share of learning kept is 1 - cost / (2 a)."""
    return lambda r, p, seed: reg.CHANCE + (none_val - reg.CHANCE) * (1 - p * cost(r, seed))


def _cost_for(differential, r):
    """The cost at which the differential (learning kept at half memorization minus one half) is ``differential``."""
    return 2 * (1 - 0.04 * ORDER.get(r, 0)) * (0.5 - differential)


def _verdicts(results, cfg):
    return {c.id: c.verdict for c in CHAPTER.judge(results, cfg)}


GRID = dict(
    dropout_rates=[0.1, 0.3, 0.5],
    input_dropout_rates=[0.1, 0.3, 0.5],
    input_noise_stds=[1.0, 2.0, 3.0],
    hidden_noise_stds=[0.1, 0.2, 0.3],
    weight_decays=[0.001, 0.01, 0.1],
)  # positions 1/3, 2/3 and 1


def _cfg():
    """Three strengths per regularizer: the weakest (position 1/3) still learns where the strongest may not."""
    return CHAPTER.config("cpu", seeds=SEEDS, **GRID)


def test_the_share_of_learning_kept_at_half_memorization_is_interpolated_along_the_curve():
    cfg = CHAPTER.config("cpu", seeds=SEEDS, dropout_rates=[0.3, 0.5, 0.7])  # positions 0, 1/3, 2/3, 1
    # memorization kept 1, 0.75, 0.25, 0: half is crossed between 1/3 and 2/3, half-way
    memory = {0.0: 1.0, 1 / 3: 0.75, 2 / 3: 0.25, 1.0: 0.0}
    fit = lambda r, p, seed: reg.CHANCE + 0.8 * memory[min(memory, key=lambda q: abs(q - p))]
    # learning kept 1, 0.9, 0.5, 0.2 (+0.01 per seed at 1/3): half-way between 0.9 + 0.01 seed and 0.5
    learning = {0.0: 1.0, 1 / 3: 0.9, 2 / 3: 0.5, 1.0: 0.2}
    val = lambda r, p, seed: (
        reg.CHANCE
        + 0.4 * (learning[min(learning, key=lambda q: abs(q - p))] + (0.01 * seed if abs(p - 1 / 3) < 1e-9 else 0))
    )
    results = _fake_results(cfg, fit, val)
    np.testing.assert_allclose(reg.kept_at_half_memorization(results, cfg, "dropout"), [0.7 + 0.005 * s for s in SEEDS])
    never = _fake_results(cfg, lambda r, p, seed: 0.9 - 0.2 * p, val)  # keeps 3/4 of the memorization at most
    assert np.isnan(reg.kept_at_half_memorization(never, cfg, "dropout")).all()


def test_the_adversarial_curve_starts_from_the_unregularized_networks():
    cfg = CHAPTER.config("cpu", seeds=SEEDS, adversarial_weights=[0.5])
    fit = lambda r, p, seed: 0.9 if r == "none" else 0.5 if r == "adversarial" and p == 0 else 0.1
    memory, learning = reg.shares(_fake_results(cfg, fit, lambda r, p, seed: 0.5), cfg, "adversarial")
    np.testing.assert_allclose(memory[:, 0], [1.0, 0.5, 0.0])  # unregularized, dropout alone, with adversarial weight
    np.testing.assert_allclose(learning, 1.0)


def test_flat_dropout_and_steep_rivals_reproduce_dropout_and_refute_the_rivals():
    cfg = _cfg()
    cost = lambda r, seed: (0.1 if r == "dropout" else 1.2) + 0.002 * seed  # rivals: below the diagonal
    reversed_fit = lambda r, p, seed: 0.9 - 0.01 * ORDER.get(r, 0)  # real labels: the randY order reversed
    verdicts = _verdicts(_fake_results(cfg, _memorizing(), _learning(cost), reversed_fit), cfg)
    assert verdicts["arpit2017-regularization-differential-dropout"] == "reproduced"
    for r in reg.RIVALS:  # they hinder learning as much as memorization
        assert verdicts[f"arpit2017-regularization-differential-{r}"] == "not reproduced"
    assert verdicts["arpit2017-regularization-dropout-keeps-generalization"] == "reproduced"
    assert verdicts["arpit2017-regularization-ordering"] == "reproduced"
    assert verdicts["arpit2017-regularization-differential-adversarial"] == "not at this scale"  # not run at cpu
    assert verdicts["arpit2017-regularization-adversarial-keeps-more"] == "not at this scale"


def test_dropout_no_better_than_the_rest_and_the_same_order_are_not_reproduced():
    cfg = _cfg()
    cost = lambda r, seed: 0.2 + 0.002 * seed  # every regularizer equally flat
    same = lambda r, p, seed: 0.9 + 0.01 * ORDER.get(r, 0)  # real labels: the randY order
    verdicts = _verdicts(_fake_results(cfg, _memorizing(), _learning(cost), same), cfg)
    assert verdicts["arpit2017-regularization-differential-weight_decay"] == "reproduced"
    assert verdicts["arpit2017-regularization-dropout-keeps-generalization"] == "not reproduced"
    assert verdicts["arpit2017-regularization-ordering"] == "not reproduced"


def test_an_effect_present_in_every_seed_with_a_wide_spread_is_inconclusive():
    cfg = _cfg()
    spread = dict(zip(SEEDS, [0.12, 0.15, 0.4, 0.45, 0.11]))  # above the smallest effect (0.1) in every seed
    cost = lambda r, seed: _cost_for(spread[seed], r)
    claims = {c.id: c for c in CHAPTER.judge(_fake_results(cfg, _memorizing(), _learning(cost)), cfg)}
    claim = claims["arpit2017-regularization-differential-dropout"]
    assert claim.estimates[0].low < reg.SHARE_STEP < claim.estimates[0].estimate
    assert claim.verdict == "inconclusive"
    assert claim.replicates_needed > len(SEEDS)


@pytest.mark.parametrize(
    "failing, world",
    [
        ("randY-memorised", dict(memorizing=_memorizing(none_fit=0.5))),  # fits 0.5 of its random labels
        ("real-generalized", dict(none_val=0.28)),  # below three times chance
    ],
)
def test_a_failing_shared_precondition_puts_every_claim_out_of_scale(failing, world):
    cfg = _cfg()
    cost = lambda r, seed: 0.1 + 0.002 * seed
    results = _fake_results(cfg, world.get("memorizing", _memorizing()), _learning(cost, world.get("none_val", 0.5)))
    claims = CHAPTER.judge(results, cfg)
    assert {c.verdict for c in claims} == {"not at this scale"}
    assert all(failing in [p.id for p, _ in c.failed] for c in claims)


def _too_weak_weight_decay():
    """Weight decay removes 0.6 of the memorization at its strongest strength (needs 3/4); its learning is spared."""
    fit = lambda r, p, seed: _memorizing(position_scale=0.6 if r == "weight_decay" else 1.0)(r, p, seed)
    return fit, _learning(lambda r, seed: 0.1 + 0.002 * seed)


def _weight_decay_stops_learning_at_once():
    """Weight decay leaves real-data networks at chance from its weakest strength on (needs twice chance there)."""
    spared = _learning(lambda r, seed: 0.1 + 0.002 * seed)
    return _memorizing(), lambda r, p, seed: reg.CHANCE if r == "weight_decay" and p > 0 else spared(r, p, seed)


@pytest.mark.parametrize(
    "failing, world",
    [
        ("weight_decay-halves-memorization", _too_weak_weight_decay()),
        ("weight_decay-learns-real", _weight_decay_stops_learning_at_once()),
    ],
)
def test_a_failing_regularizer_precondition_puts_only_the_claims_on_its_networks_out_of_scale(failing, world):
    cfg = _cfg()
    claims = {c.id: c for c in CHAPTER.judge(_fake_results(cfg, *world), cfg)}
    for claim in ("differential-weight_decay", "dropout-keeps-generalization", "ordering"):  # they use its networks
        judged = claims[f"arpit2017-regularization-{claim}"]
        assert judged.verdict == "not at this scale"
        [(precondition, value)] = judged.failed
        assert precondition.id == failing
        assert f"{precondition.statement}: {format_number(value)}" in judged.why  # the row names it, with its value
    for r in ("dropout", "input_dropout", "input_noise", "hidden_noise"):
        assert claims[f"arpit2017-regularization-differential-{r}"].verdict == "reproduced"
