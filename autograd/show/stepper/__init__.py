"""``Stepper``: watch backprop happen, one edge of the graph at a time.

``Stepper(root)`` (or ``root.stepper()``) runs a fresh backward pass of ``root`` on the side, records
every step of ``backward_steps()``, and shows the graph laid out as :func:`~autograd.draw_dot` lays it
out, with controls to move through the pass: previous / next, play / pause with a speed, a slider
over all steps, reset, and the keyboard's ← / →. After step *k* every node shows the gradient it
holds after the *k*-th record of ``root.backward_steps(grad)`` on a fresh pass (every gradient 0,
then the root's set to ``grad``); the edge that step uses is highlighted, the chain-rule line of
its record is written out, and a node whose gradient is complete (all of its uses applied) is
marked. Clicking a node shows its :func:`~autograd.show.explain.explain` text as of that step.

In Jupyter it is a widget (``anywidget``); where widgets cannot run, its output is a still picture
of the graph after the last step plus a one-line hint. ``save_html(path)`` writes one
self-contained page that works offline in any current browser. Both run the same JavaScript
(``autograd/show/stepper/assets/stepper.js``).

Building a stepper changes no ``.grad`` in the caller's graph: every gradient is saved first and
put back afterwards, whatever happens.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import tempfile
import warnings
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from autograd._extras import install_hint
from autograd.backward import Step, backward_steps, require_value, topological_order
from autograd.ops import as_float
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
from autograd.show.explain import explain
from autograd.show.fallback import Box, fallback_layout
from autograd.show.text import escape_attribute, escape_text, name_of, number, op_text

if TYPE_CHECKING:
    from autograd.value import Value

__all__ = ["DEFAULT_MAX_NODES", "Stepper", "StepperState"]

DEFAULT_MAX_NODES = 300
"""The largest graph a stepper draws unless told otherwise (the same cap as ``draw_dot``)."""

WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
_PAD = 6.0  # space around the drawing, in layout units (points)
_SCALE = 1.3  # screen pixels per layout unit: the size Graphviz's own SVG shows at
_SPEEDS = (("0.5", "0.5 steps/s"), ("1", "1 step/s"), ("2", "2 steps/s"), ("4", "4 steps/s"),
           ("8", "8 steps/s"), ("20", "20 steps/s"), ("60", "60 steps/s"))
_DEFAULT_SPEED = "2"
_BINARY = frozenset({"+", "-", "*", "/", "**"})


class StepperState(NamedTuple):
    """What the viewer shows after ``k`` steps (see :meth:`Stepper.states`).

    Tuples are indexed like ``topological_order(root)``, the root last.
    """

    k: int
    """The number of steps taken, 0 to ``len(stepper)``."""
    kind: str
    """What step ``k`` did: ``'start'`` (k = 0), ``'forward'`` (computed a node), ``'seed'`` (set the
    root's gradient) or ``'backward'`` (applied ``record``)."""
    record: Step | None
    """The ``backward_steps()`` record step ``k`` applied, for a ``'backward'`` step."""
    node: Value | None
    """The node step ``k`` acted on: computed, seeded, or passing its gradient on (``record.node``)."""
    data: tuple[float | None, ...]
    """Every node's ``data``; ``None`` while a ``forward=True`` pass has not computed it yet."""
    grads: tuple[float, ...]
    """Every node's ``grad`` after ``k`` steps."""
    complete: tuple[bool, ...]
    """Whether every node's gradient is complete: all of its uses applied (the root: seeded)."""
    line: str
    """The line the viewer shows for this step, e.g. the chain rule of ``record``."""


class _Move(NamedTuple):
    """One step of the viewer, by node index: ``parent``/``slot`` are -1 unless it is a backward step."""

    kind: str
    node: int
    parent: int
    slot: int
    record: Step | None
    value: float  # forward: the node's data; seed: the root's grad; backward: the parent's new grad


class _Field(NamedTuple):
    role: str  # 'label', 'data' or 'grad'
    box: Box


class _Placed(NamedTuple):
    value: Box
    fields: list[_Field]
    op: Box | None


class _Edge(NamedTuple):
    node: int  # the edge into node's op (slot >= 0: from parent number `slot`) or out of it (slot -1)
    slot: int
    path: str  # SVG path data
    arrow: list[tuple[float, float]]  # the arrowhead polygon


class _Layout(NamedTuple):
    engine: str  # 'dot' or 'python'
    width: float
    height: float
    placed: list[_Placed]
    edges: list[_Edge]


class _LayoutError(Exception):
    """Graphviz's JSON did not say what was expected; the pure-Python layout is used instead."""


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
        if layout not in ("auto", "dot", "python"):
            raise ValueError(f"Stepper layout must be 'auto', 'dot' or 'python', got {layout!r}")
        if layout == "dot" and not dot_available():
            raise DotNotFoundError(f"the Graphviz 'dot' program was not found on PATH; {INSTALL_HINT}")
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
        self.rankdir: str = rankdir
        """``'LR'`` or ``'TB'``."""
        self.nodes: list[Value] = nodes
        """Every node of the graph in ``topological_order(root)``: ``data-node="i"`` is ``nodes[i]``."""
        self._index = {id(n): i for i, n in enumerate(nodes)}
        saved = [n.grad for n in nodes]
        try:
            for n in nodes:
                n.grad = 0.0
            self.steps: list[Step] = list(backward_steps(root, seed))
            """The records of ``root.backward_steps(grad)`` on a fresh pass, in order."""
            self._finals = [explain(n, root) for n in nodes]  # every gradient complete
            self._headers = [_header(n) for n in nodes]
            self._moves = self._plan()
            self._layout = self._lay_out(layout, max_nodes)
        finally:
            for n, g in zip(nodes, saved):
                n.grad = g
        self._uses = [0] * len(nodes)
        for move in self._moves:
            if move.kind == "backward":
                self._uses[move.parent] += 1
        self._widget: Any = None

    # --- the steps, in Python ---------------------------------------------------------------

    def __len__(self) -> int:
        """The number of steps ``n``: the slider goes from 0 to ``n``."""
        return len(self._moves)

    def __repr__(self) -> str:
        extra = ", forward pass first" if self.forward else ""
        return f"<Stepper of {name_of(self.root)}: {len(self.nodes)} Values, {len(self)} steps{extra}>"

    @property
    def layout_engine(self) -> str:
        """``'dot'`` if Graphviz laid the graph out, ``'python'`` for the pure-Python layout."""
        return self._layout.engine

    def _plan(self) -> list[_Move]:
        moves: list[_Move] = []
        if self.forward:
            moves += [_Move("forward", i, -1, -1, None, n.data) for i, n in enumerate(self.nodes)]
            moves.append(_Move("seed", len(self.nodes) - 1, -1, -1, None, self.grad))
        slot, previous = 0, None
        for record in self.steps:
            slot = slot + 1 if record.node is previous else 0
            previous = record.node
            node, parent = self._index[id(record.node)], self._index[id(record.parent)]
            moves.append(_Move("backward", node, parent, slot, record, record.parent_grad))
        return moves

    def _start_grads(self) -> list[float]:
        grads = [0.0] * len(self.nodes)
        if not self.forward:
            grads[-1] = self.grad
        return grads

    def states(self) -> list[StepperState]:
        """The view after each step ``k = 0 .. len(self)``: every node's data and grad, which
        gradients are complete, and the record applied. Its grads are those of
        ``root.backward_steps(grad)`` on a fresh pass, bit for bit."""
        grads = self._start_grads()
        shown = [not self.forward] * len(self.nodes)
        applied = [0] * len(self.nodes)
        seeded = not self.forward
        out = [self._state(0, "start", None, None, shown, grads, applied, seeded)]
        for k, move in enumerate(self._moves, 1):
            if move.kind == "forward":
                shown[move.node] = True
            elif move.kind == "seed":
                grads[move.node], seeded = move.value, True
            else:
                grads[move.parent] = move.value
                applied[move.parent] += 1
            out.append(self._state(k, move.kind, move.record, self.nodes[move.node], shown, grads, applied, seeded))
        return out

    def _state(self, k: int, kind: str, record: Step | None, node: Value | None, shown: list[bool],
               grads: list[float], applied: list[int], seeded: bool) -> StepperState:
        data = tuple(n.data if s else None for n, s in zip(self.nodes, shown))
        complete = tuple(seeded and a == u for a, u in zip(applied, self._uses))
        return StepperState(k, kind, record, node, data, tuple(grads), complete, self.line(k))

    def line(self, k: int) -> str:
        """The line the viewer shows after ``k`` steps: for a backward step its chain rule, like
        ``w.grad += ∂(*)/∂w (3) × upstream (1) = 3 → w.grad = 3`` (numbers rounded for reading)."""
        return self._lines(self._check_k(k))[0]

    def _check_k(self, k: int) -> int:
        if not isinstance(k, int) or isinstance(k, bool):
            raise TypeError(f"a step number must be an int, got {type(k).__name__}")
        if not 0 <= k <= len(self):
            raise ValueError(f"step {k} is out of range: this stepper has steps 0 to {len(self)}")
        return k

    def _lines(self, k: int) -> tuple[str, str]:
        """The line for step ``k``, rounded for reading and with exact values (the hover text)."""
        root = name_of(self.root)
        if k == 0:
            if self.forward:
                text = "nothing is computed yet: step through the forward pass with → or next"
                return text, text
            tail = ": the backward pass starts at the root; step through the chain rule with → or next"
            return f"{root}.grad = {number(self.grad)}{tail}", f"{root}.grad = {self.grad!r}{tail}"
        move = self._moves[k - 1]
        node = self.nodes[move.node]
        name = name_of(node)
        if move.kind == "forward":
            if not node.parents:
                return (f"{name} = {number(node.data)}  (a leaf: an input or parameter)",
                        f"{name} = {node.data!r}  (a leaf: an input or parameter)")
            expression = _expression(node)
            return f"{name} = {expression} = {number(node.data)}", f"{name} = {expression} = {node.data!r}"
        if move.kind == "seed":
            tail = ": the seed; the backward pass starts at the root"
            return f"{root}.grad = {number(self.grad)}{tail}", f"{root}.grad = {self.grad!r}{tail}"
        r = move.record
        assert r is not None
        parent, op = name_of(r.parent), op_text(r.node)

        def chain(f: Any) -> str:
            return (f"{parent}.grad += ∂({op})/∂{parent} ({f(r.local_grad)}) × upstream ({f(r.upstream)}) "
                    f"= {f(r.contribution)} → {parent}.grad = {f(r.parent_grad)}")

        return chain(number), chain(repr)

    def explain(self, node: Value | int, k: int) -> str:
        """What clicking ``node`` (a Value of the graph or its index) shows after ``k`` steps: its
        ``explain()`` text once its gradient is complete; before that, how it was computed and the
        uses applied so far with their running sum (computed per step, as the viewer does)."""
        i = self._node_index(node)
        k = self._check_k(k)
        moves = self._moves[:k]
        name = name_of(self.nodes[i])
        if self.forward and not any(m.kind == "forward" and m.node == i for m in moves):
            return f"{name} is not computed yet: the forward pass reaches it at step {i + 1}."
        if self.forward and not any(m.kind == "seed" for m in moves):
            return self._headers[i] + "\n  grad: the backward pass has not started yet"
        done = [self._use_line(m) for m in moves if m.kind == "backward" and m.parent == i]
        if len(done) == self._uses[i]:
            return self._finals[i]
        waiting = [name_of(self.nodes[m.node]) for m in self._moves[k:] if m.kind == "backward" and m.parent == i]
        grad = next((m.value for m in reversed(moves) if m.kind == "backward" and m.parent == i), 0.0)
        text = f"{self._headers[i]}\n  grad so far = {grad!r}, from {len(done)} of its {self._uses[i]} use(s):"
        if done:
            text += "\n" + "\n".join(done)
        return text + "\n  still to come from: " + ", ".join(waiting)

    def _node_index(self, node: Value | int) -> int:
        if isinstance(node, int) and not isinstance(node, bool):
            if not 0 <= node < len(self.nodes):
                raise ValueError(f"node index {node} is out of range: the graph has {len(self.nodes)} Values")
            return node
        require_value(node, "Stepper.explain()")
        i = self._index.get(id(node))
        if i is None:
            raise ValueError(f"{name_of(node)} is not part of the graph of {name_of(self.root)}")
        return i

    def _use_line(self, move: _Move) -> str:
        r = move.record
        assert r is not None
        child, name = name_of(r.node), name_of(r.parent)
        return (f"    from {child} (op '{op_text(r.node)}'): d{child}/d{name} {r.local_grad!r} "
                f"x {child}.grad {r.upstream!r} = {r.contribution!r}")

    # --- the layout --------------------------------------------------------------------------

    def _lay_out(self, layout: str, max_nodes: int) -> _Layout:
        """Lay the graph out while every ``.grad`` holds its widest value of the pass, so that
        Graphviz makes each record wide enough for every number it will show."""
        if layout == "python" or (layout == "auto" and not dot_available()):
            return _python_layout(self.nodes, self.rankdir)
        widest: list[float] = self._start_grads()
        for move in self._moves:
            target = move.parent if move.kind == "backward" else move.node if move.kind == "seed" else -1
            if target >= 0 and len(number(move.value)) > len(number(widest[target])):
                widest[target] = move.value
        for n, g in zip(self.nodes, widest):
            n.grad = g
        # layout='dot' lets draw_dot's pipe() refuse such a label with its ValueError
        reason = graphviz_problem(self.nodes) if layout == "auto" else None
        if reason is None:
            try:
                return _graphviz_layout(self.root, self.nodes, self.rankdir, max_nodes)
            except GraphvizError as exc:
                if layout == "dot":
                    raise
                reason = str(exc)
            except (_LayoutError, DotNotFoundError, KeyError, ValueError, IndexError, OSError):
                if layout == "dot":
                    raise
                return _python_layout(self.nodes, self.rankdir)
            except Exception as exc:  # the graphviz package's other errors: dot is there but failed
                if layout == "dot" or not type(exc).__module__.startswith("graphviz"):
                    raise
                reason = f"Graphviz failed on this graph ({type(exc).__name__}: {exc})"
        warnings.warn(f"{reason}; laying the graph out in pure Python instead", DrawingFallbackWarning,
                      stacklevel=caller_stacklevel())
        return _python_layout(self.nodes, self.rankdir)

    # --- what the browser gets ----------------------------------------------------------------

    def _spec(self) -> dict[str, Any]:
        """Everything the JavaScript needs, numbers as text (JSON cannot carry inf or nan)."""
        computed_at = {m.node: k for k, m in enumerate(self._moves, 1) if m.kind == "forward"}
        nodes = [
            {
                "name": name_of(n),
                "data": repr(n.data),
                "dataText": number(n.data),
                "uses": self._uses[i],
                "header": self._headers[i],
                "final": self._finals[i],
                "computedAt": computed_at.get(i, 0),
            }
            for i, n in enumerate(self.nodes)
        ]
        steps = []
        for k, move in enumerate(self._moves, 1):
            text, exact = self._lines(k)
            step: dict[str, Any] = {"kind": move.kind, "node": move.node, "line": text, "title": exact}
            if move.kind != "forward":
                step.update(grad=repr(move.value), gradText=number(move.value))
            if move.kind == "backward":
                step.update(parent=move.parent, slot=move.slot, use=self._use_line(move))
            steps.append(step)
        start = self._start_grads()
        text, exact = self._lines(0)
        return {
            "n": len(self),
            "forward": self.forward,
            "root": len(self.nodes) - 1,
            "nodes": nodes,
            "grad0": [repr(g) for g in start],
            "gradText0": [number(g) for g in start],
            "steps": steps,
            "startLine": text,
            "startTitle": exact,
        }

    def to_svg(self, k: int | None = None, *, highlight: bool = True) -> str:
        """The graph as an SVG picture after ``k`` steps (default: all of them), with the edge of
        step ``k`` highlighted unless ``highlight=False``."""
        k = len(self) if k is None else self._check_k(k)
        state = self.states()[k]
        lay = self._layout
        moves = self._moves[:k]
        current = moves[-1] if moves and highlight else None
        w, h = lay.width + 2 * _PAD, lay.height + 2 * _PAD
        parts = [
            f'<svg xmlns="http://www.w3.org/2000/svg" class="vg-graph" width="{w * _SCALE:.0f}" '
            f'height="{h * _SCALE:.0f}" style="min-width:{w * _SCALE * 0.75:.0f}px" '
            f'viewBox="{-_PAD:g} {-_PAD:g} {w:.2f} {h:.2f}" '
            'font-family="Helvetica, Arial, &quot;Liberation Sans&quot;, &quot;DejaVu Sans&quot;, sans-serif" '
            f'font-size="11" role="img" aria-label="{_attr("computation graph of " + name_of(self.root))}">',
            f"<style>{_asset('graph.css')}</style>",
        ]
        lit_edges: set[str] = set()
        lit_ops: set[int] = set()
        if current is not None and current.kind == "backward":
            lit_edges |= {str(current.node), f"{current.node}:{current.slot}"}
            lit_ops.add(current.node)
        elif current is not None and current.kind == "forward" and self.nodes[current.node].parents:
            lit_edges |= {str(current.node)} | {f"{current.node}:{j}" for j in
                                                range(len(self.nodes[current.node].parents))}
            lit_ops.add(current.node)
        for edge in lay.edges:
            key = str(edge.node) if edge.slot < 0 else f"{edge.node}:{edge.slot}"
            classes = "vg-edge"
            color = "#8a8a8a"
            if key in lit_edges:
                classes += " vg-current" + (" vg-back" if current is not None and current.kind == "backward" else "")
                color = "#e8590c"
            points = " ".join(f"{x:.2f},{y:.2f}" for x, y in edge.arrow)
            parts.append(f'<g class="{classes}" data-edge="{key}"><path d="{edge.path}" fill="none" stroke="{color}"/>'
                         f'<polygon points="{points}" fill="{color}"/></g>')
        for i, (node, placed) in enumerate(zip(self.nodes, lay.placed)):
            if placed.op is None:
                continue
            cx, cy = placed.op.center
            classes = "vg-op" + (" vg-current" if i in lit_ops else "") + ("" if state.data[i] is not None
                                                                            else " vg-pending")
            rx, ry = placed.op.width / 2, placed.op.height / 2
            parts.append(f'<g class="{classes}" data-op="{i}"><ellipse cx="{cx:.2f}" cy="{cy:.2f}" '
                         f'rx="{rx:.2f}" ry="{ry:.2f}" fill="#eef3ff" stroke="#444"/>'
                         f'<text x="{cx:.2f}" y="{cy + 3.5:.2f}" text-anchor="middle" font-size="10">'
                         f"{escape_text(op_text(node))}</text></g>")
        for i, (node, placed) in enumerate(zip(self.nodes, lay.placed)):
            parts.append(self._node_svg(i, node, placed, state, current))
        parts.append("</svg>")
        return "".join(parts)

    def _node_svg(self, i: int, node: Value, placed: _Placed, state: StepperState, current: _Move | None) -> str:
        classes = ["vg-node"]
        fill, stroke = "#ffffff", "#444"
        if state.data[i] is None:
            classes.append("vg-pending")
        if state.complete[i]:
            classes.append("vg-complete")
            fill, stroke = "#e3f4e6", "#2e7d32"
        if current is not None and current.kind == "backward" and current.node == i:
            classes.append("vg-from")
            fill, stroke = "#dce8ff", "#1c5fd1"
        target = current.parent if current is not None and current.kind == "backward" else \
            current.node if current is not None else -1
        if target == i:
            classes.append("vg-to")
            fill, stroke = "#ffe27a", "#c77800"
        data = state.data[i]
        grad = state.grads[i]
        box = placed.value
        out = [f'<g class="{" ".join(classes)}" data-node="{i}" data-data="{"" if data is None else repr(data)}" '
               f'data-grad="{grad!r}"><rect class="vg-box" x="{box.x:.2f}" y="{box.y:.2f}" width="{box.width:.2f}" '
               f'height="{box.height:.2f}" rx="2" fill="{fill}" stroke="{stroke}"/>']
        for field in placed.fields[1:]:
            out.append(_separator(box, field.box))
        for field in placed.fields:
            fx, fy, fw, fh = field.box
            cx, cy = field.box.center
            if field.role == "label":
                text, exact, weight = node.label, "", ' font-weight="bold"'
            elif field.role == "data":
                text = "data ?" if data is None else f"data {number(data)}"
                exact, weight = ("" if data is None else repr(data)), ""
            else:
                text, exact = f"grad {number(grad)}", repr(grad)
                weight = ' font-weight="bold"' if state.complete[i] else ""
            title = f"<title>{escape_text(exact)}</title>" if field.role != "label" else ""
            out.append(f'<g data-role="{field.role}">{title}<rect x="{fx:.2f}" y="{fy:.2f}" width="{fw:.2f}" '
                       f'height="{fh:.2f}" fill="transparent"/><text x="{cx:.2f}" y="{cy + 4:.2f}" '
                       f'text-anchor="middle" data-fit="{max(fw - 4, 1):.1f}"{weight}>{escape_text(text)}</text></g>')
        out.append("</g>")
        return "".join(out)

    def _markup(self, k: int = 0) -> str:
        """The viewer's HTML (controls, line, graph, details) as of step ``k``; the script takes over."""
        n = len(self)
        text, exact = self._lines(k)
        options = "".join(f'<option value="{v}"{" selected" if v == _DEFAULT_SPEED else ""}>{label}</option>'
                          for v, label in _SPEEDS)
        return (
            f'<div class="vg-stepper" data-valuegrad-stepper="" data-step="{k}" data-playing="false" tabindex="0" '
            f'aria-label="{_attr("backprop stepper for " + name_of(self.root))}">'
            '<div class="vg-bar">'
            '<button type="button" data-action="reset" title="back to the start (Home)">↺ reset</button>'
            '<button type="button" data-action="prev" title="previous step (←)">◀ prev</button>'
            '<button type="button" data-action="play" title="play / pause">▶ play</button>'
            '<button type="button" data-action="next" title="next step (→)">next ▶</button>'
            f'<input type="range" data-action="seek" min="0" max="{n}" step="1" value="{k}" aria-label="step">'
            f'<span class="vg-count" data-field="step">{k} / {n}</span>'
            f'<label class="vg-speed">speed <select data-action="speed">{options}</select></label>'
            "</div>"
            f'<div class="vg-line" data-field="explanation" title="{_attr(exact)}">{escape_text(text)}</div>'
            f'<div class="vg-canvas">{self.to_svg(k)}</div>'
            '<div class="vg-legend"><span style="background:#ffe27a"></span>gets a gradient now'
            '<span style="background:#dce8ff"></span>passes its gradient on'
            '<span style="background:#e3f4e6"></span>gradient complete'
            " · hover a number for its exact value · click a node to see where its gradient comes from</div>"
            '<pre class="vg-details" data-field="details">click a node to see how it was computed and where its '
            "gradient comes from</pre>"
            "</div>"
        )

    def to_html(self) -> str:
        """The text of the page :meth:`save_html` writes: one self-contained HTML document."""
        spec = _script_json(self._spec())
        title = escape_text(f"valuegrad stepper: {name_of(self.root)}")
        csp = "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:"
        return (
            "<!DOCTYPE html>\n"
            '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            f'<meta http-equiv="Content-Security-Policy" content="{csp}">\n'
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            '<link rel="icon" href="data:,">\n'
            f"<title>{title}</title>\n"
            f"<style>\nbody {{ margin: 16px; background: #ffffff; }}\n{_asset('viewer.css')}</style>\n"
            "</head>\n<body>\n"
            f"{self._markup(0)}\n"
            f'<script type="application/json" id="valuegrad-stepper-data">{spec}</script>\n'
            "<script>\n(function () {\n"
            f"{_asset('stepper.js')}\n"
            'const root = document.querySelector("[data-valuegrad-stepper]");\n'
            'const spec = JSON.parse(document.getElementById("valuegrad-stepper-data").textContent);\n'
            "valuegradStepper(root, spec, null, true);\n"
            "})();\n</script>\n"
            "</body>\n</html>\n"
        )

    def save_html(self, path: str | os.PathLike[str]) -> Path:
        """Write the stepper as one self-contained HTML file (no network access needed) and return its path.

        The file is written next to its final name and then renamed over it, so an error never
        leaves a half-written file.
        """
        if not isinstance(path, (str, os.PathLike)):
            raise TypeError(f"save_html() needs a file path (str or pathlib.Path), got {type(path).__name__}")
        target = Path(path)
        if target.is_dir():
            raise IsADirectoryError(f"save_html() needs a file path, but {str(target)!r} is a folder")
        folder = target.parent
        if not folder.is_dir():
            raise FileNotFoundError(f"cannot save {str(target)!r}: the folder {str(folder)!r} does not exist")
        text = self.to_html()
        fd, temp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
        try:
            with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as f:
                f.write(text)
            os.chmod(temp, target.stat().st_mode & 0o777 if target.exists() else 0o644)
            os.replace(temp, target)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temp)
            raise
        return target

    # --- Jupyter -----------------------------------------------------------------------------

    def widget(self) -> Any:
        """The Jupyter widget (an ``anywidget.AnyWidget``), made on first use; its ``step`` trait is the
        step shown, in both directions (``stepper.widget().step = 3`` moves the view).

        Raises:
            ImportError: ``anywidget`` is not installed (``pip install "valuegrad[notebooks]"``).
        """
        if self._widget is None:
            cls = _widget_class()
            spec = self._spec()
            spec["markup"] = self._markup(0)
            self._widget = cls(spec=json.dumps(spec), step=0)
        return self._widget

    def _fallback_html(self) -> str:
        n = len(self)
        return (f'<div class="vg-still">{self.to_svg(highlight=False)}<p style="font-family:sans-serif;'
                'font-size:12px;color:#57606a;margin:4px 0">'
                f"A still picture after all {n} steps: run this in Jupyter with anywidget to step through the "
                "backward pass, or use .save_html(path) for a page that works in any browser.</p></div>")

    def _repr_mimebundle_(
        self, include: Any = None, exclude: Any = None, **kwargs: Any
    ) -> dict[str, Any] | tuple[dict[str, Any], dict[str, Any]]:
        """The widget where Jupyter widgets run, with a still picture (SVG) and a hint as the
        fallback for renderers without widgets; just the fallback if anywidget is missing."""
        data: dict[str, Any] = {
            "text/plain": repr(self),
            "image/svg+xml": self.to_svg(highlight=False),
            "text/html": self._fallback_html(),
        }
        try:
            view = self.widget()._repr_mimebundle_()
        except Exception:  # no anywidget, or no way to make a widget here: the still picture it is
            return data
        view_data, metadata = view if isinstance(view, tuple) else (view, {})
        if isinstance(view_data, dict) and WIDGET_MIME in view_data:
            data[WIDGET_MIME] = view_data[WIDGET_MIME]
        return (data, metadata) if metadata else data


