"""``valuegrad``: train a small MLP on a toy data set, or predict with a saved one.

    valuegrad train                      # moons, MLP(2, [16, 16, 1]), micrograd's recipe
    valuegrad train --dataset spirals --hidden 32,32 --optimizer adam --steps 300
    valuegrad predict runs/moons-.../model.json 0.5 -0.2
"""

from __future__ import annotations

import argparse
import csv
import io
import math
import os
import sys
import time
from collections.abc import Sequence
from typing import Any, NoReturn

from nn.data import DATASETS
from nn.files import atomic_write
from nn.io import load
from nn.layers import ACTIVATIONS, MLP
from nn.train import LOSSES, History, make_optimizer, predict_classes, train

__all__ = ["main"]

MULTICLASS = ("blobs", "spirals")


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        # One line, no usage dump, exit code 2 (argparse's convention for bad arguments).
        self.exit(2, f"valuegrad: error: {message}\n")


def _positive_int(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if n < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return n


def _nonneg_float(text: str) -> float:
    try:
        x = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not math.isfinite(x) or x < 0:
        raise argparse.ArgumentTypeError(f"expected a finite number >= 0, got {text!r}")
    return x


def _positive_float(text: str) -> float:
    x = _nonneg_float(text)
    if x == 0:
        raise argparse.ArgumentTypeError(f"expected a number > 0, got {text!r}")
    return x


def _widths(text: str) -> list[int]:
    try:
        widths = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated layer widths like 16,16, got {text!r}") from None
    if not widths or any(w < 1 for w in widths):
        raise argparse.ArgumentTypeError(f"expected comma-separated positive widths like 16,16, got {text!r}")
    return widths


def _finite_float(text: str) -> float:
    try:
        x = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not math.isfinite(x):
        raise argparse.ArgumentTypeError(f"expected a finite number, got {text!r}")
    return x


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``valuegrad`` command."""
    parser = _Parser(prog="valuegrad", description="Train and use small MLPs built on valuegrad's autograd.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    t = sub.add_parser("train", help="train an MLP on a toy data set and write a run folder")
    t.add_argument("--dataset", choices=sorted(DATASETS), default="moons")
    t.add_argument("--samples", type=_positive_int, default=100, help="number of points (default 100)")
    t.add_argument("--noise", type=_nonneg_float, default=None, help="data noise (default: the data set's own)")
    t.add_argument("--hidden", type=_widths, default=[16, 16], help="hidden layer widths (default 16,16)")
    t.add_argument("--activation", choices=[a for a in ACTIVATIONS if a != "linear"], default="relu")
    t.add_argument("--loss", choices=LOSSES, default=None, help="default: hinge, or cross_entropy for multi-class")
    t.add_argument("--optimizer", choices=("sgd", "adam"), default="sgd")
    t.add_argument("--lr", type=_positive_float, default=None, help="default: micrograd's 1.0 - 0.9*k/steps (sgd)")
    t.add_argument("--steps", type=_positive_int, default=100)
    t.add_argument("--batch-size", type=_positive_int, default=None, help="default: the whole data set")
    t.add_argument("--vectorized", action="store_true",
                   help="replay one sample's step across each batch with NumPy (needs valuegrad[fast])")
    t.add_argument("--seed", type=int, default=1337, help="seeds the data, the weights and the batches")
    t.add_argument("--out", default=None, help="output folder (default runs/<dataset>-<timestamp>)")
    p = sub.add_parser("predict", help="print a saved model's prediction for one point")
    p.add_argument("model", help="a model.json written by 'valuegrad train'")
    p.add_argument("x1", type=_finite_float)
    p.add_argument("x2", type=_finite_float)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``valuegrad`` console script; returns the exit code."""
    args = build_parser().parse_args(argv)
    if args.command == "predict":
        return _predict(args)
    return _train(args)


def _predict(args: argparse.Namespace) -> int:
    try:
        model = load(args.model)
    except (OSError, ValueError) as e:
        print(f"valuegrad: error: cannot load model: {e}", file=sys.stderr)
        return 2
    if not isinstance(model, MLP) or model.config["nin"] != 2:
        print("valuegrad: error: the model must take 2 inputs", file=sys.stderr)
        return 2
    out = model([args.x1, args.x2])
    scores = [out.data] if not isinstance(out, list) else [v.data for v in out]
    cls = predict_classes(model, [[args.x1, args.x2]])[0]
    print(f"class {cls}  scores {' '.join(f'{s:.6g}' for s in scores)}")
    return 0


class _RefusedError(Exception):
    """A bad argument found before training: one line on stderr and exit code 2."""


def _train(args: argparse.Namespace) -> int:
    try:
        X, y, loss = _dataset(args)
    except _RefusedError as e:
        print(f"valuegrad: error: {e}", file=sys.stderr)
        return 2
    n_out = max(y) + 1 if loss == "cross_entropy" else 1
    model = MLP(2, [*args.hidden, n_out], activation=args.activation, seed=args.seed)
    optimizer = make_optimizer(args.optimizer, model.parameters(), args.lr, args.steps)
    out = args.out or os.path.join("runs", f"{args.dataset}-{time.strftime('%Y%m%d-%H%M%S')}")
    os.makedirs(out, exist_ok=True)

    print(f"valuegrad: training {model} on {args.dataset} ({len(X)} points, {loss} loss, {args.optimizer})")
    started = time.perf_counter()
    bar, on_step = _progress(args.steps)
    try:
        history = train(model, X, y, loss=loss, optimizer=optimizer, steps=args.steps,
                        batch_size=args.batch_size, seed=args.seed, on_step=on_step, vectorized=args.vectorized)
    finally:
        if bar is not None:
            bar.close()
    elapsed = time.perf_counter() - started
    how = ("vectorised replay" if history.vectorized else "compiled replay" if history.compiled
           else "graphs built each step")
    print(f"valuegrad: {args.steps} steps in {elapsed:.1f} s ({how}); final loss {history.loss[-1]:.4f}, "
          f"training accuracy {_accuracy(model, X, y):.1%}")
    _write_run(out, history, model, X, y)
    return 0


def _dataset(args: argparse.Namespace) -> tuple[list[list[float]], list[int], str]:
    """The data set and the loss, after every check that can be made before training."""
    loss = args.loss or ("cross_entropy" if args.dataset in MULTICLASS else "hinge")
    kwargs: dict[str, Any] = {"seed": args.seed}
    if args.noise is not None:
        kwargs["noise"] = args.noise
    try:
        X, y = DATASETS[args.dataset](args.samples, **kwargs)
    except ValueError as e:
        raise _RefusedError(str(e)) from None
    n_classes = max(y) + 1
    if n_classes > 2 and loss != "cross_entropy":
        raise _RefusedError(f"--dataset {args.dataset} has {n_classes} classes; use --loss cross_entropy")
    if args.vectorized:
        try:
            import numpy  # noqa: F401
        except ImportError:
            raise _RefusedError("--vectorized needs NumPy: pip install 'valuegrad[fast]'") from None
    return X, y, loss


def _write_run(out: str, history: History, model: MLP, X: list[list[float]], y: list[int]) -> None:
    """Everything a finished run writes into its folder."""
    _write_metrics(os.path.join(out, "metrics.csv"), history)
    try:
        model.save(os.path.join(out, "model.json"))
    except ValueError as e:
        print(f"valuegrad: could not save model.json: {e}", file=sys.stderr)
    for name, draw in (("loss.png", _plot_history), ("decision_boundary.png", _plot_boundary)):
        try:
            draw(os.path.join(out, name), history, model, X, y)
        except ImportError as e:
            print(f"valuegrad: skipped {name}: {e.name or 'matplotlib'} is not installed "
                  f"(pip install 'valuegrad[train]')", file=sys.stderr)
    print(f"valuegrad: wrote {out}/ (model.json, metrics.csv, loss.png, decision_boundary.png)")


def _accuracy(model: MLP, X: list[list[float]], y: list[int]) -> float:
    preds = predict_classes(model, X)
    return sum(p == t for p, t in zip(preds, y)) / len(y)


def _progress(steps: int) -> tuple[Any, Any]:
    try:
        from tqdm import tqdm
    except ImportError:
        every = max(steps // 10, 1)

        def report(k: int, loss: float, acc: float, lr: float) -> None:
            if k % every == 0 or k == steps - 1:
                print(f"step {k + 1}/{steps}  loss {loss:.4f}  accuracy {acc:.1%}")

        return None, report
    bar = tqdm(total=steps, desc="training", unit="step")

    def update(k: int, loss: float, acc: float, lr: float) -> None:
        bar.set_postfix(loss=f"{loss:.4f}", acc=f"{acc:.0%}", refresh=False)
        bar.update(1)

    return bar, update


def _write_metrics(path: str, history: History) -> None:
    text = io.StringIO(newline="")
    w = csv.writer(text)
    w.writerow(["step", "loss", "accuracy", "lr"])
    for k, (loss, acc, lr) in enumerate(zip(history.loss, history.accuracy, history.lr)):
        w.writerow([k, repr(loss), repr(acc), repr(lr)])
    atomic_write(path, text.getvalue())


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _plot_history(path: str, history: History, model: MLP, X: list[list[float]], y: list[int]) -> None:
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.plot(history.loss, color="tab:blue", label="loss")
    ax.set_xlabel("step")
    ax.set_ylabel("loss", color="tab:blue")
    ax2 = ax.twinx()
    ax2.plot(history.accuracy, color="tab:orange", label="accuracy")
    ax2.set_ylabel("training accuracy", color="tab:orange")
    ax2.set_ylim(0, 1.05)
    ax.set_title("valuegrad training")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def _plot_boundary(path: str, history: History, model: MLP, X: list[list[float]], y: list[int]) -> None:
    plt = _pyplot()
    xs = [p[0] for p in X]
    ys = [p[1] for p in X]
    pad = 0.5
    x0, x1, y0, y1 = min(xs) - pad, max(xs) + pad, min(ys) - pad, max(ys) + pad
    n = 80
    gx = [x0 + (x1 - x0) * i / (n - 1) for i in range(n)]
    gy = [y0 + (y1 - y0) * j / (n - 1) for j in range(n)]
    grid = [[a, b] for b in gy for a in gx]
    classes = predict_classes(model, grid)
    zz = [classes[j * n:(j + 1) * n] for j in range(n)]
    fig, ax = plt.subplots(figsize=(6, 5))
    ax.contourf(gx, gy, zz, levels=[c - 0.5 for c in range(max(max(y), 1) + 2)], cmap="Spectral", alpha=0.6)
    ax.scatter(xs, ys, c=y, s=25, cmap="Spectral", edgecolors="black", linewidths=0.5)
    ax.set_title(f"decision boundary — training accuracy {_accuracy(model, X, y):.0%}")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
