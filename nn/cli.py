"""``valuegrad``: train a small MLP and write a run folder, or predict with a saved one.

    valuegrad train                                  # moons, MLP(2, [16, 16, 1]), micrograd's recipe
    valuegrad train --dataset digits                 # 8x8 digits, held-out accuracy and pictures
    valuegrad train --data flowers.csv --target species
    valuegrad predict runs/digits-.../model.json --data new.csv --out predictions.csv
    valuegrad predict runs/moons-.../model.json 0.5 -1e-3

Exit codes: 0 success; 1 training diverged (the loss or a weight stopped being a finite
number; no model is saved) or an output could not be written (a full disk); 2 bad arguments, a
bad data file, an unusable output folder or a run over the cost limit (one line on stderr,
nothing written); 130 Ctrl-C (after a first Ctrl-C the run folder holds everything a finished
run writes, for the steps done).
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import gzip
import io
import itertools
import math
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, NoReturn

from autograd._extras import EXTRAS, install_hint
from nn.data import (
    DATASETS,
    GZIP_MAGIC,
    CSVData,
    Standardizer,
    column_names,
    csv_records,
    is_number,
    load_digits,
    load_iris,
    parse_number,
    read_labelled,
    train_test_split,
)
from nn.files import atomic_write
from nn.io import load, load_metadata
from nn.layers import ACTIVATIONS, INITS, MLP
from nn.losses import predict_class
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
from nn.train import LOSSES, History, make_optimizer, threshold_of, train

__all__ = ["EXIT_FAILED", "EXIT_INTERRUPTED", "EXIT_USAGE", "build_parser", "estimate", "main"]

EXIT_FAILED = 1
"""Training diverged, or writing an output failed."""
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130

REAL: dict[str, Callable[[], CSVData]] = {"iris": load_iris, "digits": load_digits}
"""The packaged real data sets, by the name ``--dataset`` uses."""

WARN_SECONDS = 60.0
"""Above this estimated run time ``train`` prints a warning with the estimate."""
LIMIT_SECONDS = 600.0
"""Above this estimated run time (or :data:`LIMIT_BYTES`) ``train`` refuses to start without ``--force``."""
LIMIT_BYTES = 2 * 1024**3
SAMPLE_BYTES = 1024**2
"""``train --data``: a file larger than this (uncompressed) has its cost checked from its size and
its first SAMPLE_BYTES before it is loaded."""


@dataclass(frozen=True)
class Defaults:
    """What ``valuegrad train`` uses for a data set when an option is not given."""

    hidden: tuple[int, ...]
    optimizer: str
    lr: float | None  # for ``optimizer``; None: make_optimizer's default
    steps: int | None
    epochs: int | None  # None with steps None: enough epochs for FILE_PASSES sample passes
    batch_size: int | None
    init: str
    l2: float
    standardize: bool
    test_fraction: float


GENERATED = Defaults((16, 16), "sgd", None, 100, None, None, "micrograd", 1e-4, False, 0.0)
"""The generated 2-D sets: micrograd's recipe (full batch, SGD with lr ``1.0 - 0.9*k/steps``)."""
DEFAULTS = {
    "iris": Defaults((16,), "adam", 0.02, None, 200, 16, "he", 1e-3, True, 0.2),
    "digits": Defaults((32,), "adam", 0.01, None, 5, 32, "he", 1e-4, True, 0.2),
}
"""Chosen so that every seed 0-4 reaches >= 93% (iris) and >= 95% (digits) held-out accuracy."""
FILE = Defaults((32,), "adam", 0.01, None, None, 32, "he", 1e-4, True, 0.2)
"""``--data FILE.csv``: epochs for about FILE_PASSES sample passes (5 to 200 epochs)."""
FILE_PASSES = 20_000


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        # One line, no usage dump, exit code 2 (argparse's convention for bad arguments).
        self.exit(EXIT_USAGE, f"valuegrad: error: {message}\n")


class _RefusedError(Exception):
    """A bad argument, file or folder found before anything is written: one line, exit code 2."""


class _DivergedError(Exception):
    """The loss or a weight stopped being a finite number during training."""

    def __init__(self, step: int, loss: float, what: str) -> None:
        super().__init__(f"step {step + 1}: {what}")
        self.step = step
        self.loss = loss
        self.what = what


def _positive_int(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if n < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return n


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text.strip()!r}") from None


def _nonneg_float(text: str) -> float:
    x = _number(text)
    if not math.isfinite(x) or x < 0:
        raise argparse.ArgumentTypeError(f"expected a finite number >= 0, got {text!r}")
    return x


def _positive_float(text: str) -> float:
    x = _nonneg_float(text)
    if x == 0:
        raise argparse.ArgumentTypeError(f"expected a number > 0, got {text!r}")
    return x


def _fraction(text: str) -> float:
    x = _number(text)
    if not 0.0 <= x < 1.0:
        raise argparse.ArgumentTypeError(f"expected a fraction in [0, 1), got {text!r}")
    return x


def _finite_float(text: str) -> float:
    x = _number(text)
    if not math.isfinite(x):
        raise argparse.ArgumentTypeError(f"expected a finite number, got {text.strip()!r}")
    return x


