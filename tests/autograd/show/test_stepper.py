"""autograd.show.stepper: the states the viewer embeds are backward_steps() bit for bit; building or saving
a stepper changes no gradient; the HTML is self-contained; refusals, bad arguments, and the
notebook display with and without anywidget. (Clicking through it in a real browser is
tests/autograd/show/test_stepper_browser.py.)"""

from __future__ import annotations

import ast
import builtins
import json
import math
import os
import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import autograd.show.stepper as stepper_module
import autograd.show.stepper.layout as stepper_layout
import autograd.show.stepper.states as stepper_states
import autograd.show.stepper.widget as stepper_widget
from autograd import Value, define_op, dot, draw_dot, topological_order
from autograd.backward import Step
from autograd.show.dot import dot_available
from autograd.show.fallback import fallback_layout
from autograd.show.stepper import WIDGET_MIME, Stepper
from tests.graphs import classic
from tests.strategies import NO_DEADLINE, programs, reals, run_program

LAYOUTS = ["python", pytest.param("dot", marks=pytest.mark.skipif(not dot_available(), reason="needs Graphviz dot"))]


def diamond() -> Value:
    x = Value(1.5, label="x")
    y = x * 2.0
    y.label = "y"
    z = y * y + y.tanh()  # y is used three times, x once
    z.label = "z"
    return z


def fresh_pass(root: Value, grad: float) -> tuple[list[Step], list[list[str]]]:
    """backward_steps() on a fresh pass, and every node's grad (as repr) before and after each record."""
    nodes = topological_order(root)
    for n in nodes:
        n.grad = 0.0
    snapshots: list[list[str]] = []
    records: list[Step] = []
    walker = root.backward_steps(grad)
    assert all(n.grad == 0.0 for n in nodes), "nothing changes before the first step"
    # the state before the first edge: the pass seeded (the root holds grad), as the viewer shows
    snapshots.append([repr(0.0)] * (len(nodes) - 1) + [repr(float(grad))])
    for record in walker:
        records.append(record)
        snapshots.append([repr(n.grad) for n in nodes])
    return records, snapshots


def embedded_spec(html: str) -> dict[str, Any]:
    match = re.search(r'<script type="application/json" id="valuegrad-stepper-data">(.*?)</script>', html, re.DOTALL)
    assert match, "the page embeds no step data"
    spec: dict[str, Any] = json.loads(match.group(1))
    return spec


def replay(spec: dict[str, Any]) -> list[list[str]]:
    """What the page's script computes: every node's grad (repr text) after each step."""
    grads = list(spec["grad0"])
    out = [list(grads)]
    for step in spec["steps"]:
        if step["kind"] == "seed":
            grads[step["node"]] = step["grad"]
        elif step["kind"] == "backward":
            grads[step["parent"]] = step["grad"]
        out.append(list(grads))
    return out


def same_record(a: Step, b: Step) -> bool:
    return (a.node is b.node and a.parent is b.parent
            and [repr(x) for x in a[2:]] == [repr(x) for x in b[2:]])


def check_against_backward_steps(root: Value, grad: float, layout: str = "python") -> Stepper:
    nodes = topological_order(root)
    before = [repr(n.grad) for n in nodes]
    stepper = Stepper(root, grad=grad, layout=layout)
    html = stepper.to_html()
    assert [repr(n.grad) for n in nodes] == before, "building the stepper changed a .grad"
    records, snapshots = fresh_pass(root, grad)
    states = stepper.states()
    assert len(stepper) == len(records) == len(stepper.steps) == len(states) - 1
    assert all(same_record(a, b) for a, b in zip(stepper.steps, records))
    for k, state in enumerate(states):
        assert state.k == k
        assert [repr(g) for g in state.grads] == snapshots[k], f"state {k}"
        if k:
            assert state.record is not None and same_record(state.record, records[k - 1])
    assert replay(embedded_spec(html)) == snapshots
    return stepper


