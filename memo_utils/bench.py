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
compilation (``_steady``); the MLP reference loop and the other cases as medians of repeated
calls after a warm-up call. Peak and reserved GPU memory are recorded per row, and
with ``--profile`` each row's time split (device busy; GEMM, convolution, elementwise). Prints
one JSON line per measurement and a table. Timings are never used in pass/fail tests.
"""

from __future__ import annotations

import contextlib
import datetime
import importlib.util
import json
import re
import statistics
import time
from pathlib import Path

import torch

from .engine import devices
from .engine.ensemble import MLPEnsemble, train_ensemble, train_fused, train_reference
from .engine.models import SmallAlexNet, conv_macs, mlp_module, vgg
from .engine.per_example import per_example_grads, per_example_grads_backpack, per_example_grads_loop
from .engine.stacked import train_classifiers
from .engine.training import train_classifier


def _sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize()


_profiles = None  # when main(profile=True): one (label, report) per timed variant
_split = {}  # the last profiled variant's time split, taken by the row built next (see _take_split)


def _timed(fn, device, repeats, label, profile=True):
    """Median wall time of ``fn()`` over ``repeats`` runs, after one warm-up run (and a profile, if asked)."""
    fn()
    _sync(device)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        _sync(device)
        times.append(time.perf_counter() - start)
    if _profiles is not None and profile:
        profiler = _Profiler(device)  # one more run, profiled
        profiler.start()
        fn()
        text, _split["profile"] = profiler.stop()
        _profiles.append((label, text))
    return statistics.median(times)


def _take_split():
    """{"profile": time split} of the variant profiled last, for its row (empty when not profiling)."""
    return {"profile": _split.pop("profile")} if "profile" in _split else {}


def kernel_kind(name):
    """ "convolution", "gemm" or "elementwise" (everything else: pointwise, reductions, copies, indexing)
    for a CUDA kernel's or an aten operator's name."""
    name = name.lower()
    if any(w in name for w in ("convolution", "convolve", "conv2d", "fprop", "dgrad", "wgrad", "winograd")):
        return "convolution"
    if any(w in name for w in ("gemm", "gemv", "nvjet", "cublas", "cutlass", "xmma", "matmul")) or name in (
        "aten::mm",
        "aten::addmm",
        "aten::bmm",
        "aten::baddbmm",
        "aten::addbmm",
        "aten::_addmm_activation",
    ):
        return "gemm"
    return "elementwise"


def time_split(events, wall, on_device):
    """How a profiled run spent its time: ``busy`` = time inside device kernels (on a CPU: inside
    operators) / wall time, and each kernel kind's share of that time (:func:`kernel_kind`).

    A busy fraction far below 1 means the run waits on launches or the host; a large elementwise share
    means memory-bound glue around the GEMMs (the evidence to give when a target is missed). On CUDA
    only device events (kernels, copies) count; on a CPU, every operator's self time.
    """
    from torch.autograd import DeviceType

    times = {}
    for e in events:
        if on_device and getattr(e, "device_type", None) != DeviceType.CUDA:
            continue
        spent = getattr(e, "self_device_time_total", 0) if on_device else e.self_cpu_time_total
        if spent > 0:
            kind = kernel_kind(e.key)
            times[kind] = times.get(kind, 0.0) + spent / 1e6
    total = sum(times.values())
    return {
        "busy": total / wall,
        **{kind: times.get(kind, 0.0) / total if total else 0.0 for kind in ("gemm", "convolution", "elementwise")},
    }


class _Profiler:
    """torch.profiler between ``start()`` and ``stop()`` (which returns the report text and time split), so
    that a run can be profiled over its steady-state steps only."""

    def __init__(self, device):
        from torch.profiler import ProfilerActivity, profile

        self.device, self.on_device = device, device.type == "cuda"
        self._profile = profile(activities=[ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if self.on_device else []))

    def start(self):
        _sync(self.device)
        self._profile.start()
        self._start = time.perf_counter()

    def stop(self):
        _sync(self.device)
        wall = time.perf_counter() - self._start
        self._profile.stop()
        return _profile_report(self._profile.key_averages(), wall, self.on_device)


def _profile_report(events, wall, on_device):
    """The profile's text (time split, then the top operators by self time) and its time split."""
    split = time_split(events, wall, on_device)
    where = "device kernels" if on_device else "operators (host)"
    lines = [
        f"wall {wall:.4f} s; busy in {where} {split['busy']:.0%} of wall; of that: GEMM {split['gemm']:.0%}, "
        f"convolution {split['convolution']:.0%}, elementwise and other {split['elementwise']:.0%}"
    ]
    sort_by = "self_device_time_total" if on_device else "self_cpu_time_total"
    return "\n".join(lines + [events.table(sort_by=sort_by, row_limit=12)]), split


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


