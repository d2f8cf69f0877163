"""A rehearsal stops a cell after its first training steps and writes nothing; it slices a cell too large for this
machine (fewer models at once) and names one that no slice fits; it judges each chapter's claims on the profile's
grid at the smoke sizes; and every chapter's gpu profile rehearses here."""

import os
import subprocess
import sys

import pytest

from memo_utils import experiments, rehearse
from memo_utils.__main__ import main
from memo_utils.engine import memory
from memo_utils.framework import claims, plan
from memo_utils.framework.chapter import cell_id

CELL = "mlp/dataset=real"


def test_every_declared_count_is_a_parameter_of_its_chapter():
    for name, counts in rehearse.MODELS_AT_ONCE.items():
        assert name in experiments.CHAPTERS, name
        assert set(counts) <= set(experiments.get(name).param_names), (name, counts)
    for declared in (rehearse.SCALED_LISTS, rehearse.PICKED, rehearse.MEASUREMENTS):
        for name, params in declared.items():
            named = {*params, *params.values()} if isinstance(params, dict) else set(params)
            assert named <= set(experiments.get(name).param_names), (name, named)


def test_a_slice_keeps_its_cell_and_shrinks_only_counts_that_lower_the_estimate():
    chapter = experiments.get("turn_over_dropout")
    cfg = chapter.config("smoke", seeds=[0, 1, 2, 3])
    scores, second_half = chapter.part("scores"), {"labels": "corrupted", "seed_half": 1}
    assert rehearse.slice_to_fit(chapter, scores, second_half, cfg, free=1)[0]["seeds"] == [0, 1]  # [0]: no half 1
    validation = chapter.part("validation")  # one model at a time in its estimate: nothing to gain by shrinking
    assert rehearse.slice_to_fit(chapter, validation, {"seed_half": 0}, cfg, free=1)[0] is cfg


def _work(chapter, cfg):
    return sum(part.work(chapter.part_config(part, cfg), cell) for part, cell in chapter.cells(cfg))


def _shape(chapter, cfg):
    """Each cell's part and coordinate names, in order: what a grid keeps when its sizes are scaled."""
    return [(part.name, tuple(cell)) for part, cell in chapter.cells(cfg)]


@pytest.mark.parametrize("profile", ["cpu", "gpu", "paper"])
def test_a_claims_rehearsal_keeps_the_profiles_grid_at_a_smoke_runs_cost(profile):
    for name in experiments.CHAPTERS:
        chapter = experiments.get(name)
        cfg, smoke = chapter.config(profile), chapter.config("smoke")
        small = rehearse.claims_config(chapter, cfg)
        scaled = rehearse.SCALED_LISTS.get(name, {})
        assert _shape(chapter, small) == _shape(chapter, cfg), name
        for param in chapter.param_names:  # every choice kept: what the claims select from
            if isinstance(cfg[param], list) and param not in scaled:
                assert small[param] == cfg[param], (name, param)
        assert chapter.replicate_seeds(small) == chapter.replicate_seeds(cfg), name
        assert _work(chapter, small) <= 20 * _work(chapter, smoke), name  # measured: 10x at most


def test_a_claims_rehearsal_keeps_the_grid_of_overridden_settings_too():
    capacity, easy = experiments.get("capacity"), experiments.get("easy_examples")
    off_the_grid = capacity.config("gpu", size_width=100)  # its dataset_size cells add train_size's own
    assert _shape(capacity, rehearse.claims_config(capacity, off_the_grid)) == _shape(capacity, off_the_grid)
    crowded = capacity.config("gpu", dataset_sizes=[49997, 49998, 49999])  # scaled, still below train_size
    assert rehearse.claims_config(capacity, crowded)["dataset_sizes"] == [297, 298, 299]
    assert rehearse.claims_config(easy, easy.config("gpu", seed=1000))["seed"] == 1000  # a moved replicate seed


def test_a_claims_rehearsal_judges_every_claim_and_writes_nothing(isolated_results):
    chapter = experiments.get("loss_sensitivity")
    line, outcome = rehearse.rehearse_claims(chapter.name, chapter.config("cpu"), "cpu", None)
    assert outcome == rehearse.REHEARSED, line
    assert line.startswith(f"loss_sensitivity: claims code reached: {len(chapter.claims)} claims judged on the cpu ")
    assert f"({len(chapter.cells(chapter.config('cpu')))} cells)" in line
    assert f"; {len(chapter.claims)} measured (" in line  # every claim has an estimate with an interval
    assert not isolated_results.exists() or not list(isolated_results.rglob("*"))


