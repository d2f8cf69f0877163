"""Arpit et al. 2017, section 3.2: loss-sensitivity of real vs random data (Figures 3 and 4).

Setting (paper): 1,000 MNIST training digits downscaled to 14x14, a fully connected ReLU
network with two hidden layers of 16 units, SGD. For each example x, g_x^t = ||dL_t/dx||_1
is obtained by differentiating through the unrolled SGD trajectory
(:mod:`memo_utils.sensitivity`), and the loss-sensitivity is its average over t.

Our reading of the average. The paper writes g_{i,j} = E 1/T sum_t^T |dL_t(y=i)/dx| and calls
ḡ_x "the average over g_x^t after T steps": the mean over every step t = 1..T, where L_t is
the minibatch loss that SGD computes after t updates. Computing all T terms exactly costs
T backward sweeps; we estimate the mean by stratified sampling, one step drawn uniformly in
each of ``measured_steps`` equal slices of [1, T]. That is an unbiased estimate of the paper's
average, and all the sampled losses share one backward sweep. The sampled steps are the
same for every run, so that all runs of a figure (settings and seeds) are swept together.

One part, ``sensitivity``, with two cells: the settings with 10 classes (Figure 3 left and
Figure 4) and those with one class per example (Figure 3 right); each cell sweeps all its
settings and seeds at once. Arrays have named dimensions (setting, seed, T, example).
"""
from __future__ import annotations

import numpy as np
import torch

from .. import data, profiles, seeds, sensitivity, stats
from ..chapter import Chapter, Param, Part
from ..claims import Claim
from ..errors import ConfigError

# setting -> fraction of real labels (10 classes), or whether inputs are random (one class per example)
SETTINGS_10_CLASSES = {"real": 1.0, "50% real": 0.5, "random": 0.0}
SETTINGS_UNIQUE = {"real inputs": False, "random inputs": True}
GROUPS = {"10 classes": SETTINGS_10_CLASSES, "one class per example": SETTINGS_UNIQUE}
SETTING_NAMES = list(SETTINGS_10_CLASSES) + list(SETTINGS_UNIQUE)

PARAMS = (
    Param("n_examples", profiles.positive_int, 1000, paper="1000", parts=("sensitivity",), by_profile={"smoke": 200}),
    Param("hidden", profiles.positive_int, 16, paper="16 (two hidden layers)", parts=("sensitivity",)),
    Param("batch_size", profiles.positive_int, 10, paper="not stated", parts=("sensitivity",),
          note="not stated; 10 gives 100 updates per epoch of the 1,000 examples"),
    Param("lr", profiles.positive_float, 0.01, paper="not stated (0.01 elsewhere in the paper)", parts=("sensitivity",),
          note="the paper's stated default for its MLPs (section 2); how far the networks get in T steps, and with "
               "it some verdicts, depends on it: re-run with lr=0.1 to compare"),
    Param("steps", profiles.step_list, [1000, 2000, 5000, 10000, 20000], paper="10^3 to 10^5 (log axis)",
          parts=("sensitivity",),
          by_profile={"smoke": [100, 200], "cpu": [1000, 2000, 5000],
                      "paper": [1000, 2000, 5000, 10000, 20000, 50000, 100000]},
          note="cpu: up to 5,000 steps, gpu: up to 2 x 10^4, to fit the 5-minute budgets; paper: the paper's range"),
    Param("measured_steps", profiles.positive_int, 16, paper="every step t <= T", parts=("sensitivity",),
          by_profile={"smoke": 3, "cpu": 8, "paper": 100000},
          note="the average over all t <= T, estimated from this many stratified samples of t"),
    Param("class_steps", profiles.positive_int, 8, paper="every step t <= T", parts=("sensitivity",),
          by_profile={"smoke": 2, "cpu": 4, "paper": 100000}, note="likewise for Figure 4, at the last T"),
    Param("seeds", profiles.seed_list, [0, 1, 2], paper="not stated", parts=("sensitivity",), by_profile={"smoke": [0]},
          note="several seeds to show the spread"),
)


def _check(cfg):
    if cfg["batch_size"] > cfg["n_examples"]:
        raise ConfigError(f"batch_size={cfg['batch_size']} is not allowed: "
                                   f"must be at most n_examples={cfg['n_examples']}")
    cfg["steps"] = sorted(cfg["steps"])


def stratified_steps(total, count, generator):
    """One step drawn uniformly from each of ``count`` equal slices of [1, total]."""
    count = min(count, total)
    edges = torch.linspace(0, total, count + 1, dtype=torch.float64)
    u = torch.rand(count, generator=generator, dtype=torch.float64)
    return sorted({int(min(total, max(1, torch.ceil(a + (b - a) * v)))) for a, b, v in zip(edges[:-1], edges[1:], u)})