def _widths(text: str) -> list[int]:
    parts = text.split(",")
    try:
        widths = [int(part) for part in parts]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated layer widths like 16,16, got {text!r}"
            + (" (an empty width between commas)" if any(not p.strip() for p in parts) else "")
        ) from None
    if any(w < 1 for w in widths):
        raise argparse.ArgumentTypeError(f"expected comma-separated positive widths like 16,16, got {text!r}")
    return widths


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``valuegrad`` command."""
    parser = _Parser(prog="valuegrad", description="Train and use small MLPs built on valuegrad's autograd.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    t = sub.add_parser("train", help="train an MLP and write a run folder", allow_abbrev=False,
                       description="Train an MLP on a generated 2-D set, a packaged real data set or a CSV "
                                   "file; write model.json, metrics.csv, summary.json and pictures.")
    source = t.add_mutually_exclusive_group()
    source.add_argument("--dataset", choices=[*sorted(DATASETS), *REAL], default=None,
                        help="generated 2-D sets, or the real iris and digits (default moons)")
    source.add_argument("--data", metavar="FILE.csv", default=None, help="a labelled CSV file (plain or .gz)")
    t.add_argument("--target", default=None, metavar="COLUMN", help="with --data: the label column (default label)")
    t.add_argument("--test-fraction", type=_fraction, default=None, metavar="F",
                   help="share held out for testing (default 0.2 for real data, 0 for generated sets)")
    t.add_argument("--standardize", action=argparse.BooleanOptionalAction, default=None,
                   help="rescale features to mean 0, std 1, fitted on the training part "
                        "(default on for real data, off for generated sets)")
    t.add_argument("--samples", type=_positive_int, default=None, metavar="N",
                   help="generated sets: number of points (100)")
    t.add_argument("--noise", type=_nonneg_float, default=None, metavar="X",
                   help="generated sets: noise (the set's own)")
    t.add_argument("--hidden", type=_widths, default=None, metavar="16,16",
                   help="hidden layer widths (default 16,16; iris 16; digits and files 32)")
    t.add_argument("--activation", choices=[a for a in ACTIVATIONS if a != "linear"], default="relu")
    t.add_argument("--init", choices=INITS, default=None, help="weights (micrograd for generated sets, else he)")
    t.add_argument("--loss", choices=LOSSES, default=None,
                   help="default: hinge for 2 classes of a generated set, else cross_entropy")
    t.add_argument("--optimizer", choices=("sgd", "adam"), default=None,
                   help="default sgd for generated sets, adam for real data")
    t.add_argument("--lr", type=_positive_float, default=None,
                   help="default: sgd 1.0 - 0.9*k/steps; adam 0.01 (iris 0.02)")
    t.add_argument("--l2", type=_nonneg_float, default=None, help="weight penalty (default 1e-4; iris 1e-3)")
    length = t.add_mutually_exclusive_group()
    length.add_argument("--steps", type=_positive_int, default=None, metavar="N", help="default 100 for generated sets")
    length.add_argument("--epochs", type=_positive_int, default=None, metavar="N",
                        help="passes over the training data in batches of --batch-size (iris 200, digits 5)")
    t.add_argument("--batch-size", type=_positive_int, default=None, metavar="N",
                   help="default: all the data for generated sets; iris 16; digits and files 32")
    t.add_argument("--vectorized", action="store_true",
                   help=f"replay one sample's step across each batch with NumPy (needs valuegrad[{EXTRAS['numpy']}])")
    t.add_argument("--backend", choices=("numpy", "torch"), default="numpy",
                   help=f"with --vectorized: NumPy arrays or PyTorch tensors (needs valuegrad[{EXTRAS['torch']}])")
    t.add_argument("--device", default=None, metavar="DEV",
                   help="with --backend torch: cpu (default), cuda or cuda:N")
    t.add_argument("--dtype", choices=("float64", "float32"), default=None,
                   help="with --vectorized: the arrays' float type (default float64)")
    t.add_argument("--seed", type=int, default=1337, metavar="N",
                   help="seeds the data, the split, the weights and the batches")
    t.add_argument("--out", default=None, metavar="DIR", help="output folder (default runs/<dataset>-<timestamp>)")
    t.add_argument("--overwrite", action="store_true", help="allow an --out folder that already holds files")
    t.add_argument("--force", action="store_true",
                   help=f"run even when the estimate is over {LIMIT_SECONDS / 60:.0f} minutes or "
                        f"{LIMIT_BYTES / 1024**3:.0f} GB")
    p = sub.add_parser("predict", help="predict with a saved model: one point, or every row of a CSV file",
                       allow_abbrev=False, usage="valuegrad predict MODEL (X1 X2 ... | --data FILE.csv "
                                                 "[--out predictions.csv] [--overwrite])")
    p.add_argument("model", help="a model.json written by 'valuegrad train'")
    p.add_argument("values", nargs="*", type=_finite_float, metavar="X", help="the point's features")
    p.add_argument("--data", metavar="FILE.csv", default=None, help="predict every row of this CSV file")
    p.add_argument("--out", default=None, help="write the rows here (default: print them)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing --out file")
    return parser


_PREDICT_OPTIONS_WITH_VALUE = ("--data", "--out")


def _predict_argv(args: Sequence[str]) -> list[str]:
    """Put ``predict``'s positional arguments after ``--`` so that negative numbers such as
    ``-1e3`` (which argparse takes for options) are read as numbers: options first, then ``--``,
    then the model and the numbers in their order."""
    options: list[str] = []
    positionals: list[str] = []
    i = 0
    while i < len(args):
        a = args[i]
        if a == "--":
            positionals += args[i + 1:]
            break
        if a in _PREDICT_OPTIONS_WITH_VALUE:
            options += args[i:i + 2]
            i += 2
            continue
        if a.startswith("-") and len(a) > 1 and not is_number(a):
            options.append(a)
        else:
            positionals.append(a)
        i += 1
    return [*options, "--", *positionals] if positionals else options


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``valuegrad`` console script; returns the exit code."""
    words = list(sys.argv[1:] if argv is None else argv)
    if words[:1] == ["predict"]:
        words = ["predict", *_predict_argv(words[1:])]
    args = build_parser().parse_args(words)
    if args.command == "predict":
        return _predict(args)
    return _train(args)


