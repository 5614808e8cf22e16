"""valuegrad's neural-network layer on top of ``autograd``: modules, losses, optimizers, data.

    >>> from nn import MLP
    >>> model = MLP(2, [16, 16, 1], seed=0)   # micrograd's architecture and initialisation
    >>> model.num_parameters()
    337

Code written for micrograd runs after changing only its imports
(``from autograd import Value``, ``from nn import MLP``).
"""

from nn import data
from nn.io import load, save
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
from nn.train import History, predict_classes, threshold_of, train
from nn.views import TrainingView, draw_network

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
    "TrainingView",
    "accuracy",
    "bce_with_logits",
    "cross_entropy",
    "data",
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
