"""``valuegrad train`` never loses or mixes outputs and never gives a silent wrong answer (issue 15):
Ctrl-C (real SIGINTs sent to a subprocess), output folders checked before training, unique run
folders, divergence, readable numbers, data that cannot be drawn, and the cost estimate."""

from __future__ import annotations

import errno
import json
import os
import queue
import re
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import pytest

import nn.cli as cli
import nn.report as report
from nn.cli import main
from nn.cost import estimate
from nn.io import load
from nn.report import claim_run_folder, readable

WAIT_S = 120  # the longest any wait below may take (each is bounded)


def _run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "nn", *args], cwd=cwd, capture_output=True, text=True, timeout=300)


def _files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def _complete(folder: Path) -> None:
    """Every file in the folder is whole: no temporary file, JSON parses, PNGs end with IEND."""
    for path in folder.iterdir():
        assert not path.name.startswith("."), f"temporary file left behind: {path.name}"
        if path.suffix == ".json":
            json.loads(path.read_text())
        elif path.suffix == ".png":
            assert path.read_bytes().endswith(b"IEND\xaeB`\x82")
        elif path.suffix == ".html":
            assert path.read_text(encoding="utf-8").endswith("</html>\n")


class _Lines:
    """Reads a pipe line by line in a thread, so that a test can wait for a line with a timeout."""

    def __init__(self, pipe: IO[str]) -> None:
        self.lines: list[str] = []
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._thread = threading.Thread(target=self._read, args=(pipe,), daemon=True)
        self._thread.start()

    def _read(self, pipe: IO[str]) -> None:
        for line in pipe:
            self.lines.append(line)
            self._queue.put(line)
        self._queue.put(None)

    def wait_for(self, pattern: str) -> re.Match[str]:
        deadline = time.monotonic() + WAIT_S
        while True:
            try:
                line = self._queue.get(timeout=max(deadline - time.monotonic(), 0.01))
            except queue.Empty:
                raise AssertionError(f"no line matching {pattern!r} within {WAIT_S} s: {self.lines[-5:]}") from None
            if line is None:
                raise AssertionError(f"the output ended without a line matching {pattern!r}: {self.lines[-5:]}")
            found = re.search(pattern, line)
            if found:
                return found

    def text(self) -> str:
        self._thread.join(WAIT_S)
        return "".join(self.lines)


