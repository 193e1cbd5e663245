"""Dossier lookup at the kiosk ("Tra cứu hồ sơ"): the code typed on the on-screen keyboard or
read by a keyboard-wedge scanner or the camera; the name masked until the mã tra cứu is given;
wrong secrets throttled; a ready result gives a "Trả kết quả" ticket linked to the dossier."""
from __future__ import annotations

import re

import pytest
import requests
from playwright.sync_api import expect

from test_kiosk_support import (  # noqa: F401 - kiosk_demo is a fixture
    import_dossiers, kiosk_demo, small_touch_targets, tap_enter, tap_keys, token_from_qr_src, wedge_scan,
)

READY = {"ma_ho_so": "000.17.22.H56-251103-0901", "thu_tuc": "Đăng ký khai sinh", "linh_vuc": "Hộ tịch",
         "nguoi_nop": "Trần Thị Minh Anh", "ngay_nhan": "03/11/2025", "ngay_hen_tra": "05/11/2025",
         "trang_thai": "9", "ma_tra_cuu": "K7Q2XA"}
PROCESSING = {"ma_ho_so": "000.17.22.H56-251103-0902", "thu_tuc": "Chứng thực bản sao từ bản chính",
              "linh_vuc": "Chứng thực", "nguoi_nop": "Lê Văn Bình", "ngay_nhan": "03/11/2025",
              "ngay_hen_tra": "04/11/2025", "trang_thai": "4", "ma_tra_cuu": "ZX81PQ"}
SCANNED = {"ma_ho_so": "000.17.22.H56-251103-0903", "thu_tuc": "Đăng ký kết hôn", "linh_vuc": "Hộ tịch",
           "nguoi_nop": "Phạm Quốc Cường", "ngay_nhan": "03/11/2025", "ngay_hen_tra": "10/11/2025",
           "trang_thai": "2", "ma_tra_cuu": "M3N4P5"}


@pytest.fixture(scope="module")
def lookup_server(kiosk_demo):
    import_dossiers(kiosk_demo, [READY, PROCESSING, SCANNED])
    return kiosk_demo


def _open_lookup(page, server):
    page.goto(server.url + "/kiosk")
    page.get_by_test_id("go-lookup").click()
    expect(page.get_by_test_id("code-keyboard")).to_be_visible()


def test_typed_code_shows_status_masked_name_then_full_name(lookup_server, context_factory):
    page = context_factory().new_page()
    _open_lookup(page, lookup_server)
    tap_keys(page, "#l-keyboard", READY["ma_ho_so"])
    expect(page.get_by_test_id("code-input")).to_have_text(READY["ma_ho_so"])
    tap_enter(page, "#l-keyboard")

    expect(page.get_by_test_id("dossier-code")).to_have_text(READY["ma_ho_so"])
    expect(page.get_by_test_id("dossier-status")).to_contain_text("Đã xử lý xong")
    expect(page.get_by_test_id("dossier-procedure")).to_have_text("Đăng ký khai sinh")
    expect(page.get_by_test_id("dossier-due")).to_have_text("05/11/2025")
    expect(page.get_by_test_id("dossier-next")).not_to_be_empty()
    applicant = page.get_by_test_id("dossier-applicant")
    expect(applicant).to_have_text("Trần T. M. A.")
    assert "Minh Anh" not in page.locator("#s-dossier").inner_text()
    assert small_touch_targets(page) == []

    page.get_by_test_id("verify-open").click()
    tap_keys(page, "#v-keyboard", "ZZZ9")
    expect(page.get_by_test_id("secret-input")).to_have_text("•••9")
    tap_enter(page, "#v-keyboard")
    expect(page.get_by_test_id("verify-error")).to_contain_text("không đúng")
    expect(page.get_by_test_id("verify-error")).to_contain_text(re.compile(r"còn \d lần thử"))

    tap_keys(page, "#v-keyboard", READY["ma_tra_cuu"])
    tap_enter(page, "#v-keyboard")
    expect(applicant).to_have_text("Trần Thị Minh Anh")
    expect(page.get_by_test_id("dossier-privacy")).to_contain_text("Đã xác thực")
    expect(page.get_by_test_id("verify-open")).to_be_hidden()

    # The next citizen does not see it: home, then the same code shows the masked name again.
    page.locator("#s-dossier [data-go=home]").click()
    assert "Minh Anh" not in page.locator("#screens").inner_text()
    page.get_by_test_id("go-lookup").click()
    tap_keys(page, "#l-keyboard", READY["ma_ho_so"])
    tap_enter(page, "#l-keyboard")
    expect(applicant).to_have_text("Trần T. M. A.")


