"""Losses and metrics. Each loss returns one ``Value``: the mean over the batch.

Every loss is written with numerically stable formulas, so extreme logits (±1000) give finite
values and gradients equal to PyTorch's ``torch.nn.functional`` ones in float64:
``bce_with_logits`` uses softplus, ``cross_entropy`` and ``softmax`` use the ``logsumexp`` op,
which subtracts the largest logit inside the op.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from autograd import Value, logsumexp, select

__all__ = [
    "accuracy",
    "argmax",
    "bce_term",
    "bce_with_logits",
    "cross_entropy",
    "cross_entropy_term",
    "hinge_loss",
    "hinge_term",
    "log_softmax",
    "mse_loss",
    "mse_term",
    "predict_class",
    "signed",
    "softmax",
]

Scalar = Value | float


# --- one sample's term of each loss: what the batch losses average, and what the vectorised
# replay records (there the target is an input Value of the sample)


def hinge_term(score: Value, label: Value | float) -> Value:
    """micrograd's max-margin term ``relu(1 - label * score)`` for a label of ±1."""
    return (1 + -label * score).relu()


def bce_term(logit: Value, target: Value | float) -> Value:
    """Binary cross-entropy on a raw score, ``softplus(z) - t * z``, for a target in [0, 1]."""
    return logit.softplus() - target * logit


def mse_term(pred: Value, target: Value | float) -> Value:
    """The squared error ``(pred - target) ** 2``."""
    d = pred - target
    return d * d


def signed(label: int) -> float:
    """A 0/1 class label as the -1/+1 target of the hinge and mse losses."""
    return 2.0 * label - 1.0


def argmax(scores: Sequence[float]) -> int:
    """The index of the largest score (the first, on a tie)."""
    return max(range(len(scores)), key=scores.__getitem__)


def _batch(xs: Value | Sequence[Scalar], what: str) -> list[Scalar]:
    if isinstance(xs, Value):
        return [xs]
    if isinstance(xs, (str, bytes)) or not isinstance(xs, Sequence):
        raise TypeError(f"{what} must be a list of Values or numbers, got {type(xs).__name__}")
    if not xs:
        raise ValueError(f"{what} is empty; a loss needs at least one sample")
    return list(xs)


def _pair(preds: Value | Sequence[Scalar], targets: Value | Sequence[Scalar], names: tuple[str, str]) -> tuple[
    list[Scalar], list[Scalar]
]:
    p = _batch(preds, names[0])
    t = _batch(targets, names[1])
    if len(p) != len(t):
        raise ValueError(f"{names[0]} and {names[1]} differ in length: {len(p)} vs {len(t)}")
    return p, t


def _mean(terms: list[Value]) -> Value:
    # micrograd's ``sum(losses) * (1.0 / len(losses))``, so the numbers match micrograd's.
    return sum(terms[1:], terms[0]) * (1.0 / len(terms))


def mse_loss(preds: Value | Sequence[Scalar], targets: Value | Sequence[Scalar]) -> Value:
    """Mean squared error ``mean((pred - target)**2)`` (``torch.nn.functional.mse_loss``).

    Example:
        >>> mse_loss([Value(1.0), Value(3.0)], [0.0, 1.0]).data
        2.5
    """
    p, t = _pair(preds, targets, ("preds", "targets"))
    return _mean([mse_term(a if isinstance(a, Value) else Value(a), b) for a, b in zip(p, t)])


def hinge_loss(scores: Value | Sequence[Value], labels: Sequence[float]) -> Value:
    """micrograd's max-margin loss ``mean(relu(1 - label * score))`` with labels ±1.

    Raises:
        ValueError: a label is not -1 or +1.
    """
    s, y = _pair(scores, labels, ("scores", "labels"))
    terms = []
    for yi, si in zip(y, s):
        if yi not in (-1, 1):
            raise ValueError(f"hinge_loss labels must be -1 or +1, got {yi!r}")
        terms.append(hinge_term(si if isinstance(si, Value) else Value(si), float(yi)))  # micrograd's expression
    return _mean(terms)


def bce_with_logits(logits: Value | Sequence[Value], targets: Sequence[float]) -> Value:
    """Binary cross-entropy on raw scores: ``mean(softplus(z) - t * z)``, targets in [0, 1].

    Same value and gradient (``sigmoid(z) - t``) as ``torch.nn.functional.binary_cross_entropy_with_logits``,
    and finite for any logit.
    """
    z, t = _pair(logits, targets, ("logits", "targets"))
    terms = []
    for zi, ti in zip(z, t):
        tf = float(ti)
        if not 0.0 <= tf <= 1.0:
            raise ValueError(f"bce_with_logits targets must be in [0, 1], got {ti!r}")
        terms.append(bce_term(zi if isinstance(zi, Value) else Value(zi), tf))
    return _mean(terms)


def log_softmax(logits: Sequence[Value | float]) -> list[Value]:
    """``z_i - logsumexp(z)``: log-probabilities, stable for extreme logits (one ``logsumexp`` node).

    Example:
        >>> [round(p.data, 4) for p in log_softmax([Value(0.0), Value(0.0)])]
        [-0.6931, -0.6931]
    """
    zs = _logit_row(logits, "log_softmax")
    lse = logsumexp(zs)
    return [z - lse for z in zs]


