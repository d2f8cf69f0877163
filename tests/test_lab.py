"""JupyterLab as a reader uses it (`make lab`), driven in headless Chromium: every chapter opens as a notebook from
its working copy, runs without an error, renders MyST, its widget redraws the figure, and it runs again in the
same kernel after a parameter is edited; citations show their labels and links open the other pages; a page run
and saved without an edit is not rewritten; a papermill-executed notebook shows its saved widget once trusted;
and nothing tracked in the checkout changes."""

import importlib.util
import os
import secrets
import signal
import socket
import subprocess
import sys
import time

import pytest
from browser import browser, chromium_path, operate_figure_choice
from conftest import ROOT

from memo_utils import experiments
from memo_utils.framework import profiles

_spec = importlib.util.spec_from_file_location("lab", ROOT / "scripts" / "lab.py")
lab = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(lab)

pytestmark = [
    pytest.mark.slow,  # drives JupyterLab in a browser
    pytest.mark.skipif(chromium_path() is None, reason="needs Debian's chromium (.ci/run installs it)"),
]

ALL_DONE_JS = """([cells, after]) => {
  const shown = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden)');
  const prompts = [...shown.querySelectorAll('.jp-CodeCell .jp-InputArea-prompt')].map(p => p.textContent.trim());
  return prompts.length === cells && prompts.every(p => /^\\[\\d+\\]:$/.test(p) && +p.slice(1, -2) > after);
}"""
ERRORS_JS = """() => [...document.querySelectorAll(
    '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]')]
  .map(e => e.textContent).filter(t => /Error|Traceback/.test(t)).map(t => t.slice(0, 300))"""


def _git_status():
    return subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=all"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def lab_server(tmp_path_factory):
    """JupyterLab as `make lab` starts it, on working copies in a temporary folder and a free port; stopped by
    its PID afterwards."""
    home = tmp_path_factory.mktemp("lab")
    folder = home / "lab"
    lab.working_copies(folder)
    port, token = _free_port(), secrets.token_hex(16)
    jupyter = {f"JUPYTER_{kind}_DIR": str(home / f"jupyter-{kind.lower()}") for kind in ("DATA", "CONFIG", "RUNTIME")}
    env = dict(lab.environment(folder), OMP_NUM_THREADS="1", **jupyter)  # the reader's own Jupyter state stays apart
    log_path = home / "server.log"
    log = open(log_path, "w")
    server = subprocess.Popen(
        lab.command(
            [
                f"--port={port}",
                "--ServerApp.port_retries=0",
                "--ServerApp.ip=127.0.0.1",
                f"--IdentityProvider.token={token}",
            ],
            folder,
        ),
        env=env,
        cwd=folder,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        for _ in range(240):
            if server.poll() is not None:
                pytest.fail(f"JupyterLab exited with {server.returncode}:\n{log_path.read_text()[-3000:]}")
            try:
                socket.create_connection(("127.0.0.1", port), 0.5).close()
                break
            except OSError:
                time.sleep(0.5)
        else:
            pytest.fail(f"JupyterLab did not listen on port {port} in 2 minutes:\n{log_path.read_text()[-3000:]}")
        yield f"http://127.0.0.1:{port}", token, folder, env
    finally:  # the server and its kernels, by the server's PID (its process group)
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(10)
        log.close()


def _open(b, url, token, name):
    page = b.new_page(viewport={"width": 1400, "height": 1000})
    errors, outside = [], []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on(
        "request", lambda r: outside.append(r.url) if r.url.startswith("http") and not r.url.startswith(url) else None
    )
    page.route("http*://**", lambda route: route.continue_() if route.request.url.startswith(url) else route.abort())
    page.goto(f"{url}/lab/tree/{name}?reset&token={token}", wait_until="load")  # reset: only this one is open
    page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=120_000)
    return page, errors, outside


def _run_all(page, name, timeout_s=120, after=0):
    """Run → Run All Cells, then wait until every code cell of the page has an execution count above ``after``
    (the last count of an earlier Run All in the same kernel); returns the highest count."""
    import jupytext

    cells = sum(c.cell_type == "code" for c in jupytext.read(ROOT / "book" / name).cells)
    # a Run All sent while the kernel still starts can be lost: wait until the status bar says it is idle
    page.wait_for_function("() => document.body.innerText.includes('(ipykernel) | Idle')", timeout=120_000)
    page.get_by_role("menuitem", name="Run", exact=True).click()
    page.get_by_text("Run All Cells", exact=True).click()
    deadline = time.monotonic() + timeout_s
    while not page.evaluate(ALL_DONE_JS, [cells, after]):
        errors = page.evaluate(ERRORS_JS)  # a failing cell stops Run All: say so now, not at the timeout
        assert errors == [], f"{name}: {errors}"
        if time.monotonic() > deadline:
            (ROOT / "test-artifacts").mkdir(exist_ok=True)
            page.screenshot(path=str(ROOT / "test-artifacts" / f"lab-{name}.png"))
            pytest.fail(f"{name}: Run All did not finish in {timeout_s} s (screenshot in test-artifacts/)")
        page.wait_for_timeout(500)
    return after + cells


