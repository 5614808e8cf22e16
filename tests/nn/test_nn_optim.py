"""Optimizers: hand-computed first steps, schedules, state dicts, and PyTorch trajectories when installed."""

from __future__ import annotations

import math
import random
from typing import Any

import pytest

from autograd import Value
from nn import SGD, Adam, AdamW


def _param(data: float, grad: float) -> Value:
    p = Value(data)
    p.grad = grad
    return p


def test_sgd_plain_step() -> None:
    p = _param(1.0, 0.5)
    SGD([p], lr=0.1).step()
    assert p.data == 1.0 - 0.1 * 0.5


def test_sgd_momentum_weight_decay_and_nesterov_by_hand() -> None:
    p = _param(1.0, 0.5)
    opt = SGD([p], lr=0.1, momentum=0.9, weight_decay=0.01)
    opt.step()  # g = 0.5 + 0.01; buf = g
    g1 = 0.5 + 0.01 * 1.0
    assert p.data == pytest.approx(1.0 - 0.1 * g1, rel=1e-15)
    x1 = p.data
    p.grad = 0.5
    opt.step()  # buf = 0.9 * buf + g
    g2 = 0.5 + 0.01 * x1
    assert p.data == pytest.approx(x1 - 0.1 * (0.9 * g1 + g2), rel=1e-15)

    q = _param(1.0, 0.5)
    SGD([q], lr=0.1, momentum=0.9, nesterov=True).step()  # g + 0.9 * buf with buf = g
    assert q.data == pytest.approx(1.0 - 0.1 * (0.5 + 0.9 * 0.5), rel=1e-15)


def test_adam_first_step_moves_by_lr_times_sign() -> None:
    p = _param(1.0, 0.3)
    Adam([p], lr=0.01).step()
    # bias-corrected m/sqrt(v) = g/|g| on the first step
    assert p.data == pytest.approx(1.0 - 0.01 * 0.3 / (0.3 + 1e-8), rel=1e-12)


def test_adamw_decays_the_weight_before_the_adam_step() -> None:
    p = _param(2.0, 0.0)
    AdamW([p], lr=0.1, weight_decay=0.5).step()
    assert p.data == pytest.approx(2.0 * (1 - 0.1 * 0.5), rel=1e-15)  # zero gradient: only the decay
    q = _param(2.0, 0.0)
    Adam([q], lr=0.1, weight_decay=0.5).step()  # L2 is added to the gradient instead
    assert q.data == pytest.approx(2.0 - 0.1 * 1.0 / (1.0 + 1e-8), rel=1e-12)


def test_callable_learning_rate_gets_the_step_number() -> None:
    seen: list[int] = []

    def schedule(k: int) -> float:
        seen.append(k)
        return 1.0 - 0.9 * k / 100

    p = _param(0.0, 1.0)
    opt = SGD([p], lr=schedule)
    for _ in range(3):
        opt.step()
    assert seen == [0, 1, 2]
    assert p.data == pytest.approx(-(1.0 + 0.991 + 0.982), rel=1e-15)


def test_zero_grad_and_bad_arguments() -> None:
    p = _param(1.0, 3.0)
    opt = SGD([p], lr=0.1)
    opt.zero_grad()
    assert p.grad == 0.0
    with pytest.raises(ValueError, match="empty parameter list"):
        SGD([], lr=0.1)
    with pytest.raises(TypeError, match="parameter 0 must be a Value, got float"):
        SGD([1.0], lr=0.1)  # type: ignore[list-item]
    with pytest.raises(ValueError, match="lr must be a finite number"):
        SGD([p], lr=-1.0)
    with pytest.raises(ValueError, match="nesterov momentum needs momentum > 0"):
        SGD([p], lr=0.1, nesterov=True)
    with pytest.raises(ValueError, match="betas"):
        Adam([p], betas=(0.9, 1.0))


