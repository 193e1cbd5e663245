"""The kiosk, the phone page and the rating tablet as a citizen meets them (issue 13, "Citizens"):
an out-of-service screen when the server is gone, one pickup ticket per dossier, procedure
search that says where it looks, Vietnamese letters on the keyboard, "Lấy số" from a
procedure, no stale list, and words meant for citizens."""
from __future__ import annotations

import re

import requests
from playwright.sync_api import expect

from test_kiosk_support import (  # noqa: F401 - kiosk_demo is a fixture
    HEADERS_KIOSK, import_dossiers, kiosk_demo, root_conftest, start_server, tap_enter, tap_keys,
)

OUT_OF_SERVICE = "Máy tạm ngừng phục vụ, xin mời liên hệ quầy hướng dẫn"
READY = {"ma_ho_so": "000.17.22.H56-251103-0911", "thu_tuc": "Đăng ký khai sinh", "linh_vuc": "Hộ tịch",
         "nguoi_nop": "Trần Thị Minh Anh", "ngay_nhan": "03/11/2025", "ngay_hen_tra": "05/11/2025",
         "trang_thai": "9", "ma_tra_cuu": "K7Q2XA"}


def _centre(page, selector):
    box = page.locator(selector).bounding_box()
    return box["x"] + box["width"] / 2, box["y"] + box["height"] / 2


# Out of service -----------------------------------------------------------------------------
def test_the_kiosk_is_out_of_service_while_the_server_is_gone_and_comes_back_by_itself(
        request, tmp_path, context_factory):
    data = tmp_path / "oos"
    server = start_server(request.config, data)
    port = server.port
    again = None
    try:
        page = context_factory().new_page()
        posts: list[str] = []
        page.on("request", lambda r: posts.append(r.url) if r.method == "POST" else None)
        page.goto(server.url + "/kiosk")
        expect(page.get_by_test_id("service-HOTICH")).to_be_visible()
        page.wait_for_function("() => window.MotcuaKiosk && window.MotcuaKiosk.state.printersLoaded")
        page.evaluate("() => { window.__sameDocument = true; }")
        tile = _centre(page, "[data-testid=service-HOTICH]")
        lookup = _centre(page, "[data-testid=go-lookup]")

        server.stop()
        banner = page.get_by_test_id("out-of-service")
        expect(banner).to_be_visible(timeout=10_000)
        expect(banner).to_contain_text(OUT_OF_SERVICE)
        # Nothing stale or misleading behind it: no printer message, no counts, no live tiles.
        expect(page.get_by_test_id("printer-banner")).to_be_hidden()
        expect(page.locator("#services")).to_be_hidden()
        for x, y in (tile, lookup):
            page.mouse.click(x, y)
            assert page.evaluate("document.body.dataset.screen") == "home"
        expect(page.locator("#s-priority")).to_be_hidden()
        expect(page.locator("#s-lookup")).to_be_hidden()
        assert posts == []

        again = root_conftest(request.config).ServerProcess(data, port=port).start()
        expect(banner).to_be_hidden(timeout=30_000)
        expect(page.get_by_test_id("service-HOTICH")).to_be_visible()
        page.get_by_test_id("service-HOTICH").click()
        page.get_by_test_id("priority-none").click()
        expect(page.get_by_test_id("ticket-number")).to_have_text(re.compile(r"^1\d{3}$"))
        assert page.evaluate("window.__sameDocument === true"), "the page was reloaded"
    finally:
        server.stop()
        if again is not None:
            again.stop()


def test_a_failed_request_puts_the_kiosk_out_of_service_at_once(kiosk_demo, context_factory):
    """The socket may not have noticed yet (a cut cable): the first request that cannot reach
    the server switches the screen over instead of showing an error after the second tap."""
    page = context_factory().new_page()
    page.goto(kiosk_demo.url + "/kiosk")
    expect(page.get_by_test_id("service-HKD")).to_be_visible()
    for path in ("**/api/v1/tickets", "**/api/v1/office"):
        page.route(path, lambda route: route.abort("connectionrefused"))
    page.get_by_test_id("service-HKD").click()
    page.get_by_test_id("priority-none").click()
    expect(page.get_by_test_id("out-of-service")).to_be_visible()
    expect(page.get_by_test_id("out-of-service")).to_contain_text(OUT_OF_SERVICE)
    expect(page.get_by_test_id("kiosk-message")).to_be_hidden()
    # The server answers again: the kiosk checks by itself and comes back.
    for path in ("**/api/v1/tickets", "**/api/v1/office"):
        page.unroute(path)
    expect(page.get_by_test_id("out-of-service")).to_be_hidden(timeout=20_000)
    expect(page.get_by_test_id("service-HKD")).to_be_visible()


