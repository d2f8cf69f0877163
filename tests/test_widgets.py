"""figure_choice: every option pre-rendered as an image, the control linked to the image in the
browser (no kernel needed), every figure closed. The browser test (test_book.py) operates the
chapters' widgets in the built pages."""

import matplotlib

matplotlib.use("Agg")
import ipywidgets  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from memo_utils.figures import plots, widgets  # noqa: E402


def _render(value):
    fig, (ax,) = plots.figure()
    ax.plot([0, 1], [0, float(len(str(value)) if isinstance(value, str) else value)])
    ax.set_title(f"option {value}")
    return fig


def _linked(box):
    control, stack = box.children
    return (
        isinstance(box.link, ipywidgets.widgets.widget_link.Link)
        and box.link.source == (control, "index")
        and box.link.target == (stack, "selected_index")
    )


def test_ordered_numbers_get_a_slider_linked_to_a_stack_of_images():
    before = plt.get_fignums()
    box = widgets.figure_choice(_render, [0.25, 0.5, 1.0], "fraction", value=1.0)
    control, stack = box.children
    assert isinstance(control, ipywidgets.SelectionSlider) and isinstance(stack, ipywidgets.Stack)
    assert control.index == stack.selected_index == 2
    assert [label for label, _ in control.options] == ["0.25", "0.5", "1"]
    images = stack.children
    assert all(isinstance(i, ipywidgets.Image) and bytes(i.value).startswith(b"\x89PNG") for i in images)
    assert len({bytes(i.value) for i in images}) == 3  # one picture per option
    assert _linked(box)  # jslink: the browser switches the picture
    assert plt.get_fignums() == before  # nothing left to be shown twice


def test_other_options_get_a_dropdown_and_labels_may_be_given():
    box = widgets.figure_choice(_render, [("real labels", "real"), ("random labels", "random")], "labels")
    control, stack = box.children
    assert isinstance(control, ipywidgets.Dropdown)
    assert control.value == "real" and stack.selected_index == 0
    assert _linked(box)
    unordered = widgets.figure_choice(_render, [3, 1, 2], "n").children[0]
    assert isinstance(unordered, ipywidgets.Dropdown)


def test_a_render_that_leaves_its_figure_current_and_one_that_fails():
    def draw(value):
        plt.figure()
        plt.plot([0, value])

    before = plt.get_fignums()
    assert len(widgets.figure_choice(draw, [1, 2], "k").children[1].children) == 2
    assert plt.get_fignums() == before

    def fail(value):
        plots.figure()
        raise RuntimeError("no results")

    with pytest.raises(RuntimeError):
        widgets.figure_choice(fail, [1], "k")
    assert plt.get_fignums() == before


def test_a_value_not_among_the_options_is_refused():
    with pytest.raises(ValueError, match="not one of the options"):
        widgets.figure_choice(_render, [1, 2], "k", value=3)
