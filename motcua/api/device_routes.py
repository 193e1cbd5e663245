"""Devices: their states, print jobs, and fault injection into simulated devices (admin).

Everything goes through the device registry (`motcua/devices/`); nothing here imports a driver."""
from __future__ import annotations

from flask import jsonify
from pydantic import BaseModel, ConfigDict, Field

from ..web.authz import require, services
from ..web.errors import ApiError
from ..web.request import json_body, parse
from .blueprint import bp


class SimulateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    fault: str | None = Field(default=None, max_length=20)
    delay_s_per_kb: float | None = Field(default=None, ge=0, le=10)
    action: str | None = Field(default=None, pattern="^(press|scan)$")
    address: int | None = Field(default=None, ge=0, le=255)
    key: str | None = Field(default=None, max_length=20)
    level: str | None = Field(default=None, max_length=20)
    code: str | None = Field(default=None, max_length=500)


def _registry():
    reg = services().devices
    if reg is None:
        raise ApiError("no_devices", "Hệ thống đang chạy không có thiết bị.", 409)
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
        raise ApiError("unknown_job", "Không tìm thấy lệnh in này.", 404)
    return jsonify(st)


@bp.post("/devices/<name>/simulate")
@require("admin")
def simulate(name: str):
    body = parse(SimulateIn, json_body())
    reg = _registry()
    try:
        if body.action:
            extra = {k: v for k, v in (("address", body.address), ("key", body.key), ("level", body.level),
                                        ("code", body.code)) if v is not None}
            reg.simulate_action(name[:40], body.action, **extra)
            return jsonify({"ok": True, "device": name, "action": body.action})
        reg.simulate(name[:40], fault=body.fault, delay_s_per_kb=body.delay_s_per_kb)
    except KeyError:
        raise ApiError("unknown_device", f"Không có thiết bị mô phỏng tên '{name[:40]}'.", 404) from None
    except (ValueError, TypeError) as exc:
        raise ApiError("invalid", f"Thao tác giả lập không hợp lệ: {exc}", 422) from None
    return jsonify({"ok": True, "device": name, "fault": body.fault})


@bp.get("/devices/<name>/simulated")
@require("admin")
def simulated(name: str):
    try:
        return jsonify(_registry().simulated_state(name[:40]))
    except KeyError:
        raise ApiError("unknown_device", f"Không có thiết bị mô phỏng tên '{name[:40]}'.", 404) from None
    except ValueError as exc:
        raise ApiError("invalid", f"Không đọc được thiết bị mô phỏng: {exc}", 422) from None
