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


class LeanClient:
    def __init__(self, received: dict[int, list[float]], auth: dict | None = None, source: str | None = None):
        self.received = received
        self.auth = auth
        self.source = source  # a local address to connect from (127.x.y.z): one "citizen" per address
        self.connected = asyncio.Event()
        self.closed = False
        self.writer: asyncio.StreamWriter | None = None
        self.bytes = 0  # WebSocket payload bytes received
        self.updates = 0  # ticket:update messages (a phone page's own ticket)

    async def run(self, url: str) -> None:
        u = urlsplit(url)
        reader, writer = await asyncio.open_connection(u.hostname, u.port or 80,
                                                       local_addr=(self.source, 0) if self.source else None)
        self.writer = writer
        key = base64.b64encode(os.urandom(16)).decode()
        writer.write((
            f"GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: {u.netloc}\r\n"
            f"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
            "Sec-WebSocket-Version: 13\r\n\r\n").encode())
        head = await reader.readuntil(b"\r\n\r\n")
        if b" 101 " not in head.split(b"\r\n", 1)[0]:
            raise RuntimeError(f"handshake refused: {head[:80]!r}")
        try:
            while True:
                b1, b2 = await reader.readexactly(2)
                n = b2 & 0x7F
                if n == 126:
                    n = struct.unpack("!H", await reader.readexactly(2))[0]
                elif n == 127:
                    n = struct.unpack("!Q", await reader.readexactly(8))[0]
                payload = await reader.readexactly(n)
                self.bytes += n
                op = b1 & 0x0F
                if op == 0x8:  # close
                    break
                if op == 0x9:  # WebSocket ping: answer pong (masked, empty)
                    writer.write(b"\x8a\x80" + os.urandom(4))
                    continue
                if op != 0x1:
                    continue
                self._on_text(payload)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            self.closed = True
            writer.close()

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
               stats: dict | None = None) -> int:
    """Connect n clients, set `ready` (a callable) once all are in, stay until `until`;
    returns how many connections dropped on the way. `urls`/`sources`: client i connects to
    urls[i % len] from sources[i % len] (several server processes, addresses behind a proxy).
    auths: client i connects with auths[i] (phone pages: `{"ticket": token}`) instead of `auth`.
    stats: gets "bytes" (received after all were connected) and "updates", added up over the clients."""
    clients = [LeanClient(received, auths[i] if auths else auth, sources[i % len(sources)] if sources else None)
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
