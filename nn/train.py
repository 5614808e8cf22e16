"""The training loop behind ``valuegrad train``: one function, usable from Python too."""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

from autograd import Value, gc_relaxed, no_grad
from autograd.compiled import Tape, TapeMismatchError
from nn.layers import MLP
from nn.losses import (
    accuracy,
    argmax,
    bce_term,
    bce_with_logits,
    cross_entropy,
    hinge_loss,
    hinge_term,
    mse_loss,
    mse_term,
    signed,
)
from nn.optim import SGD, Adam, Optimizer, micrograd_lr

__all__ = ["LOSSES", "History", "Loss", "make_optimizer", "predict_classes", "train"]


class Loss(NamedTuple):
    """A training loss: its batch form, one sample's term (for the vectorised replay; None where
    the graph depends on the data) and the target the term takes for a class label."""

    batch: Callable[[list[Value], Sequence[float]], Value]
    term: Callable[[Value, Value], Value] | None
    target: Callable[[int], float]


LOSSES: dict[str, Loss] = {
    "hinge": Loss(hinge_loss, hinge_term, signed),
    "bce": Loss(bce_with_logits, bce_term, float),
    "cross_entropy": Loss(cross_entropy, None, float),  # type: ignore[arg-type]
    "mse": Loss(mse_loss, mse_term, signed),
}
"""Every loss ``train`` knows, by the name the CLI uses."""


@dataclass
class History:
    """What happened during training: one entry per step."""

    loss: list[float] = field(default_factory=list)
    accuracy: list[float] = field(default_factory=list)
    lr: list[float] = field(default_factory=list)
    compiled: bool = False
    vectorized: bool = False


def _batch_loss(
    model: MLP, loss: str, X: Sequence[Sequence[float]], y: Sequence[int], l2: float
) -> tuple[Value, list[Value]]:
    """The step's total loss (data loss + ``l2 * sum(p*p)``) and the raw outputs, flattened."""
    outputs = [model(x) for x in X]
    if loss == "cross_entropy":
        rows = [o if isinstance(o, list) else [o] for o in outputs]
        value = cross_entropy(rows, y)
        flat = [v for row in rows for v in row]
    else:
        flat = [o if isinstance(o, Value) else o[0] for o in outputs]
        spec = LOSSES[loss]
        value = spec.batch(flat, [spec.target(t) for t in y])
    if l2:
        value = value + _l2_term(model.parameters(), l2)
    return value, flat


def _l2_term(params: Sequence[Value], l2: float) -> Value:
    """``l2 * sum(p*p)``: the weight penalty of every training step."""
    return l2 * sum((p * p for p in params), Value(0.0))


def _minibatch(rng: random.Random, n: int, batch_size: int) -> list[int]:
    """The indices of one minibatch; both training paths draw them the same way."""
    return rng.sample(range(n), batch_size)


