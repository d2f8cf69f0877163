"""Fingerprints of the code behind each cached part, so that a change of results cannot go unnoticed.

A part's cache key holds its ``version``, not its source: GPU results are rare here, and a
refactor that leaves results unchanged must not invalidate them. Instead, the fingerprint
of the source that computes each part is recorded beside its version in
``memo_utils/experiments/fingerprints.json``, and a test fails when a fingerprint changes
while the version does not. The developer then either bumps the part's version (results
change: new cache keys) or shows that the refactor leaves results bit-identical, which
``python -m memo_utils fingerprint --record CHAPTER/PART`` checks before re-recording.

The fingerprint covers what ``compute`` can reach: the functions, classes and constants of its
own module that it names (every assignment of a name, not only the last), and, followed the
same way through relative and absolute imports alike, those of the ``memo_utils`` modules they
use (``data.corrupt`` pulls in ``corrupt`` and what it names, not all of ``data``; a parameter
that happens to share a function's name does not). It hashes their syntax trees without what
only people read (comments, docstrings, formatting, the message text of raised errors and
assertions), so improving a message never makes results look stale, and it leaves out modules
that declare ``AFFECTS_RESULTS = False`` (progress bars, errors).
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

from ..engine import data, devices
from . import cache
from .chapter import cell_id

RECORD = Path(__file__).resolve().parents[1] / "experiments" / "fingerprints.json"


def _imports(nodes, module_name):
    """What the import statements among ``nodes`` bind to inside the package, relative and absolute alike:
    {alias: (module, None)} for a module, {alias: (module, name)} for a symbol of a module."""
    root, package = module_name.split(".")[0], importlib.import_module(module_name).__package__
    imports = {}
    for node in nodes:
        if isinstance(node, ast.ImportFrom):
            base = (
                importlib.util.resolve_name("." * node.level + (node.module or ""), package)
                if node.level
                else node.module
            )
            if base.split(".")[0] != root:
                continue
            for alias in node.names:
                full = f"{base}.{alias.name}"
                is_module = _is_package(base) and importlib.util.find_spec(full) is not None
                imports[alias.asname or alias.name] = (full, None) if is_module else (base, alias.name)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == root:  # ``import pkg.mod`` binds pkg; ``import pkg.mod as m`` binds m
                    imports[alias.asname or root] = (alias.name if alias.asname else root, None)
    return imports


def _bound_names(node):
    """The names a top-level statement binds: a definition's name, every assignment's targets."""
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return {node.name}
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        return set()
    names = set()
    for child in ast.walk(node):
        if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(child.name)  # defined inside a top-level if or try
        elif isinstance(child, ast.Name) and isinstance(child.ctx, ast.Store):
            names.add(child.id)
    return names


@lru_cache(maxsize=None)
def _module_info(module_name):
    """Every top-level statement binding each name {name: [nodes, in source order]}, so that a constant assigned
    twice is hashed with both assignments, and the module's imports from its package (see _imports)."""
    tree = ast.parse(inspect.getsource(importlib.import_module(module_name)))
    definitions = {}
    for node in tree.body:
        for name in _bound_names(node):
            definitions.setdefault(name, []).append(node)
    return definitions, _imports(tree.body, module_name)


def _is_package(module_name):
    return hasattr(importlib.import_module(module_name), "__path__")


class _Prose(ast.NodeTransformer):
    """Removes what only people read: docstrings and the message text of raised errors and assertions."""

    def generic_visit(self, node):
        body = getattr(node, "body", None)
        if (
            isinstance(body, list)
            and body
            and isinstance(body[0], ast.Expr)
            and isinstance(body[0].value, ast.Constant)
            and isinstance(body[0].value.value, str)
        ):
            node.body = body[1:] or [ast.Pass()]
        return super().generic_visit(node)

    def visit_Raise(self, node):
        if node.exc is not None:
            node.exc = _Text().visit(node.exc)
        return node

    def visit_Assert(self, node):
        node.msg = None
        return self.generic_visit(node)


class _Text(ast.NodeTransformer):
    def visit_Constant(self, node):
        return ast.Constant("") if isinstance(node.value, str) else node

    def visit_JoinedStr(self, node):
        return ast.Constant("")


def _without_prose(node):
    return ast.dump(_Prose().visit(ast.parse(ast.unparse(node))))  # a copy


