"""The book's pages as notebooks: a jupytext round trip (page -> notebook -> page) gives every page back byte
for byte under the pinned settings of jupytext.toml, so opening a chapter as a notebook and saving it changes
nothing but what the reader edited."""

from pathlib import Path

import jupytext
import nbformat
import pytest
from jupytext.config import load_jupytext_config

ROOT = Path(__file__).resolve().parents[1]
PAGES = sorted(p for p in (ROOT / "book").glob("*.md") if p.read_text().startswith("---\njupytext:"))


def test_every_notebook_page_is_found():
    assert {"intro", "dissection", "turn_over_dropout"} <= {p.stem for p in PAGES}


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.stem)
def test_a_jupytext_round_trip_gives_the_page_back_byte_for_byte(page):
    config = load_jupytext_config(str(page))
    assert config is not None, "jupytext.toml is not found from the book's folder"
    text = page.read_text()
    notebook = nbformat.reads(nbformat.writes(jupytext.reads(text, fmt="md:myst")), as_version=4)
    assert jupytext.writes(notebook, fmt="md:myst", config=config) == text
