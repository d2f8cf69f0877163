"""Costs: the paper estimate extrapolates measured gpu time by the ratio of work; timings are per profile."""

import pytest

from memo_utils import experiments
from memo_utils.bench import targets
from memo_utils.engine import devices
from memo_utils.framework import cache, costs


def test_paper_estimate_scales_cached_gpu_results_by_the_ratio_of_work(monkeypatch):
    chapter = experiments.get("loss_sensitivity")
    gpu, paper = chapter.config("gpu"), chapter.config("paper")
    assert costs.paper_estimate_seconds(chapter) is None  # nothing cached: pending
    monkeypatch.setattr(devices, "name", lambda device: "NVIDIA H100 80GB HBM3")
    for part, cell in chapter.cells(gpu):
        cache.cached(*chapter.key(part, cell, gpu), lambda: {"x": [1.0]}, device="cuda")
    seconds = sum(hit.meta["wall_time_s"] for _, hit in chapter.status(gpu))
    (part,) = chapter.parts
    ratio = sum(part.work(paper, c) for _, c in chapter.cells(paper)) / sum(
        part.work(gpu, c) for _, c in chapter.cells(gpu)
    )
    assert costs.paper_estimate_seconds(chapter) == pytest.approx(seconds * ratio, rel=1e-6)


def test_before_a_gpu_run_the_larger_profiles_are_scaled_from_the_cpu_profiles_single_core_time(monkeypatch):
    from memo_utils import report

    chapter = experiments.get("loss_sensitivity")
    cpu = chapter.config("cpu")
    assert costs.core_estimate(chapter, "paper") is None  # nothing cached: nothing to scale
    assert "neither the gpu nor the cpu profile's are cached" in costs.paper_estimate_sentence(chapter)
    for part, cell in chapter.cells(cpu):
        cache.cached(*chapter.key(part, cell, cpu), lambda: {"x": [1.0]}, device="cpu")
    seconds = sum(hit.meta["wall_time_s"] for _, hit in chapter.status(cpu))
    (part,) = chapter.parts
    work = lambda profile: sum(part.work(chapter.config(profile), c) for _, c in chapter.cells(chapter.config(profile)))
    estimate, unrated = costs.core_estimate(chapter, "paper")
    assert unrated == [] and estimate == pytest.approx(seconds * work("paper") / work("cpu"), rel=1e-6)
    sentence = costs.paper_estimate_sentence(chapter)
    assert "CPU-core hours" in sentence and "assumed 100-1,000x speed-up" in sentence
    row = [line for line in report.estimate_markdown().splitlines() if line.startswith("| loss_sensitivity")][0]
    assert row.count("*estimate*") == 2 and "of one GPU" in row


def test_wall_times_are_kept_per_profile_so_one_never_rewrites_another(isolated_results):
    costs.record_wall_time("cpu", "easy_examples", 100.0, "papermill")
    before = (isolated_results / "timings" / "cpu.json").read_bytes()
    costs.record_wall_time("smoke", "easy_examples", 5.0, "papermill")
    assert (isolated_results / "timings" / "cpu.json").read_bytes() == before
    recorded = costs.recorded_wall_times()
    assert recorded["cpu"]["easy_examples"]["papermill"]["seconds"] == 100.0
    assert recorded["smoke"]["easy_examples"]["papermill"]["seconds"] == 5.0


def test_the_engine_targets_read_pending_without_a_gpu_benchmark_and_met_or_missed_with_one():

    cpu = {"device": "cpu", "quick": True, "rows": [{"case": "mlp", "speedup": 50.0}]}
    assert targets.targets_markdown([cpu]).count("pending a device") == len(targets.BENCH_TARGETS)
    split = {"busy": 0.4, "gemm": 0.3, "convolution": 0.0, "elementwise": 0.7}
    gpu = {
        "device": "NVIDIA H100",
        "rows": [
            {"case": "mlp", "variant": "reference loop", "speedup": 1.0, "roofline_pct": 99.0},
            {
                "case": "mlp",
                "variant": "batched ensemble, float32",
                "speedup": 7.5,
                "roofline_pct": 60.0,
                "profile": split,
            },
            {"case": "mlp", "variant": "batched ensemble, bf16 autocast", "speedup": 9.0},
            {"case": "mlp", "variant": "batched ensemble, fused SGD step", "speedup": 8.0, "roofline_pct": 60.0},
            {"case": "vgg11", "variant": "stacked", "speedup": 2.0, "profile": split},
        ],
    }
    lines = targets.targets_markdown([cpu, gpu]).splitlines()
    assert "7.5x (met, NVIDIA H100)" in lines[2]  # neither bf16 nor the fused step: no chapter trains with them
    # the reference loop's share of the roofline is not the batched MLP's; a missed target says where the time went
    assert "60% (missed, NVIDIA H100; device busy 40%, of that GEMM 30%" in lines[3]
    assert "2x (missed, NVIDIA H100; device busy 40%" in lines[4]
    assert "no such row" in lines[5]


