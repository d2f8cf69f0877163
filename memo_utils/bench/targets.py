"""The GPU engine's targets, kept with the benchmark that measures them, and how the cost page shows them."""

from __future__ import annotations

# The GPU engine's targets (issue 19): (what, benchmark case, variant prefix, variants left out, the row's measure,
# the target), the measure being the best over the case's rows whose variant starts with the prefix and names none
# of the left-out words: speed-up over the case's first row, TFLOP/s, or % of the roofline at the row's modelled
# traffic (``roofline.add_roofline``).
CHAPTERS_NEVER_USE = ("bf16", "TF32", "fused")  # variants no chapter trains with
BENCH_TARGETS = (
    (
        "batched MLP, batch 100, float32 (as the chapters train): per model-epoch against the plain loop",
        "mlp",
        "",
        CHAPTERS_NEVER_USE,
        "speedup",
        6.0,
    ),
    (
        "batched MLP, batch 100, float32 (any step, the fused one included): share of the roofline at its modelled "
        "traffic",
        "mlp",
        "batched",
        ("bf16", "TF32"),
        "roofline_pct",
        85.0,
    ),
    ("VGG-11: against the plain eager loop", "vgg11", "", (), "speedup", 3.0),
    ("per-example gradients: against a per-example loop", "per-example", "", (), "speedup", 20.0),
    ("MLP at batch 1,000: TFLOP/s", "mlp, batch 1000", "", (), "tflops", 250.0),
)
UNITS = {"speedup": "x", "tflops": " TFLOP/s", "roofline_pct": "%"}


def _why(row):
    """The profiled time split of a row that missed its target: where the time went."""
    split = row.get("profile")
    if not split:
        return ""
    return (
        f"; device busy {split['busy']:.0%}, of that GEMM {split['gemm']:.0%}, convolution "
        f"{split['convolution']:.0%}, elementwise and other {split['elementwise']:.0%}"
    )


def targets_markdown(reports):
    """Each target of the GPU engine beside its value in the first GPU benchmark committed, or "pending a
    device" (a CPU quick check measures nothing about a GPU). A missed target shows its row's time split."""
    gpu = next((r for r in reports if r["device"] != "cpu" and not r.get("quick")), None)
    lines = ["| target | wanted | measured |", "|---|---|---|"]
    for what, case, prefix, left_out, measure, wanted in BENCH_TARGETS:
        unit = UNITS[measure]
        rows = (
            []
            if gpu is None
            else [
                r
                for r in gpu["rows"]
                if (r["case"] == case or r["case"].startswith(case + " "))
                and r["variant"].startswith(prefix)
                and r.get(measure)
                and not any(word in r["variant"] for word in left_out)
            ]
        )
        if gpu is None:
            measured = "pending a device"
        elif not rows:
            measured = f"no such row in the {gpu['device']} run"
        else:
            best = max(rows, key=lambda r: r[measure])
            met = best[measure] >= wanted
            measured = (
                f"{best[measure]:.3g}{unit} ({'met' if met else 'missed'}, {gpu['device']}{'' if met else _why(best)})"
            )
        lines.append(f"| {what} | >= {wanted:g}{unit} | {measured} |")
    return "\n".join(lines)
