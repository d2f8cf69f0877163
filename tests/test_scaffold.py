"""``new-chapter`` writes a chapter that passes the chapter tests, lints clean and executes as a page."""

import os
import shutil
import subprocess
import sys

import pytest
from conftest import ROOT

IGNORED = shutil.ignore_patterns(".git", ".venv", "node_modules", "_build", "lab", "test-artifacts", "__pycache__")


@pytest.mark.slow  # copies the repository, runs tests and a notebook in it
def test_a_new_chapter_passes_the_chapter_tests_lints_clean_and_its_page_executes(tmp_path):
    repo = tmp_path / "repo"
    shutil.copytree(ROOT, repo, ignore=IGNORED)
    env = dict(os.environ, PYTHONPATH=str(repo), OMP_NUM_THREADS="1", MEMO_RESULTS_DIR=str(tmp_path / "results"))

    def run(*args, **kwargs):
        done = subprocess.run(args, cwd=repo, env=env, capture_output=True, text=True, timeout=900, **kwargs)
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
        return done

    made = run(sys.executable, "-m", "memo_utils", "new-chapter", "toy_memo", "--paper", "arpit2017")
    assert "book/toy_memo.md" in made.stdout
    refused = subprocess.run(
        [sys.executable, "-m", "memo_utils", "new-chapter", "toy_memo", "--paper", "arpit2017"],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
    )
    assert refused.returncode == 2 and "that chapter exists" in refused.stderr
    run(sys.executable, "-m", "ruff", "check", ".")
    run(sys.executable, "-m", "ruff", "format", "--check", ".")
    run(
        sys.executable,
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        "tests/test_chapter.py",
        "tests/test_pages.py",
        "tests/test_fingerprints.py",
        "tests/test_packaging.py",
        "tests/test_layers.py",
        "tests/test_memory.py",
        "-m",
        "not slow",
    )
    run(sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_plots.py", "-k", "toy_memo")
    computed = run(sys.executable, "-m", "memo_utils", "run", "toy_memo", "--profile", "smoke")
    assert "toy_memo: " in computed.stdout  # the verdicts' tally, saved as a page would save them
    run(sys.executable, "-m", "jupytext", "--to", "ipynb", "-o", str(tmp_path / "page.ipynb"), "book/toy_memo.md")
    run(
        sys.executable,
        "-m",
        "papermill",
        str(tmp_path / "page.ipynb"),
        str(tmp_path / "out.ipynb"),
        "-p",
        "profile",
        "smoke",
        "--cwd",
        str(repo / "book"),
        "--no-progress-bar",
    )
