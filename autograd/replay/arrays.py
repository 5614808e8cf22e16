"""Array namespaces: the few array functions the op rules and the batch replay need.

The rules in ``autograd.ops`` run on floats, on Values and on arrays. For arrays they ask
``autograd.ops.namespace_of`` for the array's namespace, an object with the same small set of functions
for every array library (``exp``, ``log``, ``where``, ``by_sign``, ...). NumPy's and PyTorch's are
here; other libraries register theirs with ``autograd.ops.register_namespace``. Nothing is imported until
an array of that library shows up (or :func:`make_namespace` asks for it), so ``import autograd``
needs neither NumPy nor PyTorch.

The batch replay (``autograd.replay.batch.BatchTape``) runs everything through one namespace made by
:func:`make_namespace`, which also knows the replay's float type and device: besides the op
functions, each namespace creates arrays (``asarray``, ``zeros``, ``full``, ``stack``), reduces
them (``sum``, ``mean``), scatters (``add_at``) and hands results back (``tolist``,
``to_numpy``). So one replay code path serves NumPy and PyTorch, CPU and CUDA, float64 and float32.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Sequence
from typing import Any

from autograd._extras import install_hint

__all__ = [
    "BACKENDS",
    "DTYPES",
    "NumpyNamespace",
    "TorchNamespace",
    "make_namespace",
    "numpy_namespace",
    "torch_namespace",
]

BACKENDS = ("numpy", "torch")
"""The array libraries a batch replay can run on."""

DTYPES = ("float64", "float32")
"""The float types a batch replay can compute in (float64 by default)."""

TORCH_HINT = install_hint("torch")


class NumpyNamespace:
    """The array functions of the op rules, on NumPy arrays (IEEE results, no warnings are raised
    for inf and nan: the batch replay runs under :meth:`errstate`), and the array creation and
    reductions of the batch replay, in ``dtype`` (``'float64'`` or ``'float32'``) on the CPU."""

    name = "numpy"

    def __init__(self, dtype: str = "float64") -> None:
        import numpy

        self.np = numpy
        self.array_type = numpy.ndarray
        self.dtype = dtype
        self.device = "cpu"
        self.float_type: Any = numpy.dtype(dtype)

    def __repr__(self) -> str:
        return f"NumpyNamespace(dtype={self.dtype!r})"

    # --- the op rules' functions ---------------------------------------------------------------

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

    def by_sign(self, x: Any, above: float, below: float, at: float) -> Any:
        """``above`` where x > 0, ``below`` where x < 0, ``at`` at 0, nan at nan."""
        np = self.np
        if above == 1.0 and below == 0.0 and at == 0.0:
            return np.heaviside(x, 0.0)  # relu's slope in one call
        out = np.where(x > 0.0, above, below)
        out = np.where(x == 0.0, at, out)
        return np.where(x != x, x, out)

    def heaviside(self, x: Any) -> Any:
        """1 where x >= 0 (-0.0 included), 0 where x < 0, nan at nan."""
        return self.np.heaviside(x, 1.0)

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

    def softmax_rows(self, xs: Any, out: Any) -> Any:
        """``exp(x - out)`` for each of ``xs`` (``out`` their logsumexp), as the rows of one array:
        logsumexp's partials in one operation."""
        np = self.np
        return np.exp(np.stack(np.broadcast_arrays(*xs, out)[:-1]) - out)

    def select(self, index: Any, values: Any) -> Any:
        """``values[index]`` entry by entry; nan where the index is not an integer in
        ``[0, len(values))``."""
        np = self.np
        index, *picked = np.broadcast_arrays(index, *values)
        stacked = np.stack(picked, dtype=np.result_type(*values))
        valid = (index >= 0) & (index < len(values)) & (index == np.floor(index))
        at = np.where(valid, index, 0).astype(np.intp)
        return np.where(valid, np.take_along_axis(stacked, at[None], axis=0)[0], np.nan)

    def one_hot(self, index: Any, k: int) -> Any:
        """Rows ``i < k`` of 1.0 where ``index == i``, else 0.0: select's partials in one array."""
        np = self.np
        dtype = index.dtype if np.issubdtype(index.dtype, np.floating) else np.float64
        return (index == np.arange(k).reshape((k,) + (1,) * index.ndim)).astype(dtype)

    def elementwise(self, f: Any, *xs: Any) -> Any:
        """``f`` (a function of floats) applied entry by entry, broadcasting ``xs``."""
        out = self.np.vectorize(f, otypes=[float])(*xs)
        return out if self.dtype == "float64" else self.np.asarray(out, dtype=self.float_type)

    def native(self, f: Any) -> bool:
        """Whether a user op's array form ``f`` takes this library's arrays (NumPy: assumed)."""
        return True

    def on_host(self, f: Any, *xs: Any) -> Any:
        """``f`` applied to ``xs`` (NumPy arrays are on the host already)."""
        return f(*xs)

    # --- the batch replay's creation, reductions and transfers ----------------------------------

    def asarray(self, x: Any) -> Any:
        """``x`` (numbers, nested lists, an array) as a C-contiguous array of the replay's dtype."""
        return self.np.ascontiguousarray(x, dtype=self.float_type)

    def index(self, ints: Any) -> Any:
        """A NumPy integer array (the planner's slot numbers) as this library's index array."""
        return ints

    def lift(self, xs: Sequence[Any]) -> list[Any]:
        """An op's operands, ready to mix with arrays (NumPy takes Python floats as they are)."""
        return list(xs)

    def zeros(self, shape: int | tuple[int, ...]) -> Any:
        return self.np.zeros(shape, dtype=self.float_type)

    def full(self, n: int, value: float) -> Any:
        return self.np.full(n, value, dtype=self.float_type)

    def stack(self, xs: Sequence[Any]) -> Any:
        return self.np.stack(xs)

    def copy(self, x: Any) -> Any:
        return x.copy()

    def sum(self, x: Any, axis: int | None = None) -> Any:
        return self.np.sum(x, axis=axis)

    def mean(self, x: Any) -> float:
        return float(self.np.mean(x))

    def ndim(self, x: Any) -> int:
        return int(self.np.ndim(x))

    def take(self, x: Any, index: Any) -> Any:
        """``x[index]``: the entries of a 1-d array at an index array, in the index's shape."""
        return x[index]

    def add_at(self, target: Any, index: Any, values: Any, unique: bool = False) -> None:
        """``target[index] += values`` for a 1-d ``target``, adding every repeat of an index
        (``numpy.add.at``; with ``unique`` indices, plain fancy-index ``+=``, which is faster)."""
        if unique:
            target[index] += values
        else:
            self.np.add.at(target, index, values)

    def tolist(self, x: Any) -> list[float]:
        """A 1-d array as Python floats."""
        out: list[float] = x.tolist()
        return out

    def to_numpy(self, x: Any) -> Any:
        """An array of this library as a NumPy array on the host."""
        return x

    def errstate(self) -> contextlib.AbstractContextManager[Any]:
        """A context in which inf and nan results raise no warnings."""
        return self.np.errstate(all="ignore")


