"""Turn a recorded tape into one straight-line Python function: the compiled path's fast replay.

``Tape`` records a step as a list of instructions over numbered slots. Interpreting that list
costs a dispatch per instruction and a list index per operand; this module instead writes the
whole step out as Python source, one assignment per op forward and one ``+=`` per edge backward,
with every slot a local variable and every constant a literal, and compiles it once::

    v11 = v2 + v0*0.5 + v1*(-1.0)                   # a neuron: bias + w*x + w*x (op 'dot')
    v12 = v11 if v11 > 0.0 or v11 != v11 else 0.0   # relu
    ...
    g11 = 0.0 + (g12 if v11 > 0.0 else (0.0 if v11 == v11 else v11) * g12)
    g0 = 0.0 + 0.5 * g11

Every expression is the one the op's ``Value`` method and rule in ``autograd.ops`` evaluate,
with the same operands in the same order, and gradients are summed edge by edge in the order
``backward()`` uses, so results are bit-for-bit those of the rebuilt graph. Gradients flow only
into slots that lead to a parameter (inputs and labels get none). The source is kept on the
tape (``Tape.source``) and registered with ``linecache``, so tracebacks and debuggers show it.
"""

from __future__ import annotations

import itertools
import linecache
import math
from collections.abc import Callable, Sequence
from typing import Any

from autograd import ops

# instruction kinds, shared with autograd.compiled and autograd.vectorized
ADD, ADDC, SUB, SUBC, RSUBC, MUL, MULC, DIV, DIVC, RDIVC = range(10)
POW, POWC, RPOWC, UNARY, DOT, CUSTOM = range(10, 16)

KIND_NAMES = {ADD: "+", ADDC: "+ const", SUB: "-", SUBC: "- const", RSUBC: "const -", MUL: "*", MULC: "* const",
              DIV: "/", DIVC: "/ const", RDIVC: "const /", POW: "**", POWC: "** const", RPOWC: "const **", DOT: "dot",
              UNARY: "unary", CUSTOM: "custom"}
"""A short name for each instruction kind (unary and custom ops have their own names too)."""

Instruction = tuple[int, int, tuple[int, ...], float, Any]
Kernel = Callable[[Sequence[float], float], tuple[float, tuple[float, ...], tuple[float, ...]]]

_CHUNK = 64  # terms per line of a long dot: keeps expressions shallow for the compiler
_counter = itertools.count()


def literal(x: float) -> str:
    """Python source for the float ``x`` (``inf``/``nan`` are names bound in the kernel)."""
    if x != x:
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "(-inf)"
    text = repr(x)
    return f"({text})" if text.startswith("-") else text


class _Writer:
    def __init__(self, init: list[float], n_params: int, code: list[Instruction]) -> None:
        computed = {ins[1] for ins in code}
        self.const = {i: literal(init[i]) for i in range(n_params, len(init)) if i not in computed}
        self.lines: list[str] = []
        self.names: dict[str, Any] = {"inf": math.inf, "nan": math.nan, "fdiv": ops.fdiv, "fpow": ops.fpow}

    def v(self, slot: int) -> str:
        return self.const.get(slot) or f"v{slot}"

    def bind(self, obj: Any, hint: str) -> str:
        """A global name in the kernel for a helper object."""
        name = f"_{hint}{len(self.names)}"
        self.names[name] = obj
        return name

    def emit(self, line: str) -> None:
        self.lines.append("    " + line)


