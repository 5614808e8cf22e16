"""The stepper in a real headless Chromium: pages written by Stepper.save_html() are opened from
disk and clicked through step by step, and after every click each node's ``data-grad`` and the
step counter are checked against ``backward_steps()`` on a fresh pass. Also: the keyboard, the
slider, reset, play / pause, clicking a node, the widget's script (driven by a stand-in for
Jupyter's widget model), and that a page makes no network request and logs no error.

Needs Chromium and its chromedriver (Debian: ``apt-get install chromium chromium-driver``) and the
``selenium`` package; without them the tests are skipped with a message. Set ``VALUEGRAD_CHROMIUM``
and ``VALUEGRAD_CHROMEDRIVER`` to use other binaries.

Run as a script, it writes the screenshot used by the documentation::

    python tests/autograd/show/test_stepper_browser.py docs/stepper.png
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if __package__ in (None, ""):  # run as a script: import this checkout
    sys.path.insert(0, str(Path(__file__).resolve().parents[3]))

from autograd import Value, topological_order
from autograd.show.stepper import Stepper
from tests.browser import logs, screenshot_script, wait_for
from tests.graphs import classic

if TYPE_CHECKING:
    from selenium.webdriver.chrome.webdriver import WebDriver

PLAY_TIMEOUT_S = 30.0


# --- graphs ------------------------------------------------------------------------------------


def readme_example() -> Value:
    """The README's ``e = a * b + b ** 2``, b used twice."""
    a, b = Value(2.0, label="a"), Value(-3.0, label="b")
    e = a * b + b**2
    e.label = "e"
    return e


def diamond() -> Value:
    """y is used three times (twice by one op), x reaches the output along several paths."""
    x = Value(1.5, label="x")
    y = x * 2.0
    y.label = "y"
    z = y * y + y.tanh() + x
    z.label = "z"
    return z


def small_mlp() -> Value:
    from nn import MLP

    out = MLP(2, [2, 1], seed=0)([0.5, -1.0])
    assert isinstance(out, Value)
    out.label = "out"
    return out


GRAPHS: dict[str, Callable[[], Value]] = {
    "readme": readme_example,
    "classic": classic,
    "diamond": diamond,
    "mlp": small_mlp,
}


def fresh_pass(root: Value, grad: float = 1.0) -> list[list[str]]:
    """Every node's grad (repr) after each record of ``backward_steps()`` on a fresh pass."""
    nodes = topological_order(root)
    for n in nodes:
        n.grad = 0.0
    walker = root.backward_steps(grad)
    # before the first edge: the pass seeded (nothing changes until the first step is taken)
    snapshots = [[repr(0.0)] * (len(nodes) - 1) + [repr(float(grad))]]
    for _ in walker:
        snapshots.append([repr(n.grad) for n in nodes])
    return snapshots


# --- the browser -------------------------------------------------------------------------------


def open_page(browser: WebDriver, path: Path) -> None:
    """Load a saved page, with the logs of earlier pages drained."""
    logs(browser, "browser")
    logs(browser, "performance")
    browser.get(path.as_uri())
    wait_for(browser, lambda: browser.execute_script(
        "const r = document.querySelector('[data-valuegrad-stepper]'); return r && r.getAttribute('data-step');"
    ) == "0")


READ_STATE = """
const root = arguments[0] ? document.querySelector(arguments[0]) : document;
const nodes = Array.from(root.querySelectorAll('[data-node]'))
  .sort((a, b) => Number(a.getAttribute('data-node')) - Number(b.getAttribute('data-node')));
return {
  step: root.querySelector('[data-field="step"]').textContent,
  line: root.querySelector('[data-field="explanation"]').textContent,
  details: root.querySelector('[data-field="details"]').textContent,
  slider: root.querySelector('[data-action="seek"]').value,
  playing: root.querySelector('[data-valuegrad-stepper]') ?
    root.querySelector('[data-valuegrad-stepper]').getAttribute('data-playing') : root.getAttribute('data-playing'),
  next: root.querySelector('[data-action="next"]').disabled,
  prev: root.querySelector('[data-action="prev"]').disabled,
  grads: nodes.map((el) => el.getAttribute('data-grad')),
  data: nodes.map((el) => el.getAttribute('data-data')),
  hover: nodes.map((el) => el.querySelector('[data-role="grad"] title').textContent),
  indices: nodes.map((el) => el.getAttribute('data-node')),
};
"""


