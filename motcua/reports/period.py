"""The report period: business days ``from``..``to`` (both included) and its parsing.

`parse_period` reads the ``?from=&to=`` query parameters; every refusal is a `PeriodError`
(a `MotcuaError`) with a Vietnamese message: 400 for a missing or malformed date, 422 for a
day outside the supported range, ``from`` after ``to`` or a period over `MAX_PERIOD_DAYS`.
"""
from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta

from ..errors import MotcuaError

__all__ = ["MAX_PERIOD_DAYS", "MIN_REPORT_DAY", "MAX_REPORT_DAY", "Period", "PeriodError", "parse_period"]

#: The longest period one report may cover, in days (both ends included).
MAX_PERIOD_DAYS = 366
#: The first and last business day a report may name. Before 1900 the workbook's date cells
#: mean nothing (Excel's calendar starts on 01/01/1900); the last day is one before Python's
#: (and Excel's) 31/12/9999, since a report needs the end of its last day (midnight after it).
MIN_REPORT_DAY = date(1900, 1, 1)
MAX_REPORT_DAY = date(9999, 12, 30)

_ISO_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class PeriodError(MotcuaError):
    """A report period the caller must fix; ``message`` is Vietnamese, ``status`` HTTP."""


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

    def check_supported(self) -> None:
        """Raise `PeriodError` (422) if a day lies outside MIN_REPORT_DAY..MAX_REPORT_DAY."""
        for day in (self.start, self.end):
            _check_supported(day)


def _check_supported(day: date, prefix: str = "") -> None:
    if not MIN_REPORT_DAY <= day <= MAX_REPORT_DAY:
        shown = f"{day.day:02d}/{day.month:02d}/{day.year:04d}"
        raise PeriodError("date_out_of_range", f"{prefix}{'ngày' if prefix else 'Ngày'} {shown} nằm ngoài khoảng "
                          f"lập được báo cáo ({MIN_REPORT_DAY:%d/%m/%Y} – {MAX_REPORT_DAY:%d/%m/%Y}).", 422)


def _parse_day(raw: str, name: str, what: str) -> date:
    value = raw.strip()
    if not _ISO_DAY.match(value):
        shown = value[:20] + ("…" if len(value) > 20 else "")
        raise PeriodError("bad_date", f"Tham số '{name}' ({what}) phải là ngày dạng YYYY-MM-DD, "
                          f"ví dụ 2026-11-01; nhận được '{shown}'.", 400)
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise PeriodError("bad_date", f"Tham số '{name}' ({what}): ngày {value} không tồn tại.", 400) from None


def parse_period(raw_from: str | None, raw_to: str | None, today: date) -> Period:
    """The period of ``?from=&to=``. Both absent -> *today* only. Raises `PeriodError`:
    400 for a missing or malformed date, 422 for a day outside the supported range, from > to
    or more than `MAX_PERIOD_DAYS`."""
    raw_from = raw_from if raw_from and raw_from.strip() else None
    raw_to = raw_to if raw_to and raw_to.strip() else None
    if raw_from is None and raw_to is None:
        return Period(today, today)
    if raw_from is None:
        raise PeriodError("missing_date", "Thiếu tham số 'from' (ngày bắt đầu, dạng YYYY-MM-DD).", 400)
    if raw_to is None:
        raise PeriodError("missing_date", "Thiếu tham số 'to' (ngày kết thúc, dạng YYYY-MM-DD).", 400)
    start = _parse_day(raw_from, "from", "ngày bắt đầu")
    end = _parse_day(raw_to, "to", "ngày kết thúc")
    _check_supported(start, "Tham số 'from' (ngày bắt đầu): ")
    _check_supported(end, "Tham số 'to' (ngày kết thúc): ")
    if start > end:
        raise PeriodError("bad_period", f"Ngày bắt đầu ({start:%d/%m/%Y}) phải trước hoặc bằng "
                          f"ngày kết thúc ({end:%d/%m/%Y}).", 422)
    period = Period(start, end)
    if period.days > MAX_PERIOD_DAYS:
        raise PeriodError("period_too_long", f"Kỳ báo cáo dài tối đa {MAX_PERIOD_DAYS} ngày; "
                          f"kỳ đã chọn dài {period.days} ngày. Hãy chia thành nhiều kỳ ngắn hơn.", 422)
    return period
