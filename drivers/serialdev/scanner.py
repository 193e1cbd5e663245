"""Serial barcode / QR scanners: one code per line (CR, LF or CR LF), pushed by the scanner.

A scanner cannot be polled, so only the port tells its state: ready while the port is open,
lost when it fails (USB unplugged, TCP peer gone) and while it is being reopened.
"""

from __future__ import annotations

import logging
import time
from typing import Any, Callable

from ..state import StateCallback
from .base import SerialBus
from .framing import Rejected
from .jobs import DONE, Job
from .lines import split_lines
from .settings import BusSettings, make_settings

log = logging.getLogger(__name__)

CodeListener = Callable[[str], None]
MAX_CODE = 512


def decode_code(line: bytes) -> str | None:
    """The text of one scanned line, or None when nothing printable is left.

    Scanners send ASCII, or UTF-8 for QR codes with Vietnamese text; bytes that are not
    UTF-8 are line noise (wrong baud rate) and give None. Control characters (a scanner's
    prefix/suffix such as STX/ETX, or GS) are removed, spaces at the ends too.
    """
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError:
        return None
    cleaned = "".join(ch for ch in text if ch.isprintable()).strip()
    return cleaned or None


def split_codes(buffer: bytes, max_length: int = MAX_CODE) -> tuple[list[str], list[Rejected], bytes]:
    """Cut a scanner's byte stream into codes: ``(codes, rejected, rest)``."""
    lines, too_long, rest = split_lines(buffer, max_length)
    codes: list[str] = []
    rejected = [Rejected(line, "mã quá dài") for line in too_long]
    for line in lines:
        code = decode_code(line)
        if code is None:
            rejected.append(Rejected(line, "không đọc được (sai tốc độ baud?)"))
        else:
            codes.append(code)
    return codes, rejected, rest


class SerialScanner(SerialBus):
    """``SerialScanner(url, on_code=..., on_state=..., baudrate=9600)``.

    ``code_gap`` (seconds): an unfinished line older than this is dropped as noise, or taken
    as a whole code when ``gap_ends_code`` is True (scanners set up without a suffix).
    """

    polls_devices = False

    def __init__(
        self,
        url: str,
        *,
        on_code: CodeListener | None = None,
        on_state: StateCallback | None = None,
        name: str = "scanner",
        max_code_length: int = MAX_CODE,
        code_gap: float = 0.3,
        gap_ends_code: bool = False,
        settings: BusSettings | None = None,
        **overrides: Any,
    ) -> None:
        super().__init__(url, name=name, settings=make_settings(settings, overrides),
                         on_state=on_state)
        self._on_code = on_code
        self.max_code_length = max_code_length
        self.code_gap = code_gap
        self.gap_ends_code = gap_ends_code
        self._last_rx = 0.0

    def _make_simulator(self) -> Any:
        from .sim import SimScanner

        return SimScanner()

    def _parse(self, data: bytes) -> tuple[list[str], list[Rejected], bytes]:
        return split_codes(data, self.max_code_length)

    def _receive(self, data: bytes) -> None:
        self._last_rx = time.monotonic()
        super()._receive(data)

    def _handle_frame(self, code: str) -> None:
        log.info("%s: scanned %r", self.name, code)
        self._emit(self._on_code, code)

    def _rx_idle(self) -> None:
        if time.monotonic() - self._last_rx < self.code_gap:
            return
        with self._rx_lock:
            partial = bytes(self._rx_buffer)
            self._rx_buffer.clear()
        if not partial:
            return
        code = decode_code(partial) if self.gap_ends_code else None
        if code is not None:
            self._handle_frame(code)
        else:
            log.warning("%s: dropped an unfinished line: %r", self.name, partial[:64])

    def _execute(self, job: Job) -> str:
        return DONE
