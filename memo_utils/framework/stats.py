"""Statistics behind the claims: Gini, binomial dispersion, filter smoothness, and intervals
across replicates (runs or seeds; never examples or filters of one network).

Only torch and numpy: p-values and quantiles come from the regularised incomplete gamma and
beta functions, so claims can be checked on a machine without SciPy (the tests compare them
with SciPy where it is installed).
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
import torch


def gini(values):
    """Gini coefficient of non-negative ``values``: 0 when all are equal, near 1 when one dominates.

    G = sum_i (2i - n - 1) v_(i) / (n sum v), with v sorted ascending and i = 1..n.
    """
    v = np.sort(np.asarray(values, dtype=np.float64).ravel())
    if v.size == 0 or np.any(v < 0):
        raise ValueError("gini needs a non-empty array of non-negative values")
    total = v.sum()
    if total == 0:
        return 0.0
    i = np.arange(1, v.size + 1)
    return float(np.sum((2 * i - v.size - 1) * v) / (v.size * total))


def chi2_sf(statistic, dof):
    """P(chi2_dof >= statistic)."""
    return float(
        torch.special.gammaincc(
            torch.tensor(dof / 2, dtype=torch.float64), torch.tensor(statistic / 2, dtype=torch.float64)
        )
    )


def binomial_dispersion_test(counts, trials, groups=None):
    """Test whether per-example counts out of ``trials`` runs share one success probability.

    Under that null each count is Binomial(trials, p), and the dispersion statistic
    sum (c - trials p)^2 / (trials p (1 - p)), p estimated from the pooled counts, is
    approximately chi-square with N - 1 degrees of freedom (the classical test of
    binomial heterogeneity). Returns the dispersion index (statistic / dof: 1 under the
    null, larger when examples differ in difficulty, smaller when they are more alike than
    binomial noise allows, e.g. 0 when every example of a group has the same count) and the
    one-sided p-value against overdispersion.

    With ``groups`` (one label per example) each group gets its own p, and the statistics
    and degrees of freedom add up: the test then asks whether examples differ *within* groups.
    A group with p = 0 or 1 (every run right on all its examples, or wrong on all) has no
    binomial variance to compare with: it is left out, and counted in ``left_out_groups`` and
    ``left_out_examples`` so that a caller can report it. With no degrees of freedom left the
    index and p-value are nan.
    """
    counts = np.asarray(counts, dtype=np.float64)
    groups = np.zeros(counts.shape, dtype=int) if groups is None else np.asarray(groups)
    statistic, dof, left_out_groups, left_out_examples = 0.0, 0, 0, 0
    for g in np.unique(groups):
        c = counts[groups == g]
        p = c.mean() / trials
        if 0 < p < 1:
            statistic += float(np.sum((c - trials * p) ** 2) / (trials * p * (1 - p)))
            dof += c.size - 1
        else:
            left_out_groups, left_out_examples = left_out_groups + 1, left_out_examples + c.size
    left_out = {"left_out_groups": left_out_groups, "left_out_examples": left_out_examples}
    if dof == 0:
        return {"dispersion_index": float("nan"), "p_value": float("nan"), "dof": 0, **left_out}
    return {"dispersion_index": statistic / dof, "p_value": chi2_sf(statistic, dof), "dof": dof, **left_out}


def spatial_smoothness(filters):
    """Mean over filters of :func:`spatial_smoothness_per_filter`."""
    return float(spatial_smoothness_per_filter(filters).mean())


def spatial_smoothness_per_filter(filters):
    """Correlation between horizontally and vertically adjacent weights, one value per filter.

    filters: (F, C, k, k). Each filter is centred; the correlation pools its horizontal and
    vertical neighbour pairs over channels. Random (untrained or noise-fitting) filters
    score near 0; smooth edge and colour-blob detectors score high.
    """
    w = torch.as_tensor(np.asarray(filters), dtype=torch.float64)
    w = w - w.mean(dim=(1, 2, 3), keepdim=True)
    pairs = [(w[..., :, :-1], w[..., :, 1:]), (w[..., :-1, :], w[..., 1:, :])]
    num = sum((a * b).sum(dim=(1, 2, 3)) for a, b in pairs)
    den = sum(torch.sqrt((a * a).sum(dim=(1, 2, 3)) * (b * b).sum(dim=(1, 2, 3))) for a, b in pairs)
    return (num / den.clamp_min(1e-300)).numpy()


# --- Intervals across replicates (runs or seeds) -----------------------------------------------


def _betainc(a, b, x):
    """Regularised incomplete beta I_x(a, b), by its continued fraction (Numerical Recipes, 6.4)."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    log_front = math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    if x > (a + 1) / (a + b + 2):  # the fraction converges fast only on this side: use the symmetry
        return 1.0 - _betainc(b, a, 1.0 - x)
    tiny = 1e-300
    c, d = 1.0, 1.0 - (a + b) * x / (a + 1)
    d = 1.0 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 500):
        for numerator in (
            m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m)),
            -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1)),
        ):
            d = 1.0 + numerator * d
            d = 1.0 / (d if abs(d) > tiny else tiny)
            c = 1.0 + numerator / c
            c = c if abs(c) > tiny else tiny
            h *= d * c
        if abs(d * c - 1.0) < 1e-15:
            break
    return math.exp(log_front) * h / a


