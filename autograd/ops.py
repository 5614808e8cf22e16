"""The op registry: every primitive is one record, and every back-end reads that record.

A :class:`Primitive` holds everything about one op, side by side::

    TANH = register(Primitive(
        "tanh", math.tanh, lambda x, out: (1.0 - out * out,),
        array_forward=lambda x: xp(x).tanh(x),
        code=lambda a, c, out: ([f"tanh({a[0]})"], [f"(1.0 - {out} * {out}) * {{g}}"]),
        sympy=lambda x: _sympy().tanh(x),
    ))

(In generated code, ``tanh``, ``inf`` and ``nan`` are names the kernel binds; an op without a
``code`` form is a call of its own ``forward`` and ``local_grads``.)

``forward`` computes the op on floats; ``local_grads`` is its derivative rule: given the inputs
(and a folded constant) and the output, one partial derivative per input. Rules are written with
arithmetic operators and the helpers ``exp``, ``log``, ``div``, ``pow``, ``sigmoid`` and ``by_sign``
defined here, which accept floats, Values *and* arrays (NumPy or PyTorch). So one rule serves
every back-end:

- the graph builder (``Value`` methods) runs it on floats; its results are ``node.local_grads``;
- ``autograd.grad(..., create_graph=True)`` runs it on Values, so gradients of gradients work;
- the tape interpreter (``autograd.replay.tape``) runs it on floats, the generated code inlines
  ``code`` (or calls the rule), and the batch replay (``autograd.replay.batch``) runs it on arrays;
- drawings, ``explain`` and step records show ``op`` and ``drawn``.

A *folded constant* (the ``2`` in ``x * 2``, a leaky ReLU's slope) is not a node: ops that fold
one have ``folds_constant=True``, take the constant as a trailing argument after the inputs
(``forward(x, c)``, ``local_grads(x, c, out)``), and the node keeps it as ``node.const``.

**Adding a built-in op** is one ``register(Primitive(...))`` entry here plus one ``Value`` method
that calls it (for IDEs and type checkers); the tests then run it through every back-end, and
fail if it is missing from the random-program strategies. ``autograd.define_op`` registers a
user's op through the same :func:`register`.

Numerics follow IEEE-754 like PyTorch in float64: no op raises in the middle of a graph.
``log(0) == -inf``, ``log(-1)`` and ``sqrt(-1)`` are ``nan``, ``exp(1000) == inf``,
``1 / 0 == inf``, ``0 / 0`` is ``nan``, a negative base to a fractional power is ``nan``.
Gradients at kinks follow PyTorch: ``relu'(0) == 0``, ``abs'(0) == 0``, ``leaky_relu'(0) == slope``;
``heaviside'`` is 0 everywhere, at its jump too.
"""

from __future__ import annotations

import math
import numbers
import sys
from collections.abc import Callable, Sequence
from typing import Any

__all__ = [
    "REGISTRY",
    "CodeForm",
    "Primitive",
    "as_float",
    "by_sign",
    "const_name",
    "div",
    "exp",
    "fdiv",
    "fexp",
    "fheaviside",
    "flog",
    "fpow",
    "fsigmoid",
    "fsoftplus",
    "fsqrt",
    "generation",
    "log",
    "namespace_of",
    "node_forward",
    "node_partials",
    "pow",
    "register",
    "register_namespace",
    "sigmoid",
]

INF = math.inf
NAN = math.nan

CodeForm = tuple[list[str], list[str]]
"""How an op reads in generated code: the forward as one or more expressions (each later one may
use ``{out}``, the output so far, to split long sums over lines) and, per input, its term of the
backward pass with ``{g}`` standing for the upstream gradient (``"{1} * {g}"``)."""


