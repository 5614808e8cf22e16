"""``Neuron``, ``Layer`` and ``MLP``: micrograd's model classes, compatible and a little more.

Code written for micrograd runs after changing only its imports: the attributes (``.w``, ``.b``,
``.neurons``, ``.layers``), the parameter order (layer by layer, neuron by neuron, each neuron's
weights then its bias), the default initialisation (weights uniform(-1, 1) drawn from Python's
global ``random`` in micrograd's order, bias 0) and the return shapes are the same, and so are
the numbers. Beyond micrograd: other activations, He/Xavier initialisation, a private seed,
input checks with clear errors, width-1 hidden layers, and a fused affine op (``autograd.dot``)
that makes one graph node per neuron instead of two per input.
"""

from __future__ import annotations

import math
import numbers
import random
from collections.abc import Mapping, Sequence
from collections.abc import Set as AbstractSet
from typing import Any

from autograd import Value, dot
from autograd.value import as_float
from nn.activations import ACTIVATION_TABLE, ACTIVATIONS, INITS, LEAKY_RELU_SLOPE, Activation
from nn.module import Module
from nn.registry import register_model
from nn.text import describe

__all__ = ["ACTIVATIONS", "ACTIVATION_TABLE", "INITS", "LEAKY_RELU_SLOPE", "MLP", "Activation", "Layer", "Neuron"]

Number = int | float
Rng = Any  # a random.Random, or the `random` module itself


def _check_choice(what: str, value: object, valid: Sequence[str]) -> str:
    if not isinstance(value, str) or value not in valid:
        raise ValueError(f"unknown {what} {value!r}; expected one of {', '.join(repr(v) for v in valid)}")
    return value


def _check_width(what: str, n: object) -> int:
    """``n`` as a plain int if it is a positive integer (a Python or NumPy int; not a bool or a
    float such as ``2.0``); a ValueError that names ``what`` otherwise."""
    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 1:
        raise ValueError(f"{what} must be a positive integer, got {type(n).__name__} {describe(n)}")
    return int(n)


def _check_flag(what: str, x: object) -> bool:
    """``x`` if it is True or False (or the int 0 or 1); a TypeError otherwise (``bool('no')`` is True)."""
    if isinstance(x, bool) or (type(x) is int and x in (0, 1)):
        return bool(x)
    raise TypeError(f"{what} must be True or False, got {type(x).__name__} {describe(x)}")


def _draw(rng: Rng, init: str, nin: int, nout: int) -> float:
    if init == "micrograd":
        return float(rng.uniform(-1, 1))
    if init == "he":  # Kaiming uniform for ReLU: bound sqrt(6 / fan_in)
        bound = math.sqrt(6.0 / nin)
    else:  # Glorot/Xavier uniform: bound sqrt(6 / (fan_in + fan_out))
        bound = math.sqrt(6.0 / (nin + nout))
    return float(rng.uniform(-bound, bound))


def _as_inputs(x: Any, nin: int, who: str) -> list[Value | float]:
    """Check a model input: a list of ``nin`` numbers or Values (a single Value counts as width 1).
    Sets and dicts are refused: their order is not the features' order."""
    if isinstance(x, Value):
        x = [x]
    if isinstance(x, (AbstractSet, Mapping)):
        raise TypeError(f"{who} expects an ordered list of {nin} numbers or Values, got a {type(x).__name__}, "
                        "whose order is not defined; pass a list")
    if isinstance(x, (str, bytes)) or not hasattr(x, "__len__"):
        raise TypeError(f"{who} expects a list of {nin} numbers or Values, got {type(x).__name__}")
    if len(x) != nin:
        raise ValueError(f"{who} expects {nin} inputs, got {len(x)}")
    out: list[Value | float] = []
    for i, v in enumerate(x):
        f = v if isinstance(v, Value) else as_float(v)
        if f is None:
            raise TypeError(f"{who} input {i} must be a number or Value, got {type(v).__name__}")
        out.append(f)
    return out


