"""Vectorised replay (autograd.replay.batch.BatchTape): the scalar path's numbers for a whole batch at once."""

from __future__ import annotations

import math
import sys
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autograd import Value, define_op, dot
from nn import MLP, hinge_loss
from nn.data import make_moons
from tests.strategies import NO_DEADLINE, Instruction, programs, run_program

np = pytest.importorskip("numpy")
from autograd.replay.batch import BatchTape  # noqa: E402


def _scalar_reference(per_sample, params: list[Value], batch: list[list[float]]) -> tuple[float, list[float]]:  # type: ignore[no-untyped-def]
    for p in params:
        p.grad = 0.0
    losses = [per_sample([Value(x) for x in row]) for row in batch]
    total = sum(losses[1:], losses[0]) * (1.0 / len(batch))
    total.backward()
    grads = [p.grad for p in params]
    for p in params:
        p.grad = 0.0
    return total.data, grads


def _close(a: float, b: float) -> bool:
    if a != a or b != b:
        return a != a and b != b
    return abs(a - b) <= 1e-12 * max(1.0, abs(a), abs(b))


def _assert_batch_equals_scalar_path(
    per_sample: Callable[[list[Value]], Value], params: list[Value], batch: list[list[float]]
) -> None:
    """BatchTape's mean loss and gradients equal the scalar graphs' to 1e-12."""
    expected_loss, expected_grads = _scalar_reference(per_sample, params, batch)
    tape = BatchTape(per_sample, params, example=batch[0])
    loss = tape.run(batch)
    assert _close(loss, expected_loss), (loss, expected_loss)
    assert all(_close(p.grad, g) for p, g in zip(params, expected_grads)), ([p.grad for p in params], expected_grads)


@settings(NO_DEADLINE, max_examples=60)
@given(programs(min_inputs=3, max_inputs=4), st.lists(st.lists(st.floats(-2, 2), min_size=2, max_size=2),
                                                      min_size=1, max_size=6))
def test_batch_replay_matches_the_scalar_graphs_on_random_programs(
    case: tuple[list[float], list[Instruction]], rows: list[list[float]]
) -> None:
    inputs, program = case
    params = [Value(x) for x in inputs[:-2]]  # the last two program inputs vary per sample

    def per_sample(v: list[Value]) -> Value:
        return run_program(program, [*params, *v])

    _assert_batch_equals_scalar_path(per_sample, params, [[*row] for row in rows])


def test_moons_hinge_batch_equals_the_scalar_path_to_1e12() -> None:
    X, y = make_moons(100, noise=0.1, seed=1337)
    labels = [2 * t - 1 for t in y]
    model = MLP(2, [16, 16, 1], seed=1337)

    def per_sample(v: list[Value]) -> Value:
        return (1 + -v[2] * model(v[:2])).relu()  # type: ignore[operator]

    tape = BatchTape(per_sample, model.parameters(), example=[0.0, 0.0, 1.0])
    model.zero_grad()
    loss = tape.run([[a, b, t] for (a, b), t in zip(X, labels)])
    batched = [p.grad for p in model.parameters()]
    model.zero_grad()
    scores: list[Value] = [model(x) for x in X]  # type: ignore[misc]
    reference = hinge_loss(scores, labels)
    reference.backward()
    assert loss == pytest.approx(reference.data, rel=1e-12)
    for a, b in zip(batched, [p.grad for p in model.parameters()]):
        assert a == pytest.approx(b, rel=1e-12, abs=1e-15)


def test_every_unary_op_and_user_ops_vectorise() -> None:
    w = Value(0.7)
    cube = define_op("vec_cube", lambda x: x**3, lambda x: (3 * x * x,))

    def per_sample(v: list[Value]) -> Value:
        x = v[0] * w
        parts = [x.tanh(), x.sigmoid(), x.relu(), x.leaky_relu(0.1), x.softplus(), abs(x), -x, x.exp(),
                 (x * x + 1).log(), (x * x + 1).sqrt(), cube(x), 2 ** x, x ** 3, 1 / (x * x + 1), x / 4.0,
                 (x * x + 0.5) ** w, x / (w + 2)]
        total: Value = sum(parts[1:], parts[0])
        return total

    batch = [[-1.5], [-0.2], [0.0], [0.3], [2.0]]
    expected_loss, expected_grads = _scalar_reference(per_sample, [w], batch)
    loss = BatchTape(per_sample, [w], example=[1.0]).run(batch)
    assert loss == pytest.approx(expected_loss, rel=1e-12)
    assert w.grad == pytest.approx(expected_grads[0], rel=1e-12)


