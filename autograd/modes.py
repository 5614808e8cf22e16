"""Switches that change how new nodes are recorded: ``no_grad``, ``detect_anomaly``, ``trace_origins``.

All three are context managers that also work as decorators, nest, and restore the previous
setting on exit (even after an exception). The state is process-wide, not per thread.
When none is active, recording a node costs one attribute check.
"""

from __future__ import annotations

import contextlib
import gc
import os
import sys
from collections.abc import Callable, Iterator
from types import TracebackType
from typing import Any, TypeVar, overload

__all__ = ["AnomalyError", "detect_anomaly", "gc_relaxed", "is_grad_enabled", "no_grad", "trace_origins"]


class AnomalyError(ArithmeticError):
    """Raised under :func:`detect_anomaly` when an op or a backward pass produces nan/inf."""


class _Mode:
    """The recording switches. ``plain`` is True when nothing special is on (the fast path)."""

    __slots__ = ("anomaly", "grad_enabled", "origins", "plain")

    def __init__(self) -> None:
        self.grad_enabled = True
        self.anomaly = False
        self.origins = False
        self.plain = True

    def refresh(self) -> None:
        self.plain = self.grad_enabled and not self.anomaly and not self.origins


MODE = _Mode()


_S = TypeVar("_S", bound="_Switch")
_F = TypeVar("_F", bound=Callable[..., Any])


class _Switch(contextlib.ContextDecorator):
    """Sets one attribute of ``MODE`` for the duration of a ``with`` block, then restores it."""

    _attr = ""
    _value = True

    @overload
    def __new__(cls: type[_S], func: None = None) -> _S: ...
    @overload
    def __new__(cls, func: _F) -> _F: ...  # type: ignore[misc]

    def __new__(cls, func: Callable[..., Any] | None = None) -> Any:
        # ``@no_grad`` without parentheses: wrap the function directly, as PyTorch allows.
        self = super().__new__(cls)
        self._saved = []
        if func is None:
            return self
        if not callable(func):
            raise TypeError(f"{cls.__name__}() takes no arguments (or decorates a function), got {type(func).__name__}")
        return self(func)

    _saved: list[bool]

    def __enter__(self) -> None:
        self._saved.append(getattr(MODE, self._attr))
        setattr(MODE, self._attr, self._value)
        MODE.refresh()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        setattr(MODE, self._attr, self._saved.pop())
        MODE.refresh()


class no_grad(_Switch):  # noqa: N801 - named like torch.no_grad
    """Compute values without recording the graph: new nodes are leaves with no parents.

    Use it for evaluation and for parameter updates, as in PyTorch::

        with no_grad():
            y = model(x)   # y.parents == (), nothing to backpropagate through

    Also works as a decorator (``@no_grad()``).
    """

    _attr = "grad_enabled"
    _value = False


class detect_anomaly(_Switch):  # noqa: N801 - named like torch.autograd.detect_anomaly
    """Raise :class:`AnomalyError` as soon as something turns nan or infinite.

    Inside the block, an op whose output is nan/inf although its inputs are finite raises, and
    so does a backward pass that produces a non-finite gradient from finite values. The error
    names the op, its input values and the file:line where the node was created (nodes made
    inside the block remember where). Off by default; costs nothing when off::

        with detect_anomaly():
            Value(0.0).log()   # AnomalyError: op 'log' produced -inf from finite inputs (0.0) ...
    """

    _attr = "anomaly"


class trace_origins(_Switch):  # noqa: N801 - reads like the other switches
    """Make nodes created in the block remember the file:line that created them (``v.origin``).

    Useful in a debugger or with :meth:`Value.explain`; off by default because looking up the
    caller's frame for every node costs time.
    """

    _attr = "origins"


def is_grad_enabled() -> bool:
    """True unless inside :class:`no_grad`."""
    return MODE.grad_enabled


_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))


def caller_origin() -> str:
    """``'file.py:42'`` of the innermost frame outside the ``autograd`` package."""
    frame = sys._getframe(1)
    while frame is not None and os.path.dirname(os.path.abspath(frame.f_code.co_filename)) == _PACKAGE_DIR:
        frame = frame.f_back  # type: ignore[assignment]
    if frame is None:
        return "<unknown>"
    return f"{frame.f_code.co_filename}:{frame.f_lineno}"


@contextlib.contextmanager
def gc_relaxed(threshold2: int = 1000) -> Iterator[None]:
    """Make CPython's full (generation-2) garbage collections rare inside the block.

    Graphs of Values contain no reference cycles, so reference counting frees them the moment
    the last reference goes; the cyclic collector cannot find anything in them. Yet while a big
    graph is being built, CPython keeps re-running full collections that walk every live node,
    which costs more time than the arithmetic (about 3x on a training step). Use this around
    training loops; the previous thresholds come back on exit. Generation 0 and 1 collections
    still run, so cyclic garbage made elsewhere is still found, just later.

        with gc_relaxed():
            for step in range(100):
                ...
    """
    old = gc.get_threshold()
    gc.set_threshold(old[0], old[1], max(old[2], threshold2))
    try:
        yield
    finally:
        gc.set_threshold(*old)
