"""Saving and loading: bit-exact round trips, atomic writes, and every refusal leaving files untouched."""

from __future__ import annotations

import ast
import json
import math
import random
from collections.abc import Iterator
from pathlib import Path

import pytest

import nn
import nn.io
from autograd import Value
from nn import MLP
from nn.registry import MODEL_CLASSES, register_model


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


# --- the format in one module -----------------------------------------------------------------


class Pair(nn.Module):
    def __init__(self) -> None:
        self.a = Value(0.1 + 0.2)
        self.b = [self.a, Value(-2)]


def test_the_bytes_written_are_pinned(tmp_path: Path) -> None:
    """What ``save`` writes, byte for byte (the writer moved from nn.module into nn.io unchanged)."""
    mlp, pair = tmp_path / "mlp.json", tmp_path / "pair.json"
    MLP(1, [1], seed=0).save(mlp, metadata={"classes": ("x", "y")})
    Pair().save(pair)
    assert mlp.read_bytes() == (
        b'{\n "format": "valuegrad-model",\n "version": 1,\n "architecture": {\n  "type": "MLP",\n  "nin": 1,\n'
        b'  "nouts": [\n   1\n  ],\n  "activation": "relu",\n  "output_activation": "linear",\n'
        b'  "init": "micrograd",\n  "fused": true\n },\n "state_dict": {\n'
        b'  "layers.0.neurons.0.w.0": 0.6888437030500962,\n  "layers.0.neurons.0.b": 0.0\n },\n'
        b' "metadata": {\n  "classes": [\n   "x",\n   "y"\n  ]\n }\n}'
    )
    assert pair.read_bytes() == (
        b'{\n "format": "valuegrad-model",\n "version": 1,\n "architecture": {\n  "type": "Pair"\n },\n'
        b' "state_dict": {\n  "a": 0.30000000000000004,\n  "b.1": -2.0\n },\n "ties": {\n  "b.0": "a"\n }\n}'
    )
    assert (mlp.stat().st_mode & 0o777) == nn.io.FILE_MODE == 0o600


def _runtime_imports(tree: ast.AST) -> Iterator[str]:
    """The modules a file imports when it runs: everywhere but under ``if TYPE_CHECKING:``."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
            continue
        if isinstance(node, ast.ImportFrom) and node.module:
            yield node.module
            yield from (f"{node.module}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            yield from (a.name for a in node.names)
        yield from _runtime_imports(node)


def test_the_format_imports_neither_module_nor_the_model_classes() -> None:
    """``Module.save`` calls the format, and the classes register themselves with it, so that the
    format's module can hold the writer, the checks and the reader without an import cycle."""
    source = Path(nn.io.__file__).read_text()
    imported = set(_runtime_imports(ast.parse(source)))
    assert "nn.activations" in imported and "nn.registry" in imported  # the walk sees imports
    assert not imported & {"nn.module", "nn.layers", "nn.module.Module", "nn.layers.MLP"}
    assert MODEL_CLASSES["MLP"] is MLP


def test_a_model_class_name_is_registered_once() -> None:
    assert register_model(MLP) is MLP  # the same class again (its module reloaded) is fine
    other = type("MLP", (nn.Module,), {})
    with pytest.raises(ValueError, match=r"a model class named 'MLP' is already registered \(nn.layers.MLP\)"):
        register_model(other)
    assert MODEL_CLASSES["MLP"] is MLP


def test_the_writer_refuses_what_is_not_a_module(tmp_path: Path) -> None:
    with pytest.raises(TypeError, match=r"write\(\) needs a Module, got list"):
        nn.io.write([Value(1.0)], tmp_path / "m.json")  # type: ignore[arg-type]
    assert list(tmp_path.iterdir()) == []
    torch_like = type("Linear", (), {"named_parameters": lambda self: [], "load_state_dict": lambda self, s: None})()
    MLP(1, [1], seed=0).save(tmp_path / "m.json")
    with pytest.raises(TypeError, match="load\\(\\) into= must be a Module, got Linear"):
        nn.load(tmp_path / "m.json", into=torch_like)
    with pytest.raises(TypeError, match="save\\(\\) needs a Module, got Linear"):
        nn.save(torch_like, tmp_path / "m.json")
