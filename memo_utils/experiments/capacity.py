"""Krueger et al. 2017, sections 2.1-2.2, and Arpit et al. 2017, section 3.3: capacity, dataset size,
time to convergence and sharpness of 2-layer ReLU MLPs on MNIST with input or label noise.

The claims are about capacity being the binding constraint on fitting noise: the papers fit 50,000
noisy examples, which no linear model fits, with MLPs of up to 4,096 units or more. Part ``probe``
measures that this holds in our setting too: a linear softmax classifier fitted to convergence on the
same noisy training sets (:func:`linear_probe_predictions`); the chapter's ``needs-capacity``
preconditions read it.

Part ``capacity`` has one cell per (noise kind, width): the models of every noise level and seed
of that row train as one batched ensemble (:func:`memo_utils.engine.ensemble.train_ensemble`), each on
its own noisy copy of the training set (randX: its own inputs; randY: its own labels), with the
training accuracy (on the noisy data it fits) and the clean validation accuracy recorded after
every epoch, and the largest Hessian eigenvalue of the training loss at the end
(:mod:`memo_utils.methods.hessian`). Part ``dataset_size`` has one cell per (noise kind, training-set
size), at the fixed width ``size_width``, and records the training accuracy per epoch; its largest
size is the width grid's training set, and when ``size_width`` is one of the widths that run is
the ``capacity`` part's, not trained twice (:func:`training_curves`). Part ``cifar`` (Arpit's
CIFAR-10 remark) has one cell per (noise kind, CNN width), small AlexNets trained one by one; it
is not run at the cpu profile, which it does not fit.
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

from .. import seeds
from ..engine import data, memory
from ..engine.ensemble import MLPEnsemble, train_ensemble
from ..engine.models import SmallAlexNet
from ..engine.training import accuracy, train_classifier
from ..errors import ConfigError
from ..framework import profiles, stats
from ..framework.chapter import Chapter, Param, Part
from ..framework.claims import NOT_MEASURED, Definition, Estimate, Evidence, Precondition, above, across, within
from ..methods import hessian

NOISE_KINDS = ("randX", "randY")
CONVERGED = 0.99  # "time to convergence": epochs to 99% training accuracy (100% is reported beside it)
PROBE_ITERATIONS = 1000  # L-BFGS iterations of the linear probe (500 left the randY probe ~1% short of its optimum)

SCALED = "scaled down to fit the profile's time budget"
PARAMS = (
    Param(
        "train_size",
        profiles.positive_int,
        50000,
        paper="50,000 (Krueger: 'dataset size fixed to 50000')",
        parts=("capacity", "probe"),
        by_profile={"smoke": 300, "cpu": 2000},
        note=SCALED + "; cpu: the first 2,000 images of the bundled sample: at 14x14 pixels, enough that a linear "
        "model cannot fit 80% noise (part probe), as no linear model fits the papers' 50,000",
    ),
    Param(
        "val_size",
        profiles.positive_int,
        10000,
        paper="not stated (the other 10,000 of MNIST's training set)",
        parts=("capacity",),
        by_profile={"smoke": 200, "cpu": 2000},
        note="clean images, the last of the source's training set (MNIST's last 10,000 with full MNIST; the "
        "bundled sample's last 2,000 at cpu), never used for training and never noisy",
    ),
    Param(
        "downscale",
        profiles.positive_int,
        1,
        paper="1 (28x28 MNIST)",
        parts=("capacity", "dataset_size", "probe"),
        by_profile={"smoke": 2, "cpu": 2},
        note="images average-pooled by this factor; cpu: 14x14, as in Arpit 3.2's 1,000-digit setting. With 196 "
        "inputs a linear softmax has 1,970 weights, fewer than the 2,000 examples, and fits only part of "
        "their noise (part probe); with 784 it has 7,850, and a set several times larger does not fit the "
        "cpu budget",
    ),
    Param(
        "widths",
        profiles.step_list,
        [16, 64, 256, 1024, 4096],
        paper="not stated (a log grid up to 4096 or more)",
        parts=("capacity",),
        by_profile={"smoke": [8, 32], "cpu": [8, 32, 128], "paper": [16, 64, 256, 1024, 4096, 8192]},
        note="hidden units per layer; " + SCALED + "; cpu: from a width that cannot fit the noise to one that "
        "fits it within the epochs",
    ),
    Param(
        "noise_levels",
        profiles.fraction_list,
        [0.0, 0.2, 0.4, 0.6, 0.8],
        paper="0 to 80%",
        parts=("capacity", "dataset_size", "probe"),
        by_profile={"smoke": [0.0, 0.8], "cpu": [0.0, 0.8]},
        note="fraction of training examples whose inputs (randX) or labels (randY) are replaced; the claims compare "
        "the top level with 0%; cpu: only those two, to fit the budget",
    ),
    Param(
        "seeds",
        profiles.seed_list,
        [0, 1, 2, 3, 4],
        paper="5 per setting (Krueger 2.1)",
        parts=("capacity", "dataset_size", "probe", "cifar"),
        by_profile={"smoke": [0, 1]},
        note="the replicates: each claim's interval is across seeds; a seed fixes initialisation, data order and noise",
        replicates=True,
    ),
    Param(
        "epochs",
        profiles.positive_int,
        100,
        paper="1000",
        parts=("capacity", "dataset_size"),
        by_profile={"smoke": 2, "cpu": 250, "paper": 1000},
        note=SCALED + "; runs that do not converge within it are censored, never dropped",
    ),
    Param(
        "batch_size",
        profiles.positive_int,
        32,
        paper="not stated",
        parts=("capacity", "dataset_size"),
        by_profile={"cpu": 16},
        note="not stated; 32 as in the easy-examples chapter; cpu: 16, so that its 2,000 "
        "examples give 125 steps per epoch",
    ),
    Param("lr", profiles.positive_float, 0.01, paper="0.01 (SGD)", parts=("capacity", "dataset_size")),
    Param(
        "dataset_sizes",
        profiles.step_list,
        [5000, 10000, 20000],
        paper="not stated (up to 50,000)",
        parts=("dataset_size",),
        by_profile={"smoke": [100], "cpu": [500, 1000], "paper": [5000, 10000, 20000, 30000, 40000]},
        note="the smaller training sets of Figure 2 right, each the first n images; the grid ends at train_size, "
        "the width grid's training set, as the paper's ends at 50,000; " + SCALED,
    ),
    Param(
        "size_width",
        profiles.positive_int,
        4096,
        paper="4096",
        parts=("dataset_size",),
        by_profile={"smoke": 32, "cpu": 128},
        note="the fixed width of Figure 2 right; " + SCALED + "; cpu: the widest width",
    ),
    Param(
        "hessian_examples",
        profiles.positive_int,
        4096,
        paper="not stated (the training set)",
        parts=("capacity",),
        by_profile={"smoke": 200, "cpu": 2000},
        note="training examples whose mean loss the Hessian is of (at least 4,096 where the data allow)",
    ),
    Param(
        "cifar_epochs",
        profiles.non_negative_int,
        15,
        paper="not stated (Arpit 3.3.1's CIFAR-10 remark)",
        parts=("cifar",),
        by_profile={"smoke": 1, "cpu": 0, "paper": 100},
        note="0 at cpu: the CNN grid does not fit the 5-minute budget, and its claims read 'not at this scale'",
    ),
    Param(
        "cifar_train_size",
        profiles.positive_int,
        50000,
        paper="CIFAR-10 training set (50,000)",
        parts=("cifar",),
        by_profile={"smoke": 128, "cpu": 3000},
        note="gpu: all 50,000 (the JPEG copy unless torchvision's download is available)",
    ),
    Param(
        "cifar_widths",
        profiles.step_list,
        [16, 64, 200],
        paper="not stated (the small AlexNet has width 200)",
        parts=("cifar",),
        by_profile={"smoke": [4, 8], "cpu": [8, 32]},
        note="convolution channels; " + SCALED,
    ),
    Param(
        "cifar_noise_levels",
        profiles.fraction_list,
        [0.0, 0.8],
        paper="not stated",
        parts=("cifar",),
        by_profile={"smoke": [0.0, 0.8]},
        note="the clean data and one high noise level, to fit the budget",
    ),
    Param(
        "hessian_iterations",
        profiles.positive_int,
        100,
        paper="power iteration (LeCun et al. 1993)",
        parts=("capacity",),
        by_profile={"smoke": 10},
        note="each run reports whether its estimate converged; one that did not is left out of the sharpness claims",
    ),
)


def _check(cfg):
    if cfg["hessian_examples"] > cfg["train_size"]:
        raise ConfigError(
            f"hessian_examples={cfg['hessian_examples']} is not allowed: must be at most train_size={cfg['train_size']}"
        )
    for name in ("widths", "noise_levels", "dataset_sizes", "cifar_widths", "cifar_noise_levels"):
        profiles.increasing(name, cfg[name])
    for name in ("noise_levels", "cifar_noise_levels"):
        if cfg[name][0] != 0 or len(cfg[name]) < 2:
            raise ConfigError(
                f"{name}={cfg[name]} is not allowed: the claims compare noise with real data, so it "
                f"must hold 0 and a level above it"
            )
    for name in ("widths", "cifar_widths"):
        if len(cfg[name]) < 2:
            raise ConfigError(
                f"{name}={cfg[name]} is not allowed: the claims compare the widest with a narrower "
                f"width, so it needs two or more"
            )
    if cfg["dataset_sizes"][-1] >= cfg["train_size"]:
        raise ConfigError(
            f"dataset_sizes={cfg['dataset_sizes']} is not allowed: each must be below "
            f"train_size={cfg['train_size']}, where the grid of sizes ends"
        )
    if 28 % cfg["downscale"]:
        raise ConfigError(f"downscale={cfg['downscale']} is not allowed: it must divide MNIST's 28 pixels")


def _images(mnist, rows, cfg, device):
    """MNIST training images ``rows``, average-pooled by ``downscale`` and flattened."""
    return data.to_tensor(mnist.x_train[rows], device, downscale=cfg["downscale"]).flatten(1)


def _training_images(mnist, n, cfg, device):
    """The first ``n`` training images, standardised by their own mean and std, and their labels."""
    x = data.standardize(_images(mnist, slice(0, n), cfg, device))[0]
    return x, torch.as_tensor(mnist.y_train[:n], dtype=torch.long, device=device)


def _validation_images(mnist, cfg, device):
    """The last ``val_size`` images of the source's training set (chosen to hold train_size + val_size),
    clean, scaled like the training images."""
    x_raw = _images(mnist, slice(0, cfg["train_size"]), cfg, device)
    x_val = _images(mnist, slice(-cfg["val_size"], None), cfg, device)
    x_val = (x_val - x_raw.mean()) / x_raw.std()
    return x_val, torch.as_tensor(mnist.y_train[-cfg["val_size"] :], dtype=torch.long, device=device)


def _noisy_copies(x, y, kind, cfg, levels=None):
    """One noisy copy of (x, y) per (level, seed), stacked: inputs (K, N, d) for randX, labels (K, N), and which
    examples are noisy (K, N). ``levels`` defaults to every noise level."""
    xs, ys, masks = [], [], []
    for level in cfg["noise_levels"] if levels is None else levels:
        for seed in cfg["seeds"]:
            generator = torch.Generator().manual_seed(seeds.noise(seed))
            xk, yk, mask = data.corrupt(x, y, kind=kind, fraction=level, generator=generator)
            xs.append(xk)
            ys.append(yk)
            masks.append(mask)
    return (torch.stack(xs) if kind == "randX" else x), torch.stack(ys), torch.stack(masks)


def _train_row(x, y, width, cfg, evaluate):
    """Train one row (every level x seed) as one ensemble; ``evaluate(ensemble)`` after each epoch."""
    run_seeds = [seeds.runs(seed, 1)[0] for _ in cfg["noise_levels"] for seed in cfg["seeds"]]
    ensemble = MLPEnsemble([x.shape[-1], width, width, data.NUM_CLASSES], run_seeds, x.device)
    per_epoch = math.ceil(x.shape[-2] / cfg["batch_size"])
    records = []
    finite = train_ensemble(
        ensemble,
        x,
        y,
        order_seeds=run_seeds,
        epochs=cfg["epochs"],
        batch_size=cfg["batch_size"],
        lr=cfg["lr"],
        checkpoints=[per_epoch * (e + 1) for e in range(cfg["epochs"])],
        callback=lambda step, ens: records.append(evaluate(ens)),
    )
    return ensemble, records, finite


def _by_level(array, cfg):
    """(K, ...) in (level, seed) order -> (level, seed, ...)."""
    return np.asarray(array).reshape(len(cfg["noise_levels"]), len(cfg["seeds"]), *np.shape(array)[1:])


def _accuracy(ensemble, x, y):
    return (ensemble.predict(x) == y).float().mean(-1).cpu().numpy()


def _compute_capacity(cfg, cell, inputs, device):
    x, y = _training_images(inputs["mnist"], cfg["train_size"], cfg, device)
    x_val, y_val = _validation_images(inputs["mnist"], cfg, device)
    x, y, _ = _noisy_copies(x, y, cell["noise"], cfg)
    ensemble, records, finite = _train_row(
        x, y, cell["width"], cfg, lambda ens: (_accuracy(ens, x, y), _accuracy(ens, x_val, y_val))
    )
    h = cfg["hessian_examples"]
    eigenvalue, converged, _ = hessian.top_eigenvalue(
        hessian.ensemble_params(ensemble),
        x[..., :h, :],
        y[:, :h],
        iterations=cfg["hessian_iterations"],
        generator=torch.Generator().manual_seed(seeds.SAMPLED_STEPS),
    )
    train, val = (np.stack([r[i] for r in records], axis=-1) for i in (0, 1))  # (K, epoch)
    return {
        "level": np.array(cfg["noise_levels"]),
        "seed": np.array(cfg["seeds"]),
        "train_accuracy": _by_level(train, cfg),
        "val_accuracy": _by_level(val, cfg),
        "top_eigenvalue": _by_level(eigenvalue.cpu().numpy(), cfg),
        "hessian_converged": _by_level(converged.cpu().numpy(), cfg),
        "finite": _by_level(finite.cpu().numpy(), cfg),
    }


def _compute_dataset_size(cfg, cell, inputs, device):
    x, y, _ = _noisy_copies(*_training_images(inputs["mnist"], cell["size"], cfg, device), cell["noise"], cfg)
    _, records, finite = _train_row(x, y, cfg["size_width"], cfg, lambda ens: _accuracy(ens, x, y))
    return {
        "level": np.array(cfg["noise_levels"]),
        "seed": np.array(cfg["seeds"]),
        "train_accuracy": _by_level(np.stack(records, axis=-1), cfg),
        "finite": _by_level(finite.cpu().numpy(), cfg),
    }


def linear_probe_predictions(x, y, iterations=PROBE_ITERATIONS):
    """Training-set predictions of a linear softmax classifier (no hidden unit) fitted to (x, y) by full-batch
    L-BFGS: what a model without capacity to spare fits. The cross-entropy is convex in its weights, so L-BFGS
    reaches its minimum (on separable data it drives the loss to 0 and fits everything); plain SGD for the
    networks' epochs could stop short and understate what a linear model fits."""
    weight = torch.zeros(x.shape[1], data.NUM_CLASSES, device=x.device, requires_grad=True)
    bias = torch.zeros(data.NUM_CLASSES, device=x.device, requires_grad=True)
    optimizer = torch.optim.LBFGS(
        [weight, bias],
        max_iter=iterations,
        history_size=20,
        line_search_fn="strong_wolfe",
        tolerance_grad=1e-10,
        tolerance_change=1e-14,
    )

    def closure():
        optimizer.zero_grad()
        loss = F.cross_entropy(x @ weight + bias, y)
        loss.backward()
        return loss

    optimizer.step(closure)
    with torch.no_grad():
        return (x @ weight + bias).argmax(1)


