"""``define_op``: turn a float function and its partial derivatives into a graph op."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from autograd import ops
from autograd.value import Value, _node, as_float

__all__ = ["define_op"]

_BUILTIN_NAMES = frozenset(
    {"+", "-", "*", "/", "**", "neg", "abs", "exp", "log", "sqrt", "tanh", "sigmoid", "relu", "softplus",
     "leaky_relu", "dot", ""}
)


def define_op(
    name: str,
    forward: Callable[..., float],
    local_grads: Callable[..., tuple[Any, ...]],
    nargs: int | None = None,
) -> Callable[..., Any]:
    """Make a new op from ``forward`` (floats -> float) and ``local_grads`` (inputs -> one partial per input).

    The returned function works on Values and on plain numbers. With at least one Value among its
    arguments it records a node whose ``op`` is ``name``; plain-number arguments then become
    constant leaf Values (so the op keeps all its inputs and can be checked and differentiated
    again). With only numbers it returns ``forward``'s float, so ops can call each other in rules.
    Defining a name again replaces the earlier definition (handy when re-running a notebook cell).

    Higher-order gradients work when ``local_grads`` is written with Value-compatible operations
    (``+ - * / **``, ``.exp()``, other ``define_op`` ops). If it uses ``math`` functions, first
    derivatives still work, and ``grad(..., create_graph=True)`` raises a ``TypeError`` that says so.

    Example:
        >>> import math
        >>> mysin = define_op("mysin", math.sin, lambda x: (mycos(x),))
        >>> mycos = define_op("mycos", math.cos, lambda x: (-mysin(x),))
        >>> x = Value(0.0); y = mysin(x); y.backward(); x.grad
        1.0
    """
    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"define_op name must be a non-empty string, got {name!r}")
    if name in _BUILTIN_NAMES or name.startswith("**") or name.endswith(("**", "/")):
        raise ValueError(f"define_op name {name!r} clashes with a built-in op; choose another name")
    if not callable(forward) or not callable(local_grads):
        raise TypeError("define_op needs two callables: forward(*floats) -> float and local_grads(*inputs) -> tuple")
    if nargs is None:
        nargs = _arity(forward)
        if nargs is None:  # e.g. math.hypot takes *args: the derivative function may say more
            nargs = _arity(local_grads)
        if nargs is None:
            raise TypeError(
                f"cannot tell how many arguments {name!r} takes (variable number of arguments); pass nargs="
            )
    if nargs < 1:
        raise ValueError(f"define_op {name!r} needs at least one argument, got nargs={nargs}")
    arity = nargs

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
            f = as_float(a)
            if f is None:
                raise TypeError(f"{name}() argument {i} must be a Value or a real number, got {type(a).__name__}")
            datas.append(f)
        out = float(forward(*datas))
        if not any_value:
            return out
        partials = tuple(local_grads(*datas))
        if len(partials) != arity:
            raise ValueError(f"{name}: local_grads returned {len(partials)} partial(s) for {arity} input(s)")
        parents = tuple(a if isinstance(a, Value) else Value(d) for a, d in zip(args, datas))
        return _node(out, name, parents, tuple(float(p) for p in partials))

    apply.__name__ = name
    apply.__doc__ = f"User-defined op {name!r} ({arity} argument(s))."
    ops.CUSTOM[name] = ops.Op(name, forward, local_grads)
    return apply


def _arity(f: Callable[..., Any]) -> int | None:
    """The number of required positional parameters, or None if variadic or not inspectable."""
    try:
        params = inspect.signature(f).parameters.values()
    except (TypeError, ValueError):
        return None
    if any(p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) for p in params):
        return None
    return sum(1 for p in params if p.default is p.empty)
