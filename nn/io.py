"""The model file format, all of it: its constants, the writer, the checks, the reader.

The file is one JSON object::

    {"format": "valuegrad-model", "version": 1,
     "architecture": {"type": "MLP", "nin": 2, "nouts": [16, 1], "activation": "relu",
                      "output_activation": "linear", "init": "micrograd", "fused": true},
     "state_dict": {"layers.0.neurons.0.w.0": 0.123, ...},
     "ties": {"other name": "first name", ...},      (only if parameters are shared)
     "metadata": {...}}                                (only if saved with metadata)

Any ``Module`` can be saved (``module.save``, which calls :func:`write`); an ``MLP`` is rebuilt
from the file alone, other modules load their weights ``into`` an instance. Floats are written
with ``repr``, so weights round-trip bit for bit. Saving writes a temporary file in the same
folder and renames it over the target (``nn.files.atomic_write``), so a crash or a refused save
never leaves a half-written or changed file; model files are created with mode 0600.

Loading trusts nothing in the file. It reads at most :data:`MAX_FILE_BYTES` bytes, checks every
field's type and value, and checks the architecture against the number of stored weights (and
against :data:`MAX_PARAMETERS`) before building anything; every problem, whatever the file holds
(bad UTF-8, JSON nested 100,000 deep, 5,000-digit numbers, ...), is one ``ValueError`` that
names the file and says what is wrong. ``load`` does not touch the global ``random`` state.

This module imports neither ``nn.module`` (whose ``Module.save`` calls :func:`write`) nor the
modules that define model classes: it uses what the format needs of a module by name
(``named_parameters``, ``config``, ``load_state_dict``), and finds the class a file's ``"type"``
names in ``nn.registry.MODEL_CLASSES``, where the classes register themselves.
"""

from __future__ import annotations

import json
import math
import os
import random
import stat
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, TypeGuard

from autograd import Value
from autograd.value import as_float
from nn.activations import ACTIVATION_TABLE, INITS
from nn.files import atomic_write
from nn.registry import MODEL_CLASSES
from nn.text import describe

if TYPE_CHECKING:  # for annotations only: nn.module imports this module
    from nn.module import Module

__all__ = [
    "FILE_MODE",
    "FORMAT",
    "MAX_FILE_BYTES",
    "MAX_PARAMETERS",
    "VERSION",
    "load",
    "load_metadata",
    "parameter_ties",
    "save",
    "write",
]

FORMAT = "valuegrad-model"
"""The ``"format"`` every model file names."""
VERSION = 1
"""The format version written and the only one read."""
MAX_PARAMETERS = 10_000_000
"""The most parameters a model file may hold (``save`` refuses more, ``nn.load`` rejects more)."""
MAX_FILE_BYTES = 1 << 30
"""The largest model file ``nn.load`` reads (1 GiB, room for 10 million parameters)."""
FILE_MODE = 0o600
"""Model files are created readable and writable by their owner only."""

_TOP_KEYS = ("format", "version", "architecture", "state_dict", "ties", "metadata")
_REQUIRED_KEYS = ("format", "version", "architecture", "state_dict")
_MLP_KEYS = ("nin", "nouts", "activation", "output_activation", "init", "fused")
_MAX_DIGITS = 1000
"""JSON integers with more digits are refused while parsing (Python's own limit is 4300 digits)."""
_NOT_COMPARED = ("init", "fused")
"""Architecture fields that change neither the weights loaded nor the numbers computed."""
_MODULE_METHODS = ("named_parameters", "load_state_dict", "save")
"""What the format calls on a module (with its ``config``): ``nn.module.Module``'s methods."""


class _NoDraws(random.Random):
    """A private generator for building a model whose weights are about to be loaded: its draws
    are all 0.0 (drawing real random numbers would cost time for nothing)."""

    def uniform(self, a: float, b: float) -> float:
        return 0.0


class _FileError(ValueError):
    """A problem found while parsing, raised from inside ``json.loads``'s hooks."""


