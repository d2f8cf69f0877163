"""Execute every chapter with papermill, then render the book with jupyter-book 1.x.

    python scripts/build_book.py [--profile smoke|cpu|gpu|paper] [-p NAME VALUE ...] [--out _build]

The text notebooks in book/ stay the single source of truth: each is converted to .ipynb
in a staging folder (``<out>/src``), executed there with the parameters injected, and the
staging folder is what jupyter-book renders (``execute_notebooks: off``) into ``<out>/html``.
Chapters run first, in table-of-contents order, then the pages that aggregate them (the
introduction, the claims, cost and reproducibility pages), so that those see every chapter's
results; each of these gets only the parameters its parameters cell declares. No page shows its
parameters cell (the settings table says what ran), and jupyter-book's own output is shown only
when it fails. Each chapter's wall time is recorded in
``results/timings/<profile>.json`` for the reproducibility appendix.
"""

from __future__ import annotations

import argparse
import ast
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import jupytext
import nbformat
import papermill
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from memo_utils.errors import ONE_LINE  # noqa: E402
from memo_utils.experiments import CHAPTERS  # noqa: E402
from memo_utils.experiments import get as get_chapter  # noqa: E402
from memo_utils.framework import cache  # noqa: E402
from memo_utils.framework.claims import TESTED_PROFILES  # noqa: E402
from memo_utils.framework.costs import record_wall_time  # noqa: E402
from memo_utils.framework.profiles import default_profile  # noqa: E402

VENDOR_FILES = {  # vendor/node_modules path -> path under the book's _static/
    "requirejs/require.js": "require.min.js",
    "@jupyter-widgets/html-manager/dist": "html-manager",
    "mathjax/es5": "mathjax",
}


def toc_files():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [toc["root"]]
    for part in toc.get("parts", []):
        files += [chapter["file"] for chapter in part["chapters"]]
    return files


def is_notebook(path):
    """A page is a notebook when its jupytext front matter names a kernel."""
    text = path.read_text()
    return text.startswith("---") and "kernelspec" in text.split("---", 2)[1]


def hide_parameter_cells(notebook):
    """No page shows its parameters cell or papermill's injected one: the settings table says
    what ran. The tag is added to the staged copy, so the sources stay as a reader opens them."""
    for cell in notebook.cells:
        tags = cell.metadata.setdefault("tags", [])
        if ("parameters" in tags or "injected-parameters" in tags) and "remove-cell" not in tags:
            tags.append("remove-cell")
    return notebook


def declared_parameters(notebook):
    """Names assigned in a notebook's parameters cell."""
    names = set()
    for cell in notebook.cells:
        if "parameters" in cell.metadata.get("tags", []):
            tree = ast.parse(cell.source)
            names |= {
                t.id
                for node in tree.body
                if isinstance(node, (ast.Assign, ast.AnnAssign))
                for t in (node.targets if isinstance(node, ast.Assign) else [node.target])
                if isinstance(t, ast.Name)
            }
    return names


def missing_data_message(name, parameters, evalue):
    """The one line for a chapter whose profile needs data this machine lacks and results it has not."""
    profile = parameters.get("profile")
    reason = evalue.split(". ")[0]
    if name not in CHAPTERS or profile not in ("gpu", "paper"):
        return evalue
    try:
        chapter = get_chapter(name)
        cfg = chapter.config(profile, **{k: v for k, v in parameters.items() if k in chapter.param_names})
        missing = chapter.missing(cfg, parameters.get("data_dir"))
    except Exception:  # noqa: BLE001 - the chapter's own message is then the best there is
        return evalue
    if not missing:
        return evalue
    cells = ", ".join(missing[:3]) + (f" and {len(missing) - 3} more" if len(missing) > 3 else "")
    with cache.for_book(True):  # the gpu and paper profiles' results belong in the tracked results/
        folder = cache.results_dir().resolve()
    where = f"{folder.relative_to(ROOT)}/" if folder.is_relative_to(ROOT) else f"{folder}/"
    return (
        f"the {profile} profile's results are not in {where} ({cells}) and this machine cannot compute "
        f"them ({reason}): run it on a GPU (scripts/gpu_session.sh) or use PROFILE=cpu"
    )


OWNED = ".memo-book-build"  # marks an output folder this script made: only such a folder has anything deleted


def owned_output(out):
    """``out``, created and marked as this script's, or refused in one line if it holds anything else: the
    build deletes ``out/src``, ``out/html`` and ``out/jb``, which must never be a user's own folders."""
    foreign = out.exists() and (not out.is_dir() or (any(out.iterdir()) and not (out / OWNED).exists()))
    if foreign and out != ROOT / "_build":  # the default folder is this script's own
        sys.exit(f"error: --out={out} is not allowed: it exists and was not made by this script; give a new folder")
    out.mkdir(parents=True, exist_ok=True)
    (out / OWNED).touch()
    return out


