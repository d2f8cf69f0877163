"""Gu & Tresp 2019, Neural Network Memorization Dissection, sections 2-4 (Figures 1-5 and the
section 4 ablation): do networks trained on the same data learn the same function, and do
they memorize the same way?

Part ``train`` has one cell per training setting: a fraction of random labels and a
regularizer. The paper's X_T (true labels, weight decay) and X_R (all labels random, no
regularizer) train, per replicate, VGG-11 twice (seeds s1 and s2) and the other architectures
(VGG-13 and ResNet-32, ``other_architectures``). The label-noise sweep (Figure 5) and the ablation (weight decay or augmentation on
X_R) train the two VGG-11s. A replicate is an independent draw of everything but the GAN: the
networks' seeds, their data order and the random labels. Every network records per epoch its
training accuracy, G (the mean input-gradient L1 norm over the epoch's examples, as it trains)
and its validation accuracy. Then Equation 1 optimizes the same GAN codes for every class of
the replicate's VGG-11 (s1), f1, and every network of the replicate is evaluated on the
images found: Equation 2's Dist(f1, f2) is computed from those outputs.

The DCGAN is trained once per process on the true-label images and shared by all cells. Each
cell stores a hash of its weights (and its samples): cells computed in separate processes on a
GPU, where its training is not bit-reproducible, could use different generators, and the
claims' preconditions check that they did not.
"""
from __future__ import annotations

import hashlib
import json
from functools import partial

import numpy as np
import torch

from .. import data, dissection, profiles, seeds
from ..chapter import Chapter, Param, Part
from ..claims import Evidence  # issue 26: the claims below are being re-registered
from ..errors import ConfigError
from ..models import DCGANDiscriminator, DCGANGenerator, conv_macs, resnet32, vgg
from ..training import accuracy, train_classifier

PAIR = ("vgg11", "vgg11")  # f1 = VGG-11 (s1) and the f2 of the seed comparison, VGG-11 (s2)
OTHER_ARCHITECTURES = ("vgg13", "resnet32")  # the f2s of the size and architecture comparisons
F2_NAMES = {"vgg11": "VGG-11 (s2)", "vgg13": "VGG-13", "resnet32": "ResNet-32"}
COMPARISON = {"vgg11": "seed", "vgg13": "size", "resnet32": "architecture"}
TRUE_LABELS = {"fraction": 0.0, "regularizer": "weight_decay"}  # X_T: the paper uses weight decay on true labels
RANDOM_LABELS = {"fraction": 1.0, "regularizer": "none"}  # X_R
OBJECTIVES = ("logit", "log_softmax")
SHOWN_CODES = 8  # optimized images stored per class (replicate 0), for Figure 3 and the widget
FITTED = 0.95  # final training accuracy (evaluation mode) above which a network has fitted its labels
LEARNED = 0.3  # best validation accuracy of the true-label VGG-11s (three times chance)
FAR = 2.0  # "far smaller": Dist on X_R at least this many times Dist on X_T
ABOUT_THE_SAME = 1.5  # "about unchanged": within this factor either way
HUNT_FRACTION = 0.5  # the hunting stage lasts until G first reaches this fraction of its peak
CROSSING = 0.5  # the training accuracy whose crossing epoch measures how the seeds' paths spread
PAPER_TEST_ACCURACY = 0.8373  # VGG-11 on X_T (section 2)
TEST_ACCURACY_MARGIN = 0.03
SCALED = "scaled down to fit the profile's time budget"


def _objective_list(name, value):
    if not isinstance(value, (list, tuple)) or not value or not set(value) <= set(OBJECTIVES) or len(set(value)) < len(value):
        raise ConfigError(f"{name}={value!r} is not allowed: a non-empty list of distinct values among "
                          f"{', '.join(OBJECTIVES)}")


