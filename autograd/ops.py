"""The derivative table: every op's float forward and its local-gradient rule, side by side.

An op is a name (what ``node.op`` shows), a ``forward`` on floats, and a ``partials`` rule that
returns one partial derivative per input, given the inputs and the output::

    TANH = Op("tanh", _tanh, lambda x, out: (1.0 - out * out,))

Rules are written with arithmetic operators and the helpers ``exp``, ``log``, ``div``, ``pow``,
``sigmoid`` and ``step`` defined here, which accept floats *and* Values. So one rule serves twice:
at forward time it runs on floats and its results become ``node.local_grads`` (the fast path);
for higher-order gradients (``autograd.grad(..., create_graph=True)``) it runs on Values and its
results are themselves differentiable. There is no second copy of the derivative table.

Numerics follow IEEE-754 like PyTorch in float64: no op raises in the middle of a graph.
``log(0) == -inf``, ``log(-1)`` and ``sqrt(-1)`` are ``nan``, ``exp(1000) == inf``,
``1 / 0 == inf``, ``0 / 0`` is ``nan``, a negative base to a fractional power is ``nan``.
Gradients at kinks follow PyTorch: ``relu'(0) == 0``, ``abs'(0) == 0``, ``leaky_relu'(0) == slope``.

Adding an op is one edit here (forward + rule) plus a one-line method on ``Value``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar

if TYPE_CHECKING:
    from autograd.value import Value

S = TypeVar("S", float, "Value")
"""A scalar a rule is evaluated on: a plain float, or a Value when building a gradient graph."""

INF = math.inf
NAN = math.nan


class Op(NamedTuple):
    """One primitive: ``forward(*inputs) -> float`` and ``partials(*inputs, out) -> tuple``."""

    name: str
    forward: Callable[..., float]
    partials: Callable[..., tuple[Any, ...]]


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


# --- helpers that work on floats and on Values (rules are written with these) ----------------


def div(x: S | float, y: S) -> S:
    """``x / y`` with IEEE semantics on floats; Value division on Values."""
    if isinstance(y, float):
        return fdiv(x, y)
    return x / y


def pow(x: S, y: S | float) -> S:  # noqa: A001 - mirrors math.pow on purpose
    """``x ** y`` with IEEE semantics on floats; Value power on Values."""
    if isinstance(x, float):
        return fpow(x, y)
    return x**y


def exp(x: S) -> S:
    """``exp(x)`` on a float or a Value."""
    return fexp(x) if isinstance(x, float) else x.exp()


def log(x: S) -> S:
    """Natural log of a float or a Value."""
    return flog(x) if isinstance(x, float) else x.log()


def sigmoid(x: S) -> S:
    """Logistic function of a float or a Value."""
    return fsigmoid(x) if isinstance(x, float) else x.sigmoid()


def step(x: S | float, above: float, below: float, at: float) -> float:
    """A piecewise-constant derivative (relu, abs, leaky_relu): its own derivative is 0,
    so it is a plain float even when building a gradient graph."""
    v = x if isinstance(x, float) else x.data
    if v > 0.0:
        return above
    if v < 0.0:
        return below
    return at if v == v else v  # a nan input gives a nan slope


# --- the table ----------------------------------------------------------------------------
# Each rule: partials(*inputs, out) -> one partial derivative per input, in argument order.


def _pow_partials(x: S, y: S, out: S) -> tuple[S | float, S | float]:
    # PyTorch: d/dx is 0 when y == 0 (even at x == 0); d/dy is 0 where x == 0 and y >= 0.
    # The mask is applied only where y * x**(y-1) would be 0 * inf, so that elsewhere the rule
    # stays differentiable in y (d/dy of d/dx at y == 0 is 1/x, not 0).
    xd, yd = _data(x), _data(y)
    dx: S | float = 0.0 if yd == 0.0 and not math.isfinite(fpow(xd, yd - 1.0)) else y * pow(x, y - 1.0)
    dy: S | float = 0.0 if xd == 0.0 and yd >= 0.0 else out * log(x)
    return dx, dy


def _data(x: Any) -> float:
    return x if isinstance(x, float) else float(x.data)


ADD = Op("+", lambda x, y: x + y, lambda x, y, out: (1.0, 1.0))
SUB = Op("-", lambda x, y: x - y, lambda x, y, out: (1.0, -1.0))
MUL = Op("*", lambda x, y: x * y, lambda x, y, out: (y, x))
# d/dy = -x/y**2, computed as -(x/y)/y like PyTorch: y*y underflows to 0 for |y| < 1e-162.
DIV = Op("/", fdiv, lambda x, y, out: (div(1.0, y), -div(out, y)))
POW = Op("**", fpow, _pow_partials)
NEG = Op("neg", lambda x: -x, lambda x, out: (-1.0,))
ABS = Op("abs", abs, lambda x, out: (step(x, 1.0, -1.0, 0.0),))
EXP = Op("exp", fexp, lambda x, out: (out,))
LOG = Op("log", flog, lambda x, out: (div(1.0, x),))
SQRT = Op("sqrt", fsqrt, lambda x, out: (div(0.5, out),))
TANH = Op("tanh", math.tanh, lambda x, out: (1.0 - out * out,))
SIGMOID = Op("sigmoid", fsigmoid, lambda x, out: (out * (1.0 - out),))
RELU = Op("relu", lambda x: x if x > 0.0 or x != x else 0.0, lambda x, out: (step(x, 1.0, 0.0, 0.0),))
SOFTPLUS = Op("softplus", fsoftplus, lambda x, out: (sigmoid(x),))


def leaky_relu_op(slope: float) -> Op:
    """``x if x > 0 else slope * x``; d/dx = 1 above zero, ``slope`` at and below (PyTorch)."""
    return Op(
        "leaky_relu",
        lambda x: x if x > 0.0 or x != x else slope * x,
        lambda x, out: (step(x, 1.0, slope, slope),),
    )


# Ops with a constant operand folded in (``x * 2``, ``2 ** x``): the constant is not a node.
# Where the rule needs the constant it is part of the op's name, e.g. ``'**2'`` or ``'2/'``,
# so a debugger or a graph drawing shows it and higher-order gradients can recover it.


def const_name(c: float) -> str:
    """How a folded constant is written inside an op name: ``2.0 -> '2'``, ``0.5 -> '0.5'``."""
    return str(int(c)) if c.is_integer() and abs(c) < 1e16 else repr(c)


def pow_const_partials(x: S, out: S, c: float) -> tuple[S | float]:
    """``x ** c``; d/dx = ``c * x ** (c - 1)`` (0 when c == 0, as in PyTorch)."""
    return (0.0 if c == 0.0 else c * pow(x, c - 1.0),)


def rpow_const_partials(x: S, out: S, c: float) -> tuple[S | float]:
    """``c ** x``; d/dx = ``c ** x * log(c)`` (0 when c == 0 and x >= 0, as in PyTorch)."""
    if c == 0.0 and _data(x) >= 0.0:
        return (0.0,)
    return (out * flog(c),)


def rdiv_const_partials(x: S, out: S, c: float) -> tuple[S | float]:
    """``c / x``; d/dx = ``-c / x ** 2``, computed as ``-(c / x) / x`` (no underflow of x*x)."""
    return (-div(out, x),)


# The rules used when a graph of gradients is built, keyed by ``node.op``. Ops whose partials
# are constants (``+``, ``-``, ``neg``, ``x * c``, ``x / c``, relu, abs, leaky_relu) reuse the
# float local gradients recorded at forward time: their derivative is zero.
RULES: dict[str, Op] = {op.name: op for op in (MUL, DIV, POW, EXP, LOG, SQRT, TANH, SIGMOID, SOFTPLUS)}
CONSTANT_PARTIALS = frozenset({"+", "-", "neg", "abs", "relu", "leaky_relu"})


# User-defined ops (``autograd.define_op``) register here: name -> Op whose ``partials`` takes
# just the inputs (no ``out``), as the user wrote it.
CUSTOM: dict[str, Op] = {}


def node_partials(node: Value) -> tuple[Any, ...]:
    """The partial derivatives of ``node`` with respect to its parents, as differentiable Values.

    This is the same rule that produced ``node.local_grads`` at forward time, evaluated on the
    parents and the node itself (Values) instead of floats, so gradients of gradients work.
    Constant partials come back as the recorded floats.
    """
    op, parents = node.op, node.parents
    if op in CONSTANT_PARTIALS or (op in ("*", "/") and len(parents) == 1):
        return node.local_grads
    rule = RULES.get(op)
    if rule is not None:
        return rule.partials(*parents, node)
    if op == "dot":  # parents (w0, x0, w1, x1, ..., [bias]): each partial is the pair's partner
        partials: list[Any] = []
        for i in range(0, len(parents) - 1, 2):
            partials += (parents[i + 1], parents[i])
        if len(parents) % 2:
            partials.append(1.0)
        return tuple(partials)
    custom = CUSTOM.get(op)
    if custom is not None:
        try:
            return tuple(custom.partials(*parents))
        except TypeError as e:
            raise TypeError(
                f"op {op!r}: its local_grads function does not accept Values ({e}); write it with Value "
                f"operations (+ - * / **, .exp(), .log(), other define_op ops) to differentiate it twice"
            ) from None
    if op.startswith("**"):
        return pow_const_partials(parents[0], node, float(op[2:]))
    if op.endswith("**"):
        return rpow_const_partials(parents[0], node, float(op[:-2]))
    if op.endswith("/"):
        return rdiv_const_partials(parents[0], node, float(op[:-1]))
    raise ValueError(f"no derivative rule for op {op!r}")


def node_forward(node: Value) -> Callable[..., float] | None:
    """A float function recomputing ``node.data`` from its parents' data, or None for ops whose
    local gradients are constants (nothing to check) or unknown."""
    op, n = node.op, len(node.parents)
    if n == 2 and op in ("+", "-", "*", "/", "**"):
        return {"+": ADD, "-": SUB, "*": MUL, "/": DIV, "**": POW}[op].forward
    unary = {o.name: o for o in (NEG, ABS, EXP, LOG, SQRT, TANH, SIGMOID, RELU, SOFTPLUS)}
    if op in unary:
        return unary[op].forward
    if op in CUSTOM:
        return CUSTOM[op].forward
    if op == "dot":
        def affine(*xs: float) -> float:
            acc = xs[-1] if n % 2 else 0.0
            for i in range(0, n - 1, 2):
                acc = acc + xs[i] * xs[i + 1]
            return acc

        return affine
    if n == 1 and op.startswith("**"):
        c = float(op[2:])
        return lambda x: fpow(x, c)
    if n == 1 and op.endswith("**"):
        c = float(op[:-2])
        return lambda x: fpow(c, x)
    if n == 1 and op.endswith("/") and op != "/":
        c = float(op[:-1])
        return lambda x: fdiv(c, x)
    return None
