"""BatchTape on PyTorch (``backend="torch"``): the NumPy backend's numbers, on CPU (and CUDA when a
GPU is present), in float64 and float32, through the one array-namespace code path."""

from __future__ import annotations

import math
import sys
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autograd import Value, define_op, dot
from nn import MLP
from nn.data import make_blobs, make_moons
from nn.losses import cross_entropy_term
from tests.strategies import NO_DEADLINE, Instruction, programs, run_program

np = pytest.importorskip("numpy")
torch: Any = pytest.importorskip("torch")
from autograd import ops  # noqa: E402
from autograd.replay import arrays  # noqa: E402
from autograd.replay.batch import BatchTape  # noqa: E402

HAS_CUDA = bool(torch.cuda.is_available())
NO_CUDA = "no CUDA GPU here: torch.cuda.is_available() is False (this test runs where PyTorch sees one)"

PerSample = Callable[[list[Value]], Any]


class Result:
    """One run of a BatchTape: the mean loss, every parameter's gradient and the watched values."""

    def __init__(self, loss: float, grads: list[float], watched: list[list[float]]) -> None:
        self.loss, self.grads, self.watched = loss, grads, watched


def _run(per_sample: PerSample, params: list[Value], batch: list[list[float]],
         regularizer: Callable[[], Value] | None = None, **backend: Any) -> Result:
    for p in params:
        p.grad = 0.0
    tape = BatchTape(per_sample, params, example=batch[0], regularizer=regularizer, **backend)
    loss = tape.run(batch)
    grads = [p.grad for p in params]
    for p in params:
        p.grad = 0.0
    assert isinstance(loss, float) and all(isinstance(g, float) for g in grads)
    assert all(isinstance(w, np.ndarray) for w in tape.watched)
    return Result(loss, grads, [[float(x) for x in w] for w in tape.watched])


def _close(a: float, b: float, rel: float = 1e-12) -> bool:
    if a != a or b != b:
        return a != a and b != b
    return abs(a - b) <= rel * max(1.0, abs(a), abs(b))


def _assert_same(got: Result, want: Result, rel: float = 1e-12) -> None:
    assert _close(got.loss, want.loss, rel), (got.loss, want.loss)
    assert len(got.grads) == len(want.grads)
    for i, (a, b) in enumerate(zip(got.grads, want.grads)):
        assert _close(a, b, rel), (i, a, b)
    assert len(got.watched) == len(want.watched)
    for a_row, b_row in zip(got.watched, want.watched):
        assert all(_close(a, b, rel) for a, b in zip(a_row, b_row)), (a_row, b_row)


def _assert_float32_close(got: Result, want: Result) -> None:
    """float32 against float64: relative 1e-5 of each number, or of the largest gradient for
    gradients that nearly cancel over the batch."""
    assert got.loss == pytest.approx(want.loss, rel=1e-5)
    scale = max(abs(g) for g in want.grads)
    for a, b in zip(got.grads, want.grads):
        assert a == pytest.approx(b, rel=1e-5, abs=1e-5 * scale)
    for a_row, b_row in zip(got.watched, want.watched):
        assert a_row == pytest.approx(b_row, rel=1e-5, abs=1e-5)


# --- the workloads ---------------------------------------------------------------------------


def _moons_hinge_l2(n: int = 100) -> tuple[PerSample, list[Value], list[list[float]], Callable[[], Value]]:
    X, y = make_moons(n, noise=0.1, seed=1337)
    model = MLP(2, [16, 16, 1], seed=1337)
    params = model.parameters()

    def per_sample(v: list[Value]) -> tuple[Value, list[Value]]:
        score: Value = model(v[:2])  # type: ignore[assignment]
        return (1 + -v[2] * score).relu(), [score]

    def l2() -> Value:
        total: Value = sum((p * p for p in params), Value(0.0))
        return 1e-4 * total

    batch = [[a, b, 2.0 * t - 1.0] for (a, b), t in zip(X, y)]
    return per_sample, params, batch, l2


