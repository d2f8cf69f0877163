"""Langevin adversarial sample search (LASS) and the critical sample ratio (Arpit et al. 2017, section 4.1).

A sample x is *critical* if some x̂ with ||x - x̂||_inf <= r has a different predicted label
(Equation 1); the critical sample ratio (CSR) is the fraction of critical samples in a set.
LASS (Algorithm 1) searches the box by Langevin dynamics on the fast gradient sign method:

    x̃ <- Proj( x̃ + Δ ),   Δ = -α sign(∂ log(f_k / (1 - f_k))(x̃) / ∂x̃) + β η,   η ~ N(0, I),

where k is the label predicted at x, f the softmax output and Proj the projection onto the box
of radius r around x intersected with the valid pixel range; the search for an example stops as
soon as its predicted label changes, or after ``max_iter`` steps.

Two readings of Algorithm 1 are ours, for reasons the tests check:

- **Direction.** The algorithm writes ``+ α sign(∂f_k/∂x)``, which would *ascend* the predicted
  class's output and reinforce the prediction; an adversarial search must move away from it. We
  descend f_k, as FGSM ascends the loss of the label it attacks.
- **Logits or softmax.** f is the softmax output. Only the sign of the gradient is used, and
  any strictly increasing function of f_k has the same sign of gradient. We differentiate the
  log-odds of the predicted class, log(f_k / (1 - f_k)) = z_k - logsumexp_{j != k} z_j, whose
  gradient keeps every logit's term however confident the model. ``log_softmax``'s does not: once f_k
  rounds to 1 (a margin above about 17 in float32), its gradient 1 - f_k with respect to z_k
  is 0 and only the other logits' terms remain, so the sign is often wrong (a test shows it).

A third reading is a choice, kept as an option of :func:`search`:

- **Pixel range.** Algorithm 1 projects onto the box only. By default we also keep x̂ inside the
  valid pixel range, so that every x̂ is an image, as the data points are (footnote 6 sizes r to
  be "unnoticeable by a human evaluator", which presumes an image). The box cut to the range is
  smaller, so the CSR is lower than with the box alone (``pixel_range=False``), most where many
  pixels are saturated (MNIST's black background).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

# Algorithm 1's settings (footnotes 4 and 6) on the 0-255 pixel scale: convert with pixel_units().
PAPER_ALPHA, PAPER_BETA, PAPER_RADIUS = 0.25, 0.2, 0.3


@dataclass
class LassResult:
    """``flipped_at[i]``: the step (1-based) at which example i's prediction changed, 0 if it never did."""

    flipped_at: torch.Tensor
    x_hat: torch.Tensor  # the adversarial point where found, else the last iterate

    @property
    def critical(self):
        return self.flipped_at > 0


def project(x_tilde, x, radius, low, high):
    """Onto {x̂ : |x̂ - x| <= r} intersected with [low, high], per coordinate.

    The pixel range is widened to include x itself, so that a point already outside it (a
    randX noise image) stays feasible and the box is never empty.
    """
    lower = torch.maximum(x - radius, torch.minimum(torch.as_tensor(low, dtype=x.dtype, device=x.device), x))
    upper = torch.minimum(x + radius, torch.maximum(torch.as_tensor(high, dtype=x.dtype, device=x.device), x))
    return torch.minimum(torch.maximum(x_tilde, lower), upper)


def log_odds(logits, labels):
    """log(p_k / (1 - p_k)) = z_k - logsumexp_{j != k} z_j of the softmax p, for class k = ``labels``.

    Computed from the logits, it neither rounds p_k to 1 nor cancels 1 - p_k, so its gradient
    keeps every logit's term at any confidence."""
    k = labels.unsqueeze(-1)
    others = logits.scatter(-1, k, -float("inf"))
    return logits.gather(-1, k).squeeze(-1) - torch.logsumexp(others, dim=-1)


def predicted_log_odds_gradient(forward, x, labels=None):
    """Logits at x and ∂ log(p_k / (1 - p_k)) / ∂x for every example, k the label (by default the
    predicted one): its sign is that of ∂f_k/∂x in Algorithm 1. Examples must not interact (batch
    norm in eval mode)."""
    with torch.enable_grad():
        x = x.detach().requires_grad_(True)
        logits = forward(x)
        labels = logits.argmax(-1) if labels is None else labels
        (grad,) = torch.autograd.grad(log_odds(logits, labels).sum(), x)
    return logits.detach(), grad


