"""Data for classification: toy 2-D sets, CSV files, two real data sets, splitting and scaling.

Toy sets (written here, no scikit-learn, seeded): each ``make_*`` function returns ``(X, y)``,
``X`` a list of ``[x1, x2]`` float lists, ``y`` a list of integer class labels starting at 0.
The same ``seed`` gives the same data on every run; with ``seed=None`` the points come from fresh
randomness. ``DATASETS`` names them for the CLI.

Real data: :func:`load_csv` reads a labelled CSV file (plain or gzip-compressed) with the
standard library's ``csv`` module; :func:`load_iris` and :func:`load_digits` read the two small
data sets shipped inside the package (see ``docs/datasets.md`` for their sources and licences).
Each returns ``(X, y, classes)``: ``X`` rows of floats, ``y`` class indices ``0..k-1`` and
``classes`` the class names, ``classes[y[i]]`` being the label of row ``i``.

Preparing them: :func:`train_test_split` makes a seeded, stratified split and
:class:`Standardizer` rescales every feature to mean 0 and standard deviation 1 (fit it on the
training part only).

    >>> X, y, classes = load_iris()
    >>> X_train, X_test, y_train, y_test = train_test_split(X, y, test_fraction=0.2, seed=0)
    >>> scaler = Standardizer().fit(X_train)
    >>> len(scaler.transform(X_test)), classes
    (30, ['setosa', 'versicolor', 'virginica'])
"""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import itertools
import math
import numbers
import os
import random
import sys
import zlib
from array import array
from collections.abc import Callable, Iterator, Mapping, Sequence
from importlib import resources
from typing import Any, BinaryIO, NamedTuple, TypeVar, cast

__all__ = [
    "DATASETS",
    "CSVData",
    "Standardizer",
    "decode_csv",
    "is_number",
    "load_csv",
    "load_digits",
    "load_iris",
    "make_blobs",
    "make_circles",
    "make_moons",
    "make_spirals",
    "make_xor",
    "train_test_split",
]

Dataset = tuple[list[list[float]], list[int]]


def _check(n_samples: object, noise: object, min_samples: int = 2, n_classes: object = 2) -> None:
    if isinstance(n_samples, bool) or not isinstance(n_samples, int) or n_samples < min_samples:
        raise ValueError(f"n_samples must be an integer >= {min_samples}, got {n_samples!r}")
    if isinstance(noise, bool) or not isinstance(noise, (int, float)) or not (0.0 <= noise < math.inf):
        raise ValueError(f"noise must be a finite number >= 0, got {noise!r}")
    if isinstance(n_classes, bool) or not isinstance(n_classes, int) or not 2 <= n_classes <= n_samples:
        raise ValueError(f"n_classes must be an integer in [2, n_samples], got {n_classes!r}")


def _shuffled(rng: random.Random, X: list[list[float]], y: list[int]) -> Dataset:
    order = list(range(len(X)))
    rng.shuffle(order)
    return [X[i] for i in order], [y[i] for i in order]


def make_moons(n_samples: int = 100, noise: float = 0.1, seed: int | None = None) -> Dataset:
    """Two interleaving half circles: class 0 the upper moon, class 1 the lower one.

    Example:
        >>> X, y = make_moons(4, noise=0.0, seed=0)
        >>> len(X), sorted(y)
        (4, [0, 0, 1, 1])
    """
    _check(n_samples, noise)
    rng = random.Random(seed)
    n_upper = n_samples // 2
    n_lower = n_samples - n_upper
    X: list[list[float]] = []
    y: list[int] = []
    for i in range(n_upper):
        t = math.pi * i / max(n_upper - 1, 1)
        X.append([math.cos(t) + rng.gauss(0.0, noise), math.sin(t) + rng.gauss(0.0, noise)])
        y.append(0)
    for i in range(n_lower):
        t = math.pi * i / max(n_lower - 1, 1)
        X.append([1.0 - math.cos(t) + rng.gauss(0.0, noise), 0.5 - math.sin(t) + rng.gauss(0.0, noise)])
        y.append(1)
    return _shuffled(rng, X, y)


def make_circles(n_samples: int = 100, noise: float = 0.05, factor: float = 0.5, seed: int | None = None) -> Dataset:
    """A small circle (class 1) inside a large one (class 0); ``factor`` is the radius ratio."""
    _check(n_samples, noise)
    if isinstance(factor, bool) or not isinstance(factor, (int, float)) or not 0.0 < factor < 1.0:
        raise ValueError(f"factor must be between 0 and 1, got {factor!r}")
    rng = random.Random(seed)
    n_outer = n_samples // 2
    X: list[list[float]] = []
    y: list[int] = []
    for label, count, radius in ((0, n_outer, 1.0), (1, n_samples - n_outer, float(factor))):
        for i in range(count):
            t = 2.0 * math.pi * i / count
            X.append([radius * math.cos(t) + rng.gauss(0.0, noise), radius * math.sin(t) + rng.gauss(0.0, noise)])
            y.append(label)
    return _shuffled(rng, X, y)


