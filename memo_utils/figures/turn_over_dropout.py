"""Figures of the turn-over dropout chapter (Liu, Lin & Jaggi 2021, Figures 2-10, and the validation)."""

from __future__ import annotations

import numpy as np

from .plots import epoch_axis, figure, legend_outside, placeholder

_CIFAR_OFF_HINT = (
    "not computed in this run (cifar=False, as at the cpu profile); the gpu profile computes them, or set cifar=True"
)


def _label(results, part):
    return ", ".join(results.data_labels()[part])


def figure_2(results, seed=0):
    """Histograms of the memorization scores of one seed: uncorrupted MNIST (left), and with a third of the
    labels random (right), the random-label examples drawn separately."""
    fig, axes = figure(ncols=2, width=3.6, height=3.0)
    clean = results.sel("scores", "scores", labels="uncorrupted", seed=seed)
    axes[0].hist(clean, bins=60, color="C0")
    axes[0].set_title("uncorrupted")
    scores = results.sel("scores", "scores", labels="corrupted", seed=seed)
    corrupted = results.sel("scores", "corrupted", labels="corrupted", seed=seed)
    bins = np.linspace(scores.min(), scores.max(), 61)
    axes[1].hist(scores[~corrupted], bins=bins, color="C0", alpha=0.7, label="true labels")
    axes[1].hist(scores[corrupted], bins=bins, color="C3", alpha=0.7, label="random labels")
    axes[1].set_title("a third of the labels random")
    for ax in axes:
        ax.set_yscale("log")
        ax.set_xlabel("memorization score (nats)")
        ax.set_ylabel("examples")
    legend_outside(axes[1], where="below")
    fig.suptitle(f"{_label(results, 'scores')}, seed {seed}")
    return fig


def _mean_and_range(ax, curves, color, label, alpha=0.2, **line):
    """Curves (seed, epoch) as their mean over seeds, with a band from their minimum to their maximum; ``line``
    goes to the mean's ``plot`` (line style, marker)."""
    epochs = np.arange(1, curves.shape[-1] + 1)
    ax.plot(epochs, np.nanmean(curves, 0), color=color, label=label, **line)
    ax.fill_between(epochs, np.nanmin(curves, 0), np.nanmax(curves, 0), color=color, alpha=alpha, lw=0)


def _dynamics_panels(results, panels, transform=lambda curves: curves):
    """Curves of the dynamics part, ``panels``: (axes, ((array name, colour, label[, line style]), ...)), as means
    over seeds with bands of their range (after ``transform``, e.g. smoothing), against the epoch."""
    from ..experiments.turn_over_dropout import per_seed

    for ax, series in panels:
        for name, color, label, *style in series:
            curves = transform(per_seed(results, "dynamics", name, finite=True))
            _mean_and_range(ax, curves, color, label, **(style[0] if style else {}))
        epoch_axis(ax)


def figure_3(results):
    """Figure 3: training accuracy of a true-label and a random-label subset and of the whole training set (left),
    and test accuracy (right), per epoch, smoothed as in the paper; lines are means over seeds, bands their range."""
    from ..experiments.turn_over_dropout import SMOOTHING, smoothed

    fig, axes = figure(ncols=2, width=3.6, height=3.0)
    panels = (
        (
            axes[0],
            (
                ("true_subset_accuracy", "C0", "true-label subset"),
                ("random_subset_accuracy", "C3", "random-label subset"),
                ("train_accuracy", "k", "all"),
            ),
        ),
        (axes[1], (("test_accuracy", "C2", "test"),)),
    )
    _dynamics_panels(results, panels, smoothed)
    for ax, _ in panels:
        ax.set_ylabel("accuracy")
    axes[0].set_title("training")
    axes[1].set_title("test")
    legend_outside(axes[0], where="below")
    fig.suptitle(f"{_label(results, 'dynamics')}, a third of the labels random; {SMOOTHING}-epoch sliding mean")
    return fig


