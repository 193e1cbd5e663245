"""How `motcua serve` / `motcua demo` run: gevent by default, OS threads as the fallback.

Measured on the 2-core reference machine (docs/performance.md): with gevent's WSGI server
and TCP_NODELAY, issuing a ticket over HTTP and pushing a call to 200 screens both cost a
fraction of what Werkzeug's threaded server with one OS thread per socket costs. gevent
needs the standard library patched before anything else starts (threads, sockets, locks),
so `patch_if_gevent()` runs first thing in the CLI, for the server commands only; library
users and the tests that build the app in-process stay on plain threads.

MOTCUA_ASYNC_MODE=threading forces the threaded server (Werkzeug + simple-websocket).
CPU-heavy or blocking C calls go through motcua_runtime.run_blocking (native threads).

Slow and silent clients are timed out (docs/security.md, finding 12), each limit in seconds
from the environment:

- MOTCUA_HEADER_TIMEOUT_S (20): from the connection (or the first byte of a next request)
  to the end of the request's headers, however slowly they trickle in; then 408 and close;
- MOTCUA_BODY_TIMEOUT_S (30): the longest wait for the next piece of a request body; then
  the request fails and the connection is closed;
- MOTCUA_KEEPALIVE_TIMEOUT_S (30): the longest a kept-alive connection may wait for its
  next request; then it is closed.

A request body is read (or, after the answer, discarded) up to MAX_BODY_READ bytes; past it
the connection is closed. A websocket's connection is closed as soon as the websocket ends
(a client that sends its close frame and goes silent is released at once). Websockets are
not subject to the timeouts above: Engine.IO's ping every 10 s finds dead ones.
The threaded fallback applies the same limits as socket timeouts (per read).
"""
from __future__ import annotations

import logging
import os
import socket
from dataclasses import dataclass

log = logging.getLogger(__name__)

MODES = ("gevent", "threading")
HEADER_TIMEOUT_S = 20.0
BODY_TIMEOUT_S = 30.0
KEEPALIVE_TIMEOUT_S = 30.0
MAX_BODY_READ = 32 * 1024 * 1024  # above the largest upload (25 MiB)


@dataclass(frozen=True)
class Timeouts:
    header: float = HEADER_TIMEOUT_S
    body: float = BODY_TIMEOUT_S
    keepalive: float = KEEPALIVE_TIMEOUT_S

    @classmethod
    def from_env(cls) -> "Timeouts":
        return cls(header=_seconds("MOTCUA_HEADER_TIMEOUT_S", HEADER_TIMEOUT_S),
                   body=_seconds("MOTCUA_BODY_TIMEOUT_S", BODY_TIMEOUT_S),
                   keepalive=_seconds("MOTCUA_KEEPALIVE_TIMEOUT_S", KEEPALIVE_TIMEOUT_S))


def _seconds(name: str, default: float) -> float:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not 0 < value <= 3600:
        raise SystemExit(f"{name}={raw!r} không hợp lệ: cần một số giây lớn hơn 0 và tối đa 3600 (ví dụ 20).")
    return value


def wanted_mode() -> str:
    """The mode asked for by MOTCUA_ASYNC_MODE, else gevent."""
    mode = os.environ.get("MOTCUA_ASYNC_MODE", "").strip().lower()
    if mode in MODES:
        return mode
    if mode:
        raise SystemExit(f"MOTCUA_ASYNC_MODE={mode!r} không hợp lệ: dùng 'gevent' hoặc 'threading'.")
    return "gevent"  # a dependency of motcua: always installed


def patch_if_gevent() -> str:
    """Monkey-patch the standard library for gevent when that is the mode; returns the mode."""
    mode = wanted_mode()
    if mode == "gevent":
        from gevent import monkey

        if not monkey.is_module_patched("socket"):
            monkey.patch_all()
    return mode


def async_mode() -> str:
    """The Flask-SocketIO async mode for an app built in this process: gevent only when the
    process was patched for it (an unpatched gevent app would never run its greenlets)."""
    from motcua_runtime import gevent_active

    return "gevent" if gevent_active() else "threading"


def _nodelay(sock: socket.socket) -> None:
    """Small writes (a Socket.IO frame, an HTTP response) go out at once instead of waiting
    for the peer's delayed ACK (Nagle): without it, two frames in a row cost ~40 ms."""
    try:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    except (OSError, AttributeError):
        pass


def _json_error(status: str, code: str, message: str) -> bytes:
    import json

    body = json.dumps({"error": code, "message": message}, ensure_ascii=False).encode()
    return (f"HTTP/1.1 {status}\r\nConnection: close\r\nContent-Type: application/json; charset=utf-8\r\n"
            f"Content-Length: {len(body)}\r\n\r\n").encode() + body


def _gevent_limits(pywsgi) -> None:
    """gevent's WSGI server answers a request line over 8 KiB with a bare 414 before the app
    sees it. Allow what Werkzeug and http.server allow (64 KiB; the app then answers, in
    Vietnamese, e.g. 404 for a dossier code that long), and make the server's own early
    refusals JSON in Vietnamese like every other error."""
    if hasattr(pywsgi, "MAX_REQUEST_LINE"):
        pywsgi.MAX_REQUEST_LINE = 65536
    if hasattr(pywsgi, "_REQUEST_TOO_LONG_RESPONSE"):
        pywsgi._REQUEST_TOO_LONG_RESPONSE = _json_error(
            "414 Request URI Too Long", "uri_too_long", "Địa chỉ yêu cầu quá dài.")
    if hasattr(pywsgi, "_BAD_REQUEST_RESPONSE"):
        pywsgi._BAD_REQUEST_RESPONSE = _json_error(
            "400 Bad Request", "bad_request", "Yêu cầu HTTP không hợp lệ.")


