"""Saving and loading models as plain JSON (never pickle), atomically.

The file holds a format name and version, the architecture (the model's class and constructor
arguments) and the weights as a ``state_dict``. Any ``Module`` can be saved (``module.save``);
an ``MLP`` is rebuilt from the file alone, other modules load their weights ``into`` an
instance. Floats are written with ``repr``, so weights round-trip bit for bit. Saving writes a
temporary file in the same folder and renames it over the target (``nn.files.atomic_write``),
so a crash or a refused save never leaves a half-written or changed file.
"""

from __future__ import annotations

import json
import os
from typing import Any

from nn.layers import MLP
from nn.module import FORMAT, VERSION, Module

__all__ = ["FORMAT", "VERSION", "load", "load_metadata", "save"]


def save(model: Module, path: str | os.PathLike[str]) -> None:
    """Write ``model`` to ``path`` as JSON, atomically: the same as ``model.save(path)``.

    Raises:
        TypeError: ``model`` is not a Module.
        ValueError: a weight is nan or infinite (the old file, if any, is left untouched).
    """
    if not isinstance(model, Module):
        raise TypeError(f"save() needs a Module, got {type(model).__name__}")
    model.save(path)


def load(path: str | os.PathLike[str], into: Module | None = None) -> Module:
    """Rebuild a model saved with :func:`save`, or load its weights ``into`` a module.

    Without ``into`` the file must hold an ``MLP`` (its architecture is in the file). With
    ``into``, the file's class must be ``into``'s and its weights must fit; ``into`` is returned.

    Raises:
        ValueError: the file is not valid JSON, not a valuegrad model, of another format version,
            or its architecture or weights are incomplete, the wrong shape or not finite. The
            message says what is wrong and where.
    """
    where = os.fspath(path)
    if into is not None and not isinstance(into, Module):
        raise TypeError(f"load() into= must be a Module, got {type(into).__name__}")
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
    if not isinstance(arch, dict) or not isinstance(arch.get("type"), str):
        raise ValueError(f"{where}: \"architecture\" must name the model's type, got {arch!r:.80}")
    if not isinstance(state, dict):
        raise ValueError(f"{where}: \"state_dict\" must be an object of name -> number")
    model = into if into is not None else _build(where, arch)
    if arch["type"] != type(model).__name__:
        raise ValueError(f"{where}: the file holds a {arch['type']}, not a {type(model).__name__}")
    try:
        model.load_state_dict(state)
    except (TypeError, ValueError) as e:
        raise ValueError(f"{where}: {e}") from None
    return model


def load_metadata(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The ``metadata`` a model file was saved with (``model.save(path, metadata=...)``), or ``{}``.

    Raises:
        ValueError: the file is not valid JSON, not a valuegrad model, or its metadata is not an object.
    """
    where = os.fspath(path)
    try:
        with open(where, encoding="utf-8") as f:
            doc = json.load(f)
    except json.JSONDecodeError as e:
        raise ValueError(f"{where}: not valid JSON ({e.msg} at line {e.lineno}, column {e.colno})") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise ValueError(f"{where}: not a valuegrad model file (expected \"format\": \"{FORMAT}\")")
    metadata = doc.get("metadata", {})
    if not isinstance(metadata, dict):
        raise ValueError(f"{where}: \"metadata\" must be an object, got {type(metadata).__name__}")
    return metadata


def _build(where: str, arch: dict[str, Any]) -> Module:
    if arch["type"] != "MLP":
        raise ValueError(f"{where}: the file holds a {arch['type']!r}, which load() cannot rebuild by itself; "
                         f"load its weights into a new one: load(path, into={arch['type']}(...))")
    kwargs: dict[str, Any] = {k: v for k, v in arch.items() if k != "type"}
    if "nin" not in kwargs or "nouts" not in kwargs:
        raise ValueError(f"{where}: \"architecture\" needs \"nin\" and \"nouts\"")
    try:
        return MLP(**kwargs)
    except (TypeError, ValueError) as e:
        raise ValueError(f"{where}: bad architecture: {e}") from None