def figure_4(results):
    """Figure 4: the mean pairwise cosine similarity of the gradients of easy (true-label) and difficult
    (random-label) examples (left), and the mean contribution of a minibatch's easy, difficult and all members to
    the minibatch's gradient (right), per epoch; lines are means over seeds, bands their range.

    On the right the three bands overlap (the seeds spread widely) and all three means start near 1, so each
    mean has its own colour, dash pattern and marker, its band is faint, and the title says at which epochs the
    means meet, if any."""
    from ..experiments.turn_over_dropout import per_seed

    fig, axes = figure(ncols=2, width=3.6, height=3.2)
    epochs = per_seed(results, "dynamics", "all_contribution", finite=True).shape[-1]
    marks = dict(markevery=max(1, epochs // 10), ms=4, lw=1.6)
    series = (
        (axes[0], (("easy_cosine", "C0", "easy (true labels)"), ("difficult_cosine", "C3", "difficult (random)"))),
        (
            axes[1],
            (
                ("easy_contribution", "C0", "easy (true labels)", dict(marker="o", alpha=0.12, **marks)),
                ("difficult_contribution", "C3", "difficult (random)", dict(ls="--", marker="s", alpha=0.12, **marks)),
                ("all_contribution", "k", "all", dict(ls="-.", marker="^", alpha=0.08, **marks)),
            ),
        ),
    )
    _dynamics_panels(results, series)
    axes[0].set_ylabel("cosine similarity (Eq. 3)")
    axes[1].set_ylabel("contribution (Eq. 4)")
    axes[0].set_title("samples of each subset")
    axes[1].set_title(f"members of training minibatches{_contributions_meet(results)}")
    legend_outside(axes[1], where="below")
    fig.suptitle(f"{_label(results, 'dynamics')}, a third of the labels random")
    return fig


def _contributions_meet(results, tolerance=0.1):
    """A note for Figure 4's title on the epochs where the easy, difficult and all contributions' means lie within
    ``tolerance`` (relative) of each other, drawn on top of one another; "" where they never do."""
    from ..experiments.turn_over_dropout import per_seed

    means = np.array(
        [
            np.nanmean(per_seed(results, "dynamics", f"{n}_contribution", finite=True), 0)
            for n in ("easy", "difficult", "all")
        ]
    )
    close = (means.max(0) - means.min(0)) <= tolerance * np.abs(means).max(0)
    epochs = np.flatnonzero(close) + 1
    if not len(epochs):
        return ""
    if len(epochs) == 1:
        return f"\n(the three meet at epoch {epochs[0]})"
    return f"\n(the three meet at {len(epochs)} epochs, first {epochs[0]}, last {epochs[-1]})"


def figure_extremes(results, highest=False, dataset="mnist"):
    """Figures 7 (``dataset="mnist"``) and 8 (``"cifar10"``): the lowest- (or highest-) scoring training images
    of every class (first seed), titled label / unmuted prediction / muted prediction."""
    if dataset != "mnist" and "cifar" not in _subset_parts(results):
        from ..experiments.turn_over_dropout import SHOWN_PER_CLASS

        return placeholder(
            f"CIFAR-10 memorization scores (the {'highest' if highest else 'lowest'}-scoring images of every class)",
            _CIFAR_OFF_HINT,
            ncols=SHOWN_PER_CLASS,
            nrows=2,  # two of the ten class rows: the layout, without a page of empty grey
            width=0.95,
            height=1.05,
            suptitle=_extremes_title(highest),
        )
    if dataset == "mnist":
        cell = results.cell("scores", labels="uncorrupted", seed_half=0)
        labels, unmuted, muted = (cell[k][0] for k in ("labels", "unmuted_prediction", "muted_prediction"))
    else:
        cell = results.cell("cifar")
        labels, unmuted, muted = (cell[k] for k in ("labels", "unmuted_prediction", "muted_prediction"))
    name = "highest_per_class" if highest else "lowest_per_class"
    index, images = cell[name], cell[f"{name}_images"]
    per_class = index.shape[1]
    fig, axes = figure(ncols=per_class, nrows=10, width=0.95, height=1.05)
    for (digit, column), ax in zip(np.ndindex(index.shape), axes):
        i = index[digit, column]
        ax.imshow(images[digit, column], cmap="gray_r")
        ax.set_title(f"{labels[i]}/{unmuted[i]}/{muted[i]}", fontsize=8, pad=2)
        ax.axis("off")
    fig.suptitle(_extremes_title(highest))
    return fig


def _extremes_title(highest):
    return f"{'highest' if highest else 'lowest'} memorization scores per class (label/unmuted/muted prediction)"


def figure_9(results):
    """Training accuracy per epoch of every example's unmuted sub-network (which it trains) and muted one
    (which it never trains), uncorrupted (left) and corrupted (right); lines are seeds."""
    from ..experiments.turn_over_dropout import per_seed

    fig, axes = figure(ncols=2, width=3.6, height=3.0)
    for ax, cell in zip(axes, ("uncorrupted", "corrupted")):
        for name, color in (("unmuted", "C0"), ("muted", "C3")):
            curves = per_seed(results, "scores", f"{name}_accuracy", finite=True, labels=cell)
            for k, curve in enumerate(curves):
                ax.plot(np.arange(1, len(curve) + 1), curve, color=color, lw=1, label=name if k == 0 else None)
        epoch_axis(ax)
        ax.set_ylabel("training accuracy")
        ax.set_title(cell)
    legend_outside(axes[1])
    fig.suptitle(_label(results, "scores"))
    return fig


def figure_validation(results, seed=0):
    """Turn-over scores against exact leave-one-out scores (left) and Feldman & Zhang's subsampling estimates
    (right) on the validation problem, one seed; random-label examples in red. The correlation is over the examples
    whose reference is defined (:func:`memo_utils.experiments.turn_over_dropout.defined_spearman`)."""
    from ..experiments.turn_over_dropout import defined_spearman

    fig, axes = figure(ncols=2, width=3.6, height=3.2)
    estimates = results.sel("validation", "turn_over", seed=seed)
    corrupted = results.sel("validation", "corrupted", seed=seed)
    for ax, name, title in ((axes[0], "loo", "exact leave-one-out"), (axes[1], "subsampling", "subsampling")):
        reference = results.sel("validation", name, seed=seed)
        n = len(reference)
        ax.scatter(reference, estimates[:n], s=8, c=np.where(corrupted[:n], "C3", "C0"))
        ax.set_xlabel(f"{title} score (nats)")
        ax.set_ylabel("turn-over score (nats)")
        rho, left_out = defined_spearman(estimates[:n], reference)
        ax.set_title(f"Spearman {rho:.2f}, {n - left_out} examples")
    fig.suptitle(f"{_label(results, 'validation')}, seed {seed}; red: random labels")
    return fig


def figure_score_band(results, band=9):
    """Uncorrupted training images (first seed) whose memorization score falls in decile ``band`` (0: lowest),
    titled label: score."""
    cell = results.cell("scores", labels="uncorrupted", seed_half=0)
    index, images = cell["decile_examples"][band], cell["decile_examples_images"][band]
    scores, labels = cell["scores"][0], cell["labels"][0]
    fig, axes = figure(ncols=8, nrows=-(-len(index) // 8), width=0.85, height=1.0)
    for ax in axes:
        ax.axis("off")
    for ax, i, image in zip(axes, index, images):
        ax.imshow(image, cmap="gray_r")
        ax.set_title(f"{labels[i]}: {scores[i]:.2f}", fontsize=8, pad=2)
    fig.suptitle(f"scores in decile {band + 1} of 10 (label: score)")
    return fig


SUBSET_STYLE = {"easy": ("C0", "easy"), "difficult": ("C3", "difficult"), "all": ("k", "all")}


def _subset_parts(results):
    """The parts of Figures 5 and 6 that were run (CIFAR-10 is left out at the cpu profile)."""
    present = {part for part, _, _ in results.entries}
    return [part for part in ("subsets", "cifar") if part in present]


def _subset_rows(results, columns, width=3.6, height=3.0):
    parts = _subset_parts(results)
    fig, axes = figure(ncols=columns, nrows=len(parts), width=width, height=height)
    return fig, parts, axes.reshape(len(parts), columns)


def figure_5(results):
    """Figure 5: training accuracy (left) and test accuracy (right) of the easy, difficult and whole subsets, per
    epoch, for each dataset run; dotted: the difficult subsets in the control run, trained without the difficult
    training subset. Lines are means over seeds, bands their range."""
    from ..experiments.turn_over_dropout import DATASET_NAMES, subset_accuracy

    fig, parts, axes = _subset_rows(results, 2)
    for part, (train_ax, test_ax) in zip(parts, axes):
        for subset, (color, label) in SUBSET_STYLE.items():
            _mean_and_range(train_ax, subset_accuracy(results, part, "full", subset), color, label)
            test = "test" if subset == "all" else f"{subset}_test"
            _mean_and_range(test_ax, subset_accuracy(results, part, "full", test), color, label)
        for ax, subset in ((train_ax, "difficult"), (test_ax, "difficult_test")):
            control = np.nanmean(subset_accuracy(results, part, "control", subset), 0)
            ax.plot(np.arange(1, len(control) + 1), control, color="C3", ls=":", label="difficult, control run")
        for ax, split in ((train_ax, "training"), (test_ax, "test")):
            epoch_axis(ax)
            ax.set_ylabel(f"{split} accuracy")
            ax.set_title(f"{DATASET_NAMES[part]}: {split}")
    legend_outside(axes[-1, 0], where="below")
    fig.suptitle(f"subsets by memorization score; {_subset_data(results, parts)}")
    return fig


def figure_6(results):
    """Figure 6: accuracy on the easy and the difficult training subset of a network trained on the easy subset
    only (left) and on the difficult subset only (right), per epoch; means over seeds, bands their range."""
    from ..experiments.turn_over_dropout import DATASET_NAMES, subset_accuracy

    fig, parts, axes = _subset_rows(results, 2)
    for part, row in zip(parts, axes):
        for ax, run, title in zip(
            row, ("easy_only", "difficult_only"), ("trained on easy only", "trained on difficult only")
        ):
            for subset in ("easy", "difficult"):
                color, label = SUBSET_STYLE[subset]
                _mean_and_range(ax, subset_accuracy(results, part, run, subset), color, label)
            epoch_axis(ax)
            ax.set_ylabel("accuracy")
            ax.set_title(f"{DATASET_NAMES[part].split(',')[0]}: {title}")
    legend_outside(axes[-1, 1], where="below")
    fig.suptitle(_subset_data(results, parts))
    return fig


def _subset_data(results, parts):
    return ", ".join(sorted({label for part in parts for label in results.data_labels()[part]}))


def figure_10(results):
    """Figure 10: training accuracy on the (partly random) labels and test accuracy of VGG-11 per epoch, one
    colour per share of random labels; means over seeds, bands their range."""
    fractions = sorted(cell["fraction"] for part, cell, _ in results.entries if part == "corruption")
    if not fractions:
        return placeholder(
            (
                "VGG-11's training accuracy on CIFAR-10, one curve per share of random labels",
                "the same networks' test accuracy",
            ),
            _CIFAR_OFF_HINT,
            ncols=2,
            width=3.6,
            height=3.0,
            xlabel="epoch",
            ylabel=("training accuracy", "test accuracy"),
            suptitle="VGG-11, CIFAR-10",
        )
    fig, axes = figure(ncols=2, width=3.6, height=3.0)
    for i, fraction in enumerate(fractions):
        for ax, name in zip(axes, ("train_accuracy", "test_accuracy")):
            _mean_and_range(ax, results.sel_finite("corruption", name, fraction=fraction), f"C{i}", f"{fraction:.0%}")
    for ax, split in zip(axes, ("training", "test")):
        epoch_axis(ax)
        ax.set_ylabel(f"{split} accuracy")
    legend_outside(axes[1], title="random labels")
    fig.suptitle(f"VGG-11, {', '.join(results.data_labels()['corruption'])}")
    return fig
