"""``Value`` as data: attributes, constant folding, repr, identity semantics, slots, bad input."""

from __future__ import annotations

import math
from collections.abc import Callable
from fractions import Fraction
from typing import Any

import pytest

from autograd import Value, dot

# --- attributes and structure ---------------------------------------------------------------


def test_leaf_attributes() -> None:
    a = Value(3, label="a")
    assert type(a.data) is float and a.data == 3.0
    assert a.grad == 0.0
    assert a.label == "a"
    assert a.op == ""
    assert a.parents == ()
    assert a.local_grads == ()
    assert a.is_leaf


def test_product_records_the_very_parents_and_float_local_gradients() -> None:
    a, b = Value(2.0), Value(-3.0)
    c = a * b
    assert c.parents == (a, b)
    assert c.parents[0] is a and c.parents[1] is b
    assert c.local_grads == (b.data, a.data) == (-3.0, 2.0)
    assert all(type(g) is float for g in c.local_grads)
    assert c.op == "*"
    assert c.data == -6.0
    assert not c.is_leaf


def test_parents_are_in_argument_order() -> None:
    a, b = Value(5.0), Value(7.0)
    d = b - a
    assert d.parents == (b, a)
    assert d.local_grads == (1.0, -1.0)
    q = b / a
    assert q.parents == (b, a)
    assert q.local_grads == (1 / 5.0, -(7.0 / 5.0) / 5.0)


@pytest.mark.parametrize(
    ("build", "op", "data", "local"),
    [
        (lambda a: a * 2, "*", 6.0, 2.0),
        (lambda a: 2 * a, "*", 6.0, 2.0),
        (lambda a: a + 2, "+", 5.0, 1.0),
        (lambda a: 2 + a, "+", 5.0, 1.0),
        (lambda a: a - 2, "-", 1.0, 1.0),
        (lambda a: 2 - a, "-", -1.0, -1.0),
        (lambda a: a / 2, "/", 1.5, 0.5),
        (lambda a: 2 / a, "2/", 2 / 3, -(2 / 3) / 3),
        (lambda a: a**2, "**2", 9.0, 6.0),
        (lambda a: a**0.5, "**0.5", math.sqrt(3.0), 0.5 * 3.0**-0.5),
        (lambda a: a**-1, "**-1", 1 / 3, -1 / 9),
        (lambda a: 2**a, "2**", 8.0, 8.0 * math.log(2.0)),
        (lambda a: 0.5**a, "0.5**", 0.125, 0.125 * math.log(0.5)),
        (lambda a: 1.5 / a, "1.5/", 0.5, -0.5 / 3),
    ],
    ids=["a*2", "2*a", "a+2", "2+a", "a-2", "2-a", "a/2", "2/a", "a**2", "a**0.5", "a**-1", "2**a", "0.5**a", "1.5/a"],
)
def test_constants_are_folded_into_a_single_parent(
    build: Callable[[Value], Value], op: str, data: float, local: float
) -> None:
    a = Value(3.0)
    out = build(a)
    assert out.parents == (a,)
    assert out.op == op
    assert out.data == pytest.approx(data, rel=1e-15)
    assert out.local_grads == pytest.approx((local,), rel=1e-15)


def test_folded_constant_gradient_is_the_constant() -> None:
    a = Value(3.0)
    out = a * 2
    assert out.local_grads == (2.0,)
    out.backward()
    assert a.grad == 2.0


def test_unary_ops_have_one_parent_and_their_name() -> None:
    a = Value(0.5)
    for op, out in [
        ("neg", -a),
        ("abs", abs(a)),
        ("exp", a.exp()),
        ("log", a.log()),
        ("sqrt", a.sqrt()),
        ("tanh", a.tanh()),
        ("sigmoid", a.sigmoid()),
        ("relu", a.relu()),
        ("softplus", a.softplus()),
        ("leaky_relu", a.leaky_relu(0.1)),
    ]:
        assert out.op == op
        assert out.parents == (a,)
        assert len(out.local_grads) == 1


def test_unary_plus_is_the_value_itself() -> None:
    a = Value(1.0)
    assert +a is a


