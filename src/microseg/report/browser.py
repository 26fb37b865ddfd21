"""Headless Chromium: screenshots of a report, and its DOM after the page has run."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

# Debian's package is `chromium`; other systems name the same browser differently.
BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


class BrowserMissing(Exception):
    """No Chromium to run; the message says how to get one."""


def chromium() -> str | None:
    """The browser to use: $MICROSEG_CHROMIUM, else the first of BROWSERS on PATH."""
    chosen = os.environ.get("MICROSEG_CHROMIUM")
    if chosen:
        return shutil.which(chosen)
    return next((found for name in BROWSERS if (found := shutil.which(name))), None)


def _run(arguments: list[str], timeout: float) -> str:
    browser = chromium()
    if browser is None:
        raise BrowserMissing(
            "no Chromium found (tried " + ", ".join(BROWSERS) + "): install it, e.g. "
            "`apt-get install chromium`, or set MICROSEG_CHROMIUM"
        )
    # A profile of its own, so runs side by side do not share a lock; no sandbox, because
    # CI runs as root, where Chromium's sandbox refuses to start (the page is a local file).
    with tempfile.TemporaryDirectory(prefix="microseg-chromium-") as profile:
        done = subprocess.run(
            [
                browser,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--no-first-run",
                "--hide-scrollbars",
                f"--user-data-dir={profile}",
                *arguments,
            ],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    if done.returncode != 0:
        raise RuntimeError(f"{browser} failed ({done.returncode}): {done.stderr[-2000:]}")
    return done.stdout


def dump_dom(html: Path, width: int = 1400, height: int = 2400, timeout: float = 60) -> str:
    """The page's DOM after its script ran (charts stamped with their rendered size)."""
    return _run([f"--window-size={width},{height}", "--dump-dom", html.resolve().as_uri()], timeout)


def screenshot(
    html: Path, png: Path, width: int = 1400, height: int = 2400, timeout: float = 60
) -> Path:
    """A PNG of the page's top `height` pixels at a laptop's width."""
    png.parent.mkdir(parents=True, exist_ok=True)
    _run(
        [
            f"--window-size={width},{height}",
            f"--screenshot={png.resolve()}",
            html.resolve().as_uri(),
        ],
        timeout,
    )
    if not png.exists():
        raise RuntimeError(f"Chromium wrote no screenshot to {png}")
    return png
