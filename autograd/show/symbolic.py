"""``to_sympy``: a computation graph as a SymPy formula, to read, simplify or check by hand.

Every op's record in the registry (``autograd.ops``) carries its SymPy form, so the conversion is
one walk over the graph, parents first, each node converted once (a shared sub-expression is one
SymPy object used wherever the node is). The walk is iterative: a graph may be as deep as memory
allows. SymPy's own algorithms recurse, though, so a *formula* nested thousands of levels deep
(``tanh(tanh(tanh(...)))``) can exceed Python's recursion limit inside SymPy; a long sum or
chain of affine steps stays flat in SymPy and converts fine.

What becomes what:

* **Leaves** become real symbols (``sympy.Symbol(name, real=True)``), named by their label. A
  label that SymPy uses for one of its own objects gets ``_`` appended, so the formula does not
  print (or read back with ``sympify``) as that object: ``E``, ``I``, ``pi``, ``oo``, ``nan``,
  ``N``, ``S``, ``O``, ``Q`` and the other constants and one-letter names SymPy defines, and
  Python keywords (``lambda``), become ``E_``, ``I_``, ``pi_``, ... Unlabelled leaves are named
  ``_0, _1, ...`` in topological order; no label becomes such a name (a label ``_0`` is
  ``_0_``), so a generated name never stands for a leaf of another formula that has that label.
  The numbering is per formula: label the leaves you want to recognise across formulas. Two
  different leaves that would get the same name raise ``ValueError`` (they would silently
  become one symbol); relabel one or name it with ``symbols=``. With ``unlabelled="number"``
  unlabelled leaves become their values instead (constant inputs that ``dot`` or a layer made
  into leaves then read as numbers).
* **Constant leaves** become their numbers: a leaf with ``const`` set, which is what
  ``autograd.grad`` returns for a gradient that depends on no input (``d(a + b)/da``, ``dy/dy``,
  an unused input's 0). A gradient graph from ``autograd.grad(..., create_graph=True)`` holds
  no other leaves than the graph's own, so its formula is the derivative of the graph's.
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
* **Ops** go through their record's ``sympy`` form: sigmoid is ``1/(1 + exp(-x))``, ReLU and
  leaky ReLU a ``Piecewise`` (whose derivative at 0 is the engine's: ``relu'(0) == 0``, which
  ``Max(x, 0)``'s would not be), ``dot`` the sum of products. An op without a
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
    >>> to_sympy(dy)
    3*x**2 + 2
"""

from __future__ import annotations

import keyword
import math
import numbers
from collections.abc import Iterator, Mapping
from fractions import Fraction
from typing import TYPE_CHECKING, Any, Literal

from autograd._extras import install_hint
from autograd.backward import require_value
from autograd.show.text import name_of

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

    See the module docstring for the rules: leaves become real symbols named by their labels
    (``E_`` for a label ``E`` that SymPy uses itself; ``_0, _1, ...`` when unlabelled), constant
    leaves and folded constants exact numbers where short (``2``, ``1/2``) and ``sympy.Float``
    otherwise, each op its record's SymPy form (an undefined function for an op that has none).

    Args:
        value: the graph's output node.
        symbols: optional ``{node: symbol}``; a symbol is a SymPy expression, a name (made a real
            ``sympy.Symbol``) or a real number. A mapped interior node stands for its sub-graph.
        unlabelled: ``"symbol"`` (default) names unlabelled leaves ``_0, _1, ...``;
            ``"number"`` writes their values instead (for leaves that hold constants, such as
            the plain-number inputs of ``dot``).

    Returns:
        A SymPy expression (``sympy.Expr``); with a real number for every symbol it evaluates to
        ``value.data`` (to rounding).

    Raises:
        ImportError: SymPy is not installed.
        TypeError: ``value`` is not a Value, or a ``symbols`` entry is neither an expression, a
            name nor a real number.
        ValueError: two different leaves would get the same symbol name (the same label, labels
            such as ``E`` and ``E_``, or a label that is also a name given in ``symbols``);
            ``unlabelled`` is not one of the two.
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
                if name is not None:
                    expr = sympy.Symbol(name, real=True)
                else:  # a constant leaf (node.const), or an unlabelled leaf with unlabelled="number"
                    expr = _number(sympy, node.data if node.const is None else node.const)
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
    """The symbol name of each leaf that becomes a symbol (not in ``given``, not a constant);
    refuses two leaves that would share one."""
    used: dict[str, str] = {}  # name -> what uses it, for messages
    for node in order:
        expr = given.get(node)
        if expr is not None and isinstance(expr, sympy.Symbol):
            used.setdefault(expr.name, "a node given in symbols=")
    names: dict[Value, str] = {}
    owner: dict[str, Value] = {}
    for node in order:
        if node.parents or node in given or node.const is not None or not node.label:
            continue
        label = node.label
        name = _symbol_name(sympy, label)
        if name in owner and owner[name] is not node:
            other = owner[name].label
            if other == label:
                raise ValueError(f"to_sympy(): two different leaves are labelled {label!r}, which would make them "
                                 f"one symbol; give them different labels or name one with symbols={{leaf: 'name'}}")
            raise ValueError(f"to_sympy(): the leaves labelled {other!r} and {label!r} would both be the symbol "
                             f"{name!r}; relabel one or name it with symbols={{leaf: 'name'}}")
        if name in used:
            raise ValueError(f"to_sympy(): the leaf labelled {label!r} would share its symbol with {used[name]}; "
                             f"give it another label or name it in symbols= too")
        owner[name] = node
        names[node] = name
    if name_unlabelled:
        counter = 0
        for node in order:
            if node.parents or node in given or node.const is not None or node.label:
                continue
            while f"_{counter}" in used:
                counter += 1
            names[node] = f"_{counter}"
            counter += 1
    return names


def _symbol_name(sympy: Any, label: str) -> str:
    """A label as a symbol name: itself, or with ``_`` appended where it would read as something
    else. Names SymPy gives its own objects (``E``, ``I``, ``pi``, ``oo``, ``N``, ``S``, ...) print
    like those objects; ``_0, _1, ...`` are the names of unlabelled leaves."""
    if label in _reserved_names(sympy) or _is_generated(label):
        return label + "_"
    return label


def _is_generated(name: str) -> bool:
    """True for ``_0``, ``_1``, ...: the form of the names given to unlabelled leaves (and of a label
    escaped from it, ``_0_``, so that escaping never makes two labels one name)."""
    body = name.rstrip("_")
    return name.startswith("_") and len(body) > 1 and body[1:].isdigit() and body[1:].isascii()


_RESERVED: frozenset[str] | None = None


def _reserved_names(sympy: Any) -> frozenset[str]:
    """Labels that would print as, or be read back as, one of SymPy's own objects: its constants
    and sets (``E``, ``I``, ``pi``, ``oo``, ``nan``, ``zoo``, ``EulerGamma``, ``Reals``, ...), its
    one-letter names (``N``, ``S``, ``O``, ``Q``), and Python keywords (``lambda``)."""
    global _RESERVED
    if _RESERVED is None:
        names = {n for n in sympy.__all__ if isinstance(getattr(sympy, n, None), sympy.Basic) or len(n) == 1}
        _RESERVED = frozenset(names | set(keyword.kwlist))
    return _RESERVED


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
