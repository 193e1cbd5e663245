"""Citizen satisfaction ratings (đánh giá mức độ hài lòng): one rating per finished visit.

The database side only (no Flask). A rating lands on a visit that ended with outcome "done";
it keeps the visit's ticket, staff, counter and field. Two ways in:

- `record_rating_for_ticket`: the API path (tablet page, kiosk, administrator) names the ticket;
  the rating goes to that ticket's latest finished visit if it is not rated yet and ended at
  most `accept_within_s` ago (default 10 minutes).
- `record_rating`: a serial three-button box knows only its counter; the rating goes to the
  latest finished visit at that counter if it is unrated and ended at most the prompt time
  (default 30 s, plus a few seconds of grace) ago. A box has no screen that says which number
  it is rating, so a press long after the visit would too easily rate the wrong citizen.

`install_rating_prompts(services)` subscribes to the event bus and sends `rating:prompt` to the
room `rating:<counter>` when a visit finishes; a rating sends `rating:closed` to the same room.
Per counter settings come from the options of that counter's rating device(s) in the office
config: `timeout_s` (prompt shown for, default 30) and `accept_within_s` (default 600).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Callable, Iterable

from sqlalchemy import Connection, select
from sqlalchemy.exc import IntegrityError

from .events import RATING_CLOSED, RATING_PROMPT, TICKET_FINISHED, Event
from .queue.errors import QueueError
from .store import tables as t

log = logging.getLogger(__name__)

LEVELS: tuple[str, ...] = ("very_satisfied", "satisfied", "unsatisfied")
LEVEL_LABELS_VI = {
    "very_satisfied": "Rất hài lòng",
    "satisfied": "Hài lòng",
    "unsatisfied": "Không hài lòng",
}
# Reasons a citizen may tick when not satisfied (code -> label). Free text goes in `comment`.
REASONS: dict[str, str] = {
    "wait_long": "Thời gian chờ lâu",
    "attitude": "Thái độ cán bộ chưa tốt",
    "guidance": "Hướng dẫn chưa rõ ràng, khó hiểu",
    "many_trips": "Phải bổ sung, đi lại nhiều lần",
    "slow_service": "Giải quyết chậm",
    "facilities": "Cơ sở vật chất chưa tốt",
}
DEFAULT_PROMPT_TIMEOUT_S = 30.0
DEFAULT_ACCEPT_WITHIN_S = 600.0
PROMPT_GRACE_S = 5.0  # a box press that left just as the prompt closed still counts
COMMENT_MAX = 500
SOURCE_MAX = 32
RATING_DEVICE_KINDS = ("rating", "rating_box")


class RatingError(QueueError):
    """A rating that cannot be recorded: stable `code`, HTTP-like `status`, Vietnamese `message`."""


@dataclass(frozen=True)
class RatingSettings:
    prompt_timeout_s: float = DEFAULT_PROMPT_TIMEOUT_S
    accept_within_s: float = DEFAULT_ACCEPT_WITHIN_S


def rating_settings(config: Any, counter: int) -> RatingSettings:
    """The counter's settings, from the options of its rating device(s) (first one that sets them)."""
    timeout: float | None = None
    within: float | None = None
    for dev in config.devices:
        if dev.kind not in RATING_DEVICE_KINDS:
            continue
        if dev.counter != counter and counter not in dev.counters.values():
            continue
        opts = dev.options or {}
        if timeout is None and _number(opts.get("timeout_s")) is not None:
            timeout = _number(opts.get("timeout_s"))
        if within is None and _number(opts.get("accept_within_s")) is not None:
            within = _number(opts.get("accept_within_s"))
    return RatingSettings(prompt_timeout_s=timeout or DEFAULT_PROMPT_TIMEOUT_S,
                          accept_within_s=within or DEFAULT_ACCEPT_WITHIN_S)


def _number(v: Any) -> float | None:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return None
    return float(v) if 5 <= v <= 86_400 else None


def rating_devices_for(config: Any, counter: int) -> list[Any]:
    return [d for d in config.devices if d.kind in RATING_DEVICE_KINDS
            and (d.counter == counter or counter in d.counters.values())]


# Validation -------------------------------------------------------------------------------
def clean_rating(level: str, reasons: Iterable[str] = (), comment: str = "") -> tuple[str, list[str], str]:
    """Check a rating's level, reasons and comment; raise RatingError (422) when wrong."""
    if level not in LEVELS:
        raise RatingError("bad_level", "Mức đánh giá phải là một trong: very_satisfied (Rất hài lòng), "
                          "satisfied (Hài lòng), unsatisfied (Không hài lòng).", 422)
    picked: list[str] = []
    for r in reasons or ():
        if not isinstance(r, str) or r not in REASONS:
            raise RatingError("bad_reason", "Lý do không hợp lệ. Lý do được chấp nhận: "
                              + ", ".join(f"{k} ({v})" for k, v in REASONS.items()) + ".", 422)
        if r not in picked:
            picked.append(r)
    comment = " ".join((comment or "").split())
    if len(comment) > COMMENT_MAX:
        raise RatingError("comment_too_long", f"Ý kiến khác dài tối đa {COMMENT_MAX} ký tự.", 422)
    if level != "unsatisfied" and (picked or comment):
        raise RatingError("reasons_only_when_unsatisfied",
                          "Chỉ ghi lý do hoặc ý kiến khi công dân không hài lòng.", 422)
    return level, picked, comment


