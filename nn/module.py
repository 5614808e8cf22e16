"""``Module``: the base class that finds a model's parameters and saves and loads them.

A module's parameters are found by one walk over its attributes in the order they were set:
a ``Value`` attribute is a parameter, a ``Module`` attribute is walked into, and lists or tuples
are walked element by element. Names are dotted paths, e.g. ``layers.0.neurons.3.w.1``. A
parameter reached twice (shared, or "tied") is listed once, under its first name. ``parameters()``,
``state_dict()`` and ``load_state_dict()`` all use that one walk, as in PyTorch. A container
that contains itself is walked once (no endless recursion).

Limits: a saved model holds at most :data:`MAX_PARAMETERS` (10 million) parameters and its file
at most :data:`MAX_FILE_BYTES` (1 GiB); ``save`` refuses more and ``nn.load`` refuses larger files
before reading or building anything.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable
from typing import Any

from autograd import Value
from autograd.value import as_float
from nn.files import atomic_write

FORMAT = "valuegrad-model"
VERSION = 1
MAX_PARAMETERS = 10_000_000
"""The most parameters a model file may hold (``save`` refuses more, ``nn.load`` rejects more)."""
MAX_FILE_BYTES = 1 << 30
"""The largest model file ``nn.load`` reads (1 GiB, room for 10 million parameters)."""
FILE_MODE = 0o600
"""Model files are created readable and writable by their owner only."""

__all__ = [
    "FILE_MODE",
    "FORMAT",
    "MAX_FILE_BYTES",
    "MAX_PARAMETERS",
    "VERSION",
    "Module",
    "describe",
    "parameter_ties",
    "register_save_check",
]

SaveCheck = Callable[["Module", list[str]], "str | None"]
_SAVE_CHECKS: dict[type, SaveCheck] = {}


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
        :data:`MAX_PARAMETERS` parameters, or weights that are not finite.

        Raises:
            TypeError: ``metadata`` is not a dict or not JSON-serialisable, or a parameter's
                ``.data`` is not a number.
            ValueError: a weight is nan or infinite, the module cannot be saved faithfully (the
                message says why), or ``metadata`` holds nan or infinity.
            OSError: the file cannot be written (e.g. the folder does not exist).
        """
        if metadata is not None and not isinstance(metadata, dict):
            raise TypeError(f"save() metadata must be a dict, got {type(metadata).__name__}")
        state: dict[str, float] = {}
        ties: dict[str, str] = {}
        first: dict[int, str] = {}
        everywhere = self.named_parameters(remove_duplicate=False)
        for name, p in everywhere:
            if name in state or name in ties:
                raise ValueError(f"refusing to save: two parameters are both named {name!r}")
            seen = first.get(id(p))
            if seen is None:
                first[id(p)] = name
                data = p.data if type(p.data) is float else as_float(p.data)  # someone may have set an int
                if data is None or isinstance(p.data, bool):
                    raise TypeError(f"refusing to save: parameter {name!r} holds {type(p.data).__name__} "
                                    f"{describe(p.data)}, not a number")
                state[name] = data
            else:
                ties[name] = seen
        if len(state) + len(ties) > MAX_PARAMETERS:
            raise ValueError(f"refusing to save: {len(state) + len(ties)} parameters is more than a model file "
                             f"may hold ({MAX_PARAMETERS})")
        bad = [name for name, v in state.items() if not math.isfinite(v)]
        if bad:
            raise ValueError(
                f"refusing to save: {len(bad)} weight(s) are not finite (first: {bad[0]!r} = {state[bad[0]]!r}); "
                "the model has diverged, try a smaller learning rate"
            )
        check = _SAVE_CHECKS.get(type(self))
        problem = check(self, [name for name, _ in everywhere]) if check is not None else None
        if problem is not None:
            raise ValueError(f"refusing to save the {type(self).__name__}: {problem}")
        architecture = {"type": type(self).__name__, **self.config}
        placeholder = f"state-{os.urandom(8).hex()}"  # the weights are encoded apart, by json's fast encoder
        doc: dict[str, Any] = {"format": FORMAT, "version": VERSION, "architecture": architecture,
                               "state_dict": placeholder}
        if ties:
            doc["ties"] = ties
        if metadata is not None:
            try:
                json.dumps(metadata, allow_nan=False)
            except (TypeError, ValueError, RecursionError) as e:
                kind = TypeError if isinstance(e, TypeError) else ValueError
                raise kind(f"save() metadata must be JSON data (dicts, lists, str, finite numbers, bool, None): "
                           f"{e}") from None
            doc["metadata"] = metadata
        try:
            text = json.dumps(doc, indent=1, allow_nan=False)
        except (TypeError, ValueError) as e:  # metadata was checked: a custom module's config
            raise TypeError(f"{type(self).__name__}.config must be JSON data: {e}") from None
        # what json.dumps(doc, indent=1) writes, one weight a line, without its slow indenting encoder
        weights = "{\n  " + json.dumps(state, separators=(",\n  ", ": "))[1:-1] + "\n }" if state else "{}"
        text = text.replace(f'"{placeholder}"', weights, 1)
        if len(text) > MAX_FILE_BYTES:
            raise ValueError(f"refusing to save: the file would be {len(text)} bytes, more than a model file may "
                             f"be ({MAX_FILE_BYTES})")
        atomic_write(path, text, mode=FILE_MODE)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.num_parameters()} parameters)"


