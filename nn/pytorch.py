"""Moving an ``MLP`` to PyTorch and back: ``model.to_torch()`` and ``MLP.from_torch(sequential)``.

``to_torch`` builds a ``torch.nn.Sequential`` of ``torch.nn.Linear`` layers and activation
modules holding the same weights: row ``j`` of a Linear's ``weight`` is neuron ``j``'s ``w``, and
its ``bias[j]`` is that neuron's ``b``. In float64 it computes the same outputs and the same
parameter gradients as the valuegrad model (to rounding: PyTorch sums in another order).

``from_torch`` reads such a ``Sequential`` back into an ``MLP``, copying the weights exactly. It
accepts what an ``MLP`` can represent and refuses the rest with an error naming the layer:

* ``Linear`` layers with a bias, each one's ``in_features`` the previous one's ``out_features``;
* after each Linear, at most one activation: ``ReLU``, ``Tanh``, ``Sigmoid`` or
  ``LeakyReLU(0.01)`` (valuegrad's slope); no activation means ``'linear'``, so two Linear layers
  in a row have a linear activation between them;
* the same activation after every hidden Linear (an ``MLP`` has one hidden activation and one
  output activation, after the last Linear);
* ``Identity`` modules, which are skipped.

Everything else is refused: convolutions, normalisation, dropout (an ``MLP`` has none; remove
it, it is the identity in eval mode), other activations (GELU, ELU, ...), a LeakyReLU with another
slope, a Linear without bias, nested containers. A one-layer model's hidden activation does not
matter; it is read back as ``'relu'`` (the ``MLP`` default). A model with the ``'step'`` activation
has no PyTorch form: ``to_torch`` refuses it with a ``ValueError``.

PyTorch is optional: ``pip install "valuegrad[torch]"``. Most code calls the ``MLP`` methods,
which delegate here.

Example:
    >>> from nn import MLP
    >>> model = MLP(2, [3, 1], activation="tanh", seed=0)
    >>> net = model.to_torch()
    >>> net
    Sequential(
      (0): Linear(in_features=2, out_features=3, bias=True)
      (1): Tanh()
      (2): Linear(in_features=3, out_features=1, bias=True)
    )
    >>> MLP.from_torch(net).state_dict() == model.state_dict()
    True
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar

from autograd._extras import install_hint
from nn.activations import ACTIVATION_TABLE, LEAKY_RELU_SLOPE

if TYPE_CHECKING:
    import torch

    from nn.layers import MLP

__all__ = ["INSTALL_HINT", "LEAKY_RELU_SLOPE", "from_torch", "to_torch"]

INSTALL_HINT = install_hint("torch")
"""The command that installs the optional PyTorch dependency."""

M = TypeVar("M", bound="MLP")

# torch.nn class name -> valuegrad activation name, from the one table; 'linear' has no module.
_FROM_TORCH = {spec.torch: name for name, spec in ACTIVATION_TABLE.items() if spec.torch is not None}


def _require_torch() -> None:
    """Raise an ImportError that says how to install PyTorch if it is missing."""
    try:
        import torch  # noqa: F401
    except ImportError as e:
        raise ImportError(f"this needs PyTorch, which is not installed: {INSTALL_HINT}") from e


def to_torch(model: MLP, dtype: torch.dtype | None = None) -> torch.nn.Sequential:
    """A ``torch.nn.Sequential`` computing what ``model`` computes, with the same weights.

    Each layer becomes a ``torch.nn.Linear`` (weight row ``j`` = neuron ``j``'s weights, ``bias[j]``
    = its bias) followed by its activation: ``ReLU``, ``Tanh``, ``Sigmoid``, ``LeakyReLU(0.01)``,
    or nothing for ``'linear'``. The modules are named ``'0'``, ``'1'``, ... as usual, on the CPU;
    PyTorch's random number generator is not used.

    Args:
        model: the ``MLP`` to convert (it is not changed, and shares nothing with the result).
        dtype: the parameters' ``torch.dtype``; ``torch.float64`` by default, which gives the same
            outputs and gradients as valuegrad to rounding. ``torch.float32`` rounds each weight.

    Returns:
        A new ``torch.nn.Sequential`` in training mode, its parameters requiring gradients.

    Raises:
        ImportError: PyTorch is not installed.
        TypeError: ``model`` is not an ``MLP``, or ``dtype`` is not a floating-point ``torch.dtype``.
        ValueError: the neurons of one layer have different activations, or a layer uses the
            ``'step'`` activation (``torch.nn`` has no step module, and ``torch.heaviside`` no
            derivative).

    Example:
        >>> import torch
        >>> from nn import MLP
        >>> model = MLP(2, [4, 1], seed=0)
        >>> net = model.to_torch()
        >>> theirs = net(torch.tensor([0.5, -1.0], dtype=torch.float64)).item()
        >>> abs(theirs - model([0.5, -1.0]).data) < 1e-12
        True
    """
    _require_torch()
    import torch

    layers = getattr(model, "layers", None)
    if not isinstance(layers, list) or not layers or not all(hasattr(layer, "neurons") for layer in layers):
        raise TypeError(f"to_torch() needs an MLP, got {type(model).__name__}")
    if dtype is None:
        dtype = torch.float64
    if not isinstance(dtype, torch.dtype) or not dtype.is_floating_point:
        raise TypeError(f"to_torch() dtype must be a floating-point torch.dtype such as torch.float32, got {dtype!r}")
    modules: list[Any] = []
    for i, layer in enumerate(layers):
        neurons = layer.neurons
        activations = {n.activation for n in neurons}
        if len(activations) != 1:
            raise ValueError(f"to_torch(): the neurons of layer {i} have different activations {sorted(activations)}; "
                             f"a torch.nn.Linear layer has one")
        (activation,) = activations
        spec = ACTIVATION_TABLE[activation]
        if spec.no_torch:
            raise ValueError(f"to_torch(): layer {i} uses the {activation!r} activation, which has no PyTorch "
                             f"equivalent: {spec.no_torch}")
        # made on the meta device, then given uninitialised storage: no random initialisation to overwrite
        linear = torch.nn.Linear(len(neurons[0].w), len(neurons), dtype=dtype, device="meta").to_empty(device="cpu")
        with torch.no_grad():
            linear.weight.copy_(torch.tensor([[w.data for w in n.w] for n in neurons], dtype=torch.float64))
            linear.bias.copy_(torch.tensor([n.b.data for n in neurons], dtype=torch.float64))
        modules.append(linear)
        if spec.torch is not None:
            modules.append(getattr(torch.nn, spec.torch)(*spec.torch_args))
    return torch.nn.Sequential(*modules)


def from_torch(cls: type[M], module: torch.nn.Module, *, fused: bool = True) -> M:
    """Build a ``cls`` (an ``MLP`` class) with the architecture and weights of a PyTorch ``Sequential``.

    What ``MLP.from_torch(module)`` calls. The weights are copied exactly (a float32 weight is
    converted to the same number as a Python float). See the module docstring for what is
    accepted; everything else is refused with an error that names the layer by its index and type.

    Args:
        cls: the class to build, ``MLP`` or a subclass; called as
            ``cls(nin, nouts, activation=..., output_activation=..., seed=0, fused=fused)``.
        module: a ``torch.nn.Sequential`` of ``Linear`` layers and activations, on any device.
        fused: passed to the ``MLP``: one ``dot`` node per neuron (default) or micrograd's chain.

    Returns:
        A new model whose outputs and gradients are the PyTorch model's (in float64).

    Raises:
        ImportError: PyTorch is not installed.
        TypeError: ``module`` is not a ``torch.nn.Sequential``, or one of its layers is of a type an
            ``MLP`` does not have (a convolution, batch norm, dropout, GELU, a nested container).
        ValueError: the Sequential is empty or does not start with a Linear; a Linear has no bias,
            does not fit the layer before it, or holds nan or infinite weights; a LeakyReLU's slope is
            not 0.01; two activations follow each other; the hidden activations differ; a weight is
            on the ``meta`` device (a shape with no values).

    Example:
        >>> import torch
        >>> from nn import MLP
        >>> net = torch.nn.Sequential(torch.nn.Linear(2, 8), torch.nn.ReLU(), torch.nn.Linear(8, 1))
        >>> MLP.from_torch(net)
        MLP(2 -> 8 -> 1, relu hidden, linear output, 33 parameters)
    """
    _require_torch()
    import torch

    if not isinstance(module, torch.nn.Sequential):
        hint = "; wrap it: torch.nn.Sequential(layer)" if isinstance(module, torch.nn.Linear) else ""
        raise TypeError(f"from_torch() needs a torch.nn.Sequential, got {type(module).__name__}{hint}")
    linears: list[Any] = []  # the Linear layers, in order
    activations: list[str] = []  # the activation after each Linear
    where: list[str] = []  # 'layer i (Type)' of each activation, for messages
    for i, layer in enumerate(module):
        kind = type(layer)
        name = f"layer {i} ({kind.__name__})"
        if kind is torch.nn.Identity:
            continue
        if kind is torch.nn.Linear:
            _check_linear(name, layer, linears[-1] if linears else None)
            linears.append(layer)
            activations.append("linear")
            where.append(name)
            continue
        if kind.__name__ in _FROM_TORCH and kind is getattr(torch.nn, kind.__name__):
            if not linears:
                raise ValueError(f"from_torch(): {name} comes before any Linear layer; an MLP starts with one")
            if activations[-1] != "linear":
                raise ValueError(f"from_torch(): {name} follows the activation {where[-1]}; "
                                 f"an MLP has one activation after each Linear layer")
            if kind is torch.nn.LeakyReLU and layer.negative_slope != LEAKY_RELU_SLOPE:
                raise ValueError(f"from_torch(): {name} has negative_slope={layer.negative_slope!r}; "
                                 f"valuegrad's leaky_relu has slope {LEAKY_RELU_SLOPE}")
            activations[-1] = _FROM_TORCH[kind.__name__]
            where[-1] = name
            continue
        raise TypeError(f"from_torch(): {name} is not supported; an MLP is made of Linear layers (with bias) and the "
                        f"activations ReLU, Tanh, Sigmoid and LeakyReLU({LEAKY_RELU_SLOPE}){_advice(kind.__name__)}")
    if not linears:
        raise ValueError("from_torch(): the Sequential has no Linear layer")
    hidden = activations[:-1]
    if len(set(hidden)) > 1:
        first = hidden[0]
        j = next(k for k, a in enumerate(hidden) if a != first)
        raise ValueError(f"from_torch(): the hidden activations differ: {where[0]} gives {first!r} but {where[j]} "
                         f"gives {hidden[j]!r}; an MLP has one hidden activation (and one output activation)")
    model = cls(
        int(linears[0].in_features),
        [int(lin.out_features) for lin in linears],
        activation=hidden[0] if hidden else "relu",
        output_activation=activations[-1],
        seed=0,  # a private generator: the global `random` is left alone; the weights are replaced below
        fused=fused,
    )
    for ours, lin in zip(model.layers, linears):
        with torch.no_grad():
            weight = lin.weight.detach().to(device="cpu", dtype=torch.float64).tolist()
            bias = lin.bias.detach().to(device="cpu", dtype=torch.float64).tolist()
        for neuron, row, b in zip(ours.neurons, weight, bias):
            for w, x in zip(neuron.w, row):
                w.data = float(x)
            neuron.b.data = float(b)
    return model


def _check_linear(name: str, layer: Any, previous: Any) -> None:
    """Refuse a Linear layer an MLP cannot hold, with a message naming it."""
    if layer.bias is None:
        raise ValueError(f"from_torch(): {name} has no bias (bias=False); every valuegrad neuron has one")
    if previous is not None and layer.in_features != previous.out_features:
        raise ValueError(f"from_torch(): {name} takes {layer.in_features} inputs but the Linear layer before it "
                         f"gives {previous.out_features} outputs")
    for what, tensor in (("weight", layer.weight), ("bias", layer.bias)):
        if tensor.is_meta:  # a shape without numbers: reading one raises deep inside PyTorch
            raise ValueError(f"from_torch(): {name} has its {what} on the meta device, which holds no values; "
                             f"materialise the model first, e.g. module.to_empty(device='cpu') and then "
                             f"module.load_state_dict(weights)")
        if not tensor.is_floating_point():
            raise ValueError(f"from_torch(): {name} has a {tensor.dtype} {what}; expected real floating point")
        if not bool(tensor.detach().isfinite().all()):
            raise ValueError(f"from_torch(): {name} has nan or infinite values in its {what}")


def _advice(kind: str) -> str:
    """A hint for the module types people most often try."""
    if kind.startswith("Dropout") or kind == "AlphaDropout":
        return " (no dropout: remove it; in eval mode it is the identity)"
    if kind == "Sequential":
        return " (nested Sequentials are not flattened: pass one flat Sequential)"
    if kind.startswith(("BatchNorm", "LayerNorm", "GroupNorm", "InstanceNorm")):
        return " (no normalisation layers)"
    return ""
