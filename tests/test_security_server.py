"""Security review (issue 14), the server side, against a real `motcua demo` process (gevent):
finding 3 (a body over the limit is a 413 and nothing is stored, whatever the transfer
encoding), finding 12 (idle, slow-header, slow-body and keep-alive connections are timed out;
a websocket client silent after its close frame is released) and finding 6b (a spoofed Host
header does not reach the ticket's URL)."""
from __future__ import annotations

import base64
import http.client
import json
import os
import socket
import struct
import threading
import time

import pytest
import requests

from helpers import DISPLAY_TOKEN, KIOSK_TOKEN, Listener, ServerProcess

TIMEOUT_S = 2  # the server's header, body and keep-alive timeouts in these tests
WAIT_S = TIMEOUT_S + 10  # generous: a busy machine
JSON_LIMIT = 64 * 1024
UPLOAD_LIMIT = 25 * 1024 * 1024


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    env = {"MOTCUA_HEADER_TIMEOUT_S": str(TIMEOUT_S), "MOTCUA_BODY_TIMEOUT_S": str(TIMEOUT_S),
           "MOTCUA_KEEPALIVE_TIMEOUT_S": str(TIMEOUT_S)}
    s = ServerProcess(tmp_path_factory.mktemp("security-server"), env=env).start()
    yield s
    s.stop()


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _waiting(server, service: str = "HOTICH") -> int:
    q = requests.get(server.url + "/api/v1/queue", timeout=10).json()
    return next(s for s in q["services"] if s["code"] == service)["waiting"]


def _post(server, path: str, chunks, headers: dict[str, str], *, chunked: bool):
    """POST with a chunked body (http.client's encode_chunked) or with a Content-Length."""
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=120)
    try:
        if chunked:
            conn.request("POST", path, body=iter(chunks), headers=headers, encode_chunked=True)
        else:
            data = b"".join(chunks)
            conn.request("POST", path, body=data, headers={**headers, "Content-Length": str(len(data))})
        r = conn.getresponse()
        return r.status, r.read()
    finally:
        conn.close()


# Finding 3: bodies over the limit --------------------------------------------------------------
@pytest.mark.parametrize("chunked", [True, False], ids=["chunked", "content-length"])
def test_json_body_over_64_kib_is_a_413_and_no_ticket_is_issued(server, chunked):
    # The first 64 KiB alone are valid JSON: a body cut at the limit would issue a ticket.
    body = b'{"service": "HOTICH"}' + b" " * (JSON_LIMIT + 10_000)
    before = _waiting(server)
    status, raw = _post(server, "/api/v1/tickets", [body[i:i + 8192] for i in range(0, len(body), 8192)],
                        {"Content-Type": "application/json", **_auth(KIOSK_TOKEN)}, chunked=chunked)
    assert status == 413, raw[:300]
    msg = json.loads(raw)
    assert msg["error"] == "payload_too_large" and "quá lớn" in msg["message"]
    assert _waiting(server) == before


def test_chunked_json_body_within_the_limit_is_accepted(server):
    before = _waiting(server)
    body = b'{"service": "HOTICH"}' + b" " * (JSON_LIMIT - 100)
    status, raw = _post(server, "/api/v1/tickets", [body[i:i + 1000] for i in range(0, len(body), 1000)],
                        {"Content-Type": "application/json", **_auth(KIOSK_TOKEN)}, chunked=True)
    assert status == 201, raw[:300]
    assert _waiting(server) == before + 1


def _csv_chunks(prefix: str, total: int):
    """A valid dossier list (rows padded with an ignored 3 KB column) of more than *total* bytes."""
    yield "ma_ho_so,thu_tuc,linh_vuc,nguoi_nop,ngay_nhan,ngay_hen_tra,trang_thai,ghi_chu\r\n".encode()
    sent, i = 0, 0
    pad = "Hồ sơ đầy đủ " * 230
    while sent <= total:
        i += 1
        row = (f"{prefix}-{i:04d},Đăng ký khai sinh,Hộ tịch,Nguyễn Văn An,01/07/2025,05/07/2025,4,"
               f"{pad}\r\n").encode()
        sent += len(row)
        yield row


