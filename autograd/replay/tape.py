"""Compiled replay: record the graph of a step once, then rerun forward and backward over flat lists.

A training loop builds the same graph every step; only the parameters' values change. ``Tape``
runs a loss-building function once, records its graph as a program of instructions over numbered
slots (``autograd.replay.program``: each node's op record, inputs and folded constant, read from the nodes
alone), and then replays forward and backward on plain floats, creating no Value objects::

    tape = Tape(lambda: loss_of(model), model.parameters())
    for step in range(100):
        model.zero_grad()
        loss = tape.run()              # forward + backward; adds to every p.grad
        optimizer.step()

Each op is replayed with exactly the arithmetic its ``Value`` method uses, in the same order as
``backward()``, so values and gradients are bit-for-bit those of the rebuilt graph. The first run
interprets the instruction list; from the second, a tape of reasonable size runs as one generated
Python function (``autograd.replay.codegen``; ``tape.source`` shows it), about three times faster.

What a tape cannot rerun is Python code around the ops: a plain number computed from ``.data``
(a label, ``max(z.data ...)``) would be baked in as a constant, and an ``if`` on ``.data`` frozen
the way it went when recording. So while it records, a tape watches for such **data reads**
(``autograd.replay.reads``: ``.data``, ``bool()``, comparisons and ``detach()`` of any Value, by code
outside the engine) and refuses the function with :class:`TapeMismatchError`, naming the line,
unless ``allow_data_reads=True`` says the reads only log. ``tape.verify()`` re-runs the function
and raises if the fresh graph differs in any op (the op's record itself: an op redefined with
``define_op`` since), edge or constant; a replay refuses to run once an op it uses was redefined.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Sequence

from autograd import ops
from autograd.replay.codegen import BatchKernel, Kernel, compile_kernel, release_source
from autograd.replay.program import Program, interpret, record
from autograd.replay.reads import watch_reads
from autograd.value import Value

__all__ = ["AUTO_CODEGEN_EDGES", "SampleRecording", "SampleTape", "Tape", "TapeMismatchError", "trace", "trace_sample"]

AUTO_CODEGEN_EDGES = 200_000
"""The largest tape (in edges) that ``Tape(codegen=None)`` compiles by itself: W1's step has 69,000
edges and compiles in about 0.8 s; a 400,000-edge chain takes 5 s and 1 GB of compiler memory."""

LossFn = Callable[[], "Value | tuple[Value, Sequence[Value]]"]


class TapeMismatchError(RuntimeError):
    """A fresh trace of the function no longer matches the recorded tape."""


def trace(fn: LossFn, params: Sequence[Value], inputs: Sequence[Value] = (), *,
          allow_data_reads: bool = False, what: str = "the recorded function") -> Program:
    """Run ``fn`` and record the program of the graph it returns (see ``Tape``).

    Raises :class:`TapeMismatchError` if ``fn`` reads a number of the graph in Python (a data
    read, see ``autograd.replay.reads``), unless ``allow_data_reads``."""
    if allow_data_reads:
        result = fn()
    else:
        with watch_reads(params, inputs) as reads:
            result = fn()
        if reads:
            raise TapeMismatchError(reads.message(what))
    if isinstance(result, Value):
        return record(result, [], params, inputs)
    if isinstance(result, tuple) and len(result) == 2 and isinstance(result[0], Value):
        watched = list(result[1])
        if not all(isinstance(v, Value) for v in watched):
            raise TypeError("the watched values returned by the tape's function must be Values")
        return record(result[0], watched, params, inputs)
    raise TypeError(f"the tape's function must return a Value or (Value, [Values]), got {type(result).__name__}")


PerSample = Callable[[list[Value]], "Value | tuple[Value, Sequence[Value]]"]


def trace_sample(per_sample: PerSample, params: Sequence[Value], example: Sequence[float], *,
                 allow_data_reads: bool = False) -> Program:
    """Record one sample's program: ``per_sample`` applied to input Values holding ``example``."""
    if isinstance(example, (str, bytes)) or not hasattr(example, "__len__"):
        raise TypeError(f"example must be a list of numbers (one sample's inputs), got {type(example).__name__}")
    inputs = [Value(x) for x in example]
    return trace(lambda: per_sample(inputs), params, inputs, allow_data_reads=allow_data_reads,
                 what="the per-sample function")


def check_ops_current(program: Program) -> None:
    """Raise :class:`TapeMismatchError` if an op of ``program`` was redefined since it was recorded
    (``define_op`` with the same name): replaying the old rule would answer for another function."""
    for ins in program.code:
        prim = ins.primitive
        if ops.REGISTRY.get(prim.name) is not prim:
            raise TapeMismatchError(f"op {prim.name!r} was redefined (define_op) after this tape was recorded; "
                                    "record a new tape to use the new definition")


