"""The training loop behind ``valuegrad train``: one function, usable from Python too.

Three paths run the same steps: building graphs (``'graph'``), replaying one sample's compiled
program over each batch (``'compiled'``, ``autograd.replay.tape.SampleTape``), and replaying it with
NumPy arrays (``'vectorized'``, ``autograd.replay.batch.BatchTape``). They draw the same batches and
give the same losses and gradients to rounding.
"""

from __future__ import annotations

import math
import random
import signal
import sys
import threading
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from types import FrameType, TracebackType
from typing import Any, NamedTuple, cast

from autograd import Value, gc_relaxed, no_grad
from nn.layers import MLP
from nn.losses import (
    accuracy,
    bce_term,
    bce_with_logits,
    cross_entropy,
    cross_entropy_term,
    hinge_loss,
    hinge_term,
    mse_loss,
    mse_term,
    predict_class,
    signed,
)
from nn.optim import SGD, Adam, Optimizer, micrograd_lr
from nn.text import describe

__all__ = [
    "LOSSES", "HeldOut", "History", "Loss", "Run", "make_optimizer", "predict_classes", "record_replay",
    "threshold_of", "train",
]

HELD_OUT_POINTS = 100
"""Without a callback that picks the steps, ``train(validation=...)`` evaluates the held-out set at
about this many evenly spaced steps (and at the last one)."""


class Loss(NamedTuple):
    """A training loss: its batch form (the graph path), one sample's term (what the compiled and
    vectorised paths record, with the target as an input) and the target a class label becomes."""

    batch: Callable[[list[list[Value]], Sequence[int]], Value]
    term: Callable[[list[Value], Value], Value]
    target: Callable[[int], float]
    multiclass: bool


def _one_output(outputs: list[Value], loss: str) -> Value:
    if len(outputs) != 1:
        raise ValueError(f"the {loss} loss needs a model with one output, got {len(outputs)}")
    return outputs[0]


LOSSES: dict[str, Loss] = {
    "hinge": Loss(lambda outs, y: hinge_loss([_one_output(o, "hinge") for o in outs], [signed(t) for t in y]),
                  lambda outs, t: hinge_term(_one_output(outs, "hinge"), t), signed, False),
    "bce": Loss(lambda outs, y: bce_with_logits([_one_output(o, "bce") for o in outs], [float(t) for t in y]),
                lambda outs, t: bce_term(_one_output(outs, "bce"), t), float, False),
    "cross_entropy": Loss(cross_entropy, cross_entropy_term, float, True),
    "mse": Loss(lambda outs, y: mse_loss([_one_output(o, "mse") for o in outs], [signed(t) for t in y]),
                lambda outs, t: mse_term(_one_output(outs, "mse"), t), signed, False),
}
"""Every loss ``train`` knows, by the name the CLI uses."""


class History:
    """What happened during training: one entry per step.

    ``path`` is how the steps ran: ``'graph'``, ``'compiled'`` or ``'vectorized'``;
    ``fallback`` says why they built graphs when a replay was asked for (None otherwise);
    ``interrupted`` is True when Ctrl-C stopped training after a complete step; ``stopped`` is
    True when ``on_step`` returned True to end training early."""

    # Written out rather than a dataclass: ``dataclasses`` imports ``inspect``, several
    # milliseconds of every ``import nn``. Same constructor, repr and equality as the dataclass.
    _FIELDS = ("loss", "accuracy", "lr", "path", "fallback", "interrupted", "stopped", "val_steps", "val_loss",
               "val_accuracy")
    __hash__ = None  # type: ignore[assignment]  # mutable and compared by value, as a dataclass

    def __init__(self, loss: list[float] | None = None, accuracy: list[float] | None = None,
                 lr: list[float] | None = None, path: str = "graph", fallback: str | None = None,
                 interrupted: bool = False, stopped: bool = False, val_steps: list[int] | None = None,
                 val_loss: list[float] | None = None, val_accuracy: list[float] | None = None) -> None:
        self.loss: list[float] = [] if loss is None else loss
        self.accuracy: list[float] = [] if accuracy is None else accuracy
        self.lr: list[float] = [] if lr is None else lr
        self.path = path
        self.fallback = fallback
        """Why a compiled or vectorised run built graphs instead (the model reads its numbers in Python)."""
        self.interrupted = interrupted
        self.stopped = stopped
        """True when ``on_step`` (or a callback's ``on_step``) returned True to end training early."""
        self.val_steps: list[int] = [] if val_steps is None else val_steps
        """With ``validation=``: the steps (counted from 1) after which the held-out set was evaluated."""
        self.val_loss: list[float] = [] if val_loss is None else val_loss
        """The held-out loss at each of ``val_steps``: the training loss without the L2 term."""
        self.val_accuracy: list[float] = [] if val_accuracy is None else val_accuracy
        """The held-out accuracy at each of ``val_steps``."""

    def __repr__(self) -> str:
        return f"History({', '.join(f'{k}={getattr(self, k)!r}' for k in self._FIELDS)})"

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return all(getattr(self, k) == getattr(other, k) for k in self._FIELDS)

    @property
    def compiled(self) -> bool:
        """True if the steps replayed a compiled per-sample program."""
        return self.path == "compiled"

    @property
    def vectorized(self) -> bool:
        """True if the steps replayed the per-sample program with NumPy arrays."""
        return self.path == "vectorized"

    @property
    def steps(self) -> int:
        """How many steps were completed."""
        return len(self.loss)


