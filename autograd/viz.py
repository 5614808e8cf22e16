"""Drawing a computation graph, and explaining one node in words.

``draw_dot(root)`` returns a ``graphviz.Digraph``: one record per Value (label, data, grad) and
one small node per op, edges in the forward direction. In a notebook it displays inline; when the
Graphviz ``dot`` program is missing, display falls back to a small pure-Python layered SVG (and
says once how to install Graphviz), while rendering to a file raises :class:`GraphvizMissingError`.

    >>> from autograd import Value, draw_dot
    >>> x = Value(2.0, label="x"); y = x * x; y.label = "y"
    >>> "x" in draw_dot(y).source
    True

``graphviz`` is imported inside the functions that need it, so ``import autograd`` stays instant.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable
from typing import Any
from xml.sax.saxutils import escape

from autograd.backward import topological_order
from autograd.value import Value

__all__ = ["INSTALL_HINT", "GraphvizMissingError", "draw_dot", "explain", "fallback_svg"]

INSTALL_HINT = (
    "install Graphviz for the full layout: apt-get install graphviz, brew install graphviz, "
    "conda install graphviz or winget install graphviz"
)

_warned = False


class GraphvizMissingError(RuntimeError):
    """The Graphviz ``dot`` program is not installed, so a graph cannot be rendered to a file."""


def _num(x: float) -> str:
    """Compact number: 4 significant digits, no trailing noise (``-0.5``, ``1.235e+04``)."""
    return f"{x:.4g}"


def _op_text(v: Value) -> str:
    """The op's name, with a folded constant shown (``a * 2`` keeps 2 only as its local grad)."""
    if v.op == "*" and len(v.parents) == 1:
        return f"* {_num(v.local_grads[0])}"
    return v.op


def _value_text(v: Value, show_grad: bool) -> list[str]:
    fields = [v.label] if v.label else []
    fields.append(f"data {_num(v.data)}")
    if show_grad:
        fields.append(f"grad {_num(v.grad)}")
    return fields


def _grad_color(g: float, scale: float) -> str:
    """Blue for a positive gradient, red for a negative one; stronger for a larger magnitude."""
    if scale == 0.0 or g != g:  # no gradients yet, or nan
        return "#ffffff"
    t = min(abs(g) / scale, 1.0)
    weak = int(255 - 150 * t)
    return f"#{weak:02x}{weak:02x}ff" if g > 0 else f"#ff{weak:02x}{weak:02x}"


def _collect(root: Value, max_nodes: int) -> list[Value]:
    if not isinstance(root, Value):
        raise TypeError(f"draw_dot() needs a Value, got {type(root).__name__}")
    order = topological_order(root)
    if len(order) > max_nodes:
        raise ValueError(
            f"the graph has {len(order)} Values, more than max_nodes={max_nodes}; a drawing that big "
            f"is unreadable and slow to lay out. Draw a smaller sub-expression, or pass "
            f"draw_dot(root, max_nodes={len(order)}) to draw it anyway"
        )
    return order


def draw_dot(
    root: Value,
    rankdir: str = "LR",
    show_grad: bool = True,
    highlight: Value | Iterable[Value] | None = None,
    color_by_grad: bool = False,
    max_nodes: int = 300,
) -> Any:
    """A ``graphviz.Digraph`` of ``root`` and everything it depends on.

    Each Value is a record ``label | data | grad``; each op is a small ellipse between a Value
    and its parents. ``highlight`` (one Value or several) is drawn in yellow with a bold border;
    ``color_by_grad`` fills records blue (positive) or red (negative), stronger for larger
    ``|grad|``. Graphs with more than ``max_nodes`` Values are refused with a ``ValueError``.

    Args:
        root: the output Value to draw.
        rankdir: ``'LR'`` (left to right) or ``'TB'`` (top to bottom).
        show_grad: include each Value's ``.grad``.
        highlight: Values to emphasise, e.g. the node a backward step has reached.
        color_by_grad: colour records by gradient sign and magnitude.
        max_nodes: largest number of Values to draw.

    Returns:
        A ``graphviz.Digraph`` subclass that displays inline in Jupyter even without ``dot``.
    """
    if rankdir not in ("LR", "TB"):
        raise ValueError(f"rankdir must be 'LR' or 'TB', got {rankdir!r}")
    order = _collect(root, max_nodes)
    if highlight is None:
        marked: list[Value] = []
    elif isinstance(highlight, Value):
        marked = [highlight]
    else:
        marked = list(highlight)
    marked_ids = {id(v) for v in marked}
    scale = max((abs(v.grad) for v in order if v.grad == v.grad), default=0.0)

    drawing = _drawing_class()(format="svg", graph_attr={"rankdir": rankdir})
    names = {id(v): f"v{i}" for i, v in enumerate(order)}
    boxes: list[tuple[str, str, str]] = []  # (name, text, fill) for the fallback layout
    edges: list[tuple[str, str]] = []
    for v in order:
        name = names[id(v)]
        fields = _value_text(v, show_grad)
        fill = _grad_color(v.grad, scale) if color_by_grad else "#ffffff"
        attrs = {"shape": "record", "style": "filled", "fillcolor": fill}
        if id(v) in marked_ids:
            attrs.update(fillcolor="#ffe44d", penwidth="3")
            fill = "#ffe44d"
        label = " | ".join(f.replace("|", "\\|").replace("{", "\\{").replace("}", "\\}") for f in fields)
        drawing.node(name, "{ " + label + " }", **attrs)
        boxes.append((name, "  ".join(fields), fill))
        if v.parents:
            op_name = name + "_op"
            drawing.node(op_name, _op_text(v), shape="ellipse", fontsize="10")
            boxes.append((op_name, _op_text(v), ""))
            drawing.edge(op_name, name)
            edges.append((op_name, name))
            for p in dict.fromkeys(v.parents):  # a parent used twice (x*x) gets one edge
                drawing.edge(names[id(p)], op_name)
                edges.append((names[id(p)], op_name))
    drawing._boxes = boxes
    drawing._edges = edges
    drawing._rankdir = rankdir
    return drawing


