"""The display's screen in Debian's chromium: limited displays, notices, dossier panels, the
three screen shapes, and bounded memory after 10,000 calls. One server for the module; the
tests use different counters."""
from __future__ import annotations

import re

import requests
from playwright.sync_api import expect

from test_display_helpers import (  # noqa: F401 (fixtures)
    bearer, call_next, display_server, issue, log_entries, open_display, voice_lib, wait_log,
)


def test_a_display_limited_to_counter_1_ignores_the_other_counters(display_server, context_factory):
    server = display_server
    full = open_display(context_factory, server, "/display?voice=0")
    only1 = open_display(context_factory, server, "/display?counters=1&voice=0")
    expect(only1.locator("#counters tbody tr")).to_have_count(1)
    expect(only1.locator("#counters tbody tr")).to_have_attribute("data-counter", "1")
    # Waiting counts: only the fields counter 1 serves.
    assert only1.eval_on_selector_all("#waiting li", "els => els.map(e => e.dataset.service)") == ["HOTICH"]
    expect(full.locator("#counters tbody tr")).to_have_count(4)

    issue(server, "DATDAI")
    hotich = issue(server, "HOTICH")
    other = call_next(server, 2, server.token("quay2"))
    mine = call_next(server, 1, server.token("quay1"))
    assert mine["number"] == hotich["number"]

    wait_log(full, 2, state="done", timeout_ms=15_000)
    assert [e["counter"] for e in log_entries(full)] == ["2", "1"]
    # The call for counter 1 came after the one for counter 2: once it is logged, the other one
    # has been received (and ignored) too.
    [entry] = wait_log(only1, 1, state="done", timeout_ms=15_000)
    assert (entry["number"], entry["counter"]) == (mine["number"], "1")
    expect(only1.get_by_test_id("latest-number")).to_have_text(mine["number"])
    assert only1.eval_on_selector_all("#recent-calls li", "els => els.map(e => e.dataset.counter)") == ["1"]
    assert other["number"] not in only1.inner_text("#screen")


def test_configured_display_pages(display_server):
    server = display_server
    assert requests.get(server.url + "/display/tv-sanh-cho", timeout=10).status_code == 200
    missing = requests.get(server.url + "/display/khong-co-man-hinh-nay", timeout=10)
    assert missing.status_code == 404
    logo = requests.get(server.url + "/display/logo", timeout=10)
    assert logo.status_code == 200 and logo.headers["Content-Type"].startswith("image/")


def test_notices_scroll_along_the_bottom(display_server, context_factory):
    server = display_server
    page = open_display(context_factory, server, "/display?voice=0")
    expect(page.locator("#ticker")).to_be_hidden()
    admin = bearer(server.token("admin"))

    # Only an administrator may set notices; the text is checked.
    r = requests.post(server.url + "/api/v1/notices", json={"text": "x"}, timeout=10)
    assert r.status_code == 401 and r.json()["error"] == "unauthorized"
    r = requests.post(server.url + "/api/v1/notices", json={"text": "x"},
                      headers=bearer(server.token("quay1")), timeout=10)
    assert r.status_code == 403 and "quyền" in r.json()["message"]
    r = requests.post(server.url + "/api/v1/notices", json={"text": "   "}, headers=admin, timeout=10)
    assert r.status_code == 422 and r.json()["message"].startswith("Dữ liệu không hợp lệ")

    first = "Bộ phận một cửa nghỉ trưa từ 11 giờ 30 đến 13 giờ 30."
    r = requests.post(server.url + "/api/v1/notices", json={"text": first + "\n"}, headers=admin, timeout=10)
    assert r.status_code == 201, r.text
    first_id = r.json()["id"]
    assert r.json()["text"] == first
    expect(page.locator("#ticker")).to_be_visible(timeout=10_000)
    expect(page.locator("#ticker-text")).to_have_text(first)

    second = "Công dân nhận kết quả hồ sơ đất đai tại quầy số 4."
    requests.post(server.url + "/api/v1/notices", json={"text": second}, headers=admin, timeout=10).raise_for_status()
    expect(page.locator("#ticker-text")).to_contain_text(second, timeout=10_000)
    assert [n["text"] for n in requests.get(server.url + "/api/v1/notices", timeout=10).json()["notices"]] == [first, second]

    # A screen opened later shows the notices at once.
    late = open_display(context_factory, server, "/display?voice=0")
    expect(late.locator("#ticker-text")).to_contain_text(first, timeout=10_000)

    r = requests.delete(f"{server.url}/api/v1/notices/{first_id}", headers=admin, timeout=10)
    assert r.status_code == 200
    expect(page.locator("#ticker-text")).to_have_text(second, timeout=10_000)
    r = requests.delete(f"{server.url}/api/v1/notices/{first_id}", headers=admin, timeout=10)
    assert r.status_code == 404 and r.json()["error"] == "notice_not_found"
    for n in requests.get(server.url + "/api/v1/notices", timeout=10).json()["notices"]:
        requests.delete(f"{server.url}/api/v1/notices/{n['id']}", headers=admin, timeout=10).raise_for_status()
    expect(page.locator("#ticker")).to_be_hidden(timeout=10_000)


