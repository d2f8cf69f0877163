"""Arpit et al. 2017, section 4: the critical sample ratio (CSR) through training (Figures 7-9).

Part ``mnist`` (Figure 7) has one cell per dataset: the real data, and each noise kind (randX,
randY) at each level. The 2-layer MLPs of a cell, one per seed, train as one batched ensemble
(:func:`memo_utils.engine.ensemble.train_ensemble`); before training and after every epoch we record the
training accuracy (on the noisy data a model fits) and the clean validation accuracy, and before
training and at a few log-spaced epochs the validation CSR, found by LASS (:mod:`memo_utils.methods.lass`)
batched over the ensemble.
Part ``cifar`` (Figures 8-9) does the same with the small AlexNet-style CNN, one seed at a time,
and also measures the CSR of a subset of the training set (footnote 5).
"""

from __future__ import annotations

import math

import numpy as np
import torch

from .. import seeds
from ..engine import data, memory
from ..engine.ensemble import MLPEnsemble, train_ensemble
from ..engine.models import SmallAlexNet, small_alexnet_macs
from ..engine.training import accuracy, train_classifier
from ..errors import ConfigError
from ..framework import profiles
from ..framework.chapter import Chapter, Param, Part
from ..framework.claims import NOT_MEASURED, Definition, Evidence, Precondition, above, across, within
from ..methods import lass

NOISE_KINDS = ("randX", "randY")
DATASETS = {"mnist": "MNIST", "cifar": "CIFAR-10"}
CHUNK = 1000  # examples per LASS call (bounds memory; the noise is drawn per chunk)

SCALED = "scaled down to fit the profile's time budget"
PARAMS = (
    Param(
        "train_size",
        profiles.positive_int,
        50000,
        paper="MNIST training set",
        parts=("mnist",),
        by_profile={"smoke": 400, "cpu": 2000},
        note=SCALED + "; cpu: the first 2,000 images of the bundled sample",
    ),
    Param(
        "val_size",
        profiles.positive_int,
        10000,
        paper="not stated (the validation set)",
        parts=("mnist",),
        by_profile={"smoke": 200, "cpu": 2000},
        note="clean images, the last of the source's training set, never trained on; CSR is measured on all of them",
    ),
    Param(
        "hidden",
        profiles.positive_int,
        4096,
        paper="4096",
        parts=("mnist",),
        by_profile={"smoke": 32, "cpu": 256},
        note=SCALED,
    ),
    Param(
        "noise_levels",
        profiles.fraction_list,
        [0.2, 0.4, 0.6, 0.8],
        paper="20% to 80%",
        parts=("mnist",),
        by_profile={"smoke": [0.8], "cpu": [0.8]},
        note="fraction of training inputs (randX) or labels (randY) replaced; the real data (0%) is always run; the "
        "claims use the highest level below 100%; cpu: that level only",
    ),
    Param(
        "epochs",
        profiles.positive_int,
        100,
        paper="not stated (1000 in section 2)",
        parts=("mnist",),
        by_profile={"smoke": 2, "cpu": 40, "paper": 1000},
        note=SCALED + "; cpu: long enough for the MLPs to fit most of 80% random labels (the memorisation "
        "precondition)",
    ),
    Param(
        "batch_size",
        profiles.positive_int,
        32,
        paper="not stated",
        parts=("mnist",),
        by_profile={"cpu": 16},
        note="not stated; 32 as in the other MNIST chapters; cpu: 16, for more steps per epoch on 2,000 examples",
    ),
    Param("lr", profiles.positive_float, 0.01, paper="0.01 (SGD)", parts=("mnist",)),
    Param(
        "seeds",
        profiles.seed_list,
        [0, 1, 2],
        paper="not stated (one run per curve)",
        parts=("mnist",),
        by_profile={"smoke": [0, 1], "cpu": list(range(5))},
        note="the MLPs' replicates: each claim's interval is across seeds; a seed fixes initialisation, order and "
        "noise; cpu: 5, as many as the 5-minute budget leaves beside the CNNs",
        replicates=True,
    ),
    Param(
        "cifar_seeds",
        profiles.seed_list,
        [0, 1, 2],
        paper="not stated (one run per curve)",
        parts=("cifar",),
        by_profile={"smoke": [0, 1], "cpu": [0, 1, 2, 3]},
        note="the CNNs' replicates, as seeds",
        replicates=True,
    ),
    Param(
        "csr_points",
        profiles.positive_int,
        8,
        paper="every epoch",
        parts=("mnist",),
        by_profile={"smoke": 2, "cpu": 5},
        note="epochs (log-spaced from the first to the last, and epoch 0, before training) at which CSR is measured: "
        "LASS is the expensive part",
    ),
    Param(
        "lass_radius",
        profiles.positive_float,
        lass.PAPER_RADIUS,
        paper="0.3 (footnote 6)",
        parts=("mnist", "cifar"),
        note="r on the 0-255 pixel scale, converted to the models' standardised units as r / (255 std)",
    ),
    Param(
        "lass_alpha",
        profiles.positive_float,
        lass.PAPER_ALPHA,
        paper="0.25 (footnote 4)",
        parts=("mnist", "cifar"),
        note="the sign-gradient step on the 0-255 scale",
    ),
    Param(
        "lass_beta",
        profiles.non_negative_float,
        lass.PAPER_BETA,
        paper="0.2 (footnote 4)",
        parts=("mnist", "cifar"),
        note="the Langevin noise's standard deviation on the 0-255 scale",
    ),
    Param(
        "lass_pixel_range",
        profiles.flag,
        True,
        paper="not stated: Algorithm 1 projects onto the box only",
        parts=("mnist", "cifar"),
        note="our reading: the box is also cut to the valid pixel range, so that every x̂ is an image; this lowers "
        "the CSR (most on MNIST's saturated background); False searches the box alone",
    ),
    Param(
        "lass_iterations",
        profiles.positive_int,
        30,
        paper="not stated",
        parts=("mnist", "cifar"),
        by_profile={"smoke": 5, "cpu": 8},
        note="the maximum per example; the chapter shows CSR against it, to check that it suffices",
    ),
    Param(
        "cifar_train_size",
        profiles.positive_int,
        50000,
        paper="CIFAR-10 training set (50,000)",
        parts=("cifar",),
        by_profile={"smoke": 256, "cpu": 3000},
        note="cpu: the exact first 3,000 images; gpu: all 50,000 (the JPEG copy unless torchvision's download is "
        "available)",
    ),
    Param(
        "cifar_val_size",
        profiles.positive_int,
        5000,
        paper="not stated",
        parts=("cifar",),
        by_profile={"smoke": 128, "cpu": 500},
        note="the first images of the source's held-out split, on which accuracy and CSR are measured: cpu: 500 of "
        "the bundled sample's 1,000 (training images 3,001-4,000, exact), since LASS costs most; gpu: the first "
        "5,000 test images",
    ),
    Param(
        "cifar_width",
        profiles.positive_int,
        200,
        paper="200",
        parts=("cifar",),
        by_profile={"smoke": 4, "cpu": 8, "gpu": 64},
        note="convolution channels; " + SCALED,
    ),
    Param(
        "cifar_noise_levels",
        profiles.fraction_list,
        [0.2, 0.4, 0.6, 0.8, 1.0],
        paper="20% to 80% (Figure 8) and 100% (Figure 9)",
        parts=("cifar",),
        by_profile={"smoke": [1.0], "cpu": [1.0]},
        note="the real data is always run; cpu: Figure 9's 100% only (its claims need more seeds than the budget "
        "leaves for a grid), so Figure 8's claims are not at this scale there; the grid is the gpu profile's",
    ),
    Param(
        "cifar_epochs",
        profiles.positive_int,
        30,
        paper="not stated",
        parts=("cifar",),
        by_profile={"smoke": 1, "cpu": 15, "paper": 100},
        note=SCALED,
    ),
    Param(
        "cifar_csr_points",
        profiles.positive_int,
        8,
        paper="every epoch",
        parts=("cifar",),
        by_profile={"smoke": 2, "cpu": 4},
        note="as csr_points, for the CNNs, whose searches cost far more",
    ),
    Param(
        "cifar_train_csr_size",
        profiles.positive_int,
        5000,
        paper="the training set (footnote 5)",
        parts=("cifar",),
        by_profile={"smoke": 64, "cpu": 200},
        note="training examples (the first ones) whose CSR is measured, for footnote 5",
    ),
)


