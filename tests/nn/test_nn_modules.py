"""nn.Module, Neuron, Layer, MLP: parameter walk, micrograd compatibility contract, errors."""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from typing import Any

import pytest

from autograd import Value
from nn import MLP, Layer, Module, Neuron


def test_mlp_parameter_order_is_micrograds_each_neurons_weights_then_bias() -> None:
    m = MLP(2, [3, 1], seed=0)
    expected = [p for layer in m.layers for n in layer.neurons for p in [*n.w, n.b]]
    assert m.parameters() == expected
    assert all(a is b for a, b in zip(m.parameters(), expected))
    names = [name for name, _ in m.named_parameters()]
    assert names[:3] == ["layers.0.neurons.0.w.0", "layers.0.neurons.0.w.1", "layers.0.neurons.0.b"]
    assert names[-1] == "layers.1.neurons.0.b"
    assert m.num_parameters() == 3 * 3 + 4 == len(names)


def test_moons_architecture_has_337_parameters() -> None:
    assert MLP(2, [16, 16, 1], seed=0).num_parameters() == 337


def test_default_init_draws_from_the_global_random_like_micrograd() -> None:
    random.seed(42)
    m = MLP(2, [2, 1])
    random.seed(42)
    expected = [random.uniform(-1, 1) for _ in range(2 * 2 + 2)]
    weights = [p.data for layer in m.layers for n in layer.neurons for p in n.w]
    assert weights == expected
    assert all(n.b.data == 0.0 for layer in m.layers for n in layer.neurons)


def test_seed_gives_reproducible_weights_without_touching_global_random() -> None:
    random.seed(7)
    before = random.getstate()
    a = MLP(2, [4, 1], seed=3)
    assert random.getstate() == before
    b = MLP(2, [4, 1], seed=random.Random(3))
    assert [p.data for p in a.parameters()] == [p.data for p in b.parameters()]
    c = MLP(2, [4, 1], seed=4)
    assert [p.data for p in a.parameters()] != [p.data for p in c.parameters()]


@pytest.mark.parametrize(("init", "bound"), [("he", (6 / 2) ** 0.5), ("xavier", (6 / (2 + 8)) ** 0.5)])
def test_he_and_xavier_init_respect_their_fan_in_bounds(init: str, bound: float) -> None:
    layer = Layer(2, 8, init=init, rng=random.Random(0))
    ws = [w.data for n in layer.neurons for w in n.w]
    assert all(abs(w) <= bound for w in ws)
    assert max(abs(w) for w in ws) > bound / 2  # really spread over the range, not micrograd's (-1, 1)


def test_hidden_layers_relu_and_last_linear_by_default() -> None:
    m = MLP(2, [3, 3, 1], seed=0)
    assert [n.activation for n in m.layers[0].neurons] == ["relu"] * 3
    assert m.layers[-1].neurons[0].activation == "linear"
    assert m.layers[-1].neurons[0].nonlin is False and m.layers[0].neurons[0].nonlin is True


def test_return_shapes_single_value_or_list() -> None:
    assert isinstance(MLP(2, [4, 1], seed=0)([1.0, 2.0]), Value)
    out = MLP(2, [4, 3], seed=0)([1.0, 2.0])
    assert isinstance(out, list) and len(out) == 3
    assert isinstance(Layer(2, 1)([1.0, 2.0]), Value)
    assert isinstance(Neuron(2)([1.0, 2.0]), Value)


def test_width_one_hidden_layer_works() -> None:
    m = MLP(2, [16, 1, 1], activation="tanh", seed=0)
    x = [0.3, -0.7]
    out = m(x)
    assert isinstance(out, Value)
    out.backward()
    w = m.layers[0].neurons[0].w[0]
    analytic = w.grad
    eps = 1e-6
    w.data += eps
    up = m(x)
    w.data -= 2 * eps
    down = m(x)
    assert isinstance(up, Value) and isinstance(down, Value)
    assert analytic == pytest.approx((up.data - down.data) / (2 * eps), rel=1e-6, abs=1e-9)
    assert analytic != 0.0


