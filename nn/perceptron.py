"""``Perceptron``: one threshold logic unit, trained with Rosenblatt's rule.

A threshold logic unit (TLU) computes ``w · x + b`` and fires (outputs 1) when that is ``>= 0``,
through the Heaviside op (``Value.heaviside``, the ``'step'`` activation of ``nn``). Its gradient
is 0 everywhere, so gradient descent cannot train it; Rosenblatt's perceptron rule can, without
any gradient: after each sample, every weight moves by ``lr * (t - o) * x`` and the bias by
``lr * (t - o)``, where ``t`` is the label and ``o`` the unit's output. A correct output changes
nothing. On linearly separable data the rule stops making mistakes after finitely many epochs
(the perceptron convergence theorem); on data no line separates, such as XOR, it never does.

Example:
    >>> from nn import Perceptron
    >>> p = Perceptron(2, seed=0)
    >>> p.fit([[0, 0], [0, 1], [1, 0], [1, 1]], [0, 0, 0, 1])  # AND: mistakes per epoch
    [1, 0]
    >>> p.predict([[0, 0], [1, 1]])
    [0, 1]
"""

from __future__ import annotations

import math
import numbers
import random
from collections.abc import Sequence
from typing import Any

from autograd import Value, dot
from autograd.value import as_float
from nn.text import describe

__all__ = ["Perceptron"]


def _positive_int(what: str, n: object) -> int:
    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 1:
        raise ValueError(f"{what} must be a positive integer, got {type(n).__name__} {describe(n)}")
    return int(n)


