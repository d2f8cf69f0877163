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

import numpy as np
import torch

from .. import data, influence, per_example, profiles, seeds, stats, turn_over
from ..chapter import Chapter, Param, Part
from ..claims import all_of, exceeds, from_test
from ..ensemble import MLPEnsemble, train_ensemble

CELLS = ("uncorrupted", "corrupted")
LONG_TAIL = 1.0  # skewness above which a distribution is "highly skewed" (a long right tail)
FAR_HIGHER = 0.75  # AUROC above which corrupted examples score "far higher" (0.5: no better than chance)
AGREE = 0.5  # Spearman correlation above which two score rankings agree strongly
FITTED = 0.9  # training accuracy of the unmuted sub-networks on clean labels: the networks learned
BARELY = 0.3  # random-subset training accuracy below which random labels are "barely fitted" (chance: 0.1)
MEMORIZING = 0.5  # final random-subset training accuracy: memorization has progressed (Figure 3's precondition)
SMOOTHING = 5  # epochs in Figure 3's sliding window (centred)
GRADIENT_SAMPLE = 256  # examples per set whose gradients Figure 4 compares (and the minibatch of Equation 4)
GRADIENT_CURVES = ("easy_cosine", "difficult_cosine", "easy_contribution", "difficult_contribution",
                   "all_contribution")
SCALED = "scaled down to fit the profile's time budget"
SHOWN_PER_CLASS = 6  # images per class in Figure 7
SHOWN_PER_DECILE = 24  # images per score decile in the widget

PARAMS = (
    Param("train_size", profiles.positive_int, 60000, paper="MNIST training set (60,000)", parts=("scores", "dynamics"),
          by_profile={"smoke": 1000, "cpu": 10000}, note="cpu: the bundled 10,000 exact images"),
    Param("corrupted_fraction", profiles.fraction, 1 / 3, paper="20,000 of 60,000 labels random (Figures 2b, 3)",
          parts=("scores", "dynamics"), note="a third of the training set, drawn per seed"),
    Param("hidden", profiles.positive_int, 4096, paper="4096", parts=("scores", "dynamics"),
          by_profile={"smoke": 64, "cpu": 512}, note="units of the hidden layer (even: half are kept); " + SCALED),
    Param("epochs", profiles.positive_int, 200, paper="200 (Appendix D: a few epochs suffice for the scores)",
          parts=("scores",), by_profile={"smoke": 2, "cpu": 20, "gpu": 30}, note=SCALED),
    Param("lr", profiles.positive_float, 0.06, paper="0.06, no momentum", parts=("scores", "validation")),
    Param("batch_size", profiles.positive_int, 256, paper="256", parts=("scores", "dynamics")),
    Param("dynamics_epochs", profiles.positive_int, 200, paper="200", parts=("dynamics",),
          by_profile={"smoke": 2, "cpu": 110, "gpu": 100}, note="Figure 3's training; " + SCALED),
    Param("dynamics_lr", profiles.positive_float, 0.01, paper="0.01 (Figure 3)", parts=("dynamics",),
          by_profile={"cpu": 0.06},
          note="cpu: the paper's main 0.06, so that random labels start to be fitted within its 110 epochs (at 0.01 "
               "they would need about six times as many)"),
    Param("seeds", profiles.seed_list, [0, 1, 2], paper="one run", parts=("scores", "validation", "dynamics"),
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


def _compute_dynamics(cfg, cell, inputs, device):
    """Figure 3: per seed, a plain MLP on MNIST with a third of the labels random; per epoch the training accuracy
    of a true-label subset and of a random-label subset (each a sixth of the training set), and the test accuracy."""
    x, y = _mnist(inputs, cfg["train_size"], device)
    mnist = inputs["mnist"]
    (x_test,) = data.standardize(data.to_tensor(mnist.x_train[: cfg["train_size"]], device),
                                 data.to_tensor(mnist.x_test, device))[1:]
    x_test, y_test = x_test.flatten(1), torch.as_tensor(mnist.y_test, dtype=torch.long, device=device)
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
        correct = ens.predict(x) == labels
        curves["true_subset_accuracy"].append(correct[rows, subsets[:, 0]].float().mean(1).cpu().numpy())
        curves["random_subset_accuracy"].append(correct[rows, subsets[:, 1]].float().mean(1).cpu().numpy())
        curves["train_accuracy"].append(correct.float().mean(1).cpu().numpy())
        curves["test_accuracy"].append((ens.predict(x_test) == y_test).float().mean(1).cpu().numpy())

    steps_per_epoch = -(-len(x) // cfg["batch_size"])
    finite = train_ensemble(ensemble, x, labels, order_seeds=run_seeds, epochs=cfg["dynamics_epochs"],
                            batch_size=cfg["batch_size"], lr=cfg["dynamics_lr"], callback=record,
                            checkpoints=[steps_per_epoch * (e + 1) for e in range(cfg["dynamics_epochs"])])
    return {"seed": np.array(cfg["seeds"]), "finite": finite.cpu().numpy(),
            **{name: np.array(values).T for name, values in curves.items()}}


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
    return out


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
        all_of(exceeds(drop), exceeds(BARELY - at_peak)), id="liu2021-test-peaks-before-random-fitted",
        figure="Fig. 3", data=", ".join(results.data_labels()["dynamics"]),
        statement="The test accuracy peaks while the random labels are still barely fitted, and falls as they are.",
        effect=f"smoothed test accuracy at its peak minus at the end, and {BARELY:g} minus the random-label subset's "
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


CHAPTER = Chapter("turn_over_dropout", paper="liu2021", params=PARAMS, parts=PARTS, claims=claims, check=_check)
