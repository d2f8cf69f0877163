"""A part's results cannot change without its version: its code's fingerprint is recorded beside it."""

import importlib
import json
import sys
import textwrap

import numpy as np
import pytest

from memo_utils import experiments
from memo_utils.framework import fingerprints
from memo_utils.framework.chapter import Part


def test_every_parts_version_is_current_with_its_code():
    problems = [f"{part}: {problem}" for part, problem in fingerprints.status(experiments.all_chapters()) if problem]
    assert not problems, "\n".join(problems)


@pytest.fixture
def toy_package(tmp_path, monkeypatch):
    """A package ``toy`` whose part ``compute`` uses one helper of a sibling module."""
    root = tmp_path / "toy"
    root.mkdir()
    (root / "__init__.py").write_text("")
    files = {
        "helpers.py": '''
            SCALE = 2
            OFFSET = 1
            OFFSET = OFFSET + 1

            def scaled(x):
                """Why: the toy's only helper."""
                if x is None:
                    raise ValueError(f"x={x} is not allowed: give a number")
                assert x == x, "x is not NaN"
                return SCALE * x + OFFSET

            def unrelated():
                return 0
            ''',
        "exp.py": """
            from . import helpers

            def compute(cfg, cell, inputs, device, source=None):
                return {"y": helpers.scaled(cfg["x"]) + (source or Box.source)}  # a comment

            class Box:
                source: int = 0  # a field, not the function below

            def source():
                return 2
            """,
    }
    monkeypatch.syspath_prepend(str(tmp_path))

    def write(name, text):
        (root / name).write_text(textwrap.dedent(text))
        fingerprints._module_info.cache_clear()
        for module in [m for m in sys.modules if m == "toy" or m.startswith("toy.")]:
            del sys.modules[module]
        importlib.invalidate_caches()

    for name, text in files.items():
        write(name, text)

    def fingerprint():
        return fingerprints.source_fingerprint(Part("p", 1, compute=importlib.import_module("toy.exp").compute))

    yield files, write, fingerprint
    fingerprints._module_info.cache_clear()


def test_the_fingerprint_follows_the_code_a_part_reaches_and_nothing_else(toy_package):
    files, write, fingerprint = toy_package
    original = fingerprint()
    write("helpers.py", files["helpers.py"].replace('"""Why: the toy\'s only helper."""', '"""Reworded."""'))
    write("exp.py", files["exp.py"].replace("# a comment", "# another comment"))
    assert fingerprint() == original  # docstrings and comments do not count
    write(
        "helpers.py",
        files["helpers.py"]
        .replace("is not allowed: give a number", "must be a number")
        .replace('"x is not NaN"', '"a NaN"'),
    )
    assert fingerprint() == original  # nor the message text of a raised error or an assertion
    write("helpers.py", files["helpers.py"].replace("return 0", "return 1"))
    write("exp.py", files["exp.py"].replace("return 2", "return 3"))
    assert fingerprint() == original  # nor code the part never reaches, a function named like a parameter or field
    write("exp.py", files["exp.py"])
    changed = {
        "a constant it uses": ("SCALE = 2", "SCALE = 3"),
        "the first of two assignments": ("OFFSET = 1", "OFFSET = 5"),
        "an operator": ("SCALE * x + OFFSET", "SCALE * x - OFFSET"),
        "a called function": ("return SCALE * x + OFFSET", "return abs(SCALE * x) + OFFSET"),
        "the condition of a raised error": ("if x is None:", "if x is not None:"),
    }
    for what, (before, after) in changed.items():
        write("helpers.py", files["helpers.py"].replace(before, after))
        assert fingerprint() != original, what
    write("helpers.py", files["helpers.py"])


@pytest.mark.parametrize(
    "imported,used",
    [
        ("from toy.helpers import scaled", "scaled"),
        ("from .helpers import scaled", "scaled"),
        ("from toy import helpers", "helpers.scaled"),
        ("import toy.helpers as h", "h.scaled"),
        ("import toy.helpers", "toy.helpers.scaled"),
    ],
)
def test_imports_are_followed_whether_relative_or_absolute(toy_package, imported, used):
    files, write, fingerprint = toy_package
    write("exp.py", files["exp.py"].replace("from . import helpers", imported).replace("helpers.scaled", used))
    original = fingerprint()
    write("helpers.py", files["helpers.py"].replace("SCALE = 2", "SCALE = 3"))
    assert fingerprint() != original


def test_recording_a_changed_part_needs_bit_identical_results_unless_its_version_is_bumped(tmp_path, monkeypatch):
    chapter = experiments.get("easy_examples")
    part = chapter.part("mlp")
    record = tmp_path / "fingerprints.json"
    record.write_text(json.dumps({"easy_examples/mlp": {"version": part.version, "source": "an older fingerprint"}}))
    monkeypatch.setattr(fingerprints, "RECORD", record)
    monkeypatch.setattr(fingerprints, "refactor_check", lambda *a, **k: ["cpu {'dataset': 'real'}: results differ"])
    assert fingerprints.record(chapter, part) == ["cpu {'dataset': 'real'}: results differ"]
    assert json.loads(record.read_text())["easy_examples/mlp"]["source"] == "an older fingerprint"
    assert "its code changed but its version" in dict(fingerprints.status([chapter]))["easy_examples/mlp"]
    monkeypatch.setattr(fingerprints, "refactor_check", lambda *a, **k: [])
    assert fingerprints.record(chapter, part) == []
    assert dict(fingerprints.status([chapter]))["easy_examples/mlp"] is None
    record.write_text(json.dumps({"easy_examples/mlp": {"version": part.version - 1, "source": "old"}}))
    monkeypatch.setattr(fingerprints, "refactor_check", lambda *a, **k: pytest.fail("a new version needs no check"))
    assert fingerprints.record(chapter, part) == []


def test_the_refactor_check_refuses_a_changed_value_dtype_or_shape_at_every_profile_it_checks(isolated_results):
    from memo_utils.framework import profiles
    from memo_utils.framework.chapter import Chapter, Param

    produce = {"y": lambda size: np.linspace(0, 1, size, dtype=np.float32)}
    part = Part("values", 1, compute=lambda cfg, cell, inputs, device: {"y": produce["y"](cfg["size"])})
    toy = Chapter(
        "toy",
        paper="arpit2017",
        parts=(part,),
        claims=(),
        evidence=lambda results, cfg: None,
        params=(Param("size", profiles.positive_int, 4, paper="-", parts=("values",), by_profile={"smoke": 3}),),
    )
    for profile in ("smoke", "cpu"):  # the references: what the code computed before the change
        toy.run(toy.config(profile), device="cpu")
    assert fingerprints.refactor_check(toy, part) == []
    changes = {
        "a value one ulp away": lambda y: np.nextafter(y, np.float32(2)),
        "a dtype": lambda y: y.astype(np.float64),
        "a shape": lambda y: y[None],
    }
    for what, change in changes.items():
        for profile, size in (("smoke", 3), ("cpu", 4)):  # changed at one profile only
            produce["y"] = lambda n, change=change, size=size: (
                change(np.linspace(0, 1, n, dtype=np.float32)) if n == size else np.linspace(0, 1, n, dtype=np.float32)
            )
            mismatches = fingerprints.refactor_check(toy, part)
            assert [m.split(" ")[0] for m in mismatches] == [profile], (what, profile, mismatches)
