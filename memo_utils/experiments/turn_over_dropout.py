"""Liu, Lin & Jaggi 2021, Understanding Memorization from the Perspective of Optimization via
Efficient Influence Estimation, sections 2-3.3 and Appendices A-E (Figures 2-10), with a check the
paper does not make: turn-over dropout's memorization scores against exact leave-one-out retraining
and Feldman & Zhang's subsampling estimator.

Part ``scores`` trains the one-hidden-layer MLP with turn-over dropout on MNIST, uncorrupted and
with a third of the labels random (the paper's 20,000 of 60,000), one model per seed in one batched
ensemble (:mod:`memo_utils.methods.turn_over`); after every epoch it records the training accuracy of each
example's unmuted and muted sub-networks (Figure 9), and at the end every training example's
memorization score (Equation 6), both sub-networks' predictions (Figures 2 and 7) and how alike the
lowest- and the highest-scoring images of each class are (Figure 7). Part ``validation`` trains, per
seed, on a small corrupted MNIST problem: a turn-over network, exact leave-one-out models for some
examples and random-half models for all (:mod:`memo_utils.methods.influence`). Part ``dynamics`` trains plain
MLPs (one per seed, no turn-over dropout) on MNIST with a third of the labels random and records per
epoch the training accuracy of a true-label and a random-label subset and the test accuracy
(Figure 3), the cosine similarity of the gradients of samples of both subsets (Figure 4a,
:func:`memo_utils.engine.per_example.cosine_similarity_and_contribution`) and the contribution of the easy and
the difficult members of training minibatches to the minibatch gradient (Figure 4b). Parts
``subsets`` (MNIST) and ``cifar`` (CIFAR-10) follow easy and difficult subsets (Figures 5, 6 and 8);
part ``corruption`` trains VGG-11s with more and more random labels (Figure 10).

The MNIST parts split their seeds into two cells (``seed_half``), so that ``run --jobs 2`` computes
them on both cores; :func:`per_seed` puts the halves back together.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import torch

from .. import seeds
from ..engine import data, memory, per_example
from ..engine.ensemble import MLPEnsemble, train_ensemble
from ..engine.models import VGG_LAYERS, conv_macs, vgg
from ..engine.training import accuracy, correct, train_classifier
from ..errors import ConfigError
from ..framework import profiles, stats
from ..framework.chapter import Chapter, Param, Part
from ..framework.claims import NOT_MEASURED, Definition, Evidence, Precondition, above, across, below, within
from ..methods import influence, turn_over

CELLS = ("uncorrupted", "corrupted")
SMOOTHING = 5  # epochs in Figure 3's sliding window (centred)
GRADIENT_SAMPLE = 256  # examples per set whose gradients Figure 4a compares (and the minibatch they are projected on)
CONTRIBUTION_BATCHES = 4  # training minibatches per epoch whose members' contributions Figure 4b averages
GRADIENT_CURVES = (
    "easy_cosine",
    "difficult_cosine",
    "easy_contribution",
    "difficult_contribution",
    "all_contribution",
    "easy_contribution_outside",
    "difficult_contribution_outside",
)
SCALED = "scaled down to fit the profile's time budget"
SHOWN_PER_CLASS = 6  # images per class in Figures 7 and 8
SHOWN_PER_DECILE = 24  # images per score decile in the widget
RUNS = ("full", "control", "easy_only", "difficult_only")  # Figures 5 and 6: what each run trains on
SUBSETS = ("easy", "difficult", "all", "easy_test", "difficult_test", "test")  # where Figures 5 and 6 measure accuracy
EARLY = 0.1  # "from the start": the first tenth of the epochs (at least one)
DATASET_NAMES = {"subsets": "MNIST, MLP", "cifar": "CIFAR-10, VGG-11"}  # the parts of Figures 5 and 6
SUBSET_ARRAYS = (
    "train_scores",
    "test_scores",
    "easy",
    "difficult",
    "easy_test",
    "difficult_test",
    "accuracy",
    "finite",
)

PARAMS = (
    Param(
        "train_size",
        profiles.positive_int,
        60000,
        paper="MNIST training set (60,000)",
        parts=("scores", "dynamics", "subsets"),
        by_profile={"smoke": 1000, "cpu": 5000},
        note="cpu: the first 5,000 of the bundled exact images, so that eight seeds fit the time budget",
    ),
    Param(
        "corrupted_fraction",
        profiles.fraction,
        1 / 3,
        paper="20,000 of 60,000 labels random (Figures 2b, 3)",
        parts=("scores", "dynamics"),
        note="a third of the training set, drawn per seed",
    ),
    Param(
        "hidden",
        profiles.positive_int,
        4096,
        paper="4096",
        parts=("scores", "dynamics", "subsets"),
        by_profile={"smoke": 64, "cpu": 256},
        note="units of the hidden layer (even: half are kept); " + SCALED,
    ),
    Param(
        "epochs",
        profiles.positive_int,
        200,
        paper="200 (Appendix D: a few epochs suffice for the scores)",
        parts=("scores",),
        by_profile={"smoke": 2, "cpu": 40, "gpu": 30},
        note="cpu: long enough for the sub-networks to fit the random labels (Figure 2b needs them memorised); "
        + SCALED,
    ),
    Param("lr", profiles.positive_float, 0.06, paper="0.06, no momentum", parts=("scores", "validation", "subsets")),
    Param(
        "batch_size",
        profiles.positive_int,
        256,
        paper="256",
        parts=("scores", "dynamics", "subsets", "cifar", "corruption"),
    ),
    Param(
        "dynamics_epochs",
        profiles.positive_int,
        200,
        paper="200",
        parts=("dynamics",),
        by_profile={"smoke": 2, "cpu": 100, "gpu": 100},
        note="Figures 3 and 4's training; " + SCALED,
    ),
    Param(
        "dynamics_lr",
        profiles.positive_float,
        0.01,
        paper="0.01 (Figure 3)",
        parts=("dynamics",),
        by_profile={"cpu": 0.06},
        note="cpu: the paper's main 0.06 (Appendix A: 0.01 for Figure 3 only, 'for clearer result'), so that the "
        "random labels are fitted within 100 epochs; at 0.01 SGD would need about six times as many steps",
    ),
    Param(
        "seeds",
        profiles.seed_list,
        [0, 1, 2],
        paper="one run",
        parts=("scores", "validation", "dynamics", "subsets", "cifar", "corruption"),
        by_profile={"smoke": [0], "cpu": list(range(8))},
        replicates=True,
        note="the replicates of every claim: a seed fixes the initialisation, data order, masks and random labels; "
        "cpu: eight, since the spread over seeds decides the Figure 3 to 5 claims",
    ),
    Param(
        "subset_fraction",
        profiles.fraction,
        0.2,
        paper="not stated",
        parts=("subsets", "cifar"),
        note="Figures 5 and 6: the easy subset is the lowest-scoring fifth of a split, the difficult one the "
        "highest-scoring fifth",
    ),
    Param(
        "score_epochs",
        profiles.positive_int,
        200,
        paper="not stated for Figure 5 (200 elsewhere)",
        parts=("subsets",),
        by_profile={"smoke": 1, "cpu": 10, "gpu": 20},
        note="the turn-over network that scores training and test examples for Figures 5 and 6 (Appendix D: a "
        "few epochs suffice); " + SCALED,
    ),
    Param(
        "subsets_epochs",
        profiles.positive_int,
        200,
        paper="200",
        parts=("subsets",),
        by_profile={"smoke": 2, "cpu": 20, "gpu": 60},
        note="Figures 5 and 6's MNIST runs; " + SCALED,
    ),
    Param(
        "cifar",
        profiles.flag,
        True,
        paper="CIFAR-10 with VGG-11 (Figures 5, 6, 8 and 10)",
        parts=("cifar", "corruption"),
        by_profile={"cpu": False},
        note='cpu: left out, since its VGG-11 runs take about 15 minutes on 2 cores; its claims read "not at '
        'this scale"',
    ),
    Param(
        "cifar_train_size",
        profiles.positive_int,
        50000,
        paper="CIFAR-10 training set (50,000)",
        parts=("cifar", "corruption"),
        by_profile={"smoke": 200, "cpu": 3000, "gpu": 10000},
        note="the first images of the training set; cpu: the exact 3,000; " + SCALED,
    ),
    Param(
        "cifar_test_size",
        profiles.positive_int,
        10000,
        paper="CIFAR-10 test set (10,000)",
        parts=("cifar", "corruption"),
        by_profile={"smoke": 100, "cpu": 1000},
        note="held-out images (cpu: the exact images 3,001-4,000 of the training set)",
    ),
    Param(
        "vgg_width",
        profiles.positive_float,
        1.0,
        paper="VGG-11 (1)",
        parts=("cifar", "corruption"),
        by_profile={"smoke": 1 / 16, "cpu": 1 / 4},
        note="multiplies every layer's channels; " + SCALED,
    ),
    Param(
        "cifar_epochs",
        profiles.positive_int,
        200,
        paper="200, learning rate / 10 at epochs 100 and 150",
        parts=("cifar", "corruption"),
        by_profile={"smoke": 2, "cpu": 15, "gpu": 30},
        note="the learning rate is divided by 10 at half and at three quarters of the epochs; " + SCALED,
    ),
    Param(
        "cifar_score_epochs",
        profiles.positive_int,
        200,
        paper="not stated (200 elsewhere)",
        parts=("cifar",),
        by_profile={"smoke": 1, "cpu": 5, "gpu": 10},
        note="the turn-over VGG-11 that scores the examples",
    ),
    Param("cifar_lr", profiles.positive_float, 0.01, paper="0.01, momentum 0.9", parts=("cifar", "corruption")),
    Param(
        "corrupted_fractions",
        profiles.fraction_list,
        [0.0, 0.2, 0.4, 0.6, 0.8, 1.0],
        paper="several numbers of random labels (Figure 10's legend)",
        parts=("corruption",),
        by_profile={"smoke": [0.0, 1.0], "gpu": [0.0, 0.4, 0.8]},
        note="Figure 10: random labels per run",
    ),
    Param(
        "validation_size",
        profiles.positive_int,
        1000,
        paper="(not in the paper)",
        parts=("validation",),
        by_profile={"smoke": 100, "cpu": 600},
        note="the first MNIST training images of the validation problem",
    ),
    Param(
        "validation_noise",
        profiles.fraction,
        0.2,
        paper="(not in the paper)",
        parts=("validation",),
        note="random labels in the validation problem, so that its scores spread from easy to memorized",
    ),
    Param(
        "validation_hidden",
        profiles.positive_int,
        256,
        paper="(not in the paper)",
        parts=("validation",),
        by_profile={"smoke": 16, "cpu": 128},
        note="hidden units of its MLPs",
    ),
    Param(
        "validation_epochs",
        profiles.positive_int,
        30,
        paper="(not in the paper)",
        parts=("validation",),
        by_profile={"smoke": 2, "cpu": 20},
    ),
    Param(
        "validation_batch_size",
        profiles.positive_int,
        64,
        paper="(not in the paper)",
        parts=("validation",),
        by_profile={"cpu": 50},
    ),
    Param(
        "loo_examples",
        profiles.positive_int,
        100,
        paper="(not in the paper)",
        parts=("validation",),
        by_profile={"smoke": 4, "cpu": 30},
        note="examples whose exact leave-one-out score is computed (the first)",
    ),
    Param(
        "subsampling_models",
        profiles.positive_int,
        128,
        paper="(not in the paper)",
        parts=("validation",),
        by_profile={"smoke": 4, "cpu": 32},
        note="Feldman & Zhang's models, each on a random half",
    ),
)


def _check(cfg):
    for name in ("hidden", "validation_hidden"):
        if cfg[name] % 2:
            raise ConfigError(f"{name}={cfg[name]} is not allowed: must be even (turn-over dropout keeps half)")
    if not 0 < cfg["subset_fraction"] <= 0.5:
        raise ConfigError(
            f"subset_fraction={cfg['subset_fraction']} is not allowed: must be in (0, 0.5], so that the "
            f"easy and the difficult subsets do not overlap"
        )
    channels = [max(1, round(c * cfg["vgg_width"])) for c in VGG_LAYERS["vgg11"] if c != "M"]
    if cfg["cifar"] and any(c % 2 or c < 2 for c in channels):
        raise ConfigError(
            f"vgg_width={cfg['vgg_width']} is not allowed: every VGG-11 layer must have an even number "
            f"of channels for turn-over dropout (it gives {channels}); 1/16, 1/8, 1/4, 1/2 or 1 do"
        )
    if list(cfg["corrupted_fractions"]) != sorted(set(cfg["corrupted_fractions"])):
        raise ConfigError(
            f"corrupted_fractions={cfg['corrupted_fractions']} is not allowed: list distinct shares in increasing order"
        )


def seed_halves(cfg):
    """The cells of an MNIST part: its seeds in two halves, so that ``run --jobs 2`` trains them on both cores."""
    return [{"seed_half": h} for h in range(min(2, len(cfg["seeds"])))]


def _half(cfg, cell):
    """``cfg`` with the seeds of ``cell``'s half only (the first half holds the extra seed of an odd count)."""
    every = cfg["seeds"]
    first = -(-len(every) // 2)
    return {**cfg, "seeds": every[:first] if cell["seed_half"] == 0 else every[first:]}


def per_seed(results, part, name, finite=False, **coords):
    """Array ``name`` of ``part`` for every seed, its seed halves' cells stacked along their leading (seed)
    axis; with ``finite``, the values of a diverged run are nan
    (:meth:`memo_utils.framework.chapter.Results.sel_finite`)."""
    pick = results.sel_finite if finite else results.sel
    halves = sorted({c["seed_half"] for p, c, _ in results if p == part and "seed_half" in c})
    if not halves:
        return pick(part, name, **coords)
    return np.concatenate([pick(part, name, seed_half=h, **coords) for h in halves])


def _mnist(inputs, n, device):
    mnist = inputs["mnist"]
    (x,) = data.standardize(data.to_tensor(mnist.x_train[:n], device))
    return x.flatten(1), torch.as_tensor(mnist.y_train[:n], dtype=torch.long, device=device)


def _mnist_test(inputs, n, device):
    """The MNIST test set, standardized with the statistics of the first ``n`` training images (as ``_mnist``)."""
    mnist = inputs["mnist"]
    (x_test,) = data.standardize(data.to_tensor(mnist.x_train[:n], device), data.to_tensor(mnist.x_test, device))[1:]
    return x_test.flatten(1), torch.as_tensor(mnist.y_test, dtype=torch.long, device=device)


def _compute_scores(cfg, cell, inputs, device):
    cfg = _half(cfg, cell)
    x, y = _mnist(inputs, cfg["train_size"], device)
    run_seeds = [seeds.runs(s, 1)[0] for s in cfg["seeds"]]
    fraction = cfg["corrupted_fraction"] if cell["labels"] == "corrupted" else 0.0
    labels, corrupted = [], []
    for s in cfg["seeds"]:
        _, ys, mask = data.corrupt(
            x, y, kind="randY", fraction=fraction, generator=torch.Generator().manual_seed(seeds.noise(s))
        )
        labels.append(ys)
        corrupted.append(mask)
    labels = torch.stack(labels)
    ensemble = MLPEnsemble([784, cfg["hidden"], 10], run_seeds, device, output_bias=False)
    ids = torch.arange(len(x), device=device)
    mask_seeds = list(cfg["seeds"])  # model k's masks come from its own seed
    accuracy = {"unmuted": [], "muted": []}

    def sub_network_predictions(ens):
        return {
            name: turn_over.predictions(ens, x, ids, mask_seeds, flipped)
            for name, flipped in (("unmuted", False), ("muted", True))
        }

    def record(step, ens):
        for name, predicted in sub_network_predictions(ens).items():
            accuracy[name].append((predicted == labels).float().mean(1).cpu().numpy())

    steps_per_epoch = -(-len(x) // cfg["batch_size"])
    finite = train_ensemble(
        ensemble,
        x,
        labels,
        order_seeds=run_seeds,
        epochs=cfg["epochs"],
        batch_size=cfg["batch_size"],
        lr=cfg["lr"],
        hidden_masks=turn_over.ensemble_masks(ensemble, mask_seeds),
        checkpoints=[steps_per_epoch * (e + 1) for e in range(cfg["epochs"])],
        callback=record,
    )
    final = sub_network_predictions(ensemble)
    scores = turn_over.scores(ensemble, x, labels, ids, mask_seeds)
    shown = shown_examples(scores[0].cpu().numpy(), labels[0].cpu().numpy())
    images = inputs["mnist"].x_train
    extremes = [shown_examples(s.cpu().numpy(), y_k.cpu().numpy()) for s, y_k in zip(scores, labels)]
    similarity = {
        name: np.array([[mean_pairwise_cosine(images[index]) for index in e[name]] for e in extremes])
        for name in ("lowest_per_class", "highest_per_class")
    }
    return {
        **shown,
        **{f"{name}_images": images[index] for name, index in shown.items()},
        "lowest_similarity": similarity["lowest_per_class"],
        "highest_similarity": similarity["highest_per_class"],
        "seed": np.array(cfg["seeds"]),
        "scores": scores.cpu().numpy().astype(np.float32),
        "labels": labels.cpu().numpy().astype(np.int8),
        "corrupted": torch.stack(corrupted).numpy(),
        "unmuted_prediction": final["unmuted"].cpu().numpy().astype(np.int8),
        "muted_prediction": final["muted"].cpu().numpy().astype(np.int8),
        "unmuted_accuracy": np.array(accuracy["unmuted"]).T,
        "muted_accuracy": np.array(accuracy["muted"]).T,
        "finite": finite.cpu().numpy(),
    }


def shown_examples(scores, labels, per_class=SHOWN_PER_CLASS, per_decile=SHOWN_PER_DECILE):
    """Indices of the training images the figures show (the first seed's scores): the lowest and highest
    scores of every class (Figure 7), and evenly spaced examples of every score decile (the widget)."""
    lowest, highest = [], []
    for digit in range(10):
        members = np.flatnonzero(labels == digit)
        ranked = members[np.argsort(scores[members], kind="stable")]
        lowest.append(ranked[:per_class])
        highest.append(ranked[::-1][:per_class])
    order = np.argsort(scores, kind="stable")
    deciles = [order[d * len(order) // 10 : (d + 1) * len(order) // 10] for d in range(10)]
    spread = [band[np.linspace(0, len(band) - 1, per_decile).astype(int)] for band in deciles]
    return {
        "lowest_per_class": np.array(lowest),
        "highest_per_class": np.array(highest),
        "decile_examples": np.array(spread),
    }


def mean_pairwise_cosine(images):
    """The mean cosine similarity of the pixels of every pair of distinct images: how alike they look (Figure 7's
    "typical pattern" that "shares a lot of similarities")."""
    v = np.asarray(images, dtype=np.float64).reshape(len(images), -1)
    v = v / np.linalg.norm(v, axis=1, keepdims=True).clip(1e-30)
    gram = v @ v.T
    return float((gram.sum() - np.trace(gram)) / (len(v) * (len(v) - 1)))


def _compute_validation(cfg, cell, inputs, device):
    cfg = _half(cfg, cell)
    x, y = _mnist(inputs, cfg["validation_size"], device)
    sizes = [784, cfg["validation_hidden"], 10]
    train = dict(epochs=cfg["validation_epochs"], batch_size=cfg["validation_batch_size"], lr=cfg["lr"])
    loo, subsampled, scores, corrupted = [], [], [], []
    examples = torch.arange(min(cfg["loo_examples"], len(x)))
    for s in cfg["seeds"]:
        _, ys, mask = data.corrupt(
            x,
            y,
            kind="randY",
            fraction=cfg["validation_noise"],
            generator=torch.Generator().manual_seed(seeds.noise(s)),
        )
        run_seed = seeds.runs(s, 1)[0]
        loo.append(influence.leave_one_out(sizes, x, ys, examples, seed=run_seed, **train))
        subsampled.append(influence.subsampling(sizes, x, ys, models=cfg["subsampling_models"], seed=run_seed, **train))
        ensemble = MLPEnsemble(sizes, [run_seed], device, output_bias=False)
        train_ensemble(
            ensemble, x, ys, order_seeds=[run_seed], hidden_masks=turn_over.ensemble_masks(ensemble, s), **train
        )
        scores.append(turn_over.scores(ensemble, x, ys, torch.arange(len(x), device=device), s)[0])
        corrupted.append(mask)
    as_array = lambda values: torch.stack(values).cpu().numpy()
    return {
        "seed": np.array(cfg["seeds"]),
        "loo": as_array(loo),
        "subsampling": as_array(subsampled),
        "turn_over": as_array(scores),
        "corrupted": as_array(corrupted),
    }


def _compute_dynamics(cfg, cell, inputs, device):
    """Figures 3 and 4: per seed, a plain MLP on MNIST with a third of the labels random; per epoch the training
    accuracy of a true-label subset and of a random-label subset (each a sixth of the training set), and the test
    accuracy; and the gradient statistics of :func:`_gradient_statistics`."""
    cfg = _half(cfg, cell)
    x, y = _mnist(inputs, cfg["train_size"], device)
    x_test, y_test = _mnist_test(inputs, cfg["train_size"], device)
    run_seeds = [seeds.runs(s, 1)[0] for s in cfg["seeds"]]
    labels, corrupted, subsets = [], [], []
    for s in cfg["seeds"]:
        _, ys, mask = data.corrupt(
            x,
            y,
            kind="randY",
            fraction=cfg["corrupted_fraction"],
            generator=torch.Generator().manual_seed(seeds.noise(s)),
        )
        labels.append(ys)
        corrupted.append(mask)
        size = len(x) // 6  # the paper's 10,000 of 60,000
        subsets.append(torch.stack([torch.nonzero(~mask)[:size, 0], torch.nonzero(mask)[:size, 0]]))
    labels, subsets = torch.stack(labels), torch.stack(subsets).to(device)  # (K, N), (K, 2, size)
    corrupted = torch.stack(corrupted).to(device)
    ensemble = MLPEnsemble([784, cfg["hidden"], 10], run_seeds, device)
    curves = {
        name: []
        for name in ("true_subset_accuracy", "random_subset_accuracy", "train_accuracy", "test_accuracy")
        + GRADIENT_CURVES
    }
    rows = torch.arange(len(run_seeds), device=device)[:, None]
    gradients = _gradient_statistics(
        x, labels, corrupted, subsets, [seeds.runs(s, 3)[1:] for s in cfg["seeds"]], cfg["batch_size"]
    )

    def record(step, ens):
        for name, values in gradients(ens).items():
            curves[name].append(values.cpu().numpy())
        right = ens.predict(x) == labels
        curves["true_subset_accuracy"].append(right[rows, subsets[:, 0]].float().mean(1).cpu().numpy())
        curves["random_subset_accuracy"].append(right[rows, subsets[:, 1]].float().mean(1).cpu().numpy())
        curves["train_accuracy"].append(right.float().mean(1).cpu().numpy())
        curves["test_accuracy"].append((ens.predict(x_test) == y_test).float().mean(1).cpu().numpy())

    steps_per_epoch = -(-len(x) // cfg["batch_size"])
    finite = train_ensemble(
        ensemble,
        x,
        labels,
        order_seeds=run_seeds,
        epochs=cfg["dynamics_epochs"],
        batch_size=cfg["batch_size"],
        lr=cfg["dynamics_lr"],
        callback=record,
        checkpoints=[steps_per_epoch * (e + 1) for e in range(cfg["dynamics_epochs"])],
    )
    return {
        "seed": np.array(cfg["seeds"]),
        "finite": finite.cpu().numpy(),
        **{name: np.array(values).T for name, values in curves.items()},
    }


def _gradient_statistics(x, labels, corrupted, subsets, batch_seeds, batch_size):
    """A function of the ensemble that gives Figure 4's statistics per model (K,):

    - ``easy_cosine``, ``difficult_cosine``: Equation 3, the mean pairwise cosine similarity of the loss gradients
      of a fixed sample of the true-label (easy) and of the random-label (difficult) subset;
    - ``easy_contribution``, ``difficult_contribution``, ``all_contribution``: Equation 4 as the paper measures it
      (its footnote 2: the gradient of "each example in the batch"): the projection v_i . g / |g| of each member's
      gradient on its minibatch's gradient g, averaged over the batch's true-label, random-label and all members,
      over ``CONTRIBUTION_BATCHES`` random minibatches (fresh ones each call, from the second of each model's
      ``batch_seeds`` pair, the first fixing the sample outside the minibatch);
    - ``easy_contribution_outside``, ``difficult_contribution_outside``: the same projection for the fixed samples,
      which lie outside a fixed minibatch: without a member's own share of g (a check, not the paper's measure).
    """
    k, n = labels.shape
    rows = torch.arange(k, device=labels.device)[:, None]
    sample, size = min(GRADIENT_SAMPLE, subsets.shape[-1]), min(batch_size, n)
    samples = {"easy": subsets[:, 0, :sample], "difficult": subsets[:, 1, :sample]}
    fixed_batch = torch.stack(
        [torch.randperm(n, generator=torch.Generator().manual_seed(s))[:size] for s, _ in batch_seeds]
    ).to(labels.device)
    generators = [torch.Generator().manual_seed(s) for _, s in batch_seeds]
    factors = lambda ens, idx: per_example.mlp_gradient_factors(ens, x[idx], labels[rows, idx])

    def statistics(ens):
        out = {}
        fixed = factors(ens, fixed_batch)
        for name, idx in samples.items():
            out[f"{name}_cosine"], out[f"{name}_contribution_outside"] = per_example.cosine_similarity_and_contribution(
                factors(ens, idx), fixed
            )
        members = {"easy": [], "difficult": [], "all": []}
        for _ in range(CONTRIBUTION_BATCHES):
            idx = torch.stack([torch.randperm(n, generator=g)[:size] for g in generators]).to(labels.device)
            contribution = in_batch_contributions(factors(ens, idx))
            random = corrupted[rows, idx].to(contribution.dtype)
            members["easy"].append((contribution * (1 - random)).sum(1) / (1 - random).sum(1))
            members["difficult"].append((contribution * random).sum(1) / random.sum(1))
            members["all"].append(contribution.mean(1))
        return {**out, **{f"{name}_contribution": torch.stack(v).mean(0) for name, v in members.items()}}

    return statistics


def in_batch_contributions(factors):
    """Equation 4 for every member of a minibatch, from its :func:`memo_utils.engine.per_example.mlp_gradient_factors`:
    v_i . g / |g| with g the mean of the members' gradients v_j, (K, B). Their mean over the batch is |g|."""
    gram = per_example.gradient_gram(factors, factors)  # (K, B, B): v_i . v_j
    return gram.mean(-1) / gram.mean((1, 2)).clamp_min(1e-30).sqrt()[:, None]


def split_by_score(scores, fraction):
    """Indices (K, n) of the lowest- and of the highest-scoring ``fraction`` of each row of ``scores`` (K, N):
    the easy and the difficult subsets."""
    n = max(1, round(fraction * scores.shape[-1]))
    order = torch.argsort(scores, dim=-1, stable=True)
    return order[:, :n], order.flip(-1)[:, :n]


def _subsets(train_scores, test_scores, fraction):
    easy, difficult = split_by_score(train_scores, fraction)
    easy_test, difficult_test = split_by_score(test_scores, fraction)
    return {"easy": easy, "difficult": difficult, "easy_test": easy_test, "difficult_test": difficult_test}


def _kept(subsets, n):
    """(K, len(RUNS), N) bool: the training examples of every run of Figures 5 and 6."""
    k = len(subsets["easy"])
    rows = torch.arange(k, device=subsets["easy"].device)[:, None]
    keep = torch.zeros(k, len(RUNS), n, dtype=torch.bool, device=subsets["easy"].device)
    keep[:, RUNS.index("full")] = True
    keep[:, RUNS.index("control")] = True
    keep[rows, RUNS.index("control"), subsets["difficult"]] = False
    keep[rows, RUNS.index("easy_only"), subsets["easy"]] = True
    keep[rows, RUNS.index("difficult_only"), subsets["difficult"]] = True
    return keep


def _subset_accuracy(right, right_test, subsets):
    """(K, len(SUBSETS)) accuracy on every subset, from per-example correctness (K, N) and (K, M)."""
    rows = torch.arange(len(right), device=right.device)[:, None]
    values = []
    for name in SUBSETS:
        on = right_test if name.endswith("test") else right
        values.append(on.float().mean(1) if name in ("all", "test") else on[rows, subsets[name]].float().mean(1))
    return torch.stack(values, 1)


def _subset_arrays(train_scores, test_scores, subsets, accuracy, finite):
    """What the subsets and cifar parts store: scores, subsets, accuracy (K, run, subset, epoch), finite (K, run)."""
    as_numpy = lambda t: t.cpu().numpy()
    return {
        "train_scores": as_numpy(train_scores).astype(np.float32),
        "test_scores": as_numpy(test_scores).astype(np.float32),
        **{name: as_numpy(idx) for name, idx in subsets.items()},
        "accuracy": np.asarray(accuracy, dtype=np.float32),
        "finite": np.asarray(finite, dtype=bool),
    }


def _compute_subsets(cfg, cell, inputs, device):
    """Figures 5 and 6 on MNIST. Per seed, a turn-over MLP trained on the training and the test examples scores
    both (a test example's memorization score is its self-influence had it been trained on); the lowest- and
    highest-scoring fifths of each split are its easy and difficult subsets. Then plain MLPs, one per seed and run
    (RUNS), trained as one ensemble on the training set only, record the accuracy of every subset per epoch."""
    cfg = _half(cfg, cell)
    x, y = _mnist(inputs, cfg["train_size"], device)
    x_test, y_test = _mnist_test(inputs, cfg["train_size"], device)
    x_all, y_all = torch.cat([x, x_test]), torch.cat([y, y_test])
    k, n = len(cfg["seeds"]), len(x)
    score_seeds, run_seeds = zip(*(seeds.runs(s, 2) for s in cfg["seeds"]))
    scorer = MLPEnsemble([784, cfg["hidden"], 10], score_seeds, device, output_bias=False)
    score_finite = train_ensemble(
        scorer,
        x_all,
        y_all,
        order_seeds=score_seeds,
        epochs=cfg["score_epochs"],
        batch_size=cfg["batch_size"],
        lr=cfg["lr"],
        hidden_masks=turn_over.ensemble_masks(scorer, list(cfg["seeds"])),
    )
    scores = turn_over.scores(scorer, x_all, y_all, torch.arange(len(x_all), device=device), list(cfg["seeds"]))
    subsets = _subsets(scores[:, :n], scores[:, n:], cfg["subset_fraction"])
    # one ensemble of len(RUNS) x K models, run-major: model r * K + k is run r of seed k, from seed k's init
    ensemble = MLPEnsemble([784, cfg["hidden"], 10], list(run_seeds) * len(RUNS), device)
    keep = _kept(subsets, n).transpose(0, 1).flatten(0, 1)
    repeated = {name: idx.repeat(len(RUNS), 1) for name, idx in subsets.items()}
    accuracy = []

    def record(step, ens):
        accuracy.append(
            _subset_accuracy(ens.predict(x) == y, ens.predict(x_test) == y_test, repeated)
            .view(len(RUNS), k, len(SUBSETS))
            .transpose(0, 1)
            .cpu()
            .numpy()
        )

    steps_per_epoch = -(-n // cfg["batch_size"])
    finite = train_ensemble(
        ensemble,
        x,
        y,
        order_seeds=list(run_seeds) * len(RUNS),
        epochs=cfg["subsets_epochs"],
        batch_size=cfg["batch_size"],
        lr=cfg["lr"],
        keep=keep,
        callback=record,
        checkpoints=[steps_per_epoch * (e + 1) for e in range(cfg["subsets_epochs"])],
    )
    finite = finite.view(len(RUNS), k).T & score_finite[:, None]
    return {
        "seed": np.array(cfg["seeds"]),
        **_subset_arrays(scores[:, :n], scores[:, n:], subsets, np.stack(accuracy, -1), finite.cpu().numpy()),
    }


def _cifar(cfg, inputs, device):
    """The standardized CIFAR-10 training and held-out images, with their labels."""
    cifar, n, m = inputs["cifar10"], cfg["cifar_train_size"], cfg["cifar_test_size"]
    if len(cifar.x_test) < m:
        raise ConfigError(
            f"cifar_test_size={m} is not allowed: the data source holds {len(cifar.x_test)} held-out images"
        )
    x, x_test = data.standardize(data.to_tensor(cifar.x_train[:n], device), data.to_tensor(cifar.x_test[:m], device))
    label = lambda values: torch.as_tensor(values, dtype=torch.long, device=device)
    return x, label(cifar.y_train[:n]), x_test, label(cifar.y_test[:m])


def _vgg11(cfg, seed, device, turn_over_masks=False):
    """VGG-11 without batch norm (He-initialised from ``seed``; with turn-over masks, no output bias)."""
    torch.manual_seed(seed)
    network = vgg("vgg11", width=cfg["vgg_width"], he_init=True, output_bias=not turn_over_masks)
    return (turn_over.Masked(network) if turn_over_masks else network).to(device)


def _vgg_training(cfg, epochs):
    """Appendix A's CIFAR-10 schedule, scaled to ``epochs``: momentum 0.9, the learning rate / 10 at half and at
    three quarters of training (the paper's epochs 100 and 150 of 200)."""
    return dict(epochs=epochs, lr=cfg["cifar_lr"], momentum=0.9, lr_drops=[epochs // 2, 3 * epochs // 4])


def _compute_cifar(cfg, cell, inputs, device):
    """Figures 5 (right), 6 and 8: as :func:`_compute_subsets`, with a turn-over VGG-11 (spatial masks) as the
    scorer and plain VGG-11s, one seed and run at a time. A run on a subset takes as many steps per epoch as the
    full run, each on the subset's share of a minibatch, as the MNIST ensemble does."""
    x, y, x_test, y_test = _cifar(cfg, inputs, device)
    x_all, y_all = torch.cat([x, x_test]), torch.cat([y, y_test])
    n, ids = len(x), torch.arange(len(x_all), device=device)
    scores, predictions, curves_per_seed, finite, per_seed_subsets = [], {}, [], [], []
    for s in cfg["seeds"]:
        score_seed, run_seed = seeds.runs(s, 2)
        scorer = _vgg11(cfg, score_seed, device, turn_over_masks=True)
        _, ok = train_classifier(
            scorer,
            x_all,
            y_all,
            batch_size=cfg["batch_size"],
            seed=score_seed,
            masks=turn_over.module_masks(scorer, s),
            **_vgg_training(cfg, cfg["cifar_score_epochs"]),
        )
        scores.append(turn_over.scores(scorer, x_all, y_all, ids, s)[0])
        if not predictions:  # Figure 8 shows the first seed's sub-networks
            predictions = {
                f"{name}_prediction": turn_over.predictions(scorer, x, ids[:n], s, flipped)[0].cpu().numpy()
                for name, flipped in (("unmuted", False), ("muted", True))
            }
        subsets = _subsets(scores[-1][None, :n], scores[-1][None, n:], cfg["subset_fraction"])
        per_seed_subsets.append(subsets)
        keep = _kept(subsets, n)[0]
        curves, runs_ok = [], []
        for r in range(len(RUNS)):
            kept = torch.nonzero(keep[r])[:, 0]
            model, curve = _vgg11(cfg, run_seed, device), []
            record = lambda epoch, m: curve.append(
                _subset_accuracy(correct(m, x, y)[None], correct(m, x_test, y_test)[None], subsets)[0].cpu().numpy()
            )
            _, run_ok = train_classifier(
                model,
                x[kept],
                y[kept],
                seed=run_seed,
                callback=record,
                batch_size=max(1, round(cfg["batch_size"] * len(kept) / n)),
                **_vgg_training(cfg, cfg["cifar_epochs"]),
            )
            curves.append(np.stack(curve, -1))
            runs_ok.append(run_ok and ok)
        curves_per_seed.append(curves)
        finite.append(runs_ok)
    scores = torch.stack(scores)
    subsets = {name: torch.cat([s[name] for s in per_seed_subsets]) for name in per_seed_subsets[0]}
    shown = shown_examples(scores[0, :n].cpu().numpy(), y.cpu().numpy())
    images = inputs["cifar10"].x_train
    return {
        "seed": np.array(cfg["seeds"]),
        "labels": y.cpu().numpy().astype(np.int8),
        **predictions,
        **shown,
        **{f"{name}_images": images[index] for name, index in shown.items()},
        **_subset_arrays(scores[:, :n], scores[:, n:], subsets, curves_per_seed, finite),
    }


def _compute_corruption(cfg, cell, inputs, device):
    """Figure 10: per seed, a plain VGG-11 on CIFAR-10 with ``cell["fraction"]`` of the labels random; training
    accuracy on its labels (running, over each epoch's minibatches) and test accuracy per epoch."""
    x, y, x_test, y_test = _cifar(cfg, inputs, device)
    train_accuracy, test_accuracy, finite = [], [], []
    for s in cfg["seeds"]:
        _, labels, _ = data.corrupt(
            x, y, kind="randY", fraction=cell["fraction"], generator=torch.Generator().manual_seed(seeds.noise(s))
        )
        run_seed = seeds.runs(s, 1)[0]
        model, curve = _vgg11(cfg, run_seed, device), []
        history, ok = train_classifier(
            model,
            x,
            labels,
            batch_size=cfg["batch_size"],
            seed=run_seed,
            callback=lambda epoch, m: curve.append(accuracy(m, x_test, y_test)),
            **_vgg_training(cfg, cfg["cifar_epochs"]),
        )
        train_accuracy.append(history["accuracy"])
        test_accuracy.append(curve)
        finite.append(ok)
    return {
        "seed": np.array(cfg["seeds"]),
        "train_accuracy": np.array(train_accuracy),
        "test_accuracy": np.array(test_accuracy),
        "finite": np.array(finite),
    }


def smoothed(curves, window=SMOOTHING):
    """A centred sliding mean over epochs (the window shrinks at the ends), as the paper smooths Figure 3."""
    curves = np.asarray(curves, dtype=float)
    half = window // 2
    padded = np.concatenate(
        [np.full(curves.shape[:-1] + (half,), np.nan), curves, np.full(curves.shape[:-1] + (half,), np.nan)], axis=-1
    )
    windows = np.stack([padded[..., i : i + curves.shape[-1]] for i in range(window)])
    return np.nanmean(windows, axis=0)


def _seed_count(cfg, cell):
    return len(_half(cfg, cell)["seeds"])


def _scores_work(cfg, cell):
    return _seed_count(cfg, cell) * cfg["epochs"] * cfg["train_size"] * 784 * cfg["hidden"] * 5


def _validation_work(cfg, cell):
    models = 1 + cfg["loo_examples"] + 1 + cfg["subsampling_models"]
    return (
        _seed_count(cfg, cell)
        * models
        * cfg["validation_epochs"]
        * cfg["validation_size"]
        * 784
        * cfg["validation_hidden"]
        * 3
    )


@lru_cache(maxsize=None)
def _vgg_macs_at(width):
    return conv_macs(vgg("vgg11", width=width))


def _vgg_macs(cfg):
    return _vgg_macs_at(cfg["vgg_width"])


def _subsets_work(cfg, cell):
    n, scored = cfg["train_size"], cfg["train_size"] + 10000
    per_example = 784 * cfg["hidden"]
    return (
        _seed_count(cfg, cell)
        * per_example
        * (3 * cfg["score_epochs"] * scored + cfg["subsets_epochs"] * len(RUNS) * (3 * n + scored))
    )


def _cifar_work(cfg, cell):
    n, m = cfg["cifar_train_size"], cfg["cifar_test_size"]
    kept = 1 + (1 - cfg["subset_fraction"]) + 2 * cfg["subset_fraction"]  # the four runs' shares of the training set
    return (
        len(cfg["seeds"])
        * _vgg_macs(cfg)
        * (4 * cfg["cifar_score_epochs"] * (n + m) + cfg["cifar_epochs"] * (3 * kept * n + len(RUNS) * (n + m)))
    )


def _corruption_work(cfg, cell):
    return (
        len(cfg["seeds"])
        * _vgg_macs(cfg)
        * cfg["cifar_epochs"]
        * (3 * cfg["cifar_train_size"] + cfg["cifar_test_size"])
    )


def _cifar_sizes(cfg):
    return {"cifar10": cfg["cifar_train_size"]}


def _mlp_memory(models, hidden, n, batch):
    """``models`` MLPs (784 - hidden - 10) trained on ``n`` MNIST images; scoring passes take chunks of 4096."""
    return memory.needed(memory.mlp((784, hidden, 10), max(batch, min(n, 4096)), models), data=memory.images(n, (784,)))


def _vgg_memory(cfg, cell):
    """One VGG-11 at a time on minibatches, and the CIFAR-10 training and held-out images."""
    network = memory.network(lambda: vgg("vgg11", width=cfg["vgg_width"]), (3, 32, 32), cfg["batch_size"])
    return memory.needed(network, data=memory.images(cfg["cifar_train_size"] + cfg["cifar_test_size"], (3, 32, 32)))


SCORE_ARRAYS = (
    "scores",
    "labels",
    "corrupted",
    "unmuted_prediction",
    "muted_prediction",
    "unmuted_accuracy",
    "muted_accuracy",
    "finite",
    "lowest_similarity",
    "highest_similarity",
)
PARTS = (
    Part(
        "scores",
        version=2,
        compute=_compute_scores,
        datasets=lambda cfg: {"mnist": cfg["train_size"]},
        cells=lambda cfg: [{"labels": c, **half} for c in CELLS for half in seed_halves(cfg)],
        work=_scores_work,
        memory=lambda cfg, cell: _mlp_memory(
            _seed_count(cfg, cell), cfg["hidden"], cfg["train_size"], cfg["batch_size"]
        ),
        dims={name: ("seed",) for name in SCORE_ARRAYS},
    ),
    Part(
        "validation",
        version=2,
        compute=_compute_validation,
        datasets=lambda cfg: {"mnist": cfg["validation_size"]},
        cells=seed_halves,
        work=_validation_work,
        memory=lambda cfg, cell: _mlp_memory(
            1, cfg["validation_hidden"], cfg["validation_size"], cfg["validation_batch_size"]
        ),
        dims={name: ("seed",) for name in ("loo", "subsampling", "turn_over", "corrupted")},
    ),
    Part(
        "dynamics",
        version=3,
        compute=_compute_dynamics,
        datasets=lambda cfg: {"mnist": cfg["train_size"]},
        cells=seed_halves,
        work=lambda cfg, cell: (
            _seed_count(cfg, cell) * cfg["dynamics_epochs"] * cfg["train_size"] * 784 * cfg["hidden"] * 5
        ),
        memory=lambda cfg, cell: _mlp_memory(
            _seed_count(cfg, cell), cfg["hidden"], cfg["train_size"], cfg["batch_size"]
        ),
        dims={
            name: ("seed",)
            for name in ("true_subset_accuracy", "random_subset_accuracy", "train_accuracy", "test_accuracy", "finite")
            + GRADIENT_CURVES
        },
    ),
    Part(
        "subsets",
        version=2,
        compute=_compute_subsets,
        datasets=lambda cfg: {"mnist": cfg["train_size"]},
        cells=seed_halves,
        work=_subsets_work,
        dims={name: ("seed",) for name in SUBSET_ARRAYS},
        memory=lambda cfg, cell: _mlp_memory(
            (1 + len(RUNS)) * _seed_count(cfg, cell), cfg["hidden"], cfg["train_size"], cfg["batch_size"]
        ),
    ),
    Part(
        "cifar",
        version=1,
        compute=_compute_cifar,
        cells=lambda cfg: [{}] if cfg["cifar"] else [],
        datasets=_cifar_sizes,
        work=_cifar_work,
        flops_per_work=2,  # the work counts VGG-11's convolution MACs, backward passes included
        memory=_vgg_memory,
        dims={name: ("seed",) for name in SUBSET_ARRAYS},
    ),
    Part(
        "corruption",
        version=2,
        compute=_compute_corruption,
        datasets=_cifar_sizes,
        work=_corruption_work,
        flops_per_work=2,
        memory=_vgg_memory,
        cells=lambda cfg: [{"fraction": f} for f in cfg["corrupted_fractions"]] if cfg["cifar"] else [],
        dims={name: ("seed",) for name in ("train_accuracy", "test_accuracy", "finite")},
    ),
)


def subset_accuracy(results, part, run, subset):
    """Accuracy (seed, epoch) of ``run`` (RUNS) on ``subset`` (SUBSETS); nan for a diverged run."""
    return per_seed(results, part, "accuracy", finite=True)[:, RUNS.index(run), SUBSETS.index(subset)]


def defined_spearman(estimates, reference):
    """Spearman's correlation over the examples whose reference and estimate are both finite, and how many were
    left out: a subsampling score is undefined for an example that every model or none kept, and a leave-one-out
    score for a diverged model (:mod:`memo_utils.methods.influence`)."""
    defined = np.isfinite(estimates) & np.isfinite(reference)
    rho = stats.spearman(estimates[defined], reference[defined]) if defined.sum() > 2 else float("nan")
    return rho, int((~defined).sum())


# --- Claims, registered before the results (memo_utils.framework.claims) ------------------------------------

NETWORKS = {
    "clean": "turn-over MLPs on uncorrupted MNIST (Figures 2a and 7)",
    "clean curves": "the same turn-over MLPs' sub-network accuracies as training proceeds (Figure 9)",
    "corrupted": "turn-over MLPs on MNIST with a third of the labels random (Figure 2b)",
    "validation": "the validation problem's turn-over, leave-one-out and random-half MLPs (beyond the paper)",
    "dynamics": "plain MLPs on MNIST with a third of the labels random (Figures 3 and 4)",
    "mnist full": "MLPs on all MNIST training images, and the control run without the difficult subset (Figure 5)",
    "mnist subset-only": "MLPs on MNIST's easy subset only or its difficult subset only (Figure 6, on MNIST)",
    "cifar full": "VGG-11s on all CIFAR-10 training images, and the control run without the difficult subset "
    "(Figure 5)",
    "cifar subset-only": "VGG-11s on CIFAR-10's easy subset only or its difficult subset only (Figure 6)",
    "cifar noise": "VGG-11s on CIFAR-10 with different shares of random labels (Figure 10)",
}
FITTED = 0.9
FITTED_REASON = (
    "the paper trains to convergence (200 epochs), where a network fits its true labels; below 90% it has "
    "not learned them"
)
MEMORISED = 0.55
MEMORISED_REASON = (
    "a random label can only be memorised (section 3.1: 'the model has no option but to memorize'), and "
    "the paper's 200 epochs fit them; we require half of them fitted beyond chance (0.1 + 0.9 / 2)"
)
GENERALIZES = {"mnist": 0.8, "cifar10": 0.7}
GENERALIZES_REASON = (
    "Figure 5's test curves are those of a network that learned the task; the paper prints no "
    "accuracy, so we require about three quarters of the way from chance (0.1) to what this network "
    "reaches when trained as the paper does (about 0.98 for an MLP on MNIST, 0.9 for VGG-11 on "
    "CIFAR-10)"
)
PAPER_FEW_EPOCHS = 5  # Appendix D's "first a few epochs", of the paper's 200
PAPER_STEPS = -(-PAPER_FEW_EPOCHS * 60000 // 256)  # the SGD steps of those epochs in the paper (batch 256)
CIFAR_OFF = " (not run when cifar is off, as at the cpu profile)"
PRECONDITIONS = (
    Precondition(
        "clean-fitted",
        ("clean", "clean curves"),
        "clean turn-over MLPs: the unmuted sub-networks' final training accuracy, mean over seeds",
        FITTED,
        FITTED_REASON,
    ),
    Precondition(
        "clean-long-enough",
        ("clean curves",),
        f"clean turn-over MLPs: SGD steps trained, in units of the paper's first {PAPER_FEW_EPOCHS} epochs "
        f"({PAPER_STEPS:,} steps of 256 of its 60,000 images)",
        2.0,
        "Appendix D's claim is about the paper's first few epochs and the stable stretch after them: training "
        "must last at least twice as many SGD steps to show both",
    ),
    Precondition(
        "corrupted-true-fitted",
        ("corrupted",),
        "corrupted turn-over MLPs: the unmuted sub-networks' final training accuracy on the true-label "
        "examples, mean over seeds",
        FITTED,
        FITTED_REASON,
    ),
    Precondition(
        "corrupted-memorised",
        ("corrupted",),
        "corrupted turn-over MLPs: the unmuted sub-networks' final training accuracy on the random-label "
        "examples, mean over seeds",
        MEMORISED,
        MEMORISED_REASON,
    ),
    Precondition(
        "validation-defined",
        ("validation",),
        "validation problem: share of the examples whose reference score is defined, the lower of leave-one-out's "
        "and subsampling's, mean over seeds",
        0.9,
        "a rank correlation over fewer than nine examples in ten would describe a selected subset",
    ),
    Precondition(
        "dynamics-true-fitted",
        ("dynamics",),
        "plain MLPs: the true-label subset's final smoothed training accuracy, mean over seeds",
        FITTED,
        "section 3.2: the paper's network 'has successfully fitted the real data'; " + FITTED_REASON,
    ),
    Precondition(
        "dynamics-memorised",
        ("dynamics",),
        "plain MLPs: the random-label subset's final smoothed training accuracy, mean over seeds",
        MEMORISED,
        "Figure 3b: the test accuracy 'drops with the random data improving its training accuracy'; "
        + MEMORISED_REASON,
    ),
    *(
        precondition
        for key, part in (("mnist", "subsets"), ("cifar10", "cifar"))
        for precondition in (
            Precondition(
                f"{key}-generalizes",
                (f"{key[:5]} full",),
                f"{DATASET_NAMES[part]}: the full run's final test accuracy, mean over seeds"
                + (CIFAR_OFF if part == "cifar" else ""),
                GENERALIZES[key],
                GENERALIZES_REASON,
            ),
            Precondition(
                f"{key}-easy-fitted",
                (f"{key[:5]} full",),
                f"{DATASET_NAMES[part]}: the full run's final training accuracy on the easy subset, mean over seeds"
                + (CIFAR_OFF if part == "cifar" else ""),
                FITTED,
                FITTED_REASON,
            ),
            Precondition(
                f"{key}-subsets-fitted",
                (f"{key[:5]} subset-only",),
                f"{DATASET_NAMES[part]}: each subset-only run's final training accuracy on its own subset, the "
                f"lower mean over seeds of the two" + (CIFAR_OFF if part == "cifar" else ""),
                FITTED,
                "Figure 6 compares what each run learned of the other subset, once it 'enables a fast convergence' "
                "on its own; " + FITTED_REASON,
            ),
        )
    ),
    Precondition(
        "noise-least-fitted",
        ("cifar noise",),
        "VGG-11s with the fewest random labels: final training accuracy, mean over seeds" + CIFAR_OFF,
        FITTED,
        FITTED_REASON,
    ),
    Precondition(
        "noise-memorised",
        ("cifar noise",),
        "VGG-11s with some but not all labels random: final training accuracy on their labels, mean over "
        "seeds, the lowest over the shares" + CIFAR_OFF,
        MEMORISED,
        "Appendix E: the test accuracy 'drops' as the noise is fitted; " + MEMORISED_REASON,
    ),
)
ACCURACY_STEP = 0.02
ACCURACY_REASON = "two points of accuracy: the smallest gap that the paper's accuracy curves (drawn from 0 to 1) show"
SEEDS = "seeds: a seed fixes the initialisation, data order, turn-over masks and random labels"
SHOWN = f"the {SHOWN_PER_CLASS} lowest-scoring training examples of each class (as Figure 7a shows them)"
CONSTANTLY = "'constantly higher ... throughout training': in at least nine epochs of ten"


def _subset_definitions(key):
    """Figures 5 and 6's claims on one dataset (``key``: mnist or cifar10)."""
    mnist = key == "mnist"
    return (
        Definition(
            f"liu2021-easy-faster-difficult-from-start-{key}",
            "liu2021",
            "Sec. 3.3, Fig. 5a" if mnist else "Sec. 3.3, Fig. 5c",
            "easy examples and difficult examples are learnt simultaneously, with easy examples fitted faster "
            "than difficult ones ... we confirm that the improvement of difficult examples' training accuracy is "
            "not a side effect of the patterns learnt from easy examples",
            "The easy subset's training accuracy is above the difficult one's, and from the first epochs the "
            "difficult subset's accuracy is above that of a control run that never trains on it.",
            (
                above(
                    "easy minus difficult subset's training accuracy, mean over epochs, per seed",
                    ACCURACY_STEP,
                    ACCURACY_REASON,
                ),
                above(
                    f"difficult subset's training accuracy minus the control run's, mean over the first "
                    f"{EARLY:.0%} of the epochs, per seed",
                    ACCURACY_STEP,
                    ACCURACY_REASON,
                ),
            ),
            SEEDS,
            (f"{key[:5]} full",),
        ),
        Definition(
            f"liu2021-easy-test-higher-{key}",
            "liu2021",
            "Sec. 3.3, Fig. 5b" if mnist else "Sec. 3.3, Fig. 5d",
            "easy examples benefit from learning quicker than difficult ones and reach a higher test accuracy",
            "The easy test subset reaches a higher final accuracy than the difficult test subset.",
            (
                above(
                    "final accuracy on the easy minus on the difficult test subset, per seed",
                    ACCURACY_STEP,
                    ACCURACY_REASON,
                ),
            ),
            SEEDS,
            (f"{key[:5]} full",),
        ),
        Definition(
            f"liu2021-difficult-more-informative-{key}",
            "liu2021",
            "Sec. 3.3, Fig. 6 (shown for CIFAR-10 only)" if mnist else "Sec. 3.3, Fig. 6",
            "training on the easy subset enables a fast convergence on the corresponding training accuracy, but a "
            "marginal improvement on that of the difficult subset ... the training benefits both the difficult "
            "subset and the easy subset substantially",
            "Training on the difficult subset only helps the easy subset far more than training on the easy "
            "subset only helps the difficult one.",
            (
                above(
                    "final accuracy on the easy subset of the run trained on the difficult subset only, minus on "
                    "the difficult subset of the run trained on the easy subset only, per seed",
                    0.1,
                    "'substantially' against 'marginal': ten points of accuracy, a tenth of the figure's axis",
                ),
            ),
            SEEDS,
            (f"{key[:5]} subset-only",),
            beyond_paper=mnist,
        ),
    )


CLAIMS = (
    Definition(
        "liu2021-long-tail",
        "liu2021",
        "Sec. 3.1, Fig. 2a",
        "When there is no corruption, the scores follow a long tail distribution as described in Feldman (2020)",
        "The memorization scores of uncorrupted MNIST have a long right tail.",
        (
            above(
                "skewness of the training set's memorization scores, per seed",
                1.0,
                "'long tail': a skewness above 1 marks a highly skewed distribution; Figure 2a's histogram has its "
                "mass near 0 and a tail to the right",
            ),
        ),
        SEEDS,
        ("clean",),
    ),
    Definition(
        "liu2021-corrupted-score-higher",
        "liu2021",
        "Sec. 3.1, Fig. 2b",
        "Corrupting an instance significantly increases its difficulty (memorization score)",
        "Examples with random labels have higher memorization scores than examples with true labels.",
        (
            above(
                "AUROC of the memorization score for telling the random-label examples from the true-label ones, "
                "per seed",
                0.75,
                "'significantly increases': halfway from no separation (0.5) to full separation (1; at most 0.95 "
                "here, as a tenth of the redrawn labels equal the true one)",
            ),
        ),
        SEEDS,
        ("corrupted",),
    ),
    Definition(
        "liu2021-easiest-both-sub-networks-right",
        "liu2021",
        "App. C, Fig. 7a",
        "The easy examples do follow a typical pattern and shares a lot of similarities, and both the unmuted "
        "sub-network and the muted sub-network agree with the ground truth",
        "Both sub-networks classify the lowest-scoring examples of every class as labelled.",
        (
            above(
                f"share of {SHOWN} that both sub-networks classify as labelled, per seed",
                0.9,
                "'both ... agree with the ground truth' on the examples Figure 7a shows; we allow one in ten",
            ),
        ),
        SEEDS,
        ("clean",),
    ),
    Definition(
        "liu2021-easiest-typical",
        "liu2021",
        "App. C, Fig. 7",
        "The easy examples do follow a typical pattern and shares a lot of similarities ... The difficult "
        "examples seem to have some peculiar traits",
        "Within a class, the lowest-scoring examples look more alike than the highest-scoring ones.",
        (
            above(
                f"share of classes in which {SHOWN} are more alike (mean pairwise cosine similarity of their "
                f"pixels) than the {SHOWN_PER_CLASS} highest-scoring ones, per seed",
                0.8,
                "Figure 7 makes the point in each of its 10 columns (classes); we require 8 of 10",
            ),
        ),
        SEEDS,
        ("clean",),
    ),
    Definition(
        "liu2021-sub-networks-converge-early",
        "liu2021",
        "App. D, Fig. 9a",
        "Both the muted and unmuted sub-networks converge very quickly within the first a few epochs and the stabilize",
        f"After the SGD steps of the paper's first {PAPER_FEW_EPOCHS} epochs, the training accuracy of the "
        f"unmuted and of the muted sub-networks changes little until the end of training.",
        tuple(
            within(
                f"the {name} sub-networks' training accuracy at the end minus after the paper's first "
                f"{PAPER_FEW_EPOCHS} epochs' steps, per seed",
                -ACCURACY_STEP,
                ACCURACY_STEP,
                "'stabilize': " + ACCURACY_REASON,
            )
            for name in ("unmuted", "muted")
        ),
        SEEDS,
        ("clean curves",),
    ),
    *(
        Definition(
            f"liu2021-agrees-with-{reference}",
            "liu2021",
            "Sec. 2.2, Eq. 5-6 (not checked in the paper)",
            "We use f^{m~(z_i)} and f^{m(z_i)} to approximate f_{D\\{z_i}} and f_D respectively",
            f"Turn-over dropout's memorization scores rank examples as {name} does, on a small problem.",
            (
                above(
                    f"Spearman correlation between the turn-over scores and {name}'s, over the examples with both "
                    f"defined, per seed",
                    0.5,
                    "a strong rank agreement (conventionally above 0.5); the paper uses "
                    "the approximation without checking it",
                ),
            ),
            SEEDS,
            ("validation",),
            beyond_paper=True,
        )
        for reference, name in (
            ("loo", "exact leave-one-out retraining"),
            ("subsampling", "Feldman & Zhang's subsampling"),
        )
    ),
    Definition(
        "liu2021-test-peaks-before-random-fitted",
        "liu2021",
        "Sec. 3.2, Fig. 3",
        "the test accuracy reaches the peak (at around 20th epoch), and that is when the model has successfully "
        "fitted the real data but barely fitted the random noise yet ... [and] drops with the random data "
        "improving its training accuracy",
        "The smoothed test accuracy peaks while the true-label subset is fitted and the random-label subset "
        "barely is, and then falls.",
        (
            above(
                "smoothed test accuracy at its peak minus at the last epoch, per seed",
                ACCURACY_STEP,
                "a fall from a peak: " + ACCURACY_REASON,
            ),
            below(
                "random-label subset's smoothed training accuracy at the test peak, per seed",
                0.3,
                "'barely fitted': under a quarter of the way from chance (0.1) to fitted (1)",
            ),
            above(
                "true-label subset's smoothed training accuracy at the test peak, per seed",
                FITTED,
                "'successfully fitted the real data': at least 90% of it",
            ),
        ),
        SEEDS,
        ("dynamics",),
    ),
    Definition(
        "liu2021-easy-gradients-agree",
        "liu2021",
        "Sec. 3.2, Fig. 4a",
        "The cosine similarity between easy examples is much higher than that of difficult ones",
        "The mean pairwise cosine similarity of the gradients of easy (true-label) examples is much higher than "
        "that of difficult (random-label) ones.",
        (
            above(
                "1 - the difficult examples' cosine similarity / the easy examples', each averaged over epochs, "
                "per seed",
                0.5,
                "'much higher': the easy examples' similarity at least twice the difficult ones'",
            ),
        ),
        SEEDS,
        ("dynamics",),
    ),
    Definition(
        "liu2021-difficult-gradients-contribute",
        "liu2021",
        "Sec. 3.2, Fig. 4b",
        "the average contribution of difficult examples is constantly higher than easy examples and the entire "
        "dataset. The high contribution of difficult examples throughout training",
        "In nearly every epoch, the mean contribution (Equation 4) of a minibatch's difficult (random-label) "
        "members is higher than that of its easy (true-label) members and of all its members.",
        (
            above(
                "share of epochs in which the difficult members' mean contribution exceeds the easy members', per seed",
                0.9,
                CONSTANTLY,
            ),
            above("share of epochs in which it exceeds all members' mean contribution, per seed", 0.9, CONSTANTLY),
        ),
        SEEDS,
        ("dynamics",),
    ),
    *_subset_definitions("mnist"),
    *_subset_definitions("cifar10"),
    Definition(
        "liu2021-more-noise-slower-fit",
        "liu2021",
        "App. E, Fig. 10",
        "Difficult instances (random noises among the labels) make the learning process slower. The more "
        "difficult examples, the longer it takes to fully fit the dataset",
        "The more random labels, the slower VGG-11 fits its training set.",
        (
            above(
                "training accuracy with fewer random labels minus with more, mean over epochs, the smallest over "
                "neighbouring shares, per seed",
                ACCURACY_STEP,
                ACCURACY_REASON,
            ),
        ),
        SEEDS,
        ("cifar noise",),
    ),
    Definition(
        "liu2021-noisy-test-peaks-then-falls",
        "liu2021",
        "App. E, Fig. 10",
        "When there exists noise in the dataset, the test accuracy firstly reaches to a peak before it drops "
        "and converges",
        "With some random labels, the test accuracy falls from its peak by more than without random labels.",
        (
            above(
                f"the {SMOOTHING}-epoch smoothed test accuracy's fall from its peak to the end, with random labels "
                f"minus without, the smallest over the shares strictly between 0 and 1, per seed",
                ACCURACY_STEP,
                "a fall from a peak: " + ACCURACY_REASON,
            ),
        ),
        SEEDS,
        ("cifar noise",),
    ),
)


def evidence(results, cfg):
    """Every claim's estimates across seeds, and the preconditions' values (nan: not run at this profile)."""
    out = Evidence({}, {}, {})
    for gather in (_score_evidence, _validation_evidence, _dynamics_evidence, _subset_evidence, _corruption_evidence):
        gather(results, cfg, out)
    return out


def _fit(predicted, labels, among):
    """Per seed: the share of the examples marked by ``among`` (seed, N) that ``predicted`` gets right."""
    return np.array([(p == y)[m].mean() if m.any() else np.nan for p, y, m in zip(predicted, labels, among)])


def _score_evidence(results, cfg, out):
    """Figures 2, 7 and 9: the turn-over MLPs' scores, sub-network predictions and accuracy curves."""
    get = lambda name, cell: per_seed(results, "scores", name, labels=cell)
    finite = lambda cell: get("finite", cell).astype(bool)
    clean, labels = get("scores", "uncorrupted"), get("labels", "uncorrupted")
    unmuted, muted = get("unmuted_prediction", "uncorrupted"), get("muted_prediction", "uncorrupted")
    everything = np.ones(labels.shape, bool)
    ok = np.where(finite("uncorrupted"), 1.0, np.nan)
    out.conditions["clean-fitted"] = float(np.nanmean(_fit(unmuted, labels, everything) * ok))
    skew = np.array([stats.skewness(s) for s in clean]) * ok
    out.estimates["liu2021-long-tail"] = (across(skew),)
    out.measured["liu2021-long-tail"] = (
        f"skewness per seed: {_listed(skew, '.2f')}; median score {np.median(clean):.3g}, "
        f"99th percentile {np.percentile(clean, 99):.3g}"
    )
    lowest = np.array([shown_examples(s, y)["lowest_per_class"].ravel() for s, y in zip(clean, labels)])
    rows = np.arange(len(lowest))[:, None]
    both = ((unmuted[rows, lowest] == labels[rows, lowest]) & (muted[rows, lowest] == labels[rows, lowest])).mean(1)
    out.estimates["liu2021-easiest-both-sub-networks-right"] = (across(both * ok),)
    out.measured["liu2021-easiest-both-sub-networks-right"] = (
        f"share per seed: {_listed(both, '.2f')}; "
        f"unmuted right {(unmuted[rows, lowest] == labels[rows, lowest]).mean():.3f},"
        f" muted right {(muted[rows, lowest] == labels[rows, lowest]).mean():.3f}"
    )
    alike, odd = get("lowest_similarity", "uncorrupted"), get("highest_similarity", "uncorrupted")
    out.estimates["liu2021-easiest-typical"] = (across((alike > odd).mean(1) * ok),)
    out.measured["liu2021-easiest-typical"] = (
        "mean pairwise cosine similarity of the pixels, lowest / highest "
        "scores, per class (mean over seeds): "
        + ", ".join(f"{a:.2f}/{b:.2f}" for a, b in zip(alike.mean(0), odd.mean(0)))
    )
    steps_per_epoch = -(-cfg["train_size"] // cfg["batch_size"])
    out.conditions["clean-long-enough"] = cfg["epochs"] * steps_per_epoch / PAPER_STEPS
    after = -(-PAPER_STEPS // steps_per_epoch)  # our epoch whose end first reaches the paper's steps
    curves = {name: get(f"{name}_accuracy", "uncorrupted") for name in ("unmuted", "muted")}
    out.estimates["liu2021-sub-networks-converge-early"] = tuple(
        across((c[:, -1] - c[:, after - 1]) * ok) if after < cfg["epochs"] else NOT_MEASURED for c in curves.values()
    )
    out.measured["liu2021-sub-networks-converge-early"] = (
        f"the paper's first {PAPER_FEW_EPOCHS} epochs are {PAPER_STEPS:,} SGD steps, {after} of our epochs of "
        f"{steps_per_epoch} steps (we train {cfg['epochs']}); accuracy after epochs 1 / {PAPER_FEW_EPOCHS} / "
        f"{cfg['epochs']} (mean over seeds): "
        + "; ".join(
            f"{name} " + " / ".join(f"{c[:, e].mean():.3f}" for e in (0, min(PAPER_FEW_EPOCHS, cfg["epochs"]) - 1, -1))
            for name, c in curves.items()
        )
    )
    scores, corrupted = get("scores", "corrupted"), get("corrupted", "corrupted").astype(bool)
    labels, unmuted = get("labels", "corrupted"), get("unmuted_prediction", "corrupted")
    ok = np.where(finite("corrupted"), 1.0, np.nan)
    out.conditions["corrupted-true-fitted"] = float(np.nanmean(_fit(unmuted, labels, ~corrupted) * ok))
    out.conditions["corrupted-memorised"] = float(np.nanmean(_fit(unmuted, labels, corrupted) * ok))
    auc = np.array([stats.auroc(s, c) for s, c in zip(scores, corrupted)]) * ok
    out.estimates["liu2021-corrupted-score-higher"] = (across(auc),)
    out.measured["liu2021-corrupted-score-higher"] = (
        f"AUROC per seed: {_listed(auc, '.3f')}; median score, random "
        f"labels: {np.median(scores[corrupted]):.3g}, true labels: "
        f"{np.median(scores[~corrupted]):.3g}"
    )


def _listed(values, spec):
    return ", ".join(format(v, spec) for v in values)


def _validation_evidence(results, cfg, out):
    """The check beyond the paper: turn-over scores against leave-one-out and subsampling on a small problem."""
    turn_over_scores = per_seed(results, "validation", "turn_over")
    defined = []
    for reference in ("loo", "subsampling"):
        values = per_seed(results, "validation", reference)
        pairs = [defined_spearman(a[: values.shape[1]], b) for a, b in zip(turn_over_scores, values)]
        rho, left_out = np.array([r for r, _ in pairs]), [n for _, n in pairs]
        defined.append(np.isfinite(values).mean())
        out.estimates[f"liu2021-agrees-with-{reference}"] = (across(rho),)
        out.measured[f"liu2021-agrees-with-{reference}"] = (
            f"Spearman per seed: {_listed(rho, '.3f')}, over {values.shape[1]} examples; left out as undefined (per "
            f"seed): {', '.join(map(str, left_out))}"
        )
    out.conditions["validation-defined"] = float(min(defined))


def _dynamics_evidence(results, cfg, out):
    """Figures 3 and 4: the plain MLPs' accuracy curves and gradient statistics, seeds as replicates."""
    curve = lambda name: per_seed(results, "dynamics", name, finite=True)
    test, random, true = (smoothed(curve(f"{name}_accuracy")) for name in ("test", "random_subset", "true_subset"))
    out.conditions["dynamics-true-fitted"] = float(np.nanmean(true[:, -1]))
    out.conditions["dynamics-memorised"] = float(np.nanmean(random[:, -1]))
    peak = np.nanargmax(np.where(np.isfinite(test), test, -np.inf), axis=-1)
    rows = np.arange(len(test))
    out.estimates["liu2021-test-peaks-before-random-fitted"] = (
        across(test[rows, peak] - test[:, -1]),
        across(random[rows, peak]),
        across(true[rows, peak]),
    )
    out.measured["liu2021-test-peaks-before-random-fitted"] = (
        f"peak epoch per seed: {', '.join(str(p + 1) for p in peak)}; test accuracy at the peak "
        f"{np.nanmean(test[rows, peak]):.3f}, at the end {np.nanmean(test[:, -1]):.3f}; random-label subset at the end "
        f"{np.nanmean(random[:, -1]):.3f}"
    )
    easy, difficult = curve("easy_cosine"), curve("difficult_cosine")
    out.estimates["liu2021-easy-gradients-agree"] = (across(1 - np.nanmean(difficult, -1) / np.nanmean(easy, -1)),)
    out.measured["liu2021-easy-gradients-agree"] = (
        f"cosine similarity, easy / difficult (mean over epochs and seeds): "
        f"{np.nanmean(easy):.3g} / {np.nanmean(difficult):.3g}; epochs with "
        f"easy above difficult: {np.nanmean(easy > difficult):.0%}"
    )
    members = {name: curve(f"{name}_contribution") for name in ("easy", "difficult", "all")}
    share = lambda a, b: np.where(np.isfinite(a[:, 0]), (a > b).mean(-1), np.nan)
    outside = {name: curve(f"{name}_contribution_outside") for name in ("easy", "difficult")}
    out.estimates["liu2021-difficult-gradients-contribute"] = (
        across(share(members["difficult"], members["easy"])),
        across(share(members["difficult"], members["all"])),
    )
    out.measured["liu2021-difficult-gradients-contribute"] = (
        "contribution of the minibatch members, easy / difficult / all (mean over epochs and seeds): "
        + " / ".join(f"{np.nanmean(v):.3g}" for v in members.values())
        + "; without their own share of g (examples outside the minibatch), the difficult above the easy in "
        f"{np.nanmean(share(outside['difficult'], outside['easy'])):.0%} of the epochs"
    )


def _subset_evidence(results, cfg, out):
    """Figures 5 and 6, on MNIST and (when cifar is on) on CIFAR-10."""
    for key, part in (("mnist", "subsets"), ("cifar10", "cifar")):
        ids = [d.id for d in _subset_definitions(key)]
        conditions = [f"{key}-generalizes", f"{key}-easy-fitted", f"{key}-subsets-fitted"]
        if part == "cifar" and not cfg["cifar"]:
            out.conditions.update(dict.fromkeys(conditions, float("nan")))
            out.estimates.update({i: (NOT_MEASURED,) * len(d.criteria) for i, d in zip(ids, _subset_definitions(key))})
            continue
        acc = lambda run, subset: subset_accuracy(results, part, run, subset)
        final = lambda run, subset: acc(run, subset)[:, -1]
        early = max(1, round(EARLY * acc("full", "easy").shape[-1]))
        out.conditions.update(
            zip(
                conditions,
                (
                    float(np.nanmean(final("full", "test"))),
                    float(np.nanmean(final("full", "easy"))),
                    float(
                        min(np.nanmean(final("easy_only", "easy")), np.nanmean(final("difficult_only", "difficult")))
                    ),
                ),
            )
        )
        out.estimates[ids[0]] = (
            across(np.nanmean(acc("full", "easy") - acc("full", "difficult"), -1)),
            across(np.nanmean(acc("full", "difficult")[:, :early] - acc("control", "difficult")[:, :early], -1)),
        )
        out.estimates[ids[1]] = (across(final("full", "easy_test") - final("full", "difficult_test")),)
        out.estimates[ids[2]] = (across(final("difficult_only", "easy") - final("easy_only", "difficult")),)
        mean = lambda values: f"{np.nanmean(values):.3f}"
        out.measured.update(
            zip(
                ids,
                (
                    f"training accuracy after epoch 1, easy / difficult: {mean(acc('full', 'easy')[:, 0])} / "
                    f"{mean(acc('full', 'difficult')[:, 0])}; at the end: {mean(final('full', 'easy'))} / "
                    f"{mean(final('full', 'difficult'))}; difficult subset over the first {early} epoch(s), "
                    f"trained on / left out: {mean(acc('full', 'difficult')[:, :early])} / "
                    f"{mean(acc('control', 'difficult')[:, :early])}",
                    f"final test accuracy, easy / difficult / all: {mean(final('full', 'easy_test'))} / "
                    f"{mean(final('full', 'difficult_test'))} / {mean(final('full', 'test'))}",
                    f"trained on the difficult subset: easy {mean(final('difficult_only', 'easy'))}, difficult "
                    f"{mean(final('difficult_only', 'difficult'))}; trained on the easy subset: easy "
                    f"{mean(final('easy_only', 'easy'))}, difficult {mean(final('easy_only', 'difficult'))}",
                ),
            )
        )


def _corruption_evidence(results, cfg, out):
    """Figure 10: VGG-11s with more and more random labels (only when cifar is on, and corrupted_fractions holds 0
    and a share strictly between 0 and 1)."""
    ids = ("liu2021-more-noise-slower-fit", "liu2021-noisy-test-peaks-then-falls")
    fractions = cfg["corrupted_fractions"]
    noisy = [f for f in fractions if 0 < f < 1]
    if not cfg["cifar"] or not noisy or fractions[0] != 0:
        out.conditions.update({"noise-least-fitted": float("nan"), "noise-memorised": float("nan")})
        out.estimates.update({i: (NOT_MEASURED,) for i in ids})
        if cfg["cifar"]:
            out.measured.update(
                dict.fromkeys(
                    ids, f"not measured: corrupted_fractions={fractions} needs 0 and a share strictly between 0 and 1"
                )
            )
        return
    curve = lambda name, f: results.sel_finite("corruption", name, fraction=f)
    gaps = np.array(
        [
            np.nanmean(curve("train_accuracy", a) - curve("train_accuracy", b), -1)
            for a, b in zip(fractions, fractions[1:])
        ]
    )
    test = {f: smoothed(curve("test_accuracy", f)) for f in [0.0] + noisy}
    fall = lambda f: np.nanmax(test[f], -1) - test[f][:, -1]
    out.conditions["noise-least-fitted"] = float(np.nanmean(curve("train_accuracy", fractions[0])[:, -1]))
    out.conditions["noise-memorised"] = float(min(np.nanmean(curve("train_accuracy", f)[:, -1]) for f in noisy))
    out.estimates[ids[0]] = (across(gaps.min(0)),)
    out.estimates[ids[1]] = (across(np.min([fall(f) - fall(0.0) for f in noisy], 0)),)
    final = lambda name: ", ".join(f"{f:.0%}: {np.nanmean(curve(name, f)[:, -1]):.3f}" for f in fractions)
    out.measured[ids[0]] = f"final training accuracy by share of random labels: {final('train_accuracy')}"
    out.measured[ids[1]] = "smoothed test accuracy, peak / end: " + ", ".join(
        f"{f:.0%}: {np.nanmean(np.nanmax(test[f], -1)):.3f} / {np.nanmean(test[f][:, -1]):.3f}" for f in [0.0] + noisy
    )


CHAPTER = Chapter(
    "turn_over_dropout",
    paper="liu2021",
    params=PARAMS,
    parts=PARTS,
    claims=CLAIMS,
    evidence=evidence,
    networks=NETWORKS,
    preconditions=PRECONDITIONS,
    check=_check,
)