# Nominal peaks from the vendors' data sheets (dense, no sparsity): HBM GB/s and TFLOP/s per precision.
# Matched, in this order, on the device's name; any other device is judged against the ceilings measured
# in the same run (``ceilings``).
SPEC_PEAKS = (
    (r"\bh200 nvl\b", "NVIDIA H200 NVL data sheet", {"gbps": 4800, "float32": 60, "TF32": 418, "bf16": 835}),
    (r"\bh200\b", "NVIDIA H200 SXM data sheet", {"gbps": 4800, "float32": 67, "TF32": 495, "bf16": 989}),
    (r"\bh100 nvl\b", "NVIDIA H100 NVL data sheet", {"gbps": 3900, "float32": 60, "TF32": 418, "bf16": 835}),
    (r"\bh100 pcie\b", "NVIDIA H100 PCIe data sheet", {"gbps": 2000, "float32": 51, "TF32": 378, "bf16": 756}),
    (r"\bh100\b", "NVIDIA H100 SXM5 data sheet", {"gbps": 3350, "float32": 67, "TF32": 495, "bf16": 989}),
)


def ceilings(device, quick):
    """What this device reaches in this run: a device-to-device copy (GB/s, bytes read plus written) and a
    large square GEMM per precision (TFLOP/s), the measured counterparts of the data sheet's peaks."""
    n = 2**16 if quick else 2**28  # float32 elements: 1 GiB
    src = torch.rand(n, device=device)
    dst = torch.empty_like(src)
    measured = {
        "copy_gbps": 2 * 4 * n / _timed(lambda: dst.copy_(src), device, 5, "copy", profile=False) / 1e9,  # noqa: F821 (freed after this call)
        "gemm_tflops": {},
    }
    del src, dst
    m = 256 if quick else 8192
    a, b = torch.randn(m, m, device=device), torch.randn(m, m, device=device)
    precisions = [("float32", "highest", None)]
    if device.type == "cuda":
        precisions += [("TF32", "high", None), ("bf16", "highest", torch.bfloat16)]
    for name, precision, dtype in precisions:
        left, right = (a, b) if dtype is None else (a.to(dtype), b.to(dtype))
        with _matmul_precision(precision):
            seconds = _timed(lambda: left @ right, device, 5, "gemm", profile=False)
        measured["gemm_tflops"][name] = 2 * m**3 / seconds / 1e12
    return measured


@contextlib.contextmanager
def _matmul_precision(precision):
    """float32 matmuls at ``precision`` ("highest": full float32, "high": TF32) inside, PyTorch's setting after."""
    default = torch.get_float32_matmul_precision()
    torch.set_float32_matmul_precision(precision)
    try:
        yield
    finally:
        torch.set_float32_matmul_precision(default)


def peaks(device_name, measured):
    """The roofline's ceilings: the data sheet's for a known device, else the ``measured`` ones."""
    for pattern, source, values in SPEC_PEAKS:
        if re.search(pattern, device_name.lower()):
            return {"source": source, **values}
    return {"source": "the ceilings measured in this run", "gbps": measured["copy_gbps"], **measured["gemm_tflops"]}


