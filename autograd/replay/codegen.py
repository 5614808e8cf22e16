"""Turn a recorded program into one straight-line Python function: the compiled path's fast replay.

A :class:`~autograd.replay.program.Program` is a list of instructions over numbered slots. Interpreting it
costs a dispatch per instruction and a list index per operand; this module instead writes the
whole step out as Python source, one assignment per op forward and one ``+=`` per edge backward,
with every slot a local variable and every constant a literal, and compiles it once::

    v11 = v2 + v0*0.5 + v1*(-1.0)                   # a neuron: bias + w*x + w*x (op 'dot')
    v12 = v11 if v11 > 0.0 or v11 != v11 else 0.0   # relu
    ...
    g11 = 0.0 + (g12 if v11 > 0.0 else (0.0 if v11 == v11 else v11) * g12)
    g0 = 0.0 + 0.5 * g11

How an op reads is its record's ``code`` form (``autograd.ops``), written with the same operands
in the same order as its ``forward`` and ``local_grads``; an op without one (a user op, say) is a
call of its ``forward`` and ``local_grads``. Gradients are summed edge by edge in the order
``backward()`` uses, so results are bit-for-bit those of the rebuilt graph. Gradients flow only
into slots that lead to a parameter (inputs and labels get none). The source is kept on the tape
(``Tape.source``) and registered with ``linecache``, so tracebacks and debuggers show it.
"""

from __future__ import annotations

import itertools
import linecache
import math
from collections.abc import Callable, Sequence
from typing import Any

from autograd.replay.program import Instruction, Program, SlotKind

__all__ = ["BatchKernel", "Kernel", "compile_kernel", "generate", "generate_batched", "literal", "release_source"]

Kernel = Callable[[Sequence[float], float], tuple[float, tuple[float, ...], tuple[float, ...]]]
BatchKernel = Callable[
    [Sequence[float], Sequence[Sequence[float]], float], tuple[float, tuple[float, ...], list[tuple[float, ...]]]
]

_counter = itertools.count()
# File names of kernels that were dropped, for reuse: CPython keeps every code object's file
# name interned for good, so a fresh name per tape would grow memory a little with each tape
# a long run records. Names are reused once their kernel is gone (list.pop/append are atomic).
_free_names: list[str] = []


def release_source(filename: str) -> None:
    """Forget a dropped kernel's source (``linecache``) and let its file name be reused."""
    linecache.cache.pop(filename, None)
    _free_names.append(filename)


def literal(x: float) -> str:
    """Python source for the float ``x`` (``inf``/``nan`` are names bound in the kernel)."""
    if x != x:
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "(-inf)"
    text = repr(x)
    return f"({text})" if text.startswith("-") else text


class _Writer:
    """The lines of the kernel and the global names it uses."""

    def __init__(self, program: Program) -> None:
        self.const = {
            i: literal(v) for i, (v, kind) in enumerate(zip(program.init, program.kinds())) if kind is SlotKind.CONSTANT
        }
        self.lines: list[str] = []
        self.names: dict[str, Any] = {"inf": math.inf, "nan": math.nan, "tanh": math.tanh}
        self.bound: dict[int, str] = {}

    def v(self, slot: int) -> str:
        return self.const.get(slot) or f"v{slot}"

    def bind(self, obj: Any, hint: str) -> str:
        """A global name in the kernel for a helper object (one name per object)."""
        name = self.bound.get(id(obj))
        if name is None:
            name = f"_{hint}{len(self.names)}"
            self.names[name] = obj
            self.bound[id(obj)] = name
        return name

    def emit(self, line: str) -> None:
        self.lines.append("    " + line)


def _forward(w: _Writer, ins: Instruction) -> list[str]:
    """Emit the forward of one instruction; return each input's backward term (``{g}`` = upstream)."""
    prim, out = ins.primitive, f"v{ins.out}"
    operands = [w.v(p) for p in ins.inputs]
    const = literal(ins.const) if ins.const is not None else ""
    if prim.code is not None:
        lines, terms = prim.code(operands, const, out)
        for line in lines:
            w.emit(f"{out} = " + line.replace("{out}", out))
        return terms
    # no code form: call the record's own forward and rule, as the interpreter does
    args = ", ".join(operands + ([const] if prim.folds_constant else []))
    loc = f"l{ins.out}"
    w.emit(f"{out} = {w.bind(prim.forward, 'f')}({args})")
    w.emit(f"{loc} = {w.bind(prim.local_grads, 'p')}({args}, {out})")
    return [f"{loc}[{i}] * {{g}}" for i in range(len(ins.inputs))]