def test_ready_result_takes_a_results_ticket_linked_to_the_dossier(lookup_server, context_factory):
    page = context_factory().new_page()
    _open_lookup(page, lookup_server)
    tap_keys(page, "#l-keyboard", READY["ma_ho_so"])
    tap_enter(page, "#l-keyboard")
    take = page.get_by_test_id("take-result-ticket")
    expect(take).to_have_text("Lấy số nhận kết quả")
    take.click()
    expect(page.get_by_test_id("ticket-number")).to_have_text(re.compile(r"^9\d{3}$"))
    expect(page.get_by_test_id("ticket-service")).to_have_text("Trả kết quả")
    expect(page.get_by_test_id("ticket-dossier")).to_contain_text(READY["ma_ho_so"])
    expect(page.get_by_test_id("ticket-counters")).to_contain_text("quầy số 4")
    token = token_from_qr_src(page.get_by_test_id("ticket-qr").get_attribute("src"))
    t = requests.get(f"{lookup_server.url}/api/v1/tickets/by-token/{token}", timeout=5).json()
    assert t["service"] == "TRAKQ" and t["dossier_code"] == READY["ma_ho_so"]

    # A dossier still in progress offers no such button.
    page.get_by_test_id("ticket-done").click()
    page.get_by_test_id("go-lookup").click()
    tap_keys(page, "#l-keyboard", PROCESSING["ma_ho_so"])
    tap_enter(page, "#l-keyboard")
    expect(page.get_by_test_id("dossier-status")).to_contain_text("Đang xử lý")
    expect(page.get_by_test_id("dossier-timeliness")).to_contain_text("Trễ hạn")
    expect(take).to_be_hidden()


def test_wrong_secrets_are_limited_and_the_429_message_is_shown(lookup_server, context_factory):
    page = context_factory().new_page()
    _open_lookup(page, lookup_server)
    tap_keys(page, "#l-keyboard", PROCESSING["ma_ho_so"])
    tap_enter(page, "#l-keyboard")
    page.get_by_test_id("verify-open").click()
    error = page.get_by_test_id("verify-error")
    for i in range(8):
        tap_keys(page, "#v-keyboard", f"00{i}0")
        tap_enter(page, "#v-keyboard")
        expect(error).to_be_visible()
        if "quá nhiều lần" in error.inner_text():
            break
    expect(error).to_contain_text("Ông/bà đã nhập sai mã tra cứu quá nhiều lần")
    expect(error).to_have_class(re.compile("throttled"))
    # Even the right secret is refused now.
    tap_keys(page, "#v-keyboard", PROCESSING["ma_tra_cuu"])
    tap_enter(page, "#v-keyboard")
    expect(error).to_contain_text("quá nhiều lần")
    expect(page.get_by_test_id("dossier-applicant")).not_to_contain_text("Lê Văn Bình")


def test_unknown_code_says_so_on_the_lookup_screen(lookup_server, context_factory):
    page = context_factory().new_page()
    _open_lookup(page, lookup_server)
    tap_keys(page, "#l-keyboard", "000.17.22.H56-251103-0999")
    tap_enter(page, "#l-keyboard")
    expect(page.get_by_test_id("lookup-error")).to_contain_text("Không tìm thấy hồ sơ")
    expect(page.locator("#s-lookup")).to_be_visible()


