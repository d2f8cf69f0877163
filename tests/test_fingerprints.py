"""A part's results cannot change without its version: its code's fingerprint is recorded beside it."""
import importlib
import json
import sys
import textwrap

import pytest

from memo_utils import experiments, fingerprints
from memo_utils.chapter import Part


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

            def scaled(x):
                """Why: the toy's only helper."""
                return SCALE * x

            def unrelated():
                return 0
            ''',
        "exp.py": '''
            from . import helpers

            def compute(cfg, cell, inputs, device):
                return {"y": helpers.scaled(cfg["x"])}  # a comment
            ''',
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
    write("helpers.py", files["helpers.py"].replace("return 0", "return 1"))
    assert fingerprint() == original  # nor does code the part never reaches
    write("helpers.py", files["helpers.py"].replace("SCALE = 2", "SCALE = 3"))
    assert fingerprint() != original  # a constant that a reached helper uses does


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
