"""Modes are per thread, like PyTorch's: a switch in one thread changes nothing in another."""

from __future__ import annotations

import threading
from collections.abc import Callable, Generator

import pytest

from autograd import Value, detect_anomaly, enable_grad, is_grad_enabled, no_grad, set_grad_enabled, trace_origins
from autograd.modes import MODE


def _in_thread(fn: Callable[[], object]) -> object:
    result: list[object] = []
    t = threading.Thread(target=lambda: result.append(fn()))
    t.start()
    t.join(timeout=30)
    assert not t.is_alive()
    return result[0]


def _grad_of_square() -> float:
    x = Value(2.0)
    (x * x).backward()
    return x.grad


def test_no_grad_in_one_thread_does_not_touch_graphs_built_in_another() -> None:
    inside = threading.Event()
    done = threading.Event()

    def holder() -> None:
        with no_grad():
            inside.set()
            done.wait(timeout=30)

    t = threading.Thread(target=holder)
    t.start()
    assert inside.wait(timeout=30)
    try:
        assert not MODE.plain  # some thread has a switch on: nodes take the careful path
        assert is_grad_enabled() and _grad_of_square() == 4.0
        assert _in_thread(_grad_of_square) == 4.0
        assert _in_thread(lambda: (Value(1.0) * 2.0).parents != ())
    finally:
        done.set()
        t.join(timeout=30)
    assert MODE.plain


def test_interleaved_blocks_in_two_threads_restore_each_threads_own_setting() -> None:
    """A enters, B enters, A leaves, B leaves: afterwards gradients are on everywhere."""
    a_in, b_in, a_out = threading.Event(), threading.Event(), threading.Event()
    seen: dict[str, bool] = {}

    def a() -> None:
        with no_grad():
            a_in.set()
            b_in.wait(timeout=30)
        a_out.set()
        seen["a after"] = is_grad_enabled()

    def b() -> None:
        a_in.wait(timeout=30)
        with no_grad():
            b_in.set()
            a_out.wait(timeout=30)
            seen["b inside, after a left"] = is_grad_enabled()
        seen["b after"] = is_grad_enabled()

    threads = [threading.Thread(target=a), threading.Thread(target=b)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert seen == {"a after": True, "b inside, after a left": False, "b after": True}
    assert MODE.plain and _grad_of_square() == 4.0


def test_a_new_thread_starts_with_the_defaults() -> None:
    with no_grad(), detect_anomaly(), trace_origins():
        state = _in_thread(lambda: (is_grad_enabled(), MODE.anomaly, MODE.origins, Value(1.0).origin))
    assert state == (True, False, False, None)


def test_decorators_work_on_generator_functions() -> None:
    @no_grad()
    def values() -> Generator[tuple[bool, tuple[Value, ...]], None, None]:
        x = Value(1.0)
        for _ in range(2):
            yield is_grad_enabled(), (x * 2.0).parents

    seen = list(values())
    assert [(flag, len(parents)) for flag, parents in seen] == [(False, 0), (False, 0)]
    assert is_grad_enabled()  # and between the yields, the caller's setting holds
    gen = values()
    next(gen)
    assert is_grad_enabled()
    gen.close()


def test_generator_decorator_forwards_send_throw_and_return_value() -> None:
    @no_grad
    def echo() -> Generator[object, object, str]:
        got = yield "ready"
        try:
            yield (got, is_grad_enabled())
        except ValueError as e:
            yield f"caught {e} with grad {is_grad_enabled()}"
        return "done"

    gen = echo()
    assert next(gen) == "ready"
    assert gen.send(5) == (5, False)
    assert gen.throw(ValueError("boom")) == "caught boom with grad False"
    with pytest.raises(StopIteration) as stop:
        next(gen)
    assert stop.value.value == "done"


def test_enable_grad_inside_no_grad_and_set_grad_enabled() -> None:
    x = Value(3.0)
    with no_grad():
        assert not (x * x).parents
        with enable_grad():
            assert (x * x).parents == (x, x)
        assert not is_grad_enabled()
    with set_grad_enabled(False):
        assert not is_grad_enabled()
    assert is_grad_enabled()
    set_grad_enabled(False)  # as a function: from here on, in this thread
    try:
        assert not is_grad_enabled() and _in_thread(is_grad_enabled) is True
    finally:
        set_grad_enabled(True)
    assert MODE.plain

    @set_grad_enabled(False)
    def frozen() -> bool:
        return is_grad_enabled()

    assert is_grad_enabled() and frozen() is False and is_grad_enabled()

    @enable_grad()
    def recording() -> bool:
        return is_grad_enabled()

    with no_grad():
        assert recording() is True and not is_grad_enabled()
    with pytest.raises(TypeError, match="takes True or False, got int"):
        set_grad_enabled(1)  # type: ignore[arg-type]


def test_many_threads_building_graphs_while_others_switch_modes() -> None:
    """Threads x iterations: every graph built with gradients on gets its full gradient."""
    errors: list[str] = []

    def builder() -> None:
        for _ in range(200):
            if _grad_of_square() != 4.0:
                errors.append("lost a gradient")

    def switcher() -> None:
        for _ in range(200):
            with no_grad():
                if (Value(1.0) * 2.0).parents:
                    errors.append("recorded under no_grad")

    threads = [threading.Thread(target=builder) for _ in range(4)]
    threads += [threading.Thread(target=switcher) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == [] and MODE.plain
