"""Labelled CSV files: how a file's bytes become rows of numbers, class indices and names.

A file is read as a stream (plain or gzip-compressed, UTF-8) with the standard library's ``csv``
module; a number is written with ASCII digits as files write them (``1_000`` and other scripts'
digits are not numbers here). :func:`load_csv` is the public entry; the CLI reads with the same
functions (:func:`read_labelled`, :func:`csv_records`, :func:`column_names`).
"""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import math
import os
import zlib
from array import array
from collections.abc import Iterator
from typing import Any, BinaryIO, NamedTuple, cast

__all__ = [
    "GZIP_MAGIC",
    "SAMPLE_BYTES",
    "CSVData",
    "FileSample",
    "column_names",
    "csv_records",
    "decode_csv",
    "is_number",
    "load_csv",
    "parse_number",
    "read_labelled",
    "sample_file",
]


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


SAMPLE_BYTES = 1024**2
"""How much of a large file :func:`sample_file` reads (uncompressed): its first mebibyte."""


class FileSample(NamedTuple):
    """The start of a large CSV file, read to size a run before the whole file is loaded."""

    rows: CSVData
    """The rows of the file's first :data:`SAMPLE_BYTES`, read by the same rule as the whole file."""
    estimated_rows: int
    """How many rows the whole file holds, estimated from its (uncompressed) size."""


def sample_file(path: str | os.PathLike[str], target: str | None = "label",
                sample_bytes: int | None = None) -> FileSample | None:
    """The first ``sample_bytes`` (default :data:`SAMPLE_BYTES`) of a CSV file read as rows, and its
    row count estimated from its size: how a run on a 200 MB file is sized in a second instead of
    after loading it. None when the file is no larger than that (load it: it is small) or its
    start cannot be read (loading it then says why).

    A gzip file's uncompressed size comes from its trailer (which holds it modulo 4 GiB).

    Raises:
        ValueError: the sample itself is not a valid labelled CSV (the message names the place).
    """
    limit = SAMPLE_BYTES if sample_bytes is None else sample_bytes
    source = os.fspath(path)
    try:
        with open(source, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            if f.read(2) == GZIP_MAGIC:
                f.seek(-4, os.SEEK_END)
                size = max(int.from_bytes(f.read(4), "little"), size)
                f.seek(0)
                head = gzip.GzipFile(fileobj=f, mode="rb").read(limit + 1)
            else:
                f.seek(0)
                head = f.read(limit + 1)
    except (OSError, EOFError, ValueError):
        return None
    if len(head) <= limit:
        return None
    cut = head.rfind(b"\n") + 1
    if not cut:
        return None
    sample = read_labelled(io.BytesIO(head[:cut]), source, target, sample=True)
    return FileSample(sample, max(round(len(sample.X) * size / cut), len(sample.X)))
