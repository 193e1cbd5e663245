"""Time: one injectable clock and the office's business calendar (time zone, hours, holidays)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Callable
from zoneinfo import ZoneInfo

from config.schema import HoursConfig

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now(timezone.utc)


@dataclass(frozen=True)
class OpenState:
    open: bool
    code: str = ""  # closed_day, holiday, before_open, between_sessions, after_close
    message: str = ""
    opens_at: datetime | None = None


class BusinessCalendar:
    """Answers: which business day is it, and is the office taking tickets now."""

    def __init__(self, tz_name: str, hours: HoursConfig, *, always_open: bool = False):
        self.tz = ZoneInfo(tz_name)
        self.hours = hours
        self.always_open = always_open

    def local(self, at: datetime) -> datetime:
        return at.astimezone(self.tz)

    def business_date(self, at: datetime) -> date:
        return self.local(at).date()

    def day_bounds_utc(self, day: date) -> tuple[datetime, datetime]:
        start = datetime(day.year, day.month, day.day, tzinfo=self.tz)
        end = start + timedelta(days=1)
        return start.astimezone(timezone.utc), end.astimezone(timezone.utc)

    def is_working_day(self, day: date) -> bool:
        if day in self.hours.holidays:
            return False
        if day in self.hours.extra_days:
            return True
        names = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
        return names[day.weekday()] in self.hours.days

    def open_state(self, at: datetime) -> OpenState:
        if self.always_open:
            return OpenState(True)
        local = self.local(at)
        day = local.date()
        if day in self.hours.holidays:
            return OpenState(False, "holiday", "Hôm nay là ngày nghỉ lễ, bộ phận một cửa không tiếp nhận hồ sơ. "
                             "Xin mời ông/bà quay lại vào ngày làm việc tiếp theo.", self._next_open(local))
        if not self.is_working_day(day):
            return OpenState(False, "closed_day", "Hôm nay không phải ngày làm việc. "
                             "Xin mời ông/bà quay lại vào ngày làm việc tiếp theo.", self._next_open(local))
        now_t = local.time()
        margin = timedelta(minutes=self.hours.stop_issuing_before_close_min)
        sessions = self.hours.sessions_for(day.weekday())
        for start, end in sessions:
            end_dt = datetime.combine(day, end, tzinfo=self.tz) - margin
            if start <= now_t and local < end_dt:
                return OpenState(True)
        nxt = self._next_open(local)
        if sessions and now_t < sessions[0][0]:
            code, msg = "before_open", f"Chưa đến giờ làm việc. Bộ phận một cửa bắt đầu nhận số lúc {sessions[0][0]:%H:%M}."
        elif nxt is not None and nxt.date() == day:
            code, msg = "between_sessions", f"Đang giờ nghỉ trưa. Bộ phận một cửa nhận số trở lại lúc {nxt:%H:%M}."
        else:
            code, msg = "after_close", "Đã hết giờ nhận số hôm nay. Xin mời ông/bà quay lại vào ngày làm việc tiếp theo."
        return OpenState(False, code, msg, nxt)

    def _next_open(self, local: datetime) -> datetime | None:
        day = local.date()
        for i in range(0, 40):
            d = day + timedelta(days=i)
            if not self.is_working_day(d):
                continue
            for start, _end in self.hours.sessions_for(d.weekday()):
                cand = datetime.combine(d, start, tzinfo=self.tz)
                if cand > local:
                    return cand
        return None
