"""The report's figures, computed from the event rows only (no Flask).

Every figure comes from ``ticket_events`` (issue, call, start, finish, no_show, transfer,
reactivate, cancel), ``ratings`` and ``dossiers``; nothing is read from counters kept
elsewhere, so a report for any past period can be rebuilt at any time. docs/reports.md
explains each figure in Vietnamese and English.

Definitions (one place; change them here and in docs/reports.md together)
--------------------------------------------------------------------------
* A day is the office's local business day (``ticket_events.business_date``). Each event
  counts on its own day: ``issued`` by the issue event, ``served`` by the finish event,
  ``no_show`` by the no_show event, ``transferred`` by the transfer event, counted on the
  field the ticket *leaves* (``transferred_in`` on the field it joins).
* Wait of a visit (``wait_s``) = its ``call`` event minus the event that (re)entered the
  ticket into that field's queue: ``issue``, ``transfer`` (the ticket joins the new
  field's queue) or ``reactivate`` (a no-show came back). Counted on the call's day and
  the field it was called for.
* Service time (``service_s``) = the visit's ``finish`` minus its ``call``: the counter is
  busy with the citizen from the call, and the call is the one moment every visit has.
  Time on hold is included. ``serving_s`` = ``finish`` minus the staff's own ``start``
  (the "citizen arrived" press); a visit finished without such a press (the engine then
  writes an automatic start, ``detail.auto``) has no ``serving_s``. Both count on the
  finish's day.
* Percentiles are linear between the closest ranks (numpy's default, Excel's
  PERCENTILE.INC / MEDIAN), so the office lead gets the same figure in a spreadsheet: that is
  the standard library's ``statistics.quantiles(..., method="inclusive")`` and
  ``statistics.median``. No values -> ``null``. Seconds are rounded to 0.1 s.
"""
from __future__ import annotations

import logging
import statistics
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone, tzinfo
from fractions import Fraction
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, func, or_, select

from ..dossiers.timeliness import DossierRecord, summarise
from ..store import tables as t
from .period import Period

log = logging.getLogger(__name__)

__all__ = ["RATING_LEVELS", "RATING_LABELS_VI", "build_summary", "duration_stats", "percentile"]

RATING_LEVELS: tuple[str, ...] = ("very_satisfied", "satisfied", "unsatisfied")
RATING_LABELS_VI = {
    "very_satisfied": "Rất hài lòng",
    "satisfied": "Hài lòng",
    "unsatisfied": "Không hài lòng",
}

# Actions that put a ticket into a field's queue (the start of a wait).
_QUEUE_ENTRY = frozenset({"issue", "transfer", "reactivate"})
_ACTIONS = ("issue", "transfer", "reactivate", "call", "start", "finish", "no_show", "cancel")


# Statistics --------------------------------------------------------------------------------
def percentile(values: Sequence[float], q: float) -> float | None:
    """The *q* quantile (0..1) of *values*, linear between closest ranks (Excel
    PERCENTILE.INC, numpy ``linear``, ``statistics.quantiles(method="inclusive")``). *q* is
    taken as the nearest fraction with a denominator up to 1000 (0.9 -> 9/10: every whole
    percent and per mille is exact). Empty -> None."""
    if not 0.0 <= q <= 1.0:
        raise ValueError("q must be between 0 and 1")
    if not values:
        return None
    share = Fraction(q).limit_denominator(1000)
    ordered = sorted(values)
    if share.numerator == 0 or len(ordered) == 1:
        return ordered[0]
    if share.numerator == share.denominator:
        return ordered[-1]
    return statistics.quantiles(ordered, n=share.denominator, method="inclusive")[share.numerator - 1]


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def duration_stats(values: Sequence[float]) -> dict[str, Any]:
    """``{"mean", "median", "p90", "max", "count"}`` in seconds (None when empty)."""
    if not values:
        return {"mean": None, "median": None, "p90": None, "max": None, "count": 0}
    ordered = sorted(values)
    # statistics.quantiles needs two values (Python 3.11); one value is its own p90.
    p90 = statistics.quantiles(ordered, n=10, method="inclusive")[8] if len(ordered) > 1 else ordered[0]
    return {
        "mean": _round(sum(ordered) / len(ordered)),
        "median": _round(statistics.median(ordered)),
        "p90": _round(p90),
        "max": _round(ordered[-1]),
        "count": len(ordered),
    }


