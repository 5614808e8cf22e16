"""Compiled replay: record the graph of a step once, then rerun forward and backward over flat lists.

A training loop builds the same graph every step; only the parameters' values change. ``Tape``
runs a loss-building function once while recording every node (with the constants folded into
ops like ``x + 2``), turns the graph into a list of instructions over numbered slots, and then
replays forward and backward on plain floats, creating no Value objects::

    tape = Tape(lambda: loss_of(model), model.parameters())
    for step in range(100):
        model.zero_grad()
        loss = tape.run()              # forward + backward; adds to every p.grad
        optimizer.step()

Each op is replayed with exactly the arithmetic its ``Value`` method uses, in the same order as
``backward()``, so values and gradients are bit-for-bit those of the rebuilt graph.

What a tape cannot see is Python code around the ops: a plain number computed from ``.data`` (a
label, ``max(z.data ...)``) is baked in as a constant, and an ``if`` on ``.data`` is frozen the
way it went when recording. ``tape.verify()`` re-runs the function and raises
:class:`TapeMismatchError` if the fresh graph differs in any op, edge or constant; ``nn.train``
does this once after the first update and falls back to building graphs if it fails.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from autograd import ops
from autograd.backward import topological_order
from autograd.modes import MODE
from autograd.value import Value

__all__ = ["Tape", "TapeMismatchError"]

# instruction kinds
_ADD, _ADDC, _SUB, _SUBC, _RSUBC, _MUL, _MULC, _DIV, _DIVC, _RDIVC = range(10)
_POW, _POWC, _RPOWC, _UNARY, _DOT, _CUSTOM = range(10, 16)

_UNARY_OPS = {op.name: op for op in (ops.NEG, ops.ABS, ops.EXP, ops.LOG, ops.SQRT, ops.TANH, ops.SIGMOID,
                                     ops.RELU, ops.SOFTPLUS)}

Instruction = tuple[int, int, tuple[int, ...], float, Any]
LossFn = Callable[[], "Value | tuple[Value, Sequence[Value]]"]


class TapeMismatchError(RuntimeError):
    """A fresh trace of the function no longer matches the recorded tape."""


def _trace(fn: LossFn) -> tuple[Value, list[Value], dict[Value, float]]:
    """Run ``fn`` while recording each node's folded constant."""
    saved = MODE.constants
    MODE.constants = {}
    MODE.refresh()
    try:
        result = fn()
        constants = MODE.constants
    finally:
        MODE.constants = saved
        MODE.refresh()
    if isinstance(result, Value):
        return result, [], constants
    if isinstance(result, tuple) and len(result) == 2 and isinstance(result[0], Value):
        watched = list(result[1])
        if not all(isinstance(v, Value) for v in watched):
            raise TypeError("the watched values returned by the tape's function must be Values")
        return result[0], watched, constants
    raise TypeError(f"the tape's function must return a Value or (Value, [Values]), got {type(result).__name__}")


def _encode(node: Value, slots: tuple[int, ...], const: float) -> Instruction:
    op, n = node.op, len(node.parents)
    if op == "dot":
        return (_DOT, 0, slots, 0.0, n % 2 == 1)
    if op in ops.CUSTOM:
        return (_CUSTOM, 0, slots, 0.0, ops.CUSTOM[op])
    if op == "leaky_relu":
        return (_UNARY, 0, slots, const, ops.leaky_relu_op(const))
    if op in _UNARY_OPS:
        return (_UNARY, 0, slots, 0.0, _UNARY_OPS[op])
    if n == 2:
        kind = {"+": _ADD, "-": _SUB, "*": _MUL, "/": _DIV, "**": _POW}.get(op)
        if kind is not None:
            return (kind, 0, slots, 0.0, None)
    if n == 1:
        if op == "+":
            return (_ADDC, 0, slots, const, None)
        if op == "-":
            return (_SUBC if node.local_grads[0] > 0 else _RSUBC, 0, slots, const, None)
        if op == "*":
            return (_MULC, 0, slots, node.local_grads[0], None)
        if op == "/":
            return (_DIVC, 0, slots, const, None)
        if op.startswith("**"):
            return (_POWC, 0, slots, float(op[2:]), None)
        if op.endswith("**"):
            return (_RPOWC, 0, slots, float(op[:-2]), None)
        if op.endswith("/"):
            return (_RDIVC, 0, slots, float(op[:-1]), None)
    raise ValueError(f"cannot compile op {op!r} with {n} parent(s)")


