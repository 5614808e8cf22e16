"""The two real data sets shipped inside the package: iris and the 8x8 digits.

The files are in ``nn/data/files/`` (see ``docs/datasets.md`` for their sources and licences)
and are read with the CSV reader of :mod:`nn.data.csvfile`.
"""

from __future__ import annotations

import io
from importlib import resources

from nn.data.csvfile import CSVData, read_labelled

__all__ = ["load_digits", "load_iris"]


def _load_packaged(filename: str, target: str) -> CSVData:
    resource = resources.files("nn.data") / "files" / filename
    source = f"nn/data/files/{filename} (packaged with valuegrad)"
    return read_labelled(io.BytesIO(resource.read_bytes()), source, target)


def load_iris() -> CSVData:
    """Fisher's iris flowers: 150 rows, 4 measurements in cm, 3 species of 50 rows each.

    Read from the copy packaged with valuegrad (``nn/data/files/iris.csv.gz``); the features are
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

    Read from the copy packaged with valuegrad (``nn/data/files/digits.csv.gz``); the features
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
