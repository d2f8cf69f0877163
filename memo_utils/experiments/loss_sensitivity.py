"""Arpit et al. 2017, section 3.2: loss-sensitivity of real vs random data (Figures 3 and 4).

Setting (paper): 1,000 MNIST training digits downscaled to 14x14, a fully connected ReLU
network with two hidden layers of 16 units, SGD. For each example x, g_x^t = ||dL_t/dx||_1
is obtained by differentiating through the unrolled SGD trajectory
(:mod:`memo_utils.methods.sensitivity`), and the loss-sensitivity is its average over t.

Our reading of the average. The paper writes g_{i,j} = E 1/T sum_t^T |dL_t(y=i)/dx| and calls
ḡ_x "the average over g_x^t after T steps": the mean over every step t = 1..T, where L_t is
the minibatch loss that SGD computes after t updates. Computing all T terms exactly costs
T backward sweeps; we estimate the mean by stratified sampling, one step drawn uniformly in
each of ``measured_steps`` equal slices of [1, T]. That is an unbiased estimate of the paper's
average, and all the sampled losses share one backward sweep. Each seed draws its own sampled
steps, shared by the settings it pairs, so that the spread across seeds includes the noise of
the estimate; its Gini is still biased upward by that noise (the page discusses by how much).

One part, ``sensitivity``, with one cell per group and seed: the settings with 10 classes
(Figure 3 left and Figure 4) and those with one class per example (Figure 3 right); each cell
sweeps its settings at once, and ``run --jobs`` spreads the cells over the cores. Arrays have
named dimensions (setting, norm, T, example); :func:`sel` stacks a setting's seeds in front.
"""

from __future__ import annotations

import numpy as np
import torch

from .. import seeds
from ..engine import data, memory, mlp
from ..errors import ConfigError
from ..framework import profiles, stats
from ..framework.chapter import Chapter, Param, Part
from ..framework.claims import NOT_MEASURED, Definition, Evidence, Precondition, above, across, differs, within
from ..methods import sensitivity

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
    Param(
        "batch_size",
        profiles.positive_int,
        10,
        paper="not stated",
        parts=("sensitivity",),
        note="not stated; section 2's defaults (1,000 epochs, learning rate 0.01) over 1,000 examples reach the "
        "figure's 10^5 steps only with batch 10",
    ),
    Param(
        "lr",
        profiles.positive_float,
        0.01,
        paper="0.01 (section 2's default)",
        parts=("sensitivity",),
        by_profile={"cpu": 0.02},
        note="section 2: 'if not stated otherwise ... SGD with learning rate 0.01'; section 3.2 changes only the "
        "width. cpu doubles it to compress time: at 0.01 the random-label networks fit half their labels only "
        "after ~10^4 steps, beyond the budget. Faster rates were tried and rejected: at 0.03 and 0.05 the "
        "unrolled sensitivity of some random-data networks grows by orders of magnitude over the last "
        "thousands of steps, so the average over t changes character. The preconditions (how much each "
        "network fitted), not the rate, license the test",
    ),
    Param(
        "steps",
        profiles.step_list,
        [1000, 2000, 5000, 10000, 20000],
        paper="10^3 to 10^5 (log axis)",
        parts=("sensitivity",),
        by_profile={
            "smoke": [100, 200],
            "cpu": [500, 2000, 10000],
            "paper": [1000, 2000, 5000, 10000, 20000, 50000, 100000],
        },
        note="cpu: 10^4 steps at lr 0.02, where the randY networks have fitted about two thirds of their labels "
        "(lr x T from 10 to 200: the paper's T = 10^3 to 2 x 10^4 at lr 0.01); gpu: up to 2 x 10^4 (an "
        "estimate until a GPU run is committed); paper: the paper's range",
    ),
    Param(
        "measured_steps",
        profiles.positive_int,
        64,
        paper="every step t <= T",
        parts=("sensitivity",),
        by_profile={"smoke": 3, "cpu": 6, "paper": 100000},
        note="the average over all t <= T, estimated from this many stratified samples of t. A noisy estimate "
        "biases the Gini upward; cpu takes 6 to fit its budget (the page discusses the bias)",
    ),
    Param(
        "unique_measured_steps",
        profiles.positive_int,
        64,
        paper="every step t <= T",
        parts=("sensitivity",),
        by_profile={"smoke": 3, "cpu": 5, "paper": 100000},
        note="the same for one class per example, whose 1,000-way output layer makes each sample ~5x dearer",
    ),
    Param(
        "class_steps",
        profiles.positive_int,
        16,
        paper="every step t <= T",
        parts=("sensitivity",),
        by_profile={"smoke": 2, "cpu": 2, "paper": 100000},
        note="likewise for Figure 4, at the last T; each sampled step carries 10 adjoints (one per class), so "
        "Figure 4 is the dearest part of the sweep",
    ),
    Param(
        "seeds",
        profiles.seed_list,
        [0, 1, 2, 3, 4],
        paper="not stated",
        parts=("sensitivity",),
        by_profile={"smoke": [0]},
        note="the replicates: every claim's interval is across seeds; each seed is its own cell, so that run --jobs "
        "spreads them over the cores",
        replicates=True,
    ),
)


