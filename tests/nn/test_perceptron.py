"""nn.Perceptron: one threshold unit (the Heaviside op) trained with Rosenblatt's rule.

The rule is checked against a plain-float reference on random data (same weights bit for bit,
same mistakes per epoch, samples in order, stop after the first clean epoch); convergence on
separable blobs and none on XOR; and the errors for bad labels, rows and settings.
"""

from __future__ import annotations

import math
import random
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import nn
from nn import Perceptron
from tests.strategies import NO_DEADLINE


def _reference(w: list[float], b: float, lr: float, X: list[list[float]], y: list[int], epochs: int
               ) -> tuple[list[float], float, list[int]]:
    """Rosenblatt's rule written out on floats, summing w·x + b in the order ``autograd.dot`` does."""
    w = list(w)
    history: list[int] = []
    for _ in range(epochs):
        mistakes = 0
        for x, t in zip(X, y):
            z = b
            for wj, xj in zip(w, x):
                z = z + wj * xj
            o = 1 if z >= 0.0 else 0
            if o != t:
                mistakes += 1
                w = [wj + lr * (t - o) * xj for wj, xj in zip(w, x)]
                b = b + lr * (t - o)
        history.append(mistakes)
        if mistakes == 0:
            break
    return w, b, history


@settings(NO_DEADLINE, max_examples=60)
@given(st.integers(1, 3).flatmap(lambda nin: st.tuples(
    st.just(nin),
    st.lists(st.tuples(st.lists(st.floats(-3, 3), min_size=nin, max_size=nin), st.integers(0, 1)),
             min_size=1, max_size=12),
    st.sampled_from([1.0, 0.5, 0.1]),
    st.integers(0, 2**32),
    st.integers(1, 8),
)))
def test_fit_is_rosenblatts_rule_sample_by_sample_in_order(case: tuple[int, list[Any], float, int, int]) -> None:
    nin, data, lr, seed, epochs = case
    X, y = [x for x, _ in data], [t for _, t in data]
    p = Perceptron(nin, lr=lr, seed=seed)
    start_w, start_b = p.w, p.b
    history = p.fit(X, y, epochs=epochs)
    w, b, expected = _reference(start_w, start_b, lr, X, y, epochs)
    assert history == expected
    assert p.w == w and p.b == b
    assert len(history) == epochs or history[-1] == 0
    assert 0 not in history[:-1]  # it stops after the first epoch without a mistake
    if history[-1] == 0:
        assert p.predict(X) == y


def test_the_starting_weights_come_from_the_seed_and_the_bias_starts_at_zero() -> None:
    a, b = Perceptron(3, seed=7), Perceptron(3, seed=random.Random(7))
    assert a.w == b.w and len(a.w) == 3 and all(type(v) is float and -1.0 < v < 1.0 for v in a.w)
    assert a.b == 0.0 and type(a.b) is float
    assert Perceptron(3, seed=8).w != a.w
    random.seed(5)
    first = Perceptron(2).w
    random.seed(5)
    assert Perceptron(2).w == first  # no seed: Python's global random, as MLP's weights


def test_a_clean_epoch_ends_training_and_a_trained_unit_makes_no_more_mistakes() -> None:
    X, y = [[0, 0], [0, 1], [1, 0], [1, 1]], [0, 0, 0, 1]  # AND
    p = Perceptron(2, seed=0)
    history = p.fit(X, y)
    assert history[-1] == 0 and all(h > 0 for h in history[:-1]) and len(history) < 100
    assert p.predict(X) == y
    w, b = p.w, p.b
    assert p.fit(X, y) == [0] and (p.w, p.b) == (w, b)


@pytest.mark.parametrize("seed", range(5))
def test_it_converges_on_two_separable_blobs(seed: int) -> None:
    X, y = nn.data.make_blobs(n_samples=100, n_classes=2, noise=0.3, seed=seed)
    p = Perceptron(2, seed=seed)
    history = p.fit(X, y)
    assert history[-1] == 0 and len(history) < 100, history
    assert p.predict(X) == y


@pytest.mark.parametrize("seed", range(3))
def test_it_never_separates_xor(seed: int) -> None:
    X, y = nn.data.make_xor(n_samples=100, seed=seed)
    p = Perceptron(2, seed=seed)
    history = p.fit(X, y, epochs=50)
    assert len(history) == 50 and min(history) > 0
    assert p.predict(X) != y


