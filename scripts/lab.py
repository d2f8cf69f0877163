"""`make lab`: JupyterLab on working copies of the book's pages, so that a reader's tweaks never touch the
sources.

Each page of book/ is copied into lab/ (git-ignored). A copy the reader edited survives the next `make lab`;
an unedited one follows its source; `make lab LAB_RESET=1` replaces every copy with the source's current
version. Whether a copy was edited is decided on its text without its front matter, which Lab rewrites on
every save (the kernel's name); lab/jupytext.toml keeps jupytext's version stamps out of it.

JupyterLab's MyST renderer reads no bibliography and resolves a link to a file, not to a page name as
Sphinx does. So a copy differs from its source in two ways only: each ``{cite}`key``` becomes the book's
author-year label linked to the bibliography page, and a link to a page (``[text](claims)``) names its file
(``claims.md``); the bibliography page becomes the formatted list of references.bib. Pages run in Lab link
to one another the same way (``MEMO_PAGE_LINKS=files``, memo_utils.framework.links).

A double click opens a page as a notebook (Jupytext Notebook is made the default viewer of Markdown files
in lab/'s own settings), and its kernel starts without a question. Runs read the committed results/ and
write new cache entries and claims into lab/results/, so that no tracked file changes, whatever a reader runs.

    python scripts/lab.py [--reset] [JUPYTER LAB OPTIONS...]
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LAB = ROOT / "lab"
FRONT_MATTER = re.compile(r"\A---\n.*?\n---\n", re.S)
CITE = re.compile(r"\{cite(?::[a-z]+)?\}`([^`]+)`")
PAGE_LINK = re.compile(r"\]\((?P<page>[\w-]+)(?P<anchor>#[^)\s]*)?\)")
BIBLIOGRAPHY = re.compile(r"```\{bibliography\}.*?```", re.S)
# Lab's own settings for the working folder: pages open as notebooks, their kernel starts without asking, and
# no news is fetched (the book works offline)
SETTINGS = {
    "@jupyterlab/docmanager-extension/plugin.jupyterlab-settings": {
        "defaultViewers": {"markdown": "Jupytext Notebook", "myst": "Jupytext Notebook"}
    },
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"autoStartDefaultKernel": True},
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {"fetchNews": "false", "checkForUpdates": False},
}


def references(bib=ROOT / "references.bib"):
    """{key: (label, Markdown entry)} of every reference, labelled and formatted as the book's bibliography
    (book/_ext/author_year_bibliography.py)."""
    sys.path.insert(0, str(ROOT / "book" / "_ext"))
    import author_year_bibliography  # noqa: F401 - registers the book's pybtex style
    from pybtex.database import parse_file
    from pybtex.plugin import find_plugin

    style = find_plugin("pybtex.style.formatting", "author_year")()
    markdown = find_plugin("pybtex.backends", "markdown")()
    entries = style.format_bibliography(parse_file(str(bib)))
    return {e.key: (e.label, " ".join(e.text.render(markdown).split())) for e in entries}


def for_lab(text, refs, pages):
    """A page's text as Lab's MyST renderer can show it: citations as linked labels, links to the pages
    ``pages`` (names without extension) naming their files, and the bibliography as a list."""

    def cite(match):
        keys = [k.strip() for k in match.group(1).split(",")]
        unknown = [k for k in keys if k not in refs]
        if unknown:
            raise SystemExit(f"error: {{cite}}`{match.group(1)}` names {', '.join(unknown)}, not in references.bib")
        return "(" + "; ".join(f"[{refs[k][0]}](bibliography.md)" for k in keys) + ")"

    def link(match):
        if match["page"] not in pages:
            return match.group(0)
        return f"]({match['page']}.md{match['anchor'] or ''})"

    listing = "\n".join(f"- **{label}.** {entry}" for label, entry in sorted(refs.values()))
    text = BIBLIOGRAPHY.sub(lambda _: listing, text)
    return PAGE_LINK.sub(link, CITE.sub(cite, text))


def _body(text):
    """A page without its front matter, which Lab rewrites on save (the kernel's display name)."""
    return FRONT_MATTER.sub("", text, count=1)


def _digest(text):
    return hashlib.sha256(_body(text).encode()).hexdigest()


def working_copies(lab=LAB, reset=False):
    """Copy book/*.md, as :func:`for_lab` shows them, into ``lab``: missing copies, and copies the reader has
    not edited whose source has changed (``lab/.copied.json`` records the digest of what each copy was made
    as, front matter aside); with ``reset``, every copy. Returns the names copied, and those kept although
    their source changed (edited by the reader)."""
    lab.mkdir(parents=True, exist_ok=True)
    record_path = lab / ".copied.json"
    record = json.loads(record_path.read_text()) if record_path.exists() else {}
    sources = sorted((ROOT / "book").glob("*.md"))
    refs, pages = references(), {p.stem for p in sources}
    header = FRONT_MATTER.match((ROOT / "book" / "intro.md").read_text()).group(0)
    copied, kept = [], []
    for page in sources:
        target, text = lab / page.name, for_lab(page.read_text(), refs, pages)
        if not FRONT_MATTER.match(text):  # a page without code (the bibliography) opens with no kernel question
            text = header + "\n" + text
        now = _digest(target.read_text()) if target.exists() else None
        wanted, made_from = _digest(text), record.get(page.name)
        if reset or now is None or (now == made_from and wanted != made_from):  # missing, or unedited and stale
            target.write_text(text)
            record[page.name] = wanted
            copied.append(page.name)
        elif wanted != made_from and now != wanted:  # edited by the reader, and the source changed since
            kept.append(page.name)
    record_path.write_text(json.dumps(record, indent=1, sort_keys=True) + "\n")
    shutil.copyfile(ROOT / "jupytext.toml", lab / "jupytext.toml")  # Lab's root is lab/: no version stamps on save
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
    """Runs in Lab write into lab/results/ and read the committed results/ (memo_utils.framework.cache); the
    pages they generate link to the working copies' files (memo_utils.framework.links)."""
    return dict(
        os.environ,
        MEMO_RESULTS_DIR=str(lab / "results"),
        MEMO_RESULTS_BASE=str(ROOT / "results"),
        MEMO_PAGE_LINKS="files",
    )


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
