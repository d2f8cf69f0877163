"""`make lab`: JupyterLab on working copies of the book's pages, so that a reader's tweaks never touch the sources.

Each page of book/ is copied into lab/ (git-ignored) unless lab/ already holds it, so edits made there survive
the next `make lab`; `make lab LAB_RESET=1` replaces every copy with the source's current version. A double click
opens a page as a notebook (Jupytext Notebook is made the default viewer of Markdown files in lab/'s own
settings), and its kernel starts without a question. Runs read the committed results/ and write new cache entries and claims into lab/results/, so that no
tracked file changes, whatever a reader runs.

    python scripts/lab.py [--reset] [JUPYTER LAB OPTIONS...]
"""
from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LAB = ROOT / "lab"
# Lab's own settings for the working folder: pages open as notebooks, their kernel starts without asking, and
# no news is fetched (the book works offline)
SETTINGS = {"@jupyterlab/docmanager-extension/plugin.jupyterlab-settings":
            {"defaultViewers": {"markdown": "Jupytext Notebook", "myst": "Jupytext Notebook"}},
            "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"autoStartDefaultKernel": True},
            "@jupyterlab/apputils-extension/notification.jupyterlab-settings":
            {"fetchNews": "false", "checkForUpdates": False}}


def working_copies(lab=LAB, reset=False):
    """Copy book/*.md into ``lab`` (only the missing ones, or all with ``reset``); returns the copied names."""
    lab.mkdir(parents=True, exist_ok=True)
    copied = []
    for page in sorted((ROOT / "book").glob("*.md")):
        target = lab / page.name
        if reset or not target.exists():
            shutil.copyfile(page, target)
            copied.append(page.name)
    for name, settings in SETTINGS.items():
        path = lab / ".settings" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(settings, indent=1) + "\n")
    return copied


def environment(lab=LAB):
    """Runs in Lab write into lab/results/ and read the committed results/ (memo_utils.cache)."""
    return dict(os.environ, MEMO_RESULTS_DIR=str(lab / "results"), MEMO_RESULTS_BASE=str(ROOT / "results"))


def command(options, lab=LAB):
    root = ["--allow-root"] if hasattr(os, "geteuid") and os.geteuid() == 0 else []
    return [sys.executable, "-m", "jupyter", "lab", "--no-browser", f"--ServerApp.root_dir={lab}",
            f"--LabApp.user_settings_dir={lab / '.settings'}", *root, *options]


def main(argv):
    reset = "--reset" in argv
    options = [a for a in argv if a != "--reset"]
    copied = working_copies(reset=reset)
    print(f"lab/: working copies of book/ ({', '.join(copied) if copied else 'none new; yours are kept'}); "
          f"runs write into lab/results/")
    os.execve(sys.executable, command(options), environment())


if __name__ == "__main__":
    main(sys.argv[1:])
