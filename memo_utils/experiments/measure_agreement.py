"""Beyond the papers: do the papers' per-example measures, and two from outside them, pick the same examples?

Arpit et al. 2017 (sections 3.1, 3.2 and 4) and Liu, Lin & Jaggi 2021 each rank training examples by their own
measure, and none compares them. On one shared setting (the first ``train_size`` MNIST training images, a share
``noise_fraction`` of their labels replaced by random classes, drawn per seed), every part computes one family of
measures with networks of its own, one cell per seed:

- ``training``: ``hardness_models`` MLPs trained together (:class:`memo_utils.engine.ensemble.MLPEnsemble`); whether
  each classifies each example correctly after every epoch. From it: **hardness** (Arpit et al. 3.1: the share of
  the networks that misclassify an example, after one epoch and at the end), **forgetting events** (Toneva et al.
  2019) and the **epoch an example is first learned for good** (:mod:`memo_utils.methods.dynamics`);
- ``sensitivity``: **loss-sensitivity** ḡ_x (Arpit et al. 3.2) through unrolled SGD
  (:mod:`memo_utils.methods.sensitivity`), averaged over ``sensitivity_runs`` runs;
- ``lass``: **criticality** (Arpit et al. 4): LASS around every training example of ``lass_models`` trained
  networks (:mod:`memo_utils.methods.lass`), and the step at which it flipped the prediction;
- ``turn_over``: the **turn-over dropout memorization score** (Liu et al., :mod:`memo_utils.methods.turn_over`);
- ``subsampling``: the **Feldman & Zhang subsampling estimate** of the same self-influence
  (:func:`memo_utils.methods.influence.subsampling`).

Every part trains networks of its own (initialisations and data orders from disjoint seed ranges, see
:data:`SEED_OFFSETS`): were they shared, two measures could agree because they measured the same network, not
because they pick the same examples. The seeds are the replicates of every claim.
"""

from __future__ import annotations

import numpy as np
import torch

from .. import seeds
from ..engine import data, memory, mlp
from ..engine.ensemble import MLPEnsemble, train_ensemble
from ..errors import ConfigError
from ..framework import profiles, stats
from ..framework.chapter import Chapter, Param, Part
from ..framework.claims import Definition, Evidence, Precondition, above, across, below
from ..methods import dynamics, influence, lass, sensitivity, turn_over
from .loss_sensitivity import stratified_steps

# The measures, each oriented so that a higher value marks an example as harder, more sensitive, more critical or
# more memorized: name -> what it is (shown in the figures and tables).
MEASURES = {
    "hardness_epoch_1": "hardness after epoch 1",
    "hardness_end": "hardness at the end",
    "forgetting": "forgetting events",
    "first_learned": "first-learned epoch",
    "loss_sensitivity": "loss-sensitivity",
    "criticality": "criticality (LASS)",
    "turn_over": "turn-over score",
    "feldman_zhang": "Feldman-Zhang score",
}
NAMES = list(MEASURES)
SHARED = ("training", "sensitivity", "lass", "turn_over", "subsampling")  # the parts, one per family of measures
# Each part's networks take their seeds from their own range of seeds.runs(seed, ...): none shares an
# initialisation or a data order with another part's.
SEED_RANGE = 200
SEED_OFFSETS = {part: SEED_RANGE * i for i, part in enumerate(SHARED)}
LASS_CHUNK = 1000  # examples per LASS call (bounds memory)
SCALED = "scaled down to fit the profile's time budget"

