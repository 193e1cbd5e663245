"""The office lead's reports, computed from the event rows only (no Flask).

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
  PERCENTILE.INC / MEDIAN), so the office lead gets the same figure in a spreadsheet.
  No values -> ``null``. Seconds are rounded to 0.1 s.
"""
from __future__ import annotations

import io
import logging
import math
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, func, or_, select

from .dossiers.timeliness import DossierRecord, summarise
from .store import tables as t

log = logging.getLogger(__name__)

__all__ = [
    "MAX_PERIOD_DAYS",
    "RATING_LEVELS",
    "RATING_LABELS_VI",
    "Period",
    "PeriodError",
    "build_summary",
    "duration_stats",
    "parse_period",
    "percentile",
    "summary_workbook",
    "XLSX_MIMETYPE",
]

#: The longest period one report may cover, in days (both ends included).
MAX_PERIOD_DAYS = 366
RATING_LEVELS: tuple[str, ...] = ("very_satisfied", "satisfied", "unsatisfied")
RATING_LABELS_VI = {
    "very_satisfied": "Rất hài lòng",
    "satisfied": "Hài lòng",
    "unsatisfied": "Không hài lòng",
}
XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

# Actions that put a ticket into a field's queue (the start of a wait).
_QUEUE_ENTRY = frozenset({"issue", "transfer", "reactivate"})
_ACTIONS = ("issue", "transfer", "reactivate", "call", "start", "finish", "no_show", "cancel")
_ISO_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


# The period --------------------------------------------------------------------------------
class PeriodError(ValueError):
    """A report period the caller must fix; ``message`` is Vietnamese, ``status`` HTTP."""

    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Period:
    """Business days ``start``..``end``, both included."""

    start: date
    end: date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def each_day(self) -> Iterator[date]:
        for i in range(self.days):
            yield self.start + timedelta(days=i)

    def label_vi(self) -> str:
        return f"Từ ngày {self.start:%d/%m/%Y} đến ngày {self.end:%d/%m/%Y}"

    def filename(self, ext: str = "xlsx") -> str:
        return f"bao-cao-{self.start.isoformat()}_{self.end.isoformat()}.{ext}"


def _parse_day(raw: str, name: str, what: str) -> date:
    value = raw.strip()
    if not _ISO_DAY.match(value):
        shown = value[:20] + ("…" if len(value) > 20 else "")
        raise PeriodError(400, "bad_date", f"Tham số '{name}' ({what}) phải là ngày dạng YYYY-MM-DD, "
                          f"ví dụ 2026-11-01; nhận được '{shown}'.")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise PeriodError(400, "bad_date", f"Tham số '{name}' ({what}): ngày {value} không tồn tại.") from None


def parse_period(raw_from: str | None, raw_to: str | None, today: date) -> Period:
    """The period of ``?from=&to=``. Both absent -> *today* only. Raises `PeriodError`:
    400 for a missing or malformed date, 422 for from > to or more than `MAX_PERIOD_DAYS`."""
    raw_from = raw_from if raw_from and raw_from.strip() else None
    raw_to = raw_to if raw_to and raw_to.strip() else None
    if raw_from is None and raw_to is None:
        return Period(today, today)
    if raw_from is None:
        raise PeriodError(400, "missing_date", "Thiếu tham số 'from' (ngày bắt đầu, dạng YYYY-MM-DD).")
    if raw_to is None:
        raise PeriodError(400, "missing_date", "Thiếu tham số 'to' (ngày kết thúc, dạng YYYY-MM-DD).")
    start = _parse_day(raw_from, "from", "ngày bắt đầu")
    end = _parse_day(raw_to, "to", "ngày kết thúc")
    if start > end:
        raise PeriodError(422, "bad_period", f"Ngày bắt đầu ({start:%d/%m/%Y}) phải trước hoặc bằng "
                          f"ngày kết thúc ({end:%d/%m/%Y}).")
    period = Period(start, end)
    if period.days > MAX_PERIOD_DAYS:
        raise PeriodError(422, "period_too_long", f"Kỳ báo cáo dài tối đa {MAX_PERIOD_DAYS} ngày; "
                          f"kỳ đã chọn dài {period.days} ngày. Hãy chia thành nhiều kỳ ngắn hơn.")
    return period