def add_roofline(row, peak, copy_gbps=None):
    """Place a row with ``tflops`` and ``precision`` on the roofline of ``peak`` (:func:`peaks`).

    With ``gbps`` (a row whose bytes are modelled): its arithmetic intensity decides whether it is
    ``bound`` by memory or compute, and ``roofline_pct`` is its TFLOP/s over the attainable
    min(peak, intensity x bandwidth), i.e. the share of the bandwidth used for a memory-bound row and of
    the peak for a compute-bound one; ``copy_pct``: its GB/s over the ``copy_gbps`` measured in the same
    run (what a plain copy reaches, below the data sheet). Without ``gbps`` (the CNNs): ``peak_pct`` only.
    """
    if row.get("gbps") and copy_gbps:
        row["copy_pct"] = 100 * row["gbps"] / copy_gbps
    peak_tflops = peak.get(row.get("precision"))
    if peak_tflops is None or "tflops" not in row:
        return row
    row["peak_pct"] = 100 * row["tflops"] / peak_tflops
    if row.get("gbps"):
        intensity = row["tflops"] * 1e12 / (row["gbps"] * 1e9)  # flop per byte
        memory_roof = intensity * peak["gbps"] / 1e3  # TFLOP/s
        row["flop_per_byte"] = intensity
        row["bound"] = "memory" if memory_roof < peak_tflops else "compute"
        row["roofline_pct"] = 100 * row["tflops"] / min(peak_tflops, memory_roof)
    return row


# fp32 weight traffic of one SGD step without momentum, bytes per parameter that gets an input gradient
# (an upper layer): every tensor read or written once per use, caches ignored.
STEP_BYTES_PER_PARAMETER = {
    "fused": 16,  # forward reads W (4); input gradient reads W (4); the update GEMM reads and writes W (8)
    "torch.optim.SGD": 24,  # forward 4, input gradient 4; autograd writes g (4); p += -lr g reads p, g, writes p (12)
    "autograd": 32,  # as above, but p.sub_(lr * g): g read, temporary written (8), p and temporary read, p written (12)
}


def mlp_step_bytes(sizes, batch, kind):
    """Bytes one model's SGD step moves at least (``STEP_BYTES_PER_PARAMETER``), the activations included:
    the input read, each layer's output written and read forward and its gradient written and read
    backward. First-layer weights and biases get no input-gradient read (4 bytes fewer)."""
    weights = [a * b for a, b in zip(sizes[:-1], sizes[1:])]
    params = sum(weights) + sum(sizes[1:])
    activations = 4 * batch * (sizes[0] + 4 * sum(sizes[1:]))
    return STEP_BYTES_PER_PARAMETER[kind] * params - 4 * (weights[0] + sum(sizes[1:])) + activations


def mlp_flops_per_example(sizes):
    """Forward + backward of a dense MLP: 6 flops per weight per example (forward, input gradient, weight
    gradient), 4 in the first layer, whose input gradient is not needed."""
    weights = [a * b for a, b in zip(sizes[:-1], sizes[1:])]
    return 4 * weights[0] + 6 * sum(weights[1:])


WARMUP_STEPS = 5  # a graphed step's 3 eager warm-up steps, its capture and a first replay, then steady state


def _steady(run, device, label):
    """Median seconds between the marks ``run(mark)`` makes: ``mark()`` after the warm-up (and graph capture,
    and compilation), then after each of three equal stretches of steps, so only steady-state steps are timed.
    Profiled (if asked) over the same stretches of one more ``run``."""
    marks = []

    def mark(*_):
        _sync(device)
        marks.append(time.perf_counter())

    run(mark)
    if _profiles is not None:
        profiler, seen = _Profiler(device), []

        def profile_mark(*_):  # the profiler runs from the first mark to the last
            seen.append(None)
            if len(seen) == 1:
                profiler.start()
            elif len(seen) == len(marks):
                text, _split["profile"] = profiler.stop()
                _profiles.append((label, text))

        run(profile_mark)
    return statistics.median(b - a for a, b in zip(marks, marks[1:]))


def _max_abs_diff(tensors, reference):
    return max(float((a.cpu() - b).abs().max()) for a, b in zip(tensors, reference))


