"""The administrator's API, continued: staff accounts, devices (settings, test print, test call
on an LED board, unplug/replug of simulated twins; adding, changing and removing one is in
admin_routes_devices.py), the office file (export, check, restore)
and the audit log (JSON, CSV). Administrators only."""
from __future__ import annotations

from typing import Any

from flask import Response, jsonify, request
from pydantic import BaseModel, ConfigDict, Field

from ..auth import hash_password
from ..configure import ConfigRefused, validate
from ..configure.live import resolve_data
from ..configure.staff import accounts, password_hash, set_active
from ..web.authz import current_principal, require, services
from ..web.errors import ApiError
from ..web.request import int_arg, json_body, parse
from .admin_routes import _object, change, public_config
from .blueprint import bp

DEVICE_ACTIONS = ("test_print", "test_call", "unplug", "replug")
SETTINGS_KINDS = ("kiosk", "display", "rating", "rating_box", "printer", "led", "camera")


class PasswordIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    password: str = Field(min_length=8, max_length=200)


class ActiveIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    active: bool


class DeviceActionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    action: str = Field(pattern="^(test_print|test_call|unplug|replug)$")


# Staff accounts --------------------------------------------------------------------------------
@bp.get("/admin/staff")
@require("admin")
def admin_staff():
    svc = services()
    return jsonify({"staff": accounts(svc.auth, svc.config)})


def _account(username: str) -> dict[str, Any]:
    svc = services()
    a = next((x for x in accounts(svc.auth, svc.config) if x["username"] == username), None)
    if a is None:
        raise ApiError("unknown_user", f"Không có tài khoản {username[:40]}.", 404)
    return a


def _put_staff(raw: dict[str, Any], entry: dict[str, Any]) -> None:
    for i, s in enumerate(raw["staff"]):
        if s["username"] == entry["username"]:
            raw["staff"][i] = {**s, **entry}
            return
    raw["staff"].append(entry)


@bp.post("/admin/staff")
@require("admin")
def admin_staff_add():
    """`{"username", "full_name", "role": "staff"|"admin", "counters": [..], "password"}`."""
    body = dict(_object(json_body(), "Tài khoản"))
    pw = parse(PasswordIn, {"password": body.pop("password", "")}).password
    username = str(body.get("username", ""))[:40]
    if any(a["username"] == username for a in accounts(services().auth, services().config)):
        raise ApiError("user_exists", f"Đã có tài khoản {username}.", 409)
    entry = {**body, "password_hash": hash_password(pw)}
    change(lambda raw: raw["staff"].append(entry), action="staff.add", target=username,
           summary=f"Tạo tài khoản {username}", after=body)
    return jsonify(_account(username)), 201


@bp.put("/admin/staff/<username>")
@require("admin")
def admin_staff_update(username: str):
    """Full name, role, the counters the account works at."""
    before = _account(username)
    body = _object(json_body(), "Tài khoản")
    if "password_hash" in body or body.get("username", username) != username:
        raise ApiError("invalid", "Chỉ sửa được họ tên, vai trò và quầy; mật khẩu đặt lại bằng nút riêng.", 422)
    entry = {"username": username, "full_name": before["full_name"], "role": before["role"],
             "counters": before["counters"], "password_hash": password_hash(services().store, username), **body}
    change(lambda raw: _put_staff(raw, entry), action="staff.update", target=username,
           summary=f"Sửa tài khoản {username}", before={k: before[k] for k in ("full_name", "role", "counters")},
           after={k: entry[k] for k in ("full_name", "role", "counters")})
    return jsonify(_account(username))


@bp.post("/admin/staff/<username>/password")
@require("admin")
def admin_staff_password(username: str):
    """A new password; the account's sessions and tokens end."""
    a = _account(username)
    pw = parse(PasswordIn, json_body()).password
    svc = services()
    svc.auth.set_password(username, pw)
    entry = {"username": username, "full_name": a["full_name"], "role": a["role"], "counters": a["counters"],
             "password_hash": password_hash(svc.store, username)}
    change(lambda raw: _put_staff(raw, entry), action="staff.password", target=username,
           summary=f"Đặt lại mật khẩu của {username}")
    return jsonify({"ok": True, "username": username})


@bp.post("/admin/staff/<username>/active")
@require("admin")
def admin_staff_active(username: str):
    """`{"active": false}` disables the account (its sessions end), `true` enables it again."""
    a = _account(username)
    body = parse(ActiveIn, json_body())
    me = current_principal()
    if not body.active and me.name == username:
        raise ApiError("self_disable", "Không thể tự khoá tài khoản đang đăng nhập.", 409)
    svc = services()
    set_active(svc.auth, username, body.active)
    svc.live.audit.record(who=me.name, user_id=me.user_id, action="staff.active", target=username,
                          summary=("Mở khoá" if body.active else "Khoá") + f" tài khoản {username}",
                          before={"active": a["active"]}, after={"active": body.active})
    return jsonify(_account(username))


