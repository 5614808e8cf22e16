"""Switches that change how new nodes are recorded: ``no_grad``, ``enable_grad``,
``set_grad_enabled``, ``detect_anomaly``, ``trace_origins``.

Each is a context manager that also works as a decorator (on functions and on generator
functions, whose body runs with the setting at every resumption), nests, and restores the
previous setting on exit (even after an exception). Settings are **per thread**, like PyTorch's:
a ``no_grad`` block in one thread changes nothing in another, and a new thread starts with the
defaults (gradients on, no anomaly detection, no origins).

While no thread has a switch on, recording a node costs one attribute check (``MODE.plain``);
otherwise nodes take a slower path that reads the current thread's settings.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import os
import sys
import threading
from collections.abc import Callable, Generator, Iterator
from types import TracebackType
from typing import Any, TypeVar, overload

__all__ = [
    "AnomalyError",
    "detect_anomaly",
    "enable_grad",
    "gc_relaxed",
    "is_grad_enabled",
    "no_grad",
    "set_grad_enabled",
    "trace_origins",
]


class AnomalyError(ArithmeticError):
    """Raised under :func:`detect_anomaly` when an op or a backward pass produces nan/inf.

    Attributes:
        surfaced: the node where the problem was noticed: the op whose output is non-finite, or
            the node whose backward edge gave a non-finite gradient (None if not known).
        cause: where it started: the earliest node, in topological order, whose value became
            non-finite from finite inputs or whose local gradient is non-finite (None if not known).
            The same node as ``surfaced`` when the problem began there.
    """

    def __init__(self, message: str, surfaced: Any = None, cause: Any = None) -> None:
        super().__init__(message)
        self.surfaced = surfaced
        self.cause = cause


class _ThreadModes(threading.local):
    """One thread's settings; every thread starts with the defaults."""

    def __init__(self) -> None:
        self.grad_enabled = True
        self.anomaly = False
        self.origins = False
        self.changed = False  # counted in _Mode.changed_threads
        self.saved: list[tuple[str, bool]] = []  # what each active switch will restore


_DEFAULTS = {"grad_enabled": True, "anomaly": False, "origins": False}


class _Mode:
    """The recording switches. ``plain`` is True while every thread has the default settings (the
    fast path); ``grad_enabled``, ``anomaly`` and ``origins`` read the current thread's."""

    __slots__ = ("_changed_threads", "_local", "_lock", "plain")

    def __init__(self) -> None:
        self._local = _ThreadModes()
        self._lock = threading.Lock()
        self._changed_threads = 0
        self.plain = True

    @property
    def grad_enabled(self) -> bool:
        return bool(self._local.grad_enabled)

    @property
    def anomaly(self) -> bool:
        return bool(self._local.anomaly)

    @property
    def origins(self) -> bool:
        return bool(self._local.origins)

    def set(self, attr: str, value: bool) -> bool:
        """Set one of this thread's settings; return the previous value."""
        local = self._local
        previous: bool = getattr(local, attr)
        setattr(local, attr, value)
        changed = any(getattr(local, name) != default for name, default in _DEFAULTS.items())
        if changed != local.changed:
            with self._lock:
                self._changed_threads += 1 if changed else -1
                self.plain = self._changed_threads == 0
            local.changed = changed
        return previous

    def push(self, attr: str, value: bool) -> None:
        self._local.saved.append((attr, self.set(attr, value)))

    def pop(self) -> None:
        attr, previous = self._local.saved.pop()
        self.set(attr, previous)


MODE = _Mode()


_S = TypeVar("_S", bound="_Switch")
_F = TypeVar("_F", bound=Callable[..., Any])


_CO_GENERATOR = 0x20  # inspect.CO_GENERATOR: the code flag of a generator function


def _is_generator_function(func: Callable[..., Any]) -> bool:
    """``inspect.isgeneratorfunction`` without importing ``inspect`` (milliseconds of every
    ``import autograd``, since ``nn`` decorates with ``no_grad()`` at import): looks through bound
    methods and ``functools.partial`` to the function's code flags."""
    while True:
        if isinstance(func, functools.partial):
            func = func.func
        elif hasattr(func, "__func__"):
            func = func.__func__
        else:
            break
    code = getattr(func, "__code__", None)
    return code is not None and bool(getattr(code, "co_flags", 0) & _CO_GENERATOR)