def bench_mlp(device, quick):
    """MLP 784-4096-4096-10, batch 100: the plain loop vs batched ensembles (eager, CUDA graph, TF32, bf16, fused).

    Each ensemble variant trains once, ``WARMUP_STEPS`` + 3 x ``interval`` steps from the same start, and
    is timed over the last three stretches (``_steady``). The graphed and fused float32 ensembles are
    checked against the eager one of the same K (largest parameter difference after the same steps),
    so the speed-up is not bought with a different result. float32 matmuls are full precision
    (PyTorch's default) except in the "TF32" rows; no chapter uses TF32 or bf16 (see the cost page).
    """
    hidden = 64 if quick else 4096
    sizes = [784, hidden, hidden, 10]
    n, batch, interval = (2400, 100, 2) if quick else (60000, 100, 65)
    x = torch.rand(n, 784, device=device)
    y = torch.randint(10, (n,), device=device)
    flops_per_step = mlp_flops_per_example(sizes) * batch
    steps = WARMUP_STEPS + 3 * interval
    sub = slice(0, steps * batch)
    rows = []

    def row(variant, k, seconds_per_step, step, precision, **extra):
        rows.append(
            _mlp_row(
                device,
                "mlp",
                variant,
                k,
                seconds_per_step,
                n // batch,
                flops_per_step,
                step,
                precision,
                sizes,
                batch,
                **extra,
            )
        )

    _reset_memory(device)
    model = mlp_module(sizes, torch.Generator().manual_seed(0)).to(device)
    reference = _timed(
        lambda: train_reference(model, x[sub], y[sub], order_seed=0, epochs=1, batch_size=batch, lr=0.01),  # noqa: F821
        device,
        3,
        "mlp: reference loop",
    )
    row("reference loop", 1, reference / steps, "torch.optim.SGD", "float32")
    del model
    variants = [("float32", None, False, "highest")]
    if device.type == "cuda":
        variants += [
            ("float32", None, True, "highest"),
            ("TF32 matmuls", None, True, "high"),
            ("bf16 autocast", torch.bfloat16, True, "highest"),
        ]
    else:  # the graph's buffer semantics, emulated: checks the comparison path (its difference must be 0)
        variants += [("float32", None, "emulate", "highest"), ("bf16 autocast", torch.bfloat16, False, "highest")]
    for k in (2, 4) if quick else (8, 32, 128):
        eager_params = None
        for name, autocast, graphs, precision in variants:
            ensemble, seconds = _train_mlp_ensemble(
                device,
                sizes,
                k,
                x[sub],
                y[sub],
                batch,
                interval,
                precision,
                f"mlp: K={k} {name}, graphs={graphs}, matmul precision {precision}",
                autocast_dtype=autocast,
                graphs=graphs,
            )
            extra = {}
            if autocast is None and precision == "highest":  # the float32 rows: eager first, then graphed
                if not graphs:  # kept on the host, so that later rows' peak memory does not count it
                    eager_params = [t.cpu() for t in ensemble.parameters()]
                else:
                    extra["max_abs_diff_vs_eager"] = _max_abs_diff(ensemble.parameters(), eager_params)
            # bf16: autocast's casts make the traffic depend on kernel choices, so its bytes are not modelled
            row(
                f"batched ensemble, {name}, {ensemble.step_mode}",
                k,
                seconds,
                None if autocast else "autograd",
                "bf16" if autocast else {"highest": "float32", "high": "TF32"}[precision],
                **extra,
            )
            del ensemble
        fused, seconds = _train_mlp_ensemble(
            device, sizes, k, x[sub], y[sub], batch, interval, "highest", f"mlp: K={k} fused SGD step", fused=True
        )
        row(
            "batched ensemble, fused SGD step (eager, float32)",
            k,
            seconds,
            "fused",
            "float32",
            max_abs_diff_vs_eager=_max_abs_diff(fused.parameters(), eager_params),
        )
        del fused, eager_params
    # another workload (10x fewer steps per epoch): its speed-ups are against its own first row
    return _add_speedups(rows, "seconds_per_model_epoch") + _add_speedups(
        _mlp_large_batch(device, quick, sizes, x, y), "seconds_per_model_epoch"
    )


def _train_mlp_ensemble(device, sizes, k, x, y, batch, interval, precision, label, fused=False, **options):
    """A fresh K-model ensemble trained on (x, y) under a matmul ``precision`` (with ``train_fused`` if
    ``fused``), and its steady seconds per step (``_steady``)."""
    _reset_memory(device)
    ensemble = MLPEnsemble(sizes, init_seeds=range(k), device=device)
    checkpoints = [WARMUP_STEPS + i * interval for i in range(4)]
    train = train_fused if fused else train_ensemble
    with _matmul_precision(precision):
        seconds = _steady(
            lambda mark: train(
                ensemble,
                x,
                y,
                order_seeds=range(k),
                epochs=1,
                batch_size=batch,
                lr=0.01,
                checkpoints=checkpoints,
                callback=mark,
                **options,
            ),
            device,
            label,
        )
    return ensemble, seconds / interval