class Perceptron:
    """A single threshold logic unit: output 1 when ``w · x + b >= 0``, else 0.

    Args:
        nin: the number of inputs (a positive integer).
        lr: the learning rate of the perceptron rule (a positive finite number; 1.0 by default).
            With weights starting at 0 it would only scale them; with random ones it sets how
            far each mistake moves them relative to where they start.
        seed: an int or a ``random.Random`` for reproducible starting weights; by default they
            come from Python's global ``random`` (as ``MLP``'s do). Weights start uniform in
            (-1, 1), the bias at 0.

    Attributes:
        weights: the weights as Values (the unit's graph reads them; the rule writes their ``.data``).
        bias: the bias as a Value.
        lr: the learning rate.

    Raises:
        ValueError: ``nin`` is not a positive integer, or ``lr`` is not a positive finite number.
        TypeError: ``lr`` is not a number, or ``seed`` is not an int or a ``random.Random``.
    """

    def __init__(self, nin: int, lr: float = 1.0, seed: int | random.Random | None = None) -> None:
        nin = _positive_int("Perceptron nin", nin)
        rate = as_float(lr) if not isinstance(lr, bool) else None
        if rate is None:
            raise TypeError(f"Perceptron lr must be a number, got {type(lr).__name__} {describe(lr)}")
        if not (math.isfinite(rate) and rate > 0.0):
            raise ValueError(f"Perceptron lr must be a positive finite number, got {rate!r}")
        if isinstance(seed, bool) or not (seed is None or isinstance(seed, (int, random.Random))):
            raise TypeError(f"Perceptron seed must be an int or a random.Random, got {type(seed).__name__}")
        rng: Any = random if seed is None else seed if isinstance(seed, random.Random) else random.Random(seed)
        self.lr = rate
        self.weights = [Value(float(rng.uniform(-1, 1))) for _ in range(nin)]
        self.bias = Value(0.0)

    @property
    def w(self) -> list[float]:
        """The weights as floats (a new list; write through :attr:`weights`)."""
        return [v.data for v in self.weights]

    @property
    def b(self) -> float:
        """The bias as a float."""
        return self.bias.data

    def parameters(self) -> list[Value]:
        """The weights, then the bias: the Values the unit's graph reads."""
        return [*self.weights, self.bias]

    def __call__(self, x: Sequence[float]) -> Value:
        """The unit on one input row, as a graph: ``heaviside(dot(w, x, b))``.

        Args:
            x: ``nin`` numbers.

        Returns:
            A Value, 1.0 when ``w · x + b >= 0`` and 0.0 otherwise. Its gradient with respect to
            every weight is 0: ``backward()`` on it shows why gradient descent cannot train a TLU.

        Raises:
            ValueError: ``x`` does not have ``nin`` entries, or one is not finite.
            TypeError: ``x`` is not a list of numbers.
        """
        return self._unit(self._row(x, "Perceptron input"))

    def _unit(self, row: list[float]) -> Value:
        return dot(self.weights, row, self.bias).heaviside()

    def _row(self, x: object, where: str) -> list[float]:
        nin = len(self.weights)
        if isinstance(x, (str, bytes)) or not hasattr(x, "__len__") or not hasattr(x, "__iter__"):
            raise TypeError(f"{where} must be a list of {nin} numbers, got {type(x).__name__}")
        if len(x) != nin:
            raise ValueError(f"{where} has {len(x)} values; this perceptron has {nin} inputs")
        row: list[float] = []
        for j, v in enumerate(x):
            f = None if isinstance(v, bool) else as_float(v)
            if f is None:
                raise TypeError(f"{where}, entry {j} must be a number, got {type(v).__name__} {describe(v)}")
            if not math.isfinite(f):
                raise ValueError(f"{where}, entry {j} is {f!r}; inputs must be finite")
            row.append(f)
        return row

    def _rows(self, X: object, what: str) -> list[list[float]]:
        if isinstance(X, (str, bytes)) or not hasattr(X, "__len__") or not hasattr(X, "__iter__"):
            raise TypeError(f"{what} X must be a list of rows, got {type(X).__name__}")
        rows = [self._row(x, f"{what} X row {i}") for i, x in enumerate(X)]
        if not rows:
            raise ValueError(f"{what} X has no rows")
        return rows

    def fit(self, X: Sequence[Sequence[float]], y: Sequence[int], epochs: int = 100) -> list[int]:
        """Train with Rosenblatt's rule: for each sample in order, ``w += lr * (t - o) * x`` and
        ``b += lr * (t - o)``; one epoch is one pass over the samples.

        Args:
            X: the input rows, each of ``nin`` finite numbers (lists, or a 2-D NumPy array).
            y: one label per row, 0 or 1.
            epochs: the most passes to make (a positive integer); training stops after the
                first pass without a mistake.

        Returns:
            The number of mistakes (samples whose output differed from the label, before the
            update) in each epoch run: ends with 0 if the data was separated, and has ``epochs``
            entries, none 0, if it never was.

        Raises:
            ValueError: a row does not have ``nin`` entries, or an entry is not finite, a label
                is not 0 or 1, ``X`` and ``y`` differ in length, ``X`` is empty, or ``epochs`` is
                not a positive integer.
            TypeError: ``X`` is not a list of rows of numbers.
        """
        rows = self._rows(X, "fit()")
        labels = self._labels(y, len(rows))
        epochs = _positive_int("fit() epochs", epochs)
        history: list[int] = []
        for _ in range(epochs):
            mistakes = 0
            for row, t in zip(rows, labels):
                error = t - int(self._unit(row).data)
                if error:
                    mistakes += 1
                    step = self.lr * error
                    for w, xj in zip(self.weights, row):
                        w.data += step * xj
                    self.bias.data += step
            history.append(mistakes)
            if mistakes == 0:
                break
        return history

    @staticmethod
    def _labels(y: object, n: int) -> list[int]:
        if isinstance(y, (str, bytes)) or not hasattr(y, "__len__") or not hasattr(y, "__iter__"):
            raise TypeError(f"fit() y must be a list of 0/1 labels, got {type(y).__name__}")
        if len(y) != n:
            raise ValueError(f"fit() got {n} rows in X but {len(y)} labels in y")
        labels: list[int] = []
        for i, t in enumerate(y):
            f = None if isinstance(t, (str, bytes)) else as_float(t)
            if f not in (0.0, 1.0):
                raise ValueError(f"fit() label {i} is {describe(t)}; a perceptron's labels are 0 or 1")
            labels.append(int(f))
        return labels

    def predict(self, X: Sequence[Sequence[float]]) -> list[int]:
        """The unit's output for each row, as 0/1 labels.

        Args:
            X: the input rows, each of ``nin`` finite numbers.

        Returns:
            One label per row: 1 where ``w · x + b >= 0``, else 0.

        Raises:
            ValueError: a row does not have ``nin`` entries, an entry is not finite, or ``X`` is empty.
            TypeError: ``X`` is not a list of rows of numbers.
        """
        return [int(self._unit(row).data) for row in self._rows(X, "predict()")]

    def __repr__(self) -> str:
        return f"Perceptron({len(self.weights)}, lr={self.lr!r})"
