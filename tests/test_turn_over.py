"""Turn-over dropout against exact answers: masks that are deterministic, balanced and unique, a step that never
touches the muted sub-network, batched scores equal to a per-example loop, and a leave-one-out ensemble equal to
separate runs."""

import pytest
import torch
import torch.nn.functional as F

from memo_utils.engine.ensemble import MLPEnsemble, train_ensemble
from memo_utils.engine.training import train_classifier
from memo_utils.methods import turn_over


def test_masks_are_deterministic_balanced_and_differ_by_layer_and_seed():
    ids = torch.arange(5000)
    m = turn_over.masks(ids, 64, layer=0)
    assert torch.equal(m, turn_over.masks(ids, 64, layer=0))  # computed again, not stored
    assert (m.sum(-1) == 32).all()  # exactly half of the units of every example
    assert (m.float().mean(0) - 0.5).abs().max() < 0.05  # every unit kept for about half of the examples
    assert not torch.equal(m, turn_over.masks(ids, 64, layer=1))
    assert not torch.equal(m, turn_over.masks(ids, 64, layer=0, seed=1))
    assert torch.equal(turn_over.masks(ids[10:20].view(2, 5), 64, 0), m[10:20].view(2, 5, 64))  # any id layout
    with pytest.raises(ValueError, match="units=7 is not allowed"):
        turn_over.masks(ids, 7, 0)


def test_no_two_examples_share_a_mask_and_the_bound_says_so():
    ids = torch.arange(20000)
    assert turn_over.collision_bound(len(ids), [64, 64]) < 2e-11  # 2e8 pairs, 2^64 masks
    assert turn_over.duplicate_masks(ids, [64, 64]) == 0
    # the check can fail: 3,000 examples of a 6-unit layer (8 masks) must share masks
    assert turn_over.collision_bound(3000, [6]) == 1.0 and turn_over.duplicate_masks(ids[:3000], [6]) == 3000 - 8


def test_a_step_on_an_example_leaves_its_muted_sub_network_unchanged():
    ensemble = MLPEnsemble([12, 8, 6, 3], init_seeds=[0], dtype=torch.float64, output_bias=False)
    before = [p.clone() for p in ensemble.parameters()]
    g = torch.Generator().manual_seed(0)
    x, y = torch.randn(1, 12, generator=g, dtype=torch.float64), torch.tensor([2])
    train_ensemble(
        ensemble,
        x,
        y,
        order_seeds=[0],
        epochs=3,
        batch_size=1,
        lr=0.5,
        momentum=0.9,
        graphs=False,
        hidden_masks=turn_over.ensemble_masks(ensemble),
    )  # three steps on example 0, with momentum
    kept = [turn_over.masks(torch.tensor([0]), u, layer)[0] for layer, u in enumerate((8, 6))]
    (w1, b1, w2, b2, w3), (v1, c1, v2, c2, v3) = before, ensemble.parameters()
    # hidden layer 1: the columns (and biases) of muted units; layer 2: every weight touching a muted unit
    assert torch.equal(w1[..., ~kept[0]], v1[..., ~kept[0]]) and torch.equal(b1[..., ~kept[0]], c1[..., ~kept[0]])
    assert torch.equal(w2[:, ~kept[0]], v2[:, ~kept[0]]) and torch.equal(w2[..., ~kept[1]], v2[..., ~kept[1]])
    assert torch.equal(b2[..., ~kept[1]], c2[..., ~kept[1]]) and torch.equal(w3[:, ~kept[1]], v3[:, ~kept[1]])
    assert not torch.equal(w1, v1) and not torch.equal(w3, v3)  # the unmuted sub-network did learn
    # so the muted sub-network computes what it did before the step, on any input
    probe = torch.randn(1, 4, 12, generator=g, dtype=torch.float64)
    muted = [m.double() for m in turn_over.layer_masks(torch.zeros(1, 4, dtype=torch.long), (8, 6), flipped=True)]
    after = ensemble.forward(probe, muted)
    ensemble.weights[0], ensemble.biases[0], ensemble.weights[1], ensemble.biases[1], ensemble.weights[2] = before
    torch.testing.assert_close(after, ensemble.forward(probe, muted), rtol=0, atol=0)


