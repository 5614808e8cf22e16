"""Every notebook in notebooks/ runs top to bottom in a fresh kernel, and is committed with its outputs.

Run as a script, it executes notebooks as the tests do and writes them back with their outputs
(to commit)::

    python tests/test_notebooks.py notebooks/06_training_an_mlp.ipynb
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))
KERNEL = "valuegrad-tests"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


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


def execute_and_save(path: Path) -> float:
    """Execute the notebook at ``path`` in a fresh kernel (its folder as the working directory) and
    write it back with its outputs, less the widget views (see test_committed_outputs_show_without_a_kernel);
    the seconds it took."""
    nbclient = importlib.import_module("nbclient")  # untyped: imported as plain modules
    nbformat = importlib.import_module("nbformat")
    nb = nbformat.read(path, as_version=4)
    kernelspec = nb.metadata.get("kernelspec")
    with tempfile.TemporaryDirectory() as root:
        write_kernel_spec(Path(root))
        os.environ["JUPYTER_PATH"] = os.pathsep.join([root, os.environ.get("JUPYTER_PATH", "")]).rstrip(os.pathsep)
        client = nbclient.NotebookClient(nb, timeout=120, kernel_name=KERNEL, store_widget_state=False,
                                         resources={"metadata": {"path": str(path.parent)}})
        started = time.monotonic()
        client.execute()
        took = time.monotonic() - started
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            output.get("data", {}).pop(WIDGET_VIEW, None)
    if kernelspec is not None:
        nb.metadata["kernelspec"] = kernelspec  # the user's python3, not this run's spec
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
