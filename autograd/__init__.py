"""valuegrad's engine: scalar reverse-mode automatic differentiation.

    >>> from autograd import Value
    >>> x = Value(3.0, label="x")
    >>> y = x * x + 2 * x
    >>> y.backward()
    >>> x.grad
    8.0

``Value`` is the graph node; ``no_grad``, ``detect_anomaly`` and ``trace_origins`` switch how
new nodes are recorded; ``topological_order``, ``backward`` and ``backward_steps`` expose the
backward pass.
"""

from autograd.backward import Step, backward, backward_steps, topological_order
from autograd.modes import AnomalyError, detect_anomaly, is_grad_enabled, no_grad, trace_origins
from autograd.value import Value, dot
from autograd.viz import GraphvizMissingError, draw_dot, explain

__all__ = [
    "AnomalyError",
    "GraphvizMissingError",
    "Step",
    "Value",
    "backward",
    "backward_steps",
    "detect_anomaly",
    "dot",
    "draw_dot",
    "explain",
    "is_grad_enabled",
    "no_grad",
    "topological_order",
    "trace_origins",
]