def _dataset(setting, seed, x_real, y_real, device):
    """Inputs, labels and number of classes of one setting, its noise drawn from ``seed``."""
    noise = torch.Generator().manual_seed(seeds.noise(seed))
    x, y, n = x_real, y_real, len(x_real)
    if setting in SETTINGS_10_CLASSES:
        if SETTINGS_10_CLASSES[setting] < 1:
            _, y, _ = data.corrupt(x, y, kind="randY", fraction=1 - SETTINGS_10_CLASSES[setting], generator=noise)
        return x, y, 10
    y = torch.arange(n, device=device)
    if SETTINGS_UNIQUE[setting]:
        x, _, _ = data.corrupt(x, y, kind="randX", fraction=1.0, generator=noise, num_classes=n)
    return x, y, n


def _compute(cfg, cell, inputs, device):
    """Loss-sensitivity of every (setting, seed) of one group, swept together.

    Each run has its own initialisation and data order (from its seed); the sampled steps t
    are shared, so that all runs fit in one batched backward sweep.
    """
    mnist = inputs["mnist"]
    x_real = data.to_tensor(mnist.x_train[: cfg["n_examples"]], device, downscale=2)  # 28x28 -> 14x14
    (x_real,) = data.standardize(x_real)
    x_real = x_real.flatten(1)
    y_real = torch.as_tensor(mnist.y_train[: cfg["n_examples"]], dtype=torch.long, device=device)
    names = list(GROUPS[cell["group"]])
    runs = [(name, seed, *_dataset(name, seed, x_real, y_real, device)) for seed in cfg["seeds"] for name in names]
    n_classes = runs[0][-1]  # the same for every run of the group
    steps_generator = torch.Generator().manual_seed(seeds.SAMPLED_STEPS)
    per_t = [stratified_steps(t, cfg["measured_steps"], steps_generator) for t in cfg["steps"]]
    measured = sorted({t for steps in per_t for t in steps})
    last = max(cfg["steps"])
    class_steps = stratified_steps(last, cfg["class_steps"], steps_generator) if n_classes == 10 else []
    inits, schedules = [], []
    for _, seed, x, _, _ in runs:
        generator = torch.Generator().manual_seed(seed)
        inits.append(sensitivity.init_params([x.shape[1], cfg["hidden"], cfg["hidden"], n_classes], generator,
                                             device=device))
        schedules.append(sensitivity.minibatch_schedule(len(x), cfg["batch_size"], last, generator))
    params = tuple(torch.stack(p) for p in zip(*inits))
    x = torch.stack([r[2] for r in runs])
    y = torch.stack([r[3] for r in runs])
    schedule = torch.stack(schedules).to(device)
    grads, class_grads = sensitivity.input_gradients_runs(params, x, y, lr=cfg["lr"], schedule=schedule,
                                                          measure_steps=measured, class_specific_steps=class_steps)
    norms = grads.abs().sum(-1)  # (R, measured, N): g_x^t = ||dL_t/dx||_1
    position = {t: i for i, t in enumerate(measured)}
    loss_sensitivity = torch.stack([norms[:, [position[t] for t in steps]].mean(1) for steps in per_t], dim=1)
    _, final = sensitivity.train_runs(params, x, y, schedule, cfg["lr"], last, last)
    with torch.no_grad():
        accuracy = (sensitivity.forward(final, x).argmax(-1) == y).float().mean(-1)
    by_setting = lambda t: t.reshape(len(cfg["seeds"]), len(names), *t.shape[1:]).transpose(0, 1).cpu().numpy()
    out = {"setting": np.array(names), "seed": np.array(cfg["seeds"]), "T": np.array(cfg["steps"]),
           "loss_sensitivity": by_setting(loss_sensitivity), "final_train_accuracy": by_setting(accuracy),
           "finite": by_setting(torch.isfinite(loss_sensitivity).flatten(1).all(1)), "labels": by_setting(y)}
    if class_grads is not None:
        per_class = class_grads.abs().sum(-1).mean(1)  # (R, C, N): mean over t of |dL_t(y=i)/dx|_1
        matrices = torch.stack([torch.stack([per_class[r][:, y[r] == j].mean(1) for j in range(n_classes)], dim=1)
                                for r in range(len(runs))])
        out["class_matrix"] = by_setting(matrices)
    return out


def _work(cfg, cell):
    """SGD steps times live adjoints (at least one: the forward pass)."""
    group = GROUPS[cell["group"]]
    adjoints = len(cfg["steps"]) * cfg["measured_steps"] + (10 * cfg["class_steps"] if len(group) == 3 else 0)
    return len(group) * len(cfg["seeds"]) * max(cfg["steps"]) * (1 + adjoints)


_DIMS = {"loss_sensitivity": ("setting", "seed", "T", "example"), "final_train_accuracy": ("setting", "seed"),
         "finite": ("setting", "seed"), "labels": ("setting", "seed", "example"),
         "class_matrix": ("setting", "seed", "loss_class", "example_class")}
