"""Fingerprints of the code behind each cached part, so that a change of results cannot go unnoticed.

A part's cache key holds its ``version``, not its source: GPU results are rare here, and a
refactor that leaves results unchanged must not invalidate them. Instead, the fingerprint
of the source that computes each part is recorded beside its version in
``memo_utils/experiments/fingerprints.json``, and a test fails when a fingerprint changes
while the version does not. The developer then either bumps the part's version (results
change: new cache keys) or shows that the refactor leaves results bit-identical, which
``python -m memo_utils fingerprint --record CHAPTER/PART`` checks before re-recording.

The fingerprint covers what ``compute`` can reach: the functions, classes and constants of its
own module that it names, and, followed the same way, those of the ``memo_utils`` modules they
use (``data.corrupt`` pulls in ``corrupt`` and what it names, not all of ``data``). It hashes
their syntax trees without docstrings, so comments, docstrings and formatting do not count,
and it leaves out modules that declare ``AFFECTS_RESULTS = False`` (progress bars, errors).
"""
from __future__ import annotations

import ast
import contextlib
import hashlib
import importlib
import importlib.util
import inspect
import json
import os
import subprocess
import sys
import tempfile
from functools import lru_cache
from pathlib import Path

import numpy as np

from . import cache, data
from .chapter import cell_id

RECORD = Path(__file__).parent / "experiments" / "fingerprints.json"


def _relative_imports(nodes, package):
    """{alias: (module, None)} for ``from . import module``, {alias: (module, name)} for ``from .module import name``."""
    imports = {}
    for node in nodes:
        if isinstance(node, ast.ImportFrom) and node.level:
            base = importlib.util.resolve_name("." * node.level + (node.module or ""), package)
            for alias in node.names:
                full = f"{base}.{alias.name}"
                is_module = _is_package(base) and importlib.util.find_spec(full) is not None
                imports[alias.asname or alias.name] = (full, None) if is_module else (base, alias.name)
    return imports


@lru_cache(maxsize=None)
def _module_info(module_name):
    """Top-level definitions {name: node} of a module, and its imports from memo_utils (see _relative_imports)."""
    module = importlib.import_module(module_name)
    tree = ast.parse(inspect.getsource(module))
    definitions = {}
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            definitions[node.name] = node
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                for name in ast.walk(target):
                    if isinstance(name, ast.Name):
                        definitions[name.id] = node
    package = module.__package__ if module_name != module.__package__ else module_name
    return definitions, _relative_imports(tree.body, package)


def _is_package(module_name):
    return hasattr(importlib.import_module(module_name), "__path__")


def _strip_docstrings(node):
    node = ast.parse(ast.unparse(node))  # a copy
    for child in ast.walk(node):
        body = getattr(child, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr) \
                and isinstance(body[0].value, ast.Constant) and isinstance(body[0].value.value, str):
            child.body = body[1:] or [ast.Pass()]
    return ast.dump(node)


def _references(node, module_name):
    """The (module, name) symbols of memo_utils that a definition uses; name None: the whole module."""
    definitions, imports = _module_info(module_name)
    module = importlib.import_module(module_name)
    imports = {**imports, **_relative_imports(ast.walk(node), module.__package__)}  # imports inside functions too
    attribute_bases = {id(c.value) for c in ast.walk(node) if isinstance(c, ast.Attribute)}
    found = set()
    for child in ast.walk(node):
        if isinstance(child, ast.Attribute) and isinstance(child.value, ast.Name) and child.value.id in imports:
            target, name = imports[child.value.id]
            found.add((target, child.attr) if name is None else (target, name))
        elif isinstance(child, ast.Name) and id(child) not in attribute_bases:
            if child.id in imports:
                found.add(imports[child.id])
            elif child.id in definitions:
                found.add((module_name, child.id))
        elif isinstance(child, ast.Name) and child.id in definitions and child.id not in imports:
            found.add((module_name, child.id))  # a local object whose attribute is used
    return found


def reachable(part):
    """{(module, name): syntax tree without docstrings} of everything ``part.compute`` can reach,
    and of how its datasets are read (``data.load_source``)."""
    seen, found = set(), {}
    todo = [(part.compute.__module__, part.compute.__name__), (data.__name__, "load_source")]
    while todo:
        symbol = todo.pop()
        if symbol in seen:
            continue
        seen.add(symbol)
        module_name, name = symbol
        if not getattr(importlib.import_module(module_name), "AFFECTS_RESULTS", True):
            continue  # progress bars, error messages
        definitions, _ = _module_info(module_name)
        if name is None:  # a module used whole
            nodes = {(module_name, n): node for n, node in definitions.items()}
        elif name in definitions:
            nodes = {symbol: definitions[name]}
        else:
            continue  # a name the module takes from outside memo_utils
        for key, node in nodes.items():
            found[key] = _strip_docstrings(node)
            todo.extend(_references(node, module_name) - seen)
    return found


