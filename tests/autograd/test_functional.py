"""autograd.grad (any order), jvp, value_and_grad, grad_fn, jacobian, hessian."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from autograd import Value, dot, grad, grad_fn, hessian, jacobian, jvp, value_and_grad
from tests.numeric import numeric_gradient
from tests.strategies import NO_DEADLINE, crosses_kink, programs, run_program

# (f, x, f', f'', f''') closed forms
CLOSED_FORMS: list[tuple[str, Callable[[Value], Value], float, float, float, float]] = [
    ("x**3", lambda x: x**3, 1.7, 3 * 1.7**2, 6 * 1.7, 6.0),
    ("x*x*x via mul", lambda x: x * x * x, -0.6, 3 * 0.36, 6 * -0.6, 6.0),
    ("exp", lambda x: x.exp(), 0.4, math.exp(0.4), math.exp(0.4), math.exp(0.4)),
    ("log", lambda x: x.log(), 2.5, 1 / 2.5, -1 / 2.5**2, 2 / 2.5**3),
    ("sqrt", lambda x: x.sqrt(), 2.0, 0.5 * 2**-0.5, -0.25 * 2**-1.5, 0.375 * 2**-2.5),
    ("1/x", lambda x: 1 / x, 1.5, -1 / 1.5**2, 2 / 1.5**3, -6 / 1.5**4),
    ("2**x", lambda x: 2**x, 0.7, math.log(2) * 2**0.7, math.log(2) ** 2 * 2**0.7, math.log(2) ** 3 * 2**0.7),
    ("x/y const", lambda x: x / 4.0, 3.0, 0.25, 0.0, 0.0),
]


def _tanh_derivs(x: float) -> tuple[float, float, float]:
    t = math.tanh(x)
    return 1 - t * t, -2 * t * (1 - t * t), -2 * (1 - t * t) * (1 - 3 * t * t)


def _sigmoid_derivs(x: float) -> tuple[float, float, float]:
    s = 1 / (1 + math.exp(-x))
    return s * (1 - s), s * (1 - s) * (1 - 2 * s), s * (1 - s) * (1 - 6 * s + 6 * s * s)


CLOSED_FORMS += [
    ("tanh", lambda x: x.tanh(), 0.3, *_tanh_derivs(0.3)),
    ("sigmoid", lambda x: x.sigmoid(), -0.8, *_sigmoid_derivs(-0.8)),
    ("softplus", lambda x: x.softplus(), 0.9, 1 / (1 + math.exp(-0.9)), *_sigmoid_derivs(0.9)[:2]),
]


@pytest.mark.parametrize(("name", "f", "x0", "d1", "d2", "d3"), CLOSED_FORMS, ids=[c[0] for c in CLOSED_FORMS])
def test_first_second_third_derivatives_match_closed_forms(
    name: str, f: Callable[[Value], Value], x0: float, d1: float, d2: float, d3: float
) -> None:
    x = Value(x0)
    (g1,) = grad(f(x), [x], create_graph=True)
    (g2,) = grad(g1, [x], create_graph=True)
    (g3,) = grad(g2, [x])
    assert g1.data == pytest.approx(d1, rel=1e-12, abs=1e-14)
    assert g2.data == pytest.approx(d2, rel=1e-12, abs=1e-14)
    assert g3.data == pytest.approx(d3, rel=1e-11, abs=1e-13)


def test_value_power_value_mixed_partials() -> None:
    x, y = Value(1.3), Value(0.7)
    z = x**y
    gx, gy = grad(z, [x, y], create_graph=True)
    assert gx.data == pytest.approx(0.7 * 1.3 ** -0.3)
    assert gy.data == pytest.approx(1.3**0.7 * math.log(1.3))
    (dxy,) = grad(gx, [y])  # d/dy (y x^(y-1)) = x^(y-1) (1 + y log x)
    assert dxy.data == pytest.approx(1.3 ** -0.3 * (1 + 0.7 * math.log(1.3)), rel=1e-12)


def test_dot_second_derivatives_are_the_partner_swap() -> None:
    w, x, b = Value(2.0), Value(-3.0), Value(0.5)
    out = dot([w], [x], b) * dot([w], [x], b)  # (wx + b)^2
    gw, gx, gb = grad(out, [w, x, b], create_graph=True)
    (dww, dwx, dwb) = grad(gw, [w, x, b])
    s = 2 * -3 + 0.5
    assert (gw.data, gx.data, gb.data) == (2 * s * -3, 2 * s * 2, 2 * s)
    assert (dww.data, dwx.data, dwb.data) == (2 * 9, 2 * (-3 * 2) + 2 * s, 2 * -3)


def test_grad_does_not_touch_any_grad_attribute() -> None:
    x, y = Value(1.5), Value(-2.0)
    z = (x * y).tanh() + x.exp()
    grad(z, [x, y])
    grad(z, [x, y], create_graph=True)
    assert x.grad == 0.0 and y.grad == 0.0 and z.grad == 0.0
    assert all(n.grad == 0.0 for n in z.parents)


def test_grad_matches_backward_bit_for_bit() -> None:
    x, y = Value(0.3), Value(1.7)
    z = (x * y + x.exp()).log() * y + x / y
    gx, gy = grad(z, [x, y])
    z.backward()
    assert (gx.data, gy.data) == (x.grad, y.grad)


def test_unused_inputs_get_zero_or_raise() -> None:
    x, unused = Value(2.0), Value(5.0)
    gx, gu = grad(x * x, [x, unused])
    assert (gx.data, gu.data) == (4.0, 0.0)
    with pytest.raises(ValueError, match=r"inputs\[1\] is not used"):
        grad(x * x, [x, unused], allow_unused=False)


def test_grad_output_scales_and_interior_nodes_work() -> None:
    x = Value(3.0)
    h = x * x
    out = h * 2.0
    gx, gh = grad(out, [x, h], grad_output=0.5)
    assert (gx.data, gh.data) == (0.5 * 2.0 * 6.0, 0.5 * 2.0)


def test_grad_rejects_bad_arguments() -> None:
    x = Value(1.0)
    with pytest.raises(TypeError, match="output must be a Value, got float"):
        grad(1.0, [x])  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"inputs\[0\] must be a Value, got int"):
        grad(x * 2, [1])  # type: ignore[list-item]
    with pytest.raises(TypeError, match="grad_output must be a real number"):
        grad(x * 2, [x], grad_output="1")  # type: ignore[arg-type]


@NO_DEADLINE
@given(programs(max_length=6))
def test_second_order_random_programs_match_finite_differences_of_the_gradient(
    case: tuple[list[float], list]  # type: ignore[type-arg]
) -> None:
    inputs, program = case
    assume(not crosses_kink(program, inputs, 1e-4))

    def gradient(xs: list[float]) -> list[float]:
        vs = [Value(x) for x in xs]
        return [g.data for g in grad(run_program(program, vs), vs)]

    vs = [Value(x) for x in inputs]
    first = grad(run_program(program, vs), vs, create_graph=True)
    assert [g.data for g in first] == pytest.approx(gradient(inputs), rel=1e-12, abs=1e-12)
    for i, gi in enumerate(first):
        row = [h.data for h in grad(gi, vs)]
        numeric = numeric_gradient(lambda xs, i=i: gradient(xs)[i], inputs, eps=1e-5)  # type: ignore[misc]
        assert row == pytest.approx(numeric, rel=1e-4, abs=1e-5)


@NO_DEADLINE
@given(programs(), st.lists(st.floats(-2, 2), min_size=4, max_size=4))
def test_jvp_equals_gradient_dot_tangent(case: tuple[list[float], list], tangent: list[float]) -> None:  # type: ignore[type-arg]
    inputs, program = case
    vs = [Value(x) for x in inputs]
    out = run_program(program, vs)
    t = tangent[: len(vs)]
    reverse = sum(g.data * ti for g, ti in zip(grad(out, vs), t))
    assert jvp(out, vs, t) == pytest.approx(reverse, rel=1e-9, abs=1e-9)


def test_jvp_argument_errors() -> None:
    x = Value(1.0)
    with pytest.raises(ValueError, match="one tangent per input"):
        jvp(x * x, [x], [1.0, 2.0])
    with pytest.raises(TypeError, match=r"tangents\[0\] must be a real number"):
        jvp(x * x, [x], ["a"])  # type: ignore[list-item]


def test_value_and_grad_and_grad_fn_work_on_floats() -> None:
    f = value_and_grad(lambda v: v[0] * v[1] + v[0].exp())
    value, g = f([2.0, 3.0])
    assert value == 6.0 + math.exp(2.0)
    assert g == [3.0 + math.exp(2.0), 2.0]
    assert grad_fn(lambda v: v[0] ** 2)([3.0]) == [6.0]
    with pytest.raises(TypeError, match="f must return a Value, got float"):
        grad_fn(lambda v: 1.0)([1.0])  # type: ignore[arg-type,return-value]
    with pytest.raises(TypeError, match=r"xs\[1\] must be a real number"):
        grad_fn(lambda v: v[0])([1.0, "x"])  # type: ignore[list-item]


def test_jacobian_of_a_vector_function() -> None:
    J = jacobian(lambda v: [v[0] * v[1], v[0].exp(), v[1] * 3.0], [2.0, -1.0])
    assert [[-1.0, 2.0], [math.exp(2.0), 0.0], [0.0, 3.0]] == J


def test_hessian_of_rosenbrock_is_the_textbook_matrix() -> None:
    def rosen(v: list[Value]) -> Value:
        return (1 - v[0]) ** 2 + 100 * (v[1] - v[0] ** 2) ** 2

    x, y = 1.2, 0.8
    H = hessian(rosen, [x, y])
    expected = [[1200 * x * x - 400 * y + 2, -400 * x], [-400 * x, 200.0]]
    for row, exp_row in zip(H, expected):
        assert row == pytest.approx(exp_row, rel=1e-13)
    assert H[0][1] == H[1][0]


def test_hessian_of_a_quadratic_form_is_exact() -> None:
    H = hessian(lambda v: 3 * v[0] * v[0] + 2 * v[0] * v[1] - v[1] * v[1] * 5, [0.7, -1.1])
    assert H == [[6.0, 2.0], [2.0, -10.0]]


TORCH_CASES: list[tuple[str, Callable[[Any, Any], Any]]] = [
    ("mul-div-pow", lambda x, y: x * y / (y * y + 0.5) + (x * x + 0.5) ** y.tanh()),
    ("exp-log-sqrt", lambda x, y: (x * x + 1).log() * y.exp() + (y * y + 0.25).sqrt()),
    ("sigmoid-softplus-tanh", lambda x, y: _sig(x * y) * _sp(y - x) + (x * 2.0).tanh() ** 3),
    ("const-ops", lambda x, y: 2.0 ** x + 3.0 / (y * y + 1) + x ** 2.5 * 0.1 + (1 - y) * 4),
    ("kinks-neg-sub-dot", lambda x, y: _relu(x * y - 0.1) * x**2 + abs(x - y) * y * y
     + _leaky(y - x) * x * y - (-x) * y + _dot2(x, y)),
]


def _relu(v: Any) -> Any:
    return v.relu() if isinstance(v, Value) else v.clamp_min(0.0)


def _leaky(v: Any) -> Any:
    if isinstance(v, Value):
        return v.leaky_relu(0.2)
    import torch

    return torch.nn.functional.leaky_relu(v, 0.2)


def _dot2(x: Any, y: Any) -> Any:
    """x*y + y*x + 0.5 through autograd.dot for Values, the same sum for tensors."""
    if isinstance(x, Value):
        return dot([x, y], [y, x], Value(0.5)) * x
    return (0.5 + x * y + y * x) * x


def _sig(v: Any) -> Any:
    return v.sigmoid()


def _sp(v: Any) -> Any:
    if isinstance(v, Value):
        return v.softplus()
    import torch

    return torch.nn.functional.softplus(v, threshold=1000.0)


@pytest.mark.parametrize(("name", "f"), TORCH_CASES, ids=[c[0] for c in TORCH_CASES])
def test_double_and_triple_backward_match_torch(name: str, f: Callable[[Any, Any], Any]) -> None:
    torch = pytest.importorskip("torch")
    x0, y0 = 0.8, 0.6
    xv, yv = Value(x0), Value(y0)
    out = f(xv, yv)
    assert isinstance(out, Value)
    gx, gy = grad(out, [xv, yv], create_graph=True)
    hxx, hxy = grad(gx, [xv, yv], create_graph=True)
    (txxx,) = grad(hxx, [xv])
    xt = torch.tensor(x0, dtype=torch.float64, requires_grad=True)
    yt = torch.tensor(y0, dtype=torch.float64, requires_grad=True)
    ot = f(xt, yt)
    tgx, tgy = torch.autograd.grad(ot, [xt, yt], create_graph=True)
    thxx, thxy = torch.autograd.grad(tgx, [xt, yt], create_graph=True, materialize_grads=True)
    (ttxxx,) = torch.autograd.grad(thxx, [xt])
    pairs = [(out.data, ot), (gx.data, tgx), (gy.data, tgy), (hxx.data, thxx), (hxy.data, thxy), (txxx.data, ttxxx)]
    for ours, theirs in pairs:
        assert ours == pytest.approx(theirs.item(), rel=1e-9, abs=1e-9)
