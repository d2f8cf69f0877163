"""Figures shared by the chapters (matplotlib is imported here only, not by the compute modules)."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

COLORS = {"real": "C0", "randX": "C1", "randY": "C2", "binomial": "0.4", "50% real": "C4"}


def easy_examples_curves(ax, curves, n_runs, data_label, title=""):
    """Figure 1: sorted per-example misclassification rates, one curve per dataset."""
    for name, rates in curves.items():
        style = dict(ls="--") if name == "binomial" else {}
        ax.plot(np.arange(len(rates)), rates, color=COLORS.get(name), label=name, **style)
    ax.set_xlabel("training example (sorted by misclassification rate)")
    ax.set_ylabel(f"misclassification rate over {n_runs} runs")
    ax.set_ylim(-0.02, 1.02)
    ax.set_title(title or f"{data_label}: difficulty after one epoch")
    ax.legend(loc="center left")
    return ax


def filter_grid(ax, filters, title, n=64):
    """First-layer filters (F, 3, k, k) as a grid of RGB tiles, each scaled to [0, 1] on its own."""
    filters = np.asarray(filters)[:n]
    count, _, k, _ = filters.shape
    cols = int(np.ceil(np.sqrt(count)))
    rows = int(np.ceil(count / cols))
    grid = np.ones((rows * (k + 1) - 1, cols * (k + 1) - 1, 3))
    for i, f in enumerate(filters):
        f = f.transpose(1, 2, 0)
        f = (f - f.min()) / max(f.max() - f.min(), 1e-12)
        r, c = divmod(i, cols)
        grid[r * (k + 1):r * (k + 1) + k, c * (k + 1):c * (k + 1) + k] = f
    ax.imshow(grid, interpolation="nearest")
    ax.set_title(title)
    ax.axis("off")
    return ax


def figure(ncols=1, width=5.0, height=3.6):
    fig, axes = plt.subplots(1, ncols, figsize=(width * ncols, height), squeeze=False)
    return fig, axes[0]


def gini_curves(ax, steps, curves, title):
    """Figure 3: Gini of the loss-sensitivity against SGD steps; the band spans the seeds."""
    for i, (name, runs) in enumerate(curves.items()):
        color = COLORS.get(name, f"C{i}")
        ax.plot(steps, runs.mean(0), marker="o", color=color, label=f"{name} ({len(runs)} seeds)")
        if len(runs) > 1:
            ax.fill_between(steps, runs.min(0), runs.max(0), color=color, alpha=0.2)
    ax.set_xscale("log")
    ax.set_xlabel("SGD steps T")
    ax.set_ylabel("Gini coefficient of loss-sensitivity")
    ax.set_title(title)
    ax.legend()
    return ax


def class_matrix(ax, matrix, title):
    """Figure 4: g_ij on a log colour scale; rows: class i of the loss, columns: class j of the example."""
    from matplotlib.colors import LogNorm

    image = ax.imshow(matrix, norm=LogNorm(), cmap="viridis")
    ax.set_xlabel("class j of the training example")
    ax.set_ylabel("class i of the loss L(y=i)")
    ax.set_xticks(range(len(matrix)))
    ax.set_yticks(range(len(matrix)))
    ax.set_title(title)
    ax.figure.colorbar(image, ax=ax, fraction=0.046)
    return ax