# --- the states are backward_steps() ---------------------------------------------------------


@settings(NO_DEADLINE, max_examples=60)
@given(programs(), reals(-3.0, 3.0), st.integers(0, 2**16))
def test_states_equal_backward_steps_bit_for_bit(case: Any, grad: float, salt: int) -> None:
    inputs, program = case
    root = run_program(program, [Value(x, label=f"x{i}") for i, x in enumerate(inputs)])
    for i, n in enumerate(topological_order(root)):  # the user's own gradients, to be left alone
        n.grad = ((i * 7919 + salt) % 13) / 4.0 - 1.5
    check_against_backward_steps(root, grad)


@pytest.mark.skipif(not dot_available(), reason="needs Graphviz dot")
@settings(NO_DEADLINE, max_examples=15)
@given(programs(), st.sampled_from(["LR", "TB"]))
def test_graphviz_layout_places_every_node_and_edge_of_random_graphs(case: Any, rankdir: str) -> None:
    inputs, program = case
    root = run_program(program, [Value(x, label=f"x{i}") for i, x in enumerate(inputs)])
    stepper = Stepper(root, rankdir=rankdir, layout="dot")
    svg = ET.fromstring(stepper.to_svg())
    assert sum(1 for g in svg.iter() if g.get("data-node") is not None) == len(stepper.nodes)
    edges = sum(1 for g in svg.iter() if g.get("data-edge") is not None)
    assert edges == sum(len(n.parents) + 1 for n in stepper.nodes if n.parents)


@pytest.mark.parametrize("layout", LAYOUTS)
def test_hand_made_graphs_with_a_user_op_and_a_fused_dot(layout: str) -> None:
    import math as m

    cube = define_op("stepper_cube", lambda x: x**3, lambda x: (3 * x**2,))
    a, b = Value(0.5, label="a"), Value(-1.25, label="b")
    w = [Value(0.3, label="w0"), Value(-0.7, label="w1")]
    root = cube(a * b) + dot(w, [a, b], Value(0.1, label="bias")).tanh() + cube(a) * m.pi
    stepper = check_against_backward_steps(root, 1.0, layout)
    svg = stepper.to_svg()
    assert "stepper_cube" in svg and ">dot<" in svg
    for graph in (classic(), diamond()):
        check_against_backward_steps(graph, -2.5, layout)


def test_non_finite_numbers_travel_as_repr_text() -> None:
    x = Value(0.0, label="x")
    y = x.log() * 0.0 + x.sqrt()  # -inf * 0 = nan; sqrt'(0) = inf
    stepper = check_against_backward_steps(y, 1.0)
    finals = {repr(g) for g in stepper.states()[-1].grads}
    assert "nan" in finals or "inf" in finals
    html = stepper.to_html()
    assert "NaN" not in html and "Infinity" not in html  # JSON cannot carry them: reprs as strings
    check_against_backward_steps(classic(), math.inf)


def test_the_viewer_starts_at_step_zero_with_every_number_exact() -> None:
    L = classic()
    stepper = Stepper(L, layout="python")
    html = stepper.to_html()
    nodes = topological_order(L)
    attrs = dict(re.findall(r'data-node="(\d+)" data-data="[^"]*" data-grad="([^"]*)"', html))
    assert attrs == {str(i): ("1.0" if n is L else "0.0") for i, n in enumerate(nodes)}
    assert re.search(r'data-field="step">0 / 6<', html)
    assert 'data-field="explanation"' in html and "L.grad = 1: the backward pass starts at the root" in html
    for i, n in enumerate(nodes):
        assert f'data-node="{i}" data-data="{n.data!r}"' in html