def _mlp_large_batch(device, quick, sizes, x, y):
    """The same MLP at batch 1,000, where the step can be compute-bound: the batched ensemble's float32 step
    (TF32 matmuls too on CUDA), at the largest K."""
    batch, interval = (200, 2) if quick else (1000, 10)
    k = 4 if quick else 32
    sub = slice(0, (WARMUP_STEPS + 3 * interval) * batch)
    rows = []
    for precision in ["highest", "high"] if device.type == "cuda" else ["highest"]:
        ensemble, seconds = _train_mlp_ensemble(
            device,
            sizes,
            k,
            x[sub],
            y[sub],
            batch,
            interval,
            precision,
            f"mlp batch {batch}: K={k}, matmul precision {precision}",
        )
        variant = f"batched ensemble, float32, {ensemble.step_mode}" + (", TF32 matmuls" if precision == "high" else "")
        rows.append(
            _mlp_row(
                device,
                f"mlp, batch {batch}",
                variant,
                k,
                seconds,
                len(x) // batch,
                mlp_flops_per_example(sizes) * batch,
                "autograd",
                "TF32" if precision == "high" else "float32",
                sizes,
                batch,
            )
        )
        del ensemble
    return rows


def _mlp_row(
    device, case, variant, k, seconds_per_step, steps_per_epoch, flops_per_step, step, precision, sizes, batch, **extra
):
    """One MLP benchmark row: seconds per model-epoch, TFLOP/s, GB/s at the modelled traffic of its ``step``
    kind (``mlp_step_bytes``; None: not modelled), and the memory the run took."""
    gbps = None if step is None else k * mlp_step_bytes(sizes, batch, step) / seconds_per_step / 1e9
    return {
        "case": case,
        "variant": variant,
        "k": k,
        "seconds_per_model_epoch": seconds_per_step * steps_per_epoch / k,
        "tflops": k * flops_per_step / seconds_per_step / 1e12,
        "precision": precision,
        "gbps": gbps,
        "peak_gib": _peak_memory(device),
        "reserved_gib": _reserved_memory(device),
        **extra,
        **_take_split(),
    }


def bench_vgg(device, quick):
    """VGG-11, batch 128: the plain loop (``train_classifier``) vs single-model and stacked variants."""
    return _bench_cnn(device, quick, "vgg11", lambda: vgg("vgg11"), ks=(2,) if quick else (4, 8))


def bench_small_alexnet(device, quick):
    """Easy examples' Figure 2 as the chapter runs it: two small AlexNets (real, randY), width 200 (8 if quick)."""
    width = 8 if quick else 200
    return _bench_cnn(device, quick, f"small AlexNet, width {width}", lambda: SmallAlexNet(width=width), ks=(2,))


def cnn_flops_per_example(model, image_shape=(3, 32, 32)):
    """Forward + backward of a CNN: 6 flops per multiply-accumulate (forward, input gradient, weight
    gradient), 4 in the first convolution, whose input gradient is not needed (its multiply-accumulates
    counted on the input it sees inside the model: the small AlexNet crops)."""
    first = next(m for m in model.modules() if isinstance(m, torch.nn.Conv2d))
    seen = []
    hook = first.register_forward_hook(
        lambda module, inputs, output: seen.append(output[0].numel() * module.weight[0].numel())
    )
    total = conv_macs(model, image_shape)
    hook.remove()
    return 6 * total - 2 * seen[0]