@pytest.mark.parametrize("chunked", [True, False], ids=["chunked", "content-length"])
def test_upload_over_25_mib_is_a_413_and_nothing_is_imported(server, chunked):
    staff = server.token("admin")
    prefix = "000.17.22.H56-250701" if chunked else "000.17.22.H56-250702"
    status, raw = _post(server, "/api/v1/dossiers/import?filename=ho-so.csv", _csv_chunks(prefix, UPLOAD_LIMIT + 4096),
                        {"Content-Type": "text/csv", **_auth(staff)}, chunked=chunked)
    assert status == 413, raw[:300]
    assert "quá lớn" in json.loads(raw)["message"]
    for n in (1, 100, 1000):
        r = requests.get(f"{server.url}/api/v1/dossiers/{prefix}-{n:04d}", timeout=10)
        assert r.status_code == 404, f"dossier {n} of a refused upload was stored"


def test_chunked_upload_within_the_limit_is_imported(server):
    staff = server.token("admin")
    prefix = "000.17.22.H56-250703"
    chunks = list(_csv_chunks(prefix, 200_000))
    status, raw = _post(server, "/api/v1/dossiers/import?filename=ho-so.csv", chunks,
                        {"Content-Type": "text/csv", **_auth(staff)}, chunked=True)
    assert status == 200, raw[:500]
    assert json.loads(raw)["imported"] == len(chunks) - 1
    assert requests.get(f"{server.url}/api/v1/dossiers/{prefix}-0001", timeout=10).status_code == 200


# Finding 12: slow and idle connections ---------------------------------------------------------
def _wait_closed(sock: socket.socket, limit: float) -> tuple[float | None, bytes]:
    """Seconds until the server closed the connection (None: still open after *limit*), and
    what it sent before closing."""
    t0 = time.monotonic()
    got = b""
    sock.settimeout(limit)
    try:
        while True:
            data = sock.recv(65536)
            if not data:
                return time.monotonic() - t0, got
            got += data
            sock.settimeout(max(0.01, limit - (time.monotonic() - t0)))
    except socket.timeout:
        return None, got
    except ConnectionResetError:
        return time.monotonic() - t0, got


def _connect(server) -> socket.socket:
    return socket.create_connection(("127.0.0.1", server.port), timeout=10)


def test_connection_that_sends_nothing_is_closed(server):
    with _connect(server) as s:
        elapsed, _ = _wait_closed(s, WAIT_S)
    assert elapsed is not None, f"an idle connection was still open after {WAIT_S} s"


def test_half_a_request_line_is_closed(server):
    with _connect(server) as s:
        s.sendall(b"GET /heal")
        elapsed, _ = _wait_closed(s, WAIT_S)
    assert elapsed is not None, f"a half-sent request line was still open after {WAIT_S} s"


def test_headers_trickled_byte_by_byte_are_closed(server):
    """Slowloris: one header byte every 0.3 s never lets a per-read timeout expire; the
    headers have a deadline of their own."""
    stop = threading.Event()
    with _connect(server) as s:
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")

        def trickle():
            while not stop.wait(0.3):
                try:
                    s.sendall(b"X")
                except OSError:
                    return

        th = threading.Thread(target=trickle, daemon=True)
        th.start()
        try:
            elapsed, got = _wait_closed(s, WAIT_S)
        finally:
            stop.set()
            th.join(5)
    assert elapsed is not None, "a connection trickling its headers was never closed"
    if got:
        assert got.startswith(b"HTTP/1.1 408") and "quá lâu".encode() in got


def test_idle_keep_alive_connection_is_closed(server):
    with _connect(server) as s:
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        elapsed, got = _wait_closed(s, WAIT_S)
    assert got.startswith(b"HTTP/1.1 200"), got[:100]
    assert elapsed is not None, f"an idle keep-alive connection was still open after {WAIT_S} s"


