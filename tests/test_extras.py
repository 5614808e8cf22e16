"""Install hints: one table of optional dependencies (``autograd._extras``), every message built from it."""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

import pytest

from autograd._extras import EXTRAS, install_hint

ROOT = Path(__file__).resolve().parent.parent


if sys.version_info >= (3, 11):
    import tomllib
else:  # the same parser, from PyPI (the dev extra installs it on Python 3.10)
    import tomli as tomllib


def _extras() -> dict[str, list[str]]:
    with open(ROOT / "pyproject.toml", "rb") as f:
        extras: dict[str, list[str]] = tomllib.load(f)["project"]["optional-dependencies"]
    return extras


def _packages(extra: str, extras: dict[str, list[str]]) -> set[str]:
    """The package names an extra installs, following ``valuegrad[other]`` references."""
    names: set[str] = set()
    for requirement in extras[extra]:
        inner = re.fullmatch(r"valuegrad\[([\w,-]+)\]", requirement)
        if inner:
            for other in inner.group(1).split(","):
                names |= _packages(other, extras)
        else:
            names.add(re.split(r"[\[<>=!~ ;]", requirement, maxsplit=1)[0].lower())
    return names


@pytest.mark.parametrize("dependency", sorted(EXTRAS))
def test_each_hint_names_an_extra_of_pyproject_that_installs_the_dependency(dependency: str) -> None:
    extras = _extras()
    extra = EXTRAS[dependency]
    assert extra in extras
    assert dependency in _packages(extra, extras)
    assert install_hint(dependency) == f'pip install "valuegrad[{extra}]"'


def test_an_unknown_dependency_is_refused_with_the_known_ones() -> None:
    with pytest.raises(ValueError, match=r"'pandas' is not an optional dependency of valuegrad; expected one of numpy"):
        install_hint("pandas")


def _docstrings(tree: ast.AST) -> set[int]:
    """The ids of the docstring nodes of a module and its classes and functions (and of the
    attribute docstrings that follow an assignment)."""
    found: set[int] = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if not isinstance(body, list):
            continue
        for i, stmt in enumerate(body):
            first = i == 0 and isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
            after_assignment = i > 0 and isinstance(body[i - 1], (ast.Assign, ast.AnnAssign))
            if (first or after_assignment) and isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant):
                found.add(id(stmt.value))
    return found


def test_no_install_command_is_written_outside_the_table() -> None:
    """Messages call install_hint(); only docstrings (documentation) may spell a command out."""
    offenders = []
    for path in sorted([*ROOT.glob("autograd/*.py"), *ROOT.glob("nn/*.py")]):
        if path.name == "_extras.py":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        skip = _docstrings(tree)
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skip \
                    and "pip install" in node.value:
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}: {node.value!r}")
    assert offenders == []