def test_dossier_panels_fill_and_follow_changes(display_server, context_factory):
    server = display_server
    ready = requests.get(server.url + "/api/v1/dossiers/ready", timeout=10).json()["items"]
    late = requests.get(server.url + "/api/v1/dossiers/apologies", timeout=10).json()["items"]
    assert ready and late  # the demo has both
    page = open_display(context_factory, server, "/display?voice=0")
    expect(page.locator("#ready-panel")).to_be_visible(timeout=10_000)
    expect(page.locator("#apology-panel")).to_be_visible()
    codes = page.eval_on_selector_all("#ready-list li", "els => els.map(e => e.dataset.code)")
    assert codes == [d["code"] for d in ready][:len(codes)] and codes
    first = page.locator("#ready-list li").first
    expect(first.locator(".d-name")).to_have_text(ready[0]["applicant"])
    assert re.fullmatch(r"\S+( \S\.)+", ready[0]["applicant"])  # a masked name, e.g. "Dương N. V."
    dated = next(d for d in late if d.get("new_due_at_text"))
    row = page.locator(f'#apology-list li[data-code="{dated["code"]}"]')
    expect(row.locator(".d-date")).to_have_text("Hẹn lại: " + dated["new_due_at_text"])

    # A late dossier gets its result: dossier:updated makes the screen fetch the panels again.
    target = late[0]["code"]
    r = requests.post(f"{server.url}/api/v1/dossiers/{target}/status", json={"status": 9},
                      headers=bearer(server.token("admin")), timeout=10)
    assert r.status_code == 200, r.text
    expect(page.locator("#ready-list li").first).to_have_attribute("data-code", target, timeout=10_000)
    expect(page.locator(f'#apology-list li[data-code="{target}"]')).to_have_count(0)


def _layout_problems(page) -> list[str]:
    return page.evaluate("""() => {
      const out = [], W = innerWidth, H = innerHeight, de = document.documentElement;
      if (de.scrollWidth > W || de.scrollHeight > H) out.push(`page scrolls ${de.scrollWidth}x${de.scrollHeight}`);
      const inside = (el, what) => {
        const r = el.getBoundingClientRect();
        if (r.width === 0 || r.left < 0 || r.top < 0 || r.right > W + 0.5 || r.bottom > H + 0.5) out.push(what + ' off screen');
        return r;
      };
      const num = inside(document.getElementById('latest-number'), 'latest number');
      if (num.height < Math.min(W, H) * 0.15) out.push('latest number too small: ' + num.height);
      inside(document.getElementById('clock-time'), 'clock');
      inside(document.getElementById('office-name'), 'office name');
      for (const tr of document.querySelectorAll('#counters tbody tr')) {
        const box = document.getElementById('counters-panel').getBoundingClientRect();
        const r = inside(tr, 'counter ' + tr.dataset.counter);
        if (r.bottom > box.bottom + 0.5) out.push('counter ' + tr.dataset.counter + ' cut off');
      }
      const wbox = document.getElementById('waiting-panel').getBoundingClientRect();
      for (const li of document.querySelectorAll('#waiting li')) {
        const r = inside(li, 'waiting ' + li.dataset.service);
        if (r.bottom > wbox.bottom + 0.5) out.push('waiting ' + li.dataset.service + ' cut off');
      }
      return out;
    }""")


