"""The simulated ticket printer.

It receives the same bytes a real printer would (through :class:`VirtualTransport`), walks
them command by command so that a DLE EOT n real-time query is answered with real status
bytes (and never counted as job data, even when 0x10 0x04 occurs inside image data), and
writes each completed job's exact bytes as one file in its directory, atomically (a
temporary name, then a rename) and named so that names sort by time:
``20261123-101502-123456-job000042.bin``.

A job completes when the link says so (``end_job()``, sent by the driver after each job),
or when a new ESC @ arrives after printed content. It can be told to fail:
``set_fault("offline" | "paper_out" | "cover_open" | None)`` and ``set_delay(s_per_kb)``.
"offline" is a dead link (the printer is switched off or unplugged): opening, writing and
status queries fail until the fault is cleared. "paper_out" and "cover_open" are reported
by the status replies; jobs completed meanwhile are held and written when the fault clears.
"""

from __future__ import annotations

import collections
import logging
import os
import re
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from .status import CLEAR_BUFFERS, PrinterStatus, encode_status
from .transport import Transport, TransportError

log = logging.getLogger(__name__)

FAULTS = ("offline", "paper_out", "cover_open")
_JOB_NAME = re.compile(r"-job(\d+)\.bin$")


@dataclass(frozen=True)
class VirtualJob:
    seq: int
    data: bytes
    completed_at: float
    path: Path | None


class _IncompleteCommand(Exception):
    pass


def command_length(buf: bytes | bytearray, i: int) -> int:
    """Length of the command starting at ``buf[i]``; raises _IncompleteCommand if cut."""
    n = len(buf)

    def need(k: int) -> None:
        if i + k > n:
            raise _IncompleteCommand

    b = buf[i]
    if b == 0x10:  # DLE x n; DLE DC4 8 (clear buffers) carries 7 more bytes
        need(3)
        return 10 if buf[i + 1] == 0x14 and buf[i + 2] == 0x08 else 3
    if b == 0x1B:  # ESC
        need(2)
        c = buf[i + 1]
        if c in b"@2<LS":
            return 2
        if c == ord("c"):
            need(3)
            return 4
        if c == ord("p"):
            return 5
        if c in b"$\\":
            return 4
        if c == ord("*"):
            need(5)
            m, nl, nh = buf[i + 2], buf[i + 3], buf[i + 4]
            return 5 + (nl + nh * 256) * (3 if m in (32, 33) else 1)
        if c == ord("D"):  # tab positions, NUL-terminated
            end = buf.find(b"\x00", i + 2)
            if end < 0:
                raise _IncompleteCommand
            return end - i + 1
        return 3  # ESC c n: a, !, E, J, d, 3, -, M, t, G, R, V, {, SP ...
    if b == 0x1D:  # GS
        need(2)
        c = buf[i + 1]
        if c == ord("V"):
            need(3)
            return 4 if buf[i + 2] in (65, 66, 97, 98, 103, 104) else 3
        if c == ord("v"):
            need(8)
            xl, xh, yl, yh = buf[i + 4 : i + 8]
            return 8 + (xl + xh * 256) * (yl + yh * 256)
        if c == ord("("):
            need(5)
            return 5 + buf[i + 3] + buf[i + 4] * 256
        if c == ord("8"):
            need(7)
            return 7 + int.from_bytes(buf[i + 3 : i + 7], "little")
        if c == ord("*"):
            need(4)
            return 4 + buf[i + 2] * buf[i + 3] * 8
        if c == ord("k"):  # barcode
            need(3)
            m = buf[i + 2]
            if m <= 6:
                end = buf.find(b"\x00", i + 3)
                if end < 0:
                    raise _IncompleteCommand
                return end - i + 1
            need(4)
            return 4 + buf[i + 3]
        if c in b"LWP$\\":
            return 4
        return 3  # GS c n: !, B, H, h, w, f, a, r, I, / ...
    if b == 0x1C:  # FS
        need(2)
        c = buf[i + 1]
        if c == ord("p"):
            return 4
        if c in b".&":
            return 2
        return 3
    return 1


