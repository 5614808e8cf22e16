"""Saving and loading models as plain JSON (never pickle), atomically.

The file holds a format name and version, the architecture (the model's constructor
arguments) and the weights as a ``state_dict``. Floats are written with ``repr``, so weights
round-trip bit for bit. ``save`` writes to a temporary file in the same folder and renames it
over the target, so a crash or a refused save never leaves a half-written or changed file.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from typing import Any

from nn.module import Module

__all__ = ["FORMAT", "VERSION", "load", "save"]

FORMAT = "valuegrad-model"
VERSION = 1


def save(model: Module, path: str | os.PathLike[str]) -> None:
    """Write ``model`` (an ``MLP``) to ``path`` as JSON, atomically.

    Raises:
        TypeError: the model has no ``config`` describing its architecture.
        ValueError: a weight is nan or infinite (the old file, if any, is left untouched).
    """
    from nn.layers import MLP

    if not isinstance(model, MLP):
        raise TypeError(f"save() supports MLP models, got {type(model).__name__}; use state_dict() for others")
    state = model.state_dict()
    bad = [name for name, v in state.items() if not math.isfinite(v)]
    if bad:
        raise ValueError(
            f"refusing to save: {len(bad)} weight(s) are not finite (first: {bad[0]!r} = {state[bad[0]]!r}); "
            "the model has diverged, try a smaller learning rate"
        )
    doc = {"format": FORMAT, "version": VERSION, "architecture": {"type": "MLP", **model.config}, "state_dict": state}
    text = json.dumps(doc, indent=1, allow_nan=False)
    target = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(target))
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".json", dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def load(path: str | os.PathLike[str]) -> Module:
    """Rebuild a model saved with :func:`save`.

    Raises:
        ValueError: the file is not valid JSON, not a valuegrad model, of another format version,
            or its architecture or weights are incomplete, the wrong shape or not finite. The
            message says what is wrong and where.
    """
    from nn.layers import MLP

    where = os.fspath(path)
    try:
        with open(where, encoding="utf-8") as f:
            doc = json.load(f)
    except json.JSONDecodeError as e:
        raise ValueError(f"{where}: not valid JSON ({e.msg} at line {e.lineno}, column {e.colno})") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise ValueError(f"{where}: not a valuegrad model file (expected \"format\": \"{FORMAT}\")")
    if doc.get("version") != VERSION:
        raise ValueError(f"{where}: format version {doc.get('version')!r} is not supported (expected {VERSION})")
    arch = doc.get("architecture")
    state = doc.get("state_dict")
    if not isinstance(arch, dict) or arch.get("type") != "MLP":
        raise ValueError(f"{where}: \"architecture\" must describe an MLP, got {arch!r:.80}")
    if not isinstance(state, dict):
        raise ValueError(f"{where}: \"state_dict\" must be an object of name -> number")
    kwargs: dict[str, Any] = {k: v for k, v in arch.items() if k != "type"}
    if "nin" not in kwargs or "nouts" not in kwargs:
        raise ValueError(f"{where}: \"architecture\" needs \"nin\" and \"nouts\"")
    try:
        model = MLP(**kwargs)
    except (TypeError, ValueError) as e:
        raise ValueError(f"{where}: bad architecture: {e}") from None
    try:
        model.load_state_dict(state)
    except (TypeError, ValueError) as e:
        raise ValueError(f"{where}: {e}") from None
    return model
