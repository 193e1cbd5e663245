"""The parts a serial bus is made of: its jobs, its devices, link failures, the listener thread."""

from __future__ import annotations

import logging
import queue
import threading
from dataclasses import dataclass
from typing import Any, Callable

from ..state import CONNECTING, DeviceState

log = logging.getLogger(__name__)

# Outcomes of one command run by the writer.
DONE = "done"  # delivered: forget it
RETRY = "retry"  # the device did not answer: keep it queued, try again later
DROP = "drop"  # the device refused it: retrying cannot help


@dataclass(frozen=True)
class StateInfo:
    """The last state of the port or of one device."""

    name: str
    state: DeviceState
    detail: str
    since: float  # wall-clock time of the change


@dataclass
class Job:
    """One unit of work for the writer. ``kind`` + ``key`` identify it for coalescing."""

    kind: str
    key: int | None
    data: Any = None
    poll: bool = False


@dataclass
class DeviceSlot:
    key: int
    kind: str
    number: int
    state: DeviceState = CONNECTING
    silent: int = 0
    next_poll: float = 0.0
    next_try: float = 0.0


class LinkBroken(Exception):
    """The port failed while the writer used it (``generation``: which opening of it)."""

    def __init__(self, reason: str, generation: int = -1) -> None:
        super().__init__(reason)
        self.generation = generation


@dataclass(frozen=True)
class LinkDown:
    """Put among the answers when a link closes, so a waiting writer gives up at once."""

    generation: int


class Dispatcher:
    """Runs listener calls one after another on its own thread."""

    def __init__(self, name: str) -> None:
        self._queue: queue.Queue[tuple[Callable[..., Any], tuple[Any, ...]] | None] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name=f"serialdev-{name}-events",
                                        daemon=True)

    def start(self) -> None:
        self._thread.start()

    def submit(self, fn: Callable[..., Any] | None, *args: Any) -> None:
        if fn is not None:
            self._queue.put((fn, args))

    def stop(self, timeout: float) -> None:
        self._queue.put(None)
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout)

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            fn, args = item
            try:
                fn(*args)
            except Exception:  # a listener's bug must not stop the bus
                log.exception("serial device listener %r failed", fn)
