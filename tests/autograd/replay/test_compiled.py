"""Compiled replay (autograd.replay.tape.Tape): bit-for-bit equal to rebuilding the graph, and refusals."""

from __future__ import annotations

import gc
import linecache
import math
import traceback
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from autograd import Value, define_op, dot
from autograd.replay.tape import Tape, TapeMismatchError
from nn import MLP, cross_entropy, hinge_loss
from nn.data import make_moons
from tests.strategies import NO_DEADLINE, Instruction, programs, run_program


@NO_DEADLINE
@given(programs(), st.lists(st.floats(-2, 2), min_size=4, max_size=4), st.integers(0, 4), st.booleans())
def test_replay_matches_the_graph_bit_for_bit_on_random_programs(
    case: tuple[list[float], list[Instruction]], new_values: list[float], n_params: int, codegen: bool
) -> None:
    """Both replays (generated code and the interpreter) equal a rebuilt graph in every bit, with
    some inputs parameters and the rest constants baked into the tape."""
    inputs, program = case
    leaves = [Value(x) for x in inputs]
    params = leaves[:n_params]
    tape = Tape(lambda: run_program(program, leaves), params, codegen=codegen)
    assert (tape.source is not None) == codegen
    for p, v in zip(params, new_values):  # replay at other parameter values
        p.data = v
    replayed = tape.run()
    replay_grads = [p.grad for p in params]
    fresh = [Value(p.data) for p in leaves]
    out = run_program(program, fresh)
    out.backward()
    assert repr(replayed) == repr(out.data)
    assert [repr(g) for g in replay_grads] == [repr(f.grad) for f in fresh[:n_params]]


EDGE_VALUES = [0.0, -0.0, 1.0, -1.0, 1e-320, 1e308, -1e308, math.inf, -math.inf, math.nan]


@NO_DEADLINE
@given(programs(), st.lists(st.sampled_from(EDGE_VALUES), min_size=4, max_size=4), st.integers(0, 4))
def test_generated_code_equals_the_interpreter_on_edge_values(
    case: tuple[list[float], list[Instruction]], values: list[float], n_params: int
) -> None:
    """inf, nan, signed zeros and subnormals, in parameters and in baked-in constants: the generated
    kernel writes them as literals and must still give the interpreter's bits."""
    _, program = case
    results = []
    for codegen in (False, True):
        leaves = [Value(x) for x in values]
        tape = Tape(lambda: run_program(program, leaves), leaves[:n_params], codegen=codegen)  # noqa: B023
        loss = tape.run(grad=-0.0 if n_params % 2 else 1.0)
        results.append((repr(loss), [repr(p.grad) for p in leaves[:n_params]], [repr(w) for w in tape.watched]))
    assert results[0] == results[1]


def test_long_dots_and_constant_leaves_are_generated_exactly() -> None:
    """A 300-term dot (split over several lines of source) with constant inputs, including inf."""
    w = [Value(math.sin(i)) for i in range(300)]
    xs = [math.cos(i) * 10.0 ** (i % 7 - 3) for i in range(300)]
    xs[5] = math.inf
    w[5].data = 0.0  # 0 * inf: a nan that must reach the loss and every gradient the same way
    results = []
    for codegen in (False, True):
        for p in w:
            p.grad = 0.0
        tape = Tape(lambda: dot(w, xs).tanh() * 3.0, w, codegen=codegen)
        results.append((repr(tape.run()), [repr(p.grad) for p in w]))
    assert results[0] == results[1] and "nan" in results[1][1]
    w[5].data = 0.25
    fresh = [Value(p.data) for p in w]
    out = dot(fresh, xs).tanh() * 3.0
    out.backward()
    tape = Tape(lambda: dot(w, xs).tanh() * 3.0, w, codegen=True)
    for p in w:
        p.grad = 0.0
    assert tape.run() == out.data
    assert [repr(p.grad) for p in w] == [repr(f.grad) for f in fresh]


def _compiled(tape: Tape) -> bool:
    return tape.source is not None


def test_the_tape_compiles_itself_at_the_second_run() -> None:
    w = Value(1.5)
    tape = Tape(lambda: (w * w).relu(), [w])
    assert tape.run() == 2.25 and not _compiled(tape)
    assert tape.run() == 2.25 and _compiled(tape)
    assert w.grad == 6.0
    never = Tape(lambda: w * w, [w], codegen=False)
    for _ in range(3):
        never.run()
    assert not _compiled(never)
    assert tape.edges == 3 and never.edges == 2  # w*w has two edges to w