ACTIVATE = {"relu": Value.relu, "tanh": Value.tanh, "sigmoid": Value.sigmoid, "softplus": Value.softplus,
            "leaky_relu": lambda z: z.leaky_relu(0.1), "abs": abs, "exp": Value.exp}
ACTIVATIONS = sorted(ACTIVATE)


@settings(NO_DEADLINE, max_examples=60)
@given(
    st.lists(st.integers(1, 5), min_size=1, max_size=3),
    st.lists(st.sampled_from(ACTIVATIONS), min_size=3, max_size=3),
    st.lists(st.booleans(), min_size=4, max_size=4),
    st.lists(st.lists(st.floats(-2, 2), min_size=3, max_size=3), min_size=1, max_size=5),
    st.integers(0, 2**16),
)
def test_planned_layers_match_the_scalar_graphs(
    widths: list[int], activations: list[str], flags: list[bool], rows: list[list[float]], seed: int
) -> None:
    """Random layered models through the planner's paths: a layer as one matrix product (with and
    without biases), inputs read in order or shuffled (stacked), a tied weight (scattered with
    add.at), constant weights, a grouped output, and every activation as one array op."""
    import random

    rng = random.Random(seed)
    use_bias, shuffle, tie, constant_weight = flags
    sizes = [3, *widths]
    layers = [[[Value(rng.uniform(-1, 1)) for _ in range(sizes[i])] for _ in range(sizes[i + 1])]
              for i in range(len(widths))]
    biases = [[Value(rng.uniform(-1, 1)) for _ in range(sizes[i + 1])] for i in range(len(widths))]
    if tie and len(layers[0]) > 1:
        layers[0][1][0] = layers[0][0][0]  # the same Value in two neurons
    params = list(dict.fromkeys([w for layer in layers for row in layer for w in row]
                                + [b for layer in biases for b in layer]))
    fixed = Value(0.5)  # a constant (non-parameter) weight

    def per_sample(v: list[Value]) -> Value:
        h: list[Value] = list(v)
        for i, layer in enumerate(layers):
            inputs = h[::-1] if shuffle and i == 0 else h
            out = []
            for j, row in enumerate(layer):
                ws = [fixed, *row[1:]] if constant_weight and j == 0 else row
                out.append(dot(ws, inputs, biases[i][j] if use_bias else None))
            h = [ACTIVATE[activations[i]](z) for z in out] if i < len(layers) - 1 else out
        return h[0] if len(h) == 1 else sum(h[1:], h[0])

    _assert_batch_equals_scalar_path(per_sample, params, rows)


def test_an_mlp_is_planned_as_a_few_array_ops() -> None:
    """MLP(2, [16, 16, 1]) on moons: three matrix products and two activation groups, whatever
    the width; the hinge loss's few ops run one by one."""
    from autograd.replay.batch import Layer, Rows, RowSlice

    model = MLP(2, [16, 16, 1], seed=0)
    tape = BatchTape(lambda v: (1 + -v[2] * model(v[:2])).relu(), model.parameters(),  # type: ignore[operator]
                     example=[0.0, 0.0, 1.0])
    groups = [item for item in tape.plan.items if isinstance(item, (Layer, Rows))]
    assert [(type(g), len(g.outs)) for g in groups] == [(Layer, 16), (Rows, 16), (Layer, 16), (Rows, 16), (Layer, 1)]
    assert [g.weights.shape for g in groups if isinstance(g, Layer)] == [(16, 2), (16, 16), (1, 16)]
    assert all(isinstance(g.reads, RowSlice) for g in groups)  # each layer reads the previous matrix, no copying
    assert len(tape.plan.items) - len(groups) == 4  # neg, *, 1 +, relu
    assert tape.describe().splitlines() == [
        "neg       -> one op on per-sample arrays",
        "16 x dot  -> one matrix product: weights (16, 2) @ inputs (2, batch) + biases",
        "16 x relu -> one array op on (16, batch)",
        "16 x dot  -> one matrix product: weights (16, 16) @ inputs (16, batch) + biases",
        "16 x relu -> one array op on (16, batch)",
        "1 x dot   -> one matrix product: weights (1, 16) @ inputs (16, batch) + biases",
        "*         -> one op on per-sample arrays",
        "+ 1       -> one op on per-sample arrays",
        "relu      -> one op on per-sample arrays",
    ]