def test_batched_scores_equal_a_per_example_loop():
    ensemble = MLPEnsemble([10, 16, 4], init_seeds=[3, 4], dtype=torch.float64, output_bias=False)
    g = torch.Generator().manual_seed(1)
    x, y = torch.randn(9, 10, generator=g, dtype=torch.float64), torch.randint(4, (9,), generator=g)
    ids = torch.tensor([0, 1, 2, 3, 4, 5, 6, 7, 8])
    batched = turn_over.scores(ensemble, x, y, ids, chunk=4)
    for k in range(2):
        for j in range(9):
            losses = []
            for flipped in (True, False):
                mask = turn_over.masks(ids[j : j + 1], 16, 0)[0]
                mask = (~mask if flipped else mask).double() * 2
                h = torch.relu(x[j] @ ensemble.weights[0][k] + ensemble.biases[0][k, 0]) * mask
                losses.append(
                    F.cross_entropy((h @ ensemble.weights[1][k] + ensemble.biases[1][k, 0])[None], y[j : j + 1])
                )
            torch.testing.assert_close(batched[k, j], losses[0] - losses[1], rtol=1e-12, atol=1e-12)


def test_a_leave_one_out_ensemble_equals_separate_runs():
    g = torch.Generator().manual_seed(2)
    x, y = torch.randn(10, 6, generator=g, dtype=torch.float64), torch.randint(3, (10,), generator=g)
    keep = ~torch.eye(10, dtype=torch.bool)[:4]  # model k leaves out example k
    settings = dict(epochs=3, batch_size=4, lr=0.1, momentum=0.9, graphs=False)
    ensemble = MLPEnsemble([6, 8, 3], init_seeds=[5] * 4, dtype=torch.float64)
    train_ensemble(ensemble, x, y, order_seeds=[7] * 4, keep=keep, **settings)
    for k in range(4):
        alone = MLPEnsemble([6, 8, 3], init_seeds=[5], dtype=torch.float64)
        train_ensemble(alone, x, y, order_seeds=[7], keep=keep[k : k + 1], **settings)
        for p, q in zip(ensemble.parameters(), alone.parameters()):
            torch.testing.assert_close(p[k], q[0], rtol=1e-12, atol=1e-12)
    # leaving an example out changes the run; keeping every example is plain training
    assert not torch.equal(ensemble.weights[0][0], ensemble.weights[0][1])
    full, kept_all = (MLPEnsemble([6, 8, 3], init_seeds=[5], dtype=torch.float64) for _ in range(2))
    train_ensemble(full, x, y, order_seeds=[7], **settings)
    train_ensemble(kept_all, x, y, order_seeds=[7], keep=torch.ones(1, 10, dtype=torch.bool), **settings)
    for p, q in zip(full.parameters(), kept_all.parameters()):
        torch.testing.assert_close(p, q, rtol=1e-12, atol=1e-12)


def test_leave_one_out_scores_are_the_loss_differences_of_separate_runs():
    from memo_utils.methods import influence

    g = torch.Generator().manual_seed(3)
    x, y = torch.randn(12, 5, generator=g, dtype=torch.float64), torch.randint(3, (12,), generator=g)
    settings = dict(epochs=4, batch_size=5, lr=0.2, graphs=False)
    scores = influence.leave_one_out([5, 8, 3], x, y, [2, 7], seed=4, **settings)
    full = MLPEnsemble([5, 8, 3], [4], dtype=torch.float64, output_bias=False)
    train_ensemble(full, x, y, order_seeds=[4], **settings)
    for score, i in zip(scores, (2, 7)):
        keep = torch.ones(1, 12, dtype=torch.bool)
        keep[0, i] = False
        without = MLPEnsemble([5, 8, 3], [4], dtype=torch.float64, output_bias=False)
        train_ensemble(without, x, y, order_seeds=[4], keep=keep, **settings)
        loss = lambda m: F.cross_entropy(m.forward(x[i].view(1, 1, -1))[0], y[i : i + 1])
        torch.testing.assert_close(score, loss(without) - loss(full), rtol=1e-10, atol=1e-12)


def test_subsampling_compares_models_without_and_with_each_example():
    from memo_utils.methods import influence

    g = torch.Generator().manual_seed(5)
    x, y = torch.randn(30, 4, generator=g), torch.randint(2, (30,), generator=g)
    # a memorizing regime: many epochs on few examples; an example's own models fit it better than the others
    scores = influence.subsampling([4, 64, 2], x, y, models=24, seed=6, epochs=60, batch_size=10, lr=0.5, graphs=False)
    assert scores.shape == (30,) and torch.isfinite(scores).all()
    assert (scores > 0).float().mean() > 0.8


def test_subsampling_scores_are_nan_exactly_where_every_model_or_none_kept_the_example():
    """With two models, about half of the examples are kept by both or by neither: no model to compare with."""
    from memo_utils.methods import influence

    g = torch.Generator().manual_seed(5)
    x, y = torch.randn(40, 4, generator=g), torch.randint(2, (40,), generator=g)
    scores = influence.subsampling([4, 8, 2], x, y, models=2, seed=3, epochs=2, batch_size=10, lr=0.1, graphs=False)
    keep = torch.rand(2, 40, generator=torch.Generator().manual_seed(3)) < 0.5  # the estimator's own draw
    undefined = keep.all(0) | (~keep).all(0)
    assert 0 < undefined.sum() < 40
    assert torch.equal(torch.isnan(scores), undefined)