def _emit_step(w: _Writer, program: Program, have: set[int]) -> None:
    """Emit one pass forward and backward. Gradients flow only into slots that lead to a
    parameter; a slot in ``have`` already holds a gradient (``+=``), the others start with
    ``0.0 + term`` (so that their first term is added to 0.0, as ``backward()`` does)."""
    n_params = program.n_params
    needs = [True] * n_params + [False] * (len(program.init) - n_params)  # slot leads to a parameter
    terms_of: list[list[str]] = []
    for ins in program.code:
        terms_of.append(_forward(w, ins))
        needs[ins.out] = any(needs[p] for p in ins.inputs)
    out = program.out
    if needs[out]:
        w.emit(f"g{out} += grad" if out in have else f"g{out} = grad")  # += : a parameter summing rows
        have.add(out)
    for ins, terms in zip(reversed(program.code), reversed(terms_of)):
        if not needs[ins.out]:
            continue
        g = f"g{ins.out}"
        for p, term in zip(ins.inputs, terms):
            if not needs[p]:
                continue
            text = term.replace("{g}", g)
            if p in have:
                w.emit(f"g{p} += {text}")
            else:
                w.emit(f"g{p} = 0.0 + {text}")
                have.add(p)


def _tuple(items: list[str]) -> str:
    return f"({', '.join(items)}{',' if len(items) == 1 else ''})"


def generate(program: Program) -> tuple[str, dict[str, Any]]:
    """Source of ``kernel(params, grad) -> (loss, param_grads, watched_values)`` and its globals."""
    w = _Writer(program)
    n_params = program.n_params
    w.lines.append("def kernel(params, grad):")
    if n_params:
        w.emit(", ".join(f"v{i}" for i in range(n_params)) + ", = params")
    have: set[int] = set()
    _emit_step(w, program, have)
    grads = [f"g{i}" if i in have else "0.0" for i in range(n_params)]
    w.emit(f"return {w.v(program.out)}, {_tuple(grads)}, {_tuple([w.v(i) for i in program.watched])}")
    return "\n".join(w.lines) + "\n", w.names


def generate_batched(program: Program) -> tuple[str, dict[str, Any]]:
    """Source of ``kernel(params, rows, grad) -> (sum of losses, param_grads, watched per row)`` for a
    per-sample program: one loop over the rows around the sample's forward and backward, with the
    parameters' gradients summed across rows in local variables. Its size is one sample's graph,
    whatever the batch."""
    w = _Writer(program)
    n_params, n_inputs = program.n_params, program.n_inputs
    w.lines.append("def kernel(params, rows, grad):")
    if n_params:
        w.emit(", ".join(f"v{i}" for i in range(n_params)) + ", = params")
        w.emit(" = ".join(f"g{i}" for i in range(n_params)) + " = 0.0")
    w.emit("total = 0.0")
    w.emit("seen = []")
    inputs = ", ".join(f"v{n_params + j}" for j in range(n_inputs))
    w.emit(f"for {inputs}, in rows:" if n_inputs else "for _ in rows:")
    body = _Writer(program)
    body.names, body.bound = w.names, w.bound
    _emit_step(body, program, set(range(n_params)))  # parameters sum across rows: always +=
    body.emit(f"total += {body.v(program.out)}")
    body.emit(f"seen.append({_tuple([body.v(i) for i in program.watched])})")
    w.lines += ["    " + line for line in body.lines]
    w.emit(f"return total, {_tuple([f'g{i}' for i in range(n_params)])}, seen")
    return "\n".join(w.lines) + "\n", w.names


def compile_kernel(program: Program, batched: bool = False) -> tuple[Any, str, str]:
    """Generate and compile the program's kernel (a :data:`Kernel`, or with ``batched`` a
    :data:`BatchKernel`); return it, its source and the file name under which ``linecache`` holds
    that source (the caller removes it when the kernel is dropped)."""
    source, namespace = generate_batched(program) if batched else generate(program)
    filename = _free_names.pop() if _free_names else f"<valuegrad tape {next(_counter)}>"
    lines = source.splitlines(keepends=True)
    linecache.cache[filename] = (len(source), None, lines, filename)
    exec(compile(source, filename, "exec"), namespace)
    # the function keeps its globals alive, not the other way round: no reference cycle, so a
    # dropped tape's kernel is freed at once, without the cyclic garbage collector
    return namespace.pop("kernel"), source, filename

