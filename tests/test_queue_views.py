"""The read models beside the engine (motcua/queue/views.py), without Flask, on SQLite and PostgreSQL."""
from __future__ import annotations

import pytest

from motcua.queue import QueueError, QueueViews


def test_engine_reads_are_the_views(db_url, engine_for):
    store, eng = engine_for(db_url)
    assert isinstance(eng.views, QueueViews)
    s0 = eng.views.public_state()["seq"]
    tk = eng.issue("HOTICH")
    eng.call_next(1)
    eng.issue("HOTICH")
    assert eng.snapshot() == eng.views.snapshot()
    assert eng.public_state() == eng.views.public_state()
    assert eng.get_ticket(tk["id"]) == eng.views.get_ticket(tk["id"])
    state = eng.views.public_state()
    assert state["seq"] == eng.views.snapshot()["seq"] == s0 + 3
    hotich = next(s for s in state["services"] if s["code"] == "HOTICH")
    assert hotich["waiting"] == 1 and hotich["counters"] == [1, 4]
    assert state["counters"][0]["serving"]["id"] == tk["id"]


def test_ticket_by_id_and_by_token(db_url, engine_for, clock):
    store, eng = engine_for(db_url)
    a = eng.issue("HOTICH")
    clock.advance(seconds=1)
    b = eng.issue("HOTICH")
    clock.advance(seconds=1)
    prio = eng.issue("HOTICH", priority="elderly")
    by_token = eng.views.get_ticket_by_token(b["token"])
    assert by_token["id"] == b["id"] and by_token["token"] == b["token"]
    assert by_token["ahead"] == 2, "the priority ticket and the older one"
    assert by_token["estimated_wait_s"] > 0 and by_token["counters"] == [1, 4]
    assert eng.views.get_ticket(prio["id"])["ahead"] == 0
    assert "token" not in eng.views.get_ticket(a["id"])
    assert eng.views.ticket_token(a["id"]) == a["token"]
    assert eng.views.get_ticket(10_000) is None and eng.views.get_ticket_by_token("nope") is None
    assert eng.views.ticket_token(10_000) is None
    eng.call_next(1)  # the priority ticket: no "ahead" once called
    called = eng.views.get_ticket(prio["id"])
    assert called["status"] == "called" and "ahead" not in called


def test_counter_view_and_waiting_number(db_url, engine_for):
    store, eng = engine_for(db_url)
    a, b = eng.issue("HOTICH"), eng.issue("HOTICH")
    d = eng.issue("DATDAI")
    eng.call_next(1)
    view = eng.views.counter_view(1)
    assert view["current"]["id"] == a["id"] and view["current_visit_id"] is not None
    assert [t["id"] for t in view["next"]] == [b["id"]]
    assert view["waiting"] == [{"code": "HOTICH", "name": view["waiting"][0]["name"], "waiting": 1}]
    assert eng.views.waiting_ticket_id(1, b["number"]) == b["id"]
    assert eng.views.waiting_ticket_id(1, d["number"]) == d["id"], "any waiting number of today"
    assert eng.views.waiting_ticket_id(1, a["number"]) is None, "called, not waiting"
    with pytest.raises(QueueError) as e:
        eng.views.counter_view(99)
    assert e.value.code == "unknown_counter" and e.value.status == 404


def test_office_overview(db_url, engine_for, clock):
    store, eng = engine_for(db_url)
    for _ in range(3):
        eng.issue("HOTICH")
    eng.issue("DATDAI")
    clock.advance(minutes=5)
    first = eng.call_next(4)
    eng.pause_counter(1, reason="Nghỉ giải lao")
    ov = eng.views.office_overview()
    counters = {c["number"]: c for c in ov["counters"]}
    assert counters[1]["state"] == "paused" and counters[1]["state_label"] == "Tạm dừng"
    assert counters[1]["pause_reason"] == "Nghỉ giải lao" and counters[1]["paused_for_s"] == 0
    assert counters[4]["state"] == "called" and counters[4]["current"]["id"] == first["id"]
    assert counters[2]["state"] == "idle" and counters[2]["waiting"] == 1
    assert ov["waiting_total"] == 3
    assert ov["longest_wait"]["number"] == "1002" and ov["longest_wait"]["wait_s"] == 300
    assert [p["number"] for p in ov["paused"]] == [1]
    clock.advance(minutes=2)
    eng.finish(4)
    ov = eng.views.office_overview()
    assert ov["served_today"] == 1 and {c["number"]: c for c in ov["counters"]}[4]["served_today"] == 1


def test_missed_calls(db_url, engine_for, clock):
    store, eng = engine_for(db_url)
    eng.issue("HOTICH")
    eng.issue("HOTICH")
    eng.call_next(1)
    eng.recall(1)
    missed = eng.views.missed_calls(0)
    assert [(c["number"], c["recall"], c["counter"]) for c in missed["calls"]] == [("1001", False, 1),
                                                                                 ("1001", True, 1)]
    assert missed["seq"] == missed["calls"][-1]["seq"]
    assert eng.views.missed_calls(missed["calls"][0]["seq"])["calls"][0]["recall"] is True
    assert eng.views.missed_calls(missed["seq"])["calls"] == []
    clock.advance(minutes=3)
    assert eng.views.missed_calls(0)["calls"] == [], "too old to announce after a reconnect"


def test_the_phone_pages_tickets_read_together_are_what_each_page_would_read(db_url, engine_for, clock):
    """tickets_for_pages (one read for every phone page's ticket, motcua/ticket_pages.py) gives
    each ticket exactly as GET /api/v1/tickets/<id> does: place in line with priority first,
    transfers, the wait with a paused counter, tickets no longer waiting, another field."""
    store, eng = engine_for(db_url)
    made = []
    for k in range(6):
        made.append(eng.issue("HOTICH", priority="elderly" if k in (2, 3, 4) else None))
        clock.advance(seconds=7)
    made.append(eng.issue("DATDAI"))
    eng.call_next(1)  # the first two priority tickets
    eng.call_next(4)
    eng.transfer(4, field_code="DATDAI")  # into the other field's line
    eng.pause_counter(1, reason="Họp")
    seq, got = eng.views.tickets_for_pages([t["id"] for t in made] + [10_000])
    assert seq == eng.views.public_state()["seq"]
    assert set(got) == {t["id"] for t in made}, "an unknown id is left out"
    for t in made:
        assert got[t["id"]] == eng.views.get_ticket(t["id"]), t["number"]
    aheads = sorted(v["ahead"] for v in got.values() if v["status"] == "waiting" and v["service"] == "HOTICH")
    assert aheads == list(range(len(aheads))) and len(aheads) == 4
    assert got[made[4]["id"]]["ahead"] == 0, "the priority ticket still waiting goes first"
    assert {v["status"] for v in got.values()} >= {"waiting", "called"}
    assert eng.views.tickets_for_pages([]) == (seq, {})
