"""Many Socket.IO display clients in one asyncio process, for the fan-out benchmark.

python-socketio's threaded client costs two OS threads and a good share of a core per
connection; 200 of them on the server's own 2 cores measure the clients more than the
server. This client speaks just enough of the protocol (RFC 6455 WebSocket, Engine.IO v4,
Socket.IO v5) to stay connected as a display: it answers pings, and for every
`ticket:called` it records the receipt time (time.perf_counter, CLOCK_MONOTONIC: comparable
across processes). It never decodes events it is not measuring.

Used by bench_core.py; standalone:
  python bench/leanclient.py http://127.0.0.1:5000 200 30   (connect 200, hold 30 s)
"""
from __future__ import annotations

import asyncio
import base64
import json
import os
import struct
import sys
import time
import zlib
from urllib.parse import urlsplit

CALLED_PREFIX = b'42["ticket:called",'
UPDATE_PREFIX = b'42["ticket:update",'


def _frame(text: str) -> bytes:
    """A masked client text frame (clients must mask, RFC 6455 5.3)."""
    data = text.encode()
    mask = os.urandom(4)
    n = len(data)
    if n < 126:
        head = struct.pack("!BB", 0x81, 0x80 | n)
    elif n < 65536:
        head = struct.pack("!BBH", 0x81, 0x80 | 126, n)
    else:
        head = struct.pack("!BBQ", 0x81, 0x80 | 127, n)
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(data))
    return head + mask + masked


class LeanClient(asyncio.Protocol):
    """One client connection, parsed in `data_received` (no task wake-up per message: the
    clients share a core with the servers they measure, so they must cost as little as
    possible). `deflate=True` offers per-message compression as browsers do
    (`permessage-deflate; client_max_window_bits`); if the server accepts, compressed frames
    are inflated with one context per connection, as a browser would."""

    def __init__(self, received: dict[int, list[float]], auth: dict | None = None, source: str | None = None,
                 deflate: bool = False):
        self.received = received
        self.auth = auth
        self.source = source  # a local address to connect from (127.x.y.z): one "citizen" per address
        self.deflate = deflate
        self.connected = asyncio.Event()
        self.closed = False
        self.writer: asyncio.Transport | None = None
        self.bytes = 0  # WebSocket payload bytes received (as sent on the wire)
        self.updates = 0  # ticket:update messages (a phone page's own ticket)
        self.compressed = False  # the server accepted permessage-deflate
        self._inflate = None
        self._buf = bytearray()
        self._head_done = False
        self._done: asyncio.Future | None = None
        self._error: Exception | None = None

    async def run(self, url: str) -> None:
        u = urlsplit(url)
        loop = asyncio.get_running_loop()
        self._done = loop.create_future()
        await loop.create_connection(lambda: self, u.hostname, u.port or 80,
                                     local_addr=(self.source, 0) if self.source else None)
        key = base64.b64encode(os.urandom(16)).decode()
        ext = "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n" if self.deflate else ""
        self.writer.write((
            f"GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: {u.netloc}\r\n"
            f"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
            f"Sec-WebSocket-Version: 13\r\n{ext}\r\n").encode())
        try:
            await self._done
        finally:
            self.closed = True
            self.writer.close()
        if self._error:
            raise self._error

    # asyncio.Protocol
    def connection_made(self, transport) -> None:
        self.writer = transport

    def connection_lost(self, exc) -> None:
        self.closed = True
        if self._done and not self._done.done():
            self._done.set_result(None)

    def _fail(self, err: Exception) -> None:
        self._error = err
        self.writer.close()
        if not self._done.done():
            self._done.set_result(None)

    def data_received(self, data: bytes) -> None:
        buf = self._buf
        buf += data
        if not self._head_done:
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                return
            head = bytes(buf[:end]).decode("latin-1")
            del buf[:end + 4]
            if " 101 " not in head.split("\r\n", 1)[0]:
                return self._fail(RuntimeError(f"handshake refused: {head[:80]!r}"))
            self._head_done = True
            for line in head.split("\r\n")[1:]:
                name, _, value = line.partition(":")
                if name.strip().lower() == "sec-websocket-extensions" and "permessage-deflate" in value:
                    self.compressed = True
                    self._inflate = zlib.decompressobj(-15)
        while len(buf) >= 2:
            b1, b2 = buf[0], buf[1]
            n = b2 & 0x7F
            pos = 2
            if n == 126:
                if len(buf) < 4:
                    return
                n = int.from_bytes(buf[2:4], "big")
                pos = 4
            elif n == 127:
                if len(buf) < 10:
                    return
                n = int.from_bytes(buf[2:10], "big")
                pos = 10
            if len(buf) < pos + n:
                return
            payload = bytes(buf[pos:pos + n])
            del buf[:pos + n]
            self.bytes += n
            op = b1 & 0x0F
            if op == 0x8:  # close
                self.writer.close()
                return
            if op == 0x9:  # WebSocket ping: answer pong (masked, empty)
                self.writer.write(b"\x8a\x80" + os.urandom(4))
                continue
            if op != 0x1:
                continue
            if b1 & 0x40:  # RSV1: a compressed message (permessage-deflate)
                payload = self._inflate.decompress(payload + b"\x00\x00\xff\xff")
            try:
                self._on_text(payload)
            except ConnectionError as e:
                return self._fail(e)

    def _on_text(self, p: bytes) -> None:
        if p.startswith(CALLED_PREFIX):
            now = time.perf_counter()
            tid = json.loads(p[2:])[1]["ticket_id"]
            self.received.setdefault(tid, []).append(now)
        elif p.startswith(UPDATE_PREFIX):
            self.updates += 1
        elif p == b"2":  # Engine.IO ping -> pong
            self.writer.write(_frame("3"))
        elif p[:1] == b"0":  # Engine.IO open -> Socket.IO connect to "/"
            self.writer.write(_frame("40" + (json.dumps(self.auth) if self.auth else "")))
        elif p.startswith(b"40"):
            self.connected.set()
        elif p.startswith(b"44"):
            raise ConnectionError(f"connect refused: {p[:120]!r}")


