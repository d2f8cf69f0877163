"""LASS (Arpit et al. 2017, Algorithm 1) against exact answers: a linear classifier's closed-form
L-infinity criticality, the direction of a step, the projection, and batching."""

import pytest
import torch
from torch import nn

from memo_utils.engine.ensemble import MLPEnsemble
from memo_utils.methods import lass

LOW, HIGH = 0.0, 1.0


def _linear(d=30, classes=4, seed=0):
    g = torch.Generator().manual_seed(seed)
    w = torch.randn(d, classes, generator=g, dtype=torch.float64)
    b = torch.randn(classes, generator=g, dtype=torch.float64)
    return w, b, (lambda x: x @ w + b)


def _exact_critical(x, w, b, radius):
    """Whether some x̂ in the box of ``radius`` around x, inside [LOW, HIGH] widened to x, changes argmax(x̂ w + b).

    For each other class j the smallest margin (w_k - w_j)·x̂ + b_k - b_j over the box is reached at a
    corner: x̂_i at its lower end where the coefficient is positive, at its upper end otherwise.
    """
    k = (x @ w + b).argmax(-1)
    lower = torch.maximum(x - radius, torch.clamp(x, max=LOW))
    upper = torch.minimum(x + radius, torch.clamp(x, min=HIGH))
    critical = torch.zeros(len(x), dtype=torch.bool)
    for j in range(w.shape[1]):
        c = w[:, k].T - w[:, j]  # (N, d)
        worst = torch.where(c > 0, lower, upper)
        margin = (c * worst).sum(-1) + b[k] - b[j]
        critical |= (j != k) & (margin < 0)
    return critical


def _linf_distance_to_boundary(x, w, b):
    """Without the pixel range: min over j of margin_kj / ||w_k - w_j||_1."""
    k = (x @ w + b).argmax(-1)
    z = x @ w + b
    distances = []
    for j in range(w.shape[1]):
        c = w[:, k].T - w[:, j]
        d = (z.gather(1, k[:, None])[:, 0] - z[:, j]) / c.abs().sum(-1)
        distances.append(torch.where(k == j, torch.full_like(d, float("inf")), d))
    return torch.stack(distances).min(0).values


def _paper_ratios(radius, max_iter=50):
    """Algorithm 1's settings relative to the box: alpha = 0.25/0.3 r, beta = 0.2/0.3 r (footnotes 4 and 6)."""
    return dict(
        radius=radius,
        alpha=radius * lass.PAPER_ALPHA / lass.PAPER_RADIUS,
        beta=radius * lass.PAPER_BETA / lass.PAPER_RADIUS,
        low=LOW,
        high=HIGH,
        max_iter=max_iter,
    )


