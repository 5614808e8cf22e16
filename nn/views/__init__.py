"""Pictures of models: :func:`draw_network` draws an ``MLP`` as columns of neurons and weighted edges."""

from nn.views.network import MAX_EDGES, MODES, NetworkPicture, draw_network

__all__ = ["MAX_EDGES", "MODES", "NetworkPicture", "draw_network"]
