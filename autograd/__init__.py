"""valuegrad's engine: scalar reverse-mode automatic differentiation.

    >>> from autograd import Value
    >>> x = Value(3.0, label="x")
    >>> y = x * x + 2 * x
    >>> y.backward()
    >>> x.grad
    8.0

``Value`` is the graph node; ``no_grad``, ``detect_anomaly`` and ``trace_origins`` switch how
new nodes are recorded; ``topological_order``, ``backward`` and ``backward_steps`` expose the
backward pass; ``grad``, ``hessian``, ``gradcheck`` and ``nudge`` are gradients as functions.

The step-through viewer, drawings, SymPy bridge and compiled replay (``Stepper``, ``draw_dot``,
``to_sympy``, ``Tape``, ``why``, ...) load on first use, so that ``import autograd`` stays quick.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from autograd.backward import Step, backward, backward_steps, topological_order
from autograd.custom import define_op
from autograd.functional import (
    GradcheckError,
    Nudge,
    grad,
    grad_fn,
    gradcheck,
    gradgradcheck,
    hessian,
    jacobian,
    jvp,
    nudge,
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
from autograd.value import Value, dot, logsumexp, select

if TYPE_CHECKING:  # what the lazy names below resolve to, for type checkers and editors
    from autograd.replay.batch import BatchTape
    from autograd.replay.tape import SampleTape, Tape, TapeMismatchError
    from autograd.show.dot import DotNotFoundError, draw_dot
    from autograd.show.stepper import Stepper
    from autograd.show.symbolic import to_sympy
    from autograd.show.why import WhyReport, why

# Public names whose modules are loaded on first access (PEP 562): each pulls in code (the
# viewer's assets, Graphviz, code generation) that computing gradients never needs.
_LAZY = {
    "BatchTape": "autograd.replay.batch",
    "DotNotFoundError": "autograd.show.dot",
    "SampleTape": "autograd.replay.tape",
    "Stepper": "autograd.show.stepper",
    "Tape": "autograd.replay.tape",
    "TapeMismatchError": "autograd.replay.tape",
    "draw_dot": "autograd.show.dot",
    "to_sympy": "autograd.show.symbolic",
    "WhyReport": "autograd.show.why",
    "why": "autograd.show.why",
}

__all__ = [
    "AnomalyError",
    "BatchTape",
    "DotNotFoundError",
    "GradcheckError",
    "Nudge",
    "SampleTape",
    "Step",
    "Stepper",
    "Tape",
    "TapeMismatchError",
    "Value",
    "WhyReport",
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
    "nudge",
    "select",
    "set_grad_enabled",
    "to_sympy",
    "topological_order",
    "trace_origins",
    "value_and_grad",
    "why",
]


def __getattr__(name: str) -> Any:
    """Load a lazily exported name's module on first access and cache the name here."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'autograd' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later lookups find it directly, without this hook
    return value


def __dir__() -> list[str]:
    """The module's names, the lazy ones included before they are loaded."""
    return sorted({*globals(), *_LAZY})