def _share(part: int, total: int) -> float | None:
    return None if total <= 0 else round(100.0 * part / total, 1)


# Tallies -----------------------------------------------------------------------------------
@dataclass
class _Tally:
    """What one row of the report (a field, a day, a counter, a staff member) adds up."""

    issued: int = 0
    called: int = 0
    served: int = 0
    no_show: int = 0
    transferred: int = 0
    transferred_in: int = 0
    cancelled: int = 0
    waits: list[float] = field(default_factory=list)
    services: list[float] = field(default_factory=list)
    servings: list[float] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "issued": self.issued, "called": self.called, "served": self.served, "no_show": self.no_show,
            "transferred": self.transferred, "transferred_in": self.transferred_in,
            "cancelled": self.cancelled,
            "wait_s": duration_stats(self.waits),
            "service_s": duration_stats(self.services),
            "serving_s": duration_stats(self.servings),
        }


@dataclass
class _Tallies:
    tz: tzinfo
    total: _Tally = field(default_factory=_Tally)
    by_field: dict[str, _Tally] = field(default_factory=lambda: defaultdict(_Tally))
    by_day: dict[date, _Tally] = field(default_factory=lambda: defaultdict(_Tally))
    by_counter: dict[int, _Tally] = field(default_factory=lambda: defaultdict(_Tally))
    by_staff: dict[int, _Tally] = field(default_factory=lambda: defaultdict(_Tally))
    by_hour: dict[int, _Tally] = field(default_factory=lambda: defaultdict(_Tally))

    def rows(self, ev: Any, *, field_code: str | None = None) -> list[_Tally]:
        """Every tally this event counts in (its field, day, local hour, counter, staff)."""
        out = [self.total, self.by_field[field_code or ev.field], self.by_day[ev.business_date],
               self.by_hour[ev.at.astimezone(self.tz).hour]]
        if ev.counter is not None:
            out.append(self.by_counter[ev.counter])
        if ev.staff_id is not None:
            out.append(self.by_staff[ev.staff_id])
        return out


def _seconds(later: datetime, earlier: datetime | None) -> float | None:
    return None if earlier is None else max(0.0, (later - earlier).total_seconds())


def _walk_ticket(events: list[Any], period: Period, tallies: _Tallies) -> None:
    """Add one ticket's events (in order) to the tallies."""
    queued_at: datetime | None = None
    calls: dict[int, datetime] = {}
    starts: dict[int, datetime] = {}
    for ev in events:
        in_range = period.start <= ev.business_date <= period.end
        action = ev.action
        if action == "call":
            if ev.visit_id is not None:
                calls[ev.visit_id] = ev.at
            if in_range:
                wait = _seconds(ev.at, queued_at)
                for row in tallies.rows(ev):
                    row.called += 1
                    if wait is not None:
                        row.waits.append(wait)
            queued_at = None
        elif action == "start":
            if ev.visit_id is not None and not (ev.detail or {}).get("auto"):
                starts.setdefault(ev.visit_id, ev.at)
        elif action == "finish":
            if in_range:
                service = _seconds(ev.at, calls.get(ev.visit_id))
                serving = _seconds(ev.at, starts.get(ev.visit_id))
                for row in tallies.rows(ev):
                    row.served += 1
                    if service is not None:
                        row.services.append(service)
                    if serving is not None:
                        row.servings.append(serving)
        elif action == "no_show":
            if in_range:
                for row in tallies.rows(ev):
                    row.no_show += 1
        elif action == "cancel":
            if in_range:
                for row in tallies.rows(ev):
                    row.cancelled += 1
        elif action in _QUEUE_ENTRY:
            queued_at = ev.at
            if not in_range:
                continue
            if action == "issue":
                for row in tallies.rows(ev):
                    row.issued += 1
            elif action == "transfer":
                detail = ev.detail or {}
                left = detail.get("from_field") or ev.field
                for row in tallies.rows(ev, field_code=left):
                    row.transferred += 1
                joined = detail.get("to_field")
                if joined:
                    tallies.by_field[joined].transferred_in += 1


