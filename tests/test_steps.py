"""backward_steps records and explain(): the chain rule one edge at a time, as readable text."""

from __future__ import annotations

from collections.abc import Generator
from typing import cast

from hypothesis import given

from autograd import Step, Value, topological_order
from tests.strategies import NO_DEADLINE, Instruction, programs, run_program


def test_each_record_holds_the_chain_rule_arithmetic() -> None:
    a, b = Value(2.0, label="a"), Value(-3.0, label="b")
    e = a * b
    e.label = "e"
    L = e * e + a
    L.label = "L"
    steps = list(L.backward_steps())
    for s in steps:
        assert isinstance(s, Step)
        assert s.contribution == s.local_grad * s.upstream
        assert s.upstream == s.node.grad  # the node's gradient was complete when its edges ran
    # every parent's running total ends at its final gradient
    last: dict[int, float] = {}
    for s in steps:
        last[id(s.parent)] = s.parent_grad
    assert last[id(a)] == a.grad == 2 * -6.0 * -3.0 + 1
    assert last[id(b)] == b.grad == 2 * -6.0 * 2.0


def test_a_nodes_edges_come_only_after_all_contributions_to_it() -> None:
    x = Value(1.5, label="x")
    h = x * x
    h.label = "h"
    out = h * 3.0 + h.exp()
    steps = list(out.backward_steps())
    into_h = [i for i, s in enumerate(steps) if s.parent is h]
    out_of_h = [i for i, s in enumerate(steps) if s.node is h]
    assert len(into_h) == 2 and len(out_of_h) == 2
    assert max(into_h) < min(out_of_h)


def test_records_print_as_one_readable_line() -> None:
    w, x = Value(2.0, label="w"), Value(3.0, label="x")
    y = w * x
    y.label = "y"
    lines = [str(s) for s in y.backward_steps()]
    assert lines == [
        "w.grad += dy/dw(3) * y.grad(1) = 3  -> w.grad = 3",
        "x.grad += dy/dx(2) * y.grad(1) = 2  -> x.grad = 2",
    ]


@NO_DEADLINE
@given(programs())
def test_steps_match_backward_bit_for_bit(case: tuple[list[float], list[Instruction]]) -> None:
    inputs, program = case
    xs1 = [Value(x) for x in inputs]
    out1 = run_program(program, xs1)
    out1.backward()
    xs2 = [Value(x) for x in inputs]
    out2 = run_program(program, xs2)
    n_edges = sum(len(n.parents) for n in topological_order(out2))
    assert len(list(out2.backward_steps())) == n_edges
    assert [repr(v.grad) for v in xs1] == [repr(v.grad) for v in xs2]


def test_stopping_early_leaves_the_gradients_applied_so_far() -> None:
    a, b = Value(2.0), Value(5.0)
    y = a * b + a
    it = cast(Generator[Step, None, None], y.backward_steps())
    first = next(it)
    assert first.parent.grad == first.parent_grad
    it.close()
    assert b.grad in (0.0, 2.0)  # b's only edge ran or not: no half-applied value


def test_explain_says_how_a_node_was_made_and_where_its_gradient_came_from() -> None:
    a, b = Value(2.0, label="a"), Value(-3.0, label="b")
    e = a * b
    e.label = "e"
    y = e * e
    y.label = "y"
    y.backward()
    text = e.explain(root=y)
    assert text.splitlines()[0] == "e = -6.0, computed by op '*' from a=2, b=-3"
    assert "local gradient de/da = -3.0" in text
    assert "grad = -12.0, the sum over its 2 use(s):" in text
    assert text.count("from y (op '*'): dy/de -6.0 x y.grad 1.0 = -6.0") == 2
    assert a.explain().endswith("(pass root= to see which children it came from)")
    assert "this is the root" in y.explain(root=y)
    assert "does not depend on" in Value(1.0, label="z").explain(root=y)