class Primitive:
    """One op: its name, its float forward, its derivative rule, and how each back-end runs it.

    Attributes:
        name: the registry key (unique).
        forward: ``forward(*inputs[, const]) -> float``.
        local_grads: ``local_grads(*inputs[, const], out) -> one partial per input``; written with
            the helpers of this module so it accepts floats, Values and arrays.
        arity: how many inputs; ``None`` for any number (``dot``).
        folds_constant: the op takes a constant that is not a node (``x + 2``, leaky ReLU's slope).
        op: what ``node.op`` shows; ``{c}`` is replaced by the folded constant (``'**{c}'``).
        drawn: how drawings, ``explain`` and step records write the op (``'* {c}'``).
        array_forward: the forward on arrays (``None``: apply ``forward`` element by element).
        array_local_grads: the rule on arrays, where ``local_grads`` cannot serve (``None``: the
            rule itself for built-ins, element by element for user ops without an array form).
        code: the op's form in generated code (``None``: call ``forward`` and ``local_grads``).
        sympy: the op as a SymPy expression of the inputs' expressions (and the constant).
        kink: the derivative, or the op itself, jumps at 0 (finite differences across 0 mean
            nothing there).
        builtin: False for ops made by ``autograd.define_op``.
        fused: optional ``fused(args) -> (out, local_grads)`` computing both in one pass, with
            the same arithmetic as ``forward`` and ``local_grads`` (``dot``: one loop, not two).
        definition: for a user op, a digest of the functions that define it (their code,
            defaults and closed-over values), so a pickled graph can tell whether the op it was
            made with is the one defined now; ``''`` for built-ins, which cannot be redefined.
    """

    # Written out rather than a frozen dataclass: ``dataclasses`` imports ``inspect``, several
    # milliseconds of every ``import autograd`` for one decorator.
    name: str
    forward: Callable[..., float]
    local_grads: Callable[..., tuple[Any, ...]]
    arity: int | None
    folds_constant: bool
    op: str
    drawn: str
    array_forward: Callable[..., Any] | None
    array_local_grads: Callable[..., tuple[Any, ...]] | None
    code: Callable[[Sequence[str], str, str], CodeForm] | None
    sympy: Callable[..., Any] | None
    kink: bool
    builtin: bool
    fused: Callable[[Sequence[Any]], tuple[Any, tuple[Any, ...]]] | None
    definition: str

    def __init__(
        self,
        name: str,
        forward: Callable[..., float],
        local_grads: Callable[..., tuple[Any, ...]],
        arity: int | None = 1,
        folds_constant: bool = False,
        op: str = "",
        drawn: str = "",
        array_forward: Callable[..., Any] | None = None,
        array_local_grads: Callable[..., tuple[Any, ...]] | None = None,
        code: Callable[[Sequence[str], str, str], CodeForm] | None = None,
        sympy: Callable[..., Any] | None = None,
        kink: bool = False,
        builtin: bool = True,
        fused: Callable[[Sequence[Any]], tuple[Any, tuple[Any, ...]]] | None = None,
        definition: str = "",
    ) -> None:
        op = op or name
        fields = {
            "name": name, "forward": forward, "local_grads": local_grads, "arity": arity,
            "folds_constant": folds_constant, "op": op, "drawn": drawn or op, "array_forward": array_forward,
            "array_local_grads": array_local_grads, "code": code, "sympy": sympy, "kink": kink,
            "builtin": builtin, "fused": fused, "definition": definition,
        }
        for key, value in fields.items():
            object.__setattr__(self, key, value)

    def __setattr__(self, key: str, value: Any) -> None:
        raise AttributeError(f"primitive {self.name!r} is read-only: cannot assign to {key!r}")

    def __delattr__(self, key: str) -> None:
        raise AttributeError(f"primitive {self.name!r} is read-only: cannot delete {key!r}")

    def __repr__(self) -> str:
        kind = "" if self.builtin else "user "
        return f"<{kind}primitive {self.name!r}>"

    def op_string(self, const: float | None) -> str:
        """What ``node.op`` shows for a node of this op with folded constant ``const``."""
        if "{c}" in self.op and const is not None:
            return self.op.replace("{c}", const_name(const))
        return self.op

    def evaluate(self, args: Sequence[Any]) -> tuple[Any, tuple[Any, ...]]:
        """``(out, local_grads)`` on floats; ``args`` are the inputs, then the constant if folded."""
        if self.fused is not None:
            return self.fused(args)
        out = self.forward(*args)
        return out, self.local_grads(*args, out)


# --- arrays: which namespace of array functions serves an array -------------------------------

_NAMESPACES: dict[type, Any] = {}


def register_namespace(array_type: type, namespace: Any) -> None:
    """Make ``namespace`` (an object with the array functions the rules use: ``exp``, ``log``,
    ``where``, ...; see ``autograd.replay.arrays``) serve arrays of ``array_type``."""
    _NAMESPACES[array_type] = namespace


