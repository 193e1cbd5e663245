"""Links to a printer, chosen by a URL, behind one small interface.

==============================================  =============================================
URL                                             link
==============================================  =============================================
``usb://04b8:0202[?in_ep=0x82&out_ep=0x01]``    python-escpos ``Usb`` (needs pyusb)
``serial:///dev/ttyUSB0?baudrate=115200``       python-escpos ``Serial`` (pyserial)
``tcp://192.0.2.10:9100``                       python-escpos ``Network`` (raw TCP 9100)
``cups://QUEUE[?host=H&port=631]``              python-escpos ``CupsPrinter`` (needs pycups)
``file:///dev/usb/lp0``                         python-escpos ``File`` (write only)
``virtual`` / ``virtual://?dir=PATH``           the simulated printer (:mod:`.virtual`)
==============================================  =============================================

Every link has ``open()``, ``write(bytes)``, ``read_status(n) -> bytes | None`` (None where
the link cannot read back; ``b""`` when the printer did not answer in time), ``end_job()``
(the end of one print job: CUPS sends its spool file then) and ``close()``. Failures raise
:class:`TransportError`, whose message is Vietnamese.
"""

from __future__ import annotations

import logging
import socket
from abc import ABC, abstractmethod
from typing import Any, Callable
from urllib.parse import parse_qs, unquote, urlsplit

from motcua_runtime import run_blocking
from .status import CLEAR_BUFFERS, status_query

log = logging.getLogger(__name__)

DEFAULT_READ_TIMEOUT = 0.5
DEFAULT_WRITE_TIMEOUT = 10.0


class TransportError(OSError):
    """The link to the printer failed (message in Vietnamese)."""


class Transport(ABC):
    """One link to one printer. Not thread-safe: one worker thread owns it."""

    url: str = ""
    #: True when the link can read the printer's replies (real-time status).
    can_read: bool = False

    @abstractmethod
    def open(self) -> None: ...

    @abstractmethod
    def write(self, data: bytes) -> None: ...

    def read_status(self, n: int) -> bytes | None:
        """Send DLE EOT n and return the reply (None: this link cannot read back)."""
        return None

    def end_job(self) -> None:
        """Mark the end of one print job (default: nothing to do)."""

    def clear_buffers(self) -> None:
        """Tell the printer to drop what it holds and has not printed (DLE DC4 8); its short
        answer is read and dropped where the link can read, so no status query takes it."""
        self.write(CLEAR_BUFFERS)

    @abstractmethod
    def close(self) -> None: ...

    @property
    @abstractmethod
    def is_open(self) -> bool: ...

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.url}>"


# ---------------------------------------------------------------- python-escpos links


class EscposTransport(Transport):
    """A link through a python-escpos printer class (``_raw`` to write, ``_read`` to read)."""

    def __init__(self, url: str, factory: Callable[[], Any], can_read: bool) -> None:
        self.url = url
        self.can_read = can_read
        self._factory = factory
        self._printer: Any = None

    @property
    def is_open(self) -> bool:
        return self._printer is not None

    @property
    def escpos(self) -> Any:
        """The python-escpos object (None while closed)."""
        return self._printer

    def open(self) -> None:
        if self._printer is not None:
            self.close()
        try:
            printer = self._factory()
            printer.open()
        except TransportError:
            raise
        except RuntimeError as exc:  # python-escpos: a dependency (pyusb, pycups) is missing
            raise TransportError(f"Thiếu thư viện để mở máy in {self.url}: {exc}") from exc
        except Exception as exc:
            raise TransportError(f"Không mở được máy in {self.url}: {exc}") from exc
        self._printer = printer
        log.info("printer link %s open", self.url)

    def write(self, data: bytes) -> None:
        if self._printer is None:
            raise TransportError(f"Chưa kết nối máy in {self.url}")
        try:
            self._printer._raw(data)
        except Exception as exc:
            raise TransportError(f"Lỗi gửi dữ liệu tới máy in {self.url}: {exc}") from exc

    def read_status(self, n: int) -> bytes | None:
        if not self.can_read:
            return None
        if self._printer is None:
            raise TransportError(f"Chưa kết nối máy in {self.url}")
        try:
            return self._query(status_query(n))
        except TransportError:
            raise
        except Exception as exc:
            raise TransportError(f"Lỗi đọc trạng thái máy in {self.url}: {exc}") from exc

    def clear_buffers(self) -> None:
        if self._printer is None:
            raise TransportError(f"Chưa kết nối máy in {self.url}")
        try:
            if self.can_read:
                self._query(CLEAR_BUFFERS)
            else:
                self._printer._raw(CLEAR_BUFFERS)
        except Exception as exc:
            raise TransportError(f"Lỗi gửi lệnh xoá bộ đệm tới máy in {self.url}: {exc}") from exc

    def _query(self, command: bytes) -> bytes:
        self._printer._raw(command)
        return bytes(self._printer._read())

    def close(self) -> None:
        printer, self._printer = self._printer, None
        if printer is None:
            return
        try:
            printer.close()
        except Exception as exc:  # closing a dead link must not raise
            log.debug("closing %s: %s", self.url, exc)


