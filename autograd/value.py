"""``Value``: one float in a computation graph, with its parents and local gradients as plain data.

A node's whole story is a few attributes a debugger shows directly::

    data         the float computed by the forward pass
    grad         d(output)/d(this node), filled in by backward()
    op           '' for a leaf, otherwise the op that made it ('+', '*', 'tanh', '**2', ...)
    parents      the input Values, in argument order
    local_grads  d(this node)/d(parent) for each parent, as floats computed at forward time
    label        a name you choose, shown in repr and graph drawings
    primitive    the op's record in autograd.ops (its forward, rule, code and array forms)
    const        the constant folded into the op (the 2 in x * 2), or None

There are no closures: backpropagation is ``parent.grad += local_grad * node.grad`` along every
edge, in reverse topological order (see ``autograd.backward``).

Constants are folded, not turned into nodes: in ``a * 2`` the only parent is ``a``, its local
gradient is ``2.0``, and the node keeps the constant as ``node.const == 2.0``. Such nodes are
:class:`FoldedValue`\\ s, a Value with that one more slot, so other nodes stay small.
"""

from __future__ import annotations

import math
from collections.abc import Generator, Sequence
from types import CodeType
from typing import TYPE_CHECKING, Any

from autograd import ops
from autograd.backward import Step, backward, backward_steps
from autograd.modes import MODE, AnomalyError, caller_origin
from autograd.ops import Primitive, as_float

if TYPE_CHECKING:
    from autograd.show.stepper import Stepper

__all__ = [
    "READS_FOR_CALLER", "FoldedValue", "TracedValue", "Value", "as_float", "dot", "logsumexp", "record_node", "select",
]

_new = object.__new__
_NO_PARENTS: tuple[Value, ...] = ()
_NO_GRADS: tuple[float, ...] = ()
_ONE = (1.0,)
_MINUS_ONE = (-1.0,)
_ONE_ONE = (1.0, 1.0)
_ONE_MINUS_ONE = (1.0, -1.0)
ADD, SUB, MUL, DIV, POW = ops.ADD, ops.SUB, ops.MUL, ops.DIV, ops.POW
ADD_CONST, SUB_CONST, RSUB_CONST, MUL_CONST = ops.ADD_CONST, ops.SUB_CONST, ops.RSUB_CONST, ops.MUL_CONST

# x * c has the local gradient (c,). A loop multiplies by the same float object again and again
# (a literal, a learning rate), so the tuple of the last such constant is shared: 48 bytes less
# per node of a long chain. Keyed by identity, so -0.0 and nan never borrow another's tuple.
_last_scale: tuple[Any, tuple[float]] = (None, (0.0,))


