"""Gu & Tresp 2019, Neural Network Memorization Dissection, sections 2-4 (Figures 1-5 and the
section 4 ablation): do networks trained on the same data learn the same function, and do
they memorize the same way?

Part ``train`` has one cell per training setting: a fraction of random labels and a
regularizer. The paper's X_T (true labels, weight decay) and X_R (all labels random, no
regularizer) train, per replicate, VGG-11 twice (seeds s1 and s2) and the other architectures
(VGG-13 and ResNet-32, ``other_architectures``). The label-noise sweep (Figure 5) and the ablation (weight decay or
augmentation on
X_R) train the two VGG-11s. A replicate is an independent draw of everything but the GAN: the
networks' seeds, their data order and the random labels. Every network records per epoch its
training accuracy, G (the mean input-gradient L1 norm over the epoch's examples, as it trains)
and its validation accuracy, and G at every step (so that a hunting stage shorter than an epoch
is resolved). Then Equation 1 optimizes the same GAN codes for every class of
the replicate's VGG-11 (s1), f1, and every network of the replicate is evaluated on the
images found: Equation 2's Dist(f1, f2) is computed from those outputs.

The DCGAN is trained once per process on the true-label images and shared by all cells. Each
cell stores a hash of its weights (and its samples): cells computed in separate processes on a
GPU, where its training is not bit-reproducible, could use different generators, and the
claims' preconditions check that they did not.

The claims (registered in ``CLAIMS`` before the results) are about networks that learned or
memorised as the paper's did: ``PRECONDITIONS`` demand true-label networks that generalize
within a tenth of the paper's 83.73% test accuracy, random-label networks that fitted their
labels, and activation-maximisation images that f1 assigns to their class and that a second
true-label network reads as data. The ``cpu`` profile cannot meet the first (its narrow networks
see 512 images): its claims read "not at this scale". The ``gpu`` profile fits a device session
(10,000 images, 40 epochs); its run shows whether its networks generalize enough. The ``paper``
profile trains as the paper (all 50,000 images, 100 epochs, full width), where they can hold.
"""

from __future__ import annotations

import hashlib
import json
from functools import partial

import numpy as np
import torch

from .. import seeds
from ..engine import data, memory
from ..engine.models import DCGANDiscriminator, DCGANGenerator, conv_macs, resnet32, vgg
from ..engine.training import accuracy, train_classifier
from ..errors import ConfigError
from ..framework import profiles
from ..framework.chapter import Chapter, Param, Part
from ..framework.claims import NOT_MEASURED, Definition, Evidence, Precondition, above, across, below, within
from ..methods import dissection

PAIR = ("vgg11", "vgg11")  # f1 = VGG-11 (s1) and the f2 of the seed comparison, VGG-11 (s2)
OTHER_ARCHITECTURES = ("vgg13", "resnet32")  # the f2s of the size and architecture comparisons
F2_NAMES = {"vgg11": "VGG-11 (s2)", "vgg13": "VGG-13", "resnet32": "ResNet-32"}
COMPARISON = {"vgg11": "seed", "vgg13": "size", "resnet32": "architecture"}
TRUE_LABELS = {"fraction": 0.0, "regularizer": "weight_decay"}  # X_T: the paper uses weight decay on true labels
RANDOM_LABELS = {"fraction": 1.0, "regularizer": "none"}  # X_R
OBJECTIVES = ("logit", "log_softmax")
SHOWN_CODES = 8  # optimized images stored per class (replicate 0), for Figure 3 and the widget
HUNT_FRACTION = 0.5  # the hunting stage lasts until G first reaches this fraction of its peak
HUNT_RESOLUTION = 10  # G per step is averaged over a tenth of an epoch (at least one step) before its crossing is found
CROSSING = 0.5  # the training accuracy whose crossing epoch measures how the seeds' paths spread
SCALED = "scaled down to fit the profile's time budget"


def _objective_list(name, value):
    if (
        not isinstance(value, (list, tuple))
        or not value
        or not set(value) <= set(OBJECTIVES)
        or len(set(value)) < len(value)
    ):
        raise ConfigError(
            f"{name}={value!r} is not allowed: a non-empty list of distinct values among {', '.join(OBJECTIVES)}"
        )


def _architecture_list(name, value):
    if (
        not isinstance(value, (list, tuple))
        or not set(value) <= set(OTHER_ARCHITECTURES)
        or len(set(value)) < len(value)
    ):
        raise ConfigError(
            f"{name}={value!r} is not allowed: a list of distinct values among "
            f"{', '.join(OTHER_ARCHITECTURES)} (may be empty)"
        )


