"""A real JupyterLab for the browser tests: a headless server on a free port, and its page in Chromium.

``start_lab`` starts ``jupyter lab`` with token authentication, a fresh notebook folder, and its own
Jupyter data, config, runtime, workspace and settings folders (nothing of the user's is read or
written), and waits until the server answers. The app is exposed in the page as
``window.jupyterapp`` (``--LabApp.expose_app_in_browser``), so that tests read its state and run its
commands: ``wait_for_lab`` waits until the app has started and restored its layout, ``open_notebook``
opens a notebook through ``docmanager:open`` and waits until its panel is ready, ``close_all`` closes
every tab. ``write_kernel`` writes a kernel spec that runs this interpreter with this checkout first
on ``sys.path``, for tests whose notebooks run.

Used by tests/nn/test_training_jupyterlab.py and tests/test_notebooks_jupyterlab.py.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests.browser import browser_paths, start_browser, wait_for

if TYPE_CHECKING:
    from selenium.webdriver.chrome.webdriver import WebDriver

REPO = Path(__file__).resolve().parents[1]
SERVER_START_S = 120.0
SERVER_STOP_S = 30.0
LAB_READY_S = 120.0
NOTEBOOK_OPEN_S = 60.0


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def write_kernel(data: Path, name: str, display_name: str) -> None:
    """Write kernel spec ``name`` under the Jupyter data folder ``data``: this interpreter's
    ipykernel with this checkout first on ``sys.path``."""
    spec_dir = data / "kernels" / name
    spec_dir.mkdir(parents=True)
    spec = {
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": display_name,
        "language": "python",
        "env": {"PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)},
    }
    (spec_dir / "kernel.json").write_text(json.dumps(spec), encoding="utf-8")


class Lab:
    """A running ``jupyter lab`` server: its process, port, token, log file and notebook folder."""

    def __init__(self, process: subprocess.Popen[bytes], port: int, token: str, log: Path, root: Path) -> None:
        self.process, self.port, self.token, self.log, self.root = process, port, token, log, root

    def url(self, path: str) -> str:
        """The address of ``path`` (no leading slash) on this server, with the token."""
        return f"http://127.0.0.1:{self.port}/{path}?token={self.token}"

    def log_tail(self, chars: int = 3000) -> str:
        """The end of the server's log, for failure messages."""
        return self.log.read_text(encoding="utf-8", errors="replace")[-chars:]


def start_lab(base: Path, extra_args: tuple[str, ...] = (), page_config: dict[str, Any] | None = None) -> Lab:
    """Start ``jupyter lab`` headless on a free port with its folders under ``base`` and wait until it
    answers ``/api/status``.

    ``base / "notebooks"`` is the server's root folder and ``base / "data"`` its Jupyter data folder
    (for kernel specs): both are made here if missing, so that callers may fill them first. The
    server's output goes to ``base / "server.log"``. ``extra_args`` are added to its command line;
    ``page_config`` is written to ``labconfig/page_config.json`` in its config folder, where the
    page reads options such as ``{"notebookStartsKernel": False}`` (open notebooks without a kernel).

    Raises:
        AssertionError: the server exited, or did not answer within ``SERVER_START_S``.
    """
    root, data, config = base / "notebooks", base / "data", base / "config"
    for folder in (root, data, config):
        folder.mkdir(exist_ok=True)
    if page_config is not None:
        (config / "labconfig").mkdir(exist_ok=True)
        (config / "labconfig" / "page_config.json").write_text(json.dumps(page_config), encoding="utf-8")
    port, token = free_port(), secrets.token_hex(16)
    env = {**os.environ, "JUPYTER_PATH": str(data), "JUPYTER_CONFIG_DIR": str(config),
           "JUPYTER_RUNTIME_DIR": str(base / "runtime"), "PYTHONPATH": str(REPO)}
    log = base / "server.log"
    command = [
        sys.executable, "-m", "jupyterlab", "--no-browser", f"--port={port}", "--ip=127.0.0.1",
        f"--ServerApp.token={token}", f"--ServerApp.root_dir={root}", "--allow-root",
        "--LabApp.expose_app_in_browser=True", f"--LabApp.workspaces_dir={base / 'workspaces'}",
        f"--LabApp.user_settings_dir={base / 'settings'}",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        *extra_args,
    ]
    with log.open("wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    lab = Lab(process, port, token, log, root)
    try:
        deadline = time.monotonic() + SERVER_START_S
        while True:
            if process.poll() is not None:
                raise AssertionError(f"jupyter lab exited with {process.returncode}:\n{lab.log_tail()}")
            try:
                with urllib.request.urlopen(lab.url("api/status"), timeout=5) as reply:
                    if reply.status == 200:
                        return lab
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            if time.monotonic() > deadline:
                raise AssertionError(f"jupyter lab did not answer in {SERVER_START_S} s:\n{lab.log_tail()}")
            time.sleep(0.2)
    except BaseException:
        stop_lab(lab)
        raise


def stop_lab(lab: Lab) -> None:
    """Stop the server (SIGTERM, which shuts its kernels down), killing its process group if it hangs."""
    lab.process.terminate()
    try:
        lab.process.wait(SERVER_STOP_S)
    except subprocess.TimeoutExpired:
        os.killpg(lab.process.pid, signal.SIGKILL)
        lab.process.wait(10)


@contextmanager
def running_lab(base: Path, extra_args: tuple[str, ...] = (),
                page_config: dict[str, Any] | None = None) -> Iterator[Lab]:
    """``start_lab`` for a ``with`` block, stopped at its end."""
    lab = start_lab(base, extra_args, page_config)
    try:
        yield lab
    finally:
        stop_lab(lab)


def lab_browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebDriver]:
    """A headless Chromium for one test module, large enough for JupyterLab's layout; quit at the end.

    Unlike the ``browser`` fixture of tests/conftest.py it never skips: the JupyterLab tests need
    Chromium and chromedriver, and say so when they are missing.
    """
    paths = browser_paths()
    assert not isinstance(paths, str), paths
    driver = start_browser(tmp_path_factory.mktemp("chromium-profile"))
    driver.set_window_size(1400, 1000)
    try:
        yield driver
    finally:
        driver.quit()


