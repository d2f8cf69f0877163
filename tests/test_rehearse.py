"""A rehearsal slices a cell too large for this machine (fewer models at once), and names one that no slice fits."""

from memo_utils import experiments, rehearse
from memo_utils.__main__ import main
from memo_utils.engine import memory
from memo_utils.framework import plan

CELL = "mlp/dataset=real"


def test_every_declared_count_is_a_parameter_of_its_chapter():
    for name, counts in rehearse.MODELS_AT_ONCE.items():
        assert name in experiments.CHAPTERS, name
        assert set(counts) <= set(experiments.get(name).param_names), (name, counts)


def test_a_slice_keeps_its_cell_and_shrinks_only_counts_that_lower_the_estimate():
    chapter = experiments.get("turn_over_dropout")
    cfg = chapter.config("smoke", seeds=[0, 1, 2, 3])
    scores, second_half = chapter.part("scores"), {"labels": "corrupted", "seed_half": 1}
    assert rehearse.slice_to_fit(chapter, scores, second_half, cfg, free=1)[0]["seeds"] == [0, 1]  # [0]: no half 1
    validation = chapter.part("validation")  # one model at a time in its estimate: nothing to gain by shrinking
    assert rehearse.slice_to_fit(chapter, validation, {"seed_half": 0}, cfg, free=1)[0] is cfg


def _estimate(n_runs):
    chapter = experiments.get("easy_examples")
    part = chapter.part("mlp")
    return part.memory(chapter.part_config(part, chapter.config("smoke", n_runs=n_runs)), {"dataset": "real"})


def test_a_cell_too_large_for_this_machine_is_rehearsed_as_a_slice(monkeypatch, capsys, isolated_results):
    monkeypatch.setattr(memory, "free", lambda device: plan.HEADROOM * _estimate(4))  # 4 of smoke's 8 runs fit
    assert main(["run", "easy_examples", "--profile", "smoke", "--rehearse", "--part", CELL, "--device", "cpu"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith(f"easy_examples/{CELL}: rehearsed a slice (n_runs 8 -> 4) in "), lines
    assert "stopped after 2 of them" in lines[0]
    assert f"for the whole cell {_estimate(8) / 2**30:,.2f} GiB, for the slice {_estimate(4) / 2**30:,.2f}" in lines[0]
    assert lines[1].endswith("0 cell(s) failed or do not fit, 1 rehearsed as a slice (fewer models at once)")
    assert not isolated_results.exists() or not list(isolated_results.rglob("*"))


def test_a_cell_that_no_slice_fits_is_named_and_fails(monkeypatch, capsys):
    monkeypatch.setattr(memory, "free", lambda device: plan.HEADROOM * _estimate(1) - 1)
    assert main(["run", "easy_examples", "--profile", "smoke", "--rehearse", "--part", CELL, "--device", "cpu"]) == 1
    captured = capsys.readouterr()
    assert captured.out.startswith(f"easy_examples/{CELL}: does not fit here: at least ")
    assert "(even as a slice, n_runs 8 -> 1: " in captured.out
    assert "error: --rehearse: 1 cell(s) failed or do not fit here" in captured.err
