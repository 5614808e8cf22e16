"""``valuegrad train``: prepare the data, train, and write the run folder."""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from autograd._extras import install_hint
from nn.cli import plan as policy  # its limits are read when used, so a test or a caller can change them
from nn.cli.common import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_USAGE, RefusedError, duration, error, note, size
from nn.cli.plan import Plan, load_data, make_plan, over_limit
from nn.cost import estimate, n_parameters
from nn.data import LoadedData, Standardizer, train_test_split
from nn.layers import MLP
from nn.optim import Optimizer
from nn.report import (
    OutputError,
    RunFolder,
    RunWriter,
    boundary_png,
    claim_run_folder,
    confusion_matrix,
    confusion_png,
    loss_png,
    metrics_csv,
    mistakes_png,
    readable,
    release,
    summary_json,
)
from nn.scoring import Scorer
from nn.train import LOSSES, History, make_optimizer, train

VIEW_ROWS = 1000
"""``training.html`` draws (and its steppers read) at most this many training rows: the page holds
one dot per row of a two-feature set, and a large file's rows are not copied again."""

if TYPE_CHECKING:
    from nn.views.training import TrainingView

__all__ = ["run_train"]


class DivergedError(Exception):
    """The loss or a weight stopped being a finite number during training."""

    def __init__(self, step: int, loss: float, what: str) -> None:
        super().__init__(f"step {step + 1}: {what}")
        self.step = step
        self.loss = loss
        self.what = what


def _accuracy(pred: Sequence[int], y: Sequence[int]) -> float:
    return sum(p == t for p, t in zip(pred, y)) / len(y) if y else math.nan