def _accuracy_of(flat: Sequence[float], y: Sequence[int], loss: str) -> float:
    if loss != "cross_entropy":
        return accuracy(list(flat), y)
    k = len(flat) // len(y)
    return accuracy([list(flat[i * k:(i + 1) * k]) for i in range(len(y))], y)


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
    compiled: bool = True,
    vectorized: bool = False,
) -> History:
    """Train ``model`` on ``(X, y)``; micrograd's recipe by default.

    Each step: forward on the (mini-)batch, the loss plus ``l2 * sum(p*p)``, zero_grad, backward,
    and an optimizer step. The default optimizer is micrograd's: SGD with learning rate
    ``1.0 - 0.9 * k / steps`` at step ``k``. Binary losses use labels 0/1 (mapped to ±1 for
    hinge and mse); ``'cross_entropy'`` needs one output per class.

    Args:
        on_step: called after each step with ``(step, loss, accuracy, lr)`` (progress bars).
        compiled: with full batches, record the step once as an ``autograd.compiled.Tape`` and
            replay it (same numbers, about twice as fast). The tape is checked against a fresh
            graph after the first update; if the graph depends on the data (cross-entropy's
            max-shift does), training goes on building graphs. Minibatches always build graphs.
        vectorized: replay one sample's recorded step across each (mini-)batch with NumPy
            (``autograd.vectorized.BatchTape``; needs ``valuegrad[fast]``): the same losses and
            gradients to about 1e-12, far faster. For ``'hinge'``, ``'bce'`` and ``'mse'`` with
            one output (cross-entropy's max-shift depends on the data, so it cannot be recorded).

    Returns:
        The loss, accuracy and learning rate of every step (``history.compiled`` says whether
        the replay was used).
    """
    if loss not in LOSSES:
        raise ValueError(f"unknown loss {loss!r}; expected one of {', '.join(LOSSES)}")
    if len(X) != len(y) or not X:
        raise ValueError(f"X and y must be non-empty and of equal length, got {len(X)} and {len(y)}")
    params = model.parameters()
    opt = optimizer if optimizer is not None else SGD(params, lr=micrograd_lr(steps))
    rng = random.Random(seed)
    full_batch = batch_size is None or batch_size >= len(X)
    if vectorized:
        return _train_vectorized(model, X, y, loss, opt, steps, None if full_batch else batch_size, l2, rng, on_step)
    history = History()
    tape: Tape | None = None
    with gc_relaxed():
        if compiled and full_batch:
            tape = Tape(lambda: _batch_loss(model, loss, X, y, l2), params)
        for k in range(steps):
            opt.zero_grad()
            if tape is not None and k == 1:
                try:
                    tape.verify()
                except TapeMismatchError:
                    tape = None
            if tape is not None:
                value = tape.run()
                acc = _accuracy_of(tape.watched, y, loss)
            else:
                if full_batch:
                    Xb, yb = X, y
                else:
                    idx = _minibatch(rng, len(X), batch_size)  # type: ignore[arg-type]
                    Xb, yb = [X[i] for i in idx], [y[i] for i in idx]
                total, flat = _batch_loss(model, loss, Xb, yb, l2)
                total.backward()
                value = total.data
                acc = _accuracy_of([v.data for v in flat], yb, loss)
            _step_and_record(opt, history, k, value, acc, on_step)
    history.compiled = tape is not None
    return history


def _step_and_record(opt: Optimizer, history: History, k: int, value: float, acc: float,
                     on_step: Callable[[int, float, float, float], None] | None) -> None:
    """The end of every step: the optimizer's update, then the history and the callback."""
    lr = opt.current_lr()
    opt.step()
    history.loss.append(value)
    history.accuracy.append(acc)
    history.lr.append(lr)
    if on_step is not None:
        on_step(k, value, acc, lr)


def _train_vectorized(
    model: MLP, X: Sequence[Sequence[float]], y: Sequence[int], loss: str, opt: Optimizer, steps: int,
    batch_size: int | None, l2: float, rng: random.Random,
    on_step: Callable[[int, float, float, float], None] | None,
) -> History:
    from autograd.vectorized import BatchTape

    term = LOSSES[loss].term
    if term is None:
        raise ValueError(f"vectorized training supports the hinge, bce and mse losses, got {loss!r} "
                         "(cross-entropy's max-shift depends on the data, so it cannot be recorded)")
    n_in = len(X[0])
    params = model.parameters()

    def per_sample(v: list[Value]) -> tuple[Value, list[Value]]:
        out = model(v[:n_in])
        score = out if isinstance(out, Value) else out[0]
        if not isinstance(out, Value) and len(out) != 1:
            raise ValueError(f"vectorized training with the {loss} loss needs a model with one output, got {len(out)}")
        return term(score, v[n_in]), [score]

    to_target = LOSSES[loss].target
    rows = [[*map(float, x), to_target(t)] for x, t in zip(X, y)]
    tape = BatchTape(per_sample, params, example=rows[0], regularizer=(lambda: _l2_term(params, l2)) if l2 else None)
    history = History(vectorized=True)
    for k in range(steps):
        opt.zero_grad()
        if batch_size is None:
            batch, yb = rows, y
        else:
            idx = _minibatch(rng, len(X), batch_size)
            batch, yb = [rows[i] for i in idx], [y[i] for i in idx]
        value = tape.run(batch)
        acc = accuracy(tape.watched[0].tolist(), yb)
        _step_and_record(opt, history, k, value, acc, on_step)
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
            out.append(argmax([v.data for v in o]))
    return out


def make_optimizer(name: str, params: list[Value], lr: float | None, steps: int) -> Optimizer:
    """``'sgd'`` (micrograd's decaying rate unless ``lr`` is given) or ``'adam'`` (default lr 0.01)."""
    if name == "sgd":
        return SGD(params, lr=lr if lr is not None else micrograd_lr(steps))
    if name == "adam":
        return Adam(params, lr=lr if lr is not None else 0.01)
    raise ValueError(f"unknown optimizer {name!r}; expected 'sgd' or 'adam'")
