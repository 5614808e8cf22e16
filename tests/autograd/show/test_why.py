"""``why(node, root)``: path sums by consumer, the edges that cut a zero gradient, cancellation,
nn parameters named by unit, and non-finite gradients traced to their cause."""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import autograd
from autograd import Value, select, why
from autograd.show.why import SATURATED, Cut, WhyReport
from nn import MLP
from tests.strategies import NO_DEADLINE, programs, run_program


def _check_report(x: Value, root: Value, report: WhyReport, tiny: float = 1e-3) -> None:
    """Everything a report promises, checked against the graph."""
    total = math.fsum(c for _, c in report.by_consumer)
    scale = math.fsum(abs(c) for _, c in report.by_consumer)
    if math.isfinite(report.grad) and math.isfinite(scale):
        assert abs(total - report.grad) <= 1e-12 * scale
    for cut in report.cuts:
        size = abs(cut.local_grad)
        saturating = cut.node.primitive is not None and cut.node.primitive.name in ("sigmoid", "tanh")
        assert size < tiny or (saturating and size < SATURATED)
        assert cut.parent in cut.node.parents
        assert cut.reason in ("inactive", "zero derivative", "saturated", "kink", "times zero", "tiny")
    if report.cuts:
        assert not _connected(root, x, {(id(c.node), id(c.parent)) for c in report.cuts})
        assert not report.cancelled
    if report.reachable and report.grad == 0.0:
        assert report.cuts or report.cancelled  # a zero gradient always has an explanation
    assert str(report)


def _connected(root: Value, target: Value, removed: set[tuple[int, int]]) -> bool:
    """Whether a path of edges (minus ``removed``) leads from ``root`` down to ``target``."""
    seen, stack = {id(root)}, [root]
    while stack:
        n = stack.pop()
        if n is target:
            return True
        for p in n.parents:
            if (id(n), id(p)) not in removed and id(p) not in seen:
                seen.add(id(p))
                stack.append(p)
    return False


@st.composite
def zeroish_graphs(draw: st.DrawFn) -> tuple[list[float], list[tuple[str, int, int]]]:
    """Small graphs over small whole numbers, so zeros, dead ReLUs, saturation and exact
    cancellation (``a - a``, ``x*c + x*(-c)``) are common."""
    n = draw(st.integers(1, 3))
    inputs = draw(st.lists(st.sampled_from([-2.0, -1.0, 0.0, 1.0, 2.0, 3.0]), min_size=n, max_size=n))
    steps = []
    for k in range(draw(st.integers(1, 10))):
        op = draw(st.sampled_from(["+", "-", "*", "relu", "tanh10", "abs", "*0", "neg"]))
        steps.append((op, draw(st.integers(0, n + k - 1)), draw(st.integers(0, n + k - 1))))
    return inputs, steps


_STEP: dict[str, Callable[[Value, Value], Value]] = {
    "+": lambda a, b: a + b,
    "-": lambda a, b: a - b,
    "*": lambda a, b: a * b,
    "relu": lambda a, b: a.relu(),
    "tanh10": lambda a, b: (a * 10.0).tanh(),
    "abs": lambda a, b: abs(a),
    "*0": lambda a, b: a * 0.0,
    "neg": lambda a, b: -a,
}


def _run_steps(inputs: list[Value], steps: list[tuple[str, int, int]]) -> Value:
    variables = list(inputs)
    for op, a, b in steps:
        variables.append(_STEP[op](variables[a], variables[b]))
    return variables[-1]


def _check_against_backward(xs: list[Value], root: Value) -> None:
    reports = [why(x, root) for x in xs]
    assert all(x.grad == 0.0 for x in xs)  # why() changes no gradient
    for x, report in zip(xs, reports):
        _check_report(x, root, report)
    root.backward()
    for x, report in zip(xs, reports):
        if math.isnan(x.grad):
            assert math.isnan(report.grad)
        else:
            assert report.grad == x.grad  # the same sums in the same order as backward


@NO_DEADLINE
@given(programs())
def test_random_programs_agree_with_backward_and_explain_every_zero(case: tuple[list[float], list[Any]]) -> None:
    inputs, program = case
    xs = [Value(x) for x in inputs]
    _check_against_backward(xs, run_program(program, xs))


