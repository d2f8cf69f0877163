"""Arpit et al. 2017, section 5 (Figures 10-11), and Krueger et al. 2017, section 2.3 (Figure 3 right):
can explicit regularization hinder memorization of random labels without hurting learning from
real data?

Part ``train`` has one cell per (regularizer, dataset), dataset real CIFAR-10 or randY (every
label random), plus the unregularized models (``regularizer=none``). The small AlexNets of a
cell, one per (strength, seed), share their initialisation per seed and train together: stacked
in one computation (:func:`memo_utils.stacked.train_classifiers`, each model with its own
strength, :mod:`memo_utils.regularization`) or one by one (the same training, tested). After
every epoch we record each model's training loss and accuracy (as it trains, with its dropout
or noise) and its accuracy on clean held-out images; at the end, its accuracy on its training set
in evaluation mode (what it has fitted, without dropout or noise).
"""
from __future__ import annotations

import numpy as np
import torch

from .. import data, profiles, seeds
from ..chapter import Chapter, Param, Part
from ..claims import Evidence  # issue 26: the claims below are being re-registered
from ..errors import ConfigError
from ..models import small_alexnet_macs
from ..regularization import Adversary, RegularizedAlexNet
from ..stacked import train_classifiers
from ..training import accuracy, train_classifier

# regularizer -> (strength parameter, keyword of RegularizedAlexNet or "weight_decay", axis label)
REGULARIZERS = {
    "dropout": ("dropout_rates", "dropout", "dropout rate (hidden layers)"),
    "input_dropout": ("input_dropout_rates", "input_dropout", "input dropout rate"),
    "input_noise": ("input_noise_stds", "input_noise", "input Gaussian noise (std)"),
    "hidden_noise": ("hidden_noise_stds", "hidden_noise", "hidden Gaussian noise (std)"),
    "weight_decay": ("weight_decays", "weight_decay", "weight decay"),
    "adversarial": ("adversarial_weights", "adversarial", "adversarial training weight (with dropout)"),
}
DATASETS = ("real", "randY")
ENGINES = ("loop", "stacked")
CHANCE = 0.1
BEGUN_TO_FIT = 0.2  # unregularized randY training accuracy (twice chance) for "lower the randY fit" to mean anything
LEARNED = 0.3  # unregularized real-data best validation accuracy (three times chance)
ORDER_MARGIN = 0.5  # 1 - Kendall's tau above which two orderings differ (a quarter of the pairs discordant)


def strength_list(name, value):
    if not isinstance(value, (list, tuple)) or not all(
            isinstance(v, (int, float)) and not isinstance(v, bool) and np.isfinite(v) and v > 0 for v in value):
        raise ConfigError(f"{name}={value!r} is not allowed: must be a list of finite positive numbers "
                          f"(empty: the regularizer is not run)")


