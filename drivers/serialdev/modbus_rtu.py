"""Modbus-RTU frames for LED digit boards (pure functions).

Requests are built with pymodbus' own PDU classes and RTU framer
(``WriteSingleRegisterRequest``, ``ReadHoldingRegistersRequest``, ``FramerRTU``), so the
bytes are the library's; :func:`crc16_modbus` is an independent implementation used to
check every frame that comes back and by the simulated boards.

Why not ``pymodbus.client.ModbusSerialClient``? It does accept pyserial URLs (it opens its
port with ``serial.serial_for_url``, so ``socket://`` and ``loop://`` work), but it is a
blocking request/response client that owns its port and its own reconnection. Here one
long-lived bus object owns the port with a reader and a writer thread (:mod:`.base`), so
only pymodbus' frame building is used.

Showing 15 on unit 1 (function 06, register 0): ``01 06 00 00 00 0F C9 CE``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pymodbus.framer import FramerRTU
from pymodbus.pdu import DecodePDU
from pymodbus.pdu.register_message import (
    ReadHoldingRegistersRequest,
    WriteSingleRegisterRequest,
)

from .framing import Rejected

READ_HOLDING = 0x03
WRITE_SINGLE = 0x06
WRITE_MULTIPLE = 0x10
MAX_RTU_FRAME = 256
UNIT_FIRST = 1
UNIT_LAST = 247

EXCEPTION_TEXT_VI = {
    1: "chức năng không được hỗ trợ",
    2: "địa chỉ thanh ghi không hợp lệ",
    3: "giá trị không hợp lệ",
    4: "lỗi thiết bị",
}


@dataclass(frozen=True)
class RtuFrame:
    """One RTU frame whose CRC checked: unit, function code, data (without CRC), raw bytes."""

    unit: int
    function: int
    data: bytes
    raw: bytes


def crc16_modbus(data: bytes) -> int:
    """CRC-16/MODBUS (poly 0xA001 reflected, init 0xFFFF). Sent low byte first."""
    crc = 0xFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
    return crc


def with_crc(body: bytes) -> bytes:
    """``body`` followed by its CRC, low byte first."""
    return bytes(body) + crc16_modbus(body).to_bytes(2, "little")


def crc_ok(frame: bytes) -> bool:
    return len(frame) >= 4 and crc16_modbus(frame[:-2]) == int.from_bytes(frame[-2:], "little")


def _framer() -> FramerRTU:
    return FramerRTU(DecodePDU(is_server=False))


def write_register_frame(unit: int, register: int, value: int) -> bytes:
    """Function 06 request: write ``value`` into holding ``register`` of ``unit``."""
    _check_unit(unit)
    if not 0 <= value <= 0xFFFF or not 0 <= register <= 0xFFFF:
        raise ValueError("register and value must fit in 16 bits")
    pdu = WriteSingleRegisterRequest(address=register, registers=[value], dev_id=unit)
    return _framer().buildFrame(pdu)


def read_registers_frame(unit: int, register: int, count: int = 1) -> bytes:
    """Function 03 request: read ``count`` holding registers from ``register``."""
    _check_unit(unit)
    pdu = ReadHoldingRegistersRequest(address=register, count=count, dev_id=unit)
    return _framer().buildFrame(pdu)


def _check_unit(unit: int) -> None:
    if not UNIT_FIRST <= unit <= UNIT_LAST:
        raise ValueError(f"Modbus unit id {unit} outside {UNIT_FIRST}..{UNIT_LAST}")


def _frame_length(buf: bytes, pos: int, role: str) -> int:
    """Length of the frame starting at ``pos`` (0: unknown / not enough bytes to tell)."""
    if len(buf) - pos < 2:
        return 0
    function = buf[pos + 1]
    if role == "response":
        if function & 0x80:
            return 5
        if function in (1, 2, 3, 4):
            return 5 + buf[pos + 2] if len(buf) - pos >= 3 else 0
        if function in (5, 6, 15, 16):
            return 8
        return 0
    if function in (1, 2, 3, 4, 5, 6):
        return 8
    if function in (15, 16):
        return 9 + buf[pos + 6] if len(buf) - pos >= 7 else 0
    return 0


def split_rtu(buffer: bytes, role: str) -> tuple[list[RtuFrame], list[Rejected], bytes]:
    """Cut a byte stream into RTU frames (``role``: "request" or "response").

    RTU has no delimiters: at each position the length implied by the function code is
    tried and kept only if the CRC matches. Bytes before a good frame are rejected as noise;
    the tail that may still grow into a frame is returned (a reader drops it when the line
    stays quiet, as the 3.5-character gap of RTU says a frame has ended).
    """
    if role not in ("request", "response"):
        raise ValueError("role must be 'request' or 'response'")
    frames: list[RtuFrame] = []
    rejected: list[Rejected] = []
    i = 0
    n = len(buffer)
    while i < n:
        found = -1
        length = 0
        for j in range(i, n - 3):
            length = _frame_length(buffer, j, role)
            if length and j + length <= n and crc_ok(buffer[j:j + length]):
                found = j
                break
        if found < 0:
            break
        if found > i:
            rejected.append(Rejected(bytes(buffer[i:found]), "nhiễu hoặc sai CRC"))
        raw = bytes(buffer[found:found + length])
        frames.append(RtuFrame(raw[0], raw[1], raw[2:-2], raw))
        i = found + length
    rest = bytes(buffer[i:])
    if len(rest) > MAX_RTU_FRAME:
        rejected.append(Rejected(rest[:-MAX_RTU_FRAME], "nhiễu hoặc sai CRC"))
        rest = rest[-MAX_RTU_FRAME:]
    return frames, rejected, rest


def modbus_value_for(text: str, max_digits: int = 4) -> int:
    """The register value that shows ``text`` on a digits-only board.

    Only the digits count: ``"1005"`` -> 1005, ``"A012"`` -> 12 (the letter cannot be
    shown), ``""`` -> 0. More digits than the board has keep the last ``max_digits``.
    """
    digits = "".join(re.findall(r"[0-9]", text))
    if not digits:
        return 0
    return min(int(digits[-max_digits:]), 0xFFFF)


def parse_read_response(frame: RtuFrame) -> list[int]:
    """Register values from a function 03 answer (``ValueError`` if malformed)."""
    if frame.function != READ_HOLDING or not frame.data or frame.data[0] != len(frame.data) - 1:
        raise ValueError("not a read-holding-registers answer")
    body = frame.data[1:]
    return [int.from_bytes(body[k:k + 2], "big") for k in range(0, len(body) - 1, 2)]


def exception_code(frame: RtuFrame) -> int | None:
    """The exception code when ``frame`` is an exception answer, else None."""
    if frame.function & 0x80 and frame.data:
        return frame.data[0]
    return None
