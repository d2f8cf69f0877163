"""Figures of the dissection chapter (Gu & Tresp 2019, Figures 1-5 and the section 4 ablation)."""

from __future__ import annotations

import numpy as np

from ..experiments import dissection as dis
from .plots import epoch_axis, figure, legend_outside

CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
DATASET_COLORS = {"X_T": "C0", "X_R": "C1"}
SETTINGS = {"X_T": dis.TRUE_LABELS, "X_R": dis.RANDOM_LABELS}


def _data_label(results):
    return ", ".join(results.data_labels()["train"])


def _epochs(curve):
    return np.arange(1, np.shape(curve)[-1] + 1)


def figure_1(results, replicate=0):
    """Training and test accuracy (left axis) and G (right axis) per epoch of one VGG-11, on random labels
    (left panel) and on true labels (right panel)."""
    fig, axes = figure(ncols=2, width=3.9, height=3.2)
    for ax, name in zip(axes, ("X_R", "X_T")):
        cell = SETTINGS[name]
        train = results.sel_finite("train", "train_accuracy", **cell, replicate=replicate)[0]
        test = results.sel_finite("train", "val_accuracy", **cell, replicate=replicate)[0]
        gradient = results.sel_finite("train", "input_gradient", **cell, replicate=replicate)[0]
        ax.plot(_epochs(train), train, color="C0", label="training accuracy")
        ax.plot(_epochs(test), test, color="C2", label="held-out accuracy")
        ax.set_ylim(0, 1.02)
        epoch_axis(ax)
        ax.set_ylabel("accuracy")
        twin = ax.twinx()
        twin.plot(_epochs(gradient), gradient, color="C3", ls="--", label="G")
        twin.set_ylabel("G", color="C3")
        twin.set_ylim(0, None)
        ax.set_title("random labels (X_R)" if name == "X_R" else "true labels (X_T)")
    legend_outside(
        axes[1],
        handles=axes[0].lines + twin.lines,
        labels=["training accuracy", "held-out accuracy", "G"],
        where="below",
    )
    fig.suptitle(f"VGG-11, replicate {replicate}; {_data_label(results)}")
    return fig


def figure_2(results, cfg, objective="logit"):
    """Dist(VGG-11 s1, f2) per f2, for networks trained on X_T and on X_R: bars are means over replicates,
    dots the replicates."""
    fig, (ax,) = figure(width=6.0, height=3.6)
    names = results.sel("train", "model", **dis.TRUE_LABELS)[1:]
    positions = np.arange(len(names))
    for offset, name in ((-0.2, "X_T"), (0.2, "X_R")):
        values = dis.dist(results, SETTINGS[name], objective)  # (replicate, f2)
        ax.bar(
            positions + offset,
            np.nanmean(values, 0),
            width=0.38,
            color=DATASET_COLORS[name],
            alpha=0.75,
            label="true labels (X_T)" if name == "X_T" else "random labels (X_R)",
        )
        for k, column in enumerate(values.T):
            ax.plot(np.full(len(column), positions[k] + offset), column, "k.", ms=5)
    ax.set_xticks(positions, names)
    ax.set_xlabel("f2")
    ax.set_ylabel("Dist(VGG-11 (s1), f2)")
    ax.set_title(f"Equation 1 ascends the class {objective.replace('_', '-')}; {len(cfg['seeds'])} replicates")
    legend_outside(ax)
    return fig


def _image_grid(ax, images, row_labels):
    """uint8 images (rows, columns, 32, 32, 3) as one grid with a one-pixel white border."""
    rows, columns = images.shape[:2]
    grid = np.full((rows * 33 - 1, columns * 33 - 1, 3), 255, dtype=np.uint8)
    for r in range(rows):
        for c in range(columns):
            grid[r * 33 : r * 33 + 32, c * 33 : c * 33 + 32] = images[r, c]
    ax.imshow(grid, interpolation="nearest")
    ax.set_yticks([r * 33 + 15.5 for r in range(rows)], row_labels)
    ax.set_xticks([])
    for side in ("left", "bottom"):
        ax.spines[side].set_visible(False)
    ax.tick_params(length=0)


def figure_3(results, cfg, classes=(8, 7, 2), setting="X_T", objective="logit"):
    """The GAN's images G(z) before the ascent (first row) and after it, x_j* = G(z_j*), for some classes of
    VGG-11 (s1) of replicate 0; a column is one starting code."""
    cell = SETTINGS[setting]
    samples = results.cell("train", **cell)["gan_samples"]
    optimized = results.cell("train", **cell)["x_star"][list(cfg["am_objectives"]).index(objective)]
    images = np.concatenate([samples[None], optimized[list(classes)]])
    fig, (ax,) = figure(width=min(7.0, 0.6 * images.shape[1] + 1.4), height=0.6 * len(images) + 0.8)
    _image_grid(ax, images, ["G(z)"] + [CLASSES[j] for j in classes])
    ax.set_title(f"VGG-11 (s1) trained on {'true' if setting == 'X_T' else 'random'} labels")
    return fig


