"""Issue 15, acceptance: book on the booking page (a phone, 390x844), check in at the kiosk by
dropping the booking's QR into the simulated camera, get a ticket that is called ahead of
walk-ins at the slot time, and cancel another booking by its code. The demo office is open
at any hour, so the slot of "now" can be booked and checked in at once."""
from __future__ import annotations

import os
import re

import pytest
import requests
from playwright.sync_api import expect

from console_support import sign_in
from test_kiosk_support import kiosk_demo, staff_headers  # noqa: F401 - kiosk_demo is a fixture

pytestmark = pytest.mark.slow
PHONE = {"width": 390, "height": 844}


def _book_on_the_page(page, server, name: str, phone: str) -> str:
    page.goto(server.url + "/dat-lich")
    page.get_by_test_id("field-HOTICH").click()
    page.locator("#days .bk-choice:not([disabled])").first.click()
    page.locator("#slots .bk-choice:not([disabled])").first.click()
    page.get_by_test_id("booking-name").fill(name)
    page.get_by_test_id("booking-phone").fill(phone)
    page.get_by_test_id("booking-submit").click()
    expect(page.get_by_test_id("booking-title")).to_contain_text("Đã đặt lịch hẹn")
    code = page.get_by_test_id("booking-code").inner_text().strip()
    assert len(code) == 9 and code[4] == "-"
    expect(page.get_by_test_id("booking-name-masked")).not_to_contain_text(name.split()[-1])
    expect(page.get_by_test_id("booking-qr")).to_have_attribute("src", f"/dat-lich/{code.replace('-', '')}/qr.svg")
    return code


def test_book_check_in_with_the_camera_called_ahead_and_cancel_another(kiosk_demo, context_factory, tmp_path):
    from barcode_images import qr_frame, save_image

    server = kiosk_demo
    phone = context_factory(viewport=PHONE, is_mobile=True, has_touch=True).new_page()
    mine = _book_on_the_page(phone, server, "Nguyễn Văn An", "0912345678")
    other = _book_on_the_page(phone, server, "Trần Thị Bích", "0987654321")
    shots = os.environ.get("MOTCUA_SCREENSHOTS")
    if shots:
        phone.screenshot(path=f"{shots}/booking-390x844.png", full_page=True)

    # Three citizens walk in before the booked one arrives.
    walk_ins = [requests.post(server.url + "/api/v1/tickets", json={"service": "HOTICH"}, timeout=10).json()["number"]
                for _ in range(3)]

    kiosk = context_factory(viewport={"width": 1080, "height": 1920}).new_page()
    kiosk.goto(server.url + "/kiosk")
    expect(kiosk.get_by_test_id("go-checkin")).to_be_visible()
    kiosk.wait_for_function("() => window.MotcuaKiosk && window.MotcuaKiosk.state.printersLoaded")
    frame = save_image(qr_frame(f"{server.url}/dat-lich/{mine.replace('-', '')}", (1280, 720)), tmp_path / "qr.png")
    camera = server.data_dir / "camera"
    camera.mkdir(parents=True, exist_ok=True)
    frame.replace(camera / "booking.png")  # appears whole, as a camera frame does
    number = kiosk.get_by_test_id("ticket-number")
    expect(number).to_have_text(re.compile(r"^\d{4}$"), timeout=10_000)
    expect(kiosk.get_by_test_id("ticket-booking")).to_contain_text("được gọi ưu tiên")
    booked_number = number.inner_text().strip()
    assert booked_number not in walk_ins
    # Called ahead of the walk-ins: none of them counts as "ahead" of the booked citizen.
    expect(kiosk.get_by_test_id("ticket-ahead")).to_contain_text("Ông/bà là người tiếp theo")
    if shots:
        kiosk.screenshot(path=f"{shots}/kiosk-checkin-1080x1920.png")

    # Counter 1 calls: the booked citizen (slot begun) before the three walk-ins.
    staff = staff_headers(server, "quay1")
    r = requests.post(server.url + "/api/v1/counters/1/call-next", headers=staff, timeout=10)
    assert r.status_code == 200, r.text
    assert r.json()["ticket"]["number"] == booked_number

    # The other booking is cancelled with its code on the booking page.
    phone.get_by_test_id("tab-manage").click()
    phone.get_by_test_id("manage-code").fill(other)
    phone.get_by_test_id("manage-find").click()
    expect(phone.get_by_test_id("booking-code")).to_have_text(other)
    phone.get_by_test_id("booking-cancel").click()
    phone.get_by_test_id("booking-cancel-yes").click()
    expect(phone.get_by_test_id("booking-status")).to_have_text("Đã hủy")
    assert requests.get(f"{server.url}/api/v1/appointments/{other}", timeout=10).json()["status"] == "cancelled"


def _first_choice(page, select_id: str) -> str:
    """The value of the first option that can be chosen, once the list has loaded."""
    first = page.locator(f"#{select_id} option:not([disabled])").first
    expect(first).to_be_attached()
    return first.get_attribute("value") or ""


def test_staff_book_for_a_citizen_at_the_console_and_see_the_days_bookings(kiosk_demo, context_factory):
    server = kiosk_demo
    console = sign_in(context_factory, server.url, "quay1", 1)
    console.set_viewport_size({"width": 1366, "height": 768})
    console.get_by_test_id("console-book").click()
    dialog = console.get_by_test_id("book-dialog")
    expect(dialog).to_be_visible()
    expect(console.get_by_test_id("book-field")).to_have_value("HOTICH")  # counter 1's field first
    console.get_by_test_id("book-day").select_option(_first_choice(console, "bk-day"))
    console.get_by_test_id("book-slot").select_option(_first_choice(console, "bk-slot"))
    console.get_by_test_id("book-name").fill("Lê Văn Cường")
    console.get_by_test_id("book-phone").fill("0911222333")
    console.get_by_test_id("book-go").click()
    expect(console.get_by_test_id("book-msg")).to_contain_text("Đã đặt lịch")
    code = console.get_by_test_id("book-code").inner_text().strip()
    expect(console.get_by_test_id("book-msg")).to_contain_text("Lê V. C.")  # masked on screen too
    shots = os.environ.get("MOTCUA_SCREENSHOTS")
    if shots:
        console.screenshot(path=f"{shots}/console-book-1366x768.png")
    booking = requests.get(f"{server.url}/api/v1/appointments/{code}", timeout=10).json()
    assert booking["source"] == "counter" and booking["field"] == "HOTICH"

    console.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    link = console.get_by_test_id("console-bookings-today")
    expect(link).to_have_attribute("href", "/dat-lich/hom-nay")
    today = console.context.new_page()  # the same signed-in browser
    today.set_viewport_size({"width": 1366, "height": 768})
    today.goto(server.url + "/dat-lich/hom-nay")
    expect(today.get_by_test_id("day-rows")).to_contain_text(code)  # open all day: the first day is today
    expect(today.get_by_test_id("day-counts")).to_contain_text("Đã đặt")