def _architecture_list(name, value):
    if not isinstance(value, (list, tuple)) or not set(value) <= set(OTHER_ARCHITECTURES) or len(set(value)) < len(value):
        raise ConfigError(f"{name}={value!r} is not allowed: a list of distinct values among "
                          f"{', '.join(OTHER_ARCHITECTURES)} (may be empty)")


PARAMS = (
    Param("train_size", profiles.positive_int, 50000, paper="CIFAR-10 training set (50,000)", parts=("train",),
          by_profile={"smoke": 128, "cpu": 512, "gpu": 10000},
          note="cpu: the first 512 of the exact images (4 minibatches); gpu: the first 10,000 of the JPEG copy (unless "
               "torchvision's download is available), whose random labels can be fitted in its epochs"),
    Param("val_size", profiles.positive_int, 10000, paper="CIFAR-10 test set", parts=("train",),
          by_profile={"smoke": 128, "cpu": 1000},
          note="the source's held-out images: cpu: the bundled 1,000 (training images 3,001-4,000); gpu: the test set"),
    Param("vgg_width", profiles.positive_float, 1.0, paper="1 (VGG-11, VGG-13)", parts=("train",),
          by_profile={"smoke": 0.0625, "cpu": 0.125}, note="a multiplier of every VGG layer's channels; " + SCALED),
    Param("resnet_width", profiles.positive_float, 1.0, paper="1 (ResNet-32: 16, 32, 64 channels)", parts=("train",),
          by_profile={"smoke": 0.25, "cpu": 0.25}, note="a multiplier of ResNet-32's channels; " + SCALED),
    Param("other_architectures", _architecture_list, list(OTHER_ARCHITECTURES),
          paper="VGG-13 (size), ResNet-32 (architecture)", parts=("train",), by_profile={"cpu": ["vgg13"]},
          note="the f2s of Figure 2 besides VGG-11 (s2), trained on X_T and X_R; cpu: ResNet-32 is left out (at a "
               "quarter width it cost 40 s per run on 2 cores and fitted half of 512 true labels in 20 epochs); its "
               "claim reads 'not at this scale'"),
    Param("batch_norm", profiles.flag, True, paper="not stated", parts=("train",),
          note="batch norm after every VGG convolution, as in the common CIFAR-10 VGGs; without it, the 1/8-width "
               "VGG-11 stayed at chance for 30 epochs at learning rate 0.01 (measured when choosing); ResNet-32 has "
               "batch norm by design"),
    Param("epochs", profiles.positive_int, 100, paper="100", parts=("train",),
          by_profile={"smoke": 2, "cpu": 15, "gpu": 40}, note=SCALED + "; preconditions check the fit"),
    Param("lr", profiles.positive_float, 0.01, paper="0.01, constant, momentum 0.9", parts=("train",)),
    Param("batch_size", profiles.positive_int, 128, paper="128", parts=("train",)),
    Param("weight_decay", profiles.positive_float, 1e-4, paper="1e-4 on true labels (and the ablation), else none",
          parts=("train",)),
    Param("replicates", profiles.positive_int, 5, paper="1 (Figure 2); 10 VGG-11 seeds (Figure 4)", parts=("train",),
          by_profile={"smoke": 1, "cpu": 3, "gpu": 3},
          note="independent draws of seeds and random labels, the replicates of every claim; 5 give Figure 4's 10 "
               "VGG-11 seeds per dataset"),
    Param("label_noise_fractions", profiles.fraction_list, [0.0, 0.2, 0.4, 0.6, 0.8, 1.0],
          paper="not stated (Figure 5)", parts=("train",),
          by_profile={"smoke": [0.5, 1.0], "cpu": [0.0, 0.5, 1.0], "gpu": [0.0, 0.5, 1.0]},
          note="fractions of random labels of Figure 5; its networks train without regularizer (1: X_R's networks)"),
    Param("gan_train_size", profiles.positive_int, 50000, paper="the classifiers' training set", parts=("train",),
          by_profile={"smoke": 256, "cpu": 3000},
          note="true-label training images of the DCGAN; cpu: all 3,000 exact images, more than the classifiers see, "
               "so that the generator learns image statistics within the budget"),
    Param("gan_width", profiles.positive_int, 64, paper="Radford et al.'s DCGAN", parts=("train",),
          by_profile={"smoke": 4, "cpu": 8}, note="channels of the generator's last hidden layer / 2; " + SCALED),
    Param("gan_epochs", profiles.positive_int, 30, paper="30", parts=("train",),
          by_profile={"smoke": 1, "cpu": 15, "gpu": 10}, note=SCALED),
    Param("gan_batch_size", profiles.positive_int, 128, paper="128 (Radford et al.)", parts=("train",),
          by_profile={"cpu": 64}, note="cpu: 64, for more steps on its 3,000 images; Adam 2e-4, beta1 0.5 (Radford et al.)"),
    Param("am_codes", profiles.positive_int, 100, paper="100 seeds per class", parts=("train",),
          by_profile={"smoke": 2, "cpu": 5, "gpu": 20},
          note="starting codes z ~ N(0, I) per class, the same for every class and network; " + SCALED),
    Param("am_iterations", profiles.positive_int, 1000, paper="1000", parts=("train",),
          by_profile={"smoke": 3, "cpu": 50, "gpu": 200}, note="gradient-ascent steps of Equation 1; " + SCALED),
    Param("am_lr", profiles.positive_float, 0.05, paper="0.05", parts=("train",)),
    Param("am_objectives", _objective_list, list(OBJECTIVES),
          paper="f1_j (logit or probability: not stated)", parts=("train",), by_profile={"smoke": ["logit"], "cpu": ["logit"]},
          note="what Equation 1 ascends: the class's logit, and its log-probability (the cpu profile runs the logit "
               "only; the other objective's claim reads 'not at this scale')"),
)


