"""The realtime hub: Socket.IO rooms per audience, snapshots on connect, sequenced changes.

Rooms: `public` (everyone), `staff` (staff and administrators), `kiosks`, `displays`,
`admins`, `counter:N` (that counter's staff; administrators join it with `counter:watch`),
`rating:N` (the rating tablet of counter N).
Every queue change carries the office sequence number `seq`; a client that sees a gap
emits `queue:resync` and gets a fresh `queue:snapshot`.
"""
from __future__ import annotations

import logging
import threading
from typing import Any, Callable

from flask import request
from flask_socketio import SocketIO, join_room, leave_room
from flask_socketio import ConnectionRefusedError as SioRefused

from .auth import ANONYMOUS, Auth, Principal
from .queue.engine import Notification, QueueEngine

log = logging.getLogger(__name__)



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


class StateBroadcaster:
    """Sends `queue:changed` (the whole public queue state) after changes, coalesced.

    The engine marks each committed change with its sequence number; this reads the state
    once and sends it to every screen. A change waits `settle` seconds before its state is
    read, so changes that come together go out as one state: a counter's "finish" followed
    by its "call next" a few milliseconds later is one state, sent after the call. During a
    burst (a kiosk rush, a call storm) a state goes out at most once per `settle +
    min_interval`, always ending with the latest. Reading and sending the state per
    transaction cost more than the transaction itself, and 200 screens cannot use 500
    states a second anyway.

    Events that matter one by one (`ticket:called`, ...) are never coalesced or delayed:
    they go out with their transaction. That is also why the state waits: writing a state
    to 200 screens takes about 10 ms of socket writes, and a state sent just before a call
    made that call's fan-out wait behind it (bench/bench_core.py, docs/performance.md).

    Each state carries `seq` (every change up to it is included) and `prev_seq` (the seq of
    the state this process sent before it): a client holding a seq lower than `prev_seq`
    missed a state and asks for a snapshot.
    """

    def __init__(self, socketio: SocketIO, engine: QueueEngine, min_interval: float = 0.05,
                 settle: float = 0.05):
        self.socketio = socketio
        self.engine = engine
        self.min_interval = min_interval
        self.settle = settle
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._wanted = -1
        self.sent_seq = -1
        self.sent = 0  # states sent (diagnostics, tests)
        self._thread: threading.Thread | None = None
        self._listeners: list[Callable[[dict[str, Any]], None]] = []

    def add_listener(self, fn: Callable[[dict[str, Any]], None]) -> None:
        """fn(state) after each state sent (device LED boards and keypads)."""
        self._listeners.append(fn)

    def mark(self, seq: int) -> None:
        with self._lock:
            self._wanted = max(self._wanted, seq)
            if self._thread is None and not self._stop.is_set():
                self._thread = threading.Thread(target=self._run, name="motcua-state", daemon=True)
                self._thread.start()
        self._wake.set()

    def stop(self) -> None:
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
                try:
                    self.socketio.emit("queue:changed", state, to="public")
                except Exception:  # noqa: BLE001
                    log.exception("sending queue:changed failed")
                for fn in self._listeners:
                    try:
                        fn(state)
                    except Exception:  # noqa: BLE001
                        log.exception("state listener failed")
            self._stop.wait(self.min_interval)


class RealtimeHub:
    """Publishes engine notifications to Socket.IO rooms and answers client events."""

    def __init__(self, socketio: SocketIO, engine: QueueEngine, auth: Auth):
        self.socketio = socketio
        self.engine = engine
        self.auth = auth
        self.states = StateBroadcaster(socketio, engine)
        self._clients: dict[str, Principal] = {}
        self._lock = threading.Lock()
        self._register()

    # Publishing (called from any thread) ------------------------------------------------
    def publish(self, notifications: list[Notification]) -> None:
        for n in notifications:
            if n.name == "queue:changed":
                self.states.mark(n.payload["seq"])
            else:
                self.emit(n.name, n.payload, n.audience)

    def emit(self, name: str, payload: dict[str, Any], audience: str = "public") -> None:
        self.socketio.emit(name, payload, to=audience)

    def client_count(self) -> int:
        with self._lock:
            return len(self._clients)

    def principal(self, sid: str) -> Principal:
        with self._lock:
            return self._clients.get(sid, ANONYMOUS)

    # Socket.IO handlers -------------------------------------------------------------------
    def _register(self) -> None:
        sio = self.socketio

        @sio.on("connect")
        def on_connect(auth: Any = None):
            token = auth.get("token") if isinstance(auth, dict) else None
            principal = ANONYMOUS
            if token:
                p = self.auth.principal_for_token(str(token))
                if p is None:
                    raise SioRefused({"error": "bad_token",
                                      "message": "Token không hợp lệ hoặc đã hết hạn. Vui lòng đăng nhập lại."})
                principal = p
            with self._lock:
                self._clients[request.sid] = principal
            for room in rooms_for(principal):
                join_room(room)
            sio.emit("queue:snapshot", self.engine.snapshot(), to=request.sid)
            sio.emit("hello", {"role": principal.role, "name": principal.name}, to=request.sid)

        @sio.on("disconnect")
        def on_disconnect(*_args):
            with self._lock:
                self._clients.pop(request.sid, None)

        @sio.on("queue:resync")
        def on_resync(*_args):
            sio.emit("queue:snapshot", self.engine.snapshot(), to=request.sid)

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
