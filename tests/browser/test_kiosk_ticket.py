"""Taking a number at /kiosk in Debian's chromium: the field buttons, the priority step, the
ticket screen (number, counters, wait, QR), going home, print trouble, and touch-screen rules."""
from __future__ import annotations

import re

import requests
from playwright.sync_api import expect

from test_kiosk_support import (  # noqa: F401 - kiosk_demo is a fixture
    HEADERS_KIOSK, kiosk_demo, printers_ready, small_touch_targets, token_from_qr_src,
)

PRINT_TROUBLE = "Máy in đang gặp sự cố, ông/bà vui lòng ghi nhớ số hoặc chụp ảnh màn hình"


def _ticket_by_qr(page, server) -> dict:
    token = token_from_qr_src(page.get_by_test_id("ticket-qr").get_attribute("src"))
    r = requests.get(f"{server.url}/api/v1/tickets/by-token/{token}", timeout=5)
    assert r.status_code == 200, r.text
    return r.json() | {"token": token}


def test_tap_a_field_then_no_priority_shows_the_number(kiosk_demo, context_factory):
    page = context_factory().new_page()
    page.goto(kiosk_demo.url + "/kiosk")
    expect(page.get_by_test_id("office-name")).to_have_text(re.compile("phường Hòa Bình"))
    expect(page.get_by_test_id("clock")).to_contain_text(re.compile(r"\d\d:\d\d:\d\d"))
    land = page.get_by_test_id("service-DATDAI")
    expect(land).to_contain_text("Đất đai")
    expect(land).to_contain_text("Land")
    expect(land).to_contain_text(re.compile(r"Đang chờ: \d+ người"))
    assert land.locator("svg").count() == 1

    land.click()
    expect(page.get_by_text("Ông/bà thuộc đối tượng ưu tiên?")).to_be_visible()
    expect(page.get_by_test_id("priority-field")).to_contain_text("Đất đai")
    page.get_by_test_id("priority-none").click()

    number = page.get_by_test_id("ticket-number")
    expect(number).to_have_text(re.compile(r"^2\d{3}$"))
    expect(page.get_by_test_id("ticket-service")).to_have_text("Đất đai")
    expect(page.get_by_test_id("ticket-counters")).to_contain_text("Mời đến quầy số 2")
    expect(page.get_by_test_id("ticket-ahead")).to_contain_text(re.compile(r"Trước ông/bà còn \d+ người|người tiếp theo"))
    expect(page.get_by_test_id("ticket-wait")).to_contain_text("Thời gian chờ dự kiến")
    qr = page.get_by_test_id("ticket-qr")
    expect(qr).to_be_visible()
    page.wait_for_function("() => document.querySelector('#t-qr').complete && document.querySelector('#t-qr').naturalWidth > 0")

    ticket = _ticket_by_qr(page, kiosk_demo)
    assert ticket["number"] == number.inner_text()
    assert ticket["service"] == "DATDAI" and ticket["status"] == "waiting" and ticket["priority"] is None
    phone = requests.get(f"{kiosk_demo.url}/t/{ticket['token']}", timeout=5)
    assert phone.status_code == 200 and ticket["number"] in phone.text

    page.get_by_test_id("ticket-done").click()
    expect(page.locator("#s-home")).to_be_visible()
    expect(number).to_be_hidden()


def test_priority_step_issues_a_priority_ticket(kiosk_demo, context_factory):
    page = context_factory().new_page()
    page.goto(kiosk_demo.url + "/kiosk")
    page.get_by_test_id("service-HOTICH").click()
    classes = page.locator("#prio-classes [data-priority]")
    expect(classes).to_have_count(5)
    for label in ("Người cao tuổi", "Người khuyết tật", "Phụ nữ mang thai", "Người có con nhỏ", "Người có công"):
        expect(page.locator("#prio-classes")).to_contain_text(label)
    # "Không" is the big default: larger than any priority button.
    none_box = page.get_by_test_id("priority-none").bounding_box()
    elderly_box = page.get_by_test_id("priority-elderly").bounding_box()
    assert none_box["width"] * none_box["height"] > elderly_box["width"] * elderly_box["height"]

    page.get_by_test_id("priority-elderly").click()
    expect(page.get_by_test_id("ticket-number")).to_have_text(re.compile(r"^1\d{3}$"))
    expect(page.get_by_test_id("ticket-priority")).to_contain_text("Người cao tuổi")
    ticket = _ticket_by_qr(page, kiosk_demo)
    assert ticket["priority"] == "elderly" and ticket["service"] == "HOTICH"