def test_rank_statistics_match_scipy():
    import numpy as np
    from scipy import stats as scipy_stats

    from memo_utils.framework import stats

    rng = np.random.default_rng(0)
    a, b = rng.normal(size=50), rng.normal(size=50)
    a[:5] = a[0]  # ties
    assert abs(stats.spearman(a, b) - scipy_stats.spearmanr(a, b).statistic) < 1e-12
    labels = rng.random(50) < 0.3
    u = scipy_stats.mannwhitneyu(a[labels], a[~labels]).statistic
    assert abs(stats.auroc(a, labels) - u / (labels.sum() * (~labels).sum())) < 1e-12
    assert abs(stats.skewness(a) - scipy_stats.skew(a)) < 1e-12
    assert stats.auroc(np.arange(10), np.arange(10) >= 5) == 1.0


def test_per_model_mask_seeds_equal_separate_runs_and_graph_buffers_change_nothing():
    g = torch.Generator().manual_seed(8)
    x, y = torch.randn(20, 6, generator=g, dtype=torch.float64), torch.randint(3, (2, 20), generator=g)
    settings = dict(epochs=2, batch_size=6, lr=0.3)
    together = MLPEnsemble([6, 8, 3], [1, 2], dtype=torch.float64, output_bias=False)
    train_ensemble(
        together,
        x,
        y,
        order_seeds=[1, 2],
        hidden_masks=turn_over.ensemble_masks(together, [3, 5]),
        graphs="emulate",
        **settings,
    )  # the CUDA-graph buffer semantics, on the CPU
    both = turn_over.scores(together, x, y, torch.arange(20), [3, 5])
    for k, (init, mask_seed) in enumerate(((1, 3), (2, 5))):
        alone = MLPEnsemble([6, 8, 3], [init], dtype=torch.float64, output_bias=False)
        train_ensemble(
            alone,
            x,
            y[k],
            order_seeds=[init],
            hidden_masks=turn_over.ensemble_masks(alone, mask_seed),
            graphs=False,
            **settings,
        )
        for p, q in zip(together.parameters(), alone.parameters()):
            torch.testing.assert_close(p[k], q[0], rtol=1e-12, atol=1e-12)
        torch.testing.assert_close(both[k], turn_over.scores(alone, x, y[k], torch.arange(20), mask_seed)[0])
    with pytest.raises(ValueError, match="seeds has 1 entries"):
        turn_over.layer_masks(torch.zeros(2, 3, dtype=torch.long), [8], [1])


def test_rank_statistics_refuse_to_rank_missing_values():
    import numpy as np

    from memo_utils.framework import stats

    assert np.isnan(stats.spearman([1, 2, np.nan, 4], [1, 2, 3, 4]))
    assert np.isnan(stats.auroc([0.1, np.nan, 0.3], [True, False, False]))


def test_the_gradient_gram_of_a_one_hidden_layer_mlp_equals_per_example_gradients():
    from memo_utils.engine.models import mlp_module
    from memo_utils.engine.per_example import (
        cosine_similarity_and_contribution,
        mlp_gradient_factors,
        mlp_gradient_gram,
        per_example_grads,
    )

    g = torch.Generator().manual_seed(9)
    x, y = torch.randn(7, 5, generator=g, dtype=torch.float64), torch.randint(3, (7,), generator=g)
    for output_bias in (True, False):
        ensemble = MLPEnsemble([5, 6, 3], [11], dtype=torch.float64, output_bias=output_bias)
        module = mlp_module([5, 6, 3], torch.Generator().manual_seed(11)).double()
        with torch.no_grad():
            module[1].weight.copy_(ensemble.weights[0][0].T), module[1].bias.copy_(ensemble.biases[0][0, 0])
            module[3].weight.copy_(ensemble.weights[1][0].T), module[3].bias.copy_(ensemble.biases[1][0, 0])
        grads = per_example_grads(module, x, y)
        names = [n for n in grads if output_bias or n != "3.bias"]
        flat = torch.cat([grads[n].flatten(1) for n in names], dim=1)  # (7, parameters)
        torch.testing.assert_close(mlp_gradient_gram(ensemble, x[:3], y[:3], x, y)[0], flat[:3] @ flat.T)
        cosine, contribution = cosine_similarity_and_contribution(
            mlp_gradient_factors(ensemble, x[:4], y[:4]), mlp_gradient_factors(ensemble, x[4:], y[4:])
        )
        unit = flat[:4] / flat[:4].norm(dim=1, keepdim=True)
        pairs = unit @ unit.T
        torch.testing.assert_close(cosine[0], (pairs.sum() - pairs.diagonal().sum()) / 12)
        batch = flat[4:].mean(0)
        torch.testing.assert_close(contribution[0], (flat[:4] @ batch / batch.norm()).mean())


