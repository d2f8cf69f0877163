"""Plotting shared by the chapters; each chapter's own figures live in ``memo_utils.figures.<chapter>``.

matplotlib is imported here and in ``figures`` only, never by the compute modules.

Every figure of the book is made by :func:`figure`, so it has the book's look:

- importing this module sets :data:`STYLE` (font sizes, white background, no top and right
  spines);
- a figure is at most :data:`MAX_WIDTH` inches wide, the width of the book's text column at
  100 dpi, so that its text is shown at about the size of the page's text, never shrunk;
- its layout is constrained (labels, titles, colour bars and outside legends get room), and a
  title or axis label longer than its panel is wrapped onto several lines at draw time;
- :func:`colorbar` and :func:`legend_outside` place colour bars (with a label) and legends
  outside the data;
- :func:`epoch_axis` (any count: :func:`integer_axis`) ticks an axis at whole numbers only, and
  :func:`ticks_at` labels chosen values compactly ("2k") without letting the labels touch;
- :func:`placeholder` draws a figure that a run's settings left out as its empty axes, with a
  note saying what would be there and which settings compute it.
"""

from __future__ import annotations

import textwrap

import matplotlib
import matplotlib.pyplot as plt
from matplotlib.font_manager import FontProperties
from matplotlib.layout_engine import ConstrainedLayoutEngine
from matplotlib.ticker import FixedLocator, Formatter, MaxNLocator
from matplotlib.transforms import ScaledTranslation

COLORS = {
    "real": "C0",
    "randX": "C1",
    "randY": "C2",
    "binomial": "0.4",
    "50% real": "C4",
    "random": "C2",
    "real inputs": "C0",
    "random inputs": "C1",
}

MAX_WIDTH = 7.0  # inches: the book's text column is about 700 px wide, and figures are drawn at 100 dpi
STYLE = {
    "figure.dpi": 100,
    "savefig.dpi": "figure",
    "figure.facecolor": "white",  # readable in the book's dark mode too
    "savefig.facecolor": "white",
    "font.size": 10,
    "axes.titlesize": 10.5,
    "axes.labelsize": 10,
    "xtick.labelsize": 9,
    "ytick.labelsize": 9,
    "legend.fontsize": 9,
    "legend.title_fontsize": 9,
    "legend.framealpha": 0.9,  # a legend inside the axes hides what is under it; legend_outside avoids that
    "legend.edgecolor": "0.85",
    "axes.spines.top": False,
    "axes.spines.right": False,
    "image.cmap": "viridis",
}
matplotlib.rcParams.update(STYLE)


class _Layout(ConstrainedLayoutEngine):
    """Constrained layout that wraps titles and axis labels longer than their panel.

    Texts are wrapped to their panel's share of the figure, laid out, then wrapped again to the
    sizes the layout gave (a colour bar's label to the bar's height) and laid out once more.
    """

    def execute(self, fig):
        _wrap_long_texts(fig, laid_out=False)
        super().execute(fig)
        _wrap_long_texts(fig, laid_out=True)
        return super().execute(fig)


def figure(ncols=1, width=5.0, height=3.6, nrows=1):
    """A figure of ``nrows`` x ``ncols`` axes, ``width`` x ``height`` inches each, in the book's style.

    Returns ``(fig, axes)``, ``axes`` a flat array (one row: ``fig, (ax,) = figure()``). A grid
    wider than :data:`MAX_WIDTH` is scaled down as a whole (its aspect ratio kept), so that
    fonts keep their size on the page.
    """
    total_width, total_height = width * ncols, height * nrows
    scale = min(1.0, MAX_WIDTH / total_width)
    fig, axes = plt.subplots(
        nrows,
        ncols,
        figsize=(total_width * scale, total_height * scale),
        squeeze=False,
        layout=_Layout(h_pad=0.04, w_pad=0.04),
    )
    return fig, axes.ravel()


