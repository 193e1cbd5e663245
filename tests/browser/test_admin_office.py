"""Issue 12, acceptance (Administration): an administrator signs in, adds a field and a counter
serving it; the kiosk already open shows the new field without a reload; a ticket in it is
called at the new counter and shows on the open TV; the audit log page lists both changes with
before/after; the exported office file passes `motcua check-config` and, restored on a fresh
data folder (a second server), gives the same office. Staff cannot open /admin (403),
anonymous gets the sign-in page."""
from __future__ import annotations

import re
import subprocess
import sys

import pytest
import requests
from playwright.sync_api import expect

from console_support import sign_in
from helpers import KIOSK_TOKEN, ROOT, ServerProcess

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    s = ServerProcess(tmp_path_factory.mktemp("admin") / "data").start()
    yield s
    s.stop()


def _admin_page(context_factory, url: str, **ctx):
    page = context_factory(**ctx).new_page()
    page.goto(url + "/admin")
    expect(page.get_by_role("heading", name=re.compile("Đăng nhập quản trị"))).to_be_visible()
    page.fill("input[name=username]", "admin")
    page.fill("input[name=password]", "motcua-demo")
    page.click("button[type=submit]")
    expect(page).to_have_url(re.compile(r"/admin$"))
    expect(page.get_by_role("heading", name="Tổng quan")).to_be_visible()
    return page


def test_an_administrator_adds_a_field_and_a_counter_live(srv, context_factory, tmp_path):
    kiosk = context_factory(viewport={"width": 1080, "height": 1920}).new_page()
    kiosk.goto(srv.url + "/kiosk")
    expect(kiosk.get_by_test_id("service-HOTICH")).to_be_visible()
    tv = context_factory().new_page()
    tv.goto(srv.url + "/display")
    expect(tv.get_by_test_id("latest-number")).to_be_visible()
    console = sign_in(context_factory, srv.url, "quay1", 1)  # its transfer choices follow the office
    expect(console.locator("#t-fields [data-field=HOTICH]")).to_have_count(1)

    admin = _admin_page(context_factory, srv.url, viewport={"width": 1366, "height": 768})
    admin.get_by_test_id("menu-fields").click()
    form = admin.locator("#field-form")
    form.locator("input[name=code]").fill("CUTRU")
    form.locator("input[name=name]").fill("Cư trú")
    form.locator("input[name=name_en]").fill("Residence")
    form.locator("select[name=mode]").select_option("prefix")
    form.locator("input[name=prefix]").fill("R")
    form.locator("input[name=daily_cap]").fill("200")
    form.get_by_role("button", name="Thêm lĩnh vực").click()
    expect(admin.locator("#admin-msg")).to_contain_text("Đã thêm lĩnh vực Cư trú")
    expect(admin.locator("#fields tr[data-code=CUTRU]")).to_contain_text("Chưa có quầy")

    # The kiosk, open all along, shows the new field without a reload.
    expect(kiosk.get_by_test_id("service-CUTRU")).to_be_visible(timeout=15_000)
    expect(kiosk.get_by_test_id("service-CUTRU")).to_contain_text("Cư trú")

    admin.get_by_test_id("menu-counters").click()
    form = admin.locator("#counter-form")
    form.locator("input[name=number]").fill("9")
    form.locator("input[name=name]").fill("Quầy 9 - Cư trú")
    form.locator("input[name=fields]").fill("CUTRU")
    form.get_by_role("button", name="Thêm quầy").click()
    expect(admin.locator("#admin-msg")).to_contain_text("Đã thêm quầy Quầy 9 - Cư trú")
    expect(admin.locator("#counters tr[data-number='9']")).to_contain_text("Cư trú")
    expect(console.locator("#t-fields [data-field=CUTRU]")).to_have_text("Cư trú")
    expect(console.locator("#t-counters [data-counter='9']")).to_have_text("Quầy 9 - Cư trú")

    # A ticket of the new field, called at the new counter, shows on the TV opened before.
    r = requests.post(srv.url + "/api/v1/tickets", json={"service": "CUTRU"},
                      headers={"Authorization": f"Bearer {KIOSK_TOKEN}"}, timeout=10)
    assert r.status_code == 201, r.text
    number = r.json()["number"]
    tok = srv.token("admin")
    r = requests.post(srv.url + "/api/v1/counters/9/call-next", json={}, headers={"Authorization": f"Bearer {tok}"},
                      timeout=10)
    assert r.status_code == 200 and r.json()["ticket"]["number"] == number, r.text
    expect(tv.get_by_test_id("latest-number")).to_have_text(number, timeout=15_000)
    expect(tv.locator("#latest-counter")).to_contain_text("9")

    # The audit log page: both changes, with the before and after.
    admin.get_by_test_id("menu-audit").click()
    add_field = admin.locator("#audit tr[data-action='field.add']")
    add_counter = admin.locator("#audit tr[data-action='counter.add']")
    expect(add_field).to_contain_text("Thêm lĩnh vực Cư trú")
    expect(add_field).to_contain_text('"prefix": "R"')
    expect(add_counter).to_contain_text("Thêm quầy Quầy 9 - Cư trú")
    expect(add_counter).to_contain_text('"fields"')

    # The exported office file passes check-config and, on a fresh data folder, is the same office.
    text = requests.get(srv.url + "/api/v1/admin/config.toml", headers={"Authorization": f"Bearer {tok}"},
                        timeout=10).text
    exported = tmp_path / "office.toml"
    exported.write_text(text, encoding="utf-8")
    check = subprocess.run([sys.executable, "-m", "motcua.cli", "check-config", str(exported)], cwd=str(ROOT),
                           capture_output=True, text=True, timeout=60)
    assert check.returncode == 0, check.stdout + check.stderr
    fresh = tmp_path / "fresh"
    for sub in ("printer", "camera"):
        (fresh / sub).mkdir(parents=True, exist_ok=True)
    second = ServerProcess(fresh, args=["serve", "--config", str(exported)]).start()
    try:
        tok2 = second.token("admin")  # the accounts came with their passwords
        a = requests.get(srv.url + "/api/v1/admin/config", headers={"Authorization": f"Bearer {tok}"}, timeout=10).json()
        b = requests.get(second.url + "/api/v1/admin/config", headers={"Authorization": f"Bearer {tok2}"},
                         timeout=10).json()
        for key in ("office", "hours", "fields", "counters", "staff", "queue"):
            assert a[key] == b[key], key
        staff_a, staff_b = (requests.get(u + "/api/v1/admin/staff", headers={"Authorization": f"Bearer {t}"},
                                         timeout=10).json() for u, t in ((srv.url, tok), (second.url, tok2)))
        assert staff_a == staff_b
    finally:
        second.stop()