def save(model: Module, path: str | os.PathLike[str], metadata: dict[str, Any] | None = None) -> None:
    """Write ``model`` to ``path`` as JSON, atomically: the same as ``model.save(path, metadata)``.

    Args:
        model: the module to save.
        path: the file to write (replaced if it exists).
        metadata: JSON data stored alongside (see ``Module.save``).

    Raises:
        TypeError: ``model`` is not a Module.
        ValueError: ``model.save`` refuses (a weight is nan or infinite, ...); the old file, if
            any, is left untouched.
    """
    if not _is_module(model):
        raise TypeError(f"save() needs a Module, got {type(model).__name__}")
    model.save(path, metadata)


def write(module: Module, path: str | os.PathLike[str], metadata: dict[str, Any] | None = None) -> None:
    """The writer behind ``Module.save``: ``module``'s class name, ``config`` and weights as JSON,
    written atomically with mode :data:`FILE_MODE`, after every check (``Module.save`` documents
    what it refuses).

    Args:
        module: the module to save.
        path: the file to write (replaced if it exists).
        metadata: JSON data stored alongside, or None.

    Raises:
        TypeError: ``module`` is not a Module, ``metadata`` is not a dict or not
            JSON-serialisable, a parameter's ``.data``
            is not a number, or the module's ``config`` is not JSON data.
        ValueError: a weight is nan or infinite, the module cannot be saved faithfully (the
            message says why), ``metadata`` holds nan or infinity, or the module or its file
            exceeds :data:`MAX_PARAMETERS` or :data:`MAX_FILE_BYTES`.
        OSError: the file cannot be written (e.g. the folder does not exist).
    """
    if not _is_module(module):
        raise TypeError(f"write() needs a Module, got {type(module).__name__}")
    if metadata is not None and not isinstance(metadata, dict):
        raise TypeError(f"save() metadata must be a dict, got {type(metadata).__name__}")
    state: dict[str, float] = {}
    ties: dict[str, str] = {}
    first: dict[int, str] = {}
    everywhere = module.named_parameters(remove_duplicate=False)
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
    problem = _save_problem(module, [name for name, _ in everywhere])
    if problem is not None:
        raise ValueError(f"refusing to save the {type(module).__name__}: {problem}")
    architecture = {"type": type(module).__name__, **module.config}
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
        raise TypeError(f"{type(module).__name__}.config must be JSON data: {e}") from None
    # what json.dumps(doc, indent=1) writes, one weight a line, without its slow indenting encoder
    weights = "{\n  " + json.dumps(state, separators=(",\n  ", ": "))[1:-1] + "\n }" if state else "{}"
    text = text.replace(f'"{placeholder}"', weights, 1)
    if len(text) > MAX_FILE_BYTES:
        raise ValueError(f"refusing to save: the file would be {len(text)} bytes, more than a model file may "
                         f"be ({MAX_FILE_BYTES})")
    atomic_write(path, text, mode=FILE_MODE)


def _save_problem(module: Module, names: list[str]) -> str | None:
    """Why the file would not load back as ``module``, or None: a class ``load`` rebuilds from the
    file alone (exactly ``MLP``, not a subclass) must have the parameters its ``config`` rebuilds."""
    if type(module) is MODEL_CLASSES.get("MLP"):
        return _mlp_save_problem(module, names)
    return None


def _is_module(x: object) -> TypeGuard[Module]:
    """Whether ``x``'s class has what the format uses of ``nn.module.Module`` (its methods and
    its ``config`` property, not evaluated here); checked by name, since this module cannot
    import ``nn.module``. Every Module passes; a dict, a list or a ``torch.nn.Module`` does not."""
    cls = type(x)
    return all(callable(getattr(cls, name, None)) for name in _MODULE_METHODS) and hasattr(cls, "config")


