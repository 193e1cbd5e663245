"""Simulated twins of the serial devices, speaking the real bytes from the device side.

Each simulator owns a link (:mod:`.sim_link`): ``transport="tcp"`` (the driver opens
``sim.url`` = ``socket://127.0.0.1:PORT``) or ``transport="pty"`` (the driver opens
``sim.url``, a symlink to a pseudo-terminal). All of them can ``unplug()`` (close the link;
``keep_link=True`` keeps it open but stops answering, like a cut RS-485 pair) and
``replug()``, and can push raw bytes to the host with ``inject()`` (noise tests).

* :class:`SimCounterBus` - keypads and rating boxes (framed ASCII), with
  :class:`SimKeypads` (``press(address, key)``, ``display(address)``) and
  :class:`SimRatingBoxes` (``press(address, level)``, ``is_open(address)``).
* :class:`SimModbusBoards` - Modbus-RTU digit boards: checks the CRC, answers functions 03,
  06 and 16 like a slave, keeps the registers, records every good request frame.
* :class:`SimAsciiBoards` - boards of the ASCII line protocol.
* :class:`SimScanner` - ``scan(code)`` sends the code with its CR LF.
"""

from __future__ import annotations

import collections
import logging
import random
import threading
from dataclasses import dataclass, field
from typing import Iterable

from . import ascii_board
from . import counter_protocol as proto
from . import modbus_rtu as rtu
from .framing import Frame, encode_frame, split_frames
from .lines import split_lines
from .sim_link import PtySimLink, SimLink, TcpSimLink

log = logging.getLogger(__name__)


class SimDevice:
    """Base of the simulators: the link, unplug/replug, noise, byte buffering."""

    def __init__(self, name: str, transport: str = "tcp", link_path: str | None = None) -> None:
        self.name = name
        self._lock = threading.RLock()
        self._buffer = bytearray()
        self.answering = True
        self.bad_frames = 0
        self.link: SimLink
        if transport == "tcp":
            self.link = TcpSimLink(self._on_bytes, name=name)
        elif transport == "pty":
            self.link = PtySimLink(self._on_bytes, name=name, link_path=link_path)
        else:
            raise ValueError("transport must be 'tcp' or 'pty'")

    @property
    def url(self) -> str:
        return self.link.url

    def start(self) -> "SimDevice":
        self.link.start()
        return self

    def stop(self) -> None:
        self.link.stop()

    def __enter__(self) -> "SimDevice":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def unplug(self, keep_link: bool = False) -> None:
        """Close the link (the host sees it drop), or with ``keep_link`` just go silent."""
        with self._lock:
            self.answering = False
            self._buffer.clear()
        if not keep_link:
            self.link.unplug()

    def replug(self) -> None:
        self.link.replug()
        with self._lock:
            self.answering = True

    def inject(self, data: bytes) -> bool:
        """Push raw bytes (noise, corrupt frames) to the host."""
        return self.link.send(data)

    def _on_bytes(self, data: bytes) -> bytes:
        with self._lock:
            if not data:
                if self._buffer:  # a quiet gap ends any half-received frame
                    self._drop_partial(bytes(self._buffer))
                    self._buffer.clear()
                return b""
            if not self.answering:
                return b""
            self._buffer += data
            return self._consume()

    def _consume(self) -> bytes:
        raise NotImplementedError

    def _drop_partial(self, data: bytes) -> None:
        self.bad_frames += 1
        log.info("sim %s: dropped unfinished %r", self.name, data[:64])


# --------------------------------------------------------------------- keypads, rating boxes


@dataclass
class _SimUnit:
    kind: str
    number: int
    present: bool = True
    seq: int = 0
    events: collections.deque[tuple[int, str]] = field(default_factory=collections.deque)
    needs_state: bool = True
    display: tuple[str, int] | None = None
    history: list[tuple[str, int]] = field(default_factory=list)
    lit: bool = False
    prompts: list[bool] = field(default_factory=list)


