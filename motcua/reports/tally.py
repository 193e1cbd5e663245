"""The events of a report, turned into *facts* (no Flask): one row per event counted, with its
wait, service and serving time, in numpy arrays.

One statement reads the events of every ticket touched in the days asked for, column by column
(``group_concat`` on SQLite, ``string_agg`` on PostgreSQL: one text per column, parsed by numpy
without a Python object per row; a Python loop over 200,000 rows was the slow part of a
quarter's report). The database gives each instant as whole milliseconds (SQLite keeps
milliseconds) or microseconds (PostgreSQL), of naive UTC, so durations, sums and percentiles
are integer arithmetic until the final division (summary.py): the figures are exact.

The walk over each ticket's events (ordered by event id, like the engine wrote them) is done
with array operations; it is the definition of summary.py's docstring:

* the **wait** of a call = the call minus the ticket's last queue entry (``issue``, ``transfer``,
  ``reactivate``) if there was one since its previous call, else no wait;
* the **service** of a finish = the finish minus the last ``call`` of the same visit before it,
  the **serving** = minus the visit's first manual ``start`` (automatic starts, ``detail.auto``,
  are left out).

A fact's hour is the local hour of its instant: the instant plus the zone's offset from UTC,
looked up per stretch between two offset changes (`utc_offsets`), so summer time or the local
mean time of 1900 stays exact.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone, tzinfo
from typing import Any

import numpy as np
from sqlalchemy import Connection

from .period import Period

__all__ = ["Facts", "Scope", "tally_days", "utc_offsets", "ACTIONS", "EPOCH_DAY"]

#: Event actions read, in code order (a fact's ACT column).
ACTIONS = ("issue", "transfer", "reactivate", "call", "recall", "start", "finish", "no_show", "cancel")
ISSUE, TRANSFER, REACTIVATE, CALL, RECALL, START, FINISH, NO_SHOW, CANCEL = range(len(ACTIONS))
COUNTED = (ISSUE, TRANSFER, CALL, RECALL, FINISH, NO_SHOW, CANCEL)
# Columns of a fact row.
DAY, FLD, COUNTER, STAFF, HOUR, ACT, WAIT, SERVICE, SERVING, TO_FLD = range(10)
N_COLS = 10
EPOCH_DAY = date(1970, 1, 1)  # facts hold days as numbers of days since this one


@dataclass(frozen=True)
class Scope:
    """Which events a report may count. ``counters=None``: the whole office (administrators).
    Otherwise an event counts when it happened at one of ``counters``, or, for events that
    belong to no counter (taking a number, a no-show put back in the queue), when its field is
    one of ``fields`` (the fields those counters serve)."""

    counters: frozenset[int] | None = None
    fields: frozenset[str] = frozenset()

    @property
    def whole_office(self) -> bool:
        return self.counters is None

    def takes(self, field_code: str, counter: int | None) -> bool:
        if self.counters is None:
            return True
        if counter is not None:
            return counter in self.counters
        return field_code in self.fields


@dataclass
class Facts:
    """Fact rows (int64, columns DAY..TO_FLD above; -1 is "none") and the field codes their
    FLD and TO_FLD columns number. ``unit``: time units per second of WAIT, SERVICE, SERVING."""

    rows: np.ndarray
    fields: list[str] = field(default_factory=list)
    unit: int = 1000

    @classmethod
    def empty(cls, unit: int = 1000) -> "Facts":
        return cls(np.zeros((0, N_COLS), dtype=np.int64), [], unit)


# Instants and hours --------------------------------------------------------------------------
def utc_offsets(tz: tzinfo, period: Period, unit: int) -> tuple[np.ndarray, np.ndarray]:
    """(start instants, offsets from UTC), both in time units, for every stretch of *tz* around
    *period* (two days either side; the first offset also applies before it): the offset is
    probed hourly and each change found to the second."""
    lo = datetime.combine(max(period.start - timedelta(days=2), date(1, 1, 2)), datetime.min.time(), timezone.utc)
    hi = datetime.combine(min(period.end + timedelta(days=3), date(9999, 12, 31)), datetime.min.time(),
                          timezone.utc)
    base = datetime(1970, 1, 1, tzinfo=timezone.utc)
    first, last = int((lo - base).total_seconds()), int((hi - base).total_seconds())

    def offset(sec: int) -> int:
        try:
            return int((base + timedelta(seconds=sec)).astimezone(tz).utcoffset().total_seconds())  # type: ignore[union-attr]
        except OverflowError:  # the last hours of 31/12/9999: keep the offset of the day before
            return offset(sec - 86400)

    starts, offsets = [first], [offset(first)]
    prev_sec, prev = first, offsets[0]
    for sec in range(first + 3600, last + 1, 3600):
        now = offset(sec)
        if now != prev:
            a, b = prev_sec, sec
            while b - a > 1:
                mid = (a + b) // 2
                a, b = (mid, b) if offset(mid) == prev else (a, mid)
            starts.append(b)
            offsets.append(now)
        prev_sec, prev = sec, now
    return np.array(starts, dtype=np.int64) * unit, np.array(offsets, dtype=np.int64) * unit


def local_hours(t: np.ndarray, offsets: tuple[np.ndarray, np.ndarray], unit: int) -> np.ndarray:
    starts, values = offsets
    at = np.clip(np.searchsorted(starts, t, side="right") - 1, 0, len(values) - 1)
    return ((t + values[at]) // (3600 * unit)) % 24


# The statement -------------------------------------------------------------------------------
_SEP = "\x1e"  # between field codes (a code is a short identifier, never this control character)


def _statement(postgres: bool) -> tuple[str, str]:
    codes = " ".join(f"WHEN '{a}' THEN {i}" for i, a in enumerate(ACTIONS))
    actions = ", ".join(f"'{a}'" for a in ACTIONS)
    if postgres:
        def agg(expr: str) -> str:
            return f"string_agg(({expr})::text, ',')"
        epoch = "(EXTRACT(EPOCH FROM e.at) * 1000000)::bigint"
        day = "(e.business_date - DATE '1970-01-01')"
        fields = f"string_agg(e.field, chr({ord(_SEP)}))"
        auto, p = "(e.detail ->> 'auto')", ("%(start)s", "%(end)s")
        transfers = ("SELECT id, detail ->> 'from_field', detail ->> 'to_field' FROM ticket_events "
                     "WHERE action = 'transfer' AND business_date >= %(start)s AND business_date <= %(end)s")
    else:
        def agg(expr: str) -> str:
            return f"group_concat({expr})"
        # SQLite keeps an instant as whole milliseconds since the Julian epoch: exact once rounded.
        epoch = "CAST(round((julianday(e.at) - 2440587.5) * 86400000.0) AS INTEGER)"
        day = "CAST(julianday(e.business_date) - 2440587.5 AS INTEGER)"
        fields = f"group_concat(e.field, char({ord(_SEP)}))"
        auto, p = "json_extract(e.detail, '$.auto')", (":start", ":end")
        transfers = ("SELECT id, json_extract(detail, '$.from_field'), json_extract(detail, '$.to_field') "
                     "FROM ticket_events WHERE action = 'transfer' AND business_date >= :start AND business_date <= :end")
    sql = f"""
