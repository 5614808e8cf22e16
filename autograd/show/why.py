"""``why(node, root)``: where a node's gradient came from, and where it was lost.

The gradient of ``root`` with respect to ``node`` is a sum over paths; ``why`` works it out per
edge (the adjoints, in reverse topological order, exactly as ``backward`` adds them), groups it
by the consumers through which it arrives, and, when every path is cut by an edge whose local
gradient is 0 or tiny, names those edges and why they are dead (a ReLU that is off, a saturated
tanh, a multiplication by 0, ...). Nothing is modified: no ``.grad`` changes and no backward
pass is needed first.
"""

from __future__ import annotations

import math
import re
from typing import TYPE_CHECKING, NamedTuple

from autograd.backward import describe_cause, first_cause, require_value, topological_order
from autograd.show.text import name_of, number, op_text

if TYPE_CHECKING:
    from autograd.value import Value

__all__ = ["SATURATED", "Cut", "WhyReport", "why"]

SATURATED = 0.01
"""A sigmoid or tanh whose local gradient is below this is saturated (and cuts the gradient)."""

_SHOWN = 5  # uses listed in the text

REASONS = ("inactive", "zero derivative", "saturated", "kink", "times zero", "tiny")

# A parameter an nn module labelled with its state_dict name: ``layers.1.neurons.3.w.0``.
_PARAMETER = re.compile(r"^(?P<unit>.+)\.(?:w\.\d+|b)$")


class Cut(NamedTuple):
    """An edge whose local gradient is 0 or tiny, lying across paths from the root to the node.

    Attributes:
        node: the op's output (nearer the root).
        parent: the op's input, on the way to the node asked about.
        local_grad: ``d node / d parent`` (summed when ``parent`` is an input more than once).
        reason: ``"inactive"``, ``"zero derivative"``, ``"saturated"``, ``"kink"``,
            ``"times zero"`` or ``"tiny"``.
    """

    node: Value
    parent: Value
    local_grad: float
    reason: str

    def __str__(self) -> str:
        return (f"{name_of(self.node)} (op '{op_text(self.node)}') from {_param_name(self.parent)} = "
                f"{number(self.parent.data)}: local gradient {number(self.local_grad)}, {_reason_text(self)}")


class WhyReport:
    """What :func:`why` found. ``str(report)`` reads it out; the fields serve code.

    Attributes:
        node: the node asked about.
        root: the node whose gradient it is (what ``backward`` would start from).
        grad: ``d root / d node``, summed per edge exactly as ``backward`` sums it.
        reachable: whether ``root`` depends on ``node`` at all.
        by_consumer: ``(consumer, contribution)`` for each node that uses ``node`` directly, in the
            order backward visits them; the contributions add up to ``grad``.
        cuts: the edges whose zero or tiny local gradients lie across every path from ``root`` to
            ``node`` (empty when some path has none).
        cancelled: True when ``grad`` is exactly 0 although a path without such an edge exists:
            the contributions cancel (``x*c + x*(-c)``).
        cause: when ``grad`` is nan or infinite, the node where that started (see
            ``autograd.backward.first_cause``); else None.
    """

    def __init__(
        self, node: Value, root: Value, grad: float, reachable: bool,
        by_consumer: list[tuple[Value, float]], cuts: list[Cut], cancelled: bool, cause: Value | None,
        units: dict[str, tuple[int, int]],
    ) -> None:
        self.node = node
        self.root = root
        self.grad = grad
        self.reachable = reachable
        self.by_consumer = by_consumer
        self.cuts = cuts
        self.cancelled = cancelled
        self.cause = cause
        self._units = units

    def __repr__(self) -> str:
        return f"<WhyReport grad={self.grad!r}, {len(self.by_consumer)} consumers, {len(self.cuts)} cuts>"

    def __str__(self) -> str:
        name, root = _param_name(self.node), name_of(self.root)
        if self.node is self.root:
            return f"d{root}/d{root} = 1: {root} is the root"
        if not self.reachable:
            return f"d{root}/d{name} = 0: {root} does not depend on {name}"
        lines = [f"d{root}/d{name} = {self.grad!r}, the sum over its {len(self.by_consumer)} use(s):"]
        for consumer, contribution in self.by_consumer[:_SHOWN]:
            lines.append(f"  via {name_of(consumer)} (op '{op_text(consumer)}'): {contribution!r}")
        if len(self.by_consumer) > _SHOWN:  # a batch: one use per sample; the fields have them all
            lines.append(f"  ... and {len(self.by_consumer) - _SHOWN} more (report.by_consumer lists them all)")
        if self.cause is not None:
            lines.append(f"non-finite: it started at {describe_cause(self.cause)}")
        if self.cancelled:
            lines.append("it is 0 because the contributions cancel exactly (no edge on the way is dead)")
        if self.cuts:
            lines.append(f"every path from {root} is cut by an edge with a zero or tiny local gradient:")
            lines += _cut_lines(self.cuts, self._units)
        return "\n".join(lines)


