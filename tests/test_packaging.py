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
    names |= {
        n.module.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module and not n.level
    }
    return names


def test_the_book_extra_holds_what_the_build_script_imports():
    extra = {re.split("[<>=]", d)[0].lower() for d in PYPROJECT["project"]["optional-dependencies"]["book"]}
    standard = set(__import__("sys").stdlib_module_names) | {"memo_utils"}
    needed = {
        DISTRIBUTIONS.get(n, n).lower() for n in _top_level_imports(ROOT / "scripts" / "build_book.py")
    } - standard
    assert needed <= extra, needed - extra


def test_requires_python_admits_no_python_the_locked_numpy_refuses():
    ours = PYPROJECT["project"]["requires-python"]
    numpy_needs = importlib.metadata.metadata("numpy")["Requires-Python"]
    minimum = lambda spec: tuple(int(v) for v in re.search(r">=\s*(\d+)\.(\d+)", spec).groups())
    assert minimum(ours) >= minimum(numpy_needs), (ours, numpy_needs)


def test_the_gpu_script_installs_only_locked_versions_checked_against_their_hashes_and_stops_on_failure():
    script = (ROOT / "scripts" / "gpu_session.sh").read_text()
    carried = re.search(r"\^\(([a-z|\-]+)\)==", script).group(1).split("|")
    core = {re.split("[<>=]", d)[0].lower() for d in PYPROJECT["project"]["dependencies"]} - {"torch", "numpy"}
    assert core <= set(carried), core - set(carried)  # what memo_utils imports and the device may lack
    downloads = [line for line in script.splitlines() if "pip download" in line]
    installs = [line for line in script.splitlines() if "pip install" in line]
    assert downloads and installs and all("--require-hashes" in line for line in downloads + installs)
    assert not any("||" in line for line in installs), installs  # a failed install is not waved through
    assert "set -euo pipefail" in script


def test_every_locked_requirement_carries_hashes_and_make_installs_with_require_hashes():
    entries = re.split(r"\n(?=[A-Za-z])", (ROOT / "requirements.lock").read_text().strip())
    assert len(entries) > 100
    for entry in entries:
        assert re.match(r"^[A-Za-z0-9_.\-]+==\S+ \\\n", entry) and re.search(r"--hash=sha256:[0-9a-f]{64}", entry), (
            entry
        )
    assert (
        "pip install --quiet --disable-pip-version-check --require-hashes -r requirements.lock"
        in (ROOT / "Makefile").read_text()
    )


def test_the_makefile_refuses_a_profile_that_is_not_a_profiles_name(tmp_path):
    import subprocess

    marker = tmp_path / "ran"
    for profile in (f"smoke; touch {marker}", "smoke cpu", "huge"):
        done = subprocess.run(["make", "-n", "book", f"PROFILE={profile}"], cwd=ROOT, capture_output=True, text=True)
        assert done.returncode != 0 and "is not allowed: choose one of smoke, cpu, gpu, paper" in done.stderr
    assert not marker.exists()


def test_readmes_chapter_table_lists_the_registry_in_order():
    from memo_utils import experiments

    readme = (ROOT / "README.md").read_text()
    listed = re.findall(r"^\| `book/(\w+)\.md` \|", readme, flags=re.M)
    assert listed == list(experiments.CHAPTERS)


def test_every_test_the_readme_names_exists():
    """The guide's checklist names the tests that demand each step: they must exist."""
    named = set(re.findall(r"`(test_\w+)`", (ROOT / "README.md").read_text()))
    defined = {
        m for p in (ROOT / "tests").glob("test_*.py") for m in re.findall(r"^def (test_\w+)", p.read_text(), re.M)
    }
    assert named and named <= defined, named - defined


def test_the_gpu_script_prints_its_usage_on_help_and_runs_nothing(tmp_path):
    import subprocess

    env = {"PATH": "/usr/bin:/bin", "PYTHON": str(tmp_path / "no-python-here")}  # any Python call would fail
    for args in (["--help"], []):
        done = subprocess.run(
            ["bash", str(ROOT / "scripts" / "gpu_session.sh"), *args], env=env, capture_output=True, text=True
        )
        assert done.returncode == 0 and "make book PROFILE=gpu" in done.stdout, done.stderr
