"""``define_op``: turn a float function and its partial derivatives into a registered op.

A user's op becomes a :class:`~autograd.ops.Primitive` in the same registry as the built-ins, so
it runs everywhere a built-in does: graphs, higher-order gradients, ``gradcheck``, drawings, step
records, ``Tape`` (interpreted and generated code) and ``BatchTape``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from types import CodeType
from typing import Any

from autograd import ops
from autograd.value import Value, record_node

__all__ = ["define_op"]


def define_op(
    name: str,
    forward: Callable[..., float],
    local_grads: Callable[..., tuple[Any, ...]],
    nargs: int | None = None,
    *,
    array_forward: Callable[..., Any] | None = None,
    array_local_grads: Callable[..., tuple[Any, ...]] | None = None,
    sympy: Callable[..., Any] | None = None,
) -> Callable[..., Any]:
    """Make a new op from ``forward`` (floats -> float) and ``local_grads`` (inputs -> one partial per input).

    The returned function works on Values and on plain numbers. With at least one Value among its
    arguments it records a node whose ``op`` is ``name``; plain-number arguments then become
    constant leaf Values (so the op keeps all its inputs and can be checked and differentiated
    again). With only numbers it returns ``forward``'s float, so ops can call each other in rules.
    Defining a name again replaces the earlier definition (handy when re-running a notebook cell);
    a name of a built-in op is refused.

    Higher-order gradients work when ``local_grads`` is written with Value-compatible operations
    (``+ - * / **``, ``.exp()``, other ``define_op`` ops). If it uses ``math`` functions, first
    derivatives still work, and ``grad(..., create_graph=True)`` raises a ``TypeError`` that says so.

    Args:
        name: what ``node.op`` shows.
        forward: the op on floats.
        local_grads: the partial derivatives, one per argument, given the arguments.
        nargs: the number of arguments, when it cannot be read from ``forward``'s signature.
        array_forward: optional, the op on arrays for the batch replay (e.g. ``numpy.sin``).
        array_local_grads: optional, the partials on arrays (e.g. ``lambda x: (numpy.cos(x),)``).
            Without array forms, ``BatchTape`` applies the float forms entry by entry (correct,
            slower).
        sympy: optional, the op on SymPy expressions (``autograd.to_sympy``); without it the
            op becomes an undefined SymPy function of its inputs.

    Example:
        >>> import math
        >>> mysin = define_op("mysin", math.sin, lambda x: (mycos(x),))
        >>> mycos = define_op("mycos", math.cos, lambda x: (-mysin(x),))
        >>> x = Value(0.0); y = mysin(x); y.backward(); x.grad
        1.0
    """
    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"define_op name must be a non-empty string, got {name!r}")
    builtin = ops.REGISTRY.get(name)
    shown = {p.op for p in ops.REGISTRY.values() if p.builtin}
    if (builtin is not None and builtin.builtin) or name in shown or "{c}" in name:
        raise ValueError(f"define_op name {name!r} clashes with a built-in op; choose another name")
    if not callable(forward) or not callable(local_grads):
        raise TypeError("define_op needs two callables: forward(*floats) -> float and local_grads(*inputs) -> tuple")
    for what, f in (("array_forward", array_forward), ("array_local_grads", array_local_grads), ("sympy", sympy)):
        if f is not None and not callable(f):
            raise TypeError(f"define_op {what} must be callable or None, got {type(f).__name__}")
    if nargs is None:
        nargs = _arity(forward)
        if nargs is None:  # e.g. math.hypot takes *args: the derivative function may say more
            nargs = _arity(local_grads)
        if nargs is None:
            raise TypeError(
                f"cannot tell how many arguments {name!r} takes (variable number of arguments); pass nargs="
            )
    if isinstance(nargs, bool) or not isinstance(nargs, int) or nargs < 1:
        raise ValueError(f"define_op {name!r} needs at least one argument, got nargs={nargs!r}")
    arity = nargs

    def float_forward(*xs: float) -> float:
        out = forward(*xs)
        f = ops.as_float(out)
        if f is None:
            raise TypeError(f"op {name!r}: forward must return a real number, got {type(out).__name__}")
        return f

    def rule(*xs_out: Any) -> tuple[Any, ...]:
        xs = xs_out[:-1]
        try:
            partials = local_grads(*xs)
        except TypeError as e:
            if any(isinstance(x, Value) for x in xs):
                raise TypeError(
                    f"op {name!r}: its local_grads function does not accept Values ({e}); write it with Value "
                    f"operations (+ - * / **, .exp(), .log(), other define_op ops) to differentiate it twice"
                ) from None
            raise
        return _checked_partials(name, partials, arity)

    def array_rule(*xs_out: Any) -> tuple[Any, ...]:
        assert array_local_grads is not None
        return tuple(array_local_grads(*xs_out[:-1]))

    prim = ops.register(
        ops.Primitive(
            name, float_forward, rule, arity=arity,
            array_forward=array_forward,
            array_local_grads=array_rule if array_local_grads is not None else None,
            sympy=sympy, builtin=False,
            definition=_definition(forward, local_grads, array_forward, array_local_grads, nargs),
        ),
        replace=True,
    )

    def apply(*args: Any) -> Any:
        if len(args) != arity:
            raise TypeError(f"{name}() takes {arity} argument(s), got {len(args)}")
        datas: list[float] = []
        any_value = False
        for i, a in enumerate(args):
            if isinstance(a, Value):
                datas.append(a.data)
                any_value = True
                continue
            f = ops.as_float(a)
            if f is None:
                raise TypeError(f"{name}() argument {i} must be a Value or a real number, got {type(a).__name__}")
            datas.append(f)
        if not any_value:  # plain numbers in, a float out (rules call ops like this)
            return float_forward(*datas)
        out, partials = prim.evaluate(datas)
        parents = tuple(a if isinstance(a, Value) else Value(d) for a, d in zip(args, datas))
        return record_node(out, prim, parents, partials)

    apply.__name__ = name
    apply.__doc__ = f"User-defined op {name!r} ({arity} argument(s))."
    return apply


def _checked_partials(name: str, partials: Any, arity: int) -> tuple[Any, ...]:
    """The partials as a tuple of floats (or Values, for higher order), checked for length and type."""
    if isinstance(partials, (str, bytes)) or not hasattr(partials, "__len__"):
        raise TypeError(
            f"op {name!r}: local_grads must return a tuple with one partial per argument, got {type(partials).__name__}"
        )
    if len(partials) != arity:
        raise ValueError(f"op {name!r}: local_grads returned {len(partials)} partial(s) for {arity} input(s)")
    out: list[Any] = []
    for i, p in enumerate(partials):
        if isinstance(p, Value):
            out.append(p)
            continue
        f = ops.as_float(p)
        if f is None:
            raise TypeError(f"op {name!r}: partial {i} must be a real number or a Value, got {type(p).__name__}")
        out.append(f)
    return tuple(out)


def _arity(f: Callable[..., Any]) -> int | None:
    """The number of required positional parameters, or None if variadic or not inspectable."""
    import inspect  # here, not at the top: inspect costs several milliseconds of ``import autograd``

    try:
        params = inspect.signature(f).parameters.values()
    except (TypeError, ValueError):
        return None
    if any(p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) for p in params):
        return None
    return sum(1 for p in params if p.default is p.empty)


def _definition(*parts: Any) -> str:
    """A digest of what defines an op: each function's code (bytecode, names, constants, nested
    code), defaults and closed-over values, so the same source gives the same digest in any
    process and a changed rule gives another."""
    return hashlib.sha256(repr(tuple(_key(p, 0) for p in parts)).encode()).hexdigest()[:16]


def _key(obj: Any, depth: int) -> Any:
    if depth > 8:  # a deeply nested closure chain: its top levels identify it well enough
        return type(obj).__name__
    if isinstance(obj, CodeType):
        return (obj.co_code, obj.co_names, obj.co_varnames, tuple(_key(c, depth + 1) for c in obj.co_consts))
    code = getattr(obj, "__code__", None)
    if isinstance(code, CodeType):
        cells = tuple(_cell_key(c, obj, depth) for c in (getattr(obj, "__closure__", None) or ()))
        defaults = tuple(_key(d, depth + 1) for d in (getattr(obj, "__defaults__", None) or ()))
        return (_key(code, depth + 1), defaults, cells)
    if obj is None or isinstance(obj, (bool, int, float, str, bytes)):
        return repr(obj)
    if isinstance(obj, (tuple, list)):
        return tuple(_key(x, depth + 1) for x in obj)
    # a builtin function or another object: its name (a module function, math.sin) or its type
    return f"{getattr(obj, '__module__', '')}.{getattr(obj, '__qualname__', type(obj).__qualname__)}"


def _cell_key(cell: Any, owner: Any, depth: int) -> Any:
    try:
        contents = cell.cell_contents
    except ValueError:  # a closure variable not assigned yet (a function defined before it)
        return "<empty>"
    return "<self>" if contents is owner else _key(contents, depth + 1)
