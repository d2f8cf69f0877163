from pathlib import Path

import pytest
import torch

torch.set_num_threads(1)  # two OpenMP threads on two shared cores are often far slower than one
ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"


@pytest.fixture(autouse=True)
def isolated_results(tmp_path, monkeypatch):
    """Every test writes its cache entries to its own folder, never to the repository's results/."""
    monkeypatch.setenv("MEMO_RESULTS_DIR", str(tmp_path / "results"))
    monkeypatch.delenv("MEMO_RESULTS_BASE", raising=False)  # nor read the committed ones through make lab's base
    return tmp_path / "results"


def fake_results(chapter, entries, label="test data"):
    """A chapter's :class:`Results` from hand-made arrays, as the cache would give them: ``entries`` is
    [(part name, cell, {array name: array})]; each entry carries its part's dims and a data label. Tests of a
    chapter's evidence build the arrays a claim reads and check the verdict they should give."""
    from memo_utils.framework import cache
    from memo_utils.framework.chapter import Results

    def meta(part):
        return {
            "dims": {k: list(v) for k, v in chapter.part(part).dims.items()},
            "config": {"data": {"data": {"label": label}}},
        }

    return Results([(part, cell, cache.Result(arrays, meta(part), True)) for part, cell, arrays in entries])
