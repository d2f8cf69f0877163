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
from ..claims import all_of, differs, equivalent, exceeds, from_test
from ..errors import ConfigError

# 10 classes (Figure 3 left, Figure 4): setting -> (fraction of real labels, random inputs)
SETTINGS_10_CLASSES = {"real": (1.0, False), "50% real": (0.5, False), "randY": (0.0, False), "randX": (1.0, True)}
# one class per example (Figure 3 right): setting -> random inputs
SETTINGS_UNIQUE = {"real inputs": False, "random inputs": True}
GROUPS = {"10 classes": SETTINGS_10_CLASSES, "one class per example": SETTINGS_UNIQUE}
SETTING_NAMES = list(SETTINGS_10_CLASSES) + list(SETTINGS_UNIQUE)
NORMS = ("l1", "l2", "linf")  # g_x^t with the l1 norm (the paper's), and the two it says give similar results

PARAMS = (
    Param("n_examples", profiles.positive_int, 1000, paper="1000", parts=("sensitivity",), by_profile={"smoke": 200}),
    Param("hidden", profiles.positive_int, 16, paper="16 (two hidden layers)", parts=("sensitivity",)),
    Param("batch_size", profiles.positive_int, 10, paper="not stated", parts=("sensitivity",),
          note="not stated; section 2's defaults (1,000 epochs, learning rate 0.01) over 1,000 examples reach the "
               "figure's 10^5 steps only with batch 10"),
    Param("lr", profiles.positive_float, 0.01, paper="0.01 (section 2's default)", parts=("sensitivity",),
          note="section 2: 'if not stated otherwise ... SGD with learning rate 0.01'; section 3.2 changes only the "
               "width. How far the networks get in T steps, and with it some verdicts, depends on it: lr=0.1 is a "
               "time-compression variant, not the paper's setting"),
    Param("steps", profiles.step_list, [1000, 2000, 5000, 10000, 20000], paper="10^3 to 10^5 (log axis)",
          parts=("sensitivity",),
          by_profile={"smoke": [100, 200], "cpu": [1000, 2000, 3000],
                      "paper": [1000, 2000, 5000, 10000, 20000, 50000, 100000]},
          note="cpu: as far as 64 sampled steps per T fit the 5-minute budget; gpu: up to 2 x 10^4 (an estimate until "
               "a GPU run is committed); paper: the paper's range"),
    Param("measured_steps", profiles.positive_int, 64, paper="every step t <= T", parts=("sensitivity",),
          by_profile={"smoke": 3, "paper": 100000},
          note="the average over all t <= T, estimated from this many stratified samples of t: with 8, the Gini's "
               "upward bias from a noisy estimate was +0.01 to +0.03, the size of the gaps tested"),
    Param("unique_measured_steps", profiles.positive_int, 64, paper="every step t <= T", parts=("sensitivity",),
          by_profile={"smoke": 3, "cpu": 16, "paper": 100000},
          note="the same for one class per example, whose 1,000-way output layer makes each sample ~10x dearer; "
               "cpu takes fewer, since its networks do not fit there (Figure 3 right is not at this scale at cpu)"),
    Param("class_steps", profiles.positive_int, 16, paper="every step t <= T", parts=("sensitivity",),
          by_profile={"smoke": 2, "cpu": 8, "paper": 100000}, note="likewise for Figure 4, at the last T"),
    Param("seeds", profiles.seed_list, [0, 1, 2], paper="not stated", parts=("sensitivity",), by_profile={"smoke": [0]},
          note="the replicates: every claim's interval is across seeds"),
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
        real_labels, random_inputs = SETTINGS_10_CLASSES[setting]
        if real_labels < 1:
            _, y, _ = data.corrupt(x, y, kind="randY", fraction=1 - real_labels, generator=noise)
        if random_inputs:
            x, _, _ = data.corrupt(x, y, kind="randX", fraction=1.0, generator=noise)
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
    count = cfg["measured_steps"] if n_classes == 10 else cfg["unique_measured_steps"]
    per_t = [stratified_steps(t, count, steps_generator) for t in cfg["steps"]]
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
    # g_x^t = ||dL_t/dx|| with each norm: (R, norm, measured, N)
    norms = torch.stack([grads.abs().sum(-1), grads.norm(dim=-1), grads.abs().amax(-1)], dim=1)
    position = {t: i for i, t in enumerate(measured)}
    average = lambda g: torch.stack([g[..., [position[t] for t in steps], :].mean(-2) for steps in per_t], dim=-2)
    loss_sensitivity = average(norms)  # (R, norm, T, N): the mean of g_x^t over the sampled t <= T
    # robustness: each step's g_x^t divided by its mean over examples, so that no few steps dominate
    step_normalized = average(norms[:, 0] / norms[:, 0].mean(-1, keepdim=True).clamp_min(1e-30))
    _, final = sensitivity.train_runs(params, x, y, schedule, cfg["lr"], last, last)
    with torch.no_grad():
        accuracy = (sensitivity.forward(final, x).argmax(-1) == y).float().mean(-1)
    by_setting = lambda t: t.reshape(len(cfg["seeds"]), len(names), *t.shape[1:]).transpose(0, 1).cpu().numpy()
    out = {"setting": np.array(names), "seed": np.array(cfg["seeds"]), "T": np.array(cfg["steps"]),
           "norm": np.array(NORMS), "loss_sensitivity": by_setting(loss_sensitivity),
           "step_normalized": by_setting(step_normalized), "final_train_accuracy": by_setting(accuracy),
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
    if group is SETTINGS_10_CLASSES:
        adjoints, width = len(cfg["steps"]) * cfg["measured_steps"] + 10 * cfg["class_steps"], 10
    else:
        adjoints, width = len(cfg["steps"]) * cfg["unique_measured_steps"], cfg["n_examples"]
    per_step = cfg["hidden"] * (196 + cfg["hidden"] + width)  # parameters each adjoint carries
    return len(group) * len(cfg["seeds"]) * max(cfg["steps"]) * (1 + adjoints) * per_step


_DIMS = {"loss_sensitivity": ("setting", "seed", "norm", "T", "example"),
         "step_normalized": ("setting", "seed", "T", "example"), "final_train_accuracy": ("setting", "seed"),
         "finite": ("setting", "seed"), "labels": ("setting", "seed", "example"),
         "class_matrix": ("setting", "seed", "loss_class", "example_class")}
PARTS = (Part("sensitivity", version=5, compute=_compute, datasets=lambda cfg: {"mnist": cfg["n_examples"]},
              cells=lambda cfg: [{"group": g} for g in GROUPS], dims=_DIMS, work=_work),)


def gini_per_seed(results, setting, norm="l1", step_normalized=False):
    """Gini of the loss-sensitivity over examples, (seed, T), NaN where a run diverged (reported, not plotted)."""
    if step_normalized:
        sens = results.sel("sensitivity", "step_normalized", setting=setting)
    else:
        sens = results.sel("sensitivity", "loss_sensitivity", setting=setting, norm=norm)
    finite = results.sel("sensitivity", "finite", setting=setting)
    return np.array([[stats.gini(s) if ok else np.nan for s in per_seed] for per_seed, ok in zip(sens, finite)])


def gini_curves(results):
    """Gini per setting, (finite seeds, T): the curves of Figure 3."""
    curves = {}
    for name in SETTING_NAMES:
        g = gini_per_seed(results, name)
        curves[name] = g[np.isfinite(g).all(1)]
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


UNIQUE_MIN_ACCURACY = 0.1  # 100 times chance with 1,000 classes: the networks tell examples apart
HALF_REAL_MIN_ACCURACY = 0.75  # all real labels and half of the random ones fitted
NORM_MARGIN = 0.05  # "very similar": the real - randY Gini gap moves by less than this with another norm


def _accuracy(results, setting):
    return results.sel("sensitivity", "final_train_accuracy", setting=setting)


def claims(results, cfg):
    """Section 3.2's claims at the last T (where Figure 3 makes its point), seeds as replicates."""
    steps, last = cfg["steps"], max(cfg["steps"])
    gini = {name: gini_per_seed(results, name) for name in SETTING_NAMES}
    at_last = {name: g[:, -1] for name, g in gini.items()}
    curve = lambda name: ", ".join(f"{v:.2f}" for v in np.nanmean(gini[name], 0))
    common = dict(paper="arpit2017", profile=cfg["profile"], seeds=list(cfg["seeds"]), data=data_label(results),
                  replicate=f"seeds ({len(cfg['seeds'])}), paired: a seed fixes initialisation and data order")
    at_t = f"Gini at T = {steps}"
    out = []

    # Figure 3 left: real data against random labels and against random inputs
    for suffix, random, label in (("a", "randY", "random labels"), ("b", "randX", "random inputs (real labels)")):
        robust = exceeds(gini_per_seed(results, "real", step_normalized=True)[:, -1]
                         - gini_per_seed(results, random, step_normalized=True)[:, -1])
        out.append(from_test(
            exceeds(at_last["real"] - at_last[random]), id=f"arpit2017-sens-1{suffix}", figure="Fig. 3 left",
            statement=f"The Gini of the loss-sensitivity is higher for real data than for {label}.",
            effect=f"Gini(real) - Gini({random}) at T = {last}", threshold="95% interval above 0",
            measured=f"{at_t}: real {curve('real')}; {random} {curve(random)}. Robustness check, each step's g "
                     f"divided by its mean over examples so that no few steps dominate: gap {robust}", **common))

    half_accuracy = float(_accuracy(results, "50% real").min())
    upper, lower = exceeds(at_last["real"] - at_last["50% real"]), exceeds(at_last["50% real"] - at_last["randY"])
    out.append(from_test(
        all_of(upper, lower), id="arpit2017-sens-2", figure="Fig. 3 left",
        statement="With 50% real labels the Gini lies between real data and random labels.",
        effect=f"the smaller of Gini(real) - Gini(50%) and Gini(50%) - Gini(randY) at T = {last}",
        threshold="both 95% intervals above 0",
        precondition=f"the 50% networks fit >= {HALF_REAL_MIN_ACCURACY:.0%} of their labels (all the real ones and "
                     f"half of the random ones); lowest: {half_accuracy:.2f}",
        measured=f"{at_t}: 50% real {curve('50% real')}; real - 50%: {upper}; 50% - randY: {lower}",
        at_scale=half_accuracy >= HALF_REAL_MIN_ACCURACY, **common))

    # Figure 3 right: one class per example
    unique_accuracy = min(float(_accuracy(results, name).min()) for name in SETTINGS_UNIQUE)
    out.append(from_test(
        differs(at_last["real inputs"] - at_last["random inputs"]), id="arpit2017-sens-3", figure="Fig. 3 right",
        statement="With one class per example, real inputs still behave differently from random inputs.",
        effect=f"Gini(real inputs) - Gini(random inputs) at T = {last}", threshold="95% interval excludes 0",
        precondition=f"the networks have started to tell examples apart: training accuracy > {UNIQUE_MIN_ACCURACY:.0%} "
                     f"(100 times chance); lowest: {unique_accuracy:.3f}",
        measured=f"{at_t}: real inputs {curve('real inputs')}; random inputs {curve('random inputs')}",
        at_scale=unique_accuracy > UNIQUE_MIN_ACCURACY, **common))

    # Figure 4: class-specific sensitivity
    matrices = {name: results.sel("sensitivity", "class_matrix", setting=name) for name in ("real", "randY", "randX")}
    share = {name: np.array([off_diagonal_share(m) for m in ms]) for name, ms in matrices.items()}
    dominance = {name: np.array([diagonal_dominance(m) for m in ms]) for name, ms in matrices.items()}
    for suffix, random in (("a", "randY"), ("b", "randX")):
        spread = exceeds(share["real"] - share[random])
        diagonal = [exceeds(dominance[name], 1.0) for name in ("real", random)]
        claim = from_test(
            spread, id=f"arpit2017-sens-4{suffix}", figure="Fig. 4",
            statement=f"The class-specific sensitivity g_ij has a dominant diagonal, more spread out for real data than "
                      f"for {random}.",
            effect=f"off-diagonal share of g_ij, real - {random}, at T = {last}",
            threshold="95% interval above 0, and diagonal/off-diagonal mean ratio above 1 for both (95% interval)",
            measured=f"diagonal/off-diagonal ratio: real {diagonal[0]}, {random} {diagonal[1]}; off-diagonal share: "
                     f"real {share['real'].mean():.3f}, {random} {share[random].mean():.3f}", **common)
        claim.passed = spread.passed and all(t.passed for t in diagonal)
        out.append(claim)

    # Section 3.2's remarks: other norms, and the Gini of real data rising with training
    gaps = {norm: gini_per_seed(results, "real", norm)[:, -1] - gini_per_seed(results, "randY", norm)[:, -1]
            for norm in NORMS}
    changes = {norm: equivalent(gaps[norm] - gaps["l1"], NORM_MARGIN) for norm in ("l2", "linf")}
    claim = from_test(
        max(changes.values(), key=lambda t: max(abs(t.interval[0]), abs(t.interval[1])) if t.judgeable else 0),
        id="arpit2017-sens-5", figure="Sec. 3.2",
        statement="Results stay very similar with the l2 and infinity norms instead of the l1 norm.",
        effect=f"change of the real - randY Gini gap at T = {last} when l1 is replaced (the larger of l2, linf)",
        threshold=f"equivalence: 95% interval inside +-{NORM_MARGIN}",
        measured="gap real - randY: " + "; ".join(f"{norm} {exceeds(g)}" for norm, g in gaps.items())
                 + "; change from l1: " + "; ".join(f"{norm} {t}" for norm, t in changes.items()), **common)
    claim.passed = all(t.passed for t in changes.values())
    out.append(claim)
    if len(steps) > 1:
        out.append(from_test(
            exceeds(gini["real"][:, -1] - gini["real"][:, 0]), id="arpit2017-sens-6", figure="Fig. 3 left",
            statement="For real data the Gini rises as training progresses.",
            effect=f"Gini(real) at T = {last} minus at T = {steps[0]}", threshold="95% interval above 0",
            measured=f"{at_t}: real {curve('real')}", **common))
    return out


CHAPTER = Chapter("loss_sensitivity", paper="arpit2017", params=PARAMS, parts=PARTS, claims=claims, check=_check)