def t_cdf(t, dof):
    """P(T <= t) for Student's t with ``dof`` degrees of freedom."""
    tail = 0.5 * _betainc(dof / 2, 0.5, dof / (dof + t * t))
    return 1.0 - tail if t > 0 else tail


def _invert(cdf, probability, low, high):
    """The x in [low, high] with cdf(x) = probability, by bisection (cdf increasing)."""
    for _ in range(200):
        mid = (low + high) / 2
        low, high = (mid, high) if cdf(mid) < probability else (low, mid)
    return (low + high) / 2


@lru_cache(maxsize=4096)  # claims ask for the same quantiles again and again
def t_quantile(probability, dof):
    return _invert(lambda t: t_cdf(t, dof), probability, -1e4, 1e4)


def chi2_quantile(probability, dof):
    return _invert(lambda x: 1.0 - chi2_sf(x, dof), probability, 0.0, dof + 100 * math.sqrt(dof) + 100)


def mean_interval(values, confidence=0.95):
    """Mean of per-replicate values (one per seed or run) with its Student-t interval: (mean, low, high).

    The right interval for a handful of seeds, where a bootstrap has too few values to resample.
    With one replicate the interval is unknown: (mean, nan, nan).
    """
    v = np.asarray(values, dtype=np.float64).ravel()
    mean = float(v.mean())
    if v.size < 2:
        return mean, float("nan"), float("nan")
    half = t_quantile(0.5 + confidence / 2, v.size - 1) * v.std(ddof=1) / math.sqrt(v.size)
    return mean, mean - half, mean + half


def bootstrap_interval(values, statistic=np.mean, confidence=0.95, resamples=10_000, seed=0):
    """Percentile bootstrap over replicates (the rows of ``values``): (statistic, low, high).

    For a statistic of independent replicates, e.g. the mean of per-run values over 100 runs.
    """
    v = np.asarray(values, dtype=np.float64)
    rng = np.random.default_rng(seed)
    draws = np.array([statistic(v[rng.integers(0, len(v), len(v))]) for _ in range(resamples)])
    tail = (1 - confidence) / 2
    return float(statistic(v)), float(np.quantile(draws, tail)), float(np.quantile(draws, 1 - tail))


def jackknife_interval(replicates, statistic, confidence=0.95):
    """Delete-one jackknife over replicates (the rows of ``replicates``): (statistic, low, high).

    For a statistic computed from all replicates jointly, e.g. the dispersion of per-example
    error counts over runs: leaving runs out keeps the remaining ones distinct, whereas a
    bootstrap over runs would duplicate runs and inflate any between-example dispersion.
    The interval is the normal one with the jackknife standard error.
    """
    r = np.asarray(replicates)
    n = len(r)
    estimate = float(statistic(r))
    leave_one_out = np.array([statistic(np.delete(r, i, axis=0)) for i in range(n)])
    se = math.sqrt((n - 1) / n * np.sum((leave_one_out - leave_one_out.mean()) ** 2))
    z = math.sqrt(2) * _erfinv(confidence)
    return estimate, estimate - z * se, estimate + z * se


def _erfinv(y):
    return _invert(math.erf, y, -10.0, 10.0)


