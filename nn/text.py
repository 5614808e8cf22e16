"""``describe``: how a value of unknown size and type reads in an error message.

Every module of ``nn`` that names a bad argument or a bad field of a file in its messages uses
it (modules, layers, optimizers, model files, drawings); it sits in a module of its own, below
all of them, so that none imports another to reach it.
"""

from __future__ import annotations

import math

__all__ = ["describe"]


def describe(x: object, width: int = 80) -> str:
    """A short, safe ``repr`` of a value of unknown size for an error message: long strings and
    containers are cut, huge integers are described by their size, nothing can raise.

    Args:
        x: any value (from a caller or a file).
        width: the most characters returned.

    Returns:
        The text, at most ``width`` characters.

    Example:
        >>> describe(10**1000)
        '<an integer of 1001 digits>'
    """
    text = _brief(x, 3)
    return text if len(text) <= width else text[: width - 3] + "..."


def _brief(x: object, depth: int) -> str:
    if x is None or isinstance(x, (bool, float)):
        return repr(x)
    if isinstance(x, int):
        bits = x.bit_length()
        return repr(x) if bits <= 256 else f"<an integer of {int(bits * math.log10(2)) + 1} digits>"
    if isinstance(x, str):
        return repr(x) if len(x) <= 60 else repr(x[:60])[:-1] + f"...' ({len(x)} characters)"
    if isinstance(x, (list, tuple, dict)):
        opening, closing = ("{", "}") if isinstance(x, dict) else ("(", ")") if isinstance(x, tuple) else ("[", "]")
        if depth == 0 or not x:
            return f"{opening}{'...' if x else ''}{closing}"
        if isinstance(x, dict):
            shown = [f"{_brief(k, 0)}: {_brief(v, depth - 1)}" for k, v in list(x.items())[:6]]
        else:
            shown = [_brief(v, depth - 1) for v in x[:6]]
        more = f", ... ({len(x)} items)" if len(x) > 6 else ""
        return f"{opening}{', '.join(shown)}{more}{closing}"
    try:
        text = repr(x)
    except Exception:
        return f"<{type(x).__name__}>"
    return text if len(text) <= 80 else text[:77] + "..."
