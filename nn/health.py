"""``diagnose``: a network's health in one report, from one forward and one backward pass.

For each layer: how large its gradient is and how that compares with the layers after it
(vanishing, exploding), how many of its units are dead (ReLU off on every sample) or saturated
(tanh or sigmoid flat on most samples), how large its activations and weights are and, given an
optimizer, how far one step would move its weights. The model is left exactly as it was: every
parameter's ``.data`` and ``.grad``, and the optimizer's state.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from autograd import Value, enable_grad
from nn.layers import Layer
from nn.optim import Optimizer
from nn.text import describe
from nn.train import LOSSES

__all__ = [
    "DEAD_FLAG",
    "EXPLODING",
    "SATURATED_FLAG",
    "SATURATION",
    "VANISHING",
    "Diagnosis",
    "LayerHealth",
    "diagnose",
]

SATURATION = 0.99
"""A tanh unit is saturated on a sample when ``|output| > 0.99``, a sigmoid unit when its output
is outside ``[0.01, 0.99]``: there the local gradient is below about 0.02 (tanh) or 0.01 (sigmoid)."""

MOST = 0.5
"""A unit is saturated when it is saturated on more than this fraction of the samples."""

DEAD_FLAG = 0.5
"""A layer is flagged ``dead`` when at least this fraction of its units are dead."""

SATURATED_FLAG = 0.5
"""A layer is flagged ``saturated`` when at least this fraction of its units are saturated."""

VANISHING = 1e-2
"""A layer is flagged ``vanishing`` when its gradient norm is below this times the largest
gradient norm of the layers after it."""

EXPLODING = 1e2
"""A layer is flagged ``exploding`` when its gradient norm is above this times the largest
gradient norm of the layers after it."""


@dataclass(frozen=True)
class LayerHealth:
    """One layer's numbers in a :class:`Diagnosis`.

    Attributes:
        index: the layer's position in ``model.layers``.
        units: its number of neurons.
        activation: their activation (``'relu'``, ``'tanh'``, ...).
        grad_norm: the L2 norm of the gradients of its weights and biases.
        grad_ratio: ``grad_norm`` over the largest ``grad_norm`` of the layers after it; None for
            the last layer, or when every later layer's gradient is 0.
        weight_grad_mean: the mean ``|grad|`` of its weights.
        weight_grad_max: the largest ``|grad|`` of its weights.
        bias_grad_mean: the mean ``|grad|`` of its biases.
        bias_grad_max: the largest ``|grad|`` of its biases.
        dead: the fraction of its units that are ReLUs whose output is 0 on every sample (no
            gradient reaches their weights from any sample).
        saturated: the fraction of its units that are tanh or sigmoid units beyond
            :data:`SATURATION` on more than half the samples.
        mean_activation: the mean ``|output|`` of its units over all samples.
        weight_norm: the L2 norm of its weights and biases.
        update_ratio: with an optimizer, the L2 norm of one step's change to its weights and
            biases over ``weight_norm``; None without an optimizer (or when ``weight_norm`` is 0).
        flags: what looks wrong, out of ``'dead'``, ``'saturated'``, ``'vanishing'``, ``'exploding'``.
    """

    index: int
    units: int
    activation: str
    grad_norm: float
    grad_ratio: float | None
    weight_grad_mean: float
    weight_grad_max: float
    bias_grad_mean: float
    bias_grad_max: float
    dead: float
    saturated: float
    mean_activation: float
    weight_norm: float
    update_ratio: float | None
    flags: frozenset[str]

    def to_dict(self) -> dict[str, Any]:
        """The numbers as a JSON-ready dict: flags as a sorted list, a non-finite number as None."""
        out: dict[str, Any] = {}
        for name in self.__dataclass_fields__:
            value = getattr(self, name)
            out[name] = sorted(value) if name == "flags" else _finite(value)
        return out


@dataclass(frozen=True)
class Diagnosis:
    """What :func:`diagnose` found: one :class:`LayerHealth` per layer, and the loss it came from.

    Attributes:
        loss: the loss's name (``'hinge'``, ...).
        value: the loss on the whole data set (with the L2 term when ``l2`` was given).
        samples: the number of rows.
        l2: the weight penalty included in the loss.
        optimizer: the optimizer's class name, or None.
        layers: one :class:`LayerHealth` per ``model.layers[i]``.
        update_ratios: with an optimizer, each parameter's (by its ``state_dict`` name)
            ``|change| / |value|`` after one step; None for a parameter that is 0 (a bias at
            its start). Empty without an optimizer.
    """

    loss: str
    value: float
    samples: int
    l2: float
    optimizer: str | None
    layers: list[LayerHealth]
    update_ratios: dict[str, float | None] = field(default_factory=dict)
    _names: list[list[str]] = field(default_factory=list, repr=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        """The report as a JSON-ready dict (what ``valuegrad train --diagnose`` writes to
        ``diagnosis.json``); a non-finite number becomes None.

        Returns:
            ``loss``, ``value``, ``samples``, ``l2``, ``optimizer``, ``thresholds`` (the rules
            the flags follow), ``layers`` (one dict per layer) and ``update_ratios``.
        """
        return {
            "loss": self.loss,
            "value": _finite(self.value),
            "samples": self.samples,
            "l2": self.l2,
            "optimizer": self.optimizer,
            "thresholds": {"saturation": SATURATION, "saturated_on_more_than": MOST, "dead_flag": DEAD_FLAG,
                           "saturated_flag": SATURATED_FLAG, "vanishing": VANISHING, "exploding": EXPLODING},
            "layers": [layer.to_dict() for layer in self.layers],
            "update_ratios": {k: _finite(v) for k, v in self.update_ratios.items()},
        }

    def __str__(self) -> str:
        l2 = f" (with + {self.l2:g} * sum(p*p))" if self.l2 else ""
        lines = [f"diagnosis: {self.loss} loss{l2} = {self.value:.4g} on {self.samples} samples, "
                 "from one forward and one backward pass"]
        header = ["layer", "units", "activation", "grad norm", "vs later", "max |grad|", "weight norm",
                  "mean |act|", "dead", "saturated"]
        if self.optimizer is not None:
            header.append("update/weight")
        header.append("flags")
        rows = [header]
        for h in self.layers:
            row = [str(h.index), str(h.units), h.activation, f"{h.grad_norm:.3g}",
                   "-" if h.grad_ratio is None else f"{h.grad_ratio:.3g}",
                   f"{max(h.weight_grad_max, h.bias_grad_max):.3g}", f"{h.weight_norm:.3g}",
                   f"{h.mean_activation:.3g}", f"{h.dead:.0%}", f"{h.saturated:.0%}"]
            if self.optimizer is not None:
                row.append("-" if h.update_ratio is None else f"{h.update_ratio:.3g}")
            row.append(", ".join(sorted(h.flags)) or "-")
            rows.append(row)
        widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
        for r in rows:
            cells = [c.ljust(w) if i in (2, len(r) - 1) else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths))]
            lines.append("  ".join(cells).rstrip())
        lines.append(f"dead: ReLU output 0 on every sample; saturated: |tanh| > {SATURATION:g} or sigmoid outside "
                     f"[{1 - SATURATION:.2g}, {SATURATION:g}] on most samples; flagged from {DEAD_FLAG:.0%} of a "
                     "layer's units")
        lines.append(f"vanishing / exploding: grad norm below {VANISHING:g} / above {EXPLODING:g} times the largest "
                     "of the layers after it (vs later)")
        return "\n".join(lines)

    def plot(self, training: Any = None) -> Any:
        """Draw each layer's gradient norm (a log scale, flagged layers in red) with matplotlib.

        Args:
            training: a ``TrainingView`` (or any object with ``snapshots``, each with ``step``
                and ``grads``, a mapping from parameter names to gradients) of this model's run:
                then a second panel draws each layer's gradient norm over training, one point
                per snapshot.

        Returns:
            The matplotlib ``Figure``.

        Raises:
            ImportError: matplotlib is not installed.
            TypeError: ``training`` has no ``snapshots``.
            ValueError: its snapshots' gradients lack a parameter of this model.
        """
        import matplotlib.pyplot as plt

        series = self._course(training) if training is not None else None
        panels = 1 if series is None else 2
        fig, axes = plt.subplots(1, panels, figsize=(5.5 * panels, 3.6), squeeze=False)
        ax = axes[0][0]
        norms = [h.grad_norm for h in self.layers]
        colors = ["tab:red" if h.flags else "tab:blue" for h in self.layers]
        ax.bar(range(len(norms)), [n if n > 0 else math.nan for n in norms], color=colors)
        ax.set_yscale("log")
        ax.set_xticks(range(len(norms)))
        ax.set_xlabel("layer")
        ax.set_ylabel("gradient norm")
        ax.set_title(f"{self.loss} loss {self.value:.4g}: gradient norm per layer")
        for i, h in enumerate(self.layers):
            if h.flags and norms[i] > 0:
                ax.annotate(", ".join(sorted(h.flags)), (i, norms[i]), ha="center", va="bottom", fontsize=8)
        if series is not None:
            steps, per_layer = series
            course = axes[0][1]
            for i, values in enumerate(per_layer):
                course.plot(steps, [v if v > 0 else math.nan for v in values], marker=".", label=f"layer {i}")
            course.set_yscale("log")
            course.set_xlabel("step")
            course.set_ylabel("gradient norm")
            course.set_title("over training")
            course.legend(fontsize=8)
        fig.tight_layout()
        return fig

    def _course(self, training: Any) -> tuple[list[int], list[list[float]]]:
        """Each layer's gradient norm at each snapshot of ``training``."""
        snapshots = getattr(training, "snapshots", None)
        if snapshots is None or isinstance(snapshots, (str, bytes)) or not isinstance(snapshots, Sequence):
            raise TypeError(f"Diagnosis.plot() training must be a TrainingView (or have a list of snapshots), "
                            f"got {type(training).__name__}")
        steps: list[int] = []
        per_layer: list[list[float]] = [[] for _ in self.layers]
        for k, snap in enumerate(snapshots):
            grads = getattr(snap, "grads", None)
            if not isinstance(grads, Mapping):
                raise TypeError(f"Diagnosis.plot(): snapshot {k} has no grads mapping (a TrainingView snapshot "
                                f"has one), got {type(grads).__name__}")
            steps.append(int(snap.step))
            for i, names in enumerate(self._names):
                missing = [n for n in names if n not in grads]
                if missing:
                    raise ValueError(f"Diagnosis.plot(): snapshot {k} has no gradient for {missing[0]!r}: the "
                                     "training view is of another model")
                per_layer[i].append(math.sqrt(sum(float(grads[n]) ** 2 for n in names)))
        return steps, per_layer


