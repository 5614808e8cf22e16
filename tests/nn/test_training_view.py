"""nn.TrainingView and nn.train's callbacks and held-out set (issue 20, the Python side)."""

from __future__ import annotations

import base64
import itertools
import math
import random
import struct
import xml.etree.ElementTree as ET
from array import array
from typing import Any

import pytest

from autograd import Value, no_grad
from nn import MLP, SGD, Adam, TrainingView, data, draw_network, train
from nn.train import LOSSES, Run, threshold_of
from nn.views.training import MAX_SNAPSHOTS, unpack_page

PATHS: dict[str, dict[str, Any]] = {"graph": {"compiled": False}, "compiled": {}, "vectorized": {"vectorized": True}}


def problem(seed: int) -> tuple[dict[str, Any], list[list[float]], list[int]]:
    """A random small model's constructor arguments and data."""
    rng = random.Random(seed)
    nin = rng.randint(1, 3)
    config = {"nin": nin, "nouts": [rng.randint(1, 4), 1], "activation": rng.choice(["relu", "tanh", "sigmoid"]),
              "seed": seed}
    X = [[rng.uniform(-2, 2) for _ in range(nin)] for _ in range(rng.randint(5, 12))]
    y = [rng.randint(0, 1) for _ in X]
    y[0], y[1] = 0, 1
    return config, X, y


def optimizer(kind: str, model: MLP) -> Any:
    return SGD(model.parameters(), lr=0.1, momentum=0.9) if kind == "sgd" else Adam(model.parameters(), lr=0.05)


def step_by_step(config: dict[str, Any], X: list[list[float]], y: list[int], opt: str, steps: int,
                 **kwargs: Any) -> tuple[list[dict[str, float]], list[dict[str, float]]]:
    """The state after each step (index 0: before training) and each step's gradients, read by the old on_step."""
    model = MLP(**config)
    states = [model.state_dict()]
    grads: list[dict[str, float]] = []

    def on_step(k: int, loss: float, acc: float, lr: float) -> None:
        states.append(model.state_dict())
        grads.append({name: p.grad for name, p in model.named_parameters()})

    train(model, X, y, optimizer=optimizer(opt, model), steps=steps, seed=1, batch_size=4, on_step=on_step, **kwargs)
    return states, grads


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_snapshots_hold_each_steps_state_grads_and_updates(path: str, seed: int) -> None:
    config, X, y = problem(seed)
    opt = ["sgd", "adam"][seed % 2]
    states, graph_grads = step_by_step(config, X, y, opt, 7, compiled=False)
    if path != "graph":
        states, _ = step_by_step(config, X, y, opt, 7, **PATHS[path])
    model = MLP(**config)
    view = TrainingView(model, X, y, every=2)
    history = train(model, X, y, optimizer=optimizer(opt, model), steps=7, seed=1, batch_size=4, callbacks=[view],
                    **PATHS[path])
    assert history.path == path
    assert [s.step for s in view.snapshots] == [2, 4, 6, 7]
    for s in view.snapshots:
        assert s.state == states[s.step]
        assert repr(s.updates) == repr({k: states[s.step][k] - states[s.step - 1][k] for k in s.state})
        assert (s.loss, s.accuracy) == (history.loss[s.step - 1], history.accuracy[s.step - 1])
        assert s.val_loss is None and s.val_accuracy is None
        expected = graph_grads[s.step - 1]
        if path == "graph":
            assert repr(s.grads) == repr(expected)
        else:
            assert s.grads.keys() == expected.keys()
            for k, g in s.grads.items():
                assert math.isclose(g, expected[k], rel_tol=1e-12, abs_tol=1e-12), (k, g, expected[k])


