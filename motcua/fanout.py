"""One event to hundreds of screens: the frame is built once and written to each socket at once.

python-socketio sends an event to a room by putting the packet in each client's Engine.IO
queue; each client's writer greenlet then wakes, takes it, frames it (wsproto) and writes it.
With 500 screens on a process that is 500 wake-ups, queue timers and frame encodings per call,
about 100 µs per screen, most of what a call costs the server (bench/load/run.py prints it).

Here, under gevent, each WebSocket keeps an ordered `Outbox` of frames, and a room emit
(`FastEmit.emit`) encodes the packet and its WebSocket frame once, then writes the same bytes
straight to every client whose Engine.IO queue is empty (nothing older waits to go out),
without a wake-up. What does not fit in the socket's buffer waits in the outbox and is written
by one greenlet in order; the Engine.IO writer's own frames (pings, packets of clients with a
queue, events with an acknowledgement) go through the same outbox, so frames never overtake
or cut into each other. Clients still on long-polling, or with packets queued, get the packet
the usual way. Frames are never compressed (`realtime.without_websocket_compression`).
"""
from __future__ import annotations

import logging
import struct
from collections import deque
from typing import Any

from socketio import Manager
from socketio import packet as sio_packet
from engineio import packet as eio_packet

log = logging.getLogger(__name__)


def ws_frame(message: str | bytes) -> bytes:
    """A server's WebSocket frame (RFC 6455: final, unmasked): text for str, binary for bytes."""
    if isinstance(message, str):
        data, op = message.encode(), 0x81
    else:
        data, op = bytes(message), 0x82
    n = len(data)
    if n < 126:
        return bytes((op, n)) + data
    if n < 65536:
        return struct.pack("!BBH", op, 126, n) + data
    return struct.pack("!BBQ", op, 127, n) + data


class Outbox:
    """The frames of one WebSocket, written in order.

    `write` tries the socket at once without blocking; what does not fit waits here and one
    greenlet (`spawn`) writes it, cooperatively, in order. While anything waits, later frames
    queue behind it."""

    def __init__(self, gsock: Any, spawn: Any):
        self.gsock = gsock  # gevent socket
        self.raw = getattr(gsock, "_sock", None)  # its non-blocking OS socket
        self.spawn = spawn
        self.pending: deque[bytes] = deque()
        self.flushing = False
        self.broken = False

    @property
    def direct(self) -> bool:
        """Can a frame be written now, from any greenlet, without overtaking another?"""
        return self.raw is not None and not self.pending and not self.flushing and not self.broken

    def write(self, frame: bytes) -> None:
        if self.broken:
            raise OSError("the connection is closed")
        if not self.direct:
            self.pending.append(frame)
            self._start_flush()
            return
        try:
            n = self.raw.send(frame)
        except BlockingIOError:
            n = 0
        except OSError:
            self.broken = True
            raise
        if n < len(frame):
            self.pending.append(frame[n:])
            self._start_flush()

    def _start_flush(self) -> None:
        if not self.flushing:
            self.flushing = True
            self.spawn(self._flush)

    def _flush(self) -> None:
        try:
            while self.pending:
                self.gsock.sendall(self.pending.popleft())
        except OSError:
            self.broken = True
            self.pending.clear()
        finally:
            self.flushing = False


def _websocket_class() -> Any | None:
    """Engine.IO's gevent WebSocket wrapper (simple-websocket), with an outbox; None when
    Engine.IO's gevent driver uses something else."""
    try:
        import gevent
        import simple_websocket
        from engineio.async_drivers import gevent as eio_gevent
        from engineio.async_drivers._websocket_wsgi import SimpleWebSocketWSGI
    except ImportError:  # pragma: no cover - gevent is a dependency
        return None
    base = eio_gevent.WebSocketWSGI
    if not (isinstance(base, type) and issubclass(base, SimpleWebSocketWSGI)):
        return None

    class DirectWebSocket(base):  # type: ignore[misc, valid-type]
        """Engine.IO's WebSocket with its frames going out through an `Outbox`."""

        def __init__(self, handler: Any, server: Any):
            super().__init__(handler, server)
            self.outbox: Outbox | None = None
            self.eio_socket = getattr(handler, "__self__", None)  # the Engine.IO socket it serves

        def __call__(self, environ, start_response):  # as SimpleWebSocketWSGI, with the outbox
            self.ws = simple_websocket.Server(environ, **self.server_args)
            self.outbox = Outbox(self.ws.sock, gevent.spawn)
            if self.eio_socket is not None:
                self.eio_socket.motcua_ws = self
            try:
                return self.app(self)
            finally:
                if self.eio_socket is not None:
                    self.eio_socket.motcua_ws = None

        def send(self, message):
            if not self.ws.connected or self.outbox is None:
                raise OSError("the connection is closed")
            self.outbox.write(ws_frame(message))

        def close(self):
            box = self.outbox
            if box is not None:  # what waits goes out before the close frame (never cut into)
                for _ in range(200):
                    if not (box.pending or box.flushing) or box.broken:
                        break
                    gevent.sleep(0.01)
            super().close()

    return DirectWebSocket


def install_direct_websockets(socketio: Any) -> bool:
    """Engine.IO's WebSockets of this server write through outboxes (gevent only); True if done."""
    eio = socketio.server.eio
    if eio.async_mode != "gevent":
        return False
    cls = _websocket_class()
    if cls is None:
        return False
    eio._async = {**eio._async, "websocket": cls}  # this server's own copy of the driver table
    return True


class FastEmit(Manager):
    """A client manager whose emits to rooms write one ready frame to every WebSocket client
    that has nothing queued (the others, and emits with an acknowledgement, go the usual way).
    With a message queue, place it after the pub/sub manager: its local delivery lands here."""

    def emit(self, event, data, namespace, room=None, skip_sid=None, callback=None, to=None, **kwargs):
        room = to or room
        if callback or namespace not in self.rooms:
            return super().emit(event, data, namespace, room=room, skip_sid=skip_sid, callback=callback, **kwargs)
        if isinstance(data, tuple):
            args = list(data)
        elif data is not None:
            args = [data]
        else:
            args = []
        pkt = self.server.packet_class(sio_packet.EVENT, namespace=namespace, data=[event] + args)
        encoded = pkt.encode()
        if isinstance(encoded, list):  # binary attachments: several packets, the usual way
            return super().emit(event, data, namespace, room=room, skip_sid=skip_sid, callback=callback, **kwargs)
        if not isinstance(skip_sid, list):
            skip_sid = [skip_sid]
        eio_pkt = eio_packet.Packet(eio_packet.MESSAGE, encoded)
        frame = None
        sockets = self.server.eio.sockets
        for sid, eio_sid in self.get_participants(namespace, room):
            if sid in skip_sid:
                continue
            s = sockets.get(eio_sid)
            ws = getattr(s, "motcua_ws", None)
            if (ws is not None and ws.outbox is not None and ws.outbox.direct and s.upgraded
                    and not s.upgrading and not s.closing and not s.closed and s.queue.qsize() == 0):
                if frame is None:
                    frame = ws_frame(eio_pkt.encode())
                try:
                    ws.outbox.write(frame)
                except OSError:
                    log.debug("socket %s gone while writing", eio_sid)
            else:
                self.server._send_eio_packet(eio_sid, eio_pkt)


class LocalManager(FastEmit):
    """The client manager of a single process (no message queue)."""
