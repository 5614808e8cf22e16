"""How nodes read in text: the names, numbers and op labels that drawings, ``explain``, step
records and the stepper share, so a node is written the same way everywhere."""

from __future__ import annotations

import html
import math
import re
from typing import Any

__all__ = [
    "NOT_XML", "escape_attribute", "escape_text", "name_of", "number", "op_text", "primitive_text", "visible_text",
]


NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
"""What XML 1.0 cannot hold: C0 controls other than tab, newline and return, lone surrogates,
U+FFFE and U+FFFF."""


def visible_text(text: str) -> str:
    """``text`` with every character XML cannot hold written as its Python escape.

    Args:
        text: any string, e.g. a Value's label.

    Returns:
        The same string with NUL and other control characters, lone surrogates and U+FFFE/U+FFFF
        replaced by ``\\x00``, ``\\ud800``, ``\\ufffe``-style escapes, so that it can go into SVG.

    Example:
        >>> print(visible_text("a\\x00b"))
        a\\x00b
    """
    def escaped(m: re.Match[str]) -> str:
        code = ord(m.group())
        return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"

    return NOT_XML.sub(escaped, text)


def escape_text(text: str) -> str:
    """``text`` made safe as the content of an SVG or HTML element: ``&``, ``<`` and ``>`` become
    entities; quotes stay as they are, since they mean nothing between tags.

    Args:
        text: what is to be drawn or shown.

    Returns:
        The markup that displays ``text``; characters XML cannot hold are shown as their
        escapes (:func:`visible_text`), so a label like ``'a\\x00b'`` cannot break the page.
    """
    return html.escape(visible_text(text), quote=False)


def escape_attribute(text: str) -> str:
    """``text`` made safe as an attribute value (``title="..."``): as ``escape_text``, and both
    quote characters become entities too, so a label such as ``x"1`` cannot end the attribute.

    Args:
        text: the attribute's value.

    Returns:
        The markup for the value, to be put between quotes.
    """
    return html.escape(visible_text(text), quote=True)


def number(x: float) -> str:
    """A float rounded for reading: ``'2'``, ``'0.5'``, ``'1.235e+06'``, ``'nan'``."""
    if x == 0.0:
        return "0"
    if math.isnan(x) or math.isinf(x):
        return repr(x)
    if 1e-4 <= abs(x) < 1e5:
        return f"{x:.4f}".rstrip("0").rstrip(".")
    return f"{x:.3e}"


def op_text(node: Any) -> str:
    """How a node's op reads in a drawing, with its folded constant: ``'* 2'``, ``'5 -'``, ``'**2'``."""
    return "" if node.primitive is None else primitive_text(node.primitive, node.const)


def primitive_text(prim: Any, const: float | None) -> str:
    """How an op record reads with folded constant ``const`` (what :func:`op_text` shows)."""
    if prim.drawn == prim.op or const is None:  # '**2', '2/': the constant as node.op writes it
        return str(prim.op_string(const)) if prim.drawn == prim.op else str(prim.drawn)
    return str(prim.drawn).replace("{c}", number(const))


def name_of(node: Any) -> str:
    """A node's label, else ``[op]`` for a computed node, else ``leaf(value)``."""
    return node.label or (f"[{node.op}]" if node.primitive is not None else f"leaf({node.data:.4g})")
