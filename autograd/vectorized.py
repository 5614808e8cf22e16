"""Vectorised replay: one recorded per-sample tape, replayed across a whole batch with NumPy.

``BatchTape(per_sample, params, example)`` records the graph of *one* sample's loss (its inputs
are the Values passed to ``per_sample``), then ``run(batch)`` replays every instruction once for
the whole batch: the inputs become NumPy arrays with one entry per sample, each op is one array
operation instead of one Python float operation per sample, and the parameters' gradients are
summed over the batch. The mean loss and its gradients equal the scalar path's up to the order
of the final sums (about 1e-15 relative)::

    def per_sample(v):                       # v = [x1, x2, label]
        return (1 + -v[2] * model(v[:2])).relu()

    tape = BatchTape(per_sample, model.parameters(), example=[0.0, 0.0, 1.0])
    model.zero_grad()
    mean_loss = tape.run([[x1, x2, label] for (x1, x2), label in zip(X, y)])

NumPy is needed (``pip install "valuegrad[fast]"``) and imported only when a BatchTape is made.
The same limits as :class:`~autograd.compiled.Tape` apply: plain numbers computed from ``.data``
are baked in as constants, so everything that differs between samples must be an input.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
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
from autograd.compiled import Tape
from autograd.value import Value

__all__ = ["BatchTape"]


def _numpy() -> Any:
    try:
        import numpy
    except ImportError:
        raise ImportError('BatchTape needs NumPy: pip install "valuegrad[fast]"') from None
    return numpy


class BatchTape:
    """A per-sample tape replayed over a batch with NumPy arrays.

    Args:
        per_sample: builds one sample's loss (a Value) from a list of input Values.
        params: the parameters (leaves) whose gradients ``run`` accumulates.
        example: one sample's inputs, used to record the graph.
    """

    def __init__(self, per_sample: Callable[[list[Value]], Value], params: Sequence[Value],
                 example: Sequence[float]) -> None:
        self.np = _numpy()
        self.params = list(params)
        self.inputs = [Value(x) for x in example]
        self.tape = Tape(lambda: per_sample(self.inputs), [*self.params, *self.inputs])
        self.n_inputs = len(self.inputs)

    def run(self, batch: Sequence[Sequence[float]], grad: float | None = None) -> float:
        """Replay forward and backward for every sample at once.

        Adds ``grad * d(sum of per-sample losses)/d p`` to each parameter's ``.grad`` (``grad``
        defaults to ``1 / len(batch)``, i.e. the gradient of the mean) and returns the mean loss.
        """
        np = self.np
        X = np.asarray(batch, dtype=np.float64)
        if X.ndim != 2 or X.shape[1] != self.n_inputs:
            raise ValueError(f"BatchTape.run expects a batch of rows with {self.n_inputs} inputs, got shape {X.shape}")
        n = X.shape[0]
        if n == 0:
            raise ValueError("BatchTape.run needs at least one sample")
        scale = 1.0 / n if grad is None else float(grad)
        tape = self.tape
        n_params = len(self.params)
        vals: list[Any] = list(tape._init)
        for i, p in enumerate(self.params):
            vals[i] = p.data
        for j in range(self.n_inputs):
            vals[n_params + j] = X[:, j]
        locs: list[tuple[Any, ...]] = []
        with np.errstate(all="ignore"):
            for kind, o, ps, c, extra in tape._code:
                out, local = _step(np, kind, ps, c, extra, vals)
                vals[o] = out
                locs.append(local)
            grads: list[Any] = [0.0] * len(vals)
            grads[tape._out] = np.full(n, scale)
            code = tape._code
            for idx in range(len(code) - 1, -1, -1):
                _, o, ps, _, _ = code[idx]
                g = grads[o]
                for slot, local in zip(ps, locs[idx]):
                    grads[slot] = grads[slot] + local * g
        for i, param in enumerate(self.params):
            g = grads[i]
            param.grad = param.grad + float(np.sum(g) if np.ndim(g) else g)
        loss = vals[tape._out]
        return float(np.mean(loss)) if np.ndim(loss) else float(loss)


def _both_scalars(*xs: Any) -> bool:
    return all(isinstance(x, float) for x in xs)


Replayed = tuple[Any, tuple[Any, ...]]  # (output, local gradients): floats or arrays


def _step(np: Any, kind: int, ps: tuple[int, ...], c: float, extra: Any, vals: list[Any]) -> Replayed:
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
        return _unary_array(np, extra, x)
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


def _unary_array(np: Any, op: ops.Op, x: Any) -> Replayed:
    name = op.name
    if name == "relu":
        out = np.where((x > 0.0) | np.isnan(x), x, 0.0)
        return out, (np.where(np.isnan(x), x, np.where(x > 0.0, 1.0, 0.0)),)
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

