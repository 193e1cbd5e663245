"""Checks of values a person typed or a client sent, in the dossier domain's words: a
dossier code (or a list of them) and a calendar day. They raise `DossierError` (codes)
or ValueError (days) with a Vietnamese message."""
from __future__ import annotations

import re
from datetime import date

from .codes import parse_dossier_code
from .errors import DossierError
from .text import shown

__all__ = ["clean_codes", "code_or_404", "parse_day"]

_DMY = re.compile(r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4})$")
_ISO = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")


def code_or_404(code: object) -> str:
    """The normalised code; DossierError 404 saying what is wrong with a malformed one."""
    if not isinstance(code, str):
        raise DossierError("invalid_code", "Mã hồ sơ phải là chuỗi ký tự.", 404)
    try:
        return parse_dossier_code(code).text
    except ValueError as exc:
        raise DossierError("invalid_code", f"Không tìm thấy hồ sơ: {exc}", 404) from None


def clean_codes(codes: object) -> list[str]:
    """Normalised, validated, de-duplicated dossier codes (order kept); DossierError 422
    with a Vietnamese message for the first bad one."""
    if not isinstance(codes, (list, tuple)):
        raise DossierError("invalid_code", "Danh sách mã hồ sơ không hợp lệ.", 422)
    out: list[str] = []
    for raw in codes:
        code = normal_code(raw)
        if code not in out:
            out.append(code)
    return out


def normal_code(raw: object) -> str:
    """One dossier code, normalised; DossierError 422 with a Vietnamese message if it is not one."""
    if not isinstance(raw, str):
        raise DossierError("invalid_code", "Mã hồ sơ phải là chuỗi ký tự.", 422)
    try:
        return parse_dossier_code(raw).text
    except ValueError as exc:
        raise DossierError("invalid_code", str(exc), 422) from None


def parse_day(text: object) -> date:
    """A calendar day from "dd/mm/yyyy" (also d/m/yyyy, dd-mm-yyyy, dd.mm.yyyy) or ISO
    "yyyy-mm-dd"; ValueError with a Vietnamese message otherwise."""
    if not isinstance(text, str) or len(text) > 32:
        raise ValueError("Ngày phải có dạng dd/mm/yyyy, ví dụ 25/12/2026.")
    value = text.strip()
    if m := _DMY.match(value):
        day, month, year = (int(g) for g in m.groups())
    elif m := _ISO.match(value):
        year, month, day = (int(g) for g in m.groups())
    else:
        raise ValueError(f"Ngày {shown(value)} phải có dạng dd/mm/yyyy, ví dụ 25/12/2026.")
    try:
        result = date(year, month, day)
    except ValueError:
        raise ValueError(f"Ngày {shown(value)} không phải ngày có thật.") from None
    if not 2000 <= result.year <= 2099:
        raise ValueError(f"Ngày {shown(value)} có năm ngoài khoảng 2000–2099.")
    return result
