"""The administrator's API (`/api/v1/admin/...`, administrators only): the running office.

Every change goes through `services().live` (motcua/configure/live.py): checked with the office
file's schema (the Vietnamese errors of `motcua check-config`), refused when it would strand
citizens (409), applied without a restart, kept in `DATA/office.toml`, written to the audit log
and announced as `config:changed`. This module: office details, hours, settings, fields and
counters; admin_routes_ops.py: staff, devices, export/restore, audit log."""
from __future__ import annotations

from typing import Any, Callable

from flask import jsonify, request

from ..web.authz import current_principal, require, services
from ..web.errors import ApiError
from ..web.request import json_body
from .blueprint import bp

SETTINGS_SECTIONS = ("queue", "announcements", "privacy")


def public_config(cfg: Any) -> dict[str, Any]:
    """The running office as JSON for the screens: no signing secret, no password hashes."""
    data = cfg.model_dump(mode="json")
    data.get("auth", {}).pop("secret_key", None)
    for s in data.get("staff", []):
        s.pop("password_hash", None)  # GET /admin/staff says which accounts have a password
    return data


def change(edit: Callable[[dict[str, Any]], Any], *, action: str, target: str, summary: str, before: Any = None,
           after: Any = None, move_waiting_to: str | None = None) -> Any:
    return services().live.change(edit, who=current_principal(), action=action, target=target, summary=summary,
                                  before=before, after=after, move_waiting_to=move_waiting_to)


def _object(body: Any, what: str) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise ApiError("invalid", f"{what} phải là một đối tượng JSON {{...}}.", 422)
    return body


def _answer(cfg: Any, section: str | None = None, status: int = 200):
    data = public_config(cfg)
    resp = jsonify(data[section] if section else data)
    resp.status_code = status
    return resp


@bp.get("/admin/config")
@require("admin")
def admin_config():
    return _answer(services().config)


# Office details, hours, settings -------------------------------------------------------------
def _section(name: str, title: str):
    body = _object(json_body(), title)
    before = public_config(services().config)[name]

    def edit(raw: dict[str, Any]) -> None:
        raw[name] = {**raw[name], **body}

    cfg = change(edit, action=f"{name}.update", target=name, summary=f"Sửa {title}", before=before,
                 after={**before, **body})
    return _answer(cfg, name)


@bp.put("/admin/office")
@require("admin")
def admin_office():
    return _section("office", "thông tin văn phòng")


@bp.put("/admin/hours")
@require("admin")
def admin_hours():
    """Days, sessions, per-day overrides, holidays and make-up working days (`extra_days`)."""
    return _section("hours", "giờ làm việc, ngày nghỉ và ngày làm bù")


@bp.put("/admin/settings")
@require("admin")
def admin_settings():
    """`{"queue": {...}, "announcements": {...}, "privacy": {...}}` (any of them)."""
    body = _object(json_body(), "Cài đặt")
    unknown = sorted(set(body) - set(SETTINGS_SECTIONS))
    if unknown:
        raise ApiError("invalid", f"Mục cài đặt không có: {', '.join(unknown)} (chỉ có: queue, announcements, "
                       "privacy).", 422)
    cur = public_config(services().config)
    before = {k: cur[k] for k in body}

    def edit(raw: dict[str, Any]) -> None:
        for k, v in body.items():
            raw[k] = {**raw[k], **_object(v, k)}

    cfg = change(edit, action="settings.update", target=",".join(body), summary="Sửa cài đặt hàng chờ, lời gọi, "
                 "dữ liệu cá nhân", before=before, after={k: {**before[k], **body[k]} for k in body})
    data = public_config(cfg)
    return jsonify({k: data[k] for k in SETTINGS_SECTIONS})


# Fields ----------------------------------------------------------------------------------------
def _field_json(cfg: Any, f: dict[str, Any]) -> dict[str, Any]:
    return {**f, "counters": cfg.counters_for_field(f["code"])}


@bp.get("/admin/fields")
@require("admin")
def admin_fields():
    cfg = services().config
    return jsonify({"fields": [_field_json(cfg, f) for f in public_config(cfg)["fields"]]})


def _serve_at(raw: dict[str, Any], code: str, counters: Any) -> None:
    """The field is served at exactly these counters (added last to their list)."""
    if counters is None:
        return
    if not isinstance(counters, list) or not all(isinstance(n, int) for n in counters):
        raise ApiError("invalid", "'counters' phải là danh sách số quầy, ví dụ [1, 2].", 422)
    known = {c["number"] for c in raw["counters"]}
    missing = [n for n in counters if n not in known]
    if missing:
        raise ApiError("invalid", f"Không có quầy số {', '.join(map(str, missing))}.", 422)
    for c in raw["counters"]:
        if c["number"] in counters and code not in c["fields"]:
            c["fields"].append(code)
        elif c["number"] not in counters and code in c["fields"]:
            c["fields"].remove(code)


@bp.post("/admin/fields")
@require("admin")
def admin_field_add():
    """A new field: the office file's `[[fields]]` keys, plus `counters` (served at)."""
    body = dict(_object(json_body(), "Lĩnh vực"))
    counters = body.pop("counters", None)
    code = str(body.get("code", ""))
    if services().config.field(code) is not None:
        raise ApiError("field_exists", f"Đã có lĩnh vực mã {code}.", 409)

    def edit(raw: dict[str, Any]) -> None:
        raw["fields"].append(body)
        _serve_at(raw, code, counters)

    cfg = change(edit, action="field.add", target=code, summary=f"Thêm lĩnh vực {body.get('name', code)}",
                 after={**body, "counters": counters or []})
    f = next(x for x in public_config(cfg)["fields"] if x["code"] == code)
    return jsonify(_field_json(cfg, f)), 201


