"""GET /api/v1/overview: the whole office at a glance, for the lead (staff and administrators).

Every counter's state and current number, waiting per field, the longest wait right now (the
oldest waiting ticket, counted from when it was issued) and the paused counters with reasons
(read by motcua/queue/views.py, `QueueViews.office_overview`).
"""
from __future__ import annotations

from flask import jsonify

from ..web.authz import require, services
from .blueprint import bp


@bp.get("/overview")
@require("staff", "admin")
def overview():
    return jsonify(services().engine.views.office_overview())