@settings(NO_DEADLINE, max_examples=300)
@given(zeroish_graphs())
def test_graphs_full_of_zeros_and_cancellations(case: tuple[list[float], list[tuple[str, int, int]]]) -> None:
    inputs, steps = case
    xs = [Value(x) for x in inputs]
    _check_against_backward(xs, _run_steps(xs, steps))


# --- named cases ---------------------------------------------------------------------------------


def test_a_dead_relu_is_named_with_its_input() -> None:
    x = Value(-1.7, label="x")
    loss = (x + 0.0).relu() * 3.0
    report = why(x, loss)
    assert report.grad == 0.0 and not report.cancelled
    [cut] = report.cuts
    assert cut.node.op == "relu" and cut.parent.data == -1.7 and cut.local_grad == 0.0 and cut.reason == "inactive"
    assert "inactive (input -1.7)" in str(report)


def test_relu_at_exactly_zero_is_inactive() -> None:
    x = Value(0.0, label="x")
    assert [c.reason for c in why(x, x.relu()).cuts] == ["inactive"]


def test_a_saturated_tanh_is_named() -> None:
    x = Value(6.0, label="x")
    loss = (x * 2.0).tanh() * 3.0
    report = why(x, loss)
    [cut] = report.cuts
    assert cut.reason == "saturated" and cut.node.op == "tanh"
    assert 0.0 < report.grad < 1e-8
    assert "saturated (output 1)" in str(report)


def test_a_mildly_saturated_sigmoid_counts_below_one_hundredth() -> None:
    x = Value(5.0, label="x")
    assert [c.reason for c in why(x, x.sigmoid()).cuts] == ["saturated"]  # local 0.0066
    assert why(x, (x - 1.0).sigmoid()).cuts == []  # local 0.0177


def test_multiplication_by_zero_and_by_a_zero_constant() -> None:
    x, z = Value(2.0, label="x"), Value(0.0, label="z")
    report = why(x, x * z + 1.0)
    assert [(c.reason, c.parent) for c in report.cuts] == [("times zero", x)]
    assert [c.reason for c in why(x, x * 0.0).cuts] == ["times zero"]


def test_abs_at_its_kink_and_select_index() -> None:
    x = Value(0.0, label="x")
    assert [c.reason for c in why(x, abs(x) * 2.0).cuts] == ["kink"]
    i, a, b = Value(1.0), Value(3.0), Value(4.0)
    s = select(i, [a, b])
    assert [c.reason for c in why(i, s).cuts] == ["zero derivative"]
    assert [c.reason for c in why(a, s).cuts] == ["inactive"]


def test_a_tiny_local_gradient_and_the_tiny_parameter() -> None:
    x = Value(2.0, label="x")
    y = x * 1e-4
    assert [c.reason for c in why(x, y).cuts] == ["tiny"]
    assert why(x, y, tiny=1e-5).cuts == []


def test_exact_cancellation_is_reported_as_such() -> None:
    x, c = Value(3.0, label="x"), Value(2.0, label="c")
    y = x * c + x * (-c)
    report = why(x, y)
    assert report.grad == 0.0 and report.cuts == [] and report.cancelled
    assert [contribution for _, contribution in report.by_consumer] == [-2.0, 2.0]
    assert "cancel" in str(report)


def test_the_cut_nearest_the_root_is_reported_once_per_edge() -> None:
    x = Value(-1.0, label="x")
    h = x * 2.0
    loss = h.relu() + (h * 0.0)
    report = why(x, loss)
    assert sorted(c.reason for c in report.cuts) == ["inactive", "times zero"]
    assert all(c.parent is h for c in report.cuts)


def test_by_consumer_groups_paths_and_matches_backward() -> None:
    x = Value(1.5, label="x")
    a, b = x * x, x.tanh()
    loss = a * b + a
    report = why(x, loss)
    assert [n for n, _ in report.by_consumer] == [b, a] or [n for n, _ in report.by_consumer] == [a, b]
    loss.backward()
    assert report.grad == x.grad
    assert sum(c for _, c in report.by_consumer) == pytest.approx(x.grad, rel=1e-12)


def test_an_unrelated_node_and_the_root_itself() -> None:
    x, y = Value(1.0, label="x"), Value(2.0, label="y")
    report = why(x, y * 2.0)
    assert not report.reachable and report.grad == 0.0 and report.cuts == [] and not report.cancelled
    assert "does not depend on x" in str(report)
    assert why(y, y).grad == 1.0


