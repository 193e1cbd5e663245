"""Booking codes: 8 characters from an alphabet without look-alikes (no 0/O/Q/D, 1/I/L, 2/Z,
5/S, 6/G, 8/B), shown as two groups "KX4M-7TRW". A scanned QR holds the booking's page
address (".../dat-lich/KX4M7TRW"); typed codes may have spaces or the dash."""
from __future__ import annotations

import re
import secrets

ALPHABET = "ACEFHJKMNPRTUVWXY3479"
CODE_LEN = 8
_CODE_RE = re.compile(rf"[{ALPHABET}]{{{CODE_LEN}}}")
_IN_URL = re.compile(r"/dat-lich/([A-Za-z0-9-]{8,9})(?:[/?#]|$)")


def new_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LEN))


def show_code(code: str) -> str:
    return f"{code[:4]}-{code[4:]}" if len(code) == CODE_LEN else code


def normal_code(text: str | None) -> str | None:
    """The booking code in a typed text or a scanned QR (its page address), or None."""
    if not isinstance(text, str) or len(text) > 500:
        return None
    text = text.strip()
    m = _IN_URL.search(text)
    if m:
        text = m.group(1)
    code = re.sub(r"[\s\-]", "", text).upper()
    return code if _CODE_RE.fullmatch(code) else None
