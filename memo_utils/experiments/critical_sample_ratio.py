"""Arpit et al. 2017, section 4: the critical sample ratio (CSR) through training (Figures 7-9).

Part ``mnist`` (Figure 7) has one cell per dataset: the real data, and each noise kind (randX,
randY) at each level. The 2-layer MLPs of a cell, one per seed, train as one batched ensemble
(:func:`memo_utils.ensemble.train_ensemble`); after every epoch we record the training accuracy
(on the noisy data a model fits) and the clean validation accuracy, and at a few log-spaced
epochs the validation CSR, found by LASS (:mod:`memo_utils.lass`) batched over the ensemble.
Part ``cifar`` (Figures 8-9) does the same with the small AlexNet-style CNN, one seed at a time,
and also measures the CSR of a subset of the training set (footnote 5).
"""
from __future__ import annotations

import math

import numpy as np
import torch

from .. import data, lass, profiles, seeds
from ..chapter import Chapter, Param, Part
from ..claims import Evidence  # issue 26: the claims below are being re-registered
from ..ensemble import MLPEnsemble, train_ensemble
from ..errors import ConfigError
from ..models import SmallAlexNet, small_alexnet_macs
from ..training import accuracy, train_classifier

NOISE_KINDS = ("randX", "randY")
DATASETS = {"mnist": "MNIST", "cifar": "CIFAR-10"}
LEARNED = {"mnist": 0.85, "cifar": 0.3}  # best validation accuracy that shows the real-data models learned (chance: 0.1)
FITTED = 0.9  # training accuracy after which training points are mostly classified correctly (footnote 5)
SETTLED = 0.99  # training accuracy after which training has converged, so that CSR can have levelled off
BEGUN_TO_FIT = 0.25  # a randY model has begun to fit the noise: training accuracy >= clean part + 25% of noisy part
PEAK_FALL, FIT_RISE = 0.02, 0.05  # margins of the randY peak claim: validation falls, training accuracy rises
CONVERGED_SHARE = 0.9  # LASS has converged when half the iterations already find this share of the critical samples
RESOLUTION = 0.25  # a failing CSR test is inconclusive where one seed's binomial SE of the difference exceeds this
#                    fraction of the real data's CSR (too few images to resolve a 50% rise at 2 SE)
CHUNK = 1000  # examples per LASS call (bounds memory; the noise is drawn per chunk)

