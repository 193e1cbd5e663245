"""Call announcements: the sentence a display speaks, and the clips that say it."""
from __future__ import annotations

import re
import string
from dataclasses import dataclass
from typing import Literal

from .numbers_vi import NumberStyle, ticket_number_units
from .vocabulary import CHIME, phrase_clip_name, phrase_text, unit_clip_name

DEFAULT_TEMPLATE = "Xin mời công dân có số thứ tự {number} đến quầy số {counter}"
PLACEHOLDERS: tuple[str, ...] = ("number", "counter")

ReadingMode = Literal["full", "digits"]


@dataclass(frozen=True)
class _Piece:
    literal: str
    field: str | None


def _parse_template(template: str) -> list[_Piece]:
    if not isinstance(template, str) or not template.strip():
        raise ValueError("Mẫu câu thông báo không được để trống")
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as exc:
        raise ValueError(
            f"Mẫu câu thông báo sai cú pháp ({exc}); dấu ngoặc nhọn chỉ dùng cho "
            "{number} và {counter}, viết {{ hoặc }} nếu cần in dấu ngoặc"
        ) from None
    pieces: list[_Piece] = []
    seen: set[str] = set()
    for literal, field, spec, conversion in parsed:
        if field is not None:
            if field not in PLACEHOLDERS:
                shown = "{" + field + "}" if field else "{}"
                raise ValueError(
                    f"Mẫu câu thông báo có chỗ trống không hợp lệ {shown}; chỉ dùng được "
                    "{number} (số thứ tự) và {counter} (số quầy)"
                )
            if spec or conversion:
                raise ValueError(
                    f"Chỗ trống {{{field}}} trong mẫu câu không được có định dạng hay chuyển đổi "
                    "(':' hoặc '!')"
                )
            seen.add(field)
        pieces.append(_Piece(literal, field))
    if "number" not in seen:
        raise ValueError("Mẫu câu thông báo phải có chỗ trống {number} cho số thứ tự")
    return pieces


def validate_template(template: str) -> None:
    """Raise ValueError (Vietnamese message) unless ``template`` is a usable announcement."""
    _parse_template(template)


def template_phrases(template: str) -> list[str]:
    """The fixed phrases of a template, as spoken (the clip library needs one clip each)."""
    return [p for p in (phrase_text(piece.literal) for piece in _parse_template(template)) if p]


def _units(value: str | int, mode: ReadingMode, style: NumberStyle | None, what: str) -> list[str]:
    try:
        return ticket_number_units(value, mode, style)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"Không đọc được {what}: {exc}") from None


def _field_units(
    field: str, number: str | int, counter: int | str,
    number_mode: ReadingMode, counter_mode: ReadingMode, style: NumberStyle | None,
) -> list[str]:
    if field == "number":
        return _units(number, number_mode, style, "số thứ tự")
    return _units(counter, counter_mode, style, "số quầy")


def announcement_text(
    number: str | int,
    counter: int | str,
    *,
    template: str = DEFAULT_TEMPLATE,
    number_mode: ReadingMode = "full",
    counter_mode: ReadingMode = "full",
    style: NumberStyle | None = None,
) -> str:
    """The sentence for a call, numbers in words.

    >>> announcement_text("1005", 3)
    'Xin mời công dân có số thứ tự một nghìn không trăm linh năm đến quầy số ba'
    """
    pieces = _parse_template(template)
    out: list[str] = []
    for piece in pieces:
        out.append(piece.literal)
        if piece.field:
            out.append(" ".join(_field_units(piece.field, number, counter, number_mode, counter_mode, style)))
    return re.sub(r"\s+", " ", "".join(out)).strip()


def announcement_clips(
    number: str | int,
    counter: int | str,
    *,
    template: str = DEFAULT_TEMPLATE,
    number_mode: ReadingMode = "full",
    counter_mode: ReadingMode = "full",
    style: NumberStyle | None = None,
    chime: bool = False,
) -> list[str]:
    """Clip names, in order, that say :func:`announcement_text` (with ``chime``: chime first).

    >>> announcement_clips("15", 2)
    ['xin_moi_cong_dan_co_so_thu_tu', 'muoi', 'lam', 'den_quay_so', 'hai']
    """
    pieces = _parse_template(template)
    clips: list[str] = [CHIME] if chime else []
    for piece in pieces:
        name = phrase_clip_name(phrase_text(piece.literal))
        if name:
            clips.append(name)
        if piece.field:
            units = _field_units(piece.field, number, counter, number_mode, counter_mode, style)
            clips += [unit_clip_name(u) for u in units]
    return clips
