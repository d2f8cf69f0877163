"""Arpit et al.'s regularizers: each layer as specified in training and evaluation mode, and stacked
runs with a different strength per model equal to separate runs."""

import copy

import pytest
import torch

from memo_utils.engine.models import SmallAlexNet
from memo_utils.engine.stacked import train_classifiers
from memo_utils.engine.training import train_classifier
from memo_utils.methods.regularization import Adversary, RegularizedAlexNet, _regularize


def _pair(**strengths):
    """A regularized network and a plain one with the same weights, in float64."""
    torch.manual_seed(0)
    model = RegularizedAlexNet(width=4, noise_seed=5, **strengths).double()
    plain = SmallAlexNet(width=4).double()
    plain.load_state_dict({k: v for k, v in model.state_dict().items() if k in plain.state_dict()})
    return model, plain


def _x(n=6):
    return torch.randn(n, 3, 32, 32, generator=torch.Generator().manual_seed(1), dtype=torch.float64)


def test_evaluation_mode_applies_no_regularization():
    model, plain = _pair(dropout=0.5, input_dropout=0.3, input_noise=2.0, hidden_noise=0.3)
    model.eval(), plain.eval()
    torch.testing.assert_close(model(_x()), plain(_x()), rtol=0, atol=0)


@pytest.mark.parametrize("name, value", [("input_noise", 2.0), ("input_dropout", 0.3)])
def test_input_regularizers_transform_the_input_as_specified(name, value):
    model, plain = _pair(**{name: value})
    x = _x()
    g = torch.Generator().manual_seed(5)  # the model's noise generator, replayed
    if name == "input_noise":
        expected_input = x + value * torch.randn(x.shape, generator=g).double()
    else:
        keep = (torch.rand(x.shape, generator=g) >= value).double()
        expected_input = x * keep / (1 - value)
    torch.testing.assert_close(model(x), plain(expected_input), rtol=1e-12, atol=1e-12)


def test_hidden_sites_drop_units_with_inverted_scaling_and_add_noise():
    h = torch.ones(20000, dtype=torch.float64)
    uniform = torch.rand(h.shape, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    dropped = _regularize(
        h, uniform, torch.zeros_like(h), torch.tensor(0.4, dtype=torch.float64), torch.tensor(0.0, dtype=torch.float64)
    )
    assert set(dropped.unique().tolist()) == {0.0, 1 / 0.6}
    assert abs((dropped == 0).double().mean() - 0.4) < 0.02 and abs(dropped.mean() - 1) < 0.03  # mean kept
    normal = torch.randn(h.shape, generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    torch.testing.assert_close(
        _regularize(
            h,
            torch.ones_like(h),
            normal,
            torch.tensor(0.0, dtype=torch.float64),
            torch.tensor(0.3, dtype=torch.float64),
        ),
        h + 0.3 * normal,
    )
    # zero strengths leave a site unchanged exactly
    assert torch.equal(
        _regularize(
            h,
            torch.ones_like(h),
            torch.zeros_like(h),
            torch.tensor(0.0, dtype=torch.float64),
            torch.tensor(0.0, dtype=torch.float64),
        ),
        h,
    )


def test_training_mode_regularizes_and_a_model_draws_only_what_its_strengths_need():
    model, plain = _pair(dropout=0.5)
    model.train(), plain.train()
    assert not torch.allclose(model(_x()), plain(_x()))
    draws = RegularizedAlexNet(width=4, hidden_noise=0.1).draw_randomness(2, (3, 32, 32))
    assert all(torch.equal(u, torch.ones_like(u)) for u in draws[0::2])  # no dropout: masks of ones
    assert torch.equal(draws[1], torch.zeros_like(draws[1])) and draws[3].abs().sum() > 0  # noise only where asked


def test_stacked_run_with_mixed_strengths_equals_separate_runs():
    g = torch.Generator().manual_seed(0)
    n = 32
    x = torch.randn(n, 3, 32, 32, generator=g, dtype=torch.float64)
    labels = torch.randint(10, (4, n), generator=g)
    settings = [dict(dropout=0.5), dict(input_noise=1.0), dict(hidden_noise=0.2, input_dropout=0.3), dict()]
    decay = [0.0, 0.01, 0.0, 0.1]
    torch.manual_seed(0)
    models = [RegularizedAlexNet(width=4, noise_seed=10 + i, **s).double() for i, s in enumerate(settings)]
    separate = copy.deepcopy(models)
    train = dict(epochs=2, batch_size=8, lr=0.05, lr_halving_every=1)
    stacked = train_classifiers(models, x, labels, seeds=[1, 2, 3, 4], weight_decay=decay, **train)
    looped = [
        train_classifier(m, x, y, seed=s, weight_decay=wd, **train)
        for m, y, s, wd in zip(separate, labels, [1, 2, 3, 4], decay)
    ]
    for mine, theirs in zip(models, separate):
        for (name, a), b in zip(mine.state_dict().items(), theirs.state_dict().values()):
            torch.testing.assert_close(a, b, rtol=1e-9, atol=1e-10, msg=name)
    for (history, _), (reference, _) in zip(stacked, looped):
        assert history["loss"] == pytest.approx(reference["loss"], rel=1e-9)


def test_stacked_adversarial_training_equals_separate_runs():
    """Dropout with adversarial training (LASS samples), a weight per model, stacked and one by one."""
    g = torch.Generator().manual_seed(4)
    n = 16
    x = torch.randn(n, 3, 32, 32, generator=g, dtype=torch.float64)
    labels = torch.randint(10, (2, n), generator=g)
    torch.manual_seed(0)
    models = [RegularizedAlexNet(width=4, noise_seed=20 + i, dropout=0.3).double() for i in range(2)]
    separate = copy.deepcopy(models)
    weights = [0.2, 0.7]
    # a large box (in pixel units) so that the search flips some predictions within its 3 steps
    settings = dict(pixel_mean=0.0, pixel_std=0.02, max_iter=3)
    train = dict(epochs=1, batch_size=8, lr=0.05)
    train_classifiers(models, x, labels, seeds=[1, 2], adversary=Adversary(weights, **settings), **train)
    for m, y, s, w in zip(separate, labels, [1, 2], weights):
        train_classifier(m, x, y, seed=s, adversary=Adversary(w, **settings), **train)
    for mine, theirs in zip(models, separate):
        for (name, a), b in zip(mine.state_dict().items(), theirs.state_dict().values()):
            torch.testing.assert_close(a, b, rtol=1e-9, atol=1e-10, msg=name)


def test_adversarial_samples_stay_in_the_box_and_change_the_loss():
    model, _ = _pair(dropout=0.0)
    model.eval()
    x = _x(8)
    adversary = Adversary(0.5, pixel_mean=0.0, pixel_std=0.02, max_iter=5)
    x_hat = adversary.samples(model, x, adversary.draw_noise(model, x.shape))
    box = 0.3 / (255 * 0.02)
    assert ((x_hat - x).abs() <= box + 1e-12).all() and not torch.equal(x_hat, x)
    y = model(x).argmax(1)
    assert torch.nn.functional.cross_entropy(model(x_hat), y) > torch.nn.functional.cross_entropy(model(x), y)