def load(path: str | os.PathLike[str], into: Module | None = None) -> Module:
    """Rebuild a model saved with :func:`save`, or load its weights ``into`` a module.

    Without ``into`` the file must hold an ``MLP`` (its architecture is in the file); it is built
    with a private random generator, so the global ``random`` state is not touched. With ``into``,
    the file's class must be ``into``'s, its architecture ``into``'s (``init`` and ``fused`` may
    differ) and its weights and ties must fit; ``into`` is returned, and left unchanged if anything
    is wrong.

    Raises:
        TypeError: ``into`` is not a Module.
        ValueError: the file is larger than :data:`MAX_FILE_BYTES`, not UTF-8, not valid JSON,
            not a valuegrad model, of another format version, or a field is missing, unknown or
            of the wrong type or value, or the architecture does not match the stored weights or
            has more than :data:`MAX_PARAMETERS` parameters. The message names the file and says
            what is wrong.
        OSError: the file cannot be read (it does not exist, ...).
    """
    if into is not None and not _is_module(into):
        raise TypeError(f"load() into= must be a Module, got {type(into).__name__}")
    where = os.fspath(path)
    doc = _check_document(where, _read(where))
    arch: dict[str, Any] = doc["architecture"]
    state: dict[str, Any] = doc["state_dict"]
    ties: dict[str, str] = doc.get("ties", {})
    if into is None:
        model = _build(where, arch, state, ties)
    else:
        _check_into(where, arch, ties, into)
        model = into
    try:
        model.load_state_dict(state)
    except (TypeError, ValueError) as e:
        raise ValueError(f"{where}: {e}") from None
    return model