# --- helpers ---------------------------------------------------------------------------------


def _asset(name: str) -> str:
    return (resources.files("autograd.show.stepper") / "assets" / name).read_text(encoding="utf-8")


def escape(text: str) -> str:
    """``text`` for SVG/HTML: markup escaped, and characters XML cannot hold (NUL, lone
    surrogates) written as visible escapes, so a label like ``'a\\x00b'`` cannot break the page."""
    return escape_text(text)


def _attr(text: str) -> str:
    return escape_attribute(text)


def _script_json(value: object) -> str:
    """JSON that is safe inside ``<script>``: no ``<`` at all, so no ``</script>`` or ``<!--``."""
    return json.dumps(value, ensure_ascii=True, allow_nan=False).replace("<", "\\u003c")


def _header(node: Value) -> str:
    """``explain(node)`` without its gradient line: how the node was computed."""
    return "\n".join(line for line in explain(node).splitlines() if not line.startswith("  grad = "))


def _expression(node: Value) -> str:
    """How a computed node reads in the forward pass: ``a * b``, ``a * 2``, ``5 - a``, ``tanh(x)``."""
    names = [name_of(p) for p in node.parents]
    op = op_text(node)
    if len(names) == 2 and op in _BINARY:
        return f"{names[0]} {op} {names[1]}"
    if len(names) == 1 and node.const is not None:
        if op[:1] in "+-*/":
            return f"{names[0]} {op}"
        if op[-1:] in "+-*/":
            return f"{op} {names[0]}"
    return f"{op}({', '.join(names)})"


