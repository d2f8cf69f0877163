"""Widgets that work without a kernel: in the static book as in JupyterLab.

:func:`figure_choice` draws a figure once per option while the chapter executes and shows the
chosen one. The control (a dropdown, or a slider for ordered numbers) is linked to the shown
image in the browser (``jslink``), so the static HTML page, where no Python runs, responds as
the notebook does. The images and the link are part of the notebook's widget state, which
papermill saves and the book embeds.
"""

from __future__ import annotations

import io
import numbers

import ipywidgets as widgets
import matplotlib.pyplot as plt


def figure_choice(render, options, description, value=None):
    """A control over ``options`` that shows the figure ``render(option)`` drew for the chosen one.

    ``render(option)`` draws one matplotlib figure and returns it (or leaves it current). Every
    option is rendered now, saved as a PNG image and its figure closed, so nothing else is
    shown. ``options`` are values, or ``(label, value)`` pairs as for ipywidgets; numbers in
    increasing order get a slider, anything else a dropdown. ``value`` is the option shown first
    (default: the first). Returns the widget: a ``VBox`` of the control and a ``Stack`` of the
    images, with the browser-side link between them as its ``link``.
    """
    labels, values = _labels_and_values(options)
    if not values:
        raise ValueError("figure_choice needs at least one option")
    index = 0 if value is None else _index(values, value)
    images = [
        widgets.Image(value=_png(render, v), format="png", layout=widgets.Layout(max_width="100%", height="auto"))
        for v in values
    ]
    stack = widgets.Stack(images, selected_index=index)
    pairs = list(zip(labels, values))
    style = {"description_width": "initial"}
    if _ordered_numbers(values):
        control = widgets.SelectionSlider(
            options=pairs,
            index=index,
            description=description,
            style=style,
            continuous_update=True,
            layout=widgets.Layout(width="32em", max_width="100%"),
        )
    else:
        control = widgets.Dropdown(
            options=pairs,
            index=index,
            description=description,
            style=style,
            layout=widgets.Layout(width=_dropdown_width(description, labels), max_width="100%"),
        )
    box = widgets.VBox([control, stack])
    box.add_class("memo-figure-choice")
    box.link = widgets.jslink((control, "index"), (stack, "selected_index"))
    return box


def _dropdown_width(description, labels):
    """A width (CSS ``em``) that shows ``description`` and the longest of ``labels`` in full.

    ipywidgets gives a dropdown a fixed 300 px, description included, and cuts a longer option
    ("true labels, weigh..."); this is the text's length at a generous half an em a character, plus
    room for the arrow and the padding.
    """
    chars = len(description) + max(len(label) for label in labels)
    return f"{max(22.0, 0.5 * chars + 4):.1f}em"


def _labels_and_values(options):
    labels, values = [], []
    for option in options:
        if isinstance(option, tuple) and len(option) == 2 and isinstance(option[0], str):
            label, v = option
        else:
            label, v = _label(option), option
        labels.append(label)
        values.append(v)
    return labels, values


def _label(value):
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        return f"{value:g}"
    return str(value)


def _index(values, value):
    for i, v in enumerate(values):
        if v == value:
            return i
    raise ValueError(f"value={value!r} is not one of the options {values}")


def _ordered_numbers(values):
    numeric = all(isinstance(v, numbers.Real) and not isinstance(v, bool) for v in values)
    return numeric and len(values) > 1 and all(a < b for a, b in zip(values, values[1:]))


def _png(render, value):
    """``render(value)``'s figure as PNG bytes; every figure it opened is closed."""
    before = set(plt.get_fignums())
    try:
        fig = render(value)
        if fig is None:
            fig = plt.gcf()
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", bbox_inches="tight")
        return buffer.getvalue()
    finally:
        for number in set(plt.get_fignums()) - before:
            plt.close(number)
