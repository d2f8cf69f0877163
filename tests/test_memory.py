"""A cell's memory is estimated from its networks' shapes and checked before anything is allocated."""

import numpy as np
import pytest
import torch
from test_cli import _run

from memo_utils import experiments
from memo_utils.engine import memory
from memo_utils.engine.ensemble import MLPEnsemble
from memo_utils.engine.models import SmallAlexNet, vgg
from memo_utils.errors import InsufficientMemoryError
from memo_utils.framework import profiles
from memo_utils.framework.chapter import Chapter, Param, Part

H200 = 139 * 2**30  # the largest device these profiles are run on


@pytest.mark.parametrize("build", [lambda: SmallAlexNet(width=8), lambda: vgg("vgg11", width=0.125)])
def test_a_networks_count_from_the_meta_device_matches_the_real_network(build):
    counted = memory.network(build, (3, 32, 32), batch=5)
    torch.manual_seed(0)
    real = build()
    outputs = []
    for module in real.modules():
        if not list(module.children()):
            module.register_forward_hook(lambda m, i, out: outputs.append(out.numel()))
    real(torch.randn(5, 3, 32, 32))
    assert counted.parameters == sum(p.numel() for p in real.parameters())
    assert counted.activations == sum(outputs)


def test_an_mlps_count_matches_the_ensembles_parameters():
    sizes = [784, 30, 20, 10]
    ensemble = MLPEnsemble(sizes, [0, 1, 2])
    counted = memory.mlp(sizes, batch=7, models=3)
    assert counted.models * counted.parameters == sum(p.numel() for p in ensemble.parameters())
    assert counted.activations == 7 * (30 + 20 + 10)
    assert memory.needed(counted, data=11) == 4 * (3 * (2 * counted.parameters + 2 * counted.activations) + 11)


def test_a_cell_too_large_for_its_device_is_refused_in_one_line_before_it_computes(isolated_results):
    computed = []
    part = Part(
        "values",
        1,
        compute=lambda cfg, cell, inputs, device: computed.append(1) or {"y": np.zeros(1)},
        memory=lambda cfg, cell: cfg["size"] * 2**20,
    )
    toy = Chapter(
        "toy",
        paper="arpit2017",
        parts=(part,),
        claims=(),
        evidence=lambda results, cfg: None,
        params=(Param("size", profiles.positive_int, 1, paper="-", parts=("values",)),),
    )
    toy.run(toy.config("cpu", size=1), device="cpu")  # a mebibyte: computed
    assert computed == [1]
    with pytest.raises(InsufficientMemoryError) as error:
        toy.run(toy.config("cpu", size=10**7), device="cpu")  # ten tebibytes: refused
    message = str(error.value)
    assert "\n" not in message and message.startswith("toy/values needs at least 9,765.6 GiB on cpu, which has ")
    assert message.endswith("GiB free: lower size, or run it on a larger device") and computed == [1]


@pytest.mark.slow  # a subprocess
def test_on_the_command_line_a_width_that_cannot_fit_is_one_line_not_an_allocator_traceback(tmp_path):
    done = _run(
        "run",
        "easy_examples",
        "--profile",
        "smoke",
        "--set",
        "hidden=10000000",
        "--part",
        "mlp/dataset=real",
        env_extra={"MEMO_RESULTS_DIR": str(tmp_path)},
    )
    assert done.returncode == 2, done.stderr
    (line,) = done.stderr.strip().splitlines()
    assert line.startswith("error: easy_examples/mlp/dataset=real needs at least ") and "lower " in line


@pytest.mark.parametrize("name", experiments.CHAPTERS)
def test_every_cell_of_the_cpu_profile_fits_this_machine_and_of_the_gpu_profile_an_h200(name):
    chapter = experiments.get(name)
    for profile, limit in (("smoke", 2**30), ("cpu", 4 * 2**30), ("gpu", H200)):
        cfg = chapter.config(profile)
        for part, cell in chapter.cells(cfg):
            estimate = part.memory(chapter.part_config(part, cfg), cell)
            assert 0 < estimate < limit, (profile, part.name, cell, estimate / 2**30)
