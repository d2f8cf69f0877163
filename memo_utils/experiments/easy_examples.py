"""Arpit et al. 2017, section 3.1: easy examples (Figure 1) and first-layer filters (Figure 2).

Figure 1 (part ``mlp``, one cell per dataset): for real MNIST, randX and randY, ``n_runs`` MLPs
(784-h-h-10, ReLU) are trained for one epoch from different initialisations and data orders,
as one batched computation; for each of ``n_eval`` training examples we record which runs
misclassify it, at several points of the epoch (the last one is the paper's figure; the others
feed the chapter's widget).

Figure 2 (part ``cnn``): the small AlexNet is trained on CIFAR-10 and on randY CIFAR-10 from the
same initial filters; we keep its first-layer filters before and after training.
"""
from __future__ import annotations

import copy
from functools import lru_cache

import numpy as np
import torch

from .. import data, profiles, seeds, stats
from ..chapter import Chapter, Param, Part
from ..claims import Evidence  # issue 26: the claims below are being re-registered
from ..errors import ConfigError
from ..ensemble import MLPEnsemble, train_ensemble
from ..models import SmallAlexNet
from ..stacked import train_classifiers
from ..training import accuracy, train_classifier

DATASETS = ("real", "randX", "randY")
CNN_DATASETS = ("real", "randY", "randX")  # randX: the control for "randY filters are structured, not noise"
INPUT_SCALINGS = ("standardized", "unit")
CHECKPOINT_FRACTIONS = (0.25, 0.5, 0.75, 1.0)
CNN_ENGINES = ("loop", "stacked")  # two train_classifier calls, or one train_classifiers call (same semantics)

SCALED = "scaled down in the smoke and cpu profiles to fit their CPU time budgets"
PARAMS = (
    Param("n_runs", profiles.positive_int, 100, paper="100", parts=("mlp",), by_profile={"smoke": 8},
          note="smoke uses fewer runs only to prove the code path"),
    Param("train_size", profiles.positive_int, 60000, paper="MNIST training set", parts=("mlp",),
          by_profile={"smoke": 2000, "cpu": 10000}, note=SCALED + " (the bundled 10,000-image sample)"),
    Param("n_eval", profiles.positive_int, 1000, paper="1000", parts=("mlp",)),
    Param("hidden", profiles.positive_int, 4096, paper="4096", parts=("mlp",), by_profile={"smoke": 64, "cpu": 128},
          note=SCALED + "; the curves' shapes, not their exact values, are compared"),
    Param("batch_size", profiles.positive_int, 32, paper="not stated", parts=("mlp",),
          note="not stated in the paper; 32 is a common choice that gives real data a meaningful first epoch "
               "at learning rate 0.01 (a parameter, so it can be changed)"),
    Param("lr", profiles.positive_float, 0.01, paper="0.01 (SGD)", parts=("mlp",)),
    Param("seed", profiles.non_negative_int, 0, paper="not stated", parts=("mlp",),
          note="fixes the noise, the initialisations and the data orders of the runs"),
    Param("noise_fraction", profiles.fraction, 1.0, paper="1.0 (randX and randY are 100% noise)", parts=("mlp",),
          note="a parameter: lower it to see the curves move from noise towards real data"),
    Param("input_scaling", profiles.one_of(*INPUT_SCALINGS), "standardized", paper="not stated", parts=("mlp",),
          note="not stated; inputs standardised by the training set's mean and std. With [0, 1] inputs ('unit') the "
               "randX networks collapse onto fewer classes in one epoch, which changes how binomial randX looks"),
    Param("cnn_seeds", profiles.seed_list, [0, 1, 2], paper="one network per dataset", parts=("cnn",),
          by_profile={"smoke": [0]},
          note="seeds are the replicates of the filter claims; each seed's real, randY and randX networks share their "
               "initial filters"),
    Param("cnn_width", profiles.positive_int, 200, paper="200", parts=("cnn",), by_profile={"smoke": 8, "cpu": 32},
          note=SCALED),
    Param("cnn_epochs", profiles.positive_int, 30, paper="not stated", parts=("cnn",),
          by_profile={"smoke": 1, "cpu": 10, "paper": 100},
          note="not stated; long enough for the filters to settle in each profile's budget"),
    Param("cnn_train_size", profiles.positive_int, 50000, paper="CIFAR-10 training set (50,000)", parts=("cnn",),
          by_profile={"smoke": 512, "cpu": 3000},
          note="cpu: the exact first 3,000 CIFAR-10 images; gpu: all 50,000 (the JPEG copy unless torchvision's "
               "download is available)"),
    Param("cnn_batch_size", profiles.positive_int, 128, paper="not stated", parts=("cnn",),
          note="not stated; 128, as in Zhang et al.'s CIFAR-10 setup"),
    Param("cnn_lr", profiles.positive_float, 0.01, paper="0.01, momentum 0.9, halved every 15 epochs", parts=("cnn",)),
    Param("cnn_engine", profiles.one_of(*CNN_ENGINES), "stacked", paper="(an implementation choice)", parts=("cnn",),
          by_profile={"smoke": "loop", "cpu": "loop"},
          note="how the two networks are trained; both give the same training (tested). Stacking was slower on a "
               "2-core CPU, so cpu uses the loop; gpu stacks them (one grouped convolution per layer), which the "
               "benchmark's small-AlexNet case measures"),
)


