"""Slots of a day: the office's sessions (`[hours]`, per weekday, holidays and extra days;
motcua/clock.py) cut into `slot_minutes`; an office open at any hour (the demo) has slots
around the clock. Times are the office's; instants are UTC."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone

from config.schema import BookingConfig

from ..clock import BusinessCalendar

WEEKDAYS_VI = ("Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy", "Chủ Nhật")
WEEKDAYS_EN = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


@dataclass(frozen=True)
class Slot:
    start: datetime  # UTC
    end: datetime

    def label(self, cal: BusinessCalendar) -> str:
        return f"{cal.local(self.start):%H:%M}"


def day_text(day: date) -> str:
    return f"{WEEKDAYS_VI[day.weekday()]}, {day:%d/%m/%Y}"


def day_text_en(day: date) -> str:
    return f"{WEEKDAYS_EN[day.weekday()]} {day:%d/%m/%Y}"


def day_slots(cal: BusinessCalendar, cfg: BookingConfig, day: date) -> list[Slot]:
    step = timedelta(minutes=cfg.slot_minutes)
    if cal.always_open:
        sessions = [(time(0, 0), None)]
    elif not cal.is_working_day(day):
        return []
    else:
        sessions = cal.hours.sessions_for(day.weekday())
    out: list[Slot] = []
    for start, end in sessions:
        a = datetime.combine(day, start, tzinfo=cal.tz)
        b = datetime.combine(day + timedelta(days=1), time(0, 0), tzinfo=cal.tz) if end is None \
            else datetime.combine(day, end, tzinfo=cal.tz)
        while a + step <= b:
            out.append(Slot(a.astimezone(timezone.utc), (a + step).astimezone(timezone.utc)))
            a += step
    return out


def bookable_days(cal: BusinessCalendar, cfg: BookingConfig, now: datetime) -> list[date]:
    today = cal.business_date(now)
    days = [today + timedelta(days=i) for i in range(cfg.days_ahead + 1)]
    return [d for d in days if cal.always_open or cal.is_working_day(d)]


def find_slot(cal: BusinessCalendar, cfg: BookingConfig, day: date, start: str) -> Slot | None:
    """The slot of `day` starting at "HH:MM" (office time), if the office has one."""
    return next((s for s in day_slots(cal, cfg, day) if s.label(cal) == start), None)