SCALED = "scaled down to fit the profile's time budget"
PARAMS = (
    Param("train_size", profiles.positive_int, 50000, paper="MNIST training set", parts=("mnist",),
          by_profile={"smoke": 400, "cpu": 2000},
          note=SCALED + "; cpu: the first 2,000 images of the bundled sample"),
    Param("val_size", profiles.positive_int, 10000, paper="not stated (the validation set)", parts=("mnist",),
          by_profile={"smoke": 200, "cpu": 2000},
          note="clean images, the last of the source's training set, never trained on; CSR is measured on all of them"),
    Param("hidden", profiles.positive_int, 4096, paper="4096", parts=("mnist",), by_profile={"smoke": 32, "cpu": 256},
          note=SCALED),
    Param("noise_levels", profiles.fraction_list, [0.2, 0.4, 0.6, 0.8], paper="20% to 80%", parts=("mnist",),
          by_profile={"smoke": [0.8], "cpu": [0.4, 0.8]},
          note="fraction of training inputs (randX) or labels (randY) replaced; the real data (0%) is always run"),
    Param("epochs", profiles.positive_int, 100, paper="not stated (1000 in section 2)", parts=("mnist",),
          by_profile={"smoke": 2, "cpu": 25, "paper": 1000},
          note=SCALED + "; cpu: long enough for the MLPs to start fitting 80% random labels"),
    Param("batch_size", profiles.positive_int, 32, paper="not stated", parts=("mnist",), by_profile={"cpu": 16},
          note="not stated; 32 as in the other MNIST chapters; cpu: 16, for more steps per epoch on 2,000 examples"),
    Param("lr", profiles.positive_float, 0.01, paper="0.01 (SGD)", parts=("mnist",)),
    Param("seeds", profiles.seed_list, [0, 1, 2], paper="not stated (one run per curve)", parts=("mnist", "cifar"),
          by_profile={"smoke": [0, 1]},
          note="the replicates: each claim's interval is across seeds; a seed fixes initialisation, order and noise"),
    Param("csr_points", profiles.positive_int, 8, paper="every epoch", parts=("mnist",),
          by_profile={"smoke": 2, "cpu": 6},
          note="epochs (log-spaced from the first to the last) at which CSR is measured: LASS is the expensive part"),
    Param("lass_radius", profiles.positive_float, lass.PAPER_RADIUS, paper="0.3 (footnote 6)", parts=("mnist", "cifar"),
          note="r on the 0-255 pixel scale, converted to the models' standardised units as r / (255 std)"),
    Param("lass_alpha", profiles.positive_float, lass.PAPER_ALPHA, paper="0.25 (footnote 4)", parts=("mnist", "cifar"),
          note="the sign-gradient step on the 0-255 scale"),
    Param("lass_beta", profiles.non_negative_float, lass.PAPER_BETA, paper="0.2 (footnote 4)", parts=("mnist", "cifar"),
          note="the Langevin noise's standard deviation on the 0-255 scale"),
    Param("lass_iterations", profiles.positive_int, 30, paper="not stated", parts=("mnist", "cifar"),
          by_profile={"smoke": 5, "cpu": 8},
          note="the maximum per example; the chapter shows CSR against it, to check that it suffices"),
    Param("cifar_train_size", profiles.positive_int, 50000, paper="CIFAR-10 training set (50,000)", parts=("cifar",),
          by_profile={"smoke": 256, "cpu": 3000},
          note="cpu: the exact first 3,000 images; gpu: all 50,000 (the JPEG copy unless torchvision's download is "
               "available)"),
    Param("cifar_val_size", profiles.positive_int, 5000, paper="not stated", parts=("cifar",),
          by_profile={"smoke": 128, "cpu": 1000},
          note="the first images of the source's held-out split: cpu: the bundled sample's 1,000 (training images "
               "3,001-4,000, exact); gpu: the first 5,000 test images"),
    Param("cifar_width", profiles.positive_int, 200, paper="200", parts=("cifar",),
          by_profile={"smoke": 4, "cpu": 8, "gpu": 64}, note="convolution channels; " + SCALED),
    Param("cifar_noise_levels", profiles.fraction_list, [0.2, 0.4, 0.6, 0.8, 1.0],
          paper="20% to 80% (Figure 8) and 100% (Figure 9)", parts=("cifar",),
          by_profile={"smoke": [1.0], "cpu": [1.0]},
          note="the real data is always run; cpu: Figure 9's 100% only, the noise grid of Figure 8 is the gpu profile's"),
    Param("cifar_epochs", profiles.positive_int, 30, paper="not stated", parts=("cifar",),
          by_profile={"smoke": 1, "cpu": 12, "paper": 100}, note=SCALED),
    Param("cifar_csr_points", profiles.positive_int, 8, paper="every epoch", parts=("cifar",),
          by_profile={"smoke": 2, "cpu": 4}, note="as csr_points, for the CNNs, whose searches cost far more"),
    Param("cifar_train_csr_size", profiles.positive_int, 5000, paper="the training set (footnote 5)",
          parts=("cifar",), by_profile={"smoke": 64, "cpu": 300},
          note="training examples (the first ones) whose CSR is measured, for footnote 5"),
)


def _check(cfg):
    for name in ("noise_levels", "cifar_noise_levels"):
        if 0 in cfg[name]:
            raise ConfigError(f"{name}={cfg[name]} is not allowed: levels must be above 0 (the real data is always run)")
        cfg[name] = sorted(set(cfg[name]))
    if cfg["cifar_train_csr_size"] > cfg["cifar_train_size"]:
        raise ConfigError(f"cifar_train_csr_size={cfg['cifar_train_csr_size']} is not allowed: must be at most "
                          f"cifar_train_size={cfg['cifar_train_size']}")


def csr_epochs(epochs, points):
    """The epochs at which CSR is measured: ``points`` log-spaced epochs from 1 to ``epochs``, without repeats."""
    return sorted({int(round(e)) for e in np.geomspace(1, epochs, max(points, 1))} | {epochs})