def test_lines_read_like_the_chain_rule_with_exact_values_on_hover() -> None:
    w = Value(3.0, label="w")
    x = Value(1.0, label="x")
    y = w * x
    y.label = "y"
    stepper = Stepper(y, layout="python")
    assert stepper.line(1) == "w.grad += ∂(*)/∂w (1) × upstream (1) = 1 → w.grad = 1"
    assert stepper.line(2) == "x.grad += ∂(*)/∂x (3) × upstream (1) = 3 → x.grad = 3"
    third = Value(1.0, label="t") / 3.0
    title = embedded_spec(Stepper(third * 1.0, layout="python").to_html())["steps"][1]["title"]
    assert "0.3333333333333333" in title  # rounded on screen, exact on hover
    svg = Stepper(third, layout="python").to_svg()
    assert "<title>0.3333333333333333</title>" in svg and "data 0.3333<" in svg


# --- the user's graph is left alone ----------------------------------------------------------


@pytest.mark.parametrize("layout", LAYOUTS)
def test_building_saving_and_displaying_change_no_grad(layout: str, tmp_path: Path) -> None:
    L = classic()
    L.backward()
    L.backward()  # leaves hold twice their gradient, interior nodes this pass's
    nodes = topological_order(L)
    nodes[2].grad = 123.0  # and something odd
    before = [repr(n.grad) for n in nodes]
    stepper = Stepper(L, grad=3.0, layout=layout, forward=True)
    stepper.save_html(tmp_path / "s.html")
    stepper.to_svg(4)
    stepper._repr_mimebundle_()
    stepper.states()
    stepper.explain(nodes[0], len(stepper))
    assert [repr(n.grad) for n in nodes] == before


def test_grads_are_restored_when_the_pass_raises(monkeypatch: pytest.MonkeyPatch) -> None:
    L = classic()
    L.backward()
    nodes = topological_order(L)
    before = [repr(n.grad) for n in nodes]

    def broken(*args: object, **kwargs: object) -> str:
        raise RuntimeError("boom")

    monkeypatch.setattr(stepper_states, "explain", broken)
    with pytest.raises(RuntimeError, match="boom"):
        Stepper(L, layout="python")
    assert [repr(n.grad) for n in nodes] == before


# --- forward=True ------------------------------------------------------------------------------


def test_forward_first_computes_one_node_per_step_then_seeds_then_backward() -> None:
    L = classic()
    nodes = topological_order(L)
    records, snapshots = fresh_pass(L, 2.0)
    stepper = Stepper(L, grad=2.0, forward=True, layout="python")
    N = len(nodes)
    assert len(stepper) == N + 1 + len(records)
    states = stepper.states()
    for k in range(N + 1):
        assert states[k].data == tuple(n.data if i < k else None for i, n in enumerate(nodes))
        assert states[k].grads == (0.0,) * N and not any(states[k].complete)
        assert states[k].kind == ("start" if k == 0 else "forward")
    assert states[3].line == "e = a * b = -6" and states[1].line.startswith("a = 2  (a leaf")
    seed = states[N + 1]
    assert seed.kind == "seed" and seed.grads[-1] == 2.0 and seed.complete[-1]
    for j in range(len(records) + 1):
        assert [repr(g) for g in states[N + 1 + j].grads] == snapshots[j]
    assert replay(embedded_spec(stepper.to_html()))[N + 1:] == snapshots
    html = stepper.to_html()
    assert 'data-data=""' in html  # the values appear step by step
    assert stepper.explain(0, 0) == "a is not computed yet: the forward pass reaches it at step 1."
    assert stepper.explain(nodes[3], N).endswith("grad: the backward pass has not started yet")


# --- what clicking a node shows ----------------------------------------------------------------


def test_explanations_as_of_a_step_end_as_explain() -> None:
    z = diamond()
    stepper = Stepper(z, grad=1.0, layout="python")
    nodes = topological_order(z)
    y = next(n for n in nodes if n.label == "y")
    i = nodes.index(y)
    uses = [k for k, s in enumerate(stepper.steps, 1) if s.parent is y]
    assert len(uses) == 3
    halfway = stepper.explain(y, uses[0])
    assert "grad so far = " + repr(stepper.states()[uses[0]].grads[i]) + ", from 1 of its 3 use(s):" in halfway
    assert "still to come from:" in halfway
    fresh_pass(z, 1.0)  # now every .grad is that of a full fresh pass
    for n in nodes:
        assert stepper.explain(n, len(stepper)) == n.explain(root=z)
    assert stepper.explain(i, uses[-1]) == y.explain(root=z)


