"""Playwright driving Debian's chromium against pytest-django's live server.

Playwright's sync API runs an event loop in the test thread, and Django refuses ORM calls from a
thread with a running loop (SynchronousOnlyOperation). The tests only read and write the database
between browser steps, never concurrently, so DJANGO_ALLOW_ASYNC_UNSAFE switches that guard off while
the browser runs (this package only).
"""

import os
import shutil
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import sync_playwright

CHROMIUM = os.environ.get("KTO_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True}
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
WCAG_21_AA = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}


# Package scope: Playwright (and the event loop it keeps running in this thread) stops after the browser
# tests, so the rest of the suite runs as usual.
@pytest.fixture(scope="package")
def browser():
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        pytest.skip(f"chromium not found at {CHROMIUM}; run 'make browser'")
    with pytest.MonkeyPatch.context() as patch, sync_playwright() as playwright:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, live_server):
    """A phone-sized page; a fresh context per test, so no language cookie leaks between tests."""
    context = browser.new_context(**PHONE, base_url=live_server.url)
    context.set_default_timeout(5000)
    yield context.new_page()
    context.close()


@pytest.fixture
def page_without_js(browser, live_server):
    context = browser.new_context(**PHONE, base_url=live_server.url, java_script_enabled=False)
    context.set_default_timeout(5000)
    yield context.new_page()
    context.close()


@pytest.fixture(scope="session")
def axe():
    return Axe()


@pytest.fixture
def assert_accessible(axe):
    """Runs axe-core with the WCAG 2.1 A and AA rules on the page as it is now."""

    def check(page, what: str) -> None:
        results = axe.run(page, options=WCAG_21_AA)
        assert results.violations_count == 0, f"axe found WCAG 2.1 A/AA violations on {what}:\n" + (
            results.generate_report()
        )

    return check


@pytest.fixture
def screenshot():
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def save(page, name: str) -> Path:
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return save
