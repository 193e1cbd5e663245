"""Masking personal data shown on public screens (kiosk, lookup API).

Names keep the family name and show initials for the rest ("Nguyễn Văn An" ->
"Nguyễn V. A."); phone numbers keep the last 3 digits; ID numbers show nothing unless
the last 4 digits are asked for. `id_last4_matches` checks a typed last-4 second factor
in constant time.
"""

from __future__ import annotations

import hmac
import unicodedata

__all__ = ["id_last4_matches", "mask_id", "mask_name", "mask_phone"]

#: Words of a name looked at; anything beyond is dropped (a name is 2..5 words).
MAX_NAME_WORDS = 8
MASK_CHAR = "*"


def _words(name: str) -> list[str]:
    text = unicodedata.normalize("NFC", name)
    text = "".join(ch for ch in text if unicodedata.category(ch)[0] != "C")
    return text.split()[:MAX_NAME_WORDS]


def _capitalise(word: str) -> str:
    return word[:1].upper() + word[1:].lower()


def mask_name(name: str | None) -> str:
    """Family name in full, initials for the other words.

    >>> mask_name("nguyễn  văn an")
    'Nguyễn V. A.'
    >>> mask_name("đặng thị ánh")
    'Đặng T. Á.'

    A one-word name shows its initial only ("An" -> "A."), so a name is never shown
    whole. Empty or missing input gives "".
    """
    if not isinstance(name, str):
        return ""
    words = _words(name)
    if not words:
        return ""
    if len(words) == 1:
        return f"{words[0][:1].upper()}."
    family, rest = words[0], words[1:]
    initials = " ".join(f"{word[:1].upper()}." for word in rest)
    return f"{_capitalise(family)} {initials}"


def _digits(value: str) -> str:
    return "".join(ch for ch in unicodedata.normalize("NFKC", value) if ch.isascii() and ch.isdigit())


def mask_phone(phone: str | None, visible: int = 3) -> str:
    """Digits only, all but the last *visible* masked: "0912 345 678" -> "*******678".
    Numbers with fewer than 7 digits are masked entirely."""
    if not isinstance(phone, str):
        return ""
    digits = _digits(phone)
    if not digits:
        return ""
    if len(digits) < 7 or visible <= 0:
        return MASK_CHAR * len(digits)
    visible = min(visible, 4)
    return MASK_CHAR * (len(digits) - visible) + digits[-visible:]


def mask_id(id_number: str | None, *, show_last4: bool = False) -> str:
    """An ID number (CCCD, CMND, passport) masked: "************" by default, or
    "********2345" with *show_last4*. Numbers of 6 characters or fewer are always
    masked entirely."""
    if not isinstance(id_number, str):
        return ""
    text = "".join(ch for ch in unicodedata.normalize("NFKC", id_number) if ch.isalnum())
    if not text:
        return ""
    if not show_last4 or len(text) <= 6:
        return MASK_CHAR * len(text)
    return MASK_CHAR * (len(text) - 4) + text[-4:]


def id_last4_matches(id_number: str | None, given: str | None) -> bool:
    """True when *given* (what the citizen typed) equals the last 4 characters of
    *id_number*, compared in constant time; spaces ignored, case-insensitive."""
    if not isinstance(id_number, str) or not isinstance(given, str):
        return False
    stored = "".join(ch for ch in unicodedata.normalize("NFKC", id_number) if ch.isalnum()).upper()
    typed = "".join(ch for ch in unicodedata.normalize("NFKC", given) if ch.isalnum()).upper()
    if len(stored) < 4 or len(typed) != 4:
        return False
    return hmac.compare_digest(stored[-4:].encode(), typed.encode())
