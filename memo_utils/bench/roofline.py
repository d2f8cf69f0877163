"""The roofline: the device's ceilings (data sheet, or measured in the run), and where a row sits under them
at its flop count and modelled memory traffic."""

from __future__ import annotations

import re

import torch

from ..engine.models import conv_macs
from .timing import matmul_precision

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


def ceilings(timer, quick):
    """What this device reaches in this run: a device-to-device copy (GB/s, bytes read plus written) and a
    large square GEMM per precision (TFLOP/s), the measured counterparts of the data sheet's peaks."""
    device = timer.device
    n = 2**16 if quick else 2**28  # float32 elements: 1 GiB
    src = torch.rand(n, device=device)
    dst = torch.empty_like(src)
    measured = {
        "copy_gbps": 2 * 4 * n / timer.timed(lambda: dst.copy_(src), 5, "copy", trace=False)[0] / 1e9,  # noqa: F821
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
        with matmul_precision(precision):
            seconds, _ = timer.timed(lambda: left @ right, 5, "gemm", trace=False)
        measured["gemm_tflops"][name] = 2 * m**3 / seconds / 1e12
    return measured


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
