"""Serial device drivers: counter keypads, LED counter boards, rating boxes, barcode scanners.

Every bus is one long-lived object per port (``start()`` / ``stop()``), opened through
``serial.serial_for_url`` (``/dev/ttyUSB0``, ``socket://host:port``, ``rfc2217://...``,
``loop://``; line settings in the path's query, ``/dev/ttyUSB0?baudrate=19200``). Public
methods only queue work; listeners are called on the bus's own events thread; states are
reported as by every driver (drivers.state). Protocols, wiring and timings:
docs/hardware-serial.md. Simulated twins for tests and demos: :mod:`drivers.serialdev.sim`;
a bus opened on ``sim://`` starts its own (``bus.simulator``).
"""

from ..state import DeviceState
from .base import SerialBus
from .jobs import StateInfo
from .settings import SIM_URL, BusSettings, split_serial_url
from .counter_bus import CounterBus, KeypadBus, RatingBoxBus
from .counter_protocol import KEY_CODES, LEVEL_CODES, LEVEL_LABELS_VI
from .led_board import LedBoardBus
from .scanner import SerialScanner

KEYS = tuple(KEY_CODES)
LEVELS = tuple(LEVEL_CODES)

__all__ = [
    "BusSettings",
    "CounterBus",
    "DeviceState",
    "KEYS",
    "KeypadBus",
    "LEVELS",
    "LEVEL_LABELS_VI",
    "LedBoardBus",
    "RatingBoxBus",
    "SIM_URL",
    "SerialBus",
    "SerialScanner",
    "StateInfo",
    "split_serial_url",
]
