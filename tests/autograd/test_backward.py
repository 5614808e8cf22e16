"""The backward pass: accumulation semantics, shared paths, scaling, deep graphs, determinism."""

from __future__ import annotations

import gc
import math
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from hypothesis import given

from autograd import Step, Value, backward, backward_steps, topological_order
from tests.strategies import NO_DEADLINE, Instruction, programs, run_program

ROOT = Path(__file__).resolve().parents[2]


# --- accumulation ----------------------------------------------------------------------------


@NO_DEADLINE
@given(programs())
def test_backward_twice_doubles_leaf_gradients_exactly(case: tuple[list[float], list[Instruction]]) -> None:
    inputs, program = case
    leaves = [Value(x) for x in inputs]
    out = run_program(program, leaves)
    out.backward()
    first = [leaf.grad for leaf in leaves]
    out.backward()
    for leaf, g in zip(leaves, first):
        assert leaf.grad == 2 * g or (math.isnan(g) and math.isnan(leaf.grad))


def test_interior_gradients_are_reset_each_pass() -> None:
    a, b = Value(2.0), Value(3.0)
    c = a * b
    d = c + a
    d.backward()
    assert c.grad == 1.0 and d.grad == 1.0
    d.backward()
    assert c.grad == 1.0 and d.grad == 1.0, "interior nodes show this pass's gradient"
    assert a.grad == 2 * (3.0 + 1.0) and b.grad == 2 * 2.0, "leaves accumulate"


def test_interior_gradient_shows_the_latest_roots_pass() -> None:
    a = Value(2.0)
    c = a * 5.0
    (c + 1.0).backward()
    assert c.grad == 1.0
    (c * 3.0).backward()
    assert c.grad == 3.0
    assert a.grad == 5.0 + 15.0


def test_backward_on_a_leaf_seeds_and_accumulates() -> None:
    a = Value(4.0)
    a.backward()
    assert a.grad == 1.0
    a.backward()
    assert a.grad == 2.0
    a.backward(grad=5.0)
    assert a.grad == 7.0


def test_leaves_not_reached_keep_their_gradient() -> None:
    a, b, unused = Value(1.0), Value(2.0), Value(3.0)
    unused.grad = 0.25
    (a * b).backward()
    assert unused.grad == 0.25


def test_backward_from_an_interior_node_only_touches_its_ancestors() -> None:
    a, b = Value(2.0), Value(3.0)
    c = a * b
    d = c.tanh() + b
    c.backward()
    assert (a.grad, b.grad) == (3.0, 2.0)
    assert d.grad == 0.0


def test_leaf_gradient_set_by_hand_is_accumulated_onto() -> None:
    x = Value(3.0)
    x.grad = 10.0
    (x * x).backward()
    assert x.grad == 16.0


# --- all paths are summed ---------------------------------------------------------------------


def test_x_times_x_sums_both_paths() -> None:
    x = Value(3.0)
    y = x * x
    assert y.parents == (x, x)
    y.backward()
    assert x.grad == 6.0


def test_x_plus_x() -> None:
    x = Value(-1.5)
    (x + x).backward()
    assert x.grad == 2.0


def test_diamond_sums_both_branches() -> None:
    a = Value(1.5)
    b = a * 2.0
    c = a * 3.0
    d = b * c  # 6 a**2
    d.backward()
    assert a.grad == 12 * 1.5
    assert b.grad == c.data and c.grad == b.data


def test_shared_subexpression() -> None:
    a, b = Value(0.5), Value(-2.0)
    e = a * b
    f = e + e * e  # e + e**2
    f.backward()
    de = 1.0 + 2 * e.data
    assert e.grad == de
    assert a.grad == de * b.data
    assert b.grad == de * a.data


def test_gradient_through_a_long_shared_ladder() -> None:
    # x_{k+1} = x_k + x_k doubles at every rung: d x_n / d x_0 = 2**n, each rung reusing one node twice
    x0 = Value(1.0)
    x = x0
    for _ in range(60):
        x = x + x
    x.backward()
    assert x0.grad == 2.0**60
    assert x.data == 2.0**60


# --- the seed gradient ------------------------------------------------------------------------


def test_backward_grad_scales_every_gradient() -> None:
    def grads(seed: float) -> list[float]:
        a, b = Value(0.7), Value(-1.3)
        ((a * b).tanh() + a.exp() * b).backward(grad=seed)
        return [a.grad, b.grad]

    base = grads(1.0)
    assert grads(4.0) == [4.0 * g for g in base], "a power of two scales exactly"
    for got, g in zip(grads(-0.3), base):
        assert got == pytest.approx(-0.3 * g, rel=1e-15)
    assert grads(0.0) == [0.0, 0.0]


def test_backward_accepts_an_int_seed() -> None:
    a = Value(2.0)
    (a * 3.0).backward(2)
    assert a.grad == 6.0


def test_module_level_backward_needs_a_value() -> None:
    with pytest.raises(TypeError, match=r"backward\(\) needs a Value, got float"):
        backward(3.0)  # type: ignore[arg-type]