PARAMS = (
    Param(
        "train_size",
        profiles.positive_int,
        60000,
        paper="(not in the papers) the MNIST training set",
        parts=SHARED,
        by_profile={"smoke": 200, "cpu": 1000},
        note="the first MNIST training images, shared by every measure; cpu: 1,000 of the bundled exact images",
    ),
    Param(
        "noise_fraction",
        profiles.fraction,
        0.1,
        paper="(not in the papers)",
        parts=SHARED,
        note="labels replaced by uniformly random classes, drawn per seed; the corrupted labels are those that "
        "differ from the true one afterwards (a random class equals it one time in ten)",
    ),
    Param(
        "hidden",
        profiles.positive_int,
        256,
        paper="(not in the papers) Arpit 3.1: 4096; Liu: 4096",
        parts=SHARED,
        by_profile={"smoke": 16, "cpu": 64},
        note="units of each of the two hidden layers of every network (784 - hidden - hidden - 10, ReLU); even, "
        "since turn-over dropout keeps half; " + SCALED,
    ),
    Param(
        "epochs",
        profiles.positive_int,
        40,
        paper="(not in the papers)",
        parts=SHARED,
        by_profile={"smoke": 2},
        note="every network's training: long enough for the networks to fit the random labels, which a "
        "precondition checks (cpu: 20 epochs fitted 52% of them, 40 fit 97%)",
    ),
    Param(
        "batch_size",
        profiles.positive_int,
        32,
        paper="(not in the papers) Arpit 3.1: not stated; Liu: 256",
        parts=SHARED,
        note="small minibatches give the first epoch enough steps for hardness after one epoch to mean something",
    ),
    Param(
        "lr",
        profiles.positive_float,
        0.05,
        paper="(not in the papers) Arpit 3.1: 0.01; Liu: 0.06",
        parts=SHARED,
        note="plain SGD, no momentum, for every network (the unrolled loss-sensitivity differentiates through it)",
    ),
    Param(
        "seeds",
        profiles.seed_list,
        [0, 1, 2, 3, 4],
        paper="(not in the papers)",
        parts=SHARED,
        by_profile={"smoke": [0, 1]},
        replicates=True,
        note="the replicates of every claim: a seed fixes the random labels and every network; one cell per part "
        "and seed",
    ),
    Param(
        "hardness_models",
        profiles.positive_int,
        32,
        paper="Arpit 3.1: 100 networks",
        parts=("training",),
        by_profile={"smoke": 4, "cpu": 16},
        note="networks per seed whose errors define hardness, forgetting events and the first-learned epoch; " + SCALED,
    ),
    Param(
        "sensitivity_runs",
        profiles.positive_int,
        2,
        paper="Arpit 3.2: not stated",
        parts=("sensitivity",),
        by_profile={"smoke": 1},
        note="runs per seed whose loss-sensitivity is averaged",
    ),
    Param(
        "measured_steps",
        profiles.positive_int,
        8,
        paper="Arpit 3.2: every step (an average over t)",
        parts=("sensitivity",),
        by_profile={"smoke": 2},
        note="the average of g_x^t over every step t, estimated by one step drawn in each of this many equal "
        "slices of training (as the loss-sensitivity chapter does)",
    ),
    Param(
        "lass_models",
        profiles.positive_int,
        4,
        paper="Arpit 4: one network",
        parts=("lass",),
        by_profile={"smoke": 2},
        note="trained networks per seed around whose training examples LASS searches; criticality averages them",
    ),
    Param(
        "lass_iterations",
        profiles.positive_int,
        30,
        paper="Arpit 4: not stated",
        parts=("lass",),
        by_profile={"smoke": 5, "cpu": 15},
        note="the most LASS steps per example; r, alpha and beta are the paper's, read as in the critical "
        "sample ratio chapter (0.3, 0.25, 0.2 on the 0-255 pixel scale, the box cut to the pixel range)",
    ),
    Param(
        "turn_over_models",
        profiles.positive_int,
        1,
        paper="Liu: one network",
        parts=("turn_over",),
        note="turn-over networks per seed whose scores are averaged",
    ),
    Param(
        "subsampling_models",
        profiles.positive_int,
        64,
        paper="Feldman & Zhang 2020: thousands of models",
        parts=("subsampling",),
        by_profile={"smoke": 4, "cpu": 16},
        note="networks per seed, each trained on a random half; an example no model (or every model) kept has no "
        "score and is left out of every comparison; " + SCALED,
    ),
)


def _check(cfg):
    if cfg["hidden"] % 2:
        raise ConfigError(f"hidden={cfg['hidden']} is not allowed: must be even (turn-over dropout keeps half)")
    if len(cfg["seeds"]) != len(set(cfg["seeds"])):
        raise ConfigError(f"seeds={cfg['seeds']} is not allowed: list distinct seeds")
    if not 0 < cfg["noise_fraction"] < 1:
        raise ConfigError(
            f"noise_fraction={cfg['noise_fraction']} is not allowed: must lie strictly between 0 and 1, so that "
            "there are wrong labels to find and clean examples to compare over"
        )
    if cfg["batch_size"] > cfg["train_size"]:
        raise ConfigError(
            f"batch_size={cfg['batch_size']} is not allowed: must be at most train_size={cfg['train_size']}"
        )
    for part, name in MODELS.items():
        if part != "subsampling" and cfg[name] > SEED_RANGE:  # its models draw from influence.subsampling's seeds
            raise ConfigError(
                f"{name}={cfg[name]} is not allowed: at most {SEED_RANGE}, so that its networks' seeds stay apart "
                "from the other measures'"
            )