def namespace_of(x: Any) -> Any:
    """The namespace serving ``x`` if it is an array, else None (floats, Values). NumPy's and
    PyTorch's are made by ``autograd.replay.arrays`` the first time one of their arrays shows up."""
    t = type(x)
    ns = _NAMESPACES.get(t)
    if ns is not None:
        return ns
    module = t.__module__
    if module == "numpy" and t.__name__ == "ndarray":
        from autograd.replay.arrays import numpy_namespace

        ns = _NAMESPACES[t] = numpy_namespace()
        return ns
    if module.startswith("torch"):
        torch = sys.modules.get("torch")
        if torch is not None and isinstance(x, torch.Tensor):  # a Tensor or a subclass (a Parameter)
            from autograd.replay.arrays import torch_namespace

            ns = _NAMESPACES[t] = torch_namespace()  # a Tensor, or a subclass such as Parameter
            return ns
    return None


REGISTRY: dict[str, Primitive] = {}
"""Every primitive, built-in and user-defined, by name."""


_generation = [0]


def register(prim: Primitive, *, replace: bool = False) -> Primitive:
    """Add ``prim`` to :data:`REGISTRY` and return it; ``replace`` allows a user op to be redefined."""
    old = REGISTRY.get(prim.name)
    if old is not None and not (replace and not old.builtin):
        raise ValueError(f"an op named {prim.name!r} is already registered")
    REGISTRY[prim.name] = prim
    _generation[0] += 1
    return prim


def generation() -> int:
    """A number that changes whenever :func:`register` adds or replaces a record, so a replay can
    tell cheaply whether an op it recorded may have been redefined since."""
    return _generation[0]


# --- numbers ----------------------------------------------------------------------------------


def as_float(x: object) -> float | None:
    """``x`` as a float if it is a real number (int, float, NumPy scalar, ...), else None."""
    t = type(x)
    if t is float:
        return x  # type: ignore[return-value]
    if t is int or isinstance(x, numbers.Real):
        try:
            return float(x)  # type: ignore[arg-type]
        except OverflowError:  # an int too large for a float, like 10**400 (copysign would raise too)
            return math.inf if x > 0 else -math.inf  # type: ignore[operator]
    return None


def const_name(c: float) -> str:
    """How a folded constant is written inside ``node.op``: ``2.0 -> '2'``, ``0.5 -> '0.5'``."""
    return str(int(c)) if c.is_integer() and abs(c) < 1e16 else repr(c)


# --- IEEE-754 float primitives -----------------------------------------------------------
# Python's math module raises on overflow and domain errors; PyTorch returns inf/nan instead.
# These wrappers give the PyTorch answer and cost nothing extra on the normal path.


def _is_odd_integer(y: float) -> bool:
    return y == y and not math.isinf(y) and y == math.floor(y) and math.fmod(y, 2.0) != 0.0


def fdiv(x: float, y: float) -> float:
    """IEEE division: ``1/0 == inf``, ``-1/0 == -inf``, ``0/0`` is nan (Python would raise)."""
    try:
        return x / y
    except ZeroDivisionError:
        if x == 0.0 or x != x:
            return NAN
        return math.copysign(INF, x) * math.copysign(1.0, y)


def fpow(x: float, y: float) -> float:
    """IEEE ``pow``: ``0 ** -1 == inf``, ``(-8) ** (1/3)`` is nan, never complex, never raises."""
    try:
        return math.pow(x, y)
    except OverflowError:
        # |x ** y| is too large: the sign is negative only for a negative base and odd exponent.
        return -INF if x < 0.0 and _is_odd_integer(y) else INF
    except ValueError:
        if x == 0.0:  # zero to a negative power: a pole, signed like IEEE pow(±0, y)
            return math.copysign(INF, x) if _is_odd_integer(y) else INF
        return NAN  # negative base with a non-integer exponent has no real value


def fexp(x: float) -> float:
    """IEEE ``exp``: overflows to ``inf`` instead of raising."""
    try:
        return math.exp(x)
    except OverflowError:
        return INF


def flog(x: float) -> float:
    """IEEE natural log: ``log(0) == -inf``, ``log(x < 0)`` is nan."""
    if x > 0.0:
        return math.log(x)
    if x == 0.0:
        return -INF
    return NAN  # negative or nan


