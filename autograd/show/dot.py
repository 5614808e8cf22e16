"""Drawing computation graphs: ``draw_dot(root)`` returns a Graphviz digraph of everything ``root`` needs.

Each Value is a record (label, data, grad); each op is a small ellipse between a Value and its
parents; edges point in the forward direction. In Jupyter the result displays inline. When the
Graphviz ``dot`` program is not installed, display falls back to a simple layered SVG drawn in
pure Python (and says once how to install Graphviz); rendering to a file needs ``dot`` and
raises :class:`DotNotFoundError` with the install hint. A label Graphviz cannot take (a NUL
character, a lone surrogate such as ``'\\ud800'``) or a ``dot`` that fails on the graph likewise
gives the pure-Python drawing with one :class:`DrawingFallbackWarning`; that drawing writes such
characters as visible escapes (``\\x00``) because XML cannot hold them.
"""

from __future__ import annotations

import math
import os
import sys
import warnings
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from autograd.backward import require_value, topological_order
from autograd.show.fallback import fallback_svg
from autograd.show.text import NOT_XML, number, op_text

if TYPE_CHECKING:
    from types import FrameType

    from autograd.value import Value

__all__ = [
    "INSTALL_HINT",
    "DotNotFoundError",
    "DrawingFallbackWarning",
    "GraphvizError",
    "ValueGraphMixin",
    "caller_stacklevel",
    "dot_available",
    "draw_dot",
    "graphviz_problem",
]

INSTALL_HINT = (
    "install Graphviz for the full layout: apt-get install graphviz | brew install graphviz | "
    "conda install graphviz | winget install graphviz"
)

_warned = False


class DotNotFoundError(RuntimeError):
    """The Graphviz ``dot`` program is needed (to render to a file) but is not installed."""


class GraphvizError(RuntimeError):
    """The Graphviz ``dot`` program ran but failed on the graph; the message holds what it said."""


class DrawingFallbackWarning(RuntimeWarning):
    """Graphviz could not draw the graph (``dot`` missing or failing), so the pure-Python drawing is shown."""


def caller_stacklevel() -> int:
    """The ``stacklevel`` that makes a warning name the first line outside ``autograd``.

    A drawing can be reached by several paths (``to_svg``, ``_repr_svg_``, the stepper), so a
    fixed ``stacklevel`` would name one of our lines on some of them.

    Returns:
        The ``stacklevel`` to pass to ``warnings.warn`` from the function that calls this one.
    """
    package = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep  # autograd/, subpackages too
    frame: FrameType | None = sys._getframe(1)
    level = 1
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(package):
        frame, level = frame.f_back, level + 1
    return level


def graphviz_problem(nodes: Iterable[Value]) -> str | None:
    """Why Graphviz cannot be given these Values' labels, or None if it can.

    Args:
        nodes: the Values to be drawn.

    Returns:
        A sentence naming the first label with a NUL character (dot stops reading there) or a
        character UTF-8 cannot encode (a lone surrogate), or None.
    """
    for n in nodes:
        label = n.label
        if "\x00" in label:  # dot reads its input as C strings: a NUL ends the line mid-record
            return f"the label {label!r} holds a NUL character, which Graphviz cannot read"
        try:
            label.encode("utf-8")
        except UnicodeEncodeError as exc:
            return (f"the label {label!r} holds {exc.object[exc.start:exc.end]!r}, which cannot be written as "
                    f"UTF-8 for Graphviz ({exc.reason})")
    return None


