"""The command line that GPU machines use: bad input is one line, the benchmark runs end to end."""

import json
import os
import subprocess
import sys

import pytest
from conftest import ROOT

pytestmark = pytest.mark.slow  # every test starts python -m memo_utils in a subprocess


def _run(*args, env_extra=None, timeout=300):
    env = dict(os.environ, OMP_NUM_THREADS="1", **(env_extra or {}))
    return subprocess.run(
        [sys.executable, "-m", "memo_utils", *args], capture_output=True, text=True, cwd=ROOT, env=env, timeout=timeout
    )


def test_an_unknown_profile_is_one_line_on_stderr_and_exit_code_2():
    done = _run("run", "easy_examples", "--profile", "huge")
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "error: profile='huge' is not allowed: choose one of smoke, cpu, gpu, paper"
    ]


def test_an_unknown_chapter_is_refused():
    done = _run("run", "dropout", "--profile", "smoke")
    assert done.returncode == 2 and "chapter='dropout' is not allowed" in done.stderr


def test_a_bad_device_or_parameter_is_one_line_not_a_traceback():
    for args, message in (
        (("--device", "quantum"), "error: device='quantum' is not allowed"),
        (("--set", "lr=1e999"), "error: lr=inf is not allowed: must be a finite positive number"),
        (("--set", "widht=3"), "error: widht is not a parameter of easy_examples"),
    ):
        done = _run("run", "easy_examples", "--profile", "smoke", *args)
        assert done.returncode == 2 and done.stderr.strip().splitlines()[0].startswith(message), done.stderr
        assert len(done.stderr.strip().splitlines()) == 1


def test_run_takes_several_chapters_or_all_and_a_rerun_computes_nothing(tmp_path):
    env = {"MEMO_RESULTS_DIR": str(tmp_path)}
    done = _run("run", "loss_sensitivity", "easy_examples", "--profile", "smoke", env_extra=env)
    assert done.returncode == 0, done.stderr
    summaries = [json.loads(line)["chapter"] for line in done.stdout.splitlines() if line.startswith("{")]
    assert summaries == ["loss_sensitivity", "easy_examples"]  # each chapter judged, in the order given
    assert all(f"{name}: " in done.stdout and f"{name}/" in done.stdout for name in summaries)
    again = _run("run", "easy_examples", "loss_sensitivity", "--profile", "smoke", env_extra=env)
    cells = [line for line in again.stdout.splitlines() if "/" in line.split(":")[0]]
    assert again.returncode == 0 and cells and all(": cached (" in line for line in cells), again.stdout
    refused = _run("run", "loss_sensitivity", "easy_examples", "--profile", "smoke", "--part", "mlp")
    assert refused.returncode == 2 and "--part is not allowed with several chapters" in refused.stderr
    paper = _run("run", "all", "--profile", "paper")  # every chapter's paper profile still needs --force
    assert paper.returncode == 2 and "profile='paper' is not run here" in paper.stderr


def test_the_paper_profile_needs_force_on_the_command_line():
    done = _run("run", "loss_sensitivity", "--profile", "paper")
    assert done.returncode == 2 and "profile='paper' is not run here" in done.stderr and "--force" in done.stderr


def test_parts_lists_the_cells_and_run_computes_only_the_chosen_one(tmp_path):
    env = {"MEMO_RESULTS_DIR": str(tmp_path)}
    small = ("--profile", "smoke", "--set", "n_runs=2", "--set", "train_size=300", "--set", "n_eval=50")
    listed = _run("parts", "easy_examples", *small, env_extra=env)
    assert (
        listed.stdout.splitlines()[0]
        == "# easy_examples, profile smoke; data: CIFAR-10 (exact first 4,000), MNIST (bundled sample)"
    )
    assert listed.returncode == 0 and listed.stdout.splitlines()[1:] == [
        "mlp/dataset=real: missing",
        "mlp/dataset=randX: missing",
        "mlp/dataset=randY: missing",
        "cnn/seed=0: missing",
    ]
    done = _run("run", "easy_examples", *small, "--part", "mlp/dataset=randX", env_extra=env)
    assert done.returncode == 0, done.stderr
    assert [line.split(":")[0] for line in done.stdout.splitlines()[:-1]] == ["easy_examples/mlp/dataset=randX"]
    status = _run("parts", "easy_examples", *small, env_extra=env).stdout.splitlines()[1:]
    assert status[1].startswith("mlp/dataset=randX: cached") and status[0] == "mlp/dataset=real: missing"
    bad = _run("run", "easy_examples", *small, "--part", "mlp/dataset=randZ", env_extra=env)
    assert bad.returncode == 2 and "part='mlp/dataset=randZ' is not allowed" in bad.stderr


