"""Benchmark: each optimized path against the straightforward PyTorch reference, same run, same GPU.

    python -m memo_utils bench                                 (make bench; writes bench/results-<device>.json)
    python -m memo_utils bench --quick                         (tiny sizes: checks the code path on a CPU)

Cases: (1) MLP 784-4096-4096-10, batch 100, SGD: reference loop vs batched ensembles (K = 8,
32, 128; float32 and bf16 autocast); (2) VGG-11 on CIFAR-10-sized data, batch 128: the plain
eager float32 loop vs channels-last + bf16 autocast (+ torch.compile on CUDA) and vs K = 4, 8
seeds stacked under vmap (grouped convolutions), and the same for the two small AlexNets of the
easy-examples chapter; (3) per-example gradients of an MNIST MLP,
batch 256: torch.func (and BackPACK, if installed) vs a per-example loop; (4) one backward step through unrolled SGD for the
loss-sensitivity chapter: closed-form R-pass vs torch.func. Timings are medians of repeated measurements
after warm-up; peak GPU memory is recorded per case. Prints one JSON line per measurement
and a table of ratios. Timings are never used in pass/fail tests.
"""
from __future__ import annotations

import datetime
import importlib.util
import json
import statistics
import time
from pathlib import Path

import torch

from . import devices
from .ensemble import MLPEnsemble, train_ensemble, train_fused, train_reference
from .models import SmallAlexNet, mlp_module, vgg
from .per_example import per_example_grads, per_example_grads_backpack, per_example_grads_loop
from .stacked import train_classifiers
from .training import train_classifier


def _sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize()


_profiles = None  # when main(profile=True): one (label, report) per timed variant


def _timed(fn, device, repeats, label):
    """Median wall time of ``fn()`` over ``repeats`` runs, after one warm-up run (and a profile, if asked)."""
    fn()
    _sync(device)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        _sync(device)
        times.append(time.perf_counter() - start)
    if _profiles is not None:
        _profiles.append((label, _profile(fn, device)))
    return statistics.median(times)


def _profile(fn, device):
    """One more run of ``fn`` under torch.profiler: how busy the device was, and the top operators.

    Busy fraction = time inside device kernels / wall time; far below 1 means the run waits on
    launches or the host (the evidence to give when a speed-up target is missed).
    """
    from torch.profiler import ProfilerActivity, profile

    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if device.type == "cuda" else [])
    start = time.perf_counter()
    with profile(activities=activities) as prof:
        fn()
        _sync(device)
    wall = time.perf_counter() - start
    events = prof.key_averages()
    lines = [f"wall {wall:.4f} s"]
    sort_by = "self_cpu_time_total"
    if device.type == "cuda":
        kernel_us = sum(getattr(e, "self_device_time_total", 0) for e in events)
        lines.append(f"device busy {kernel_us / 1e6:.4f} s = {kernel_us / 1e6 / wall:.0%} of wall")
        sort_by = "self_device_time_total"
    return "\n".join(lines + [events.table(sort_by=sort_by, row_limit=12)])


def _add_speedups(rows, seconds_key):
    """Speed-up of every row over the first (the reference) of its case."""
    for row in rows:
        row["speedup"] = rows[0][seconds_key] / row[seconds_key]
    return rows


def _peak_memory(device):
    return torch.cuda.max_memory_allocated(device) / 2**30 if device.type == "cuda" else None


def _reserved_memory(device):
    """What the caching allocator held at most: the memory a run really took from the GPU."""
    return torch.cuda.max_memory_reserved(device) / 2**30 if device.type == "cuda" else None


def _reset_memory(device):
    if device.type == "cuda":
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats(device)


def mlp_flops_per_example(sizes):
    """Forward + backward of a dense MLP: 6 flops per weight per example (forward, input gradient, weight
    gradient), 4 in the first layer, whose input gradient is not needed."""
    weights = [a * b for a, b in zip(sizes[:-1], sizes[1:])]
    return 4 * weights[0] + 6 * sum(weights[1:])