def _check(cfg):
    for name in ("noise_levels", "cifar_noise_levels"):
        if 0 in cfg[name]:
            raise ConfigError(
                f"{name}={cfg[name]} is not allowed: levels must be above 0 (the real data is always run)"
            )
        cfg[name] = sorted(set(cfg[name]))
    if cfg["cifar_train_csr_size"] > cfg["cifar_train_size"]:
        raise ConfigError(
            f"cifar_train_csr_size={cfg['cifar_train_csr_size']} is not allowed: must be at most "
            f"cifar_train_size={cfg['cifar_train_size']}"
        )


def csr_epochs(epochs, points):
    """The epochs at which CSR is measured: before training (epoch 0), then ``points`` log-spaced epochs from 1
    to ``epochs``, without repeats. Epoch 0 shows where footnote 5's "initial rise" and Figure 9's growth start."""
    return [0] + sorted({int(round(e)) for e in np.geomspace(1, epochs, max(points, 1))} | {epochs})


def cells(levels):
    """The real data, then each noise kind at each level."""
    return [{"noise": "real", "level": 0.0}] + [{"noise": k, "level": lvl} for k in NOISE_KINDS for lvl in levels]


def _split(x_train, x_val):
    """Standardise by the training images' mean and std; return them (on the [0, 1] scale) for LASS's units."""
    mean, std = float(x_train.mean()), float(x_train.std())
    return (x_train - mean) / std, (x_val - mean) / std, {"pixel_mean": mean, "pixel_std": std}


def _lass_settings(cfg, pixels):
    return dict(
        radius=cfg["lass_radius"],
        alpha=cfg["lass_alpha"],
        beta=cfg["lass_beta"],
        max_iter=cfg["lass_iterations"],
        pixel_range=cfg["lass_pixel_range"],
        chunk=CHUNK,
        **pixels,
    )


