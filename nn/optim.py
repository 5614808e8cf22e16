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
from collections.abc import Callable, Sequence
from typing import Any

from autograd import Value

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
    if isinstance(x, bool) or not isinstance(x, (int, float)) or not math.isfinite(x) or x < low:
        raise ValueError(f"{name} must be a finite number >= {low}, got {x!r}")
    return float(x)


class Optimizer:
    """Shared parts: the parameter list, the step counter, ``zero_grad`` and the learning rate."""

    def __init__(self, params: Sequence[Value], lr: LearningRate) -> None:
        params = list(params)
        if not params:
            raise ValueError("optimizer got an empty parameter list")
        for i, p in enumerate(params):
            if not isinstance(p, Value):
                raise TypeError(f"optimizer parameter {i} must be a Value, got {type(p).__name__}")
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

    def _hyper(self) -> dict[str, Any]:
        return {}

    def _state(self) -> dict[str, list[float]]:
        return {}

    def state_dict(self) -> dict[str, Any]:
        """JSON-serialisable state: hyper-parameters, step count and per-parameter buffers."""
        return {"type": type(self).__name__, "steps": self.steps, "hyper": self._hyper(), "state": self._state()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore from :meth:`state_dict` output; checks everything first, changes nothing on error."""
        if not isinstance(state, dict) or state.get("type") != type(self).__name__:
            got = state.get("type") if isinstance(state, dict) else type(state).__name__
            raise ValueError(f"optimizer state is for {got!r}, not {type(self).__name__!r}")
        steps = state.get("steps")
        if isinstance(steps, bool) or not isinstance(steps, int) or steps < 0:
            raise ValueError(f"optimizer state 'steps' must be a non-negative int, got {steps!r}")
        buffers = state.get("state")
        own = self._state()
        if not isinstance(buffers, dict) or set(buffers) != set(own):
            raise ValueError(f"optimizer state buffers must be {sorted(own)}, got {buffers!r:.80}")
        n = len(self.params)
        for name, values in buffers.items():
            if not isinstance(values, list) or len(values) != n:
                raise ValueError(f"optimizer buffer {name!r} must be a list of {n} floats")
            for v in values:
                if v is not None and (isinstance(v, bool) or not isinstance(v, (int, float))):
                    raise ValueError(f"optimizer buffer {name!r} holds a non-number: {v!r}")
        self.steps = steps
        for name, values in buffers.items():
            setattr(self, "_" + name, [None if v is None else float(v) for v in values])


class SGD(Optimizer):
    """Stochastic gradient descent with optional momentum, L2 weight decay and Nesterov momentum.

    ``g = grad + weight_decay * p``; with momentum ``buf = momentum * buf + g`` (``buf = g`` at
    first) and ``g = g + momentum * buf`` (Nesterov) or ``g = buf``; then ``p -= lr * g``.

    Example:
        >>> w = Value(1.0); w.grad = 0.5
        >>> SGD([w], lr=0.1).step(); w.data
        0.95
    """

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
        self._momentum_buffer: list[float | None] = [None] * len(self.params)

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

    def _hyper(self) -> dict[str, Any]:
        lr = self.lr if not callable(self.lr) else None
        return {"lr": lr, "momentum": self.momentum, "weight_decay": self.weight_decay, "nesterov": self.nesterov}

    def _state(self) -> dict[str, list[float]]:
        return {"momentum_buffer": list(self._momentum_buffer)}  # type: ignore[arg-type]


class Adam(Optimizer):
    """Adam (Kingma & Ba) as in ``torch.optim.Adam``: L2 ``weight_decay`` is added to the gradient.

    ``m = b1*m + (1-b1)*g``, ``v = b2*v + (1-b2)*g*g``,
    ``p -= lr / (1 - b1**t) * m / (sqrt(v) / sqrt(1 - b2**t) + eps)``.
    """

    decoupled = False

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
        self._exp_avg: list[float] = [0.0] * len(self.params)
        self._exp_avg_sq: list[float] = [0.0] * len(self.params)

    def step(self) -> None:
        """One Adam update of every parameter (bias-corrected)."""
        lr = self.current_lr()
        b1, b2 = self.betas
        t = self.steps + 1
        step_size = lr / (1.0 - b1**t)
        bc2_sqrt = math.sqrt(1.0 - b2**t)
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

    def _hyper(self) -> dict[str, Any]:
        lr = self.lr if not callable(self.lr) else None
        return {"lr": lr, "betas": list(self.betas), "eps": self.eps, "weight_decay": self.weight_decay}

    def _state(self) -> dict[str, list[float]]:
        return {"exp_avg": list(self._exp_avg), "exp_avg_sq": list(self._exp_avg_sq)}


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
