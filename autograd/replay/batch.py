"""Vectorised replay: one recorded per-sample program, replayed across a whole batch with arrays.

``BatchTape(per_sample, params, example)`` records the graph of *one* sample's loss (its inputs
are the Values passed to ``per_sample``), then ``run(batch)`` replays it for the whole batch at
once: every value that depends on the inputs becomes an array with one entry per sample, and the
parameters' gradients are summed over the batch. The mean loss and its gradients equal the scalar
path's to about 1e-15 relative (only the order of sums differs)::

    def per_sample(v):                       # v = [x1, x2, label]
        return (1 + -v[2] * model(v[:2])).relu()

    tape = BatchTape(per_sample, model.parameters(), example=[0.0, 0.0, 1.0])
    model.zero_grad()
    mean_loss = tape.run([[x1, x2, label] for (x1, x2), label in zip(X, y)])

Before replaying, the program is *planned*: instructions are sorted into levels (an op's level is
one more than its parents'), and within a level the ops that can run as one array operation are
grouped. Neurons of a layer (``dot`` ops over the same inputs with parameter weights) become one
matrix product for the whole layer and batch (a :class:`Layer`), and the same one-input op on
many rows one array op (a :class:`Rows` group); the rest (a loss's few ops, anything unusual)
runs op by op on per-sample arrays. So W1's replay is a few dozen array calls however wide the
layers are.

Every op is run from its record in ``autograd.ops``: ``array_forward`` and the rule (or
``array_local_grads``); a user op without array forms is applied entry by entry with its float
forms. The same limits as :class:`~autograd.replay.tape.Tape` apply: plain numbers computed from
``.data`` are baked in as constants, so everything that differs between samples must be an input.

**Backends.** Every array operation of the replay goes through one array namespace
(:func:`autograd.replay.arrays.make_namespace`), so the same plan runs on NumPy (the default) or on
PyTorch tensors, on the CPU or a CUDA GPU, in float64 (the default) or float32::

    tape = BatchTape(per_sample, params, example, backend="torch", device="cuda", dtype="float32")

NumPy is always needed (``pip install "valuegrad[fast]"``; the planner's bookkeeping uses it) and
PyTorch for ``backend="torch"`` (``pip install "valuegrad[torch]"``); both are imported only when
a BatchTape asks for them. On the CPU in float64 both backends give the same numbers to rounding
(the tests hold them to 1e-12). A user op's array forms are called with the backend's arrays
(``array_forward=torch.sin`` for tensors); forms that are NumPy functions (``numpy.sin``) run on
host copies under the torch backend, and an op without array forms runs entry by entry on the host.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from autograd._extras import install_hint
from autograd.ops import DOT, Primitive
from autograd.replay.arrays import make_namespace
from autograd.replay.program import Instruction, Program, SlotKind
from autograd.replay.tape import SampleRecording, Tape
from autograd.show.text import primitive_text
from autograd.value import Value

__all__ = ["BatchTape", "Layer", "Plan", "RowSlice", "Rows", "Stacked"]


def _numpy() -> Any:
    """The NumPy module (the planner's index bookkeeping), or an ImportError saying how to get it."""
    try:
        import numpy
    except ImportError:
        raise ImportError(f"BatchTape needs NumPy: {install_hint('numpy')}") from None
    return numpy


class RowSlice(NamedTuple):
    """Rows ``start:stop`` of an earlier group's matrix (group 0 is the batch of inputs)."""

    group: int
    start: int
    stop: int


class Stacked(NamedTuple):
    """Slots' per-sample arrays stacked into a matrix, one row per slot."""

    slots: tuple[int, ...]


Read = RowSlice | Stacked


@dataclass
class Layer:
    """The ``dot`` ops of one layer as one matrix product: ``weights @ inputs + biases``."""

    gid: int
    outs: list[int]
    reads: Read  # the k inputs shared by every neuron
    needs_input_grad: bool
    weights: Any  # (m, k) slots of the weights
    biases: Any  # (m,) slots of the biases, or None
    unique: bool  # no slot repeats among weights and biases (plain += scatters)
    shown: list[tuple[int, int]] = field(default_factory=list)  # (row, slot) wanted as arrays


@dataclass
class Rows:
    """The same one-input op (and constant) on many rows, as one array op."""

    gid: int
    outs: list[int]
    reads: Read  # one row per output
    needs_input_grad: bool
    primitive: Primitive
    const: float | None
    shown: list[tuple[int, int]] = field(default_factory=list)


Group = Layer | Rows


class Plan:
    """Levels and groups of a per-sample program (see the module docstring)."""

    def __init__(self, np: Any, program: Program) -> None:
        n_params, n_inputs, code = program.n_params, program.n_inputs, program.code
        kinds = program.kinds()
        n_slots = len(kinds)
        batch = [n_params <= i < n_params + n_inputs for i in range(n_slots)]
        needs = [i < n_params for i in range(n_slots)]
        level = [0] * n_slots
        for ins in code:
            batch[ins.out] = any(batch[p] for p in ins.inputs)
            needs[ins.out] = any(needs[p] for p in ins.inputs)
            level[ins.out] = 1 + max(level[p] for p in ins.inputs)
        self.needs = needs
        # inputs are rows of group 0; group outputs are located by (group, row)
        self.where: dict[int, tuple[int, int]] = {n_params + j: (0, j) for j in range(n_inputs)}
        self.groups: list[Group | None] = [None]  # gid -> group (0 is the inputs)
        self.items: list[Group | Instruction] = []  # groups and single instructions, parents first
        buckets: dict[tuple[Any, ...], list[Instruction]] = {}
        place: dict[tuple[Any, ...], tuple[int, int]] = {}  # a group runs at its level, where its first op was
        for index, ins in enumerate(code):
            key = self._key(ins, level, batch, kinds)
            if key not in buckets:
                buckets[key] = []
                place[key] = (level[ins.out], index)
            buckets[key].append(ins)
        for key in sorted(buckets, key=place.__getitem__):
            members = buckets[key]
            if key[0] == "one" or (key[0] == "rows" and len(members) == 1):
                self.items.extend(members)
            elif key[0] == "layer":
                self.items.append(self._layer(np, key, members))
            else:
                self.items.append(self._rows(members))
        singles = [item for item in self.items if isinstance(item, Instruction)]
        used = {p for ins in singles for p in ins.inputs}
        self.params_used_one_by_one = sorted(p for p in used if p < n_params)
        # parameters a replay reads as single values: by op-by-op instructions, watched, the loss
        read = {*self.params_used_one_by_one, *program.watched, program.out}
        self.params_read = sorted(p for p in read if p < n_params)
        # an op-by-op instruction's inputs that are consecutive rows of a group's matrix (a
        # logsumexp over a layer's outputs): backward adds their gradients as one block
        self.row_runs: dict[int, list[tuple[int, int, RowSlice]]] = {}
        for ins in singles:
            runs = self._row_runs(ins.inputs)
            if runs:
                self.row_runs[ins.out] = runs
        self._show_rows(singles, program.watched)

    @staticmethod
    def _key(ins: Instruction, level: list[int], batch: list[bool], kinds: list[SlotKind]) -> tuple[Any, ...]:
        """Which group an instruction joins: ``('layer', ...)``, ``('rows', ...)`` or its own."""
        prim, ps = ins.primitive, ins.inputs
        if prim is DOT:
            pairs = 2 * (len(ps) // 2)  # (w0, x0, w1, x1, ...), then the bias if any
            ws, xs = ps[0:pairs:2], ps[1:pairs:2]
            has_bias = len(ps) % 2 == 1
            shared = [*ws, ps[-1]] if has_bias else list(ws)
            if xs and all(kinds[s] is not SlotKind.COMPUTED and not batch[s] for s in shared) and all(
                batch[x] for x in xs
            ):
                return ("layer", level[ins.out], xs, has_bias)
        elif prim.arity == 1 and batch[ps[0]]:
            return ("rows", level[ins.out], prim.name, repr(ins.const))
        return ("one", level[ins.out], ins.out)

    def _layer(self, np: Any, key: tuple[Any, ...], members: list[Instruction]) -> Layer:
        gid = len(self.groups)
        xs, has_bias = key[2], key[3]
        pairs = 2 * len(xs)
        weights = np.array([ins.inputs[0:pairs:2] for ins in members], dtype=np.intp).reshape(len(members), -1)
        biases = np.array([ins.inputs[-1] for ins in members], dtype=np.intp) if has_bias else None
        leaves = [*weights.ravel().tolist(), *(biases.tolist() if biases is not None else [])]
        group = Layer(gid, [ins.out for ins in members], self._reads(list(xs)), any(self.needs[x] for x in xs),
                      weights=weights, biases=biases, unique=len(set(leaves)) == len(leaves))
        self._add(group)
        return group

    def _rows(self, members: list[Instruction]) -> Rows:
        parents = [ins.inputs[0] for ins in members]
        group = Rows(len(self.groups), [ins.out for ins in members], self._reads(parents),
                     any(self.needs[p] for p in parents), members[0].primitive, members[0].const)
        self._add(group)
        return group

    def _add(self, group: Group) -> None:
        self.groups.append(group)
        for row, o in enumerate(group.outs):
            self.where[o] = (group.gid, row)

    def _reads(self, slots: list[int]) -> Read:
        located = [self.where.get(s) for s in slots]
        first = located[0]
        if first is not None and all(loc == (first[0], first[1] + i) for i, loc in enumerate(located)):
            return RowSlice(first[0], first[1], first[1] + len(slots))
        return Stacked(tuple(slots))

    def _row_runs(self, inputs: tuple[int, ...]) -> list[tuple[int, int, RowSlice]]:
        """``(a, b, rows)``: ``inputs[a:b]`` (two or more) are the consecutive ``rows`` of a
        computed group, every one taking a gradient."""
        runs: list[tuple[int, int, RowSlice]] = []
        a = 0
        while a < len(inputs):
            first = self.where.get(inputs[a])
            b = a + 1
            if first is not None and first[0] != 0 and self.needs[inputs[a]]:
                while (b < len(inputs) and self.needs[inputs[b]]
                       and self.where.get(inputs[b]) == (first[0], first[1] + b - a)):
                    b += 1
                if b - a > 1:
                    runs.append((a, b, RowSlice(first[0], first[1], first[1] + b - a)))
            a = b
        return runs

    def _show_rows(self, singles: list[Instruction], watched: list[int]) -> None:
        """Rows of group matrices needed as arrays: by an op-by-op instruction, a stacked read, or
        the caller (watched values)."""
        wanted: set[int] = set(watched)
        for ins in singles:
            wanted.update(ins.inputs)
        for group in self.groups[1:]:
            assert group is not None
            if isinstance(group.reads, Stacked):
                wanted.update(group.reads.slots)
        for slot in sorted(wanted):
            gid, row = self.where.get(slot, (0, -1))
            group = self.groups[gid]
            if group is not None:
                group.shown.append((row, slot))


def _foreign(xp: Any, prim: Primitive) -> bool:
    """A user op whose array forms are written for another library than the replay's (NumPy
    functions on the torch backend): they run on host copies (``xp.on_host``)."""
    return not prim.builtin and prim.array_forward is not None and not xp.native(prim.array_forward)


def _array_forward(xp: Any, prim: Primitive, args: list[Any]) -> Any:
    if prim.array_forward is not None:
        if _foreign(xp, prim):
            return xp.on_host(prim.array_forward, *args)
        return prim.array_forward(*args)
    return xp.elementwise(prim.forward, *args)


def _array_local_grads(xp: Any, prim: Primitive, args: list[Any], out: Any) -> tuple[Any, ...]:
    rule = prim.array_local_grads
    if rule is not None:
        if _foreign(xp, prim):
            return tuple(xp.on_host(lambda *a: tuple(rule(*a)), *args, out))
        return rule(*args, out)
    if prim.builtin:  # built-in rules are written with helpers that take arrays
        return tuple(prim.local_grads(*args, out))
    n = prim.arity or len(args)  # a user op without array forms: its float rule, entry by entry
    return tuple(xp.elementwise(lambda *a, i=i: prim.local_grads(*a)[i], *args, out) for i in range(n))


def apply(xp: Any, prim: Primitive, args: list[Any]) -> tuple[Any, tuple[Any, ...]]:
    """One op on floats or arrays: ``(output, local gradients)`` from the op's record. With an
    array among the operands, the float operands are first made ready to mix with arrays by the
    namespace ``xp`` (``xp.lift``: PyTorch's become 0-d tensors; a folded constant stays a float)."""
    if all(isinstance(a, float) for a in args):
        return prim.evaluate(args)
    n = len(args) - 1 if prim.folds_constant else len(args)
    args = [*xp.lift(args[:n]), *args[n:]]
    out = _array_forward(xp, prim, args)
    return out, _array_local_grads(xp, prim, args, out)


class BatchTape(SampleRecording):
    """A per-sample tape replayed over a batch with arrays: NumPy's or PyTorch's.

    Args:
        per_sample: builds one sample's loss (a Value) from a list of input Values, or returns
            ``(loss, watched)``: then after each run ``self.watched`` holds, for each watched
            Value (say the model's score), a NumPy array of its value for every sample.
        params: the parameters (leaves) whose gradients ``run`` accumulates.
        example: one sample's inputs, used to record the graph.
        regularizer: optional; builds a loss term of the parameters alone, such as
            ``lambda: 1e-4 * sum((p * p for p in params), Value(0.0))``. It is added once per
            batch (not per sample, not averaged) and replayed as a compiled scalar
            :class:`~autograd.replay.tape.Tape`.
        backend: ``'numpy'`` (the default) or ``'torch'`` (PyTorch tensors; ``pip install
            "valuegrad[torch]"``). Both run the same plan through the same code.
        device: where the torch backend computes: ``'cpu'`` (``None``, the default), ``'cuda'``
            or ``'cuda:N'``. Asking for CUDA where PyTorch sees no GPU is a ``ValueError``; the
            NumPy backend takes only ``None`` or ``'cpu'``.
        dtype: ``'float64'`` (``None``, the default: the scalar path's numbers to rounding) or
            ``'float32'`` (parameters, inputs and every array in float32; the regularizer stays a
            float64 scalar tape).
        allow_data_reads: record ``per_sample`` even if it reads numbers of the graph in Python
            (see :class:`~autograd.replay.tape.Tape`); by default such a read raises
            :class:`~autograd.replay.tape.TapeMismatchError` when recording.

    Attributes:
        backend, device, dtype: what the replay runs on, as strings (``'cuda:0'``, say).
        xp: the array namespace (:func:`autograd.replay.arrays.make_namespace`) every array operation
            goes through.

    Raises:
        ValueError: an unknown backend, device or dtype, or a CUDA device without a GPU.
        ImportError: NumPy is missing, or PyTorch for ``backend='torch'``.
    """

    def __init__(self, per_sample: Callable[[list[Value]], Value | tuple[Value, Sequence[Value]]],
                 params: Sequence[Value],
                 example: Sequence[float], regularizer: Callable[[], Value] | None = None, *,
                 backend: str = "numpy", device: str | None = None, dtype: str | None = None,
                 allow_data_reads: bool = False) -> None:
        self.np = _numpy()
        self.xp = make_namespace(backend, dtype=dtype, device=device)
        self.backend: str = self.xp.name
        self.device: str = self.xp.device
        self.dtype: str = self.xp.dtype
        super().__init__(per_sample, params, example, allow_data_reads=allow_data_reads)
        self.plan = Plan(self.np, self.program)
        xp = self.xp
        self._leaves = xp.asarray(self.program.init)
        # the planner's slot numbers as the backend's index arrays (on the device), made once
        self._indices: dict[int, tuple[Any, Any]] = {
            item.gid: (xp.index(item.weights), None if item.biases is None else xp.index(item.biases))
            for item in self.plan.items if isinstance(item, Layer)
        }
        self.regularizer = None if regularizer is None else Tape(regularizer, self.params, codegen=True,
                                                                  allow_data_reads=allow_data_reads)
        self.watched: list[Any] = []

    def run(self, batch: Sequence[Sequence[float]], grad: float | None = None) -> float:
        """Replay forward and backward for every sample at once.

        The first run checks the recording on a row of the batch that differs from the example
        (:meth:`verify`) and raises :class:`~autograd.replay.tape.TapeMismatchError` if the per-sample
        graph depends on the sample, instead of returning wrong numbers.

        Adds ``grad * d(sum of per-sample losses)/d p`` to each parameter's ``.grad`` (``grad``
        defaults to ``1 / len(batch)``, i.e. the gradient of the mean) and returns the mean loss.
        With a regularizer, its value is added to the returned loss and its gradient (times 1)
        to ``.grad``. Whatever the backend, the loss and ``.grad`` are Python floats and
        ``self.watched`` holds NumPy arrays.
        """
        params = self.params
        loss, totals = self.run_values(batch, [p.data for p in params], grad)
        for param, g in zip(params, totals.tolist()):
            param.grad = param.grad + g
        return loss

    def run_values(self, batch: Sequence[Sequence[float]] | Any, values: Sequence[float] | Any,
                   grad: float | None = None) -> tuple[float, Any]:
        """:meth:`run` on given parameter values, touching no Value: returns the mean loss (plus the
        regularizer) and every parameter's gradient as a NumPy float64 array. ``nn.train``
        keeps a vectorised run's parameters in arrays this way between its steps.

        ``batch`` may be a list of rows or a 2-D NumPy array of shape ``(n, n_inputs)``, and
        ``values`` a list of floats or a 1-D NumPy array (one entry per parameter): arrays are
        used as they are, without a round trip through Python floats."""
        xp, np = self.xp, self.np
        X, data = self._checked(batch, values, "BatchTape.run")
        n = X.shape[0]
        scale = 1.0 / n if grad is None else float(grad)
        with xp.errstate():
            replay = _Replay(self, X, data)
            replay.forward()
            totals = replay.backward(scale)
            loss = replay.loss()
            self.watched = replay.watched()
        if self.regularizer is not None:  # its compiled kernel, on the same parameter values
            extra, extra_grads, _ = self.regularizer.compile()(data.tolist(), 1.0)
            loss += extra
            if extra_grads:
                totals += xp.asarray(extra_grads)
        return loss, np.asarray(xp.to_numpy(totals), dtype=np.float64)

    def _checked(self, batch: Sequence[Sequence[float]] | Any, values: Sequence[float] | Any,
                 what: str) -> tuple[Any, Any]:
        """The batch as a matrix and the parameter values as a vector, checked; before the first
        run, the recording checked on a second row; before every run, its ops still the registry's."""
        X = _as_matrix(self.np, batch, self.n_inputs)
        if self.verified:
            self._ops.check(self.program)
        else:
            self.verify_once(X.tolist())
        if X.shape[0] == 0:
            raise ValueError(f"{what} needs at least one sample")
        return X, _as_vector(self.np, values, len(self.params))

    def forward_values(self, batch: Sequence[Sequence[float]] | Any, values: Sequence[float] | Any) -> float:
        """The forward half of :meth:`run_values`: the mean loss (plus the regularizer) on given
        parameter values, with ``self.watched`` set, and no gradients (evaluating a held-out set
        costs a forward pass, not a step)."""
        xp = self.xp
        X, data = self._checked(batch, values, "BatchTape.forward_values")
        with xp.errstate():
            replay = _Replay(self, X, data)
            replay.forward()
            loss = replay.loss()
            self.watched = replay.watched()
        if self.regularizer is not None:
            loss += self.regularizer.compile()(data.tolist(), 1.0)[0]
        return float(loss)

    def describe(self) -> str:
        """The replay plan, one line per step of the forward pass (backward runs it in reverse)::

            16 x dot  -> one matrix product: weights (16, 2) @ inputs (2, batch) + biases
            16 x relu -> one array op on (16, batch)
            ...
            neg       -> one op on per-sample arrays
        """
        lines = []
        for item in self.plan.items:
            if isinstance(item, Instruction):
                lines.append(f"{primitive_text(item.primitive, item.const):9} -> one op on per-sample arrays")
            elif isinstance(item, Layer):
                m, k = item.weights.shape
                bias = " + biases" if item.biases is not None else ""
                label = f"{m} x dot"
                lines.append(f"{label:9} -> one matrix product: weights ({m}, {k}) @ inputs ({k}, batch){bias}")
            else:
                label = f"{len(item.outs)} x {primitive_text(item.primitive, item.const)}"
                lines.append(f"{label:9} -> one array op on ({len(item.outs)}, batch)")
        return "\n".join(lines)


def _as_matrix(np: Any, batch: Sequence[Sequence[float]] | Any, n_inputs: int) -> Any:
    """The batch as an (n, n_inputs) float64 NumPy matrix on the host (whatever the backend: it is
    read from Python numbers or a NumPy array), or a ValueError saying what is wrong."""
    if isinstance(batch, np.ndarray):
        if batch.ndim != 2 or batch.shape[1] != n_inputs:
            raise ValueError(f"BatchTape.run expects a batch of shape (n, {n_inputs}), got an array of shape "
                             f"{batch.shape}")
        if batch.dtype.kind not in "fiub":
            raise ValueError(f"BatchTape.run: the batch must hold numbers only, got an array of dtype {batch.dtype}")
        return np.asarray(batch, dtype=np.float64)
    rows = list(batch)
    for i, row in enumerate(rows):
        if isinstance(row, (str, bytes)) or not hasattr(row, "__len__"):
            raise ValueError(f"BatchTape.run: row {i} must be a list of {n_inputs} numbers, got {type(row).__name__}")
        if len(row) != n_inputs:
            raise ValueError(f"BatchTape.run expects a batch of rows with {n_inputs} inputs; row {i} has {len(row)}")
    try:
        X = np.asarray(rows, dtype=np.float64).reshape(len(rows), n_inputs)
    except (TypeError, ValueError) as e:
        raise ValueError(f"BatchTape.run: the batch must hold numbers only ({e})") from None
    return X


def _as_vector(np: Any, values: Sequence[float] | Any, n: int) -> Any:
    """The parameter values as a 1-d float64 NumPy array of length ``n``, or a ValueError."""
    try:
        data = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as e:
        raise ValueError(f"BatchTape.run_values: parameter values must be numbers ({e})") from None
    if data.shape != (n,):
        got = f"{data.shape[0]}" if data.ndim == 1 else f"an array of shape {data.shape}"
        raise ValueError(f"BatchTape.run_values needs {n} parameter values, got {got}")
    return data


class _Replay:
    """One run of a plan over a batch: the forward values, what backward needs, the gradients.

    Every array operation goes through the tape's namespace ``xp`` (or is an operator that NumPy
    arrays and tensors share: ``+ - * @``, ``.T``, slicing and indexing), so NumPy and PyTorch run
    this same code."""

    def __init__(self, tape: BatchTape, X: Any, data: Any) -> None:
        xp = tape.xp
        self.tape, self.xp, self.plan = tape, xp, tape.plan
        program = tape.program
        self.n = X.shape[0]
        n_params = program.n_params
        self.leaves = xp.copy(tape._leaves)
        if n_params:
            self.leaves[:n_params] = xp.asarray(data)
        self.vals: list[Any] = list(program.init)
        for i in self.plan.params_read:  # the rest are read from ``leaves`` by layer products
            self.vals[i] = float(data[i])
        inputs = xp.asarray(X.T)  # (n_inputs, n), each input's row contiguous
        self.mats: list[Any] = [inputs] + [None] * (len(self.plan.groups) - 1)
        for j in range(tape.n_inputs):
            self.vals[n_params + j] = inputs[j]
        self.saved: list[tuple[Any, ...]] = []  # per plan item: what its backward needs
        self.gmats: list[Any] = [None] * len(self.plan.groups)
        self.grads: list[Any] = [0.0] * len(self.vals)

    def read(self, read: Read) -> Any:
        if isinstance(read, RowSlice):
            return self.mats[read.group][read.start:read.stop]
        return self.xp.stack([self.vals[s] for s in read.slots])

    def forward(self) -> None:
        vals, xp, indices = self.vals, self.xp, self.tape._indices
        for item in self.plan.items:
            if isinstance(item, Instruction):
                vals[item.out], local = apply(xp, item.primitive, item.args(vals))
                self.saved.append(local)
                continue
            if isinstance(item, Layer):
                weights, biases = indices[item.gid]
                W, xs = xp.take(self.leaves, weights), self.read(item.reads)
                out = W @ xs
                if biases is not None:
                    out += xp.take(self.leaves, biases)[:, None]
                self.saved.append((W, xs))
            else:
                args = [self.read(item.reads)] + ([item.const] if item.primitive.folds_constant else [])
                out = _array_forward(xp, item.primitive, args)
                self.saved.append(_array_local_grads(xp, item.primitive, args, out))
            self.mats[item.gid] = out
            for row, slot in item.shown:
                vals[slot] = out[row]

    def loss(self) -> float:
        out = self.tape.program.out
        where = self.plan.where
        loss = self.mats[where[out][0]][where[out][1]] if out in where else self.vals[out]
        xp = self.xp
        return xp.mean(loss) if xp.ndim(loss) else float(loss)

    def watched(self) -> list[Any]:
        """The watched values for every sample, as NumPy arrays on the host."""
        xp, n = self.xp, self.n
        return [xp.to_numpy(self.vals[i] if xp.ndim(self.vals[i]) else xp.full(n, float(self.vals[i])))
                for i in self.tape.program.watched]

    # backward: matrices of gradients for groups, per-slot arrays (or floats) for the rest

    def _grad_rows(self, gid: int) -> Any:
        if self.gmats[gid] is None:
            group = self.plan.groups[gid]
            assert group is not None
            self.gmats[gid] = self.xp.zeros((len(group.outs), self.n))
        return self.gmats[gid]

    def _add(self, slot: int, contribution: Any) -> None:
        if not self.plan.needs[slot]:
            return
        located = self.plan.where.get(slot)
        if located is None:
            self.grads[slot] = self.grads[slot] + contribution
        else:
            self._grad_rows(located[0])[located[1]] += contribution

    def _add_read(self, read: Read, contribution: Any) -> None:
        if isinstance(read, RowSlice):
            if read.group != 0:  # the inputs (group 0) take no gradient
                self._grad_rows(read.group)[read.start:read.stop] += contribution
        else:
            for i, slot in enumerate(read.slots):
                self._add(slot, contribution[i])

    def _back_instruction(self, ins: Instruction, saved: tuple[Any, ...]) -> None:
        """Gradients of one op-by-op instruction's inputs: slot by slot, or a block of rows at once
        for inputs that are consecutive rows of a group (when their partials are alike arrays)."""
        g, xp = self.grads[ins.out], self.xp
        done = 0
        for a, b, rows in self.plan.row_runs.get(ins.out, ()):
            locals_ = saved[a:b]
            if not all(getattr(local, "ndim", 0) == 1 for local in locals_):
                continue  # a float partial among them: slot by slot below
            for slot, local in zip(ins.inputs[done:a], saved[done:a]):
                self._add(slot, local * g)
            self._grad_rows(rows.group)[rows.start:rows.stop] += xp.stack(locals_) * g
            done = b
        for slot, local in zip(ins.inputs[done:], saved[done:]):
            self._add(slot, local * g)

    def backward(self, scale: float) -> Any:
        """Each parameter's gradient, ``scale`` times d(sum of losses)/d p, as an array."""
        xp, plan, indices = self.xp, self.plan, self.tape._indices
        program = self.tape.program
        out = program.out
        if out in plan.where:
            gid, row = plan.where[out]
            self._grad_rows(gid)[row] = scale
        else:
            self.grads[out] = xp.full(self.n, scale)
        scattered = xp.zeros(len(self.vals))  # gradients of weights and biases from layer products
        for item, saved in zip(reversed(plan.items), reversed(self.saved)):
            if isinstance(item, Instruction):
                if plan.needs[item.out]:
                    self._back_instruction(item, saved)
                continue
            G = self.gmats[item.gid]
            if G is None:  # no gradient reaches this group (it leads to no parameter)
                continue
            if isinstance(item, Layer):
                W, xs = saved
                weights, biases = indices[item.gid]
                xp.add_at(scattered, weights, G @ xs.T, item.unique)
                if biases is not None:
                    xp.add_at(scattered, biases, xp.sum(G, axis=1), item.unique)
                if item.needs_input_grad:
                    self._add_read(item.reads, W.T @ G)
            elif item.needs_input_grad:
                self._add_read(item.reads, saved[0] * G)
        totals = scattered[:program.n_params]
        for i in plan.params_used_one_by_one:
            g = self.grads[i]
            totals[i] += g if isinstance(g, float) else xp.sum(g)
        return totals
