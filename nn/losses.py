"""Losses and metrics. Each loss returns one ``Value``: the mean over the batch.

Every loss is written with numerically stable formulas, so extreme logits (±1000) give finite
values and gradients equal to PyTorch's ``torch.nn.functional`` ones in float64:
``bce_with_logits`` uses softplus, ``cross_entropy`` and ``softmax`` use the ``logsumexp`` op,
which subtracts the largest logit inside the op.
"""

from __future__ import annotations

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


def accuracy(preds: Sequence[Value | float] | Sequence[Sequence[Value | float]], targets: Sequence[int]) -> float:
    """The fraction of correct predictions, as a float in [0, 1].

    Binary scores (one Value per sample) count as class 1 when > 0; labels may be 0/1 or -1/+1.
    Multi-class scores (a list per sample) predict their largest entry; targets are indices.
    """
    if len(preds) != len(targets):
        raise ValueError(f"preds and targets differ in length: {len(preds)} vs {len(targets)}")
    if not preds:
        raise ValueError("accuracy of an empty batch is undefined")
    correct = 0
    for p, t in zip(preds, targets):
        if isinstance(p, Sequence):
            correct += argmax([_data(v) for v in p]) == t
        else:
            correct += (_data(p) > 0) == (t > 0)
    return correct / len(preds)


def _data(v: Value | float) -> float:
    return v.data if isinstance(v, Value) else float(v)