class SimCounterBus(SimDevice):
    """Keypads (wire 0x01..0x20) and rating boxes (wire 0x41..0x60) on one simulated bus."""

    def __init__(self, keypads: Iterable[int] = (), rating_boxes: Iterable[int] = (), *,
                 transport: str = "tcp", link_path: str | None = None, seed: int = 1,
                 name: str = "counter-bus") -> None:
        super().__init__(name, transport, link_path)
        self._rng = random.Random(seed)
        self._units: dict[int, _SimUnit] = {}
        for number in keypads:
            self._units[proto.keypad_wire_address(number)] = self._new_unit("keypad", number)
        for number in rating_boxes:
            self._units[proto.rating_wire_address(number)] = self._new_unit("rating", number)
        self.frames: list[Frame] = []  # every good frame the host sent to our devices
        self.acked: list[tuple[int, int]] = []
        self._mangle = 0
        self._mangle_only: str | None = None
        self._ignore: dict[str, int] = {}
        self._changed = threading.Condition(self._lock)

    def _new_unit(self, kind: str, number: int) -> _SimUnit:
        # Sequence numbers start at random after power-up (1..255, never 0).
        return _SimUnit(kind, number, seq=self._rng.randint(1, 255))

    # -- what a person does / sees
    def press_key(self, address: int, key: str) -> None:
        if key not in proto.KEY_CODES:
            raise ValueError(f"unknown key {key!r}")
        unit = self._unit(proto.keypad_wire_address(address))
        with self._lock:
            unit.events.append((self._next_seq(unit), proto.KEY_CODES[key]))

    def press_rating(self, address: int, level: str) -> bool:
        """Press a button; False (nothing happens) while the box is not lit."""
        if level not in proto.LEVEL_CODES:
            raise ValueError(f"unknown level {level!r}")
        unit = self._unit(proto.rating_wire_address(address))
        with self._lock:
            if not unit.lit:
                return False
            unit.lit = False  # one choice per prompt
            unit.events.append((self._next_seq(unit), proto.LEVEL_CODES[level]))
            return True

    def display(self, address: int) -> tuple[str, int] | None:
        """(number, waiting) the keypad shows now, None while blank."""
        with self._lock:
            return self._unit(proto.keypad_wire_address(address)).display

    def display_history(self, address: int) -> list[tuple[str, int]]:
        with self._lock:
            return list(self._unit(proto.keypad_wire_address(address)).history)

    def is_open(self, address: int) -> bool:
        """True while the rating box is lit (waiting for a choice)."""
        with self._lock:
            return self._unit(proto.rating_wire_address(address)).lit

    def pending_events(self, wire: int) -> int:
        with self._lock:
            return len(self._units[wire].events)

    # -- fault injection
    def set_present(self, wire: int, present: bool) -> None:
        """Disconnect one device from the bus (the others keep answering)."""
        with self._lock:
            self._units[wire].present = present

    def power_cycle(self, wire: int) -> None:
        """The device restarts: blank display, prompt off, events lost, new sequence."""
        with self._lock:
            old = self._units[wire]
            self._units[wire] = self._new_unit(old.kind, old.number)

    def mangle_replies(self, count: int, only: str | None = None) -> None:
        """Corrupt the checksum of the next ``count`` answers (or of answers ``only``)."""
        with self._lock:
            self._mangle = count
            self._mangle_only = only

    def ignore_frames(self, command: str, count: int) -> None:
        """Lose the next ``count`` host frames of ``command`` on the way (no answer)."""
        with self._lock:
            self._ignore[command] = count

    def wait_for(self, predicate, timeout: float) -> bool:  # type: ignore[no-untyped-def]
        """Wait until ``predicate()`` holds (checked after every frame) or ``timeout``."""
        with self._changed:
            return self._changed.wait_for(predicate, timeout)

    # -- internals
    def _unit(self, wire: int) -> _SimUnit:
        unit = self._units.get(wire)
        if unit is None:
            raise ValueError(f"no simulated device at {wire:#04x}")
        return unit

    @staticmethod
    def _next_seq(unit: _SimUnit) -> int:
        seq = unit.seq
        unit.seq = seq % 255 + 1
        return seq

    def _consume(self) -> bytes:
        frames, rejected, rest = split_frames(bytes(self._buffer))
        self._buffer[:] = rest
        self.bad_frames += len(rejected)
        out = bytearray()
        for frame in frames:
            unit = self._units.get(frame.address)
            if unit is None or not unit.present or frame.command not in proto.HOST_COMMANDS:
                continue
            if self._ignore.get(frame.command, 0) > 0:
                self._ignore[frame.command] -= 1
                continue
            self.frames.append(frame)
            reply = self._answer(frame.address, unit, frame)
            if (self._mangle and reply
                    and (self._mangle_only is None or chr(reply[3]) == self._mangle_only)):
                self._mangle -= 1
                reply = reply[:-1] + (b"0" if reply[-1:] != b"0" else b"1")
            out += reply
        self._changed.notify_all()
        return bytes(out)

    def _answer(self, wire: int, unit: _SimUnit, frame: Frame) -> bytes:
        cmd = frame.command
        if cmd == proto.POLL:
            if unit.events:
                seq, code = unit.events[0]
                kind = proto.KEY_EVENT if unit.kind == "keypad" else proto.RATING_EVENT
                return encode_frame(wire, kind, proto.event_payload(seq, code))
            return encode_frame(wire, proto.DONE, proto.NEEDS_STATE if unit.needs_state else "")
        if cmd == proto.EVENT_ACK:
            try:
                seq = int(frame.payload, 16)
            except ValueError:
                return encode_frame(wire, proto.REFUSED, "E1")
            if unit.events and unit.events[0][0] == seq:
                unit.events.popleft()
                self.acked.append((wire, seq))
            return encode_frame(wire, proto.DONE)
        if cmd == proto.DISPLAY and unit.kind == "keypad":
            try:
                shown = proto.parse_display_payload(frame.payload)
            except ValueError:
                return encode_frame(wire, proto.REFUSED, "E1")
            unit.display = shown
            unit.history.append(shown)
            unit.needs_state = False
            return encode_frame(wire, proto.DONE)
        if cmd == proto.PROMPT and unit.kind == "rating" and frame.payload in ("0", "1"):
            unit.lit = frame.payload == "1"
            unit.prompts.append(unit.lit)
            unit.needs_state = False
            return encode_frame(wire, proto.DONE)
        return encode_frame(wire, proto.REFUSED, "E2")