class Run:
    """What a callback's ``on_train_begin(run)`` is told about the run that starts, and where
    ``train`` leaves the details of the steps a callback asks for (``wants_step``).

    ``state``, ``grads`` and ``updates`` are flat, in ``keys`` order (``model.state_dict()``'s):
    lists of floats, or float64 NumPy arrays on the vectorised path. They describe step ``step``
    and are ``None`` at the other steps; before ``on_train_end`` they describe the last step."""

    # A plain class (not a dataclass, which would import ``inspect`` with ``import nn``).
    def __init__(self, model: MLP, loss: str, steps: int, l2: float, optimizer: Optimizer, path: str,
                 keys: list[str] | None = None,
                 validation: tuple[Sequence[Sequence[float]], Sequence[int]] | None = None) -> None:
        self.model = model
        self.loss = loss
        """The loss's name, as ``train(loss=...)``."""
        self.steps = steps
        """How many steps the run will take (fewer if it is stopped)."""
        self.l2 = l2
        self.optimizer = optimizer
        self.path = path
        """``'graph'``, ``'compiled'`` or ``'vectorized'``: how the steps run."""
        self.keys: list[str] = [] if keys is None else keys
        """``model.state_dict()``'s keys, the order of ``state``, ``grads`` and ``updates``."""
        self.validation = validation
        """The held-out set given to ``train(validation=...)``, or None."""
        self.step: int | None = None
        """The step (counted from 1) that ``state``, ``grads`` and ``updates`` describe."""
        self.state: Any = None
        """The parameters after step ``step``'s update."""
        self.grads: Any = None
        """The gradient of step ``step``'s loss (L2 term included): each parameter's ``.grad``."""
        self.updates: Any = None
        """What step ``step``'s optimizer update changed: ``state`` minus the parameters before it."""

    def __repr__(self) -> str:
        return f"Run(loss={self.loss!r}, steps={self.steps}, l2={self.l2!r}, path={self.path!r}, step={self.step})"


def _outputs(model: MLP, x: Sequence[Any]) -> list[Value]:
    out = model(x)
    return [out] if isinstance(out, Value) else list(out)


def _l2_term(params: Sequence[Value], l2: float) -> Value:
    """``l2 * sum(p*p)``: the weight penalty of every training step."""
    return l2 * sum((p * p for p in params), Value(0.0))


def _batches(rng: random.Random, n: int, batch_size: int | None, steps: int,
             epochs: int | None) -> Iterator[list[int] | None]:
    """The indices of each step's batch (None: the whole data set); every path draws the same.

    With ``epochs``, each epoch is a fresh permutation cut into consecutive batches; otherwise
    each step draws a random minibatch of ``batch_size``."""
    if batch_size is None or batch_size >= n:
        for _ in range(steps):
            yield None
        return
    if epochs is None:
        for _ in range(steps):
            yield rng.sample(range(n), batch_size)
        return
    for _ in range(epochs):
        order = list(range(n))
        rng.shuffle(order)
        for start in range(0, n, batch_size):
            yield order[start:start + batch_size]


def _accuracy(outputs: Sequence[Sequence[float]], y: Sequence[int], threshold: float) -> float:
    """The batch's accuracy from each sample's outputs, by ``predict_class`` (as ``predict_classes``)."""
    return accuracy([list(o) for o in outputs], y, threshold=threshold)


