"""Issue 13, staff: the console brings back a citizen marked absent (with a few seconds'
undo), cancels a ticket after a confirmation, reprints one, shows where a transferred ticket
came from, fits its essentials on a 1366x768 screen, finishes a pickup ticket by returning
its dossier (the TV's ready list drops it live); the overview shows waits as durations.

One demo server for the module; the tests use different counters."""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest
import requests
from playwright.sync_api import expect
from sqlalchemy import create_engine, update

from console_support import sign_in  # noqa: E402
from helpers import KIOSK_TOKEN, ServerProcess  # noqa: E402


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    s = ServerProcess(tmp_path_factory.mktemp("staff") / "data").start()
    yield s
    s.stop()


def _auth(tok: str) -> dict:
    return {"Authorization": f"Bearer {tok}"}


def issue(srv, service: str, **extra) -> dict:
    r = requests.post(srv.url + "/api/v1/tickets", json={"service": service, **extra}, headers=_auth(KIOSK_TOKEN),
                      timeout=10)
    assert r.status_code == 201, r.text
    return r.json()


def ticket(srv, ticket_id: int) -> dict:
    return requests.get(f"{srv.url}/api/v1/tickets/{ticket_id}", timeout=10).json()


def console(context_factory, srv, username: str, counter: int, **ctx):
    if ctx:
        page = context_factory(**ctx).new_page()
        page.goto(srv.url + "/counter")
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", "motcua-demo")
        page.click("button[type=submit]")
        expect(page).to_have_url(re.compile(rf"/counter/{counter}$"))
    else:
        page = sign_in(context_factory, srv.url, username, counter)
    expect(page.locator("#b-pause")).to_be_enabled()
    return page


def test_no_show_can_be_undone_and_an_absent_citizen_brought_back(srv, context_factory):
    c = console(context_factory, srv, "quay1", 1)
    first, second = issue(srv, "HOTICH"), issue(srv, "HOTICH")
    expect(c.locator("#next .next-item")).to_have_count(2)

    # Vắng mặt by mistake: "Hoàn tác" for a few seconds brings the citizen back as current.
    c.keyboard.press("F1")
    expect(c.get_by_test_id("current-number")).to_have_text(first["number"])
    c.keyboard.press("F3")
    expect(c.get_by_test_id("current-number")).to_have_text("—")
    undo = c.get_by_test_id("undo")
    expect(undo).to_be_visible()
    expect(undo).to_contain_text(first["number"])
    undo.get_by_role("button", name="Hoàn tác").click()
    expect(c.get_by_test_id("current-number")).to_have_text(first["number"])
    back = ticket(srv, first["id"])
    assert (back["status"], back["counter"]) == ("called", 1)
    expect(undo).to_be_hidden()

    # Marked absent for real: the undo goes away by itself after a few seconds...
    c.keyboard.press("F3")
    expect(undo).to_be_visible()
    expect(undo).to_be_hidden(timeout=20_000)
    assert ticket(srv, first["id"])["status"] == "no_show"
    # ...and the citizen who comes back later is put back in the queue from today's list.
    row = c.locator(f"#served li[data-ticket='{first['id']}']").first
    expect(row).to_contain_text("Vắng mặt")
    row.get_by_role("button", name="Đưa lại hàng chờ").click()
    expect(c.locator(f"#next .next-item[data-ticket='{first['id']}']")).to_be_visible()
    assert ticket(srv, first["id"])["status"] == "waiting"
    expect(row.get_by_role("button", name="Đưa lại hàng chờ")).to_have_count(0)
    assert ticket(srv, second["id"])["status"] == "waiting"


