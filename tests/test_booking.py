"""Appointments (issue 15, docs/booking.md): slots from the office's hours and holidays, the
capacity per field and slot, hoarding limits, cancel and move with the code, check-in at the
kiosk (too early / inside the window / too late), booked citizens called ahead of walk-ins at
the slot time by the office's rule, no-shows, numbers taken from a phone; on SQLite and
PostgreSQL, through the API with a fake clock (Monday 23 Nov 2026, 09:00 in Hanoi)."""
from __future__ import annotations

from datetime import date

import pytest

KIOSK = "demo-kiosk-token-0001-doi-khi-trien-khai"
REMOTE = {"REMOTE_ADDR": "203.0.113.7"}  # a phone on the internet (not this machine)
MONDAY = "2026-11-23"


def _config(**booking):
    from config import load_config, sample_path

    cfg = load_config(sample_path("commune"))
    hours = cfg.hours.model_copy(update={"holidays": [*cfg.hours.holidays, date(2026, 11, 25)]})
    return cfg.model_copy(update={"hours": hours, "booking": cfg.booking.model_copy(update=booking)})


@pytest.fixture
def office(tmp_path, db_url, clock):
    from motcua.app import Settings, create_app

    made = []

    def make(**booking):
        app = create_app(Settings(config=_config(**booking), data_dir=tmp_path / f"data{len(made)}",
                                  database_url=db_url, testing=True, start_devices=False, background_jobs=False,
                                  clock=clock))
        made.append(app)
        return app

    yield make
    for app in made:
        app.extensions["motcua"].close()


def _staff(app, user="quay1"):
    c = app.test_client()
    r = c.post("/api/v1/auth/token", json={"username": user, "password": "motcua-demo"})
    if r.status_code != 200:  # the sample has no passwords: give the demo one
        from motcua.demo import seed_demo

        seed_demo(app.extensions["motcua"], password="motcua-demo")
        r = c.post("/api/v1/auth/token", json={"username": user, "password": "motcua-demo"})
    return {"Authorization": f"Bearer {r.get_json()['token']}"}


def _book(client, start="09:30", day=MONDAY, field="HOTICH", phone="0912345678", name="Nguyễn Văn An", **kw):
    return client.post("/api/v1/appointments", json={"field": field, "day": day, "start": start, "name": name,
                                                     "phone": phone}, **kw)


def _call(svc, clock) -> str:
    clock.advance(minutes=1)  # beyond the double-press window
    return svc.engine.call_next(1)["number"]


def test_slots_follow_the_hours_holidays_and_capacity(office, clock):
    app = office()
    c = app.test_client()
    opts = c.get("/api/v1/appointments/options").get_json()
    assert opts["enabled"] and {f["code"] for f in opts["fields"] if f["bookable"]} >= {"HOTICH", "DATDAI"}
    assert "TRAKQ" not in {f["code"] for f in opts["fields"]}
    days = [d["day"] for d in c.get("/api/v1/appointments/days?field=HOTICH").get_json()]
    assert days[0] == MONDAY
    assert "2026-11-25" not in days  # a holiday
    assert "2026-11-29" not in days  # a Sunday
    assert "2026-11-28" in days  # Saturday morning
    slots = c.get(f"/api/v1/appointments/slots?field=HOTICH&day={MONDAY}").get_json()
    starts = [s["start"] for s in slots]
    assert starts[0] == "09:00"  # 07:30-09:00 have passed at 09:00
    assert "11:00" in starts and "11:30" not in starts and "13:30" in starts and starts[-1] == "16:30"
    assert all(s["left"] == 4 for s in slots) and slots[0]["at"] == "2026-11-23T09:00+07:00"
    sat = [s["start"] for s in c.get("/api/v1/appointments/slots?field=HOTICH&day=2026-11-28").get_json()]
    assert sat[0] == "07:30" and sat[-1] == "11:00"
    r = c.get("/api/v1/appointments/slots?field=HOTICH&day=2026-11-25")
    assert r.status_code == 422 and "không nhận đặt lịch" in r.get_json()["message"]
    assert c.get("/api/v1/appointments/slots?field=TRAKQ").status_code == 404
    assert c.get("/api/v1/appointments/slots?field=HOTICH&day=hom-nay").status_code == 422


