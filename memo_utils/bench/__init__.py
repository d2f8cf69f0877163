"""Benchmark: each optimized path against the straightforward PyTorch reference, same run, same GPU.

    python -m memo_utils bench                                 (make bench; writes bench/results-<device>.json)
    python -m memo_utils bench --quick                         (tiny sizes: checks the code path on a CPU)

Cases: (1) MLP 784-4096-4096-10, batch 100, SGD: reference loop vs batched ensembles (K = 8,
32, 128; float32, CUDA graphs, TF32, bf16 autocast, the fused SGD step), and at batch 1,000;
(2) VGG-11 on CIFAR-10-sized data, batch 128: the plain eager float32 loop vs channels-last +
bf16 autocast (+ torch.compile on CUDA) and vs K seeds stacked under vmap (grouped
convolutions), eagerly and with the whole step as one CUDA graph, and the same for the two
small AlexNets of the easy-examples chapter; (3) per-example gradients of an MNIST MLP, batch
256: torch.func (and BackPACK, if installed) vs a per-example loop; (4) one backward step
through unrolled SGD for the loss-sensitivity chapter: closed-form R-pass vs torch.func.

Every run first measures the device's ceilings (a device-to-device copy, a large GEMM per
precision) and places each row with a known flop count on the roofline (``add_roofline``).
The optimized training paths are timed in steady state, after warm-up, graph capture and
compilation (``Timer.steady``); the MLP reference loop and the other cases as medians of repeated
calls after a warm-up call. Peak and reserved GPU memory are recorded per row, and
with ``--trace`` each row's time split (device busy; GEMM, convolution, elementwise). Prints
one JSON line per measurement and a table. Timings are never used in pass/fail tests.

The package's modules do one job each: ``timing`` (medians, steady state, memory), ``profiling`` (a traced
run's time split), ``roofline`` (ceilings, peaks, modelled traffic), ``cases`` (the five cases), ``table``
(the Markdown table) and ``targets`` (the GPU engine's targets, as the cost page reads them).
"""

from __future__ import annotations

import datetime
import json
from pathlib import Path

import torch

from ..engine import devices
from ..errors import ConfigError
from .cases import CASES
from .roofline import add_roofline, ceilings, peaks
from .table import format_table
from .timing import Timer


def default_output(device_name):
    """bench/results-<device>.json at the repository root, e.g. results-nvidia-h100-80gb-hbm3.json."""
    slug = "".join(c if c.isalnum() else "-" for c in device_name.lower()).strip("-")
    return Path(__file__).resolve().parents[2] / "bench" / f"results-{slug}.json"


def main(out=None, quick=False, trace=False, cases=None):
    """Run every case (or those named in ``cases``); write the JSON report to ``out`` (default:
    ``default_output``, full runs only). With ``cases``, the rows of the other cases already in ``out``
    from the same device are kept, so that a benchmark split over several device calls (each under
    its time limit) ends in one report.

    ``trace``: also run each variant once under torch.profiler and write the reports beside ``out``
    (``profile-<device>.txt``, or ``profile-<device>-<cases>.txt``), or print them when there is no ``out``.
    """
    unknown = sorted(set(cases or ()) - set(CASES))
    if unknown:
        raise ConfigError(f"cases={','.join(unknown)} is not allowed: choose among {', '.join(CASES)}")
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    timer = Timer(device, trace)
    header = {
        "device": devices.name(device) if device.type == "cuda" else "cpu",
        "torch": torch.__version__,
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "quick": quick,
    }
    measured = ceilings(timer, quick)
    peak = peaks(header["device"], measured)
    header.update(ceilings=measured, peaks=peak)
    print(json.dumps({"ceilings": measured, "peaks": peak}), flush=True)
    selected = list(cases or CASES)
    rows = []
    for name in selected:
        for row in CASES[name](timer, quick):
            row["bench"] = name
            add_roofline(row, peak, measured["copy_gbps"])
            print(json.dumps(row), flush=True)
            rows.append(row)
    print(format_table(rows))
    out = out or (None if quick else default_output(header["device"]))
    if out:
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        if cases and Path(out).exists():
            earlier = json.loads(Path(out).read_text())
            if earlier.get("device") == header["device"] and earlier.get("quick") == quick:
                rows = [r for r in earlier["rows"] if r.get("bench") not in selected] + rows
        Path(out).write_text(json.dumps({**header, "rows": rows}, indent=1) + "\n")
    if trace:
        report = "\n\n".join(f"== {label}\n{text}" for label, text in timer.traces)
        if out:
            suffix = f"-{'-'.join(selected)}" if cases else ""
            Path(out).with_name(Path(out).stem.replace("results-", "profile-") + suffix + ".txt").write_text(
                report + "\n"
            )
        else:
            print(report)
    return 0
