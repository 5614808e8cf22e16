"""gradcheck / gradgradcheck: pass on every built-in op and composites, name the op with a wrong rule."""

from __future__ import annotations

import math

import pytest
from hypothesis import assume, given

from autograd import GradcheckError, Value, define_op, gradcheck, gradgradcheck, ops
from autograd.value import record_node
from tests.strategies import NO_DEADLINE, OPS, crosses_kink, programs, run_program

SMOOTH = sorted(set(OPS) - {"abs", "relu", "leaky_relu"})


@pytest.mark.parametrize("name", sorted(OPS))
def test_gradcheck_passes_on_every_builtin_op(name: str) -> None:
    op = OPS[name]
    assert gradcheck(lambda v: op(v[0], v[1], 1.3), [0.7, -0.4])


@pytest.mark.parametrize("name", SMOOTH)
def test_gradgradcheck_passes_on_every_smooth_builtin_op(name: str) -> None:
    op = OPS[name]
    assert gradgradcheck(lambda v: op(v[0], v[1], 1.3) * v[0], [0.7, -0.4])


@NO_DEADLINE
@given(programs())
def test_gradcheck_passes_on_random_composites(case: tuple[list[float], list]) -> None:  # type: ignore[type-arg]
    inputs, program = case
    assume(not crosses_kink(program, inputs, 1e-5))
    # A central difference with step 1e-6 carries a rounding error of about |f| * 1e-10: past
    # |f| ~ 1e4 that, not a wrong gradient, is what exceeds the tolerance (seen: |f| ~ 7e7).
    assume(abs(run_program(program, [Value(x) for x in inputs]).data) < 1e4)
    assert gradcheck(lambda v: run_program(program, v), inputs, atol=1e-4)


def test_gradcheck_names_a_wrong_user_defined_op() -> None:
    wrong_sin = define_op("wrong_sin", math.sin, lambda x: (math.sin(x),))  # should be cos
    with pytest.raises(GradcheckError) as info:
        gradcheck(lambda v: wrong_sin(v[0] * v[1]) + v[1].exp(), [0.5, 1.5])
    message = str(info.value)
    assert "gradient mismatch for 2 of 2 input(s)" in message
    assert "input 0 (x=0.5): analytic" in message
    assert "op 'wrong_sin'" in message and "check this op's derivative rule" in message
    assert "op 'exp'" not in message  # the correct ops are not blamed


def test_gradcheck_names_a_node_with_corrupted_local_gradients() -> None:
    def f(v: list[Value]) -> Value:
        y = v[0].tanh()
        return record_node(y.data, ops.TANH, y.parents, (2.0,)) * v[0]  # a wrong tanh rule

    with pytest.raises(GradcheckError, match=r"op 'tanh': local gradient for input 0 at \(0.3,\) is 2.0"):
        gradcheck(f, [0.3])


def test_gradcheck_blames_no_op_when_every_rule_is_right() -> None:
    def f(v: list[Value]) -> Value:
        return Value(v[0].data * 3.0) + v[0]  # breaks the graph: the 3x part has no parents

    with pytest.raises(GradcheckError, match="every op's local derivative agrees"):
        gradcheck(f, [1.0])


def test_gradgradcheck_flags_a_rule_that_ignores_values() -> None:
    flat_cube = define_op("flat_cube", lambda x: x**3, lambda x: (3 * (x.data if isinstance(x, Value) else x) ** 2,))
    with pytest.raises(GradcheckError) as info:
        gradgradcheck(lambda v: flat_cube(v[0]), [0.8])
    assert "d2f/dx0dx0: analytic 0.0" in str(info.value)


def test_gradgradcheck_reports_a_rule_that_cannot_take_values() -> None:
    math_only = define_op("math_only_sin", math.sin, lambda x: (math.cos(x),))
    assert gradcheck(lambda v: math_only(v[0]), [0.4])
    with pytest.raises(GradcheckError, match="second derivatives could not be built: op 'math_only_sin'"):
        gradgradcheck(lambda v: math_only(v[0]), [0.4])


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"eps": 0.0}, r"eps must be a finite number > 0, got 0.0"),
        ({"eps": -1.0}, r"eps must be a finite number > 0, got -1.0"),
        ({"eps": math.nan}, r"eps must be a finite number > 0"),
        ({"atol": -1e-5}, r"atol must be a finite number >= 0"),
        ({"rtol": math.inf}, r"rtol must be a finite number >= 0"),
    ],
)
def test_bad_tolerances_are_value_errors(kwargs: dict[str, float], message: str) -> None:
    for check in (gradcheck, gradgradcheck):
        with pytest.raises(ValueError, match=message):
            check(lambda v: v[0] * v[0], [1.0], **kwargs)


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_a_non_finite_point_is_refused(bad: float) -> None:
    """A deliberately wrong op at a nan input used to pass: every difference there is nan."""
    wrong = define_op("gradcheck_wrong_at_nan", math.sin, lambda x: (math.sin(x),))
    with pytest.raises(ValueError, match=rf"needs finite inputs: xs\[1\] is {bad!r}"):
        gradcheck(lambda v: wrong(v[0] * v[1]), [0.5, bad])


def test_a_kink_is_named_as_a_kink_not_as_a_wrong_rule() -> None:
    with pytest.raises(GradcheckError) as info:
        gradcheck(lambda v: v[0].relu(), [0.0])
    message = str(info.value)
    assert "op 'relu' is at its kink (input 0 = 0.0)" in message
    assert "check this op's derivative rule" not in message