class TorchNamespace:
    """The same functions on PyTorch tensors, with NumPy's IEEE results: relu and leaky_relu keep
    nan, ``by_sign`` and ``heaviside`` give nan at nan (``torch.heaviside`` would give 0), sigmoid and softplus are
    the NumPy formulas (overflow-safe), ``logsumexp`` of all ``-inf`` is ``-inf``. User ops
    without array forms run entry by entry on the host and come back to the tensors' device.

    Tensors the replay creates are ``dtype`` (``'float64'`` or ``'float32'``) on ``device``
    (``'cpu'``, ``'cuda'``, ``'cuda:1'``, ...); make one with :func:`make_namespace`, which checks
    both. PyTorch is imported when a namespace is made."""

    name = "torch"

    def __init__(self, dtype: str = "float64", device: str = "cpu") -> None:
        import torch

        self.torch: Any = torch
        self.array_type: type = torch.Tensor
        self.dtype = dtype
        self.float_type: Any = getattr(torch, dtype)
        self.torch_device: Any = torch.device(device)
        self.device = str(self.torch_device)

    def __repr__(self) -> str:
        return f"TorchNamespace(dtype={self.dtype!r}, device={self.device!r})"

    def _tensor_like(self, value: Any, like: Any) -> Any:
        """``value`` (a number or bool) as a 0-d tensor on the device of ``like`` (a tensor, if any)."""
        torch = self.torch
        device = like.device if isinstance(like, torch.Tensor) else self.torch_device
        if isinstance(value, bool):
            return torch.tensor(value, device=device)
        dtype = like.dtype if isinstance(like, torch.Tensor) and like.is_floating_point() else self.float_type
        return torch.tensor(float(value), dtype=dtype, device=device)

    # --- the op rules' functions ---------------------------------------------------------------

    def exp(self, x: Any) -> Any:
        return self.torch.exp(x)

    def log(self, x: Any) -> Any:
        return self.torch.log(x)

    def sqrt(self, x: Any) -> Any:
        return self.torch.sqrt(x)

    def tanh(self, x: Any) -> Any:
        return self.torch.tanh(x)

    def abs(self, x: Any) -> Any:
        return self.torch.abs(x)

    def power(self, x: Any, y: Any) -> Any:
        return self.torch.pow(x, y)  # a float base or exponent is fine; one of them is a tensor

    def where(self, condition: Any, x: Any, y: Any) -> Any:
        torch = self.torch
        tensors = [a for a in (x, y, condition) if isinstance(a, torch.Tensor)]
        like = tensors[0] if tensors else None
        if not isinstance(condition, torch.Tensor):
            condition = self._tensor_like(bool(condition), like)
        if not isinstance(x, torch.Tensor) and not isinstance(y, torch.Tensor):
            x = self._tensor_like(x, None)  # two numbers: the replay's dtype, not PyTorch's default
        return torch.where(condition, x, y)

    def isfinite(self, x: Any) -> Any:
        return self.torch.isfinite(x)

    def sigmoid(self, x: Any) -> Any:
        torch = self.torch
        e = torch.exp(-torch.abs(x))  # never overflows
        return torch.where(x >= 0.0, 1.0 / (1.0 + e), e / (1.0 + e))

    def softplus(self, x: Any) -> Any:
        torch = self.torch
        return torch.clamp_min(x, 0.0) + torch.log1p(torch.exp(-torch.abs(x)))

    def relu(self, x: Any) -> Any:
        return self.torch.clamp_min(x, 0.0)  # keeps nan, like numpy.maximum

    def leaky_relu(self, x: Any, slope: float) -> Any:
        torch = self.torch
        return torch.where((x > 0.0) | torch.isnan(x), x, slope * x)

    def by_sign(self, x: Any, above: float, below: float, at: float) -> Any:
        """``above`` where x > 0, ``below`` where x < 0, ``at`` at 0, nan at nan."""
        torch = self.torch
        out = torch.full_like(x, below)
        out.masked_fill_(x > 0.0, above)
        if at != below:
            out.masked_fill_(x == 0.0, at)
        return torch.where(torch.isnan(x), x, out)

    def heaviside(self, x: Any) -> Any:
        """1 where x >= 0 (-0.0 included), 0 where x < 0, nan at nan."""
        torch = self.torch
        out = (x >= 0.0).to(x.dtype)
        return torch.where(torch.isnan(x), x, out)

    def floor(self, x: Any) -> Any:
        return self.torch.floor(x)

    def logsumexp(self, xs: Any) -> Any:
        """``log(sum(exp(x)))`` over the tensors ``xs`` entry by entry, shifted by their max."""
        torch = self.torch
        stacked = torch.stack(torch.broadcast_tensors(*self._tensors(xs)))
        m = torch.amax(stacked, dim=0)  # keeps nan
        finite = torch.isfinite(m)
        shift = torch.where(finite, m, 0.0)
        out = shift + torch.log(torch.sum(torch.exp(stacked - shift), dim=0))
        return torch.where(finite, out, m)  # all -inf: -inf; an inf: inf; a nan: nan

    def _tensors(self, xs: Any) -> list[Any]:
        """``xs`` with numbers as 0-d tensors like the first tensor among them."""
        like = next(x for x in xs if isinstance(x, self.torch.Tensor))
        return [x if isinstance(x, self.torch.Tensor) else self._tensor_like(x, like) for x in xs]

    def softmax_rows(self, xs: Any, out: Any) -> Any:
        """``exp(x - out)`` for each of ``xs`` (``out`` their logsumexp), as the rows of one tensor."""
        torch = self.torch
        return torch.exp(torch.stack(torch.broadcast_tensors(*self._tensors([*xs, out]))[:-1]) - out)

    def select(self, index: Any, values: Any) -> Any:
        """``values[index]`` entry by entry; nan where the index is not an integer in
        ``[0, len(values))``."""
        torch = self.torch
        index, *picked = torch.broadcast_tensors(*self._tensors([index, *values]))
        stacked = torch.stack(picked)
        valid = (index >= 0) & (index < len(values)) & (index == torch.floor(index))
        at = torch.where(valid, index, 0).long()
        return torch.where(valid, torch.gather(stacked, 0, at[None])[0], math.nan)

    def one_hot(self, index: Any, k: int) -> Any:
        """Rows ``i < k`` of 1.0 where ``index == i``, else 0.0: select's partials in one tensor."""
        torch = self.torch
        dtype = index.dtype if index.is_floating_point() else self.float_type
        rows = torch.arange(k, device=index.device).reshape((k,) + (1,) * index.dim())
        return (index == rows).to(dtype)

    def elementwise(self, f: Any, *xs: Any) -> Any:
        """``f`` (a function of floats) applied entry by entry on the host, broadcasting ``xs``;
        the result comes back as a tensor of the inputs' float type on their device."""
        import numpy

        return self.on_host(numpy.vectorize(f, otypes=[float]), *xs)

    def native(self, f: Any) -> bool:
        """Whether a user op's array form ``f`` takes tensors: anything but a NumPy function (a
        ufunc such as ``numpy.sin``), which :meth:`on_host` runs on NumPy copies instead."""
        module = getattr(f, "__module__", None)
        return not (isinstance(module, str) and module.split(".")[0] == "numpy")

    def on_host(self, f: Any, *xs: Any) -> Any:
        """``f`` applied on the host to NumPy copies of the tensors among ``xs`` (numbers pass as
        they are); its result (an array or a number, or a tuple of them) comes back as tensors of
        the inputs' float type on their device."""
        import numpy

        torch = self.torch
        tensors = [x for x in xs if isinstance(x, torch.Tensor)]
        floats = [t for t in tensors if t.is_floating_point()]
        dtype = floats[0].dtype if floats else self.float_type
        device = tensors[0].device if tensors else self.torch_device
        out = f(*(x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else x for x in xs))

        def back(r: Any) -> Any:
            return torch.as_tensor(numpy.asarray(r), dtype=dtype, device=device)

        return tuple(back(r) for r in out) if isinstance(out, tuple) else back(out)

    # --- the batch replay's creation, reductions and transfers ----------------------------------

    def asarray(self, x: Any) -> Any:
        """``x`` (numbers, nested lists, a NumPy array, a tensor) as a contiguous tensor of the
        replay's dtype on its device."""
        torch = self.torch
        if isinstance(x, torch.Tensor):
            return x.to(device=self.torch_device, dtype=self.float_type).contiguous()
        import numpy

        host = numpy.ascontiguousarray(x, dtype=numpy.float64)  # from Python floats: NumPy's is the fast way
        return torch.from_numpy(host).to(device=self.torch_device, dtype=self.float_type)

    def index(self, ints: Any) -> Any:
        """A NumPy integer array (the planner's slot numbers) as an index tensor on the device."""
        return self.torch.as_tensor(ints, dtype=self.torch.long, device=self.torch_device)

    def lift(self, xs: Sequence[Any]) -> list[Any]:
        """An op's operands with Python floats as 0-d tensors of the replay's dtype and device, so
        every PyTorch function takes them and they keep their precision (a Python float times a
        bool tensor would be PyTorch's default float32)."""
        torch = self.torch
        return [x if isinstance(x, torch.Tensor) else torch.tensor(float(x), dtype=self.float_type,
                                                                    device=self.torch_device) for x in xs]

    def zeros(self, shape: int | tuple[int, ...]) -> Any:
        return self.torch.zeros(shape, dtype=self.float_type, device=self.torch_device)

    def full(self, n: int, value: float) -> Any:
        return self.torch.full((n,), float(value), dtype=self.float_type, device=self.torch_device)

    def stack(self, xs: Sequence[Any]) -> Any:
        return self.torch.stack(list(xs))

    def copy(self, x: Any) -> Any:
        return x.clone()

    def sum(self, x: Any, axis: int | None = None) -> Any:
        return x.sum() if axis is None else x.sum(dim=axis)

    def mean(self, x: Any) -> float:
        return float(x.mean())

    def ndim(self, x: Any) -> int:
        return int(x.dim()) if isinstance(x, self.torch.Tensor) else 0

    def take(self, x: Any, index: Any) -> Any:
        """``x[index]``: the entries of a 1-d tensor at an index tensor, in the index's shape."""
        return x.take(index)

    def add_at(self, target: Any, index: Any, values: Any, unique: bool = False) -> None:
        """``target[index] += values`` for a 1-d ``target``, adding every repeat of an index
        (``index_add_``, one call whether or not the indices repeat)."""
        target.index_add_(0, index.reshape(-1), values.reshape(-1))

    def tolist(self, x: Any) -> list[float]:
        """A 1-d tensor as Python floats (copied from the device)."""
        out: list[float] = x.tolist()
        return out

    def to_numpy(self, x: Any) -> Any:
        """A tensor as a NumPy array on the host."""
        return x.detach().cpu().numpy()

    def errstate(self) -> contextlib.AbstractContextManager[Any]:
        """PyTorch raises no warnings for inf and nan: nothing to switch off."""
        return contextlib.nullcontext()