SELECT count(*), {agg('e.id')}, {agg('e.ticket_id')}, {agg('COALESCE(e.visit_id, -1)')},
       {agg(f'CASE e.action {codes} END')}, {agg(day)}, {agg(epoch)},
       {agg('COALESCE(e.counter, -1)')}, {agg('COALESCE(e.staff_id, -1)')}, {fields}
FROM ticket_events e
WHERE e.ticket_id IN (SELECT ticket_id FROM ticket_events WHERE business_date >= {p[0]} AND business_date <= {p[1]})
  AND e.action IN ({actions})
  AND (e.action <> 'start' OR {auto} IS NULL)"""
    return sql, transfers


def _ints(text: Any, n: int) -> np.ndarray:
    out = np.fromstring(str(text), dtype=np.int64, sep=",") if n else np.zeros(0, dtype=np.int64)
    if len(out) != n:
        raise RuntimeError(f"report: {len(out)} values read for {n} events")
    return out


def tally_days(conn: Connection, period: Period, tz: tzinfo, days: set[date] | None = None) -> Facts:
    """The facts of the days of *period* (or of *days* only, all within it): every counted event
    of those days, with its durations, from the events of every ticket touched in the period."""
    postgres = conn.dialect.name.startswith("postgres")
    unit = 1_000_000 if postgres else 1000
    sql, transfers_sql = _statement(postgres)
    if postgres:
        params: dict[str, Any] = {"start": period.start, "end": period.end}
    else:
        params = {"start": period.start.isoformat(), "end": period.end.isoformat()}
    row = conn.exec_driver_sql(sql, params).one()
    n = int(row[0] or 0)
    if not n:
        return Facts.empty(unit)
    ids, tks, visit, act, day, t, counter, staff = (_ints(row[i], n) for i in range(1, 9))
    codes: dict[str, int] = {}
    fld = np.array([codes.setdefault(c, len(codes)) for c in str(row[9]).split(_SEP)], dtype=np.int64)
    if len(fld) != n:
        raise RuntimeError("report: a field code holds the separator")

    order = np.lexsort((ids, tks))
    ids, tks, visit, act, day, t, counter, staff, fld = (a[order] for a in (ids, tks, visit, act, day, t,
                                                                              counter, staff, fld))
    wait = np.full(n, -1, dtype=np.int64)
    service = np.full(n, -1, dtype=np.int64)
    serving = np.full(n, -1, dtype=np.int64)

    # Waits: a call whose previous queue-or-call event of the same ticket is a queue entry.
    queued = (act == ISSUE) | (act == TRANSFER) | (act == REACTIVATE)
    called = act == CALL
    sub = np.flatnonzero(queued | called)
    if len(sub) > 1:
        cur, prev = sub[1:], sub[:-1]
        ok = called[cur] & queued[prev] & (tks[cur] == tks[prev])
        wait[cur[ok]] = np.maximum(0, t[cur[ok]] - t[prev[ok]])

    # Services and servings: per visit (of a ticket), in event order.
    vs = np.flatnonzero((visit >= 0) & (called | (act == START) | (act == FINISH)))
    if len(vs):
        o = vs[np.lexsort((ids[vs], visit[vs], tks[vs]))]
        m = len(o)
        pos = np.arange(m)
        new = np.ones(m, dtype=bool)
        new[1:] = (tks[o][1:] != tks[o][:-1]) | (visit[o][1:] != visit[o][:-1])
        group_start = np.maximum.accumulate(np.where(new, pos, 0))
        last_call = np.maximum.accumulate(np.where(act[o] == CALL, pos, -1))
        fin = act[o] == FINISH
        has = fin & (last_call >= group_start)
        service[o[has]] = np.maximum(0, t[o[has]] - t[o[last_call[has]]])
        first_start = np.minimum.reduceat(np.where(act[o] == START, pos, m), np.flatnonzero(new))
        first = first_start[np.cumsum(new) - 1]
        has = fin & (first < pos)
        serving[o[has]] = np.maximum(0, t[o[has]] - t[o[first[has]]])

    # The facts: counted events of the days asked for.
    lo, hi = (period.start - EPOCH_DAY).days, (period.end - EPOCH_DAY).days
    keep = (day >= lo) & (day <= hi) & np.isin(act, COUNTED)
    if days is not None:
        keep &= np.isin(day, [(d - EPOCH_DAY).days for d in days])
    hour = np.full(n, -1, dtype=np.int64)
    timed = keep & ((act == ISSUE) | called | (act == FINISH))
    hour[timed] = local_hours(t[timed], utc_offsets(tz, period, unit), unit)
    to_fld = np.full(n, -1, dtype=np.int64)
    transfer_rows = np.flatnonzero(keep & (act == TRANSFER))
    if len(transfer_rows):
        at_id = {int(ids[i]): int(i) for i in transfer_rows}
        for tid, from_f, to_f in conn.exec_driver_sql(transfers_sql, params):
            i = at_id.get(int(tid))
            if i is None:
                continue
            if from_f:
                fld[i] = codes.setdefault(str(from_f), len(codes))
            if to_f:
                to_fld[i] = codes.setdefault(str(to_f), len(codes))
    rows = np.stack([day, fld, counter, staff, hour, act, wait, service, serving, to_fld], axis=1)[keep]
    return Facts(np.ascontiguousarray(rows), list(codes), unit)