def _check(cfg):
    cfg["label_noise_fractions"] = sorted(set(cfg["label_noise_fractions"]))
    cfg["am_objectives"] = [o for o in OBJECTIVES if o in cfg["am_objectives"]]
    cfg["other_architectures"] = [a for a in OTHER_ARCHITECTURES if a in cfg["other_architectures"]]


def cells(cfg):
    """X_T and X_R, the label-noise sweep (unregularized, X_R's cell standing for fraction 1), the ablation."""
    sweep = [{"fraction": f, "regularizer": "none"} for f in cfg["label_noise_fractions"] if f != 1.0]
    ablation = [{"fraction": 1.0, "regularizer": r} for r in ("weight_decay", "augmentation")]
    return [TRUE_LABELS, RANDOM_LABELS] + sweep + ablation


def architectures(cfg, cell):
    """The networks of a cell, f1 first: X_T and X_R compare VGG-11 (s1) with VGG-11 (s2) and the other
    architectures; the other cells train the two VGG-11s."""
    return PAIR + tuple(cfg["other_architectures"]) if cell in (TRUE_LABELS, RANDOM_LABELS) else PAIR


def model_names(architectures):
    return ["VGG-11 (s1)"] + [F2_NAMES[a] for a in architectures[1:]]


def _network(cfg, architecture):
    if architecture == "resnet32":
        return resnet32(width=cfg["resnet_width"])
    return vgg(architecture, batch_norm=cfg["batch_norm"], width=cfg["vgg_width"])


_GENERATOR = {}  # the DCGAN of this process: {key: generator}, one entry


def trained_generator(cfg, images, device):
    """The DCGAN of ``cfg`` trained on ``images`` (uint8), trained once per process and data."""
    settings = {k: cfg[k] for k in ("gan_train_size", "gan_width", "gan_epochs", "gan_batch_size")}
    pixels = np.ascontiguousarray(images[: cfg["gan_train_size"]])
    key = (json.dumps(settings), hashlib.sha256(pixels.tobytes()).hexdigest(), str(device))
    if key not in _GENERATOR:
        _GENERATOR.clear()
        scaled = data.to_tensor(pixels, device) * 2 - 1  # the generator's tanh range
        _GENERATOR[key] = dissection.train_dcgan(scaled, width=cfg["gan_width"], epochs=cfg["gan_epochs"],
                                                 batch_size=cfg["gan_batch_size"], seed=seeds.GAN)
    return _GENERATOR[key]


