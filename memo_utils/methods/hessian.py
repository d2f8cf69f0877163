"""Sharpness: the largest eigenvalue of the Hessian of the training loss (Krueger et al. 2017, sec. 2.2).

Krueger et al. (2017, Figure 3 left) measure how sharp the minimum an MLP reaches is by "the
norm of the Hessian's largest eigenvalue", approximated "using the method of (LeCun et al.,
1993)": power iteration v <- H v / ||H v|| on the Hessian of the training loss, which needs
only Hessian-vector products, never H itself. Here H v comes from the closed-form R-operator
of :func:`memo_utils.engine.mlp.hvp_and_input_vjp` (Pearlmutter 1994), for R models at once.

Sign. Power iteration finds the eigenvalue of largest *magnitude*, and the Hessian of the
cross-entropy of a ReLU net is not positive semi-definite: H = J^T (diag p - p p^T) J + sum_k
(p_k - y_k) d^2 z_k / d theta^2, a PSD Gauss-Newton term plus a residual term. Since the logits
z are linear in each layer's parameters (for fixed ReLU masks), the residual term has zero
diagonal blocks per layer; with one hidden layer its spectrum is therefore symmetric (+-s),
so lambda_max >= s >= -lambda_min and the dominant eigenvalue is the largest one. With two or
more hidden layers a negative eigenvalue can dominate (rarely; ``tests/test_hessian.py`` has
one). :func:`top_eigenvalue` reports the Rayleigh quotient v^T H v, which keeps the sign, and
when the dominant eigenvalue it converged to is negative it runs a second power iteration on
H - lambda I, whose dominant eigenvalue is lambda_max - lambda >= 0: the result is always
the algebraically largest eigenvalue (the sharpest upward curvature), never |lambda_min|.
"""

from __future__ import annotations

import torch

from ..engine import mlp


def ensemble_params(ensemble):
    """The flat parameters (W1, b1, W2, b2, ...) of an :class:`~memo_utils.engine.ensemble.MLPEnsemble`.

    Weights (K, in, out), biases squeezed to (K, out): the run dimension is the model, as
    :func:`top_eigenvalue` expects. Detached views, not copies.
    """
    return tuple(t.detach() for w, b in zip(ensemble.weights, ensemble.biases) for t in (w, b.squeeze(1)))


def hessian_vector_product(params, x, y, vectors, *, chunk=4096):
    """H v for every run, H the Hessian of the mean cross-entropy over *all* of x.

    params and vectors: tuples with a leading run dimension R; x (R, N, d) or (N, d) shared;
    y (R, N) or (N,). The data are taken ``chunk`` examples at a time and each chunk's HVP
    (of its own mean loss) is weighted by its share of N, so the result does not depend on
    ``chunk``.
    """
    n = x.shape[-2]
    directions = tuple(v.unsqueeze(1) for v in vectors)  # one direction per run
    total = None
    with torch.no_grad():
        for start in range(0, n, chunk):
            yb = y[..., start : start + chunk]
            hv, _ = mlp.hvp_and_input_vjp(params, x[..., start : start + chunk, :], yb, directions)
            weight = yb.shape[-1] / n
            total = [weight * h for h in hv] if total is None else [t.add_(h, alpha=weight) for t, h in zip(total, hv)]
    return tuple(t.squeeze(1) for t in total)


def _dot(a, b):
    """Per-run inner product of two parameter tuples: (R,)."""
    return sum((u * v).flatten(1).sum(1) for u, v in zip(a, b))


def _normalise(vectors):
    norm = _dot(vectors, vectors).sqrt().clamp_min(torch.finfo(vectors[0].dtype).tiny)
    return tuple(v / norm.view((-1,) + (1,) * (v.ndim - 1)) for v in vectors)


