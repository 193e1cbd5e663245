"""The event bus: every committed change is published once, after its commit, as an event.

Whoever reacts to a change subscribes here: the realtime hub (Socket.IO rooms), the device
layer (printing on `ticket:issued`, LED boards and keypad displays, rating boxes), the
rating prompts, and later notifications and device agents. Nothing else carries a change
from the domain to its consumers.

Rules:
- **After the commit only.** The queue engine collects a transaction's events and hands them
  to `publish()` once the transaction has committed; a rolled-back transaction publishes
  nothing (`abandon()` frees its place in the order).
- **Order kept per office.** Changes carry the office sequence number `seq`. A transaction
  takes its place with `reserve(seq)` as soon as it bumps the sequence (inside the
  transaction); its events are delivered only after those of every earlier reserved seq of
  this process have been delivered or abandoned. Since the sequence row is locked until
  commit, no later transaction can take a smaller seq, so every subscriber sees this
  process's changes in seq order, whichever thread commits first.
- **One failing subscriber never stops the others** and never undoes the change: its
  exception is logged and counted (`failures`), delivery goes on.
- **No deadlock on re-entry.** Delivery runs in the thread that publishes; if a subscriber
  publishes in turn (a key press that calls a number), or another thread is already
  delivering, the new events join the queue and that delivering thread passes them on.

Events without a `seq` (device states, print jobs, scans, dossier and notice changes) are not
part of the queue's order and are delivered at once, after whatever is queued before them.
"""
from __future__ import annotations

import logging
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Mapping

log = logging.getLogger(__name__)

# The events of an office. Screens receive them under the same names over Socket.IO.
TICKET_ISSUED = "ticket:issued"            # a number was taken (local: print request)
TICKET_CALLED = "ticket:called"            # a counter called or recalled a number (with its announcement)
TICKET_FINISHED = "ticket:finished"        # a visit ended: done or no-show
TICKET_TRANSFERRED = "ticket:transferred"  # sent to another field's queue or counter
QUEUE_CHANGED = "queue:changed"            # marker {"seq"}: the public queue state changed
QUEUE_STATE = "queue:state"                # the whole public state after changes, coalesced
                                           # (StateBroadcaster); screens get it as `queue:changed`
DEVICE_STATUS = "device:status"            # a device's state changed
PRINT_JOB = "print:job"                    # a print job's progress
KIOSK_SCAN = "kiosk:scan"                  # a scanner or camera read a code
DOSSIER_UPDATED = "dossier:updated"        # dossiers changed (status, import, live source)
NOTICE_CHANGED = "notice:changed"          # the display's notices changed
RATING_PROMPT = "rating:prompt"            # a finished visit may be rated at its counter
RATING_CLOSED = "rating:closed"            # a visit was rated, or its prompt timed out
CONFIG_CHANGED = "config:changed"          # the administrator changed the running office (motcua/configure)
ALERT_CHANGED = "alert:changed"            # a service-level alert started or ended (motcua/alerts.py)

KNOWN_EVENTS = frozenset({
    TICKET_ISSUED, TICKET_CALLED, TICKET_FINISHED, TICKET_TRANSFERRED, QUEUE_CHANGED, QUEUE_STATE, DEVICE_STATUS,
    PRINT_JOB, KIOSK_SCAN, DOSSIER_UPDATED, NOTICE_CHANGED, RATING_PROMPT, RATING_CLOSED,
    CONFIG_CHANGED,
    ALERT_CHANGED,
})


@dataclass(frozen=True)
class Event:
    """One committed change.

    name: one of KNOWN_EVENTS. payload: what screens receive (JSON-safe). audience: the
    Socket.IO rooms it is for (`public`, `staff`, `kiosks`, `displays`, `admins`,
    `counter:N`, `rating:N`). seq: the office sequence number of the transaction, for queue
    changes. local: data for subscribers in this process only, never sent to a screen (e.g.
    the print request that comes with `ticket:issued`).
    """

    name: str
    payload: Mapping[str, Any]
    audience: tuple[str, ...] = ("public",)
    seq: int | None = None
    local: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.name not in KNOWN_EVENTS:
            raise ValueError(f"unknown event {self.name!r}")
        if isinstance(self.audience, str):
            object.__setattr__(self, "audience", (self.audience,))


Subscriber = Callable[[Event], None]

# A transaction that reserved a seq and neither published nor abandoned it within this time
# (a bug) stops holding back later events.
RESERVATION_TIMEOUT_S = 5.0


