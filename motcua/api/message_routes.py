"""Messages to citizens (docs/messages.md): what the office offers, the opt-in with a phone
number (from the kiosk or the ticket's phone page, by the ticket's token), and the outbox for
the administrator (sent, waiting, failed). Routes only record and read: the messages are
sent by the messages' worker and the modem's own thread."""
from __future__ import annotations

from flask import jsonify, request
from pydantic import BaseModel, ConfigDict, Field

from ..web.authz import current_principal, require, services
from ..web.errors import ApiError
from ..web.limits import SlidingWindowLimiter, app_limiter, is_loopback
from ..web.request import int_arg, json_body, parse
from .blueprint import bp

OPT_IN_LIMIT = 10  # opt-ins per address per window, for anonymous callers off this machine
OPT_IN_WINDOW_S = 600
LIST_STATUSES = ("pending", "sending", "sent", "failed")


class OptIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    token: str = Field(min_length=1, max_length=64)
    phone: str = Field(min_length=1, max_length=40)


def _limiter() -> SlidingWindowLimiter:
    return app_limiter("opt_in", OPT_IN_LIMIT, OPT_IN_WINDOW_S)


_is_local = is_loopback


def _messages():
    msgs = services().messages
    if msgs is None:
        raise ApiError("messages_off", "Cơ quan chưa bật nhắn tin báo lượt.", 409)
    return msgs


@bp.get("/messages/options")
def message_options():
    """{"enabled", "channels", "channel_labels", "near_turn_ahead"}: whether the kiosk and the
    phone page offer the phone number form."""
    return jsonify(_messages().options())


@bp.post("/messages/opt-in")
@require("anonymous")
def message_opt_in():
    """{"token": the ticket's token, "phone": "0912 345 678"} -> 201 {"ticket", "phone_masked", ...}."""
    p = current_principal()
    if p.role in ("display", "rating"):
        raise ApiError("forbidden", "Màn hình hiển thị và thiết bị đánh giá không đăng ký nhận tin được.", 403)
    if p.is_anonymous and not _is_local(request.remote_addr) and not _limiter().allow(request.remote_addr or "?"):
        raise ApiError("too_many_requests", "Bạn đã gửi quá nhiều yêu cầu trong thời gian ngắn. "
                       "Vui lòng thử lại sau ít phút.", 429)
    body = parse(OptIn, json_body())
    source = "kiosk" if p.role == "kiosk" else "phone"
    return jsonify(_messages().opt_in(body.token, body.phone, source=source)), 201


@bp.get("/messages")
@require("admin")
def messages_list():
    """The latest messages (newest first), numbers masked; ?status=failed for the failures."""
    status = request.args.get("status") or None
    if status is not None and status not in LIST_STATUSES:
        raise ApiError("invalid", "status phải là một trong: " + ", ".join(LIST_STATUSES), 400)
    return jsonify(_messages().listing(status, int_arg("limit", 100, 1, 500)))
