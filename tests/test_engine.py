"""The queue engine without Flask, on SQLite and PostgreSQL."""
from __future__ import annotations

import threading
from collections import Counter
from datetime import date

import pytest
from sqlalchemy import func, select

from motcua.queue import QueueError
from motcua.store import tables as t


def _events(store, ticket_id):
    with store.read() as conn:
        return [(r.action, r.from_status, r.to_status) for r in conn.execute(
            select(t.ticket_events).where(t.ticket_events.c.ticket_id == ticket_id).order_by(t.ticket_events.c.id))]


def test_block_numbering_per_field_and_day(db_url, engine_for, clock):
    store, eng = engine_for(db_url)
    assert [eng.issue("HOTICH")["number"] for _ in range(3)] == ["1001", "1002", "1003"]
    assert eng.issue("DATDAI")["number"] == "2001"
    clock.advance(days=1)
    assert eng.issue("HOTICH")["number"] == "1001", "numbering restarts on a new business day"


def test_business_day_follows_office_time_zone(db_url, engine_for, clock):
    from datetime import datetime, timezone

    store, eng = engine_for(db_url)
    clock.now = datetime(2026, 11, 23, 16, 30, tzinfo=timezone.utc)  # 23:30 in Hanoi, still the 23rd
    a = eng.issue("HOTICH")
    clock.now = datetime(2026, 11, 23, 17, 30, tzinfo=timezone.utc)  # 00:30 on the 24th in Hanoi
    b = eng.issue("HOTICH")
    assert a["business_date"] == "2026-11-23" and b["business_date"] == "2026-11-24"
    assert b["number"] == "1001"


def test_prefix_numbering(db_url, engine_for, office_config):
    from config.schema import NumberingConfig

    fields = [f.model_copy(update={"numbering": NumberingConfig(mode="prefix", prefix=chr(65 + i), width=3)})
              for i, f in enumerate(office_config.fields)]
    cfg = office_config.model_copy(update={"fields": fields})
    store, eng = engine_for(db_url, cfg)
    assert eng.issue("HOTICH")["number"] == "A001"
    assert eng.issue("DATDAI")["number"] == "B001"
    assert eng.issue("HOTICH")["number"] == "A002"


def test_full_visit_writes_events(db_url, engine_for, clock):
    store, eng = engine_for(db_url)
    tk = eng.issue("HOTICH")
    called = eng.call_next(1, staff_id=2)
    assert called["id"] == tk["id"] and called["status"] == "called" and called["counter"] == 1
    clock.advance(seconds=30)
    eng.start(1)
    clock.advance(minutes=4)
    done = eng.finish(1, dossiers=["000.17.22.H56-261123-0001"])
    assert done["status"] == "done"
    assert _events(store, tk["id"]) == [
        ("issue", None, "waiting"), ("call", "waiting", "called"), ("start", "called", "serving"),
        ("finish", "serving", "done")]
    with store.read() as conn:
        v = conn.execute(select(t.visits)).one()
    assert v.outcome == "done" and v.dossiers == ["000.17.22.H56-261123-0001"]
    assert (v.ended_at - v.called_at).total_seconds() == pytest.approx(270)


def test_call_next_only_serves_the_counters_fields(db_url, engine_for):
    store, eng = engine_for(db_url)
    eng.issue("DATDAI")
    assert eng.call_next(1) is None, "counter 1 serves only Hộ tịch"
    assert eng.call_next(2)["service"] == "DATDAI"


def test_oldest_first_and_priority_quota(db_url, engine_for, clock, office_config):
    cfg = office_config.model_copy(update={"queue": office_config.queue.model_copy(
        update={"priority_quota": 2, "double_press_window_s": 0})})
    store, eng = engine_for(db_url, cfg)
    normal = [eng.issue("HOTICH")["number"] for _ in range(3)]
    clock.advance(seconds=1)
    prio = [eng.issue("HOTICH", priority="elderly")["number"] for _ in range(3)]
    order = []
    for _ in range(6):
        clock.advance(seconds=1)
        order.append(eng.call_next(1)["number"])
    # Two priority tickets, then one normal (quota 2), then priority again, then the rest by age.
    assert order == [prio[0], prio[1], normal[0], prio[2], normal[1], normal[2]]