def test_regularizer_is_added_once_per_batch() -> None:
    X, y = make_moons(30, noise=0.1, seed=5)
    labels = [2 * t - 1 for t in y]
    model = MLP(2, [4, 1], seed=2)
    params = model.parameters()

    def l2() -> Value:
        total: Value = sum((p * p for p in params), Value(0.0))
        return 1e-2 * total

    tape = BatchTape(lambda v: (1 + -v[2] * model(v[:2])).relu(), params,  # type: ignore[operator]
                     example=[0.0, 0.0, 1.0], regularizer=l2)
    model.zero_grad()
    for _ in range(2):  # the regularizer's tape compiles on first use; grads accumulate
        loss = tape.run([[a, b, t] for (a, b), t in zip(X, labels)])
    batched = [p.grad / 2 for p in params]
    model.zero_grad()
    scores: list[Value] = [model(x) for x in X]  # type: ignore[misc]
    reference = hinge_loss(scores, labels) + l2()
    reference.backward()
    assert loss == pytest.approx(reference.data, rel=1e-12)
    for a, b in zip(batched, [p.grad for p in params]):
        assert a == pytest.approx(b, rel=1e-12, abs=1e-15)
    with pytest.raises(TypeError, match="must return a Value"):
        BatchTape(lambda v: v[0] * params[0], params, example=[1.0], regularizer=lambda: 1.0)  # type: ignore[arg-type,return-value]


def test_bad_batches_are_refused() -> None:
    w = Value(1.0)
    tape = BatchTape(lambda v: v[0] * w, [w], example=[1.0])
    with pytest.raises(ValueError, match=r"rows with 1 inputs; row 0 has 2"):
        tape.run([[1.0, 2.0], [3.0, 4.0]])
    with pytest.raises(ValueError, match="needs at least one sample"):
        tape.run([])
    with pytest.raises(ValueError, match="rows with 1 inputs; row 1 has 2"):
        tape.run([[1.0], [2.0, 3.0]])  # ragged
    with pytest.raises(ValueError, match="must hold numbers only"):
        tape.run([["x"]])  # type: ignore[list-item]


def test_run_values_takes_numpy_arrays_as_they_are_and_refuses_bad_ones() -> None:
    """nn.train passes its rows and parameter values as NumPy arrays; they give the list path's
    numbers, and arrays of the wrong shape or kind get an error naming what was expected."""
    model = MLP(3, [4, 2], seed=1)
    params = model.parameters()

    def per_sample(v: list[Value]) -> Value:
        a, b = model(v[:3])  # type: ignore[misc]
        return (a - v[3]) ** 2 + b.tanh()

    rows = [[0.1, -0.2, 0.3, 1.0], [0.5, 0.4, -0.9, -1.0], [2.0, 0.0, 1.0, 0.5]]
    tape = BatchTape(per_sample, params, example=rows[0])
    values = [p.data * 1.5 for p in params]  # not the Values' own data: run_values must use these
    loss, grads = tape.run_values(rows, values)
    loss_a, grads_a = tape.run_values(np.array(rows), np.array(values))
    assert loss_a == loss and grads_a.tolist() == grads.tolist()
    loss_i, _ = tape.run_values(np.array([[1, 2, 3, 4]]), np.array(values))  # integers are numbers too
    assert loss_i == tape.run_values([[1.0, 2.0, 3.0, 4.0]], values)[0]
    with pytest.raises(ValueError, match=r"batch of shape \(n, 4\), got an array of shape \(3, 3\)"):
        tape.run_values(np.array(rows)[:, :3], values)
    with pytest.raises(ValueError, match=r"batch of shape \(n, 4\), got an array of shape \(4,\)"):
        tape.run_values(np.array(rows[0]), values)
    with pytest.raises(ValueError, match="numbers only, got an array of dtype <U"):
        tape.run_values(np.array([["a", "b", "c", "d"]]), values)
    with pytest.raises(ValueError, match=f"needs {len(params)} parameter values, got {len(params) - 1}"):
        tape.run_values(rows, np.array(values[1:]))
    with pytest.raises(ValueError, match=r"parameter values, got an array of shape \(2, "):
        tape.run_values(rows, np.array([values, values]))
    with pytest.raises(ValueError, match="parameter values must be numbers"):
        tape.run_values(rows, ["x"] * len(params))


