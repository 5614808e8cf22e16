"""The pure-Python drawing of a graph: what ``draw_dot`` shows when Graphviz cannot draw it.

:func:`fallback_layout` places the nodes in layers (column = longest path from a leaf, in
topological order within a column); :func:`fallback_svg` draws that layout as plain SVG. The
stepper (``autograd.show.stepper``) lays graphs out with the same function when ``dot`` is missing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

from autograd.show.text import escape_text, number, op_text

if TYPE_CHECKING:
    from autograd.value import Value

__all__ = ["Box", "FallbackLayout", "fallback_layout", "fallback_svg"]


class Box(NamedTuple):
    """A rectangle on the canvas: top-left corner ``(x, y)`` (y grows downwards), width and height."""

    x: float
    y: float
    width: float
    height: float

    @property
    def center(self) -> tuple[float, float]:
        """The middle of the box."""
        return self.x + self.width / 2, self.y + self.height / 2


class FallbackLayout(NamedTuple):
    """Where :func:`fallback_layout` puts each node: the canvas size, and per node *index* (its
    position in the list laid out, i.e. in ``topological_order(root)``) the box of its value record
    and of its op ellipse (``None`` for a leaf)."""

    width: float
    height: float
    rankdir: str
    values: list[Box]
    ops: list[Box | None]

    def anchor(self, box: Box, out: bool) -> tuple[float, float]:
        """Where an edge leaves (``out``) or enters a box: its far or near side along the flow."""
        if self.rankdir == "TB":
            return box.x + box.width / 2, box.y + (box.height if out else 0)
        return box.x + (box.width if out else 0), box.y + box.height / 2


def fallback_layout(nodes: list[Value], rankdir: str = "LR", show_grad: bool = True) -> FallbackLayout:
    """The pure-Python layered layout that :func:`fallback_svg` draws: column = longest path from a leaf.

    Values sit in even columns and their ops in the odd column just before them; within a column,
    nodes keep topological order. ``nodes`` must list every parent before its children (as
    ``topological_order`` does); the result is indexed by position in ``nodes``.
    """
    depth: dict[int, int] = {}
    for n in nodes:
        depth[id(n)] = 0 if not n.parents else 2 + max(depth[id(p)] for p in n.parents)
    placed: set[int] = set()
    for n in nodes:  # pull each leaf next to its first consumer instead of column 0
        for p in n.parents:
            if not p.parents:
                first_use = depth[id(n)] - 2
                depth[id(p)] = min(depth[id(p)], first_use) if id(p) in placed else first_use
                placed.add(id(p))
    columns: dict[int, list[tuple[str, int]]] = {}
    for i, n in enumerate(nodes):
        d = depth[id(n)]
        if n.parents:
            columns.setdefault(d - 1, []).append(("op", i))
        columns.setdefault(d, []).append(("value", i))
    box_w, box_h, op_w, op_h = 150.0, (46.0 if show_grad else 34.0), 60.0, 26.0
    tb = rankdir == "TB"
    gap_rank, gap_cross = (30.0, 20.0) if tb else (40.0, 22.0)  # between columns; within one

    def size(kind: str) -> tuple[float, float]:
        return (op_w, op_h) if kind == "op" else (box_w, box_h)

    def along(kind: str) -> float:
        """The extent of a value box or an op ellipse in the direction the graph flows."""
        return size(kind)[1 if tb else 0]

    values: list[Box | None] = [None] * len(nodes)
    ops: list[Box | None] = [None] * len(nodes)
    rank = 10.0  # where the current column starts, along the flow
    cross_end = 0.0
    for c in range(max(columns, default=0) + 1):
        items = columns.get(c, [])
        thickness = max((along(kind) for kind, _ in items), default=along("op"))
        cross = 10.0  # where the next item starts, across the flow
        for kind, i in items:
            w, h = size(kind)
            r = rank + (thickness - along(kind)) / 2  # centred in its column
            box = Box(cross, r, w, h) if tb else Box(r, cross, w, h)
            (ops if kind == "op" else values)[i] = box
            cross += (w if tb else h) + gap_cross
        cross_end = max(cross_end, cross)
        rank += thickness + gap_rank
    width, height = (cross_end, rank) if tb else (rank, cross_end)
    return FallbackLayout(width, height, rankdir, [b for b in values if b is not None], ops)


def fallback_svg(
    nodes: list[Value], rankdir: str = "LR", show_grad: bool = True, marked: set[int] | None = None
) -> str:
    """A layered drawing in plain SVG, no Graphviz needed, of :func:`fallback_layout`'s layout.

    Values sit in even columns and their ops in the odd column just before them; within a column,
    nodes keep topological order. Good enough to read a small graph in a notebook.
    """
    marked = marked or set()
    layout = fallback_layout(nodes, rankdir, show_grad)
    width, height = layout.width, layout.height
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}" '
        f'viewBox="0 0 {width:.0f} {height:.0f}" font-family="Helvetica, Arial, sans-serif" font-size="11">',
        '<defs><marker id="arrow" markerWidth="8" markerHeight="8" refX="7" refY="3" orient="auto">'
        '<path d="M0,0 L7,3 L0,6 z" fill="#555"/></marker></defs>',
    ]
    index = {id(n): i for i, n in enumerate(nodes)}
    for i, n in enumerate(nodes):
        op = layout.ops[i]
        if op is None:
            continue
        ox, oy = layout.anchor(op, True)
        vx, vy = layout.anchor(layout.values[i], False)
        parts.append(_line(ox, oy, vx, vy))
        for p in n.parents:
            px, py = layout.anchor(layout.values[index[id(p)]], True)
            ix, iy = layout.anchor(op, False)
            parts.append(_line(px, py, ix, iy))
    for i, n in enumerate(nodes):
        px, py, w, h = layout.values[i]
        fill = "#ffe066" if id(n) in marked else "#ffffff"
        parts.append(f'<rect x="{px:.1f}" y="{py:.1f}" width="{w:g}" height="{h:g}" rx="3" fill="{fill}" '
                     'stroke="#333"/>')
        lines = [n.label] if n.label else []
        lines.append(f"data {number(n.data)}")
        if show_grad:
            lines.append(f"grad {number(n.grad)}")
        step = h / (len(lines) + 1)
        for j, text in enumerate(lines):
            weight = ' font-weight="bold"' if j == 0 and n.label else ""
            parts.append(f'<text x="{px + w / 2:.1f}" y="{py + step * (j + 1) + 4:.1f}" text-anchor="middle"{weight}>'
                         f"{escape_text(text)}</text>")
        op = layout.ops[i]
        if op is not None:
            ox, oy, ow, oh = op
            parts.append(f'<ellipse cx="{ox + ow / 2:.1f}" cy="{oy + oh / 2:.1f}" rx="{ow / 2:g}" ry="{oh / 2:g}" '
                         f'fill="#eef3ff" stroke="#333"/>')
            parts.append(f'<text x="{ox + ow / 2:.1f}" y="{oy + oh / 2 + 4:.1f}" text-anchor="middle">'
                         f"{escape_text(op_text(n))}</text>")
    parts.append("</svg>")
    return "\n".join(parts)


def _line(x1: float, y1: float, x2: float, y2: float) -> str:
    return (f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" stroke="#555" '
            f'marker-end="url(#arrow)"/>')