def load_metadata(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The ``metadata`` a model file was saved with (``model.save(path, metadata=...)``), or ``{}``.

    Raises:
        ValueError: the file is not a valid model file (see :func:`load`; the weights are not
            checked) or its metadata is not an object.
        OSError: the file cannot be read.
    """
    where = os.fspath(path)
    doc = _check_document(where, _read(where))
    metadata: dict[str, Any] = doc.get("metadata", {})
    return metadata


def _read(where: str) -> Any:
    """The file's JSON, read with every limit; any problem is a ValueError naming the file."""
    with open(where, "rb") as f:
        info = os.fstat(f.fileno())
        if stat.S_ISREG(info.st_mode) and info.st_size > MAX_FILE_BYTES:
            raise ValueError(f"{where}: the file is {info.st_size} bytes, larger than a model file may be "
                             f"({MAX_FILE_BYTES} bytes)")
        raw = f.read(MAX_FILE_BYTES + 1)
    if len(raw) > MAX_FILE_BYTES:
        raise ValueError(f"{where}: the file is larger than a model file may be ({MAX_FILE_BYTES} bytes)")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise ValueError(f"{where}: not UTF-8 text (byte 0x{raw[e.start]:02x} at offset {e.start}); "
                         "a model file is JSON in UTF-8") from None
    if text.startswith("\ufeff"):  # a byte-order mark some editors write
        text = text[1:]
    try:
        return json.loads(text, parse_int=_parse_int, object_pairs_hook=_object)
    except json.JSONDecodeError as e:
        raise ValueError(f"{where}: not valid JSON ({e.msg} at line {e.lineno}, column {e.colno})") from None
    except RecursionError:
        raise ValueError(f"{where}: not a model file: its JSON is nested too deeply") from None
    except ValueError as e:
        raise ValueError(f"{where}: not a model file: {e}") from None


def _parse_int(text: str) -> int:
    if len(text) > _MAX_DIGITS + 1:  # + 1 for a minus sign
        raise _FileError(f"it holds an integer of {len(text.lstrip('-'))} digits (at most {_MAX_DIGITS} are read)")
    return int(text)


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _FileError(f"the key {describe(key)} appears twice in one object")
            seen.add(key)
    return obj


def _check_document(where: str, doc: Any) -> dict[str, Any]:
    """Check the top level: format, version, known keys, and each field's type."""
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        got = f'"format": {describe(doc.get("format"))}' if isinstance(doc, dict) else f"a JSON {_json_type(doc)}"
        raise ValueError(f'{where}: not a valuegrad model file (expected an object with "format": "{FORMAT}", '
                         f"got {got})")
    version = doc.get("version")
    if type(version) is not int or version != VERSION:
        raise ValueError(f"{where}: format version {describe(version)} is not supported (expected the integer "
                         f"{VERSION})")
    unknown = [k for k in doc if k not in _TOP_KEYS]
    missing = [k for k in _REQUIRED_KEYS if k not in doc]
    if unknown or missing:
        problems = ([f"missing {', '.join(missing)}"] if missing else []) + (
            [f"unknown keys {describe(unknown)}"] if unknown else [])
        raise ValueError(f"{where}: {'; '.join(problems)} (a model file has {', '.join(_TOP_KEYS)})")
    arch = doc["architecture"]
    if not isinstance(arch, dict) or not isinstance(arch.get("type"), str) or not arch["type"]:
        raise ValueError(f'{where}: "architecture" must be an object naming the model\'s "type", '
                         f"got {describe(arch)}")
    for key, what in (("state_dict", "name -> number"), ("ties", "name -> name"), ("metadata", "anything")):
        if key in doc and not isinstance(doc[key], dict):
            raise ValueError(f'{where}: "{key}" must be an object ({what}), got a JSON {_json_type(doc[key])}')
    for alias, target in doc.get("ties", {}).items():
        if not isinstance(target, str) or alias in doc["state_dict"] or target not in doc["state_dict"]:
            raise ValueError(f'{where}: "ties" maps {describe(alias)} to {describe(target)}; it must map a name '
                             'that is not in "state_dict" to one that is')
    return doc


def _check_mlp(where: str, arch: dict[str, Any]) -> dict[str, Any]:
    """An MLP architecture's fields, every one checked: the constructor's keyword arguments."""
    unknown = [k for k in arch if k != "type" and k not in _MLP_KEYS]
    missing = [k for k in _MLP_KEYS if k not in arch]
    if unknown or missing:
        problems = ([f"missing {', '.join(missing)}"] if missing else []) + (
            [f"unknown keys {describe(unknown)}"] if unknown else [])
        raise ValueError(f"{where}: bad architecture: {'; '.join(problems)} (an MLP has {', '.join(_MLP_KEYS)})")

    def bad(key: str, expected: str) -> ValueError:
        return ValueError(f'{where}: bad architecture: "{key}" must be {expected}, got {describe(arch[key])}')

    nin, nouts = arch["nin"], arch["nouts"]
    if type(nin) is not int or nin < 1:
        raise bad("nin", "a positive integer")
    if type(nouts) is not list or not nouts or not all(type(n) is int and n >= 1 for n in nouts):
        raise bad("nouts", "a non-empty list of positive integers (the layer widths)")
    activations = tuple(ACTIVATION_TABLE)
    for key, valid in (("activation", activations), ("output_activation", activations), ("init", INITS)):
        if not isinstance(arch[key], str) or arch[key] not in valid:
            raise bad(key, "one of " + ", ".join(repr(v) for v in valid))
    if type(arch["fused"]) is not bool:
        raise bad("fused", "true or false")
    return {k: arch[k] for k in _MLP_KEYS}


def _mlp_count(nin: int, nouts: list[int]) -> int:
    """How many parameters ``MLP(nin, nouts)`` has: each neuron's weights and its bias."""
    return sum((a + 1) * b for a, b in zip([nin, *nouts], nouts))


def _mlp_names(nin: int, nouts: list[int]) -> Iterator[str]:
    """The parameter names of ``MLP(nin, nouts)``, in order."""
    for i, (a, b) in enumerate(zip([nin, *nouts], nouts)):
        for j in range(b):
            prefix = f"layers.{i}.neurons.{j}."
            for k in range(a):
                yield f"{prefix}w.{k}"
            yield f"{prefix}b"


def _build(where: str, arch: dict[str, Any], state: dict[str, Any], ties: dict[str, str]) -> Module:
    """The MLP the file describes, with its ties, after checking its size against the file's."""
    cls = MODEL_CLASSES.get("MLP")
    if arch["type"] != "MLP" or cls is None:
        raise ValueError(f"{where}: the file holds a {describe(arch['type'])}, which load() cannot rebuild by "
                         f"itself; load its weights into a new one: load(path, into={arch['type']:.40}(...))")
    kwargs = _check_mlp(where, arch)
    shape = f"nin={kwargs['nin']}, nouts={describe(kwargs['nouts'])}"
    count = _mlp_count(kwargs["nin"], kwargs["nouts"])
    if count > MAX_PARAMETERS:
        raise ValueError(f"{where}: bad architecture: {shape} has {describe(count)} parameters, more than a model "
                         f"file may hold ({MAX_PARAMETERS}); nothing was built")
    stored = len(state) + len(ties)
    if count != stored:
        tied = f" and {len(ties)} tied names" if ties else ""
        raise ValueError(f"{where}: bad architecture: {shape} has {count} parameters but the file stores "
                         f"{len(state)} weights{tied}: {_mismatch(kwargs['nin'], kwargs['nouts'], [*state, *ties])}")
    model: Module = cls(**kwargs, seed=_NoDraws())  # every weight is overwritten; the global random is not touched
    for alias, target in ties.items():
        holder, key = _slot(model, alias)
        holder_t, key_t = _slot(model, target)
        if holder is None or holder_t is None:
            raise ValueError(f'{where}: "ties" maps {describe(alias)} to {describe(target)}, which are not both '
                             "parameters of the architecture")
        value = holder_t[key_t] if isinstance(holder_t, list) else getattr(holder_t, key_t)
        if isinstance(holder, list):
            holder[int(key)] = value
        else:
            setattr(holder, key, value)
    if ties and parameter_ties(model) != ties:
        raise ValueError(f'{where}: "ties" are inconsistent: each must map a later name to the first name of the '
                         f"same parameter, got {describe(ties)}")
    return model


def _mismatch(nin: int, nouts: list[int], stored: list[str]) -> str:
    """Which stored names ``MLP(nin, nouts)`` lacks and which of its names are not stored, in time
    linear in ``len(stored)`` (the architecture may be far larger than the file)."""
    extra = [name for name in stored if not _is_mlp_name(name, nin, nouts)]
    have = set(stored)
    missing: list[str] = []
    for n, name in enumerate(_mlp_names(nin, nouts)):
        if name not in have:
            missing.append(name)
        if len(missing) > 5 or n > len(stored) + 5:  # past that, more than 5 are missing
            break
    parts = []
    if missing:
        parts.append(f"missing keys {describe(missing[:5])}")
    if extra:
        parts.append(f"unexpected keys {describe(extra[:5])} ({len(extra)} in all)")
    return "; ".join(parts)


def _is_mlp_name(name: str, nin: int, nouts: list[int]) -> bool:
    """Whether ``name`` is a parameter name of ``MLP(nin, nouts)``: ``layers.i.neurons.j.w.k`` or
    ``layers.i.neurons.j.b`` with every index in range."""
    parts = name.split(".")
    if len(parts) not in (5, 6) or parts[0] != "layers" or parts[2] != "neurons":
        return False
    i = _index(parts[1], len(nouts))
    if i is None or _index(parts[3], nouts[i]) is None:
        return False
    if len(parts) == 5:
        return parts[4] == "b"
    return parts[4] == "w" and _index(parts[5], nin if i == 0 else nouts[i - 1]) is not None


def _index(text: str, size: int) -> int | None:
    """``text`` as an index below ``size`` if it is one, written as ``str(int)`` writes it."""
    if not (text.isascii() and text.isdigit()) or len(text) > 12 or (text[0] == "0" and text != "0"):
        return None
    i = int(text)
    return i if i < size else None


def _slot(model: Module, name: str) -> tuple[Any, Any]:
    """Where the parameter called ``name`` is stored: ``(list, index)`` or ``(module, attribute)``,
    or ``(None, None)`` if ``name`` names no parameter of ``model``."""
    obj: Any = model
    parts = name.split(".")
    for n, part in enumerate(parts):
        if _is_module(obj) and not part.startswith("_") and part in vars(obj):
            key: Any = part
            child = vars(obj)[part]
        elif type(obj) is list and part.isascii() and part.isdigit() and len(part) < 10 and int(part) < len(obj):
            key = int(part)
            child = obj[key]
        else:
            return None, None
        if n == len(parts) - 1:
            return (obj, key) if isinstance(child, Value) else (None, None)
        obj = child
    return None, None


def _check_into(where: str, arch: dict[str, Any], ties: dict[str, str], into: Module) -> None:
    """The file must hold ``into``'s class, architecture and ties (its weights are checked by
    ``load_state_dict``)."""
    if arch["type"] != type(into).__name__:
        raise ValueError(f"{where}: the file holds a {arch['type']:.40}, not a {type(into).__name__}")
    if type(into) is MODEL_CLASSES.get("MLP"):
        _check_mlp(where, arch)
    own = into.config
    for key, value in own.items():
        if key in arch and key not in _NOT_COMPARED and arch[key] != value:
            raise ValueError(f"{where}: the file's {arch['type']:.40} has {key}={describe(arch[key])}, into= has "
                             f"{key}={describe(value)}")
    own_ties = parameter_ties(into)
    if own_ties != ties:
        raise ValueError(f"{where}: the file ties parameters as {describe(ties)}, into= ties them as "
                         f"{describe(own_ties)}")


def _json_type(x: object) -> str:
    names = {dict: "object", list: "array", str: "string", bool: "boolean", int: "number", float: "number"}
    return "null" if x is None else names.get(type(x), type(x).__name__)


def _mlp_save_problem(model: Any, names: list[str]) -> str | None:
    """Why saving the ``MLP`` ``model`` would write a file that ``load`` rejects or rebuilds
    differently, or None; ``names`` are the names of every path to a parameter."""
    config = model.config
    nin, nouts = config["nin"], config["nouts"]
    expected = set(_mlp_names(nin, nouts))
    if len(names) != len(expected) or not expected.issuperset(names):
        have = set(names)
        extra = [n for n in names if n not in expected]
        missing = [n for n in _mlp_names(nin, nouts) if n not in have]
        outside = [n for n in extra if not n.startswith("layers.")]
        if outside:
            attribute = outside[0].split(".", 1)[0]
            return (f"its attribute {attribute!r} holds parameters ({describe(outside[:3])}) that the file cannot "
                    "hold: nn.load rebuilds an MLP from its nin and nouts alone. Delete the attribute (keep the "
                    "Value outside the model, and its value in metadata=)")
        problems = ([f"unexpected parameters {describe(extra[:3])} ({len(extra)} in all)"] if extra else []) + (
            [f"missing parameters {describe(missing[:3])} ({len(missing)} in all)"] if missing else [])
        return (f"model.layers no longer matches its architecture (nin={nin}, nouts={nouts}): "
                f"{'; '.join(problems)}. Build a new MLP with the layers you want instead of editing .layers")
    for i, layer in enumerate(model.layers):
        want = config["activation"] if i < len(nouts) - 1 else config["output_activation"]
        for j, neuron in enumerate(getattr(layer, "neurons", [])):
            got = getattr(neuron, "activation", want)
            if got != want:
                return (f"layers.{i}.neurons.{j} uses activation {describe(got)} but the architecture says "
                        f"{want!r}, and only the architecture is saved")
    return None



def parameter_ties(module: Module) -> dict[str, str]:
    """``{other name: first name}`` for every parameter reached by more than one path: what a
    file's ``"ties"`` holds.

    Args:
        module: the module.

    Returns:
        The later names of each shared parameter, mapped to its first name (``{}`` if none is shared).
    """
    first: dict[int, str] = {}
    ties: dict[str, str] = {}
    for name, p in module.named_parameters(remove_duplicate=False):
        seen = first.setdefault(id(p), name)
        if seen != name:
            ties[name] = seen
    return ties
