"""micrograd code runs after changing its imports, with identical numbers (checked against micrograd when installed)."""

from __future__ import annotations

import random
from typing import Any

import pytest

from autograd import Value
from nn import MLP


def micrograd_style_step(Value_: Any, model: Any, X: list[list[float]], y: list[int], k: int) -> float:
    """micrograd's demo loss and update, written exactly as in its notebook."""
    inputs = [list(map(Value_, xrow)) for xrow in X]
    scores = list(map(model, inputs))
    losses = [(1 + -yi * scorei).relu() for yi, scorei in zip(y, scores)]
    data_loss = sum(losses) * (1.0 / len(losses))
    reg_loss = 1e-4 * sum(p * p for p in model.parameters())
    total_loss = data_loss + reg_loss
    model.zero_grad()
    total_loss.backward()
    for p in model.parameters():
        p.data -= (1.0 - 0.9 * k / 100) * p.grad
    return float(total_loss.data)


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
