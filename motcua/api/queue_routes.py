"""Tickets, the queue and counter actions."""
from __future__ import annotations

from flask import jsonify, request
from pydantic import BaseModel, ConfigDict, Field

from ..web.authz import current_principal, require, require_counter, services
from ..web.errors import ApiError
from ..web.limits import SlidingWindowLimiter, app_limiter, is_loopback
from ..web.request import Id, json_body, parse, ticket_url
from ..web.text import FreeText
from .blueprint import bp

PUBLIC_ISSUE_LIMIT = 10  # tickets per address per window, for anonymous callers off this machine
PUBLIC_ISSUE_WINDOW_S = 600


class TicketIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    service: str = Field(min_length=1, max_length=32)
    priority: str | None = Field(default=None, max_length=16)
    dossier: str | None = Field(default=None, max_length=64)


class TransferIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    service: str | None = Field(default=None, min_length=1, max_length=32)
    counter: int | None = Field(default=None, ge=1, le=999)


class FinishIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    dossiers: list[str] = Field(default_factory=list, max_length=20)
    # A pickup ticket's dossier is returned (status 10) when its visit ends, unless false.
    return_dossier: bool = Field(default=True, strict=True)


class CallIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    ticket: Id | None = None
    number: str | None = Field(default=None, min_length=1, max_length=16)


class PauseIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: FreeText(200, required=True)


class ResumeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    ticket: Id


class HoldIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: FreeText(200) = ""


class CancelIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: FreeText(200) = ""


def _limiter() -> SlidingWindowLimiter:
    return app_limiter("public_issue", PUBLIC_ISSUE_LIMIT, PUBLIC_ISSUE_WINDOW_S)


_is_local = is_loopback


@bp.get("/services")
def list_services():
    return jsonify(services().engine.views.snapshot()["services"])


@bp.get("/queue")
def queue():
    return jsonify(services().engine.views.snapshot())


@bp.post("/tickets")
@require("anonymous")
def issue_ticket():
    p = current_principal()
    svc = services()
    if p.role in ("display", "rating"):
        raise ApiError("forbidden", "Màn hình hiển thị và thiết bị đánh giá không được lấy số.", 403)
    if p.is_anonymous:
        if not svc.config.queue.public_ticket_issue:
            raise ApiError("unauthorized", "Chỉ máy lấy số hoặc cán bộ được lấy số.", 401)
        # Printing is for the kiosk device and staff (security review 6a): refused before
        # anything is issued, so no number is given that the caller thinks was printed.
        if request.args.get("print", "0") not in ("", "0"):
            raise ApiError("print_forbidden", "Chỉ máy lấy số và cán bộ được in phiếu số thứ tự.", 403)
        if not _is_local(request.remote_addr) and not _limiter().allow(request.remote_addr or "?"):
            raise ApiError("too_many_tickets", "Bạn đã lấy quá nhiều số trong thời gian ngắn. "
                           "Vui lòng thử lại sau ít phút.", 429)
    body = parse(TicketIn, json_body())
    field = svc.config.field(body.service)
    if field is None:
        raise ApiError("unknown_service", f"Không có lĩnh vực mã '{body.service[:32]}'.", 404)
    if p.role == "kiosk" or p.is_anonymous:
        if not field.kiosk:
            raise ApiError("not_at_kiosk", f"Lĩnh vực {field.name} không lấy số tại máy lấy số.", 403)
    source = {"kiosk": "kiosk", "staff": "counter", "admin": "counter"}.get(p.role, "web")
    dossier = None
    if body.dossier:
        dossier = svc.dossiers.ready_dossier_for_ticket(body.dossier, field.code)
        # One live pickup ticket per dossier: a second request gets the first (200, flagged
        # `already_issued`, not printed again). The engine checks again inside its transaction.
        live = svc.engine.views.live_pickup_ticket(dossier)
        if live is not None:
            return jsonify({**live, "already_issued": True, "url": ticket_url(svc.config, live["token"])}), 200
    # A kiosk's ticket is printed (and a staff member's asked with ?print=1): the print job
    # travels with the ticket:issued event, which the device layer's printer subscribes to.
    wants_print = svc.devices is not None and (source == "kiosk" or request.args.get("print") == "1")
    plan = svc.devices.plan_print() if wants_print else None
    ticket = svc.engine.issue(body.service, priority=body.priority, source=source, dossier_code=dossier,
                              staff_id=p.user_id, print_job=plan["job_id"] if plan else None,
                              url=ticket_url(svc.config, "{token}"))
    ticket["url"] = ticket_url(svc.config, ticket["token"])
    if ticket.get("already_issued"):  # taken by a request at the same moment
        return jsonify(ticket), 200
    if plan is not None:
        ticket["print_job"] = plan
    return jsonify(ticket), 201