def register_save_check(cls: type[Module], check: SaveCheck) -> None:
    """Make ``save`` on instances of exactly ``cls`` call ``check(module, names)`` first, where
    ``names`` are the dotted names of every path to a parameter (``named_parameters(remove_duplicate
    =False)``): a string it returns is the reason to refuse (``nn.io`` registers ``MLP``'s: its
    parameters must be the ones its ``config`` rebuilds)."""
    _SAVE_CHECKS[cls] = check


def parameter_ties(module: Module) -> dict[str, str]:
    """``{other name: first name}`` for every parameter reached by more than one path."""
    first: dict[int, str] = {}
    ties: dict[str, str] = {}
    for name, p in module.named_parameters(remove_duplicate=False):
        seen = first.setdefault(id(p), name)
        if seen != name:
            ties[name] = seen
    return ties


def describe(x: object, width: int = 80) -> str:
    """A short, safe ``repr`` of a value of unknown size for an error message: long strings and
    containers are cut, huge integers are described by their size, nothing can raise."""
    text = _brief(x, 3)
    return text if len(text) <= width else text[: width - 3] + "..."


def _brief(x: object, depth: int) -> str:
    if x is None or isinstance(x, (bool, float)):
        return repr(x)
    if isinstance(x, int):
        bits = x.bit_length()
        return repr(x) if bits <= 256 else f"<an integer of {int(bits * math.log10(2)) + 1} digits>"
    if isinstance(x, str):
        return repr(x) if len(x) <= 60 else repr(x[:60])[:-1] + f"...' ({len(x)} characters)"
    if isinstance(x, (list, tuple, dict)):
        opening, closing = ("{", "}") if isinstance(x, dict) else ("(", ")") if isinstance(x, tuple) else ("[", "]")
        if depth == 0 or not x:
            return f"{opening}{'...' if x else ''}{closing}"
        if isinstance(x, dict):
            shown = [f"{_brief(k, 0)}: {_brief(v, depth - 1)}" for k, v in list(x.items())[:6]]
        else:
            shown = [_brief(v, depth - 1) for v in x[:6]]
        more = f", ... ({len(x)} items)" if len(x) > 6 else ""
        return f"{opening}{', '.join(shown)}{more}{closing}"
    try:
        text = repr(x)
    except Exception:
        return f"<{type(x).__name__}>"
    return text if len(text) <= 80 else text[:77] + "..."


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
