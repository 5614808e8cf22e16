"""Where a stepper's nodes and edges go: Graphviz's layout of ``draw_dot``, or the pure-Python one.

:func:`lay_out` returns a :class:`Layout`: every node's box and its fields (label, data, grad),
every op's ellipse, and every edge as SVG path data with its arrowhead, in SVG coordinates (y
down). Graphviz's layout is read from ``dot``'s JSON output; without ``dot``, or when it fails on
the graph, the positions are those of :func:`autograd.show.fallback.fallback_layout` (the layout
``draw_dot``'s own fallback drawing uses) with straight edges. Drawing the layout is
:mod:`autograd.show.stepper.render`'s job.
"""

from __future__ import annotations

import json
import math
import warnings
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NamedTuple

from autograd.show.dot import (
    INSTALL_HINT,
    DotNotFoundError,
    DrawingFallbackWarning,
    GraphvizError,
    caller_stacklevel,
    dot_available,
    draw_dot,
    graphviz_problem,
)
from autograd.show.fallback import Box, fallback_layout
from autograd.show.stepper.states import Plan
from autograd.show.text import number

if TYPE_CHECKING:
    from autograd.value import Value

__all__ = ["Edge", "Field", "Layout", "Placed", "check_engine", "lay_out"]

_Point = Callable[[float, float], tuple[float, float]]


class Field(NamedTuple):
    """One field of a node's record box."""

    role: str
    """``'label'``, ``'data'`` or ``'grad'``."""
    box: Box
    """Where it is."""


class Placed(NamedTuple):
    """Where one node is drawn."""

    value: Box
    """The record box of the Value."""
    fields: list[Field]
    """Its fields, in order."""
    op: Box | None
    """The ellipse of the op that made it; None for a leaf."""


class Edge(NamedTuple):
    """One edge: into ``node``'s op from its parent number ``slot``, or (``slot`` -1) out of the op into ``node``."""

    node: int
    """The node whose op the edge enters or leaves."""
    slot: int
    """Which parent it comes from, or -1 for the edge from the op to the node."""
    path: str
    """SVG path data."""
    arrow: list[tuple[float, float]]
    """The arrowhead polygon."""


class Layout(NamedTuple):
    """A stepper's graph, laid out; indexed like ``topological_order(root)``."""

    engine: str
    """``'dot'`` or ``'python'``."""
    width: float
    """The width of the drawing, in points."""
    height: float
    """Its height."""
    placed: list[Placed]
    """Every node's place."""
    edges: list[Edge]
    """Every edge."""


class _LayoutError(Exception):
    """Graphviz's JSON did not say what was expected; the pure-Python layout is used instead."""


def check_engine(layout: str) -> None:
    """Refuse a ``layout`` argument that cannot be honoured, before any work is done.

    Args:
        layout: ``'auto'``, ``'dot'`` or ``'python'``.

    Raises:
        ValueError: another value.
        DotNotFoundError: ``'dot'`` while the Graphviz ``dot`` program is not installed.
    """
    if layout not in ("auto", "dot", "python"):
        raise ValueError(f"Stepper layout must be 'auto', 'dot' or 'python', got {layout!r}")
    if layout == "dot" and not dot_available():
        raise DotNotFoundError(f"the Graphviz 'dot' program was not found on PATH; {INSTALL_HINT}")


def lay_out(plan: Plan, rankdir: str, max_nodes: int, layout: str) -> Layout:
    """Lay a plan's graph out.

    Lays it out while every ``.grad`` holds its widest value of the pass, so that Graphviz makes
    each record wide enough for every number it will show: this sets the ``.grad`` of every node,
    and the caller puts them back.

    Args:
        plan: the stepper's steps.
        rankdir: ``'LR'`` or ``'TB'``.
        max_nodes: passed on to ``draw_dot``.
        layout: ``'auto'`` (Graphviz when ``dot`` is installed, falling back to the pure-Python
            layout with a :class:`DrawingFallbackWarning` when it fails on the graph), ``'dot'``
            (Graphviz; its errors are raised) or ``'python'``.

    Returns:
        The layout.
    """
    if layout == "python" or (layout == "auto" and not dot_available()):
        return _python_layout(plan.nodes, rankdir)
    widest: list[float] = plan.start_grads()
    for move in plan.moves:
        target = move.parent if move.kind == "backward" else move.node if move.kind == "seed" else -1
        if target >= 0 and len(number(move.value)) > len(number(widest[target])):
            widest[target] = move.value
    for n, g in zip(plan.nodes, widest):
        n.grad = g
    # layout='dot' lets draw_dot's pipe() refuse such a label with its ValueError
    reason = graphviz_problem(plan.nodes) if layout == "auto" else None
    if reason is None:
        try:
            return _graphviz_layout(plan.root, plan.nodes, rankdir, max_nodes)
        except GraphvizError as exc:
            if layout == "dot":
                raise
            reason = str(exc)
        except (_LayoutError, DotNotFoundError, KeyError, ValueError, IndexError, OSError):
            if layout == "dot":
                raise
            return _python_layout(plan.nodes, rankdir)
        except Exception as exc:  # the graphviz package's other errors: dot is there but failed
            if layout == "dot" or not type(exc).__module__.startswith("graphviz"):
                raise
            reason = f"Graphviz failed on this graph ({type(exc).__name__}: {exc})"
    warnings.warn(f"{reason}; laying the graph out in pure Python instead", DrawingFallbackWarning,
                  stacklevel=caller_stacklevel())
    return _python_layout(plan.nodes, rankdir)


