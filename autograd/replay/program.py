"""A recorded step as typed data: numbered slots, one :class:`Instruction` per op, one interpreter.

:func:`record` turns a graph into a :class:`Program` using the nodes alone: each node's record
(``node.primitive``), its parents and its folded constant (``node.const``). Slots ``0 ..
n_params - 1`` are the parameters; the other leaves are constants baked into the program; every
op's output gets a slot of its own. :func:`interpret` replays a program forward and backward on
plain floats with the ops' own ``forward`` and ``local_grads``, so its results are those of the
graph, bit for bit. ``autograd.replay.tape.Tape`` runs programs, ``autograd.replay.codegen`` turns them
into Python source and ``autograd.replay.batch`` plans them over a batch: all from the same data.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import IntEnum
from typing import TYPE_CHECKING, Any, NamedTuple

from autograd.backward import topological_order
from autograd.ops import Primitive

if TYPE_CHECKING:
    from autograd.value import Value

__all__ = ["Instruction", "Program", "SlotKind", "interpret", "record"]


class SlotKind(IntEnum):
    """What a slot of a program holds."""

    PARAMETER = 0  # read from the parameters at every run; gets a gradient
    INPUT = 1  # read from the sample at every run (per-sample programs); gets no gradient
    CONSTANT = 2  # a leaf whose value was baked in when recording
    COMPUTED = 3  # the output of an instruction


class Instruction(NamedTuple):
    """``slots[out] = primitive(slots[inputs]..., const)``: one op of a program."""

    primitive: Primitive
    out: int
    inputs: tuple[int, ...]
    const: float | None

    def args(self, values: Sequence[Any]) -> list[Any]:
        """The op's arguments read from ``values``: the inputs, then the folded constant."""
        args = [values[i] for i in self.inputs]
        if self.primitive.folds_constant:
            args.append(self.const)
        return args


class Program(NamedTuple):
    """A recorded forward and backward step over numbered slots."""

    init: list[float]
    """Every slot's value when recorded (the constants' values are what the program uses)."""
    code: list[Instruction]
    """The ops, parents before children (a topological order)."""
    n_params: int
    """Slots ``0 .. n_params - 1`` are the parameters."""
    out: int
    """The slot of the output (the loss)."""
    watched: list[int]
    """Slots whose values a run hands back (scores, say)."""
    n_inputs: int = 0
    """Slots ``n_params .. n_params + n_inputs - 1`` are one sample's inputs (a per-sample program)."""

    @property
    def edges(self) -> int:
        """How many edges (parent links) the program has: the size of its backward pass."""
        return sum(len(ins.inputs) for ins in self.code)

    def kinds(self) -> list[SlotKind]:
        """The kind of every slot."""
        rest = len(self.init) - self.n_params - self.n_inputs
        kinds = [SlotKind.PARAMETER] * self.n_params + [SlotKind.INPUT] * self.n_inputs + [SlotKind.CONSTANT] * rest
        for ins in self.code:
            kinds[ins.out] = SlotKind.COMPUTED
        return kinds

    def fingerprint(self) -> tuple[Any, ...]:
        """Everything a replay depends on: each instruction and the value of each constant slot."""
        instructions = tuple((ins.primitive.name, ins.out, ins.inputs, repr(ins.const)) for ins in self.code)
        constants = tuple(repr(v) for v, kind in zip(self.init, self.kinds()) if kind is SlotKind.CONSTANT)
        return instructions, constants


def record(
    output: Value, watched: Sequence[Value], params: Sequence[Value], inputs: Sequence[Value] = ()
) -> Program:
    """The program of ``output``'s graph, with ``params`` as its parameters, ``inputs`` as one
    sample's inputs (every other leaf is a constant) and ``watched`` values to hand back."""
    slot: dict[Value, int] = {}
    for p in [*params, *inputs]:
        if p in slot:
            raise ValueError(f"a leaf is listed twice among the parameters and inputs: {p!r:.60}")
        slot[p] = len(slot)
    init: list[float] = [p.data for p in [*params, *inputs]]
    code: list[Instruction] = []
    for node in topological_order(output):
        if node in slot:
            continue
        slot[node] = len(init)
        init.append(node.data)
        if node.primitive is not None:
            parent_slots = tuple(slot[p] for p in node.parents)
            code.append(Instruction(node.primitive, slot[node], parent_slots, node.const))
    for i, w in enumerate(watched):
        if w not in slot:
            raise ValueError(f"watched value {i} is not part of the loss's graph")
    return Program(init, code, len(params), slot[output], [slot[w] for w in watched], len(inputs))


def interpret(
    program: Program, params: Sequence[float], grad: float, inputs: Sequence[float] = (),
    param_grads: Sequence[float] | None = None,
) -> tuple[float, tuple[float, ...], tuple[float, ...]]:
    """Run ``program`` forward and backward with the parameters' values ``params`` (and, for a
    per-sample program, one sample's ``inputs``). ``param_grads`` are gradients the parameters
    already hold, which this pass adds to (a batch's rows summed the way generated code sums them).

    Returns the output, the gradient of each parameter (``grad`` times d out / d param) and the
    watched values. Forward: each op's ``forward`` and ``local_grads`` from its record; backward:
    ``grads[parent] += local * grads[out]`` in reverse order, as ``backward()`` does."""
    vals: list[Any] = list(program.init)
    vals[:program.n_params] = params
    vals[program.n_params:program.n_params + program.n_inputs] = inputs
    code = program.code
    locs: list[tuple[float, ...]] = []
    push = locs.append
    for prim, o, parent_slots, const in code:
        args = [vals[i] for i in parent_slots]
        if prim.folds_constant:
            args.append(const)
        fused = prim.fused  # Primitive.evaluate, inlined: this loop is the interpreter's whole cost
        if fused is not None:
            out, partials = fused(args)
        else:
            out = prim.forward(*args)
            partials = prim.local_grads(*args, out)
        vals[o] = out
        push(partials)
    grads = [0.0] * len(vals)
    if param_grads is not None:
        grads[:program.n_params] = param_grads
    out = program.out
    grads[out] = grads[out] + grad if param_grads is not None and out < program.n_params else grad
    for idx in range(len(code) - 1, -1, -1):
        ins = code[idx]
        g = grads[ins.out]
        for p, local in zip(ins.inputs, locs[idx]):
            grads[p] += local * g
    return (
        vals[program.out],
        tuple(grads[:program.n_params]),
        tuple(vals[i] for i in program.watched),
    )
