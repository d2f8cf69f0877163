import pytest
import torch

from memo_utils.engine.ensemble import MLPEnsemble, train_ensemble, train_fused, train_reference
from memo_utils.engine.models import mlp_module

SIZES = [12, 16, 8, 3]


def _toy_data(n=50, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, SIZES[0], generator=g), torch.randint(SIZES[-1], (n,), generator=g)


def _ensemble_weights_as_reference(ensemble, k):
    """Model k's parameters in nn.Linear layout, to compare with a reference run."""
    out = []
    for w, b in zip(ensemble.weights, ensemble.biases):
        out += [w[k].T, b[k, 0]]
    return out


def _train_both(seeds, dtype, momentum=0.0):
    x, y = _toy_data()
    x = x.to(dtype)
    ensemble = MLPEnsemble(SIZES, init_seeds=seeds, dtype=dtype)
    finite = train_ensemble(ensemble, x, y, order_seeds=seeds, epochs=3, batch_size=7, lr=0.1, momentum=momentum)
    references = [
        train_reference(
            mlp_module(SIZES, torch.Generator().manual_seed(s)).to(dtype),
            x,
            y,
            order_seed=s,
            epochs=3,
            batch_size=7,
            lr=0.1,
            momentum=momentum,
        )
        for s in seeds
    ]
    return ensemble, finite, references


def test_k1_ensemble_follows_the_plain_training_loop_in_float32():
    ensemble, finite, (reference,) = _train_both([5], torch.float32)
    assert finite.all()
    for mine, theirs in zip(_ensemble_weights_as_reference(ensemble, 0), reference.parameters()):
        torch.testing.assert_close(mine, theirs.detach(), rtol=1e-5, atol=1e-6)


def test_k_models_equal_k_separate_runs_with_momentum_in_float64():
    seeds = [0, 1, 2, 3]
    ensemble, finite, references = _train_both(seeds, torch.float64, momentum=0.9)
    assert finite.all()
    for k, reference in enumerate(references):
        for mine, theirs in zip(_ensemble_weights_as_reference(ensemble, k), reference.parameters()):
            torch.testing.assert_close(mine, theirs.detach(), rtol=1e-10, atol=1e-12)


def test_models_differ_when_seeds_differ():
    ensemble, _, _ = _train_both([0, 1], torch.float32)
    assert not torch.allclose(ensemble.weights[0][0], ensemble.weights[0][1])


def test_per_model_labels_train_each_model_on_its_own_labels():
    x, y = _toy_data()
    labels = torch.stack([y, (y + 1) % SIZES[-1]])
    ensemble = MLPEnsemble(SIZES, init_seeds=[0, 0])
    train_ensemble(ensemble, x, labels, order_seeds=[0, 0], epochs=30, batch_size=10, lr=0.2)
    predictions = ensemble.predict(x)
    accuracy = (predictions == labels).float().mean(1)
    assert (accuracy > 0.6).all(), accuracy


def test_a_diverged_model_is_flagged_and_does_not_spoil_the_others():
    x, y = _toy_data()
    ensemble = MLPEnsemble(SIZES, init_seeds=[0, 1])
    with torch.no_grad():
        ensemble.weights[0][1].fill_(float("nan"))
    finite = train_ensemble(ensemble, x, y, order_seeds=[0, 1], epochs=1, batch_size=10, lr=0.1)
    assert finite.tolist() == [True, False]
    assert torch.isfinite(ensemble.weights[0][0]).all()


@pytest.mark.parametrize("method", ["torch_func", "backpack"])
def test_vectorised_per_example_gradients_equal_the_per_example_loop(method):
    from memo_utils.engine import per_example

    if method == "backpack":
        pytest.importorskip("backpack")  # optional: the benchmark compares it when installed
    fast_grads = {"torch_func": per_example.per_example_grads, "backpack": per_example.per_example_grads_backpack}
    x, y = _toy_data(n=9)
    model = mlp_module(SIZES, torch.Generator().manual_seed(0))
    fast, slow = fast_grads[method](model, x, y), per_example.per_example_grads_loop(model, x, y)
    assert set(fast) == set(slow)
    for name in fast:
        torch.testing.assert_close(fast[name], slow[name], rtol=1e-5, atol=1e-6)
    # and they sum to the gradient of the summed loss
    model.zero_grad()
    torch.nn.functional.cross_entropy(model(x), y, reduction="sum").backward()
    torch.testing.assert_close(fast["1.weight"].sum(0), model[1].weight.grad, rtol=1e-5, atol=1e-6)


def test_bf16_autocast_path_runs_on_the_cpu_and_stays_close_to_float32():
    x, y = _toy_data(n=200)
    full = MLPEnsemble(SIZES, init_seeds=[0, 1])
    half = MLPEnsemble(SIZES, init_seeds=[0, 1])
    train_ensemble(full, x, y, order_seeds=[0, 1], epochs=5, batch_size=20, lr=0.2)
    finite = train_ensemble(
        half, x, y, order_seeds=[0, 1], epochs=5, batch_size=20, lr=0.2, autocast_dtype=torch.bfloat16
    )
    assert finite.all() and half.weights[0].dtype == torch.float32  # master weights stay float32
    agreement = (full.predict(x) == half.predict(x)).float().mean()
    assert agreement > 0.9, agreement