def test_every_benchmark_time_names_its_unit():
    from memo_utils.bench.table import format_table

    rows = [
        {"case": "mlp", "variant": "loop", "k": 1, "seconds_per_model_epoch": 2.5, "speedup": 1.0},
        {"case": "per-example", "variant": "vmap", "k": 1, "seconds_per_batch": 0.125, "speedup": 3.0},
        {"case": "unrolled", "variant": "R-pass", "k": 1, "seconds_per_step": 0.001, "speedup": 2.0},
    ]
    body = format_table(rows).splitlines()[2:]
    assert [line.split(" | ")[3] for line in body] == ["2.5 s per model-epoch", "0.125 s per batch", "0.001 s per step"]


def test_conv_macs_agree_with_torchs_flop_counter():
    """The unit the VGG parts state their work in: half the FLOPs torch counts for one forward pass (one example)."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    from memo_utils.engine.models import conv_macs, vgg

    model = vgg("vgg11", width=0.125).eval()  # narrow: the count, not the size, is under test
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        model(torch.zeros(1, 3, 32, 32))
    assert 2 * conv_macs(model) == counter.get_total_flops()


def test_plan_prices_a_part_no_profile_measured_at_the_data_sheet_peak(isolated_results):
    from memo_utils.framework import plan
    from memo_utils.framework.chapter import cell_id

    chapter = experiments.get("turn_over_dropout")
    cfg = chapter.config("paper")
    plans = {p.cell: p for p in plan.plan(chapter, cfg)}  # an empty cache: no measured rate anywhere
    for part, cell in chapter.cells(cfg):
        p = plans[cell_id(part.name, cell)]
        if part.flops_per_work is None:
            assert p.seconds is None and p.basis == "no measured rate for this part"
        else:
            flops = part.flops_per_work * part.work(cfg, cell)
            assert p.basis == plan.AT_PEAK and p.seconds == pytest.approx(flops / plan.DATA_SHEET_FLOPS)
    t = plan.totals(list(plans.values()), gpus=1)
    at_peak = [p for p in plans.values() if p.seconds is not None]
    assert t["at_peak"] == len(at_peak) > 0 and t["unrated"] == len(plans) - len(at_peak)
    assert t["gpu_hours"] == pytest.approx(sum(p.seconds * p.gpu_fraction for p in at_peak) / 3600)


def test_given_a_measured_throughput_plan_predicts_each_committed_cpu_cell_within_a_factor_of_ten(monkeypatch):
    """A plan's estimate is counted work times a throughput. Given the throughput of a part's other cells (committed
    cpu results, measured on one core of this machine), it predicts each cell's committed time within 10x either
    way. The work counts leave out fixed costs (the narrowest capacity networks: 6.5x slower than predicted) and
    early stopping (capacity's probe: 6.9x); committed times, not times measured in the test, so that a loaded
    machine cannot fail it."""
    from memo_utils.framework import plan
    from memo_utils.framework.chapter import cell_id

    chapters = experiments.all_chapters()
    with monkeypatch.context() as committed:
        committed.delenv("MEMO_RESULTS_DIR")
        measured = {c.name: costs.cached_metas(c, c.config("cpu")) for c in chapters}
    assert all(measured.values())  # the book renders every chapter from these
    ratios = []
    for chapter in chapters:  # in this test's empty results folder every cell is missing, so planned
        cfg, metas = chapter.config("cpu"), measured[chapter.name]
        per_unit = {
            p.cell: p.seconds for p in plan.plan(chapter, cfg, known={q.name: (1.0, "") for q in chapter.parts})
        }
        for part in chapter.parts:
            cells = [cell_id(part.name, c) for p, c in chapter.cells(cfg) if p is part]
            for cid in cells if len(cells) > 1 else ():
                others = [o for o in cells if o != cid]
                rate = sum(metas[o]["wall_time_s"] for o in others) / sum(per_unit[o] for o in others)
                ratios.append(metas[cid]["wall_time_s"] / (rate * per_unit[cid]))
    assert len(ratios) > 50 and all(0.1 < r < 10 for r in ratios), sorted(ratios)
