"""Phone pages follow their own ticket, not the whole queue.

A citizen's phone page (`/t/<token>`, the QR code on the ticket) shows one ticket: its state,
how many are ahead, the wait. It used to take every `queue:changed` (the whole public state,
about 28 KB with 50 counters serving) and then ask the server for its ticket again: with 1,000
phones open, one call made the server write some 29 MB and answer 1,000 requests.

Now a phone page connects with `auth={"ticket": "<its token>"}` and joins two rooms only:
`ticket-pages` (where `ticket:called` also goes) and `ticket:<id>`. After each queue state
this process's `TicketPages` reads every ticket its phone pages follow in one transaction
(`QueueViews.tickets_for_pages`: one ordered read per field with one of them waiting) and
sends `ticket:update` (the body of GET /api/v1/tickets/by-token/<token> without the token,
with `seq`) to the pages whose ticket changed, a few hundred bytes each.

With several server processes each process serves its own phone pages; it hears every
process's queue states through the Socket.IO message queue (motcua/realtime_mq.py calls
`on_state`), and with one process the realtime hub calls it. Updates are coalesced like the
queue state, but more slowly: a round 50 ms after a quiet spell, then at most one a second
while states keep coming (a place in line a second late is nothing to a citizen, and a round
costs about 0.1 ms per ticket: 1,000 pages after each of four calls a second took half a
server process). A ticket is sent again when what its page shows changed (state, counter,
place, the wait in minutes), not when only the wait's seconds moved; and a ticket's answer is
worked out again only when its row, its place in line or the paused counters changed, or
`REFRESH_S` after it last was (the wait drifts with the clock and today's service times):
one call changes one line, so a round does that line's pages. Between two tickets the
round lets everything else in the process go first (`motcua_runtime.yield_to_others`): a
round of 500 tickets takes tens of milliseconds of CPU, and a call made meanwhile used to
wait for all of it before its answer and its `ticket:called` left.
"""
from __future__ import annotations

import logging
import threading
import time
from typing import Any

from motcua_runtime import yield_to_others

log = logging.getLogger(__name__)

ROOM = "ticket-pages"
REFRESH_S = 20.0  # a page's wait is worked out again after this even if nothing it depends on changed
_SECONDS = ("estimated_wait_s", "estimated_wait_range_s")  # the page shows the wait in minutes ("estimate")
EVENT = "ticket:update"


def ticket_room(ticket_id: int) -> str:
    return f"ticket:{ticket_id}"


class TicketPages:
    def __init__(self, socketio: Any, views: Any, settle: float = 0.05, min_interval: float = 1.0,
                 refresh_s: float = REFRESH_S):
        self.socketio = socketio
        self.views = views
        self.settle = settle
        self.min_interval = min_interval
        self.refresh_s = refresh_s
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._sids: dict[str, int] = {}  # socket -> ticket id
        self._count: dict[int, int] = {}  # ticket id -> sockets following it here
        self._fresh: set[int] = set()  # tickets whose page just joined: sent even if unchanged
        self._dirty = False  # a queue state came: look at every ticket followed
        self._last: dict[int, dict[str, Any]] = {}  # ticket id -> what its page shows, as sent last
        self._basis: dict[int, tuple[tuple, float]] = {}  # ticket id -> (row, place, paused), worked out at
        self._thread: threading.Thread | None = None
        self.rounds = 0  # rounds made (diagnostics, tests)
        self.sent = 0  # updates sent
        self.worked_out = 0  # tickets whose answer a round worked out

    # Called by the realtime hub and the message queue ------------------------------------
    def join(self, sid: str, ticket_id: int) -> None:
        with self._lock:
            old = self._sids.get(sid)
            if old is not None:
                self._forget(sid, old)
            self._sids[sid] = ticket_id
            self._count[ticket_id] = self._count.get(ticket_id, 0) + 1
            self._fresh.add(ticket_id)
        self._kick()

    def leave(self, sid: str) -> None:
        with self._lock:
            tid = self._sids.pop(sid, None)
            if tid is not None:
                self._forget(sid, tid)

    def _forget(self, sid: str, tid: int) -> None:  # under the lock
        n = self._count.get(tid, 0) - 1
        if n <= 0:
            self._count.pop(tid, None)
            self._last.pop(tid, None)
            self._basis.pop(tid, None)
            self._fresh.discard(tid)
        else:
            self._count[tid] = n

    def on_state(self, *_args: Any) -> None:
        """A queue state was sent (by any process): the followed tickets may have changed."""
        with self._lock:
            if not self._count:
                return
            self._dirty = True
        self._kick()

    def following(self) -> int:
        with self._lock:
            return len(self._count)

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()

    # The worker ----------------------------------------------------------------------------
    def _kick(self) -> None:
        with self._lock:
            if self._thread is None and not self._stop.is_set():
                self._thread = threading.Thread(target=self._run, name="motcua-ticket-pages", daemon=True)
                self._thread.start()
        self._wake.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait()
            self._wake.clear()
            if self._stop.is_set() or (self.settle > 0 and self._stop.wait(self.settle)):
                return
            with self._lock:
                ids = list(self._count) if self._dirty else [i for i in self._fresh if i in self._count]
                fresh, self._fresh = self._fresh, set()
                dirty, self._dirty = self._dirty, False
            if not ids:
                continue
            now = time.monotonic()

            def unchanged(row: Any, ahead: int | None, paused: list[int], fresh: set[int] = fresh) -> bool:
                basis = (tuple(row), ahead, tuple(paused))
                old = self._basis.get(row.id)
                if row.id not in fresh and old is not None and old[0] == basis and now - old[1] < self.refresh_s:
                    return True
                self._basis[row.id] = (basis, now)
                return False

            try:
                seq, tickets = self.views.tickets_for_pages(ids, pause=yield_to_others, every=1, unchanged=unchanged)
            except Exception:  # noqa: BLE001 - the database is back soon: try again
                log.warning("reading the phone pages' tickets failed; retrying", exc_info=True)
                self._basis.clear()  # what was worked out was not sent: work it all out again
                with self._lock:
                    self._fresh |= fresh
                    self._dirty = self._dirty or dirty
                self._stop.wait(0.5)
                self._wake.set()
                continue
            self.rounds += 1
            self.worked_out += len(tickets)
            for tid, tk in tickets.items():
                yield_to_others()  # between two tickets: requests and sockets go first
                tk.pop("token", None)
                shown = {k: v for k, v in tk.items() if k not in _SECONDS}
                with self._lock:
                    if tid not in self._count or (tid not in fresh and self._last.get(tid) == shown):
                        continue
                    self._last[tid] = shown
                tk["seq"] = seq
                self._emit(tid, tk)
            if dirty and self._stop.wait(self.min_interval):
                return

    def _emit(self, tid: int, payload: dict[str, Any]) -> None:
        try:  # this process's own pages only: the others send theirs
            self.socketio.server.emit(EVENT, payload, to=ticket_room(tid), namespace="/", ignore_queue=True)
            self.sent += 1
        except Exception:  # noqa: BLE001 - a page gone meanwhile
            log.debug("ticket update to %s failed", tid, exc_info=True)