def _corrupted(x, y, cell, seed):
    if cell["noise"] == "real":
        return x, y
    generator = torch.Generator().manual_seed(seeds.noise(seed))
    x, y, _ = data.corrupt(x, y, kind=cell["noise"], fraction=cell["level"], generator=generator)
    return x, y


def _record(arrays, run_seeds, epochs, measured):
    """Stack per-seed records into the cell's arrays; accuracy is recorded from epoch 0 (before training)."""
    out = {"seed": np.array(run_seeds), "epoch": np.arange(epochs + 1), "csr_epoch": np.array(measured)}
    for name, values in arrays.items():
        out[name] = np.array(values)
    return out


def _compute_mnist(cfg, cell, inputs, device):
    mnist, n, n_val = inputs["mnist"], cfg["train_size"], cfg["val_size"]
    x, x_val, pixels = _split(
        data.to_tensor(mnist.x_train[:n], device).flatten(1), data.to_tensor(mnist.x_train[-n_val:], device).flatten(1)
    )
    y = torch.as_tensor(mnist.y_train[:n], dtype=torch.long, device=device)
    y_val = torch.as_tensor(mnist.y_train[-n_val:], dtype=torch.long, device=device)
    noisy = [_corrupted(x, y, cell, s) for s in cfg["seeds"]]
    xs = torch.stack([a for a, _ in noisy]) if cell["noise"] == "randX" else x  # one input set per model where needed
    ys = torch.stack([b for _, b in noisy])
    run_seeds = [seeds.runs(s, 1)[0] for s in cfg["seeds"]]
    ensemble = MLPEnsemble([784, cfg["hidden"], cfg["hidden"], 10], run_seeds, device)
    measured = csr_epochs(cfg["epochs"], cfg["csr_points"])
    settings = _lass_settings(cfg, pixels)
    train_acc, val_acc, csr, by_iteration = [], [], [], []

    def evaluate(step, ens):
        epoch = len(train_acc)  # 0: before training
        train_acc.append((ens.predict(xs) == ys).float().mean(-1).cpu().numpy())
        val_acc.append((ens.predict(x_val) == y_val).float().mean(-1).cpu().numpy())
        if epoch in measured:
            flipped = lass.search(
                ens.forward, x_val.expand(ens.k, -1, -1), example_dim=1, seed=seeds.lass_noise(epoch), **settings
            )
            by_iteration.append(lass.found_by_iteration(flipped, cfg["lass_iterations"]).cpu().numpy())
            csr.append(by_iteration[-1][:, -1])

    per_epoch = math.ceil(n / cfg["batch_size"])
    evaluate(0, ensemble)
    finite = train_ensemble(
        ensemble,
        xs,
        ys,
        order_seeds=run_seeds,
        epochs=cfg["epochs"],
        batch_size=cfg["batch_size"],
        lr=cfg["lr"],
        checkpoints=[per_epoch * (e + 1) for e in range(cfg["epochs"])],
        callback=evaluate,
    )
    return _record(
        {
            "train_accuracy": np.stack(train_acc, -1),
            "val_accuracy": np.stack(val_acc, -1),
            "csr": np.stack(csr, -1),
            "found_by_iteration": np.stack(by_iteration, 1),
            "finite": finite.cpu().numpy(),
        },
        cfg["seeds"],
        cfg["epochs"],
        measured,
    )


def _compute_cifar(cfg, cell, inputs, device):
    """One CNN per seed, trained on the cell's data; CSR on the validation set and on training examples."""
    cifar, n, n_val = inputs["cifar10"], cfg["cifar_train_size"], cfg["cifar_val_size"]
    if len(cifar.x_test) < n_val:
        raise ConfigError(
            f"cifar_val_size={n_val} is not allowed: the data source holds {len(cifar.x_test)} held-out images"
        )
    x, x_val, pixels = _split(data.to_tensor(cifar.x_train[:n], device), data.to_tensor(cifar.x_test[:n_val], device))
    y = torch.as_tensor(cifar.y_train[:n], dtype=torch.long, device=device)
    y_val = torch.as_tensor(cifar.y_test[:n_val], dtype=torch.long, device=device)
    measured = csr_epochs(cfg["cifar_epochs"], cfg["cifar_csr_points"])
    settings = _lass_settings(cfg, pixels)
    records = {
        name: [] for name in ("train_accuracy", "val_accuracy", "csr", "train_csr", "found_by_iteration", "finite")
    }
    for seed in cfg["cifar_seeds"]:
        xk, yk = _corrupted(x, y, cell, seed)
        x_csr = xk[: cfg["cifar_train_csr_size"]]
        torch.manual_seed(seed)
        model = SmallAlexNet(width=cfg["cifar_width"]).to(device)
        seen = {name: [] for name in ("train_accuracy", "val_accuracy", "csr", "train_csr", "found_by_iteration")}

        def evaluate(epoch, m):
            seen["train_accuracy"].append(accuracy(m, xk, yk))
            seen["val_accuracy"].append(accuracy(m, x_val, y_val))  # accuracy() leaves m in eval mode
            if epoch in measured:
                flipped = lass.search(m, x_val, seed=seeds.lass_noise(epoch), **settings)
                seen["found_by_iteration"].append(
                    lass.found_by_iteration(flipped, cfg["lass_iterations"]).cpu().numpy()
                )
                seen["csr"].append(seen["found_by_iteration"][-1][-1])
                train_flipped = lass.search(m, x_csr, seed=seeds.lass_noise(epoch, on_training_set=True), **settings)
                seen["train_csr"].append(float((train_flipped > 0).float().mean()))

        evaluate(0, model)
        _, finite = train_classifier(
            model, xk, yk, epochs=cfg["cifar_epochs"], batch_size=128, lr=0.01, seed=seed, callback=evaluate
        )
        for name, values in seen.items():
            records[name].append(values)
        records["finite"].append(finite)
    return _record(records, cfg["cifar_seeds"], cfg["cifar_epochs"], measured)