def execute(source, target, parameters, timeout):
    notebook = hide_parameter_cells(jupytext.read(source))
    if source.stem not in CHAPTERS:  # an aggregate page takes only what it declares (profile, data_dir)
        parameters = {k: v for k, v in parameters.items() if k in declared_parameters(notebook)}
    target.parent.mkdir(parents=True, exist_ok=True)
    staged = target.with_suffix(".input.ipynb")
    jupytext.write(notebook, staged)
    start = time.perf_counter()
    try:
        # The kernel's own log (unencrypted-TCP notices, an interrupt at shutdown) is noise here;
        # an error in a cell is in the executed notebook and stops the build.
        papermill.execute_notebook(
            str(staged),
            str(target),
            parameters=parameters,
            kernel_name="python3",
            cwd=str(ROOT / "book"),
            progress_bar=False,
            execution_timeout=timeout,
            extra_arguments=["--IPKernelApp.log_level=CRITICAL"],
        )
    except papermill.PapermillExecutionError as error:
        if error.ename in {kind.__name__ for kind in ONE_LINE}:  # a bad parameter, missing data or memory: one line
            message = error.evalue
            if error.ename == "DataUnavailableError":
                message = missing_data_message(source.stem, parameters, error.evalue)
            sys.exit(f"error: {source.stem}: {message}\n(full log: {target})")
        raise
    finally:
        staged.unlink()
    seconds = time.perf_counter() - start
    nbformat.write(hide_parameter_cells(nbformat.read(target, as_version=4)), target)  # papermill's injected cell
    return seconds


def vendor_js(static):
    modules = ROOT / "vendor" / "node_modules"
    for source, dest in VENDOR_FILES.items():
        if not (modules / source).exists():
            sys.exit(f"vendor/node_modules/{source} is missing: run `npm ci --prefix vendor` (make does this)")
        target = static / dest
        target.parent.mkdir(parents=True, exist_ok=True)
        if (modules / source).is_dir():
            shutil.copytree(modules / source, target, dirs_exist_ok=True, ignore=shutil.ignore_patterns("*.map"))
        else:
            shutil.copy2(modules / source, target)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default=None, help="smoke, cpu, gpu or paper (default: gpu with CUDA, else cpu)")
    parser.add_argument(
        "-p",
        "--parameter",
        nargs=2,
        action="append",
        default=[],
        metavar=("NAME", "VALUE"),
        help="a papermill parameter for every chapter that has it",
    )
    parser.add_argument("--out", default=str(ROOT / "_build"))
    parser.add_argument("--timeout", type=int, default=None, help="seconds allowed per notebook cell")
    args = parser.parse_args(argv)
    profile = args.profile or default_profile()
    parameters = {"profile": profile}
    for name, value in args.parameter:
        try:
            parameters[name] = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            parameters[name] = value

    out = owned_output(Path(args.out).resolve())
    src = out / "src"
    shutil.rmtree(src, ignore_errors=True)
    src.mkdir(parents=True)
    for name in ("_config.yml", "_toc.yml", "references.bib"):
        shutil.copy2(ROOT / name, src / name)
    vendor_js(src / "_vendor")
    shutil.copytree(ROOT / "book" / "_ext", src / "book" / "_ext")
    for name in ("widgets-offline.js", "book.css", "sidebar_toggles.js"):
        shutil.copy2(ROOT / "book" / "_ext" / name, src / "_vendor")

    timings = {}
    # Chapters first, then the pages that read what they saved (introduction, claims, cost, appendix).
    for entry in sorted(toc_files(), key=lambda e: Path(e).name not in CHAPTERS):
        source = ROOT / f"{entry}.md"
        if is_notebook(source):
            shown = {k: v for k, v in parameters.items() if Path(entry).name in CHAPTERS or k == "profile"}
            print(f"executing {entry} with {shown}", flush=True)
            timings[Path(entry).name] = execute(source, src / f"{entry}.ipynb", parameters, args.timeout)
            print(f"  {timings[Path(entry).name]:.1f} s", flush=True)
            if Path(entry).name in CHAPTERS and not args.parameter:  # not with settings of its own
                with cache.for_book(profile in TESTED_PROFILES):  # a smoke build's times go into scratch/
                    record_wall_time(profile, Path(entry).name, timings[Path(entry).name], "papermill (whole chapter)")
        else:
            (src / entry).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, src / f"{entry}.md")

    env = dict(os.environ, PYDEVD_DISABLE_FILE_VALIDATION="1")
    # jupyter-book's output names its own build folder, which is moved below: shown only on failure.
    print("rendering with jupyter-book", flush=True)
    done = subprocess.run(
        [
            str(Path(sys.executable).parent / "jupyter-book"),
            "build",
            str(src),
            "--warningiserror",
            "--quiet",
            "--path-output",
            str(out / "jb"),
        ],
        env=env,
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        sys.stdout.write(done.stdout)
        sys.stderr.write(done.stderr)
        sys.exit(f"error: jupyter-book failed (exit code {done.returncode}); its output is above")
    shutil.rmtree(out / "html", ignore_errors=True)
    shutil.move(str(out / "jb" / "_build" / "html"), str(out / "html"))
    shutil.rmtree(out / "jb")
    print(f"book: {out / 'html' / 'index.html'}")


if __name__ == "__main__":
    main()