class ValueGraphMixin:
    """Behaviour added to ``graphviz.Digraph`` by :func:`draw_dot`: inline display with or
    without ``dot``, and rendering errors that say how to install Graphviz."""

    nodes_drawn: list[Value]
    rankdir: str
    show_grad: bool
    marked: set[int]

    def pipe(self, *args: Any, **kwargs: Any) -> Any:
        """Render with ``dot`` and return the output (see ``graphviz.Digraph.pipe``).

        Raises:
            ValueError: a label Graphviz cannot take (a NUL character, a lone surrogate).
            DotNotFoundError: ``dot`` is not installed.
            GraphvizError: ``dot`` failed on the graph (its message is in the error, not on stderr).
        """
        return self._run_dot(super().pipe, args, kwargs)  # type: ignore[misc]

    def render(self, *args: Any, **kwargs: Any) -> Any:
        """Render to a file with ``dot`` (see ``graphviz.Digraph.render``); returns the file name.

        Raises:
            ValueError: a label Graphviz cannot take (a NUL character, a lone surrogate).
            DotNotFoundError: ``dot`` is not installed.
            GraphvizError: ``dot`` failed on the graph (its message is in the error, not on stderr).
        """
        return self._run_dot(super().render, args, kwargs)  # type: ignore[misc]

    def _run_dot(self, method: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        import graphviz

        reason = graphviz_problem(self.nodes_drawn)
        if reason is not None:
            # refused before dot starts: graphviz would otherwise fail encoding the source with
            # the dot process already running, and leave it behind
            raise ValueError(f"Graphviz cannot draw this graph: {reason}; rename the Value, or use to_svg() "
                             f"for the pure-Python drawing")
        kwargs.setdefault("quiet", True)  # dot's complaints go into our error, not onto stderr
        try:
            return method(*args, **kwargs)
        except graphviz.ExecutableNotFound:
            raise DotNotFoundError(f"the Graphviz 'dot' program was not found on PATH; {INSTALL_HINT}") from None
        except graphviz.CalledProcessError as exc:
            said = exc.stderr.decode("utf-8", "replace") if isinstance(exc.stderr, bytes) else str(exc.stderr or "")
            raise GraphvizError(f"the Graphviz 'dot' program failed on this graph (exit status {exc.returncode}): "
                                f"{said.strip() or 'it said nothing'}") from None

    def to_svg(self) -> str:
        """SVG text: Graphviz's layout when ``dot`` is installed and can draw the graph, else the
        pure-Python fallback (with one :class:`DrawingFallbackWarning` saying why)."""
        global _warned
        reason = graphviz_problem(self.nodes_drawn)
        if reason is None:
            try:
                svg = str(self.pipe(format="svg", encoding="utf-8"))
            except DotNotFoundError:
                if not _warned:
                    warnings.warn(f"Graphviz 'dot' not found, drawing a simple layout instead; {INSTALL_HINT}",
                                  DrawingFallbackWarning, stacklevel=caller_stacklevel())
                    _warned = True
                return self._fallback()
            except GraphvizError as exc:
                reason = str(exc)
            else:
                bad = NOT_XML.search(svg)
                if bad is None:
                    return svg
                reason = f"Graphviz wrote {bad.group()!r} into its SVG, which XML cannot hold"
        warnings.warn(f"{reason}; drawing a simple layout instead", DrawingFallbackWarning,
                      stacklevel=caller_stacklevel())
        return self._fallback()

    def _fallback(self) -> str:
        return fallback_svg(self.nodes_drawn, self.rankdir, self.show_grad, self.marked)

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None, **_: Any) -> dict[str, str]:
        return {"image/svg+xml": self.to_svg()}

    def __repr__(self) -> str:
        # no memory address: a notebook's saved text output stays the same from run to run
        return f"<ValueGraph of {len(self.nodes_drawn)} Values, rankdir={self.rankdir!r}>"

    def _repr_svg_(self) -> str:
        return self.to_svg()


_graph_class: Any = None


def _value_graph_class() -> Any:
    """``ValueGraph``: a ``graphviz.Digraph`` subclass, made on first use so that importing
    ``autograd`` never imports ``graphviz``."""
    global _graph_class
    if _graph_class is None:
        import graphviz

        _graph_class = type("ValueGraph", (ValueGraphMixin, graphviz.Digraph), {"__module__": __name__})
    return _graph_class


def _as_set(highlight: Value | Iterable[Value] | None) -> set[int]:
    if highlight is None:
        return set()
    if hasattr(highlight, "local_grads"):
        return {id(highlight)}
    items = list(highlight)
    for v in items:
        require_value(v, "draw_dot highlight")
    return {id(v) for v in items}