class UsbTransport(EscposTransport):
    """libusb calls block inside C (a bulk write waits while the printer's buffer is full):
    they run through `run_blocking` so the server keeps serving meanwhile."""

    def __init__(self, url: str, factory: Callable[[], Any], read_timeout: float) -> None:
        super().__init__(url, factory, can_read=True)
        self._read_ms = max(1, int(read_timeout * 1000))

    def open(self) -> None:
        run_blocking(super().open)

    def write(self, data: bytes) -> None:
        run_blocking(super().write, data)

    def _query(self, command: bytes) -> bytes:
        return run_blocking(self._query_now, command)

    def _query_now(self, command: bytes) -> bytes:
        import usb.core  # present whenever the link could be opened

        self._printer._raw(command)
        try:
            return bytes(self._printer.device.read(self._printer.in_ep, 16, self._read_ms))
        except usb.core.USBTimeoutError:
            return b""


class SerialTransport(EscposTransport):
    def _query(self, command: bytes) -> bytes:
        port = self._printer.device
        port.reset_input_buffer()
        self._printer._raw(command)
        return bytes(port.read(1))  # returns at the first byte, or after the read timeout


class NetworkTransport(EscposTransport):
    def __init__(
        self, url: str, factory: Callable[[], Any], read_timeout: float, write_timeout: float
    ) -> None:
        super().__init__(url, factory, can_read=True)
        self._read_timeout = read_timeout
        self._write_timeout = write_timeout

    def _query(self, command: bytes) -> bytes:
        sock: socket.socket = self._printer.device
        sock.setblocking(False)  # drop stale replies
        try:
            while sock.recv(64):
                pass
        except (BlockingIOError, InterruptedError):
            pass
        sock.settimeout(self._write_timeout)
        sock.sendall(command)
        sock.settimeout(self._read_timeout)
        try:
            reply = sock.recv(16)
        except socket.timeout:
            return b""
        finally:
            sock.settimeout(self._write_timeout)
        if not reply:
            raise TransportError(f"Máy in {self.url} đã đóng kết nối")
        return reply


class CupsTransport(EscposTransport):
    """CUPS raw queue: bytes are spooled and sent as one CUPS job at ``end_job()``.

    Status comes from the queue state (stopped = offline), not from the printer.
    """

    def __init__(self, url: str, factory: Callable[[], Any], job_name: str) -> None:
        super().__init__(url, factory, can_read=True)
        self._job_name = job_name
        self._needs_reopen = False

    def write(self, data: bytes) -> None:
        if self._printer is not None and self._needs_reopen:
            try:
                self._printer.open(job_name=self._job_name)
            except Exception as exc:
                raise TransportError(f"Không mở được hàng in CUPS {self.url}: {exc}") from exc
            self._needs_reopen = False
        super().write(data)

    def open(self) -> None:
        run_blocking(super().open)  # libcups talks to cupsd inside C

    def end_job(self) -> None:
        if self._printer is None:
            raise TransportError(f"Chưa kết nối máy in {self.url}")
        try:
            run_blocking(self._printer.send)
        except Exception as exc:
            raise TransportError(f"CUPS không nhận lệnh in {self.url}: {exc}") from exc
        self._needs_reopen = True

    def _query(self, command: bytes) -> bytes:
        if command[-1] != 1:
            return b"\x12"  # causes are not known through CUPS: report "no cause"
        info = self._printer.printers.get(self._printer.printer_name, {})
        state = info.get("printer-state")
        if state is None:
            return b""
        return b"\x1a" if state == 5 else b"\x12"  # 5 = stopped: offline


# ---------------------------------------------------------------- URL parsing


def _query_params(query: str) -> dict[str, str]:
    return {k: v[-1] for k, v in parse_qs(query, keep_blank_values=True).items()}


def _int(value: str) -> int:
    return int(value, 0)


def _escpos_kwargs(params: dict[str, str]) -> dict[str, Any]:
    return {"profile": params["profile"]} if params.get("profile") else {}