def why(node: Value, root: Value, tiny: float = 1e-3) -> WhyReport:
    """Explain ``d root / d node``: the sum over paths, by consumer, and what cut it if it is 0.

    Works per edge in topological order (never per path), so it answers for graphs of a hundred
    thousand nodes in well under a second; computes its own adjoints and changes no ``.grad``.

    Args:
        node: the node whose gradient is asked about (a parameter, an input, any node).
        root: the node the gradient is of (the loss).
        tiny: a local gradient below this in magnitude counts as cutting the gradient
            (sigmoid and tanh below 0.01, ``SATURATED``, count as saturated).

    Returns:
        A :class:`WhyReport`.

    Raises:
        TypeError: ``node`` or ``root`` is not a Value, or ``tiny`` is not a real number.
        ValueError: ``tiny`` is negative or nan.

    Example:
        >>> x = Value(-1.7, label="x")
        >>> loss = (x * 2.0).relu()
        >>> [c.reason for c in why(x, loss).cuts]
        ['inactive']
    """
    require_value(node, "why()")
    require_value(root, "why() root")
    if isinstance(tiny, bool) or not isinstance(tiny, (int, float)):
        raise TypeError(f"why() tiny must be a real number, got {type(tiny).__name__}")
    if not tiny >= 0.0:
        raise ValueError(f"why() tiny must be 0 or more, got {tiny!r}")
    order = topological_order(root)
    if node is root:
        return WhyReport(node, root, 1.0, True, [], [], False, None, {})
    # d(node) holds for every node that depends on `node` (the paths of interest end there)
    depends = {node}
    for n in order:
        if n is node:
            continue
        for p in n.parents:
            if p in depends:
                depends.add(n)
                break
    if root not in depends:
        return WhyReport(node, root, 0.0, False, [], [], False, None, {})
    order.reverse()
    adjoint = {root: 1.0}
    live = {root}  # reached from root along edges that are not dead
    by_consumer: list[tuple[Value, float]] = []
    surfaced: Value | None = None
    for n in order:
        if n not in depends or n is node:
            continue
        g = adjoint[n]
        alive = n in live
        for p, local in zip(n.parents, n.local_grads):
            if p not in depends:
                continue
            contribution = local * g
            adjoint[p] = adjoint.get(p, 0.0) + contribution
            if surfaced is None and math.isfinite(g) and not math.isfinite(contribution):
                surfaced = n
            if alive and not _dead(n, local, tiny):
                live.add(p)
        if node in n.parents:
            total = 0.0
            for p, local in zip(n.parents, n.local_grads):
                if p is node:
                    total += local * g
            by_consumer.append((n, total))
    grad = adjoint[node]
    cuts: list[Cut] = []
    if node not in live:
        for n in order:
            if n not in live or n is node:
                continue
            locals_by_parent: dict[Value, float] = {}
            for p, local in zip(n.parents, n.local_grads):
                if p in depends and p not in live:
                    locals_by_parent[p] = locals_by_parent.get(p, 0.0) + local
            for p, local in locals_by_parent.items():
                cuts.append(Cut(n, p, local, _reason(n, p, local)))
    cancelled = grad == 0.0 and node in live
    cause = first_cause(surfaced) if surfaced is not None and not math.isfinite(grad) else None
    return WhyReport(node, root, grad, True, by_consumer, cuts, cancelled, cause, _units(cuts, order))


def _dead(n: Value, local: float, tiny: float) -> bool:
    """Whether an edge out of ``n`` with this local gradient cuts the gradient."""
    size = abs(local)
    if size < tiny:
        return True
    prim = n.primitive
    return prim is not None and prim.name in ("sigmoid", "tanh") and size < SATURATED


