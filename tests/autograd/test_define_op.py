"""define_op: user ops on Values and numbers, in graphs, checked and differentiated like built-ins."""

from __future__ import annotations

import math
from typing import Any

import pytest

from autograd import Value, define_op, grad, gradcheck, hessian

mysin: Any = define_op("mysin", math.sin, lambda x: (mycos(x),))
mycos: Any = define_op("mycos", math.cos, lambda x: (-mysin(x),))
hypot: Any = define_op("hypot2", math.hypot, lambda a, b: (a / hypot(a, b), b / hypot(a, b)))


def test_user_op_records_a_node_with_its_name_and_float_local_grads() -> None:
    x = Value(0.5)
    y = mysin(x)
    assert y.op == "mysin" and y.parents == (x,)
    assert y.data == math.sin(0.5)
    assert y.local_grads == (math.cos(0.5),)
    y.backward()
    assert x.grad == math.cos(0.5)


def test_user_op_on_plain_numbers_returns_a_float() -> None:
    assert mysin(0.5) == math.sin(0.5)
    assert isinstance(mysin(1), float)


def test_constant_arguments_become_leaf_parents() -> None:
    a = Value(3.0)
    h = hypot(a, 4.0)
    assert h.data == 5.0
    assert h.parents[0] is a and h.parents[1].data == 4.0 and h.parents[1].is_leaf
    h.backward()
    assert a.grad == pytest.approx(0.6)


def test_user_ops_support_any_order_when_rules_use_value_ops() -> None:
    x = Value(0.3)
    (d1,) = grad(mysin(x), [x], create_graph=True)
    (d2,) = grad(d1, [x], create_graph=True)
    (d3,) = grad(d2, [x])
    assert (d1.data, d2.data, d3.data) == pytest.approx((math.cos(0.3), -math.sin(0.3), -math.cos(0.3)), rel=1e-15)
    H = hessian(lambda v: hypot(v[0], v[1]), [3.0, 4.0])
    assert H[0] == pytest.approx([16 / 125, -12 / 125], rel=1e-12)
    assert H[1] == pytest.approx([-12 / 125, 9 / 125], rel=1e-12)


def test_user_ops_pass_gradcheck() -> None:
    assert gradcheck(lambda v: mysin(v[0] * v[1]) + hypot(v[0], v[1]), [0.4, -1.2])


def test_math_only_rule_gives_first_derivatives_and_a_clear_error_for_second() -> None:
    plain = define_op("plain_exp", math.exp, lambda x: (math.exp(x),))
    x = Value(1.0)
    (g,) = grad(plain(x), [x])
    assert g.data == math.e
    with pytest.raises(TypeError, match="op 'plain_exp': its local_grads function does not accept Values"):
        grad(plain(x), [x], create_graph=True)


def test_define_op_validates_its_arguments() -> None:
    with pytest.raises(ValueError, match="non-empty string"):
        define_op("", math.sin, lambda x: (math.cos(x),))
    with pytest.raises(ValueError, match="clashes with a built-in op"):
        define_op("tanh", math.tanh, lambda x: (1.0,))
    with pytest.raises(TypeError, match="two callables"):
        define_op("nope", 3, lambda x: (1.0,))  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"variable number of arguments\); pass nargs="):
        define_op("varargs", lambda *xs: sum(xs), lambda *xs: (1.0,) * len(xs))
    total3 = define_op("total3", lambda *xs: sum(xs), lambda *xs: (1.0,) * len(xs), nargs=3)
    assert total3(Value(1.0), 2.0, 3.0).data == 6.0


def test_calling_a_user_op_wrongly_is_refused() -> None:
    with pytest.raises(TypeError, match=r"mysin\(\) takes 1 argument\(s\), got 2"):
        mysin(Value(1.0), 2.0)
    with pytest.raises(TypeError, match=r"mysin\(\) argument 0 must be a Value or a real number, got str"):
        mysin("x")
    broken = define_op("broken_arity", math.sin, lambda x: (1.0, 2.0))
    with pytest.raises(ValueError, match="returned 2 partial\\(s\\) for 1 input\\(s\\)"):
        broken(Value(0.0))


def test_mistakes_in_a_user_op_name_the_op() -> None:
    returns_float = define_op("mistake_float_grads", math.sin, lambda x: math.cos(x))  # type: ignore[arg-type,return-value]
    with pytest.raises(TypeError, match=r"op 'mistake_float_grads': local_grads must return a tuple .* got float"):
        returns_float(Value(0.5))
    returns_text = define_op("mistake_text_forward", lambda x: "high", lambda x: (1.0,))  # type: ignore[arg-type,return-value]
    with pytest.raises(TypeError, match=r"op 'mistake_text_forward': forward must return a real number, got str"):
        returns_text(Value(0.5))
    too_few = define_op("mistake_too_few", lambda x, y: x * y, lambda x, y: (y,))
    with pytest.raises(ValueError, match=r"op 'mistake_too_few': local_grads returned 1 partial\(s\) for 2 input"):
        too_few(Value(1.0), Value(2.0))
    bad_partial = define_op("mistake_text_partial", math.sin, lambda x: ("cos",))
    with pytest.raises(TypeError, match=r"op 'mistake_text_partial': partial 0 must be a real number or a Value"):
        bad_partial(Value(0.5))
    with pytest.raises(TypeError, match="array_forward must be callable or None, got int"):
        define_op("mistake_array", math.sin, lambda x: (math.cos(x),), array_forward=3)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="needs at least one argument, got nargs=0"):
        define_op("mistake_nargs", math.sin, lambda x: (math.cos(x),), nargs=0)
