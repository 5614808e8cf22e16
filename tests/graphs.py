"""Small named graphs several test files draw, step through and check."""

from __future__ import annotations

from autograd import Value


def classic_nodes() -> list[Value]:
    """micrograd's lecture example, ``L = (a*b + c) * f`` with a=2, b=-3, c=10, f=-2, labelled:
    ``[a, b, c, e, d, f, L]`` (``e = a*b``, ``d = e + c``)."""
    a, b, c, f = Value(2.0, label="a"), Value(-3.0, label="b"), Value(10.0, label="c"), Value(-2.0, label="f")
    e = a * b
    e.label = "e"
    d = e + c
    d.label = "d"
    L = d * f
    L.label = "L"
    return [a, b, c, e, d, f, L]


def classic() -> Value:
    """The root ``L`` of :func:`classic_nodes`."""
    return classic_nodes()[-1]
