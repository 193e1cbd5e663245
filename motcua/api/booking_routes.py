"""Appointments (đặt lịch hẹn) and taking a number from a phone: docs/booking.md, docs/api.md.

Public: the options, free days and slots, booking, reading, cancelling and moving a booking
by its code, taking a number remotely. Writes and unknown codes from anonymous callers off
this machine are counted per address in the `throttle` table (shared by processes).
The kiosk (and staff) check a booking in; staff book on a citizen's behalf and see the
day's list."""
from __future__ import annotations

from datetime import date

from flask import jsonify, request
from pydantic import BaseModel, ConfigDict, Field

from ..booking import BookingError
from ..web.authz import current_principal, require, services
from ..web.errors import ApiError
from ..web.request import json_body, parse, ticket_url
from .blueprint import bp
from ..web.limits import is_loopback as _is_local

WRITE_LIMIT = 10  # bookings, cancels, moves and remote numbers per address in the window
MISS_LIMIT = 20  # unknown booking codes per address in the window
WINDOW_S = 600
MAX_CODE_CHARS = 200


class BookIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    field: str = Field(min_length=1, max_length=32)
    day: date
    start: str = Field(min_length=4, max_length=5, pattern=r"^\d{1,2}:\d{2}$")
    name: str = Field(min_length=1, max_length=200)
    phone: str = Field(min_length=1, max_length=30)
    procedure: str | None = Field(default=None, max_length=64)
    procedure_name: str | None = Field(default=None, max_length=500)


class MoveIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    day: date
    start: str = Field(min_length=4, max_length=5, pattern=r"^\d{1,2}:\d{2}$")


class JoinIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    field: str = Field(min_length=1, max_length=32)
    phone: str = Field(min_length=1, max_length=30)


def _bookings():
    svc = services()
    if svc.bookings is None or not svc.config.booking.enabled:
        raise ApiError("booking_disabled", "Bộ phận một cửa này chưa nhận đặt lịch hẹn.", 404)
    return svc.bookings


def _anonymous_remote() -> str | None:
    """The caller's throttle name when it is an anonymous caller off this machine."""
    p = current_principal()
    if not p.is_anonymous or _is_local(request.remote_addr):
        return None
    return f"ip:{request.remote_addr or '?'}"


def _count_write() -> None:
    who = _anonymous_remote()
    if who is None:
        return
    throttle = services().auth.throttle
    key = f"booking-write:{who}"
    if throttle.blocked(key, WRITE_LIMIT, WINDOW_S):
        raise ApiError("too_many_requests", "Bạn đã thao tác quá nhiều lần trong thời gian ngắn. "
                       "Vui lòng thử lại sau ít phút.", 429)
    throttle.fail(key)


def _find(code: str):
    """The booking of a code; unknown codes from anonymous callers are counted."""
    who = _anonymous_remote()
    throttle = services().auth.throttle
    key = f"booking-miss:{who}"
    if who is not None and throttle.blocked(key, MISS_LIMIT, WINDOW_S):
        raise ApiError("too_many_lookups", "Bạn đã nhập sai mã lịch hẹn quá nhiều lần. "
                       "Vui lòng thử lại sau ít phút.", 429)
    try:
        return _bookings().get(code[:MAX_CODE_CHARS])
    except BookingError as exc:
        if who is not None and exc.code == "unknown_booking":
            throttle.fail(key)
        raise


def _day_arg() -> date:
    raw = request.args.get("day", "")
    if not raw:
        svc = services()
        return svc.engine.calendar.business_date(svc.settings.clock())
    try:
        return date.fromisoformat(raw[:10])
    except ValueError:
        raise ApiError("bad_day", "Ngày phải có dạng NNNN-TT-NN, ví dụ 2026-11-23.", 422) from None


@bp.get("/appointments/options")
def appointment_options():
    svc = services()
    if svc.bookings is None:
        return jsonify({"enabled": False, "fields": []})
    return jsonify(svc.bookings.options())


@bp.get("/appointments/days")
def appointment_days():
    return jsonify(_bookings().days(request.args.get("field", "")[:32]))