# One pickup ticket per dossier ------------------------------------------------------------------
def test_asking_twice_for_a_pickup_ticket_shows_the_first_number(kiosk_demo, context_factory):
    import_dossiers(kiosk_demo, [READY])
    page = context_factory().new_page()
    page.goto(kiosk_demo.url + "/kiosk")

    def take() -> str:
        page.get_by_test_id("go-lookup").click()
        tap_keys(page, "#l-keyboard", READY["ma_ho_so"])
        tap_enter(page, "#l-keyboard")
        page.get_by_test_id("take-result-ticket").click()
        number = page.get_by_test_id("ticket-number")
        expect(number).to_have_text(re.compile(r"^9\d{3}$"))
        return number.inner_text()

    first = take()
    expect(page.get_by_test_id("ticket-already")).to_be_hidden()
    page.get_by_test_id("ticket-done").click()
    second = take()
    assert second == first
    note = page.get_by_test_id("ticket-already")
    expect(note).to_be_visible()
    expect(note).to_contain_text(f"Hồ sơ này đã có số {first}")
    expect(page.get_by_test_id("ticket-dossier")).to_contain_text(READY["ma_ho_so"])
    expect(page.get_by_test_id("print-state")).not_to_contain_text("Đang in phiếu")


# Procedures -------------------------------------------------------------------------------------
def _open_procedures(page, server):
    page.goto(server.url + "/kiosk")
    page.get_by_test_id("go-procedures").click()
    expect(page.locator("#p-list .p-item").first).to_be_visible()


def test_a_search_inside_a_field_says_so_and_offers_every_field(kiosk_demo, context_factory):
    page = context_factory().new_page()
    _open_procedures(page, kiosk_demo)
    page.get_by_test_id("procedure-field-DATDAI").click()
    page.get_by_test_id("procedure-query").click()
    tap_keys(page, "#p-keyboard", "dang ky khai sinh")
    scope = page.get_by_test_id("procedure-scope")
    expect(scope).to_contain_text("Đang tìm trong lĩnh vực Đất đai")
    expect(page.locator("#p-list")).to_contain_text("Không tìm thấy thủ tục phù hợp trong lĩnh vực Đất đai")
    everywhere = page.get_by_test_id("procedure-search-all")
    expect(everywhere).to_contain_text("Tìm trong tất cả lĩnh vực")
    everywhere.click()
    expect(page.locator("#p-list .p-item").first.locator(".p-name")).to_have_text("Đăng ký khai sinh")
    expect(page.get_by_test_id("procedure-field-ALL")).to_have_attribute("aria-selected", "true")
    expect(scope).to_contain_text("Đang tìm trong tất cả lĩnh vực")
    expect(page.get_by_test_id("procedure-query")).to_have_text("dang ky khai sinh")


def test_the_keyboard_types_vietnamese_letters_and_tones(kiosk_demo, context_factory):
    page = context_factory().new_page()
    _open_procedures(page, kiosk_demo)
    page.get_by_test_id("procedure-query").click()
    kb = "#p-keyboard"
    for ch in ("Đ", "Ă", "Ơ", "Ư", "Ê", "Ô", "Â"):
        expect(page.locator(f"{kb} [data-key='{ch}']")).to_be_visible()

    def tone(name):
        page.locator(f"{kb} [data-key='TONE:{name}']").click()

    tap_keys(page, kb, "ĐĂNG KY")
    tone("sac")
    tap_keys(page, kb, " KHAI SINH")
    expect(page.get_by_test_id("procedure-query")).to_have_text("đăng ký khai sinh")
    expect(page.locator("#p-list .p-item").first.locator(".p-name")).to_have_text("Đăng ký khai sinh")
    # A tone goes where Vietnamese puts it, and a second tone replaces the first.
    placed = page.evaluate("""() => { const f = window.KioskKeyboard.toneOf;
        return [f('hoang', 'huyen'), f('ngươi', 'huyen'), f('quy', 'sac'), f('gia', 'sac'), f('mua', 'sac'),
                f('hoa', 'huyen'), f('thuê', 'nga'), f('ký', 'nang'), f('k', 'sac'), f('khai ', 'hoi')]; }""")
    assert placed == ["hoàng", "người", "quý", "giá", "múa", "hòa", "thuễ", "kỵ", "k", "khai "]


def test_take_a_number_from_a_procedure_page(kiosk_demo, context_factory):
    page = context_factory(viewport={"width": 1080, "height": 1920}).new_page()
    _open_procedures(page, kiosk_demo)
    page.locator("#p-list .p-item", has_text="Đăng ký khai sinh").first.click()
    take = page.get_by_test_id("procedure-take-ticket")
    expect(take).to_contain_text("Lấy số thứ tự")
    expect(take).to_contain_text("Hộ tịch - Chứng thực")
    take.click()
    page.get_by_test_id("priority-none").click()
    expect(page.get_by_test_id("ticket-number")).to_have_text(re.compile(r"^1\d{3}$"))
    expect(page.get_by_test_id("ticket-service")).to_have_text("Hộ tịch - Chứng thực")
    # A procedure of a catalogue field the office serves under another name (Chứng thực).
    found = requests.get(kiosk_demo.url + "/api/v1/procedures?q=chung%20thuc%20ban%20sao&limit=1", timeout=5).json()
    proc = requests.get(f"{kiosk_demo.url}/api/v1/procedures/{found[0]['code']}", timeout=5).json()
    assert proc["field_code"] == "CHUNGTHUC" and proc["ticket_service"]["code"] == "HOTICH"


