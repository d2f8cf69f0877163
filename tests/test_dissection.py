"""Gu & Tresp's measures against exact answers: G(x) against per-example autograd, Dist's zero, and batched
activation maximization against a per-seed loop."""

import pytest
import torch
from torch import nn

from memo_utils.engine.models import DCGANDiscriminator, DCGANGenerator, vgg
from memo_utils.methods import dissection


def _tiny_classifier(seed=0):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Flatten(), nn.Linear(3 * 32 * 32, 16), nn.Tanh(), nn.Linear(16, 10)).double()


def test_gradient_magnitude_is_the_l1_norm_of_each_examples_input_gradient():
    model = _tiny_classifier()
    g = torch.Generator().manual_seed(1)
    x, y = torch.randn(7, 3, 32, 32, generator=g, dtype=torch.float64), torch.randint(10, (7,), generator=g)
    expected = []
    for i in range(len(x)):  # one example at a time, the loss of that example alone
        xi = x[i : i + 1].clone().requires_grad_(True)
        nn.functional.cross_entropy(model(xi), y[i : i + 1]).backward()
        expected.append(xi.grad.abs().sum())
    torch.testing.assert_close(dissection.gradient_magnitude(model, x, y, chunk=3), torch.stack(expected))


def test_dissimilarity_is_zero_for_identical_models_and_positive_otherwise():
    g = torch.Generator().manual_seed(2)
    a, b = torch.randn(10, 4, 10, generator=g), torch.randn(10, 4, 10, generator=g)
    assert torch.equal(dissection.dissimilarity(a, a), torch.zeros(4))
    d = dissection.dissimilarity(a, b)
    assert d.shape == (4,) and (d > 0).all()
    # by hand for one seed: the mean over classes of sum p log(p / q)
    p, q = a[:, 0].softmax(-1), b[:, 0].softmax(-1)
    torch.testing.assert_close(d[0], (p * (p / q).log()).sum(-1).mean())