def _separator(box: Box, field: Box) -> str:
    """The line between a record field and the one before it (fields run across or down the box)."""
    if abs(field.x - box.x) > 0.5:
        return (f'<line class="vg-sep" x1="{field.x:.2f}" y1="{box.y:.2f}" x2="{field.x:.2f}" '
                f'y2="{box.y + box.height:.2f}" stroke="#444"/>')
    return (f'<line class="vg-sep" x1="{box.x:.2f}" y1="{field.y:.2f}" x2="{box.x + box.width:.2f}" '
            f'y2="{field.y:.2f}" stroke="#444"/>')


def _roles(node: Value) -> list[str]:
    return (["label"] if node.label else []) + ["data", "grad"]


def _python_layout(nodes: list[Value], rankdir: str) -> _Layout:
    """``autograd.show.fallback.fallback_layout``'s positions, fields stacked in each box, straight edges."""
    fl = fallback_layout(nodes, rankdir, show_grad=True)
    index = {id(n): i for i, n in enumerate(nodes)}
    placed: list[_Placed] = []
    edges: list[_Edge] = []
    for i, n in enumerate(nodes):
        box = fl.values[i]
        roles = _roles(n)
        strip = box.height / len(roles)
        fields = [_Field(role, Box(box.x, box.y + j * strip, box.width, strip)) for j, role in enumerate(roles)]
        op = fl.ops[i]
        placed.append(_Placed(box, fields, op))
        if op is None:
            continue
        edges.append(_straight_edge(i, -1, fl.anchor(op, True), fl.anchor(box, False)))
        for j, p in enumerate(n.parents):
            edges.append(_straight_edge(i, j, fl.anchor(fl.values[index[id(p)]], True), fl.anchor(op, False)))
    return _Layout("python", fl.width, fl.height, placed, edges)


