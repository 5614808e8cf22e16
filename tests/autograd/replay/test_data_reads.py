"""Replays refuse programs that read their numbers in Python, and ops redefined after recording.

A replay reruns recorded ops; Python's ``if v.data > 5:`` around them would be frozen the way the
recording went. These tests are the specification of ``autograd.replay.reads`` and of how every replay
path (``Tape``, ``SampleTape``, ``BatchTape``, ``nn.train``) uses it.
"""

from __future__ import annotations

import pickle
import subprocess
import sys
import threading
import warnings
from collections.abc import Callable
from typing import Any

import pytest

from autograd import Tape, TapeMismatchError, Value, define_op
from autograd.replay.batch import BatchTape
from autograd.replay.reads import watch_reads
from autograd.replay.tape import SampleTape
from nn import MLP, train
from nn.data import make_moons

W = 1.0


def _branch_on_input(w: Value) -> Callable[[list[Value]], Value]:
    def per_sample(v: list[Value]) -> Value:
        if v[0].data > 5:
            return (w * v[0]) ** 2
        return w * v[0]

    return per_sample


def _graph_mean(w0: float, rows: list[list[float]]) -> tuple[float, float]:
    """The mean loss and its gradient, built as graphs (the truth)."""
    w = Value(w0)
    per_sample = _branch_on_input(w)
    total = sum((per_sample([Value(x) for x in row]) for row in rows), Value(0.0)) * (1.0 / len(rows))
    total.backward()
    return total.data, w.grad


def test_the_issues_branch_program_is_refused_by_every_tape() -> None:
    """The example (1) and the sample checked against it (0) take the same branch; 10 takes the
    other. Before, every fast path gave loss 3.67 and grad 3.67 where the graph gives 33.67 and 67."""
    rows = [[1.0], [0.0], [10.0]]
    loss, grad = _graph_mean(W, rows)
    assert (round(loss, 2), round(grad, 2)) == (33.67, 67.0)
    for make in (lambda f, w: SampleTape(f, [w], rows[0]), lambda f, w: BatchTape(f, [w], example=rows[0]),
                 lambda f, w: SampleTape(f, [w], rows[0], codegen=False)):
        w = Value(W)
        with pytest.raises(TapeMismatchError, match=r"per-sample function reads a number of the graph in Python: "
                                                    r"\.data of an input at .*test_data_reads\.py:\d+ "
                                                    r"\(`if v\[0\]\.data > 5:`\)"):
            make(_branch_on_input(w), w)


@pytest.mark.parametrize("read", ["data", "bool", "gt", "lt_reflected", "le_value", "detach", "ge"])
def test_every_kind_of_read_of_every_kind_of_value_is_a_data_read(read: str) -> None:
    w = Value(0.5)

    def fn() -> Value:
        h = w * 3.0
        if read == "data":
            c = h.data  # a recorded node
        elif read == "bool":
            c = 1.0 if w else 0.0  # a parameter
        elif read == "gt":
            c = 1.0 if h > 1 else 2.0
        elif read == "lt_reflected":
            c = 1.0 if 1 < h else 2.0  # noqa: SIM300 (the reflected comparison is the point)
        elif read == "le_value":
            c = 1.0 if w <= h else 2.0
        elif read == "ge":
            c = 1.0 if h >= w else 2.0
        else:
            return h * w.detach()
        return h * c

    how = {"data": r"\.data of a recorded node", "bool": r"bool\(\) of a parameter",
           "gt": "a comparison of a recorded node", "lt_reflected": "a comparison of a recorded node",
           "le_value": "a comparison of a parameter", "ge": "a comparison of a parameter",  # w is read first
           "detach": r"detach\(\) of a parameter"}[read]
    with pytest.raises(TapeMismatchError, match=how + r" at .*test_data_reads\.py:\d+"):
        Tape(fn, [w])


