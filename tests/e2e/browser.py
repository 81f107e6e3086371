"""Headless Debian Chromium driven by Playwright, and axe-core from the pinned axe-playwright-python wheel.

Browsers cannot be downloaded by Playwright here, so the tests use the system's ``chromium``
(installed by ``.ci/run``) through ``executable_path``; ``playwright install`` is never run.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import axe_playwright_python
import pytest

from tests.conftest import REPO_ROOT, running_in_ci

CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync"]
AXE_SCRIPT = Path(axe_playwright_python.__file__).resolve().parent / "axe.min.js"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
BLOCKING_IMPACTS = ("serious", "critical")
PHONE = {"width": 390, "height": 844}
ARTEFACTS_DIR = Path(os.environ.get("BOLLETTA_ARTEFACTS_DIR", REPO_ROOT / "artefacts"))


def chromium_path() -> str:
    """The system Chromium; skips the test (fails it under CI) when it is not installed."""
    path = os.environ.get("BOLLETTA_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        message = "chromium is not installed: `apt-get install chromium` (.ci/run does it)"
        if running_in_ci():
            pytest.fail(message)
        pytest.skip(message)
    return path


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    executable = chromium_path()
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS, headless=True)
        try:
            yield launched
        finally:
            launched.close()


def axe_violations(page: Any) -> list[dict[str, Any]]:
    """The serious and critical WCAG 2.1 A/AA violations axe-core finds on the page."""
    page.add_script_tag(path=str(AXE_SCRIPT))
    result = page.evaluate("tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", AXE_TAGS)
    return [violation for violation in result["violations"] if violation["impact"] in BLOCKING_IMPACTS]


def describe(violations: list[dict[str, Any]]) -> str:
    return "\n".join(f"{item['id']} ({item['impact']}): {item['help']} at "
                     f"{[node['target'] for node in item['nodes']][:3]}" for item in violations)
