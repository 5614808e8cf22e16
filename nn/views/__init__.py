"""Pictures of models: :func:`draw_network` draws an ``MLP`` as columns of neurons and weighted edges;
:class:`TrainingView` records a training run's snapshots and shows them as a page."""

from nn.views.network import MAX_EDGES, MODES, NetworkPicture, draw_network
from nn.views.training import Snapshot, TrainingView

__all__ = ["MAX_EDGES", "MODES", "NetworkPicture", "Snapshot", "TrainingView", "draw_network"]