def _progress(total: int) -> tuple[Callable[[], None], Callable[[int, float, float, float], None]]:
    """A tqdm bar on a terminal (when tqdm is installed), else a line on stderr every ~10% of the
    steps; both on stderr, so stdout holds only results."""
    bar: Any = None
    if sys.stderr.isatty():
        try:
            from tqdm import tqdm

            bar = tqdm(total=total, desc="training", unit="step")
        except ImportError:
            bar = None
    if bar is not None:
        def update(k: int, loss: float, acc: float, lr: float) -> None:
            bar.set_postfix(loss=readable(loss), acc=f"{acc:.0%}", refresh=False)
            bar.update(1)

        return bar.close, update
    every = max(total // 10, 1)

    def report(k: int, loss: float, acc: float, lr: float) -> None:
        if k == 0 or (k + 1) % every == 0 or k + 1 == total:
            print(f"step {k + 1}/{total}  loss {readable(loss)}  accuracy {acc:.1%}", file=sys.stderr, flush=True)

    return lambda: None, report


@dataclass
class _Run:
    """What a run has claimed and written so far, for the Ctrl-C handler."""

    folder: RunFolder | None = None
    writer: RunWriter | None = None


def run_train(args: argparse.Namespace) -> int:
    run = _Run()
    try:
        return _train_and_write(args, run)
    except RefusedError as e:
        error(str(e))
        return EXIT_USAGE
    except OSError as e:  # every read and every check happened before; this is a write failing
        written = run.writer.written if run.writer is not None else []
        done = f"; wrote {', '.join(written)}" if written else ""
        where = f" {e.filename}" if e.filename else ""
        error(f"cannot write{where}: {e.strerror or e}{done}")
        return EXIT_FAILED
    except KeyboardInterrupt:
        written = run.writer.written if run.writer is not None else []
        with _sigint_ignored():  # a further Ctrl-C must not cut the last message
            if run.folder is not None and not written:
                release(run.folder)
            done = f"wrote {', '.join(written)}" if written else "nothing was written"
            note(f"interrupted: stopped at once; {done} (every file written is complete)")
        return EXIT_INTERRUPTED


@contextlib.contextmanager
def _sigint_ignored() -> Iterator[None]:
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


@dataclass
class _Split:
    """The data, split and prepared: what training and every output need."""

    data: LoadedData
    plan: Plan
    X_train: Sequence[Sequence[float]]
    X_test: Sequence[Sequence[float]]
    y_train: list[int]
    y_test: list[int]
    scaler: Standardizer | None
    widths: list[int]
    total: int


def _prepare(args: argparse.Namespace) -> _Split:
    """Load, split and standardize the data, resolve every default and check the cost: every
    refusal that can happen before anything is written."""
    data = load_data(args)
    plan = make_plan(args, data.name, len(data.X), len(data.classes), data.real)
    X_train: Sequence[Sequence[float]]
    X_test: Sequence[Sequence[float]]
    if plan.test_fraction > 0:
        X_train, X_test, y_train, y_test = train_test_split(data.X, data.y, plan.test_fraction, seed=args.seed)
    else:  # no split: the rows in their order (the default moons run is micrograd's, exactly)
        X_train, X_test, y_train, y_test = data.X, [], data.y, []
    data = data._replace(X=[])  # the split holds the rows now; a large file's rows as loaded are freed
    scaler = Standardizer().fit(X_train) if plan.standardize else None
    n_out = len(data.classes) if LOSSES[plan.loss].multiclass else 1
    widths = [len(data.feature_names), *plan.hidden, n_out]
    split = _Split(data, plan, X_train, X_test, y_train, y_test, scaler, widths, plan.total_steps(len(X_train)))
    seconds, memory = _cost(split, args.vectorized)
    if (seconds > policy.LIMIT_SECONDS or memory > policy.LIMIT_BYTES) and not args.force:
        raise RefusedError(over_limit(args, seconds, memory, _work(split)))
    if args.vectorized:
        try:
            import numpy  # noqa: F401
        except ImportError:
            raise RefusedError(f"--vectorized needs NumPy: {install_hint('numpy')}") from None
        from autograd.replay.arrays import make_namespace

        try:  # the backend, device and dtype, checked before training (no GPU is no crash)
            make_namespace(args.backend, dtype=args.dtype, device=args.device)
        except (ValueError, ImportError) as e:
            raise RefusedError(f"--backend {args.backend}: {e}") from None
    elif (args.backend, args.device, args.dtype) != ("numpy", None, None):
        raise RefusedError("--backend, --device and --dtype choose how --vectorized runs; add --vectorized")
    return split


def _cost(split: _Split, vectorized: bool) -> tuple[float, float]:
    rows = split.plan.rows_per_step(len(split.X_train))
    return estimate(n_parameters(split.widths), rows, split.total, len(split.X_train) + len(split.X_test),
                    len(split.data.feature_names), vectorized)


def _work(split: _Split) -> str:
    rows = split.plan.rows_per_step(len(split.X_train))
    return f"an MLP of {n_parameters(split.widths):,} parameters, {rows:,} rows per step, {split.total:,} steps"


class _HeldOutSteps:
    """A callback that only picks steps: without a page (``--no-html``) the held-out set is still
    evaluated at the steps the page's snapshots would be, so ``metrics.csv`` is the same."""

    def __init__(self, every: int) -> None:
        self.every = every
        self.last = 0

    def on_train_begin(self, run: Any) -> None:
        self.last = run.steps

    def wants_step(self, step: int) -> bool:
        return step % self.every == 0 or step == self.last


def _listed(X: Any, limit: int | None = None) -> list[Any]:
    """Rows as a list (a NumPy array's as lists of floats), the first ``limit`` of them."""
    rows = X[:limit] if limit is not None else X
    return cast(list[Any], rows.tolist()) if hasattr(rows, "tolist") else list(rows)


def _inputs(split: _Split) -> Sequence[Sequence[float]]:
    """The training rows as the model sees them (standardized when asked)."""
    return split.scaler.transform(split.X_train) if split.scaler is not None else split.X_train


def _fit(args: argparse.Namespace, split: _Split, model: MLP,
         optimizer: Optimizer) -> tuple[History, DivergedError | None, float, TrainingView | None]:
    """Train; stop at the first step whose loss (or, without L2, a weight) is not finite.
    Returns the history, the divergence if any, the seconds taken and the recording of the run
    (None with ``--no-html``)."""
    plan = split.plan
    Xt = _inputs(split)
    validation = None
    if len(split.X_test):
        Xv = split.scaler.transform(split.X_test) if split.scaler is not None else split.X_test
        validation = (_listed(Xv), split.y_test)
    every = max(1, math.ceil(split.total / args.snapshots))
    view: TrainingView | None = None
    callbacks: list[Any] = []
    if args.html:
        from nn.views.training import TrainingView

        view = TrainingView(model, _listed(Xt, VIEW_ROWS), split.y_train[:VIEW_ROWS], every=every)
        callbacks.append(view)
    elif validation is not None:
        callbacks.append(_HeldOutSteps(every))
    params = model.parameters()
    close, report = _progress(split.total)

    def finite_weights() -> bool:
        return all(map(math.isfinite, [p.data for p in params]))

    diverged: DivergedError | None = None

    def on_step(k: int, loss: float, acc: float, lr: float) -> bool:
        nonlocal diverged
        report(k, loss, acc, lr)
        if not math.isfinite(loss):
            diverged = DivergedError(k, loss, f"the loss is {loss}")
        # with an L2 term a non-finite weight makes the next loss non-finite; without, look
        elif not plan.l2 and not finite_weights():
            diverged = DivergedError(k, loss, "a weight is no longer a finite number")
        return diverged is not None  # True ends training after this step

    started = time.perf_counter()
    try:
        history = train(model, Xt, split.y_train, loss=plan.loss, optimizer=optimizer, steps=plan.steps or 1,
                        batch_size=plan.batch_size, l2=plan.l2, seed=args.seed, on_step=on_step,
                        vectorized=args.vectorized, epochs=plan.epochs, validation=validation,
                        callbacks=callbacks,
                        **({"backend": args.backend, "device": args.device, "dtype": args.dtype}
                           if args.vectorized else {}))
    finally:
        close()
    elapsed = time.perf_counter() - started
    if diverged is None and history.steps and not finite_weights():
        diverged = DivergedError(history.steps - 1, history.loss[-1], "a weight is no longer a finite number")
    return history, diverged, elapsed, view


def _write_page(writer: RunWriter, view: TrainingView | None) -> None:
    """``training.html`` from what ``view`` recorded. A diverged run's page ends at its last
    snapshot whose weights are all finite numbers (non-finite weights cannot be drawn); a run
    with none, or one that cannot be drawn, gets one line saying so instead, as a picture does."""
    if view is None:
        return
    drawable = [s for s in view.snapshots if all(map(math.isfinite, s.state.values()))]
    dropped = len(view.snapshots) - len(drawable)
    if not drawable:
        note("skipped training.html: no snapshot has finite weights to draw")
        return
    from nn.views.page import render_page

    view.snapshots = drawable
    try:
        page = render_page(view.payload())
    except (ValueError, ArithmeticError) as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        note(f"skipped training.html: the run cannot be drawn ({first})")
        return
    if dropped:
        note(f"training.html ends at step {drawable[-1].step}: the weights of the last {dropped} "
             f"snapshot{'s' if dropped > 1 else ''} are not finite numbers")
    writer.text("training.html", page)


def _train_and_write(args: argparse.Namespace, run: _Run) -> int:
    split = _prepare(args)
    data, plan = split.data, split.plan
    try:
        run.folder = claim_run_folder(args.out, data.name, overwrite=args.overwrite)
    except OutputError as e:
        raise RefusedError(str(e)) from None
    seconds, memory = _cost(split, args.vectorized)
    if seconds > policy.WARN_SECONDS:
        note(f"warning: this run will take about {duration(seconds)} and {size(memory)} of memory "
              f"({_work(split)})")

    model = MLP(len(data.feature_names), split.widths[1:], activation=args.activation, init=plan.init, seed=args.seed)
    held = f" + {len(split.X_test)} held out" if len(split.X_test) else ""
    scaled = ", standardized" if split.scaler is not None else ""
    print(f"valuegrad: training {model} on {data.name} ({len(split.X_train)} points{held}, {plan.loss} loss, "
          f"{plan.optimizer}{scaled})", flush=True)
    optimizer = make_optimizer(plan.optimizer, model.parameters(), plan.lr, split.total)
    history, diverged, elapsed, view = _fit(args, split, model, optimizer)

    how = {"vectorized": "vectorised replay", "compiled": "compiled replay"}.get(history.path, "graphs built each step")
    done = f"{history.steps} steps" if history.steps == split.total else f"{history.steps} of {split.total} steps"
    summary: dict[str, Any] = {
        "data": data.name,
        "train_accuracy": None,
        "test_accuracy": None,
        "classes": data.classes,
        "n_train": len(split.X_train),
        "n_test": len(split.X_test),
        "steps": history.steps,
        "seconds": round(elapsed, 3),
        "loss": history.loss[-1] if history.loss else None,
        "path": history.path,
        "interrupted": history.interrupted,
        "diverged": diverged is not None,
        "val_loss": history.val_loss[-1] if history.val_loss else None,
        "val_accuracy": history.val_accuracy[-1] if history.val_accuracy else None,
    }
    writer = run.writer = RunWriter(run.folder)
    writer.begin()
    if diverged is not None:
        print(f"valuegrad: {done} in {elapsed:.1f} s ({how}); final loss {readable(diverged.loss)}", flush=True)
        writer.text("metrics.csv", metrics_csv(history))
        writer.picture("loss.png", lambda: loss_png(history), note)
        _write_page(writer, view)
        writer.remove_stale()
        writer.text("summary.json", summary_json(summary))
        print(f"valuegrad: wrote {run.folder.path}/ ({', '.join(writer.written)})", flush=True)
        lr = f" (--lr {plan.lr:g})" if plan.lr is not None else ""
        error(f"training diverged at {diverged}: try a smaller learning rate{lr}, standardized inputs "
               "(--standardize) or another loss; no model was saved")
        return EXIT_FAILED

    scorer = Scorer(model, split.scaler, vectorized=args.vectorized)
    pred_train = scorer.classify(split.X_train)
    pred_test = scorer.classify(split.X_test)
    train_acc = _accuracy(pred_train, split.y_train)
    test_acc = _accuracy(pred_test, split.y_test) if len(split.X_test) else None
    summary["train_accuracy"], summary["test_accuracy"] = train_acc, test_acc
    tested = f", held-out accuracy {test_acc:.1%}" if test_acc is not None else ", no held-out data"
    final = readable(history.loss[-1]) if history.loss else "none"
    print(f"valuegrad: {done} in {elapsed:.1f} s ({how}); final loss {final}, "
          f"training accuracy {train_acc:.1%}{tested}", flush=True)

    writer.model(model, {
        "classes": data.classes,
        "features": data.feature_names,
        "target": data.target,
        "standardizer": split.scaler.to_dict() if split.scaler is not None else None,
        "loss": plan.loss,
        "data": data.name,
    })
    writer.text("metrics.csv", metrics_csv(history))
    writer.picture("loss.png", lambda: loss_png(history), note)
    if len(data.feature_names) == 2:
        writer.picture("decision_boundary.png",
                       lambda: boundary_png(split.X_train, split.y_train, scorer.classify, train_acc), note)
    else:
        _write_evaluation(writer, split, pred_train, pred_test)
    _write_page(writer, view)
    if args.diagnose:
        _diagnose(writer, split, model, optimizer)
    writer.remove_stale()
    writer.text("summary.json", summary_json(summary))
    print(f"valuegrad: wrote {run.folder.path}/ ({', '.join(writer.written)})", flush=True)
    if history.interrupted:
        note(f"interrupted by Ctrl-C after {history.steps} of {split.total} steps; the run folder holds the model "
              "as trained so far")
        return EXIT_INTERRUPTED
    return 0


def _diagnose(writer: RunWriter, split: _Split, model: MLP, optimizer: Optimizer) -> None:
    """The trained network's health on the training rows, with the run's loss, L2 term and
    optimizer (the update ratios of the step it would take next): printed, and written to
    ``diagnosis.json``."""
    from nn.health import diagnose

    report = diagnose(model, _inputs(split), split.y_train, loss=split.plan.loss, l2=split.plan.l2,
                      optimizer=optimizer)
    print(report, flush=True)
    writer.text("diagnosis.json", json.dumps(report.to_dict(), indent=2, allow_nan=False) + "\n")


def _write_evaluation(writer: RunWriter, split: _Split, pred_train: list[int], pred_test: list[int]) -> None:
    """``confusion_matrix.png`` and, for 64 features (8x8 images), ``mistakes.png``: on the
    held-out rows, or on the training rows when there are none."""
    held_out = len(split.X_test) > 0
    X, y, pred = (split.X_test, split.y_test, pred_test) if held_out else (split.X_train, split.y_train, pred_train)
    classes = split.data.classes
    matrix = confusion_matrix(y, pred, len(classes))
    what = "held-out data" if held_out else "training data"
    writer.picture("confusion_matrix.png", lambda: confusion_png(matrix, classes, what), note)
    if len(split.data.feature_names) == 64:
        wrong = [i for i, (t, p) in enumerate(zip(y, pred)) if t != p]
        writer.picture("mistakes.png", lambda: mistakes_png(
            [X[i] for i in wrong], [classes[y[i]] for i in wrong], [classes[pred[i]] for i in wrong],
            "held-out images" if held_out else "training images"), note)
