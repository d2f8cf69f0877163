"""Liu, Lin & Jaggi 2021, Understanding Memorization from the Perspective of Optimization via
Efficient Influence Estimation, sections 2-3.2 and Appendices A-D (Figures 2, 3, 7 and 9), with a
check the paper does not make: turn-over dropout's memorization scores against exact leave-one-out
retraining and Feldman & Zhang's subsampling estimator.

Part ``scores`` trains the one-hidden-layer MLP with turn-over dropout on MNIST, uncorrupted and
with a third of the labels random (the paper's 20,000 of 60,000), one model per seed in one batched
ensemble (:mod:`memo_utils.turn_over`); after every epoch it records the training accuracy of each
example's unmuted and muted sub-networks (Figure 9), and at the end every training example's
memorization score (Equation 6) and both sub-networks' predictions (Figures 2 and 7). Part
``validation`` trains, per seed, on a small corrupted MNIST problem: a turn-over network, exact
leave-one-out models for some examples and random-half models for all (:mod:`memo_utils.influence`).
Part ``dynamics`` trains plain MLPs (one per seed, no turn-over dropout) on MNIST with a third of the
labels random and records per epoch the training accuracy of a true-label and a random-label subset
and the test accuracy (Figure 3), and the cosine similarity and contribution of the gradients of
samples of both subsets (Figure 4, :func:`memo_utils.per_example.cosine_similarity_and_contribution`).
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np
import torch

from .. import data, influence, per_example, profiles, seeds, stats, turn_over
from ..chapter import Chapter, Param, Part
from ..claims import Evidence  # issue 26: the claims below are being re-registered
from ..ensemble import MLPEnsemble, train_ensemble
from ..errors import ConfigError
from ..models import VGG_LAYERS, conv_macs, vgg
from ..training import accuracy, correct, train_classifier

CELLS = ("uncorrupted", "corrupted")
LONG_TAIL = 1.0  # skewness above which a distribution is "highly skewed" (a long right tail)
FAR_HIGHER = 0.75  # AUROC above which corrupted examples score "far higher" (0.5: no better than chance)
AGREE = 0.5  # Spearman correlation above which two score rankings agree strongly
FITTED = 0.9  # training accuracy of the unmuted sub-networks on clean labels: the networks learned
BARELY = 0.3  # random-subset training accuracy below which random labels are "barely fitted" (chance: 0.1)
MEMORIZING = 0.5  # final random-subset training accuracy: memorization has progressed (Figure 3's precondition)
SMOOTHING = 5  # epochs in Figure 3's sliding window (centred)
FALL_MIN = 0.02  # Figure 3: the test accuracy's fall from its peak must exceed this (peak - end is never below 0)
GRADIENT_SAMPLE = 256  # examples per set whose gradients Figure 4 compares (and the minibatch of Equation 4)
GRADIENT_CURVES = ("easy_cosine", "difficult_cosine", "easy_contribution", "difficult_contribution",
                   "all_contribution")
SCALED = "scaled down to fit the profile's time budget"
SHOWN_PER_CLASS = 6  # images per class in Figures 7 and 8
SHOWN_PER_DECILE = 24  # images per score decile in the widget
RUNS = ("full", "control", "easy_only", "difficult_only")  # Figures 5 and 6: what each run trains on
RUN_NAMES = {"full": "all", "control": "all but the difficult", "easy_only": "the easy subset only",
             "difficult_only": "the difficult subset only"}
SUBSETS = ("easy", "difficult", "all", "easy_test", "difficult_test", "test")  # where Figures 5 and 6 measure accuracy
EARLY = 0.1  # "from the start": the first tenth of the epochs (at least one)
LEARNED = 0.5  # test accuracy of the full run above which the network generalizes (Figure 5b's precondition)
FAR_MORE = 0.1  # accuracy points by which training on difficult examples must help easy ones more than the reverse
DATASET_NAMES = {"subsets": "MNIST, MLP", "cifar": "CIFAR-10, VGG-11"}  # the parts of Figures 5 and 6
SUBSET_ARRAYS = ("train_scores", "test_scores", "easy", "difficult", "easy_test", "difficult_test", "accuracy", "finite")

PARAMS = (
    Param("train_size", profiles.positive_int, 60000, paper="MNIST training set (60,000)", parts=("scores", "dynamics", "subsets"),
          by_profile={"smoke": 1000, "cpu": 10000}, note="cpu: the bundled 10,000 exact images"),
    Param("corrupted_fraction", profiles.fraction, 1 / 3, paper="20,000 of 60,000 labels random (Figures 2b, 3)",
          parts=("scores", "dynamics"), note="a third of the training set, drawn per seed"),
    Param("hidden", profiles.positive_int, 4096, paper="4096", parts=("scores", "dynamics", "subsets"),
          by_profile={"smoke": 64, "cpu": 512}, note="units of the hidden layer (even: half are kept); " + SCALED),
    Param("epochs", profiles.positive_int, 200, paper="200 (Appendix D: a few epochs suffice for the scores)",
          parts=("scores",), by_profile={"smoke": 2, "cpu": 20, "gpu": 30}, note=SCALED),
    Param("lr", profiles.positive_float, 0.06, paper="0.06, no momentum", parts=("scores", "validation", "subsets")),
    Param("batch_size", profiles.positive_int, 256, paper="256",
          parts=("scores", "dynamics", "subsets", "cifar", "corruption")),
    Param("dynamics_epochs", profiles.positive_int, 200, paper="200", parts=("dynamics",),
          by_profile={"smoke": 2, "cpu": 110, "gpu": 100}, note="Figure 3's training; " + SCALED),
    Param("dynamics_lr", profiles.positive_float, 0.01, paper="0.01 (Figure 3)", parts=("dynamics",),
          by_profile={"cpu": 0.06},
          note="cpu: the paper's main 0.06, so that random labels start to be fitted within its 110 epochs (at 0.01 "
               "they would need about six times as many)"),
    Param("seeds", profiles.seed_list, [0, 1, 2], paper="one run",
          parts=("scores", "validation", "dynamics", "subsets", "cifar", "corruption"),
          by_profile={"smoke": [0]},
          note="the replicates of every claim: a seed fixes the initialisation, data order, masks and random labels"),
    Param("subset_fraction", profiles.fraction, 0.2, paper="not stated", parts=("subsets", "cifar"),
          note="Figures 5 and 6: the easy subset is the lowest-scoring fifth of a split, the difficult one the "
               "highest-scoring fifth"),
    Param("score_epochs", profiles.positive_int, 200, paper="not stated for Figure 5 (200 elsewhere)",
          parts=("subsets",), by_profile={"smoke": 1, "cpu": 10, "gpu": 20},
          note="the turn-over network that scores training and test examples for Figures 5 and 6 (Appendix D: a "
               "few epochs suffice); " + SCALED),
    Param("subsets_epochs", profiles.positive_int, 200, paper="200", parts=("subsets",),
          by_profile={"smoke": 2, "cpu": 20, "gpu": 60}, note="Figures 5 and 6's MNIST runs; " + SCALED),
    Param("cifar", profiles.flag, True, paper="CIFAR-10 with VGG-11 (Figures 5, 6, 8 and 10)",
          parts=("cifar", "corruption"), by_profile={"cpu": False},
          note="cpu: left out, since its VGG-11 runs take about 15 minutes on 2 cores; its claims read \"not at "
               "this scale\""),
    Param("cifar_train_size", profiles.positive_int, 50000, paper="CIFAR-10 training set (50,000)",
          parts=("cifar", "corruption"), by_profile={"smoke": 200, "cpu": 3000, "gpu": 10000},
          note="the first images of the training set; cpu: the exact 3,000; " + SCALED),
    Param("cifar_test_size", profiles.positive_int, 10000, paper="CIFAR-10 test set (10,000)",
          parts=("cifar", "corruption"), by_profile={"smoke": 100, "cpu": 1000},
          note="held-out images (cpu: the exact images 3,001-4,000 of the training set)"),
    Param("vgg_width", profiles.positive_float, 1.0, paper="VGG-11 (1)", parts=("cifar", "corruption"),
          by_profile={"smoke": 1 / 16, "cpu": 1 / 4}, note="multiplies every layer's channels; " + SCALED),
    Param("cifar_epochs", profiles.positive_int, 200, paper="200, learning rate / 10 at epochs 100 and 150",
          parts=("cifar", "corruption"), by_profile={"smoke": 2, "cpu": 15, "gpu": 30},
          note="the learning rate is divided by 10 at half and at three quarters of the epochs; " + SCALED),
    Param("cifar_score_epochs", profiles.positive_int, 200, paper="not stated (200 elsewhere)", parts=("cifar",),
          by_profile={"smoke": 1, "cpu": 5, "gpu": 10}, note="the turn-over VGG-11 that scores the examples"),
    Param("cifar_lr", profiles.positive_float, 0.01, paper="0.01, momentum 0.9", parts=("cifar", "corruption")),
    Param("corrupted_fractions", profiles.fraction_list, [0.0, 0.2, 0.4, 0.6, 0.8, 1.0],
          paper="several numbers of random labels (Figure 10's legend)", parts=("corruption",),
          by_profile={"smoke": [0.0, 1.0], "gpu": [0.0, 0.4, 0.8]}, note="Figure 10: random labels per run"),
    Param("validation_size", profiles.positive_int, 1000, paper="(not in the paper)", parts=("validation",),
          by_profile={"smoke": 100, "cpu": 600}, note="the first MNIST training images of the validation problem"),
    Param("validation_noise", profiles.fraction, 0.2, paper="(not in the paper)", parts=("validation",),
          note="random labels in the validation problem, so that its scores spread from easy to memorized"),
    Param("validation_hidden", profiles.positive_int, 256, paper="(not in the paper)", parts=("validation",),
          by_profile={"smoke": 16, "cpu": 128}, note="hidden units of its MLPs"),
    Param("validation_epochs", profiles.positive_int, 30, paper="(not in the paper)", parts=("validation",),
          by_profile={"smoke": 2, "cpu": 20}),
    Param("validation_batch_size", profiles.positive_int, 64, paper="(not in the paper)", parts=("validation",),
          by_profile={"cpu": 50}),
    Param("loo_examples", profiles.positive_int, 100, paper="(not in the paper)", parts=("validation",),
          by_profile={"smoke": 4, "cpu": 30}, note="examples whose exact leave-one-out score is computed (the first)"),
    Param("subsampling_models", profiles.positive_int, 128, paper="(not in the paper)", parts=("validation",),
          by_profile={"smoke": 4, "cpu": 32}, note="Feldman & Zhang's models, each on a random half"),
)


def _check(cfg):
    for name in ("hidden", "validation_hidden"):
        if cfg[name] % 2:
            raise ConfigError(f"{name}={cfg[name]} is not allowed: must be even (turn-over dropout keeps half)")
    if not 0 < cfg["subset_fraction"] <= 0.5:
        raise ConfigError(f"subset_fraction={cfg['subset_fraction']} is not allowed: must be in (0, 0.5], so that the "
                          f"easy and the difficult subsets do not overlap")
    channels = [max(1, round(c * cfg["vgg_width"])) for c in VGG_LAYERS["vgg11"] if c != "M"]
    if cfg["cifar"] and any(c % 2 or c < 2 for c in channels):
        raise ConfigError(f"vgg_width={cfg['vgg_width']} is not allowed: every VGG-11 layer must have an even number "
                          f"of channels for turn-over dropout (it gives {channels}); 1/16, 1/8, 1/4, 1/2 or 1 do")
    if list(cfg["corrupted_fractions"]) != sorted(set(cfg["corrupted_fractions"])):
        raise ConfigError(f"corrupted_fractions={cfg['corrupted_fractions']} is not allowed: list distinct shares in "
                          f"increasing order")


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
    x, y = _mnist(inputs, cfg["train_size"], device)
    run_seeds = [seeds.runs(s, 1)[0] for s in cfg["seeds"]]
    fraction = cfg["corrupted_fraction"] if cell["labels"] == "corrupted" else 0.0
    labels, corrupted = [], []
    for s in cfg["seeds"]:
        _, ys, mask = data.corrupt(x, y, kind="randY", fraction=fraction, generator=torch.Generator().manual_seed(seeds.noise(s)))
        labels.append(ys)
        corrupted.append(mask)
    labels = torch.stack(labels)
    ensemble = MLPEnsemble([784, cfg["hidden"], 10], run_seeds, device, output_bias=False)
    ids = torch.arange(len(x), device=device)
    mask_seeds = list(cfg["seeds"])  # model k's masks come from its own seed
    accuracy = {"unmuted": [], "muted": []}

    def sub_network_predictions(ens):
        return {name: turn_over.predictions(ens, x, ids, mask_seeds, flipped)
                for name, flipped in (("unmuted", False), ("muted", True))}

    def record(step, ens):
        for name, predicted in sub_network_predictions(ens).items():
            accuracy[name].append((predicted == labels).float().mean(1).cpu().numpy())

    steps_per_epoch = -(-len(x) // cfg["batch_size"])
    finite = train_ensemble(ensemble, x, labels, order_seeds=run_seeds, epochs=cfg["epochs"],
                            batch_size=cfg["batch_size"], lr=cfg["lr"], hidden_masks=turn_over.ensemble_masks(ensemble, mask_seeds),
                            checkpoints=[steps_per_epoch * (e + 1) for e in range(cfg["epochs"])], callback=record)
    final = sub_network_predictions(ensemble)
    scores = turn_over.scores(ensemble, x, labels, ids, mask_seeds)
    shown = shown_examples(scores[0].cpu().numpy(), labels[0].cpu().numpy())
    images = inputs["mnist"].x_train
    return {**shown, **{f"{name}_images": images[index] for name, index in shown.items()},
            "seed": np.array(cfg["seeds"]), "scores": scores.cpu().numpy().astype(np.float32),
            "labels": labels.cpu().numpy().astype(np.int8),
            "corrupted": torch.stack(corrupted).numpy(),
            "unmuted_prediction": final["unmuted"].cpu().numpy().astype(np.int8),
            "muted_prediction": final["muted"].cpu().numpy().astype(np.int8),
            "unmuted_accuracy": np.array(accuracy["unmuted"]).T, "muted_accuracy": np.array(accuracy["muted"]).T,
            "finite": finite.cpu().numpy()}


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
    deciles = [order[d * len(order) // 10:(d + 1) * len(order) // 10] for d in range(10)]
    spread = [band[np.linspace(0, len(band) - 1, per_decile).astype(int)] for band in deciles]
    return {"lowest_per_class": np.array(lowest), "highest_per_class": np.array(highest),
            "decile_examples": np.array(spread)}


def _compute_validation(cfg, cell, inputs, device):
    x, y = _mnist(inputs, cfg["validation_size"], device)
    sizes = [784, cfg["validation_hidden"], 10]
    train = dict(epochs=cfg["validation_epochs"], batch_size=cfg["validation_batch_size"], lr=cfg["lr"])
    loo, subsampled, scores, corrupted = [], [], [], []
    examples = torch.arange(min(cfg["loo_examples"], len(x)))
    for s in cfg["seeds"]:
        _, ys, mask = data.corrupt(x, y, kind="randY", fraction=cfg["validation_noise"],
                                   generator=torch.Generator().manual_seed(seeds.noise(s)))
        run_seed = seeds.runs(s, 1)[0]
        loo.append(influence.leave_one_out(sizes, x, ys, examples, seed=run_seed, **train))
        subsampled.append(influence.subsampling(sizes, x, ys, models=cfg["subsampling_models"], seed=run_seed, **train))
        ensemble = MLPEnsemble(sizes, [run_seed], device, output_bias=False)
        train_ensemble(ensemble, x, ys, order_seeds=[run_seed], hidden_masks=turn_over.ensemble_masks(ensemble, s),
                       **train)
        scores.append(turn_over.scores(ensemble, x, ys, torch.arange(len(x), device=device), s)[0])
        corrupted.append(mask)
    as_array = lambda values: torch.stack(values).cpu().numpy()
    return {"seed": np.array(cfg["seeds"]), "loo": as_array(loo), "subsampling": as_array(subsampled),
            "turn_over": as_array(scores), "corrupted": as_array(corrupted)}


def _compute_dynamics(cfg, cell, inputs, device):
    """Figure 3: per seed, a plain MLP on MNIST with a third of the labels random; per epoch the training accuracy
    of a true-label subset and of a random-label subset (each a sixth of the training set), and the test accuracy."""
    x, y = _mnist(inputs, cfg["train_size"], device)
    x_test, y_test = _mnist_test(inputs, cfg["train_size"], device)
    run_seeds = [seeds.runs(s, 1)[0] for s in cfg["seeds"]]
    labels, subsets = [], []
    for s in cfg["seeds"]:
        _, ys, mask = data.corrupt(x, y, kind="randY", fraction=cfg["corrupted_fraction"],
                                   generator=torch.Generator().manual_seed(seeds.noise(s)))
        labels.append(ys)
        size = len(x) // 6  # the paper's 10,000 of 60,000
        subsets.append(torch.stack([torch.nonzero(~mask)[:size, 0], torch.nonzero(mask)[:size, 0]]))
    labels, subsets = torch.stack(labels), torch.stack(subsets).to(device)  # (K, N), (K, 2, size)
    ensemble = MLPEnsemble([784, cfg["hidden"], 10], run_seeds, device)
    curves = {name: [] for name in ("true_subset_accuracy", "random_subset_accuracy", "train_accuracy",
                                    "test_accuracy") + GRADIENT_CURVES}
    rows = torch.arange(len(run_seeds), device=device)[:, None]
    sample, half = min(GRADIENT_SAMPLE, subsets.shape[-1]), min(GRADIENT_SAMPLE, len(x) // 2)
    batches = torch.stack([torch.randperm(len(x), generator=torch.Generator().manual_seed(s))[:2 * half]
                           for s in run_seeds]).to(device)  # per seed: a minibatch for g, and a sample of all examples
    gradient_sets = {"easy": subsets[:, 0, :sample], "difficult": subsets[:, 1, :sample], "all": batches[:, half:]}

    def record(step, ens):
        batch = batches[:, :half]
        batch_factors = per_example.mlp_gradient_factors(ens, x[batch], labels[rows, batch])
        for name, idx in gradient_sets.items():
            cosine, contribution = per_example.cosine_similarity_and_contribution(
                per_example.mlp_gradient_factors(ens, x[idx], labels[rows, idx]), batch_factors)
            if name != "all":
                curves[f"{name}_cosine"].append(cosine.cpu().numpy())
            curves[f"{name}_contribution"].append(contribution.cpu().numpy())
        right = ens.predict(x) == labels
        curves["true_subset_accuracy"].append(right[rows, subsets[:, 0]].float().mean(1).cpu().numpy())
        curves["random_subset_accuracy"].append(right[rows, subsets[:, 1]].float().mean(1).cpu().numpy())
        curves["train_accuracy"].append(right.float().mean(1).cpu().numpy())
        curves["test_accuracy"].append((ens.predict(x_test) == y_test).float().mean(1).cpu().numpy())

    steps_per_epoch = -(-len(x) // cfg["batch_size"])
    finite = train_ensemble(ensemble, x, labels, order_seeds=run_seeds, epochs=cfg["dynamics_epochs"],
                            batch_size=cfg["batch_size"], lr=cfg["dynamics_lr"], callback=record,
                            checkpoints=[steps_per_epoch * (e + 1) for e in range(cfg["dynamics_epochs"])])
    return {"seed": np.array(cfg["seeds"]), "finite": finite.cpu().numpy(),
            **{name: np.array(values).T for name, values in curves.items()}}


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
    return {"train_scores": as_numpy(train_scores).astype(np.float32),
            "test_scores": as_numpy(test_scores).astype(np.float32),
            **{name: as_numpy(idx) for name, idx in subsets.items()},
            "accuracy": np.asarray(accuracy, dtype=np.float32), "finite": np.asarray(finite, dtype=bool)}


def _compute_subsets(cfg, cell, inputs, device):
    """Figures 5 and 6 on MNIST. Per seed, a turn-over MLP trained on the training and the test examples scores
    both (a test example's memorization score is its self-influence had it been trained on); the lowest- and
    highest-scoring fifths of each split are its easy and difficult subsets. Then plain MLPs, one per seed and run
    (RUNS), trained as one ensemble on the training set only, record the accuracy of every subset per epoch."""
    x, y = _mnist(inputs, cfg["train_size"], device)
    x_test, y_test = _mnist_test(inputs, cfg["train_size"], device)
    x_all, y_all = torch.cat([x, x_test]), torch.cat([y, y_test])
    k, n = len(cfg["seeds"]), len(x)
    score_seeds, run_seeds = zip(*(seeds.runs(s, 2) for s in cfg["seeds"]))
    scorer = MLPEnsemble([784, cfg["hidden"], 10], score_seeds, device, output_bias=False)
    score_finite = train_ensemble(scorer, x_all, y_all, order_seeds=score_seeds, epochs=cfg["score_epochs"],
                                  batch_size=cfg["batch_size"], lr=cfg["lr"],
                                  hidden_masks=turn_over.ensemble_masks(scorer, list(cfg["seeds"])))
    scores = turn_over.scores(scorer, x_all, y_all, torch.arange(len(x_all), device=device), list(cfg["seeds"]))
    subsets = _subsets(scores[:, :n], scores[:, n:], cfg["subset_fraction"])
    # one ensemble of len(RUNS) x K models, run-major: model r * K + k is run r of seed k, from seed k's init
    ensemble = MLPEnsemble([784, cfg["hidden"], 10], list(run_seeds) * len(RUNS), device)
    keep = _kept(subsets, n).transpose(0, 1).flatten(0, 1)
    repeated = {name: idx.repeat(len(RUNS), 1) for name, idx in subsets.items()}
    accuracy = []

    def record(step, ens):
        accuracy.append(_subset_accuracy(ens.predict(x) == y, ens.predict(x_test) == y_test, repeated)
                        .view(len(RUNS), k, len(SUBSETS)).transpose(0, 1).cpu().numpy())

    steps_per_epoch = -(-n // cfg["batch_size"])
    finite = train_ensemble(ensemble, x, y, order_seeds=list(run_seeds) * len(RUNS), epochs=cfg["subsets_epochs"],
                            batch_size=cfg["batch_size"], lr=cfg["lr"], keep=keep, callback=record,
                            checkpoints=[steps_per_epoch * (e + 1) for e in range(cfg["subsets_epochs"])])
    finite = finite.view(len(RUNS), k).T & score_finite[:, None]
    return {"seed": np.array(cfg["seeds"]),
            **_subset_arrays(scores[:, :n], scores[:, n:], subsets, np.stack(accuracy, -1), finite.cpu().numpy())}


def _cifar(cfg, inputs, device):
    """The standardized CIFAR-10 training and held-out images, with their labels."""
    cifar, n, m = inputs["cifar10"], cfg["cifar_train_size"], cfg["cifar_test_size"]
    if len(cifar.x_test) < m:
        raise ConfigError(f"cifar_test_size={m} is not allowed: the data source holds {len(cifar.x_test)} held-out "
                          f"images")
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
        _, ok = train_classifier(scorer, x_all, y_all, batch_size=cfg["batch_size"], seed=score_seed,
                                 masks=turn_over.module_masks(scorer, s), **_vgg_training(cfg, cfg["cifar_score_epochs"]))
        scores.append(turn_over.scores(scorer, x_all, y_all, ids, s)[0])
        if not predictions:  # Figure 8 shows the first seed's sub-networks
            predictions = {f"{name}_prediction": turn_over.predictions(scorer, x, ids[:n], s, flipped)[0].cpu().numpy()
                           for name, flipped in (("unmuted", False), ("muted", True))}
        subsets = _subsets(scores[-1][None, :n], scores[-1][None, n:], cfg["subset_fraction"])
        per_seed_subsets.append(subsets)
        keep = _kept(subsets, n)[0]
        curves, runs_ok = [], []
        for r in range(len(RUNS)):
            kept = torch.nonzero(keep[r])[:, 0]
            model, curve = _vgg11(cfg, run_seed, device), []
            record = lambda epoch, m: curve.append(_subset_accuracy(correct(m, x, y)[None], correct(m, x_test, y_test)[None],
                                                                    subsets)[0].cpu().numpy())
            _, run_ok = train_classifier(model, x[kept], y[kept], seed=run_seed, callback=record,
                                         batch_size=max(1, round(cfg["batch_size"] * len(kept) / n)),
                                         **_vgg_training(cfg, cfg["cifar_epochs"]))
            curves.append(np.stack(curve, -1))
            runs_ok.append(run_ok and ok)
        curves_per_seed.append(curves)
        finite.append(runs_ok)
    scores = torch.stack(scores)
    subsets = {name: torch.cat([s[name] for s in per_seed_subsets]) for name in per_seed_subsets[0]}
    shown = shown_examples(scores[0, :n].cpu().numpy(), y.cpu().numpy())
    images = inputs["cifar10"].x_train
    return {"seed": np.array(cfg["seeds"]), "labels": y.cpu().numpy().astype(np.int8), **predictions, **shown,
            **{f"{name}_images": images[index] for name, index in shown.items()},
            **_subset_arrays(scores[:, :n], scores[:, n:], subsets, curves_per_seed, finite)}


def _compute_corruption(cfg, cell, inputs, device):
    """Figure 10: per seed, a plain VGG-11 on CIFAR-10 with ``cell["fraction"]`` of the labels random; training
    accuracy on its labels (running, over each epoch's minibatches) and test accuracy per epoch."""
    x, y, x_test, y_test = _cifar(cfg, inputs, device)
    train_accuracy, test_accuracy, finite = [], [], []
    for s in cfg["seeds"]:
        _, labels, _ = data.corrupt(x, y, kind="randY", fraction=cell["fraction"],
                                    generator=torch.Generator().manual_seed(seeds.noise(s)))
        run_seed = seeds.runs(s, 1)[0]
        model, curve = _vgg11(cfg, run_seed, device), []
        history, ok = train_classifier(model, x, labels, batch_size=cfg["batch_size"], seed=run_seed,
                                       callback=lambda epoch, m: curve.append(accuracy(m, x_test, y_test)),
                                       **_vgg_training(cfg, cfg["cifar_epochs"]))
        train_accuracy.append(history["accuracy"])
        test_accuracy.append(curve)
        finite.append(ok)
    return {"seed": np.array(cfg["seeds"]), "train_accuracy": np.array(train_accuracy),
            "test_accuracy": np.array(test_accuracy), "finite": np.array(finite)}


def smoothed(curves, window=SMOOTHING):
    """A centred sliding mean over epochs (the window shrinks at the ends), as the paper smooths Figure 3."""
    curves = np.asarray(curves, dtype=float)
    half = window // 2
    padded = np.concatenate([np.full(curves.shape[:-1] + (half,), np.nan), curves,
                             np.full(curves.shape[:-1] + (half,), np.nan)], axis=-1)
    windows = np.stack([padded[..., i:i + curves.shape[-1]] for i in range(window)])
    return np.nanmean(windows, axis=0)


def _scores_work(cfg, cell):
    return len(cfg["seeds"]) * cfg["epochs"] * cfg["train_size"] * 784 * cfg["hidden"] * 5


def _validation_work(cfg, cell):
    models = 1 + cfg["loo_examples"] + 1 + cfg["subsampling_models"]
    return len(cfg["seeds"]) * models * cfg["validation_epochs"] * cfg["validation_size"] * 784 * cfg["validation_hidden"] * 3


@lru_cache(maxsize=None)
def _vgg_macs_at(width):
    return conv_macs(vgg("vgg11", width=width))


def _vgg_macs(cfg):
    return _vgg_macs_at(cfg["vgg_width"])


def _subsets_work(cfg, cell):
    n, scored = cfg["train_size"], cfg["train_size"] + 10000
    per_example = 784 * cfg["hidden"]
    return len(cfg["seeds"]) * per_example * (3 * cfg["score_epochs"] * scored
                                              + cfg["subsets_epochs"] * len(RUNS) * (3 * n + scored))


def _cifar_work(cfg, cell):
    n, m = cfg["cifar_train_size"], cfg["cifar_test_size"]
    kept = 1 + (1 - cfg["subset_fraction"]) + 2 * cfg["subset_fraction"]  # the four runs' shares of the training set
    return len(cfg["seeds"]) * _vgg_macs(cfg) * (4 * cfg["cifar_score_epochs"] * (n + m)
                                                 + cfg["cifar_epochs"] * (3 * kept * n + len(RUNS) * (n + m)))


def _corruption_work(cfg, cell):
    return len(cfg["seeds"]) * _vgg_macs(cfg) * cfg["cifar_epochs"] * (3 * cfg["cifar_train_size"] + cfg["cifar_test_size"])


def _cifar_sizes(cfg):
    return {"cifar10": cfg["cifar_train_size"]}


PARTS = (
    Part("scores", version=1, compute=_compute_scores, cells=lambda cfg: [{"labels": c} for c in CELLS],
         datasets=lambda cfg: {"mnist": cfg["train_size"]}, work=_scores_work,
         dims={name: ("seed",) for name in ("scores", "labels", "corrupted", "unmuted_prediction", "muted_prediction",
                                            "unmuted_accuracy", "muted_accuracy", "finite")}),
    Part("validation", version=1, compute=_compute_validation, datasets=lambda cfg: {"mnist": cfg["validation_size"]},
         work=_validation_work, dims={name: ("seed",) for name in ("loo", "subsampling", "turn_over", "corrupted")}),
    Part("dynamics", version=2, compute=_compute_dynamics, datasets=lambda cfg: {"mnist": cfg["train_size"]},
         work=lambda cfg, cell: len(cfg["seeds"]) * cfg["dynamics_epochs"] * cfg["train_size"] * 784 * cfg["hidden"] * 5,
         dims={name: ("seed",) for name in ("true_subset_accuracy", "random_subset_accuracy", "train_accuracy",
                                            "test_accuracy", "finite") + GRADIENT_CURVES}),
    Part("subsets", version=1, compute=_compute_subsets, datasets=lambda cfg: {"mnist": cfg["train_size"]},
         work=_subsets_work, dims={name: ("seed",) for name in SUBSET_ARRAYS}),
    Part("cifar", version=1, compute=_compute_cifar, cells=lambda cfg: [{}] if cfg["cifar"] else [],
         datasets=_cifar_sizes, work=_cifar_work, dims={name: ("seed",) for name in SUBSET_ARRAYS}),
    Part("corruption", version=2, compute=_compute_corruption, datasets=_cifar_sizes, work=_corruption_work,
         cells=lambda cfg: [{"fraction": f} for f in cfg["corrupted_fractions"]] if cfg["cifar"] else [],
         dims={name: ("seed",) for name in ("train_accuracy", "test_accuracy", "finite")}),
)


def claims(results, cfg):
    """The chapter's claims, seeds as replicates."""
    common = dict(paper="liu2021", profile=cfg["profile"], seeds=list(cfg["seeds"]),
                  replicate=f"seeds ({len(cfg['seeds'])}): initialisation, data order, masks and random labels")
    out = []
    mnist = ", ".join(results.data_labels()["scores"])
    clean = results.sel("scores", "scores", labels="uncorrupted")
    fitted = _clean_fit(results, "uncorrupted")
    fit_text = (f"the unmuted sub-networks fitted the clean labels: final training accuracy >= {FITTED:.0%} (lowest "
                f"{fitted:.3f})")
    skew = np.array([stats.skewness(s) for s in clean])
    out.append(from_test(
        exceeds(skew, LONG_TAIL), id="liu2021-long-tail", figure="Fig. 2a", data=mnist,
        statement="Memorization scores of uncorrupted MNIST follow a long-tailed distribution.",
        effect="skewness of the memorization scores of the training set", threshold=f"95% interval above {LONG_TAIL:g}",
        measured=f"skewness per seed: {', '.join(f'{v:.2f}' for v in skew)}; median score {np.median(clean):.3g}, "
                 f"99th percentile {np.percentile(clean, 99):.3g}",
        precondition=fit_text, at_scale=fitted >= FITTED, **common))
    scores = results.sel("scores", "scores", labels="corrupted")
    corrupted = results.sel("scores", "corrupted", labels="corrupted")
    auc = np.array([stats.auroc(s, c) for s, c in zip(scores, corrupted)])
    fitted = _clean_fit(results, "corrupted")
    out.append(from_test(
        exceeds(auc, FAR_HIGHER), id="liu2021-corrupted-score-higher", figure="Fig. 2b", data=mnist,
        statement="Examples with random labels have far higher memorization scores than examples with true labels.",
        effect="AUROC of the memorization score for finding the examples whose label was redrawn at random (a "
               "tenth of them drew their true label again)",
        threshold=f"95% interval above {FAR_HIGHER:g}",
        measured=f"AUROC per seed: {', '.join(f'{v:.3f}' for v in auc)}; median score, random labels: "
                 f"{np.median(scores[corrupted]):.3g}, true labels: {np.median(scores[~corrupted]):.3g}",
        precondition=(f"the unmuted sub-networks fitted the true labels among the corrupted: final training accuracy "
                      f">= {FITTED:.0%} (lowest {fitted:.3f})"), at_scale=fitted >= FITTED, **common))
    validation = ", ".join(results.data_labels()["validation"])
    for reference, name in (("loo", "exact leave-one-out retraining"), ("subsampling", "Feldman & Zhang's subsampling")):
        values = results.sel("validation", reference)
        estimates = results.sel("validation", "turn_over")[:, : values.shape[1]]
        rho = np.array([stats.spearman(a, b) for a, b in zip(estimates, values)])
        out.append(from_test(
            exceeds(rho, AGREE), id=f"liu2021-agrees-with-{reference.replace('_', '-')}", figure="(beyond the paper)",
            data=validation,
            statement=f"Turn-over dropout's memorization scores rank examples as {name} does.",
            effect=f"Spearman correlation between the turn-over scores and {name}, over {values.shape[1]} examples",
            threshold=f"95% interval above {AGREE:g}",
            measured=f"Spearman per seed: {', '.join(f'{v:.3f}' for v in rho)}",
            precondition="a small problem where the reference is exact or nearly so (see the settings)", **common))
    out.append(_peak_claim(results, cfg, common))
    out += _gradient_claims(results, cfg, common)
    for part, dataset in DATASET_NAMES.items():
        out += _subset_claims(results, cfg, common, part, dataset)
    out += _corruption_claims(results, cfg, common)
    return out


def _corruption_claims(results, cfg, common):
    """Appendix E (Figure 10): more random labels make the fit slower; with some random labels (not all), the test
    accuracy peaks and then falls."""
    rows = [dict(id="liu2021-more-noise-slower-fit", figure="Fig. 10",
                 statement="The more random labels, the slower the network fits its training set.",
                 effect="mean over epochs of the training accuracy with fewer random labels minus with more, for each "
                        "pair of neighbouring shares; the smallest", threshold="95% intervals above 0"),
            dict(id="liu2021-noisy-test-peaks-then-falls", figure="Fig. 10",
                 statement="When some labels are random, the test accuracy first peaks and then falls.",
                 effect=f"the {SMOOTHING}-epoch smoothed test accuracy's fall from its peak to the end, minus that of "
                        f"the run without random labels (a peak of noise alone), for each share of random labels "
                        f"between 0 and 1; the smallest", threshold="95% intervals above 0")]
    fractions = cfg["corrupted_fractions"]
    noisy = [f for f in fractions if 0 < f < 1]
    if not cfg["cifar"]:
        return [_not_run({**row, **common, "data": "CIFAR-10, VGG-11"}) for row in rows]
    if not noisy or fractions[0] != 0:
        return [_not_run({**row, **common, "data": "CIFAR-10, VGG-11"}, why=f"corrupted_fractions={fractions}",
                         needs="corrupted_fractions holds 0 and a share strictly between 0 and 1") for row in rows]
    curve = lambda name, f: results.sel_finite("corruption", name, fraction=f)
    gaps = [np.nanmean(curve("train_accuracy", a) - curve("train_accuracy", b), -1) for a, b in zip(fractions, fractions[1:])]
    test = {f: smoothed(curve("test_accuracy", f)) for f in [0.0] + noisy}
    fall = lambda f: np.nanmax(test[f], -1) - test[f][:, -1]
    drops = [fall(f) - fall(0.0) for f in noisy]
    clean_fit = float(np.min(curve("train_accuracy", fractions[0])[:, -1]))
    memorized = float(min(np.min(curve("train_accuracy", f)[:, -1]) for f in noisy))
    final = lambda name: ", ".join(f"{f:.0%}: {np.nanmean(curve(name, f)[:, -1]):.3f}" for f in fractions)
    data_label = ", ".join(results.data_labels()["corruption"]) + " (VGG-11)"
    return [
        from_test(all_of(*map(exceeds, gaps)), **rows[0], data=data_label,
                  measured=f"final training accuracy by share of random labels: {final('train_accuracy')}",
                  precondition=f"the run with the fewest random labels fitted them: final training accuracy >= "
                               f"{FITTED:.0%} (lowest {clean_fit:.3f})", at_scale=clean_fit >= FITTED, **common),
        from_test(all_of(*map(exceeds, drops)), **rows[1], data=data_label,
                  measured="smoothed test accuracy, peak / end: " + ", ".join(
                      f"{f:.0%}: {np.nanmean(np.nanmax(test[f], -1)):.3f} / {np.nanmean(test[f][:, -1]):.3f}"
                      for f in [0.0] + noisy),
                  precondition=f"memorization progressed: final training accuracy >= {MEMORIZING:.0%} with every share "
                               f"of random labels between 0 and 1 (lowest {memorized:.3f})",
                  at_scale=memorized >= MEMORIZING, **common),
    ]


def subset_accuracy(results, part, run, subset):
    """Accuracy (seed, epoch) of ``run`` (RUNS) on ``subset`` (SUBSETS); nan for a diverged run."""
    return results.sel_finite(part, "accuracy")[:, RUNS.index(run), SUBSETS.index(subset)]


def _subset_claims(results, cfg, common, part, dataset):
    """Figures 5 and 6: easy examples are learned faster, difficult ones from the start; easy test examples reach
    a higher accuracy; training on difficult examples helps easy ones far more than the reverse."""
    key = "mnist" if part == "subsets" else "cifar10"
    fig5, fig6 = ("Fig. 5a" if part == "subsets" else "Fig. 5c"), "Fig. 6"
    rows = [
        dict(id=f"liu2021-easy-faster-difficult-from-start-{key}", figure=fig5,
             statement="Easy examples are learned faster than difficult ones, but difficult ones improve from the start, "
                       "not only through what the easy ones teach.",
             effect=f"the smaller of: the mean over epochs of the easy minus the difficult subset's training accuracy; "
                    f"and, over the first {EARLY:.0%} of the epochs, the difficult subset's training accuracy minus that "
                    f"of the control run trained without it", threshold="95% intervals above 0"),
        dict(id=f"liu2021-easy-test-higher-{key}", figure="Fig. 5b" if part == "subsets" else "Fig. 5d",
             statement="Easy test examples reach a higher test accuracy than difficult ones.",
             effect="final accuracy on the easy minus the difficult test subset", threshold="95% interval above 0"),
        dict(id=f"liu2021-difficult-more-informative-{key}", figure=fig6,
             statement="Training on difficult examples helps easy ones far more than training on easy examples helps "
                       "difficult ones.",
             effect="final accuracy on the easy subset of the run trained on the difficult subset only, minus that on "
                    "the difficult subset of the run trained on the easy subset only",
             threshold=f"95% interval above {FAR_MORE:g}"),
    ]
    if part == "cifar" and not cfg["cifar"]:
        return [_not_run({**row, **common, "data": dataset}) for row in rows]
    data_label = ", ".join(results.data_labels()[part]) + f" ({dataset})"
    acc = lambda run, subset: subset_accuracy(results, part, run, subset)
    early = max(1, round(EARLY * acc("full", "easy").shape[-1]))
    faster = np.nanmean(acc("full", "easy") - acc("full", "difficult"), -1)
    from_start = np.nanmean(acc("full", "difficult")[:, :early] - acc("control", "difficult")[:, :early], -1)
    final = lambda run, subset: acc(run, subset)[:, -1]
    fitted_easy = float(np.min(final("full", "easy")))
    fits = float(min(np.min(final("easy_only", "easy")), np.min(final("difficult_only", "difficult"))))
    learned = float(np.min(final("full", "test")))
    mean = lambda values: f"{np.nanmean(values):.3f}"
    tests = [all_of(exceeds(faster), exceeds(from_start)),
             exceeds(final("full", "easy_test") - final("full", "difficult_test")),
             exceeds(final("difficult_only", "easy") - final("easy_only", "difficult"), FAR_MORE)]
    measured = [
        f"training accuracy after epoch 1, easy / difficult: {mean(acc('full', 'easy')[:, 0])} / "
        f"{mean(acc('full', 'difficult')[:, 0])}; at the end: {mean(final('full', 'easy'))} / "
        f"{mean(final('full', 'difficult'))}; difficult subset over the first {early} epoch(s), trained on / left out: "
        f"{mean(acc('full', 'difficult')[:, :early])} / {mean(acc('control', 'difficult')[:, :early])}",
        f"final test accuracy, easy / difficult / all: {mean(final('full', 'easy_test'))} / "
        f"{mean(final('full', 'difficult_test'))} / {mean(final('full', 'test'))}",
        f"trained on the difficult subset: easy {mean(final('difficult_only', 'easy'))}, difficult "
        f"{mean(final('difficult_only', 'difficult'))}; trained on the easy subset: easy "
        f"{mean(final('easy_only', 'easy'))}, difficult {mean(final('easy_only', 'difficult'))}",
    ]
    preconditions = [
        (f"the full run fitted the easy subset: final training accuracy >= {FITTED:.0%} (lowest {fitted_easy:.3f})",
         fitted_easy >= FITTED),
        (f"the full run generalizes: final test accuracy >= {LEARNED:.0%} (lowest {learned:.3f})", learned >= LEARNED),
        (f"each subset run fitted its own subset: final training accuracy >= {FITTED:.0%} (lowest {fits:.3f})",
         fits >= FITTED),
    ]
    return [from_test(test, **row, measured=text, precondition=condition, at_scale=ok, data=data_label, **common)
            for test, row, text, (condition, ok) in zip(tests, rows, measured, preconditions)]


def _not_run(fields, why="cifar is off", needs="cifar is on, as it is at the smoke, gpu and paper profiles"):
    return Claim(**fields, measured=f"not run in this configuration ({why})", passed=False, at_scale=False,
                 precondition=needs)


def _peak_claim(results, cfg, common):
    """Figure 3: the test accuracy peaks while the random labels are barely fitted, then falls."""
    test = smoothed(results.sel_finite("dynamics", "test_accuracy"))
    random = smoothed(results.sel_finite("dynamics", "random_subset_accuracy"))
    peak = np.nanargmax(np.where(np.isfinite(test), test, -np.inf), axis=-1)
    rows = np.arange(len(test))
    drop = test[rows, peak] - test[:, -1]
    at_peak = random[rows, peak]
    final = float(np.min(random[:, -1]))
    return from_test(
        all_of(exceeds(drop - FALL_MIN), exceeds(BARELY - at_peak)), id="liu2021-test-peaks-before-random-fitted",
        figure="Fig. 3", data=", ".join(results.data_labels()["dynamics"]),
        statement="The test accuracy peaks while the random labels are still barely fitted, and falls as they are.",
        effect=f"smoothed test accuracy at its peak minus at the end, minus {FALL_MIN:g} (a peak minus the end is never "
               f"negative, so a fall must be larger than noise), and {BARELY:g} minus the random-label subset's "
               f"smoothed training accuracy at the peak; the smaller",
        threshold="95% intervals above 0",
        measured=f"peak epoch per seed: {', '.join(str(p + 1) for p in peak)}; test accuracy at the peak "
                 f"{np.nanmean(test[rows, peak]):.3f}, at the end {np.nanmean(test[:, -1]):.3f}; random-label subset "
                 f"training accuracy at the peak {np.nanmean(at_peak):.3f}, at the end {np.nanmean(random[:, -1]):.3f}",
        precondition=f"memorization progressed: the random-label subset's final (smoothed) training accuracy >= "
                     f"{MEMORIZING:.0%} (lowest {final:.3f})", at_scale=final >= MEMORIZING, **common)


def _gradient_claims(results, cfg, common):
    """Figure 4: easy (true-label) examples' gradients agree more; difficult (random-label) ones contribute more.
    Two claims, since the two effects have different units."""
    curve = lambda name: np.nanmean(results.sel_finite("dynamics", name), -1)  # mean over epochs, per seed
    fields = dict(figure="Fig. 4", data=", ".join(results.data_labels()["dynamics"]), threshold="95% interval above 0",
                  precondition="none beyond finite training: the claim is about the whole of training", **common)
    return [
        from_test(exceeds(curve("easy_cosine") - curve("difficult_cosine")), id="liu2021-easy-gradients-agree",
                  statement="Easy examples' gradients have a higher cosine similarity than difficult examples'.",
                  effect=f"mean over epochs of the mean pairwise cosine similarity (Eq. 3) of {GRADIENT_SAMPLE} "
                         f"true-label examples' gradients minus that of {GRADIENT_SAMPLE} random-label examples'",
                  measured=f"cosine similarity, easy / difficult: {np.nanmean(curve('easy_cosine')):.3g} / "
                           f"{np.nanmean(curve('difficult_cosine')):.3g}", **fields),
        from_test(exceeds(curve("difficult_contribution") - curve("easy_contribution")),
                  id="liu2021-difficult-gradients-contribute",
                  statement="Difficult examples' gradients contribute more to the minibatch gradient than easy ones'.",
                  effect="mean over epochs of the mean contribution (Eq. 4) of the random-label examples minus that "
                         "of the true-label examples",
                  measured=f"contribution, easy / difficult / all: {np.nanmean(curve('easy_contribution')):.3g} / "
                           f"{np.nanmean(curve('difficult_contribution')):.3g} / "
                           f"{np.nanmean(curve('all_contribution')):.3g}", **fields),
    ]


def _clean_fit(results, cell):
    """Lowest (over seeds) final training accuracy of the unmuted sub-networks on the examples with true labels."""
    predicted = results.sel("scores", "unmuted_prediction", labels=cell)
    labels = results.sel("scores", "labels", labels=cell)
    clean = ~results.sel("scores", "corrupted", labels=cell)
    finite = results.sel("scores", "finite", labels=cell)
    values = [((p == t)[c]).mean() if ok else np.nan for p, t, c, ok in zip(predicted, labels, clean, finite)]
    return float(np.min(values))


CHAPTER = Chapter("turn_over_dropout", paper="liu2021", params=PARAMS, parts=PARTS, claims=(), evidence=lambda results, cfg: Evidence({}, {}), check=_check)