def _error(message: str) -> None:
    print(f"valuegrad: error: {' '.join(message.split())}", file=sys.stderr)


def _note(message: str) -> None:
    print(f"valuegrad: {message}", file=sys.stderr)


# ----------------------------------------------------------------------------------------------
# Data
# ----------------------------------------------------------------------------------------------


@dataclass
class _Data:
    name: str  # for the folder name and the messages
    X: Sequence[Sequence[float]]  # a file's rows: a 2-D NumPy array (else array('d') rows), 8 bytes a value
    y: list[int]
    classes: list[str]
    features: list[str]
    target: str | None
    real: bool  # a packaged real set or a file (not a generated 2-D set)


def _load(args: argparse.Namespace) -> _Data:
    """The data set named by the arguments, after every check that can be made on it."""
    if args.data is not None:
        target = args.target if args.target is not None else "label"
        stem = os.path.basename(args.data).split(".")[0] or "data"
        try:
            _check_cost_before_loading(args, stem, target)
            with open(args.data, "rb") as f:
                loaded = read_labelled(f, args.data, target, compact=True)
        except ValueError as e:
            raise _RefusedError(str(e)) from None
        except OSError as e:
            raise _RefusedError(f"cannot read --data {args.data}: {e.strerror or e}") from None
        return _Data(stem, loaded.X, loaded.y, loaded.classes, loaded.feature_names, loaded.target, True)
    if args.target is not None:
        raise _RefusedError("--target names the label column of a --data file; it does not apply to --dataset")
    name = args.dataset or "moons"
    if name in REAL:
        for option in ("samples", "noise"):
            if getattr(args, option) is not None:
                raise _RefusedError(f"--{option} applies to the generated sets only, not to --dataset {name}")
        packaged = REAL[name]()
        return _Data(name, packaged.X, packaged.y, packaged.classes, packaged.feature_names, packaged.target, True)
    kwargs: dict[str, Any] = {"seed": args.seed}
    if args.noise is not None:
        kwargs["noise"] = args.noise
    try:
        X, y = DATASETS[name](args.samples if args.samples is not None else 100, **kwargs)
    except ValueError as e:
        raise _RefusedError(str(e)) from None
    overflowed = sum(not all(map(math.isfinite, x)) for x in X)
    if overflowed:
        raise _RefusedError(f"--noise {args.noise:g} puts {overflowed} of {len(X)} points at infinity; "
                            "use a smaller --noise")
    classes = [str(k) for k in range(max(y) + 1)]
    return _Data(name, X, y, classes, ["x1", "x2"], None, False)


# ----------------------------------------------------------------------------------------------
# The plan: every default resolved, the cost estimated
# ----------------------------------------------------------------------------------------------


@dataclass
class _Plan:
    hidden: list[int]
    loss: str
    optimizer: str
    lr: float | None
    steps: int | None
    epochs: int | None
    batch_size: int | None
    init: str
    l2: float
    standardize: bool
    test_fraction: float

    def total_steps(self, n: int) -> int:
        if self.epochs is None:
            assert self.steps is not None
            return self.steps
        bs = self.batch_size
        return self.epochs * (math.ceil(n / bs) if bs is not None and bs < n else 1)

    def rows_per_step(self, n: int) -> int:
        return n if self.batch_size is None else min(self.batch_size, n)


def _plan(args: argparse.Namespace, name: str, n_rows: int, n_classes: int, real: bool) -> _Plan:
    d = FILE if args.data is not None else DEFAULTS.get(name, GENERATED)
    loss = args.loss or ("cross_entropy" if n_classes > 2 or real else "hinge")
    if n_classes > 2 and not LOSSES[loss].multiclass:
        raise _RefusedError(f"{name} has {n_classes} classes; use --loss cross_entropy")
    optimizer = args.optimizer or d.optimizer
    lr = args.lr if args.lr is not None else (d.lr if optimizer == d.optimizer else None)
    test_fraction = args.test_fraction if args.test_fraction is not None else d.test_fraction
    steps, epochs = args.steps, args.epochs
    if steps is None and epochs is None:
        steps, epochs = d.steps, d.epochs
        if steps is None and epochs is None:  # a file: about FILE_PASSES sample passes
            n_train = round(n_rows * (1 - test_fraction))
            epochs = min(max(math.ceil(FILE_PASSES / max(n_train, 1)), 5), 200)
    return _Plan(
        hidden=list(args.hidden or d.hidden),
        loss=loss,
        optimizer=optimizer,
        lr=lr,
        steps=steps,
        epochs=epochs,
        batch_size=args.batch_size or d.batch_size,
        init=args.init or d.init,
        l2=args.l2 if args.l2 is not None else d.l2,
        standardize=args.standardize if args.standardize is not None else d.standardize,
        test_fraction=test_fraction,
    )


