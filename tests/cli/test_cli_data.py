"""``valuegrad train`` on real data and ``valuegrad predict`` (issue 12): the packaged iris and
digits sets, CSV files, held-out accuracy, summary.json, the pictures, and predictions that
prepare their inputs exactly as training did."""

from __future__ import annotations

import csv
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import nn.cli.plan
import nn.cli.training
import nn.data
import nn.data.csvfile
import nn.scoring
from nn.cli import main
from nn.data import Standardizer, load_iris, train_test_split
from nn.io import load, load_metadata
from nn.layers import MLP
from nn.train import predict_classes

PNG = b"\x89PNG\r\n\x1a\n"
SUMMARY_KEYS = {"train_accuracy", "test_accuracy", "classes", "n_train", "n_test", "steps", "seconds", "loss",
                "path", "interrupted", "diverged", "data", "val_loss", "val_accuracy"}
IRIS_COLUMNS = ["sepal_length", "sepal_width", "petal_length", "petal_width"]


def _run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "nn", *args], cwd=cwd, capture_output=True, text=True, timeout=300)


def _summary(folder: Path) -> dict[str, object]:
    summary: dict[str, object] = json.loads((folder / "summary.json").read_text())
    return summary


def _files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def _write_flowers(path: Path, rows: list[int] | None = None, columns: list[str] | None = None) -> None:
    """Iris as a CSV file with a text 'species' column, the columns in the given order."""
    X, y, classes = load_iris()
    names = columns or [*IRIS_COLUMNS, "species"]
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(names)
        for i in rows if rows is not None else range(len(X)):
            cells = dict(zip(IRIS_COLUMNS, map(str, X[i])), species=classes[y[i]])
            w.writerow([cells[n] for n in names])


@pytest.fixture(scope="module")
def iris_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """One default iris run (about a second), shared by the tests that read it."""
    folder = tmp_path_factory.mktemp("iris")
    result = _run("train", "--dataset", "iris", "--out", "run", cwd=folder)
    assert result.returncode == 0, result.stderr
    return folder / "run", result.stdout


def test_iris_defaults_reach_93_percent_held_out_and_write_a_confusion_matrix(iris_run: tuple[Path, str]) -> None:
    run, stdout = iris_run
    assert _files(run) == ["confusion_matrix.png", "loss.png", "metrics.csv", "model.json", "summary.json",
                           "training.html"]
    summary = _summary(run)
    assert set(summary) == SUMMARY_KEYS
    assert summary["classes"] == ["setosa", "versicolor", "virginica"]
    assert (summary["n_train"], summary["n_test"]) == (120, 30)  # test fraction 0.2, stratified
    assert summary["steps"] == 200 * 8  # 200 epochs of 120 rows in batches of 16
    test_accuracy = summary["test_accuracy"]
    assert isinstance(test_accuracy, float) and test_accuracy >= 0.93
    assert (summary["path"], summary["interrupted"], summary["diverged"]) == ("compiled", False, False)
    assert f"held-out accuracy {test_accuracy:.1%}" in stdout
    assert "on iris (120 points + 30 held out, cross_entropy loss, adam, standardized)" in stdout
    assert (run / "confusion_matrix.png").read_bytes()[:8] == PNG
    arch = json.loads((run / "model.json").read_text())["architecture"]
    assert (arch["nin"], arch["nouts"], arch["init"]) == (4, [16, 3], "he")


def test_the_model_stores_classes_and_the_standardizer_fitted_on_the_training_part(
    iris_run: tuple[Path, str]
) -> None:
    run, _ = iris_run
    meta = load_metadata(run / "model.json")
    assert meta["classes"] == ["setosa", "versicolor", "virginica"]
    assert (meta["features"], meta["target"]) == (IRIS_COLUMNS, "species")
    X, y, _ = load_iris()
    X_train, X_test, _, y_test = train_test_split(X, y, 0.2, seed=1337)  # the default --seed
    assert meta["standardizer"] == Standardizer().fit(X_train).to_dict()
    assert meta["standardizer"] != Standardizer().fit(X).to_dict()  # not fitted on the test rows
    assert os.stat(run / "model.json").st_mode & 0o777 == 0o600

    # predict applies exactly the training-time transform: the held-out accuracy comes back
    scaler = Standardizer.from_dict(meta["standardizer"])
    model = load(run / "model.json")
    assert isinstance(model, MLP)
    predicted = predict_classes(model, scaler.transform(X_test))
    accuracy = sum(p == t for p, t in zip(predicted, y_test)) / len(y_test)
    assert accuracy == _summary(run)["test_accuracy"]


