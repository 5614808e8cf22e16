"""The backward pass: a deterministic, iterative topological order, then the chain rule.

``backward(root)`` and the step-by-step ``backward_steps(root)`` share ``topological_order``
and ``_prepare`` below, so they always visit the same edges in the same order and add the same
floats in the same sequence: their gradients agree bit for bit.
"""

from __future__ import annotations

import gc
import math
from collections.abc import Generator, Iterator
from typing import TYPE_CHECKING, NamedTuple

from autograd.modes import MODE, AnomalyError
from autograd.ops import as_float

if TYPE_CHECKING:
    from autograd.value import Value

__all__ = [
    "Step", "backward", "backward_steps", "describe_cause", "first_cause", "require_value", "topological_order",
]


def require_value(x: object, who: str) -> None:
    """Raise ``TypeError`` naming ``who`` unless ``x`` is a graph node (a Value).

    Checked by the node's attributes, so the modules below ``autograd.value`` need not import it."""
    if not (hasattr(x, "local_grads") and hasattr(x, "parents") and hasattr(x, "primitive")):
        raise TypeError(f"{who} needs a Value, got {type(x).__name__}")


def topological_order(root: Value) -> list[Value]:
    """Every node ``root`` depends on, each after all of its parents; ``root`` comes last.

    Depth-first, parents visited in argument order, with an explicit stack (no recursion, so a
    chain of a million nodes is fine) and no iteration over sets (so the order, and therefore
    every floating-point sum in the backward pass, is the same on every run).

    The walk makes short-lived objects (a stack entry per node, an iterator per node with several
    parents) and no reference cycles, so the cyclic garbage collector is paused while it runs
    (see ``_pause_gc``).
    """
    paused = _pause_gc()
    try:
        return _depth_first(root)
    finally:
        if paused:
            gc.enable()


def _pause_gc() -> bool:
    """Pause the cyclic garbage collector if it is on; return whether it was paused.

    The backward pass allocates a few short-lived objects per node (stack entries, iterators,
    ``zip`` objects) and never a reference cycle. Each allocation counts towards CPython's next
    collection, and with a big graph alive those collections are full ones that re-walk every
    node: on a million-step chain they took 2.5 of the 4.2 seconds of the pass. Collection is only
    deferred: anything collectable made elsewhere is found at the next collection after it."""
    if not gc.isenabled():
        return False
    gc.disable()
    return True


def _depth_first(root: Value) -> list[Value]:
    # A node is emitted once all its parents are. Nodes with one parent (unary ops, ops with a
    # folded constant: most of a long chain) are walked down without making an iterator.
    order: list[Value] = []
    seen = {root}
    mark, emit = seen.add, order.append
    stack: list[tuple[Value, Iterator[Value] | None]] = []
    push, pop = stack.append, stack.pop
    node = root
    while True:  # `node` has just been reached
        parents = node.parents
        if len(parents) == 1:
            parent = parents[0]
            if parent not in seen:
                mark(parent)
                push((node, None))
                node = parent
                continue
            emit(node)
        elif parents:
            push((node, iter(parents)))
        else:
            emit(node)
        while stack:  # resume the innermost node that still has parents to visit
            top, pending = stack[-1]
            if pending is not None:
                for parent in pending:
                    if parent not in seen:
                        mark(parent)
                        node = parent
                        break
                else:
                    pop()
                    emit(top)
                    continue
                break  # go down into `node`
            pop()
            emit(top)
        else:
            return order


def _check(root: Value, grad: float) -> float:
    require_value(root, "backward()")
    g = as_float(grad)
    if g is None:
        raise TypeError(f"backward() grad must be a real number, got {type(grad).__name__}")
    return g


