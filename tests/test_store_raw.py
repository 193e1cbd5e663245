"""The raw issue path (Store.raw_write) stores exactly what the SQLAlchemy path stores, and
fails the same way, on SQLite and PostgreSQL.

Issuing a ticket runs its statements on the driver connection. If its values were stored in
another form (an instant without microseconds, a date with a time, JSON in another
spelling), SQLite would compare them as text against rows written by the rest of the code
and "who is ahead" or the reports would silently go wrong. So: issue one ticket through the
engine, write a twin row through SQLAlchemy Core with the same values, and compare what the
database holds, byte for byte.
"""
from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from motcua.store import tables as t

TICKET_COLS = "token, business_date, issue_field, seq, number, field, priority, status, source, " \
              "dossier_code, issued_at, queued_at, recalls, updated_at, counter, target_counter, staff_id, " \
              "visit_id, called_at"
EVENT_COLS = "seq, at, business_date, action, from_status, to_status, field, counter, staff_id, " \
             "visit_id, priority"


def _stored(store, sql: str, params: tuple) -> list[tuple]:
    """What the database holds, through the driver (no SQLAlchemy type processing)."""
    with store.engine.connect() as conn:
        return [tuple(r) for r in conn.exec_driver_sql(sql, params).all()]


def _seq(store) -> int:
    with store.read() as conn:
        return conn.execute(select(t.office_state.c.seq)).scalar_one()


def _ph(store) -> str:
    return "?" if store.is_sqlite else "%s"


def test_issue_stores_what_sqlalchemy_stores(db_url, engine_for, clock):
    store, eng = engine_for(db_url)
    clock.advance(seconds=1.234567)  # an instant with microseconds
    tk = eng.issue("HOTICH", priority=None)
    with store.read() as conn:
        row = conn.execute(select(t.tickets).where(t.tickets.c.id == tk["id"])).one()
        ev = conn.execute(select(t.ticket_events).where(t.ticket_events.c.ticket_id == tk["id"])).one()
    # Read back through SQLAlchemy's types: the same values the engine had.
    assert row.issued_at == clock() and row.queued_at == clock() and row.updated_at == clock()
    assert row.issued_at.microsecond == 234567
    assert row.business_date.isoformat() == tk["business_date"] == "2026-11-23"
    assert (row.status, row.number, row.field, row.issue_field, row.recalls) == ("waiting", "1001", "HOTICH", "HOTICH", 0)
    assert ev.at == clock() and ev.action == "issue" and ev.to_status == "waiting" and ev.detail == {"source": "kiosk"}

    # A twin written by SQLAlchemy Core, with the same values.
    with store.write() as conn:
        twin_id = conn.execute(t.tickets.insert().returning(t.tickets.c.id).values(
            token="twin-token", business_date=row.business_date, issue_field="HOTICH", seq=999, number="1999",
            field="HOTICH", priority=None, status="waiting", source="kiosk", dossier_code=None,
            issued_at=clock(), queued_at=clock(), recalls=0, updated_at=clock(), counter=None,
            target_counter=None, staff_id=None, visit_id=None, called_at=None)).scalar_one()
        conn.execute(t.ticket_events.insert().values(
            ticket_id=twin_id, seq=ev.seq, at=clock(), business_date=row.business_date, action="issue",
            from_status=None, to_status="waiting", field="HOTICH", counter=None, staff_id=None, visit_id=None,
            priority=None, detail={"source": "kiosk"}))
    ph = _ph(store)
    raw_t, twin_t = (_stored(store, f"SELECT {TICKET_COLS} FROM tickets WHERE id = {ph}", (i,))[0]
                     for i in (tk["id"], twin_id))
    skip = {0, 3, 4}  # token, seq and number differ on purpose
    assert [v for i, v in enumerate(raw_t) if i not in skip] == [v for i, v in enumerate(twin_t) if i not in skip]
    detail = "detail" if store.is_sqlite else "detail::text"
    raw_e, twin_e = (_stored(store, f"SELECT {EVENT_COLS}, {detail} FROM ticket_events WHERE ticket_id = {ph}", (i,))[0]
                     for i in (tk["id"], twin_id))
    assert raw_e == twin_e
    if store.is_sqlite:
        assert raw_t[10] == "2026-11-23 02:00:01.234567", "instants stored as SQLAlchemy's ISO text, UTC"
        assert raw_t[1] == "2026-11-23"


def test_raw_and_sqlalchemy_rows_order_together(db_url, engine_for, office_config, clock):
    """'Ahead of me' compares queued_at across rows written by both paths (a transfer
    re-queues through SQLAlchemy; issuing goes raw)."""
    queue = office_config.queue.model_copy(update={"transfer_position": "back"})
    store, eng = engine_for(db_url, office_config.model_copy(update={"queue": queue}))
    a = eng.issue("HOTICH")
    clock.advance(seconds=5)
    b = eng.issue("DATDAI")
    # Ticket a is called at counter 1 and transferred to Đất đai: queued there now, after b.
    assert eng.call_next(1)["id"] == a["id"]
    clock.advance(seconds=5)
    eng.transfer(1, field_code="DATDAI")
    clock.advance(microseconds=10)
    c = eng.issue("DATDAI")
    assert eng.get_ticket(b["id"])["ahead"] == 0
    assert eng.get_ticket(a["id"])["ahead"] == 1
    assert c["ahead"] == 2 and eng.get_ticket(c["id"])["ahead"] == 2


def test_raw_errors_are_sqlalchemy_errors_and_roll_back(db_url, engine_for):
    store, eng = engine_for(db_url)
    eng.issue("HOTICH")
    seq_before = _seq(store)
    with pytest.raises(IntegrityError):
        with store.raw_write() as raw:
            raw.run("UPDATE office_state SET seq = seq + 100 WHERE id = 1")
            raw.run("INSERT INTO tickets (token, business_date, issue_field, seq, number, field, status, source, "
                    "issued_at, queued_at, recalls, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    ("x", raw.day(eng.calendar.business_date(eng.clock())), "HOTICH", 1, "1001", "HOTICH",
                     "waiting", "kiosk", raw.dt(eng.clock()), raw.dt(eng.clock()), 0, raw.dt(eng.clock())))
    assert _seq(store) == seq_before, "rolled back"
    assert eng.issue("HOTICH")["number"] == "1002", "the store still works after the failed transaction"


def test_refused_ticket_leaves_no_trace(db_url, engine_for, office_config, clock):
    """A ticket past the daily cap is refused inside the raw transaction: no number used, no
    sequence number, no event."""
    from motcua.queue import QueueError

    fields = [f.model_copy(update={"daily_cap": 1}) if f.code == "HOTICH" else f for f in office_config.fields]
    store, eng = engine_for(db_url, office_config.model_copy(update={"fields": fields}))
    eng.issue("HOTICH")
    seq_before = _seq(store)
    with pytest.raises(QueueError) as e:
        eng.issue("HOTICH")
    assert e.value.status == 409 and "đã hết số hôm nay" in e.value.message
    with store.read() as conn:
        assert conn.execute(select(t.office_state.c.seq)).scalar_one() == seq_before
        assert conn.execute(select(t.number_counters.c.last).where(t.number_counters.c.field == "HOTICH")).scalar_one() == 1
        assert len(conn.execute(select(t.ticket_events.c.id)).all()) == 1
    clock.advance(days=1)
    assert eng.issue("HOTICH")["number"] == "1001"