def _check(cfg):
    if cfg["batch_size"] > cfg["n_examples"]:
        raise ConfigError(
            f"batch_size={cfg['batch_size']} is not allowed: must be at most n_examples={cfg['n_examples']}"
        )
    profiles.increasing("steps", cfg["steps"])


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


def _sampled_steps_generator(seed):
    """The stream that draws seed ``seed``'s sampled steps t (:func:`memo_utils.seeds.sampled_steps`)."""
    return torch.Generator().manual_seed(seeds.sampled_steps(seed))


def _compute(cfg, cell, inputs, device):
    """Loss-sensitivity of every setting of one group for one seed, swept together.

    The seed fixes the initialisation and the data order (the same for every setting: the settings are
    paired), the label or input noise, and the sampled steps t, which all settings of the cell share so
    that they fit in one batched backward sweep.
    """
    mnist, seed = inputs["mnist"], cell["seed"]
    x_real = data.to_tensor(mnist.x_train[: cfg["n_examples"]], device, downscale=2)  # 28x28 -> 14x14
    (x_real,) = data.standardize(x_real)
    x_real = x_real.flatten(1)
    y_real = torch.as_tensor(mnist.y_train[: cfg["n_examples"]], dtype=torch.long, device=device)
    names = list(GROUPS[cell["group"]])
    runs = [_dataset(name, seed, x_real, y_real, device) for name in names]
    n_classes = runs[0][-1]  # the same for every run of the group
    steps_generator = _sampled_steps_generator(seed)
    count = cfg["measured_steps"] if n_classes == 10 else cfg["unique_measured_steps"]
    per_t = [stratified_steps(t, count, steps_generator) for t in cfg["steps"]]
    measured = sorted({t for steps in per_t for t in steps})
    last = max(cfg["steps"])
    class_steps = stratified_steps(last, cfg["class_steps"], steps_generator) if n_classes == 10 else []
    inits, schedules = [], []
    for x, _, _ in runs:
        generator = torch.Generator().manual_seed(seed)
        inits.append(mlp.init_params([x.shape[1], cfg["hidden"], cfg["hidden"], n_classes], generator, device=device))
        schedules.append(sensitivity.minibatch_schedule(len(x), cfg["batch_size"], last, generator))
    params = tuple(torch.stack(p) for p in zip(*inits))
    x = torch.stack([r[0] for r in runs])
    y = torch.stack([r[1] for r in runs])
    schedule = torch.stack(schedules).to(device)
    grads, class_grads = sensitivity.input_gradients_runs(
        params, x, y, lr=cfg["lr"], schedule=schedule, measure_steps=measured, class_specific_steps=class_steps
    )
    # g_x^t = ||dL_t/dx|| with each norm: (setting, norm, measured, N)
    norms = torch.stack([grads.abs().sum(-1), grads.norm(dim=-1), grads.abs().amax(-1)], dim=1)
    position = {t: i for i, t in enumerate(measured)}
    average = lambda g: torch.stack([g[..., [position[t] for t in steps], :].mean(-2) for steps in per_t], dim=-2)
    loss_sensitivity = average(norms)  # (setting, norm, T, N): the mean of g_x^t over the sampled t <= T
    # robustness: each step's g_x^t divided by its mean over examples, so that no few steps dominate
    step_normalized = average(norms[:, 0] / norms[:, 0].mean(-1, keepdim=True).clamp_min(1e-30))
    _, final = sensitivity.train_runs(params, x, y, schedule, cfg["lr"], last, last)
    with torch.no_grad():
        accuracy = (mlp.forward(final, x).argmax(-1) == y).float().mean(-1)
    numpy = lambda t: t.cpu().numpy()
    out = {
        "setting": np.array(names),
        "T": np.array(cfg["steps"]),
        "norm": np.array(NORMS),
        "loss_sensitivity": numpy(loss_sensitivity),
        "step_normalized": numpy(step_normalized),
        "final_train_accuracy": numpy(accuracy),
        "finite": numpy(torch.isfinite(loss_sensitivity).flatten(1).all(1)),
        "labels": numpy(y),
    }
    if class_grads is not None:
        per_class = class_grads.abs().sum(-1).mean(1)  # (setting, C, N): mean over t of |dL_t(y=i)/dx|_1
        out["class_matrix"] = numpy(
            torch.stack(
                [
                    torch.stack([per_class[r][:, y[r] == j].mean(1) for j in range(n_classes)], dim=1)
                    for r in range(len(runs))
                ]
            )
        )
    return out