def test_value_power_value_has_two_parents() -> None:
    a, b = Value(2.0), Value(3.0)
    c = a**b
    assert c.op == "**"
    assert c.parents == (a, b)
    assert c.local_grads == (3.0 * 4.0, 8.0 * math.log(2.0))


# --- repr, identity, slots, labels ------------------------------------------------------------


def test_repr_shows_data_grad_op_and_label() -> None:
    a, b = Value(2.0, label="a"), Value(-3.0, label="b")
    e = a * b
    e.label = "e"
    e.backward()
    assert repr(e) == "Value(data=-6.0, grad=1.0, op='*', label='e')"
    assert repr(a) == "Value(data=2.0, grad=-3.0, label='a')"
    assert repr(Value(1)) == "Value(data=1.0, grad=0.0)"


def test_equality_and_hash_are_by_identity() -> None:
    a, b = Value(1.0), Value(1.0)
    assert a != b
    assert a == a
    assert hash(a) != hash(b)
    assert len({a, b, a}) == 2
    table = {a: "a", b: "b"}
    assert table[a] == "a" and table[b] == "b"


def test_values_use_slots_and_have_no_dict() -> None:
    a = Value(1.0)
    assert not hasattr(a, "__dict__")
    with pytest.raises(AttributeError):
        a.colour = "red"  # type: ignore[attr-defined]
    assert set(Value.__slots__) >= {"data", "grad", "label", "primitive", "parents", "local_grads"}
    assert a.op == "" and a.const is None  # derived from the slots: the op record and a folded constant


def test_label_is_settable() -> None:
    a = Value(1.0)
    assert a.label == ""
    a.label = "weight"
    assert a.label == "weight"
    assert "label='weight'" in repr(a)


def test_detach_returns_a_new_leaf_with_the_same_data() -> None:
    a = Value(2.0)
    b = a * a
    d = b.detach()
    assert d is not b
    assert d.data == 4.0
    assert d.parents == () and d.local_grads == () and d.op == ""
    assert d.is_leaf
    (d * 3).backward()
    assert d.grad == 3.0
    assert a.grad == 0.0, "nothing flows through a detached value"


def test_is_leaf() -> None:
    a = Value(1.0)
    assert a.is_leaf
    assert not (a + 1).is_leaf
    assert not (a + a).is_leaf


# --- numbers accepted -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("number", "expected"),
    [(3, 3.0), (-2.5, -2.5), (True, 1.0), (Fraction(1, 4), 0.25), (math.inf, math.inf), (0, 0.0)],
)
def test_real_numbers_are_stored_as_float(number: Any, expected: float) -> None:
    v = Value(number)
    assert type(v.data) is float
    assert v.data == expected


def test_nan_data_is_allowed() -> None:
    assert math.isnan(Value(math.nan).data)


# --- NumPy scalars ------------------------------------------------------------------------------


@pytest.fixture
def np() -> Any:
    """NumPy, or skip: the engine never needs it, these tests only check it is accepted."""
    return pytest.importorskip("numpy")


NUMPY_SCALARS = ["float64", "float32", "int64", "int32", "float16"]


@pytest.mark.parametrize("kind", NUMPY_SCALARS)
def test_numpy_scalars_are_accepted_as_data(np: Any, kind: str) -> None:
    v = Value(getattr(np, kind)(2))
    assert type(v.data) is float
    assert v.data == 2.0


