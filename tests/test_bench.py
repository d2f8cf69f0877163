"""The benchmark's arithmetic: traffic model, roofline placement, kernel kinds and time split."""

import pytest
import torch

from memo_utils.bench import profiling, roofline
from memo_utils.bench.timing import Timer


def test_step_traffic_counts_each_kind_of_update_per_parameter():
    sizes, batch = [3, 4, 2], 5  # weights 12 + 8, biases 4 + 2
    params, first = 12 + 8 + 4 + 2, 12 + 4 + 2  # the first layer and the biases get no input-gradient read
    activations = 4 * batch * (3 + 4 * (4 + 2))
    assert roofline.mlp_step_bytes(sizes, batch, "fused") == 16 * params - 4 * first + activations
    assert (
        roofline.mlp_step_bytes(sizes, batch, "autograd") - roofline.mlp_step_bytes(sizes, batch, "fused")
        == 16 * params
    )
    wide = [784, 4096, 4096, 10]  # the benchmark's MLP: the fused step moves just over 16 bytes per parameter
    per_parameter = roofline.mlp_step_bytes(wide, 100, "fused") / (784 * 4096 + 4096 * 4096 + 4096 * 10 + 8202)
    assert 15.0 < per_parameter < 16.2


def test_a_row_is_placed_under_the_memory_or_the_compute_roof():
    peak = {"gbps": 1000.0, "float32": 50.0}  # balance: 50 flop per byte
    memory = roofline.add_roofline({"tflops": 5.0, "gbps": 500.0, "precision": "float32"}, peak)  # 10 flop/B
    assert memory["bound"] == "memory" and memory["flop_per_byte"] == pytest.approx(10)
    assert memory["roofline_pct"] == pytest.approx(50) and memory["peak_pct"] == pytest.approx(10)  # half the bandwidth
    compute = roofline.add_roofline({"tflops": 40.0, "gbps": 100.0, "precision": "float32"}, peak)  # 400 flop/B
    assert compute["bound"] == "compute" and compute["roofline_pct"] == pytest.approx(80)
    conv = roofline.add_roofline({"tflops": 10.0, "precision": "float32"}, peak)  # no modelled bytes: % of peak only
    assert conv["peak_pct"] == pytest.approx(20) and "roofline_pct" not in conv
    assert "peak_pct" not in roofline.add_roofline({"tflops": 1.0, "precision": "bf16"}, peak)  # no such peak


def test_data_sheet_peaks_are_found_by_device_name_and_others_use_the_measured_ceilings():
    measured = {"copy_gbps": 10.0, "gemm_tflops": {"float32": 0.1}}
    assert roofline.peaks("NVIDIA H100 80GB HBM3", measured)["gbps"] == 3350
    assert roofline.peaks("NVIDIA H100 PCIe", measured)["gbps"] == 2000
    assert roofline.peaks("NVIDIA H200", measured)["gbps"] == 4800
    assert roofline.peaks("NVIDIA H200 NVL", measured)["bf16"] == 835
    assert "measured" in roofline.peaks("NVIDIA GH200 480GB", measured)["source"]  # another memory: not guessed
    cpu = roofline.peaks("cpu", measured)
    assert cpu["gbps"] == 10.0 and cpu["float32"] == 0.1 and "measured" in cpu["source"]


@pytest.mark.parametrize(
    "name, kind",
    [
        ("aten::addmm", "gemm"),
        ("sm90_xmma_gemm_f32f32_tf32f32", "gemm"),
        ("ampere_sgemm_128x64_nn", "gemm"),
        ("aten::cudnn_convolution", "convolution"),
        ("sm80_xmma_fprop_implicit_gemm_tf32", "convolution"),
        ("nvjet_tst_128x256_64x4_1x2_h_bz_coopA_NNT", "gemm"),
        ("gemv2T_kernel_val<int, int, float>", "gemm"),
        ("implicit_convolve_sgemm<float, float>", "convolution"),
        ("void at::native::vectorized_elementwise_kernel<4, ...>", "elementwise"),
        ("aten::relu", "elementwise"),
        ("cudnn::bn_fw_tr_1C11_kernel_NCHW<float, float>", "elementwise"),
        ("convert_fp32_to_bf16", "elementwise"),
    ],
)
def test_kernels_are_sorted_into_gemm_convolution_and_elementwise(name, kind):
    assert profiling.kernel_kind(name) == kind