def _roles(node: Value) -> list[str]:
    return (["label"] if node.label else []) + ["data", "grad"]


def _python_layout(nodes: list[Value], rankdir: str) -> Layout:
    """``autograd.show.fallback.fallback_layout``'s positions, fields stacked in each box, straight edges."""
    fl = fallback_layout(nodes, rankdir, show_grad=True)
    index = {id(n): i for i, n in enumerate(nodes)}
    placed: list[Placed] = []
    edges: list[Edge] = []
    for i, n in enumerate(nodes):
        box = fl.values[i]
        roles = _roles(n)
        strip = box.height / len(roles)
        fields = [Field(role, Box(box.x, box.y + j * strip, box.width, strip)) for j, role in enumerate(roles)]
        op = fl.ops[i]
        placed.append(Placed(box, fields, op))
        if op is None:
            continue
        edges.append(_straight_edge(i, -1, fl.anchor(op, True), fl.anchor(box, False)))
        for j, p in enumerate(n.parents):
            edges.append(_straight_edge(i, j, fl.anchor(fl.values[index[id(p)]], True), fl.anchor(op, False)))
    return Layout("python", fl.width, fl.height, placed, edges)


def _straight_edge(node: int, slot: int, start: tuple[float, float], end: tuple[float, float]) -> Edge:
    (x1, y1), (x2, y2) = start, end
    length = math.hypot(x2 - x1, y2 - y1) or 1.0
    ux, uy = (x2 - x1) / length, (y2 - y1) / length
    head = min(7.0, length / 2)
    bx, by = x2 - ux * head, y2 - uy * head
    arrow = [(x2, y2), (bx - uy * 3.5, by + ux * 3.5), (bx + uy * 3.5, by - ux * 3.5)]
    return Edge(node, slot, f"M{x1:.2f},{y1:.2f} L{bx:.2f},{by:.2f}", arrow)


def _graphviz_layout(root: Value, nodes: list[Value], rankdir: str, max_nodes: int) -> Layout:
    """Graphviz's layout of ``draw_dot(root)`` (its JSON output), in SVG coordinates (y down)."""
    raw = json.loads(draw_dot(root, rankdir=rankdir, max_nodes=max_nodes).pipe(format="json"))
    x0, y0, x1, y1 = (float(t) for t in str(raw["bb"]).split(","))
    top = y1

    def point(x: float, y: float) -> tuple[float, float]:
        return x - x0, top - y

    def rect(text: str) -> Box:
        a, b, c, d = (float(t) for t in text.split(","))
        (ax, ay), (cx, cy) = point(a, d), point(c, b)
        return Box(ax, ay, cx - ax, cy - ay)

    index = {id(n): i for i, n in enumerate(nodes)}
    objects = {str(o["name"]): o for o in raw.get("objects", [])}
    names = {int(o["_gvid"]): str(o["name"]) for o in raw.get("objects", [])}
    placed: list[Placed] = []
    for i, n in enumerate(nodes):
        record = objects[f"v{i}"]
        rects = [rect(r) for r in str(record["rects"]).split()]
        roles = _roles(n)
        if len(rects) != len(roles):
            raise _LayoutError(f"v{i} has {len(rects)} fields, expected {len(roles)}")
        left, upper = min(r.x for r in rects), min(r.y for r in rects)
        right, lower = max(r.x + r.width for r in rects), max(r.y + r.height for r in rects)
        op = None
        if n.parents:
            o = objects[f"v{i}op"]
            cx, cy = point(*(float(t) for t in str(o["pos"]).split(",")))
            w, h = float(o["width"]) * 72, float(o["height"]) * 72
            op = Box(cx - w / 2, cy - h / 2, w, h)
        placed.append(Placed(Box(left, upper, right - left, lower - upper),
                             [Field(role, r) for role, r in zip(roles, rects)], op))
    drawn: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for e in raw.get("edges", []):
        drawn.setdefault((names[int(e["tail"])], names[int(e["head"])]), []).append(e)
    edges: list[Edge] = []
    for i, n in enumerate(nodes):
        if not n.parents:
            continue
        edges.append(_spline(i, -1, drawn[(f"v{i}op", f"v{i}")].pop(0), point))
        for j, p in enumerate(n.parents):
            edges.append(_spline(i, j, drawn[(f"v{index[id(p)]}", f"v{i}op")].pop(0), point))
    return Layout("dot", x1 - x0, y1 - y0, placed, edges)


def _spline(node: int, slot: int, edge: dict[str, Any], point: _Point) -> Edge:
    body: list[tuple[float, float]] = []
    arrow: list[tuple[float, float]] = []
    for op in edge.get("_draw_", []):
        if op.get("op") in ("b", "B"):
            body = [point(float(x), float(y)) for x, y in op["points"]]
    for op in edge.get("_hdraw_", []):
        if op.get("op") in ("p", "P"):
            arrow = [point(float(x), float(y)) for x, y in op["points"]]
    if len(body) < 2 or len(arrow) < 3:
        raise _LayoutError("an edge without a spline or an arrowhead")
    path = f"M{body[0][0]:.2f},{body[0][1]:.2f}"
    if (len(body) - 1) % 3 == 0:
        for a in range(1, len(body), 3):
            path += " C" + " ".join(f"{x:.2f},{y:.2f}" for x, y in body[a:a + 3])
    else:
        path += "".join(f" L{x:.2f},{y:.2f}" for x, y in body[1:])
    return Edge(node, slot, path, arrow)
