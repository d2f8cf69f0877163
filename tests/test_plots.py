"""Every figure of every chapter, drawn from a smoke run and from the committed cpu results (what a
reader of the book sees), in the book's style: no two pieces of text (tick labels, axis labels,
titles, legends, colour-bar labels) overlap, no text leaves the figure, no legend covers data,
epoch axes tick at whole epochs, and the constrained layout succeeds without a warning."""

import importlib
import inspect
import itertools
import os
import re
import warnings
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from memo_utils import experiments
from memo_utils.figures import plots  # noqa: E402


def figure_functions(name):
    """Every public function of ``memo_utils.figures.<name>`` whose first parameter is ``results``."""
    module = importlib.import_module(f"memo_utils.figures.{name}")
    found = []
    for attr, function in inspect.getmembers(module, inspect.isfunction):
        if attr.startswith("_") or function.__module__ != module.__name__:
            continue
        parameters = list(inspect.signature(function).parameters)
        if parameters and parameters[0] == "results":
            found.append((attr, function, "cfg" in parameters[1:2]))
    return found


@pytest.fixture(scope="module")
def smoke_runs(tmp_path_factory):
    """Each chapter run once at the smoke profile, into a results folder of its own."""
    previous = os.environ.get("MEMO_RESULTS_DIR")
    os.environ["MEMO_RESULTS_DIR"] = str(tmp_path_factory.mktemp("results"))
    try:
        runs = {}
        for name in experiments.CHAPTERS:
            chapter = experiments.get(name)
            cfg = chapter.config("smoke")
            runs[name] = (chapter.run(cfg, device="cpu"), cfg)
        yield runs
    finally:
        if previous is None:
            del os.environ["MEMO_RESULTS_DIR"]
        else:
            os.environ["MEMO_RESULTS_DIR"] = previous


COMMITTED_RESULTS = Path(__file__).resolve().parents[1] / "results"


@pytest.fixture(scope="module")
def cpu_runs(tmp_path_factory):
    """Each chapter's committed cpu results, as the book shows them: read from the repository's results/ as a
    read-only base (``MEMO_RESULTS_BASE``), anything written going to a temporary folder. A chapter with a cell
    missing from the committed cache maps to the missing cells' ids instead (its tests skip: computing them
    would take minutes)."""
    saved = {name: os.environ.get(name) for name in ("MEMO_RESULTS_DIR", "MEMO_RESULTS_BASE")}
    os.environ["MEMO_RESULTS_DIR"] = str(tmp_path_factory.mktemp("results"))
    os.environ["MEMO_RESULTS_BASE"] = str(COMMITTED_RESULTS)
    try:
        runs = {}
        for name in experiments.CHAPTERS:
            chapter = experiments.get(name)
            cfg = chapter.config("cpu")
            missing = chapter.missing(cfg)
            runs[name] = missing if missing else (chapter.run(cfg, device="cpu"), cfg)
        yield runs
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def text_artists(fig):
    """(description, Text) of every visible, non-empty piece of text the figure draws."""
    found = []
    for i, ax in enumerate(fig.axes):
        if not ax.get_visible():
            continue
        where = f"axes {i}"
        found += [
            (f"{where} {k}", t)
            for k, t in {"title": ax.title, "left title": ax._left_title, "right title": ax._right_title}.items()
        ]
        for axis_name, axis in (("x", ax.xaxis), ("y", ax.yaxis)):
            if not (ax.axison and axis.get_visible()):  # ax.axis("off") hides ticks and labels
                continue
            found += [(f"{where} {axis_name} label", axis.label), (f"{where} {axis_name} offset", axis.offsetText)]
            for tick in axis._update_ticks():  # the ticks drawn: inside the view interval
                found += [(f"{where} {axis_name} tick", t) for t in (tick.label1, tick.label2)]
        found += [(f"{where} text", t) for t in ax.texts]
        legend = ax.get_legend()
        if legend is not None:
            found += [(f"{where} legend", t) for t in legend.get_texts() + [legend.get_title()]]
    for legend in fig.legends:
        found += [("figure legend", t) for t in legend.get_texts() + [legend.get_title()]]
    if fig._suptitle is not None:
        found.append(("suptitle", fig._suptitle))
    found += [("figure text", t) for t in fig.texts]  # holds the suptitle too: each artist is kept once
    seen, unique = set(), []
    for d, t in found:
        if id(t) not in seen and t.get_visible() and t.get_text().strip():
            seen.add(id(t))
            unique.append((d, t))
    return unique