class _Switch:
    """Sets one of the thread's settings for the duration of a ``with`` block, then restores it."""

    _attr = ""
    _value = True

    @overload
    def __new__(cls: type[_S], func: None = None) -> _S: ...
    @overload
    def __new__(cls, func: _F) -> _F: ...  # type: ignore[misc]

    def __new__(cls, func: Callable[..., Any] | None = None) -> Any:
        # ``@no_grad`` without parentheses: wrap the function directly, as PyTorch allows.
        self = super().__new__(cls)
        if func is None:
            return self
        if not callable(func):
            raise TypeError(f"{cls.__name__}() takes no arguments (or decorates a function), got {type(func).__name__}")
        return self(func)

    def __enter__(self) -> None:
        MODE.push(self._attr, self._value)

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        MODE.pop()

    def __call__(self, func: _F) -> _F:
        """Decorate ``func`` (or a generator function) so that its body runs inside this switch."""
        if _is_generator_function(func):
            return self._wrap_generator(func)

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:  # the settings' stack is per thread: reentrant
            with self:
                return func(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    def _wrap_generator(self, func: _F) -> _F:
        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Generator[Any, Any, Any]:
            with self:
                gen = func(*args, **kwargs)
            try:
                with self:
                    item = next(gen)
                while True:
                    try:
                        sent = yield item
                    except GeneratorExit:
                        with self:
                            gen.close()
                        raise
                    except BaseException as e:
                        with self:
                            item = gen.throw(e)
                    else:
                        with self:
                            item = gen.send(sent)
            except StopIteration as stop:
                return stop.value

        return wrapper  # type: ignore[return-value]


class no_grad(_Switch):  # noqa: N801 - named like torch.no_grad
    """Compute values without recording the graph: new nodes are leaves with no parents.

    Use it for evaluation and for parameter updates, as in PyTorch::

        with no_grad():
            y = model(x)   # y.parents == (), nothing to backpropagate through

    Also works as a decorator (``@no_grad()``), on generator functions too. Per thread.
    """

    _attr = "grad_enabled"
    _value = False


class enable_grad(_Switch):  # noqa: N801 - named like torch.enable_grad
    """Record graphs again inside a :class:`no_grad` block (or a decorated function). Per thread."""

    _attr = "grad_enabled"
    _value = True


class set_grad_enabled(_Switch):  # noqa: N801 - named like torch.set_grad_enabled
    """Turn recording on or off, like PyTorch's: called as a function it sets the mode now (for
    this thread); as a context manager or decorator it restores the previous mode afterwards.

        set_grad_enabled(False)          # from here on, in this thread
        with set_grad_enabled(is_training):
            ...
    """

    _attr = "grad_enabled"

    def __new__(cls, mode: bool) -> set_grad_enabled:
        return object.__new__(cls)

    def __init__(self, mode: bool) -> None:
        if not isinstance(mode, bool):
            raise TypeError(f"set_grad_enabled() takes True or False, got {type(mode).__name__}")
        self._value = mode
        self._previous = MODE.set("grad_enabled", mode)

    def __enter__(self) -> None:
        pass  # already set by the constructor

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        MODE.set("grad_enabled", self._previous)

    def __call__(self, func: _F) -> _F:
        MODE.set("grad_enabled", self._previous)  # decorating: the mode applies inside calls only
        return _GradMode(self._value)(func)


class _GradMode(_Switch):
    """``set_grad_enabled(mode)`` as a decorator: sets ``mode`` around each call."""

    _attr = "grad_enabled"

    def __new__(cls, mode: bool) -> _GradMode:
        return object.__new__(cls)

    def __init__(self, mode: bool) -> None:
        self._value = mode


class detect_anomaly(_Switch):  # noqa: N801 - named like torch.autograd.detect_anomaly
    """Raise :class:`AnomalyError` as soon as something turns nan or infinite.

    Inside the block, an op whose output is nan/inf although its inputs are finite raises, and
    so does a backward pass that produces a non-finite gradient from finite values. The error
    names the op, its input values and the file:line where the node was created (nodes made
    inside the block remember where). Off by default; costs nothing when off. Per thread::

        with detect_anomaly():
            Value(0.0).log()   # AnomalyError: op 'log' produced -inf from finite inputs (0.0) ...
    """

    _attr = "anomaly"


class trace_origins(_Switch):  # noqa: N801 - reads like the other switches
    """Make nodes created in the block remember the file:line that created them (``v.origin``).

    Useful in a debugger or with :meth:`Value.explain`; off by default because looking up the
    caller's frame for every node costs time. Per thread.
    """

    _attr = "origins"


def is_grad_enabled() -> bool:
    """True unless this thread is inside :class:`no_grad` (or ``set_grad_enabled(False)``)."""
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