def read(browser: WebDriver, scope: str = "") -> dict[str, Any]:
    state: dict[str, Any] = browser.execute_script(READ_STATE, scope)
    return state


def click(browser: WebDriver, action: str) -> None:
    from selenium.webdriver.common.by import By

    browser.find_element(By.CSS_SELECTOR, f'[data-action="{action}"]').click()


def press(browser: WebDriver, key: str) -> None:
    from selenium.webdriver.common.action_chains import ActionChains

    ActionChains(browser).send_keys(key).perform()


def seek(browser: WebDriver, k: int) -> None:
    browser.execute_script(
        "const s = document.querySelector('[data-action=\"seek\"]'); s.value = String(arguments[0]);"
        "s.dispatchEvent(new Event('input', {bubbles: true}));", k)


def check_offline_and_quiet(browser: WebDriver, path: Path) -> None:
    """The page fetched nothing but itself and logged no error."""
    assert browser.execute_script("return performance.getEntriesByType('resource').length") == 0
    requests = []  # what the page asked for (the browser's own pages, chrome://..., log theirs too)
    for entry in logs(browser, "performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent" and message["params"].get("documentURL") == path.as_uri():
            requests.append(message["params"]["request"]["url"])
    assert requests == [path.as_uri()], requests
    errors = [entry for entry in logs(browser, "browser") if entry["level"] in ("SEVERE", "WARNING")]
    assert not errors, errors


def check_state(state: dict[str, Any], k: int, n: int, grads: list[str]) -> None:
    assert state["step"] == f"{k} / {n}"
    assert state["slider"] == str(k)
    assert state["grads"] == grads, f"step {k}"
    assert state["hover"] == grads  # the exact value on hover
    assert state["prev"] == (k == 0) and state["next"] == (k == n)


# --- the tests ---------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("name", ["readme", "diamond", "mlp"])
def test_every_step_forwards_and_back_matches_backward_steps(browser: WebDriver, tmp_path: Path, name: str) -> None:
    root = GRAPHS[name]()
    stepper = Stepper(root)
    path = stepper.save_html(tmp_path / f"{name}.html")
    snapshots = fresh_pass(root)
    n = len(stepper)
    assert n == len(snapshots) - 1
    open_page(browser, path)
    assert read(browser)["indices"] == [str(i) for i in range(len(stepper.nodes))]
    for k in range(n + 1):
        state = read(browser)
        check_state(state, k, n, snapshots[k])
        assert state["line"] == stepper.line(k)
        assert state["data"] == [repr(v.data) for v in stepper.nodes]
        if k < n:
            click(browser, "next")
    for k in range(n - 1, -1, -1):
        click(browser, "prev")
        check_state(read(browser), k, n, snapshots[k])
    check_offline_and_quiet(browser, path)


@pytest.mark.slow
def test_keyboard_slider_reset_and_clicking_a_node(browser: WebDriver, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    root = classic()
    stepper = Stepper(root)
    path = stepper.save_html(tmp_path / "classic.html")
    snapshots = fresh_pass(root)
    n = len(stepper)
    open_page(browser, path)
    for k in range(1, n + 1):
        press(browser, Keys.ARROW_RIGHT)
        check_state(read(browser), k, n, snapshots[k])
    press(browser, Keys.ARROW_RIGHT)  # already at the end
    check_state(read(browser), n, n, snapshots[n])
    for k in range(n - 1, 1, -1):
        press(browser, Keys.ARROW_LEFT)
        check_state(read(browser), k, n, snapshots[k])
    for k in (5, 0, n, 3):
        seek(browser, k)
        check_state(read(browser), k, n, snapshots[k])
        assert read(browser)["line"] == stepper.line(k)
    e = next(i for i, v in enumerate(stepper.nodes) if v.label == "e")
    browser.find_element(By.CSS_SELECTOR, f'[data-node="{e}"]').click()
    assert read(browser)["details"] == stepper.explain(e, 3)
    for k in (2, 6):  # the text follows the step shown
        seek(browser, k)
        assert read(browser)["details"] == stepper.explain(e, k)
    click(browser, "reset")
    check_state(read(browser), 0, n, snapshots[0])
    assert read(browser)["details"] == stepper.explain(e, 0)
    press(browser, Keys.END)
    check_state(read(browser), n, n, snapshots[n])
    press(browser, Keys.HOME)
    check_state(read(browser), 0, n, snapshots[0])
    check_offline_and_quiet(browser, path)


@pytest.mark.slow
def test_play_runs_to_the_end_and_pause_stops(browser: WebDriver, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    root = small_mlp()
    stepper = Stepper(root)
    path = stepper.save_html(tmp_path / "mlp.html")
    snapshots = fresh_pass(root)
    n = len(stepper)
    open_page(browser, path)
    speed = Select(browser.find_element(By.CSS_SELECTOR, '[data-action="speed"]'))
    speed.select_by_value("60")
    click(browser, "play")
    assert read(browser)["playing"] == "true"
    wait_for(browser, lambda: read(browser)["step"] == f"{n} / {n}", PLAY_TIMEOUT_S)
    wait_for(browser, lambda: read(browser)["playing"] == "false")
    check_state(read(browser), n, n, snapshots[n])
    speed.select_by_value("0.5")  # from the end, play starts over
    click(browser, "play")
    wait_for(browser, lambda: read(browser)["step"] in ("0 / " + str(n), "1 / " + str(n)))
    click(browser, "play")  # pause
    assert read(browser)["playing"] == "false"
    where = read(browser)["step"]
    time.sleep(2.5)
    assert read(browser)["step"] == where
    check_offline_and_quiet(browser, path)


@pytest.mark.slow
def test_forward_pass_first_then_backward(browser: WebDriver, tmp_path: Path) -> None:
    root = readme_example()
    stepper = Stepper(root, forward=True, rankdir="TB")
    path = stepper.save_html(tmp_path / "forward.html")
    states = stepper.states()
    snapshots = fresh_pass(root)
    nodes, n = stepper.nodes, len(stepper)
    open_page(browser, path)
    for k in range(n + 1):
        state = read(browser)
        check_state(state, k, n, [repr(g) for g in states[k].grads])
        assert state["data"] == ["" if d is None else repr(d) for d in states[k].data]
        if k <= len(nodes):
            assert state["data"] == [repr(v.data) if i < k else "" for i, v in enumerate(nodes)]
        if k > len(nodes):
            assert state["grads"] == snapshots[k - len(nodes) - 1]
        if k < n:
            click(browser, "next")
    check_offline_and_quiet(browser, path)


@pytest.mark.slow
def test_infinities_and_nans_are_shown_exactly(browser: WebDriver, tmp_path: Path) -> None:
    x = Value(0.0, label="x")
    y = x.log() * 0.0 + x.sqrt()
    y.label = "y"
    stepper = Stepper(y, layout="python")
    path = stepper.save_html(tmp_path / "nan.html")
    snapshots = fresh_pass(y)
    open_page(browser, path)
    seek(browser, len(stepper))
    state = read(browser)
    assert state["grads"] == snapshots[-1] and {"nan", "inf"} & set(state["grads"])
    check_offline_and_quiet(browser, path)


WIDGET_PAGE = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><style>%(css)s</style></head><body><div id="host"></div>
<script type="module">
const values = {spec: %(spec)s, step: 0};
const handlers = {};
const saved = [];
const model = {
  get: (key) => values[key],
  set: (key, value) => { values[key] = value; },
  save_changes: () => { saved.push(values.step); },
  on: (event, f) => { (handlers[event] = handlers[event] || []).push(f); },
  off: (event, f) => { handlers[event] = (handlers[event] || []).filter((g) => g !== f); },
};
window.vgTest = {
  saved, values, handlers,
  push(step) { values.step = step; (handlers["change:step"] || []).forEach((f) => f()); },
};
const source = %(esm)s;
const url = URL.createObjectURL(new Blob([source], {type: "text/javascript"}));
const widget = await import(url);
window.vgTest.cleanup = widget.default.render({model, el: document.getElementById("host")});
window.vgTest.ready = true;
</script></body></html>
"""


@pytest.mark.slow
def test_the_widget_script_drives_the_same_viewer_through_a_model(browser: WebDriver, tmp_path: Path) -> None:
    """anywidget calls ``render({model, el})``; a stand-in model checks that the step syncs both ways."""
    pytest.importorskip("anywidget")
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    root = classic()
    stepper = Stepper(root)
    widget = stepper.widget()
    snapshots = fresh_pass(root)
    n = len(stepper)
    page = tmp_path / "widget.html"
    page.write_text(WIDGET_PAGE % {"css": widget._css, "spec": json.dumps(widget.spec), "esm": json.dumps(widget._esm)},
                    encoding="utf-8")
    logs(browser, "browser")
    browser.get(page.as_uri())
    wait_for(browser, lambda: browser.execute_script("return window.vgTest && window.vgTest.ready === true"))
    check_state(read(browser, "#host"), 0, n, snapshots[0])
    click(browser, "next")
    click(browser, "next")
    check_state(read(browser, "#host"), 2, n, snapshots[2])
    assert browser.execute_script("return [window.vgTest.saved, window.vgTest.values.step]") == [[1, 2], 2]
    browser.execute_script("window.vgTest.push(5)")  # Python set widget.step = 5
    check_state(read(browser, "#host"), 5, n, snapshots[5])
    browser.find_element(By.CSS_SELECTOR, "[data-valuegrad-stepper]").click()  # focus the viewer, then keys
    press(browser, Keys.ARROW_LEFT)
    check_state(read(browser, "#host"), 4, n, snapshots[4])
    browser.execute_script("window.vgTest.cleanup()")
    assert browser.execute_script("return window.vgTest.handlers['change:step'].length") == 0
    errors = [entry for entry in logs(browser, "browser") if entry["level"] == "SEVERE"]
    assert not errors, errors


def screenshot(browser: WebDriver, out: Path) -> Path:
    """The README example mid-pass (b has one of its two uses applied, and is selected)."""
    from selenium.webdriver.common.by import By

    root = readme_example()
    stepper = Stepper(root)
    with tempfile.TemporaryDirectory() as folder:
        path = stepper.save_html(Path(folder) / "readme.html")
        open_page(browser, path)
        b = next(i for i, v in enumerate(stepper.nodes) if v.label == "b")
        k = next(k for k, s in enumerate(stepper.steps, 1) if s.parent is stepper.nodes[b])
        seek(browser, k)
        browser.find_element(By.CSS_SELECTOR, f'[data-node="{b}"]').click()
        browser.execute_script("document.activeElement && document.activeElement.blur()")
        browser.execute_script("document.querySelectorAll('.vg-graph path').forEach(p => p.style.animation = 'none')")
        browser.find_element(By.CSS_SELECTOR, "[data-valuegrad-stepper]").screenshot(str(out))
    return out


@pytest.mark.slow
def test_screenshot_of_a_mid_pass_state(browser: WebDriver, tmp_path: Path) -> None:
    out = screenshot(browser, tmp_path / "stepper.png")
    data = out.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5000
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert width > 600 and height > 250


def main(argv: list[str]) -> int:
    """``python tests/autograd/show/test_stepper_browser.py OUT.png``: write the documentation's screenshot."""
    code, out = screenshot_script(argv, __doc__ or "", screenshot, (900, 700), scale=2.0)
    if out is not None:
        print(out)
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
