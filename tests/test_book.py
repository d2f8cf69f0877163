"""The whole book at the smoke profile: every chapter executes, the build has no warnings,
and every page opens offline in a real browser with its figures, tables, math and widgets."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import yaml
from browser import browser, chromium_path, inspect_page
from conftest import ROOT

from memo_utils.experiments import CHAPTERS

pytestmark = pytest.mark.slow  # builds the book

ARTIFACTS = ROOT / "test-artifacts" / "screenshots"


@pytest.fixture(scope="session")
def built_book(tmp_path_factory):
    out = tmp_path_factory.mktemp("book")
    results = tmp_path_factory.mktemp("results")
    env = dict(os.environ, MEMO_RESULTS_DIR=str(results), OMP_NUM_THREADS="1")
    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "scripts" / "build_book.py"),
            "--profile",
            "smoke",
            "--out",
            str(out),
            "--timeout",
            "300",
        ],
        env=env,
        cwd=ROOT,
        timeout=1800,
        capture_output=True,
        text=True,
    )
    (out / "build.log").write_text(done.stdout + done.stderr)
    assert done.returncode == 0, done.stdout + done.stderr
    return out / "html", results


def _pages():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    return [toc["root"]] + [c["file"] for part in toc["parts"] for c in part["chapters"]]


def test_every_chapter_saves_its_claims_at_the_smoke_profile(built_book):
    _, results = built_book
    for chapter in CHAPTERS:
        saved = json.loads((results / "claims" / chapter / "smoke.json").read_text())
        assert saved, chapter
        assert {c["verdict"] for c in saved} == {"not at this scale"}
        assert all(c["profile"] == "smoke" for c in saved)
    timings = json.loads((results / "timings" / "smoke.json").read_text())
    assert set(CHAPTERS) <= set(timings)


def test_the_build_prints_its_own_lines_only(built_book):
    """Which page runs and how long it took, then where the book is: no tool's chatter."""
    html, _ = built_book
    log = (html.parent / "build.log").read_text().strip().splitlines()
    assert log[-1] == f"book: {html / 'index.html'}", log
    assert all(line.startswith(("executing ", "  ", "rendering with jupyter-book")) for line in log[:-1]), log


def test_every_parameters_cell_is_one_papermill_can_read(caplog):
    """papermill reads each line of a parameters cell as `name = value  # help`; a line with a
    second "=" (`x = None  # lr=0.01`, `p <= 0.01`, `dict(k=1)`) is logged as "Unable to parse
    line" and its name as an unknown parameter. Comment-only lines may hold anything."""
    import jupytext
    from papermill.translators import PythonTranslator

    for page in _pages():
        source = ROOT / f"{page}.md"
        text = source.read_text()
        if not (text.startswith("---") and "kernelspec" in text.split("---", 2)[1]):  # not a notebook
            continue
        cells = [c for c in jupytext.read(source).cells if "parameters" in c.metadata.get("tags", [])]
        assert len(cells) == 1, page
        caplog.clear()
        found = {p.name for p in PythonTranslator.inspect(cells[0])}
        assert [r.getMessage() for r in caplog.records] == [], page
        assigned = {
            line.split("=")[0].strip()
            for line in cells[0].source.splitlines()
            if "=" in line and not line.lstrip().startswith("#")
        }
        assert assigned <= found, (page, assigned - found)


def test_the_aggregate_pages_say_what_the_results_hold(built_book):
    """At the smoke profile nothing ran on a GPU: the cost page says so, per chapter, and gives
    the measured compute time of every chapter; the introduction lists the chapters to come."""
    from memo_utils.experiments import PLANNED

    html, _ = built_book
    cost = (html / "book" / "cost.html").read_text()
    assert "GPU figures pending for" in cost
    assert all(f"<strong>{c}</strong>" in cost for c in CHAPTERS)
    assert all(f"<td><p>{c}</p></td>" in cost for c in CHAPTERS)  # measured compute time
    intro = (html / "book" / "intro.html").read_text()
    assert all(title in intro for title, _ in PLANNED.values())
    bibliography = (html / "book" / "bibliography.html").read_text()
    assert '<span class="fn-bracket">[</span>Arpit et al., 2017<span class="fn-bracket">]</span>' in bibliography
    assert "Jastrzębski" in bibliography


def test_the_book_lists_every_chapter_in_its_table_of_contents():
    pages = {Path(p).name for p in _pages()}
    assert set(CHAPTERS) <= pages and {"claims", "reproducibility"} <= pages


