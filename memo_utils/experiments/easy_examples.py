"""Arpit et al. 2017, section 3.1: easy examples (Figure 1) and first-layer filters (Figure 2).

Figure 1: for real MNIST, randX and randY, ``n_runs`` MLPs (784-h-h-10, ReLU) are trained for
one epoch from different initialisations and data orders, as one batched computation; for
each of ``n_eval`` training examples we record which runs misclassify it, at several points
of the epoch (the last one is the paper's figure; the others feed the chapter's widget).

Figure 2: the small AlexNet is trained on CIFAR-10 and on randY CIFAR-10; we keep its
first-layer filters before and after training.
"""
from __future__ import annotations

import numpy as np
import torch

from .. import cache, data, profiles, stats
from ..claims import Claim
from ..ensemble import MLPEnsemble, train_ensemble
from ..models import SmallAlexNet
from ..stacked import train_classifiers
from ..training import accuracy, train_classifier

EXPERIMENT = "easy_examples"
VERSION = 1
DATASETS = ("real", "randX", "randY")
CHECKPOINT_FRACTIONS = (0.25, 0.5, 0.75, 1.0)

CNN_ENGINES = ("loop", "stacked")  # two train_classifier calls, or one train_classifiers call (same semantics)
_MLP = dict(batch_size=32, lr=0.01, n_eval=1000, seed=0, noise_fraction=1.0)
_CNN = dict(cnn_batch_size=128, cnn_lr=0.01, cnn_engine="loop")
_CNN_GPU = dict(_CNN, cnn_engine="stacked")
SETTINGS = {
    "smoke": dict(_MLP, **_CNN, n_runs=8, train_size=2000, hidden=64,
                  cnn_width=8, cnn_epochs=1, cnn_train_size=512),
    "cpu": dict(_MLP, **_CNN, n_runs=100, train_size=10000, hidden=128,
                cnn_width=32, cnn_epochs=10, cnn_train_size=3000),
    "gpu": dict(_MLP, **_CNN_GPU, n_runs=100, train_size=60000, hidden=4096,
                cnn_width=200, cnn_epochs=30, cnn_train_size=50000),
    "paper": dict(_MLP, **_CNN_GPU, n_runs=100, train_size=60000, hidden=4096,
                  cnn_width=200, cnn_epochs=100, cnn_train_size=50000),
}
CHECKS = {
    "n_runs": profiles.positive_int, "train_size": profiles.positive_int,
    "n_eval": profiles.positive_int, "hidden": profiles.positive_int,
    "batch_size": profiles.positive_int, "lr": profiles.positive_float,
    "seed": profiles.non_negative_int, "noise_fraction": profiles.fraction, "cnn_width": profiles.positive_int,
    "cnn_epochs": profiles.positive_int, "cnn_train_size": profiles.positive_int,
    "cnn_batch_size": profiles.positive_int, "cnn_lr": profiles.positive_float,
    "cnn_engine": profiles.one_of(*CNN_ENGINES),
}
PAPER_SETTINGS = {
    "n_runs": "100", "train_size": "MNIST training set", "n_eval": "1000", "hidden": "4096",
    "noise_fraction": "1.0 (randX and randY are 100% noise)",
    "batch_size": "not stated", "lr": "0.01 (SGD)", "cnn_width": "200",
    "cnn_epochs": "not stated", "cnn_train_size": "CIFAR-10 training set (50,000)",
    "cnn_lr": "0.01, momentum 0.9, halved every 15 epochs", "cnn_batch_size": "not stated",
    "cnn_engine": "(an implementation choice)",
}