def _compute_probe(cfg, cell, inputs, device):
    """The linear probe on every seed's noisy copy of the training set at the top noise level: its accuracy on
    the whole set and on the noisy examples alone (those only memorisation can fit)."""
    x, y = _training_images(inputs["mnist"], cfg["train_size"], cfg, device)
    xs, ys, masks = _noisy_copies(x, y, cell["noise"], cfg, levels=cfg["noise_levels"][-1:])
    xs = xs if cell["noise"] == "randX" else xs.expand(len(ys), -1, -1)
    correct = torch.stack([linear_probe_predictions(xk, yk) == yk for xk, yk in zip(xs, ys)])
    noisy = masks.to(device)
    return {
        "seed": np.array(cfg["seeds"]),
        "probe_accuracy": correct.float().mean(1).cpu().numpy(),
        "probe_noise_accuracy": ((correct & noisy).sum(1) / noisy.sum(1).clamp_min(1)).cpu().numpy(),
    }


def _compute_cifar(cfg, cell, inputs, device):
    """Arpit 3.3.1's CIFAR-10 remark: one small AlexNet per (noise level, seed) at one width, best clean
    validation accuracy over epochs. CNNs train one by one (:func:`memo_utils.engine.training.train_classifier`):
    randX rows give each model its own inputs, which the stacked trainer does not take."""
    cifar = inputs["cifar10"]
    n = cfg["cifar_train_size"]
    x, x_val = data.standardize(data.to_tensor(cifar.x_train[:n], device), data.to_tensor(cifar.x_test, device))
    y = torch.as_tensor(cifar.y_train[:n], dtype=torch.long, device=device)
    y_val = torch.as_tensor(cifar.y_test, dtype=torch.long, device=device)
    val, train, finite = [], [], []
    for level in cfg["cifar_noise_levels"]:
        for seed in cfg["seeds"]:
            generator = torch.Generator().manual_seed(seeds.noise(seed))
            xk, yk, _ = data.corrupt(x, y, kind=cell["noise"], fraction=level, generator=generator)
            torch.manual_seed(seed)
            model = SmallAlexNet(width=cell["width"]).to(device)
            record = []
            history, ok = train_classifier(
                model,
                xk,
                yk,
                epochs=cfg["cifar_epochs"],
                batch_size=128,
                lr=0.01,
                seed=seed,
                callback=lambda epoch, m: record.append(accuracy(m, x_val, y_val)),
            )
            val.append(record)
            train.append(history["accuracy"])
            finite.append(ok)
    shape = (len(cfg["cifar_noise_levels"]), len(cfg["seeds"]), -1)
    return {
        "level": np.array(cfg["cifar_noise_levels"]),
        "seed": np.array(cfg["seeds"]),
        "val_accuracy": np.array(val).reshape(shape),
        "train_accuracy": np.array(train).reshape(shape),
        "finite": np.array(finite).reshape(shape[:2]),
    }