@pytest.mark.parametrize("path", PATHS)
def test_a_run_stopped_early_still_ends_with_a_snapshot(path: str) -> None:
    config, X, y = problem(3)
    states, _ = step_by_step(config, X, y, "sgd", 5, **PATHS[path])
    model = MLP(**config)
    view = TrainingView(model, X, y, every=3)
    history = train(model, X, y, optimizer=optimizer("sgd", model), steps=20, seed=1, batch_size=4,
                    on_step=lambda k, *_: k == 4, callbacks=[view], **PATHS[path])
    assert history.stopped and history.steps == 5
    assert [s.step for s in view.snapshots] == [3, 5]
    last = view.snapshots[-1]
    assert last.state == states[5] == model.state_dict()
    assert repr(last.updates) == repr({k: states[5][k] - states[4][k] for k in last.state})


def test_default_every_gives_about_100_snapshots_and_the_last_step() -> None:
    model = MLP(1, [1], seed=0)
    view = TrainingView(model, [[0.0], [1.0]], [0, 1])
    train(model, [[0.0], [1.0]], [0, 1], steps=250, callbacks=[view])
    steps = [s.step for s in view.snapshots]
    assert steps == [*range(3, 250, 3), 250]


def test_thinning_keeps_the_count_bounded_and_evenly_spaced() -> None:
    model = MLP(1, [1], seed=0)
    view = TrainingView(model, [[0.0], [1.0]], [0, 1], every=1)
    train(model, [[0.0], [1.0]], [0, 1], steps=1000, callbacks=[view])
    steps = [s.step for s in view.snapshots]
    assert 50 <= len(steps) <= MAX_SNAPSHOTS
    gaps = {b - a for a, b in itertools.pairwise(steps)}
    assert len(gaps) == 1 and steps[0] == next(iter(gaps))
    assert steps[-1] == 1000


def direct_loss(config: dict[str, Any], state: dict[str, float], loss: str, X: Any, y: Any) -> tuple[float, float]:
    """A held-out set's loss without L2 and accuracy, with the engine, on a fresh model holding ``state``."""
    model = MLP(**config)
    model.load_state_dict(state)
    with no_grad():
        outs = [model(x) for x in X]
        graphs = [[o] if isinstance(o, Value) else list(o) for o in outs]
        value = LOSSES[loss].batch(graphs, y).data
    threshold = threshold_of(model)
    right = sum((g[0].data > threshold) == bool(t) if len(g) == 1 else
                max(range(len(g)), key=lambda i: g[i].data) == t for g, t in zip(graphs, y))
    return value, right / len(y)


@pytest.mark.parametrize("path", PATHS)
def test_val_loss_is_the_loss_without_l2_on_the_held_out_set_at_every_snapshot(path: str) -> None:
    config, X, y = problem(4)
    config["nouts"] = [3, 2]
    Xv, yv = [[v + 0.25 for v in x] for x in X], [1 - t for t in y]
    model = MLP(**config)
    view = TrainingView(model, X, y, validation=(Xv, yv), every=2)
    train(model, X, y, loss="cross_entropy", steps=6, l2=0.1, callbacks=[view], **PATHS[path])
    assert len(view.snapshots) == 3
    for s in view.snapshots:
        assert s.val_loss is not None and s.val_accuracy is not None
        loss, acc = direct_loss(config, s.state, "cross_entropy", Xv, yv)
        assert math.isclose(s.val_loss, loss, rel_tol=1e-12, abs_tol=1e-15)
        assert s.val_accuracy == acc


@pytest.mark.parametrize("path", PATHS)
def test_history_gains_the_held_out_curve(path: str) -> None:
    config, X, y = problem(5)
    Xv, yv = X[:4], y[:4]
    model = MLP(**config)
    history = train(model, X, y, steps=250, validation=(Xv, yv), **PATHS[path])
    assert history.val_steps == [*range(3, 250, 3), 250]
    assert len(history.val_loss) == len(history.val_accuracy) == len(history.val_steps)
    # the last point is the trained model's
    loss, acc = direct_loss(config, model.state_dict(), "hinge", Xv, yv)
    assert math.isclose(history.val_loss[-1], loss, rel_tol=1e-12) and history.val_accuracy[-1] == acc
    assert train(MLP(**config), X, y, steps=3).val_steps == []