def top_eigenvalue(params, x, y, *, iterations=100, tol=1e-4, chunk=4096, generator=None):
    """Largest eigenvalue of the Hessian of the mean training loss, per run, by power iteration.

    The sharpness of Krueger et al. (2017, sec. 2.2), computed as LeCun et al. (1993) do: power
    iteration with Hessian-vector products (:func:`hessian_vector_product`, all of x, all
    parameters). params: tuple with a leading run dimension R; x (R, N, d) or (N, d) shared by
    the runs (flattened inputs); y (R, N) or (N,).

    Each run starts from the same-shaped Gaussian direction drawn on the CPU from ``generator``
    (default: seed 0), so the result does not depend on the device; the direction is
    normalised per run. The estimate is the Rayleigh quotient v^T H v. A run stops when its
    estimate changes by at most ``tol`` relative to itself from one iteration to the next
    (the others keep iterating; a negative ``tol`` runs all ``iterations``); note that this
    bounds the last step, not the error, which is larger when the two largest eigenvalues
    (in magnitude) are close. If it stopped on a negative value (a negative eigenvalue
    dominates), the iteration restarts from the same direction on H - lambda I to find the
    largest eigenvalue (module docstring): at most ``iterations`` Hessian-vector products per
    phase, so such a run may use twice as many. Each Hessian-vector product is one pass over
    all of x, about three times the cost of a gradient.

    Returns ``(eigenvalues (R,), converged (R,) bool, history (iterations_run, R))``, float64 on
    the CPU. ``converged[r]`` is False when run r ran out of iterations; its eigenvalue is then
    the last estimate. ``history[t, r]`` is run r's estimate at iteration t (NaN once it stopped).
    """
    runs = params[0].shape[0]
    if (
        x.ndim not in (2, 3)
        or y.ndim not in (1, 2)
        or x.shape[-2] != y.shape[-1]
        or (x.ndim == 3 and x.shape[0] != runs)
        or (y.ndim == 2 and y.shape[0] != runs)
    ):
        raise ValueError(
            f"x must be (N, d) or ({runs}, N, d) and y (N,) or ({runs}, N): got x {tuple(x.shape)}, y {tuple(y.shape)}"
        )
    if iterations < 1 or chunk < 1:
        raise ValueError("iterations and chunk must be positive")
    generator = torch.Generator().manual_seed(0) if generator is None else generator
    start = tuple(torch.randn(p.shape, generator=generator, dtype=torch.float64).to(p) for p in params)
    start = _normalise(start)
    v = tuple(s.clone() for s in start)
    params = tuple(p.detach() for p in params)

    eigenvalues = torch.full((runs,), float("nan"), dtype=torch.float64)
    converged = torch.zeros(runs, dtype=torch.bool)
    active = torch.ones(runs, dtype=torch.bool)
    shift = torch.zeros(runs, dtype=torch.float64)  # 0, or the negative dominant eigenvalue (phase 2)
    previous = torch.full((runs,), float("nan"), dtype=torch.float64)
    steps = torch.zeros(runs, dtype=torch.long)  # Hessian-vector products in the current phase
    history = []
    while active.any():
        sel = slice(None) if active.all() else active.nonzero().squeeze(1).to(params[0].device)
        v_sel = tuple(t[sel] for t in v)
        hv = hessian_vector_product(
            tuple(p[sel] for p in params),
            x[sel] if x.ndim == 3 else x,
            y[sel] if y.ndim == 2 else y,
            v_sel,
            chunk=chunk,
        )
        rho_dev = _dot(v_sel, hv)
        shift_sel = shift[active].to(rho_dev)
        new = _normalise(tuple(h - shift_sel.view((-1,) + (1,) * (h.ndim - 1)) * u for h, u in zip(hv, v_sel)))
        for t, n in zip(v, new):
            t[sel] = n
        rho = torch.full((runs,), float("nan"), dtype=torch.float64)
        rho[active] = rho_dev.double().cpu()
        history.append(rho)
        steps[active] += 1
        eigenvalues[active] = rho[active]
        settled = active & ((rho - previous).abs() <= tol * rho.abs())
        previous = torch.where(active, rho, previous)
        restart = settled & (rho < 0) & (shift == 0)
        if restart.any():  # a negative eigenvalue dominates: now find the largest one of H - rho I
            shift[restart], previous[restart], steps[restart] = rho[restart], float("nan"), 0
            idx = restart.nonzero().squeeze(1).to(params[0].device)
            for t, s in zip(v, start):
                t[idx] = s[idx]
        done = settled & ~restart
        converged |= done
        active &= ~done & ~(steps >= iterations)
    return eigenvalues, converged, torch.stack(history)
