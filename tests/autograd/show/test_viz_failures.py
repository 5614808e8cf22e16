"""Drawing when Graphviz cannot: labels it cannot take, dot failing, output XML cannot hold.

Each case ends in the pure-Python drawing with one DrawingFallbackWarning (for display) or in one
of our errors (for pipe/render), never in a traceback from the graphviz package or dot's own
complaints on stderr; and the SVG we write is always well-formed XML.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import warnings
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from autograd import Value, draw_dot
from autograd.show.dot import DrawingFallbackWarning, GraphvizError
from autograd.show.fallback import fallback_svg
from autograd.show.stepper import Stepper
from autograd.show.text import visible_text

graphviz = pytest.importorskip("graphviz")

# (label, how the fallback drawing shows it, words the warning uses for the cause)
BAD_LABELS = [
    pytest.param("a\x00b", "a\\x00b", "holds a NUL character", id="nul"),
    pytest.param("a\ud800b", "a\\ud800b", "cannot be written as UTF-8", id="lone-surrogate"),
]


def _texts(svg: str) -> list[str]:
    """Every <text> of an SVG, parsed as XML (so this fails on SVG that is not well-formed)."""
    root = ET.fromstring(svg)
    return [el.text or "" for el in root.iter() if el.tag.endswith("text")]


@pytest.mark.parametrize(("label", "shown", "cause"), BAD_LABELS)
def test_display_of_a_label_graphviz_cannot_take_falls_back_with_one_warning(label: str, shown: str,
                                                                               cause: str) -> None:
    g = draw_dot(Value(1.0, label=label) * 2)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        svg = g._repr_svg_()
    assert [w.category for w in caught] == [DrawingFallbackWarning]
    message = str(caught[0].message)
    assert repr(label) in message and cause in message and "simple layout" in message
    assert shown in _texts(svg)
    assert issubclass(DrawingFallbackWarning, RuntimeWarning)


@pytest.mark.parametrize(("label", "shown", "cause"), BAD_LABELS)
def test_display_in_a_fresh_process_writes_one_warning_line_and_nothing_else(label: str, shown: str,
                                                                              cause: str, tmp_path: Path) -> None:
    # a real interpreter, with dot on PATH when this machine has it: stderr must hold our one
    # warning line, not dot's "syntax error", a traceback or a ResourceWarning for a dot left running
    script = textwrap.dedent(
        f"""
        import xml.etree.ElementTree as ET
        from autograd import Value, draw_dot
        g = draw_dot(Value(1.0, label={label!r}) * 2)
        svg = g._repr_mimebundle_()["image/svg+xml"]
        ET.fromstring(svg)
        print({shown!r} in svg)
        """
    )
    repo = str(Path(__file__).resolve().parents[3])
    env = dict(os.environ, PYTHONPATH=repo)
    result = subprocess.run([sys.executable, "-W", "default", "-c", script], env=env, capture_output=True,
                            text=True, cwd=tmp_path, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "True\n"
    # one warning, naming the script's line (the first outside autograd), not ours; Python 3.13
    # also echoes that line of `-c` code under it, as the warnings module does for a file
    lines = result.stderr.splitlines()
    assert lines[0].startswith("<string>:5: DrawingFallbackWarning: ") and cause in lines[0], result.stderr
    assert lines[1:] in ([], ['  svg = g._repr_mimebundle_()["image/svg+xml"]']), result.stderr


@pytest.mark.parametrize(("label", "shown", "cause"), BAD_LABELS)
def test_pipe_and_render_refuse_such_a_label_before_starting_dot(label: str, shown: str, cause: str,
                                                                 tmp_path: Path) -> None:
    g = draw_dot(Value(1.0, label=label))
    with pytest.raises(ValueError, match=f"Graphviz cannot draw this graph: .*{cause}.*use to_svg"):
        g.pipe(format="svg")
    with pytest.raises(ValueError, match=cause):
        g.render(str(tmp_path / "out"), format="svg")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(("label", "shown", "cause"), BAD_LABELS)
def test_fallback_svg_is_well_formed_xml_and_shows_the_label_escaped(label: str, shown: str, cause: str) -> None:
    out = Value(1.0, label=label) * 2
    out.label = label + "!"
    texts = _texts(fallback_svg([out.parents[0], out]))
    assert shown in texts and shown + "!" in texts


def test_visible_text_escapes_only_what_xml_cannot_hold() -> None:
    assert visible_text("a\x00b\x1f\ud800\udfff\ufffe\uffff") == "a\\x00b\\x1f\\ud800\\udfff\\ufffe\\uffff"
    kept = "tab\there\nnew\rline é → \ud7ff \ue000 \ufffd \U0001f600 <&>"
    assert visible_text(kept) == kept


def _dot_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    def failing(self: Any, *args: Any, **kwargs: Any) -> Any:
        raise graphviz.CalledProcessError(1, ["dot", "-Tsvg"], output=b"", stderr=b"Error: something dot hates\n")

    monkeypatch.setattr(graphviz.Digraph, "pipe", failing)
    monkeypatch.setattr(graphviz.Digraph, "render", failing)


def test_dot_failing_on_the_graph_is_our_error_for_pipe_and_render(monkeypatch: pytest.MonkeyPatch) -> None:
    _dot_fails(monkeypatch)
    g = draw_dot(Value(1.0, label="a"))
    with pytest.raises(GraphvizError, match=r"'dot' program failed on this graph \(exit status 1\): "
                                            r"Error: something dot hates$"):
        g.pipe(format="svg")
    with pytest.raises(GraphvizError, match="something dot hates"):
        g.render("out", format="svg")


def test_dot_failing_on_the_graph_falls_back_for_display(monkeypatch: pytest.MonkeyPatch) -> None:
    _dot_fails(monkeypatch)
    g = draw_dot(Value(1.0, label="a"))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        svg = g.to_svg()
    assert [w.category for w in caught] == [DrawingFallbackWarning]
    assert "something dot hates; drawing a simple layout instead" in str(caught[0].message)
    assert "a" in _texts(svg)


def test_svg_from_dot_that_xml_cannot_hold_falls_back(monkeypatch: pytest.MonkeyPatch) -> None:
    # dot copies U+FFFE from a label into its SVG as is, which no XML parser accepts
    monkeypatch.setattr(graphviz.Digraph, "pipe", lambda self, *a, **k: "<svg><text>a\ufffeb</text></svg>")
    g = draw_dot(Value(1.0, label="a\ufffeb"))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        svg = g.to_svg()
    assert [w.category for w in caught] == [DrawingFallbackWarning]
    assert "'\\ufffe' into its SVG" in str(caught[0].message)
    assert "a\\ufffeb" in _texts(svg)


@pytest.mark.parametrize(("label", "shown", "cause"), BAD_LABELS)
def test_stepper_lays_such_a_label_out_in_python_with_one_warning(label: str, shown: str, cause: str,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("autograd.show.stepper.layout.dot_available", lambda: True)  # as if dot were installed
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        stepper = Stepper(Value(1.0, label=label) * 2)
    assert [w.category for w in caught] == [DrawingFallbackWarning]
    assert cause in str(caught[0].message) and "pure Python" in str(caught[0].message)
    assert caught[0].filename == __file__  # the user's line, not one inside autograd/show/stepper/
    assert stepper.layout_engine == "python"
    assert shown in _texts(stepper.to_svg())
    assert shown in stepper.to_html().encode("utf-8").decode("utf-8")
