"""``valuegrad train``'s plan: the data set asked for, every default resolved, the cost checked."""

from __future__ import annotations

import argparse
import math
import os
from dataclasses import dataclass

from nn.cli.common import RefusedError, duration, size
from nn.cost import estimate, n_parameters
from nn.data import DATASETS, LoadedData, load_dataset, sample_file
from nn.train import LOSSES

__all__ = [
    "DEFAULTS", "FILE", "FILE_PASSES", "GENERATED", "LIMIT_BYTES", "LIMIT_SECONDS", "WARN_SECONDS", "Defaults", "Plan",
    "check_cost_before_loading", "load_data", "make_plan", "over_limit",
]


WARN_SECONDS = 60.0
"""Above this estimated run time ``train`` prints a warning with the estimate."""


LIMIT_SECONDS = 600.0
"""Above this estimated run time (or :data:`LIMIT_BYTES`) ``train`` refuses to start without ``--force``."""


LIMIT_BYTES = 2 * 1024**3


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


def load_data(args: argparse.Namespace) -> LoadedData:
    """The data set named by the arguments (``nn.data.load_dataset``), after every check that can
    be made on it; a large ``--data`` file's cost is checked before it is loaded."""
    try:
        if args.data is not None:
            stem = os.path.basename(args.data).split(".")[0] or "data"
            target = args.target if args.target is not None else "label"
            check_cost_before_loading(args, stem, target)
            return load_dataset(path=args.data, target=target, compact=True)
        if args.target is not None:
            raise RefusedError("--target names the label column of a --data file; it does not apply to --dataset")
        name = args.dataset or "moons"
        if not DATASETS[name].generated:
            for option in ("samples", "noise"):
                if getattr(args, option) is not None:
                    raise RefusedError(f"--{option} applies to the generated sets only, not to --dataset {name}")
        return load_dataset(name, n_samples=args.samples, noise=args.noise, seed=args.seed)
    except ValueError as e:
        message = str(e)  # the library names its arguments; the command line says its options
        raise RefusedError(message.replace("noise", "--noise") if message.startswith("noise ") else message) from None
    except OSError as e:
        raise RefusedError(f"cannot read --data {args.data}: {e.strerror or e}") from None


@dataclass
class Plan:
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


def make_plan(args: argparse.Namespace, name: str, n_rows: int, n_classes: int, real: bool) -> Plan:
    d = FILE if args.data is not None else DEFAULTS.get(name, GENERATED)
    loss = args.loss or ("cross_entropy" if n_classes > 2 or real else "hinge")
    if n_classes > 2 and not LOSSES[loss].multiclass:
        raise RefusedError(f"{name} has {n_classes} classes; use --loss cross_entropy")
    optimizer = args.optimizer or d.optimizer
    lr = args.lr if args.lr is not None else (d.lr if optimizer == d.optimizer else None)
    test_fraction = args.test_fraction if args.test_fraction is not None else d.test_fraction
    steps, epochs = args.steps, args.epochs
    if steps is None and epochs is None:
        steps, epochs = d.steps, d.epochs
        if steps is None and epochs is None:  # a file: about FILE_PASSES sample passes
            n_train = round(n_rows * (1 - test_fraction))
            epochs = min(max(math.ceil(FILE_PASSES / max(n_train, 1)), 5), 200)
    return Plan(
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


def over_limit(args: argparse.Namespace, seconds: float, memory: float, work: str, how: str = "") -> str:
    """The refusal of a run over the cost limit, suggesting what applies to its data."""
    fewer = ("fewer --steps or --epochs, a smaller --batch-size or a sample of the file" if args.data is not None
             else "fewer --samples or --steps")
    return (f"this run would take about {duration(seconds)} and {size(memory)} of memory ({work}){how}, "
            f"over the limit of {LIMIT_SECONDS / 60:.0f} minutes or {LIMIT_BYTES / 1024**3:.0f} GB; "
            f"use a smaller --hidden, {fewer}, or pass --force")


def check_cost_before_loading(args: argparse.Namespace, name: str, target: str) -> None:
    """Refuse a large ``--data`` file's run over the cost limit before the file is loaded: the rows
    are estimated from the file's size and the rows in its first megabyte (``nn.data.sample_file``)."""
    if args.force:
        return
    head = sample_file(args.data, target)
    if head is None:
        return
    sample, n_rows = head
    plan = make_plan(args, name, n_rows, max(len(sample.classes), 2), True)
    n_out = max(len(sample.classes), 2) if LOSSES[plan.loss].multiclass else 1
    widths = [len(sample.feature_names), *plan.hidden, n_out]
    n_train = n_rows - round(n_rows * plan.test_fraction)
    total = plan.total_steps(n_train)
    rows = plan.rows_per_step(n_train)
    seconds, memory = estimate(n_parameters(widths), rows, total, n_rows, len(sample.feature_names),
                               args.vectorized)
    if seconds > LIMIT_SECONDS or memory > LIMIT_BYTES:
        work = f"an MLP of {n_parameters(widths):,} parameters, {rows:,} rows per step, {total:,} steps"
        how = f", estimated from the file's size and its first {len(sample.X):,} rows (about {n_rows:,} in all)"
        raise RefusedError(over_limit(args, seconds, memory, work, how))
