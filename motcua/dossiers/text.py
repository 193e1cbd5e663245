"""Small text helpers shared by the dossier modules.

`fold` makes Vietnamese text comparable with or without accents ("Đất đai" and
"dat dai" fold to the same string). `shown` makes an untrusted value safe and short
enough to quote inside an error message.
"""

from __future__ import annotations

import re
import unicodedata

_SPACES = re.compile(r"\s+")

#: Longest excerpt of a user's value quoted back in a message.
SHOWN_MAX_CHARS = 40


def fold(text: str) -> str:
    """Lower-case, accent-free, single-spaced form of *text* for comparisons.

    >>> fold("  Đất   ĐAI ")
    'dat dai'
    """
    decomposed = unicodedata.normalize("NFD", text)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    stripped = stripped.replace("đ", "d").replace("Đ", "D")
    return _SPACES.sub(" ", stripped).strip().casefold()


def fold_key(text: str) -> str:
    """Fold a column header to an identifier: "Mã hồ sơ" -> "ma_ho_so"."""
    folded = fold(text)
    return re.sub(r"[^0-9a-z]+", "_", folded).strip("_")


def has_control_chars(text: str) -> bool:
    """True when *text* holds a control character (Unicode category Cc)."""
    if text.isprintable():  # fast path: no Cc/Cf/Z* other than the space
        return False
    return any(unicodedata.category(ch) == "Cc" for ch in text)


def strip_format_chars(text: str) -> str:
    """Remove invisible format characters (BOM, zero-width spaces, bidi marks)."""
    if text.isprintable():
        return text
    return "".join(ch for ch in text if unicodedata.category(ch) != "Cf")


def clean_cell(text: str) -> str:
    """NFC, invisible characters removed, runs of whitespace (tabs, new lines) as
    one space, trimmed. Other control characters are left for the caller to reject."""
    if not text.isascii():
        text = strip_format_chars(unicodedata.normalize("NFC", text))
    return " ".join(text.split())


def shown(value: object, limit: int = SHOWN_MAX_CHARS) -> str:
    """Quote an untrusted value for a message: control characters replaced by "?",
    cut to *limit* characters with an ellipsis, wrapped in double quotes."""
    text = "" if value is None else str(value)
    cut = len(text) > limit
    text = text[:limit]
    if not text.isprintable():
        text = "".join(
            "?" if unicodedata.category(ch) in ("Cc", "Cf", "Cs") else ch for ch in text
        )
    return f'"{text}…"' if cut else f'"{text}"'
