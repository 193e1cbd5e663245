"""Commands and payloads of counter keypads and rating boxes (pure functions).

Both kinds share one RS-485 bus and the frame format of :mod:`.framing`. The host is the
only master: a device speaks only to answer a frame addressed to it, so key presses and
ratings wait in the device until the host polls it.

Host to device:
  ``P``  poll (heartbeat), no payload. Answer: ``Y`` + status, or the oldest pending event
  ``D``  keypad display: ``<number>,<waiting>`` e.g. ``A012,5``. Answer ``Y``
  ``O``  rating prompt: ``1`` light up (open), ``0`` switch off (close). Answer ``Y``
  ``A``  event received: ``<seq>`` (2 hex digits). Answer ``Y``; the device forgets it

Device to host (only as an answer):
  ``Y``  done / nothing to report. Payload ``""`` or ``"?"`` (just powered up: send me
         my display or prompt again)
  ``X``  refused: payload is a reason code (``E1`` bad payload, ``E2`` unknown command)
  ``K``  key event: ``<seq><key>`` e.g. ``07N``
  ``V``  rating: ``<seq><level>`` e.g. ``2A3``

Addresses: keypads 0x01..0x20 (counter 1..32); rating boxes 0x41..0x60 (0x40 + counter
1..32), so both kinds can share one cable.
"""

from __future__ import annotations

from dataclasses import dataclass

from .framing import Frame, encode_frame

# Host -> device
POLL = "P"
DISPLAY = "D"
PROMPT = "O"
EVENT_ACK = "A"
HOST_COMMANDS = frozenset({POLL, DISPLAY, PROMPT, EVENT_ACK})
# Device -> host
DONE = "Y"
REFUSED = "X"
KEY_EVENT = "K"
RATING_EVENT = "V"
DEVICE_COMMANDS = frozenset({DONE, REFUSED, KEY_EVENT, RATING_EVENT})

NEEDS_STATE = "?"

KEYPAD_FIRST = 1
KEYPAD_LAST = 32
RATING_BASE = 0x40

#: key name -> wire letter
KEY_CODES: dict[str, str] = {
    "call_next": "N",
    "recall": "R",
    "no_show": "S",
    "finish": "F",
    "transfer": "T",
    "pause": "H",
}
KEY_NAMES: dict[str, str] = {code: name for name, code in KEY_CODES.items()}

#: rating level -> wire digit (level names as in the public API)
LEVEL_CODES: dict[str, str] = {
    "very_satisfied": "3",
    "satisfied": "2",
    "unsatisfied": "1",
}
LEVEL_NAMES: dict[str, str] = {code: name for name, code in LEVEL_CODES.items()}
LEVEL_LABELS_VI: dict[str, str] = {
    "very_satisfied": "Rất hài lòng",
    "satisfied": "Hài lòng",
    "unsatisfied": "Không hài lòng",
}

DISPLAY_MAX = 6
WAITING_MAX = 999
_DISPLAY_CHARS = frozenset("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ-")


@dataclass(frozen=True)
class DeviceEvent:
    """A key press or a rating, as carried by a ``K`` or ``V`` answer."""

    address: int
    kind: str  # "key" or "rating"
    seq: int
    value: str  # key name or level name


def keypad_wire_address(counter: int) -> int:
    if not KEYPAD_FIRST <= counter <= KEYPAD_LAST:
        raise ValueError(f"keypad address {counter} outside {KEYPAD_FIRST}..{KEYPAD_LAST}")
    return counter


def rating_wire_address(counter: int) -> int:
    if not KEYPAD_FIRST <= counter <= KEYPAD_LAST:
        raise ValueError(f"rating box address {counter} outside {KEYPAD_FIRST}..{KEYPAD_LAST}")
    return RATING_BASE + counter


def display_text(number: str) -> str:
    """The keypad display's text for ``number``: upper case, at most 6 of ``0-9 A-Z -``."""
    text = number.strip().upper()
    if len(text) > DISPLAY_MAX:
        raise ValueError(f"số hiển thị quá dài (tối đa {DISPLAY_MAX} ký tự): {number!r}")
    if any(ch not in _DISPLAY_CHARS for ch in text):
        raise ValueError(f"số hiển thị chỉ gồm 0-9, A-Z và '-': {number!r}")
    return text


def display_payload(number: str, waiting: int) -> str:
    """``D`` payload: ``<number>,<waiting>`` (waiting clamped to 0..999)."""
    count = max(0, min(WAITING_MAX, int(waiting)))
    return f"{display_text(number)},{count}"


def parse_display_payload(payload: str) -> tuple[str, int]:
    number, sep, count = payload.partition(",")
    if not sep or not count.isdigit() or len(count) > 3:
        raise ValueError(f"bad display payload {payload!r}")
    return display_text(number), int(count)


def poll_frame(address: int) -> bytes:
    return encode_frame(address, POLL)


def display_frame(address: int, number: str, waiting: int) -> bytes:
    return encode_frame(address, DISPLAY, display_payload(number, waiting))


def prompt_frame(address: int, open_: bool) -> bytes:
    return encode_frame(address, PROMPT, "1" if open_ else "0")


def ack_frame(address: int, seq: int) -> bytes:
    return encode_frame(address, EVENT_ACK, f"{seq & 0xFF:02X}")


def event_payload(seq: int, code: str) -> str:
    return f"{seq & 0xFF:02X}{code}"


def parse_event(frame: Frame) -> DeviceEvent | None:
    """The event a ``K``/``V`` answer carries, or None if it is not a valid event."""
    if frame.command not in (KEY_EVENT, RATING_EVENT) or len(frame.payload) != 3:
        return None
    try:
        seq = int(frame.payload[:2], 16)
    except ValueError:
        return None
    code = frame.payload[2]
    if frame.command == KEY_EVENT:
        name = KEY_NAMES.get(code)
        return DeviceEvent(frame.address, "key", seq, name) if name else None
    level = LEVEL_NAMES.get(code)
    return DeviceEvent(frame.address, "rating", seq, level) if level else None