def _work(cfg, cell):
    """The sweep's cost: the parameters each adjoint carries, times the SGD steps it lives through (a loss
    sampled at step t is carried back through t updates; a uniform draw from [1, T] has mean about T / 2), plus
    the forward pass and its recomputation (two passes of the last T steps)."""
    group = GROUPS[cell["group"]]
    last = max(cfg["steps"])
    if group is SETTINGS_10_CLASSES:
        adjoint_steps, width = cfg["measured_steps"] * sum(cfg["steps"]) / 2 + 10 * cfg["class_steps"] * last / 2, 10
    else:
        adjoint_steps, width = cfg["unique_measured_steps"] * sum(cfg["steps"]) / 2, cfg["n_examples"]
    per_step = cfg["hidden"] * (196 + cfg["hidden"] + width)  # parameters each adjoint carries
    return len(group) * (2 * last + adjoint_steps) * per_step


def _memory(cfg, cell):
    """The group's MLPs, each backward pass taken for every example at once, and the input gradients kept for
    every measured step (at least ``count`` of them)."""
    group = GROUPS[cell["group"]]
    n = cfg["n_examples"]
    classes, count = (10, cfg["measured_steps"]) if group is SETTINGS_10_CLASSES else (n, cfg["unique_measured_steps"])
    networks = memory.mlp((196, cfg["hidden"], cfg["hidden"], classes), n, models=len(group))
    kept = len(group) * min(count, max(cfg["steps"])) * n * 196
    return memory.needed(networks, data=memory.images(len(group) * n, (196,)) + kept)


_DIMS = {
    "loss_sensitivity": ("setting", "norm", "T", "example"),
    "step_normalized": ("setting", "T", "example"),
    "final_train_accuracy": ("setting",),
    "finite": ("setting",),
    "labels": ("setting", "example"),
    "class_matrix": ("setting", "loss_class", "example_class"),
}
PARTS = (
    Part(
        "sensitivity",
        version=6,
        compute=_compute,
        datasets=lambda cfg: {"mnist": cfg["n_examples"]},
        cells=lambda cfg: [{"group": g, "seed": s} for g in GROUPS for s in cfg["seeds"]],
        dims=_DIMS,
        work=_work,
        memory=_memory,
    ),
)
GROUP_OF = {name: group for group, settings in GROUPS.items() for name in settings}