class _OpsWatch:
    """Checks a program's ops are still the registry's, cheaply: only when the registry changed."""

    __slots__ = ("generation",)

    def __init__(self) -> None:
        self.generation = ops.generation()

    def check(self, program: Program) -> None:
        now = ops.generation()
        if now != self.generation:
            check_ops_current(program)
            self.generation = now


def check_same_program(recorded: Program, fresh: Program, what: str) -> None:
    """Raise :class:`TapeMismatchError` saying where ``fresh`` differs from ``recorded``."""
    check_ops_current(recorded)
    if len(fresh.code) != len(recorded.code):
        raise TapeMismatchError(
            f"{what} now builds {len(fresh.code)} ops, the tape has {len(recorded.code)}: its graph "
            "depends on the data (Python branching on .data?); build graphs each step instead"
        )
    new, old = fresh.fingerprint(), recorded.fingerprint()
    if new != old:
        for i, (a, b) in enumerate(zip(new[0], old[0])):
            if a != b:
                raise TapeMismatchError(f"op {i} of the tape changed ({b} -> {a}): a constant or an edge depends "
                                        "on the data; build graphs each step instead")
        raise TapeMismatchError("a constant leaf of the graph changed (data-dependent constant); build graphs "
                                "each step instead")


class Tape:
    """A recorded forward/backward program for ``fn``, replayed on the current parameter values.

    Args:
        fn: builds the graph from the parameters and returns the loss, or ``(loss, watched)``
            where ``watched`` are Values whose replayed data you want back (e.g. scores).
        params: the leaves whose values change between runs (``model.parameters()``); every
            other leaf of the graph is a constant baked into the tape.
        allow_data_reads: record ``fn`` even if it reads numbers of the graph in Python (see
            ``autograd.replay.reads``): say so only for reads that log or print, never for ones that
            decide what the graph is. By default such a read raises :class:`TapeMismatchError`.
        codegen: turn the tape into one generated Python function (``autograd.replay.codegen``), about
            3x faster per run than interpreting it, at a one-time cost of roughly 10 us and a few
            KB of compiler memory per edge. ``None`` (the default) compiles at the second
            ``run()`` if the tape has at most ``AUTO_CODEGEN_EDGES`` edges, so a reused tape pays
            the cost and a tape run once, or a huge one, does not; ``True`` compiles now, ``False``
            never.

    ``tape.program`` is the recording (:class:`autograd.replay.program.Program`). After compiling,
    ``tape.source`` holds the generated code (tracebacks and debuggers show it).
    """

    def __init__(self, fn: LossFn, params: Sequence[Value], *, codegen: bool | None = None,
                 allow_data_reads: bool = False) -> None:
        if codegen not in (None, True, False):
            raise TypeError(f"Tape codegen must be True, False or None, got {codegen!r}")
        self.fn = fn
        self.params = list(params)
        for i, p in enumerate(self.params):
            if not isinstance(p, Value) or p.parents:
                raise TypeError(f"Tape params[{i}] must be a leaf Value, got {p!r:.60}")
        self.allow_data_reads = allow_data_reads
        self.program = trace(fn, self.params, allow_data_reads=allow_data_reads)
        self._ops = _OpsWatch()
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
            weakref.finalize(self, release_source, filename)  # the source goes with the tape
        return self.kernel

    def __len__(self) -> int:
        return len(self.program.code)

    def run(self, grad: float = 1.0) -> float:
        """Replay forward and backward on the parameters' current ``.data``; add each parameter's
        gradient to its ``.grad`` (leaves accumulate, as with ``backward()``) and return the loss.
        Replayed values of the watched nodes are left in ``self.watched``."""
        g = float(grad)
        params = self.params
        self._ops.check(self.program)
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
        fresh = trace(self.fn, self.params, allow_data_reads=self.allow_data_reads)
        check_same_program(self.program, fresh, "the function")
        return True