def _blobs_cross_entropy() -> tuple[PerSample, list[Value], list[list[float]]]:
    X, y = make_blobs(60, 4, seed=2)
    model = MLP(2, [6, 4], seed=3)

    def per_sample(v: list[Value]) -> tuple[Value, list[Value]]:
        outputs: list[Value] = model(v[:2])  # type: ignore[assignment]
        return cross_entropy_term(outputs, v[2]), outputs

    return per_sample, model.parameters(), [[a, b, float(t)] for (a, b), t in zip(X, y)]


def test_moons_mlp_with_hinge_and_l2_equals_the_numpy_backend_to_1e12() -> None:
    per_sample, params, batch, l2 = _moons_hinge_l2()
    want = _run(per_sample, params, batch, l2)
    got = _run(per_sample, params, batch, l2, backend="torch")
    _assert_same(got, want)
    assert _run(per_sample, params, batch, l2, backend="torch", device="cpu", dtype="float64").loss == got.loss


def test_cross_entropy_with_the_label_as_an_input_equals_the_numpy_backend() -> None:
    per_sample, params, batch = _blobs_cross_entropy()
    want = _run(per_sample, params, batch)
    _assert_same(_run(per_sample, params, batch, backend="torch"), want)


@settings(NO_DEADLINE, max_examples=40)
@given(programs(min_inputs=3, max_inputs=4), st.lists(st.lists(st.floats(-2, 2), min_size=2, max_size=2),
                                                      min_size=1, max_size=6))
def test_random_programs_over_every_op_equal_the_numpy_backend(
    case: tuple[list[float], list[Instruction]], rows: list[list[float]]
) -> None:
    inputs, program = case
    params = [Value(x) for x in inputs[:-2]]  # the last two program inputs vary per sample

    def per_sample(v: list[Value]) -> tuple[Value, list[Value]]:
        out = run_program(program, [*params, *v])
        return out, [out]  # each sample's loss comes back too

    batch = [list(row) for row in rows]
    _assert_same(_run(per_sample, params, batch, backend="torch"), _run(per_sample, params, batch))


def test_layers_with_tied_constant_and_shuffled_weights_equal_the_numpy_backend() -> None:
    """The planner's other paths: inputs stacked in another order, a weight shared by two neurons
    (scattered with index_put_(accumulate=True), NumPy's add.at), a constant weight, no biases."""
    import random

    rng = random.Random(7)
    first = [[Value(rng.uniform(-1, 1)) for _ in range(3)] for _ in range(4)]
    first[1][0] = first[0][0]  # tied
    second = [Value(rng.uniform(-1, 1)) for _ in range(4)]
    fixed = Value(0.5)  # a constant weight (not a parameter)
    params = list(dict.fromkeys([w for row in first for w in row] + second))

    def per_sample(v: list[Value]) -> Value:
        h = [dot([fixed, *row[1:]] if j == 3 else row, v[::-1]).tanh() for j, row in enumerate(first)]
        return dot(second, h).softplus()

    batch = [[rng.uniform(-2, 2) for _ in range(3)] for _ in range(9)]
    tape = BatchTape(per_sample, params, example=batch[0], backend="torch")
    assert any(not getattr(item, "unique", True) for item in tape.plan.items), "a tied weight is scattered"
    _assert_same(_run(per_sample, params, batch, backend="torch"), _run(per_sample, params, batch))


def test_a_user_op_with_torch_array_forms_and_one_without() -> None:
    """array_forward written for tensors runs on tensors; a user op without array forms runs entry
    by entry on the host and comes back as a tensor; one written with NumPy functions
    (``array_forward=numpy.sin``) runs on host copies; all give the graph's numbers."""
    calls: list[str] = []

    def sin_tensor(x: Any) -> Any:
        assert isinstance(x, torch.Tensor)
        calls.append("array")
        return torch.sin(x)

    fast = define_op("torch_backend_sin", math.sin, lambda x: (math.cos(x),),
                     array_forward=sin_tensor, array_local_grads=lambda x: (torch.cos(x),))
    slow = define_op("torch_backend_cube", lambda x: x**3, lambda x: (3 * x * x,))
    numpy_written = define_op("torch_backend_numpy_sin", math.sin, lambda x: (math.cos(x),),
                              array_forward=np.sin, array_local_grads=lambda x: (np.cos(x),))
    w = Value(0.8)
    rows = [[0.1 * k, 1.0 - 0.05 * k] for k in range(9)]
    for op in (fast, slow, numpy_written):

        def per_sample(v: list[Value]) -> Value:
            out: Value = op(v[0] * w) * v[1]  # noqa: B023
            return out

        got = _run(per_sample, [w], rows, backend="torch")
        w_graph = Value(w.data)
        graph = sum((op(Value(a) * w_graph) * b for a, b in rows), Value(0.0)) * (1.0 / len(rows))
        graph.backward()
        assert _close(got.loss, graph.data) and _close(got.grads[0], w_graph.grad)
        if op is not fast:
            _assert_same(got, _run(per_sample, [w], rows))
    assert calls, "the tensor form was used"


