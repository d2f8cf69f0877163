"""Figures 1 and 2 of Arpit et al. 2017 (the easy-examples chapter)."""

from __future__ import annotations

import numpy as np

from ..experiments import easy_examples
from .plots import COLORS, figure, legend_outside


def figure_1(results, checkpoint=-1):
    """Sorted per-example misclassification rates after a fraction of the first epoch, one curve per dataset."""
    curves, n_runs = {}, 0
    for name in easy_examples.DATASETS:
        curves[name], n_runs = easy_examples.misclassification_rates(results, name, checkpoint)
    curves["binomial"] = easy_examples.binomial_reference(results)
    label = ", ".join(results.data_labels()["mlp"])
    fig, (ax,) = figure()
    for name, rates in curves.items():
        ax.plot(
            np.arange(len(rates)),
            rates,
            color=COLORS.get(name),
            label=name,
            **({"ls": "--"} if name == "binomial" else {}),
        )
    ax.set_xlabel("training example (sorted by misclassification rate)")
    ax.set_ylabel(f"misclassification rate over {n_runs} runs")
    ax.set_ylim(-0.02, 1.02)
    ax.set_title(f"{label}: after {easy_examples.CHECKPOINT_FRACTIONS[checkpoint]:.0%} of one epoch")
    legend_outside(ax)
    return fig


def _filter_grid(ax, filters, title, n=64):
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
        grid[r * (k + 1) : r * (k + 1) + k, c * (k + 1) : c * (k + 1) + k] = f
    ax.imshow(grid, interpolation="nearest")
    ax.set_title(title)
    ax.axis("off")


def figure_2(results, seed=None):
    """First-layer filters of one seed: at initialisation W0, and after training on real CIFAR-10, randY and randX
    (top: the filters W; bottom: what training added to them, W - W0, which the filter claims measure)."""
    seed = seed if seed is not None else min(c["seed"] for p, c, _ in results if p == "cnn")
    label = ", ".join(results.data_labels()["cnn"])
    initial = results.sel("cnn", "initial_filters", seed=seed)
    fig, axes = figure(ncols=4, nrows=2, width=3.2, height=3.6)
    _filter_grid(axes[0], initial, "at initialisation (W0)")
    axes[4].axis("off")
    for top, bottom, name in zip(axes[1:4], axes[5:], easy_examples.CNN_DATASETS):
        filters = results.sel("cnn", "filters", seed=seed, dataset=name)
        _filter_grid(top, filters, f"W, trained on {label}" if name == "real" else f"W, trained on {name}")
        _filter_grid(bottom, filters - initial, f"W - W0, {'real' if name == 'real' else name}")
    fig.suptitle(f"seed {seed}")
    return fig
