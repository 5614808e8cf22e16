"""Vectorised replay (autograd.vectorized.BatchTape): the scalar path's numbers for a whole batch at once."""

from __future__ import annotations

import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autograd import Value, define_op
from nn import MLP, hinge_loss
from nn.data import make_moons
from tests.strategies import NO_DEADLINE, Instruction, programs, run_program

np = pytest.importorskip("numpy")
from autograd.vectorized import BatchTape  # noqa: E402


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

    batch = [[*row] for row in rows]
    expected_loss, expected_grads = _scalar_reference(per_sample, params, batch)
    tape = BatchTape(per_sample, params, example=batch[0])
    loss = tape.run(batch)
    assert _close(loss, expected_loss), (loss, expected_loss)
    assert all(_close(p.grad, g) for p, g in zip(params, expected_grads)), ([p.grad for p in params], expected_grads)


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


def test_bad_batches_are_refused() -> None:
    w = Value(1.0)
    tape = BatchTape(lambda v: v[0] * w, [w], example=[1.0])
    with pytest.raises(ValueError, match=r"rows with 1 inputs, got shape \(2, 2\)"):
        tape.run([[1.0, 2.0], [3.0, 4.0]])
    with pytest.raises(ValueError, match="rows with 1 inputs"):
        tape.run([])


def test_missing_numpy_is_a_clear_import_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "numpy", None)
    with pytest.raises(ImportError, match=r'pip install "valuegrad\[fast\]"'):
        BatchTape(lambda v: v[0] * 2.0, [], example=[1.0])