def _bench_cnn(device, quick, case, make, ks):
    """The plain single-model loop vs channels-last + bf16 (+ torch.compile on CUDA), and K models stacked
    under vmap, eagerly and with the whole step as one CUDA graph (its parameters compared with the eager
    stacked run's). Every variant trains 4 epochs of ``steps`` minibatches and is timed over the last
    three (``_steady``); cuDNN autotuning (``cudnn.benchmark``) is on in every variant but the reference.
    On CUDA float32 convolutions run in TF32, PyTorch's default (``cudnn.allow_tf32``)."""
    batch, steps = (8, 4) if quick else (128, 30)
    n = batch * steps
    x = torch.randn(n, 3, 32, 32, device=device)
    y = torch.randint(10, (n,), device=device)
    train = dict(epochs=4, batch_size=batch, lr=0.01)
    flops_per_example = cnn_flops_per_example(make())
    float32 = "TF32" if device.type == "cuda" and torch.backends.cudnn.allow_tf32 else "float32"
    graphs = True if device.type == "cuda" else "emulate"

    def single(autocast, channels_last, compiled):
        model = make().to(device)
        xs = x.contiguous(memory_format=torch.channels_last) if channels_last else x
        if channels_last:
            model = model.to(memory_format=torch.channels_last)
        model = torch.compile(model) if compiled else model

        def run(mark):
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=autocast):
                train_classifier(model, xs, y, callback=mark, **train)

        return run, None

    def stacked(k, autocast, graphed):
        models = [make().to(device) for _ in range(k)]
        return (
            lambda mark: train_classifiers(
                models,
                x,
                y,
                seeds=range(k),
                autocast_dtype=torch.bfloat16 if autocast else None,
                graphs=graphed,
                callback=mark,
                **train,
            )
        ), models

    # (name, K, precision, make the run): each variant's models are made just before it runs, from the same seed
    variants = [
        ("reference: train_classifier, eager float32", 1, float32, lambda: single(False, False, False)),
        ("channels-last + bf16 autocast", 1, "bf16", lambda: single(True, True, False)),
    ]
    if device.type == "cuda" and not quick:
        variants.append(("channels-last + bf16 + torch.compile", 1, "bf16", lambda: single(True, True, True)))
    variants.append(
        ("stacked (vmap), float32, whole step as a CUDA graph", 1, float32, lambda: stacked(1, False, graphs))
    )
    for k in ks:
        variants += [
            ("stacked (vmap), float32", k, float32, lambda k=k: stacked(k, False, False)),
            ("stacked (vmap), float32, whole step as a CUDA graph", k, float32, lambda k=k: stacked(k, False, graphs)),
            ("stacked (vmap), bf16 autocast", k, "bf16", lambda k=k: stacked(k, True, False)),
        ]
    rows, eager = [], {}
    autotuning = torch.backends.cudnn.benchmark
    for i, (name, k, precision, make_run) in enumerate(variants):
        _reset_memory(device)
        torch.backends.cudnn.benchmark = i > 0  # the reference keeps PyTorch's default (off)
        torch.manual_seed(0)
        run, models = make_run()
        seconds = _steady(run, device, f"{case}: {name}, K={k}") / steps
        torch.backends.cudnn.benchmark = autotuning
        extra = {}
        if name == "stacked (vmap), float32":
            eager[k] = [p.detach().cpu() for m in models for p in m.parameters()]
        elif "graph" in name and k in eager:
            extra["max_abs_diff_vs_eager"] = _max_abs_diff([p for m in models for p in m.parameters()], eager[k])
        rows.append(
            {
                "case": case,
                "variant": name + (" (emulated)" if graphs == "emulate" and "graph" in name else ""),
                "k": k,
                "seconds_per_model_epoch": seconds / k * (50000 // batch),
                "tflops": k * flops_per_example * batch / seconds / 1e12,
                "precision": precision,
                "peak_gib": _peak_memory(device),
                "reserved_gib": _reserved_memory(device),
                **extra,
                **_take_split(),
            }
        )
        del run, models
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
        rows.append(
            {
                "case": f"per-example grads (784-{hidden}-{hidden}-10, batch {batch})",
                "variant": name,
                "k": 1,
                "seconds_per_batch": seconds,
                "peak_gib": _peak_memory(device),
                **_take_split(),
            }
        )
    return _add_speedups(rows, "seconds_per_batch")


def default_output(device_name):
    """bench/results-<device>.json at the repository root, e.g. results-nvidia-h100-80gb-hbm3.json."""
    slug = "".join(c if c.isalnum() else "-" for c in device_name.lower()).strip("-")
    return Path(__file__).resolve().parents[1] / "bench" / f"results-{slug}.json"


def bench_unrolled_sensitivity(device, quick):
    """One backward sweep through unrolled SGD (Arpit et al.'s 14x14 MNIST MLP, 64 measured losses).

    On CUDA the graphed sweep is checked against the eager one (largest gradient difference).
    """
    from .engine import mlp
    from .methods import sensitivity

    steps = 50 if quick else 2000
    g = torch.Generator().manual_seed(0)
    x = torch.randn(1000, 196, generator=g).to(device)
    y = torch.randint(10, (1000,), generator=g).to(device)
    params = mlp.init_params([196, 16, 16, 10], g, device=device)
    schedule = sensitivity.minibatch_schedule(1000, 10, steps, g).to(device)
    measured = list(range(max(1, steps - 63), steps + 1))
    outputs = {}  # the last result of each (second_order, graphs), to compare graphed with eager

    def sweep(second_order, graphs):
        outputs[second_order, graphs] = sensitivity.input_gradients(
            params, x, y, lr=0.01, schedule=schedule, measure_steps=measured, second_order=second_order, graphs=graphs
        )[0]

    variants = [("reference: torch.func vjp + vmap", "torch_func", False), ("closed-form R-pass", "closed_form", False)]
    variants.append(
        ("closed-form R-pass, CUDA graphs", "closed_form", True)
        if device.type == "cuda"
        else ("closed-form R-pass, emulated graphs", "closed_form", "emulate")
    )
    rows = []
    for name, second_order, graphs in variants:
        _reset_memory(device)
        seconds = _timed(
            lambda: sweep(second_order, graphs), device, 1 if not quick else 2, f"unrolled sensitivity: {name}"
        )
        extra = (
            {"max_abs_diff_vs_eager": _max_abs_diff([outputs[second_order, graphs]], [outputs[second_order, False]])}
            if graphs
            else {}
        )
        rows.append(
            {
                "case": "unrolled sensitivity (196-16-16-10, batch 10, 64 losses)",
                "variant": name,
                "k": 1,
                "seconds_per_step": seconds / steps,
                "peak_gib": _peak_memory(device),
                **extra,
                **_take_split(),
            }
        )
    return _add_speedups(rows, "seconds_per_step")


CASES = {
    "mlp": bench_mlp,
    "vgg11": bench_vgg,
    "small-alexnet": bench_small_alexnet,
    "per-example": bench_per_example,
    "unrolled": bench_unrolled_sensitivity,
}


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
    header = {
        "device": devices.name(device) if device.type == "cuda" else "cpu",
        "torch": torch.__version__,
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "quick": quick,
    }
    measured = ceilings(device, quick)
    peak = peaks(header["device"], measured)
    header.update(ceilings=measured, peaks=peak)
    print(json.dumps({"ceilings": measured, "peaks": peak}), flush=True)
    selected = list(cases or CASES)
    rows = []
    for name in selected:
        for row in CASES[name](device, quick):
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
    if profile:
        report = "\n\n".join(f"== {label}\n{text}" for label, text in _profiles)
        if out:
            suffix = f"-{'-'.join(selected)}" if cases else ""
            Path(out).with_name(Path(out).stem.replace("results-", "profile-") + suffix + ".txt").write_text(
                report + "\n"
            )
        else:
            print(report)
        _profiles = None
    return 0


def format_table(rows):
    """A markdown table of the benchmark rows (also used by the book's cost page)."""
    lines = [
        "| case | variant | K | seconds | speed-up | TFLOP/s | GB/s | bound: % of roofline | % of peak "
        "| busy; GEMM / conv / elementwise | peak / reserved GiB | max abs diff vs eager |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    number = lambda value, spec: "" if value is None else format(value, spec)
    for r in rows:
        seconds = r.get("seconds_per_model_epoch", r.get("seconds_per_batch", r.get("seconds_per_step")))
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
            f"| {r['case']} | {r['variant']} | {r['k']} | {seconds:.4g} | {r['speedup']:.1f}x "
            f"| {number(r.get('tflops'), '.1f')} | {number(r.get('gbps'), '.0f')} | {roofline} "
            f"| {number(r.get('peak_pct'), '.0f')} | {split} | {memory} "
            f"| {number(r.get('max_abs_diff_vs_eager'), '.1e')} |"
        )
    return "\n".join(lines)