GC_GEN0_THRESHOLD = 5_000  # allocations before a young collection (Python's default: 700)


def tune_gc() -> None:
    """Keep the cyclic garbage collector from stopping the server for long.

    A full collection walks every tracked object; it runs in whatever greenlet allocates, so
    every greenlet waits for it. With 1,000 sockets open a full collection took 60-160 ms,
    every second or so while the phone pages were being told their places, and the call that
    came then reached its screens that much later (docs/performance.md). So, once the app is
    built: what start-up made (Flask, SQLAlchemy, the office, templates: about 130,000
    objects, alive as long as the process) is frozen out of the collector's view, and young
    collections wait for more allocations, so fewer objects age into the old generation and
    full collections come less often. Garbage without cycles is freed at once as always."""
    import gc

    gc.collect()
    gc.freeze()
    _, g1, g2 = gc.get_threshold()
    gc.set_threshold(GC_GEN0_THRESHOLD, g1, g2)


def server_options() -> dict:
    """Extra keyword arguments for SocketIO.run() in the current mode."""
    timeouts = Timeouts.from_env()
    if async_mode() == "gevent":
        from gevent import pywsgi

        _gevent_limits(pywsgi)
        return {"handler_class": _gevent_handler(pywsgi, timeouts)}
    return {"request_handler": _threaded_handler(timeouts), "allow_unsafe_werkzeug": True}


class ReadTimeout(TimeoutError):
    """A client took too long to send (a socket.timeout: the servers treat it as one)."""


_TIMEOUT_RESPONSE = _json_error("408 Request Timeout", "request_timeout",
                                "Yêu cầu gửi đến quá lâu nên bị ngắt. Vui lòng thử lại.")


def _gevent_handler(pywsgi, timeouts: Timeouts):  # noqa: ANN001 - the gevent.pywsgi module
    import gevent

    class BodyReader:
        """The connection's reader as a request body sees it: each read waits at most
        `timeouts.body` for data, and at most MAX_BODY_READ bytes are read for one request
        (the app's reads and gevent's discarding of what it left); a timeout, an error or
        the cap closes the connection after the answer."""

        def __init__(self, raw, handler) -> None:  # noqa: ANN001
            self.raw = raw
            self.handler = handler
            self.count = 0
            self.timer = gevent.Timeout(timeouts.body, ReadTimeout("request body"))

        def _read(self, fn, size):  # noqa: ANN001
            if self.count > MAX_BODY_READ:
                self.handler.close_connection = True
                raise OSError("request body over MAX_BODY_READ")
            self.timer.start()
            try:
                data = fn(size) if size is not None else fn()
            except BaseException:
                self.handler.close_connection = True
                raise
            finally:
                self.timer.cancel()
            self.count += len(data)
            return data

        def read(self, size=None):  # noqa: ANN001
            return self._read(self.raw.read, size)

        def readline(self, size=None):  # noqa: ANN001
            return self._read(self.raw.readline, size)

    class Handler(pywsgi.WSGIHandler):
        _served = 0
        _header_timer = None

        def handle(self):
            _nodelay(self.socket)
            return super().handle()

        def handle_one_request(self):
            try:
                return super().handle_one_request()
            finally:
                self._cancel_header_timer()
                self._served += 1

        def read_requestline(self):
            if self._served:  # kept alive: the next request must start within the keep-alive timeout
                first = b""
                with gevent.Timeout(timeouts.keepalive, False):
                    first = self.rfile.peek(1)
                if not first:
                    return ""  # silent (or closed): close the connection
            self._header_timer = gevent.Timeout.start_new(timeouts.header, ReadTimeout("request headers"))
            return super().read_requestline()

        def read_request(self, raw_requestline):
            try:
                return super().read_request(raw_requestline)
            finally:
                self._cancel_header_timer()

        def _cancel_header_timer(self) -> None:
            if self._header_timer is not None:
                self._header_timer.close()
                self._header_timer = None

        def _handle_client_error(self, ex):
            if isinstance(ex, ReadTimeout):
                self.close_connection = True
                return ("408", _TIMEOUT_RESPONSE)
            return super()._handle_client_error(ex)

        def get_environ(self):
            env = super().get_environ()
            try:  # where the request really arrived (ticket URLs, motcua/web/request.py)
                env["motcua.server_addr"] = self.socket.getsockname()[:2]
            except OSError:
                pass
            if env.get("wsgi.input") is self.wsgi_input:  # not a websocket upgrade
                self.wsgi_input.rfile = BodyReader(self.rfile, self)
            return env

        def handle_one_response(self):
            try:
                return super().handle_one_response()
            finally:
                if self._connection_upgrade_requested():
                    self.close_connection = True  # the websocket has ended: release its connection

    return Handler


def _threaded_handler(timeouts: Timeouts):
    from werkzeug.serving import WSGIRequestHandler

    class RequestHandler(WSGIRequestHandler):
        _served = 0

        def setup(self):
            super().setup()
            _nodelay(self.connection)

        def handle_one_request(self):
            self.connection.settimeout(timeouts.keepalive if self._served else timeouts.header)
            self._served += 1
            return super().handle_one_request()

        def make_environ(self):
            env = super().make_environ()
            env["motcua.server_addr"] = self.connection.getsockname()[:2]
            upgrade = env.get("HTTP_UPGRADE", "").lower() == "websocket"
            self.connection.settimeout(None if upgrade else timeouts.body)
            return env

    return RequestHandler
