"""Satisfaction ratings: POST /api/v1/ratings, GET /api/v1/ratings, GET /api/v1/ratings/pending.

Who may rate (our reading of the contract's "kiosk, staff, rating device"): rating devices
(their own counter only), kiosks and administrators. Staff accounts are refused with 403: staff
must not rate on the citizen's behalf from the console.
"""
from __future__ import annotations

from datetime import date

from flask import jsonify, request
from pydantic import BaseModel, ConfigDict, Field

from ..ratings import (
    LEVEL_LABELS_VI,
    REASONS,
    list_ratings,
    pending_prompt,
    record_rating_for_ticket,
)
from ..web.authz import current_principal, require, services
from ..web.errors import ApiError
from ..web.request import Id, int_arg, json_body, parse
from ..web.text import FreeText
from .blueprint import bp

SOURCES = {"rating": "tablet", "kiosk": "kiosk", "admin": "admin"}


class RatingIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    ticket: Id
    level: str = Field(min_length=1, max_length=32)
    reasons: list[str] = Field(default_factory=list, max_length=20)
    comment: FreeText(2000) = ""


@bp.post("/ratings")
def create_rating():
    p = current_principal()
    if p.is_anonymous:
        raise ApiError(status=401)
    if p.role == "staff":
        raise ApiError("staff_cannot_rate", "Cán bộ không được đánh giá thay công dân.", 403)
    if p.role not in SOURCES:
        raise ApiError("forbidden", "Tài khoản hoặc thiết bị này không được gửi đánh giá.", 403)
    body = parse(RatingIn, json_body())
    only_counter = None
    source = SOURCES[p.role]
    if p.role == "rating":
        only_counter = p.extra.get("counter")
        if only_counter is None:
            raise ApiError("device_without_counter",
                           "Thiết bị đánh giá chưa được gắn với quầy nào (thiếu 'counter' trong cấu hình).", 403)
        source = f"tablet:{p.device}"
    rating = record_rating_for_ticket(services(), body.ticket, body.level, source, reasons=body.reasons,
                                      comment=body.comment, only_counter=only_counter)
    return jsonify(rating), 201


@bp.get("/ratings")
@require("staff", "admin")
def get_ratings():
    svc = services()
    raw = request.args.get("date", "")
    if raw:
        try:
            day = date.fromisoformat(raw)
        except ValueError:
            raise ApiError("bad_parameter", "Tham số 'date' phải có dạng YYYY-MM-DD.", 400) from None
    else:
        day = svc.engine.calendar.business_date(svc.engine.clock())
    counter = int_arg("counter", 0, 0, 999) or None
    return jsonify({"date": day.isoformat(), "ratings": list_ratings(svc, day, counter=counter)})


@bp.get("/ratings/options")
def rating_options():
    return jsonify({"levels": [{"code": k, "label": v} for k, v in LEVEL_LABELS_VI.items()],
                    "reasons": [{"code": k, "label": v} for k, v in REASONS.items()]})


@bp.get("/ratings/pending")
def get_pending():
    """What a rating device should show now (it asks after a reload or reconnect)."""
    p = current_principal()
    if p.is_anonymous:
        raise ApiError(status=401)
    svc = services()
    if p.role == "rating":
        counter = p.extra.get("counter")
        asked = int_arg("counter", counter or 0, 0, 999)
        if counter is None or asked != counter:
            raise ApiError("other_counter",
                           f"Thiết bị đánh giá này thuộc quầy {counter}, không phải quầy {asked}.", 403)
    elif p.role in ("staff", "admin"):
        counter = int_arg("counter", 0, 1, 999)
        if not p.may_act_on_counter(counter):
            raise ApiError("not_your_counter", f"Bạn không phải cán bộ của quầy {counter}.", 403)
    else:
        raise ApiError(status=403)
    if svc.config.counter(counter) is None:
        raise ApiError("unknown_counter", f"Không có quầy số {counter}.", 404)
    return jsonify({"counter": counter, "prompt": pending_prompt(svc, counter)})
