"""Issue 12 acceptance, the page: the seeded day of tests/test_reports_day.py shows the same
hand-computed figures on /admin/reports (durations in words), its XLSX and CSV downloads read
back the same, on SQLite and PostgreSQL; a staff member sees only their counter; anonymous
visitors are sent to the sign-in page."""
from __future__ import annotations

import os
import re
from datetime import datetime, timezone

import pytest
from playwright.sync_api import expect

from helpers import FakeClock, ServerProcess
from test_ratings import PASSWORD, write_rating_config
from test_reports_day import check_csv, check_xlsx, seed_day

URL_DAY = "/admin/reports?from=2026-11-23&to=2026-11-23"
SHOTS = os.environ.get("MOTCUA_SCREENSHOTS")  # a folder: keep screenshots of the page for a look


@pytest.fixture
def srv(db_url, tmp_path):
    from config import load_config
    from motcua.queue import QueueEngine
    from motcua.store import Store
    from motcua.store.db import default_sqlite_url

    cfg_path = write_rating_config(tmp_path / "cfg")
    data = tmp_path / "data"
    data.mkdir(parents=True)
    url = default_sqlite_url(data) if db_url.startswith("sqlite") else db_url
    store = Store(url)
    store.upgrade()
    clock = FakeClock(datetime(2026, 11, 23, 1, 0, tzinfo=timezone.utc))
    eng = QueueEngine(store, load_config(cfg_path), clock=clock)
    eng.sync_config()
    seed_day(store, eng, clock)
    store.dispose()
    env = {} if db_url.startswith("sqlite") else {"MOTCUA_DATABASE_URL": db_url}
    s = ServerProcess(data, env=env, args=["serve", "--config", str(cfg_path)]).start()
    yield s
    s.stop()


def _sign_in(context_factory, base: str, username: str, **kw):
    page = context_factory(accept_downloads=True, **kw).new_page()
    page.goto(base + URL_DAY)
    expect(page).to_have_url(re.compile(r"/counter\?next="))  # anonymous: the sign-in page first
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"/(admin|counter)"))
    page.goto(base + URL_DAY)
    expect(page.get_by_test_id("rp-period")).to_have_text("Từ ngày 23/11/2026 đến ngày 23/11/2026", timeout=15000)
    return page


@pytest.mark.slow
def test_the_seeded_day_on_the_page_and_its_downloads(srv, context_factory, tmp_path):
    page = _sign_in(context_factory, srv.url, "admin", viewport={"width": 1366, "height": 768})
    cards = {"rp-issued": "6", "rp-served": "4", "rp-no-show": "1", "rp-transferred": "1", "rp-cancelled": "1",
             "rp-wait-mean": "35 phút", "rp-service-mean": "11 phút 15 giây", "rp-satisfied": "66,7%"}
    for testid, text in cards.items():
        expect(page.get_by_test_id(testid)).to_have_text(text)
    total = page.locator("#rp-fields tfoot tr")
    # Waits: mean, median, 90%, longest; services: the same.
    expect(total).to_have_text(re.compile(r"Tổng cộng\s*6\s*4\s*1\s*1\s*1\s*35 phút\s*17 phút 30 giây\s*1 giờ 20 phút"
                                          r"\s*2 giờ 10 phút\s*11 phút 15 giây\s*10 phút\s*13 phút 30 giây\s*15 phút"))
    expect(page.locator("#rp-fields tbody tr[data-field=HOTICH] td").first).to_have_text("5")
    expect(page.locator("#rp-ratings tr[data-level=unsatisfied]")).to_contain_text("33,3%")
    expect(page.locator("#rp-reasons")).to_contain_text("Thời gian chờ lâu")
    expect(page.get_by_test_id("rp-dossiers")).to_contain_text("quá hạn")
    monday = page.locator("#rp-heat tbody tr").first
    expect(monday.locator("th")).to_have_text("Thứ Hai")
    expect(page.locator("#rp-heat thead th").nth(1)).to_have_text("08 giờ")
    expect(monday.locator("td").first).to_have_text("4")
    # The charts are drawn by the Chart.js the app serves (nothing from the internet).
    assert page.evaluate("!!window.Chart && Chart.version.startsWith('3.')")
    assert page.evaluate("document.getElementById('rp-chart-hours').width > 0")
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, "reports-1366.png"), full_page=True)
        page.emulate_media(media="print")
        page.screenshot(path=os.path.join(SHOTS, "reports-print.png"), full_page=True)
        page.emulate_media(media="screen")

    office = _office_name(srv)
    for testid, check in (("rp-xlsx", check_xlsx), ("rp-csv", check_csv)):
        with page.expect_download() as dl:
            page.get_by_test_id(testid).click()
        path = tmp_path / dl.value.suggested_filename
        dl.value.save_as(path)
        assert path.name.startswith("bao-cao-2026-11-23_2026-11-23.")
        check(path.read_bytes(), office)


def _office_name(srv) -> str:
    import requests

    return requests.get(srv.url + "/healthz", timeout=10).json()["office"]


@pytest.mark.slow
def test_staff_see_their_own_counter_only(srv, context_factory):
    page = _sign_in(context_factory, srv.url, "quay1")
    options = page.locator("#rp-counter option")
    expect(options).to_have_count(1)
    expect(options.first).to_have_text(re.compile(r"^Quầy 1"))
    expect(page.get_by_test_id("rp-issued")).to_have_text("5")
    expect(page.get_by_test_id("rp-served")).to_have_text("2")
    expect(page.locator("#rp-scope")).to_contain_text("Quầy 1")
    expect(page.locator("#rp-counters tbody tr")).to_have_count(1)
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, "reports-staff-1920.png"), full_page=True)
    # Another counter through the address bar: refused by the server, said in Vietnamese.
    resp = page.goto(srv.url + URL_DAY + "&counter=2")
    assert resp.status == 403
    expect(page.locator("#rp-status")).to_contain_text("không phải quầy của bạn")
