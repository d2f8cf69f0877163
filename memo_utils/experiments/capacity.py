"""Krueger et al. 2017, sections 2.1-2.2, and Arpit et al. 2017, section 3.3: capacity, dataset size,
time to convergence and sharpness of 2-layer ReLU MLPs on MNIST with input or label noise.

Part ``capacity`` has one cell per (noise kind, width): the models of every noise level and seed
of that row train as one batched ensemble (:func:`memo_utils.ensemble.train_ensemble`), each on
its own noisy copy of the training set (randX: its own inputs; randY: its own labels), with the
training accuracy (on the noisy data it fits) and the clean validation accuracy recorded after
every epoch, and the largest Hessian eigenvalue of the training loss at the end
(:mod:`memo_utils.hessian`). Part ``dataset_size`` has one cell per (noise kind, training-set
size), at the fixed width ``size_width``, and records the training accuracy per epoch. Part
``cifar`` (Arpit's CIFAR-10 remark) has one cell per (noise kind, CNN width), small AlexNets trained
one by one; it is not run at the cpu profile, which it does not fit.
"""
from __future__ import annotations

import math

import numpy as np
import torch

from .. import data, hessian, profiles, seeds, stats
from ..chapter import Chapter, Param, Part
from ..claims import Evidence  # issue 26: the claims below are being re-registered
from ..ensemble import MLPEnsemble, train_ensemble
from ..errors import ConfigError
from ..models import SmallAlexNet
from ..training import accuracy, train_classifier

NOISE_KINDS = ("randX", "randY")
CONVERGED = 0.99  # "time to convergence": epochs to 99% training accuracy (100% is reported beside it)

SCALED = "scaled down to fit the profile's time budget"
PARAMS = (
    Param("train_size", profiles.positive_int, 50000, paper="50,000 (Krueger: 'dataset size fixed to 50000')",
          parts=("capacity",), by_profile={"smoke": 300, "cpu": 1000},
          note=SCALED + "; cpu: the first 1,000 images of the bundled sample, so that noise can be fitted in its budget"),
    Param("val_size", profiles.positive_int, 10000, paper="not stated (the other 10,000 of MNIST's training set)",
          parts=("capacity",), by_profile={"smoke": 200, "cpu": 2000},
          note="clean images, the last of the source's training set (MNIST's last 10,000 with full MNIST; the "
               "bundled sample's last 2,000 at cpu), never used for training and never noisy"),
    Param("widths", profiles.step_list, [16, 64, 256, 1024, 4096], paper="not stated (a log grid up to 4096 or more)",
          parts=("capacity",), by_profile={"smoke": [8, 32], "cpu": [16, 64, 256],
                                           "paper": [16, 64, 256, 1024, 4096, 8192]},
          note="hidden units per layer; " + SCALED),
    Param("noise_levels", profiles.fraction_list, [0.0, 0.2, 0.4, 0.6, 0.8], paper="0 to 80%",
          parts=("capacity", "dataset_size"), by_profile={"smoke": [0.0, 0.8], "cpu": [0.0, 0.4, 0.8]},
          note="fraction of training examples whose inputs (randX) or labels (randY) are replaced"),
    Param("seeds", profiles.seed_list, [0, 1, 2], paper="5 per setting (Krueger 2.1)",
          parts=("capacity", "dataset_size", "cifar"),
          by_profile={"smoke": [0, 1], "paper": [0, 1, 2, 3, 4]},
          note="the replicates: each claim's interval is across seeds"),
    Param("epochs", profiles.positive_int, 100, paper="1000", parts=("capacity", "dataset_size"),
          by_profile={"smoke": 2, "cpu": 80, "paper": 1000},
          note=SCALED + "; runs that do not converge within it are censored, never dropped"),
    Param("batch_size", profiles.positive_int, 32, paper="not stated", parts=("capacity", "dataset_size"),
          by_profile={"cpu": 16}, note="not stated; 32 as in the easy-examples chapter; cpu: 16, so that its 1,000 "
                                       "examples give 63 steps per epoch"),
    Param("lr", profiles.positive_float, 0.01, paper="0.01 (SGD)", parts=("capacity", "dataset_size")),
    Param("dataset_sizes", profiles.step_list, [5000, 10000, 20000, 50000], paper="not stated (up to 50,000)",
          parts=("dataset_size",), by_profile={"smoke": [100, 300], "cpu": [250, 500, 1000],
                                               "paper": [5000, 10000, 20000, 30000, 40000, 50000]},
          note=SCALED),
    Param("size_width", profiles.positive_int, 4096, paper="4096", parts=("dataset_size",),
          by_profile={"smoke": 16, "cpu": 256}, note="the fixed width of Figure 2 right; " + SCALED),
    Param("hessian_examples", profiles.positive_int, 4096, paper="not stated (the training set)", parts=("capacity",),
          by_profile={"smoke": 200, "cpu": 1000},
          note="training examples whose mean loss the Hessian is of (at least 4,096 where the data allow)"),
    Param("cifar_epochs", profiles.non_negative_int, 15, paper="not stated (Arpit 3.3.1's CIFAR-10 remark)",
          parts=("cifar",), by_profile={"smoke": 1, "cpu": 0, "paper": 100},
          note="0 at cpu: the CNN grid does not fit the 5-minute budget, and its claims read 'not at this scale'"),
    Param("cifar_train_size", profiles.positive_int, 50000, paper="CIFAR-10 training set (50,000)", parts=("cifar",),
          by_profile={"smoke": 128, "cpu": 3000},
          note="gpu: all 50,000 (the JPEG copy unless torchvision's download is available)"),
    Param("cifar_widths", profiles.step_list, [16, 64, 200], paper="not stated (the small AlexNet has width 200)",
          parts=("cifar",), by_profile={"smoke": [4, 8], "cpu": [8, 32]}, note="convolution channels; " + SCALED),
    Param("cifar_noise_levels", profiles.fraction_list, [0.0, 0.8], paper="not stated", parts=("cifar",),
          by_profile={"smoke": [0.0, 0.8]}, note="the clean data and one high noise level, to fit the budget"),
    Param("hessian_iterations", profiles.positive_int, 100, paper="power iteration (LeCun et al. 1993)",
          parts=("capacity",), by_profile={"smoke": 10, "cpu": 50},
          note="each run reports whether its estimate converged"),
)


