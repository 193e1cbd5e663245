"""TicketPrinter: the long-lived object that owns one ticket printer.

One worker thread owns the link. ``submit()`` only queues a job and returns its id; the
worker renders it, waits while the printer reports a fault, sends it, and reports every
change through ``on_job`` and ``on_state`` (drivers.state: ``on_state(name, state,
detail)``). The worker polls the real-time status (DLE EOT) every ``status_interval``
seconds where the link can read back, declares the link lost after ``lost_after_polls``
unanswered polls or at the first link error, and reconnects by itself with a growing delay
(``reconnect_initial`` .. ``reconnect_max``, drivers.reconnect).

Device states (drivers.state.DeviceState): connecting, ready, busy, error, closed; a printer
that reports a fault (paper out, cover open...) is reported ``error`` even while a job is
being sent. ``status()`` gives the rest, typed: the printer's own status and the number of
queued jobs.
Job states: queued, printing, done, failed (a failed job carries a Vietnamese reason).
A job that cannot be printed is never dropped silently: it waits, and fails with a reason
once it has waited ``job_timeout`` seconds while the printer is not ready. Where the link
reads the status, a sent job is ``done`` only once a status poll at least ``confirm_s``
after its last byte shows the printer without a fault; a fault seen before (paper ran out,
cover opened while it printed) fails it, and the printer's buffers are cleared (DLE DC4 8) so
the ticket does not come out hours later when the fault clears and nobody waits for it.
"""

from __future__ import annotations

import collections
import logging
import threading
import time
import uuid
from typing import TYPE_CHECKING, Callable

from motcua_runtime import run_blocking

from ..reconnect import Backoff
from ..state import BUSY, CLOSED, CONNECTING, ERROR, READY, StateCallback
from .document import PrintDocument
from .encoder import encode_document
from .jobs import DONE, FAILED, PRINTING, QUEUED, STARTING_STATUS, DeviceStatus, Job, JobInfo
from .profile import PrinterProfile
from .status import DISCONNECTED, UNKNOWN, PrinterStatus, status_from_replies, status_byte
from .transport import Transport, make_transport

if TYPE_CHECKING:
    from .virtual import VirtualPrinter

log = logging.getLogger(__name__)

class _StopNow(Exception):
    pass