_DRAWING: Any = None


def _drawing_class() -> Any:
    """The Digraph subclass, built on first use so ``graphviz`` is imported only when drawing."""
    global _DRAWING
    if _DRAWING is not None:
        return _DRAWING
    import graphviz

    class Drawing(graphviz.Digraph):  # type: ignore[misc]
        """A Digraph that still displays without ``dot`` and names the fix when rendering fails."""

        _boxes: list[tuple[str, str, str]]
        _edges: list[tuple[str, str]]
        _rankdir: str

        def _repr_mimebundle_(self, include: Any = None, exclude: Any = None, **kwargs: Any) -> dict[str, Any]:
            return {"image/svg+xml": self._repr_svg_()}

        def _repr_svg_(self) -> str:
            try:
                svg: str = self.pipe(format="svg", encoding="utf-8")
                return svg
            except GraphvizMissingError:
                _warn_once()
                return fallback_svg(self._boxes, self._edges, self._rankdir)

        def pipe(self, *args: Any, **kwargs: Any) -> Any:
            try:
                return super().pipe(*args, **kwargs)
            except graphviz.ExecutableNotFound as e:
                raise GraphvizMissingError(f"the Graphviz 'dot' program was not found; {INSTALL_HINT}") from e

        def render(self, *args: Any, **kwargs: Any) -> Any:
            try:
                return super().render(*args, **kwargs)
            except graphviz.ExecutableNotFound as e:
                raise GraphvizMissingError(f"the Graphviz 'dot' program was not found; {INSTALL_HINT}") from e

    _DRAWING = Drawing
    return Drawing


def _warn_once() -> None:
    global _warned
    if not _warned:
        _warned = True
        warnings.warn(f"Graphviz 'dot' not found, drawing a simple layout instead; {INSTALL_HINT}", stacklevel=3)


