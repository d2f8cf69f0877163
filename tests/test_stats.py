import numpy as np
import pytest
import torch

from memo_utils.framework import stats


def test_gini_of_equal_values_is_zero_and_of_one_winner_approaches_one():
    assert stats.gini(np.ones(50)) == pytest.approx(0.0)
    one_winner = np.zeros(1000)
    one_winner[0] = 1
    assert stats.gini(one_winner) == pytest.approx(0.999)
    assert stats.gini([1, 2, 3, 4]) == pytest.approx(0.25)  # sum|xi-xj| / (2 n^2 mean) = 20 / 80


def test_chi2_survival_function_matches_scipy():
    scipy_stats = pytest.importorskip("scipy.stats")
    for x, k in [(3.0, 2), (1000.0, 999), (1100.0, 999), (0.5, 7)]:
        assert stats.chi2_sf(x, k) == pytest.approx(scipy_stats.chi2.sf(x, k), rel=1e-6)


def test_dispersion_test_accepts_binomial_counts_and_rejects_mixed_difficulty():
    rng = np.random.default_rng(0)
    same = rng.binomial(100, 0.3, size=1000)
    mixed = rng.binomial(100, rng.choice([0.05, 0.6], size=1000))
    assert stats.binomial_dispersion_test(same, 100)["p_value"] > 0.01
    result = stats.binomial_dispersion_test(mixed, 100)
    assert result["p_value"] < 1e-6 and result["dispersion_index"] > 10


def test_within_group_dispersion_removes_differences_between_groups():
    rng = np.random.default_rng(1)
    groups = rng.integers(0, 2, size=2000)
    counts = rng.binomial(100, np.where(groups == 0, 0.1, 0.7))
    assert stats.binomial_dispersion_test(counts, 100)["p_value"] < 1e-6
    assert stats.binomial_dispersion_test(counts, 100, groups=groups)["p_value"] > 0.01


def test_smooth_filters_score_higher_than_random_ones():
    g = torch.Generator().manual_seed(0)
    random = torch.randn(64, 3, 5, 5, generator=g)
    ramp = torch.linspace(-1, 1, 5)
    smooth = (ramp[None, None, :, None] * torch.randn(64, 3, 1, 1, generator=g)).expand(64, 3, 5, 5)
    assert abs(stats.spatial_smoothness(random.numpy())) < 0.1
    assert stats.spatial_smoothness(smooth.numpy()) > 0.5


def test_t_and_chi2_quantiles_match_scipy():
    scipy_stats = pytest.importorskip("scipy.stats")
    for dof in (1, 2, 5, 30):
        for q in (0.025, 0.5, 0.975):
            assert stats.t_quantile(q, dof) == pytest.approx(scipy_stats.t.ppf(q, dof), rel=1e-6, abs=1e-7)
    for dof in (1, 9, 999):
        assert stats.chi2_quantile(0.05, dof) == pytest.approx(scipy_stats.chi2.ppf(0.05, dof), rel=1e-6)


@pytest.mark.slow  # thousands of simulated samples
@pytest.mark.parametrize("interval", ["mean", "bootstrap", "jackknife"])
def test_intervals_cover_a_known_mean_at_about_the_nominal_rate(interval):
    rng = np.random.default_rng(0)
    trials, n = 400, {"mean": 3, "bootstrap": 100, "jackknife": 100}[interval]
    covered = 0
    for _ in range(trials):
        sample = rng.exponential(2.0, size=n) if interval != "mean" else rng.normal(2.0, 1.0, size=n)
        if interval == "mean":
            _, low, high = stats.mean_interval(sample)
        elif interval == "bootstrap":
            _, low, high = stats.bootstrap_interval(sample, resamples=1000, seed=int(rng.integers(1 << 30)))
        else:
            _, low, high = stats.jackknife_interval(sample, np.mean)
        covered += low <= 2.0 <= high
    assert 0.91 <= covered / trials <= 0.985, covered / trials  # nominal 0.95; 400 trials: +-0.022 s.e.


def test_the_t_interval_is_pinned_to_printed_quantiles_and_a_hand_computed_sample():
    """Printed Student-t tables (0.975 quantiles): an off-by-one in the degrees of freedom, ddof=0 or a 90% interval
    each moves these numbers far beyond the tolerance."""
    for dof, printed in ((1, 12.7062), (2, 4.3027), (4, 2.7764), (10, 2.2281), (30, 2.0423)):
        assert stats.t_quantile(0.975, dof) == pytest.approx(printed, abs=1e-4)
    mean, low, high = stats.mean_interval([1.0, 2.0, 3.0, 4.0])  # sd 1.29099 (ddof=1), se 0.645497, t(3) 3.18245
    assert (mean, low, high) == (2.5, pytest.approx(2.5 - 2.054260, abs=1e-5), pytest.approx(2.5 + 2.054260, abs=1e-5))


