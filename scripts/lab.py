"""`make lab`: JupyterLab on working copies of the book's pages, so that a reader's tweaks never touch the
sources.

Each page of book/ is copied into lab/ (git-ignored). A copy the reader edited survives the next `make lab`;
an unedited one follows its source; `make lab LAB_RESET=1` replaces every copy with the source's current
version. A double click opens a page as a notebook (Jupytext Notebook is made the default viewer of Markdown
files in lab/'s own settings), and its kernel starts without a question. Runs read the committed results/ and
write new cache entries and claims into lab/results/, so that no tracked file changes, whatever a reader runs.

    python scripts/lab.py [--reset] [JUPYTER LAB OPTIONS...]
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LAB = ROOT / "lab"
# Lab's own settings for the working folder: pages open as notebooks, their kernel starts without asking, and
# no news is fetched (the book works offline)
SETTINGS = {
    "@jupyterlab/docmanager-extension/plugin.jupyterlab-settings": {
        "defaultViewers": {"markdown": "Jupytext Notebook", "myst": "Jupytext Notebook"}
    },
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"autoStartDefaultKernel": True},
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {"fetchNews": "false", "checkForUpdates": False},
}


def working_copies(lab=LAB, reset=False):
    """Copy book/*.md into ``lab``: missing copies, and copies the reader has not edited whose source has changed
    (``lab/.copied.json`` records what each copy was made from); with ``reset``, every copy. Returns the names
    copied, and those kept although their source changed (edited by the reader)."""
    lab.mkdir(parents=True, exist_ok=True)
    record_path = lab / ".copied.json"
    record = json.loads(record_path.read_text()) if record_path.exists() else {}
    digest = lambda path: hashlib.sha256(path.read_bytes()).hexdigest()
    copied, kept = [], []
    for page in sorted((ROOT / "book").glob("*.md")):
        target, source = lab / page.name, digest(page)
        unedited = target.exists() and digest(target) == record.get(page.name)
        if reset or not target.exists() or (unedited and source != record.get(page.name)):
            shutil.copyfile(page, target)
            record[page.name] = source
            copied.append(page.name)
        elif source != record.get(page.name) and digest(target) != source:
            kept.append(page.name)
    record_path.write_text(json.dumps(record, indent=1, sort_keys=True) + "\n")
    for name, settings in SETTINGS.items():  # merged into the reader's own settings, never replacing them
        path = lab / ".settings" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            current = json.loads(path.read_text())
        except (OSError, ValueError):
            current = {}
        path.write_text(json.dumps({**current, **settings}, indent=1) + "\n")
    return copied, kept


def environment(lab=LAB):
    """Runs in Lab write into lab/results/ and read the committed results/ (memo_utils.framework.cache)."""
    return dict(os.environ, MEMO_RESULTS_DIR=str(lab / "results"), MEMO_RESULTS_BASE=str(ROOT / "results"))


def command(options, lab=LAB):
    root = ["--allow-root"] if hasattr(os, "geteuid") and os.geteuid() == 0 else []
    return [
        sys.executable,
        "-m",
        "jupyter",
        "lab",
        "--no-browser",
        f"--ServerApp.root_dir={lab}",
        f"--LabApp.user_settings_dir={lab / '.settings'}",
        *root,
        *options,
    ]


def main(argv):
    reset = "--reset" in argv
    options = [a for a in argv if a != "--reset"]
    copied, kept = working_copies(reset=reset)
    print(f"lab/: working copies of book/; copied now: {', '.join(copied) or 'none'}; runs write into lab/results/")
    if kept:
        print(
            f"lab/: your edited {', '.join(kept)} kept although book/ changed since; make lab LAB_RESET=1 "
            f"replaces every copy"
        )
    os.execve(sys.executable, command(options), environment())


if __name__ == "__main__":
    main(sys.argv[1:])