def cells(levels):
    """The real data, then each noise kind at each level."""
    return [{"noise": "real", "level": 0.0}] + [{"noise": k, "level": lvl} for k in NOISE_KINDS for lvl in levels]


def _split(x_train, x_val):
    """Standardise by the training images' mean and std; return them (on the [0, 1] scale) for LASS's units."""
    mean, std = float(x_train.mean()), float(x_train.std())
    return (x_train - mean) / std, (x_val - mean) / std, {"pixel_mean": mean, "pixel_std": std}


def _lass_settings(cfg, pixels):
    return dict(radius=cfg["lass_radius"], alpha=cfg["lass_alpha"], beta=cfg["lass_beta"],
                max_iter=cfg["lass_iterations"], chunk=CHUNK, **pixels)


def _corrupted(x, y, cell, seed):
    if cell["noise"] == "real":
        return x, y
    generator = torch.Generator().manual_seed(seeds.noise(seed))
    x, y, _ = data.corrupt(x, y, kind=cell["noise"], fraction=cell["level"], generator=generator)
    return x, y


def _record(arrays, cfg, measured):
    """Stack per-seed records into the cell's arrays."""
    out = {"seed": np.array(cfg["seeds"]), "csr_epoch": np.array(measured)}
    for name, values in arrays.items():
        out[name] = np.array(values)
    return out


def _compute_mnist(cfg, cell, inputs, device):
    mnist, n, n_val = inputs["mnist"], cfg["train_size"], cfg["val_size"]
    x, x_val, pixels = _split(data.to_tensor(mnist.x_train[:n], device).flatten(1),
                              data.to_tensor(mnist.x_train[-n_val:], device).flatten(1))
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
        epoch = len(train_acc) + 1
        train_acc.append((ens.predict(xs) == ys).float().mean(-1).cpu().numpy())
        val_acc.append((ens.predict(x_val) == y_val).float().mean(-1).cpu().numpy())
        if epoch in measured:
            flipped = lass.search(ens.forward, x_val.expand(ens.k, -1, -1), example_dim=1,
                                  seed=seeds.lass_noise(epoch), **settings)
            by_iteration.append(lass.found_by_iteration(flipped, cfg["lass_iterations"]).cpu().numpy())
            csr.append(by_iteration[-1][:, -1])

    per_epoch = math.ceil(n / cfg["batch_size"])
    finite = train_ensemble(ensemble, xs, ys, order_seeds=run_seeds, epochs=cfg["epochs"],
                            batch_size=cfg["batch_size"], lr=cfg["lr"],
                            checkpoints=[per_epoch * (e + 1) for e in range(cfg["epochs"])], callback=evaluate)
    return _record({"train_accuracy": np.stack(train_acc, -1), "val_accuracy": np.stack(val_acc, -1),
                    "csr": np.stack(csr, -1), "found_by_iteration": np.stack(by_iteration, 1),
                    "finite": finite.cpu().numpy()}, cfg, measured)


def _compute_cifar(cfg, cell, inputs, device):
    """One CNN per seed, trained on the cell's data; CSR on the validation set and on training examples."""
    cifar, n, n_val = inputs["cifar10"], cfg["cifar_train_size"], cfg["cifar_val_size"]
    if len(cifar.x_test) < n_val:
        raise ConfigError(f"cifar_val_size={n_val} is not allowed: the data source holds {len(cifar.x_test)} held-out "
                          f"images")
    x, x_val, pixels = _split(data.to_tensor(cifar.x_train[:n], device), data.to_tensor(cifar.x_test[:n_val], device))
    y = torch.as_tensor(cifar.y_train[:n], dtype=torch.long, device=device)
    y_val = torch.as_tensor(cifar.y_test[:n_val], dtype=torch.long, device=device)
    measured = csr_epochs(cfg["cifar_epochs"], cfg["cifar_csr_points"])
    settings = _lass_settings(cfg, pixels)
    records = {name: [] for name in ("train_accuracy", "val_accuracy", "csr", "train_csr", "found_by_iteration",
                                     "finite")}
    for seed in cfg["seeds"]:
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
                seen["found_by_iteration"].append(lass.found_by_iteration(flipped, cfg["lass_iterations"]).cpu().numpy())
                seen["csr"].append(seen["found_by_iteration"][-1][-1])
                train_flipped = lass.search(m, x_csr, seed=seeds.lass_noise(epoch, on_training_set=True), **settings)
                seen["train_csr"].append(float((train_flipped > 0).float().mean()))

        _, finite = train_classifier(model, xk, yk, epochs=cfg["cifar_epochs"], batch_size=128, lr=0.01, seed=seed,
                                     callback=evaluate)
        for name, values in seen.items():
            records[name].append(values)
        records["finite"].append(finite)
    return _record(records, cfg, measured)