SCALED = "scaled down in the smoke and cpu profiles to fit their CPU time budgets"
NOTES = {
    "n_runs": "smoke uses fewer runs only to prove the code path",
    "noise_fraction": "a parameter: lower it to see the curves move from noise towards real data",
    "train_size": SCALED + " (the bundled 10,000-image sample)",
    "hidden": SCALED + "; the curves' shapes, not their exact values, are compared",
    "batch_size": "not stated in the paper; 32 is a common choice that gives real data a "
                  "meaningful first epoch at learning rate 0.01 (a parameter, so it can be changed)",
    "cnn_width": SCALED,
    "cnn_epochs": "not stated; long enough for the filters to settle in each profile's budget",
    "cnn_train_size": "cpu: the exact first 3,000 CIFAR-10 images; gpu: all 50,000 (the JPEG copy "
                      "unless torchvision's download is available)",
    "cnn_batch_size": "not stated; 128, as in Zhang et al.'s CIFAR-10 setup",
    "cnn_engine": "how the two networks are trained; both give the same training (tested). Stacking was "
                  "slower on a 2-core CPU, so cpu uses the loop; gpu stacks them (one grouped convolution "
                  "per layer), which the benchmark's small-AlexNet case measures",
}


def config(profile=None, **overrides):
    """The run's settings: the profile's values, overridden by any non-None keyword."""
    cfg = profiles.resolve(profile, SETTINGS, CHECKS, overrides)
    if cfg["n_eval"] > cfg["train_size"]:
        raise profiles.ConfigError(f"n_eval={cfg['n_eval']} is not allowed: must be at most train_size={cfg['train_size']}")
    return cfg


def parts(cfg):
    """The cached computations behind ``cfg``: {name: (cache experiment, version, config)}."""
    mlp = ("n_runs", "train_size", "n_eval", "hidden", "batch_size", "lr", "seed", "noise_fraction")
    cnn = ("cnn_width", "cnn_epochs", "cnn_train_size", "cnn_batch_size", "cnn_lr", "seed", "cnn_engine")
    return {"mlp": (f"{EXPERIMENT}-mlp", VERSION, {k: cfg[k] for k in mlp}),
            "cnn": (f"{EXPERIMENT}-cnn", VERSION, {k: cfg[k] for k in cnn})}


def work(cfg):
    """Compute of each part in arbitrary units (FLOPs up to a constant), to extrapolate costs."""
    h, w = cfg["hidden"], cfg["cnn_width"]
    return {"mlp": 3 * cfg["n_runs"] * cfg["train_size"] * (784 * h + h * h + 10 * h),
            "cnn": 2 * cfg["cnn_epochs"] * cfg["cnn_train_size"] * (28 * 28 * 75 * w + 14 * 14 * 25 * w * w)}


def run(cfg, *, device=None, data_dir=None, recompute=False):
    """Figure 1 and Figure 2 results for ``cfg``, from the cache when present."""
    device = device or profiles.default_device()
    compute = {"mlp": lambda: _run_mlp(cfg, device, data_dir), "cnn": lambda: _run_cnn(cfg, device, data_dir)}
    return {name: cache.cached(*key, compute[name], device=device, recompute=recompute)
            for name, key in parts(cfg).items()}