def _tally_events(conn: Connection, period: Period, tz: tzinfo) -> _Tallies:
    ev = t.ticket_events.c
    touched = (select(ev.ticket_id).where(ev.business_date >= period.start, ev.business_date <= period.end)
               .distinct())
    q = (select(ev.ticket_id, ev.id, ev.at, ev.business_date, ev.action, ev.field, ev.counter, ev.staff_id,
                ev.visit_id, ev.detail)
         .where(ev.ticket_id.in_(touched), ev.action.in_(_ACTIONS))
         .order_by(ev.ticket_id, ev.id)
         .execution_options(yield_per=5000))
    tallies = _Tallies(tz)
    current: list[Any] = []
    current_id: int | None = None
    for row in conn.execute(q):
        if row.ticket_id != current_id and current:
            _walk_ticket(current, period, tallies)
            current = []
        current_id = row.ticket_id
        current.append(row)
    if current:
        _walk_ticket(current, period, tallies)
    return tallies


# Ratings -----------------------------------------------------------------------------------
def _rating_block(counts: Mapping[str, int]) -> dict[str, Any]:
    block: dict[str, Any] = {level: int(counts.get(level, 0)) for level in RATING_LEVELS}
    total = sum(block[level] for level in RATING_LEVELS)
    block["total"] = total
    block["percent"] = {level: _share(block[level], total) for level in RATING_LEVELS}
    block["satisfied_percent"] = _share(block["very_satisfied"] + block["satisfied"], total)
    return block


@dataclass
class _Ratings:
    total: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    by_field: dict[str, dict[str, int]] = field(default_factory=lambda: defaultdict(lambda: defaultdict(int)))
    by_counter: dict[int, dict[str, int]] = field(default_factory=lambda: defaultdict(lambda: defaultdict(int)))
    by_staff: dict[int, dict[str, int]] = field(default_factory=lambda: defaultdict(lambda: defaultdict(int)))
    by_day: dict[date, dict[str, int]] = field(default_factory=lambda: defaultdict(lambda: defaultdict(int)))


def _tally_ratings(conn: Connection, period: Period) -> _Ratings:
    r = t.ratings.c
    q = (select(r.level, r.field, r.counter, r.staff_id, r.business_date, func.count().label("n"))
         .where(r.business_date >= period.start, r.business_date <= period.end)
         .group_by(r.level, r.field, r.counter, r.staff_id, r.business_date))
    out = _Ratings()
    for row in conn.execute(q):
        if row.level not in RATING_LEVELS:
            log.warning("rating level %r ignored in the report", row.level)
            continue
        n = int(row.n)
        out.total[row.level] += n
        out.by_field[row.field][row.level] += n
        out.by_counter[row.counter][row.level] += n
        out.by_day[row.business_date][row.level] += n
        if row.staff_id is not None:
            out.by_staff[row.staff_id][row.level] += n
    return out


# Dossiers ----------------------------------------------------------------------------------
def _dossier_blocks(conn: Connection, period: Period, tz: tzinfo) -> tuple[dict[str, int], list[dict[str, Any]]]:
    """The contract's dossier block (timeliness.summarise at the period's last day, dates in
    the office's zone) and the same table per field (``dossiers.field``, as imported)."""
    d = t.dossiers.c
    start_utc = datetime.combine(period.start, datetime.min.time(), tzinfo=tz).astimezone(timezone.utc)
    end_utc = datetime.combine(period.end + timedelta(days=1), datetime.min.time(),
                               tzinfo=tz).astimezone(timezone.utc)
    q = (select(d.field, d.received_at, d.due_at, d.finished_at, d.status)
         .where(d.received_at < end_utc, or_(d.finished_at.is_(None), d.finished_at >= start_utc))
         .order_by(d.field))
    records: dict[str, list[DossierRecord]] = defaultdict(list)
    for row in conn.execute(q):
        records[row.field or ""].append(DossierRecord(
            received_at=row.received_at.astimezone(tz),
            due_at=row.due_at.astimezone(tz),
            finished_at=row.finished_at.astimezone(tz) if row.finished_at is not None else None,
            status=row.status,
        ))
    everything = [rec for recs in records.values() for rec in recs]
    total = summarise(everything, period.start, period.end)
    by_field = []
    for name, recs in sorted(records.items(), key=lambda kv: kv[0]):
        counts = summarise(recs, period.start, period.end)
        if counts["received"]:
            by_field.append({"field": name, **counts})
    return total, by_field


