"""backward_steps records and explain(): the chain rule one edge at a time, as readable text."""

from __future__ import annotations

from hypothesis import given

from autograd import Step, Value, topological_order
from tests.graphs import classic_nodes
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
    it = y.backward_steps()
    first = next(it)
    assert first.parent.grad == first.parent_grad
    it.close()
    assert b.grad in (0.0, 2.0)  # b's only edge ran or not: no half-applied value


def classic() -> tuple[Value, Value, Value, Value]:
    """L = (a*b + c) * f with a=2, b=-3, c=10, f=-2 (micrograd's lecture example)."""
    a, b, _, _, _, f, L = classic_nodes()
    return L, a, b, f


def test_the_classic_expression_steps_in_this_exact_order() -> None:
    L, *_ = classic()
    got = [(s.node.label, s.parent.label, s.local_grad, s.upstream, s.parent_grad) for s in L.backward_steps()]
    assert got == [
        ("L", "d", -2.0, 1.0, -2.0),
        ("L", "f", 4.0, 1.0, 4.0),
        ("d", "e", 1.0, -2.0, -2.0),
        ("d", "c", 1.0, -2.0, -2.0),
        ("e", "a", -3.0, -2.0, 6.0),
        ("e", "b", 2.0, -2.0, -4.0),
    ]


def test_stopping_after_three_steps_leaves_exactly_those_applied() -> None:
    L, a, b, f = classic()
    it = L.backward_steps()
    done = [next(it) for _ in range(3)]  # L->d, L->f, d->e
    it.close()
    assert [s.parent.label for s in done] == ["d", "f", "e"]
    assert (done[2].parent.grad, f.grad, a.grad, b.grad) == (-2.0, 4.0, 0.0, 0.0)


def test_a_stopped_pass_then_backward_gives_the_full_gradients() -> None:
    L, a, b, f = classic()
    it = L.backward_steps()
    next(it)
    it.close()
    L.backward()
    assert (a.grad, b.grad, f.grad) == (6.0, -4.0, 4.0)


def test_steps_accumulate_into_leaves_like_backward() -> None:
    L, a, b, f = classic()
    L.backward()
    last = list(L.backward_steps())[-1]
    assert (a.grad, b.grad, f.grad) == (12.0, -8.0, 8.0)
    assert last.parent is b and last.parent_grad == -8.0  # the running total includes the earlier pass


def test_step_records_are_read_only() -> None:
    step = next((Value(2.0) * 3.0).backward_steps())
    try:
        step.upstream = 5.0  # type: ignore[misc]
    except AttributeError:
        return
    raise AssertionError("Step fields must be read-only")


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


def test_an_unstarted_step_iterator_changes_nothing() -> None:
    x = Value(3.0)
    y = x * x
    x.grad, y.grad = 3.0, 7.0
    it = y.backward_steps()
    del it
    assert (x.grad, y.grad) == (3.0, 7.0)


def test_a_leafs_grad_and_its_steps_parent_grad_agree_at_every_step() -> None:
    w, x = Value(2.0, label="w"), Value(-1.0, label="x")
    w.grad = 10.0  # accumulated by an earlier pass
    y = w * x + w * 3.0
    for step in y.backward_steps():
        assert step.parent.grad == step.parent_grad
    assert w.grad == 10.0 + (-1.0 + 3.0)


def test_a_stopped_pass_leaves_earlier_plus_applied_contributions() -> None:
    w = Value(2.0, label="w")
    w.grad = 1.0
    y = w * 5.0 + w * 7.0  # two uses of w: 7 first (the last use is walked first), then 5
    walker = y.backward_steps()
    shown = [next(walker) for _ in range(3)]  # the + node's two edges, then w's first use
    walker.close()
    assert shown[-1].parent is w and w.grad == shown[-1].parent_grad == 1.0 + shown[-1].contribution
    y.backward()  # a later full pass still gives earlier + the whole pass
    assert w.grad == shown[-1].parent_grad + 12.0
