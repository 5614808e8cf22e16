"""backward_steps: the record of each edge, the order, parity with backward(), early stop, printing."""

from __future__ import annotations

from collections.abc import Generator
from typing import cast

from hypothesis import given, settings

from autograd import Step, Value, topological_order
from tests.strategies import NO_DEADLINE, Instruction, programs, run_program


def classic() -> tuple[Value, Value, Value, Value]:
    a, b, c, f = Value(2.0, label="a"), Value(-3.0, label="b"), Value(10.0, label="c"), Value(-2.0, label="f")
    e = a * b
    e.label = "e"
    d = e + c
    d.label = "d"
    L = d * f
    L.label = "L"
    return L, a, b, f


def test_each_record_is_local_grad_times_upstream_and_a_running_total() -> None:
    x = Value(3.0, label="x")
    y = x * x  # x reached twice through one node
    y.label = "y"
    steps = list(y.backward_steps())
    assert [(s.node, s.parent) for s in steps] == [(y, x), (y, x)]
    for s in steps:
        assert s.local_grad == 3.0 and s.upstream == 1.0
        assert s.contribution == s.local_grad * s.upstream
    assert [s.parent_grad for s in steps] == [3.0, 6.0]
    assert x.grad == 6.0


def test_records_are_immutable() -> None:
    step = next((Value(2.0) * 3.0).backward_steps())
    assert isinstance(step, Step)
    try:
        step.upstream = 5.0  # type: ignore[misc]
    except AttributeError:
        pass
    else:
        raise AssertionError("Step fields must be read-only")


def test_a_node_is_passed_on_only_after_its_gradient_is_complete() -> None:
    L, *_ = classic()
    seen_as_parent: dict[int, int] = {}
    steps = list(L.backward_steps())
    for i, s in enumerate(steps):
        seen_as_parent[id(s.parent)] = i
    for i, s in enumerate(steps):
        # every edge into s.node came before any edge out of it, and upstream is its final grad
        assert seen_as_parent.get(id(s.node), -1) < i
        assert s.upstream == s.node.grad


def test_classic_expression_records() -> None:
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


def test_step_prints_as_one_chain_rule_line() -> None:
    L, *_ = classic()
    lines = [str(s) for s in L.backward_steps()]
    assert all("\n" not in line for line in lines)
    assert lines[4] == "a.grad += de/da(-3) * e.grad(-2) = 6  -> a.grad = 6"


def test_stopping_early_leaves_a_consistent_partial_state() -> None:
    L, a, b, f = classic()
    steps = cast(Generator[Step, None, None], L.backward_steps())  # a generator: close() stops it
    done = [next(steps) for _ in range(3)]  # L->d, L->f, d->e
    assert [s.parent.label for s in done] == ["d", "f", "e"]
    assert f.grad == 4.0 and a.grad == 0.0 and b.grad == 0.0
    e = done[2].parent
    assert e.grad == -2.0
    steps.close()
    assert a.grad == 0.0  # nothing applied after the stop


def test_partial_run_then_backward_gives_the_same_gradients() -> None:
    L, a, b, f = classic()
    steps = cast(Generator[Step, None, None], L.backward_steps())  # a generator: close() stops it
    next(steps)
    steps.close()
    L.backward()
    assert (a.grad, b.grad, f.grad) == (6.0, -4.0, 4.0)


def test_leaf_accumulation_across_passes_matches_backward() -> None:
    L, a, b, f = classic()
    L.backward()
    for _ in L.backward_steps():
        pass
    assert (a.grad, b.grad, f.grad) == (12.0, -8.0, 8.0)


@settings(NO_DEADLINE, max_examples=60)
@given(programs())
def test_full_consumption_matches_backward_bit_for_bit(case: tuple[list[float], list[Instruction]]) -> None:
    inputs, program = case
    xs1 = [Value(x) for x in inputs]
    xs2 = [Value(x) for x in inputs]
    out1 = run_program(program, xs1)
    out2 = run_program(program, xs2)
    out1.backward()
    n_edges = sum(len(v.parents) for v in topological_order(out2))
    steps = list(out2.backward_steps())
    assert len(steps) == n_edges
    for v1, v2 in zip(topological_order(out1), topological_order(out2)):  # every node, leaves and interior
        assert v1.grad.hex() == v2.grad.hex() or (v1.grad != v1.grad and v2.grad != v2.grad)
    for s in steps:
        assert s.contribution == s.local_grad * s.upstream or s.contribution != s.contribution