def test_reads_that_only_log_can_be_declared_harmless_and_replay_the_same_numbers() -> None:
    w = Value(1.5)
    seen: list[float] = []

    def fn() -> Value:
        loss = (w * w).tanh()
        seen.append(loss.data)  # logging only
        return loss

    with pytest.raises(TapeMismatchError, match=r"seen\.append\(loss\.data\)"):
        Tape(fn, [w])
    tape = Tape(fn, [w], allow_data_reads=True)
    assert tape.run() == seen[-1]
    w.data = -0.25
    w.grad = 0.0
    replayed = tape.run()
    fresh = Value(-0.25)
    graph = (fresh * fresh).tanh()
    graph.backward()
    assert (replayed, w.grad) == (graph.data, fresh.grad)


def test_the_engine_reading_numbers_is_not_a_data_read() -> None:
    """Ops, repr, explain and printing read numbers inside the engine: the recording itself."""
    w = Value(0.3, label="w")

    def fn() -> Value:
        out = (w * w + w.exp()).sigmoid().log()
        repr(out)
        out.explain()
        return out

    assert Tape(fn, [w]).run() == fn().data


def test_reads_outside_the_recorded_function_are_not_data_reads() -> None:
    w = Value(0.7)
    tape = Tape(lambda: (w * 2.0).tanh(), [w])
    for _ in range(3):
        w.grad = 0.0
        tape.run()
        if w.data > 0:  # an optimizer's or a progress bar's reads, between replays
            w.data -= 0.1 * w.grad
    assert tape.verify()


def test_reads_by_another_thread_during_a_recording_are_not_the_recordings() -> None:
    other = Value(4.0)
    started, done = threading.Event(), threading.Event()
    total: list[float] = []

    def reader() -> None:
        started.wait()
        total.append(sum(other.data for _ in range(1000)))
        done.set()

    thread = threading.Thread(target=reader)
    thread.start()
    w = Value(1.0)

    def fn() -> Value:
        started.set()
        done.wait(timeout=30)
        return w * w

    Tape(fn, [w])
    thread.join()
    assert total == [4000.0]


def test_value_data_is_the_plain_slot_again_after_a_recording_even_one_that_raised() -> None:
    w = Value(1.0)

    def broken() -> Value:
        raise RuntimeError("user error")

    with pytest.raises(RuntimeError, match="user error"):
        Tape(broken, [w])
    with pytest.raises(TapeMismatchError):
        Tape(lambda: w * w.data, [w])
    assert type(Value.__dict__["data"]).__name__ == "member_descriptor"
    with watch_reads():
        assert type(Value.__dict__["data"]).__name__ != "member_descriptor"
        with watch_reads():
            pass
        assert type(Value.__dict__["data"]).__name__ != "member_descriptor"  # the outer one is still open
    assert type(Value.__dict__["data"]).__name__ == "member_descriptor"


def test_a_read_inside_a_nested_recording_refuses_the_outer_one_too() -> None:
    w = Value(1.0)
    with watch_reads([w]) as outer, watch_reads([w]) as inner:
        _ = w.data
    assert outer.count == inner.count == 1


class _Branchy(MLP):
    """Doubles its score for samples whose first feature is above 1: a Python if on .data."""

    def __call__(self, x: Any) -> Any:
        out: Any = super().__call__(x)
        first = x[0].data if isinstance(x[0], Value) else x[0]
        return out * 2.0 if first > 1.0 else out


@pytest.mark.parametrize("vectorized", [False, True])
def test_nn_train_falls_back_even_when_only_a_later_batch_takes_the_other_branch(vectorized: bool) -> None:
    """The first two samples take the same branch, so comparing them shows nothing; only later
    minibatches hold samples with x > 1. Before, the replay trained another model silently."""
    X, y = make_moons(40, noise=0.1, seed=3)
    X[0][0], X[1][0] = -0.5, 0.25
    assert any(x[0] > 1.0 for x in X[2:])
    graph = _Branchy(2, [4, 1], seed=2)
    expected = train(graph, X, y, steps=6, batch_size=8, seed=0, compiled=False)
    model = _Branchy(2, [4, 1], seed=2)
    with pytest.warns(RuntimeWarning, match=r"cannot replay this model, so training builds graphs: .*\.data of an "
                                            r"input at .*test_data_reads\.py"):
        history = train(model, X, y, steps=6, batch_size=8, seed=0, vectorized=vectorized)
    assert history.path == "graph" and history.fallback is not None
    assert history.loss == expected.loss
    assert model.state_dict() == graph.state_dict()


