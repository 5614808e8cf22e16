"""Properties of random programs (Hypothesis): gradients match central differences, and every graph
satisfies the engine's invariants (one local gradient per parent; a valid topological order)."""

from __future__ import annotations

import math

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from autograd import Value, no_grad, topological_order
from tests.numeric import assert_close, central_difference
from tests.strategies import (
    NO_DEADLINE,
    OPS,
    Instruction,
    crosses_kink,
    intermediate_values,
    program_function,
    programs,
    reals,
    run_program,
)

EPS = 1e-6


@settings(NO_DEADLINE, max_examples=300)
@given(programs())
def test_random_program_gradients_match_central_differences(case: tuple[list[float], list[Instruction]]) -> None:
    inputs, program = case
    values = intermediate_values(program, inputs)
    assume(all(math.isfinite(v) and abs(v) < 1e4 for v in values))
    assume(not crosses_kink(program, inputs, EPS))
    leaves = [Value(x) for x in inputs]
    out = run_program(program, leaves)
    out.backward()
    f = program_function(program)
    scale = 1.0 + max(abs(v) for v in values)
    for i, leaf in enumerate(leaves):
        expected = central_difference(f, inputs, i, EPS)
        # Central differences lose about 1e-16 * |f| / eps to rounding; allow for it.
        assert_close(leaf.grad, expected, rtol=1e-5, atol=1e-7 * scale, what=f"input {i} of {program} at {inputs}")


@NO_DEADLINE
@given(programs())
def test_every_node_has_one_local_gradient_per_parent(case: tuple[list[float], list[Instruction]]) -> None:
    inputs, program = case
    out = run_program(program, [Value(x) for x in inputs])
    for node in topological_order(out):
        assert len(node.local_grads) == len(node.parents), node
        assert all(type(g) is float for g in node.local_grads), node
        assert all(isinstance(p, Value) for p in node.parents), node
        assert (node.op == "") == (not node.parents), "leaves have no op; recorded nodes have one"


@NO_DEADLINE
@given(programs())
def test_topological_order_puts_every_node_after_its_parents(case: tuple[list[float], list[Instruction]]) -> None:
    inputs, program = case
    leaves = [Value(x) for x in inputs]
    out = run_program(program, leaves)
    order = topological_order(out)
    position = {node: i for i, node in enumerate(order)}
    assert len(position) == len(order), "no duplicates"
    assert order[-1] is out, "root last"
    for node in order:
        for parent in node.parents:
            assert position[parent] < position[node]
    # complete: every ancestor is there, found by an independent walk
    ancestors = {out}
    frontier = [out]
    while frontier:
        for parent in frontier.pop().parents:
            if parent not in ancestors:
                ancestors.add(parent)
                frontier.append(parent)
    assert set(order) == ancestors


def _post_order(node: Value, seen: set[Value], out: list[Value]) -> None:
    """The definition, recursively: visit parents in argument order, then emit the node."""
    seen.add(node)
    for parent in node.parents:
        if parent not in seen:
            _post_order(parent, seen, out)
    out.append(node)


@NO_DEADLINE
@given(programs(max_length=12))
def test_topological_order_is_the_depth_first_post_order(case: tuple[list[float], list[Instruction]]) -> None:
    """The iterative walk (with its shortcut down single-parent chains) gives exactly the order of
    the recursive definition, which fixes the order of every sum in the backward pass."""
    inputs, program = case
    leaves = [Value(x) for x in inputs]
    out = run_program(program, leaves)
    chained = ((out.tanh() * 2.0 + 1.0) * out).relu()  # single-parent chains around a shared node
    for root in (out, chained):
        expected: list[Value] = []
        _post_order(root, set(), expected)
        assert topological_order(root) == expected


@NO_DEADLINE
@given(programs())
def test_topological_order_is_the_same_every_time(case: tuple[list[float], list[Instruction]]) -> None:
    inputs, program = case
    out = run_program(program, [Value(x) for x in inputs])
    first = topological_order(out)
    assert topological_order(out) == first


@NO_DEADLINE
@given(programs())
def test_no_grad_programs_compute_the_same_data_and_record_nothing(
    case: tuple[list[float], list[Instruction]],
) -> None:
    inputs, program = case
    recorded = run_program(program, [Value(x) for x in inputs])
    with no_grad():
        plain = run_program(program, [Value(x) for x in inputs])
    assert repr(plain.data) == repr(recorded.data)
    assert plain.parents == ()


@NO_DEADLINE
@given(programs(), st.sampled_from(sorted(OPS)), reals(-2.0, 2.0))
def test_local_gradients_of_random_nodes_match_central_differences(
    case: tuple[list[float], list[Instruction]], op: str, const: float
) -> None:
    """Each node's recorded local gradients, checked against its own op on perturbed parents."""
    inputs, _ = case
    a, b = Value(inputs[0]), Value(inputs[1])
    out = OPS[op](a, b, const)
    for node in topological_order(out):
        if not node.parents or node.op in {"abs", "relu", "leaky_relu"}:
            continue
        rebuilt = _rebuild(node)
        if rebuilt is None:
            continue
        xs = [p.data for p in node.parents]
        for i, local in enumerate(node.local_grads):
            if any(q is node.parents[i] for j, q in enumerate(node.parents) if j != i):
                continue  # the same Value twice (x * x): perturbing one slot is not a partial of the graph
            assert_close(local, central_difference(rebuilt, xs, i, EPS), rtol=1e-5, atol=1e-6, what=f"{node}")


def _rebuild(node: Value):  # type: ignore[no-untyped-def]
    """``node``'s op as a function of its parents' data, for the ops whose name says it all."""
    unary = {
        "neg": lambda v: -v,
        "exp": Value.exp,
        "log": Value.log,
        "sqrt": Value.sqrt,
        "tanh": Value.tanh,
        "sigmoid": Value.sigmoid,
        "softplus": Value.softplus,
    }
    binary = {"+": lambda x, y: x + y, "-": lambda x, y: x - y, "*": lambda x, y: x * y, "/": lambda x, y: x / y}
    if len(node.parents) == 1 and node.op in unary:
        return lambda xs: unary[node.op](Value(xs[0])).data
    if len(node.parents) == 2 and node.op in binary:
        return lambda xs: binary[node.op](Value(xs[0]), Value(xs[1])).data
    if len(node.parents) == 2 and node.op == "**":
        return lambda xs: (Value(xs[0]) ** Value(xs[1])).data
    if node.op.startswith("**") and len(node.parents) == 1:
        c = float(node.op[2:])
        return lambda xs: (Value(xs[0]) ** c).data
    return None