def test_book_read_move_cancel_with_the_code_names_and_phones_masked(office):
    app = office()
    c = app.test_client()
    r = _book(c, start="10:00")
    assert r.status_code == 201, r.get_data(as_text=True)
    b = r.get_json()
    assert len(b["code"]) == 9 and b["code"][4] == "-"
    assert b["name"] == "Nguyễn V. A." and b["phone"] == "*******678" and b["status"] == "booked"
    assert (b["start"], b["end"], b["checkin_from"], b["checkin_until"]) == ("10:00", "10:30", "09:30", "10:30")
    assert b["day_text"] == "Thứ Hai, 23/11/2026"
    body = c.get(f"/api/v1/appointments/{b['code']}").get_data(as_text=True)
    assert "Văn An" not in body and "0912345678" not in body
    assert c.get(f"/api/v1/appointments/{b['code'].replace('-', '').lower()}").status_code == 200
    left = {s["start"]: s["left"] for s in c.get(f"/api/v1/appointments/slots?field=HOTICH&day={MONDAY}").get_json()}
    assert left["10:00"] == 3
    moved = c.post(f"/api/v1/appointments/{b['code']}/move", json={"day": MONDAY, "start": "14:00"}).get_json()
    assert moved["start"] == "14:00" and moved["moves"] == 1
    left = {s["start"]: s["left"] for s in c.get(f"/api/v1/appointments/slots?field=HOTICH&day={MONDAY}").get_json()}
    assert left["10:00"] == 4 and left["14:00"] == 3
    r = c.post(f"/api/v1/appointments/{b['code']}/cancel", json={})
    assert r.status_code == 200 and r.get_json()["status"] == "cancelled"
    again = c.post(f"/api/v1/appointments/{b['code']}/cancel", json={})
    assert again.status_code == 409 and "không thể thay đổi" in again.get_json()["message"]
    assert c.get("/api/v1/appointments/KXKX-KXKX").status_code == 404
    assert c.get("/api/v1/appointments/abc").status_code == 422


def test_capacity_and_hoarding_limits(office):
    app = office(per_phone_open=2)
    c = app.test_client()
    assert _book(c, field="DATDAI", start="10:00", phone="0900000001").status_code == 201
    assert _book(c, field="DATDAI", start="10:00", phone="0900000002").status_code == 201
    full = _book(c, field="DATDAI", start="10:00", phone="0900000003")
    assert full.status_code == 409 and full.get_json()["error"] == "slot_full"
    # One booking a day per phone, two open bookings per phone.
    assert _book(c, start="10:00", phone="0900000001").get_json()["error"] == "phone_day_limit"
    assert _book(c, start="10:00", day="2026-11-24", phone="0900000001").status_code == 201
    r = _book(c, start="10:00", day="2026-11-26", phone="0900000001")
    assert r.status_code == 409 and r.get_json()["error"] == "too_many_bookings"
    for bad, code in ((dict(phone="12345"), "bad_phone"), (dict(name="  "), "bad_name"), (dict(name="<b>x</b>"), "bad_name"),
                      (dict(start="09:45"), "bad_slot"), (dict(start="07:30"), "slot_past"),
                      (dict(day="2027-06-01"), "bad_day")):
        r = _book(c, **{"phone": "0900000009", **bad})
        assert r.status_code in (409, 422) and r.get_json()["error"] == code, (bad, r.get_json())
    r = c.post("/api/v1/appointments", json={"field": "HOTICH"})
    assert r.status_code == 422 and r.get_json()["message"]


def test_public_writes_and_unknown_codes_are_throttled_per_address(office):
    app = office()
    c = app.test_client()
    for i in range(10):
        r = _book(c, start="15:00", day=f"2026-11-{23 + (i % 2)}", phone=f"09000001{i:02d}", environ_base=REMOTE)
        assert r.status_code in (201, 409), r.get_json()
    r = _book(c, start="16:00", phone="0900000200", environ_base=REMOTE)
    assert r.status_code == 429 and r.get_json()["error"] == "too_many_requests"
    assert _book(c, start="16:00", phone="0900000200").status_code == 201  # this machine: not counted
    for _ in range(20):
        assert c.get("/api/v1/appointments/KXKX-KXKX", environ_base=REMOTE).status_code == 404
    assert c.get("/api/v1/appointments/KXKX-KXKX", environ_base=REMOTE).status_code == 429


