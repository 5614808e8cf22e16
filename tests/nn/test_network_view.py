"""nn.draw_network: the SVG's hooks carry the model's (or a snapshot's) exact numbers, the layout
has a bias neuron per column but the output, big models become matrices, two-input models get
heatmaps, and the picture saves as SVG or PNG."""

from __future__ import annotations

import base64
import math
import random
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from nn import MLP, draw_network, mse_loss
from nn.io import load_metadata
from nn.layers import ACTIVATIONS

SVG = "{http://www.w3.org/2000/svg}"


def parse(svg: str) -> ET.Element:
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG}svg" and "data-valuegrad-network" in root.attrib
    return root


def edges(root: ET.Element) -> dict[str, dict[str, str]]:
    found = [e.attrib for e in root.iter() if "data-edge" in e.attrib]
    out = {a["data-edge"]: a for a in found}
    assert len(out) == len(found), "an edge key appears twice"
    return out


def neurons(root: ET.Element) -> dict[str, ET.Element]:
    found = [e for e in root.iter() if "data-neuron" in e.attrib]
    out = {e.attrib["data-neuron"]: e for e in found}
    assert len(out) == len(found), "a neuron key appears twice"
    return out


def texts(root: ET.Element) -> list[str]:
    return [t.text or "" for t in root.iter(f"{SVG}text")]


def param_name(edge_key: str) -> str:
    """'L:j:i' -> the state_dict name of the weight (or bias) into neuron i of column L."""
    col, src, dst = edge_key.split(":")
    stem = f"layers.{int(col) - 1}.neurons.{dst}."
    return stem + ("b" if src == "b" else f"w.{src}")


def random_models(n: int, seed: int) -> list[MLP]:
    rng = random.Random(seed)
    models = []
    for k in range(n):
        nin = rng.randint(1, 5)
        widths = [rng.randint(1, 7) for _ in range(rng.randint(1, 3))]
        models.append(MLP(nin, widths, activation=rng.choice(ACTIVATIONS),
                          output_activation=rng.choice(ACTIVATIONS), fused=k % 2 == 0, seed=rng.randint(0, 10**6)))
    return models


@dataclass
class FakeSnapshot:
    state: dict[str, float]
    grads: dict[str, float] | None
    updates: dict[str, float] | None


@pytest.mark.parametrize("model", random_models(8, seed=1), ids=repr)
def test_every_edge_carries_its_weight_and_the_edge_count_is_the_parameter_count(model: MLP) -> None:
    root = parse(draw_network(model).to_svg())
    found = edges(root)
    state = model.state_dict()
    assert len(found) == model.num_parameters() == len(state)
    assert {param_name(k) for k in found} == set(state)
    for key, attrs in found.items():
        assert attrs["data-weight"] == repr(state[param_name(key)])
        assert attrs["data-update"] == ""  # no snapshot: the last update is not known
    assert not [e for e in root.iter() if "data-matrix" in e.attrib]


@pytest.mark.parametrize("model", random_models(5, seed=2), ids=repr)
def test_grads_mode_and_data_grad_carry_each_parameters_grad(model: MLP) -> None:
    rng = random.Random(3)
    x = [rng.uniform(-2, 2) for _ in range(model.config["nin"])]
    out = model(x)
    outs = out if isinstance(out, list) else [out]
    mse_loss(outs, [0.5] * len(outs)).backward()
    grads = {name: p.grad for name, p in model.named_parameters()}
    assert any(g != 0 for g in grads.values()) or model.config["activation"] == "relu"
    root = parse(draw_network(model, mode="grads").to_svg())
    for key, attrs in edges(root).items():
        assert attrs["data-grad"] == repr(grads[param_name(key)])
    assert "gradient" in " ".join(texts(root))  # the legend names the quantity


def test_snapshot_numbers_are_drawn_and_the_model_is_left_alone() -> None:
    model = MLP(3, [4, 2], activation="tanh", seed=5)
    before = model.state_dict()
    rng = random.Random(6)
    grads = {k: rng.uniform(-1, 1) for k in before}
    updates = {k: rng.uniform(-0.1, 0.1) for k in before}
    snap = FakeSnapshot(state={k: rng.uniform(-1, 1) for k in before}, grads=grads, updates=updates)
    sample = [0.2, -0.7, 1.5]
    root = parse(draw_network(model, mode="updates", snapshot=snap, sample=sample).to_svg())
    for key, attrs in edges(root).items():
        name = param_name(key)
        assert attrs["data-weight"] == repr(snap.state[name])
        assert attrs["data-grad"] == repr(grads[name])
        assert attrs["data-update"] == repr(updates[name])
    assert model.state_dict() == before
    # the activations come from the snapshot's weights
    twin = MLP(3, [4, 2], activation="tanh", seed=0)
    twin.load_state_dict(snap.state)
    expected = twin(sample)
    assert isinstance(expected, list)
    found = neurons(root)
    for i, v in enumerate(expected):
        assert found[f"2:{i}"].attrib["data-activation"] == repr(v.data)


