"""What every ``valuegrad`` command shares: exit codes, the refusal, and its one-line messages."""

from __future__ import annotations

import sys

__all__ = ["EXIT_FAILED", "EXIT_INTERRUPTED", "EXIT_USAGE", "RefusedError", "duration", "error", "note", "size"]


EXIT_FAILED = 1
"""Training diverged, or writing an output failed."""


EXIT_USAGE = 2


EXIT_INTERRUPTED = 130


class RefusedError(Exception):
    """A bad argument, file or folder found before anything is written: one line, exit code 2."""


def error(message: str) -> None:
    print(f"valuegrad: error: {' '.join(message.split())}", file=sys.stderr)


def note(message: str) -> None:
    print(f"valuegrad: {message}", file=sys.stderr)


def duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} minutes"
    return f"{seconds / 3600:.1f} hours"


def size(n: float) -> str:
    for unit, scale in (("GB", 1024**3), ("MB", 1024**2)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n / 1024:.0f} kB"