class VirtualPrinter:
    """A simulated ESC/POS printer that stores each job's bytes as one file."""

    def __init__(
        self,
        directory: str | os.PathLike[str] | None = None,
        *,
        keep_jobs: int = 200,
        reply_limit: int = 64,
    ) -> None:
        self.directory = Path(directory) if directory else None
        if self.directory is not None:
            self.directory.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._jobs: collections.deque[VirtualJob] = collections.deque(maxlen=keep_jobs)
        self._held: list[bytes] = []
        self._stream = bytearray()  # bytes not yet parsed into whole commands
        self._current = bytearray()  # the job being received
        self._replies = bytearray()
        self._reply_limit = reply_limit
        self._fault: str | None = None
        self._delay = 0.0
        self._paper_near_end = False
        self._connections = 0
        self._received = 0
        self._seq = self._last_seq_on_disk()
        self._completed = 0

    # ---------------------------------------------------------------- control
    def set_fault(self, fault: str | None) -> None:
        """Make the printer fail ("offline", "paper_out", "cover_open") or recover (None)."""
        if fault is not None and fault not in FAULTS:
            raise ValueError(f"fault must be one of {FAULTS} or None")
        with self._changed:
            previous, self._fault = self._fault, fault
            if fault == "offline":
                self._stream.clear()
                self._replies.clear()
            held: list[bytes] = []
            if fault is None:
                held, self._held = self._held, []
            for data in held:
                self._complete_locked(data)
            self._changed.notify_all()
        if previous != fault:
            log.info("virtual printer: fault %s -> %s", previous, fault)

    @property
    def fault(self) -> str | None:
        return self._fault

    def set_delay(self, seconds_per_kb: float) -> None:
        """Slow the printer: every KiB received takes this long to be accepted."""
        if seconds_per_kb < 0:
            raise ValueError("delay must be >= 0")
        self._delay = seconds_per_kb

    def set_paper_near_end(self, near_end: bool) -> None:
        self._paper_near_end = near_end

    @property
    def status(self) -> PrinterStatus:
        fault = self._fault
        if fault == "offline":
            return PrinterStatus(online=False, reachable=False)
        return PrinterStatus(
            online=fault is None,
            paper_out=fault == "paper_out",
            cover_open=fault == "cover_open",
            paper_near_end=self._paper_near_end or fault == "paper_out",
        )

    @property
    def jobs(self) -> list[bytes]:
        """The bytes of the completed jobs kept in memory, oldest first."""
        with self._lock:
            return [job.data for job in self._jobs]

    @property
    def job_records(self) -> list[VirtualJob]:
        with self._lock:
            return list(self._jobs)

    @property
    def received_bytes(self) -> int:
        """Job bytes received from the host since the printer was made (real-time queries aside)."""
        return self._received

    @property
    def completed_count(self) -> int:
        return self._completed

    @property
    def held_count(self) -> int:
        """Jobs received during a paper/cover fault, printed when it clears."""
        with self._lock:
            return len(self._held)

    def wait_for_jobs(self, count: int, timeout: float) -> bool:
        """Block until ``count`` jobs in all have completed (True) or ``timeout`` passes."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while self._completed < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._changed.wait(left)
            return True

    # ---------------------------------------------------------------- link side
    def connect(self) -> None:
        with self._lock:
            if self._fault == "offline":
                raise TransportError("Máy in ảo đang tắt (mất kết nối)")
            self._connections += 1
            self._stream.clear()
            self._replies.clear()

    def disconnect(self) -> None:
        with self._lock:
            self._connections = max(0, self._connections - 1)

    def receive(self, data: bytes) -> None:
        """Bytes from the host, as a real printer's input buffer gets them."""
        if self._fault == "offline":
            raise TransportError("Máy in ảo mất kết nối")
        if self._delay and data:
            time.sleep(self._delay * len(data) / 1024)
        with self._changed:
            if self._fault == "offline":
                raise TransportError("Máy in ảo mất kết nối")
            self._stream += data
            self._parse_locked()
            self._changed.notify_all()

    def read(self, size: int = 16) -> bytes:
        """Bytes the printer sent back (status replies); b"" when there are none."""
        with self._lock:
            if self._fault == "offline":
                raise TransportError("Máy in ảo mất kết nối")
            out = bytes(self._replies[:size])
            del self._replies[:size]
            return out

    def end_job(self) -> None:
        """The host finished sending one job."""
        with self._changed:
            if self._fault == "offline":
                raise TransportError("Máy in ảo mất kết nối")
            if self._stream:
                log.warning("virtual printer: job ends inside a command (%d bytes)", len(self._stream))
                self._current += self._stream
                self._stream.clear()
            self._finish_current_locked()
            self._changed.notify_all()

    # ---------------------------------------------------------------- internals
    def _parse_locked(self) -> None:
        buf = self._stream
        i = 0
        while i < len(buf):
            try:
                length = command_length(buf, i)
            except _IncompleteCommand:
                break
            if i + length > len(buf):
                break
            command = bytes(buf[i : i + length])
            i += length
            if command[:2] == b"\x10\x04":
                self._answer_locked(command[2])
            elif command == CLEAR_BUFFERS:
                # Drop what was received and not printed (held by a fault, or half a job).
                self._held.clear()
                self._current.clear()
                if len(self._replies) < self._reply_limit:
                    self._replies += b"\x37\x25\x00"
                log.info("virtual printer: buffers cleared")
            elif command[:1] == b"\x10":
                continue  # other real-time commands (DLE ENQ, DLE DC4) are not job data
            else:
                if command == b"\x1b@" and self._has_content_locked():
                    self._finish_current_locked()
                self._current += command
                self._received += len(command)
        del buf[:i]

    def _has_content_locked(self) -> bool:
        return bool(self._current.replace(b"\x1b@", b""))

    def _answer_locked(self, n: int) -> None:
        replies = encode_status(self.status)
        if n in replies and len(self._replies) < self._reply_limit:
            self._replies += replies[n]

    def _finish_current_locked(self) -> None:
        if not self._current:
            return
        data = bytes(self._current)
        self._current.clear()
        if self._fault in ("paper_out", "cover_open"):
            self._held.append(data)
            log.info("virtual printer: job held (%d bytes) until %s clears", len(data), self._fault)
            return
        self._complete_locked(data)

    def _complete_locked(self, data: bytes) -> None:
        self._seq += 1
        now = time.time()
        path = self._write_file(self._seq, data, now) if self.directory else None
        self._jobs.append(VirtualJob(self._seq, data, now, path))
        self._completed += 1
        self._changed.notify_all()
        log.info("virtual printer: job %d printed (%d bytes)%s", self._seq, len(data),
                 f" -> {path}" if path else "")

    def _write_file(self, seq: int, data: bytes, when: float) -> Path:
        assert self.directory is not None
        stamp = datetime.fromtimestamp(when).strftime("%Y%m%d-%H%M%S-%f")
        final = self.directory / f"{stamp}-job{seq:06d}.bin"
        temp = self.directory / f".{final.name}.tmp"
        with open(temp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(temp, final)
        return final

    def _last_seq_on_disk(self) -> int:
        if self.directory is None:
            return 0
        best = 0
        for entry in self.directory.glob("*-job*.bin"):
            match = _JOB_NAME.search(entry.name)
            if match:
                best = max(best, int(match.group(1)))
        return best


class VirtualTransport(Transport):
    """The link to a :class:`VirtualPrinter`: bytes in, status bytes back."""

    can_read = True

    def __init__(self, printer: VirtualPrinter, url: str = "virtual") -> None:
        self.printer = printer
        self.url = url
        self._open = False

    @property
    def is_open(self) -> bool:
        return self._open

    def open(self) -> None:
        if self._open:
            self.close()
        self.printer.connect()
        self._open = True

    def _check(self) -> None:
        if not self._open:
            raise TransportError("Chưa kết nối máy in ảo")

    def write(self, data: bytes) -> None:
        self._check()
        self.printer.receive(data)

    def read_status(self, n: int) -> bytes | None:
        self._check()
        self.printer.receive(b"\x10\x04" + bytes((n,)))
        return self.printer.read(16)

    def end_job(self) -> None:
        self._check()
        self.printer.end_job()

    def clear_buffers(self) -> None:
        self._check()
        self.printer.receive(CLEAR_BUFFERS)
        self.printer.read(16)  # the "cleared" answer

    def close(self) -> None:
        if self._open:
            self._open = False
            self.printer.disconnect()


class VirtualPrinterServer:
    """Serves a :class:`VirtualPrinter` on a local TCP port, like a network printer on 9100.

    Use ``tcp://127.0.0.1:PORT`` to reach it through python-escpos' Network class. A job
    completes when the client has sent nothing for ``idle_job_end`` seconds, or closes.
    Binds to the loopback address only.
    """

    def __init__(
        self,
        printer: VirtualPrinter,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        idle_job_end: float = 0.3,
    ) -> None:
        import socket

        self.printer = printer
        self.idle_job_end = idle_job_end
        self._sock = socket.create_server((host, port))
        self._sock.settimeout(0.2)
        self.address: tuple[str, int] = self._sock.getsockname()[:2]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="virtual-printer-tcp", daemon=True)

    @property
    def url(self) -> str:
        return f"tcp://{self.address[0]}:{self.address[1]}"

    def start(self) -> "VirtualPrinterServer":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(2.0)
        self._sock.close()

    def _serve(self) -> None:
        import socket

        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            with conn:
                self._handle(conn)

    def _handle(self, conn) -> None:  # conn: socket.socket
        import socket

        conn.settimeout(0.05)
        pending = False
        last = time.monotonic()
        while not self._stop.is_set():
            try:
                data = conn.recv(4096)
            except socket.timeout:
                data = None
            except OSError:
                break
            if data == b"":
                break  # client closed
            try:
                if data:
                    before = self.printer.completed_count
                    self.printer.receive(data)
                    reply = self.printer.read(64)
                    if reply:
                        conn.sendall(reply)
                    is_query = len(data) == 3 and data[:2] == b"\x10\x04"
                    if not is_query:
                        pending = True
                        last = time.monotonic()
                    elif self.printer.completed_count != before:
                        pending = False
                elif pending and time.monotonic() - last >= self.idle_job_end:
                    self.printer.end_job()
                    pending = False
            except TransportError:
                break  # the simulated printer is "offline": drop the client
        if pending:
            try:
                self.printer.end_job()
            except TransportError:
                pass
