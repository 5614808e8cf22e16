"""The training page (nn.views.page.render_page) and its widget script in a real headless Chromium.

Pages are rendered from payloads built by tests/training_payloads.py (a small MLP trained with SGD,
laid out as TrainingView.payload() does), opened from disk, and driven through every snapshot with
the slider and with previous / next, in every mode. After every move each field's ``data-value``
and each edge's ``data-weight`` / ``data-grad`` / ``data-update`` are compared with the payload's
numbers (the arrays decoded in Python), and the edges' colours and widths with draw_network's
rule. Also: pyRepr against Python's repr on many floats, the matrix heatmaps pixel by pixel, play /
pause, a neuron's stepper, the widget script following new snapshots, and that the page makes no
network request and logs no error.

Uses the browser set-up of tests/browser.py (Chromium and chromedriver).

Run as a script, it writes the screenshot used by the documentation (the default moons run with a
held-out set, TrainingView.save_html, at step 31 of 100)::

    python tests/nn/test_training_page.py docs/training_view.png
"""

from __future__ import annotations

import base64
import json
import math
import random
import struct
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from nn.views.network import COLOUR_LEVELS, NEGATIVE, POSITIVE, mix
from nn.views.page import EDGE_ZERO, check_payload, render_page
from tests.browser import logs, screenshot_script, wait_for
from tests.training_payloads import ODD_FLOATS, build_payload, decode, encode, prefix

if TYPE_CHECKING:
    from selenium.webdriver.chrome.webdriver import WebDriver

FIELDS = ("step", "loss", "accuracy", "val_loss", "val_accuracy")
MODES = ("weights", "grads", "updates")
ARRAY = {"weights": "state", "grads": "grads", "updates": "updates"}


@pytest.fixture(scope="module")
def odd_payload() -> dict[str, Any]:
    return build_payload(n=6, odd=True)


def write_page(tmp_path: Path, payload: dict[str, Any], name: str = "training.html") -> Path:
    path = tmp_path / name
    path.write_text(render_page(payload), encoding="utf-8")
    return path


def open_page(browser: WebDriver, path: Path) -> None:
    logs(browser, "browser")
    logs(browser, "performance")
    browser.get(path.as_uri())
    try:
        wait_for(browser, lambda: browser.execute_script(
            "const r = document.querySelector('[data-valuegrad-network]');"
            "return r && r.getAttribute('data-snapshots');") not in (None, "0"))
    except AssertionError as e:  # say why: usually a script error
        raise AssertionError(f"the page did not start: {logs(browser, 'browser')}") from e


