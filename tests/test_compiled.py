"""Compiled replay (autograd.compiled.Tape): bit-for-bit equal to rebuilding the graph, and refusals."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from autograd import Value, define_op
from autograd.compiled import Tape, TapeMismatchError
from nn import MLP, cross_entropy, hinge_loss
from nn.data import make_moons
from tests.strategies import NO_DEADLINE, Instruction, programs, run_program


@NO_DEADLINE
@given(programs(), st.lists(st.floats(-2, 2), min_size=4, max_size=4))
def test_replay_matches_the_graph_bit_for_bit_on_random_programs(
    case: tuple[list[float], list[Instruction]], new_values: list[float]
) -> None:
    inputs, program = case
    params = [Value(x) for x in inputs]
    tape = Tape(lambda: run_program(program, params), params)
    for p, v in zip(params, new_values):  # replay at other parameter values
        p.data = v
    replayed = tape.run()
    replay_grads = [p.grad for p in params]
    fresh = [Value(p.data) for p in params]
    out = run_program(program, fresh)
    out.backward()
    assert repr(replayed) == repr(out.data)
    assert [repr(g) for g in replay_grads] == [repr(f.grad) for f in fresh]


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


def test_unfused_models_and_user_ops_replay_too() -> None:
    cube = define_op("tape_cube", lambda x: x**3, lambda x: (3 * x * x,))
    m = MLP(2, [3, 1], activation="leaky_relu", seed=0, fused=False)

    def loss() -> Value:
        out = m([0.5, -1.5])
        assert isinstance(out, Value)
        result: Value = cube(out) + (2.0 / (out * out + 1)) + 3.0 ** out.tanh() - (1 - out) / 4
        return result

    tape = Tape(loss, m.parameters())
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


def test_verify_refuses_python_branching_on_data() -> None:
    w = Value(1.0)

    def branchy() -> Value:
        return w * 2.0 if w.data > 0 else w.exp()

    tape = Tape(branchy, [w])
    assert tape.verify()
    w.data = -1.0
    with pytest.raises(TapeMismatchError, match="op 0 of the tape changed"):
        tape.verify()


def test_verify_refuses_a_data_dependent_constant() -> None:
    a, b = Value(0.0), Value(1.0)
    tape = Tape(lambda: cross_entropy([[a, b]], [0]), [a, b])  # log-sum-exp shifts by max(z.data)
    a.data = 5.0
    with pytest.raises(TapeMismatchError, match="depends on the data"):
        tape.verify()
    # the replayed value is still right: the shift cancels mathematically
    assert tape.run() == pytest.approx(math.log(1 + math.exp(1.0 - 5.0)), rel=1e-12)


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
    assert taped.loss == plain.loss and taped.accuracy == plain.accuracy
    assert [p.data for p in a.parameters()] == [p.data for p in b.parameters()]


def test_nn_train_falls_back_when_the_graph_depends_on_the_data() -> None:
    from nn import train
    from nn.data import make_blobs

    X, y = make_blobs(30, 3, seed=0)
    a, b = MLP(2, [4, 3], seed=1), MLP(2, [4, 3], seed=1)
    fallback = train(a, X, y, loss="cross_entropy", steps=4)
    plain = train(b, X, y, loss="cross_entropy", steps=4, compiled=False)
    assert not fallback.compiled
    assert fallback.loss == plain.loss
    assert [p.data for p in a.parameters()] == [p.data for p in b.parameters()]

