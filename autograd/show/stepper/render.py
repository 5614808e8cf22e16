"""A stepper's pictures and pages: SVG and HTML made from its :class:`~autograd.show.stepper.states.Plan`
and its :class:`~autograd.show.stepper.layout.Layout`.

:func:`to_svg` draws the graph as of one step; :func:`markup` is the viewer (controls, line, graph,
details) as of one step; :func:`spec` is everything the viewer's JavaScript needs to show every
other step; :func:`to_html` puts the three, the stylesheet and the script
(``autograd/show/stepper/assets/``) into one self-contained page, which :func:`save_html` writes.
The Jupyter widget (:mod:`autograd.show.stepper.widget`) runs the same script on the same markup
and spec.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from autograd.show.fallback import Box
from autograd.show.stepper.layout import Layout, Placed
from autograd.show.stepper.states import Move, Plan, StepperState, answer_range
from autograd.show.text import escape_attribute, escape_text, name_of, number, op_text

if TYPE_CHECKING:
    from autograd.value import Value

__all__ = ["asset", "escape", "markup", "save_html", "spec", "to_html", "to_svg"]

_PAD = 6.0  # space around the drawing, in layout units (points)
_SCALE = 1.3  # screen pixels per layout unit: the size Graphviz's own SVG shows at
_SPEEDS = (("0.5", "0.5 steps/s"), ("1", "1 step/s"), ("2", "2 steps/s"), ("4", "4 steps/s"),
           ("8", "8 steps/s"), ("20", "20 steps/s"), ("60", "60 steps/s"))
_DEFAULT_SPEED = "2"


def asset(name: str) -> str:
    """The text of one of the viewer's files in ``autograd/show/stepper/assets/``.

    Args:
        name: the file's name, e.g. ``'stepper.js'``.

    Returns:
        Its text.
    """
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


def spec(plan: Plan) -> dict[str, Any]:
    """Everything the viewer's JavaScript needs, numbers as text (JSON cannot carry inf or nan).

    Args:
        plan: the stepper's steps.

    Returns:
        A JSON-ready dict: the nodes, the start and every step.
    """
    computed_at = {m.node: k for k, m in enumerate(plan.moves, 1) if m.kind == "forward"}
    nodes = [
        {
            "name": name_of(n),
            "data": repr(n.data),
            "dataText": number(n.data),
            "uses": plan.uses[i],
            "header": plan.headers[i],
            "final": plan.finals[i],
            "computedAt": computed_at.get(i, 0),
        }
        for i, n in enumerate(plan.nodes)
    ]
    steps = []
    questions = plan.questions() if plan.quiz else [None] * len(plan)
    for k, (move, question) in enumerate(zip(plan.moves, questions), 1):
        text, exact = plan.lines(k)
        step: dict[str, Any] = {"kind": move.kind, "node": move.node, "line": text, "title": exact}
        if move.kind != "forward":
            step.update(grad=repr(move.value), gradText=number(move.value))
        if move.kind == "backward":
            step.update(parent=move.parent, slot=move.slot, use=plan.use_line(move))
        if question is not None and move.record is not None:  # what the page accepts, decided here
            step["quiz"] = {
                "question": question,
                "grad": [repr(x) for x in answer_range(move.record.parent_grad)],
                "local": [repr(x) for x in answer_range(move.record.local_grad)],
                "localText": number(move.record.local_grad),
                "localValue": repr(move.record.local_grad),
                "parentName": name_of(move.record.parent),
            }
        steps.append(step)
    start = plan.start_grads()
    text, exact = plan.lines(0)
    return {
        "n": len(plan),
        "forward": plan.forward,
        "quiz": plan.quiz,
        "root": len(plan.nodes) - 1,
        "nodes": nodes,
        "grad0": [repr(g) for g in start],
        "gradText0": [number(g) for g in start],
        "steps": steps,
        "startLine": text,
        "startTitle": exact,
    }


def to_svg(plan: Plan, layout: Layout, k: int | None = None, *, highlight: bool = True) -> str:
    """The graph as an SVG picture after ``k`` steps (see :meth:`Stepper.to_svg`).

    Args:
        plan: the stepper's steps.
        layout: where its nodes and edges go.
        k: the step, 0 to ``len(plan)``; default: the last.
        highlight: highlight the edge (or op) of step ``k``.

    Returns:
        The SVG text.
    """
    k = len(plan) if k is None else plan.check_step(k)
    state = plan.state(k)
    moves = plan.moves[:k]
    current = moves[-1] if moves and highlight else None
    w, h = layout.width + 2 * _PAD, layout.height + 2 * _PAD
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="vg-graph" width="{w * _SCALE:.0f}" '
        f'height="{h * _SCALE:.0f}" style="min-width:{w * _SCALE * 0.75:.0f}px" '
        f'viewBox="{-_PAD:g} {-_PAD:g} {w:.2f} {h:.2f}" '
        'font-family="Helvetica, Arial, &quot;Liberation Sans&quot;, &quot;DejaVu Sans&quot;, sans-serif" '
        f'font-size="11" role="img" aria-label="{_attr("computation graph of " + name_of(plan.root))}">',
        f"<style>{asset('graph.css')}</style>",
    ]
    lit_edges: set[str] = set()
    lit_ops: set[int] = set()
    if current is not None and current.kind == "backward":
        lit_edges |= {str(current.node), f"{current.node}:{current.slot}"}
        lit_ops.add(current.node)
    elif current is not None and current.kind == "forward" and plan.nodes[current.node].parents:
        lit_edges |= {str(current.node)} | {f"{current.node}:{j}" for j in
                                            range(len(plan.nodes[current.node].parents))}
        lit_ops.add(current.node)
    for edge in layout.edges:
        key = str(edge.node) if edge.slot < 0 else f"{edge.node}:{edge.slot}"
        classes = "vg-edge"
        color = "#8a8a8a"
        if key in lit_edges:
            classes += " vg-current" + (" vg-back" if current is not None and current.kind == "backward" else "")
            color = "#e8590c"
        points = " ".join(f"{x:.2f},{y:.2f}" for x, y in edge.arrow)
        parts.append(f'<g class="{classes}" data-edge="{key}"><path d="{edge.path}" fill="none" stroke="{color}"/>'
                     f'<polygon points="{points}" fill="{color}"/></g>')
    for i, (node, placed) in enumerate(zip(plan.nodes, layout.placed)):
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
    for i, (node, placed) in enumerate(zip(plan.nodes, layout.placed)):
        parts.append(_node_svg(i, node, placed, state, current))
    parts.append("</svg>")
    return "".join(parts)


def _node_svg(i: int, node: Value, placed: Placed, state: StepperState, current: Move | None) -> str:
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


def _separator(box: Box, field: Box) -> str:
    """The line between a record field and the one before it (fields run across or down the box)."""
    if abs(field.x - box.x) > 0.5:
        return (f'<line class="vg-sep" x1="{field.x:.2f}" y1="{box.y:.2f}" x2="{field.x:.2f}" '
                f'y2="{box.y + box.height:.2f}" stroke="#444"/>')
    return (f'<line class="vg-sep" x1="{box.x:.2f}" y1="{field.y:.2f}" x2="{box.x + box.width:.2f}" '
            f'y2="{field.y:.2f}" stroke="#444"/>')


def markup(plan: Plan, layout: Layout, k: int = 0) -> str:
    """The viewer's HTML (controls, line, graph, details) as of step ``k``; the script takes over.

    Args:
        plan: the stepper's steps.
        layout: where its nodes and edges go.
        k: the step shown, already checked.

    Returns:
        One ``<div>``.
    """
    n = len(plan)
    text, exact = plan.lines(k)
    options = "".join(f'<option value="{v}"{" selected" if v == _DEFAULT_SPEED else ""}>{label}</option>'
                      for v, label in _SPEEDS)
    return (
        f'<div class="vg-stepper" data-valuegrad-stepper="" data-step="{k}" data-playing="false" tabindex="0" '
        f'aria-label="{_attr("backprop stepper for " + name_of(plan.root))}">'
        '<div class="vg-bar">'
        '<button type="button" data-action="reset" title="back to the start (Home)">↺ reset</button>'
        '<button type="button" data-action="prev" title="previous step (←)">◀ prev</button>'
        '<button type="button" data-action="play" title="play / pause">▶ play</button>'
        '<button type="button" data-action="next" title="next step (→)">next ▶</button>'
        f'<input type="range" data-action="seek" min="0" max="{n}" step="1" value="{k}" aria-label="step">'
        f'<span class="vg-count" data-field="step">{k} / {n}</span>'
        f'<label class="vg-speed">speed <select data-action="speed">{options}</select></label>'
        "</div>"
        f"{_quiz_markup(plan, k)}"
        f'<div class="vg-line" data-field="explanation" title="{_attr(exact)}">{escape_text(text)}</div>'
        f'<div class="vg-canvas">{to_svg(plan, layout, k)}</div>'
        '<div class="vg-legend"><span style="background:#ffe27a"></span>gets a gradient now'
        '<span style="background:#dce8ff"></span>passes its gradient on'
        '<span style="background:#e3f4e6"></span>gradient complete'
        " · hover a number for its exact value · click a node to see where its gradient comes from</div>"
        '<pre class="vg-details" data-field="details">click a node to see how it was computed and where its '
        "gradient comes from</pre>"
        "</div>"
    )


def _quiz_markup(plan: Plan, k: int) -> str:
    """The quiz's panel (empty without a quiz): the question, the answer boxes, check, show answer,
    the verdict and the score. The script fills in the question of the step shown."""
    if plan.quiz is None:
        return ""
    questions = plan.questions()
    question = questions[k] if k < len(questions) else None
    box = ('<label class="vg-answer">{what} <input type="text" inputmode="decimal" autocomplete="off" '
           'spellcheck="false" size="12" data-quiz="{kind}" aria-label="{what}"></label>')
    local = box.format(what="local gradient", kind="local") if plan.quiz == "both" else ""
    return (
        '<div class="vg-quiz" data-field="quiz">'
        f'<div class="vg-question" data-field="question">{escape_text(question or "")}</div>'
        f'<div class="vg-bar">{local}{box.format(what="new grad", kind="grad")}'
        '<button type="button" data-action="check" title="check the answer (Enter)">check</button>'
        '<button type="button" data-action="show-answer">show answer</button>'
        '<span class="vg-score">score <span data-field="score">0 / 0</span></span></div>'
        '<div class="vg-verdict" data-field="verdict" aria-live="polite"></div>'
        "</div>"
    )


def to_html(plan: Plan, layout: Layout) -> str:
    """One self-contained HTML page of the viewer (see :meth:`Stepper.to_html`).

    Args:
        plan: the stepper's steps.
        layout: where its nodes and edges go.

    Returns:
        The page's text.
    """
    data = _script_json(spec(plan))
    title = escape_text(f"valuegrad stepper: {name_of(plan.root)}")
    csp = "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:"
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{csp}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<link rel="icon" href="data:,">\n'
        f"<title>{title}</title>\n"
        f"<style>\nbody {{ margin: 16px; background: #ffffff; }}\n{asset('viewer.css')}</style>\n"
        "</head>\n<body>\n"
        f"{markup(plan, layout, 0)}\n"
        f'<script type="application/json" id="valuegrad-stepper-data">{data}</script>\n'
        "<script>\n(function () {\n"
        f"{asset('stepper.js')}\n"
        'const root = document.querySelector("[data-valuegrad-stepper]");\n'
        'const spec = JSON.parse(document.getElementById("valuegrad-stepper-data").textContent);\n'
        "valuegradStepper(root, spec, null, true);\n"
        "})();\n</script>\n"
        "</body>\n</html>\n"
    )


def save_html(path: str | os.PathLike[str], page: Callable[[], str]) -> Path:
    """Write a page to ``path`` next to its final name, then rename it over it, so that an error
    never leaves a half-written file.

    Args:
        path: the file to write.
        page: makes the page's text; called after ``path`` is checked.

    Returns:
        ``path`` as a ``Path``.

    Raises:
        TypeError: ``path`` is not a path.
        IsADirectoryError: ``path`` is a folder.
        FileNotFoundError: its folder does not exist.
    """
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"save_html() needs a file path (str or pathlib.Path), got {type(path).__name__}")
    target = Path(path)
    if target.is_dir():
        raise IsADirectoryError(f"save_html() needs a file path, but {str(target)!r} is a folder")
    folder = target.parent
    if not folder.is_dir():
        raise FileNotFoundError(f"cannot save {str(target)!r}: the folder {str(folder)!r} does not exist")
    text = page()
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