def test_updates_need_a_snapshot_and_bad_arguments_are_refused() -> None:
    model = MLP(2, [3, 1], seed=0)
    with pytest.raises(ValueError, match="needs snapshot="):
        draw_network(model, mode="updates")
    with pytest.raises(ValueError, match="needs a snapshot with updates"):
        draw_network(model, mode="updates", snapshot=FakeSnapshot(model.state_dict(), None, None))
    with pytest.raises(ValueError, match="mode must be one of 'weights', 'grads', 'updates'"):
        draw_network(model, mode="weight")
    with pytest.raises(TypeError, match=r"needs an nn\.MLP"):
        draw_network(model.layers[0])  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="has no 'updates'"):
        draw_network(model, snapshot=type("S", (), {"state": {}, "grads": {}})())
    with pytest.raises(ValueError, match="keys the model lacks"):
        draw_network(model, snapshot=FakeSnapshot(model.state_dict(), {"nope": 1.0}, None))
    with pytest.raises(ValueError, match="sample must have 2 numbers"):
        draw_network(model, sample=[1.0])
    with pytest.raises(ValueError, match="finite"):
        draw_network(model, sample=[1.0, math.nan])
    with pytest.raises(ValueError, match="feature_names must be 2 strings"):
        draw_network(model, feature_names=["a"])
    with pytest.raises(ValueError, match="class_names must be 2 strings"):
        draw_network(model, class_names=["a", "b", "c"])
    with pytest.raises(ValueError, match="y needs X"):
        draw_network(model, y=[0, 1])
    with pytest.raises(ValueError, match="y must be a list of 2 labels"):
        draw_network(model, X=[[0, 0], [1, 1]], y=[0])
    with pytest.raises(ValueError, match=r"class index 0\.\.2"):
        draw_network(MLP(2, [3], seed=0), X=[[0, 0]], y=[3])


@pytest.mark.parametrize("widths", [[1], [3, 1], [4, 5, 2], [2, 2, 2, 3]])
def test_a_bias_neuron_in_every_column_but_the_output(widths: list[int]) -> None:
    model = MLP(3, widths, seed=0)
    found = neurons(parse(draw_network(model).to_svg()))
    columns = [3, *widths]
    last = len(columns) - 1
    for c, width in enumerate(columns):
        assert all(f"{c}:{i}" in found for i in range(width))
        assert f"{c}:{width}" not in found
        assert (f"{c}:b" in found) == (c != last)
    assert len(found) == sum(columns) + last
    # the bias edges leave the bias neuron of the column before
    found_edges = edges(parse(draw_network(model).to_svg()))
    assert sum(k.split(":")[1] == "b" for k in found_edges) == sum(widths)


def test_more_than_max_edges_draws_matrices_instead_of_edges() -> None:
    model = MLP(784, [256, 256, 10], seed=0)
    root = parse(draw_network(model).to_svg())
    assert edges(root) == {}
    matrices = [e for e in root.iter() if "data-matrix" in e.attrib]
    assert [m.attrib["data-matrix"] for m in matrices] == ["1", "2", "3"]
    for m in matrices:
        hrefs = [i.attrib["href"] for i in m.iter(f"{SVG}image")]
        assert len(hrefs) == 2  # the weights and the bias column
        assert all(base64.b64decode(h.split(",", 1)[1])[:8] == b"\x89PNG\r\n\x1a\n" for h in hrefs)
    found = neurons(root)
    assert {"0:b", "1:b", "2:b"} <= set(found) and "3:b" not in found
    assert len(found) == 784 + 256 + 256 + 10 + 3
    # the threshold is the parameter count
    small = MLP(2, [3, 1], seed=0)
    assert edges(parse(draw_network(small, max_edges=13).to_svg()))
    root = parse(draw_network(small, max_edges=12).to_svg())
    assert not edges(root) and len([e for e in root.iter() if "data-matrix" in e.attrib]) == 2


