"""The benchmark's rows as the Markdown table the cost page shows."""

from __future__ import annotations

# Each case times its own unit of work: the key a row holds says which, and the table says it in every cell.
UNITS = (("seconds_per_model_epoch", "model-epoch"), ("seconds_per_batch", "batch"), ("seconds_per_step", "step"))


def format_table(rows):
    """A markdown table of the benchmark rows (also used by the book's cost page)."""
    lines = [
        "| case | variant | K | time | speed-up | TFLOP/s | GB/s | bound: % of roofline | % of peak "
        "| busy; GEMM / conv / elementwise | peak / reserved GiB | max abs diff vs eager |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    number = lambda value, spec: "" if value is None else format(value, spec)
    for r in rows:
        seconds, unit = next((r[key], unit) for key, unit in UNITS if key in r)
        roofline = f"{r['bound']}: {r['roofline_pct']:.0f}%" if "roofline_pct" in r else ""
        roofline += f" ({r['copy_pct']:.0f}% of copy)" if "copy_pct" in r else ""
        split = r.get("profile")
        split = (
            f"{split['busy']:.0%}; {split['gemm']:.0%} / {split['convolution']:.0%} / {split['elementwise']:.0%}"
            if split
            else ""
        )
        memory = (
            f"{r['peak_gib']:.1f} / {r['reserved_gib']:.1f}"
            if r.get("reserved_gib") is not None
            else number(r.get("peak_gib"), ".1f")
        )
        lines.append(
            f"| {r['case']} | {r['variant']} | {r['k']} | {seconds:.4g} s per {unit} | {r['speedup']:.1f}x "
            f"| {number(r.get('tflops'), '.1f')} | {number(r.get('gbps'), '.0f')} | {roofline} "
            f"| {number(r.get('peak_pct'), '.0f')} | {split} | {memory} "
            f"| {number(r.get('max_abs_diff_vs_eager'), '.1e')} |"
        )
    return "\n".join(lines)
