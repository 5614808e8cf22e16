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
import math
import sys
from collections.abc import Sequence
from typing import NoReturn

from autograd._extras import EXTRAS
from nn.cli.common import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_USAGE
from nn.cli.plan import LIMIT_BYTES, LIMIT_SECONDS
from nn.cli.prediction import run_predict
from nn.cli.training import run_train
from nn.data import DATASETS, is_number
from nn.layers import ACTIVATIONS, INITS
from nn.train import LOSSES

__all__ = ["EXIT_FAILED", "EXIT_INTERRUPTED", "EXIT_USAGE", "build_parser", "main"]


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        # One line, no usage dump, exit code 2 (argparse's convention for bad arguments).
        self.exit(EXIT_USAGE, f"valuegrad: error: {message}\n")


def _positive_int(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if n < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return n


SNAPSHOTS = 100
"""``--snapshots``' default: ``nn.views.training.TARGET_SNAPSHOTS`` (not imported: ``valuegrad``
starts without the views)."""
MAX_SNAPSHOTS = 200
"""``nn.views.training.MAX_SNAPSHOTS``: a view never keeps more."""


def _snapshot_count(text: str) -> int:
    n = _positive_int(text)
    if n > MAX_SNAPSHOTS:
        raise argparse.ArgumentTypeError(f"expected at most {MAX_SNAPSHOTS} snapshots, got {text!r}")
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
                                   "file; write model.json, metrics.csv, summary.json, pictures "
                                   "and training.html.")
    source = t.add_mutually_exclusive_group()
    source.add_argument("--dataset", choices=[*sorted(n for n, d in DATASETS.items() if d.generated),
                                                 *(n for n, d in DATASETS.items() if not d.generated)], default=None,
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
    # not 'step': its gradient is 0 everywhere, so the gradient descent this command runs cannot train it
    t.add_argument("--activation", choices=[a for a in ACTIVATIONS if a not in ("linear", "step")], default="relu")
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
    t.add_argument("--diagnose", action="store_true",
                   help="at the end, print the network's health per layer (gradients, dead and saturated "
                        "units) and write it to diagnosis.json")
    t.add_argument("--seed", type=int, default=1337, metavar="N",
                   help="seeds the data, the split, the weights and the batches")
    t.add_argument("--snapshots", type=_snapshot_count, default=SNAPSHOTS, metavar="N",
                   help=f"training.html keeps at most N evenly spaced snapshots, the last step always one; the "
                        f"held-out set is evaluated at the same steps (default {SNAPSHOTS}, at most {MAX_SNAPSHOTS})")
    t.add_argument("--no-html", dest="html", action="store_false",
                   help="do not record the snapshots nor write training.html")
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
        return run_predict(args)
    return run_train(args)