PARAMS = (
    Param(
        "train_size",
        profiles.positive_int,
        50000,
        paper="CIFAR-10 training set (50,000)",
        parts=("train",),
        by_profile={"smoke": 128, "cpu": 512, "gpu": 10000},
        note="cpu: the first 512 of the exact images (4 minibatches), too few to generalize: its claims read 'not at "
        "this scale'; gpu: the first 10,000 of the JPEG copy (unless torchvision's download is available), to "
        "fit a device session; whether its networks generalize as the paper's is for the preconditions to say; "
        "paper: all 50,000",
    ),
    Param(
        "val_size",
        profiles.positive_int,
        10000,
        paper="CIFAR-10 test set",
        parts=("train",),
        by_profile={"smoke": 128, "cpu": 1000},
        note="the source's held-out images: cpu: the bundled 1,000 (training images 3,001-4,000); gpu: the test set",
    ),
    Param(
        "vgg_width",
        profiles.positive_float,
        1.0,
        paper="1 (VGG-11, VGG-13)",
        parts=("train",),
        by_profile={"smoke": 0.0625, "cpu": 0.125},
        note="a multiplier of every VGG layer's channels; " + SCALED,
    ),
    Param(
        "resnet_width",
        profiles.positive_float,
        1.0,
        paper="1 (ResNet-32: 16, 32, 64 channels)",
        parts=("train",),
        by_profile={"smoke": 0.25, "cpu": 0.25},
        note="a multiplier of ResNet-32's channels; " + SCALED,
    ),
    Param(
        "other_architectures",
        _architecture_list,
        list(OTHER_ARCHITECTURES),
        paper="VGG-13 (size), ResNet-32 (architecture)",
        parts=("train",),
        by_profile={"cpu": ["vgg13"]},
        note="the f2s of Figure 2 besides VGG-11 (s2), trained on X_T and X_R; cpu: ResNet-32 is left out (at a "
        "quarter width it cost 40 s per run on 2 cores and fitted half of 512 true labels in 20 epochs); its "
        "claim reads 'not at this scale'",
    ),
    Param(
        "batch_norm",
        profiles.flag,
        True,
        paper="not stated",
        parts=("train",),
        note="batch norm after every VGG convolution, as in the common CIFAR-10 VGGs; without it, the 1/8-width "
        "VGG-11 stayed at chance for 30 epochs at learning rate 0.01 (measured when choosing); ResNet-32 has "
        "batch norm by design",
    ),
    Param(
        "epochs",
        profiles.positive_int,
        100,
        paper="100",
        parts=("train",),
        by_profile={"smoke": 2, "cpu": 15, "gpu": 40},
        note="cpu: " + SCALED + "; gpu: 40, to fit a device session; paper: the paper's 100, in which its networks "
        "fit 50,000 random labels; preconditions check the fit",
    ),
    Param("lr", profiles.positive_float, 0.01, paper="0.01, constant, momentum 0.9", parts=("train",)),
    Param("batch_size", profiles.positive_int, 128, paper="128", parts=("train",)),
    Param(
        "weight_decay",
        profiles.positive_float,
        1e-4,
        paper="1e-4 on true labels (and the ablation), else none",
        parts=("train",),
    ),
    Param(
        "seeds",
        profiles.seed_list,
        [0, 1, 2, 3, 4],
        paper="1 (Figure 2); 10 VGG-11 seeds (Figure 4)",
        parts=("train",),
        by_profile={"smoke": [0], "cpu": [0, 1, 2], "gpu": [0, 1, 2]},
        replicates=True,
        note="one replicate per seed: an independent draw of every network's seed and of the random labels, the "
        "replicates of every claim; 5 give Figure 4's 10 VGG-11 seeds per dataset. cpu: 3, since no verdict "
        "there rests on the seeds' spread (a precondition fails far from its threshold)",
    ),
    Param(
        "label_noise_fractions",
        profiles.fraction_list,
        [0.0, 0.2, 0.4, 0.6, 0.8, 1.0],
        paper="not stated (Figure 5)",
        parts=("train",),
        by_profile={"smoke": [0.5, 1.0], "cpu": [0.0, 0.5, 1.0], "gpu": [0.0, 0.5, 1.0]},
        note="fractions of random labels of Figure 5; its networks train without regularizer (1: X_R's networks)",
    ),
    Param(
        "gan_train_size",
        profiles.positive_int,
        50000,
        paper="the classifiers' training set",
        parts=("train",),
        by_profile={"smoke": 256, "cpu": 3000},
        note="true-label training images of the DCGAN; cpu: all 3,000 exact images, more than the classifiers see, "
        "so that the generator learns image statistics within the budget",
    ),
    Param(
        "gan_width",
        profiles.positive_int,
        64,
        paper="Radford et al.'s DCGAN",
        parts=("train",),
        by_profile={"smoke": 4, "cpu": 8},
        note="channels of the generator's last hidden layer / 2; " + SCALED,
    ),
    Param(
        "gan_epochs",
        profiles.positive_int,
        30,
        paper="30",
        parts=("train",),
        by_profile={"smoke": 1, "cpu": 15, "gpu": 10},
        note=SCALED,
    ),
    Param(
        "gan_batch_size",
        profiles.positive_int,
        128,
        paper="128 (Radford et al.)",
        parts=("train",),
        by_profile={"cpu": 64},
        note="cpu: 64, for more steps on its 3,000 images; Adam 2e-4, beta1 0.5 (Radford et al.)",
    ),
    Param(
        "am_codes",
        profiles.positive_int,
        100,
        paper="100 seeds per class",
        parts=("train",),
        by_profile={"smoke": 2, "cpu": 5, "gpu": 20},
        note="starting codes z ~ N(0, I) per class, the same for every class and network; " + SCALED,
    ),
    Param(
        "am_iterations",
        profiles.positive_int,
        1000,
        paper="1000",
        parts=("train",),
        by_profile={"smoke": 3, "cpu": 50, "gpu": 200},
        note="gradient-ascent steps of Equation 1; " + SCALED,
    ),
    Param("am_lr", profiles.positive_float, 0.05, paper="0.05", parts=("train",)),
    Param(
        "am_objectives",
        _objective_list,
        list(OBJECTIVES),
        paper="f1_j (logit or probability: not stated)",
        parts=("train",),
        by_profile={"smoke": ["logit"], "cpu": ["logit"]},
        note="what Equation 1 ascends: the class's logit, and its log-probability (the cpu profile runs the logit "
        "only; the other objective's claim reads 'not at this scale')",
    ),
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
        _GENERATOR[key] = dissection.train_dcgan(
            scaled, width=cfg["gan_width"], epochs=cfg["gan_epochs"], batch_size=cfg["gan_batch_size"], seed=seeds.GAN
        )
    return _GENERATOR[key]


def _uint8(images):
    """Images in [0, 1] as uint8 (N, ..., 32, 32, 3), for storage and display."""
    return (images.clamp(0, 1) * 255).round().to(torch.uint8).movedim(-3, -1).cpu().numpy()


def _compute(cfg, cell, inputs, device):
    cifar, n = inputs["cifar10"], cfg["train_size"]
    if len(cifar.x_test) < cfg["val_size"]:
        raise ConfigError(
            f"val_size={cfg['val_size']} is not allowed: the data source holds {len(cifar.x_test)} held-out images"
        )
    pixels = data.to_tensor(cifar.x_train[:n], device)
    mean, std = float(pixels.mean()), float(pixels.std())
    x, x_val = data.standardize(pixels, data.to_tensor(cifar.x_test[: cfg["val_size"]], device))
    y = torch.as_tensor(cifar.y_train[:n], dtype=torch.long, device=device)
    y_val = torch.as_tensor(cifar.y_test[: cfg["val_size"]], dtype=torch.long, device=device)
    generator, gan_history = trained_generator(cfg, cifar.x_train, device)
    to_classifier = lambda z: ((generator(z) + 1) / 2 - mean) / std  # the GAN's images in the classifiers' units
    codes = torch.randn(cfg["am_codes"], generator.z_dim, generator=torch.Generator().manual_seed(seeds.GAN_CODES))
    codes = codes.to(device).expand(data.NUM_CLASSES, -1, -1)  # the same codes for every class (Figure 3's columns)
    train = dict(
        epochs=cfg["epochs"],
        batch_size=cfg["batch_size"],
        lr=cfg["lr"],
        lr_halving_every=cfg["epochs"] + 1,
        weight_decay=cfg["weight_decay"] if cell["regularizer"] == "weight_decay" else 0.0,
        augment=partial(data.random_crop_flip, fill=-mean / std) if cell["regularizer"] == "augmentation" else None,
        input_gradient=True,
    )
    names = architectures(cfg, cell)
    histories, step_gradients, val_acc, final_acc, finite, logits, x_star, on_samples = [], [], [], [], [], [], [], []
    for replicate, replicate_seed in enumerate(cfg["seeds"]):
        _, labels, _ = data.corrupt(
            x,
            y,
            kind="randY",
            fraction=cell["fraction"],
            generator=torch.Generator().manual_seed(seeds.noise(replicate_seed)),
        )
        models = []
        for architecture, seed in zip(names, seeds.runs(replicate_seed, len(names))):
            torch.manual_seed(seed)  # slot k of every cell starts alike: cells pair by replicate and slot
            model = _network(cfg, architecture).to(device)
            val = []
            with dissection.per_step_gradient_magnitude(model) as per_step:
                history, ok = train_classifier(
                    model,
                    x,
                    labels,
                    seed=seed,
                    callback=lambda epoch, m: val.append(accuracy(m, x_val, y_val)),
                    **train,
                )
            histories.append(history)
            step_gradients.append(torch.stack(per_step).cpu().numpy())
            val_acc.append(val)
            final_acc.append(accuracy(model, x, labels))
            finite.append(ok)
            models.append(model.eval())
        with torch.no_grad():  # the DCGAN's samples G(z) at the ascent's starting codes
            starting = to_classifier(codes[0])
            on_samples.append(torch.stack([m(starting) for m in models]).cpu().numpy())
        per_objective = []
        for objective in cfg["am_objectives"]:
            z_star = dissection.activation_maximization(
                to_classifier, models[0], codes, lr=cfg["am_lr"], iterations=cfg["am_iterations"], objective=objective
            )
            with torch.no_grad():
                images = to_classifier(z_star).flatten(0, 1)
                per_objective.append(
                    torch.stack([m(images) for m in models]).view(len(models), *z_star.shape[:2], -1).cpu().numpy()
                )
                if replicate == 0:
                    x_star.append(_uint8((generator(z_star[:, :SHOWN_CODES]) + 1) / 2))
        logits.append(per_objective)
    with torch.no_grad():
        samples = _uint8((generator(codes[0, :SHOWN_CODES]) + 1) / 2)
    weights = hashlib.sha256(b"".join(t.detach().cpu().numpy().tobytes() for t in generator.state_dict().values()))
    shape = (len(cfg["seeds"]), len(names), -1)
    return {
        "replicate": np.arange(len(cfg["seeds"])),
        "model": np.array(model_names(names)),
        "objective": np.array(cfg["am_objectives"]),
        "train_accuracy": np.array([h["accuracy"] for h in histories]).reshape(shape),
        "train_loss": np.array([h["loss"] for h in histories]).reshape(shape),
        "input_gradient": np.array([h["input_gradient"] for h in histories]).reshape(shape),
        "input_gradient_steps": np.array(step_gradients).reshape(shape),
        "val_accuracy": np.array(val_acc).reshape(shape),
        "final_train_accuracy": np.array(final_acc).reshape(shape[:2]),
        "finite": np.array(finite).reshape(shape[:2]),
        "am_logits": np.array(logits, dtype=np.float32),
        "gan_sample_logits": np.array(on_samples, dtype=np.float32),
        "x_star": np.array(x_star),
        "gan_samples": samples,
        "gan_discriminator_loss": np.array(gan_history["discriminator_loss"]),
        "gan_generator_loss": np.array(gan_history["generator_loss"]),
        "gan_finite": np.array(gan_history["finite"]),
        "gan_weights_sha256": np.array(weights.hexdigest()),
    }


def _work(cfg, cell):
    """Multiply-accumulates: training (3 passes per image and epoch), validation, the ascent through the
    generator and f1, and, in the first cell (which trains it), the DCGAN."""
    per_image = {a: conv_macs(_network(cfg, a)) for a in set(architectures(cfg, cell))}
    generator = conv_macs(DCGANGenerator(width=cfg["gan_width"]), (100,))
    discriminator = conv_macs(DCGANDiscriminator(width=cfg["gan_width"]))
    training = (
        sum(per_image[a] for a in architectures(cfg, cell)) * cfg["epochs"] * (3 * cfg["train_size"] + cfg["val_size"])
    )
    ascent = (
        3
        * (per_image["vgg11"] + generator)
        * cfg["am_iterations"]
        * data.NUM_CLASSES
        * cfg["am_codes"]
        * len(cfg["am_objectives"])
    )
    gan = (
        3 * (2 * generator + 3 * discriminator) * cfg["gan_epochs"] * cfg["gan_train_size"]
        if cell == TRUE_LABELS
        else 0
    )
    return len(cfg["seeds"]) * (training + ascent) + gan


def _memory(cfg, cell):
    """A replicate's networks with their gradients, its largest pass (a training minibatch, or the ascent through
    the generator and f1 on every class's codes at once), and the training, validation and DCGAN images."""
    names, ascent = architectures(cfg, cell), data.NUM_CLASSES * cfg["am_codes"]
    trained = [memory.network(lambda a=a: _network(cfg, a), (3, 32, 32), cfg["batch_size"]) for a in names]
    through = [
        memory.network(lambda: _network(cfg, names[0]), (3, 32, 32), ascent),
        memory.network(lambda: DCGANGenerator(width=cfg["gan_width"]), (100,), ascent),
    ]
    largest = max(max(t.activations for t in trained), sum(t.activations for t in through))
    networks = memory.Footprint(sum(t.parameters for t in trained) + through[1].parameters, largest)
    images = cfg["train_size"] + cfg["val_size"] + cfg["gan_train_size"]
    return memory.needed(networks, data=memory.images(images, (3, 32, 32)))


_CURVES = ("replicate", "model", "epoch")
PARTS = (
    Part(
        "train",
        version=2,
        compute=_compute,
        cells=cells,
        work=_work,
        memory=_memory,
        datasets=lambda cfg: {"cifar10": max(cfg["train_size"], cfg["gan_train_size"])},
        dims={
            "train_accuracy": _CURVES,
            "train_loss": _CURVES,
            "input_gradient": _CURVES,
            "val_accuracy": _CURVES,
            "input_gradient_steps": ("replicate", "model", "step"),
            "final_train_accuracy": ("replicate", "model"),
            "finite": ("replicate", "model"),
            "am_logits": ("replicate", "objective", "model", "class", "code", "output"),
            "gan_sample_logits": ("replicate", "model", "code", "output"),
        },
    ),
)


def dist(results, cell, objective):
    """Dist(f1, f2) of Equation 2 per (replicate, f2), averaged over the ascent's codes; diverged networks nan."""
    logits = results.sel("train", "am_logits", **cell, objective=objective)  # (replicate, model, class, code, out)
    values = np.array(
        [
            [
                dissection.dissimilarity(torch.as_tensor(r[0]), torch.as_tensor(r[k])).mean().item()
                for k in range(1, r.shape[0])
            ]
            for r in logits
        ]
    )
    finite = results.sel("train", "finite", **cell)
    return np.where(finite[:, :1] & finite[:, 1:], values, np.nan)


def gradient_blocks(step_gradient, steps_per_epoch):
    """G per step (..., step) averaged over blocks of a tenth of an epoch (at least one step, so that one
    minibatch's noise does not decide), and the block's length in epochs."""
    g = np.asarray(step_gradient, dtype=float)
    block = max(1, steps_per_epoch // HUNT_RESOLUTION)
    return g[..., : g.shape[-1] // block * block].reshape(*g.shape[:-1], -1, block).mean(-1), block / steps_per_epoch


def hunting_epochs(step_gradient, steps_per_epoch):
    """The hunting stage's length in epochs, per curve of G per step (..., step): the time before G, per tenth of
    an epoch (:func:`gradient_blocks`), first reaches HUNT_FRACTION of its peak; nan for a diverged run. Resolves
    a tenth of an epoch, or one step when an epoch has fewer than ten."""
    blocks, length = gradient_blocks(step_gradient, steps_per_epoch)
    first = (blocks >= HUNT_FRACTION * blocks.max(-1, keepdims=True)).argmax(-1)
    return np.where(np.isfinite(blocks).all(-1), first * length, np.nan)


def crossing_epochs(accuracy):
    """First epoch (1-based) at which each training-accuracy curve reaches CROSSING, and whether it never did."""
    from ..framework.stats import epochs_to_reach

    return epochs_to_reach(accuracy, CROSSING)


def sweep_cells(cfg):
    """Figure 5's cells below fraction 1 (fraction 1 is X_R's cell)."""
    return [{"fraction": f, "regularizer": "none"} for f in cfg["label_noise_fractions"] if f < 1.0]


def _columns(results, cell, architecture):
    """The model columns of ``architecture`` in ``cell``: both VGG-11s, or the one f2 (none if not trained)."""
    if architecture == "vgg11":
        return [0, 1]
    names = list(results.sel("train", "model", **cell))
    return [names.index(F2_NAMES[architecture])] if F2_NAMES[architecture] in names else []


def _mean_over(values, columns):
    """The mean over replicates and ``columns`` of per-(replicate, model) values, a diverged network counting 0
    (it fitted and generalizes nothing); nan when no column was trained."""
    return float(np.mean(np.nan_to_num(values[:, columns], nan=0.0))) if columns else float("nan")


def fitted(results, cell, architecture="vgg11"):
    """Final training accuracy (evaluation mode) of the cell's ``architecture`` networks, mean over replicates."""
    final = results.sel_finite("train", "final_train_accuracy", **cell)
    return _mean_over(final, _columns(results, cell, architecture))


def generalization(results, cell, architecture="vgg11"):
    """Held-out accuracy at the last epoch of the cell's ``architecture`` networks, mean over replicates."""
    last = results.sel_finite("train", "val_accuracy", **cell)[..., -1]
    return _mean_over(last, _columns(results, cell, architecture))


def _probabilities(results, cell, objective):
    """Softmax outputs at the images x_j*, (replicate, model, class j, code, output); a diverged network's are 0."""
    logits = torch.as_tensor(results.sel("train", "am_logits", **cell, objective=objective), dtype=torch.float64)
    finite = results.sel("train", "finite", **cell)[:, :, None, None, None]
    return np.where(finite, np.nan_to_num(torch.softmax(logits, -1).numpy()), 0.0)


def class_reached(results, cell, objective, model=0):
    """``model``'s probability of class j at x_j*, the images Equation 1 found for f1's class j: mean over
    classes, codes and replicates (model 0: f1 itself, how far the ascent got)."""
    p = _probabilities(results, cell, objective)[:, model]  # (replicate, class, code, output)
    return float(np.diagonal(p, axis1=1, axis2=3).mean())


def samples_data_like(results):
    """The X_T VGG-11s' largest class probability at the DCGAN's samples G(z) (the ascent's starting images), mean
    over codes, the two seeds and replicates; a diverged network's is 0."""
    logits = torch.as_tensor(results.sel("train", "gan_sample_logits", **TRUE_LABELS)[:, :2], dtype=torch.float64)
    finite = results.sel("train", "finite", **TRUE_LABELS)[:, :2, None]
    return float(np.where(finite, np.nan_to_num(torch.softmax(logits, -1).amax(-1).numpy()), 0.0).mean())


def _gan_check(results):
    """Whether one DCGAN, with finite losses, served every cell (its weights' hash is stored per cell)."""
    cells = [r for part, _, r in results if part == "train"]
    same = len({str(r["gan_weights_sha256"]) for r in cells}) == 1
    return same and all(bool(r["gan_finite"]) for r in cells)


# --- Claims, registered before the results (memo_utils.framework.claims) ------------------------------------

PAPER_TEST_ACCURACY = 0.8373  # VGG-11 on X_T (section 2)
PAPER_IMAGES, PAPER_EPOCHS = 50000, 100  # its training (section 2)
GENERALIZES = 0.9 * PAPER_TEST_ACCURACY  # a true-label network within a tenth of the paper's test accuracy
FITTED = 0.95  # final training accuracy of a network that fitted its labels (the paper's reach 100%)
MEMORISED_MOST = 0.55  # a regularized random-label network: half of its labels beyond chance (0.1 + 0.9 / 2)
CLASS_REACHED = 0.5  # f1 assigns x_j* to class j over all other classes together
DATA_LIKE = 0.5  # a network that learned CIFAR-10 commits to one class at the DCGAN's samples
FAR = 2.0  # Dist on X_R at least this many times Dist on X_T
ABOUT_THE_SAME = 1.5  # "do not affect": within this factor either way
ONE_EPOCH = 1.0  # the hunting stage's and the paths' smallest effect, in epochs
TEST_ACCURACY_MARGIN = 0.03

RATIO_SETTINGS = {
    "X_T": TRUE_LABELS,
    "X_R": RANDOM_LABELS,
    "X_R + weight decay": {"fraction": 1.0, "regularizer": "weight_decay"},
    "X_R + augmentation": {"fraction": 1.0, "regularizer": "augmentation"},
}
NETWORKS = {
    "X_T": "VGG-11s (s1, s2) on true labels, weight decay (X_T)",
    "X_R": "VGG-11s (s1, s2) on random labels, no regularizer (X_R)",
    "VGG-13": "VGG-13s on X_T and on X_R (the size comparison's f2)",
    "ResNet-32": "ResNet-32s on X_T and on X_R (the architecture comparison's f2)",
    "sweep": "VGG-11s of Figure 5 below fraction 1: true or partly random labels, no regularizer",
    "X_R + weight decay": "VGG-11s on random labels with weight decay (section 4 ablation)",
    "X_R + augmentation": "VGG-11s on random labels with augmentation (section 4 ablation)",
    "DCGAN": "the DCGAN through which Equation 1 ascends, one for every setting, and its samples G(z)",
    **{
        f"x* {name}": f"Equation 1's images x_j* of the {name} VGG-11 (s1), its class logit ascended"
        for name in ("X_T", "X_R", "sweep", "X_R + weight decay", "X_R + augmentation")
    },
    "x* log-probability": "Equation 1's images x_j* of the X_T and X_R VGG-11 (s1), the class log-probability ascended",
    "section 2 recipe": "VGG-11 on X_T as a training recipe: its test accuracy is the claim itself, so the "
    "preconditions that demand generalization do not apply to it",
}
_MEAN = "mean over replicates"
_LEARNED = (
    f"the claims are about networks that learned CIFAR-10 as the paper's did: its VGG-11 reaches "
    f"{PAPER_TEST_ACCURACY:.2%} test accuracy (section 2), and this asks for 0.9 of that"
)
_FITTED = "the paper's networks all reach 100% training accuracy (sections 2 and 4); 95% leaves a few labels unfitted"
_MOST = (
    "the paper turns weight decay and augmentation off 'to reach zero error' (section 4), so with them a network "
    "need not fit every label, but must have memorised: half of the random labels beyond chance (0.1 + 0.9 / 2)"
)
_REACHED = (
    "x_j* stands for what f1 'has learned or memorized in the j-th class' (section 3) only if f1 assigns it "
    "to class j over all other classes together"
)
_DATA_LIKE = (
    "the paper's premise that the generator maps z ~ N(0, 1) to 'a sample G(z) ~ χ', since off the data f2 "
    "'could show unexpected outputs ... which makes the comparison not accurate' (section 3): a network that "
    "learned CIFAR-10 commits to one class (largest probability above one half) on images it reads as data; "
    "lenient, as classifiers are often confident off the data too"
)


def slug(name):
    """A network's name as an id: "x* X_R + weight decay" -> "x*-X_R-weight-decay"."""
    return name.replace(" + ", "-").replace(" ", "-")


def _architecture_preconditions(network):
    return (
        Precondition(
            f"{network}-generalizes",
            (network,),
            f"{network}s on X_T: held-out accuracy at the last epoch, {_MEAN}",
            GENERALIZES,
            _LEARNED,
        ),
        Precondition(
            f"{network}-fitted",
            (network,),
            f"{network}s: final training accuracy, {_MEAN}, the lower of X_T and X_R",
            FITTED,
            _FITTED,
        ),
    )


def _image_precondition(network, where):
    return Precondition(
        f"{slug(network)}-class-reached",
        (network,),
        f"f1's probability of class j at its images x_j* ({where}), mean over classes, codes and replicates",
        CLASS_REACHED,
        _REACHED,
    )


PRECONDITIONS = (
    Precondition(
        "X_T-generalizes",
        ("X_T", "DCGAN"),
        f"X_T VGG-11s (which also judge whether the DCGAN's samples are "
        f"data-like): held-out accuracy at the last epoch, {_MEAN} and seeds",
        GENERALIZES,
        _LEARNED,
    ),
    Precondition("X_T-fitted", ("X_T",), f"X_T VGG-11s: final training accuracy, {_MEAN} and seeds", FITTED, _FITTED),
    Precondition(
        "X_R-memorised", ("X_R",), f"X_R VGG-11s: final training accuracy, {_MEAN} and seeds", FITTED, _FITTED
    ),
    *_architecture_preconditions("VGG-13"),
    *_architecture_preconditions("ResNet-32"),
    Precondition(
        "sweep-generalizes",
        ("sweep",),
        f"Figure 5's VGG-11s at fraction 0: held-out accuracy at the last epoch, {_MEAN} and seeds",
        GENERALIZES,
        _LEARNED,
    ),
    Precondition(
        "sweep-fitted",
        ("sweep",),
        f"Figure 5's VGG-11s below fraction 1: final training accuracy, {_MEAN} "
        f"and seeds, the lowest over the fractions",
        FITTED,
        _FITTED,
    ),
    *(
        Precondition(
            f"{slug(name)}-memorised",
            (name,),
            f"VGG-11s on random labels with {name.split(' + ')[1]}: final training accuracy, {_MEAN} and seeds",
            MEMORISED_MOST,
            _MOST,
        )
        for name in ("X_R + weight decay", "X_R + augmentation")
    ),
    Precondition(
        "one-DCGAN",
        ("DCGAN",),
        "one DCGAN (the same weights in every cell) with finite losses served every setting: 1 if so, else 0",
        1.0,
        "Equation 1 ascends through one generator trained on X_T "
        "(section 4); images from different generators would make Dist compare generators",
    ),
    Precondition(
        "DCGAN-data-like",
        ("DCGAN",),
        "the X_T VGG-11s' largest class probability at the DCGAN's samples "
        "G(z) (the ascent's starting images), mean over codes, seeds and replicates",
        DATA_LIKE,
        _DATA_LIKE,
    ),
    _image_precondition("x* X_T", "X_T"),
    _image_precondition("x* X_R", "X_R"),
    _image_precondition("x* sweep", "the lowest over Figure 5's fractions below 1"),
    _image_precondition("x* X_R + weight decay", "X_R with weight decay"),
    _image_precondition("x* X_R + augmentation", "X_R with augmentation"),
    _image_precondition("x* log-probability", "log-probability ascended; the lower of X_T and X_R"),
    Precondition(
        "paper-recipe",
        ("section 2 recipe",),
        "the share of the paper's section 2 training that this run had: "
        f"the least of training images / {PAPER_IMAGES:,}, epochs / {PAPER_EPOCHS} and VGG width / 1",
        1.0,
        f"the paper's {PAPER_TEST_ACCURACY:.2%} is its VGG-11 trained on all {PAPER_IMAGES:,} images for "
        f"{PAPER_EPOCHS} epochs at full width (section 2); less training is expected to reach less",
    ),
)

REPLICATES = (
    "replicates (seeds): an independent draw of every network's seed and of the random labels, paired across "
    "settings; Dist averaged over the ascent's codes within a replicate"
)
_FAR = (
    f"the paper's X_T bars are 'very low' and its X_R bars 'high' (Figure 2): at least a factor of {FAR:g} between them"
)
_RATIO = "log10 of Dist(VGG-11 (s1), {f2}) on X_R over on X_T, class logit ascended, per replicate"
_ONE_WAY = (
    "The blue bars with very low values correspond to the dissimilarity between models trained on XT ... The "
    "yellow bars with high values mean that what different models have memorized from XR are different"
)
_NETWORKS_RATIO = ("X_T", "X_R", "DCGAN", "x* X_T", "x* X_R")
_ABOUT_THE_SAME = (
    f"'do not affect the similarity' (section 4): within a factor of {ABOUT_THE_SAME:g} either way, "
    f"inside the factor of {FAR:g} that separates learning from memorising (Figure 2)"
)
_AMENDED = (
    "after the first cpu run under these definitions: the data-like check, which read only X_T's images x_j* "
    "with VGG-11 (s2), now reads the DCGAN's samples with the X_T VGG-11s, for every setting alike, so every "
    "claim on Dist needs those networks to have learned (one that did not cannot tell data-like images); "
    "prompted by gu2019-ablation-weight-decay reading 'reproduced' at cpu on images no learned network had "
    "judged"
)
_AMENDED_X_T = (
    "after the first cpu run under these definitions: X_T-generalizes also covers the DCGAN, whose samples "
    "the X_T VGG-11s now judge; what it demands of the X_T networks is unchanged"
)
CLAIMS = (
    *(
        Definition(
            f"gu2019-one-way-to-learn-{COMPARISON[a]}",
            "gu2019",
            "Sec. 4, Fig. 2",
            _ONE_WAY,
            f"Networks trained on true labels are far more alike than networks trained on random labels (one way "
            f"to learn, N ways to memorize), for f2 = {F2_NAMES[a]} ({COMPARISON[a]}).",
            (above(_RATIO.format(f2=F2_NAMES[a]), np.log10(FAR), _FAR),),
            REPLICATES,
            _NETWORKS_RATIO + extra,
            amendment=_AMENDED,
        )
        for a, extra in (("vgg11", ()), ("vgg13", ("VGG-13",)), ("resnet32", ("ResNet-32",)))
    ),
    Definition(
        "gu2019-one-way-to-learn-log-softmax",
        "gu2019",
        "Sec. 4, Fig. 2",
        _ONE_WAY,
        "The same for every f2 when Equation 1 ascends the class's log-probability (the paper does not say "
        "which of the two it ascends).",
        tuple(
            above(_RATIO.format(f2=F2_NAMES[a]).replace("logit", "log-probability"), np.log10(FAR), _FAR)
            for a in PAIR[1:] + OTHER_ARCHITECTURES
        ),
        REPLICATES,
        ("X_T", "X_R", "VGG-13", "ResNet-32", "DCGAN", "x* log-probability"),
        amendment=_AMENDED,
    ),
    Definition(
        "gu2019-dist-grows-with-label-noise",
        "gu2019",
        "Sec. 4, Fig. 5",
        "The learned functions become gradually far away from each other when the noise level increases",
        "The dissimilarity between two VGG-11 seeds grows with the fraction of random labels.",
        (
            above(
                "least-squares slope of log10 Dist(VGG-11 s1, s2) against the fraction of random labels (0 to 1, "
                "X_R's cell at 1), class logit ascended, per replicate",
                np.log10(FAR),
                f"from X_T-like to X_R-like over the whole range (Figure 5): at least the factor of {FAR:g} that "
                f"separates them (Figure 2)",
            ),
        ),
        REPLICATES,
        ("sweep", "X_R", "DCGAN", "x* sweep", "x* X_R"),
        amendment=_AMENDED,
    ),
    Definition(
        "gu2019-hunting-stage",
        "gu2019",
        "Sec. 2, Fig. 1, 4",
        "In the model trained with random labels, the training process started with a hunting stage ... In the "
        "model trained with true labels, the model fits the data directly without a hunting stage",
        "Training on random labels starts with a hunting stage of small gradient magnitude G; training on true "
        "labels does not.",
        (
            above(
                f"epochs before G (per tenth of an epoch) first reaches {HUNT_FRACTION:.0%} of its peak, X_R minus "
                f"X_T, mean of a replicate's two VGG-11 runs",
                ONE_EPOCH,
                "the hunting stage lasts until the network has trained 'for several epochs' (section 2): at least one",
            ),
            below(
                "the same on X_T",
                ONE_EPOCH,
                "'fits the data directly without a hunting stage' (section 2): "
                "within the first epoch, the resolution of Figure 1",
            ),
        ),
        REPLICATES,
        ("X_T", "X_R"),
        amendment=_AMENDED_X_T,
    ),
    Definition(
        "gu2019-diverse-paths",
        "gu2019",
        "Sec. 4, Fig. 4",
        "For the models trained on XT, the optimization always follows similar paths ... the training process "
        "on XR follows obviously different optimization paths",
        "Runs on random labels follow visibly more diverse optimization paths than runs on true labels.",
        (
            above(
                f"epochs between the crossings of {CROSSING:.0%} training accuracy by a replicate's two VGG-11 "
                f"seeds (same data), X_R minus X_T",
                ONE_EPOCH,
                "'obviously different' paths on Figure 4's per-epoch axis: at least one epoch further apart",
            ),
        ),
        REPLICATES,
        ("X_T", "X_R"),
        amendment=_AMENDED_X_T,
    ),
    *(
        Definition(
            f"gu2019-ablation-{name.split(' + ')[1].replace(' ', '-')}",
            "gu2019",
            "Sec. 4",
            "The experiment results show that the weight decay and the data augmentation do not affect the "
            "similarity between what different models have memorized",
            f"{name.split(' + ')[1].capitalize()} on X_R leaves the dissimilarity of what two VGG-11 seeds "
            f"memorize about unchanged.",
            (
                within(
                    f"log10 Dist(VGG-11 s1, s2) on X_R with {name.split(' + ')[1]} minus without, class logit "
                    f"ascended, per replicate",
                    -np.log10(ABOUT_THE_SAME),
                    np.log10(ABOUT_THE_SAME),
                    _ABOUT_THE_SAME,
                ),
            ),
            REPLICATES,
            ("X_R", name, "DCGAN", "x* X_R", f"x* {name}"),
            amendment=_AMENDED,
        )
        for name in ("X_R + weight decay", "X_R + augmentation")
    ),
    Definition(
        "gu2019-vgg11-test-accuracy",
        "gu2019",
        "Sec. 2",
        "The model achieves 100% accuracy on training data and 83,73% accuracy on test data",
        "VGG-11 trained on X_T reaches 83.73% test accuracy.",
        (
            within(
                f"held-out accuracy at the last epoch of VGG-11 on X_T (mean of a replicate's two seeds) minus "
                f"{PAPER_TEST_ACCURACY:.2%}",
                -TEST_ACCURACY_MARGIN,
                TEST_ACCURACY_MARGIN,
                f"one run's {PAPER_TEST_ACCURACY:.2%} (section 2): 3 points either way for its seed and our "
                f"readings (batch norm, the JPEG copy)",
            ),
        ),
        REPLICATES,
        ("section 2 recipe",),
    ),
)


def conditions(results, cfg):
    """Each precondition's measured value (nan where its networks or images were not run at this profile)."""
    sweep = sweep_cells(cfg)
    lowest = lambda values: min(values) if values else float("nan")
    out = {
        "X_T-generalizes": generalization(results, TRUE_LABELS),
        "X_T-fitted": fitted(results, TRUE_LABELS),
        "X_R-memorised": fitted(results, RANDOM_LABELS),
        "sweep-generalizes": lowest([generalization(results, c) for c in sweep if c["fraction"] == 0.0]),
        "sweep-fitted": lowest([fitted(results, c) for c in sweep]),
        **{
            f"{slug(name)}-memorised": fitted(results, RATIO_SETTINGS[name])
            for name in ("X_R + weight decay", "X_R + augmentation")
        },
        "one-DCGAN": float(_gan_check(results)),
        "DCGAN-data-like": samples_data_like(results),
        "paper-recipe": min(cfg["train_size"] / PAPER_IMAGES, cfg["epochs"] / PAPER_EPOCHS, cfg["vgg_width"]),
    }
    for network, architecture in (("VGG-13", "vgg13"), ("ResNet-32", "resnet32")):
        out[f"{network}-generalizes"] = generalization(results, TRUE_LABELS, architecture)
        out[f"{network}-fitted"] = min(fitted(results, c, architecture) for c in (TRUE_LABELS, RANDOM_LABELS))
    reached = lambda cells, objective: (
        lowest([class_reached(results, c, objective) for c in cells])
        if objective in cfg["am_objectives"]
        else float("nan")
    )
    for name, cell in RATIO_SETTINGS.items():
        out[f"{slug('x* ' + name)}-class-reached"] = reached([cell], "logit")
    out["x*-sweep-class-reached"] = reached(sweep, "logit")
    out["x*-log-probability-class-reached"] = reached([TRUE_LABELS, RANDOM_LABELS], "log_softmax")
    return out


def _log_ratio(results, objective, architecture):
    """Per replicate: log10 of Dist(VGG-11 (s1), f2) on X_R over on X_T; None where f2 or the objective was not run."""
    columns = _columns(results, TRUE_LABELS, architecture)
    if objective not in results.sel("train", "objective", **TRUE_LABELS) or not columns:
        return None
    k = columns[-1] - 1  # dist's columns are the f2s
    return np.log10(dist(results, RANDOM_LABELS, objective)[:, k] / dist(results, TRUE_LABELS, objective)[:, k])


def _estimate(values):
    return NOT_MEASURED if values is None else across(values)


def _finite_mean(values):
    """The mean of the finite values (nan if none), for the supporting numbers: a diverged run is left out."""
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    return float(v.mean()) if v.size else float("nan")


def _ratio_text(results, objective):
    """Dist and the probabilities behind it, X_T against X_R, for a reader to see why."""
    if objective not in results.sel("train", "objective", **TRUE_LABELS):
        return f"not run at this profile (am_objectives leaves out {objective})"
    names = results.sel("train", "model", **TRUE_LABELS)[1:]
    dists = {s: [_finite_mean(d) for d in dist(results, RATIO_SETTINGS[s], objective).T] for s in ("X_T", "X_R")}
    return (
        "Dist (mean over replicates), X_T / X_R: "
        + "; ".join(f"{n} {dists['X_T'][k]:.3g} / {dists['X_R'][k]:.3g}" for k, n in enumerate(names))
        + "; f1's probability of class j at x_j*, X_T / X_R: "
        + " / ".join(f"{class_reached(results, RATIO_SETTINGS[s], objective):.2f}" for s in ("X_T", "X_R"))
        + "; VGG-11 (s2)'s probability of f1's class j there, X_T / X_R: "
        + " / ".join(f"{class_reached(results, RATIO_SETTINGS[s], objective, model=1):.2f}" for s in ("X_T", "X_R"))
    )


def _noise_slopes(results, cfg):
    """Per replicate: the slope of log10 Dist(VGG-11 s1, s2) against the fraction of random labels; None below two
    fractions."""
    fractions = cfg["label_noise_fractions"]
    if len(fractions) < 2:
        return None, []
    per_fraction = np.array([dist(results, {"fraction": f, "regularizer": "none"}, "logit")[:, 0] for f in fractions])
    slopes = [
        np.polyfit(fractions, np.log10(column), 1)[0] if np.isfinite(column).all() else np.nan
        for column in per_fraction.T
    ]
    return slopes, per_fraction


def _hunting(results):
    """Per replicate and dataset: the hunting stage's length in epochs, the mean of the two VGG-11 runs."""
    out = {}
    for name in ("X_T", "X_R"):
        cell = RATIO_SETTINGS[name]
        steps = results.sel_finite("train", "input_gradient_steps", **cell)[:, :2]
        steps_per_epoch = steps.shape[-1] // results.sel("train", "train_accuracy", **cell).shape[-1]
        out[name] = hunting_epochs(steps, steps_per_epoch).mean(1)
    return out


def _crossing_gaps(results):
    """Per replicate and dataset: epochs between the two VGG-11 seeds' crossings of CROSSING (nan if one never
    crossed: a censored time is no gap), and the crossing epochs."""
    gaps, crossings = {}, {}
    for name in ("X_T", "X_R"):
        epochs, censored = crossing_epochs(results.sel_finite("train", "train_accuracy", **RATIO_SETTINGS[name])[:, :2])
        crossings[name] = epochs
        gaps[name] = np.where(censored.any(1), np.nan, np.abs(epochs[:, 0] - epochs[:, 1]).astype(float))
    return gaps, crossings


def evidence(results, cfg):
    """Every claim's per-replicate statistic (replicates are paired across settings by seed)."""
    estimates, measured = {}, {}
    for architecture in PAIR[1:] + OTHER_ARCHITECTURES:
        claim = f"gu2019-one-way-to-learn-{COMPARISON[architecture]}"
        estimates[claim] = (_estimate(_log_ratio(results, "logit", architecture)),)
        measured[claim] = _ratio_text(results, "logit")
    estimates["gu2019-one-way-to-learn-log-softmax"] = tuple(
        _estimate(_log_ratio(results, "log_softmax", a)) for a in PAIR[1:] + OTHER_ARCHITECTURES
    )
    measured["gu2019-one-way-to-learn-log-softmax"] = _ratio_text(results, "log_softmax")
    slopes, per_fraction = _noise_slopes(results, cfg)
    estimates["gu2019-dist-grows-with-label-noise"] = (_estimate(slopes),)
    measured["gu2019-dist-grows-with-label-noise"] = "Dist (mean over replicates) by fraction: " + ", ".join(
        f"{f:g}: {_finite_mean(d):.3g}" for f, d in zip(cfg["label_noise_fractions"], per_fraction)
    )
    hunting = _hunting(results)
    estimates["gu2019-hunting-stage"] = (across(hunting["X_R"] - hunting["X_T"]), across(hunting["X_T"]))
    measured["gu2019-hunting-stage"] = (
        f"hunting stage in epochs per replicate, X_T: "
        f"{', '.join(f'{v:.2f}' for v in hunting['X_T'])}; X_R: "
        f"{', '.join(f'{v:.2f}' for v in hunting['X_R'])}"
    )
    gaps, crossings = _crossing_gaps(results)
    estimates["gu2019-diverse-paths"] = (across(gaps["X_R"] - gaps["X_T"]),)
    measured["gu2019-diverse-paths"] = "crossing epochs (s1/s2 per replicate), " + "; ".join(
        f"{name}: " + ", ".join(f"{a}/{b}" for a, b in crossings[name]) for name in ("X_T", "X_R")
    )
    base = dist(results, RANDOM_LABELS, "logit")[:, 0]
    for name in ("X_R + weight decay", "X_R + augmentation"):
        regularized = dist(results, RATIO_SETTINGS[name], "logit")[:, 0]
        claim = f"gu2019-ablation-{name.split(' + ')[1].replace(' ', '-')}"
        estimates[claim] = (across(np.log10(regularized / base)),)
        measured[claim] = (
            f"Dist (mean over replicates) without: {_finite_mean(base):.3g}, with: {_finite_mean(regularized):.3g}"
        )
    accuracy = results.sel_finite("train", "val_accuracy", **TRUE_LABELS)[:, :2, -1].mean(1)
    estimates["gu2019-vgg11-test-accuracy"] = (across(accuracy - PAPER_TEST_ACCURACY),)
    measured["gu2019-vgg11-test-accuracy"] = f"held-out accuracy (mean over replicates): {_finite_mean(accuracy):.4f}"
    return Evidence(conditions(results, cfg), estimates, measured)


CHAPTER = Chapter(
    "dissection",
    paper="gu2019",
    params=PARAMS,
    parts=PARTS,
    claims=CLAIMS,
    evidence=evidence,
    networks=NETWORKS,
    preconditions=PRECONDITIONS,
    check=_check,
)
