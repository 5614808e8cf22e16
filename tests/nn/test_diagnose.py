"""nn.diagnose: a network's health per layer, checked against direct computations on the graph
path and against constructed cases (dead, vanishing, saturated); and nothing it touches changes."""

from __future__ import annotations

import json
import math
import random
from pathlib import Path
from typing import Any

import pytest

import nn
from autograd import Value
from nn import MLP, SGD, Adam, TrainingView
from nn.cli import main
from nn.health import Diagnosis, diagnose
from nn.train import LOSSES


def _data(n: int = 30, width: int = 3, classes: int = 2, seed: int = 0) -> tuple[list[list[float]], list[int]]:
    rng = random.Random(seed)
    X = [[rng.uniform(-2, 2) for _ in range(width)] for _ in range(n)]
    return X, [rng.randrange(classes) for _ in range(n)]


def _direct(model: MLP, X: list[list[float]], y: list[int], loss: str, l2: float) -> tuple[float, dict[int, float]]:
    """The loss and every parameter's gradient as ``nn.train``'s graph path computes them."""
    model.zero_grad()
    outs = [[o] if isinstance(o, Value) else list(o) for o in (model(x) for x in X)]
    total = LOSSES[loss].batch(outs, y)
    if l2:
        total = total + l2 * sum((p * p for p in model.parameters()), Value(0.0))
    total.backward()
    grads = {id(p): p.grad for p in model.parameters()}
    model.zero_grad()
    return total.data, grads


def _layer_outputs(model: MLP, X: list[list[float]]) -> list[list[list[float]]]:
    """Each layer's outputs on each sample, by calling the layers one after another."""
    per_layer: list[list[list[float]]] = [[] for _ in model.layers]
    for x in X:
        h: Any = x
        for i, layer in enumerate(model.layers):
            h = layer(h)
            h = [h] if isinstance(h, Value) else h
            per_layer[i].append([v.data for v in h])
    return per_layer


@pytest.mark.parametrize(("loss", "outputs", "l2"), [("hinge", 1, 0.0), ("bce", 1, 0.01), ("mse", 1, 0.0),
                                                     ("cross_entropy", 3, 0.001)])
def test_the_numbers_are_those_of_the_graph_path(loss: str, outputs: int, l2: float) -> None:
    model = MLP(3, [5, 4, outputs], activation="tanh", seed=2)
    X, y = _data(classes=outputs if outputs > 1 else 2)
    report = diagnose(model, X, y, loss=loss, l2=l2)
    value, grads = _direct(model, X, y, loss, l2)
    assert report.value == value
    assert (report.loss, report.samples, report.l2, report.optimizer) == (loss, 30, l2, None)
    acts = _layer_outputs(model, X)
    assert len(report.layers) == 3
    for i, (h, layer) in enumerate(zip(report.layers, model.layers)):
        ws = [w for n in layer.neurons for w in n.w]
        bs = [n.b for n in layer.neurons]
        norm = math.sqrt(sum(grads[id(p)] ** 2 for p in ws + bs))
        assert h.grad_norm == pytest.approx(norm, rel=1e-12)
        assert h.weight_grad_mean == pytest.approx(sum(abs(grads[id(w)]) for w in ws) / len(ws), rel=1e-12)
        assert h.weight_grad_max == max(abs(grads[id(w)]) for w in ws)
        assert h.bias_grad_mean == pytest.approx(sum(abs(grads[id(b)]) for b in bs) / len(bs), rel=1e-12)
        assert h.bias_grad_max == max(abs(grads[id(b)]) for b in bs)
        assert h.weight_norm == pytest.approx(math.sqrt(sum(p.data ** 2 for p in ws + bs)), rel=1e-12)
        assert h.mean_activation == pytest.approx(sum(abs(v) for row in acts[i] for v in row) / (30 * h.units),
                                                  rel=1e-12)
        assert (h.index, h.units) == (i, len(layer.neurons))
        assert h.update_ratio is None
    assert report.layers[0].grad_ratio == pytest.approx(
        report.layers[0].grad_norm / max(report.layers[1].grad_norm, report.layers[2].grad_norm), rel=1e-12)
    assert report.layers[2].grad_ratio is None
    assert report.update_ratios == {}


