"""The administrator's procedure catalogue import: POST `/api/v1/admin/procedures/import`
(CSV, XLSX or JSON as in docs/catalogue.md). All or nothing: a file with any bad row changes
nothing and answers every problem (422 `import_rejected`); a clean file becomes the office's
catalogue at once (kept as `DATA/procedures.json`, read at the next start too)."""
from __future__ import annotations

import json

from flask import current_app, jsonify, request

from motcua_runtime import run_blocking

from ..configure.live import write_atomic
from ..web.authz import current_principal, require, services
from ..web.errors import ApiError
from .blueprint import bp


def _parse(data: bytes, name: str):
    from ..catalogue import loader

    low = name.lower()
    if low.endswith(".json"):
        procedures, issues, meta = loader.parse_json(data)
        return procedures, issues, meta
    if low.endswith(".xlsx"):
        procedures, issues = loader.parse_xlsx(data)
    else:
        procedures, issues = loader.parse_csv(data)
    return procedures, issues, {}


@bp.post("/admin/procedures/import")
@require("admin")
def admin_procedures_import():
    from ..catalogue import Catalogue
    from ..catalogue.loader import CatalogueImportError, ImportIssue

    f = request.files.get("file") if (request.mimetype or "").lower() == "multipart/form-data" else None
    data = f.read() if f is not None else request.get_data(cache=False)
    name = (f.filename if f is not None else request.args.get("filename", "")) or ""
    if not data:
        raise ApiError("empty_file", "Tệp tải lên trống. Hãy chọn tệp danh mục thủ tục (CSV, XLSX hoặc JSON).", 400)
    procedures, issues, meta = run_blocking(_parse, data, name[:200])
    if not issues and not procedures:
        issues = [ImportIssue(0, "tệp không có thủ tục nào")]
    try:
        cat = Catalogue(procedures, meta) if not issues else None
    except CatalogueImportError as exc:
        issues = exc.issues
    if issues:
        n = len(issues)
        return jsonify({"error": "import_rejected", "imported": 0,
                        "message": f"Tệp có {n} lỗi nên chưa nhập thủ tục nào. Hãy sửa các dòng được liệt kê rồi "
                                   "tải lên lại.", "errors": [{"row": i.row, "message": i.message} for i in issues[:500]]}), 422
    svc = services()
    text = json.dumps({"meta": meta, "procedures": [p.to_dict() for p in procedures]}, ensure_ascii=False)
    write_atomic(svc.settings.data_dir / "procedures.json", text)
    current_app.extensions["motcua_catalogue"] = cat
    me = current_principal()
    svc.live.audit.record(who=me.name, user_id=me.user_id, action="procedures.import", target="procedures.json",
                          summary=f"Nhập danh mục thủ tục: {len(procedures)} thủ tục", after={"procedures": len(procedures)})
    return jsonify({"ok": True, "imported": len(procedures)})
