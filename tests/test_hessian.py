"""Sharpness by power iteration against the explicit Hessian (torch.func) of tiny MLPs."""

import pytest
import torch
from torch.func import hessian

from memo_utils.engine import mlp
from memo_utils.engine.ensemble import MLPEnsemble
from memo_utils.methods import hessian as hs

SIZES, N = [4, 3, 3], 20


def _problem(seed, sizes=SIZES, n=N, scale=1.0):
    g = torch.Generator().manual_seed(seed)
    params = tuple(scale * p for p in mlp.init_params(sizes, g, torch.float64))
    x = torch.randn(n, sizes[0], generator=g, dtype=torch.float64)
    y = torch.randint(sizes[-1], (n,), generator=g)
    return params, x, y


def _explicit_hessian(params, x, y):
    """The Hessian of the mean cross-entropy over the flattened parameters, by torch.func."""
    shapes, sizes = [p.shape for p in params], [p.numel() for p in params]

    def loss(flat):
        return mlp.batch_loss(tuple(t.view(s) for t, s in zip(flat.split(sizes), shapes)), x, y)

    return hessian(loss)(torch.cat([p.reshape(-1) for p in params]))


def _runs(*problems):
    """Stack single-run problems along a leading run dimension."""
    params = tuple(torch.stack(ps) for ps in zip(*(p for p, _, _ in problems)))
    return params, torch.stack([x for _, x, _ in problems]), torch.stack([y for _, _, y in problems])


def test_matches_the_top_eigenvalue_of_the_explicit_hessian():
    params, x, y = _problem(0)
    spectrum = torch.linalg.eigvalsh(_explicit_hessian(params, x, y))
    assert spectrum[0] < 0  # the Hessian is indefinite: the test covers the sign question
    values, converged, history = hs.top_eigenvalue(tuple(p[None] for p in params), x, y, iterations=2000, tol=1e-12)
    assert converged.tolist() == [True]
    assert values[0].item() == pytest.approx(spectrum[-1].item(), rel=1e-6)
    assert history.shape[1] == 1 and history[-1, 0] == values[0]


def test_a_dominant_negative_eigenvalue_still_gives_the_largest_eigenvalue():
    # two hidden layers: here lambda_min = -0.685 outweighs lambda_max = 0.639 (rare: 1 of the
    # 2400 small problems searched), so plain power iteration converges to lambda_min; the
    # shifted second phase must find lambda_max
    params, x, y = _problem(201, sizes=[2, 3, 3, 2], n=6)
    spectrum = torch.linalg.eigvalsh(_explicit_hessian(params, x, y))
    assert -spectrum[0] > spectrum[-1] > 0
    values, converged, history = hs.top_eigenvalue(tuple(p[None] for p in params), x, y, iterations=3000, tol=1e-12)
    assert converged.tolist() == [True]
    assert values[0].item() == pytest.approx(spectrum[-1].item(), rel=1e-6)
    assert history[:, 0].min().item() == pytest.approx(spectrum[0].item(), rel=1e-6)  # the first phase's value


def test_runs_batched_together_equal_runs_alone():
    problems = [_problem(seed) for seed in (1, 2, 3)]
    # different parameters and labels per run, inputs per run
    values, converged, _ = hs.top_eigenvalue(*_runs(*problems), iterations=3000, tol=1e-12)
    assert converged.all()
    for r, (params, x, y) in enumerate(problems):
        alone, ok, _ = hs.top_eigenvalue(tuple(p[None] for p in params), x, y, iterations=3000, tol=1e-12)
        assert ok.all()
        assert values[r].item() == pytest.approx(alone[0].item(), rel=1e-8)
    assert len(set(values.tolist())) == 3
    # in lockstep (a negative tol: no run stops early), where the runs could interfere at every iteration
    lockstep, converged, history = hs.top_eigenvalue(*_runs(*problems), iterations=1000, tol=-1)
    assert not converged.any() and history.shape == (1000, 3)
    torch.testing.assert_close(lockstep, values, rtol=1e-8, atol=0)


