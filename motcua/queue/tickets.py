"""What a ticket shows, for the engine's commands and the read models alike.

- `TicketJson`: a ticket row as every answer and every screen shows it.
- `NewTicket`: the row of a ticket just inserted on the raw issue path, as `TicketJson` reads it.
- `WaitEstimator`: how long a waiting ticket still waits (today's mean service time of its
  field, cached, over the open counters serving that field).
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date, datetime
from statistics import mean
from typing import Any

from sqlalchemy import Connection, bindparam, select

from config.schema import OfficeConfig

from ..clock import BusinessCalendar
from ..store import Store
from ..store import tables as t
from .states import LABELS_VI, PRIORITY_LABELS_VI

WAIT_ESTIMATE_CACHE_S = 30.0

_RECENT_DONE_VISITS = (select(t.visits.c.called_at, t.visits.c.ended_at)
                       .where(t.visits.c.business_date == bindparam("day"), t.visits.c.field == bindparam("f"),
                              t.visits.c.outcome == "done")
                       .order_by(t.visits.c.id.desc()).limit(50))
_PAUSED_COUNTERS = select(t.counters.c.number).where(t.counters.c.paused.is_(True))


class TicketJson:
    """Turns a ticket row into its JSON (call it with the row)."""

    __slots__ = ("_names", "_local")

    def __init__(self, config: OfficeConfig, calendar: BusinessCalendar):
        self._names = {f.code: f.name for f in config.fields}
        self._local = calendar.local

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
    """Seconds until a waiting ticket is called: ahead x today's mean service time of its field
    / open counters serving the field. One per engine, shared with its read models (the
    engine forgets a field's mean when one of its visits ends)."""

    def __init__(self, store: Store, config: OfficeConfig):
        self.store = store
        self.config = config
        self._cache: dict[str, tuple[float, float]] = {}

    def estimate(self, conn: Connection, field_code: str, ahead: int, day: date) -> int:
        per = self.mean_service_s(field_code, day, conn)
        counters = self.config.counters_for_field(field_code)
        paused = {n for (n,) in conn.execute(_PAUSED_COUNTERS)} if counters else set()
        return wait_from(per, ahead, counters, paused)

    def mean_service_s(self, field_code: str, day: date, conn: Connection | None = None) -> float:
        """Today's mean service time of a field (its last 50 finished visits), cached for
        WAIT_ESTIMATE_CACHE_S; the configured default before the first finished visit."""
        now_m = time.monotonic()
        cached = self._cache.get(field_code)
        if cached and now_m - cached[0] < WAIT_ESTIMATE_CACHE_S:
            return cached[1]
        if conn is None:
            with self.store.read() as rconn:
                rows = rconn.execute(_RECENT_DONE_VISITS, {"day": day, "f": field_code}).all()
        else:
            rows = conn.execute(_RECENT_DONE_VISITS, {"day": day, "f": field_code}).all()
        durations = [(b - a).total_seconds() for a, b in rows if a and b]
        per = mean(durations) if durations else self.config.queue.default_service_min * 60
        self._cache[field_code] = (now_m, per)
        return per

    def forget(self, field_code: str) -> None:
        """A visit of this field ended: its mean is read again next time."""
        self._cache.pop(field_code, None)


def wait_from(per_ticket_s: float, ahead: int, counters: list[int], paused: set[int]) -> int:
    open_counters = max(1, len([c for c in counters if c not in paused])) if counters else 1
    return int(round(ahead * per_ticket_s / open_counters))