def _finite(x: Any) -> Any:
    return None if isinstance(x, float) and not math.isfinite(x) else x


def _norm(xs: Sequence[float]) -> float:
    return math.sqrt(sum(x * x for x in xs))


def _mean_max(xs: Sequence[float]) -> tuple[float, float]:
    a = [abs(x) for x in xs]
    return sum(a) / len(a), max(a)


def _saturated(activation: str, out: float) -> bool:
    if activation == "tanh":
        return abs(out) > SATURATION
    if activation == "sigmoid":
        return not 1.0 - SATURATION <= out <= SATURATION
    return False


def _layers(model: Any) -> list[Layer]:
    layers = getattr(model, "layers", None)
    if not isinstance(layers, Sequence) or not layers or not all(isinstance(x, Layer) for x in layers):
        raise TypeError(f"diagnose() model must be an MLP (a model whose .layers is a list of nn.Layer), "
                        f"got {type(model).__name__}")
    return list(layers)


def _check_data(X: Any, y: Any, loss: str, layers: list[Layer]) -> None:
    if not isinstance(loss, str) or loss not in LOSSES:
        raise ValueError(f"diagnose() unknown loss {loss!r}; expected one of {', '.join(map(repr, LOSSES))}")
    if not hasattr(X, "__len__") or not hasattr(y, "__len__") or isinstance(X, (str, bytes)):
        raise TypeError(f"diagnose() X and y must be a list of rows and a list of labels, got "
                        f"{type(X).__name__} and {type(y).__name__}")
    if len(X) != len(y) or len(X) == 0:
        raise ValueError(f"diagnose() X and y must be non-empty and of equal length, got {len(X)} and {len(y)}")
    classes = len(layers[-1].neurons) if LOSSES[loss].multiclass else 2
    for i, t in enumerate(y):
        if isinstance(t, bool) or not isinstance(t, int) or not 0 <= t < classes:
            raise ValueError(f"diagnose() labels must be class indices in [0, {classes}) for the {loss} loss; "
                             f"y[{i}] is {describe(t)}")


