"""Devices: their states, print jobs, and fault injection into simulated devices (admin)."""
from __future__ import annotations

from flask import jsonify
from pydantic import BaseModel, ConfigDict, Field

from ..web.authz import require, services
from ..web.errors import ApiError
from ..web.request import json_body, parse
from . import bp


class SimulateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    fault: str | None = Field(default=None, max_length=20)
    delay_s_per_kb: float | None = Field(default=None, ge=0, le=10)


def _registry():
    reg = services().devices
    if reg is None:
        raise ApiError(409, "no_devices", "Hệ thống đang chạy không có thiết bị.")
    return reg


@bp.get("/devices")
@require("staff", "admin", "kiosk")
def devices():
    return jsonify(_registry().summary())


@bp.get("/print-jobs/<job_id>")
@require("staff", "admin", "kiosk")
def print_job(job_id: str):
    st = _registry().job_state(job_id[:40])
    if st is None:
        raise ApiError(404, "unknown_job", "Không tìm thấy lệnh in này.")
    return jsonify(st)


@bp.post("/devices/<name>/simulate")
@require("admin")
def simulate(name: str):
    body = parse(SimulateIn, json_body())
    reg = _registry()
    try:
        reg.simulate(name[:40], fault=body.fault, delay_s_per_kb=body.delay_s_per_kb)
    except KeyError:
        raise ApiError(404, "unknown_device", f"Không có thiết bị mô phỏng tên '{name[:40]}'.") from None
    except ValueError as exc:
        raise ApiError(422, "invalid", f"Lỗi giả lập không hợp lệ: {exc}") from None
    return jsonify({"ok": True, "device": name, "fault": body.fault})