def test_one_replicate_has_no_interval():
    mean, low, high = stats.mean_interval([0.3])
    assert mean == 0.3 and np.isnan(low) and np.isnan(high)


def _outcomes(rng, p, runs):
    """(run, example) 0/1 outcomes, example i wrong with probability p[i] in every run."""
    return (rng.random((runs, len(p))) < p).astype(np.uint8)


def test_dispersion_interval_over_runs_supports_equivalence_for_binomial_outcomes_and_rejects_overdispersed_ones():
    rng = np.random.default_rng(3)
    binomial = stats.dispersion_interval(_outcomes(rng, np.full(1000, 0.3), 100))
    assert binomial["runs"] == 100 and binomial["dof"] == 999
    assert 0.5 < binomial["low"] < binomial["index"] < binomial["high"] < 2.0  # inside the two-sided margin
    overdispersed = stats.dispersion_interval(_outcomes(rng, rng.beta(3, 7, size=1000), 100))  # p varies
    assert overdispersed["low"] > 2.0
    few = _outcomes(rng, np.full(20, 0.3), 8)  # 20 examples, 8 runs: no equivalence from failing to reject
    assert stats.binomial_dispersion_test(few.sum(0), 8)["p_value"] > 0.01
    assert stats.dispersion_interval(few)["high"] > 1.5


def test_the_jackknife_over_runs_covers_a_known_dispersion_index():
    rng = np.random.default_rng(4)
    p, runs = rng.beta(3, 7, size=200), 40
    true_index = 1 + (runs - 1) * p.var() / (p.mean() * (1 - p.mean()))  # 1 + (n - 1) rho
    covered = [
        (d["low"] < true_index < d["high"])
        for d in (stats.dispersion_interval(_outcomes(rng, p, runs)) for _ in range(100))
    ]
    assert 0.88 <= np.mean(covered) <= 1.0


def test_examples_more_alike_than_binomial_score_near_zero_so_a_two_sided_margin_fails_them():
    runs, labels = 50, np.arange(500) % 10
    predicted = np.arange(runs) % 10  # each run predicts one class for every example (a collapsed network)
    wrong = (predicted[:, None] != labels[None, :]).astype(np.uint8)
    d = stats.dispersion_interval(wrong, labels)
    assert d["index"] == 0 and d["low"] == d["high"] == 0  # every example of a class has the same count
    assert not 0.5 < d["low"]  # outside [1/2, 2]: a one-sided margin [0, 2] would have let it pass


def test_groups_always_right_or_always_wrong_are_counted_not_dropped_silently():
    rng = np.random.default_rng(5)
    labels = np.arange(300) % 3
    wrong = _outcomes(rng, np.full(300, 0.4), 60)
    wrong[:, labels == 1] = 1  # every run wrong on every example of class 1
    wrong[:, labels == 2] = 0  # every run right on every example of class 2
    d = stats.dispersion_interval(wrong, labels)
    assert (d["left_out_groups"], d["left_out_examples"], d["dof"]) == (2, 200, 99)
    test = stats.binomial_dispersion_test(wrong.sum(0), 60, labels)
    assert (test["left_out_groups"], test["left_out_examples"]) == (2, 200)
    pooled = stats.dispersion_interval(wrong)
    assert pooled["left_out_groups"] == 0 and pooled["dof"] == 299


def test_no_degrees_of_freedom_give_no_index_rather_than_a_number():
    always_wrong = np.ones((10, 50), dtype=np.uint8)
    d = stats.dispersion_interval(always_wrong, np.arange(50) % 5)
    assert d["dof"] == 0 and np.isnan(d["index"]) and np.isnan(d["low"]) and np.isnan(d["high"])
    assert (d["left_out_groups"], d["left_out_examples"]) == (5, 50)


def test_epochs_to_reach_finds_the_first_crossing_and_censors_curves_that_never_get_there():
    curves = np.array(
        [
            [0.5, 0.9, 0.999, 1.0, 1.0],  # reaches 0.999 at epoch 3, 1.0 at epoch 4
            [0.5, 0.8, 0.9, 0.95, 0.99],  # never reaches 0.999: censored at the budget, 5
            [0.5, np.nan, 1.0, 1.0, 1.0],
        ]
    )  # diverged on the way: never counts as converged
    epochs, censored = stats.epochs_to_reach(curves, 0.999)
    assert epochs.tolist() == [3, 5, 5] and censored.tolist() == [False, True, True]
    epochs, censored = stats.epochs_to_reach(curves, 1.0)
    assert epochs.tolist() == [4, 5, 5] and censored.tolist() == [False, True, True]
    epochs, _ = stats.epochs_to_reach(curves[:, None, :], 0.5)  # leading dimensions are kept
    assert epochs.shape == (3, 1) and epochs[0, 0] == 1
