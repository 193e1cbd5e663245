"""Line settings and timings of a serial bus, and the serial URL with its line settings.

A port path may carry its line settings in a query, e.g. ``/dev/ttyUSB0?baudrate=19200&parity=E``
(``baudrate``, ``bytesize``, ``parity``, ``stopbits``): :func:`split_serial_url` takes them
off before the port is opened. pyserial's own URL schemes (``socket://``, ``rfc2217://``,
``loop://``, ``spy://``) and ``sim://`` (the simulated twin) keep their query untouched.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

SIM_URL = "sim://"


@dataclass(frozen=True)
class BusSettings:
    """Every timing of a bus, by name (seconds unless said otherwise).

    baudrate, bytesize, parity, stopbits
                        line settings (keypads, boards: 9600 8N1)
    read_timeout        one read's wait; also the quiet gap after which a half-received
                        frame is dropped as noise
    write_timeout       a write that takes longer fails and the link is reopened
    reply_timeout       how long a device's answer is awaited
    retries             extra sends of a command whose answer did not come
    poll_interval       time between two polls of the same device (heartbeat; a key press
                        reaches the host within about this)
    lost_after          polls in a row without an answer before a device is declared lost
    lost_poll_interval  time between polls of a device that is lost
    reconnect_initial   first wait before reopening a port that failed (doubles each time)
    reconnect_max       longest wait between two reopen attempts
    reopen_when_silent  when every device of an open port has been lost this long, the
                        port is closed and reopened (a half-dead TCP serial server, a stuck
                        USB adapter); 0 never reopens for silence
    local_echo          the adapter echoes what the host sends (2-wire RS-485 without echo
                        suppression): the echo of each request is skipped
    max_pending         commands kept while devices are away; the oldest go first beyond it
    """

    baudrate: int = 9600
    bytesize: int = 8
    parity: str = "N"
    stopbits: float = 1
    read_timeout: float = 0.05
    write_timeout: float = 1.0
    reply_timeout: float = 0.25
    retries: int = 2
    poll_interval: float = 0.5
    lost_after: int = 3
    lost_poll_interval: float = 2.0
    reconnect_initial: float = 0.5
    reconnect_max: float = 10.0
    reopen_when_silent: float = 30.0
    local_echo: bool = False
    max_pending: int = 256

    def __post_init__(self) -> None:
        positive = ("read_timeout", "write_timeout", "reply_timeout", "poll_interval",
                    "lost_poll_interval", "reconnect_initial", "reconnect_max")
        for field in positive:
            if getattr(self, field) <= 0:
                raise ValueError(f"{field} must be > 0")
        if self.reopen_when_silent < 0:
            raise ValueError("reopen_when_silent must be >= 0")
        if self.lost_after < 1 or self.retries < 0 or self.max_pending < 1:
            raise ValueError("lost_after >= 1, retries >= 0, max_pending >= 1")


def make_settings(base: BusSettings | None, overrides: dict[str, Any]) -> BusSettings:
    """``base`` (or the defaults) with the named settings replaced."""
    return dataclasses.replace(base or BusSettings(), **overrides)


def split_serial_url(url: str) -> tuple[str, dict[str, Any]]:
    """``(port path, line settings)`` of a device URL (see the module docstring)."""
    if "://" in url or "?" not in url:
        return url, {}
    path, _, query = url.partition("?")
    out: dict[str, Any] = {}
    for key, value in parse_qsl(query):
        if key in ("baudrate", "bytesize", "stopbits"):
            out[key] = int(value) if key != "stopbits" else float(value) if "." in value else int(value)
        elif key == "parity":
            out[key] = value.upper()[:1]
        else:
            raise ValueError(f"thiết lập cổng nối tiếp không hỗ trợ: {key!r} "
                             "(dùng baudrate, bytesize, parity, stopbits)")
    return path, out
