"""Optimizers with PyTorch's exact update rules: ``SGD``, ``Adam``, ``AdamW``.

Each takes a list of parameters (``model.parameters()``), reads ``p.grad`` and updates ``p.data``
in place (no graph is built). The learning rate may be a number or a function of the step
number (0 for the first ``step()``), e.g. micrograd's ``lambda k: 1.0 - 0.9 * k / 100``.

The formulas follow the documentation of ``torch.optim.SGD``, ``Adam`` and ``AdamW``
(dampening 0, no amsgrad, bias correction included), operation by operation, so trajectories
match PyTorch's in float64 to rounding.

Each rule is written once, as a function of "vectors" (``_sgd_rule``, ``_adam_rule``):
:meth:`Optimizer.step` applies it to each parameter's floats, :meth:`Optimizer.step_arrays` to
NumPy arrays of all of them; the same operations in the same order give the same floats. The
per-parameter buffers have one form, an ``array.array('d')`` of floats: the loop reads and
writes its entries, the array step reads and writes the same memory through a NumPy view, so
nothing is converted or handed over between the two.
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Callable, Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from typing import Any, ClassVar, NamedTuple

from autograd import Value
from autograd.value import as_float
from nn.module import Module
from nn.text import describe

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
        """Apply one update to every parameter from its current ``.grad``.

        From :data:`ARRAY_STEP_MIN_PARAMS` parameters on, and where NumPy is installed, through
        :meth:`step_arrays` (the same rule on arrays, so the same floats, faster); otherwise one
        parameter at a time."""
        params = self.params
        np = _numpy_for(params)
        if np is not None:
            n = len(params)
            data = self.step_arrays(np, np.fromiter((p.data for p in params), np.float64, n),
                                    np.fromiter((p.grad for p in params), np.float64, n))
            if data is not None:
                for p, d in zip(params, data.tolist()):
                    p.data = d
                return
        self._step_floats()

    def _step_floats(self) -> None:
        """:meth:`step` one parameter at a time, on floats."""
        raise NotImplementedError(f"{type(self).__name__} does not define step()")

    def step_arrays(self, np: Any, data: Any, grads: Any) -> Any:
        """One update on NumPy arrays of the parameters' values and gradients (in ``params``
        order), without touching the Values: returns the new values, or None when this optimizer
        has no array form (then call :meth:`step`). The same rule as :meth:`step`, so the same floats.

        The per-parameter buffers (momentum, Adam's moments) are the ones :meth:`step` uses, read
        and written in place through a NumPy view: loop and array steps mix freely.

        Args:
            np: the NumPy module.
            data: the parameters' values, a float64 array in ``params`` order.
            grads: their gradients, the same shape.

        Returns:
            The new values (a new array), or None.
        """
        return None

    def _hyper(self) -> dict[str, Any]:
        return {}

    def _state(self) -> dict[str, list[Any]]:
        return {}

    def _set_state(self, buffers: dict[str, list[float | None]]) -> None:
        """Take checked buffers (one list per name in ``_buffers``) as this optimizer's own."""

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
        self._set_state(loaded)


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


ARRAY_STEP_MIN_PARAMS = 64
"""From this many parameters on, ``step()`` updates with NumPy arrays when NumPy is installed
(:meth:`Optimizer.step_arrays`): the same rule on float64, so the same bits, in one array
operation each instead of a Python loop. The buffers are arrays of floats either way, so there
is nothing to convert; below about 64 parameters the loop is faster, at 2,410 Adam's array step
takes a sixth of the loop's time."""


def _numpy_for(params: Sequence[Value]) -> Any:
    if len(params) < ARRAY_STEP_MIN_PARAMS:
        return None
    try:
        import numpy
    except ImportError:
        return None
    return numpy


def _view(np: Any, buffer: array[float]) -> Any:
    """A float64 NumPy array sharing ``buffer``'s memory: writes to it are writes to the buffer."""
    return np.frombuffer(buffer, dtype=np.float64)


def _filled(values: list[float | None]) -> array[float]:
    """A buffer holding ``values`` (0.0 where an entry is None: the buffer is not started there)."""
    return array("d", [0.0 if v is None else v for v in values])


class _SGDConstants(NamedTuple):
    """What :func:`_sgd_rule` needs besides the vectors: the same for every parameter of a step."""

    lr: float
    momentum: float
    weight_decay: float
    nesterov: bool


def _sgd_rule(x: Any, g: Any, buf: Any, c: _SGDConstants) -> tuple[Any, Any]:
    """SGD's update of values ``x`` with gradients ``g`` and momentum buffer ``buf`` (None: not
    started): floats or arrays alike, operation by operation as ``torch.optim.SGD``.

    Args:
        x: the parameters' values (a float, or an array).
        g: their gradients (the same kind).
        buf: the momentum buffer (the same kind), or None before its first step.
        c: the step's hyper-parameters.

    Returns:
        ``(new x, new buffer)``; the buffer is ``buf`` unchanged without momentum.

    """
    if c.weight_decay:
        g = g + c.weight_decay * x
    if c.momentum:
        buf = g if buf is None else buf * c.momentum + g
        g = g + c.momentum * buf if c.nesterov else buf
    return x + -c.lr * g, buf


class _AdamConstants(NamedTuple):
    """What :func:`_adam_rule` needs besides the vectors: the same for every parameter of a step."""

    step_size: float
    """``lr / (1 - beta1**t)``"""
    bc2_sqrt: float
    """``sqrt(1 - beta2**t)``"""
    beta2: float
    one_minus_beta1: float
    one_minus_beta2: float
    eps: float
    weight_decay: float
    """L2 decay added to the gradient (Adam); 0.0 for AdamW, which uses ``shrink``."""
    shrink: float | None
    """AdamW's decoupled decay factor ``1 - lr * weight_decay``; None for Adam or no decay."""


def _adam_rule(x: Any, g: Any, m: Any, v: Any, sqrt: Callable[[Any], Any],
               c: _AdamConstants) -> tuple[Any, Any, Any]:
    """Adam's (and AdamW's) update, written once for floats and arrays alike: the operations of
    ``torch.optim.Adam`` in its order, so one parameter's floats are the same bits either way.

    Augmented assignments (``m += d``) make a new float from a float but update an array in
    place: arrays ``m`` and ``v`` (the optimizer's buffers) are updated where they are, and array
    steps make few temporaries. ``x`` and ``g`` are never written to.

    Args:
        x: the parameters' values (a float, or an array).
        g: their gradients (the same kind).
        m: the first-moment buffer (``exp_avg``).
        v: the second-moment buffer (``exp_avg_sq``).
        sqrt: ``math.sqrt`` for floats, ``numpy.sqrt`` for arrays.
        c: the step's constants.

    Returns:
        ``(new x, new m, new v)``; for arrays, ``m`` and ``v`` are the arrays passed in.
    """
    step_size, bc2_sqrt, beta2, one_minus_beta1, one_minus_beta2, eps, weight_decay, shrink = c
    if shrink is not None:
        x = x * shrink
    elif weight_decay:
        g = g + weight_decay * x
    d = g - m
    d *= one_minus_beta1
    m += d  # m + (g - m) * (1 - beta1), torch's exp_avg.lerp_(grad, 1 - beta1)
    d = one_minus_beta2 * g
    d *= g
    v *= beta2
    v += d  # v * beta2 + (1 - beta2) * g * g
    d = sqrt(v)
    d /= bc2_sqrt
    d += eps
    d = m / d
    d *= -step_size
    return x + d, m, v  # x + -step_size * (m / (sqrt(v) / sqrt(1 - beta2**t) + eps))


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
        n = len(self.params)
        self._momentum_buffer = array("d", bytes(8 * n))  # entry i means something where _started[i]
        self._started = bytearray(n)  # 1 where parameter i's momentum buffer is set (torch: buf is None)

    def _constants(self) -> _SGDConstants:
        return _SGDConstants(self.current_lr(), self.momentum, self.weight_decay, self.nesterov)

    def _step_floats(self) -> None:
        c = self._constants()
        if not self.momentum:  # no buffer to read or write
            for p in self.params:
                p.data, _ = _sgd_rule(p.data, p.grad, None, c)
        else:
            buffer, started = self._momentum_buffer, self._started
            for i, p in enumerate(self.params):
                p.data, buffer[i] = _sgd_rule(p.data, p.grad, buffer[i] if started[i] else None, c)
                started[i] = 1
        self.steps += 1

    def step_arrays(self, np: Any, data: Any, grads: Any) -> Any:
        """:meth:`step` on arrays: the same rule, so the same floats. None (nothing changed) when
        the momentum buffer is set for some parameters only, a state only a loaded ``state_dict``
        makes: the loop handles it."""
        n, started = len(self.params), self._started.count(1)
        if self.momentum and 0 < started < n:
            return None
        buffer = _view(np, self._momentum_buffer)
        data, buf = _sgd_rule(data, grads, buffer if started else None, self._constants())
        if self.momentum:
            buffer[:] = buf
            self._started[:] = b"\x01" * n
        self.steps += 1
        return data

    def _hyper(self) -> dict[str, Any]:
        lr = self.lr if not callable(self.lr) else None
        return {"lr": lr, "momentum": self.momentum, "weight_decay": self.weight_decay, "nesterov": self.nesterov}

    def _state(self) -> dict[str, list[Any]]:
        return {"momentum_buffer": [b if s else None for b, s in zip(self._momentum_buffer, self._started)]}

    def _set_state(self, buffers: dict[str, list[float | None]]) -> None:
        values = buffers["momentum_buffer"]
        self._momentum_buffer = _filled(values)
        self._started = bytearray(v is not None for v in values)


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
        self._exp_avg = array("d", bytes(8 * len(self.params)))
        self._exp_avg_sq = array("d", bytes(8 * len(self.params)))

    def _constants(self) -> _AdamConstants:
        lr = self.current_lr()
        b1, b2 = self.betas
        t = self.steps + 1
        decoupled = self.decoupled and bool(self.weight_decay)
        return _AdamConstants(
            step_size=lr / (1.0 - b1**t), bc2_sqrt=math.sqrt(1.0 - b2**t), beta2=b2, one_minus_beta1=1.0 - b1,
            one_minus_beta2=1.0 - b2, eps=self.eps, weight_decay=0.0 if self.decoupled else self.weight_decay,
            shrink=1.0 - lr * self.weight_decay if decoupled else None)

    def _step_floats(self) -> None:
        c = self._constants()
        m, v, sqrt = self._exp_avg, self._exp_avg_sq, math.sqrt
        for i, p in enumerate(self.params):
            p.data, m[i], v[i] = _adam_rule(p.data, p.grad, m[i], v[i], sqrt, c)
        self.steps += 1

    def step_arrays(self, np: Any, data: Any, grads: Any) -> Any:
        """:meth:`step` on NumPy arrays: the same rule, so bit for bit the same floats; for
        thousands of parameters one array operation beats a Python loop."""
        data, _, _ = _adam_rule(data, grads, _view(np, self._exp_avg), _view(np, self._exp_avg_sq), np.sqrt,
                                self._constants())  # the buffers' views are updated in place
        self.steps += 1
        return data

    def _hyper(self) -> dict[str, Any]:
        lr = self.lr if not callable(self.lr) else None
        return {"lr": lr, "betas": list(self.betas), "eps": self.eps, "weight_decay": self.weight_decay}

    def _state(self) -> dict[str, list[Any]]:
        return {"exp_avg": self._exp_avg.tolist(), "exp_avg_sq": self._exp_avg_sq.tolist()}

    def _set_state(self, buffers: dict[str, list[float | None]]) -> None:
        self._exp_avg = _filled(buffers["exp_avg"])
        self._exp_avg_sq = _filled(buffers["exp_avg_sq"])


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