def _check(cfg):
    if cfg["hessian_examples"] > cfg["train_size"]:
        raise ConfigError(f"hessian_examples={cfg['hessian_examples']} is not allowed: must be at most "
                          f"train_size={cfg['train_size']}")
    cfg["widths"], cfg["noise_levels"], cfg["dataset_sizes"] = (sorted(cfg[k]) for k in
                                                                ("widths", "noise_levels", "dataset_sizes"))


def _training_images(mnist, n, device):
    """The first ``n`` training images, flattened and standardised by their own mean and std."""
    x = data.to_tensor(mnist.x_train[:n], device).flatten(1)
    return data.standardize(x)[0], torch.as_tensor(mnist.y_train[:n], dtype=torch.long, device=device)


def _validation_images(mnist, cfg, device):
    """The last ``val_size`` images of the source's training set (chosen to hold train_size + val_size),
    clean, scaled like the training images."""
    x_raw = data.to_tensor(mnist.x_train[: cfg["train_size"]], device).flatten(1)
    x_val = data.to_tensor(mnist.x_train[-cfg["val_size"]:], device).flatten(1)
    x_val = (x_val - x_raw.mean()) / x_raw.std()
    return x_val, torch.as_tensor(mnist.y_train[-cfg["val_size"]:], dtype=torch.long, device=device)


def _noisy_copies(x, y, kind, cfg):
    """One noisy copy of (x, y) per (level, seed), stacked: inputs (K, N, d) for randX, labels (K, N) for randY."""
    xs, ys = [], []
    for level in cfg["noise_levels"]:
        for seed in cfg["seeds"]:
            generator = torch.Generator().manual_seed(seeds.noise(seed))
            xk, yk, _ = data.corrupt(x, y, kind=kind, fraction=level, generator=generator)
            xs.append(xk)
            ys.append(yk)
    return (torch.stack(xs) if kind == "randX" else x), torch.stack(ys)


