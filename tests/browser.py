"""Opens an HTML file in a real headless Chromium (Debian's ``chromium``, driven by Playwright; no browser
download) and returns what a reader would see. Tests skip, saying why, only when either is missing."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest


@dataclass
class PageFacts:
    errors: list[str]  # console errors and uncaught page errors
    failed: list[str]  # requests that failed (a missing asset)
    image_widths: list[int]  # naturalWidth of every <img>: 0 means the image did not decode
    headings: list[str]  # the <h2> texts


def chromium_path() -> str:
    """The chromium executable, or skip the test (CI installs it: see .ci/run)."""
    pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install -e .[dev])")
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        pytest.skip("chromium is not installed (apt-get install chromium; .ci/run does it)")
    return path


def open_in_chromium(html: Path) -> PageFacts:
    from playwright.sync_api import sync_playwright

    executable = chromium_path()
    with sync_playwright() as playwright:
        # --no-sandbox: CI containers run as root, where Chromium's sandbox refuses to start
        browser = playwright.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        try:
            page = browser.new_page()
            facts = PageFacts([], [], [], [])
            page.on("console", lambda message: facts.errors.append(message.text) if message.type == "error" else None)
            page.on("pageerror", lambda error: facts.errors.append(str(error)))
            page.on("requestfailed", lambda request: facts.failed.append(request.url))
            page.goto(html.resolve().as_uri(), wait_until="load")
            facts.image_widths = page.eval_on_selector_all("img", "images => images.map(i => i.naturalWidth)")
            facts.headings = page.eval_on_selector_all("h2", "hs => hs.map(h => h.textContent.trim())")
        finally:
            browser.close()
    return facts