def bench_mlp(device, quick):
    """MLP 784-4096-4096-10, batch 100: the plain loop vs batched ensembles (eager, CUDA graph, TF32, bf16).

    On CUDA the graphed float32 ensemble is also checked against the eager one of the same K
    (largest parameter difference after the same timed calls, which repeat the same steps
    from the same start), so the speed-up is not bought with a different result.
    float32 matmuls are full precision (PyTorch's default) except in the "TF32" rows; no
    chapter uses TF32 or bf16 (see the cost page).
    """
    hidden = 64 if quick else 4096
    sizes = [784, hidden, hidden, 10]
    n, batch, steps = (2000, 100, 5) if quick else (60000, 100, 200)
    x = torch.rand(n, 784, device=device)
    y = torch.randint(10, (n,), device=device)
    steps_per_epoch = n // batch
    flops_per_step = mlp_flops_per_example(sizes) * batch
    rows = []
    sub = slice(0, steps * batch)  # time `steps` minibatches, scale to one epoch
    train = dict(epochs=1, batch_size=batch, lr=0.01)

    def row(variant, k, seconds, **extra):
        rows.append(_mlp_row(device, "mlp", variant, k, seconds / steps, steps_per_epoch, flops_per_step, **extra))

    _reset_memory(device)
    model = mlp_module(sizes, torch.Generator().manual_seed(0)).to(device)
    row("reference loop", 1, _timed(lambda: train_reference(model, x[sub], y[sub], order_seed=0, **train), device, 3,
                                    "mlp: reference loop"))
    variants = [("float32", None, False, "highest")]
    if device.type == "cuda":
        variants += [("float32", None, True, "highest"), ("TF32 matmuls", None, True, "high"),
                     ("bf16 autocast", torch.bfloat16, True, "highest")]
    else:  # the graph's buffer semantics, emulated: checks the comparison path (its difference must be 0)
        variants += [("float32", None, "emulate", "highest"), ("bf16 autocast", torch.bfloat16, False, "highest")]
    default_precision = torch.get_float32_matmul_precision()
    for k in ((2, 4) if quick else (8, 32, 128)):
        eager_params = None
        for name, autocast, graphs, precision in variants:
            _reset_memory(device)
            torch.set_float32_matmul_precision(precision)
            ensemble = MLPEnsemble(sizes, init_seeds=range(k), device=device)
            seconds = _timed(lambda: train_ensemble(ensemble, x[sub], y[sub], order_seeds=range(k), autocast_dtype=autocast,
                                                    graphs=graphs, **train), device, 3,
                             f"mlp: K={k} {name}, graphs={graphs}, matmul precision {precision}")
            extra = {}
            if autocast is None and precision == "highest":  # the float32 rows: eager first, then graphed
                if not graphs:  # kept on the host, so that later rows' peak memory does not count it
                    eager_params = [t.cpu() for t in ensemble.parameters()]
                else:
                    extra["max_abs_diff_vs_eager"] = max(float((a.cpu() - b).abs().max())
                                                         for a, b in zip(ensemble.parameters(), eager_params))
            torch.set_float32_matmul_precision(default_precision)
            row(f"batched ensemble, {name}, {ensemble.step_mode}", k, seconds, **extra)
            del ensemble
        _reset_memory(device)
        fused = MLPEnsemble(sizes, init_seeds=range(k), device=device)
        seconds = _timed(lambda: train_fused(fused, x[sub], y[sub], order_seeds=range(k), **train), device, 3,
                         f"mlp: K={k} fused SGD step")
        row("batched ensemble, fused SGD step (eager, float32)", k, seconds,
            max_abs_diff_vs_eager=max(float((a.cpu() - b).abs().max()) for a, b in zip(fused.parameters(), eager_params)))
        del fused, eager_params
    # another workload (10x fewer steps per epoch): its speed-ups are against its own first row
    return _add_speedups(rows, "seconds_per_model_epoch") + _add_speedups(_mlp_large_batch(device, quick, sizes, x, y),
                                                                          "seconds_per_model_epoch")