def test_matrix_cells_follow_the_weights() -> None:
    model = MLP(2, [3], activation="linear", seed=0)
    for neuron, sign in zip(model.layers[0].neurons, (1.0, -1.0, 0.0)):
        neuron.w[0].data, neuron.w[1].data = sign, sign * 0.5
    root = parse(draw_network(model, max_edges=0).to_svg())
    (m,) = [e for e in root.iter() if "data-matrix" in e.attrib]
    png = base64.b64decode(next(iter(m.iter(f"{SVG}image"))).attrib["href"].split(",", 1)[1])
    pixels = _decode_png(png)
    assert len(pixels) == 3 and len(pixels[0]) == 2
    full_pos, half_pos = pixels[0]
    full_neg, _ = pixels[1]
    assert full_pos[2] > full_pos[0] and full_neg[0] > full_neg[2]  # blue positive, orange negative
    assert sum(half_pos) > sum(full_pos)  # smaller magnitude, paler
    assert pixels[2] == [(255, 255, 255), (255, 255, 255)]


def _decode_png(data: bytes) -> list[list[tuple[int, int, int]]]:
    import struct
    import zlib

    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, width, height = 8, b"", 0, 0
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        tag, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + length]
        assert struct.unpack(">I", data[pos + 8 + length:pos + 12 + length])[0] == zlib.crc32(tag + body)
        if tag == b"IHDR":
            width, height = struct.unpack(">II", body[:8])
        elif tag == b"IDAT":
            idat += body
        pos += 12 + length
    raw = zlib.decompress(idat)
    stride = 1 + 3 * width
    return [[tuple(raw[r * stride + 1 + 3 * j:r * stride + 4 + 3 * j]) for j in range(width)]  # type: ignore[misc]
            for r in range(height)]


def _by_hand(activation: str, z: float) -> float:
    return {
        "relu": lambda: max(z, 0.0),
        "tanh": lambda: math.tanh(z),
        "sigmoid": lambda: 1 / (1 + math.exp(-z)),
        "leaky_relu": lambda: z if z > 0 else 0.01 * z,
        "linear": lambda: z,
        "step": lambda: 1.0 if z >= 0.0 else 0.0,
    }[activation]()


@pytest.mark.parametrize("model", random_models(6, seed=4), ids=repr)
def test_a_sample_shows_every_neurons_activation(model: MLP) -> None:
    rng = random.Random(7)
    x = [rng.uniform(-2, 2) for _ in range(model.config["nin"])]
    found = neurons(parse(draw_network(model, sample=x).to_svg()))
    for i, v in enumerate(x):
        assert found[f"0:{i}"].attrib["data-activation"] == repr(v)
    # each neuron by hand, from the previous column's drawn values
    h = x
    for c, layer in enumerate(model.layers, start=1):
        last = c == len(model.layers)
        activation = model.config["output_activation" if last else "activation"]
        values = [float(found[f"{c}:{i}"].attrib["data-activation"]) for i in range(len(layer.neurons))]
        for n, v in zip(layer.neurons, values):
            z = sum(w.data * xi for w, xi in zip(n.w, h)) + n.b.data
            assert v == pytest.approx(_by_hand(activation, z), rel=1e-9, abs=1e-12)
        h = values
    out = model(x)
    outs = out if isinstance(out, list) else [out]
    assert [float(found[f"{len(model.layers)}:{i}"].attrib["data-activation"]) for i in range(len(outs))] == [
        o.data for o in outs]
    assert "data-activation" not in neurons(parse(draw_network(model).to_svg()))["0:0"].attrib


def test_two_input_models_show_heatmaps_and_the_decision_boundary() -> None:
    model = MLP(2, [4, 3, 1], activation="tanh", seed=0)
    X = [[0.0, 0.0], [1.0, 1.0], [-1.0, 0.5], [2.0, -1.0]]
    root = parse(draw_network(model, X=X, y=[0, 1, 1, 0]).to_svg())
    found = neurons(root)
    for key in ["0:0", "0:1", "1:0", "1:3", "2:2", "3:0"]:
        images = list(found[key].iter(f"{SVG}image"))
        assert len(images) == 1
        png = base64.b64decode(images[0].attrib["href"].split(",", 1)[1])
        assert len(_decode_png(png)) == 16
    assert not list(found["0:b"].iter(f"{SVG}image"))
    # the input x0's heatmap grows from left to right, x1's from bottom to top
    x0 = _decode_png(base64.b64decode(next(iter(found["0:0"].iter(f"{SVG}image"))).attrib["href"].split(",")[1]))
    assert x0[0][0][0] > x0[0][0][2] and x0[0][-1][2] > x0[0][-1][0]
    (panel,) = [e for e in root.iter() if e.attrib.get("data-panel") == "output"]
    points = [e for e in panel.iter() if "data-point" in e.attrib]
    assert len(points) == len(X)
    assert points[0].attrib["fill"] != points[1].attrib["fill"]  # classes 0 and 1 differ
    assert "blue: 1, orange: 0" in texts(root)
    # other input widths: no heatmaps, no panel
    other = parse(draw_network(MLP(3, [4, 1], seed=0)).to_svg())
    assert not list(other.iter(f"{SVG}image"))
    assert not [e for e in other.iter() if "data-panel" in e.attrib]


