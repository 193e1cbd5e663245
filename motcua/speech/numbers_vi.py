"""Vietnamese number reading for call announcements.

Rules (formal Northern reading, the one used on radio and in schoolbooks):

* Digits: không một hai ba bốn năm sáu bảy tám chín; 10 is "mười", 20..90 are "X mươi".
* After "mươi" (21..91): 1 is "mốt", 4 is "tư" (or "bốn" with ``tu_for_four=False``),
  5 is "lăm". After "mười" (11..19): 1 stays "một", 4 stays "bốn", 5 is "lăm".
* An empty tens place before a units digit is "linh" (or "lẻ"): 105 một trăm linh năm.
* Numbers are read in groups of three digits: tỷ, triệu, nghìn (or "ngàn"), units.
  The leading group is read as it is (5 000 -> năm nghìn); every later group that is not
  empty is read with all three places: 1005 -> một nghìn không trăm linh năm,
  1010 -> một nghìn không trăm mười.
* An empty group (000) is not read: 1 000 001 -> một triệu không trăm linh một. With
  ``read_empty_groups=True`` an empty group between two non-empty ones is read too:
  một triệu không nghìn không trăm linh một (the schoolbook-exercise style).

num2words' Vietnamese is deliberately not used: it reads 1010 as "một nghìn lẻ mười".
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Literal

DIGIT_WORDS: tuple[str, ...] = ("không", "một", "hai", "ba", "bốn", "năm", "sáu", "bảy", "tám", "chín")

# Every word number_to_words / digits_to_words may produce.
NUMBER_VOCABULARY: frozenset[str] = frozenset(
    DIGIT_WORDS + ("mười", "mươi", "mốt", "tư", "lăm", "linh", "lẻ", "trăm", "nghìn", "ngàn", "triệu", "tỷ")
)

MAX_NUMBER = 999_999_999_999  # up to "chín trăm chín mươi chín tỷ ..."

# Vietnamese names of letters as read aloud (Bộ GD&ĐT alphabet names). A vowel whose name
# is the vowel itself is written as the capital letter, so "A012" reads "A mười hai".
# Letters outside the Vietnamese alphabet (F, J, W, Z) get their usual borrowed names.
LETTER_NAMES: dict[str, str] = {
    "A": "A", "Ă": "á", "Â": "ớ", "B": "bê", "C": "xê", "D": "dê", "Đ": "đê", "E": "E",
    "Ê": "Ê", "F": "ép", "G": "giê", "H": "hát", "I": "I", "J": "gi", "K": "ca", "L": "e-lờ",
    "M": "em-mờ", "N": "en-nờ", "O": "O", "Ô": "Ô", "Ơ": "Ơ", "P": "pê", "Q": "quy",
    "R": "e-rờ", "S": "ét-xì", "T": "tê", "U": "U", "Ư": "Ư", "V": "vê", "W": "vê kép",
    "X": "ích-xì", "Y": "i dài", "Z": "dét",
}

_TICKET_RE = re.compile(r"^\s*([^\W\d_]*)[\s.\-]?(\d+)\s*$")


@dataclass(frozen=True)
class NumberStyle:
    """How numbers are read aloud; one per office (from its announcement settings)."""

    tu_for_four: bool = True
    linh_or_le: Literal["linh", "lẻ"] = "linh"
    thousand: Literal["nghìn", "ngàn"] = "nghìn"
    read_empty_groups: bool = False

    def __post_init__(self) -> None:
        if self.linh_or_le not in ("linh", "lẻ"):
            raise ValueError(f"linh_or_le phải là 'linh' hoặc 'lẻ', không phải {self.linh_or_le!r}")
        if self.thousand not in ("nghìn", "ngàn"):
            raise ValueError(f"thousand phải là 'nghìn' hoặc 'ngàn', không phải {self.thousand!r}")


def _check_int(n: int) -> None:
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError(f"Cần một số nguyên, không phải {type(n).__name__} (an int is required)")
    if n < 0 or n > MAX_NUMBER:
        raise ValueError(f"Số {n} nằm ngoài khoảng đọc được 0..{MAX_NUMBER:,}".replace(",", " "))


def _group_words(value: int, full: bool, style: NumberStyle) -> list[str]:
    """Words for one three-digit group; ``full`` reads an empty hundreds place too."""
    hundreds, rest = divmod(value, 100)
    tens, units = divmod(rest, 10)
    out: list[str] = []
    if full or hundreds:
        out += [DIGIT_WORDS[hundreds], "trăm"]
    if tens == 0:
        if units:
            if out:
                out.append(style.linh_or_le)
            out.append(DIGIT_WORDS[units])
    elif tens == 1:
        out.append("mười")
        if units == 5:
            out.append("lăm")
        elif units:
            out.append(DIGIT_WORDS[units])
    else:
        out += [DIGIT_WORDS[tens], "mươi"]
        if units == 1:
            out.append("mốt")
        elif units == 4:
            out.append("tư" if style.tu_for_four else "bốn")
        elif units == 5:
            out.append("lăm")
        elif units:
            out.append(DIGIT_WORDS[units])
    return out


def number_words_list(n: int, style: NumberStyle | None = None) -> list[str]:
    """The words of ``n`` as a list (one word per item), e.g. 15 -> ["mười", "lăm"]."""
    _check_int(n)
    style = style or NumberStyle()
    if n == 0:
        return ["không"]
    scales = ("tỷ", "triệu", style.thousand, "")
    groups = [(n // 1000 ** (3 - i)) % 1000 for i in range(4)]
    first = next(i for i, g in enumerate(groups) if g)
    last = max(i for i, g in enumerate(groups) if g)
    words: list[str] = []
    for i in range(first, 4):
        g = groups[i]
        if g == 0:
            if style.read_empty_groups and i < last and scales[i]:
                words += ["không", scales[i]]
            continue
        words += _group_words(g, full=i > first, style=style)
        if scales[i]:
            words.append(scales[i])
    return words


def number_to_words(
    n: int,
    *,
    tu_for_four: bool = True,
    linh_or_le: Literal["linh", "lẻ"] = "linh",
    thousand: Literal["nghìn", "ngàn"] = "nghìn",
    read_empty_groups: bool = False,
) -> str:
    """Read ``n`` (0..999 999 999 999) in Vietnamese: 2024 -> "hai nghìn không trăm hai mươi tư"."""
    style = NumberStyle(tu_for_four, linh_or_le, thousand, read_empty_groups)
    return " ".join(number_words_list(n, style))


def _digit_string(digits: str | int) -> str:
    if isinstance(digits, bool):
        raise TypeError("Cần một chuỗi chữ số (a string of digits is required)")
    if isinstance(digits, int):
        _check_int(digits)
        return str(digits)
    text = str(digits).strip()
    if not text or not text.isascii() or not text.isdigit():
        raise ValueError(f"'{digits}' không phải là một dãy chữ số (not a string of digits)")
    return text


def digits_to_words(digits: str | int) -> str:
    """Read digit by digit: "1005" -> "một không không năm" (leading zeros are kept)."""
    return " ".join(DIGIT_WORDS[int(d)] for d in _digit_string(digits))


@dataclass(frozen=True)
class TicketParts:
    """A ticket number split into its letter prefix and its digits ("A012" -> "A", "012")."""

    prefix: str
    digits: str


def split_ticket_number(number: str | int) -> TicketParts:
    """Split "A012" / "A-012" / "1005" into letters and digits; ValueError if it is neither."""
    if isinstance(number, int) and not isinstance(number, bool):
        if number < 0:
            raise ValueError(f"Số thứ tự không được âm: {number}")
        return TicketParts("", str(number))
    if not isinstance(number, str):
        raise TypeError(f"Số thứ tự phải là chuỗi hoặc số nguyên, không phải {type(number).__name__}")
    text = unicodedata.normalize("NFC", number).upper()
    m = _TICKET_RE.match(text)
    if not m or any(ch not in LETTER_NAMES for ch in m.group(1)) or not m.group(2).isascii():
        raise ValueError(
            f"Số thứ tự '{number}' không hợp lệ: cần các chữ số, có thể có chữ cái đứng trước "
            "(ví dụ 1005 hoặc A012)"
        )
    return TicketParts(m.group(1), m.group(2))


def ticket_number_units(
    number: str | int,
    mode: Literal["full", "digits"] = "full",
    style: NumberStyle | None = None,
) -> list[str]:
    """Spoken units of a ticket number: each letter name is one unit, each word one unit.

    "A012" in full mode -> ["A", "mười", "hai"]; in digits mode -> ["A", "không", "một", "hai"].
    """
    if mode not in ("full", "digits"):
        raise ValueError(f"Cách đọc '{mode}' không hợp lệ: chỉ có 'full' (cả số) hoặc 'digits' (từng chữ số)")
    parts = split_ticket_number(number)
    units = [LETTER_NAMES[ch] for ch in parts.prefix]
    if mode == "digits":
        units += [DIGIT_WORDS[int(d)] for d in parts.digits]
    else:
        units += number_words_list(int(parts.digits), style)
    return units


def ticket_number_words(
    number: str | int,
    mode: Literal["full", "digits"] = "full",
    style: NumberStyle | None = None,
) -> str:
    """Read a ticket number: "1005" -> "một nghìn không trăm linh năm", "A012" -> "A mười hai".

    Letters of a prefix are read by their Vietnamese names (B -> "bê", Đ -> "đê"); in full
    mode leading zeros are dropped (A012 -> A mười hai), in digits mode every digit is read
    (A012 -> A không một hai).
    """
    return " ".join(ticket_number_units(number, mode, style))
