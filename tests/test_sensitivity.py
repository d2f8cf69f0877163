"""Unrolled loss-sensitivity against finite differences through re-run SGD."""

import pytest
import torch

from memo_utils.engine import mlp
from memo_utils.methods import sensitivity

N, D, C, LR = 30, 6, 3, 0.3


@pytest.fixture(scope="module")
def setup():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(N, D, generator=g, dtype=torch.float64)
    y = torch.randint(C, (N,), generator=g)
    params = mlp.init_params([D, 5, 5, C], torch.Generator().manual_seed(1), torch.float64)
    schedule = sensitivity.minibatch_schedule(N, 4, 60, torch.Generator().manual_seed(2))
    return x, y, params, schedule


def _measured_loss(x_train, x, y, params, schedule, t, cls=None):
    """L_t after training on x_train; the measured minibatch keeps the unperturbed inputs (detached)."""
    _, params_t = sensitivity.train(params, x_train, y, schedule, LR, t, segment=10**9)
    xb = x[schedule[t]]
    if cls is None:
        return float(mlp.batch_loss(params_t, xb, y[schedule[t]]))
    return float(mlp.class_losses(params_t, xb, y[schedule[t]])[cls])


def test_class_losses_are_the_terms_of_the_minibatch_loss_by_label():
    g = torch.Generator().manual_seed(4)
    params = mlp.init_params([D, 5, C], g, torch.float64)
    x, y = torch.randn(8, D, generator=g, dtype=torch.float64), torch.tensor([0, 0, 1, 1, 1, 0, 0, 1])
    losses = mlp.class_losses(params, x, y)
    assert losses[2] == 0  # no example labelled 2 in this minibatch
    torch.testing.assert_close(losses.sum(), mlp.batch_loss(params, x, y))
    per_example = torch.nn.functional.cross_entropy(mlp.forward(params, x), y, reduction="none")
    torch.testing.assert_close(losses[1], per_example[y == 1].sum() / 8)


def test_unrolled_input_gradient_matches_finite_differences(setup):
    x, y, params, schedule = setup
    steps, class_steps = [20, 45, 60], [50]
    grads, class_grads = sensitivity.input_gradients(
        params, x, y, lr=LR, schedule=schedule, measure_steps=steps, class_specific_steps=class_steps, segment=7
    )
    eps = 1e-6
    for i, j in [(0, 0), (5, 3), (17, 2)]:
        e = torch.zeros_like(x)
        e[i, j] = eps
        for k, t in enumerate(steps):
            fd = (
                _measured_loss(x + e, x, y, params, schedule, t) - _measured_loss(x - e, x, y, params, schedule, t)
            ) / (2 * eps)
            assert grads[k, i, j].item() == pytest.approx(fd, rel=1e-5, abs=1e-9)
        fd = (
            _measured_loss(x + e, x, y, params, schedule, 50, cls=1)
            - _measured_loss(x - e, x, y, params, schedule, 50, cls=1)
        ) / (2 * eps)
        assert class_grads[0, 1, i, j].item() == pytest.approx(fd, rel=1e-5, abs=1e-9)


def test_the_segment_length_does_not_change_the_result(setup):
    x, y, params, schedule = setup
    a, _ = sensitivity.input_gradients(params, x, y, lr=LR, schedule=schedule, measure_steps=[33, 60], segment=5)
    b, _ = sensitivity.input_gradients(params, x, y, lr=LR, schedule=schedule, measure_steps=[33, 60], segment=64)
    torch.testing.assert_close(a, b)


def test_examples_not_yet_used_have_zero_sensitivity(setup):
    x, y, params, schedule = setup
    grads, _ = sensitivity.input_gradients(params, x, y, lr=LR, schedule=schedule, measure_steps=[3])
    used = torch.unique(schedule[:3].flatten())
    unused = torch.ones(N, dtype=torch.bool)
    unused[used] = False
    assert grads[0, unused].abs().max() == 0
    assert grads[0, used].abs().sum(-1).min() > 0


def test_closed_form_second_order_pass_equals_torch_func(setup):
    x, y, params, schedule = setup
    idx = schedule[0]
    g = torch.Generator().manual_seed(5)
    directions = tuple(torch.randn((7,) + p.shape, generator=g, dtype=p.dtype) for p in params)
    fast_h, fast_x = mlp.hvp_and_input_vjp(params, x[idx], y[idx], directions)
    ref_h, ref_x = mlp.grad_and_vjp_reference(params, x[idx], y[idx], directions)
    for a, b in zip(fast_h, ref_h):
        torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-12)
    torch.testing.assert_close(fast_x, ref_x, rtol=1e-10, atol=1e-12)
    fast_grad, _ = mlp._backprop(params, x[idx], y[idx])
    for a, b in zip(fast_grad, mlp._param_grad(params, x[idx], y[idx])):
        torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-12)


def test_runs_swept_together_equal_separate_sweeps():
    g = torch.Generator().manual_seed(3)
    runs = 3
    x = torch.randn(runs, N, D, generator=g, dtype=torch.float64)
    y = torch.randint(C, (runs, N), generator=g)
    inits = [mlp.init_params([D, 5, 5, C], torch.Generator().manual_seed(r), torch.float64) for r in range(runs)]
    schedules = [sensitivity.minibatch_schedule(N, 4, 40, torch.Generator().manual_seed(10 + r)) for r in range(runs)]
    params = tuple(torch.stack(p) for p in zip(*inits))
    together, together_classes = sensitivity.input_gradients_runs(
        params,
        x,
        y,
        lr=LR,
        schedule=torch.stack(schedules),
        measure_steps=[12, 40],
        class_specific_steps=[30],
        segment=9,
    )
    for r in range(runs):
        alone, alone_classes = sensitivity.input_gradients(
            inits[r], x[r], y[r], lr=LR, schedule=schedules[r], measure_steps=[12, 40], class_specific_steps=[30]
        )
        torch.testing.assert_close(together[r], alone, rtol=1e-10, atol=1e-13)
        torch.testing.assert_close(together_classes[r], alone_classes, rtol=1e-10, atol=1e-13)


def test_torch_func_reference_sweep_gives_the_same_gradients(setup):
    x, y, params, schedule = setup
    fast, _ = sensitivity.input_gradients(params, x, y, lr=LR, schedule=schedule, measure_steps=[25, 60])
    reference, _ = sensitivity.input_gradients(
        params, x, y, lr=LR, schedule=schedule, measure_steps=[25, 60], second_order="torch_func"
    )
    torch.testing.assert_close(fast, reference, rtol=1e-10, atol=1e-13)


def test_graphed_sweep_equals_the_eager_one_under_the_graph_buffer_semantics(setup):
    """CPU stand-in for CUDA graphs: forward, recomputation and backward steps all graphed."""
    x, y, params, schedule = setup
    kw = dict(lr=LR, schedule=schedule, measure_steps=[20, 45, 60], class_specific_steps=[50], segment=7)
    eager, eager_classes = sensitivity.input_gradients(params, x, y, graphs=False, **kw)
    graphed, graphed_classes = sensitivity.input_gradients(params, x, y, graphs="emulate", **kw)
    torch.testing.assert_close(graphed, eager, rtol=0, atol=0)
    torch.testing.assert_close(graphed_classes, eager_classes, rtol=0, atol=0)
