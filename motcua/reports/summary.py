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
  ``statistics.median``. No values -> ``null``. The report computes them on whole milliseconds
  (SQLite) or microseconds (PostgreSQL) as exact fractions (rollup.exact_stats) and rounds once
  to 0.1 s, half up like Excel's ROUND.

How (speed): tally.py turns the events into facts in one pass, days.py keeps past days' facts
(in memory and on disk), rollup.py sums them into every dimension with numpy.
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

from sqlalchemy import Connection, or_, select

from ..dossiers.timeliness import DossierRecord, summarise
from ..ratings import REASONS
from ..store import tables as t
from .days import DayStore, data_version, facts_for_period
from .period import Period
from .rollup import COUNT_KEYS, Cell, Rolled, roll_up
from .tally import Scope

log = logging.getLogger(__name__)

__all__ = ["RATING_LEVELS", "RATING_LABELS_VI", "WEEKDAYS_VI", "Scope", "build_summary", "duration_stats",
           "percentile"]

RATING_LEVELS: tuple[str, ...] = ("very_satisfied", "satisfied", "unsatisfied")
RATING_LABELS_VI = {
    "very_satisfied": "Rất hài lòng",
    "satisfied": "Hài lòng",
    "unsatisfied": "Không hài lòng",
}

WEEKDAYS_VI = ("Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy", "Chủ nhật")


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
    reasons: dict[str, int] = field(default_factory=lambda: defaultdict(int))


def _tally_ratings(conn: Connection, period: Period, scope: Scope) -> _Ratings:
    """Ratings of *period* in *scope* (a rating always has its counter), counted by the database:
    per level and (field, counter, staff member), per level and day, and the reasons given."""
    postgres = conn.dialect.name.startswith("postgres")
    if postgres:
        params: dict[str, Any] = {"start": period.start, "end": period.end}
        where = "business_date >= %(start)s AND business_date <= %(end)s"
        reasons = ("json_array_elements_text(CASE WHEN json_typeof(reasons::json) = 'array' "
                   "THEN reasons::json ELSE '[]'::json END)")
    else:
        params = {"start": period.start.isoformat(), "end": period.end.isoformat()}
        where = "business_date >= :start AND business_date <= :end"
        reasons = "json_each(CASE WHEN json_type(reasons) = 'array' THEN reasons ELSE '[]' END)"
    if not scope.whole_office:
        where += f" AND counter IN ({', '.join(str(int(n)) for n in sorted(scope.counters or ())) or 'NULL'})"
    out = _Ratings()
    ignored: set[str] = set()
    for level, fld, counter, staff, n in conn.exec_driver_sql(
            f"SELECT level, field, counter, staff_id, COUNT(*) FROM ratings WHERE {where} "
            "GROUP BY level, field, counter, staff_id", params):
        if level not in RATING_LEVELS:
            ignored.add(level)
            continue
        n = int(n)
        out.total[level] += n
        out.by_field[fld][level] += n
        out.by_counter[counter][level] += n
        if staff is not None:
            out.by_staff[staff][level] += n
    for level, raw_day, n in conn.exec_driver_sql(
            f"SELECT level, business_date, COUNT(*) FROM ratings WHERE {where} GROUP BY level, business_date", params):
        if level in RATING_LEVELS:
            day = raw_day if isinstance(raw_day, date) else date.fromisoformat(str(raw_day)[:10])
            out.by_day[day][level] += int(n)
    for level in sorted(ignored, key=str):
        log.warning("rating level %r ignored in the report", level)
    # Reasons (asked when a citizen is not satisfied).
    column = "value" if postgres else "j.value"
    from_ = f"ratings, {reasons} AS j(value)" if postgres else f"ratings, {reasons} AS j"
    for code, n in conn.exec_driver_sql(
            f"SELECT {column}, COUNT(*) FROM {from_} WHERE {where} AND level = 'unsatisfied' GROUP BY {column}",
            params):
        if code is not None:
            out.reasons[str(code)] += int(n)
    return out


def _reasons_block(counts: Mapping[str, int], unsatisfied: int) -> list[dict[str, Any]]:
    """Every known reason (in the tablet's order) then any other code, with counts and shares
    of the "Không hài lòng" ratings."""
    codes = list(REASONS) + sorted(set(counts) - set(REASONS))
    return [{"code": c, "label": REASONS.get(c, c), "count": int(counts.get(c, 0)),
             "percent": _share(int(counts.get(c, 0)), unsatisfied)} for c in codes]


# Dossiers ----------------------------------------------------------------------------------
def _dossier_blocks(conn: Connection, period: Period, tz: tzinfo,
                    only_fields: set[str] | None = None) -> tuple[dict[str, int], list[dict[str, Any]]]:
    """The contract's dossier block (timeliness.summarise at the period's last day, dates in
    the office's zone) and the same table per field (``dossiers.field``, as imported).
    *only_fields*: dossier field names (compared without case) a staff member's report keeps."""
    d = t.dossiers.c
    start_utc = datetime.combine(period.start, datetime.min.time(), tzinfo=tz).astimezone(timezone.utc)
    end_utc = datetime.combine(period.end + timedelta(days=1), datetime.min.time(),
                               tzinfo=tz).astimezone(timezone.utc)
    q = (select(d.field, d.received_at, d.due_at, d.finished_at, d.status)
         .where(d.received_at < end_utc, or_(d.finished_at.is_(None), d.finished_at >= start_utc))
         .order_by(d.field))
    records: dict[str, list[DossierRecord]] = defaultdict(list)
    for row in conn.execute(q):
        if only_fields is not None and (row.field or "").strip().casefold() not in only_fields:
            continue
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