def overlaps(fig, tolerance=0.5):
    """Pairs of text artists whose drawn boxes intersect by more than ``tolerance`` pixels."""
    renderer = fig.canvas.get_renderer()
    boxes = [(f"{d} {t.get_text()!r}", t.get_window_extent(renderer)) for d, t in text_artists(fig)]
    found = []
    for (a, box_a), (b, box_b) in itertools.combinations(boxes, 2):
        dx = min(box_a.x1, box_b.x1) - max(box_a.x0, box_b.x0)
        dy = min(box_a.y1, box_b.y1) - max(box_a.y0, box_b.y0)
        if dx > tolerance and dy > tolerance:
            found.append((a, b))
    return found


def outside(fig, tolerance=1.0):
    renderer = fig.canvas.get_renderer()
    box = fig.bbox
    return [
        f"{d} {t.get_text()!r}"
        for d, t in text_artists(fig)
        if (e := t.get_window_extent(renderer)).x0 < box.x0 - tolerance
        or e.x1 > box.x1 + tolerance
        or e.y0 < box.y0 - tolerance
        or e.y1 > box.y1 + tolerance
    ]


def legends_over_data(fig):
    """Legends drawn over data: a line (sampled along its segments), an image or a filled band under them."""
    renderer = fig.canvas.get_renderer()
    found = []
    for i, ax in enumerate(fig.axes):
        legend = ax.get_legend()
        if legend is None or not legend.get_visible():
            continue
        box = legend.get_window_extent(renderer)
        clip = ax.get_window_extent(renderer)
        points = []
        for line in ax.lines:
            xy = line.get_transform().transform(line.get_xydata())
            t = np.linspace(0, 1, 25)[:, None, None]
            points.append((xy[:-1] * (1 - t) + xy[1:] * t).reshape(-1, 2) if len(xy) > 1 else xy)
        for collection in ax.collections:
            for path in collection.get_paths():
                points.append(collection.get_transform().transform(path.vertices))
        under = [
            p
            for p in points
            if len(p)
            and np.any(
                (p[:, 0] > box.x0)
                & (p[:, 0] < box.x1)
                & (p[:, 1] > box.y0)
                & (p[:, 1] < box.y1)
                & (p[:, 0] >= clip.x0)
                & (p[:, 0] <= clip.x1)
                & (p[:, 1] >= clip.y0)
                & (p[:, 1] <= clip.y1)
            )
        ]
        images = [im for im in ax.images if im.get_window_extent(renderer).overlaps(box)]
        if under or images:
            found.append(f"axes {i} legend {[t.get_text() for t in legend.get_texts()]}")
    return found


COUNT_LABEL = re.compile(r"\bepochs?\b|\biterations\b")


def fractional_count_ticks(fig):
    """Labelled ticks at fractional values on an x axis that counts (epochs, iterations): there is no epoch 2.5."""
    found = []
    for i, ax in enumerate(fig.axes):
        axis = ax.xaxis
        label = axis.label.get_text().replace("\n", " ")
        if not (ax.axison and axis.get_visible() and COUNT_LABEL.search(label)) or axis.get_scale() != "linear":
            continue
        found += [
            f"axes {i} {label!r} tick {tick.get_loc():g}"
            for tick in axis._update_ticks()
            if tick.label1.get_text() and not float(tick.get_loc()).is_integer()
        ]
    return found


