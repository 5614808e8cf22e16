"""autograd.show.symbolic.to_sympy: every op's SymPy form, numbers, symbol names, user ops, and that the
formula of a gradient graph is SymPy's derivative of the formula of the graph."""

from __future__ import annotations

import math
import random
import sys
from typing import Any

import pytest
from hypothesis import assume, given, settings

from autograd import Value, define_op, dot, grad, topological_order
from autograd.ops import REGISTRY, Primitive
from autograd.show.symbolic import to_sympy
from autograd.value import record_node
from tests.strategies import NO_DEADLINE, intermediate_values, kink_arguments, programs, run_program

sympy = pytest.importorskip("sympy")

BUILTINS = sorted(name for name, prim in REGISTRY.items() if prim.builtin)
POSITIVE = [0.7, 1.3, 0.4, 1.9, 0.6]  # in the domain of log, sqrt and pow, away from every kink
NEGATIVE = [-0.7, -1.3, -0.4, -1.9, -0.6]  # the other side of the kinks of relu, abs, leaky_relu
CONSTANT = 1.5  # a folded constant that SymPy shows exactly, as 3/2
# Ops whose inputs are not all plain numbers in a smooth region: their own inputs, and whether the
# gradient graph holds constants valid on one piece only (a kink's side, the selected index).
# heaviside is left out at 0: there SymPy's derivative is DiracDelta(0), a spike with no float value,
# where the engine's rule says 0 (test_heavisides_formula_... checks that point on its own).
SPECIAL_INPUTS = {"select": [[1.0, 0.7, 1.3, 0.4, 1.9], [3.0, 0.7, 1.3, 0.4, 1.9]], "heaviside": [POSITIVE, NEGATIVE]}
PIECEWISE = {name for name, prim in REGISTRY.items() if prim.kink} | {"select"}


def _symbol(name: str) -> Any:
    return sympy.Symbol(name, real=True)


def _at(expr: Any, point: dict[Any, float]) -> float:
    """``expr`` evaluated with each symbol replaced by the exact value of its float, to 30 digits."""
    exact = {s: sympy.Rational(v) for s, v in point.items()}
    return float(sympy.N(expr.xreplace(exact), 30))


def _close(a: float, b: float, tol: float = 1e-12, scale: float = 1.0) -> bool:
    return abs(a - b) <= tol * max(scale, abs(a), abs(b))


def _apply(prim: Primitive, leaves: list[Value]) -> Value:
    """A node of ``prim`` on ``leaves`` (and CONSTANT if it folds one), recorded as its Value method would."""
    const = CONSTANT if prim.folds_constant else None
    args = [leaf.data for leaf in leaves] + ([CONSTANT] if prim.folds_constant else [])
    out, partials = prim.evaluate(args)
    return record_node(out, prim, tuple(leaves), partials, const)


# --- every built-in op -----------------------------------------------------------------------------


def test_every_builtin_op_has_a_sympy_form() -> None:
    missing = [name for name in BUILTINS if REGISTRY[name].sympy is None]
    assert not missing, f"give these ops a sympy= form in autograd/ops.py: {missing}"


@pytest.mark.parametrize("name", BUILTINS)
def test_each_builtin_op_converts_and_its_gradient_graph_is_sympys_derivative(name: str) -> None:
    prim = REGISTRY[name]
    arity = prim.arity if prim.arity is not None else 5  # dot: (w0, x0, w1, x1, bias)
    for values in SPECIAL_INPUTS.get(name, [POSITIVE, NEGATIVE] if prim.kink else [POSITIVE]):
        leaves = [Value(v, label=f"a{i}") for i, v in enumerate(values[:arity])]
        syms = [_symbol(f"a{i}") for i in range(arity)]
        point = dict(zip(syms, values))
        y = _apply(prim, leaves)
        Y = to_sympy(y)
        assert Y.free_symbols == set(syms), f"{name}: {Y}"
        assert not Y.atoms(sympy.core.function.AppliedUndef), f"{name}: an undefined function in {Y}"
        assert _close(_at(Y, point), y.data), f"{name}: {Y} at {values} is not {y.data}"
        for leaf, s, g in zip(leaves, syms, grad(y, leaves, create_graph=True)):
            D = to_sympy(g)
            expected = sympy.diff(Y, s)
            assert _close(_at(D, point), g.data), f"{name}: d/d{leaf.label} {D} is not {g.data}"
            assert _close(_at(D, point), _at(expected, point)), f"{name}: d/d{leaf.label}: {D} vs {expected}"
            if name in PIECEWISE:
                continue  # the gradient graph holds the slope of one piece (a side of a kink): equal there only
            if sympy.simplify(D - expected) != 0:
                # a rule may bake in a float (d/dx of 1.5**x has log(1.5) as a float): compare at other points
                rng = random.Random(name)
                for _ in range(3):
                    other = {t: rng.uniform(0.3, 2.0) for t in syms}
                    assert _close(_at(D, other), _at(expected, other)), f"{name}: d/d{leaf.label}: {D} vs {expected}"


