"""Dossier codes (mã hồ sơ): parsing, normalising, and reading them out of scans.

A code is agency code + received date (yymmdd) + number of the day, joined by dashes:
``000.17.22.H56-210531-0001``. Agency codes vary in length (``000.302.36.H05``), so a
code is read from the right: the last two dash-separated parts are the date and the
number, everything before them is the agency.

Receipts carry the code as a barcode, or a QR code holding a lookup URL such as
``https://dichvucong.example.vn/tra-cuu?MHS=<code>``; `extract_code` reduces whatever a
scanner read to a code, or None.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from urllib.parse import parse_qsl, unquote, urlsplit

from .text import shown

__all__ = [
    "CODE_PATTERN",
    "DossierCode",
    "MAX_CODE_CHARS",
    "MAX_SCAN_CHARS",
    "QUERY_KEYS",
    "extract_code",
    "is_dossier_code",
    "normalise_code",
    "parse_dossier_code",
]

#: The documented shape of a code (domain.md). `parse_dossier_code` applies it and
#: adds a few stricter checks (real date, no empty agency segments, number > 0).
CODE_PATTERN = re.compile(r"^(?P<org>[0-9A-Z.]+)-(?P<yymmdd>\d{6})-(?P<seq>\d{4,})$")

#: Longest code accepted (real ones are about 25 characters).
MAX_CODE_CHARS = 64
#: Longest scanner reading `extract_code` looks at (after trimming).
MAX_SCAN_CHARS = 200
#: Query parameters (case-insensitive) that may hold a code in a lookup URL.
QUERY_KEYS: frozenset[str] = frozenset(
    {
        "mhs", "mahs", "mahoso", "ma_ho_so", "ma-ho-so", "sohoso", "so_ho_so",
        "hoso", "ma", "code", "dossier", "dossiercode", "dossier_code", "q",
        "keyword", "tukhoa", "id",
    }
)

_ORG_SEGMENT = re.compile(r"^[0-9A-Z]+$")
_DIGITS = re.compile(r"^\d+$")
_DASHES = dict.fromkeys(map(ord, "\u2010\u2011\u2012\u2013\u2014\u2212\ufe63\uff0d"), "-")
_EXAMPLE = "000.17.22.H56-210531-0001"
# A scanner may prefix an AIM symbology identifier such as "]C0" (Code 128) or "]Q1" (QR).
_AIM_PREFIX = re.compile(r"^\][A-Za-z][0-9A-Za-z]")
# Path tricks after URL-decoding: "..", a "." segment. Codes never hold "..".
_DOT_SEGMENT = re.compile(r"\.\.|(?:^|/)\.(?:/|$)")
_TOKEN_SPLIT = re.compile(r"[\s,;|:=<>\"'()\[\]{}]+")


@dataclass(frozen=True)
class DossierCode:
    """A parsed dossier code. ``text`` is the normalised code as printed."""

    org: str
    received_date: date
    seq: int
    text: str

    def __str__(self) -> str:
        return self.text


def normalise_code(text: str) -> str:
    """Canonical spelling of a typed or scanned code: Unicode compatibility forms
    folded (full-width digits), any kind of dash made "-", whitespace removed,
    upper case. Does not check the code; see `parse_dossier_code`."""
    text = unicodedata.normalize("NFKC", str(text)).translate(_DASHES)
    text = "".join(text.split())
    if not text.isprintable():
        text = "".join(ch for ch in text if unicodedata.category(ch) != "Cf")
    return text.upper()


def parse_dossier_code(text: str) -> DossierCode:
    """Parse a dossier code, or raise ValueError with a Vietnamese message.

    >>> parse_dossier_code("000.302.36.h05-250702-0012").org
    '000.302.36.H05'
    """
    if not isinstance(text, str):
        raise ValueError("Mã hồ sơ phải là chuỗi ký tự.")
    if len(text) > 4 * MAX_CODE_CHARS:
        raise ValueError(f"Mã hồ sơ quá dài (tối đa {MAX_CODE_CHARS} ký tự).")
    code = normalise_code(text)
    if not code:
        raise ValueError("Mã hồ sơ đang để trống.")
    if len(code) > MAX_CODE_CHARS:
        raise ValueError(f"Mã hồ sơ quá dài (tối đa {MAX_CODE_CHARS} ký tự).")
    shape = (
        f"Mã hồ sơ {shown(code)} không đúng dạng <mã cơ quan>-<ngày yymmdd>-<số thứ tự>, "
        f"ví dụ {_EXAMPLE}."
    )
    parts = code.rsplit("-", 2)
    if len(parts) != 3:
        raise ValueError(shape)
    org, yymmdd, seq_text = parts
    if not org or not yymmdd or not seq_text:
        raise ValueError(shape)
    prefix = f"Mã hồ sơ {shown(code)}:"
    if not all(_ORG_SEGMENT.match(segment) for segment in org.split(".")):
        raise ValueError(
            f"{prefix} mã cơ quan {shown(org)} không hợp lệ "
            "(chỉ gồm chữ in hoa và chữ số, các phần cách nhau bằng một dấu chấm)."
        )
    if len(yymmdd) != 6 or not _DIGITS.match(yymmdd) or not yymmdd.isascii():
        raise ValueError(f"{prefix} phần ngày tiếp nhận {shown(yymmdd)} phải gồm đúng 6 chữ số yymmdd.")
    if len(seq_text) < 4 or not _DIGITS.match(seq_text) or not seq_text.isascii():
        raise ValueError(f"{prefix} số thứ tự {shown(seq_text)} phải gồm ít nhất 4 chữ số, ví dụ 0001.")
    try:
        received = date(2000 + int(yymmdd[:2]), int(yymmdd[2:4]), int(yymmdd[4:]))
    except ValueError:
        raise ValueError(
            f"{prefix} ngày tiếp nhận {shown(yymmdd)} (yymmdd) không phải ngày có thật."
        ) from None
    seq = int(seq_text)
    if seq == 0:
        raise ValueError(f"{prefix} số thứ tự phải lớn hơn 0 (bắt đầu từ 0001).")
    # Belt and braces: whatever passed the checks above also fits the documented pattern.
    if not CODE_PATTERN.match(code):  # pragma: no cover - defensive
        raise ValueError(shape)
    return DossierCode(org=org, received_date=received, seq=seq, text=code)


def is_dossier_code(text: str) -> bool:
    """True when `parse_dossier_code` accepts *text*."""
    try:
        parse_dossier_code(text)
    except ValueError:
        return False
    return True


def _is_junk(ch: str) -> bool:
    return ch.isspace() or unicodedata.category(ch) in ("Cc", "Cf")


def _trim(text: str) -> str:
    start, end = 0, len(text)
    while start < end and _is_junk(text[start]):
        start += 1
    while end > start and _is_junk(text[end - 1]):
        end -= 1
    return text[start:end]


def _has_path_tricks(text: str) -> bool:
    decoded = text
    for _ in range(3):  # "%252e%252e" decodes twice to ".."
        if "\\" in decoded or "\x00" in decoded or _DOT_SEGMENT.search(decoded):
            return True
        if any(unicodedata.category(ch) == "Cc" for ch in decoded):
            return True
        next_decoded = unquote(decoded)
        if next_decoded == decoded:
            return False
        decoded = next_decoded
    return True  # still changing after three rounds of decoding: refuse


def _valid(candidate: str) -> str | None:
    candidate = normalise_code(candidate)
    if len(candidate) > MAX_CODE_CHARS:
        return None
    return candidate if is_dossier_code(candidate) else None


def _from_query(query: str) -> str | None:
    for key, value in parse_qsl(query, keep_blank_values=False):
        if key.strip().lower() in QUERY_KEYS:
            found = _valid(value)
            if found:
                return found
    return None


def _from_last_segment(path: str) -> str | None:
    segments = [segment for segment in path.split("/") if segment]
    if not segments:
        return None
    return _valid(unquote(segments[-1]))


def _from_url(text: str) -> str | None:
    try:
        parts = urlsplit(text)
    except ValueError:
        return None
    # Single-page apps put the route in the fragment: "#/tra-cuu?mhs=...".
    fragment_path, _, fragment_query = parts.fragment.partition("?")
    return (
        _from_query(parts.query)
        or _from_query(fragment_query)
        or _from_last_segment(parts.path)
        or _from_last_segment(fragment_path)
    )


def _from_tokens(text: str) -> str | None:
    found = {code for token in _TOKEN_SPLIT.split(text) if token and (code := _valid(token))}
    return found.pop() if len(found) == 1 else None


def extract_code(scanned: str) -> str | None:
    """Reduce what a barcode or QR code holds to a normalised dossier code, or None.

    Accepted: a bare code (any case, surrounding whitespace and control characters
    trimmed); a URL whose query (or "#/...?..." fragment) has one of `QUERY_KEYS`
    (case-insensitive, URL-decoded); a URL whose last path segment is a code; short
    text holding exactly one code ("MHS: <code>"). Refused (None): more than
    `MAX_SCAN_CHARS` characters after trimming, control characters inside, path
    tricks ("..", ".", backslashes, NUL, also when percent-encoded), anything where
    no valid code (with a real date) is found.
    """
    if not isinstance(scanned, str) or len(scanned) > 4 * MAX_SCAN_CHARS:
        return None
    text = _trim(scanned)
    text = _trim(_AIM_PREFIX.sub("", text, count=1))
    if not text or len(text) > MAX_SCAN_CHARS:
        return None
    if any(unicodedata.category(ch) in ("Cc", "Cf") for ch in text):
        return None
    if _has_path_tricks(text):
        return None
    bare = _valid(text)
    if bare:
        return bare
    if "/" in text or "?" in text or "#" in text:
        found = _from_url(text)
        if found:
            return found
        if "://" in text:
            return None
    return _from_tokens(text)
