"""Figures of the critical-sample-ratio chapter (Arpit et al. 2017 Figures 7-9 and footnote 5)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from ..experiments import critical_sample_ratio as csr
from .plots import epoch_axis, figure, integer_axis, legend_outside


def _band(ax, x, values, color, **kwargs):
    """Mean over seeds (rows) as a line, the seeds' range as a band."""
    ax.plot(x, np.nanmean(values, 0), color=color, **kwargs)
    ax.fill_between(x, np.nanmin(values, 0), np.nanmax(values, 0), color=color, alpha=0.15, lw=0)


def _data_label(results, dataset):
    return ", ".join(results.data_labels()[dataset])


def figure_noise(results, cfg, dataset="mnist"):
    """Figures 7 and 8: accuracy (solid: training, dotted: validation) and validation CSR per epoch,
    one colour per noise level, for randX (top) and randY (bottom)."""
    levels = [0.0, *csr.levels(cfg, dataset)]
    colors = plt.get_cmap("viridis")(np.linspace(0, 0.85, len(levels)))
    measured = csr.measured_epochs(cfg, dataset)
    fig, axes = figure(ncols=2, nrows=2, width=4.2, height=3.0)
    for row, kind in enumerate(csr.NOISE_KINDS):
        acc_ax, csr_ax = axes[2 * row], axes[2 * row + 1]
        for level, color in zip(levels, colors):
            train = csr.curves(results, dataset, kind, level, "train_accuracy")
            epochs = np.arange(train.shape[-1])  # from epoch 0, before training
            _band(acc_ax, epochs, train, color, label=f"{level:.0%}")
            _band(acc_ax, epochs, csr.curves(results, dataset, kind, level, "val_accuracy"), color, ls=":")
            _band(csr_ax, measured, csr.curves(results, dataset, kind, level, "csr"), color, marker="o", ms=3)
        acc_ax.set_ylabel("accuracy")
        acc_ax.set_title(f"{kind}: training (solid), validation (dotted)")
        csr_ax.set_ylabel("validation CSR")
        csr_ax.set_title(f"{kind}: critical sample ratio")
        for ax in (acc_ax, csr_ax):
            epoch_axis(ax)
    handles, labels = axes[0].get_legend_handles_labels()
    legend_outside(axes[1], handles=handles, labels=labels, title="noise")
    fig.suptitle(_data_label(results, dataset))
    return fig


def figure_through_training(results, cfg):
    """Figure 9 and footnote 5: validation CSR (left) and training-set CSR (right) through training on
    CIFAR-10, for the real data and the highest randX and randY levels."""
    top = cfg["cifar_noise_levels"][-1]
    measured = csr.measured_epochs(cfg, "cifar")
    fig, axes = figure(ncols=2, width=4.2, height=3.4)
    for kind, color in zip(("real", *csr.NOISE_KINDS), ("C0", "C1", "C2")):
        label = "real" if kind == "real" else f"{kind} {top:.0%}"
        for ax, name in zip(axes, ("csr", "train_csr")):
            _band(ax, measured, csr.curves(results, "cifar", kind, top, name), color, marker="o", ms=3, label=label)
    axes[0].set_ylabel("validation CSR")
    axes[1].set_ylabel("training-set CSR")
    axes[0].set_title("on the validation set")
    axes[1].set_title(f"on {cfg['cifar_train_csr_size']} training examples")
    for ax in axes:
        epoch_axis(ax)
    legend_outside(axes[1])
    fig.suptitle(f"{_data_label(results, 'cifar')}, CNN width {cfg['cifar_width']}")
    return fig


def figure_iterations(results, cfg):
    """CSR against the maximum number of LASS iterations, at the last measurement of every dataset:
    a flat end means the limit suffices. Titles are two short lines (data; epoch and noise), so that
    the two panels' titles never meet; the legend sits below, leaving both panels the same width."""
    fig, axes = figure(ncols=2, width=3.5, height=3.4)
    steps = np.arange(1, cfg["lass_iterations"] + 1)
    for ax, dataset in zip(axes, csr.DATASETS):
        top = csr.levels(cfg, dataset)[-1]
        for kind, color in zip(("real", *csr.NOISE_KINDS), ("C0", "C1", "C2")):
            found = csr.curves(results, dataset, kind, top, "found_by_iteration")[:, -1]  # (seed, iteration)
            _band(ax, steps, found, color, label=kind)
        integer_axis(ax, "maximum LASS iterations")
        ax.set_ylabel("validation CSR")
        ax.set_title(f"{_data_label(results, dataset)}\nepoch {csr.measured_epochs(cfg, dataset)[-1]}, noise {top:.0%}")
    legend_outside(axes[0], where="below", ncols=3)
    return fig


def figure_setting(results, cfg, dataset="mnist", kind="randY", level=None):
    """One dataset and noise setting (default: the highest level), seed by seed: accuracy (left) and
    validation CSR (right)."""
    level = csr.levels(cfg, dataset)[-1] if level is None else level
    fig, axes = figure(ncols=2, width=4.2, height=3.2)
    train = csr.curves(results, dataset, kind, level, "train_accuracy")
    val = csr.curves(results, dataset, kind, level, "val_accuracy")
    ratio = csr.curves(results, dataset, kind, level, "csr")
    epochs = np.arange(train.shape[-1])  # from epoch 0, before training
    for i, seed in enumerate(csr.seeds_of(cfg, dataset)):
        color = f"C{i}"
        axes[0].plot(epochs, train[i], color=color, label=f"seed {seed}")
        axes[0].plot(epochs, val[i], color=color, ls=":")
        axes[1].plot(csr.measured_epochs(cfg, dataset), ratio[i], color=color, marker="o", ms=3)
    axes[0].set_ylabel("accuracy (solid: training, dotted: validation)")
    axes[1].set_ylabel("validation CSR")
    for ax in axes:
        epoch_axis(ax)
    name = "real data" if kind == "real" else f"{level:.0%} {kind}"
    fig.suptitle(f"{_data_label(results, dataset)}, {name}")
    legend_outside(axes[1], handles=axes[0].lines[::2])
    return fig


def setting_options(cfg):
    """(label, (dataset, kind, level)) for every setting the chapter ran, for the widget."""
    options = []
    for dataset, name in csr.DATASETS.items():
        options.append((f"{name}: real data", (dataset, "real", 0.0)))
        options += [
            (f"{name}: {kind} {level:.0%}", (dataset, kind, level))
            for kind in csr.NOISE_KINDS
            for level in csr.levels(cfg, dataset)
        ]
    return options
