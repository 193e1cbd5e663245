"""The event bus: delivery after commit only, order kept per office, failing subscribers isolated."""
from __future__ import annotations

import threading

import pytest
from sqlalchemy import create_engine, select

from motcua.events import (DEVICE_STATUS, QUEUE_CHANGED, TICKET_CALLED, TICKET_ISSUED, Event, EventBus)
from motcua.queue import QueueError


# The bus alone --------------------------------------------------------------------------------
def test_a_later_transaction_waits_for_an_earlier_one_of_this_process():
    bus = EventBus()
    got: list[int] = []
    bus.subscribe(lambda e: got.append(e.seq))
    bus.reserve(5)
    bus.reserve(6)
    bus.publish([Event(QUEUE_CHANGED, {"seq": 6}, seq=6)], seq=6)  # committed second, published first
    assert got == []
    bus.publish([Event(QUEUE_CHANGED, {"seq": 5}, seq=5)], seq=5)
    assert got == [5, 6]


def test_an_abandoned_reservation_releases_what_waits_behind_it():
    bus = EventBus()
    got: list[int] = []
    bus.subscribe(lambda e: got.append(e.seq))
    bus.reserve(7)
    bus.reserve(8)
    bus.publish([Event(QUEUE_CHANGED, {"seq": 8}, seq=8)], seq=8)
    assert got == []
    bus.abandon(7)  # that transaction rolled back
    assert got == [8]


def test_a_raising_subscriber_never_stops_the_others():
    bus = EventBus()
    got: list[str] = []

    def broken(_e: Event) -> None:
        raise RuntimeError("a broken screen")

    bus.subscribe(broken, label="broken")
    bus.subscribe(lambda e: got.append(e.name), label="good")
    for _ in range(3):
        bus.emit(DEVICE_STATUS, {"name": "may-in"}, "staff")
    assert got == [DEVICE_STATUS] * 3
    assert bus.failures() == {"broken": 3}


def test_a_subscriber_that_publishes_keeps_the_order_and_does_not_deadlock():
    bus = EventBus()
    order: list[tuple[str, str]] = []

    def first(e: Event) -> None:
        order.append(("first", e.name))
        if e.name == DEVICE_STATUS:
            bus.emit(TICKET_CALLED, {"number": "1001"})  # e.g. a key press that calls a number

    bus.subscribe(first)
    bus.subscribe(lambda e: order.append(("second", e.name)))
    done = threading.Event()
    threading.Thread(target=lambda: (bus.emit(DEVICE_STATUS, {}), done.set()), daemon=True).start()
    assert done.wait(10), "publishing from a subscriber deadlocked"
    # Every subscriber sees the device event before anyone sees the call it caused.
    assert order == [("first", DEVICE_STATUS), ("second", DEVICE_STATUS),
                     ("first", TICKET_CALLED), ("second", TICKET_CALLED)]


def test_unknown_event_names_are_refused():
    with pytest.raises(ValueError):
        Event("ticket:teleported", {})
    with pytest.raises(ValueError):
        EventBus().subscribe(lambda e: None, names=["ticket:teleported"])


# The bus behind the queue engine ---------------------------------------------------------------
def test_events_arrive_after_the_commit_and_never_for_a_rolled_back_change(db_url, engine_for):
    store, eng = engine_for(db_url)
    other = create_engine(store.engine.url)  # another connection, as another process would read
    seen_committed: list[bool] = []

    def check(e: Event) -> None:
        if e.name == TICKET_ISSUED:
            from motcua.store import tables as t

            with other.connect() as conn:
                row = conn.execute(select(t.tickets.c.id).where(t.tickets.c.id == e.payload["ticket"]["id"])).first()
            seen_committed.append(row is not None)

    names: list[str] = []
    eng.bus.subscribe(check)
    eng.bus.subscribe(lambda e: names.append(e.name))
    try:
        eng.issue("HOTICH")
        eng.issue("HOTICH")
        assert seen_committed == [True, True]
        before = list(names)
        eng.pause_counter(1, reason="Họp giao ban")
        names.clear()
        with pytest.raises(QueueError):
            eng.call_next(1)  # refused: the counter is paused; nothing changed, nothing published
        assert names == []
        assert before.count(TICKET_ISSUED) == 2
    finally:
        other.dispose()


def test_every_subscriber_sees_the_office_changes_in_order(db_url, engine_for, office_config):
    """Threads issuing and calling at once: each subscriber receives seq in increasing order,
    every transaction's events together, its queue:changed marker last."""
    counters = [c.model_copy(update={"fields": ["HOTICH"]}) for c in office_config.counters]
    cfg = office_config.model_copy(update={
        "counters": counters,
        "queue": office_config.queue.model_copy(update={"double_press_window_s": 0})})
    store, eng = engine_for(db_url, cfg, use_clock=False)
    a: list[Event] = []
    b: list[Event] = []
    eng.bus.subscribe(a.append)
    eng.bus.subscribe(b.append)
    errors: list[BaseException] = []

    def issuer() -> None:
        try:
            for _ in range(40):
                eng.issue("HOTICH")
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    def caller(n: int) -> None:
        try:
            for _ in range(20):
                eng.call_next(n)
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=issuer) for _ in range(2)]
    threads += [threading.Thread(target=caller, args=(c.number,)) for c in counters[:3]]
    for th in threads:
        th.start()
    for th in threads:
        th.join(120)
    assert not errors
    assert [id(e) for e in a] == [id(e) for e in b]  # one order for everyone
    seqs = [e.seq for e in a if e.seq is not None]
    assert seqs == sorted(seqs)
    markers = [e.seq for e in a if e.name == QUEUE_CHANGED]
    assert len(markers) == len(set(markers))  # one marker per transaction
    for i, e in enumerate(a):  # nothing of a transaction comes after its marker
        if e.name == QUEUE_CHANGED:
            assert all(x.seq != e.seq for x in a[i + 1:])
    issued = [e for e in a if e.name == TICKET_ISSUED]
    called = [e for e in a if e.name == TICKET_CALLED]
    assert len(issued) == 80
    assert len(called) == len({e.payload["ticket_id"] for e in called})
    assert len(called) >= 1


def test_a_raising_subscriber_never_undoes_the_change(db_url, engine_for):
    store, eng = engine_for(db_url)

    def broken(_e: Event) -> None:
        raise RuntimeError("the hub fell over")

    eng.bus.subscribe(broken, label="broken")
    got: list[str] = []
    eng.bus.subscribe(lambda e: got.append(e.name), label="good")
    t = eng.issue("HOTICH")
    called = eng.call_next(1)
    assert called["id"] == t["id"]
    assert eng.get_ticket(t["id"])["status"] == "called"
    assert TICKET_CALLED in got
    assert eng.bus.failures()["broken"] >= 2


def test_a_call_carries_its_spoken_sentence(db_url, engine_for):
    from motcua.speech import CallAnnouncer

    store, eng = engine_for(db_url)
    eng.announce = CallAnnouncer(eng.config.announcements)
    calls: list[Event] = []
    eng.bus.subscribe(calls.append, names=[TICKET_CALLED])
    eng.issue("HOTICH")
    eng.call_next(1)
    eng.recall(1)
    assert len(calls) == 2
    for e in calls:
        ann = e.payload["announcement"]
        assert "một nghìn không trăm linh một" in ann["text"]
        assert "quầy số một" in ann["text"]
        assert ann["clips"] and all(isinstance(c, str) for c in ann["clips"])
