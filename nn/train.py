"""The training loop behind ``valuegrad train``: one function, usable from Python too."""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from autograd import Value, gc_relaxed, no_grad
from nn.layers import MLP
from nn.losses import accuracy, bce_with_logits, cross_entropy, hinge_loss, mse_loss
from nn.optim import SGD, Adam, Optimizer

__all__ = ["LOSSES", "History", "make_optimizer", "predict_classes", "train"]

LOSSES = ("hinge", "bce", "cross_entropy", "mse")


@dataclass
class History:
    """What happened during training: one entry per step."""

    loss: list[float] = field(default_factory=list)
    accuracy: list[float] = field(default_factory=list)
    lr: list[float] = field(default_factory=list)


def _batch_loss(model: MLP, loss: str, X: Sequence[Sequence[float]], y: Sequence[int]) -> tuple[Value, float]:
    outputs = [model(x) for x in X]
    if loss == "cross_entropy":
        rows = [o if isinstance(o, list) else [o] for o in outputs]
        return cross_entropy(rows, y), accuracy(rows, y)
    scores = [o if isinstance(o, Value) else o[0] for o in outputs]
    if loss == "hinge":
        value = hinge_loss(scores, [2 * t - 1 for t in y])
    elif loss == "bce":
        value = bce_with_logits(scores, [float(t) for t in y])
    else:
        value = mse_loss(scores, [2.0 * t - 1.0 for t in y])
    return value, accuracy(scores, y)


def train(
    model: MLP,
    X: Sequence[Sequence[float]],
    y: Sequence[int],
    loss: str = "hinge",
    optimizer: Optimizer | None = None,
    steps: int = 100,
    batch_size: int | None = None,
    l2: float = 1e-4,
    seed: int | None = None,
    on_step: Callable[[int, float, float, float], None] | None = None,
) -> History:
    """Train ``model`` on ``(X, y)``; micrograd's recipe by default.

    Each step: forward on the (mini-)batch, the loss plus ``l2 * sum(p*p)``, zero_grad, backward,
    and an optimizer step. The default optimizer is micrograd's: SGD with learning rate
    ``1.0 - 0.9 * k / steps`` at step ``k``. Binary losses use labels 0/1 (mapped to ±1 for
    hinge and mse); ``'cross_entropy'`` needs one output per class.

    Args:
        on_step: called after each step with ``(step, loss, accuracy, lr)`` (progress bars).

    Returns:
        The loss, accuracy and learning rate of every step.
    """
    if loss not in LOSSES:
        raise ValueError(f"unknown loss {loss!r}; expected one of {', '.join(LOSSES)}")
    if len(X) != len(y) or not X:
        raise ValueError(f"X and y must be non-empty and of equal length, got {len(X)} and {len(y)}")
    params = model.parameters()
    opt = optimizer if optimizer is not None else SGD(params, lr=lambda k: 1.0 - 0.9 * k / steps)
    rng = random.Random(seed)
    history = History()
    with gc_relaxed():
        for k in range(steps):
            if batch_size is None or batch_size >= len(X):
                Xb, yb = X, y
            else:
                idx = rng.sample(range(len(X)), batch_size)
                Xb, yb = [X[i] for i in idx], [y[i] for i in idx]
            data_loss, acc = _batch_loss(model, loss, Xb, yb)
            total = data_loss + l2 * sum((p * p for p in params), Value(0.0)) if l2 else data_loss
            opt.zero_grad()
            total.backward()
            lr = opt.current_lr()
            opt.step()
            history.loss.append(total.data)
            history.accuracy.append(acc)
            history.lr.append(lr)
            if on_step is not None:
                on_step(k, total.data, acc, lr)
    return history


@no_grad()
def predict_classes(model: MLP, X: Sequence[Sequence[float]]) -> list[int]:
    """Class predictions without building a graph: score > 0 for one output, else the argmax."""
    out: list[int] = []
    for x in X:
        o = model(x)
        if isinstance(o, Value):
            out.append(int(o.data > 0))
        else:
            scores = [v.data for v in o]
            out.append(max(range(len(scores)), key=scores.__getitem__))
    return out


def make_optimizer(name: str, params: list[Value], lr: float | None, steps: int) -> Optimizer:
    """``'sgd'`` (micrograd's decaying rate unless ``lr`` is given) or ``'adam'`` (default lr 0.01)."""
    if name == "sgd":
        return SGD(params, lr=lr if lr is not None else (lambda k: 1.0 - 0.9 * k / steps))
    if name == "adam":
        return Adam(params, lr=lr if lr is not None else 0.01)
    raise ValueError(f"unknown optimizer {name!r}; expected 'sgd' or 'adam'")
