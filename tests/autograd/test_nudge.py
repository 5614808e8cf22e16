"""autograd.nudge: a parameter moved by delta, the loss's actual change against g*delta and
g*delta + h*delta**2/2, and the parameter put back whatever happens."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from autograd import Nudge, Value, no_grad, nudge


def test_a_quadratic_is_predicted_exactly_to_second_order() -> None:
    w = Value(1.5)
    r = nudge(lambda: 3 * w * w - 2 * w + 1, w, 0.25)
    # L(w) = 3w² - 2w + 1: g = 6w - 2 = 7, h = 6
    assert (r.g, r.h) == (7.0, 6.0)
    assert r.before == 3 * 1.5**2 - 2 * 1.5 + 1
    assert r.after == pytest.approx(3 * 1.75**2 - 2 * 1.75 + 1, rel=1e-15)
    assert r.first_order == 7.0 * 0.25
    assert r.second_order == 7.0 * 0.25 + 0.5 * 6.0 * 0.25**2
    assert r.actual == pytest.approx(r.second_order, rel=1e-14)
    assert r.second_order_error < 1e-13
    # the first-order error of a quadratic is (h δ²/2) / |g δ + h δ²/2|
    assert r.first_order_error == pytest.approx(3 * 0.25**2 / (7 * 0.25 + 3 * 0.25**2), rel=1e-12)


@given(st.floats(1e-4, 1e-2), st.sampled_from([1.0, -1.0]))
def test_first_order_error_shrinks_like_delta(delta: float, sign: float) -> None:
    w = Value(0.8)
    r = nudge(lambda: w * w, w, sign * delta)
    # L = w²: actual = 2wδ + δ², so the first-order error is |δ| / |2w + δ|, about δ / 1.6 (from 1e-4
    # on: below, rounding in the difference of two losses is a visible part of δ²)
    assert r.first_order_error == pytest.approx(delta / abs(1.6 + sign * delta), rel=1e-6)
    assert r.second_order_error < 1e-6


def test_a_curved_loss_is_closer_to_second_order_than_to_first() -> None:
    x = Value(0.3)
    r = nudge(lambda: (2 * x).tanh(), x, 1e-2)
    t = math.tanh(0.6)
    assert r.g == pytest.approx(2 * (1 - t * t), rel=1e-12)
    assert r.h == pytest.approx(-8 * t * (1 - t * t), rel=1e-12)
    assert r.actual == pytest.approx(math.tanh(0.62) - t, rel=1e-12)
    assert r.second_order_error < r.first_order_error / 10


def test_the_parameter_and_its_gradient_are_restored() -> None:
    w, b = Value(2.0), Value(-1.0)
    loss = (w * 3 + b).relu()
    loss.backward()
    assert w.grad == 3.0
    r = nudge(lambda: (w * 3 + b).relu(), w, 0.1)
    assert isinstance(r, Nudge)
    assert (w.data, w.grad, b.data, b.grad) == (2.0, 3.0, -1.0, 1.0)


def test_the_parameter_is_restored_when_loss_fn_raises() -> None:
    w = Value(2.0)
    w.grad = 0.5
    calls = []

    def loss_fn() -> Value:
        calls.append(w.data)
        if len(calls) == 2:  # on the nudged value
            raise RuntimeError("boom")
        return w * w

    with pytest.raises(RuntimeError, match="boom"):
        nudge(loss_fn, w, 0.5)
    assert calls == [2.0, 2.5]  # it was really moved, and then put back
    assert (w.data, w.grad) == (2.0, 0.5)


def test_the_parameter_is_restored_when_loss_fn_returns_no_value() -> None:
    w = Value(2.0)
    values = iter([w * w, 3.0])
    with pytest.raises(TypeError, match=r"nudge\(\) loss_fn must return a Value, got float"):
        nudge(lambda: next(values), w, 0.5)  # type: ignore[arg-type, return-value]
    assert w.data == 2.0


def test_inside_no_grad_the_derivatives_are_still_taken() -> None:
    w = Value(1.0)
    with no_grad():
        r = nudge(lambda: w * w * w, w, 0.1)
    assert (r.g, r.h) == (3.0, 6.0)


def test_a_loss_that_does_not_change() -> None:
    w, v = Value(1.0), Value(2.0)
    r = nudge(lambda: v * v, w, 0.1)  # w is not used
    assert (r.actual, r.g, r.h, r.first_order_error, r.second_order_error) == (0.0, 0.0, 0.0, 0.0, 0.0)
    lin = nudge(lambda: 0 * w + 1, w, 0.1)  # a zero slope times w: the change is exactly 0 again
    assert lin.actual == 0.0 and lin.first_order_error == 0.0


def test_a_prediction_of_a_change_that_does_not_happen_has_an_infinite_error() -> None:
    w = Value(1.0)
    r = nudge(lambda: (w - 2) * (w - 2), w, 2.0)  # L(1) = L(3) = 1
    assert r.actual == 0.0
    assert r.first_order == -4.0 and r.first_order_error == math.inf  # a change predicted, none happened
    assert r.second_order == 0.0 and r.second_order_error == 0.0


def test_str_says_the_three_changes() -> None:
    w = Value(3.0)
    text = str(nudge(lambda: w * w, w, 0.5))
    assert text == ("nudge by 0.5: the loss changed by 3.25; first order g*delta = 3 (relative error 0.0769), "
                    "second order g*delta + h*delta**2/2 = 3.25 (relative error 0)")


@pytest.mark.parametrize(("args", "error", "message"), [
    ((3.0, Value(1.0), 0.1), TypeError, "loss_fn must be a function of no arguments"),
    ((lambda: Value(1.0), 1.0, 0.1), TypeError, "param must be a Value"),
    ((lambda: Value(1.0), Value(1.0), "0.1"), TypeError, "delta must be a real number, got str"),
    ((lambda: Value(1.0), Value(1.0), True), TypeError, "delta must be a real number, got bool"),
    ((lambda: Value(1.0), Value(1.0), 0.0), ValueError, "delta must be a finite number other than 0, got 0.0"),
    ((lambda: Value(1.0), Value(1.0), math.inf), ValueError, "delta must be a finite number other than 0"),
    ((lambda: Value(1.0), Value(1.0) * 2, 0.1), ValueError, "param must be a leaf"),
])
def test_bad_arguments_are_refused(args: tuple[object, object, object], error: type[Exception],
                                   message: str) -> None:
    with pytest.raises(error, match=message):
        nudge(*args)  # type: ignore[arg-type]
