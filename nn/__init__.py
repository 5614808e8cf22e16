"""valuegrad's neural-network layer on top of ``autograd``: modules, losses, optimizers, data.

    >>> from nn import MLP
    >>> model = MLP(2, [16, 16, 1], seed=0)   # micrograd's architecture and initialisation
    >>> model.num_parameters()
    337

Code written for micrograd runs after changing only its imports
(``from autograd import Value``, ``from nn import MLP``).

Saving and loading, the data helpers, the views and the health report (``save``, ``load``,
``data``, ``TrainingView``, ``draw_network``, ``diagnose``) load on first use, so that
``import nn`` stays quick.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from nn.layers import MLP, Layer, Neuron
from nn.losses import (
    accuracy,
    bce_with_logits,
    cross_entropy,
    hinge_loss,
    log_softmax,
    mse_loss,
    predict_class,
    softmax,
)
from nn.module import Module
from nn.optim import SGD, Adam, AdamW, Optimizer
from nn.perceptron import Perceptron

# Eager although it is not small: the function ``train`` shares its name with the module
# ``nn.train``, and the import system would bind the module over a lazily exported function.
from nn.train import History, predict_classes, threshold_of, train

if TYPE_CHECKING:  # what the lazy names below resolve to, for type checkers and editors
    from nn import data
    from nn.health import diagnose
    from nn.io import load, save
    from nn.views import TrainingView, draw_network

# Public names whose modules are loaded on first access (PEP 562): building and training a model
# by hand needs none of them, and they pull in file formats and compression.
_LAZY = {
    "data": "nn.data",
    "TrainingView": "nn.views",
    "diagnose": "nn.health",  # not a module nn.diagnose: importing it would bind the module over the function
    "draw_network": "nn.views",
    "load": "nn.io",
    "save": "nn.io",
}

__all__ = [
    "MLP",
    "SGD",
    "Adam",
    "AdamW",
    "History",
    "Layer",
    "Module",
    "Neuron",
    "Optimizer",
    "Perceptron",
    "TrainingView",
    "accuracy",
    "bce_with_logits",
    "cross_entropy",
    "data",
    "diagnose",
    "draw_network",
    "hinge_loss",
    "load",
    "log_softmax",
    "mse_loss",
    "predict_class",
    "predict_classes",
    "save",
    "softmax",
    "threshold_of",
    "train",
]


def __getattr__(name: str) -> Any:
    """Load a lazily exported name's module on first access and cache the name here."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'nn' has no attribute {name!r}")
    loaded = importlib.import_module(module)
    value = loaded if module == f"nn.{name}" else getattr(loaded, name)
    globals()[name] = value  # later lookups find it directly, without this hook
    return value


def __dir__() -> list[str]:
    """The module's names, the lazy ones included before they are loaded."""
    return sorted({*globals(), *_LAZY})
