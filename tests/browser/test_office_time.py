"""Issue 13: every screen tells the office's time, whatever time zone the PC is set to.

Chromium runs in New York (12 hours from the demo office in Hồ Chí Minh City's zone); each
screen's clock, and each time a screen prints, shows the office's hour and date."""
from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import requests
from playwright.sync_api import expect

from helpers import KIOSK_TOKEN, ServerProcess  # noqa: E402

OFFICE = ZoneInfo("Asia/Ho_Chi_Minh")
PC_ZONE = "America/New_York"
LATE_PAINT_S = 10  # how old a clock's last paint may be on a busy machine (12 hours off is what is caught)


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    s = ServerProcess(tmp_path_factory.mktemp("office-time") / "data").start()
    yield s
    s.stop()


def _office_now() -> datetime:
    return datetime.now(OFFICE)


def _shows_office_time(read) -> None:
    """`read()` returns the screen's text; its first HH:MM and dd/mm/yyyy (if any) must be the
    office's, read between two looks at the office clock (a minute may turn meanwhile). A clock
    ticks once a second and a busy machine paints late: what it shows may be a few seconds old."""
    before = _office_now() - timedelta(seconds=LATE_PAINT_S)
    shown = read()
    after = _office_now()
    moments = [before + timedelta(seconds=k) for k in range(int((after - before).total_seconds()) + 2)]
    m = re.search(r"\b(\d\d):(\d\d)\b", shown)
    assert m, shown
    assert (int(m.group(1)), int(m.group(2))) in {(t.hour, t.minute) for t in moments}, shown
    d = re.search(r"\b(\d\d)/(\d\d)/(\d{4})\b", shown)
    if d:
        assert d.group(0) in {t.strftime("%d/%m/%Y") for t in moments}, shown


def _page(context_factory, **kw):
    return context_factory(timezone_id=PC_ZONE, **kw).new_page()


def test_the_browser_really_runs_in_another_zone(context_factory):
    page = _page(context_factory)
    assert page.evaluate("Intl.DateTimeFormat().resolvedOptions().timeZone") == PC_ZONE
    assert page.evaluate("new Date().getHours()") != _office_now().hour


def test_kiosk_rating_tablet_and_tv_clocks_tell_the_office_time(srv, context_factory):
    kiosk = _page(context_factory)
    kiosk.goto(srv.url + "/kiosk")
    clock = kiosk.get_by_test_id("clock")
    expect(clock).to_contain_text(re.compile(r"\d\d:\d\d"))
    _shows_office_time(clock.inner_text)

    tablet = _page(context_factory)
    tablet.goto(srv.url + "/rate/1")
    expect(tablet.locator("#clock")).to_contain_text(re.compile(r"\d\d:\d\d"))
    _shows_office_time(lambda: tablet.inner_text("#clock"))

    tv = _page(context_factory)
    tv.goto(srv.url + "/display?voice=0")
    expect(tv.locator("#clock-time")).to_contain_text(re.compile(r"\d\d:\d\d"))
    _shows_office_time(lambda: tv.inner_text("#clock-time") + " " + tv.inner_text("#clock-date"))


def test_phone_page_overview_and_console_print_the_office_time(srv, context_factory):
    r = requests.post(srv.url + "/api/v1/tickets", json={"service": "HOTICH"},
                      headers={"Authorization": f"Bearer {KIOSK_TOKEN}"}, timeout=10)
    assert r.status_code == 201, r.text
    t = r.json()

    phone = _page(context_factory, viewport={"width": 390, "height": 800})
    phone.goto(t["url"].replace(t["url"].split("/t/")[0], srv.url))
    expect(phone.locator("#updated")).to_contain_text(re.compile(r"\d\d:\d\d"))
    _shows_office_time(lambda: phone.inner_text("#updated"))

    staff = _page(context_factory, viewport={"width": 1366, "height": 768})
    staff.goto(srv.url + "/counter")
    staff.fill("input[name=username]", "quay1")
    staff.fill("input[name=password]", "motcua-demo")
    staff.click("button[type=submit]")
    item = staff.locator(f"#next .next-item[data-ticket='{t['id']}'] .age")
    expect(item).to_contain_text(re.compile(r"\d\d:\d\d"))
    issued = datetime.fromisoformat(t["issued_at"]).astimezone(OFFICE)
    assert issued.strftime("%H:%M") in item.inner_text()

    staff.goto(srv.url + "/counter/overview")
    expect(staff.locator("#ov-updated")).to_contain_text(re.compile(r"\d\d:\d\d"))
    _shows_office_time(lambda: staff.inner_text("#ov-updated"))
    expect(staff.locator("#ov-longest-who")).to_contain_text(issued.strftime("%H:%M"))