def test_the_documented_forms_of_relu_sigmoid_leaky_relu_abs_and_dot() -> None:
    x, w0, w1, b = (Value(v, label=n) for v, n in [(0.5, "x"), (2.0, "w0"), (3.0, "w1"), (1.0, "b")])
    X, W0, W1, B = (_symbol(n) for n in ("x", "w0", "w1", "b"))
    assert to_sympy(x.relu()) == sympy.Piecewise((X, X > 0), (0, True))
    assert to_sympy(x.sigmoid()) == 1 / (1 + sympy.exp(-X))
    assert to_sympy(abs(x)) == sympy.Abs(X)
    assert to_sympy(x.leaky_relu(0.25)) == sympy.Piecewise((X, X > 0), (X / 4, True))
    assert to_sympy(dot([w0, w1], [x, x], b)) == B + W0 * X + W1 * X
    assert to_sympy(dot([w0, w1], [x, 2.0])) == W0 * X + W1 * _symbol("_0")


# --- numbers ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("c", "expected"),
    [
        (2.0, sympy.Integer(2)),
        (2, sympy.Integer(2)),
        (-3.0, sympy.Integer(-3)),
        (0.5, sympy.Rational(1, 2)),
        (0.375, sympy.Rational(3, 8)),
        (1.0 / 1024, sympy.Rational(1, 1024)),
        (2.0**60, sympy.Float(2.0**60)),
        (math.inf, sympy.oo),
        (-math.inf, -sympy.oo),
    ],
)
def test_folded_constants_are_exact_where_short(c: float, expected: Any) -> None:
    x = Value(1.0, label="x")
    out = to_sympy(x + c)
    assert out - _symbol("x") == expected
    assert type(out - _symbol("x")) is type(expected)


def test_other_floats_are_53_bit_floats_holding_the_exact_value() -> None:
    x = Value(1.0, label="x")
    term = to_sympy(x * 0.1).coeff(_symbol("x"))
    assert isinstance(term, sympy.Float)
    assert str(term) == "0.100000000000000"
    assert sympy.Rational(term) == sympy.Rational(0.1)  # the float itself, not the decimal 1/10
    assert to_sympy(x * math.nan).has(sympy.nan)
    assert to_sympy(x ** 2.0) == _symbol("x") ** 2
    assert to_sympy(x ** 0.5) == sympy.sqrt(_symbol("x"))


# --- symbols --------------------------------------------------------------------------------------------


def test_unlabelled_leaves_are_numbered_in_topological_order_with_names_no_label_becomes() -> None:
    a, b, c = Value(1.0), Value(2.0, label="_1"), Value(3.0)
    out = to_sympy(c * a + b)
    assert out == _symbol("_0") * _symbol("_1") + _symbol("_1_")  # c is met first; the label _1 is escaped
    assert all(s.is_real for s in out.free_symbols)
    assert to_sympy(a * c, symbols={a: "_0"}) == _symbol("_0") * _symbol("_1")  # skips a name given in symbols=


def test_two_leaves_with_one_label_are_refused() -> None:
    a, b = Value(1.0, label="w"), Value(2.0, label="w")
    with pytest.raises(ValueError, match=r"two different leaves are labelled 'w'"):
        to_sympy(a + b)
    assert to_sympy(a + b, symbols={b: "v"}) == _symbol("w") + _symbol("v")
    assert to_sympy(a + a) == 2 * _symbol("w")  # one leaf used twice is fine


