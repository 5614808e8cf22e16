"""``Value``: one float in a computation graph, with its parents and local gradients as plain data.

A node's whole story is six attributes a debugger shows directly::

    data         the float computed by the forward pass
    grad         d(output)/d(this node), filled in by backward()
    op           '' for a leaf, otherwise the op that made it ('+', '*', 'tanh', '**2', ...)
    parents      the input Values, in argument order
    local_grads  d(this node)/d(parent) for each parent, as floats computed at forward time
    label        a name you choose, shown in repr and graph drawings

There are no closures: backpropagation is ``parent.grad += local_grad * node.grad`` along every
edge, in reverse topological order (see ``autograd.backward``).

Constants are folded, not turned into nodes: in ``a * 2`` the only parent is ``a`` and its local
gradient is ``2.0``. Where a derivative needs the constant, the op name carries it (``a ** 2``
has op ``'**2'``, ``2 ** a`` has ``'2**'``, ``2 / a`` has ``'2/'``).
"""

from __future__ import annotations

import math
import numbers
from typing import TYPE_CHECKING, Any

from autograd import ops
from autograd.modes import MODE, AnomalyError, caller_origin

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

    from autograd.backward import Step

__all__ = ["Value", "dot"]

_new = object.__new__
_NO_PARENTS: tuple[Value, ...] = ()
_NO_GRADS: tuple[float, ...] = ()


def as_float(x: object) -> float | None:
    """``x`` as a float if it is a real number (int, float, NumPy scalar, ...), else None."""
    t = type(x)
    if t is float:
        return x  # type: ignore[return-value]
    if t is int or (isinstance(x, numbers.Real) and t is not Value):
        try:
            return float(x)  # type: ignore[arg-type]
        except OverflowError:  # an int too large for a float, like 10**400 (copysign would raise too)
            return math.inf if x > 0 else -math.inf  # type: ignore[operator]
    return None