class Neuron(Module):
    """One neuron: ``activation(w · x + b)``.

    Args:
        nin: number of inputs.
        nonlin: micrograd's switch: ReLU if True, linear if False. Ignored when ``activation``
            is given.
        activation: ``'relu'``, ``'tanh'``, ``'sigmoid'``, ``'leaky_relu'``, ``'linear'`` or
            ``'step'`` (Heaviside: 1 if ``w · x + b >= 0`` else 0, a threshold unit; its gradient
            is 0, so only ``nn.Perceptron``'s rule trains it).
        init: ``'micrograd'`` (uniform(-1, 1), the default), ``'he'`` or ``'xavier'``.
        rng: where weights are drawn from; Python's global ``random`` by default.
        fused: compute ``w · x + b`` as one ``dot`` node (default) or micrograd's chain of
            ``*`` and ``+`` nodes (same numbers; better for drawing the chain rule).

    Example:
        >>> n = Neuron(2, rng=random.Random(0))
        >>> len(n.w), n.b.data
        (2, 0.0)
    """

    def __init__(
        self,
        nin: int,
        nonlin: bool = True,
        activation: str | None = None,
        init: str = "micrograd",
        rng: Rng | None = None,
        fused: bool = True,
        fan_out: int = 1,
    ) -> None:
        nin = _check_width("Neuron nin", nin)
        fan_out = _check_width("Neuron fan_out", fan_out)
        if activation is None:
            activation = "relu" if _check_flag("Neuron nonlin", nonlin) else "linear"
        self.activation = _check_choice("activation", activation, ACTIVATIONS)
        self.nonlin = activation != "linear"
        _check_choice("init", init, INITS)
        fused = _check_flag("Neuron fused", fused)
        if rng is not None and not callable(getattr(rng, "uniform", None)):
            raise TypeError(f"Neuron rng must be a random.Random (or have .uniform), got {type(rng).__name__}")
        draw = rng if rng is not None else random
        self.w = [Value(_draw(draw, init, nin, fan_out)) for _ in range(nin)]
        self.b = Value(0.0)
        self.fused = bool(fused)

    def __call__(self, x: Sequence[Value | Number] | Value) -> Value:
        return self._forward(_as_inputs(x, len(self.w), "Neuron"))

    def _forward(self, x: Sequence[Value | float]) -> Value:
        if self.fused:
            act = dot(self.w, x, self.b)
        else:
            act = sum((wi * xi for wi, xi in zip(self.w, x)), self.b)
        return ACTIVATION_TABLE[self.activation].apply(act)

    def __repr__(self) -> str:
        return f"{ACTIVATION_TABLE[self.activation].label}Neuron({len(self.w)})"


class Layer(Module):
    """``nout`` neurons that all see the same inputs.

    Calling it returns a single Value when ``nout == 1`` and a list otherwise (micrograd's shapes).
    Keyword arguments go to every :class:`Neuron`.
    """

    def __init__(self, nin: int, nout: int, **kwargs: Any) -> None:
        nin = _check_width("Layer nin", nin)
        nout = _check_width("Layer nout", nout)
        kwargs.setdefault("fan_out", nout)
        self.neurons = [Neuron(nin, **kwargs) for _ in range(nout)]

    def __call__(self, x: Sequence[Value | Number] | Value) -> Value | list[Value]:
        out = self._forward(_as_inputs(x, len(self.neurons[0].w), "Layer"))
        return out[0] if len(out) == 1 else out

    def _forward(self, x: Sequence[Value | float]) -> list[Value]:
        if self.neurons[0].fused:  # make constant inputs leaves once, not once per neuron
            x = [v if isinstance(v, Value) else Value(v) for v in x]
        return [n._forward(x) for n in self.neurons]

    def __repr__(self) -> str:
        n0 = self.neurons[0]
        return f"Layer({len(n0.w)} -> {len(self.neurons)}, {n0.activation}, {self.num_parameters()} parameters)"