def test_keep_alive_connection_in_use_is_kept(server):
    """Requests closer together than the timeout share one connection."""
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        for _ in range(3):
            conn.request("GET", "/api/v1/office")
            r = conn.getresponse()
            assert r.status == 200 and r.read()
        sock = conn.sock
        conn.request("GET", "/api/v1/office")
        r = conn.getresponse()
        assert r.status == 200 and r.read() and conn.sock is sock
    finally:
        conn.close()


def test_body_that_stops_coming_is_closed_and_nothing_issued(server):
    before = _waiting(server)
    body = b'{"service": "HOTICH"}'
    with _connect(server) as s:
        s.sendall(b"POST /api/v1/tickets HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                  b"Authorization: Bearer " + KIOSK_TOKEN.encode() + b"\r\n"
                  b"Content-Length: " + str(len(body) + 50).encode() + b"\r\n\r\n" + body)
        elapsed, got = _wait_closed(s, WAIT_S)
    assert elapsed is not None, f"a request whose body stopped was still open after {WAIT_S} s"
    assert not got.startswith(b"HTTP/1.1 2"), got[:200]
    assert _waiting(server) == before


def _ws_handshake(server) -> socket.socket:
    s = _connect(server)
    key = base64.b64encode(os.urandom(16)).decode()
    s.sendall((f"GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n"
               f"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
               "Sec-WebSocket-Version: 13\r\n\r\n").encode())
    got = b""
    while b"\r\n\r\n" not in got:
        got += s.recv(4096)
    assert got.startswith(b"HTTP/1.1 101"), got[:200]
    return s


def _ws_frame(opcode: int, payload: bytes = b"") -> bytes:
    mask = os.urandom(4)
    return bytes([0x80 | opcode, 0x80 | len(payload)]) + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


def test_websocket_client_silent_after_its_close_frame_is_released(server):
    with _ws_handshake(server) as s:
        s.sendall(_ws_frame(8, struct.pack("!H", 1000)))
        elapsed, got = _wait_closed(s, WAIT_S)
    assert b"\x88" in got, "the server answers the close frame"
    assert elapsed is not None, f"the server kept the socket {WAIT_S} s after the websocket closed"


def test_live_socket_clients_outlast_the_idle_timeout(server):
    """The timeouts are for silent clients: a display (answering the server's pings) stays
    connected and keeps getting events after an idle raw connection was dropped."""
    display = Listener(server.url, DISPLAY_TOKEN)
    try:
        display.wait_for("queue:snapshot")
        with _connect(server) as s:  # proof that the idle timeout went by
            assert _wait_closed(s, WAIT_S)[0] is not None
        with _connect(server) as s:
            assert _wait_closed(s, WAIT_S)[0] is not None
        r = requests.post(server.url + "/api/v1/tickets", json={"service": "DATDAI"}, headers=_auth(KIOSK_TOKEN),
                          timeout=10)
        assert r.status_code == 201
        display.wait_for("ticket:issued", lambda d: d.get("id") == r.json()["id"]
                         or (d.get("ticket") or {}).get("id") == r.json()["id"], timeout=10)
        assert display.sio.connected
    finally:
        display.close()


# Finding 6b: the ticket's URL ignores a spoofed Host -------------------------------------------
def test_spoofed_host_does_not_reach_the_ticket_url_or_qr(server):
    r = requests.post(server.url + "/api/v1/tickets", json={"service": "HOTICH"},
                      headers={**_auth(KIOSK_TOKEN), "Host": "evil.example"}, timeout=10)
    assert r.status_code == 201, r.text
    t = r.json()
    assert t["url"] == f"http://127.0.0.1:{server.port}/t/{t['token']}"
    r = requests.post(server.url + "/api/v1/tickets", json={"service": "HOTICH"},
                      headers={**_auth(KIOSK_TOKEN), "Host": f"localhost:{server.port}"}, timeout=10)
    assert r.json()["url"] == f"http://localhost:{server.port}/t/{r.json()['token']}"
