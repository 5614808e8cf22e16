"""docs/engine-in-100-lines.md: the page's ``TinyValue`` is ``autograd.Value`` without its speed-ups.

The page's Python blocks are read with the docs tests' own parser and run; the ``TinyValue`` they
define must compute, on random programs of every op it has (``+ - *``, ``**`` with a number or a
node on either side, ``tanh``, ``exp``, ``relu``, numbers on either side), the same values and the
same gradients as ``Value``, bit for bit (``repr`` equality, so the sign of a zero counts too), for
every leaf and every program variable, after one backward pass and after a second one (leaves
accumulate). No op needs a tolerance: both engines do the same float operations in the same order
(``Value``'s ``pow`` is ``math.pow``, Python's ``**`` on floats calls the same C ``pow``). Programs
stay where Python's ``math`` raises nothing (``TinyValue`` raises on overflow where ``Value`` gives
``inf``): bases of a real power are positive, and programs whose values grow past 1e100 are skipped.
"""

from __future__ import annotations

import contextlib
import io
import math
from collections.abc import Callable
from typing import Any

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from autograd import Value
from tests.strategies import NO_DEADLINE
from tests.test_docs import DOCS, parse

PAGE = DOCS / "engine-in-100-lines.md"
MAX_LINES = 120


def _python_blocks() -> list[str]:
    return [b.code for b in parse(PAGE).blocks if b.kind == "python"]


def _tiny_value() -> Any:
    namespace: dict[str, Any] = {"__name__": "engine_in_100_lines"}
    with contextlib.redirect_stdout(io.StringIO()):  # the page's examples print
        for code in _python_blocks():
            exec(compile(code, str(PAGE), "exec"), namespace)
    return namespace["TinyValue"]


TinyValue = _tiny_value()

# Each op as (a, b, c) -> node, written once for both engines: a and b are nodes, c a plain float.
Op = Callable[[Any, Any, float], Any]
OPS: dict[str, Op] = {
    "+": lambda a, b, c: a + b,
    "-": lambda a, b, c: a - b,
    "*": lambda a, b, c: a * b,
    "c+": lambda a, b, c: c + a,
    "+c": lambda a, b, c: a + c,
    "c-": lambda a, b, c: c - a,
    "-c": lambda a, b, c: a - c,
    "c*": lambda a, b, c: c * a,
    "*c": lambda a, b, c: a * c,
    "neg": lambda a, b, c: -a,
    "**int": lambda a, b, c: a ** (int(abs(c)) % 3 + 1),  # any base: 1, 2 or 3
    "**c": lambda a, b, c: (a * a + 0.5) ** c,  # a positive base to a real power
    "**node": lambda a, b, c: (a * a + 0.5) ** b.tanh(),
    "c**": lambda a, b, c: (c * c + 0.5) ** a.tanh(),
    "tanh": lambda a, b, c: a.tanh(),
    "exp": lambda a, b, c: a.tanh().exp(),
    "exp+": lambda a, b, c: (a * 0.5).exp(),
    "relu": lambda a, b, c: a.relu(),
}

Instruction = tuple[str, int, int, float]


@st.composite
def programs(draw: st.DrawFn) -> tuple[list[float], list[Instruction]]:
    """2-4 inputs in [-2, 2] (zero included) and 1-10 instructions over the variables so far."""
    n = draw(st.integers(2, 4))
    inputs = draw(st.lists(st.one_of(st.floats(-2.0, 2.0), st.just(0.0)), min_size=n, max_size=n))
    program: list[Instruction] = []
    for k in range(draw(st.integers(1, 10))):
        program.append((draw(st.sampled_from(sorted(OPS))), draw(st.integers(0, n + k - 1)),
                        draw(st.integers(0, n + k - 1)), draw(st.floats(-3.0, 3.0))))
    return inputs, program


def _run(node: Callable[[float], Any], inputs: list[float], program: list[Instruction]) -> tuple[list[Any], Any]:
    """The program on leaves made by ``node``: every variable (leaves first), and their sum."""
    variables = [node(x) for x in inputs]
    for op, a, b, c in program:
        variables.append(OPS[op](variables[a], variables[b], c))
    out = variables[len(inputs)]
    for v in variables[len(inputs) + 1:]:
        out = out + v
    return variables, out


def _moderate(program: list[Instruction], inputs: list[float]) -> bool:
    """Every value of the program (on Values) is finite and below 1e100, where no ``math``
    function of TinyValue raises."""
    variables, out = _run(Value, inputs, program)
    return all(math.isfinite(v.data) and abs(v.data) < 1e100 for v in [*variables, out])


def _same(xs: list[Any], ys: list[Any], what: str) -> None:
    assert [repr(x) for x in xs] == [repr(y) for y in ys], what


@settings(NO_DEADLINE, max_examples=300)
@given(programs())
def test_tiny_value_computes_values_and_gradients_bit_for_bit_as_value(case: tuple[list[float], list[Any]]) -> None:
    inputs, program = case
    assume(_moderate(program, inputs))
    big, big_out = _run(Value, inputs, program)
    tiny, tiny_out = _run(TinyValue, inputs, program)
    _same([v.data for v in big] + [big_out.data], [v.data for v in tiny] + [tiny_out.data], "values")
    for _ in range(2):  # the second pass: leaves add it to their earlier gradient, interior nodes restart
        big_out.backward()
        tiny_out.backward()
        _same([v.grad for v in big], [v.grad for v in tiny], f"gradients of {program} at {inputs}")


def test_the_pages_worked_example_and_its_ops() -> None:
    x, y = TinyValue(2.0), TinyValue(-3.0)
    z = (x * y + 2 ** x - 1).tanh() * x
    assert [z.op, z.parents[0].op, z.parents[0].parents[0].op] == ["*", "tanh", "-"]
    z.backward()
    X, Y = Value(2.0), Value(-3.0)
    Z = (X * Y + 2 ** X - 1).tanh() * X
    Z.backward()
    assert (z.data, x.grad, y.grad) == (Z.data, X.grad, Y.grad)
    assert TinyValue(-1.5).relu().data == 0.0 and TinyValue(True).data == 1.0


def test_tiny_value_has_exactly_values_data_model() -> None:
    leaf = TinyValue(1.5)
    node = leaf * leaf
    assert set(vars(node)) == {"data", "grad", "parents", "local_grads", "op"}
    assert (node.data, node.grad, node.parents, node.local_grads, node.op) == (2.25, 0.0, (leaf, leaf), (1.5, 1.5), "*")
    assert (leaf.parents, leaf.local_grads, leaf.op) == ((), (), "")
    v = Value(1.5)
    w = v * v
    assert (w.data, w.grad, w.parents, w.local_grads, w.op) == (2.25, 0.0, (v, v), (1.5, 1.5), "*")


def test_the_backward_pass_is_iterative_and_a_shared_node_sums_its_paths() -> None:
    x = TinyValue(0.5)
    y = x
    for _ in range(5000):  # deeper than Python's recursion limit
        y = y * 1.0
    y.backward()
    assert x.grad == 1.0
    a = TinyValue(3.0)
    b = a * a + a  # a reached along three edges
    b.backward()
    assert a.grad == 7.0


def test_the_page_has_at_most_120_lines_of_code() -> None:
    lines = [line for code in _python_blocks() for line in code.splitlines()
             if line.strip() and not line.strip().startswith("#")]
    assert len(lines) <= MAX_LINES, f"{PAGE.name} has {len(lines)} lines of code; the page promises at most {MAX_LINES}"
    assert "class TinyValue" in "\n".join(lines)