def test_select_of_parameters_by_a_label_input_keeps_float64() -> None:
    """Parameters (Python floats) picked by a per-sample label: PyTorch would make ``0.1 * (label
    == 0)`` a float32 tensor; the replay lifts the floats to float64 tensors first."""
    from autograd import select

    ws = [Value(0.1), Value(-0.7), Value(1.0 / 3.0)]

    def per_sample(v: list[Value]) -> tuple[Value, list[Value]]:
        picked = select(v[1], [ws[0], ws[1], v[0] * ws[2]])
        return picked * v[0] + ws[0] * ws[1], [picked]

    batch = [[0.3, 0.0], [-1.2, 1.0], [2.5, 2.0], [0.7, 0.0]]
    want = _run(per_sample, ws, batch)
    assert want.watched[0][0] == 0.1
    _assert_same(_run(per_sample, ws, batch, backend="torch"), want, rel=1e-15)


@pytest.mark.parametrize("backend", ["numpy", "torch"])
def test_float32_is_float64_to_float32_precision(backend: str) -> None:
    per_sample, params, batch, l2 = _moons_hinge_l2()
    want = _run(per_sample, params, batch, l2)
    tape = BatchTape(per_sample, params, example=batch[0], backend=backend, dtype="float32")
    assert tape.dtype == "float32" and tape.run(batch[:3]) == tape.run(batch[:3])
    assert tape.watched[0].dtype == np.float32
    _assert_float32_close(_run(per_sample, params, batch, l2, backend=backend, dtype="float32"), want)
    per_sample, params, batch = _blobs_cross_entropy()
    _assert_float32_close(_run(per_sample, params, batch, backend=backend, dtype="float32"),
                          _run(per_sample, params, batch))


def test_the_replay_computes_in_tensors_of_the_asked_dtype() -> None:
    per_sample, params, batch, _ = _moons_hinge_l2(8)
    for dtype, torch_dtype in (("float64", torch.float64), ("float32", torch.float32)):
        tape = BatchTape(per_sample, params, example=batch[0], backend="torch", dtype=dtype)
        assert (tape.backend, tape.device, tape.dtype) == ("torch", "cpu", dtype)
        assert tape._leaves.dtype == torch_dtype and tape._leaves.device.type == "cpu"
        assert all(w.dtype == torch.long for w, _ in tape._indices.values())
        tape.run(batch)
        assert tape.watched[0].dtype == np.dtype(dtype)


# --- the namespace: NumPy's IEEE results on tensors --------------------------------------------

EDGE = [math.nan, -math.inf, -1000.0, -3.5, -1.0, -1e-300, -0.0, 0.0, 1e-300, 0.5, 1.0, 2.0, 40.0, 1000.0, math.inf]


def _same_entries(got: Any, want: Any) -> None:
    a = got.detach().cpu().numpy() if isinstance(got, torch.Tensor) else np.asarray(got)
    b = np.asarray(want)
    a, b = np.broadcast_arrays(a, b)
    for x, y in zip(a.ravel().tolist(), b.ravel().tolist()):
        assert _close(x, y, 1e-15) or x == y, (x, y)


@pytest.mark.parametrize("name", ["exp", "log", "sqrt", "tanh", "abs", "sigmoid", "softplus", "relu", "heaviside",
                                  "isfinite", "floor"])