def test_dead_and_saturated_units_are_counted_per_unit() -> None:
    model = MLP(2, [4, 1], seed=0)
    X = [[1.0, 0.0], [0.0, 1.0], [-1.0, -1.0]]
    n = model.layers[0].neurons
    for j, (w0, w1, b) in enumerate([(1.0, 1.0, 0.5), (1.0, 0.0, -2.0), (-1.0, 0.0, -0.5), (0.0, 0.0, 0.0)]):
        n[j].w[0].data, n[j].w[1].data, n[j].b.data = w0, w1, b
    # unit 0 is on for two samples; 1 and 3 are off on all three (3 outputs exactly 0); 2 is on for one
    report = diagnose(model, X, [0, 1, 0])
    assert report.layers[0].dead == 0.5
    assert report.layers[0].flags >= {"dead"}
    sig = MLP(1, [3, 1], activation="sigmoid", seed=0)
    for neuron, w in zip(sig.layers[0].neurons, (10.0, 3.0, 0.1)):
        neuron.w[0].data = w
    # at x = ±0.5, ±0.6: sigmoid(10x) is outside [0.01, 0.99] on the samples with |x| >= 0.46,
    # sigmoid(3x) never is, sigmoid(0.1x) never is
    report = diagnose(sig, [[0.5], [-0.6], [0.6], [0.01]], [1, 0, 1, 0])
    assert report.layers[0].saturated == pytest.approx(1 / 3)
    assert "saturated" not in report.layers[0].flags


def test_a_bias_of_minus_100_kills_the_layer() -> None:
    model = MLP(2, [8, 8, 1], seed=0)
    for neuron in model.layers[1].neurons:
        neuron.b.data = -100.0
    X, y = _data(width=2)
    report = diagnose(model, X, y)
    assert report.layers[1].dead == 1.0
    assert "dead" in report.layers[1].flags
    assert report.layers[1].grad_norm == 0.0 and report.layers[0].grad_norm == 0.0
    assert report.layers[1].mean_activation == 0.0
    assert report.layers[0].dead < 0.5 and "dead" not in report.layers[0].flags


@pytest.mark.parametrize("seed", range(4))
def test_a_ten_layer_sigmoid_stack_shows_vanishing_gradients(seed: int) -> None:
    model = MLP(2, [4] * 9 + [1], activation="sigmoid", seed=seed)  # micrograd's uniform(-1, 1) weights
    X, y = _data(width=2, seed=seed)
    report = diagnose(model, X, y, loss="mse")
    first = report.layers[0]
    assert first.grad_ratio is not None and first.grad_ratio < 1e-2
    assert "vanishing" in first.flags
    assert first.grad_norm < 1e-2 * max(h.grad_norm for h in report.layers[1:])
    assert "vanishing" not in report.layers[-1].flags and report.layers[-1].grad_ratio is None
    assert not any("exploding" in h.flags for h in report.layers)


def test_weights_times_100_saturate_tanh() -> None:
    model = MLP(2, [8, 8, 1], activation="tanh", seed=0)
    calm = diagnose(model, *_data(width=2))
    assert all(h.saturated < 0.5 and "saturated" not in h.flags for h in calm.layers)
    for p in model.parameters():
        p.data *= 100
    report = diagnose(model, *_data(width=2))
    assert report.layers[0].saturated == 1.0 and report.layers[1].saturated == 1.0
    assert "saturated" in report.layers[0].flags and "saturated" in report.layers[1].flags
    assert report.layers[2].saturated == 0.0  # a linear output never saturates


def test_exploding_is_flagged_against_the_layers_after() -> None:
    model = MLP(1, [1, 1], activation="linear", seed=0)
    model.layers[0].neurons[0].w[0].data = 1e-4  # the output's weight gradient is x * w: tiny
    model.layers[1].neurons[0].w[0].data = 1e4   # the first layer's is x * w2: huge
    report = diagnose(model, [[1.0], [2.0]], [0, 1], loss="mse")
    assert report.layers[0].grad_ratio is not None and report.layers[0].grad_ratio > 1e2
    assert report.layers[0].flags == {"exploding"}


def _everything(model: MLP, opt: Any) -> tuple[Any, ...]:
    return (model.state_dict(), [p.grad for p in model.parameters()], json.dumps(opt.state_dict()), opt.steps)