SCALED = "scaled down to fit the profile's time budget"
STRENGTH_NOTE = "besides 0 (the unregularized models, shared by every regularizer); "
PARAMS = (
    Param("train_size", profiles.positive_int, 50000, paper="CIFAR-10 training set (50,000)", parts=("train",),
          by_profile={"smoke": 256, "cpu": 3000},
          note="cpu: the exact first 3,000 images; gpu: all 50,000 (the JPEG copy unless torchvision's download is "
               "available)"),
    Param("val_size", profiles.positive_int, 10000, paper="CIFAR-10 validation set", parts=("train",),
          by_profile={"smoke": 128, "cpu": 1000},
          note="the source's held-out images: cpu: the bundled 1,000 (training images 3,001-4,000); gpu: the test set"),
    Param("width", profiles.positive_int, 200, paper="200", parts=("train",),
          by_profile={"smoke": 4, "cpu": 8, "gpu": 64}, note="convolution channels; " + SCALED),
    Param("epochs", profiles.positive_int, 50, paper="50 (Krueger); not stated (Arpit)", parts=("train",),
          by_profile={"smoke": 1, "cpu": 5, "gpu": 30}, note=SCALED),
    Param("lr", profiles.positive_float, 0.01, paper="0.01", parts=("train",)),
    Param("lr_halving_every", profiles.positive_int, 10, paper="10 epochs (Krueger); 15 (Arpit)", parts=("train",),
          note="Krueger's schedule, the one of the figure we reproduce; momentum 0.9 as in Arpit's section 2"),
    Param("batch_size", profiles.positive_int, 128, paper="not stated", parts=("train",),
          note="not stated; 128 as in Zhang et al.'s CIFAR-10 setup"),
    Param("seeds", profiles.seed_list, [0, 1, 2], paper="one model per setting", parts=("train",),
          by_profile={"smoke": [0]},
          note="the replicates of every claim; a seed fixes the initialisation (shared by all strengths), the "
               "data order and the random labels"),
    Param("dropout_rates", strength_list, [0.1, 0.3, 0.5, 0.7, 0.9], paper="0-0.9", parts=("train",),
          by_profile={"smoke": [0.5], "cpu": [0.3, 0.7]}, note=STRENGTH_NOTE + "after every hidden block"),
    Param("input_dropout_rates", strength_list, [0.1, 0.3, 0.5, 0.7, 0.9], paper="0-0.9", parts=("train",),
          by_profile={"smoke": [0.5], "cpu": [0.2, 0.5]}, note=STRENGTH_NOTE + "on the input pixels"),
    Param("input_noise_stds", strength_list, [0.5, 1.0, 2.0, 3.0, 5.0], paper="0-5", parts=("train",),
          by_profile={"smoke": [1.0], "cpu": [1.0, 3.0]}, note=STRENGTH_NOTE + "in the standardised input's units"),
    Param("hidden_noise_stds", strength_list, [0.05, 0.1, 0.2, 0.3], paper="0-0.3", parts=("train",),
          by_profile={"smoke": [0.1], "cpu": [0.1, 0.3]}, note=STRENGTH_NOTE + "at every hidden block"),
    Param("weight_decays", strength_list, [0.0001, 0.001, 0.01, 0.1, 1.0], paper="0-1 (log grid not stated)",
          parts=("train",), by_profile={"smoke": [0.01], "cpu": [0.01, 0.1]}, note=STRENGTH_NOTE + "a log grid"),
    Param("adversarial_weights", strength_list, [0.2, 0.35, 0.5, 0.7], paper="0.2-0.7 (footnote 7)",
          parts=("train",), by_profile={"smoke": [0.5], "cpu": []},
          note="weight w of the loss on LASS's samples, (1 - w) L(x) + w L(x̂); each step runs a LASS search, so "
               "the cpu profile leaves it out (its claims read 'not at this scale')"),
    Param("adversarial_dropout", profiles.fraction, 0.3, paper="0.03-0.5", parts=("train",),
          note="one dropout rate from the paper's range, so that the curve varies the adversarial weight"),
    Param("adversarial_iterations", profiles.positive_int, 10, paper="LASS 'default parameters' (not stated)",
          parts=("train",), by_profile={"smoke": 2},
          note="LASS steps per training step, with the paper's r, alpha, beta; as the CSR chapter's gpu profile"),
    Param("engine", profiles.one_of(*ENGINES), "stacked", paper="(an implementation choice)", parts=("train",),
          by_profile={"smoke": "loop", "cpu": "loop"},
          note="stacked (one computation per cell) or one model at a time; both give the same training (tested); "
               "the CPU profiles loop"),
)


def _check(cfg):
    for name in ("dropout_rates", "input_dropout_rates", "adversarial_weights"):
        if cfg[name] and max(cfg[name]) >= 1:
            raise ConfigError(f"{name}={cfg[name]} is not allowed: values must be below 1")
    for parameter, _, _ in REGULARIZERS.values():
        cfg[parameter] = sorted(set(cfg[parameter]))


def strengths(cfg, regularizer):
    """The strengths of a regularizer's curve: 0 (the unregularized models), then the configured ones."""
    return [0.0] + list(cfg[REGULARIZERS[regularizer][0]])


def run_regularizers(cfg):
    """The regularizers this configuration runs (those with at least one strength)."""
    return [r for r, (parameter, _, _) in REGULARIZERS.items() if cfg[parameter]]


def own_zero_point(regularizer):
    """[0.0] where a cell trains its curve's zero point itself: the unregularized models, and dropout without
    adversarial weight for the adversarial curve (whose other points all have dropout)."""
    return [0.0] if regularizer in ("none", "adversarial") else []


def cells(cfg):
    return [{"regularizer": r, "data": d} for r in ("none", *run_regularizers(cfg)) for d in DATASETS]