def test_a_late_answer_never_puts_another_fields_procedures_on_screen(kiosk_demo, context_factory):
    page = context_factory().new_page()
    # Note each JSON answer the page has read, one task after reading it (so the page's own
    # handling of that answer has run by then).
    page.add_init_script("""(() => { const json = Response.prototype.json; window.__read = [];
        Response.prototype.json = function () { const url = this.url, p = json.call(this);
            p.finally(() => setTimeout(() => { window.__read.push(url); }, 0)); return p; }; })()""")
    held = []

    def hold_the_full_list(route):
        url = route.request.url
        if "field=" not in url and "q=" not in url and not held:
            held.append(route)  # answered later, after the field's list
        else:
            route.continue_()

    page.route(re.compile(r".*/api/v1/procedures\?.*"), hold_the_full_list)
    page.goto(kiosk_demo.url + "/kiosk")
    page.get_by_test_id("go-procedures").click()
    expect(page.get_by_test_id("procedure-field-DATDAI")).to_be_visible()
    assert held, "the full list was asked for"
    stale_url = held[0].request.url
    page.get_by_test_id("procedure-field-DATDAI").click()
    items = page.locator("#p-list .p-item")
    expect(items.first).to_be_visible()
    held[0].continue_()
    page.wait_for_function("(u) => window.__read.includes(u)", arg=stale_url)
    metas = items.locator(".p-meta").all_inner_texts()
    assert metas and all(m.startswith("Đất đai") for m in metas), metas
    expect(page.get_by_test_id("procedure-field-DATDAI")).to_have_attribute("aria-selected", "true")


# Words for citizens -------------------------------------------------------------------------------
def test_a_badly_typed_code_is_explained_without_a_pattern(kiosk_demo, context_factory):
    page = context_factory().new_page()
    page.goto(kiosk_demo.url + "/kiosk")
    page.get_by_test_id("go-lookup").click()
    tap_keys(page, "#l-keyboard", "ABC")
    tap_enter(page, "#l-keyboard")
    error = page.get_by_test_id("lookup-error")
    expect(error).to_be_visible()
    expect(error).to_contain_text("Giấy tiếp nhận hồ sơ")
    text = error.inner_text()
    for developer in ("yymmdd", "<", ">", "‹", "mã cơ quan"):
        assert developer not in text, text


def test_counters_read_one_or_the_other_on_the_kiosk_and_the_phone(kiosk_demo, context_factory):
    page = context_factory().new_page()
    page.goto(kiosk_demo.url + "/kiosk")
    page.get_by_test_id("service-HOTICH").click()
    page.get_by_test_id("priority-none").click()
    counters = page.get_by_test_id("ticket-counters")
    expect(counters).to_contain_text("Mời đến quầy số 1 hoặc 4 khi được gọi")
    expect(counters).to_contain_text("counter 1 or 4")
    expect(counters).not_to_contain_text("1, 4")

    r = requests.post(kiosk_demo.url + "/api/v1/tickets", json={"service": "HOTICH"}, headers=HEADERS_KIOSK, timeout=5)
    phone = context_factory(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True).new_page()
    phone.goto(r.json()["url"])
    expect(phone.locator(".ph-counters")).to_contain_text("1 hoặc 4")
    expect(phone.locator("body")).not_to_contain_text("1, 4")
    office = phone.locator(".topbar .office")
    expect(office).to_have_text("Trung tâm Phục vụ hành chính công phường Hòa Bình")
    assert "TTPVHCC" not in phone.locator("body").inner_text()
    assert "TTPVHCC" not in phone.title()
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390


def test_the_rating_tablet_speaks_to_staff_without_addresses_or_tokens(kiosk_demo, context_factory):
    plain = context_factory().new_page()
    plain.goto(kiosk_demo.url + "/rate/3")
    setup = plain.get_by_test_id("rate-setup")
    expect(setup).to_contain_text("Chưa có mã thiết bị")
    expect(setup).to_contain_text("quầy 3")
    wrong = context_factory().new_page()
    wrong.goto(kiosk_demo.url + "/rate/3?device=khong-phai-ma-cua-thiet-bi-nao")
    expect(wrong.get_by_test_id("rate-setup")).to_contain_text("cán bộ phụ trách")
    for page in (plain, wrong):
        text = page.get_by_test_id("rate-setup").inner_text()
        for developer in ("/rate", "?device", "<", "token", "Token", "tệp cấu hình", "\"rating\"", "http",
                          "đăng nhập"):
            assert developer not in text, text