@torch.no_grad()
def lass(forward, x, *, radius, alpha, beta, low, high, max_iter, noise):
    """Algorithm 1, batched: every example searches at once and stops on its own.

    ``forward`` maps inputs of shape ``x.shape`` to logits ``x.shape[:b] + (classes,)``, where
    the leading ``b`` dimensions index independent examples (``(N, ...)`` for one model, or
    ``(K, N, d)`` for a batched ensemble, each model searching around its own copy). ``radius``,
    ``alpha`` and ``beta`` are in the units the model sees, ``low``/``high`` the valid pixel
    range in those units. ``noise(t)`` returns η for step t (a tensor shaped like x); it is drawn
    for every example at every step, so an example's draws do not depend on when others stop.
    Each step costs one forward and one backward pass: the forward pass that takes the gradient
    at the new iterate also tells whether its prediction changed.
    """
    logits, grad = predicted_log_odds_gradient(forward, x)
    labels = logits.argmax(-1)
    feature_dims = [1] * (x.ndim - labels.ndim)
    x_tilde = x.clone()
    flipped_at = torch.zeros(labels.shape, dtype=torch.long, device=x.device)
    for t in range(1, max_iter + 1):
        active = (flipped_at == 0).view(*labels.shape, *feature_dims)
        step = -alpha * torch.sign(grad) + beta * noise(t)
        x_tilde = torch.where(active, project(x_tilde + step, x, radius, low, high), x_tilde)
        if t < max_iter:
            logits, grad = predicted_log_odds_gradient(forward, x_tilde, labels)
        else:
            logits = forward(x_tilde)
        changed = (logits.argmax(-1) != labels) & (flipped_at == 0)
        flipped_at[changed] = t
        if bool(flipped_at.all()):
            break
    return LassResult(flipped_at, x_tilde)


def gaussian_noise(shape, generator, device="cpu", dtype=torch.float32):
    """η ~ N(0, I) for each step, drawn on the CPU from ``generator`` so every device sees the same draws."""
    return lambda t: torch.randn(shape, generator=generator, dtype=dtype).to(device)


def pixel_units(pixel_mean, pixel_std):
    """Model units per 0-255 pixel unit, and the valid pixel range [0, 255] in model units.

    The models see ``(x/255 - mean) / std`` with the training set's mean and std of [0, 1]
    pixels, so a length a on the 0-255 scale is a / (255 std) there.
    """
    return 1.0 / (255.0 * pixel_std), (0.0 - pixel_mean) / pixel_std, (1.0 - pixel_mean) / pixel_std


def search(
    forward,
    x,
    *,
    pixel_mean,
    pixel_std,
    radius=PAPER_RADIUS,
    alpha=PAPER_ALPHA,
    beta=PAPER_BETA,
    max_iter,
    seed,
    example_dim=0,
    chunk=1000,
    pixel_range=True,
):
    """LASS around every example of ``x``, ``chunk`` examples (along ``example_dim``) at a time.

    ``radius``, ``alpha`` and ``beta`` are on the paper's 0-255 pixel scale and converted with
    :func:`pixel_units`. Chunk c draws its noise from a generator seeded ``seed + c``, so a
    search is reproducible on any device, and its draws depend only on ``seed`` and the shape of
    ``x``: model k of one ensemble and model k of another search with the same noise (common
    random numbers for paired comparisons). ``pixel_range``: cut the box to the valid pixel range
    (our reading, see the module's docstring); False searches the box alone, as Algorithm 1 does.
    Returns ``flipped_at`` for every example.
    """
    if getattr(forward, "training", False):
        raise ValueError(
            "lass.search needs the model in evaluation mode: in training mode batch norm mixes the "
            "examples of a chunk and dropout changes the predictions it checks"
        )
    unit, low, high = pixel_units(pixel_mean, pixel_std)
    if not pixel_range:
        low, high = -float("inf"), float("inf")
    found = []
    for c, part in enumerate(torch.split(x, chunk, dim=example_dim)):
        noise = gaussian_noise(part.shape, torch.Generator().manual_seed(seed + c), part.device, part.dtype)
        found.append(
            lass(
                forward,
                part,
                radius=radius * unit,
                alpha=alpha * unit,
                beta=beta * unit,
                low=low,
                high=high,
                max_iter=max_iter,
                noise=noise,
            ).flipped_at
        )
    return torch.cat(found, dim=example_dim)


def found_by_iteration(flipped_at, max_iter):
    """CSR had the search stopped after 1, 2, ..., ``max_iter`` steps: shape ``(..., max_iter)``,
    the examples along the last dimension of ``flipped_at``.

    An example's search is the same whatever the limit, up to that limit, so one run gives CSR
    against every smaller maximum number of iterations: the check that the limit suffices.
    """
    steps = torch.arange(1, max_iter + 1, device=flipped_at.device)
    hit = (flipped_at.unsqueeze(-1) > 0) & (flipped_at.unsqueeze(-1) <= steps)
    return hit.double().mean(-2)
