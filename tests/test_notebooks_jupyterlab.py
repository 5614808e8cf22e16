"""The notebooks' committed pictures as someone who opens a fresh clone sees them: untrusted, not run.

Each notebook of notebooks/ is copied (a copy has no signature in the Jupyter database, so it is
untrusted, as in a fresh clone; nothing here runs ``jupyter trust``) into the root folder of a
real ``jupyter lab`` started headless without kernels (the page option ``notebookStartsKernel`` is
off: no cell runs, and the outputs on the page are the file's), opened in headless Chromium, and
checked once its outputs are on the page:

- it is really untrusted: every code cell's model says ``trusted`` false and JupyterLab's trust
  indicator says "Notebook not trusted";
- the number of decoded images in its output areas (``img`` with ``naturalWidth > 0``) equals the
  number of pictures the file holds in forms an untrusted notebook shows: outputs with
  ``image/png`` data, plus ``<img src="data:image/...">`` tags in ``text/html`` outputs (counted
  from the JSON); the file must hold at least one;
- no output holds a picture an untrusted notebook does not draw: JupyterLab renders
  ``image/svg+xml`` only for trusted outputs (untrusted, it falls back to the ``text/plain`` repr,
  or says "Cannot display an untrusted SVG"), and its sanitizer strips inline ``<svg>`` elements
  from untrusted ``text/html``, leaving their labels as loose text; the failure says what the page
  shows instead;
- no output says "untrusted" or shows ``<svg`` as text.

Needs jupyterlab (the dev extra) and Chromium with chromedriver; never skipped. About 15-25 s for all
nine notebooks, a third of it JupyterLab starting.
"""

from __future__ import annotations

import json
import re
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests.browser import wait_for
from tests.jupyterlab import Lab, close_all, lab_browser, open_notebook, running_lab

if TYPE_CHECKING:
    from selenium.webdriver.chrome.webdriver import WebDriver

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
NAMES = sorted(path.name for path in NOTEBOOKS.glob("*.ipynb"))
RENDER_S = 60.0
STABLE_S = 0.5  # the page's state must read the same for this long
DATA_IMG = re.compile(r"""<img\b[^>]*\bsrc\s*=\s*["']data:image/""", re.IGNORECASE)
INLINE_SVG = re.compile(r"<svg\b", re.IGNORECASE)


def text_of(value: Any) -> str:
    """A notebook's multi-line string (a list of lines or one string) as one string."""
    return "".join(value) if isinstance(value, list) else str(value)


def file_pictures(path: Path) -> tuple[int, dict[tuple[int, int], str]]:
    """What the notebook file holds: the number of pictures an untrusted notebook shows as images
    (``image/png`` outputs, plus ``<img src="data:image/...">`` tags in ``text/html`` outputs), and
    the outputs holding a picture it does not draw, keyed by (cell index, index among the cell's
    non-stream outputs), each with what it holds."""
    notebook = json.loads(path.read_text(encoding="utf-8"))
    shown, hidden = 0, {}
    for i, cell in enumerate(notebook["cells"]):
        displays = [output for output in cell.get("outputs", []) if output["output_type"] != "stream"]
        for k, output in enumerate(displays):
            data = output.get("data", {})
            html = text_of(data.get("text/html", ""))
            shown += ("image/png" in data) + len(DATA_IMG.findall(html))
            if "image/svg+xml" in data or INLINE_SVG.search(html):
                kinds = sorted(data)
                hidden[(i, k)] = "/".join(kinds) + (" with inline <svg>" if INLINE_SVG.search(html) else "")
    return shown, hidden


