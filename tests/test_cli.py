"""The command line that GPU machines use: bad input is one line, the benchmark runs end to end."""
import json
import os
import subprocess
import sys

from conftest import ROOT


def _run(*args, env_extra=None):
    env = dict(os.environ, OMP_NUM_THREADS="1", **(env_extra or {}))
    return subprocess.run([sys.executable, "-m", "memo_utils", *args], capture_output=True, text=True,
                          cwd=ROOT, env=env, timeout=300)


def test_an_unknown_profile_is_one_line_on_stderr_and_exit_code_2():
    done = _run("run", "easy_examples", "--profile", "huge")
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "error: profile='huge' is not allowed: choose one of smoke, cpu, gpu, paper"]


def test_an_unknown_experiment_is_refused():
    done = _run("run", "dropout", "--profile", "smoke")
    assert done.returncode == 2 and "experiment='dropout' is not allowed" in done.stderr


def test_run_computes_into_the_cache_then_reads_it(tmp_path):
    env = {"MEMO_RESULTS_DIR": str(tmp_path)}
    args = ("run", "loss_sensitivity", "--profile", "smoke", "--set", "n_examples=60", "--set", "steps=[20]")
    first, second = _run(*args, env_extra=env), _run(*args, env_extra=env)
    assert first.returncode == 0 and "computed in" in first.stdout, first.stderr
    assert second.returncode == 0 and "cached" in second.stdout
    assert (tmp_path / "loss_sensitivity").is_dir()


def test_quick_benchmark_reports_a_speedup_and_a_profile_for_every_case(tmp_path):
    out = tmp_path / "results-cpu.json"
    done = _run("bench", "--quick", "--profile", "--out", str(out))
    assert done.returncode == 0, done.stderr
    report = json.loads(out.read_text())
    cases = {row["case"].split(" ")[0] for row in report["rows"]}
    assert cases == {"mlp", "vgg11", "small", "per-example", "unrolled"}
    assert all(row["speedup"] > 0 for row in report["rows"])
    assert report["quick"] is True and report["torch"]
    graphed = [row for row in report["rows"] if "max_abs_diff_vs_eager" in row]  # emulated on the CPU
    assert len(graphed) == 3 and all(row["max_abs_diff_vs_eager"] == 0 for row in graphed)
    profiles = (tmp_path / "profile-cpu.txt").read_text()
    assert profiles.count("\n== ") + profiles.startswith("== ") == len(report["rows"])
    assert "Self CPU time total" in profiles