class _Interrupts:
    """While training (main thread only): the first Ctrl-C asks to stop after the current step, so
    no update is half applied; a second one stops at once (KeyboardInterrupt)."""

    def __init__(self) -> None:
        self.requested = False
        self._previous: Any = None
        self._installed = False

    def __enter__(self) -> _Interrupts:
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.getsignal(signal.SIGINT)
            if self._previous is not signal.SIG_IGN:  # an ignored Ctrl-C (nohup, &) stays ignored
                signal.signal(signal.SIGINT, self._handle)
                self._installed = True
        return self

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self._installed:
            previous = self._previous if self._previous is not None else signal.default_int_handler
            signal.signal(signal.SIGINT, previous)


def train(
    model: MLP,
    X: Sequence[Sequence[float]],
    y: Sequence[int],
    loss: str = "hinge",
    optimizer: Optimizer | None = None,
    steps: int = 100,
    batch_size: int | None = None,
    l2: float = 1e-4,
    seed: int | None = None,
    on_step: Callable[[int, float, float, float], bool | None] | None = None,
    compiled: bool = True,
    vectorized: bool = False,
    epochs: int | None = None,
    backend: str = "numpy",
    device: str | None = None,
    dtype: str | None = None,
    validation: tuple[Sequence[Sequence[float]], Sequence[int]] | None = None,
    callbacks: Sequence[Any] | None = None,
) -> History:
    """Train ``model`` on ``(X, y)``; micrograd's recipe by default.

    Each step: forward on the (mini-)batch, the loss plus ``l2 * sum(p*p)``, zero_grad, backward,
    and an optimizer step. The default optimizer is micrograd's: SGD with learning rate
    ``1.0 - 0.9 * k / steps`` at step ``k``. Binary losses use labels 0/1 (mapped to ±1 for
    hinge and mse); ``'cross_entropy'`` needs one output per class.

    Args:
        X: the feature rows (lists, tuples or ``array('d')`` rows), or one 2-D NumPy array of
            them: a large data set is best given as an array, whose batches are made as they
            are drawn instead of copying every row into Python lists first (the same history).
        y: each row's class index.
        batch_size: minibatches of this size (default: the whole data set every step).
        epochs: with ``batch_size``, train this many passes over the data (each a fresh shuffle
            cut into batches) instead of ``steps`` random minibatches; ``steps`` is then ignored.
        on_step: called after each step with ``(step, loss, accuracy, lr)`` (progress bars); if it
            returns True, training ends after that step (``history.stopped``).
        compiled: record one sample's step once and replay it over every batch through generated
            code (``autograd.replay.tape.SampleTape``; compile time is that of one sample's graph).
            If the model reads its numbers in Python while the step is recorded (an ``if`` on
            ``.data``: a data read, see ``autograd.replay.reads``) or the recording differs on a second
            sample, training builds graphs instead, warns once (``RuntimeWarning``) and says why
            in ``history.fallback``.
        vectorized: replay the recorded sample's step across each batch with NumPy
            (``autograd.replay.batch.BatchTape``; needs ``valuegrad[fast]``): the same losses and
            gradients to about 1e-12, far faster. Falls back to graphs as ``compiled`` does.
        backend: with ``vectorized=True``, the array library of the replay: ``'numpy'`` (the
            default) or ``'torch'`` (PyTorch tensors; needs ``valuegrad[torch]``).
        device: with ``vectorized=True`` and ``backend='torch'``, where the replay computes:
            ``'cpu'`` (``None``, the default), ``'cuda'`` or ``'cuda:N'``; asking for CUDA where
            PyTorch sees no GPU is a ``ValueError``.
        dtype: with ``vectorized=True``, ``'float64'`` (``None``, the default: the other paths'
            losses to rounding) or ``'float32'``.
        validation: a held-out set ``(X_val, y_val)``: its loss (without the L2 term) and accuracy
            are evaluated after the steps a callback's ``wants_step`` picks, else at about
            :data:`HELD_OUT_POINTS` evenly spaced steps, and always after the last one
            (``history.val_steps``, ``val_loss``, ``val_accuracy``).
        callbacks: objects with any of ``on_train_begin(run)`` (a :class:`Run`),
            ``on_step(step, history, model)`` (after each step, counted from 1; returning True
            ends training as ``on_step`` does), ``on_train_end(history, model)`` and
            ``wants_step(step) -> bool``: asked before each step; for a step it wants, ``run.state``,
            ``run.grads`` and ``run.updates`` hold that step's parameters, gradient and update when
            ``on_step`` is called (the held-out set is evaluated there too). An
            ``nn.TrainingView`` is one.

    Returns:
        The loss, accuracy and learning rate of every step; ``history.path`` says how the steps
        ran. A first Ctrl-C (in the main thread) stops after the current step and returns the
        history so far with ``interrupted=True``; a second raises ``KeyboardInterrupt`` at once.
    """
    if loss not in LOSSES:
        raise ValueError(f"unknown loss {loss!r}; expected one of {', '.join(LOSSES)}")
    if not vectorized and (backend != "numpy" or device is not None or dtype is not None):
        raise ValueError("train() backend=, device= and dtype= choose how the vectorized replay runs; use them "
                         f"only with vectorized=True (got backend={backend!r}, device={device!r}, dtype={dtype!r})")
    if len(X) != len(y) or len(X) == 0:
        raise ValueError(f"X and y must be non-empty and of equal length, got {len(X)} and {len(y)}")
    spec = LOSSES[loss]
    rows = _Rows(X, y, spec.target)
    _check_labels(y, loss, model)
    _check_output(loss, model)
    for name, count in (("steps", steps), ("batch_size", batch_size), ("epochs", epochs)):
        if count is not None and (isinstance(count, bool) or not isinstance(count, int) or count < 1):
            raise ValueError(f"train() {name} must be a positive integer, got {count!r}")
    n = len(X)
    if epochs is not None:
        steps = epochs * (math.ceil(n / batch_size) if batch_size is not None and batch_size < n else 1)
    params = model.parameters()
    opt = optimizer if optimizer is not None else SGD(params, lr=micrograd_lr(steps))
    batches = _batches(random.Random(seed), n, batch_size, steps, epochs)
    hooks = _callbacks(callbacks)
    held_out = _validation(validation, loss, model)
    replay, fallback = (_replay(model, loss, rows, params, l2, vectorized, backend=backend, device=device,
                                dtype=dtype) if (compiled or vectorized) else (None, None))
    history = History(path="graph" if replay is None else "vectorized" if vectorized else "compiled",
                      fallback=fallback)
    if fallback is not None:
        warnings.warn(f"train(): {fallback}", RuntimeWarning, stacklevel=2)
    threshold = threshold_of(model)  # the step's accuracy counts classes as predict_classes does
    arrays = _ArraySteps.start(replay, opt, params, rows) if vectorized and replay is not None else None
    run = Run(model, loss, steps, l2, opt, history.path, [name for name, _ in model.named_parameters()],
              None if validation is None else (validation[0], validation[1]))
    pickers = [cb for cb in hooks if callable(getattr(cb, "wants_step", None))]
    step_hooks = [hook for hook in (getattr(cb, "on_step", None) for cb in hooks) if callable(hook)]
    evaluator = HeldOut(model, loss, held_out[0], held_out[1], params) if held_out is not None else None
    every = max(1, math.ceil(steps / HELD_OUT_POINTS))
    for cb in hooks:
        begin = getattr(cb, "on_train_begin", None)
        if callable(begin):
            begin(run)
    before: Any = None
    with gc_relaxed(), _Interrupts() as interrupts:
        for k, idx in enumerate(batches):
            step = k + 1
            wanted = any(bool(cb.wants_step(step)) for cb in pickers)
            yb = y if idx is None else [y[i] for i in idx]
            lr = opt.current_lr()
            if arrays is not None:  # values and gradients stay arrays between replay and optimizer
                before = arrays.values  # step_arrays returns new arrays: this one stays as it is
                value = arrays.step(idx)
                acc = arrays.accuracy(yb, threshold)
            else:
                opt.zero_grad()
                if replay is not None:
                    value = replay.run(rows.batch(idx))
                    outputs: list[list[float]] = [list(o) for o in zip(*replay.watched)]
                else:
                    Xb = rows.inputs(idx)
                    graphs = [_outputs(model, x) for x in Xb]
                    total = spec.batch(graphs, yb)
                    if l2:
                        total = total + _l2_term(params, l2)
                    total.backward()
                    value = total.data
                    outputs = [[v.data for v in o] for o in graphs]
                if pickers:  # the last step's update must be known even when a stop ends the run early
                    before = [p.data for p in params]
                opt.step()
                acc = _accuracy(outputs, yb, threshold)
            stop = _record(history, k, value, acc, lr, on_step)
            if wanted:
                _details(run, step, params, arrays, before)
            elif run.step is not None:
                run.step = run.state = run.grads = run.updates = None
            if evaluator is not None and (wanted if pickers else step % every == 0):
                _evaluate(history, evaluator, step, arrays)
            for hook in step_hooks:
                if hook(step, history, model) is True:
                    history.stopped = stop = True
            if stop:
                break
            if interrupts.requested:
                history.interrupted = True
                break
    if arrays is not None:
        arrays.finish()
    if history.steps:
        last = history.steps
        if run.step != last and pickers:
            _details(run, last, params, arrays, before)
        if evaluator is not None and (not history.val_steps or history.val_steps[-1] != last):
            _evaluate(history, evaluator, last, arrays)
    for cb in hooks:
        end = getattr(cb, "on_train_end", None)
        if callable(end):
            end(history, model)
    return history


