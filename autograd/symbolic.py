"""``to_sympy``: a computation graph as a SymPy formula, to read, simplify or check by hand.

Every op's record in the registry (``autograd.ops``) carries its SymPy form, so the conversion is
one walk over the graph, parents first, each node converted once (a shared sub-expression is one
SymPy object used wherever the node is). The walk is iterative: a graph may be as deep as memory
allows. SymPy's own algorithms recurse, though, so a *formula* nested thousands of levels deep
(``tanh(tanh(tanh(...)))``) can exceed Python's recursion limit inside SymPy; a long sum or
chain of affine steps stays flat in SymPy and converts fine.

What becomes what:

* **Leaves** become real symbols (``sympy.Symbol(name, real=True)``), named by their label.
  Unlabelled leaves are named ``x0, x1, ...`` in topological order (skipping names that labels
  or ``symbols=`` already use). Two different leaves with the same label raise ``ValueError``
  (they would silently become one symbol); relabel one or name it with ``symbols=``. With
  ``unlabelled="number"`` unlabelled leaves become their values instead: the constant leaves
  in a graph (the seed ``1.0`` of a gradient graph from ``autograd.grad(..., create_graph=True)``,
  constant inputs that ``dot`` or a layer made into leaves) then read as numbers.
* **``symbols=``** maps nodes to what they become: a SymPy expression, a name (a real symbol), or
  a number. It may name interior nodes too: the node then stands for its whole sub-graph, which
  is not converted. Nodes of the mapping that are not in the graph are ignored; several nodes
  may map to the same symbol on purpose.
* **Numbers** (folded constants like the ``2`` in ``x * 2``, and numeric leaves) are exact where
  they can be shown short: a whole number below 2**53 in size is a ``sympy.Integer`` (``2.0`` is
  ``2``); a float that is a fraction with a denominator of at most 1024 is a ``sympy.Rational``
  (``0.5`` is ``1/2``, ``0.375`` is ``3/8``); any other float is a ``sympy.Float`` holding the
  float's exact binary value at 53-bit precision (``0.1`` is ``0.100000000000000``, not the
  exact 55-digit binary fraction). nan and ±inf are ``sympy.nan`` and ``±sympy.oo``.
* **Ops** go through their record's ``sympy`` form: ReLU is ``Max(x, 0)``, sigmoid
  ``1/(1 + exp(-x))``, leaky ReLU a ``Piecewise``, ``dot`` the sum of products. An op without a
  SymPy form (a ``define_op`` op made without ``sympy=``) becomes an undefined function named
  after it, ``sympy.Function(name)(*inputs)``.

SymPy is optional: ``pip install "valuegrad[sympy]"``.

Example:
    >>> from autograd import Value, grad
    >>> x = Value(0.5, label="x")
    >>> y = x ** 3 + 2 * x
    >>> to_sympy(y)
    x**3 + 2*x
    >>> (dy,) = grad(y, [x], create_graph=True)
    >>> to_sympy(dy, unlabelled="number")
    3*x**2 + 2
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterator, Mapping
from fractions import Fraction
from typing import TYPE_CHECKING, Any, Literal

from autograd._extras import install_hint
from autograd.backward import require_value
from autograd.display import name_of

if TYPE_CHECKING:
    from autograd.value import Value

__all__ = ["INSTALL_HINT", "to_sympy"]

INSTALL_HINT = install_hint("sympy")
"""The command that installs the optional SymPy dependency."""

_MAX_DENOMINATOR = 1024  # floats p / 2**k with 2**k up to this are shown as exact fractions
_MAX_INTEGER = 2.0**53  # whole floats below this in size are shown as integers


def _sympy() -> Any:
    """The ``sympy`` module, or an ImportError that says how to install it."""
    try:
        import sympy  # type: ignore[import-untyped]
    except ImportError as e:
        raise ImportError(f"to_sympy() needs SymPy, which is not installed: {INSTALL_HINT}") from e
    return sympy


def to_sympy(
    value: Value,
    symbols: Mapping[Value, Any] | None = None,
    *,
    unlabelled: Literal["symbol", "number"] = "symbol",
) -> Any:
    """The formula that ``value``'s graph computes, as a SymPy expression of its leaves.

    See the module docstring for the rules: leaves become real symbols named by their labels (or
    ``x0, x1, ...``), folded constants exact numbers where short (``2``, ``1/2``) and
    ``sympy.Float`` otherwise, each op its record's SymPy form (an undefined function for an op
    that has none).

    Args:
        value: the graph's output node.
        symbols: optional ``{node: symbol}``; a symbol is a SymPy expression, a name (made a real
            ``sympy.Symbol``) or a real number. A mapped interior node stands for its sub-graph.
        unlabelled: ``"symbol"`` (default) names unlabelled leaves ``x0, x1, ...``;
            ``"number"`` writes their values instead (for constant leaves, such as the seed of a
            gradient graph).

    Returns:
        A SymPy expression (``sympy.Expr``); with a real number for every symbol it evaluates to
        ``value.data`` (to rounding).

    Raises:
        ImportError: SymPy is not installed.
        TypeError: ``value`` is not a Value, or a ``symbols`` entry is neither an expression, a
            name nor a real number.
        ValueError: two different leaves would get the same symbol name (the same label, or a
            label that is also a name given in ``symbols``); ``unlabelled`` is not one of the two.
        RecursionError: SymPy itself recursed too deeply on a formula nested very deeply.

    Example:
        >>> from autograd import Value
        >>> w, x, b = Value(0.5, label="w"), Value(2.0, label="x"), Value(0.1, label="b")
        >>> to_sympy((w * x + b).sigmoid())
        1/(exp(-b - w*x) + 1)
        >>> to_sympy(w * 0.1, symbols={w: "omega"})
        0.1*omega
    """
    sympy = _sympy()
    require_value(value, "to_sympy()")
    if unlabelled not in ("symbol", "number"):
        raise ValueError(f"to_sympy() unlabelled must be 'symbol' or 'number', got {unlabelled!r}")
    given = _given(sympy, symbols or {})
    order = list(_parents_first(value, given))
    names = _leaf_names(sympy, order, given, unlabelled == "symbol")
    exprs: dict[Value, Any] = {}
    for node in order:
        expr = given.get(node)
        if expr is None:
            if not node.parents:
                name = names.get(node)
                expr = sympy.Symbol(name, real=True) if name is not None else _number(sympy, node.data)
            else:
                expr = _apply(sympy, node, [exprs[p] for p in node.parents])
        exprs[node] = expr
    return exprs[value]


def _given(sympy: Any, symbols: Mapping[Value, Any]) -> dict[Value, Any]:
    """``symbols=`` with every entry made a SymPy expression."""
    if not isinstance(symbols, Mapping):
        raise TypeError(f"to_sympy() symbols must be a mapping of node -> symbol, got {type(symbols).__name__}")
    given: dict[Value, Any] = {}
    for node, target in symbols.items():
        require_value(node, "to_sympy() symbols keys")
        if isinstance(target, str):
            given[node] = sympy.Symbol(target, real=True)
        elif isinstance(target, sympy.Basic):
            given[node] = target
        elif isinstance(target, numbers.Real) and not isinstance(target, bool):
            given[node] = _number(sympy, float(target))
        else:
            raise TypeError(f"to_sympy() symbols[{name_of(node)}] must be a SymPy expression, a name or a real "
                            f"number, got {type(target).__name__}")
    return given


def _parents_first(root: Value, given: Mapping[Value, Any]) -> Iterator[Value]:
    """Every node ``root`` depends on, each after its parents (the order of
    ``autograd.topological_order``), without walking into the nodes of ``given``. No recursion."""
    seen = {root}
    stack: list[tuple[Value, Iterator[Value]]] = [(root, iter(() if root in given else root.parents))]
    while stack:
        node, pending = stack[-1]
        for parent in pending:
            if parent not in seen:
                seen.add(parent)
                stack.append((parent, iter(() if parent in given else parent.parents)))
                break
        else:
            stack.pop()
            yield node


def _leaf_names(sympy: Any, order: list[Value], given: Mapping[Value, Any], name_unlabelled: bool) -> dict[Value, str]:
    """The symbol name of each leaf that becomes a symbol (not in ``given``); refuses clashes."""
    used: dict[str, str] = {}  # name -> what uses it, for messages
    for node in order:
        expr = given.get(node)
        if expr is not None and isinstance(expr, sympy.Symbol):
            used.setdefault(expr.name, "a node given in symbols=")
    names: dict[Value, str] = {}
    owner: dict[str, Value] = {}
    for node in order:
        if node.parents or node in given or not node.label:
            continue
        label = node.label
        if label in owner and owner[label] is not node:
            raise ValueError(f"to_sympy(): two different leaves are labelled {label!r}, which would make them one "
                             f"symbol; give them different labels or name one with symbols={{leaf: 'name'}}")
        if label in used:
            raise ValueError(f"to_sympy(): the leaf labelled {label!r} would share its symbol with {used[label]}; "
                             f"give it another label or name it in symbols= too")
        owner[label] = node
        names[node] = label
    if name_unlabelled:
        counter = 0
        for node in order:
            if node.parents or node in given or node.label:
                continue
            while f"x{counter}" in owner or f"x{counter}" in used:
                counter += 1
            names[node] = f"x{counter}"
            counter += 1
    return names


def _apply(sympy: Any, node: Value, args: list[Any]) -> Any:
    """The SymPy expression of ``node``'s op applied to its parents' expressions."""
    prim = node.primitive
    assert prim is not None  # only called for nodes with parents
    if prim.folds_constant:
        const = node.const
        args.append(_number(sympy, const) if const is not None else sympy.nan)
    form = prim.sympy
    try:
        if form is None:  # a user op without a SymPy form: an undefined function of its inputs
            return sympy.Function(prim.name)(*args)
        out = form(*args)
    except RecursionError:
        raise RecursionError(
            f"to_sympy(): SymPy recursed too deeply building op {prim.name!r}: the formula is nested too deeply "
            f"for SymPy (the graph walk itself is iterative); map an inner node to a symbol with symbols= "
            f"or raise sys.setrecursionlimit"
        ) from None
    return out if isinstance(out, sympy.Basic) else sympy.sympify(out)


def _number(sympy: Any, x: float) -> Any:
    """A float as SymPy shows it best: Integer, a short exact Rational, else a 53-bit Float."""
    if math.isnan(x):
        return sympy.nan
    if math.isinf(x):
        return sympy.oo if x > 0 else -sympy.oo
    if x.is_integer():
        return sympy.Integer(int(x)) if abs(x) < _MAX_INTEGER else sympy.Float(x)
    exact = Fraction(x)
    if exact.denominator <= _MAX_DENOMINATOR:
        return sympy.Rational(exact.numerator, exact.denominator)
    return sympy.Float(x)