def _n_parameters(widths: Sequence[int]) -> int:
    return sum((a + 1) * b for a, b in itertools.pairwise(widths))


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} minutes"
    return f"{seconds / 3600:.1f} hours"


def _size(n: float) -> str:
    for unit, scale in (("GB", 1024**3), ("MB", 1024**2)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n / 1024:.0f} kB"


def estimate(n_parameters: int, rows_per_step: int, steps: int, n_rows: int, n_features: int,
             vectorized: bool) -> tuple[float, float]:
    """Rough ``(seconds, bytes)`` of a training run, from measured rates of this machine's kind:
    recording and compiling one sample's step (about 0.25 ms and 18 kB per parameter), then each
    step (compiled: 0.3 µs per parameter and row; vectorised: 1 µs per parameter plus 0.03 µs
    per parameter and row), then scoring every row once."""
    p = float(n_parameters)
    setup = 2.5e-4 * p
    per_step = (1e-6 * p + 3e-8 * p * rows_per_step) if vectorized else 3e-7 * p * rows_per_step
    scoring = setup + 3e-7 * p * (n_rows + 6400)
    memory = 18_000 * p + 64.0 * n_rows * (n_features + 2) + 60e6
    return setup + steps * per_step + scoring, memory


# ----------------------------------------------------------------------------------------------
# Scoring many rows fast
# ----------------------------------------------------------------------------------------------


class _Scorer:
    """A trained model's outputs for many rows. For a few rows the model is called on each; for
    many, one sample's forward pass is recorded once and replayed over all the rows: through
    generated code (``autograd.replay.tape.SampleTape``: exactly ``model(x)``'s numbers, several times
    faster than building graphs) or, with ``vectorized``, through NumPy (``BatchTape``: the same
    numbers to rounding, far faster)."""

    REPLAY_FROM = 300
    CHUNK = 16_384

    def __init__(self, model: MLP, scaler: Standardizer | None, vectorized: bool = False) -> None:
        self.model = model
        self.scaler = scaler
        self.vectorized = vectorized
        self._tape: Any = None
        self._replay = True

    def _outputs(self, v: Sequence[Any]) -> list[Any]:
        out = self.model(v)
        return out if isinstance(out, list) else [out]

    def _record(self, rows: list[list[float]]) -> Any:
        def per_sample(v: list[Any]) -> tuple[Any, list[Any]]:
            outs = self._outputs(v)
            return sum(outs[1:], outs[0]), outs

        params = self.model.parameters()
        tape: Any = None
        if self.vectorized:
            try:
                from autograd.replay.batch import BatchTape

                tape = BatchTape(per_sample, params, example=rows[0])
            except ImportError:
                tape = None
        if tape is None:
            from autograd.replay.tape import SampleTape

            tape = SampleTape(per_sample, params, rows[0])
        other = next((r for r in rows if r != rows[0]), None)
        if other is not None:
            tape.verify(other)
        return tape

    def scores(self, X: Sequence[Sequence[float]]) -> list[list[float]]:
        return [s for chunk in self._chunks(X) for s in chunk]

    def _chunks(self, X: Sequence[Sequence[float]]) -> Iterator[list[list[float]]]:
        """The scores of ``X``'s rows, CHUNK rows at a time: a large file's rows are prepared and
        replayed a part at a time, so scoring needs memory for one part, not for every row as
        Python lists (each row's numbers are the same either way)."""
        for start in range(0, len(X), self.CHUNK):
            yield self._scores(X[start:start + self.CHUNK])

    def _scores(self, X: Sequence[Sequence[float]]) -> list[list[float]]:
        scaled = self.scaler.transform(X) if self.scaler is not None else X
        rows = scaled.tolist() if hasattr(scaled, "tolist") else [[float(v) for v in x] for x in scaled]
        if not rows:
            return []
        if self._replay and (self._tape is not None or len(rows) >= self.REPLAY_FROM):
            from autograd.replay.tape import TapeMismatchError

            try:
                if self._tape is None:
                    self._tape = self._record(rows)
                self._tape.run(rows, grad=0.0)  # grad 0: the parameters' .grad stay as they are
                return [[float(v) for v in r] for r in zip(*self._tape.watched)]
            except TapeMismatchError:
                self._tape, self._replay = None, False
        from autograd import no_grad

        with no_grad():
            return [[o.data for o in self._outputs(r)] for r in rows]

    def classify(self, X: Sequence[Sequence[float]]) -> list[int]:
        """``nn.train.predict_classes``'s rule (``nn.losses.predict_class``): for one output, above
        the output activation's threshold (0.5 for a sigmoid, else 0); for several, the argmax."""
        threshold = threshold_of(self.model)
        return [predict_class(s, threshold) for chunk in self._chunks(X) for s in chunk]


