"""What pyproject.toml declares agrees with what the code imports and with the lock."""
import ast
import importlib.metadata
import re
import tomllib

from conftest import ROOT

PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
DISTRIBUTIONS = {"yaml": "pyyaml", "jupyter_book": "jupyter-book"}  # import name -> distribution name


def _top_level_imports(path):
    tree = ast.parse(path.read_text())
    names = {a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    names |= {n.module.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module and not n.level}
    return names


def test_the_book_extra_holds_what_the_build_script_imports():
    extra = {re.split("[<>=]", d)[0].lower() for d in PYPROJECT["project"]["optional-dependencies"]["book"]}
    standard = set(__import__("sys").stdlib_module_names) | {"memo_utils"}
    needed = {DISTRIBUTIONS.get(n, n).lower() for n in _top_level_imports(ROOT / "scripts" / "build_book.py")} - standard
    assert needed <= extra, needed - extra


def test_requires_python_admits_no_python_the_locked_numpy_refuses():
    ours = PYPROJECT["project"]["requires-python"]
    numpy_needs = importlib.metadata.metadata("numpy")["Requires-Python"]
    minimum = lambda spec: tuple(int(v) for v in re.search(r">=\s*(\d+)\.(\d+)", spec).groups())
    assert minimum(ours) >= minimum(numpy_needs), (ours, numpy_needs)


def test_the_gpu_script_installs_only_locked_versions():
    script = (ROOT / "scripts" / "gpu_session.sh").read_text()
    assert "requirements.lock" in script and not re.search(r"pip download[^\n]*\n[^\n]*\b(pillow|backpack)\b", script)


def test_the_makefile_refuses_a_profile_that_is_not_a_profiles_name(tmp_path):
    import subprocess

    marker = tmp_path / "ran"
    for profile in (f"smoke; touch {marker}", "smoke cpu", "huge"):
        done = subprocess.run(["make", "-n", "book", f"PROFILE={profile}"], cwd=ROOT, capture_output=True, text=True)
        assert done.returncode != 0 and "is not allowed: choose one of smoke, cpu, gpu, paper" in done.stderr
    assert not marker.exists()
