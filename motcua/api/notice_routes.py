"""Notices set by the administrator, scrolled along the bottom of the waiting-room displays.

* GET ``/api/v1/notices`` (anyone): ``{"notices": [{"id", "text", "created_at", "priority",
  "starts_at", "ends_at", ...}], "refresh_in_s"}``: the notices in force now, urgent first,
  then oldest first; ``refresh_in_s``: seconds until the next scheduled start or end (or null).
* GET ``/api/v1/notices/all`` (admin): every notice shown now or planned.
* POST ``/api/v1/notices`` ``{"text", "priority"?, "starts_at"?, "ends_at"?}`` (admin): 201 with
  the notice. Times: ISO 8601; without an offset they are the office's local time.
* PUT ``/api/v1/notices/<id>`` (admin): change the text, priority or schedule.
* DELETE ``/api/v1/notices/<id>`` (admin): the notice is taken off the screens (kept in the
  table, inactive).

Every change emits ``notice:changed`` ``{"notices": [...], "refresh_in_s"}`` to everyone
("public"). The rules live in motcua/notices.py.
"""
from __future__ import annotations

from datetime import datetime
from typing import Literal, Optional

from flask import jsonify
from pydantic import BaseModel, ConfigDict, Field

from .. import notices
from ..notices import NOTICE_MAX_CHARS
from ..web.authz import require, services
from ..web.errors import ApiError
from ..web.request import json_body, parse
from ..web.text import FreeText
from .blueprint import bp

When = Optional[str]


class NoticeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: FreeText(NOTICE_MAX_CHARS, required=True)  # one line on the screens (motcua/web/text.py)
    priority: Literal["urgent", "normal"] = "normal"
    starts_at: When = Field(default=None, max_length=40)
    ends_at: When = Field(default=None, max_length=40)


class NoticeChange(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: Optional[FreeText(NOTICE_MAX_CHARS, required=True)] = None
    priority: Optional[Literal["urgent", "normal"]] = None
    starts_at: When = Field(default=None, max_length=40)
    ends_at: When = Field(default=None, max_length=40)


def _when(value: str | None, what: str) -> datetime | None:
    """An ISO 8601 time; without an offset, the office's local time."""
    if value is None or not value.strip():
        return None
    try:
        dt = datetime.fromisoformat(value.strip())
    except ValueError:
        raise ApiError("invalid", f"Thời điểm {what} không hợp lệ; hãy ghi ngày và giờ, ví dụ 2026-09-02T07:30.",
                       422) from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=services().engine.calendar.tz)
    return dt


@bp.get("/notices")
def list_notices():
    return jsonify(notices.screen_state(services()))


@bp.get("/notices/all")
@require("admin")
def list_all_notices():
    return jsonify({"notices": notices.all_notices(services())})


@bp.post("/notices")
@require("admin")
def add_notice():
    body = parse(NoticeIn, json_body())
    return jsonify(notices.add_notice(services(), body.text, priority=body.priority,
                                      starts_at=_when(body.starts_at, "bắt đầu"),
                                      ends_at=_when(body.ends_at, "kết thúc"))), 201


@bp.put("/notices/<id:notice_id>")
@require("admin")
def change_notice(notice_id: int):
    body = parse(NoticeChange, json_body())
    sent = body.model_fields_set
    changes: dict = {}
    if "text" in sent:
        if body.text is None:
            raise ApiError("invalid", "Nội dung thông báo không được để trống.", 422)
        changes["text"] = body.text
    if "priority" in sent and body.priority is not None:
        changes["priority"] = body.priority
    if "starts_at" in sent:
        changes["starts_at"] = _when(body.starts_at, "bắt đầu")
    if "ends_at" in sent:
        changes["ends_at"] = _when(body.ends_at, "kết thúc")
    return jsonify(notices.change_notice(services(), notice_id, changes))


@bp.delete("/notices/<id:notice_id>")
@require("admin")
def delete_notice(notice_id: int):
    return jsonify({"deleted": notice_id, "notices": notices.remove_notice(services(), notice_id)})