def test_cancel_asks_first_and_reprint_prints_again(srv, context_factory):
    c = console(context_factory, srv, "quay3", 3)
    keep, gone = issue(srv, "HKD"), issue(srv, "HKD")
    item = c.locator(f"#next .next-item[data-ticket='{gone['id']}']")
    expect(item).to_be_visible()

    # Reprint from the ticket's dialog.
    item.click()
    dlg = c.locator("#dlg-confirm")
    expect(dlg).to_contain_text(gone["number"])
    dlg.get_by_role("button", name="In lại phiếu").click()
    expect(c.locator(".toast").filter(has_text="In lại phiếu số " + gone["number"])).to_be_visible()
    expect(dlg).to_be_hidden()

    # Cancel: a confirmation that says it cannot be undone; "Không hủy" leaves it waiting.
    item.click()
    dlg.get_by_role("button", name="Hủy số").click()
    ask = c.locator("#dlg-cancel")
    expect(ask).to_be_visible()
    expect(ask).to_contain_text(gone["number"])
    expect(ask).to_contain_text("không hoàn tác được")
    ask.get_by_role("button", name="Không hủy").click()
    expect(ask).to_be_hidden()
    assert ticket(srv, gone["id"])["status"] == "waiting"
    item.click()
    dlg.get_by_role("button", name="Hủy số").click()
    ask.get_by_role("button", name="Hủy số " + gone["number"]).click()
    expect(item).to_have_count(0)
    assert ticket(srv, gone["id"])["status"] == "cancelled"

    # The current ticket: reprint and cancel from the current card.
    c.keyboard.press("F1")
    expect(c.get_by_test_id("current-number")).to_have_text(keep["number"])
    c.locator("#cur-print").click()
    expect(c.locator(".toast").filter(has_text="In lại phiếu số " + keep["number"])).to_be_visible()
    c.locator("#cur-cancel").click()
    expect(ask).to_contain_text(keep["number"])
    ask.get_by_role("button", name="Hủy số " + keep["number"]).click()
    expect(c.get_by_test_id("current-number")).to_have_text("—")
    assert ticket(srv, keep["id"])["status"] == "cancelled"
    expect(c.locator(f"#served li[data-ticket='{keep['id']}']").first).to_contain_text("Đã hủy")


def test_a_transferred_ticket_says_where_it_came_from(srv, context_factory):
    t = issue(srv, "XAYDUNG")
    staff2 = _auth(srv.token("quay2"))
    r = requests.post(srv.url + "/api/v1/counters/2/call", json={"ticket": t["id"]}, headers=staff2, timeout=10)
    assert r.status_code == 200, r.text
    r = requests.post(srv.url + "/api/v1/counters/2/transfer", json={"counter": 4}, headers=staff2, timeout=10)
    assert r.status_code == 200, r.text
    view = requests.get(srv.url + "/api/v1/counters/4", headers=_auth(srv.token("quay4")), timeout=10).json()
    moved = next(x for x in view["next"] if x["id"] == t["id"])
    assert (moved["from_counter"], moved["from_service"]) == (2, "XAYDUNG")
    assert moved["from_counter_name"] == "Quầy 2 - Đất đai, Xây dựng"
    assert moved["from_service_name"] == "Xây dựng"

    c = console(context_factory, srv, "quay4", 4)
    item = c.locator(f"#next .next-item[data-ticket='{t['id']}']")
    expect(item).to_contain_text("chuyển từ quầy 2 (Xây dựng)")
    item.click()
    c.locator("#confirm-go").click()
    expect(c.get_by_test_id("current-number")).to_have_text(t["number"])
    expect(c.locator("#cur-info")).to_contain_text("Chuyển từ quầy 2 (Xây dựng)")
    c.keyboard.press("F4")
    expect(c.get_by_test_id("current-number")).to_have_text("—")


def _inside(page, selector: str, count: int | None = None) -> list[str]:
    return page.evaluate("""([sel, count]) => {
      const els = [...document.querySelectorAll(sel)].slice(0, count || undefined);
      if (!els.length) return [sel + ': none'];
      return els.flatMap(e => {
        const r = e.getBoundingClientRect();
        return (r.height > 0 && r.top >= 0 && r.left >= 0 && r.bottom <= innerHeight && r.right <= innerWidth)
          ? [] : [`${sel} ${e.textContent.trim().slice(0, 30)}: ${Math.round(r.top)}..${Math.round(r.bottom)}`];
      });
    }""", [selector, count])


def test_the_console_essentials_fit_a_1366x768_screen(srv, context_factory):
    for _ in range(12):
        issue(srv, "LDTBXH")
    c = console(context_factory, srv, "quay3", 3, viewport={"width": 1366, "height": 768})
    expect(c.locator("#next .next-item")).to_have_count(10)
    for i in range(4):  # three rows in today's list, and one being served
        c.keyboard.press("F1")
        expect(c.get_by_test_id("current-number")).not_to_have_text("—")
        if i < 3:
            c.keyboard.press("F4")
            expect(c.get_by_test_id("current-number")).to_have_text("—")
    expect(c.locator("#served li").nth(2)).to_be_attached()
    problems = (_inside(c, "#cur-number") + _inside(c, "#cur-info") + _inside(c, "#actions .btn")
                + _inside(c, "#next li", 5) + _inside(c, "#served li", 3))
    assert problems == []
    assert c.evaluate("scrollY") == 0
    c.keyboard.press("F4")