def test_with_a_view_the_run_evaluates_at_its_snapshots_and_the_view_uses_the_runs_set() -> None:
    config, X, y = problem(6)
    model = MLP(**config)
    view = TrainingView(model, X, y, every=4)
    history = train(model, X, y, steps=10, validation=(X[:5], y[:5]), callbacks=[view])
    assert history.val_steps == [s.step for s in view.snapshots] == [4, 8, 10]
    assert [s.val_loss for s in view.snapshots] == history.val_loss
    assert [s.val_accuracy for s in view.snapshots] == history.val_accuracy
    curves = view.payload()["curves"]
    assert (curves["val_step"], curves["val_loss"]) == (history.val_steps, history.val_loss)


def test_old_on_step_keeps_counting_from_0_and_callbacks_count_from_1() -> None:
    config, X, y = problem(7)
    seen: list[tuple[str, int]] = []

    class Recorder:
        def on_train_begin(self, run: Run) -> None:
            self.run = run

        def on_step(self, step: int, history: Any, model: MLP) -> bool:
            seen.append(("callback", step))
            return step == 3

        def on_train_end(self, history: Any, model: MLP) -> None:
            seen.append(("end", history.steps))

    recorder = Recorder()
    model = MLP(**config)
    opt = SGD(model.parameters(), lr=0.1)
    history = train(model, X, y, steps=9, l2=0.5, optimizer=opt, on_step=lambda k, *_: seen.append(("old", k)),
                    callbacks=[recorder])
    assert seen == [("old", 0), ("callback", 1), ("old", 1), ("callback", 2), ("old", 2), ("callback", 3),
                    ("end", 3)]
    assert history.stopped and history.steps == 3
    run = recorder.run
    assert (run.model, run.loss, run.steps, run.l2, run.optimizer, run.path) == (model, "hinge", 9, 0.5, opt,
                                                                                 "compiled")
    assert run.keys == list(model.state_dict())
    assert run.grads is None  # it asked for no step's details


def test_bad_callbacks_and_validation_are_refused() -> None:
    model, X, y = MLP(2, [1], seed=0), [[0.0, 1.0], [1.0, 0.0]], [0, 1]
    with pytest.raises(TypeError, match=r"callbacks must be a list"):
        train(model, X, y, steps=1, callbacks=TrainingView(model, X, y))  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"callbacks\[0\] is a int with none of the methods"):
        train(model, X, y, steps=1, callbacks=[3])
    with pytest.raises(TypeError, match=r"validation must be a pair \(X_val, y_val\)"):
        train(model, X, y, steps=1, validation=[*X, [0.5, 0.5]])  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"validation X_val\[1\] must be a list of 2 numbers"):
        train(model, X, y, steps=1, validation=([[0.0, 1.0], [1.0]], [0, 1]))
    with pytest.raises(ValueError, match=r"validation labels must be 0 or 1.*y_val\[1\] is 2"):
        train(model, X, y, steps=1, validation=(X, [0, 2]))
    with pytest.raises(ValueError, match=r"every must be a positive int or None, got 0"):
        TrainingView(model, X, y, every=0)
    with pytest.raises(ValueError, match=r"y must be a list of 2 class labels"):
        TrainingView(model, X, [0])
    with pytest.raises(ValueError, match=r"training another model"):
        train(MLP(2, [1], seed=1), X, y, steps=1, callbacks=[TrainingView(model, X, y)])


def neuron_output(config: dict[str, Any], state: dict[str, float], layer: int, index: int, x: list[float]) -> float:
    model = MLP(**config)
    model.load_state_dict(state)
    h: list[Any] = [Value(v) for v in x]
    with no_grad():
        for li in range(layer):
            h = [n(h) for n in model.layers[li].neurons]
        return float(model.layers[layer].neurons[index](h).data)


