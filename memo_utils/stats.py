"""Summary statistics used to check the papers' claims: Gini, binomial dispersion, filter smoothness.

Only torch and numpy: p-values come from the regularised incomplete gamma function,
so claims can be checked on a machine without SciPy.
"""
from __future__ import annotations

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
    return float(torch.special.gammaincc(torch.tensor(dof / 2, dtype=torch.float64),
                                         torch.tensor(statistic / 2, dtype=torch.float64)))


def binomial_dispersion_test(counts, trials, groups=None):
    """Test whether per-example counts out of ``trials`` runs share one success probability.

    Under that null each count is Binomial(trials, p), and the dispersion statistic
    sum (c - trials p)^2 / (trials p (1 - p)), p estimated from the pooled counts, is
    approximately chi-square with N - 1 degrees of freedom (the classical test of
    binomial heterogeneity). Returns the dispersion index (statistic / dof, 1 under the
    null, larger when examples differ in difficulty) and the one-sided p-value.

    With ``groups`` (one label per example) each group gets its own p, and the statistics
    and degrees of freedom add up: the test then asks whether examples differ *within* groups.
    """
    counts = np.asarray(counts, dtype=np.float64)
    groups = np.zeros(counts.shape, dtype=int) if groups is None else np.asarray(groups)
    statistic, dof = 0.0, 0
    for g in np.unique(groups):
        c = counts[groups == g]
        p = c.mean() / trials
        if 0 < p < 1:  # a group that is always or never right carries no information
            statistic += float(np.sum((c - trials * p) ** 2) / (trials * p * (1 - p)))
            dof += c.size - 1
    if dof == 0:
        return {"dispersion_index": float("nan"), "p_value": float("nan")}
    return {"dispersion_index": statistic / dof, "p_value": chi2_sf(statistic, dof)}


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


def permutation_test_greater(a, b, permutations=10_000, seed=0):
    """One-sided p-value that mean(a) > mean(b) arose by chance: the share of random
    relabellings of the pooled values whose mean difference is at least the observed one."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    pooled = np.concatenate([a, b])
    observed = a.mean() - b.mean()
    rng = np.random.default_rng(seed)
    shuffled = rng.permuted(np.broadcast_to(pooled, (permutations, pooled.size)), axis=1)
    diffs = shuffled[:, : a.size].mean(1) - shuffled[:, a.size:].mean(1)
    return float((1 + np.sum(diffs >= observed)) / (1 + permutations))