@register_model  # nn.load finds the class a file's "type": "MLP" names here
class MLP(Module):
    """A multi-layer perceptron: ``MLP(2, [16, 16, 1])`` maps 2 inputs to 1 output.

    Args:
        nin: input width.
        nouts: the width of each layer, the last one being the output.
        activation: the hidden layers' activation (ReLU by default, as in micrograd).
        output_activation: the last layer's (linear by default).
        init: ``'micrograd'`` (default), ``'he'`` or ``'xavier'``.
        seed: an int or a ``random.Random`` for reproducible weights without touching the
            global RNG; by default weights come from Python's global ``random`` (as in micrograd,
            so ``random.seed(...)`` makes runs repeatable).
        fused: one ``dot`` node per neuron (default) or micrograd's unfused graph.

    Example:
        >>> model = MLP(2, [16, 16, 1], seed=0)
        >>> model.num_parameters()
        337
        >>> type(model([0.5, -1.0])).__name__
        'Value'
    """

    def __init__(
        self,
        nin: int,
        nouts: Sequence[int],
        activation: str = "relu",
        output_activation: str = "linear",
        init: str = "micrograd",
        seed: int | random.Random | None = None,
        fused: bool = True,
    ) -> None:
        nin = _check_width("MLP nin", nin)
        if isinstance(nouts, (str, bytes)) or not isinstance(nouts, Sequence) or not nouts:
            raise ValueError(f"MLP nouts must be a non-empty list of layer widths, got {type(nouts).__name__} "
                             f"{describe(nouts)}")
        nouts = [_check_width(f"MLP layer width nouts[{i}]", n) for i, n in enumerate(nouts)]
        fused = _check_flag("MLP fused", fused)
        _check_choice("activation", activation, ACTIVATIONS)
        _check_choice("output_activation", output_activation, ACTIVATIONS)
        _check_choice("init", init, INITS)
        if (seed is not None and not isinstance(seed, (int, random.Random))) or isinstance(seed, bool):
            raise TypeError(f"MLP seed must be an int or random.Random, got {type(seed).__name__}")
        rng = random.Random(seed) if isinstance(seed, int) else seed
        self._config: dict[str, Any] = {
            "nin": nin,
            "nouts": list(nouts),
            "activation": activation,
            "output_activation": output_activation,
            "init": init,
            "fused": bool(fused),
        }
        sizes = [nin, *nouts]
        self.layers = [
            Layer(
                sizes[i],
                sizes[i + 1],
                activation=activation if i != len(nouts) - 1 else output_activation,
                init=init,
                rng=rng,
                fused=fused,
            )
            for i in range(len(nouts))
        ]
        self.label_parameters()

    @property
    def config(self) -> dict[str, Any]:
        """The constructor arguments (without the seed): enough to rebuild the architecture."""
        return dict(self._config, nouts=list(self._config["nouts"]))

    def __call__(self, x: Sequence[Value | Number] | Value) -> Value | list[Value]:
        h: list[Value] | list[Value | float] = _as_inputs(x, self._config["nin"], "MLP")
        for layer in self.layers:
            h = layer._forward(h)
        return h[0] if len(h) == 1 else h  # type: ignore[return-value]

    def __repr__(self) -> str:
        widths = " -> ".join(str(w) for w in [self._config["nin"], *self._config["nouts"]])
        return (
            f"MLP({widths}, {self._config['activation']} hidden, {self._config['output_activation']} output, "
            f"{self.num_parameters()} parameters)"
        )

    def to_torch(self, dtype: Any = None) -> Any:
        """This model as a ``torch.nn.Sequential`` with the same weights (see ``nn.pytorch.to_torch``).

        Args:
            dtype: the parameters' ``torch.dtype``; ``torch.float64`` by default (same outputs and
                gradients as valuegrad, to rounding).

        Returns:
            A new ``torch.nn.Sequential`` of ``Linear`` layers and activation modules.

        Raises:
            ImportError: PyTorch is not installed (``pip install "valuegrad[torch]"``).

        Example:
            >>> MLP(2, [3, 1], seed=0).to_torch()[0]
            Linear(in_features=2, out_features=3, bias=True)
        """
        from nn.pytorch import to_torch

        return to_torch(self, dtype)

    @classmethod
    def from_torch(cls, module: Any, *, fused: bool = True) -> MLP:
        """Build an MLP from a ``torch.nn.Sequential`` of ``Linear`` layers and activations, weights
        copied exactly (see ``nn.pytorch.from_torch`` for what is accepted and what is refused).

        Args:
            module: the ``torch.nn.Sequential``.
            fused: one ``dot`` node per neuron (default) or micrograd's unfused graph.

        Returns:
            A new MLP computing what ``module`` computes.

        Raises:
            ImportError: PyTorch is not installed (``pip install "valuegrad[torch]"``).
            TypeError: ``module`` is not a Sequential, or holds a layer type an MLP lacks.
            ValueError: a layer an MLP cannot represent (no bias, another LeakyReLU slope, ...).

        Example:
            >>> import torch
            >>> MLP.from_torch(torch.nn.Sequential(torch.nn.Linear(2, 1), torch.nn.Sigmoid()))
            MLP(2 -> 1, relu hidden, sigmoid output, 3 parameters)
        """
        from nn.pytorch import from_torch

        return from_torch(cls, module, fused=fused)