def diagnose(model: Any, X: Sequence[Sequence[float]], y: Sequence[int], loss: str = "hinge", l2: float = 0.0,
             optimizer: Optimizer | None = None) -> Diagnosis:
    """A network's health in one report: gradients, dead and saturated units, activations and
    weights, layer by layer.

    The loss is the one ``nn.train`` computes for ``loss`` on its graph path
    (``nn.train.LOSSES[loss].batch``), on all of ``X`` as one batch, plus ``l2 * sum(p*p)`` when
    ``l2`` is given. One forward pass (layer by layer, as ``MLP.__call__`` runs it) records each
    unit's output on each sample; one backward pass gives every parameter's gradient. Afterwards
    every parameter's ``.data`` and ``.grad`` are what they were before.

    With an optimizer, one step is simulated on a deep copy of it (its parameters, buffers and
    step count copied with it) holding this pass's gradients; the optimizer itself and its
    state are never touched, so the ratios are those of the step it would take next
    (momentum and Adam's moments included).

    Flags: ``dead`` when at least :data:`DEAD_FLAG` of a layer's units are ReLUs off on every
    sample; ``saturated`` when at least :data:`SATURATED_FLAG` of its units are tanh/sigmoid
    units beyond :data:`SATURATION` on most samples; ``vanishing`` / ``exploding`` when its
    gradient norm is below :data:`VANISHING` / above :data:`EXPLODING` times the largest gradient
    norm of the layers after it.

    Args:
        model: an ``MLP`` (a model whose ``layers`` are ``nn.Layer``).
        X: the rows (lists of numbers, or a 2-D NumPy array).
        y: each row's class index (0/1 for the binary losses).
        loss: ``'hinge'`` (default), ``'bce'``, ``'cross_entropy'`` or ``'mse'``.
        l2: a weight penalty added to the loss (none by default).
        optimizer: an ``nn.Optimizer`` over the model's parameters, for the update-to-weight ratios.

    Returns:
        A :class:`Diagnosis`: ``layers[i]`` for ``model.layers[i]``, ``str()`` a table,
        ``to_dict()`` for scripts, ``plot()`` a picture.

    Raises:
        TypeError: ``model`` is not an MLP, ``optimizer`` is not an ``nn.Optimizer``, or ``l2`` or
            the data are of the wrong type.
        ValueError: an unknown loss, bad labels, a negative or non-finite ``l2``, or an optimizer
            over other parameters than the model's.

    Example:
        >>> from nn import MLP
        >>> model = MLP(2, [4, 1], seed=0)
        >>> report = diagnose(model, [[0.5, -1.0], [1.0, 2.0]], [0, 1])
        >>> len(report.layers), report.layers[0].units
        (2, 4)
    """
    layers = _layers(model)
    _check_data(X, y, loss, layers)
    if isinstance(l2, bool) or not isinstance(l2, (int, float)) or not math.isfinite(l2) or l2 < 0:
        raise ValueError(f"diagnose() l2 must be a finite number >= 0, got {describe(l2)}")
    params: list[Value] = model.parameters()
    if optimizer is not None:
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"diagnose() optimizer must be an nn.Optimizer (SGD, Adam, ...), "
                            f"got {type(optimizer).__name__}")
        if {id(p) for p in optimizer.params} != {id(p) for p in params}:
            raise ValueError("diagnose() optimizer must hold exactly the model's parameters "
                             "(made as SGD(model.parameters(), ...))")
    nin = len(layers[0].neurons[0].w)
    saved = [(p.data, p.grad) for p in params]
    try:
        with enable_grad():
            acts: list[list[list[float]]] = [[] for _ in layers]  # [layer][sample][unit]
            outputs: list[list[Value]] = []
            for r, x in enumerate(X):
                if isinstance(x, (str, bytes)) or not hasattr(x, "__len__") or len(x) != nin:
                    raise ValueError(f"diagnose() X[{r}] must be a row of {nin} numbers (the model's inputs), "
                                     f"got {describe(x)}")
                h: Any = x
                for i, layer in enumerate(layers):  # as MLP.__call__ runs them, keeping each output
                    h = layer(h)
                    h = [h] if isinstance(h, Value) else h
                    acts[i].append([v.data for v in h])
                outputs.append(h)
            total = LOSSES[loss].batch(outputs, list(y))
            if l2:
                total = total + l2 * sum((p * p for p in params), Value(0.0))  # nn.train's weight penalty
            for p in params:
                p.grad = 0.0
            total.backward()
        grads = {id(p): p.grad for p in params}
        updates = _updates(optimizer, params) if optimizer is not None else None
    finally:
        for p, (data, grad) in zip(params, saved):
            p.data, p.grad = data, grad
    names = {id(p): name for name, p in model.named_parameters()}
    health: list[LayerHealth] = []
    layer_names: list[list[str]] = []
    norms = [_norm([grads[id(p)] for p in layer.parameters()]) for layer in layers]
    for i, layer in enumerate(layers):
        health.append(_layer_health(i, layer, norms, grads, acts[i], updates))
        layer_names.append([names[id(p)] for p in layer.parameters()])
    ratios: dict[str, float | None] = {}
    if updates is not None:
        for p in params:
            change = abs(updates[id(p)] - p.data)
            ratios[names[id(p)]] = change / abs(p.data) if p.data != 0 else None
    return Diagnosis(loss, total.data, len(X), float(l2), type(optimizer).__name__ if optimizer is not None else None,
                     health, ratios, layer_names)


