"""A USB 3G/4G modem sending SMS with AT commands (pyserial), one long-lived object per port.

One worker thread owns the port: it opens it (``serial.serial_for_url``: ``/dev/ttyUSB2``,
``socket://host:port``, or ``sim://`` for the simulated twin, :mod:`.sim`), prepares the
modem (``ATE0`` echo off, ``AT+CMEE=1`` numeric errors, ``AT+CPIN?`` SIM ready,
``AT+CMGF=0`` PDU mode), then sends one message at a time and checks the modem with ``AT``
when idle. A port that fails or a modem that stops answering is closed, reported ``lost``
and reopened with the growing delay of :class:`drivers.reconnect.Backoff`.

``send(number, text, done)`` only queues: ``done(SendResult)`` is called later on the worker
thread (keep it short). A message is sent in UCS-2 PDUs, in several parts when long
(:mod:`.pdu`); a part refused (``+CMS ERROR: n``) or not confirmed in time fails the
message. Nothing is retried here: the caller (motcua's outbox) decides when to try again.
While the port is down a message fails at once ("not connected") instead of waiting.

States (drivers.state): connecting, ready, busy (sending), error (cannot be opened, no SIM),
lost (was working, stopped), closed.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable

import serial

from ..reconnect import Backoff
from ..serialdev.settings import SIM_URL
from ..state import BUSY, CLOSED, CONNECTING, ERROR, LOST, READY, DeviceState, StateCallback, log_level
from .pdu import PduError, encode_submit

log = logging.getLogger(__name__)

FINAL_OK = "OK"
# Meanings of the commonest +CMS ERROR codes (3GPP TS 27.005), for people.
CMS_ERRORS = {
    304: "dữ liệu tin nhắn không hợp lệ", 310: "chưa lắp SIM", 311: "SIM cần mã PIN",
    330: "không rõ số tổng đài tin nhắn", 331: "chưa có mạng di động", 332: "mạng không trả lời",
    500: "lỗi không xác định của modem", 512: "mạng từ chối tin nhắn",
}


class ModemError(Exception):
    """A command the modem refused (``ERROR``, ``+CMS ERROR``, ``+CME ERROR``)."""


class LinkError(Exception):
    """The port failed or the modem did not answer in time: reopen."""


@dataclass(frozen=True)
class ModemSettings:
    baudrate: int = 115200
    command_timeout: float = 5.0  # an ordinary command's answer
    send_timeout: float = 60.0  # one part's +CMGS confirmation (the network can be slow)
    check_interval: float = 30.0  # an idle modem is checked with AT this often
    reconnect_initial: float = 1.0
    reconnect_max: float = 30.0
    max_queued: int = 500


@dataclass(frozen=True)
class SendResult:
    ok: bool
    error: str = ""  # Vietnamese, for the admin page
    parts: int = 0
    references: tuple[int, ...] = ()


@dataclass
class _Job:
    number: str
    text: str
    done: Callable[[SendResult], None] | None


_STOP = object()


class SmsModem:
    def __init__(self, url: str, *, name: str = "modem", on_state: StateCallback | None = None,
                 settings: ModemSettings | None = None) -> None:
        if not url:
            raise ValueError("a serial URL is needed (e.g. /dev/ttyUSB2, sim://)")
        self.name = name
        self.configured_url = url
        self.url = url
        self.simulated = url.startswith(SIM_URL)
        self.simulator: Any = None
        self.settings = settings or ModemSettings()
        self._on_state = on_state
        self._jobs: queue.Queue[Any] = queue.Queue()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._port: Any = None
        self._rx = bytearray()
        self._state = CONNECTING
        self._detail = ""
        self._ref = 0
        self.sent = 0
        self.failed = 0

    # ------------------------------------------------------------------ public API
    def start(self) -> None:
        if self._thread is not None:
            raise RuntimeError(f"{self.name} already started")
        if self.simulated and self.simulator is None:
            from .sim import SimModem

            self.simulator = SimModem(name=self.name).start()
            self.url = self.simulator.url
        self._thread = threading.Thread(target=self._main, name=f"modem-{self.name}", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 3.0) -> None:
        self._stopping.set()
        self._jobs.put(_STOP)
        if self._thread is not None:
            self._thread.join(timeout)
        self._close()
        while True:  # messages still queued fail: the caller keeps them for later
            try:
                job = self._jobs.get_nowait()
            except queue.Empty:
                break
            if isinstance(job, _Job):
                self._finish(job, SendResult(False, "Modem đã dừng"))
        if self.simulator is not None:
            self.simulator.stop()
        self._set_state(CLOSED, "Đã dừng modem")

    def send(self, number: str, text: str, done: Callable[[SendResult], None] | None = None) -> None:
        """Queue one SMS; ``done(result)`` follows on the worker thread."""
        if self._stopping.is_set():
            self._finish(_Job(number, text, done), SendResult(False, "Modem đã dừng"))
            return
        if self._jobs.qsize() >= self.settings.max_queued:
            self._finish(_Job(number, text, done), SendResult(False, "Hàng chờ tin nhắn của modem đã đầy"))
            return
        self._jobs.put(_Job(number, text, done))

    @property
    def state(self) -> DeviceState:
        return self._state

    @property
    def detail(self) -> str:
        return self._detail

    def queued(self) -> int:
        return self._jobs.qsize()

    # ------------------------------------------------------------------ worker
    def _main(self) -> None:
        s = self.settings
        backoff = Backoff(s.reconnect_initial, max(s.reconnect_initial, s.reconnect_max))
        ever_up = False
        self._set_state(CONNECTING, f"Đang mở cổng {self.url}")
        while not self._stopping.is_set():
            if self._port is None:
                try:
                    self._open()
                    self._prepare()
                except (LinkError, ModemError, serial.SerialException, OSError, ValueError) as exc:
                    self._close()
                    state = LOST if ever_up else ERROR
                    self._set_state(state, f"Không dùng được modem ở cổng {self.url}: {exc}; "
                                           f"thử lại sau {backoff.delay:g} giây")
                    if self._wait_failing(backoff.next(), "Modem chưa sẵn sàng: " + str(exc)):
                        break
                    continue
                backoff.reset()
                ever_up = True
                self._set_state(READY, "Modem sẵn sàng gửi tin nhắn")
            try:
                job = self._jobs.get(timeout=s.check_interval)
            except queue.Empty:
                job = None
            if job is _STOP:
                break
            try:
                if job is None:
                    self._command("AT")
                else:
                    self._send(job)
            except (LinkError, serial.SerialException, OSError) as exc:
                log.warning("%s: link lost: %s", self.name, exc)
                self._close()
                self._set_state(LOST, f"Mất kết nối với modem ở cổng {self.url}: {exc}; đang kết nối lại")
                if isinstance(job, _Job):
                    self._finish(job, SendResult(False, f"Mất kết nối với modem: {exc}"))
                if self._wait_failing(s.reconnect_initial, f"Mất kết nối với modem: {exc}"):
                    break
            except ModemError as exc:  # the idle check was refused: the modem answers, go on
                log.info("%s: %s", self.name, exc)

    def _wait_failing(self, delay: float, reason: str) -> bool:
        """Wait ``delay`` seconds before reopening the port; every message queued meanwhile
        fails at once with ``reason`` (the caller retries later) instead of waiting out the
        delay. True when the modem is being stopped."""
        self._fail_queued(reason)
        deadline = time.monotonic() + delay
        while not self._stopping.is_set():
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            try:
                job = self._jobs.get(timeout=left)
            except queue.Empty:
                return False
            if job is _STOP:
                self._jobs.put(_STOP)
                return True
            self._finish(job, SendResult(False, reason))
        return True

    def _fail_queued(self, reason: str) -> None:
        while True:
            try:
                job = self._jobs.get_nowait()
            except queue.Empty:
                return
            if job is _STOP:
                self._jobs.put(_STOP)
                return
            self._finish(job, SendResult(False, reason))

    def _send(self, job: _Job) -> None:
        self._ref = (self._ref + 1) % 256
        try:
            parts = encode_submit(job.number, job.text, self._ref)
        except PduError as exc:
            self._finish(job, SendResult(False, str(exc)))
            return
        self._set_state(BUSY, "Đang gửi tin nhắn")
        refs: list[int] = []
        try:
            for octets, hex_pdu in parts:
                refs.append(self._submit(octets, hex_pdu))
        except ModemError as exc:
            self._set_state(READY, "Modem sẵn sàng gửi tin nhắn")
            self._finish(job, SendResult(False, str(exc), len(parts), tuple(refs)))
            return
        self._set_state(READY, "Modem sẵn sàng gửi tin nhắn")
        self._finish(job, SendResult(True, "", len(parts), tuple(refs)))

    def _submit(self, octets: int, hex_pdu: str) -> int:
        self._rx.clear()
        self._write(f"AT+CMGS={octets}\r".encode())
        self._wait_prompt(self.settings.command_timeout)
        self._write(hex_pdu.encode() + b"\x1a")
        lines = self._final(self.settings.send_timeout)
        for line in lines:
            if line.startswith("+CMGS:"):
                try:
                    return int(line.split(":", 1)[1].strip().split(",")[0])
                except ValueError:
                    return -1
        return -1

    def _finish(self, job: _Job, result: SendResult) -> None:
        if result.ok:
            self.sent += 1
        else:
            self.failed += 1
        if job.done is not None:
            try:
                job.done(result)
            except Exception:  # noqa: BLE001 - a caller's callback never stops the modem
                log.exception("%s: send callback failed", self.name)

    # ------------------------------------------------------------------ AT dialogue
    def _open(self) -> None:
        self._port = serial.serial_for_url(self.url, baudrate=self.settings.baudrate, timeout=0.05,
                                           write_timeout=2.0, exclusive=True)
        self._rx.clear()

    def _prepare(self) -> None:
        self._write(b"\x1b\r")  # leave a half-typed message of an earlier run
        self._drain(0.2)
        self._command("ATE0")
        self._command("AT+CMEE=1")
        try:
            lines = self._command("AT+CPIN?")
        except ModemError as exc:
            raise ModemError(f"SIM chưa sẵn sàng ({exc})") from None
        if not any("READY" in ln for ln in lines):
            raise ModemError("SIM chưa sẵn sàng: " + " ".join(lines))
        self._command("AT+CMGF=0")

    def _close(self) -> None:
        port, self._port = self._port, None
        if port is not None:
            try:
                port.close()
            except Exception as exc:  # noqa: BLE001
                log.debug("%s: close: %s", self.name, exc)

    def _write(self, data: bytes) -> None:
        if self._port is None:
            raise LinkError("cổng chưa mở")
        try:
            self._port.write(data)
            self._port.flush()
        except serial.SerialTimeoutException as exc:
            raise LinkError(f"ghi quá thời gian: {exc}") from None

    def _read_some(self) -> bytes:
        if self._port is None:
            raise LinkError("cổng chưa mở")
        data = self._port.read(1)
        waiting = self._port.in_waiting if data else 0
        if waiting:
            data += self._port.read(waiting)
        return data

    def _drain(self, seconds: float) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            self._read_some()
        self._rx.clear()

    def _command(self, cmd: str) -> list[str]:
        self._rx.clear()
        self._write(cmd.encode() + b"\r")
        return [ln for ln in self._final(self.settings.command_timeout) if ln != cmd]

    def _wait_prompt(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if b">" in self._rx:
                self._rx.clear()
                return
            lines = self._take_lines()
            for line in lines:
                self._raise_if_error(line)
            self._rx += self._read_some()
            if self._stopping.is_set():
                raise LinkError("đang dừng")
        raise LinkError(f"modem không trả lời lệnh gửi tin trong {timeout:g} giây")

    def _final(self, timeout: float) -> list[str]:
        """The lines up to a final result; OK returns them, an error raises ModemError."""
        deadline = time.monotonic() + timeout
        got: list[str] = []
        while True:
            for line in self._take_lines():
                if line == FINAL_OK:
                    return got
                self._raise_if_error(line)
                got.append(line)
            if time.monotonic() >= deadline:
                raise LinkError(f"modem không trả lời trong {timeout:g} giây")
            if self._stopping.is_set():
                raise LinkError("đang dừng")
            self._rx += self._read_some()

    def _take_lines(self) -> list[str]:
        lines: list[str] = []
        while True:
            idx = min((i for i in (self._rx.find(b"\r"), self._rx.find(b"\n")) if i >= 0), default=-1)
            if idx < 0:
                return lines
            raw = bytes(self._rx[:idx])
            del self._rx[:idx + 1]
            line = raw.decode("ascii", "replace").strip()
            if line:
                lines.append(line)

    @staticmethod
    def _raise_if_error(line: str) -> None:
        if line == "ERROR":
            raise ModemError("modem từ chối lệnh")
        for prefix in ("+CMS ERROR:", "+CME ERROR:"):
            if line.startswith(prefix):
                code = line[len(prefix):].strip()
                meaning = CMS_ERRORS.get(int(code), "") if code.isdigit() and prefix == "+CMS ERROR:" else ""
                raise ModemError(f"modem báo lỗi {code}" + (f" ({meaning})" if meaning else ""))

    # ------------------------------------------------------------------ state
    def _set_state(self, state: DeviceState, detail: str) -> None:
        if state == self._state and detail == self._detail:
            return
        self._state, self._detail = state, detail
        log.log(log_level(state), "%s: %s %s", self.name, state, detail)
        if self._on_state is not None:
            try:
                self._on_state(self.name, state, detail)
            except Exception:  # noqa: BLE001
                log.exception("%s: on_state failed", self.name)
