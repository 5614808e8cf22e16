"""Data for classification: toy 2-D sets, CSV files, two real data sets, splitting and scaling.

Toy sets (written here, no scikit-learn, seeded): each ``make_*`` function returns ``(X, y)``,
``X`` a list of ``[x1, x2]`` float lists, ``y`` a list of integer class labels starting at 0.
The same ``seed`` gives the same data on every run; with ``seed=None`` the points come from fresh
randomness (:mod:`nn.data.generated`).

Real data: :func:`load_csv` reads a labelled CSV file (plain or gzip-compressed) with the
standard library's ``csv`` module (:mod:`nn.data.csvfile`); :func:`load_iris` and
:func:`load_digits` read the two small data sets shipped inside the package
(:mod:`nn.data.shipped`; see ``docs/datasets.md`` for their sources and licences).
Each returns ``(X, y, classes)``: ``X`` rows of floats, ``y`` class indices ``0..k-1`` and
``classes`` the class names, ``classes[y[i]]`` being the label of row ``i``.

Preparing them (:mod:`nn.data.preprocessing`): :func:`train_test_split` makes a seeded,
stratified split and :class:`Standardizer` rescales every feature to mean 0 and standard
deviation 1 (fit it on the training part only).

Every data set with a name, generated or shipped, is in one table, :data:`DATASETS`, and
:func:`load_dataset` loads one by name or a CSV file by path: what ``valuegrad train --dataset``
and ``--data`` do.

    >>> X, y, classes = load_iris()
    >>> X_train, X_test, y_train, y_test = train_test_split(X, y, test_fraction=0.2, seed=0)
    >>> scaler = Standardizer().fit(X_train)
    >>> len(scaler.transform(X_test)), classes
    (30, ['setosa', 'versicolor', 'virginica'])
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from typing import Any, NamedTuple

from nn.data.csvfile import (
    GZIP_MAGIC,
    SAMPLE_BYTES,
    CSVData,
    FileSample,
    column_names,
    csv_records,
    decode_csv,
    is_number,
    load_csv,
    parse_number,
    read_labelled,
    sample_file,
)
from nn.data.generated import Dataset, make_blobs, make_circles, make_moons, make_spirals, make_xor
from nn.data.preprocessing import Standardizer, train_test_split
from nn.data.shipped import load_digits, load_iris

__all__ = [
    "DATASETS",
    "GZIP_MAGIC",
    "SAMPLE_BYTES",
    "CSVData",
    "DataSource",
    "Dataset",
    "FileSample",
    "LoadedData",
    "Standardizer",
    "column_names",
    "csv_records",
    "decode_csv",
    "is_number",
    "load_csv",
    "load_dataset",
    "load_digits",
    "load_iris",
    "make_blobs",
    "make_circles",
    "make_moons",
    "make_spirals",
    "make_xor",
    "parse_number",
    "read_labelled",
    "sample_file",
    "train_test_split",
]


class DataSource(NamedTuple):
    """One named data set: how to make or read it, and whether it is generated.

    Calling it calls ``make``: ``DATASETS["moons"](60, seed=1)`` is ``make_moons(60, seed=1)``,
    ``DATASETS["iris"]()`` is ``load_iris()``."""

    make: Callable[..., Any]
    """A generator ``make(n_samples, noise=..., seed=...) -> (X, y)``, or a loader ``() -> CSVData``."""
    generated: bool
    """True for the toy 2-D sets (seeded, sized by ``n_samples``), False for the shipped real ones."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.make(*args, **kwargs)


DATASETS: dict[str, DataSource] = {
    "moons": DataSource(make_moons, True),
    "circles": DataSource(make_circles, True),
    "blobs": DataSource(make_blobs, True),
    "spirals": DataSource(make_spirals, True),
    "xor": DataSource(make_xor, True),
    "iris": DataSource(load_iris, False),
    "digits": DataSource(load_digits, False),
}
"""Every data set with a name, generated or shipped, by the name ``valuegrad train --dataset`` uses."""