# The summary -------------------------------------------------------------------------------
def _names(conn: Connection) -> tuple[list[tuple[str, str, bool]], dict[int, str], dict[int, tuple[str, str]]]:
    f = t.fields.c
    fields = [(r.code, r.name, bool(r.active))
              for r in conn.execute(select(f.code, f.name, f.active).order_by(f.position, f.code))]
    counters = {r.number: r.name for r in conn.execute(select(t.counters.c.number, t.counters.c.name))}
    users = {r.id: (r.username, r.full_name) for r in conn.execute(
        select(t.users.c.id, t.users.c.username, t.users.c.full_name))}
    return fields, counters, users


def _hour_label(hour: int) -> str:
    return f"{hour:02d}:00–{(hour + 1) % 24:02d}:00"


def build_summary(conn: Connection, period: Period, *, tz: tzinfo | str = "Asia/Ho_Chi_Minh",
                  now: datetime | None = None) -> dict[str, Any]:
    """The report body of ``GET /api/v1/reports/summary`` for *period* (see module docstring
    and docs/reports.md). *tz* is the office's time zone (hours of the day, dossier dates)."""
    period.check_supported()  # a day the clock cannot end (31/12/9999) is a PeriodError, not a 500
    zone = ZoneInfo(tz) if isinstance(tz, str) else tz
    tallies = _tally_events(conn, period, zone)
    ratings = _tally_ratings(conn, period)
    dossiers, dossiers_by_field = _dossier_blocks(conn, period, zone)
    fields, counter_names, users = _names(conn)

    services = []
    known = set()
    for code, name, active in fields:
        known.add(code)
        tally = tallies.by_field.get(code)
        if not active and tally is None and code not in ratings.by_field:
            continue
        services.append({"code": code, "name": name, **(tally or _Tally()).as_json(),
                         "ratings": _rating_block(ratings.by_field.get(code, {}))})
    for code in sorted((set(tallies.by_field) | set(ratings.by_field)) - known):
        services.append({"code": code, "name": code, **tallies.by_field.get(code, _Tally()).as_json(),
                         "ratings": _rating_block(ratings.by_field.get(code, {}))})

    days = [{"date": day.isoformat(), **tallies.by_day.get(day, _Tally()).as_json(),
             "ratings": _rating_block(ratings.by_day.get(day, {}))} for day in period.each_day()]

    counters = [{"counter": n, "name": counter_names.get(n, f"Quầy {n}"),
                 **tallies.by_counter.get(n, _Tally()).as_json(),
                 "ratings": _rating_block(ratings.by_counter.get(n, {}))}
                for n in sorted(set(tallies.by_counter) | set(ratings.by_counter))]

    staff = []
    for sid in sorted(set(tallies.by_staff) | set(ratings.by_staff)):
        username, full_name = users.get(sid, ("", ""))
        staff.append({"staff_id": sid, "username": username, "full_name": full_name,
                      **tallies.by_staff.get(sid, _Tally()).as_json(),
                      "ratings": _rating_block(ratings.by_staff.get(sid, {}))})

    hours = [{"hour": h, "label": _hour_label(h), "issued": tally.issued, "called": tally.called,
              "served": tally.served, "wait_s": duration_stats(tally.waits)}
             for h, tally in sorted(tallies.by_hour.items())]
    busiest = max(hours, key=lambda r: (r["issued"], -r["hour"]), default=None)
    if busiest is not None and busiest["issued"] == 0:
        busiest = None

    body: dict[str, Any] = {
        "from": period.start.isoformat(),
        "to": period.end.isoformat(),
        "days_count": period.days,
        "timezone": getattr(zone, "key", str(zone)),
        "services": services,
        "totals": tallies.total.as_json(),
        "ratings": _rating_block(ratings.total),
        "dossiers": dossiers,
        "dossiers_by_field": dossiers_by_field,
        "days": days,
        "counters": counters,
        "staff": staff,
        "hours": hours,
        "busiest_hour": busiest,
        "method": {
            "wait_s": "call - (issue | transfer | reactivate)",
            "service_s": "finish - call",
            "serving_s": "finish - start (manual start only)",
            "percentile": "linear (PERCENTILE.INC)",
        },
    }
    if now is not None:
        body["generated_at"] = now.astimezone(zone).isoformat(timespec="seconds")
    return body