def test_double_press_returns_the_same_ticket(db_url, engine_for, clock):
    store, eng = engine_for(db_url)
    a = eng.issue("HOTICH")
    eng.issue("HOTICH")
    first = eng.call_next(1)
    again = eng.call_next(1)
    assert first["id"] == again["id"] == a["id"]
    clock.advance(seconds=5)
    third = eng.call_next(1)
    assert third["id"] != a["id"], "after the double-press window, call-next moves on"


def test_idempotency_key_replays_the_answer(db_url, engine_for, clock, office_config):
    cfg = office_config.model_copy(update={"queue": office_config.queue.model_copy(update={"double_press_window_s": 0})})
    store, eng = engine_for(db_url, cfg)
    eng.issue("HOTICH"), eng.issue("HOTICH")
    a = eng.call_next(1, idempotency_key="k-1")
    clock.advance(seconds=10)
    b = eng.call_next(1, idempotency_key="k-1")
    assert a["id"] == b["id"]
    with store.read() as conn:
        calls = conn.execute(select(func.count()).select_from(t.ticket_events)
                             .where(t.ticket_events.c.action == "call")).scalar_one()
    assert calls == 1


def test_recall_skip_and_reactivate(db_url, engine_for, office_config, clock):
    cfg = office_config.model_copy(update={"queue": office_config.queue.model_copy(update={"no_show_after_recalls": 1})})
    store, eng = engine_for(db_url, cfg)
    tk = eng.issue("HOTICH")
    eng.call_next(1)
    with pytest.raises(QueueError) as e:
        eng.skip(1)
    assert e.value.code == "recall_first" and "gọi lại" in e.value.message
    assert eng.recall(1)["recalls"] == 1
    assert eng.skip(1)["status"] == "no_show"
    with pytest.raises(QueueError):
        eng.recall(1)
    back = eng.reactivate(tk["id"])
    assert back["status"] == "waiting"
    clock.advance(seconds=5)
    assert eng.call_next(1)["id"] == tk["id"]


def test_transfer_keeps_the_number_and_goes_to_the_front(db_url, engine_for, clock):
    store, eng = engine_for(db_url)
    first = eng.issue("HOTICH")
    clock.advance(minutes=1)
    later = eng.issue("DATDAI")
    eng.call_next(1)
    moved = eng.transfer(1, field_code="DATDAI")
    assert moved["number"] == first["number"] and moved["service"] == "DATDAI" and moved["status"] == "waiting"
    assert eng.call_next(2)["id"] == first["id"], "transferred ticket keeps its place by issue time"
    assert later["id"] != first["id"]
    with store.read() as conn:
        outcomes = [r.outcome for r in conn.execute(select(t.visits).order_by(t.visits.c.id))]
    assert outcomes[0] == "transferred"


def test_transfer_to_a_counter(db_url, engine_for, clock):
    store, eng = engine_for(db_url)
    a = eng.issue("HOTICH")
    eng.call_next(1)
    eng.transfer(1, to_counter=4)
    assert eng.call_next(1) is None or eng.call_next(1)["id"] != a["id"]
    assert eng.call_next(4)["id"] == a["id"]


def test_hold_and_resume(db_url, engine_for, clock):
    store, eng = engine_for(db_url)
    a = eng.issue("HOTICH")
    b = eng.issue("HOTICH")
    eng.call_next(1)
    assert eng.hold(1)["status"] == "on_hold"
    clock.advance(seconds=5)
    assert eng.call_next(1)["id"] == b["id"]
    with pytest.raises(QueueError):
        eng.resume(1, a["id"])  # counter busy with b
    eng.finish(1)
    assert eng.resume(1, a["id"])["status"] == "serving"
    assert eng.finish(1)["status"] == "done"


def test_cancel_and_pause(db_url, engine_for):
    store, eng = engine_for(db_url)
    a = eng.issue("HOTICH")
    assert eng.cancel(a["id"])["status"] == "cancelled"
    eng.pause_counter(1, reason="Họp giao ban")
    eng.issue("HOTICH")
    with pytest.raises(QueueError) as e:
        eng.call_next(1)
    assert e.value.code == "counter_paused" and "tạm dừng" in e.value.message
    eng.unpause_counter(1)
    assert eng.call_next(1) is not None


