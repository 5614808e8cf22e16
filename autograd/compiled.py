"""Compiled replay: record the graph of a step once, then rerun forward and backward over flat lists.

A training loop builds the same graph every step; only the parameters' values change. ``Tape``
runs a loss-building function once, records its graph as a program of instructions over numbered
slots (``autograd.tape``: each node's op record, inputs and folded constant, read from the nodes
alone), and then replays forward and backward on plain floats, creating no Value objects::

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

from autograd.codegen import Kernel, compile_kernel
from autograd.tape import Program, interpret, record
from autograd.value import Value

__all__ = ["AUTO_CODEGEN_EDGES", "Tape", "TapeMismatchError"]

AUTO_CODEGEN_EDGES = 200_000
"""The largest tape (in edges) that ``Tape(codegen=None)`` compiles by itself: W1's step has 69,000
edges and compiles in about 0.8 s; a 400,000-edge chain takes 5 s and 1 GB of compiler memory."""

LossFn = Callable[[], "Value | tuple[Value, Sequence[Value]]"]


class TapeMismatchError(RuntimeError):
    """A fresh trace of the function no longer matches the recorded tape."""


def trace(fn: LossFn, params: Sequence[Value]) -> Program:
    """Run ``fn`` and record the program of the graph it returns (see ``Tape``)."""
    result = fn()
    if isinstance(result, Value):
        return record(result, [], params)
    if isinstance(result, tuple) and len(result) == 2 and isinstance(result[0], Value):
        watched = list(result[1])
        if not all(isinstance(v, Value) for v in watched):
            raise TypeError("the watched values returned by the tape's function must be Values")
        return record(result[0], watched, params)
    raise TypeError(f"the tape's function must return a Value or (Value, [Values]), got {type(result).__name__}")


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

    ``tape.program`` is the recording (:class:`autograd.tape.Program`). After compiling,
    ``tape.source`` holds the generated code (tracebacks and debuggers show it).
    """

    def __init__(self, fn: LossFn, params: Sequence[Value], *, codegen: bool | None = None) -> None:
        if codegen not in (None, True, False):
            raise TypeError(f"Tape codegen must be True, False or None, got {codegen!r}")
        self.fn = fn
        self.params = list(params)
        for i, p in enumerate(self.params):
            if not isinstance(p, Value) or p.parents:
                raise TypeError(f"Tape params[{i}] must be a leaf Value, got {p!r:.60}")
        self.program = trace(fn, self.params)
        self.watched: list[float] = [self.program.init[i] for i in self.program.watched]
        self.edges = self.program.edges
        """How many edges (parent links) the tape has: the size of its backward pass."""
        self._mode = codegen
        self._runs = 0
        self.kernel: Kernel | None = None
        self.source: str | None = None
        if codegen:
            self.compile()

    def compile(self) -> Kernel:
        """Generate and compile the kernel now (if not done yet) and return it."""
        if self.kernel is None:
            self.kernel, self.source, filename = compile_kernel(self.program)
            weakref.finalize(self, linecache.cache.pop, filename, None)  # the source goes with the tape
        return self.kernel

    def __len__(self) -> int:
        return len(self.program.code)

    def run(self, grad: float = 1.0) -> float:
        """Replay forward and backward on the parameters' current ``.data``; add each parameter's
        gradient to its ``.grad`` (leaves accumulate, as with ``backward()``) and return the loss.
        Replayed values of the watched nodes are left in ``self.watched``."""
        g = float(grad)
        params = self.params
        self._runs += 1
        if self.kernel is None and self._mode is None and self._runs == 2 and self.edges <= AUTO_CODEGEN_EDGES:
            self.compile()
        values = [p.data for p in params]
        if self.kernel is not None:
            loss, grads, watched = self.kernel(values, g)
        else:
            loss, grads, watched = interpret(self.program, values, g)
        for param, pg in zip(params, grads):
            param.grad = param.grad + pg
        self.watched = list(watched)
        return loss

    def verify(self) -> bool:
        """Re-run the function and check the fresh graph matches the tape (ops, edges, constants).

        Returns True, or raises :class:`TapeMismatchError` saying what differs. The fresh graph's
        values come from the current parameters, so call this after parameters have changed.
        """
        fresh = trace(self.fn, self.params)
        if len(fresh.code) != len(self.program.code):
            raise TapeMismatchError(
                f"the function now builds {len(fresh.code)} ops, the tape has {len(self.program.code)}: its graph "
                "depends on the data (Python branching on .data?); build graphs each step instead"
            )
        new, old = fresh.fingerprint(), self.program.fingerprint()
        if new != old:
            for i, (a, b) in enumerate(zip(new[0], old[0])):
                if a != b:
                    raise TapeMismatchError(f"op {i} of the tape changed ({b} -> {a}): a constant or an edge depends "
                                            "on the data; build graphs each step instead")
            raise TapeMismatchError("a constant leaf of the graph changed (data-dependent constant); build graphs "
                                    "each step instead")
        return True