@pytest.mark.parametrize("objective", ["logit", "log_softmax"])
def test_batched_activation_maximization_equals_a_per_seed_loop(objective):
    torch.manual_seed(0)
    generator = DCGANGenerator(width=4).double().eval()
    classifier = vgg("vgg11", width=1 / 16).double().eval()
    z = torch.randn(10, 3, 100, generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    batched = dissection.activation_maximization(generator, classifier, z, iterations=5, objective=objective)
    for s in range(z.shape[1]):
        one = dissection.activation_maximization(
            generator, classifier, z[:, s : s + 1], iterations=5, objective=objective
        )
        torch.testing.assert_close(one[:, 0], batched[:, s], rtol=1e-10, atol=1e-12)
    # the ascent raises each class's own logit
    before = classifier(generator(z).flatten(0, 1)).view(10, 3, 10)
    after = classifier(generator(batched).flatten(0, 1)).view(10, 3, 10)
    own = torch.arange(10)
    assert (after[own, :, own] > before[own, :, own]).double().mean() > 0.9


def test_dcgan_shapes():
    generator, discriminator = DCGANGenerator(width=8), DCGANDiscriminator(width=8)
    images = generator(torch.randn(4, 2, 100))
    assert images.shape == (4, 2, 3, 32, 32) and images.abs().max() <= 1  # tanh: images in [-1, 1]
    assert discriminator(images.flatten(0, 1)).shape == (8,)
    assert [tuple(m.weight.shape[2:]) for m in generator.modules() if isinstance(m, nn.ConvTranspose2d)] == [(4, 4)] * 4
    assert sum(isinstance(m, nn.Conv2d) for m in discriminator.modules()) == 4


def test_narrow_vgg_keeps_the_architecture_and_scales_the_channels():
    full, narrow = vgg("vgg11"), vgg("vgg11", width=0.25)
    widths = lambda m: [c.out_channels for c in m.modules() if isinstance(c, nn.Conv2d)]
    assert widths(narrow) == [w // 4 for w in widths(full)]
    assert narrow(torch.randn(2, 3, 32, 32)).shape == (2, 10)


def test_g_recorded_during_training_is_each_examples_input_gradient_at_its_step():
    """With no batch norm, the G that training records equals per-example autograd at the step's parameters."""
    from memo_utils.engine.training import train_classifier

    model = _tiny_classifier(seed=3)
    g = torch.Generator().manual_seed(4)
    x, y = torch.randn(12, 3, 32, 32, generator=g, dtype=torch.float64), torch.randint(10, (12,), generator=g)
    expected = dissection.gradient_magnitude(model, x, y).mean()  # one minibatch of all 12: the step's parameters
    history, _ = train_classifier(model, x, y, epochs=1, batch_size=12, lr=0.1, input_gradient=True)
    torch.testing.assert_close(torch.tensor(history["input_gradient"][0], dtype=torch.float64), expected)
    assert "input_gradient" not in train_classifier(model, x, y, epochs=1, batch_size=12, lr=0.1)[0]


def test_g_per_step_is_each_steps_input_gradient_and_averages_to_the_epochs_g():
    """Without batch norm, the G recorded at step k equals per-example autograd at the parameters before step k, on
    the examples of that minibatch; the steps of an epoch average to the G that training records per epoch."""
    from memo_utils.engine.training import train_classifier

    model = _tiny_classifier(seed=5)
    g = torch.Generator().manual_seed(6)
    x, y = torch.randn(12, 3, 32, 32, generator=g, dtype=torch.float64), torch.randint(10, (12,), generator=g)
    order = torch.randperm(12, generator=torch.Generator().manual_seed(7))  # train_classifier's first epoch, seed 7
    first_batch = order[:4]
    expected_first = dissection.gradient_magnitude(model, x[first_batch], y[first_batch]).mean()
    with dissection.per_step_gradient_magnitude(model) as steps:
        history, _ = train_classifier(
            model, x, y, epochs=2, batch_size=4, lr=0.1, seed=7, input_gradient=True, callback=lambda epoch, m: m(x)
        )  # a forward pass outside training adds nothing
    per_step = torch.stack(steps)
    assert per_step.shape == (6,)  # 3 steps per epoch, 2 epochs
    torch.testing.assert_close(per_step[0], expected_first)
    torch.testing.assert_close(
        per_step.view(2, 3).mean(1), torch.tensor(history["input_gradient"], dtype=torch.float64)
    )
    model(x.requires_grad_(True)).sum().backward()  # the hook is gone once the recording ends
    assert len(steps) == 6


def test_random_crop_flip_takes_a_window_of_the_padded_image_and_sometimes_mirrors_it():
    from memo_utils.engine.data import random_crop_flip

    x = torch.randn(64, 3, 8, 8, generator=torch.Generator().manual_seed(5))
    out = random_crop_flip(x, torch.Generator().manual_seed(6), padding=2, fill=-7.0)
    padded = nn.functional.pad(x, (2,) * 4, value=-7.0)
    windows = lambda image: [
        w
        for i in range(5)
        for j in range(5)
        for w in (image[:, i : i + 8, j : j + 8], image[:, i : i + 8, j : j + 8].flip(-1))
    ]
    for k in range(len(x)):
        assert any(torch.equal(out[k], w) for w in windows(padded[k]))
    flipped = [not any(torch.equal(out[k], w) for w in windows(padded[k])[::2]) for k in range(len(x))]
    assert 0.2 < sum(flipped) / len(x) < 0.8  # about half mirrored (an unflipped symmetric window is impossible here)
    assert not torch.equal(out, x) and torch.equal(random_crop_flip(x, torch.Generator().manual_seed(6), 2, -7.0), out)


def test_dcgan_training_is_seeded_and_leaves_an_eval_mode_generator():
    images = torch.rand(16, 3, 32, 32, generator=torch.Generator().manual_seed(7)) * 2 - 1
    first, history = dissection.train_dcgan(images, width=2, epochs=2, batch_size=8, seed=1)
    second, _ = dissection.train_dcgan(images, width=2, epochs=2, batch_size=8, seed=1)
    assert not first.training and history["finite"] and len(history["generator_loss"]) == 2
    z = torch.randn(3, 100)
    assert torch.equal(first(z), second(z))
    # Radford et al.'s initialisation: every convolution's weights with standard deviation 0.02 (PyTorch's default
    # gives this generator's layers 0.013 to 0.08), batch-norm scales around 1 with the same spread
    fresh, _ = dissection.train_dcgan(images, width=16, epochs=0, seed=2)
    for module in fresh.modules():
        if isinstance(module, nn.ConvTranspose2d):
            assert abs(module.weight.std().item() - 0.02) < 0.002
        if isinstance(module, nn.BatchNorm2d):
            assert abs(module.weight.mean().item() - 1) < 0.01 and 0.01 < module.weight.std().item() < 0.03
