"""Array namespaces: the few array functions the op rules and the batch replay need.

The rules in ``autograd.ops`` run on floats, on Values and on arrays. For arrays they ask
:func:`namespace_of` for the array's namespace, an object with the same small set of functions
for every array library (``exp``, ``log``, ``where``, ``step``, ...). NumPy's is here; other
libraries register theirs with :func:`register_namespace`. Nothing is imported until an array of
that library shows up, so ``import autograd`` needs no NumPy.
"""

from __future__ import annotations

from typing import Any

__all__ = ["NumpyNamespace", "namespace_of", "numpy_namespace", "register_namespace"]


class NumpyNamespace:
    """The array functions of the op rules, on NumPy arrays (float64, IEEE results, no warnings
    are raised for inf and nan: the batch replay runs under ``numpy.errstate(all="ignore")``)."""

    name = "numpy"

    def __init__(self) -> None:
        import numpy

        self.np = numpy
        self.array_type = numpy.ndarray

    def exp(self, x: Any) -> Any:
        return self.np.exp(x)

    def log(self, x: Any) -> Any:
        return self.np.log(x)

    def sqrt(self, x: Any) -> Any:
        return self.np.sqrt(x)

    def tanh(self, x: Any) -> Any:
        return self.np.tanh(x)

    def abs(self, x: Any) -> Any:
        return self.np.abs(x)

    def power(self, x: Any, y: Any) -> Any:
        return self.np.power(x, y)

    def where(self, condition: Any, x: Any, y: Any) -> Any:
        return self.np.where(condition, x, y)

    def isfinite(self, x: Any) -> Any:
        return self.np.isfinite(x)

    def sigmoid(self, x: Any) -> Any:
        e = self.np.exp(-self.np.abs(x))  # never overflows
        return self.np.where(x >= 0.0, 1.0 / (1.0 + e), e / (1.0 + e))

    def softplus(self, x: Any) -> Any:
        np = self.np
        return np.maximum(x, 0.0) + np.log1p(np.exp(-np.abs(x)))

    def relu(self, x: Any) -> Any:
        return self.np.maximum(x, 0.0)  # keeps nan

    def leaky_relu(self, x: Any, slope: float) -> Any:
        np = self.np
        return np.where((x > 0.0) | np.isnan(x), x, slope * x)

    def step(self, x: Any, above: float, below: float, at: float) -> Any:
        """``above`` where x > 0, ``below`` where x < 0, ``at`` at 0, nan at nan."""
        np = self.np
        if above == 1.0 and below == 0.0 and at == 0.0:
            return np.heaviside(x, 0.0)  # relu's slope in one call
        out = np.where(x > 0.0, above, below)
        out = np.where(x == 0.0, at, out)
        return np.where(x != x, x, out)

    def floor(self, x: Any) -> Any:
        return self.np.floor(x)

    def logsumexp(self, xs: Any) -> Any:
        """``log(sum(exp(x)))`` over the arrays ``xs`` entry by entry, shifted by their max."""
        np = self.np
        stacked = np.stack(np.broadcast_arrays(*xs))
        m = np.max(stacked, axis=0)
        finite = np.isfinite(m)
        shift = np.where(finite, m, 0.0)
        out = shift + np.log(np.sum(np.exp(stacked - shift), axis=0))
        return np.where(finite, out, m)  # all -inf: -inf; an inf: inf; a nan: nan (max keeps it)

    def elementwise(self, f: Any, *xs: Any) -> Any:
        """``f`` (a function of floats) applied entry by entry, broadcasting ``xs``."""
        return self.np.vectorize(f, otypes=[float])(*xs)


_NAMESPACES: dict[type, Any] = {}
_numpy: NumpyNamespace | None = None


def numpy_namespace() -> NumpyNamespace:
    """The NumPy namespace (NumPy is imported on first use)."""
    global _numpy
    if _numpy is None:
        _numpy = NumpyNamespace()
        register_namespace(_numpy.array_type, _numpy)
    return _numpy


def register_namespace(array_type: type, namespace: Any) -> None:
    """Make ``namespace`` serve arrays of ``array_type``."""
    _NAMESPACES[array_type] = namespace


def namespace_of(x: Any) -> Any:
    """The namespace serving ``x`` if it is an array, else None (floats, Values)."""
    t = type(x)
    ns = _NAMESPACES.get(t)
    if ns is not None:
        return ns
    if t.__module__ == "numpy" and t.__name__ == "ndarray":
        return numpy_namespace()
    return None
