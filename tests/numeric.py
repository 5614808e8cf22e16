"""Numerical helpers shared by the tests: central differences and closeness with a clear message."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence


def central_difference(f: Callable[[list[float]], float], xs: Sequence[float], i: int, eps: float = 1e-6) -> float:
    """(f(x + eps e_i) - f(x - eps e_i)) / (2 eps): the numerical partial derivative of f in x_i."""
    up = list(xs)
    down = list(xs)
    up[i] += eps
    down[i] -= eps
    return (f(up) - f(down)) / (2.0 * eps)


def numeric_gradient(f: Callable[[list[float]], float], xs: Sequence[float], eps: float = 1e-6) -> list[float]:
    """Every partial derivative of f at xs by central differences."""
    return [central_difference(f, xs, i, eps) for i in range(len(xs))]


def assert_close(actual: float, expected: float, rtol: float = 1e-5, atol: float = 1e-6, what: str = "") -> None:
    """Like math.isclose, but nan == nan, equal infinities match, and the failure says what differed."""
    if math.isnan(expected):
        assert math.isnan(actual), f"{what}: expected nan, got {actual!r}"
        return
    if math.isinf(expected):
        assert actual == expected, f"{what}: expected {expected!r}, got {actual!r}"
        return
    assert math.isclose(actual, expected, rel_tol=rtol, abs_tol=atol), (
        f"{what}: got {actual!r}, expected {expected!r} (rtol={rtol}, atol={atol})"
    )
