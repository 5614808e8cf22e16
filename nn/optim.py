"""Optimizers with PyTorch's exact update rules: ``SGD``, ``Adam``, ``AdamW``.

Each takes a list of parameters (``model.parameters()``), reads ``p.grad`` and updates ``p.data``
in place (no graph is built). The learning rate may be a number or a function of the step
number (0 for the first ``step()``), e.g. micrograd's ``lambda k: 1.0 - 0.9 * k / 100``.

The formulas follow the documentation of ``torch.optim.SGD``, ``Adam`` and ``AdamW``
(dampening 0, no amsgrad, bias correction included), operation by operation, so trajectories
match PyTorch's in float64 to rounding.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from typing import Any, ClassVar

from autograd import Value
from autograd.value import as_float
from nn.module import Module, describe

__all__ = ["SGD", "Adam", "AdamW", "Optimizer", "micrograd_lr"]

LearningRate = float | Callable[[int], float]


def micrograd_lr(steps: int) -> Callable[[int], float]:
    """micrograd's learning-rate schedule for a run of ``steps`` steps: ``1.0 - 0.9 * k / steps``
    at step ``k`` (from 1.0 down towards 0.1).

        >>> micrograd_lr(100)(50)
        0.55
    """
    return lambda k: 1.0 - 0.9 * k / steps


def _real(name: str, x: object, low: float = 0.0) -> float:
    f = None if isinstance(x, bool) else as_float(x)
    if f is None or not math.isfinite(f) or f < low:
        raise ValueError(f"{name} must be a finite number >= {low}, got {describe(x)}")
    return f


class Optimizer:
    """Shared parts: the parameter list, the step counter, ``zero_grad`` and the learning rate.

    ``params`` is an ordered collection of distinct Values, usually ``model.parameters()``: a
    ``set`` or ``dict`` (no defined order, so ``state_dict()`` could not be matched to the
    parameters) and a parameter listed twice (it would be updated twice per step) are refused.
    """

    _buffers: ClassVar[dict[str, str]] = {}
    """Each per-parameter buffer's kind: ``'optional'`` (a number or None), ``'real'`` (a finite
    number) or ``'nonnegative'`` (a finite number >= 0)."""

    def __init__(self, params: Sequence[Value], lr: LearningRate) -> None:
        who = type(self).__name__
        if isinstance(params, Value):
            raise TypeError(f"{who} expects a list of parameters, got a single Value; pass [value]")
        if isinstance(params, Module):
            raise TypeError(f"{who} expects a list of parameters, got a {type(params).__name__}; "
                            "pass model.parameters()")
        if isinstance(params, (AbstractSet, Mapping)):
            raise TypeError(f"{who} expects the parameters in a fixed order (a list such as model.parameters()), "
                            f"got a {type(params).__name__}, whose order is not defined")
        if isinstance(params, (str, bytes)) or not isinstance(params, Iterable):
            raise TypeError(f"{who} expects a list of parameters (Values), got {type(params).__name__}")
        params = list(params)
        if not params:
            raise ValueError("optimizer got an empty parameter list")
        first: dict[int, int] = {}
        for i, p in enumerate(params):
            if not isinstance(p, Value):
                raise TypeError(f"optimizer parameter {i} must be a Value, got {type(p).__name__}")
            j = first.setdefault(id(p), i)
            if j != i:
                raise ValueError(f"optimizer parameter {i} is the same Value as parameter {j}: it would be updated "
                                 "twice per step; list each parameter once (model.parameters() does)")
        if not callable(lr):
            _real("lr", lr)
        self.params = params
        self.lr = lr
        self.steps = 0

    def current_lr(self) -> float:
        """The learning rate the next ``step()`` will use."""
        lr = self.lr(self.steps) if callable(self.lr) else self.lr
        return float(lr)

    def zero_grad(self) -> None:
        """Set every parameter's gradient to 0.0."""
        for p in self.params:
            p.grad = 0.0

    def step(self) -> None:
        """Apply one update to every parameter from its current ``.grad``."""
        lr = self.current_lr()
        for i, p in enumerate(self.params):
            self._update(i, p, lr)
        self.steps += 1

    def _update(self, i: int, p: Value, lr: float) -> None:
        raise NotImplementedError

    def step_arrays(self, np: Any, data: Any, grads: Any) -> Any:
        """One update on NumPy arrays of the parameters' values and gradients (in ``params``
        order), without touching the Values: returns the new values, or None when this optimizer
        has no array form (then call :meth:`step`). The same floats as :meth:`step`.

        Between array steps an optimizer keeps its per-parameter buffers (momentum, Adam's moments)
        as NumPy arrays, updated in place; :meth:`step` and :meth:`state_dict` turn them back into
        lists of floats, so mixing the two forms and saving state give the loop's numbers."""
        return None

    def _hyper(self) -> dict[str, Any]:
        return {}

    def _state(self) -> dict[str, list[float]]:
        return {}

    def state_dict(self) -> dict[str, Any]:
        """JSON-serialisable state: hyper-parameters, step count and per-parameter buffers."""
        return {"type": type(self).__name__, "steps": self.steps, "hyper": self._hyper(), "state": self._state()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore the step count and buffers from :meth:`state_dict` output of the same class, for
        the same number of parameters; checks everything first and changes nothing on error.

        The hyper-parameters stay the constructor's: ``state["hyper"]`` must be present with the
        same keys, but its values are not applied.

        Raises:
            TypeError: ``state`` or one of its parts has the wrong type (not a dict, a buffer that
                is not a list, an entry that is not a number, ...).
            ValueError: keys are missing or unknown, the state is another optimizer's, ``steps``
                is negative, a buffer's length is not the number of parameters, or an entry is
                not finite (or is negative where it must not be).
        """
        me = type(self).__name__
        if not isinstance(state, dict):
            raise TypeError(f"{me}.load_state_dict() expects the dict {me}.state_dict() returns, "
                            f"got {type(state).__name__}")
        _same_keys(f"{me} state", state, ("type", "steps", "hyper", "state"))
        if state["type"] != me:
            raise ValueError(f"optimizer state is for {describe(state['type'])}, not {me!r}")
        steps = state["steps"]
        if isinstance(steps, bool) or not isinstance(steps, int):
            raise TypeError(f"{me} state 'steps' must be an int (the number of steps taken), "
                            f"got {type(steps).__name__} {describe(steps)}")
        if steps < 0:
            raise ValueError(f"{me} state 'steps' must be >= 0, got {describe(steps)}")
        hyper = state["hyper"]
        if not isinstance(hyper, dict):
            raise TypeError(f"{me} state 'hyper' must be a dict, got {type(hyper).__name__}")
        _same_keys(f"{me} state 'hyper'", hyper, tuple(self._hyper()))
        buffers = state["state"]
        if not isinstance(buffers, dict):
            raise TypeError(f"{me} state 'state' must be a dict of buffers, got {type(buffers).__name__}")
        _same_keys(f"{me} state 'state'", buffers, tuple(self._buffers))
        n = len(self.params)
        loaded: dict[str, list[float | None]] = {}
        for name, kind in self._buffers.items():
            values = buffers[name]
            if not isinstance(values, (list, tuple)):
                raise TypeError(f"optimizer buffer {name!r} must be a list of {n} floats (one per parameter), "
                                f"got {type(values).__name__}")
            if len(values) != n:
                raise ValueError(f"optimizer buffer {name!r} must be a list of {n} floats (one per parameter), "
                                 f"got {len(values)}")
            loaded[name] = [_entry(name, kind, i, v) for i, v in enumerate(values)]
        self.steps = steps
        for name, values in loaded.items():
            setattr(self, "_" + name, values)


def _same_keys(what: str, d: dict[Any, Any], expected: tuple[str, ...]) -> None:
    missing = [k for k in expected if k not in d]
    unknown = [k for k in d if k not in expected]
    if missing or unknown:
        problems = ([f"missing keys {missing}"] if missing else []) + (
            [f"unknown keys {describe(unknown)}"] if unknown else [])
        raise ValueError(f"{what}: {'; '.join(problems)} (expected keys: {', '.join(expected) or 'none'})")


def _entry(name: str, kind: str, i: int, v: object) -> float | None:
    """Entry ``i`` of buffer ``name`` as a float (or None where the buffer allows it)."""
    if v is None and kind == "optional":
        return None
    f = None if isinstance(v, bool) else as_float(v)
    if f is None:
        expected = "a number or None" if kind == "optional" else "a number"
        raise TypeError(f"optimizer buffer {name!r} entry {i} must be {expected}, got {type(v).__name__} "
                        f"{describe(v)}")
    if not math.isfinite(f) or (kind == "nonnegative" and f < 0.0):
        rule = "finite and >= 0" if kind == "nonnegative" else "finite"
        raise ValueError(f"optimizer buffer {name!r} entry {i} must be {rule}, got {describe(v)}")
    return f


ARRAY_STEP_MIN_PARAMS = 512
"""From this many parameters on, ``Adam`` and ``AdamW`` update with NumPy arrays when NumPy is
installed: the same operations in the same order on float64, so the same bits, in one array
operation each instead of a Python loop (2,410 parameters: about 0.4 ms instead of 3.4 ms)."""


def _numpy_for(params: Sequence[Value]) -> Any:
    if len(params) < ARRAY_STEP_MIN_PARAMS:
        return None
    try:
        import numpy
    except ImportError:
        return None
    return numpy


def _floats(buffer: Any) -> list[Any]:
    """A per-parameter buffer as a list of Python floats (array steps keep buffers as arrays)."""
    if isinstance(buffer, list):
        return buffer
    floats: list[Any] = buffer.tolist()
    return floats


class SGD(Optimizer):
    """Stochastic gradient descent with optional momentum, L2 weight decay and Nesterov momentum.

    ``g = grad + weight_decay * p``; with momentum ``buf = momentum * buf + g`` (``buf = g`` at
    first) and ``g = g + momentum * buf`` (Nesterov) or ``g = buf``; then ``p -= lr * g``.

    Example:
        >>> w = Value(1.0); w.grad = 0.5
        >>> SGD([w], lr=0.1).step(); w.data
        0.95
    """

    _buffers: ClassVar[dict[str, str]] = {"momentum_buffer": "optional"}

    def __init__(
        self,
        params: Sequence[Value],
        lr: LearningRate,
        momentum: float = 0.0,
        weight_decay: float = 0.0,
        nesterov: bool = False,
    ) -> None:
        super().__init__(params, lr)
        self.momentum = _real("momentum", momentum)
        self.weight_decay = _real("weight_decay", weight_decay)
        if nesterov and self.momentum == 0.0:
            raise ValueError("nesterov momentum needs momentum > 0")
        self.nesterov = bool(nesterov)
        self._momentum_buffer: Any = [None] * len(self.params)  # or a NumPy array between array steps

    def step(self) -> None:
        """Apply one update to every parameter from its current ``.grad``."""
        self._momentum_buffer = _floats(self._momentum_buffer)
        super().step()

    def _update(self, i: int, p: Value, lr: float) -> None:
        g = p.grad
        if self.weight_decay:
            g = g + self.weight_decay * p.data
        if self.momentum:
            buf = self._momentum_buffer[i]
            buf = g if buf is None else buf * self.momentum + g
            self._momentum_buffer[i] = buf
            g = g + self.momentum * buf if self.nesterov else buf
        p.data = p.data + -lr * g

    def step_arrays(self, np: Any, data: Any, grads: Any) -> Any:
        """:meth:`step` on arrays: the same operations, so the same floats."""
        buffers = self._momentum_buffer
        started = isinstance(buffers, np.ndarray) or any(b is not None for b in buffers)
        if self.momentum and started and not isinstance(buffers, np.ndarray) and any(b is None for b in buffers):
            return None  # a half-started momentum state: only the loop handles it
        lr = self.current_lr()
        g = grads
        if self.weight_decay:
            g = g + self.weight_decay * data
        if self.momentum:
            if started:
                buf = np.asarray(buffers, dtype=np.float64) * self.momentum + g
            else:
                buf = np.array(g, dtype=np.float64)
            self._momentum_buffer = buf  # kept as an array between array steps
            g = g + self.momentum * buf if self.nesterov else buf
        self.steps += 1
        return data + -lr * g

    def _hyper(self) -> dict[str, Any]:
        lr = self.lr if not callable(self.lr) else None
        return {"lr": lr, "momentum": self.momentum, "weight_decay": self.weight_decay, "nesterov": self.nesterov}

    def _state(self) -> dict[str, list[float]]:
        return {"momentum_buffer": _floats(self._momentum_buffer)}


class Adam(Optimizer):
    """Adam (Kingma & Ba) as in ``torch.optim.Adam``: L2 ``weight_decay`` is added to the gradient.

    ``m = b1*m + (1-b1)*g``, ``v = b2*v + (1-b2)*g*g``,
    ``p -= lr / (1 - b1**t) * m / (sqrt(v) / sqrt(1 - b2**t) + eps)``.
    """

    decoupled = False
    _buffers: ClassVar[dict[str, str]] = {"exp_avg": "real", "exp_avg_sq": "nonnegative"}

    def __init__(
        self,
        params: Sequence[Value],
        lr: LearningRate = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
    ) -> None:
        super().__init__(params, lr)
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise ValueError(f"betas must be a pair of numbers in [0, 1), got {betas!r}")
        b1, b2 = (_real("beta", b) for b in betas)
        if not (b1 < 1.0 and b2 < 1.0):
            raise ValueError(f"betas must be in [0, 1), got {betas!r}")
        self.betas = (b1, b2)
        self.eps = _real("eps", eps)
        self.weight_decay = _real("weight_decay", weight_decay)
        # lists of floats, or NumPy arrays between array steps (``step_arrays``)
        self._exp_avg: Any = [0.0] * len(self.params)
        self._exp_avg_sq: Any = [0.0] * len(self.params)

    def step(self) -> None:
        """One Adam update of every parameter (bias-corrected)."""
        lr = self.current_lr()
        b1, b2 = self.betas
        t = self.steps + 1
        step_size = lr / (1.0 - b1**t)
        bc2_sqrt = math.sqrt(1.0 - b2**t)
        np = _numpy_for(self.params)
        if np is not None:
            params = self.params
            n = len(params)
            data = self.step_arrays(np, np.fromiter((p.data for p in params), np.float64, n),
                                    np.fromiter((p.grad for p in params), np.float64, n))
            for p, d in zip(params, data.tolist()):
                p.data = d
            return
        self._exp_avg, self._exp_avg_sq = _floats(self._exp_avg), _floats(self._exp_avg_sq)
        for i, p in enumerate(self.params):
            g = p.grad
            if self.weight_decay:
                if self.decoupled:
                    p.data = p.data * (1.0 - lr * self.weight_decay)
                else:
                    g = g + self.weight_decay * p.data
            m = self._exp_avg[i]
            m = m + (g - m) * (1.0 - b1)  # torch: exp_avg.lerp_(grad, 1 - beta1)
            v = self._exp_avg_sq[i] * b2 + (1.0 - b2) * g * g
            self._exp_avg[i] = m
            self._exp_avg_sq[i] = v
            denom = math.sqrt(v) / bc2_sqrt + self.eps
            p.data = p.data + -step_size * (m / denom)
        self.steps = t

    def step_arrays(self, np: Any, data: Any, g: Any) -> Any:
        """The same update on NumPy arrays, operation by operation (so bit for bit the same
        floats): for thousands of parameters one array operation beats a Python loop."""
        lr = self.current_lr()
        b1, b2 = self.betas
        t = self.steps + 1
        step_size = lr / (1.0 - b1**t)
        bc2_sqrt = math.sqrt(1.0 - b2**t)
        if self.weight_decay:
            if self.decoupled:
                data = data * (1.0 - lr * self.weight_decay)
            else:
                g = g + self.weight_decay * data
        # in place on the buffers (kept as arrays between array steps), each operation as in step()
        m = np.asarray(self._exp_avg, dtype=np.float64)  # a list becomes a new array; an array is ours already
        v = np.asarray(self._exp_avg_sq, dtype=np.float64)
        work = np.subtract(g, m)
        work *= 1.0 - b1
        m += work  # m + (g - m) * (1 - b1)
        np.multiply(1.0 - b2, g, out=work)
        work *= g
        v *= b2
        v += work  # v * b2 + (1 - b2) * g * g
        self._exp_avg, self._exp_avg_sq = m, v
        self.steps = t
        np.sqrt(v, out=work)
        work /= bc2_sqrt
        work += self.eps
        np.divide(m, work, out=work)
        work *= -step_size
        return data + work  # data + -step_size * (m / (sqrt(v) / sqrt(1 - b2**t) + eps))

    def _hyper(self) -> dict[str, Any]:
        lr = self.lr if not callable(self.lr) else None
        return {"lr": lr, "betas": list(self.betas), "eps": self.eps, "weight_decay": self.weight_decay}

    def _state(self) -> dict[str, list[float]]:
        return {"exp_avg": _floats(self._exp_avg), "exp_avg_sq": _floats(self._exp_avg_sq)}


class AdamW(Adam):
    """AdamW (Loshchilov & Hutter) as in ``torch.optim.AdamW``: decay is decoupled from the
    gradient, ``p *= 1 - lr * weight_decay`` before the Adam step. Default ``weight_decay=1e-2``."""

    decoupled = True

    def __init__(
        self,
        params: Sequence[Value],
        lr: LearningRate = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
    ) -> None:
        super().__init__(params, lr, betas, eps, weight_decay)