def test_back_home_after_the_idle_timeout_and_on_a_tap(kiosk_demo, context_factory):
    page = context_factory().new_page()
    page.clock.install()
    page.goto(kiosk_demo.url + "/kiosk")
    printers_ready(page)
    page.get_by_test_id("service-XAYDUNG").click()
    page.get_by_test_id("priority-none").click()
    expect(page.get_by_test_id("ticket-number")).to_have_text(re.compile(r"^3\d{3}$"))
    expect(page.locator("#t-countdown")).to_contain_text("Tự động về màn hình chính sau")
    page.clock.fast_forward(15_000)
    expect(page.get_by_test_id("ticket-number")).to_be_visible()  # 20 s by default: not yet
    page.clock.fast_forward(6_000)
    expect(page.locator("#s-home")).to_be_visible()

    # A tap on the ticket screen goes home too (once the number has been on screen a moment).
    page.get_by_test_id("service-XAYDUNG").click()
    page.get_by_test_id("priority-none").click()
    expect(page.get_by_test_id("ticket-number")).to_be_visible()
    page.clock.fast_forward(2_000)
    page.locator(".ticket-card").click(position={"x": 20, "y": 20})
    expect(page.locator("#s-home")).to_be_visible()


def _simulate_printer(server, fault):
    r = requests.post(server.url + "/api/v1/devices/may-in-ve/simulate", json={"fault": fault},
                      headers={"Authorization": "Bearer " + server.token("admin")}, timeout=5)
    assert r.status_code == 200, r.text


def test_printer_out_of_paper_keeps_the_number_and_qr_on_screen(kiosk_demo, context_factory):
    page = context_factory().new_page()
    page.goto(kiosk_demo.url + "/kiosk")
    expect(page.get_by_test_id("service-HKD")).to_be_visible()
    page.wait_for_function("() => window.MotcuaKiosk && window.MotcuaKiosk.state.printersLoaded")
    # The simulated printer runs out of paper (through its real driver): the kiosk hears it.
    _simulate_printer(kiosk_demo, "paper_out")
    try:
        expect(page.get_by_test_id("printer-banner")).to_be_visible(timeout=10_000)
        expect(page.get_by_test_id("printer-banner")).to_contain_text("Máy in phiếu đang gặp sự cố")
        page.get_by_test_id("service-HKD").click()
        page.get_by_test_id("priority-none").click()
        number = page.get_by_test_id("ticket-number")
        expect(number).to_have_text(re.compile(r"^5\d{3}$"))
        expect(page.get_by_test_id("print-state")).to_contain_text(PRINT_TROUBLE)
        expect(page.get_by_test_id("ticket-qr")).to_be_visible()
        ticket = _ticket_by_qr(page, kiosk_demo)
        assert ticket["number"] == number.inner_text() and ticket["status"] == "waiting"
        # A stray tap does not hide it; only "Xong" does.
        page.locator(".ticket-card").click(position={"x": 20, "y": 20})
        expect(number).to_be_visible()
        page.get_by_test_id("ticket-done").click()
    finally:
        _simulate_printer(kiosk_demo, None)
    expect(page.get_by_test_id("printer-banner")).to_be_hidden(timeout=10_000)
    page.get_by_test_id("service-HKD").click()
    page.get_by_test_id("priority-none").click()
    expect(page.get_by_test_id("print-state")).to_contain_text(re.compile("Đang in phiếu|Mời ông/bà nhận phiếu"))
    expect(page.get_by_test_id("print-state")).not_to_contain_text(PRINT_TROUBLE)


def test_a_print_job_failing_after_issue_switches_the_message(kiosk_demo, context_factory):
    page = context_factory().new_page()
    page.goto(kiosk_demo.url + "/kiosk")
    printers_ready(page)
    page.get_by_test_id("service-HKD").click()
    page.get_by_test_id("priority-none").click()
    number = page.get_by_test_id("ticket-number")
    expect(number).to_have_text(re.compile(r"^5\d{3}$"))
    ticket = _ticket_by_qr(page, kiosk_demo)
    # `print:job` as the registry sends it when a queued job fails later (cable pulled mid-job).
    page.evaluate("""(id) => window.MotcuaKiosk.rt._emit('print:job',
        {job_id: 'job-x', ticket_id: id, state: 'failed', message: 'Máy in mất kết nối'})""", ticket["id"])
    expect(page.get_by_test_id("print-state")).to_contain_text(PRINT_TROUBLE)
    expect(number).to_have_text(ticket["number"])
    expect(page.get_by_test_id("ticket-qr")).to_be_visible()