def fsqrt(x: float) -> float:
    """IEEE square root: ``sqrt(x < 0)`` is nan."""
    return math.sqrt(x) if x >= 0.0 else NAN if x == x else x


def fsigmoid(x: float) -> float:
    """Logistic function, overflow-safe: exp is only taken of a non-positive number."""
    if x >= 0.0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)  # x < 0, so e is in (0, 1) and cannot overflow
    return e / (1.0 + e)


def fsoftplus(x: float) -> float:
    """``log(1 + exp(x))`` written as ``max(x, 0) + log1p(exp(-|x|))`` so it never overflows."""
    if x != x:
        return x
    return (x if x > 0.0 else 0.0) + math.log1p(math.exp(-abs(x)))


def frelu(x: float) -> float:
    """``max(x, 0)``, keeping nan (``max`` would drop it)."""
    return x if x > 0.0 or x != x else 0.0


# --- helpers that work on floats, Values and arrays (rules are written with these) -----------
# A Value and a PyTorch tensor have the methods (.exp(), .log(), .sigmoid()); a NumPy array's
# functions come from its namespace (autograd.replay.arrays).


def div(x: Any, y: Any) -> Any:
    """``x / y`` with IEEE semantics on floats; plain division on Values and arrays."""
    if isinstance(y, float) and isinstance(x, float):
        return fdiv(x, y)
    return x / y


def pow(x: Any, y: Any) -> Any:  # noqa: A001 - mirrors math.pow on purpose
    """``x ** y`` with IEEE semantics on floats; Value or array power otherwise."""
    if isinstance(x, float) and isinstance(y, float):
        return fpow(x, y)
    xp = namespace_of(x) or namespace_of(y)
    return x**y if xp is None else xp.power(x, y)


def _unary_helper(x: Any, on_float: Callable[[float], float], name: str) -> Any:
    if isinstance(x, float):
        return on_float(x)
    xp = namespace_of(x)
    return getattr(x, name)() if xp is None else getattr(xp, name)(x)


def exp(x: Any) -> Any:
    """``exp(x)`` on a float, a Value or an array."""
    return _unary_helper(x, fexp, "exp")


def log(x: Any) -> Any:
    """Natural log of a float, a Value or an array."""
    return _unary_helper(x, flog, "log")


def sigmoid(x: Any) -> Any:
    """Logistic function of a float, a Value or an array."""
    return _unary_helper(x, fsigmoid, "sigmoid")


def by_sign(x: Any, above: float, below: float, at: float) -> Any:
    """A piecewise-constant derivative (relu, abs, leaky_relu): ``above`` for x > 0, ``below`` for
    x < 0, ``at`` at 0, nan at nan. Its own derivative is 0, so on a Value it returns a plain
    float even when a gradient graph is being built; on an array, an array. (Named for what it
    does rather than ``step``: that word is the Heaviside activation's, ``Value.heaviside``.)"""
    if not isinstance(x, float):
        xp = namespace_of(x)
        if xp is not None:
            return xp.by_sign(x, above, below, at)
        x = x.data
    if x > 0.0:
        return above
    if x < 0.0:
        return below
    return at if x == x else x  # a nan input gives a nan slope


def xp(x: Any) -> Any:
    """The array namespace of ``x`` (for array forms)."""
    return namespace_of(x)


# --- code forms ------------------------------------------------------------------------------
# Operands arrive as source text (``'v3'``, a literal like ``'(-1.0)'``); ``c`` is the folded
# constant's literal. Each form gives the forward and each input's backward term, with the same
# operands in the same order as ``forward`` and ``local_grads``, so the generated code's results
# are bit-for-bit the graph's.


def _times_g(grad: str) -> str:
    """The backward term ``local * g`` for a local gradient written as source."""
    if grad == "1.0":
        return "{g}"  # 1.0 * g == g exactly
    if grad == "-1.0":
        return "-{g}"
    return f"{grad} * {{g}}"


# --- the table ----------------------------------------------------------------------------------
# Binary ops between two Values.


