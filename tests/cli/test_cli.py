"""The valuegrad command end to end in a temporary folder: the default run, the options kept
from before, and the one-line errors. Real data and predictions: test_cli_data.py; Ctrl-C,
output folders, divergence and cost limits: test_cli_runs.py."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest

from nn.cli import main


def _run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "nn", *args], cwd=cwd, capture_output=True, text=True, timeout=300)


@pytest.mark.slow
def test_default_train_is_micrograds_demo_and_writes_every_file(tmp_path: Path) -> None:
    result = _run("train", "--out", "run", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    out = tmp_path / "run"
    assert sorted(p.name for p in out.iterdir()) == [
        "decision_boundary.png", "loss.png", "metrics.csv", "model.json", "summary.json", "training.html"]
    rows = list(csv.DictReader((out / "metrics.csv").open()))
    assert len(rows) == 100 and list(rows[0]) == ["step", "loss", "accuracy", "lr", "val_loss", "val_accuracy"]
    assert float(rows[0]["lr"]) == 1.0 and float(rows[-1]["lr"]) == pytest.approx(1.0 - 0.9 * 99 / 100)
    assert float(rows[-1]["loss"]) < float(rows[0]["loss"])
    assert "final loss 0.0118, training accuracy 100.0%, no held-out data" in result.stdout
    model = json.loads((out / "model.json").read_text())
    assert model["architecture"]["nouts"] == [16, 16, 1]
    assert model["architecture"]["init"] == "micrograd"
    summary = json.loads((out / "summary.json").read_text())
    assert summary["train_accuracy"] == 1.0 and summary["test_accuracy"] is None
    assert (summary["n_train"], summary["n_test"], summary["steps"]) == (100, 0, 100)
    assert summary["loss"] == float(rows[-1]["loss"])
    assert (summary["path"], summary["interrupted"], summary["classes"]) == ("compiled", False, ["0", "1"])
    for png in ("loss.png", "decision_boundary.png"):
        assert (out / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    predicted = _run("predict", str(out / "model.json"), "0.0", "1.0", cwd=tmp_path)
    assert predicted.returncode == 0
    assert predicted.stdout.startswith("class 0")  # the upper moon is class 0


def test_multiclass_blobs_train_with_cross_entropy(tmp_path: Path) -> None:
    code = main(["train", "--dataset", "blobs", "--samples", "60", "--hidden", "8", "--steps", "15",
                 "--optimizer", "adam", "--lr", "0.05", "--out", str(tmp_path / "b")])
    assert code == 0
    model = json.loads((tmp_path / "b" / "model.json").read_text())
    assert model["architecture"]["nouts"] == [8, 3]
    assert json.loads((tmp_path / "b" / "summary.json").read_text())["loss"] is not None


def test_minibatches_and_other_losses_run(tmp_path: Path) -> None:
    for loss in ("bce", "mse"):
        code = main(["train", "--samples", "40", "--hidden", "4", "--steps", "5", "--batch-size", "10",
                     "--loss", loss, "--out", str(tmp_path / loss)])
        assert code == 0
        assert len((tmp_path / loss / "metrics.csv").read_text().splitlines()) == 6


def test_vectorized_training_gives_the_default_run_and_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("numpy")
    runs = {}
    for flag in ([], ["--vectorized"]):
        name = "v" if flag else "g"
        assert main(["train", "--steps", "20", "--out", str(tmp_path / name), *flag]) == 0
        runs[name] = [float(r["loss"]) for r in csv.DictReader((tmp_path / name / "metrics.csv").open())]
    assert runs["v"] == pytest.approx(runs["g"], rel=1e-9)
    assert "(vectorised replay)" in capsys.readouterr().out
    assert json.loads((tmp_path / "v" / "summary.json").read_text())["path"] == "vectorized"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["train", "--dataset", "mnist"], "invalid choice: 'mnist'"),
        (["train", "--hidden", "16,x"], "comma-separated layer widths"),
        (["train", "--hidden", "16,,16"], "got '16,,16' (an empty width between commas)"),
        (["train", "--hidden", "16,"], "got '16,' (an empty width between commas)"),
        (["train", "--hidden", "16,0"], "positive widths"),
        (["train", "--steps", "0"], "positive integer"),
        (["train", "--lr", "-1"], "finite number >= 0"),
        (["train", "--lr", "nan"], "finite number >= 0"),
        (["train", "--steps", "5", "--epochs", "2"], "argument --epochs: not allowed with argument --steps"),
        (["train", "--dataset", "iris", "--data", "x.csv"], "not allowed with argument --dataset"),
        (["train", "--test-fraction", "1"], "expected a fraction in [0, 1), got '1'"),
        (["train", "--dataset", "spirals", "--loss", "hinge"], "spirals has 3 classes; use --loss cross_entropy"),
        (["train", "--dataset", "iris", "--samples", "50"], "--samples applies to the generated sets only"),
        (["train", "--dataset", "digits", "--noise", "0.1"], "--noise applies to the generated sets only"),
        (["train", "--target", "species"], "--target names the label column of a --data file"),
        (["train", "--data", "missing.csv"], "cannot read --data missing.csv: No such file or directory"),
        (["train", "--samples", "1"], "n_samples must be an integer >= 2"),
        (["predict", "missing.json", "0", "0"], "cannot load model"),
        (["predict", "m.json", "zero", "0"], "expected a number, got 'zero'"),
        (["predict", "m.json", "-inf", "0"], "expected a finite number, got '-inf'"),
        ([], "the following arguments are required: command"),
    ],
)
def test_bad_arguments_give_one_line_exit_code_2_and_write_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], args: list[str],
    message: str
) -> None:
    monkeypatch.chdir(tmp_path)
    code: object
    try:
        code = main(args)
    except SystemExit as e:  # argparse's own errors exit from inside parse_args
        code = e.code
    assert code == 2
    out, err = capsys.readouterr()
    assert message in err
    assert len(err.strip().splitlines()) == 1
    assert out == ""
    assert list(tmp_path.iterdir()) == []


def test_a_bad_argument_in_a_fresh_process_is_one_line_and_exit_code_2(tmp_path: Path) -> None:
    result = _run("train", "--hidden", "16,,16", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr == ("valuegrad: error: argument --hidden: expected comma-separated layer widths like 16,16, "
                             "got '16,,16' (an empty width between commas)\n")
    assert result.stdout == ""
    assert list(tmp_path.iterdir()) == []


def test_training_without_matplotlib_still_writes_the_model(tmp_path: Path) -> None:
    blocker = tmp_path / "block"
    blocker.mkdir()
    (blocker / "matplotlib.py").write_text("raise ImportError('blocked for the test', name='matplotlib')\n")
    (blocker / "tqdm.py").write_text("raise ImportError('blocked for the test', name='tqdm')\n")
    env_code = (
        f"import sys; sys.path.insert(0, {str(blocker)!r}); from nn.cli import main; "
        f"sys.exit(main(['train', '--samples', '20', '--steps', '3', '--hidden', '4', '--out', 'r']))"
    )
    result = subprocess.run([sys.executable, "-c", env_code], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert 'skipped loss.png: matplotlib is not installed (pip install "valuegrad[train]")' in result.stderr
    assert "skipped decision_boundary.png: matplotlib is not installed" in result.stderr
    assert sorted(p.name for p in (tmp_path / "r").iterdir()) == ["metrics.csv", "model.json", "summary.json",
                                                                  "training.html"]
    assert "valuegrad: wrote r/ (model.json, metrics.csv, training.html, summary.json)" in result.stdout
    assert "step 3/3" in result.stderr  # progress goes to stderr; stdout holds the results


def test_vectorized_without_numpy_is_a_one_line_error(tmp_path: Path) -> None:
    blocker = tmp_path / "block"
    blocker.mkdir()
    (blocker / "numpy.py").write_text("raise ImportError('blocked for the test', name='numpy')\n")
    code = (
        f"import sys; sys.path.insert(0, {str(blocker)!r}); from nn.cli import main; "
        f"sys.exit(main(['train', '--vectorized', '--out', 'r']))"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert result.stderr.strip() == 'valuegrad: error: --vectorized needs NumPy: pip install "valuegrad[fast]"'
    assert not (tmp_path / "r").exists()
