"""Figures of the regularization chapter (Arpit et al. 2017 Figures 10-11; Krueger et al. 2017 Figure 3 right)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from ..experiments import regularization as reg
from .plots import epoch_axis, figure, legend_outside

COLORS = {r: f"C{i}" for i, r in enumerate(reg.REGULARIZERS)}


def _data_label(results):
    return ", ".join(results.data_labels()["train"])


def figure_10(results, cfg):
    """Final training accuracy on random labels (x) against the best validation accuracy on real data (y),
    one point per strength (paired by strength, Krueger's reading), joined per regularizer; bars span the seeds."""
    fig, (ax,) = figure(width=5.6, height=4.0)
    for regularizer in reg.run_regularizers(cfg):
        memorized, generalized = reg.figure_10_points(results, cfg, regularizer)  # (strength, seed)
        x, y = np.nanmean(memorized, 1), np.nanmean(generalized, 1)
        ax.errorbar(
            x,
            y,
            xerr=[x - np.nanmin(memorized, 1), np.nanmax(memorized, 1) - x],
            yerr=[y - np.nanmin(generalized, 1), np.nanmax(generalized, 1) - y],
            color=COLORS[regularizer],
            marker="o",
            ms=4,
            capsize=2,
            lw=1.2,
            label=f"{regularizer.replace('_', ' ')}, 0 to {reg.strengths(cfg, regularizer)[-1]:g}",
        )
    ax.axvline(reg.CHANCE, color="0.6", ls=":", lw=1)
    ax.set_xlabel("final training accuracy on randY")
    ax.set_ylabel("best validation accuracy, real labels")
    ax.set_title(f"{_data_label(results)}, CNN width {cfg['width']}")
    legend_outside(ax, title="regularizer, strengths")
    return fig


def figure_10_shares(results, cfg):
    """Figure 10 in the claims' units: the share of the unregularized memorization kept (x) against the share of the
    unregularized real-data learning kept (y), both above chance and paired by seed, one point per strength from the
    unregularized networks (1, 1); bars span the seeds. The claims read each curve at half memorization (dotted),
    where a curve above the diagonal has hindered memorization more than learning."""
    fig, (ax,) = figure(width=5.6, height=4.0)
    for regularizer in reg.run_regularizers(cfg):
        memory, learning = reg.shares(results, cfg, regularizer)  # (point, seed)
        x, y = np.nanmean(memory, 1), np.nanmean(learning, 1)
        ax.errorbar(
            x,
            y,
            xerr=[x - np.nanmin(memory, 1), np.nanmax(memory, 1) - x],
            yerr=[y - np.nanmin(learning, 1), np.nanmax(learning, 1) - y],
            color=COLORS[regularizer],
            marker="o",
            ms=4,
            capsize=2,
            lw=1.2,
            label=reg.NAMES[regularizer],
        )
        kept = reg.kept_at_half_memorization(results, cfg, regularizer)
        if np.isfinite(kept).any():
            ax.plot([reg.HALF], [np.nanmean(kept)], marker="D", ms=7, mfc="none", color=COLORS[regularizer])
    ax.plot([0, 1], [0, 1], color="0.6", lw=1, ls="--", label="hinders both alike")
    ax.axvline(reg.HALF, color="0.6", ls=":", lw=1)
    ax.set_xlabel("share of the randY fit kept (above chance)")
    ax.set_ylabel("share of validation accuracy kept")
    ax.set_title(f"{_data_label(results)}, CNN width {cfg['width']}")
    legend_outside(ax, title="regularizer (diamond: read at half)")
    return fig


def figure_11(results, cfg, strength_index=-1):
    """Training loss (top) and accuracy (bottom) per epoch on random (left) and real labels (right), one
    curve per regularizer at one strength (default: its strongest), and the unregularized network."""
    fig, axes = figure(ncols=2, nrows=2, width=4.2, height=3.0)
    for column, dataset in enumerate(reg.DATASETS[::-1]):
        for row, name in enumerate(("train_loss", "train_accuracy")):
            ax = axes[2 * row + column]
            for regularizer in reg.run_regularizers(cfg):
                values = reg.curve(results, cfg, regularizer, dataset, name)[strength_index]  # (seed, epoch)
                strength = reg.strengths(cfg, regularizer)[strength_index]
                ax.plot(
                    np.arange(1, values.shape[-1] + 1),
                    np.nanmean(values, 0),
                    color=COLORS[regularizer],
                    marker="o",
                    ms=3,
                    label=f"{regularizer.replace('_', ' ')} {strength:g}",
                )
            base = reg.curve(results, cfg, "dropout", dataset, name)[0]
            ax.plot(np.arange(1, base.shape[-1] + 1), np.nanmean(base, 0), color="k", ls="--", label="none")
            epoch_axis(ax)
            ax.set_ylabel(name.replace("_", " "))
            ax.set_title("random labels" if dataset == "randY" else "real labels")
    legend_outside(axes[1])
    fig.suptitle(_data_label(results))
    return fig


def figure_regularizer(results, cfg, regularizer="dropout"):
    """One regularizer, every strength: training accuracy on random labels (left) and validation accuracy
    on real data (right) per epoch, means over seeds.

    The unregularized networks (strength 0) are a black dashed line; the strengths from a sequential palette
    (dark to light, the order of the legend) that stays clear of white, each with its own marker, so that
    neighbouring strengths stay apart even where their lines cross."""
    fig, axes = figure(ncols=2, width=4.2, height=3.2)
    values = reg.strengths(cfg, regularizer)
    for strength, style, train, val in zip(
        values,
        _strength_styles(len(values)),
        reg.curve(results, cfg, regularizer, "randY", "train_accuracy"),
        reg.curve(results, cfg, regularizer, "real", "val_accuracy"),
    ):
        epochs = np.arange(1, train.shape[-1] + 1)
        every = max(1, len(epochs) // 8)  # markers on a few epochs: enough to tell the lines apart
        axes[0].plot(epochs, np.nanmean(train, 0), markevery=every, label=f"{strength:g}", **style)
        axes[1].plot(epochs, np.nanmean(val, 0), markevery=every, **style)
    axes[0].set_title("training, random labels")
    axes[1].set_title("validation, real labels")
    for ax in axes:
        epoch_axis(ax)
        ax.set_ylabel("accuracy")
    legend_outside(
        axes[1], handles=axes[0].lines, labels=[f"{s:g}" for s in values], title=reg.REGULARIZERS[regularizer][2]
    )
    fig.suptitle(_data_label(results))
    return fig


def _strength_styles(n):
    """Line styles for ``n`` strengths, the first being 0: black dashed, then plasma from dark blue to orange
    (its light yellow end is left out: it vanishes on white), markers and dash patterns cycling."""
    colors = plt.get_cmap("plasma")(np.linspace(0.0, 0.78, max(n - 1, 2)))[: n - 1] if n > 2 else ["C3"]
    markers, dashes = "os^Dv<>p", ("-", "-.", (0, (5, 1.5)), ":")
    styles = [dict(color="k", ls="--", lw=1.4)]
    for k in range(n - 1):
        styles.append(dict(color=colors[k], ls=dashes[k % len(dashes)], marker=markers[k % len(markers)], ms=4, lw=1.6))
    return styles