# Statistics --------------------------------------------------------------------------------
def percentile(values: Sequence[float], q: float) -> float | None:
    """The *q* quantile (0..1) of *values*, linear between closest ranks (Excel
    PERCENTILE.INC, numpy ``linear``). Empty -> None."""
    if not 0.0 <= q <= 1.0:
        raise ValueError("q must be between 0 and 1")
    return _sorted_quantile(sorted(values), q) if values else None


def _sorted_quantile(ordered: Sequence[float], q: float) -> float:
    pos = (len(ordered) - 1) * q
    lo = math.floor(pos)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def duration_stats(values: Sequence[float]) -> dict[str, Any]:
    """``{"mean", "median", "p90", "max", "count"}`` in seconds (None when empty)."""
    if not values:
        return {"mean": None, "median": None, "p90": None, "max": None, "count": 0}
    ordered = sorted(values)
    return {
        "mean": _round(sum(ordered) / len(ordered)),
        "median": _round(_sorted_quantile(ordered, 0.5)),
        "p90": _round(_sorted_quantile(ordered, 0.9)),
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


# The workbook ------------------------------------------------------------------------------
def _minutes(seconds: float | None) -> float | None:
    """Seconds to minutes, unrounded: the cell's format shows one decimal (Excel rounds half up)."""
    return None if seconds is None else seconds / 60.0


@dataclass(frozen=True)
class _Column:
    title: str
    number_format: str | None = None


class _SheetWriter:
    """Writes one sheet: the title rows, then tables; sizes the columns at the end."""

    FONT = "Times New Roman"

    def __init__(self, wb: Any, title: str, office_name: str, heading: str, period: Period):
        from openpyxl.styles import Alignment, Font

        self.ws = wb.create_sheet(title)
        self.row = 1
        self.width_hint: dict[int, int] = defaultdict(int)
        self._titles: list[tuple[int, str, Font]] = []
        for text, font in ((office_name.upper(), Font(name=self.FONT, bold=True, size=12)),
                           (heading, Font(name=self.FONT, bold=True, size=14)),
                           (period.label_vi(), Font(name=self.FONT, italic=True, size=12))):
            cell = self.ws.cell(row=self.row, column=1, value=text)
            cell.font = font
            cell.alignment = Alignment(horizontal="center", vertical="center")
            self._titles.append((self.row, text, font))
            self.row += 1
        self.row += 1

    def table(self, columns: Sequence[_Column], rows: Iterable[Sequence[Any]], *,
              groups: Sequence[tuple[str, int]] | None = None, total_row: Sequence[Any] | None = None) -> int:
        """Write a table; *groups* is an optional first header row of (title, span).
        Returns the row number of the (last) header row."""
        from openpyxl.styles import Alignment, Border, Font, PatternFill, Side

        thin = Side(style="thin", color="000000")
        border = Border(left=thin, right=thin, top=thin, bottom=thin)
        head_font = Font(name=self.FONT, bold=True, size=12)
        body_font = Font(name=self.FONT, size=12)
        fill = PatternFill("solid", fgColor="DDE7F0")
        centre = Alignment(horizontal="center", vertical="center", wrap_text=True)
        if groups:
            col = 1
            for title, span in groups:
                cell = self.ws.cell(row=self.row, column=col, value=title)
                if span > 1:
                    self.ws.merge_cells(start_row=self.row, start_column=col, end_row=self.row,
                                        end_column=col + span - 1)
                for c in range(col, col + span):
                    g = self.ws.cell(row=self.row, column=c)
                    g.font, g.alignment, g.border, g.fill = head_font, centre, border, fill
                if span == 1:
                    # A column without a group: its own title spans both header rows.
                    self.ws.merge_cells(start_row=self.row, start_column=col, end_row=self.row + 1, end_column=col)
                    cell.value = columns[col - 1].title
                col += span
            self.row += 1
        header_row = self.row
        for i, column in enumerate(columns, start=1):
            cell = self.ws.cell(row=self.row, column=i)
            if not (groups and self._in_single_group(groups, i)):
                cell.value = column.title
            cell.font, cell.alignment, cell.border, cell.fill = head_font, centre, border, fill
            self._hint(i, column.title, header=True)
        self.ws.row_dimensions[self.row].height = 33
        self.row += 1
        for values in list(rows) + ([total_row] if total_row is not None else []):
            is_total = total_row is not None and values is total_row
            for i, (column, value) in enumerate(zip(columns, values), start=1):
                cell = self.ws.cell(row=self.row, column=i, value=value)
                cell.font = Font(name=self.FONT, size=12, bold=is_total) if is_total else body_font
                cell.border = border
                if column.number_format:
                    cell.number_format = column.number_format
                if isinstance(value, str):
                    cell.alignment = Alignment(vertical="center", wrap_text=len(value) > 45)
                self._hint(i, value)
            self.row += 1
        self.row += 1
        return header_row

    @staticmethod
    def _in_single_group(groups: Sequence[tuple[str, int]], column: int) -> bool:
        col = 1
        for _title, span in groups:
            if span == 1 and col == column:
                return True
            col += span
        return False

    def note(self, text: str) -> None:
        from openpyxl.styles import Font

        cell = self.ws.cell(row=self.row, column=1, value=text)
        cell.font = Font(name=self.FONT, italic=True, size=11)
        self.row += 1

    def _hint(self, column: int, value: Any, *, header: bool = False) -> None:
        if value is None:
            return
        if isinstance(value, float):
            text = f"{value:.1f}"
        elif isinstance(value, date):
            text = "00/00/0000"
        else:
            text = str(value)
        longest = max((len(w) for w in text.split()), default=0) if header else len(text)
        want = max(longest, min(len(text), 16)) if header else min(len(text), 45)
        self.width_hint[column] = max(self.width_hint[column], want)

    def finish(self, freeze_at: str | None = None) -> None:
        from openpyxl.utils import get_column_letter

        ncols = max(self.width_hint) if self.width_hint else 1
        for col in range(1, ncols + 1):
            self.ws.column_dimensions[get_column_letter(col)].width = max(8, self.width_hint[col] + 3)
        for row, _text, _font in self._titles:
            if ncols > 1:
                self.ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=ncols)
            self.ws.row_dimensions[row].height = 20
        if freeze_at:
            self.ws.freeze_panes = freeze_at
        self.ws.page_setup.orientation = "landscape"
        self.ws.page_setup.paperSize = self.ws.PAPERSIZE_A4
        self.ws.page_setup.fitToWidth = 1
        self.ws.page_setup.fitToHeight = 0
        self.ws.sheet_properties.pageSetUpPr.fitToPage = True
        self.ws.print_options.horizontalCentered = True


