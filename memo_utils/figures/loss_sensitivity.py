"""Figures 3 and 4 of Arpit et al. 2017 (the loss-sensitivity chapter)."""

from __future__ import annotations

from matplotlib.colors import LogNorm

from ..experiments import loss_sensitivity
from .plots import COLORS, figure, legend_outside, ticks_at


def _gini_panel(ax, steps, curves, title):
    """Gini against SGD steps; the line is the mean over seeds, the band spans them."""
    for i, (name, runs) in enumerate(curves.items()):
        color = COLORS.get(name, f"C{i}")
        ax.plot(steps, runs.mean(0), marker="o", color=color, label=f"{name} ({len(runs)} seeds)")
        if len(runs) > 1:
            ax.fill_between(steps, runs.min(0), runs.max(0), color=color, alpha=0.2)
    ax.set_xscale("log")
    ticks_at(ax, steps)  # a tick at every T, labelled "2k", thinned where labels would touch
    ax.set_xlabel("SGD steps T")
    ax.set_ylabel("Gini of loss-sensitivity")
    ax.set_title(title)
    legend_outside(ax, where="below")


def figure_3(results, cfg):
    """Gini of the loss-sensitivity: 10 classes (left) and one class per example (right)."""
    curves = loss_sensitivity.gini_curves(results)
    fig, axes = figure(ncols=2, width=3.5, height=3.9)  # legends below: each panel gets half the width
    _gini_panel(axes[0], cfg["steps"], {k: curves[k] for k in loss_sensitivity.SETTINGS_10_CLASSES}, "10 classes")
    _gini_panel(
        axes[1], cfg["steps"], {k: curves[k] for k in loss_sensitivity.SETTINGS_UNIQUE}, "one class per example"
    )
    fig.suptitle(loss_sensitivity.data_label(results))
    return fig


def _class_matrix_panel(ax, matrix, title):
    """g_ij on a log colour scale; rows: class i of the loss, columns: class j of the example."""
    image = ax.imshow(matrix, norm=LogNorm(), cmap="viridis")
    ax.set_xlabel("class j of the training example")
    ax.set_ylabel("class i of the loss L(y=i)")
    ax.set_xticks(range(len(matrix)))
    ax.set_yticks(range(len(matrix)))
    ax.set_title(title)
    ax.figure.colorbar(image, ax=ax, fraction=0.046)


def figure_sorted(results, cfg):
    """The loss-sensitivity of every example at the last T, sorted, relative to its mean (log scale):
    a few examples with high g for real data, most of them high for random data."""
    import numpy as np

    fig, (ax,) = figure(width=5.6)
    for name in loss_sensitivity.SETTINGS_10_CLASSES:
        sens = loss_sensitivity.sel(results, "loss_sensitivity", name, norm="l1")[:, -1]  # (seed, example)
        finite = loss_sensitivity.sel(results, "finite", name)
        relative = np.sort(sens[finite] / sens[finite].mean(-1, keepdims=True), axis=-1)[:, ::-1].mean(0)
        ax.plot(np.arange(1, len(relative) + 1), relative, color=COLORS.get(name), label=name)
    ax.set_yscale("log")
    ax.set_xlabel("training example, by decreasing loss-sensitivity")
    ax.set_ylabel("loss-sensitivity / its mean over examples")
    ax.set_title(f"{loss_sensitivity.data_label(results)}: T = {max(cfg['steps'])}")
    legend_outside(ax)
    return fig


def figure_4(results, name="randY"):
    """Class-specific sensitivity for real labels (left) and for the setting ``name`` (right)."""
    fig, axes = figure(ncols=2, width=4.6, height=3.9)
    _class_matrix_panel(axes[0], loss_sensitivity.class_matrix(results, "real"), "real labels")
    _class_matrix_panel(axes[1], loss_sensitivity.class_matrix(results, name), f"{name} labels")
    return fig