def test_state_dict_round_trip_continues_the_same_trajectory() -> None:
    def run(steps: int, resume_at: int | None) -> float:
        p = _param(1.0, 0.0)
        opt: Any = Adam([p], lr=0.05)
        for k in range(steps):
            if k == resume_at:
                state = opt.state_dict()
                opt = Adam([p], lr=0.05)
                opt.load_state_dict(state)
            p.grad = 2 * p.data - 0.3
            opt.step()
        return p.data

    assert run(10, resume_at=None) == run(10, resume_at=5)


def test_load_state_dict_refuses_a_mismatch_and_changes_nothing() -> None:
    p = _param(1.0, 0.5)
    opt = SGD([p], lr=0.1, momentum=0.9)
    opt.step()
    before = opt.state_dict()
    with pytest.raises(ValueError, match="state is for 'Adam', not 'SGD'"):
        opt.load_state_dict(Adam([p]).state_dict())
    broken = dict(before, state={"momentum_buffer": [1.0, 2.0]})
    with pytest.raises(ValueError, match="must be a list of 1 floats"):
        opt.load_state_dict(broken)
    assert opt.state_dict() == before


OPTIMIZERS = [
    ("SGD", {"lr": 0.05}),
    ("SGD", {"lr": 0.05, "momentum": 0.9, "weight_decay": 0.01}),
    ("SGD", {"lr": 0.05, "momentum": 0.8, "nesterov": True}),
    ("Adam", {"lr": 0.02}),
    ("Adam", {"lr": 0.02, "weight_decay": 0.1, "betas": (0.8, 0.99)}),
    ("AdamW", {"lr": 0.02}),
    ("AdamW", {"lr": 0.02, "weight_decay": 0.3, "eps": 1e-6}),
]


@pytest.mark.parametrize(("name", "kwargs"), OPTIMIZERS)
def test_trajectory_matches_torch_optim_over_many_steps(name: str, kwargs: dict[str, Any]) -> None:
    torch = pytest.importorskip("torch")
    rng = random.Random(0)
    init = [rng.uniform(-1, 1) for _ in range(6)]
    ours = [Value(x) for x in init]
    theirs = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in init]
    opt = {"SGD": SGD, "Adam": Adam, "AdamW": AdamW}[name](ours, **kwargs)
    topt = getattr(torch.optim, name)(theirs, **kwargs)
    for _ in range(300):
        for p in ours:
            p.grad = 0.0
        loss = sum(((p - 0.3 * i) * (p - 0.3 * i) * (1 + 0.1 * i) + (p * 3.0).tanh() for i, p in enumerate(ours)),
                   Value(0.0))
        loss.backward()
        opt.step()
        topt.zero_grad()
        tloss = sum((p - 0.3 * i) * (p - 0.3 * i) * (1 + 0.1 * i) + (p * 3.0).tanh() for i, p in enumerate(theirs))
        tloss.backward()
        topt.step()
    for a, b in zip(ours, theirs):
        assert math.isclose(a.data, b.item(), rel_tol=1e-8, abs_tol=1e-10)