_HOOKS = ("on_train_begin", "on_step", "on_train_end", "wants_step")


def _callbacks(callbacks: Any) -> list[Any]:
    """The callbacks as a list, each checked to have at least one hook."""
    if callbacks is None:
        return []
    if isinstance(callbacks, (str, bytes, Mapping)) or not isinstance(callbacks, Sequence):
        raise TypeError(f"train() callbacks must be a list of callback objects (e.g. [nn.TrainingView(...)]), "
                        f"got {type(callbacks).__name__}")
    for i, cb in enumerate(callbacks):
        if not any(callable(getattr(cb, name, None)) for name in _HOOKS):
            raise TypeError(f"train() callbacks[{i}] is a {type(cb).__name__} with none of the methods "
                            f"{', '.join(_HOOKS)}; a callback needs at least one")
    return list(callbacks)


def _validation(validation: Any, loss: str, model: MLP) -> tuple[list[list[float]], list[int]] | None:
    """``validation=(X_val, y_val)`` checked as training data is: equal lengths, the model's width, valid labels."""
    if validation is None:
        return None
    if not isinstance(validation, (tuple, list)) or len(validation) != 2:
        raise TypeError(f"train() validation must be a pair (X_val, y_val), got {describe(validation)}")
    Xv, yv = validation
    if isinstance(Xv, (str, bytes)) or not isinstance(Xv, Sequence) or not isinstance(yv, Sequence) \
            or len(Xv) != len(yv) or not Xv:
        sizes = [len(v) if isinstance(v, Sequence) else type(v).__name__ for v in (Xv, yv)]
        raise ValueError(f"train() validation X_val and y_val must be non-empty and of equal length, "
                         f"got {sizes[0]} and {sizes[1]}")
    nin = model.config["nin"]
    rows: list[list[float]] = []
    for i, x in enumerate(Xv):
        if isinstance(x, (str, bytes)) or not isinstance(x, Sequence) or len(x) != nin:
            raise ValueError(f"train() validation X_val[{i}] must be a list of {nin} numbers (the model's inputs), "
                             f"got {describe(x)}")
        rows.append([float(v) for v in x])
    try:
        _check_labels(yv, loss, model)
    except ValueError as e:
        raise ValueError(str(e).replace("train() labels", "train() validation labels").replace("y[", "y_val[")) \
            from None
    return rows, list(yv)