def _uint8(images):
    """Images in [0, 1] as uint8 (N, ..., 32, 32, 3), for storage and display."""
    return (images.clamp(0, 1) * 255).round().to(torch.uint8).movedim(-3, -1).cpu().numpy()


def _compute(cfg, cell, inputs, device):
    cifar, n = inputs["cifar10"], cfg["train_size"]
    if len(cifar.x_test) < cfg["val_size"]:
        raise ConfigError(f"val_size={cfg['val_size']} is not allowed: the data source holds {len(cifar.x_test)} "
                          f"held-out images")
    pixels = data.to_tensor(cifar.x_train[:n], device)
    mean, std = float(pixels.mean()), float(pixels.std())
    x, x_val = data.standardize(pixels, data.to_tensor(cifar.x_test[: cfg["val_size"]], device))
    y = torch.as_tensor(cifar.y_train[:n], dtype=torch.long, device=device)
    y_val = torch.as_tensor(cifar.y_test[: cfg["val_size"]], dtype=torch.long, device=device)
    generator, gan_history = trained_generator(cfg, cifar.x_train, device)
    to_classifier = lambda z: ((generator(z) + 1) / 2 - mean) / std  # the GAN's images in the classifiers' units
    codes = torch.randn(cfg["am_codes"], generator.z_dim, generator=torch.Generator().manual_seed(seeds.GAN_CODES))
    codes = codes.to(device).expand(data.NUM_CLASSES, -1, -1)  # the same codes for every class (Figure 3's columns)
    train = dict(epochs=cfg["epochs"], batch_size=cfg["batch_size"], lr=cfg["lr"], lr_halving_every=cfg["epochs"] + 1,
                 weight_decay=cfg["weight_decay"] if cell["regularizer"] == "weight_decay" else 0.0,
                 augment=partial(data.random_crop_flip, fill=-mean / std) if cell["regularizer"] == "augmentation" else None,
                 input_gradient=True)
    names = architectures(cfg, cell)
    histories, val_acc, final_acc, finite, logits, x_star = [], [], [], [], [], []
    for replicate in range(cfg["replicates"]):
        _, labels, _ = data.corrupt(x, y, kind="randY", fraction=cell["fraction"],
                                    generator=torch.Generator().manual_seed(seeds.noise(replicate)))
        models = []
        for k, (architecture, seed) in enumerate(zip(names, seeds.runs(replicate, len(names)))):
            torch.manual_seed(seed)  # slot k of every cell starts alike: cells pair by replicate and slot
            model = _network(cfg, architecture).to(device)
            val = []
            history, ok = train_classifier(model, x, labels, seed=seed,
                                           callback=lambda epoch, m: val.append(accuracy(m, x_val, y_val)), **train)
            histories.append(history)
            val_acc.append(val)
            final_acc.append(accuracy(model, x, labels))
            finite.append(ok)
            models.append(model.eval())
        per_objective = []
        for objective in cfg["am_objectives"]:
            z_star = dissection.activation_maximization(to_classifier, models[0], codes, lr=cfg["am_lr"],
                                                        iterations=cfg["am_iterations"], objective=objective)
            with torch.no_grad():
                images = to_classifier(z_star).flatten(0, 1)
                per_objective.append(torch.stack([m(images) for m in models]).view(
                    len(models), *z_star.shape[:2], -1).cpu().numpy())
                if replicate == 0:
                    x_star.append(_uint8((generator(z_star[:, :SHOWN_CODES]) + 1) / 2))
        logits.append(per_objective)
    with torch.no_grad():
        samples = _uint8((generator(codes[0, :SHOWN_CODES]) + 1) / 2)
    weights = hashlib.sha256(b"".join(t.detach().cpu().numpy().tobytes() for t in generator.state_dict().values()))
    shape = (cfg["replicates"], len(names), -1)
    return {"replicate": np.arange(cfg["replicates"]), "model": np.array(model_names(names)),
            "objective": np.array(cfg["am_objectives"]),
            "train_accuracy": np.array([h["accuracy"] for h in histories]).reshape(shape),
            "train_loss": np.array([h["loss"] for h in histories]).reshape(shape),
            "input_gradient": np.array([h["input_gradient"] for h in histories]).reshape(shape),
            "val_accuracy": np.array(val_acc).reshape(shape),
            "final_train_accuracy": np.array(final_acc).reshape(shape[:2]),
            "finite": np.array(finite).reshape(shape[:2]),
            "am_logits": np.array(logits, dtype=np.float32),
            "x_star": np.array(x_star), "gan_samples": samples,
            "gan_discriminator_loss": np.array(gan_history["discriminator_loss"]),
            "gan_generator_loss": np.array(gan_history["generator_loss"]),
            "gan_finite": np.array(gan_history["finite"]), "gan_weights_sha256": np.array(weights.hexdigest())}