def dispersion_index(outcomes, groups=None):
    """The dispersion index of per-example counts over runs: ``outcomes`` is (run, example), 1 where that run
    misclassified that example (:func:`binomial_dispersion_test`; nan with no degrees of freedom)."""
    outcomes = np.asarray(outcomes)
    return binomial_dispersion_test(outcomes.sum(0), outcomes.shape[0], groups)["dispersion_index"]


def dispersion_interval(outcomes, groups=None, confidence=0.95):
    """The dispersion index of per-example counts over runs (1 for binomial counts), with a 95% interval over
    runs: ``outcomes`` is (run, example), 1 where that run misclassified that example.

    The runs are the replicates, never the examples: the interval is the delete-one jackknife over runs
    (:func:`jackknife_interval`), not the chi-square interval of the statistic, whose degrees of freedom
    count examples. An equivalence claim ("binomial") holds when the whole interval lies inside a
    two-sided margin around 1: failing to reject would not show it, and a one-sided margin would let
    networks whose examples of a group all get the same count (index 0) pass. Returns {index, low, high,
    runs, dof, left_out_groups, left_out_examples}: the groups left out of the index (p = 0 or 1 over all
    runs) are counted; with no degrees of freedom left, index and bounds are nan.
    """
    outcomes = np.asarray(outcomes)
    test = binomial_dispersion_test(outcomes.sum(0), outcomes.shape[0], groups)
    out = {
        "runs": int(outcomes.shape[0]),
        "dof": test["dof"],
        "left_out_groups": test["left_out_groups"],
        "left_out_examples": test["left_out_examples"],
    }
    if test["dof"] == 0 or outcomes.shape[0] < 3:
        return {"index": test["dispersion_index"], "low": float("nan"), "high": float("nan"), **out}
    index, low, high = jackknife_interval(outcomes, lambda o: dispersion_index(o, groups), confidence)
    return {"index": index, "low": low, "high": high, **out}


def epochs_to_reach(curves, threshold):
    """First epoch (1-based) at which each accuracy curve reaches ``threshold``, and whether it is censored.

    curves: (..., epochs). A curve that never reaches the threshold within its budget is
    *censored*: its value is the budget, a lower bound on the true time, and it must be drawn
    as such (an arrow at the budget), never dropped. A curve with a non-finite value before
    reaching the threshold counts as never reaching it. Returns (epochs, censored).
    """
    c = np.asarray(curves, dtype=np.float64)
    reached = np.isfinite(c) & (c >= threshold)
    reached &= np.cumprod(np.isfinite(c), axis=-1).astype(bool)  # a diverged run never converges afterwards
    censored = ~reached.any(-1)
    epochs = np.where(censored, c.shape[-1], reached.argmax(-1) + 1)
    return epochs, censored


def ranks(values):
    """Ranks 1..n of ``values`` (ties get their average rank), as Spearman's correlation uses them."""
    values = np.asarray(values, dtype=float)
    order = np.argsort(values, kind="stable")
    sorted_values = values[order]
    starts = np.r_[True, sorted_values[1:] != sorted_values[:-1]]  # where each run of equal values begins
    first = np.flatnonzero(starts)
    last = np.r_[first[1:], len(values)]
    out = np.empty(len(values))
    out[order] = ((first + last + 1) / 2)[np.cumsum(starts) - 1]
    return out


def spearman(a, b):
    """Spearman's rank correlation between two score vectors; nan if either holds a non-finite value."""
    if not (np.isfinite(a).all() and np.isfinite(b).all()):
        return float("nan")
    return float(np.corrcoef(ranks(a), ranks(b))[0, 1])


def auroc(scores, positive):
    """Area under the ROC curve of ``scores`` for finding the ``positive`` examples: the probability that a
    random positive scores above a random negative (ties count one half), from the rank-sum statistic; nan
    if a score is not finite."""
    if not np.isfinite(scores).all():
        return float("nan")
    positive = np.asarray(positive, dtype=bool)
    n_pos, n_neg = positive.sum(), (~positive).sum()
    return float((ranks(scores)[positive].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def skewness(values):
    """Sample skewness (the third standardized moment, biased form): above 0 for a long right tail."""
    values = np.asarray(values, dtype=float)
    centred = values - values.mean()
    return float((centred**3).mean() / (centred**2).mean() ** 1.5)
