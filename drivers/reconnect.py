"""The delay between two attempts to reach a device that failed: one helper for every driver.

``Backoff(initial, maximum)`` starts at ``initial`` seconds, doubles after each failure up
to ``maximum``, and goes back to ``initial`` on success (``reset()``). ``jitter`` (a
fraction, 0 by default) spreads the delays of several devices that failed together.

Two ways to use it:

- a loop that sleeps: ``if backoff.wait(stop_event): return`` waits the current delay (or
  until ``stop_event`` is set, then True) and makes the next delay longer;
- a loop that schedules: ``next_try = time.monotonic() + backoff.next()``.

``backoff.delay`` is the delay the next failure will wait (for a message such as "thử lại
sau 2 giây").
"""

from __future__ import annotations

import random
import threading
from typing import Callable


class Backoff:
    def __init__(
        self,
        initial: float,
        maximum: float,
        *,
        factor: float = 2.0,
        jitter: float = 0.0,
        rng: Callable[[], float] = random.random,
    ) -> None:
        if initial <= 0 or maximum < initial:
            raise ValueError("need 0 < initial <= maximum")
        if factor < 1 or not 0 <= jitter < 1:
            raise ValueError("need factor >= 1 and 0 <= jitter < 1")
        self.initial = initial
        self.maximum = maximum
        self.factor = factor
        self.jitter = jitter
        self._rng = rng
        self._delay = initial
        self.failures = 0  # failures in a row since the last reset()

    @property
    def delay(self) -> float:
        """The delay the next failure waits (before jitter)."""
        return self._delay

    def next(self) -> float:
        """A failure: the delay to wait now (with jitter); later delays grow."""
        delay = self._delay
        self.failures += 1
        self._delay = min(self._delay * self.factor, self.maximum)
        if self.jitter:
            delay *= 1 + self.jitter * (2 * self._rng() - 1)
        return delay

    def reset(self) -> None:
        """A success: the next failure waits ``initial`` again."""
        self._delay = self.initial
        self.failures = 0

    def wait(self, stop: threading.Event) -> bool:
        """Wait the next delay; True (at once) when ``stop`` is set meanwhile."""
        return stop.wait(self.next())