def _mlp_params(h):
    return 784 * h + h * h + 10 * h


def _mnist_work(cfg, cell):
    search = len(csr_epochs(cfg["epochs"], cfg["csr_points"])) * cfg["val_size"] * cfg["lass_iterations"]
    return len(cfg["seeds"]) * _mlp_params(cfg["hidden"]) * (cfg["epochs"] * cfg["train_size"] + search)


def _cifar_work(cfg, cell):
    search = len(csr_epochs(cfg["cifar_epochs"], cfg["cifar_csr_points"])) * cfg["lass_iterations"] * (
        cfg["cifar_val_size"] + cfg["cifar_train_csr_size"])
    return len(cfg["seeds"]) * small_alexnet_macs(cfg["cifar_width"]) * (
        cfg["cifar_epochs"] * cfg["cifar_train_size"] + search)


_DIMS = {"train_accuracy": ("seed", "epoch"), "val_accuracy": ("seed", "epoch"), "csr": ("seed", "csr_epoch"),
         "train_csr": ("seed", "csr_epoch"), "found_by_iteration": ("seed", "csr_epoch", "iteration"),
         "finite": ("seed",)}
PARTS = (
    Part("mnist", version=1, compute=_compute_mnist,
         datasets=lambda cfg: {"mnist": cfg["train_size"] + cfg["val_size"]},
         cells=lambda cfg: cells(cfg["noise_levels"]), dims=_DIMS, work=_mnist_work),
    Part("cifar", version=1, compute=_compute_cifar,
         datasets=lambda cfg: {"cifar10": cfg["cifar_train_size"]},
         cells=lambda cfg: cells(cfg["cifar_noise_levels"]), dims=_DIMS, work=_cifar_work),
)


def levels(cfg, dataset):
    return cfg["noise_levels"] if dataset == "mnist" else cfg["cifar_noise_levels"]


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


def _common(results, cfg, dataset):
    return dict(paper="arpit2017", profile=cfg["profile"], seeds=list(cfg["seeds"]),
                data=", ".join(results.data_labels()[dataset]),
                replicate=f"seeds ({len(cfg['seeds'])}), paired: a seed fixes initialisation, data order and noise; "
                          f"the models of one seed search with the same LASS noise in every dataset")


def _learned(results, dataset):
    best = np.nanmax(curves(results, dataset, "real", 0, "val_accuracy"), -1)
    return float(np.nanmin(best)), f"real-data models learned {DATASETS[dataset]}: best validation accuracy >= " \
                                   f"{LEARNED[dataset]:.0%} (lowest {np.nanmin(best):.3f})"


def _binomial_se(csr, n):
    return np.sqrt(np.clip(csr * (1 - csr), 0, None) / n)