@pytest.mark.parametrize("fused", [True, False])
def test_neuron_stepper_root_is_the_neurons_output(fused: bool) -> None:
    X, y = data.make_moons(12, noise=0.1, seed=0)
    config: dict[str, Any] = {"nin": 2, "nouts": [5, 4, 1], "activation": "tanh", "fused": fused, "seed": 0}
    model = MLP(**config)
    view = TrainingView(model, X, y, every=2)
    train(model, X, y, steps=6, callbacks=[view])
    for snapshot in (0, -1):
        state = view.snapshots[snapshot].state
        for layer, index in ((0, 3), (1, 2), (2, 0)):
            stepper = view.neuron_stepper(layer, index, 5, snapshot=snapshot)
            assert stepper.root.data == neuron_output(config, state, layer, index, X[5])
            vector = [0.3, -1.7]
            assert view.neuron_stepper(layer, index, vector, snapshot).root.data == \
                neuron_output(config, state, layer, index, vector)
    stepper = view.neuron_stepper(1, 2, 0)
    labels = {n.label for n in stepper.nodes}
    assert {"x0", "x4", "w0", "w4", "b", "z", "tanh"} <= labels
    if fused:
        assert len(stepper.nodes) == 2 * 5 + 3
    last = view.neuron_stepper(2, 0, 0)  # the linear output: its root is the weighted sum
    assert last.root.label == "z"
    if fused:
        assert len(last.nodes) == 2 * 4 + 2
    with pytest.raises(IndexError, match=r"layer 3 is out of range: the model has 3 layers"):
        view.neuron_stepper(3, 0, 0)
    with pytest.raises(IndexError, match=r"index 4 is out of range: layer 1 has 4 neurons"):
        view.neuron_stepper(1, 4, 0)
    with pytest.raises(IndexError, match=r"sample 12 is out of range: X has 12 rows"):
        view.neuron_stepper(1, 0, 12)
    with pytest.raises(ValueError, match=r"sample\[0\] must be a list of 2 numbers"):
        view.neuron_stepper(1, 0, [1.0])
    with pytest.raises(IndexError, match=r"snapshot 3 is out of range"):
        view.neuron_stepper(1, 0, 0, snapshot=3)
    with pytest.raises(ValueError, match=r"no snapshots yet"):
        TrainingView(model, X, y).neuron_stepper(0, 0, 0)


def floats(text: str) -> list[float]:
    raw = base64.b64decode(text)
    return list(struct.unpack(f"<{len(raw) // 8}d", raw))


def test_payload_holds_the_snapshots_exactly() -> None:
    X, y = data.make_moons(16, noise=0.1, seed=0)
    model = MLP(2, [3, 1], seed=0)
    view = TrainingView(model, X, y, validation=(X[:6], y[:6]), every=2)
    history = train(model, X, y, steps=5, callbacks=[view])
    p = view.payload()
    assert set(p) == {"version", "title", "network", "snapshots", "curves", "steppers"}
    assert (p["version"], p["title"]) == (1, "MLP(2 -> 3 -> 1), hinge loss")
    net, snaps = p["network"], p["snapshots"]
    keys = list(model.state_dict())
    assert net["keys"] == keys
    assert net["neurons"] == ["0:0", "0:1", "0:b", "1:0", "1:1", "1:2", "1:b", "2:0"]
    assert net["edge_of_key"][:3] == ["1:0:0", "1:1:0", "1:b:0"] and net["matrix_of_key"] == [None] * len(keys)
    root = ET.fromstring(net["svg"])
    drawn = {e.get("data-edge"): e.get("data-weight") for e in root.iter() if e.get("data-edge")}
    assert set(drawn) == set(net["edge_of_key"])
    last = view.snapshots[-1]
    assert all(drawn[e] == repr(last.state[k]) for e, k in zip(net["edge_of_key"], keys))
    assert snaps["n"] == 3 and snaps["step"] == [2, 4, 5]
    for name in ("state", "grads", "updates"):
        expected = [v for s in view.snapshots for v in getattr(s, name).values()]
        assert repr(floats(snaps[name])) == repr(expected)
    assert snaps["loss"] == [s.loss for s in view.snapshots]
    assert snaps["val_loss"] == [s.val_loss for s in view.snapshots] and None not in snaps["val_loss"]
    assert set(snaps["neuron_images"][0]) == {"1:0", "1:1", "1:2", "2:0"}
    assert all(u.startswith("data:image/png;base64,") for u in snaps["neuron_images"][2].values())
    assert all(u.startswith("data:image/png;base64,") for u in snaps["panel"])
    curves = p["curves"]
    assert curves["step"] == [1, 2, 3, 4, 5] and curves["loss"] == history.loss
    assert curves["val_step"] == [2, 4, 5]
    assert set(p["steppers"]) == {"1:0", "1:1", "1:2", "2:0"}
    page = unpack_page(p["steppers"]["1:1"])
    assert page == view.neuron_stepper(0, 1, 0).to_html()
    assert "DecompressionStream" in p["steppers"]["1:1"]
    assert view.payload() == p  # the cached parts are the same