def _pow_partials(x: Any, y: Any, out: Any) -> tuple[Any, Any]:
    # PyTorch: d/dx is 0 when y == 0 (even at x == 0); d/dy is 0 where x == 0 and y >= 0.
    # The mask is applied only where y * x**(y-1) would be 0 * inf, so that elsewhere the rule
    # stays differentiable in y (d/dy of d/dx at y == 0 is 1/x, not 0).
    if not isinstance(x, float) and namespace_of(x) is None and namespace_of(y) is None:  # Values
        xd, yd = _data(x), _data(y)
        dx = 0.0 if yd == 0.0 and not math.isfinite(fpow(xd, yd - 1.0)) else y * pow(x, y - 1.0)
        dy = 0.0 if xd == 0.0 and yd >= 0.0 else out * log(x)
        return dx, dy
    if isinstance(x, float) and isinstance(y, float):
        dx = 0.0 if y == 0.0 and not math.isfinite(fpow(x, y - 1.0)) else y * fpow(x, y - 1.0)
        dy = 0.0 if x == 0.0 and y >= 0.0 else out * flog(x)
        return dx, dy
    ns = namespace_of(x) or namespace_of(y)
    below = pow(x, y - 1.0)
    dx = ns.where((y == 0.0) & ~ns.isfinite(below), 0.0, y * below)
    dy = ns.where((x == 0.0) & (y >= 0.0), 0.0, out * log(x))
    return dx, dy


def _data(x: Any) -> float:
    return x if isinstance(x, float) else float(x.data)


ADD = register(Primitive(
    "add", lambda x, y: x + y, lambda x, y, out: (1.0, 1.0), arity=2, op="+", drawn="+",
    array_forward=lambda x, y: x + y,
    code=lambda a, c, out: ([f"{a[0]} + {a[1]}"], ["{g}", "{g}"]),
    sympy=lambda x, y: x + y,
))
SUB = register(Primitive(
    "sub", lambda x, y: x - y, lambda x, y, out: (1.0, -1.0), arity=2, op="-",
    array_forward=lambda x, y: x - y,
    code=lambda a, c, out: ([f"{a[0]} - {a[1]}"], ["{g}", "-{g}"]),
    sympy=lambda x, y: x - y,
))
MUL = register(Primitive(
    "mul", lambda x, y: x * y, lambda x, y, out: (y, x), arity=2, op="*",
    array_forward=lambda x, y: x * y,
    code=lambda a, c, out: ([f"{a[0]} * {a[1]}"], [f"{a[1]} * {{g}}", f"{a[0]} * {{g}}"]),
    sympy=lambda x, y: x * y,
))
# d/dy = -x/y**2, computed as -(x/y)/y like PyTorch: y*y underflows to 0 for |y| < 1e-162.
DIV = register(Primitive(
    "div", fdiv, lambda x, y, out: (div(1.0, y), -div(out, y)), arity=2, op="/",
    array_forward=lambda x, y: x / y,
    sympy=lambda x, y: x / y,
))
POW = register(Primitive(
    "pow", fpow, _pow_partials, arity=2, op="**",
    array_forward=pow,
    sympy=lambda x, y: x**y,
))

# Ops with a constant operand folded in (``x * 2``, ``2 ** x``): the constant is not a node, it
# is ``node.const``, and the rule takes it after the input.

ADD_CONST = register(Primitive(
    "add_const", lambda x, c: x + c, lambda x, c, out: (1.0,), folds_constant=True, op="+", drawn="+ {c}",
    array_forward=lambda x, c: x + c,
    code=lambda a, c, out: ([f"{a[0]} + {c}"], ["{g}"]),
    sympy=lambda x, c: x + c,
))
SUB_CONST = register(Primitive(
    "sub_const", lambda x, c: x - c, lambda x, c, out: (1.0,), folds_constant=True, op="-", drawn="- {c}",
    array_forward=lambda x, c: x - c,
    code=lambda a, c, out: ([f"{a[0]} - {c}"], ["{g}"]),
    sympy=lambda x, c: x - c,
))
RSUB_CONST = register(Primitive(
    "rsub_const", lambda x, c: c - x, lambda x, c, out: (-1.0,), folds_constant=True, op="-", drawn="{c} -",
    array_forward=lambda x, c: c - x,
    code=lambda a, c, out: ([f"{c} - {a[0]}"], ["-{g}"]),
    sympy=lambda x, c: c - x,
))
MUL_CONST = register(Primitive(
    "mul_const", lambda x, c: x * c, lambda x, c, out: (c,), folds_constant=True, op="*", drawn="* {c}",
    array_forward=lambda x, c: x * c,
    code=lambda a, c, out: ([f"{a[0]} * {c}"], [_times_g(c)]),
    sympy=lambda x, c: x * c,
))
DIV_CONST = register(Primitive(
    "div_const", fdiv, lambda x, c, out: (fdiv(1.0, c),), folds_constant=True, op="/", drawn="/ {c}",
    array_forward=lambda x, c: x / c,
    sympy=lambda x, c: x / c,
))
RDIV_CONST = register(Primitive(
    # d/dx of c / x is -c / x**2, computed as -(c / x) / x: no underflow of x*x
    "rdiv_const", lambda x, c: fdiv(c, x), lambda x, c, out: (-div(out, x),), folds_constant=True,
    op="{c}/", drawn="{c}/",
    array_forward=lambda x, c: c / x,
    sympy=lambda x, c: c / x,
))
POW_CONST = register(Primitive(
    # d/dx = c * x ** (c - 1), and 0 when c == 0, as in PyTorch
    "pow_const", fpow, lambda x, c, out: (0.0 if c == 0.0 else c * pow(x, c - 1.0),), folds_constant=True,
    op="**{c}", drawn="**{c}",
    array_forward=pow,
    sympy=lambda x, c: x**c,
))


