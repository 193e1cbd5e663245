"""Dossier endpoints (docs/lookup.md): public lookup, second-factor check, staff list,
import, status changes, apologies, the display panels and scanned text. The work is done by
the app's `DossierStore` (`services.dossiers`); its refusals (`DossierError`, a
`MotcuaError`) reach the client through the app's one error handler."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flask import jsonify, request
from pydantic import BaseModel, ConfigDict, Field

from ..dossiers import extract_code, parse_day, parse_status
from ..dossiers.limits import LookupClient
from ..web.authz import current_principal, require, services
from ..web.errors import ApiError
from ..web.request import int_arg, json_body, parse
from ..web.text import FreeText
from .blueprint import bp

if TYPE_CHECKING:
    from ..dossiers.store import DossierStore

MAX_QUERY_CHARS = 200
MAX_SCAN_PARAM = 2_000


class VerifyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    ma_tra_cuu: str | None = Field(default=None, max_length=64)
    # The last 4 characters of the applicant's ID number (căn cước), as an alternative.
    cccd_4: str | None = Field(default=None, max_length=16)


class StatusIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    status: Any  # 9, "9" or a label; checked by parse_status
    note: FreeText(300) = ""


class ApologyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    new_due_date: str = Field(min_length=1, max_length=32)
    text: FreeText(500) = ""


def _ds() -> "DossierStore":
    return services().dossiers


def _staff_id() -> int | None:
    return current_principal().user_id


#: Whose lookups are not limited: the kiosk in the hall scans all day, staff see every dossier.
TRUSTED_LOOKUP_ROLES = ("kiosk", "staff", "admin")


def _client() -> LookupClient:
    """Who is looking up (motcua/dossiers/limits.py): a kiosk device or a staff account by its
    token, anyone else by address (behind MOTCUA_TRUSTED_PROXIES, the forwarded one: the
    app's ProxyFix sets remote_addr)."""
    p = current_principal()
    if p.role in TRUSTED_LOOKUP_ROLES:
        return LookupClient(f"device:{p.device}" if p.device else f"user:{p.user_id}", trusted=True)
    return LookupClient(f"ip:{request.remote_addr or '?'}")


# Public ---------------------------------------------------------------------------------
@bp.get("/dossiers/<code>")
def dossier_public(code: str):
    return jsonify(_ds().public(code, client=_client()))


@bp.post("/dossiers/<code>/verify")
def dossier_verify(code: str):
    body = parse(VerifyIn, json_body())
    return jsonify(_ds().verify(code, body.ma_tra_cuu, id_last4=body.cccd_4, client=_client()))


@bp.get("/dossiers/ready")
def dossiers_ready():
    limit = int_arg("limit", 50, 1, 200)
    items = _ds().ready_list(limit)
    return jsonify({"items": items, "count": len(items)})


@bp.get("/dossiers/apologies")
def dossiers_apologies():
    limit = int_arg("limit", 50, 1, 200)
    items = _ds().apology_list(limit)
    return jsonify({"items": items, "count": len(items)})


@bp.get("/lookup/scan")
def lookup_scan():
    text = request.args.get("text")
    if text is None or not text.strip():
        raise ApiError("bad_parameter", "Thiếu tham số 'text' (nội dung mã vạch hoặc mã QR đã quét).", 400)
    code = extract_code(text) if len(text) <= MAX_SCAN_PARAM else None
    if code is None:
        raise ApiError("no_dossier_code", "Không đọc được mã hồ sơ từ mã vừa quét. Mời ông/bà quét lại "
                       "mã trên Giấy tiếp nhận hồ sơ và hẹn trả kết quả hoặc nhập mã hồ sơ.", 404)
    return jsonify(_ds().public(code, client=_client()))


# Staff ----------------------------------------------------------------------------------
@bp.get("/dossiers")
@require("staff", "admin")
def dossiers_list():
    statuses: list[int] = []
    raw_status = request.args.get("status", "")
    if len(raw_status) > 100:
        raise ApiError("bad_parameter", "Tham số 'status' quá dài.", 400)
    for part in raw_status.split(","):
        if part.strip():
            try:
                statuses.append(parse_status(part))
            except ValueError as exc:
                raise ApiError("bad_parameter", f"Tham số 'status': {exc}", 400) from None
    q = request.args.get("q", "")
    if len(q) > MAX_QUERY_CHARS:
        raise ApiError("bad_parameter", f"Từ khóa tìm kiếm quá dài (tối đa {MAX_QUERY_CHARS} ký tự).", 400)
    late_raw = (request.args.get("late") or "").strip().lower()
    late: bool | None = None
    if late_raw in ("1", "true", "yes", "co"):
        late = True
    elif late_raw in ("0", "false", "no", "khong"):
        late = False
    elif late_raw:
        raise ApiError("bad_parameter", "Tham số 'late' phải là 1 hoặc 0.", 400)
    page = int_arg("page", 1, 1, 1_000_000)
    per_page = int_arg("per_page", 50, 1, 200)
    return jsonify(_ds().list_page(statuses=statuses, q=q, late=late, page=page, per_page=per_page))


@bp.post("/dossiers/import")
@require("staff", "admin")
def dossiers_import():
    data, hint = _upload()
    body = _ds().import_file(data, hint, staff_id=_staff_id())
    if body["errors"]:
        n = len(body["errors"])
        body["error"] = "import_rejected"
        body["message"] = (f"Tệp có {n} lỗi nên chưa nhập hồ sơ nào. Hãy sửa các dòng được liệt kê rồi tải lên lại."
                           if n > 1 else f"Tệp có lỗi nên chưa nhập hồ sơ nào: {body['errors'][0]['message']}")
        resp = jsonify(body)
        resp.status_code = 422
        return resp
    return jsonify(body)


def _upload() -> tuple[bytes, str]:
    """The uploaded file: a multipart field `file`, or the raw request body."""
    if (request.mimetype or "").lower() == "multipart/form-data":
        f = request.files.get("file")
        if f is None:
            raise ApiError("missing_file", "Thiếu tệp tải lên: gửi tệp CSV hoặc XLSX trong trường 'file'.", 400)
        data = f.read()
        hint = f.filename or f.mimetype or ""
    else:
        data = request.get_data(cache=False)
        hint = request.args.get("filename") or request.mimetype or ""
    if not data:
        raise ApiError("empty_file", "Tệp tải lên trống. Hãy chọn tệp CSV (UTF-8) hoặc XLSX danh sách hồ sơ.", 400)
    return data, hint[:200]


@bp.post("/dossiers/<code>/status")
@require("staff", "admin")
def dossier_status(code: str):
    body = parse(StatusIn, json_body())
    return jsonify(_ds().set_status(code, body.status, staff_id=_staff_id(), note=body.note))


@bp.post("/dossiers/<code>/apology")
@require("staff", "admin")
def dossier_apology(code: str):
    body = parse(ApologyIn, json_body())
    try:
        day = parse_day(body.new_due_date)
    except ValueError as exc:
        raise ApiError("invalid", f"new_due_date: {exc}", 422) from None
    return jsonify(_ds().record_apology(code, day, body.text, staff_id=_staff_id()))