def _accuracy(pred: Sequence[int], y: Sequence[int]) -> float:
    return sum(p == t for p, t in zip(pred, y)) / len(y) if y else math.nan


# ----------------------------------------------------------------------------------------------
# train
# ----------------------------------------------------------------------------------------------


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


def _train(args: argparse.Namespace) -> int:
    run = _Run()
    try:
        return _train_and_write(args, run)
    except _RefusedError as e:
        _error(str(e))
        return EXIT_USAGE
    except OSError as e:  # every read and every check happened before; this is a write failing
        written = run.writer.written if run.writer is not None else []
        done = f"; wrote {', '.join(written)}" if written else ""
        where = f" {e.filename}" if e.filename else ""
        _error(f"cannot write{where}: {e.strerror or e}{done}")
        return EXIT_FAILED
    except KeyboardInterrupt:
        written = run.writer.written if run.writer is not None else []
        with _sigint_ignored():  # a further Ctrl-C must not cut the last message
            if run.folder is not None and not written:
                release(run.folder)
            done = f"wrote {', '.join(written)}" if written else "nothing was written"
            _note(f"interrupted: stopped at once; {done} (every file written is complete)")
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

    data: _Data
    plan: _Plan
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
    data = _load(args)
    plan = _plan(args, data.name, len(data.X), len(data.classes), data.real)
    X_train: Sequence[Sequence[float]]
    X_test: Sequence[Sequence[float]]
    if plan.test_fraction > 0:
        X_train, X_test, y_train, y_test = train_test_split(data.X, data.y, plan.test_fraction, seed=args.seed)
    else:  # no split: the rows in their order (the default moons run is micrograd's, exactly)
        X_train, X_test, y_train, y_test = data.X, [], data.y, []
    data.X = []  # the split holds the rows now; a large file's rows as loaded are freed
    scaler = Standardizer().fit(X_train) if plan.standardize else None
    n_out = len(data.classes) if LOSSES[plan.loss].multiclass else 1
    widths = [len(data.features), *plan.hidden, n_out]
    split = _Split(data, plan, X_train, X_test, y_train, y_test, scaler, widths, plan.total_steps(len(X_train)))
    seconds, memory = _cost(split, args.vectorized)
    if (seconds > LIMIT_SECONDS or memory > LIMIT_BYTES) and not args.force:
        raise _RefusedError(_over_limit(args, seconds, memory, _work(split)))
    if args.vectorized:
        try:
            import numpy  # noqa: F401
        except ImportError:
            raise _RefusedError(f"--vectorized needs NumPy: {install_hint('numpy')}") from None
        from autograd.replay.arrays import make_namespace

        try:  # the backend, device and dtype, checked before training (no GPU is no crash)
            make_namespace(args.backend, dtype=args.dtype, device=args.device)
        except (ValueError, ImportError) as e:
            raise _RefusedError(f"--backend {args.backend}: {e}") from None
    elif (args.backend, args.device, args.dtype) != ("numpy", None, None):
        raise _RefusedError("--backend, --device and --dtype choose how --vectorized runs; add --vectorized")
    return split


def _over_limit(args: argparse.Namespace, seconds: float, memory: float, work: str, how: str = "") -> str:
    """The refusal of a run over the cost limit, suggesting what applies to its data."""
    fewer = ("fewer --steps or --epochs, a smaller --batch-size or a sample of the file" if args.data is not None
             else "fewer --samples or --steps")
    return (f"this run would take about {_duration(seconds)} and {_size(memory)} of memory ({work}){how}, "
            f"over the limit of {LIMIT_SECONDS / 60:.0f} minutes or {LIMIT_BYTES / 1024**3:.0f} GB; "
            f"use a smaller --hidden, {fewer}, or pass --force")