def _prepare(root: Value, g: float) -> tuple[list[Value], dict[Value, float]]:
    """Order the graph, zero every gradient, and seed ``root``.

    Returns the nodes root-first and the leaves' earlier gradients, which ``_carry_over`` adds
    back after the pass. Summing a pass on its own first, as PyTorch does, is what makes two
    calls give exactly twice the gradient: ``(g + a) + b`` is not always ``g + (a + b)``.
    """
    order = topological_order(root)
    carried: dict[Value, float] = {}
    for node in order:
        if node.parents:
            node.grad = 0.0
        elif node.grad:  # a leaf: set its earlier gradient aside, it accumulates across passes
            carried[node] = node.grad
            node.grad = 0.0
    root.grad = g
    order.reverse()
    return order, carried


def _carry_over(carried: dict[Value, float]) -> None:
    """Add each leaf's earlier gradient back to this pass's (a dict keeps insertion order)."""
    for leaf, earlier in carried.items():
        leaf.grad = earlier + leaf.grad


def backward(root: Value, grad: float = 1.0) -> None:
    """Add ``grad * d(root)/d(node)`` to ``.grad`` of every leaf ``root`` depends on.

    Leaves (inputs, parameters) accumulate across calls, as in PyTorch: call it twice and a
    leaf's gradient doubles. Interior nodes are reset first and hold this pass's gradient.
    A node reached along several paths gets the sum over all of them.
    """
    g = _check(root, grad)
    if MODE.anomaly:
        for _ in _steps(root, g):
            pass
        return
    order, carried = _prepare(root, g)
    paused = _pause_gc()
    try:
        for node in order:
            parents = node.parents
            if len(parents) == 1:  # a unary op or a folded constant: no zip needed
                parents[0].grad += node.local_grads[0] * node.grad
            elif parents:
                g = node.grad
                for parent, local in zip(parents, node.local_grads):
                    parent.grad += local * g
    finally:
        if paused:
            gc.enable()
    if carried:
        _carry_over(carried)


class Step(NamedTuple):
    """One edge of the backward pass: ``parent.grad += local_grad * upstream``."""

    node: Value
    parent: Value
    local_grad: float
    upstream: float
    contribution: float
    parent_grad: float

    def __str__(self) -> str:
        from autograd.show.text import name_of  # how nodes read in text is the display layer's rule

        return (
            f"{name_of(self.parent)}.grad += d{name_of(self.node)}/d{name_of(self.parent)}({self.local_grad:.6g})"
            f" * {name_of(self.node)}.grad({self.upstream:.6g}) = {self.contribution:.6g}"
            f"  -> {name_of(self.parent)}.grad = {self.parent_grad:.6g}"
        )


def _steps(root: Value, g: float) -> Generator[Step, None, None]:
    """The chain rule one edge at a time, in the same order and with the same sums as ``backward``.

    Nothing happens until the first step is asked for. A leaf's ``.grad`` always reads its
    earlier gradient plus this pass's contributions so far (what each Step's ``parent_grad``
    says); the pass's own sum is kept apart and added to the earlier gradient exactly as
    ``backward`` adds it, so a finished pass leaves the same bits.
    """
    order = topological_order(root)
    earlier: dict[Value, float] = {}  # the leaves' gradients before this pass
    running: dict[Value, float] = {}  # this pass's sum for each leaf
    for node in order:
        if node.parents:
            node.grad = 0.0
        else:
            earlier[node] = node.grad
            running[node] = 0.0 if node.grad else node.grad  # as backward() resets it
    if root.parents:
        root.grad = g
    else:
        running[root] = g
        root.grad = _with_earlier(earlier[root], g)
    order.reverse()
    check = MODE.anomaly
    for node in order:
        upstream = node.grad
        for parent, local in zip(node.parents, node.local_grads):
            contribution = local * upstream
            if parent.parents:
                parent.grad += contribution
                this_pass = parent.grad
            else:
                this_pass = running[parent] + contribution
                running[parent] = this_pass
                parent.grad = _with_earlier(earlier[parent], this_pass)
            if check and not math.isfinite(this_pass) and math.isfinite(upstream):
                _raise_backward_anomaly(node, parent, local, upstream)
            yield Step(node, parent, local, upstream, contribution, parent.grad)


