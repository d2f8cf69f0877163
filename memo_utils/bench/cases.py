"""The benchmark's cases, each an optimized path against the straightforward PyTorch reference in the same run:
rows of seconds, speed-ups over the case's first row, TFLOP/s, GB/s at the modelled traffic, memory."""

from __future__ import annotations

import importlib.util

import torch

from ..engine.ensemble import MLPEnsemble, train_ensemble, train_fused, train_reference
from ..engine.models import SmallAlexNet, mlp_module, vgg
from ..engine.per_example import per_example_grads, per_example_grads_backpack, per_example_grads_loop
from ..engine.stacked import train_classifiers
from ..engine.training import train_classifier
from .roofline import cnn_flops_per_example, mlp_flops_per_example, mlp_step_bytes
from .timing import WARMUP_STEPS, matmul_precision, max_abs_diff, peak_memory, reserved_memory, reset_memory


def add_speedups(rows, seconds_key):
    """Speed-up of every row over the first (the reference) of its case."""
    for row in rows:
        row["speedup"] = rows[0][seconds_key] / row[seconds_key]
    return rows


def bench_mlp(timer, quick):
    """MLP 784-4096-4096-10, batch 100: the plain loop vs batched ensembles (eager, CUDA graph, TF32, bf16, fused).

    Each ensemble variant trains once, ``WARMUP_STEPS`` + 3 x ``interval`` steps from the same start, and
    is timed over the last three stretches (``Timer.steady``). The graphed and fused float32 ensembles are
    checked against the eager one of the same K (largest parameter difference after the same steps),
    so the speed-up is not bought with a different result. float32 matmuls are full precision
    (PyTorch's default) except in the "TF32" rows; no chapter uses TF32 or bf16 (see the cost page).
    """
    device = timer.device
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

    reset_memory(device)
    model = mlp_module(sizes, torch.Generator().manual_seed(0)).to(device)
    reference, split = timer.timed(
        lambda: train_reference(model, x[sub], y[sub], order_seed=0, epochs=1, batch_size=batch, lr=0.01),  # noqa: F821
        3,
        "mlp: reference loop",
    )
    row("reference loop", 1, reference / steps, "torch.optim.SGD", "float32", **split)
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
            ensemble, seconds, split = _train_mlp_ensemble(
                timer,
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
                    extra["max_abs_diff_vs_eager"] = max_abs_diff(ensemble.parameters(), eager_params)
            # bf16: autocast's casts make the traffic depend on kernel choices, so its bytes are not modelled
            row(
                f"batched ensemble, {name}, {ensemble.step_mode}",
                k,
                seconds,
                None if autocast else "autograd",
                "bf16" if autocast else {"highest": "float32", "high": "TF32"}[precision],
                **extra,
                **split,
            )
            del ensemble
        fused, seconds, split = _train_mlp_ensemble(
            timer, sizes, k, x[sub], y[sub], batch, interval, "highest", f"mlp: K={k} fused SGD step", fused=True
        )
        row(
            "batched ensemble, fused SGD step (eager, float32)",
            k,
            seconds,
            "fused",
            "float32",
            max_abs_diff_vs_eager=max_abs_diff(fused.parameters(), eager_params),
            **split,
        )
        del fused, eager_params
    # another workload (10x fewer steps per epoch): its speed-ups are against its own first row
    return add_speedups(rows, "seconds_per_model_epoch") + add_speedups(
        _mlp_large_batch(timer, quick, sizes, x, y), "seconds_per_model_epoch"
    )


def _train_mlp_ensemble(timer, sizes, k, x, y, batch, interval, precision, label, fused=False, **options):
    """A fresh K-model ensemble trained on (x, y) under a matmul ``precision`` (with ``train_fused`` if
    ``fused``), its steady seconds per step (``Timer.steady``) and the time split of its trace."""
    reset_memory(timer.device)
    ensemble = MLPEnsemble(sizes, init_seeds=range(k), device=timer.device)
    checkpoints = [WARMUP_STEPS + i * interval for i in range(4)]
    train = train_fused if fused else train_ensemble
    with matmul_precision(precision):
        seconds, split = timer.steady(
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
            label,
        )
    return ensemble, seconds / interval, split


def _mlp_large_batch(timer, quick, sizes, x, y):
    """The same MLP at batch 1,000, where the step can be compute-bound: the batched ensemble's float32 step
    (TF32 matmuls too on CUDA), at the largest K."""
    batch, interval = (200, 2) if quick else (1000, 10)
    k = 4 if quick else 32
    sub = slice(0, (WARMUP_STEPS + 3 * interval) * batch)
    rows = []
    device = timer.device
    for precision in ["highest", "high"] if device.type == "cuda" else ["highest"]:
        ensemble, seconds, split = _train_mlp_ensemble(
            timer,
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
                **split,
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
        "peak_gib": peak_memory(device),
        "reserved_gib": reserved_memory(device),
        **extra,
    }


def bench_vgg(timer, quick):
    """VGG-11, batch 128: the plain loop (``train_classifier``) vs single-model and stacked variants."""
    return _bench_cnn(timer, quick, "vgg11", lambda: vgg("vgg11"), ks=(2,) if quick else (4, 8))


def bench_small_alexnet(timer, quick):
    """Easy examples' Figure 2 as the chapter runs it: two small AlexNets (real, randY), width 200 (8 if quick)."""
    width = 8 if quick else 200
    return _bench_cnn(timer, quick, f"small AlexNet, width {width}", lambda: SmallAlexNet(width=width), ks=(2,))


def _bench_cnn(timer, quick, case, make, ks):
    """The plain single-model loop vs channels-last + bf16 (+ torch.compile on CUDA), and K models stacked
    under vmap, eagerly and with the whole step as one CUDA graph (its parameters compared with the eager
    stacked run's). Every variant trains 4 epochs of ``steps`` minibatches and is timed over the last
    three (``Timer.steady``); cuDNN autotuning (``cudnn.benchmark``) is on in every variant but the reference.
    On CUDA float32 convolutions run in TF32, PyTorch's default (``cudnn.allow_tf32``)."""
    device = timer.device
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
        reset_memory(device)
        torch.backends.cudnn.benchmark = i > 0  # the reference keeps PyTorch's default (off)
        torch.manual_seed(0)
        run, models = make_run()
        seconds, split = timer.steady(run, f"{case}: {name}, K={k}")
        seconds /= steps
        torch.backends.cudnn.benchmark = autotuning
        extra = {}
        if name == "stacked (vmap), float32":
            eager[k] = [p.detach().cpu() for m in models for p in m.parameters()]
        elif "graph" in name and k in eager:
            extra["max_abs_diff_vs_eager"] = max_abs_diff([p for m in models for p in m.parameters()], eager[k])
        rows.append(
            {
                "case": case,
                "variant": name + (" (emulated)" if graphs == "emulate" and "graph" in name else ""),
                "k": k,
                "seconds_per_model_epoch": seconds / k * (50000 // batch),
                "tflops": k * flops_per_example * batch / seconds / 1e12,
                "precision": precision,
                "peak_gib": peak_memory(device),
                "reserved_gib": reserved_memory(device),
                **extra,
                **split,
            }
        )
        del run, models
    return add_speedups(rows, "seconds_per_model_epoch")


def bench_per_example(timer, quick):
    """Per-example gradients of an MNIST MLP: torch.func (and BackPACK, if installed) against a per-example loop."""
    device = timer.device
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
        reset_memory(device)
        seconds, split = timer.timed(lambda: fn(model, x, y), 3, f"per-example grads: {name}")
        rows.append(
            {
                "case": f"per-example grads (784-{hidden}-{hidden}-10, batch {batch})",
                "variant": name,
                "k": 1,
                "seconds_per_batch": seconds,
                "peak_gib": peak_memory(device),
                **split,
            }
        )
    return add_speedups(rows, "seconds_per_batch")


def bench_unrolled_sensitivity(timer, quick):
    """One backward sweep through unrolled SGD (Arpit et al.'s 14x14 MNIST MLP, 64 measured losses).

    On CUDA the graphed sweep is checked against the eager one (largest gradient difference).
    """
    from ..engine import mlp
    from ..methods import sensitivity

    device = timer.device
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
        reset_memory(device)
        seconds, split = timer.timed(
            lambda: sweep(second_order, graphs), 1 if not quick else 2, f"unrolled sensitivity: {name}"
        )
        extra = (
            {"max_abs_diff_vs_eager": max_abs_diff([outputs[second_order, graphs]], [outputs[second_order, False]])}
            if graphs
            else {}
        )
        rows.append(
            {
                "case": "unrolled sensitivity (196-16-16-10, batch 10, 64 losses)",
                "variant": name,
                "k": 1,
                "seconds_per_step": seconds / steps,
                "peak_gib": peak_memory(device),
                **extra,
                **split,
            }
        )
    return add_speedups(rows, "seconds_per_step")


CASES = {
    "mlp": bench_mlp,
    "vgg11": bench_vgg,
    "small-alexnet": bench_small_alexnet,
    "per-example": bench_per_example,
    "unrolled": bench_unrolled_sensitivity,
}
