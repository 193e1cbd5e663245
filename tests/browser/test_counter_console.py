"""The counter console in Debian's chromium against one real `motcua serve` process.

The tests share the server and use different counters so they do not disturb each other; the
last one restarts the server (connection loss), so it stays last.
"""
from __future__ import annotations

import time

import pytest
import requests
from playwright.sync_api import expect
from sqlalchemy import create_engine, select

from console_support import sign_in  # noqa: E402
from test_ratings import KIOSK_TOKEN, start_rating_server  # noqa: E402  (tests/ is on sys.path)

DOSSIER_CODE = "000.302.36.H05-250702-0012"


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    s = start_rating_server(tmp_path_factory.mktemp("console"))
    yield s
    s.stop()


def _auth(tok: str) -> dict:
    return {"Authorization": f"Bearer {tok}"}


def issue(srv, service: str) -> dict:
    r = requests.post(srv.url + "/api/v1/tickets", json={"service": service}, headers=_auth(KIOSK_TOKEN), timeout=10)
    assert r.status_code == 201, r.text
    return r.json()


def ticket(srv, ticket_id: int) -> dict:
    return requests.get(f"{srv.url}/api/v1/tickets/{ticket_id}", timeout=10).json()


def login(context_factory, srv, username: str, counter: int):
    page = sign_in(context_factory, srv.url, username, counter)
    expect(page.locator("#b-pause")).to_be_enabled()  # connected and loaded
    expect(page.get_by_test_id("offline-banner")).to_be_hidden()
    return page


def test_call_next_reaches_the_display_within_a_second(srv, context_factory):
    display = context_factory().new_page()
    display.goto(srv.url + "/display")
    expect(display.locator("#counters tbody tr")).to_have_count(4)
    console = login(context_factory, srv, "quay2", 2)
    t = issue(srv, "DATDAI")
    expect(console.locator("#next .next-item")).to_have_count(1)
    expect(console.locator("#b-next")).to_be_enabled()
    console.locator("#b-next").click()
    expect(display.get_by_test_id("latest-number")).to_have_text(t["number"], timeout=10_000)
    expect(console.get_by_test_id("current-number")).to_have_text(t["number"])
    expect(console.get_by_test_id("timer")).to_contain_text("0:0")


def test_double_click_calls_one_ticket(srv, context_factory):
    console = login(context_factory, srv, "quay3", 3)
    first, second = issue(srv, "LDTBXH"), issue(srv, "HKD")
    expect(console.locator("#next .next-item")).to_have_count(2)
    console.locator("#b-next").dblclick()
    expect(console.get_by_test_id("current-number")).to_have_text(first["number"])
    console.keyboard.press("F1")  # and a stray F1 right after: inside the double-press window
    time.sleep(0.5)
    assert ticket(srv, first["id"])["status"] == "called"
    assert ticket(srv, second["id"])["status"] == "waiting"
    calls = [c for c in requests.get(srv.url + "/api/v1/queue").json()["recent_calls"] if c["counter"] == 3]
    assert [(c["ticket_id"], c["recall"]) for c in calls] == [(first["id"], False)]
    expect(console.get_by_test_id("current-number")).to_have_text(first["number"])


