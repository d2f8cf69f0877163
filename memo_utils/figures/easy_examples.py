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


SHOWN_FILTERS = 9  # per panel, as a 3 x 3 grid: few enough that each 5 x 5 filter is drawn large


def _filter_grid(ax, filters, title, n=SHOWN_FILTERS):
    """The first ``n`` first-layer filters (F, 3, k, k) as a grid of RGB tiles, on one symmetric scale for the panel.

    Every weight is divided by the panel's largest absolute weight and mapped to [0, 1] with 0 at mid-grey, so
    that tiles within a panel compare (a tile scaled on its own would make a tiny filter look as strong as a large
    one), and nearest interpolation keeps each weight a crisp square. Returns that largest absolute weight.
    """
    filters = np.asarray(filters, dtype=float)[:n]
    count, _, k, _ = filters.shape
    cols = int(np.ceil(np.sqrt(count)))
    rows = int(np.ceil(count / cols))
    scale = max(float(np.abs(filters).max()), 1e-12)
    grid = np.ones((rows * (k + 1) - 1, cols * (k + 1) - 1, 3))  # white lines between the tiles
    for i, f in enumerate(filters):
        r, c = divmod(i, cols)
        grid[r * (k + 1) : r * (k + 1) + k, c * (k + 1) : c * (k + 1) + k] = 0.5 + 0.5 * f.transpose(1, 2, 0) / scale
    ax.imshow(grid, interpolation="nearest")
    ax.set_title(title)
    ax.axis("off")
    return scale


def figure_2(results, seed=None):
    """First-layer filters of one seed: at initialisation W0, and after training on real CIFAR-10, randY and randX
    (top: the filters W; bottom: what training added to them, W - W0, which the filter claims measure).

    Each panel shows the same filters (the first nine), so that a tile can be followed across the panels, each on
    its own symmetric colour scale (grey is 0): W - W0 is far smaller than W at the cpu profile and would be flat
    grey on W's scale."""
    seed = seed if seed is not None else min(c["seed"] for p, c, _ in results if p == "cnn")
    label = ", ".join(results.data_labels()["cnn"])
    initial = results.sel("cnn", "initial_filters", seed=seed)
    fig, axes = figure(ncols=4, nrows=2, width=1.75, height=2.1)
    _filter_grid(axes[0], initial, "W0: initial\n(shared by all three)")
    names = {"real": "(real labels)", "randY": "(random labels)", "randX": "(random inputs)"}
    for top, bottom, name in zip(axes[1:4], axes[5:], easy_examples.CNN_DATASETS):
        filters = results.sel("cnn", "filters", seed=seed, dataset=name)
        moved = np.linalg.norm(filters - initial) / np.linalg.norm(initial)  # as the table's "filters moved"
        _filter_grid(top, filters, f"W: trained on {name}\n{names[name]}")
        _filter_grid(bottom, filters - initial, f"W - W0, {name}\n(moved {moved:.0%} of W0)")
    axes[4].axis("off")
    axes[4].text(
        0.5,
        0.5,
        "Each tile: one 5 x 5 filter,\nits RGB weights. Grey is 0;\neach panel is scaled to\nits largest |weight|.",
        transform=axes[4].transAxes,
        ha="center",
        va="center",
        fontsize=8.5,
        color="0.3",
    )
    fig.suptitle(f"first {min(SHOWN_FILTERS, len(initial))} of {len(initial)} filters, seed {seed}; {label}")
    return fig
