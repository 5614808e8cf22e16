"""Gradients as functions: ``grad`` (to any order), ``jvp`` (forward mode), and JAX-style helpers;
``gradcheck`` and ``nudge``, which check a gradient against what the function actually does.

``grad(output, inputs)`` runs the same reverse sweep as ``Value.backward`` but collects the
result in a dictionary, so no ``.grad`` attribute changes. With ``create_graph=True`` the
sweep multiplies Values instead of floats: each op's derivative rule from ``autograd.ops`` is
evaluated on Values, so the gradients are graphs themselves and can be differentiated again.
The seed (``grad_output``) is a number folded into the products, not a node, so a gradient
graph holds only leaves of the graph it came from and ``to_sympy`` reads it as the derivative.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

from autograd.backward import topological_order
from autograd.modes import enable_grad
from autograd.ops import node_forward, node_partials
from autograd.value import FoldedValue, Value, as_float

__all__ = [
    "GradcheckError",
    "Nudge",
    "grad",
    "grad_fn",
    "gradcheck",
    "gradgradcheck",
    "hessian",
    "jacobian",
    "jvp",
    "nudge",
    "value_and_grad",
]

Function = Callable[[list[Value]], Value]


def _check_inputs(output: Value, inputs: Sequence[Value], who: str) -> list[Value]:
    if not isinstance(output, Value):
        raise TypeError(f"{who}() output must be a Value, got {type(output).__name__}")
    if isinstance(inputs, Value):
        inputs = [inputs]
    xs = list(inputs)
    for i, x in enumerate(xs):
        if not isinstance(x, Value):
            raise TypeError(f"{who}() inputs[{i}] must be a Value, got {type(x).__name__}")
    return xs


def grad(
    output: Value,
    inputs: Sequence[Value],
    grad_output: float = 1.0,
    create_graph: bool = False,
    allow_unused: bool = True,
) -> tuple[Value, ...]:
    """d output / d input for each input, as Values, without touching any ``.grad``.

    Args:
        output: the Value to differentiate.
        inputs: the Values to differentiate with respect to (leaves or interior nodes).
        grad_output: the seed, d(final)/d(output); 1.0 by default.
        create_graph: build the result as a graph so it can be differentiated again. Its leaves
            are leaves of ``output``'s graph; a gradient may be a node of that graph itself.
        allow_unused: an input ``output`` does not depend on gets 0.0 (default). With False it
            raises ``ValueError`` instead, as PyTorch does by default.

    Returns:
        One Value per input. A gradient that depends on no input (every gradient without
        ``create_graph``; ``d(a + b)/da``, ``dy/dy``, an unused input's 0 with it) is a
        constant leaf: ``g.is_leaf`` and ``g.const == g.data``, which ``to_sympy`` writes as a
        number.

    Example:
        >>> x = Value(3.0)
        >>> (dy,) = grad(x ** 3, [x], create_graph=True)   # 3 x**2 = 27
        >>> (d2y,) = grad(dy, [x])                          # 6 x = 18
        >>> dy.data, d2y.data
        (27.0, 18.0)
    """
    xs = _check_inputs(output, inputs, "grad")
    seed = as_float(grad_output)
    if seed is None:
        raise TypeError(f"grad() grad_output must be a real number, got {type(grad_output).__name__}")
    order = topological_order(output)
    order.reverse()
    results: dict[Value, Any]
    if create_graph:
        results = _reverse_values(order, output, seed)
    else:
        results = _reverse_floats(order, output, seed)
    out: list[Value] = []
    for i, x in enumerate(xs):
        g = results.get(x)
        if g is None:
            if not allow_unused:
                raise ValueError(f"grad(): inputs[{i}] is not used to compute the output (allow_unused=False)")
            g = 0.0
        out.append(g if isinstance(g, Value) else _constant(g))
    return tuple(out)


def _reverse_floats(order: list[Value], output: Value, seed: float) -> dict[Value, float]:
    grads = {output: seed}
    for node in order:
        g = grads.get(node)
        if g is None:
            continue
        for parent, local in zip(node.parents, node.local_grads):
            c = local * g
            grads[parent] = grads[parent] + c if parent in grads else c
    return grads


def _reverse_values(order: list[Value], output: Value, seed: float) -> dict[Value, Value | float]:
    """The reverse sweep on Values. The seed stays a float, so it is no node of the result: an
    upstream gradient is a float until a partial that depends on the inputs (a Value) meets it.

    ``x * 1.0 == x`` exactly, so a product with the float 1.0 is left out where that cannot
    change a number of the next order either: the next sweep over the gradient graph sums what
    reaches each node in graph order, and a node used in more places would then sum its shares
    in another grouping. So ``local * 1.0`` is left out for a partial the rule made just now
    (used nowhere else), and ``1.0 * g`` for a node with one input (``g`` used nowhere else); a
    node of the graph itself as partial (``b`` in ``d(a*b)/da``) keeps its ``* 1``.
    """
    grads: dict[Value, Value | float] = {output: seed}
    in_graph = set(order)
    for node in order:
        g = grads.get(node)
        if g is None or not node.parents:
            continue
        partials = node_partials(node)
        own = _made_once(partials, in_graph) if type(g) is float and g == 1.0 else set()
        sole = len(node.parents) == 1
        for parent, local in zip(node.parents, partials):
            if type(g) is float and g == 1.0 and (not isinstance(local, Value) or local in own):
                c = local
            elif sole and type(local) is float and local == 1.0:
                c = g
            else:
                c = local * g
            grads[parent] = grads[parent] + c if parent in grads else c
    return grads


def _made_once(partials: tuple[Any, ...], in_graph: set[Value]) -> set[Value]:
    """The partials that the rule made just now (not nodes of the graph) and returned once."""
    seen: set[Value] = set()
    again: set[Value] = set()
    for p in partials:
        if isinstance(p, Value) and p not in in_graph:
            (again if p in seen else seen).add(p)
    return seen - again


def _constant(x: float) -> Value:
    """A leaf that stands for the number ``x`` rather than an input: ``const`` set on a leaf
    (see ``Value.const``), so ``to_sympy`` writes it as ``x``, not as a symbol."""
    leaf = FoldedValue(x)
    leaf.const = leaf.data
    return leaf


def jvp(output: Value, inputs: Sequence[Value], tangents: Sequence[float]) -> float:
    """Forward mode: the directional derivative of ``output`` along ``tangents`` (one sweep).

    Tangents flow forward through the recorded local gradients,
    ``tangent(node) = sum(local_grad_i * tangent(parent_i))``, in topological order. One sweep
    gives one directional derivative; a full gradient needs one sweep per input, which is why
    backpropagation (one reverse sweep for all inputs) is reverse mode.

    Example:
        >>> x, y = Value(2.0), Value(5.0)
        >>> jvp(x * y, [x, y], [1.0, 0.0])   # d(xy)/dx = y
        5.0
    """
    xs = _check_inputs(output, inputs, "jvp")
    if len(tangents) != len(xs):
        raise ValueError(f"jvp() needs one tangent per input: {len(xs)} inputs, {len(tangents)} tangents")
    seeded: dict[Value, float] = {}
    for i, (x, t) in enumerate(zip(xs, tangents)):
        ft = as_float(t)
        if ft is None:
            raise TypeError(f"jvp() tangents[{i}] must be a real number, got {type(t).__name__}")
        seeded[x] = seeded.get(x, 0.0) + ft
    tangent: dict[Value, float] = {}
    for node in topological_order(output):
        if node in seeded:
            tangent[node] = seeded[node]
            continue
        total = 0.0
        for parent, local in zip(node.parents, node.local_grads):
            tp = tangent.get(parent)
            if tp is not None:
                total += local * tp
        tangent[node] = total
    return tangent[output]


def value_and_grad(f: Function) -> Callable[[Sequence[float]], tuple[float, list[float]]]:
    """Turn ``f`` (a list of Values -> a Value) into a function of floats returning ``(f(x), ∇f(x))``.

    Example:
        >>> vg = value_and_grad(lambda v: v[0] * v[1] + v[0])
        >>> vg([2.0, 3.0])
        (8.0, [4.0, 2.0])
    """

    def evaluate(xs: Sequence[float]) -> tuple[float, list[float]]:
        vs = _leaves(xs)
        out = _call(f, vs)
        return out.data, [g.data for g in grad(out, vs)]

    return evaluate


def grad_fn(f: Function) -> Callable[[Sequence[float]], list[float]]:
    """Turn ``f`` (a list of Values -> a Value) into a function of floats returning its gradient.

    Example:
        >>> grad_fn(lambda v: v[0] ** 2)([3.0])
        [6.0]
    """
    vg = value_and_grad(f)
    return lambda xs: vg(xs)[1]


def jacobian(f: Callable[[list[Value]], Sequence[Value]], xs: Sequence[float]) -> list[list[float]]:
    """``J[i][j] = d f_i / d x_j`` for a function returning a list of Values (one reverse sweep per output)."""
    vs = _leaves(xs)
    outs = f(vs)
    if isinstance(outs, Value):
        outs = [outs]
    return [[g.data for g in grad(_as_value(o, "jacobian"), vs)] for o in outs]


def hessian(f: Function, xs: Sequence[float]) -> list[list[float]]:
    """``H[i][j] = d² f / dx_i dx_j`` as a list of lists of floats (gradient of the gradient).

    Example:
        >>> rosen = lambda v: (1 - v[0]) ** 2 + 100 * (v[1] - v[0] ** 2) ** 2
        >>> hessian(rosen, [1.2, 0.8])[0][1]   # -400 x
        -480.0
    """
    vs = _leaves(xs)
    first = grad(_call(f, vs), vs, create_graph=True)
    return [[h.data for h in grad(g, vs)] for g in first]


class GradcheckError(AssertionError):
    """Raised by :func:`gradcheck` / :func:`gradgradcheck` when analytic and numeric derivatives disagree."""


def gradcheck(f: Function, xs: Sequence[float], eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3) -> bool:
    """Compare ``f``'s analytic gradient at ``xs`` with central finite differences.

    Returns True, or raises :class:`GradcheckError` listing each mismatching input with its
    analytic and numeric values, and naming the op(s) in the graph whose own local derivative
    disagrees with a finite difference of that op's forward: the place to look for the bug.

    Example:
        >>> gradcheck(lambda v: (v[0] * v[1]).tanh(), [0.3, -0.5])
        True
    """
    _check_tolerances(xs, eps, atol, rtol, "gradcheck")
    vs = _leaves(xs)
    out = _call(f, vs)
    analytic = [g.data for g in grad(out, vs)]
    numeric = [_central(lambda p: _call(f, _leaves(p)).data, list(xs), i, eps) for i in range(len(xs))]
    bad = [(i, a, n) for i, (a, n) in enumerate(zip(analytic, numeric)) if not _close(a, n, atol, rtol)]
    if not bad:
        return True
    lines = [f"gradient mismatch for {len(bad)} of {len(xs)} input(s):"]
    lines += [f"  input {i} (x={xs[i]!r}): analytic {a!r}, numeric {n!r}" for i, a, n in bad]
    lines += _suspects(out, eps, atol, rtol)
    raise GradcheckError("\n".join(lines))


def gradgradcheck(
    f: Function, xs: Sequence[float], eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3
) -> bool:
    """Like :func:`gradcheck` one order up: the Hessian from ``create_graph=True`` against
    central differences of the analytic gradient. Raises :class:`GradcheckError` listing each
    mismatching entry and the ops whose derivative rule, evaluated on Values, misbehaves."""
    _check_tolerances(xs, eps, atol, rtol, "gradgradcheck")
    vs = _leaves(xs)
    out = _call(f, vs)
    try:
        analytic = hessian(f, xs)
    except TypeError as e:
        raise GradcheckError(f"second derivatives could not be built: {e}") from None
    g = grad_fn(f)
    bad: list[str] = []
    for j in range(len(xs)):
        column = _central_vec(g, list(xs), j, eps)
        for i in range(len(xs)):
            if not _close(analytic[i][j], column[i], atol, rtol):
                bad.append(f"  d2f/dx{i}dx{j}: analytic {analytic[i][j]!r}, numeric {column[i]!r}")
    if not bad:
        return True
    lines = [f"second-derivative mismatch in {len(bad)} entr{'y' if len(bad) == 1 else 'ies'}:", *bad]
    lines += _rule_suspects(out, atol, rtol)
    raise GradcheckError("\n".join(lines))


class Nudge(NamedTuple):
    """What :func:`nudge` found: the loss's actual change against the Taylor predictions.

    Attributes:
        delta: the change made to the parameter.
        before: the loss at the parameter's own value.
        after: the loss with the parameter moved by ``delta``.
        g: d loss / d parameter at the parameter's own value.
        h: d² loss / d parameter², from ``grad(..., create_graph=True)``.
        actual: ``after - before``.
        first_order: ``g * delta``.
        second_order: ``g * delta + h * delta**2 / 2``.
        first_order_error: ``|first_order - actual| / |actual|`` (0 when they are equal, inf
            when only the actual change is 0).
        second_order_error: the same for ``second_order``.
    """

    delta: float
    before: float
    after: float
    g: float
    h: float
    actual: float
    first_order: float
    second_order: float
    first_order_error: float
    second_order_error: float

    def __str__(self) -> str:
        return (f"nudge by {self.delta:g}: the loss changed by {self.actual:.6g}; "
                f"first order g*delta = {self.first_order:.6g} (relative error {self.first_order_error:.3g}), "
                f"second order g*delta + h*delta**2/2 = {self.second_order:.6g} "
                f"(relative error {self.second_order_error:.3g})")


def nudge(loss_fn: Callable[[], Value], param: Value, delta: float) -> Nudge:
    """Move one parameter (or input) by ``delta``, recompute the loss, and compare the actual
    change with what the gradient predicts: the definition of a gradient, checked live.

    The gradient ``g`` and the second derivative ``h`` come from :func:`grad` with
    ``create_graph=True`` on the graph ``loss_fn()`` builds at the parameter's own value. The
    parameter's ``.data`` and ``.grad`` are put back afterwards, whatever happens (also when
    ``loss_fn`` raises); nothing else is changed by ``nudge`` itself.

    Args:
        loss_fn: a function of no arguments that builds the loss ``Value`` from ``param`` (it is
            called twice: at the parameter's value and at the nudged one).
        param: the leaf to move (a parameter or an input Value).
        delta: how far to move it: a finite number other than 0.

    Returns:
        A :class:`Nudge` with the actual change, the first- and second-order predictions and
        their relative errors.

    Raises:
        TypeError: ``loss_fn`` is not callable or does not return a Value, ``param`` is not a
            Value, or ``delta`` is not a real number.
        ValueError: ``param`` is not a leaf (moving an interior node changes nothing
            ``loss_fn`` recomputes), or ``delta`` is 0 or not finite.

    Example:
        >>> w = Value(3.0)
        >>> r = nudge(lambda: w * w, w, 0.5)   # w**2 is quadratic: second order is exact
        >>> r.actual, r.first_order, r.second_order, r.second_order_error
        (3.25, 3.0, 3.25, 0.0)
    """
    if not callable(loss_fn):
        raise TypeError(f"nudge() loss_fn must be a function of no arguments returning the loss Value, "
                        f"got {type(loss_fn).__name__}")
    if not isinstance(param, Value):
        raise TypeError(f"nudge() param must be a Value (a parameter or input), got {type(param).__name__}")
    if not param.is_leaf:
        raise ValueError("nudge() param must be a leaf (a parameter or input): an interior node's value is "
                         "recomputed from its inputs, so moving it changes nothing loss_fn builds")
    step = as_float(delta)
    if step is None or isinstance(delta, bool):
        raise TypeError(f"nudge() delta must be a real number, got {type(delta).__name__}")
    if step == 0.0 or not math.isfinite(step):
        raise ValueError(f"nudge() delta must be a finite number other than 0, got {delta!r}")
    own, own_grad = param.data, param.grad
    try:
        with enable_grad():  # the derivatives need the graph even inside a no_grad block
            loss = _as_value(loss_fn(), "nudge() loss_fn")
            (g,) = grad(loss, [param], create_graph=True)
            (h,) = grad(g, [param])
        param.data = own + step
        after = _as_value(loss_fn(), "nudge() loss_fn").data
    finally:
        param.data, param.grad = own, own_grad
    actual = after - loss.data
    first = g.data * step
    second = first + 0.5 * h.data * step * step
    return Nudge(step, loss.data, after, g.data, h.data, actual, first, second,
                 _relative_error(first, actual), _relative_error(second, actual))


def _relative_error(predicted: float, actual: float) -> float:
    if predicted == actual:
        return 0.0
    if actual == 0.0:
        return math.inf
    return abs(predicted - actual) / abs(actual)


# --- helpers ---------------------------------------------------------------------------------


def _check_tolerances(xs: Sequence[float], eps: float, atol: float, rtol: float, who: str) -> None:
    """Bad arguments are ValueErrors, and a non-finite point is refused: a finite difference
    there is nan or inf, and would agree with anything."""
    for name, value, positive in (("eps", eps, True), ("atol", atol, False), ("rtol", rtol, False)):
        v = as_float(value)
        if v is None or isinstance(value, bool) or not math.isfinite(v) or v < 0 or (positive and v == 0):
            want = "a finite number > 0" if positive else "a finite number >= 0"
            raise ValueError(f"{who}() {name} must be {want}, got {value!r}")
    for i, x in enumerate(_leaves(xs)):
        if not math.isfinite(x.data):
            raise ValueError(f"{who}() needs finite inputs: xs[{i}] is {x.data!r}")


def _leaves(xs: Sequence[float]) -> list[Value]:
    if isinstance(xs, (str, bytes)) or not isinstance(xs, Sequence):
        raise TypeError(f"expected a list of numbers, got {type(xs).__name__}")
    out = []
    for i, x in enumerate(xs):
        f = as_float(x)
        if f is None:
            raise TypeError(f"xs[{i}] must be a real number, got {type(x).__name__}")
        out.append(Value(f))
    return out


def _call(f: Function, vs: list[Value]) -> Value:
    return _as_value(f(vs), "f")


def _as_value(out: object, who: str) -> Value:
    if not isinstance(out, Value):
        raise TypeError(f"{who} must return a Value, got {type(out).__name__}")
    return out


def _central(f: Callable[[list[float]], float], xs: list[float], i: int, eps: float) -> float:
    up, down = list(xs), list(xs)
    up[i] += eps
    down[i] -= eps
    return (f(up) - f(down)) / (2 * eps)


def _central_vec(f: Callable[[list[float]], list[float]], xs: list[float], j: int, eps: float) -> list[float]:
    up, down = list(xs), list(xs)
    up[j] += eps
    down[j] -= eps
    return [(a - b) / (2 * eps) for a, b in zip(f(up), f(down))]


def _spread(forward: Callable[..., float]) -> Callable[[list[float]], float]:
    return lambda args: forward(*args)


def _close(a: float, b: float, atol: float, rtol: float) -> bool:
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return abs(a - b) <= atol + rtol * abs(b)


def _suspects(out: Value, eps: float, atol: float, rtol: float) -> list[str]:
    """Check every node's recorded local gradients against a finite difference of its own op."""
    lines: list[str] = []
    for node in topological_order(out):
        forward = node_forward(node)
        if forward is None:
            continue
        args = [p.data for p in node.parents]
        op_of_list = _spread(forward)
        for i, local in enumerate(node.local_grads):
            h = eps * max(1.0, abs(args[i]))
            numeric = _central(op_of_list, args, i, h)
            if math.isfinite(numeric) and not _close(local, numeric, 10 * atol, 10 * rtol):
                where = f" created at {node.origin}" if node.origin else ""
                if node.primitive is not None and node.primitive.kink and abs(args[i]) <= h:
                    lines.append(
                        f"  op {node.op!r}{where} is at its kink (input {i} = {args[i]!r}): the op or its derivative "
                        f"jumps at 0, so a finite difference there says nothing (local gradient {local!r}, finite "
                        f"difference {numeric!r}); check at a point away from 0"
                    )
                    continue
                lines.append(
                    f"  op {node.op!r}{where}: local gradient for input {i} at {tuple(args)} is {local!r}, "
                    f"but a finite difference of the op gives {numeric!r} -> check this op's derivative rule"
                )
    if not lines:
        lines.append("  every op's local derivative agrees with its finite difference; check how f combines them")
    return lines


def _rule_suspects(out: Value, atol: float, rtol: float) -> list[str]:
    """Ops whose derivative rule on Values fails or disagrees with the float partials recorded."""
    lines: list[str] = []
    for node in topological_order(out):
        if not node.parents:
            continue
        try:
            partials = node_partials(node)
        except (TypeError, ValueError) as e:
            lines.append(f"  op {node.op!r}: {e}")
            continue
        for i, (p, local) in enumerate(zip(partials, node.local_grads)):
            v = p.data if isinstance(p, Value) else float(p)
            if not _close(v, local, atol, rtol):
                lines.append(f"  op {node.op!r}: rule on Values gives {v!r} for input {i}, float rule gave {local!r}")
    if not lines:
        lines.append("  every op's rule gives the same partials on Values as on floats")
    return lines