@pytest.fixture
def training(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], _Lines, _Lines]]:
    """``valuegrad train --steps 3000 --out run``, with its stdout and stderr read line by line."""
    proc = subprocess.Popen([sys.executable, "-m", "nn", "train", "--steps", "3000", "--out", "run"], cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stderr is not None
    try:
        yield proc, _Lines(proc.stdout), _Lines(proc.stderr)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(WAIT_S)


@pytest.mark.slow
def test_first_ctrl_c_finishes_the_step_writes_the_run_and_exits_130(
    training: tuple[subprocess.Popen[str], _Lines, _Lines], tmp_path: Path
) -> None:
    proc, out, err = training
    err.wait_for(r"^step 300/3000 ")  # progress lines go to stderr every 300 steps
    proc.send_signal(signal.SIGINT)
    assert proc.wait(WAIT_S) == 130
    run = tmp_path / "run"
    assert _files(run) == ["decision_boundary.png", "loss.png", "metrics.csv", "model.json", "summary.json",
                           "training.html"]
    _complete(run)
    summary = json.loads((run / "summary.json").read_text())
    assert summary["interrupted"] is True
    assert 300 <= summary["steps"] < 3000
    assert len((run / "metrics.csv").read_text().splitlines()) == 1 + summary["steps"]
    load(run / "model.json")
    stdout, stderr = out.text(), err.text()
    assert f"valuegrad: {summary['steps']} of 3000 steps in " in stdout
    assert ("valuegrad: wrote run/ (model.json, metrics.csv, loss.png, decision_boundary.png, training.html, "
            "summary.json)") in stdout
    assert (f"valuegrad: interrupted by Ctrl-C after {summary['steps']} of 3000 steps; the run folder holds the "
            "model as trained so far\n") in stderr
    assert "Traceback" not in stderr


@pytest.mark.slow
def test_second_ctrl_c_stops_at_once_and_leaves_no_partial_file(
    training: tuple[subprocess.Popen[str], _Lines, _Lines], tmp_path: Path
) -> None:
    pytest.importorskip("matplotlib")  # drawing makes the writing last long enough to interrupt it
    proc, out, err = training
    err.wait_for(r"^step 300/3000 ")
    proc.send_signal(signal.SIGINT)
    out.wait_for(r"^valuegrad: \d+ of 3000 steps")  # training has stopped; the files are being written
    proc.send_signal(signal.SIGINT)
    assert proc.wait(WAIT_S) == 130
    stderr = err.text()
    assert re.search(r"^valuegrad: interrupted: stopped at once; (wrote [a-z_., ]+|nothing was written) "
                     r"\(every file written is complete\)$", stderr, re.M), stderr
    assert "Traceback" not in stderr
    run = tmp_path / "run"
    if "nothing was written" in stderr:
        assert not run.exists()  # the folder this run created is removed again when empty
    else:
        _complete(run)
        assert "summary.json" not in _files(run)  # written last: the run is visibly incomplete


def test_an_unusable_output_folder_is_refused_before_training(tmp_path: Path) -> None:
    (tmp_path / "afile").write_text("in the way\n")
    for args, message in [
        (["--out", "afile/sub"], "cannot create the --out folder afile/sub: "),
        (["--out", "afile"], "--out afile exists and is not a folder"),
    ]:
        result = _run("train", "--steps", "1", *args, cwd=tmp_path)
        assert result.returncode == 2
        assert result.stderr.startswith(f"valuegrad: error: {message}")
        assert len(result.stderr.splitlines()) == 1 and result.stdout == ""
    (tmp_path / "runs").write_text("a file named runs\n")
    result = _run("train", "--steps", "1", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr == ("valuegrad: error: cannot create a run folder in runs/: runs is a file, not a folder "
                             "(move it, or choose a folder with --out)\n")
    assert _files(tmp_path) == ["afile", "runs"]


def test_a_folder_holding_files_is_refused_unless_overwrite_and_runs_never_mix(tmp_path: Path) -> None:
    assert main(["train", "--dataset", "iris", "--epochs", "2", "--out", str(tmp_path / "run")]) == 0
    assert "confusion_matrix.png" in _files(tmp_path / "run")
    before = (tmp_path / "run" / "model.json").read_bytes()
    result = _run("train", "--steps", "1", "--out", "run", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr == ("valuegrad: error: --out run already holds files (confusion_matrix.png, loss.png, "
                             "metrics.csv, ...); pass --overwrite to replace them, or choose a new folder\n")
    assert (tmp_path / "run" / "model.json").read_bytes() == before
    assert main(["train", "--steps", "2", "--out", str(tmp_path / "run"), "--overwrite"]) == 0
    # the iris run's confusion matrix is gone: everything in the folder is from the moons run
    assert _files(tmp_path / "run") == ["decision_boundary.png", "loss.png", "metrics.csv", "model.json",
                                        "summary.json", "training.html"]
    assert json.loads((tmp_path / "run" / "summary.json").read_text())["data"] == "moons"


@pytest.fixture
def world_readable_tmp() -> Iterator[Path]:
    """A folder under the system's temporary folder that another user may enter."""
    folder = Path(tempfile.mkdtemp(prefix="valuegrad-cli-"))
    folder.chmod(0o755)
    try:
        yield folder
    finally:
        for path in folder.rglob("*"):
            if path.is_dir():
                path.chmod(0o755)
        shutil.rmtree(folder)


def test_a_read_only_folder_is_refused_before_training(world_readable_tmp: Path) -> None:
    prefix: list[str] = []
    python, env = sys.executable, dict(os.environ)
    if os.geteuid() == 0:  # root may write anywhere: run as nobody, on a copy nobody can read
        setpriv = shutil.which("setpriv")
        assert setpriv is not None, "setpriv (util-linux) runs the command as another user"
        prefix = [setpriv, "--reuid=65534", "--regid=65534", "--clear-groups"]
        src = world_readable_tmp / "src"
        root = Path(__file__).resolve().parents[2]
        for package in ("autograd", "nn"):
            shutil.copytree(root / package, src / package, ignore=shutil.ignore_patterns("__pycache__"))
        for path in [src, *src.rglob("*")]:
            path.chmod(0o755 if path.is_dir() else 0o644)
        # an interpreter nobody can run (a virtual environment may sit in a private folder); the
        # CLI needs only the standard library for this
        python = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable
        env["PYTHONPATH"] = str(src)
    ro = world_readable_tmp / "ro"
    ro.mkdir()
    ro.chmod(stat.S_IRUSR | stat.S_IXUSR | stat.S_IRGRP | stat.S_IXGRP | stat.S_IROTH | stat.S_IXOTH)

    def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*prefix, python, "-m", "nn", "train", "--steps", "1", *args], cwd=cwd, env=env,
                              capture_output=True, text=True, timeout=300)

    result = run("--out", "ro/sub", cwd=world_readable_tmp)
    assert (result.returncode, result.stderr) == (2, "valuegrad: error: cannot create the --out folder ro/sub: "
                                                     "Permission denied\n")
    result = run("--out", "ro", cwd=world_readable_tmp)
    assert (result.returncode, result.stderr) == (2, "valuegrad: error: cannot write into the folder ro: "
                                                     "Permission denied\n")
    result = run(cwd=ro)
    assert (result.returncode, result.stderr) == (2, "valuegrad: error: cannot create the folder runs/: "
                                                     "Permission denied\n")
    assert list(ro.iterdir()) == []


def test_default_run_folders_are_unique_within_one_second(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(time, "strftime", lambda fmt: "20260101-120000")
    root = str(tmp_path / "runs")
    paths = [claim_run_folder(None, "moons", root=root).path for _ in range(3)]
    assert [os.path.basename(p) for p in paths] == ["moons-20260101-120000", "moons-20260101-120000-2",
                                                     "moons-20260101-120000-3"]


def test_two_runs_started_together_write_two_folders(tmp_path: Path) -> None:
    args = [sys.executable, "-m", "nn", "train", "--samples", "10", "--steps", "2", "--hidden", "2"]
    procs = [subprocess.Popen(args, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
             for _ in range(2)]
    assert [p.wait(WAIT_S) for p in procs] == [0, 0]
    folders = list((tmp_path / "runs").iterdir())
    assert len(folders) == 2
    for folder in folders:
        assert "summary.json" in _files(folder)


def test_diverging_training_stops_says_so_and_exits_1(tmp_path: Path) -> None:
    result = _run("train", "--lr", "1e300", "--out", "run", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.splitlines()[-1] == (
        "valuegrad: error: training diverged at step 2: the loss is nan: try a smaller learning rate "
        "(--lr 1e+300), standardized inputs (--standardize) or another loss; no model was saved")
    assert "valuegrad: 2 of 100 steps in " in result.stdout
    # the "wrote" line lists exactly the files written: no model.json
    assert "valuegrad: wrote run/ (metrics.csv, loss.png, summary.json)" in result.stdout
    assert _files(tmp_path / "run") == ["loss.png", "metrics.csv", "summary.json"]
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert (summary["diverged"], summary["steps"], summary["loss"]) == (True, 2, None)
    assert "could not save" not in result.stderr


def test_mse_on_xor_with_a_big_learning_rate_diverges(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["train", "--dataset", "xor", "--loss", "mse", "--lr", "5", "--out", str(tmp_path / "x")]) == 1
    assert "training diverged at step 6: the loss is inf" in capsys.readouterr().err


def test_huge_losses_print_readably_and_undrawable_data_skips_one_picture(tmp_path: Path) -> None:
    assert readable(0.0118) == "0.0118"
    assert readable(1.2e308) == "1.2e+308"
    assert (readable(float("inf")), readable(float("nan"))) == ("inf", "nan")
    result = _run("train", "--noise", "1e160", "--optimizer", "adam", "--out", "run", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert re.search(r"final loss \d\.\d{3}e\+159, training accuracy", result.stdout)
    assert not re.search(r"\d{20}", result.stdout + result.stderr)
    assert "Traceback" not in result.stderr
    assert ("valuegrad: skipped decision_boundary.png: the points are too far apart to draw (coordinates up to "
            in result.stderr)
    assert _files(tmp_path / "run") == ["loss.png", "metrics.csv", "model.json", "summary.json", "training.html"]


def test_points_at_infinity_are_refused(tmp_path: Path) -> None:
    result = _run("train", "--noise", "1e308", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr == ("valuegrad: error: --noise 1e+308 puts 12 of 100 points at infinity; use a smaller "
                             "--noise\n")
    assert _files(tmp_path) == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--samples", "200000"], r"this run would take about \d+ minutes and [\d.]+ MB of memory \(an MLP of 337 "
                                  r"parameters, 200,000 rows per step, 100 steps\), over the limit of 10 minutes "
                                  r"or 2 GB; use a smaller --hidden, fewer --samples or --steps, or pass --force"),
        (["--hidden", "1000,1000"], r"this run would take about [\d.]+ hours and [\d.]+ GB of memory \(an MLP of "
                                    r"1,005,001 parameters"),
    ],
)
def test_runs_over_the_cost_limit_are_refused_with_the_estimate(tmp_path: Path, args: list[str], message: str) -> None:
    result = _run("train", *args, cwd=tmp_path)
    assert result.returncode == 2
    assert re.fullmatch(f"valuegrad: error: {message}.*\n", result.stderr), result.stderr
    assert _files(tmp_path) == []


def test_the_estimate_grows_with_parameters_rows_and_steps() -> None:
    default_s, default_bytes = estimate(337, 100, 100, 100, 2, vectorized=False)
    assert default_s < 5 and default_bytes < 100e6
    assert estimate(337, 200, 100, 200, 2, vectorized=False)[0] > default_s
    assert estimate(337, 100, 1000, 100, 2, vectorized=False)[0] > 5 * default_s
    assert estimate(337, 100, 100, 100, 2, vectorized=True)[0] < default_s
    assert estimate(1_005_001, 100, 100, 100, 2, vectorized=False)[1] > 2 * 1024**3


def test_long_runs_warn_and_force_runs_over_the_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(cli.plan, "WARN_SECONDS", 0.0)
    assert main(["train", "--steps", "2", "--out", str(tmp_path / "w")]) == 0
    assert re.search(r"^valuegrad: warning: this run will take about \d+ s and [\d.]+ MB of memory \(an MLP of "
                     r"337 parameters, 100 rows per step, 2 steps\)$", capsys.readouterr().err, re.M)
    monkeypatch.setattr(cli.plan, "LIMIT_SECONDS", 0.0)
    assert main(["train", "--steps", "2", "--out", str(tmp_path / "refused")]) == 2
    assert not (tmp_path / "refused").exists()
    assert main(["train", "--steps", "2", "--force", "--out", str(tmp_path / "forced")]) == 0


def test_outputs_have_the_documented_modes(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "nn", "train", "--steps", "1", "--out", "run"], cwd=tmp_path,
                            capture_output=True, text=True, timeout=300, preexec_fn=lambda: os.umask(0o022))
    assert result.returncode == 0, result.stderr
    modes = {p.name: p.stat().st_mode & 0o777 for p in (tmp_path / "run").iterdir()}
    assert modes.pop("model.json") == 0o600
    assert set(modes.values()) == {0o644}


def test_a_write_that_fails_after_training_is_one_line_and_exit_code_1(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def full_disk(path: str, data: str | bytes, mode: int | None = None) -> None:
        raise OSError(errno.ENOSPC, "No space left on device", path)

    monkeypatch.setattr(report, "atomic_write", full_disk)
    assert main(["train", "--steps", "2", "--out", str(tmp_path / "run")]) == 1
    err = capsys.readouterr().err
    assert err.splitlines()[-1] == (f"valuegrad: error: cannot write {tmp_path / 'run' / 'metrics.csv'}: "
                                    "No space left on device; wrote model.json")
    assert _files(tmp_path / "run") == ["model.json"]


def test_vectorized_training_on_pytorch_tensors_and_clear_refusals(tmp_path: Path) -> None:
    ok = subprocess.run([sys.executable, "-m", "nn", "train", "--steps", "5", "--vectorized", "--backend", "torch",
                         "--out", str(tmp_path / "t")], capture_output=True, text=True, timeout=300)
    assert ok.returncode == 0, ok.stderr
    summary = json.loads((tmp_path / "t" / "summary.json").read_text())
    assert summary["path"] == "vectorized" and summary["steps"] == 5
    for extra, message in ((["--backend", "torch"], "add --vectorized"),
                           (["--vectorized", "--backend", "torch", "--device", "cuda:99"], "--backend torch: ")):
        bad = subprocess.run([sys.executable, "-m", "nn", "train", "--steps", "2", *extra,
                              "--out", str(tmp_path / "bad")], capture_output=True, text=True, timeout=300)
        assert bad.returncode == 2 and message in bad.stderr and bad.stderr.count("\n") == 1, bad.stderr
        assert not (tmp_path / "bad").exists()