def _csr_claims(results, cfg, dataset, common):
    n_val = cfg["val_size"] if dataset == "mnist" else cfg["cifar_val_size"]
    figure = "Fig. 7" if dataset == "mnist" else "Figs. 8-9"
    lowest, learned = _learned(results, dataset)
    out = []
    for kind in NOISE_KINDS:
        top = levels(cfg, dataset)[-1]
        real, noisy = (curves(results, dataset, k, top, "csr") for k in ("real", kind))  # (seed, csr_epoch)
        difference = np.nanmean(noisy - real, -1)
        se = float(np.nanmean(np.sqrt(_binomial_se(real, n_val) ** 2 + _binomial_se(noisy, n_val) ** 2)))
        resolvable = se <= RESOLUTION * float(np.nanmean(real))
        converged = min(found_at_half_limit(results, cfg, dataset, k, top) for k in ("real", kind))
        test = exceeds(difference)
        out.append(from_test(
            test, id=f"arpit2017-csr-noise-{dataset}-{kind}", figure=figure,
            statement=f"CSR is higher for noisier data ({kind}), throughout training, on {DATASETS[dataset]}.",
            effect=f"validation CSR at {top:.0%} {kind} minus on real data, mean over the measured epochs",
            threshold="95% interval above 0",
            precondition=f"{learned}; LASS converged: half of its {cfg['lass_iterations']} iterations find >= "
                         f"{CONVERGED_SHARE:.0%} of the critical samples ({converged:.1%}); a failing test only counts "
                         f"where {n_val} validation images resolve the "
                         f"difference: binomial SE of one seed's difference ({se:.4f}) at most {RESOLUTION} x the real "
                         f"data's CSR ({RESOLUTION * float(np.nanmean(real)):.4f})",
            measured=f"difference per measured epoch {measured_epochs(cfg, dataset)} (mean over seeds): "
                     + ", ".join(f"{d:+.4f}" for d in np.nanmean(noisy - real, 0))
                     + "; validation CSR (mean over seeds and epochs) per level: " + ", ".join(
                f"{lvl:.0%}: {np.nanmean(curves(results, dataset, kind, lvl, 'csr')):.4f}" for lvl in [0.0, *levels(
                    cfg, dataset)]),
            at_scale=lowest >= LEARNED[dataset] and converged >= CONVERGED_SHARE and (test.passed or resolvable),
            **common))
    return out


def _accuracy_claims(results, cfg, dataset, common):
    lowest, learned = _learned(results, dataset)
    out = []
    for kind in NOISE_KINDS:
        top = levels(cfg, dataset)[-1]
        real, noisy = (curves(results, dataset, k, top, "val_accuracy") for k in ("real", kind))
        best, final = exceeds(np.nanmax(real, -1) - np.nanmax(noisy, -1)), exceeds(real[:, -1] - noisy[:, -1])
        out.append(from_test(
            all_of(best, final), id=f"arpit2017-val-accuracy-noise-{dataset}-{kind}",
            figure="Fig. 7" if dataset == "mnist" else "Fig. 8",
            statement=f"Final and best validation accuracy are lower for noisier data ({kind}, {DATASETS[dataset]}).",
            effect=f"the smaller of the drops in best and in final validation accuracy, real data minus {top:.0%} {kind}",
            threshold="both 95% intervals above 0", precondition=learned,
            measured=f"drops: best {best}, final {final}", at_scale=lowest >= LEARNED[dataset], **common))
    return out


def _peak_claim(results, cfg, dataset, common):
    """With label noise, validation accuracy peaks before training accuracy is high, then falls, while CSR rises."""
    fields = dict(id=f"arpit2017-randY-peak-{dataset}", figure="Fig. 7b" if dataset == "mnist" else "Fig. 8b",
                  statement=f"With label noise ({DATASETS[dataset]}), validation accuracy peaks before training "
                            f"accuracy is high, then falls, while CSR rises.",
                  effect="the smallest of: the fall of validation accuracy after its peak, the rise of training "
                         "accuracy after it, and the rise of CSR from the measurement at or before it to the end",
                  threshold=f"95% intervals above {PEAK_FALL} (fall), {FIT_RISE} (training rise) and 0 (CSR rise)",
                  **common)
    partial = [lvl for lvl in levels(cfg, dataset) if lvl < 1]
    if not partial:
        return Claim(**fields, measured="no label-noise level below 100% was run", passed=False, at_scale=False,
                     precondition="a randY level below 100% (with all labels random there is nothing to peak on)")
    level = partial[-1]
    val, train = (curves(results, dataset, "randY", level, n) for n in ("val_accuracy", "train_accuracy"))
    csr = curves(results, dataset, "randY", level, "csr")
    measured = np.array(measured_epochs(cfg, dataset))
    peak = np.argmax(np.nan_to_num(val, nan=-1), -1)  # per seed, 0-based epoch
    rows = np.arange(len(peak))
    at_peak = np.array([np.flatnonzero(measured <= p + 1)[-1] for p in peak])
    # the fall from the maximum cannot be negative, and training accuracy rarely falls: both need a margin
    fall = exceeds(val[rows, peak] - val[:, -1], PEAK_FALL)
    rise = exceeds(train[:, -1] - train[rows, peak], FIT_RISE)
    csr_rise = exceeds(csr[:, -1] - csr[rows, at_peak])
    begun = (1 - level) + BEGUN_TO_FIT * level
    fitted = float(np.nanmin(train[:, -1]))
    return from_test(
        all_of(fall, rise, csr_rise), **fields,
        precondition=f"the models had begun to fit the noise at {level:.0%} randY: final training accuracy >= "
                     f"{begun:.2f} (lowest {fitted:.3f})",
        measured=f"at {level:.0%} randY: peak at epochs {[int(p) + 1 for p in peak]}; fall of validation accuracy "
                 f"{fall}, rise of training accuracy {rise}, rise of CSR {csr_rise}",
        at_scale=fitted >= begun)