def test_cuda_graph_settings_resolve_per_device_and_reject_unknown_values():
    from memo_utils.engine.graphs import graph_mode

    assert graph_mode("auto", "cpu") == graph_mode(True, "cpu") == graph_mode(False, "cuda") == "eager"
    assert graph_mode("auto", "cuda") == "cuda graph" and graph_mode("emulate", "cpu") == "emulated graph"
    with pytest.raises(ValueError, match="graphs='yes' is not allowed"):
        graph_mode("yes", "cpu")


def test_graphed_training_steps_equal_eager_ones_under_the_graph_buffer_semantics():
    """CPU stand-in for the CUDA-graph path: static inputs, outputs overwritten on every call."""
    x, y = _toy_data()
    eager, graphed = MLPEnsemble(SIZES, init_seeds=[0, 1]), MLPEnsemble(SIZES, init_seeds=[0, 1])
    for ensemble, graphs in ((eager, False), (graphed, "emulate")):
        train_ensemble(ensemble, x, y, order_seeds=[0, 1], epochs=2, batch_size=7, lr=0.1, momentum=0.9, graphs=graphs)
    assert (eager.step_mode, graphed.step_mode) == ("eager", "emulated graph")
    for a, b in zip(eager.parameters(), graphed.parameters()):
        torch.testing.assert_close(a, b, rtol=0, atol=0)


def test_per_model_inputs_equal_separate_runs_on_each_input_set():
    x, y = _toy_data()
    x2, _ = _toy_data(seed=1)
    inputs = torch.stack([x, x2]).double()
    ensemble = MLPEnsemble(SIZES, init_seeds=[3, 4], dtype=torch.float64)
    train_ensemble(ensemble, inputs, y, order_seeds=[3, 4], epochs=2, batch_size=7, lr=0.1)
    for k, (xs, seed) in enumerate(((x, 3), (x2, 4))):
        reference = train_reference(
            mlp_module(SIZES, torch.Generator().manual_seed(seed)).double(),
            xs.double(),
            y,
            order_seed=seed,
            epochs=2,
            batch_size=7,
            lr=0.1,
        )
        for mine, theirs in zip(_ensemble_weights_as_reference(ensemble, k), reference.parameters()):
            torch.testing.assert_close(mine, theirs.detach(), rtol=1e-10, atol=1e-12)
    assert ensemble.predict(inputs).shape == (2, len(y))
    torch.testing.assert_close(ensemble.predict(inputs)[0], ensemble.predict(x.double())[0])


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"momentum": 0.9},
        {"momentum": 0.9, "keep": True},
        {"turn_over": True},
        {"output_bias": False, "momentum": 0.5},
    ],
)
def test_the_fused_sgd_step_equals_autograd_and_sgd_in_float64(options):
    """Per-model labels, several epochs with a smaller last batch; with momentum, per-example keep masks,
    turn-over masks, and an untrained output bias."""
    from memo_utils.methods import turn_over

    g = torch.Generator().manual_seed(3)
    x = torch.randn(37, 12, generator=g, dtype=torch.float64)
    y = torch.randint(4, (3, 37), generator=g)
    make = lambda: MLPEnsemble(
        [12, 10, 8, 4], [5, 6, 7], dtype=torch.float64, output_bias=options.get("output_bias", True)
    )
    keep = torch.rand(3, 37, generator=g) > 0.3 if options.get("keep") else None
    train = dict(
        order_seeds=[1, 2, 3], epochs=3, batch_size=8, lr=0.1, momentum=options.get("momentum", 0.0), keep=keep
    )
    reference, fused = make(), make()
    masks = lambda ens: turn_over.ensemble_masks(ens, [0, 1, 2]) if options.get("turn_over") else None
    ok_reference = train_ensemble(reference, x, y, graphs=False, hidden_masks=masks(reference), **train)
    ok_fused = train_fused(fused, x, y, hidden_masks=masks(fused), **train)
    assert ok_reference.all() and ok_fused.all()
    for a, b in zip(reference.weights + reference.biases, fused.weights + fused.biases):
        torch.testing.assert_close(b, a, rtol=0, atol=1e-10)
    assert not torch.equal(reference.weights[0], make().weights[0])  # it trained


def test_the_fused_step_keeps_a_diverged_model_apart():
    g = torch.Generator().manual_seed(4)
    x, y = torch.randn(20, 6, generator=g, dtype=torch.float64), torch.randint(3, (2, 20), generator=g)
    reference, fused = (MLPEnsemble([6, 5, 3], [1, 2], dtype=torch.float64) for _ in range(2))
    for ens in (reference, fused):
        ens.weights[0][1, 0, 0] = float("nan")
    train = dict(order_seeds=[1, 2], epochs=2, batch_size=5, lr=0.1, momentum=0.9)
    train_ensemble(reference, x, y, graphs=False, **train)
    finite = train_fused(fused, x, y, **train)
    assert finite.tolist() == [True, False]
    torch.testing.assert_close(fused.weights[0][0], reference.weights[0][0], rtol=0, atol=1e-10)
    assert torch.isnan(fused.weights[1][1]).all()