class SimKeypads(SimCounterBus):
    """Counter keypads: ``press(address, key)``, ``display(address)``."""

    def __init__(self, addresses: Iterable[int], *, transport: str = "tcp",
                 link_path: str | None = None, seed: int = 1) -> None:
        super().__init__(keypads=addresses, transport=transport, link_path=link_path,
                         seed=seed, name="keypads")

    def press(self, address: int, key: str) -> None:
        self.press_key(address, key)


class SimRatingBoxes(SimCounterBus):
    """Rating boxes: ``press(address, level)`` (only while lit), ``is_open(address)``."""

    def __init__(self, addresses: Iterable[int], *, transport: str = "tcp",
                 link_path: str | None = None, seed: int = 1) -> None:
        super().__init__(rating_boxes=addresses, transport=transport, link_path=link_path,
                         seed=seed, name="ratings")

    def press(self, address: int, level: str) -> bool:
        return self.press_rating(address, level)


# --------------------------------------------------------------------- LED boards


class SimModbusBoards(SimDevice):
    """Modbus-RTU LED digit boards (slaves) sharing one simulated RS-485 line."""

    REGISTERS = 8

    def __init__(self, units: Iterable[int] = (1,), *, transport: str = "tcp",
                 link_path: str | None = None) -> None:
        super().__init__("modbus-boards", transport, link_path)
        self.registers: dict[int, list[int]] = {u: [0] * self.REGISTERS for u in units}
        self.received: list[bytes] = []  # every good request frame, exactly as sent
        self.crc_errors = 0
        self.absent: set[int] = set()
        self._changed = threading.Condition(self._lock)

    def value(self, unit: int, register: int = 0) -> int:
        """What board ``unit`` shows (its register)."""
        with self._lock:
            return self.registers[unit][register]

    def power_cycle(self, unit: int) -> None:
        with self._lock:
            self.registers[unit] = [0] * self.REGISTERS

    def set_present(self, unit: int, present: bool) -> None:
        with self._lock:
            (self.absent.discard if present else self.absent.add)(unit)

    def wait_for(self, predicate, timeout: float) -> bool:  # type: ignore[no-untyped-def]
        with self._changed:
            return self._changed.wait_for(predicate, timeout)

    def _consume(self) -> bytes:
        frames, rejected, rest = rtu.split_rtu(bytes(self._buffer), "request")
        self._buffer[:] = rest
        for bad in rejected:
            self.crc_errors += 1
            log.info("sim modbus: ignored %s (%s)", bad.raw.hex(" "), bad.reason)
        out = bytearray()
        for frame in frames:
            if not rtu.crc_ok(frame.raw):  # split_rtu already checks; a real slave would too
                self.crc_errors += 1
                continue
            self.received.append(frame.raw)
            if frame.unit not in self.registers or frame.unit in self.absent:
                continue  # another slave's frame (or this board is unplugged): stay quiet
            out += self._answer(frame)
        self._changed.notify_all()
        return bytes(out)

    def _drop_partial(self, data: bytes) -> None:
        # After the 3.5-character gap these bytes cannot become a frame: bad CRC or noise.
        self.crc_errors += 1
        log.info("sim modbus: ignored %s (bad CRC or noise)", data[:64].hex(" "))

    def _answer(self, frame: rtu.RtuFrame) -> bytes:
        regs = self.registers[frame.unit]
        data = frame.data

        def exception(code: int) -> bytes:
            return rtu.with_crc(bytes([frame.unit, frame.function | 0x80, code]))

        if frame.function == rtu.READ_HOLDING:
            start = int.from_bytes(data[0:2], "big")
            count = int.from_bytes(data[2:4], "big")
            if count < 1 or start + count > len(regs):
                return exception(2)
            body = b"".join(v.to_bytes(2, "big") for v in regs[start:start + count])
            return rtu.with_crc(bytes([frame.unit, 3, len(body)]) + body)
        if frame.function == rtu.WRITE_SINGLE:
            reg = int.from_bytes(data[0:2], "big")
            if reg >= len(regs):
                return exception(2)
            regs[reg] = int.from_bytes(data[2:4], "big")
            return frame.raw  # a write-single answer echoes the request
        if frame.function == rtu.WRITE_MULTIPLE:
            start = int.from_bytes(data[0:2], "big")
            count = int.from_bytes(data[2:4], "big")
            if start + count > len(regs) or data[4] != 2 * count:
                return exception(2)
            for k in range(count):
                regs[start + k] = int.from_bytes(data[5 + 2 * k:7 + 2 * k], "big")
            return rtu.with_crc(bytes([frame.unit, 0x10]) + data[0:4])
        return exception(1)


