"""Recording switches: no_grad, detect_anomaly, trace_origins."""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable

import pytest

from autograd import AnomalyError, Value, detect_anomaly, is_grad_enabled, no_grad, trace_origins
from autograd.modes import MODE


def _next_line() -> str:
    """``'this_file.py:N'`` for the line after the caller's."""
    frame = inspect.currentframe()
    assert frame is not None and frame.f_back is not None
    return f"{frame.f_back.f_code.co_filename}:{frame.f_back.f_lineno + 1}"


@pytest.fixture(autouse=True)
def _modes_are_off_around_each_test() -> None:
    assert MODE.plain and MODE.grad_enabled and not MODE.anomaly and not MODE.origins


# --- no_grad -------------------------------------------------------------------------------------


def test_no_grad_computes_data_but_records_no_parents() -> None:
    x = Value(3.0)
    with no_grad():
        assert not is_grad_enabled()
        y = x * 2 + x.tanh()
    assert y.data == 6.0 + math.tanh(3.0)
    assert y.parents == () and y.local_grads == () and y.op == ""
    assert y.is_leaf
    y.backward()
    assert x.grad == 0.0 and y.grad == 1.0


def test_recording_resumes_after_no_grad() -> None:
    x = Value(3.0)
    with no_grad():
        pass
    assert is_grad_enabled()
    y = x * x
    assert y.parents == (x, x)


def test_no_grad_as_a_decorator() -> None:
    @no_grad()
    def square(v: Value) -> Value:
        assert not is_grad_enabled()
        return v * v

    x = Value(4.0)
    y = square(x)
    assert y.data == 16.0 and y.parents == ()
    assert is_grad_enabled()
    assert (x * x).parents == (x, x)


def test_no_grad_decorates_without_parentheses() -> None:
    @no_grad
    def evaluate(v: Value) -> tuple[bool, Value]:
        return is_grad_enabled(), v * 3.0

    enabled, y = evaluate(Value(2.0))
    assert enabled is False
    assert y.data == 6.0 and y.parents == ()
    assert is_grad_enabled() is True


def test_no_grad_rejects_a_non_callable_argument() -> None:
    with pytest.raises(TypeError, match=r"no_grad\(\) takes no arguments .* got int"):
        no_grad(3)  # type: ignore[call-overload]


def test_no_grad_decorator_survives_recursion() -> None:
    @no_grad()
    def power(v: Value, n: int) -> Value:
        return v if n == 1 else v * power(v, n - 1)

    y = power(Value(2.0), 5)
    assert y.data == 32.0 and y.parents == ()
    assert is_grad_enabled()


def test_no_grad_nests() -> None:
    with no_grad():
        with no_grad():
            assert not is_grad_enabled()
        assert not is_grad_enabled(), "leaving the inner block keeps the outer one in force"
    assert is_grad_enabled()


def test_no_grad_restores_after_an_exception() -> None:
    with pytest.raises(RuntimeError, match="boom"), no_grad():
        raise RuntimeError("boom")
    assert is_grad_enabled()
    assert MODE.plain


def test_no_grad_decorator_restores_after_an_exception() -> None:
    @no_grad()
    def fail() -> None:
        raise ValueError("bad")

    with pytest.raises(ValueError, match="bad"):
        fail()
    assert is_grad_enabled()


def test_no_grad_dot_and_folded_ops() -> None:
    from autograd import dot

    w, x = Value(2.0), Value(3.0)
    with no_grad():
        outs = [dot([w], [x]), 2 / x, 2**x, x**2, -x, x.leaky_relu()]
    assert [o.parents for o in outs] == [()] * len(outs)
    assert [o.data for o in outs] == [6.0, 2 / 3, 8.0, 9.0, -3.0, 3.0]


# --- detect_anomaly --------------------------------------------------------------------------------