_numpy: NumpyNamespace | None = None
_torch: TorchNamespace | None = None


def numpy_namespace() -> NumpyNamespace:
    """The NumPy namespace that serves NumPy arrays (NumPy is imported on first use)."""
    global _numpy
    if _numpy is None:
        _numpy = NumpyNamespace()
    return _numpy


def torch_namespace() -> TorchNamespace:
    """The PyTorch namespace that serves tensors (PyTorch is imported on first use; an
    ``ImportError`` says how to install it)."""
    global _torch
    if _torch is None:
        try:
            ns = TorchNamespace()
        except ImportError:
            raise ImportError(f"the torch backend needs PyTorch: {TORCH_HINT}") from None
        _torch = ns
    return _torch


def make_namespace(backend: str = "numpy", *, dtype: str | None = None,
                   device: str | None = None) -> NumpyNamespace | TorchNamespace:
    """The namespace a batch replay runs on, checked: ``backend`` is ``'numpy'`` or ``'torch'``,
    ``dtype`` ``'float64'`` (``None``, the default) or ``'float32'``, and ``device`` (torch only)
    ``'cpu'`` (``None``, the default), ``'cuda'`` or ``'cuda:N'``.

    Raises:
        ValueError: an unknown backend, dtype or device, a device for the NumPy backend, or a CUDA
            device that PyTorch cannot see.
        ImportError: the library is not installed (``pip install "valuegrad[torch]"`` for PyTorch).
    """
    if not isinstance(backend, str) or backend not in BACKENDS:
        raise ValueError(f"unknown backend {backend!r}; expected 'numpy' or 'torch'")
    if dtype is None:
        dtype = "float64"
    if not isinstance(dtype, str) or dtype not in DTYPES:
        raise ValueError(f"unknown dtype {dtype!r}; expected 'float64' (the default) or 'float32'")
    if backend == "numpy":
        if device is not None and device != "cpu":
            raise ValueError(f"device {device!r} needs backend='torch'; the NumPy backend runs on the CPU")
        numpy_namespace()  # NumPy arrays are served by the default namespace
        return NumpyNamespace(dtype)
    torch = torch_namespace().torch
    return TorchNamespace(dtype, _torch_device(torch, device))


def _torch_device(torch: Any, device: Any) -> str:
    """``device`` checked: a CPU, or a CUDA GPU that PyTorch sees; as PyTorch writes it."""
    expected = "expected 'cpu', 'cuda' or 'cuda:N'"
    if device is None:
        return "cpu"
    if not isinstance(device, (str, torch.device)):
        raise ValueError(f"unknown device {device!r}; {expected}")
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError, ValueError):
        raise ValueError(f"unknown device {device!r}; {expected}") from None
    if dev.type == "cpu":
        return "cpu"
    if dev.type != "cuda":
        raise ValueError(f"device {device!r} is not supported; {expected}")
    if not torch.cuda.is_available():
        raise ValueError(f"device {str(device)!r} was asked for but PyTorch sees no CUDA GPU "
                         "(torch.cuda.is_available() is False); use device='cpu'")
    count = torch.cuda.device_count()
    index = torch.cuda.current_device() if dev.index is None else dev.index
    if index >= count:
        raise ValueError(f"device {str(device)!r} was asked for but PyTorch sees {count} CUDA GPU(s) "
                         f"(cuda:0 to cuda:{count - 1})")
    return f"cuda:{index}"