def _details(run: Run, step: int, params: list[Value], arrays: _ArraySteps | None, before: Any) -> None:
    """Put step ``step``'s parameters, gradient and update in ``run`` (flat, in ``run.keys`` order)."""
    run.step = step
    if arrays is not None:
        run.state, run.grads = arrays.values.copy(), arrays.grads.copy()
        run.updates = run.state - before
    else:
        run.state = [p.data for p in params]
        run.grads = [p.grad for p in params]
        run.updates = [a - b for a, b in zip(run.state, before)]


def _evaluate(history: History, evaluator: HeldOut, step: int, arrays: _ArraySteps | None) -> None:
    loss, acc = evaluator(arrays.values if arrays is not None else None)
    history.val_steps.append(step)
    history.val_loss.append(loss)
    history.val_accuracy.append(acc)


class HeldOut:
    """A held-out set's loss (without the L2 term) and accuracy for the model's current parameters.

    With NumPy, a vectorised replay of one sample's forward pass (``BatchTape.forward_values``, no
    regularizer) evaluates every row at once: the engine's numbers to about 1e-12 at a fraction
    of the cost. Without NumPy, or for a model the replay cannot follow, the engine builds graphs
    under ``no_grad``."""

    def __init__(self, model: MLP, loss: str, X: list[list[float]], y: list[int], params: list[Value]) -> None:
        self.model, self.loss, self.X, self.y, self.params = model, loss, X, y, params
        self.threshold = threshold_of(model)
        spec = LOSSES[loss]
        self.rows = [[*x, spec.target(t)] for x, t in zip(X, y)]
        self.tape: Any = None
        self.np: Any = None
        try:
            import numpy as np
        except ImportError:
            return
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tape, _ = _replay(model, loss, _Rows(X, y, spec.target), params, 0.0, True)
        if tape is not None:
            self.tape, self.np = tape, np
            self.matrix = np.array(self.rows, dtype=np.float64)
            self.labels = np.asarray(y)

    def __call__(self, values: Any = None) -> tuple[float, float]:
        """The loss and accuracy; ``values``: the parameters as an array (default: the model's)."""
        if self.tape is None:
            with no_grad():
                graphs = [_outputs(self.model, x) for x in self.X]
                value = LOSSES[self.loss].batch(graphs, self.y).data
            return value, _accuracy([[v.data for v in o] for o in graphs], self.y, self.threshold)
        np = self.np
        if values is None:
            values = np.array([p.data for p in self.params], dtype=np.float64)
        value = self.tape.forward_values(self.matrix, values)
        outputs = np.stack([np.asarray(w, dtype=np.float64) for w in self.tape.watched])
        classes = np.argmax(outputs, axis=0) if len(outputs) > 1 else outputs[0] > self.threshold
        return float(value), int(np.sum(classes == self.labels)) / len(self.y)