# Devices -------------------------------------------------------------------------------------
@bp.get("/admin/devices")
@require("admin")
def admin_devices():
    svc = services()
    status = {d["name"]: d for d in (svc.devices.summary() if svc.devices is not None else [])}
    out = []
    for d in public_config(svc.config)["devices"]:
        st = status.get(d["name"], {})
        out.append({**d, "state": st.get("state"), "state_label": st.get("state_label"),
                    "detail": st.get("detail", ""), "cause": st.get("cause", ""), "simulated": str(d.get("url", "")).startswith(("sim://", "virtual"))})
    from ..configure.devices import kinds

    return jsonify({"devices": out, "kinds": kinds()})


@bp.post("/admin/devices/<name>/test")
@require("admin")
def admin_device_test(name: str):
    """`{"action": "test_print" | "test_call" | "unplug" | "replug"}`: queued for the device's
    own object (never done on this request); 202."""
    body = parse(DeviceActionIn, json_body())
    svc = services()
    if svc.devices is None:
        raise ApiError("no_devices", "Hệ thống đang chạy không có thiết bị.", 409)
    from ..devices.admin_ops import run_test

    answer = run_test(svc.devices, name[:40], body.action)
    me = current_principal()
    svc.live.audit.record(who=me.name, user_id=me.user_id, action=f"device.{body.action}", target=name[:40],
                          summary=answer["message"])
    return jsonify(answer), 202


# The office file -----------------------------------------------------------------------------
@bp.get("/admin/config.toml")
@require("admin")
def admin_config_export():
    text = services().live.export_text()
    return Response(text, mimetype="application/toml",
                    headers={"Content-Disposition": "attachment; filename=office.toml"})


def _toml_upload() -> str:
    if (request.mimetype or "").lower() == "multipart/form-data":
        f = request.files.get("file")
        data = f.read() if f is not None else b""
    elif (request.mimetype or "").lower() in ("application/json", ""):
        body = json_body()
        data = str(body.get("toml", "")).encode("utf-8") if isinstance(body, dict) else b""
    else:
        data = request.get_data(cache=False)
    if not data.strip():
        raise ApiError("empty_file", "Chưa có tệp cấu hình: hãy chọn tệp .toml.", 400)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise ApiError("bad_encoding", "Tệp cấu hình phải được lưu với mã UTF-8.", 422) from None


@bp.post("/admin/config/import")
@require("admin")
def admin_config_import():
    """Restore an office file: checked first (the `motcua check-config` errors, 422); with
    `?dry_run=1` only checked. Same refusals as any change (409 when citizens would be stranded)."""
    import tomllib

    text = _toml_upload()
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigRefused("invalid_config", f"Tệp cấu hình không đọc được: lỗi cú pháp TOML: {exc}", 422,
                            problems=[{"key": "", "message": f"lỗi cú pháp TOML: {exc}"}]) from None
    new = validate(raw, "tệp tải lên")
    if request.args.get("dry_run") in ("1", "true"):
        return jsonify({"ok": True, "checked": True, "fields": len(new.fields), "counters": len(new.counters),
                        "staff": len(new.staff), "devices": len(new.devices)})
    svc = services()
    new = resolve_data(new, svc.settings.data_dir)
    if not new.auth.secret_key and svc.config.auth.secret_key:  # the export leaves the secret out: keep ours
        new = new.model_copy(update={"auth": new.auth.model_copy(update={"secret_key": svc.config.auth.secret_key})})
    before = public_config(svc.config)
    svc.live.apply(new, who=current_principal(), action="config.restore", target="office.toml",
                   summary="Khôi phục cấu hình từ tệp", before=before, after=public_config(new))
    return jsonify({"ok": True, "restored": True, "fields": len(new.fields), "counters": len(new.counters),
                    "staff": len(new.staff), "devices": len(new.devices)})


# The audit log -------------------------------------------------------------------------------
@bp.get("/admin/audit")
@require("admin")
def admin_audit():
    limit = int_arg("limit", 100, 1, 1000)
    offset = int_arg("offset", 0, 0, 10_000_000)
    action = (request.args.get("action") or "")[:40]
    rows, total = services().live.audit.entries(limit=limit, offset=offset, action=action)
    return jsonify({"entries": rows, "total": total, "limit": limit, "offset": offset})


@bp.get("/admin/audit.csv")
@require("admin")
def admin_audit_csv():
    return Response(services().live.audit.csv_text(), mimetype="text/csv",
                    headers={"Content-Disposition": "attachment; filename=nhat-ky-quan-tri.csv"})