def test_check_in_too_early_inside_and_too_late(office, clock):
    app = office()
    c = app.test_client()
    kiosk = {"Authorization": f"Bearer {KIOSK}"}
    early = _book(c, start="11:00", phone="0900000001").get_json()
    inside = _book(c, start="09:30", phone="0900000002").get_json()
    r = c.post(f"/api/v1/appointments/{early['code']}/check-in", headers=kiosk)
    assert r.status_code == 409 and r.get_json()["error"] == "too_early"
    assert r.get_json()["come_back_at"] == "2026-11-23T10:30+07:00"
    assert "quay lại lấy số từ 10:30" in r.get_json()["message"]
    assert c.post(f"/api/v1/appointments/{early['code']}/check-in").status_code == 401  # a phone cannot
    r = c.post(f"/api/v1/appointments/{inside['code']}/check-in", headers=kiosk)
    assert r.status_code == 201, r.get_json()
    out = r.get_json()
    assert out["late"] is False and out["booking"]["status"] == "checked_in"
    assert out["ticket"]["number"].startswith("1") and out["ticket"]["url"].endswith("/t/" + out["ticket"]["token"])
    again = c.post(f"/api/v1/appointments/{inside['code']}/check-in", headers=kiosk)
    assert again.status_code == 200 and again.get_json()["ticket"]["id"] == out["ticket"]["id"]
    assert again.get_json()["ticket"]["already_issued"] is True
    assert c.post(f"/api/v1/appointments/{inside['code']}/cancel", json={}).status_code == 409
    tardy = _book(c, start="10:00", phone="0900000003").get_json()
    clock.advance(minutes=91)  # 10:31: past 10:00's window (until 10:30)
    late = c.post(f"/api/v1/appointments/{tardy['code']}/check-in", headers=kiosk).get_json()
    assert late["late"] is True and late["booking"]["status"] == "late"
    svc = app.extensions["motcua"]
    assert svc.engine.views.get_ticket(late["ticket"]["id"])["status"] == "waiting"


def test_booked_citizens_are_called_ahead_of_walk_ins_at_the_slot_time_by_the_rule(office, clock):
    """Two walk-ins per booked citizen at a counter (`walk_ins_per_booked = 2`); a booking
    checked in before its slot waits like everyone until the slot begins."""
    app = office(walk_ins_per_booked=2)
    c = app.test_client()
    svc = app.extensions["motcua"]
    kiosk = {"Authorization": f"Bearer {KIOSK}"}
    b1 = _book(c, start="09:00", phone="0900000001").get_json()
    b2 = _book(c, start="09:00", phone="0900000002").get_json()
    b3 = _book(c, start="09:30", phone="0900000003").get_json()
    walk = [svc.engine.issue("HOTICH")["number"] for _ in range(4)]
    clock.advance(minutes=5)
    booked = {}
    for b in (b1, b2, b3):  # b3 (09:30) checks in early, inside its window
        r = c.post(f"/api/v1/appointments/{b['code']}/check-in", headers=kiosk)
        assert r.status_code == 201, r.get_json()
        booked[b["code"]] = r.get_json()["ticket"]["number"]
    calls = [_call(svc, clock) for _ in range(6)]
    assert calls == [booked[b1["code"]], walk[0], walk[1], booked[b2["code"]], walk[2], walk[3]]
    # b3's slot has not begun: it waits behind... nobody now, so it comes next in the normal order.
    assert _call(svc, clock) == booked[b3["code"]]


def test_a_booked_ticket_waits_until_its_slot_begins(office, clock):
    app = office(walk_ins_per_booked=0)
    c = app.test_client()
    svc = app.extensions["motcua"]
    kiosk = {"Authorization": f"Bearer {KIOSK}"}
    b = _book(c, start="09:30", phone="0900000001").get_json()
    walk = [svc.engine.issue("HOTICH")["number"] for _ in range(3)]
    mine = c.post(f"/api/v1/appointments/{b['code']}/check-in", headers=kiosk).get_json()["ticket"]["number"]
    assert _call(svc, clock) == walk[0]  # 09:01: the slot is 09:30
    clock.advance(minutes=29)
    assert _call(svc, clock) == mine  # 09:31: ahead of the two walk-ins left
    assert _call(svc, clock) == walk[1]


def test_bookings_never_checked_in_become_no_shows_in_the_days_list(office, clock):
    app = office()
    c = app.test_client()
    svc = app.extensions["motcua"]
    b = _book(c, start="09:00", phone="0900000001").get_json()
    _book(c, start="10:00", phone="0900000002")
    clock.advance(minutes=31)
    assert svc.bookings.mark_no_shows() == 1
    staff = _staff(app)
    day = c.get(f"/api/v1/appointments/day?day={MONDAY}", headers=staff).get_json()
    assert day["counts"]["no_show"] == 1 and day["counts"]["booked"] == 1
    first = day["bookings"][0]
    assert first["code"] == b["code"] and first["status_label"] == "Không đến" and first["name"] == "Nguyễn V. A."
    assert c.get(f"/api/v1/appointments/day?day={MONDAY}").status_code == 401
    assert c.get("/api/v1/appointments/day", headers={"Authorization": f"Bearer {KIOSK}"}).status_code == 403