def _check_labels(y: Sequence[int], loss: str, model: MLP) -> None:
    """Labels are class indices: 0/1 for the binary losses, 0..k-1 for cross-entropy with k outputs."""
    outputs = model.config.get("nouts", [1])[-1] if isinstance(model.config.get("nouts"), list) else 1
    classes = outputs if LOSSES[loss].multiclass else 2
    for i, t in enumerate(y):
        if isinstance(t, bool) or not isinstance(t, int) or not 0 <= t < classes:
            what = "0 or 1 (class indices; the hinge and mse losses map them to -1/+1 themselves)" if classes == 2 \
                else f"a class index in [0, {classes}) (the model has {classes} outputs)"
            raise ValueError(f"train() labels must be {what}; y[{i}] is {t!r}")


def _check_output(loss: str, model: MLP) -> None:
    """``'bce'`` is ``bce_with_logits``: it applies the sigmoid itself, so a sigmoid output would be
    squashed twice and train another model than the one asked for."""
    if loss == "bce" and model.config.get("output_activation") == "sigmoid":
        raise ValueError(
            "train() loss='bce' applies the sigmoid itself (it is bce_with_logits, on raw scores), so it cannot "
            "train a model with output_activation='sigmoid' (that would apply the sigmoid twice); build the model "
            "with output_activation='linear' for bce (predict_classes then puts class 1 above a score of 0, a "
            "probability above 0.5), or keep the sigmoid output with loss='mse'")


def _record(history: History, k: int, value: float, acc: float, lr: float,
            on_step: Callable[[int, float, float, float], bool | None] | None) -> bool:
    """Record a finished step; True if ``on_step`` asks to stop."""
    history.loss.append(value)
    history.accuracy.append(acc)
    history.lr.append(lr)
    if on_step is not None and on_step(k, value, acc, lr) is True:
        history.stopped = True
    return history.stopped


