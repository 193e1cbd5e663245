"""The first screens work in a real browser: take a ticket at /kiosk, call it at /counter, see it on /display."""
from __future__ import annotations

import re

from playwright.sync_api import expect
from console_support import sign_in  # noqa: E402


def test_kiosk_counter_display_round_trip(server, context_factory):
    display = context_factory().new_page()
    display.goto(server.url + "/display")
    expect(display.locator("#counters tbody tr")).to_have_count(4)

    kiosk = context_factory().new_page()
    kiosk.goto(server.url + "/kiosk")
    kiosk.get_by_role("button", name=re.compile("Đất đai")).click()
    kiosk.get_by_test_id("priority-none").click()
    expect(kiosk.get_by_test_id("ticket-number")).to_have_text("2001")

    counter = sign_in(context_factory, server.url, "quay2", 2)
    counter.locator("#b-next").click()
    expect(counter.get_by_test_id("current-number")).to_have_text("2001")
    expect(display.get_by_test_id("latest-number")).to_have_text("2001", timeout=10_000)
    expect(display.locator("#announce-log li")).to_have_count(1)


def test_wrong_password_shows_a_vietnamese_message(server, page):
    page.goto(server.url + "/counter")
    page.fill("input[name=username]", "quay1")
    page.fill("input[name=password]", "sai-mat-khau")
    page.click("button[type=submit]")
    expect(page.locator("#login-error")).to_contain_text("không đúng")