def _through_training_claims(results, cfg, common):
    """Figure 9 and footnote 5, on CIFAR-10: validation CSR grows and levels off; training-set CSR rises then falls."""
    top = cfg["cifar_noise_levels"][-1]
    epochs = measured_epochs(cfg, "cifar")
    mid = len(epochs) // 2
    enough = len(epochs) >= 3
    out = []
    for kind in ("real", *NOISE_KINDS):
        label = "real data" if kind == "real" else f"{top:.0%} {kind}"
        csr = curves(results, "cifar", kind, top, "csr")
        fitted = float(np.nanmin(curves(results, "cifar", kind, top, "train_accuracy")[:, -1]))
        grows = exceeds(csr[:, -1] - csr[:, 0])
        levels_off = exceeds((csr[:, mid] - csr[:, 0]) - (csr[:, -1] - csr[:, mid]))
        out.append(from_test(
            all_of(grows, levels_off), id=f"arpit2017-csr-grows-cifar-{kind}", figure="Fig. 9",
            statement=f"Validation CSR grows over the epochs and then levels off ({label}, CIFAR-10).",
            effect=f"the smaller of the growth (last minus first measurement) and the levelling (rise to epoch "
                   f"{epochs[mid]} minus rise after it)", threshold="both 95% intervals above 0",
            precondition=f"at least 3 measurements ({len(epochs)}) and converged training: final training accuracy "
                         f">= {SETTLED:.0%} (lowest {fitted:.3f})",
            measured=f"CSR at epochs {epochs} (mean over seeds): "
                     + ", ".join(f"{v:.3f}" for v in np.nanmean(csr, 0)) + f"; growth {grows}, levelling {levels_off}",
            at_scale=enough and fitted >= SETTLED, **common))
    train_csr = curves(results, "cifar", "real", 0, "train_csr")
    fitted = float(np.nanmin(curves(results, "cifar", "real", 0, "train_accuracy")[:, -1]))
    rise, fall = exceeds(train_csr[:, mid] - train_csr[:, 0]), exceeds(train_csr[:, mid] - train_csr[:, -1])
    out.append(from_test(
        all_of(rise, fall), id="arpit2017-train-csr-rises-falls-cifar", figure="Footnote 5",
        statement="The training-set CSR rises, then falls (real data, CIFAR-10).",
        effect=f"the smaller of the rise to the middle measurement (epoch {epochs[mid]}) and the fall after it",
        threshold="both 95% intervals above 0",
        precondition=f"at least 3 measurements ({len(epochs)}) and a fitted training set: final training accuracy >= "
                     f"{FITTED:.0%} (lowest {fitted:.3f})",
        measured=f"training-set CSR at epochs {epochs} (mean over seeds, {cfg['cifar_train_csr_size']} examples): "
                 + ", ".join(f"{v:.3f}" for v in np.nanmean(train_csr, 0)) + f"; rise {rise}, fall {fall}",
        at_scale=enough and fitted >= FITTED, **common))
    return out


def claims(results, cfg):
    """The chapter's claims, seeds as replicates."""
    out = []
    for dataset in DATASETS:
        common = _common(results, cfg, dataset)
        out += _csr_claims(results, cfg, dataset, common) + _accuracy_claims(results, cfg, dataset, common)
        out.append(_peak_claim(results, cfg, dataset, common))
    return out + _through_training_claims(results, cfg, _common(results, cfg, "cifar"))


CHAPTER = Chapter("critical_sample_ratio", paper="arpit2017", params=PARAMS, parts=PARTS, claims=(), evidence=lambda results, cfg: Evidence({}, {}), check=_check)