def test_predict_one_point_prints_the_class_name_and_reads_negative_scientific_numbers(
    iris_run: tuple[Path, str], tmp_path: Path
) -> None:
    model = str(iris_run[0] / "model.json")
    setosa = _run("predict", model, "5.1", "3.5", "1.4", "0.2", cwd=tmp_path)
    assert setosa.returncode == 0, setosa.stderr
    assert setosa.stdout.startswith("class setosa  scores ")
    assert len(setosa.stdout.split()) == 2 + 1 + 3  # class, name, "scores", one score per class
    negative = _run("predict", model, "-1e3", "3.5", "-.5E+1", "-2", cwd=tmp_path)
    assert negative.returncode == 0, negative.stderr
    assert negative.stdout.startswith("class ")
    wrong = _run("predict", model, "5.1", "-3e-1", cwd=tmp_path)
    assert wrong.returncode == 2
    assert wrong.stderr == ("valuegrad: error: the model takes 4 features (sepal_length, sepal_width, "
                            "petal_length, petal_width), got 2\n")


def test_predict_a_csv_file_finds_columns_by_name_and_reports_accuracy(
    iris_run: tuple[Path, str], tmp_path: Path
) -> None:
    model = str(iris_run[0] / "model.json")
    shuffled = ["petal_width", "species", "sepal_length", "notes", "sepal_width", "petal_length"]
    X, y, classes = load_iris()
    with (tmp_path / "new.csv").open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(shuffled)
        for i in (0, 60, 120, 149):
            w.writerow([X[i][3], classes[y[i]], X[i][0], "a note", X[i][1], X[i][2]])

    written = _run("predict", model, "--data", "new.csv", "--out", "predictions.csv", cwd=tmp_path)
    assert written.returncode == 0, written.stderr
    assert "valuegrad: wrote predictions.csv (4 rows, last column 'predicted')" in written.stdout
    assert "valuegrad: accuracy 100.0% (4 of 4 rows) against the 'species' column" in written.stdout
    rows = list(csv.reader((tmp_path / "predictions.csv").open()))
    assert rows[0] == [*shuffled, "predicted"]
    assert [r[-1] for r in rows[1:]] == ["setosa", "versicolor", "virginica", "virginica"]
    assert [r[:-1] for r in rows[1:]] == list(csv.reader((tmp_path / "new.csv").open()))[1:]
    assert os.stat(tmp_path / "predictions.csv").st_mode & 0o777 == 0o644 & ~_umask()

    printed = _run("predict", model, "--data", "new.csv", cwd=tmp_path)  # no --out: rows on stdout
    assert printed.returncode == 0
    assert printed.stdout == (tmp_path / "predictions.csv").read_text()
    assert "accuracy 100.0% (4 of 4 rows)" in printed.stderr

    again = _run("predict", model, "--data", "new.csv", "--out", "predictions.csv", cwd=tmp_path)
    assert again.returncode == 2
    assert again.stderr == "valuegrad: error: --out predictions.csv already exists; pass --overwrite to replace it\n"
    assert _run("predict", model, "--data", "new.csv", "--out", "predictions.csv", "--overwrite",
                cwd=tmp_path).returncode == 0


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def test_predict_refuses_a_file_without_the_models_columns_and_writes_nothing(
    iris_run: tuple[Path, str], tmp_path: Path
) -> None:
    (tmp_path / "bad.csv").write_text("sepal_length,sepal_width,petal_length\n5.1,3.5,1.4\n")
    result = _run("predict", str(iris_run[0] / "model.json"), "--data", "bad.csv", "--out", "p.csv", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.startswith("valuegrad: error: bad.csv: no column named 'petal_width'")
    assert len(result.stderr.splitlines()) == 1
    (tmp_path / "text.csv").write_text("sepal_length,sepal_width,petal_length,petal_width\n5.1,3.5,abc,0.2\n")
    result = _run("predict", str(iris_run[0] / "model.json"), "--data", "text.csv", "--out", "p.csv", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr == ("valuegrad: error: text.csv, line 2, column 3 ('petal_length'): 'abc' is not a "
                             "number\n")
    assert not (tmp_path / "p.csv").exists()


def test_train_on_a_csv_file_with_a_named_target_column(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _write_flowers(tmp_path / "flowers.csv", columns=["species", *IRIS_COLUMNS])
    code = main(["train", "--data", str(tmp_path / "flowers.csv"), "--target", "species", "--epochs", "30",
                 "--out", str(tmp_path / "run")])
    assert code == 0
    summary = _summary(tmp_path / "run")
    assert summary["classes"] == ["setosa", "versicolor", "virginica"]
    assert (summary["n_train"], summary["n_test"], summary["steps"]) == (120, 30, 30 * 4)  # batches of 32
    assert summary["test_accuracy"] is not None
    meta = load_metadata(tmp_path / "run" / "model.json")
    assert (meta["features"], meta["target"]) == (IRIS_COLUMNS, "species")
    assert meta["standardizer"] is not None
    out = capsys.readouterr().out
    assert "on flowers (120 points + 30 held out, cross_entropy loss, adam, standardized)" in out


def test_a_bad_csv_file_is_one_line_naming_the_place_and_nothing_is_written(tmp_path: Path) -> None:
    (tmp_path / "bad.csv").write_text("x1,x2,label\n1,2,a\n3,oops,b\n")
    result = _run("train", "--data", "bad.csv", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr == "valuegrad: error: bad.csv, line 3, column 2 ('x2'): 'oops' is not a number\n"
    assert _files(tmp_path) == ["bad.csv"]  # no runs/ folder


def test_binary_csv_data_trains_with_cross_entropy_and_two_outputs(tmp_path: Path) -> None:
    _write_flowers(tmp_path / "two.csv", rows=list(range(100)))  # setosa and versicolor only
    assert main(["train", "--data", str(tmp_path / "two.csv"), "--target", "species", "--epochs", "5",
                 "--out", str(tmp_path / "run")]) == 0
    model = json.loads((tmp_path / "run" / "model.json").read_text())
    assert model["architecture"]["nouts"] == [32, 2]
    assert model["metadata"]["loss"] == "cross_entropy"
    assert _summary(tmp_path / "run")["classes"] == ["setosa", "versicolor"]


def test_generated_sets_keep_their_defaults_and_take_a_split_on_request(tmp_path: Path) -> None:
    args = ["train", "--steps", "3", "--test-fraction", "0.25", "--standardize", "--out", str(tmp_path / "m")]
    assert main(args) == 0
    summary = _summary(tmp_path / "m")
    assert (summary["n_train"], summary["n_test"]) == (74, 26)  # 12.5 of each class's 50 rounds up to 13
    assert summary["test_accuracy"] is not None
    meta = load_metadata(tmp_path / "m" / "model.json")
    assert meta["standardizer"] is not None and meta["loss"] == "hinge"
    assert (meta["features"], meta["classes"]) == (["x1", "x2"], ["0", "1"])
    assert "decision_boundary.png" in _files(tmp_path / "m")


def test_no_standardize_and_epochs_with_batch_size(tmp_path: Path) -> None:
    assert main(["train", "--dataset", "iris", "--no-standardize", "--epochs", "3", "--batch-size", "50",
                 "--out", str(tmp_path / "i")]) == 0
    assert _summary(tmp_path / "i")["steps"] == 3 * 3  # 120 rows in batches of 50: 3 per epoch
    assert load_metadata(tmp_path / "i" / "model.json")["standardizer"] is None


@pytest.mark.slow
def test_digits_defaults_reach_95_percent_held_out_and_draw_the_mistakes(tmp_path: Path) -> None:
    pytest.importorskip("numpy")
    pytest.importorskip("matplotlib")
    result = _run("train", "--dataset", "digits", "--vectorized", "--out", "run", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    run = tmp_path / "run"
    assert _files(run) == ["confusion_matrix.png", "loss.png", "metrics.csv", "mistakes.png", "model.json",
                           "summary.json", "training.html"]
    summary = _summary(run)
    assert (summary["n_train"], summary["n_test"], summary["steps"]) == (1438, 359, 5 * 45)
    test_accuracy = summary["test_accuracy"]
    assert isinstance(test_accuracy, float) and test_accuracy >= 0.95
    assert summary["classes"] == [str(d) for d in range(10)]
    assert (run / "mistakes.png").read_bytes()[:8] == PNG
    assert json.loads((run / "model.json").read_text())["architecture"]["nouts"] == [32, 10]


def test_predictions_follow_the_output_activations_threshold(tmp_path: Path) -> None:
    model = MLP(2, [3, 1], output_activation="sigmoid", seed=0)  # saved from Python: no metadata
    model.save(tmp_path / "sigmoid.json")
    points = [[a / 4, b / 4] for a in range(-8, 9) for b in range(-8, 9)]
    with (tmp_path / "points.csv").open("w", newline="") as f:
        csv.writer(f).writerows([["x1", "x2"], *points])
    result = _run("predict", "sigmoid.json", "--data", "points.csv", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    predicted = [int(row[-1]) for row in list(csv.reader(result.stdout.splitlines()))[1:]]
    assert predicted == predict_classes(model, points)  # class 1 above 0.5, not above 0
    assert set(predicted) == {0, 1}


# --- issue 19: predict reads a file the way training did; large files are checked first --------


def test_predict_refuses_duplicate_column_names_as_training_does(iris_run: tuple[Path, str], tmp_path: Path) -> None:
    (tmp_path / "dup.csv").write_text("sepal_length,sepal_width,petal_length,petal_width,sepal_width\n"
                                      "5.1,3.5,1.4,0.2,9.9\n")
    result = _run("predict", str(iris_run[0] / "model.json"), "--data", "dup.csv", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr == ("valuegrad: error: dup.csv, line 1, column 5 ('sepal_width'): duplicate column name "
                             "(also column 2)\n")


def test_predict_matches_columns_by_name_whatever_their_order_and_names_a_missing_one(
    iris_run: tuple[Path, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    model = str(iris_run[0] / "model.json")
    rows = [0, 1, 50, 51, 100, 101, 149]
    _write_flowers(tmp_path / "ordered.csv", rows=rows)
    _write_flowers(tmp_path / "shuffled.csv", rows=rows, columns=["petal_width", "species", "sepal_length",
                                                                  "petal_length", "sepal_width"])
    with (tmp_path / "shuffled.csv").open() as f:  # and an extra column, ignored
        lines = [line.rstrip("\n") + (",extra\n" if i == 0 else ",1e9\n") for i, line in enumerate(f)]
    (tmp_path / "shuffled.csv").write_text("".join(lines))
    predicted = {}
    for name in ("ordered", "shuffled"):
        assert main(["predict", model, "--data", str(tmp_path / f"{name}.csv")]) == 0
        predicted[name] = [r[-1] for r in csv.reader(capsys.readouterr().out.splitlines()[1:])]
    assert predicted["shuffled"] == predicted["ordered"] and len(predicted["ordered"]) == len(rows)
    (tmp_path / "missing.csv").write_text("petal_width,sepal_length,petal_length\n0.2,5.1,1.4\n")
    assert main(["predict", model, "--data", str(tmp_path / "missing.csv")]) == 2
    assert "no column named 'sepal_width'; the model was trained on the columns" in capsys.readouterr().err


def test_a_model_without_feature_names_reads_the_first_columns_by_position_and_says_so(tmp_path: Path) -> None:
    model = MLP(2, [3, 2], seed=0)  # saved from Python: no metadata
    model.save(tmp_path / "plain.json")
    (tmp_path / "points.csv").write_text("u,v,w\n1,2,300\n-1,0.5,-7\n")
    result = _run("predict", "plain.json", "--data", "points.csv", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ("valuegrad: the model stores no feature names (saved from Python), so its 2 inputs "
                             "are the file's first 2 columns by position: u, v\n")
    predicted = [int(r[-1]) for r in csv.reader(result.stdout.splitlines()[1:])]
    assert predicted == predict_classes(model, [[1.0, 2.0], [-1.0, 0.5]])


def test_predict_reads_numbers_and_separators_as_training_does(iris_run: tuple[Path, str], tmp_path: Path) -> None:
    model = str(iris_run[0] / "model.json")
    (tmp_path / "wide.csv").write_text("sepal_length,sepal_width,petal_length,petal_width\n5.1,3.5,1_4,0.2\n")
    result = _run("predict", model, "--data", "wide.csv", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr == "valuegrad: error: wide.csv, line 2, column 3 ('petal_length'): '1_4' is not a number\n"
    (tmp_path / "semi.csv").write_text("sepal_length;sepal_width;petal_length;petal_width\n5.1;3.5;1.4;0.2\n")
    result = _run("predict", model, "--data", "semi.csv", cwd=tmp_path)
    assert result.returncode == 2 and "holding semicolons" in result.stderr
    assert "save it with commas between the columns" in result.stderr


def _big_file(path: Path, rows: int) -> None:
    with path.open("w") as f:
        f.write("a,b,c,label\n")
        f.writelines(f"{i * 0.001:.6f},{(i % 97) / 7:.6f},{i % 13},{i % 3}\n" for i in range(rows))


def test_a_large_file_over_the_cost_limit_is_refused_before_it_is_loaded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _big_file(tmp_path / "big.csv", 40_000)  # about 1.1 MB
    monkeypatch.setattr(nn.data.csvfile, "SAMPLE_BYTES", 64 * 1024)
    read: list[int] = []

    def loader(*args: object, **kwargs: object) -> object:
        read.append(1)
        raise AssertionError("the whole file was loaded")

    monkeypatch.setattr(nn.data, "read_labelled", lambda stream, *a, **k: loader())  # load_dataset's whole read
    monkeypatch.setattr(nn.cli.plan, "LIMIT_SECONDS", 1.0)
    assert main(["train", "--data", str(tmp_path / "big.csv"), "--out", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err
    assert read == [] and not (tmp_path / "run").exists()
    assert re.fullmatch(r"valuegrad: error: this run would take about .* steps\), estimated from the file's size "
                        r"and its first [\d,]+ rows \(about [\d,]+ in all\), over the limit of 0 minutes or 2 GB; "
                        r"use a smaller --hidden, fewer --steps or --epochs, a smaller --batch-size or a sample "
                        r"of the file, or pass --force\n", err), err
    estimated = int(re.search(r"about ([\d,]+) in all", err).group(1).replace(",", ""))  # type: ignore[union-attr]
    assert 36_000 <= estimated <= 44_000


def test_a_large_file_within_the_limit_is_loaded_after_the_sample(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _big_file(tmp_path / "big.csv", 3_000)
    monkeypatch.setattr(nn.data.csvfile, "SAMPLE_BYTES", 4 * 1024)
    calls: list[bool] = []
    real = nn.data.csvfile.read_labelled

    def spy(*args: object, **kwargs: object) -> object:
        calls.append(bool(kwargs.get("sample")))
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(nn.data.csvfile, "read_labelled", spy)  # the sample's read
    monkeypatch.setattr(nn.data, "read_labelled", spy)  # load_dataset's read of the whole file
    assert main(["train", "--data", str(tmp_path / "big.csv"), "--steps", "2", "--out", str(tmp_path / "run")]) == 0
    assert calls == [True, False]  # the sample, then the whole file once
    assert load_metadata(tmp_path / "run" / "model.json")["features"] == ["a", "b", "c"]


def test_a_file_is_trained_on_as_one_array_and_scored_a_part_at_a_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 19 §4: a file's rows stay one NumPy array from loading to training (no list per row)
    and are scored CHUNK rows at a time; the accuracies are those of the model on every row."""
    np = pytest.importorskip("numpy")
    with (tmp_path / "big.csv").open("w") as f:  # classes a model learns in a few steps, not all alike
        f.write("a,b,c,label\n")
        f.writelines(f"{i % 3 + (i % 7) / 5:.3f},{(i % 11) / 3:.3f},{-(i % 3) * 2 + (i % 5) / 4:.3f},{i % 3}\n"
                     for i in range(700))
    given: list[type] = []
    from nn.train import train as real_train

    def spy(model: MLP, X: Any, *args: Any, **kwargs: Any) -> Any:
        given.append(type(X))
        return real_train(model, X, *args, **kwargs)

    monkeypatch.setattr(nn.cli.training, "train", spy)
    monkeypatch.setattr(nn.scoring.Scorer, "CHUNK", 128)
    run = tmp_path / "run"
    assert main(["train", "--data", str(tmp_path / "big.csv"), "--steps", "5", "--out", str(run)]) == 0
    assert given == [np.ndarray]
    X, y, _ = nn.data.load_csv(tmp_path / "big.csv")
    X_train, X_test, y_train, y_test = train_test_split(X, y, 0.2, seed=1337)
    model = load(run / "model.json")
    assert isinstance(model, MLP)
    scaler = Standardizer.from_dict(load_metadata(run / "model.json")["standardizer"])
    summary = _summary(run)
    for rows, labels, key in ((X_train, y_train, "train_accuracy"), (X_test, y_test, "test_accuracy")):
        predicted = predict_classes(model, scaler.transform(rows))
        right = sum(p == t for p, t in zip(predicted, labels)) / len(labels)
        assert 0.6 < right < 1 and summary[key] == pytest.approx(right, abs=1e-4)