def test_run_computes_into_the_cache_then_reads_it(tmp_path):
    env = {"MEMO_RESULTS_DIR": str(tmp_path)}
    args = ("run", "loss_sensitivity", "--profile", "smoke", "--set", "n_examples=60", "--set", "steps=[20]")
    first, second = _run(*args, env_extra=env), _run(*args, env_extra=env)
    assert first.returncode == 0 and "computed from MNIST" in first.stdout, first.stderr
    assert second.returncode == 0 and ": cached (MNIST" in second.stdout
    assert (tmp_path / "loss_sensitivity" / "sensitivity").is_dir()


def test_quick_benchmark_reports_a_speedup_and_a_profile_for_every_case(tmp_path):
    out = tmp_path / "results-cpu.json"
    done = _run("bench", "--quick", "--trace", "--out", str(out), timeout=1200)  # minutes on a loaded machine
    assert done.returncode == 0, done.stderr
    assert "Warning" not in done.stderr, done.stderr
    report = json.loads(out.read_text())
    cases = {row["case"].split(" ")[0].rstrip(",") for row in report["rows"]}
    assert cases == {"mlp", "vgg11", "small", "per-example", "unrolled"}
    for case in {row["case"] for row in report["rows"]}:  # the first row of a case is its reference
        rows = [row for row in report["rows"] if row["case"] == case]
        assert rows[0]["speedup"] == 1.0 and all(0 < row["speedup"] < 1000 for row in rows), rows
    assert report["quick"] is True and report["torch"]
    assert any(row["case"].startswith("mlp, batch ") and row["tflops"] > 0 for row in report["rows"])
    compared = [row for row in report["rows"] if "max_abs_diff_vs_eager" in row]
    graphed = [row for row in compared if "graph" in row["variant"]]  # emulated on the CPU: exactly equal
    assert len(graphed) == 5 and all(row["max_abs_diff_vs_eager"] == 0 for row in graphed)  # MLP 2, CNN 2, unrolled 1
    fused = [row for row in compared if "fused" in row["variant"]]  # another summation order: rounding only
    assert len(fused) == 2 and all(row["max_abs_diff_vs_eager"] < 1e-4 for row in fused)
    profiles = (tmp_path / "profile-cpu.txt").read_text()
    assert profiles.count("\n== ") + profiles.startswith("== ") == len(report["rows"])
    assert "Self CPU time total" in profiles
    assert all(0 < row["profile"]["busy"] for row in report["rows"])  # every row carries its time split
    assert report["ceilings"]["copy_gbps"] > 0 and report["peaks"]["source"] == "the ceilings measured in this run"
    modelled = [row for row in report["rows"] if row.get("gbps")]  # the MLP rows but bf16: placed on the roofline
    assert len(modelled) == 8 and all(
        row["bound"] in ("memory", "compute") and row["roofline_pct"] > 0 for row in modelled
    )


def test_jobs_computes_the_missing_cells_in_worker_processes_with_the_same_results(tmp_path):
    small = (
        "--profile",
        "smoke",
        "--set",
        "n_runs=2",
        "--set",
        "train_size=300",
        "--set",
        "n_eval=50",
        "--part",
        "mlp",
    )
    one, two = tmp_path / "one", tmp_path / "two"
    assert _run("run", "easy_examples", *small, env_extra={"MEMO_RESULTS_DIR": str(one)}).returncode == 0
    done = _run("run", "easy_examples", *small, "--jobs", "2", env_extra={"MEMO_RESULTS_DIR": str(two)})
    assert done.returncode == 0, done.stderr
    assert sum(line.startswith("{") for line in done.stdout.splitlines()) == 1  # one summary, not one per worker
    main_process = done.stdout.splitlines()[-4:-1]  # after the workers' own lines, before the JSON summary
    assert all(line.startswith("easy_examples/mlp/") and ": cached (MNIST" in line for line in main_process), (
        done.stdout
    )
    hashes = lambda root: sorted(json.loads(p.read_text())["arrays_sha256"] for p in root.rglob("meta.json"))
    assert hashes(one) == hashes(two)
    refused = _run("run", "easy_examples", *small, "--jobs", "0")
    assert (
        refused.returncode == 2
        and refused.stderr.strip() == "error: --jobs=0 is not allowed: must be a positive integer"
    )