def test_torch_namespace_unary_functions_match_numpy_on_edge_values(name: str) -> None:
    tns, nns = arrays.make_namespace("torch"), arrays.numpy_namespace()
    x = np.array(EDGE)
    with np.errstate(all="ignore"):
        _same_entries(getattr(tns, name)(torch.tensor(EDGE, dtype=torch.float64)), getattr(nns, name)(x))


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_both_namespaces_heaviside_is_one_from_minus_zero_up_nan_at_nan_in_the_arrays_dtype(dtype: str) -> None:
    cast = np.array(EDGE, dtype=dtype).tolist()  # in float32, -1e-300 is -0.0: the unit fires
    want = [1.0 if x >= 0.0 else 0.0 for x in cast]
    assert want == [0.0] * 6 + [1.0] * 9 if dtype == "float64" else [0.0] * 5 + [1.0] * 10
    for got in (arrays.make_namespace("torch").heaviside(torch.tensor(EDGE, dtype=getattr(torch, dtype))),
                arrays.numpy_namespace().heaviside(np.array(EDGE, dtype=dtype))):
        assert str(got.dtype).endswith(dtype)
        values = got.tolist()
        assert math.isnan(values[0]) and values[1:] == want[1:]


def test_torch_namespace_kinks_where_power_and_logsumexp_match_numpy() -> None:
    tns, nns = arrays.make_namespace("torch"), arrays.numpy_namespace()
    t, x = torch.tensor(EDGE, dtype=torch.float64), np.array(EDGE)
    with np.errstate(all="ignore"):
        assert math.isnan(tns.relu(t)[0]) and math.isnan(tns.by_sign(t, 1.0, 0.0, 0.0)[0])  # nan in, nan out
        for above, below, at in ((1.0, 0.0, 0.0), (1.0, -1.0, 0.0), (1.0, 0.1, 0.1)):
            _same_entries(tns.by_sign(t, above, below, at), nns.by_sign(x, above, below, at))
        _same_entries(tns.leaky_relu(t, 0.1), nns.leaky_relu(x, 0.1))
        _same_entries(tns.power(t, 2.5), nns.power(x, 2.5))
        _same_entries(tns.power(-2.0, t), nns.power(-2.0, x))
        _same_entries(tns.where(t > 0, t, 0.0), nns.where(x > 0, x, 0.0))
        _same_entries(tns.where(True, 1.0, t), nns.where(True, 1.0, x))
        assert tns.where(t > 0, 1.0, 2.0).dtype == torch.float64  # two numbers: not PyTorch's float32
        lse = tns.logsumexp([t, t.flip(0), 1.0])
        _same_entries(lse, nns.logsumexp([x, x[::-1], 1.0]))
        assert tns.logsumexp([torch.full((2,), -math.inf, dtype=torch.float64)] * 3).tolist() == [-math.inf] * 2
        _same_entries(tns.elementwise(lambda a, b: a * b + 1.0, t[2:5], 2.0), nns.elementwise(lambda a, b: a * b + 1.0,
                                                                                             x[2:5], 2.0))
        assert tns.elementwise(math.hypot, t[2:5].float(), 1.0).dtype == torch.float32


def test_torch_select_one_hot_and_softmax_rows_match_numpy() -> None:
    tns, nns = arrays.make_namespace("torch"), arrays.numpy_namespace()
    index = [0.0, 1.0, 2.0, -1.0, 3.0, 1.5, math.nan, math.inf, 2.0]
    a = [1.0, -math.inf, math.nan, 4.0, 5.0, 6.0, 7.0, 8.0, math.inf]
    ti, ta = torch.tensor(index, dtype=torch.float64), torch.tensor(a, dtype=torch.float64)
    ni, na = np.array(index), np.array(a)
    with np.errstate(all="ignore"):
        _same_entries(tns.select(ti, [ta, 0.5, -ta]), nns.select(ni, [na, 0.5, -na]))
        _same_entries(tns.one_hot(ti, 3), nns.one_hot(ni, 3))
        lse = nns.logsumexp([na, 0.5, -na])
        _same_entries(tns.softmax_rows([ta, 0.5, -ta], torch.from_numpy(lse)), nns.softmax_rows([na, 0.5, -na], lse))
    assert tns.select(ti.float(), [ta.float(), 0.5]).dtype == torch.float32
    assert tns.one_hot(ti.float(), 3).dtype == torch.float32
    assert tns.one_hot(torch.tensor([1, 0]), 2).tolist() == [[0.0, 1.0], [1.0, 0.0]]