@pytest.mark.parametrize("make", [lambda ps: SGD(ps, lr=0.1, momentum=0.9), lambda ps: Adam(ps, lr=0.01)])
def test_nothing_changes_and_the_update_ratios_are_the_next_steps(make: Any) -> None:
    model = MLP(2, [6, 1], seed=3)
    X, y = _data(width=2)
    opt = make(model.parameters())
    for _ in range(3):  # momentum and Adam's moments in play
        _, grads = _direct(model, X, y, "hinge", 0.0)
        for p in model.parameters():
            p.grad = grads[id(p)]
        opt.step()
    for k, p in enumerate(model.parameters()):
        p.grad = 0.25 * k - 1.0  # whatever the caller had
    before = _everything(model, opt)
    report = diagnose(model, X, y, l2=0.001, optimizer=opt)
    assert _everything(model, opt) == before
    assert report.optimizer == type(opt).__name__

    # the real next step, from the same gradients, moves each parameter as the report said
    _, grads = _direct(model, X, y, "hinge", 0.001)
    old = {name: p.data for name, p in model.named_parameters()}
    for p in model.parameters():
        p.grad = grads[id(p)]
    opt.step()
    for name, p in model.named_parameters():
        assert report.update_ratios[name] == pytest.approx(abs(p.data - old[name]) / abs(old[name]), rel=1e-9)
    for h, layer in zip(report.layers, model.layers):
        names = [n for n, q in model.named_parameters() if any(q is r for r in layer.parameters())]
        change = math.sqrt(sum((model.state_dict()[n] - old[n]) ** 2 for n in names))
        assert h.update_ratio == pytest.approx(change / math.sqrt(sum(old[n] ** 2 for n in names)), rel=1e-9)


def test_a_parameter_at_zero_has_no_ratio() -> None:
    model = MLP(2, [2, 1], seed=0)  # biases start at 0
    report = diagnose(model, *_data(width=2), optimizer=SGD(model.parameters(), lr=0.1))
    assert report.update_ratios["layers.0.neurons.0.b"] is None
    assert report.update_ratios["layers.0.neurons.0.w.0"] is not None


def test_the_model_is_restored_when_the_loss_fails() -> None:
    model = MLP(2, [3, 2], seed=0)  # two outputs: the hinge loss refuses it, after the forward pass
    for p in model.parameters():
        p.grad = 0.5
    state = model.state_dict()
    with pytest.raises(ValueError, match="the hinge loss needs a model with one output"):
        diagnose(model, *_data(width=2))
    assert model.state_dict() == state and all(p.grad == 0.5 for p in model.parameters())


def test_str_is_a_table_with_the_flags() -> None:
    model = MLP(2, [4] * 9 + [1], activation="sigmoid", seed=0)
    text = str(diagnose(model, *_data(width=2), loss="mse"))
    lines = text.splitlines()
    assert lines[0] == "diagnosis: mse loss = 1.235 on 30 samples, from one forward and one backward pass"
    assert lines[1].split() == ["layer", "units", "activation", "grad", "norm", "vs", "later", "max", "|grad|",
                                "weight", "norm", "mean", "|act|", "dead", "saturated", "flags"]
    assert lines[2].split()[:3] == ["0", "4", "sigmoid"] and lines[2].endswith("vanishing")
    assert lines[11].split()[:3] == ["9", "1", "linear"] and lines[11].split()[4] == "-"
    assert "|tanh| > 0.99 or sigmoid outside [0.01, 0.99] on most samples" in text
    with_opt = str(diagnose(model, *_data(width=2), loss="mse", optimizer=SGD(model.parameters(), lr=0.1)))
    assert "update/weight" in with_opt.splitlines()[1]


def test_to_dict_is_json_with_every_layer() -> None:
    model = MLP(2, [4, 1], seed=0)
    report = diagnose(model, *_data(width=2), optimizer=SGD(model.parameters(), lr=0.1))
    d = json.loads(json.dumps(report.to_dict(), allow_nan=False))
    assert [layer["index"] for layer in d["layers"]] == [0, 1]
    assert d["layers"][0]["grad_norm"] == report.layers[0].grad_norm
    assert d["layers"][0]["flags"] == sorted(report.layers[0].flags)
    assert d["thresholds"]["vanishing"] == 1e-2 and d["thresholds"]["exploding"] == 1e2
    assert set(d["update_ratios"]) == set(model.state_dict())
    assert d["loss"] == "hinge" and d["samples"] == 30 and d["optimizer"] == "SGD"