def _check(cfg):
    if cfg["n_eval"] > cfg["train_size"]:
        raise ConfigError(f"n_eval={cfg['n_eval']} is not allowed: must be at most train_size={cfg['train_size']}")


def _compute_mlp(cfg, cell, inputs, device):
    """One dataset of Figure 1: ``n_runs`` MLPs trained for one epoch as one batched ensemble."""
    mnist = inputs["mnist"]
    x = data.to_tensor(mnist.x_train[: cfg["train_size"]], device)
    if cfg["input_scaling"] == "standardized":
        (x,) = data.standardize(x)
    y = torch.as_tensor(mnist.y_train[: cfg["train_size"]], dtype=torch.long, device=device)
    true_labels = y[: cfg["n_eval"]].cpu().numpy()
    steps_per_epoch = -(-cfg["train_size"] // cfg["batch_size"])
    checkpoints = [max(1, round(f * steps_per_epoch)) for f in CHECKPOINT_FRACTIONS]
    run_seeds = seeds.runs(cfg["seed"], cfg["n_runs"])
    name = cell["dataset"]
    if name != "real":  # the corruption is drawn once per seed and shared by all runs
        x, y, _ = data.corrupt(x, y, kind=name, fraction=cfg["noise_fraction"],
                               generator=torch.Generator().manual_seed(cfg["seed"]))
    ensemble = _initial_ensemble((784, cfg["hidden"], cfg["hidden"], 10), tuple(run_seeds), device)
    if name == DATASETS[-1]:  # the last dataset: free the host copy (8 GB at the paper's size)
        _initial_mlps.cache_clear()
    x_eval, y_eval = x[: cfg["n_eval"]], y[: cfg["n_eval"]]
    wrong, predicted = [], []

    def record(step, ens):
        prediction = ens.predict(x_eval)
        wrong.append((prediction != y_eval).cpu().numpy())
        predicted.append(torch.nn.functional.one_hot(prediction, 10).sum(1).cpu().numpy())

    finite = train_ensemble(ensemble, x, y, order_seeds=run_seeds, epochs=1, batch_size=cfg["batch_size"],
                            lr=cfg["lr"], checkpoints=checkpoints, callback=record)
    return {"checkpoint": np.array(CHECKPOINT_FRACTIONS), "checkpoint_steps": np.array(checkpoints),
            "misclassified": np.stack(wrong).astype(np.uint8), "eval_labels": y_eval.cpu().numpy(),
            "true_labels": true_labels, "predicted_class_counts": np.stack(predicted).astype(np.int32),
            "finite": finite.cpu().numpy()}


@lru_cache(maxsize=1)
def _initial_mlps(sizes, run_seeds):
    """The runs' initial MLPs, on the host. Drawn once for the three datasets, whose runs share their seeds:
    at the paper's size, drawing 100 models takes about half a minute per dataset (issue 19)."""
    return MLPEnsemble(list(sizes), run_seeds, "cpu")


def _initial_ensemble(sizes, run_seeds, device):
    """A fresh copy, on ``device``, of the runs' initial MLPs (``_initial_mlps``): the same parameters as
    ``MLPEnsemble(sizes, run_seeds, device)``."""
    initial = _initial_mlps(sizes, run_seeds)
    ensemble = copy.copy(initial)
    ensemble.weights = [w.to(device, copy=True) for w in initial.weights]
    ensemble.biases = [b.to(device, copy=True) for b in initial.biases]
    return ensemble


def _compute_cnn(cfg, cell, inputs, device):
    """Figure 2, one seed: the small AlexNet on real CIFAR-10, randY and randX, from the same initial filters."""
    cifar = inputs["cifar10"]
    n, seed = cfg["cnn_train_size"], cell["seed"]
    x_train, x_test = data.standardize(data.to_tensor(cifar.x_train[:n], device), data.to_tensor(cifar.x_test, device))
    y_train = torch.as_tensor(cifar.y_train[:n], dtype=torch.long, device=device)
    y_test = torch.as_tensor(cifar.y_test, dtype=torch.long, device=device)
    generator = torch.Generator().manual_seed(seed)
    _, rand_labels, _ = data.corrupt(x_train, y_train, kind="randY", fraction=1.0, generator=generator)
    rand_inputs, _, _ = data.corrupt(x_train, y_train, kind="randX", fraction=1.0, generator=generator)
    inputs_by_dataset = {"real": x_train, "randY": x_train, "randX": rand_inputs}
    labels_by_dataset = {"real": y_train, "randY": rand_labels, "randX": y_train}
    models = []
    for _ in CNN_DATASETS:
        torch.manual_seed(seed)  # the same initial filters for every dataset
        models.append(SmallAlexNet(width=cfg["cnn_width"]).to(device))
    initial = models[0].first_layer_filters.detach().cpu().numpy().copy()
    train = dict(epochs=cfg["cnn_epochs"], batch_size=cfg["cnn_batch_size"], lr=cfg["cnn_lr"])
    if cfg["cnn_engine"] == "stacked":  # one input tensor per model is not supported: stack those sharing inputs
        trained = {}
        for group in (("real", "randY"), ("randX",)):
            group_models = [models[CNN_DATASETS.index(d)] for d in group]
            labels = torch.stack([labels_by_dataset[d] for d in group])
            for d, r in zip(group, train_classifiers(group_models, inputs_by_dataset[group[0]], labels,
                                                      seeds=[seed] * len(group), **train)):
                trained[d] = r
        trained = [trained[d] for d in CNN_DATASETS]
    else:
        trained = [train_classifier(m, inputs_by_dataset[d], labels_by_dataset[d], seed=seed, **train)
                   for m, d in zip(models, CNN_DATASETS)]
    return {"dataset": np.array(CNN_DATASETS), "initial_filters": initial,
            "filters": np.stack([m.first_layer_filters.detach().cpu().numpy() for m in models]),
            "train_accuracy": np.array([h["accuracy"] for h, _ in trained]),
            "test_accuracy": np.array([accuracy(m, x_test, y_test) for m in models]),
            "finite": np.array([f for _, f in trained])}


def _mlp_work(cfg, cell):
    h = cfg["hidden"]
    return 3 * cfg["n_runs"] * cfg["train_size"] * (784 * h + h * h + 10 * h)


def _cnn_work(cfg, cell):
    w = cfg["cnn_width"]
    return 3 * cfg["cnn_epochs"] * cfg["cnn_train_size"] * (28 * 28 * 75 * w + 14 * 14 * 25 * w * w)


PARTS = (
    Part("mlp", version=3, compute=_compute_mlp, datasets=lambda cfg: {"mnist": cfg["train_size"]},
         cells=lambda cfg: [{"dataset": d} for d in DATASETS], work=_mlp_work,
         dims={"misclassified": ("checkpoint", "run", "example"),
               "predicted_class_counts": ("checkpoint", "run", "class")}),
    Part("cnn", version=3, compute=_compute_cnn, datasets=lambda cfg: {"cifar10": cfg["cnn_train_size"]},
         cells=lambda cfg: [{"seed": s} for s in cfg["cnn_seeds"]], work=_cnn_work, dims={"filters": ("dataset", "filter", "channel", "row", "column"),
                               "train_accuracy": ("dataset", "epoch"), "test_accuracy": ("dataset",),
                               "finite": ("dataset",)}),
)


def _finite_runs(results, dataset, checkpoint=-1):
    """(run, example) misclassification of the runs whose loss stayed finite."""
    cell = results.cell("mlp", dataset=dataset)
    return cell["misclassified"][checkpoint][cell["finite"]]


def misclassification_rates(results, dataset, checkpoint=-1):
    """Per-example misclassification rate over the runs that stayed finite, sorted ascending."""
    wrong = _finite_runs(results, dataset, checkpoint)
    return np.sort(wrong.mean(0)), wrong.shape[0]


def binomial_reference(results, n_points=1000, seed=0):
    """Sorted draws from Binomial(n_runs, p) / n_runs with p = mean P(wrong) of randX (Figure 1)."""
    rates, n_runs = misclassification_rates(results, "randX")
    draws = np.random.default_rng(seed).binomial(n_runs, rates.mean(), size=n_points)
    return np.sort(draws / n_runs)


def _common_finite_runs(results, datasets, checkpoint=-1):
    """{dataset: (run, example) misclassification} over the runs finite in every one of ``datasets``.

    Run k of every dataset starts from the same initialisation and data order, so runs pair up.
    """
    cells = {d: results.cell("mlp", dataset=d) for d in datasets}
    finite = np.logical_and.reduce([c["finite"] for c in cells.values()])
    return {d: c["misclassified"][checkpoint][finite] for d, c in cells.items()}


def dispersion(wrong, groups=None):
    """Dispersion index of per-example error counts over runs (1: binomial), with its 95% interval."""
    index, low, high, dof = stats.dispersion_interval(wrong.sum(0), wrong.shape[0], groups)
    return {"index": index, "low": low, "high": high, "dof": dof}


def _within(groups):
    return lambda wrong: stats.binomial_dispersion_test(wrong.sum(0), wrong.shape[0], groups)["dispersion_index"]


def predicted_class_shares(results, dataset, checkpoint=-1):
    """Share of the evaluated examples that the finite runs assign to each class, (run, class)."""
    cell = results.cell("mlp", dataset=dataset)
    counts = cell["predicted_class_counts"][checkpoint][cell["finite"]]
    return counts / counts.sum(-1, keepdims=True)


def measure(results, checkpoint=-1):
    """The numbers Figure 1's claims rest on, per dataset: spread and dispersion, pooled and within groups."""
    m = {}
    for name in DATASETS:
        cell = results.cell("mlp", dataset=name)
        wrong = cell["misclassified"][checkpoint][cell["finite"]]
        rates = wrong.mean(0)
        m[name] = {"n_runs": wrong.shape[0], "mean_error": float(rates.mean()), "std_error": float(rates.std()),
                   "pooled": dispersion(wrong), "within_label": dispersion(wrong, cell["eval_labels"])}
    randy = results.cell("mlp", dataset="randY")
    label_and_digit = randy["eval_labels"] * 10 + randy["true_labels"]
    m["randY"]["within_label_and_digit"] = dispersion(randy["misclassified"][checkpoint][randy["finite"]],
                                                      label_and_digit)
    collapsed = predicted_class_shares(results, "randX", checkpoint).max(-1)
    m["randX"]["largest_predicted_share"] = float(collapsed.mean())
    return m


def filter_measures(results):
    """Per CNN seed (the replicates): smoothness of each dataset's filters and of the shared initial ones,
    and how far training moved the filters (||W - W0|| / ||W0||)."""
    seeds = [c["seed"] for p, c, _ in results if p == "cnn"]
    out = {"seed": seeds, "initial": np.array([stats.spatial_smoothness(results.sel("cnn", "initial_filters", seed=s))
                                               for s in seeds])}
    for name in CNN_DATASETS:
        filters = [results.sel("cnn", "filters", seed=s, dataset=name) for s in seeds]
        initial = [results.sel("cnn", "initial_filters", seed=s) for s in seeds]
        out[name] = np.array([stats.spatial_smoothness(f) for f in filters])
        out[f"{name}_moved"] = np.array([np.linalg.norm(f - i) / np.linalg.norm(i) for f, i in zip(filters, initial)])
        out[f"{name}_train_accuracy"] = np.array([results.sel("cnn", "train_accuracy", seed=s, dataset=name)[-1]
                                                  for s in seeds])
        out[f"{name}_finite"] = np.array([bool(results.sel("cnn", "finite", seed=s, dataset=name)) for s in seeds])
    return out


BINOMIAL_MARGIN = 2.0  # "binomial": example-level variance at most the binomial variance itself (index <= 2)
SPREAD_RATIO_THRESHOLD = 2.0
REAL_MAX_ERROR = 0.5  # real data must have been learned in the epoch for difficulty to mean anything
FILTERS_MOVED_MIN = 0.5  # training must have moved the filters by half their initial norm


def _interval(d):
    return "no degrees of freedom (every run predicts one class per group)" if d["dof"] == 0 else \
        f"{d['index']:.2f} [{d['low']:.2f}, {d['high']:.2f}]"


def claims(results, cfg):
    """Section 3.1's claims, each with a verdict computed from ``results``."""
    m = measure(results)
    labels = results.data_labels()
    mnist, cifar = ", ".join(labels["mlp"]), ", ".join(labels["cnn"])
    real, randx, randy = m["real"], m["randX"], m["randY"]
    runs = f"runs ({real['n_runs']} initialisations and data orders)"
    common = dict(paper="arpit2017", profile=cfg["profile"], figure="Fig. 1", data=mnist, seeds=[cfg["seed"]])
    learned = dict(precondition=f"real data learned in the epoch: mean error <= {REAL_MAX_ERROR}; "
                                f"measured {real['mean_error']:.3f}", at_scale=real["mean_error"] <= REAL_MAX_ERROR)
    out = []

    paired = _common_finite_runs(results, ("real", "randX"))
    ratio = stats.jackknife_interval(
        np.stack([paired["real"], paired["randX"]], axis=1),
        lambda r: _within(results.cell("mlp", dataset="real")["eval_labels"])(r[:, 0])
        / _within(results.cell("mlp", dataset="randX")["eval_labels"])(r[:, 1]))
    out.append(Claim(
        "arpit2017-easy-1", **common, **learned, replicate=runs + ", paired; delete-one jackknife",
        statement="Per-example difficulty after one epoch varies much more for real data than for randX.",
        effect="within-class dispersion index, real / randX", estimate=ratio[0], interval=list(ratio[1:]),
        threshold=f"95% interval above {SPREAD_RATIO_THRESHOLD}", passed=ratio[1] > SPREAD_RATIO_THRESHOLD,
        measured=f"within-class dispersion index (1 = binomial): real {_interval(real['within_label'])}, randX "
                 f"{_interval(randx['within_label'])}, randY {_interval(randy['within_label'])}; pooled std of "
                 f"per-example error: real {real['std_error']:.3f}, randX {randx['std_error']:.3f}"))
    for suffix, key, scope in (("2", "pooled", "all examples share one p, as in the paper's figure"),
                               ("2w", "within_label", "one p per class")):
        d = randx[key]
        out.append(Claim(
            f"arpit2017-easy-{suffix}", **common, replicate=runs + "; chi-square interval of the dispersion statistic",
            statement="For randX, differences in difficulty are well modelled as binomial noise"
                      + (" (the paper's reading: one p for all examples)." if key == "pooled" else
                         " within each class (our refinement: one p per class)."),
            effect=f"randX dispersion index ({scope})", estimate=d["index"],
            interval=None if d["dof"] == 0 else [d["low"], d["high"]],
            threshold=f"equivalence: 95% interval inside [0, {BINOMIAL_MARGIN}] (example-level variance at most the "
                      f"binomial variance)", passed=d["dof"] > 0 and d["high"] < BINOMIAL_MARGIN,
            precondition="degrees of freedom left (not every run predicts one class per group); "
                         f"mean largest predicted-class share {randx['largest_predicted_share']:.2f}",
            at_scale=d["dof"] > 0,
            measured=f"randX index {_interval(d)}; mean error {randx['mean_error']:.3f}; the networks learn the label "
                     f"prior, so frequent classes are easier: the pooled index mixes that in"))
    d = randy["within_label"]
    out.append(Claim(
        "arpit2017-easy-3", **common, **learned, replicate=runs + "; chi-square interval of the dispersion statistic",
        statement="For randY, difficulty is not binomial, indicating some use of shared patterns.",
        effect="randY dispersion index within each random label", estimate=d["index"],
        interval=None if d["dof"] == 0 else [d["low"], d["high"]],
        threshold=f"95% interval above {BINOMIAL_MARGIN} (outside the binomial margin)",
        passed=d["dof"] > 0 and d["low"] > BINOMIAL_MARGIN,
        measured=f"within random label {_interval(d)}; pooled {_interval(randy['pooled'])}"))
    randy_cell = results.cell("mlp", dataset="randY")
    wrong = randy_cell["misclassified"][-1][randy_cell["finite"]]
    drop = stats.jackknife_interval(
        wrong, lambda r: _within(randy_cell["eval_labels"])(r)
        / _within(randy_cell["eval_labels"] * 10 + randy_cell["true_labels"])(r))
    out.append(Claim(
        "arpit2017-easy-3b", **common, **learned, replicate=runs + "; delete-one jackknife",
        statement="The shared patterns behind randY difficulty are those of the true digits: within groups of the same "
                  "random label and true digit, randY examples are more alike.",
        effect="randY dispersion within random label / within (random label x true digit)",
        estimate=drop[0], interval=list(drop[1:]), threshold="95% interval above 1", passed=drop[1] > 1,
        measured=f"within random label {_interval(randy['within_label'])}; within random label x true digit "
                 f"{_interval(randy['within_label_and_digit'])}"))

    f = filter_measures(results)
    moved = min(float(f[f"{name}_moved"].min()) for name in CNN_DATASETS)
    finite = all(f[f"{name}_finite"].all() for name in CNN_DATASETS)
    filters = dict(paper="arpit2017", profile=cfg["profile"], figure="Fig. 2", data=cifar, seeds=list(f["seed"]),
                   replicate=f"seeds ({len(f['seed'])}), paired: a seed's networks share their initial filters",
                   precondition=f"training moved every network's filters by >= {FILTERS_MOVED_MIN:.0%} of their initial "
                                f"norm; least: {moved:.0%}" + ("" if finite else "; a network diverged"),
                   at_scale=moved >= FILTERS_MOVED_MIN and finite)
    smooth = lambda name: f"{f[name].mean():.3f}"
    text = (f"mean spatial smoothness (adjacent-weight correlation): real {smooth('real')}, randY {smooth('randY')}, "
            f"randX {smooth('randX')}, initial {smooth('initial')}; training accuracy real "
            f"{f['real_train_accuracy'].mean():.2f}, randY {f['randY_train_accuracy'].mean():.2f}, randX "
            f"{f['randX_train_accuracy'].mean():.2f}")
    out.append(from_test(
        exceeds(f["real"] - f["randY"]), id="arpit2017-easy-4", **filters, measured=text,
        statement="First-layer filters learned on real CIFAR-10 are more structured than those learned on randY.",
        effect="smoothness of the filters, real - randY", threshold="95% interval above 0"))
    above_init, above_randx = exceeds(f["randY"] - f["initial"]), exceeds(f["randY"] - f["randX"])
    out.append(from_test(
        all_of(above_init, above_randx), id="arpit2017-easy-4b", **filters,
        statement="Filters learned on randY are structured, not noise: smoother than their initialisation and than "
                  "filters learned on randX.",
        effect="the smaller of smoothness randY - initial and randY - randX", threshold="both 95% intervals above 0",
        measured=f"randY - initial {above_init}; randY - randX {above_randx}; " + text))
    return out


CHAPTER = Chapter("easy_examples", paper="arpit2017", params=PARAMS, parts=PARTS, claims=(), evidence=lambda results, cfg: Evidence({}, {}), check=_check)