def test_payload_of_a_big_model_uses_matrices_and_a_confusion_panel() -> None:
    rng = random.Random(0)
    X = [[rng.uniform(-1, 1) for _ in range(40)] for _ in range(30)]
    y = [i % 3 for i in range(30)]
    model = MLP(40, [130, 3], seed=0)  # 5,723 parameters: more than draw_network's 5,000 edges
    view = TrainingView(model, X, y, every=2)
    train(model, X, y, loss="cross_entropy", steps=2, vectorized=True, callbacks=[view])
    p = view.payload()
    assert p["network"]["edge_of_key"][0] is None
    assert p["network"]["matrix_of_key"][:2] == [[1, 0, 0], [1, 0, 1]]
    assert p["network"]["matrix_of_key"][40] == [1, 0, -1]
    assert p["snapshots"]["neuron_images"] == [{}]
    assert p["snapshots"]["panel"][0].startswith("data:image/png;base64,")
    assert set(p["steppers"]) == {f"1:{i}" for i in range(130)} | {f"2:{i}" for i in range(3)}


def test_still_picture_without_a_widget() -> None:
    X, y = data.make_moons(8, seed=0)
    model = MLP(2, [2, 1], seed=0)
    view = TrainingView(model, X, y)
    train(model, X, y, steps=3, callbacks=[view])
    bundle = view._repr_mimebundle_()
    data_part = bundle[0] if isinstance(bundle, tuple) else bundle
    html = data_part["text/html"]
    assert html.count('src="data:image/svg+xml;base64,') == 1 and "<svg" not in html  # sanitisers keep an <img>
    assert "step 3, the last of 3 snapshots" in html
    start = html.index("base64,") + len("base64,")
    svg = base64.b64decode(html[start:html.index('"', start)]).decode("utf-8")
    assert svg == draw_network(model, snapshot=view.snapshots[-1], X=X, y=y).to_svg()  # the decision panel too
    assert 'data-panel="output"' in svg


def test_save_html_writes_the_rendered_page(tmp_path: Any) -> None:
    page = pytest.importorskip("nn.views.page")
    X, y = data.make_moons(8, seed=0)
    model = MLP(2, [2, 1], seed=0)
    view = TrainingView(model, X, y)
    train(model, X, y, steps=3, callbacks=[view])
    view.save_html(tmp_path / "run.html")
    assert (tmp_path / "run.html").read_text(encoding="utf-8") == page.render_page(view.payload())


def test_batch_tape_forward_values_is_run_values_without_the_gradients() -> None:
    np = pytest.importorskip("numpy")
    from autograd.replay.batch import BatchTape
    from nn.losses import hinge_term

    model = MLP(2, [3, 1], activation="tanh", seed=0)
    params = model.parameters()

    def per_sample(v: list[Value]) -> tuple[Value, list[Value]]:
        out = model(v[:2])
        assert isinstance(out, Value)
        return hinge_term(out, v[2]), [out]

    tape = BatchTape(per_sample, params, example=[0.5, -0.5, 1.0], regularizer=lambda: 0.1 * params[0] * params[0])
    rows = [[0.1, 0.2, 1.0], [-1.0, 0.5, -1.0], [0.3, -0.7, 1.0]]
    values = np.array([p.data + 0.25 for p in params])
    loss, _ = tape.run_values(rows, values)
    watched = [w.copy() for w in tape.watched]
    before = [p.grad for p in params]
    assert tape.forward_values(rows, values) == loss
    assert all((a == b).all() for a, b in zip(tape.watched, watched))
    assert [p.grad for p in params] == before
    with pytest.raises(ValueError, match="at least one sample"):
        tape.forward_values(np.zeros((0, 3)), values)


