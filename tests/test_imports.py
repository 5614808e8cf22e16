"""What importing the packages loads: the core only. The replay engines (compiled, codegen, tape,
vectorized), the display code (stepper, viz, explain, symbolic) and nn's training, file and data
modules load on first use of one of their names, so ``import autograd, nn`` stays quick.

Loading is checked in a fresh interpreter (``sys.modules``), never timed here: the benchmarks
measure the time (row W7). The import graph's acyclicity is checked by tests/autograd/test_registry.py.
"""

from __future__ import annotations

import functools
import html
import inspect
import json
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape as sax_escape

import pytest

import autograd
import nn
from autograd import ops
from autograd.modes import _is_generator_function
from autograd.show.text import escape_attribute, escape_text

ROOT = Path(__file__).resolve().parent.parent

REPLAY = ["autograd.replay.tape", "autograd.replay.codegen", "autograd.replay.program", "autograd.replay.batch"]
SHOW = ["autograd.show.stepper", "autograd.show.dot", "autograd.show.explain", "autograd.show.symbolic"]
NN_ON_USE = ["nn.cli", "nn.report", "nn.io", "nn.data", "nn.pytorch"]
# Standard-library modules an import used to pull in for one helper each.
STDLIB = ["inspect", "dataclasses", "xml.sax.saxutils", "urllib.request", "json", "tempfile"]


def loaded_by(statement: str) -> set[str]:
    """The modules that ``statement`` adds to ``sys.modules`` in a fresh interpreter that has
    this checkout first on its path (whatever the interpreter's start-up loaded is left out)."""
    code = (
        "import sys, json\n"
        f"sys.path.insert(0, {str(ROOT)!r})\n"
        "before = set(sys.modules)\n"
        f"{statement}\n"
        "print(json.dumps(sorted(set(sys.modules) - before)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True, cwd=ROOT)
    return set(json.loads(out.stdout.splitlines()[-1]))


def test_import_autograd_loads_the_core_only() -> None:
    loaded = loaded_by("import autograd")
    assert "autograd.value" in loaded and "autograd.backward" in loaded  # the check sees the core
    assert sorted(loaded & {*REPLAY, *SHOW, *STDLIB}) == []
    assert not any(m == "nn" or m.startswith("nn.") for m in loaded)


def test_import_nn_loads_neither_its_tools_nor_the_replay_engines() -> None:
    loaded = loaded_by("import autograd, nn")
    assert "nn.layers" in loaded and "nn.optim" in loaded
    assert sorted(loaded & {*REPLAY, *SHOW, *NN_ON_USE, "inspect", "dataclasses", "xml.sax.saxutils"}) == []


@pytest.mark.parametrize(
    ("statement", "module"),
    [
        ("from autograd import Stepper", "autograd.show.stepper"),
        ("from autograd import draw_dot", "autograd.show.dot"),
        ("import autograd; autograd.Tape", "autograd.replay.tape"),
        ("from autograd import to_sympy", "autograd.show.symbolic"),
        ("from autograd import Value; Value(1.0).explain()", "autograd.show.explain"),
        ("import nn; nn.data", "nn.data"),
        ("from nn import save", "nn.io"),
    ],
)
def test_a_lazy_name_loads_its_module_on_first_use(statement: str, module: str) -> None:
    assert module in loaded_by(statement)


@pytest.mark.parametrize("package", [autograd, nn], ids=["autograd", "nn"])
def test_every_exported_name_resolves_and_dir_lists_it(package: Any) -> None:
    assert set(package.__all__) <= set(dir(package))
    for name in package.__all__:
        value = getattr(package, name)
        assert value is not None
        scope: dict[str, Any] = {}
        exec(f"from {package.__name__} import {name} as imported", {}, scope)
        assert scope["imported"] is value
    assert autograd.Tape is __import__("autograd.replay.tape", fromlist=["Tape"]).Tape
    assert nn.data is __import__("nn.data", fromlist=["data"])
    __import__("nn.train")  # a submodule named like a function must not replace it
    assert callable(nn.train) and nn.train.__module__ == "nn.train"


@pytest.mark.parametrize("package", [autograd, nn], ids=["autograd", "nn"])
def test_an_unknown_name_is_still_an_attribute_error(package: Any) -> None:
    with pytest.raises(AttributeError, match=f"module '{package.__name__}' has no attribute 'no_such_name'"):
        package.no_such_name
    with pytest.raises(ImportError):
        exec(f"from {package.__name__} import no_such_name", {})


# --- the replacements for what was imported for one helper --------------------------------------

DRAWN = ["x", "a<b & c>d", 'say "hi"', "it's", "&amp; already", "]]>", "", "x\u00b2 \u2207 \u00e9"]


@pytest.mark.parametrize("text", DRAWN)
def test_escaping_draws_what_xml_sax_saxutils_drew(text: str) -> None:
    assert escape_text(text) == sax_escape(text)  # element content: byte for byte as before
    assert html.unescape(escape_attribute(text)) == text  # an attribute reads back as the text
    assert '"' not in escape_attribute(text) and "'" not in escape_attribute(text)  # cannot end it


def test_a_quote_in_a_label_cannot_end_the_stepper_attribute() -> None:
    from autograd import Value

    x = Value(2.0, label="x")
    y = x * x
    y.label = "y\"' onload='alert(1)"
    page = y.stepper().to_html()
    assert 'aria-label="backprop stepper for y&quot;&#x27; onload=&#x27;alert(1)"' in page
    assert "<title>valuegrad stepper: y\"' onload='alert(1)</title>" in page  # element text: quotes kept


def _gen() -> Iterator[int]:
    yield 1


def _plain() -> int:
    return 1


class _Holder:
    def gen(self) -> Iterator[int]:
        yield 1

    def plain(self) -> None:
        pass


@pytest.mark.parametrize(
    "func",
    [_gen, _plain, _Holder().gen, _Holder().plain, _Holder.gen, functools.partial(_gen), len, lambda: 0,
     functools.partial(_Holder().gen), functools.partial(functools.partial(_plain))],
)
def test_the_generator_check_agrees_with_inspect(func: Callable[..., Any]) -> None:
    assert _is_generator_function(func) == inspect.isgeneratorfunction(func)


def test_a_primitive_is_still_read_only_with_its_defaults() -> None:
    prim = ops.REGISTRY["tanh"]
    with pytest.raises(AttributeError, match="primitive 'tanh' is read-only: cannot assign to 'op'"):
        prim.op = "t"
    with pytest.raises(AttributeError, match="cannot delete 'name'"):
        del prim.name
    made = ops.Primitive("probe", lambda a: a, lambda a, out: (1.0,))
    assert (made.op, made.drawn, made.arity, made.builtin, made.fused) == ("probe", "probe", 1, True, None)
    assert ops.Primitive("p2", abs, abs, 1, False, "**{c}").drawn == "**{c}"
    assert made != ops.Primitive("probe", lambda a: a, lambda a, out: (1.0,))  # identity, as eq=False


def test_history_keeps_the_dataclass_constructor_repr_and_equality() -> None:
    h = nn.History(loss=[1.0], path="compiled")
    assert repr(h) == ("History(loss=[1.0], accuracy=[], lr=[], path='compiled', fallback=None, interrupted=False, "
                       "stopped=False, val_steps=[], val_loss=[], val_accuracy=[])")
    assert h == nn.History([1.0], [], [], "compiled") and h != nn.History([1.0]) and h != "History"
    assert nn.History().loss is not nn.History().loss  # a fresh list each
    with pytest.raises(TypeError, match="unhashable"):
        hash(h)
