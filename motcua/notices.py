"""Notices set by the administrator, scrolled along the bottom of the waiting-room displays.

The `notices` table keeps every notice. A notice may have a schedule (`starts_at`, `ends_at`:
instants, shown and read in office time; null: at once / until taken off) and a priority
("urgent", Khẩn, or "normal", Thường). The screens show the notices in force now (at most
MAX_ACTIVE_NOTICES), the urgent ones first, then oldest first. Adding, changing or taking one
off publishes `notice:changed` `{"notices": [...], "refresh_in_s"}` to everyone ("public") on
the event bus, after the change is written; `refresh_in_s` is how long until the next scheduled
start or end (the display asks again then), null when none is planned.
The web routes (motcua/api/notice_routes.py) parse, authorise and answer; the rules are here.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, case, func, or_, select, update

from .errors import MotcuaError
from .events import NOTICE_CHANGED
from .store import tables as t

MAX_ACTIVE_NOTICES = 20
NOTICE_MAX_CHARS = 500
PRIORITIES = ("urgent", "normal")
PRIORITY_LABELS_VI = {"urgent": "Khẩn", "normal": "Thường"}


class NoticeError(MotcuaError):
    default_status = 409


def one_line(text: str) -> str:
    """A notice is one line on the screen: newlines and runs of spaces collapse, control
    characters become spaces. May return "" (nothing to show)."""
    text = "".join(ch if ch.isprintable() else " " for ch in text)
    return " ".join(text.split())


def _now(services: Any) -> datetime:
    return services.engine.clock()


def _not_over(now: datetime) -> Any:
    n = t.notices.c
    return and_(n.active.is_(True), or_(n.ends_at.is_(None), n.ends_at > now))


def _in_force(now: datetime) -> Any:
    n = t.notices.c
    return and_(_not_over(now), or_(n.starts_at.is_(None), n.starts_at <= now))


def _json(services: Any, r: Any, now: datetime) -> dict[str, Any]:
    local = services.engine.calendar.local

    def at(v: datetime | None) -> str | None:
        return local(v).isoformat(timespec="seconds") if v is not None else None

    shown = r.active and (r.starts_at is None or r.starts_at <= now) and (r.ends_at is None or r.ends_at > now)
    state = "shown" if shown else ("ended" if (not r.active or (r.ends_at is not None and r.ends_at <= now))
                                   else "scheduled")
    return {"id": r.id, "text": r.text, "created_at": at(r.created_at), "priority": r.priority or "normal",
            "priority_label": PRIORITY_LABELS_VI.get(r.priority or "normal", "Thường"),
            "starts_at": at(r.starts_at), "ends_at": at(r.ends_at), "state": state}


def _urgent_first() -> Any:
    n = t.notices.c
    return case((n.priority == "urgent", 0), else_=1)


def _shown(conn: Connection, services: Any, now: datetime) -> list[dict[str, Any]]:
    n = t.notices.c
    rows = conn.execute(select(t.notices).where(_in_force(now)).order_by(_urgent_first(), n.id)
                        .limit(MAX_ACTIVE_NOTICES)).all()
    return [_json(services, r, now) for r in rows]


def _refresh_in_s(conn: Connection, now: datetime) -> int | None:
    """Seconds until the next scheduled start or end of a notice not over yet (None: none)."""
    n = t.notices.c
    nxt = conn.execute(select(func.min(n.starts_at)).where(_not_over(now), n.starts_at > now)).scalar()
    end = conn.execute(select(func.min(n.ends_at)).where(_not_over(now))).scalar()
    times = [x for x in (nxt, end) if x is not None]
    if not times:
        return None
    return max(1, int((min(times) - now).total_seconds()) + 1)


def _state(conn: Connection, services: Any) -> dict[str, Any]:
    now = _now(services)
    return {"notices": _shown(conn, services, now), "refresh_in_s": _refresh_in_s(conn, now)}


def _publish(services: Any, state: dict[str, Any]) -> None:
    services.bus.emit(NOTICE_CHANGED, state, "public")


def screen_state(services: Any) -> dict[str, Any]:
    """What the screens show: `{"notices": [...], "refresh_in_s"}` (GET /api/v1/notices)."""
    with services.store.read() as conn:
        return _state(conn, services)


def active_notices(services: Any) -> list[dict[str, Any]]:
    """The notices on the screens now: urgent first, then oldest first."""
    return screen_state(services)["notices"]


def all_notices(services: Any) -> list[dict[str, Any]]:
    """Every notice not taken off and not over (shown now or planned), for the administrator:
    urgent first, then by start, then oldest first."""
    n = t.notices.c
    now = _now(services)
    with services.store.read() as conn:
        rows = conn.execute(select(t.notices).where(_not_over(now))
                            .order_by(_urgent_first(), n.starts_at.is_not(None), n.starts_at, n.id)).all()
    return [_json(services, r, now) for r in rows]


def _check_schedule(starts_at: datetime | None, ends_at: datetime | None, now: datetime) -> None:
    if ends_at is not None and starts_at is not None and ends_at <= starts_at:
        raise NoticeError("bad_schedule", "Thời điểm kết thúc phải sau thời điểm bắt đầu.", 422)
    if ends_at is not None and ends_at <= now:
        raise NoticeError("bad_schedule", "Thời điểm kết thúc đã qua; thông báo sẽ không hiện lên màn hình.", 422)


def _check_room(conn: Connection, now: datetime, exclude: int | None = None) -> None:
    n = t.notices.c
    q = select(func.count()).select_from(t.notices).where(_not_over(now))
    if exclude is not None:
        q = q.where(n.id != exclude)
    if conn.execute(q).scalar_one() >= MAX_ACTIVE_NOTICES:
        raise NoticeError("too_many_notices",
                          f"Đã có {MAX_ACTIVE_NOTICES} thông báo đang hiển thị hoặc chờ hiển thị; "
                          "hãy xóa bớt trước khi thêm.")


def add_notice(services: Any, text: str, *, priority: str = "normal", starts_at: datetime | None = None,
               ends_at: datetime | None = None) -> dict[str, Any]:
    """Put a notice on the screens, now or on its schedule (text: already one line,
    1..NOTICE_MAX_CHARS characters). Refused (409 `too_many_notices`) when MAX_ACTIVE_NOTICES
    are already shown or planned; 422 `bad_schedule` for an end before the start or past."""
    n = t.notices.c
    now = _now(services)
    _check_schedule(starts_at, ends_at, now)
    with services.store.write() as conn:
        _check_room(conn, now)
        new_id = conn.execute(t.notices.insert().values(
            text=text, active=True, created_at=now, priority=priority if priority in PRIORITIES else "normal",
            starts_at=starts_at, ends_at=ends_at).returning(n.id)).scalar_one()
        state = _state(conn, services)
        row = conn.execute(select(t.notices).where(n.id == new_id)).one()
    _publish(services, state)
    return _json(services, row, now)


def change_notice(services: Any, notice_id: int, changes: dict[str, Any]) -> dict[str, Any]:
    """Change a notice's text, priority or schedule (keys present in `changes` only).
    404 `notice_not_found` unless the notice is shown or planned."""
    n = t.notices.c
    now = _now(services)
    with services.store.write() as conn:
        row = conn.execute(select(t.notices).where(n.id == notice_id, _not_over(now))).first()
        if row is None:
            raise NoticeError("notice_not_found", f"Không có thông báo số {notice_id} đang hiển thị hoặc chờ hiển thị.",
                              404)
        values = {k: v for k, v in changes.items() if k in ("text", "priority", "starts_at", "ends_at")}
        _check_schedule(values.get("starts_at", row.starts_at), values.get("ends_at", row.ends_at), now)
        if values:
            conn.execute(update(t.notices).where(n.id == notice_id).values(**values))
        state = _state(conn, services)
        row = conn.execute(select(t.notices).where(n.id == notice_id)).one()
    _publish(services, state)
    return _json(services, row, now)


def remove_notice(services: Any, notice_id: int) -> list[dict[str, Any]]:
    """Take a notice off the screens, or cancel a planned one (it stays in the table, inactive);
    the notices left on the screens. Refused (404 `notice_not_found`) unless that notice is
    shown or planned."""
    n = t.notices.c
    now = _now(services)
    with services.store.write() as conn:
        done = conn.execute(update(t.notices).where(n.id == notice_id, _not_over(now))
                            .values(active=False)).rowcount
        if not done:
            raise NoticeError("notice_not_found", f"Không có thông báo số {notice_id} đang hiển thị.", 404)
        state = _state(conn, services)
    _publish(services, state)
    return state["notices"]