def _head(path: str) -> tuple[bytes, int] | None:
    """The first SAMPLE_BYTES of a file's text (gunzipped), cut after its last whole line, and the
    file's uncompressed size (from gzip's trailer, which holds it modulo 4 GB); None when the file
    is no larger than that or its start cannot be read (loading it then says why)."""
    try:
        with open(path, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            if f.read(2) == GZIP_MAGIC:
                f.seek(-4, os.SEEK_END)
                size = max(int.from_bytes(f.read(4), "little"), size)
                f.seek(0)
                head = gzip.GzipFile(fileobj=f, mode="rb").read(SAMPLE_BYTES + 1)
            else:
                f.seek(0)
                head = f.read(SAMPLE_BYTES + 1)
    except (OSError, EOFError, ValueError):
        return None
    if len(head) <= SAMPLE_BYTES:
        return None
    cut = head.rfind(b"\n") + 1
    return (head[:cut], size) if cut else None


def _check_cost_before_loading(args: argparse.Namespace, name: str, target: str) -> None:
    """Refuse a large ``--data`` file's run over the cost limit before the file is loaded: the rows
    are estimated from the file's size and the rows in its first SAMPLE_BYTES."""
    head = _head(args.data)
    if head is None or args.force:
        return
    text, size = head
    sample = read_labelled(io.BytesIO(text), args.data, target, sample=True)
    n_rows = max(round(len(sample.X) * size / len(text)), len(sample.X))
    plan = _plan(args, name, n_rows, max(len(sample.classes), 2), True)
    n_out = max(len(sample.classes), 2) if LOSSES[plan.loss].multiclass else 1
    widths = [len(sample.feature_names), *plan.hidden, n_out]
    n_train = n_rows - round(n_rows * plan.test_fraction)
    total = plan.total_steps(n_train)
    rows = plan.rows_per_step(n_train)
    seconds, memory = estimate(_n_parameters(widths), rows, total, n_rows, len(sample.feature_names),
                               args.vectorized)
    if seconds > LIMIT_SECONDS or memory > LIMIT_BYTES:
        work = f"an MLP of {_n_parameters(widths):,} parameters, {rows:,} rows per step, {total:,} steps"
        how = f", estimated from the file's size and its first {len(sample.X):,} rows (about {n_rows:,} in all)"
        raise _RefusedError(_over_limit(args, seconds, memory, work, how))


def _cost(split: _Split, vectorized: bool) -> tuple[float, float]:
    rows = split.plan.rows_per_step(len(split.X_train))
    return estimate(_n_parameters(split.widths), rows, split.total, len(split.X_train) + len(split.X_test),
                    len(split.data.features), vectorized)


def _work(split: _Split) -> str:
    rows = split.plan.rows_per_step(len(split.X_train))
    return f"an MLP of {_n_parameters(split.widths):,} parameters, {rows:,} rows per step, {split.total:,} steps"


def _fit(args: argparse.Namespace, split: _Split, model: MLP) -> tuple[History, _DivergedError | None, float]:
    """Train; stop at the first step whose loss (or, without L2, a weight) is not finite.
    Returns the history, the divergence if any, and the seconds taken."""
    plan = split.plan
    Xt = split.scaler.transform(split.X_train) if split.scaler is not None else split.X_train
    optimizer = make_optimizer(plan.optimizer, model.parameters(), plan.lr, split.total)
    params = model.parameters()
    close, report = _progress(split.total)

    def finite_weights() -> bool:
        return all(map(math.isfinite, [p.data for p in params]))

    diverged: _DivergedError | None = None

    def on_step(k: int, loss: float, acc: float, lr: float) -> bool:
        nonlocal diverged
        report(k, loss, acc, lr)
        if not math.isfinite(loss):
            diverged = _DivergedError(k, loss, f"the loss is {loss}")
        # with an L2 term a non-finite weight makes the next loss non-finite; without, look
        elif not plan.l2 and not finite_weights():
            diverged = _DivergedError(k, loss, "a weight is no longer a finite number")
        return diverged is not None  # True ends training after this step

    started = time.perf_counter()
    try:
        history = train(model, Xt, split.y_train, loss=plan.loss, optimizer=optimizer, steps=plan.steps or 1,
                        batch_size=plan.batch_size, l2=plan.l2, seed=args.seed, on_step=on_step,
                        vectorized=args.vectorized, epochs=plan.epochs,
                        **({"backend": args.backend, "device": args.device, "dtype": args.dtype}
                           if args.vectorized else {}))
    finally:
        close()
    elapsed = time.perf_counter() - started
    if diverged is None and history.steps and not finite_weights():
        diverged = _DivergedError(history.steps - 1, history.loss[-1], "a weight is no longer a finite number")
    return history, diverged, elapsed


def _train_and_write(args: argparse.Namespace, run: _Run) -> int:
    split = _prepare(args)
    data, plan = split.data, split.plan
    try:
        run.folder = claim_run_folder(args.out, data.name, overwrite=args.overwrite)
    except OutputError as e:
        raise _RefusedError(str(e)) from None
    seconds, memory = _cost(split, args.vectorized)
    if seconds > WARN_SECONDS:
        _note(f"warning: this run will take about {_duration(seconds)} and {_size(memory)} of memory "
              f"({_work(split)})")

    model = MLP(len(data.features), split.widths[1:], activation=args.activation, init=plan.init, seed=args.seed)
    held = f" + {len(split.X_test)} held out" if len(split.X_test) else ""
    scaled = ", standardized" if split.scaler is not None else ""
    print(f"valuegrad: training {model} on {data.name} ({len(split.X_train)} points{held}, {plan.loss} loss, "
          f"{plan.optimizer}{scaled})", flush=True)
    history, diverged, elapsed = _fit(args, split, model)

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
    }
    writer = run.writer = RunWriter(run.folder)
    writer.begin()
    if diverged is not None:
        print(f"valuegrad: {done} in {elapsed:.1f} s ({how}); final loss {readable(diverged.loss)}", flush=True)
        writer.text("metrics.csv", metrics_csv(history))
        writer.picture("loss.png", lambda: loss_png(history), _note)
        writer.remove_stale()
        writer.text("summary.json", summary_json(summary))
        print(f"valuegrad: wrote {run.folder.path}/ ({', '.join(writer.written)})", flush=True)
        lr = f" (--lr {plan.lr:g})" if plan.lr is not None else ""
        _error(f"training diverged at {diverged}: try a smaller learning rate{lr}, standardized inputs "
               "(--standardize) or another loss; no model was saved")
        return EXIT_FAILED

    scorer = _Scorer(model, split.scaler, vectorized=args.vectorized)
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
        "features": data.features,
        "target": data.target,
        "standardizer": split.scaler.to_dict() if split.scaler is not None else None,
        "loss": plan.loss,
        "data": data.name,
    })
    writer.text("metrics.csv", metrics_csv(history))
    writer.picture("loss.png", lambda: loss_png(history), _note)
    if len(data.features) == 2:
        writer.picture("decision_boundary.png",
                       lambda: boundary_png(split.X_train, split.y_train, scorer.classify, train_acc), _note)
    else:
        _write_evaluation(writer, split, pred_train, pred_test)
    writer.remove_stale()
    writer.text("summary.json", summary_json(summary))
    print(f"valuegrad: wrote {run.folder.path}/ ({', '.join(writer.written)})", flush=True)
    if history.interrupted:
        _note(f"interrupted by Ctrl-C after {history.steps} of {split.total} steps; the run folder holds the model "
              "as trained so far")
        return EXIT_INTERRUPTED
    return 0


