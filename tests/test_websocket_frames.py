"""Screens' WebSockets are not compressed, even when the browser offers it.

Chromium (and every browser) offers `permessage-deflate`. Accepted, it gives every connected
screen its own compressor (about 90 KB each: 90 MB for 1,000 phone pages) and compresses each
message once per socket, doubling what one call costs the server per screen, for messages of a
few hundred bytes on the office's own network. The server answers the handshake without the
extension, so messages leave as plain text frames.
"""
from __future__ import annotations

import base64
import json
import os
import socket
import struct

import requests

from helpers import DISPLAY_TOKEN, KIOSK_TOKEN

BROWSER_OFFER = "permessage-deflate; client_max_window_bits"


def _masked(text: str) -> bytes:
    data = text.encode()
    mask = os.urandom(4)
    return struct.pack("!BB", 0x81, 0x80 | len(data)) + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(data))


class RawScreen:
    """A WebSocket client that offers compression as Chromium does and keeps every frame's
    header bits, so a test sees what the server put on the wire."""

    def __init__(self, url: str):
        host, port = url.removeprefix("http://").split(":")
        self.sock = socket.create_connection((host, int(port)), timeout=30)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall((
            f"GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: {host}:{port}\r\n"
            f"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
            f"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Extensions: {BROWSER_OFFER}\r\n\r\n").encode())
        self.buf = b""
        while b"\r\n\r\n" not in self.buf:
            self._more()
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        self.head = head.decode("latin-1")

    def _more(self) -> None:
        chunk = self.sock.recv(65536)
        assert chunk, "the server closed the connection"
        self.buf += chunk

    def _take(self, n: int) -> bytes:
        while len(self.buf) < n:
            self._more()
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def frame(self) -> tuple[int, bytes]:
        """(first header byte, payload) of the next frame."""
        b1, b2 = self._take(2)
        n = b2 & 0x7F
        if n == 126:
            n = struct.unpack("!H", self._take(2))[0]
        elif n == 127:
            n = struct.unpack("!Q", self._take(8))[0]
        return b1, self._take(n)

    def send(self, text: str) -> None:
        self.sock.sendall(_masked(text))

    def close(self) -> None:
        self.sock.close()


def test_a_browser_offering_compression_gets_plain_frames_and_still_sees_calls(server):
    screen = RawScreen(server.url)
    try:
        status = screen.head.split("\r\n", 1)[0]
        assert " 101 " in status, screen.head
        headers = {k.strip().lower(): v.strip() for k, _, v in
                   (line.partition(":") for line in screen.head.split("\r\n")[1:])}
        assert "sec-websocket-extensions" not in headers, f"compression accepted: {headers}"
        frames = []
        b1, payload = screen.frame()  # Engine.IO open
        frames.append(b1)
        assert payload.startswith(b"0{"), payload
        screen.send("40" + json.dumps({"token": DISPLAY_TOKEN}))
        while True:  # Socket.IO connected, then the display's snapshot
            b1, payload = screen.frame()
            frames.append(b1)
            if payload.startswith(b"40"):
                break
        # A call reaches this screen, as text a browser reads without inflating it.
        staff = server.token("quay1")
        r = requests.post(server.url + "/api/v1/tickets", json={"service": "HOTICH"},
                          headers={"Authorization": f"Bearer {KIOSK_TOKEN}"}, timeout=30)
        assert r.status_code == 201, r.text
        number = r.json()["number"]
        r = requests.post(server.url + "/api/v1/counters/1/call-next", timeout=30,
                          headers={"Authorization": f"Bearer {staff}"})
        assert r.status_code == 200, r.text
        while True:
            b1, payload = screen.frame()
            frames.append(b1)
            if payload.startswith(b'42["ticket:called",'):
                assert json.loads(payload[2:])[1]["number"] == number
                break
        assert all(b & 0x40 == 0 for b in frames), "a frame was sent compressed (RSV1 set)"
    finally:
        screen.close()
