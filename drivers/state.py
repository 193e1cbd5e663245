"""The one set of device states, and the one state callback, of every driver.

Every driver (ticket printer, serial buses and their devices, cameras) reports its state
through ``on_state(name, state, detail)``:

- ``name``: the driver's name (``TicketPrinter(name=...)``, ``SerialBus(name=...)``,
  ``CameraScanner(name=...)``); a device on a serial bus is ``"<bus>:<kind>:<number>"``
  (e.g. ``"keypads:keypad:3"``);
- ``state``: a :class:`DeviceState`;
- ``detail``: one Vietnamese sentence for people ("Máy in hết giấy", "Bàn phím quầy 3 không
  trả lời...").

What a driver knows beyond that stays on the driver object, typed: the printer's
``status()`` (queued jobs, the printer's own fault), a bus's ``states()`` and ``stats()``,
a camera's ``stats()``. Callbacks run on the driver's own threads: keep them short.
"""

from __future__ import annotations

import logging
from enum import StrEnum
from typing import Callable


class DeviceState(StrEnum):
    """A device's state. A ``str``: ``DeviceState.READY == "ready"``, JSON gives "ready"."""

    CONNECTING = "connecting"  # opening the link, or waiting for the device's first answer
    READY = "ready"  # working
    BUSY = "busy"  # working on a job (a printer printing)
    ERROR = "error"  # cannot work: it could not be opened, or it reports a fault
    LOST = "lost"  # it was working and stopped answering; being retried
    CLOSED = "closed"  # stopped by the host


CONNECTING = DeviceState.CONNECTING
READY = DeviceState.READY
BUSY = DeviceState.BUSY
ERROR = DeviceState.ERROR
LOST = DeviceState.LOST
CLOSED = DeviceState.CLOSED

StateCallback = Callable[[str, DeviceState, str], None]
"""``on_state(name, state, detail)``: see the module docstring."""


def log_level(state: DeviceState) -> int:
    """How loudly a change to ``state`` is logged."""
    return logging.WARNING if state in (DeviceState.ERROR, DeviceState.LOST) else logging.INFO
