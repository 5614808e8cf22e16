"""Hypothesis strategies shared by the test suite: floats in an op's domain and small random programs.

A *program* is a list of instructions over a few inputs. Each instruction applies one op to
earlier variables (inputs or results) and appends its result, so programs build DAGs with shared
sub-expressions. Ops with a restricted domain are wrapped in guards (``log(x*x + 0.5)``,
``a / (b*b + 0.5)``) that keep every intermediate value finite while still exercising the op.

    from tests.strategies import programs, run_program
    @given(programs())
    def test_something(case):
        inputs, program = case
        out = run_program(program, [Value(x) for x in inputs])
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from hypothesis import settings
from hypothesis import strategies as st

from autograd import Value, define_op, dot, logsumexp, select

NO_DEADLINE = settings(deadline=None)
"""Settings for every Hypothesis test here: a per-example deadline is a timing assertion, and the
suite runs on shared, busy machines. Use ``@NO_DEADLINE`` or ``@settings(NO_DEADLINE, max_examples=...)``."""


def reals(lo: float = -10.0, hi: float = 10.0) -> st.SearchStrategy[float]:
    """Finite floats in [lo, hi] (no nan, no inf)."""
    return st.floats(min_value=lo, max_value=hi, allow_nan=False, allow_infinity=False)


def away_from_zero(lo: float = 0.1, hi: float = 10.0) -> st.SearchStrategy[float]:
    """Finite floats with lo <= |x| <= hi, either sign: safe for division, kinks and poles."""
    return st.builds(lambda m, negative: -m if negative else m, reals(lo, hi), st.booleans())


def positives(lo: float = 1e-3, hi: float = 1e3) -> st.SearchStrategy[float]:
    """Finite floats in [lo, hi], lo > 0: the domain of log, sqrt and a fractional power's base."""
    return reals(lo, hi)


def slopes() -> st.SearchStrategy[float]:
    """A leaky_relu slope in [0, 1]."""
    return reals(0.0, 1.0)


# --- random programs ------------------------------------------------------------------------


@dataclass(frozen=True)
class Instruction:
    """``vars.append(OPS[op](vars[a], vars[b], const))``; ops that take one operand ignore ``b``."""

    op: str
    a: int
    b: int
    const: float


Op = Callable[[Value, Value, float], Value]

# User-defined ops run everywhere a built-in does: one with array forms (and rules written with
# user ops, so it has every order of derivative), one binary op without (the batch replay applies
# its float forms entry by entry).
def _ieee(f: Callable[[float], float]) -> Callable[[float], float]:
    return lambda x: f(x) if math.isfinite(x) else math.nan  # math.sin(inf) raises; IEEE says nan


user_sin: Any = define_op("strategies_sin", _ieee(math.sin), lambda x: (user_cos(x),),
                          array_forward=np.sin, array_local_grads=lambda x: (np.cos(x),))
user_cos: Any = define_op("strategies_cos", _ieee(math.cos), lambda x: (-user_sin(x),),
                          array_forward=np.cos, array_local_grads=lambda x: (-np.sin(x),))
user_affine: Any = define_op("strategies_affine", lambda x, y: x * y + x, lambda x, y: (y + 1.0, x))

# Every op of the engine, each used so that finite inputs of moderate size give finite output.
OPS: dict[str, Op] = {
    "+": lambda a, b, c: a + b,
    "-": lambda a, b, c: a - b,
    "*": lambda a, b, c: a * b,
    "/": lambda a, b, c: a / (b * b + 0.5),
    "**": lambda a, b, c: (a * a + 0.5) ** b.tanh(),
    "**c": lambda a, b, c: (a * a + 0.5) ** c,
    "**int": lambda a, b, c: a ** float(round(abs(c))),
    "c**": lambda a, b, c: (abs(c) + 0.5) ** a.tanh(),
    "c+": lambda a, b, c: c + a,
    "c-": lambda a, b, c: c - a,
    "-c": lambda a, b, c: a - c,
    "c*": lambda a, b, c: c * a,
    "c/": lambda a, b, c: c / (a * a + 0.5),
    "/c": lambda a, b, c: a / (abs(c) + 0.5),
    "neg": lambda a, b, c: -a,
    "abs": lambda a, b, c: abs(a),
    "exp": lambda a, b, c: a.tanh().exp(),
    "log": lambda a, b, c: (a * a + 0.5).log(),
    "sqrt": lambda a, b, c: (a * a + 0.25).sqrt(),
    "tanh": lambda a, b, c: a.tanh(),
    "sigmoid": lambda a, b, c: a.sigmoid(),
    "relu": lambda a, b, c: a.relu(),
    "softplus": lambda a, b, c: a.softplus(),
    "leaky_relu": lambda a, b, c: a.leaky_relu(abs(c) / 3.0),
    "heaviside": lambda a, b, c: a.heaviside(),
    "dot": lambda a, b, c: dot([a, b], [b, c], a),
    "logsumexp": lambda a, b, c: logsumexp([a, b, a * c]),
    "select": lambda a, b, c: select(Value(float(round(abs(c)) % 2)), [a, b]),
    "user_sin": lambda a, b, c: user_sin(a),
    "user_affine": lambda a, b, c: user_affine(a, b.tanh()),
}

