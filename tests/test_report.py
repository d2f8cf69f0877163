"""The aggregate pages' text (memo_utils.report): the intro's headline and chapter list, the appendix's source."""

import json
import subprocess

from memo_utils import report
from memo_utils.framework import claims, environment


def test_a_papers_short_name_keeps_every_author_up_to_the_year():
    assert report._short(claims.PAPERS["liu2021"]) == "Liu, Lin & Jaggi 2021"
    assert report._short(claims.PAPERS["arpit2017"]) == "Arpit et al. 2017"
    assert "- {doc}`turn_over_dropout`: Understanding Memorization" in report.chapters_markdown()


def test_the_headline_is_computed_from_the_saved_claims(isolated_results):
    assert report.headline_markdown() == "No chapter has saved its verdicts yet."
    row = lambda i, verdict, **extra: {"id": f"c{i}", "paper": "liu2021", "verdict": verdict, "why": "", **extra}
    rows = [row(1, claims.REPRODUCED), row(2, claims.INCONCLUSIVE), row(3, claims.NOT_REPRODUCED, beyond_paper=True)]
    folder = isolated_results / "claims" / "turn_over_dropout"
    folder.mkdir(parents=True)
    (folder / "cpu.json").write_text(json.dumps([{**r, "profile": "cpu"} for r in rows]))
    assert report.headline_markdown() == (
        "**Headline** (the cpu profile): Of the 2 claims of the papers this setting can test, 1 reproduced, "
        "0 not reproduced and 1 inconclusive. Beyond the papers: 1 not reproduced. "
        "Per paper: Liu, Lin & Jaggi 2021: **[Re] in part**."
    )


def test_the_appendix_names_the_commit_whether_it_was_modified_and_the_origin(tmp_path):
    git = lambda *args: subprocess.run(["git", *args], cwd=tmp_path, check=True, capture_output=True, text=True)
    assert environment.source(tmp_path) == {"commit": None, "modified": False, "repository": None}
    git("init", "-q")
    (tmp_path / "f").write_text("a")
    git("add", "f")
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "x")
    head = git("rev-parse", "HEAD").stdout.strip()
    assert environment.source(tmp_path) == {"commit": head, "modified": False, "repository": None}
    (tmp_path / "f").write_text("b")
    git("remote", "add", "origin", "https://example.org/memo.git")
    found = environment.source(tmp_path)
    assert found == {"commit": head, "modified": True, "repository": "https://example.org/memo.git"}
    assert report.source_markdown(found) == (
        f"Executed from commit `{head}` with uncommitted changes to tracked files; repository: "
        "`https://example.org/memo.git`."
    )
