"""What a ticket shows, for the engine's commands and the read models alike.

- `TicketJson`: a ticket row as every answer and every screen shows it.
- `NewTicket`: the row of a ticket just inserted on the raw issue path, as `TicketJson` reads it.
- `WaitEstimator`: how long a waiting ticket still waits, as a range (estimate.py computes it;
  this keeps its figures cached).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Iterable

from sqlalchemy import Connection, bindparam, func, select

from config.schema import OfficeConfig

from ..clock import BusinessCalendar, Clock, system_clock
from ..events import TICKET_CALLED, TICKET_FINISHED, TICKET_TRANSFERRED, EventBus
from ..store import Store
from ..store import tables as t
from . import estimate as est
from .states import LABELS_VI, PRIORITY_LABELS_VI

STATS_TTL_S = 30.0   # today's figures are read again after this (or when a visit ends)
FLOOR_TTL_S = 2.0    # the floor (busy counters, waiting per field) after this (or a call)
RECENT_VISITS = 300  # the newest visits of the day the turn times come from

_v = t.visits.c
_tk = t.tickets.c
_RECENT_VISITS = (select(_v.counter, _v.field, _v.called_at, _v.ended_at, _tk.queued_at)
                  .join(t.tickets, _tk.id == _v.ticket_id)
                  .where(_v.business_date == bindparam("day")).order_by(_v.id.desc()).limit(RECENT_VISITS))
_RECENT_ISSUES = (select(t.ticket_events.c.field, t.ticket_events.c.priority.is_not(None), func.count())
                  .where(t.ticket_events.c.business_date == bindparam("day"), t.ticket_events.c.action == "issue",
                         t.ticket_events.c.at >= bindparam("since"))
                  .group_by(t.ticket_events.c.field, t.ticket_events.c.priority.is_not(None)))
_WAITING_BY_FIELD = (select(_tk.field, _tk.priority.is_not(None), func.count())
                     .where(_tk.business_date == bindparam("day"), _tk.status == "waiting")
                     .group_by(_tk.field, _tk.priority.is_not(None)))
_BUSY_COUNTERS = select(_tk.counter, _tk.called_at, _tk.field).where(_tk.status.in_(["called", "serving"]),
                                                          _tk.counter.is_not(None))
_BOOKED_SLOTS = select(t.bookings.c.field, t.bookings.c.slot_start).where(
    t.bookings.c.business_date == bindparam("day"), t.bookings.c.status == "booked")
_PAUSED_COUNTERS = select(t.counters.c.number).where(t.counters.c.paused.is_(True))


class TicketJson:
    """Turns a ticket row into its JSON (call it with the row)."""

    __slots__ = ("_names", "_local")

    def __init__(self, config: OfficeConfig, calendar: BusinessCalendar):
        self._names = {f.code: f.name for f in config.fields}
        self._local = calendar.local

    def reconfigure(self, new: OfficeConfig) -> None:
        """A changed office: the new field names (a removed field keeps its name on old tickets)."""
        self._names = {**self._names, **{f.code: f.name for f in new.fields}}

    def service_name(self, code: str) -> str:
        return self._names.get(code, code)

    def __call__(self, row: Any) -> dict[str, Any]:
        local = self._local
        return {
            "id": row.id,
            "number": row.number,
            "service": row.field,
            "service_name": self._names.get(row.field, row.field),
            "issued_service": row.issue_field,
            "status": row.status,
            "status_label": LABELS_VI.get(row.status, row.status),
            "priority": row.priority,
            "priority_label": PRIORITY_LABELS_VI.get(row.priority) if row.priority else None,
            "counter": row.counter,
            "target_counter": row.target_counter,
            "recalls": row.recalls,
            "dossier_code": row.dossier_code,
            "business_date": row.business_date.isoformat(),
            "issued_at": local(row.issued_at).isoformat(timespec="seconds"),
            "called_at": local(row.called_at).isoformat(timespec="seconds") if row.called_at else None,
        }


@dataclass
class NewTicket:
    """The row of a ticket just inserted on the raw path, as TicketJson reads it."""

    id: int
    number: str
    field: str
    issue_field: str
    status: str
    priority: str | None
    counter: int | None
    target_counter: int | None
    recalls: int
    dossier_code: str | None
    business_date: date
    issued_at: datetime
    called_at: datetime | None


class WaitEstimator:
    """The wait estimates of one engine, shared with its read models (estimate.py computes them).

    Two caches keep the hot issue path to the statements it already runs: today's figures from
    the event log (`stats`: turn times, arrival rates), read again `STATS_TTL_S` after they were
    read or as soon as a visit ends (`forget`); and the floor (busy counters, waiting per field),
    read again after `FLOOR_TTL_S` or at once after a call, a finish or a transfer of this process,
    and refreshed for free whenever the public state is read (`observe`). The ticket's own queue
    (people ahead) and the paused counters are read exactly, inside the caller's transaction.
    `rules`: who is called before a ticket although not in the queue yet (estimate.Rule: the
    priority arrivals and quota, booked citizens checking in); another rule is appended here."""

    def __init__(self, store: Store, config: OfficeConfig, *, clock: Clock = system_clock,
                 bus: EventBus | None = None):
        self.store = store
        self.config = config
        self.clock = clock
        self.rules: list[est.Rule] = list(est.DEFAULT_RULES)
        self._stats: tuple[float, date, est.Stats] | None = None
        self._floor: tuple[float, date, est.Floor] | None = None
        if bus is not None:
            bus.subscribe(self._moved, names=(TICKET_CALLED, TICKET_FINISHED, TICKET_TRANSFERRED),
                          label="wait-estimates")

    def _age(self, cached: tuple[float, date, Any] | None, day: date, ttl: float) -> Any:
        if cached is None or cached[1] != day:
            return None
        now_s = self.clock().timestamp()
        return cached[2] if 0 <= now_s - cached[0] < ttl else None

    # Caches ------------------------------------------------------------------------------
    def stats(self, day: date, conn: Connection | None = None) -> est.Stats:
        """Today's turn times and arrival rates (cached)."""
        stats = self._age(self._stats, day, STATS_TTL_S)
        if stats is None:
            now = self.clock()
            if conn is None:
                with self.store.read() as rconn:
                    stats = self._read_stats(rconn, day, now)
            else:
                stats = self._read_stats(conn, day, now)
            self._stats = (now.timestamp(), day, stats)
        return stats

    def _read_stats(self, conn: Connection, day: date, now: datetime) -> est.Stats:
        visits = conn.execute(_RECENT_VISITS, {"day": day}).all()
        arrivals: dict[str, tuple[float, float]] = {}
        since = now - timedelta(seconds=est.ARRIVAL_WINDOW_S)
        for f, prio, n in conn.execute(_RECENT_ISSUES, {"day": day, "since": since}):
            total, pr = arrivals.get(f, (0.0, 0.0))
            rate = n / est.ARRIVAL_WINDOW_S
            arrivals[f] = (total + rate, pr + (rate if prio else 0.0))
        stats = est.turn_stats(visits, self.config.queue.default_service_min * 60, arrivals)
        for f, at in conn.execute(_BOOKED_SLOTS, {"day": day}):
            stats.booked_slots.setdefault(f, []).append(at)
        return stats

    def floor(self, day: date, conn: Connection | None = None) -> est.Floor:
        """The busy counters and the waiting per field (cached)."""
        floor = self._age(self._floor, day, FLOOR_TTL_S)
        if floor is None:
            if conn is None:
                with self.store.read() as rconn:
                    floor = self._read_floor(rconn, day)
            else:
                floor = self._read_floor(conn, day)
        return floor

    def _read_floor(self, conn: Connection, day: date) -> est.Floor:
        waiting: dict[str, int] = {}
        prio: dict[str, int] = {}
        for f, is_prio, n in conn.execute(_WAITING_BY_FIELD, {"day": day}):
            waiting[f] = waiting.get(f, 0) + n
            if is_prio:
                prio[f] = prio.get(f, 0) + n
        busy = {c: (at, f) for c, at, f in conn.execute(_BUSY_COUNTERS) if at is not None}
        paused = frozenset(n for (n,) in conn.execute(_PAUSED_COUNTERS))
        return self.observe(day, est.Floor(self.clock(), paused, busy, waiting, prio))

    def observe(self, day: date, floor: est.Floor) -> est.Floor:
        """A floor just read (the public state reads one on every change): kept for issuing."""
        self._floor = (self.clock().timestamp(), day, floor)
        return floor

    def forget(self, field_code: str | None = None) -> None:
        """A visit ended: today's figures are read again next time."""
        self._stats = None
        self._floor = None

    def reconfigure(self, new: OfficeConfig) -> None:
        """A changed office: the figures of the old counters and fields are read again."""
        self.config = new
        self.forget()

    def _moved(self, event: Any) -> None:
        self._floor = None

    # Estimates -----------------------------------------------------------------------------
    def prepare(self, day: date) -> tuple[est.Stats, est.Floor]:
        """The figures and the floor, read (or taken from the caches) before a write transaction."""
        return self.stats(day), self.floor(day)

    def estimate(self, field_code: str, ahead: int, day: date, *, priority: bool = False,
                 paused: Iterable[int] | None = None, conn: Connection | None = None,
                 known: tuple[est.Stats, est.Floor] | None = None) -> est.Estimate | None:
        """The wait of a waiting ticket of this field with `ahead` before it. paused: the paused
        counters when the caller read them itself (exact); known: what prepare() gave."""
        stats, floor = known if known is not None else (self.stats(day, conn), self.floor(day, conn))
        return est.estimate(self.config, field_code, ahead, priority=priority, stats=stats, floor=floor,
                            now=self.clock(), rules=self.rules,
                            paused=frozenset(paused) if paused is not None else None)

    def fill(self, out: dict[str, Any], field_code: str, day: date, *, priority: bool = False,
             paused: Iterable[int] | None = None, conn: Connection | None = None,
             known: tuple[est.Stats, est.Floor] | None = None) -> None:
        """Put the estimate of a waiting ticket JSON (with its "ahead") into it: `estimated_wait_s`
        (the middle), `estimated_wait_range_s` and `estimate` (null when no counter serves the field)."""
        e = self.estimate(field_code, out["ahead"], day, priority=priority, paused=paused, conn=conn, known=known)
        if e is None:
            est.no_estimate(out, out["ahead"], self.config.queue.default_service_min * 60)
        else:
            e.fill(out)
