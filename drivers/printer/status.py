"""Real-time status of an ESC/POS printer (DLE EOT n), parsed from the reply bytes.

Every reply byte has bit 1 and bit 4 set and bits 0 and 7 clear (``b & 0x93 == 0x12``);
a byte of another shape is not a status reply. Bits that matter:

n = 1 printer:      0x08 offline, 0x20 waiting for online recovery, 0x40 feed button
n = 2 offline cause: 0x04 cover open, 0x08 paper fed by the button, 0x20 stopped by paper
                     end, 0x40 error
n = 3 error cause:   0x08 auto-cutter error, 0x20 unrecoverable error, 0x40 automatically
                     recoverable error (head too hot...)
n = 4 paper sensor:  0x0C paper near end, 0x60 paper end (no paper)
"""

from __future__ import annotations

from dataclasses import dataclass, replace

DLE_EOT = b"\x10\x04"
# DLE DC4 fn=8 (real-time, so it is obeyed while the printer is stopped by a fault): clear the
# receive and print buffers. The printer answers 37h 25h 00h. Sent when a ticket was caught by a
# fault, so the printer does not print it later, when the fault clears and nobody waits for it.
CLEAR_BUFFERS = b"\x10\x14\x08\x01\x03\x14\x01\x06\x02\x08"
QUERY_PRINTER = 1
QUERY_OFFLINE_CAUSE = 2
QUERY_ERROR_CAUSE = 3
QUERY_PAPER = 4

FIXED_MASK = 0x93
FIXED_VALUE = 0x12


def status_query(n: int) -> bytes:
    """The DLE EOT n command."""
    if n not in (1, 2, 3, 4):
        raise ValueError("DLE EOT n takes n = 1..4")
    return DLE_EOT + bytes((n,))


def status_byte(reply: bytes | None) -> int | None:
    """The status byte in a reply, or None when there is none (the last valid byte wins)."""
    if not reply:
        return None
    for byte in reversed(reply):
        if byte & FIXED_MASK == FIXED_VALUE:
            return byte
    return None


@dataclass(frozen=True)
class PrinterStatus:
    """What the printer said about itself.

    reachable: the link works and the printer answered (False: "mất kết nối").
    known:     False when the link cannot read status back (file, CUPS): the other
               fields are then assumptions, not reports.
    """

    online: bool = True
    cover_open: bool = False
    paper_out: bool = False
    paper_near_end: bool = False
    error: bool = False
    cutter_error: bool = False
    unrecoverable_error: bool = False
    recoverable_error: bool = False
    feed_button: bool = False
    reachable: bool = True
    known: bool = True

    @property
    def ok(self) -> bool:
        """The printer can take a job now."""
        return (
            self.reachable
            and self.online
            and not self.cover_open
            and not self.paper_out
            and not self.error
        )

    @property
    def fault(self) -> str | None:
        """A short machine-readable name of the fault that stops printing, if any."""
        if not self.reachable:
            return "disconnected"
        if self.paper_out:
            return "paper_out"
        if self.cover_open:
            return "cover_open"
        if self.cutter_error:
            return "cutter_error"
        if self.error:
            return "error"
        if not self.online:
            return "offline"
        return None

    @property
    def message_vi(self) -> str:
        """One Vietnamese sentence for the screens and the log."""
        fault = self.fault
        messages = {
            "disconnected": "Máy in mất kết nối",
            "paper_out": "Máy in hết giấy",
            "cover_open": "Máy in đang mở nắp",
            "cutter_error": "Máy in bị lỗi dao cắt giấy",
            "error": "Máy in đang báo lỗi",
            "offline": "Máy in đang tạm ngừng (ngoại tuyến)",
        }
        if fault is not None:
            return messages[fault]
        if self.paper_near_end:
            return "Máy in sắp hết giấy"
        if not self.known:
            return "Máy in sẵn sàng (không đọc được trạng thái)"
        return "Máy in sẵn sàng"


