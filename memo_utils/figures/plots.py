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
  outside the data.
"""

from __future__ import annotations

import textwrap

import matplotlib
import matplotlib.pyplot as plt
from matplotlib.layout_engine import ConstrainedLayoutEngine
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


def _points(size):
    from matplotlib.font_manager import FontProperties

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

    Before the layout, that is the axes' share of the figure; after it, the axes' own size for
    a colour bar's label. The text a figure function set is kept, so that each draw wraps it
    afresh (a resized figure gets its labels re-wrapped, never wrapped twice).
    """
    renderer = fig._get_renderer()
    for ax in fig.axes:
        colorbar_axes = ax.get_subplotspec() is None
        if laid_out and not colorbar_axes:
            continue
        width, height = _cell_size(ax)
        if laid_out:
            box = ax.get_position()
            width, height = box.width * fig.bbox.width, box.height * fig.bbox.height
            width, height = max(width, height), max(width, height)  # the long side, whichever way the bar runs
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
