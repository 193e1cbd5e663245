"""Plain ASCII protocol for LED counter boards that show letters (pure functions).

Host to board, one line each, ending CR LF::

    #<addr>:<text>\\r\\n     show text         e.g.  #03:A012\\r\\n
    #<addr>?\\r\\n           ask what is shown e.g.  #03?\\r\\n

``addr`` is two decimal digits 01..99; ``text`` is 0..16 characters of printable ASCII
except ``#`` (Vietnamese letters are folded to ASCII: "Quầy 3" -> "Quay 3").

Board to host (only the addressed board answers)::

    OK\\r\\n        shown
    ER\\r\\n        refused (text too long, bad characters)
    =<text>\\r\\n   answer to ``?``: what the board shows now
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

ADDR_FIRST = 1
ADDR_LAST = 99
MAX_TEXT = 16
MAX_LINE = 64


@dataclass(frozen=True)
class AsciiReply:
    kind: str  # "ok", "error", "shows"
    text: str
    raw: bytes


@dataclass(frozen=True)
class AsciiRequest:
    address: int
    query: bool
    text: str
    raw: bytes


def board_text(text: str) -> str:
    """``text`` as the board can show it: ASCII only, no ``#``, at most 16 characters."""
    folded = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    ascii_only = "".join(
        ch for ch in folded if 0x20 <= ord(ch) <= 0x7E and ch != "#"
    )
    return ascii_only.strip()[:MAX_TEXT]


def _check_addr(address: int) -> None:
    if not ADDR_FIRST <= address <= ADDR_LAST:
        raise ValueError(f"ASCII board address {address} outside {ADDR_FIRST}..{ADDR_LAST}")


def show_line(address: int, text: str) -> bytes:
    _check_addr(address)
    return f"#{address:02d}:{board_text(text)}\r\n".encode("ascii")


def query_line(address: int) -> bytes:
    _check_addr(address)
    return f"#{address:02d}?\r\n".encode("ascii")


def parse_reply(line: bytes) -> AsciiReply | None:
    """A board's answer line (without CR LF), or None for anything else (echo, noise)."""
    try:
        text = line.decode("ascii")
    except UnicodeDecodeError:
        return None
    if text == "OK":
        return AsciiReply("ok", "", line)
    if text == "ER":
        return AsciiReply("error", "", line)
    if text.startswith("="):
        return AsciiReply("shows", text[1:], line)
    return None


def parse_request(line: bytes) -> AsciiRequest | None:
    """A host line (without CR LF) as a board reads it, or None if malformed."""
    try:
        text = line.decode("ascii")
    except UnicodeDecodeError:
        return None
    if len(text) < 4 or text[0] != "#" or not text[1:3].isdigit():
        return None
    address = int(text[1:3])
    if text[3] == "?" and len(text) == 4:
        return AsciiRequest(address, True, "", line)
    if text[3] == ":":
        return AsciiRequest(address, False, text[4:], line)
    return None