def test_staff_get_403_and_anonymous_the_sign_in_page(srv, context_factory):
    page = context_factory(viewport={"width": 1366, "height": 768}).new_page()
    page.goto(srv.url + "/admin/fields")
    expect(page.get_by_role("heading", name=re.compile("Đăng nhập quản trị"))).to_be_visible()
    page.goto(srv.url + "/counter")
    page.fill("input[name=username]", "quay1")
    page.fill("input[name=password]", "motcua-demo")
    page.click("button[type=submit]")
    expect(page).to_have_url(re.compile(r"/counter/1$"))
    resp = page.goto(srv.url + "/admin")
    assert resp.status == 403
    expect(page.locator("#forbidden")).to_contain_text("không có quyền mở trang quản trị")


def test_notices_with_a_schedule_and_urgent_first_on_the_tv(srv, context_factory):
    """The notices page posts an urgent notice and a planned one: the open TV shows the urgent
    one first, marked "Khẩn", and not the planned one; the page lists both, in Vietnamese."""
    tv = context_factory().new_page()
    tv.goto(srv.url + "/display?voice=0")
    admin = _admin_page(context_factory, srv.url, viewport={"width": 1366, "height": 768})
    admin.get_by_test_id("menu-notices").click()
    form = admin.locator("#notice-form")
    form.locator("input[name=text]").fill("Bộ phận một cửa nghỉ trưa từ 11 giờ 30 đến 13 giờ 30.")
    form.get_by_role("button", name="Đăng thông báo").click()
    expect(admin.locator("#admin-msg")).to_contain_text("Đã đăng thông báo lên TV")
    form.locator("input[name=text]").fill("Ngày 02/09 nghỉ lễ Quốc khánh.")
    form.locator("input[name=starts_at]").fill("sáng mai")
    form.get_by_role("button", name="Đăng thông báo").click()
    expect(admin.locator("#admin-msg")).to_contain_text("giờ:phút ngày/tháng/năm")
    form.locator("input[name=starts_at]").fill("07:00 01/09/2099")
    form.get_by_role("button", name="Đăng thông báo").click()
    expect(admin.locator("#admin-msg")).to_contain_text("Đã lên lịch thông báo: từ 07:00 01/09/2099")
    form.locator("input[name=text]").fill("Thang máy đang sửa, xin đi cầu thang bộ.")
    form.locator("select[name=priority]").select_option("urgent")
    form.get_by_role("button", name="Đăng thông báo").click()
    rows = admin.locator("#notices tbody tr")
    expect(rows).to_have_count(3)
    expect(rows.nth(0)).to_contain_text("Khẩn")
    expect(admin.locator("#notices tr[data-state=scheduled]")).to_contain_text("Chờ hiển thị")
    ticker = tv.locator("#ticker-text")
    expect(ticker).to_have_text(re.compile(r"^Khẩn Thang máy đang sửa.*nghỉ trưa"))
    expect(ticker).not_to_contain_text("Quốc khánh")
    for n in requests.get(srv.url + "/api/v1/notices/all", headers={"Authorization": "Bearer " + requests.post(
            srv.url + "/api/v1/auth/token", json={"username": "admin", "password": "motcua-demo"},
            timeout=10).json()["token"]}, timeout=10).json()["notices"]:
        admin.locator(f"#notices tr[data-notice='{n['id']}']").get_by_role("button", name="Gỡ xuống").click()
    expect(rows).to_have_count(1)
    expect(rows.nth(0)).to_contain_text("Chưa có thông báo nào")
    expect(tv.locator("#ticker")).to_be_hidden()