def _mlp_params(h):
    return 784 * h + h * h + 10 * h


def _mnist_work(cfg, cell):
    search = len(csr_epochs(cfg["epochs"], cfg["csr_points"])) * cfg["val_size"] * cfg["lass_iterations"]
    return len(cfg["seeds"]) * _mlp_params(cfg["hidden"]) * (cfg["epochs"] * cfg["train_size"] + search)


def _cifar_work(cfg, cell):
    search = (
        len(csr_epochs(cfg["cifar_epochs"], cfg["cifar_csr_points"]))
        * cfg["lass_iterations"]
        * (cfg["cifar_val_size"] + cfg["cifar_train_csr_size"])
    )
    return (
        len(cfg["cifar_seeds"])
        * small_alexnet_macs(cfg["cifar_width"])
        * (cfg["cifar_epochs"] * cfg["cifar_train_size"] + search)
    )


def _mnist_memory(cfg, cell):
    """The seeds' ensemble, its largest pass (a minibatch, or LASS on the whole validation set at once), and the
    images: one noisy copy per model for randX."""
    models = len(cfg["seeds"])
    ensemble = memory.mlp((784, cfg["hidden"], cfg["hidden"], 10), max(cfg["batch_size"], cfg["val_size"]), models)
    copies = models if cell["noise"] == "randX" else 1
    return memory.needed(ensemble, data=memory.images(copies * cfg["train_size"] + cfg["val_size"], (784,)))


def _cifar_memory(cfg, cell):
    """One CNN at a time, its largest pass (a minibatch of 128, or LASS on a whole set), and the images."""
    batch = max(128, cfg["cifar_val_size"], cfg["cifar_train_csr_size"])
    network = memory.network(lambda: SmallAlexNet(width=cfg["cifar_width"]), (3, 32, 32), batch)
    return memory.needed(network, data=memory.images(2 * cfg["cifar_train_size"] + cfg["cifar_val_size"], (3, 32, 32)))


_DIMS = {
    "train_accuracy": ("seed", "epoch"),
    "val_accuracy": ("seed", "epoch"),
    "csr": ("seed", "csr_epoch"),
    "train_csr": ("seed", "csr_epoch"),
    "found_by_iteration": ("seed", "csr_epoch", "iteration"),
    "finite": ("seed",),
}
PARTS = (
    Part(
        "mnist",
        version=2,
        compute=_compute_mnist,
        datasets=lambda cfg: {"mnist": cfg["train_size"] + cfg["val_size"]},
        cells=lambda cfg: cells(cfg["noise_levels"]),
        dims=_DIMS,
        work=_mnist_work,
        memory=_mnist_memory,
    ),
    Part(
        "cifar",
        version=2,
        compute=_compute_cifar,
        datasets=lambda cfg: {"cifar10": cfg["cifar_train_size"]},
        cells=lambda cfg: cells(cfg["cifar_noise_levels"]),
        dims=_DIMS,
        work=_cifar_work,
        memory=_cifar_memory,
    ),
)


def levels(cfg, dataset):
    return cfg["noise_levels"] if dataset == "mnist" else cfg["cifar_noise_levels"]


def seeds_of(cfg, dataset):
    return cfg["seeds"] if dataset == "mnist" else cfg["cifar_seeds"]


def measured_epochs(cfg, dataset):
    if dataset == "mnist":
        return csr_epochs(cfg["epochs"], cfg["csr_points"])
    return csr_epochs(cfg["cifar_epochs"], cfg["cifar_csr_points"])


def curves(results, dataset, kind, level, name):
    """Array ``name`` of one dataset (``kind`` 'real' or a noise kind at ``level``), seeds that diverged as nan."""
    cell = dict(noise="real", level=0.0) if kind == "real" or level == 0 else dict(noise=kind, level=level)
    return results.sel_finite(dataset, name, **cell)


