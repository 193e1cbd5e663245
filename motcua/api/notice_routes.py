"""Notices set by the administrator, scrolled along the bottom of the waiting-room displays.

* GET ``/api/v1/notices`` (anyone): ``{"notices": [{"id", "text", "created_at"}]}``, oldest first.
* POST ``/api/v1/notices`` ``{"text"}`` (admin): 201 with the notice.
* DELETE ``/api/v1/notices/<id>`` (admin): the notice is taken off the screens (kept in the
  table, inactive).

Every change emits ``notice:changed`` ``{"notices": [...]}`` to everyone ("public"). The rules
live in motcua/notices.py.
"""
from __future__ import annotations

from flask import jsonify
from pydantic import BaseModel, ConfigDict

from .. import notices
from ..notices import NOTICE_MAX_CHARS
from ..web.authz import require, services
from ..web.request import json_body, parse
from ..web.text import FreeText
from .blueprint import bp


class NoticeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: FreeText(NOTICE_MAX_CHARS, required=True)  # one line on the screens (motcua/web/text.py)


@bp.get("/notices")
def list_notices():
    return jsonify({"notices": notices.active_notices(services())})


@bp.post("/notices")
@require("admin")
def add_notice():
    body = parse(NoticeIn, json_body())
    return jsonify(notices.add_notice(services(), body.text)), 201


@bp.delete("/notices/<id:notice_id>")
@require("admin")
def delete_notice(notice_id: int):
    return jsonify({"deleted": notice_id, "notices": notices.remove_notice(services(), notice_id)})
