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
from autograd.compiled import Tape, TapeMismatchError
from autograd.custom import define_op
from autograd.functional import (
    GradcheckError,
    grad,
    grad_fn,
    gradcheck,
    gradgradcheck,
    hessian,
    jacobian,
    jvp,
    value_and_grad,
)
from autograd.modes import (
    AnomalyError,
    detect_anomaly,
    enable_grad,
    gc_relaxed,
    is_grad_enabled,
    no_grad,
    set_grad_enabled,
    trace_origins,
)
from autograd.stepper import Stepper
from autograd.symbolic import to_sympy
from autograd.value import Value, dot, logsumexp, select
from autograd.viz import DotNotFoundError, draw_dot

__all__ = [
    "AnomalyError",
    "DotNotFoundError",
    "GradcheckError",
    "Step",
    "Stepper",
    "Tape",
    "TapeMismatchError",
    "Value",
    "backward",
    "backward_steps",
    "define_op",
    "detect_anomaly",
    "dot",
    "draw_dot",
    "enable_grad",
    "gc_relaxed",
    "grad",
    "grad_fn",
    "gradcheck",
    "gradgradcheck",
    "hessian",
    "is_grad_enabled",
    "jacobian",
    "jvp",
    "logsumexp",
    "no_grad",
    "select",
    "set_grad_enabled",
    "to_sympy",
    "topological_order",
    "trace_origins",
    "value_and_grad",
]
