"""Preparing data for training: a seeded, stratified split and per-feature standardisation.

Both take rows as lists, ``array('d')`` rows, or a 2-D NumPy array (worked on whole, without a
Python float per value); fit a :class:`Standardizer` on the training part only.
"""

from __future__ import annotations

import itertools
import math
import numbers
import random
import sys
from array import array
from collections.abc import Mapping, Sequence
from typing import Any, TypeVar, cast

__all__ = ["Standardizer", "train_test_split"]


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
        np = sys.modules["numpy"]  # a NumPy array came in, so NumPy is imported
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
            np = sys.modules["numpy"]  # a NumPy array came in, so NumPy is imported
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
            np = sys.modules["numpy"]  # a NumPy array came in, so NumPy is imported
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
