"""The ops of a tape on NumPy arrays: the scalar replay's formulas, one array operation per op.

``step`` evaluates one tape instruction on operands that are floats (values shared by every
sample: parameters, constants) or 1-D/2-D arrays (one entry per sample), returning the output
and the local gradient of each parent. The formulas, IEEE edge cases included (``relu'(nan)`` is
nan, ``log(0)`` is ``-inf``, PyTorch's conventions at ``0 ** 0``), are those of ``autograd.ops``.
Used by :class:`autograd.vectorized.BatchTape`.
"""

from __future__ import annotations

from typing import Any

from autograd import ops
from autograd.codegen import (
    ADD,
    ADDC,
    DIV,
    DIVC,
    DOT,
    MUL,
    MULC,
    POW,
    POWC,
    RDIVC,
    RPOWC,
    RSUBC,
    SUB,
    SUBC,
    UNARY,
)

__all__ = ["UNARY_NAMES", "Replayed", "step", "unary"]

UNARY_NAMES = frozenset({"relu", "leaky_relu", "tanh", "sigmoid", "exp", "log", "sqrt", "softplus", "abs", "neg"})
"""The one-input ops :func:`unary` evaluates on arrays."""


def _both_scalars(*xs: Any) -> bool:
    return all(isinstance(x, float) for x in xs)


Replayed = tuple[Any, tuple[Any, ...]]  # (output, local gradients): floats or arrays


def step(np: Any, kind: int, ps: tuple[int, ...], c: float, extra: Any, vals: list[Any]) -> Replayed:
    """One instruction on floats or arrays: the same formulas as the scalar replay, in NumPy."""
    if kind == DOT:
        acc = vals[ps[-1]] if extra else 0.0
        local: list[Any] = []
        for j in range(0, len(ps) - 1, 2):
            w, x = vals[ps[j]], vals[ps[j + 1]]
            acc = acc + w * x
            local += (x, w)
        if extra:
            local.append(1.0)
        return acc, tuple(local)
    if kind == UNARY:
        x = vals[ps[0]]
        if isinstance(x, float):
            out = extra.forward(x)
            return out, extra.partials(x, out)
        return unary(np, extra, x)
    if kind == MUL:
        x, y = vals[ps[0]], vals[ps[1]]
        return x * y, (y, x)
    if kind == ADD:
        return vals[ps[0]] + vals[ps[1]], (1.0, 1.0)
    if kind == MULC:
        return vals[ps[0]] * c, (c,)
    if kind == ADDC:
        return vals[ps[0]] + c, (1.0,)
    if kind == SUB:
        return vals[ps[0]] - vals[ps[1]], (1.0, -1.0)
    if kind == SUBC:
        return vals[ps[0]] - c, (1.0,)
    if kind == RSUBC:
        return c - vals[ps[0]], (-1.0,)
    if kind in (DIV, DIVC, RDIVC, POW, POWC, RPOWC):
        return _division_or_power(np, kind, ps, c, vals)
    xs = [vals[p] for p in ps]  # CUSTOM: the user's float functions, element by element
    if _both_scalars(*xs):
        return float(extra.forward(*xs)), tuple(float(g) for g in extra.partials(*xs))
    fwd = np.vectorize(lambda *a: float(extra.forward(*a)), otypes=[float])
    grads = [np.vectorize(lambda *a, i=i: float(extra.partials(*a)[i]), otypes=[float]) for i in range(len(xs))]
    return fwd(*xs), tuple(g(*xs) for g in grads)


def _division_or_power(np: Any, kind: int, ps: tuple[int, ...], c: float, vals: list[Any]) -> Replayed:
    x = vals[ps[0]]
    if kind in (DIV, POW):
        y = vals[ps[1]]
        if _both_scalars(x, y):
            out = ops.fdiv(x, y) if kind == DIV else ops.fpow(x, y)
            return out, (ops.DIV if kind == DIV else ops.POW).partials(x, y, out)
        x, y = np.broadcast_arrays(np.asarray(x, dtype=float), np.asarray(y, dtype=float))
        if kind == DIV:
            out = x / y
            return out, (1.0 / y, -(out / y))
        out = np.power(x, y)
        dx = np.where((y == 0.0) & ~np.isfinite(np.power(x, y - 1.0)), 0.0, y * np.power(x, y - 1.0))
        dy = np.where((x == 0.0) & (y >= 0.0), 0.0, out * np.log(x))
        return out, (dx, dy)
    if isinstance(x, float):
        if kind == DIVC:
            return ops.fdiv(x, c), (ops.fdiv(1.0, c),)
        if kind == RDIVC:
            out = ops.fdiv(c, x)
            return out, ops.rdiv_const_partials(x, out, c)
        if kind == POWC:
            out = ops.fpow(x, c)
            return out, ops.pow_const_partials(x, out, c)
        out = ops.fpow(c, x)
        return out, ops.rpow_const_partials(x, out, c)
    if kind == DIVC:
        return x / c, (ops.fdiv(1.0, c),)
    if kind == RDIVC:
        out = c / x
        return out, (-(out / x),)
    if kind == POWC:
        out = np.power(x, c)
        return out, (0.0 if c == 0.0 else c * np.power(x, c - 1.0),)
    out = np.power(c, x)  # RPOWC
    if c == 0.0:
        return out, (np.where(x >= 0.0, 0.0, out * ops.flog(c)),)
    return out, (out * ops.flog(c),)


def unary(np: Any, op: ops.Op, x: Any) -> Replayed:
    name = op.name
    if name == "relu":  # maximum and heaviside keep nan: relu(nan) and relu'(nan) are nan
        return np.maximum(x, 0.0), (np.heaviside(x, 0.0),)
    if name == "leaky_relu":
        slope = op.partials(-1.0, 0.0)[0]  # the op's slope, read from its own rule
        out = np.where((x > 0.0) | np.isnan(x), x, slope * x)
        return out, (np.where(np.isnan(x), x, np.where(x > 0.0, 1.0, slope)),)
    if name == "tanh":
        out = np.tanh(x)
        return out, (1.0 - out * out,)
    if name == "sigmoid":
        out = _sigmoid(np, x)
        return out, (out * (1.0 - out),)
    if name == "exp":
        out = np.exp(x)
        return out, (out,)
    if name == "log":
        return np.log(x), (1.0 / x,)
    if name == "sqrt":
        out = np.sqrt(x)
        return out, (0.5 / out,)
    if name == "softplus":
        return np.maximum(x, 0.0) + np.log1p(np.exp(-np.abs(x))), (_sigmoid(np, x),)
    if name == "abs":
        return np.abs(x), (np.where(np.isnan(x), x, np.sign(x)),)
    if name == "neg":
        return -x, (-1.0,)
    raise ValueError(f"no vectorised form for op {name!r}")


def _sigmoid(np: Any, x: Any) -> Any:
    e = np.exp(-np.abs(x))  # never overflows
    return np.where(x >= 0.0, 1.0 / (1.0 + e), e / (1.0 + e))