def test_an_administrator_adds_and_removes_a_simulated_led_board(srv, context_factory):
    """The devices page: "Thêm thiết bị" (kind from the Vietnamese list, the address hint of the
    kind) adds a simulated LED board that shows ready; "Xoá" asks first, then removes it."""
    admin = _admin_page(context_factory, srv.url, viewport={"width": 1366, "height": 768})
    admin.get_by_test_id("menu-devices").click()
    form = admin.get_by_test_id("device-add-form")
    form.locator("select[name=kind]").select_option(label="Bảng LED")
    expect(form).to_contain_text("thiết bị mô phỏng: sim://")
    form.get_by_test_id("device-name").fill("bang-led-quay-9")
    form.get_by_test_id("device-url").fill("sim://")
    form.locator("select[name=counter]").select_option("2")
    form.get_by_role("button", name="Thêm thiết bị").click()
    row = admin.locator("#devices-full tr[data-device='bang-led-quay-9']")
    expect(row).to_contain_text("Sẵn sàng", timeout=60_000)
    admin.once("dialog", lambda d: d.accept() if "Xoá thiết bị bang-led-quay-9" in d.message else d.dismiss())
    row.get_by_role("button", name="Xoá").click()
    expect(admin.locator("#admin-msg")).to_contain_text("Đã xoá thiết bị bang-led-quay-9")
    expect(row).to_have_count(0)


def test_a_late_answer_never_puts_an_older_device_state_back(srv, context_factory):
    """The devices list is read again on every device event; answers may come back out of
    order on a busy server. An older answer arriving last must not show a state that is no
    longer true (seen: a board shown "Đang kết nối" for good although it was ready)."""
    token = requests.post(srv.url + "/api/v1/auth/token", json={"username": "admin", "password": "motcua-demo"},
                          timeout=10).json()["token"]
    api = {"Authorization": "Bearer " + token}
    listed = requests.get(srv.url + "/api/v1/admin/devices", headers=api, timeout=10).json()["devices"]
    sims = [d["name"] for d in listed if d.get("simulated") and d["kind"] in ("keypad", "led", "rating_box", "scanner")]
    first, second = sims[0], sims[1]
    admin = _admin_page(context_factory, srv.url, viewport={"width": 1366, "height": 768})
    admin.get_by_test_id("menu-devices").click()
    row = admin.locator(f"#devices-full tr[data-device='{second}']")
    expect(row).to_contain_text("Sẵn sàng", timeout=60_000)

    held = []

    def hold_the_first(route):
        if route.request.method == "GET" and not held:
            held.append((route, route.fetch()))  # the list as it is now ...
        else:
            route.continue_()

    admin.route(re.compile(r"/api/v1/admin/devices$"), hold_the_first)

    def unplug(name):
        r = requests.post(f"{srv.url}/api/v1/admin/devices/{name}/test", json={"action": "unplug"}, headers=api,
                          timeout=10)
        assert r.status_code in (200, 202), r.text

    try:
        unplug(first)  # an event: the page asks for the list (that answer is held back)
        for _ in range(600):  # up to a minute for the page to ask (polling, Playwright's events flow meanwhile)
            if held:
                break
            admin.wait_for_timeout(100)
        assert held, "the page asked for the list after the device event"
        unplug(second)  # ... then the second device is unplugged and shown so
        expect(row).not_to_contain_text("Sẵn sàng", timeout=60_000)
        shown = row.inner_text()
        route, old = held[0]
        with admin.expect_response(re.compile(r"/api/v1/admin/devices$")) as answer:
            route.fulfill(response=old)  # ... and only now does the older answer arrive
        answer.value.finished()
        admin.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
        assert row.inner_text() == shown, "the older answer put back a state that is no longer true"
    finally:
        for name in (first, second):
            requests.post(f"{srv.url}/api/v1/admin/devices/{name}/test", json={"action": "replug"}, headers=api,
                          timeout=10)