@pytest.mark.parametrize("kind", NUMPY_SCALARS)
@pytest.mark.parametrize(
    ("name", "build", "data", "grad"),
    [
        ("n * v", lambda n, v: n * v, 6.0, 2.0),
        ("v * n", lambda n, v: v * n, 6.0, 2.0),
        ("n + v", lambda n, v: n + v, 5.0, 1.0),
        ("v + n", lambda n, v: v + n, 5.0, 1.0),
        ("n - v", lambda n, v: n - v, -1.0, -1.0),
        ("v - n", lambda n, v: v - n, 1.0, 1.0),
        ("n / v", lambda n, v: n / v, 2 / 3, -2 / 9),
        ("v / n", lambda n, v: v / n, 1.5, 0.5),
        ("n ** v", lambda n, v: n**v, 8.0, 8.0 * math.log(2.0)),
        ("v ** n", lambda n, v: v**n, 9.0, 6.0),
    ],
)
def test_numpy_scalars_work_as_operands_on_either_side(
    np: Any, kind: str, name: str, build: Callable[[Any, Value], Any], data: float, grad: float
) -> None:
    v = Value(3.0)
    out = build(getattr(np, kind)(2), v)
    assert isinstance(out, Value), f"{name} with numpy.{kind} returned {type(out).__name__}"
    assert out.const == 2.0 and type(out.const) is float  # folded as a plain float
    assert type(out.data) is float
    assert out.parents == (v,)
    assert out.data == pytest.approx(data, rel=1e-15)
    out.backward()
    assert v.grad == pytest.approx(grad, rel=1e-15)


# --- bad input ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("bad", "type_name"),
    [("a", "str"), (None, "NoneType"), ([1], "list"), (1j, "complex"), (object(), "object"), ((1.0,), "tuple")],
)
def test_non_numbers_are_rejected_naming_the_type(bad: Any, type_name: str) -> None:
    with pytest.raises(TypeError, match=rf"Value\(\) takes a real number .*got {type_name}\b"):
        Value(bad)


def test_value_of_a_value_is_rejected_with_a_hint() -> None:
    with pytest.raises(TypeError, match=r"got Value.*detach\(\)"):
        Value(Value(1.0))


def test_numpy_array_is_rejected(np: Any) -> None:
    with pytest.raises(TypeError, match="ndarray"):
        Value(np.array([1.0, 2.0]))


def test_label_must_be_a_string() -> None:
    with pytest.raises(TypeError, match="label must be a str, got int"):
        Value(1.0, label=3)  # type: ignore[arg-type]


BINARY: list[tuple[str, Callable[[Any, Any], Any]]] = [
    ("+", lambda x, y: x + y),
    ("-", lambda x, y: x - y),
    ("*", lambda x, y: x * y),
    ("/", lambda x, y: x / y),
    ("**", lambda x, y: x**y),
]


@pytest.mark.parametrize(("symbol", "op"), BINARY, ids=[b[0] for b in BINARY])
@pytest.mark.parametrize("bad", ["a", None, [1.0], 1j, object()], ids=["str", "None", "list", "complex", "object"])
def test_mixing_a_value_with_a_non_number_raises_type_error(
    symbol: str, op: Callable[[Any, Any], Any], bad: Any
) -> None:
    v = Value(2.0)
    for left, right in [(v, bad), (bad, v)]:
        if symbol == "*" and isinstance(bad, list):
            continue  # list * Value is sequence repetition; checked separately below
        with pytest.raises(TypeError) as info:
            op(left, right)
        assert "Value" in str(info.value)


def test_sequence_repetition_by_a_value_is_rejected() -> None:
    with pytest.raises(TypeError, match="Value"):
        [1.0] * Value(2.0)  # type: ignore[operator]
    with pytest.raises(TypeError, match="Value"):
        "a" * Value(2.0)  # type: ignore[operator]


def test_pow_with_modulus_is_rejected() -> None:
    with pytest.raises(TypeError, match="modulus"):
        pow(Value(2.0), 3, 5)  # type: ignore[misc]


@pytest.mark.parametrize("slope", ["x", None, [0.1], 1j])
def test_leaky_relu_slope_must_be_a_number(slope: Any) -> None:
    with pytest.raises(TypeError, match=rf"slope must be a real number, got {type(slope).__name__}"):
        Value(1.0).leaky_relu(slope)


def test_leaky_relu_accepts_an_int_slope() -> None:
    out = Value(-2.0).leaky_relu(1)
    assert out.data == -2.0 and out.local_grads == (1.0,)


@pytest.mark.parametrize("grad", ["x", None, Value(1.0), [1.0]])
def test_backward_grad_must_be_a_number(grad: Any) -> None:
    with pytest.raises(TypeError, match=rf"grad must be a real number, got {type(grad).__name__}"):
        (Value(1.0) * 2).backward(grad=grad)


