"""What the kiosk screens need beyond the queue API: printing a procedure's checklist of papers
on the ticket printer, and the printers' state when a kiosk page starts."""
from __future__ import annotations

import logging
from typing import Any

from flask import jsonify

from ..web.authz import require, services
from ..web.errors import ApiError
from .blueprint import bp
from .procedure_routes import catalogue

log = logging.getLogger(__name__)

NO_PRINTER_MESSAGE = "Chưa có máy in."


def _printers() -> list[dict[str, Any]]:
    devices = services().devices
    if devices is None:
        return []
    try:
        summary = devices.summary()
    except Exception:  # noqa: BLE001 - a device registry fault must not break the kiosk page
        log.exception("device summary failed")
        return []
    return [{"name": d.get("name"), "state": d.get("state"), "detail": d.get("detail", "")}
            for d in summary if d.get("kind") == "printer"]


@bp.get("/kiosk/status")
@require("kiosk", "staff", "admin")
def kiosk_status():
    """{"printers": [{"name","state","detail"}]}: what the kiosk shows before any
    `device:status` event arrives."""
    return jsonify({"printers": _printers()})


@bp.post("/procedures/<code>/print")
@require("kiosk", "staff", "admin")
def print_procedure_checklist(code: str):
    """Print the papers to bring for one procedure on the ticket printer.

    202 {"print_job": {...}} when queued; 409 "Chưa có máy in." without a printer."""
    proc = catalogue().get(code[:64])
    if proc is None:
        raise ApiError("unknown_procedure", "Không tìm thấy thủ tục này.", 404)
    devices = services().devices
    print_checklist = getattr(devices, "print_checklist", None) if devices is not None else None
    if print_checklist is None:
        raise ApiError("no_printer", NO_PRINTER_MESSAGE, 409)
    job = print_checklist(proc.to_dict())
    if job is None:
        raise ApiError("no_printer", NO_PRINTER_MESSAGE, 409)
    return jsonify({"print_job": job}), 202