@pytest.mark.skipif(chromium_path() is None, reason="needs Debian's chromium (.ci/run installs it)")
def test_every_page_opens_offline_without_errors(built_book):
    html, _ = built_book
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    overflow, widgets = {}, {}
    with browser() as b:
        for page in _pages():
            name = Path(page).name
            report = inspect_page(b, (html / f"{page}.html").as_uri(), ARTIFACTS / f"{name}.png")
            assert report["errors"] == [], (page, report["errors"])
            assert report["web_requests"] == [], (page, report["web_requests"])
            assert all(img["width"] > 0 for img in report["images"]), (page, report["images"])
            assert report["math_rendered"] >= report["math_source"], (page, report)
            if name in CHAPTERS:
                assert report["images"], page
                assert report["tables"] >= 2, page  # the settings table and the claims table
                assert report["widget_outputs"] >= 1 and report["widgets_rendered"] >= 1, (page, report)
            if name == "claims":
                assert report["tables"] >= 2, report
            if name == "intro":  # generated from the registry: a link to every chapter
                assert all(any(link.endswith(f"{c}.html") for link in report["links"]) for c in CHAPTERS), report
            overflow[name] = report["overflow"]
            widgets[name] = report["widget_changes"]
    # Nothing in the main column is cut off or scrolled sideways (tables, code, outputs, widgets).
    assert {name: found for name, found in overflow.items() if found} == {}
    # Every figure-choice widget changes its picture in the static page, with no kernel, and every
    # chapter's "Try it" is one.
    assert all(w["changed"] for found in widgets.values() for w in found), widgets
    assert all(widgets[name] for name in CHAPTERS), {name: widgets[name] for name in CHAPTERS}


CUT_OFF_JS = """() => [...document.querySelectorAll('main table')].flatMap(table => {
  let box = table;  // the table, or the box that scrolls it sideways
  for (let el = table.parentElement; el && el.tagName !== 'MAIN'; el = el.parentElement)
    if (['auto', 'scroll'].includes(getComputedStyle(el).overflowX)) { box = el; break; }
  const right = box.getBoundingClientRect().right;
  return table.getBoundingClientRect().width > 0 && right > window.innerWidth + 1
    ? [`${table.innerText.slice(0, 40)} ends at ${Math.round(right)} px`] : [];
})"""


@pytest.mark.skipif(chromium_path() is None, reason="needs Debian's chromium (.ci/run installs it)")
def test_on_a_phone_the_navigation_opens_and_tables_scroll_rather_than_cut(built_book):
    html, _ = built_book
    with browser() as b:
        for width in (400, 1280):
            page = b.new_page(viewport={"width": width, "height": 900})
            page.route("http*://**", lambda route: route.abort())
            for name in ("turn_over_dropout", "claims"):
                page.goto((html / "book" / f"{name}.html").as_uri(), wait_until="load")
                if width == 400:
                    assert page.evaluate(CUT_OFF_JS) == [], name
            sidebar, dialog = page.locator("#pst-primary-sidebar"), page.locator("#pst-primary-sidebar-modal")
            toggle = page.locator(".primary-toggle:visible").first
            if width == 400:  # the sidebar is not shown beside the page: the button opens it as a dialog
                assert not sidebar.is_visible()
                toggle.click()
                dialog.locator("a.reference.internal", has_text="Claims").first.wait_for(state="visible")
                page.keyboard.press("Escape")
                page.wait_for_function("() => !document.querySelector('#pst-primary-sidebar-modal').open")
            else:  # shown beside the page: the button hides it, and shows it again
                assert sidebar.is_visible()
                toggle.click()
                assert not sidebar.is_visible() and not dialog.evaluate("d => d.open")
                page.locator(".primary-toggle:visible").first.click()
                assert sidebar.is_visible()
            page.close()


def test_a_misspelled_parameter_stops_the_build_with_one_line(tmp_path):
    env = dict(os.environ, MEMO_RESULTS_DIR=str(tmp_path / "results"), OMP_NUM_THREADS="1")
    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "scripts" / "build_book.py"),
            "--profile",
            "smoke",
            "-p",
            "widht",
            "3",
            "--out",
            str(tmp_path / "book"),
        ],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode != 0
    last = done.stderr.strip().splitlines()
    assert last[-2].startswith("error: easy_examples: widht is not a parameter of easy_examples: choose from"), last
    assert last[-1].startswith("(full log: ")


@pytest.mark.skipif(torch.cuda.is_available(), reason="a GPU computes the gpu profile instead of stopping")
def test_a_gpu_build_without_gpu_results_or_full_data_stops_with_one_line(tmp_path):
    env = dict(
        os.environ, MEMO_RESULTS_DIR=str(tmp_path / "results"), OMP_NUM_THREADS="1", HOME=str(tmp_path)
    )  # no torchvision conversions in ~/.cache/memo_utils
    for name in ("MEMO_DATA_DIR", "MEMO_ALLOW_DOWNLOAD"):
        env.pop(name, None)
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "build_book.py"), "--profile", "gpu", "--out", str(tmp_path / "book")],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode != 0
    last = done.stderr.strip().splitlines()
    assert last[-2].startswith(f"error: {CHAPTERS[0]}: the gpu profile's results are not in "), last
    assert last[-2].endswith("run it on a GPU (scripts/gpu_session.sh) or use PROFILE=cpu"), last
    assert last[-1].startswith("(full log: ")


def test_an_output_folder_the_build_did_not_make_is_refused_and_left_untouched(tmp_path):
    mine = tmp_path / "home"
    (mine / "src").mkdir(parents=True)
    (mine / "src" / "thesis.tex").write_text("years of work")
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "build_book.py"), "--profile", "smoke", "--out", str(mine)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert done.returncode != 0 and done.stderr.strip().splitlines() == [
        f"error: --out={mine} is not allowed: it exists and was not made by this script; give a new folder"
    ]
    assert (mine / "src" / "thesis.tex").read_text() == "years of work"
