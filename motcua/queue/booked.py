"""Booked citizens at call-next (issue 15, docs/booking.md): a ticket taken by checking in a
booking at the kiosk is called ahead of walk-ins once its slot has begun, up to one booked
citizen per `walk_ins_per_booked` calls of the counter (`[booking]`).

The rule reads inside call-next's transaction (Lookups.next_ticket): when the counter's last
N calls of the day (N = walk_ins_per_booked) include no booked ticket, the booked ticket of
the counter's fields whose slot began first (and has begun) goes next; otherwise the normal
order applies (where booked tickets wait by their check-in time like anyone else). A booked
ticket is one issued with source "booking" and linked to a checked-in booking; a ticket
transferred to another field is a walk-in there.

`people_ahead` counts, for a booked ticket, only those the rule really lets go before it (the
"Trước ông/bà còn N người" of its ticket and phone page, and the estimate built on it)."""
from __future__ import annotations

from datetime import date, datetime
from typing import Any, Callable

from sqlalchemy import Connection, and_, bindparam, case, or_, select

from config.schema import CounterConfig

from ..store import tables as t
from .states import Status

BOOKED_SOURCE = "booking"

_tk, _bk, _ev = t.tickets.c, t.bookings.c, t.ticket_events.c

_RECENT_CALLS = (select(_tk.source).select_from(t.ticket_events.join(t.tickets, _tk.id == _ev.ticket_id))
                 .where(_ev.counter == bindparam("n"), _ev.business_date == bindparam("day"), _ev.action == "call")
                 .order_by(_ev.id.desc()).limit(bindparam("every")))


def _due_query(ccfg: CounterConfig, for_update: bool) -> Any:
    q = (select(t.tickets).select_from(t.tickets.join(t.bookings, _bk.ticket_id == _tk.id))
         .where(_tk.business_date == bindparam("day"), _tk.status == Status.WAITING.value,
                _tk.source == BOOKED_SOURCE, _tk.field == _tk.issue_field, _tk.field.in_(list(ccfg.fields)),
                or_(_tk.target_counter.is_(None), _tk.target_counter == ccfg.number),
                _bk.status == "checked_in", _bk.slot_start <= bindparam("now"))
         .order_by(_bk.slot_start, _tk.queued_at, _tk.id).limit(1))
    return q.with_for_update(of=t.tickets, skip_locked=True) if for_update else q


class BookedTurn:
    """The booked ticket a counter calls now, if it is a booked citizen's turn."""

    def __init__(self, *, for_update: bool):
        self.for_update = for_update
        self._queries: dict[tuple[Any, ...], Any] = {}

    def next(self, conn: Connection, ccfg: CounterConfig, day: date, now: datetime, every: int) -> Any:
        """every: walk-in calls per booked call (`walk_ins_per_booked`)."""
        if every > 0:
            recent = conn.execute(_RECENT_CALLS, {"n": ccfg.number, "day": day, "every": every}).all()
            if any(r.source == BOOKED_SOURCE for r in recent):
                return None  # walk-ins' turn
        key = (ccfg.number, tuple(ccfg.fields))
        q = self._queries.get(key)
        if q is None:
            q = self._queries[key] = _due_query(ccfg, self.for_update)
        return conn.execute(q, {"day": day, "now": now}).first()


# People ahead of a booked ticket -------------------------------------------------------------------
_ME = (select(_bk.slot_start).where(_bk.ticket_id == bindparam("tid"), _bk.status == "checked_in")
       .limit(1))
_LANE = (select(_tk.id, _tk.priority, _tk.queued_at, _bk.slot_start)
         .select_from(t.tickets.join(t.bookings, _bk.ticket_id == _tk.id))
         .where(_tk.business_date == bindparam("day"), _tk.status == Status.WAITING.value,
                _tk.source == BOOKED_SOURCE, _tk.field == _tk.issue_field, _tk.field == bindparam("field"),
                _bk.status == "checked_in")
         .order_by(_bk.slot_start, _tk.queued_at, _tk.id))
_MAX_SIMULATED = 2000  # people ahead beyond this: the normal count stands


def _normal_before(row: Any) -> Any:
    """Waiting tickets of row's field before it in the normal order (priority, then queue time)."""
    before = _tk.queued_at < row.queued_at
    before = or_(before, _tk.priority.is_not(None)) if row.priority is None else and_(before, _tk.priority.is_not(None))
    return (select(_tk.id).where(_tk.business_date == row.business_date, _tk.status == Status.WAITING.value,
                                 _tk.field == row.field, _tk.id != row.id, before)
            .order_by(case((_tk.priority.is_(None), 1), else_=0), _tk.queued_at, _tk.id).limit(_MAX_SIMULATED))


def _walk_ins_before_turn(conn: Connection, counter: int, day: date, every: int) -> int:
    """Walk-in calls a counter still makes before its next booked call (0: a booked turn now)."""
    if every <= 0:
        return 0
    recent = conn.execute(_RECENT_CALLS, {"n": counter, "day": day, "every": every}).all()
    for since, r in enumerate(recent):  # newest first
        if r.source == BOOKED_SOURCE:
            return every - since
    return 0


def people_ahead(conn: Connection, row: Any, counters: list[int], every: int, now: datetime, normal_ahead: int,
                 calls_until: Callable[[datetime], float] | None = None) -> int:
    """How many will be called before `row` (a waiting ticket), under the booked rule.

    A walk-in, a late or transferred ticket: `normal_ahead` (the normal order). A booked ticket
    (checked in, slot begun): the booked tickets before it in the booked order, and the walk-ins the
    counters of its field call before its booked turn (each counter calls one booked citizen after
    `every` walk-ins; the counters taken in turn), never more than the normal order puts before
    it. Before its slot begins it waits in the normal order: the calls expected until then
    (`calls_until(slot_start)`, from the turn times) also go first."""
    if row.source != BOOKED_SOURCE or row.field != row.issue_field or not counters or normal_ahead <= 0:
        return normal_ahead
    slot_start = conn.execute(_ME, {"tid": row.id}).scalar()
    if slot_start is None:
        return normal_ahead
    lane = [r.id for r in conn.execute(_LANE, {"day": row.business_date, "field": row.field})]
    if row.id not in lane:
        return normal_ahead
    lane = lane[:lane.index(row.id) + 1]
    normal = [r.id for r in conn.execute(_normal_before(row))] + [row.id]
    if len(normal) > _MAX_SIMULATED:
        return normal_ahead
    waits = {c: _walk_ins_before_turn(conn, c, row.business_date, every) for c in counters}
    called: set[int] = set()
    li = ni = 0
    calls = 0
    while True:
        for c in counters:
            while li < len(lane) and lane[li] in called:
                li += 1
            while ni < len(normal) and normal[ni] in called:
                ni += 1
            if waits[c] == 0 and li < len(lane):
                pick, waits[c] = lane[li], every
            else:
                pick, waits[c] = normal[ni], max(0, waits[c] - 1)
            if pick == row.id:
                ahead = calls
                if slot_start > now and calls_until is not None:
                    ahead += int(calls_until(slot_start))
                return min(normal_ahead, ahead)
            called.add(pick)
            calls += 1
