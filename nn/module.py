"""``Module``: the base class that finds a model's parameters and saves and loads them.

A module's parameters are found by one walk over its attributes in the order they were set:
a ``Value`` attribute is a parameter, a ``Module`` attribute is walked into, and lists or tuples
are walked element by element. Names are dotted paths, e.g. ``layers.0.neurons.3.w.1``. A
parameter reached twice (shared) is listed once, under its first name. ``parameters()``,
``state_dict()`` and ``load_state_dict()`` all use that one walk, as in PyTorch.
"""

from __future__ import annotations

import json
import math
import os
from typing import Any

from autograd import Value
from nn.files import atomic_write

FORMAT = "valuegrad-model"
VERSION = 1

__all__ = ["Module"]


class Module:
    """Base class for anything with parameters.

    Subclasses just assign Values, Modules or lists of them as attributes::

        class Affine(Module):
            def __init__(self) -> None:
                self.w = Value(0.5)
                self.b = Value(0.0)

        Affine().named_parameters()   # [('w', Value(...)), ('b', Value(...))]
    """

    def named_parameters(self) -> list[tuple[str, Value]]:
        """``(dotted name, parameter)`` pairs in definition order, each parameter once."""
        out: list[Any] = []
        _walk(self, "", True, out, set())
        return out

    def parameters(self) -> list[Value]:
        """The parameters as a list, in ``named_parameters()`` order (micrograd's order for MLPs).

        The same walk as ``named_parameters()``, without building the names (it runs every step)."""
        out: list[Any] = []
        _walk(self, "", False, out, set())
        return out

    def num_parameters(self) -> int:
        """How many scalar parameters the module has."""
        return len(self.named_parameters())

    def zero_grad(self) -> None:
        """Set every parameter's ``.grad`` to 0.0 (leaves accumulate across backward passes)."""
        for p in self.parameters():
            p.grad = 0.0

    def state_dict(self) -> dict[str, float]:
        """Plain, JSON-serialisable data: ``{dotted name: float}`` for every parameter."""
        return {name: p.data for name, p in self.named_parameters()}

    def load_state_dict(self, state: dict[str, float]) -> None:
        """Set every parameter from ``state``; checks everything first and changes nothing on error.

        Raises:
            TypeError: ``state`` is not a dict, or a value is not a real number.
            ValueError: keys are missing or unexpected, or a value is nan or infinite.
        """
        if not isinstance(state, dict):
            raise TypeError(f"load_state_dict() expects a dict of name -> float, got {type(state).__name__}")
        params = self.named_parameters()
        expected = [name for name, _ in params]
        missing = [k for k in expected if k not in state]
        extra = [k for k in state if k not in dict(params)]
        if missing or extra:
            parts = []
            if missing:
                parts.append(f"missing keys {_short(missing)}")
            if extra:
                parts.append(f"unexpected keys {_short(extra)}")
            raise ValueError(f"state dict does not match {type(self).__name__}: " + "; ".join(parts))
        values: list[float] = []
        for name in expected:
            v = state[name]
            if isinstance(v, bool) or not isinstance(v, (int, float)):
                raise TypeError(f"state dict entry {name!r} must be a number, got {type(v).__name__}")
            f = float(v)
            if not math.isfinite(f):
                raise ValueError(f"state dict entry {name!r} is {f!r}; weights must be finite")
            values.append(f)
        for (_, p), f in zip(params, values):
            p.data = f

    @property
    def config(self) -> dict[str, Any]:
        """The constructor arguments that rebuild this module's architecture (``{}`` if unknown;
        ``MLP`` gives its own, which is what lets ``nn.load`` rebuild it from a file alone)."""
        return {}

    def save(self, path: str | os.PathLike[str], metadata: dict[str, Any] | None = None) -> None:
        """Write this module's class name, ``config`` and weights as JSON, atomically.

        Any module can be saved; ``nn.load(path)`` rebuilds an ``MLP`` from the file alone, and
        ``nn.load(path, into=module)`` loads the weights into a module of the same class.
        ``metadata`` (JSON-serialisable: class names, the input standardisation, ...) is stored
        alongside; ``nn.io.load_metadata(path)`` reads it back.

        Raises:
            ValueError: a weight is nan or infinite (the old file, if any, is left untouched).
        """
        state = self.state_dict()
        bad = [name for name, v in state.items() if not math.isfinite(v)]
        if bad:
            raise ValueError(
                f"refusing to save: {len(bad)} weight(s) are not finite (first: {bad[0]!r} = {state[bad[0]]!r}); "
                "the model has diverged, try a smaller learning rate"
            )
        architecture = {"type": type(self).__name__, **self.config}
        doc: dict[str, Any] = {"format": FORMAT, "version": VERSION, "architecture": architecture, "state_dict": state}
        if metadata is not None:
            if not isinstance(metadata, dict):
                raise TypeError(f"save() metadata must be a dict, got {type(metadata).__name__}")
            doc["metadata"] = metadata
        atomic_write(path, json.dumps(doc, indent=1, allow_nan=False))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.num_parameters()} parameters)"


def _walk(obj: Any, prefix: str, names: bool, out: list[Any], seen: set[int]) -> None:
    """Append ``obj``'s parameters to ``out`` (as ``(name, Value)`` pairs if ``names``), depth first
    in attribute order; attributes starting with ``_`` are private and skipped."""
    items: Any = vars(obj).items() if isinstance(obj, Module) else enumerate(obj)
    for key, val in items:
        if type(key) is str and key[:1] == "_":
            continue
        if isinstance(val, Value):
            if id(val) not in seen:
                seen.add(id(val))
                out.append((f"{prefix}{key}", val) if names else val)
        elif isinstance(val, (Module, list, tuple)):
            _walk(val, f"{prefix}{key}." if names else "", names, out, seen)


def _short(keys: list[str]) -> str:
    shown = ", ".join(repr(k) for k in keys[:5])
    return f"[{shown}{', ...' if len(keys) > 5 else ''}] ({len(keys)} in all)"