def test_a_benchmark_split_over_two_calls_ends_in_one_report(tmp_path):
    out = tmp_path / "results-cpu.json"
    assert _run("bench", "--quick", "--cases", "unrolled", "--out", str(out)).returncode == 0
    assert _run("bench", "--quick", "--cases", "per-example", "--out", str(out)).returncode == 0
    rows = json.loads(out.read_text())["rows"]
    assert {row["bench"] for row in rows} == {"unrolled", "per-example"}
    assert _run("bench", "--quick", "--cases", "unrolled", "--out", str(out)).returncode == 0  # replaced, not doubled
    again = json.loads(out.read_text())["rows"]
    assert len(again) == len(rows) and {row["bench"] for row in again} == {"unrolled", "per-example"}
    refused = _run("bench", "--quick", "--cases", "resnet")
    assert refused.returncode == 2 and refused.stderr.strip().startswith("error: cases=resnet is not allowed")


def test_run_saves_the_same_verdicts_as_the_page_and_reseed_saves_them_apart(isolated_results, capsys):
    """Claims are a product of the chapter contract: ``run`` on a machine without Jupyter writes the claims file
    that executing the page writes, byte for byte; ``--reseed K`` writes the verdicts of a disjoint seed set beside
    it."""
    from memo_utils import experiments
    from memo_utils.__main__ import main
    from memo_utils.framework.page import Page

    chapter = experiments.get("loss_sensitivity")
    assert main(["run", "loss_sensitivity", "--profile", "smoke"]) == 0
    saved = isolated_results / "claims" / "loss_sensitivity" / "smoke.json"
    from_run = saved.read_bytes()
    saved.unlink()
    cfg = chapter.config("smoke")
    Page(chapter, cfg, chapter.run(cfg, device="cpu")).claims()
    assert saved.read_bytes() == from_run
    assert "loss_sensitivity: 8 not at this scale (saved to" in capsys.readouterr().out
    assert main(["run", "loss_sensitivity", "--profile", "smoke", "--reseed", "7"]) == 0
    reseeded = json.loads((isolated_results / "claims" / "loss_sensitivity" / "smoke-reseed-7.json").read_text())
    assert {c["seeds"] for c in reseeded} == {"seeds=[7]"} and saved.read_bytes() == from_run


def test_params_lists_every_parameter_per_profile_and_every_command_shows_an_example():
    listed = _run("params", "easy_examples").stdout.splitlines()
    from memo_utils import experiments

    assert [line.split(":")[0] for line in listed] == list(experiments.get("easy_examples").param_names)
    assert all("smoke " in line and "paper: " in line and "changes: " in line for line in listed)
    for command in ("run", "parts", "params", "fingerprint", "new-chapter", "bench"):
        assert "example: python -m memo_utils " + command in _run(command, "--help").stdout


def test_notebook_refuses_a_bad_value_in_one_line_before_a_kernel_starts_and_executes_a_good_one(tmp_path):
    out = tmp_path / "out.ipynb"
    bad = _run("notebook", "capacity", str(out), "-p", "profile", "smoke", "-p", "widths", "[32,8]")
    assert bad.returncode == 2 and bad.stderr.strip().splitlines() == [
        "error: widths=[32, 8] is not allowed: must be increasing, without repeats (e.g. [8, 32])"
    ]
    assert not out.exists()
    good = _run(
        "notebook",
        "loss_sensitivity",
        str(out),
        "-p",
        "profile",
        "smoke",
        "-p",
        "seeds",
        "[0,1]",
        "-p",
        "n_examples",
        "100",
        env_extra={"MEMO_RESULTS_DIR": str(tmp_path / "results")},
    )
    assert good.returncode == 0, good.stderr
    assert '"seeds = [0, 1]' in out.read_text() or "seeds = [0, 1]" in out.read_text()  # papermill's injected cell


def test_a_rehearsal_runs_every_cell_briefly_and_writes_nothing(tmp_path):
    done = _run(
        "run", "loss_sensitivity", "--profile", "smoke", "--rehearse", env_extra={"MEMO_RESULTS_DIR": str(tmp_path)}
    )
    assert done.returncode == 0, done.stderr
    lines = [line for line in done.stdout.splitlines() if line.startswith("loss_sensitivity/")]
    assert lines and all("rehearsed in" in line and "stopped after 2 of them" in line for line in lines), lines
    assert "loss_sensitivity: claims code reached: " in done.stdout  # then judged on the profile's grid
    assert f"wrote nothing; {len(lines)} cell(s) and claims code of 1 chapter(s) rehearsed: 0 failed" in done.stdout
    assert not list(tmp_path.rglob("*"))