def _existing_field(code: str) -> dict[str, Any]:
    cfg = services().config
    f = next((x for x in public_config(cfg)["fields"] if x["code"] == code), None)
    if f is None:
        raise ApiError("unknown_field", f"Không có lĩnh vực mã {code[:32]}.", 404)
    return _field_json(cfg, f)


@bp.put("/admin/fields/<code>")
@require("admin")
def admin_field_update(code: str):
    """Numbering, daily cap, kiosk visibility, icon, names...; `counters` sets where it is served."""
    before = _existing_field(code)
    body = dict(_object(json_body(), "Lĩnh vực"))
    counters = body.pop("counters", None)
    if body.get("code", code) != code:
        raise ApiError("invalid", "Không đổi được mã lĩnh vực; hãy thêm lĩnh vực mới.", 422)

    def edit(raw: dict[str, Any]) -> None:
        for i, f in enumerate(raw["fields"]):
            if f["code"] == code:
                raw["fields"][i] = {**f, **body}
        _serve_at(raw, code, counters)

    cfg = change(edit, action="field.update", target=code, summary=f"Sửa lĩnh vực {before['name']}", before=before,
                 after={**before, **body, **({"counters": counters} if counters is not None else {})})
    return jsonify(_field_json(cfg, next(x for x in public_config(cfg)["fields"] if x["code"] == code)))


@bp.delete("/admin/fields/<code>")
@require("admin")
def admin_field_delete(code: str):
    """Refused (409) while citizens wait in it, unless `?move_to=CODE` says where they go."""
    before = _existing_field(code)
    move_to = (request.args.get("move_to") or "").strip()[:32] or None
    alone = [c.number for c in services().config.counters if c.fields == [code]]
    if alone:
        raise ApiError("counter_needs_field", f"Quầy {', '.join(map(str, alone))} chỉ phục vụ lĩnh vực này. Hãy cho "
                       "quầy phục vụ lĩnh vực khác hoặc xoá quầy trước.", 409, counters=alone)

    def edit(raw: dict[str, Any]) -> None:
        raw["fields"] = [f for f in raw["fields"] if f["code"] != code]
        for c in raw["counters"]:
            c["fields"] = [x for x in c["fields"] if x != code]
            if c.get("keypad_transfer") == code:
                c["keypad_transfer"] = ""

    summary = f"Xoá lĩnh vực {before['name']}" + (f", chuyển người đang chờ sang {move_to}" if move_to else "")
    change(edit, action="field.delete", target=code, summary=summary, before=before,
           after={"move_waiting_to": move_to} if move_to else None, move_waiting_to=move_to)
    return jsonify({"ok": True, "deleted": code, "moved_to": move_to})


# Counters ----------------------------------------------------------------------------------------
@bp.get("/admin/counters")
@require("admin")
def admin_counters():
    return jsonify({"counters": public_config(services().config)["counters"]})


def _existing_counter(n: int) -> dict[str, Any]:
    c = next((x for x in public_config(services().config)["counters"] if x["number"] == n), None)
    if c is None:
        raise ApiError("unknown_counter", f"Không có quầy số {n}.", 404)
    return c


@bp.post("/admin/counters")
@require("admin")
def admin_counter_add():
    """A new counter: `number`, `name`, `fields` (called in this order with strict_field_order)."""
    body = _object(json_body(), "Quầy")
    n = body.get("number")
    if isinstance(n, int) and services().config.counter(n) is not None:
        raise ApiError("counter_exists", f"Đã có quầy số {n}.", 409)
    cfg = change(lambda raw: raw["counters"].append(dict(body)), action="counter.add", target=f"quầy {n}",
                 summary=f"Thêm quầy {body.get('name') or n}", after=body)
    return jsonify(next(x for x in public_config(cfg)["counters"] if x["number"] == n)), 201


@bp.put("/admin/counters/<id:n>")
@require("admin")
def admin_counter_update(n: int):
    before = _existing_counter(n)
    body = _object(json_body(), "Quầy")
    if body.get("number", n) != n:
        raise ApiError("invalid", "Không đổi được số quầy; hãy thêm quầy mới.", 422)

    def edit(raw: dict[str, Any]) -> None:
        for i, c in enumerate(raw["counters"]):
            if c["number"] == n:
                raw["counters"][i] = {**c, **body}

    cfg = change(edit, action="counter.update", target=f"quầy {n}", summary=f"Sửa quầy {before['name'] or n}",
                 before=before, after={**before, **body})
    return jsonify(next(x for x in public_config(cfg)["counters"] if x["number"] == n))


@bp.delete("/admin/counters/<id:n>")
@require("admin")
def admin_counter_delete(n: int):
    """Refused (409) while the counter serves someone; staff bound to it are unbound."""
    before = _existing_counter(n)
    devices = [d.name for d in services().config.devices if d.counter == n]
    if devices:
        raise ApiError("counter_has_devices", f"Quầy {n} còn thiết bị gắn với nó ({', '.join(devices)}). Hãy gắn "
                       "các thiết bị này sang quầy khác trước.", 409, devices=devices)

    def edit(raw: dict[str, Any]) -> None:
        raw["counters"] = [c for c in raw["counters"] if c["number"] != n]
        for s in raw["staff"]:
            s["counters"] = [x for x in s["counters"] if x != n]

    change(edit, action="counter.delete", target=f"quầy {n}", summary=f"Xoá quầy {before['name'] or n}",
           before=before)
    return jsonify({"ok": True, "deleted": n})
