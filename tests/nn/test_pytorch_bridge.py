"""nn.pytorch: MLP.to_torch / MLP.from_torch compute the same outputs and gradients, round-trip
exactly, and refuse what an MLP cannot represent with errors that name the layer."""

from __future__ import annotations

import random
import sys
from pathlib import Path
from typing import Any

import pytest

import nn
from autograd import Value
from nn import MLP, mse_loss

torch = pytest.importorskip("torch")
tnn = torch.nn

ARCHITECTURES = [
    (1, [1], "relu", "linear"),
    (3, [4, 2], "relu", "linear"),
    (2, [5, 5, 1], "tanh", "sigmoid"),
    (4, [3, 6, 3], "sigmoid", "tanh"),
    (3, [4, 4, 2], "leaky_relu", "leaky_relu"),
    (2, [3, 3, 3], "linear", "relu"),
    (5, [7, 2], "tanh", "linear"),
]
ACTIVATION_MODULES = {"relu": tnn.ReLU, "tanh": tnn.Tanh, "sigmoid": tnn.Sigmoid, "leaky_relu": tnn.LeakyReLU}


def _model(nin: int, nouts: list[int], act: str, out_act: str, seed: int = 0, fused: bool = True) -> MLP:
    m = MLP(nin, nouts, activation=act, output_activation=out_act, init="micrograd", seed=seed, fused=fused)
    rng = random.Random(seed + 1)
    for n in (n for layer in m.layers for n in layer.neurons):
        n.b.data = rng.uniform(-1.0, 1.0)  # non-zero biases, so a bias mix-up shows
    return m


def _inputs(nin: int, count: int, seed: int) -> list[list[float]]:
    rng = random.Random(seed)
    return [[rng.uniform(-2.0, 2.0) for _ in range(nin)] for _ in range(count)]


def _outputs(model: MLP, x: list[float]) -> list[Value]:
    out = model(x)
    return out if isinstance(out, list) else [out]


def _linears(net: Any) -> list[Any]:
    return [m for m in net if isinstance(m, tnn.Linear)]


def _torch_grads(net: Any) -> list[float]:
    """The gradients in valuegrad's parameter order: layer by layer, each neuron's weights then bias."""
    out: list[float] = []
    for lin in _linears(net):
        for row, b in zip(lin.weight.grad.tolist(), lin.bias.grad.tolist()):
            out += [*row, b]
    return out


def _close(a: float, b: float, tol: float = 1e-12) -> bool:
    return abs(a - b) <= tol * max(1.0, abs(a), abs(b))


# --- to_torch ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("nin", "nouts", "act", "out_act"), ARCHITECTURES)
def test_to_torch_layout_is_linear_then_activation_with_weight_rows_as_neurons(
    nin: int, nouts: list[int], act: str, out_act: str
) -> None:
    model = _model(nin, nouts, act, out_act)
    net = model.to_torch()
    assert isinstance(net, tnn.Sequential)
    kinds: list[type] = []
    for i in range(len(nouts)):
        kinds.append(tnn.Linear)
        a = act if i < len(nouts) - 1 else out_act
        if a != "linear":
            kinds.append(ACTIVATION_MODULES[a])
    assert [type(m) for m in net] == kinds
    for m in net:
        if isinstance(m, tnn.LeakyReLU):
            assert m.negative_slope == 0.01
    for layer, lin in zip(model.layers, _linears(net)):
        assert lin.weight.dtype == torch.float64 and lin.bias is not None
        assert lin.weight.tolist() == [[w.data for w in n.w] for n in layer.neurons]
        assert lin.bias.tolist() == [n.b.data for n in layer.neurons]
        assert lin.weight.requires_grad and lin.bias.requires_grad