# Recording --------------------------------------------------------------------------------
def record_rating_for_ticket(services: Any, ticket_id: int, level: str, source: str, *,
                             reasons: Iterable[str] = (), comment: str = "",
                             only_counter: int | None = None) -> dict[str, Any]:
    """Rate ticket `ticket_id`'s latest finished visit. `only_counter`: refuse visits at other
    counters (a rating device rates its own counter only). Raises RatingError."""
    level, picked, comment = clean_rating(level, reasons, comment)
    engine = services.engine
    with services.store.write() as conn:
        now = engine.clock()
        ticket = conn.execute(select(t.tickets.c.id, t.tickets.c.number)
                              .where(t.tickets.c.id == ticket_id)).first()
        if ticket is None:
            raise RatingError("unknown_ticket", f"Không tìm thấy số thứ tự có mã {ticket_id}.", 404)
        v = t.visits.c
        visit = conn.execute(select(t.visits).where(v.ticket_id == ticket_id, v.outcome == "done")
                             .order_by(v.ended_at.desc(), v.id.desc()).limit(1)).first()
        if visit is None:
            raise RatingError("not_finished", f"Số {ticket.number} chưa được phục vụ xong nên chưa thể đánh giá.", 409)
        if only_counter is not None and visit.counter != only_counter:
            raise RatingError("other_counter", f"Số {ticket.number} được phục vụ tại quầy {visit.counter}; "
                              f"thiết bị này chỉ đánh giá quầy {only_counter}.", 403)
        window = rating_settings(services.config, visit.counter).accept_within_s
        out = _insert(conn, services, visit, ticket.number, level, picked, comment, source, now, window)
    _announce_closed(services, out, "rated")
    return out


def record_rating(services: Any, *, counter: int, level: str, source: str, reasons: Iterable[str] = (),
                  comment: str = "", within_s: float | None = None) -> dict[str, Any]:
    """Rate the latest finished visit at `counter` (the serial box path). It must be unrated and
    have ended at most `within_s` ago (default: the counter's prompt time plus a short grace).
    Raises RatingError: unknown_counter (404), nothing_to_rate, already_rated, rating_expired (409)."""
    level, picked, comment = clean_rating(level, reasons, comment)
    if services.config.counter(counter) is None:
        raise RatingError("unknown_counter", f"Không có quầy số {counter}.", 404)
    if within_s is None:
        within_s = rating_settings(services.config, counter).prompt_timeout_s + PROMPT_GRACE_S
    engine = services.engine
    with services.store.write() as conn:
        now = engine.clock()
        v = t.visits.c
        visit = conn.execute(select(t.visits).where(v.counter == counter, v.outcome == "done")
                             .order_by(v.ended_at.desc(), v.id.desc()).limit(1)).first()
        if visit is None or visit.ended_at is None or visit.business_date != engine.calendar.business_date(now):
            raise RatingError("nothing_to_rate", f"Quầy {counter} chưa phục vụ xong lượt nào để đánh giá.", 409)
        number = conn.execute(select(t.tickets.c.number).where(t.tickets.c.id == visit.ticket_id)).scalar_one()
        out = _insert(conn, services, visit, number, level, picked, comment, source, now, within_s)
    _announce_closed(services, out, "rated")
    return out


def _insert(conn: Connection, services: Any, visit: Any, number: str, level: str, reasons: list[str],
            comment: str, source: str, now: datetime, window_s: float) -> dict[str, Any]:
    already = conn.execute(select(t.ratings.c.level).where(t.ratings.c.visit_id == visit.id)).first()
    if already is not None:
        raise _already_rated(number)
    if visit.ended_at is None or now - visit.ended_at > timedelta(seconds=window_s):
        raise RatingError("rating_expired", f"Đã hết thời gian đánh giá lượt phục vụ số {number} "
                          f"(chỉ nhận trong {_duration_vi(window_s)} sau khi kết thúc).", 409)
    source = (source or "unknown")[:SOURCE_MAX]
    try:
        with conn.begin_nested():
            rid = conn.execute(t.ratings.insert().values(
                visit_id=visit.id, ticket_id=visit.ticket_id, business_date=visit.business_date, level=level,
                reasons=reasons or None, comment=comment, field=visit.field, counter=visit.counter,
                staff_id=visit.staff_id, source=source, at=now,
            ).returning(t.ratings.c.id)).scalar_one()
    except IntegrityError:  # another device rated the same visit a moment ago
        raise _already_rated(number) from None
    return {
        "id": rid, "visit_id": visit.id, "ticket_id": visit.ticket_id, "number": number, "level": level,
        "level_label": LEVEL_LABELS_VI[level], "reasons": reasons, "comment": comment, "field": visit.field,
        "counter": visit.counter, "staff_id": visit.staff_id, "source": source,
        "at": services.engine.calendar.local(now).isoformat(timespec="seconds"),
    }