def test_cuts_are_namedtuples_with_the_documented_fields() -> None:
    x = Value(-1.0)
    [cut] = why(x, x.relu()).cuts
    assert isinstance(cut, Cut) and cut._fields == ("node", "parent", "local_grad", "reason")


def test_a_long_chain_is_answered_per_edge() -> None:
    x = Value(0.5)
    v = x
    for _ in range(100_000):
        v = v * 1.0000001 + 0.0
    report = why(x, v)
    v.backward()
    assert report.grad == x.grad


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(TypeError, match=r"why\(\) needs a Value, got float"):
        why(1.0, Value(1.0))  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="root"):
        why(Value(1.0), 2)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="tiny must be a real number"):
        why(Value(1.0), Value(1.0), tiny="small")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="tiny must be 0 or more"):
        why(Value(1.0), Value(1.0), tiny=-1.0)


def test_why_is_exported_lazily() -> None:
    assert autograd.why is why
    assert "why" in autograd.__all__ and "WhyReport" in autograd.__all__


def test_a_non_finite_gradient_names_where_it_started() -> None:
    x = Value(0.0, label="x")
    a = x.log()
    w = Value(2.0, label="w")
    loss = (a * 0.0) * w
    report = why(w, loss)
    assert math.isnan(report.grad)
    assert report.cause is a
    assert "it started at op 'log' (inputs 0.0) -> -inf" in str(report)
    assert why(x, loss + 0.0).cause is not None


# --- nn models: parameters named, dead units counted over the batch -----------------------------


def test_mlp_parameters_are_labelled_with_their_state_dict_names() -> None:
    model = MLP(2, [3, 1], seed=0)
    assert [(name, p.label) for name, p in model.named_parameters()] == [
        (name, name) for name in model.state_dict()]
    assert model.layers[1].neurons[0].w[2].label == "layers.1.neurons.0.w.2"


def test_a_label_the_user_gave_is_kept_and_loading_labels_the_rest() -> None:
    model = MLP(2, [1], seed=0)
    model.layers[0].neurons[0].w[0].label = "mine"
    for _, p in model.named_parameters()[1:]:
        p.label = ""
    model.load_state_dict(model.state_dict())
    assert [p.label for p in model.parameters()] == ["mine", "layers.0.neurons.0.w.1", "layers.0.neurons.0.b"]


def test_a_dead_neuron_is_named_with_its_layer_and_sample_count() -> None:
    model = MLP(2, [4, 1], seed=1)
    model.layers[0].neurons[3].b.data = -100.0
    rng = random.Random(0)
    batch = [[rng.uniform(-1, 1), rng.uniform(-1, 1)] for _ in range(7)]
    loss = sum((_out(model, x) for x in batch), Value(0.0))
    w = model.layers[0].neurons[3].w[0]
    report = why(w, loss)
    assert report.grad == 0.0 and len(report.cuts) == 7
    assert all(c.reason == "inactive" for c in report.cuts)
    text = str(report)
    assert "layers[0].neurons[3].w[0]" in text
    assert "layers[0].neurons[3] (relu): inactive on all 7 samples of the batch" in text


def _out(model: MLP, x: list[float]) -> Value:
    y = model(x)
    assert isinstance(y, Value)
    return y


def test_a_neuron_dead_on_some_samples_says_how_many() -> None:
    model = MLP(1, [1, 1], seed=0, fused=False)
    neuron = model.layers[0].neurons[0]
    neuron.w[0].data, neuron.b.data = 1.0, 0.0
    loss = sum((_out(model, [x]) for x in [-1.0, -2.0, 3.0]), Value(0.0))
    report = why(neuron.b, loss)
    assert report.cuts == []  # one sample still passes the gradient
    model2 = MLP(1, [1, 1], seed=0, fused=False)
    n2 = model2.layers[0].neurons[0]
    n2.w[0].data, n2.b.data = 1.0, 0.0
    loss2 = sum((_out(model2, [x]) for x in [-1.0, -2.0]), Value(0.0)) + _out(model2, [3.0]) * 0.0
    text = str(why(n2.b, loss2))
    assert "layers[0].neurons[0] (relu): inactive on 2 of 3 samples of the batch" in text
