"""Ignore a code that is read again while it is still in front of the camera."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class CodeDeduper:
    """accept(code) is True for a code not seen in the last window seconds.

    Every sighting, accepted or not, restarts the code's window: a receipt held in front of
    the camera for a minute is reported once, and again only after it has been out of
    sight for window seconds. A window of 0 accepts everything. Thread-safe.
    """

    def __init__(self, window: float, clock: Callable[[], float] = time.monotonic) -> None:
        if window < 0:
            raise ValueError("dedupe window must not be negative")
        self._window = window
        self._clock = clock
        self._last_seen: dict[str, float] = {}
        self._lock = threading.Lock()

    @property
    def window(self) -> float:
        return self._window

    def accept(self, code: str) -> bool:
        now = self._clock()
        with self._lock:
            last = self._last_seen.get(code)
            self._last_seen[code] = now
            if len(self._last_seen) > 64:
                self._last_seen = {
                    c: t for c, t in self._last_seen.items() if now - t < self._window or c == code
                }
            return last is None or now - last >= self._window

    def clear(self) -> None:
        with self._lock:
            self._last_seen.clear()
