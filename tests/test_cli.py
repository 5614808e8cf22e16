"""The valuegrad command end to end in a temporary folder."""

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
def test_default_train_writes_every_file_and_reaches_full_accuracy(tmp_path: Path) -> None:
    result = _run("train", "--out", "run", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    out = tmp_path / "run"
    assert sorted(p.name for p in out.iterdir()) == ["decision_boundary.png", "loss.png", "metrics.csv", "model.json"]
    rows = list(csv.DictReader((out / "metrics.csv").open()))
    assert len(rows) == 100 and list(rows[0]) == ["step", "loss", "accuracy", "lr"]
    assert float(rows[0]["lr"]) == 1.0 and float(rows[-1]["lr"]) == pytest.approx(1.0 - 0.9 * 99 / 100)
    assert float(rows[-1]["loss"]) < float(rows[0]["loss"])
    assert "training accuracy 100.0%" in result.stdout
    model = json.loads((out / "model.json").read_text())
    assert model["architecture"]["nouts"] == [16, 16, 1]
    for png in ("loss.png", "decision_boundary.png"):
        assert (out / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    predicted = _run("predict", str(out / "model.json"), "0.0", "1.0", cwd=tmp_path)
    assert predicted.returncode == 0
    assert predicted.stdout.startswith("class 0")  # the upper moon is class 0


def test_multiclass_spirals_train_with_cross_entropy(tmp_path: Path) -> None:
    code = main(["train", "--dataset", "blobs", "--samples", "60", "--hidden", "8", "--steps", "15",
                 "--optimizer", "adam", "--lr", "0.05", "--out", str(tmp_path / "b")])
    assert code == 0
    model = json.loads((tmp_path / "b" / "model.json").read_text())
    assert model["architecture"]["nouts"] == [8, 3]


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


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["train", "--dataset", "mnist"], "invalid choice: 'mnist'"),
        (["train", "--hidden", "16,x"], "comma-separated layer widths"),
        (["train", "--steps", "0"], "positive integer"),
        (["train", "--lr", "-1"], "finite number >= 0"),
        (["train", "--dataset", "spirals", "--loss", "hinge"], "use --loss cross_entropy"),
        (["predict", "missing.json", "0", "0"], "cannot load model"),
        (["predict", "m.json", "zero", "0"], "expected a number"),
        ([], "the following arguments are required: command"),
    ],
)
def test_bad_arguments_give_one_line_and_exit_code_2(tmp_path: Path, args: list[str], message: str) -> None:
    result = _run(*args, cwd=tmp_path)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


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
    assert "skipped loss.png: matplotlib is not installed" in result.stderr
    assert "skipped decision_boundary.png" in result.stderr
    assert sorted(p.name for p in (tmp_path / "r").iterdir()) == ["metrics.csv", "model.json"]
    assert "step 3/3" in result.stdout


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
    assert result.stderr.strip() == "valuegrad: error: --vectorized needs NumPy: pip install 'valuegrad[fast]'"
    assert not (tmp_path / "r").exists()