def make_blobs(n_samples: int = 150, n_classes: int = 3, noise: float = 0.6, seed: int | None = None) -> Dataset:
    """Gaussian blobs (standard deviation ``noise``) around ``n_classes`` centres on a circle of radius 3."""
    _check(n_samples, noise, n_classes=n_classes)
    rng = random.Random(seed)
    X: list[list[float]] = []
    y: list[int] = []
    for i in range(n_samples):
        k = i % n_classes
        angle = 2.0 * math.pi * k / n_classes
        X.append([3.0 * math.cos(angle) + rng.gauss(0.0, noise), 3.0 * math.sin(angle) + rng.gauss(0.0, noise)])
        y.append(k)
    return _shuffled(rng, X, y)


def make_spirals(n_samples: int = 150, n_classes: int = 3, noise: float = 0.2, seed: int | None = None) -> Dataset:
    """``n_classes`` interleaved spiral arms (CS231n's classic), radius 0 to 1."""
    _check(n_samples, noise, n_classes=n_classes)
    rng = random.Random(seed)
    X: list[list[float]] = []
    y: list[int] = []
    for k in range(n_classes):
        count = n_samples // n_classes + (1 if k < n_samples % n_classes else 0)
        for i in range(count):
            r = i / max(count - 1, 1)
            t = 4.0 * r + 2.0 * math.pi * k / n_classes + rng.gauss(0.0, noise)
            X.append([r * math.sin(t), r * math.cos(t)])
            y.append(k)
    return _shuffled(rng, X, y)


