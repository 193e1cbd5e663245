"""The simulated twin of a USB 3G/4G modem: it speaks AT commands over the same bytes as a
real one (through a loopback socket or a pseudo-terminal, like every serial twin,
:mod:`drivers.serialdev.sim_link`) and keeps every SMS it was asked to send.

What it answers: ``AT``, ``ATE0``/``ATE1`` (echo, on at power-up like real modems),
``AT+CMEE=1``, ``AT+CMGF=0`` (PDU mode; text mode is refused, the driver never uses it),
``AT+CPIN?``, ``AT+CREG?``, ``AT+CSQ`` and ``AT+CMGS=<octets>`` -> ``> `` -> PDU hex and
Ctrl-Z -> ``+CMGS: <mr>`` ``OK`` (or ``+CMS ERROR: <n>``); anything else is ``ERROR``.

- ``parts``: every SMS-SUBMIT received (decoded), ``messages``: the texts as a phone shows
  them, concatenated parts joined (:class:`SimSms`), in the order they arrived.
- Faults: ``fail_next(count, code)`` answers the next sends with ``+CMS ERROR``;
  ``sim_ready`` / ``registered`` False make the modem refuse sends like a modem without SIM
  or network; ``unplug()`` pulls the USB cable (``keep_link=True``: the modem hangs and
  answers nothing) and ``replug()`` puts it back.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Callable

from ..serialdev.sim import SimDevice
from .pdu import PduError, SubmitPdu, decode_submit

CTRL_Z = 0x1A
ESC = 0x1B


@dataclass(frozen=True)
class SimSms:
    number: str
    text: str
    parts: int
    at: float


class SimModem(SimDevice):
    def __init__(self, *, transport: str = "tcp", link_path: str | None = None, name: str = "modem") -> None:
        super().__init__(name, transport, link_path)
        self.echo = True
        self.pdu_mode = False
        self.sim_ready = True
        self.registered = True
        self.parts: list[SubmitPdu] = []
        self.messages: list[SimSms] = []
        self.commands: list[str] = []
        self._fail: list[int] = []
        self._pending: dict[tuple[str, int], dict[int, str]] = {}
        self._awaiting: int | None = None  # octets announced by AT+CMGS while waiting for the PDU
        self._mr = 0
        self._changed = threading.Condition(self._lock)

    # -- what a test does / sees
    def fail_next(self, count: int = 1, code: int = 500) -> None:
        with self._lock:
            self._fail.extend([code] * count)

    def texts(self) -> list[str]:
        with self._lock:
            return [m.text for m in self.messages]

    def wait_for(self, predicate: Callable[[], bool], timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        with self._changed:
            while not predicate():
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._changed.wait(min(left, 0.2))
            return True

    def unplug(self, keep_link: bool = False) -> None:
        super().unplug(keep_link)
        with self._lock:
            self._awaiting = None
            self.echo = True  # a modem that lost power starts again with echo on
            self.pdu_mode = False

    # -- the bytes
    def _on_bytes(self, data: bytes) -> bytes:
        if not data:  # quiet ticks: a modem keeps a half-typed command, it has no frames to drop
            return b""
        with self._lock:
            if not self.answering:
                return b""
            self._buffer += data
            return self._consume()

    def _consume(self) -> bytes:
        out = bytearray()
        while True:
            if self._awaiting is not None:
                end = next((i for i, b in enumerate(self._buffer) if b in (CTRL_Z, ESC)), -1)
                if end < 0:
                    return bytes(out)
                body, stop = bytes(self._buffer[:end]), self._buffer[end]
                del self._buffer[:end + 1]
                octets, self._awaiting = self._awaiting, None
                if self.echo:
                    out += body
                if stop == ESC:
                    out += b"\r\nOK\r\n"
                    continue
                out += self._submit(body.decode("ascii", "replace").strip(), octets)
                continue
            cr = self._buffer.find(b"\r")
            if cr < 0:
                return bytes(out)
            line = bytes(self._buffer[:cr]).decode("ascii", "replace").strip()
            del self._buffer[:cr + 1]
            if self._buffer[:1] == b"\n":
                del self._buffer[:1]
            if not line:
                continue
            if self.echo:
                out += line.encode() + b"\r"
            out += self._command(line)

    def _command(self, line: str) -> bytes:
        cmd = line.upper()
        self.commands.append(line)
        ok, err = b"\r\nOK\r\n", b"\r\nERROR\r\n"
        if cmd in ("AT", "AT+CMEE=1", "AT+CMEE=2", "ATZ"):
            return ok
        if cmd in ("ATE0", "ATE1"):
            self.echo = cmd == "ATE1"
            return ok
        if cmd == "AT+CMGF=0":
            self.pdu_mode = True
            return ok
        if cmd == "AT+CPIN?":
            return b"\r\n+CPIN: READY\r\n" + ok if self.sim_ready else b"\r\n+CME ERROR: 10\r\n"
        if cmd == "AT+CREG?":
            return f"\r\n+CREG: 0,{1 if self.registered else 2}\r\n".encode() + ok
        if cmd == "AT+CSQ":
            return b"\r\n+CSQ: 21,99\r\n" + ok
        if cmd.startswith("AT+CMGS="):
            if not self.pdu_mode:
                return err
            try:
                octets = int(cmd.split("=", 1)[1])
            except ValueError:
                return err
            self._awaiting = octets
            return b"\r\n> "
        return err

    def _submit(self, hex_text: str, octets: int) -> bytes:
        if not self.sim_ready:
            return b"\r\n+CMS ERROR: 310\r\n"
        if not self.registered:
            return b"\r\n+CMS ERROR: 331\r\n"
        if self._fail:
            return f"\r\n+CMS ERROR: {self._fail.pop(0)}\r\n".encode()
        try:
            pdu = decode_submit(hex_text)
        except PduError:
            return b"\r\n+CMS ERROR: 304\r\n"
        if len(hex_text) // 2 - 1 - int(hex_text[:2], 16) != octets:
            return b"\r\n+CMS ERROR: 304\r\n"  # the announced length is not the PDU's
        self._mr = (self._mr + 1) % 256
        self.parts.append(pdu)
        self._join(pdu)
        self._changed.notify_all()
        return f"\r\n+CMGS: {self._mr}\r\n\r\nOK\r\n".encode()

    def _join(self, pdu: SubmitPdu) -> None:
        if pdu.ref is None or pdu.total <= 1:
            self.messages.append(SimSms(pdu.number, pdu.text, 1, time.time()))
            return
        key = (pdu.number, pdu.ref)
        got = self._pending.setdefault(key, {})
        got[pdu.index] = pdu.text
        if len(got) == pdu.total:
            del self._pending[key]
            text = "".join(got[i] for i in sorted(got))
            self.messages.append(SimSms(pdu.number, text, pdu.total, time.time()))
