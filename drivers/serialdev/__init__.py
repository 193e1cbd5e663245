"""Serial device drivers: counter keypads, LED counter boards, rating boxes, barcode scanners.

Every bus is one long-lived object per port (``start()`` / ``stop()``), opened through
``serial.serial_for_url`` (``/dev/ttyUSB0``, ``socket://host:port``, ``rfc2217://...``,
``loop://``). Public methods only queue work; listeners are called on the bus's own events
thread. Protocols, wiring and timings: docs/hardware-serial.md. Simulated twins for tests
and demos: :mod:`drivers.serialdev.sim`.
"""

from .base import (
    CLOSED,
    CONNECTING,
    ERROR,
    LOST,
    READY,
    STATES,
    BusSettings,
    SerialBus,
    StateInfo,
)
from .counter_bus import CounterBus, KeypadBus, RatingBoxBus
from .counter_protocol import KEY_CODES, LEVEL_CODES, LEVEL_LABELS_VI
from .led_board import LedBoardBus
from .scanner import SerialScanner

KEYS = tuple(KEY_CODES)
LEVELS = tuple(LEVEL_CODES)

__all__ = [
    "BusSettings",
    "CLOSED",
    "CONNECTING",
    "CounterBus",
    "ERROR",
    "KEYS",
    "KeypadBus",
    "LEVELS",
    "LEVEL_LABELS_VI",
    "LOST",
    "LedBoardBus",
    "READY",
    "RatingBoxBus",
    "STATES",
    "SerialBus",
    "SerialScanner",
    "StateInfo",
]