class _Rows:
    """Each sample's inputs and target as the replays read them, ``[*map(float, x), target(t)]``,
    made per batch as it is drawn: a large ``X`` (a 2-D NumPy array, as ``valuegrad train --data``
    loads a file) is never copied into a Python list per row, which took ~30x its memory. The
    rows of a step that takes the whole data set are made once and kept."""

    def __init__(self, X: Any, y: Sequence[int], target: Callable[[int], float]) -> None:
        self.X, self.y, self.target = X, y, target
        np = sys.modules.get("numpy")  # an array exists only where NumPy was imported already
        self.is_array = np is not None and isinstance(X, np.ndarray)
        if self.is_array and X.ndim != 2:
            raise ValueError(f"train() X must be rows of features: a 2-D array, got one of shape {X.shape}")
        self._all: list[list[float]] | None = None
        self._all_inputs: list[Any] | None = None
        self._matrix: Any = None

    def __len__(self) -> int:
        return len(self.y)

    def row(self, i: int) -> list[float]:
        """Sample ``i``'s inputs and target."""
        x = self.X[i]
        return [*(x.tolist() if self.is_array else map(float, x)), self.target(self.y[i])]

    def _make(self, idx: Sequence[int]) -> list[list[float]]:
        if not self.is_array:
            return [self.row(i) for i in idx]
        X = self.X[idx] if isinstance(idx, list) else self.X  # ndarray.tolist gives Python floats
        return [[*x, self.target(self.y[i])] for x, i in zip(X.tolist(), idx)]

    def batch(self, idx: list[int] | None) -> list[list[float]]:
        """The rows at ``idx`` (None: every row, made once)."""
        if idx is not None:
            return self._make(idx)
        if self._all is None:
            self._all = self._make(range(len(self.y)))
        return self._all

    def inputs(self, idx: list[int] | None) -> Sequence[Any]:
        """The graph path's inputs at ``idx``: ``X``'s own rows, or an array's as lists of floats
        (NumPy scalars are not Values' numbers)."""
        if not self.is_array:
            return self.X if idx is None else [self.X[i] for i in idx]
        if idx is not None:
            return cast(list[Any], self.X[idx].tolist())
        if self._all_inputs is None:
            self._all_inputs = self.X.tolist()
        return self._all_inputs

    def matrix(self, np: Any, idx: list[int] | None) -> Any:
        """The rows at ``idx`` (None: every row) as one float64 matrix, the target last. Rows
        from lists become one matrix once, indexed per batch; an array is indexed per batch."""
        if self._matrix is None and (idx is None or not self.is_array):
            self._matrix = self._stack(np, None)
        if self._matrix is not None:
            return self._matrix if idx is None else self._matrix[idx]
        return self._stack(np, idx)

    def _stack(self, np: Any, idx: list[int] | None) -> Any:
        if not self.is_array:
            return np.array(self._make(range(len(self.y)) if idx is None else idx), dtype=np.float64)
        X = self.X if idx is None else self.X[idx]
        out = np.empty((X.shape[0], X.shape[1] + 1), dtype=np.float64)
        out[:, :-1] = X
        out[:, -1] = [self.target(self.y[i]) for i in (range(len(self.y)) if idx is None else idx)]
        return out


class _ArraySteps:
    """Vectorised steps with the parameters' values and gradients kept as NumPy arrays between the
    replay (``BatchTape.run_values``) and the optimizer (``Optimizer.step_arrays``): the same
    floats as going through every Value, without thousands of attribute reads and writes per
    step. The rows are one NumPy matrix, indexed per batch; the optimizer keeps its buffers as
    arrays. The model's Values get their new data after every step (so the model is always
    current) and, at the end, the last step's gradients (as ``zero_grad`` + ``backward`` leave them)."""

    def __init__(self, np: Any, tape: Any, opt: Optimizer, params: list[Value], rows: _Rows) -> None:
        self.np, self.tape, self.opt, self.params = np, tape, opt, params
        self.values = np.array([p.data for p in params], dtype=np.float64)
        self.rows = rows  # every sample's inputs and target, as one matrix per batch
        self.grads: Any = None

    @classmethod
    def start(cls, tape: Any, opt: Optimizer, params: list[Value], rows: _Rows) -> _ArraySteps | None:
        """Array steps if the optimizer has an array form (``step_arrays``), else None."""
        import numpy as np

        probe = type(opt).step_arrays is not Optimizer.step_arrays
        return cls(np, tape, opt, params, rows) if probe else None

    def step(self, idx: list[int] | None) -> float:
        """One step on the rows at ``idx`` (None: every row)."""
        loss, grads = self.tape.run_values(self.rows.matrix(self.np, idx), self.values)
        values = self.opt.step_arrays(self.np, self.values, grads)
        if values is None:  # e.g. SGD with a half-started momentum state: go through the Values
            for p, g in zip(self.params, grads.tolist()):
                p.grad = g
            self.opt.step()
            values = self.np.array([p.data for p in self.params], dtype=self.np.float64)
        else:
            for p, d in zip(self.params, values.tolist()):
                p.data = d
        self.values, self.grads = values, grads
        return float(loss)

    def accuracy(self, y: Sequence[int], threshold: float) -> float:
        """The batch's accuracy from the replay's watched outputs: ``predict_class`` over the whole
        batch at once (one output above ``threshold``; several, the first largest), then compared
        with the labels (class indices, checked by ``train``)."""
        np = self.np
        outputs = np.stack([np.asarray(w, dtype=np.float64) for w in self.tape.watched])
        classes = np.argmax(outputs, axis=0) if len(outputs) > 1 else outputs[0] > threshold
        return int(np.sum(classes == np.asarray(y))) / len(y)

    def finish(self) -> None:
        if self.grads is not None:
            for p, g in zip(self.params, self.grads.tolist()):
                p.grad = g