@pytest.mark.parametrize("tape_class", ["BatchTape", "SampleTape"])
def test_a_per_sample_graph_that_depends_on_the_sample_is_refused_not_replayed_wrong(tape_class: str) -> None:
    """A Python if on an input's data, or a label read with int(v.data): the recording would
    replay the first sample's choices for every sample. The first run checks a second sample."""
    from autograd.replay.tape import SampleTape, TapeMismatchError

    make = BatchTape if tape_class == "BatchTape" else SampleTape
    w = Value(0.5)

    def branchy(v: list[Value]) -> Value:
        return (v[0] * w).exp() if v[0].data > 0 else (v[0] * w).tanh()

    def label_read(v: list[Value]) -> Value:
        scores = [v[0] * w, v[0] * -w]
        return scores[int(v[1].data)]

    for per_sample, rows in ((branchy, [[1.0], [-2.0]]), (label_read, [[1.0, 0.0], [2.0, 1.0]])):
        with pytest.raises(TapeMismatchError, match=r"\.data of an input at .*test_vectorized\.py"):
            make(per_sample, [w], rows[0])
        # with the reads declared harmless, the first run's check on a second sample still refuses
        tape = make(per_sample, [w], rows[0], allow_data_reads=True)
        with pytest.raises(TapeMismatchError, match="depends on the data"):
            tape.run(rows)
        assert w.grad == 0.0  # nothing applied
    same = make(lambda v: v[0] * w, [w], [1.0])
    assert same.run([[1.0], [3.0]]) == 1.0 and same.verified


def test_missing_numpy_is_a_clear_import_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "numpy", None)
    with pytest.raises(ImportError, match=r'pip install "valuegrad\[fast\]"'):
        BatchTape(lambda v: v[0] * 2.0, [], example=[1.0])


@pytest.mark.parametrize("loss", ["hinge", "bce", "mse"])
@pytest.mark.parametrize("batch_size", [None, 16])
def test_nn_train_vectorized_follows_the_graph_path(loss: str, batch_size: int | None) -> None:
    """Same batches, same losses, accuracies and weights as building graphs, to rounding."""
    from nn import train

    X, y = make_moons(48, noise=0.1, seed=4)
    a, b = MLP(2, [8, 8, 1], seed=3), MLP(2, [8, 8, 1], seed=3)
    plain = train(a, X, y, loss=loss, steps=12, batch_size=batch_size, seed=5)
    fast = train(b, X, y, loss=loss, steps=12, batch_size=batch_size, seed=5, vectorized=True)
    assert fast.vectorized and not plain.vectorized
    assert fast.loss == pytest.approx(plain.loss, rel=1e-10)
    assert fast.accuracy == plain.accuracy
    for p, q in zip(a.parameters(), b.parameters()):
        assert q.data == pytest.approx(p.data, rel=1e-9, abs=1e-12)


@pytest.mark.parametrize("batch_size", [None, 10])
def test_nn_train_vectorized_cross_entropy_follows_the_graph_path(batch_size: int | None) -> None:
    """Several outputs, the label an input of the sample (picked by a select node)."""
    from nn import Adam, train
    from nn.data import make_blobs

    X, y = make_blobs(40, 4, seed=2)
    a, b = MLP(2, [6, 4], seed=3), MLP(2, [6, 4], seed=3)
    plain = train(a, X, y, loss="cross_entropy", optimizer=Adam(a.parameters(), lr=0.05), steps=8,
                  batch_size=batch_size, seed=1, compiled=False)
    fast = train(b, X, y, loss="cross_entropy", optimizer=Adam(b.parameters(), lr=0.05), steps=8,
                 batch_size=batch_size, seed=1, vectorized=True)
    assert fast.path == "vectorized"
    assert fast.loss == pytest.approx(plain.loss, rel=1e-10)
    assert fast.accuracy == plain.accuracy
    for p, q in zip(a.parameters(), b.parameters()):
        assert q.data == pytest.approx(p.data, rel=1e-9, abs=1e-12)


def test_logsumexp_and_select_over_layer_rows_take_their_gradients_as_blocks_equal_to_the_scalar_path() -> None:
    """Inputs of an op-by-op instruction that are consecutive rows of a layer (cross-entropy's
    logsumexp and select over the logits) get their gradients in one block; runs broken by a
    parameter, a repeated row, an input or a constant must still give the scalar path's numbers."""
    from autograd import logsumexp, select

    model = MLP(3, [5, 4], seed=7)
    c = Value(0.25)  # a parameter, not a row of any layer
    params = [*model.parameters(), c]

    def per_sample(v: list[Value]) -> Value:
        o: list[Value] = model(v[:3])  # type: ignore[assignment]
        lse = logsumexp([o[0], o[1], c, o[1], o[2], o[3], v[0], 3.0, o[2], o[3]])
        return lse - select(v[3], o) + select(v[3], [c, o[2], o[3], 2.0]) * select(v[3], [o[3], o[2], o[1], o[0]])

    rows = [[0.5, -1.0, 2.0, 3.0], [0.1, 0.2, 0.3, 0.0], [-2.0, 1.5, 0.0, 1.0], [1.0, 1.0, -1.0, 2.0]]
    tape = BatchTape(per_sample, params, example=rows[0])
    runs = sorted(tuple(r[:2]) for rs in tape.plan.row_runs.values() for r in rs)
    # logsumexp: o0-o1, o1-o3, o2-o3; select(v3, o): o0-o3; select(v3, [c, o2, o3, 2]): o2-o3; reversed: none
    assert runs == [(0, 2), (1, 5), (2, 4), (3, 6), (8, 10)]
    _assert_batch_equals_scalar_path(per_sample, params, rows)