def test_the_unit_is_the_heaviside_op_with_zero_gradients() -> None:
    p = Perceptron(2, seed=0)
    p.weights[0].data, p.weights[1].data, p.bias.data = 1.0, -1.0, 0.0
    out = p([2.0, 2.0])  # w·x + b == 0 exactly: the unit fires
    assert out.op == "heaviside" and out.data == 1.0
    assert p([1.0, 2.0]).data == 0.0 and p([-0.0, 0.0]).data == 1.0
    out.backward()
    assert [v.grad for v in p.parameters()] == [0.0, 0.0, 0.0]
    assert p.predict([[2.0, 2.0], [1.0, 2.0], [3.0, 1.0]]) == [1, 0, 1]


def test_numpy_rows_and_labels_are_accepted() -> None:
    np = pytest.importorskip("numpy")
    X, y = nn.data.make_blobs(n_samples=40, n_classes=2, noise=0.3, seed=1)
    a, b = Perceptron(2, seed=3), Perceptron(2, seed=3)
    assert a.fit(np.array(X), np.array(y)) == b.fit(X, y)
    assert a.w == b.w and a.predict(np.array(X)) == b.predict(X)


@pytest.mark.parametrize(("label", "shown"), [(2, "2"), (-1, "-1"), (0.5, "0.5"), ("1", "'1'"), (None, "None")])
def test_a_label_other_than_0_or_1_is_named(label: Any, shown: str) -> None:
    p = Perceptron(2, seed=0)
    with pytest.raises(ValueError, match=rf"fit\(\) label 1 is .*{shown}.*; a perceptron's labels are 0 or 1"):
        p.fit([[0.0, 1.0], [1.0, 0.0]], [0, label])
    assert Perceptron(2, seed=0).w == p.w  # nothing was trained


def test_rows_of_the_wrong_width_and_bad_settings_are_named() -> None:
    p = Perceptron(2, seed=0)
    with pytest.raises(ValueError, match=r"fit\(\) X row 1 has 3 values; this perceptron has 2 inputs"):
        p.fit([[0.0, 1.0], [1.0, 0.0, 2.0]], [0, 1])
    with pytest.raises(ValueError, match=r"predict\(\) X row 0 has 1 values; this perceptron has 2 inputs"):
        p.predict([[0.0]])
    with pytest.raises(ValueError, match=r"Perceptron input has 3 values"):
        p([1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match=r"fit\(\) got 2 rows in X but 3 labels in y"):
        p.fit([[0.0, 1.0], [1.0, 0.0]], [0, 1, 1])
    with pytest.raises(ValueError, match=r"fit\(\) X has no rows"):
        p.fit([], [])
    with pytest.raises(ValueError, match=r"fit\(\) X row 0, entry 1 is nan; inputs must be finite"):
        p.fit([[0.0, math.nan]], [0])
    with pytest.raises(TypeError, match=r"fit\(\) X row 0, entry 0 must be a number, got str"):
        p.fit([["a", 1.0]], [0])  # type: ignore[list-item]
    with pytest.raises(TypeError, match=r"fit\(\) X must be a list of rows, got int"):
        p.fit(3, [0])  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"fit\(\) epochs must be a positive integer, got int 0"):
        p.fit([[0.0, 1.0]], [0], epochs=0)
    with pytest.raises(ValueError, match=r"Perceptron nin must be a positive integer, got int 0"):
        Perceptron(0)
    with pytest.raises(ValueError, match=r"Perceptron nin must be a positive integer, got float"):
        Perceptron(2.0)  # type: ignore[arg-type]
    for lr in (0.0, -1.0, math.inf, math.nan):
        with pytest.raises(ValueError, match=r"Perceptron lr must be a positive finite number"):
            Perceptron(2, lr=lr)
    with pytest.raises(TypeError, match=r"Perceptron lr must be a number, got str"):
        Perceptron(2, lr="1")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"Perceptron seed must be an int or a random.Random, got str"):
        Perceptron(2, seed="0")  # type: ignore[arg-type]
    assert repr(Perceptron(3, lr=0.5, seed=0)) == "Perceptron(3, lr=0.5)"
