"""Pickup tickets return their dossier.

A ticket taken with "Lấy số nhận kết quả" carries the code of the dossier whose result the
citizen comes for (`dossier_code`). When its visit ends done (`ticket:finished`, status
`done`), the result has been handed over: the dossier goes from "Đã xử lý xong" (9) to "Đã
trả kết quả" (10) and leaves the display's ready list at once (`dossier:updated`).

Staff may say otherwise for one visit (the finish body's `return_dossier: false`): the
finish route calls `keep(ticket_id)` before finishing, and this subscriber leaves that
ticket's dossier as it is.

This is a subscriber of the event bus, run after the ticket's commit: whatever happens here
never undoes the finished ticket (a failure is logged and counted by the bus).
"""
from __future__ import annotations

import threading
import time
from typing import Any, Callable

from ..events import TICKET_FINISHED, Event

LABEL = "dossiers:pickup-return"
KEEP_S = 600.0  # a kept mark no finish consumed (the finish failed or went elsewhere) is dropped after this


class PickupReturns:
    """Returns the dossier of a pickup ticket finished done (see the module's docstring)."""

    def __init__(self, dossiers: Any, *, clock: Callable[[], float] = time.monotonic):
        self.dossiers = dossiers  # motcua.dossiers.store.DossierStore
        self._clock = clock
        self._keep: dict[int, float] = {}  # ticket id -> when staff asked to keep its dossier
        self._lock = threading.Lock()

    def keep(self, ticket_id: int) -> None:
        """Staff finish this ticket without handing the result over: its dossier stays."""
        now = self._clock()
        with self._lock:
            for tid, at in list(self._keep.items()):
                if now - at > KEEP_S:
                    del self._keep[tid]
            self._keep[ticket_id] = now

    def release(self, ticket_id: int) -> None:
        """The finish that asked to keep this ticket's dossier did not finish it."""
        with self._lock:
            self._keep.pop(ticket_id, None)

    def __call__(self, event: Event) -> None:
        ticket = event.payload.get("ticket") or {}
        if ticket.get("status") != "done" or ticket.get("id") is None:
            return
        with self._lock:
            kept = self._keep.pop(ticket["id"], None) is not None
        code = ticket.get("dossier_code")
        if kept or not code:
            return
        self.dossiers.return_for_ticket(code, ticket_id=ticket["id"], number=ticket.get("number", ""),
                                        counter=event.payload.get("counter"))


def install_pickup_returns(dossiers: Any, bus: Any) -> Callable[[], None]:
    """Subscribe a `PickupReturns` over *dossiers* (kept as `dossiers.pickup_returns`, where the
    finish route finds it) to `ticket:finished` on *bus*. Returns the unsubscribe."""
    returns = PickupReturns(dossiers)
    dossiers.pickup_returns = returns
    return bus.subscribe(returns, names=[TICKET_FINISHED], label=LABEL)
