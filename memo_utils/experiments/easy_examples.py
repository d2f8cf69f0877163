"""Arpit et al. 2017, section 3.1: easy examples (Figure 1) and first-layer filters (Figure 2).

Figure 1 (part ``mlp``, one cell per dataset): for real MNIST, randX and randY, ``n_runs`` MLPs
(784-h-h-10, ReLU) are trained for one epoch from different initialisations and data orders,
as one batched computation; for each of ``n_eval`` training examples we record which runs
misclassify it, at several points of the epoch (the last one is the paper's figure; the others
feed the chapter's widget).

Figure 2 (part ``cnn``, one cell per seed): the small AlexNet is trained on CIFAR-10, on randY CIFAR-10
and on randX (our control) from the same initial filters; we keep its first-layer filters before and
after training. The filter claims measure what training added to them (W - W0).

The claims (``NETWORKS``, ``PRECONDITIONS``, ``CLAIMS``, ``evidence``) use runs as the replicates of
Figure 1 and seeds as those of Figure 2.
"""

from __future__ import annotations

import copy
from functools import lru_cache

import numpy as np
import torch

from .. import seeds
from ..engine import data, memory
from ..engine.ensemble import MLPEnsemble, train_ensemble
from ..engine.models import SmallAlexNet
from ..engine.stacked import train_classifiers
from ..engine.training import accuracy, train_classifier
from ..errors import ConfigError
from ..framework import profiles, stats
from ..framework.chapter import Chapter, Param, Part
from ..framework.claims import Definition, Evidence, Precondition, above, across, interval, within

DATASETS = ("real", "randX", "randY")
CNN_DATASETS = ("real", "randY", "randX")  # randX: the control for "randY filters are structured, not noise"
INPUT_SCALINGS = ("standardized", "unit")
CHECKPOINT_FRACTIONS = (0.25, 0.5, 0.75, 1.0)
CNN_ENGINES = ("loop", "stacked")  # two train_classifier calls, or one train_classifiers call (same semantics)

