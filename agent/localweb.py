"""The agent's page and endpoint on 127.0.0.1, for the kiosk while the server is away.

The kiosk page (kiosk/static/js/offline.js, opened with `?agent=PORT`) watches the server;
when the server stops answering it opens `http://127.0.0.1:PORT/?back=<kiosk address>`: this
page, served by the agent on the kiosk PC itself, so it keeps working (and survives a reload)
while the network or the server is down. It lists the kiosk fields, issues numbers from the
kept blocks (offline.py) and prints them; once the agent is linked to the server again it
goes back to the kiosk page.

- `GET /`: the page; `GET /status`: {"linked", "office", "fields": [{"code", "name", "name_en", "remaining"}]};
- `POST /tickets` {"service", "priority"?} (JSON only): 201 the ticket, or 4xx/503 {"message"}.

Only this PC reaches it (bound to 127.0.0.1; the Host header must name it, so a web page
cannot reach it by a DNS trick; writes need a JSON body, so another site's form cannot post).
"""
from __future__ import annotations

import json
import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from .offline import OfflineRefused
from .offline_page import PAGE

log = logging.getLogger(__name__)
MAX_BODY = 2048


class LocalWeb:
    def __init__(self, agent: Any, port: int):
        self.agent, self.port = agent, port
        parts = urlsplit(agent.server)
        self.origin = f"{parts.scheme}://{parts.netloc}"  # the page checks the server is back (healthz)
        self.httpd: ThreadingHTTPServer | None = None

    def start(self) -> None:
        web = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, fmt: str, *args: Any) -> None:  # noqa: A003
                log.debug("local web: " + fmt, *args)

            def _host_ok(self) -> bool:
                host = (self.headers.get("Host") or "").lower()
                return host in (f"127.0.0.1:{web.port}", f"localhost:{web.port}")

            def _send(self, status: int, body: Any, ctype: str = "application/json; charset=utf-8") -> None:
                data = body if isinstance(body, bytes) else json.dumps(body, ensure_ascii=False).encode()
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(data)))
                self.send_header("Cache-Control", "no-store")
                self.send_header("X-Content-Type-Options", "nosniff")
                self.send_header("Content-Security-Policy", "default-src 'self'; script-src 'unsafe-inline'; "
                                 f"style-src 'unsafe-inline'; connect-src 'self' {web.origin}; frame-ancestors 'none'")
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:  # noqa: N802
                if not self._host_ok():
                    return self._send(403, {"message": "Không được phép."})
                path = urlsplit(self.path).path
                if path == "/":
                    return self._send(200, PAGE.encode(), "text/html; charset=utf-8")
                if path == "/status":
                    return self._send(200, web.status(parse_qs(urlsplit(self.path).query).get("back", [""])[0]))
                return self._send(404, {"message": "Không tìm thấy."})

            def do_POST(self) -> None:  # noqa: N802
                if not self._host_ok() or urlsplit(self.path).path != "/tickets":
                    return self._send(404, {"message": "Không tìm thấy."})
                if not (self.headers.get("Content-Type") or "").startswith("application/json"):
                    return self._send(415, {"message": "Yêu cầu không hợp lệ."})
                try:
                    length = int(self.headers.get("Content-Length") or 0)
                    if not 0 < length <= MAX_BODY:
                        raise ValueError("size")
                    body = json.loads(self.rfile.read(length))
                    service = str(body["service"])[:32]
                    priority = body.get("priority") or None
                except (ValueError, KeyError, TypeError):
                    return self._send(400, {"message": "Yêu cầu không hợp lệ."})
                try:
                    ticket = web.agent.issue_offline(service, str(priority)[:16] if priority else None)
                except OfflineRefused as exc:
                    return self._send(exc.status, {"message": exc.message})
                return self._send(201, ticket)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.httpd.daemon_threads = True
        threading.Thread(target=self.httpd.serve_forever, name="agent-local-web", daemon=True).start()
        log.info("local kiosk page on http://127.0.0.1:%d/", self.port)

    def move(self, port: int) -> None:
        self.stop()
        self.port = port
        self.start()

    def stop(self) -> None:
        if self.httpd is not None:
            self.httpd.shutdown()
            self.httpd.server_close()
            self.httpd = None

    def status(self, back: str) -> dict[str, Any]:
        agent = self.agent
        rem = agent.desk.remaining()
        fields = [{"code": c, "name": f.get("name", c), "name_en": f.get("name_en", ""), "remaining": rem.get(c, 0)}
                  for c, f in agent.desk.fields().items()]
        server = agent.server + "/"
        return {"linked": agent.linked.is_set(), "office": agent.journal.state.get("office", ""), "fields": fields,
                "server": self.origin,
                "back": back if back.startswith(server) else f"{server}kiosk?agent={self.port}",
                "printer": agent.hw.printer is not None}
