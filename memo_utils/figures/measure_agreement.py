"""Figures of the chapter that compares the papers' per-example measures (and two from outside them) on one setting.

The matrices and intervals read :func:`memo_utils.experiments.measure_agreement.all_comparisons`, the numbers the
claims are judged on; a page computes them once and passes them as ``found`` (each figure computes them otherwise).
"""

from __future__ import annotations

import numpy as np

from ..engine import data
from ..errors import DataUnavailableError
from ..experiments.measure_agreement import CLAIMS, MEASURES, NAMES, all_comparisons, seed_measures, top_k
from ..framework.claims import across
from ..framework.stats import ranks
from .plots import colorbar, figure, legend_outside, placeholder

LABELS = list(MEASURES.values())


def _matrix(ax, values, title, vmin=-1.0, vmax=1.0, cmap="RdBu_r"):
    """A measure-by-measure matrix with its values written in the cells."""
    image = ax.imshow(values, vmin=vmin, vmax=vmax, cmap=cmap)
    ticks = np.arange(len(LABELS))
    ax.set_xticks(ticks, [str(i + 1) for i in ticks])  # the columns by number: the rows name them
    ax.set_yticks(ticks, [f"{label} ({i + 1})" for i, label in enumerate(LABELS)])
    ax.xaxis.tick_top()
    for i in range(len(LABELS)):
        for j in range(len(LABELS)):
            dark = abs(values[i, j] - (vmin + vmax) / 2) > 0.35 * (vmax - vmin)
            text = f"{values[i, j]:.2f}" if np.isfinite(values[i, j]) else "–"  # undefined in every seed
            ax.text(j, i, text, ha="center", va="center", fontsize=7, color="w" if dark else "k")
    ax.set_title(title)
    return image


def figure_1(results, cfg, found=None):
    """Spearman correlations between every pair of measures, mean over the seeds where both are defined: over every
    example (left), and over the clean examples only (right), since much agreement can come from the
    clean/corrupted split alone."""
    found = found or all_comparisons(results, cfg)
    fig, axes = figure(ncols=2, width=4.6, height=4.6)
    _matrix(axes[0], np.nanmean(found["spearman"], 0), "all examples")
    image = _matrix(axes[1], np.nanmean(found["spearman_clean"], 0), "clean examples only")
    axes[1].set_yticks([])
    colorbar(image, axes[1], "Spearman ρ (mean over seeds)")
    return fig


def figure_2(results, cfg, found=None):
    """Each measure's AUROC for finding the wrong labels: mean over seeds with its 95% interval, against chance
    (0.5) and the smallest effect of the claim that every measure finds them."""
    (claim,) = [d for d in CLAIMS if d.id == "agreement-all-find-wrong-labels"]
    smallest_effect = claim.criteria[0].bound
    auroc = (found or all_comparisons(results, cfg))["auroc"]
    fig, (ax,) = figure(width=6.4, height=3.6)
    estimates = [across(auroc[:, i]) for i in range(len(LABELS))]
    rows = np.arange(len(LABELS))[::-1]
    for row, e in zip(rows, estimates):
        ax.plot([e.low, e.high], [row, row], color="C0", lw=2.5)
        ax.plot(e.estimate, row, "o", color="C0")
    ax.axvline(0.5, color="0.4", ls=":", label="chance (0.5)")
    ax.axvline(smallest_effect, color="C3", ls="--", label=f"smallest effect ({smallest_effect})")
    ax.set_yticks(rows, LABELS)
    ax.set_xlabel("AUROC for the wrong labels (95% interval over seeds)")
    ax.set_xlim(min(0.45, min(e.low for e in estimates) - 0.03), 1.0)
    legend_outside(ax, where="below")
    return fig


def figure_3(results, cfg, found=None):
    """How many of the k top-ranked examples two measures share (k = the number of wrong labels), mean over seeds,
    beside what two random rankings would share (k over the number of examples)."""
    found = found or all_comparisons(results, cfg)
    fig, (ax,) = figure(width=5.6, height=5.0)
    title = f"top-k overlap (two random rankings: {np.mean(found['chance_overlap']):.2f})"
    image = _matrix(ax, np.nanmean(found["overlap"], 0), title, vmin=0.0, vmax=1.0, cmap="viridis")
    colorbar(image, ax, "shared share of the top k (mean over seeds)")
    return fig