def _tiny_vgg(seed=0):
    torch.manual_seed(seed)
    net = turn_over.Masked(
        torch.nn.Sequential(
            torch.nn.Conv2d(3, 4, 3, padding=1),
            torch.nn.ReLU(inplace=True),
            torch.nn.MaxPool2d(2),
            torch.nn.Conv2d(4, 6, 3, padding=1),
            torch.nn.ReLU(inplace=True),
            torch.nn.MaxPool2d(4),
            torch.nn.Flatten(),
            torch.nn.Linear(6, 3, bias=False),
        )
    ).double()
    return net


def test_a_spatial_step_on_an_example_leaves_its_muted_feature_maps_unchanged():
    net = _tiny_vgg()
    assert net.units == [4, 6]
    before = [p.detach().clone() for p in net.parameters()]
    g = torch.Generator().manual_seed(0)
    x, y = torch.randn(1, 3, 8, 8, generator=g, dtype=torch.float64), torch.tensor([2])
    train_classifier(net, x, y, epochs=3, batch_size=1, lr=0.5, momentum=0.9, masks=turn_over.module_masks(net))
    kept = [turn_over.masks(torch.tensor([0]), u, layer)[0] for layer, u in enumerate((4, 6))]
    (w1, b1, w2, b2, w3), (v1, c1, v2, c2, v3) = before, [p.detach() for p in net.parameters()]
    # a muted map's filters and bias, every filter slice reading a muted map, and the classifier's muted inputs
    assert torch.equal(w1[~kept[0]], v1[~kept[0]]) and torch.equal(b1[~kept[0]], c1[~kept[0]])
    assert torch.equal(w2[:, ~kept[0]], v2[:, ~kept[0]]) and torch.equal(w2[~kept[1]], v2[~kept[1]])
    assert torch.equal(b2[~kept[1]], c2[~kept[1]]) and torch.equal(w3[:, ~kept[1]], v3[:, ~kept[1]])
    assert not torch.equal(w1, v1) and not torch.equal(w3, v3)  # the unmuted sub-network did learn
    probe = torch.randn(5, 3, 8, 8, generator=g, dtype=torch.float64)
    muted = turn_over.layer_masks(torch.zeros(5, dtype=torch.long), net.units, flipped=True)
    after = net(probe, muted)
    with torch.no_grad():
        for p, old in zip(net.parameters(), before):
            p.copy_(old)
    torch.testing.assert_close(after, net(probe, muted), rtol=0, atol=0)


def test_spatial_masks_zero_whole_feature_maps_and_scores_equal_a_per_example_loop():
    net = _tiny_vgg(1)
    g = torch.Generator().manual_seed(2)
    x, y = torch.randn(7, 3, 8, 8, generator=g, dtype=torch.float64), torch.randint(3, (7,), generator=g)
    ids = torch.arange(7) + 100
    batched = turn_over.scores(net, x, y, ids, seeds=5, chunk=3)
    assert batched.shape == (1, 7)
    conv1 = net.network[:2]
    for j in range(7):
        losses = []
        for flipped in (True, False):
            m = [
                (
                    ~turn_over.masks(ids[j : j + 1], u, layer, 5)
                    if flipped
                    else turn_over.masks(ids[j : j + 1], u, layer, 5)
                ).double()[0]
                * 2
                for layer, u in enumerate(net.units)
            ]
            with torch.no_grad():
                h = conv1(x[j : j + 1]) * m[0][:, None, None]
                assert (h[0, m[0] == 0] == 0).all()  # a muted map is zero everywhere
                h = torch.relu(net.network[3](net.network[2](h))) * m[1][:, None, None]
                losses.append(F.cross_entropy(net.network[5:](h), y[j : j + 1]))
        torch.testing.assert_close(batched[0, j], losses[0] - losses[1], rtol=1e-12, atol=1e-12)
    predicted = turn_over.predictions(net, x, ids, 5, flipped=True)
    assert predicted.shape == (1, 7)


def test_a_masked_network_refuses_an_output_bias():
    with pytest.raises(ValueError, match="last layer has a bias"):
        turn_over.Masked(torch.nn.Sequential(torch.nn.Linear(4, 2)))


def test_a_masked_network_refuses_batch_norm():
    with pytest.raises(ValueError, match="batch norm"):
        turn_over.Masked(
            torch.nn.Sequential(
                torch.nn.Conv2d(3, 4, 3),
                torch.nn.BatchNorm2d(4),
                torch.nn.ReLU(),
                torch.nn.Flatten(),
                torch.nn.LazyLinear(2, bias=False),
            )
        )