def test_tensors_find_their_namespace() -> None:
    t = torch.zeros(2, dtype=torch.float64)
    assert ops.namespace_of(t) is arrays.torch_namespace()
    assert ops.namespace_of(torch.nn.Parameter(t)) is arrays.torch_namespace()
    assert ops.namespace_of(1.0) is None and ops.namespace_of(Value(1.0)) is None


# --- arguments, missing pieces, and nn.train --------------------------------------------------


def _tiny() -> tuple[PerSample, list[Value]]:
    w = Value(0.5)
    return (lambda v: v[0] * w), [w]


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"backend": "jax"}, r"unknown backend 'jax'; expected 'numpy' or 'torch'"),
    ({"backend": "Torch"}, r"unknown backend 'Torch'"),
    ({"dtype": "float16"}, r"unknown dtype 'float16'; expected 'float64' \(the default\) or 'float32'"),
    ({"backend": "torch", "dtype": "double"}, r"unknown dtype 'double'"),
    ({"device": "cuda"}, r"device 'cuda' needs backend='torch'; the NumPy backend runs on the CPU"),
    ({"backend": "torch", "device": "gpu"}, r"unknown device 'gpu'; expected 'cpu', 'cuda' or 'cuda:N'"),
    ({"backend": "torch", "device": "meta"}, r"device 'meta' is not supported"),
    ({"backend": "torch", "device": 3}, r"unknown device 3"),
])
def test_bad_backend_dtype_or_device_is_a_clear_value_error(kwargs: dict[str, Any], message: str) -> None:
    per_sample, params = _tiny()
    with pytest.raises(ValueError, match=message):
        BatchTape(per_sample, params, example=[1.0], **kwargs)


def test_cuda_without_a_gpu_is_a_clear_error_not_a_crash(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    per_sample, params = _tiny()
    for device in ("cuda", "cuda:0"):
        expected = (rf"device '{device}' was asked for but PyTorch sees no CUDA GPU "
                    r"\(torch.cuda.is_available\(\) is False\); use device='cpu'")
        with pytest.raises(ValueError, match=expected):
            BatchTape(per_sample, params, example=[1.0], backend="torch", device=device)
    assert BatchTape(per_sample, params, example=[1.0], backend="torch", device="cpu").device == "cpu"


def test_missing_torch_is_a_clear_import_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "torch", None)
    monkeypatch.setattr(arrays, "_torch", None)
    per_sample, params = _tiny()
    with pytest.raises(ImportError, match=r'the torch backend needs PyTorch: pip install "valuegrad\[torch\]"'):
        BatchTape(per_sample, params, example=[1.0], backend="torch")
    assert BatchTape(per_sample, params, example=[1.0]).run([[1.0], [2.0]]) == 0.75  # NumPy needs no torch


@pytest.mark.parametrize("loss", ["hinge", "cross_entropy"])
def test_nn_train_on_the_torch_backend_follows_the_numpy_backend(loss: str) -> None:
    from nn import Adam, train

    if loss == "hinge":
        X, y = make_moons(48, noise=0.1, seed=4)
        sizes: list[int] = [8, 8, 1]
    else:
        X, y = make_blobs(40, 3, seed=2)
        sizes = [6, 3]
    a, b = MLP(2, sizes, seed=3), MLP(2, sizes, seed=3)
    numpy_run, torch_run = (train(m, X, y, loss=loss, optimizer=Adam(m.parameters(), lr=0.05), steps=10,
                                  batch_size=16, seed=5, vectorized=True, backend=backend)
                            for m, backend in ((a, "numpy"), (b, "torch")))
    assert torch_run.path == "vectorized"
    assert torch_run.loss == pytest.approx(numpy_run.loss, rel=1e-10)
    assert torch_run.accuracy == numpy_run.accuracy
    for p, q in zip(a.parameters(), b.parameters()):
        assert q.data == pytest.approx(p.data, rel=1e-9, abs=1e-12)


