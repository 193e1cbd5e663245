"""SMS-SUBMIT PDUs (3GPP TS 23.040) with UCS-2 text, for ``AT+CMGF=0`` (PDU mode).

Vietnamese needs UCS-2 (data coding scheme 0x08): the GSM 7-bit alphabet has no "ă", "ơ",
"ư" or tone marks. One SMS carries 140 octets = 70 UCS-2 characters; a longer text goes in
parts of 67 characters, each with a concatenation header (IEI 0x00: reference, total, index)
that the phone uses to join them back. Text is normalised to NFC first (one code point per
letter with its marks, as phones expect) and a part never splits a surrogate pair.

``encode_submit(number, text, ref)`` -> the parts as ``(tpdu_octets, hex)``: what
``AT+CMGS=<tpdu_octets>`` and the hex after its ``>`` prompt need. ``decode_submit(hex)``
reads one back (the simulated modem does, and the tests).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

SINGLE_CHARS = 70  # UCS-2 characters in one SMS (140 octets)
PART_CHARS = 67  # in one part of a concatenated SMS (140 - 6 octets of header)
MAX_PARTS = 8  # longer texts are refused (a message to a citizen is a few lines)
DCS_UCS2 = 0x08
VALIDITY_4_DAYS = 0xAA


class PduError(ValueError):
    """A number or text that cannot be sent (Vietnamese message)."""


@dataclass(frozen=True)
class SubmitPdu:
    number: str  # "+84912345678" (international) or as dialled
    text: str
    ref: int | None = None  # concatenation reference; None for a single SMS
    total: int = 1
    index: int = 1


def normalise_text(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def split_parts(text: str) -> list[str]:
    """The text (NFC) in the pieces one SMS each carries."""
    text = normalise_text(text)
    units = _utf16_units(text)
    if len(units) <= SINGLE_CHARS:
        return [text]
    parts: list[str] = []
    chunk: list[str] = []
    size = 0
    for ch in text:
        width = 2 if ord(ch) > 0xFFFF else 1
        if size + width > PART_CHARS:
            parts.append("".join(chunk))
            chunk, size = [], 0
        chunk.append(ch)
        size += width
    if chunk:
        parts.append("".join(chunk))
    if len(parts) > MAX_PARTS:
        raise PduError(f"Tin nhắn quá dài ({len(parts)} phần, tối đa {MAX_PARTS}).")
    return parts


def encode_submit(number: str, text: str, ref: int = 0) -> list[tuple[int, str]]:
    """Every part of ``text`` to ``number`` as ``(tpdu_octets, hex)``."""
    addr = _address(number)
    parts = split_parts(text)
    out: list[tuple[int, str]] = []
    total = len(parts)
    for i, part in enumerate(parts, start=1):
        body = part.encode("utf-16-be")
        if total > 1:
            udh = bytes([0x05, 0x00, 0x03, ref & 0xFF, total, i])
            first, ud = 0x51, udh + body
        else:
            first, ud = 0x11, body
        tpdu = bytes([first, 0x00]) + addr + bytes([0x00, DCS_UCS2, VALIDITY_4_DAYS, len(ud)]) + ud
        out.append((len(tpdu), ("00" + tpdu.hex()).upper()))
    return out


def decode_submit(hex_text: str) -> SubmitPdu:
    """One SMS-SUBMIT PDU (with its SMSC prefix) back to number and text."""
    try:
        data = bytes.fromhex(hex_text.strip())
    except ValueError as exc:
        raise PduError(f"PDU không hợp lệ: {exc}") from None
    try:
        pos = 1 + data[0]  # skip the SMSC information
        first = data[pos]
        pos += 2  # first octet, message reference
        digits = data[pos]
        toa = data[pos + 1]
        n_octets = (digits + 1) // 2
        number = _bcd_digits(data[pos + 2:pos + 2 + n_octets])[:digits]
        if toa == 0x91:
            number = "+" + number
        pos += 2 + n_octets
        pos += 1  # protocol identifier
        dcs = data[pos]
        pos += 1
        vpf = (first >> 3) & 0x03
        pos += {0: 0, 2: 1}.get(vpf, 7)
        udl = data[pos]
        ud = data[pos + 1:pos + 1 + udl]
        if len(ud) != udl:
            raise PduError("PDU ngắn hơn độ dài đã khai")
        ref, total, index = None, 1, 1
        if first & 0x40:
            hlen = ud[0]
            header = ud[1:1 + hlen]
            if len(header) >= 5 and header[0] == 0x00 and header[1] == 3:
                ref, total, index = header[2], header[3], header[4]
            ud = ud[1 + hlen:]
        if dcs != DCS_UCS2:
            raise PduError(f"bảng mã dữ liệu {dcs:#04x} (chỉ hỗ trợ UCS-2)")
        return SubmitPdu(number, ud.decode("utf-16-be"), ref, total, index)
    except IndexError:
        raise PduError("PDU bị cắt cụt") from None


def international(number: str) -> str:
    """A Vietnamese number in international form without '+': "0912345678" -> "84912345678"."""
    digits = "".join(ch for ch in number if ch.isdigit())
    if number.strip().startswith("+"):
        return digits
    if digits.startswith("0"):
        return "84" + digits[1:]
    return digits


def _address(number: str) -> bytes:
    digits = international(number)
    if not 3 <= len(digits) <= 20:
        raise PduError(f"Số điện thoại không hợp lệ: {number!r}")
    padded = digits + ("F" if len(digits) % 2 else "")
    swapped = "".join(padded[i + 1] + padded[i] for i in range(0, len(padded), 2))
    return bytes([len(digits), 0x91]) + bytes.fromhex(swapped)


def _bcd_digits(octets: bytes) -> str:
    out = []
    for b in octets:
        for nib in (b & 0x0F, b >> 4):
            if nib < 10:
                out.append(str(nib))
    return "".join(out)


def _utf16_units(text: str) -> list[int]:
    raw = text.encode("utf-16-be")
    return [int.from_bytes(raw[i:i + 2], "big") for i in range(0, len(raw), 2)]
