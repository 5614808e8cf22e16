"""Long runs stay flat: nothing outlives a training round but what reference counting frees.

The full soak (20,000 steps per path) is ``python -m benchmarks.soak``; here a few rounds per
path, with the cyclic garbage collector off, so that anything kept alive by a reference cycle
(a generated kernel and its globals, a tape and its finalizer, a graph) would show as growth.
"""

from __future__ import annotations

import gc
import tracemalloc

import pytest

from autograd import Value
from benchmarks.soak import soak, tapes_in_linecache


@pytest.mark.parametrize("path", ["graph", "compiled", "vectorized"])
def test_training_rounds_leave_no_memory_and_no_generated_source_behind(path: str) -> None:
    """Six rounds, each with freshly recorded (and compiled) tapes. What may grow is CPython's own
    bounded caches (free lists of tuples, the interned-names table); a kept tape or graph would
    add far more per round, and its generated source would stay registered."""
    gc.collect()  # tapes an earlier test left in a cycle (a traceback holding one) are not this test's
    before = tapes_in_linecache()
    result = soak(path, steps=1200, round_steps=200)
    traced = [s[1] for s in result["samples"]]
    assert traced[-1] - traced[0] < 2.5, f"traced memory grew by {traced[-1] - traced[0]:.3f} MiB: {traced}"
    assert tapes_in_linecache() == before  # every compiled kernel's source went with its tape


@pytest.mark.parametrize("kind", ["Tape", "SampleTape"])
def test_a_dropped_tape_and_its_kernel_are_freed_at_once(kind: str) -> None:
    """No reference cycle: with the cyclic collector off, dropping the last reference frees the
    tape, its generated kernel and its registered source."""
    import weakref

    from autograd.replay.tape import SampleTape, Tape

    w = Value(0.5)
    before = tapes_in_linecache()
    gc.collect()
    gc.disable()
    try:
        tape: object = (Tape(lambda: (w * 3.0).tanh(), [w], codegen=True) if kind == "Tape"
                        else SampleTape(lambda v: (v[0] * w).tanh(), [w], [1.0]))
        kernel = weakref.ref(tape.kernel)  # type: ignore[attr-defined]
        assert tapes_in_linecache() == before + 1
        del tape
        assert kernel() is None and tapes_in_linecache() == before
    finally:
        gc.enable()


def _left_after_dropping(n: int) -> tuple[int, int]:
    """Bytes a chain of ``n`` steps took, and bytes still traced once it is dropped (GC off)."""
    gc.collect()
    gc.disable()
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        x = Value(0.5)
        y = x
        for _ in range(n):
            y = (y * 1.0001 + 0.5).tanh()
        y.backward()
        grown = tracemalloc.get_traced_memory()[0] - base
        del y
        left = tracemalloc.get_traced_memory()[0] - base
    finally:
        tracemalloc.stop()
        gc.enable()
    return grown, left


def test_a_dropped_graph_is_freed_by_reference_counting_alone() -> None:
    """What stays is CPython's bounded free lists of small tuples and floats (a few hundred KB at
    most, whatever the graph), not the graph: three times the graph leaves no more behind."""
    small_grown, small_left = _left_after_dropping(20_000)
    big_grown, big_left = _left_after_dropping(60_000)
    assert big_grown > 2.5 * small_grown > 20_000_000
    assert small_left < 400_000 and big_left < small_left + 50_000, (small_left, big_left)