def _cells(cfg):
    return [{"seed": s} for s in cfg["seeds"]]


def network_seeds(seed, part, count):
    """Seeds (initialisation and data order) of ``count`` networks of ``part`` for replicate ``seed``."""
    return seeds.runs(seed, SEED_OFFSETS[part] + count)[SEED_OFFSETS[part] :]


def shared_setting(inputs, cfg, seed, device):
    """The examples every measure ranks: standardized inputs (N, 784), the training labels of seed ``seed``
    (random for a share ``noise_fraction``), whether each label is wrong, and the pixel scale LASS needs."""
    mnist, n = inputs["mnist"], cfg["train_size"]
    x = data.to_tensor(mnist.x_train[:n], device).flatten(1)
    mean, std = float(x.mean()), float(x.std())
    x = (x - mean) / std
    y_true = torch.as_tensor(mnist.y_train[:n], dtype=torch.long, device=device)
    _, y, _ = data.corrupt(
        x,
        y_true,
        kind="randY",
        fraction=cfg["noise_fraction"],
        generator=torch.Generator().manual_seed(seeds.noise(seed)),
    )
    return x, y, (y != y_true).cpu().numpy(), {"pixel_mean": mean, "pixel_std": std}


def _sizes(cfg):
    return [784, cfg["hidden"], cfg["hidden"], data.NUM_CLASSES]


def _train(cfg):
    return dict(epochs=cfg["epochs"], batch_size=cfg["batch_size"], lr=cfg["lr"])


def _common(y, mislabeled, finite):
    """What every part stores beside its measure: the labels it trained on (evidence checks that every part of a
    seed saw the same), which are wrong, and which of its networks kept a finite loss."""
    return {"labels": y.cpu().numpy().astype(np.int8), "mislabeled": mislabeled, "finite": finite.cpu().numpy()}