# --- refusals and bad arguments ----------------------------------------------------------------


def test_too_big_graphs_are_refused_like_draw_dot() -> None:
    x = Value(1.0)
    y = x
    for _ in range(400):
        y = y * 1.01
    with pytest.raises(ValueError) as ours:
        Stepper(y)
    with pytest.raises(ValueError) as theirs:
        draw_dot(y)
    assert str(ours.value) == str(theirs.value)
    assert "401 Values, more than max_nodes=300" in str(ours.value) and "pass max_nodes=401" in str(ours.value)
    with pytest.raises(ValueError, match="more than max_nodes=5"):
        Stepper(classic(), max_nodes=5)
    assert len(Stepper(y, max_nodes=401, layout="python")) == 400


def test_an_mlp_graph_is_well_within_the_default_cap() -> None:
    from nn import MLP

    out = MLP(2, [4, 4, 1], seed=0)([0.5, -1.0])
    assert isinstance(out, Value)
    stepper = Stepper(out)
    assert len(stepper.nodes) * 2 <= stepper_module.DEFAULT_MAX_NODES
    assert len(stepper) == sum(len(n.parents) for n in stepper.nodes)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"grad": "1"}, TypeError, "grad must be a real number, got str"),
        ({"grad": True}, TypeError, "grad must be a real number, got bool"),
        ({"forward": 1}, TypeError, "forward must be True or False, got int"),
        ({"rankdir": "RL"}, ValueError, "rankdir must be 'LR' or 'TB'"),
        ({"max_nodes": 0}, ValueError, "max_nodes must be at least 1"),
        ({"max_nodes": 2.5}, TypeError, "max_nodes must be an int, got float"),
        ({"layout": "neato"}, ValueError, "layout must be 'auto', 'dot' or 'python'"),
    ],
)
def test_bad_arguments_are_refused_clearly(kwargs: dict[str, Any], error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=re.escape(message)):
        Stepper(classic(), **kwargs)


def test_bad_calls_are_refused_clearly(tmp_path: Path) -> None:
    with pytest.raises(TypeError, match="Stepper\\(\\) needs a Value, got float"):
        Stepper(1.0)  # type: ignore[arg-type]
    stepper = Stepper(classic(), layout="python")
    with pytest.raises(ValueError, match="step 7 is out of range: this stepper has steps 0 to 6"):
        stepper.line(7)
    with pytest.raises(TypeError, match="a step number must be an int"):
        stepper.to_svg(1.5)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="is not part of the graph"):
        stepper.explain(Value(1.0, label="stranger"), 0)
    with pytest.raises(ValueError, match="node index 9 is out of range"):
        stepper.explain(9, 0)
    with pytest.raises(TypeError, match="needs a file path"):
        stepper.save_html(42)  # type: ignore[arg-type]
    with pytest.raises(IsADirectoryError, match="is a folder"):
        stepper.save_html(tmp_path)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        stepper.save_html(tmp_path / "no" / "such" / "s.html")
    assert list(tmp_path.iterdir()) == []


def test_layout_dot_without_dot_says_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    from autograd import DotNotFoundError

    monkeypatch.setattr(stepper_layout, "dot_available", lambda: False)
    with pytest.raises(DotNotFoundError, match="apt-get install graphviz"):
        Stepper(classic(), layout="dot")
    assert Stepper(classic()).layout_engine == "python"  # 'auto' falls back quietly


# --- the layout --------------------------------------------------------------------------------


