"""The package's layers, and imports that only point down them (a cycle or an upward import fails)."""

import ast
import importlib.util

from conftest import ROOT

# Bottom to top. A module may import its own layer and those below; the package docstring maps them.
LAYERS = [
    ("foundation", ["memo_utils.errors", "memo_utils.progress", "memo_utils.seeds"]),
    ("engine", ["memo_utils.engine"]),
    ("methods", ["memo_utils.methods"]),
    ("framework", ["memo_utils.framework"]),
    ("experiments", ["memo_utils.experiments"]),
    ("figures", ["memo_utils.figures"]),
    ("bench", ["memo_utils.bench"]),
    (
        "book and command line",
        [
            "memo_utils.report",
            "memo_utils.scaffold",
            "memo_utils.cluster",
            "memo_utils.rehearse",
            "memo_utils.__main__",
            "memo_utils",
        ],
    ),
]


def _layer(module):
    for rank, (_, prefixes) in enumerate(LAYERS):
        if any(module == p or module.startswith(p + ".") for p in prefixes if p != "memo_utils"):
            return rank
    return len(LAYERS) - 1 if module == "memo_utils" else None


def _modules():
    for path in sorted((ROOT / "memo_utils").rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        yield name, path, parts[-1] == "__init__"


def _imports(name, path, is_package):
    """(line, imported module) of every import of memo_utils in the file, at any depth."""
    package = name if is_package else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            base = (
                importlib.util.resolve_name("." * node.level + (node.module or ""), package)
                if node.level
                else node.module
            )
            for alias in node.names:
                full = f"{base}.{alias.name}"
                yield node.lineno, full if full in MODULES else base
        elif isinstance(node, ast.Import):
            yield from ((node.lineno, a.name) for a in node.names)


MODULES = {name for name, _, _ in _modules()}


def test_every_module_belongs_to_a_layer():
    assert [name for name, _, _ in _modules() if _layer(name) is None] == []


def test_imports_only_point_down_the_layers():
    upward = []
    for name, path, is_package in _modules():
        for line, imported in _imports(name, path, is_package):
            if imported.startswith("memo_utils") and imported != "memo_utils" and _layer(imported) > _layer(name):
                upward.append(
                    f"{path.relative_to(ROOT)}:{line} ({LAYERS[_layer(name)][0]}) imports {imported} "
                    f"({LAYERS[_layer(imported)][0]})"
                )
    assert upward == [], "\n".join(upward)


def test_no_import_cycle_between_modules():
    graph = {
        name: {m for _, m in _imports(name, path, pkg) if m.startswith("memo_utils.")} for name, path, pkg in _modules()
    }
    seen, stack, cycles = set(), [], []

    def visit(node):
        if node in stack:
            cycles.append(stack[stack.index(node) :] + [node])
            return
        if node in seen:
            return
        seen.add(node)
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            visit(nxt)
        stack.pop()

    for name in sorted(graph):
        visit(name)
    assert cycles == [], cycles
