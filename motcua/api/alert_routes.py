"""Service-level alerts (motcua/alerts.py): GET /api/v1/alerts, for staff and administrators.

``{"active": [...], "recent": [...]}``: the alerts open now (oldest first) and the latest ones,
open or ended, newest first (``?limit=`` 1..500, default 50; ``?days=`` only those started in
the last N days). Live changes come over Socket.IO as ``alert:changed``.
"""
from __future__ import annotations

from flask import jsonify, request

from ..web.authz import require, services
from ..web.errors import ApiError
from .blueprint import bp


def _int_arg(name: str, default: int | None, low: int, high: int, what: str) -> int | None:
    raw = (request.args.get(name) or "").strip()
    if not raw:
        return default
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise ApiError(f"bad_{name}", f"Tham số '{name}' ({what}) phải là số nguyên từ {low} đến {high}.", 400)
    return int(raw)


@bp.get("/alerts")
@require("staff", "admin")
def alerts_list():
    monitor = services().alerts
    limit = _int_arg("limit", 50, 1, 500, "số cảnh báo")
    days = _int_arg("days", None, 1, 366, "số ngày")
    return jsonify({"active": monitor.active(), "recent": monitor.history(limit=limit or 50, days=days),
                    "thresholds": _thresholds()})


def _thresholds() -> dict:
    rules = services().config.alerts
    return {"enabled": rules.enabled, "wait_max_min": rules.wait_max_min,
            "wait_max_min_by_field": dict(rules.wait_max_min_by_field), "pause_max_min": rules.pause_max_min,
            "printer_paper": rules.printer_paper}