@bp.get("/tickets/<id:ticket_id>")
def get_ticket(ticket_id: int):
    t = services().engine.views.get_ticket(ticket_id)
    if t is None:
        raise ApiError("unknown_ticket", f"Không tìm thấy số thứ tự có mã {ticket_id}.", 404)
    return jsonify(t)


@bp.get("/tickets/by-token/<token>")
def ticket_by_token(token: str):
    if len(token) > 64:
        raise ApiError("unknown_ticket", "Không tìm thấy phiếu này.", 404)
    t = services().engine.views.get_ticket_by_token(token)
    if t is None:
        raise ApiError("unknown_ticket", "Không tìm thấy phiếu này.", 404)
    return jsonify(t)


@bp.post("/tickets/<id:ticket_id>/reactivate")
@require("staff", "admin")
def reactivate(ticket_id: int):
    p = current_principal()
    return jsonify({"ticket": services().engine.reactivate(ticket_id, staff_id=p.user_id,
                                                           counters=_ticket_counters(p))})


@bp.post("/tickets/<id:ticket_id>/cancel")
@require("staff", "admin")
def cancel(ticket_id: int):
    p = current_principal()
    body = parse(CancelIn, json_body(optional=True))
    return jsonify({"ticket": services().engine.cancel(ticket_id, staff_id=p.user_id, reason=body.reason,
                                                       counters=_ticket_counters(p))})


def _ticket_counters(p) -> tuple[int, ...] | None:
    """The counters whose tickets the caller may cancel or reactivate (the counter rule,
    motcua/queue/access.py); None: every ticket (administrators)."""
    return None if p.role == "admin" else tuple(p.counters)


@bp.post("/tickets/<id:ticket_id>/print")
@require("staff", "admin")
def reprint(ticket_id: int):
    svc = services()
    t = svc.engine.views.get_ticket(ticket_id)
    if t is None:
        raise ApiError("unknown_ticket", f"Không tìm thấy số thứ tự có mã {ticket_id}.", 404)
    if svc.devices is None:
        raise ApiError("no_printer", "Chưa cấu hình máy in.", 409)
    t["token"] = svc.engine.views.ticket_token(ticket_id)
    t["url"] = ticket_url(svc.config, t["token"])
    return jsonify({"print_job": svc.devices.print_ticket(t, reprint=True)}), 202


# Counters ---------------------------------------------------------------------------------
def _counter_exists(n: int) -> None:
    if services().config.counter(n) is None:
        raise ApiError("unknown_counter", f"Không có quầy số {n}.", 404)


@bp.get("/counters")
def list_counters():
    return jsonify(services().engine.views.snapshot()["counters"])


@bp.get("/counters/<id:n>")
def counter_view(n: int):
    _counter_exists(n)
    require_counter(n)
    return jsonify(services().engine.views.counter_view(n))


@bp.post("/counters/<id:n>/call-next")
def call_next(n: int):
    p = _staff(n)
    key = request.headers.get("Idempotency-Key", "").strip() or None
    if key is not None and len(key) > 128:
        raise ApiError("bad_idempotency_key", "Idempotency-Key dài tối đa 128 ký tự.", 400)
    ticket = services().engine.call_next(n, staff_id=p.user_id, idempotency_key=key)
    return jsonify({"ticket": ticket})