def test_the_time_split_of_a_profiled_run_adds_up():
    import time

    from torch.profiler import ProfilerActivity, profile

    a, b = torch.randn(300, 300), torch.randn(300, 300)
    start = time.perf_counter()
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        (torch.relu(a @ b) * 2).sum()
    wall = time.perf_counter() - start
    split = profiling.time_split(prof.key_averages(), wall=wall, on_device=False)
    assert split["gemm"] + split["convolution"] + split["elementwise"] == pytest.approx(1)
    assert split["gemm"] > 0 and split["convolution"] == 0 and 0 < split["busy"] <= 1


def test_on_a_gpu_only_device_events_count_each_kernel_once():
    """key_averages lists each kernel as its own CUDA event, and the operators that launched it as CPU events
    that carry the same device time: counting both would double the busy time."""
    from types import SimpleNamespace

    from torch.autograd import DeviceType

    event = lambda key, kind, device_us: SimpleNamespace(
        key=key, device_type=kind, self_device_time_total=device_us, self_cpu_time_total=5.0
    )
    events = [
        event("aten::mm", DeviceType.CPU, 600.0),
        event("sm90_xmma_gemm_f32", DeviceType.CUDA, 600.0),
        event("aten::relu", DeviceType.CPU, 200.0),
        event("vectorized_elementwise_kernel", DeviceType.CUDA, 200.0),
    ]
    split = profiling.time_split(events, wall=0.002, on_device=True)
    assert split["busy"] == pytest.approx(0.4) and split["gemm"] == pytest.approx(0.75)


def test_the_ceilings_are_measured_on_this_device():
    measured = roofline.ceilings(Timer(torch.device("cpu")), quick=True)
    assert measured["copy_gbps"] > 0 and list(measured["gemm_tflops"]) == ["float32"]
    assert measured["gemm_tflops"]["float32"] > 0


def test_the_fused_step_allocates_no_parameter_sized_tensor_and_the_others_do():
    """The traffic model's premise, checked by what each step allocates (bytes per parameter per step): autograd
    materialises the gradient and lr * g (>= 8 bytes), torch.optim.SGD the gradient (>= 4), the fused step neither
    (its small allocations are activations)."""
    from torch.profiler import ProfilerActivity, profile

    from memo_utils.engine.ensemble import MLPEnsemble, train_ensemble, train_fused, train_reference
    from memo_utils.engine.models import mlp_module

    sizes, steps = [784, 512, 512, 10], 2
    params = sum(a * b for a, b in zip(sizes[:-1], sizes[1:])) + sum(sizes[1:])
    x, y = torch.rand(10 * steps, 784), torch.randint(10, (10 * steps,))
    train = dict(epochs=1, batch_size=10, lr=0.01)

    def allocated_per_parameter(run):
        with profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
            run()
        return sum(e.cpu_memory_usage for e in prof.events() if e.cpu_memory_usage > 0) / steps / params

    ensemble = MLPEnsemble(sizes, [0])
    fused = allocated_per_parameter(lambda: train_fused(ensemble, x, y, order_seeds=[0], **train))
    autograd = allocated_per_parameter(lambda: train_ensemble(ensemble, x, y, order_seeds=[0], **train))
    model = mlp_module(sizes, torch.Generator().manual_seed(0))
    sgd = allocated_per_parameter(lambda: train_reference(model, x, y, order_seed=0, **train))
    assert fused < 1.5 and autograd >= 8 and sgd >= 4, (fused, autograd, sgd)