@pytest.mark.parametrize(
    ("activation", "f"),
    [
        ("relu", lambda z: max(z, 0.0)),
        ("linear", lambda z: z),
        ("tanh", math.tanh),
        ("sigmoid", lambda z: 1 / (1 + math.exp(-z))),
        ("leaky_relu", lambda z: z if z > 0 else 0.01 * z),
        ("step", lambda z: 1.0 if z >= 0 else 0.0),
    ],
)
def test_neuron_computes_activation_of_dot_plus_bias(activation: str, f: Callable[[float], float]) -> None:
    n = Neuron(2, activation=activation, rng=random.Random(1))
    n.b.data = 0.25
    z = 0.25 + n.w[0].data * 0.5 + n.w[1].data * -2.0
    assert n([0.5, -2.0]).data == pytest.approx(f(z), rel=1e-15, abs=1e-300)


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid", "leaky_relu", "linear", "step"])
def test_fused_and_unfused_give_identical_outputs_and_gradients(activation: str) -> None:
    a = MLP(3, [5, 4, 2], activation=activation, seed=11)
    b = MLP(3, [5, 4, 2], activation=activation, seed=11, fused=False)
    xs_a = [Value(0.3), Value(-1.2), Value(0.8)]
    xs_b = [Value(0.3), Value(-1.2), Value(0.8)]
    out_a, out_b = a(xs_a), b(xs_b)
    assert isinstance(out_a, list) and isinstance(out_b, list)
    assert [o.data for o in out_a] == [o.data for o in out_b]
    (out_a[0] * out_a[1] + out_a[0]).backward()
    (out_b[0] * out_b[1] + out_b[0]).backward()
    assert [p.grad for p in a.parameters()] == [p.grad for p in b.parameters()]
    assert [x.grad for x in xs_a] == [x.grad for x in xs_b]


def test_fused_neuron_is_one_dot_node() -> None:
    n = Neuron(3, nonlin=False, rng=random.Random(0))
    out = n([1.0, 2.0, 3.0])
    assert out.op == "dot" and len(out.parents) == 7
    unfused = Neuron(3, nonlin=False, rng=random.Random(0), fused=False)([1.0, 2.0, 3.0])
    assert unfused.op == "+" and unfused.data == out.data


def test_zero_grad_resets_every_parameter() -> None:
    m = MLP(2, [3, 1], seed=0)
    out = m([1.0, -1.0])
    assert isinstance(out, Value)
    out.backward()
    assert any(p.grad != 0 for p in m.parameters())
    m.zero_grad()
    assert all(p.grad == 0.0 for p in m.parameters())


def test_shared_parameter_is_listed_once_under_its_first_name() -> None:
    class Tied(Module):
        def __init__(self) -> None:
            self.a = Value(1.0)
            self.pair = [self.a, Value(2.0)]
            self._hidden = Value(3.0)

    t = Tied()
    assert [n for n, _ in t.named_parameters()] == ["a", "pair.1"]
    assert t.num_parameters() == 2
    assert repr(t) == "Tied(2 parameters)"


def test_state_dict_round_trip_and_plain_floats() -> None:
    a, b = MLP(2, [3, 1], seed=0), MLP(2, [3, 1], seed=1)
    sd = a.state_dict()
    assert all(type(v) is float for v in sd.values())
    b.load_state_dict(sd)
    assert b.state_dict() == sd


def test_load_state_dict_changes_nothing_when_anything_is_wrong() -> None:
    m = MLP(2, [3, 1], seed=0)
    before = m.state_dict()
    bad = dict(before)
    del bad["layers.0.neurons.0.w.0"]
    bad["extra"] = 1.0
    with pytest.raises(ValueError, match=r"missing keys \['layers.0.neurons.0.w.0'\].*unexpected keys \['extra'\]"):
        m.load_state_dict(bad)
    nan = dict.fromkeys(before, 0.5)
    nan["layers.1.neurons.0.b"] = float("nan")
    with pytest.raises(ValueError, match=r"'layers.1.neurons.0.b' is nan"):
        m.load_state_dict(nan)
    wrong_type = dict.fromkeys(before, 0.5)
    wrong_type["layers.1.neurons.0.b"] = "0.1"  # type: ignore[assignment]
    with pytest.raises(TypeError, match="must be a number, got str"):
        m.load_state_dict(wrong_type)
    with pytest.raises(TypeError, match="expects a dict"):
        m.load_state_dict([1.0])  # type: ignore[arg-type]
    assert m.state_dict() == before


