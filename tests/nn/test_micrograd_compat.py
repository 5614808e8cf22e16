"""micrograd code runs after changing its imports, with identical numbers (checked against micrograd when installed)."""

from __future__ import annotations

import random

import pytest

from autograd import Value
from benchmarks.workloads import micrograd_style_step  # micrograd's demo step, shared with the benchmarks
from nn import MLP

DATA = ([[0.5, 1.0], [-0.3, 0.2], [1.5, -0.4], [0.0, 0.6]], [1, -1, 1, -1])


@pytest.mark.parametrize("fused", [True, False])
def test_micrograd_script_runs_unchanged_and_matches_micrograd(fused: bool) -> None:
    mg_nn = pytest.importorskip("micrograd.nn")
    mg_engine = pytest.importorskip("micrograd.engine")
    random.seed(1337)
    theirs = mg_nn.MLP(2, [8, 8, 1])
    random.seed(1337)
    ours = MLP(2, [8, 8, 1], fused=fused)
    assert [p.data for p in ours.parameters()] == [float(p.data) for p in theirs.parameters()]
    X, y = DATA
    for k in range(5):
        a = micrograd_style_step(Value, ours, X, y, k)
        b = micrograd_style_step(mg_engine.Value, theirs, X, y, k)
        assert a == pytest.approx(b, rel=1e-13)
        assert [p.data for p in ours.parameters()] == pytest.approx([p.data for p in theirs.parameters()], rel=1e-12)


def test_micrograd_attribute_contract() -> None:
    m = MLP(2, [3, 1], seed=0)
    layer = m.layers[0]
    neuron = layer.neurons[0]
    assert isinstance(neuron.w, list) and all(isinstance(w, Value) for w in neuron.w)
    assert isinstance(neuron.b, Value) and neuron.nonlin is True
    assert neuron.parameters() == [*neuron.w, neuron.b]
    assert layer.parameters() == [p for n in layer.neurons for p in n.parameters()]
    assert m.parameters() == [p for lay in m.layers for p in lay.parameters()]
    # micrograd passes lists of Values between layers and accepts them as input
    out = m([Value(1.0), Value(-1.0)])
    assert isinstance(out, Value)
    micrograd_style_step(Value, m, *DATA, k=0)