DISCONNECTED = PrinterStatus(online=False, reachable=False)
UNKNOWN = PrinterStatus(known=False)


def parse_printer_status(reply: bytes | None) -> dict[str, bool] | None:
    """DLE EOT 1 reply -> {"online", "feed_button"}; None if the reply has no status byte."""
    b = status_byte(reply)
    if b is None:
        return None
    return {"online": not b & 0x08, "feed_button": bool(b & 0x40)}


def parse_offline_cause(reply: bytes | None) -> dict[str, bool] | None:
    """DLE EOT 2 reply -> {"cover_open", "paper_out", "error", "feed_button"}."""
    b = status_byte(reply)
    if b is None:
        return None
    return {
        "cover_open": bool(b & 0x04),
        "feed_button": bool(b & 0x08),
        "paper_out": bool(b & 0x20),
        "error": bool(b & 0x40),
    }


def parse_error_cause(reply: bytes | None) -> dict[str, bool] | None:
    """DLE EOT 3 reply -> {"cutter_error", "unrecoverable_error", "recoverable_error"}."""
    b = status_byte(reply)
    if b is None:
        return None
    return {
        "cutter_error": bool(b & 0x08),
        "unrecoverable_error": bool(b & 0x20),
        "recoverable_error": bool(b & 0x40),
    }


def parse_paper_sensor(reply: bytes | None) -> dict[str, bool] | None:
    """DLE EOT 4 reply -> {"paper_near_end", "paper_out"}."""
    b = status_byte(reply)
    if b is None:
        return None
    return {"paper_near_end": bool(b & 0x0C), "paper_out": bool(b & 0x60)}


def status_from_replies(
    printer: bytes | None,
    offline_cause: bytes | None = None,
    error_cause: bytes | None = None,
    paper: bytes | None = None,
) -> PrinterStatus:
    """Combine the replies to DLE EOT 1..4 (any but the first may be None)."""
    first = parse_printer_status(printer)
    if first is None:
        return DISCONNECTED
    status = PrinterStatus(online=first["online"], feed_button=first["feed_button"])
    cause = parse_offline_cause(offline_cause)
    if cause is not None:
        status = replace(
            status,
            cover_open=cause["cover_open"],
            paper_out=cause["paper_out"],
            error=cause["error"],
            feed_button=status.feed_button or cause["feed_button"],
        )
    err = parse_error_cause(error_cause)
    if err is not None:
        status = replace(
            status,
            error=status.error or any(err.values()),
            cutter_error=err["cutter_error"],
            unrecoverable_error=err["unrecoverable_error"],
            recoverable_error=err["recoverable_error"],
        )
    sensor = parse_paper_sensor(paper)
    if sensor is not None:
        status = replace(
            status,
            paper_near_end=sensor["paper_near_end"],
            paper_out=status.paper_out or sensor["paper_out"],
        )
    return status


def encode_status(status: PrinterStatus) -> dict[int, bytes]:
    """The replies a printer in ``status`` gives to DLE EOT 1..4 (for the simulator)."""
    offline = (
        not status.online or status.cover_open or status.paper_out or status.error
    )
    b1 = FIXED_VALUE | (0x08 if offline else 0) | (0x40 if status.feed_button else 0)
    b2 = (
        FIXED_VALUE
        | (0x04 if status.cover_open else 0)
        | (0x08 if status.feed_button else 0)
        | (0x20 if status.paper_out else 0)
        | (0x40 if status.error else 0)
    )
    b3 = (
        FIXED_VALUE
        | (0x08 if status.cutter_error else 0)
        | (0x20 if status.unrecoverable_error else 0)
        | (0x40 if status.recoverable_error else 0)
    )
    b4 = (
        FIXED_VALUE
        | (0x0C if status.paper_near_end else 0)
        | (0x60 if status.paper_out else 0)
    )
    return {1: bytes((b1,)), 2: bytes((b2,)), 3: bytes((b3,)), 4: bytes((b4,))}
