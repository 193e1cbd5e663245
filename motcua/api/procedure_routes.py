"""The procedure catalogue (thủ tục hành chính): search and detail."""
from __future__ import annotations

import threading

from flask import current_app, jsonify, request

from ..web.authz import services
from ..web.errors import ApiError
from ..web.request import int_arg
from .blueprint import bp

_lock = threading.Lock()


def catalogue():
    """The office's catalogue, loaded once per app (the sample, or DATA/procedures.json if present)."""
    cat = current_app.extensions.get("motcua_catalogue")
    if cat is None:
        with _lock:
            cat = current_app.extensions.get("motcua_catalogue")
            if cat is None:
                from ..catalogue import Catalogue

                svc = current_app.extensions["motcua"]
                own = svc.settings.data_dir / "procedures.json"
                cat = Catalogue.from_json(str(own)) if own.exists() else Catalogue.load_sample()
                current_app.extensions["motcua_catalogue"] = cat
    return cat


def _summary(p, score: float | None = None) -> dict:
    d = {"code": p.code, "name": p.name, "field_code": p.field_code, "field_name": p.field_name,
         "time_limit": p.time_limit, "fees": p.fees, "online": p.online}
    if score is not None:
        d["score"] = round(score, 3)
    return d


@bp.get("/procedures")
def procedures():
    q = request.args.get("q", "")
    field = request.args.get("field") or None
    limit = int_arg("limit", 20, 1, 200)
    if len(q) > 500:
        raise ApiError("query_too_long", "Từ khóa tìm kiếm quá dài (tối đa 500 ký tự).", 400)
    cat = catalogue()
    if q.strip():
        return jsonify([_summary(p, s) for p, s in cat.search(q, field=field, limit=limit)])
    items = cat.by_field(field) if field else list(cat.procedures)
    return jsonify([_summary(p) for p in items[:limit]])


@bp.get("/procedures/fields")
def procedure_fields():
    return jsonify([{"code": f.code, "name": f.name, "count": f.count} for f in catalogue().fields()])


def ticket_service(field_code: str, field_name: str) -> dict | None:
    """The office's field (queue service) that takes tickets for a catalogue field: the one
    with the same code, else the one whose name contains the catalogue field's name (accents
    and case aside: "Chứng thực" -> "Hộ tịch - Chứng thực"); never a results field. None when
    the office has no such field."""
    from ..catalogue import fold

    fields = [f for f in services().config.fields if not f.returns_results]
    match = next((f for f in fields if f.code == field_code.strip().upper()), None)
    wanted = fold(field_name or "")
    if match is None and wanted:
        match = next((f for f in fields if wanted in fold(f.name)), None)
    return {"code": match.code, "name": match.name} if match is not None else None


@bp.get("/procedures/<code>")
def procedure(code: str):
    """One procedure, and `ticket_service`: the office's field to take a number for it (or null)."""
    p = catalogue().get(code[:64])
    if p is None:
        raise ApiError("unknown_procedure", "Không tìm thấy thủ tục này.", 404)
    return jsonify({**p.to_dict(), "ticket_service": ticket_service(p.field_code, p.field_name)})
