"""Data reads: where the user's Python looked at a number while a replay was being recorded.

A replay (``Tape``, ``SampleTape``, ``BatchTape``) records the graph one call of a function
builds and then reruns it with other numbers. What it cannot rerun is the Python around the ops:
an ``if v.data > 5:`` takes the branch the recording took, for every sample and every step, and
a plain number computed from ``.data`` is baked in as a constant. ``torch.compile`` guards on
such reads and JAX's tracers refuse them; here, while a replay records, every read of a Value's
number by code outside the engine is a **data read**, remembered with its line:

- ``v.data`` itself;
- ``bool(v)`` (an ``if v:``), the comparisons ``v < w``, ``v > 0``, ...;
- ``v.detach()`` (a new leaf holding the number: a constant to the replay).

``int(v)``, ``float(v)``, ``round(v)`` and ``lst[v]`` are refused by ``Value`` at all times.

How: only while some thread records, ``Value.data`` is a property that asks who is reading.
Reads by the engine itself (any module of the ``autograd`` package: the ops read their inputs'
numbers to compute the output) are the recording; a read from any other module, in the thread
that records, is a data read. When nothing records, ``Value.data`` is the plain slot again, so
building graphs costs exactly what it did.

    >>> from autograd import Value
    >>> from autograd.replay.reads import watch_reads
    >>> x = Value(2.0)
    >>> with watch_reads([x]) as reads:
    ...     y = x * 3 if x.data > 1 else x
    >>> [read.how for read in reads.reads]
    ['.data of a parameter']
"""

from __future__ import annotations

import linecache
import sys
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from types import CodeType, FrameType
from typing import Any, NamedTuple

from autograd.value import READS_FOR_CALLER, Value

__all__ = ["DataRead", "Reads", "watch_reads"]

_SLOT: Any = Value.__dict__["data"]  # the slot descriptor that holds every node's number
_get_slot = _SLOT.__get__
_set_slot = _SLOT.__set__
_lock = threading.Lock()
_active: dict[int, list[Reads]] = {}  # thread id -> the recordings open in that thread, innermost last
_get_ident = threading.get_ident
_getframe = sys._getframe
_MAX_KEPT = 8  # distinct places remembered per recording: enough for a message, bounded for loops


class DataRead(NamedTuple):
    """One place where the user's Python read a Value's number during a recording."""

    where: str
    """``'file.py:12'``: the file and line that read it."""
    line: str
    """That line of source, stripped ('' when the source is not available)."""
    how: str
    """How it was read and of what: ``'.data of an input'``, ``'bool() of a recorded node'``, ..."""

    def __str__(self) -> str:
        shown = f" (`{self.line}`)" if self.line else ""
        return f"{self.how} at {self.where}{shown}"


class Reads:
    """The data reads of one recording (see :func:`watch_reads`)."""

    def __init__(self, params: Sequence[Value], inputs: Sequence[Value]) -> None:
        self.reads: list[DataRead] = []
        """The distinct places that read a number, first first (at most eight are kept)."""
        self.count = 0
        """How many reads there were in all (a loop reading at one line counts each time)."""
        self._params = {id(p) for p in params}
        self._inputs = {id(v) for v in inputs}
        self._seen: set[tuple[str, int]] = set()

    def __bool__(self) -> bool:
        return self.count > 0

    def _note(self, node: Value, frame: FrameType, how: str) -> None:
        self.count += 1
        key = (frame.f_code.co_filename, frame.f_lineno)
        if key in self._seen or len(self.reads) >= _MAX_KEPT:
            return
        self._seen.add(key)
        what = ("a parameter" if id(node) in self._params else "an input" if id(node) in self._inputs
                else "a recorded node")
        line = linecache.getline(key[0], key[1]).strip()
        self.reads.append(DataRead(f"{key[0]}:{key[1]}", line, f"{how} of {what}", ))

    def message(self, what: str = "the recorded function") -> str:
        """A sentence naming the reads, for an error."""
        first = self.reads[0]
        more = ""
        if self.count > 1:
            others = "; ".join(str(r) for r in self.reads[1:4])
            more = f" ({self.count - 1} more read(s){': ' + others if others else ''})"
        return (
            f"{what} reads a number of the graph in Python: {first}{more}. A replay reruns the recorded ops "
            "only, so whatever Python did with that number (a branch, a constant) would be frozen for every "
            "sample and step. Build graphs each step instead, or pass allow_data_reads=True if the reads only "
            "log or print"
        )


def _engine(frame: FrameType) -> bool:
    name: str = frame.f_globals.get("__name__", "")
    return name == "autograd" or name.startswith("autograd.")


class _WatchedData:
    """``Value.data`` while a recording is open: the slot, plus a note of who reads it."""

    def __get__(self, node: Value | None, owner: type | None = None) -> Any:
        if node is None:  # Value.data on the class itself
            return _SLOT
        open_here = _active.get(_get_ident())
        if open_here:
            frame = _getframe(1)
            if frame.f_code not in _ENGINE_CODES:  # the ops' own reads: one set look-up
                _note_read(node, frame, open_here)
        return _get_slot(node)

    def __set__(self, node: Value, value: Any) -> None:
        _set_slot(node, value)

    def __delete__(self, node: Value) -> None:
        _SLOT.__delete__(node)


_ENGINE_CODES: set[CodeType] = set()  # engine functions seen reading for themselves (not for a caller)


def _note_read(node: Value, reader: FrameType, open_here: list[Reads]) -> None:
    frame: FrameType | None = reader
    how = ".data"
    while frame is not None and frame.f_code in READS_FOR_CALLER:
        how = READS_FOR_CALLER[frame.f_code] if how == ".data" else how
        frame = frame.f_back
    if frame is None:
        return
    if _engine(frame):
        if frame is reader:
            _ENGINE_CODES.add(frame.f_code)
        return
    for reads in open_here:  # an outer recording is as frozen by the read as the inner one
        reads._note(node, frame, how)


_WATCHED = _WatchedData()


@contextmanager
def watch_reads(params: Sequence[Value] = (), inputs: Sequence[Value] = ()) -> Iterator[Reads]:
    """Note every data read made by this thread's code outside ``autograd`` inside the block.

    ``params`` and ``inputs`` only name what was read in the notes. Other threads are not
    watched (their reads pay one dictionary look-up while a recording is open anywhere)."""
    reads = Reads(params, inputs)
    tid = _get_ident()
    with _lock:
        if not _active:
            type.__setattr__(Value, "data", _WATCHED)
        _active.setdefault(tid, []).append(reads)
    try:
        yield reads
    finally:
        with _lock:
            stack = _active[tid]
            stack.remove(reads)
            if not stack:
                del _active[tid]
            if not _active:
                type.__setattr__(Value, "data", _SLOT)