def _run_mlp(cfg, device, data_dir):
    mnist = data.load("mnist", min_train=cfg["train_size"], data_dir=data_dir)
    x = data.to_tensor(mnist.x_train[: cfg["train_size"]], device)
    (x,) = data.standardize(x)
    y = torch.as_tensor(mnist.y_train[: cfg["train_size"]], dtype=torch.long, device=device)
    steps_per_epoch = -(-cfg["train_size"] // cfg["batch_size"])
    checkpoints = [max(1, round(f * steps_per_epoch)) for f in CHECKPOINT_FRACTIONS]
    seeds = [cfg["seed"] * 1000 + k for k in range(cfg["n_runs"])]
    out = {"checkpoint_steps": np.array(checkpoints), "data_label": np.array(mnist.label)}
    for name in DATASETS:
        generator = torch.Generator().manual_seed(cfg["seed"])
        xs, ys = x, y
        if name != "real":  # the corruption is drawn once per seed and shared by all runs
            xs, ys, _ = data.corrupt(x, y, kind=name, fraction=cfg["noise_fraction"], generator=generator)
        ensemble = MLPEnsemble([784, cfg["hidden"], cfg["hidden"], 10], seeds, device)
        x_eval, y_eval = xs[: cfg["n_eval"]], ys[: cfg["n_eval"]]
        wrong = []
        record = lambda step, ens: wrong.append((ens.predict(x_eval) != y_eval).cpu().numpy())
        finite = train_ensemble(ensemble, xs, ys, order_seeds=seeds, epochs=1, batch_size=cfg["batch_size"],
                                lr=cfg["lr"], checkpoints=checkpoints, callback=record)
        out[f"{name}_misclassified"] = np.stack(wrong).astype(np.uint8)  # (checkpoint, run, example)
        out[f"{name}_eval_labels"] = y_eval.cpu().numpy()
        out[f"{name}_finite"] = finite.cpu().numpy()
    return out


def _run_cnn(cfg, device, data_dir):
    cifar = data.load("cifar10", min_train=cfg["cnn_train_size"], data_dir=data_dir)
    n = cfg["cnn_train_size"]
    x_train, x_test = data.standardize(data.to_tensor(cifar.x_train[:n], device),
                                       data.to_tensor(cifar.x_test, device))
    y_train = torch.as_tensor(cifar.y_train[:n], dtype=torch.long, device=device)
    y_test = torch.as_tensor(cifar.y_test, dtype=torch.long, device=device)
    _, rand_labels, _ = data.corrupt(x_train, y_train, kind="randY", fraction=1.0,
                                     generator=torch.Generator().manual_seed(cfg["seed"]))
    names, labels = ("real", "randY"), torch.stack([y_train, rand_labels])
    models = []
    for _ in names:
        torch.manual_seed(cfg["seed"])  # the same initial filters for both datasets
        models.append(SmallAlexNet(width=cfg["cnn_width"]).to(device))
    out = {"data_label": np.array(cifar.label)}
    for name, model in zip(names, models):
        out[f"{name}_initial_filters"] = model.first_layer_filters.detach().cpu().numpy().copy()
    train = dict(epochs=cfg["cnn_epochs"], batch_size=cfg["cnn_batch_size"], lr=cfg["cnn_lr"])
    if cfg["cnn_engine"] == "stacked":
        trained = train_classifiers(models, x_train, labels, seeds=[cfg["seed"]] * 2, **train)
    else:
        trained = [train_classifier(m, x_train, y, seed=cfg["seed"], **train) for m, y in zip(models, labels)]
    for name, model, (history, finite) in zip(names, models, trained):
        out[f"{name}_filters"] = model.first_layer_filters.detach().cpu().numpy().copy()
        out[f"{name}_train_accuracy"] = np.array(history["accuracy"])
        out[f"{name}_test_accuracy"] = np.array(accuracy(model, x_test, y_test))
        out[f"{name}_finite"] = np.array(finite)
    return out


def misclassification_rates(result, dataset, checkpoint=-1):
    """Per-example misclassification rate over the runs that stayed finite, sorted ascending."""
    wrong = _finite_runs(result, dataset, checkpoint)
    return np.sort(wrong.mean(0)), wrong.shape[0]


def _finite_runs(result, dataset, checkpoint=-1):
    """(run, example) misclassification of the runs whose loss stayed finite."""
    return result[f"{dataset}_misclassified"][checkpoint][result[f"{dataset}_finite"]]


def binomial_reference(result, n_points=1000, seed=0):
    """Sorted draws from Binomial(n_runs, p) / n_runs with p = mean P(wrong) of randX (Figure 1)."""
    rates, n_runs = misclassification_rates(result, "randX")
    draws = np.random.default_rng(seed).binomial(n_runs, rates.mean(), size=n_points)
    return np.sort(draws / n_runs)


def measure(results, checkpoint=-1):
    """The numbers the claims rest on."""
    mlp, cnn = results["mlp"], results["cnn"]
    m = {}
    for name in DATASETS:
        wrong = _finite_runs(mlp, name, checkpoint)
        counts, n_runs = wrong.sum(0), wrong.shape[0]
        within_class = stats.binomial_dispersion_test(counts, n_runs, groups=mlp[f"{name}_eval_labels"])
        m[name] = {"n_runs": n_runs, "mean_error": float(counts.mean() / n_runs),
                   "std_error": float((counts / n_runs).std()),
                   **stats.binomial_dispersion_test(counts, n_runs),
                   "within_class_dispersion_index": within_class["dispersion_index"],
                   "within_class_p_value": within_class["p_value"]}
    for name in ("real", "randY"):
        m[f"cnn_{name}"] = {
            "smoothness": stats.spatial_smoothness(cnn[f"{name}_filters"]),
            "smoothness_per_filter": stats.spatial_smoothness_per_filter(cnn[f"{name}_filters"]),
            "change_smoothness": stats.spatial_smoothness(cnn[f"{name}_filters"] - cnn[f"{name}_initial_filters"]),
            "initial_smoothness": stats.spatial_smoothness(cnn[f"{name}_initial_filters"]),
            "train_accuracy": float(cnn[f"{name}_train_accuracy"][-1]),
            "test_accuracy": float(cnn[f"{name}_test_accuracy"]),
            "finite": bool(cnn[f"{name}_finite"]),
        }
    return m


SPREAD_RATIO_THRESHOLD = 2.0
ALPHA = 0.01


def claims(results, cfg):
    """Section 3.1's claims, each with a verdict computed from ``results``."""
    m = measure(results)
    mnist, cifar = str(results["mlp"]["data_label"]), str(results["cnn"]["data_label"])
    real, randx, randy = m["real"], m["randX"], m["randY"]
    ratio = real["std_error"] / max(randx["std_error"], 1e-12)
    cnn_real, cnn_randy = m["cnn_real"], m["cnn_randY"]
    filters_p = stats.permutation_test_greater(cnn_real["smoothness_per_filter"], cnn_randy["smoothness_per_filter"])
    seeds = [cfg["seed"]]
    common = dict(paper="arpit2017", profile=cfg["profile"], seeds=seeds)
    return [
        Claim("arpit2017-easy-1", figure="Fig. 1", data=mnist, **common,
              statement="Per-example difficulty after one epoch varies much more for real data than for randX.",
              measured=f"std of per-example error rate: real {real['std_error']:.3f}, randX {randx['std_error']:.3f} "
                       f"(ratio {ratio:.1f}; reproduced if >= {SPREAD_RATIO_THRESHOLD})",
              passed=ratio >= SPREAD_RATIO_THRESHOLD),
        Claim("arpit2017-easy-2", figure="Fig. 1", data=mnist, **common,
              statement="For randX, differences in difficulty are well modelled as binomial noise.",
              measured=f"binomial dispersion test on randX: index {randx['dispersion_index']:.2f}, "
                       f"p = {randx['p_value']:.3g} (reproduced if p >= {ALPHA}); within classes: index "
                       f"{randx['within_class_dispersion_index']:.2f}, p = {randx['within_class_p_value']:.3g}",
              passed=randx["p_value"] >= ALPHA),
        Claim("arpit2017-easy-3", figure="Fig. 1", data=mnist, **common,
              statement="For randY this is not the case, indicating some use of shared patterns.",
              measured=f"binomial dispersion test on randY within each (random) label, so that label "
                       f"frequencies cannot explain it: index {randy['within_class_dispersion_index']:.2f}, "
                       f"p = {randy['within_class_p_value']:.3g} (reproduced if p < {ALPHA}); pooled index "
                       f"{randy['dispersion_index']:.2f}",
              passed=randy["within_class_p_value"] < ALPHA),
        Claim("arpit2017-easy-4", figure="Fig. 2", data=cifar, **common,
              statement="First-layer filters learned on real CIFAR-10 are more structured than those learned on randY.",
              measured=f"mean spatial smoothness (adjacent-weight correlation) of the filters: real "
                       f"{cnn_real['smoothness']:.3f}, randY {cnn_randy['smoothness']:.3f}, at init "
                       f"{cnn_real['initial_smoothness']:.3f}; permutation test over filters p = {filters_p:.3g} "
                       f"(reproduced if p < {ALPHA})",
              passed=cnn_real["finite"] and cnn_randy["finite"] and filters_p < ALPHA),
    ]