def test_big_tapes_stay_interpreted_unless_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    import autograd.replay.tape

    monkeypatch.setattr(autograd.replay.tape, "AUTO_CODEGEN_EDGES", 3)
    w = Value(0.5)
    big = Tape(lambda: (w * w + w).tanh(), [w])  # 4 edges
    small = Tape(lambda: (w * w).tanh(), [w])  # 3 edges
    for _ in range(3):
        big.run()
        small.run()
    assert not _compiled(big) and _compiled(small)
    assert _compiled(Tape(lambda: (w * w + w).tanh(), [w], codegen=True))


def test_codegen_argument_is_checked() -> None:
    w = Value(1.5)
    with pytest.raises(TypeError, match="codegen must be True, False or None, got 'yes'"):
        Tape(lambda: w * w, [w], codegen="yes")  # type: ignore[arg-type]


def test_generated_code_shows_in_tracebacks() -> None:
    """The kernel's source is kept, and an error raised inside it points at a generated line."""
    calls: list[float] = []

    def fails_when_replayed(x: float) -> float:
        calls.append(x)
        if len(calls) > 1:  # recording succeeds, the replay raises
            raise RuntimeError("inside a user op")
        return x

    op = define_op("tape_fails_when_replayed", fails_when_replayed, lambda x: (1.0,))
    w = Value(1.0)
    tape = Tape(lambda: op(w) + 1.0, [w], codegen=True)
    assert (tape.source or "").startswith("def kernel(params, grad):")
    with pytest.raises(RuntimeError, match="inside a user op") as info:
        tape.run()
    frames = [f for f in traceback.extract_tb(info.value.__traceback__) if f.filename.startswith("<valuegrad tape")]
    assert len(frames) == 1 and "(v0)" in (frames[0].line or "")
    name = frames[0].filename
    del tape, info
    gc.collect()
    assert name not in linecache.cache  # a dropped tape takes its source with it


def _moons_loss(model: MLP) -> tuple[Value, list[Value]]:
    X, y = make_moons(40, noise=0.1, seed=3)
    scores: list[Value] = [model(x) for x in X]  # type: ignore[misc]
    loss = hinge_loss(scores, [2 * t - 1 for t in y]) + 1e-4 * sum((p * p for p in model.parameters()), Value(0.0))
    return loss, scores


def test_training_with_a_tape_equals_training_with_graphs() -> None:
    plain, taped = MLP(2, [8, 8, 1], seed=4), MLP(2, [8, 8, 1], seed=4)
    tape = Tape(lambda: _moons_loss(taped), taped.parameters())
    for _ in range(5):
        loss, scores = _moons_loss(plain)
        plain.zero_grad()
        loss.backward()
        taped.zero_grad()
        assert tape.run() == loss.data
        assert tape.watched == [s.data for s in scores]
        assert [p.grad for p in taped.parameters()] == [p.grad for p in plain.parameters()]
        for a, b in zip(plain.parameters(), taped.parameters()):
            a.data -= 0.3 * a.grad
            b.data -= 0.3 * b.grad
    assert tape.verify()


@pytest.mark.parametrize("codegen", [False, True])
def test_unfused_models_and_user_ops_replay_too(codegen: bool) -> None:
    cube = define_op("tape_cube", lambda x: x**3, lambda x: (3 * x * x,))
    m = MLP(2, [3, 1], activation="leaky_relu", seed=0, fused=False)

    def loss() -> Value:
        out = m([0.5, -1.5])
        assert isinstance(out, Value)
        result: Value = cube(out) + (2.0 / (out * out + 1)) + 3.0 ** out.tanh() - (1 - out) / 4
        return result

    tape = Tape(loss, m.parameters(), codegen=codegen)
    m.layers[0].neurons[0].w[0].data += 0.1
    replayed = tape.run()
    grads = [p.grad for p in m.parameters()]
    m.zero_grad()
    fresh = loss()
    fresh.backward()
    assert replayed == fresh.data and grads == [p.grad for p in m.parameters()]


def test_run_adds_to_gradients_like_backward() -> None:
    w = Value(1.5)
    tape = Tape(lambda: w * w, [w])
    tape.run()
    tape.run()
    assert w.grad == 6.0