def test_daily_cap_refuses_with_message(db_url, engine_for, office_config):
    fields = [f.model_copy(update={"daily_cap": 2}) if f.code == "XAYDUNG" else f for f in office_config.fields]
    store, eng = engine_for(db_url, office_config.model_copy(update={"fields": fields}))
    eng.issue("XAYDUNG"), eng.issue("XAYDUNG")
    with pytest.raises(QueueError) as e:
        eng.issue("XAYDUNG")
    assert e.value.code == "daily_cap" and "hết số" in e.value.message
    with store.read() as conn:
        assert conn.execute(select(func.count()).select_from(t.tickets)).scalar_one() == 2


def test_closed_hours_and_holidays(db_url, engine_for, office_config, clock):
    from datetime import datetime, timezone

    cfg = office_config.model_copy(update={"office": office_config.office.model_copy(update={"always_open": False})})
    store, eng = engine_for(db_url, cfg)
    clock.now = datetime(2026, 11, 23, 5, 0, tzinfo=timezone.utc)  # 12:00, lunch break
    with pytest.raises(QueueError) as e:
        eng.issue("HOTICH")
    assert e.value.code == "between_sessions" and "13:30" in e.value.message
    clock.now = datetime(2026, 11, 22, 2, 0, tzinfo=timezone.utc)  # Sunday
    with pytest.raises(QueueError) as e:
        eng.issue("HOTICH")
    assert e.value.code == "closed_day"
    clock.now = datetime(2026, 9, 2, 2, 0, tzinfo=timezone.utc)  # Quốc khánh
    with pytest.raises(QueueError) as e:
        eng.issue("HOTICH")
    assert e.value.code == "holiday"
    clock.now = datetime(2026, 11, 23, 2, 0, tzinfo=timezone.utc)  # Monday 09:00
    assert eng.issue("HOTICH")["number"] == "1001"


def test_end_of_day_expires_what_is_left(db_url, engine_for, clock):
    store, eng = engine_for(db_url)
    a, b = eng.issue("HOTICH"), eng.issue("HOTICH")
    eng.call_next(1)
    clock.advance(days=1)
    assert eng.expire_old() == 2
    assert eng.get_ticket(a["id"])["status"] == "expired"
    assert eng.get_ticket(b["id"])["status"] == "expired"
    assert eng.call_next(1) is None


def test_snapshot_and_sequence_numbers(db_url, engine_for):
    store, eng = engine_for(db_url)
    seen = []
    eng.bus.subscribe(seen.append)
    s0 = eng.snapshot()["seq"]
    eng.issue("HOTICH")
    eng.call_next(1)
    snap = eng.snapshot()
    assert snap["seq"] == s0 + 2
    changed = [n.payload["seq"] for n in seen if n.name == "queue:changed"]
    assert changed == [s0 + 1, s0 + 2]
    called = [n for n in seen if n.name == "ticket:called"]
    assert called and called[0].payload["counter"] == 1 and called[0].payload["recall"] is False
    assert snap["counters"][0]["serving"]["number"] == "1001"


