"""Figures of the capacity chapter (Arpit et al. 2017 Figures 5-6; Krueger et al. 2017 Figures 1-3)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from ..experiments import capacity
from .plots import epoch_axis, figure, legend_outside


def _level_colors(cfg):
    return plt.get_cmap("viridis")(np.linspace(0, 0.85, len(cfg["noise_levels"])))


def figure_capacity(results, cfg):
    """Best validation accuracy against width, one line per noise level; the band spans the seeds."""
    fig, axes = figure(ncols=2, width=4.4, height=3.6)
    for ax, kind in zip(axes, capacity.NOISE_KINDS):
        best = capacity.best_val_accuracy(results, kind, cfg)  # (width, level, seed)
        for i, (level, color) in enumerate(zip(cfg["noise_levels"], _level_colors(cfg))):
            ax.plot(cfg["widths"], np.nanmean(best[:, i], -1), marker="o", color=color, label=f"{level:.0%}")
            ax.fill_between(cfg["widths"], np.nanmin(best[:, i], -1), np.nanmax(best[:, i], -1), color=color, alpha=0.2)
        ax.set_xscale("log", base=2)
        ax.set_xlabel("hidden units per layer")
        ax.set_ylabel("best validation accuracy (clean)")
        ax.set_title(kind)
    legend_outside(axes[-1], title="noise")
    return fig


def figure_time(results, cfg, kind="randX"):
    """Epochs to 99% training accuracy against width (left) and training-set size (right).

    Censored runs (not converged within the budget) are drawn as open triangles at the budget.
    """
    fig, axes = figure(ncols=2, width=4.4, height=3.6)
    for ax, axis, values, label in (
        (axes[0], "width", cfg["widths"], "hidden units per layer"),
        (axes[1], "size", capacity.size_grid(cfg), "training examples"),
    ):
        epochs, censored = capacity.convergence(results, kind, cfg, axis)  # (value, level, seed)
        for i, (level, color) in enumerate(zip(cfg["noise_levels"], _level_colors(cfg))):
            ax.plot(values, epochs[:, i].mean(-1), color=color, label=f"{level:.0%}")
            for j, v in enumerate(values):
                for e, c in zip(epochs[j, i], censored[j, i]):
                    ax.scatter(
                        v,
                        e,
                        marker="^" if c else "o",
                        facecolors="none" if c else color,
                        edgecolors=color,
                        s=28,
                        zorder=3,
                    )
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xlabel(label)
        ax.set_ylabel(f"epochs to {capacity.CONVERGED:.0%} training accuracy")
        ax.set_title(f"{kind}" + (f", width {cfg['size_width']}" if axis == "size" else ""))
    legend_outside(axes[-1], title="noise (open ^: censored)")
    return fig


def figure_fit(results, cfg):
    """Final training accuracy on the noisy training set against width, one line per noise level (the band spans
    the seeds), beside a linear probe's on the top level's sets (dashed): where the networks need capacity."""
    fig, axes = figure(ncols=2, width=4.4, height=3.6)
    for ax, kind in zip(axes, capacity.NOISE_KINDS):
        final = np.array([capacity.training_curves(results, kind, cfg, width=w)[..., -1] for w in cfg["widths"]])
        for i, (level, color) in enumerate(zip(cfg["noise_levels"], _level_colors(cfg))):
            ax.plot(cfg["widths"], np.nanmean(final[:, i], -1), marker="o", color=color, label=f"{level:.0%}")
            ax.fill_between(
                cfg["widths"], np.nanmin(final[:, i], -1), np.nanmax(final[:, i], -1), color=color, alpha=0.2
            )
        probe = results.sel("probe", "probe_accuracy", noise=kind).mean()
        ax.axhline(
            probe, color=_level_colors(cfg)[-1], ls="--", lw=1, label=f"linear probe, {cfg['noise_levels'][-1]:.0%}"
        )
        ax.axhline(capacity.CONVERGED, color="0.5", ls=":", lw=1)
        ax.set_xscale("log", base=2)
        ax.set_xlabel("hidden units per layer")
        ax.set_ylabel(f"training accuracy after {cfg['epochs']} epochs")
        ax.set_title(kind)
    legend_outside(axes[-1], title="noise")
    return fig


def figure_sharpness(results, cfg):
    """Largest Hessian eigenvalue of the training loss at the end of training, against the noise level."""
    fig, (ax,) = figure(width=5.0)
    for kind, color in zip(capacity.NOISE_KINDS, ("C1", "C2")):
        eigenvalue, converged, _ = capacity.sharpness(results, kind, cfg)
        values = np.abs(eigenvalue)
        ax.plot(cfg["noise_levels"], values.mean(-1), marker="o", color=color, label=kind)
        ax.fill_between(cfg["noise_levels"], values.min(-1), values.max(-1), color=color, alpha=0.2)
    ax.set_yscale("log")
    ax.set_xlabel("fraction of noisy training examples")
    ax.set_ylabel("|largest Hessian eigenvalue|")
    ax.set_title(f"width {max(cfg['widths'])}")
    legend_outside(ax)
    return fig


def figure_curves(results, cfg, kind="randX", level=None):
    """Training accuracy per epoch for every width, at one noise kind and level (mean over seeds)."""
    level = cfg["noise_levels"][-1] if level is None else level
    fig, (ax,) = figure(width=5.0)
    colors = plt.get_cmap("plasma")(np.linspace(0, 0.85, len(cfg["widths"])))
    for width, color in zip(cfg["widths"], colors):
        curves = capacity.training_curves(results, kind, cfg, width=width)[cfg["noise_levels"].index(level)]
        ax.plot(np.arange(1, curves.shape[-1] + 1), np.nanmean(curves, 0), color=color, label=str(width))
    ax.axhline(capacity.CONVERGED, color="0.5", ls=":", lw=1)
    epoch_axis(ax)
    ax.set_ylabel("training accuracy (on the noisy set)")
    ax.set_title(f"{kind}, {level:.0%} noise")
    legend_outside(ax, title="width")
    return fig