def _train_row(x, y, width, cfg, evaluate):
    """Train one row (every level x seed) as one ensemble; ``evaluate(ensemble)`` after each epoch."""
    run_seeds = [seeds.runs(seed, 1)[0] for _ in cfg["noise_levels"] for seed in cfg["seeds"]]
    ensemble = MLPEnsemble([784, width, width, 10], run_seeds, x.device)
    n = x.shape[-2]
    per_epoch = math.ceil(n / cfg["batch_size"])
    records = []
    finite = train_ensemble(ensemble, x, y, order_seeds=run_seeds, epochs=cfg["epochs"], batch_size=cfg["batch_size"],
                            lr=cfg["lr"], checkpoints=[per_epoch * (e + 1) for e in range(cfg["epochs"])],
                            callback=lambda step, ens: records.append(evaluate(ens)))
    return ensemble, records, finite


def _by_level(array, cfg):
    """(K, ...) in (level, seed) order -> (level, seed, ...)."""
    return np.asarray(array).reshape(len(cfg["noise_levels"]), len(cfg["seeds"]), *np.shape(array)[1:])


def _accuracy(ensemble, x, y):
    return (ensemble.predict(x) == y).float().mean(-1).cpu().numpy()


def _compute_capacity(cfg, cell, inputs, device):
    x, y = _training_images(inputs["mnist"], cfg["train_size"], device)
    x_val, y_val = _validation_images(inputs["mnist"], cfg, device)
    x, y = _noisy_copies(x, y, cell["noise"], cfg)
    ensemble, records, finite = _train_row(
        x, y, cell["width"], cfg, lambda ens: (_accuracy(ens, x, y), _accuracy(ens, x_val, y_val)))
    h = cfg["hessian_examples"]
    eigenvalue, converged, _ = hessian.top_eigenvalue(
        hessian.ensemble_params(ensemble), x[..., :h, :], y[:, :h], iterations=cfg["hessian_iterations"],
        generator=torch.Generator().manual_seed(seeds.SAMPLED_STEPS))
    train, val = (np.stack([r[i] for r in records], axis=-1) for i in (0, 1))  # (K, epoch)
    return {"level": np.array(cfg["noise_levels"]), "seed": np.array(cfg["seeds"]),
            "train_accuracy": _by_level(train, cfg), "val_accuracy": _by_level(val, cfg),
            "top_eigenvalue": _by_level(eigenvalue.cpu().numpy(), cfg),
            "hessian_converged": _by_level(converged.cpu().numpy(), cfg), "finite": _by_level(finite.cpu().numpy(), cfg)}


def _compute_dataset_size(cfg, cell, inputs, device):
    x, y = _noisy_copies(*_training_images(inputs["mnist"], cell["size"], device), cell["noise"], cfg)
    _, records, finite = _train_row(x, y, cfg["size_width"], cfg, lambda ens: _accuracy(ens, x, y))
    return {"level": np.array(cfg["noise_levels"]), "seed": np.array(cfg["seeds"]),
            "train_accuracy": _by_level(np.stack(records, axis=-1), cfg), "finite": _by_level(finite.cpu().numpy(), cfg)}


