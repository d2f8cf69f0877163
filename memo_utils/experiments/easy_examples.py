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

import numpy as np
import torch

from .. import data, profiles, seeds, stats
from ..chapter import Chapter, Param, Part
from ..claims import Claim
from ..errors import ConfigError
from ..ensemble import MLPEnsemble, train_ensemble
from ..models import SmallAlexNet
from ..stacked import train_classifiers
from ..training import accuracy, train_classifier

DATASETS = ("real", "randX", "randY")
CNN_DATASETS = ("real", "randY")
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
    Param("seed", profiles.non_negative_int, 0, paper="not stated", parts=("mlp", "cnn"),
          note="fixes the noise, the initialisations and the data orders"),
    Param("noise_fraction", profiles.fraction, 1.0, paper="1.0 (randX and randY are 100% noise)", parts=("mlp",),
          note="a parameter: lower it to see the curves move from noise towards real data"),
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
    (x,) = data.standardize(x)
    y = torch.as_tensor(mnist.y_train[: cfg["train_size"]], dtype=torch.long, device=device)
    steps_per_epoch = -(-cfg["train_size"] // cfg["batch_size"])
    checkpoints = [max(1, round(f * steps_per_epoch)) for f in CHECKPOINT_FRACTIONS]
    run_seeds = seeds.runs(cfg["seed"], cfg["n_runs"])
    name = cell["dataset"]
    if name != "real":  # the corruption is drawn once per seed and shared by all runs
        x, y, _ = data.corrupt(x, y, kind=name, fraction=cfg["noise_fraction"],
                               generator=torch.Generator().manual_seed(cfg["seed"]))
    ensemble = MLPEnsemble([784, cfg["hidden"], cfg["hidden"], 10], run_seeds, device)
    x_eval, y_eval = x[: cfg["n_eval"]], y[: cfg["n_eval"]]
    wrong = []
    record = lambda step, ens: wrong.append((ens.predict(x_eval) != y_eval).cpu().numpy())
    finite = train_ensemble(ensemble, x, y, order_seeds=run_seeds, epochs=1, batch_size=cfg["batch_size"],
                            lr=cfg["lr"], checkpoints=checkpoints, callback=record)
    return {"checkpoint": np.array(CHECKPOINT_FRACTIONS), "checkpoint_steps": np.array(checkpoints),
            "misclassified": np.stack(wrong).astype(np.uint8), "eval_labels": y_eval.cpu().numpy(),
            "finite": finite.cpu().numpy()}


def _compute_cnn(cfg, cell, inputs, device):
    """Figure 2: the small AlexNet on real CIFAR-10 and on randY, from the same initial filters."""
    cifar = inputs["cifar10"]
    n = cfg["cnn_train_size"]
    x_train, x_test = data.standardize(data.to_tensor(cifar.x_train[:n], device), data.to_tensor(cifar.x_test, device))
    y_train = torch.as_tensor(cifar.y_train[:n], dtype=torch.long, device=device)
    y_test = torch.as_tensor(cifar.y_test, dtype=torch.long, device=device)
    _, rand_labels, _ = data.corrupt(x_train, y_train, kind="randY", fraction=1.0,
                                     generator=torch.Generator().manual_seed(cfg["seed"]))
    labels = torch.stack([y_train, rand_labels])
    models = []
    for _ in CNN_DATASETS:
        torch.manual_seed(cfg["seed"])  # the same initial filters for both datasets
        models.append(SmallAlexNet(width=cfg["cnn_width"]).to(device))
    initial = models[0].first_layer_filters.detach().cpu().numpy().copy()
    train = dict(epochs=cfg["cnn_epochs"], batch_size=cfg["cnn_batch_size"], lr=cfg["cnn_lr"])
    if cfg["cnn_engine"] == "stacked":
        trained = train_classifiers(models, x_train, labels, seeds=[cfg["seed"]] * 2, **train)
    else:
        trained = [train_classifier(m, x_train, y, seed=cfg["seed"], **train) for m, y in zip(models, labels)]
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
    return 2 * cfg["cnn_epochs"] * cfg["cnn_train_size"] * (28 * 28 * 75 * w + 14 * 14 * 25 * w * w)


PARTS = (
    Part("mlp", version=2, compute=_compute_mlp, datasets=lambda cfg: {"mnist": cfg["train_size"]},
         cells=lambda cfg: [{"dataset": d} for d in DATASETS], work=_mlp_work,
         dims={"misclassified": ("checkpoint", "run", "example")}),
    Part("cnn", version=2, compute=_compute_cnn, datasets=lambda cfg: {"cifar10": cfg["cnn_train_size"]},
         work=_cnn_work, dims={"filters": ("dataset", "filter", "channel", "row", "column"),
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


def measure(results, checkpoint=-1):
    """The numbers the claims rest on."""
    m = {}
    for name in DATASETS:
        wrong = _finite_runs(results, name, checkpoint)
        counts, n_runs = wrong.sum(0), wrong.shape[0]
        labels = results.cell("mlp", dataset=name)["eval_labels"]
        within_class = stats.binomial_dispersion_test(counts, n_runs, groups=labels)
        m[name] = {"n_runs": n_runs, "mean_error": float(counts.mean() / n_runs),
                   "std_error": float((counts / n_runs).std()),
                   **stats.binomial_dispersion_test(counts, n_runs),
                   "within_class_dispersion_index": within_class["dispersion_index"],
                   "within_class_p_value": within_class["p_value"]}
    initial = results.sel("cnn", "initial_filters")
    for name in CNN_DATASETS:
        filters = results.sel("cnn", "filters", dataset=name)
        m[f"cnn_{name}"] = {
            "smoothness": stats.spatial_smoothness(filters),
            "smoothness_per_filter": stats.spatial_smoothness_per_filter(filters),
            "change_smoothness": stats.spatial_smoothness(filters - initial),
            "initial_smoothness": stats.spatial_smoothness(initial),
            "train_accuracy": float(results.sel("cnn", "train_accuracy", dataset=name)[-1]),
            "test_accuracy": float(results.sel("cnn", "test_accuracy", dataset=name)),
            "finite": bool(results.sel("cnn", "finite", dataset=name)),
        }
    return m


SPREAD_RATIO_THRESHOLD = 2.0
ALPHA = 0.01


def claims(results, cfg):
    """Section 3.1's claims, each with a verdict computed from ``results``."""
    m = measure(results)
    labels = results.data_labels()
    mnist, cifar = ", ".join(labels["mlp"]), ", ".join(labels["cnn"])
    real, randx, randy = m["real"], m["randX"], m["randY"]
    ratio = real["std_error"] / max(randx["std_error"], 1e-12)
    cnn_real, cnn_randy = m["cnn_real"], m["cnn_randY"]
    filters_p = stats.permutation_test_greater(cnn_real["smoothness_per_filter"], cnn_randy["smoothness_per_filter"])
    common = dict(paper="arpit2017", profile=cfg["profile"], seeds=[cfg["seed"]])
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


CHAPTER = Chapter("easy_examples", paper="arpit2017", params=PARAMS, parts=PARTS, claims=claims, check=_check)
