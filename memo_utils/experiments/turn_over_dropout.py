"""Liu, Lin & Jaggi 2021, Understanding Memorization from the Perspective of Optimization via
Efficient Influence Estimation, sections 2-3.1 and Appendices A-D (Figures 2, 7 and 9), with a
check the paper does not make: turn-over dropout's memorization scores against exact leave-one-out
retraining and Feldman & Zhang's subsampling estimator.

Part ``scores`` trains the one-hidden-layer MLP with turn-over dropout on MNIST, uncorrupted and
with a third of the labels random (the paper's 20,000 of 60,000), one model per seed in one batched
ensemble (:mod:`memo_utils.turn_over`); after every epoch it records the training accuracy of each
example's unmuted and muted sub-networks (Figure 9), and at the end every training example's
memorization score (Equation 6) and both sub-networks' predictions (Figures 2 and 7). Part
``validation`` trains, per seed, on a small corrupted MNIST problem: a turn-over network, exact
leave-one-out models for some examples and random-half models for all (:mod:`memo_utils.influence`).
"""
from __future__ import annotations

import numpy as np
import torch

from .. import data, influence, profiles, seeds, stats, turn_over
from ..chapter import Chapter, Param, Part
from ..claims import exceeds, from_test
from ..ensemble import MLPEnsemble, train_ensemble

CELLS = ("uncorrupted", "corrupted")
LONG_TAIL = 1.0  # skewness above which a distribution is "highly skewed" (a long right tail)
FAR_HIGHER = 0.75  # AUROC above which corrupted examples score "far higher" (0.5: no better than chance)
AGREE = 0.5  # Spearman correlation above which two score rankings agree strongly
FITTED = 0.9  # training accuracy of the unmuted sub-networks on clean labels: the networks learned
SCALED = "scaled down to fit the profile's time budget"
SHOWN_PER_CLASS = 6  # images per class in Figure 7
SHOWN_PER_DECILE = 24  # images per score decile in the widget

PARAMS = (
    Param("train_size", profiles.positive_int, 60000, paper="MNIST training set (60,000)", parts=("scores",),
          by_profile={"smoke": 1000, "cpu": 10000}, note="cpu: the bundled 10,000 exact images"),
    Param("corrupted_fraction", profiles.fraction, 1 / 3, paper="20,000 of 60,000 labels random (Figure 2b)",
          parts=("scores",), note="a third of the training set, drawn per seed"),
    Param("hidden", profiles.positive_int, 4096, paper="4096", parts=("scores",),
          by_profile={"smoke": 64, "cpu": 1024}, note="units of the hidden layer (even: half are kept); " + SCALED),
    Param("epochs", profiles.positive_int, 200, paper="200 (Appendix D: a few epochs suffice for the scores)",
          parts=("scores",), by_profile={"smoke": 2, "cpu": 20, "gpu": 30}, note=SCALED),
    Param("lr", profiles.positive_float, 0.06, paper="0.06, no momentum", parts=("scores", "validation")),
    Param("batch_size", profiles.positive_int, 256, paper="256", parts=("scores",)),
    Param("seeds", profiles.seed_list, [0, 1, 2], paper="one run", parts=("scores", "validation"),
          by_profile={"smoke": [0]},
          note="the replicates of every claim: a seed fixes the initialisation, data order, masks and random labels"),
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
            from ..errors import ConfigError

            raise ConfigError(f"{name}={cfg[name]} is not allowed: must be even (turn-over dropout keeps half)")


def _mnist(inputs, n, device):
    mnist = inputs["mnist"]
    (x,) = data.standardize(data.to_tensor(mnist.x_train[:n], device))
    return x.flatten(1), torch.as_tensor(mnist.y_train[:n], dtype=torch.long, device=device)


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


def _scores_work(cfg, cell):
    return len(cfg["seeds"]) * cfg["epochs"] * cfg["train_size"] * 784 * cfg["hidden"] * 5


def _validation_work(cfg, cell):
    models = 1 + cfg["loo_examples"] + 1 + cfg["subsampling_models"]
    return len(cfg["seeds"]) * models * cfg["validation_epochs"] * cfg["validation_size"] * 784 * cfg["validation_hidden"] * 3


PARTS = (
    Part("scores", version=1, compute=_compute_scores, cells=lambda cfg: [{"labels": c} for c in CELLS],
         datasets=lambda cfg: {"mnist": cfg["train_size"]}, work=_scores_work,
         dims={name: ("seed",) for name in ("scores", "labels", "corrupted", "unmuted_prediction", "muted_prediction",
                                            "unmuted_accuracy", "muted_accuracy", "finite")}),
    Part("validation", version=1, compute=_compute_validation, datasets=lambda cfg: {"mnist": cfg["validation_size"]},
         work=_validation_work, dims={name: ("seed",) for name in ("loo", "subsampling", "turn_over", "corrupted")}),
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
    return out


def _clean_fit(results, cell):
    """Lowest (over seeds) final training accuracy of the unmuted sub-networks on the examples with true labels."""
    predicted = results.sel("scores", "unmuted_prediction", labels=cell)
    labels = results.sel("scores", "labels", labels=cell)
    clean = ~results.sel("scores", "corrupted", labels=cell)
    finite = results.sel("scores", "finite", labels=cell)
    values = [((p == t)[c]).mean() if ok else np.nan for p, t, c, ok in zip(predicted, labels, clean, finite)]
    return float(np.min(values))


CHAPTER = Chapter("turn_over_dropout", paper="liu2021", params=PARAMS, parts=PARTS, claims=claims, check=_check)
