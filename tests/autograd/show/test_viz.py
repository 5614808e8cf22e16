"""draw_dot: DOT source, rendering with dot, the pure-Python fallback without dot, and refusals."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from autograd import DotNotFoundError, Value, dot, draw_dot, topological_order
from autograd.show.dot import dot_available
from autograd.show.fallback import fallback_svg
from autograd.show.text import op_text
from tests.graphs import classic_nodes


def classic() -> tuple[Value, list[Value]]:
    nodes = classic_nodes()
    return nodes[-1], nodes


def test_source_names_every_value_and_op() -> None:
    L, values = classic()
    L.backward()
    src = draw_dot(L).source
    for v in values:
        assert f"{{ {v.label} | data " in src
    assert src.count("shape=ellipse") == 3  # *, +, *
    assert "grad -4" in src and "grad 6" in src  # b.grad, a.grad
    assert "rankdir=LR" in src
    assert "rankdir=TB" in draw_dot(L, rankdir="TB").source


def test_edges_point_forward_through_one_op_node_per_computed_value() -> None:
    L, (a, b, *_rest) = classic()
    src = draw_dot(L).source
    e = L.parents[0].parents[0]
    name = {id(v): f"v{i}" for i, v in enumerate(topological_order(L))}  # nodes are named by position
    assert f"{name[id(a)]} -> {name[id(e)]}op" in src and f"{name[id(b)]} -> {name[id(e)]}op" in src
    assert f"{name[id(e)]}op -> {name[id(e)]}" in src


def test_show_grad_off_highlight_and_colour_by_grad() -> None:
    L, values = classic()
    L.backward()
    assert "grad" not in draw_dot(L, show_grad=False).source
    e = values[3]
    hl = draw_dot(L, highlight=e).source
    assert hl.count("#ffe066") == 1
    colored = draw_dot(L, color_by_grad=True).source
    assert "#ff" in colored and "ff\"" in colored  # red for negative, blue for positive gradients
    assert "fillcolor" not in draw_dot(L).source


def test_folded_constants_and_fused_dot_read_as_one_op() -> None:
    x = Value(3.0, label="x")
    assert op_text(x * 2) == "* 2"
    assert op_text(x + 1.5) == "+ 1.5"
    assert op_text(x / 4) == "/ 4"
    assert op_text(x**2) == "**2"
    assert op_text(2 / x) == "2/"
    assert op_text(5 - x) == "5 -"
    assert op_text(x - 5) == "- 5"
    w = [Value(0.5), Value(-1.0)]
    n = dot(w, [x, Value(1.0)], Value(0.1))
    src = draw_dot(n).source
    assert src.count("shape=ellipse") == 1 and "label=dot" in src


def test_oversized_graphs_are_refused_with_the_count_and_the_fix() -> None:
    x = Value(1.0)
    y = x
    for _ in range(400):
        y = y * 1.01
    with pytest.raises(ValueError, match=r"401 Values, more than max_nodes=300; .* pass max_nodes=401"):
        draw_dot(y)
    assert draw_dot(y, max_nodes=401).source.count("shape=record") == 401


def test_bad_arguments() -> None:
    with pytest.raises(TypeError, match="needs a Value, got float"):
        draw_dot(1.0)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="rankdir must be 'LR' or 'TB'"):
        draw_dot(Value(1.0), rankdir="RL")
    with pytest.raises(TypeError, match="highlight needs a Value"):
        draw_dot(Value(1.0), highlight=[1.0])  # type: ignore[list-item]


@pytest.mark.skipif(not dot_available(), reason="needs the Graphviz dot binary")
def test_renders_svg_and_files_with_dot(tmp_path: Path) -> None:
    L, values = classic()
    g = draw_dot(L)
    svg = g.to_svg()
    root = ET.fromstring(svg)
    assert root.tag.endswith("svg")
    texts = "".join(t.text or "" for t in root.iter() if t.tag.endswith("text"))
    for v in values:
        assert v.label in texts
    bundle = g._repr_mimebundle_()
    assert bundle["image/svg+xml"] == svg
    out = g.render(tmp_path / "graph", format="png")
    assert Path(out).read_bytes()[:4] == b"\x89PNG"


def test_fallback_svg_is_valid_xml_naming_every_node() -> None:
    L, values = classic()
    L.backward()
    from autograd import topological_order

    svg = fallback_svg(topological_order(L), "LR", True, {id(values[3])})
    root = ET.fromstring(svg)
    texts = [t.text for t in root.iter() if t.tag.endswith("text")]
    for v in values:
        assert v.label in texts
    assert texts.count("*") == 2 and texts.count("+") == 1
    assert "#ffe066" in svg
    assert ET.fromstring(fallback_svg(topological_order(L), "TB", False)) is not None


def _shapes(svg: str) -> tuple[tuple[float, float], list[tuple[float, float, float, float]]]:
    """The canvas size and the (x0, y0, x1, y1) box of every value rectangle and op ellipse."""
    root = ET.fromstring(svg)
    boxes = []
    for el in root.iter():
        a = el.attrib
        if el.tag.endswith("rect"):
            x, y, w, h = (float(a[k]) for k in ("x", "y", "width", "height"))
            boxes.append((x, y, x + w, y + h))
        elif el.tag.endswith("ellipse"):
            cx, cy, rx, ry = (float(a[k]) for k in ("cx", "cy", "rx", "ry"))
            boxes.append((cx - rx, cy - ry, cx + rx, cy + ry))
    return (float(root.attrib["width"]), float(root.attrib["height"])), boxes


@pytest.mark.parametrize("rankdir", ["LR", "TB"])
def test_fallback_boxes_never_overlap_and_fit_the_canvas(rankdir: str) -> None:
    from autograd import topological_order
    from nn import MLP

    L, _ = classic()
    out = MLP(2, [3, 2], seed=0, fused=False)([0.5, -1.0])
    assert isinstance(out, list)
    for root in (L, out[0] + out[1]):
        nodes = topological_order(root)
        (width, height), boxes = _shapes(fallback_svg(nodes, rankdir))
        assert len(boxes) == len(nodes) + sum(1 for n in nodes if n.parents)
        for i, (ax0, ay0, ax1, ay1) in enumerate(boxes):
            assert 0 <= ax0 < ax1 <= width and 0 <= ay0 < ay1 <= height
            for bx0, by0, bx1, by1 in boxes[i + 1:]:
                assert ax1 <= bx0 or bx1 <= ax0 or ay1 <= by0 or by1 <= ay0, "two shapes overlap"
        # the graph flows along rankdir: each op starts after its inputs end, and its result after it
        lo, hi = (0, 2) if rankdir == "LR" else (1, 3)
        shapes = iter(boxes)  # drawn node by node: the value's rectangle, then its op's ellipse
        value_box, op_box = {}, {}
        for n in nodes:
            value_box[id(n)] = next(shapes)
            if n.parents:
                op_box[id(n)] = next(shapes)
        for n in nodes:
            if n.parents:
                op = op_box[id(n)]
                assert all(value_box[id(p)][hi] < op[lo] for p in n.parents)
                assert op[hi] < value_box[id(n)][lo]


def test_display_without_dot_falls_back_and_warns_once(tmp_path: Path) -> None:
    empty = tmp_path / "empty"  # a PATH with no programs at all, so no dot
    empty.mkdir()
    script = textwrap.dedent(
        """
        import warnings, xml.etree.ElementTree as ET
        from autograd import Value, draw_dot, DotNotFoundError
        a = Value(2.0, label="a"); b = Value(3.0, label="b")
        g = draw_dot(a * b)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            svg1 = g._repr_mimebundle_()["image/svg+xml"]
            svg2 = g._repr_svg_()
        ET.fromstring(svg1)
        assert svg1 == svg2 and ">a<" in svg1 and ">b<" in svg1
        assert len(caught) == 1, caught
        print("WARNING:", caught[0].message)
        try:
            g.render("out", format="png")
        except DotNotFoundError as e:
            print("ERROR:", e)
        """
    )
    repo = str(Path(__file__).resolve().parents[3])
    env = dict(os.environ, PATH=str(empty), PYTHONPATH=repo)
    result = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True,
                            cwd=tmp_path, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "WARNING: Graphviz 'dot' not found" in result.stdout
    for hint in ("apt-get install graphviz", "brew install graphviz", "conda install graphviz",
                 "winget install graphviz"):
        assert result.stdout.count(hint) == 2  # in the warning and in the render error
    assert "ERROR: the Graphviz 'dot' program was not found" in result.stdout
    assert "ExecutableNotFound" not in result.stdout + result.stderr


def test_dot_not_found_error_is_a_runtime_error() -> None:
    assert issubclass(DotNotFoundError, RuntimeError)


def test_source_is_the_same_for_the_same_graph_built_twice() -> None:
    def build() -> Value:
        a, b = Value(2.0, label="a"), Value(-3.0, label="b")
        return (a * b + a).tanh()

    first, second = build(), build()
    assert draw_dot(first).source == draw_dot(second).source
    assert str(id(first)) not in draw_dot(first).source


def test_repr_names_the_size_without_a_memory_address() -> None:
    a = Value(2.0)
    assert repr(draw_dot(a * 3.0 + a, rankdir="TB")) == "<ValueGraph of 3 Values, rankdir='TB'>"


@pytest.mark.parametrize("bad", [None, 0, -5, 2.5, True])
def test_max_nodes_must_be_a_positive_integer(bad: object) -> None:
    with pytest.raises(ValueError, match=r"max_nodes must be a positive integer .*got"):
        draw_dot(Value(1.0) * 2.0, max_nodes=bad)  # type: ignore[arg-type]