def _write_evaluation(writer: RunWriter, split: _Split, pred_train: list[int], pred_test: list[int]) -> None:
    """``confusion_matrix.png`` and, for 64 features (8x8 images), ``mistakes.png``: on the
    held-out rows, or on the training rows when there are none."""
    held_out = len(split.X_test) > 0
    X, y, pred = (split.X_test, split.y_test, pred_test) if held_out else (split.X_train, split.y_train, pred_train)
    classes = split.data.classes
    matrix = confusion_matrix(y, pred, len(classes))
    what = "held-out data" if held_out else "training data"
    writer.picture("confusion_matrix.png", lambda: confusion_png(matrix, classes, what), _note)
    if len(split.data.features) == 64:
        wrong = [i for i, (t, p) in enumerate(zip(y, pred)) if t != p]
        writer.picture("mistakes.png", lambda: mistakes_png(
            [X[i] for i in wrong], [classes[y[i]] for i in wrong], [classes[pred[i]] for i in wrong],
            "held-out images" if held_out else "training images"), _note)


# ----------------------------------------------------------------------------------------------
# predict
# ----------------------------------------------------------------------------------------------


@dataclass
class _Saved:
    model: MLP
    classes: list[str]
    features: list[str] | None
    target: str | None
    scaler: Standardizer | None


def _load_model(path: str) -> _Saved:
    try:
        model = load(path)
        meta = load_metadata(path)
    except OSError as e:
        raise _RefusedError(f"cannot load model {path}: {e.strerror or e}") from None
    except ValueError as e:
        raise _RefusedError(f"cannot load model: {e}") from None
    if not isinstance(model, MLP):
        raise _RefusedError(f"cannot load model: {path} holds a {type(model).__name__}, not an MLP")
    nin: int = model.config["nin"]
    n_out: int = model.config["nouts"][-1]
    classes = meta.get("classes")
    expected = 2 if n_out == 1 else n_out
    if classes is None:
        classes = [str(k) for k in range(expected)]
    if not (isinstance(classes, list) and all(isinstance(c, str) for c in classes) and len(classes) == expected):
        raise _RefusedError(f"cannot load model: {path}: its metadata 'classes' must be {expected} class names")
    features = meta.get("features")
    if features is not None and not (isinstance(features, list) and len(features) == nin
                                     and all(isinstance(f, str) for f in features)):
        raise _RefusedError(f"cannot load model: {path}: its metadata 'features' must be {nin} column names")
    target = meta.get("target")
    if target is not None and not isinstance(target, str):
        raise _RefusedError(f"cannot load model: {path}: its metadata 'target' must be a column name")
    scaler = None
    if meta.get("standardizer") is not None:
        try:
            scaler = Standardizer.from_dict(meta["standardizer"])
        except ValueError as e:
            raise _RefusedError(f"cannot load model: {path}: bad 'standardizer' metadata: {e}") from None
        if scaler.mean is not None and len(scaler.mean) != nin:
            raise _RefusedError(f"cannot load model: {path}: the standardizer has {len(scaler.mean)} columns, "
                           f"the model {nin} inputs")
    return _Saved(model, classes, features, target, scaler)


def _predict(args: argparse.Namespace) -> int:
    try:
        return _predict_checked(args)
    except _RefusedError as e:
        _error(str(e))
        return EXIT_USAGE