def check_offline_and_quiet(browser: WebDriver, path: Path) -> None:
    """Nothing was fetched but the page itself (data: URIs are not requests) and nothing was logged."""
    assert browser.execute_script("return performance.getEntriesByType('resource').length") == 0
    requests = []
    for entry in logs(browser, "performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            url = message["params"]["request"]["url"]
            if not url.startswith(("data:", "about:", "chrome:", "chrome-extension:")):
                requests.append(url)
    assert requests == [path.as_uri()], requests
    errors = [entry for entry in logs(browser, "browser") if entry["level"] in ("SEVERE", "WARNING")]
    assert not errors, errors


READ = """
const root = document.querySelector('[data-valuegrad-network]');
const fields = {};
root.querySelectorAll('[data-field]').forEach((el) => {
  fields[el.getAttribute('data-field')] = [el.getAttribute('data-value'), el.textContent, el.getAttribute('src')];
});
const edges = {};
root.querySelectorAll('[data-edge]').forEach((el) => {
  edges[el.getAttribute('data-edge')] = ['data-weight', 'data-grad', 'data-update', 'stroke', 'stroke-width']
    .map((a) => el.getAttribute(a));
});
const neurons = {};
root.querySelectorAll('[data-neuron]').forEach((el) => {
  const image = el.querySelector('image');
  neurons[el.getAttribute('data-neuron')] = image ? image.getAttribute('href') : null;
});
return {
  roots: document.querySelectorAll('[data-valuegrad-network]').length,
  snapshot: root.getAttribute('data-snapshot'), snapshots: root.getAttribute('data-snapshots'),
  mode: root.getAttribute('data-mode'), playing: root.getAttribute('data-playing'),
  slider: root.querySelector('[data-action="seek"]').value,
  prev: root.querySelector('[data-action="prev"]').disabled, next: root.querySelector('[data-action="next"]').disabled,
  markers: Array.from(root.querySelectorAll('[data-marker]')).map((m) => m.getAttribute('data-step')),
  fields, edges, neurons,
  svg_panel: root.querySelector('[data-panel="output"] image') ?
    root.querySelector('[data-panel="output"] image').getAttribute('href') : null,
  panel_hidden: root.querySelector('[data-field="panel"]').hidden,
};
"""


def read(browser: WebDriver) -> dict[str, Any]:
    state: dict[str, Any] = browser.execute_script(READ)
    return state


def click(browser: WebDriver, action: str) -> None:
    from selenium.webdriver.common.by import By

    browser.find_element(By.CSS_SELECTOR, f'[data-action="{action}"]').click()


def seek(browser: WebDriver, k: int) -> None:
    browser.execute_script(
        "const s = document.querySelector('[data-action=\"seek\"]'); s.value = String(arguments[0]);"
        "s.dispatchEvent(new Event('input', {bubbles: true}));", k)


def choose_mode(browser: WebDriver, mode: str) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    Select(browser.find_element(By.CSS_SELECTOR, 'select[data-action="mode"]')).select_by_value(mode)


def same(attr: str, x: float) -> bool:
    """``attr`` is Python's repr of ``x`` and reads back to exactly ``x`` (NaN matches NaN)."""
    if attr != repr(x):
        return False
    back = float(attr)
    return (math.isnan(back) and math.isnan(x)) or (back == x and math.copysign(1, back) == math.copysign(1, x))


def expected_style(q: float, scale: float) -> tuple[str, float]:
    """draw_network's edge rule: colour = sign, width = 0.4 + 3.6 |q| / (largest |q| of the snapshot)."""
    if not math.isfinite(q) or q == 0 or scale <= 0 or not math.isfinite(scale):
        return "#{:02x}{:02x}{:02x}".format(*EDGE_ZERO), 0.4
    colour = POSITIVE if q > 0 else NEGATIVE
    return "#{:02x}{:02x}{:02x}".format(*colour), 0.4 + 3.6 * abs(q) / scale


def check_snapshot(state: dict[str, Any], payload: dict[str, Any], k: int, mode: str) -> None:
    snaps = payload["snapshots"]
    n = snaps["n"]
    keys = payload["network"]["keys"]
    p = len(keys)
    arrays = {m: decode(snaps[ARRAY[m]])[k * p:(k + 1) * p] for m in MODES}
    assert state["roots"] == 1
    assert state["snapshot"] == str(k) and state["snapshots"] == str(n)
    assert state["slider"] == str(k) and state["mode"] == mode
    assert state["prev"] == (k == 0) and state["next"] == (k == n - 1)
    step = state["fields"]["step"]
    assert step[0] == str(snaps["step"][k]) and step[1] == str(snaps["step"][k])  # the step number alone
    assert int(step[0]) == snaps["step"][k]
    for name in FIELDS[1:]:
        value = snaps[name][k]
        attr = state["fields"][name][0]
        if value is None:
            assert attr == "", (name, k)
        else:
            assert same(attr, value), (name, k, attr, value)
        assert state["fields"][name][1]  # readable text, never empty
    if state["svg_panel"] is not None:  # two inputs: the decision panel in the picture
        assert state["svg_panel"] == snaps["panel"][k] and state["panel_hidden"]
    else:
        assert state["fields"]["panel"][2] == snaps["panel"][k] and not state["panel_hidden"]
    for nid, uri in snaps["neuron_images"][k].items():
        assert state["neurons"][nid] == uri, (nid, k)
    assert state["markers"] == [str(snaps["step"][k])] * 2
    quantity = arrays[mode]
    scale = max((abs(q) for q in quantity if math.isfinite(abs(q))), default=0.0)
    if any(math.isinf(q) for q in quantity):
        scale = math.inf
    assert len(state["edges"]) == p
    for i, edge_id in enumerate(payload["network"]["edge_of_key"]):
        w, g, u, stroke, width = state["edges"][edge_id]
        assert same(w, arrays["weights"][i]) and same(g, arrays["grads"][i]) and same(u, arrays["updates"][i]), \
            (edge_id, k, w, g, u)
        colour, size = expected_style(quantity[i], scale)
        assert stroke == colour and abs(float(width) - size) < 0.006, (edge_id, k, mode, stroke, width)


# --- the tests ---------------------------------------------------------------------------------


@pytest.mark.slow
def test_py_repr_matches_python_repr_on_many_floats(browser: WebDriver, tmp_path: Path) -> None:
    rng = random.Random(20)
    floats = list(ODD_FLOATS)
    floats += [struct.unpack("<d", rng.getrandbits(64).to_bytes(8, "little"))[0] for _ in range(3000)]
    floats += [rng.uniform(-1, 1) * 10.0 ** rng.randint(-30, 30) for _ in range(2000)]
    floats += [float(rng.randint(-10**6, 10**6)) for _ in range(200)]
    for e in (-5, -4, 15, 16):  # both sides of Python's exponent thresholds
        x = 10.0**e
        floats += [x, -x, math.nextafter(x, 0), math.nextafter(x, math.inf), 1.5 * x, 9.5 * x]
    floats += [5e-324, 2.2250738585072014e-308, 2.225073858507201e-308, 1.7976931348623157e308, 0.1 + 0.2]
    path = write_page(tmp_path, build_payload(n=1, steppers=False))
    open_page(browser, path)
    got = browser.execute_script(
        "const p = window.valuegradTrainingPage; return Array.from(p.decodeFloats(arguments[0]), p.pyRepr);",
        encode(floats))
    wrong = [(repr(x), g) for x, g in zip(floats, got) if g != repr(x)]
    assert len(got) == len(floats) and not wrong, wrong[:10]
    check_offline_and_quiet(browser, path)


@pytest.mark.slow
def test_every_snapshot_in_every_mode_matches_the_payload(browser: WebDriver, tmp_path: Path,
                                                          odd_payload: dict[str, Any]) -> None:
    payload = odd_payload
    n = payload["snapshots"]["n"]
    path = write_page(tmp_path, payload)
    open_page(browser, path)
    check_snapshot(read(browser), payload, n - 1, "weights")  # opens at the newest snapshot
    for k in range(n):  # the slider, in weights mode
        seek(browser, k)
        check_snapshot(read(browser), payload, k, "weights")
    choose_mode(browser, "grads")
    check_snapshot(read(browser), payload, n - 1, "grads")
    for k in range(n - 2, -1, -1):  # prev, in grads mode
        click(browser, "prev")
        check_snapshot(read(browser), payload, k, "grads")
    choose_mode(browser, "updates")
    check_snapshot(read(browser), payload, 0, "updates")
    for k in range(1, n):  # next, in updates mode
        click(browser, "next")
        check_snapshot(read(browser), payload, k, "updates")
    click(browser, "next")  # already at the end
    check_snapshot(read(browser), payload, n - 1, "updates")
    choose_mode(browser, "weights")
    check_snapshot(read(browser), payload, n - 1, "weights")
    check_offline_and_quiet(browser, path)


@pytest.mark.slow
def test_without_a_panel_in_the_picture_the_panel_is_shown_beside(browser: WebDriver, tmp_path: Path) -> None:
    payload = build_payload(n=3, steppers=False)
    svg = payload["network"]["svg"]
    start = svg.index('<g data-panel="output">')
    payload["network"]["svg"] = svg[:start] + svg[svg.index("</g>", start) + 4:]
    path = write_page(tmp_path, payload)
    open_page(browser, path)
    for k in (2, 0, 1):
        seek(browser, k)
        state = read(browser)
        assert state["svg_panel"] is None
        check_snapshot(state, payload, k, "weights")
    check_offline_and_quiet(browser, path)


def expected_matrix(payload: dict[str, Any], k: int, mode: str) -> dict[str, tuple[list[Any], list[Any]]]:
    """Per matrix, the weight and bias images' pixels as draw_network's colour table gives them."""
    keys = payload["network"]["keys"]
    p = len(keys)
    values = decode(payload["snapshots"][ARRAY[mode]])[k * p:(k + 1) * p]
    scale = max((abs(v) for v in values), default=0.0)
    top = COLOUR_LEVELS - 1
    f = top / scale if scale > 0 else 0.0
    cells: dict[str, dict[tuple[int, int], list[int]]] = {}
    for i, (column, row, col) in enumerate(payload["network"]["matrix_of_key"]):
        v = values[i]
        level = min(top, int(abs(v) * f + 0.5))
        cells.setdefault(str(column), {})[(row, col)] = list(mix(POSITIVE if v >= 0 else NEGATIVE, level / top))
    out = {}
    for column, got in cells.items():
        rows = 1 + max(r for r, _ in got)
        cols = 1 + max(c for _, c in got)
        out[column] = ([got[(r, c)] for r in range(rows) for c in range(cols)], [got[(r, -1)] for r in range(rows)])
    return out


READ_MATRICES = """
const done = arguments[arguments.length - 1];
const groups = Array.from(document.querySelectorAll('[data-matrix]'));
const pixels = (href) => new Promise((resolve) => {
  const img = new Image();
  img.onload = () => {
    const c = document.createElement('canvas');
    c.width = img.width; c.height = img.height;
    const ctx = c.getContext('2d');
    ctx.drawImage(img, 0, 0);
    const d = ctx.getImageData(0, 0, c.width, c.height).data;
    const out = [];
    for (let i = 0; i < d.length; i += 4) out.push([d[i], d[i + 1], d[i + 2]]);
    resolve(out);
  };
  img.onerror = () => resolve(null);
  img.src = href;
});
Promise.all(groups.map((g) => Promise.all(Array.from(g.querySelectorAll('image'))
    .map((im) => pixels(im.getAttribute('href'))))))
  .then((all) => {
    const out = {};
    groups.forEach((g, i) => { out[g.getAttribute('data-matrix')] = [all[i][0], all[i][1], g.getAttribute('data-mode'),
      g.getAttribute('data-snapshot')]; });
    done(out);
  });
"""


@pytest.mark.slow
def test_matrix_mode_redraws_the_heatmaps_for_each_snapshot_and_mode(browser: WebDriver, tmp_path: Path) -> None:
    payload = build_payload(n=3, max_edges=0, steppers=False)
    assert all(e is None for e in payload["network"]["edge_of_key"])
    path = write_page(tmp_path, payload)
    open_page(browser, path)
    seen = set()
    for mode in MODES:
        choose_mode(browser, mode)
        for k in range(3):
            seek(browser, k)
            got = browser.execute_async_script(READ_MATRICES)
            want = expected_matrix(payload, k, mode)
            assert set(got) == set(want) == {"1", "2"}
            for column, (weights, bias) in want.items():
                assert got[column][2:] == [mode, str(k)]
                assert got[column][0] == weights, (mode, k, column)
                assert got[column][1] == bias, (mode, k, column)
                seen.add(json.dumps(weights))
    assert len(seen) > 3  # the pictures do change
    assert read(browser)["edges"] == {}
    check_offline_and_quiet(browser, path)


@pytest.mark.slow
def test_play_runs_to_the_end_and_pause_stops(browser: WebDriver, tmp_path: Path, odd_payload: dict[str, Any]) -> None:
    payload = odd_payload
    n = payload["snapshots"]["n"]
    path = write_page(tmp_path, payload)
    open_page(browser, path)
    click(browser, "play")  # from the end, play starts over
    assert read(browser)["playing"] == "true"
    wait_for(browser, lambda: read(browser)["snapshot"] == str(n - 1) and read(browser)["playing"] == "false", 30)
    check_snapshot(read(browser), payload, n - 1, "weights")
    seek(browser, 0)
    click(browser, "play")
    wait_for(browser, lambda: read(browser)["snapshot"] != "0")
    click(browser, "play")  # pause
    state = read(browser)
    assert state["playing"] == "false"
    k = int(state["snapshot"])
    check_snapshot(state, payload, k, "weights")
    wait_for(browser, lambda: browser.execute_script("return new Promise((r) => setTimeout(() => r(true), 1000))"))
    assert read(browser)["snapshot"] == str(k)
    check_offline_and_quiet(browser, path)


@pytest.mark.slow
def test_clicking_a_neuron_shows_its_stepper(browser: WebDriver, tmp_path: Path, odd_payload: dict[str, Any]) -> None:
    from selenium.webdriver.common.by import By

    payload = odd_payload
    n = payload["snapshots"]["n"]
    path = write_page(tmp_path, payload)
    open_page(browser, path)
    assert not browser.find_elements(By.CSS_SELECTOR, "[data-valuegrad-stepper]")
    seek(browser, 0)  # not the last snapshot: a note, no stepper
    browser.find_element(By.CSS_SELECTOR, '[data-neuron="1:1"]').click()
    box = browser.find_element(By.CSS_SELECTOR, '[data-valuegrad-stepper="1:1"]')
    assert "last snapshot" in box.text and not box.find_elements(By.TAG_NAME, "iframe")
    seek(browser, n - 1)  # the box follows the snapshot shown
    frame = browser.find_element(By.CSS_SELECTOR, '[data-valuegrad-stepper="1:1"] iframe')
    assert frame.get_attribute("srcdoc") == payload["steppers"]["1:1"]
    browser.find_element(By.CSS_SELECTOR, '[data-neuron="2:0"]').click()
    frame = browser.find_element(By.CSS_SELECTOR, '[data-valuegrad-stepper="2:0"] iframe')
    assert frame.get_attribute("srcdoc") == payload["steppers"]["2:0"]
    browser.switch_to.frame(frame)
    try:  # the stepper's own script ran inside the frame
        wait_for(browser, lambda: browser.execute_script(
            "const r = document.querySelector('[data-valuegrad-stepper]'); return r && r.getAttribute('data-step');"
        ) == "0")
        browser.find_element(By.CSS_SELECTOR, '[data-action="next"]').click()
        assert browser.execute_script(
            "return document.querySelector('[data-valuegrad-stepper]').getAttribute('data-step')") == "1"
    finally:
        browser.switch_to.default_content()
    browser.find_element(By.CSS_SELECTOR, '[data-neuron="0:b"]').click()  # a bias neuron has no stepper
    box = browser.find_element(By.CSS_SELECTOR, '[data-valuegrad-stepper="0:b"]')
    assert "no stepper" in box.text
    click(browser, "close-stepper")
    assert not browser.find_elements(By.CSS_SELECTOR, "[data-valuegrad-stepper]")
    check_offline_and_quiet(browser, path)


WIDGET_PAGE = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><style>%(css)s</style></head><body><div id="host"></div>
<script type="module">
const values = {payload: %(payload)s};
const handlers = {};
const model = {
  get: (key) => values[key],
  set: (key, value) => { values[key] = value; },
  save_changes: () => {},
  on: (event, f) => { (handlers[event] = handlers[event] || []).push(f); },
  off: (event, f) => { handlers[event] = (handlers[event] || []).filter((g) => g !== f); },
};
window.vgTest = {
  handlers,
  push(payload) { values.payload = payload; (handlers["change:payload"] || []).forEach((f) => f()); },
};
const source = %(esm)s;
const url = URL.createObjectURL(new Blob([source], {type: "text/javascript"}));
const widget = await import(url);
window.vgTest.cleanup = widget.default.render({model, el: document.getElementById("host")});
window.vgTest.ready = true;
</script></body></html>
"""


@pytest.mark.slow
def test_the_widget_script_follows_new_snapshots(browser: WebDriver, tmp_path: Path,
                                                 odd_payload: dict[str, Any]) -> None:
    """anywidget calls ``render({model, el})``; a stand-in model sends newer payloads, as Python does."""
    pytest.importorskip("anywidget")
    from nn.views.page import TrainingWidget

    full = odd_payload
    widget = TrainingWidget(payload=prefix(full, 2))
    assert widget.payload["snapshots"]["val_loss"][0] == "nan"  # JSON has no NaN: sent as text
    page = tmp_path / "widget.html"
    page.write_text(WIDGET_PAGE % {"css": widget._css, "payload": json.dumps({}), "esm": json.dumps(widget._esm)},
                    encoding="utf-8")
    logs(browser, "browser")
    browser.get(page.as_uri())
    wait_for(browser, lambda: browser.execute_script("return window.vgTest && window.vgTest.ready === true"))
    assert read(browser)["snapshots"] == "0" and read(browser)["snapshot"] == "-1"  # before the first snapshot

    def push(m: int) -> None:
        widget.payload = prefix(full, m)
        browser.execute_script("window.vgTest.push(arguments[0])", widget.payload)

    push(2)
    check_snapshot(read(browser), prefix(full, 2), 1, "weights")
    push(3)  # at the newest: the view follows
    check_snapshot(read(browser), prefix(full, 3), 2, "weights")
    seek(browser, 0)
    choose_mode(browser, "grads")
    push(5)  # looking at an older one: the view stays, the count grows
    check_snapshot(read(browser), prefix(full, 5), 0, "grads")
    seek(browser, 4)
    push(6)
    check_snapshot(read(browser), full, 5, "grads")
    browser.execute_script("window.vgTest.cleanup()")
    assert browser.execute_script("return window.vgTest.handlers['change:payload'].length") == 0
    errors = [entry for entry in logs(browser, "browser") if entry["level"] == "SEVERE"]
    assert not errors, errors


# --- without a browser -------------------------------------------------------------------------


def test_render_page_is_one_offline_document(odd_payload: dict[str, Any]) -> None:
    page = render_page(odd_payload)
    assert page.startswith("<!DOCTYPE html>") and page.count("</script>") == 3
    assert "default-src 'none'" in page
    assert "http://" not in page.replace("http://www.w3.org/", "") and "https://" not in page
    assert "NaN" not in page.split("<script>")[0]  # the payload's NaN travels as "nan", valid JSON


def test_the_widget_checks_its_payload(odd_payload: dict[str, Any]) -> None:
    pytest.importorskip("anywidget")
    from nn.views import page

    widget = page.TrainingWidget()
    assert widget.payload == {}
    with pytest.raises(ValueError, match=r"payload\['version'\] must be 1"):
        widget.payload = {**odd_payload, "version": 2}
    assert page.TrainingWidget is page._widget_class()
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        page.Nope


def broken(payload: dict[str, Any], where: str, value: Any) -> dict[str, Any]:
    out: dict[str, Any] = json.loads(json.dumps(payload, allow_nan=True))
    part, _, name = where.partition(".")
    if name:
        out[part][name] = value
    else:
        out[part] = value
    return out


@pytest.mark.parametrize(("where", "value", "message"), [
    ("version", 2, r"payload\['version'\] must be 1, got 2"),
    ("network", None, r"payload\['network'\] must be a dict, got NoneType"),
    ("network.svg", 3, r"payload\['network'\]\['svg'\] must be the SVG text"),
    ("network.edge_of_key", [], r"'edge_of_key'\] must be a list with one entry per key \(13\)"),
    ("snapshots.n", -1, r"'n'\] must be a non-negative int, got -1"),
    ("snapshots.loss", [1.0], r"'loss'\] must be a list of 2 entries \(one per snapshot\), got 1 entries"),
    ("snapshots.grads", "!!", r"'grads'\] is not valid base64"),
    ("snapshots.state", base64.b64encode(b"\0" * 16).decode(), r"'state'\] holds 16 bytes, expected 8 x 2 snapshots"),
    ("curves.val_step", None, r"payload\['curves'\]\['val_step'\] must be a list"),
    ("steppers", {"1:0": 3}, r"payload\['steppers'\] must map neuron ids"),
])
def test_render_page_names_what_is_wrong(where: str, value: Any, message: str) -> None:
    payload = build_payload(n=2, steppers=False)
    check_payload(payload)
    with pytest.raises(ValueError, match=message):
        render_page(broken(payload, where, value))


def test_render_page_needs_a_dict() -> None:
    with pytest.raises(TypeError, match=r"a training payload must be a dict .* got list"):
        render_page([])  # type: ignore[arg-type]


SCREENSHOT_SNAPSHOT = 30


def screenshot(browser: WebDriver, out: Path) -> Path:
    """The default moons run (100 snapshots, a held-out set) on its page, at an early snapshot."""
    from selenium.webdriver.common.by import By

    from nn import MLP, TrainingView, train
    from nn.data import make_moons

    X, y = make_moons(100, 0.1, seed=1337)
    X_val, y_val = make_moons(50, 0.1, seed=7)
    model = MLP(2, [16, 16, 1], seed=1337)
    view = TrainingView(model, X, y, validation=(X_val, y_val))
    train(model, X, y, callbacks=[view])
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "moons.html"
        view.save_html(path)
        open_page(browser, path)
        seek(browser, SCREENSHOT_SNAPSHOT)
        assert read(browser)["snapshot"] == str(SCREENSHOT_SNAPSHOT)
        browser.find_element(By.CSS_SELECTOR, "[data-valuegrad-network]").screenshot(str(out))
    return out


@pytest.mark.slow
def test_screenshot_of_a_moons_run(browser: WebDriver, tmp_path: Path) -> None:
    browser.set_window_size(1200, 900)
    out = screenshot(browser, tmp_path / "training_view.png")
    data = out.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20_000
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert width > 700 and height > 400


def main(argv: list[str]) -> int:
    """``python tests/nn/test_training_page.py OUT.png``: write the documentation's screenshot."""
    code, out = screenshot_script(argv, __doc__ or "", screenshot, (1100, 1700))
    if out is None:
        return code
    from PIL import Image  # matplotlib's dependency: 256 colours keep the committed picture small

    Image.open(out).convert("RGB").quantize(256).save(out, optimize=True)
    print(out, out.stat().st_size, "bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