def test_recording_refuses_python_branching_on_a_parameters_data() -> None:
    w = Value(1.0)

    def branchy() -> Value:
        return w * 2.0 if w.data > 0 else w.exp()

    with pytest.raises(TapeMismatchError, match=r"\.data of a parameter at .*test_compiled\.py:\d+ "
                                                r"\(`return w \* 2\.0 if w\.data > 0 else w\.exp\(\)`\)"):
        Tape(branchy, [w])


def test_verify_refuses_python_branching_on_data_when_reads_are_allowed() -> None:
    w = Value(1.0)

    def branchy() -> Value:
        return w * 2.0 if w.data > 0 else w.exp()

    tape = Tape(branchy, [w], allow_data_reads=True)
    assert tape.verify()
    w.data = -1.0
    with pytest.raises(TapeMismatchError, match="op 0 of the tape changed"):
        tape.verify()


def test_verify_refuses_a_data_dependent_constant() -> None:
    a, b = Value(0.0), Value(1.0)

    def hand_written_log_sum_exp() -> Value:  # shifts by max(z.data): a constant read from the data
        m = max(a.data, b.data)
        return m + ((a - m).exp() + (b - m).exp()).log()

    with pytest.raises(TapeMismatchError, match=r"\.data of a parameter at .*test_compiled\.py:\d+"):
        Tape(hand_written_log_sum_exp, [a, b])
    tape = Tape(hand_written_log_sum_exp, [a, b], allow_data_reads=True)
    a.data = 5.0
    with pytest.raises(TapeMismatchError, match="depends on the data"):
        tape.verify()
    # the replayed value is still right: the shift cancels mathematically
    assert tape.run() == pytest.approx(5.0 + math.log(1 + math.exp(1.0 - 5.0)), rel=1e-12)


def test_cross_entropy_is_a_fixed_graph_that_tapes_record_and_verify() -> None:
    """The max shift lives inside the logsumexp op, so the graph is the same for any logits."""
    a, b = Value(0.0), Value(1.0)
    tape = Tape(lambda: cross_entropy([[a, b]], [0]), [a, b])
    for values in ([5.0, 1.0], [-1000.0, 1000.0], [3.0, 3.0]):
        a.data, b.data = values
        assert tape.verify()
        for p in (a, b):
            p.grad = 0.0
        replayed = tape.run()
        grads = [a.grad, b.grad]
        fresh = [Value(v) for v in values]
        out = cross_entropy([fresh], [0])
        out.backward()
        assert repr(replayed) == repr(out.data) and grads == [f.grad for f in fresh]


def test_bad_arguments() -> None:
    x = Value(1.0)
    with pytest.raises(TypeError, match=r"params\[0\] must be a leaf Value"):
        Tape(lambda: x * 2, [x * 3])
    with pytest.raises(TypeError, match="must return a Value or \\(Value, \\[Values\\]\\), got float"):
        Tape(lambda: 1.0, [x])  # type: ignore[arg-type,return-value]
    with pytest.raises(ValueError, match="watched value 0 is not part"):
        Tape(lambda: (x * 2, [Value(3.0)]), [x])


def test_nn_train_replays_with_the_same_numbers_as_building_graphs() -> None:
    from nn import train

    X, y = make_moons(30, noise=0.1, seed=2)
    a, b = MLP(2, [6, 1], seed=9), MLP(2, [6, 1], seed=9)
    plain = train(a, X, y, steps=6, compiled=False)
    taped = train(b, X, y, steps=6)
    assert taped.compiled and not plain.compiled
    # one sample's program summed over the batch: the same numbers up to the order of the sums
    assert taped.loss == pytest.approx(plain.loss, rel=1e-12) and taped.accuracy == plain.accuracy
    assert [p.data for p in a.parameters()] == pytest.approx([p.data for p in b.parameters()], rel=1e-12)


@pytest.mark.parametrize("batch_size", [None, 8])
def test_nn_train_compiles_cross_entropy_and_minibatches(batch_size: int | None) -> None:
    from nn import train
    from nn.data import make_blobs

    X, y = make_blobs(30, 3, seed=0)
    a, b = MLP(2, [4, 3], seed=1), MLP(2, [4, 3], seed=1)
    taped = train(a, X, y, loss="cross_entropy", steps=5, batch_size=batch_size, seed=3)
    plain = train(b, X, y, loss="cross_entropy", steps=5, batch_size=batch_size, seed=3, compiled=False)
    assert taped.path == "compiled" and plain.path == "graph"
    assert taped.loss == pytest.approx(plain.loss, rel=1e-12) and taped.accuracy == plain.accuracy
    assert [p.data for p in a.parameters()] == pytest.approx([p.data for p in b.parameters()], rel=1e-12)