def test_symbols_mapping_names_leaves_and_interior_nodes() -> None:
    x, y = Value(2.0, label="x"), Value(3.0)
    z = x * y
    theta = sympy.Symbol("theta", positive=True)
    assert to_sympy(z + 1.0, symbols={x: theta, y: "y"}) == theta * _symbol("y") + 1
    assert to_sympy(z + 1.0, symbols={y: 4}) == 4 * _symbol("x") + 1
    assert to_sympy((z + 1.0).tanh(), symbols={z: "z"}) == sympy.tanh(_symbol("z") + 1)
    assert to_sympy(z, symbols={Value(5.0): "unused"}) == _symbol("x") * _symbol("_0")
    same = _symbol("s")
    assert to_sympy(x + y, symbols={x: same, y: same}) == 2 * same  # merging on purpose is allowed
    with pytest.raises(ValueError, match=r"leaf labelled 'x' would share its symbol"):
        to_sympy(x + y, symbols={y: "x"})
    with pytest.raises(TypeError, match=r"must be a SymPy expression, a name or a real number, got list"):
        to_sympy(x + y, symbols={y: [1]})
    with pytest.raises(TypeError, match=r"needs a Value"):
        to_sympy(x + y, symbols={"x": "y"})  # type: ignore[dict-item]


def test_unlabelled_number_writes_constant_leaves_as_numbers() -> None:
    x = Value(3.0, label="x")
    y = dot([x], [Value(0.5)], Value(2.0))
    assert to_sympy(y) == _symbol("x") * _symbol("_0") + _symbol("_1")
    assert to_sympy(y, unlabelled="number") == _symbol("x") / 2 + 2
    with pytest.raises(ValueError, match=r"unlabelled must be 'symbol' or 'number'"):
        to_sympy(y, unlabelled="numbers")  # type: ignore[arg-type]


def test_refuses_a_non_value() -> None:
    with pytest.raises(TypeError, match=r"to_sympy\(\) needs a Value, got float"):
        to_sympy(3.0)  # type: ignore[arg-type]


# --- gradients as formulas ---------------------------------------------------------------------------


def test_gradient_graphs_read_as_derivatives_of_any_order() -> None:
    x = Value(0.5, label="x")
    X = _symbol("x")
    y = x**3 + 2 * x
    (d1,) = grad(y, [x], create_graph=True)
    (d2,) = grad(d1, [x], create_graph=True)
    assert to_sympy(d1) == 3 * X**2 + 2
    assert sympy.expand(to_sympy(d2)) == 6 * X
    s = x.sigmoid()
    (ds,) = grad(s, [x], create_graph=True)
    sig = 1 / (1 + sympy.exp(-X))
    assert sympy.simplify(to_sympy(ds) - sig * (1 - sig)) == 0


@pytest.mark.parametrize("name", BUILTINS)
def test_each_ops_gradient_graph_holds_only_the_users_leaves_and_reads_as_the_derivative(name: str) -> None:
    """Leaves labelled x0, x1, ...: the names the seed of a gradient graph once took, so a seed
    leaf (or a generated name equal to a label) shows as a wrong formula, and as a stray leaf."""
    prim = REGISTRY[name]
    arity = prim.arity if prim.arity is not None else 5
    points = SPECIAL_INPUTS.get(name, [POSITIVE, NEGATIVE, [0.0] * 5] if prim.kink else [POSITIVE])
    for values in points:
        leaves = [Value(v, label=f"x{i}") for i, v in enumerate(values[:arity])]
        syms = [_symbol(f"x{i}") for i in range(arity)]
        point = dict(zip(syms, values))
        y = _apply(prim, leaves)
        Y = to_sympy(y)
        for seed in (1.0, -2.5):
            for s, g in zip(syms, grad(y, leaves, grad_output=seed, create_graph=True)):
                stray = [n for n in topological_order(g) if n.is_leaf and n not in leaves]
                assert stray in ([], [g]), f"{name}: d/d{s} has leaves that are not inputs: {stray}"
                if stray:  # a gradient that depends on no input is one constant leaf
                    assert g.const == g.data
                D = to_sympy(g)
                assert D.free_symbols <= set(syms), f"{name}: d/d{s} = {D}"
                expected = seed * sympy.diff(Y, s)
                assert _close(_at(D, point), g.data), f"{name}: d/d{s} {D} is not {g.data}"
                assert _close(_at(expected, point), g.data), f"{name}: d/d{s}: SymPy's {expected} is not {g.data}"
                if name not in PIECEWISE and seed == 1.0:
                    assert sympy.simplify(D - expected) == 0 or all(
                        _close(_at(D, other), _at(expected, other))
                        for other in ({t: 0.3 + 0.4 * k + 0.1 * j for j, t in enumerate(syms)} for k in range(3))
                    ), f"{name}: d/d{s}: {D} vs {expected}"


