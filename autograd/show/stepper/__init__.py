"""``Stepper``: watch backprop happen, one edge of the graph at a time.

``Stepper(root)`` (or ``root.stepper()``) runs a fresh backward pass of ``root`` on the side, records
every step of ``backward_steps()``, and shows the graph laid out as :func:`~autograd.draw_dot` lays it
out, with controls to move through the pass: previous / next, play / pause with a speed, a slider
over all steps, reset, and the keyboard's ← / →. After step *k* every node shows the gradient it
holds after the *k*-th record of ``root.backward_steps(grad)`` on a fresh pass (every gradient 0,
then the root's set to ``grad``); the edge that step uses is highlighted, the chain-rule line of
its record is written out, and a node whose gradient is complete (all of its uses applied) is
marked. Clicking a node shows its :func:`~autograd.show.explain.explain` text as of that step.

With ``quiz=True`` (or ``'grad'``, or ``'both'``) the viewer asks, before each backward step, for the
value that step will produce (and with ``'both'`` its local gradient too), checks the typed number
against the step's record, keeps a score, and lets ``next`` go on only once the answer was right or
shown. :meth:`Stepper.worksheet` is the same pass as a Markdown table to print.

In Jupyter it is a widget (``anywidget``); where widgets cannot run, its output is a still picture
of the graph after the last step plus a one-line hint. ``save_html(path)`` writes one
self-contained page that works offline in any current browser. Both run the same JavaScript
(``autograd/show/stepper/assets/stepper.js``).

Building a stepper changes no ``.grad`` in the caller's graph: every gradient is saved first and
put back afterwards, whatever happens.

This module holds the ``Stepper`` itself, which checks its arguments, runs the pass and hands
the work to the package's modules, each below the next: ``states`` (the steps as data: what each
does, and what the viewer shows after it), ``layout`` (where the nodes and edges go: Graphviz or
pure Python), ``render`` (the SVG and HTML) and ``widget`` (the Jupyter widget, made on first use).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from autograd.backward import Step, backward_steps, require_value, topological_order
from autograd.ops import as_float
from autograd.show.stepper.layout import Layout, check_engine, lay_out
from autograd.show.stepper.render import escape as escape
from autograd.show.stepper.render import save_html, to_html, to_svg
from autograd.show.stepper.states import Plan, StepperState, quiz_mode
from autograd.show.stepper.widget import WIDGET_MIME as WIDGET_MIME
from autograd.show.stepper.widget import make_widget, mimebundle
from autograd.show.text import name_of

if TYPE_CHECKING:
    from autograd.value import Value

__all__ = ["DEFAULT_MAX_NODES", "Stepper", "StepperState"]

DEFAULT_MAX_NODES = 300
"""The largest graph a stepper draws unless told otherwise (the same cap as ``draw_dot``)."""


class Stepper:
    """An interactive view of ``root``'s graph, stepping through its backward pass.

    Args:
        root: the output Value whose backward pass to watch.
        grad: the seed, as in ``root.backward(grad)``.
        forward: first walk the forward pass, one node per step in topological order (the values
            appear), then seed the root's gradient in one step, then the backward steps.
        rankdir: ``'LR'`` (left to right, default) or ``'TB'`` (top to bottom), as in ``draw_dot``.
        max_nodes: refuse graphs with more Values than this, as ``draw_dot`` does.
        layout: ``'auto'`` (Graphviz's layout when the ``dot`` program is installed, else the
            pure-Python one), ``'dot'`` or ``'python'``.
        quiz: ``False`` (default) to just watch; ``True`` or ``'grad'`` to be asked, at each backward
            step, the parent's gradient after it; ``'both'`` to be asked its local gradient as well.
            The page and the widget check each answer against the step's record (within a relative
            1e-3, exactly for an integer) and keep the score.

    Building a stepper runs the backward pass on the side: it changes no ``.grad`` of the graph.

    Example:
        >>> a, b = Value(2.0, label="a"), Value(-3.0, label="b")
        >>> L = a * b + b ** 2
        >>> s = Stepper(L)
        >>> len(s), s.states()[-1].grads[:2]
        (4, (-3.0, -4.0))
    """

    def __init__(
        self,
        root: Value,
        *,
        grad: float = 1.0,
        forward: bool = False,
        rankdir: str = "LR",
        max_nodes: int = DEFAULT_MAX_NODES,
        layout: str = "auto",
        quiz: bool | str = False,
    ) -> None:
        require_value(root, "Stepper()")
        seed = as_float(grad)
        if seed is None or isinstance(grad, bool):
            raise TypeError(f"Stepper grad must be a real number, got {type(grad).__name__}")
        if not isinstance(forward, bool):
            raise TypeError(f"Stepper forward must be True or False, got {type(forward).__name__}")
        if rankdir not in ("LR", "TB"):
            raise ValueError(f"rankdir must be 'LR' or 'TB', got {rankdir!r}")
        if not isinstance(max_nodes, int) or isinstance(max_nodes, bool):
            raise TypeError(f"Stepper max_nodes must be an int, got {type(max_nodes).__name__}")
        if max_nodes < 1:
            raise ValueError(f"Stepper max_nodes must be at least 1, got {max_nodes}")
        check_engine(layout)
        mode = quiz_mode(quiz)
        nodes = topological_order(root)
        if len(nodes) > max_nodes:  # the words of draw_dot's refusal
            raise ValueError(
                f"the graph has {len(nodes)} Values, more than max_nodes={max_nodes}; draw a smaller sub-expression "
                f"or pass max_nodes={len(nodes)} (large drawings are slow)"
            )
        self.root: Value = root
        """The output Value."""
        self.grad: float = seed
        """The seed of the pass."""
        self.forward: bool = forward
        """Whether the forward pass is walked first."""
        self.quiz: str | None = mode
        """The quiz the viewer asks: ``None``, ``'grad'`` or ``'both'``."""
        self.rankdir: str = rankdir
        """``'LR'`` or ``'TB'``."""
        self.nodes: list[Value] = nodes
        """Every node of the graph in ``topological_order(root)``: ``data-node="i"`` is ``nodes[i]``."""
        saved = [n.grad for n in nodes]
        try:  # the plan reads the fresh pass's gradients, the layout sets its own: put the user's back
            for n in nodes:
                n.grad = 0.0
            self.steps: list[Step] = list(backward_steps(root, seed))
            """The records of ``root.backward_steps(grad)`` on a fresh pass, in order."""
            self._plan = Plan(root, nodes, self.steps, seed, forward, mode)
            self._layout: Layout = lay_out(self._plan, rankdir, max_nodes, layout)
        finally:
            for n, g in zip(nodes, saved):
                n.grad = g
        self._widget: Any = None

    # --- the steps, in Python ---------------------------------------------------------------

    def __len__(self) -> int:
        """The number of steps ``n``: the slider goes from 0 to ``n``."""
        return len(self._plan)

    def __repr__(self) -> str:
        extra = ", forward pass first" if self.forward else ""
        extra += f", quiz={self.quiz!r}" if self.quiz else ""
        return f"<Stepper of {name_of(self.root)}: {len(self.nodes)} Values, {len(self)} steps{extra}>"

    @property
    def layout_engine(self) -> str:
        """``'dot'`` if Graphviz laid the graph out, ``'python'`` for the pure-Python layout."""
        return self._layout.engine

    def states(self) -> list[StepperState]:
        """The view after each step ``k = 0 .. len(self)``: every node's data and grad, which
        gradients are complete, and the record applied. Its grads are those of
        ``root.backward_steps(grad)`` on a fresh pass, bit for bit."""
        return self._plan.states()

    def line(self, k: int) -> str:
        """The line the viewer shows after ``k`` steps: for a backward step its chain rule, like
        ``w.grad += ∂(*)/∂w (3) × upstream (1) = 3 → w.grad = 3`` (numbers rounded for reading)."""
        return self._plan.lines(self._plan.check_step(k))[0]

    def explain(self, node: Value | int, k: int) -> str:
        """What clicking ``node`` (a Value of the graph or its index) shows after ``k`` steps: its
        ``explain()`` text once its gradient is complete; before that, how it was computed and the
        uses applied so far with their running sum (computed per step, as the viewer does)."""
        return self._plan.explain(node, k)

    def worksheet(self, answers: bool = False) -> str:
        """The whole backward pass as a Markdown table to print: one row per backward step (numbered
        as the viewer numbers it) with its node (how it was computed, and its value), the parent
        that receives a gradient (and its value), the local gradient, the upstream gradient (the
        node's), their product and the parent's running grad after the step.

        Args:
            answers: ``False`` (default) leaves the last four columns blank for a learner to fill;
                ``True`` fills them from the step records (six significant digits).

        Returns:
            A line saying how the table reads, a blank line and the table.

        Raises:
            TypeError: ``answers`` is not True or False.
        """
        if not isinstance(answers, bool):
            raise TypeError(f"worksheet() answers must be True or False, got {type(answers).__name__}")
        return self._plan.worksheet(answers)

    # --- what the browser gets ----------------------------------------------------------------

    def to_svg(self, k: int | None = None, *, highlight: bool = True) -> str:
        """The graph as an SVG picture after ``k`` steps (default: all of them), with the edge of
        step ``k`` highlighted unless ``highlight=False``."""
        return to_svg(self._plan, self._layout, k, highlight=highlight)

    def to_html(self) -> str:
        """The text of the page :meth:`save_html` writes: one self-contained HTML document."""
        return to_html(self._plan, self._layout)

    def save_html(self, path: str | os.PathLike[str]) -> Path:
        """Write the stepper as one self-contained HTML file (no network access needed) and return its path.

        The file is written next to its final name and then renamed over it, so an error never
        leaves a half-written file.
        """
        return save_html(path, self.to_html)

    # --- Jupyter -----------------------------------------------------------------------------

    def widget(self) -> Any:
        """The Jupyter widget (an ``anywidget.AnyWidget``), made on first use; its ``step`` trait is the
        step shown, in both directions (``stepper.widget().step = 3`` moves the view).

        Raises:
            ImportError: ``anywidget`` is not installed (``pip install "valuegrad[notebooks]"``).
        """
        if self._widget is None:
            self._widget = make_widget(self._plan, self._layout)
        return self._widget

    def _repr_mimebundle_(
        self, include: Any = None, exclude: Any = None, **kwargs: Any
    ) -> dict[str, Any] | tuple[dict[str, Any], dict[str, Any]]:
        """The widget where Jupyter widgets run, with a still picture (SVG) and a hint as the
        fallback for renderers without widgets; just the fallback if anywidget is missing."""
        return mimebundle(repr(self), self._plan, self._layout, self.widget)
