"""Printing to a printer installed in Windows (its driver set to "Generic / Text Only" or the
maker's ESC/POS driver), through python-escpos's `Win32Raw` (needs pywin32).

URL: `win32://` (the default printer) or `win32://NAME` (spaces as %20, e.g.
`win32://EPSON%20TM-T82III%20Receipt`). Each print job is one spooler document. The spooler
cannot tell paper-out or cover-open back, so the status is not polled: a fault shows as jobs
staying in the Windows print queue. Imported only when a win32:// URL is configured, so the
agent (and the tests) run on Debian without pywin32.
"""
from __future__ import annotations

from typing import Any
from urllib.parse import unquote, urlsplit

from drivers.printer.transport import Transport, TransportError


class Win32Transport(Transport):
    can_read = False

    def __init__(self, url: str):
        self.url = url
        parts = urlsplit(url)
        self.printer_name = unquote((parts.netloc + parts.path).strip("/"))
        self._p: Any = None
        self._doc_open = False

    def open(self) -> None:
        try:
            from escpos.printer import Win32Raw

            if not Win32Raw.is_usable():
                raise TransportError("Thiếu thư viện pywin32: chạy 'pip install pywin32' trên máy trạm")
            self._p = Win32Raw(self.printer_name)
            if self._p.printer_name and self._p.printer_name not in self._p.printers:
                raise TransportError(f"Windows không có máy in tên '{self.printer_name}'")
        except TransportError:
            self._p = None
            raise
        except Exception as exc:  # noqa: BLE001 - pywin32 errors: reported in Vietnamese
            self._p = None
            raise TransportError(f"Không mở được máy in Windows '{self.printer_name}': {exc}") from exc

    def write(self, data: bytes) -> None:
        if self._p is None:
            raise TransportError("Máy in Windows chưa mở")
        try:
            if not self._doc_open:
                self._p.open(job_name="motcua")
                self._doc_open = True
            self._p._raw(data)
        except Exception as exc:  # noqa: BLE001
            self._doc_open = False
            raise TransportError(f"Không gửi được vé tới máy in Windows: {exc}") from exc

    def end_job(self) -> None:
        if self._p is not None and self._doc_open:
            self._doc_open = False
            try:
                self._p.close()  # the spooler prints the document now
            except Exception as exc:  # noqa: BLE001
                raise TransportError(f"Máy in Windows không nhận vé: {exc}") from exc

    def close(self) -> None:
        if self._p is not None and self._doc_open:
            try:
                self._p.close()
            except Exception:  # noqa: BLE001
                pass
        self._doc_open = False
        self._p = None

    @property
    def is_open(self) -> bool:
        return self._p is not None