def test_dot_rejects_mismatched_lengths() -> None:
    with pytest.raises(ValueError, match="2 weights and 3 inputs"):
        dot([Value(1.0), Value(2.0)], [1.0, 2.0, 3.0])


def test_dot_rejects_non_value_weights_and_bias() -> None:
    with pytest.raises(TypeError, match="weights must be Values, got float"):
        dot([1.0], [Value(1.0)])  # type: ignore[list-item]
    with pytest.raises(TypeError, match="bias must be a Value or None, got float"):
        dot([Value(1.0)], [1.0], 0.5)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="got str"):
        dot([Value(1.0)], ["x"])  # type: ignore[list-item]


def test_empty_dot_is_a_zero_leaf_and_bias_only_dot_passes_the_bias_through() -> None:
    from autograd import dot

    empty = dot([], [])
    assert empty.data == 0.0 and empty.is_leaf and empty.op == ""
    b = Value(0.25)
    only_bias = dot([], [], b)
    assert only_bias.parents == (b,) and only_bias.local_grads == (1.0,) and only_bias.data == 0.25


# --- Python's protocols: truth, comparisons, float(), copies and pickles -----------------------


@pytest.mark.parametrize(("x", "truth"), [(0.0, False), (-0.0, False), (2.5, True), (-1.0, True), (math.nan, True)])
def test_truth_follows_the_data_like_a_one_element_tensor(x: float, truth: bool) -> None:
    assert bool(Value(x)) is truth
    assert bool(Value(x) * 1.0) is truth  # interior nodes too: `if loss:` reads the loss


def test_comparisons_read_the_data_and_equality_stays_identity() -> None:
    a, b = Value(1.0), Value(2.0)
    assert a < b and a <= 1 and b > 1.5 and b >= b and not (a > 1) and a > 0
    assert sorted([b, a]) == [a, b]
    assert Value(1.0) != Value(1.0) and a == a and len({a, Value(1.0)}) == 2
    with pytest.raises(TypeError):
        assert a < "x"  # type: ignore[operator]


def test_float_of_a_value_is_refused_so_math_functions_cannot_drop_it() -> None:
    with pytest.raises(TypeError, match=r"use v.data for the number"):
        float(Value(1.0))
    with pytest.raises(TypeError, match=r"use v.data"):
        math.sin(Value(1.0))


def test_deepcopy_and_pickle_of_a_100000_node_chain() -> None:
    import copy
    import pickle

    x = Value(0.5, label="x")
    y = x
    for _ in range(50_000):  # 100,000 nodes
        y = y * 1.0000001 + 0.5
    x.grad = 3.0
    clones = [copy.deepcopy(y), pickle.loads(pickle.dumps(y))]
    y.backward()
    for clone in clones:
        assert clone is not y and clone.data == y.data and clone.op == y.op and clone.const == y.const
        leaf = clone
        while leaf.parents:
            leaf = leaf.parents[0]
        assert leaf is not x and leaf.label == "x" and leaf.grad == 3.0
        clone.backward()
        assert leaf.grad == x.grad == pytest.approx(3.0 + 1.0000001**50_000, rel=1e-9)  # the same pass, bit for bit


def test_deepcopy_keeps_sharing_and_pickle_keeps_every_attribute() -> None:
    import copy
    import pickle

    from autograd import trace_origins

    with trace_origins():
        a = Value(2.0, label="a")
        b = (a * a + a.leaky_relu(0.2)).tanh()
    for clone in (copy.deepcopy(b), pickle.loads(pickle.dumps(b))):
        mul = clone.parents[0].parents[0]
        assert mul.parents[0] is mul.parents[1]  # a shared node stays one node
        assert clone.origin == b.origin and clone.parents[0].parents[1].const == 0.2
        assert [n.primitive for n in (clone, mul)] == [b.primitive, b.parents[0].parents[0].primitive]
    pair = copy.deepcopy([a, b])  # one memo: the copies share the copied leaf
    assert pair[1].parents[0].parents[0].parents[0] is pair[0]