def _work(cfg, cell):
    """Multiply-accumulates: training (3 passes per image and epoch), validation, the ascent through the
    generator and f1, and, in the first cell (which trains it), the DCGAN."""
    per_image = {a: conv_macs(_network(cfg, a)) for a in set(architectures(cfg, cell))}
    generator = conv_macs(DCGANGenerator(width=cfg["gan_width"]), (100,))
    discriminator = conv_macs(DCGANDiscriminator(width=cfg["gan_width"]))
    training = sum(per_image[a] for a in architectures(cfg, cell)) * cfg["epochs"] * (3 * cfg["train_size"] + cfg["val_size"])
    ascent = (3 * (per_image["vgg11"] + generator) * cfg["am_iterations"] * data.NUM_CLASSES * cfg["am_codes"]
              * len(cfg["am_objectives"]))
    gan = 3 * (2 * generator + 3 * discriminator) * cfg["gan_epochs"] * cfg["gan_train_size"] if cell == TRUE_LABELS else 0
    return cfg["replicates"] * (training + ascent) + gan


_CURVES = ("replicate", "model", "epoch")
PARTS = (
    Part("train", version=1, compute=_compute, cells=cells, work=_work,
         datasets=lambda cfg: {"cifar10": max(cfg["train_size"], cfg["gan_train_size"])},
         dims={"train_accuracy": _CURVES, "train_loss": _CURVES, "input_gradient": _CURVES, "val_accuracy": _CURVES,
               "final_train_accuracy": ("replicate", "model"), "finite": ("replicate", "model"),
               "am_logits": ("replicate", "objective", "model", "class", "code", "output")}),
)


def dist(results, cell, objective):
    """Dist(f1, f2) of Equation 2 per (replicate, f2), averaged over the ascent's codes; diverged networks nan."""
    logits = results.sel("train", "am_logits", **cell, objective=objective)  # (replicate, model, class, code, out)
    values = np.array([[dissection.dissimilarity(torch.as_tensor(r[0]), torch.as_tensor(r[k])).mean().item()
                        for k in range(1, r.shape[0])] for r in logits])
    finite = results.sel("train", "finite", **cell)
    return np.where(finite[:, :1] & finite[:, 1:], values, np.nan)


def hunting_epochs(gradient):
    """Epochs before G first reaches HUNT_FRACTION of its peak, per curve (..., epoch); nan for a diverged run."""
    g = np.asarray(gradient, dtype=float)
    epochs = (g >= HUNT_FRACTION * g.max(-1, keepdims=True)).argmax(-1)
    return np.where(np.isfinite(g).all(-1), epochs, np.nan)


def crossing_epochs(accuracy):
    """First epoch (1-based) at which each training-accuracy curve reaches CROSSING, and whether it never did."""
    from ..stats import epochs_to_reach

    return epochs_to_reach(accuracy, CROSSING)