@bp.get("/appointments/slots")
def appointment_slots():
    return jsonify(_bookings().slots(request.args.get("field", "")[:32], _day_arg()))


@bp.post("/appointments")
@require("anonymous")
def appointment_create():
    p = current_principal()
    if p.role in ("display", "rating", "kiosk"):
        raise ApiError("forbidden", "Thiết bị này không đặt lịch hẹn.", 403)
    bookings = _bookings()
    body = parse(BookIn, json_body())
    _count_write()
    staff = p.role in ("staff", "admin")
    booking = bookings.book(field=body.field, day=body.day, start=body.start, name=body.name, phone=body.phone,
                            procedure=body.procedure, procedure_name=body.procedure_name or "",
                            source="counter" if staff else "web", staff_id=p.user_id if staff else None)
    return jsonify(booking), 201


@bp.get("/appointments/day")
@require("staff", "admin")
def appointment_day():
    return jsonify(_bookings().day_list(_day_arg()))


@bp.get("/appointments/<code>")
def appointment_get(code: str):
    return jsonify(_find(code))


@bp.post("/appointments/<code>/cancel")
@require("anonymous")
def appointment_cancel(code: str):
    if current_principal().role in ("display", "rating"):
        raise ApiError("forbidden", "Thiết bị này không thay đổi lịch hẹn.", 403)
    booking = _find(code)
    _count_write()
    return jsonify(_bookings().cancel(booking["code"]))


@bp.post("/appointments/<code>/move")
@require("anonymous")
def appointment_move(code: str):
    if current_principal().role in ("display", "rating"):
        raise ApiError("forbidden", "Thiết bị này không thay đổi lịch hẹn.", 403)
    body = parse(MoveIn, json_body())
    booking = _find(code)
    _count_write()
    return jsonify(_bookings().move(booking["code"], body.day, body.start))


@bp.post("/appointments/<code>/check-in")
@require("kiosk", "staff", "admin")
def appointment_checkin(code: str):
    """At the kiosk: inside the window a ticket called ahead at the slot time; too early, when to
    come back (409 too_early, come_back_at); too late, a normal ticket (late: true)."""
    svc = services()
    p = current_principal()
    bookings = _bookings()
    booking = bookings.find(code[:MAX_CODE_CHARS])

    def issue(source: str) -> dict:
        return svc.engine.issue(booking.field, source=source, staff_id=p.user_id,
                                url=ticket_url(svc.config, "{token}"))

    def ticket(ticket_id: int) -> dict | None:
        tk = svc.engine.views.get_ticket(ticket_id)
        if tk is not None:
            tk["token"] = svc.engine.views.ticket_token(ticket_id)
        return tk

    done = bookings.check_in(booking.code, issue, ticket)
    # Read back once linked to its booking: the people ahead (and the wait) under the booked rule,
    # on the screen and on the paper alike.
    tk = (ticket(done.ticket["id"]) if not done.again else None) or dict(done.ticket)
    tk["url"] = ticket_url(svc.config, tk["token"])
    if done.again:
        tk["already_issued"] = True
    elif p.role == "kiosk" and svc.devices is not None:
        tk["print_job"] = svc.devices.print_ticket(tk)
    return jsonify({"booking": done.booking, "ticket": tk, "late": done.late, "again": done.again}), \
        200 if done.again else 201


@bp.post("/appointments/join")
@require("anonymous")
def appointment_join():
    """A number taken from a phone (fields in `[booking] remote_join`), during opening hours."""
    svc = services()
    p = current_principal()
    if p.role in ("display", "rating"):
        raise ApiError("forbidden", "Thiết bị này không lấy số.", 403)
    bookings = _bookings()
    body = parse(JoinIn, json_body())
    field, key = bookings.check_remote(body.field, body.phone, svc.auth.throttle)
    _count_write()
    ticket = svc.engine.issue(field, source="phone", url=ticket_url(svc.config, "{token}"))
    svc.auth.throttle.fail(key)
    ticket["url"] = ticket_url(svc.config, ticket["token"])
    return jsonify(ticket), 201
