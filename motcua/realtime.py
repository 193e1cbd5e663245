"""The realtime hub: Socket.IO rooms per audience, snapshots on connect, sequenced changes.

The hub is one subscriber of the event bus (`motcua.events`): every event goes to the rooms
of its audience under its own name, except the engine's `queue:changed` markers (the state
broadcaster turns them into `queue:state`, which screens receive as `queue:changed`).

Rooms: `public` (everyone), `staff` (staff and administrators), `kiosks`, `displays`,
`admins`, `counter:N` (that counter's staff; administrators join it with `counter:watch`),
`rating:N` (the rating tablet of counter N), and for phone pages that connect with their
ticket's token (`auth={"ticket": ...}`) `ticket-pages` (which gets `ticket:called`) and
`ticket:<id>` (`ticket:update`, motcua/ticket_pages.py) instead of `public`: a phone page
does not need the whole queue state after every change.
Every queue change carries the office sequence number `seq`; a client that sees a gap
emits `queue:resync` and gets a fresh `queue:snapshot`.

A socket signed in with a user's token lives as long as that token's session: when the
session ends in this process (sign-out, password changed) its sockets are dropped at once
(`disconnect_revoked`, called by `Auth` on revocation); a sweep every `SWEEP_S` seconds
drops those whose session ended elsewhere (another process, the `motcua user` command, an
account disabled, a working day over).
"""
from __future__ import annotations

import logging
import threading
from typing import Any

from flask import request
from flask_socketio import SocketIO, join_room, leave_room
from flask_socketio import ConnectionRefusedError as SioRefused

from .auth import ANONYMOUS, Auth, Principal
from .events import QUEUE_CHANGED, QUEUE_STATE, TICKET_CALLED, Event, EventBus
from .queue.engine import QueueEngine
from .ticket_pages import ROOM as TICKET_PAGES, TicketPages, ticket_room

log = logging.getLogger(__name__)

SWEEP_S = 2.0  # how often the sessions of users' sockets are checked again


def without_websocket_compression(wsgi_app):
    """Screens' WebSockets are sent uncompressed, whatever the browser offers.

    Browsers offer `permessage-deflate`; accepted, every connected screen would keep its own
    compressor (about 90 KB: 90 MB for 1,000 phone pages) and every message would be
    compressed once per socket, twice the server's cost per screen of a call, for messages of
    a few hundred bytes on the office's network. The WebSocket handshake is answered from the
    request's headers, so dropping the offer here is enough (tests/test_websocket_frames.py)."""

    def app(environ, start_response):
        environ.pop("HTTP_SEC_WEBSOCKET_EXTENSIONS", None)
        return wsgi_app(environ, start_response)

    return app


def rooms_for(p: Principal) -> list[str]:
    rooms = ["public"]
    if p.role in ("staff", "admin"):
        rooms.append("staff")
        rooms.extend(f"counter:{n}" for n in p.counters)
    if p.role == "admin":
        rooms.extend(["admins", "kiosks", "displays"])
    if p.role == "kiosk":
        rooms.append("kiosks")
    if p.role == "display":
        rooms.append("displays")
    if p.role == "rating" and p.extra.get("counter") is not None:
        rooms.append(f"rating:{p.extra['counter']}")
    return rooms


