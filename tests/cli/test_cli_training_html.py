"""``valuegrad train``'s training.html, metrics.csv's held-out columns and the new flags, end to end.

Two small runs (moons for 20 steps without held-out data; iris for a few epochs with a test split)
write their run folders once per module. The page is opened in headless Chromium (the driver and
helpers of tests/test_training_page.py) and scrubbed through every snapshot in every mode; each
field is checked against the payload the page carries *and* against metrics.csv's row of that
step, and the last snapshot's ``data-weight`` attributes against model.json's weights exactly. A
clicked neuron's stepper must be the one built from model.json's weights for the run's first
training row.
"""

from __future__ import annotations

import csv
import json
import math
import re
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from nn.cli import MAX_SNAPSHOTS, SNAPSHOTS, build_parser, main
from nn.report import loss_png, metrics_csv
from nn.train import History
from tests.nn.test_training_page import (
    MODES,
    check_offline_and_quiet,
    check_snapshot,
    choose_mode,
    click,
    open_page,
    read,
    same,
    seek,
)
from tests.training_payloads import decode

if TYPE_CHECKING:
    from selenium.webdriver.chrome.webdriver import WebDriver

MOONS = ("train", "--steps", "20")
IRIS = ("train", "--dataset", "iris", "--epochs", "4")