def found_at_half_limit(results, cfg, dataset, kind, level):
    """Share of the critical samples of the last measurement (all seeds) that half the LASS iterations find:
    near 1 when the limit suffices."""
    found = curves(results, dataset, kind, level, "found_by_iteration")[:, -1]  # (seed, iteration)
    half = max(cfg["lass_iterations"] // 2, 1)
    total = np.nansum(found[:, -1])
    return float(np.nansum(found[:, half - 1]) / total) if total > 0 else 1.0


def settings_run(cfg, dataset):
    """(kind, level) of every cell of ``dataset``: the real data first."""
    return [("real", 0.0)] + [(k, lvl) for k in NOISE_KINDS for lvl in levels(cfg, dataset)]


def last_csr(results, cfg, dataset, kind, level):
    """The last measured validation CSR per seed, and each seed's binomial standard error."""
    last = curves(results, dataset, kind, level, "csr")[:, -1]
    return last, _binomial_se(last, cfg["val_size"] if dataset == "mnist" else cfg["cifar_val_size"])


def _binomial_se(csr, n):
    return np.sqrt(np.clip(csr * (1 - csr), 0, None) / n)


# --- Claims, registered before the results (memo_utils.framework.claims) ------------------------------------
# A network group is a dataset and a setting: the real data, a noise kind at the grid's highest level below 100%
# (Figures 7 and 8: the paper's grid runs 20% to 80%), or all inputs or labels random (Figure 9).

PARTIAL, ALL = "partial", "all"
NETWORKS = {
    "mnist real": "MNIST MLPs, real data",
    **{
        f"mnist {k}": f"MNIST MLPs, {k} at the grid's highest level below 100% (Figure 7; the paper's: 80%)"
        for k in NOISE_KINDS
    },
    "cifar real": "CIFAR-10 CNNs, real data",
    **{
        f"cifar {k}": f"CIFAR-10 CNNs, {k} at the grid's highest level below 100% (Figure 8; the paper's: 80%)"
        for k in NOISE_KINDS
    },
    **{
        f"cifar {k} 100%": f"CIFAR-10 CNNs, {k} with all {'inputs' if k == 'randX' else 'labels'} random (Figure 9)"
        for k in NOISE_KINDS
    },
}
SETTINGS = {
    "mnist real": ("mnist", "real", None),
    "cifar real": ("cifar", "real", None),
    **{f"{d} {k}": (d, k, PARTIAL) for d in DATASETS for k in NOISE_KINDS},
    **{f"cifar {k} 100%": ("cifar", k, ALL) for k in NOISE_KINDS},
}
CHANCE = 0.1
# best validation accuracy halfway from chance to the paper's network's: LeCun et al. (1998), the MNIST source the
# paper cites, report 97% for a 2-hidden-layer MLP (smaller than the paper's); Zhang et al. (2017), whose small
# AlexNet the paper uses (footnote 2), report 76% on CIFAR-10 without regularizers
PAPER_ACCURACY = {"mnist": 0.97, "cifar": 0.76}
LEARNED = {d: round(CHANCE + (a - CHANCE) / 2, 3) for d, a in PAPER_ACCURACY.items()}
FITTED = (
    0.9  # real-data training accuracy: footnote 5's fall comes once the network "learns to classify them correctly"
)
MEMORISED = 0.5  # share of what only memorisation can fit (the noisy examples beyond chance) that a noise network fits
CONVERGED_SHARE = 0.9  # LASS has converged when half the iterations already find this share of the critical samples
MORE = 0.25  # relative excess of CSR that counts as "higher" ("much higher", "greatly increases")
MORE_BOUNDED = 0.2  # the same (1 - 1/1.25) as (after - before) / max(before, after), which is defined where CSR is 0
BOUNDED = (
    "where a CSR can be 0 (an untrained network that predicts one class has none, and a fitted training set "
    "few), a rise is measured as (after - before) / max(before, after), in [-1, 1]; the ratio over 0 was "
    "infinite for one seed in the first cpu run, which left it out"
)
ACCURACY_STEP = 0.02  # accuracy differences below two points do not show on the figures' 0-1 accuracy axes
FIT_RISE = 0.05  # training accuracy gained after the validation peak: "before achieving high accuracy on training"
MEMORISING = (
    "the paper trains to convergence (section 2: 1,000 epochs; the CNNs as Zhang et al., who fit noise "
    "completely), so its noise networks have memorised their noise; a network counts as memorising once it "
    "fits at least half of what only memorisation can fit (as in the loss-sensitivity chapter)"
)
LASS_REASON = (
    "Algorithm 1 searches until the prediction changes; if the second half of the iterations still found more "
    "than a tenth of the critical samples, more would find more, and CSR would be undercounted"
)
PRECONDITIONS = (
    *(
        Precondition(
            f"{d}-learned",
            (f"{d} real",),
            f"real-data {DATASETS[d]} networks: best validation accuracy, mean over seeds",
            LEARNED[d],
            f"the claims contrast networks that learned real patterns with networks that fit noise: halfway from "
            f"chance (0.1) to the {PAPER_ACCURACY[d]:.0%} of "
            + (
                "a 2-hidden-layer MLP in LeCun et al. (1998), the MNIST source the paper cites"
                if d == "mnist"
                else "the paper's small AlexNet (footnote 2) in Zhang et al. (2017), Table 1"
            ),
        )
        for d in DATASETS
    ),
    *(
        Precondition(
            f"{d}-fitted",
            (f"{d} real",),
            f"real-data {DATASETS[d]} networks: final training accuracy, mean over seeds",
            FITTED,
            "the paper's networks fit their training sets (trained to convergence), and footnote 5's fall of the "
            "training-set CSR comes once the network 'learns to classify them correctly': nine in ten",
        )
        for d in DATASETS
    ),
    *(
        Precondition(
            f"{name.replace(' ', '-').replace('%', '')}-memorised",
            (name,),
            f"{NETWORKS[name]}: share of the noisy examples fitted beyond chance, (final training accuracy - "
            f"(1 - level) - 0.1 level) / (0.9 level), mean over seeds",
            MEMORISED,
            MEMORISING,
        )
        for name, (_, kind, _) in SETTINGS.items()
        if kind != "real"
    ),
    *(
        Precondition(
            f"{d}-lass-converged",
            tuple(n for n, s in SETTINGS.items() if s[0] == d),
            f"{DATASETS[d]}: share of the critical samples of the last CSR measurement (seeds pooled) that half "
            f"of LASS's iterations already find, lowest over the settings run",
            CONVERGED_SHARE,
            LASS_REASON,
        )
        for d in DATASETS
    ),
)
SEEDS = (
    "seeds, paired: a seed fixes initialisation, data order and noise, and the models of one seed search with the "
    "same LASS noise in every setting"
)
MORE_REASON = (
    "the paper reads CSR on linear axes from 0 and calls the noise data's 'much higher' (Sec. 4.2); a quarter "
    "more critical samples is the least we read as higher"
)
ACCURACY_REASON = "two points of accuracy: smaller differences do not show on Figures 7 and 8's 0-1 accuracy axes"


def _csr_noise(d, kind, location, quote, network):
    return Definition(
        f"arpit2017-csr-noise-{'grid-' if network == f'cifar {kind}' else ''}{d}-{kind}",
        "arpit2017",
        location,
        quote,
        f"Validation CSR is higher for {NETWORKS[network]} than for real data, throughout training.",
        (
            above(
                f"mean validation CSR over the measured epochs after 0, {kind} over real data, minus 1, per seed",
                MORE,
                MORE_REASON,
            ),
        ),
        SEEDS,
        (f"{d} real", network),
    )


def _accuracy_drop(d, kind):
    return Definition(
        f"arpit2017-val-accuracy-noise-{d}-{kind}",
        "arpit2017",
        f"Sec. 4.2, Fig. {7 if d == 'mnist' else 8}",
        "The final and maximum validation accuracies are also both lower for noisier datasets",
        f"Best and final validation accuracy are lower for {NETWORKS[f'{d} {kind}']} than for real data.",
        (
            above("best validation accuracy, real minus noisy, per seed", ACCURACY_STEP, ACCURACY_REASON),
            above("final validation accuracy, real minus noisy, per seed", ACCURACY_STEP, ACCURACY_REASON),
        ),
        SEEDS,
        (f"{d} real", f"{d} {kind}"),
    )


def _peak(d):
    return Definition(
        f"arpit2017-randY-peak-{d}",
        "arpit2017",
        f"Sec. 4.2, Fig. {7 if d == 'mnist' else 8}b",
        "the network achieves maximum accuracy on the validation set before achieving high accuracy on the training "
        "set ... as the model moves from fitting real data to fitting noise, the CSR greatly increases",
        f"With label noise ({DATASETS[d]}), validation accuracy peaks before training accuracy is high, then falls, "
        f"while CSR rises.",
        (
            above(
                "validation accuracy at its peak minus at the end, per seed",
                ACCURACY_STEP,
                ACCURACY_REASON + " (the fall from a maximum is never negative, so it needs one)",
            ),
            above(
                "training accuracy at the end minus at the validation peak, per seed",
                FIT_RISE,
                "'before achieving high accuracy on the training set': five points of training accuracy gained after "
                "the peak, more than the last of the real data would give",
            ),
            above(
                "validation CSR at the end over at the last measurement at or before the peak, minus 1, per seed",
                MORE,
                "'the CSR greatly increases': at least the quarter we read as higher",
            ),
        ),
        SEEDS,
        (f"{d} randY",),
    )


def _grows(kind):
    network = "cifar real" if kind == "real" else f"cifar {kind} 100%"
    return Definition(
        f"arpit2017-csr-grows-cifar-{kind}",
        "arpit2017",
        "Sec. 4.2, Fig. 9",
        "the CSR increases gradually with increasing number of epochs and then stabilizes ... for all three datasets",
        f"Validation CSR grows from before training to the end, and changes little over the second half of training "
        f"({NETWORKS[network]}).",
        (
            above(
                "validation CSR's rise from before training (epoch 0) to the last epoch, (last - first) / max(first, "
                "last), per seed",
                MORE_BOUNDED,
                "'increases gradually': at least the quarter we read as higher (last >= 1.25 first)",
            ),
            within(
                "validation CSR at the last epoch over at the measured epoch nearest half the epochs, minus 1, per "
                "seed",
                -MORE,
                MORE,
                "'then stabilizes': over the second half of training CSR changes by less than the "
                "quarter we read as higher",
            ),
        ),
        SEEDS,
        (network,),
        amendment="the rise from epoch 0 was a ratio over epoch 0's CSR; " + BOUNDED,
    )


CLAIMS = (
    *(
        _csr_noise(
            "mnist",
            k,
            "Sec. 4.2, Fig. 7",
            "For both randX and randY datasets, the CSR is higher for noisier datasets",
            f"mnist {k}",
        )
        for k in NOISE_KINDS
    ),
    *(_accuracy_drop("mnist", k) for k in NOISE_KINDS),
    _peak("mnist"),
    *(
        _csr_noise(
            "cifar",
            k,
            "Sec. 4.2, Fig. 8",
            "For both randX and randY datasets, the CSR is higher for noisier datasets",
            f"cifar {k}",
        )
        for k in NOISE_KINDS
    ),
    *(_accuracy_drop("cifar", k) for k in NOISE_KINDS),
    _peak("cifar"),
    *(
        _csr_noise(
            "cifar",
            k,
            "Sec. 4.2, Fig. 9",
            "A higher number of critical samples for models trained on noise "
            "data compared with those trained on real data",
            f"cifar {k} 100%",
        )
        for k in NOISE_KINDS
    ),
    *(_grows(k) for k in ("real", *NOISE_KINDS)),
    Definition(
        "arpit2017-train-csr-rises-falls-cifar",
        "arpit2017",
        "Sec. 4.2, footnote 5",
        "We also measure the number of critical samples in the training sets ... This leads to an initial rise and "
        "then fall of the number of critical samples in the training sets",
        "The training-set CSR rises from before training to a peak, then falls (real data, CIFAR-10).",
        (
            above(
                "training-set CSR's rise from epoch 0 to the peak of the seeds' mean (an epoch between the first "
                "and the last), (peak - first) / max(first, peak), per seed",
                MORE_BOUNDED,
                "'an initial rise': at least the quarter we read as higher (peak >= 1.25 first)",
            ),
            above(
                "its fall from that peak to the end, (peak - last) / max(peak, last), per seed",
                MORE_BOUNDED,
                "'then fall': at least a quarter more at the peak than at the end (peak >= 1.25 last)",
            ),
        ),
        SEEDS,
        ("cifar real",),
        amendment="the rise and fall were ratios over epoch 0's and the end's CSR; " + BOUNDED,
    ),
)


def _level(cfg, dataset, which):
    """The noise level of a network group: the grid's highest below 100% (PARTIAL) or 100% (ALL); None if not run."""
    run = [lvl for lvl in levels(cfg, dataset) if (lvl < 1 if which == PARTIAL else lvl == 1)]
    return max(run) if run else None


def _level_of(cfg, network):
    dataset, kind, which = SETTINGS[network]
    return 0.0 if kind == "real" else _level(cfg, dataset, which)


def _group(results, cfg, network, name):
    """Array ``name`` (seed first) of a network group, or None where its level was not run."""
    dataset, kind, _ = SETTINGS[network]
    level = _level_of(cfg, network)
    return None if level is None else curves(results, dataset, kind, level, name)


def _memorised(results, cfg, network):
    """Share of the noisy examples fitted beyond chance, mean over seeds (nan where not run)."""
    train, level = _group(results, cfg, network, "train_accuracy"), _level_of(cfg, network)
    if train is None:
        return float("nan")
    return float(np.nanmean((train[:, -1] - (1 - level) - CHANCE * level) / ((1 - CHANCE) * level)))


def _conditions(results, cfg):
    out = {}
    for d in DATASETS:
        out[f"{d}-learned"] = float(np.nanmean(np.nanmax(curves(results, d, "real", 0, "val_accuracy"), -1)))
        out[f"{d}-fitted"] = float(np.nanmean(curves(results, d, "real", 0, "train_accuracy")[:, -1]))
        out[f"{d}-lass-converged"] = min(
            found_at_half_limit(results, cfg, d, k, lvl) for k, lvl in settings_run(cfg, d)
        )
    for name, (_, kind, _) in SETTINGS.items():
        if kind != "real":
            out[f"{name.replace(' ', '-').replace('%', '')}-memorised"] = _memorised(results, cfg, name)
    return out


def relative_rise(before, after):
    """(after - before) / max(before, after) per seed, in [-1, 1] (0 where both are 0): above 1 - 1/1.25 exactly where
    after >= 1.25 before, and defined where a CSR is 0."""
    before, after = np.asarray(before, float), np.asarray(after, float)
    larger = np.maximum(before, after)
    return np.where(larger > 0, (after - before) / np.where(larger > 0, larger, 1), 0.0)


def _after_training_starts(results, cfg, network, dataset):
    """Validation CSR per seed, averaged over the measured epochs after 0 (before training every setting of a seed
    starts from the same network)."""
    csr = _group(results, cfg, network, "csr")
    return np.nanmean(csr[:, np.array(measured_epochs(cfg, dataset)) > 0], -1)


def _csr_noise_evidence(results, cfg, definition):
    real, noisy = definition.networks
    dataset = SETTINGS[real][0]
    if _group(results, cfg, noisy, "csr") is None:
        return (NOT_MEASURED,), "not run at this profile"
    r, n = (_after_training_starts(results, cfg, net, dataset) for net in (real, noisy))
    return (across(n / r - 1),), (
        f"{NETWORKS[noisy]} at {_level_of(cfg, noisy):.0%}: mean validation CSR after "
        f"epoch 0 (mean over seeds) real {np.nanmean(r):.4f}, noisy {np.nanmean(n):.4f}"
    )


def _accuracy_evidence(results, cfg, definition):
    real, noisy = definition.networks
    if _group(results, cfg, noisy, "val_accuracy") is None:
        return (NOT_MEASURED, NOT_MEASURED), "not run at this profile"
    r, n = (_group(results, cfg, net, "val_accuracy") for net in (real, noisy))
    return (
        (across(np.nanmax(r, -1) - np.nanmax(n, -1)), across(r[:, -1] - n[:, -1])),
        f"at {_level_of(cfg, noisy):.0%}: best validation accuracy real {np.nanmean(np.nanmax(r, -1)):.3f}, noisy "
        f"{np.nanmean(np.nanmax(n, -1)):.3f}; final real {np.nanmean(r[:, -1]):.3f}, noisy {np.nanmean(n[:, -1]):.3f}",
    )


def _peak_evidence(results, cfg, definition):
    (network,) = definition.networks
    dataset = SETTINGS[network][0]
    val, train, csr = (_group(results, cfg, network, n) for n in ("val_accuracy", "train_accuracy", "csr"))
    if val is None:
        return (NOT_MEASURED,) * 3, "no label-noise level below 100% was run"
    measured = np.array(measured_epochs(cfg, dataset))
    peak = np.argmax(np.nan_to_num(val, nan=-1), -1)  # per seed; the epoch, since accuracy starts at epoch 0
    rows = np.arange(len(peak))
    at_peak = np.array([np.flatnonzero(measured <= p)[-1] for p in peak])
    return (
        (
            across(val[rows, peak] - val[:, -1]),
            across(train[:, -1] - train[rows, peak]),
            across(csr[:, -1] / csr[rows, at_peak] - 1),
        ),
        f"at {_level_of(cfg, network):.0%} randY: validation peak at epochs {peak.tolist()}; CSR at epochs "
        f"{measured.tolist()} (mean over seeds): " + ", ".join(f"{v:.4f}" for v in np.nanmean(csr, 0)),
    )


def _grows_evidence(results, cfg, definition):
    (network,) = definition.networks
    csr = _group(results, cfg, network, "csr")
    if csr is None:
        return (NOT_MEASURED, NOT_MEASURED), "not run at this profile"
    measured = np.array(measured_epochs(cfg, "cifar"))
    mid = int(np.argmin(np.abs(measured - cfg["cifar_epochs"] / 2)))
    return (
        (across(relative_rise(csr[:, 0], csr[:, -1])), across(csr[:, -1] / csr[:, mid] - 1)),
        f"CSR at epochs {measured.tolist()} (mean over seeds): "
        + ", ".join(f"{v:.3f}" for v in np.nanmean(csr, 0))
        + f"; middle epoch {measured[mid]}",
    )


def _train_csr_evidence(results, cfg, definition):
    train_csr = _group(results, cfg, "cifar real", "train_csr")
    measured = measured_epochs(cfg, "cifar")
    if train_csr.shape[1] < 3:
        return (NOT_MEASURED, NOT_MEASURED), "fewer than 3 measurements"
    peak = 1 + int(np.nanargmax(np.nanmean(train_csr[:, 1:-1], 0)))
    return (
        (
            across(relative_rise(train_csr[:, 0], train_csr[:, peak])),
            across(relative_rise(train_csr[:, -1], train_csr[:, peak])),
        ),
        f"training-set CSR at epochs {measured} (mean over seeds, {cfg['cifar_train_csr_size']} examples): "
        + ", ".join(f"{v:.3f}" for v in np.nanmean(train_csr, 0))
        + f"; peak at epoch {measured[peak]}",
    )


def _evidence_of(definition):
    if "csr-noise" in definition.id:
        return _csr_noise_evidence
    if "val-accuracy" in definition.id:
        return _accuracy_evidence
    if "peak" in definition.id:
        return _peak_evidence
    return _grows_evidence if "grows" in definition.id else _train_csr_evidence


def evidence(results, cfg):
    """Each claim's estimates across seeds, and the preconditions of every network group."""
    estimates, measured = {}, {}
    for definition in CLAIMS:
        estimates[definition.id], measured[definition.id] = _evidence_of(definition)(results, cfg, definition)
    return Evidence(_conditions(results, cfg), estimates, measured)


CHAPTER = Chapter(
    "critical_sample_ratio",
    paper="arpit2017",
    params=PARAMS,
    parts=PARTS,
    claims=CLAIMS,
    evidence=evidence,
    networks=NETWORKS,
    preconditions=PRECONDITIONS,
    check=_check,
)