def _rpow_const_partials(x: Any, c: float, out: Any) -> tuple[Any]:
    # d/dx of c ** x is c ** x * log(c); 0 where c == 0 and x >= 0, as in PyTorch
    if c != 0.0:
        return (out * flog(c),)
    if isinstance(x, float) or namespace_of(x) is None:
        return (0.0,) if _data(x) >= 0.0 else (out * flog(c),)
    return (namespace_of(x).where(x >= 0.0, 0.0, out * flog(c)),)


RPOW_CONST = register(Primitive(
    "rpow_const", lambda x, c: fpow(c, x), _rpow_const_partials, folds_constant=True, op="{c}**", drawn="{c}**",
    array_forward=lambda x, c: pow(c, x),
    sympy=lambda x, c: c**x,
))

# One-input ops.

NEG = register(Primitive(
    "neg", lambda x: -x, lambda x, out: (-1.0,),
    array_forward=lambda x: -x,
    code=lambda a, c, out: ([f"-{a[0]}"], ["-{g}"]),
    sympy=lambda x: -x,
))
ABS = register(Primitive(
    "abs", abs, lambda x, out: (by_sign(x, 1.0, -1.0, 0.0),), kink=True,
    array_forward=lambda x: xp(x).abs(x),
    sympy=lambda x: abs(x),
))
EXP = register(Primitive(
    "exp", fexp, lambda x, out: (out,),
    array_forward=exp,
    sympy=lambda x: _sympy().exp(x),
))
LOG = register(Primitive(
    "log", flog, lambda x, out: (div(1.0, x),),
    array_forward=log,
    sympy=lambda x: _sympy().log(x),
))
SQRT = register(Primitive(
    "sqrt", fsqrt, lambda x, out: (div(0.5, out),),
    array_forward=lambda x: xp(x).sqrt(x),
    sympy=lambda x: _sympy().sqrt(x),
))
TANH = register(Primitive(
    "tanh", math.tanh, lambda x, out: (1.0 - out * out,),
    array_forward=lambda x: xp(x).tanh(x),
    code=lambda a, c, out: ([f"tanh({a[0]})"], [f"(1.0 - {out} * {out}) * {{g}}"]),
    sympy=lambda x: _sympy().tanh(x),
))
SIGMOID = register(Primitive(
    "sigmoid", fsigmoid, lambda x, out: (out * (1.0 - out),),
    array_forward=sigmoid,
    sympy=lambda x: 1 / (1 + _sympy().exp(-x)),
))
RELU = register(Primitive(
    "relu", frelu, lambda x, out: (by_sign(x, 1.0, 0.0, 0.0),), kink=True,
    array_forward=lambda x: xp(x).relu(x),
    # relu'(x) * g without the multiplication where it is exact: g itself for x > 0
    code=lambda a, c, out: ([f"{a[0]} if {a[0]} > 0.0 or {a[0]} != {a[0]} else 0.0"],
                            [f"({{g}} if {a[0]} > 0.0 else (0.0 if {a[0]} == {a[0]} else {a[0]}) * {{g}})"]),
    # not Max(x, 0): SymPy's d/dx of Max is Heaviside(x), 1/2 at 0; this one's is 0 there, as relu's rule
    sympy=lambda x: _sympy().Piecewise((x, x > 0), (0, True)),
))
SOFTPLUS = register(Primitive(
    "softplus", fsoftplus, lambda x, out: (sigmoid(x),),
    array_forward=lambda x: xp(x).softplus(x),
    sympy=lambda x: _sympy().log(1 + _sympy().exp(x)),
))
LEAKY_RELU = register(Primitive(
    # x above zero, slope * x at and below (the slope is the folded constant); d/dx = 1 or slope
    "leaky_relu", lambda x, c: x if x > 0.0 or x != x else c * x, lambda x, c, out: (by_sign(x, 1.0, c, c),),
    folds_constant=True, kink=True, drawn="leaky relu {c}",
    array_forward=lambda x, c: xp(x).leaky_relu(x, c),
    sympy=lambda x, c: _sympy().Piecewise((x, x > 0), (c * x, True)),
))


