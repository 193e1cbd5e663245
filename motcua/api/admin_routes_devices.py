"""The administrator's API for the office's devices: add one, change its connection and
settings, remove it (administrators only). Each is a change of the running office through
`services().live` (motcua/configure/live.py): checked with the office file's schema (the
Vietnamese errors of `motcua check-config`) and the device's own address rules
(motcua/configure/devices.py), kept in `DATA/office.toml`, written to the audit log with before
and after, announced as `config:changed`; the device layer starts, restarts or stops the device
on its own thread. The list, the tests and unplug/replug are in admin_routes_ops.py."""
from __future__ import annotations

from typing import Any

from flask import jsonify

from ..configure import ConfigRefused
from ..configure.devices import KIND_LABELS, changed_device, for_audit, new_device, readable
from ..web.authz import require, services
from ..web.errors import ApiError
from ..web.request import json_body
from .admin_routes import _object, change, public_config
from .blueprint import bp


def _existing(name: str) -> dict[str, Any]:
    dev = next((d for d in public_config(services().config)["devices"] if d["name"] == name), None)
    if dev is None:
        raise ApiError("unknown_device", f"Không có thiết bị tên '{name[:40]}'.", 404)
    return dev


def _counters() -> set[int]:
    return {c.number for c in services().config.counters}


def _change_device(name: str, edit: Any, index: int, **kw: Any) -> Any:
    try:
        return change(edit, target=name, **kw)
    except ConfigRefused as exc:
        raise readable(exc, index) from None


@bp.post("/admin/devices")
@require("admin")
def admin_device_add():
    """`{"name", "kind", "url", "counter" | "counters": {"address": counter}, "agent", "options",
    "token"}`: the office file's `[[devices]]` keys. A screen (kiosk, display, rating tablet,
    agent) without a token gets one, answered once here. 201; a name already used: 409."""
    svc = services()
    dev = new_device(dict(_object(json_body(), "Thiết bị")), svc.config.devices, _counters())
    name = str(dev.get("name", ""))[:40]
    label = KIND_LABELS[dev["kind"]]
    cfg = _change_device(name, lambda raw: raw["devices"].append(dict(dev)), len(svc.config.devices),
                         action="device.add", summary=f"Thêm thiết bị {name} ({label})", after=for_audit(dev))
    return jsonify(next(d for d in public_config(cfg)["devices"] if d["name"] == name)), 201


@bp.put("/admin/devices/<name>")
@require("admin")
def admin_device_update(name: str):
    """The connection (`url`), counter or bus address map (`counter`, `counters`), the device
    agent (`agent`), a screen's `token` and the kind's `options` (merged into the current ones)."""
    before = _existing(name)
    body = changed_device(before, _object(json_body(), "Thiết bị"), _counters())
    index = next(i for i, d in enumerate(services().config.devices) if d.name == name)

    def edit(raw: dict[str, Any]) -> None:
        d = raw["devices"][index]
        for k, v in body.items():
            if k == "options":
                opts = {o: x for o, x in dict(d.get("options") or {}).items() if x is not None}
                d["options"] = {**opts, **_object(v, "options")}
            else:
                d[k] = v

    keys = [k for k in ("url", "token", "counter", "counters", "agent", "options") if k in body]
    cfg = _change_device(name, edit, index, action="device.update", summary=f"Sửa cài đặt thiết bị {name}",
                         before=for_audit({k: before.get(k) for k in keys}), after=for_audit(body))
    return jsonify(next(d for d in public_config(cfg)["devices"] if d["name"] == name))


@bp.delete("/admin/devices/<name>")
@require("admin")
def admin_device_delete(name: str):
    """Removed from the office (stopped on the device layer's thread; a screen's token no
    longer opens anything). Refused (409) for a device agent that still drives devices."""
    before = _existing(name)
    attached = [d.name for d in services().config.devices if d.agent == name]
    if attached:
        raise ApiError("agent_has_devices", f"Máy tính {name} còn điều khiển thiết bị: {', '.join(attached)}. Hãy "
                       "xoá hoặc chuyển các thiết bị này trước.", 409, devices=attached)
    label = KIND_LABELS.get(before["kind"], before["kind"])
    change(lambda raw: raw.__setitem__("devices", [d for d in raw["devices"] if d["name"] != name]), target=name,
           action="device.delete", summary=f"Xoá thiết bị {name} ({label})", before=for_audit(before))
    return jsonify({"ok": True, "deleted": name})
