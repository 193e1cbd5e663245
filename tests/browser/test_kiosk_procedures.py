"""The procedure catalogue at the kiosk ("Thủ tục hành chính"): search typed without accents on
the on-screen keyboard, browse by field, read the papers to bring, print the checklist."""
from __future__ import annotations

import re

from playwright.sync_api import expect

from test_kiosk_support import kiosk_demo, small_touch_targets, tap_keys  # noqa: F401 - fixture


def test_search_without_accents_finds_the_procedure_and_shows_its_papers(kiosk_demo, context_factory):
    page = context_factory().new_page()
    page.goto(kiosk_demo.url + "/kiosk")
    page.get_by_test_id("go-procedures").click()
    expect(page.locator("#p-list .p-item").first).to_be_visible()
    page.get_by_test_id("procedure-query").click()
    tap_keys(page, "#p-keyboard", "dang ky khai sinh")
    expect(page.get_by_test_id("procedure-query")).to_have_text("dang ky khai sinh")
    first = page.locator("#p-list .p-item").first
    expect(first.locator(".p-name")).to_have_text("Đăng ký khai sinh")
    first.click()

    expect(page.get_by_test_id("procedure-name")).to_have_text("Đăng ký khai sinh")
    docs = page.get_by_test_id("procedure-documents")
    expect(docs).to_contain_text("Tờ khai đăng ký khai sinh")
    expect(docs).to_contain_text("Giấy chứng sinh")
    expect(docs.locator("thead")).to_contain_text("Bản chính")
    expect(docs.locator("thead")).to_contain_text("Bản sao")
    form_row = docs.locator("tbody tr", has_text="Tờ khai đăng ký khai sinh")
    expect(form_row.locator("td.count").first).to_have_text("1")
    expect(docs).to_contain_text("Xuất trình")
    expect(page.get_by_test_id("procedure-time")).to_contain_text("Ngay trong ngày")
    expect(page.get_by_test_id("procedure-fees")).to_contain_text("lệ phí")
    expect(page.get_by_test_id("procedure-where")).to_contain_text("Bộ phận Một cửa")
    expect(page.get_by_test_id("procedure-online")).to_contain_text("trực tuyến")
    assert small_touch_targets(page) == []

    # Print the checklist: queued on the ticket printer, or a plain message when there is none.
    page.get_by_test_id("procedure-print").click()
    state = page.get_by_test_id("procedure-print-state")
    expect(state).to_be_visible()
    expect(state).to_contain_text(re.compile("Đã gửi lệnh in|Chưa có máy in|Máy in đang gặp sự cố"))
    expect(state).not_to_contain_text("Đang gửi lệnh in")


def test_browse_by_field(kiosk_demo, context_factory):
    page = context_factory(viewport={"width": 1080, "height": 1920}).new_page()
    page.goto(kiosk_demo.url + "/kiosk")
    page.get_by_test_id("go-procedures").click()
    land = page.get_by_test_id("procedure-field-DATDAI")
    expect(land).to_contain_text("Đất đai")
    land.click()
    expect(land).to_have_attribute("aria-selected", "true")
    items = page.locator("#p-list .p-item")
    expect(items.first).to_be_visible()
    for meta in items.locator(".p-meta").all_inner_texts():
        assert meta.startswith("Đất đai"), meta
    assert small_touch_targets(page) == []
    # A search with nothing to find says so plainly.
    page.get_by_test_id("procedure-query").click()
    tap_keys(page, "#p-keyboard", "qqqzzz")
    expect(page.locator("#p-list")).to_contain_text("Không tìm thấy thủ tục phù hợp")