def _with_earlier(earlier: float, this_pass: float) -> float:
    return earlier + this_pass if earlier else this_pass


def _raise_backward_anomaly(node: Value, parent: Value, local: float, upstream: float) -> None:
    inputs = ", ".join(repr(p.data) for p in node.parents)
    where = node.origin or "an unknown place (created outside detect_anomaly)"
    cause = first_cause(node)
    raise AnomalyError(
        f"backward through op {node.op!r} (inputs {inputs}) gave a non-finite gradient: "
        f"local gradient {local!r} * upstream {upstream!r}; node created at {where}; {_started(node, cause)}",
        surfaced=node,
        cause=cause,
    )


def _started(surfaced: Value, cause: Value) -> str:
    """The message's second half: where the non-finite number started."""
    if cause is surfaced:
        return "it started there (this op's inputs are finite)"
    return f"it started at {describe_cause(cause)}"


def describe_cause(cause: Value) -> str:
    """How an anomaly's cause reads in messages: its op, inputs, result or local gradient, origin.

    Args:
        cause: a node :func:`first_cause` returned.

    Returns:
        For example ``"op 'log' (inputs 0.0) -> -inf, created at model.py:12"``.
    """
    where = cause.origin or "an unknown place (created outside detect_anomaly)"
    if not cause.parents:
        return f"the leaf {cause.data!r}, created at {where}"
    inputs = ", ".join(repr(p.data) for p in cause.parents)
    if math.isfinite(cause.data):
        bad = ", ".join(repr(g) for g in cause.local_grads if not math.isfinite(g))
        what = f"= {cause.data!r} with non-finite local gradient {bad}"
    else:
        what = f"-> {cause.data!r}"
    return f"op {cause.op!r} (inputs {inputs}) {what}, created at {where}"


def first_cause(node: Value) -> Value:
    """Where a non-finite number reaching ``node`` started: traced forward to its first cause.

    When one of ``node``'s inputs is nan or infinite, the walk follows the non-finite inputs down
    to the nodes whose value became non-finite from finite inputs (``log(0)``, ``0/0``,
    ``exp(800)``; or a leaf that holds one) and returns the earliest of them in topological order.
    When ``node``'s inputs are all finite, the trouble started at ``node`` itself: its value or
    its local gradient (``sqrt'(0)``) is the first non-finite number.

    Args:
        node: where a non-finite value or gradient was noticed.

    Returns:
        The node where it started (``node`` itself when its inputs are finite).
    """
    require_value(node, "first_cause()")
    if all(math.isfinite(p.data) for p in node.parents):
        return node
    sources: set[Value] = set()
    seen: set[Value] = set()
    stack = [p for p in node.parents if not math.isfinite(p.data)]
    while stack:
        m = stack.pop()
        if m in seen:
            continue
        seen.add(m)
        bad = [p for p in m.parents if not math.isfinite(p.data)]
        if bad:
            stack += bad
        else:
            sources.add(m)
    return next(m for m in topological_order(node) if m in sources)


def backward_steps(root: Value, grad: float = 1.0) -> Generator[Step, None, None]:
    """Run the backward pass lazily, yielding a :class:`Step` for each edge as it is applied.

    A node's edges are yielded only after its own gradient is complete. Nothing changes before
    the first step is taken (an iterator dropped unstarted changes no ``.grad``). Consuming the
    whole iterator leaves every ``.grad`` exactly as :func:`backward` would. At every step, a
    leaf's ``.grad`` equals the ``parent_grad`` its last Step showed: its gradient before the
    pass plus the contributions applied so far; so stopping early leaves leaves at that, and
    interior nodes at the partial sums they had reached.

        for step in loss.backward_steps():
            print(step)   # w.grad += d[*]/dw(2) * [*].grad(-1) = -2  -> w.grad = -2
    """
    return _steps(root, _check(root, grad))
