"""Free text typed by people (pause, hold and cancel reasons, rating comments, notices, dossier
notes and apology letters): one rule for every such field, because much of it is shown on the
waiting-room screens and printed.

`FreeText(max_length, required=...)` is the pydantic type of such a field. The text is put in
NFC (a letter typed with combining accents becomes the precomposed letter, so "Nghỉ" typed
either way is the same text), every run of whitespace (new lines, tabs, no-break spaces)
becomes one space, and stray zero-width characters are dropped. Refused, with a Vietnamese
message: control characters (NUL, escape sequences, bell...), bidirectional overrides and
isolates (they reorder what the screen shows), other invisible format characters, lone
surrogates, piles of combining marks, and text made only of invisible characters. Emoji
joiners stay.
"""
from __future__ import annotations

import unicodedata
from typing import Annotated, Any

from pydantic import AfterValidator, Field
from pydantic_core import PydanticCustomError

ERROR_TYPE = "free_text"

_NEWLINES = "\t\n\r"
# Dropped silently: zero-width space, word joiner, byte order mark, soft hyphen, Mongolian vowel separator.
_DROPPED = frozenset("\u200b\u2060\ufeff\u00ad\u180e")
# Kept: zero-width joiner and non-joiner (emoji sequences, some scripts).
_JOINERS = frozenset("\u200c\u200d")
# Bidirectional embeddings, overrides, isolates and marks.
_BIDI = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c")
# Letters and symbols that print as nothing (Hangul fillers, braille blank, Khmer inherent vowels).
_BLANK_LOOKALIKES = frozenset("\u115f\u1160\u3164\uffa0\u2800\u17b4\u17b5")
MAX_COMBINING_RUN = 3  # Vietnamese needs at most 2 marks on a letter (none once in NFC)


def _refuse(message: str) -> PydanticCustomError:
    return PydanticCustomError(ERROR_TYPE, message)


def clean_free_text(value: str, *, required: bool = False) -> str:
    """The text normalised (NFC, whitespace collapsed, trimmed), or a `PydanticCustomError`
    (a ValueError) with a Vietnamese message saying what is wrong."""
    text = unicodedata.normalize("NFC", value)
    out: list[str] = []
    visible = False
    marks = 0
    for ch in text:
        if ch in _NEWLINES:
            out.append(" ")
            marks = 0
            continue
        cat = unicodedata.category(ch)
        if cat in ("Cc", "Cs"):
            raise _refuse("chứa ký tự điều khiển (như ký tự rỗng, mã thoát màn hình) không được phép")
        if ch in _BIDI:
            raise _refuse("chứa ký tự đảo chiều văn bản không được phép")
        if ch in _DROPPED:
            continue
        if cat == "Cf" and ch not in _JOINERS:
            raise _refuse("chứa ký tự định dạng vô hình không được phép")
        if cat in ("Mn", "Me"):
            marks += 1
            if marks > MAX_COMBINING_RUN:
                raise _refuse("có quá nhiều dấu chồng lên một chữ")
        else:
            marks = 0
            if cat[0] == "Z":
                ch = " "
            elif ch not in _BLANK_LOOKALIKES and ch not in _JOINERS:
                visible = True
        out.append(ch)
    result = " ".join("".join(out).split())
    if not visible:
        if any(not c.isspace() for c in text):
            raise _refuse("chỉ có ký tự vô hình, không có chữ nào")
        if required:
            raise _refuse("không được để trống")
        return ""
    return result


def _optional(value: str) -> str:
    return clean_free_text(value)


def _required(value: str) -> str:
    return clean_free_text(value, required=True)


def FreeText(max_length: int, *, required: bool = False) -> Any:  # noqa: N802 - used as a type
    """The type of a free-text field: `reason: FreeText(200, required=True)`.
    `max_length` counts the characters as sent (before whitespace is collapsed)."""
    return Annotated[str, Field(min_length=1 if required else 0, max_length=max_length),
                     AfterValidator(_required if required else _optional)]