def _row(cell: Cell | None) -> dict[str, Any]:
    cell = cell or Cell()
    body: dict[str, Any] = dict(zip(COUNT_KEYS, cell.counts))
    body["wait_s"] = dict(cell.wait)
    body["service_s"] = dict(cell.service)
    body["serving_s"] = dict(cell.serving)
    return body


def _heatmap(arrivals: Mapping[tuple[int, int], int], hours: Sequence[int]) -> dict[str, Any]:
    """Tickets issued per weekday (rows, Monday first) and local hour (columns)."""
    cols = list(range(min(hours), max(hours) + 1)) if hours else []
    rows = [{"weekday": wd, "label": WEEKDAYS_VI[wd], "counts": [int(arrivals.get((wd, h), 0)) for h in cols],
             "total": sum(int(arrivals.get((wd, h), 0)) for h in cols)} for wd in range(7)]
    peak = max((n for r in rows for n in r["counts"]), default=0)
    return {"hours": cols, "labels": [f"{h:02d}h" for h in cols], "rows": rows, "max": peak}


def build_summary(conn: Connection, period: Period, *, tz: tzinfo | str = "Asia/Ho_Chi_Minh",
                  now: datetime | None = None, scope: Scope | None = None, today: date | None = None,
                  store: DayStore | None = None) -> dict[str, Any]:
    """The report body of ``GET /api/v1/reports/summary`` for *period* (see module docstring
    and docs/reports.md). *tz* is the office's time zone (hours of the day, dossier dates).
    *scope*: a staff member's counters (None: the whole office). *store* (with *today*, the
    office's business day) keeps the facts of past days between reports (days.DayStore)."""
    period.check_supported()  # a day the clock cannot end (31/12/9999) is a PeriodError, not a 500
    scope = scope or Scope()
    zone = ZoneInfo(tz) if isinstance(tz, str) else tz
    rolled = None
    if store is not None and today is not None:
        key = (data_version(conn, period, zone, store), scope)
        rolled = store.result(key)
    if not isinstance(rolled, Rolled):
        rolled = roll_up(facts_for_period(conn, period, zone, store=store, today=today), scope)
        if store is not None and today is not None:
            store.keep_result(key, rolled)
    ratings = _tally_ratings(conn, period, scope)
    fields, counter_names, users = _names(conn)
    only = None if scope.whole_office else {name.strip().casefold() for code, name, _a in fields
                                            if code in scope.fields}
    dossiers, dossiers_by_field = _dossier_blocks(conn, period, zone, only)
    by_field, t_in = rolled.by_field, rolled.transferred_in

    def field_row(code: str, name: str) -> dict[str, Any]:
        body = _row(by_field.get(code))
        body["transferred_in"] = int(t_in.get(code, 0))
        return {"code": code, "name": name, **body, "ratings": _rating_block(ratings.by_field.get(code, {}))}

    services = []
    known = set()
    for code, name, active in fields:
        known.add(code)
        if not scope.whole_office and code not in scope.fields and code not in by_field:
            continue
        if not active and code not in by_field and code not in ratings.by_field:
            continue
        services.append(field_row(code, name))
    for code in sorted((set(by_field) | set(ratings.by_field)) - known):
        services.append(field_row(code, code))

    days = [{"date": day.isoformat(), **_row(rolled.by_day.get(day)),
             "ratings": _rating_block(ratings.by_day.get(day, {}))} for day in period.each_day()]

    counter_numbers = set(rolled.by_counter) | set(ratings.by_counter)
    if not scope.whole_office:
        counter_numbers |= set(scope.counters or ())
    counters = [{"counter": n, "name": counter_names.get(n) or f"Quầy {n}", **_row(rolled.by_counter.get(n)),
                 "ratings": _rating_block(ratings.by_counter.get(n, {}))}
                for n in sorted(counter_numbers)]

    staff = []
    for sid in sorted(set(rolled.by_staff) | set(ratings.by_staff)):
        username, full_name = users.get(sid, ("", ""))
        staff.append({"staff_id": sid, "username": username, "full_name": full_name,
                      **_row(rolled.by_staff.get(sid)),
                      "ratings": _rating_block(ratings.by_staff.get(sid, {}))})

    by_hour = rolled.by_hour
    hours = [{"hour": h, "label": _hour_label(h), "issued": c.issued, "called": c.called,
              "served": c.served, "wait_s": dict(c.wait)}
             for h, c in sorted(by_hour.items())]
    busiest = max(hours, key=lambda r: (r["issued"], -r["hour"]), default=None)
    if busiest is not None and busiest["issued"] == 0:
        busiest = None

    totals = _row(rolled.total)
    rating_total = _rating_block(ratings.total)
    rating_total["reasons"] = _reasons_block(ratings.reasons, rating_total["unsatisfied"])
    body: dict[str, Any] = {
        "from": period.start.isoformat(),
        "to": period.end.isoformat(),
        "days_count": period.days,
        "timezone": getattr(zone, "key", str(zone)),
        "scope": {"whole_office": scope.whole_office,
                  "counters": sorted(scope.counters) if scope.counters is not None else None},
        "services": services,
        "totals": totals,
        "ratings": rating_total,
        "dossiers": dossiers,
        "dossiers_by_field": dossiers_by_field,
        "days": days,
        "counters": counters,
        "staff": staff,
        "hours": hours,
        "busiest_hour": busiest,
        "heatmap": _heatmap(rolled.arrivals, [h for h, _c in by_hour.items()]),
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