def _straight_edge(node: int, slot: int, start: tuple[float, float], end: tuple[float, float]) -> _Edge:
    (x1, y1), (x2, y2) = start, end
    length = math.hypot(x2 - x1, y2 - y1) or 1.0
    ux, uy = (x2 - x1) / length, (y2 - y1) / length
    head = min(7.0, length / 2)
    bx, by = x2 - ux * head, y2 - uy * head
    arrow = [(x2, y2), (bx - uy * 3.5, by + ux * 3.5), (bx + uy * 3.5, by - ux * 3.5)]
    return _Edge(node, slot, f"M{x1:.2f},{y1:.2f} L{bx:.2f},{by:.2f}", arrow)


def _graphviz_layout(root: Value, nodes: list[Value], rankdir: str, max_nodes: int) -> _Layout:
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
    placed: list[_Placed] = []
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
        placed.append(_Placed(Box(left, upper, right - left, lower - upper),
                              [_Field(role, r) for role, r in zip(roles, rects)], op))
    drawn: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for e in raw.get("edges", []):
        drawn.setdefault((names[int(e["tail"])], names[int(e["head"])]), []).append(e)
    edges: list[_Edge] = []
    for i, n in enumerate(nodes):
        if not n.parents:
            continue
        edges.append(_spline(i, -1, drawn[(f"v{i}op", f"v{i}")].pop(0), point))
        for j, p in enumerate(n.parents):
            edges.append(_spline(i, j, drawn[(f"v{index[id(p)]}", f"v{i}op")].pop(0), point))
    return _Layout("dot", x1 - x0, y1 - y0, placed, edges)