def test_staff_book_on_a_citizens_behalf(office):
    app = office()
    c = app.test_client()
    r = _book(c, start="14:00", headers=_staff(app))
    assert r.status_code == 201 and r.get_json()["source"] == "counter"
    r = _book(c, start="14:00", headers={"Authorization": f"Bearer {KIOSK}"}, phone="0900000003")
    assert r.status_code == 403


def test_a_number_from_a_phone_in_the_fields_that_allow_it(office, clock):
    app = office(per_phone_per_day=1)
    c = app.test_client()
    svc = app.extensions["motcua"]
    r = c.post("/api/v1/appointments/join", json={"field": "HOTICH", "phone": "0912 345 678"}, environ_base=REMOTE)
    assert r.status_code == 201, r.get_json()
    tk = r.get_json()
    assert tk["status"] == "waiting" and tk["url"].endswith("/t/" + tk["token"])
    assert svc.engine.views.get_ticket_by_token(tk["token"])["number"] == tk["number"]
    again = c.post("/api/v1/appointments/join", json={"field": "HOTICH", "phone": "0912345678"}, environ_base=REMOTE)
    assert again.status_code == 409 and again.get_json()["error"] == "phone_day_limit"
    no = c.post("/api/v1/appointments/join", json={"field": "DATDAI", "phone": "0912345679"}, environ_base=REMOTE)
    assert no.status_code == 403 and "không nhận lấy số từ xa" in no.get_json()["message"]
    clock.advance(hours=9)  # 18:00: closed
    closed = c.post("/api/v1/appointments/join", json={"field": "HOTICH", "phone": "0912345670"})
    assert closed.status_code == 409 and closed.get_json()["error"] == "after_close"


def test_booking_disabled_office_answers_plainly(office):
    app = office(enabled=False)
    c = app.test_client()
    assert c.get("/api/v1/appointments/options").get_json()["enabled"] is False
    r = _book(c)
    assert r.status_code == 404 and "chưa nhận đặt lịch" in r.get_json()["message"]


def _alternate(svc, clock, until_id: int) -> int:
    """Counters 1 and 4 (both serve HOTICH) call in turn until ticket `until_id` is called;
    how many were called before it."""
    for n in range(40):
        clock.advance(minutes=1)
        tk = svc.engine.call_next(1 if n % 2 == 0 else 4)
        if tk["id"] == until_id:
            return n
    raise AssertionError("never called")


def test_a_booked_tickets_people_ahead_are_those_called_before_it_under_the_rule(office, clock):
    """Two walk-ins per booked citizen at each counter: a booked ticket's "people ahead" is the
    number really called before it, not everyone who came earlier."""
    app = office(walk_ins_per_booked=2)
    c = app.test_client()
    svc = app.extensions["motcua"]
    kiosk = {"Authorization": f"Bearer {KIOSK}"}
    books = [_book(c, start="09:00", phone=f"090000000{i}").get_json() for i in range(3)]
    walk = [svc.engine.issue("HOTICH") for _ in range(6)]
    assert walk[-1]["ahead"] == 5
    clock.advance(minutes=5)
    tickets = [c.post(f"/api/v1/appointments/{b['code']}/check-in", headers=kiosk).get_json()["ticket"]
               for b in books]
    # The first booked citizen is next at a counter; the third waits behind the two booked before
    # it and the four walk-ins the counters call before their next booked turn (not all six).
    assert [tk["ahead"] for tk in tickets] == [0, 1, 6]
    third = svc.engine.views.get_ticket(tickets[2]["id"])
    assert third["ahead"] == 6 and third["estimate"] is not None
    late_walk = svc.engine.issue("HOTICH")
    assert late_walk["ahead"] == 9  # a walk-in still counts everyone before it
    assert _alternate(svc, clock, tickets[2]["id"]) == 6


def test_a_booked_ticket_before_its_slot_counts_the_calls_until_then(office, clock):
    app = office(walk_ins_per_booked=0)
    c = app.test_client()
    svc = app.extensions["motcua"]
    b = _book(c, start="09:30", phone="0900000001").get_json()
    for _ in range(30):
        svc.engine.issue("HOTICH")
    clock.advance(minutes=1)
    mine = c.post(f"/api/v1/appointments/{b['code']}/check-in",
                  headers={"Authorization": f"Bearer {KIOSK}"}).get_json()["ticket"]
    # 09:01, slot at 09:30: two counters call (default turn time) until then, then it goes first.
    assert 0 < mine["ahead"] < 30
    clock.advance(minutes=30)
    assert svc.engine.views.get_ticket(mine["id"])["ahead"] == 0