class Value:
    """A scalar node of a computation graph, with reverse-mode automatic differentiation.

    Args:
        data: a real number (``int``, ``float``, NumPy scalar, ...); stored as ``float``.
        label: an optional name, shown by ``repr`` and in graph drawings.

    Example:
        >>> a, b = Value(2.0, label="a"), Value(-3.0, label="b")
        >>> e = a * b + b ** 2
        >>> e.backward()
        >>> a.grad, b.grad
        (-3.0, -4.0)
    """

    __slots__ = ("data", "grad", "label", "op", "parents", "local_grads")

    data: float
    grad: float
    label: str
    op: str
    parents: tuple[Value, ...]
    local_grads: tuple[float, ...]

    def __new__(cls, data: Any = 0.0, label: str = "") -> Value:
        # Under trace_origins/detect_anomaly a new leaf is a TracedValue, which has room to
        # remember where it was made; ordinary Values keep one slot less (8 bytes per node).
        if not MODE.plain and (MODE.origins or MODE.anomaly) and cls is Value:
            return _new(TracedValue)
        return _new(cls)

    def __init__(self, data: Any, label: str = "") -> None:
        x = as_float(data)
        if x is None:
            hint = "; use v.detach() for a new leaf with the same data" if isinstance(data, Value) else ""
            raise TypeError(f"Value() takes a real number (int or float), got {type(data).__name__}{hint}")
        if not isinstance(label, str):
            raise TypeError(f"Value label must be a str, got {type(label).__name__}")
        self.data = x
        self.grad = 0.0
        self.label = label
        self.op = ""
        self.parents = _NO_PARENTS
        self.local_grads = _NO_GRADS
        if isinstance(self, TracedValue):
            self._origin = caller_origin()

    # --- reading a node -------------------------------------------------------------------

    def __repr__(self) -> str:
        parts = [f"data={self.data!r}", f"grad={self.grad!r}"]
        if self.op:
            parts.append(f"op={self.op!r}")
        if self.label:
            parts.append(f"label={self.label!r}")
        return f"Value({', '.join(parts)})"

    @property
    def is_leaf(self) -> bool:
        """True for inputs, parameters and constants: a node with no parents."""
        return not self.parents

    @property
    def origin(self) -> str | None:
        """``'file.py:line'`` where this node was created, if recorded (see ``trace_origins``)."""
        return getattr(self, "_origin", None)

    def explain(self, root: Value | None = None) -> str:
        """How this node was computed and, given the ``root`` of a backward pass, where its
        gradient came from. See ``autograd.explain.explain``."""
        from autograd.explain import explain

        return explain(self, root)

    def detach(self) -> Value:
        """A new leaf with the same data and no history."""
        return Value(self.data)

    # --- arithmetic: each op is its forward and its local gradients (rules in autograd.ops) --

    def __add__(self, other: Value | float) -> Value:
        """x + y; d/dx = 1, d/dy = 1"""
        x = self.data
        if type(other) is float:  # a float constant: the common case, no conversion needed
            return _node(x + other, "+", (self,), (1.0,), other)
        if isinstance(other, Value):
            y = other.data
            out = x + y
            return _node(out, "+", (self, other), ops.ADD.partials(x, y, out))
        c = as_float(other)
        if c is None:
            return NotImplemented
        return _node(x + c, "+", (self,), (1.0,), c)

    def __radd__(self, other: float) -> Value:
        """c + x; d/dx = 1"""
        c = other if type(other) is float else as_float(other)
        if c is None:
            return NotImplemented
        return _node(c + self.data, "+", (self,), (1.0,), c)

    def __sub__(self, other: Value | float) -> Value:
        """x - y; d/dx = 1, d/dy = -1"""
        x = self.data
        if type(other) is float:
            return _node(x - other, "-", (self,), (1.0,), other)
        if isinstance(other, Value):
            y = other.data
            out = x - y
            return _node(out, "-", (self, other), ops.SUB.partials(x, y, out))
        c = as_float(other)
        if c is None:
            return NotImplemented
        return _node(x - c, "-", (self,), (1.0,), c)

    def __rsub__(self, other: float) -> Value:
        """c - x; d/dx = -1"""
        c = other if type(other) is float else as_float(other)
        if c is None:
            return NotImplemented
        return _node(c - self.data, "-", (self,), (-1.0,), c)

    def __mul__(self, other: Value | float) -> Value:
        """x * y; d/dx = y, d/dy = x"""
        x = self.data
        if type(other) is float:
            return _node(x * other, "*", (self,), (other,), other)
        if isinstance(other, Value):
            y = other.data
            out = x * y
            return _node(out, "*", (self, other), ops.MUL.partials(x, y, out))
        c = as_float(other)
        if c is None:
            return NotImplemented
        return _node(x * c, "*", (self,), (c,), c)

    def __rmul__(self, other: float) -> Value:
        """c * x; d/dx = c"""
        c = other if type(other) is float else as_float(other)
        if c is None:
            return NotImplemented
        return _node(c * self.data, "*", (self,), (c,), c)

    def __truediv__(self, other: Value | float) -> Value:
        """x / y; d/dx = 1/y, d/dy = -x/y**2"""
        x = self.data
        if isinstance(other, Value):
            y = other.data
            out = ops.fdiv(x, y)
            return _node(out, "/", (self, other), ops.DIV.partials(x, y, out))
        c = as_float(other)
        if c is None:
            return NotImplemented
        return _node(ops.fdiv(x, c), "/", (self,), (ops.fdiv(1.0, c),), c)

    def __rtruediv__(self, other: float) -> Value:
        """c / x; d/dx = -c/x**2"""
        c = as_float(other)
        if c is None:
            return NotImplemented
        x = self.data
        out = ops.fdiv(c, x)
        return _node(out, ops.const_name(c) + "/", (self,), ops.rdiv_const_partials(x, out, c))

    def __pow__(self, other: Value | float, modulo: None = None) -> Value:
        """x ** y; d/dx = y * x**(y-1), d/dy = x**y * log(x)"""
        if modulo is not None:
            raise TypeError("pow() with a modulus is not supported for Value")
        x = self.data
        if isinstance(other, Value):
            y = other.data
            out = ops.fpow(x, y)
            return _node(out, "**", (self, other), ops.POW.partials(x, y, out))
        c = as_float(other)
        if c is None:
            return NotImplemented
        out = ops.fpow(x, c)
        return _node(out, "**" + ops.const_name(c), (self,), ops.pow_const_partials(x, out, c))

    def __rpow__(self, other: float) -> Value:
        """c ** x; d/dx = c**x * log(c)"""
        c = as_float(other)
        if c is None:
            return NotImplemented
        x = self.data
        out = ops.fpow(c, x)
        return _node(out, ops.const_name(c) + "**", (self,), ops.rpow_const_partials(x, out, c))

    def __neg__(self) -> Value:
        """-x; d/dx = -1"""
        return _unary(self, ops.NEG)

    def __pos__(self) -> Value:
        """+x is x itself (no new node)."""
        return self

    def __abs__(self) -> Value:
        """|x|; d/dx = sign(x), 0 at 0"""
        return _unary(self, ops.ABS)

    def exp(self) -> Value:
        """exp(x); d/dx = exp(x)"""
        return _unary(self, ops.EXP)

    def log(self) -> Value:
        """natural log(x); d/dx = 1/x (log(0) = -inf, log(x<0) = nan)"""
        return _unary(self, ops.LOG)

    def sqrt(self) -> Value:
        """sqrt(x); d/dx = 1/(2 sqrt(x)) (sqrt(x<0) = nan)"""
        return _unary(self, ops.SQRT)

    def tanh(self) -> Value:
        """tanh(x); d/dx = 1 - tanh(x)**2"""
        return _unary(self, ops.TANH)

    def sigmoid(self) -> Value:
        """1/(1 + exp(-x)); d/dx = sigmoid(x) * (1 - sigmoid(x)); overflow-safe"""
        return _unary(self, ops.SIGMOID)

    def relu(self) -> Value:
        """max(x, 0); d/dx = 1 if x > 0 else 0"""
        return _unary(self, ops.RELU)

    def softplus(self) -> Value:
        """log(1 + exp(x)); d/dx = sigmoid(x); overflow-safe"""
        return _unary(self, ops.SOFTPLUS)

    def leaky_relu(self, slope: float = 0.01) -> Value:
        """x if x > 0 else slope * x; d/dx = 1 if x > 0 else slope"""
        s = as_float(slope)
        if s is None:
            raise TypeError(f"leaky_relu slope must be a real number, got {type(slope).__name__}")
        return _unary(self, ops.leaky_relu_op(s), s)

    # --- backpropagation ----------------------------------------------------------------

    def backward(self, grad: float = 1.0) -> None:
        """Backpropagate from this node: add d(self)/d(leaf) * grad to every leaf's ``.grad``.

        Leaves accumulate across calls (like PyTorch); every interior node's ``.grad`` is reset
        and then holds this pass's gradient. See ``autograd.backward.backward``.
        """
        from autograd.backward import backward

        backward(self, grad)

    def backward_steps(self, grad: float = 1.0) -> Iterator[Step]:
        """The backward pass one edge at a time; see ``autograd.backward.backward_steps``."""
        from autograd.backward import backward_steps

        return backward_steps(self, grad)


