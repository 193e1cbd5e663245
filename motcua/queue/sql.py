"""The statements of the engine's commands, built once (building a statement costs more than
running it). The office sequence statements stay beside the transaction plumbing (engine.py)."""
from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, case, or_, select, update

from config.schema import CounterConfig

from ..store import tables as t
from .states import AT_COUNTER, OPEN_STATES, Status

EVENT_INSERT = t.ticket_events.insert()
# The issue path runs on the database driver directly (Store.raw_write): plain SQL, the same
# on SQLite and PostgreSQL.
RAW_NUMBER_UPSERT = (
    "INSERT INTO number_counters (field, business_date, last) VALUES (?, ?, 1) "
    "ON CONFLICT (field, business_date) DO UPDATE SET last = number_counters.last + 1 RETURNING last")
RAW_TICKET_INSERT = (
    "INSERT INTO tickets (token, business_date, issue_field, seq, number, field, priority, status, source, "
    "dossier_code, issued_at, queued_at, recalls, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
    "RETURNING id")
RAW_EVENT_INSERT = (
    "INSERT INTO ticket_events (ticket_id, seq, at, business_date, action, from_status, to_status, field, "
    "counter, staff_id, visit_id, priority, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, {json})")
RAW_WAITING = "SELECT count(*) FROM tickets WHERE business_date = ? AND status = ? AND field = ?"
RAW_WAITING_PRIO = RAW_WAITING + " AND priority IS NOT NULL"
RAW_PAUSED = "SELECT number FROM counters WHERE paused = ?"
# Counter actions (call next, finish, ...); LOCKED holds the PostgreSQL variants, which lock
# the rows they read (FOR UPDATE).
COUNTER_ROW = select(t.counters).where(t.counters.c.number == bindparam("n"))
TICKET_BY_ID = select(t.tickets).where(t.tickets.c.id == bindparam("tid"))
CURRENT_AT = (select(t.tickets).where(t.tickets.c.counter == bindparam("n"),
                                      t.tickets.c.status.in_([s.value for s in AT_COUNTER]))
              .order_by(t.tickets.c.called_at.desc()))
LOCKED = {id(stmt): stmt.with_for_update() for stmt in (COUNTER_ROW, TICKET_BY_ID, CURRENT_AT)}
# Guarded update: the SET columns come from the parameters ("_tid"/"_st" name the row).
TICKET_UPDATE = update(t.tickets).where(t.tickets.c.id == bindparam("_tid"), t.tickets.c.status == bindparam("_st"))
VISIT_UPDATE = update(t.visits).where(t.visits.c.id == bindparam("_vid"))
VISIT_INSERT = t.visits.insert().returning(t.visits.c.id)
RECENT_CALL_PRIORITIES = (select(t.ticket_events.c.priority)
                          .where(t.ticket_events.c.counter == bindparam("n"),
                                 t.ticket_events.c.business_date == bindparam("day"),
                                 t.ticket_events.c.action == "call")
                          .order_by(t.ticket_events.c.id.desc()).limit(bindparam("quota")))
# Pause state of a counter: the SET columns come from the parameters ("_n" names the counter).
COUNTER_PAUSE = update(t.counters).where(t.counters.c.number == bindparam("_n"))
# End of day: the tickets left open from earlier business days, in batches.
EXPIRE_BATCH = 5000
OPEN_BEFORE = (select(t.tickets).where(t.tickets.c.business_date < bindparam("day"),
                                       t.tickets.c.status.in_([s.value for s in OPEN_STATES]))
               .limit(EXPIRE_BATCH))
IDEMPOTENT_RESPONSE = select(t.idempotency.c.response).where(
    t.idempotency.c.scope == bindparam("scope"), t.idempotency.c.key == bindparam("key"))


def next_ticket_query(ccfg: CounterConfig, normal_turn: bool, *, for_update: bool) -> Any:
    """The query for a counter's next ticket: its fields (in their configured order when the
    counter keeps a strict field order), then priority tickets first unless it is a normal
    ticket's turn (the priority quota), then by queue time. for_update: lock the row found,
    skipping rows other counters hold (PostgreSQL)."""
    tk = t.tickets.c
    prio_rank = case((tk.priority.is_(None), 0 if normal_turn else 1), else_=1 if normal_turn else 0)
    order = [prio_rank, tk.queued_at, tk.id]
    if ccfg.strict_field_order:
        order.insert(0, case({f: i for i, f in enumerate(ccfg.fields)}, value=tk.field, else_=99))
    q = (select(t.tickets).where(
        tk.business_date == bindparam("day"), tk.status == Status.WAITING.value,
        tk.field.in_(list(ccfg.fields)),
        or_(tk.target_counter.is_(None), tk.target_counter == ccfg.number),
    ).order_by(*order).limit(1))
    return q.with_for_update(skip_locked=True) if for_update else q