def _model(cfg, regularizer, strength, seed, device):
    torch.manual_seed(seeds.runs(seed, 1)[0])  # the same initial weights for every regularizer and strength
    if regularizer == "adversarial":
        keyword = {"dropout": cfg["adversarial_dropout"]}
    elif regularizer in ("none", "weight_decay"):
        keyword = {}
    else:
        keyword = {REGULARIZERS[regularizer][1]: strength}
    return RegularizedAlexNet(width=cfg["width"], noise_seed=seeds.regularization_noise(seed), **keyword).to(device)


def _compute(cfg, cell, inputs, device):
    cifar, n = inputs["cifar10"], cfg["train_size"]
    if len(cifar.x_test) < cfg["val_size"]:
        raise ConfigError(f"val_size={cfg['val_size']} is not allowed: the data source holds {len(cifar.x_test)} "
                          f"held-out images")
    pixels = data.to_tensor(cifar.x_train[:n], device)
    x, x_val = data.standardize(pixels, data.to_tensor(cifar.x_test[: cfg["val_size"]], device))
    y = torch.as_tensor(cifar.y_train[:n], dtype=torch.long, device=device)
    y_val = torch.as_tensor(cifar.y_test[: cfg["val_size"]], dtype=torch.long, device=device)
    regularizer = cell["regularizer"]
    levels = own_zero_point(regularizer) + ([] if regularizer == "none" else list(cfg[REGULARIZERS[regularizer][0]]))
    runs = [(s, seed) for s in levels for seed in cfg["seeds"]]
    labels = []
    for _, seed in runs:
        random = data.corrupt(x, y, kind="randY", fraction=1.0, generator=torch.Generator().manual_seed(seeds.noise(seed)))
        labels.append(y if cell["data"] == "real" else random[1])
    models = [_model(cfg, regularizer, s, seed, device) for s, seed in runs]
    decay = [s if regularizer == "weight_decay" else 0.0 for s, _ in runs]
    adversary = None
    if regularizer == "adversarial":
        adversary = Adversary([s for s, _ in runs], pixel_mean=float(pixels.mean()), pixel_std=float(pixels.std()),
                              max_iter=cfg["adversarial_iterations"])
    final_train_acc, val_acc = [None] * len(runs), [[] for _ in runs]

    def evaluate(k, model):
        val_acc[k].append(accuracy(model, x_val, y_val))
        if len(val_acc[k]) == cfg["epochs"]:  # what the network has fitted, without dropout or noise
            final_train_acc[k] = accuracy(model, x, labels[k])

    train = dict(epochs=cfg["epochs"], batch_size=cfg["batch_size"], lr=cfg["lr"],
                 lr_halving_every=cfg["lr_halving_every"])
    if cfg["engine"] == "stacked":
        results = train_classifiers(models, x, torch.stack(labels), seeds=[seed for _, seed in runs],
                                    weight_decay=decay, adversary=adversary,
                                    callback=lambda epoch, ms: [evaluate(k, m) for k, m in enumerate(ms)], **train)
    else:
        results = [train_classifier(m, x, labels[k], seed=runs[k][1], weight_decay=decay[k],
                                    adversary=adversary and adversary.for_model(k),
                                    callback=lambda epoch, model, k=k: evaluate(k, model), **train)
                   for k, m in enumerate(models)]
    shape = (len(levels), len(cfg["seeds"]), -1)
    return {"strength": np.array(levels), "seed": np.array(cfg["seeds"]),
            "train_loss": np.array([h["loss"] for h, _ in results]).reshape(shape),
            "train_accuracy": np.array([h["accuracy"] for h, _ in results]).reshape(shape),
            "final_train_accuracy": np.array(final_train_acc).reshape(shape[:2]),
            "val_accuracy": np.array(val_acc).reshape(shape),
            "finite": np.array([f for _, f in results]).reshape(shape[:2])}


def _work(cfg, cell):
    r = cell["regularizer"]
    models = len(cfg["seeds"]) * (len(own_zero_point(r)) + (0 if r == "none" else len(cfg[REGULARIZERS[r][0]])))
    macs = small_alexnet_macs(cfg["width"])
    steps = 3 * (1 + (cfg["adversarial_iterations"] + 1 if cell["regularizer"] == "adversarial" else 0))
    return models * cfg["epochs"] * (steps * cfg["train_size"] + cfg["val_size"]) * macs


