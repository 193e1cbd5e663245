"""LED counter boards on one serial bus: Modbus-RTU digit boards or ASCII text boards.

``protocol="modbus"``: the common "LED-485" digit boards (factory unit id 1, 9600 8N1). The
number goes into holding register 0 with function 06: showing 15 on unit 1 is
``01 06 00 00 00 0F C9 CE``. A register holds a number, so only the digits of the text are
shown ("A012" shows 12); use an ASCII board for letters.

``protocol="ascii"``: the line protocol of :mod:`.ascii_board` (``#03:A012\\r\\n`` ->
``OK\\r\\n``), addresses 01..99.

Every board that was ever shown something (or listed in ``units``) is polled every
``poll_interval`` (default 2 s): Modbus function 03 reads register 0, ASCII boards answer
``#NN?``. A board that shows something else than it was told (it lost power and came back
blank) is sent its number again; a board that stops answering is declared lost after
``lost_after`` polls and gets its number as soon as it answers again.
"""

from __future__ import annotations

import logging
from typing import Any, Iterable

from ..state import StateCallback
from . import ascii_board
from . import modbus_rtu as rtu
from .base import SerialBus
from .framing import Rejected
from .jobs import DONE, DROP, RETRY, Job
from .lines import split_lines
from .settings import BusSettings, make_settings

log = logging.getLogger(__name__)

PROTOCOLS = ("modbus", "ascii")
BOARD = "board"