def _edit_parameters(page):
    """Type a line at the end of the parameters cell (the first code cell), as a reader edits a setting."""
    editor = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-CodeCell .cm-content").first
    editor.click()
    page.keyboard.press("Control+End")
    page.keyboard.type('\nprofile = "cpu"')
    page.keyboard.press("Escape")


def test_every_chapter_runs_in_lab_renders_myst_and_its_widget_responds(lab_server):
    url, token, folder, _ = lab_server
    before = _git_status()
    with browser() as b:
        for name in experiments.CHAPTERS:
            page, errors, outside = _open(b, url, token, f"{name}.md")
            count = _run_all(page, f"{name}.md")
            assert page.evaluate(ERRORS_JS) == [], name
            text = page.evaluate("() => document.querySelector('.jp-Notebook').innerText")
            assert ":::{note}" not in text and "{cite}" not in text, f"{name}: MyST shown as source"
            assert page.locator(".jp-Notebook .myst-admonition").count() >= 1, f"{name}: the run note is no admonition"
            boxes = page.locator(".memo-figure-choice").all()
            assert boxes, f"{name}: no widget"
            assert all(operate_figure_choice(page, box)["changed"] for box in boxes), name
            # a second Run All in the same kernel, after an edit (the profile, set explicitly to what ran)
            _edit_parameters(page)
            _run_all(page, f"{name}.md", after=count)
            assert page.evaluate(ERRORS_JS) == [], f"{name}: second Run All"
            assert errors == [] and outside == [], (name, errors, outside)
            page.close()
            saved = folder / "results" / "claims" / name / f"{profiles.default_profile()}.json"
            assert saved.exists(), f"{name}: its claims did not go into the working folder's results"
    assert _git_status() == before  # no source, claims or timing file of the checkout changed


def test_citations_show_their_labels_links_open_pages_and_a_saved_unedited_page_is_not_rewritten(lab_server):
    url, token, folder, _ = lab_server
    copy = folder / "intro.md"
    before = copy.read_bytes()
    with browser() as b:
        page, errors, outside = _open(b, url, token, "intro.md")
        _run_all(page, "intro.md")
        notebook = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook")
        assert "Citation Not Found" not in notebook.inner_text()
        assert notebook.get_by_role("link", name="Arpit et al., 2017").count() >= 1
        assert notebook.get_by_role("link", name="easy_examples", exact=True).count() >= 1  # generated chapter list
        page.keyboard.press("Control+s")  # what an autosave does, without waiting two minutes for it
        page.wait_for_function("() => !document.querySelector('.jp-mod-current.jp-mod-dirty')", timeout=30_000)
        page.wait_for_timeout(1000)
        assert copy.read_bytes() == before, "saving an unedited page rewrote it"
        notebook.get_by_role("link", name="claims page").click()
        page.wait_for_selector(".lm-TabBar-tab.jp-mod-current >> text=claims.md", timeout=30_000)
        page.wait_for_selector(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Cell", timeout=60_000)
        page.locator(".lm-TabBar-tab >> text=intro.md").click()  # back to the introduction, for a citation
        notebook.get_by_role("link", name="Arpit et al., 2017").first.click()
        page.wait_for_selector(".lm-TabBar-tab.jp-mod-current >> text=bibliography.md", timeout=30_000)
        shown = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook")
        shown.get_by_text("A closer look at memorization in deep networks").wait_for(timeout=30_000)
        assert page.locator(".jp-Dialog").count() == 0, "a page without code asked for a kernel"
        assert errors == [] and outside == [], (errors, outside)
        page.close()
    copied, kept = lab.working_copies(folder)
    assert "intro.md" not in copied + kept  # neither counted as edited nor out of date


def test_a_papermill_executed_notebook_shows_its_saved_widget_once_trusted(lab_server, tmp_path, monkeypatch):
    """papermill saves the widget state; JupyterLab renders saved widgets in trusted notebooks only."""
    url, token, folder, env = lab_server
    import jupytext
    import papermill

    source = tmp_path / "easy_examples.ipynb"
    jupytext.write(jupytext.read(ROOT / "book" / "easy_examples.md"), source)
    executed = folder / "easy_examples.executed.ipynb"
    for name in ("MEMO_RESULTS_DIR", "MEMO_RESULTS_BASE"):  # as a reader's papermill run from lab/ would
        monkeypatch.setenv(name, lab.environment(folder)[name])
    papermill.execute_notebook(
        str(source),
        str(executed),
        parameters={"profile": "cpu"},
        kernel_name="python3",
        progress_bar=False,
        cwd=str(folder),
    )
    subprocess.run([sys.executable, "-m", "jupyter", "trust", str(executed)], check=True, capture_output=True, env=env)
    with browser() as b:
        page, errors, outside = _open(b, url, token, executed.name)
        page.wait_for_selector(".memo-figure-choice", timeout=60_000)  # no cell was run here
        assert "VBox(children" not in page.evaluate("() => document.querySelector('.jp-Notebook').innerText")
        assert operate_figure_choice(page, page.locator(".memo-figure-choice").first)["changed"]
        assert errors == [] and outside == [], (errors, outside)
        page.close()