def _unary(x: Value, op: ops.Op, const: float = 0.0) -> Value:
    d = x.data
    out = op.forward(d)
    return _node(out, op.name, (x,), op.partials(d, out), const)


def _node(
    data: float, op: str, parents: tuple[Value, ...], local_grads: tuple[float, ...], const: float = 0.0
) -> Value:
    """Record one op's result. The fast path is six slot stores; modes take the slow path.

    ``const`` is the folded constant of ops like ``x + 2`` (or leaky_relu's slope); only a
    recording tape (``autograd.compiled``) keeps it, so it costs nothing otherwise."""
    if not MODE.plain:
        return _node_with_modes(data, op, parents, local_grads, const)
    v = _new(Value)
    v.data = data
    v.grad = 0.0
    v.label = ""
    v.op = op
    v.parents = parents
    v.local_grads = local_grads
    return v


def _node_with_modes(
    data: float, op: str, parents: tuple[Value, ...], local_grads: tuple[float, ...], const: float = 0.0
) -> Value:
    if MODE.anomaly and not math.isfinite(data) and all(math.isfinite(p.data) for p in parents):
        inputs = ", ".join(repr(p.data) for p in parents)
        if len(parents) == 1 and op in ("+", "-", "*", "/"):  # v / 0: the folded constant is no node
            inputs += " and a constant"
        raise AnomalyError(
            f"op {op!r} produced {data!r} from finite inputs ({inputs}) at {caller_origin()}"
        )
    v: Value
    if MODE.origins or MODE.anomaly:
        tv = _new(TracedValue)
        tv._origin = caller_origin()
        v = tv
    else:
        v = _new(Value)
    v.data = data
    v.grad = 0.0
    v.label = ""
    v.op = op
    if MODE.grad_enabled:
        v.parents = parents
        v.local_grads = local_grads
    else:
        v.op = ""
        v.parents = _NO_PARENTS
        v.local_grads = _NO_GRADS
    if MODE.constants is not None and v.parents:
        MODE.constants[v] = const
    return v


class TracedValue(Value):
    """A Value that remembers where it was created (``origin``). Made instead of a plain Value
    while :func:`~autograd.trace_origins` or :func:`~autograd.detect_anomaly` is active."""

    __slots__ = ("_origin",)
    _origin: str


def dot(weights: Sequence[Value], inputs: Sequence[Value | float], bias: Value | None = None) -> Value:
    """``bias + w0*x0 + w1*x1 + ...`` as one node (a neuron's affine step), op ``'dot'``.

    The sum is taken in the same order as micrograd's ``sum((w*x for ...), b)``, so the result
    is bit-for-bit the unfused graph's. Parents are laid out ``(w0, x0, w1, x1, ..., bias)``
    with local gradients ``(x0, w0, x1, w1, ..., 1.0)``. Plain-number inputs become leaf Values;
    ``dot([], [])`` is the leaf ``Value(0.0)``.

        >>> w = [Value(2.0), Value(-1.0)]
        >>> dot(w, [3.0, 4.0], Value(0.5)).data
        2.5
    """
    if len(weights) != len(inputs):
        raise ValueError(f"dot() needs as many weights as inputs, got {len(weights)} weights and {len(inputs)} inputs")
    acc = 0.0
    parents: list[Value] = []
    grads: list[float] = []
    if bias is not None:
        if not isinstance(bias, Value):
            raise TypeError(f"dot() bias must be a Value or None, got {type(bias).__name__}")
        acc = bias.data
    for w, x in zip(weights, inputs):
        if not isinstance(w, Value):
            raise TypeError(f"dot() weights must be Values, got {type(w).__name__}")
        if not isinstance(x, Value):
            x = Value(x)
        wd = w.data
        xd = x.data
        acc = acc + wd * xd
        parents += (w, x)
        grads += (xd, wd)
    if bias is not None:
        parents.append(bias)
        grads.append(1.0)
    if not parents:  # an empty sum with no bias is the constant 0.0, a leaf
        return Value(acc)
    return _node(acc, "dot", tuple(parents), tuple(grads))