def _forward(w: _Writer, kind: int, o: int, ps: tuple[int, ...], c: float, extra: Any) -> list[str]:
    """Emit the forward of one instruction; return each parent's local gradient as source."""
    v, out = w.v, f"v{o}"
    a = v(ps[0])
    cl = literal(c)
    if kind == DOT:
        terms = [f"{v(ps[j])}*{v(ps[j + 1])}" for j in range(0, len(ps) - 1, 2)]
        head = v(ps[-1]) if extra else "0.0"
        for k in range(0, len(terms), _CHUNK):
            w.emit(f"{out} = {head} + " + " + ".join(terms[k:k + _CHUNK]))
            head = out
        local = []
        for j in range(0, len(ps) - 1, 2):
            local += [v(ps[j + 1]), v(ps[j])]
        return local + (["1.0"] if extra else [])
    if kind == ADD:
        w.emit(f"{out} = {a} + {v(ps[1])}")
        return ["1.0", "1.0"]
    if kind == SUB:
        w.emit(f"{out} = {a} - {v(ps[1])}")
        return ["1.0", "-1.0"]
    if kind == MUL:
        w.emit(f"{out} = {a} * {v(ps[1])}")
        return [v(ps[1]), a]
    if kind == ADDC:
        w.emit(f"{out} = {a} + {cl}")
        return ["1.0"]
    if kind == SUBC:
        w.emit(f"{out} = {a} - {cl}")
        return ["1.0"]
    if kind == RSUBC:
        w.emit(f"{out} = {cl} - {a}")
        return ["-1.0"]
    if kind == MULC:
        w.emit(f"{out} = {a} * {cl}")
        return [cl]
    if kind == DIVC:
        w.emit(f"{out} = fdiv({a}, {cl})")
        return [literal(ops.fdiv(1.0, c))]
    if kind == UNARY and extra.name == "relu":
        w.emit(f"{out} = {a} if {a} > 0.0 or {a} != {a} else 0.0")
        return [f"@{{g}} if {a} > 0.0 else (0.0 if {a} == {a} else {a}) * {{g}}"]
    if kind == UNARY and extra.name == "tanh":
        w.emit(f"{out} = {w.bind(math.tanh, 'tanh')}({a})")
        return [f"(1.0 - {out} * {out})"]
    # everything else calls the rule itself and keeps its tuple of local gradients
    args = ", ".join(v(p) for p in ps)
    loc = f"l{o}"
    if kind == UNARY:
        w.emit(f"{out} = {w.bind(extra.forward, 'f')}({a})")
        w.emit(f"{loc} = {w.bind(extra.partials, 'p')}({a}, {out})")
    elif kind in (DIV, POW):
        binary = ops.DIV if kind == DIV else ops.POW
        w.emit(f"{out} = {'fdiv' if kind == DIV else 'fpow'}({args})")
        w.emit(f"{loc} = {w.bind(binary.partials, 'p')}({args}, {out})")
    elif kind in (RDIVC, POWC, RPOWC):
        fwd = f"fdiv({cl}, {a})" if kind == RDIVC else f"fpow({a}, {cl})" if kind == POWC else f"fpow({cl}, {a})"
        rule = {RDIVC: ops.rdiv_const_partials, POWC: ops.pow_const_partials, RPOWC: ops.rpow_const_partials}[kind]
        w.emit(f"{out} = {fwd}")
        w.emit(f"{loc} = {w.bind(rule, 'p')}({a}, {out}, {cl})")
    else:  # CUSTOM: the user's functions, their results made floats exactly as define_op does
        fname, pname = w.bind(extra.forward, "f"), w.bind(extra.partials, "p")
        w.emit(f"{out} = float({fname}({args}))")
        w.emit(f"{loc} = tuple([float(g) for g in {pname}({args})])")
    return [f"{loc}[{i}]" for i in range(len(ps))]


def generate(init: list[float], n_params: int, code: list[Instruction], out: int,
             watched: list[int]) -> tuple[str, dict[str, Any]]:
    """Source of ``kernel(params, grad) -> (loss, param_grads, watched_values)`` and its globals."""
    w = _Writer(init, n_params, code)
    w.lines.append("def kernel(params, grad):")
    if n_params:
        w.emit(", ".join(f"v{i}" for i in range(n_params)) + ", = params")
    needs = [True] * n_params + [False] * (len(init) - n_params)  # slot leads to a parameter
    locals_of: list[list[str]] = []
    for kind, o, ps, c, extra in code:
        locals_of.append(_forward(w, kind, o, ps, c, extra))
        needs[o] = any(needs[p] for p in ps)
    have: set[int] = set()
    if needs[out]:
        w.emit(f"g{out} = grad")
        have.add(out)
    for (_, o, ps, _, _), local in zip(reversed(code), reversed(locals_of)):
        if not needs[o]:
            continue
        g = f"g{o}"
        for p, lg in zip(ps, local):
            if not needs[p]:
                continue
            if lg.startswith("@"):  # a whole term, written by the op (relu)
                term = "(" + lg[1:].format(g=g) + ")"
            else:
                term = g if lg == "1.0" else f"-{g}" if lg == "-1.0" else f"{lg} * {g}"
            if p in have:
                w.emit(f"g{p} += {term}")
            else:
                w.emit(f"g{p} = 0.0 + {term}")
                have.add(p)
    grads = ", ".join(f"g{i}" if i in have else "0.0" for i in range(n_params))
    seen = ", ".join(w.v(i) for i in watched)
    w.emit(f"return {w.v(out)}, ({grads}{',' if n_params == 1 else ''}), ({seen}{',' if len(watched) == 1 else ''})")
    return "\n".join(w.lines) + "\n", w.names


def compile_kernel(init: list[float], n_params: int, code: list[Instruction], out: int,
                   watched: list[int]) -> tuple[Kernel, str, str]:
    """Generate and compile the tape's kernel; return it, its source and the file name under
    which ``linecache`` holds that source (the caller removes it when the kernel is dropped)."""
    source, namespace = generate(init, n_params, code, out, watched)
    filename = f"<valuegrad tape {next(_counter)}>"
    lines = source.splitlines(keepends=True)
    linecache.cache[filename] = (len(source), None, lines, filename)
    exec(compile(source, filename, "exec"), namespace)
    kernel: Kernel = namespace["kernel"]
    return kernel, source, filename