_DIMS = {name: ("strength", "seed", "epoch") for name in ("train_loss", "train_accuracy", "val_accuracy")}
_DIMS["finite"] = _DIMS["final_train_accuracy"] = ("strength", "seed")
PARTS = (
    Part("train", version=2, compute=_compute, datasets=lambda cfg: {"cifar10": cfg["train_size"]}, cells=cells,
         dims=_DIMS, work=_work),
)


def curve(results, cfg, regularizer, dataset, name):
    """Array ``name`` along a regularizer's strengths (0 first): (strength, seed, epoch); diverged runs as nan."""
    rows = []
    zero = "adversarial" if regularizer == "adversarial" else "none"
    for r, levels in ((zero, [0.0]), (regularizer, strengths(cfg, regularizer)[1:])):
        rows += [results.sel_finite("train", name, regularizer=r, data=dataset, strength=s) for s in levels]
    return np.array(rows)


def figure_10_points(results, cfg, regularizer):
    """(final randY training accuracy, best real-data validation accuracy), each (strength, seed)."""
    memorized = curve(results, cfg, regularizer, "randY", "final_train_accuracy")
    generalized = np.nanmax(curve(results, cfg, regularizer, "real", "val_accuracy"), -1)
    return memorized, generalized


def kept_at_half_memorization(results, cfg, regularizer):
    """Per seed: real-data validation accuracy at the strength that halves randY memorization.

    Memorization is randY training accuracy above chance; along the strengths, the curve of
    (memorization, validation accuracy) is interpolated linearly at half the unregularized
    memorization. nan where the curve never gets there.
    """
    memorized, generalized = figure_10_points(results, cfg, regularizer)
    out = []
    for m, g in zip((memorized - CHANCE).T, generalized.T):  # per seed, along strengths
        target = m[0] / 2
        value = np.nan
        for i in range(len(m) - 1):
            if m[i] >= target >= m[i + 1] and m[i] > m[i + 1]:
                t = (m[i] - target) / (m[i] - m[i + 1])
                value = g[i] + t * (g[i + 1] - g[i])
                break
        out.append(value)
    return np.array(out)


def claims(results, cfg):
    """The chapter's claims, seeds as replicates."""
    common = dict(paper="arpit2017", profile=cfg["profile"], seeds=list(cfg["seeds"]),
                  data=", ".join(results.data_labels()["train"]),
                  replicate=f"seeds ({len(cfg['seeds'])}), paired: a seed fixes the initial weights of every "
                            f"regularizer and strength, the data order and the random labels")
    baseline = curve(results, cfg, "dropout", "randY", "final_train_accuracy")[0]
    begun = float(np.nanmin(baseline))
    learned = float(np.nanmin(np.nanmax(curve(results, cfg, "dropout", "real", "val_accuracy")[0], -1)))
    fit_condition = (f"the unregularized networks had begun to fit random labels: final training accuracy >= "
                     f"{BEGUN_TO_FIT:.0%} (lowest {begun:.3f})")
    out = []
    ran = run_regularizers(cfg)
    for regularizer in REGULARIZERS:
        fields = dict(id=f"arpit2017-regularization-lowers-randY-{regularizer}", figure="Fig. 10 (Krueger Fig. 3 right)",
                      statement=f"{REGULARIZERS[regularizer][2].capitalize()} can lower the training accuracy on "
                                f"random labels.", threshold="95% interval above 0", **common)
        if regularizer not in ran:
            out.append(_not_run(fields, regularizer))
            continue
        memorized, _ = figure_10_points(results, cfg, regularizer)
        strongest = strengths(cfg, regularizer)[-1]
        out.append(from_test(
            exceeds(memorized[0] - memorized[-1]), **fields,
            effect=f"final randY training accuracy without regularization minus at {strongest:g}",
            precondition=fit_condition,
            measured="final randY training accuracy per strength (mean over seeds): " + ", ".join(
                f"{s:g}: {np.nanmean(m):.3f}" for s, m in zip(strengths(cfg, regularizer), memorized)),
            at_scale=begun >= BEGUN_TO_FIT))
    kept = {r: kept_at_half_memorization(results, cfg, r) for r in ran}
    reached = [r for r in ran if np.isfinite(kept[r]).all()]
    measured = "validation accuracy at half memorization (mean over seeds): " + ", ".join(
        f"{r}: {np.nanmean(v):.3f}" if np.isfinite(v).all() else f"{r}: not reached" for r, v in kept.items())
    condition = (f"{fit_condition}; real-data networks learned: best validation accuracy >= {LEARNED:.0%} (lowest "
                 f"{learned:.3f}); the compared regularizers halve memorization within their strengths in every "
                 f"seed (reached: {', '.join(reached) or 'none'})")
    at_scale = begun >= BEGUN_TO_FIT and learned >= LEARNED
    rivals = [r for r in reached if r not in ("dropout", "adversarial")]
    fields = dict(id="arpit2017-regularization-dropout-keeps-generalization", figure="Fig. 10",
                  statement="Dropout hinders memorization of random labels at the smallest cost in real-data "
                            "validation accuracy.",
                  effect="real-data best validation accuracy at the dropout rate that halves randY memorization "
                         "(training accuracy above chance), minus the best other regularizer's at its halving strength",
                  threshold="95% interval above 0", **common)
    if "dropout" not in reached or not rivals:
        out.append(Claim(**fields, measured=measured, passed=False, at_scale=False, precondition=condition))
    else:
        out.append(from_test(exceeds(kept["dropout"] - np.max([kept[r] for r in rivals], 0)), **fields,
                             measured=measured, precondition=condition, at_scale=at_scale))
    fields = dict(id="arpit2017-regularization-adversarial-keeps-more", figure="Fig. 10",
                  statement="Dropout with adversarial training hinders memorization at a smaller cost than dropout.",
                  effect="real-data best validation accuracy at half randY memorization, dropout with adversarial "
                         "training minus dropout alone", threshold="95% interval above 0", **common)
    if "adversarial" not in ran:
        out.append(_not_run(fields, "adversarial"))
    elif not {"dropout", "adversarial"} <= set(reached):
        out.append(Claim(**fields, measured=measured, passed=False, at_scale=False, precondition=condition))
    else:
        out.append(from_test(exceeds(kept["adversarial"] - kept["dropout"]), **fields, measured=measured,
                             precondition=condition, at_scale=at_scale))
    out.append(_ordering_claim(results, cfg, common, fit_condition, begun))
    return out