def _no_rating_device(p) -> None:
    if p.role == "rating":
        raise ApiError("forbidden", "Thiết bị đánh giá không được thao tác gọi số.", 403)


def _staff(n: int):
    """The caller, if they may act on counter n (checked before the body is read)."""
    _counter_exists(n)
    p = require_counter(n)
    _no_rating_device(p)
    return p


def _act(n: int, fn_name: str, **kw):
    p = _staff(n)
    fn = getattr(services().engine, fn_name)
    return fn(n, staff_id=p.user_id, **kw)


@bp.post("/counters/<id:n>/recall")
def recall(n: int):
    return jsonify({"ticket": _act(n, "recall")})


@bp.post("/counters/<id:n>/skip")
def skip(n: int):
    return jsonify({"ticket": _act(n, "skip")})


@bp.post("/counters/<id:n>/no-show")
def no_show(n: int):
    return jsonify({"ticket": _act(n, "skip")})


@bp.post("/counters/<id:n>/start")
def start(n: int):
    return jsonify({"ticket": _act(n, "start")})


@bp.post("/counters/<id:n>/finish")
def finish(n: int):
    _staff(n)
    body = parse(FinishIn, json_body(optional=True))
    codes = []
    if body.dossiers:
        from ..dossiers import clean_codes

        codes = clean_codes(body.dossiers)
    # Staff keep the dossier of the pickup ticket they finish: the subscriber that returns
    # it (motcua/dossiers/pickup.py) is told before the finish publishes ticket:finished.
    returns = services().dossiers.pickup_returns
    kept = None
    if not body.return_dossier and returns is not None:
        cur = services().engine.views.counter_view(n)["current"]
        if cur and cur.get("dossier_code"):
            kept = cur["id"]
            returns.keep(kept)
    try:
        ticket = _act(n, "finish", dossiers=codes or None)
    except BaseException:
        if kept is not None:
            returns.release(kept)
        raise
    if kept is not None and ticket["id"] != kept:
        returns.release(kept)
    return jsonify({"ticket": ticket})


@bp.post("/counters/<id:n>/transfer")
def transfer(n: int):
    _staff(n)
    body = parse(TransferIn, json_body())
    if body.service is None and body.counter is None:
        raise ApiError("invalid", "Hãy gửi 'service' (mã lĩnh vực) hoặc 'counter' (số quầy) để chuyển.", 422)
    return jsonify({"ticket": _act(n, "transfer", field_code=body.service, to_counter=body.counter)})


@bp.post("/counters/<id:n>/call")
def call_specific(n: int):
    _staff(n)
    body = parse(CallIn, json_body())
    svc = services()
    ticket_id = body.ticket
    if ticket_id is None and body.number:
        ticket_id = _find_waiting_number(n, body.number.strip().upper())
    if ticket_id is None:
        raise ApiError("invalid", "Hãy gửi 'ticket' (mã phiếu) hoặc 'number' (số thứ tự).", 422)
    p = current_principal()
    return jsonify({"ticket": svc.engine.call_ticket(n, ticket_id, staff_id=p.user_id)})


def _find_waiting_number(n: int, number: str) -> int:
    ticket_id = services().engine.views.waiting_ticket_id(n, number)
    if ticket_id is None:
        raise ApiError("unknown_ticket", f"Số {number} không có trong hàng chờ hôm nay.", 404)
    return ticket_id


@bp.post("/counters/<id:n>/hold")
def hold(n: int):
    _staff(n)
    body = parse(HoldIn, json_body(optional=True))
    return jsonify({"ticket": _act(n, "hold", reason=body.reason)})


@bp.post("/counters/<id:n>/resume")
def resume(n: int):
    _staff(n)
    body = parse(ResumeIn, json_body())
    return jsonify({"ticket": _act(n, "resume", ticket_id=body.ticket)})


@bp.post("/counters/<id:n>/pause")
def pause(n: int):
    _staff(n)
    body = parse(PauseIn, json_body())
    return jsonify(_act(n, "pause_counter", reason=body.reason))


@bp.post("/counters/<id:n>/unpause")
def unpause(n: int):
    return jsonify(_act(n, "unpause_counter"))

