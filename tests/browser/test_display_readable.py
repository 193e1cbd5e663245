"""Issue 13, the TV read from 5 m on a 55" screen: every text a citizen reads is at least
40 px at 1920x1080 (3.7 % of the screen's shorter side, whatever its size), at WCAG AA
contrast (4.5:1) against what is behind it, and whole (no title cut off). The line under the
big number says the same thing for a live call and after a reload, and a paused counter's
last number leaves the big panel.

Measured in chromium from computed styles. One demo server for the module."""
from __future__ import annotations

import pytest
import requests
from playwright.sync_api import expect

from helpers import KIOSK_TOKEN, ServerProcess  # noqa: E402

MIN_SHARE = 40 / 1080  # the smallest text, as a share of the screen's shorter side

# Every element with text of its own, visible on the screen: its size, contrast and whether it
# is cut (ellipsis or hidden overflow across its width). The contrast is computed from the
# computed colours, with any translucent backgrounds laid over each other.
PROBLEMS_JS = """(minPx) => {
  const parse = s => { const m = s.match(/rgba?\\(([^)]+)\\)/); if (!m) return [0, 0, 0, 0];
    const p = m[1].split(/[\\s,\\/]+/).filter(Boolean).map(Number); return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1]; };
  const lum = c => { const v = c.slice(0, 3).map(x => { x /= 255; return x <= 0.03928 ? x / 12.92 : ((x + 0.055) / 1.055) ** 2.4; });
    return 0.2126 * v[0] + 0.7152 * v[1] + 0.0722 * v[2]; };
  const behind = el => { const layers = [];
    for (let e = el; e; e = e.parentElement) { const c = parse(getComputedStyle(e).backgroundColor);
      if (c[3] > 0) { layers.push(c); if (c[3] >= 1) break; } }
    let base = [255, 255, 255];
    for (const c of layers.reverse()) base = base.map((v, i) => c[i] * c[3] + v * (1 - c[3]));
    return base; };
  const out = [];
  const W = innerWidth, H = innerHeight;
  for (const el of document.querySelectorAll('#screen *')) {
    const own = [...el.childNodes].filter(n => n.nodeType === 3 && n.textContent.trim()).map(n => n.textContent.trim()).join(' ');
    if (!own) continue;
    const cs = getComputedStyle(el), r = el.getBoundingClientRect();
    if (cs.display === 'none' || cs.visibility !== 'visible' || r.width === 0 || r.height === 0) continue;
    if (r.bottom <= 0 || r.top >= H || r.right <= 0 || r.left >= W) continue;
    if (el.closest('.hidden') || el.closest('[hidden]')) continue;
    const what = `"${own.slice(0, 40)}" (${el.id || el.className || el.tagName})`;
    const size = parseFloat(cs.fontSize);
    if (size < minPx - 0.5) out.push(`${what}: ${size.toFixed(1)} px < ${minPx.toFixed(1)} px`);
    const bg = behind(el), fg = parse(cs.color);
    const ink = fg.slice(0, 3).map((v, i) => v * fg[3] + bg[i] * (1 - fg[3]));
    const a = lum(ink), b = lum(bg), ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    if (ratio < 4.5) out.push(`${what}: contrast ${ratio.toFixed(2)}:1`);
    if (!el.closest('.ticker-track') && el.scrollWidth > el.clientWidth + 1 && cs.overflowX !== 'visible')
      out.push(`${what}: cut off (${el.scrollWidth} > ${el.clientWidth})`);
  }
  return out;
}"""


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    s = ServerProcess(tmp_path_factory.mktemp("tv-readable") / "data").start()
    yield s
    s.stop()


def _auth(tok: str) -> dict:
    return {"Authorization": f"Bearer {tok}"}


def _issue(srv, service: str) -> dict:
    r = requests.post(srv.url + "/api/v1/tickets", json={"service": service}, headers=_auth(KIOSK_TOKEN), timeout=10)
    assert r.status_code == 201, r.text
    return r.json()


