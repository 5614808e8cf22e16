"""The activations a :class:`nn.layers.Neuron` can apply: one record each, in one table.

``ACTIVATION_TABLE`` maps each name to its Value op, the initialisation suited to it, the
``torch.nn`` module that computes it and the label its neurons print under; ``INITS`` lists the
initialisations. ``nn.layers`` (the neurons), ``nn.pytorch`` (the bridge) and ``nn.io`` (model
files) all read them; they sit in a module of their own, below all three, so that none of them
imports another to reach them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

from autograd import Value

__all__ = ["ACTIVATIONS", "ACTIVATION_TABLE", "INITS", "LEAKY_RELU_SLOPE", "Activation"]

INITS = ("micrograd", "he", "xavier")
"""The weight initialisations a :class:`nn.layers.Neuron` accepts (each activation's
:attr:`Activation.init` is one of them); model files (``nn.io``) check theirs against it."""

LEAKY_RELU_SLOPE = 0.01
"""The slope of the ``'leaky_relu'`` activation below zero (``torch.nn.LeakyReLU``'s default too)."""


class Activation(NamedTuple):
    """Everything about one activation a :class:`Neuron` can apply, read by the neuron, the
    PyTorch bridge (``nn.pytorch``) and model files (``nn.io``).

    Attributes:
        apply: what the neuron computes from ``w · x + b`` (a Value op, so it is differentiated
            like any other).
        init: the initialisation suited to it: ``'he'`` for the ReLU family, ``'xavier'`` for the
            others (``MLP``'s default stays ``'micrograd'``, as in micrograd).
        torch: the ``torch.nn`` module class that computes it, or None where there is none
            (``'linear'`` needs none; for ``'step'`` see :attr:`no_torch`).
        torch_args: that class's constructor arguments.
        label: the name its neurons print under (``ReLUNeuron(2)``, as micrograd prints them).
        no_torch: why ``torch.nn`` cannot compute it, for activations it has no module for
            (``'step'``); ``''`` for the others. ``to_torch`` refuses a model using one.
    """

    apply: Callable[[Value], Value]
    init: str
    torch: str | None
    label: str
    torch_args: tuple[float, ...] = ()
    no_torch: str = ""

    def derivative(self, x: float) -> float:
        """The derivative of :attr:`apply` at ``x``, as backpropagation gives it (at a kink, the
        one-sided value PyTorch uses too).

        Args:
            x: where to differentiate.

        Returns:
            ``d apply(x) / dx``.
        """
        v = Value(x)
        self.apply(v).backward()
        return v.grad


def _identity(v: Value) -> Value:
    return v


def _leaky_relu(v: Value) -> Value:
    return v.leaky_relu(LEAKY_RELU_SLOPE)


ACTIVATION_TABLE: dict[str, Activation] = {
    "relu": Activation(Value.relu, "he", "ReLU", "ReLU"),
    "tanh": Activation(Value.tanh, "xavier", "Tanh", "Tanh"),
    "sigmoid": Activation(Value.sigmoid, "xavier", "Sigmoid", "Sigmoid"),
    "leaky_relu": Activation(_leaky_relu, "he", "LeakyReLU", "LeakyRelu", (LEAKY_RELU_SLOPE,)),
    "linear": Activation(_identity, "xavier", None, "Linear"),
    # the threshold unit's: 1 if w·x + b >= 0 else 0. Its gradient is 0 everywhere, so gradient descent
    # cannot train it (nn.Perceptron trains one unit with Rosenblatt's rule instead).
    "step": Activation(Value.heaviside, "xavier", None, "Step",
                       no_torch="torch.nn has no step module, and torch.heaviside has no derivative to backpropagate"),
}
"""Every activation by name, in the order error messages list them."""

ACTIVATIONS = tuple(ACTIVATION_TABLE)
"""The activation names :class:`Neuron` and :class:`MLP` accept."""
