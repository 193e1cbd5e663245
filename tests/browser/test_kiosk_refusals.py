"""When the kiosk cannot give a number it says why, in plain Vietnamese, large: a field past its
daily cap, an office closed today. Each test runs `motcua serve` with its own small TOML."""
from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import requests
from playwright.sync_api import expect

from test_kiosk_support import small_touch_targets, start_server

TOKEN = "kiosk-test-token-0123456789abcdef"


def office_toml(*, always_open: bool, holidays: list[str] | None = None, idle: int = 20) -> str:
    hol = ", ".join(holidays or [])
    return f"""
[office]
name = "UBND xã Thử Nghiệm"
always_open = {str(always_open).lower()}

[hours]
days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
sessions = [["00:00", "23:59"]]
holidays = [{hol}]

[queue]
priority_enabled = false

[[fields]]
code = "HOTICH"
name = "Hộ tịch"
name_en = "Civil status"
numbering = {{ mode = "block", start = 1001 }}
daily_cap = 1

[[fields]]
code = "DATDAI"
name = "Đất đai"
numbering = {{ mode = "block", start = 2001 }}

[[counters]]
number = 1
fields = ["HOTICH", "DATDAI"]

[[devices]]
name = "kiosk-1"
kind = "kiosk"
token = "{TOKEN}"
options = {{ idle_seconds = {idle} }}
"""


def _serve(request, tmp_path, toml: str):
    path = tmp_path / "office.toml"
    path.write_text(toml, encoding="utf-8")
    return start_server(request.config, tmp_path / "data", args=["serve", "--config", str(path)])


def test_daily_cap_reached_shows_the_vietnamese_message(request, tmp_path, context_factory):
    server = _serve(request, tmp_path, office_toml(always_open=True))
    try:
        page = context_factory().new_page()
        page.goto(f"{server.url}/kiosk?device={TOKEN}")
        civil = page.get_by_test_id("service-HOTICH")
        expect(civil).to_contain_text("Hộ tịch")
        # Priority is switched off in this office: no priority step.
        civil.click()
        expect(page.get_by_test_id("ticket-number")).to_have_text("1001")
        page.get_by_test_id("ticket-done").click()

        civil.click()
        message = page.get_by_test_id("kiosk-message")
        expect(message).to_be_visible()
        expect(message).to_contain_text("Lĩnh vực Hộ tịch đã hết số hôm nay")
        expect(message).to_contain_text("quay lại vào ngày làm việc tiếp theo")
        expect(page.locator("#m-en")).to_contain_text("No more numbers for this service today")
        size = page.evaluate("parseFloat(getComputedStyle(document.querySelector('#m-text')).fontSize)")
        assert size >= 36, f"the refusal must be large, not a toast: {size}px"
        expect(page.get_by_test_id("ticket-number")).to_be_hidden()
        assert small_touch_targets(page) == []
        page.get_by_test_id("message-ok").click()
        expect(page.locator("#s-home")).to_be_visible()

        # The other field still gives numbers.
        page.get_by_test_id("service-DATDAI").click()
        expect(page.get_by_test_id("ticket-number")).to_have_text("2001")
    finally:
        server.stop()


def test_closed_office_says_so_before_and_after_a_tap(request, tmp_path, context_factory):
    today = datetime.now(ZoneInfo("Asia/Ho_Chi_Minh")).date()
    days = [(today + timedelta(days=d)).isoformat() for d in (-1, 0, 1)]
    server = _serve(request, tmp_path, office_toml(always_open=False, holidays=days))
    try:
        office = requests.get(server.url + "/api/v1/office", timeout=5).json()
        assert office["open"]["open"] is False
        page = context_factory().new_page()
        page.goto(f"{server.url}/kiosk?device={TOKEN}")
        banner = page.get_by_test_id("closed-banner")
        expect(banner).to_be_visible()
        expect(banner).to_contain_text("ngày nghỉ lễ")
        page.get_by_test_id("service-DATDAI").click()
        message = page.get_by_test_id("kiosk-message")
        expect(message).to_contain_text(re.compile("ngày nghỉ lễ.*không tiếp nhận"))
        expect(page.get_by_test_id("ticket-number")).to_be_hidden()
        # Lookup and procedures stay available when closed.
        page.get_by_test_id("message-ok").click()
        page.get_by_test_id("go-procedures").click()
        expect(page.locator("#p-list .p-item").first).to_be_visible()
    finally:
        server.stop()
