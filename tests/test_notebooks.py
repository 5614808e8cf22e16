"""Every notebook in notebooks/ runs top to bottom in a fresh kernel, and is committed with its outputs.

Run as a script, it executes notebooks as the tests do and writes them back with their outputs
(to commit), every SVG picture turned into a PNG (drawn by headless Chromium, see tests/browser.py)::

    python tests/test_notebooks.py notebooks/06_training_an_mlp.ipynb

Why PNG: a notebook from a fresh clone is untrusted in JupyterLab, which then hides
``image/svg+xml`` outputs and strips inline ``<svg>`` from HTML. It shows ``image/png``, and so
does GitHub's notebook viewer.
"""

from __future__ import annotations

import base64
import importlib
import json
import math
import os
import re
import struct
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from selenium.webdriver.chrome.webdriver import WebDriver

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))
KERNEL = "valuegrad-tests"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
SVG = "image/svg+xml"
PNG = "image/png"
PNG_SCALE = 2.0  # device pixels per CSS pixel of a committed picture (sharp on a high-DPI screen) ...
PNG_SMALLER_SCALES = (1.5, 1.0)  # ... or fewer, in turn, while its PNG is over PNG_BIG_BYTES
PNG_BIG_BYTES = 250_000  # a third more in the notebook (base64): one network picture of lesson 06 at 1.5 is 0.28 MB
# an <img> whose src is an SVG data URI (base64 or percent-encoded), as TrainingView's still picture
SVG_IMG_SRC = re.compile(r"""(<img\b[^>]*?\bsrc=)(["'])data:image/svg\+xml(;[^,"']*)?,(.*?)\2""",
                         re.IGNORECASE | re.DOTALL)


