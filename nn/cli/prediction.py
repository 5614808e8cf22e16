"""``valuegrad predict``: one point, or every row of a CSV file, with a saved model."""

from __future__ import annotations

import argparse
import csv
import io
import math
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass

from nn.cli.common import EXIT_USAGE, RefusedError, error, note
from nn.data import (
    Standardizer,
    column_names,
    csv_records,
    parse_number,
)
from nn.files import atomic_write
from nn.io import load, load_metadata
from nn.layers import MLP
from nn.scoring import Scorer

__all__ = ["run_predict"]


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
        raise RefusedError(f"cannot load model {path}: {e.strerror or e}") from None
    except ValueError as e:
        raise RefusedError(f"cannot load model: {e}") from None
    if not isinstance(model, MLP):
        raise RefusedError(f"cannot load model: {path} holds a {type(model).__name__}, not an MLP")
    nin: int = model.config["nin"]
    n_out: int = model.config["nouts"][-1]
    classes = meta.get("classes")
    expected = 2 if n_out == 1 else n_out
    if classes is None:
        classes = [str(k) for k in range(expected)]
    if not (isinstance(classes, list) and all(isinstance(c, str) for c in classes) and len(classes) == expected):
        raise RefusedError(f"cannot load model: {path}: its metadata 'classes' must be {expected} class names")
    features = meta.get("features")
    if features is not None and not (isinstance(features, list) and len(features) == nin
                                     and all(isinstance(f, str) for f in features)):
        raise RefusedError(f"cannot load model: {path}: its metadata 'features' must be {nin} column names")
    target = meta.get("target")
    if target is not None and not isinstance(target, str):
        raise RefusedError(f"cannot load model: {path}: its metadata 'target' must be a column name")
    scaler = None
    if meta.get("standardizer") is not None:
        try:
            scaler = Standardizer.from_dict(meta["standardizer"])
        except ValueError as e:
            raise RefusedError(f"cannot load model: {path}: bad 'standardizer' metadata: {e}") from None
        if scaler.mean is not None and len(scaler.mean) != nin:
            raise RefusedError(f"cannot load model: {path}: the standardizer has {len(scaler.mean)} columns, "
                           f"the model {nin} inputs")
    return _Saved(model, classes, features, target, scaler)


def run_predict(args: argparse.Namespace) -> int:
    try:
        return _predict_checked(args)
    except RefusedError as e:
        error(str(e))
        return EXIT_USAGE


def _predict_checked(args: argparse.Namespace) -> int:
    if args.data is None and not args.values:
        raise RefusedError("give the point's features (valuegrad predict MODEL X1 X2 ...) or --data FILE.csv")
    if args.data is not None and args.values:
        raise RefusedError("give either the point's features or --data FILE.csv, not both")
    if args.out is not None and args.data is None:
        raise RefusedError("--out applies to --data predictions")
    saved = _load_model(args.model)
    nin: int = saved.model.config["nin"]
    scorer = Scorer(saved.model, saved.scaler)
    if args.data is None:
        if len(args.values) != nin:
            names = f" ({', '.join(saved.features)})" if saved.features else ""
            raise RefusedError(f"the model takes {nin} features{names}, got {len(args.values)}")
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
        raise RefusedError(f"--out {out} is a folder; name a file such as predictions.csv")
    if os.path.lexists(out) and not overwrite:
        raise RefusedError(f"--out {out} already exists; pass --overwrite to replace it")
    parent = os.path.dirname(os.path.abspath(out))
    if not os.path.isdir(parent):
        raise RefusedError(f"cannot write --out {out}: the folder {os.path.dirname(out) or parent} does not exist")
    if not os.access(parent, os.W_OK):
        raise RefusedError(f"cannot write --out {out}: the folder {os.path.dirname(out) or parent} is not writable")


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
        raise RefusedError(str(e)) from None
    except OSError as e:
        raise RefusedError(f"cannot read --data {path}: {e.strerror or e}") from None


def _columns_for_prediction(records: Iterator[tuple[int, list[str]]], path: str, saved: _Saved, nin: int,
                            target: str) -> tuple[list[str], list[list[str]], list[list[float]], list[str] | None]:
    first = next(records, None)
    if first is None:
        raise RefusedError(f"{path}: the file needs a header row naming the columns and at least one data row")
    header_line, header_cells = first
    header = column_names(header_cells, path, header_line)  # the checks training makes: no repeated name
    index = {name: j for j, name in enumerate(header)}
    if saved.features is not None:
        missing = [f for f in saved.features if f not in index]
        if missing:
            shown = ", ".join(repr(m) for m in missing[:5]) + (", ..." if len(missing) > 5 else "")
            raise RefusedError(f"{path}: no column named {shown}; the model was trained on the columns "
                                f"{', '.join(saved.features[:8])}{', ...' if nin > 8 else ''}")
        columns = [index[f] for f in saved.features]
    else:
        others = [j for j, name in enumerate(header) if name != target]
        if len(others) < nin:
            raise RefusedError(f"{path}: the model takes {nin} features but the file has {len(others)} columns "
                                f"besides {target!r}")
        columns = others[:nin]
        note(f"the model stores no feature names (saved from Python), so its {nin} inputs are the file's "
              f"first {nin} columns by position: {', '.join(header[j] for j in columns)}")
    t = index.get(target)
    rows: list[list[str]] = []
    X: list[list[float]] = []
    labels: list[str] | None = [] if t is not None else None
    for line, cells in records:
        if len(cells) != len(header):
            raise RefusedError(f"{path}, line {line}: the row has {len(cells)} cells but the header names "
                                f"{len(header)} columns")
        x: list[float] = []
        for j in columns:
            cell = cells[j].strip()
            value = parse_number(cell)
            if value is None:
                raise RefusedError(f"{path}, line {line}, column {j + 1} ({header[j]!r}): {cell!r} is not a number")
            if not math.isfinite(value):
                raise RefusedError(f"{path}, line {line}, column {j + 1} ({header[j]!r}): {cell!r} is not a finite "
                                    "number")
            x.append(value)
        rows.append([c.strip() for c in cells])
        X.append(x)
        if labels is not None and t is not None:
            labels.append(cells[t].strip())
    if not rows:
        raise RefusedError(f"{path}: the file needs a header row naming the columns and at least one data row")
    return header, rows, X, labels
