"""Clip names: the fixed vocabulary an announcement is joined from.

Clip names are ASCII (they are file names and URL parts); each maps to the Vietnamese text
it says. Three kinds: number words, letter names (ticket prefixes), and phrases (the fixed
text of a template). A phrase's clip name is its text without tone marks, lower case, words
joined by "_": "Xin mời công dân có số thứ tự" -> "xin_moi_cong_dan_co_so_thu_tu".
"""
from __future__ import annotations

import re
import unicodedata
from types import MappingProxyType
from typing import Mapping

from .numbers_vi import LETTER_NAMES

CHIME = "chime"

# Number word -> clip name. "mười" (10) and "mươi" (the tens of 20..90) sound different.
_WORD_CLIP_NAMES: dict[str, str] = {
    "không": "khong", "một": "mot", "hai": "hai", "ba": "ba", "bốn": "bon", "năm": "nam",
    "sáu": "sau", "bảy": "bay", "tám": "tam", "chín": "chin", "mười": "muoi", "mươi": "muoi2",
    "mốt": "mot_sac", "tư": "tu", "lăm": "lam", "linh": "linh", "lẻ": "le", "trăm": "tram",
    "nghìn": "nghin", "ngàn": "ngan", "triệu": "trieu", "tỷ": "ty",
}

# Letter -> clip name: "chu_" + the letter in Telex (Đ -> dd, Ă -> aw, Ơ -> ow ...).
_TELEX = {"Đ": "dd", "Ă": "aw", "Â": "aa", "Ê": "ee", "Ô": "oo", "Ơ": "ow", "Ư": "uw"}
_LETTER_CLIP_NAMES: dict[str, str] = {
    letter: "chu_" + _TELEX.get(letter, letter.lower()) for letter in LETTER_NAMES
}

# Templates offered out of the box; their fixed phrases are part of the default library.
BUILTIN_TEMPLATES: tuple[str, ...] = (
    "Xin mời công dân có số thứ tự {number} đến quầy số {counter}",
    "Kính mời công dân có số thứ tự {number} đến quầy số {counter}",
    "Xin mời công dân số {number} đến quầy số {counter}",
    "Xin mời số {number} đến quầy số {counter}",
)

WORD_CLIPS: Mapping[str, str] = MappingProxyType({name: word for word, name in _WORD_CLIP_NAMES.items()})
LETTER_CLIPS: Mapping[str, str] = MappingProxyType(
    {_LETTER_CLIP_NAMES[letter]: spoken for letter, spoken in LETTER_NAMES.items()}
)
# The unit text (as it appears in the announcement text) -> clip name.
UNIT_CLIP_NAMES: Mapping[str, str] = MappingProxyType(
    {**_WORD_CLIP_NAMES, **{LETTER_NAMES[k]: v for k, v in _LETTER_CLIP_NAMES.items()}}
)


def phrase_clip_name(text: str) -> str:
    """ASCII clip name of a phrase: "đến quầy số" -> "den_quay_so"; "" if it has no letters."""
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).lower()
    return re.sub(r"[^a-z0-9]+", "_", bare).strip("_")


def phrase_text(text: str) -> str:
    """The spoken text of a template's literal part: trimmed of spaces and punctuation."""
    return re.sub(r"^[\W_]+|[\W_]+$", "", unicodedata.normalize("NFC", text))


def unit_clip_name(unit: str) -> str:
    """Clip name of one spoken unit of a number ("mươi" -> "muoi2", "bê" -> "chu_b")."""
    try:
        return UNIT_CLIP_NAMES[unit]
    except KeyError:
        raise ValueError(f"Không có đoạn âm thanh cho từ '{unit}' (no clip for this word)") from None