@pytest.mark.parametrize(("nin", "nouts", "act", "out_act"), ARCHITECTURES)
@pytest.mark.parametrize("fused", [True, False])
def test_outputs_and_parameter_gradients_match_valuegrad_in_float64(
    nin: int, nouts: list[int], act: str, out_act: str, fused: bool
) -> None:
    model = _model(nin, nouts, act, out_act, seed=len(nouts) + nin, fused=fused)
    net = model.to_torch()
    xs = _inputs(nin, 6, seed=nin * 10 + len(nouts))
    rng = random.Random(3)
    targets = [[rng.uniform(-1.0, 1.0) for _ in range(nouts[-1])] for _ in xs]

    # outputs, sample by sample
    theirs = net(torch.tensor(xs, dtype=torch.float64))
    for x, row in zip(xs, theirs.tolist()):
        ours = [v.data for v in _outputs(model, x)]
        assert all(_close(a, b) for a, b in zip(ours, row)), (ours, row)

    # an MSE loss over the batch, and a plain sum of outputs: the same parameter gradients
    for loss_kind in ("mse", "sum"):
        model.zero_grad()
        net.zero_grad()
        flat_out = [v for x in xs for v in _outputs(model, x)]
        if loss_kind == "mse":
            loss = mse_loss(flat_out, [t for row in targets for t in row])
            t_loss = torch.nn.functional.mse_loss(net(torch.tensor(xs, dtype=torch.float64)),
                                                  torch.tensor(targets, dtype=torch.float64))
        else:
            loss = sum(flat_out[1:], flat_out[0])
            t_loss = net(torch.tensor(xs, dtype=torch.float64)).sum()
        loss.backward()
        t_loss.backward()
        assert _close(loss.data, t_loss.item())
        ours_g = [p.grad for p in model.parameters()]
        theirs_g = _torch_grads(net)
        assert len(ours_g) == len(theirs_g) == model.num_parameters()
        bad = [(i, a, b) for i, (a, b) in enumerate(zip(ours_g, theirs_g)) if not _close(a, b)]
        assert not bad, f"{loss_kind}: gradients differ at {bad[:5]}"


def test_float32_works_within_float32_tolerance() -> None:
    model = _model(3, [8, 8, 2], "tanh", "linear", seed=5)
    net = model.to_torch(dtype=torch.float32)
    assert all(p.dtype == torch.float32 for p in net.parameters())
    xs = _inputs(3, 5, seed=9)
    out = net(torch.tensor(xs, dtype=torch.float32))
    out.sum().backward()
    model.zero_grad()
    total = sum((v for x in xs for v in _outputs(model, x)), Value(0.0))
    total.backward()
    for x, row in zip(xs, out.tolist()):
        assert all(abs(a.data - b) < 1e-5 for a, b in zip(_outputs(model, x), row))
    assert all(abs(a - b) < 1e-4 * max(1.0, abs(a)) for a, b in zip([p.grad for p in model.parameters()],
                                                                   _torch_grads(net)))


def test_to_torch_leaves_the_model_and_torchs_random_state_alone() -> None:
    model = _model(2, [3, 1], "relu", "linear")
    before = model.state_dict()
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    net = model.to_torch()
    assert torch.equal(torch.rand(3), expected)
    with torch.no_grad():
        net[0].weight.fill_(7.0)
    assert model.state_dict() == before  # shares no storage


def test_to_torch_refuses_a_bad_dtype_and_a_non_mlp() -> None:
    model = _model(2, [3, 1], "relu", "linear")
    with pytest.raises(TypeError, match=r"floating-point torch\.dtype"):
        model.to_torch(dtype=torch.int64)
    with pytest.raises(TypeError, match=r"floating-point torch\.dtype"):
        model.to_torch(dtype="float64")
    from nn.pytorch import to_torch

    with pytest.raises(TypeError, match="needs an MLP, got Neuron"):
        to_torch(nn.Neuron(2), None)  # type: ignore[arg-type]


def test_saved_model_loads_and_converts(tmp_path: Path) -> None:
    model = _model(3, [4, 2], "sigmoid", "tanh", seed=2)
    path = tmp_path / "model.json"
    model.save(path)
    loaded = nn.load(path)
    assert isinstance(loaded, MLP)
    net = loaded.to_torch()
    xs = _inputs(3, 4, seed=1)
    for x, row in zip(xs, net(torch.tensor(xs, dtype=torch.float64)).tolist()):
        assert all(_close(a.data, b) for a, b in zip(_outputs(model, x), row))


# --- from_torch and round trips ----------------------------------------------------------------------