KINK_OPS = frozenset({"abs", "relu", "leaky_relu", "heaviside"})
"""Ops whose derivative (or value: heaviside) jumps at 0: a finite difference across 0 is meaningless."""


@st.composite
def programs(
    draw: st.DrawFn, min_inputs: int = 2, max_inputs: int = 4, max_length: int = 8, lo: float = -2.0, hi: float = 2.0
) -> tuple[list[float], list[Instruction]]:
    """A random (inputs, program) pair: 2-4 inputs in [lo, hi] and 1-8 instructions."""
    n = draw(st.integers(min_inputs, max_inputs))
    inputs = draw(st.lists(reals(lo, hi), min_size=n, max_size=n))
    length = draw(st.integers(1, max_length))
    program: list[Instruction] = []
    names = sorted(OPS)
    for k in range(length):
        size = n + k
        program.append(
            Instruction(
                op=draw(st.sampled_from(names)),
                a=draw(st.integers(0, size - 1)),
                b=draw(st.integers(0, size - 1)),
                const=draw(reals(-3.0, 3.0)),
            )
        )
    return inputs, program


def run_program(program: Sequence[Instruction], inputs: Sequence[Value]) -> Value:
    """Evaluate ``program`` on ``inputs``; the output is the sum of every result (so each counts)."""
    variables = list(inputs)
    for ins in program:
        variables.append(OPS[ins.op](variables[ins.a], variables[ins.b], ins.const))
    out = variables[len(inputs)]
    for v in variables[len(inputs) + 1 :]:
        out = out + v
    return out


def kink_arguments(program: Sequence[Instruction], inputs: Sequence[float]) -> list[float]:
    """The argument of every kink op (abs, relu, leaky_relu, heaviside) in the program, evaluated at ``inputs``."""
    variables = [Value(x) for x in inputs]
    args: list[float] = []
    for ins in program:
        if ins.op in KINK_OPS:
            args.append(variables[ins.a].data)
        variables.append(OPS[ins.op](variables[ins.a], variables[ins.b], ins.const))
    return args


def crosses_kink(program: Sequence[Instruction], inputs: Sequence[float], eps: float) -> bool:
    """True if moving any input by ±eps changes the sign of some kink op's argument.

    Then a central difference straddles the kink and says nothing about the derivative there.
    """
    center = [_sign(x) for x in kink_arguments(program, inputs)]
    for i in range(len(inputs)):
        for delta in (eps, -eps):
            moved = list(inputs)
            moved[i] += delta
            if [_sign(x) for x in kink_arguments(program, moved)] != center:
                return True
    return False


def _sign(x: float) -> int:
    return (x > 0.0) - (x < 0.0)


def intermediate_values(program: Sequence[Instruction], inputs: Sequence[float]) -> list[float]:
    """The data of every variable the program computes (inputs included)."""
    variables = [Value(x) for x in inputs]
    for ins in program:
        variables.append(OPS[ins.op](variables[ins.a], variables[ins.b], ins.const))
    return [v.data for v in variables]


def program_function(program: Sequence[Instruction]) -> Callable[[list[float]], float]:
    """The program as a plain function of a list of floats (for central differences)."""
    return lambda xs: run_program(program, [Value(x) for x in xs]).data