PAGE = """
const app = window.jupyterapp;
const panel = app ? app.shell.currentWidget : null;
if (!panel || !panel.context || panel.context.path !== arguments[0] || !panel.context.isReady || !panel.content) {
  return null;
}
const model = panel.context.model;
const cells = [];
for (let i = 0; i < model.cells.length; i++) {
  const cell = model.cells.get(i);
  if (cell.type !== 'code') continue;
  const widget = panel.content.widgets[i];
  const area = widget && widget.outputArea ? widget.outputArea.node : null;
  const children = area ? Array.from(area.querySelectorAll(':scope > .jp-OutputArea-child')) : [];
  const outputs = [];
  for (let j = 0; j < cell.outputs.length; j++) {
    const output = cell.outputs.get(j);
    const node = children[j] ? children[j].querySelector('.jp-OutputArea-output') : null;
    outputs.push({
      type: output.type,
      shown: node ? Array.from(node.classList).filter((c) => c.startsWith('jp-Rendered')).join(' ') : null,
      text: node ? node.textContent.slice(0, 100) : null,
    });
  }
  // JupyterLab adds a long notebook's cells to the page a few at a time: count only those on it
  const onPage = !!widget && panel.node.contains(widget.node);
  cells.push({index: i, trusted: cell.trusted, outputs, attached: onPage ? children.length : -1});
}
const allOnPage = panel.content.widgets.length === model.cells.length
  && panel.content.widgets.every((w) => panel.node.contains(w.node));
const images = Array.from(panel.node.querySelectorAll('.jp-OutputArea-output img'));
const texts = Array.from(panel.node.querySelectorAll('.jp-OutputArea-output')).map((n) => n.textContent);
return {
  cells,
  allOnPage,
  images: images.map((img) => [img.complete, img.naturalWidth, (img.getAttribute('src') || '').slice(0, 30)]),
  decoded: images.filter((img) => img.complete && img.naturalWidth > 0).length,
  untrusted: texts.filter((t) => /untrusted/i.test(t)).map((t) => t.slice(0, 100)),
  rawSvg: texts.filter((t) => t.includes('<svg')).map((t) => t.slice(0, 100)),
  trust: Array.from(document.querySelectorAll('[title]')).map((e) => e.getAttribute('title'))
    .filter((t) => /code cells? trusted/.test(t)),
};
"""


def page_state(browser: WebDriver, name: str) -> dict[str, Any] | None:
    state: dict[str, Any] | None = browser.execute_script(PAGE, name)
    return state


def rendered(state: dict[str, Any] | None) -> bool:
    """Every cell is on the page with all its outputs, and every image has finished loading."""
    return (state is not None and state["allOnPage"] and bool(state["trust"])
            and all(cell["attached"] == len(cell["outputs"]) for cell in state["cells"])
            and all(complete for complete, _, _ in state["images"]))


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    base = tmp_path_factory.mktemp("jupyterlab-notebooks")
    (base / "notebooks").mkdir()
    for name in NAMES:
        shutil.copyfile(NOTEBOOKS / name, base / "notebooks" / name)  # a copy: unsigned, so untrusted
    with running_lab(base, page_config={"notebookStartsKernel": False}) as server:
        yield server


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebDriver]:
    yield from lab_browser(tmp_path_factory)


def test_there_are_notebooks() -> None:
    assert len(NAMES) >= 9, NAMES


@pytest.mark.slow
@pytest.mark.parametrize("name", NAMES)
def test_untrusted_notebook_shows_its_pictures(lab: Lab, browser: WebDriver, name: str) -> None:
    started = time.monotonic()
    expected, hidden = file_pictures(lab.root / name)
    open_notebook(browser, lab, name)
    try:
        history: list[tuple[float, dict[str, Any] | None]] = []

        def settled() -> bool:
            now, state = time.monotonic(), page_state(browser, name)
            if not history or state != history[-1][1]:
                history.append((now, state))
            return rendered(state) and now - history[-1][0] >= STABLE_S

        try:
            wait_for(browser, settled, RENDER_S)
        except AssertionError as e:
            raise AssertionError(f"{name}: its outputs did not finish rendering: {history[-1][1]}") from e
        state = history[-1][1]
        assert state is not None
    finally:
        close_all(browser)

    # the case under test: nothing in this notebook is trusted
    code_cells = state["cells"]
    assert code_cells and not any(cell["trusted"] for cell in code_cells), (name, code_cells)
    assert all(title.startswith("Notebook not trusted") for title in state["trust"]), (name, state["trust"])

    problems = []
    if expected < 1:
        problems.append("the file holds no picture an untrusted notebook shows (no image/png output, "
                        "no <img src=\"data:image/...\"> in text/html)")
    if state["decoded"] != expected:
        problems.append(f"the page shows {state['decoded']} decoded images, the file holds {expected} "
                        f"(images on the page: {state['images']})")
    for (i, k), holds in sorted(hidden.items()):
        cell = next((cell for cell in code_cells if cell["index"] == i), None)
        displays = [output for output in cell["outputs"] if output["type"] != "stream"] if cell else []
        seen = (f"{displays[k]['shown']} {displays[k]['text']!r}" if k < len(displays) else "nothing")
        problems.append(f"cell {i}: an output holding {holds} is not drawn untrusted; the page shows {seen}")
    problems += [f"an output says it is untrusted: {text!r}" for text in state["untrusted"]]
    problems += [f"an output shows <svg as text: {text!r}" for text in state["rawSvg"]]
    if problems:
        pytest.fail(f"{name}: {state['decoded']} images shown untrusted, {expected} expected from the file:\n  "
                    + "\n  ".join(problems), pytrace=False)
    print(f"{name}: {state['decoded']} images shown untrusted, as expected; "
          f"{time.monotonic() - started:.1f} s")