def _lowest_fit(results, *cells):
    """The lowest final training accuracy (evaluation mode) of the cells' networks; nan if one diverged."""
    return float(min(np.min(results.sel_finite("train", "final_train_accuracy", **c)) for c in cells))


def _fit_text(results, *cells):
    """The fit precondition of claims on ``cells``: its text, and whether it holds."""
    lowest = _lowest_fit(results, *cells)
    text = f"every network fitted its labels: final training accuracy >= {FITTED:.0%} (lowest {lowest:.3f})"
    return text, lowest >= FITTED


def _gan_check(results):
    """Whether one DCGAN, with finite losses, served every cell (its weights' hash is stored per cell)."""
    cells = [r for part, _, r in results if part == "train"]
    same = len({str(r["gan_weights_sha256"]) for r in cells}) == 1
    finite = all(bool(r["gan_finite"]) for r in cells)
    return (f"one DCGAN served every cell ({'yes' if same else 'no'}) and its losses stayed finite "
            f"({'yes' if finite else 'no'})"), same and finite


def claims(results, cfg):
    """The chapter's claims; the unit is the replicate (independent seeds and random labels)."""
    common = dict(paper="gu2019", profile=cfg["profile"], seeds=list(range(cfg["replicates"])),
                  data=", ".join(results.data_labels()["train"]),
                  replicate=f"replicates ({cfg['replicates']}): independent seeds and random labels, paired across "
                            f"settings; Dist averaged over {cfg['am_codes']} codes within a replicate")
    gan_text, gan_ok = _gan_check(results)
    fit_text, fit_ok = _fit_text(results, TRUE_LABELS, RANDOM_LABELS)
    learned = float(np.min(np.max(results.sel_finite("train", "val_accuracy", **TRUE_LABELS)[:, :2], -1)))
    condition = (f"{fit_text}; the true-label VGG-11s learned: best validation accuracy >= {LEARNED:.0%} (lowest "
                 f"{learned:.3f}); {gan_text}")
    at_scale = fit_ok and learned >= LEARNED and gan_ok
    f2s = architectures(cfg, TRUE_LABELS)[1:]
    ratios = {o: np.log10(dist(results, RANDOM_LABELS, o) / dist(results, TRUE_LABELS, o)) for o in cfg["am_objectives"]}
    statement = ("Networks trained on true labels are far more alike than networks trained on random labels "
                 "(\"one way to learn, N ways to memorize\"), across {}.")
    threshold = f"95% interval above log10 {FAR:g} (X_R at least {FAR:g} times X_T)"
    out = []
    objective = cfg["am_objectives"][0]
    for architecture in ("vgg11", *OTHER_ARCHITECTURES):
        fields = dict(id=f"gu2019-one-way-to-learn-{COMPARISON[architecture]}", figure="Fig. 2",
                      statement=statement.format(COMPARISON[architecture]),
                      effect=f"log10 of Dist(VGG-11 (s1), {F2_NAMES[architecture]}) on X_R over on X_T (Equation 1 "
                             f"ascends the class's {objective.replace('_', '-')})", threshold=threshold, **common)
        if architecture not in f2s:
            out.append(_not_run(fields, "other_architectures", architecture))
            continue
        k = f2s.index(architecture)
        out.append(from_test(exceeds(ratios[objective][:, k], np.log10(FAR)), **fields,
                             measured=_dist_text(results, objective, k), precondition=condition, at_scale=at_scale))
    fields = dict(id="gu2019-one-way-to-learn-log-softmax", figure="Fig. 2",
                  statement=statement.format("every compared network, when Equation 1 ascends the log-probability"),
                  effect="log10 of Dist(VGG-11 (s1), f2) on X_R over on X_T, the weakest f2 (log-probability objective)",
                  threshold=threshold + " for every f2", **common)
    if "log_softmax" not in cfg["am_objectives"]:
        out.append(_not_run(fields, "am_objectives", "log_softmax"))
    else:
        out.append(from_test(all_of(*(exceeds(r, np.log10(FAR)) for r in ratios["log_softmax"].T)), **fields,
                             measured="; ".join(_dist_text(results, "log_softmax", k) for k in range(len(f2s))),
                             precondition=condition, at_scale=at_scale))
    out.append(_noise_claim(results, cfg, common, gan_text, gan_ok))
    out += _path_claims(results, cfg, common, fit_text, fit_ok)
    out += _ablation_claims(results, cfg, common, gan_text, gan_ok)
    out.append(_test_accuracy_claim(results, cfg, common))
    return out