def fallback_svg(boxes: list[tuple[str, str, str]], edges: list[tuple[str, str]], rankdir: str = "LR") -> str:
    """A layered SVG drawing without Graphviz: each node's layer is its longest path from a leaf.

    ``boxes`` are ``(name, text, fill)`` (an empty fill draws an op ellipse), ``edges`` are
    ``(tail, head)`` pairs with every tail listed before its head, as ``draw_dot`` produces them.
    """
    layer: dict[str, int] = {name: 0 for name, _, _ in boxes}
    for tail, head in edges:  # tails come first in draw order, so one pass suffices
        layer[head] = max(layer[head], layer[tail] + 1)
    slots: dict[int, int] = {}
    pos: dict[str, tuple[float, float]] = {}
    char_w, gap_layer, gap_slot, height = 7.0, 40.0, 20.0, 28.0
    widths = {name: max(40.0, char_w * len(text) + 16.0) for name, text, _ in boxes}
    layer_w: dict[int, float] = {}
    for name, _, _ in boxes:
        layer_w[layer[name]] = max(layer_w.get(layer[name], 0.0), widths[name])
    offsets: dict[int, float] = {}
    acc = 10.0
    for k in sorted(layer_w):
        offsets[k] = acc
        acc += (layer_w[k] if rankdir == "LR" else height) + gap_layer
    extent = acc
    cross = 0.0
    for name, _, _ in boxes:
        k = layer[name]
        i = slots.get(k, 0)
        slots[k] = i + 1
        along = offsets[k] + (layer_w[k] - widths[name]) / 2 if rankdir == "LR" else offsets[k]
        across = 10.0 + i * (height + gap_slot) if rankdir == "LR" else 10.0 + i * (layer_w[k] + gap_slot)
        pos[name] = (along, across) if rankdir == "LR" else (across, along)
        cross = max(cross, across + (height if rankdir == "LR" else layer_w[k]) + 10.0)
    w, h = (extent, cross) if rankdir == "LR" else (cross, extent)
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{w:.0f}" height="{h:.0f}" '
        f'viewBox="0 0 {w:.0f} {h:.0f}" font-family="monospace" font-size="12">',
        '<defs><marker id="arrow" markerWidth="8" markerHeight="8" refX="8" refY="4" orient="auto">'
        '<path d="M0,0 L8,4 L0,8 z"/></marker></defs>',
    ]
    for tail, head in edges:
        (x1, y1), (x2, y2) = pos[tail], pos[head]
        if rankdir == "LR":
            a, b, c, d = x1 + widths[tail], y1 + height / 2, x2, y2 + height / 2
        else:
            a, b, c, d = x1 + widths[tail] / 2, y1 + height, x2 + widths[head] / 2, y2
        out.append(
            f'<line x1="{a:.1f}" y1="{b:.1f}" x2="{c:.1f}" y2="{d:.1f}" stroke="#555" marker-end="url(#arrow)"/>'
        )
    for name, text, fill in boxes:
        x, y = pos[name]
        wd = widths[name]
        if fill:
            out.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{wd:.1f}" height="{height}" fill="{fill}" stroke="black"/>'
            )
        else:
            out.append(
                f'<ellipse cx="{x + wd / 2:.1f}" cy="{y + height / 2:.1f}" rx="{wd / 2:.1f}" '
                f'ry="{height / 2:.1f}" fill="#eeeeee" stroke="black"/>'
            )
        out.append(
            f'<text id="{name}" x="{x + wd / 2:.1f}" y="{y + height / 2 + 4:.1f}" '
            f'text-anchor="middle">{escape(text)}</text>'
        )
    out.append("</svg>")
    return "\n".join(out)


def _name(v: Value) -> str:
    return v.label or (f"[{v.op}]" if v.op else f"leaf({_num(v.data)})")


def explain(node: Value, root: Value | None = None) -> str:
    """How ``node`` was computed and, after a backward pass, where its gradient came from.

    Without ``root`` the text lists the op, each parent's data and the local gradient recorded at
    forward time, and ``node.grad``. With ``root`` (the Value ``backward()`` started from) it also
    lists every child of ``node`` inside ``root``'s graph and the share of ``node.grad`` each one
    sent back (``local_grad * child.grad``); the shares sum to ``node.grad`` for an interior node,
    and to this pass's part of it for a leaf.

        >>> from autograd import Value
        >>> a = Value(3.0, label="a"); b = a * 2.0; b.label = "b"; b.backward()
        >>> print(a.explain(root=b))
        a = 3 (a leaf: input, parameter or constant)
        a.grad = 2
          from b = a * 2: db/da = 2 * b.grad 1 = 2
    """
    lines: list[str] = []
    me = _name(node)
    if node.parents:
        args = ", ".join(f"{_name(p)}={_num(p.data)}" for p in node.parents)
        lines.append(f"{me} = {_num(node.data)}, computed by op {_op_text(node)!r} from {args}")
        for p, local in zip(node.parents, node.local_grads):
            lines.append(f"  d{me}/d{_name(p)} = {_num(local)}")
    else:
        lines.append(f"{me} = {_num(node.data)} (a leaf: input, parameter or constant)")
    if node.origin:
        lines.append(f"  created at {node.origin}")
    lines.append(f"{me}.grad = {_num(node.grad)}")
    if root is not None:
        found = False
        for child in topological_order(root):
            for p, local in zip(child.parents, child.local_grads):
                if p is node:
                    found = True
                    c = _name(child)
                    lines.append(
                        f"  from {c} = {_describe(child)}: d{c}/d{me} = {_num(local)} * {c}.grad "
                        f"{_num(child.grad)} = {_num(local * child.grad)}"
                    )
        if node is root:
            lines.append("  (the root: its gradient is the seed of backward())")
        elif not found:
            lines.append(f"  {me} is not part of the graph of {_name(root)}")
    return "\n".join(lines)


def _describe(v: Value) -> str:
    """``a * 2``-style text of one op application."""
    names = [_name(p) for p in v.parents]
    if v.op == "*" and len(names) == 1:
        return f"{names[0]} * {_num(v.local_grads[0])}"
    if v.op in ("+", "-", "*", "/") and len(names) == 2:
        return f"{names[0]} {v.op} {names[1]}"
    return f"{v.op}({', '.join(names)})"