def test_the_screen_fits_a_tv_a_small_screen_and_a_portrait_screen(display_server, context_factory):
    server = display_server
    issue(server, "HKD")
    number = call_next(server, 3, server.token("quay3"))["number"]
    for width, height in [(1920, 1080), (1366, 768), (1080, 1920)]:
        page = open_display(context_factory, server, "/display?voice=0", viewport={"width": width, "height": height})
        expect(page.get_by_test_id("latest-number")).to_have_text(number)
        expect(page.locator("#counters tbody tr")).to_have_count(4)
        expect(page.locator("#ready-panel")).to_be_visible(timeout=10_000)
        page.wait_for_timeout(100)  # let the panels settle their type size
        assert _layout_problems(page) == [], (width, height)
        assert re.fullmatch(r"\d\d:\d\d:\d\d", page.inner_text("#clock-time"))
        assert re.fullmatch(r"(Thứ (Hai|Ba|Tư|Năm|Sáu|Bảy)|Chủ nhật), \d\d/\d\d/\d{4}", page.inner_text("#clock-date"))
        page.context.close()


def _settled_stats(page, quiet_ms: int = 500, timeout_ms: int = 10_000) -> dict:
    """MotcuaDisplay.stats() once the node count has not changed for quiet_ms."""
    last = page.evaluate("MotcuaDisplay.stats()")
    still = 0
    waited = 0
    while still < quiet_ms:
        assert waited < timeout_ms, f"the display kept changing for {timeout_ms} ms"
        page.wait_for_timeout(100)
        waited += 100
        now = page.evaluate("MotcuaDisplay.stats()")
        still = still + 100 if now["nodes"] == last["nodes"] else 0
        last = now
    return last


def test_memory_and_dom_stay_bounded_after_10000_calls(display_server, context_factory):
    server = display_server
    page = open_display(context_factory, server, "/display?voice=0")
    feed = """([from, n]) => {
      for (let i = from; i < from + n; i++) {
        MotcuaDisplay.receive({seq: 1e6 + i, ticket_id: 1e6 + i, number: String(1000 + i % 9000),
                               service: 'HOTICH', counter: 1 + i % 4, recall: i % 7 === 0});
      }
      return MotcuaDisplay.stats();
    }"""
    # The panels fill in after the first snapshot (results ready, notices, a state from the
    # previous test's calls): measure once the page has stopped growing.
    before = _settled_stats(page)
    after_10k = page.evaluate(feed, [0, 10_000])
    after_20k = page.evaluate(feed, [10_000, 10_000])
    for st in (after_10k, after_20k):
        assert st["log"] == 200
        assert st["pending"] <= 100 and st["seen"] <= 1000 and st["previews"] <= 100
        assert st["recent"] <= 5 and st["counterFlash"] <= 4
        assert st["nodes"] <= before["nodes"] + 200 + 10
    assert abs(after_20k["nodes"] - after_10k["nodes"]) <= 5
    # The log keeps the newest entries, in the order the calls came.
    seqs = [int(e["seq"]) for e in log_entries(page)]
    assert seqs == list(range(1_000_000 + 20_000 - 200, 1_000_000 + 20_000))
    assert page.js_errors == []