def _predict_checked(args: argparse.Namespace) -> int:
    if args.data is None and not args.values:
        raise _RefusedError("give the point's features (valuegrad predict MODEL X1 X2 ...) or --data FILE.csv")
    if args.data is not None and args.values:
        raise _RefusedError("give either the point's features or --data FILE.csv, not both")
    if args.out is not None and args.data is None:
        raise _RefusedError("--out applies to --data predictions")
    saved = _load_model(args.model)
    nin: int = saved.model.config["nin"]
    scorer = _Scorer(saved.model, saved.scaler)
    if args.data is None:
        if len(args.values) != nin:
            names = f" ({', '.join(saved.features)})" if saved.features else ""
            raise _RefusedError(f"the model takes {nin} features{names}, got {len(args.values)}")
        scores = scorer.scores([args.values])[0]
        cls = scorer.classify([args.values])[0]
        print(f"class {saved.classes[cls]}  scores {' '.join(f'{s:.6g}' for s in scores)}")
        return 0

    if args.out is not None:
        _check_out_file(args.out, args.overwrite)
    target = saved.target if saved.target is not None else "label"
    header, rows, X, labels = _read_for_prediction(args.data, saved, nin, target)
    predicted = [saved.classes[c] for c in scorer.classify(X)]
    column = "predicted"
    while column in header:
        column += "_"
    text = io.StringIO(newline="")
    w = csv.writer(text, lineterminator="\n")
    w.writerow([*header, column])
    for cells, name in zip(rows, predicted):
        w.writerow([*cells, name])
    if args.out is not None:
        atomic_write(args.out, text.getvalue(), mode=0o644)
        print(f"valuegrad: wrote {args.out} ({len(rows)} rows, last column {column!r})")
    else:
        sys.stdout.write(text.getvalue())
    if labels is not None:
        right = sum(a == b for a, b in zip(labels, predicted))
        line = (f"valuegrad: accuracy {right / len(rows):.1%} ({right} of {len(rows)} rows) "
                f"against the {target!r} column")
        print(line, file=sys.stdout if args.out is not None else sys.stderr)
    return 0


def _check_out_file(out: str, overwrite: bool) -> None:
    if os.path.isdir(out):
        raise _RefusedError(f"--out {out} is a folder; name a file such as predictions.csv")
    if os.path.lexists(out) and not overwrite:
        raise _RefusedError(f"--out {out} already exists; pass --overwrite to replace it")
    parent = os.path.dirname(os.path.abspath(out))
    if not os.path.isdir(parent):
        raise _RefusedError(f"cannot write --out {out}: the folder {os.path.dirname(out) or parent} does not exist")
    if not os.access(parent, os.W_OK):
        raise _RefusedError(f"cannot write --out {out}: the folder {os.path.dirname(out) or parent} is not writable")


def _read_for_prediction(path: str, saved: _Saved, nin: int, target: str
                         ) -> tuple[list[str], list[list[str]], list[list[float]], list[str] | None]:
    """``(header, rows, X, labels)``: the file's cells, the model's features in training order,
    and the target column's labels if the file has it (ignored for prediction). The columns are
    found by name for a model that stores its feature names; for one that does not (saved from
    Python), the first ``nin`` columns other than the target are read, and a line says so."""
    try:
        with open(path, "rb") as f:
            return _columns_for_prediction(csv_records(f, path), path, saved, nin, target)
    except ValueError as e:
        raise _RefusedError(str(e)) from None
    except OSError as e:
        raise _RefusedError(f"cannot read --data {path}: {e.strerror or e}") from None


def _columns_for_prediction(records: Iterator[tuple[int, list[str]]], path: str, saved: _Saved, nin: int,
                            target: str) -> tuple[list[str], list[list[str]], list[list[float]], list[str] | None]:
    first = next(records, None)
    if first is None:
        raise _RefusedError(f"{path}: the file needs a header row naming the columns and at least one data row")
    header_line, header_cells = first
    header = column_names(header_cells, path, header_line)  # the checks training makes: no repeated name
    index = {name: j for j, name in enumerate(header)}
    if saved.features is not None:
        missing = [f for f in saved.features if f not in index]
        if missing:
            shown = ", ".join(repr(m) for m in missing[:5]) + (", ..." if len(missing) > 5 else "")
            raise _RefusedError(f"{path}: no column named {shown}; the model was trained on the columns "
                                f"{', '.join(saved.features[:8])}{', ...' if nin > 8 else ''}")
        columns = [index[f] for f in saved.features]
    else:
        others = [j for j, name in enumerate(header) if name != target]
        if len(others) < nin:
            raise _RefusedError(f"{path}: the model takes {nin} features but the file has {len(others)} columns "
                                f"besides {target!r}")
        columns = others[:nin]
        _note(f"the model stores no feature names (saved from Python), so its {nin} inputs are the file's "
              f"first {nin} columns by position: {', '.join(header[j] for j in columns)}")
    t = index.get(target)
    rows: list[list[str]] = []
    X: list[list[float]] = []
    labels: list[str] | None = [] if t is not None else None
    for line, cells in records:
        if len(cells) != len(header):
            raise _RefusedError(f"{path}, line {line}: the row has {len(cells)} cells but the header names "
                                f"{len(header)} columns")
        x: list[float] = []
        for j in columns:
            cell = cells[j].strip()
            value = parse_number(cell)
            if value is None:
                raise _RefusedError(f"{path}, line {line}, column {j + 1} ({header[j]!r}): {cell!r} is not a number")
            if not math.isfinite(value):
                raise _RefusedError(f"{path}, line {line}, column {j + 1} ({header[j]!r}): {cell!r} is not a finite "
                                    "number")
            x.append(value)
        rows.append([c.strip() for c in cells])
        X.append(x)
        if labels is not None and t is not None:
            labels.append(cells[t].strip())
    if not rows:
        raise _RefusedError(f"{path}: the file needs a header row naming the columns and at least one data row")
    return header, rows, X, labels