def test_wrong_input_width_names_expected_and_received() -> None:
    with pytest.raises(ValueError, match="MLP expects 2 inputs, got 3"):
        MLP(2, [3, 1], seed=0)([1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="Neuron expects 3 inputs, got 1"):
        Neuron(3)([1.0])


@pytest.mark.parametrize("bad", ["ab", None, 3.0, [1.0, "x"], [None, 1.0], [1j, 1.0]])
def test_non_numeric_inputs_raise_type_error(bad: object) -> None:
    with pytest.raises(TypeError, match="number"):
        MLP(2, [3, 1], seed=0)(bad)  # type: ignore[arg-type]


def test_unknown_activation_lists_the_valid_ones() -> None:
    with pytest.raises(ValueError, match="unknown activation 'gelu'; expected one of 'relu', 'tanh', 'sigmoid'"):
        MLP(2, [3, 1], activation="gelu")
    with pytest.raises(ValueError, match="unknown init"):
        Neuron(2, init="zeros")


@pytest.mark.parametrize("nouts", [[], [0], [3, -1], "16", [2.5]])
def test_bad_layer_widths_are_refused(nouts: object) -> None:
    with pytest.raises(ValueError):
        MLP(2, nouts)  # type: ignore[arg-type]


def test_reprs_are_readable_and_count_parameters() -> None:
    m = MLP(2, [16, 16, 1], seed=0)
    assert repr(m) == "MLP(2 -> 16 -> 16 -> 1, relu hidden, linear output, 337 parameters)"
    assert repr(m.layers[0]) == "Layer(2 -> 16, relu, 48 parameters)"
    assert repr(m.layers[0].neurons[0]) == "ReLUNeuron(2)"  # micrograd's own wording
    assert repr(m.layers[2].neurons[0]) == "LinearNeuron(16)"


def test_predicted_classes_follow_the_output_activation() -> None:
    """A sigmoid output is a probability: class 1 above 0.5, not above 0 (scores 0.46-0.68 would
    all be class 1)."""
    from nn import predict_classes

    model = MLP(1, [1], output_activation="sigmoid", seed=0)
    model.layers[0].neurons[0].w[0].data = 1.0
    model.layers[0].neurons[0].b.data = 0.0
    X = [[-0.2], [-0.1], [0.1], [0.7]]  # sigmoid: 0.45, 0.475, 0.525, 0.67
    assert predict_classes(model, X) == [0, 0, 1, 1]
    linear = MLP(1, [1], seed=0)
    linear.layers[0].neurons[0].w[0].data = 1.0
    assert predict_classes(linear, X) == [0, 0, 1, 1]
    linear.layers[0].neurons[0].b.data = 0.15  # raw scores -0.05, 0.05, ...: the threshold is 0
    assert predict_classes(linear, X) == [0, 1, 1, 1]


PATHS: dict[str, dict[str, Any]] = {"graph": {"compiled": False}, "compiled": {}, "vectorized": {"vectorized": True}}


def _frozen_step_accuracy(model: MLP, X: list[list[float]], y: list[int], loss: str, path: str) -> float:
    """``train``'s accuracy of one step with a learning rate of 0: the parameters stay as they
    were, so it must be what ``predict_classes`` gives on the same rows."""
    from nn import SGD, train

    if path == "vectorized":
        pytest.importorskip("numpy")
    history = train(model, X, y, loss=loss, optimizer=SGD(model.parameters(), lr=0.0), steps=1, **PATHS[path])
    assert history.path == path
    return history.accuracy[-1]


@pytest.mark.parametrize("path", list(PATHS))
@pytest.mark.parametrize("loss", ["mse", "hinge"])
@pytest.mark.parametrize("output_activation", ["sigmoid", "tanh", "linear"])
def test_step_accuracy_counts_classes_by_the_output_activations_threshold(
    path: str, loss: str, output_activation: str
) -> None:
    """A sigmoid output's step accuracy puts class 1 above 0.5 (it read 0.5 here, every score
    being above 0); tanh and linear outputs keep the threshold 0 (0.5 would give 0.75)."""
    from nn import accuracy, predict_classes

    model = MLP(1, [1], output_activation=output_activation, seed=0)
    model.layers[0].neurons[0].w[0].data = 1.0
    model.layers[0].neurons[0].b.data = 0.0
    X, y = [[-0.2], [-0.1], [0.1], [0.7]], [0, 0, 1, 1]
    assert predict_classes(model, X) == y
    assert _frozen_step_accuracy(model, X, y, loss, path) == 1.0
    scores: list[Any] = [model(x) for x in X]  # one Value each
    wrong_threshold = 0.0 if output_activation == "sigmoid" else 0.5
    assert accuracy(scores, y, threshold=wrong_threshold) < 1.0


@pytest.mark.parametrize("path", list(PATHS))
@pytest.mark.parametrize(("nouts", "loss", "output_activation"), [
    ([6, 1], "mse", "sigmoid"), ([6, 1], "hinge", "tanh"), ([6, 3], "cross_entropy", "linear"),
    ([6, 3], "cross_entropy", "sigmoid"),
])
def test_step_accuracy_equals_predict_classes_accuracy(
    path: str, nouts: list[int], loss: str, output_activation: str
) -> None:
    from nn import predict_classes
    from nn.data import make_blobs, make_moons

    X, y = make_moons(30, seed=4) if nouts[-1] == 1 else make_blobs(30, n_classes=nouts[-1], seed=4)
    model = MLP(2, nouts, output_activation=output_activation, seed=3)
    want = sum(c == t for c, t in zip(predict_classes(model, X), y)) / len(y)
    assert want not in (0.0, sum(y) / len(y), 1.0)  # neither a constant prediction nor perfect
    assert _frozen_step_accuracy(model, X, y, loss, path) == want


def test_train_refuses_bce_on_a_sigmoid_output_and_says_what_to_change() -> None:
    from nn import train

    model = MLP(2, [4, 1], output_activation="sigmoid", seed=0)
    before = [p.data for p in model.parameters()]
    for path in PATHS.values():
        with pytest.raises(ValueError, match=r"loss='bce' applies the sigmoid itself .* output_activation='sigmoid' "
                                             r"\(that would apply the sigmoid twice\); build the model with "
                                             r"output_activation='linear' for bce"):
            train(model, [[0.0, 1.0], [1.0, 0.0]], [0, 1], loss="bce", steps=1, **path)
    assert [p.data for p in model.parameters()] == before
    linear = MLP(2, [4, 1], seed=0)
    assert train(linear, [[0.0, 1.0], [1.0, 0.0]], [0, 1], loss="bce", steps=1).steps == 1


@pytest.mark.parametrize(
    ("loss", "nouts", "labels", "message"),
    [
        ("hinge", [1], [1, -1], r"labels must be 0 or 1 .*; y\[1\] is -1"),
        ("bce", [1], [0, 2], r"labels must be 0 or 1 .*; y\[1\] is 2"),
        ("mse", [1], [0.0, 1.0], r"labels must be 0 or 1 .*; y\[0\] is 0.0"),
        ("cross_entropy", [3], [0, 3], r"a class index in \[0, 3\) \(the model has 3 outputs\); y\[1\] is 3"),
    ],
)
def test_train_refuses_labels_that_are_not_class_indices(
    loss: str, nouts: list[int], labels: list[Any], message: str
) -> None:
    from nn import train

    with pytest.raises(ValueError, match=message):
        train(MLP(2, nouts, seed=0), [[0.0, 1.0], [1.0, 0.0]], labels, loss=loss, steps=1)


# --- the activation table: one record per activation ------------------------------------------


def test_every_activation_neuron_accepts_has_a_complete_record() -> None:
    """Neuron accepts exactly the table's names, and each record has an init, a label and a
    PyTorch module (or none, for the identity)."""
    from nn.layers import ACTIVATION_TABLE, ACTIVATIONS, INITS

    assert ACTIVATIONS == tuple(ACTIVATION_TABLE) == ("relu", "tanh", "sigmoid", "leaky_relu", "linear", "step")
    for name, spec in ACTIVATION_TABLE.items():
        assert spec.init in INITS, name
        assert (spec.torch is None) == (name in ("linear", "step")), name
        assert bool(spec.no_torch) == (name == "step"), name
        assert repr(Neuron(3, activation=name, rng=random.Random(0))) == f"{spec.label}Neuron(3)"
    with pytest.raises(ValueError, match="expected one of 'relu', 'tanh', 'sigmoid', 'leaky_relu', 'linear', 'step'"):
        Neuron(2, activation="gelu")


@pytest.mark.parametrize("name", ["relu", "tanh", "sigmoid", "leaky_relu", "linear", "step"])
def test_an_activation_derivative_agrees_with_central_differences(name: str) -> None:
    from nn.layers import ACTIVATION_TABLE

    spec = ACTIVATION_TABLE[name]
    h = 1e-6
    for x in (-2.3, -0.7, -0.1, 0.1, 0.7, 2.3):  # away from the kink at 0
        numeric = (spec.apply(Value(x + h)).data - spec.apply(Value(x - h)).data) / (2 * h)
        assert spec.derivative(x) == pytest.approx(numeric, rel=1e-6, abs=1e-9), (name, x)


@pytest.mark.parametrize("name", ["relu", "tanh", "sigmoid", "leaky_relu", "linear"])
def test_an_activation_is_what_its_neuron_and_its_torch_module_compute(name: str) -> None:
    from nn.layers import ACTIVATION_TABLE

    spec = ACTIVATION_TABLE[name]
    neuron = Neuron(1, activation=name, rng=random.Random(0))
    neuron.w[0].data, neuron.b.data = 1.0, 0.0
    xs = [-2.3, -0.5, 0.0, 0.5, 2.3]
    assert [neuron([x]).data for x in xs] == [spec.apply(Value(x)).data for x in xs]
    torch = pytest.importorskip("torch")
    module = torch.nn.Identity() if spec.torch is None else getattr(torch.nn, spec.torch)(*spec.torch_args)
    theirs = module(torch.tensor(xs, dtype=torch.float64)).tolist()
    assert theirs == pytest.approx([spec.apply(Value(x)).data for x in xs], rel=1e-15, abs=1e-300)
    restored = MLP.from_torch(MLP(1, [2, 1], activation=name, output_activation=name, seed=0).to_torch())
    assert restored.config["output_activation"] == name


def test_the_step_activation_is_a_threshold_unit_with_zero_gradient_and_no_torch_form(tmp_path: Any) -> None:
    """1 at and above 0 (-0.0 too), 0 below, in hidden and output layers; no gradient reaches a
    weight; saved and loaded like the others; to_torch refuses it with the reason."""
    import nn

    neuron = Neuron(2, activation="step", rng=random.Random(0))
    neuron.w[0].data, neuron.w[1].data, neuron.b.data = 1.0, -1.0, 0.0
    assert [neuron(x).data for x in ([1.0, 1.0], [-0.0, 0.0], [0.5, 0.0], [0.0, 0.5])] == [1.0, 1.0, 1.0, 0.0]
    assert repr(neuron) == "StepNeuron(2)"
    model = MLP(2, [3, 1], activation="step", output_activation="step", seed=0)
    out = model([0.3, -0.7])
    assert isinstance(out, Value) and out.data in (0.0, 1.0)
    out.backward()
    assert all(p.grad == 0.0 for p in model.parameters())
    assert model.config["activation"] == model.config["output_activation"] == "step"
    assert repr(model.layers[0]).startswith("Layer(2 -> 3, step,")
    nn.save(model, tmp_path / "step.json")
    loaded = nn.load(tmp_path / "step.json")
    assert isinstance(loaded, MLP) and loaded.config == model.config
    assert loaded.state_dict() == model.state_dict()
    assert loaded([0.3, -0.7]).data == out.data  # type: ignore[union-attr]
    for bad in (MLP(2, [3, 1], activation="step", seed=0), MLP(2, [3, 1], output_activation="step", seed=0)):
        pytest.importorskip("torch")
        with pytest.raises(ValueError, match=r"to_torch\(\): layer \d uses the 'step' activation, which has no PyTorch "
                                             r"equivalent: torch.nn has no step module"):
            bad.to_torch()


@pytest.mark.parametrize("path", ["graph", "compiled", "vectorized"])
@pytest.mark.parametrize(("batch_size", "epochs"), [(None, None), (8, None), (8, 2)])
def test_train_on_a_numpy_matrix_gives_the_history_of_its_rows_as_lists(
    path: str, batch_size: int | None, epochs: int | None
) -> None:
    """A large X is given as one 2-D array (as ``valuegrad train --data`` loads a file); each
    batch's rows are made from it as drawn: the same steps, bit for bit, as from lists."""
    np = pytest.importorskip("numpy")
    from nn import train
    from nn.data import make_blobs
    from nn.optim import Adam

    X, y = make_blobs(30, n_classes=3, seed=2)
    runs = []
    for rows in (X, np.array(X)):
        model = MLP(2, [6, 3], seed=5)
        history = train(model, rows, y, loss="cross_entropy", optimizer=Adam(model.parameters(), lr=0.05),
                        steps=4, batch_size=batch_size, epochs=epochs, seed=7, compiled=path != "graph",
                        vectorized=path == "vectorized")
        assert history.path == path
        runs.append((history.loss, history.accuracy, [(p.data, p.grad) for p in model.parameters()]))
    assert runs[0] == runs[1]


def test_train_refuses_an_array_that_is_not_rows() -> None:
    np = pytest.importorskip("numpy")
    from nn import train

    with pytest.raises(ValueError, match=r"train\(\) X must be rows of features: a 2-D array, got one of shape \(2,\)"):
        train(MLP(1, [1], seed=0), np.array([0.0, 1.0]), [0, 1], steps=1)
