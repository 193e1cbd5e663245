"""Per-address limits for public writes (anonymous ticket requests, message opt-ins): a sliding
window of recent hits per caller address, kept in memory for this process, one per purpose."""
from __future__ import annotations

import ipaddress
import threading
import time
from collections import deque

from flask import current_app


class SlidingWindowLimiter:
    """At most `limit` hits per address within `window_s` seconds."""

    def __init__(self, limit: int, window_s: float) -> None:
        self.limit = limit
        self.window_s = window_s
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def allow(self, addr: str) -> bool:
        now = time.monotonic()
        with self._lock:
            q = self._hits.setdefault(addr, deque())
            while q and now - q[0] > self.window_s:
                q.popleft()
            if len(q) >= self.limit:
                return False
            q.append(now)
            if len(self._hits) > 10_000:  # forget the addresses whose hits have all expired
                self._hits = {k: v for k, v in self._hits.items() if v}
            return True


def app_limiter(name: str, limit: int, window_s: float) -> SlidingWindowLimiter:
    """The app's limiter for one purpose (made on first use)."""
    return current_app.extensions.setdefault(f"motcua_limiter_{name}", SlidingWindowLimiter(limit, window_s))


def is_loopback(addr: str | None) -> bool:
    """A caller on this machine (the kiosk's own browser, the tests): not limited."""
    try:
        return ipaddress.ip_address(addr or "").is_loopback
    except ValueError:
        return False