def test_nn_train_float32_and_refused_arguments() -> None:
    from nn import train

    X, y = make_moons(32, noise=0.1, seed=4)
    want = train(MLP(2, [4, 1], seed=1), X, y, steps=5, vectorized=True)
    got = train(MLP(2, [4, 1], seed=1), X, y, steps=5, vectorized=True, backend="torch", device="cpu",
                dtype="float32")
    assert got.loss == pytest.approx(want.loss, rel=1e-4)
    with pytest.raises(ValueError, match=r"only with vectorized=True \(got backend='torch', device=None"):
        train(MLP(2, [4, 1], seed=1), X, y, steps=1, backend="torch")
    with pytest.raises(ValueError, match="only with vectorized=True"):
        train(MLP(2, [4, 1], seed=1), X, y, steps=1, device="cpu")
    with pytest.raises(ValueError, match="only with vectorized=True"):
        train(MLP(2, [4, 1], seed=1), X, y, steps=1, compiled=False, dtype="float32")
    with pytest.raises(ValueError, match="unknown backend 'cupy'"):
        train(MLP(2, [4, 1], seed=1), X, y, steps=1, vectorized=True, backend="cupy")


# --- devices ------------------------------------------------------------------------------------


def test_every_tensor_is_made_on_the_asked_device() -> None:
    """A CPU stand-in for the CUDA path: with PyTorch's default device set to 'meta' (tensors
    without data), any tensor the replay made without naming its device would land there and
    fail to mix with the CPU ones. Layers, every kind of rule, the select by a label, user ops
    with and without array forms, and the regularizer all run."""
    from autograd import select
    from tests.strategies import user_affine, user_sin

    X, y = make_blobs(30, 3, seed=2)
    model = MLP(2, [5, 3], seed=3)
    w, picks = Value(0.3), [Value(0.1), Value(0.2)]
    cube = define_op("torch_backend_meta_cube", lambda x: x**3, lambda x: (3 * x * x,))

    def per_sample(v: list[Value]) -> tuple[Value, list[Value]]:
        outs: list[Value] = model(v[:2])  # type: ignore[assignment]
        extra = (cube(v[0] * w) + user_sin(v[1] * w) + user_affine(v[0], w) + (v[0] * w).leaky_relu(0.1)
                 + abs(v[1] * w) + (v[0] * w + 2) ** w + select(v[2], [picks[0], picks[1], outs[0]]))
        return cross_entropy_term(outs, v[2]) + 0.01 * extra, outs

    params = [*model.parameters(), w, *picks]

    def l2() -> Value:
        total: Value = sum((p * p for p in params), Value(0.0))
        return 1e-3 * total

    batch = [[a, b, float(t)] for (a, b), t in zip(X, y)]
    want = _run(per_sample, params, batch, l2)
    torch.set_default_device("meta")
    try:
        got = _run(per_sample, params, batch, l2, backend="torch", device="cpu")
    finally:
        torch.set_default_device(None)
    _assert_same(got, want)


# --- CUDA (only where PyTorch sees a GPU) -------------------------------------------------------


@pytest.mark.skipif(not HAS_CUDA, reason=NO_CUDA)
def test_cuda_replays_give_the_cpu_numbers() -> None:
    """On the GPU every tensor and index lives on the device; float64 gives the NumPy numbers (to
    the summation order of the GPU's matrix products), float32 to float32 precision."""
    per_sample, params, batch, l2 = _moons_hinge_l2()
    want = _run(per_sample, params, batch, l2)
    tape = BatchTape(per_sample, params, example=batch[0], backend="torch", device="cuda")
    assert tape.device.startswith("cuda:") and tape._leaves.device.type == "cuda"
    assert all(w.device.type == "cuda" for w, _ in tape._indices.values())
    _assert_same(_run(per_sample, params, batch, l2, backend="torch", device="cuda"), want, rel=1e-10)
    _assert_float32_close(_run(per_sample, params, batch, l2, backend="torch", device="cuda", dtype="float32"), want)
    ce, ce_params, ce_batch = _blobs_cross_entropy()
    _assert_same(_run(ce, ce_params, ce_batch, backend="torch", device="cuda"), _run(ce, ce_params, ce_batch),
                 rel=1e-10)
    slow = define_op("torch_backend_cuda_cube", lambda x: x**3, lambda x: (3 * x * x,))
    w = Value(0.7)
    rows = [[0.1 * k] for k in range(5)]
    _assert_same(_run(lambda v: slow(v[0] * w), [w], rows, backend="torch", device="cuda"),
                 _run(lambda v: slow(v[0] * w), [w], rows), rel=1e-10)