def _run(args: tuple[str, ...], out: Path) -> subprocess.CompletedProcess[str]:
    result = subprocess.run([sys.executable, "-m", "nn", *args, "--out", str(out)], capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr
    return result


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("runs")
    _run(MOONS, root / "moons")
    _run(IRIS, root / "iris")
    return {"moons": root / "moons", "iris": root / "iris"}


def page_payload(path: Path) -> dict[str, Any]:
    """The payload a training.html carries (its JSON script), non-finite numbers back as floats."""
    text = path.read_text(encoding="utf-8")
    found = re.search(r'<script type="application/json" id="valuegrad-training-data">(.*?)</script>', text, re.S)
    assert found is not None
    payload: dict[str, Any] = json.loads(found.group(1))
    snaps = payload["snapshots"]
    for name in ("loss", "accuracy", "val_loss", "val_accuracy"):
        snaps[name] = [float(v) if isinstance(v, str) else v for v in snaps[name]]
    return payload


def metrics(folder: Path) -> list[dict[str, str]]:
    return list(csv.DictReader((folder / "metrics.csv").open(encoding="utf-8")))


def check_against_run(state: dict[str, Any], payload: dict[str, Any], rows: list[dict[str, str]], k: int) -> None:
    """The shown snapshot's fields are metrics.csv's row of its step (``step`` there counts from 0)."""
    step = payload["snapshots"]["step"][k]
    row = rows[step - 1]
    assert int(row["step"]) == step - 1
    for name in ("loss", "accuracy", "val_loss", "val_accuracy"):
        attr = state["fields"][name][0]
        assert attr == row[name], (name, k, attr, row[name])  # both Python's repr, or both empty


# --- the run folder, without a browser ---------------------------------------------------------


def test_the_flags_defaults_are_the_views() -> None:
    from nn.views.training import MAX_SNAPSHOTS as VIEW_MAX
    from nn.views.training import TARGET_SNAPSHOTS

    assert (SNAPSHOTS, MAX_SNAPSHOTS) == (TARGET_SNAPSHOTS, VIEW_MAX)
    args = build_parser().parse_args(["train"])
    assert (args.snapshots, args.html) == (100, True)


@pytest.mark.parametrize(("value", "message"), [
    ("0", "expected a positive integer, got '0'"),
    ("201", "expected at most 200 snapshots, got '201'"),
    ("x", "expected a positive integer, got 'x'"),
])
def test_a_bad_snapshot_count_is_a_one_line_error(tmp_path: Path, value: str, message: str) -> None:
    result = subprocess.run([sys.executable, "-m", "nn", "train", "--snapshots", value, "--out", "r"], cwd=tmp_path,
                            capture_output=True, text=True, timeout=120)
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == f"valuegrad: error: argument --snapshots: {message}\n"
    assert not (tmp_path / "r").exists()


def test_moons_writes_the_page_and_empty_held_out_columns(runs: dict[str, Path]) -> None:
    folder = runs["moons"]
    rows = metrics(folder)
    assert list(rows[0]) == ["step", "loss", "accuracy", "lr", "val_loss", "val_accuracy"]
    assert len(rows) == 20 and all(r["val_loss"] == r["val_accuracy"] == "" for r in rows)
    payload = page_payload(folder / "training.html")
    snaps = payload["snapshots"]
    assert snaps["step"] == list(range(1, 21))  # 20 steps, fewer than 100: every step a snapshot
    assert [repr(x) for x in snaps["loss"]] == [r["loss"] for r in rows]
    assert snaps["val_loss"] == [None] * 20
    summary = json.loads((folder / "summary.json").read_text())
    assert (summary["val_loss"], summary["val_accuracy"]) == (None, None)


def test_iris_fills_the_held_out_columns_at_the_snapshot_steps(runs: dict[str, Path]) -> None:
    folder = runs["iris"]
    rows = metrics(folder)
    payload = page_payload(folder / "training.html")
    snaps = payload["snapshots"]
    steps = len(rows)
    assert steps == 4 * math.ceil(120 / 16)  # 4 epochs of 120 training rows in batches of 16
    assert snaps["step"] == list(range(1, steps + 1))  # 32 steps: every step a snapshot
    filled = [int(r["step"]) + 1 for r in rows if r["val_loss"]]
    assert filled == snaps["step"]
    assert all(bool(r["val_loss"]) == bool(r["val_accuracy"]) for r in rows)
    assert [repr(x) for x in snaps["val_loss"]] == [rows[s - 1]["val_loss"] for s in snaps["step"]]
    assert [repr(x) for x in snaps["val_accuracy"]] == [rows[s - 1]["val_accuracy"] for s in snaps["step"]]
    assert payload["curves"]["val_step"] == snaps["step"]
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["val_loss"] == float(rows[-1]["val_loss"]) and 0 < summary["val_loss"] < 5
    # the held-out curve's last point is the final model on the test split: the held-out accuracy
    assert summary["val_accuracy"] == summary["test_accuracy"] == float(rows[-1]["val_accuracy"])


def test_snapshots_sets_the_count_and_no_html_keeps_metrics_the_same(tmp_path: Path) -> None:
    args = ["train", "--dataset", "iris", "--epochs", "10"]
    assert main([*args, "--snapshots", "7", "--out", str(tmp_path / "seven")]) == 0
    assert main([*args, "--snapshots", "7", "--no-html", "--out", str(tmp_path / "plain")]) == 0
    steps = 10 * math.ceil(120 / 16)
    every = math.ceil(steps / 7)
    snaps = page_payload(tmp_path / "seven" / "training.html")["snapshots"]
    assert snaps["step"] == [*range(every, steps + 1, every), *([steps] if steps % every else [])]
    assert len(snaps["step"]) <= 7
    assert not (tmp_path / "plain" / "training.html").exists()
    # without the page the held-out set is still evaluated at the same steps: the same file
    assert (tmp_path / "plain" / "metrics.csv").read_text() == (tmp_path / "seven" / "metrics.csv").read_text()
    filled = [int(r["step"]) + 1 for r in metrics(tmp_path / "plain") if r["val_loss"]]
    assert filled == snaps["step"]


def test_the_default_moons_page_is_under_4_mb(tmp_path: Path) -> None:
    _run(("train",), tmp_path / "run")
    size = (tmp_path / "run" / "training.html").stat().st_size
    assert 1_000_000 < size < 4 * 1024**2
    assert page_payload(tmp_path / "run" / "training.html")["snapshots"]["n"] == 100


def test_metrics_csv_puts_held_out_figures_on_their_steps_rows() -> None:
    history = History(loss=[3.0, 2.0, 1.0], accuracy=[0.5, 0.75, 1.0], lr=[0.1, 0.1, 0.1], val_steps=[2, 3],
                      val_loss=[2.5, 0.1 + 0.2], val_accuracy=[0.5, 1 / 3])
    assert metrics_csv(history) == ("step,loss,accuracy,lr,val_loss,val_accuracy\n"
                                    "0,3.0,0.5,0.1,,\n"
                                    "1,2.0,0.75,0.1,2.5,0.5\n"
                                    "2,1.0,1.0,0.1,0.30000000000000004,0.3333333333333333\n")


def test_loss_png_draws_the_held_out_curve() -> None:
    pytest.importorskip("matplotlib")
    plain = History(loss=[3.0, 2.0, 1.0], accuracy=[0.5, 0.75, 1.0], lr=[0.1] * 3)
    held = History(loss=[3.0, 2.0, 1.0], accuracy=[0.5, 0.75, 1.0], lr=[0.1] * 3, val_steps=[2, 3],
                   val_loss=[2.5, 1.5], val_accuracy=[0.5, 0.6])
    assert loss_png(plain)[:8] == b"\x89PNG\r\n\x1a\n"
    assert loss_png(held) != loss_png(plain)


def test_a_diverged_run_that_can_be_drawn_writes_its_page(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "nn", "train", "--dataset", "xor", "--loss", "mse", "--lr", "5",
                             "--out", "run"], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert result.returncode == 1
    assert "valuegrad: wrote run/ (metrics.csv, loss.png, training.html, summary.json)" in result.stdout
    page = tmp_path / "run" / "training.html"
    assert page.read_text(encoding="utf-8").endswith("</html>\n")
    snaps = page_payload(page)["snapshots"]
    assert snaps["step"] == list(range(1, 7)) and math.isinf(snaps["loss"][-1])
    assert all(math.isfinite(w) for w in decode(page_payload(page)["snapshots"]["state"]))


def test_a_diverged_run_that_cannot_be_drawn_says_so(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "nn", "train", "--lr", "1e300", "--out", "run"], cwd=tmp_path,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 1
    assert re.search(r"^valuegrad: skipped training\.html: ", result.stderr, re.M), result.stderr
    assert sorted(p.name for p in (tmp_path / "run").iterdir()) == ["loss.png", "metrics.csv", "summary.json"]


# --- in a browser --------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("name", ["moons", "iris"])
def test_the_page_of_a_cli_run_matches_metrics_and_model(browser: WebDriver, runs: dict[str, Path],
                                                         name: str) -> None:
    folder = runs[name]
    path = folder / "training.html"
    payload = page_payload(path)
    rows = metrics(folder)
    n = payload["snapshots"]["n"]
    open_page(browser, path)
    for mode in MODES:
        choose_mode(browser, mode)
        for k in range(n):
            seek(browser, k)
            state = read(browser)
            check_snapshot(state, payload, k, mode)
            check_against_run(state, payload, rows, k)
    seek(browser, n - 1)
    state = read(browser)
    weights = json.loads((folder / "model.json").read_text())["state_dict"]
    keys = payload["network"]["keys"]
    assert keys == list(weights)
    for key, edge in zip(keys, payload["network"]["edge_of_key"]):
        attr = state["edges"][edge][0]
        assert same(attr, weights[key]) and float(attr) == weights[key], (key, attr, weights[key])
    check_offline_and_quiet(browser, path)


@pytest.mark.slow
def test_a_clicked_neuron_shows_the_stepper_of_the_saved_model(browser: WebDriver, runs: dict[str, Path]) -> None:
    from selenium.webdriver.common.by import By

    from nn import MLP, load
    from nn.cli.plan import load_data
    from nn.views.training import _neuron_stepper, unpack_page

    folder = runs["moons"]
    path = folder / "training.html"
    payload = page_payload(path)
    open_page(browser, path)
    browser.find_element(By.CSS_SELECTOR, '[data-neuron="2:3"]').click()
    frame = browser.find_element(By.CSS_SELECTOR, '[data-valuegrad-stepper="2:3"] iframe')
    srcdoc = frame.get_attribute("srcdoc")
    assert srcdoc is not None and srcdoc == payload["steppers"]["2:3"]
    model = load(folder / "model.json")
    assert isinstance(model, MLP)
    X = load_data(build_parser().parse_args(list(MOONS))).X  # no split, no scaling: the rows in order
    want = _neuron_stepper(model, model.state_dict(), 1, 3, [float(v) for v in X[0]]).to_html()
    assert unpack_page(srcdoc) == want
    browser.switch_to.frame(frame)
    try:  # the stepper's own script runs inside the frame
        from tests.browser import wait_for

        wait_for(browser, lambda: browser.execute_script(
            "const r = document.querySelector('[data-valuegrad-stepper]'); return r && r.getAttribute('data-step');"
        ) == "0")
    finally:
        browser.switch_to.default_content()
    click(browser, "close-stepper")
    assert not browser.find_elements(By.CSS_SELECTOR, "[data-valuegrad-stepper]")
    check_offline_and_quiet(browser, path)