@pytest.mark.parametrize(("nin", "nouts", "act", "out_act"), ARCHITECTURES)
def test_round_trip_mlp_to_torch_to_mlp_is_exact(nin: int, nouts: list[int], act: str, out_act: str) -> None:
    model = _model(nin, nouts, act, out_act, seed=11)
    back = MLP.from_torch(model.to_torch())
    assert type(back) is MLP
    assert back.state_dict() == model.state_dict()  # every weight, bit for bit
    config = model.config
    if len(nouts) == 1:  # a one-layer model has no hidden activation: it reads back as the default
        config["activation"] = "relu"
    assert back.config == config
    for x in _inputs(nin, 5, seed=4):
        assert [v.data for v in _outputs(back, x)] == [v.data for v in _outputs(model, x)]


def test_round_trip_torch_to_mlp_to_torch_is_exact_in_float64_and_float32() -> None:
    torch.manual_seed(0)
    for dtype in (torch.float64, torch.float32):
        net = tnn.Sequential(tnn.Linear(3, 5), tnn.Tanh(), tnn.Linear(5, 4), tnn.Tanh(), tnn.Linear(4, 2)).to(dtype)
        model = MLP.from_torch(net)
        again = model.to_torch(dtype=dtype)
        for a, b in zip(net.state_dict().values(), again.state_dict().values()):
            assert a.dtype == b.dtype == dtype
            assert torch.equal(a, b)
        assert [type(m) for m in again] == [type(m) for m in net]


def test_from_torch_copies_weights_exactly_and_reads_the_activations() -> None:
    torch.manual_seed(1)
    net = tnn.Sequential(tnn.Linear(2, 3), tnn.LeakyReLU(0.01), tnn.Linear(3, 3), tnn.LeakyReLU(),
                         tnn.Linear(3, 1), tnn.Sigmoid()).double()
    model = MLP.from_torch(net, fused=False)
    assert model.config == {"nin": 2, "nouts": [3, 3, 1], "activation": "leaky_relu",
                            "output_activation": "sigmoid", "init": "micrograd", "fused": False}
    for layer, lin in zip(model.layers, _linears(net)):
        for j, n in enumerate(layer.neurons):
            assert [w.data for w in n.w] == lin.weight[j].tolist()
            assert n.b.data == lin.bias[j].item()
            assert all(type(w.data) is float for w in n.w) and type(n.b.data) is float
    x = [0.3, -1.7]
    assert _close(_outputs(model, x)[0].data, net(torch.tensor(x, dtype=torch.float64)).item())


def test_linear_linear_is_a_linear_activation_and_identity_is_skipped() -> None:
    net = tnn.Sequential(tnn.Linear(2, 3), tnn.Linear(3, 3), tnn.Identity(), tnn.Linear(3, 1), tnn.ReLU()).double()
    model = MLP.from_torch(net)
    assert model.config["activation"] == "linear"
    assert model.config["output_activation"] == "relu"
    assert model.config["nouts"] == [3, 3, 1]
    x = [0.5, 0.25]
    assert _close(_outputs(model, x)[0].data, net(torch.tensor(x, dtype=torch.float64)).item())


def test_from_torch_accepts_a_model_on_float32_and_named_layers() -> None:
    from collections import OrderedDict

    net = tnn.Sequential(OrderedDict([("fc1", tnn.Linear(2, 2)), ("act", tnn.ReLU()), ("out", tnn.Linear(2, 1))]))
    model = MLP.from_torch(net)
    assert model.layers[0].neurons[1].w[0].data == net.fc1.weight[1, 0].item()


_MyReLU = type("_MyReLU", (tnn.ReLU,), {})  # a subclass may compute something else: refused


