"""Every notebook in notebooks/ runs top to bottom in a fresh kernel, and is committed with its outputs."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))
KERNEL = "valuegrad-tests"


def test_the_documented_notebooks_are_there() -> None:
    names = {p.name for p in NOTEBOOKS}  # more may be added; every one found is executed below
    assert {
        "01_value_and_graph.ipynb",
        "02_training_an_mlp.ipynb",
        "03_stepping_through_backprop.ipynb",
        "04_forward_vs_reverse_mode.ipynb",
        "05_making_it_fast.ipynb",
    } <= names


@pytest.fixture(scope="module")
def kernel_for_this_interpreter(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A kernel spec that runs *this* interpreter with this checkout first on sys.path.

    A plain 'python3' may resolve to a user-wide kernel spec for another Python (one without
    valuegrad, or with an older copy), so the test writes its own spec and puts it first on
    JUPYTER_PATH for the duration of the module.
    """
    root = tmp_path_factory.mktemp("jupyter")
    spec_dir = root / "kernels" / KERNEL
    spec_dir.mkdir(parents=True)
    spec = {
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "valuegrad tests",
        "language": "python",
        "env": {"PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)},
    }
    (spec_dir / "kernel.json").write_text(json.dumps(spec))
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