class SimAsciiBoards(SimDevice):
    """LED text boards of the ASCII line protocol (``#NN:text`` -> ``OK``)."""

    def __init__(self, addresses: Iterable[int] = (1,), *, transport: str = "tcp",
                 link_path: str | None = None) -> None:
        super().__init__("ascii-boards", transport, link_path)
        self.texts: dict[int, str] = {a: "" for a in addresses}
        self.lines: list[bytes] = []
        self._changed = threading.Condition(self._lock)

    def text(self, address: int) -> str:
        with self._lock:
            return self.texts[address]

    def power_cycle(self, address: int) -> None:
        with self._lock:
            self.texts[address] = ""

    def wait_for(self, predicate, timeout: float) -> bool:  # type: ignore[no-untyped-def]
        with self._changed:
            return self._changed.wait_for(predicate, timeout)

    def _consume(self) -> bytes:
        lines, too_long, rest = split_lines(bytes(self._buffer), ascii_board.MAX_LINE)
        self._buffer[:] = rest
        self.bad_frames += len(too_long)
        out = bytearray()
        for line in lines:
            request = ascii_board.parse_request(line)
            if request is None:
                self.bad_frames += 1
                continue
            self.lines.append(line)
            if request.address not in self.texts:
                continue
            if request.query:
                out += f"={self.texts[request.address]}\r\n".encode("ascii")
            elif len(request.text) > ascii_board.MAX_TEXT:
                out += b"ER\r\n"
            else:
                self.texts[request.address] = request.text
                out += b"OK\r\n"
        self._changed.notify_all()
        return bytes(out)


# --------------------------------------------------------------------- scanner


class SimScanner(SimDevice):
    """A serial barcode scanner: ``scan(code)`` sends the code and its terminator."""

    def __init__(self, *, transport: str = "tcp", link_path: str | None = None,
                 terminator: bytes = b"\r\n") -> None:
        super().__init__("scanner", transport, link_path)
        self.terminator = terminator

    def scan(self, code: str, terminator: bytes | None = None) -> bool:
        """Send one code; False when no host has the port open."""
        end = self.terminator if terminator is None else terminator
        return self.link.send(code.encode("utf-8") + end)

    def _consume(self) -> bytes:
        self._buffer.clear()  # scanners ignore what the host sends
        return b""


# What a person does to a twin, and what it shows: one place for the server's own twins
# (motcua/devices/registry.py) and a device agent's (agent/hardware.py).
def act_on_twin(sim: object, action: str, **kw: object) -> None:
    """Press a keypad's key (`address`, `key`), a rating box's button (`address`, `level`),
    or scan a code (`code`) on a simulated twin. ValueError: the twin cannot do that."""
    if action == "press" and kw.get("key") is not None and hasattr(sim, "press"):
        sim.press(int(kw["address"]), str(kw["key"]))  # type: ignore[attr-defined]
    elif action == "press" and kw.get("level") is not None and hasattr(sim, "press"):
        sim.press(int(kw["address"]), str(kw["level"]))  # type: ignore[attr-defined]
    elif action == "scan" and kw.get("code") is not None and hasattr(sim, "scan"):
        sim.scan(str(kw["code"]))  # type: ignore[attr-defined]
    else:
        raise ValueError(action)


def twin_state(sim: object, units: Iterable[int]) -> dict[str, object]:
    """What a twin shows, per address or unit: `displays` (keypads: [number, waiting]),
    `values` (Modbus boards), `texts` (ASCII boards), `open` (rating boxes lit)."""
    out: dict[str, object] = {}
    units = list(units)
    for attr, label in (("display", "displays"), ("value", "values"), ("text", "texts"), ("is_open", "open")):
        fn = getattr(sim, attr, None)
        if callable(fn):
            try:
                out[label] = {str(u): fn(u) for u in units}
            except Exception:  # noqa: BLE001 - a unit the twin does not have
                pass
    return out