def test_the_issues_example_reads_as_its_derivative() -> None:
    a, b = Value(2.0, label="a"), Value(-3.0, label="b")
    A, B = _symbol("a"), _symbol("b")
    y = a * b + b**2
    da, db = grad(y, [a, b], create_graph=True)
    assert to_sympy(da) == B == sympy.diff(to_sympy(y), A)
    assert to_sympy(db) == A + 2 * B == sympy.diff(to_sympy(y), B)
    x0, x1 = Value(2.0, label="x0"), Value(-3.0, label="x1")
    (d0,) = grad(x0 * x1 + x1**2, [x0], create_graph=True)
    assert to_sympy(d0) == _symbol("x1")  # once x0*x1: the seed took the name x0
    assert {n for n in topological_order(d0) if n.is_leaf} == {x1}
    (h,) = grad(d0, [x1])
    assert h.data == 1.0


def test_constant_gradients_are_constant_leaves_read_as_numbers() -> None:
    a, b = Value(2.0, label="a"), Value(-3.0, label="b")
    y = a * b
    for g, number in [(grad(a + b, [a], create_graph=True)[0], 1),
                      (grad(y, [y], create_graph=True)[0], 1),
                      (grad(y, [y], grad_output=2.5, create_graph=True)[0], sympy.Rational(5, 2)),
                      (grad(a * 3.0, [b], create_graph=True)[0], 0),
                      (grad(y, [a])[0], -3)]:
        assert g.is_leaf and g.const == g.data
        assert to_sympy(g) == number
    assert to_sympy(Value(1.0)) == _symbol("_0")  # an ordinary leaf is still a symbol


def test_generated_names_never_equal_a_label_even_one_only_in_the_original_graph() -> None:
    a, b = Value(2.0, label="_0"), Value(3.0)
    y = a * b
    assert to_sympy(y) == _symbol("_0_") * _symbol("_0")
    (da,) = grad(y, [a], create_graph=True)  # b alone: unlabelled, numbered _0, which a's label is not
    names = {s.name for s in to_sympy(da).free_symbols}
    assert names == {"_0"} and to_sympy(a).name == "_0_"
    c = Value(1.0, label="x0")
    (dc,) = grad(c * b, [c], create_graph=True)
    assert {s.name for s in to_sympy(dc).free_symbols} == {"_0"}  # not x0, c's label


@pytest.mark.parametrize("label", ["E", "I", "pi", "oo", "N", "S", "nan", "Q", "lambda"])
def test_labels_that_are_sympys_own_names_stay_symbols_in_print_too(label: str) -> None:
    e = to_sympy(Value(1.0, label=label) * 2)
    assert len(e.free_symbols) == 1
    (s,) = e.free_symbols
    assert s.name == label + "_"
    assert str(e) == f"2*{label}_"
    back = sympy.sympify(str(e))  # reads back as a symbol, not as SymPy's constant or function
    assert back.free_symbols == {sympy.Symbol(label + "_")}
    if label == "E":
        assert e != 2 * sympy.E and str(e) != str(2 * sympy.E)


def test_a_label_and_its_escaped_form_are_refused_as_one_symbol() -> None:
    a, b = Value(1.0, label="E"), Value(2.0, label="E_")
    with pytest.raises(ValueError, match=r"labelled 'E' and 'E_' would both be the symbol 'E_'"):
        to_sympy(a + b)
    assert to_sympy(a + b, symbols={b: "e2"}) == _symbol("E_") + _symbol("e2")


def test_relus_formula_has_the_engines_derivative_at_the_kink() -> None:
    for v in (0.0, 0.5, -0.5):
        x = Value(v, label="x")
        X = _symbol("x")
        y = x.relu()
        (g,) = grad(y, [x])
        assert float(sympy.diff(to_sympy(y), X).subs(X, v)) == g.data  # 0 at 0, where Max's would be 1/2
        assert float(to_sympy(y).subs(X, v)) == y.data


def test_heavisides_formula_is_one_at_zero_and_its_derivative_is_zero_away_from_it() -> None:
    X = _symbol("x")
    for v in (0.0, -0.0, 0.5, -0.5):
        x = Value(v, label="x")
        y = x.heaviside()
        (g,) = grad(y, [x])
        assert to_sympy(y) == sympy.Heaviside(X, 1)
        assert float(to_sympy(y).subs(X, v)) == y.data == (1.0 if v >= 0 else 0.0)
        assert g.data == 0.0
        if v != 0.0:  # at 0 SymPy's derivative is DiracDelta(0); the engine's rule is 0 there too
            assert float(sympy.diff(to_sympy(y), X).subs(X, v)) == g.data


# --- user ops ----------------------------------------------------------------------------------------------


