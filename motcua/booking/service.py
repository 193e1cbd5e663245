"""Bookings: make, read, cancel, move, check in, the day's list, no-shows, and taking a number
from a phone. Every change is one write transaction; capacity and the per-phone limits are
counted under a row lock (`booking_locks`), so two people taking the last place of a slot
never both get it (SQLite's write transaction is serial anyway).

Statuses: `booked` -> `checking_in` (the few milliseconds the kiosk's ticket is being
issued) -> `checked_in` (a ticket called ahead at the slot time) or `late` (checked in after
the window: a normal ticket); `booked` -> `cancelled` (by its code) or `no_show` (never
checked in before the window closed: the sweep, and every answer, says so)."""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Callable

from sqlalchemy import Connection, exists, func, select, text, true, update
from sqlalchemy.exc import IntegrityError

from config.schema import OfficeConfig

from ..clock import BusinessCalendar, Clock
from ..dossiers.masking import mask_name, mask_phone
from ..store import Store
from ..store import tables as t
from .codes import new_code, normal_code, show_code
from .errors import BookingError
from .slots import Slot, bookable_days, day_slots, day_text, day_text_en, find_slot

STATUS_LABELS = {
    "booked": ("Đã đặt lịch", "Booked"),
    "checking_in": ("Đang lấy số", "Taking a number"),
    "checked_in": ("Đã đến, đã lấy số", "Checked in"),
    "late": ("Đến muộn, đã lấy số thường", "Came late: normal number"),
    "cancelled": ("Đã hủy", "Cancelled"),
    "no_show": ("Không đến", "Did not come"),
}
TAKEN = ("booked", "checking_in", "checked_in", "late", "no_show")  # hold a place in their slot
MAX_MOVES = 5
# A claim with no ticket yet (the process stopped between the claim and the issue) is taken
# again after this; an interrupted check-in whose ticket was issued is recovered at once.
STALE_CLAIM_S = 15
BOOKED_SOURCE = "booking"  # a ticket called ahead at the slot time (queue/booked.py)
LATE_SOURCE = "booking_late"  # a late check-in: a normal ticket in the normal order
_LOCK_SQL = text("INSERT INTO booking_locks (key, n) VALUES (:k, 1) "
                 "ON CONFLICT (key) DO UPDATE SET n = booking_locks.n + 1")
_bk = t.bookings.c


def clean_phone(raw: str | None) -> str:
    """A Vietnamese phone number as digits ("+84 912.345.678" -> "0912345678"), or a refusal."""
    digits = re.sub(r"[\s.\-()]", "", raw or "")
    if digits.startswith("+84"):
        digits = "0" + digits[3:]
    elif digits.startswith("84") and len(digits) == 11:
        digits = "0" + digits[2:]
    if not re.fullmatch(r"0\d{9,10}", digits):
        raise BookingError("bad_phone", "Số điện thoại không hợp lệ. Hãy nhập 10 chữ số, ví dụ 0912 345 678.", 422)
    return digits


def clean_name(raw: str | None) -> str:
    name = " ".join((raw or "").split())
    if len(name) < 2 or not any(ch.isalpha() for ch in name):
        raise BookingError("bad_name", "Hãy nhập họ và tên của người đến làm thủ tục.", 422)
    if len(name) > 100 or any(not (ch.isalpha() or ch in " .'-") for ch in name):
        raise BookingError("bad_name", "Họ và tên chỉ gồm chữ cái, tối đa 100 ký tự.", 422)
    return name


def _phone_key(phone: str) -> str:
    return hashlib.sha256(("motcua-booking:" + phone).encode()).hexdigest()[:24]


@dataclass
class CheckIn:
    booking: dict[str, Any]
    ticket: dict[str, Any]
    late: bool
    again: bool = False  # already checked in: the same ticket, shown again
    recovered: bool = False  # an interrupted check-in's ticket, linked now (not printed yet)