class Tape:
    """A recorded forward/backward program for ``fn``, replayed on the current parameter values.

    Args:
        fn: builds the graph from the parameters and returns the loss, or ``(loss, watched)``
            where ``watched`` are Values whose replayed data you want back (e.g. scores).
        params: the leaves whose values change between runs (``model.parameters()``); every
            other leaf of the graph is a constant baked into the tape.
    """

    def __init__(self, fn: LossFn, params: Sequence[Value]) -> None:
        self.fn = fn
        self.params = list(params)
        for i, p in enumerate(self.params):
            if not isinstance(p, Value) or p.parents:
                raise TypeError(f"Tape params[{i}] must be a leaf Value, got {p!r:.60}")
        output, watched, constants = _trace(fn)
        self._compile(output, watched, constants)

    def _compile(self, output: Value, watched: list[Value], constants: dict[Value, float]) -> None:
        slot: dict[Value, int] = {p: i for i, p in enumerate(self.params)}
        init: list[float] = [p.data for p in self.params]
        code: list[Instruction] = []
        for node in topological_order(output):
            if node in slot:
                continue
            slot[node] = len(init)
            init.append(node.data)
            if node.parents:
                kind, _, ps, c, extra = _encode(node, tuple(slot[p] for p in node.parents), constants.get(node, 0.0))
                code.append((kind, slot[node], ps, c, extra))
        for i, w in enumerate(watched):
            if w not in slot:
                raise ValueError(f"watched value {i} is not part of the loss's graph")
        self._init = init
        self._code = code
        self._out = slot[output]
        self._watched = [slot[w] for w in watched]
        self._n_params = len(self.params)
        self.watched: list[float] = [w.data for w in watched]
        self._fingerprint = self._fingerprint_of(init, code)

    def _fingerprint_of(self, init: list[float], code: list[Instruction]) -> tuple[Any, ...]:
        """Everything a replay depends on: each instruction and the value of each constant leaf."""
        instructions = tuple((k, o, ps, repr(c)) for k, o, ps, c, _ in code)
        computed = {o for _, o, _, _, _ in code}
        leaves = tuple(repr(init[i]) for i in range(self._n_params, len(init)) if i not in computed)
        return instructions, leaves

    def __len__(self) -> int:
        return len(self._code)

    def run(self, grad: float = 1.0) -> float:
        """Replay forward and backward on the parameters' current ``.data``; add each parameter's
        gradient to its ``.grad`` (leaves accumulate, as with ``backward()``) and return the loss.
        Replayed values of the watched nodes are left in ``self.watched``."""
        vals = list(self._init)
        params = self.params
        for i in range(self._n_params):
            vals[i] = params[i].data
        fdiv, fpow = ops.fdiv, ops.fpow
        locs: list[tuple[float, ...]] = []
        push = locs.append
        for kind, o, ps, c, extra in self._code:
            if kind == _DOT:
                acc = vals[ps[-1]] if extra else 0.0
                lg: list[float] = []
                for j in range(0, len(ps) - 1, 2):
                    w = vals[ps[j]]
                    x = vals[ps[j + 1]]
                    acc = acc + w * x
                    lg += (x, w)
                if extra:
                    lg.append(1.0)
                vals[o] = acc
                push(tuple(lg))
            elif kind == _UNARY:
                x = vals[ps[0]]
                out = extra.forward(x)
                vals[o] = out
                push(extra.partials(x, out))
            elif kind == _MUL:
                x, y = vals[ps[0]], vals[ps[1]]
                vals[o] = x * y
                push((y, x))
            elif kind == _ADD:
                vals[o] = vals[ps[0]] + vals[ps[1]]
                push((1.0, 1.0))
            elif kind == _MULC:
                vals[o] = vals[ps[0]] * c
                push((c,))
            elif kind == _ADDC:
                vals[o] = vals[ps[0]] + c
                push((1.0,))
            elif kind == _SUB:
                vals[o] = vals[ps[0]] - vals[ps[1]]
                push((1.0, -1.0))
            elif kind == _SUBC:
                vals[o] = vals[ps[0]] - c
                push((1.0,))
            elif kind == _RSUBC:
                vals[o] = c - vals[ps[0]]
                push((-1.0,))
            elif kind == _DIV:
                x, y = vals[ps[0]], vals[ps[1]]
                out = fdiv(x, y)
                vals[o] = out
                push(ops.DIV.partials(x, y, out))
            elif kind == _DIVC:
                vals[o] = fdiv(vals[ps[0]], c)
                push((fdiv(1.0, c),))
            elif kind == _RDIVC:
                x = vals[ps[0]]
                out = fdiv(c, x)
                vals[o] = out
                push(ops.rdiv_const_partials(x, out, c))
            elif kind == _POW:
                x, y = vals[ps[0]], vals[ps[1]]
                out = fpow(x, y)
                vals[o] = out
                push(ops.POW.partials(x, y, out))
            elif kind == _POWC:
                x = vals[ps[0]]
                out = fpow(x, c)
                vals[o] = out
                push(ops.pow_const_partials(x, out, c))
            elif kind == _RPOWC:
                x = vals[ps[0]]
                out = fpow(c, x)
                vals[o] = out
                push(ops.rpow_const_partials(x, out, c))
            else:  # _CUSTOM
                xs = [vals[p] for p in ps]
                vals[o] = float(extra.forward(*xs))
                push(tuple(float(g) for g in extra.partials(*xs)))
        grads = [0.0] * len(vals)
        grads[self._out] = float(grad)
        code = self._code
        for idx in range(len(code) - 1, -1, -1):
            _, o, ps, _, _ = code[idx]
            g = grads[o]
            for p, local in zip(ps, locs[idx]):
                grads[p] += local * g
        for i in range(self._n_params):
            param = params[i]
            param.grad = param.grad + grads[i]
        self.watched = [vals[i] for i in self._watched]
        return vals[self._out]

    def verify(self) -> bool:
        """Re-run the function and check the fresh graph matches the tape (ops, edges, constants).

        Returns True, or raises :class:`TapeMismatchError` saying what differs. The fresh graph's
        values come from the current parameters, so call this after parameters have changed.
        """
        output, watched, constants = _trace(self.fn)
        fresh = Tape.__new__(Tape)
        fresh.fn, fresh.params = self.fn, self.params
        fresh._compile(output, watched, constants)
        if len(fresh._code) != len(self._code):
            raise TapeMismatchError(
                f"the function now builds {len(fresh._code)} ops, the tape has {len(self._code)}: its graph depends "
                "on the data (Python branching on .data?); build graphs each step instead"
            )
        if fresh._fingerprint != self._fingerprint:
            for i, (a, b) in enumerate(zip(fresh._fingerprint[0], self._fingerprint[0])):
                if a != b:
                    raise TapeMismatchError(f"op {i} of the tape changed ({b} -> {a}): a constant or an edge depends "
                                            "on the data; build graphs each step instead")
            raise TapeMismatchError("a constant leaf of the graph changed (data-dependent constant); build graphs "
                                    "each step instead")
        return True
