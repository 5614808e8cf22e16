"""The run folder of ``valuegrad train``: claiming it safely, writing every file atomically, and
drawing the pictures (matplotlib, from the ``train`` extra, imported only when drawing).

Nothing here trains; ``nn.cli`` decides what to write and this module writes it:

- :func:`claim_run_folder` checks and creates the output folder *before* training, so a bad
  ``--out`` costs nothing: a unique ``runs/<name>-<timestamp>`` (``-2``, ``-3``, ... when two
  runs start in the same second), or ``--out``, refused when it already holds files unless
  ``overwrite`` is set.
- :class:`RunWriter` writes each file with :func:`nn.files.atomic_write` (``model.json`` 0600, the
  rest 0644), remembers which files it really wrote (for the ``wrote ...`` line) and, in a reused
  folder, removes the outputs of an earlier run that this run did not rewrite, so a folder never
  mixes two runs.
- ``*_png`` functions return the bytes of one picture; they raise :class:`CannotDrawError` for data
  that cannot be drawn (coordinates too large) and ``ImportError`` without matplotlib.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import math
import os
import tempfile
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from autograd._extras import install_hint
from nn.files import atomic_write
from nn.layers import MLP
from nn.train import History

__all__ = [
    "OUTPUTS",
    "CannotDrawError",
    "OutputError",
    "RunFolder",
    "RunWriter",
    "boundary_png",
    "claim_run_folder",
    "confusion_matrix",
    "confusion_png",
    "loss_png",
    "metrics_csv",
    "mistakes_png",
    "readable",
    "release",
    "summary_json",
]

OUTPUTS = ("model.json", "metrics.csv", "loss.png", "decision_boundary.png", "confusion_matrix.png",
           "mistakes.png", "training.html", "diagnosis.json", "summary.json")
"""Every file ``valuegrad train`` may write into a run folder, in the order it writes them."""

FILE_MODE = 0o644
"""The mode of every output except ``model.json`` (which ``Module.save`` writes 0600)."""

MAX_SUFFIX = 1000


class OutputError(Exception):
    """The output folder cannot be used; the message is one line for the user."""


class CannotDrawError(Exception):
    """The data cannot be drawn (for example coordinates near the largest float)."""


def readable(x: float) -> str:
    """A loss as a person reads it: ``0.0118`` for ordinary sizes, ``1.2e+308``, ``inf``, ``nan``."""
    if math.isfinite(x) and abs(x) < 1e5:
        return f"{x:.4f}"
    return f"{x:.4g}"


# ----------------------------------------------------------------------------------------------
# The run folder
# ----------------------------------------------------------------------------------------------


@dataclass
class RunFolder:
    """A folder claimed for one run: ``created`` if this run made it (removed again if the run
    ends before writing anything), ``reused`` if it is an existing folder (``--overwrite``)."""

    path: str
    created: bool
    reused: bool = False


def _why(e: OSError) -> str:
    return e.strerror or str(e) or type(e).__name__


def _check_writable(path: str) -> None:
    """Create and remove a probe file: the only check that tells what the system allows."""
    try:
        fd, probe = tempfile.mkstemp(prefix=".valuegrad-probe-", dir=path)
    except OSError as e:
        raise OutputError(f"cannot write into the folder {path}: {_why(e)}") from None
    os.close(fd)
    os.unlink(probe)


def claim_run_folder(out: str | None, stem: str, overwrite: bool = False, root: str = "runs") -> RunFolder:
    """Check and create the output folder of a run, before any training.

    Args:
        out: the ``--out`` folder, or None for a new ``<root>/<stem>-<YYYYmmdd-HHMMSS>``.
        stem: the first part of a default folder's name (the data set's).
        overwrite: allow an ``out`` that already holds files.
        root: where default folders go.

    Returns:
        The folder, created if needed, and checked to be writable.

    Raises:
        OutputError: a file is in the way, a parent is not a folder, the folder is not writable,
            or ``out`` holds files and ``overwrite`` is False. The message is one line.
    """
    if out is None:
        if os.path.exists(root) and not os.path.isdir(root):
            raise OutputError(f"cannot create a run folder in {root}/: {root} is a file, not a folder "
                              "(move it, or choose a folder with --out)")
        try:
            os.makedirs(root, exist_ok=True)
        except OSError as e:
            raise OutputError(f"cannot create the folder {root}/: {_why(e)}") from None
        base = os.path.join(root, f"{stem}-{time.strftime('%Y%m%d-%H%M%S')}")
        for k in range(1, MAX_SUFFIX + 1):
            path = base if k == 1 else f"{base}-{k}"
            try:
                os.mkdir(path)  # create-exclusive: two runs in the same second get two folders
            except FileExistsError:
                continue
            except OSError as e:
                raise OutputError(f"cannot create the run folder {path}/: {_why(e)}") from None
            folder = RunFolder(path, created=True)
            break
        else:
            raise OutputError(f"cannot create a run folder: {base} to {base}-{MAX_SUFFIX} all exist")
    elif os.path.isdir(out):
        try:
            entries = sorted(os.listdir(out))
        except OSError as e:
            raise OutputError(f"cannot read the --out folder {out}: {_why(e)}") from None
        if entries and not overwrite:
            shown = ", ".join(entries[:3]) + (", ..." if len(entries) > 3 else "")
            raise OutputError(f"--out {out} already holds files ({shown}); pass --overwrite to replace "
                              "them, or choose a new folder")
        folder = RunFolder(out, created=False, reused=bool(entries))
    elif os.path.lexists(out):
        raise OutputError(f"--out {out} exists and is not a folder")
    else:
        try:
            os.makedirs(out)
        except OSError as e:
            parent = os.path.dirname(os.path.abspath(out))
            while os.path.dirname(parent) != parent and not os.path.lexists(parent):
                parent = os.path.dirname(parent)
            if isinstance(e, NotADirectoryError) or not os.path.isdir(parent):
                raise OutputError(f"cannot create the --out folder {out}: {parent} is a file, not a folder") from None
            raise OutputError(f"cannot create the --out folder {out}: {_why(e)}") from None
        folder = RunFolder(out, created=True)
    try:
        _check_writable(folder.path)
    except OutputError:
        release(folder)
        raise
    return folder


def release(folder: RunFolder) -> None:
    """Remove the folder again if this run created it and wrote nothing into it."""
    if folder.created:
        with contextlib.suppress(OSError):
            os.rmdir(folder.path)


@dataclass
class RunWriter:
    """Writes the files of one run into its folder and remembers which it wrote."""

    folder: RunFolder
    written: list[str] = field(default_factory=list)

    def path(self, name: str) -> str:
        return os.path.join(self.folder.path, name)

    def begin(self) -> None:
        """In a reused folder, remove the earlier run's ``summary.json`` first: until this run
        writes its own, the folder does not claim to hold a complete run."""
        if self.folder.reused:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.path("summary.json"))

    def text(self, name: str, text: str) -> None:
        atomic_write(self.path(name), text, mode=FILE_MODE)
        self.written.append(name)

    def model(self, model: MLP, metadata: dict[str, Any]) -> None:
        model.save(self.path("model.json"), metadata=metadata)  # atomic, 0600
        self.written.append("model.json")

    def picture(self, name: str, draw: Callable[[], bytes], warn: Callable[[str], None]) -> None:
        """Write the PNG ``draw()`` returns; without matplotlib, or for data that cannot be drawn,
        say so in one line (through ``warn``) and go on."""
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                data = draw()
        except ImportError as e:
            warn(f"skipped {name}: {e.name or 'matplotlib'} is not installed ({install_hint('matplotlib')})")
            return
        except CannotDrawError as e:
            warn(f"skipped {name}: {e}")
            return
        except (ValueError, ArithmeticError, RuntimeError, MemoryError) as e:
            first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            warn(f"skipped {name}: the data cannot be drawn ({first})")
            return
        atomic_write(self.path(name), data, mode=FILE_MODE)
        self.written.append(name)

    def remove_stale(self) -> None:
        """In a reused folder, remove the outputs of an earlier run this run did not rewrite."""
        if not self.folder.reused:
            return
        for name in OUTPUTS:
            if name not in self.written:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(self.path(name))


# ----------------------------------------------------------------------------------------------
# Text files
# ----------------------------------------------------------------------------------------------


def metrics_csv(history: History) -> str:
    """``step,loss,accuracy,lr,val_loss,val_accuracy``: one row per completed step (``step``
    counted from 0), numbers in full precision.

    ``val_loss`` and ``val_accuracy`` are the held-out figures (``history.val_loss``,
    ``history.val_accuracy``) on the rows of the steps they were evaluated after, and empty on
    every other row (and on every row of a run without held-out data). ``history.val_steps``
    counts from 1: held-out step ``s`` is row ``s - 1``.
    """
    held = {s - 1: (loss, acc) for s, loss, acc in zip(history.val_steps, history.val_loss, history.val_accuracy)}
    text = io.StringIO(newline="")
    w = csv.writer(text, lineterminator="\n")
    w.writerow(["step", "loss", "accuracy", "lr", "val_loss", "val_accuracy"])
    for k, (loss, acc, lr) in enumerate(zip(history.loss, history.accuracy, history.lr)):
        val = held.get(k)
        w.writerow([k, repr(loss), repr(acc), repr(lr), *((repr(val[0]), repr(val[1])) if val else ("", ""))])
    return text.getvalue()


def summary_json(summary: dict[str, Any]) -> str:
    """The summary as JSON; a non-finite number (a diverged loss) becomes null."""
    clean = {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in summary.items()}
    return json.dumps(clean, indent=2, allow_nan=False) + "\n"


def confusion_matrix(y_true: Sequence[int], y_pred: Sequence[int], n_classes: int) -> list[list[int]]:
    """``m[t][p]``: how many rows of true class ``t`` were predicted as ``p``."""
    m = [[0] * n_classes for _ in range(n_classes)]
    for t, p in zip(y_true, y_pred):
        m[t][p] += 1
    return m


# ----------------------------------------------------------------------------------------------
# Pictures
# ----------------------------------------------------------------------------------------------


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _png(plt: Any, fig: Any) -> bytes:
    buffer = io.BytesIO()
    try:
        fig.tight_layout()
        fig.savefig(buffer, format="png", dpi=100)
    finally:
        plt.close(fig)
    return buffer.getvalue()


def loss_png(history: History) -> bytes:
    """The loss and the batch accuracy of every step and, with held-out data, the held-out loss
    and accuracy at the steps they were evaluated (dashed, with markers)."""
    plt = _pyplot()
    losses = [x if math.isfinite(x) else math.nan for x in history.loss]
    held_loss = [x if math.isfinite(x) else math.nan for x in history.val_loss]
    at = [s - 1 for s in history.val_steps]  # the x axis counts steps from 0, as metrics.csv
    fig, ax = plt.subplots(figsize=(7, 4))
    lines = ax.plot(losses, color="tab:blue", label="training loss")
    if at:
        lines += ax.plot(at, held_loss, color="tab:blue", linestyle="--", marker=".", markersize=3,
                         label="held-out loss")
    ax.set_xlabel("step")
    ax.set_ylabel("loss", color="tab:blue")
    finite = [x for x in losses + held_loss if math.isfinite(x)]
    if finite and min(finite) > 0 and max(finite) / min(finite) > 1e6:
        ax.set_yscale("log")
    ax2 = ax.twinx()
    lines += ax2.plot(history.accuracy, color="tab:orange", label="training accuracy (batch)")
    if at:
        lines += ax2.plot(at, history.val_accuracy, color="tab:orange", linestyle="--", marker=".", markersize=3,
                          label="held-out accuracy")
    ax2.set_ylabel("accuracy", color="tab:orange")
    ax2.set_ylim(0, 1.05)
    if at:
        ax.legend(lines, [line.get_label() for line in lines], loc="center right", fontsize=8)
    ax.set_title("valuegrad training")
    return _png(plt, fig)


def boundary_png(X: Sequence[Sequence[float]], y: Sequence[int], classify: Callable[[list[list[float]]], list[int]],
                 accuracy: float) -> bytes:
    """The decision regions of a 2-feature model over a grid around the points, and the points."""
    xs = [p[0] for p in X]
    ys = [p[1] for p in X]
    x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)
    span = max(x1 - x0, y1 - y0)
    if not (math.isfinite(span) and all(math.isfinite(v) for v in (x0, x1, y0, y1))) or span > 1e150:
        biggest = max(abs(v) for v in (x0, x1, y0, y1))
        raise CannotDrawError(f"the points are too far apart to draw (coordinates up to {biggest:.3g})")
    pad = max(0.5, 0.05 * span)
    x0, x1, y0, y1 = x0 - pad, x1 + pad, y0 - pad, y1 + pad
    n = 80
    gx = [x0 + (x1 - x0) * i / (n - 1) for i in range(n)]
    gy = [y0 + (y1 - y0) * j / (n - 1) for j in range(n)]
    classes = classify([[a, b] for b in gy for a in gx])
    zz = [classes[j * n:(j + 1) * n] for j in range(n)]
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6, 5))
    top = max(max(y), max(classes), 1)
    ax.contourf(gx, gy, zz, levels=[c - 0.5 for c in range(top + 2)], cmap="Spectral", alpha=0.6)
    ax.scatter(xs, ys, c=list(y), s=25, cmap="Spectral", vmin=0, vmax=top, edgecolors="black", linewidths=0.5)
    ax.set_title(f"decision boundary — training accuracy {accuracy:.0%}")
    return _png(plt, fig)


def confusion_png(matrix: list[list[int]], classes: Sequence[str], what: str) -> bytes:
    """The confusion matrix (rows: true class, columns: predicted), counts written in the cells."""
    plt = _pyplot()
    k = len(classes)
    size = min(4 + 0.45 * k, 14)
    fig, ax = plt.subplots(figsize=(size + 1, size))
    image = ax.imshow(matrix, cmap="Blues")
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
    if k <= 30:
        ax.set_xticks(range(k), [str(c) for c in classes], rotation=90 if k > 10 else 0)
        ax.set_yticks(range(k), [str(c) for c in classes])
        peak = max(max(row) for row in matrix) or 1
        for t in range(k):
            for p in range(k):
                if matrix[t][p]:
                    color = "white" if matrix[t][p] > peak / 2 else "black"
                    ax.text(p, t, str(matrix[t][p]), ha="center", va="center", color=color, fontsize=10)
    total = sum(map(sum, matrix))
    right = sum(matrix[i][i] for i in range(k))
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    ax.set_title(f"confusion matrix — {what}: {right} of {total} right ({right / max(total, 1):.1%})")
    return _png(plt, fig)


def mistakes_png(images: Sequence[Sequence[float]], true: Sequence[str], predicted: Sequence[str], what: str,
                 side: int = 8, limit: int = 60) -> bytes:
    """A grid of misclassified ``side`` x ``side`` images (row by row), each labelled
    ``true -> predicted``; at most ``limit`` of them."""
    plt = _pyplot()
    shown = list(images[:limit])
    cols = 10
    rows = max(1, math.ceil(len(shown) / cols))
    fig, ax = plt.subplots(figsize=(cols * 0.9, rows * 1.05 + 0.6))
    ax.set_axis_off()
    title = f"misclassified {what}: {len(images)}" + (f" (first {limit} shown)" if len(images) > limit else "")
    if not shown:
        ax.text(0.5, 0.5, f"no misclassified {what}", ha="center", va="center", fontsize=12)
        ax.set_title(title)
        return _png(plt, fig)
    lo = min(min(img) for img in shown)
    hi = max(max(img) for img in shown)
    if not (math.isfinite(lo) and math.isfinite(hi)):
        raise CannotDrawError("the images hold values too large to draw")
    cell = side + 4  # room for the label under each image
    canvas = [[math.nan] * (cols * (side + 1)) for _ in range(rows * cell)]
    for i, img in enumerate(shown):
        r, c = divmod(i, cols)
        for py in range(side):
            for px in range(side):
                canvas[r * cell + py][c * (side + 1) + px] = img[py * side + px]
    ax.imshow(canvas, cmap="gray_r", vmin=lo, vmax=hi if hi > lo else lo + 1, interpolation="nearest")
    for i in range(len(shown)):
        r, c = divmod(i, cols)
        ax.text(c * (side + 1) + side / 2 - 0.5, r * cell + side + 1.2, f"{true[i]}→{predicted[i]}",
                ha="center", va="center", fontsize=8, color="tab:red")
    ax.set_title(title + " (true→predicted)")
    return _png(plt, fig)
