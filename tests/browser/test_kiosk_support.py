"""Shared helpers for the kiosk browser tests (this module holds no tests).

One demo server per test module (`kiosk_demo`) keeps the files fast: tests that share it
never assume a ticket number, only its shape and what the API says about it.
"""
from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, Iterator

import pytest
import requests

KIOSK_TOKEN = "demo-kiosk-token-0001-doi-khi-trien-khai"
HEADERS_KIOSK = {"Authorization": f"Bearer {KIOSK_TOKEN}"}
TOUCH_MIN_PX = 64


def root_conftest(config: pytest.Config) -> Any:
    """tests/conftest.py as pytest loaded it (its `ServerProcess`), whatever sys.modules says."""
    suffix = os.path.join("tests", "conftest.py")
    for plugin in config.pluginmanager.get_plugins():
        path = getattr(plugin, "__file__", None) or ""
        if path.endswith(suffix) and not path.endswith(os.path.join("browser", "conftest.py")):
            return plugin
    raise RuntimeError("tests/conftest.py is not loaded")


def start_server(config: pytest.Config, data_dir: Path, args: list[str] | None = None) -> Any:
    server_cls = root_conftest(config).ServerProcess
    return server_cls(data_dir, args=args).start()


@pytest.fixture(scope="module")
def kiosk_demo(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A `motcua demo` shared by the tests of one module."""
    server = start_server(request.config, tmp_path_factory.mktemp("kiosk-demo"))
    try:
        yield server
    finally:
        server.stop()


def staff_headers(server: Any, username: str = "quay1") -> dict[str, str]:
    return {"Authorization": f"Bearer {server.token(username)}"}


def import_dossiers(server: Any, rows: list[dict[str, str]]) -> None:
    """Import dossiers through the staff CSV import (the contract's canonical columns)."""
    cols = ["ma_ho_so", "thu_tuc", "linh_vuc", "nguoi_nop", "ngay_nhan", "ngay_hen_tra", "trang_thai", "ma_tra_cuu"]
    lines = [",".join(cols)] + [",".join(r[c] for c in cols) for r in rows]
    r = requests.post(server.url + "/api/v1/dossiers/import", data="\n".join(lines).encode("utf-8"),
                      headers={**staff_headers(server), "Content-Type": "text/csv"}, params={"filename": "t.csv"},
                      timeout=10)
    assert r.status_code == 200, r.text
    assert r.json()["imported"] == len(rows), r.text


def tap_keys(page: Any, keyboard: str, text: str) -> None:
    """Type `text` by tapping the on-screen keys of the keyboard in `keyboard` (a selector):
    real pointer clicks at the centre of each key as laid out on the screen."""
    page.locator(keyboard).wait_for(state="visible")
    centres = page.evaluate(
        """(sel) => Object.fromEntries(Array.from(document.querySelectorAll(sel + ' [data-key]')).map(k => {
               const r = k.getBoundingClientRect(); return [k.dataset.key, [r.x + r.width / 2, r.y + r.height / 2]]; }))""",
        keyboard,
    )
    for ch in text:
        x, y = centres[" " if ch == " " else ch.upper()]
        page.mouse.click(x, y)


def tap_enter(page: Any, keyboard: str) -> None:
    page.locator(f"{keyboard} [data-key='ENTER']").click()


def token_from_qr_src(src: str) -> str:
    m = re.fullmatch(r"/t/([A-Za-z0-9_\-]+)/qr\.svg", src or "")
    assert m, f"QR image source is not a /t/<token>/qr.svg URL: {src!r}"
    return m.group(1)


def printers_ready(page: Any) -> None:
    """Tell the page every printer it knows is ready, as the device registry does over Socket.IO
    (`device:status`), so a test of the normal path does not depend on the demo printer's state."""
    page.wait_for_function("() => window.MotcuaKiosk !== undefined && window.MotcuaKiosk.state.printersLoaded")
    page.evaluate("""() => { const k = window.MotcuaKiosk;
        Object.keys(k.state.printers).forEach(name => k.rt._emit('device:status',
            {name, kind: 'printer', state: 'ready', detail: ''})); }""")


def wedge_scan(page: Any, text: str, *, attempts: int = 3) -> float:
    """Type `text` like a keyboard-wedge scanner (5 ms apart, then Enter), as a burst the page
    sees: when a loaded test machine delays Playwright's key events past the 50 ms burst gap
    (the page records the gaps it saw), the burst is typed again, and after `attempts` slow
    bursts sent from inside the page. Returns the largest gap seen."""
    page.evaluate("""() => { if (window.__gaps) return; window.__gaps = [];
        let last = null; document.addEventListener('keydown', e => {
            const now = performance.now(); if (last !== null) window.__gaps.push(now - last);
            last = e.key === 'Enter' ? null : now; }, true); }""")
    worst = 0.0
    for _ in range(attempts):
        page.evaluate("() => { window.__gaps.length = 0; }")
        page.keyboard.type(text, delay=5)
        page.keyboard.press("Enter")
        worst = max(page.evaluate("() => window.__gaps") or [0.0])
        if worst < 45:
            return worst
        page.wait_for_timeout(200)  # let the slow burst end before the next one
    # The machine is too busy for Playwright to send keys 50 ms apart, whatever we do: the same
    # keydown events, sent from inside the page in one go, reach the same listener as a burst.
    page.evaluate("() => { window.__gaps.length = 0; }")
    page.evaluate("""(text) => {
        const target = document.activeElement || document.body;
        for (const key of [...text, 'Enter']) {
            target.dispatchEvent(new KeyboardEvent('keydown', {key, bubbles: true, cancelable: true}));
        }}""", text)
    return max(page.evaluate("() => window.__gaps") or [0.0])


def small_touch_targets(page: Any) -> list[str]:
    """Visible buttons smaller than TOUCH_MIN_PX in either direction (measured boxes)."""
    return page.evaluate(
        """(min) => Array.from(document.querySelectorAll('button')).filter(b => {
               const r = b.getBoundingClientRect();
               const st = getComputedStyle(b);
               if (r.width === 0 || r.height === 0 || st.visibility === 'hidden') return false;
               return r.width < min || r.height < min;
             }).map(b => (b.id || b.dataset.testid || b.dataset.key || b.textContent.trim()) + ' ' +
                    Math.round(b.getBoundingClientRect().width) + 'x' + Math.round(b.getBoundingClientRect().height))""",
        TOUCH_MIN_PX,
    )