def _tickets_of(svc, source: str) -> list[int]:
    from sqlalchemy import select

    from motcua.store import tables as t

    with svc.store.read() as conn:
        return [r.id for r in conn.execute(select(t.tickets.c.id).where(t.tickets.c.source == source))]


def test_a_check_in_stopped_after_its_ticket_was_issued_gives_that_ticket_not_a_second(office, clock):
    """The process stops between issuing the ticket and linking it to the booking: the next
    check-in of the code (at once) gives that same ticket, linked; never a second ticket."""
    app = office()
    c = app.test_client()
    svc = app.extensions["motcua"]
    kiosk = {"Authorization": f"Bearer {KIOSK}"}
    b = _book(c, start="09:00", phone="0900000001").get_json()

    class Stopped(BaseException):
        pass

    def issue_then_stop(source: str) -> dict:
        svc.engine.issue("HOTICH", source=source)
        raise Stopped()

    with pytest.raises(Stopped):
        svc.bookings.check_in(b["code"], issue_then_stop, svc.engine.views.get_ticket)
    r = c.post(f"/api/v1/appointments/{b['code']}/check-in", headers=kiosk)
    assert r.status_code in (200, 201), r.get_json()
    assert _tickets_of(svc, "booking") == [r.get_json()["ticket"]["id"]]
    assert r.get_json()["booking"]["status"] == "checked_in"

    # A harder stop: nothing ran after the ticket's commit (the booking still says "checking in").
    from sqlalchemy import update

    from motcua.store import tables as t

    b2 = _book(c, start="09:00", phone="0900000002").get_json()
    with svc.store.write() as conn:
        conn.execute(update(t.bookings).where(t.bookings.c.code == b2["code"].replace("-", ""))
                     .values(status="checking_in", updated_at=clock()))
    orphan = svc.engine.issue("HOTICH", source="booking")
    r = c.post(f"/api/v1/appointments/{b2['code']}/check-in", headers=kiosk)
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["ticket"]["id"] == orphan["id"] and r.get_json()["booking"]["status"] == "checked_in"
    assert len(_tickets_of(svc, "booking")) == 2
    again = c.post(f"/api/v1/appointments/{b2['code']}/check-in", headers=kiosk)
    assert again.status_code == 200 and again.get_json()["ticket"]["id"] == orphan["id"]


def test_a_check_in_stopped_before_its_ticket_is_tried_again_within_seconds(office, clock):
    app = office()
    c = app.test_client()
    svc = app.extensions["motcua"]
    kiosk = {"Authorization": f"Bearer {KIOSK}"}
    b = _book(c, start="09:00", phone="0900000001").get_json()
    from sqlalchemy import update

    from motcua.store import tables as t

    with svc.store.write() as conn:  # claimed, then the process stopped before the ticket
        conn.execute(update(t.bookings).where(t.bookings.c.code == b["code"].replace("-", ""))
                     .values(status="checking_in", updated_at=clock()))
    r = c.post(f"/api/v1/appointments/{b['code']}/check-in", headers=kiosk)
    assert r.status_code == 409 and "Xin chờ một chút" in r.get_json()["message"]
    clock.advance(seconds=16)
    r = c.post(f"/api/v1/appointments/{b['code']}/check-in", headers=kiosk)
    assert r.status_code == 201 and r.get_json()["booking"]["status"] == "checked_in"
    assert _tickets_of(svc, "booking") == [r.get_json()["ticket"]["id"]]


def test_one_ticket_belongs_to_one_booking_even_if_two_links_race(office, clock):
    """Two check-ins linking the same ticket at the same moment (each saw it free) cannot both
    win: the database keeps one booking per ticket, and the loser is told it was not linked."""
    from sqlalchemy import update
    from sqlalchemy.exc import IntegrityError

    from motcua.store import tables as t

    app = office()
    c = app.test_client()
    svc = app.extensions["motcua"]
    codes = [_book(c, start="09:00", phone=f"090000000{i}").get_json()["code"].replace("-", "") for i in (1, 2)]
    tk = svc.engine.issue("HOTICH", source="booking")
    with svc.store.write() as conn:
        conn.execute(update(t.bookings).where(t.bookings.c.code == codes[0]).values(ticket_id=tk["id"]))
    with pytest.raises(IntegrityError):  # a second link of the same ticket, as a racing check-in would write it
        with svc.store.write() as conn:
            conn.execute(update(t.bookings).where(t.bookings.c.code == codes[1]).values(ticket_id=tk["id"]))