def test_concurrent_counters_never_share_a_ticket(db_url, engine_for, office_config):
    """Threads on one engine: 4 counters serving one field call 200 tickets, each exactly once."""
    fields = list(office_config.fields)
    counters = [c.model_copy(update={"fields": ["HOTICH"]}) for c in office_config.counters]
    cfg = office_config.model_copy(update={"counters": counters, "fields": fields,
                                           "queue": office_config.queue.model_copy(update={"double_press_window_s": 0})})
    store, eng = engine_for(db_url, cfg, use_clock=False)
    for _ in range(200):
        eng.issue("HOTICH")
    got: list[int] = []
    lock = threading.Lock()

    def worker(n: int) -> None:
        while True:
            tk = eng.call_next(n)
            if tk is None:
                return
            with lock:
                got.append(tk["id"])
            eng.finish(n)

    threads = [threading.Thread(target=worker, args=(n,)) for n in (1, 2, 3, 4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(120)
    counts = Counter(got)
    assert len(counts) == 200 and max(counts.values()) == 1


def test_every_move_the_engine_makes_is_in_the_transition_table(db_url, engine_for, clock):
    """Each command once (expire from every open state): every status change it writes is a
    move of TRANSITIONS."""
    from motcua.queue.states import TRANSITIONS, can_move

    store, eng = engine_for(db_url)
    a, b, c, d, e, f = (eng.issue("HOTICH") for _ in range(6))
    eng.call_next(1)                      # a: waiting -> called
    eng.recall(1)
    eng.start(1)                          # a: called -> serving
    eng.hold(1)                           # a: serving -> on_hold
    eng.resume(1, a["id"])                # a: on_hold -> serving
    eng.finish(1)                         # a: serving -> done
    clock.advance(seconds=10)
    eng.call_next(1)                      # b
    eng.skip(1)                           # b: called -> no_show
    eng.reactivate(b["id"])               # b: no_show -> waiting
    eng.call_next(1)                      # b again
    eng.hold(1)                           # b: called -> serving -> on_hold
    eng.call_next(1)                      # c
    eng.transfer(1, field_code="DATDAI")  # c: called -> waiting
    clock.advance(seconds=10)
    eng.call_next(2)                      # c at counter 2
    eng.start(2)
    eng.transfer(2, to_counter=1)         # c: serving -> waiting (for counter 1)
    eng.call_next(4)                      # d
    eng.finish(4)                         # d: called -> serving -> done
    clock.advance(seconds=10)
    eng.call_next(4)                      # e
    eng.cancel(e["id"])                   # e: called -> cancelled
    eng.cancel(f["id"])                   # f: waiting -> cancelled
    eng.issue("HOTICH")                   # g
    eng.call_next(4)                      # c (kept for counter 1) is skipped by counter 4: g is called
    eng.call_next(1)                      # c
    eng.start(1)
    eng.issue("HOTICH")                   # h
    clock.advance(seconds=10)
    eng.call_next(4)                      # g finished, h called
    eng.skip(4)                           # h: no_show
    eng.issue("HOTICH")                   # i: waiting
    clock.advance(days=1)
    assert eng.expire_old() == 4          # b on_hold, c serving, h no_show, i waiting
    with store.read() as conn:
        moves = {(r.from_status, r.to_status) for r in conn.execute(
            select(t.ticket_events.c.from_status, t.ticket_events.c.to_status))}
    changes = {(src, dst) for src, dst in moves if src is not None and src != dst}
    assert all(can_move(src, dst) for src, dst in changes), changes - {
        (s, d) for s, ds in TRANSITIONS.items() for d in ds}
    expired_from = {src for src, dst in changes if dst == "expired"}
    assert expired_from == {"waiting", "serving", "on_hold", "no_show"}
    assert {("called", "cancelled"), ("waiting", "cancelled"), ("no_show", "waiting"), ("called", "waiting"),
            ("serving", "waiting"), ("on_hold", "serving"), ("serving", "on_hold")} <= changes


def test_a_move_outside_the_transition_table_is_refused(db_url, engine_for, monkeypatch):
    """A status change the table does not allow is a bug (IllegalMove), not a refusal: the
    transaction rolls back and publishes nothing."""
    from motcua.queue import states
    from motcua.queue.states import IllegalMove, Status, check_move

    with pytest.raises(IllegalMove):
        check_move(Status.DONE, Status.WAITING)
    check_move(Status.WAITING, Status.CALLED)

    store, eng = engine_for(db_url)
    tk = eng.issue("HOTICH")
    seq = eng.snapshot()["seq"]
    seen = []
    eng.bus.subscribe(seen.append)
    monkeypatch.setitem(states.TRANSITIONS, Status.WAITING, {Status.CANCELLED, Status.EXPIRED})
    with pytest.raises(IllegalMove) as e:
        eng.call_next(1)
    assert not isinstance(e.value, QueueError), "a bug, never a refusal for the caller"
    assert eng.get_ticket(tk["id"])["status"] == "waiting"
    assert eng.snapshot()["seq"] == seq and seen == []
    assert _events(store, tk["id"]) == [("issue", None, "waiting")]
    with store.read() as conn:
        assert conn.execute(select(func.count()).select_from(t.visits)).scalar_one() == 0
