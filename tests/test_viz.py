"""draw_dot: names every Value and op, renders with dot, falls back without it, refuses huge graphs."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from autograd import GraphvizMissingError, Value, dot, draw_dot, explain
from autograd.viz import fallback_svg


def classic() -> tuple[Value, dict[str, Value]]:
    a, b, c, f = Value(2.0, label="a"), Value(-3.0, label="b"), Value(10.0, label="c"), Value(-2.0, label="f")
    e = a * b
    e.label = "e"
    d = e + c
    d.label = "d"
    L = d * f
    L.label = "L"
    return L, {"a": a, "b": b, "c": c, "d": d, "e": e, "f": f, "L": L}


def test_source_names_every_value_and_op() -> None:
    L, nodes = classic()
    L.backward()
    src = draw_dot(L).source
    for name, v in nodes.items():
        assert f"{{ {name} | data {v.data:.4g} | grad {v.grad:.4g} }}" in src
    assert src.count('label="*"') == 2
    assert src.count('label="+"') == 1
    assert "rankdir=LR" in src


def test_unlabelled_values_and_folded_constants_are_drawn() -> None:
    x = Value(3.0)
    y = (x * 2.5) ** 2 + 2 / x + 2**x
    src = draw_dot(y, show_grad=False).source
    assert 'label="* 2.5"' in src
    for op in ("**2", "2/", "2**", "+"):
        assert f'label="{op}"' in src
    assert "grad" not in src
    assert "data 3 }" in src


def test_fused_dot_is_one_op_node() -> None:
    w = [Value(0.5, label="w0"), Value(-1.0, label="w1")]
    x = [Value(2.0, label="x0"), Value(3.0, label="x1")]
    out = dot(w, x, Value(0.25, label="b"))
    src = draw_dot(out).source
    assert len(re.findall(r'label="?dot"? fontsize', src)) == 1
    assert src.count("-> v5_op") == 5  # w0, x0, w1, x1, b into the one op node


def test_shared_parent_gets_one_edge() -> None:
    x = Value(3.0, label="x")
    src = draw_dot(x * x).source
    assert src.count("v0 -> v1_op") == 1


def test_highlight_and_color_by_grad() -> None:
    L, nodes = classic()
    L.backward()
    src = draw_dot(L, highlight=nodes["e"], color_by_grad=True, rankdir="TB").source
    assert src.count("penwidth=3") == 1
    assert "rankdir=TB" in src
    assert '{ b | data -3 | grad -4 }" fillcolor="#ff' in src  # negative gradient: red
    assert '{ a | data 2 | grad 6 }" fillcolor="#' in src and "fillcolor=\"#ffffff\"" not in src.split("v0")[1][:60]


def test_svg_render_with_dot(tmp_path: Path) -> None:
    L, _ = classic()
    svg = draw_dot(L)._repr_svg_()
    root = ET.fromstring(svg)
    assert root.tag.endswith("svg")
    for name in "abcdefL":
        assert f">{name}<" in svg
    out = draw_dot(L).render(tmp_path / "g", format="svg")
    assert Path(out).read_text().startswith("<?xml")


def test_oversized_graph_is_refused_with_count_and_fix() -> None:
    v = Value(1.0)
    for _ in range(20):
        v = v + 1.0
    with pytest.raises(ValueError, match=r"21 Values, more than max_nodes=10.*max_nodes=21"):
        draw_dot(v, max_nodes=10)
    assert "v20" in draw_dot(v, max_nodes=21).source


def test_bad_arguments() -> None:
    with pytest.raises(TypeError, match="needs a Value, got float"):
        draw_dot(1.0)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="rankdir must be 'LR' or 'TB', got 'XY'"):
        draw_dot(Value(1.0), rankdir="XY")


def test_fallback_svg_is_xml_and_names_every_node() -> None:
    L, _ = classic()
    g = draw_dot(L)
    for rankdir in ("LR", "TB"):
        svg = fallback_svg(g._boxes, g._edges, rankdir)
        root = ET.fromstring(svg)
        texts = [t.text for t in root.iter("{http://www.w3.org/2000/svg}text")]
        assert len(texts) == 7 + 3  # seven Values, three ops
        assert sum(1 for t in root.iter("{http://www.w3.org/2000/svg}line")) == len(g._edges)


NO_DOT_SCRIPT = textwrap.dedent(
    """
    import warnings, xml.etree.ElementTree as ET
    from autograd import Value, draw_dot, GraphvizMissingError
    a = Value(2.0, label="a"); b = Value(-3.0, label="b"); L = a * b + 1.0; L.label = "L"
    g = draw_dot(L)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        svg = g._repr_svg_()
        bundle = g._repr_mimebundle_()
    ET.fromstring(svg)
    assert bundle["image/svg+xml"] == svg
    assert all(f">{n}" in svg for n in ("a", "b", "L", "*", "+")), svg
    assert len(caught) == 1 and "apt-get install graphviz" in str(caught[0].message), caught
    try:
        g.render("out", format="svg")
    except GraphvizMissingError as e:
        assert "brew install graphviz" in str(e) and "winget install graphviz" in str(e)
        print("OK")
    """
)


def test_display_without_dot_falls_back_and_render_names_the_fix(tmp_path: Path) -> None:
    bindir = tmp_path / "bin"
    bindir.mkdir()
    (bindir / "python").symlink_to(sys.executable)
    env = dict(os.environ, PATH=str(bindir), PYTHONPATH=os.pathsep.join(sys.path))
    result = subprocess.run(
        [str(bindir / "python"), "-c", NO_DOT_SCRIPT], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "OK"


def test_graphviz_missing_error_is_a_runtime_error() -> None:
    assert issubclass(GraphvizMissingError, RuntimeError)


def test_explain_interior_node_lists_op_parents_and_local_grads() -> None:
    L, n = classic()
    L.backward()
    text = n["e"].explain()
    assert text.splitlines() == [
        "e = -6, computed by op '*' from a=2, b=-3",
        "  de/da = -3",
        "  de/db = 2",
        "e.grad = -2",
    ]


def test_explain_with_root_lists_each_child_share_and_they_sum_to_grad() -> None:
    x = Value(3.0, label="x")
    y = x * x
    y.label = "y"
    z = y + x
    z.label = "z"
    z.backward()
    text = explain(x, root=z)
    assert "  from y = x * x: dy/dx = 3 * y.grad 1 = 3" in text
    assert "  from z = y + x: dz/dx = 1 * z.grad 1 = 1" in text
    assert x.grad == 3 + 3 + 1  # x*x has x twice (3 each) plus the direct path
    assert text.count("from y") == 2


def test_explain_root_and_unrelated_node() -> None:
    L, _ = classic()
    L.backward()
    assert "the seed of backward()" in L.explain(root=L)
    assert "not part of the graph of L" in Value(1.0, label="q").explain(root=L)