SCALED = "scaled down in the smoke and cpu profiles to fit their CPU time budgets"
PARAMS = (
    Param(
        "n_runs",
        profiles.positive_int,
        100,
        paper="100",
        parts=("mlp",),
        by_profile={"smoke": 8},
        note="smoke uses fewer runs only to prove the code path",
    ),
    Param(
        "train_size",
        profiles.positive_int,
        60000,
        paper="MNIST training set",
        parts=("mlp",),
        by_profile={"smoke": 2000, "cpu": 10000},
        note=SCALED + " (the bundled 10,000-image sample)",
    ),
    Param("n_eval", profiles.positive_int, 1000, paper="1000", parts=("mlp",)),
    Param(
        "hidden",
        profiles.positive_int,
        4096,
        paper="4096",
        parts=("mlp",),
        by_profile={"smoke": 64, "cpu": 128},
        note=SCALED + "; the curves' shapes, not their exact values, are compared",
    ),
    Param(
        "batch_size",
        profiles.positive_int,
        32,
        paper="not stated",
        parts=("mlp",),
        note="not stated in the paper; 32 is a common choice that gives real data a meaningful first epoch "
        "at learning rate 0.01 (a parameter, so it can be changed)",
    ),
    Param("lr", profiles.positive_float, 0.01, paper="0.01 (SGD)", parts=("mlp",)),
    Param(
        "seed",
        profiles.seed,
        0,
        paper="not stated",
        parts=("mlp",),
        replicates=True,
        note="fixes the noise, the initialisations and the data orders of the runs (the replicates of Figure 1's "
        "claims)",
    ),
    Param(
        "noise_fraction",
        profiles.fraction,
        1.0,
        paper="1.0 (randX and randY are 100% noise)",
        parts=("mlp",),
        note="a parameter: lower it to see the curves move from noise towards real data",
    ),
    Param(
        "input_scaling",
        profiles.one_of(*INPUT_SCALINGS),
        "standardized",
        paper="not stated",
        parts=("mlp",),
        note="not stated; inputs standardised by the training set's mean and std. With [0, 1] inputs ('unit') the "
        "randX networks collapse onto fewer classes in one epoch, which changes how binomial randX looks",
    ),
    Param(
        "cnn_seeds",
        profiles.seed_list,
        [0, 1, 2],
        paper="one network per dataset",
        parts=("cnn",),
        by_profile={"smoke": [0], "cpu": [0, 1, 2, 3, 4]},
        replicates=True,
        note="seeds are the replicates of the filter claims; each seed's real, randY and randX networks share their "
        "initial filters. cpu: 5 seeds (one cell each, run in parallel), so that the intervals are narrow "
        "beside the smallest effects",
    ),
    Param(
        "cnn_width",
        profiles.positive_int,
        200,
        paper="200",
        parts=("cnn",),
        by_profile={"smoke": 8, "cpu": 32},
        note=SCALED,
    ),
    Param(
        "cnn_epochs",
        profiles.positive_int,
        30,
        paper="not stated",
        parts=("cnn",),
        by_profile={"smoke": 1, "cpu": 10, "paper": 100},
        note="not stated; long enough for the filters to settle in each profile's budget (at cpu, for the randY "
        "networks to fit most of their 3,000 labels: the preconditions check it)",
    ),
    Param(
        "cnn_train_size",
        profiles.positive_int,
        50000,
        paper="CIFAR-10 training set (50,000)",
        parts=("cnn",),
        by_profile={"smoke": 512, "cpu": 3000},
        note="cpu: the exact first 3,000 CIFAR-10 images; gpu: all 50,000 (the JPEG copy unless torchvision's "
        "download is available)",
    ),
    Param(
        "cnn_batch_size",
        profiles.positive_int,
        128,
        paper="not stated",
        parts=("cnn",),
        note="not stated; 128, as in Zhang et al.'s CIFAR-10 setup",
    ),
    Param("cnn_lr", profiles.positive_float, 0.01, paper="0.01, momentum 0.9, halved every 15 epochs", parts=("cnn",)),
    Param(
        "cnn_engine",
        profiles.one_of(*CNN_ENGINES),
        "stacked",
        paper="(an implementation choice)",
        parts=("cnn",),
        by_profile={"smoke": "loop", "cpu": "loop"},
        note="how the two networks are trained; both give the same training (tested). Stacking was slower on a "
        "2-core CPU, so cpu uses the loop; gpu stacks them (one grouped convolution per layer), which the "
        "benchmark's small-AlexNet case measures",
    ),
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
        x, y, _ = data.corrupt(
            x, y, kind=name, fraction=cfg["noise_fraction"], generator=torch.Generator().manual_seed(cfg["seed"])
        )
    ensemble = _initial_ensemble((784, cfg["hidden"], cfg["hidden"], 10), tuple(run_seeds), device)
    if name == DATASETS[-1]:  # the last dataset: free the host copy (8 GB at the paper's size)
        _initial_mlps.cache_clear()
    x_eval, y_eval = x[: cfg["n_eval"]], y[: cfg["n_eval"]]
    wrong, predicted = [], []

    def record(step, ens):
        prediction = ens.predict(x_eval)
        wrong.append((prediction != y_eval).cpu().numpy())
        predicted.append(torch.nn.functional.one_hot(prediction, 10).sum(1).cpu().numpy())

    finite = train_ensemble(
        ensemble,
        x,
        y,
        order_seeds=run_seeds,
        epochs=1,
        batch_size=cfg["batch_size"],
        lr=cfg["lr"],
        checkpoints=checkpoints,
        callback=record,
    )
    return {
        "checkpoint": np.array(CHECKPOINT_FRACTIONS),
        "checkpoint_steps": np.array(checkpoints),
        "misclassified": np.stack(wrong).astype(np.uint8),
        "eval_labels": y_eval.cpu().numpy(),
        "true_labels": true_labels,
        "predicted_class_counts": np.stack(predicted).astype(np.int32),
        "finite": finite.cpu().numpy(),
    }


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
            for d, r in zip(
                group,
                train_classifiers(
                    group_models, inputs_by_dataset[group[0]], labels, seeds=[seed] * len(group), **train
                ),
            ):
                trained[d] = r
        trained = [trained[d] for d in CNN_DATASETS]
    else:
        trained = [
            train_classifier(m, inputs_by_dataset[d], labels_by_dataset[d], seed=seed, **train)
            for m, d in zip(models, CNN_DATASETS)
        ]
    return {
        "dataset": np.array(CNN_DATASETS),
        "initial_filters": initial,
        "filters": np.stack([m.first_layer_filters.detach().cpu().numpy() for m in models]),
        "train_accuracy": np.array([h["accuracy"] for h, _ in trained]),
        "test_accuracy": np.array([accuracy(m, x_test, y_test) for m in models]),
        "finite": np.array([f for _, f in trained]),
    }


def _mlp_work(cfg, cell):
    h = cfg["hidden"]
    return 3 * cfg["n_runs"] * cfg["train_size"] * (784 * h + h * h + 10 * h)


def _cnn_work(cfg, cell):
    w = cfg["cnn_width"]
    return 3 * cfg["cnn_epochs"] * cfg["cnn_train_size"] * (28 * 28 * 75 * w + 14 * 14 * 25 * w * w)


def _mlp_memory(cfg, cell):
    """The ensemble of ``n_runs`` MLPs training, the training images twice (corrupted, standardized)."""
    ensemble = memory.mlp((784, cfg["hidden"], cfg["hidden"], 10), cfg["batch_size"], models=cfg["n_runs"])
    return memory.needed(ensemble, data=memory.images(cfg["train_size"], (784,), copies=2))


def _cnn_memory(cfg, cell):
    """Three small AlexNets (real, randY, randX), the training images three times and the test images."""
    networks = memory.network(
        lambda: SmallAlexNet(width=cfg["cnn_width"]), (3, 32, 32), cfg["cnn_batch_size"], models=len(CNN_DATASETS)
    )
    return memory.needed(networks, data=memory.images(3 * cfg["cnn_train_size"], (3, 32, 32)))


PARTS = (
    Part(
        "mlp",
        version=3,
        compute=_compute_mlp,
        datasets=lambda cfg: {"mnist": cfg["train_size"]},
        cells=lambda cfg: [{"dataset": d} for d in DATASETS],
        work=_mlp_work,
        memory=_mlp_memory,
        dims={
            "misclassified": ("checkpoint", "run", "example"),
            "predicted_class_counts": ("checkpoint", "run", "class"),
        },
    ),
    Part(
        "cnn",
        version=3,
        compute=_compute_cnn,
        datasets=lambda cfg: {"cifar10": cfg["cnn_train_size"]},
        cells=lambda cfg: [{"seed": s} for s in cfg["cnn_seeds"]],
        work=_cnn_work,
        memory=_cnn_memory,
        dims={
            "filters": ("dataset", "filter", "channel", "row", "column"),
            "train_accuracy": ("dataset", "epoch"),
            "test_accuracy": ("dataset",),
            "finite": ("dataset",),
        },
    ),
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
    """Dispersion index of per-example error counts over runs (1: binomial), with its 95% interval over runs
    (delete-one jackknife) and the groups left out of it (:func:`memo_utils.framework.stats.dispersion_interval`)."""
    return stats.dispersion_interval(wrong, groups)


def dispersion_ratio(numerator, denominator):
    """The ratio of two dispersion indices, each given as ((run, example) outcomes, groups), over runs that pair
    up (run k of both), with a delete-one jackknife over those runs: (ratio, low, high, runs). A denominator of
    0 (examples all alike) gives no finite ratio, hence no interval."""
    (a, groups_a), (b, groups_b) = numerator, denominator
    paired = np.stack([a, b], axis=1)  # (run, 2, example)

    def ratio(r):
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.float64(stats.dispersion_index(r[:, 0], groups_a)) / stats.dispersion_index(r[:, 1], groups_b)

    with np.errstate(invalid="ignore"):  # inf - inf in the jackknife's spread: a nan interval, as it should be
        estimate, low, high = stats.jackknife_interval(paired, ratio)
    return estimate, low, high, len(paired)


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
        m[name] = {
            "n_runs": wrong.shape[0],
            "mean_error": float(rates.mean()),
            "std_error": float(rates.std()),
            "pooled": dispersion(wrong),
            "within_label": dispersion(wrong, cell["eval_labels"]),
        }
    randy = results.cell("mlp", dataset="randY")
    label_and_digit = randy["eval_labels"] * 10 + randy["true_labels"]
    m["randY"]["within_label_and_digit"] = dispersion(
        randy["misclassified"][checkpoint][randy["finite"]], label_and_digit
    )
    collapsed = predicted_class_shares(results, "randX", checkpoint).max(-1)
    m["randX"]["largest_predicted_share"] = float(collapsed.mean())
    return m


def filter_measures(results):
    """Per CNN seed (the replicates): smoothness of each dataset's filters W, of what training added to them
    (W - W0, ``_learned``; nan for a network that diverged) and of the shared initial ones W0, how far
    training moved the filters (||W - W0|| / ||W0||), and the networks' accuracies."""
    seeds = [c["seed"] for p, c, _ in results if p == "cnn"]
    out = {
        "seed": seeds,
        "initial": np.array([stats.spatial_smoothness(results.sel("cnn", "initial_filters", seed=s)) for s in seeds]),
    }
    for name in CNN_DATASETS:
        filters = [results.sel("cnn", "filters", seed=s, dataset=name) for s in seeds]
        initial = [results.sel("cnn", "initial_filters", seed=s) for s in seeds]
        out[f"{name}_finite"] = np.array([bool(results.sel("cnn", "finite", seed=s, dataset=name)) for s in seeds])
        out[name] = np.array([stats.spatial_smoothness(f) for f in filters])
        out[f"{name}_learned"] = np.array(
            [
                stats.spatial_smoothness(f - i) if ok else np.nan
                for f, i, ok in zip(filters, initial, out[f"{name}_finite"])
            ]
        )
        out[f"{name}_moved"] = np.array([np.linalg.norm(f - i) / np.linalg.norm(i) for f, i in zip(filters, initial)])
        out[f"{name}_train_accuracy"] = np.array(
            [results.sel("cnn", "train_accuracy", seed=s, dataset=name)[-1] for s in seeds]
        )
        out[f"{name}_test_accuracy"] = np.array(
            [results.sel("cnn", "test_accuracy", seed=s, dataset=name) for s in seeds]
        )
    return out


# --- Claims, registered before the results (memo_utils.framework.claims) ------------------------------------

NETWORKS = {
    "real MLPs": "real-label MLPs of Figure 1 (MNIST)",
    "randX MLPs": "random-input MLPs of Figure 1 (randX)",
    "randY MLPs": "random-label MLPs of Figure 1 (randY)",
    "real CNNs": "real-label CNNs of Figure 2 (CIFAR-10)",
    "randY CNNs": "random-label CNNs of Figure 2 (randY)",
    "randX CNNs": "random-input CNNs of Figure 2 (randX, our control)",
}
FITTED = (
    "the paper's networks trained on noise fit it (section 3 builds on Zhang et al., whose networks fit random "
    "data perfectly); we ask for at least half of what only memorisation can fit: half of the labels beyond "
    "chance (0.1 + 0.9 / 2)"
)
PRECONDITIONS = (
    Precondition(
        "epoch-learned",
        ("real MLPs", "randX MLPs", "randY MLPs"),
        "Figure 1's epoch (the same initialisations, data orders and steps for the three datasets): the real-"
        "label MLPs' misclassification rate of the evaluated examples after it, mean over runs",
        0.5,
        "the paper's premise (Fig. 1 caption): the simple patterns behind easy examples 'are reliably learned "
        "within the first epoch'; an epoch that leaves real data more than half wrong (chance: 0.9) has not "
        "learned them, and is not the paper's epoch for any of the three datasets",
        at_most=True,
    ),
    Precondition(
        "cifar-learned",
        ("real CNNs",),
        "real-label CNNs: accuracy on the CIFAR-10 test images, mean over seeds",
        0.5,
        "Figure 2's left filters come from a network that learned CIFAR-10 (the small AlexNet of section 2); "
        "we ask for half of the test images right, five times chance: features that generalize, though short "
        "of what the full 50,000-image training set gives",
    ),
    Precondition(
        "randY-fitted",
        ("randY CNNs",),
        "randY CNNs: training accuracy in the last epoch, mean over seeds",
        0.55,
        "Figure 2's right filters come from a network trained on randY: " + FITTED,
    ),
    Precondition(
        "randX-fitted",
        ("randX CNNs",),
        "randX CNNs: training accuracy in the last epoch, mean over seeds",
        0.55,
        "the control is trained like the randY networks: " + FITTED,
    ),
)
BINOMIAL_MARGIN = (0.5, 2.0)
BINOMIAL_REASON = (
    "'closely resembles' the binomial curve (Fig. 1 caption): the sorted curve's spread within a factor "
    "sqrt 2 of the binomial one's (its variance within a factor 2 either way), a difference that Figure "
    "1's 0-1 axis hardly shows; two-sided, so that examples more alike than binomial noise allows "
    "(index near 0, as when each run predicts one class for every example) fail too"
)
DISPERSION_FACTOR = 2.0
MUCH_MORE_REASON = (
    "'much more variable in real data' (Fig. 1 caption): more than the factor 2 within which easy-2's "
    "margin still calls two dispersions the same (binomial)"
)
SMOOTHNESS_STEP = 0.1
SMOOTHNESS_REASON = (
    "Figure 2 is read by eye: an adjacent-weight correlation of 0.1 (1% of variance shared by "
    "neighbouring weights) is the least structure we count as visible in its 5 x 5 tiles"
)
RUNS = (
    "runs (initialisations and data orders, paired across datasets: run k starts alike in each); "
    "delete-one jackknife over runs"
)
SEEDS = "seeds, paired: a seed's real, randY and randX networks share their initial filters; Student-t over seeds"
_INDEX = "dispersion index of per-example error counts over runs"
_LEARNED = "smoothness of what training added to the first-layer filters (W - W0)"
CLAIMS = (
    Definition(
        "arpit2017-easy-1",
        "arpit2017",
        "Sec. 3.1, Fig. 1",
        "This measure of an example's difficulty is much more variable in real data.",
        "Per-example difficulty after one epoch varies much more for real data than for randX: the within-class "
        "dispersion index is larger by more than a factor 2.",
        (above(f"within-class {_INDEX}, real / randX", DISPERSION_FACTOR, MUCH_MORE_REASON),),
        RUNS,
        ("real MLPs", "randX MLPs"),
    ),
    Definition(
        "arpit2017-easy-1y",
        "arpit2017",
        "Sec. 3.1, Fig. 1",
        "For noise data, the difference between examples is much less, indicating that these examples are fit "
        "(more) independently.",
        "Per-example difficulty after one epoch varies much more for real data than for randY: the within-class "
        "dispersion index (randY: within each random label) is larger by more than a factor 2.",
        (above(f"within-class {_INDEX}, real / randY", DISPERSION_FACTOR, MUCH_MORE_REASON),),
        RUNS,
        ("real MLPs", "randY MLPs"),
    ),
    Definition(
        "arpit2017-easy-2",
        "arpit2017",
        "Sec. 3.1, Fig. 1",
        "For randX, apparent differences in difficulty are well modeled as random Binomial noise.",
        "For randX, per-example error counts over runs are binomial with one p for all examples, as the "
        "figure's binomial curve: the pooled dispersion index lies inside [1/2, 2].",
        (within(f"randX {_INDEX}, pooled (one p)", *BINOMIAL_MARGIN, BINOMIAL_REASON),),
        RUNS,
        ("randX MLPs",),
    ),
    Definition(
        "arpit2017-easy-2w",
        "arpit2017",
        "Sec. 3.1, Fig. 1",
        "For randX, apparent differences in difficulty are well modeled as random Binomial noise.",
        "For randX, per-example error counts over runs are binomial within each class (one p per class: the "
        "networks may learn the label prior): the within-class dispersion index lies inside [1/2, 2].",
        (within(f"randX {_INDEX}, within each class", *BINOMIAL_MARGIN, BINOMIAL_REASON),),
        RUNS,
        ("randX MLPs",),
        beyond_paper=True,
    ),
    Definition(
        "arpit2017-easy-3",
        "arpit2017",
        "Sec. 3.1, Fig. 1",
        "For randY, this is not the case, indicating some use of shared patterns.",
        "For randY, per-example error counts over runs are not binomial within each random label: the dispersion "
        "index lies above 2.",
        (
            above(
                f"randY {_INDEX}, within each random label",
                BINOMIAL_MARGIN[1],
                "'this is not the case': above the upper end (2) of the margin within which easy-2 calls "
                "counts binomial",
            ),
        ),
        RUNS,
        ("randY MLPs",),
    ),
    Definition(
        "arpit2017-easy-3b",
        "arpit2017",
        "Sec. 3.1, Fig. 1",
        "For randY, this is not the case, indicating some use of shared patterns.",
        "The shared patterns behind randY difficulty are those of the true digits: grouping randY examples by "
        "random label and true digit lowers their dispersion index by more than a factor 2.",
        (
            above(
                f"randY {_INDEX}, within random label / within random label x true digit",
                DISPERSION_FACTOR,
                "as in easy-1: more than the factor 2 within which easy-2's margin calls two dispersions the same",
            ),
        ),
        RUNS,
        ("randY MLPs",),
        beyond_paper=True,
    ),
    Definition(
        "arpit2017-easy-4",
        "arpit2017",
        "Sec. 3.1, Fig. 2",
        "Filters from first layer of network trained on CIFAR10 (left) and randY (right).",
        "First-layer filters learned on real CIFAR-10 are more structured than those learned on randY (the "
        "paper shows the two side by side but does not state a difference).",
        (above(f"{_LEARNED}, real - randY, per seed", SMOOTHNESS_STEP, SMOOTHNESS_REASON),),
        SEEDS,
        ("real CNNs", "randY CNNs"),
        beyond_paper=True,
    ),
    Definition(
        "arpit2017-easy-4b",
        "arpit2017",
        "Sec. 3.1, Fig. 2",
        "Visualizing first-level features learned by a CNN supports this hypothesis [some use of shared "
        "patterns in randY]",
        "What training on randY puts into the first-layer filters is structured, not noise: smoother than the "
        "random initial filters.",
        (
            above(
                f"{_LEARNED} on randY minus smoothness of the initial filters W0, per seed",
                SMOOTHNESS_STEP,
                SMOOTHNESS_REASON,
            ),
        ),
        SEEDS,
        ("randY CNNs",),
    ),
    Definition(
        "arpit2017-easy-4c",
        "arpit2017",
        "Sec. 3.1, Fig. 2",
        "Visualizing first-level features learned by a CNN supports this hypothesis [some use of shared "
        "patterns in randY]",
        "The randY filters' structure comes from the images: what training on randY puts into the filters is "
        "smoother than what training on randX (Gaussian inputs, real labels) puts in.",
        (above(f"{_LEARNED}, randY - randX, per seed", SMOOTHNESS_STEP, SMOOTHNESS_REASON),),
        SEEDS,
        ("randY CNNs", "randX CNNs"),
        beyond_paper=True,
    ),
)


def dispersion_text(d):
    """An index with its interval over runs, and the groups left out of it (p = 0 or 1 over all runs)."""
    text = "no degrees of freedom left" if d["dof"] == 0 else f"{d['index']:.3g} [{d['low']:.3g}, {d['high']:.3g}]"
    if d["left_out_groups"]:
        text += (
            f" ({d['left_out_groups']} group(s), {d['left_out_examples']} examples, left out: every run right on "
            f"all of them, or wrong on all)"
        )
    return text


def _index_estimate(d):
    return interval(d["index"], d["low"], d["high"], d["runs"])


def _figure_1_evidence(results):
    """Figure 1's claims: dispersion indices and their ratios, runs as replicates."""
    m = measure(results)
    cells = {name: results.cell("mlp", dataset=name) for name in DATASETS}
    labels = {name: cell["eval_labels"] for name, cell in cells.items()}

    def ratio(a, b):
        paired = _common_finite_runs(results, (a, b))
        return interval(*dispersion_ratio((paired[a], labels[a]), (paired[b], labels[b])))

    randy = _finite_runs(results, "randY")
    digit_groups = labels["randY"] * 10 + cells["randY"]["true_labels"]
    within = {name: f"{name} {dispersion_text(m[name]['within_label'])}" for name in DATASETS}
    estimates = {
        "arpit2017-easy-1": (ratio("real", "randX"),),
        "arpit2017-easy-1y": (ratio("real", "randY"),),
        "arpit2017-easy-2": (_index_estimate(m["randX"]["pooled"]),),
        "arpit2017-easy-2w": (_index_estimate(m["randX"]["within_label"]),),
        "arpit2017-easy-3": (_index_estimate(m["randY"]["within_label"]),),
        "arpit2017-easy-3b": (interval(*dispersion_ratio((randy, labels["randY"]), (randy, digit_groups))),),
    }
    measured = {
        "arpit2017-easy-1": f"within-class index (1 = binomial): {within['real']}; {within['randX']}",
        "arpit2017-easy-1y": f"within-class index (1 = binomial): {within['real']}; {within['randY']}",
        "arpit2017-easy-2": f"randX pooled index {dispersion_text(m['randX']['pooled'])}; within class "
        f"{dispersion_text(m['randX']['within_label'])}; mean error {m['randX']['mean_error']:.3f}; "
        f"mean largest predicted-class share {m['randX']['largest_predicted_share']:.2f}",
        "arpit2017-easy-2w": f"randX within-class index {dispersion_text(m['randX']['within_label'])}; pooled "
        f"{dispersion_text(m['randX']['pooled'])}",
        "arpit2017-easy-3": f"randY within random label {dispersion_text(m['randY']['within_label'])}; pooled "
        f"{dispersion_text(m['randY']['pooled'])}",
        "arpit2017-easy-3b": f"randY within random label {dispersion_text(m['randY']['within_label'])}; within random "
        f"label x true digit {dispersion_text(m['randY']['within_label_and_digit'])}",
    }
    return m["real"]["mean_error"], estimates, measured


def _figure_2_evidence(results):
    """Figure 2's claims: the smoothness of what training added to the filters, seeds as replicates."""
    f = filter_measures(results)
    learned = {name: f[f"{name}_learned"] for name in CNN_DATASETS}
    mean = lambda key: f"{np.nanmean(f[key]):.3f}"
    text = (
        "means over seeds: smoothness of W - W0 real "
        + mean("real_learned")
        + ", randY "
        + mean("randY_learned")
        + ", randX "
        + mean("randX_learned")
        + "; of W0 "
        + mean("initial")
        + "; of W real "
        + mean("real")
        + ", randY "
        + mean("randY")
        + ", randX "
        + mean("randX")
        + "; training moved the filters by "
        + ", ".join(f"{np.mean(f[name + '_moved']):.0%} ({name})" for name in CNN_DATASETS)
        + " of their initial "
        "norm; training accuracy "
        + ", ".join(f"{np.mean(f[name + '_train_accuracy']):.2f} ({name})" for name in CNN_DATASETS)
        + f"; test accuracy {np.mean(f['real_test_accuracy']):.3f} (real)"
    )
    conditions = {
        "cifar-learned": float(np.mean(f["real_test_accuracy"])),
        "randY-fitted": float(np.mean(f["randY_train_accuracy"])),
        "randX-fitted": float(np.mean(f["randX_train_accuracy"])),
    }
    estimates = {
        "arpit2017-easy-4": (across(learned["real"] - learned["randY"]),),
        "arpit2017-easy-4b": (across(learned["randY"] - f["initial"]),),
        "arpit2017-easy-4c": (across(learned["randY"] - learned["randX"]),),
    }
    return conditions, estimates, {claim: text for claim in estimates}


def evidence(results, cfg):
    """Section 3.1's claims: Figure 1 with runs as replicates, Figure 2 with seeds."""
    real_error, estimates, measured = _figure_1_evidence(results)
    conditions, filter_estimates, filter_measured = _figure_2_evidence(results)
    return Evidence(
        {"epoch-learned": real_error, **conditions}, {**estimates, **filter_estimates}, {**measured, **filter_measured}
    )


CHAPTER = Chapter(
    "easy_examples",
    paper="arpit2017",
    params=PARAMS,
    parts=PARTS,
    claims=CLAIMS,
    evidence=evidence,
    networks=NETWORKS,
    preconditions=PRECONDITIONS,
    check=_check,
)