def test_lass_agrees_with_exact_linf_distance_on_linear_model():
    w, b, forward = _linear()
    x = torch.rand(2000, 30, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    radius = float(_linf_distance_to_boundary(x, w, b).median())  # about half the points are critical
    exact = _exact_critical(x, w, b, radius)
    assert 0.3 < exact.double().mean() < 0.7
    noise = lambda: lass.gaussian_noise(x.shape, torch.Generator().manual_seed(2), dtype=torch.float64)
    found = lass.lass(forward, x, noise=noise(), **_paper_ratios(radius, max_iter=50)).critical
    assert not (found & ~exact).any()  # a search never reports a point that is not critical
    agreement = (found == exact).double().mean()
    assert agreement >= 0.995, f"LASS agrees with the closed form on {agreement:.1%} of the points"  # measured: 100%
    # cut short at 5 steps it misses some (1.2% measured): points whose adversarial corner lies at the edge of
    # the box, which the noisy sign steps reach late; points well inside the radius are always found
    early = lass.lass(forward, x, noise=noise(), **_paper_ratios(radius, max_iter=5)).critical
    missed = exact & ~early
    assert missed.any() and (_linf_distance_to_boundary(x[missed], w, b) > 0.9 * radius).all()


def test_search_step_lowers_the_predicted_class_margin():
    # two classes: the step -alpha sign(grad log p_k) lowers the margin z_k - z_j by exactly alpha ||w_k - w_j||_1
    w, b, forward = _linear(d=10, classes=2)
    x = torch.rand(500, 10, generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    logits, grad = lass.predicted_log_odds_gradient(forward, x)
    k = logits.argmax(-1)
    sign = torch.where(k == 0, 1.0, -1.0).double()
    alpha = 1e-3
    moved = forward(x - alpha * torch.sign(grad))
    margin = lambda z: sign * (z[:, 0] - z[:, 1])
    expected = margin(logits) - alpha * (w[:, 0] - w[:, 1]).abs().sum()
    torch.testing.assert_close(margin(moved), expected)
    # Algorithm 1 as printed (+alpha sign(grad f_k)) would raise it: the direction matters
    assert (margin(forward(x + alpha * torch.sign(grad))) > margin(logits)).all()
    # many classes, a ReLU network: a small step lowers log p_k for every point and the margin for nearly all
    ens = MLPEnsemble([10, 32, 32, 5], [0], dtype=torch.float64)
    x = torch.randn(1, 500, 10, generator=torch.Generator().manual_seed(4), dtype=torch.float64)
    logits, grad = lass.predicted_log_odds_gradient(ens.forward, x)
    moved = ens.forward(x - 1e-4 * torch.sign(grad))
    k = logits.argmax(-1, keepdim=True)
    log_p = lambda z: torch.log_softmax(z, -1).gather(-1, k)
    assert (log_p(moved) < log_p(logits)).all()
    top2 = lambda z: z.gather(-1, k)[..., 0] - z.scatter(-1, k, -float("inf")).max(-1).values
    assert (top2(moved) < top2(logits)).double().mean() > 0.95


def test_gradient_sign_is_exact_for_a_confident_float32_model():
    # a linear model whose predicted class has p_k = 1 in float32 on about half of the points
    w, b, _ = _linear(d=30, classes=5)
    w = 3 * w
    x = torch.rand(2000, 30, generator=torch.Generator().manual_seed(11), dtype=torch.float64)
    z = x @ w + b
    k = z.argmax(-1)
    p = torch.softmax(z, -1)
    # exact: grad log p_k = sum_{j != k} p_j (w_k - w_j), a sum of terms that never cancel against 1 - p_k
    exact = (p.unsqueeze(-1) * (w[:, k].T.unsqueeze(1) - w.T.unsqueeze(0))).sum(1)
    assert (torch.softmax(z.float(), -1).gather(1, k[:, None]) == 1).double().mean() > 0.4  # measured: 0.47
    forward32 = lambda v: v @ w.float() + b.float()
    logits, grad = lass.predicted_log_odds_gradient(forward32, x.float())
    assert (logits.argmax(-1) == k).all()
    assert (torch.sign(grad) == torch.sign(exact.float())).all()
    # the log-softmax of float32 logits drops the predicted logit's term once p_k rounds to 1: wrong signs
    x32 = x.float().requires_grad_(True)
    (naive,) = torch.autograd.grad(torch.log_softmax(forward32(x32), -1).gather(1, k[:, None]).sum(), x32)
    assert (torch.sign(naive) == torch.sign(exact.float())).all(-1).double().mean() < 0.8  # measured: 0.44


def test_without_the_pixel_range_lass_agrees_with_the_box_alone():
    # Algorithm 1 as printed projects onto the box only: exact criticality is then the L-infinity distance <= r
    w, b, forward = _linear()
    x = torch.rand(1000, 30, generator=torch.Generator().manual_seed(12), dtype=torch.float64)
    distance = _linf_distance_to_boundary(x, w, b)
    radius = float(distance.median())
    settings = dict(
        pixel_mean=0.0,
        pixel_std=1.0,
        radius=255 * radius,
        alpha=255 * radius * lass.PAPER_ALPHA / lass.PAPER_RADIUS,
        beta=255 * radius * lass.PAPER_BETA / lass.PAPER_RADIUS,
        max_iter=50,
        seed=13,
    )
    boxed = lass.search(forward, x, pixel_range=False, **settings) > 0
    assert (boxed == (distance <= radius)).double().mean() >= 0.995
    clipped = lass.search(forward, x, **settings) > 0
    assert clipped.sum() < boxed.sum()  # the range cuts the box: fewer critical samples
    assert (clipped == _exact_critical(x, w, b, radius)).double().mean() >= 0.995


def test_projection_keeps_every_iterate_in_the_box_and_pixel_range():
    w, b, forward = _linear(d=20, classes=3)
    g = torch.Generator().manual_seed(5)
    x = torch.rand(200, 20, generator=g, dtype=torch.float64)
    x[:50] = 3 * torch.randn(50, 20, generator=g, dtype=torch.float64)  # noise images, partly outside the range
    seen = []

    def recording(z):
        seen.append(z.detach().clone())
        return forward(z)

    radius = 0.05
    noise = lass.gaussian_noise(x.shape, torch.Generator().manual_seed(6), dtype=torch.float64)
    lass.lass(recording, x, radius=radius, alpha=0.5, beta=0.5, low=LOW, high=HIGH, max_iter=20, noise=noise)
    assert len(seen) == 21  # the start and every step (the big steps and noise always hit the constraints)
    for z in seen:
        assert ((z - x).abs() <= radius + 1e-12).all()
        assert (z >= torch.clamp(x, max=LOW) - 1e-12).all() and (z <= torch.clamp(x, min=HIGH) + 1e-12).all()
    clean = seen[-1][50:]
    assert (clean >= LOW).all() and (clean <= HIGH).all() and ((clean == LOW) | (clean == HIGH)).any()


def test_batched_lass_equals_per_example_lass_for_a_fixed_noise_draw():
    init_seeds, n, d, steps = [3, 4], 40, 12, 15
    ensemble = MLPEnsemble([d, 16, 16, 4], init_seeds, dtype=torch.float64)
    x = torch.rand(len(init_seeds), n, d, generator=torch.Generator().manual_seed(7), dtype=torch.float64)
    eta = torch.randn(steps, *x.shape, generator=torch.Generator().manual_seed(8), dtype=torch.float64)
    settings = dict(radius=0.04, alpha=0.03, beta=0.03, low=LOW, high=HIGH, max_iter=steps)
    batched = lass.lass(ensemble.forward, x, noise=lambda t: eta[t - 1], **settings)
    assert 0 < batched.critical.sum() < batched.critical.numel()  # some stop early, others run to the end
    for k, seed in enumerate(init_seeds):
        single = MLPEnsemble([d, 16, 16, 4], [seed], dtype=torch.float64)
        for i in range(n):
            one = lass.lass(
                single.forward, x[k : k + 1, i : i + 1], noise=lambda t: eta[t - 1, k : k + 1, i : i + 1], **settings
            )
            assert one.flipped_at.item() == batched.flipped_at[k, i].item()
            torch.testing.assert_close(one.x_hat[0, 0], batched.x_hat[k, i], rtol=0, atol=1e-12)


def test_csr_against_the_iteration_limit_is_read_from_one_search():
    w, b, forward = _linear()
    x = torch.rand(500, 30, generator=torch.Generator().manual_seed(9), dtype=torch.float64)
    radius = float(_linf_distance_to_boundary(x, w, b).median())
    noise = lambda: lass.gaussian_noise(x.shape, torch.Generator().manual_seed(10), dtype=torch.float64)
    long = lass.lass(forward, x, noise=noise(), **_paper_ratios(radius, max_iter=30))
    short = lass.lass(forward, x, noise=noise(), **_paper_ratios(radius, max_iter=5))
    curve = lass.found_by_iteration(long.flipped_at, 30)
    assert curve[4] == short.critical.double().mean() and curve[-1] == long.critical.double().mean()
    assert (curve.diff() >= 0).all()


def test_pixel_units_convert_the_papers_scale_to_standardised_inputs():
    mean, std = 0.13, 0.31
    unit, low, high = lass.pixel_units(mean, std)
    pixels = torch.tensor([0.0, 76.5, 255.0])  # on the 0-255 scale
    standardised = (pixels / 255 - mean) / std
    torch.testing.assert_close(standardised[[0, -1]], torch.tensor([low, high], dtype=torch.float32))
    # a step of 0.3 pixel units is 0.3 * unit in the models' units
    torch.testing.assert_close(((pixels + 0.3) / 255 - mean) / std - standardised, torch.full((3,), 0.3 * unit))


def test_search_refuses_a_model_in_training_mode():
    model = nn.Sequential(nn.Linear(4, 3), nn.BatchNorm1d(3))
    with pytest.raises(ValueError, match="evaluation mode"):
        lass.search(model, torch.rand(5, 4), pixel_mean=0.5, pixel_std=0.2, max_iter=2, seed=0)
    model.eval()
    assert lass.search(model, torch.rand(5, 4), pixel_mean=0.5, pixel_std=0.2, max_iter=2, seed=0).shape == (5,)