def _compute_training(cfg, cell, inputs, device):
    """``hardness_models`` networks; whether each classifies each example as labelled after every epoch."""
    x, y, mislabeled, _ = shared_setting(inputs, cfg, cell["seed"], device)
    run_seeds = network_seeds(cell["seed"], "training", cfg["hardness_models"])
    ensemble = MLPEnsemble(_sizes(cfg), run_seeds, device)
    correct = []
    per_epoch = -(-len(x) // cfg["batch_size"])
    finite = train_ensemble(
        ensemble,
        x,
        y,
        order_seeds=run_seeds,
        checkpoints=[per_epoch * (e + 1) for e in range(cfg["epochs"])],
        callback=lambda step, ens: correct.append((ens.predict(x) == y).cpu().numpy()),
        **_train(cfg),
    )
    return {"correct": np.stack(correct, axis=1), **_common(y, mislabeled, finite)}  # (model, epoch, example)


def _compute_sensitivity(cfg, cell, inputs, device):
    """ḡ_x = the mean over sampled steps t of ||dL_t/dx||_1, L_t the minibatch loss after t SGD steps, per run."""
    x, y, mislabeled, _ = shared_setting(inputs, cfg, cell["seed"], device)
    runs = cfg["sensitivity_runs"]
    last = cfg["epochs"] * (len(x) // cfg["batch_size"])  # minibatch_schedule drops each epoch's partial batch
    inits, schedules = [], []
    for run_seed in network_seeds(cell["seed"], "sensitivity", runs):
        generator = torch.Generator().manual_seed(run_seed)
        inits.append(mlp.init_params(_sizes(cfg), generator, device=device))
        schedules.append(sensitivity.minibatch_schedule(len(x), cfg["batch_size"], last, generator))
    measured = stratified_steps(
        last, cfg["measured_steps"], torch.Generator().manual_seed(seeds.sampled_steps(cell["seed"]))
    )
    params = tuple(torch.stack(p) for p in zip(*inits))
    xs, ys, schedule = x.expand(runs, -1, -1), y.expand(runs, -1), torch.stack(schedules).to(device)
    grads, _ = sensitivity.input_gradients_runs(params, xs, ys, lr=cfg["lr"], schedule=schedule, measure_steps=measured)
    values = grads.abs().sum(-1).mean(1)  # (run, example)
    _, final = sensitivity.train_runs(params, xs, ys, schedule, cfg["lr"], last, last)
    with torch.no_grad():
        accuracy = (mlp.forward(final, xs).argmax(-1) == ys).float().mean(-1)
    finite = torch.isfinite(values).all(-1)
    return {
        "loss_sensitivity": values.cpu().numpy(),
        "measured_steps": np.array(measured),
        "final_train_accuracy": accuracy.cpu().numpy(),
        **_common(y, mislabeled, finite),
    }


def _compute_lass(cfg, cell, inputs, device):
    """``lass_models`` trained networks; the LASS step at which each training example's prediction flipped."""
    x, y, mislabeled, pixels = shared_setting(inputs, cfg, cell["seed"], device)
    run_seeds = network_seeds(cell["seed"], "lass", cfg["lass_models"])
    ensemble = MLPEnsemble(_sizes(cfg), run_seeds, device)
    finite = train_ensemble(ensemble, x, y, order_seeds=run_seeds, **_train(cfg))
    flipped_at = lass.search(
        ensemble.forward,
        x.expand(ensemble.k, -1, -1),
        example_dim=1,
        seed=seeds.lass_noise_of_seed(cell["seed"]),
        max_iter=cfg["lass_iterations"],
        chunk=LASS_CHUNK,
        **pixels,
    )
    return {
        "flipped_at": flipped_at.cpu().numpy().astype(np.int16),
        "train_accuracy": (ensemble.predict(x) == y).float().mean(-1).cpu().numpy(),
        **_common(y, mislabeled, finite),
    }


def _compute_turn_over(cfg, cell, inputs, device):
    """``turn_over_models`` networks trained with turn-over dropout (no output bias); each example's score."""
    x, y, mislabeled, _ = shared_setting(inputs, cfg, cell["seed"], device)
    run_seeds = network_seeds(cell["seed"], "turn_over", cfg["turn_over_models"])
    ensemble = MLPEnsemble(_sizes(cfg), run_seeds, device, output_bias=False)
    finite = train_ensemble(
        ensemble, x, y, order_seeds=run_seeds, hidden_masks=turn_over.ensemble_masks(ensemble, run_seeds), **_train(cfg)
    )
    ids = torch.arange(len(x), device=device)
    unmuted = turn_over.predictions(ensemble, x, ids, run_seeds)
    return {
        "scores": turn_over.scores(ensemble, x, y, ids, run_seeds).cpu().numpy(),
        "unmuted_correct": (unmuted == y).cpu().numpy(),
        **_common(y, mislabeled, finite),
    }


def _compute_subsampling(cfg, cell, inputs, device):
    """Feldman & Zhang's estimate from ``subsampling_models`` networks on random halves (nan: no comparison)."""
    x, y, mislabeled, _ = shared_setting(inputs, cfg, cell["seed"], device)
    (run_seed,) = network_seeds(cell["seed"], "subsampling", 1)
    scores, finite = influence.subsampling(
        _sizes(cfg), x, y, models=cfg["subsampling_models"], seed=run_seed, with_finite=True, **_train(cfg)
    )
    return {"scores": scores.cpu().numpy(), **_common(y, mislabeled, finite)}


# Each part's networks per seed, and the training epochs' worth of work each does (LASS: its search steps too)
MODELS = {
    "training": "hardness_models",
    "sensitivity": "sensitivity_runs",
    "lass": "lass_models",
    "turn_over": "turn_over_models",
    "subsampling": "subsampling_models",
}


def _work(name):
    """Training FLOPs of the part's networks (about 6 per parameter and example, forward and backward); LASS's
    search steps cost a forward and a backward pass each; loss-sensitivity's sweep recomputes the training and
    carries each measured loss back through about half of it, a second-order pass of about twice a step's cost."""

    def work(cfg, cell):
        parameters = sum(a * b for a, b in zip(_sizes(cfg)[:-1], _sizes(cfg)[1:]))
        epochs = cfg["epochs"] + (cfg["lass_iterations"] if name == "lass" else 0)
        factor = 2 + 2 * cfg["measured_steps"] if name == "sensitivity" else 1
        return 6 * parameters * cfg["train_size"] * epochs * cfg[MODELS[name]] * factor

    return work


def _memory(name):
    """The part's networks on a minibatch, three copies of the inputs (raw, standardized, a search's iterate) and,
    for loss-sensitivity, dL_t/dx of every example for each measured loss of each run."""

    def needed(cfg, cell):
        networks = memory.mlp(_sizes(cfg), cfg["batch_size"], models=cfg[MODELS[name]])
        kept = cfg["measured_steps"] * cfg["sensitivity_runs"] * cfg["train_size"] * 784 if name == "sensitivity" else 0
        return memory.needed(networks, data=memory.images(cfg["train_size"], (784,), copies=3) + kept)

    return needed


COMPUTE = {
    "training": _compute_training,
    "sensitivity": _compute_sensitivity,
    "lass": _compute_lass,
    "turn_over": _compute_turn_over,
    "subsampling": _compute_subsampling,
}
# lass 2: each seed's own LASS noise; subsampling 2: which of its networks kept a finite loss
VERSIONS = {"training": 1, "sensitivity": 1, "lass": 2, "turn_over": 1, "subsampling": 2}
PARTS = tuple(
    Part(
        name,
        version=VERSIONS[name],
        compute=compute,
        datasets=lambda cfg: {"mnist": cfg["train_size"]},
        cells=_cells,
        dims={"finite": ("model",)},
        work=_work(name),
        memory=_memory(name),
    )
    for name, compute in COMPUTE.items()
)


# --- Measures, from the cached arrays ---------------------------------------------------------------


def _finite_rows(results, part, name, seed):
    """Array ``name`` of ``part`` for ``seed``, its diverged networks' rows left out."""
    values = results.sel(part, name, seed=seed)
    return values[np.asarray(results.sel(part, "finite", seed=seed), dtype=bool)]


def _mean_rows(values):
    return values.mean(0) if len(values) else np.full(values.shape[1:], np.nan)


def seed_measures(results, cfg, seed):
    """Every measure of every example for ``seed`` ({name: (N,)}, nan where undefined) and which labels are wrong.

    Hardness is the share of the training networks that misclassify an example (as labelled); forgetting events
    count an example never classified correctly as ``epochs`` events, more than any learned example can have
    (Toneva et al. rank them most forgettable); the first-learned epoch is 1-based, ``epochs + 1`` for an example
    not learned for good; criticality is the mean over the LASS networks of 1 - (s - 1) / max_iter for an example
    flipped at step s, 0 if never (flipped at once: 1)."""
    labels = {part: results.sel(part, "labels", seed=seed) for part in SHARED}
    if any((v != labels["training"]).any() for v in labels.values()):
        raise ValueError(f"seed {seed}: the parts trained on different labels; recompute the chapter")
    correct = _finite_rows(results, "training", "correct", seed).astype(bool)  # (model, epoch, example)
    forgetting = np.where(dynamics.never_learned(correct), cfg["epochs"], dynamics.forgetting_events(correct))
    flipped = _finite_rows(results, "lass", "flipped_at", seed).astype(float)
    max_iter = cfg["lass_iterations"]
    values = {
        "hardness_epoch_1": 1 - _mean_rows(correct[:, 0]),
        "hardness_end": 1 - _mean_rows(correct[:, -1]),
        "forgetting": _mean_rows(forgetting.astype(float)),
        "first_learned": _mean_rows(dynamics.first_learned(correct) + 1.0),
        "loss_sensitivity": _mean_rows(_finite_rows(results, "sensitivity", "loss_sensitivity", seed)),
        "criticality": _mean_rows(np.where(flipped > 0, 1 - (flipped - 1) / max_iter, 0.0)),
        "turn_over": _mean_rows(_finite_rows(results, "turn_over", "scores", seed)),
        "feldman_zhang": results.sel("subsampling", "scores", seed=seed).astype(float),
    }
    return values, results.sel("training", "mislabeled", seed=seed).astype(bool)


def top_k(values, k, seed):
    """Indices of the ``k`` highest ``values``, ties broken at random (from ``seed``: give each measure its own, or
    two measures with many ties would fill their top k with the same random examples), not by position."""
    tiebreak = np.random.default_rng(seed).random(len(values))
    return np.lexsort((tiebreak, -np.asarray(values)))[:k]


def _correlation(a, b):
    """Pearson's correlation (of ranks: Spearman's); nan where either is constant (every clean example fitted by
    every network, say), since no ranking is there to compare."""
    return float(np.corrcoef(a, b)[0, 1]) if a.std() > 0 and b.std() > 0 else float("nan")


def comparisons(values, mislabeled, seed):
    """One seed's comparisons over the examples every measure defines: Spearman matrices over all of them and over
    the clean ones, each measure's AUROC for the wrong labels, and the overlap of top-k sets (k = the number of
    wrong labels), as a share of k."""
    names = NAMES
    kept = np.all([np.isfinite(values[n]) for n in names], axis=0)
    ranked = {n: stats.ranks(values[n][kept]) for n in names}
    ranked_clean = {n: stats.ranks(values[n][kept & ~mislabeled]) for n in names}
    wrong = mislabeled[kept]
    k = int(wrong.sum())
    tops = {n: set(top_k(values[n][kept], k, (seed, i))) for i, n in enumerate(names)}
    matrix = lambda f: np.array([[f(a, b) for b in names] for a in names])
    return {
        "spearman": matrix(lambda a, b: _correlation(ranked[a], ranked[b])),
        "spearman_clean": matrix(lambda a, b: _correlation(ranked_clean[a], ranked_clean[b])),
        "auroc": np.array([stats.auroc(values[n][kept], wrong) for n in names]),
        "overlap": matrix(lambda a, b: len(tops[a] & tops[b]) / max(k, 1)),
        "kept": float(kept.mean()),
        "chance_overlap": k / max(int(kept.sum()), 1),  # the overlap of two random top-k sets, in expectation
    }


def all_comparisons(results, cfg):
    """:func:`comparisons` for every seed, stacked: each entry (seed, ...)."""
    per_seed = [comparisons(*seed_measures(results, cfg, s), s) for s in cfg["seeds"]]
    return {name: np.array([c[name] for c in per_seed]) for name in per_seed[0]}


def reading(results, cfg, found=None):
    """What the comparisons show, in sentences computed from them (the page prints it under its figures)."""
    found = found or all_comparisons(results, cfg)
    clean = np.nanmean(found["spearman_clean"], 0)
    pairs = [(clean[i, j], a, b) for i, a in enumerate(NAMES) for j, b in enumerate(NAMES) if i < j]
    pairs = [p for p in pairs if np.isfinite(p[0])]
    closest, apart = max(pairs), min(pairs, key=lambda p: abs(p[0]))
    auroc = np.nanmean(found["auroc"], 0)
    best, worst = NAMES[int(np.argmax(auroc))], NAMES[int(np.argmin(auroc))]
    flipped = np.mean([(_finite_rows(results, "lass", "flipped_at", s) > 0).any(0).mean() for s in cfg["seeds"]])
    fitted_by_all = np.mean(
        [_finite_rows(results, "training", "correct", s)[:, -1].all(0).mean() for s in cfg["seeds"]]
    )
    return (
        f"Over the clean examples (means over {len(cfg['seeds'])} seeds), the closest pair of measures is "
        f"{MEASURES[closest[1]]} and {MEASURES[closest[2]]} (ρ = {closest[0]:.2f}), and the pair nearest to "
        f"unrelated is {MEASURES[apart[1]]} and {MEASURES[apart[2]]} (ρ = {apart[0]:.2f}). The wrong labels are "
        f"found best by {MEASURES[best]} (AUROC {auroc[NAMES.index(best)]:.3f}) and worst by "
        f"{MEASURES[worst]} (AUROC {auroc[NAMES.index(worst)]:.3f}). LASS flipped the prediction of "
        f"{100 * flipped:.1f}% of the training examples in at least one network at this radius"
        + (", so criticality ranks only those few above the rest." if flipped < 0.1 else ".")
        + f" At the end of training every network fits {100 * fitted_by_all:.1f}% of the examples, all of which "
        "share the lowest hardness at the end."
    )


# --- Preconditions and claims, registered before the results ------------------------------------------

NETWORKS = {
    "shared": "every network of the shared setting: ReLU MLPs (784 - hidden - hidden - 10) trained with SGD on the "
    "first MNIST training images, a share of their labels random"
}
SEEDS = "seeds"
PRECONDITIONS = (
    Precondition(
        "agreement-fit-wrong-labels",
        ("shared",),
        "mean over seeds and training networks of the share of the wrong labels fitted at the end",
        0.9,
        "memorization measures are about examples a network has memorized: a network that has not fitted most wrong "
        "labels cannot show which examples it memorized",
    ),
    Precondition(
        "agreement-turn-over-fit",
        ("shared",),
        "mean over seeds of the share of the wrong labels that the turn-over networks' unmuted sub-networks fit",
        0.9,
        "Liu et al.'s score compares a sub-network that trained on an example with one that did not; it measures "
        "memorization only where the first has fitted the example",
    ),
    Precondition(
        "agreement-finite",
        ("shared",),
        "share of seeds whose every network kept a finite loss",
        1.0,
        "a diverged network says nothing about the examples",
    ),
    Precondition(
        "agreement-defined",
        ("shared",),
        "mean over seeds of the share of examples that every measure scores (the Feldman-Zhang estimate leaves out "
        "an example that no model, or every model, kept)",
        0.95,
        "comparisons over a selected few examples would not be comparisons of the whole training set",
    ),
)

EASY = (
    "Arpit 3.1: 'many examples are consistently classified (in)correctly after a single epoch, suggesting that "
    "different examples are significantly easier or harder in this sense'"
)
MODERATE = (
    "a moderate rank correlation (0.3 by the usual convention): below it two rankings share under a tenth of their "
    "variance, and one could not stand in for the other"
)
OTHERS = [n for n in NAMES if n not in ("turn_over", "feldman_zhang")]
CLAIMS = (
    Definition(
        "agreement-hardness-turn-over-clean",
        "liu2021",
        "this chapter's Fig. 1 (Arpit 3.1 against Liu et al. Eq. 6; compared by neither)",
        "(not compared in the papers) " + EASY + "; Liu 1: 'we introduce the memorization score (i.e. "
        "self-influence) [...] to estimate the difficulty of training instances'",
        "Hardness after one epoch and the turn-over score rank the clean examples alike.",
        (
            above(
                "Spearman correlation between hardness after epoch 1 and the turn-over score, over the clean "
                "examples, per seed",
                0.3,
                MODERATE,
            ),
        ),
        SEEDS,
        ("shared",),
        beyond_paper=True,
    ),
    Definition(
        "agreement-turn-over-feldman-zhang-clean",
        "liu2021",
        "this chapter's Fig. 1 (Liu et al. Eq. 2 and 6)",
        "We use f^{m~(z_i)} and f^{m(z_i)} to approximate f_{D\\{z_i}} and f_D respectively",
        "The turn-over score and Feldman & Zhang's estimate of the same self-influence rank the clean examples alike.",
        (
            above(
                "Spearman correlation between the turn-over and the Feldman-Zhang scores, over the clean examples, "
                "per seed",
                0.3,
                MODERATE,
            ),
        ),
        SEEDS,
        ("shared",),
        beyond_paper=True,
    ),
    Definition(
        "agreement-hardness-first-learned-clean",
        "arpit2017",
        "this chapter's Fig. 1 (Arpit 3.1 against Toneva et al. 2019)",
        "(not compared in the papers) " + EASY,
        "Hardness after one epoch and the epoch at which an example is learned for good rank the clean examples "
        "alike, strongly.",
        (
            above(
                "Spearman correlation between hardness after epoch 1 and the first-learned epoch, over the clean "
                "examples, per seed",
                0.5,
                "a strong rank correlation (0.5 by the usual convention): both read the same kind of event, an "
                "early error, so less would mean they do not measure one thing",
            ),
        ),
        SEEDS,
        ("shared",),
        beyond_paper=True,
    ),
    Definition(
        "agreement-sensitivity-differs-dynamics",
        "arpit2017",
        "this chapter's Fig. 1 (Arpit 3.2 against Toneva et al. 2019)",
        "(not compared in the papers) Arpit 3.2 on loss-sensitivity: 'leads us to believe that this measure is "
        "indeed sensitive to memorization'",
        "Loss-sensitivity ranks the clean examples differently from the training-dynamics measures (forgetting "
        "events and the first-learned epoch).",
        tuple(
            below(
                f"Spearman correlation between loss-sensitivity and {MEASURES[n]}, over the clean examples, per seed",
                0.5,
                "below a strong rank correlation (0.5): they would share under a quarter of their variance",
            )
            for n in ("forgetting", "first_learned")
        ),
        SEEDS,
        ("shared",),
        beyond_paper=True,
    ),
    Definition(
        "agreement-all-find-wrong-labels",
        "arpit2017",
        "this chapter's Fig. 2",
        "(not compared in the papers) Liu 3.1: 'Corrupting an instance significantly increases its difficulty "
        "(memorization score)'",
        "Every measure finds the wrong labels better than chance.",
        tuple(
            above(
                f"AUROC of {MEASURES[n]} for the wrong labels, per seed",
                0.6,
                "chance is 0.5; a measure that orders a random wrong label above a random clean example less than "
                "six times in ten would not be said to find them",
            )
            for n in NAMES
        ),
        SEEDS,
        ("shared",),
        beyond_paper=True,
    ),
    Definition(
        "agreement-influence-finds-best",
        "liu2021",
        "this chapter's Fig. 2",
        "(not compared in the papers) Liu 4: 'examples with random labels are simply extremely difficult examples'",
        "The two self-influence estimates, turn-over and Feldman-Zhang, find the wrong labels better than every other "
        "measure.",
        tuple(
            above(
                f"AUROC of the {MEASURES[n]} minus the highest AUROC of the six other measures, per seed",
                0.02,
                "differences of AUROC under 0.02 are too small to rank two detectors",
            )
            for n in ("turn_over", "feldman_zhang")
        ),
        SEEDS,
        ("shared",),
        beyond_paper=True,
    ),
)


def _index(name):
    return NAMES.index(name)


def evidence(results, cfg):
    found = all_comparisons(results, cfg)
    spearman, clean, auroc = found["spearman"], found["spearman_clean"], found["auroc"]
    pair = lambda matrix, a, b: matrix[:, _index(a), _index(b)]
    others = auroc[:, [_index(n) for n in OTHERS]].max(1)
    fitted, turn_over_fitted, finite = [], [], []
    for s in cfg["seeds"]:
        wrong = results.sel("training", "mislabeled", seed=s).astype(bool)
        last = _finite_rows(results, "training", "correct", s)[:, -1]
        fitted.append(last[:, wrong].mean() if len(last) else np.nan)
        unmuted = _finite_rows(results, "turn_over", "unmuted_correct", s)
        turn_over_fitted.append(unmuted[:, wrong].mean() if len(unmuted) else np.nan)
        finite.append(all(np.asarray(results.sel(p, "finite", seed=s), dtype=bool).all() for p in SHARED))
    estimates = {
        "agreement-hardness-turn-over-clean": (across(pair(clean, "hardness_epoch_1", "turn_over")),),
        "agreement-turn-over-feldman-zhang-clean": (across(pair(clean, "turn_over", "feldman_zhang")),),
        "agreement-hardness-first-learned-clean": (across(pair(clean, "hardness_epoch_1", "first_learned")),),
        "agreement-sensitivity-differs-dynamics": tuple(
            across(pair(clean, "loss_sensitivity", n)) for n in ("forgetting", "first_learned")
        ),
        "agreement-all-find-wrong-labels": tuple(across(auroc[:, _index(n)]) for n in NAMES),
        "agreement-influence-finds-best": tuple(
            across(auroc[:, _index(n)] - others) for n in ("turn_over", "feldman_zhang")
        ),
    }
    mean_auroc = ", ".join(f"{MEASURES[n]} {np.nanmean(auroc[:, _index(n)]):.3f}" for n in NAMES)
    clean_line = lambda a, b: (
        f"ρ over clean examples (mean over seeds) {np.nanmean(pair(clean, a, b)):.3f}, "
        f"over all {np.nanmean(pair(spearman, a, b)):.3f}"
    )
    measured = {
        "agreement-hardness-turn-over-clean": clean_line("hardness_epoch_1", "turn_over"),
        "agreement-turn-over-feldman-zhang-clean": clean_line("turn_over", "feldman_zhang"),
        "agreement-hardness-first-learned-clean": clean_line("hardness_epoch_1", "first_learned"),
        "agreement-sensitivity-differs-dynamics": "; ".join(
            f"{MEASURES[n]}: " + clean_line("loss_sensitivity", n) for n in ("forgetting", "first_learned")
        ),
        "agreement-all-find-wrong-labels": "mean AUROC over seeds: " + mean_auroc,
        "agreement-influence-finds-best": "mean AUROC over seeds: " + mean_auroc,
    }
    return Evidence(
        {
            "agreement-fit-wrong-labels": float(np.mean(fitted)),
            "agreement-turn-over-fit": float(np.mean(turn_over_fitted)),
            "agreement-finite": float(np.mean(finite)),
            "agreement-defined": float(np.mean(found["kept"])),
        },
        estimates,
        measured,
    )


CHAPTER = Chapter(
    "measure_agreement",
    paper=None,  # beyond the papers: its claims are ours (each names the paper whose measure it is about)
    params=PARAMS,
    parts=PARTS,
    claims=CLAIMS,
    evidence=evidence,
    networks=NETWORKS,
    preconditions=PRECONDITIONS,
    check=_check,
)