def seeds_run(results):
    """The seeds of ``results``, in the order they were run (each seed is one cell per group)."""
    return list(dict.fromkeys(c["seed"] for p, c, _ in results if p == "sensitivity"))


def sel(results, name, setting, **coords):
    """Array ``name`` of one setting, stacked over the seeds (one cell each): its first dimension is the seed."""
    return np.stack(
        [
            results.sel("sensitivity", name, group=GROUP_OF[setting], seed=seed, setting=setting, **coords)
            for seed in seeds_run(results)
        ]
    )


def gini_per_seed(results, setting, norm="l1", step_normalized=False):
    """Gini of the loss-sensitivity over examples, (seed, T), NaN where a run diverged (reported, not plotted)."""
    if step_normalized:
        sens = sel(results, "step_normalized", setting)
    else:
        sens = sel(results, "loss_sensitivity", setting, norm=norm)
    finite = sel(results, "finite", setting)
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
    return sel(results, "class_matrix", name).mean(0)


def off_diagonal_share(matrix):
    return float((matrix.sum() - np.trace(matrix)) / matrix.sum())


def diagonal_dominance(matrix):
    """Mean diagonal entry over mean off-diagonal entry (above 1: the diagonal dominates)."""
    off = (matrix.sum() - np.trace(matrix)) / (matrix.size - len(matrix))
    return float(np.trace(matrix) / len(matrix) / off)


def data_label(results):
    return ", ".join(results.data_labels()["sensitivity"]) + ", 14x14"


# --- Claims, registered before the results (memo_utils.framework.claims) ------------------------------------

