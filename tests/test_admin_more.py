"""Administration, second pass (issue 12): scheduled and urgent notices through the API, the
admin home's alerts / failed messages / bookings link, retention of bookings and messages,
signing in from /admin/reports, and a change made on one server process reaching another."""
from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

import pytest
import requests

from helpers import FakeClock
from test_admin_api import NEW_FIELD, _admin, _make_app
from test_ratings import PASSWORD


@pytest.fixture
def clocked(tmp_path, db_url):
    clock = FakeClock(datetime(2026, 11, 23, 2, 0, tzinfo=timezone.utc))  # Monday 09:00 in Hanoi
    app = _make_app(tmp_path, db_url=db_url, clock=clock)
    yield app, clock
    app.extensions["motcua"].close()


# Notices: schedule and priority ----------------------------------------------------------------
def test_notices_with_a_schedule_and_a_priority(clocked):
    app, clock = clocked
    admin = _admin(app)
    anyone = app.test_client()
    # Office time without an offset (what the page's date-time fields send), or ISO with one.
    r = admin("POST", "/api/v1/notices", json={"text": "Chiều nay nghỉ họp", "starts_at": "2026-11-23T13:30",
                                                "ends_at": "2026-11-23T17:00"})
    assert r.status_code == 201, r.get_data(as_text=True)
    planned = r.get_json()
    assert planned["starts_at"] == "2026-11-23T13:30:00+07:00" and planned["state"] == "scheduled"
    r = admin("POST", "/api/v1/notices", json={"text": "Thường"})
    assert r.status_code == 201
    r = admin("POST", "/api/v1/notices", json={"text": "Thang máy hỏng, xin đi cầu thang bộ", "priority": "urgent"})
    assert r.status_code == 201 and r.get_json()["priority_label"] == "Khẩn"
    screens = anyone.get("/api/v1/notices").get_json()
    assert [n["text"] for n in screens["notices"]] == ["Thang máy hỏng, xin đi cầu thang bộ", "Thường"]
    assert screens["refresh_in_s"] == int(timedelta(hours=4, minutes=30).total_seconds()) + 1
    # The administrator sees the planned one too; the public does not get that list.
    assert anyone.get("/api/v1/notices/all").status_code == 401
    assert [n["state"] for n in admin("GET", "/api/v1/notices/all").get_json()["notices"]] == \
        ["shown", "shown", "scheduled"]
    clock.advance(hours=4, minutes=30)
    assert [n["text"] for n in anyone.get("/api/v1/notices").get_json()["notices"]] == \
        ["Thang máy hỏng, xin đi cầu thang bộ", "Chiều nay nghỉ họp", "Thường"]  # urgent, then oldest first
    # Edited: the urgent one becomes normal, the afternoon one urgent.
    urgent = admin("GET", "/api/v1/notices/all").get_json()["notices"][0]
    assert admin("PUT", f"/api/v1/notices/{urgent['id']}", json={"priority": "normal"}).status_code == 200
    assert admin("PUT", f"/api/v1/notices/{planned['id']}", json={"priority": "urgent"}).status_code == 200
    assert anyone.get("/api/v1/notices").get_json()["notices"][0]["text"] == "Chiều nay nghỉ họp"
    # Mistakes: 4xx with a Vietnamese message.
    for body in ({"text": "x", "starts_at": "chiều nay"}, {"text": "x", "ends_at": "2026-11-23T08:00"},
                 {"text": "x", "starts_at": "2026-11-24T10:00", "ends_at": "2026-11-24T09:00"},
                 {"text": "x", "priority": "rất gấp"}):
        r = admin("POST", "/api/v1/notices", json=body)
        assert r.status_code == 422 and r.get_json()["message"], body
    clock.advance(hours=4)  # 17:00 passed: the afternoon one is over
    assert "Chiều nay nghỉ họp" not in [n["text"] for n in anyone.get("/api/v1/notices").get_json()["notices"]]
    assert admin("PUT", f"/api/v1/notices/{planned['id']}", json={"text": "y"}).status_code == 404


# Admin home -------------------------------------------------------------------------------------
def test_admin_home_shows_alerts_failed_messages_and_bookings_link(tmp_path):
    from motcua.store import tables as t

    app = _make_app(tmp_path)
    svc = app.extensions["motcua"]
    try:
        c = app.test_client()
        page = c.get("/admin").get_data(as_text=True)
        csrf = page.split('name="csrf" value="')[1].split('"')[0]
        assert c.post("/admin/login", data={"csrf": csrf, "username": "admin", "password": PASSWORD}).status_code == 302
        body = c.get("/admin").get_data(as_text=True)
        assert '<section id="motcua-alerts" class="card">' in body and "/admin/static/reports-alerts.js" in body
        assert "Tin nhắn gửi không được" in body and 'href="/dat-lich/hom-nay"' in body
        assert c.get("/dat-lich/hom-nay").status_code == 200
        now = svc.settings.clock()
        with svc.store.write() as conn:
            conn.execute(t.message_outbox.insert().values(
                kind="called", channel="sms", phone="0912345678", phone_masked="09xx xxx 678", body="Đến lượt",
                dedupe="test-1", status="failed", attempts=5, next_try_at=now, last_error="modem: no carrier",
                created_at=now, updated_at=now))
        r = c.get("/api/v1/messages?status=failed")
        items = r.get_json()["items"]
        assert r.status_code == 200 and [m["phone_masked"] for m in items] == ["09xx xxx 678"]
        assert "0912345678" not in r.get_data(as_text=True)
    finally:
        svc.close()