class RealtimeHub:
    """Sends the bus's events to Socket.IO rooms and answers client events."""

    def __init__(self, socketio: SocketIO, engine: QueueEngine, auth: Auth, bus: EventBus):
        self.socketio = socketio
        self.engine = engine
        self.auth = auth
        self._clients: dict[str, Principal] = {}
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._sweeper: Any = None
        self.pages = TicketPages(socketio, engine.views)
        self._register()
        self._unsubscribe = bus.subscribe(self._on_event, label="realtime-hub")
        self._unrevoke = auth.on_revoke(self.disconnect_revoked)
        manager = getattr(getattr(socketio, "server", None), "manager", None)
        if hasattr(manager, "on_resubscribe"):  # motcua.realtime_mq: Redis came back
            manager.on_resubscribe = self.resync_local
        # With the message queue the phone pages hear every process's states through it;
        # else this process's states are all there is.
        self._pages_by_queue = hasattr(manager, "on_state")
        if self._pages_by_queue:
            manager.on_state = self.pages.on_state

    def resync_local(self) -> None:
        """A fresh snapshot to every screen of this process only (what other processes emitted
        while the message queue was down never reached them)."""
        self.socketio.server.emit("queue:snapshot", self.engine.snapshot(), to="public", namespace="/",
                                  ignore_queue=True)
        self.pages.on_state()

    def stop(self) -> None:
        self._stopping.set()
        self.pages.stop()
        self._unsubscribe()
        self._unrevoke()

    # Revoked sessions -------------------------------------------------------------------
    def disconnect_revoked(self, *, session: str | None = None, user_id: int | None = None) -> int:
        """Drop the sockets of this session, or of every session of this user; returns how many."""
        with self._lock:
            sids = [sid for sid, p in self._clients.items() if p.user_id is not None and (
                (session is not None and p.extra.get("session") == session)
                or (user_id is not None and p.user_id == user_id))]
        return self._drop(sids)

    def sweep(self) -> int:
        """Drop the sockets whose session is no longer live; returns how many."""
        with self._lock:
            by_session = {sid: p.extra.get("session") for sid, p in self._clients.items() if p.user_id is not None}
        if not by_session:
            return 0
        live = self.auth.live_sessions({s for s in by_session.values() if s})
        return self._drop([sid for sid, s in by_session.items() if s not in live])

    def _drop(self, sids: list[str]) -> int:
        for sid in sids:
            with self._lock:
                self._clients.pop(sid, None)
            try:
                self.socketio.server.disconnect(sid, namespace="/")
            except Exception:  # noqa: BLE001 - already gone
                log.debug("disconnecting %s failed", sid, exc_info=True)
        if sids:
            log.info("dropped %d socket(s) of ended sessions", len(sids))
        return len(sids)

    def _sweep_loop(self) -> None:
        while not self._stopping.wait(SWEEP_S):
            try:
                self.sweep()
            except Exception:  # noqa: BLE001 - keep sweeping (the database may be back soon)
                log.exception("socket session sweep failed")

    def _start_sweeper(self) -> None:
        with self._lock:
            if self._sweeper is not None or self._stopping.is_set():
                return
            self._sweeper = self.socketio.start_background_task(self._sweep_loop)

    # Publishing (called from any thread) ------------------------------------------------
    def _on_event(self, event: Event) -> None:
        if event.name == QUEUE_CHANGED:
            return  # a marker: its state follows as queue:state
        name = "queue:changed" if event.name == QUEUE_STATE else event.name
        rooms = list(event.audience)
        if event.name == TICKET_CALLED and "public" in rooms:
            rooms.append(TICKET_PAGES)
        self.socketio.emit(name, dict(event.payload), to=rooms[0] if len(rooms) == 1 else rooms)
        if event.name == QUEUE_STATE and not self._pages_by_queue:
            self.pages.on_state()

    def _send_snapshot(self, sid: str) -> None:
        """The snapshot to one client; while the database is unreachable, again every half
        second in the background until it is back (or the client has gone)."""
        try:
            snap = self.engine.snapshot()
        except Exception:  # noqa: BLE001 - the database is restarting: the screen waits for it
            log.warning("snapshot for %s failed; retrying in the background", sid, exc_info=True)
            self.socketio.start_background_task(self._snapshot_when_back, sid)
            return
        self.socketio.emit("queue:snapshot", snap, to=sid)

    def _snapshot_when_back(self, sid: str) -> None:
        while not self._stopping.wait(0.5):
            with self._lock:
                if sid not in self._clients:
                    return
            try:
                snap = self.engine.snapshot()
            except Exception:  # noqa: BLE001 - still down
                continue
            self.socketio.emit("queue:snapshot", snap, to=sid)
            return

    def client_count(self) -> int:
        with self._lock:
            return len(self._clients)

    def principal(self, sid: str) -> Principal:
        with self._lock:
            return self._clients.get(sid, ANONYMOUS)

    def _connect_ticket_page(self, ticket: Any) -> None:
        """A phone page: its ticket's rooms, the snapshot every client gets, then its ticket."""
        tid = self.engine.views.ticket_id_by_token(ticket) if isinstance(ticket, str) and 0 < len(ticket) <= 64 else None
        if tid is None:
            raise SioRefused({"error": "unknown_ticket", "message": "Không tìm thấy phiếu này."})
        sid = request.sid
        with self._lock:
            self._clients[sid] = ANONYMOUS
        join_room(TICKET_PAGES)
        join_room(ticket_room(tid))
        self._send_snapshot(sid)
        self.socketio.emit("hello", {"role": "ticket", "name": ""}, to=sid)
        self.pages.join(sid, tid)

    # Socket.IO handlers -------------------------------------------------------------------
    def _register(self) -> None:
        sio = self.socketio

        @sio.on("connect")
        def on_connect(auth: Any = None):
            token = auth.get("token") if isinstance(auth, dict) else None
            ticket = auth.get("ticket") if isinstance(auth, dict) and not token else None
            if ticket is not None:
                return self._connect_ticket_page(ticket)
            principal = ANONYMOUS
            if token:
                p = self.auth.principal_for_token(str(token))
                if p is None:
                    raise SioRefused({"error": "bad_token",
                                      "message": "Token không hợp lệ hoặc đã hết hạn. Vui lòng đăng nhập lại."})
                principal = p
            with self._lock:
                self._clients[request.sid] = principal
            if principal.user_id is not None:
                self._start_sweeper()
            for room in rooms_for(principal):
                join_room(room)
            self._send_snapshot(request.sid)
            sio.emit("hello", {"role": principal.role, "name": principal.name}, to=request.sid)

        @sio.on("disconnect")
        def on_disconnect(*_args):
            with self._lock:
                self._clients.pop(request.sid, None)
            self.pages.leave(request.sid)

        @sio.on("queue:resync")
        def on_resync(*_args):
            self._send_snapshot(request.sid)

        @sio.on("counter:watch")
        def on_watch(data: Any = None):
            """Staff and administrators follow one counter's room (the console's counter)."""
            p = self.principal(request.sid)
            try:
                number = int((data or {}).get("counter"))
            except (TypeError, ValueError, AttributeError):
                return {"ok": False, "error": "bad_request", "message": "Thiếu số quầy."}
            if not p.may_act_on_counter(number) or p.role == "rating":
                return {"ok": False, "error": "forbidden", "message": f"Bạn không phải cán bộ của quầy {number}."}
            join_room(f"counter:{number}")
            return {"ok": True}

        @sio.on("counter:unwatch")
        def on_unwatch(data: Any = None):
            try:
                number = int((data or {}).get("counter"))
            except (TypeError, ValueError, AttributeError):
                return {"ok": False}
            leave_room(f"counter:{number}")
            return {"ok": True}

        @sio.on("ping:echo")
        def on_echo(data: Any = None):
            return data

        @sio.on_error_default
        def on_error(exc: Exception):  # a handler failure never kills the connection
            log.exception("socket handler failed: %s", exc)
            return {"ok": False, "error": "internal_error",
                    "message": "Hệ thống gặp lỗi khi xử lý yêu cầu."}