class LoadedData(NamedTuple):
    """A data set as :func:`load_dataset` gives it: rows, labels and the names that go with them."""

    name: str
    """The set's name, or a file's name without its suffixes (``flowers`` for ``flowers.csv.gz``)."""
    X: Any
    """The rows: lists of floats (a generated or shipped set), or for a file read with
    ``compact=True`` one 2-D float64 NumPy array (``array('d')`` rows without NumPy)."""
    y: list[int]
    classes: list[str]
    feature_names: list[str]
    target: str | None
    """The label column of a file or shipped set; None for a generated set."""
    real: bool
    """A shipped set or a file, not a generated 2-D set."""


def load_dataset(name: str | None = None, *, path: str | os.PathLike[str] | None = None, target: str | None = None,
                 n_samples: int | None = None, noise: float | None = None, seed: int | None = None,
                 compact: bool = False) -> LoadedData:
    """A data set by name (:data:`DATASETS`) or a labelled CSV file by ``path``.

    Args:
        name: a key of :data:`DATASETS` (default ``'moons'`` when no ``path`` is given).
        path: a CSV file (plain or gzip); ``target`` names its label column (default ``'label'``).
        n_samples: the size of a generated set (default 100); refused for others.
        noise: the noise of a generated set (default: the set's own); refused for others.
        seed: the seed of a generated set.
        compact: read a file's rows as one 2-D NumPy float64 array (``array('d')`` rows without
            NumPy), 8 bytes a value, as the CLI does for large files.

    Returns:
        A :class:`LoadedData`.

    Raises:
        ValueError: an unknown name, both or neither of ``name`` and ``path`` meaningful
            together, options that do not apply, a bad file (the message names the place), or a
            noise so large that points are at infinity.
        OSError: the file cannot be read.

    Example:
        >>> data = load_dataset("iris")
        >>> data.name, len(data.X), data.classes[:2], data.target
        ('iris', 150, ['setosa', 'versicolor'], 'species')
    """
    if path is not None:
        if name is not None:
            raise ValueError(f"load_dataset: give a data set's name or a file's path, not both (got {name!r} and "
                             f"{os.fspath(path)!r})")
        for option, value in (("n_samples", n_samples), ("noise", noise)):
            if value is not None:
                raise ValueError(f"load_dataset: {option} applies to the generated sets only, not to a file")
        source = os.fspath(path)
        stem = os.path.basename(source).split(".")[0] or "data"
        with open(source, "rb") as f:
            loaded = read_labelled(f, source, target if target is not None else "label", compact=compact)
        return LoadedData(stem, loaded.X, loaded.y, loaded.classes, loaded.feature_names, loaded.target, True)
    if target is not None:
        raise ValueError("load_dataset: target names the label column of a file; it does not apply to a named set")
    name = "moons" if name is None else name
    source_of = DATASETS.get(name)
    if source_of is None:
        raise ValueError(f"unknown data set {name!r}; expected one of {', '.join(DATASETS)}, or a CSV file's path")
    if not source_of.generated:
        for option, value in (("n_samples", n_samples), ("noise", noise)):
            if value is not None:
                raise ValueError(f"{option} applies to the generated sets only, not to {name}")
        shipped: CSVData = source_of()
        return LoadedData(name, shipped.X, shipped.y, shipped.classes, shipped.feature_names, shipped.target, True)
    kwargs: dict[str, Any] = {"seed": seed}
    if noise is not None:
        kwargs["noise"] = noise
    X, y = source_of(n_samples if n_samples is not None else 100, **kwargs)
    overflowed = sum(not all(map(math.isfinite, x)) for x in X)
    if overflowed:
        raise ValueError(f"noise {noise:g} puts {overflowed} of {len(X)} points at infinity; use a smaller noise")
    return LoadedData(name, X, y, [str(k) for k in range(max(y) + 1)], ["x1", "x2"], None, False)
