"""The training widget where users use it: a real JupyterLab server, a real kernel, a real Chromium.

The test starts ``jupyter lab`` headless on a free port with a fresh notebook folder (the set-up
of tests/jupyterlab.py), opens a notebook in headless Chromium, runs all its cells through
JupyterLab's own command (``notebook:run-all-cells``; the app is exposed with
``--LabApp.expose_app_in_browser``), and checks that the widget appears in the output area, that
its ``data-snapshots`` grows while the kernel is busy training (the live part), and that scrubbing
it afterwards shows the run's exact numbers. The notebook trains a small moons model with
``nn.train(..., callbacks=[view])`` for a ``nn.TrainingView`` shown before the run (an extra
``on_step`` sleeps a little each step, so that even a fast machine trains for a few seconds); a
later cell writes the snapshots' ``repr`` of the loss and the view's payload to files beside the
notebook, which the widget's ``data-value`` attributes and edges are compared with (the test
cannot read the kernel's numbers otherwise).

Needs jupyterlab, anywidget and ipykernel (the dev extra) and Chromium with chromedriver; it is
never skipped. It takes about 15-25 s, most of it JupyterLab starting.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests.browser import logs, wait_for
from tests.jupyterlab import LAB_READY_S, Lab, lab_browser, open_notebook, running_lab, write_kernel
from tests.nn.test_training_page import check_snapshot, read

if TYPE_CHECKING:
    from selenium.webdriver.chrome.webdriver import WebDriver

KERNEL = "valuegrad-lab-tests"
STEPS, EVERY = 150, 10
SNAPSHOTS = STEPS // EVERY
STEP_SLEEP_S = 0.03

CELLS = [
    "import json, time\n"
    "from IPython.display import display\n"
    "from nn import MLP, TrainingView, train\n"
    "from nn.data import make_moons\n"
    "X, y = make_moons(60, noise=0.1, seed=1)\n"
    "X_val, y_val = make_moons(40, noise=0.1, seed=2)\n"
    "model = MLP(2, [8, 8, 1], seed=0)\n"
    f"view = TrainingView(model, X, y, validation=(X_val, y_val), every={EVERY})\n"
    "display(view)\n"
    f"train(model, X, y, steps={STEPS}, callbacks=[view], on_step=lambda *step: time.sleep({STEP_SLEEP_S}))\n"
    "print('trained')",
    "with open('losses.json', 'w') as f:\n"
    "    json.dump([repr(s.loss) for s in view.snapshots], f)\n"
    "with open('payload.json', 'w') as f:\n"
    "    json.dump(view.payload(), f)\n"
    "print('saved')",
]


def write_notebook(folder: Path) -> None:
    cells: list[dict[str, Any]] = [
        {"cell_type": "code", "execution_count": None, "id": f"cell{i}", "metadata": {}, "outputs": [],
         "source": source}
        for i, source in enumerate(CELLS)
    ]
    notebook = {
        "cells": cells,
        "metadata": {"kernelspec": {"name": KERNEL, "display_name": "valuegrad lab tests", "language": "python"},
                     "language_info": {"name": "python"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    (folder / "test.ipynb").write_text(json.dumps(notebook), encoding="utf-8")


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    base = tmp_path_factory.mktemp("jupyterlab")
    (base / "notebooks").mkdir()
    write_notebook(base / "notebooks")
    write_kernel(base / "data", KERNEL, "valuegrad lab tests")
    with running_lab(base) as server:
        yield server


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebDriver]:
    yield from lab_browser(tmp_path_factory)


NOTEBOOK_STATE = """
const app = window.jupyterapp;
if (!app || !app.shell) return null;
const panel = app.shell.currentWidget;
if (!panel || !panel.sessionContext || !panel.content || !panel.context || !panel.context.isReady) return null;
const kernel = panel.sessionContext.session ? panel.sessionContext.session.kernel : null;
const root = panel.node.querySelector('.jp-OutputArea [data-valuegrad-network]');
return {
  kernel: kernel ? kernel.status : null,
  ready: panel.sessionContext.isReady,
  snapshots: root ? root.getAttribute('data-snapshots') : null,
  snapshot: root ? root.getAttribute('data-snapshot') : null,
  prompt: Array.from(panel.node.querySelectorAll('.jp-CodeCell .jp-InputPrompt')).map((p) => p.textContent.trim()),
  text: Array.from(panel.node.querySelectorAll('.jp-OutputArea-output pre')).map((p) => p.textContent).join('\\n'),
};
"""


def notebook(browser: WebDriver) -> dict[str, Any] | None:
    state: dict[str, Any] | None = browser.execute_script(NOTEBOOK_STATE)
    return state


@pytest.mark.slow
def test_the_widget_grows_while_the_cell_runs_and_then_scrubs(lab: Lab, browser: WebDriver) -> None:
    started = time.monotonic()
    logs(browser, "browser")
    open_notebook(browser, lab, "test.ipynb")

    def idle() -> bool:
        state = notebook(browser)
        return state is not None and state["ready"] and state["kernel"] == "idle"

    try:
        wait_for(browser, idle, LAB_READY_S)
    except AssertionError as e:
        raise AssertionError(f"the notebook's kernel did not start: {notebook(browser)}\n{lab.log_tail()}") from e
    browser.execute_script("window.jupyterapp.commands.execute('notebook:run-all-cells')")

    # watch the widget while the kernel works: (training cell running?, data-snapshots) as they change.
    # The cell runs while its prompt is [*] and it has not printed "trained"; JupyterLab's kernel
    # status is no witness here: it read "idle" for the whole of this cell's run.
    seen: list[tuple[str, int]] = []
    deadline = time.monotonic() + 120
    while True:
        state = notebook(browser)
        assert state is not None
        if state["snapshots"] is not None:
            running = state["prompt"][0] == "[*]:" and "trained" not in state["text"]
            entry = ("running" if running else "done", int(state["snapshots"]))
            if not seen or seen[-1] != entry:
                seen.append(entry)
        if "saved" in state["text"] and state["kernel"] == "idle":
            break
        if "Error" in state["text"] or "Traceback" in state["text"]:
            raise AssertionError(f"a cell failed:\n{state['text']}")
        assert time.monotonic() < deadline, f"the notebook did not finish: {state}, seen {seen}"
        time.sleep(0.05)
    state = notebook(browser)
    assert state is not None and state["snapshots"] == str(SNAPSHOTS), (state, seen)
    assert state["snapshot"] == str(SNAPSHOTS - 1)  # it followed the newest snapshot
    while_busy = [count for status, count in seen if status == "running"]
    assert len(set(while_busy)) >= 3, seen  # the count grew while the cell still ran
    assert while_busy == sorted(while_busy) and while_busy[-1] > while_busy[0], seen
    assert [count for _, count in seen] == sorted(count for _, count in seen), seen

    # scrub the widget: the slider, prev / next and the mode, checked against the kernel's numbers
    losses = json.loads((lab.root / "losses.json").read_text(encoding="utf-8"))
    full = json.loads((lab.root / "payload.json").read_text(encoding="utf-8"))
    assert len(losses) == SNAPSHOTS and full["snapshots"]["step"] == list(range(EVERY, STEPS + 1, EVERY))
    output = ".jp-OutputArea [data-valuegrad-network]"
    for k in (0, SNAPSHOTS // 2, 0):
        browser.execute_script(
            f"const s = document.querySelector('{output} [data-action=\"seek\"]'); s.value = String(arguments[0]);"
            "s.dispatchEvent(new Event('input', {bubbles: true}));", k)
        state = read(browser)
        assert state["fields"]["loss"][0] == losses[k], (k, state["fields"]["loss"], losses[k])
        check_snapshot(state, full, k, "weights")
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    browser.find_element(By.CSS_SELECTOR, f'{output} [data-action="next"]').click()
    check_snapshot(read(browser), full, 1, "weights")
    Select(browser.find_element(By.CSS_SELECTOR, f'{output} select[data-action="mode"]')).select_by_value("grads")
    check_snapshot(read(browser), full, 1, "grads")
    Select(browser.find_element(By.CSS_SELECTOR, f'{output} select[data-action="mode"]')).select_by_value("updates")
    check_snapshot(read(browser), full, 1, "updates")
    browser.find_element(By.CSS_SELECTOR, f'{output} [data-action="prev"]').click()
    check_snapshot(read(browser), full, 0, "updates")
    assert read(browser)["fields"]["loss"][0] == losses[0]
    errors = [e for e in logs(browser, "browser") if e["level"] == "SEVERE"]  # JupyterLab's own included
    assert not errors, errors
    print(f"JupyterLab test: {time.monotonic() - started:.1f} s from opening the notebook; seen {seen}")
