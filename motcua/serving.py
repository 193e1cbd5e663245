"""How `motcua serve` / `motcua demo` run: gevent by default, OS threads as the fallback.

Measured on the 2-core reference machine (docs/performance.md): with gevent's WSGI server
and TCP_NODELAY, issuing a ticket over HTTP and pushing a call to 200 screens both cost a
fraction of what Werkzeug's threaded server with one OS thread per socket costs. gevent
needs the standard library patched before anything else starts (threads, sockets, locks),
so `patch_if_gevent()` runs first thing in the CLI, for the server commands only; library
users and the tests that build the app in-process stay on plain threads.

MOTCUA_ASYNC_MODE=threading forces the threaded server (Werkzeug + simple-websocket).
CPU-heavy or blocking C calls go through motcua_runtime.run_blocking (native threads).
"""
from __future__ import annotations

import logging
import os
import socket

log = logging.getLogger(__name__)

MODES = ("gevent", "threading")


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


def server_options() -> dict:
    """Extra keyword arguments for SocketIO.run() in the current mode."""
    if async_mode() == "gevent":
        from gevent import pywsgi

        _gevent_limits(pywsgi)

        class Handler(pywsgi.WSGIHandler):
            def handle(self):
                _nodelay(self.socket)
                return super().handle()

        return {"handler_class": Handler}

    from werkzeug.serving import WSGIRequestHandler

    class RequestHandler(WSGIRequestHandler):
        def setup(self):
            super().setup()
            _nodelay(self.connection)

    return {"request_handler": RequestHandler, "allow_unsafe_werkzeug": True}
