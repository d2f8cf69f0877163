import copy

import pytest
import torch

from memo_utils.engine.models import SmallAlexNet, resnet32, vgg
from memo_utils.engine.stacked import train_classifiers
from memo_utils.engine.training import train_classifier


def _images(n, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, 3, 32, 32, generator=g, dtype=torch.float64), torch.randint(10, (2, n), generator=g)


def _both_ways(make, x, labels, seeds, **kw):
    torch.manual_seed(0)
    models = [make().double() for _ in seeds]
    separate = copy.deepcopy(models)
    stacked = train_classifiers(models, x, labels, seeds=seeds, **kw)
    looped = [train_classifier(m, x, y, seed=s, **kw) for m, y, s in zip(separate, labels, seeds)]
    return models, separate, stacked, looped


@pytest.mark.parametrize(
    "make, n, kw",
    [
        (lambda: SmallAlexNet(width=4), 48, dict(epochs=3, batch_size=16, lr=0.05, lr_halving_every=2)),
        (lambda: vgg("vgg11", batch_norm=True), 8, dict(epochs=1, batch_size=4, lr=0.01)),
        (resnet32, 8, dict(epochs=2, batch_size=4, lr=0.05)),
    ],
    ids=["small-alexnet", "vgg11-bn", "resnet32"],
)
@pytest.mark.slow  # float64 VGG and ResNet training
def test_stacked_models_equal_separate_runs_in_float64(make, n, kw):
    """Per-model labels, per-model data orders, batch norm statistics, momentum and the lr schedule."""
    x, labels = _images(n)
    models, separate, stacked, looped = _both_ways(make, x, labels, seeds=[3, 7], **kw)
    for mine, theirs in zip(models, separate):
        for (name, a), b in zip(mine.state_dict().items(), theirs.state_dict().values()):
            torch.testing.assert_close(a, b, rtol=1e-9, atol=1e-10, msg=name)
    for (history, finite), (reference, reference_finite) in zip(stacked, looped):
        assert finite == reference_finite
        assert history["loss"] == pytest.approx(reference["loss"], rel=1e-9)
        assert history["accuracy"] == reference["accuracy"]


def test_a_diverged_model_is_reported_and_leaves_the_others_alone():
    x, labels = _images(32)
    x = x.float()
    torch.manual_seed(0)
    models = [SmallAlexNet(width=4) for _ in range(2)]
    reference = copy.deepcopy(models[1])
    with torch.no_grad():
        models[0].classifier[-1].weight.fill_(float("nan"))
    (_, finite0), (history1, finite1) = train_classifiers(
        models, x, labels, seeds=[0, 0], epochs=1, batch_size=16, lr=0.01
    )
    history, _ = train_classifier(reference, x, labels[1], epochs=1, batch_size=16, lr=0.01, seed=0)
    assert not finite0 and finite1
    assert history1["loss"] == pytest.approx(history["loss"], rel=1e-5)


def test_seeds_must_match_the_models():
    with pytest.raises(ValueError, match="seeds"):
        train_classifiers(
            [SmallAlexNet(width=4)],
            torch.zeros(4, 3, 32, 32),
            torch.zeros(4, dtype=torch.long),
            seeds=[0, 1],
            epochs=1,
            batch_size=2,
            lr=0.1,
        )


def test_a_graphed_step_gives_bit_identical_training_through_a_learning_rate_halving():
    """The graph's buffer semantics, emulated on the CPU (static inputs, in-place accumulators), with one
    capture per learning rate: the same parameters, losses and accuracies to the last bit."""
    x, labels = _images(48)
    x = x.float()
    kw = dict(seeds=[3, 7], epochs=3, batch_size=8, lr=0.05, lr_halving_every=2, autocast_dtype=torch.bfloat16)
    torch.manual_seed(0)
    eager = [SmallAlexNet(width=4) for _ in range(2)]
    graphed = copy.deepcopy(eager)
    eager_runs = train_classifiers(eager, x, labels, **kw)
    graphed_runs = train_classifiers(graphed, x, labels, graphs="emulate", **kw)
    assert graphed_runs == eager_runs
    for mine, theirs in zip(graphed, eager):
        for a, b in zip(mine.state_dict().values(), theirs.state_dict().values()):
            assert torch.equal(a, b)


def test_graphs_are_refused_where_a_step_calls_the_host():
    from memo_utils.methods.regularization import RegularizedAlexNet

    x, y = torch.zeros(4, 3, 32, 32), torch.zeros(4, dtype=torch.long)
    models = [RegularizedAlexNet(width=4, dropout=0.5) for _ in range(2)]
    with pytest.raises(ValueError, match="graphs='emulate' is not allowed with an adversary or models that draw"):
        train_classifiers(models, x, y, seeds=[0, 1], epochs=1, batch_size=2, lr=0.1, graphs="emulate")
    with pytest.raises(ValueError, match="graphs=True is not allowed with an adversary"):  # on a CPU too
        train_classifiers(
            [SmallAlexNet(width=4)], x, y, seeds=[0], epochs=1, batch_size=2, lr=0.1, adversary=object(), graphs=True
        )
