"""Notices set by the administrator, scrolled along the bottom of the waiting-room displays.

The `notices` table keeps every notice; the active ones (at most MAX_ACTIVE_NOTICES, oldest
first) are on the screens. Adding or taking one off publishes `notice:changed`
`{"notices": [...]}` to everyone ("public") on the event bus, after the change is written.
The web routes (motcua/api/notice_routes.py) parse, authorise and answer; the rules are here.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, func, select, update

from .errors import MotcuaError
from .events import NOTICE_CHANGED
from .store import tables as t

MAX_ACTIVE_NOTICES = 20
NOTICE_MAX_CHARS = 500


class NoticeError(MotcuaError):
    default_status = 409


def one_line(text: str) -> str:
    """A notice is one line on the screen: newlines and runs of spaces collapse, control
    characters become spaces. May return "" (nothing to show)."""
    text = "".join(ch if ch.isprintable() else " " for ch in text)
    return " ".join(text.split())


def _active(conn: Connection, services: Any) -> list[dict[str, Any]]:
    n = t.notices.c
    rows = conn.execute(select(n.id, n.text, n.created_at).where(n.active.is_(True)).order_by(n.id)
                        .limit(MAX_ACTIVE_NOTICES)).all()
    local = services.engine.calendar.local
    return [{"id": r.id, "text": r.text, "created_at": local(r.created_at).isoformat(timespec="seconds")}
            for r in rows]


def _publish(services: Any, notices: list[dict[str, Any]]) -> None:
    services.bus.emit(NOTICE_CHANGED, {"notices": notices}, "public")


def active_notices(services: Any) -> list[dict[str, Any]]:
    """The notices on the screens: `{"id", "text", "created_at"}`, oldest first."""
    with services.store.read() as conn:
        return _active(conn, services)


def add_notice(services: Any, text: str) -> dict[str, Any]:
    """Put a notice on the screens (text: already one line, 1..NOTICE_MAX_CHARS characters).
    Refused (409 `too_many_notices`) when MAX_ACTIVE_NOTICES are already shown."""
    n = t.notices.c
    with services.store.write() as conn:
        shown = conn.execute(select(func.count()).select_from(t.notices).where(n.active.is_(True))).scalar_one()
        if shown >= MAX_ACTIVE_NOTICES:
            raise NoticeError("too_many_notices",
                              f"Đã có {MAX_ACTIVE_NOTICES} thông báo đang hiển thị; hãy xóa bớt trước khi thêm.")
        new_id = conn.execute(t.notices.insert().values(text=text, active=True, created_at=services.engine.clock())
                              .returning(n.id)).scalar_one()
        notices = _active(conn, services)
    _publish(services, notices)
    return next(x for x in notices if x["id"] == new_id)


def remove_notice(services: Any, notice_id: int) -> list[dict[str, Any]]:
    """Take a notice off the screens (it stays in the table, inactive); the notices left.
    Refused (404 `notice_not_found`) unless that notice is on the screens."""
    n = t.notices.c
    with services.store.write() as conn:
        done = conn.execute(update(t.notices).where(n.id == notice_id, n.active.is_(True))
                            .values(active=False)).rowcount
        if not done:
            raise NoticeError("notice_not_found", f"Không có thông báo số {notice_id} đang hiển thị.", 404)
        notices = _active(conn, services)
    _publish(services, notices)
    return notices