class Bookings:
    def __init__(self, store: Store, config: OfficeConfig | Callable[[], OfficeConfig], calendar: BusinessCalendar,
                 clock: Clock):
        """config: the office, or a function giving the running office (the administrator may change it)."""
        self.store = store
        self._config = config
        self.cal = calendar
        self.clock = clock

    @property
    def config(self) -> OfficeConfig:
        return self._config() if callable(self._config) else self._config

    @property
    def cfg(self) -> Any:
        return self.config.booking

    # What may be booked --------------------------------------------------------------------
    def capacity(self, field: str) -> int:
        return self.cfg.capacity.get(field, 0) if self.cfg.enabled else 0

    def options(self) -> dict[str, Any]:
        fields = []
        for f in self.config.fields:
            bookable = self.capacity(f.code) > 0
            remote = self.cfg.enabled and f.code in self.cfg.remote_join
            if bookable or remote:
                fields.append({"code": f.code, "name": f.name, "name_en": f.name_en, "bookable": bookable,
                               "remote": remote})
        return {"enabled": self.cfg.enabled, "fields": fields, "slot_minutes": self.cfg.slot_minutes,
                "days_ahead": self.cfg.days_ahead, "checkin_before_min": self.cfg.checkin_before_min,
                "checkin_after_min": self.cfg.checkin_after_min, "open": self._open_json()}

    def _open_json(self) -> dict[str, Any]:
        st = self.cal.open_state(self.clock())
        return {"open": st.open, "message": st.message, "code": st.code or None,
                "opens_at": self.cal.local(st.opens_at).isoformat(timespec="minutes") if st.opens_at else None}

    def _field(self, code: str) -> Any:
        f = self.config.field(code or "")
        if f is None or self.capacity(f.code) <= 0:
            raise BookingError("not_bookable", "Lĩnh vực này không nhận đặt lịch hẹn.", 404)
        return f

    def days(self, field: str) -> list[dict[str, Any]]:
        self._field(field)
        now = self.clock()
        with self.store.read() as conn:
            out = []
            for d in bookable_days(self.cal, self.cfg, now):
                slots = self._slots(conn, field, d, now)
                if slots:
                    out.append({"day": d.isoformat(), "text": day_text(d), "text_en": day_text_en(d),
                                "free": sum(s["left"] for s in slots)})
        return out

    def slots(self, field: str, day: date) -> list[dict[str, Any]]:
        self._field(field)
        self._check_day(day)
        with self.store.read() as conn:
            return self._slots(conn, field, day, self.clock())

    def _slots(self, conn: Connection, field: str, day: date, now: datetime) -> list[dict[str, Any]]:
        cap = self.capacity(field)
        taken = dict(conn.execute(
            select(_bk.slot_start, func.count()).where(_bk.field == field, _bk.business_date == day,
                                                       _bk.status.in_(TAKEN)).group_by(_bk.slot_start)).all())
        out = []
        for s in day_slots(self.cal, self.cfg, day):
            if s.end <= now:
                continue
            left = max(0, cap - int(taken.get(s.start, 0)))
            out.append({"start": s.label(self.cal), "end": f"{self.cal.local(s.end):%H:%M}",
                        "at": self.cal.local(s.start).isoformat(timespec="minutes"), "left": left})
        return out

    def _check_day(self, day: date) -> None:
        if day not in bookable_days(self.cal, self.cfg, self.clock()):
            raise BookingError("bad_day", f"Ngày {day:%d/%m/%Y} không nhận đặt lịch (ngày nghỉ, đã qua, hoặc quá "
                               f"{self.cfg.days_ahead} ngày tới).", 422)

    def _slot(self, day: date, start: str) -> Slot:
        self._check_day(day)
        slot = find_slot(self.cal, self.cfg, day, start)
        if slot is None:
            raise BookingError("bad_slot", f"Không có khung giờ {start[:5]} ngày {day:%d/%m/%Y}.", 422)
        if slot.end <= self.clock():
            raise BookingError("slot_past", "Khung giờ này đã qua. Hãy chọn khung giờ khác.", 409)
        return slot

    # Limits, counted under a lock ---------------------------------------------------------------
    @staticmethod
    def _lock(conn: Connection, day: date, *parts: str) -> None:
        conn.execute(_LOCK_SQL, {"k": "|".join((day.isoformat(), *parts))[:100]})

    def _check_room(self, conn: Connection, field: str, slot: Slot, day: date, phone: str,
                    exclude: int | None = None) -> None:
        self._lock(conn, day, "slot", field, f"{self.cal.local(slot.start):%H%M}")
        self._lock(conn, self.cal.business_date(self.clock()), "phone", _phone_key(phone))
        other = _bk.id != exclude if exclude is not None else true()
        taken = conn.execute(select(func.count()).where(_bk.field == field, _bk.slot_start == slot.start,
                                                        _bk.status.in_(TAKEN), other)).scalar_one()
        if taken >= self.capacity(field):
            raise BookingError("slot_full", "Khung giờ này đã đủ người. Hãy chọn khung giờ khác.", 409)
        now = self.clock()
        open_n = conn.execute(select(func.count()).where(_bk.phone == phone, _bk.status == "booked",
                                                         _bk.slot_end > now, other)).scalar_one()
        if open_n >= self.cfg.per_phone_open:
            raise BookingError("too_many_bookings", f"Số điện thoại này đã có {open_n} lịch hẹn chưa đến. "
                               "Hãy hủy bớt một lịch trước khi đặt thêm.", 409)
        day_n = conn.execute(select(func.count()).where(
            _bk.phone == phone, _bk.business_date == day,
            _bk.status.in_(("booked", "checking_in", "checked_in", "late")), other)).scalar_one()
        if day_n >= self.cfg.per_phone_per_day:
            raise BookingError("phone_day_limit", f"Số điện thoại này đã đặt đủ {self.cfg.per_phone_per_day} lịch hẹn "
                               f"ngày {day:%d/%m/%Y}.", 409)

    # Book, read, cancel, move -------------------------------------------------------------------
    def book(self, *, field: str, day: date, start: str, name: str, phone: str, procedure: str | None = None,
             procedure_name: str = "", source: str = "web", staff_id: int | None = None) -> dict[str, Any]:
        f = self._field(field)
        name, phone = clean_name(name), clean_phone(phone)
        slot = self._slot(day, start)
        for _ in range(5):  # a code already taken (one in ~10^10): another code
            code = new_code()
            try:
                with self.store.write() as conn:
                    self._check_room(conn, f.code, slot, day, phone)
                    now = self.clock()
                    conn.execute(t.bookings.insert().values(
                        code=code, field=f.code, procedure=procedure, procedure_name=(procedure_name or "")[:500],
                        business_date=day, slot_start=slot.start, slot_end=slot.end, name=name, phone=phone,
                        status="booked", source=source, staff_id=staff_id, moves=0, created_at=now, updated_at=now))
                return self.get(code)  # type: ignore[return-value]
            except IntegrityError:
                continue
        raise BookingError("busy", "Hệ thống đang bận, xin mời thử lại.", 503)

    def _row(self, conn: Connection, code: str, lock: bool = False) -> Any:
        q = select(t.bookings).where(_bk.code == code)
        return conn.execute(q.with_for_update() if lock and self.store.is_postgres else q).first()

    def find(self, text_or_code: str) -> Any:
        code = normal_code(text_or_code)
        if code is None:
            raise BookingError("bad_code", "Mã lịch hẹn gồm 8 chữ và số, ví dụ KX4M-7TRW.", 422)
        with self.store.read() as conn:
            row = self._row(conn, code)
        if row is None:
            raise BookingError("unknown_booking", f"Không tìm thấy lịch hẹn có mã {show_code(code)}.", 404)
        return row

    def get(self, code: str) -> dict[str, Any]:
        return self.to_json(self.find(code))

    def _status(self, row: Any, now: datetime) -> str:
        if row.status == "booked" and now > self._window(row)[1]:
            return "no_show"
        return row.status

    def _window(self, row: Any) -> tuple[datetime, datetime]:
        return (row.slot_start - timedelta(minutes=self.cfg.checkin_before_min),
                row.slot_start + timedelta(minutes=self.cfg.checkin_after_min))

    def to_json(self, row: Any, now: datetime | None = None) -> dict[str, Any]:
        now = now or self.clock()
        status = self._status(row, now)
        f = self.config.field(row.field)
        w0, w1 = self._window(row)
        vi, en = STATUS_LABELS.get(status, (status, status))
        return {"code": show_code(row.code), "field": row.field, "field_name": f.name if f else row.field,
                "field_name_en": f.name_en if f else "", "procedure": row.procedure,
                "procedure_name": row.procedure_name or "", "day": row.business_date.isoformat(),
                "day_text": day_text(row.business_date), "day_text_en": day_text_en(row.business_date),
                "start": f"{self.cal.local(row.slot_start):%H:%M}", "end": f"{self.cal.local(row.slot_end):%H:%M}",
                "at": self.cal.local(row.slot_start).isoformat(timespec="minutes"),
                "checkin_from": f"{self.cal.local(w0):%H:%M}", "checkin_until": f"{self.cal.local(w1):%H:%M}",
                "name": mask_name(row.name), "phone": mask_phone(row.phone), "status": status,
                "status_label": vi, "status_label_en": en, "source": row.source, "moves": row.moves,
                "can_change": status == "booked", "ticket_id": row.ticket_id}

    def _change(self, code: str, fn: Callable[[Connection, Any, datetime], dict[str, Any]]) -> dict[str, Any]:
        row = self.find(code)
        with self.store.write() as conn:
            row = self._row(conn, row.code, lock=True)
            now = self.clock()
            if self._status(row, now) != "booked":
                vi = STATUS_LABELS.get(self._status(row, now), ("", ""))[0].lower()
                raise BookingError("cannot_change", f"Lịch hẹn {show_code(row.code)} không thể thay đổi ({vi}).", 409)
            values = fn(conn, row, now)
            conn.execute(update(t.bookings).where(_bk.id == row.id, _bk.status == "booked")
                         .values(updated_at=now, **values))
        return self.get(row.code)

    def cancel(self, code: str) -> dict[str, Any]:
        return self._change(code, lambda conn, row, now: {"status": "cancelled"})

    def move(self, code: str, day: date, start: str) -> dict[str, Any]:
        slot = self._slot(day, start)

        def fn(conn: Connection, row: Any, now: datetime) -> dict[str, Any]:
            if row.moves >= MAX_MOVES:
                raise BookingError("too_many_moves", f"Lịch hẹn này đã đổi {MAX_MOVES} lần; hãy hủy và đặt lịch mới.", 409)
            if slot.start == row.slot_start:
                raise BookingError("same_slot", "Đây đã là giờ hẹn của ông/bà.", 409)
            self._check_room(conn, row.field, slot, day, row.phone, exclude=row.id)
            return {"business_date": day, "slot_start": slot.start, "slot_end": slot.end, "moves": row.moves + 1}

        return self._change(code, fn)

    # Check-in at the kiosk --------------------------------------------------------------------------
    def check_in(self, code: str, issue: Callable[[str], dict[str, Any]],
                 ticket: Callable[[int], dict[str, Any] | None]) -> CheckIn:
        """issue(source) gives the ticket (the engine's issue); ticket(id) reads one back."""
        row = self.find(code)
        now = self.clock()
        status = self._status(row, now)
        if status in ("checked_in", "late") and row.ticket_id is not None:
            tk = ticket(row.ticket_id)
            if tk is not None:
                return CheckIn(self.to_json(row, now), tk, status == "late", again=True)
        if status == "cancelled":
            raise BookingError("booking_cancelled", f"Lịch hẹn {show_code(row.code)} đã được hủy. "
                               "Xin mời lấy số thứ tự thông thường.", 409)
        w0, w1 = self._window(row)
        today = self.cal.business_date(now)
        if row.business_date < today:
            raise BookingError("booking_over", f"Lịch hẹn {show_code(row.code)} ({day_text(row.business_date)}, "
                               f"{self.cal.local(row.slot_start):%H:%M}) đã qua. Xin mời lấy số thứ tự thông thường.", 409)
        if now < w0:
            local = self.cal.local(w0)
            when = f"{local:%H:%M}" + ("" if row.business_date == today else f" {day_text(row.business_date)}")
            raise BookingError("too_early", f"Ông/bà đến sớm. Giờ hẹn là {self.cal.local(row.slot_start):%H:%M} "
                               f"{day_text(row.business_date)}. Xin mời quay lại lấy số từ {when}.", 409,
                               come_back_at=local.isoformat(timespec="minutes"))
        late = now > w1
        if row.status == "checking_in":  # an interrupted check-in whose ticket was issued: that ticket
            found = self._recover(row.id, ticket)
            if found is not None:
                return found
        with self.store.write() as conn:
            claimed = conn.execute(update(t.bookings).where(
                _bk.id == row.id, _bk.ticket_id.is_(None),
                _bk.status.in_(("booked", "no_show")) | ((_bk.status == "checking_in")
                                            & (_bk.updated_at < now - timedelta(seconds=STALE_CLAIM_S))))
                .values(status="checking_in", updated_at=now)).rowcount
        if claimed != 1:  # another check-in of this booking is issuing its ticket now
            raise BookingError("checking_in", "Lịch hẹn này đang được lấy số. Xin chờ một chút rồi thử lại.", 409)
        try:
            tk = issue(LATE_SOURCE if late else BOOKED_SOURCE)
        except BaseException:
            # Refused (closed, daily cap...) or failed: the booking is free again, unless the
            # ticket was issued after all (a failure after the engine's commit): then linked.
            if self._recover(row.id, ticket) is None:
                with self.store.write() as conn:
                    conn.execute(update(t.bookings).where(_bk.id == row.id, _bk.status == "checking_in",
                                                          _bk.ticket_id.is_(None))
                                 .values(status="booked", updated_at=self.clock()))
            raise
        if not self._link(row.id, tk["id"], late, now):
            found = self._recover(row.id, ticket)  # linked meanwhile by a retry's recovery
            if found is not None:
                return CheckIn(found.booking, tk, late)
        return CheckIn(self.get(row.code), tk, late)

    def _link(self, booking_id: int, ticket_id: int, late: bool, now: datetime) -> bool:
        """checking_in -> checked_in / late with its ticket; False when it was not checking in."""
        taken = exists(select(_bk.id).where(_bk.ticket_id == ticket_id))
        try:
            with self.store.write() as conn:
                return conn.execute(update(t.bookings).where(
                    _bk.id == booking_id, _bk.status == "checking_in", _bk.ticket_id.is_(None), ~taken)
                    .values(status="late" if late else "checked_in", ticket_id=ticket_id, checked_in_at=now,
                            updated_at=now)).rowcount == 1
        except IntegrityError:  # another booking took this ticket at the same moment (unique index)
            return False

    def _recover(self, booking_id: int, ticket: Callable[[int], dict[str, Any] | None]) -> CheckIn | None:
        """The ticket a check-in issued but never linked (the process stopped, the link failed),
        linked to its booking now; None when the booking has none (or is not checking in).

        The ticket is told by what the engine wrote in the same transaction as the ticket: its
        field, its source (`booking`, `booking_late`: only check-ins issue these), issued at or
        after the claim, and no booking linked to it. Bookings of the same field interrupted at
        the same time take those tickets in the order of their claims."""
        tk = t.tickets.c
        with self.store.read() as conn:
            me = conn.execute(select(t.bookings).where(_bk.id == booking_id)).first()
            if me is None or me.status != "checking_in" or me.ticket_id is not None:
                return None
            stuck = conn.execute(
                select(_bk.id, _bk.updated_at).where(_bk.field == me.field, _bk.status == "checking_in",
                                                     _bk.ticket_id.is_(None), _bk.updated_at <= me.updated_at)
                .order_by(_bk.updated_at, _bk.id)).all()
            since = stuck[0].updated_at if stuck else me.updated_at
            linked = select(_bk.ticket_id).where(_bk.ticket_id.is_not(None))
            orphans = conn.execute(select(tk.id, tk.source).where(
                tk.issue_field == me.field, tk.source.in_((BOOKED_SOURCE, LATE_SOURCE)),
                tk.issued_at >= since, tk.id.not_in(linked))
                .order_by(tk.id)).all()
        ids = [r.id for r in stuck]
        mine = ids.index(me.id) if me.id in ids else 0
        if mine >= len(orphans):
            return None
        orphan = orphans[mine]
        late = orphan.source == LATE_SOURCE
        if not self._link(booking_id, orphan.id, late, self.clock()):
            return None
        detail = ticket(orphan.id)
        if detail is None:
            return None
        return CheckIn(self.get(me.code), detail, late, again=False, recovered=True)

    # The day's list (the lead), no-shows, erasure -------------------------------------------------
    def day_list(self, day: date) -> dict[str, Any]:
        now = self.clock()
        tk = t.tickets.c
        with self.store.read() as conn:
            rows = conn.execute(select(t.bookings, tk.number.label("ticket_number"), tk.status.label("ticket_status"))
                                .select_from(t.bookings.outerjoin(t.tickets, tk.id == _bk.ticket_id))
                                .where(_bk.business_date == day).order_by(_bk.slot_start, _bk.id)).all()
        items, counts = [], {k: 0 for k in STATUS_LABELS if k != "checking_in"}
        for r in rows:
            j = self.to_json(r, now)
            j["ticket_number"] = r.ticket_number
            items.append(j)
            counts[j["status"]] = counts.get(j["status"], 0) + 1
        return {"day": day.isoformat(), "day_text": day_text(day), "counts": counts, "bookings": items}

    def mark_no_shows(self) -> int:
        """Bookings never checked in whose window has closed become `no_show` (the reports count them)."""
        now = self.clock()
        cutoff = now - timedelta(minutes=self.cfg.checkin_after_min)
        with self.store.write() as conn:
            n = conn.execute(update(t.bookings).where(_bk.status == "booked", _bk.slot_start < cutoff)
                             .values(status="no_show", updated_at=now)).rowcount
            conn.execute(t.booking_locks.delete().where(t.booking_locks.c.key < self.cal.business_date(now).isoformat()))
        return n

    # Taking a number from a phone ---------------------------------------------------------------------
    def remote_fields(self) -> list[str]:
        return list(self.cfg.remote_join) if self.cfg.enabled else []

    def check_remote(self, field: str, phone: str, throttle: Any) -> tuple[str, str]:
        """(field, the phone's throttle key) when a phone may take a number of `field` now."""
        if field not in self.remote_fields():
            raise BookingError("no_remote", "Lĩnh vực này không nhận lấy số từ xa; xin mời lấy số tại máy lấy số.", 403)
        phone = clean_phone(phone)
        key = f"remote-join:{self.cal.business_date(self.clock()).isoformat()}:{_phone_key(phone)}"
        if throttle.count(key, 86_400) >= self.cfg.per_phone_per_day:
            raise BookingError("phone_day_limit", f"Số điện thoại này đã lấy đủ {self.cfg.per_phone_per_day} số "
                               "từ xa hôm nay.", 409)
        return field, key