def colorbar(image, ax, label):
    """A colour bar for ``image`` (from ``imshow``, ``pcolormesh``, ``scatter``) beside ``ax``, with ``label``.

    The layout makes room for it and for its label; returns the ``Colorbar``.
    """
    bar = ax.figure.colorbar(image, ax=ax, fraction=0.05, pad=0.03)
    bar.set_label(label)
    return bar


def legend_outside(ax, where="right", **kwargs):
    """The legend of ``ax`` outside its data: to the ``"right"`` of the axes, or ``"below"`` its x label.

    ``kwargs`` go to ``ax.legend`` (``title``, ``ncols``, ``handles``, ``labels``). Below, the
    entries are laid out in as many columns as fit (at most 4) unless ``ncols`` is given.
    Returns the ``Legend``; the layout makes room for it.
    """
    kwargs.setdefault("frameon", False)
    if where == "right":
        return ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0.0, **kwargs)
    if where != "below":
        raise ValueError(f"where={where!r}: choose 'right' or 'below'")
    # Anchored to the bottom of the axes and moved down by the height of the tick labels and the
    # x label, in points, so that it neither covers them nor depends on the figure's size.
    rc = matplotlib.rcParams
    drop = (
        rc["xtick.major.size"]
        + rc["xtick.major.pad"]
        + 1.3 * _points(rc["xtick.labelsize"])
        + (
            rc["axes.labelpad"] + 1.3 * _points(rc["axes.labelsize"]) * (ax.get_xlabel().count("\n") + 1)
            if ax.get_xlabel()
            else 0
        )
        + 4
    )
    offset = ScaledTranslation(0, -drop / 72, ax.figure.dpi_scale_trans)
    place = dict(loc="upper center", bbox_to_anchor=(0.5, 0.0), bbox_transform=ax.transAxes + offset, borderaxespad=0.0)
    if "ncols" in kwargs:
        return ax.legend(**place, **kwargs)
    # As many columns as fit in the axes' grid cell, at most 4.
    fig = ax.figure
    room = _cell_size(ax)[0]
    n = len(kwargs.get("labels", ax.get_legend_handles_labels()[1]))
    for ncols in range(max(1, min(4, n)), 0, -1):
        legend = ax.legend(**place, ncols=ncols, **kwargs)
        if ncols == 1 or legend.get_window_extent(fig._get_renderer()).width <= room:
            return legend


def integer_axis(ax, label, which="x"):
    """Label ``ax``'s ``which`` axis ``label`` and tick it at whole numbers only.

    For counts (epochs, iterations): the automatic locator puts ticks at 2.5 or 7.5 on a short
    run, and no run has an epoch 2.5.
    """
    axis = ax.xaxis if which == "x" else ax.yaxis
    # as dense as the default; one tick (not 0.95, 1, 1.05) where a run has a single epoch
    axis.set_major_locator(MaxNLocator(nbins="auto", steps=[1, 2, 5, 10], integer=True, min_n_ticks=1))
    axis.set_label_text(label)


def epoch_axis(ax, label="epoch", which="x"):
    """An epoch axis: labelled ``label``, ticked at whole epochs (:func:`integer_axis`)."""
    integer_axis(ax, label, which)


def compact_number(value):
    """``value`` in a few characters: 500, 2k, 1.5k, 10k, 2M (a tick label that fits beside its neighbours)."""
    for size, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= size:
            return f"{value / size:g}{suffix}"
    return f"{value:g}"


def ticks_at(ax, values, which="x"):
    """Major ticks of ``ax``'s ``which`` axis at exactly ``values`` (e.g. every T a run measured), no minor ones.

    Labels are compact (:func:`compact_number`), and at draw time a label that would come within
    a few points of another is left out (the last value's label is always kept): values that
    crowd on a log axis, such as 2,000 and 3,000, would otherwise run together ("2,0003,000").
    """
    axis = ax.xaxis if which == "x" else ax.yaxis
    axis.set_major_locator(FixedLocator(list(values)))
    axis.set_major_formatter(_SpacedCompactFormatter())
    axis.set_minor_locator(FixedLocator([]))