def test_a_user_op_without_a_sympy_form_is_an_undefined_function() -> None:
    f: Any = define_op("symbolic_test_cube", lambda x: x**3, lambda x: (3 * x * x,))
    g: Any = define_op("symbolic_test_mix", lambda a, b: a * b + a, lambda a, b: (b + 1.0, a))
    x, y = Value(0.5, label="x"), Value(2.0, label="y")
    F, G = sympy.Function("symbolic_test_cube"), sympy.Function("symbolic_test_mix")
    X, Y = _symbol("x"), _symbol("y")
    assert to_sympy(f(x) + 1.0) == F(X) + 1
    assert to_sympy(g(x, y.exp())) == G(X, sympy.exp(Y))
    assert to_sympy(g(x, 3.0), unlabelled="number") == G(X, 3)  # define_op made the 3.0 a leaf


def test_a_user_op_with_a_sympy_form_uses_it_and_differentiates() -> None:
    mysin: Any = define_op("symbolic_test_sin", math.sin, lambda x: (mycos(x),), sympy=lambda x: sympy.sin(x))
    mycos: Any = define_op("symbolic_test_cos", math.cos, lambda x: (-mysin(x),), sympy=lambda x: sympy.cos(x))
    x = Value(0.3, label="x")
    X = _symbol("x")
    y = mysin(x * x)
    assert to_sympy(y) == sympy.sin(X**2)
    (dy,) = grad(y, [x], create_graph=True)
    assert sympy.simplify(to_sympy(dy) - sympy.diff(sympy.sin(X**2), X)) == 0


# --- big graphs, sharing ------------------------------------------------------------------------------------


def test_a_deep_graph_converts_without_recursion() -> None:
    x = Value(0.0, label="x")
    y = x
    for i in range(10_000):
        y = y + 1.0 if i % 2 else y - 0.25
    assert to_sympy(y) == _symbol("x") + 3750  # 10^4 nodes deep, a flat formula
    assert sys.getrecursionlimit() < 10_000


def test_shared_nodes_are_converted_once() -> None:
    calls = []

    def form(e: Any) -> Any:
        calls.append(e)
        return sympy.Function("h")(e)

    h: Any = define_op("symbolic_test_counted", math.sin, lambda x: (math.cos(x),), sympy=form)
    x = Value(0.1, label="x")
    y = h(x)
    for _ in range(200):  # 2**200 paths from the root to x: only a walk that shares can finish
        y = y + y
    assert to_sympy(y) == 2**200 * sympy.Function("h")(_symbol("x"))
    assert len(calls) == 1


def test_without_sympy_the_error_says_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "sympy", None)  # `import sympy` now raises ImportError
    with pytest.raises(ImportError, match=r'pip install "valuegrad\[sympy\]"'):
        to_sympy(Value(1.0))


# --- random programs -------------------------------------------------------------------------------------------


def _with_user_forms(expr: Any) -> Any:
    """The strategies' user ops (defined without SymPy forms) replaced by what they compute."""
    a, b = sympy.Dummy("a"), sympy.Dummy("b")
    return (
        expr.replace(sympy.Function("strategies_sin"), sympy.sin)
        .replace(sympy.Function("strategies_cos"), sympy.cos)
        .replace(sympy.Function("strategies_affine"), sympy.Lambda((a, b), a * b + a))
    )


@settings(NO_DEADLINE, max_examples=25)
@given(programs())
def test_random_programs_gradient_graphs_are_sympys_derivatives(case: tuple[list[float], Any]) -> None:
    inputs, program = case
    values = intermediate_values(program, inputs)
    assume(all(math.isfinite(v) and abs(v) < 1e6 for v in values))
    assume(all(abs(k) > 1e-9 for k in kink_arguments(program, inputs)))  # a branch SymPy and floats agree on
    scale = max(1.0, *(abs(v) for v in values))
    leaves = [Value(x, label=f"a{i}") for i, x in enumerate(inputs)]
    syms = [_symbol(f"a{i}") for i in range(len(inputs))]
    point = dict(zip(syms, inputs))
    y = run_program(program, leaves)
    Y = _with_user_forms(to_sympy(y, unlabelled="number"))
    assert _close(_at(Y, point), y.data, scale=scale), f"{Y} is not {y.data}"
    for s, g in zip(syms, grad(y, leaves, create_graph=True)):
        D = _with_user_forms(to_sympy(g, unlabelled="number"))
        here = _at(D, point)
        assert _close(here, g.data, scale=scale), f"d/d{s}: {D} is not {g.data}"
        assert _close(here, _at(sympy.diff(Y, s), point), scale=scale), f"d/d{s}: {D} is not d/d{s} {Y}"