def softmax(logits: Sequence[Value | float]) -> list[Value]:
    """``exp(z_i - logsumexp(z))``: probabilities, stable for extreme logits.

    Example:
        >>> [round(p.data, 4) for p in softmax([Value(0.0), Value(1000.0)])]
        [0.0, 1.0]
    """
    return [lp.exp() for lp in log_softmax(logits)]


def cross_entropy_term(logits: Sequence[Value | float], target: int | Value) -> Value:
    """One sample's softmax cross-entropy, ``logsumexp(z) - z[target]``.

    ``target`` is a class index, or a Value holding one (an input of a recorded per-sample graph:
    then the pick is an ``autograd.select`` node, so one recording serves every label).
    """
    zs = _logit_row(logits, "cross_entropy")
    picked = zs[target] if isinstance(target, int) else select(target, zs)
    return logsumexp(zs) - picked


def cross_entropy(logits: Sequence[Sequence[Value | float]], targets: Sequence[int]) -> Value:
    """Softmax cross-entropy ``mean(logsumexp(z) - z[target])`` (``torch.nn.functional.cross_entropy``).

    The max shift happens inside the ``logsumexp`` op, so the graph does not depend on the data
    and a compiled ``Tape`` can record it.

    Args:
        logits: one list of class scores per sample.
        targets: the class index of each sample.
    """
    rows = _batch(logits, "logits")  # type: ignore[arg-type]
    if len(rows) != len(targets):
        raise ValueError(f"logits and targets differ in length: {len(rows)} vs {len(targets)}")
    terms = []
    for i, (row, t) in enumerate(zip(rows, targets)):
        if isinstance(row, Value) or not isinstance(row, Sequence):
            raise TypeError(f"cross_entropy logits[{i}] must be a list of class scores, got {type(row).__name__}")
        if isinstance(t, bool) or not isinstance(t, int) or not 0 <= t < len(row):
            raise ValueError(f"cross_entropy target {i} must be a class index in [0, {len(row)}), got {t!r}")
        terms.append(cross_entropy_term(row, t))
    return _mean(terms)


def _logit_row(logits: Sequence[Value | float], who: str) -> list[Value]:
    if isinstance(logits, (Value, str, bytes)) or not isinstance(logits, Sequence):
        raise TypeError(f"{who} needs a list of logits, got {type(logits).__name__}")
    if not logits:
        raise ValueError(f"{who} needs at least one logit")
    return [z if isinstance(z, Value) else Value(z) for z in logits]


def predict_class(outputs: Value | float | Sequence[Value | float], threshold: float = 0.0) -> int:
    """The class one sample's outputs predict: the one rule every accuracy and prediction uses.

    With one output (a number, a Value or a list of one), class 1 when it is above ``threshold``
    (``nn.threshold_of(model)``: 0.5 for a sigmoid output, 0 for a raw score), else 0; with
    several, the index of the largest (the first, on a tie).

    Args:
        outputs: one sample's output(s).
        threshold: the score above which a single output means class 1.

    Returns:
        The class index.

    Example:
        >>> predict_class(0.3), predict_class(0.3, threshold=0.5), predict_class([0.1, 2.0, -1.0])
        (1, 0, 1)
    """
    if isinstance(outputs, (Value, int, float)) and not isinstance(outputs, bool):
        return int(_data(outputs) > threshold)
    if isinstance(outputs, (str, bytes)) or not isinstance(outputs, Sequence):
        raise TypeError(f"predict_class needs a score or a list of scores, got {type(outputs).__name__}")
    if not outputs:
        raise ValueError("predict_class needs at least one output")
    if len(outputs) == 1:
        return int(_data(outputs[0]) > threshold)
    return argmax([_data(v) for v in outputs])


def _check_threshold(threshold: float, who: str) -> float:
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float)):
        raise TypeError(f"{who} threshold must be a number, got {type(threshold).__name__}")
    if not math.isfinite(threshold):
        raise ValueError(f"{who} threshold must be a finite number, got {threshold!r}")
    return float(threshold)


def accuracy(preds: Sequence[Value | float] | Sequence[Sequence[Value | float]], targets: Sequence[int],
             threshold: float = 0.0) -> float:
    """The fraction of correct predictions, as a float in [0, 1], by :func:`predict_class`.

    Binary scores (one per sample, bare or as a list of one) count as class 1 when above
    ``threshold``; their labels may be 0/1 or -1/+1. Multi-class scores (a list per sample)
    predict their largest entry; targets are indices.

    Args:
        preds: each sample's score, or list of scores.
        targets: each sample's label.
        threshold: the score above which a single output means class 1: 0 (the default) for raw
            scores and margins, 0.5 for probabilities (a sigmoid output; ``nn.threshold_of(model)``).

    Returns:
        The fraction of samples whose predicted class is their label.
    """
    threshold = _check_threshold(threshold, "accuracy")
    if len(preds) != len(targets):
        raise ValueError(f"preds and targets differ in length: {len(preds)} vs {len(targets)}")
    if not preds:
        raise ValueError("accuracy of an empty batch is undefined")
    correct = 0
    for p, t in zip(preds, targets):
        several = isinstance(p, Sequence) and len(p) > 1
        # a single score is binary, where a label of -1 means class 0 as 0 does
        correct += predict_class(p, threshold) == (t if several else int(t > 0))
    return correct / len(preds)


def _data(v: Value | float) -> float:
    return v.data if isinstance(v, Value) else float(v)