def test_detect_anomaly_is_off_by_default() -> None:
    assert (Value(0.0).log()).data == -math.inf
    y = Value(0.0).sqrt()
    y.backward()


@pytest.mark.parametrize(
    ("name", "op", "x", "bad"),
    [
        ("log", lambda v: v.log(), 0.0, "-inf"),
        ("log", lambda v: v.log(), -1.0, "nan"),
        ("sqrt", lambda v: v.sqrt(), -4.0, "nan"),
        ("exp", lambda v: v.exp(), 1000.0, "inf"),
        ("2/", lambda v: 2 / v, 0.0, "inf"),
        ("**-1", lambda v: v**-1, 0.0, "inf"),
    ],
)
def test_forward_anomaly_names_op_inputs_and_place(name: str, op: Callable[[Value], Value], x: float, bad: str) -> None:
    v = Value(x)
    with detect_anomaly(), pytest.raises(AnomalyError) as info:
        op(v)
    where = f"{__file__}:{op.__code__.co_firstlineno}"  # the op runs inside the lambda
    message = str(info.value)
    assert f"op {name!r}" in message
    assert f"produced {bad}" in message
    assert f"({x!r})" in message or f"({x!r} and the constant " in message
    assert where in message


def test_forward_anomaly_names_both_inputs_of_a_binary_op() -> None:
    a, b = Value(0.0), Value(0.0)
    with detect_anomaly(), pytest.raises(AnomalyError, match=r"op '/' produced nan from finite inputs \(0\.0, 0\.0\)"):
        a / b


def test_forward_anomaly_mentions_a_folded_constant() -> None:
    with (
        detect_anomaly(),
        pytest.raises(AnomalyError, match=r"op '/' produced inf from finite inputs \(1\.0 and the constant 0\.0\)"),
    ):
        Value(1.0) / 0
    with (
        detect_anomaly(),
        pytest.raises(AnomalyError, match=r"op '\*' produced inf from finite inputs \(1e\+308 and the constant 10\.0"),
    ):
        Value(1e308) * 10


def test_non_finite_inputs_are_not_an_anomaly() -> None:
    with detect_anomaly():
        y = Value(math.inf).exp() + 1.0
        z = Value(math.nan) * 2.0
    assert y.data == math.inf and math.isnan(z.data)


def test_backward_anomaly_names_op_inputs_and_creation_place() -> None:
    with detect_anomaly():
        x = Value(0.0)
        where = _next_line()
        y = x.sqrt()  # finite: sqrt(0) = 0, but its gradient is inf
        z = y * 3.0
        with pytest.raises(AnomalyError) as info:
            z.backward()
    message = str(info.value)
    assert "op 'sqrt'" in message
    assert "inputs 0.0" in message
    assert "local gradient inf" in message
    assert where in message


def test_backward_anomaly_for_a_graph_built_outside_the_block() -> None:
    x = Value(0.0)
    y = x.sqrt() * 2.0
    with detect_anomaly(), pytest.raises(AnomalyError, match=r"op 'sqrt'.*created outside detect_anomaly"):
        y.backward()


def test_detect_anomaly_allows_clean_graphs_and_matches_normal_gradients() -> None:
    def run() -> list[float]:
        a, b = Value(0.3), Value(-1.2)
        ((a * b).tanh() + (a * a + 1).log() / b.sigmoid()).backward()
        return [a.grad, b.grad]

    plain = run()
    with detect_anomaly():
        checked = run()
    assert checked == plain


def test_detect_anomaly_as_a_decorator_and_restores() -> None:
    @detect_anomaly()
    def f() -> Value:
        return Value(-1.0).log()

    with pytest.raises(AnomalyError):
        f()
    assert not MODE.anomaly and MODE.plain
    assert math.isnan(Value(-1.0).log().data)


def test_detect_anomaly_inside_no_grad_still_checks() -> None:
    with no_grad(), detect_anomaly(), pytest.raises(AnomalyError, match="'log'"):
        Value(0.0).log()
    assert MODE.plain