@pytest.mark.parametrize("make", [
    lambda ps: Adam(ps, lr=0.01),
    lambda ps: Adam(ps, lr=0.05, weight_decay=0.01),
    lambda ps: AdamW(ps, lr=0.05, weight_decay=0.1),
])
def test_the_array_update_of_many_parameters_is_the_loop_bit_for_bit(
    make: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """From ARRAY_STEP_MIN_PARAMS on, Adam updates with NumPy: the same floats as the Python loop."""
    import random as rnd

    import nn.optim

    rng = rnd.Random(0)
    start = [rng.uniform(-1, 1) for _ in range(nn.optim.ARRAY_STEP_MIN_PARAMS + 7)]
    grads = [[rng.gauss(0, 1) for _ in start] for _ in range(5)]
    results = []
    for minimum in (10**9, nn.optim.ARRAY_STEP_MIN_PARAMS):  # the loop, then arrays
        monkeypatch.setattr(nn.optim, "ARRAY_STEP_MIN_PARAMS", minimum)
        ps = [Value(x) for x in start]
        opt = make(ps)
        for g in grads:
            for p, gi in zip(ps, g):
                p.grad = gi
            opt.step()
        results.append(([repr(p.data) for p in ps], opt.state_dict()))
    assert results[0] == results[1]


@pytest.mark.parametrize("make", [
    lambda ps: SGD(ps, lr=0.1),
    lambda ps: SGD(ps, lr=0.1, momentum=0.9, weight_decay=0.01),
    lambda ps: SGD(ps, lr=0.1, momentum=0.9, nesterov=True),
    lambda ps: Adam(ps, lr=0.01, weight_decay=0.01),
    lambda ps: AdamW(ps, lr=0.01),
])
def test_step_arrays_gives_the_floats_of_step(make: Any) -> None:
    """The array form (what vectorised training uses) and the per-Value loop, step by step."""
    import numpy as np

    rng = random.Random(1)
    start = [rng.uniform(-1, 1) for _ in range(9)]
    grads = [[rng.gauss(0, 1) for _ in start] for _ in range(4)]
    ps = [Value(x) for x in start]
    loop = make(ps)
    arrays = make([Value(x) for x in start])
    data = np.array(start)
    for g in grads:
        for p, gi in zip(ps, g):
            p.grad = gi
        loop.step()
        data = arrays.step_arrays(np, data, np.array(g))
        assert [repr(p.data) for p in ps] == [repr(d) for d in data.tolist()]
    assert arrays.state_dict() == loop.state_dict()


@pytest.mark.parametrize("make", [
    lambda ps: SGD(ps, lr=0.1, momentum=0.9, weight_decay=0.01),
    lambda ps: Adam(ps, lr=0.01, weight_decay=0.01),
    lambda ps: AdamW(ps, lr=0.01),
])
def test_array_steps_mixed_with_loop_steps_and_saved_state_give_the_floats_of_loop_steps(make: Any) -> None:
    """Array steps keep the buffers as arrays; a loop step, state_dict() and load_state_dict()
    in between still see (and give) exactly the loop's floats."""
    import numpy as np

    rng = random.Random(2)
    start = [rng.uniform(-1, 1) for _ in range(7)]
    grads = [[rng.gauss(0, 1) for _ in start] for _ in range(6)]
    ps = [Value(x) for x in start]
    loop = make(ps)
    qs = [Value(x) for x in start]
    mixed = make(qs)
    for k, g in enumerate(grads):
        for p, q, gi in zip(ps, qs, g):
            p.grad = q.grad = gi
        loop.step()
        if k in (0, 1, 4):
            data = mixed.step_arrays(np, np.array([q.data for q in qs]), np.array(g))
            for q, d in zip(qs, data.tolist()):
                q.data = d
        else:
            mixed.step()
        if k == 2:  # save and restore the array-held state through JSON-ready lists
            state = mixed.state_dict()
            assert all(type(x) is float for buf in state["state"].values() for x in buf)
            mixed = make(qs)
            mixed.load_state_dict(state)
        assert [repr(q.data) for q in qs] == [repr(p.data) for p in ps]
    assert mixed.state_dict() == loop.state_dict()


def test_sgd_array_step_hands_a_half_started_momentum_state_back_to_the_loop() -> None:
    """A loaded state whose momentum buffer is set for some parameters only (None elsewhere) has
    no array form: step_arrays returns None and changes nothing; the loop step then applies it."""
    import numpy as np

    ps = [Value(1.0), Value(2.0), Value(3.0)]
    opt = SGD(ps, lr=0.1, momentum=0.9)
    state = opt.state_dict()
    state["state"]["momentum_buffer"] = [None, 0.5, None]
    opt.load_state_dict(state)
    assert opt.step_arrays(np, np.array([1.0, 2.0, 3.0]), np.array([1.0, 1.0, 1.0])) is None
    assert opt.steps == 0 and opt.state_dict()["state"]["momentum_buffer"] == [None, 0.5, None]
    for p in ps:
        p.grad = 1.0
    opt.step()
    assert [p.data for p in ps] == [1.0 + -0.1 * 1.0, 2.0 + -0.1 * (0.5 * 0.9 + 1.0), 3.0 + -0.1 * 1.0]
    data = opt.step_arrays(np, np.array([p.data for p in ps]), np.array([1.0, 1.0, 1.0]))  # all started now
    assert data is not None and opt.steps == 2


_EVERY_CONFIGURATION = [
    lambda ps: SGD(ps, lr=0.1),
    lambda ps: SGD(ps, lr=0.1, momentum=0.9, weight_decay=0.01),
    lambda ps: SGD(ps, lr=lambda k: 0.1 / (k + 1), momentum=0.9, nesterov=True),
    lambda ps: Adam(ps, lr=0.01),
    lambda ps: Adam(ps, lr=0.01, weight_decay=0.01),
    lambda ps: AdamW(ps, lr=0.01, weight_decay=0.1),
]


@pytest.mark.parametrize("make", _EVERY_CONFIGURATION)
def test_loop_and_array_steps_alternating_give_the_floats_of_loop_steps(
    make: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every other step through arrays, the others one parameter at a time (ARRAY_STEP_MIN_PARAMS
    out of reach): each step's values and state are the loop's, repr for repr."""
    import numpy as np

    import nn.optim

    monkeypatch.setattr(nn.optim, "ARRAY_STEP_MIN_PARAMS", 10**9)
    rng = random.Random(3)
    start = [rng.uniform(-1, 1) for _ in range(11)]
    ps = [Value(x) for x in start]
    qs = [Value(x) for x in start]
    loop, mixed = make(ps), make(qs)
    for k in range(8):
        g = [rng.gauss(0, 1) for _ in start]
        for p, q, gi in zip(ps, qs, g):
            p.grad = q.grad = gi
        loop.step()
        if k % 2:
            data = mixed.step_arrays(np, np.array([q.data for q in qs]), np.array(g))
            for q, d in zip(qs, data.tolist()):
                q.data = d
        else:
            mixed.step()
        assert [repr(q.data) for q in qs] == [repr(p.data) for p in ps], f"step {k}"
        assert repr(mixed.state_dict()) == repr(loop.state_dict()), f"step {k}"


@pytest.mark.parametrize("make", _EVERY_CONFIGURATION)
def test_loop_and_array_steps_read_and_write_the_same_buffers(make: Any) -> None:
    """One representation of the state: neither kind of step replaces a buffer with another kind
    of container (nothing is converted, so nothing can be lost converting)."""
    import numpy as np

    ps = [Value(x) for x in (0.5, -0.25, 2.0)]
    opt = make(ps)
    buffers = {name: getattr(opt, "_" + name) for name in opt._buffers}
    for p in ps:
        p.grad = 0.5
    for _ in range(2):
        opt.step_arrays(np, np.array([p.data for p in ps]), np.array([p.grad for p in ps]))
        opt.step()
    for name, buffer in buffers.items():
        assert getattr(opt, "_" + name) is buffer, name


def test_step_of_many_parameters_hands_a_half_started_momentum_state_to_the_loop(
    monkeypatch: pytest.MonkeyPatch
) -> None:
    """From ARRAY_STEP_MIN_PARAMS on, step() goes through step_arrays; a state it cannot take
    (momentum set for some parameters only) is stepped by the loop, with the loop's floats."""
    import nn.optim

    results = []
    for minimum in (10**9, 2):
        monkeypatch.setattr(nn.optim, "ARRAY_STEP_MIN_PARAMS", minimum)
        ps = [Value(x) for x in (1.0, 2.0, 3.0)]
        opt = SGD(ps, lr=0.1, momentum=0.9)
        state = opt.state_dict()
        state["state"]["momentum_buffer"] = [None, 0.5, None]
        opt.load_state_dict(state)
        for _ in range(3):
            for p in ps:
                p.grad = 0.25
            opt.step()
        results.append(([repr(p.data) for p in ps], opt.state_dict()))
    assert results[0] == results[1]