def _call_next(srv, counter: int) -> dict:
    r = requests.post(f"{srv.url}/api/v1/counters/{counter}/call-next", headers=_auth(srv.token(f"quay{counter}")),
                      timeout=10)
    assert r.status_code == 200, r.text
    return r.json()["ticket"]


def _open(context_factory, srv, width: int = 1920, height: int = 1080):
    page = context_factory(viewport={"width": width, "height": height}).new_page()
    page.goto(srv.url + "/display?voice=0")
    page.wait_for_selector("#counters tbody tr", state="attached", timeout=10_000)
    return page


def test_every_text_is_big_enough_contrasted_and_whole_from_5_m(srv, context_factory):
    for service in ("HOTICH", "DATDAI", "LDTBXH", "HOTICH", "TRAKQ"):
        _issue(srv, service)
    _call_next(srv, 1)
    _call_next(srv, 2)
    r = requests.post(srv.url + "/api/v1/counters/3/pause", json={"reason": "Họp, công tác"},
                      headers=_auth(srv.token("quay3")), timeout=10)
    assert r.status_code == 200, r.text
    r = requests.post(srv.url + "/api/v1/notices", json={"text": "Bộ phận một cửa nghỉ trưa từ 11 giờ 30 đến 13 giờ 30."},
                      headers=_auth(srv.token("admin")), timeout=10)
    assert r.status_code == 201, r.text
    for width, height in [(1920, 1080), (1366, 768), (1080, 1920)]:
        page = _open(context_factory, srv, width, height)
        expect(page.locator("#ready-panel")).to_be_visible(timeout=10_000)
        expect(page.locator("#apology-panel")).to_be_visible()
        expect(page.locator("#ticker")).to_be_visible()
        expect(page.locator("#counters tr.paused")).to_have_count(1)
        page.wait_for_timeout(300)  # the panels settle their type size
        problems = page.evaluate(PROBLEMS_JS, MIN_SHARE * min(width, height))
        assert problems == [], (width, height)
        page.context.close()


def test_the_line_under_the_number_is_the_same_live_and_after_a_reload(srv, context_factory):
    page = _open(context_factory, srv)
    _issue(srv, "XAYDUNG")
    called = _call_next(srv, 2)
    expect(page.get_by_test_id("latest-number")).to_have_text(called["number"], timeout=10_000)
    live = page.inner_text("#latest-service").strip()
    assert live
    page.reload()
    expect(page.get_by_test_id("latest-number")).to_have_text(called["number"], timeout=10_000)
    expect(page.locator("#latest-service")).to_have_text(live)
    expect(page.locator("#latest-counter")).to_have_text("Mời đến quầy số 2")


def test_a_paused_counters_number_leaves_the_big_panel(srv, context_factory):
    page = _open(context_factory, srv)
    _issue(srv, "HKD")
    r = requests.post(srv.url + "/api/v1/counters/3/unpause", headers=_auth(srv.token("quay3")), timeout=10)
    assert r.status_code == 200, r.text
    called = _call_next(srv, 3)
    expect(page.get_by_test_id("latest-number")).to_have_text(called["number"], timeout=10_000)
    r = requests.post(srv.url + "/api/v1/counters/3/pause", json={"reason": "Nghỉ giải lao"},
                      headers=_auth(srv.token("quay3")), timeout=10)
    assert r.status_code == 200, r.text
    expect(page.get_by_test_id("latest-number")).not_to_have_text(called["number"], timeout=10_000)
    expect(page.locator("#latest-counter")).not_to_have_text("Mời đến quầy số 3")
    page.reload()
    page.wait_for_selector("#counters tbody tr", state="attached", timeout=10_000)
    expect(page.get_by_test_id("latest-number")).not_to_have_text(called["number"])
    # The calls stay in "Vừa gọi": only the big panel stops inviting to a closed counter.
    expect(page.locator(f"#recent-calls li[data-number='{called['number']}']")).to_have_count(1)