def test_a_shown_widget_gets_new_payloads_while_training_and_the_full_one_at_the_end() -> None:
    class Widget:
        def __init__(self) -> None:
            self.sent: list[dict[str, Any]] = []

        @property
        def payload(self) -> dict[str, Any]:
            return self.sent[-1]

        @payload.setter
        def payload(self, value: dict[str, Any]) -> None:
            self.sent.append(value)

    X, y = data.make_moons(8, seed=0)
    model = MLP(2, [2, 1], seed=0)
    view = TrainingView(model, X, y, every=1)
    widget = Widget()
    view._widgets.append(widget)  # what _repr_mimebundle_ does when anywidget runs
    train(model, X, y, steps=4, callbacks=[view])
    assert len(widget.sent) >= 2  # the first snapshot (nothing sent yet) and the end
    assert widget.sent[0]["snapshots"]["n"] == 1 and widget.sent[0]["steppers"] == {}
    assert widget.payload == view.payload() and widget.payload["snapshots"]["n"] == 4


def test_a_displayed_view_shows_the_last_snapshot_when_the_run_ends(monkeypatch: pytest.MonkeyPatch) -> None:
    """Shown before training (as a live view is), the still picture is updated at the end of the run:
    a notebook executed where widgets cannot run keeps the trained network, not the untrained one."""
    ipython_display = pytest.importorskip("IPython.display")

    class Handle:
        def __init__(self, data: dict[str, Any]) -> None:
            self.shown = [data]

        def update(self, data: dict[str, Any], raw: bool = False) -> None:
            assert raw
            self.shown.append(data)

    handles: list[Handle] = []

    def display(data: dict[str, Any], metadata: Any = None, raw: bool = False, display_id: Any = None) -> Handle:
        assert raw and display_id is True
        handles.append(Handle(data))
        return handles[-1]

    monkeypatch.setattr(ipython_display, "display", display)
    X, y = data.make_moons(8, seed=0)
    model = MLP(2, [2, 1], seed=0)
    view = TrainingView(model, X, y)
    view._ipython_display_()
    assert len(handles) == 1 and "no snapshots yet" in handles[0].shown[0]["text/html"]
    train(model, X, y, steps=3, callbacks=[view])
    assert len(handles[0].shown) == 2
    last = handles[0].shown[-1]
    assert "step 3, the last of 3 snapshots" in last["text/html"]
    assert last["text/html"].count('src="data:image/svg+xml;base64,') == 1 and "<svg" not in last["text/html"]
    assert last["text/plain"] == repr(view)
    assert [k for k in handles[0].shown[0] if k.startswith("application/")] == [
        k for k in last if k.startswith("application/")]  # the widget, if any, stays the same
    train(model, X, y, steps=2, callbacks=[view])  # a second run updates the same display again
    assert "step 2, the last of 2 snapshots" in handles[0].shown[-1]["text/html"]


def test_the_still_picture_of_a_large_model_draws_matrices_and_stays_small() -> None:
    X, y = data.make_blobs(30, n_classes=10, seed=0)
    model = MLP(2, [40, 10], seed=0)  # 530 parameters: edges on the page, matrices in the still picture
    view = TrainingView(model, X, y)
    train(model, X, y, loss="cross_entropy", steps=2, callbacks=[view])
    html = view._bundle(None)["text/html"]
    start = html.index("base64,") + len("base64,")
    svg = base64.b64decode(html[start:html.index('"', start)]).decode("utf-8")
    assert svg.count("data-matrix=") == 2 and "data-edge=" not in svg
    assert len(html) < 60_000
    assert "data-edge=" in view.payload()["network"]["svg"]


