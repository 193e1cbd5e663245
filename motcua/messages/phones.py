"""Phone numbers of citizens: Vietnamese mobile numbers only, kept in national form
("0912345678"), shown masked everywhere ("09xx xxx 678")."""
from __future__ import annotations

import re

from ..errors import MotcuaError

# Mobile networks: 03x, 05x, 07x, 08x, 09x (10 digits). Landlines (02x) take no SMS.
_MOBILE = re.compile(r"^0[35789]\d{8}$")
BAD_PHONE = ("Số điện thoại di động không hợp lệ. Xin nhập 10 chữ số, ví dụ 0912 345 678. "
             "/ Please enter a 10-digit mobile number.")


class PhoneError(MotcuaError):
    def __init__(self, message: str = BAD_PHONE) -> None:
        super().__init__("bad_phone", message, 422)


def normalise_phone(text: object) -> str:
    """"0912 345 678", "+84 912 345 678", "84912345678" -> "0912345678"; else PhoneError."""
    if not isinstance(text, str) or len(text) > 40:
        raise PhoneError()
    raw = text.strip()
    if re.search(r"[^\d\s.+()-]", raw):
        raise PhoneError()
    digits = re.sub(r"\D", "", raw)
    if raw.startswith("+") or (digits.startswith("84") and len(digits) == 11):
        if not digits.startswith("84"):
            raise PhoneError()
        digits = "0" + digits[2:]
    if not _MOBILE.match(digits):
        raise PhoneError()
    return digits


def mask_phone(phone: str) -> str:
    """"0912345678" -> "09xx xxx 678" (what every screen and the admin page show)."""
    if len(phone) < 6:
        return "x" * len(phone)
    return f"{phone[:2]}xx xxx {phone[-3:]}"