def test_plot_draws_the_norms_and_their_course_over_training() -> None:
    pytest.importorskip("matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    model = MLP(2, [4, 4, 1], seed=0)
    X, y = _data(width=2)
    view = TrainingView(model, X, y, every=5)
    nn.train(model, X, y, steps=20, callbacks=[view], compiled=False)
    report = diagnose(model, X, y)
    fig = report.plot()
    assert len(fig.axes) == 1
    heights = [bar.get_height() for bar in fig.axes[0].patches]
    assert heights == pytest.approx([h.grad_norm for h in report.layers])
    plt.close(fig)
    fig = report.plot(view)
    course = fig.axes[1]
    assert len(course.lines) == 3
    names = [[n for n, q in model.named_parameters() if any(q is r for r in layer.parameters())]
             for layer in model.layers]
    for line, layer_names in zip(course.lines, names):
        assert list(line.get_xdata()) == [s.step for s in view.snapshots]
        expected = [math.sqrt(sum(s.grads[n] ** 2 for n in layer_names)) for s in view.snapshots]
        assert list(line.get_ydata()) == pytest.approx(expected)
    plt.close(fig)
    with pytest.raises(TypeError, match="training must be a TrainingView"):
        report.plot(object())
    other = TrainingView(MLP(2, [3, 1], seed=0), X, y)
    nn.train(other.model, X, y, steps=2, callbacks=[other], compiled=False)
    with pytest.raises(ValueError, match="the training view is of another model"):
        report.plot(other)


def test_nn_diagnose_is_the_function() -> None:
    import nn.health  # importing the module must not hide the function behind it

    assert nn.diagnose is diagnose
    assert isinstance(nn.diagnose(MLP(2, [2, 1], seed=0), [[0.0, 1.0]], [1]), Diagnosis)


@pytest.mark.parametrize(("kwargs", "error", "message"), [
    ({"model": object()}, TypeError, "model must be an MLP"),
    ({"loss": "l1"}, ValueError, "unknown loss 'l1'"),
    ({"y": [0, 2]}, ValueError, r"labels must be class indices in \[0, 2\) for the hinge loss; y\[1\] is 2"),
    ({"y": [0]}, ValueError, "X and y must be non-empty and of equal length, got 2 and 1"),
    ({"X": [[0.0, 1.0], [1.0]]}, ValueError, r"X\[1\] must be a row of 2 numbers \(the model's inputs\)"),
    ({"l2": -1.0}, ValueError, "l2 must be a finite number >= 0"),
    ({"l2": math.nan}, ValueError, "l2 must be a finite number >= 0"),
    ({"optimizer": "sgd"}, TypeError, "optimizer must be an nn.Optimizer"),
    ({"optimizer": SGD([Value(1.0)], lr=0.1)}, ValueError, "optimizer must hold exactly the model's parameters"),
])
def test_bad_arguments_are_refused(kwargs: dict[str, Any], error: type[Exception], message: str) -> None:
    args: dict[str, Any] = {"model": MLP(2, [2, 1], seed=0), "X": [[0.0, 1.0], [1.0, 0.0]], "y": [0, 1]}
    args.update(kwargs)
    with pytest.raises(error, match=message):
        diagnose(**args)


def test_valuegrad_train_diagnose_prints_and_writes_diagnosis_json(tmp_path: Path,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["train", "--steps", "5", "--samples", "40", "--diagnose", "--out", str(tmp_path / "run")])
    assert code == 0
    out = capsys.readouterr().out
    assert "diagnosis: hinge loss (with + 0.0001 * sum(p*p)) = " in out
    assert "diagnosis.json" in out.splitlines()[-1]
    d = json.loads((tmp_path / "run" / "diagnosis.json").read_text())
    assert [layer["units"] for layer in d["layers"]] == [16, 16, 1]
    assert d["samples"] == 40 and d["optimizer"] == "SGD" and d["l2"] == 0.0001
    assert len(d["update_ratios"]) == 337
    # a reused folder without --diagnose loses the earlier run's diagnosis
    assert main(["train", "--steps", "2", "--samples", "40", "--out", str(tmp_path / "run"), "--overwrite"]) == 0
    assert not (tmp_path / "run" / "diagnosis.json").exists()