def _scale_grads(c: float) -> tuple[float]:
    global _last_scale
    last = _last_scale  # one read: the pair stays consistent even if another thread replaces it
    if last[0] is c:
        return last[1]
    grads = (c,)
    _last_scale = (c, grads)
    return grads


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

    __slots__ = ("data", "grad", "label", "primitive", "parents", "local_grads")

    data: float
    grad: float
    label: str
    primitive: Primitive | None
    parents: tuple[Value, ...]
    local_grads: tuple[float, ...]
    const: float | None = None
    """The constant folded into this node's op (``x * 2`` keeps ``2.0``), else None. On a leaf it
    marks a constant rather than an input (``autograd.grad`` returns such leaves for gradients
    that depend on no input); ``to_sympy`` writes it as the number."""

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
        self.primitive = None
        self.parents = _NO_PARENTS
        self.local_grads = _NO_GRADS
        if isinstance(self, TracedValue):
            self.const = None
            self._origin = caller_origin()

    # --- reading a node -------------------------------------------------------------------

    def __repr__(self) -> str:
        parts = [f"data={self.data!r}", f"grad={self.grad!r}"]
        if self.primitive is not None:
            parts.append(f"op={self.op!r}")
            if self.const is not None:
                parts.append(f"const={self.const!r}")
        if self.label:
            parts.append(f"label={self.label!r}")
        return f"Value({', '.join(parts)})"

    @property
    def op(self) -> str:
        """``''`` for a leaf, else the op that made this node: ``'+'``, ``'tanh'``, ``'**2'``, ..."""
        prim = self.primitive
        return "" if prim is None else prim.op_string(self.const)

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
        gradient came from. See ``autograd.show.explain.explain``."""
        from autograd.show.explain import explain  # here, not at the top: the core loads no display code

        return explain(self, root)

    def stepper(self, **options: Any) -> Stepper:
        """An interactive step-through of this node's backward pass (``autograd.Stepper``)."""
        from autograd.show.stepper import Stepper

        return Stepper(self, **options)

    def detach(self) -> Value:
        """A new leaf with the same data and no history."""
        return Value(self.data)

    # --- a Value in Python's own protocols: truth, comparisons, float(), copies, pickles -------
    # Like a one-element PyTorch tensor: truth and order follow ``data`` (so ``if loss > 0:``
    # reads the number, and ``if loss:`` is False for a zero loss). ``==`` stays identity, so
    # Values work as dict keys and set members. ``float(v)`` is refused: it is what ``math``
    # functions call, and ``math.sin(v)`` quietly dropping ``v`` from the graph would be a
    # silently wrong derivative; ``v.data`` says what it does.

    def __bool__(self) -> bool:
        """``bool(v)`` is ``bool(v.data)``: False for 0.0, True otherwise (nan included, as for floats)."""
        return bool(self.data)

    def __float__(self) -> float:
        """Refused with a ``TypeError``: use ``v.data`` (the number) or a Value method (``v.exp()``)."""
        raise TypeError(
            "float() of a Value would drop it from the graph; use v.data for the number, or Value "
            "operations (v.exp(), v.log(), ...) to stay differentiable (math functions call float())"
        )

    def __lt__(self, other: Value | float) -> bool:
        """Compares ``data``: ``v < 0``, ``v < w``."""
        y = _compared(other)
        return NotImplemented if y is None else self.data < y

    def __le__(self, other: Value | float) -> bool:
        """Compares ``data``."""
        y = _compared(other)
        return NotImplemented if y is None else self.data <= y

    def __gt__(self, other: Value | float) -> bool:
        """Compares ``data``."""
        y = _compared(other)
        return NotImplemented if y is None else self.data > y

    def __ge__(self, other: Value | float) -> bool:
        """Compares ``data``."""
        y = _compared(other)
        return NotImplemented if y is None else self.data >= y

    __hash__ = object.__hash__  # identity, as ``==``

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        """Pickle this node with its whole graph as a flat table (no recursion: deep chains work).
        Ops are found again by name in ``autograd.ops.REGISTRY`` (a user op must be defined
        before unpickling)."""
        return _rebuild, (_flatten(self),)

    def __deepcopy__(self, memo: dict[int, Any]) -> Value:
        """A copy of this node and every node it depends on, made without recursion."""
        for node in _topological(self):
            if id(node) not in memo:
                memo[id(node)] = _copy_node(node, tuple(memo[id(p)] for p in node.parents))
        copied: Value = memo[id(self)]
        return copied

    # --- arithmetic: each op is a record in autograd.ops; + - * compute inline (the hot path) --

    def __add__(self, other: Value | float) -> Value:
        """x + y; d/dx = 1, d/dy = 1"""
        x = self.data
        if type(other) is float:  # a float constant: the common case, no conversion needed
            return _folded(x + other, ADD_CONST, (self,), _ONE, other)
        if isinstance(other, Value):
            return _node(x + other.data, ADD, (self, other), _ONE_ONE)
        c = as_float(other)
        if c is None:
            return NotImplemented
        return _folded(x + c, ADD_CONST, (self,), _ONE, c)

    def __radd__(self, other: float) -> Value:
        """c + x; d/dx = 1"""
        c = other if type(other) is float else as_float(other)
        if c is None:
            return NotImplemented
        return _folded(c + self.data, ADD_CONST, (self,), _ONE, c)

    def __sub__(self, other: Value | float) -> Value:
        """x - y; d/dx = 1, d/dy = -1"""
        x = self.data
        if type(other) is float:
            return _folded(x - other, SUB_CONST, (self,), _ONE, other)
        if isinstance(other, Value):
            return _node(x - other.data, SUB, (self, other), _ONE_MINUS_ONE)
        c = as_float(other)
        if c is None:
            return NotImplemented
        return _folded(x - c, SUB_CONST, (self,), _ONE, c)

    def __rsub__(self, other: float) -> Value:
        """c - x; d/dx = -1"""
        c = other if type(other) is float else as_float(other)
        if c is None:
            return NotImplemented
        return _folded(c - self.data, RSUB_CONST, (self,), _MINUS_ONE, c)

    def __mul__(self, other: Value | float) -> Value:
        """x * y; d/dx = y, d/dy = x"""
        x = self.data
        if type(other) is float:
            last = _last_scale  # the shared (c,) of a repeated constant, without a call
            return _folded(x * other, MUL_CONST, (self,), last[1] if last[0] is other else _scale_grads(other), other)
        if isinstance(other, Value):
            y = other.data
            return _node(x * y, MUL, (self, other), (y, x))
        c = as_float(other)
        if c is None:
            return NotImplemented
        return _folded(x * c, MUL_CONST, (self,), (c,), c)

    def __rmul__(self, other: float) -> Value:
        """c * x; d/dx = c"""
        if type(other) is float:
            last = _last_scale
            return _folded(other * self.data, MUL_CONST, (self,), last[1] if last[0] is other else _scale_grads(other),
                           other)
        c = as_float(other)
        if c is None:
            return NotImplemented
        return _folded(c * self.data, MUL_CONST, (self,), (c,), c)

    def __truediv__(self, other: Value | float) -> Value:
        """x / y; d/dx = 1/y, d/dy = -x/y**2"""
        if isinstance(other, Value):
            return _binary(self, other, DIV)
        c = as_float(other)
        if c is None:
            return NotImplemented
        return _with_constant(self, ops.DIV_CONST, c)

    def __rtruediv__(self, other: float) -> Value:
        """c / x; d/dx = -c/x**2"""
        c = as_float(other)
        if c is None:
            return NotImplemented
        return _with_constant(self, ops.RDIV_CONST, c)

    def __pow__(self, other: Value | float, modulo: None = None) -> Value:
        """x ** y; d/dx = y * x**(y-1), d/dy = x**y * log(x)"""
        if modulo is not None:
            raise TypeError("pow() with a modulus is not supported for Value")
        if isinstance(other, Value):
            return _binary(self, other, POW)
        c = as_float(other)
        if c is None:
            return NotImplemented
        return _with_constant(self, ops.POW_CONST, c)

    def __rpow__(self, other: float) -> Value:
        """c ** x; d/dx = c**x * log(c)"""
        c = as_float(other)
        if c is None:
            return NotImplemented
        return _with_constant(self, ops.RPOW_CONST, c)

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

    def heaviside(self) -> Value:
        """The unit step of a threshold unit: 1.0 if x >= 0 (-0.0 included) else 0.0, nan for nan;
        d/dx = 0 everywhere, at the jump too (so no gradient flows through it)."""
        return _unary(self, ops.HEAVISIDE)

    def softplus(self) -> Value:
        """log(1 + exp(x)); d/dx = sigmoid(x); overflow-safe"""
        return _unary(self, ops.SOFTPLUS)

    def leaky_relu(self, slope: float = 0.01) -> Value:
        """x if x > 0 else slope * x; d/dx = 1 if x > 0 else slope"""
        s = as_float(slope)
        if s is None:
            raise TypeError(f"leaky_relu slope must be a real number, got {type(slope).__name__}")
        return _with_constant(self, ops.LEAKY_RELU, s)

    # --- backpropagation ----------------------------------------------------------------

    def backward(self, grad: float = 1.0) -> None:
        """Backpropagate from this node: add d(self)/d(leaf) * grad to every leaf's ``.grad``.

        Leaves accumulate across calls (like PyTorch); every interior node's ``.grad`` is reset
        and then holds this pass's gradient. See ``autograd.backward.backward``.
        """
        backward(self, grad)

    def backward_steps(self, grad: float = 1.0) -> Generator[Step, None, None]:
        """The backward pass one edge at a time; see ``autograd.backward.backward_steps``."""
        return backward_steps(self, grad)