NETWORKS = {
    "real": "real-label MLPs (10 classes)",
    "50% real": "MLPs with 50% real labels",
    "randY": "random-label MLPs (randY)",
    "randX": "random-input MLPs (randX, real labels)",
    "real inputs": "one class per example, real inputs",
    "random inputs": "one class per example, random inputs",
}
MEMORISING = (
    "The claims contrast networks that memorise with networks that learn, and the paper trains to "
    "convergence (section 2: 1,000 epochs). A network counts as memorising once it fits at least half of "
    "what only memorisation can fit"
)
PRECONDITIONS = (
    Precondition(
        "real-learned",
        ("real",),
        "real-label MLPs: final training accuracy, mean over seeds",
        0.9,
        "the paper's real-data network converges; below 90% it has not learned its training set",
    ),
    Precondition(
        "half-memorised",
        ("50% real",),
        "50%-real MLPs: final training accuracy, mean over seeds",
        0.75,
        MEMORISING + ": the real half and half of the random half (0.5 + 0.5 x 0.5)",
    ),
    Precondition(
        "randY-memorised",
        ("randY",),
        "randY MLPs: final training accuracy, mean over seeds",
        0.55,
        MEMORISING + ": half of the random labels beyond chance (0.1 + 0.9 / 2)",
    ),
    Precondition(
        "randX-memorised",
        ("randX",),
        "randX MLPs: final training accuracy, mean over seeds",
        0.55,
        MEMORISING + ": half of the random inputs' labels beyond chance (0.1 + 0.9 / 2)",
    ),
    Precondition(
        "unique-memorised",
        ("real inputs", "random inputs"),
        "one-class-per-example MLPs: final training accuracy, the lower mean over seeds of the two",
        0.5,
        MEMORISING + ": half of the examples told apart, each being its own class",
    ),
)
GINI_STEP = 0.02  # Figure 3 right draws the Gini with ticks 0.02 apart, the finest the paper resolves it
GINI_REASON = "the finest difference the paper draws: Figure 3 right's Gini axis has ticks 0.02 apart"
NORM_MARGIN = 0.05  # "very similar": half of Figure 3 left's tick spacing (0.1)
DECADE_TENTH = 0.1  # log10 units: a tenth of the decade that Figure 4's log colour scale spans (10^-7 to 10^-6)
SEEDS = "seeds, paired: a seed fixes initialisation and data order"
_GAP = "Gini of the loss-sensitivity at the last T, {a} minus {b}, per seed"
CLAIMS = (
    Definition(
        "arpit2017-sens-1a",
        "arpit2017",
        "Sec. 3.2, Fig. 3 left",
        "for real data, only a subset of the training set has high ḡx, while for random data, ḡx is high for "
        "virtually all examples",
        "The Gini coefficient of the loss-sensitivity over examples is higher for real data than for random labels.",
        (above(_GAP.format(a="real", b="randY"), GINI_STEP, GINI_REASON),),
        SEEDS,
        ("real", "randY"),
    ),
    Definition(
        "arpit2017-sens-1b",
        "arpit2017",
        "Sec. 3.2, Fig. 3 left",
        "We observe that, when trained on real data, the network has a high ḡx for a few examples, while on "
        "random data the network is sensitive to most examples",
        "The Gini coefficient of the loss-sensitivity is higher for real data than for random inputs (with "
        "real labels): the paper's 'real and fully random inputs'.",
        (above(_GAP.format(a="real", b="randX"), GINI_STEP, GINI_REASON),),
        SEEDS,
        ("real", "randX"),
    ),
    Definition(
        "arpit2017-sens-2",
        "arpit2017",
        "Fig. 3 left",
        "(the curve of 50% real data lies between the two)",
        "With 50% real labels the Gini lies between real data and random labels.",
        (
            above(_GAP.format(a="real", b="50% real"), GINI_STEP, GINI_REASON),
            above(_GAP.format(a="50% real", b="randY"), GINI_STEP, GINI_REASON),
        ),
        SEEDS,
        ("real", "50% real", "randY"),
    ),
    Definition(
        "arpit2017-sens-3",
        "arpit2017",
        "Sec. 3.2, Fig. 3 right",
        "the network has to learn to identify each example uniquely, yet still behaves differently when given "
        "real data than when given random data as input",
        "With one class per example, the Gini differs between real and random inputs.",
        (differs(_GAP.format(a="real inputs", b="random inputs"), GINI_STEP, GINI_REASON),),
        SEEDS,
        ("real inputs", "random inputs"),
    ),
    *(
        Definition(
            f"arpit2017-sens-4{suffix}",
            "arpit2017",
            "Sec. 3.2, Fig. 4",
            "the loss-sensitivity w.r.t. class i for training examples of class j is higher when i = j, but more "
            "spread out for real data",
            f"The class-specific sensitivity g_ij has a dominant diagonal for real data and for {random}, and is "
            f"more spread out (a less dominant diagonal) for real data.",
            (
                above(
                    "log10 of g_ij's mean diagonal over its mean off-diagonal entry, real data, per seed",
                    DECADE_TENTH,
                    "a tenth of the decade that Figure 4's log colour scale spans",
                ),
                above(
                    f"the same for {random}",
                    DECADE_TENTH,
                    "a tenth of the decade that Figure 4's log colour scale spans",
                ),
                above(
                    f"the same, {random} minus real data",
                    DECADE_TENTH,
                    "a tenth of a decade: a spread that Figure 4's log colour scale would show",
                ),
            ),
            SEEDS,
            ("real", random),
        )
        for suffix, random in (("a", "randY"), ("b", "randX"))
    ),
    Definition(
        "arpit2017-sens-5",
        "arpit2017",
        "Sec. 3.2",
        "we only report l1-norm results, but that results stay very similar using l2-norm and infinity norm",
        "The real - randY Gini gap stays very similar when the l1 norm is replaced by the l2 or the infinity norm.",
        tuple(
            within(
                f"the real - randY Gini gap with the {norm} norm minus with the l1 norm, per seed",
                -NORM_MARGIN,
                NORM_MARGIN,
                "'very similar': within half of Figure 3 left's tick spacing (0.1), the figure would look the same",
            )
            for norm in ("l2", "infinity")
        ),
        SEEDS,
        ("real", "randY"),
    ),
    Definition(
        "arpit2017-sens-6",
        "arpit2017",
        "Fig. 3 left",
        "(the real-data curve rises as training progresses)",
        "For real data the Gini rises as training progresses.",
        (above("Gini of real data at the last T minus at the first T, per seed", GINI_STEP, GINI_REASON),),
        SEEDS,
        ("real",),
    ),
)


