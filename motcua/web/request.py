"""Reading request bodies and parameters safely, with Vietnamese messages for every mistake."""
from __future__ import annotations

import json
from typing import Any, TypeVar

from flask import request
from pydantic import BaseModel, ValidationError

from .errors import ApiError

M = TypeVar("M", bound=BaseModel)

_TYPE_MESSAGES = {
    "missing": "thiếu trường bắt buộc",
    "string_type": "phải là chuỗi ký tự",
    "int_type": "phải là số nguyên",
    "int_parsing": "phải là số nguyên",
    "int_from_float": "phải là số nguyên",
    "bool_type": "phải là true hoặc false",
    "list_type": "phải là danh sách",
    "literal_error": "giá trị không được chấp nhận",
    "string_too_long": "quá dài",
    "string_too_short": "quá ngắn",
    "extra_forbidden": "trường không được hỗ trợ",
    "greater_than_equal": "quá nhỏ",
    "less_than_equal": "quá lớn",
    "too_long": "quá nhiều phần tử",
    "string_pattern_mismatch": "không đúng định dạng",
}


def ticket_url(config: Any, token: str) -> str:
    """The address a ticket's QR code points to: the office's `base_url`, else the scheme
    and host this request came to (what the kiosk itself used to reach the server)."""
    base = config.office.base_url.rstrip("/") or f"{request.scheme}://{request.host}"
    return f"{base}/t/{token}"


def json_body(optional: bool = False) -> dict[str, Any]:
    """The request's JSON object. Empty body -> {} when optional."""
    raw = request.get_data(cache=True)
    if not raw.strip():
        if optional:
            return {}
        raise ApiError("empty_body", "Thiếu dữ liệu JSON trong yêu cầu.", 400)
    ctype = (request.mimetype or "").lower()
    if ctype and ctype != "application/json" and not ctype.endswith("+json"):
        raise ApiError(status=415)
    try:
        data = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ApiError("bad_encoding", "Dữ liệu phải được mã hóa UTF-8.", 400) from None
    except json.JSONDecodeError as exc:
        raise ApiError("bad_json", f"JSON không hợp lệ (dòng {exc.lineno}, cột {exc.colno}).", 400) from None
    if not isinstance(data, dict):
        raise ApiError("bad_json", "Dữ liệu JSON phải là một đối tượng {...}.", 400)
    return data


def parse(model: type[M], data: dict[str, Any]) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = []
        for e in exc.errors():
            loc = ".".join(str(p) for p in e["loc"]) or "(dữ liệu)"
            problems.append(f"{loc}: {_TYPE_MESSAGES.get(e['type'], 'không hợp lệ')}")
        raise ApiError("invalid", "Dữ liệu không hợp lệ: " + "; ".join(problems[:5]) + ".", 422,
                       fields=[{"field": ".".join(str(p) for p in e["loc"]), "problem": _TYPE_MESSAGES.get(e["type"], e["type"])}
                               for e in exc.errors()[:20]]) from None


def int_arg(name: str, default: int, lo: int, hi: int) -> int:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    try:
        v = int(raw)
    except ValueError:
        raise ApiError("bad_parameter", f"Tham số '{name}' phải là số nguyên.", 400) from None
    if not lo <= v <= hi:
        raise ApiError("bad_parameter", f"Tham số '{name}' phải từ {lo} đến {hi}.", 400)
    return v