def test_neuron_stepper_is_laid_out_in_python_unless_asked() -> None:
    X, y = data.make_moons(12, seed=0)
    model = MLP(2, [3, 1], seed=0)
    view = TrainingView(model, X, y)
    train(model, X, y, steps=2, callbacks=[view])
    assert view.neuron_stepper(0, 1, 0).layout_engine == "python"  # no Graphviz process per neuron
    assert view.neuron_stepper(0, 1, 0, layout="python").to_html() == view.neuron_stepper(0, 1, 0).to_html()


def test_numpy_colouring_of_a_snapshots_pictures_is_the_one_pixel_codes() -> None:
    np = pytest.importorskip("numpy")
    from nn.losses import predict_class
    from nn.views import network as net
    from nn.views.training import _classes, _decision_rgb, _signed_rgb

    rng = np.random.default_rng(0)
    g = net.GRID
    for scale in (1e-3, 1.0, 40.0):
        values = rng.normal(0, scale, size=(2, g * g, 5))  # 2 snapshots, 5 neurons
        values[:, ::7, 1] = 0.0
        values[:, :, 4] = 0.0  # a dead neuron: scale 0
        rgb = _signed_rgb(values)
        assert rgb.shape == (2, 5, g * g, 3)
        for k in range(2):
            for i in range(5):
                col = [float(v) for v in values[k, :, i]]
                image = net.signed_image([col[r * g:(r + 1) * g] for r in range(g)], max(abs(v) for v in col))
                assert rgb[k, i].tobytes() == image.rgb
    for threshold, sigmoid in ((0.0, False), (0.5, True)):
        out = rng.normal(threshold, 2.0, size=(2, 300, 1))
        out[:, :5, 0] = threshold
        want = b"".join(bytes(net.decision_colour([float(s)], threshold, sigmoid)) for s in out[1, :, 0])
        assert _decision_rgb(out, threshold, sigmoid)[1, 0].tobytes() == want
        assert _classes(out, threshold)[1].tolist() == [predict_class(float(s), threshold) for s in out[1, :, 0]]
    scores = rng.normal(0, 1, size=(1, 300, 12))
    scores[0, :4] = 1.0  # ties: the first largest wins
    want = b"".join(bytes(net.decision_colour([float(v) for v in row], 0.0, False)) for row in scores[0])
    assert _decision_rgb(scores, 0.0, False)[0, 0].tobytes() == want
    scores[0, 4, 3] = math.nan  # predict_class never picks a nan; argmax would
    assert _classes(scores, 0.0)[0].tolist() == [predict_class([float(v) for v in row]) for row in scores[0]]


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid", "leaky_relu", "step"])
@pytest.mark.parametrize("widths", [(2, [3, 1]), (2, [4, 3]), (3, [4, 2])])
def test_snapshot_pictures_with_numpy_are_the_engines(activation: str, widths: tuple[int, list[int]]) -> None:
    """All snapshots drawn at once with NumPy give the pictures the engine draws point by point."""
    pytest.importorskip("numpy")
    from nn.views.training import _draw_snapshot, _draw_snapshots

    nin, nouts = widths
    rng = random.Random(f"{activation}{widths}")
    X = [[rng.uniform(-2, 2) for _ in range(nin)] for _ in range(12)]
    y = [rng.randrange(max(2, nouts[-1])) for _ in X]
    model = MLP(nin, nouts, activation=activation, seed=3)
    states = []
    for _ in range(3):
        for p in model.parameters():
            p.data = rng.uniform(-1.5, 1.5)
        states.append(array("d", model.state_dict().values()))
    fast = _draw_snapshots(model, states, X, y, None)
    assert len(fast) == 3
    for state, shown in zip(states, fast):
        assert shown == _draw_snapshot(model, list(state), X, y, None)
    if nin == 2:
        assert set(fast[0][0]) == {f"{c + 1}:{i}" for c, w in enumerate(nouts) for i in range(w)}