def draw_dot(
    root: Value,
    rankdir: str = "LR",
    show_grad: bool = True,
    highlight: Value | Iterable[Value] | None = None,
    color_by_grad: bool = False,
    max_nodes: int = 300,
) -> Any:
    """Draw the computation graph of ``root``: every Value it depends on and the ops between them.

    Args:
        root: the output Value.
        rankdir: ``'LR'`` (left to right, default) or ``'TB'`` (top to bottom).
        show_grad: show each Value's ``.grad`` next to its data.
        highlight: a Value or several to emphasise (e.g. the node a backward step reached).
        color_by_grad: fill Values by gradient sign (blue positive, red negative) and magnitude.
        max_nodes: refuse graphs with more Values than this (drawing them would hang a notebook).

    Returns:
        A ``graphviz.Digraph`` subclass (``ValueGraph``): ``.source`` is the DOT text, ``.to_svg()``
        the picture, ``.render(...)`` writes a file; it displays inline in Jupyter.

    Example:
        >>> a, b = Value(2.0, label="a"), Value(-3.0, label="b")
        >>> g = draw_dot(a * b)
        >>> "a" in g.source and "*" in g.source
        True
    """
    require_value(root, "draw_dot()")
    if rankdir not in ("LR", "TB"):
        raise ValueError(f"rankdir must be 'LR' or 'TB', got {rankdir!r}")
    if isinstance(max_nodes, bool) or not isinstance(max_nodes, int) or max_nodes < 1:
        raise ValueError(f"draw_dot() max_nodes must be a positive integer (the largest graph to draw), "
                         f"got {max_nodes!r}")
    nodes = topological_order(root)
    if len(nodes) > max_nodes:
        raise ValueError(
            f"the graph has {len(nodes)} Values, more than max_nodes={max_nodes}; draw a smaller sub-expression "
            f"or pass max_nodes={len(nodes)} (large drawings are slow)"
        )
    marked = _as_set(highlight)
    top = max((abs(n.grad) for n in nodes if math.isfinite(n.grad)), default=0.0)
    dot = _value_graph_class()(graph_attr={"rankdir": rankdir}, node_attr={"fontname": "Helvetica", "fontsize": "11"})
    dot.nodes_drawn, dot.rankdir, dot.show_grad, dot.marked = nodes, rankdir, show_grad, marked
    # names by position, not id(): the same graph gives the same DOT text on every run, so
    # notebooks re-executed without changes do not show a diff
    names = {id(n): f"v{i}" for i, n in enumerate(nodes)}
    for n in nodes:
        uid = names[id(n)]
        fields = [_record_escape(n.label)] if n.label else []
        fields.append(f"data {number(n.data)}")
        if show_grad:
            fields.append(f"grad {number(n.grad)}")
        attrs = {"shape": "record", "label": "{ " + " | ".join(fields) + " }"}
        if id(n) in marked:
            attrs.update(style="filled,bold", fillcolor="#ffe066", penwidth="2.5")
        elif color_by_grad and top > 0 and math.isfinite(n.grad) and n.grad != 0:
            attrs.update(style="filled", fillcolor=_grad_color(n.grad, top))
        dot.node(uid, **attrs)
        if n.parents:
            dot.node(uid + "op", label=_record_escape(op_text(n)), shape="ellipse", fontsize="10", height="0.3")
            dot.edge(uid + "op", uid)
            for p in n.parents:
                dot.edge(names[id(p)], uid + "op")
    return dot


def _record_escape(text: str) -> str:
    for ch in "\\{}|<>\"":
        text = text.replace(ch, "\\" + ch)
    return text


def _grad_color(g: float, top: float) -> str:
    strength = min(abs(g) / top, 1.0) ** 0.5
    fade = int(255 - 150 * strength)
    return f"#{fade:02x}{fade:02x}ff" if g > 0 else f"#ff{fade:02x}{fade:02x}"


def dot_available() -> bool:
    """True if the Graphviz ``dot`` program is on PATH."""
    from shutil import which

    return which("dot", path=os.environ.get("PATH")) is not None