LAB_STATE = """
const app = window.jupyterapp;
if (!app || !app.shell || !app.commands) return null;
if (!window.__valuegradRestored) {
  window.__valuegradRestored = 'waiting';
  app.restored.then(() => { window.__valuegradRestored = 'yes'; });
}
return {restored: window.__valuegradRestored === 'yes', open: app.commands.hasCommand('docmanager:open')};
"""


def wait_for_lab(browser: WebDriver, lab: Lab, timeout: float = LAB_READY_S) -> None:
    """Load JupyterLab's page if the browser is not on it yet, then wait until the app has started,
    restored its layout and can open documents.

    Raises:
        AssertionError: the app was not ready within ``timeout`` (the server's log is quoted).
    """
    if not browser.current_url.startswith(f"http://127.0.0.1:{lab.port}/lab"):
        browser.get(lab.url("lab"))
    _wait_for_state(browser, lab, LAB_STATE, (), ("restored", "open"), "JupyterLab did not start in the browser",
                    timeout)


def _wait_for_state(browser: WebDriver, lab: Lab, script: str, args: tuple[Any, ...], keys: tuple[str, ...],
                    failure: str, timeout: float) -> None:
    """Wait until ``script`` (run with ``args``) returns a state whose ``keys`` are all true;
    otherwise fail with ``failure``, the last state and the server log's tail."""

    def done() -> bool:
        state: dict[str, Any] | None = browser.execute_script(script, *args)
        return state is not None and all(state[k] for k in keys)

    try:
        wait_for(browser, done, timeout)
    except AssertionError as e:
        raise AssertionError(f"{failure}: {browser.execute_script(script, *args)}\n{lab.log_tail()}") from e


PANEL_STATE = """
const app = window.jupyterapp;
const panel = app ? app.shell.currentWidget : null;
if (!panel || !panel.context || panel.context.path !== arguments[0]) return null;
return {ready: panel.context.isReady, revealed: !!panel.content && panel.content.isAttached};
"""


def open_notebook(browser: WebDriver, lab: Lab, path: str, timeout: float = NOTEBOOK_OPEN_S) -> None:
    """Open the notebook at ``path`` (relative to the server's root) as the current tab, through
    JupyterLab's ``docmanager:open`` command, and wait until its model has loaded.

    The first call loads the page at ``/lab/tree/PATH``, the address a user opens; later calls use
    the running app.

    Raises:
        AssertionError: the notebook's panel was not ready within ``timeout``.
    """
    if browser.current_url.startswith(f"http://127.0.0.1:{lab.port}/lab"):
        wait_for_lab(browser, lab)
        browser.execute_script("window.jupyterapp.commands.execute('docmanager:open', {path: arguments[0]});", path)
    else:
        browser.get(lab.url(f"lab/tree/{path}"))
        wait_for_lab(browser, lab)

    _wait_for_state(browser, lab, PANEL_STATE, (path,), ("ready", "revealed"), f"{path} did not open", timeout)


DOCUMENTS_LEFT = """
const app = window.jupyterapp;
const left = Array.from(app.shell.widgets('main')).filter((w) => !!w.context).map((w) => w.context.path);
const dialog = document.querySelector('.jp-Dialog');
return {left, dialog: dialog ? dialog.textContent : null};
"""


def close_all(browser: WebDriver, timeout: float = 30.0) -> None:
    """Close every tab in JupyterLab's main area (``application:close-all``) and wait until no
    document is open (JupyterLab then shows a Launcher, which stays).

    Raises:
        AssertionError: a document was still open after ``timeout`` (say, a dialog asked to save it).
    """
    browser.execute_script("window.jupyterapp.commands.execute('application:close-all');")

    def closed() -> bool:
        state: dict[str, Any] = browser.execute_script(DOCUMENTS_LEFT)
        return not state["left"]

    try:
        wait_for(browser, closed, timeout)
    except AssertionError as e:
        raise AssertionError(f"documents still open: {browser.execute_script(DOCUMENTS_LEFT)}") from e