def _compute_cifar(cfg, cell, inputs, device):
    """Arpit 3.3.1's CIFAR-10 remark: one small AlexNet per (noise level, seed) at one width, best clean
    validation accuracy over epochs. CNNs train one by one (:func:`memo_utils.training.train_classifier`):
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
            history, ok = train_classifier(model, xk, yk, epochs=cfg["cifar_epochs"], batch_size=128, lr=0.01,
                                           seed=seed, callback=lambda epoch, m: record.append(accuracy(m, x_val, y_val)))
            val.append(record)
            train.append(history["accuracy"])
            finite.append(ok)
    shape = (len(cfg["cifar_noise_levels"]), len(cfg["seeds"]), -1)
    return {"level": np.array(cfg["cifar_noise_levels"]), "seed": np.array(cfg["seeds"]),
            "val_accuracy": np.array(val).reshape(shape), "train_accuracy": np.array(train).reshape(shape),
            "finite": np.array(finite).reshape(shape[:2])}


def _mlp_work(width, n, cfg):
    return len(cfg["noise_levels"]) * len(cfg["seeds"]) * cfg["epochs"] * n * (784 * width + width * width + 10 * width)


_DIMS = {"train_accuracy": ("level", "seed", "epoch"), "val_accuracy": ("level", "seed", "epoch"),
         "top_eigenvalue": ("level", "seed"), "hessian_converged": ("level", "seed"), "finite": ("level", "seed")}
PARTS = (
    Part("capacity", version=2, compute=_compute_capacity,
         datasets=lambda cfg: {"mnist": cfg["train_size"] + cfg["val_size"]},
         cells=lambda cfg: [{"noise": k, "width": w} for k in NOISE_KINDS for w in cfg["widths"]], dims=_DIMS,
         work=lambda cfg, cell: _mlp_work(cell["width"], cfg["train_size"], cfg)),
    Part("dataset_size", version=2, compute=_compute_dataset_size,
         datasets=lambda cfg: {"mnist": max(cfg["dataset_sizes"])},
         cells=lambda cfg: [{"noise": k, "size": n} for k in NOISE_KINDS for n in cfg["dataset_sizes"]], dims=_DIMS,
         work=lambda cfg, cell: _mlp_work(cfg["size_width"], cell["size"], cfg)),
    Part("cifar", version=1, compute=_compute_cifar,
         datasets=lambda cfg: {"cifar10": cfg["cifar_train_size"]} if cfg["cifar_epochs"] else {},
         cells=lambda cfg: [{"noise": k, "width": w} for k in NOISE_KINDS for w in cfg["cifar_widths"]]
         if cfg["cifar_epochs"] else [], dims=_DIMS,
         work=lambda cfg, cell: len(cfg["cifar_noise_levels"]) * len(cfg["seeds"]) * cfg["cifar_epochs"]
         * cfg["cifar_train_size"] * (28 * 28 * 75 * cell["width"] + 14 * 14 * 25 * cell["width"] ** 2)),
)


def best_val_accuracy(results, kind, cfg):
    """Best validation accuracy over epochs, (width, level, seed); nan where a run diverged."""
    out = []
    for w in cfg["widths"]:
        val = results.sel("capacity", "val_accuracy", noise=kind, width=w)
        finite = results.sel("capacity", "finite", noise=kind, width=w)
        out.append(np.where(finite, val.max(-1), np.nan))
    return np.array(out)


def convergence(results, part, kind, key, cfg, threshold=CONVERGED):
    """Epochs to ``threshold`` training accuracy, and censoring, (key value, level, seed)."""
    values = cfg["widths"] if part == "capacity" else cfg["dataset_sizes"]
    name = "width" if part == "capacity" else "size"
    curves = np.array([results.sel(part, "train_accuracy", noise=kind, **{name: v}) for v in values])
    finite = np.array([results.sel(part, "finite", noise=kind, **{name: v}) for v in values])
    curves = np.where(finite[..., None], curves, np.nan)
    return stats.epochs_to_reach(curves, threshold)


def sharpness(results, kind, cfg, width=None):
    """Top Hessian eigenvalue (level, seed) at ``width`` (default the widest), its convergence, and training accuracy."""
    width = width or max(cfg["widths"])
    sel = lambda name: results.sel("capacity", name, noise=kind, width=width)
    return sel("top_eigenvalue"), sel("hessian_converged"), sel("train_accuracy")[..., -1]


CLEAN_MIN_VAL = 0.9  # the clean networks must have learned MNIST for capacity effects to mean anything
CIFAR_CLEAN_MIN_VAL = 0.3  # three times chance: the clean CNNs must have learned something of CIFAR-10
CIFAR_MARGIN = 0.02  # "no relationship between capacity and validation performance": gain within +-2 points


def cifar_best_val_accuracy(results, kind, cfg):
    """Best clean validation accuracy over epochs of the CNNs, (width, level, seed); nan where a run diverged."""
    return np.array([np.where(results.sel("cifar", "finite", noise=kind, width=w),
                              results.sel("cifar", "val_accuracy", noise=kind, width=w).max(-1), np.nan)
                     for w in cfg["cifar_widths"]])


def _cifar_claims(results, cfg, common):
    """Arpit 3.3.1: on CIFAR-10, capacity helps with noisy inputs but shows no relation with random labels."""
    out = []
    label = ", ".join(results.data_labels().get("cifar", [])) or "CIFAR-10 (not run at this profile)"
    for kind, statement, judge, threshold in (
            ("randX", "On CIFAR-10, more capacity raises the best validation accuracy more with noisy inputs.",
             lambda g: exceeds(g), "95% interval above 0"),
            ("randY", "On CIFAR-10, capacity shows no relation with validation accuracy under random labels.",
             lambda g: equivalent(g, CIFAR_MARGIN), f"equivalence: 95% interval inside +-{CIFAR_MARGIN}")):
        fields = dict(id=f"arpit2017-capacity-cifar-{kind}", figure="Sec. 3.3.1", statement=statement,
                      threshold=threshold, **{**common, "paper": "arpit2017", "data": label},
                      effect=f"gain in best validation accuracy from the narrowest to the widest CNN, at "
                             f"{max(cfg['cifar_noise_levels']):.0%} {kind} noise minus at 0%")
        if not cfg["cifar_epochs"]:
            out.append(Claim(**fields, measured="the CNN grid was not run at this profile", passed=False,
                             at_scale=False, precondition="the CIFAR-10 grid is run (cifar_epochs > 0): it does not "
                                                          "fit the cpu profile's budget; the gpu profile runs it"))
            continue
        best = cifar_best_val_accuracy(results, kind, cfg)
        gain = best[-1] - best[0]  # (level, seed)
        clean = float(np.nanmin(best[:, 0]))
        out.append(from_test(
            judge(gain[-1] - gain[0]), **fields,
            precondition=f"clean CNNs learned CIFAR-10: best validation accuracy >= {CIFAR_CLEAN_MIN_VAL:.0%}; "
                         f"lowest {clean:.3f}",
            measured="best validation accuracy per width (mean over seeds), clean / noisy: " + "; ".join(
                f"{w}: {np.nanmean(b[0]):.3f} / {np.nanmean(b[-1]):.3f}" for w, b in zip(cfg["cifar_widths"], best)),
            at_scale=clean >= CIFAR_CLEAN_MIN_VAL))
    return out


def claims(results, cfg):
    """The chapter's claims, seeds as replicates."""
    widest, middle = max(cfg["widths"]), cfg["widths"][len(cfg["widths"]) // 2]
    top = cfg["noise_levels"][-1]
    common = dict(paper="krueger2017", profile=cfg["profile"], seeds=list(cfg["seeds"]),
                  data=", ".join(results.data_labels()["capacity"]),
                  replicate=f"seeds ({len(cfg['seeds'])}), paired: a seed fixes initialisation, data order and noise")
    out = []
    for kind in NOISE_KINDS:
        best = best_val_accuracy(results, kind, cfg)  # (width, level, seed)
        gap = best[-1] - best[len(cfg["widths"]) // 2]  # widest minus middle width, (level, seed)
        clean = float(np.nanmin(best[-1, 0]))
        out.append(from_test(
            exceeds(gap[-1] - gap[0]), id=f"krueger2017-capacity-{kind}", figure="Fig. 1 (Arpit Fig. 5)",
            statement=f"With more {kind} noise, the best validation accuracy needs more capacity.",
            effect=f"gain in best validation accuracy from width {middle} to {widest}, at {top:.0%} noise minus at 0%",
            threshold="95% interval above 0",
            precondition=f"clean networks learned MNIST: best validation accuracy >= {CLEAN_MIN_VAL:.0%} at the widest "
                         f"width; lowest {clean:.3f}",
            measured="gain per noise level: " + ", ".join(f"{lvl:.0%}: {np.nanmean(g):+.3f}"
                                                          for lvl, g in zip(cfg["noise_levels"], gap)),
            at_scale=clean >= CLEAN_MIN_VAL, **common))
    for kind in NOISE_KINDS:
        for part, key, label in (("capacity", "width", "reducing the width"),
                                 ("dataset_size", "size", "growing the dataset")):
            epochs, censored = convergence(results, part, kind, key, cfg)  # (value, level, seed)
            slow_end, fast_end = (0, -1) if part == "capacity" else (-1, 0)  # the slow and the fast end of the axis
            # slow-down at top noise minus slow-down without noise: terms added may be censored (lower bounds,
            # which only make the estimate conservative); terms subtracted must have converged
            effect = (np.log(epochs[slow_end, -1]) - np.log(epochs[fast_end, -1])
                      - np.log(epochs[slow_end, 0]) + np.log(epochs[fast_end, 0]))
            must_converge = np.stack([censored[fast_end, -1], censored[slow_end, 0]])
            lower_bounds = np.stack([censored[slow_end, -1], censored[fast_end, 0]])
            test = exceeds(effect)
            out.append(from_test(
                test, id=f"krueger2017-time-{key}-{kind}",
                figure="Fig. 2 " + ("left" if part == "capacity" else "right"),
                statement=f"{label.capitalize()} slows convergence much more for {kind} noise than for real data.",
                effect=f"log slow-down of epochs to {CONVERGED:.0%} training accuracy, at {top:.0%} noise minus at 0%",
                threshold="95% interval above 0",
                precondition=f"the runs whose times are subtracted reached {CONVERGED:.0%} within {cfg['epochs']} "
                             f"epochs, and a failing test has no censored time (a censored time is a lower bound: it "
                             f"can confirm the claim, not refute it); censored: {int(must_converge.sum())} of "
                             f"{must_converge.size} subtracted, {int(lower_bounds.sum())} of {lower_bounds.size} added",
                measured=f"epochs to {CONVERGED:.0%} (mean over seeds, * if any censored), rows {key}s "
                         f"{cfg['widths'] if part == 'capacity' else cfg['dataset_sizes']}, columns levels "
                         f"{cfg['noise_levels']}: " + "; ".join(
                             ", ".join(f"{e.mean():.0f}{'*' if c.any() else ''}" for e, c in zip(row_e, row_c))
                             for row_e, row_c in zip(epochs, censored)),
                at_scale=not must_converge.any() and (test.passed or not lower_bounds.any()), **common))
    epochs = {k: convergence(results, "capacity", k, "width", cfg) for k in NOISE_KINDS}
    e_x, c_x = epochs["randX"][0][-1][-1], epochs["randX"][1][-1][-1]  # widest width, top level: (seed,)
    e_y, c_y = epochs["randY"][0][-1][-1], epochs["randY"][1][-1][-1]
    e_real, c_real = epochs["randX"][0][-1][0], epochs["randX"][1][-1][0]
    longer, shorter = exceeds(np.log(e_y) - np.log(e_real)), exceeds(np.log(e_real) - np.log(e_x))
    out.append(from_test(
        all_of(longer, shorter), id="krueger2017-time-labels-vs-inputs", figure="Abstract",
        statement="Time to convergence is longer for random labels but shorter for random inputs than for real data.",
        effect=f"the smaller of log(epochs randY / real) and log(epochs real / randX), width {widest}, {top:.0%} noise",
        threshold="both 95% intervals above 0",
        precondition=f"real and randX runs reached {CONVERGED:.0%} within {cfg['epochs']} epochs (a censored randY time "
                     f"is a lower bound, so 'longer' stays conservative); censored: real {int(c_real.sum())}, randX "
                     f"{int(c_x.sum())}, randY {int(c_y.sum())} of {len(cfg['seeds'])}",
        measured=f"epochs to {CONVERGED:.0%}: real {e_real.mean():.1f}, randY {e_y.mean():.1f}"
                 f"{' (censored: at least)' if c_y.any() else ''}, randX {e_x.mean():.1f}; "
                 f"log ratios randY/real {longer}, real/randX {shorter}",
        at_scale=not (c_x.any() or c_real.any()) and (longer.passed or not c_y.any()), **common))
    out += _cifar_claims(results, cfg, common)
    for kind in NOISE_KINDS:
        eigenvalue, converged, fitted = sharpness(results, kind, cfg)
        fit = float(fitted[[0, -1]].min())
        out.append(from_test(
            exceeds(np.log(np.abs(eigenvalue[-1])) - np.log(np.abs(eigenvalue[0]))), id=f"krueger2017-sharpness-{kind}",
            figure="Fig. 3 left",
            statement=f"The largest Hessian eigenvalue of the training loss grows with the fraction of {kind} noise.",
            effect=f"log(top eigenvalue at {top:.0%} noise / at 0%), width {widest}", threshold="95% interval above 0",
            precondition=f"at a minimum: compared runs fit >= {CONVERGED:.0%} of their training set (lowest {fit:.3f}) "
                         f"and their power iterations converged ({int(converged[[0, -1]].sum())} of "
                         f"{converged[[0, -1]].size})",
            measured="top eigenvalue per noise level (mean over seeds): " + ", ".join(
                f"{lvl:.0%}: {np.mean(np.abs(v)):.3g}" for lvl, v in zip(cfg["noise_levels"], eigenvalue)),
            at_scale=fit >= CONVERGED and bool(converged[[0, -1]].all()), **common))
    return out


CHAPTER = Chapter("capacity", paper="krueger2017", params=PARAMS, parts=PARTS, claims=(), evidence=lambda results, cfg: Evidence({}, {}), check=_check)