@pytest.mark.parametrize(
    ("build", "error", "pattern"),
    [
        (lambda: tnn.Linear(2, 1), TypeError, r"needs a torch.nn.Sequential, got Linear; wrap it"),
        (lambda: [tnn.Linear(2, 1)], TypeError, r"needs a torch.nn.Sequential, got list"),
        (lambda: tnn.Sequential(), ValueError, r"no Linear layer"),
        (lambda: tnn.Sequential(tnn.ReLU(), tnn.Linear(2, 1)), ValueError, r"layer 0 \(ReLU\) comes before any Linear"),
        (lambda: tnn.Sequential(tnn.Linear(2, 3), tnn.GELU(), tnn.Linear(3, 1)), TypeError,
         r"layer 1 \(GELU\) is not supported"),
        (lambda: tnn.Sequential(tnn.Conv1d(1, 1, 3)), TypeError, r"layer 0 \(Conv1d\) is not supported"),
        (lambda: tnn.Sequential(tnn.Linear(2, 3), tnn.BatchNorm1d(3), tnn.ReLU()), TypeError,
         r"layer 1 \(BatchNorm1d\) is not supported.*normalisation"),
        (lambda: tnn.Sequential(tnn.Linear(2, 3), tnn.ReLU(), tnn.Dropout(0.5), tnn.Linear(3, 1)), TypeError,
         r"layer 2 \(Dropout\) is not supported.*dropout"),
        (lambda: tnn.Sequential(tnn.Sequential(tnn.Linear(2, 1))), TypeError, r"layer 0 \(Sequential\).*nested"),
        (lambda: tnn.Sequential(tnn.Linear(2, 3), _MyReLU()), TypeError, r"layer 1 \(_MyReLU\) is not supported"),
        (lambda: tnn.Sequential(tnn.Linear(2, 3), tnn.LeakyReLU(0.2)), ValueError,
         r"layer 1 \(LeakyReLU\) has negative_slope=0.2"),
        (lambda: tnn.Sequential(tnn.Linear(2, 3, bias=False)), ValueError, r"layer 0 \(Linear\) has no bias"),
        (lambda: tnn.Sequential(tnn.Linear(2, 3), tnn.ReLU(), tnn.Linear(4, 1)), ValueError,
         r"layer 2 \(Linear\) takes 4 inputs but the Linear layer before it gives 3"),
        (lambda: tnn.Sequential(tnn.Linear(2, 3), tnn.ReLU(), tnn.Tanh()), ValueError,
         r"layer 2 \(Tanh\) follows the activation layer 1 \(ReLU\)"),
        (lambda: tnn.Sequential(tnn.Linear(2, 3), tnn.ReLU(), tnn.Linear(3, 3), tnn.Tanh(), tnn.Linear(3, 1)),
         ValueError, r"hidden activations differ: layer 1 \(ReLU\) gives 'relu' but layer 3 \(Tanh\) gives 'tanh'"),
        (lambda: tnn.Sequential(tnn.Linear(2, 3), tnn.Linear(3, 3), tnn.ReLU(), tnn.Linear(3, 1)), ValueError,
         r"hidden activations differ: layer 0 \(Linear\) gives 'linear' but layer 2 \(ReLU\) gives 'relu'"),
    ],
)
def test_from_torch_refuses_what_an_mlp_cannot_represent(build: Any, error: type[Exception], pattern: str) -> None:
    with pytest.raises(error, match=pattern):
        MLP.from_torch(build())


def test_from_torch_refuses_non_finite_weights() -> None:
    net = tnn.Sequential(tnn.Linear(2, 1))
    with torch.no_grad():
        net[0].bias.fill_(float("nan"))
    with pytest.raises(ValueError, match=r"layer 0 \(Linear\) has nan or infinite values in its bias"):
        MLP.from_torch(net)


def test_from_torch_refuses_a_model_on_the_meta_device_and_says_how_to_materialise_it() -> None:
    net = tnn.Sequential(tnn.Linear(2, 3), tnn.ReLU(), tnn.Linear(3, 1)).to("meta")
    with pytest.raises(ValueError, match=r"layer 0 \(Linear\) has its weight on the meta device, which holds no "
                                         r"values; .*to_empty\(device='cpu'\) .*load_state_dict"):
        MLP.from_torch(net)
    # once materialised and given weights, the same model is accepted
    weights = tnn.Sequential(tnn.Linear(2, 3), tnn.ReLU(), tnn.Linear(3, 1)).state_dict()
    net.to_empty(device="cpu").load_state_dict(weights)
    assert MLP.from_torch(net).num_parameters() == 13


def test_without_torch_the_error_says_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    model = _model(2, [2, 1], "relu", "linear")
    monkeypatch.setitem(sys.modules, "torch", None)  # `import torch` now raises ImportError
    with pytest.raises(ImportError, match=r'pip install "valuegrad\[torch\]"'):
        model.to_torch()
    with pytest.raises(ImportError, match=r'pip install "valuegrad\[torch\]"'):
        MLP.from_torch(object())