def make_xor(n_samples: int = 100, noise: float = 0.1, seed: int | None = None) -> Dataset:
    """Points in the four quadrants of [-1, 1]²; class 1 where the signs of x1 and x2 differ."""
    _check(n_samples, noise)
    rng = random.Random(seed)
    X: list[list[float]] = []
    y: list[int] = []
    for i in range(n_samples):
        sx = 1.0 if i % 2 else -1.0
        sy = 1.0 if (i // 2) % 2 else -1.0
        x1 = sx * rng.uniform(0.1, 1.0) + rng.gauss(0.0, noise)
        x2 = sy * rng.uniform(0.1, 1.0) + rng.gauss(0.0, noise)
        X.append([x1, x2])
        y.append(int(sx != sy))
    return _shuffled(rng, X, y)


DATASETS: dict[str, Callable[..., Dataset]] = {
    "moons": make_moons,
    "circles": make_circles,
    "blobs": make_blobs,
    "spirals": make_spirals,
    "xor": make_xor,
}
"""Every data set by the name the CLI uses."""


# --------------------------------------------------------------------------------------------
# Real data: CSV files and the packaged data sets
# --------------------------------------------------------------------------------------------

LabelledData = tuple[list[list[float]], list[int], list[str]]
"""``(X, y, classes)``: rows of float features, class indices ``0..k-1`` and the class names."""

GZIP_MAGIC = b"\x1f\x8b"
"""The first two bytes of gzip data: how a compressed CSV file is recognised."""


def _where(source: str, line: int | None = None, column: int | None = None, name: str | None = None) -> str:
    """``'file, line 3, column 2 ('x')'``: the place an error message points at (``column`` 0-based)."""
    place = source
    if line is not None:
        place += f", line {line}"
    if column is not None:
        place += f", column {column + 1}"
        if name:
            place += f" ({name!r})"
    return place


def decode_csv(raw: bytes, source: str) -> str:
    """The text of a CSV file's bytes: gunzipped if they are gzip data, then decoded as UTF-8.

    Raises:
        ValueError: broken gzip data, or bytes that are not UTF-8 (naming ``source`` and the line).
    """
    if raw[:2] == GZIP_MAGIC:
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as err:
            raise ValueError(f"{source}: not a readable gzip file ({err})") from None
    if raw.startswith(codecs.BOM_UTF8):
        raw = raw[len(codecs.BOM_UTF8):]
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as err:
        line = raw.count(b"\n", 0, err.start) + 1
        raise ValueError(
            f"{_where(source, line)}: not UTF-8 text (byte 0x{raw[err.start]:02x}); save the file as UTF-8"
        ) from None


def parse_number(text: str) -> float | None:
    """``float(text)`` when ``text`` is written as a number, else None.

    Args:
        text: the text of one cell (already stripped of spaces).

    Returns:
        The number (nan and inf included) when :func:`is_number` accepts ``text``, else None.
    """
    # float() reads every number the rule accepts and, beyond it, only '_' separators, non-ASCII
    # digits and surrounding whitespace: ruling those out first leaves exactly the rule, read in C
    # (a regex per cell made loading a large file several times slower).
    if not text.isascii() or "_" in text or text != text.strip():
        return None
    try:
        return float(text)
    except ValueError:
        return None


def is_number(text: str) -> bool:
    """True if ``text`` is a number as a CSV file writes it.

    That is an optional sign, ASCII digits with an optional decimal point and exponent, or
    ``nan``/``inf``/``infinity`` in any case. Python's ``float`` reads more, none of which a
    data file means as a number: ``1_000``, non-ASCII digits (``'١٢'``, fullwidth ``'１'``)
    and spaces around the number.

    Args:
        text: the text of one cell (already stripped of spaces).

    Returns:
        Whether ``text`` reads as a number.

    Example:
        >>> is_number("-1.5e3"), is_number("1_000"), is_number("\uff11")
        (True, False, False)
    """
    return parse_number(text) is not None


class _Labelled(NamedTuple):
    X: list[list[float]]
    y: list[int]
    classes: list[str]


class CSVData(_Labelled):
    """What :func:`load_csv` returns: the named tuple ``(X, y, classes)``, plus the column names.

    It unpacks into three as before (``X, y, classes = load_csv(...)``) and compares equal to
    the plain tuple; ``feature_names`` and ``target`` say which columns ``X`` and ``y`` came from.

    Attributes:
        X: the rows of features as floats, columns in file order, the target left out.
        y: each row's class index ``0..k-1``.
        classes: the labels as written in the file, ``classes[y[i]]`` being row ``i``'s.
        feature_names: the header's names of the columns of ``X``, in order.
        target: the header's name of the label column.
    """

    feature_names: list[str]
    target: str

    def __new__(cls, X: list[list[float]], y: list[int], classes: list[str], feature_names: list[str],
                target: str) -> CSVData:
        self = super().__new__(cls, X, y, classes)
        self.feature_names = feature_names
        self.target = target
        return self

    def __repr__(self) -> str:
        return (f"CSVData(X=<{len(self.X)} rows>, y=<{len(self.y)} labels>, classes={self.classes!r}, "
                f"feature_names={self.feature_names!r}, target={self.target!r})")


def _open_binary(stream: BinaryIO) -> BinaryIO:
    """``stream`` itself, or a gunzipping reader over it when it starts with gzip's magic bytes."""
    magic = stream.read(2)
    stream.seek(0)
    if magic == GZIP_MAGIC:
        return cast(BinaryIO, gzip.GzipFile(fileobj=stream, mode="rb"))
    return stream


def _utf8_error(stream: BinaryIO, source: str) -> str:
    """The place of the first byte of ``stream`` that is not UTF-8, re-read line by line."""
    stream.seek(0)
    for line, raw in enumerate(_open_binary(stream), start=1):
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError as err:
            return f"{_where(source, line)}: not UTF-8 text (byte 0x{raw[err.start]:02x}); save the file as UTF-8"
    return f"{source}: not UTF-8 text; save the file as UTF-8"


def csv_records(stream: BinaryIO, source: str) -> Iterator[tuple[int, list[str]]]:
    """The non-blank records of a CSV file, read as a stream, each with the line it starts on.

    The bytes are gunzipped when they are gzip data and decoded as UTF-8 (a byte-order mark is
    dropped). Used by :func:`load_csv` and by ``valuegrad predict``.

    Args:
        stream: the file opened for reading bytes, seekable (re-read to place a UTF-8 error).
        source: the file's name for the messages.

    Returns:
        An iterator of ``(line, cells)``, ``line`` the 1-based line the record starts on.

    Raises:
        ValueError: (while iterating) not valid CSV, not UTF-8, or broken gzip data; the message
            names ``source`` and, where known, the line.
    """
    text = io.TextIOWrapper(_open_binary(stream), encoding="utf-8-sig", newline="")
    reader = csv.reader(text, skipinitialspace=True)
    previous_line = 0
    try:
        for record in reader:
            line, previous_line = previous_line + 1, reader.line_num
            if record:  # a blank line reads as [] and is skipped
                yield line, record
    except csv.Error as err:
        raise ValueError(f"{_where(source, reader.line_num)}: not valid CSV ({err})") from None
    except UnicodeDecodeError:
        raise ValueError(_utf8_error(stream, source)) from None
    except (OSError, EOFError, zlib.error) as err:  # gzip data that breaks off or is corrupt
        raise ValueError(f"{source}: not a readable gzip file ({err})") from None


def column_names(cells: list[str], source: str, line: int) -> list[str]:
    """The header's column names, stripped, after the checks :func:`load_csv` makes on them.

    Args:
        cells: the header record's cells.
        source: the file's name for the messages.
        line: the header's line.

    Returns:
        The names, spaces around them removed.

    Raises:
        ValueError: a name is empty or repeated, the row holds only numbers (no header), or it is
            one column holding ``;`` or tabs (a file with another separator).
    """
    names = [cell.strip() for cell in cells]
    if len(names) == 1:
        for sep, what in ((";", "semicolons"), ("\t", "tabs")):
            if sep in names[0]:
                raise ValueError(
                    f"{_where(source, line)}: the header is one column, {names[0][:60]!r}, holding {what}; "
                    f"the file seems to separate its columns with {what}, but valuegrad reads comma-separated "
                    "files: save it with commas between the columns"
                )
    if all(is_number(n) for n in names):
        raise ValueError(
            f"{_where(source, line)}: the first row holds only numbers, so it looks like data; "
            "the file needs a header row naming the columns"
        )
    seen: dict[str, int] = {}
    for j, name in enumerate(names):
        if not name:
            raise ValueError(f"{_where(source, line, j)}: empty column name in the header row")
        if name in seen:
            raise ValueError(f"{_where(source, line, j, name)}: duplicate column name (also column {seen[name] + 1})")
        seen[name] = j
    return names


def _numpy() -> Any:
    """The numpy module, or None where it is not installed (it is an optional dependency)."""
    try:
        import numpy
    except ImportError:
        return None
    return numpy


def _row_values(cells: list[str]) -> list[float] | None:
    """Every cell as a float when each is a finite number by :func:`is_number`'s rule (spaces
    around a cell allowed), else None, for the cell-by-cell check to say which cell is wrong.

    One test on the row's joined text ('_' or a non-ASCII character anywhere sends the row to
    that check) and ``float`` on each cell replace a test per cell: ``float`` reads nothing else
    that the rule rejects, and whitespace it skips is what ``strip`` would have removed. A row
    whose sum is not finite (nan, inf, or finite values that overflow) is checked cell by cell.
    """
    joined = "".join(cells)
    if not joined.isascii() or "_" in joined:
        return None
    try:
        row = list(map(float, cells))
    except ValueError:
        return None
    return row if math.isfinite(sum(row)) else None


def read_labelled(stream: BinaryIO, source: str, target: str | None, compact: bool = False,
                   sample: bool = False) -> CSVData:
    """:func:`load_csv` on an open stream, one record at a time.

    Args:
        stream: the file opened for reading bytes (plain or gzip), seekable.
        source: the file's name for the messages.
        target: the label column's name; ``None`` means the last column.
        compact: store the features as 8 bytes a value instead of about 32 for lists of floats
            (``valuegrad train --data`` uses this): ``X`` is then one 2-D NumPy float64 array
            where NumPy is installed, else a list of ``array('d')`` rows.
        sample: the stream is only the start of a file, so a single class is not an error.

    Returns:
        A :class:`CSVData`, as :func:`load_csv` describes.

    Raises:
        ValueError: as :func:`load_csv`, naming ``source``, the line and the column.
    """
    records = csv_records(stream, source)
    first = next(records, None)
    if first is None:
        raise ValueError(f"{source}: the file is empty; it needs a header row naming the columns, then data rows")
    header_line, header_cells = first
    names = column_names(header_cells, source, header_line)
    if target is None:
        t = len(names) - 1
    elif target in names:
        t = names.index(target)
    else:
        listed = ", ".join(repr(n) for n in names)
        raise ValueError(f"{_where(source, header_line)}: no column named {target!r}; the columns are {listed}")
    if len(names) < 2:
        raise ValueError(
            f"{_where(source, header_line, t, names[t])}: this is the only column; "
            "the file needs at least one feature column besides the target"
        )

    width = len(names)
    features = [j for j in range(width) if j != t]
    np: Any = _numpy() if compact else None
    flat = array("d") if np is not None else None  # every row's values one after another
    X: list[Any] = []
    n_rows = 0
    label_ids: list[int] = []  # each row's label as an index into first_seen's order
    first_seen: dict[str, int] = {}  # label -> line it first appears on
    ids: dict[str, int] = {}
    for line, cells in records:
        if len(cells) != width:
            if len(cells) < width:
                j = len(cells)
                what = f"missing cell: the row has {len(cells)} cells but the header names {width} columns"
                raise ValueError(f"{_where(source, line, j, names[j])}: {what}")
            what = f"extra cell: the row has {len(cells)} cells but the header names {width} columns"
            raise ValueError(f"{_where(source, line, width)}: {what}")
        label = cells.pop(t).strip()  # cells now holds the features, column features[k] at k
        row = _row_values(cells)
        if row is None:
            row = []
            for j, cell in zip(features, cells):
                cell = cell.strip()
                if not cell:
                    raise ValueError(f"{_where(source, line, j, names[j])}: empty cell")
                value = parse_number(cell)
                if value is None:
                    raise ValueError(f"{_where(source, line, j, names[j])}: {cell!r} is not a number")
                if not math.isfinite(value):
                    raise ValueError(f"{_where(source, line, j, names[j])}: {cell!r} is not a finite number")
                row.append(value)
        k = ids.get(label)
        if k is None:
            if not label:
                raise ValueError(f"{_where(source, line, t, names[t])}: empty cell (no label)")
            number = parse_number(label)
            if number is not None and not math.isfinite(number):
                raise ValueError(f"{_where(source, line, t, names[t])}: {label!r} is not a finite number, so not "
                                 "a class label (a missing value?); labels are class names or finite numbers")
            k = ids[label] = len(ids)
            first_seen[label] = line
        if flat is not None:
            flat.extend(row)
        else:
            X.append(array("d", row) if compact else row)
        n_rows += 1
        label_ids.append(k)
    if flat is not None and n_rows:
        # a view of the array's memory, not a copy: the rows are never held twice
        X = np.frombuffer(flat, dtype=np.float64).reshape(n_rows, len(features))
    if not n_rows:
        raise ValueError(f"{source}: the file has a header row but no data rows")

    distinct = list(first_seen)
    numbers = {label: parse_number(label) for label in distinct}
    if all(v is not None for v in numbers.values()):
        by_value: dict[float, str] = {}
        for label in distinct:
            number = numbers[label]
            assert number is not None
            if number in by_value:
                raise ValueError(
                    f"{_where(source, first_seen[label], t, names[t])}: label {label!r} is the same number as "
                    f"label {by_value[number]!r} (line {first_seen[by_value[number]]}); write each class one way"
                )
            by_value[number] = label
        classes = [by_value[v] for v in sorted(by_value)]
    else:
        classes = sorted(distinct)
    if len(classes) < 2 and not sample:
        raise ValueError(
            f"{_where(source, None, t, names[t])}: every row has the label {classes[0]!r}; "
            "classification needs at least 2 classes"
        )
    index = [classes.index(label) for label in distinct]
    return CSVData(X, [index[k] for k in label_ids], classes, [names[j] for j in features], names[t])


def load_csv(path: str | os.PathLike[str], target: str | None = "label") -> CSVData:
    """Read a labelled CSV file for classification: float features and one class column.

    The first row must be a header naming the columns (unique names). Every other column than
    the target is a feature, and every feature cell must be a finite number written with ASCII
    digits (see :func:`is_number`: ``1_000`` and ``'١٢'`` are not numbers). Spaces around names
    and cells are ignored. The target column may be anywhere and hold integers or text: its
    distinct labels are sorted (numerically when every label is a number, as strings otherwise)
    and numbered ``0..k-1``; ``nan`` and ``inf`` are not labels.
    Files compressed with gzip (``.csv.gz``; recognised by their content) are read
    transparently; the text must be UTF-8 (a byte-order mark is allowed). Blank lines are
    skipped. The file is read as a stream, one row at a time, with the standard library's
    ``csv`` module.

    Args:
        path: the CSV file, plain or gzip-compressed.
        target: the name of the column holding the class labels; ``None`` means the last column.

    Returns:
        A :class:`CSVData`, the named tuple ``(X, y, classes)``: ``X`` the rows of features as
        floats (columns in file order, the target left out), ``y`` each row's class index,
        ``classes`` the labels as written in the file, so ``classes[y[i]]`` is row ``i``'s label
        (for labels 10, 9, 2: ``['2', '9', '10']``). Its ``feature_names`` attribute holds the
        names of ``X``'s columns and ``target`` the label column's name.

    Raises:
        ValueError: the file is empty or has no data rows, its first row looks like data (no
            header), its header is one column holding ``;`` or tabs (another separator), a
            column name is empty or repeated, the target column is missing (the message lists
            the columns), a row has too few or too many cells, a cell is empty, not a number or
            not finite (nan, inf), a label is nan or inf, two labels are the same number written
            two ways (``1`` and ``1.0``), there is only one class, or the file is not UTF-8 or
            not readable gzip. The message names the file and, where they apply, the line and
            the column (1-based index and name).
        OSError: the file cannot be opened (``FileNotFoundError`` and the like).

    Example:
        >>> X, y, classes = load_csv("flowers.csv", target="species")  # doctest: +SKIP
        >>> X[0], y[0], classes  # doctest: +SKIP
        ([5.1, 3.5, 1.4, 0.2], 0, ['setosa', 'versicolor', 'virginica'])
        >>> load_csv("flowers.csv", target="species").feature_names  # doctest: +SKIP
        ['sepal_length', 'sepal_width', 'petal_length', 'petal_width']
    """
    source = os.fspath(path)
    with open(source, "rb") as f:
        return read_labelled(f, source, target)


def _load_packaged(filename: str, target: str) -> CSVData:
    resource = resources.files("nn") / "datasets" / filename
    source = f"nn/datasets/{filename} (packaged with valuegrad)"
    return read_labelled(io.BytesIO(resource.read_bytes()), source, target)


def load_iris() -> CSVData:
    """Fisher's iris flowers: 150 rows, 4 measurements in cm, 3 species of 50 rows each.

    Read from the copy packaged with valuegrad (``nn/datasets/iris.csv.gz``); the features are
    ``sepal_length, sepal_width, petal_length, petal_width`` and the target column ``species``.
    Source: R. A. Fisher (1936), via the UCI Machine Learning Repository (CC BY 4.0); the
    values are those of Fisher's paper (see ``docs/datasets.md``).

    Returns:
        ``(X, y, classes)`` as from :func:`load_csv`: 150 rows of 4 floats, class indices 0..2,
        and ``['setosa', 'versicolor', 'virginica']``. Rows are in the file's order (by species).

    Example:
        >>> X, y, classes = load_iris()
        >>> len(X), X[0], y[0], classes[y[0]]
        (150, [5.1, 3.5, 1.4, 0.2], 0, 'setosa')
    """
    return _load_packaged("iris.csv.gz", "species")


def load_digits() -> CSVData:
    """Handwritten digits, 8×8 version: 1,797 images of 64 pixel counts (0–16), digits 0–9.

    Read from the copy packaged with valuegrad (``nn/datasets/digits.csv.gz``); the features
    are ``pixel_0_0 .. pixel_7_7`` (``pixel_<row>_<column>``, row by row) and the target column
    ``digit``. Each pixel counts the set bits in a 4×4 block of a 32×32 bitmap. Source:
    E. Alpaydin and C. Kaynak (1998), "Optical Recognition of Handwritten Digits", UCI Machine
    Learning Repository (CC BY 4.0); the 1,797 test-set images (see ``docs/datasets.md``).

    Returns:
        ``(X, y, classes)`` as from :func:`load_csv`: 1,797 rows of 64 floats, class indices
        0..9 equal to the digit, and ``['0', '1', ..., '9']``.

    Example:
        >>> X, y, classes = load_digits()
        >>> len(X), len(X[0]), classes[y[0]]
        (1797, 64, '0')
    """
    return _load_packaged("digits.csv.gz", "digit")


# --------------------------------------------------------------------------------------------
# Splitting and scaling
# --------------------------------------------------------------------------------------------

Row = TypeVar("Row")


def train_test_split(
    X: Sequence[Row], y: Sequence[int], test_fraction: float = 0.2, seed: int | None = None
) -> tuple[list[Row], list[Row], list[int], list[int]]:
    """Split ``(X, y)`` into a training and a test part, stratified by class and seeded.

    Each class is split on its own: a class of ``n`` rows puts ``round(n * test_fraction)`` of
    them (halves rounded up) in the test part, but when ``test_fraction > 0`` a class with at
    least 2 rows always keeps at least one row in each part (a class with a single row stays in
    training). Which rows go where, and the order of the rows in each part, are drawn with a
    private ``random.Random(seed)``; the global ``random`` state is neither used nor changed.
    The rows themselves are not copied, except from a 2-D NumPy array, whose parts are arrays
    (the same split as of its rows as a list).

    Args:
        X: the feature rows (any row type), or a 2-D NumPy array of them.
        y: the class index of each row.
        test_fraction: the share of each class held out for testing, in ``[0, 1)``; with 0 the
            training part is all the data (shuffled) and the test part is empty.
        seed: the same seed gives the same split; ``None`` draws fresh randomness.

    Returns:
        ``(X_train, X_test, y_train, y_test)``, in that order (scikit-learn's).

    Raises:
        ValueError: ``test_fraction`` is not a number in ``[0, 1)``, ``X`` and ``y`` differ in
            length, or they are empty.

    Example:
        >>> X, y = [[0.0], [1.0], [2.0], [3.0], [4.0], [5.0]], [0, 0, 0, 1, 1, 1]
        >>> X_train, X_test, y_train, y_test = train_test_split(X, y, test_fraction=0.34, seed=0)
        >>> len(X_train), len(X_test), sorted(y_test)
        (4, 2, [0, 1])
    """
    if (
        isinstance(test_fraction, bool)
        or not isinstance(test_fraction, (int, float))
        or not 0.0 <= test_fraction < 1.0
    ):
        raise ValueError(f"test_fraction must be a number in [0, 1), got {test_fraction!r}")
    if len(X) != len(y):
        raise ValueError(f"X and y must have the same length, got {len(X)} rows and {len(y)} labels")
    if not len(X):
        raise ValueError("cannot split an empty data set (X and y have no rows)")
    rng = random.Random(seed)
    by_class: dict[int, list[int]] = {}
    for i, label in enumerate(y):
        by_class.setdefault(label, []).append(i)
    train_rows: list[int] = []
    test_rows: list[int] = []
    for label in sorted(by_class):
        rows = by_class[label]
        rng.shuffle(rows)
        n_test = math.floor(len(rows) * test_fraction + 0.5)
        if test_fraction > 0 and len(rows) >= 2:
            n_test = min(max(n_test, 1), len(rows) - 1)
        elif len(rows) < 2:
            n_test = 0
        test_rows += rows[:n_test]
        train_rows += rows[n_test:]
    rng.shuffle(train_rows)
    rng.shuffle(test_rows)
    np = sys.modules.get("numpy")
    if np is not None and isinstance(X, np.ndarray):  # arrays stay arrays (a list of views is ~14x larger)
        return (
            cast(list[Row], X[np.array(train_rows, dtype=np.intp)]),
            cast(list[Row], X[np.array(test_rows, dtype=np.intp)]),
            [y[i] for i in train_rows],
            [y[i] for i in test_rows],
        )
    return (
        [X[i] for i in train_rows],
        [X[i] for i in test_rows],
        [y[i] for i in train_rows],
        [y[i] for i in test_rows],
    )


def _real(value: object) -> bool:
    """An int, float or other real number (NumPy's too), but not a bool."""
    return not isinstance(value, bool) and isinstance(value, numbers.Real)


def _matrix(X: object, what: str) -> Any:
    """``X`` as a float64 array when it is a NumPy array (which must be 2-D: rows of values), else
    None: such rows are worked on whole, without a Python float per value."""
    np = sys.modules.get("numpy")  # an array exists only where NumPy was imported already
    if np is None or not isinstance(X, np.ndarray):
        return None
    if X.ndim != 2:
        raise ValueError(f"{what} needs rows of values: a 2-D array, got one of shape {X.shape}")
    if X.dtype == np.bool_ or not np.issubdtype(X.dtype, np.number) or np.issubdtype(X.dtype, np.complexfloating):
        raise ValueError(f"{what} needs real numbers, got an array of {X.dtype}")
    return X.astype(np.float64, copy=False)


def _like(row: object, values: list[float]) -> Any:
    """``values`` as the kind of row they came from: an ``array('d')`` row stays one (8 bytes a
    value: large files are loaded so without NumPy), any other row becomes a list."""
    return array("d", values) if isinstance(row, array) else values


class Standardizer:
    """Rescale every feature column to mean 0 and standard deviation 1: ``(x - mean) / std``.

    ``fit`` learns each column's mean and population standard deviation (dividing by ``n``);
    a constant column gets ``std = 1.0`` so nothing is divided by zero (it becomes all zeros).
    Fit it on the training part only, then transform the training and the test part (and any
    later input) with the same numbers: fitting on data that includes the test part leaks
    information about it into training. ``to_dict``/``from_dict`` store the numbers as JSON,
    e.g. next to a saved model, so the model's inputs can be prepared the same way later.

    Rows may be lists, ``array('d')`` rows (transformed into ``array('d')`` rows) or one 2-D
    NumPy array (transformed into a new array, column by column at once, without a Python float
    per value): each gives the same numbers, bit for bit, as its rows written as lists.

    Attributes:
        mean: each column's mean, or ``None`` before ``fit``.
        std: each column's standard deviation (1.0 for a constant column), or ``None`` before ``fit``.

    Example:
        >>> scaler = Standardizer().fit([[1.0, 10.0], [3.0, 10.0]])
        >>> scaler.mean, scaler.std
        ([2.0, 10.0], [1.0, 1.0])
        >>> scaler.transform([[3.0, 12.0]])
        [[1.0, 2.0]]
    """

    def __init__(self) -> None:
        self.mean: list[float] | None = None
        self.std: list[float] | None = None

    def __repr__(self) -> str:
        if self.mean is None:
            return "Standardizer(not fitted)"
        return f"Standardizer(mean={self.mean!r}, std={self.std!r})"

    def fit(self, X: Sequence[Sequence[float]]) -> Standardizer:
        """Learn each column's mean and standard deviation from ``X`` (the training rows only).

        Args:
            X: one or more rows of finite numbers, all of the same (non-zero) width, or a 2-D
                NumPy array of real numbers.

        Returns:
            ``self``, so that ``Standardizer().fit(X_train)`` reads as one step.

        Raises:
            ValueError: ``X`` is empty, a row is empty or of another width than the first, a
                value is not a finite number, or an array is not 2-D or not of real numbers.

        Example:
            >>> Standardizer().fit([[0.0], [2.0], [4.0]]).std   # population std: sqrt(8/3)
            [1.632993161855452]
        """
        matrix = _matrix(X, "fit")
        if matrix is not None:
            return self._fit_matrix(matrix)
        if not X:
            raise ValueError("fit needs at least one row, got none")
        width = len(X[0])
        if width == 0:
            raise ValueError("fit needs at least one column, but row 0 is empty")
        for i, row in enumerate(X):
            if len(row) != width:
                raise ValueError(f"row {i} has {len(row)} values but row 0 has {width}; every row needs the same width")
            for j, value in enumerate(row):
                if not (type(value) is float or _real(value)) or not math.isfinite(value):
                    raise ValueError(f"X[{i}][{j}] is {value!r}; fit needs finite numbers")
        n = len(X)
        mean: list[float] = []
        std: list[float] = []
        for j in range(width):
            column = [float(row[j]) for row in X]
            if all(v == column[0] for v in column):
                mean.append(column[0])
                std.append(1.0)
                continue
            m = math.fsum(column) / n
            mean.append(m)
            std.append(math.sqrt(math.fsum((v - m) ** 2 for v in column) / n))
        self.mean, self.std = mean, std
        return self

    def _fit_matrix(self, X: Any) -> Standardizer:
        """:meth:`fit` on a 2-D NumPy array: the same numbers, bit for bit, as on its rows as lists."""
        np = _numpy()
        n, width = X.shape
        if n == 0:
            raise ValueError("fit needs at least one row, got none")
        if width == 0:
            raise ValueError("fit needs at least one column, but row 0 is empty")
        bad = np.argwhere(~np.isfinite(X))
        if len(bad):
            i, j = (int(k) for k in bad[0])
            raise ValueError(f"X[{i}][{j}] is {X[i, j].item()!r}; fit needs finite numbers")
        mean: list[float] = []
        std: list[float] = []
        for j in range(width):
            column = X[:, j]
            if bool((column == column[0]).all()):
                mean.append(float(column[0]))
                std.append(1.0)
                continue
            # fsum over the column's floats and pow(v - m, 2), as the list version computes them,
            # so that both give the same numbers; each runs in C over a list
            m = math.fsum(column.tolist()) / n
            mean.append(m)
            std.append(math.sqrt(math.fsum(map(pow, (column - m).tolist(), itertools.repeat(2))) / n))
        self.mean, self.std = mean, std
        return self

    def _fitted(self, X: Sequence[Sequence[float]], what: str) -> tuple[list[float], list[float]]:
        if self.mean is None or self.std is None:
            raise RuntimeError(f"{what} called before fit(); fit the Standardizer on the training rows first")
        width = len(self.mean)
        matrix = _matrix(X, what)
        if matrix is not None:
            if matrix.shape[1] != width:
                raise ValueError(f"the rows have {matrix.shape[1]} values, but the Standardizer was fitted on "
                                 f"{width} columns")
            return self.mean, self.std
        for i, row in enumerate(X):
            if len(row) != width:
                raise ValueError(f"row {i} has {len(row)} values, but the Standardizer was fitted on {width} columns")
        return self.mean, self.std

    def transform(self, X: Sequence[Sequence[float]]) -> list[list[float]]:
        """Standardize rows with the fitted numbers: ``(x - mean) / std`` column by column.

        Args:
            X: rows as wide as those ``fit`` saw (any number of rows, even none), or a 2-D NumPy
                array.

        Returns:
            New rows of floats, each of its row's kind (``array('d')`` rows stay so, other rows
            become lists), or a new 2-D NumPy float64 array for an array; ``X`` is left unchanged.

        Raises:
            RuntimeError: the Standardizer has not been fitted.
            ValueError: a row's width differs from the fitted data's.

        Example:
            >>> Standardizer().fit([[0.0], [2.0]]).transform([[0.0], [1.0], [4.0]])
            [[-1.0], [0.0], [3.0]]
        """
        mean, std = self._fitted(X, "transform")
        matrix = _matrix(X, "transform")
        if matrix is not None:
            np = _numpy()
            return cast(list[list[float]], (matrix - np.array(mean)) / np.array(std))
        return [_like(row, [(v - m) / s for v, m, s in zip(row, mean, std)]) for row in X]

    def fit_transform(self, X: Sequence[Sequence[float]]) -> list[list[float]]:
        """``fit(X)`` then ``transform(X)``: for the training rows.

        Args:
            X: the training rows (see :meth:`fit`).

        Returns:
            ``X`` standardized: every non-constant column has mean 0 and standard deviation 1.

        Example:
            >>> Standardizer().fit_transform([[1.0], [3.0]])
            [[-1.0], [1.0]]
        """
        return self.fit(X).transform(X)

    def inverse_transform(self, X: Sequence[Sequence[float]]) -> list[list[float]]:
        """Undo :meth:`transform`: ``x * std + mean`` column by column.

        Args:
            X: standardized rows as wide as the fitted data, or a 2-D NumPy array.

        Returns:
            New rows in the original units, of the kinds :meth:`transform` returns.

        Raises:
            RuntimeError: the Standardizer has not been fitted.
            ValueError: a row's width differs from the fitted data's.

        Example:
            >>> Standardizer().fit([[0.0], [2.0]]).inverse_transform([[-1.0], [3.0]])
            [[0.0], [4.0]]
        """
        mean, std = self._fitted(X, "inverse_transform")
        matrix = _matrix(X, "inverse_transform")
        if matrix is not None:
            np = _numpy()
            return cast(list[list[float]], matrix * np.array(std) + np.array(mean))
        return [_like(row, [v * s + m for v, m, s in zip(row, mean, std)]) for row in X]

    def to_dict(self) -> dict[str, list[float]]:
        """The fitted numbers as a JSON-serialisable dict ``{"mean": [...], "std": [...]}``.

        Returns:
            A new dict with new lists (changing it does not change the Standardizer).

        Raises:
            RuntimeError: the Standardizer has not been fitted.

        Example:
            >>> Standardizer().fit([[0.0], [2.0]]).to_dict()
            {'mean': [1.0], 'std': [1.0]}
        """
        mean, std = self._fitted((), "to_dict")
        return {"mean": list(mean), "std": list(std)}

    @classmethod
    def from_dict(cls, d: Mapping[str, object]) -> Standardizer:
        """A fitted Standardizer from the dict :meth:`to_dict` made (e.g. read back from JSON).

        Args:
            d: a mapping with exactly the keys ``"mean"`` and ``"std"``, each a non-empty list
                of finite numbers, both of the same length, every ``std`` greater than 0.

        Returns:
            A new, fitted Standardizer.

        Raises:
            ValueError: ``d`` is not such a mapping; the message says what is wrong.

        Example:
            >>> Standardizer.from_dict({"mean": [1.0], "std": [2.0]}).transform([[5.0]])
            [[2.0]]
        """
        if not isinstance(d, Mapping):
            raise ValueError(f"from_dict needs a dict with keys 'mean' and 'std', got {type(d).__name__}")
        keys = set(d)
        if keys != {"mean", "std"}:
            missing = sorted({"mean", "std"} - keys)
            unknown = sorted(repr(k) for k in keys - {"mean", "std"})
            problems = ([f"missing {', '.join(missing)}"] if missing else []) + (
                [f"unknown key(s) {', '.join(unknown)}"] if unknown else []
            )
            raise ValueError(f"from_dict needs exactly the keys 'mean' and 'std': {'; '.join(problems)}")
        columns: dict[str, list[float]] = {}
        for key in ("mean", "std"):
            values = d[key]
            if not isinstance(values, (list, tuple)) or not values:
                raise ValueError(f"{key!r} must be a non-empty list of numbers, got {values!r}")
            for j, v in enumerate(values):
                if not _real(v) or not math.isfinite(v):
                    raise ValueError(f"{key}[{j}] is {v!r}; it must be a finite number")
                if key == "std" and v <= 0:
                    raise ValueError(f"std[{j}] is {v!r}; every standard deviation must be greater than 0")
            columns[key] = [float(v) for v in values]
        if len(columns["mean"]) != len(columns["std"]):
            raise ValueError(
                f"'mean' has {len(columns['mean'])} values but 'std' has {len(columns['std'])}; they must match"
            )
        scaler = cls()
        scaler.mean, scaler.std = columns["mean"], columns["std"]
        return scaler
