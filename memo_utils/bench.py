"""Benchmark: each optimized path against the straightforward PyTorch reference, same run, same GPU.

    python -m memo_utils bench                                 (make bench; writes bench/results-<device>.json)
    python -m memo_utils bench --quick                         (tiny sizes: checks the code path on a CPU)

Cases: (1) MLP 784-4096-4096-10, batch 100, SGD: reference loop vs batched ensembles (K = 8,
32, 128; float32 and bf16 autocast); (2) VGG-11 on CIFAR-10-sized data, batch 128: eager float32
vs channels-last + bf16 autocast + torch.compile; (3) per-example gradients of an MNIST MLP,
batch 256: torch.func vs a per-example loop; (4) one backward step through unrolled SGD for the
loss-sensitivity chapter: closed-form R-pass vs torch.func. Timings are medians of repeated measurements
after warm-up; peak GPU memory is recorded per case. Prints one JSON line per measurement
and a table of ratios. Timings are never used in pass/fail tests.
"""
from __future__ import annotations

import datetime
import json
import statistics
import time
from pathlib import Path

import torch
import torch.nn.functional as F

from .ensemble import MLPEnsemble, train_ensemble, train_reference
from .models import mlp_module, vgg
from .per_example import per_example_grads, per_example_grads_loop


def _sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize()


def _timed(fn, device, repeats):
    """Median wall time of ``fn()`` over ``repeats`` runs, after one warm-up run."""
    fn()
    _sync(device)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        _sync(device)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _peak_memory(device):
    return torch.cuda.max_memory_allocated(device) / 2**30 if device.type == "cuda" else None


def _reset_memory(device):
    if device.type == "cuda":
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats(device)


def mlp_flops_per_example(sizes):
    """Forward + backward of a dense MLP: 6 flops per weight per example."""
    return 6 * sum(a * b for a, b in zip(sizes[:-1], sizes[1:]))


def bench_mlp(device, quick):
    hidden = 64 if quick else 4096
    sizes = [784, hidden, hidden, 10]
    n, batch, steps = (2000, 100, 5) if quick else (60000, 100, 50)
    x = torch.rand(n, 784, device=device)
    y = torch.randint(10, (n,), device=device)
    steps_per_epoch = n // batch
    flops_per_step = mlp_flops_per_example(sizes) * batch
    rows = []
    sub = slice(0, steps * batch)  # time `steps` minibatches, scale to one epoch

    _reset_memory(device)
    seconds = _timed(lambda: train_reference(sizes, x[sub], y[sub], init_seed=0, order_seed=0, epochs=1,
                                             batch_size=batch, lr=0.01, device=device), device, 3)
    per_step = seconds / steps
    rows.append({"case": "mlp", "variant": "reference loop", "k": 1,
                 "seconds_per_model_epoch": per_step * steps_per_epoch,
                 "tflops": flops_per_step / per_step / 1e12, "peak_gib": _peak_memory(device)})
    for k in ((2, 4) if quick else (8, 32, 128)):
        for precision in ("float32", "bf16"):
            _reset_memory(device)
            ensemble = MLPEnsemble(sizes, init_seeds=range(k), device=device)
            autocast = torch.bfloat16 if precision == "bf16" else None
            seconds = _timed(lambda: train_ensemble(ensemble, x[sub], y[sub], order_seeds=range(k), epochs=1,
                                                    batch_size=batch, lr=0.01, autocast_dtype=autocast), device, 3)
            per_step = seconds / steps
            rows.append({"case": "mlp", "variant": f"batched ensemble, {precision}", "k": k,
                         "seconds_per_model_epoch": per_step * steps_per_epoch / k,
                         "tflops": k * flops_per_step / per_step / 1e12, "peak_gib": _peak_memory(device)})
    reference = rows[0]["seconds_per_model_epoch"]
    for row in rows:
        row["speedup"] = reference / row["seconds_per_model_epoch"]
    return rows