def _spline(node: int, slot: int, edge: dict[str, Any], point: Any) -> _Edge:
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
    return _Edge(node, slot, path, arrow)


_widget_cls: Any = None


def _widget_class() -> Any:
    """``StepperWidget``, an ``anywidget.AnyWidget`` made on first use (anywidget is imported only then)."""
    global _widget_cls
    if _widget_cls is None:
        try:
            import anywidget
            import traitlets
        except ImportError as exc:
            raise ImportError(
                f"the interactive stepper needs anywidget: {install_hint('anywidget')}; "
                "Stepper.save_html(path) works without it"
            ) from exc
        esm = (
            _asset("stepper.js")
            + "\nexport default {\n  render({ model, el }) {\n"
            + '    const spec = JSON.parse(model.get("spec"));\n'
            + "    el.innerHTML = spec.markup;\n"
            + "    return valuegradStepper(el.firstElementChild, spec, model, false);\n  },\n};\n"
        )
        _widget_cls = type(
            "StepperWidget",
            (anywidget.AnyWidget,),
            {
                "__module__": __name__,
                "__doc__": "The Jupyter widget of a Stepper: ``spec`` is what it draws, ``step`` the step shown.",
                "_esm": esm,
                "_css": _asset("viewer.css"),
                "spec": traitlets.Unicode("").tag(sync=True),
                "step": traitlets.Int(0).tag(sync=True),
            },
        )
    return _widget_cls