def test_finishing_a_pickup_ticket_returns_the_dossier_and_the_tv_drops_it(srv, context_factory):
    ready = requests.get(srv.url + "/api/v1/dossiers/ready", timeout=10).json()["items"]
    given, kept = ready[0]["code"], ready[1]["code"]
    tv = context_factory().new_page()
    tv.goto(srv.url + "/display?voice=0")
    expect(tv.locator(f"#ready-list li[data-code='{given}']")).to_have_count(1, timeout=10_000)
    c = console(context_factory, srv, "quay4", 4)

    def call(t):
        c.locator(f"#next .next-item[data-ticket='{t['id']}']").click()
        c.locator("#confirm-go").click()

    t = issue(srv, "TRAKQ", dossier=given)
    call(t)
    expect(c.get_by_test_id("current-number")).to_have_text(t["number"])
    box = c.get_by_test_id("return-dossier")
    expect(box).to_be_visible()
    expect(box).to_contain_text(given)
    expect(box.locator("input[type=checkbox]")).to_be_checked()
    c.keyboard.press("F4")
    expect(tv.locator(f"#ready-list li[data-code='{given}']")).to_have_count(0, timeout=10_000)
    assert requests.get(f"{srv.url}/api/v1/dossiers/{given}", timeout=10).json()["status"] == 10

    # The result was not handed over: staff untick the box, the dossier stays on the TV.
    t = issue(srv, "TRAKQ", dossier=kept)
    call(t)
    expect(c.get_by_test_id("current-number")).to_have_text(t["number"])
    expect(box).to_contain_text(kept)
    box.locator("input[type=checkbox]").uncheck()
    c.keyboard.press("F4")
    expect(c.get_by_test_id("current-number")).to_have_text("—")
    assert ticket(srv, t["id"])["status"] == "done"
    assert requests.get(f"{srv.url}/api/v1/dossiers/{kept}", timeout=10).json()["status"] == 9
    expect(tv.locator(f"#ready-list li[data-code='{kept}']")).to_have_count(1)
    expect(box).to_be_hidden()

    # Calling the next number finishes the pickup ticket too: an unticked box still keeps it.
    also_kept = ready[2]["code"]
    t = issue(srv, "TRAKQ", dossier=also_kept)
    call(t)
    expect(box).to_contain_text(also_kept)
    box.locator("input[type=checkbox]").uncheck()
    following = issue(srv, "TRAKQ")
    c.keyboard.press("F1")
    expect(c.get_by_test_id("current-number")).to_have_text(following["number"])
    assert ticket(srv, t["id"])["status"] == "done"
    assert requests.get(f"{srv.url}/api/v1/dossiers/{also_kept}", timeout=10).json()["status"] == 9


DURATION = re.compile(r"^(\d+ giây|\d+ phút|\d+ giờ( \d+ phút)?)$")


def test_the_overview_shows_waits_as_durations(srv, context_factory):
    waiting = issue(srv, "HKD")
    lead = console(context_factory, srv, "quay1", 1)
    lead.goto(srv.url + "/counter/overview")
    longest = lead.get_by_test_id("ov-longest")
    expect(longest).not_to_have_text("—")
    assert DURATION.match(longest.inner_text()), longest.inner_text()
    cell = lead.locator("#ov-fields tr[data-field=HKD] td.n").nth(1)
    assert DURATION.match(cell.inner_text()), cell.inner_text()

    # The oldest citizen has waited 1 h 5 min: said in hours and minutes.
    from motcua.store import tables as t

    db = create_engine(f"sqlite:///{srv.data_dir / 'motcua.sqlite3'}")
    long_ago = datetime.now(timezone.utc) - timedelta(hours=1, minutes=5, seconds=10)
    with db.begin() as conn:
        conn.execute(update(t.tickets).where(t.tickets.c.id == waiting["id"]).values(issued_at=long_ago))
    db.dispose()
    lead.reload()
    expect(longest).to_have_text("1 giờ 5 phút", timeout=10_000)
    expect(lead.locator("#ov-longest-who")).to_contain_text(waiting["number"])