def make_transport(
    url: str,
    *,
    read_timeout: float = DEFAULT_READ_TIMEOUT,
    write_timeout: float = DEFAULT_WRITE_TIMEOUT,
    job_name: str = "motcua",
) -> Transport:
    """The link described by ``url`` (not yet open). See the module docstring."""
    text = url.strip()
    if text == "virtual":
        from .virtual import VirtualPrinter, VirtualTransport

        return VirtualTransport(VirtualPrinter(None), url=text)
    parts = urlsplit(text)
    scheme = parts.scheme.lower()
    params = _query_params(parts.query)

    if scheme == "virtual":
        from .virtual import VirtualPrinter, VirtualTransport

        directory = params.get("dir") or unquote(parts.path) or None
        return VirtualTransport(VirtualPrinter(directory), url=text)

    if scheme == "usb":
        ids = parts.netloc.split(":")
        if len(ids) != 2:
            raise ValueError(f"USB URL needs usb://VID:PID (hex), not {url!r}")
        vid, pid = (int(x, 16) for x in ids)
        in_ep = _int(params.get("in_ep", "0x82"))
        out_ep = _int(params.get("out_ep", "0x01"))
        extra = _escpos_kwargs(params)

        def usb_factory() -> Any:
            try:
                import usb.core  # noqa: F401  (pyusb: python-escpos[usb])
            except ImportError as exc:
                raise TransportError(
                    "Chưa cài pyusb nên không mở được máy in USB (pip install pyusb)"
                ) from exc
            from escpos.printer import Usb

            return Usb(
                idVendor=vid,
                idProduct=pid,
                timeout=int(write_timeout * 1000),
                in_ep=in_ep,
                out_ep=out_ep,
                **extra,
            )

        return UsbTransport(text, usb_factory, read_timeout)

    if scheme == "serial":
        devfile = unquote(parts.path) if parts.path else parts.netloc
        if not devfile:
            raise ValueError(f"serial URL needs a device, e.g. serial:///dev/ttyUSB0: {url!r}")
        baudrate = int(params.get("baudrate", "9600"))
        bytesize = int(params.get("bytesize", "8"))
        parity = params.get("parity", "N").upper()
        stopbits = float(params.get("stopbits", "1"))
        xonxoff = params.get("xonxoff", "0") in ("1", "true", "yes")
        dsrdtr = params.get("dsrdtr", "1") in ("1", "true", "yes")
        extra = _escpos_kwargs(params)

        def serial_factory() -> Any:
            from escpos.printer import Serial

            return Serial(
                devfile=devfile,
                baudrate=baudrate,
                bytesize=bytesize,
                timeout=read_timeout,
                parity=parity,
                stopbits=int(stopbits) if stopbits.is_integer() else stopbits,
                xonxoff=xonxoff,
                dsrdtr=dsrdtr,
                **extra,
            )

        return SerialTransport(text, serial_factory, can_read=True)

    if scheme == "tcp":
        host = parts.hostname
        if not host:
            raise ValueError(f"TCP URL needs a host, e.g. tcp://printer:9100: {url!r}")
        port = parts.port or 9100
        extra = _escpos_kwargs(params)

        def network_factory() -> Any:
            from escpos.printer import Network

            return Network(host=host, port=port, timeout=write_timeout, **extra)

        return NetworkTransport(text, network_factory, read_timeout, write_timeout)

    if scheme == "cups":
        queue = unquote(parts.netloc or parts.path.strip("/"))
        cups_host = params.get("host")
        cups_port = params.get("port")
        extra = _escpos_kwargs(params)

        def cups_factory() -> Any:
            try:
                import cups  # noqa: F401  (pycups: optional)
            except ImportError as exc:
                raise TransportError(
                    "Chưa cài pycups nên không in qua CUPS được (pip install pycups)"
                ) from exc
            from escpos.printer import CupsPrinter

            kwargs: dict[str, Any] = dict(extra)
            if cups_host:
                kwargs["host"] = cups_host
            if cups_port:
                kwargs["port"] = int(cups_port)
            return _CupsJobPrinter(CupsPrinter(printer_name=queue, **kwargs), job_name)

        return CupsTransport(text, cups_factory, job_name)

    if scheme == "file":
        path = unquote(parts.path)
        if not path:
            raise ValueError(f"file URL needs a path, e.g. file:///dev/usb/lp0: {url!r}")
        extra = _escpos_kwargs(params)

        def file_factory() -> Any:
            from escpos.printer import File

            return File(devfile=path, auto_flush=True, **extra)

        return EscposTransport(text, file_factory, can_read=False)

    raise ValueError(
        f"unknown printer URL {url!r}: use usb://, serial://, tcp://, cups://, file:// or virtual"
    )


class _CupsJobPrinter:
    """Opens a CupsPrinter with our job name (its open() takes one)."""

    def __init__(self, printer: Any, job_name: str) -> None:
        self._p = printer
        self._job_name = job_name

    def open(self, job_name: str | None = None) -> None:
        self._p.open(job_name=job_name or self._job_name)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._p, name)