def test_keyboard_wedge_scan_opens_the_dossier_from_any_screen(lookup_server, context_factory):
    page = context_factory().new_page()
    page.goto(lookup_server.url + "/kiosk")
    expect(page.get_by_test_id("service-HOTICH")).to_be_visible()
    # A person typing slowly on a keyboard is not a scan.
    page.keyboard.type("ABCDEF", delay=120)
    page.keyboard.press("Enter")
    page.wait_for_timeout(300)
    expect(page.locator("#s-home")).to_be_visible()

    gap = wedge_scan(page, SCANNED["ma_ho_so"])
    expect(page.get_by_test_id("dossier-code"), f"largest key gap {gap:.0f} ms").to_have_text(SCANNED["ma_ho_so"])
    expect(page.get_by_test_id("dossier-status")).to_contain_text("Được tiếp nhận")
    expect(page.get_by_test_id("dossier-applicant")).to_have_text("Phạm Q. C.")

    # From the procedure screen, a QR holding a lookup URL.
    page.locator("#s-dossier [data-go=home]").click()
    page.get_by_test_id("go-procedures").click()
    gap = wedge_scan(page, f"https://dichvucong.example.vn/tra-cuu?MHS={READY['ma_ho_so']}")
    expect(page.get_by_test_id("dossier-code"), f"largest key gap {gap:.0f} ms").to_have_text(READY["ma_ho_so"])


def test_camera_scan_event_shows_the_dossier(lookup_server, context_factory):
    page = context_factory().new_page()
    page.goto(lookup_server.url + "/kiosk")
    page.get_by_test_id("go-procedures").click()
    public = requests.get(f"{lookup_server.url}/api/v1/dossiers/{SCANNED['ma_ho_so']}", timeout=5).json()
    # `kiosk:scan` as the device registry sends it when the camera reads a code.
    page.evaluate("(d) => window.MotcuaKiosk.rt._emit('kiosk:scan', {code: d.code, dossier: d})", public)
    expect(page.get_by_test_id("dossier-code")).to_have_text(SCANNED["ma_ho_so"])
    page.evaluate("() => window.MotcuaKiosk.rt._emit('kiosk:scan', {code: '000.17.22.H56-251103-0998', dossier: null})")
    expect(page.get_by_test_id("lookup-error")).to_contain_text("Không tìm thấy hồ sơ có mã 000.17.22.H56-251103-0998")


def test_camera_reads_a_receipt_barcode_and_the_kiosk_shows_the_dossier(lookup_server, context_factory, tmp_path):
    """The demo camera (a folder of frames) reads a Code128 receipt: the kiosk opens the dossier."""
    import time

    from barcode_images import code128_frame, save_image

    page = context_factory().new_page()
    page.goto(lookup_server.url + "/kiosk")
    expect(page.get_by_test_id("service-HOTICH")).to_be_visible()
    page.wait_for_function("() => window.MotcuaKiosk && window.MotcuaKiosk.state.printersLoaded")
    frame = save_image(code128_frame(SCANNED["ma_ho_so"], (1280, 720)), tmp_path / "receipt.png")
    camera = lookup_server.data_dir / "camera"
    camera.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    frame.replace(camera / "receipt.png")  # appears whole, as a camera frame does
    expect(page.get_by_test_id("dossier-code")).to_have_text(SCANNED["ma_ho_so"], timeout=10_000)
    elapsed = time.monotonic() - started
    expect(page.get_by_test_id("dossier-applicant")).to_have_text("Phạm Q. C.")
    print(f"camera frame to dossier on the kiosk: {elapsed * 1000:.0f} ms")


def test_wedge_detector_tells_a_scanner_from_a_person(lookup_server, context_factory):
    page = context_factory().new_page()
    page.goto(lookup_server.url + "/kiosk")
    result = page.evaluate("""() => {
        const W = window.KioskWedge.WedgeDetector;
        const run = (text, gap, enterGap) => {
            const d = new W({maxGapMs: 50, minChars: 4});
            let t = 1000, out = null;
            for (const ch of text) { out = d.feed(ch, t) || out; t += gap; }
            return d.feed('Enter', t - gap + enterGap);
        };
        return {scanner: run('000.17.22.H56-210531-0001', 8, 10), person: run('ABCDEF', 140, 100),
                tooShort: run('AB', 5, 5), slowEnter: run('ABCDEFG', 5, 900),
                burstAfterPause: (() => { const d = new W({maxGapMs: 50, minChars: 4});
                    d.feed('X', 0); d.feed('Y', 500);  // typed by hand, then a scan starts
                    ['C','O','D','E','1'].forEach((c, i) => d.feed(c, 2000 + i * 5));
                    return d.feed('Enter', 2030); })()};
    }""")
    assert result == {"scanner": "000.17.22.H56-210531-0001", "person": None, "tooShort": None,
                      "slowEnter": None, "burstAfterPause": "CODE1"}