async def hold(url: str, n: int, received: dict[int, list[float]], until: asyncio.Event,
               ready=None, auth: dict | None = None, urls: list[str] | None = None,
               sources: list[str] | None = None, auths: list[dict] | None = None,
               stats: dict | None = None, deflate: bool = False) -> int:
    """Connect n clients, set `ready` (a callable) once all are in, stay until `until`;
    returns how many connections dropped on the way. `urls`/`sources`: client i connects to
    urls[i % len] from sources[i % len] (several server processes, addresses behind a proxy).
    auths: client i connects with auths[i] (phone pages: `{"ticket": token}`) instead of `auth`.
    stats: gets "bytes" (received after all were connected) and "updates", added up over the clients,
    and "compressed" (how many connections the server compressed).
    deflate: offer per-message compression, as browsers do."""
    clients = [LeanClient(received, auths[i] if auths else auth, sources[i % len(sources)] if sources else None,
                          deflate=deflate)
               for i in range(n)]
    tasks = []
    for i, c in enumerate(clients):  # connect in small bursts, as screens would after a power cut
        tasks.append(asyncio.create_task(c.run(urls[i % len(urls)] if urls else url)))
        await asyncio.wait_for(c.connected.wait(), 30)
    base = sum(c.bytes for c in clients)  # what came after every client was in (not the snapshots)
    if ready:
        ready()
    await until.wait()
    dropped = sum(1 for c in clients if c.closed)
    if stats is not None:
        stats["bytes"] = stats.get("bytes", 0) + sum(c.bytes for c in clients) - base
        stats["updates"] = stats.get("updates", 0) + sum(c.updates for c in clients)
        stats["compressed"] = stats.get("compressed", 0) + sum(1 for c in clients if c.compressed)
    for c in clients:
        if c.writer:
            c.writer.close()
    for tk in tasks:
        tk.cancel()
    return dropped


def main() -> None:
    url, n, secs = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])

    async def go():
        received: dict[int, list[float]] = {}
        done = asyncio.Event()
        asyncio.get_running_loop().call_later(secs, done.set)
        dropped = await hold(url, n, received, done, ready=lambda: print(f"{n} connected", flush=True))
        print(f"dropped {dropped}; calls seen {len(received)}")

    asyncio.run(go())


if __name__ == "__main__":
    main()


# ----------------------------------------------------------------------------- HTTP load

async def _post_loop(host: str, port: int, path: str, token: str, bodies: list[bytes], stop_at: float,
                     lat: list[float], status: dict[int, int]) -> None:
    """One keep-alive connection posting JSON bodies back to back (HTTP/1.1)."""
    reader, writer = await asyncio.open_connection(host, port)
    i = 0
    try:
        while time.monotonic() < stop_at:
            body = bodies[i % len(bodies)]
            i += 1
            t0 = time.perf_counter()
            writer.write((f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\n"
                          f"Authorization: Bearer {token}\r\nContent-Type: application/json\r\n"
                          f"Content-Length: {len(body)}\r\n\r\n").encode() + body)
            head = await reader.readuntil(b"\r\n\r\n")
            code = int(head.split(b" ", 2)[1])
            length = 0
            for line in head.split(b"\r\n"):
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
            if length:
                await reader.readexactly(length)
            lat.append(time.perf_counter() - t0)
            status[code] = status.get(code, 0) + 1
    finally:
        writer.close()


def post_load(url: str, path: str, token: str, bodies: list[bytes], seconds: float, conns: int) -> dict:
    """`conns` keep-alive connections from one asyncio loop; returns latencies and status counts."""
    u = urlsplit(url)

    async def go():
        lat: list[float] = []
        status: dict[int, int] = {}
        stop_at = time.monotonic() + seconds
        t0 = time.monotonic()
        await asyncio.gather(*(_post_loop(u.hostname, u.port or 80, path, token, bodies[k:] + bodies[:k],
                                          stop_at, lat, status) for k in range(conns)))
        return {"lat": lat, "status": status, "seconds": time.monotonic() - t0}

    return asyncio.run(go())