def evidence(results, cfg):
    """Section 3.2's claims at the last T (where Figure 3 makes its point), seeds as replicates."""
    steps = cfg["steps"]
    gini = {name: gini_per_seed(results, name) for name in SETTING_NAMES}
    last = {name: g[:, -1] for name, g in gini.items()}
    curve = lambda name: ", ".join(f"{v:.2f}" for v in np.nanmean(gini[name], 0))
    fit = {name: float(np.mean(sel(results, "final_train_accuracy", name))) for name in SETTING_NAMES}
    conditions = {
        "real-learned": fit["real"],
        "half-memorised": fit["50% real"],
        "randY-memorised": fit["randY"],
        "randX-memorised": fit["randX"],
        "unique-memorised": min(fit["real inputs"], fit["random inputs"]),
    }
    at_t = f"Gini at T = {steps}"
    estimates, measured = {}, {}
    for suffix, random in (("a", "randY"), ("b", "randX")):
        robust = across(
            gini_per_seed(results, "real", step_normalized=True)[:, -1]
            - gini_per_seed(results, random, step_normalized=True)[:, -1]
        )
        estimates[f"arpit2017-sens-1{suffix}"] = (across(last["real"] - last[random]),)
        measured[f"arpit2017-sens-1{suffix}"] = (
            f"{at_t}: real {curve('real')}; {random} {curve(random)}. Robustness check, each step's g divided by its "
            f"mean over examples so that no few steps dominate: gap {robust}"
        )
    estimates["arpit2017-sens-2"] = (across(last["real"] - last["50% real"]), across(last["50% real"] - last["randY"]))
    measured["arpit2017-sens-2"] = f"{at_t}: 50% real {curve('50% real')}"
    estimates["arpit2017-sens-3"] = (across(last["real inputs"] - last["random inputs"]),)
    measured["arpit2017-sens-3"] = f"{at_t}: real inputs {curve('real inputs')}; random inputs {curve('random inputs')}"
    dominance = {
        name: np.log10([diagonal_dominance(m) for m in sel(results, "class_matrix", name)])
        for name in ("real", "randY", "randX")
    }
    for suffix, random in (("a", "randY"), ("b", "randX")):
        estimates[f"arpit2017-sens-4{suffix}"] = (
            across(dominance["real"]),
            across(dominance[random]),
            across(dominance[random] - dominance["real"]),
        )
        measured[f"arpit2017-sens-4{suffix}"] = (
            f"diagonal/off-diagonal mean ratio (mean over seeds): real {np.mean(10 ** dominance['real']):.2f}, "
            f"{random} {np.mean(10 ** dominance[random]):.2f}"
        )
    gaps = {
        norm: gini_per_seed(results, "real", norm)[:, -1] - gini_per_seed(results, "randY", norm)[:, -1]
        for norm in NORMS
    }
    estimates["arpit2017-sens-5"] = tuple(across(gaps[norm] - gaps["l1"]) for norm in ("l2", "linf"))
    measured["arpit2017-sens-5"] = "gap real - randY: " + "; ".join(f"{norm} {across(g)}" for norm, g in gaps.items())
    estimates["arpit2017-sens-6"] = (
        across(gini["real"][:, -1] - gini["real"][:, 0]) if len(steps) > 1 else NOT_MEASURED,
    )
    measured["arpit2017-sens-6"] = f"{at_t}: real {curve('real')}"
    return Evidence(conditions, estimates, measured)


CHAPTER = Chapter(
    "loss_sensitivity",
    paper="arpit2017",
    params=PARAMS,
    parts=PARTS,
    claims=CLAIMS,
    evidence=evidence,
    networks=NETWORKS,
    preconditions=PRECONDITIONS,
    check=_check,
)