def _mlp_large_batch(device, quick, sizes, x, y):
    """The same MLP at batch 1,000, where the step can be compute-bound: the batched ensemble's float32 step
    (TF32 matmuls too on CUDA), at the largest K."""
    batch, steps = (200, 5) if quick else (1000, 30)
    k = 4 if quick else 32
    sub = slice(0, steps * batch)
    flops_per_step = mlp_flops_per_example(sizes) * batch
    rows = []
    precisions = ["highest", "high"] if device.type == "cuda" else ["highest"]
    default_precision = torch.get_float32_matmul_precision()
    for precision in precisions:
        _reset_memory(device)
        torch.set_float32_matmul_precision(precision)
        ensemble = MLPEnsemble(sizes, init_seeds=range(k), device=device)
        seconds = _timed(lambda: train_ensemble(ensemble, x[sub], y[sub], order_seeds=range(k), epochs=1, batch_size=batch,
                                                lr=0.01), device, 3, f"mlp batch {batch}: K={k}, matmul precision {precision}")
        torch.set_float32_matmul_precision(default_precision)
        variant = f"batched ensemble, float32, {ensemble.step_mode}" + (", TF32 matmuls" if precision == "high" else "")
        rows.append(_mlp_row(device, f"mlp, batch {batch}", variant, k, seconds / steps, len(x) // batch, flops_per_step))
        del ensemble
    return rows


def _mlp_row(device, case, variant, k, seconds_per_step, steps_per_epoch, flops_per_step, **extra):
    """One MLP benchmark row: seconds per model-epoch, TFLOP/s, and the memory the run took."""
    return {"case": case, "variant": variant, "k": k, "seconds_per_model_epoch": seconds_per_step * steps_per_epoch / k,
            "tflops": k * flops_per_step / seconds_per_step / 1e12, "peak_gib": _peak_memory(device),
            "reserved_gib": _reserved_memory(device), **extra}


def bench_vgg(device, quick):
    """VGG-11, batch 128: the plain loop (``train_classifier``) vs single-model and stacked variants."""
    return _bench_cnn(device, quick, "vgg11", lambda: vgg("vgg11"), ks=(2,) if quick else (4, 8))


def bench_small_alexnet(device, quick):
    """Easy examples' Figure 2 as the chapter runs it: two small AlexNets (real, randY), width 200 (8 if quick)."""
    width = 8 if quick else 200
    return _bench_cnn(device, quick, f"small AlexNet, width {width}", lambda: SmallAlexNet(width=width), ks=(2,))


def _bench_cnn(device, quick, case, make, ks):
    batch, steps = (8, 2) if quick else (128, 30)
    n = batch * steps
    x = torch.randn(n, 3, 32, 32, device=device)
    y = torch.randint(10, (n,), device=device)
    train = dict(epochs=1, batch_size=batch, lr=0.01)
    rows = []

    def single(autocast, channels_last, compiled):
        model = make().to(device)
        xs = x.contiguous(memory_format=torch.channels_last) if channels_last else x
        if channels_last:
            model = model.to(memory_format=torch.channels_last)
        model = torch.compile(model) if compiled else model

        def run():
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=autocast):
                train_classifier(model, xs, y, **train)
        return run

    def stacked(k, autocast):
        models = [make().to(device) for _ in range(k)]
        return lambda: train_classifiers(models, x, y, seeds=range(k),
                                         autocast_dtype=torch.bfloat16 if autocast else None, **train)

    variants = [("reference: train_classifier, eager float32", 1, single(False, False, False)),
                ("channels-last + bf16 autocast", 1, single(True, True, False))]
    if device.type == "cuda" and not quick:
        variants.append(("channels-last + bf16 + torch.compile", 1, single(True, True, True)))
    for k in ks:
        variants += [("stacked (vmap), float32", k, stacked(k, False)),
                     ("stacked (vmap), bf16 autocast", k, stacked(k, True))]
    for name, k, fn in variants:
        _reset_memory(device)
        torch.manual_seed(0)
        seconds = _timed(fn, device, 3, f"{case}: {name}, K={k}")
        rows.append({"case": case, "variant": name, "k": k,
                     "seconds_per_model_epoch": seconds / k / steps * (50000 // batch),
                     "peak_gib": _peak_memory(device)})
    return _add_speedups(rows, "seconds_per_model_epoch")


def bench_per_example(device, quick):
    hidden = 32 if quick else 1024
    batch = 16 if quick else 256
    model = mlp_module([784, hidden, hidden, 10], torch.Generator().manual_seed(0)).to(device)
    x = torch.rand(batch, 784, device=device)
    y = torch.randint(10, (batch,), device=device)
    variants = [("reference: per-example loop", per_example_grads_loop), ("torch.func vmap(grad)", per_example_grads)]
    if importlib.util.find_spec("backpack") is not None:
        variants.append(("BackPACK BatchGrad", per_example_grads_backpack))
    rows = []
    for name, fn in variants:
        _reset_memory(device)
        seconds = _timed(lambda: fn(model, x, y), device, 3, f"per-example grads: {name}")
        rows.append({"case": f"per-example grads (784-{hidden}-{hidden}-10, batch {batch})", "variant": name,
                     "k": 1, "seconds_per_batch": seconds, "peak_gib": _peak_memory(device)})
    return _add_speedups(rows, "seconds_per_batch")


def default_output(device_name):
    """bench/results-<device>.json at the repository root, e.g. results-nvidia-h100-80gb-hbm3.json."""
    slug = "".join(c if c.isalnum() else "-" for c in device_name.lower()).strip("-")
    return Path(__file__).resolve().parents[1] / "bench" / f"results-{slug}.json"


def bench_unrolled_sensitivity(device, quick):
    """One backward sweep through unrolled SGD (Arpit et al.'s 14x14 MNIST MLP, 64 measured losses).

    On CUDA the graphed sweep is checked against the eager one (largest gradient difference).
    """
    from . import sensitivity

    steps = 50 if quick else 2000
    g = torch.Generator().manual_seed(0)
    x = torch.randn(1000, 196, generator=g).to(device)
    y = torch.randint(10, (1000,), generator=g).to(device)
    params = sensitivity.init_params([196, 16, 16, 10], g, device=device)
    schedule = sensitivity.minibatch_schedule(1000, 10, steps, g).to(device)
    measured = list(range(max(1, steps - 63), steps + 1))
    outputs = {}  # the last result of each (second_order, graphs), to compare graphed with eager

    def sweep(second_order, graphs):
        outputs[second_order, graphs] = sensitivity.input_gradients(
            params, x, y, lr=0.01, schedule=schedule, measure_steps=measured, second_order=second_order,
            graphs=graphs)[0]

    variants = [("reference: torch.func vjp + vmap", "torch_func", False), ("closed-form R-pass", "closed_form", False)]
    variants.append(("closed-form R-pass, CUDA graphs", "closed_form", True) if device.type == "cuda"
                    else ("closed-form R-pass, emulated graphs", "closed_form", "emulate"))
    rows = []
    for name, second_order, graphs in variants:
        _reset_memory(device)
        seconds = _timed(lambda: sweep(second_order, graphs), device, 1 if not quick else 2,
                         f"unrolled sensitivity: {name}")
        extra = {"max_abs_diff_vs_eager": float((outputs[second_order, graphs] - outputs[second_order, False]).abs().max())} \
            if graphs else {}
        rows.append({"case": "unrolled sensitivity (196-16-16-10, batch 10, 64 losses)", "variant": name, "k": 1,
                     "seconds_per_step": seconds / steps, "peak_gib": _peak_memory(device), **extra})
    return _add_speedups(rows, "seconds_per_step")


CASES = {"mlp": bench_mlp, "vgg11": bench_vgg, "small-alexnet": bench_small_alexnet, "per-example": bench_per_example,
         "unrolled": bench_unrolled_sensitivity}


def main(out=None, quick=False, profile=False, cases=None):
    """Run every case (or those named in ``cases``); write the JSON report to ``out`` (default:
    ``default_output``, full runs only). With ``cases``, the rows of the other cases already in ``out``
    from the same device are kept, so that a benchmark split over several device calls (each under
    its time limit) ends in one report.

    ``profile``: also profile each variant once and write the reports beside ``out``
    (``profile-<device>.txt``, or ``profile-<device>-<cases>.txt``), or print them when there is no ``out``.
    """
    from .errors import ConfigError

    unknown = sorted(set(cases or ()) - set(CASES))
    if unknown:
        raise ConfigError(f"cases={','.join(unknown)} is not allowed: choose among {', '.join(CASES)}")
    global _profiles
    _profiles = [] if profile else None
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    header = {"device": devices.name(device) if device.type == "cuda" else "cpu",
              "torch": torch.__version__, "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
              "quick": quick}
    selected = list(cases or CASES)
    rows = []
    for name in selected:
        for row in CASES[name](device, quick):
            row["bench"] = name
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
    if profile:
        report = "\n\n".join(f"== {label}\n{text}" for label, text in _profiles)
        if out:
            suffix = f"-{'-'.join(selected)}" if cases else ""
            Path(out).with_name(Path(out).stem.replace("results-", "profile-") + suffix + ".txt").write_text(report + "\n")
        else:
            print(report)
        _profiles = None
    return 0


def format_table(rows):
    """A markdown table of the benchmark rows (also used by the book's cost page)."""
    lines = ["| case | variant | K | seconds | TFLOP/s | speed-up | peak GiB | max abs diff vs eager |",
             "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        seconds = r.get("seconds_per_model_epoch", r.get("seconds_per_batch", r.get("seconds_per_step")))
        tflops = f"{r['tflops']:.1f}" if "tflops" in r else ""
        peak = f"{r['peak_gib']:.1f}" if r.get("peak_gib") is not None else ""
        diff = f"{r['max_abs_diff_vs_eager']:.1e}" if "max_abs_diff_vs_eager" in r else ""
        lines.append(f"| {r['case']} | {r['variant']} | {r['k']} | {seconds:.4g} | {tflops} | {r['speedup']:.1f}x | {peak} "
                     f"| {diff} |")
    return "\n".join(lines)