class SampleRecording:
    """One sample's recorded program and the check that it serves every sample: what
    :class:`SampleTape` and :class:`~autograd.replay.batch.BatchTape` share."""

    def __init__(self, per_sample: PerSample, params: Sequence[Value], example: Sequence[float], *,
                 allow_data_reads: bool = False) -> None:
        self.per_sample = per_sample
        self.params = list(params)
        self.allow_data_reads = allow_data_reads
        self.program = trace_sample(per_sample, self.params, example, allow_data_reads=allow_data_reads)
        self._ops = _OpsWatch()
        self.n_inputs = self.program.n_inputs
        self.example = [float(x) for x in example]
        self.verified = False
        """Whether the recording was checked on a second, different sample (the first run does it)."""

    def verify(self, sample: Sequence[float]) -> bool:
        """Record ``sample`` too and check its graph is the recorded one (ops, edges, constants).

        A per-sample function whose graph depends on the sample (a Python ``if`` on an input's
        ``.data``, a label read with ``int(v.data)``) would be replayed with the first sample's
        choices: this raises :class:`TapeMismatchError` instead."""
        fresh = trace_sample(self.per_sample, self.params, sample, allow_data_reads=self.allow_data_reads)
        check_same_program(self.program, fresh, "a second sample")
        self.verified = True
        return True

    def verify_once(self, rows: Sequence[list[float]]) -> None:
        """Before every run: check no op of the program was redefined since it was recorded; before
        the first: :meth:`verify` a row that differs from the example, if there is one."""
        self._ops.check(self.program)
        if not self.verified:
            other = next((row for row in rows if row != self.example), None)
            if other is not None:
                self.verify(other)


class SampleTape(SampleRecording):
    """One sample's recorded step, compiled once and run over every sample of a batch.

    The pure-Python sibling of :class:`~autograd.replay.batch.BatchTape`: ``per_sample`` builds one
    sample's loss from a list of input Values (or returns ``(loss, watched)``), the program is
    recorded once with those inputs as slots, and ``run(batch)`` replays it for each row through
    one generated function that loops over the rows and sums the parameters' gradients. Compile
    time is bounded by one sample's graph, whatever the batch size.

    Args:
        per_sample: one sample's loss from its inputs (labels included, as inputs).
        params: the parameters whose gradients ``run`` accumulates.
        example: one sample's inputs, to record the graph.
        regularizer: optional term of the parameters alone, added once per batch (a ``Tape``).
        codegen: generate code (default) or interpret the program row by row (the reference).
        allow_data_reads: record ``per_sample`` even if it reads numbers of the graph in Python
            (see :class:`Tape`); by default such a read raises :class:`TapeMismatchError`.

    After a run, ``watched`` holds, for each watched Value, a list of its value for every row.
    """

    def __init__(self, per_sample: PerSample, params: Sequence[Value], example: Sequence[float],
                 regularizer: Callable[[], Value] | None = None, *, codegen: bool = True,
                 allow_data_reads: bool = False) -> None:
        for i, p in enumerate(params):
            if not isinstance(p, Value) or p.parents:
                raise TypeError(f"SampleTape params[{i}] must be a leaf Value, got {p!r:.60}")
        super().__init__(per_sample, params, example, allow_data_reads=allow_data_reads)
        self.kernel: BatchKernel | None = None
        self.source: str | None = None
        if codegen:
            self.kernel, self.source, filename = compile_kernel(self.program, batched=True)
            weakref.finalize(self, release_source, filename)
        self.regularizer = None if regularizer is None else Tape(regularizer, self.params, codegen=True,
                                                                  allow_data_reads=allow_data_reads)
        self.watched: list[list[float]] = []

    def run(self, batch: Sequence[Sequence[float]], grad: float | None = None) -> float:
        """Replay every row; add ``grad * d(sum of losses)/d p`` to each ``p.grad`` (``grad``
        defaults to ``1 / len(batch)``: the gradient of the mean) and return the mean loss (plus
        the regularizer, whose gradient is added once). The first run checks the recording on a
        row that differs from the example, as :meth:`verify` does."""
        rows = [list(map(float, row)) for row in batch]
        if not rows:
            raise ValueError("SampleTape.run needs at least one sample")
        for i, row in enumerate(rows):
            if len(row) != self.n_inputs:
                raise ValueError(f"SampleTape.run: row {i} has {len(row)} inputs, expected {self.n_inputs}")
        self.verify_once(rows)
        n = len(rows)
        scale = 1.0 / n if grad is None else float(grad)
        data = [p.data for p in self.params]
        if self.kernel is not None:
            total, grads, seen = self.kernel(data, rows, scale)
        else:
            total, grads, seen = 0.0, tuple([0.0] * len(data)), []
            for row in rows:  # each row's pass adds to the parameters' sums, as the generated loop does
                row_loss, grads, row_watched = interpret(self.program, data, scale, row, grads)
                total += row_loss
                seen.append(row_watched)
        loss = total / n
        if self.regularizer is not None:
            extra, extra_grads, _ = self.regularizer.compile()(data, 1.0)
            loss += extra
            grads = tuple(a + b for a, b in zip(grads, extra_grads))
        for param, g in zip(self.params, grads):
            param.grad = param.grad + g
        self.watched = [list(column) for column in zip(*seen)] if seen and seen[0] else []
        return loss