def test_touch_targets_and_kiosk_hardening(kiosk_demo, context_factory):
    page = context_factory().new_page()
    page.goto(kiosk_demo.url + "/kiosk")
    expect(page.get_by_test_id("service-HOTICH")).to_be_visible()
    assert small_touch_targets(page) == []
    page.get_by_test_id("service-HOTICH").click()
    expect(page.get_by_test_id("priority-none")).to_be_visible()
    assert small_touch_targets(page) == []
    page.get_by_test_id("priority-none").click()
    expect(page.get_by_test_id("ticket-number")).to_be_visible()
    assert small_touch_targets(page) == []
    size = page.evaluate("parseFloat(getComputedStyle(document.querySelector('#t-number')).fontSize)")
    assert size >= 180, size
    page.get_by_test_id("ticket-done").click()
    page.get_by_test_id("go-lookup").click()
    expect(page.get_by_test_id("code-keyboard")).to_be_visible()
    assert small_touch_targets(page) == []
    page.locator("#s-lookup [data-go=home]").click()
    page.get_by_test_id("go-procedures").click()
    page.get_by_test_id("procedure-query").click()
    expect(page.get_by_test_id("procedure-keyboard")).to_be_visible()
    expect(page.locator("#p-list .p-item").first).to_be_visible()
    assert small_touch_targets(page) == []

    hardening = page.evaluate("""() => {
        const ev = new MouseEvent('contextmenu', {bubbles: true, cancelable: true});
        document.body.dispatchEvent(ev);
        const meta = document.querySelector('meta[name=viewport]').content;
        return {menuBlocked: ev.defaultPrevented, select: getComputedStyle(document.body).userSelect,
                touch: getComputedStyle(document.body).touchAction, meta,
                external: Array.from(document.querySelectorAll('script[src],link[href],img[src]'))
                  .map(e => e.src || e.href).filter(u => u && !u.startsWith(location.origin) && !u.startsWith('data:'))};
    }""")
    assert hardening["menuBlocked"] is True
    assert hardening["select"] == "none"
    assert "pinch-zoom" not in hardening["touch"] and hardening["touch"] != "auto"
    assert "user-scalable=no" in hardening["meta"]
    assert hardening["external"] == []


def test_english_switch_relabels_the_screen(kiosk_demo, context_factory):
    page = context_factory().new_page()
    page.goto(kiosk_demo.url + "/kiosk")
    expect(page.locator("#s-home .prompt")).to_contain_text("Xin mời chọn lĩnh vực")
    page.get_by_role("button", name="English").click()
    expect(page.locator("#s-home .prompt")).to_have_text("Please choose a service")
    expect(page.get_by_test_id("go-lookup")).to_contain_text("Check a dossier")
    expect(page.get_by_test_id("service-DATDAI")).to_contain_text(re.compile(r"\d+ waiting"))
    page.get_by_role("button", name="Tiếng Việt").click()
    expect(page.locator("#s-home .prompt")).to_contain_text("Xin mời chọn lĩnh vực")


def test_portrait_1080x1920(kiosk_demo, context_factory):
    page = context_factory(viewport={"width": 1080, "height": 1920}).new_page()
    page.goto(kiosk_demo.url + "/kiosk")
    tiles = page.locator("#services .svc")
    expect(tiles).to_have_count(6)
    assert small_touch_targets(page) == []
    assert page.evaluate("document.documentElement.scrollWidth") <= 1080
    # Two columns of fields, all on screen without scrolling.
    boxes = [tiles.nth(i).bounding_box() for i in range(6)]
    assert len({round(b["x"]) for b in boxes}) == 2
    assert max(b["y"] + b["height"] for b in boxes) <= 1920
    page.get_by_test_id("service-LDTBXH").click()
    page.get_by_test_id("priority-none").click()
    expect(page.get_by_test_id("ticket-number")).to_have_text(re.compile(r"^4\d{3}$"))
    qr = page.get_by_test_id("ticket-qr").bounding_box()
    num = page.get_by_test_id("ticket-number").bounding_box()
    assert qr["y"] + qr["height"] <= 1920 and num["width"] <= 1080
    assert small_touch_targets(page) == []