def test_numpy_select_one_hot_and_softmax_rows_equal_the_float_rules_entry_by_entry() -> None:
    """The array forms of select (its value and partials) and of logsumexp's partials, on edge
    indices and values, against the op records' float rules; float32 stays float32."""
    from autograd.ops import LOGSUMEXP, SELECT
    from autograd.replay.arrays import numpy_namespace

    ns = numpy_namespace()
    index = np.array([0.0, 1.0, 2.0, -0.0, -1.0, 3.0, 1.5, math.nan, math.inf, -math.inf, 2.0])
    a = np.array([1.0, -math.inf, math.nan, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, math.inf])
    b = -a
    values = [a, 0.5, b]  # a float among the arrays
    with np.errstate(all="ignore"):
        picked = ns.select(index, values)
        hot = ns.one_hot(index, 3)
        lse = ns.logsumexp([a, 0.5, b])
        soft = ns.softmax_rows([a, 0.5, b], lse)
    assert hot.shape == (3, len(index)) and soft.shape == (3, len(index))
    for j, i in enumerate(index.tolist()):
        row = [a.tolist()[j], 0.5, b.tolist()[j]]  # Python floats: the float rules' IEEE results
        want = SELECT.forward(i, *row)
        assert picked[j] == want or (math.isnan(picked[j]) and math.isnan(want)), (i, picked[j], want)
        assert hot[:, j].tolist() == list(SELECT.local_grads(i, *row, want)[1:])
        partials = LOGSUMEXP.local_grads(*row, LOGSUMEXP.forward(*row))
        assert all(_close(x, y) for x, y in zip(soft[:, j].tolist(), partials)), (soft[:, j], partials)
    index32, a32 = index.astype(np.float32), a.astype(np.float32)
    assert ns.select(index32, [a32, 0.5, a32]).dtype == np.float32
    assert ns.one_hot(index32, 3).dtype == np.float32
    assert ns.one_hot(np.array([1, 0]), 2).tolist() == [[0.0, 1.0], [1.0, 0.0]]  # integer labels too


def test_nn_train_vectorized_refuses_what_it_cannot_record() -> None:
    from nn import train

    Xb, yb = make_moons(12, seed=0)
    with pytest.raises(ValueError, match="needs a model with one output, got 2"):
        train(MLP(2, [2], seed=0), Xb, yb, steps=1, vectorized=True)


def test_watched_values_come_back_per_sample() -> None:
    w = Value(2.0)

    def per_sample(v: list[Value]) -> tuple[Value, list[Value]]:
        z = v[0] * w
        return z.relu(), [z, w]

    tape = BatchTape(per_sample, [w], example=[1.0])
    assert tape.run([[1.0], [-3.0]]) == 1.0
    assert [list(a) for a in tape.watched] == [[2.0, -6.0], [2.0, 2.0]]


def test_vectorized_training_keeps_the_model_current_and_leaves_the_last_gradients() -> None:
    """The fast loop keeps values and gradients as arrays between replay and optimizer; the model
    sees every update (a callback reads it) and ends with the last step's gradients, as the graph
    path leaves them."""
    from nn import Adam, train

    X, y = make_moons(40, noise=0.1, seed=1)
    a, b = MLP(2, [6, 1], seed=4), MLP(2, [6, 1], seed=4)
    seen: dict[str, list[float]] = {"graph": [], "vectorized": []}
    for model, path in ((a, "graph"), (b, "vectorized")):
        def on_step(k: int, loss: float, acc: float, lr: float, m: MLP = model, p: str = path) -> None:
            seen[p].append(m.parameters()[0].data)

        train(model, X, y, optimizer=Adam(model.parameters(), lr=0.05), steps=6, batch_size=10, seed=2,
              compiled=False, vectorized=path == "vectorized", on_step=on_step)
    assert seen["vectorized"] == pytest.approx(seen["graph"], rel=1e-12)
    for p, q in zip(a.parameters(), b.parameters()):
        assert q.data == pytest.approx(p.data, rel=1e-12, abs=1e-15)
        assert q.grad == pytest.approx(p.grad, rel=1e-9, abs=1e-15)