class LedBoardBus(SerialBus):
    """Counter number boards on one port: ``show(unit, text)`` queues and returns."""

    device_labels = {BOARD: "Bảng LED"}

    def __init__(
        self,
        url: str,
        protocol: str = "modbus",
        *,
        on_state: StateCallback | None = None,
        units: Iterable[int] = (),
        name: str = "led",
        register: int = 0,
        max_digits: int = 4,
        settings: BusSettings | None = None,
        **overrides: Any,
    ) -> None:
        if protocol not in PROTOCOLS:
            raise ValueError(f"protocol must be one of {PROTOCOLS}, not {protocol!r}")
        base = settings or BusSettings(poll_interval=2.0)
        super().__init__(url, name=name, settings=make_settings(base, overrides),
                         on_state=on_state)
        self.protocol = protocol
        self.register = register
        self.max_digits = max_digits
        self._wanted: dict[int, int | str] = {}
        for unit in units:
            self._check_unit(unit)
            self._add_device(unit, BOARD, unit)

    # ------------------------------------------------------------------ public API

    @property
    def units(self) -> list[int]:
        with self._lock:
            return sorted(self._devices)

    def board_name(self, unit: int) -> str:
        """The ``on_state`` name of board ``unit``."""
        return f"{self.name}:{BOARD}:{unit}"

    def show(self, unit: int, text: str | int) -> None:
        """Show ``text`` on board ``unit``; returns at once (newest text per board wins)."""
        self._check_unit(unit)
        text = str(text)
        value: int | str
        if self.protocol == "modbus":
            value = rtu.modbus_value_for(text, self.max_digits)
            if any(not ch.isdigit() for ch in text.strip()):
                log.info("%s: board %d shows digits only: %r -> %d", self.name, unit, text, value)
        else:
            value = ascii_board.board_text(text)
        with self._lock:
            self._wanted[unit] = value
        self._add_device(unit, BOARD, unit)
        self._queue_command(Job("show", unit, value))

    def wanted(self, unit: int) -> int | str | None:
        """What board ``unit`` was last told to show (register value or text)."""
        with self._lock:
            return self._wanted.get(unit)

    def poll_now(self, unit: int) -> bool:
        """Ask board ``unit`` now; False when a poll for it is already waiting (dropped)."""
        return self._queue_poll("poll", unit)

    # ------------------------------------------------------------------ internals

    def _make_simulator(self) -> Any:
        from .sim import SimAsciiBoards, SimModbusBoards

        sim = SimModbusBoards if self.protocol == "modbus" else SimAsciiBoards
        return sim(self.units)

    def _check_unit(self, unit: int) -> None:
        if self.protocol == "modbus" and not rtu.UNIT_FIRST <= unit <= rtu.UNIT_LAST:
            raise ValueError(f"Modbus unit id {unit} outside 1..247")
        if self.protocol == "ascii" and not ascii_board.ADDR_FIRST <= unit <= ascii_board.ADDR_LAST:
            raise ValueError(f"ASCII board address {unit} outside 1..99")

    def _parse(self, data: bytes) -> tuple[list[Any], list[Rejected], bytes]:
        if self.protocol == "modbus":
            return rtu.split_rtu(data, "response")
        lines, too_long, rest = split_lines(data, ascii_board.MAX_LINE)
        replies: list[Any] = []
        rejected = [Rejected(line, "dòng quá dài") for line in too_long]
        for line in lines:
            reply = ascii_board.parse_reply(line)
            if reply is not None:
                replies.append(reply)
            elif ascii_board.parse_request(line) is not None:
                log.debug("%s: host line heard (echo): %r", self.name, line)
            else:
                rejected.append(Rejected(line, "dòng không hiểu được"))
        return replies, rejected, rest

    def _execute(self, job: Job) -> str:
        unit = job.key
        assert unit is not None
        if job.kind == "poll":
            self._poll(unit)
            return DONE
        if self.protocol == "modbus":
            frame = rtu.write_register_frame(unit, self.register, int(job.data))
            reply = self._ask(frame, self._modbus_accept(unit, rtu.WRITE_SINGLE))
        else:
            frame = ascii_board.show_line(unit, str(job.data))
            reply = self._ask(frame, self._ascii_accept(("ok", "error")))
        if reply is None:
            self._device_silent(unit)
            return RETRY
        self._device_answered(unit)
        problem = self._refusal(reply, frame)
        if problem:
            log.error("%s: board %d refused %r: %s", self.name, unit, job.data, problem)
            return DROP
        return DONE

    def _refusal(self, reply: Any, frame: bytes) -> str | None:
        if isinstance(reply, rtu.RtuFrame):
            code = rtu.exception_code(reply)
            if code is not None:
                return f"Modbus exception {code}: {rtu.EXCEPTION_TEXT_VI.get(code, '')}"
            if reply.raw != frame:
                return f"unexpected echo {reply.raw.hex(' ')}"
            return None
        if reply.kind == "error":
            return "ER"
        return None

    def _ask(self, frame: bytes, accept: Any) -> Any | None:
        for _ in range(1 + self.settings.retries):
            reply = self._transact(frame, accept)
            if reply is not None:
                return reply
        return None

    @staticmethod
    def _modbus_accept(unit: int, function: int) -> Any:
        def accept(item: Any) -> bool:
            return (isinstance(item, rtu.RtuFrame) and item.unit == unit
                    and item.function in (function, function | 0x80))
        return accept

    @staticmethod
    def _ascii_accept(kinds: tuple[str, ...]) -> Any:
        def accept(item: Any) -> bool:
            return isinstance(item, ascii_board.AsciiReply) and item.kind in kinds
        return accept

    def _poll(self, unit: int) -> None:
        if self.protocol == "modbus":
            reply = self._transact(rtu.read_registers_frame(unit, self.register, 1),
                                   self._modbus_accept(unit, rtu.READ_HOLDING))
        else:
            reply = self._transact(ascii_board.query_line(unit),
                                   self._ascii_accept(("shows", "error")))
        if reply is None:
            self._device_silent(unit)
            return
        self._device_answered(unit)
        shown: int | str | None = None
        if isinstance(reply, rtu.RtuFrame):
            if rtu.exception_code(reply) is None:
                try:
                    shown = rtu.parse_read_response(reply)[0]
                except (ValueError, IndexError):
                    log.warning("%s: bad read answer from %d: %s", self.name, unit,
                                reply.raw.hex(" "))
        elif reply.kind == "shows":
            shown = reply.text
        with self._lock:
            wanted = self._wanted.get(unit)
            pending = ("show", unit) in self._commands
        if shown is not None and wanted is not None and shown != wanted and not pending:
            log.warning("%s: board %d shows %r instead of %r (power cut?): sending again",
                        self.name, unit, shown, wanted)
            self._queue_command(Job("show", unit, wanted))
