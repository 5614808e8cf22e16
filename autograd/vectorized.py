"""Vectorised replay: one recorded per-sample tape, replayed across a whole batch with NumPy.

``BatchTape(per_sample, params, example)`` records the graph of *one* sample's loss (its inputs
are the Values passed to ``per_sample``), then ``run(batch)`` replays it for the whole batch at
once: every value that depends on the inputs becomes a NumPy array with one entry per sample,
and the parameters' gradients are summed over the batch. The mean loss and its gradients equal
the scalar path's to about 1e-15 relative (only the order of sums differs)::

    def per_sample(v):                       # v = [x1, x2, label]
        return (1 + -v[2] * model(v[:2])).relu()

    tape = BatchTape(per_sample, model.parameters(), example=[0.0, 0.0, 1.0])
    model.zero_grad()
    mean_loss = tape.run([[x1, x2, label] for (x1, x2), label in zip(X, y)])

Before replaying, the tape is *planned*: instructions are sorted into levels (an op's level is one
more than its parents'), and within a level the ops that can run as one array operation are
grouped. Neurons of a layer (``dot`` ops over the same inputs with parameter weights) become one
matrix product for the whole layer and batch, and the activations after them one array op; the
rest (a loss's few ops, anything unusual) runs op by op on per-sample arrays. So W1's replay is a
few dozen NumPy calls however wide the layers are.

NumPy is needed (``pip install "valuegrad[fast]"``) and imported only when a BatchTape is made.
The same limits as :class:`~autograd.compiled.Tape` apply: plain numbers computed from ``.data``
are baked in as constants, so everything that differs between samples must be an input.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from autograd import arrayops
from autograd.codegen import CUSTOM, DOT, KIND_NAMES, UNARY
from autograd.compiled import Tape
from autograd.value import Value

__all__ = ["BatchTape"]

# What a group reads: ("rows", group, first, stop) is a slice of an earlier group's matrix (the
# inputs are group 0); ("slots", slots) is stacked from the slots' arrays one by one.
Gather = tuple[Any, ...]


def _numpy() -> Any:
    try:
        import numpy
    except ImportError:
        raise ImportError('BatchTape needs NumPy: pip install "valuegrad[fast]"') from None
    return numpy


@dataclass
class _Group:
    """Instructions of one level run as one array op; output ``i`` is row ``i`` of the matrix."""

    gid: int
    kind: int  # DOT (a layer's matrix product) or UNARY (one activation over many rows)
    outs: list[int]
    reads: Gather  # the batch inputs: for DOT the k shared inputs, for UNARY one per row
    needs_input_grad: bool
    op: Any = None  # UNARY: the ops.Op
    weights: Any = None  # DOT: (m, k) leaf slots of the weights
    biases: Any = None  # DOT: (m,) leaf slots of the biases, or None
    unique: bool = True  # DOT: no leaf repeats among weights and biases (plain += scatters)
    show: list[tuple[int, int]] = field(default_factory=list)  # (row, slot) read op by op


class _Plan:
    """Levels and groups of a per-sample tape (see the module docstring)."""

    def __init__(self, np: Any, tape: Tape, n_params: int, n_inputs: int) -> None:
        code = tape._code
        n_slots = len(tape._init)
        first_input = n_params
        computed = {ins[1] for ins in code}
        leaf = [i not in computed for i in range(n_slots)]
        batch = [first_input <= i < first_input + n_inputs for i in range(n_slots)]
        needs = [i < n_params for i in range(n_slots)]
        level = [0] * n_slots
        for _, o, ps, _, _ in code:
            batch[o] = any(batch[p] for p in ps)
            needs[o] = any(needs[p] for p in ps)
            level[o] = 1 + max(level[p] for p in ps)
        self.needs = needs
        # inputs are rows of group 0; group outputs are located by (group, row)
        self.where: dict[int, tuple[int, int]] = {first_input + j: (0, j) for j in range(n_inputs)}
        buckets: dict[tuple[Any, ...], list[int]] = {}
        order: list[tuple[int, int, tuple[Any, ...]]] = []  # (level, first index, key)
        for idx, (kind, o, ps, c, extra) in enumerate(code):
            key: tuple[Any, ...] = ("one", idx)
            if kind == DOT:
                pairs = 2 * (len(ps) // 2)  # (w0, x0, w1, x1, ...), then the bias if any
                ws, xs = ps[0:pairs:2], ps[1:pairs:2]
                shared = [*ws, ps[-1]] if extra else list(ws)
                if all(leaf[s] and not batch[s] for s in shared) and all(batch[x] for x in xs):
                    key = ("dot", level[o], xs, bool(extra))
            elif kind == UNARY and batch[ps[0]] and extra.name in arrayops.UNARY_NAMES:
                key = ("unary", level[o], extra.name, c)
            if key not in buckets:
                buckets[key] = []
                order.append((level[o], idx, key))
            buckets[key].append(idx)
        self.items: list[_Group | int] = []  # groups and single instructions, parents first
        self.groups: list[_Group | None] = [None]  # gid -> group (0 is the inputs)
        for _, _, key in sorted(order, key=lambda item: (item[0], item[1])):
            members = buckets[key]
            if key[0] == "one" or (key[0] == "unary" and len(members) == 1):
                self.items.extend(members)
            else:
                self.items.append(self._group(np, key, [code[i] for i in members]))
        self.singles = {i: code[i] for i in self.items if isinstance(i, int)}
        used = {p for _, _, ps, _, _ in self.singles.values() for p in ps}
        self.params_used_one_by_one = sorted(p for p in used if p < n_params)
        self._show_rows(tape._watched)

    def _group(self, np: Any, key: tuple[Any, ...], members: list[Any]) -> _Group:
        gid = len(self.groups)
        outs = [ins[1] for ins in members]
        if key[0] == "dot":
            xs = key[2]
            pairs = 2 * len(xs)
            weights = np.array([ins[2][0:pairs:2] for ins in members], dtype=np.intp).reshape(len(outs), -1)
            biases = np.array([ins[2][-1] for ins in members], dtype=np.intp) if key[3] else None
            leaves = [*weights.ravel().tolist(), *(biases.tolist() if biases is not None else [])]
            group = _Group(gid, DOT, outs, self._reads(list(xs)), any(self.needs[x] for x in xs),
                           weights=weights, biases=biases, unique=len(set(leaves)) == len(leaves))
        else:
            parents = [ins[2][0] for ins in members]
            group = _Group(gid, UNARY, outs, self._reads(parents), any(self.needs[p] for p in parents),
                           op=members[0][4])
        self.groups.append(group)
        for row, o in enumerate(outs):
            self.where[o] = (gid, row)
        return group

    def _reads(self, slots: list[int]) -> Gather:
        located = [self.where.get(s) for s in slots]
        first = located[0]
        if first is not None and all(loc == (first[0], first[1] + i) for i, loc in enumerate(located)):
            return ("rows", first[0], first[1], first[1] + len(slots))
        return ("slots", tuple(slots))

    def _show_rows(self, watched: list[int]) -> None:
        """Rows of group matrices needed as arrays: by an op-by-op instruction, a stacked read, or
        the caller (watched values)."""
        wanted: set[int] = set()
        for _, _, ps, _, _ in self.singles.values():
            wanted.update(ps)
        for group in self.groups[1:]:
            assert group is not None
            if group.reads[0] == "slots":
                wanted.update(group.reads[1])
        wanted.update(watched)
        for slot in sorted(wanted):
            gid, row = self.where.get(slot, (0, -1))
            group = self.groups[gid]
            if group is not None:
                group.show.append((row, slot))


class BatchTape:
    """A per-sample tape replayed over a batch with NumPy arrays.

    Args:
        per_sample: builds one sample's loss (a Value) from a list of input Values, or returns
            ``(loss, watched)``: then after each run ``self.watched`` holds, for each watched
            Value (say the model's score), a NumPy array of its value for every sample.
        params: the parameters (leaves) whose gradients ``run`` accumulates.
        example: one sample's inputs, used to record the graph.
        regularizer: optional; builds a loss term of the parameters alone, such as
            ``lambda: 1e-4 * sum((p * p for p in params), Value(0.0))``. It is added once per
            batch (not per sample, not averaged) and replayed as a compiled scalar
            :class:`~autograd.compiled.Tape`.
    """

    def __init__(self, per_sample: Callable[[list[Value]], Value | tuple[Value, Sequence[Value]]],
                 params: Sequence[Value],
                 example: Sequence[float], regularizer: Callable[[], Value] | None = None) -> None:
        self.np = _numpy()
        self.params = list(params)
        self.inputs = [Value(x) for x in example]
        self.tape = Tape(lambda: per_sample(self.inputs), [*self.params, *self.inputs], codegen=False)
        self.n_inputs = len(self.inputs)
        self._plan = _Plan(self.np, self.tape, len(self.params), self.n_inputs)
        self._leaves = self.np.array(self.tape._init, dtype=self.np.float64)
        self.regularizer = None if regularizer is None else Tape(regularizer, self.params, codegen=True)
        self.watched: list[Any] = []

    def run(self, batch: Sequence[Sequence[float]], grad: float | None = None) -> float:
        """Replay forward and backward for every sample at once.

        Adds ``grad * d(sum of per-sample losses)/d p`` to each parameter's ``.grad`` (``grad``
        defaults to ``1 / len(batch)``, i.e. the gradient of the mean) and returns the mean loss.
        With a regularizer, its value is added to the returned loss and its gradient (times 1)
        to ``.grad``.
        """
        np = self.np
        X = np.asarray(batch, dtype=np.float64)
        if X.ndim != 2 or X.shape[1] != self.n_inputs:
            raise ValueError(f"BatchTape.run expects a batch of rows with {self.n_inputs} inputs, got shape {X.shape}")
        n = X.shape[0]
        if n == 0:
            raise ValueError("BatchTape.run needs at least one sample")
        scale = 1.0 / n if grad is None else float(grad)
        params = self.params
        data = [p.data for p in params]
        with np.errstate(all="ignore"):
            loss, totals = self._replay(np, X, n, scale, data)
        if self.regularizer is not None:  # its compiled kernel, on the same parameter values
            kernel = self.regularizer._kernel
            assert kernel is not None
            extra, extra_grads, _ = kernel(data, 1.0)
            loss += extra
            totals += np.asarray(extra_grads, dtype=np.float64)
        for param, g in zip(params, totals.tolist()):
            param.grad = param.grad + g
        return loss

    def describe(self) -> str:
        """The replay plan, one line per step of the forward pass (backward runs it in reverse)::

            16 x dot  -> one matrix product: weights (16, 2) @ inputs (2, batch) + biases
            16 x relu -> one array op on (16, batch)
            ...
            neg       -> one op on per-sample arrays
        """
        lines = []
        for item in self._plan.items:
            if isinstance(item, int):
                kind, _, _, _, extra = self._plan.singles[item]
                name = extra.name if kind in (UNARY, CUSTOM) else KIND_NAMES[kind]
                lines.append(f"{name:9} -> one op on per-sample arrays")
            elif item.kind == DOT:
                m, k = item.weights.shape
                bias = " + biases" if item.biases is not None else ""
                label = f"{m} x dot"
                lines.append(f"{label:9} -> one matrix product: weights ({m}, {k}) @ inputs ({k}, batch){bias}")
            else:
                label = f"{len(item.outs)} x {item.op.name}"
                lines.append(f"{label:9} -> one array op on ({len(item.outs)}, batch)")
        return "\n".join(lines)

    def _replay(self, np: Any, X: Any, n: int, scale: float, data: list[float]) -> tuple[float, Any]:
        """The batch's mean loss and each parameter's gradient (an array), not yet applied."""
        plan, tape = self._plan, self.tape
        n_params = len(self.params)
        leaves = self._leaves.copy()
        leaves[:n_params] = data
        vals: list[Any] = list(tape._init)
        vals[:n_params] = data
        inputs = np.ascontiguousarray(X.T)
        mats: list[Any] = [inputs] + [None] * (len(plan.groups) - 1)
        for j in range(self.n_inputs):
            vals[n_params + j] = inputs[j]
        saved: dict[int, tuple[Any, ...]] = {}  # what each item's backward needs

        def read(gather: Gather) -> Any:
            if gather[0] == "rows":
                return mats[gather[1]][gather[2]:gather[3]]
            return np.stack([vals[s] for s in gather[1]])

        for item in plan.items:
            if isinstance(item, int):
                kind, o, ps, c, extra = plan.singles[item]
                vals[o], saved[item] = arrayops.step(np, kind, ps, c, extra, vals)
                continue
            if item.kind == DOT:
                W, xs = leaves[item.weights], read(item.reads)
                out = W @ xs
                if item.biases is not None:
                    out += leaves[item.biases][:, None]
                saved[-item.gid] = (W, xs)
            else:
                out, (local,) = arrayops.unary(np, item.op, read(item.reads))
                saved[-item.gid] = (local,)
            mats[item.gid] = out
            for row, slot in item.show:
                vals[slot] = out[row]

        # backward: matrices of gradients for groups, per-slot arrays (or floats) for the rest
        needs, where = plan.needs, plan.where
        gmats: list[Any] = [None] * len(plan.groups)
        grads: list[Any] = [0.0] * len(vals)
        scattered = np.zeros(len(vals))  # gradients of weights and biases from layer products

        def grad_rows(gid: int, rows: int) -> Any:
            if gmats[gid] is None:
                gmats[gid] = np.zeros((rows, n))
            return gmats[gid]

        def add(slot: int, contribution: Any) -> None:
            if not needs[slot]:
                return
            located = where.get(slot)
            if located is None:
                grads[slot] = grads[slot] + contribution
            else:
                group = plan.groups[located[0]]
                assert group is not None
                grad_rows(group.gid, len(group.outs))[located[1]] += contribution

        def add_read(gather: Gather, contribution: Any) -> None:
            if gather[0] == "rows":
                group = plan.groups[gather[1]]
                if group is not None:  # the inputs (group 0) take no gradient
                    grad_rows(group.gid, len(group.outs))[gather[2]:gather[3]] += contribution
            else:
                for i, slot in enumerate(gather[1]):
                    add(slot, contribution[i])

        out = tape._out
        if out in where:
            gid, row = where[out]
            group = plan.groups[gid]
            assert group is not None
            grad_rows(gid, len(group.outs))[row] = scale
        else:
            grads[out] = np.full(n, scale)
        for item in reversed(plan.items):
            if isinstance(item, int):
                _, o, ps, _, _ = plan.singles[item]
                if needs[o]:
                    g = grads[o]
                    for slot, local in zip(ps, saved[item]):
                        add(slot, local * g)
                continue
            G = gmats[item.gid]
            if G is None:  # no gradient reaches this group (it leads to no parameter)
                continue
            if item.kind == DOT:
                W, xs = saved[-item.gid]
                if item.unique:
                    scattered[item.weights] += G @ xs.T
                    if item.biases is not None:
                        scattered[item.biases] += G.sum(axis=1)
                else:
                    np.add.at(scattered, item.weights, G @ xs.T)
                    if item.biases is not None:
                        np.add.at(scattered, item.biases, G.sum(axis=1))
                if item.needs_input_grad:
                    add_read(item.reads, W.T @ G)
            elif item.needs_input_grad:
                add_read(item.reads, saved[-item.gid][0] * G)
        totals = scattered[:n_params]
        for i in plan.params_used_one_by_one:
            g = grads[i]
            totals[i] += g if isinstance(g, float) else np.sum(g)
        loss = mats[where[out][0]][where[out][1]] if out in where else vals[out]
        self.watched = [vals[i] if np.ndim(vals[i]) else np.full(n, float(vals[i])) for i in tape._watched]
        return (float(np.mean(loss)) if np.ndim(loss) else float(loss)), totals