def test_feature_and_class_names_appear(tmp_path: Path) -> None:
    model = MLP(3, [4, 3], seed=0)
    shown = texts(parse(draw_network(model, feature_names=["sepal", "petal", "stem"],
                                     class_names=["setosa", "versicolor", "virginica"]).to_svg()))
    for name in ["sepal", "petal", "stem", "setosa", "versicolor", "virginica"]:
        assert name in shown
    assert "x0" not in shown and "sepal" not in texts(parse(draw_network(model).to_svg()))
    # a saved model's metadata, as the CLI writes it; a binary model names both classes
    binary = MLP(2, [3, 1], seed=0)
    binary.save(tmp_path / "model.json", {"features": ["height", "weight"], "classes": ["cat", "dog"]})
    shown = texts(parse(draw_network(binary, metadata=load_metadata(tmp_path / "model.json")).to_svg()))
    assert "height" in shown and "weight" in shown and "dog vs cat" in shown


def test_wide_columns_are_strips_labelled_every_kth_neuron() -> None:
    model = MLP(3, [64, 1], seed=0)
    root = parse(draw_network(model).to_svg())
    found = neurons(root)
    assert all(found[f"1:{i}"].find(f"{SVG}rect") is not None for i in range(64))
    assert all(found[f"1:{i}"].find(f"{SVG}circle") is None for i in range(64))
    assert found["0:0"].find(f"{SVG}circle") is not None
    labels = [t.text for t in root.iter(f"{SVG}text") if t.attrib["font-size"] == "8"]  # the strip's labels
    assert labels == ["0", "10", "20", "30", "40", "50", "60"]
    assert len(edges(root)) == model.num_parameters()


def test_save_writes_svg_and_png_and_refuses_other_suffixes(tmp_path: Path) -> None:
    picture = draw_network(MLP(2, [3, 1], seed=0), sample=[0.5, -0.5])
    picture.save(tmp_path / "net.svg")
    assert (tmp_path / "net.svg").read_text(encoding="utf-8") == picture.to_svg() == picture._repr_svg_()
    with pytest.raises(ValueError, match=r"\.svg or \.png"):
        picture.save(tmp_path / "net.jpg")
    assert not (tmp_path / "net.jpg").exists()
    pytest.importorskip("matplotlib")
    picture.save(str(tmp_path / "net.PNG"))
    assert (tmp_path / "net.PNG").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    big = draw_network(MLP(40, [130, 2], seed=0), sample=[0.1] * 40, max_edges=100)
    big.save(tmp_path / "big.png")
    assert (tmp_path / "big.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_repr_says_what_was_drawn() -> None:
    model = MLP(2, [3, 1], seed=0)
    assert repr(draw_network(model)) == "<NetworkPicture: MLP 2 -> 3 -> 1, 13 edges, weights>"
    snap: Any = FakeSnapshot(model.state_dict(), None, dict.fromkeys(model.state_dict(), 0.0))
    assert repr(draw_network(model, mode="updates", snapshot=snap, sample=[0, 1])) == (
        "<NetworkPicture: MLP 2 -> 3 -> 1, 13 edges, updates, sample, snapshot>")


@pytest.mark.parametrize("fused", [True, False])
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_grid_activations_replay_is_the_engines_numbers_exactly(activation: str, fused: bool) -> None:
    from autograd import no_grad
    from nn.views.network import grid_activations, layer_activations, plane_grid

    rng = random.Random(f"{activation}{fused}")
    for nouts in ([5, 3, 1], [4, 3], [7, 2]):
        model = MLP(2, nouts, activation=activation, fused=fused, seed=rng.randrange(1000))
        for p in model.parameters():
            p.data = rng.uniform(-3, 3)
            p.grad = rng.uniform(-1, 1)
        grads = [p.grad for p in model.parameters()]
        points = plane_grid((-2.5, 3.0, -1.5, 2.0), 9)
        assert grid_activations(model, points) == [layer_activations(model, p) for p in points]
        assert [p.grad for p in model.parameters()] == grads  # the replay's zero gradients leave none behind
        with no_grad():
            assert grid_activations(model, points[:3]) == [layer_activations(model, p) for p in points[:3]]