def _unary(x: Value, prim: Primitive) -> Value:
    d = x.data
    out = prim.forward(d)
    return _node(out, prim, (x,), prim.local_grads(d, out))


def _binary(x: Value, y: Value, prim: Primitive) -> Value:
    a, b = x.data, y.data
    out = prim.forward(a, b)
    return _node(out, prim, (x, y), prim.local_grads(a, b, out))


def _with_constant(x: Value, prim: Primitive, c: float) -> Value:
    d = x.data
    out = prim.forward(d, c)
    return _folded(out, prim, (x,), prim.local_grads(d, c, out), c)


def record_node(
    data: float, primitive: Primitive, parents: tuple[Value, ...], local_grads: tuple[float, ...],
    const: float | None = None,
) -> Value:
    """Record a node that ``primitive`` made from ``parents`` (with folded constant ``const``):
    what every op method does. ``autograd.define_op`` records user ops through it."""
    if const is None:
        return _node(data, primitive, parents, local_grads)
    return _folded(data, primitive, parents, local_grads, const)


def _node(data: float, prim: Primitive, parents: tuple[Value, ...], local_grads: tuple[float, ...]) -> Value:
    """Record one op's result. The fast path is six slot stores; modes take the slow path."""
    if not MODE.plain:
        return _node_with_modes(data, prim, parents, local_grads, None)
    v = _new(Value)
    v.data = data
    v.grad = 0.0
    v.label = ""
    v.primitive = prim
    v.parents = parents
    v.local_grads = local_grads
    return v


