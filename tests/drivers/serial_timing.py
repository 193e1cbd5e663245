"""Timing shared by the serial driver tests: fast polling so a lost device shows in well
under a second, and a waiting helper with generous bounds for a loaded machine."""
from __future__ import annotations

import time
from typing import Any, Callable

FAST = dict(
    poll_interval=0.05,
    reply_timeout=0.1,
    retries=1,
    lost_after=2,
    lost_poll_interval=0.1,
    reconnect_initial=0.05,
    reconnect_max=0.2,
)
DEADLINE = 15.0  # generous bound for things that must happen "soon" (CI pauses processes for seconds)
# The configured time within which a silent device must be reported lost: lost_after polls,
# each waiting reply_timeout, one poll_interval apart, plus a command's retries; with slack
# for a loaded machine (how soon on a quiet one is measured by bench/, not here).
LOST_BOUND = FAST["lost_after"] * (FAST["poll_interval"] + FAST["reply_timeout"] * 2) + 10.0


def wait_until(predicate: Callable[[], Any], timeout: float = DEADLINE) -> bool:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.005)
    return True
