"""A TCP proxy on loopback that a test (or bench/faults/) can cut and restore: the link between
a device agent and the server, without touching either of them.

- `cut()` (mode "reset"): the proxy closes every connection through it and resets each new
  one at once, as when the server's side goes away: the agent sees its link drop at once and
  its tries fail at once. (The port stays the proxy's, so no other test can take it meanwhile.)
- `cut(silent=True)`: as when a cable is pulled or a router drops everything: connections stay
  open but nothing goes through, and new connections are neither accepted nor refused (they
  wait in the listen backlog); each side finds out only by its own timeouts.
- `restore()`: the path is back on the same port; connections held by a silent cut are closed
  (both ends gave them up long ago), waiting ones go through.

Stopped by `stop()`; its threads are daemons of the test process (nothing outlives it).
"""
from __future__ import annotations

import socket
import struct
import threading
import time

from helpers import free_port


class TcpProxy:
    def __init__(self, target_port: int, *, port: int | None = None, target_host: str = "127.0.0.1"):
        self.target = (target_host, target_port)
        self.port = port or free_port()
        self.lock = threading.Lock()
        self.pairs: list[tuple[socket.socket, socket.socket]] = []
        self.listener: socket.socket | None = None
        self.passing = threading.Event()  # data goes through (cleared by a cut)
        self.resetting = False  # a cut that is not silent: new connections are reset
        self.stopping = threading.Event()
        self.accepted = 0
        self.cuts: list[tuple[float, float | None]] = []  # (cut at, restored at), time.monotonic()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # Life cycle -----------------------------------------------------------------------------
    def start(self) -> "TcpProxy":
        self._listen()
        self.passing.set()
        return self

    def _listen(self) -> None:
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        for attempt in range(100):  # free_port() gave it up a moment ago; the kernel may hold it briefly
            try:
                s.bind(("127.0.0.1", self.port))
                break
            except OSError:
                if attempt == 99:
                    raise
                time.sleep(0.05)
        s.listen(128)
        s.settimeout(0.2)
        self.listener = s
        threading.Thread(target=self._accept, args=(s,), name="tcp-proxy-accept", daemon=True).start()

    def cut(self, *, silent: bool = False) -> float:
        """Cut the path; returns when (time.monotonic())."""
        at = time.monotonic()
        self.cuts.append((at, None))
        self.resetting = not silent
        self.passing.clear()
        if not silent:
            self._close_pairs()
        return at

    def restore(self) -> float:
        """The path is back; returns when (time.monotonic())."""
        self._close_pairs()  # held by a silent cut: dead for both ends by now
        self.resetting = False
        self.passing.set()
        at = time.monotonic()
        if self.cuts and self.cuts[-1][1] is None:
            self.cuts[-1] = (self.cuts[-1][0], at)
        return at

    def stop(self) -> None:
        self.stopping.set()
        self.passing.set()
        self._close_listener()
        self._close_pairs()

    def connections(self) -> int:
        with self.lock:
            return len(self.pairs)

    # Inside ----------------------------------------------------------------------------------
    def _close_listener(self) -> None:
        s, self.listener = self.listener, None
        if s is not None:
            s.close()

    def _close_pairs(self) -> None:
        with self.lock:
            pairs, self.pairs = self.pairs, []
        for pair in pairs:
            for sock in pair:
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                sock.close()

    def _accept(self, listener: socket.socket) -> None:
        while not self.stopping.is_set() and self.listener is listener:
            if not self.passing.is_set() and not self.resetting:  # silent cut: leave them in the backlog
                self.passing.wait(0.2)
                continue
            try:
                client, _ = listener.accept()
            except socket.timeout:
                continue
            except OSError:
                return  # closed by stop()
            if not self.passing.is_set():  # cut: reset at once
                client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                client.close()
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=10)
            except OSError:
                client.close()
                continue
            for sock in (client, upstream):
                sock.settimeout(None)
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self.lock:
                self.pairs.append((client, upstream))
                self.accepted += 1
            threading.Thread(target=self._pump, args=(client, upstream), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket) -> None:
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                while not self.passing.wait(0.2):  # silent cut: hold it (the pair is closed on restore)
                    if self.stopping.is_set() or src.fileno() < 0:
                        return
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (src, dst):  # one end closed: close the other (its pump wakes and ends)
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
            with self.lock:
                mine = [p for p in self.pairs if src in p]
                self.pairs = [p for p in self.pairs if src not in p]
            for pair in mine:
                for sock in pair:
                    sock.close()