class _Branchy(MLP):
    """A model whose graph depends on its input's data (a Python if on .data)."""

    def __call__(self, x: Any) -> Any:
        out = super().__call__(x)
        first = x[0].data if isinstance(x[0], Value) else x[0]
        return out if first > 0 else out * 2.0  # type: ignore[operator]


def test_nn_train_falls_back_when_the_graph_depends_on_the_data() -> None:
    from nn import train

    X, y = make_moons(20, noise=0.1, seed=0)
    X[0][0], X[1][0] = 0.5, -0.5  # the first two samples take different branches
    a, b = _Branchy(2, [4, 1], seed=1), _Branchy(2, [4, 1], seed=1)
    with pytest.warns(RuntimeWarning, match=r"compiled path cannot replay this model.*\.data of an input"):
        fallback = train(a, X, y, steps=4)
    plain = train(b, X, y, steps=4, compiled=False)
    assert fallback.path == "graph" and plain.fallback is None
    assert fallback.fallback is not None and "test_compiled.py" in fallback.fallback
    assert fallback.loss == plain.loss
    assert [p.data for p in a.parameters()] == [p.data for p in b.parameters()]
    c = _Branchy(2, [4, 1], seed=1)
    with pytest.warns(RuntimeWarning, match=r"vectorized path cannot replay this model.*\.data of an input"):
        vectorized = train(c, X, y, steps=4, vectorized=True)
    assert vectorized.path == "graph" and vectorized.loss == plain.loss



@NO_DEADLINE
@given(programs(min_inputs=3, max_inputs=4), st.lists(st.lists(st.floats(-2, 2), min_size=2, max_size=2),
                                                   min_size=1, max_size=5))
def test_sample_tape_runs_one_recording_over_every_row(
    case: tuple[list[float], list[Instruction]], rows: list[list[float]]
) -> None:
    """A per-sample program (some leaves parameters, two of them the sample's inputs): the
    generated loop and the interpreter agree bit for bit, and both equal the graphs rebuilt
    per row and summed, to rounding (the sums are associated differently)."""
    from autograd.replay.tape import SampleTape

    inputs, program = case
    params = [Value(x) for x in inputs[2:]]

    def per_sample(v: list[Value]) -> Value:
        return run_program(program, [*v, *params])

    results = []
    for codegen in (True, False):
        for p in params:
            p.grad = 0.0
        tape = SampleTape(per_sample, params, inputs[:2], codegen=codegen)
        tape.verified = True  # the same program whatever the row: nothing data-dependent here
        results.append((repr(tape.run(rows)), [repr(p.grad) for p in params]))
    assert results[0] == results[1]
    fresh = [Value(p.data) for p in params]
    total = sum((run_program(program, [Value(a), Value(b), *fresh]) for a, b in rows), Value(0.0))
    (total * (1.0 / len(rows))).backward()
    loss = float(results[0][0])
    assert loss == pytest.approx(total.data / len(rows), rel=1e-9, abs=1e-12, nan_ok=True)
    for got, p in zip(results[0][1], fresh):
        assert float(got) == pytest.approx(p.grad, rel=1e-9, abs=1e-12, nan_ok=True)


def test_big_models_keep_the_compiled_path_because_compile_time_is_one_samples() -> None:
    """MLP(2, [64, 64, 1]) on 100 points: the whole-batch tape had 1.3 million edges (over the
    auto-compile cap); the per-sample program has about 8,800 and compiles once."""
    from autograd.replay.tape import AUTO_CODEGEN_EDGES, SampleTape
    from nn import train

    X, y = make_moons(100, noise=0.1, seed=0)
    model = MLP(2, [64, 64, 1], seed=0)
    history = train(model, X, y, steps=2)
    assert history.path == "compiled"
    tape = SampleTape(lambda v: (1 + -v[2] * model(v[:2])).relu(),  # type: ignore[operator]
                      model.parameters(), [0.0, 0.0, 1.0])
    assert tape.program.edges < AUTO_CODEGEN_EDGES / 20 and tape.source is not None