def _local_names(node):
    """Names a function binds for itself (its parameters, assignments, inner definitions): a parameter called
    ``source`` is not the module's function ``source``."""
    local, declared_global = set(), set()
    for child in ast.walk(node):
        if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            arguments = child.args
            local |= {a.arg for a in arguments.posonlyargs + arguments.args + arguments.kwonlyargs}
            local |= {a.arg for a in (arguments.vararg, arguments.kwarg) if a is not None}
            if child is not node and not isinstance(child, ast.Lambda):
                local.add(child.name)
        elif isinstance(child, ast.Name) and isinstance(child.ctx, ast.Store):
            local.add(child.id)
        elif isinstance(child, (ast.Global, ast.Nonlocal)):
            declared_global |= set(child.names)
    return local - declared_global


def _resolve(expr, module_name, imports, definitions, local):
    """The (module, name) that a name or an attribute chain (``pkg.mod.name``) stands for; name None: a module."""
    if isinstance(expr, ast.Name):
        if not isinstance(expr.ctx, ast.Load):
            return None  # a name being bound (a class's field ``source: str``), not the module's ``source``
        if expr.id in imports:
            return imports[expr.id]
        return (module_name, expr.id) if expr.id in definitions and expr.id not in local else None
    if isinstance(expr, ast.Attribute):
        base = _resolve(expr.value, module_name, imports, definitions, local)
        if base is None or base[1] is not None:
            return base  # an attribute of a symbol: the symbol is what is used
        full = f"{base[0]}.{expr.attr}"
        is_module = _is_package(base[0]) and importlib.util.find_spec(full) is not None
        return (full, None) if is_module else (base[0], expr.attr)
    return None


def _references(node, module_name):
    """The (module, name) symbols of the package that a definition uses; name None: the whole module."""
    definitions, module_imports = _module_info(module_name)
    local = _local_names(node) if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) else set()
    imports = {
        **{alias: target for alias, target in module_imports.items() if alias not in local},
        **_imports(ast.walk(node), module_name),
    }  # imports inside the function win
    inner = {id(child.value) for child in ast.walk(node) if isinstance(child, ast.Attribute)}
    found = set()
    for child in ast.walk(node):
        if isinstance(child, (ast.Name, ast.Attribute)) and id(child) not in inner:  # a whole chain, once
            symbol = _resolve(child, module_name, imports, definitions, local)
            if symbol is not None:
                found.add(symbol)
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
            nodes = {(module_name, n): statements for n, statements in definitions.items()}
        elif name in definitions:
            nodes = {symbol: definitions[name]}
        else:
            continue  # a name the module takes from outside the package
        for key, statements in nodes.items():
            found[key] = "\n".join(_without_prose(node) for node in statements)
            for node in statements:
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
                problem = (
                    f"its code changed but its version ({part.version}) did not: bump the version if results "
                    f"change, else prove they do not with python -m memo_utils fingerprint --record "
                    f"{_part_id(chapter, part)}"
                )
            else:
                problem = None
            out.append((_part_id(chapter, part), problem))
    return out


def _write(chapter, part):
    entry = {"version": part.version, "source": source_fingerprint(part)}
    cache.update_json(RECORD, lambda record: dict(sorted({**record, _part_id(chapter, part): entry}.items())), {})


def _arrays_equal(a, b):
    return a.keys() == b.keys() and all(
        a[k].shape == b[k].shape
        and a[k].dtype == b[k].dtype
        and np.array_equal(a[k], b[k], equal_nan=a[k].dtype.kind in "fc")
        for k in a
    )


def _reference_results(chapter, part, profile, rev, results_dir):
    """The part's results at ``profile`` as the code of ``rev`` computes them (in a git worktree)."""
    root = Path(__file__).resolve().parents[2]
    with tempfile.TemporaryDirectory() as tree:
        subprocess.run(["git", "worktree", "add", "--detach", tree, rev], cwd=root, check=True, capture_output=True)
        try:
            env = dict(os.environ, MEMO_RESULTS_DIR=str(results_dir), OMP_NUM_THREADS="1")
            subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "memo_utils",
                    "run",
                    chapter.name,
                    "--profile",
                    profile,
                    "--part",
                    part.name,
                    "--device",
                    "cpu",
                ],
                cwd=tree,
                env=env,
                check=True,
            )
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
                devices.configure_threads("cpu")  # one thread, as `run` computes: thread counts change float sums
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