def _updates(optimizer: Optimizer, params: list[Value]) -> dict[int, float]:
    """Each parameter's value after one step of a copy of ``optimizer`` (which holds copies of
    the parameters, with the gradients they have now)."""
    twin = copy.deepcopy(optimizer)
    twin.step()
    return {id(p): q.data for p, q in zip(optimizer.params, twin.params)}


def _layer_health(i: int, layer: Layer, norms: list[float], grads: dict[int, float], acts: list[list[float]],
                  updates: dict[int, float] | None) -> LayerHealth:
    neurons = layer.neurons
    units, samples = len(neurons), len(acts)
    later = max(norms[i + 1:], default=0.0)
    ratio = norms[i] / later if later > 0 else None
    weights = [w for n in neurons for w in n.w]
    biases = [n.b for n in neurons]
    dead = sum(n.activation == "relu" and all(a[j] <= 0.0 for a in acts) for j, n in enumerate(neurons))
    saturated = sum(sum(_saturated(n.activation, a[j]) for a in acts) > MOST * samples for j, n in enumerate(neurons))
    mean_act = sum(abs(v) for a in acts for v in a) / (units * samples)
    values = [p.data for p in (*weights, *biases)]
    weight_norm = _norm(values)
    update_ratio: float | None = None
    if updates is not None and weight_norm > 0:
        update_ratio = _norm([updates[id(p)] - p.data for p in (*weights, *biases)]) / weight_norm
    flags = set()
    if dead / units >= DEAD_FLAG:
        flags.add("dead")
    if saturated / units >= SATURATED_FLAG:
        flags.add("saturated")
    if ratio is not None and ratio < VANISHING:
        flags.add("vanishing")
    if ratio is not None and ratio > EXPLODING:
        flags.add("exploding")
    w_mean, w_max = _mean_max([grads[id(p)] for p in weights])
    b_mean, b_max = _mean_max([grads[id(p)] for p in biases])
    return LayerHealth(i, units, neurons[0].activation, norms[i], ratio, w_mean, w_max, b_mean, b_max, dead / units,
                       saturated / units, mean_act, weight_norm, update_ratio, frozenset(flags))