def bench_vgg(device, quick):
    batch, steps = (8, 2) if quick else (128, 30)
    x = torch.randn(batch * steps, 3, 32, 32, device=device)
    y = torch.randint(10, (batch * steps,), device=device)
    rows = []

    def epoch_fn(model, optimizer, autocast, channels_last):
        def run():
            for i in range(steps):
                xb = x[i * batch:(i + 1) * batch]
                if channels_last:
                    xb = xb.contiguous(memory_format=torch.channels_last)
                with torch.autocast(device.type, dtype=torch.bfloat16, enabled=autocast):
                    loss = F.cross_entropy(model(xb), y[i * batch:(i + 1) * batch])
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
        return run

    variants = [("reference: eager float32", False, False, False),
                ("channels-last + bf16 autocast", True, True, False)]
    if device.type == "cuda" and not quick:
        variants.append(("channels-last + bf16 + torch.compile", True, True, True))
    for name, autocast, channels_last, compiled in variants:
        _reset_memory(device)
        torch.manual_seed(0)
        model = vgg("vgg11").to(device)
        if channels_last:
            model = model.to(memory_format=torch.channels_last)
        optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
        if compiled:
            model = torch.compile(model)
        seconds = _timed(epoch_fn(model, optimizer, autocast, channels_last), device, 3)
        rows.append({"case": "vgg11", "variant": name, "k": 1,
                     "seconds_per_model_epoch": seconds / steps * (50000 // batch),
                     "peak_gib": _peak_memory(device)})
    reference = rows[0]["seconds_per_model_epoch"]
    for row in rows:
        row["speedup"] = reference / row["seconds_per_model_epoch"]
    return rows


def bench_per_example(device, quick):
    hidden = 32 if quick else 1024
    batch = 16 if quick else 256
    model = mlp_module([784, hidden, hidden, 10], torch.Generator().manual_seed(0)).to(device)
    x = torch.rand(batch, 784, device=device)
    y = torch.randint(10, (batch,), device=device)
    rows = []
    for name, fn in (("reference: per-example loop", per_example_grads_loop), ("torch.func vmap(grad)", per_example_grads)):
        _reset_memory(device)
        seconds = _timed(lambda: fn(model, x, y), device, 3)
        rows.append({"case": f"per-example grads (784-{hidden}-{hidden}-10, batch {batch})", "variant": name,
                     "k": 1, "seconds_per_batch": seconds, "peak_gib": _peak_memory(device)})
    rows[1]["speedup"] = rows[0]["seconds_per_batch"] / rows[1]["seconds_per_batch"]
    rows[0]["speedup"] = 1.0
    return rows


def default_output(device_name):
    """bench/results-<device>.json at the repository root, e.g. results-nvidia-h100-80gb-hbm3.json."""
    slug = "".join(c if c.isalnum() else "-" for c in device_name.lower()).strip("-")
    return Path(__file__).resolve().parents[1] / "bench" / f"results-{slug}.json"


def bench_unrolled_sensitivity(device, quick):
    """One backward sweep through unrolled SGD (Arpit et al.'s 14x14 MNIST MLP, 64 measured losses)."""
    from . import sensitivity

    steps = 50 if quick else 2000
    g = torch.Generator().manual_seed(0)
    x = torch.randn(1000, 196, generator=g).to(device)
    y = torch.randint(10, (1000,), generator=g).to(device)
    params = sensitivity.init_params([196, 16, 16, 10], g, device=device)
    schedule = sensitivity.minibatch_schedule(1000, 10, steps, g).to(device)
    measured = list(range(max(1, steps - 63), steps + 1))
    rows = []
    for name, second_order in (("reference: torch.func vjp + vmap", "torch_func"),
                               ("closed-form R-pass", "closed_form")):
        _reset_memory(device)
        seconds = _timed(lambda: sensitivity.input_gradients(params, x, y, lr=0.01, schedule=schedule,
                                                             measure_steps=measured, second_order=second_order),
                         device, 1 if not quick else 2)
        rows.append({"case": "unrolled sensitivity (196-16-16-10, batch 10, 64 losses)", "variant": name, "k": 1,
                     "seconds_per_step": seconds / steps, "peak_gib": _peak_memory(device)})
    rows[0]["speedup"] = 1.0
    rows[1]["speedup"] = rows[0]["seconds_per_step"] / rows[1]["seconds_per_step"]
    return rows


def main(out=None, quick=False):
    """Run every case; write the JSON report to ``out`` (default: ``default_output``, full runs only)."""
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    header = {"device": torch.cuda.get_device_name(0) if device.type == "cuda" else "cpu",
              "torch": torch.__version__, "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
              "quick": quick}
    rows = []
    for bench in (bench_mlp, bench_vgg, bench_per_example, bench_unrolled_sensitivity):
        for row in bench(device, quick):
            print(json.dumps(row), flush=True)
            rows.append(row)
    print(format_table(rows))
    out = out or (None if quick else default_output(header["device"]))
    if out:
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        Path(out).write_text(json.dumps({**header, "rows": rows}, indent=1) + "\n")
    return 0


def format_table(rows):
    """A markdown table of the benchmark rows (also used by the book's cost page)."""
    lines = ["| case | variant | K | seconds | TFLOP/s | speed-up | peak GiB |", "|---|---|---|---|---|---|---|"]
    for r in rows:
        seconds = r.get("seconds_per_model_epoch", r.get("seconds_per_batch", r.get("seconds_per_step")))
        tflops = f"{r['tflops']:.1f}" if "tflops" in r else ""
        peak = f"{r['peak_gib']:.1f}" if r.get("peak_gib") is not None else ""
        lines.append(f"| {r['case']} | {r['variant']} | {r['k']} | {seconds:.4g} | {tflops} | {r['speedup']:.1f}x | {peak} |")
    return "\n".join(lines)