def test_nn_train_keeps_its_replay_for_an_ordinary_model_and_says_nothing() -> None:
    X, y = make_moons(30, noise=0.1, seed=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        compiled = train(MLP(2, [8, 1], seed=0), X, y, steps=3)
        vectorized = train(MLP(2, [8, 2], seed=0), X, y, steps=3, loss="cross_entropy", vectorized=True)
    assert (compiled.path, compiled.fallback) == ("compiled", None)
    assert (vectorized.path, vectorized.fallback) == ("vectorized", None)


# --- ops redefined after a recording -------------------------------------------------------------


def _define_sq(power: int) -> Callable[..., Any]:
    if power == 2:
        return define_op("test_reads_sq", lambda x: x * x, lambda x: (2 * x,))
    return define_op("test_reads_sq", lambda x: x * x * x, lambda x: (3 * x * x,))


def test_a_tape_whose_op_was_redefined_fails_verify_and_refuses_to_replay() -> None:
    sq = _define_sq(2)
    w = Value(3.0)
    tape = Tape(lambda: sq(w) + w, [w])
    assert tape.run() == 12.0 and tape.verify()
    _define_sq(3)
    with pytest.raises(TapeMismatchError, match="op 'test_reads_sq' was redefined"):
        tape.verify()
    with pytest.raises(TapeMismatchError, match="op 'test_reads_sq' was redefined"):
        tape.run()
    assert w.grad == 7.0  # the first run only


@pytest.mark.parametrize("make", [SampleTape, BatchTape])
def test_per_sample_tapes_refuse_to_replay_a_redefined_op(make: Any) -> None:
    sq = _define_sq(2)
    w = Value(0.5)
    tape = make(lambda v: sq(v[0] * w), [w], [1.0])
    assert tape.run([[1.0], [2.0]]) == pytest.approx((0.25 + 1.0) / 2, rel=1e-12)
    _define_sq(3)
    with pytest.raises(TapeMismatchError, match="op 'test_reads_sq' was redefined"):
        tape.run([[1.0], [2.0]])


def test_a_pickled_graph_whose_op_was_redefined_refuses_to_load() -> None:
    sq = _define_sq(2)
    blob = pickle.dumps(sq(Value(3.0)) * 2.0)
    assert pickle.loads(blob).data == 18.0
    _define_sq(2)  # defined again the same way: the same op
    assert pickle.loads(blob).parents[0].local_grads == (6.0,)
    _define_sq(3)
    with pytest.raises(ValueError, match="op 'test_reads_sq' was defined differently when this graph was pickled"):
        pickle.loads(blob)


def test_the_same_op_source_loads_a_pickle_in_another_process() -> None:
    source = ("from autograd import Value, define_op\n"
              "cube = define_op('cube_t', lambda x: x ** 3, lambda x: (3 * x ** 2,))\n")
    blob = pickle.dumps(None)
    made = subprocess.run([sys.executable, "-c", source + "import pickle, sys\n"
                           "sys.stdout.buffer.write(pickle.dumps(cube(Value(2.0))))"],
                          capture_output=True, check=True).stdout
    assert blob != made
    loaded = subprocess.run([sys.executable, "-c", source + "import pickle, sys\n"
                             "v = pickle.loads(sys.stdin.buffer.read()); print(v.data, v.local_grads)"],
                            input=made, capture_output=True, check=True).stdout.decode()
    assert loaded.split() == ["8.0", "(12.0,)"]
    other = source.replace("x ** 3", "x ** 3 + 1")
    load = "import pickle, sys\npickle.loads(sys.stdin.buffer.read())"
    refused = subprocess.run([sys.executable, "-c", other + load], input=made, capture_output=True)
    assert refused.returncode != 0 and b"defined differently" in refused.stderr