def write_kernel_spec(root: Path) -> None:
    """A kernel spec named KERNEL under ``root`` that runs this interpreter with this checkout first on sys.path."""
    spec_dir = root / "kernels" / KERNEL
    spec_dir.mkdir(parents=True)
    spec = {
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "valuegrad tests",
        "language": "python",
        "env": {"PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)},
    }
    (spec_dir / "kernel.json").write_text(json.dumps(spec))


def test_the_documented_notebooks_are_there() -> None:
    names = {p.name for p in NOTEBOOKS}  # more may be added; every one found is executed below
    assert {
        "01_the_threshold_unit.ipynb",
        "02_layers_and_the_forward_pass.ipynb",
        "03_backpropagation.ipynb",
        "04_deep_stacks.ipynb",
        "05_value_and_graph.ipynb",
        "06_training_an_mlp.ipynb",
        "07_stepping_through_backprop.ipynb",
        "08_forward_vs_reverse_mode.ipynb",
        "09_making_it_fast.ipynb",
    } <= names


@pytest.fixture(scope="module")
def kernel_for_this_interpreter(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A kernel spec that runs *this* interpreter with this checkout first on sys.path.

    A plain 'python3' may resolve to a user-wide kernel spec for another Python (one without
    valuegrad, or with an older copy), so the test writes its own spec and puts it first on
    JUPYTER_PATH for the duration of the module.
    """
    root = tmp_path_factory.mktemp("jupyter")
    write_kernel_spec(root)
    old = os.environ.get("JUPYTER_PATH")
    os.environ["JUPYTER_PATH"] = os.pathsep.join([str(root), old or ""]).rstrip(os.pathsep)
    try:
        yield KERNEL
    finally:
        if old is None:
            del os.environ["JUPYTER_PATH"]
        else:
            os.environ["JUPYTER_PATH"] = old


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_is_committed_with_outputs(path: Path) -> None:
    nbformat = pytest.importorskip("nbformat")
    nb = nbformat.read(path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code and all(c.get("outputs") for c in code), f"{path.name} has code cells without outputs"
    assert not any(o.get("output_type") == "error" for c in code for o in c.outputs)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_committed_outputs_show_without_a_kernel(path: Path) -> None:
    """A widget view names a model that lived in the kernel that ran the notebook: opened later,
    JupyterLab shows "model not found" in its place instead of the output's still picture."""
    nbformat = pytest.importorskip("nbformat")
    nb = nbformat.read(path, as_version=4)
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not any(WIDGET_VIEW in o.get("data", {}) for o in outputs), f"{path.name} keeps widget views"
    assert "widgets" not in nb.metadata  # no widget state either: it would be the payloads, megabytes


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_committed_pictures_are_png(path: Path) -> None:
    """An untrusted notebook (any fresh clone) shows no ``image/svg+xml`` in JupyterLab and no inline
    ``<svg>`` in HTML: the committed pictures are PNG (see svgs_to_png), which it and GitHub show."""
    nbformat = pytest.importorskip("nbformat")
    nb = nbformat.read(path, as_version=4)
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    datas = [o.get("data", {}) for o in outputs]
    assert not any(SVG in d for d in datas), f"{path.name} keeps SVG outputs: save it with this script"
    html = [d["text/html"] for d in datas if "text/html" in d]
    assert not any("<svg" in h or "data:image/svg+xml" in h for h in html), f"{path.name} keeps SVG in HTML"
    assert any(PNG in d for d in datas) or any('src="data:image/png' in h for h in html), f"{path.name}: no picture"
    for o in outputs:
        if PNG in o.get("data", {}) and PNG in o.get("metadata", {}):
            size = o["metadata"][PNG]
            assert size["width"] > 0 and size["height"] > 0


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_top_to_bottom(path: Path, tmp_path: Path, kernel_for_this_interpreter: str) -> None:
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    nb = nbformat.read(path, as_version=4)
    # a probe cell (in memory only): the kernel is this interpreter importing this checkout
    probe_source = "import sys, autograd; print(sys.executable); print(autograd.__file__)"
    nb.cells.insert(0, nbformat.v4.new_code_cell(probe_source))
    client = nbclient.NotebookClient(nb, timeout=120, kernel_name=kernel_for_this_interpreter,
                                     resources={"metadata": {"path": str(tmp_path)}})
    client.execute()  # raises CellExecutionError naming the failing cell
    probe = nb.cells.pop(0).outputs[0]["text"].split("\n")
    assert probe[0] == sys.executable
    assert Path(probe[1]).resolve().is_relative_to(REPO)
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not any(o.get("output_type") == "error" for o in outputs)
    assert any("image/svg+xml" in o.get("data", {}) or "image/png" in o.get("data", {}) for o in outputs)


@dataclass(frozen=True)
class Picture:
    """A PNG drawn from an SVG, and the size in CSS pixels at which it shows as the SVG did."""

    png: bytes
    width: int
    height: int


def png_size(png: bytes) -> tuple[int, int]:
    """The width and height in pixels of a PNG, from its IHDR chunk."""
    if png[:8] != b"\x89PNG\r\n\x1a\n" or png[12:16] != b"IHDR":
        raise ValueError("not a PNG")
    width, height = struct.unpack(">II", png[16:24])
    return int(width), int(height)


def palette_png(png: bytes, colours: int = 256) -> bytes:
    """``png`` with at most ``colours`` colours (a palette PNG, undithered), where that is smaller.

    A network drawn with hundreds of translucent edges has thousands of colours, and its RGB PNG is
    about three times the size of its palette PNG, which looks the same at a glance. Pillow comes with
    matplotlib (the ``train`` extra, which the notebooks need).
    """
    import io

    from PIL import Image

    with Image.open(io.BytesIO(png)) as image:
        few = image.convert("RGB").quantize(colors=colours, method=Image.Quantize.MEDIANCUT,
                                            dither=Image.Dither.NONE)
        out = io.BytesIO()
        few.save(out, "PNG", optimize=True)
    return out.getvalue() if len(out.getvalue()) < len(png) else png


# Run in the SVG document itself: its size in CSS pixels (the browser converts pt, mm, ...); where the
# root has no absolute width and height, its bounding box, set on the root so that an <img> gets that size.
_SVG_SIZE_SCRIPT = """
const svg = document.documentElement;
if (svg.localName !== 'svg') return null;
const absolute = (name) => svg.hasAttribute(name) && !svg.getAttribute(name).trim().endsWith('%');
if (absolute('width') && absolute('height')) {
  const box = svg.getBoundingClientRect();
  return [box.width, box.height, null];
}
const box = svg.getBBox();
svg.setAttribute('viewBox', `${box.x} ${box.y} ${box.width} ${box.height}`);
svg.setAttribute('width', box.width);
svg.setAttribute('height', box.height);
return [box.width, box.height, new XMLSerializer().serializeToString(svg)];
"""


class SvgRasteriser:
    """Draws SVG pictures as PNG in one headless Chromium at device scale PNG_SCALE.

    Each SVG is written to a file in ``workdir`` and shown as an ``<img>`` (as JupyterLab and GitHub
    show SVG) on a white page with no margin, then the ``<img>`` element is screenshot.
    """

    def __init__(self, driver: WebDriver, workdir: Path) -> None:
        self.driver = driver
        self.workdir = workdir
        self.count = 0

    def _css_size(self, picture: Path) -> tuple[float, float]:
        """The SVG's size in CSS pixels: its width and height attributes, or else its bounding box
        (written into the file as its width, height and viewBox)."""
        self.driver.get(picture.as_uri())
        found: Any = self.driver.execute_script(_SVG_SIZE_SCRIPT)
        if not found:
            raise ValueError(f"not an SVG document (see {picture})")
        width, height, fixed = found
        if fixed is not None:
            picture.write_text(fixed, encoding="utf-8")
        if not (width > 0 and height > 0):
            raise ValueError(f"an SVG of size {width} x {height} (see {picture})")
        return float(width), float(height)

    def _fit_window(self, width: int, height: int) -> None:
        """Size the window so that its viewport is at least ``width`` x ``height`` CSS pixels (an element
        screenshot is cut at the viewport's edge; the window's frame takes some of the window's size)."""
        self.driver.set_window_size(max(width, 500), max(height, 400))  # a window has a least size
        outer = self.driver.get_window_size()
        inner: Any = self.driver.execute_script("return [window.innerWidth, window.innerHeight];")
        if inner[0] < width or inner[1] < height:
            self.driver.set_window_size(outer["width"] + max(0, width - int(inner[0])),
                                        outer["height"] + max(0, height - int(inner[1])))

    def draw(self, svg: str, scale: float = PNG_SCALE) -> Picture:
        """The PNG of ``svg`` on white at ``scale`` device pixels per CSS pixel (at most PNG_SCALE)."""
        from selenium.webdriver.common.by import By

        if not 0 < scale <= PNG_SCALE:
            raise ValueError(f"scale {scale} is not in (0, {PNG_SCALE}]")
        self.count += 1
        picture = self.workdir / f"picture-{self.count}.svg"
        picture.write_text(svg, encoding="utf-8")
        width, height = self._css_size(picture)
        # the browser draws PNG_SCALE device pixels per CSS pixel: a smaller scale is a smaller <img>
        shown = (width * scale / PNG_SCALE, height * scale / PNG_SCALE)
        page = self.workdir / f"picture-{self.count}.html"
        page.write_text(
            '<!DOCTYPE html><html><head><meta charset="utf-8"><style>html,body{margin:0;padding:0;'
            "background:#fff}img{display:block}</style></head><body>"
            f'<img id="picture" alt="" src="{picture.name}" style="width:{shown[0]:.4f}px;height:{shown[1]:.4f}px">'
            "</body></html>", encoding="utf-8")
        self._fit_window(math.ceil(shown[0]) + 8, math.ceil(shown[1]) + 8)
        self.driver.get(page.as_uri())
        element = self.driver.find_element(By.ID, "picture")
        deadline = time.monotonic() + 10
        while not self.driver.execute_script("const i = arguments[0]; return i.complete && i.naturalWidth > 0;",
                                             element):
            if time.monotonic() > deadline:
                raise RuntimeError(f"{picture} did not load")
            time.sleep(0.02)
        png = element.screenshot_as_png
        expected = (round(width * scale), round(height * scale))
        got = png_size(png)
        if abs(got[0] - expected[0]) > 1 or abs(got[1] - expected[1]) > 1:
            raise RuntimeError(f"{picture}: a {got[0]} x {got[1]} screenshot, not {expected[0]} x {expected[1]}"
                               " (cut by the window?)")
        return Picture(palette_png(png), round(width), round(height))

    def draw_small(self, svg: str) -> Picture:
        """The PNG of ``svg`` at PNG_SCALE, or at the first of PNG_SMALLER_SCALES that makes it at most
        PNG_BIG_BYTES (the last where none does): lesson 06 is about 2 MB with all its pictures at 1.5."""
        picture = self.draw(svg)
        for scale in PNG_SMALLER_SCALES:
            if len(picture.png) <= PNG_BIG_BYTES:
                break
            picture = self.draw(svg, scale)
        return picture


@contextmanager
def svg_rasteriser() -> Iterator[SvgRasteriser]:
    """An SvgRasteriser on a fresh headless Chromium (profile and pictures in a temporary folder), quit at the end."""
    from tests.browser import start_browser

    with tempfile.TemporaryDirectory() as root:
        profile, workdir = Path(root) / "profile", Path(root) / "pictures"
        workdir.mkdir()
        driver = start_browser(profile, scale=PNG_SCALE)
        try:
            yield SvgRasteriser(driver, workdir)
        finally:
            driver.quit()


def _svg_from_data_uri(meta: str | None, payload: str) -> str:
    """The SVG text of a ``data:image/svg+xml[;...],payload`` URI in an HTML attribute, given the part
    after the type (``;base64`` or none) and the payload (HTML-escaped, as attribute values are)."""
    from html import unescape
    from urllib.parse import unquote

    if meta and "base64" in meta.lower():
        return base64.b64decode(unescape(payload)).decode("utf-8")
    return unquote(unescape(payload))


def png_html(html: str, draw: Callable[[str], Picture]) -> str:
    """``html`` with the src of each ``<img>`` that shows an SVG data URI replaced by a PNG data URI of the
    same picture, and a width (the SVG's, where the img names none) so that it shows at the SVG's size."""

    def swap(match: re.Match[str]) -> str:
        start, quote, meta, payload = match.groups()
        picture = draw(_svg_from_data_uri(meta, payload))
        uri = "data:image/png;base64," + base64.b64encode(picture.png).decode("ascii")
        attributes = start + html[match.end():].split(">", 1)[0]  # the whole tag but the src's value
        if not re.search(r"\swidth\s*=", attributes):
            start = start.replace("<img", f'<img width="{picture.width}"', 1)
        return f"{start}{quote}{uri}{quote}"

    return SVG_IMG_SRC.sub(swap, html)


def svgs_to_png(nb: Any, draw: Callable[[str], Picture]) -> int:
    """Turn every SVG picture in the outputs of the notebook ``nb`` into a PNG, in place; how many.

    An output with ``image/svg+xml`` keeps only ``image/png`` (with its CSS size in the output's
    metadata, as JupyterLab reads it) and its ``text/plain``; its ``text/html`` (the same picture,
    inline) goes. A ``text/html`` output's ``<img>`` with an SVG data URI gets a PNG one (png_html).
    """
    count = 0
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if SVG in data:
                picture = draw(data[SVG])
                kept = {k: v for k, v in data.items() if k not in (SVG, "text/html")}
                output["data"] = {PNG: base64.b64encode(picture.png).decode("ascii"), **kept}
                output["metadata"] = {PNG: {"width": picture.width, "height": picture.height}}
                count += 1
            elif "text/html" in data:
                html = data["text/html"]
                found = len(SVG_IMG_SRC.findall(html))
                if found:
                    data["text/html"] = png_html(html, draw)
                    count += found
    return count


def execute_and_save(path: Path) -> float:
    """Execute the notebook at ``path`` in a fresh kernel (its folder as the working directory) and
    write it back with its outputs, less the widget views (see test_committed_outputs_show_without_a_kernel)
    and with PNG pictures instead of SVG ones (see svgs_to_png); the seconds the execution took."""
    nbclient = importlib.import_module("nbclient")  # untyped: imported as plain modules
    nbformat = importlib.import_module("nbformat")
    nb = nbformat.read(path, as_version=4)
    kernelspec = nb.metadata.get("kernelspec")
    with tempfile.TemporaryDirectory() as root:
        write_kernel_spec(Path(root))
        os.environ["JUPYTER_PATH"] = os.pathsep.join([root, os.environ.get("JUPYTER_PATH", "")]).rstrip(os.pathsep)
        # coalesce_streams: one print is one stream output, even where the kernel sent it in two pieces
        client = nbclient.NotebookClient(nb, timeout=120, kernel_name=KERNEL, store_widget_state=False,
                                         coalesce_streams=True, resources={"metadata": {"path": str(path.parent)}})
        started = time.monotonic()
        client.execute()
        took = time.monotonic() - started
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            output.get("data", {}).pop(WIDGET_VIEW, None)
    if kernelspec is not None:
        nb.metadata["kernelspec"] = kernelspec  # the user's python3, not this run's spec
    with svg_rasteriser() as rasteriser:
        svgs_to_png(nb, rasteriser.draw_small)
    nbformat.write(nb, path)
    return took


def main(argv: list[str]) -> int:
    """``python tests/test_notebooks.py NOTEBOOK...``: execute each and write it back with its outputs."""
    if not argv:
        print(__doc__)
        return 2
    for name in argv:
        print(f"{name}: {execute_and_save(Path(name).resolve()):.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
