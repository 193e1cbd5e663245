"""The device end of a simulated serial line, reachable through a pyserial URL.

``TcpSimLink``: a TCP server on 127.0.0.1; the driver opens ``socket://127.0.0.1:PORT``.
``PtySimLink``: a pseudo-terminal pair; the driver opens a fixed symlink to the slave side
(like ``/dev/ttyUSB0``), which disappears on ``unplug()`` and comes back on ``replug()``.

Both call ``handler(data) -> reply`` on their own thread for every chunk the host sends
(``handler(b"")`` on quiet ticks, so a simulator can drop half-received frames), write the
reply back, and let the simulator push bytes of its own with :meth:`send`.
"""

from __future__ import annotations

import errno
import logging
import os
import select
import socket
import tempfile
import threading
import tty
from typing import Callable

log = logging.getLogger(__name__)

Handler = Callable[[bytes], bytes]
TICK = 0.02


class SimLink:
    """Common interface of the simulated links."""

    url: str = ""

    def __init__(self, handler: Handler, name: str) -> None:
        self._handler = handler
        self.name = name
        self._lock = threading.RLock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.plugged = False

    def start(self) -> None:
        self._plug()
        self._thread = threading.Thread(target=self._run, name=f"sim-{self.name}", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(2.0)
        with self._lock:
            self._unplug()

    def unplug(self) -> None:
        """Pull the cable: the link closes and cannot be reopened until :meth:`replug`."""
        with self._lock:
            self._unplug()

    def replug(self) -> None:
        with self._lock:
            if not self.plugged:
                self._plug()

    def send(self, data: bytes) -> bool:
        """Push bytes to the host; False when nobody is connected."""
        raise NotImplementedError

    @property
    def connected(self) -> bool:
        raise NotImplementedError

    def _plug(self) -> None:
        raise NotImplementedError

    def _unplug(self) -> None:
        raise NotImplementedError

    def _run(self) -> None:
        raise NotImplementedError

    def _reply(self, data: bytes) -> bytes:
        try:
            return self._handler(data)
        except Exception:
            log.exception("simulated device %s failed on %r", self.name, data)
            return b""


class TcpSimLink(SimLink):
    """A TCP server on 127.0.0.1 standing for the device end of a serial cable."""

    def __init__(self, handler: Handler, name: str = "device", port: int = 0) -> None:
        super().__init__(handler, name)
        self.port = port
        self._server: socket.socket | None = None
        self._client: socket.socket | None = None

    @property
    def url(self) -> str:  # type: ignore[override]
        return f"socket://127.0.0.1:{self.port}"

    @property
    def connected(self) -> bool:
        with self._lock:
            return self._client is not None

    def _plug(self) -> None:
        server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind(("127.0.0.1", self.port))
        server.listen(1)
        self.port = server.getsockname()[1]
        self._server = server
        self.plugged = True

    def _unplug(self) -> None:
        for sock in (self._client, self._server):
            if sock is not None:
                try:
                    sock.close()
                except OSError:
                    pass
        self._client = None
        self._server = None
        self.plugged = False

    def send(self, data: bytes) -> bool:
        with self._lock:
            if self._client is None:
                return False
            try:
                self._client.sendall(data)
                return True
            except OSError:
                return False

    def _run(self) -> None:
        while not self._stop.is_set():
            with self._lock:
                server, client = self._server, self._client
            sockets = [s for s in (server, client) if s is not None]
            if not sockets:
                self._stop.wait(TICK)
                continue
            try:
                readable, _, _ = select.select(sockets, [], [], TICK)
            except (OSError, ValueError):
                continue  # a socket was closed by unplug() meanwhile
            if not readable:
                self._reply(b"")
                continue
            if server in readable:
                self._accept(server)
            if client is not None and client in readable:
                self._read(client)

    def _accept(self, server: socket.socket) -> None:
        try:
            conn, _ = server.accept()
        except OSError:
            return
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self._lock:
            if self._server is not server:  # unplugged meanwhile
                conn.close()
                return
            if self._client is not None:  # a serial line has one host: the newest wins
                self._client.close()
            self._client = conn

    def _read(self, client: socket.socket) -> None:
        try:
            data = client.recv(4096)
        except OSError:
            data = b""
        if not data:
            with self._lock:
                if self._client is client:
                    client.close()
                    self._client = None
            return
        reply = self._reply(data)
        if reply:
            with self._lock:
                if self._client is client:
                    try:
                        client.sendall(reply)
                    except OSError:
                        pass


class PtySimLink(SimLink):
    """A pseudo-terminal; the host opens ``link_path`` (a symlink to the slave side)."""

    def __init__(self, handler: Handler, name: str = "device", link_path: str | None = None) -> None:
        super().__init__(handler, name)
        self._tmpdir: tempfile.TemporaryDirectory[str] | None = None
        if link_path is None:
            self._tmpdir = tempfile.TemporaryDirectory(prefix="serialdev-sim-")
            link_path = os.path.join(self._tmpdir.name, f"tty{name}")
        self.link_path = link_path
        self._master: int | None = None
        self._slave: int | None = None

    @property
    def url(self) -> str:  # type: ignore[override]
        return self.link_path

    @property
    def connected(self) -> bool:
        with self._lock:
            return self._master is not None

    def _plug(self) -> None:
        master, slave = os.openpty()
        tty.setraw(slave)
        tty.setraw(master)
        if os.path.lexists(self.link_path):
            os.unlink(self.link_path)
        os.symlink(os.ttyname(slave), self.link_path)
        # The simulator keeps the slave open too, so reading the master never fails with
        # EIO while no host has the port open.
        self._master, self._slave = master, slave
        self.plugged = True

    def _unplug(self) -> None:
        for fd in (self._master, self._slave):
            if fd is not None:
                try:
                    os.close(fd)
                except OSError:
                    pass
        self._master = self._slave = None
        if os.path.lexists(self.link_path):
            os.unlink(self.link_path)
        self.plugged = False

    def stop(self) -> None:
        super().stop()
        if self._tmpdir is not None:
            self._tmpdir.cleanup()

    def send(self, data: bytes) -> bool:
        with self._lock:
            if self._master is None:
                return False
            try:
                os.write(self._master, data)
                return True
            except OSError:
                return False

    def _run(self) -> None:
        while not self._stop.is_set():
            with self._lock:
                master = self._master
            if master is None:
                self._stop.wait(TICK)
                continue
            try:
                readable, _, _ = select.select([master], [], [], TICK)
            except (OSError, ValueError):
                continue
            if not readable:
                self._reply(b"")
                continue
            try:
                data = os.read(master, 4096)
            except OSError as exc:
                if exc.errno not in (errno.EIO, errno.EBADF):
                    log.debug("pty read: %s", exc)
                self._stop.wait(TICK)
                continue
            reply = self._reply(data)
            if reply:
                with self._lock:
                    if self._master == master:
                        try:
                            os.write(master, reply)
                        except OSError:
                            pass