def _inputs(cfg):
    return (28 // cfg["downscale"]) ** 2


def _mlp_work(width, n, cfg):
    d = _inputs(cfg)
    return len(cfg["noise_levels"]) * len(cfg["seeds"]) * cfg["epochs"] * n * (d * width + width * width + 10 * width)


def size_grid(cfg):
    """Figure 2 right's training-set sizes: dataset_sizes, then train_size (the width grid's training set, the
    one the linear probe measures)."""
    return cfg["dataset_sizes"] + [cfg["train_size"]]


def trained_sizes(cfg):
    """The sizes that part ``dataset_size`` trains: all but train_size when size_width is one of the widths
    (that run is the width grid's: the same data, seeds and width)."""
    return size_grid(cfg) if cfg["size_width"] not in cfg["widths"] else cfg["dataset_sizes"]


def _mlp_memory(width, n, cfg, noise, held_out=0):
    """One row's ensemble (every level x seed), its training images (one noisy copy per model for randX) and
    ``held_out`` validation images."""
    models = len(cfg["noise_levels"]) * len(cfg["seeds"])
    ensemble = memory.mlp((_inputs(cfg), width, width, data.NUM_CLASSES), cfg["batch_size"], models=models)
    copies = models if noise == "randX" else 1
    return memory.needed(ensemble, data=memory.images(copies * n + held_out, (_inputs(cfg),)))


def _cifar_memory(cfg, cell):
    """One small AlexNet at a time, on minibatches of 128, and the training and test images."""
    network = memory.network(lambda: SmallAlexNet(width=cell["width"]), (3, 32, 32), 128)
    return memory.needed(network, data=memory.images(2 * cfg["cifar_train_size"], (3, 32, 32)))


_DIMS = {
    "train_accuracy": ("level", "seed", "epoch"),
    "val_accuracy": ("level", "seed", "epoch"),
    "top_eigenvalue": ("level", "seed"),
    "hessian_converged": ("level", "seed"),
    "finite": ("level", "seed"),
    "probe_accuracy": ("seed",),
    "probe_noise_accuracy": ("seed",),
}
PARTS = (
    Part(
        "capacity",
        version=3,
        compute=_compute_capacity,
        datasets=lambda cfg: {"mnist": cfg["train_size"] + cfg["val_size"]},
        cells=lambda cfg: [{"noise": k, "width": w} for k in NOISE_KINDS for w in cfg["widths"]],
        dims=_DIMS,
        work=lambda cfg, cell: _mlp_work(cell["width"], cfg["train_size"], cfg),
        memory=lambda cfg, cell: _mlp_memory(cell["width"], cfg["train_size"], cfg, cell["noise"], cfg["val_size"]),
    ),
    Part(
        "dataset_size",
        version=3,
        compute=_compute_dataset_size,
        datasets=lambda cfg: {"mnist": max(trained_sizes(cfg))},
        cells=lambda cfg: [{"noise": k, "size": n} for k in NOISE_KINDS for n in trained_sizes(cfg)],
        dims=_DIMS,
        work=lambda cfg, cell: _mlp_work(cfg["size_width"], cell["size"], cfg),
        memory=lambda cfg, cell: _mlp_memory(cfg["size_width"], cell["size"], cfg, cell["noise"]),
    ),
    Part(
        "probe",
        version=2,
        compute=_compute_probe,
        datasets=lambda cfg: {"mnist": cfg["train_size"]},
        cells=lambda cfg: [{"noise": k} for k in NOISE_KINDS],
        dims=_DIMS,
        work=lambda cfg, cell: len(cfg["seeds"]) * PROBE_ITERATIONS * cfg["train_size"] * _inputs(cfg) * 10,
        memory=lambda cfg, cell: memory.needed(
            data=memory.images(len(cfg["seeds"]) * cfg["train_size"], (_inputs(cfg),))
        ),
    ),
    Part(
        "cifar",
        version=1,
        compute=_compute_cifar,
        datasets=lambda cfg: {"cifar10": cfg["cifar_train_size"]} if cfg["cifar_epochs"] else {},
        cells=lambda cfg: (
            [{"noise": k, "width": w} for k in NOISE_KINDS for w in cfg["cifar_widths"]] if cfg["cifar_epochs"] else []
        ),
        dims=_DIMS,
        work=lambda cfg, cell: (
            len(cfg["cifar_noise_levels"])
            * len(cfg["seeds"])
            * cfg["cifar_epochs"]
            * cfg["cifar_train_size"]
            * (28 * 28 * 75 * cell["width"] + 14 * 14 * 25 * cell["width"] ** 2)
        ),
        flops_per_work=6,  # the work counts the convolutions' forward MACs: training is ~3x that, 2 FLOPs a MAC
        memory=_cifar_memory,
    ),
)


# --- What the figures and the claims read ----------------------------------------------------------


def best_val_accuracy(results, kind, cfg):
    """Best validation accuracy over epochs, (width, level, seed); nan where a run diverged."""
    return np.array(
        [results.sel_finite("capacity", "val_accuracy", noise=kind, width=w).max(-1) for w in cfg["widths"]]
    )


def training_curves(results, kind, cfg, *, width=None, size=None):
    """Training accuracy per epoch, (level, seed, epoch), nan where a run diverged: the width grid's run at
    ``width`` (on train_size examples), or the size grid's at ``size`` (width size_width)."""
    if size is not None and size == cfg["train_size"] and cfg["size_width"] in cfg["widths"]:
        width, size = cfg["size_width"], None
    if size is None:
        return results.sel_finite("capacity", "train_accuracy", noise=kind, width=width)
    return results.sel_finite("dataset_size", "train_accuracy", noise=kind, size=size)


def convergence(results, kind, cfg, axis="width", threshold=CONVERGED):
    """Epochs to ``threshold`` training accuracy and whether each run is censored (had not got there within the
    budget: its time is a lower bound), (width or size, level, seed)."""
    values = cfg["widths"] if axis == "width" else size_grid(cfg)
    curves = np.array([training_curves(results, kind, cfg, **{axis: v}) for v in values])
    return stats.epochs_to_reach(curves, threshold)


def sharpness(results, kind, cfg, width=None):
    """Top Hessian eigenvalue (level, seed) at ``width`` (default the widest), its convergence, and the final
    training accuracy."""
    width = width or max(cfg["widths"])
    sel = lambda name: results.sel("capacity", name, noise=kind, width=width)
    return sel("top_eigenvalue"), sel("hessian_converged"), training_curves(results, kind, cfg, width=width)[..., -1]


def probe_noise_fit(results, kind):
    """Per seed, the share of the noisy examples that the linear probe fits beyond chance: (accuracy on them -
    1/10) / (9/10); 1 fits every one, 0 is chance."""
    chance = 1 / data.NUM_CLASSES
    return (results.sel("probe", "probe_noise_accuracy", noise=kind) - chance) / (1 - chance)


def cifar_best_val_accuracy(results, kind, cfg):
    """Best clean validation accuracy over epochs of the CNNs, (width, level, seed); nan where a run diverged."""
    return np.array(
        [results.sel_finite("cifar", "val_accuracy", noise=kind, width=w).max(-1) for w in cfg["cifar_widths"]]
    )


# --- Claims, registered before the results (memo_utils.framework.claims) ------------------------------------

NETWORKS = {  # the MLPs train on the MNIST training set, 0% noise being real data
    **{f"{k} MLPs": f"{k} MLPs of every width" for k in NOISE_KINDS},
    **{f"{k} MLPs, sizes": f"{k} MLPs of width size_width on every training-set size" for k in NOISE_KINDS},
    **{f"{k} CNNs": f"{k} small AlexNets on CIFAR-10" for k in NOISE_KINDS},
}
_BOTH_MLPS = tuple(f"{k} MLPs{grid}" for k in NOISE_KINDS for grid in ("", ", sizes"))
REAL_MIN_VAL = 0.88  # a linear classifier trained on all of MNIST (LeCun et al. 1998: 12% test error)
MEMORISED = 0.5
CIFAR_MIN_VAL = 0.5
PRECONDITIONS = (
    Precondition(
        "real-learned",
        _BOTH_MLPS,
        "real-data MLPs (0% noise) of the widest width: best validation accuracy, mean over seeds",
        REAL_MIN_VAL,
        "the claims contrast noise with real data whose patterns the networks learned (Krueger 2.1: real data "
        "is explained 'in terms of simpler patterns'; its MLPs are 'very close to maximal' validation "
        "performance): a network that learned the digits beats a linear classifier trained on all of MNIST, "
        "88% (LeCun et al. 1998, the papers' MNIST reference)",
    ),
    *(
        Precondition(
            f"needs-capacity-{k}",
            (f"{k} MLPs", f"{k} MLPs, sizes"),
            f"linear probe (softmax regression fitted by L-BFGS) on the {k} training set at the top noise level "
            f"(train_size, the largest of both grids): share of its noisy examples fitted beyond chance, "
            f"(accuracy - 0.1) / 0.9, mean over seeds",
            MEMORISED,
            "the claims are about capacity being the binding constraint on fitting noise (Krueger's abstract: "
            "'more capacity is needed to fit noise'; Arpit 3.3.2: 'the representational capacity is simply "
            "insufficient, and memorization is not feasible'): the papers' 50,000 noisy examples are far beyond "
            "a linear model; our reading: here a linear model must not memorise even half of the noise",
            at_most=True,
        )
        for k in NOISE_KINDS
    ),
    *(
        Precondition(
            f"widest-fits-{k}",
            (f"{k} MLPs",),
            f"{k} MLPs of the widest width at the top noise level: final training accuracy on their noisy "
            f"set, mean over seeds",
            CONVERGED,
            "the width grid must reach the capacity that fits the noise: the papers' widest MLPs fit their "
            "noisy sets (Figure 2 times them to 100% training accuracy; Krueger 2.2 measures sharpness 'around the "
            "local minima'); 99% is our reading of convergence",
        )
        for k in NOISE_KINDS
    ),
    Precondition(
        "cifar-learned",
        tuple(f"{k} CNNs" for k in NOISE_KINDS),
        "clean CNNs (0% noise) of the widest width: best CIFAR-10 validation accuracy, mean over seeds "
        "(not measured where the CNN grid is not run)",
        CIFAR_MIN_VAL,
        "Arpit 3.3.1 contrasts noise with CNNs that learned CIFAR-10 (the small AlexNet of Zhang et al. "
        "2017 that the paper trains generalizes far above chance); half the validation images, five times "
        "chance, is a floor well below it",
    ),
)
SEEDS = "seeds, paired: a seed fixes initialisation, data order and noise"
ONE_POINT = 0.01
ONE_POINT_REASON = (
    "the papers give no number: Figure 1's caption calls the real-data curve 'very close to maximal' "
    "at its widest width, and we read a gain under one point of validation accuracy as none"
)
TENTH = math.log(1.1)
TENTH_REASON = (
    "the papers report these effects only in figures, with no numbers: a change of a tenth (log 1.1) is "
    "the smallest a reader of a figure would see"
)
_TIME_QUOTE = (
    "Reducing the capacity or increasing the size of the dataset slows down training for real data as well "
    "as noise. However, the effect is more severe for datasets containing noise"
)
_TIME_LABELS_NOTE = " (Figure 2 shows input noise only; the paper's text says 'noise')"


def _capacity_claim(kind):
    return Definition(
        f"krueger2017-capacity-{kind}",
        "krueger2017",
        "Sec. 2.1, Fig. 1 (Arpit Sec. 3.3.1, Fig. 5)",
        "as more examples are replaced with noise, more capacity is needed in order to reach maximal validation "
        "performance",
        f"With {kind} noise, the best validation accuracy gains more from widening the network than without noise.",
        (
            above(
                "per seed: the best validation accuracy's gain from the middle to the widest width, at the top noise "
                "level minus at 0%",
                ONE_POINT,
                ONE_POINT_REASON,
            ),
        ),
        SEEDS,
        (f"{kind} MLPs",),
    )


def _time_claim(kind, axis):
    width = axis == "width"
    slow, fast = ("the narrowest width", "the widest") if width else ("the largest training set", "the smallest")
    return Definition(
        f"krueger2017-time-{'width' if width else 'size'}-{kind}",
        "krueger2017",
        f"Sec. 2.1, Fig. 2 {'left' if width else 'right'} (Arpit Sec. 3.3.2, Fig. 6)",
        _TIME_QUOTE,
        f"{'Reducing the width' if width else 'Growing the training set'} slows convergence more with {kind} noise "
        f"than for real data" + (_TIME_LABELS_NOTE if kind == "randY" else "") + ".",
        (
            above(
                f"per seed: log(epochs to {CONVERGED:.0%} training accuracy at {slow} / at {fast}), at the top noise "
                f"level minus at 0%; a censored time counts only in the direction it bounds",
                TENTH,
                TENTH_REASON,
            ),
        ),
        SEEDS,
        (f"{kind} MLPs" if width else f"{kind} MLPs, sizes",),
        beyond_paper=kind == "randY",
    )


def _sharpness_claim(kind):
    return Definition(
        f"krueger2017-sharpness-{kind}",
        "krueger2017",
        "Sec. 2.2, Fig. 3 left",
        "As we increase the amount of noise in the training data, we observe an increase in this sharpness around "
        "the local minima of the learned function",
        f"The largest Hessian eigenvalue of the training loss at the end of training is larger at the top {kind} "
        f"noise level than without noise (widest width).",
        (
            above(
                "per seed: log(|top eigenvalue| at the top noise level / at 0%), widest width; runs whose power "
                "iteration did not converge are left out",
                TENTH,
                TENTH_REASON,
            ),
        ),
        SEEDS,
        (f"{kind} MLPs",),
    )


CLAIMS = (
    *(_capacity_claim(k) for k in NOISE_KINDS),
    *(_time_claim(k, axis) for k in NOISE_KINDS for axis in ("width", "size")),
    Definition(
        "krueger2017-time-labels-vs-inputs",
        "krueger2017",
        "Abstract",
        "time to convergence is longer for random labels, but shorter for random inputs",
        "At the widest width and the top noise level, convergence takes longer with random labels, and less "
        "long with random inputs, than with real data.",
        (
            above(
                f"per seed: log(epochs to {CONVERGED:.0%}, randY / real data); a censored time counts only in "
                f"the direction it bounds",
                TENTH,
                TENTH_REASON,
            ),
            above(
                f"per seed: log(epochs to {CONVERGED:.0%}, real data / randX); a censored time counts only in "
                f"the direction it bounds",
                TENTH,
                TENTH_REASON,
            ),
        ),
        SEEDS,
        ("randX MLPs", "randY MLPs"),
    ),
    Definition(
        "arpit2017-capacity-cifar-randX",
        "arpit2017",
        "Sec. 3.3.1",
        "This trend was consistent for noise inputs on CIFAR10",
        "On CIFAR-10, the best validation accuracy gains more from widening the CNN with randX noise than "
        "without noise.",
        (
            above(
                "per seed: the best validation accuracy's gain from the narrowest to the widest CNN, at the top "
                "noise level minus at 0%",
                ONE_POINT,
                ONE_POINT_REASON,
            ),
        ),
        SEEDS,
        ("randX CNNs",),
    ),
    Definition(
        "arpit2017-capacity-cifar-randY",
        "arpit2017",
        "Sec. 3.3.1",
        "we did not notice any relationship between capacity and validation performance on random labels on CIFAR10",
        "On CIFAR-10 with randY noise, widening the CNN leaves the best validation accuracy unchanged.",
        (
            within(
                "per seed: the best validation accuracy's gain from the narrowest to the widest CNN, at the top "
                "randY noise level",
                -ONE_POINT,
                ONE_POINT,
                "'no relationship': a gain inside the one point either way that the capacity claims take as none",
            ),
        ),
        SEEDS,
        ("randY CNNs",),
    ),
    *(_sharpness_claim(k) for k in NOISE_KINDS),
)
_CRITERIA = {d.id: d.criteria for d in CLAIMS}


def bounded(values, lower, upper, criterion):
    """The Estimate of per-seed ``values`` of which some are only bounds, and a note on them.

    ``lower`` (``upper``), per seed: the value is a lower (upper) bound, because a time it adds (subtracts) is
    censored. The mean over seeds is then a bound too, and its interval can only count in the direction it
    bounds: the interval is kept where opening it on the unknown side (to +inf above lower bounds, -inf below
    upper bounds) would not change the criterion's outcome, and otherwise the criterion has no interval at this
    budget (not at this scale). Bounds on both sides cannot be combined.
    """
    estimate = across(values)
    lower, upper = np.asarray(lower, bool), np.asarray(upper, bool)
    if not (lower.any() or upper.any()) or not estimate.judgeable:
        return estimate, ""
    counts = f"{int(lower.sum())} seed(s) a lower bound, {int(upper.sum())} an upper bound (censored times)"
    if not (lower.any() and upper.any()):
        opened = (estimate.low, math.inf) if lower.any() else (-math.inf, estimate.high)
        if criterion.outcome(*opened) == criterion.outcome(estimate.low, estimate.high):
            return estimate, f"{counts}: the interval decides even so"
    note = (
        f"{counts}: the interval {estimate} cannot decide, since the censored side of it is unknown; a longer "
        f"budget would"
    )
    return Estimate(
        estimate.estimate, estimate.low, float("nan"), estimate.n, estimate.sd, estimate.dropped, note
    ), note


def _log_time_difference(epochs, censored, added, subtracted, criterion):
    """Per seed, the sum of log epochs of the ``added`` runs minus that of the ``subtracted`` ones (each an
    index into (value, level, seed) arrays, giving (seed,)), as a :func:`bounded` estimate."""
    log = np.log(epochs.astype(float))
    values = sum(log[i] for i in added) - sum(log[i] for i in subtracted)
    lower = np.any([censored[i] for i in added], axis=0)
    upper = np.any([censored[i] for i in subtracted], axis=0)
    return bounded(values, lower, upper, criterion)


def _mean(values):
    """Mean of the finite ``values`` (a diverged run's nan is left out); nan when there is none."""
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    return float(v.mean()) if v.size else float("nan")


def _times_table(epochs, censored, values):
    """'rows ...: mean epochs per level, * where some seed is censored' for the measured line."""
    return "; ".join(
        f"{v}: " + ", ".join(f"{e.mean():.0f}{'*' if c.any() else ''}" for e, c in zip(row_e, row_c))
        for v, row_e, row_c in zip(values, epochs, censored)
    )


def _capacity_evidence(results, cfg):
    estimates, measured = {}, {}
    middle = (len(cfg["widths"]) - 1) // 2  # of an even grid, the lower of the two middle widths
    for kind in NOISE_KINDS:
        best = best_val_accuracy(results, kind, cfg)  # (width, level, seed)
        gain = best[-1] - best[middle]  # (level, seed)
        estimates[f"krueger2017-capacity-{kind}"] = (across(gain[-1] - gain[0]),)
        measured[f"krueger2017-capacity-{kind}"] = (
            f"best validation accuracy (mean over seeds), widths {cfg['widths']}, per noise level: "
            + "; ".join(
                f"{level:.0%}: " + ", ".join(f"{_mean(b):.3f}" for b in best[:, i])
                for i, level in enumerate(cfg["noise_levels"])
            )
        )
    return estimates, measured


def _time_evidence(results, cfg):
    estimates, measured = {}, {}
    top = len(cfg["noise_levels"]) - 1
    for kind in NOISE_KINDS:
        for axis, values in (("width", cfg["widths"]), ("size", size_grid(cfg))):
            claim = f"krueger2017-time-{axis}-{kind}"
            epochs, censored = convergence(results, kind, cfg, axis)  # (value, level, seed)
            slow, fast = (0, -1) if axis == "width" else (-1, 0)  # the slow and the fast end of the axis
            estimate, note = _log_time_difference(
                epochs,
                censored,
                added=[(slow, top), (fast, 0)],
                subtracted=[(fast, top), (slow, 0)],
                criterion=_CRITERIA[claim][0],
            )
            estimates[claim] = (estimate,)
            measured[claim] = (
                f"epochs to {CONVERGED:.0%} (mean over seeds; * some censored at {cfg['epochs']}), "
                f"per {axis} {values}, levels {cfg['noise_levels']}: "
                f"{_times_table(epochs, censored, values)}" + (f". {note}" if note else "")
            )
    claim = "krueger2017-time-labels-vs-inputs"
    (e_x, c_x), (e_y, c_y) = (convergence(results, k, cfg) for k in NOISE_KINDS)
    # the widest width: real data (level 0), randX and randY at the top level, stacked as (run, seed)
    epochs = np.stack([e_x[-1, 0], e_x[-1, top], e_y[-1, top]])
    censored = np.stack([c_x[-1, 0], c_x[-1, top], c_y[-1, top]])
    real, randx, randy = 0, 1, 2
    longer, note_longer = _log_time_difference(epochs, censored, [randy], [real], _CRITERIA[claim][0])
    shorter, note_shorter = _log_time_difference(epochs, censored, [real], [randx], _CRITERIA[claim][1])
    estimates[claim] = (longer, shorter)
    times = ", ".join(
        f"{name} {e.mean():.1f}{'*' if c.any() else ''}"
        for name, e, c in zip(("real", "randX", "randY"), epochs, censored)
    )
    measured[claim] = (
        f"epochs to {CONVERGED:.0%} at width {max(cfg['widths'])}, top noise level (mean over seeds; * "
        f"some censored at {cfg['epochs']}): {times}" + "".join(f". {n}" for n in (note_longer, note_shorter) if n)
    )
    return estimates, measured


def _sharpness_evidence(results, cfg):
    estimates, measured = {}, {}
    for kind in NOISE_KINDS:
        eigenvalue, converged, _ = sharpness(results, kind, cfg)  # (level, seed)
        size = np.where(converged, np.abs(eigenvalue), np.nan)
        estimates[f"krueger2017-sharpness-{kind}"] = (across(np.log(size[-1]) - np.log(size[0])),)
        measured[f"krueger2017-sharpness-{kind}"] = (
            "|top eigenvalue| per noise level (mean over seeds): "
            + ", ".join(f"{level:.0%}: {_mean(v):.3g}" for level, v in zip(cfg["noise_levels"], size))
            + f"; power iterations converged: {int(converged.sum())} of {converged.size}"
        )
    return estimates, measured


def _cifar_evidence(results, cfg):
    if not cfg["cifar_epochs"]:
        note = "the CNN grid was not run at this profile (cifar_epochs = 0)"
        return (
            {f"arpit2017-capacity-cifar-{k}": (NOT_MEASURED,) for k in NOISE_KINDS},
            {f"arpit2017-capacity-cifar-{k}": note for k in NOISE_KINDS},
            float("nan"),
        )
    estimates, measured, clean = {}, {}, []
    for kind in NOISE_KINDS:
        best = cifar_best_val_accuracy(results, kind, cfg)  # (width, level, seed)
        gain = best[-1] - best[0]  # (level, seed)
        clean.append(best[-1, 0])
        claim = f"arpit2017-capacity-cifar-{kind}"
        estimates[claim] = (across(gain[-1] - gain[0]) if kind == "randX" else across(gain[-1]),)
        measured[claim] = "best validation accuracy per width (mean over seeds), clean / noisy: " + "; ".join(
            f"{w}: {_mean(b[0]):.3f} / {_mean(b[-1]):.3f}" for w, b in zip(cfg["cifar_widths"], best)
        )
    return estimates, measured, float(_mean(clean))


def evidence(results, cfg):
    """The chapter's claims, seeds as replicates; the preconditions measured from the same runs."""
    conditions = {"real-learned": float(_mean([best_val_accuracy(results, k, cfg)[-1, 0] for k in NOISE_KINDS]))}
    for kind in NOISE_KINDS:
        conditions[f"needs-capacity-{kind}"] = float(np.mean(probe_noise_fit(results, kind)))
        conditions[f"widest-fits-{kind}"] = float(_mean(sharpness(results, kind, cfg)[2][-1]))
    estimates, measured = {}, {}
    for part in (_capacity_evidence, _time_evidence, _sharpness_evidence):
        e, m = part(results, cfg)
        estimates.update(e)
        measured.update(m)
    e, m, conditions["cifar-learned"] = _cifar_evidence(results, cfg)
    estimates.update(e)
    measured.update(m)
    return Evidence(conditions, estimates, measured)


CHAPTER = Chapter(
    "capacity",
    paper="krueger2017",
    params=PARAMS,
    parts=PARTS,
    claims=CLAIMS,
    evidence=evidence,
    networks=NETWORKS,
    preconditions=PRECONDITIONS,
    check=_check,
)