def _dist_text(results, objective, k):
    true, random = dist(results, TRUE_LABELS, objective)[:, k], dist(results, RANDOM_LABELS, objective)[:, k]
    name = results.sel("train", "model", **TRUE_LABELS)[k + 1]
    return f"Dist(VGG-11 (s1), {name}) (mean over replicates), X_T: {np.nanmean(true):.3g}, X_R: {np.nanmean(random):.3g}"


def _not_run(fields, parameter, value):
    return Claim(**fields, measured=f"not run in this configuration ({parameter} leaves out {value})", passed=False,
                 at_scale=False, precondition=f"{parameter} includes {value}, as it does at the gpu and paper profiles")


def _noise_claim(results, cfg, common, gan_text, gan_ok):
    fractions = cfg["label_noise_fractions"]
    objective = cfg["am_objectives"][0]
    sweep_cells = [{"fraction": f, "regularizer": "none"} for f in fractions]
    sweep = np.array([dist(results, c, objective)[:, 0] for c in sweep_cells])
    slopes = np.array([np.polyfit(fractions, np.log10(column), 1)[0] if np.isfinite(column).all() and len(fractions) > 1
                       else np.nan for column in sweep.T])
    fit_text, fit_ok = _fit_text(results, *sweep_cells)
    return from_test(
        exceeds(slopes), id="gu2019-dist-grows-with-label-noise", figure="Fig. 5",
        statement="The dissimilarity between two networks grows with the fraction of random labels.",
        effect=f"least-squares slope of log10 Dist(VGG-11 s1, VGG-11 s2) against the fraction of random labels "
               f"({objective.replace('_', '-')} objective)",
        threshold="95% interval above 0",
        measured="Dist (mean over replicates) by fraction: " + ", ".join(
            f"{f:g}: {np.nanmean(d):.3g}" for f, d in zip(fractions, sweep)),
        precondition=f"at least two fractions ({len(fractions)}); {fit_text}; {gan_text}",
        at_scale=len(fractions) >= 2 and fit_ok and gan_ok, **common)


def _path_claims(results, cfg, common, fit_text, fit_ok):
    """Figures 1 and 4: the two VGG-11 runs of each replicate on X_T and on X_R, replicates paired."""
    curves = {name: {k: results.sel_finite("train", k, **c)[:, :2] for k in ("input_gradient", "train_accuracy")}
              for name, c in (("X_T", TRUE_LABELS), ("X_R", RANDOM_LABELS))}
    hunting = {name: hunting_epochs(c["input_gradient"]).mean(1) for name, c in curves.items()}  # (replicate,)
    out = [from_test(
        all_of(exceeds(hunting["X_R"] - hunting["X_T"]), exceeds(1 - hunting["X_T"])), id="gu2019-hunting-stage",
        figure="Fig. 1, 4",
        statement="Training on random labels starts with a hunting stage of small gradient magnitude G; training on "
                  "true labels does not.",
        effect=f"epochs before G first reaches {HUNT_FRACTION:.0%} of its peak (mean of a replicate's two VGG-11 runs): "
               f"X_R minus X_T, and 1 minus X_T; the smaller",
        threshold="95% intervals above 0 (X_R hunts longer, and X_T less than one epoch)",
        measured=f"hunting epochs (mean), X_T: {np.nanmean(hunting['X_T']):.2f}, X_R: {np.nanmean(hunting['X_R']):.2f}",
        precondition=fit_text, at_scale=fit_ok, **common)]
    crossing = {name: crossing_epochs(c["train_accuracy"]) for name, c in curves.items()}
    gaps = {name: np.abs(epochs[:, 0] - epochs[:, 1]).astype(float) for name, (epochs, _) in crossing.items()}
    censored = sum(int(c.sum()) for _, c in crossing.values())
    out.append(from_test(
        exceeds(gaps["X_R"] - gaps["X_T"]), id="gu2019-diverse-paths", figure="Fig. 4",
        statement="Runs on random labels follow visibly more diverse optimization paths than runs on true labels.",
        effect=f"epochs between the crossings of {CROSSING:.0%} training accuracy by the two VGG-11 seeds of a replicate "
               f"(same data, different seeds), X_R minus X_T",
        threshold="95% interval above 0",
        measured="crossing epochs (s1/s2 per replicate), X_T: " + ", ".join(
            f"{a}/{b}" for a, b in crossing["X_T"][0]) + "; X_R: " + ", ".join(f"{a}/{b}" for a, b in crossing["X_R"][0]),
        precondition=f"every run crossed {CROSSING:.0%} within the budget ({censored} did not)",
        at_scale=censored == 0, **common))
    return out