# Retention ----------------------------------------------------------------------------------------
def test_retention_erases_old_bookings_and_messages(clocked):
    from sqlalchemy import select

    from motcua.configure.retention import erase_if_due
    from motcua.store import tables as t

    app, clock = clocked
    svc = app.extensions["motcua"]
    admin = _admin(app)
    assert admin("PUT", "/api/v1/admin/settings", json={"privacy": {"retention_days": 90}}).status_code == 200
    now = clock()
    with svc.store.write() as conn:
        for code, days in (("OLDBK1", 100), ("NEWBK1", 10)):
            at = now - timedelta(days=days)
            conn.execute(t.bookings.insert().values(
                code=code, field="HOTICH", business_date=at.date(), slot_start=at, slot_end=at + timedelta(minutes=15),
                name="Trần Thị Bình", phone="0987654321", status="checked_in", source="web", created_at=at, updated_at=at))
        for ticket, days in ((1, 31), (2, 5)):  # [messages] retention_days = 30 (default)
            at = now - timedelta(days=days)
            conn.execute(t.message_subscriptions.insert().values(
                ticket_id=ticket, business_date=at.date(), phone="0912345678", phone_masked="09xx xxx 678",
                source="kiosk", near_sent=True, called_sent=True, created_at=at, updated_at=at))
            conn.execute(t.message_outbox.insert().values(
                kind="called", channel="sms", phone="0912345678", phone_masked="09xx xxx 678", body="Đến lượt",
                dedupe=f"t-{ticket}", status="sent", attempts=1, next_try_at=at, created_at=at, updated_at=at))
    assert erase_if_due(svc) == 3  # one booking, one opt-in and its message
    assert erase_if_due(svc) == 0  # once per business day
    with svc.store.read() as conn:
        bk = {r.code: r for r in conn.execute(select(t.bookings))}
        subs = [r.ticket_id for r in conn.execute(select(t.message_subscriptions))]
        box = [r.dedupe for r in conn.execute(select(t.message_outbox))]
    assert (bk["OLDBK1"].name, bk["OLDBK1"].phone, bk["OLDBK1"].status) == ("", "", "checked_in")
    assert (bk["NEWBK1"].name, bk["NEWBK1"].phone) == ("Trần Thị Bình", "0987654321")
    assert subs == [2] and box == ["t-2"]
    entries = admin("GET", "/api/v1/admin/audit?action=privacy.erase").get_json()["entries"]
    got = {e["target"]: e for e in entries}
    assert set(got) == {"bookings", "messages"} and all(e["user"] == "hệ thống" for e in entries)
    assert got["bookings"]["after"]["rows"] == 1 and "1 lịch hẹn" in got["bookings"]["summary"]
    assert got["messages"]["after"]["rows"] == 2 and "Nghị định 13/2023" in got["messages"]["summary"]
    clock.advance(days=1)  # the next day: nothing old left
    assert erase_if_due(svc) == 0


# Signing in from the reports page -------------------------------------------------------------------
def test_signing_in_from_the_reports_page_returns_there(tmp_path):
    app = _make_app(tmp_path)
    try:
        c = app.test_client()
        r = c.get("/admin/reports")
        assert r.status_code == 302 and "next=/admin/reports" in r.headers["Location"].replace("%2F", "/")
        page = c.get(r.headers["Location"]).get_data(as_text=True)
        assert 'name="next" value="/admin/reports"' in page
        csrf = page.split('name="csrf" value="')[1].split('"')[0]
        r = c.post("/counter/login", data={"csrf": csrf, "username": "admin", "password": PASSWORD,
                                           "next": "/admin/reports"})
        assert r.status_code == 302 and r.headers["Location"].endswith("/admin/reports")
        assert c.get("/admin/reports").status_code == 200
    finally:
        app.extensions["motcua"].close()


# Several processes --------------------------------------------------------------------------------
def _wait(fn, limit: float):
    deadline = time.monotonic() + limit
    while True:
        v = fn()
        if v or time.monotonic() > deadline:
            return v
        time.sleep(0.2)


@pytest.mark.slow
def test_a_change_on_one_process_reaches_the_other(server_factory, tmp_path):
    """Two `motcua demo` processes on one SQLite file: a field added through A is taken at B
    within a few seconds, without a restart."""
    data = tmp_path / "office"
    a = server_factory(data).start()
    b = server_factory(data).start()
    s = requests.Session()
    tok = s.post(a.url + "/api/v1/auth/token", json={"username": "admin", "password": "motcua-demo"}, timeout=10).json()["token"]
    codes = lambda srv: [f["code"] for f in requests.get(srv.url + "/api/v1/services", timeout=10).json()]  # noqa: E731
    assert "CUTRU" not in codes(b)
    r = s.post(a.url + "/api/v1/admin/fields", json={**NEW_FIELD, "counters": [1]},
               headers={"Authorization": f"Bearer {tok}"}, timeout=30)
    assert r.status_code == 201, r.text
    assert "CUTRU" in codes(a)
    assert _wait(lambda: "CUTRU" in codes(b), 15), "process B never showed the new field"
    # B issues in it and counter 1 (served through B) may call it.
    kiosk = {"Authorization": "Bearer " + s.post(b.url + "/api/v1/auth/token", json={
        "username": "quay1", "password": "motcua-demo"}, timeout=10).json()["token"]}
    t = requests.post(b.url + "/api/v1/tickets", json={"service": "CUTRU"}, headers=kiosk, timeout=10)
    assert t.status_code == 201, t.text
    assert str(t.json()["number"]).startswith("R")
