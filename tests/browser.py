"""The headless Chromium every browser test drives: where it is, how it starts, its logs.

The ``browser`` fixture (``tests/conftest.py``) gives each test module one browser; pages are
checked offline and quiet through the console and network logs kept here.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import pytest

if TYPE_CHECKING:
    from selenium.webdriver.chrome.webdriver import WebDriver

CHROME_FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--window-size=1100,800",
)


def browser_paths() -> tuple[str, str] | str:
    """(chromium, chromedriver), or why they cannot be used."""
    chrome = os.environ.get("VALUEGRAD_CHROMIUM") or next(
        (found for name in ("chromium", "chromium-browser", "google-chrome") if (found := shutil.which(name))), None
    )
    driver = os.environ.get("VALUEGRAD_CHROMEDRIVER") or shutil.which("chromedriver")
    if not chrome or not driver:
        return ("needs Chromium and chromedriver (Debian: apt-get install chromium chromium-driver); "
                f"found browser={chrome!r}, driver={driver!r}")
    return chrome, driver


def start_browser(profile: Path, scale: float = 1.0) -> WebDriver:
    """A headless Chromium with a fresh profile, logging the console and the network."""
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    paths = browser_paths()
    if isinstance(paths, str):
        raise RuntimeError(paths)
    options = Options()
    options.binary_location = paths[0]
    for flag in CHROME_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile}")
    options.add_argument(f"--force-device-scale-factor={scale:g}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    return webdriver.Chrome(service=Service(paths[1]), options=options)


def open_browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebDriver]:
    """A browser for one test module, quit at the end; the tests skip where Chromium is missing."""
    pytest.importorskip("selenium", reason="the browser tests need selenium: pip install selenium")
    paths = browser_paths()
    if isinstance(paths, str):
        pytest.skip(paths)
    driver = start_browser(tmp_path_factory.mktemp("chromium-profile"))
    try:
        yield driver
    finally:
        driver.quit()


def logs(browser: WebDriver, kind: str) -> list[dict[str, Any]]:
    """The browser's log entries of one kind ('browser': the console, 'performance': the network), drained."""
    entries: list[dict[str, Any]] = cast(Any, browser).get_log(kind)
    return entries


def wait_for(browser: WebDriver, condition: Callable[[], Any], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s")
        time.sleep(0.02)


def screenshot_script(argv: list[str], usage: str, shoot: Callable[[WebDriver, Path], Path],
                      size: tuple[int, int], scale: float = 1.0) -> tuple[int, Path | None]:
    """What the documentation's screenshot scripts share: check the one argument (the PNG to
    write), start a browser of ``size`` at ``scale``, let ``shoot`` take the picture, quit.

    Returns:
        The exit code, and the picture's path when it was written.
    """
    if len(argv) != 1:
        print(usage)
        return 2, None
    paths = browser_paths()
    if isinstance(paths, str):
        print(paths, file=sys.stderr)
        return 1, None
    with tempfile.TemporaryDirectory() as profile:
        driver = start_browser(Path(profile), scale=scale)
        try:
            driver.set_window_size(*size)
            return 0, shoot(driver, Path(argv[0]))
        finally:
            driver.quit()