def _already_rated(number: str) -> RatingError:
    return RatingError("already_rated", f"Lượt phục vụ số {number} đã được đánh giá. "
                       "Mỗi lượt phục vụ chỉ được đánh giá một lần.", 409)


def _duration_vi(seconds: float) -> str:
    if seconds >= 60 and seconds % 60 == 0:
        return f"{int(seconds // 60)} phút"
    return f"{int(seconds)} giây"


def _announce_closed(services: Any, rating: dict[str, Any], why: str) -> None:
    """Close the prompt on the counter's rating devices, and tell that counter's console."""
    counter = rating["counter"]
    services.bus.emit(RATING_CLOSED, {"visit_id": rating["visit_id"], "ticket_id": rating["ticket_id"],
                                      "counter": counter, "reason": why, "level": rating.get("level")},
                      (f"rating:{counter}", f"counter:{counter}"))


# Prompts ----------------------------------------------------------------------------------
def prompt_payload(services: Any, *, visit_id: int, ticket_id: int, number: str, counter: int,
                   service_name: str, ended_at: datetime) -> dict[str, Any]:
    timeout = rating_settings(services.config, counter).prompt_timeout_s
    expires = ended_at + timedelta(seconds=timeout)
    return {"visit_id": visit_id, "ticket_id": ticket_id, "number": number, "counter": counter,
            "service_name": service_name, "timeout_s": timeout,
            "expires_at": services.engine.calendar.local(expires).isoformat(timespec="seconds"),
            "reasons": [{"code": k, "label": v} for k, v in REASONS.items()]}


def install_rating_prompts(services: Any) -> Callable[[], None]:
    """Send `rating:prompt` to `rating:<counter>` whenever a visit finishes as done (a bus
    subscriber, installed once by create_app; a second call adds nothing). Returns the
    unsubscribe."""
    if services.bus.has_subscriber("rating-prompts"):
        return lambda: None

    def on_finished(event: Event) -> None:
        p = event.payload
        ticket = p.get("ticket") or {}
        if ticket.get("status") != "done" or p.get("visit_id") is None or p.get("counter") is None:
            return
        payload = prompt_payload(services, visit_id=p["visit_id"], ticket_id=ticket["id"],
                                 number=ticket["number"], counter=int(p["counter"]),
                                 service_name=ticket.get("service_name", ""), ended_at=services.engine.clock())
        services.bus.emit(RATING_PROMPT, payload, f"rating:{payload['counter']}")

    return services.bus.subscribe(on_finished, names=[TICKET_FINISHED], label="rating-prompts")


def pending_prompt(services: Any, counter: int) -> dict[str, Any] | None:
    """The prompt a rating device of `counter` should show right now (after a reload or a lost
    connection): the latest finished visit there, if unrated and its prompt has not timed out."""
    timeout = rating_settings(services.config, counter).prompt_timeout_s
    with services.store.read() as conn:
        now = services.engine.clock()
        v = t.visits.c
        visit = conn.execute(select(t.visits).where(v.counter == counter, v.outcome == "done")
                             .order_by(v.ended_at.desc(), v.id.desc()).limit(1)).first()
        if visit is None or visit.ended_at is None or now - visit.ended_at > timedelta(seconds=timeout):
            return None
        if conn.execute(select(t.ratings.c.id).where(t.ratings.c.visit_id == visit.id)).first() is not None:
            return None
        number = conn.execute(select(t.tickets.c.number).where(t.tickets.c.id == visit.ticket_id)).scalar_one()
    names = {f.code: f.name for f in services.config.fields}
    return prompt_payload(services, visit_id=visit.id, ticket_id=visit.ticket_id, number=number,
                          counter=counter, service_name=names.get(visit.field, visit.field), ended_at=visit.ended_at)


def list_ratings(services: Any, day: Any, *, counter: int | None = None, limit: int = 500) -> list[dict[str, Any]]:
    """Ratings of one business day (newest first), optionally of one counter."""
    r = t.ratings.c
    q = (select(t.ratings, t.tickets.c.number).join(t.tickets, t.tickets.c.id == r.ticket_id)
         .where(r.business_date == day).order_by(r.id.desc()).limit(limit))
    if counter is not None:
        q = q.where(r.counter == counter)
    local = services.engine.calendar.local
    with services.store.read() as conn:
        rows = conn.execute(q).all()
    return [{"id": x.id, "visit_id": x.visit_id, "ticket_id": x.ticket_id, "number": x.number, "level": x.level,
             "level_label": LEVEL_LABELS_VI.get(x.level, x.level), "reasons": list(x.reasons or []),
             "comment": x.comment, "field": x.field, "counter": x.counter, "staff_id": x.staff_id,
             "source": x.source, "at": local(x.at).isoformat(timespec="seconds")} for x in rows]
