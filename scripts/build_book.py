"""Execute every chapter with papermill, then render the book with jupyter-book 1.x.

    python scripts/build_book.py [--profile smoke|cpu|gpu|paper] [-p NAME VALUE ...] [--out _build]

The text notebooks in book/ stay the single source of truth: each is converted to .ipynb
in a staging folder (``<out>/src``), executed there with the parameters injected, and the
staging folder is what jupyter-book renders (``execute_notebooks: off``) into ``<out>/html``.
Chapters run in table-of-contents order, so the claims, cost and reproducibility pages, which
come last, see every chapter's results. Each chapter's wall time is recorded in
``results/timings/<profile>.json`` for the reproducibility appendix.
"""
from __future__ import annotations

import argparse
import ast
import json
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
from memo_utils.costs import record_wall_time  # noqa: E402
from memo_utils.experiments import CHAPTERS  # noqa: E402
from memo_utils.profiles import default_profile  # noqa: E402

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


def hide_injected_parameters(path):
    """Pages that only aggregate (claims, cost, appendix) do not show papermill's parameter cell."""
    notebook = nbformat.read(path, as_version=4)
    for cell in notebook.cells:
        tags = cell.metadata.setdefault("tags", [])
        if "injected-parameters" in tags and "remove-cell" not in tags:
            tags.append("remove-cell")
    nbformat.write(notebook, path)


def execute(source, target, parameters, timeout):
    notebook = jupytext.read(source)
    target.parent.mkdir(parents=True, exist_ok=True)
    staged = target.with_suffix(".input.ipynb")
    jupytext.write(notebook, staged)
    start = time.perf_counter()
    try:
        papermill.execute_notebook(str(staged), str(target), parameters=parameters, kernel_name="python3",
                                   cwd=str(ROOT / "book"), progress_bar=False, execution_timeout=timeout)
    except papermill.PapermillExecutionError as error:
        if error.ename in ("ConfigError", "DataUnavailableError"):  # a bad parameter or missing data: one line
            sys.exit(f"error: {source.stem}: {error.evalue}\n(full log: {target})")
        raise
    finally:
        staged.unlink()
    return time.perf_counter() - start


def vendor_js(static):
    modules = ROOT / "vendor" / "node_modules"
    for source, dest in VENDOR_FILES.items():
        if not (modules / source).exists():
            sys.exit(f"vendor/node_modules/{source} is missing: run `npm ci --prefix vendor` (make does this)")
        target = static / dest
        target.parent.mkdir(parents=True, exist_ok=True)
        if (modules / source).is_dir():
            shutil.copytree(modules / source, target, dirs_exist_ok=True,
                            ignore=shutil.ignore_patterns("*.map"))
        else:
            shutil.copy2(modules / source, target)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default=None, help="smoke, cpu, gpu or paper (default: gpu with CUDA, else cpu)")
    parser.add_argument("-p", "--parameter", nargs=2, action="append", default=[], metavar=("NAME", "VALUE"),
                        help="a papermill parameter for every chapter that has it")
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

    out = Path(args.out).resolve()
    src = out / "src"
    shutil.rmtree(src, ignore_errors=True)
    src.mkdir(parents=True)
    for name in ("_config.yml", "_toc.yml", "references.bib"):
        shutil.copy2(ROOT / name, src / name)
    vendor_js(src / "_vendor")
    shutil.copytree(ROOT / "book" / "_ext", src / "book" / "_ext")
    shutil.copy2(ROOT / "book" / "_ext" / "widgets-offline.js", src / "_vendor")

    timings = {}
    for entry in toc_files():
        source = ROOT / f"{entry}.md"
        if is_notebook(source):
            print(f"executing {entry} with {parameters}", flush=True)
            timings[Path(entry).name] = execute(source, src / f"{entry}.ipynb", parameters, args.timeout)
            print(f"  {timings[Path(entry).name]:.1f} s", flush=True)
            if Path(entry).name not in CHAPTERS:
                hide_injected_parameters(src / f"{entry}.ipynb")
            elif not args.parameter:  # a run with its own settings does not time the profile
                record_wall_time(profile, Path(entry).name, timings[Path(entry).name], "papermill (whole chapter)")
        else:
            (src / entry).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, src / f"{entry}.md")

    env = dict(os.environ, PYDEVD_DISABLE_FILE_VALIDATION="1")
    subprocess.run([str(Path(sys.executable).parent / "jupyter-book"), "build", str(src), "--warningiserror", "--quiet",
                    "--path-output", str(out / "jb")], check=True, env=env)
    shutil.rmtree(out / "html", ignore_errors=True)
    shutil.move(str(out / "jb" / "_build" / "html"), str(out / "html"))
    shutil.rmtree(out / "jb")
    print(f"book: {out / 'html' / 'index.html'}")


if __name__ == "__main__":
    main()
