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
``backward()``, so values and gradients are bit-for-bit those of the rebuilt graph. The first run
interprets the instruction list; from the second, a tape of reasonable size runs as one generated
Python function (``autograd.codegen``; ``tape.source`` shows it), about three times faster.

What a tape cannot see is Python code around the ops: a plain number computed from ``.data`` (a
label, ``max(z.data ...)``) is baked in as a constant, and an ``if`` on ``.data`` is frozen the
way it went when recording. ``tape.verify()`` re-runs the function and raises
:class:`TapeMismatchError` if the fresh graph differs in any op, edge or constant; ``nn.train``
does this once after the first update and falls back to building graphs if it fails.
"""

from __future__ import annotations

import linecache
import weakref
from collections.abc import Callable, Sequence
from typing import Any

from autograd import ops
from autograd.backward import topological_order
from autograd.codegen import (
    ADD,
    ADDC,
    CUSTOM,
    DIV,
    DIVC,
    DOT,
    MUL,
    MULC,
    POW,
    POWC,
    RDIVC,
    RPOWC,
    RSUBC,
    SUB,
    SUBC,
    UNARY,
    Instruction,
    Kernel,
    compile_kernel,
)
from autograd.modes import MODE
from autograd.value import Value

__all__ = ["AUTO_CODEGEN_EDGES", "Tape", "TapeMismatchError"]

_UNARY_OPS = {op.name: op for op in (ops.NEG, ops.ABS, ops.EXP, ops.LOG, ops.SQRT, ops.TANH, ops.SIGMOID,
                                     ops.RELU, ops.SOFTPLUS)}

AUTO_CODEGEN_EDGES = 200_000
"""The largest tape (in edges) that ``Tape(codegen=None)`` compiles by itself: W1's step has 69,000
edges and compiles in about 0.8 s; a 400,000-edge chain takes 5 s and 1 GB of compiler memory."""

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
        return (DOT, 0, slots, 0.0, n % 2 == 1)
    if op in ops.CUSTOM:
        return (CUSTOM, 0, slots, 0.0, ops.CUSTOM[op])
    if op == "leaky_relu":
        return (UNARY, 0, slots, const, ops.leaky_relu_op(const))
    if op in _UNARY_OPS:
        return (UNARY, 0, slots, 0.0, _UNARY_OPS[op])
    if n == 2:
        kind = {"+": ADD, "-": SUB, "*": MUL, "/": DIV, "**": POW}.get(op)
        if kind is not None:
            return (kind, 0, slots, 0.0, None)
    if n == 1:
        if op == "+":
            return (ADDC, 0, slots, const, None)
        if op == "-":
            return (SUBC if node.local_grads[0] > 0 else RSUBC, 0, slots, const, None)
        if op == "*":
            return (MULC, 0, slots, node.local_grads[0], None)
        if op == "/":
            return (DIVC, 0, slots, const, None)
        if op.startswith("**"):
            return (POWC, 0, slots, float(op[2:]), None)
        if op.endswith("**"):
            return (RPOWC, 0, slots, float(op[:-2]), None)
        if op.endswith("/"):
            return (RDIVC, 0, slots, float(op[:-1]), None)
    raise ValueError(f"cannot compile op {op!r} with {n} parent(s)")


class Tape:
    """A recorded forward/backward program for ``fn``, replayed on the current parameter values.

    Args:
        fn: builds the graph from the parameters and returns the loss, or ``(loss, watched)``
            where ``watched`` are Values whose replayed data you want back (e.g. scores).
        params: the leaves whose values change between runs (``model.parameters()``); every
            other leaf of the graph is a constant baked into the tape.
        codegen: turn the tape into one generated Python function (``autograd.codegen``), about
            3x faster per run than interpreting it, at a one-time cost of roughly 10 us and a few
            KB of compiler memory per edge. ``None`` (the default) compiles at the second
            ``run()`` if the tape has at most ``AUTO_CODEGEN_EDGES`` edges, so a reused tape pays
            the cost and a tape run once, or a huge one, does not; ``True`` compiles now, ``False``
            never.

    After compiling, ``tape.source`` holds the generated code (tracebacks and debuggers show it).
    """

    def __init__(self, fn: LossFn, params: Sequence[Value], *, codegen: bool | None = None) -> None:
        if codegen not in (None, True, False):
            raise TypeError(f"Tape codegen must be True, False or None, got {codegen!r}")
        self.fn = fn
        self.params = list(params)
        for i, p in enumerate(self.params):
            if not isinstance(p, Value) or p.parents:
                raise TypeError(f"Tape params[{i}] must be a leaf Value, got {p!r:.60}")
        output, watched, constants = _trace(fn)
        self._compile(output, watched, constants)
        self._mode = codegen
        self.edges = sum(len(ins[2]) for ins in self._code)
        """How many edges (parent links) the tape has: the size of its backward pass."""
        self._runs = 0
        self._kernel: Kernel | None = None
        self.source: str | None = None
        if codegen:
            self._build_kernel()

    def _build_kernel(self) -> None:
        self._kernel, self.source, filename = compile_kernel(
            self._init, self._n_params, self._code, self._out, self._watched
        )
        weakref.finalize(self, linecache.cache.pop, filename, None)  # the source goes with the tape

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
        g = float(grad)
        params = self.params
        self._runs += 1
        if self._kernel is None and self._mode is None and self._runs == 2 and self.edges <= AUTO_CODEGEN_EDGES:
            self._build_kernel()
        if self._kernel is not None:
            loss, grads, watched = self._kernel([p.data for p in params], g)
        else:
            loss, grads, watched = self._interpret(g)
        for param, pg in zip(params, grads):
            param.grad = param.grad + pg
        self.watched = list(watched)
        return loss

    def _interpret(self, grad: float) -> tuple[float, tuple[float, ...], tuple[float, ...]]:
        """The reference replay: one dispatch per instruction over a list of slots."""
        vals = list(self._init)
        params = self.params
        for i in range(self._n_params):
            vals[i] = params[i].data
        fdiv, fpow = ops.fdiv, ops.fpow
        locs: list[tuple[float, ...]] = []
        push = locs.append
        for kind, o, ps, c, extra in self._code:
            if kind == DOT:
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
            elif kind == UNARY:
                x = vals[ps[0]]
                out = extra.forward(x)
                vals[o] = out
                push(extra.partials(x, out))
            elif kind == MUL:
                x, y = vals[ps[0]], vals[ps[1]]
                vals[o] = x * y
                push((y, x))
            elif kind == ADD:
                vals[o] = vals[ps[0]] + vals[ps[1]]
                push((1.0, 1.0))
            elif kind == MULC:
                vals[o] = vals[ps[0]] * c
                push((c,))
            elif kind == ADDC:
                vals[o] = vals[ps[0]] + c
                push((1.0,))
            elif kind == SUB:
                vals[o] = vals[ps[0]] - vals[ps[1]]
                push((1.0, -1.0))
            elif kind == SUBC:
                vals[o] = vals[ps[0]] - c
                push((1.0,))
            elif kind == RSUBC:
                vals[o] = c - vals[ps[0]]
                push((-1.0,))
            elif kind == DIV:
                x, y = vals[ps[0]], vals[ps[1]]
                out = fdiv(x, y)
                vals[o] = out
                push(ops.DIV.partials(x, y, out))
            elif kind == DIVC:
                vals[o] = fdiv(vals[ps[0]], c)
                push((fdiv(1.0, c),))
            elif kind == RDIVC:
                x = vals[ps[0]]
                out = fdiv(c, x)
                vals[o] = out
                push(ops.rdiv_const_partials(x, out, c))
            elif kind == POW:
                x, y = vals[ps[0]], vals[ps[1]]
                out = fpow(x, y)
                vals[o] = out
                push(ops.POW.partials(x, y, out))
            elif kind == POWC:
                x = vals[ps[0]]
                out = fpow(x, c)
                vals[o] = out
                push(ops.pow_const_partials(x, out, c))
            elif kind == RPOWC:
                x = vals[ps[0]]
                out = fpow(c, x)
                vals[o] = out
                push(ops.rpow_const_partials(x, out, c))
            else:  # CUSTOM
                xs = [vals[p] for p in ps]
                vals[o] = float(extra.forward(*xs))
                push(tuple(float(g) for g in extra.partials(*xs)))
        grads = [0.0] * len(vals)
        grads[self._out] = grad
        code = self._code
        for idx in range(len(code) - 1, -1, -1):
            _, o, ps, _, _ = code[idx]
            g = grads[o]
            for p, local in zip(ps, locs[idx]):
                grads[p] += local * g
        return vals[self._out], tuple(grads[:self._n_params]), tuple(vals[i] for i in self._watched)

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