def _ablation_claims(results, cfg, common, gan_text, gan_ok):
    objective = cfg["am_objectives"][0]
    base = dist(results, RANDOM_LABELS, objective)[:, 0]
    out = []
    for regularizer in ("weight_decay", "augmentation"):
        cell = {"fraction": 1.0, "regularizer": regularizer}
        ratio = np.log10(dist(results, cell, objective)[:, 0] / base)
        fit_text, fit_ok = _fit_text(results, cell, RANDOM_LABELS)
        out.append(from_test(
            equivalent(ratio, np.log10(ABOUT_THE_SAME)), id=f"gu2019-ablation-{regularizer.replace('_', '-')}",
            figure="Section 4",
            statement=f"{regularizer.replace('_', ' ').capitalize()} on X_R leaves the dissimilarity of what networks "
                      f"memorize about unchanged.",
            effect=f"log10 Dist(VGG-11 s1, s2) on X_R with {regularizer.replace('_', ' ')} minus without "
                   f"({objective.replace('_', '-')} objective)",
            threshold=f"95% interval within ±log10 {ABOUT_THE_SAME:g} (equivalence)",
            measured=f"Dist (mean over replicates) without: {np.nanmean(base):.3g}, with: "
                     f"{np.nanmean(10 ** ratio * base):.3g}",
            precondition=f"{fit_text}; {gan_text}", at_scale=fit_ok and gan_ok, **common))
    return out


def _test_accuracy_claim(results, cfg, common):
    final = results.sel_finite("train", "val_accuracy", **TRUE_LABELS)[:, 0, -1]
    full = cfg["train_size"] >= 50000 and cfg["epochs"] >= 100 and cfg["vgg_width"] >= 1
    return from_test(
        equivalent(final - PAPER_TEST_ACCURACY, TEST_ACCURACY_MARGIN), id="gu2019-vgg11-test-accuracy",
        figure="Section 2", statement="VGG-11 trained on X_T reaches 83.73% test accuracy.",
        effect="final test accuracy of VGG-11 (s1) on X_T minus 83.73%",
        threshold=f"95% interval within ±{TEST_ACCURACY_MARGIN:.0%} (equivalence)",
        measured=f"final test accuracy (mean over replicates): {np.nanmean(final):.4f}",
        precondition=f"the paper's training: all 50,000 images, 100 epochs, full-width VGG-11 (here "
                     f"{cfg['train_size']}, {cfg['epochs']}, width {cfg['vgg_width']:g})", at_scale=full, **common)


CHAPTER = Chapter("dissection", paper="gu2019", params=PARAMS, parts=PARTS, claims=(), evidence=lambda results, cfg: Evidence({}, {}), check=_check)