def _not_run(fields, regularizer):
    parameter = REGULARIZERS[regularizer][0]
    return Claim(**fields, measured=f"not run at this profile ({parameter} is empty)", passed=False, at_scale=False,
                 precondition=f"{parameter} names at least one strength; the cpu profile leaves it out of its budget "
                              f"and the gpu profile runs it")


def _ordering_claim(results, cfg, common, fit_condition, begun):
    """Figure 11: at the strongest strength, the regularizers rank differently on random and on real labels."""
    names = run_regularizers(cfg)
    fit = {d: np.array([curve(results, cfg, r, d, "final_train_accuracy")[-1] for r in names]) for d in DATASETS}
    taus = np.array([_kendall_tau(fit["randY"][:, s], fit["real"][:, s]) for s in range(len(cfg["seeds"]))])
    return from_test(
        exceeds(1 - taus, ORDER_MARGIN), id="arpit2017-regularization-ordering", figure="Fig. 11",
        statement="The regularizers' ordering by training fit on random labels differs from that on real labels.",
        effect="1 - Kendall's tau between the regularizers' final training accuracies (evaluation mode) on randY and "
               "on real data, each at its strongest strength (0: the same order, 2: reversed)",
        threshold=f"95% interval above {ORDER_MARGIN} (at least a quarter of the pairs swapped: near-ties swap by "
                  f"chance, so above 0 would not do)", precondition=fit_condition,
        measured="final training accuracy at the strongest strength (mean over seeds), randY / real: " + ", ".join(
            f"{r}: {np.nanmean(a):.3f} / {np.nanmean(b):.3f}" for r, a, b in zip(names, fit["randY"], fit["real"])),
        at_scale=begun >= BEGUN_TO_FIT, **common)


def _kendall_tau(a, b):
    """Kendall's tau-a between two score vectors (ties count as neither concordant nor discordant)."""
    i, j = np.triu_indices(len(a), 1)
    return float(np.mean(np.sign(a[i] - a[j]) * np.sign(b[i] - b[j])))


CHAPTER = Chapter("regularization", paper="arpit2017", params=PARAMS, parts=PARTS, claims=(), evidence=lambda results, cfg: Evidence({}, {}), check=_check)