def _folded(
    data: float, prim: Primitive, parents: tuple[Value, ...], local_grads: tuple[float, ...], const: float
) -> Value:
    """Record the result of an op with a folded constant, which the node keeps as ``const``."""
    if not MODE.plain:
        return _node_with_modes(data, prim, parents, local_grads, const)
    v = _new(FoldedValue)
    v.data = data
    v.grad = 0.0
    v.label = ""
    v.primitive = prim
    v.parents = parents
    v.local_grads = local_grads
    v.const = const
    return v


def _node_with_modes(
    data: float, prim: Primitive, parents: tuple[Value, ...], local_grads: tuple[float, ...], const: float | None
) -> Value:
    if MODE.anomaly and not math.isfinite(data) and all(math.isfinite(p.data) for p in parents):
        inputs = ", ".join(repr(p.data) for p in parents)
        if const is not None:
            inputs += f" and the constant {const!r}"
        # the node is made all the same, so the error can carry it (it surfaced and started here)
        bad = _record_with_modes(data, prim, parents, local_grads, const)
        raise AnomalyError(
            f"op {prim.op_string(const)!r} produced {data!r} from finite inputs ({inputs}) at {caller_origin()}; "
            "it started there",
            surfaced=bad,
            cause=bad,
        )
    return _record_with_modes(data, prim, parents, local_grads, const)


def _record_with_modes(
    data: float, prim: Primitive, parents: tuple[Value, ...], local_grads: tuple[float, ...], const: float | None
) -> Value:
    if not MODE.grad_enabled:  # no_grad: the result is a plain leaf with no history
        leaf = _new(TracedValue) if MODE.origins or MODE.anomaly else _new(Value)
        leaf.__init__(data)  # type: ignore[misc]
        return leaf
    v: Value
    if MODE.origins or MODE.anomaly:
        tv = _new(TracedValue)
        tv._origin = caller_origin()
        v = tv
    else:
        v = _new(Value if const is None else FoldedValue)
    v.data = data
    v.grad = 0.0
    v.label = ""
    v.primitive = prim
    v.parents = parents
    v.local_grads = local_grads
    if isinstance(v, FoldedValue):  # a TracedValue has the slot too: None when nothing was folded
        v.const = const
    return v


class FoldedValue(Value):
    """A Value whose op folded a constant (``x + 2``, ``2 / x``, ``x.leaky_relu(0.1)``): the
    node keeps it as ``const``, which drawings, tapes and exporters read."""

    __slots__ = ("const",)
    const: float | None


class TracedValue(FoldedValue):
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
    return _node(acc, ops.DOT, tuple(parents), tuple(grads))


def _as_values(xs: Sequence[Value | float], who: str) -> tuple[Value, ...]:
    if isinstance(xs, (Value, str, bytes)) or not hasattr(xs, "__len__"):
        raise TypeError(f"{who} takes a list of Values or numbers, got {type(xs).__name__}")
    out = []
    for i, x in enumerate(xs):
        if isinstance(x, Value):
            out.append(x)
            continue
        f = as_float(x)
        if f is None:
            raise TypeError(f"{who} entry {i} must be a Value or a real number, got {type(x).__name__}")
        out.append(Value(f))
    return tuple(out)