class _SpacedCompactFormatter(Formatter):
    """Compact labels for fixed ticks, thinned at draw time so that no two come closer than ``gap`` points."""

    gap = 6.0

    def __call__(self, x, pos=None):
        return compact_number(x)

    def format_ticks(self, values):
        labels = [compact_number(v) for v in values]
        axis = self.axis
        if axis is None or len(values) < 2:
            return labels
        ax, horizontal = axis.axes, axis.axis_name == "x"
        fig = ax.figure
        renderer = fig._get_renderer()
        font = FontProperties(size=matplotlib.rcParams[f"{axis.axis_name}tick.labelsize"])
        transform = ax.get_xaxis_transform() if horizontal else ax.get_yaxis_transform()
        centres = [transform.transform((v, 0) if horizontal else (0, v))[0 if horizontal else 1] for v in values]
        sizes = [renderer.get_text_width_height_descent(t, font, ismath=False)[0 if horizontal else 1] for t in labels]
        gap = self.gap * fig.dpi / 72

        def apart(i, j):
            return abs(centres[i] - centres[j]) >= (sizes[i] + sizes[j]) / 2 + gap

        low, high = sorted(axis.get_view_interval())
        shown = sorted((i for i, v in enumerate(values) if low <= v <= high), key=lambda i: centres[i])
        if not shown:
            return labels
        kept = [shown[-1]]  # the last value shown (the longest run) is always labelled
        for i in shown[:-1]:
            if all(apart(i, j) for j in kept):
                kept.append(i)
        return [label if i in kept or i not in shown else "" for i, label in enumerate(labels)]


def placeholder(
    what, profile_hint, ncols=1, nrows=1, width=5.0, height=3.6, xlabel="", ylabel="", title="", suptitle=None
):
    """A figure that these results cannot draw, drawn as its real layout: the same grid of axes, size and labels,
    each axes empty and light grey, and a centred note saying what would be drawn and which profile computes it.

    The page keeps its shape at every profile, and a reader sees which settings fill the figure in.
    ``what`` and ``profile_hint`` make the note (``"{what}: {profile_hint}"``). A single ``what`` is
    written once, centred over the whole grid (for grids of images, whose axes have no labels);
    a sequence gives each axes its own note, which keeps clear of the axis labels between panels.
    ``xlabel``, ``ylabel`` and ``title`` are one text for every axes or a sequence, one per axes.
    Returns the figure.
    """
    fig, axes = figure(ncols=ncols, nrows=nrows, width=width, height=height)
    scale = fig.get_figwidth() / (width * ncols)  # figure() shrinks a grid wider than MAX_WIDTH

    def each(value):
        return list(value) if isinstance(value, (list, tuple)) else [value] * len(axes)

    for ax, x, y, t in zip(axes, each(xlabel), each(ylabel), each(title)):
        ax.set_facecolor("0.95")
        ax.set_xticks([])
        ax.set_yticks([])
        for spine in ax.spines.values():  # a full light frame: an empty box, not a plot without data
            spine.set_visible(True)
            spine.set_color("0.8")
        ax.set_xlabel(x)
        ax.set_ylabel(y)
        ax.set_title(t)
    if isinstance(what, (list, tuple)):
        for ax, text in zip(axes, what):
            _note(ax, f"{text}: {profile_hint}", 0.85 * width * scale)
    else:
        grid = fig.add_subplot(axes[0].get_subplotspec().get_gridspec()[:, :])  # over the whole grid
        grid.axis("off")
        grid.set_zorder(max(ax.get_zorder() for ax in axes) + 1)
        _note(grid, f"{what}: {profile_hint}", min(0.8 * width * ncols * scale, 4.5))
    if suptitle:
        fig.suptitle(suptitle)
    return fig