_MIN = "0.0"
_PCT = "0.0%"
_INT = "#,##0"


def _frac(part: int, total: int) -> float | None:
    """A share as a fraction for a "0.0%" cell (None when nothing was counted)."""
    return None if total <= 0 else part / total


def summary_workbook(report: Mapping[str, Any], *, office_name: str) -> bytes:
    """The report (a `build_summary` body) as XLSX bytes: sheets "Tổng hợp", "Đánh giá",
    "Hồ sơ", then "Theo ngày", "Theo quầy", "Theo cán bộ", "Theo giờ". Times in minutes."""
    from openpyxl import Workbook

    period = Period(date.fromisoformat(report["from"]), date.fromisoformat(report["to"]))
    wb = Workbook()
    wb.remove(wb.active)
    wb.properties.title = f"Báo cáo {period.label_vi().lower()}"
    wb.properties.creator = "motcua"

    # Tổng hợp: per field.
    s = _SheetWriter(wb, "Tổng hợp", office_name, "BÁO CÁO TỔNG HỢP TÌNH HÌNH TIẾP ĐÓN CÔNG DÂN", period)
    columns = [_Column("STT"), _Column("Lĩnh vực"), _Column("Số phiếu", _INT), _Column("Đã phục vụ", _INT),
               _Column("Vắng mặt", _INT), _Column("Chuyển", _INT), _Column("Chờ TB (phút)", _MIN),
               _Column("Chờ trung vị (phút)", _MIN), _Column("Chờ P90 (phút)", _MIN),
               _Column("Phục vụ TB (phút)", _MIN), _Column("Phục vụ trung vị (phút)", _MIN),
               _Column("Phục vụ P90 (phút)", _MIN)]

    def figures(row: Mapping[str, Any]) -> list[Any]:
        w, sv = row["wait_s"], row["service_s"]
        return [row["issued"], row["served"], row["no_show"], row["transferred"],
                _minutes(w["mean"]), _minutes(w["median"]), _minutes(w["p90"]),
                _minutes(sv["mean"]), _minutes(sv["median"]), _minutes(sv["p90"])]

    rows = [[i, svc["name"], *figures(svc)] for i, svc in enumerate(report["services"], start=1)]
    header = s.table(columns, rows, total_row=["", "Tổng cộng", *figures(report["totals"])])
    s.note("Thời gian chờ: từ khi lấy số (hoặc được chuyển lĩnh vực, gọi lại sau vắng mặt) đến khi được gọi.")
    s.note("Thời gian phục vụ: từ khi quầy gọi số đến khi kết thúc phục vụ. TB: trung bình; "
           "P90: 90% lượt không vượt quá.")
    s.finish(freeze_at=f"C{header + 1}")

    # Đánh giá.
    ratings = report["ratings"]
    s = _SheetWriter(wb, "Đánh giá", office_name, "KẾT QUẢ ĐÁNH GIÁ MỨC ĐỘ HÀI LÒNG", period)
    rows = [[RATING_LABELS_VI[level], ratings[level], _frac(ratings[level], ratings["total"])]
            for level in RATING_LEVELS]
    s.table([_Column("Mức độ hài lòng"), _Column("Số lượt đánh giá", _INT), _Column("Tỷ lệ", _PCT)], rows,
            total_row=["Tổng cộng", ratings["total"], 1.0 if ratings["total"] else None])
    s.note("Tỷ lệ hài lòng (Rất hài lòng + Hài lòng): "
           + (f"{ratings['satisfied_percent']:.1f}%".replace(".", ",")
              if ratings["satisfied_percent"] is not None else "chưa có đánh giá") + ".")
    s.row += 1
    by_field = [[svc["name"], svc["ratings"]["very_satisfied"], svc["ratings"]["satisfied"],
                 svc["ratings"]["unsatisfied"], svc["ratings"]["total"],
                 _frac(svc["ratings"]["very_satisfied"] + svc["ratings"]["satisfied"], svc["ratings"]["total"])]
                for svc in report["services"]]
    s.table([_Column("Lĩnh vực"), _Column("Rất hài lòng", _INT), _Column("Hài lòng", _INT),
             _Column("Không hài lòng", _INT), _Column("Tổng số", _INT), _Column("Tỷ lệ hài lòng", _PCT)], by_field)
    s.finish()

    # Hồ sơ.
    dossiers = report["dossiers"]
    s = _SheetWriter(wb, "Hồ sơ", office_name, "TÌNH HÌNH GIẢI QUYẾT HỒ SƠ THỦ TỤC HÀNH CHÍNH", period)
    d_columns = [_Column("Lĩnh vực"), _Column("Tổng số", _INT), _Column("Kỳ trước chuyển sang", _INT),
                 _Column("Mới tiếp nhận", _INT), _Column("Tổng số", _INT), _Column("Trước hạn", _INT),
                 _Column("Đúng hạn", _INT), _Column("Quá hạn", _INT), _Column("Tổng số", _INT),
                 _Column("Trong hạn", _INT), _Column("Quá hạn", _INT)]

    def d_figures(c: Mapping[str, Any]) -> list[Any]:
        return [c["received"], c.get("carried_over"), c.get("received_new"), c.get("finished"),
                c["finished_early"], c["finished_on_time"], c["finished_late"], c.get("in_progress"),
                c["in_progress_in_time"], c["in_progress_overdue"]]

    d_rows = [[row["field"] or "(Không rõ lĩnh vực)", *d_figures(row)] for row in report.get("dossiers_by_field", [])]
    header = s.table(d_columns, d_rows,
                     groups=[("Lĩnh vực", 1), ("Tiếp nhận", 3), ("Đã giải quyết", 4), ("Đang giải quyết", 3)],
                     total_row=["Tổng cộng", *d_figures(dossiers)])
    s.note(f"Đúng hạn/quá hạn theo Quyết định 766/QĐ-TTg, tính đến ngày {period.end:%d/%m/%Y}; "
           "so sánh theo ngày (giờ địa phương) với ngày hẹn trả đầu tiên.")
    if dossiers.get("finished_date_unknown"):
        s.note(f"Có {dossiers['finished_date_unknown']} hồ sơ đã giải quyết nhưng không có ngày kết thúc: "
               "tính vào \"Đã giải quyết - Tổng số\", không xếp được trước hạn/đúng hạn/quá hạn.")
    s.finish(freeze_at=f"B{header + 1}")

    # Theo ngày.
    s = _SheetWriter(wb, "Theo ngày", office_name, "SỐ LIỆU THEO NGÀY", period)
    day_cols = [_Column("Ngày", "DD/MM/YYYY"), _Column("Số phiếu", _INT), _Column("Đã phục vụ", _INT),
                _Column("Vắng mặt", _INT), _Column("Chuyển", _INT), _Column("Chờ TB (phút)", _MIN),
                _Column("Phục vụ TB (phút)", _MIN), _Column("Lượt đánh giá", _INT)]
    day_rows = [[date.fromisoformat(d["date"]), d["issued"], d["served"], d["no_show"], d["transferred"],
                 _minutes(d["wait_s"]["mean"]), _minutes(d["service_s"]["mean"]), d["ratings"]["total"]]
                for d in report.get("days", [])]
    header = s.table(day_cols, day_rows)
    s.finish(freeze_at=f"B{header + 1}")

    # Theo quầy.
    s = _SheetWriter(wb, "Theo quầy", office_name, "SỐ LIỆU THEO QUẦY", period)
    person_cols = [_Column("Lượt gọi", _INT), _Column("Đã phục vụ", _INT), _Column("Vắng mặt", _INT),
                   _Column("Chuyển đi", _INT), _Column("Phục vụ TB (phút)", _MIN),
                   _Column("Lượt đánh giá", _INT), _Column("Tỷ lệ hài lòng", _PCT)]

    def person(r: Mapping[str, Any]) -> list[Any]:
        return [r["called"], r["served"], r["no_show"], r["transferred"], _minutes(r["service_s"]["mean"]),
                r["ratings"]["total"],
                _frac(r["ratings"]["very_satisfied"] + r["ratings"]["satisfied"], r["ratings"]["total"])]

    s.table([_Column("Quầy"), *person_cols], [[c["name"], *person(c)] for c in report.get("counters", [])])
    s.finish()

    # Theo cán bộ.
    s = _SheetWriter(wb, "Theo cán bộ", office_name, "SỐ LIỆU THEO CÁN BỘ", period)
    s.table([_Column("Cán bộ"), _Column("Tài khoản"), *person_cols],
            [[p["full_name"] or p["username"] or f"#{p['staff_id']}", p["username"], *person(p)]
             for p in report.get("staff", [])])
    s.finish()

    # Theo giờ.
    s = _SheetWriter(wb, "Theo giờ", office_name, "SỐ PHIẾU THEO KHUNG GIỜ", period)
    s.table([_Column("Khung giờ"), _Column("Số phiếu", _INT), _Column("Lượt gọi", _INT),
             _Column("Đã phục vụ", _INT), _Column("Chờ TB (phút)", _MIN)],
            [[h["label"], h["issued"], h["called"], h["served"], _minutes(h["wait_s"]["mean"])]
             for h in report.get("hours", [])])
    busiest = report.get("busiest_hour")
    if busiest:
        s.note(f"Khung giờ đông nhất: {busiest['label']} ({busiest['issued']} phiếu).")
    s.finish()

    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