PARTS = (Part("sensitivity", version=4, compute=_compute, datasets=lambda cfg: {"mnist": cfg["n_examples"]},
              cells=lambda cfg: [{"group": g} for g in GROUPS], dims=_DIMS, work=_work),)


def gini_curves(results):
    """Gini of the loss-sensitivity over examples, (seeds, T) per setting; runs that diverged are dropped."""
    curves = {}
    for name in SETTING_NAMES:
        sens = results.sel("sensitivity", "loss_sensitivity", setting=name)
        finite = results.sel("sensitivity", "finite", setting=name)
        curves[name] = np.array([[stats.gini(s) for s in per_seed] for per_seed in sens[finite]]).reshape(
            int(finite.sum()), sens.shape[1])
    return curves


def class_matrix(results, name):
    """g_{i,j} averaged over the seeds (rows i: the class of the loss; columns j: the example's class)."""
    return results.sel("sensitivity", "class_matrix", setting=name).mean(0)


def off_diagonal_share(matrix):
    return float((matrix.sum() - np.trace(matrix)) / matrix.sum())


def diagonal_dominance(matrix):
    """Mean diagonal entry over mean off-diagonal entry (above 1: the diagonal dominates)."""
    off = (matrix.sum() - np.trace(matrix)) / (matrix.size - len(matrix))
    return float(np.trace(matrix) / len(matrix) / off)


def data_label(results):
    return ", ".join(results.data_labels()["sensitivity"]) + ", 14x14"


UNIQUE_MIN_ACCURACY = 0.1  # 100 times chance with 1,000 classes


def claims(results, cfg):
    curves = gini_curves(results)
    mean = {k: v.mean(0) for k, v in curves.items()}
    steps = cfg["steps"]
    fmt = lambda arr: ", ".join(f"{v:.2f}" for v in arr)
    common = dict(paper="arpit2017", profile=cfg["profile"], seeds=list(cfg["seeds"]), data=data_label(results))
    real_vs_random = bool(np.all(mean["real"] > mean["random"]))
    between = bool(np.all((mean["50% real"] < mean["real"]) & (mean["50% real"] > mean["random"])))
    gap = mean["real inputs"] - mean["random inputs"]
    spread = max(np.ptp(curves["real inputs"], axis=0).max(), np.ptp(curves["random inputs"], axis=0).max())
    direction = "higher" if gap[-1] > 0 else "lower"
    real_m, random_m = class_matrix(results, "real"), class_matrix(results, "random")
    unique_accuracy = min(float(results.sel("sensitivity", "final_train_accuracy", setting=name).min())
                          for name in SETTINGS_UNIQUE)
    return [
        Claim("arpit2017-sens-1", figure="Fig. 3 left", **common,
              statement="Gini of the loss-sensitivity is higher for real data than for random labels at matched steps.",
              measured=f"Gini at T = {steps}: real {fmt(mean['real'])}; random {fmt(mean['random'])} "
                       f"(reproduced if real > random at every T)",
              passed=real_vs_random),
        Claim("arpit2017-sens-2", figure="Fig. 3 left", **common,
              statement="With 50% real labels the Gini lies between real and random data.",
              measured=f"Gini of 50% real at T = {steps}: {fmt(mean['50% real'])} (reproduced if strictly between at every T)",
              passed=between),
        Claim("arpit2017-sens-3", figure="Fig. 3 right", **common,
              statement="With one class per example, real inputs still behave differently from random inputs.",
              measured=f"Gini real inputs {fmt(mean['real inputs'])}; random inputs "
                       f"{fmt(mean['random inputs'])}: real is {direction} at the last T by {abs(gap[-1]):.3f}, "
                       f"seed-to-seed range {spread:.3f} (reproduced if the gap at the last T exceeds the range); "
                       f"lowest training accuracy {unique_accuracy:.3f} (at this scale only if above "
                       f"{UNIQUE_MIN_ACCURACY}: the networks must have started to tell the examples apart)",
              passed=bool(abs(gap[-1]) > spread), at_scale=unique_accuracy > UNIQUE_MIN_ACCURACY),
        Claim("arpit2017-sens-4", figure="Fig. 4", **common,
              statement="The class-specific sensitivity g_ij has a dominant diagonal, more spread out for real data.",
              measured=f"diagonal/off-diagonal mean: real {diagonal_dominance(real_m):.2f}, random "
                       f"{diagonal_dominance(random_m):.2f}; off-diagonal share: real {off_diagonal_share(real_m):.3f}, "
                       f"random {off_diagonal_share(random_m):.3f} (reproduced if both ratios > 1 and real's share is larger)",
              passed=diagonal_dominance(real_m) > 1 and diagonal_dominance(random_m) > 1
              and off_diagonal_share(real_m) > off_diagonal_share(random_m)),
    ]


CHAPTER = Chapter("loss_sensitivity", paper="arpit2017", params=PARAMS, parts=PARTS, claims=claims, check=_check)