def draw_checked(draw):
    """Call ``draw()`` (which returns a figure), draw it; return it with matplotlib's warnings."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fig = draw()
        fig.canvas.draw()
    return fig, [str(w.message) for w in caught if "matplotlib" in w.filename or "layout" in str(w.message)]


CASES = [(name, attr) for name in experiments.CHAPTERS for attr, _, _ in figure_functions(name)]
# Calls the pages make besides the defaults: the placeholders (CIFAR-10 left out at cpu) and other settings.
VARIANTS = [
    ("turn_over_dropout", "figure_extremes", {"dataset": "cifar10"}),
    ("turn_over_dropout", "figure_extremes", {"highest": True, "dataset": "cifar10"}),
    ("critical_sample_ratio", "figure_noise", {"dataset": "cifar"}),
    ("dissection", "figure_optimized_images", {"setting": "X_R"}),
    ("regularization", "figure_regularizer", {"regularizer": "weight_decay"}),
]
CALLS = [(c, f, {}) for c, f in CASES] + VARIANTS
CALL_IDS = [f"{c}.{f}" + "".join(f"-{v}" for v in kwargs.values()) for c, f, kwargs in CALLS]


def test_every_chapter_has_figure_functions():
    for name in experiments.CHAPTERS:
        assert figure_functions(name), name


def check_figure(results, cfg, chapter, function, kwargs):
    """Draw ``chapter.function`` from ``results`` (and ``cfg`` where it takes it) and apply every check."""
    ((_, draw_function, wants_cfg),) = [f for f in figure_functions(chapter) if f[0] == function]
    fig, caught = draw_checked(
        lambda: draw_function(results, cfg, **kwargs) if wants_cfg else draw_function(results, **kwargs)
    )
    try:
        assert caught == [], caught
        assert fig.get_layout_engine() is not None, "made without plots.figure(...)"
        assert fig.get_figwidth() <= plots.MAX_WIDTH + 1e-9
        assert overlaps(fig) == []
        assert outside(fig) == []
        assert legends_over_data(fig) == [], "plots.legend_outside(ax) puts a legend beside the data"
        assert fractional_count_ticks(fig) == [], "plots.epoch_axis(ax) ticks at whole epochs"
    finally:
        plt.close(fig)


@pytest.mark.slow  # runs every chapter at smoke first
@pytest.mark.parametrize("chapter,function,kwargs", CALLS, ids=CALL_IDS)
def test_figure_keeps_its_text_apart_and_its_legend_off_the_data(smoke_runs, chapter, function, kwargs):
    results, cfg = smoke_runs[chapter]
    check_figure(results, cfg, chapter, function, kwargs)


@pytest.mark.slow  # reads every chapter's committed cpu results
@pytest.mark.parametrize("chapter,function,kwargs", CALLS, ids=CALL_IDS)
def test_figure_drawn_from_the_committed_cpu_results_passes_the_same_checks(cpu_runs, chapter, function, kwargs):
    run = cpu_runs[chapter]
    if isinstance(run, list):
        pytest.skip(f"{chapter}: {len(run)} cpu cells missing from results/ ({', '.join(run[:3])}...); run the chapter")
    results, cfg = run
    check_figure(results, cfg, chapter, function, kwargs)


def _helpers_figure():
    fig, axes = plots.figure(ncols=2, width=4, height=3.6)
    image = axes[0].imshow(np.random.default_rng(0).random((10, 10)))
    axes[0].set_xticks(range(10))
    axes[0].set_yticks(range(10))
    plots.colorbar(image, axes[0], "mean loss-sensitivity of the class, over seeds")
    axes[0].set_title("a title longer than its panel is wide, which the layout wraps")
    for k in range(5):
        axes[1].plot(np.arange(10), np.arange(10) * k, label=f"curve number {k}")
    axes[1].set_xlabel("steps")
    axes[1].set_ylabel("value")
    plots.legend_outside(axes[1], where="below")
    return fig


def test_the_shared_helpers_keep_text_apart_and_inside_the_figure():
    fig, caught = draw_checked(_helpers_figure)
    try:
        assert caught == []
        assert overlaps(fig) == []
        assert outside(fig) == []
        assert legends_over_data(fig) == []
        assert "\n" in fig.axes[0].get_title()  # wrapped
        assert fig.axes[0].get_title().replace("\n", " ").startswith("a title longer")
        fig.canvas.draw()  # a second draw wraps the text the figure function set, not the wrapped one
        assert fig.axes[0].title._memo_unwrapped.count("\n") == 0
    finally:
        plt.close(fig)


def test_legend_outside_on_the_right_does_not_cover_the_data():
    fig, (ax,) = plots.figure()
    ax.plot([0, 1], [0, 1], label="a")
    legend = plots.legend_outside(ax)
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    assert legend.get_window_extent(renderer).x0 >= ax.get_window_extent(renderer).x1
    plt.close(fig)


def test_a_wide_grid_is_scaled_to_the_text_column():
    fig, axes = plots.figure(ncols=3, width=3.6, height=3.8)
    assert len(axes) == 3
    assert fig.get_figwidth() == pytest.approx(plots.MAX_WIDTH)
    assert fig.get_figheight() == pytest.approx(3.8 * plots.MAX_WIDTH / (3 * 3.6))
    plt.close(fig)


def test_ticks_at_labels_every_value_compactly_and_drops_labels_that_would_touch():
    fig, axes = plots.figure(ncols=2, width=3.5, height=3.0)
    crowded = [100, 200, 300, 400, 500, 1000, 1500, 2000, 3000]
    for ax, steps in zip(axes, ([500, 2000, 10000], crowded)):
        ax.plot(steps, np.arange(len(steps)))
        ax.set_xscale("log")
        plots.ticks_at(ax, steps)
    fig.canvas.draw()
    try:
        assert [t.get_text() for t in axes[0].get_xticklabels()] == ["500", "2k", "10k"]
        shown = [t.get_text() for t in axes[1].get_xticklabels()]
        assert shown[-1] == "3k" and "" in shown  # the last kept, some dropped
        assert overlaps(fig) == []
    finally:
        plt.close(fig)


def test_epoch_axis_ticks_whole_epochs_on_a_short_run():
    fig, (ax,) = plots.figure()
    ax.plot([1, 2, 3], [0.1, 0.5, 0.9])
    plots.epoch_axis(ax)
    fig.canvas.draw()
    try:
        assert fractional_count_ticks(fig) == []
        assert ax.get_xlabel() == "epoch"
    finally:
        plt.close(fig)


@pytest.mark.parametrize("per_panel", [False, True])
def test_a_placeholder_keeps_the_figures_layout_and_says_why_it_is_empty(per_panel):
    what = ("training accuracy", "test accuracy") if per_panel else "CIFAR-10 scores"
    fig, caught = draw_checked(
        lambda: plots.placeholder(
            what, "not computed at this profile (cifar=False)", ncols=2, width=3.6, height=3.0, xlabel="epoch"
        )
    )
    try:
        assert caught == [] and overlaps(fig) == [] and outside(fig) == []
        panels = [ax for ax in fig.axes if ax.axison]
        assert len(panels) == 2 and all(ax.get_xlabel() == "epoch" and not ax.lines for ax in panels)
        notes = [t.get_text() for ax in fig.axes for t in ax.texts]
        assert len(notes) == (2 if per_panel else 1)
        assert all("cifar=False" in n.replace("\n", " ") for n in notes)
    finally:
        plt.close(fig)


def test_epoch_axis_of_a_single_epoch_has_one_tick():
    fig, (ax,) = plots.figure()
    ax.plot([1], [0.5], marker="o")
    plots.epoch_axis(ax)
    fig.canvas.draw()
    try:
        assert fractional_count_ticks(fig) == []
        assert "1" in [t.label1.get_text() for t in ax.xaxis._update_ticks()]
    finally:
        plt.close(fig)