@pytest.mark.parametrize("rankdir", ["LR", "TB"])
def test_python_layout_is_the_fallback_layout_of_draw_dot(rankdir: str) -> None:
    L = classic()
    nodes = topological_order(L)
    stepper = Stepper(L, rankdir=rankdir, layout="python")
    expected = fallback_layout(nodes, rankdir)
    svg = ET.fromstring(stepper.to_svg())
    for i, box in enumerate(expected.values):
        group = next(g for g in svg.iter() if g.get("data-node") == str(i))
        rect = next(r for r in group if r.tag.endswith("rect"))
        assert [float(rect.get(a, "nan")) for a in ("x", "y", "width", "height")] == pytest.approx(list(box), abs=0.01)


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("rankdir", ["LR", "TB"])
def test_drawing_names_every_node_and_edge_and_boxes_do_not_overlap(layout: str, rankdir: str) -> None:
    from nn import MLP

    for root in (classic(), diamond(), MLP(2, [3, 1], seed=0)([0.5, -1.0])):
        assert isinstance(root, Value)
        stepper = Stepper(root, rankdir=rankdir, layout=layout)
        assert stepper.layout_engine == layout
        svg = ET.fromstring(stepper.to_svg())
        groups = {g.get("data-node"): g for g in svg.iter() if g.get("data-node") is not None}
        assert set(groups) == {str(i) for i in range(len(stepper.nodes))}
        edges = {g.get("data-edge") for g in svg.iter() if g.get("data-edge") is not None}
        wanted = {str(i) for i, n in enumerate(stepper.nodes) if n.parents}
        wanted |= {f"{i}:{j}" for i, n in enumerate(stepper.nodes) for j in range(len(n.parents))}
        assert edges == wanted
        boxes = []
        for g in groups.values():
            rect = next(r for r in g if r.tag.endswith("rect"))
            x, y, w, h = (float(rect.get(a, "nan")) for a in ("x", "y", "width", "height"))
            boxes.append((x, y, x + w, y + h))
        for i, (ax0, ay0, ax1, ay1) in enumerate(boxes):
            for bx0, by0, bx1, by1 in boxes[i + 1:]:
                assert ax1 <= bx0 + 0.01 or bx1 <= ax0 + 0.01 or ay1 <= by0 + 0.01 or by1 <= ay0 + 0.01


# --- the saved page ----------------------------------------------------------------------------


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


@pytest.mark.parametrize("layout", LAYOUTS)
def test_saved_page_is_self_contained(layout: str, tmp_path: Path) -> None:
    path = Stepper(classic(), layout=layout).save_html(tmp_path / "stepper.html")
    assert path == tmp_path / "stepper.html"
    html = path.read_text(encoding="utf-8")
    parser = _Links()
    parser.feed(html)
    for tag, attrs in parser.tags:
        for name in ("src", "href", "xlink:href", "action", "data", "poster"):
            value = attrs.get(name) or ""
            assert "//" not in value and not value.startswith(("http:", "https:")), (tag, name, value)
        assert not (tag == "script" and attrs.get("src")), "an external script"
        assert not (tag == "link" and "stylesheet" in (attrs.get("rel") or "")), "an external stylesheet"
        assert tag not in ("iframe", "object", "embed", "img")
    assert not re.search(r"@import|url\(\s*['\"]?(?!#|data:)", html), "a CSS url() or @import"
    assert not re.search(r"\bfetch\(|XMLHttpRequest|import\(", html)
    assert "Content-Security-Policy" in html and "default-src 'none'" in html
    assert html.count("<script") == 2 and "</html>" in html
    assert "data-valuegrad-stepper" in html
    for action in ("next", "prev", "play", "reset", "seek"):
        assert f'data-action="{action}"' in html
    assert re.search(r'<input type="range" data-action="seek"', html)
    assert (Path(stepper_module.__file__).parent / "assets" / "stepper.js").read_text() in html