def _reason(n: Value, parent: Value, local: float) -> str:
    """Why the edge from ``n`` to ``parent`` carries (almost) no gradient."""
    prim = n.primitive
    name = "" if prim is None else prim.name
    x = parent.data
    if name in ("relu", "leaky_relu") and x <= 0.0:
        return "inactive"
    if name in ("sigmoid", "tanh"):
        return "saturated"
    if name == "select":
        return "zero derivative" if parent is n.parents[0] else "inactive"
    if name == "pow_const" and n.const == 0.0:
        return "zero derivative"
    if prim is not None and prim.kink and x == 0.0:
        return "kink"
    if local == 0.0:
        if name == "mul" or name == "dot":
            return "times zero"
        if name == "mul_const" and n.const == 0.0:
            return "times zero"
    return "tiny"


def _reason_text(cut: Cut) -> str:
    x = number(cut.parent.data)
    return {
        "inactive": f"inactive (input {x})",
        "zero derivative": "its derivative is 0 everywhere",
        "saturated": f"saturated (output {number(cut.node.data)})",
        "kink": f"at its kink (input {x})",
        "times zero": "multiplied by 0",
        "tiny": "tiny",
    }[cut.reason]


def _unit_of(n: Value) -> str | None:
    """The nn unit (``layers.1.neurons.3``) whose parameters feed ``n`` directly, or through
    the chain of additions of an unfused neuron; None if there is none."""
    steps = 0
    while n.parents and steps < 10_000:
        for p in n.parents:
            if not p.parents and p.label:
                m = _PARAMETER.match(p.label)
                if m:
                    return m.group("unit")
        prim = n.primitive
        if prim is None or prim.name not in ("add", "dot"):
            return None
        n = n.parents[0]
        steps += 1
    return None


def _units(cuts: list[Cut], order: list[Value]) -> dict[str, tuple[int, int]]:
    """For each nn unit a cut falls on: (how many of its activations are cut, how many it has)."""
    cut_units: dict[str, int] = {}
    ops = set()
    for cut in cuts:
        unit = _unit_of(cut.parent)
        if unit is not None:
            cut_units[unit] = cut_units.get(unit, 0) + 1
            ops.add(cut.node.primitive)
    if not cut_units:
        return {}
    totals = dict.fromkeys(cut_units, 0)
    for n in order:  # the unit's activations: one per sample the batch ran it on
        if n.primitive in ops and len(n.parents) == 1 and n.parents[0].parents:
            unit = _unit_of(n.parents[0])
            if unit in totals:
                totals[unit] += 1
    return {unit: (cut_units[unit], totals[unit]) for unit in cut_units}


def _cut_lines(cuts: list[Cut], units: dict[str, tuple[int, int]]) -> list[str]:
    """One line per cut, with the cuts that fall on an nn unit grouped into one line per unit."""
    lines: list[str] = []
    grouped: dict[str, list[Cut]] = {}
    for cut in cuts:
        unit = _unit_of(cut.parent)
        if unit is None or unit not in units:
            lines.append(f"  {cut}")
        else:
            grouped.setdefault(unit, []).append(cut)
    for unit, group in grouped.items():
        cut_count, total = units[unit]
        reasons = sorted({c.reason for c in group}, key=REASONS.index)
        ops = sorted({op_text(c.node) for c in group})
        samples = f"all {total}" if cut_count == total else f"{cut_count} of {total}"
        samples += " sample" if total == 1 else " samples"
        inputs = ", ".join(number(c.parent.data) for c in group[:5]) + (", ..." if len(group) > 5 else "")
        lines.append(f"  {_dotted(unit)} ({'/'.join(ops)}): {' and '.join(reasons)} on {samples} "
                     f"of the batch (inputs {inputs})")
    return lines


def _dotted(name: str) -> str:
    """``layers.1.neurons.3`` as Python reads it: ``layers[1].neurons[3]``."""
    return re.sub(r"\.(\d+)", r"[\1]", name)


def _param_name(node: Value) -> str:
    """A node's name, an nn parameter's written as Python reads it (``layers[1].neurons[3].w[0]``)."""
    if not node.parents and node.label and _PARAMETER.match(node.label):
        return _dotted(node.label)
    return name_of(node)
