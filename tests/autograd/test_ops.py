"""Every op: its forward against a closed form, its local gradients and backward() against central
differences over Hypothesis inputs in its domain, and the IEEE edge values of the numerics table."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import NamedTuple

import pytest
from hypothesis import given
from hypothesis import strategies as st

from autograd import Value, dot
from tests.numeric import assert_close, central_difference
from tests.strategies import NO_DEADLINE, away_from_zero, positives, reals, slopes

inf, nan = math.inf, math.nan


class Case(NamedTuple):
    """One op under test: ``build(values, consts)`` on Values, ``reference`` on floats."""

    build: Callable[[list[Value], list[float]], Value]
    reference: Callable[[list[float], list[float]], float]
    values: st.SearchStrategy[tuple[float, ...]]
    consts: st.SearchStrategy[tuple[float, ...]]


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


NO_CONSTS: st.SearchStrategy[tuple[float, ...]] = st.just(())
ints = st.integers(-3, 3).map(float)

CASES: dict[str, Case] = {
    # Value op Value
    "a + b": Case(lambda v, c: v[0] + v[1], lambda x, c: x[0] + x[1], st.tuples(reals(), reals()), NO_CONSTS),
    "a - b": Case(lambda v, c: v[0] - v[1], lambda x, c: x[0] - x[1], st.tuples(reals(), reals()), NO_CONSTS),
    "a * b": Case(lambda v, c: v[0] * v[1], lambda x, c: x[0] * x[1], st.tuples(reals(), reals()), NO_CONSTS),
    "a / b": Case(lambda v, c: v[0] / v[1], lambda x, c: x[0] / x[1], st.tuples(reals(), away_from_zero()), NO_CONSTS),
    "a ** b": Case(
        lambda v, c: v[0] ** v[1],
        lambda x, c: math.pow(x[0], x[1]),
        st.tuples(positives(0.1, 10.0), reals(-3.0, 3.0)),
        NO_CONSTS,
    ),
    # Value op constant (folded)
    "a + c": Case(lambda v, c: v[0] + c[0], lambda x, c: x[0] + c[0], st.tuples(reals()), st.tuples(reals())),
    "a - c": Case(lambda v, c: v[0] - c[0], lambda x, c: x[0] - c[0], st.tuples(reals()), st.tuples(reals())),
    "a * c": Case(lambda v, c: v[0] * c[0], lambda x, c: x[0] * c[0], st.tuples(reals()), st.tuples(reals())),
    "a / c": Case(lambda v, c: v[0] / c[0], lambda x, c: x[0] / c[0], st.tuples(reals()), st.tuples(away_from_zero())),
    "a ** c": Case(
        lambda v, c: v[0] ** c[0],
        lambda x, c: math.pow(x[0], c[0]),
        st.tuples(positives(0.1, 10.0)),
        st.tuples(reals(-3.0, 3.0)),
    ),
    "a ** k (integer k, any sign of a)": Case(
        lambda v, c: v[0] ** c[0], lambda x, c: math.pow(x[0], c[0]), st.tuples(away_from_zero()), st.tuples(ints)
    ),
    # constant op Value (reflected)
    "c + a": Case(lambda v, c: c[0] + v[0], lambda x, c: c[0] + x[0], st.tuples(reals()), st.tuples(reals())),
    "c - a": Case(lambda v, c: c[0] - v[0], lambda x, c: c[0] - x[0], st.tuples(reals()), st.tuples(reals())),
    "c * a": Case(lambda v, c: c[0] * v[0], lambda x, c: c[0] * x[0], st.tuples(reals()), st.tuples(reals())),
    "c / a": Case(lambda v, c: c[0] / v[0], lambda x, c: c[0] / x[0], st.tuples(away_from_zero()), st.tuples(reals())),
    "c ** a": Case(
        lambda v, c: c[0] ** v[0],
        lambda x, c: math.pow(c[0], x[0]),
        st.tuples(reals(-5.0, 5.0)),
        st.tuples(positives(0.1, 5.0)),
    ),
    # unary
    "-a": Case(lambda v, c: -v[0], lambda x, c: -x[0], st.tuples(reals()), NO_CONSTS),
    "abs": Case(lambda v, c: abs(v[0]), lambda x, c: abs(x[0]), st.tuples(away_from_zero(1e-3)), NO_CONSTS),
    "exp": Case(lambda v, c: v[0].exp(), lambda x, c: math.exp(x[0]), st.tuples(reals(-20.0, 20.0)), NO_CONSTS),
    "log": Case(lambda v, c: v[0].log(), lambda x, c: math.log(x[0]), st.tuples(positives()), NO_CONSTS),
    "sqrt": Case(lambda v, c: v[0].sqrt(), lambda x, c: math.sqrt(x[0]), st.tuples(positives()), NO_CONSTS),
    "tanh": Case(lambda v, c: v[0].tanh(), lambda x, c: math.tanh(x[0]), st.tuples(reals()), NO_CONSTS),
    "sigmoid": Case(lambda v, c: v[0].sigmoid(), lambda x, c: _sigmoid(x[0]), st.tuples(reals(-30, 30)), NO_CONSTS),
    "relu": Case(lambda v, c: v[0].relu(), lambda x, c: max(x[0], 0.0), st.tuples(away_from_zero(1e-3)), NO_CONSTS),
    "softplus": Case(
        lambda v, c: v[0].softplus(),
        lambda x, c: math.log1p(math.exp(x[0])),
        st.tuples(reals(-30.0, 30.0)),
        NO_CONSTS,
    ),
    "leaky_relu(slope)": Case(
        lambda v, c: v[0].leaky_relu(c[0]),
        lambda x, c: x[0] if x[0] > 0 else c[0] * x[0],
        st.tuples(away_from_zero(1e-3)),
        st.tuples(slopes()),
    ),
}


@st.composite
def case_inputs(draw: st.DrawFn, case: Case) -> tuple[list[float], list[float]]:
    return list(draw(case.values)), list(draw(case.consts))


def _forward(case: Case, consts: list[float]) -> Callable[[list[float]], float]:
    return lambda xs: case.build([Value(x) for x in xs], consts).data


@pytest.mark.parametrize("name", list(CASES))
@NO_DEADLINE
@given(data=st.data())
def test_forward_matches_closed_form(name: str, data: st.DataObject) -> None:
    case = CASES[name]
    xs, cs = data.draw(case_inputs(case))
    out = case.build([Value(x) for x in xs], cs)
    assert type(out.data) is float
    assert_close(out.data, case.reference(xs, cs), rtol=1e-12, atol=1e-300, what=name)


@pytest.mark.parametrize("name", list(CASES))
@NO_DEADLINE
@given(data=st.data())
def test_local_gradients_match_central_differences(name: str, data: st.DataObject) -> None:
    case = CASES[name]
    xs, cs = data.draw(case_inputs(case))
    leaves = [Value(x) for x in xs]
    out = case.build(leaves, cs)
    assert out.parents == tuple(leaves), "one parent per Value operand, constants folded"
    assert len(out.local_grads) == len(out.parents)
    for i, local in enumerate(out.local_grads):
        assert type(local) is float
        expected = central_difference(_forward(case, cs), xs, i)
        assert_close(local, expected, rtol=1e-5, atol=1e-6, what=f"{name}: d/d(input {i}) at {xs}, consts {cs}")


@pytest.mark.parametrize("name", list(CASES))
@NO_DEADLINE
@given(data=st.data())
def test_backward_matches_central_differences(name: str, data: st.DataObject) -> None:
    case = CASES[name]
    xs, cs = data.draw(case_inputs(case))
    leaves = [Value(x) for x in xs]
    case.build(leaves, cs).backward()
    for i, leaf in enumerate(leaves):
        expected = central_difference(_forward(case, cs), xs, i)
        assert_close(leaf.grad, expected, rtol=1e-5, atol=1e-6, what=f"{name}: grad of input {i} at {xs}")


# --- dot ------------------------------------------------------------------------------------


@NO_DEADLINE
@given(
    pairs=st.lists(st.tuples(reals(), reals()), max_size=5),
    bias=st.none() | reals(),
    inputs_are_values=st.booleans(),
)
def test_dot_matches_unfused_sum_and_central_differences(
    pairs: list[tuple[float, float]], bias: float | None, inputs_are_values: bool
) -> None:
    ws = [Value(w) for w, _ in pairs]
    xs: list[Value | float] = [Value(x) if inputs_are_values else x for _, x in pairs]
    b = None if bias is None else Value(bias)
    out = dot(ws, xs, b)
    assert out.op == ("dot" if pairs or b is not None else "")  # an empty sum is the leaf 0.0
    assert len(out.local_grads) == len(out.parents) == 2 * len(pairs) + (b is not None)
    # Same additions in the same order as sum((w*x ...), b): bit-for-bit equal.
    expected = 0.0 if bias is None else bias
    for w, x in pairs:
        expected = expected + w * x
    assert out.data == expected
    if b is not None:
        assert out.parents[-1] is b and out.local_grads[-1] == 1.0

    flat = [v for w, x in pairs for v in (w, x)] + ([] if bias is None else [bias])

    def f(vals: list[float]) -> float:
        n = len(pairs)
        return dot(
            [Value(vals[2 * k]) for k in range(n)],
            [vals[2 * k + 1] for k in range(n)],
            None if bias is None else Value(vals[-1]),
        ).data

    for i, local in enumerate(out.local_grads):
        assert_close(local, central_difference(f, flat, i), what=f"dot: d/d(parent {i})")
    out.backward()
    for k, weight in enumerate(ws):
        assert weight.grad == pairs[k][1]
        given_input = xs[k]
        if isinstance(given_input, Value):
            assert given_input.grad == pairs[k][0]
    if b is not None:
        assert b.grad == 1.0


def test_dot_parents_interleave_weights_and_inputs() -> None:
    w0, w1, x0, x1, b = Value(2.0), Value(-1.0), Value(3.0), Value(4.0), Value(0.5)
    out = dot([w0, w1], [x0, x1], b)
    assert out.parents == (w0, x0, w1, x1, b)
    assert out.local_grads == (3.0, 2.0, 4.0, -1.0, 1.0)
    assert out.data == 2.5


# --- IEEE edge values -----------------------------------------------------------------------


def _same(actual: float, expected: float) -> bool:
    return (math.isnan(actual) and math.isnan(expected)) or actual == expected


# (expression on Values, inputs, expected output, expected gradient of each input after backward)
EDGES: list[tuple[str, Callable[..., Value], tuple[float, ...], float, tuple[float, ...]]] = [
    ("log(0) = -inf, grad inf", lambda x: x.log(), (0.0,), -inf, (inf,)),
    ("log(-1) = nan", lambda x: x.log(), (-1.0,), nan, (-1.0,)),
    ("exp(1000) = inf", lambda x: x.exp(), (1000.0,), inf, (inf,)),
    ("exp(-1000) = 0, grad 0", lambda x: x.exp(), (-1000.0,), 0.0, (0.0,)),
    ("1/Value(0) = inf", lambda x: 1 / x, (0.0,), inf, (-inf,)),
    ("1/Value(-0.0) = -inf", lambda x: 1 / x, (-0.0,), -inf, (-inf,)),
    ("Value(1)/Value(0) = inf", lambda x, y: x / y, (1.0, 0.0), inf, (inf, -inf)),
    ("Value(1)/0 = inf", lambda x: x / 0, (1.0,), inf, (inf,)),
    ("Value(-1)/0 = -inf", lambda x: x / 0, (-1.0,), -inf, (inf,)),
    ("Value(0)**-1 = inf", lambda x: x**-1, (0.0,), inf, (-inf,)),
    ("Value(-0.0)**-1 = -inf", lambda x: x**-1, (-0.0,), -inf, (-inf,)),
    ("Value(0)**-2 = inf", lambda x: x**-2, (0.0,), inf, (-inf,)),
    ("0/0 = nan", lambda x, y: x / y, (0.0, 0.0), nan, (inf, nan)),
    ("Value(0)/0 = nan", lambda x: x / 0, (0.0,), nan, (inf,)),
    ("0/Value(0) = nan", lambda x: 0 / x, (0.0,), nan, (nan,)),
    ("Value(-8)**(1/3) = nan", lambda x: x ** (1 / 3), (-8.0,), nan, (nan,)),
    ("Value(-8)**Value(1/3) = nan", lambda x, y: x**y, (-8.0, 1 / 3), nan, (nan, nan)),
    ("Value(-2)**3 = -8", lambda x: x**3, (-2.0,), -8.0, (12.0,)),
    ("Value(-2)**Value(2) = 4, d/dy nan", lambda x, y: x**y, (-2.0, 2.0), 4.0, (-4.0, nan)),
    ("sqrt(-1) = nan", lambda x: x.sqrt(), (-1.0,), nan, (nan,)),
    ("sqrt(0) = 0, grad inf", lambda x: x.sqrt(), (0.0,), 0.0, (inf,)),
    ("x**0.5 at 0, grad inf", lambda x: x**0.5, (0.0,), 0.0, (inf,)),
    ("pow(0, 0) = 1, grads 0", lambda x, y: x**y, (0.0, 0.0), 1.0, (0.0, 0.0)),
    ("pow(0, 2) = 0, grads 0", lambda x, y: x**y, (0.0, 2.0), 0.0, (0.0, 0.0)),
    ("pow(0, -1) = inf, d/dy -inf", lambda x, y: x**y, (0.0, -1.0), inf, (-inf, -inf)),
    ("x**0 at 0: grad 0", lambda x: x**0, (0.0,), 1.0, (0.0,)),
    ("0**x at 0: grad 0", lambda x: 0**x, (0.0,), 1.0, (0.0,)),
    ("0**x at -1: inf", lambda x: 0**x, (-1.0,), inf, (-inf,)),
    ("2**Value(2000) = inf", lambda x: 2**x, (2000.0,), inf, (inf,)),
    ("Value(1e308)*10 = inf", lambda x: x * 10, (1e308,), inf, (10.0,)),
    ("Value(1e308)+1e308 = inf", lambda x: x + 1e308, (1e308,), inf, (1.0,)),
    ("tiny/tiny: d/dy = -1e200", lambda x, y: x / y, (1e-200, 1e-200), 1.0, (1 / 1e-200, -1 / 1e-200)),
    ("sigmoid(-1000) = 0, grad exactly 0", lambda x: x.sigmoid(), (-1000.0,), 0.0, (0.0,)),
    ("sigmoid(1000) = 1, grad 0", lambda x: x.sigmoid(), (1000.0,), 1.0, (0.0,)),
    ("sigmoid(0) = 0.5, grad 0.25", lambda x: x.sigmoid(), (0.0,), 0.5, (0.25,)),
    ("sigmoid(-inf) = 0", lambda x: x.sigmoid(), (-inf,), 0.0, (0.0,)),
    ("softplus(1000) = 1000, grad 1", lambda x: x.softplus(), (1000.0,), 1000.0, (1.0,)),
    ("softplus(-1000) = 0, grad 0", lambda x: x.softplus(), (-1000.0,), 0.0, (0.0,)),
    ("softplus(0) = log 2, grad 0.5", lambda x: x.softplus(), (0.0,), math.log(2.0), (0.5,)),
    ("tanh(1000) = 1, grad 0", lambda x: x.tanh(), (1000.0,), 1.0, (0.0,)),
    ("tanh(-1000) = -1, grad 0", lambda x: x.tanh(), (-1000.0,), -1.0, (0.0,)),
    ("relu'(0) = 0", lambda x: x.relu(), (0.0,), 0.0, (0.0,)),
    ("relu(-inf) = 0", lambda x: x.relu(), (-inf,), 0.0, (0.0,)),
    ("abs'(0) = 0", lambda x: abs(x), (0.0,), 0.0, (0.0,)),
    ("abs'(-0.0) = 0", lambda x: abs(x), (-0.0,), 0.0, (0.0,)),
    ("abs'(-3) = -1", lambda x: abs(x), (-3.0,), 3.0, (-1.0,)),
    ("leaky_relu'(0) = slope", lambda x: x.leaky_relu(0.2), (0.0,), 0.0, (0.2,)),
    ("leaky_relu default slope 0.01", lambda x: x.leaky_relu(), (-2.0,), -0.02, (0.01,)),
    ("relu(nan) = nan, grad nan", lambda x: x.relu(), (nan,), nan, (nan,)),
    ("abs(nan) = nan, grad nan", lambda x: abs(x), (nan,), nan, (nan,)),
    ("heaviside(0) = 1, grad 0", lambda x: x.heaviside(), (0.0,), 1.0, (0.0,)),
    ("heaviside(-0.0) = 1, grad 0", lambda x: x.heaviside(), (-0.0,), 1.0, (0.0,)),
    ("heaviside(-1e-300) = 0, grad 0", lambda x: x.heaviside(), (-1e-300,), 0.0, (0.0,)),
    ("heaviside(inf) = 1", lambda x: x.heaviside(), (inf,), 1.0, (0.0,)),
    ("heaviside(-inf) = 0", lambda x: x.heaviside(), (-inf,), 0.0, (0.0,)),
    ("heaviside(nan) = nan, grad 0", lambda x: x.heaviside(), (nan,), nan, (0.0,)),
    ("inf - inf = nan", lambda x, y: x - y, (inf, inf), nan, (1.0, -1.0)),
    ("inf * 0 = nan", lambda x, y: x * y, (inf, 0.0), nan, (0.0, inf)),
]


@pytest.mark.parametrize(("name", "f", "inputs", "expected", "grads"), EDGES, ids=[e[0] for e in EDGES])
def test_edge_values_follow_ieee(
    name: str, f: Callable[..., Value], inputs: tuple[float, ...], expected: float, grads: tuple[float, ...]
) -> None:
    leaves = [Value(x) for x in inputs]
    out = f(*leaves)
    assert type(out.data) is float
    assert _same(out.data, expected), f"{name}: got {out.data!r}, expected {expected!r}"
    out.backward()
    for leaf, g in zip(leaves, grads):
        assert type(leaf.grad) is float
        assert _same(leaf.grad, g), f"{name}: gradient {leaf.grad!r}, expected {g!r}"


@pytest.mark.parametrize(
    ("number", "expected"), [(10**400, inf), (-(10**400), -inf), (2**1023, 2.0**1023), (10**308, 1e308)]
)
def test_big_ints_become_floats_or_infinities(number: int, expected: float) -> None:
    assert Value(number).data == expected
    assert (Value(1.0) * number).data == expected
    assert (number + Value(0.0)).data == expected


def test_big_int_exponent_overflows_to_inf() -> None:
    assert (Value(2.0) ** (10**400)).data == inf
    assert (Value(0.5) ** (10**400)).data == 0.0


def test_negative_base_fractional_power_is_a_float_nan_never_complex() -> None:
    out = Value(-8.0) ** (1 / 3)
    assert isinstance(out.data, float) and math.isnan(out.data)
    out2 = (-8) ** Value(1 / 3)
    assert isinstance(out2.data, float) and math.isnan(out2.data)