def source_fingerprint(part):
    """SHA-256 of the syntax trees (without docstrings) of everything ``part.compute`` can reach."""
    pieces = sorted(f"{module}:{tree}" for (module, _), tree in reachable(part).items())
    return hashlib.sha256("\n".join(dict.fromkeys(pieces)).encode()).hexdigest()[:16]


def _part_id(chapter, part):
    return f"{chapter.name}/{part.name}"


def recorded():
    return json.loads(RECORD.read_text()) if RECORD.exists() else {}


def status(chapters):
    """[(part id, problem or None)]: a part is stale when its code changed but its version did not."""
    record = recorded()
    out = []
    for chapter in chapters:
        for part in chapter.parts:
            entry = record.get(_part_id(chapter, part))
            current = {"version": part.version, "source": source_fingerprint(part)}
            if entry is None:
                problem = "not recorded"
            elif entry["version"] != part.version:
                problem = f"version {entry['version']} recorded, {part.version} now: record the new version"
            elif entry["source"] != current["source"]:
                problem = (f"its code changed but its version ({part.version}) did not: bump the version if results "
                           f"change, else prove they do not with python -m memo_utils fingerprint --record "
                           f"{_part_id(chapter, part)}")
            else:
                problem = None
            out.append((_part_id(chapter, part), problem))
    return out


def _write(chapter, part):
    entry = {"version": part.version, "source": source_fingerprint(part)}
    cache.update_json(RECORD, lambda record: dict(sorted({**record, _part_id(chapter, part): entry}.items())), {})


def _arrays_equal(a, b):
    return a.keys() == b.keys() and all(
        a[k].shape == b[k].shape and a[k].dtype == b[k].dtype
        and np.array_equal(a[k], b[k], equal_nan=a[k].dtype.kind in "fc") for k in a)


def _reference_results(chapter, part, profile, rev, results_dir):
    """The part's results at ``profile`` as the code of ``rev`` computes them (in a git worktree)."""
    root = Path(__file__).resolve().parents[1]
    with tempfile.TemporaryDirectory() as tree:
        subprocess.run(["git", "worktree", "add", "--detach", tree, rev], cwd=root, check=True, capture_output=True)
        try:
            env = dict(os.environ, MEMO_RESULTS_DIR=str(results_dir), OMP_NUM_THREADS="1")
            subprocess.run([sys.executable, "-m", "memo_utils", "run", chapter.name, "--profile", profile, "--part",
                            part.name, "--device", "cpu"], cwd=tree, env=env, check=True)
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", tree], cwd=root, check=True, capture_output=True)


@contextlib.contextmanager
def _results_dir(path):
    previous = os.environ.get("MEMO_RESULTS_DIR")
    os.environ["MEMO_RESULTS_DIR"] = str(path)
    try:
        yield
    finally:
        if previous is None:
            del os.environ["MEMO_RESULTS_DIR"]
        else:
            os.environ["MEMO_RESULTS_DIR"] = previous


def refactor_check(chapter, part, profiles=("smoke", "cpu"), rev="HEAD"):
    """Compute ``part`` at each profile with this code and compare it bit for bit with the reference:
    the committed cache entry when there is one, else what the code of ``rev`` computes. Returns
    the mismatches (an empty list: the change is a refactor)."""
    mismatches = []
    for profile in profiles:
        cfg = chapter.config(profile)
        with tempfile.TemporaryDirectory() as reference_dir:
            for _, cell in chapter.cells(cfg, [part.name]):
                key = chapter.key(part, cell, cfg)
                reference = cache.lookup(*key)
                if reference is None:
                    try:
                        _reference_results(chapter, part, profile, rev, reference_dir)
                    except subprocess.CalledProcessError:
                        mismatches.append(f"{profile} {cell}: the code of {rev} could not compute it")
                        continue
                    with _results_dir(reference_dir):
                        reference = cache.lookup(*key)
                if reference is None:
                    mismatches.append(f"{profile} {cell}: the code of {rev} stores no result under this key")
                    continue
                with tempfile.TemporaryDirectory() as fresh_dir, _results_dir(fresh_dir):  # this code, computed anew
                    fresh = chapter.run(cfg, device="cpu", parts=[cell_id(part.name, cell)]).cell(part.name, **cell)
                if not _arrays_equal(fresh.arrays, reference.arrays):
                    mismatches.append(f"{profile} {cell}: results differ")
    return mismatches


def record(chapter, part, rev="HEAD"):
    """Re-record ``part``'s fingerprint: at once for a new version, after a bit-identity check otherwise."""
    entry = recorded().get(_part_id(chapter, part))
    if entry is not None and entry["version"] == part.version and entry["source"] != source_fingerprint(part):
        mismatches = refactor_check(chapter, part, rev=rev)
        if mismatches:
            return mismatches
    _write(chapter, part)
    return []
