"""Saving and loading: bit-exact round trips, atomic writes, and every refusal leaving files untouched."""

from __future__ import annotations

import json
import math
import random
from pathlib import Path

import pytest

import nn
from nn import MLP


def _model() -> MLP:
    return MLP(2, [4, 3], activation="tanh", output_activation="linear", seed=5, init="xavier")


def test_round_trip_is_bit_for_bit_and_keeps_the_architecture(tmp_path: Path) -> None:
    m = _model()
    m.layers[0].neurons[0].w[0].data = 0.1 + 0.2  # a float whose repr needs all 17 digits
    path = tmp_path / "m.json"
    m.save(path)
    loaded = nn.load(path)
    assert isinstance(loaded, MLP)
    assert loaded.state_dict() == m.state_dict()
    assert loaded.config == m.config
    x = [0.25, -1.5]
    a, b = m(x), loaded(x)
    assert isinstance(a, list) and isinstance(b, list)
    assert [v.data for v in a] == [v.data for v in b]
    doc = json.loads(path.read_text())
    assert doc["format"] == "valuegrad-model" and doc["version"] == 1
    assert doc["architecture"]["nouts"] == [4, 3]


def test_save_refuses_non_finite_weights_and_leaves_the_old_file(tmp_path: Path) -> None:
    path = tmp_path / "m.json"
    m = _model()
    m.save(path)
    old = path.read_bytes()
    m.layers[1].neurons[2].b.data = math.inf
    with pytest.raises(ValueError, match=r"not finite \(first: 'layers.1.neurons.2.b' = inf\)"):
        m.save(path)
    assert path.read_bytes() == old
    assert [p.name for p in tmp_path.iterdir()] == ["m.json"]  # no temporary file left behind


def test_any_module_saves_and_loads_into_an_instance_of_its_class(tmp_path: Path) -> None:
    neuron = nn.Neuron(2, rng=random.Random(0))
    neuron.b.data = 0.25
    path = tmp_path / "n.json"
    nn.save(neuron, path)
    with pytest.raises(ValueError, match=r"holds a 'Neuron', which load\(\) cannot rebuild by itself"):
        nn.load(path)
    with pytest.raises(ValueError, match="holds a Neuron, not a MLP"):
        nn.load(path, into=_model())
    fresh = nn.Neuron(2, rng=random.Random(1))
    assert nn.load(path, into=fresh) is fresh
    assert [p.data for p in fresh.parameters()] == [p.data for p in neuron.parameters()]
    with pytest.raises(TypeError, match="save\\(\\) needs a Module, got dict"):
        nn.save({}, path)  # type: ignore[arg-type]


def _write(tmp_path: Path, doc: object) -> Path:
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(doc) if not isinstance(doc, str) else doc)
    return path


def _valid(tmp_path: Path) -> dict[str, object]:
    good = tmp_path / "good.json"
    _model().save(good)
    doc: dict[str, object] = json.loads(good.read_text())
    return doc


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: "{not json", r"not valid JSON \(.* at line 1, column 2\)"),
        (lambda d: {**d, "format": "other"}, "not a valuegrad model file"),
        (lambda d: {**d, "version": 99}, "format version 99 is not supported"),
        (lambda d: {k: v for k, v in d.items() if k != "state_dict"}, "state_dict"),
        (lambda d: {**d, "architecture": {**d["architecture"], "nouts": [4, 0]}}, "bad architecture"),
        (lambda d: {**d, "state_dict": dict(list(d["state_dict"].items())[1:])},
         r"missing keys \['layers.0.neurons.0.w.0'\]"),
        (lambda d: {**d, "architecture": {**d["architecture"], "nouts": [4, 2]}}, "unexpected keys"),
        (lambda d: json.dumps(d).replace('"layers.0.neurons.0.b": 0.0', '"layers.0.neurons.0.b": NaN'),
         "'layers.0.neurons.0.b' is nan"),
    ],
)
def test_load_refuses_bad_files_with_a_message_saying_where(tmp_path: Path, mutate: object, message: str) -> None:
    doc = _valid(tmp_path)
    bad = mutate(doc)  # type: ignore[operator]
    path = _write(tmp_path, bad)
    with pytest.raises(ValueError, match=message) as info:
        nn.load(path)
    assert str(path) in str(info.value)