def fheaviside(x: float) -> float:
    """The unit step: 1.0 for ``x >= 0`` (``-0.0`` included), 0.0 for ``x < 0``, nan for nan."""
    return 1.0 if x >= 0.0 else 0.0 if x == x else x


# The threshold unit's activation. Its derivative is 0 everywhere, at the jump too (the jump has no
# finite slope, and 0 is what makes gradient descent through a step network visibly stall), even at
# nan: the nan output already carries the nan. PyTorch has no derivative for torch.heaviside at all.
HEAVISIDE = register(Primitive(
    "heaviside", fheaviside, lambda x, out: (0.0,), kink=True,
    array_forward=lambda x: xp(x).heaviside(x),
    code=lambda a, c, out: ([f"1.0 if {a[0]} >= 0.0 else (0.0 if {a[0]} == {a[0]} else {a[0]})"], ["0.0 * {g}"]),
    # the second argument is the value at 0; SymPy's derivative, DiracDelta(x), is 0 away from 0
    sympy=lambda x: _sympy().Heaviside(x, 1),
))


# ``dot``: a neuron's ``bias + w0*x0 + w1*x1 + ...`` as one node. Inputs are laid out
# ``(w0, x0, w1, x1, ..., [bias])``: an odd count means the last one is the bias.


def _dot_forward(*xs: float) -> float:
    n = len(xs)
    acc = xs[-1] if n % 2 else 0.0
    for i in range(0, n - 1, 2):
        acc = acc + xs[i] * xs[i + 1]
    return acc


def _dot_partials(*xs_out: Any) -> tuple[Any, ...]:
    xs = xs_out[:-1]
    partials: list[Any] = []
    for i in range(0, len(xs) - 1, 2):
        partials += (xs[i + 1], xs[i])  # each factor's partial is its partner
    if len(xs) % 2:
        partials.append(1.0)
    return tuple(partials)


def _dot_fused(xs: Sequence[float]) -> tuple[float, tuple[float, ...]]:
    n = len(xs)
    acc = xs[-1] if n % 2 else 0.0
    partials: list[float] = []
    for i in range(0, n - 1, 2):
        w, x = xs[i], xs[i + 1]
        acc = acc + w * x
        partials += (x, w)
    if n % 2:
        partials.append(1.0)
    return acc, tuple(partials)


_DOT_CHUNK = 64  # terms per line of generated code: keeps long sums shallow for the compiler


def _dot_code(a: Sequence[str], c: str, out: str) -> CodeForm:
    n = len(a)
    terms = [f"{a[j]}*{a[j + 1]}" for j in range(0, n - 1, 2)]
    head = a[-1] if n % 2 else "0.0"
    lines = []
    for k in range(0, max(len(terms), 1), _DOT_CHUNK):
        lines.append(f"{head} + " + " + ".join(terms[k:k + _DOT_CHUNK]) if terms else head)
        head = "{out}"
    grads: list[str] = []
    for j in range(0, n - 1, 2):
        grads += [f"{a[j + 1]} * {{g}}", f"{a[j]} * {{g}}"]
    return lines, grads + (["{g}"] if n % 2 else [])