def _replay(model: MLP, loss: str, rows: _Rows, params: list[Value], l2: float,
            vectorized: bool, *, backend: str = "numpy", device: str | None = None,
            dtype: str | None = None) -> tuple[Any, str | None]:
    """The recorded per-sample training step (a SampleTape or a BatchTape), or None and the reason
    it cannot be replayed (see :func:`record_replay`)."""
    example = rows.row(0)
    n_in = len(example) - 1
    term = LOSSES[loss].term

    def per_sample(v: list[Value]) -> tuple[Value, list[Value]]:
        outs = _outputs(model, v[:n_in])
        return term(outs, v[n_in]), outs

    regularizer = (lambda: _l2_term(params, l2)) if l2 else None
    others = map(rows.row, range(1, len(rows)))
    tape, why = record_replay(per_sample, params, example, others, vectorized=vectorized, regularizer=regularizer,
                              backend=backend, device=device, dtype=dtype)
    if tape is None:
        how = "vectorized" if vectorized else "compiled"
        return None, f"the {how} path cannot replay this model, so training builds graphs: {why}"
    return tape, None


def record_replay(per_sample: Callable[[list[Value]], Any], params: Sequence[Value], example: Sequence[float],
                  others: Iterable[Sequence[float]] = (), *, vectorized: bool = False,
                  regularizer: Callable[[], Value] | None = None, backend: str = "numpy",
                  device: str | None = None, dtype: str | None = None) -> tuple[Any, str | None]:
    """One sample's recorded program, ready to replay over many rows, or why it cannot be.

    The one place where ``nn`` records a replay (training's step, scoring a data set): a
    ``SampleTape`` (generated code), or with ``vectorized`` a ``BatchTape`` (arrays), recorded on
    ``example`` and checked on the first row of ``others`` that differs from it.

    Args:
        per_sample: one sample's graph from its input Values (see ``autograd.SampleTape``).
        params: the parameters whose values change between runs.
        example: the row to record.
        others: further rows; the first one unlike ``example`` checks the recording.
        vectorized: record a ``BatchTape`` (arrays) instead of a ``SampleTape`` (generated code).
        backend: with ``vectorized``, the array library (``'numpy'`` or ``'torch'``).
        device: with ``vectorized``, where the torch backend computes.
        dtype: with ``vectorized``, the arrays' float type.
        regularizer: a term of the parameters alone, added once per batch.

    Returns:
        ``(tape, None)``, or ``(None, reason)`` when the program reads its numbers in Python or
        differs on the other row (``autograd.TapeMismatchError``'s message).
    """
    # Imported here, not at the top: ``import nn`` should not load the replay engines.
    from autograd.replay.tape import SampleTape, TapeMismatchError

    try:
        if vectorized:
            from autograd.replay.batch import BatchTape

            tape: Any = BatchTape(per_sample, params, example=example, regularizer=regularizer, backend=backend,
                                  device=device, dtype=dtype)
        else:
            tape = SampleTape(per_sample, params, example, regularizer)
        other = next((row for row in others if row != example), None)
        if other is not None:
            tape.verify(other)
    except TapeMismatchError as e:
        return None, str(e)
    return tape, None


def threshold_of(model: MLP) -> float:
    """The score above which a one-output model predicts class 1: 0.5 for a sigmoid output (a
    probability), 0 otherwise (a raw score or margin: linear, tanh).

    The one place this choice is made; ``train``'s step accuracy, :func:`predict_classes` and the
    CLI pass it to ``nn.losses.predict_class``.

    Args:
        model: the model whose output activation decides.

    Returns:
        The threshold (a model with several outputs predicts the argmax and ignores it).
    """
    return 0.5 if model.config.get("output_activation") == "sigmoid" else 0.0


@no_grad()
def predict_classes(model: MLP, X: Sequence[Sequence[float]]) -> list[int]:
    """Class predictions without building a graph: for one output, score above the threshold of
    its output activation (:func:`threshold_of`); for several, the argmax."""
    threshold = threshold_of(model)
    return [predict_class(model(x), threshold) for x in X]


def make_optimizer(name: str, params: list[Value], lr: float | None, steps: int) -> Optimizer:
    """``'sgd'`` (micrograd's decaying rate unless ``lr`` is given) or ``'adam'`` (default lr 0.01)."""
    if name == "sgd":
        return SGD(params, lr=lr if lr is not None else micrograd_lr(steps))
    if name == "adam":
        return Adam(params, lr=lr if lr is not None else 0.01)
    raise ValueError(f"unknown optimizer {name!r}; expected 'sgd' or 'adam'")