def _strip(images, wrong, gap=2):
    """Images side by side as one RGB array, the wrong labels framed in red."""
    tiles = []
    for image, is_wrong in zip(images, wrong):
        tile = np.repeat((image.astype(float) / 255.0)[..., None], 3, axis=-1)
        if is_wrong:
            tile[:2], tile[-2:], tile[:, :2], tile[:, -2:] = (1, 0, 0), (1, 0, 0), (1, 0, 0), (1, 0, 0)
        tiles += [tile, np.ones((image.shape[0], gap, 3))]
    return np.concatenate(tiles[:-1], axis=1)


def figure_4(results, cfg, shown=8, data_dir=None):
    """For the first seed, each measure's ``shown`` highest-ranked training images (left) and lowest-ranked (right);
    a red frame marks a wrong label. Ties are broken at random (as for the top-k overlap), not by position; an
    example the measure leaves undefined is not shown."""
    seed = cfg["seeds"][0]
    try:
        images = data.load("mnist", min_train=cfg["train_size"], data_dir=data_dir).x_train
    except DataUnavailableError:
        return placeholder(
            "the ranked training images",
            "they need the MNIST images this run trained on (MEMO_DATA_DIR or the data_dir parameter)",
            width=8.0,
            height=8.0,
        )
    values, wrong = seed_measures(results, cfg, seed)
    fig, axes = figure(nrows=len(LABELS), width=8.0, height=1.05)
    for i, (ax, (name, label)) in enumerate(zip(axes, MEASURES.items())):
        defined = np.flatnonzero(np.isfinite(values[name]))  # an undefined score is neither high nor low
        v = values[name][defined]
        highest, lowest = top_k(v, shown, (seed, i)), top_k(-v, shown, (seed, i))[::-1]
        picked = defined[np.concatenate([highest, lowest])]
        strip = _strip(images[picked], wrong[picked])
        middle = strip.shape[1] // 2
        strip = np.concatenate([strip[:, :middle], np.ones((strip.shape[0], 12, 3)), strip[:, middle:]], axis=1)
        ax.imshow(strip, interpolation="nearest")
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title(f"{label}: highest {shown}, then lowest {shown}", loc="left", fontsize=9)
    fig.suptitle(f"seed {seed}; a red frame marks a wrong label")
    return fig


def scatter(results, cfg, pair=("turn_over", "feldman_zhang"), found=None):
    """The first seed's examples placed by their rank under two measures (as a share of the examples), wrong labels
    in red, with the Spearman correlation over seeds in the title: the chapter's "Try it" view."""
    a, b = pair
    values, wrong = seed_measures(results, cfg, cfg["seeds"][0])
    kept = np.isfinite(values[a]) & np.isfinite(values[b])
    x, y, w = ranks(values[a][kept]) / kept.sum(), ranks(values[b][kept]) / kept.sum(), wrong[kept]
    fig, (ax,) = figure(width=4.8, height=4.4)
    ax.scatter(x[~w], y[~w], s=4, alpha=0.4, color="C0", label="clean", rasterized=True)
    ax.scatter(x[w], y[w], s=6, alpha=0.8, color="C3", label="wrong label", rasterized=True)
    i, j = NAMES.index(a), NAMES.index(b)
    found = found or all_comparisons(results, cfg)
    rho, clean = np.nanmean(found["spearman"][:, i, j]), np.nanmean(found["spearman_clean"][:, i, j])
    ax.set_title(f"ρ = {rho:.2f} (clean only {clean:.2f}), mean over seeds")
    ax.set_xlabel(f"rank of {MEASURES[a]} (share)")
    ax.set_ylabel(f"rank of {MEASURES[b]} (share)")
    legend_outside(ax, where="below")
    return fig


def pairs():
    """Every pair of measures, as (label, (a, b)) options of the "Try it" control."""
    return [(f"{MEASURES[a]} vs {MEASURES[b]}", (a, b)) for i, a in enumerate(NAMES) for b in NAMES[i + 1 :]]
