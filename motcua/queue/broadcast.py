"""The queue state after changes, coalesced: `queue:changed` markers in, `queue:state` out."""
from __future__ import annotations

import logging
import threading
from typing import Any

from ..events import QUEUE_CHANGED, QUEUE_STATE, Event, EventBus

log = logging.getLogger(__name__)


class StateBroadcaster:
    """Publishes `queue:state` (the whole public queue state) after changes, coalesced.

    It subscribes to the engine's `queue:changed` markers (one per committed change, with its
    `seq`), reads the state once and publishes it on the bus; the realtime hub sends it to
    every screen as Socket.IO `queue:changed`, the device layer shows it on LED boards and
    keypad displays. A change waits `settle` seconds before its state is read, so changes that
    come together go out as one state: a counter's "finish" followed by its "call next" a few
    milliseconds later is one state, sent after the call. During a burst (a kiosk rush, a call
    storm) a state goes out at most once per `settle + min_interval`, always ending with the
    latest. Reading and sending the state per transaction cost more than the transaction
    itself, and 200 screens cannot use 500 states a second anyway.

    Events that matter one by one (`ticket:called`, ...) are never coalesced or delayed: they
    leave with their transaction. That is also why the state waits: writing a state to 200
    screens takes about 10 ms of socket writes, and a state sent just before a call made that
    call's fan-out wait behind it (bench/bench_core.py, docs/performance.md).

    Each state carries `seq` (every change up to it is included) and `prev_seq` (the seq of the
    state this process sent before it): a client holding a seq lower than `prev_seq` missed a
    state and asks for a snapshot.
    """

    def __init__(self, engine: Any, bus: EventBus, min_interval: float = 0.05, settle: float = 0.05):
        self.engine = engine
        self.bus = bus
        self.min_interval = min_interval
        self.settle = settle
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._wanted = -1
        self.sent_seq = -1
        self.sent = 0  # states sent (diagnostics, tests)
        self._thread: threading.Thread | None = None
        self._unsubscribe = bus.subscribe(self._on_change, names=[QUEUE_CHANGED], label="state-broadcaster")

    def _on_change(self, event: Event) -> None:
        self.mark(int(event.payload["seq"]))

    def mark(self, seq: int) -> None:
        with self._lock:
            self._wanted = max(self._wanted, seq)
            if self._thread is None and not self._stop.is_set():
                self._thread = threading.Thread(target=self._run, name="motcua-state", daemon=True)
                self._thread.start()
        self._wake.set()

    def stop(self) -> None:
        self._unsubscribe()
        self._stop.set()
        self._wake.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait()
            self._wake.clear()
            if self._stop.is_set():
                return
            if self.settle > 0 and self._stop.wait(self.settle):
                return
            with self._lock:
                wanted = self._wanted
            if wanted <= self.sent_seq:
                continue
            try:
                state = self.engine.public_state()
            except Exception:  # noqa: BLE001 - the database is back soon; try again
                log.exception("reading the queue state failed")
                self._stop.wait(0.5)
                self._wake.set()
                continue
            if state["seq"] > self.sent_seq:
                state["prev_seq"] = self.sent_seq if self.sent_seq >= 0 else None
                self.sent_seq = state["seq"]
                self.sent += 1
                self.bus.publish([Event(QUEUE_STATE, state)])
            self._stop.wait(self.min_interval)