def logsumexp(values: Sequence[Value | float]) -> Value:
    """``log(exp(z0) + exp(z1) + ...)`` as one node, op ``'logsumexp'``, stable for any logits.

    The largest input is subtracted inside the op, so logits of ±1000 give finite results and the
    graph is the same whatever the data (a compiled ``Tape`` can record it). ``-inf`` entries are
    allowed; all ``-inf`` gives ``-inf``. Local gradients are the softmax, ``exp(z_i - out)``.

        >>> logsumexp([Value(0.0), Value(0.0)]).data == math.log(2.0)
        True
    """
    parents = _as_values(values, "logsumexp()")
    if not parents:
        raise ValueError("logsumexp() needs at least one value")
    prim = ops.LOGSUMEXP
    datas = [p.data for p in parents]
    out = prim.forward(*datas)
    return _node(out, prim, parents, prim.local_grads(*datas, out))


def select(index: Value | float, values: Sequence[Value | float]) -> Value:
    """``values[index]`` as one node, op ``'select'``, where the index may be a Value (a class label
    that is an input of a recorded per-sample graph). Parents are ``(index, *values)``; the
    gradient is 1 for the selected value, 0 for the others and for the index. An index that is not
    a whole number in ``range(len(values))`` gives nan.

        >>> select(Value(1.0), [Value(5.0), Value(7.0)]).data
        7.0
    """
    parents = _as_values([index, *values], "select()")
    if len(parents) < 2:
        raise ValueError("select() needs at least one value to select from")
    prim = ops.SELECT
    datas = [p.data for p in parents]
    out = prim.forward(*datas)
    return _node(out, prim, parents, prim.local_grads(*datas, out))


def _compared(other: object) -> float | None:
    return other.data if isinstance(other, Value) else as_float(other)


READS_FOR_CALLER: dict[CodeType, str] = {
    Value.__bool__.__code__: "bool()",
    Value.__lt__.__code__: "a comparison",
    Value.__le__.__code__: "a comparison",
    Value.__gt__.__code__: "a comparison",
    Value.__ge__.__code__: "a comparison",
    _compared.__code__: "a comparison",
    Value.detach.__code__: "detach()",
}
"""The functions here that read a node's number on behalf of their caller (``if v > 0:``), with
how ``autograd.replay.reads`` names such a read: the read is the caller's, not the engine's."""


def _topological(root: Value) -> list[Value]:
    from autograd.backward import topological_order

    return topological_order(root)


def _copy_node(node: Value, parents: tuple[Value, ...]) -> Value:
    copy = _new(type(node))
    copy.data, copy.grad, copy.label = node.data, node.grad, node.label
    copy.primitive, copy.parents, copy.local_grads = node.primitive, parents, node.local_grads
    if isinstance(copy, FoldedValue):
        copy.const = node.const
    if isinstance(copy, TracedValue):
        copy._origin = node.origin or ""
    return copy


def _flatten(root: Value) -> list[tuple[Any, ...]]:
    """Every node ``root`` depends on, parents first, as plain data (parents by position)."""
    order = _topological(root)
    index = {node: i for i, node in enumerate(order)}
    return [
        (type(node).__name__, node.data, node.grad, node.label,
         None if node.primitive is None else (node.primitive.name, node.primitive.definition),
         tuple(index[p] for p in node.parents), node.local_grads,
         node.const, node.origin)
        for node in order
    ]


def _rebuild(table: list[tuple[Any, ...]]) -> Value:
    """The inverse of ``_flatten``: rebuild the graph and return its root (the last node)."""
    classes = {"Value": Value, "FoldedValue": FoldedValue, "TracedValue": TracedValue}
    nodes: list[Value] = []
    for kind, data, grad, label, op, parents, local_grads, const, origin in table:
        name, definition = (None, "") if op is None else op
        prim = None if name is None else ops.REGISTRY.get(name)
        if kind not in classes or (name is not None and prim is None):
            raise ValueError(f"cannot unpickle a Value of kind {kind!r} made by op {name!r}: "
                             "define the op (autograd.define_op) before unpickling")
        if prim is not None and prim.definition != definition:
            raise ValueError(f"cannot unpickle: op {name!r} was defined differently when this graph was pickled "
                             "(its forward or derivative functions changed); its numbers and local gradients "
                             "belong to the old rule. Define the op as it was, or rebuild the graph")
        node = _new(classes[kind])
        node.data, node.grad, node.label = float(data), float(grad), str(label)
        node.primitive = prim
        node.parents = tuple(nodes[i] for i in parents)
        node.local_grads = tuple(local_grads)
        if isinstance(node, FoldedValue):
            node.const = const
        if isinstance(node, TracedValue):
            node._origin = origin
        nodes.append(node)
    return nodes[-1]