def test_claims_code_that_raises_is_reported_once_and_every_cell_still_rehearses(monkeypatch, capsys):
    def broken(*args, **kwargs):
        raise KeyError("no cell of part 'sensitivity' matches {'seed': 9}")

    monkeypatch.setattr(claims, "judge", broken)
    assert main(["run", "loss_sensitivity", "--profile", "smoke", "--rehearse", "--device", "cpu"]) == 1
    captured = capsys.readouterr()
    lines = captured.out.splitlines()
    cells = [line for line in lines if line.startswith("loss_sensitivity/")]
    assert len(cells) == 2 and all("rehearsed in" in line for line in cells), lines
    assert (
        lines.count(
            "loss_sensitivity: claims rehearsal failed: KeyError: \"no cell of part 'sensitivity' matches {'seed': 9}\""
        )
        == 1
    ), lines
    assert "2 cell(s) and claims code of 1 chapter(s) rehearsed: 1 failed, 0 cell(s) do not fit here" in lines[-1]
    assert "error: --rehearse: 1 failed (see the lines above)" in captured.err


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
    assert lines[1].endswith(
        "1 cell(s) and claims code not rehearsed (--part): 0 failed, 0 cell(s) do not fit here, 1 cell(s) "
        "rehearsed as a slice (fewer models at once)"
    )
    assert not isolated_results.exists() or not list(isolated_results.rglob("*"))


def test_a_cell_that_no_slice_fits_is_named_and_exits_3(monkeypatch, capsys):
    """3, not 1: on a cluster, a cell too large for any GPU must not stop the job (the run reports it too)."""
    monkeypatch.setattr(memory, "free", lambda device: plan.HEADROOM * _estimate(1) - 1)
    assert main(["run", "easy_examples", "--profile", "smoke", "--rehearse", "--part", CELL, "--device", "cpu"]) == 3
    captured = capsys.readouterr()
    assert captured.out.startswith(f"easy_examples/{CELL}: does not fit here: at least ")
    assert "(even as a slice, n_runs 8 -> 1: " in captured.out
    assert "error: --rehearse: 1 cell(s) do not fit here and none failed: exit 3" in captured.err


def test_a_cnn_loop_that_ticks_per_epoch_stops_after_two_optimizer_steps(capsys):
    """train_classifier ticks its progress once per epoch; the rehearsal stops it at its second optimizer step."""
    import torch

    from memo_utils.engine.models import SmallAlexNet
    from memo_utils.engine.training import train_classifier
    from memo_utils.progress import RehearsalDone

    model = SmallAlexNet(width=4)
    seen = []
    model.register_forward_hook(lambda *_: seen.append(1))
    x, y = torch.randn(64, 3, 32, 32), torch.randint(0, 10, (64,))
    with pytest.raises(RehearsalDone, match="optimizer steps: stopped after 2"), rehearse.step_limit(2):
        train_classifier(model, x, y, epochs=3, batch_size=8, lr=0.01)
    assert len(seen) == 2  # two minibatches of the first epoch, not an epoch's eight


def test_stand_in_data_have_the_datasets_shapes_and_say_what_they_are():
    source, images = rehearse.stand_in("cifar10", 100)
    assert images.x_train.shape == (50000, 32, 32, 3) and images.x_test.shape == (10000, 32, 32, 3)
    assert images.y_train.max() < 10 and "stand-in" in images.label and source.origin == "stand-in"


def largest_cell_per_part(chapter, cfg):
    """Each part's cell with the largest memory estimate: the one most likely not to fit."""
    cells = {}
    for part, cell in chapter.cells(cfg):
        estimate = part.memory(chapter.part_config(part, cfg), cell)
        if part.name not in cells or estimate > cells[part.name][0]:
            cells[part.name] = (estimate, cell_id(part.name, cell))
    return [cid for _, cid in cells.values()]


@pytest.mark.slow  # each part's largest gpu cell at its real sizes: about 9 minutes here (the CSR cells 3.5 of them)
@pytest.mark.parametrize("name", experiments.CHAPTERS)
def test_the_gpu_profile_rehearses_here_on_stand_in_data(name, tmp_path):
    """The GPU path cannot rot while no GPU is at hand: each part's largest gpu cell allocates its networks at the
    real sizes (sliced where this machine is too small) and takes its first steps on stand-in data."""
    chapter = experiments.get(name)
    cells = largest_cell_per_part(chapter, chapter.config("gpu"))
    args = ["run", name, "--profile", "gpu", "--rehearse", "--stand-in-data", *[f"--part={c}" for c in cells]]
    env = dict(os.environ, MEMO_RESULTS_DIR=str(tmp_path), MEMO_PROGRESS="off", OMP_NUM_THREADS="1")
    done = subprocess.run([sys.executable, "-m", "memo_utils", *args], capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    lines = [line for line in done.stdout.splitlines() if line.startswith(f"{name}/")]
    assert len(lines) == len(cells) and all(" on stand-in data in " in line for line in lines), lines
    assert not list(tmp_path.rglob("meta.json"))  # wrote nothing


@pytest.mark.slow  # every chapter's gpu and paper grids at the smoke sizes: about 2.5 minutes here
@pytest.mark.parametrize("profile", ["gpu", "paper"])
@pytest.mark.parametrize("name", experiments.CHAPTERS)
def test_the_gpu_and_paper_profiles_claims_code_is_reached_here(name, profile, isolated_results):
    """What a stopped cell cannot show: the evidence finds every cell and seed of the profile's grid and measures
    every claim (here at the smoke sizes, on the data a smoke run reads, where the verdicts mean nothing)."""
    chapter = experiments.get(name)
    line, outcome = rehearse.rehearse_claims(name, chapter.config(profile), "cpu", None)
    assert outcome == rehearse.REHEARSED, line
    assert f"claims code reached: {len(chapter.claims)} claims judged on the {profile} profile's grid" in line
