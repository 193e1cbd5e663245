"""Notices set by the administrator, scrolled along the bottom of the waiting-room displays.

* GET ``/api/v1/notices`` (anyone): ``{"notices": [{"id", "text", "created_at"}]}``, oldest first.
* POST ``/api/v1/notices`` ``{"text"}`` (admin): 201 with the notice.
* DELETE ``/api/v1/notices/<id>`` (admin): the notice is taken off the screens (kept in the
  table, inactive).

Every change emits ``notice:changed`` ``{"notices": [...]}`` to everyone ("public").
"""
from __future__ import annotations

from typing import Any

from flask import jsonify
from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import Connection, select, update

from ..store import tables as t
from ..web.authz import require, services
from ..web.errors import ApiError
from ..web.request import json_body, parse
from . import bp

MAX_ACTIVE_NOTICES = 20
NOTICE_MAX_CHARS = 500


class NoticeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str = Field(min_length=1, max_length=NOTICE_MAX_CHARS)

    @field_validator("text")
    @classmethod
    def _clean(cls, v: str) -> str:
        # One line on the screen: collapse newlines and runs of spaces, drop control characters.
        v = "".join(ch if ch.isprintable() else " " for ch in v)
        v = " ".join(v.split())
        if not v:
            raise ValueError("empty")
        return v


def _active(conn: Connection) -> list[dict[str, Any]]:
    n = t.notices.c
    rows = conn.execute(select(n.id, n.text, n.created_at).where(n.active.is_(True)).order_by(n.id)
                        .limit(MAX_ACTIVE_NOTICES)).all()
    local = services().engine.calendar.local
    return [{"id": r.id, "text": r.text, "created_at": local(r.created_at).isoformat(timespec="seconds")}
            for r in rows]


def _count_active(conn: Connection) -> int:
    n = t.notices.c
    return len(conn.execute(select(n.id).where(n.active.is_(True))).all())


def _publish(notices: list[dict[str, Any]]) -> None:
    services().hub.emit("notice:changed", {"notices": notices}, "public")


@bp.get("/notices")
def list_notices():
    with services().store.read() as conn:
        return jsonify({"notices": _active(conn)})


@bp.post("/notices")
@require("admin")
def add_notice():
    body = parse(NoticeIn, json_body())
    svc = services()
    with svc.store.write() as conn:
        if _count_active(conn) >= MAX_ACTIVE_NOTICES:
            raise ApiError(409, "too_many_notices",
                           f"Đã có {MAX_ACTIVE_NOTICES} thông báo đang hiển thị; hãy xóa bớt trước khi thêm.")
        new_id = conn.execute(t.notices.insert().values(text=body.text, active=True,
                                                        created_at=svc.engine.clock())
                              .returning(t.notices.c.id)).scalar_one()
        notices = _active(conn)
    _publish(notices)
    created = next(x for x in notices if x["id"] == new_id)
    resp = jsonify(created)
    resp.status_code = 201
    return resp


@bp.delete("/notices/<int:notice_id>")
@require("admin")
def delete_notice(notice_id: int):
    svc = services()
    n = t.notices.c
    with svc.store.write() as conn:
        done = conn.execute(update(t.notices).where(n.id == notice_id, n.active.is_(True))
                            .values(active=False)).rowcount
        if not done:
            raise ApiError(404, "notice_not_found", f"Không có thông báo số {notice_id} đang hiển thị.")
        notices = _active(conn)
    _publish(notices)
    return jsonify({"deleted": notice_id, "notices": notices})