def test_transfer_no_show_pause_call_and_finish_with_a_scanned_dossier(srv, context_factory):
    c = login(context_factory, srv, "quay1", 1)
    b = {k: c.locator("#b-" + k) for k in ("next", "recall", "skip", "finish", "transfer", "call", "pause")}
    # Nothing waiting, nothing served: only Tạm dừng applies.
    for k in ("next", "recall", "skip", "finish", "transfer", "call"):
        expect(b[k]).to_be_disabled()
    expect(b["pause"]).to_be_enabled()
    expect(b["next"]).to_have_attribute("title", "Không có ai đang chờ.")
    tickets = [issue(srv, "HOTICH") for _ in range(5)]
    expect(c.locator("#next .next-item")).to_have_count(5)
    expect(c.locator("#waiting b[data-field=HOTICH]")).to_have_text("5")
    expect(b["next"]).to_be_enabled()
    expect(b["call"]).to_be_enabled()

    # Transfer (F6) to another field: the number leaves this counter and waits at Đất đai.
    c.keyboard.press("F1")
    expect(c.get_by_test_id("current-number")).to_have_text(tickets[0]["number"])
    for k in ("recall", "skip", "finish", "transfer"):
        expect(b[k]).to_be_enabled()
    c.keyboard.press("F6")
    expect(c.locator("#dlg-transfer")).to_be_visible()
    expect(c.locator("#t-fields [data-field=HOTICH]")).to_be_disabled()
    c.locator("#t-fields [data-field=DATDAI]").click()
    expect(c.get_by_test_id("current-number")).to_have_text("—")
    moved = ticket(srv, tickets[0]["id"])
    assert (moved["status"], moved["service"]) == ("waiting", "DATDAI")
    expect(c.locator("#served li").first).to_contain_text("Đã chuyển")
    for k in ("recall", "skip", "finish", "transfer"):
        expect(b[k]).to_be_disabled()

    # No-show (F3).
    c.keyboard.press("F1")
    expect(c.get_by_test_id("current-number")).to_have_text(tickets[1]["number"])
    c.keyboard.press("F3")
    expect(c.get_by_test_id("current-number")).to_have_text("—")
    assert ticket(srv, tickets[1]["id"])["status"] == "no_show"
    expect(c.locator("#served li").first).to_contain_text("Vắng mặt")

    # Pause (F8) with a reason: no calls, the next button is disabled, the API refuses too.
    c.keyboard.press("F8")
    c.locator("#p-presets [data-reason='Nghỉ giải lao']").click()
    expect(c.get_by_test_id("paused-banner")).to_contain_text("Nghỉ giải lao")
    expect(b["next"]).to_be_disabled()
    expect(b["call"]).to_be_disabled()
    expect(c.locator("#next .next-item").first).to_be_disabled()
    expect(b["pause"]).to_contain_text("Tiếp tục")
    staff = srv.token("quay1")
    refused = requests.post(srv.url + "/api/v1/counters/1/call-next", headers=_auth(staff))
    assert refused.status_code == 409 and "tạm dừng" in refused.json()["message"]
    overview = c.context.new_page()  # the lead's overview (same signed-in session)
    overview.goto(srv.url + "/counter/overview")
    expect(overview.get_by_test_id("ov-paused")).to_contain_text("Nghỉ giải lao")
    expect(overview.locator("#ov-counters [data-counter='1'] .state-tag")).to_have_text("Tạm dừng")
    expect(overview.locator("#ov-fields tr[data-field=HOTICH] td.n").first).to_have_text("3")
    overview.close()
    c.keyboard.press("F8")  # Tiếp tục
    expect(c.get_by_test_id("paused-banner")).to_be_hidden()
    expect(b["next"]).to_be_enabled()

    # Gọi số: tap a number further down the line, confirm, it is called out of order.
    target = tickets[3]
    c.locator(f"#next .next-item[data-ticket='{target['id']}']").click()
    expect(c.locator("#dlg-confirm")).to_contain_text(target["number"])
    c.locator("#confirm-go").click()
    expect(c.get_by_test_id("current-number")).to_have_text(target["number"])
    assert ticket(srv, tickets[2]["id"])["status"] == "waiting"

    # Finish (F4) with dossier codes: one read by a keyboard-wedge scanner (a burst of keys
    # ending in Enter, focus on no field) and one typed by hand into the field. The burst is
    # dispatched inside the page so its timing does not depend on how busy the test machine is.
    c.evaluate("document.activeElement && document.activeElement.blur()")
    c.evaluate("""code => { for (const ch of [...code, "Enter"]) {
        document.body.dispatchEvent(new KeyboardEvent("keydown", {key: ch, bubbles: true, cancelable: true})); } }""",
               DOSSIER_CODE)
    expect(c.get_by_test_id("dossier-list")).to_contain_text(DOSSIER_CODE)
    # The same code from real keys while a button has the focus: its Enter must press nothing.
    c.locator("#b-next").focus()
    c.keyboard.type(DOSSIER_CODE, delay=0)
    c.keyboard.press("Enter")
    time.sleep(0.3)
    assert ticket(srv, tickets[2]["id"])["status"] == "waiting"
    expect(c.get_by_test_id("current-number")).to_have_text(target["number"])
    c.locator("body").click(position={"x": 5, "y": 300})
    c.keyboard.type("GOCHAM", delay=120)  # a person typing outside the field adds nothing
    c.keyboard.press("Enter")
    expect(c.get_by_test_id("dossier-list").locator("li")).to_have_count(1)
    c.get_by_test_id("dossier-input").type("000.302.36.H05-250702-0013", delay=60)
    c.keyboard.press("Enter")
    expect(c.get_by_test_id("dossier-list").locator("li")).to_have_count(2)
    c.keyboard.press("F4")
    expect(c.get_by_test_id("current-number")).to_have_text("—")
    expect(c.locator("#served li").first).to_contain_text("Đã xong")
    assert ticket(srv, target["id"])["status"] == "done"
    # Gọi số (F7) by typing the number.
    c.keyboard.press("F7")
    c.locator("#c-number").fill(tickets[4]["number"])
    c.keyboard.press("Enter")
    expect(c.get_by_test_id("current-number")).to_have_text(tickets[4]["number"])
    db = create_engine(f"sqlite:///{srv.data_dir / 'motcua.sqlite3'}")
    from motcua.store import tables as t

    with db.connect() as conn:
        row = conn.execute(select(t.visits.c.dossiers).where(t.visits.c.ticket_id == target["id"])).one()
    db.dispose()
    assert row.dossiers == [DOSSIER_CODE, "000.302.36.H05-250702-0013"]


def test_two_consoles_stay_in_step_and_catch_up_after_a_lost_connection(srv, context_factory):
    a = login(context_factory, srv, "quay4", 4)
    b = login(context_factory, srv, "quay4", 4)
    t1 = issue(srv, "TRAKQ")
    expect(b.locator(f"#next .next-item[data-ticket='{t1['id']}']")).to_be_visible()
    a.locator("#b-next").click()
    expect(b.get_by_test_id("current-number")).to_have_text(t1["number"], timeout=10_000)

    srv.stop()
    for page in (a, b):
        expect(page.get_by_test_id("offline-banner")).to_be_visible(timeout=10_000)
        expect(page.locator("#b-finish")).to_be_disabled()
        expect(page.locator("#b-pause")).to_be_disabled()
    srv.start()
    # Changes made while the consoles are still away: they must catch up when they return.
    t2 = issue(srv, "TRAKQ")  # counter 4 calls Trả kết quả before Hộ tịch
    staff = srv.token("quay4")
    called = requests.post(srv.url + "/api/v1/counters/4/call-next", headers=_auth(staff)).json()["ticket"]
    assert called["id"] == t2["id"]  # call-next finished t1 first
    for page in (a, b):
        expect(page.get_by_test_id("offline-banner")).to_be_hidden(timeout=10_000)
        expect(page.get_by_test_id("current-number")).to_have_text(t2["number"])
        expect(page.locator("#served li").first).to_contain_text(t1["number"])
        expect(page.locator("#b-finish")).to_be_enabled()
