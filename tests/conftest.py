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