def test_save_html_is_atomic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "s.html"
    target.write_text("the old page")
    stepper = Stepper(classic(), layout="python")

    def fail(*args: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(OSError, match="disk full"):
        stepper.save_html(target)
    assert target.read_text() == "the old page" and [p.name for p in tmp_path.iterdir()] == ["s.html"]
    monkeypatch.undo()
    monkeypatch.setattr(Stepper, "to_html", lambda self: (_ for _ in ()).throw(RuntimeError("no page")))
    with pytest.raises(RuntimeError, match="no page"):
        stepper.save_html(target)
    assert target.read_text() == "the old page" and [p.name for p in tmp_path.iterdir()] == ["s.html"]
    monkeypatch.undo()
    assert stepper.save_html(str(target)) == target and target.read_text().startswith("<!DOCTYPE html>")
    assert [p.name for p in tmp_path.iterdir()] == ["s.html"]


# --- notebooks -------------------------------------------------------------------------------


def test_display_without_anywidget_is_a_still_picture_and_a_hint(monkeypatch: pytest.MonkeyPatch) -> None:
    real_import = builtins.__import__

    def no_anywidget(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == "anywidget" or name.startswith("anywidget."):
            raise ImportError("No module named 'anywidget'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_anywidget)
    monkeypatch.setattr(stepper_widget, "_widget_cls", None)
    stepper = Stepper(classic(), layout="python")
    bundle = stepper._repr_mimebundle_()
    assert isinstance(bundle, dict)
    assert set(bundle) == {"text/plain", "image/svg+xml", "text/html"}
    assert bundle["text/plain"] == "<Stepper of L: 7 Values, 6 steps>"
    root = ET.fromstring(bundle["image/svg+xml"])
    assert root.tag.endswith("svg")
    assert bundle["image/svg+xml"] in bundle["text/html"] and "save_html" in bundle["text/html"]
    assert 'data-grad="6.0"' in bundle["image/svg+xml"]  # the picture is the state after the last step
    lit = re.compile(r'class="[^"]*vg-current')  # the edge of the last step: not in the still picture
    assert not lit.search(bundle["image/svg+xml"]) and lit.search(stepper.to_svg())
    with pytest.raises(ImportError, match=r'anywidget: pip install "valuegrad\[notebooks\]"'):
        stepper.widget()


def test_display_with_anywidget_is_the_widget_plus_the_fallback() -> None:
    pytest.importorskip("anywidget")
    stepper = Stepper(classic(), layout="python")
    bundle = stepper._repr_mimebundle_()
    data = bundle[0] if isinstance(bundle, tuple) else bundle
    assert {"text/plain", "image/svg+xml", "text/html", WIDGET_MIME} <= set(data)
    widget = stepper.widget()
    assert data[WIDGET_MIME]["model_id"] == widget.model_id
    assert stepper.widget() is widget and widget.step == 0
    spec = json.loads(widget.spec)
    assert spec["n"] == 6 and "data-valuegrad-stepper" in spec["markup"]
    js = (Path(stepper_module.__file__).parent / "assets" / "stepper.js").read_text()
    assert js in widget._esm and "export default" in widget._esm  # the same script as the saved page
    assert js in stepper.to_html()


def test_repr_has_no_memory_address() -> None:
    stepper = Stepper(classic(), forward=True, layout="python")
    assert repr(stepper) == "<Stepper of L: 7 Values, 14 steps, forward pass first>"
    assert "0x" not in stepper.to_html()


def test_the_module_does_not_import_value_at_run_time() -> None:
    tree = ast.parse(Path(stepper_module.__file__).read_text(encoding="utf-8"))
    checks = [node for node in ast.walk(tree) if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)]
    guarded = {id(n) for check in checks for n in ast.walk(check)}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and id(node) not in guarded:
            assert node.module != "autograd.value" and node.module != "autograd", ast.unparse(node)
        if isinstance(node, ast.Import) and id(node) not in guarded:
            assert all(alias.name != "autograd.value" for alias in node.names)
