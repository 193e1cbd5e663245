"""Playwright driving Debian's chromium (never a downloaded browser)."""
from __future__ import annotations

import os
import shutil

import pytest

CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--autoplay-policy=no-user-gesture-required",
    "--disable-dev-shm-usage",
]


def chromium_path() -> str | None:
    return os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="session")
def browser():
    path = chromium_path()
    if not path:
        if os.environ.get("CI") == "true":
            pytest.fail("Debian's chromium is not installed: scripts/test.sh must install it")
        pytest.skip("chromium not installed")
    from playwright.sync_api import expect, sync_playwright

    # A busy machine (CI, or the suite beside other work) may take seconds to paint what a user
    # would see at once: every check waits generously for it (a slow page is measured by bench/).
    expect.set_options(timeout=15_000)
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=path, headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def context_factory(browser):
    made = []

    def make(**kw):
        kw.setdefault("viewport", {"width": 1920, "height": 1080})
        kw.setdefault("locale", "vi-VN")
        ctx = browser.new_context(**kw)
        ctx.set_default_timeout(30_000)
        made.append(ctx)
        return ctx

    yield make
    for c in made:
        c.close()


@pytest.fixture
def page(context_factory):
    return context_factory().new_page()