class TicketPrinter:
    """One ticket printer, driven by its own worker thread.

    Settings (seconds unless said otherwise):
      status_interval    how often the real-time status is polled
      job_timeout        how long a job may wait for a printer that is not ready
      read_timeout       how long one status reply is awaited
      write_timeout      the link's write timeout (USB, TCP)
      reconnect_initial  first delay before reopening a lost link (doubles each time)
      reconnect_max      longest delay between reconnection attempts
      lost_after_polls   unanswered status polls before the link is declared lost
      poll_status        False for printers that never answer DLE EOT
      write_chunk_size   bytes per write (a stop can cut in between chunks)
      max_attempts       sends of one job before a lost link fails it
      max_queue          queued jobs accepted; more fail at once
      job_history        finished jobs kept for job()
      stop_timeout       how long stop() waits for the current job and the thread
      confirm_s          how long after its last byte a job may still be caught by a fault
    """

    def __init__(
        self,
        url: str,
        profile: PrinterProfile,
        *,
        name: str = "printer",
        status_interval: float = 1.0,
        on_state: StateCallback | None = None,
        on_job: Callable[[str, str, str | None], None] | None = None,
        job_timeout: float = 30.0,
        read_timeout: float = 0.5,
        write_timeout: float = 10.0,
        reconnect_initial: float = 0.5,
        reconnect_max: float = 10.0,
        lost_after_polls: int = 2,
        poll_status: bool = True,
        write_chunk_size: int = 1024,
        max_attempts: int = 2,
        max_queue: int = 100,
        job_history: int = 500,
        stop_timeout: float = 5.0,
        confirm_s: float = 1.0,
        transport: Transport | None = None,
    ) -> None:
        if status_interval <= 0 or job_timeout <= 0:
            raise ValueError("status_interval and job_timeout must be > 0")
        self._backoff = Backoff(reconnect_initial, max(reconnect_initial, reconnect_max))
        self.url = url
        self.profile = profile
        self.name = name
        self.status_interval = status_interval
        self.job_timeout = job_timeout
        self.reconnect_initial = reconnect_initial
        self.reconnect_max = reconnect_max
        self.lost_after_polls = max(1, lost_after_polls)
        self.poll_status = poll_status
        self.write_chunk_size = max(64, write_chunk_size)
        self.max_attempts = max(1, max_attempts)
        self.max_queue = max_queue
        self.job_history = job_history
        self.stop_timeout = stop_timeout
        self.confirm_s = max(0.0, confirm_s)
        self._on_state = on_state
        self._on_job = on_job
        self._transport = transport or make_transport(
            url, read_timeout=read_timeout, write_timeout=write_timeout, job_name=name
        )

        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._stop_deadline: float | None = None
        self._thread: threading.Thread | None = None
        self._queue: collections.deque[Job] = collections.deque()
        # Sent, not yet seen printed: (job, the monotonic time a fault-free poll confirms it).
        self._confirming: list[tuple[Job, float]] = []
        self._jobs: collections.OrderedDict[str, Job] = collections.OrderedDict()
        self._state = CONNECTING
        self._printer_status = STARTING_STATUS
        self._since = time.time()
        self._cause = ""  # the last reason the link could not be opened or was lost
        self._connected = False
        self._closed = False
        self._silent_polls = 0
        # Callbacks, in the order the changes happened; only the worker runs them.
        self._events: collections.deque[Callable[[], None]] = collections.deque()

    # ---------------------------------------------------------------- public API
    @property
    def transport(self) -> Transport:
        return self._transport

    @property
    def virtual_printer(self) -> "VirtualPrinter | None":
        """The simulated printer behind a ``virtual`` URL (None for real hardware)."""
        return getattr(self._transport, "printer", None)

    def start(self) -> None:
        """Start the worker thread (connects, polls, prints). Idempotent."""
        with self._lock:
            if self._closed:
                raise RuntimeError("TicketPrinter was stopped; make a new one")
            if self._thread is not None:
                return
            self._thread = threading.Thread(
                target=self._run, name=f"printer-{self.name}", daemon=True
            )
            self._thread.start()
        log.info("printer %s: started on %s (%s)", self.name, self.url, self.profile.name)

    def stop(self) -> None:
        """Let the job being sent finish (for up to half of stop_timeout), fail the queued
        ones with a reason, close the link, and join the worker (up to stop_timeout)."""
        with self._lock:
            thread = self._thread
            self._stop_deadline = time.monotonic() + self.stop_timeout / 2
        self._stop.set()
        self._wake.set()
        if thread is threading.current_thread():
            return  # called from a callback: the worker ends after this round
        if thread is not None:
            thread.join(self.stop_timeout)
            if thread.is_alive():
                log.error("printer %s: worker did not stop within %.1f s", self.name, self.stop_timeout)
        else:
            self._shutdown()

    def submit(self, doc: PrintDocument, job_id: str | None = None) -> str:
        """Queue ``doc`` for printing and return the job id at once (never waits on I/O)."""
        if not isinstance(doc, PrintDocument):
            raise TypeError("submit() takes a PrintDocument")
        return self._enqueue(doc, None, job_id, doc.title)

    def submit_raw(self, data: bytes, job_id: str | None = None, title: str = "") -> str:
        """Queue ready-made ESC/POS bytes (diagnostics, test pages)."""
        return self._enqueue(None, bytes(data), job_id, title)

    def job(self, job_id: str) -> JobInfo | None:
        """The job's state now (None if the id is unknown or long forgotten)."""
        with self._lock:
            job = self._jobs.get(job_id)
            return job.info() if job else None

    def jobs(self) -> list[JobInfo]:
        with self._lock:
            return [j.info() for j in self._jobs.values()]

    def wait_job(self, job_id: str, timeout: float) -> JobInfo | None:
        """Block until the job is done or failed, or ``timeout`` passes; its state then."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                job = self._jobs.get(job_id)
                if job is None or job.state in (DONE, FAILED):
                    return job.info() if job else None
                left = deadline - time.monotonic()
                if left <= 0:
                    return job.info()
                self._changed.wait(left)

    def status(self) -> DeviceStatus:
        with self._lock:
            return self._snapshot_locked()

    def wait_status(self, predicate: Callable[[DeviceStatus], bool], timeout: float) -> DeviceStatus:
        """Block until ``predicate(status())`` holds or ``timeout`` passes; the status then."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                snap = self._snapshot_locked()
                left = deadline - time.monotonic()
                if predicate(snap) or left <= 0:
                    return snap
                self._changed.wait(left)

    # ---------------------------------------------------------------- internals: jobs
    def _enqueue(
        self, doc: PrintDocument | None, data: bytes | None, job_id: str | None, title: str
    ) -> str:
        with self._lock:
            jid = job_id or uuid.uuid4().hex[:12]
            existing = self._jobs.get(jid)
            if existing is not None and existing.state in (QUEUED, PRINTING):
                raise ValueError(f"job {jid} is still {existing.state}")
            job = Job(jid, doc, data, title, time.monotonic(), time.time())
            self._jobs.pop(jid, None)
            self._jobs[jid] = job
            if self._closed or self._stop.is_set():
                self._finish_locked(job, FAILED, "Máy in đã dừng, vé chưa được in")
            elif len(self._queue) >= self.max_queue:
                self._finish_locked(job, FAILED, "Hàng đợi in đã đầy, vé chưa được in")
            else:
                self._queue.append(job)
                self._job_event_locked(job)
            self._prune_locked()
            closed = self._closed
        if closed:
            self._deliver()  # no worker any more to tell the listeners
        self._wake.set()
        return jid

    def _prune_locked(self) -> None:
        excess = len(self._jobs) - self.job_history
        if excess <= 0:
            return
        for jid in [j.id for j in self._jobs.values() if j.state in (DONE, FAILED)][:excess]:
            del self._jobs[jid]

    def _finish_locked(self, job: Job, state: str, error: str | None) -> None:
        job.state = state
        job.error = error
        job.finished_wall = time.time()
        if job in self._queue:
            self._queue.remove(job)
        job.doc = None  # free the document and the bytes
        job.data = None
        self._job_event_locked(job)
        if state == FAILED:
            log.warning("printer %s: job %s failed: %s", self.name, job.id, error)
        else:
            log.info("printer %s: job %s %s", self.name, job.id, state)

    def _job_event_locked(self, job: Job) -> None:
        self._changed.notify_all()
        if self._on_job is not None:
            cb, jid, state, error = self._on_job, job.id, job.state, job.error
            self._events.append(lambda: cb(jid, state, error))

    # ---------------------------------------------------------------- internals: status
    def _snapshot_locked(self) -> DeviceStatus:
        return DeviceStatus(
            name=self.name,
            state=self._state,
            printer=self._printer_status,
            queued=len(self._queue),
            since=self._since,
            cause=self._cause,
        )

    def _set_locked(
        self, state: str | None = None, printer: PrinterStatus | None = None
    ) -> None:
        new_state = self._state if state is None else state
        new_printer = self._printer_status if printer is None else printer
        if new_state == self._state and new_printer == self._printer_status:
            return
        if new_state != self._state:
            log.info("printer %s: %s -> %s (%s)", self.name, self._state, new_state,
                     new_printer.message_vi)
        elif new_printer.fault != self._printer_status.fault:
            log.info("printer %s: %s", self.name, new_printer.message_vi)
        self._state = new_state
        self._printer_status = new_printer
        self._since = time.time()
        self._status_changed_locked()

    def _status_changed_locked(self) -> None:
        self._changed.notify_all()
        if self._on_state is not None:
            cb, snap = self._on_state, self._snapshot_locked()
            self._events.append(lambda: cb(self.name, snap.device_state, snap.message_vi))

    def _deliver(self) -> None:
        """Run the queued callbacks (worker thread only, so listeners see changes in order)."""
        while True:
            with self._lock:
                if not self._events:
                    return
                call = self._events.popleft()
            try:
                call()
            except Exception:  # a listener's bug must not stop the printer
                log.exception("printer %s: callback failed", self.name)

    def _update(self, state: str | None = None, printer: PrinterStatus | None = None) -> None:
        with self._lock:
            self._set_locked(state, printer)

    # ---------------------------------------------------------------- worker
    def _run(self) -> None:
        self._backoff.reset()
        next_connect = 0.0
        next_poll = 0.0
        try:
            while not self._stop.is_set():
                self._deliver()
                now = time.monotonic()
                if not self._connected:
                    if now >= next_connect:
                        if self._connect():
                            self._backoff.reset()
                            next_poll = 0.0
                            continue
                        next_connect = time.monotonic() + self._backoff.next()
                    self._expire_jobs()
                    self._sleep(max(0.0, min(next_connect - time.monotonic(), self.status_interval)))
                    continue

                polled = now >= next_poll
                if polled:
                    next_poll = now + self.status_interval
                    self._poll()
                    if not self._connected:
                        next_connect = time.monotonic() + self._backoff.next()
                        continue

                self._expire_jobs()
                if not polled and self._has_work():
                    # Ask the printer right before sending: a fault since the last poll
                    # (cover opened, paper out) keeps the job waiting.
                    next_poll = now + self.status_interval
                    self._poll()
                    if not self._connected:
                        next_connect = time.monotonic() + self._backoff.next()
                        continue
                job = self._next_job()
                if job is not None:
                    self._print(job)
                    if not self._connected:
                        next_connect = time.monotonic() + self._backoff.next()
                    else:
                        next_poll = 0.0  # look at the printer right after a job
                    continue
                self._sleep(max(0.0, next_poll - time.monotonic()))
        except Exception:
            log.exception("printer %s: worker crashed", self.name)
        finally:
            self._shutdown()

    def _sleep(self, seconds: float) -> None:
        self._deliver()
        if seconds > 0:
            self._wake.wait(seconds)
        self._wake.clear()

    def _connect(self) -> bool:
        try:
            self._transport.open()
        except Exception as exc:
            log.warning("printer %s: cannot open %s: %s", self.name, self.url, exc)
            with self._lock:
                if str(exc) != self._cause:  # a new reason is news even when the state stays
                    self._cause = str(exc)[:300]
                    if self._state == ERROR and self._printer_status == DISCONNECTED:
                        self._status_changed_locked()
            self._update(ERROR, DISCONNECTED)
            return False
        with self._lock:
            self._cause = ""
        self._connected = True
        self._silent_polls = 0
        log.info("printer %s: link %s open", self.name, self.url)
        if not (self.poll_status and self._transport.can_read):
            self._update(READY, UNKNOWN)
        return True

    def _disconnect(self, reason: str) -> None:
        log.warning("printer %s: link lost (%s)", self.name, reason)
        with self._lock:
            self._cause = str(reason)[:300]
        self._connected = False
        try:
            self._transport.close()
        except Exception as exc:
            log.debug("printer %s: close: %s", self.name, exc)
        self._update(ERROR, DISCONNECTED)

    def _poll(self) -> None:
        if not (self.poll_status and self._transport.can_read):
            return
        try:
            first = self._transport.read_status(1)
            if first is None:
                self._update(READY, UNKNOWN)
                return
            b1 = status_byte(first)
            if b1 is None:
                self._silent_polls += 1
                if self._silent_polls >= self.lost_after_polls:
                    self._disconnect(f"{self._silent_polls} status polls unanswered")
                return
            self._silent_polls = 0
            cause = self._transport.read_status(2) if b1 & 0x08 else None
            b2 = status_byte(cause)
            error = self._transport.read_status(3) if b2 is not None and b2 & 0x40 else None
            paper = self._transport.read_status(4)
        except Exception as exc:
            self._disconnect(str(exc))
            return
        status = status_from_replies(first, cause, error, paper)
        with self._lock:
            busy = self._state == BUSY
        self._update(BUSY if busy else (READY if status.ok else ERROR), status)
        self._check_confirming(status)

    def _check_confirming(self, status: PrinterStatus) -> None:
        """Settle the sent jobs: a fault now means they did not come out whole; a printer
        without fault past their confirm time means they did."""
        with self._lock:
            if not self._confirming:
                return
            now = time.monotonic()
            if status.reachable and status.known and status.fault is not None:
                caught = [job for job, _ in self._confirming]
                self._confirming.clear()
                reason = f"{status.message_vi} khi đang in vé này: vé không in ra được"
                for job in caught:
                    self._finish_locked(job, FAILED, reason)
            elif status.ok:
                caught = []
                left = []
                for job, due in self._confirming:
                    if due <= now:
                        self._finish_locked(job, DONE, None)
                    else:
                        left.append((job, due))
                self._confirming[:] = left
            else:
                return
            if not self._confirming and self._state == BUSY:
                self._set_locked(READY if (self._connected and status.ok) else ERROR)
        if caught:
            try:  # while the fault lasts: the printer must not print them when it clears
                self._transport.clear_buffers()
                log.warning("printer %s: %d job(s) caught by a fault, printer buffers cleared",
                            self.name, len(caught))
            except Exception as exc:
                self._disconnect(str(exc))

    def _has_work(self) -> bool:
        with self._lock:
            return bool(self._queue) and self._connected and self._printer_status.ok

    def _printer_ready(self) -> bool:
        with self._lock:
            return self._connected and self._printer_status.ok

    def _next_job(self) -> Job | None:
        with self._lock:
            if not self._queue or not (self._connected and self._printer_status.ok):
                return None
            job = self._queue[0]
            job.state = PRINTING
            job.attempts += 1
            self._job_event_locked(job)
            self._set_locked(BUSY)
        return job

    def _expire_jobs(self) -> None:
        if self._printer_ready():
            return
        now = time.monotonic()
        with self._lock:
            reason = self._printer_status.message_vi
            for job in [j for j in self._queue if now - j.submitted >= self.job_timeout]:
                self._finish_locked(
                    job,
                    FAILED,
                    f"Không in được vé sau {_seconds_vi(self.job_timeout)} giây chờ: {reason}",
                )

    def _print(self, job: Job) -> None:
        try:
            data = job.data if job.data is not None else run_blocking(encode_document, job.doc, self.profile)
        except Exception as exc:
            log.exception("printer %s: cannot render job %s", self.name, job.id)
            self._end_job(job, FAILED, f"Không dựng được nội dung vé để in: {exc}")
            return
        job.size = len(data)
        try:
            for start in range(0, len(data), self.write_chunk_size):
                if self._stop.is_set() and self._stop_deadline is not None and (
                    time.monotonic() > self._stop_deadline
                ):
                    raise _StopNow
                self._deliver()
                self._transport.write(data[start : start + self.write_chunk_size])
            self._transport.end_job()
            if self.poll_status and self._transport.can_read:
                with self._lock:  # done once a poll shows the printer fine (_check_confirming)
                    if job in self._queue:
                        self._queue.remove(job)
                    self._confirming.append((job, time.monotonic() + self.confirm_s))
                return
        except _StopNow:
            self._end_job(job, FAILED, "Máy in đã dừng khi đang in vé này")
            return
        except Exception as exc:
            self._disconnect(str(exc))
            if job.attempts >= self.max_attempts:
                self._end_job(job, FAILED, f"Mất kết nối với máy in khi đang in: {exc}")
            else:
                self._requeue(job)
            return
        self._end_job(job, DONE, None)

    def _requeue(self, job: Job) -> None:
        with self._lock:
            job.state = QUEUED
            self._job_event_locked(job)

    def _end_job(self, job: Job, state: str, error: str | None) -> None:
        with self._lock:
            self._finish_locked(job, state, error)
            if self._state == BUSY:
                ok = self._connected and self._printer_status.ok
                self._set_locked(READY if ok else ERROR)

    def _shutdown(self) -> None:
        with self._lock:
            self._closed = True
            for job, _ in self._confirming:  # every byte went out and no fault was seen
                self._finish_locked(job, DONE, None)
            self._confirming.clear()
            for job in list(self._queue):
                self._finish_locked(job, FAILED, "Máy in đã dừng, vé chưa được in")
        try:
            self._transport.close()
        except Exception as exc:
            log.debug("printer %s: close: %s", self.name, exc)
        self._connected = False
        with self._lock:
            self._set_locked(CLOSED)
        self._deliver()
        log.info("printer %s: stopped", self.name)


def _seconds_vi(seconds: float) -> str:
    """30 -> "30", 0.5 -> "0,5" (Vietnamese decimal comma)."""
    return f"{seconds:g}".replace(".", ",")
