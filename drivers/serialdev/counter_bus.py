"""Counter keypads and rating boxes on one RS-485 bus (framed ASCII, :mod:`.framing`).

The host polls every device in turn (``P``); a keypad answers with its oldest key press
(``K``) or ``Y`` when it has none, a rating box with the chosen level (``V``). The host
passes each event on once (a repeated sequence number is a resend and is only acknowledged),
then acknowledges it (``A``) so the device forgets it. ``show`` and ``prompt`` queue a
``D`` / ``O`` command and return at once; the newest one per device wins (a command for a
lost device waits until it answers again). A device that has just powered up says so in its
poll answer (``Y?``) and the host sends it its current display or prompt again.
"""

from __future__ import annotations

import logging
from typing import Any, Callable, Iterable

from ..state import StateCallback
from . import counter_protocol as proto
from .base import SerialBus
from .framing import Frame, encode_frame, split_frames
from .jobs import DONE, DROP, RETRY, Job
from .settings import BusSettings, make_settings

log = logging.getLogger(__name__)

KeyListener = Callable[[int, str], None]
RatingListener = Callable[[int, str], None]

KEYPAD = "keypad"
RATING = "rating"


class CounterBus(SerialBus):
    """Keypads and/or rating boxes sharing one serial port.

    ``keypads`` and ``rating_boxes`` are counter numbers 1..32 (on the wire a rating box
    answers at 0x40 + number). ``on_key(number, key)`` gets ``call_next``, ``recall``,
    ``no_show``, ``finish``, ``transfer`` or ``pause``; ``on_rating(number, level)`` gets
    ``very_satisfied``, ``satisfied`` or ``unsatisfied``. Settings: :class:`BusSettings`
    fields, given as ``settings=`` and/or by name (``poll_interval=0.2, lost_after=3``).
    """

    device_labels = {KEYPAD: "Bàn phím quầy", RATING: "Hộp đánh giá quầy"}

    def __init__(
        self,
        url: str,
        *,
        keypads: Iterable[int] = (),
        rating_boxes: Iterable[int] = (),
        on_key: KeyListener | None = None,
        on_rating: RatingListener | None = None,
        on_state: StateCallback | None = None,
        name: str = "counter-bus",
        settings: BusSettings | None = None,
        **overrides: Any,
    ) -> None:
        super().__init__(url, name=name, settings=make_settings(settings, overrides),
                         on_state=on_state)
        self._on_key = on_key
        self._on_rating = on_rating
        self._display: dict[int, str] = {}  # wire address -> last D payload asked for
        self._prompt: dict[int, bool] = {}  # wire address -> last prompt state asked for
        self._last_seq: dict[int, int] = {}
        for number in keypads:
            self._add_device(proto.keypad_wire_address(number), KEYPAD, number)
        for number in rating_boxes:
            self._add_device(proto.rating_wire_address(number), RATING, number)

    # ------------------------------------------------------------------ public API

    @property
    def keypads(self) -> list[int]:
        """Counter numbers of the keypads on this bus."""
        with self._lock:
            return sorted(d.number for d in self._devices.values() if d.kind == KEYPAD)

    @property
    def rating_boxes(self) -> list[int]:
        """Counter numbers of the rating boxes on this bus."""
        with self._lock:
            return sorted(d.number for d in self._devices.values() if d.kind == RATING)

    def keypad_name(self, number: int) -> str:
        """The ``on_state`` name of keypad ``number``."""
        return f"{self.name}:{KEYPAD}:{number}"

    def rating_name(self, number: int) -> str:
        """The ``on_state`` name of rating box ``number``."""
        return f"{self.name}:{RATING}:{number}"

    def show(self, address: int, number: str, waiting: int) -> None:
        """Show ``number`` (<= 6 of 0-9 A-Z -) and the waiting count on keypad ``address``.

        Returns at once; raises ValueError for an unknown keypad or a number it cannot show.
        """
        wire = self._wire(address, KEYPAD)
        payload = proto.display_payload(number, waiting)
        with self._lock:
            self._display[wire] = payload
        self._queue_command(Job("display", wire, payload))

    def prompt(self, address: int, open: bool = True) -> None:  # noqa: A002 (wire meaning)
        """Light up (``open=True``) or switch off the rating box of counter ``address``."""
        wire = self._wire(address, RATING)
        with self._lock:
            self._prompt[wire] = bool(open)
        self._queue_command(Job("prompt", wire, bool(open)))

    def poll_now(self, address: int, kind: str = KEYPAD) -> bool:
        """Ask a device now; False when a poll for it is already waiting (dropped)."""
        return self._queue_poll("poll", self._wire(address, kind))

    # ------------------------------------------------------------------ internals

    def _make_simulator(self) -> Any:
        from .sim import SimCounterBus

        return SimCounterBus(self.keypads, self.rating_boxes)

    def _wire(self, number: int, kind: str) -> int:
        wire = (proto.keypad_wire_address(number) if kind == KEYPAD
                else proto.rating_wire_address(number))
        device = self._devices.get(wire)
        if device is None or device.kind != kind:
            raise ValueError(f"{self.name}: no {kind} {number} on this bus")
        return wire

    def _parse(self, data: bytes) -> tuple[list[Frame], list[Any], bytes]:
        return split_frames(data)

    def _handle_frame(self, frame: Frame) -> None:
        if frame.command in proto.HOST_COMMANDS:
            log.debug("%s: host frame heard (echo): %s", self.name, frame.raw)
            return
        if frame.command not in proto.DEVICE_COMMANDS:
            log.warning("%s: unknown command %r from %02X ignored", self.name, frame.command,
                        frame.address)
            return
        self._replies.put(frame)

    def _execute(self, job: Job) -> str:
        wire = job.key
        assert wire is not None
        if job.kind == "poll":
            self._poll(wire)
            return DONE
        if job.kind == "display":
            frame = encode_frame(wire, proto.DISPLAY, job.data)
        elif job.kind == "prompt":
            frame = proto.prompt_frame(wire, job.data)
        else:
            raise ValueError(f"unknown job {job.kind}")
        reply = self._ask(wire, frame, (proto.DONE, proto.REFUSED))
        if reply is None:
            self._device_silent(wire)
            return RETRY
        self._device_answered(wire)
        if reply.command == proto.REFUSED:
            log.error("%s: device %02X refused %s (%s): %s", self.name, wire, job.kind,
                      reply.payload, frame)
            return DROP
        return DONE

    def _ask(self, wire: int, frame: bytes, answers: tuple[str, ...]) -> Frame | None:
        """Send ``frame`` up to 1 + retries times until ``wire`` answers one of ``answers``."""
        def accept(item: Any) -> bool:
            return isinstance(item, Frame) and item.address == wire and item.command in answers

        for _ in range(1 + self.settings.retries):
            reply = self._transact(frame, accept)
            if reply is not None:
                return reply
        return None

    def _poll(self, wire: int) -> None:
        def accept(item: Any) -> bool:
            return (isinstance(item, Frame) and item.address == wire
                    and item.command in proto.DEVICE_COMMANDS)

        reply = self._transact(proto.poll_frame(wire), accept)
        if reply is None:
            self._device_silent(wire)
            return
        self._device_answered(wire)
        if reply.command == proto.DONE:
            if reply.payload == proto.NEEDS_STATE:
                with self._lock:
                    self._last_seq.pop(wire, None)
                if self._resend_state(wire):
                    log.info("%s: device %02X has just powered up: state sent again",
                             self.name, wire)
            return
        if reply.command == proto.REFUSED:
            log.warning("%s: device %02X refused a poll (%s)", self.name, wire, reply.payload)
            return
        event = proto.parse_event(reply)
        device = self._devices[wire]
        expected = KEYPAD if reply.command == proto.KEY_EVENT else RATING
        if event is None or device.kind != expected:
            log.warning("%s: malformed event from %02X ignored: %r", self.name, wire, reply.raw)
            return
        with self._lock:
            fresh = self._last_seq.get(wire) != event.seq
            self._last_seq[wire] = event.seq
        if fresh:
            log.info("%s: %s %d: %s", self.name, device.kind, device.number, event.value)
            if event.kind == "key":
                self._emit(self._on_key, device.number, event.value)
            else:
                self._emit(self._on_rating, device.number, event.value)
        else:
            log.info("%s: repeated event %02X from %02X (acknowledged again)", self.name,
                     event.seq, wire)
        if self._ask(wire, proto.ack_frame(wire, event.seq), (proto.DONE,)) is None:
            log.warning("%s: event %02X from %02X not acknowledged; it will come again",
                        self.name, event.seq, wire)
        # More events may be waiting in the device: ask again at once.
        self._queue_poll("poll", wire)

    def _resend_state(self, wire: int) -> bool:
        """Queue the device's current display / prompt again; False if it has none yet."""
        with self._lock:
            payload = self._display.get(wire)
            prompt = self._prompt.get(wire)
            waiting = {("display", wire), ("prompt", wire)} & set(self._commands)
        if payload is not None and ("display", wire) not in waiting:
            self._queue_command(Job("display", wire, payload))
        if prompt is not None and ("prompt", wire) not in waiting:
            self._queue_command(Job("prompt", wire, prompt))
        return payload is not None or prompt is not None


