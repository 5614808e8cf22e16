"""nn.scoring.Scorer: a model's outputs for many rows, replayed exactly, or called when it must be."""

from __future__ import annotations

from typing import Any

import pytest

from autograd import Value, no_grad
from nn import MLP
from nn.cost import estimate, n_parameters
from nn.data import Standardizer, make_blobs, make_moons
from nn.scoring import Scorer


def _direct(model: MLP, rows: list[list[float]]) -> list[list[float]]:
    with no_grad():
        outs = [model(r) for r in rows]
    return [[o.data] if isinstance(o, Value) else [v.data for v in o] for o in outs]


@pytest.mark.parametrize("vectorized", [False, True])
def test_scores_of_many_rows_equal_the_model_called_on_each(vectorized: bool) -> None:
    X, _ = make_blobs(400, 3, seed=1)
    model = MLP(2, [8, 3], seed=2)
    scorer = Scorer(model, vectorized=vectorized)
    scores = scorer.scores(X)
    assert scorer._tape is not None  # 400 rows: replayed
    expected = _direct(model, X)
    if vectorized:
        assert all(abs(a - b) <= 1e-12 * max(1.0, abs(b)) for r, e in zip(scores, expected) for a, b in zip(r, e))
    else:
        assert scores == expected  # generated code: exactly model(x)'s numbers
    assert scorer.classify(X) == [max(range(3), key=s.__getitem__) for s in expected]


def test_a_scaler_is_applied_first_and_chunks_change_nothing() -> None:
    X, _ = make_moons(700, seed=0)
    scaler = Standardizer().fit(X)
    model = MLP(2, [4, 1], seed=0)
    whole = Scorer(model, scaler).scores(X)
    small = Scorer(model, scaler)
    small.CHUNK = 128
    assert small.scores(X) == whole == _direct(model, scaler.transform(X))


class _ReadsItsNumbers(MLP):
    def __call__(self, x: Any) -> Any:
        out: Any = super().__call__(x)
        return out * 2.0 if out.data > 0 else out


def test_a_model_that_reads_its_numbers_is_called_row_by_row_not_replayed_wrong() -> None:
    X, _ = make_moons(400, seed=4)
    model = _ReadsItsNumbers(2, [4, 1], seed=1)
    scorer = Scorer(model)
    assert scorer.scores(X) == _direct(model, X)
    assert scorer._tape is None and not scorer._replay


def test_the_cost_estimate_counts_parameters_like_the_model() -> None:
    assert n_parameters([2, 16, 16, 1]) == MLP(2, [16, 16, 1]).num_parameters() == 337
    seconds, memory = estimate(337, 100, 100, 100, 2, vectorized=False)
    assert estimate(337, 100, 200, 100, 2, vectorized=False)[0] > seconds and memory > 0
