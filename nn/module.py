"""``Module``: the base class that finds a model's parameters and saves and loads them.

A module's parameters are found by one walk over its attributes in the order they were set:
a ``Value`` attribute is a parameter, a ``Module`` attribute is walked into, and lists or tuples
are walked element by element. Names are dotted paths, e.g. ``layers.0.neurons.3.w.1``. A
parameter reached twice (shared, or "tied") is listed once, under its first name. ``parameters()``,
``state_dict()`` and ``load_state_dict()`` all use that one walk, as in PyTorch. A container
that contains itself is walked once (no endless recursion).

``Module.save`` hands the module to the file format, ``nn.io``, which owns everything about
model files: the writer, the reader, the checks both run and the limits (at most
``nn.io.MAX_PARAMETERS``, 10 million, parameters and ``nn.io.MAX_FILE_BYTES``, 1 GiB, a file).
"""

from __future__ import annotations

import math
import os
from typing import Any

from autograd import Value
from autograd.value import as_float
from nn.text import describe

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

    def named_parameters(self, remove_duplicate: bool = True) -> list[tuple[str, Value]]:
        """``(dotted name, parameter)`` pairs in definition order, each parameter once.

        With ``remove_duplicate=False`` (as in PyTorch) a parameter reached by several paths is
        listed under each of them."""
        out: list[Any] = []
        _walk(self, "", True, out, set() if remove_duplicate else None, set())
        return out

    def parameters(self) -> list[Value]:
        """The parameters as a list, in ``named_parameters()`` order (micrograd's order for MLPs).

        The same walk as ``named_parameters()``, without building the names (it runs every step)."""
        out: list[Any] = []
        _walk(self, "", False, out, set(), set())
        return out

    def num_parameters(self) -> int:
        """How many scalar parameters the module has."""
        return len(self.parameters())

    def zero_grad(self) -> None:
        """Set every parameter's ``.grad`` to 0.0 (leaves accumulate across backward passes)."""
        for p in self.parameters():
            p.grad = 0.0

    def state_dict(self) -> dict[str, float]:
        """Plain, JSON-serialisable data: ``{dotted name: float}`` for every parameter."""
        return {name: p.data for name, p in self.named_parameters()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Set every parameter from ``state``; checks everything first and changes nothing on error.

        ``state`` must have exactly the keys of ``state_dict()``. A value may be any real number
        ``Value()`` accepts (``float``, ``int``, ``fractions.Fraction``, NumPy scalars, ...) except
        ``bool``, and must be finite. Takes time linear in the number of parameters.

        Raises:
            TypeError: ``state`` is not a dict, or a value is not a real number (or is a bool).
            ValueError: keys are missing or unexpected, or a value is nan or infinite (or an
                integer too large for a float).
        """
        if not isinstance(state, dict):
            raise TypeError(f"load_state_dict() expects a dict of name -> float, got {type(state).__name__}")
        params = self.named_parameters()
        index = dict(params)
        if len(state) != len(index) or not all(k in index for k in state):
            missing = [k for k in index if k not in state]
            extra = [k for k in state if k not in index]
            parts = []
            if missing:
                parts.append(f"missing keys {_short(missing)}")
            if extra:
                parts.append(f"unexpected keys {_short(extra)}")
            raise ValueError(f"state dict does not match {type(self).__name__}: " + "; ".join(parts))
        values: list[float] = []
        for name, _ in params:
            v = state[name]
            f = v if type(v) is float else None if isinstance(v, bool) else as_float(v)
            if f is None:
                raise TypeError(f"state dict entry {name!r} must be a number, got {type(v).__name__} {describe(v)} "
                                "(expected a real number such as a float; bools are refused)")
            if not math.isfinite(f):
                shown = describe(v) if isinstance(v, int) else repr(f)  # an int too large for a float, or nan/inf
                raise ValueError(f"state dict entry {name!r} is {shown}; weights must be finite floats")
            values.append(f)
        for (_, p), f in zip(params, values):
            p.data = f
        self.label_parameters()

    def label_parameters(self) -> None:
        """Label every parameter that has no label with its ``state_dict`` name
        (``layers.1.neurons.3.w.0``), so drawings, ``explain``, ``why`` and ``to_sympy`` name it.

        A label the user gave is kept. ``MLP`` calls this when it is made, and
        ``load_state_dict`` when weights are loaded."""
        for name, p in self.named_parameters():
            if not p.label:
                p.label = name

    @property
    def config(self) -> dict[str, Any]:
        """The constructor arguments that rebuild this module's architecture (``{}`` if unknown;
        ``MLP`` gives its own, which is what lets ``nn.load`` rebuild it from a file alone)."""
        return {}

    def save(self, path: str | os.PathLike[str], metadata: dict[str, Any] | None = None) -> None:
        """Write this module's class name, ``config`` and weights as JSON, atomically, mode 0600.

        Any module can be saved; ``nn.load(path)`` rebuilds an ``MLP`` from the file alone, and
        ``nn.load(path, into=module)`` loads the weights into a module of the same class.
        Parameters shared between several places (tied weights) are stored once, under their
        first name, and the file's ``"ties"`` records the other names, so loading ties them again.
        ``metadata`` (a JSON-serialisable dict: class names, the input standardisation, ...) is
        stored alongside; ``nn.io.load_metadata(path)`` reads it back (as JSON gives it back:
        tuples become lists, keys strings).

        ``save`` refuses (and leaves the old file, if any, untouched) rather than write a file that
        ``load`` would reject or load differently: an ``MLP`` whose parameters no longer match its
        architecture (an extra attribute holding a Value, a layer added or replaced), more than
        ``nn.io.MAX_PARAMETERS`` parameters, or weights that are not finite. The file's layout is
        ``nn.io``'s: this method calls ``nn.io.write``.

        Raises:
            TypeError: ``metadata`` is not a dict or not JSON-serialisable, or a parameter's
                ``.data`` is not a number.
            ValueError: a weight is nan or infinite, the module cannot be saved faithfully (the
                message says why), or ``metadata`` holds nan or infinity.
            OSError: the file cannot be written (e.g. the folder does not exist).
        """
        # Imported here, not at the top: the format loads on first use, so ``import nn`` stays quick.
        from nn.io import write

        write(self, path, metadata)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.num_parameters()} parameters)"


def _walk(obj: Any, prefix: str, names: bool, out: list[Any], seen: set[int] | None, active: set[int]) -> None:
    """Append ``obj``'s parameters to ``out`` (as ``(name, Value)`` pairs if ``names``), depth first
    in attribute order; attributes starting with ``_`` are private and skipped. ``seen`` holds the
    parameters listed so far (None: list every path); ``active`` the containers being walked."""
    active.add(id(obj))
    items: Any = (
        [(k, v) for k, v in vars(obj).items() if k[:1] != "_"] if isinstance(obj, Module) else enumerate(obj)
    )
    append = out.append
    for key, val in items:
        if isinstance(val, Value):
            if seen is not None:
                if id(val) in seen:
                    continue
                seen.add(id(val))
            append((f"{prefix}{key}", val) if names else val)
        elif isinstance(val, (Module, list, tuple)) and id(val) not in active:
            _walk(val, f"{prefix}{key}." if names else "", names, out, seen, active)
    active.discard(id(obj))


def _short(keys: list[Any]) -> str:
    shown = ", ".join(describe(k) for k in keys[:5])
    return f"[{shown}{', ...' if len(keys) > 5 else ''}] ({len(keys)} in all)"
