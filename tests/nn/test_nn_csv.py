"""Real data: load_csv, train_test_split, Standardizer and the packaged iris and digits sets.

The tests read as the specification: what a CSV file becomes, every way a file is refused (the
message names the file, the line and the column), how a split is stratified and seeded, and the
numbers a Standardizer learns.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import math
import random
import re
import statistics
import sys
from array import array
from collections import Counter
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import nn.data
import nn.data.csvfile
from nn.data import (
    CSVData,
    Standardizer,
    is_number,
    load_csv,
    load_digits,
    load_iris,
    parse_number,
    train_test_split,
)
from tests.strategies import NO_DEADLINE


def _write(tmp_path: Path, text: str, name: str = "data.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8"))
    return path


def _refusal(path: Path, target: str | None = "label") -> str:
    """The message of the ValueError that load_csv raises for ``path`` (exactly ValueError)."""
    with pytest.raises(ValueError) as info:
        load_csv(path, target=target)
    assert type(info.value) is ValueError, f"expected a plain ValueError, got {type(info.value).__name__}"
    message = str(info.value)
    assert str(path) in message, f"the message does not name the file: {message}"
    return message


# --- load_csv: what a file becomes -----------------------------------------------------------


def test_features_in_file_order_and_the_target_removed_wherever_it_is(tmp_path: Path) -> None:
    path = _write(tmp_path, "a,label,b\n1,cat,2.5\n-3,dog,4e2\n0.125,cat,7\n")
    X, y, classes = load_csv(path, target="label")
    assert X == [[1.0, 2.5], [-3.0, 400.0], [0.125, 7.0]]
    assert all(type(v) is float for row in X for v in row)
    assert y == [0, 1, 0]
    assert classes == ["cat", "dog"]


def test_target_in_the_first_column(tmp_path: Path) -> None:
    path = _write(tmp_path, "species,x,y\nb,1,2\na,3,4\n")
    assert load_csv(path, target="species") == ([[1.0, 2.0], [3.0, 4.0]], [1, 0], ["a", "b"])


def test_target_none_means_the_last_column(tmp_path: Path) -> None:
    path = _write(tmp_path, "x,y,whatever\n1,2,no\n3,4,yes\n5,6,no\n")
    assert load_csv(path, target=None) == ([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], [0, 1, 0], ["no", "yes"])


def test_the_default_target_is_the_column_named_label(tmp_path: Path) -> None:
    path = _write(tmp_path, "label,x\n1,0.5\n0,1.5\n")
    assert load_csv(path) == ([[0.5], [1.5]], [1, 0], ["0", "1"])


def test_numeric_labels_are_sorted_as_numbers_and_kept_as_written(tmp_path: Path) -> None:
    path = _write(tmp_path, "x,label\n1,10\n2,9\n3,2\n4,10\n5,2\n")
    X, y, classes = load_csv(path)
    assert classes == ["2", "9", "10"]
    assert y == [2, 1, 0, 2, 0]
    assert X == [[1.0], [2.0], [3.0], [4.0], [5.0]]


def test_negative_and_fractional_numeric_labels(tmp_path: Path) -> None:
    path = _write(tmp_path, "x,label\n1,2.5\n2,-1\n3,0\n4,-10\n")
    _, y, classes = load_csv(path)
    assert classes == ["-10", "-1", "0", "2.5"]
    assert y == [3, 1, 2, 0]


def test_text_labels_are_sorted_as_strings(tmp_path: Path) -> None:
    # code point order: upper case before lower case; "10" before "9" once any label is not a number
    path = _write(tmp_path, "x,label\n1,b\n2,a\n3,C\n4,10\n5,9\n")
    _, y, classes = load_csv(path)
    assert classes == ["10", "9", "C", "a", "b"]
    assert [classes[k] for k in y] == ["b", "a", "C", "10", "9"]


def test_classes_index_y_back_to_the_labels(tmp_path: Path) -> None:
    labels = ["virginica", "setosa", "versicolor", "setosa", "virginica"]
    path = _write(tmp_path, "f,species\n" + "".join(f"{i},{lab}\n" for i, lab in enumerate(labels)))
    _, y, classes = load_csv(path, target="species")
    assert classes == ["setosa", "versicolor", "virginica"]
    assert [classes[k] for k in y] == labels


def test_spaces_quotes_crlf_bom_and_blank_lines(tmp_path: Path) -> None:
    text = '\ufeff x , "label" ,y\r\n 1.5 , " a ",2\r\n\r\n"3",b, 4 \r\n'
    X, y, classes = load_csv(_write(tmp_path, text))
    assert X == [[1.5, 2.0], [3.0, 4.0]]
    assert classes == ["a", "b"]
    assert y == [0, 1]


def test_a_path_may_be_a_str(tmp_path: Path) -> None:
    path = _write(tmp_path, "x,label\n1,a\n2,b\n")
    assert load_csv(str(path)) == load_csv(path)


def test_gzip_files_read_like_plain_ones(tmp_path: Path) -> None:
    text = "x,label,y\n1,b,2\n3,a,4\n5,b,6\n"
    plain = _write(tmp_path, text)
    packed = tmp_path / "data.csv.gz"
    packed.write_bytes(gzip.compress(text.encode("utf-8")))
    assert load_csv(packed) == load_csv(plain) == ([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], [1, 0, 1], ["a", "b"])
    # recognised by the content, not by the name
    odd_name = tmp_path / "data.txt"
    odd_name.write_bytes(packed.read_bytes())
    assert load_csv(odd_name) == load_csv(plain)


def test_a_missing_file_raises_file_not_found(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        load_csv(tmp_path / "nowhere.csv")


# --- load_csv: every refusal says where --------------------------------------------------------

HEADER = "a,b,label\n"

BAD_FILES = [
    # (name, file text, fragments the message must contain)
    ("not a number", HEADER + "1,2,x\n3,abc,y\n", ["line 3", "column 2 ('b')", "'abc' is not a number"]),
    ("empty cell", HEADER + "1,2,x\n3,,y\n", ["line 3", "column 2 ('b')", "empty cell"]),
    ("blank cell", HEADER + "1,2,x\n  ,4,y\n", ["line 3", "column 1 ('a')", "empty cell"]),
    ("empty label", HEADER + "1,2,x\n3,4,\n", ["line 3", "column 3 ('label')", "empty cell (no label)"]),
    ("nan", HEADER + "1,2,x\n3,nan,y\n", ["line 3", "column 2 ('b')", "'nan' is not a finite number"]),
    ("NaN", HEADER + "NaN,2,x\n3,4,y\n", ["line 2", "column 1 ('a')", "'NaN' is not a finite number"]),
    ("inf", HEADER + "1,2,x\n3,4,y\n-inf,4,y\n", ["line 4", "column 1 ('a')", "'-inf' is not a finite number"]),
    ("overflow", HEADER + "1,1e999,x\n3,4,y\n", ["line 2", "column 2 ('b')", "'1e999' is not a finite number"]),
    ("too few cells", HEADER + "1,2,x\n3,4\n",
     ["line 3", "column 3 ('label')", "missing cell", "2 cells", "3 columns"]),
    ("too many cells", HEADER + "1,2,x\n3,4,y,5\n", ["line 3", "column 4", "extra cell", "4 cells", "3 columns"]),
    ("spaces-only row", HEADER + "1,2,x\n \n3,4,y\n", ["line 3", "column 2 ('b')", "missing cell"]),
    ("no target column", "a,b,species\n1,2,x\n3,4,y\n",
     ["line 1", "no column named 'label'", "the columns are 'a', 'b', 'species'"]),
    ("one class", HEADER + "1,2,x\n3,4,x\n5,6,x\n",
     ["column 3 ('label')", "every row has the label 'x'", "at least 2"]),
    ("empty file", "", ["the file is empty", "header row"]),
    ("blank lines only", "\n\n\n", ["the file is empty"]),
    ("header only", HEADER, ["a header row but no data rows"]),
    ("header then blank lines", HEADER + "\n\n", ["a header row but no data rows"]),
    ("duplicate column", "a,b,a,label\n1,2,3,x\n",
     ["line 1", "column 3 ('a')", "duplicate column name (also column 1)"]),
    ("duplicate after stripping", "a, b ,b,label\n1,2,3,x\n", ["line 1", "column 3 ('b')", "also column 2"]),
    ("empty column name", "a,,label\n1,2,x\n", ["line 1", "column 2", "empty column name"]),
    ("no header", "1,2,0\n3,4,1\n", ["line 1", "looks like data", "needs a header row"]),
    ("target is the only column", "label\nx\ny\n", ["line 1", "column 1 ('label')", "at least one feature column"]),
    ("one number two ways", HEADER + "1,2,1\n3,4,2\n5,6,1.0\n",
     ["line 4", "column 3 ('label')", "label '1.0' is the same number as label '1' (line 2)"]),
]


@pytest.mark.parametrize(("text", "fragments"), [c[1:] for c in BAD_FILES], ids=[c[0] for c in BAD_FILES])
def test_a_bad_file_raises_one_value_error_naming_file_line_and_column(
    tmp_path: Path, text: str, fragments: list[str]
) -> None:
    message = _refusal(_write(tmp_path, text))
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} not in {message!r}"


def test_the_message_starts_with_the_place(tmp_path: Path) -> None:
    path = _write(tmp_path, HEADER + "1,2,x\n3,abc,y\n")
    assert _refusal(path) == f"{path}, line 3, column 2 ('b'): 'abc' is not a number"


def test_line_numbers_count_blank_lines_and_quoted_line_breaks(tmp_path: Path) -> None:
    text = 'x,label\n\n1,"two\nlines"\n2,b\nbad,c\n'
    assert f"{tmp_path / 'data.csv'}, line 6, column 1 ('x')" in _refusal(_write(tmp_path, text))
    # a row spanning lines is reported at the line where it starts
    text = 'x,label\n1,a\nbad,"two\nlines"\n'
    assert f"{tmp_path / 'data.csv'}, line 3, column 1 ('x')" in _refusal(_write(tmp_path, text))


def test_target_none_needs_the_header_too(tmp_path: Path) -> None:
    # without a header the first data row would silently become the column names
    message = _refusal(_write(tmp_path, "5.1,3.5,0\n4.9,3.0,1\n"), target=None)
    assert "line 1" in message and "needs a header row" in message


def test_errors_inside_a_gzip_file_name_it_and_the_line(tmp_path: Path) -> None:
    path = tmp_path / "data.csv.gz"
    path.write_bytes(gzip.compress((HEADER + "1,2,x\n3,oops,y\n").encode("utf-8")))
    assert _refusal(path) == f"{path}, line 3, column 2 ('b'): 'oops' is not a number"


def test_a_broken_gzip_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "data.csv.gz"
    path.write_bytes(gzip.compress((HEADER + "1,2,x\n3,4,y\n" * 50).encode("utf-8"))[:40])
    assert "not a readable gzip file" in _refusal(path)


def test_a_file_that_is_not_utf8_is_refused_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "latin1.csv"
    path.write_bytes("x,label\n1,cafe\n2,café\n".encode("latin-1"))
    message = _refusal(path)
    assert message == f"{path}, line 3: not UTF-8 text (byte 0xe9); save the file as UTF-8"


def test_utf8_labels_are_fine(tmp_path: Path) -> None:
    X, y, classes = load_csv(_write(tmp_path, "x,label\n1,café\n2,naïve\n"))
    assert (X, y, classes) == ([[1.0], [2.0]], [0, 1], ["café", "naïve"])


def test_a_cell_too_large_for_the_csv_module_is_refused(tmp_path: Path) -> None:
    path = _write(tmp_path, "x,label\n1,a\n" + "2," + "b" * (csv.field_size_limit() + 10) + "\n")
    message = _refusal(path)
    assert "line 3" in message and "not valid CSV" in message


# --- train_test_split ------------------------------------------------------------------------


@NO_DEADLINE
@given(
    labels=st.lists(st.integers(0, 4), min_size=1, max_size=80),
    test_fraction=st.one_of(st.just(0.0), st.floats(0.0, 0.95)),
    seed=st.integers(0, 2**32),
)
def test_split_is_stratified_complete_and_seeded(labels: list[int], test_fraction: float, seed: int) -> None:
    X = [[float(i)] for i in range(len(labels))]
    before = random.getstate()
    X_train, X_test, y_train, y_test = train_test_split(X, labels, test_fraction=test_fraction, seed=seed)
    assert random.getstate() == before, "the global random state was used"

    # every row exactly once, with its own label
    used = [int(row[0]) for row in X_train + X_test]
    assert sorted(used) == list(range(len(labels)))
    assert y_train == [labels[int(row[0])] for row in X_train]
    assert y_test == [labels[int(row[0])] for row in X_test]

    # each class within one row of its share, and on both sides when it has 2 rows or more
    counts, test_counts = Counter(labels), Counter(y_test)
    for label, n in counts.items():
        k = test_counts[label]
        assert abs(k - n * test_fraction) <= 1, (label, n, k)
        if test_fraction == 0 or n == 1:
            assert k == 0
        else:
            assert 1 <= k <= n - 1

    # the same seed, the same split
    assert train_test_split(X, labels, test_fraction=test_fraction, seed=seed) == (X_train, X_test, y_train, y_test)


def test_split_counts_per_class_on_iris() -> None:
    X, y, _ = load_iris()
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_fraction=0.2, seed=0)
    assert (len(X_train), len(X_test)) == (120, 30)
    assert Counter(y_train) == {0: 40, 1: 40, 2: 40}
    assert Counter(y_test) == {0: 10, 1: 10, 2: 10}


def test_split_rounds_each_class_half_up_and_keeps_both_sides() -> None:
    y = [0] * 5 + [1] * 3 + [2] * 2 + [3]
    X = list(range(len(y)))
    _, _, _, y_test = train_test_split(X, y, test_fraction=0.5, seed=3)
    # 2.5 -> 3; 1.5 -> 2; 1.0 -> 1; a single row stays in training
    assert Counter(y_test) == {0: 3, 1: 2, 2: 1}
    _, _, _, y_test = train_test_split(X, y, test_fraction=0.01, seed=3)
    assert Counter(y_test) == {0: 1, 1: 1, 2: 1}  # at least one of each class of 2 rows or more
    _, _, _, y_test = train_test_split(X, y, test_fraction=0.9, seed=3)
    assert Counter(y_test) == {0: 4, 1: 2, 2: 1}  # at least one of each left for training


def test_split_with_fraction_zero_keeps_everything_for_training() -> None:
    X = [[float(i)] for i in range(10)]
    y = [i % 3 for i in range(10)]
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_fraction=0, seed=1)
    assert X_test == [] and y_test == []
    assert sorted(X_train) == X
    assert y_train == [int(row[0]) % 3 for row in X_train]


def test_split_shuffles_and_different_seeds_differ() -> None:
    X, y, _ = load_iris()
    a = train_test_split(X, y, seed=0)
    b = train_test_split(X, y, seed=1)
    assert a != b
    assert a[2] != sorted(a[2]), "the training part should not stay ordered by class"


def test_split_keeps_the_row_objects_and_takes_any_row_type() -> None:
    names = ["a", "b", "c", "d"]
    names_train, names_test, y_train, y_test = train_test_split(names, [0, 0, 1, 1], test_fraction=0.5, seed=0)
    assert sorted(names_train + names_test) == names
    assert sorted(y_train) == sorted(y_test) == [0, 1]
    rows = [[1.0], [2.0]]
    X_train, X_test, _, _ = train_test_split(rows, [0, 0], test_fraction=0.5, seed=0)
    assert any(r is rows[0] for r in X_train + X_test)


def test_split_with_seed_none_uses_fresh_randomness_but_not_the_global_state() -> None:
    X = list(range(200))
    y = [i % 2 for i in range(200)]
    before = random.getstate()
    splits = {tuple(train_test_split(X, y, seed=None)[1]) for _ in range(5)}
    assert random.getstate() == before
    assert len(splits) > 1


@pytest.mark.parametrize("bad", [-0.1, 1.0, 1.5, math.nan, math.inf, True, "0.2", None])
def test_split_refuses_bad_fractions(bad: object) -> None:
    with pytest.raises(ValueError, match=r"test_fraction must be a number in \[0, 1\), got"):
        train_test_split([[1.0], [2.0]], [0, 1], test_fraction=bad)  # type: ignore[arg-type]


def test_split_refuses_mismatched_or_empty_data() -> None:
    with pytest.raises(ValueError, match="same length, got 3 rows and 2 labels"):
        train_test_split([[1.0], [2.0], [3.0]], [0, 1])
    with pytest.raises(ValueError, match="cannot split an empty data set"):
        train_test_split([], [])


# --- Standardizer ----------------------------------------------------------------------------

ROWS = [[1.0, 2.0, -4.0], [3.0, 4.0, 0.5], [5.0, 9.0, 10.25], [7.5, -1.0, 3.0]]


def test_standardizer_learns_mean_and_population_std() -> None:
    scaler = Standardizer().fit(ROWS)
    assert scaler.mean is not None and scaler.std is not None
    for j in range(3):
        column = [row[j] for row in ROWS]
        assert scaler.mean[j] == pytest.approx(statistics.fmean(column), rel=1e-15)
        assert scaler.std[j] == pytest.approx(statistics.pstdev(column), rel=1e-15)
    # by hand: column 0 has mean 16.5/4 = 4.125 and variance 23.1875/4 (deviations -3.125, -1.125, 0.875, 3.375)
    assert scaler.mean[0] == 4.125
    assert scaler.std[0] == pytest.approx(math.sqrt(23.1875 / 4), rel=1e-15)


def test_standardized_columns_have_mean_zero_and_std_one() -> None:
    Z = Standardizer().fit_transform(ROWS)
    for j in range(3):
        column = [row[j] for row in Z]
        assert statistics.fmean(column) == pytest.approx(0.0, abs=1e-15)
        assert statistics.pstdev(column) == pytest.approx(1.0, rel=1e-14)
    assert Z[0][0] == pytest.approx((1.0 - 4.125) / math.sqrt(23.1875 / 4), rel=1e-15)


def test_a_constant_column_gets_std_one_and_becomes_zeros() -> None:
    X = [[0.1, 1.0], [0.1, 2.0], [0.1, 3.0]]
    scaler = Standardizer().fit(X)
    assert scaler.mean == [0.1, 2.0]
    assert scaler.std == [1.0, pytest.approx(math.sqrt(2 / 3))]
    assert [row[0] for row in scaler.transform(X)] == [0.0, 0.0, 0.0]
    assert scaler.transform([[1.1, 2.0]])[0][0] == pytest.approx(1.0)


def test_fit_returns_self_and_fit_transform_equals_fit_then_transform() -> None:
    scaler = Standardizer()
    assert scaler.fit(ROWS) is scaler
    assert Standardizer().fit_transform(ROWS) == Standardizer().fit(ROWS).transform(ROWS)


def test_inverse_transform_undoes_transform_and_inputs_are_left_alone() -> None:
    copy = [list(row) for row in ROWS]
    scaler = Standardizer().fit(ROWS)
    back = scaler.inverse_transform(scaler.transform(ROWS))
    assert copy == ROWS
    for row, original in zip(back, ROWS):
        assert row == pytest.approx(original, rel=1e-14, abs=1e-14)
    assert scaler.transform([]) == []


def test_transform_uses_the_training_numbers_only() -> None:
    scaler = Standardizer().fit([[0.0], [2.0]])
    assert scaler.transform([[10.0], [-1.0]]) == [[9.0], [-2.0]]


def test_transform_before_fit_and_wrong_widths_are_refused() -> None:
    scaler = Standardizer()
    for method in (scaler.transform, scaler.inverse_transform):
        with pytest.raises(RuntimeError, match="before fit"):
            method([[1.0]])
    with pytest.raises(RuntimeError, match="to_dict called before fit"):
        scaler.to_dict()
    scaler.fit(ROWS)
    with pytest.raises(ValueError, match="row 1 has 2 values, but the Standardizer was fitted on 3 columns"):
        scaler.transform([[1.0, 2.0, 3.0], [1.0, 2.0]])
    with pytest.raises(ValueError, match="row 0 has 4 values"):
        scaler.inverse_transform([[1.0, 2.0, 3.0, 4.0]])


@pytest.mark.parametrize(
    ("X", "message"),
    [
        ([], "at least one row"),
        ([[]], "at least one column"),
        ([[1.0, 2.0], [3.0]], "row 1 has 1 values but row 0 has 2"),
        ([[1.0], [math.nan]], r"X\[1\]\[0\] is nan; fit needs finite numbers"),
        ([[math.inf]], r"X\[0\]\[0\] is inf"),
        ([[True]], r"X\[0\]\[0\] is True"),
        ([["1"]], r"X\[0\]\[0\] is '1'"),
    ],
)
def test_fit_refuses_bad_data(X: list[list[float]], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Standardizer().fit(X)


def test_to_dict_from_dict_round_trip_through_json() -> None:
    scaler = Standardizer().fit(ROWS)
    d = scaler.to_dict()
    assert set(d) == {"mean", "std"}
    assert d == {"mean": scaler.mean, "std": scaler.std}
    again = Standardizer.from_dict(json.loads(json.dumps(d)))
    assert again.mean == scaler.mean and again.std == scaler.std  # bit for bit
    assert again.transform(ROWS) == scaler.transform(ROWS)
    d["mean"][0] = 99.0
    assert scaler.to_dict()["mean"][0] == 4.125, "to_dict must return copies"
    from_ints = Standardizer.from_dict({"mean": [1, 2], "std": [0.5, 3]}).to_dict()
    assert from_ints == {"mean": [1.0, 2.0], "std": [0.5, 3.0]}
    assert all(type(v) is float for v in from_ints["mean"] + from_ints["std"])


@pytest.mark.parametrize(
    ("d", "message"),
    [
        ([1.0], "needs a dict with keys 'mean' and 'std', got list"),
        ({"mean": [1.0]}, "missing std"),
        ({"mean": [1.0], "std": [1.0], "scale": 2}, "unknown key"),
        ({"mean": 1.0, "std": [1.0]}, "'mean' must be a non-empty list of numbers"),
        ({"mean": [], "std": []}, "'mean' must be a non-empty list"),
        ({"mean": [1.0], "std": "1"}, "'std' must be a non-empty list"),
        ({"mean": ["1"], "std": [1.0]}, r"mean\[0\] is '1'; it must be a finite number"),
        ({"mean": [1.0, None], "std": [1.0, 1.0]}, r"mean\[1\] is None"),
        ({"mean": [1.0], "std": [True]}, r"std\[0\] is True"),
        ({"mean": [math.nan], "std": [1.0]}, r"mean\[0\] is nan"),
        ({"mean": [1.0], "std": [math.inf]}, r"std\[0\] is inf"),
        ({"mean": [1.0], "std": [0.0]}, r"std\[0\] is 0.0; every standard deviation must be greater than 0"),
        ({"mean": [1.0], "std": [-2.0]}, r"std\[0\] is -2.0"),
        ({"mean": [1.0, 2.0], "std": [1.0]}, "'mean' has 2 values but 'std' has 1"),
    ],
)
def test_from_dict_refuses_bad_dicts(d: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Standardizer.from_dict(d)  # type: ignore[arg-type]


def test_standardizer_repr() -> None:
    assert repr(Standardizer()) == "Standardizer(not fitted)"
    assert repr(Standardizer.from_dict({"mean": [1.0], "std": [2.0]})) == "Standardizer(mean=[1.0], std=[2.0])"


# --- the packaged data sets ------------------------------------------------------------------


def _packaged_header(name: str) -> list[str]:
    raw = (resources.files("nn.data") / "files" / name).read_bytes()
    return next(csv.reader(io.StringIO(gzip.decompress(raw).decode("utf-8"))))


def test_iris_shape_classes_and_counts() -> None:
    X, y, classes = load_iris()
    assert classes == ["setosa", "versicolor", "virginica"]
    assert len(X) == len(y) == 150
    assert all(len(row) == 4 for row in X)
    assert Counter(y) == {0: 50, 1: 50, 2: 50}
    assert y == [0] * 50 + [1] * 50 + [2] * 50
    assert _packaged_header("iris.csv.gz") == ["sepal_length", "sepal_width", "petal_length", "petal_width", "species"]


def test_iris_values() -> None:
    X, _, _ = load_iris()
    assert X[0] == [5.1, 3.5, 1.4, 0.2]
    assert X[149] == [5.9, 3.0, 5.1, 1.8]
    # Fisher's values, where the UCI file differs
    assert X[34] == [4.9, 3.1, 1.5, 0.2]
    assert X[37] == [4.9, 3.6, 1.4, 0.1]
    columns = list(zip(*X))
    assert [(min(c), max(c)) for c in columns] == [(4.3, 7.9), (2.0, 4.4), (1.0, 6.9), (0.1, 2.5)]
    assert [round(math.fsum(c), 6) for c in columns] == [876.5, 458.6, 563.7, 179.9]


def test_digits_shape_classes_counts_and_values() -> None:
    X, y, classes = load_digits()
    assert classes == [str(d) for d in range(10)]
    assert len(X) == len(y) == 1797
    assert all(len(row) == 64 for row in X)
    assert [Counter(y)[d] for d in range(10)] == [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]
    values = {v for row in X for v in row}
    assert values <= {float(k) for k in range(17)}
    assert min(values) == 0.0 and max(values) == 16.0
    assert y[:10] == list(range(10))
    assert X[0][:16] == [0, 0, 5, 13, 9, 1, 0, 0, 0, 0, 13, 15, 10, 15, 5, 0]
    header = _packaged_header("digits.csv.gz")
    assert header == [f"pixel_{r}_{c}" for r in range(8) for c in range(8)] + ["digit"]
    assert header[9] == "pixel_1_1"


def test_packaged_files_read_like_any_csv_and_calls_return_fresh_lists(tmp_path: Path) -> None:
    copy = tmp_path / "iris.csv.gz"
    copy.write_bytes((resources.files("nn.data") / "files" / "iris.csv.gz").read_bytes())
    assert load_csv(copy, target="species") == load_iris()
    X, y, classes = load_iris()
    X[0][0], y[0], classes[0] = -1.0, 2, "changed"
    assert load_iris()[0][0][0] == 5.1 and load_iris()[1][0] == 0 and load_iris()[2][0] == "setosa"


# --- issue 19: files are read the way they were written ----------------------------------------


@pytest.mark.parametrize("cell", ["1_000", "\u0661\u0662", "\uff11", "\u0663.\u0665", "1_0.5e1_0"])
def test_numbers_python_reads_but_files_do_not_write_are_not_numbers(tmp_path: Path, cell: str) -> None:
    assert not is_number(cell)
    message = _refusal(_write(tmp_path, f"a,label\n1,x\n{cell},y\n"))
    assert f"line 3, column 1 ('a'): {cell.strip()!r} is not a number" in message


def test_plain_numbers_still_are(tmp_path: Path) -> None:
    assert all(is_number(t) for t in ["0", "-1.5", "+.5", "5.", "1e-3", "2E+10", "nan", "-Inf", "infinity"])
    assert not any(is_number(t) for t in ["", ".", "e5", "1e", "1,5", "0x10", " 1", "1 "])
    X, _, _ = load_csv(_write(tmp_path, "a,b,label\n+.5,5.,x\n1e-3,-2E+2,y\n"))
    assert X == [[0.5, 5.0], [0.001, -200.0]]


@pytest.mark.parametrize("label", ["nan", "NaN", "inf", "-inf", "Infinity"])
def test_nan_and_inf_are_not_labels(tmp_path: Path, label: str) -> None:
    message = _refusal(_write(tmp_path, f"a,label\n1,0\n2,{label}\n3,1\n"))
    assert f"line 3, column 2 ('label'): {label!r} is not a finite number, so not a class label" in message


@pytest.mark.parametrize(("sep", "what"), [(";", "semicolons"), ("\t", "tabs")])
def test_a_header_of_one_column_holding_another_separator_gets_a_hint(tmp_path: Path, sep: str, what: str) -> None:
    text = sep.join(["a", "b", "label"]) + "\n" + sep.join(["1", "2", "x"]) + "\n"
    message = _refusal(_write(tmp_path, text))
    assert f"line 1: the header is one column, {'a' + sep + 'b' + sep + 'label'!r}, holding {what}" in message
    assert "save it with commas between the columns" in message
    # with target=None the one column would otherwise be "the only column"
    assert "holding " + what in _refusal(_write(tmp_path, text), target=None)


def test_load_csv_gives_the_feature_names_and_still_unpacks_into_three(tmp_path: Path) -> None:
    data = load_csv(_write(tmp_path, "a,species,b\n1,x,2\n3,y,4\n"), target="species")
    X, y, classes = data
    assert (X, y, classes) == ([[1.0, 2.0], [3.0, 4.0]], [0, 1], ["x", "y"])
    assert len(data) == 3 and data == (X, y, classes)
    assert (data.X, data.y, data.classes) == (X, y, classes)
    assert (data.feature_names, data.target) == (["a", "b"], "species")
    assert isinstance(data, CSVData) and "feature_names=['a', 'b']" in repr(data)
    iris = load_iris()
    assert iris.feature_names == ["sepal_length", "sepal_width", "petal_length", "petal_width"]
    assert iris.target == "species"
    assert load_digits().feature_names[:2] == ["pixel_0_0", "pixel_0_1"]


def test_the_file_is_read_as_a_stream_not_as_one_string(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # the whole text (and a list of every record) once took about 20 times the file's size
    path = _write(tmp_path, "a,label\n" + "".join(f"{i},{i % 2}\n" for i in range(1000)))

    def whole(*args: object) -> str:
        raise AssertionError("decode_csv read the whole file")

    monkeypatch.setattr(nn.data.csvfile, "decode_csv", whole)
    assert len(load_csv(path).X) == 1000


# --- issue 19 §4: large files are read as arrays, by the same rule ----------------------------

_WRITTEN_NUMBER = re.compile(r"[+-]?(?:(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|inf(?:inity)?|nan)",
                             re.IGNORECASE)
"""The rule is_number documents, written as a regex: what float() reads, less '_', non-ASCII
digits and surrounding spaces."""


@given(st.text(alphabet="0123456789+-.eEinfatyINFATY_ \t\x0b\x1c\u00a0\u0661\uff11", max_size=12)
       | st.sampled_from(["1_0", "١", "１", " 1", "1\x1c", "\x0c2", "+nan", "-Infinity", "infinit", "1e+", "+.e1"]))
@NO_DEADLINE
def test_parse_number_reads_exactly_the_written_numbers(text: str) -> None:
    assert is_number(text) == (_WRITTEN_NUMBER.fullmatch(text) is not None)
    value = parse_number(text)
    if _WRITTEN_NUMBER.fullmatch(text):
        assert value is not None and (value == float(text) or (math.isnan(value) and math.isnan(float(text))))
    else:
        assert value is None


@given(st.lists(st.sampled_from(["1", " 2.5", "-3e2 ", "1_0", "\uff11", "nan", "-inf", "1e308", "", " ", "x",
                                 "\u00a07", "4\x1c", ".5", "1e400"]), min_size=2, max_size=4))
@NO_DEADLINE
def test_a_row_is_read_or_refused_as_cell_by_cell(cells: list[str]) -> None:
    """Rows are read with one check on the joined text and float() on each cell; that must accept
    and refuse exactly what checking each stripped cell by the rule does (first bad cell named)."""
    text = "a,b,c,d,label\n" + ",".join(cells + ["0"] * (4 - len(cells))) + ",x\n9,9,9,9,y\n"
    expected: list[float] | str = []
    for j, cell in enumerate(cells):
        cell = cell.strip()
        value = parse_number(cell)
        if not cell or value is None or not math.isfinite(value):
            expected = f"line 2, column {j + 1}"
            break
        assert isinstance(expected, list)
        expected.append(value)
    try:
        X = nn.data.read_labelled(io.BytesIO(text.encode()), "f.csv", "label").X
    except ValueError as e:
        assert isinstance(expected, str) and expected in str(e), (str(e), expected)
    else:
        assert isinstance(expected, list) and X[0][:len(cells)] == expected


def test_a_row_of_finite_numbers_whose_sum_overflows_is_read(tmp_path: Path) -> None:
    X, _, _ = load_csv(_write(tmp_path, "a,b,label\n1e308,1e308,x\n-1e308,1,y\n"))
    assert X == [[1e308, 1e308], [-1e308, 1.0]]


def test_a_compact_load_is_one_float64_array_with_the_same_numbers(tmp_path: Path) -> None:
    np = pytest.importorskip("numpy")
    path = _write(tmp_path, "a,b,label,c\n1.5,-2,x,3e2\n 4 ,5.25,y,6\n7,8,x,-9\n")
    rows = load_csv(path)
    with path.open("rb") as f:
        data = nn.data.read_labelled(f, str(path), "label", compact=True)
    assert isinstance(data.X, np.ndarray) and data.X.dtype == np.float64 and data.X.shape == (3, 3)
    assert data.X.tolist() == rows.X and data.y == rows.y and data.classes == rows.classes
    assert data.feature_names == ["a", "b", "c"]


def test_a_compact_load_without_numpy_is_array_rows(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "numpy", None)
    path = _write(tmp_path, "a,b,label\n1.5,-2,x\n4,5.25,y\n")
    with path.open("rb") as f:
        X = nn.data.read_labelled(f, str(path), "label", compact=True).X
    rows: list[Any] = X
    assert all(type(row) is array for row in rows) and [list(row) for row in rows] == [[1.5, -2.0], [4.0, 5.25]]


def test_a_compact_load_refuses_bad_cells_as_a_list_load_does(tmp_path: Path) -> None:
    pytest.importorskip("numpy")
    path = _write(tmp_path, "a,b,label\n1,2,x\n3,1_0,y\n")
    with path.open("rb") as f, pytest.raises(ValueError, match=r"line 3, column 2 \('b'\): '1_0' is not a number"):
        nn.data.read_labelled(f, str(path), "label", compact=True)


def _varied_rows(seed: int, n: int = 40) -> list[list[float]]:
    rng = random.Random(seed)
    return [[rng.gauss(0, 1) * 10 ** rng.randint(-6, 6), rng.choice([0.1, 0.3, 7.0]), 2.5, float(i)]
            for i in range(n)]


@pytest.mark.parametrize("seed", range(5))
def test_the_standardizer_on_an_array_gives_the_list_numbers_bit_for_bit(seed: int) -> None:
    np = pytest.importorskip("numpy")
    X = _varied_rows(seed)
    on_lists, on_array = Standardizer().fit(X), Standardizer().fit(np.array(X))
    assert (on_array.mean, on_array.std) == (on_lists.mean, on_lists.std)
    assert on_array.std is not None and on_array.std[2] == 1.0  # the constant column
    Z: Any = on_array.transform(np.array(X))
    assert isinstance(Z, np.ndarray) and Z.tolist() == on_lists.transform(X)
    assert np.array(on_array.inverse_transform(Z)).tolist() == on_lists.inverse_transform(on_lists.transform(X))
    assert Standardizer().fit(np.array(X, dtype=np.float32)).mean == Standardizer().fit(
        np.array(X, dtype=np.float32).tolist()).mean
    assert Standardizer().fit(np.array([[1, 2], [3, 8]])).to_dict() == {"mean": [2.0, 5.0], "std": [1.0, 3.0]}


def test_the_standardizer_keeps_array_rows_as_array_rows() -> None:
    X = _varied_rows(0, 10)
    compact = [array("d", row) for row in X]
    scaler = Standardizer().fit(compact)
    assert (scaler.mean, scaler.std) == (Standardizer().fit(X).mean, Standardizer().fit(X).std)
    Z: list[Any] = scaler.transform(compact)
    assert all(type(row) is array for row in Z) and [list(row) for row in Z] == scaler.transform(X)
    assert all(type(row) is list for row in scaler.transform(X))


def test_the_standardizer_refuses_bad_arrays() -> None:
    np = pytest.importorskip("numpy")
    with pytest.raises(ValueError, match=r"X\[1\]\[0\] is nan; fit needs finite numbers"):
        Standardizer().fit(np.array([[1.0, 2.0], [math.nan, 3.0]]))
    with pytest.raises(ValueError, match="at least one row"):
        Standardizer().fit(np.zeros((0, 3)))
    with pytest.raises(ValueError, match=r"fit needs rows of values: a 2-D array, got one of shape \(3,\)"):
        Standardizer().fit(np.array([1.0, 2.0, 3.0]))
    with pytest.raises(ValueError, match="fit needs real numbers, got an array of bool"):
        Standardizer().fit(np.array([[True], [False]]))
    scaler = Standardizer().fit(np.array([[1.0, 2.0], [3.0, 4.0]]))
    with pytest.raises(ValueError, match="the rows have 3 values, but the Standardizer was fitted on 2 columns"):
        scaler.transform(np.zeros((4, 3)))
    assert np.shape(scaler.transform(np.zeros((0, 2)))) == (0, 2)


def test_a_split_of_an_array_is_the_split_of_its_rows() -> None:
    np = pytest.importorskip("numpy")
    X, y = _varied_rows(1, 30), [i % 3 for i in range(30)]
    listed = train_test_split(X, y, test_fraction=0.3, seed=4)
    X_train, X_test, y_train, y_test = train_test_split(np.array(X), y, test_fraction=0.3, seed=4)
    assert isinstance(X_train, np.ndarray) and isinstance(X_test, np.ndarray)
    assert (X_train.tolist(), X_test.tolist(), y_train, y_test) == listed