def test_anomaly_error_is_an_arithmetic_error() -> None:
    assert issubclass(AnomalyError, ArithmeticError)


# --- trace_origins -------------------------------------------------------------------------------


def test_trace_origins_records_file_and_line() -> None:
    x = Value(1.0)
    with trace_origins():
        where = _next_line()
        y = x * 2.0
        where_leaf = _next_line()
        leaf = Value(5.0)
    assert y.origin == where
    assert leaf.origin == where_leaf
    assert y.origin is not None and y.origin.startswith(__file__)


def test_origins_are_not_recorded_by_default() -> None:
    x = Value(1.0)
    assert x.origin is None
    assert (x * 2.0).origin is None


def test_trace_origins_as_a_decorator() -> None:
    lines: list[str] = []

    @trace_origins()
    def make(v: Value) -> Value:
        lines.append(_next_line())
        return v.exp()

    y = make(Value(0.0))
    assert y.origin == lines[0]
    assert not MODE.origins


# --- anomalies traced to their cause ----------------------------------------------------------------


def test_forward_anomaly_carries_the_new_node_as_surfaced_and_cause() -> None:
    x = Value(0.0)
    with detect_anomaly(), pytest.raises(AnomalyError, match="it started there") as info:
        x.log()
    err = info.value
    assert err.surfaced is err.cause
    assert isinstance(err.cause, Value) and err.cause.op == "log" and err.cause.data == -math.inf
    assert err.cause.parents == (x,)


def test_backward_anomaly_is_traced_forward_to_the_op_that_made_the_nan() -> None:
    with trace_origins():
        x = Value(0.0)
        where = _next_line()
        a = x.log()  # -inf: the cause
        b = a * 0.0  # nan
        w = Value(2.0)
        loss = b * w  # backward notices here: d loss / d w = b = nan
    with detect_anomaly(), pytest.raises(AnomalyError) as info:
        loss.backward()
    err = info.value
    assert err.surfaced is loss and err.cause is a
    message = str(err)
    assert message.startswith("backward through op '*' (inputs nan, 2.0) gave a non-finite gradient")
    assert f"it started at op 'log' (inputs 0.0) -> -inf, created at {where}" in message


def test_an_overflow_built_outside_the_block_is_the_cause() -> None:
    e = Value(1000.0).exp()
    loss = (e - e) * Value(2.0)
    started = r"it started at op 'exp' \(inputs 1000\.0\) -> inf"
    with detect_anomaly(), pytest.raises(AnomalyError, match=started) as info:
        loss.backward()
    assert info.value.cause is e and info.value.surfaced is loss


def test_a_non_finite_local_gradient_is_its_own_cause() -> None:
    x = Value(0.0)
    y = x.sqrt()
    started = r"it started there \(this op's inputs are finite\)"
    with detect_anomaly(), pytest.raises(AnomalyError, match=started) as info:
        (y * 3.0).backward()
    assert info.value.surfaced is y and info.value.cause is y


def test_the_earliest_of_two_causes_is_named() -> None:
    from autograd.backward import first_cause

    first = Value(-1.0).log()  # nan
    second = Value(0.0).log()  # -inf
    # earliest in topological order: the one reached through the first argument
    assert first_cause((second + first) * 2.0) is second
    assert first_cause((first + second) * 2.0) is first
    assert first_cause(Value(1.0) * 2.0).op == "*"  # finite inputs: the node itself
    leaf = Value(math.inf)
    assert first_cause(leaf * 2.0) is leaf
    with pytest.raises(TypeError, match=r"first_cause\(\) needs a Value"):
        first_cause(1.0)  # type: ignore[arg-type]


def test_anomaly_error_without_nodes_still_works() -> None:
    err = AnomalyError("plain")
    assert str(err) == "plain" and err.surfaced is None and err.cause is None
