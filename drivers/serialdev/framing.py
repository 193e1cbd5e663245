"""The framed ASCII protocol shared by counter keypads and rating boxes (pure functions).

One frame, byte by byte (docs/hardware-serial.md has worked examples)::

    STX  addr-hi addr-lo  cmd  payload...  ETX  sum-hi sum-lo
    02   '0'..'F' x2      1    0..32       03   '0'..'F' x2

* ``addr``: the device address as two upper-case hex digits (``"01"`` .. ``"FF"``).
* ``cmd``: one printable ASCII letter (see :mod:`.counter_protocol`).
* ``payload``: 0..32 printable ASCII bytes (0x20..0x7E), so STX and ETX never occur inside.
* ``sum``: XOR of every byte from the first address digit up to and including ETX, as two
  upper-case hex digits.

:func:`split_frames` cuts a byte stream into frames, rejecting noise, bad checksums and
over-long frames without ever raising; it returns what could not be decided yet, so a
reader can feed it chunk by chunk.
"""

from __future__ import annotations

from dataclasses import dataclass

STX = 0x02
ETX = 0x03
MAX_PAYLOAD = 32
#: STX + 2 address digits + command + payload + ETX + 2 checksum digits
MAX_FRAME = 1 + 2 + 1 + MAX_PAYLOAD + 1 + 2
MIN_FRAME = 1 + 2 + 1 + 1 + 2

_HEX = b"0123456789ABCDEF"


class FrameError(ValueError):
    """Bytes that are not one well-formed frame."""


@dataclass(frozen=True)
class Frame:
    """One checked frame: address, command letter, payload text and the exact bytes."""

    address: int
    command: str
    payload: str
    raw: bytes


@dataclass(frozen=True)
class Rejected:
    """Bytes dropped from a stream, with the reason (for the log)."""

    raw: bytes
    reason: str


def checksum(body: bytes) -> int:
    """XOR of ``body`` (the bytes from the first address digit through ETX)."""
    value = 0
    for byte in body:
        value ^= byte
    return value


def _printable(text: str) -> bool:
    return all(0x20 <= ord(ch) <= 0x7E for ch in text)


def encode_frame(address: int, command: str, payload: str = "") -> bytes:
    """The bytes of one frame to ``address``."""
    if not 0 <= address <= 0xFF:
        raise ValueError(f"address {address} outside 0..255")
    if len(command) != 1 or not ("A" <= command <= "Z" or "a" <= command <= "z"):
        raise ValueError(f"command must be one ASCII letter, not {command!r}")
    if len(payload) > MAX_PAYLOAD or not _printable(payload):
        raise ValueError(f"payload must be 0..{MAX_PAYLOAD} printable ASCII characters")
    body = f"{address:02X}{command}{payload}".encode("ascii") + bytes([ETX])
    return bytes([STX]) + body + f"{checksum(body):02X}".encode("ascii")


def decode_frame(raw: bytes) -> Frame:
    """Check and decode exactly one frame; raise :class:`FrameError` with the reason."""
    if len(raw) < MIN_FRAME or len(raw) > MAX_FRAME:
        raise FrameError(f"độ dài khung sai ({len(raw)} byte)")
    if raw[0] != STX or raw[-3] != ETX:
        raise FrameError("thiếu STX/ETX")
    body = raw[1:-2]
    digits = raw[-2:]
    if any(d not in _HEX for d in digits) or int(digits, 16) != checksum(body):
        raise FrameError(f"sai tổng kiểm tra (nhận {digits!r}, tính {checksum(body):02X})")
    addr_digits = body[0:2]
    if any(d not in _HEX for d in addr_digits):
        raise FrameError(f"địa chỉ không phải hex: {addr_digits!r}")
    command = chr(body[2])
    if not command.isascii() or not command.isalpha():
        raise FrameError(f"lệnh không hợp lệ: {command!r}")
    payload_bytes = body[3:-1]
    if any(not 0x20 <= b <= 0x7E for b in payload_bytes):
        raise FrameError("dữ liệu chứa ký tự điều khiển")
    return Frame(int(addr_digits, 16), command, payload_bytes.decode("ascii"), bytes(raw))


def split_frames(buffer: bytes) -> tuple[list[Frame], list[Rejected], bytes]:
    """Cut ``buffer`` into frames.

    Returns ``(frames, rejected, rest)``: the good frames in order, the dropped bytes with
    reasons, and the tail that may still become a frame once more bytes arrive (always
    starting with STX, never longer than one frame).
    """
    frames: list[Frame] = []
    rejected: list[Rejected] = []
    i = 0
    n = len(buffer)
    while i < n:
        start = buffer.find(bytes([STX]), i)
        if start < 0:
            rejected.append(Rejected(bytes(buffer[i:]), "nhiễu ngoài khung"))
            return frames, rejected, b""
        if start > i:
            rejected.append(Rejected(bytes(buffer[i:start]), "nhiễu ngoài khung"))
        etx = buffer.find(bytes([ETX]), start + 1, start + MAX_FRAME - 2)
        next_stx = buffer.find(bytes([STX]), start + 1, etx if etx >= 0 else start + MAX_FRAME)
        if next_stx >= 0:
            # A new frame began before this one ended: the first one was cut off.
            rejected.append(Rejected(bytes(buffer[start:next_stx]), "khung bị cắt"))
            i = next_stx
            continue
        if etx < 0:
            if n - start >= MAX_FRAME - 2:
                rejected.append(Rejected(bytes(buffer[start:start + 1]), "khung quá dài"))
                i = start + 1
                continue
            return frames, rejected, bytes(buffer[start:])
        end = etx + 3
        if end > n:
            return frames, rejected, bytes(buffer[start:])
        raw = bytes(buffer[start:end])
        try:
            frames.append(decode_frame(raw))
            i = end
        except FrameError as exc:
            rejected.append(Rejected(raw, str(exc)))
            i = end
    return frames, rejected, b""
