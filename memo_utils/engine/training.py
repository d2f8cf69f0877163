"""Training of single ``nn.Module`` classifiers (the CNNs), with the whole dataset on the device."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from .. import progress


def train_classifier(
    model,
    x,
    y,
    *,
    epochs,
    batch_size,
    lr,
    momentum=0.9,
    lr_halving_every=15,
    lr_drops=None,
    weight_decay=0.0,
    adversary=None,
    augment=None,
    input_gradient=False,
    masks=None,
    seed=0,
    callback=None,
):
    """Minibatch SGD with momentum; the learning rate halves every ``lr_halving_every`` epochs, or,
    given ``lr_drops`` (epochs), is divided by 10 at each of them (Liu et al.'s schedule).

    The schedule is Arpit et al.'s for their CNNs (section 2). The last incomplete minibatch
    is dropped so batch norm never sees a batch of one. Returns per-epoch training loss
    and accuracy, and whether the loss stayed finite (a diverged run is reported, not plotted).
    ``callback(epoch, model)`` runs after each epoch, for example to record validation accuracy.
    ``weight_decay`` is torch SGD's; ``adversary`` (:class:`memo_utils.methods.regularization.Adversary`)
    mixes the loss on LASS's samples into each step. Models that regularize themselves
    (:class:`memo_utils.methods.regularization.RegularizedAlexNet`) draw their masks and noise in ``forward``.
    ``augment(x, generator)`` transforms each minibatch (e.g. :func:`memo_utils.engine.data.random_crop_flip`).
    ``masks(idx)`` gives the turn-over masks of the minibatch's examples, passed to ``model(inputs, masks)``
    (:class:`memo_utils.methods.turn_over.Masked`).
    With ``input_gradient``, the history also holds G per epoch (Gu & Tresp 2019, section 2): the mean
    over the epoch's examples of sum_j |dL/dx_j|, each taken at the step that trains on it, where L is
    the minibatch's summed loss (without batch norm, exactly each example's own loss gradient).
    """
    generator = torch.Generator().manual_seed(seed)
    optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum, weight_decay=weight_decay)
    schedule = (
        torch.optim.lr_scheduler.StepLR(optimizer, step_size=lr_halving_every, gamma=0.5)
        if lr_drops is None
        else torch.optim.lr_scheduler.MultiStepLR(optimizer, milestones=list(lr_drops), gamma=0.1)
    )
    history = {"loss": [], "accuracy": [], **({"input_gradient": []} if input_gradient else {})}
    finite = True
    batch_size = min(batch_size, len(x))
    shown = progress.bar(epochs, f"{type(model).__name__}, epochs")
    for _ in range(epochs):
        model.train()
        order = torch.randperm(len(x), generator=generator).to(x.device)
        loss_sum = torch.zeros((), device=x.device)
        correct = torch.zeros((), device=x.device)
        gradient_sum = torch.zeros((), device=x.device)
        seen = 0
        for start in range(0, len(x) - batch_size + 1, batch_size):
            idx = order[start : start + batch_size]
            inputs = x[idx] if augment is None else augment(x[idx], generator)
            inputs.requires_grad_(input_gradient)
            logits = model(inputs) if masks is None else model(inputs, masks(idx))
            loss = F.cross_entropy(logits, y[idx])
            if adversary is not None:  # memo_utils.methods.regularization.Adversary: adversarial training
                loss = adversary.loss(model, inputs, y[idx], loss)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            if input_gradient:  # loss is the minibatch mean: its input gradient times the batch size is the sum's
                gradient_sum += inputs.grad.abs().sum() * len(idx)
            loss_sum += loss.detach() * len(idx)
            correct += (logits.argmax(1) == y[idx]).sum()
            seen += len(idx)
        schedule.step()
        epoch_loss = float(loss_sum) / seen
        finite = finite and bool(torch.isfinite(torch.tensor(epoch_loss)))
        history["loss"].append(epoch_loss)
        history["accuracy"].append(float(correct) / seen)
        if input_gradient:
            history["input_gradient"].append(float(gradient_sum) / seen)
        if callback is not None:
            callback(len(history["accuracy"]), model)
        shown.update()
    shown.close()
    return history, finite


@torch.no_grad()
def correct(model, x, y, batch_size=1000):
    """Per example, whether ``model`` (put in eval mode) classifies it right: a (N,) bool tensor."""
    model.eval()
    return torch.cat(
        [model(x[i : i + batch_size]).argmax(1) == y[i : i + batch_size] for i in range(0, len(x), batch_size)]
    )


def accuracy(model, x, y, batch_size=1000):
    return int(correct(model, x, y, batch_size).sum()) / len(x)