def _note(ax, text, inches, size=9.5):
    """``text`` wrapped to about ``inches`` wide, in a white box at the centre of ``ax``."""
    chars = max(16, int(inches * 72 / (0.52 * size)))
    ax.text(
        0.5,
        0.5,
        "\n".join(textwrap.fill(line, chars) for line in text.split("\n")),
        transform=ax.transAxes,
        ha="center",
        va="center",
        fontsize=size,
        color="0.25",
        bbox=dict(boxstyle="round,pad=0.6", facecolor="white", edgecolor="0.75"),
    )


def _points(size):
    return FontProperties(size=size).get_size_in_points()


def _cell_size(ax):
    """Width and height in pixels of the share of the figure that the grid gives ``ax``."""
    fig = ax.figure
    spec = ax.get_subplotspec()
    if spec is None:
        return fig.bbox.width, fig.bbox.height
    rows, cols = spec.get_gridspec().get_geometry()
    return fig.bbox.width * len(spec.colspan) / cols, fig.bbox.height * len(spec.rowspan) / rows


def _wrap_long_texts(fig, laid_out):
    """Wrap each axes' titles and axis labels onto lines no longer than the room they have.

    Before the layout, that is the axes' share of the figure. After it, what the layout gave:
    a colour bar's label the bar's length; a y label the axes' height, so that it does not run
    into the suptitle or the x label; a title the width on which, centred on its axes, it stays
    inside the figure and, beside another panel, inside its own cell, so that neighbouring
    titles never meet (a lone panel's title may still use the room of its legend). The text a
    figure function set is kept, so that each draw wraps it afresh (a resized figure gets its
    labels re-wrapped, never wrapped twice).
    """
    renderer = fig._get_renderer()
    for ax in fig.axes:
        spec = ax.get_subplotspec()
        width, height = _cell_size(ax)
        if laid_out:
            box = ax.get_position()
            width, height = box.width * fig.bbox.width, box.height * fig.bbox.height
            if spec is None:  # a colour bar: its label runs along the long side, whichever way the bar runs
                width, height = max(width, height), max(width, height)
            else:
                _wrap(ax.yaxis.label, 1.1 * height, renderer)  # a little overhang is harmless
                # A centred title fits in the figure on both sides of its axes' centre (an image's axes may sit
                # off-centre), and beside another panel in the room the layout gave (not an image's aspect).
                centre = (box.x0 + box.width / 2) * fig.bbox.width
                room = 2 * min(centre, fig.bbox.width - centre) - 4
                if spec.get_gridspec().get_geometry()[1] > 1:
                    cell = ax.get_position(original=True).width * fig.bbox.width
                    room = min(room, cell)
                    _wrap(ax._left_title, cell, renderer)
                    _wrap(ax._right_title, cell, renderer)
                _wrap(ax.title, room, renderer)
                continue
        for text, limit in (
            (ax.title, width),
            (ax._left_title, width),
            (ax._right_title, width),
            (ax.xaxis.label, width),
            (ax.yaxis.label, height),
        ):
            _wrap(text, 0.95 * limit, renderer)
    if fig._suptitle is not None and not laid_out:
        _wrap(fig._suptitle, 0.95 * fig.bbox.width, renderer)


def _wrap(text, limit, renderer):
    current = text.get_text()
    if not current:
        return
    original = getattr(text, "_memo_unwrapped", None)
    if original is None or current != getattr(text, "_memo_wrapped", None):
        original = current  # set by the figure function (or changed since the last draw)
    text.set_text(original)
    extent = text.get_window_extent(renderer)
    size = extent.width if text.get_rotation() % 180 == 0 else extent.height
    if size > limit:
        longest = max(len(line) for line in original.split("\n"))
        chars = max(8, int(longest * limit / size))
        text.set_text("\n".join(textwrap.fill(line, chars) for line in original.split("\n")))
    text._memo_unwrapped, text._memo_wrapped = original, text.get_text()