def _dot_sympy(*xs: Any) -> Any:
    terms = [xs[i] * xs[i + 1] for i in range(0, len(xs) - 1, 2)]
    return _sympy().Add(*terms, *([xs[-1]] if len(xs) % 2 else []))


DOT = register(Primitive(
    "dot", _dot_forward, _dot_partials, arity=None,
    array_forward=_dot_forward,
    code=_dot_code,
    sympy=_dot_sympy,
    fused=_dot_fused,
))


# ``logsumexp``: ``log(sum(exp(x_i)))`` of any number of inputs as one node, with the max shift
# inside the op (so it is stable for logits of ±1000 and the graph does not depend on the data).
# d/dx_i = softmax_i = exp(x_i - out), written with the helpers: on Values it is differentiable
# again (through ``out``), on arrays it is one array op per input.


def _logsumexp(*xs: float) -> float:
    m = -INF
    for x in xs:
        if x != x:
            return NAN
        if x > m:
            m = x
    if m == -INF or m == INF:  # all -inf: -inf; any +inf: inf
        return m
    total = 0.0
    for x in xs:
        total += math.exp(x - m)
    return m + math.log(total)


def _namespace(xs: tuple[Any, ...]) -> Any:
    """The array namespace of the first array among ``xs``."""
    return next(ns for ns in map(namespace_of, xs) if ns is not None)


def _logsumexp_array(*xs: Any) -> Any:
    return _namespace(xs).logsumexp(xs)


def _logsumexp_array_grads(*xs_out: Any) -> tuple[Any, ...]:
    return tuple(_namespace(xs_out).softmax_rows(xs_out[:-1], xs_out[-1]))  # exp(x_i - out), rows of one array


LOGSUMEXP = register(Primitive(
    "logsumexp", _logsumexp, lambda *xs_out: tuple(exp(x - xs_out[-1]) for x in xs_out[:-1]), arity=None,
    array_forward=_logsumexp_array, array_local_grads=_logsumexp_array_grads,
    sympy=lambda *xs: _sympy().log(sum(_sympy().exp(x) for x in xs)),
))


# ``select``: ``values[index]`` as one node, the index (a class label, say) being an input too, so
# one recorded graph serves every label. d/d index = 0, d/d value_i = 1 where i == index, else 0.


def _select(index: float, *values: float) -> float:
    i = int(index) if index == index and 0 <= index < len(values) else -1
    return values[i] if i >= 0 and i == index else NAN


def _select_partials(index: Any, *values_out: Any) -> tuple[Any, ...]:
    k = len(values_out) - 1
    if isinstance(index, float) or namespace_of(index) is None:  # a float or a Value
        at = index if isinstance(index, float) else index.data
        return (0.0, *(1.0 if at == i else 0.0 for i in range(k)))
    return (0.0, *namespace_of(index).one_hot(index, k))  # rows of one array


def _select_array(index: Any, *values: Any) -> Any:
    return _namespace((index, *values)).select(index, values)


SELECT = register(Primitive(
    "select", _select, _select_partials, arity=None,
    array_forward=_select_array,
    sympy=lambda index, *values: _sympy().Piecewise(
        *((v, _sympy().Eq(index, i)) for i, v in enumerate(values)), (_sympy().nan, True)),
))


def _sympy() -> Any:
    import sympy  # type: ignore[import-untyped]

    return sympy


# --- reading a node through its record ------------------------------------------------------


def node_args(node: Any) -> tuple[Any, ...]:
    """The node's inputs as its record's rule takes them: the parents, then the folded constant."""
    parents = node.parents
    return (*parents, node.const) if node.primitive.folds_constant else parents


def node_partials(node: Any) -> tuple[Any, ...]:
    """The partial derivatives of ``node`` with respect to its parents, as differentiable Values.

    The same rule that produced ``node.local_grads`` at forward time, evaluated on the parents
    and the node itself (Values) instead of floats, so gradients of gradients work. Partials
    that do not depend on the inputs come back as plain floats.
    """
    return tuple(node.primitive.local_grads(*node_args(node), node))


def node_forward(node: Any) -> Callable[..., float] | None:
    """A float function of the parents' data recomputing ``node.data`` (None for a leaf)."""
    prim = node.primitive
    if not node.parents:
        return None
    if prim.folds_constant:
        const = node.const
        return lambda *xs: prim.forward(*xs, const)
    forward: Callable[..., float] = prim.forward
    return forward