def test_shared_inputs_equal_inputs_repeated_per_run():
    (p1, x, y1), (p2, _, y2) = _problem(4), _problem(5)
    params = tuple(torch.stack(ps) for ps in zip(p1, p2))
    y = torch.stack([y1, y2])
    shared, _, h_shared = hs.top_eigenvalue(params, x, y, iterations=50, generator=torch.Generator().manual_seed(7))
    repeated, _, h_repeated = hs.top_eigenvalue(
        params, x.expand(2, -1, -1), y, iterations=50, generator=torch.Generator().manual_seed(7)
    )
    torch.testing.assert_close(shared, repeated)
    torch.testing.assert_close(h_shared, h_repeated, equal_nan=True)


def test_chunks_that_do_not_divide_n_give_the_same_value_as_one_chunk():
    params, x, y = _runs(_problem(6, n=23), _problem(7, n=23))
    one, c1, h1 = hs.top_eigenvalue(params, x, y, iterations=200, tol=1e-10, chunk=4096)
    chunked, c2, h2 = hs.top_eigenvalue(params, x, y, iterations=200, tol=1e-10, chunk=5)
    assert c1.tolist() == c2.tolist()
    torch.testing.assert_close(chunked, one, rtol=1e-12, atol=0)
    torch.testing.assert_close(h2, h1, rtol=1e-10, atol=1e-14, equal_nan=True)


def test_too_few_iterations_report_not_converged():
    params, x, y = _runs(_problem(0), _problem(8))
    values, converged, history = hs.top_eigenvalue(params, x, y, iterations=3, tol=1e-12)
    assert converged.tolist() == [False, False]
    assert history.shape == (3, 2)
    assert torch.isfinite(values).all()
    # a loose tolerance lets one run stop early while the other goes on: converged per run
    _, converged, history = hs.top_eigenvalue(params, x, y, iterations=3000, tol=1e-12)
    stopped = history.isnan().any(0)
    assert converged.all() and stopped.any() and not stopped.all()


def test_the_hessian_vector_product_agrees_with_torch_autograd():
    params, x, y = _runs(_problem(9, n=17), _problem(10, n=17))
    g = torch.Generator().manual_seed(11)
    vectors = tuple(torch.randn(p.shape, generator=g, dtype=torch.float64) for p in params)
    ours = hs.hessian_vector_product(params, x, y, vectors, chunk=4)
    for r in range(2):
        _, reference = torch.autograd.functional.hvp(
            lambda *ps: mlp.batch_loss(ps, x[r], y[r]), tuple(p[r] for p in params), tuple(v[r] for v in vectors)
        )
        for a, b in zip(ours, reference):
            torch.testing.assert_close(a[r], b, rtol=1e-10, atol=1e-12)


def test_ensemble_params_are_the_models_parameters():
    ensemble = MLPEnsemble(SIZES, [0, 1], dtype=torch.float64)
    params = hs.ensemble_params(ensemble)
    assert [tuple(p.shape) for p in params] == [(2, 4, 3), (2, 3), (2, 3, 3), (2, 3)]
    x = torch.randn(6, 4, generator=torch.Generator().manual_seed(12), dtype=torch.float64)
    torch.testing.assert_close(mlp.forward(params, x), ensemble.forward(x.expand(2, -1, -1)))
    values, converged, _ = hs.top_eigenvalue(params, x, torch.tensor([0, 1, 2, 0, 1, 2]), iterations=500, tol=1e-10)
    assert values.shape == (2,) and converged.all()


def test_bad_shapes_are_refused():
    params, x, y = _runs(_problem(0), _problem(1))
    with pytest.raises(ValueError):
        hs.top_eigenvalue(params, x[:1], y[:1])
    with pytest.raises(ValueError):
        hs.top_eigenvalue(params, x[0], y[:, :5])  # shared inputs, labels of another N
    with pytest.raises(ValueError):
        hs.top_eigenvalue(params, x, y[:1])
    hs.top_eigenvalue(params, x[0], y, iterations=1)  # shared inputs, labels per run: allowed