@dataclass
class _Subscription:
    fn: Subscriber
    names: frozenset[str] | None
    label: str
    failures: int = 0


class EventBus:
    """Synchronous, ordered, isolated delivery of committed events to subscribers."""

    def __init__(self) -> None:
        self._subs: list[_Subscription] = []
        self._lock = threading.Lock()           # guards the queues and the reservations
        self._queue: deque[Event] = deque()     # ready to deliver, in order
        self._held: dict[int, list[Event]] = {}  # committed, waiting for an earlier seq
        self._reserved: dict[int, float] = {}   # seq -> when a transaction of ours took it
        self._delivering = False
        self.delivered = 0

    # Subscribing -----------------------------------------------------------------------
    def subscribe(self, fn: Subscriber, *, names: Iterable[str] | None = None,
                  label: str = "") -> Callable[[], None]:
        """Call fn(event) for every event (or only those named). Returns an unsubscribe."""
        wanted = frozenset(names) if names is not None else None
        if wanted is not None and not wanted <= KNOWN_EVENTS:
            raise ValueError(f"unknown events: {sorted(wanted - KNOWN_EVENTS)}")
        sub = _Subscription(fn, wanted, label or getattr(fn, "__qualname__", repr(fn)))
        with self._lock:
            self._subs = [*self._subs, sub]

        def unsubscribe() -> None:
            with self._lock:
                self._subs = [s for s in self._subs if s is not sub]
        return unsubscribe

    def has_subscriber(self, label: str) -> bool:
        return any(s.label == label for s in self._subs)

    def failures(self) -> dict[str, int]:
        """Exceptions raised so far, per subscriber label (diagnostics)."""
        return {s.label: s.failures for s in self._subs if s.failures}

    # Ordering of transactions ------------------------------------------------------------
    def reserve(self, seq: int) -> None:
        """A transaction of this process took `seq` (inside the transaction)."""
        with self._lock:
            self._reserved[seq] = time.monotonic()

    def abandon(self, seq: int) -> None:
        """The transaction that reserved `seq` rolled back: nothing will come for it."""
        with self._lock:
            self._drop_reservation(seq)
            self._release_held()
        self._drain()

    # Publishing ------------------------------------------------------------------------
    def publish(self, events: Iterable[Event], *, seq: int | None = None) -> None:
        """Deliver a committed transaction's events (seq: the one it reserved, if any)."""
        batch = list(events)
        with self._lock:
            if seq is not None and seq in self._reserved:
                self._held.setdefault(seq, []).extend(batch)
                self._drop_reservation(seq)
                self._release_held()
            else:
                self._queue.extend(batch)
        self._drain()

    def emit(self, name: str, payload: Mapping[str, Any], audience: str | Iterable[str] = "public",
             **local: Any) -> None:
        """Publish one event that is not a queue transaction (device states, scans...)."""
        aud = (audience,) if isinstance(audience, str) else tuple(audience)
        self.publish([Event(name, payload, aud, local=local)])

    # Internals -------------------------------------------------------------------------
    def _drop_reservation(self, seq: int) -> None:
        self._reserved.pop(seq, None)

    def _release_held(self) -> None:
        """Move held batches whose seq no earlier reservation waits for (lock held)."""
        if not self._held:
            return
        now = time.monotonic()
        for s, since in list(self._reserved.items()):
            if now - since > RESERVATION_TIMEOUT_S:  # a lost reservation must not hold the office
                log.error("seq %s reserved %.1f s ago was never published nor abandoned", s, now - since)
                del self._reserved[s]
        floor = min(self._reserved) if self._reserved else None
        for s in sorted(self._held):
            if floor is not None and s > floor:
                break
            self._queue.extend(self._held.pop(s))

    def _drain(self) -> None:
        with self._lock:
            if self._delivering:
                return  # the thread delivering now passes these on too
            self._delivering = True
        try:
            while True:
                with self._lock:
                    if not self._queue:
                        self._delivering = False
                        return
                    event = self._queue.popleft()
                    subs = self._subs
                self._deliver(event, subs)
        except BaseException:
            with self._lock:
                self._delivering = False
            raise

    def _deliver(self, event: Event, subs: list[_Subscription]) -> None:
        self.delivered += 1
        for sub in subs:
            if sub.names is not None and event.name not in sub.names:
                continue
            try:
                sub.fn(event)
            except Exception:  # noqa: BLE001 - one subscriber never stops the others
                sub.failures += 1
                log.exception("event subscriber %s failed on %s", sub.label, event.name)
