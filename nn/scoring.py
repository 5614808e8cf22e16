"""A trained model's outputs and classes for many rows, fast and exactly.

For a few rows the model is called on each under ``no_grad``. For many, one sample's forward
pass is recorded once (``nn.train.record_replay``, the same recording and check as training's)
and replayed over the rows: through generated code (``autograd.SampleTape``: exactly
``model(x)``'s numbers, several times faster than building graphs) or, with ``vectorized``,
through NumPy (``autograd.BatchTape``: the same numbers to rounding, far faster). A model whose
forward pass cannot be replayed (it reads its numbers in Python) is called row by row.

    >>> from nn import MLP
    >>> model = MLP(2, [4, 1], seed=0)
    >>> scorer = Scorer(model)
    >>> scorer.scores([[0.5, -1.0]]) == [[model([0.5, -1.0]).data]]
    True
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from nn.data import Standardizer
from nn.layers import MLP
from nn.losses import predict_class
from nn.train import record_replay, threshold_of

__all__ = ["Scorer"]


class Scorer:
    """Scores and class predictions of ``model`` for many rows.

    Args:
        model: the trained model.
        scaler: a fitted :class:`nn.data.Standardizer` applied to every row first (the one the
            model was trained with), or None.
        vectorized: replay with NumPy arrays (needs NumPy; without it, generated code is used).

    Attributes:
        REPLAY_FROM: from this many rows on, the forward pass is recorded and replayed.
        CHUNK: rows are prepared and replayed this many at a time, so scoring a large file needs
            memory for one chunk, not for every row as Python lists.
    """

    REPLAY_FROM = 300
    CHUNK = 16_384

    def __init__(self, model: MLP, scaler: Standardizer | None = None, vectorized: bool = False) -> None:
        self.model = model
        self.scaler = scaler
        self.vectorized = vectorized
        self._tape: Any = None
        self._replay = True

    def _outputs(self, v: Sequence[Any]) -> list[Any]:
        out = self.model(v)
        return out if isinstance(out, list) else [out]

    def _record(self, rows: list[list[float]]) -> Any:
        def per_sample(v: list[Any]) -> tuple[Any, list[Any]]:
            outs = self._outputs(v)
            return sum(outs[1:], outs[0]), outs

        params = self.model.parameters()
        vectorized = self.vectorized
        if vectorized:
            try:
                import numpy  # noqa: F401
            except ImportError:
                vectorized = False
        tape, _ = record_replay(per_sample, params, rows[0], rows, vectorized=vectorized)
        return tape

    def scores(self, X: Sequence[Sequence[float]]) -> list[list[float]]:
        """Every output of the model for each row of ``X`` (a list per row)."""
        return [s for chunk in self._chunks(X) for s in chunk]

    def classify(self, X: Sequence[Sequence[float]]) -> list[int]:
        """Each row's class by ``nn.losses.predict_class`` with the model's threshold
        (``nn.train.threshold_of``: 0.5 for a sigmoid output, else 0; argmax for several)."""
        threshold = threshold_of(self.model)
        return [predict_class(s, threshold) for chunk in self._chunks(X) for s in chunk]

    def _chunks(self, X: Sequence[Sequence[float]]) -> Iterator[list[list[float]]]:
        for start in range(0, len(X), self.CHUNK):
            yield self._scores(X[start:start + self.CHUNK])

    def _scores(self, X: Sequence[Sequence[float]]) -> list[list[float]]:
        scaled = self.scaler.transform(X) if self.scaler is not None else X
        rows = scaled.tolist() if hasattr(scaled, "tolist") else [[float(v) for v in x] for x in scaled]
        if not rows:
            return []
        if self._replay and (self._tape is not None or len(rows) >= self.REPLAY_FROM):
            if self._tape is None:
                self._tape = self._record(rows)
            if self._tape is not None:
                from autograd import TapeMismatchError

                try:
                    self._tape.run(rows, grad=0.0)  # grad 0: the parameters' .grad stay as they are
                    return [[float(v) for v in r] for r in zip(*self._tape.watched)]
                except TapeMismatchError:  # e.g. an op redefined since: the model itself is the truth
                    self._tape = None
            self._replay = False  # the forward pass cannot be replayed: call the model
        from autograd import no_grad

        with no_grad():
            return [[o.data for o in self._outputs(r)] for r in rows]