def figure_optimized_images(results, cfg, setting="X_T", objective="logit"):
    """Every class's optimized images x_j* of VGG-11 (s1), replicate 0, for one training setting."""
    return figure_3(results, cfg, classes=range(len(CLASSES)), setting=setting, objective=objective)


def figure_4(results, cfg):
    """Training accuracy per epoch (top) and G per tenth of an epoch (bottom; per step when an epoch has fewer than
    ten) of every VGG-11 run, on true labels (left) and random labels (right): the spread of the paths over seeds,
    and G as the hunting stage's measure reads it."""
    fig, axes = figure(ncols=2, nrows=2, width=3.6, height=2.7)
    for column, name in enumerate(("X_T", "X_R")):
        accuracy = results.sel_finite("train", "train_accuracy", **SETTINGS[name])[:, :2].reshape(-1, cfg["epochs"])
        steps = results.sel_finite("train", "input_gradient_steps", **SETTINGS[name])[:, :2]
        blocks, length = dis.gradient_blocks(steps.reshape(-1, steps.shape[-1]), steps.shape[-1] // cfg["epochs"])
        top, bottom = axes[column], axes[2 + column]
        for curve in accuracy:
            top.plot(_epochs(curve), curve, color=DATASET_COLORS[name], lw=1, alpha=0.8)
        for curve in blocks:  # block k ends at epoch (k + 1) x its length
            bottom.plot(np.arange(1, len(curve) + 1) * length, curve, color=DATASET_COLORS[name], lw=0.8, alpha=0.7)
        top.axhline(dis.CROSSING, color="0.6", ls=":", lw=1)
        top.set_title(f"{'true' if name == 'X_T' else 'random'} labels, {len(accuracy)} runs")
        top.set_ylabel("training accuracy")
        bottom.set_ylabel(f"G per {length:.2g} epoch")
        for ax in (top, bottom):
            epoch_axis(ax)
    fig.suptitle(f"VGG-11; {_data_label(results)}")
    return fig


def figure_5(results, cfg):
    """Dist(VGG-11 s1, VGG-11 s2) against the fraction of random labels (left) and, on X_R, with weight decay or
    augmentation (right); dots are replicates, lines and bars their means."""
    objective = cfg["am_objectives"][0]
    fig, axes = figure(ncols=2, width=3.6, height=3.2)
    fractions = cfg["label_noise_fractions"]
    values = np.array([dis.dist(results, {"fraction": f, "regularizer": "none"}, objective)[:, 0] for f in fractions])
    axes[0].plot(fractions, np.nanmean(values, 1), color="C1", marker="o")
    for f, column in zip(fractions, values):
        axes[0].plot(np.full(len(column), f), column, "k.", ms=5)
    axes[0].set_xlabel("fraction of random labels")
    axes[0].set_title("label noise (no regularizer)")
    names = ("none", "weight_decay", "augmentation")
    ablation = [dis.dist(results, {"fraction": 1.0, "regularizer": r}, objective)[:, 0] for r in names]
    axes[1].bar(np.arange(3), [np.nanmean(v) for v in ablation], color="C1", alpha=0.75)
    for k, column in enumerate(ablation):
        axes[1].plot(np.full(len(column), k), column, "k.", ms=5)
    axes[1].set_xticks(np.arange(3), [n.replace("_", "\n") for n in names])
    axes[1].set_title("random labels (X_R)")
    for ax in axes:
        ax.set_ylim(0, None)
        ax.set_ylabel("Dist(VGG-11 s1, s2)")
    fig.suptitle(f"{objective.replace('_', '-')} objective; {_data_label(results)}")
    return fig


def figure_gan(results):
    """The DCGAN's discriminator and generator losses per epoch."""
    cell = results.cell("train", **dis.TRUE_LABELS)
    fig, (ax,) = figure(width=4.4, height=2.8)
    for name, color in (("discriminator", "C0"), ("generator", "C3")):
        loss = cell[f"gan_{name}_loss"]
        ax.plot(_epochs(loss), loss, color=color, marker="o", ms=3, label=name)
    epoch_axis(ax)
    ax.set_ylabel("loss (binary cross-entropy)")
    legend_outside(ax)
    return fig