class KeypadBus(CounterBus):
    """Counter keypads only: ``KeypadBus(url, [1, 2, 3], on_key=..., on_state=...)``."""

    def __init__(
        self,
        url: str,
        addresses: Iterable[int],
        *,
        on_key: KeyListener | None = None,
        on_state: StateCallback | None = None,
        name: str = "keypads",
        settings: BusSettings | None = None,
        **overrides: Any,
    ) -> None:
        super().__init__(url, keypads=addresses, on_key=on_key, on_state=on_state, name=name,
                         settings=settings, **overrides)

    def _make_simulator(self) -> Any:
        from .sim import SimKeypads

        return SimKeypads(self.keypads)


class RatingBoxBus(CounterBus):
    """Rating boxes only: ``RatingBoxBus(url, [1, 2], on_rating=..., on_state=...)``."""

    def __init__(
        self,
        url: str,
        addresses: Iterable[int],
        *,
        on_rating: RatingListener | None = None,
        on_state: StateCallback | None = None,
        name: str = "ratings",
        settings: BusSettings | None = None,
        **overrides: Any,
    ) -> None:
        super().__init__(url, rating_boxes=addresses, on_rating=on_rating, on_state=on_state,
                         name=name, settings=settings, **overrides)

    def poll_now(self, address: int, kind: str = RATING) -> bool:
        return super().poll_now(address, kind)

    def _make_simulator(self) -> Any:
        from .sim import SimRatingBoxes

        return SimRatingBoxes(self.rating_boxes)

