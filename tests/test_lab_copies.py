"""make lab's working copies (scripts/lab.py), without a browser: what Lab's MyST renderer cannot resolve is
rewritten, a save by Lab leaves an unedited copy byte for byte, and what counts as edited ignores the front
matter Lab rewrites."""

import importlib.util
import json
import re

import pytest
from conftest import ROOT

_spec = importlib.util.spec_from_file_location("lab", ROOT / "scripts" / "lab.py")
lab = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(lab)


def test_citations_become_the_books_labels_and_page_links_name_their_files(tmp_path):
    lab.working_copies(tmp_path)
    refs = lab.references()
    cited = set()
    for source in (ROOT / "book").glob("*.md"):
        text, copy = source.read_text(), (tmp_path / source.name).read_text()
        for keys in lab.CITE.findall(text):
            cited.update(k.strip() for k in keys.split(","))
        assert "{cite" not in copy and "{bibliography}" not in copy, source.name
        assert not re.search(r"\]\((claims|reproducibility|intro)\)", copy), source.name
    assert cited and cited <= set(refs)
    intro = (tmp_path / "intro.md").read_text()
    assert "([Arpit et al., 2017](bibliography.md))" in intro and "](claims.md)" in intro
    listing = (tmp_path / "bibliography.md").read_text()
    assert listing.startswith("---\n") and "kernelspec" in listing  # opens without asking for a kernel
    assert all(f"**{label}.**" in listing for label, _ in refs.values())


def test_an_unknown_citation_key_is_refused_in_one_line():
    with pytest.raises(SystemExit, match=r"names nokey, not in references.bib"):
        lab.for_lab("see {cite}`nokey`", {}, set())


def test_a_save_by_lab_leaves_every_unedited_copy_byte_for_byte(tmp_path):
    """Lab saves through jupytext with the running kernel's spec; lab/jupytext.toml and the pages' own header
    make that a no-op."""
    from jupytext.sync_contentsmanager import TextFileContentsManager

    lab.working_copies(tmp_path)
    manager = TextFileContentsManager(root_dir=str(tmp_path))
    for copy in sorted(tmp_path.glob("*.md")):
        before = copy.read_bytes()
        notebook = manager.get(copy.name, content=True, type="notebook")["content"]
        notebook["metadata"]["kernelspec"] = {
            "display_name": "Python 3 (ipykernel)",
            "language": "python",
            "name": "python3",
        }
        notebook["metadata"]["language_info"] = {"name": "python", "version": "3.11"}
        manager.save({"type": "notebook", "format": "json", "content": notebook}, copy.name)
        assert copy.read_bytes() == before, copy.name
    assert lab.working_copies(tmp_path) == ([], [])


def test_front_matter_alone_never_makes_a_copy_edited_and_an_edit_is_kept(tmp_path):
    lab.working_copies(tmp_path)
    record = json.loads((tmp_path / ".copied.json").read_text())
    # intro: made from an older source, then saved by Lab with another header: unedited, so it follows the source
    older = "---\nkernelspec:\n  name: python3\n---\n\n# An older introduction\n"
    (tmp_path / "intro.md").write_text(older)
    record["intro.md"] = lab._digest("---\nother: header\n---\n\n# An older introduction\n")
    # claims: made from an older source, then edited by the reader: kept
    (tmp_path / "claims.md").write_text("---\n---\n\n# My own notes\n")
    record["claims.md"] = lab._digest("# An older claims page\n")
    (tmp_path / ".copied.json").write_text(json.dumps(record))
    copied, kept = lab.working_copies(tmp_path)
    assert copied == ["intro.md"] and kept == ["claims.md"]
    assert (tmp_path / "claims.md").read_text().endswith("# My own notes\n")
    assert (tmp_path / "intro.md").read_text() == lab.for_lab(
        (ROOT / "book" / "intro.md").read_text(), lab.references(), {p.stem for p in (ROOT / "book").glob("*.md")}
    )


def test_pages_run_in_lab_link_to_the_working_copies_files_and_the_book_to_its_pages(monkeypatch):
    from memo_utils.framework.links import page_link

    monkeypatch.delenv("MEMO_PAGE_LINKS", raising=False)
    assert page_link("claims") == "{doc}`claims`"
    monkeypatch.setenv("MEMO_PAGE_LINKS", lab.environment()["MEMO_PAGE_LINKS"])
    assert page_link("claims") == "[claims](claims.md)"