def test_phone_page_follows_the_ticket(kiosk_demo, context_factory):
    r = requests.post(kiosk_demo.url + "/api/v1/tickets", json={"service": "LDTBXH"}, headers=HEADERS_KIOSK, timeout=5)
    assert r.status_code == 201, r.text
    ticket = r.json()
    phone = context_factory(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True).new_page()
    phone.goto(ticket["url"])
    expect(phone.get_by_test_id("ticket-number")).to_have_text(ticket["number"])
    expect(phone.get_by_test_id("ticket-state")).to_contain_text("Đang chờ đến lượt")
    expect(phone.get_by_test_id("ticket-state")).to_contain_text("Waiting for your turn")
    expect(phone.get_by_test_id("ticket-position")).to_contain_text(re.compile(r"Trước ông/bà còn \d+ người|người tiếp theo"))
    expect(phone.get_by_test_id("ticket-wait")).to_contain_text("Thời gian chờ dự kiến")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390

    staff = {"Authorization": "Bearer " + kiosk_demo.token("quay3")}
    called = None
    for _ in range(50):  # call until this ticket comes up (others may wait before it)
        c = requests.post(kiosk_demo.url + "/api/v1/counters/3/call-next", headers=staff, timeout=5).json()["ticket"]
        assert c is not None
        if c["id"] == ticket["id"]:
            called = c
            break
        requests.post(kiosk_demo.url + "/api/v1/counters/3/finish", headers=staff, timeout=5)
    assert called is not None
    expect(phone.get_by_test_id("ticket-state")).to_contain_text("Đã đến lượt, mời đến quầy số 3")
    expect(phone.get_by_test_id("ticket-state")).to_contain_text("please go to counter 3")
    requests.post(kiosk_demo.url + "/api/v1/counters/3/finish", headers=staff, timeout=5).raise_for_status()
    expect(phone.get_by_test_id("ticket-state")).to_contain_text("Đã hoàn thành")

    missing = requests.get(kiosk_demo.url + "/t/khong-co-phieu-nay", timeout=5)
    assert missing.status_code == 404 and "Không tìm thấy phiếu" in missing.text


def test_phone_page_place_follows_calls_without_the_whole_queue(kiosk_demo, context_factory):
    """The page follows its own ticket: after a call before it, "Trước ông/bà còn N người" goes
    down by one, pushed to its socket as `ticket:update` (never the whole queue state)."""
    import json

    def issue():
        r = requests.post(kiosk_demo.url + "/api/v1/tickets", json={"service": "HOTICH"}, headers=HEADERS_KIOSK,
                          timeout=5)
        assert r.status_code == 201, r.text
        return r.json()

    issue()
    ticket = issue()  # at least one before it
    phone = context_factory(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True).new_page()
    events: list[tuple[str, dict]] = []

    def frame(f):
        if isinstance(f, str) and f.startswith("42["):
            name, *args = json.loads(f[2:])
            events.append((name, args[0] if args else {}))

    phone.on("websocket", lambda ws: ws.on("framereceived", frame))
    phone.goto(ticket["url"])
    position = phone.get_by_test_id("ticket-position")
    expect(position).to_contain_text(re.compile(r"Trước ông/bà còn \d+ người"))
    ahead = int(re.search(r"còn (\d+) người", position.inner_text()).group(1))

    staff = {"Authorization": "Bearer " + kiosk_demo.token("quay1")}
    requests.post(kiosk_demo.url + "/api/v1/counters/1/finish", headers=staff, timeout=5)
    c = requests.post(kiosk_demo.url + "/api/v1/counters/1/call-next", headers=staff, timeout=5).json()["ticket"]
    assert c is not None and c["id"] != ticket["id"]
    if ahead > 1:
        expect(position).to_contain_text(f"Trước ông/bà còn {ahead - 1} người")
        expect(position).to_contain_text(f"People ahead of you: {ahead - 1}")
    else:
        expect(position).to_contain_text("Ông/bà là người tiếp theo")
        expect(position).to_contain_text("You are next")
    assert any(n == "ticket:update" and p.get("id") == ticket["id"] and p.get("ahead") == ahead - 1
               for n, p in events), "the new place came pushed to the page"
    assert "queue:changed" not in {n for n, _ in events}, "a phone page gets its ticket, not the whole queue"