# --- deep graphs ------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("enabled", [True, False])
def test_backward_leaves_the_garbage_collector_as_it_found_it(enabled: bool) -> None:
    """The pass pauses the cyclic collector while it runs and restores its state, also on error."""
    was = gc.isenabled()
    (gc.enable if enabled else gc.disable)()
    try:
        x = Value(2.0)
        y = (x * x).tanh()
        y.backward()
        assert gc.isenabled() is enabled
        assert [v.op for v in topological_order(y)] == ["", "*", "tanh"] and gc.isenabled() is enabled
        with pytest.raises(TypeError, match="backward\\(\\) grad must be a real number"):
            y.backward("1")  # type: ignore[arg-type]
        assert gc.isenabled() is enabled
        assert x.grad == pytest.approx(4.0 * (1 - math.tanh(4.0) ** 2))
    finally:
        (gc.enable if was else gc.disable)()


def test_million_node_chain_with_the_default_recursion_limit() -> None:
    assert sys.getrecursionlimit() <= 10_000
    x = Value(1.0)
    y = x
    n = 1_000_000
    for i in range(n):
        y = y * 1.0000001 if i % 2 else y + 0.5
    assert len(topological_order(y)) == n + 1
    y.backward()
    # The chain rule multiplies the local gradients one by one, from the root down.
    expected = 1.0
    for i in reversed(range(n)):
        if i % 2:
            expected = 1.0000001 * expected
    assert x.grad == expected
    assert x.grad == pytest.approx(1.0000001 ** (n // 2), rel=1e-12)


def test_ten_thousand_node_chain_of_unary_ops() -> None:
    x = Value(0.5)
    y = x
    for _ in range(10_000):
        y = y.tanh()
    y.backward()
    expected = 1.0
    v = 0.5
    locals_ = []
    for _ in range(10_000):
        v = math.tanh(v)
        locals_.append(1.0 - v * v)
    for local in reversed(locals_):
        expected = local * expected
    assert x.grad == expected


# --- backward_steps is the same loop --------------------------------------------------------


@NO_DEADLINE
@given(programs())
def test_backward_steps_gives_bit_identical_gradients(case: tuple[list[float], list[Instruction]]) -> None:
    inputs, program = case
    a = [Value(x) for x in inputs]
    run_program(program, a).backward()
    b = [Value(x) for x in inputs]
    out = run_program(program, b)
    steps = list(backward_steps(out))
    assert len(steps) == sum(len(node.parents) for node in topological_order(out))
    assert [repr(v.grad) for v in a] == [repr(v.grad) for v in b]


def test_backward_steps_records_each_edge() -> None:
    a, b = Value(2.0, label="a"), Value(-3.0, label="b")
    c = a * b
    c.label = "c"
    a.grad = 1.0  # an earlier gradient: the steps show the running total including it
    steps = list(c.backward_steps())
    assert steps == [Step(c, a, -3.0, 1.0, -3.0, -2.0), Step(c, b, 2.0, 1.0, 2.0, 2.0)]
    assert a.grad == -2.0 and b.grad == 2.0
    assert str(steps[0]) == "a.grad += dc/da(-3) * c.grad(1) = -3  -> a.grad = -2"


def test_stopping_backward_steps_early_keeps_earlier_leaf_gradients() -> None:
    a, b = Value(2.0), Value(3.0)
    a.grad, b.grad = 10.0, 20.0
    steps = (a * b).backward_steps()
    next(steps)
    steps.close()
    assert a.grad == 13.0, "first edge applied on top of the earlier gradient"
    assert b.grad == 20.0, "second edge never applied"


# --- determinism across processes ---------------------------------------------------------------

_DETERMINISM_SCRIPT = textwrap.dedent(
    """
    import random
    from autograd import Value, dot, topological_order
    r = random.Random(1234)
    leaves = [Value(r.uniform(-1.5, 1.5), label=f"x{i}") for i in range(6)]
    nodes = list(leaves)
    for _ in range(400):
        a, b = r.choice(nodes), r.choice(nodes)
        k = r.randrange(6)
        if k == 0:
            n = a * b
        elif k == 1:
            n = a + b
        elif k == 2:
            n = (a - b).tanh()
        elif k == 3:
            n = dot([a, b], [b, r.uniform(-1, 1)], a)
        elif k == 4:
            n = (a * a + 1.0).log() * b.sigmoid()
        else:
            n = a / (b * b + 1.0)
        nodes.append(n)
    out = sum(nodes[-50:], Value(0.0))
    out.backward()
    print([repr(v.grad) for v in leaves])
    print([nodes.index(v) if v in nodes else -1 for v in topological_order(out)][:200])
    """
)


def test_gradients_are_bit_identical_across_hash_seeds() -> None:
    outputs = []
    for seed in ("0", "1", "4242", "random"):
        env = {**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": str(ROOT)}
        result = subprocess.run(
            [sys.executable, "-c", _DETERMINISM_SCRIPT], env=env, capture_output=True, text=True, check=True
        )
        outputs.append(result.stdout)
    grads = outputs[0].splitlines()[0]
    assert "nan" not in grads and "inf" not in grads
    assert all(out == outputs[0] for out in outputs), "\n".join(outputs)
