"""Common base of the serial bus drivers: one long-lived object per serial port.

Threads per bus:
  reader      owns the port: opens it (``serial.serial_for_url``, so ``/dev/ttyUSB0``,
              ``socket://host:port``, ``rfc2217://``, ``loop://`` all work), reads bytes,
              cuts them into frames, and reopens it with a growing delay after a failure.
  writer      runs one job at a time: commands first (``show``, ``prompt``), then typed
              polls; as the bus master it writes a request and waits for the answer.
  events      calls the listeners (``on_state``, ``on_key``, ...) in order, so a slow
              listener never holds up the bus.

Nothing a caller does waits for the device: public methods queue a job and return.
A command for a device replaces the older command of the same kind for that device
(the newest number wins); a poll of a kind already queued for a device is dropped.

States (port and every device, drivers.state.DeviceState): connecting, ready, error, lost,
closed. Every change goes through :meth:`SerialBus._set_state`, which logs it and calls
``on_state(name, state, detail)`` (the contract of every driver, drivers.state); ``name`` is
the bus name for the port (e.g. ``"keypads"``) and ``"<bus>:<kind>:<number>"`` for a device
(e.g. ``"keypads:keypad:3"``); ``detail`` is a Vietnamese sentence for people.

URLs: a port path may carry its line settings (``/dev/ttyUSB0?baudrate=19200&parity=E``,
:mod:`.settings`); ``sim://`` starts the bus's simulated twin (:mod:`.sim`, speaking the same
bytes over a loopback socket) on ``start()`` and opens it; the twin is ``bus.simulator``.
"""

from __future__ import annotations

import collections
import dataclasses
import logging
import queue
import threading
import time
from typing import Any, Callable

import serial

from ..reconnect import Backoff
from ..state import CLOSED, CONNECTING, ERROR, LOST, READY, DeviceState, StateCallback, log_level
from .jobs import DROP, RETRY, DeviceSlot, Dispatcher, Job, LinkBroken, LinkDown, StateInfo
from .settings import SIM_URL, BusSettings, split_serial_url

log = logging.getLogger(__name__)


class SerialBus:
    """Base class: one port, its threads, states, typed job queues and device tracking.

    Subclasses implement :meth:`_parse` (bytes -> frames), :meth:`_execute` (run one job)
    and may override :meth:`_handle_frame` (unsolicited frames).
    """

    #: False for devices that cannot be polled (a scanner): the port state alone counts.
    polls_devices = True
    device_labels: dict[str, str] = {}

    def __init__(
        self,
        url: str,
        *,
        name: str,
        settings: BusSettings,
        on_state: StateCallback | None = None,
    ) -> None:
        if not url:
            raise ValueError("a serial URL is needed (e.g. /dev/ttyUSB0, socket://host:port)")
        if ":" in name:
            raise ValueError("bus name must not contain ':'")
        path, line = split_serial_url(url)
        self.configured_url = url
        self.simulated = path.startswith(SIM_URL)
        self.simulator: Any = None  # the simulated twin of a ``sim://`` bus, once started
        self.url = path
        self.name = name
        self.settings = settings if not line else dataclasses.replace(settings, **line)
        self._on_state = on_state
        self._lock = threading.RLock()
        self._cond = threading.Condition(self._lock)
        self._stopping = threading.Event()
        self._started = False
        self._reader: threading.Thread | None = None
        self._writer: threading.Thread | None = None
        self._events = Dispatcher(name)
        self._port: serial.SerialBase | None = None
        self._link_up = False
        self._ever_up = False
        self._broken: str | None = None
        self._generation = 0
        self._silent_since: float | None = None  # when every device went quiet
        self._rx_lock = threading.Lock()
        self._rx_buffer = bytearray()
        self._replies: queue.Queue[Any] = queue.Queue()
        self._commands: collections.OrderedDict[tuple[str, int | None], Job] = (
            collections.OrderedDict())
        self._polls: collections.OrderedDict[tuple[str, int | None], Job] = (
            collections.OrderedDict())
        self._devices: dict[int, DeviceSlot] = {}
        self._states: dict[str, StateInfo] = {}
        self._stats: collections.Counter[str] = collections.Counter()
        self._set_state(name, CONNECTING, f"Chưa mở cổng {url}", notify=False)

    # ------------------------------------------------------------------ public API

    def start(self) -> None:
        """Open the port in the background and begin polling; returns at once."""
        with self._lock:
            if self._started:
                raise RuntimeError(f"{self.name} already started")
            self._started = True
        if self.simulated and self.simulator is None:
            self.simulator = self._make_simulator().start()
            self.url = self.simulator.url
        self._events.start()
        self._set_state(self.name, CONNECTING, f"Đang mở cổng {self.url}", force=True)
        self._reader = threading.Thread(target=self._reader_main,
                                        name=f"serialdev-{self.name}-reader", daemon=True)
        self._writer = threading.Thread(target=self._writer_main,
                                        name=f"serialdev-{self.name}-writer", daemon=True)
        self._reader.start()
        self._writer.start()

    def stop(self, timeout: float = 3.0) -> None:
        """Stop the threads, close the port, report ``closed``. Queued commands are dropped."""
        self._stopping.set()
        with self._cond:
            self._cond.notify_all()
            dropped = len(self._commands)
            self._commands.clear()
            self._polls.clear()
        self._replies.put(LinkDown(self._generation))
        for thread in (self._writer, self._reader):
            if thread is not None and thread.is_alive():
                thread.join(timeout)
        self._close_port()
        if self.simulator is not None:
            self.simulator.stop()
        if dropped:
            log.info("%s: stopped with %d undelivered command(s)", self.name, dropped)
        with self._lock:
            keys = list(self._devices)
        for key in keys:
            self._set_device_state(key, CLOSED, "Đã dừng")
        self._set_state(self.name, CLOSED, "Đã dừng")
        if self._started:
            self._events.stop(timeout)

    def __enter__(self) -> "SerialBus":
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def state(self) -> DeviceState:
        """The port's state."""
        with self._lock:
            return self._states[self.name].state

    def states(self) -> dict[str, StateInfo]:
        """The last state of the port and of every device, by name."""
        with self._lock:
            return dict(self._states)

    def stats(self) -> dict[str, int]:
        """Counters for diagnostics: frames, rejected bytes, timeouts, reconnects..."""
        with self._lock:
            return dict(self._stats)

    # ------------------------------------------------------------------ states

    def _set_state(self, name: str, state: DeviceState, detail: str, *, notify: bool = True,
                   force: bool = False) -> None:
        """The one place where a state changes: log it and tell ``on_state``."""
        with self._lock:
            old = self._states.get(name)
            if old is not None and old.state == state and not force:
                if detail != old.detail:  # same state, newer explanation: keep it quietly
                    self._states[name] = StateInfo(name, state, detail, old.since)
                    log.debug("%s: still %s (%s)", name, state, detail)
                return
            self._states[name] = StateInfo(name, state, detail, time.time())
            if notify:
                log.log(log_level(state), "%s: %s -> %s (%s)", name, old.state if old else "-", state,
                        detail)
                self._events.submit(self._on_state, name, state, detail)

    def _device_name_for(self, device: DeviceSlot) -> str:
        return f"{self.name}:{device.kind}:{device.number}"

    def _device_label(self, device: DeviceSlot) -> str:
        return f"{self.device_labels.get(device.kind, 'Thiết bị')} {device.number}"

    def _set_device_state(self, key: int, state: DeviceState, detail: str) -> None:
        with self._lock:
            device = self._devices[key]
            device.state = state
            self._set_state(self._device_name_for(device), state, detail)

    def _add_device(self, key: int, kind: str, number: int) -> None:
        with self._cond:
            if key in self._devices:
                return
            device = DeviceSlot(key, kind, number)
            self._devices[key] = device
            self._set_state(self._device_name_for(device), CONNECTING,
                            f"{self._device_label(device)}: đang chờ trả lời", notify=False)
            self._cond.notify_all()

    def _device_answered(self, key: int) -> None:
        """A device answered: it is ready (again)."""
        with self._lock:
            device = self._devices.get(key)
            if device is None:
                return
            device.silent = 0
            if device.state != READY:
                self._set_device_state(key, READY, f"{self._device_label(device)} đang hoạt động")
                self._update_port_state()

    def _device_silent(self, key: int) -> None:
        """A device did not answer once; after ``lost_after`` in a row it is lost."""
        with self._lock:
            self._stats["timeouts"] += 1
            device = self._devices.get(key)
            if device is None:
                return
            device.silent += 1
            if device.silent >= self.settings.lost_after and device.state != LOST:
                self._set_device_state(
                    key, LOST,
                    f"{self._device_label(device)} không trả lời sau {device.silent} lần hỏi; "
                    "đang tiếp tục hỏi lại")
                self._update_port_state()

    def _update_port_state(self) -> None:
        with self._lock:
            if not self._link_up or self._stopping.is_set():
                return
            devices = list(self._devices.values()) if self.polls_devices else []
            all_lost = bool(devices) and all(d.state == LOST for d in devices)
            if not all_lost:
                self._silent_since = None
            elif self._silent_since is None:
                self._silent_since = time.monotonic()
            if not devices or any(d.state == READY for d in devices):
                self._set_state(self.name, READY, f"Đã kết nối cổng {self.url}")
            elif all_lost:
                self._set_state(self.name, LOST,
                                f"Cổng {self.url} mở nhưng không thiết bị nào trả lời")
            else:
                self._set_state(self.name, CONNECTING,
                                f"Cổng {self.url} đã mở, đang chờ thiết bị trả lời")

    # ------------------------------------------------------------------ jobs

    def _queue_command(self, job: Job) -> None:
        """Queue a command; it replaces a queued command of the same kind and key."""
        with self._cond:
            if self._stopping.is_set():
                log.warning("%s: stopped, command %s for %s ignored", self.name, job.kind, job.key)
                return
            ident = (job.kind, job.key)
            if ident in self._commands:
                self._commands[ident] = job  # newest wins, keeps its place in line
                self._stats["commands_replaced"] += 1
            else:
                self._commands[ident] = job
                while len(self._commands) > self.settings.max_pending:
                    old_ident, _ = self._commands.popitem(last=False)
                    self._stats["commands_dropped"] += 1
                    log.warning("%s: too many queued commands, dropped %s", self.name, old_ident)
            self._cond.notify_all()

    def _queue_poll(self, kind: str, key: int | None, data: Any = None) -> bool:
        """Queue a typed poll; False (dropped) if one of that kind is already waiting."""
        with self._cond:
            ident = (kind, key)
            if ident in self._polls or self._stopping.is_set():
                self._stats["polls_dropped"] += 1
                return False
            self._polls[ident] = Job(kind, key, data, poll=True)
            self._cond.notify_all()
            return True

    def _requeue(self, job: Job) -> None:
        with self._cond:
            ident = (job.kind, job.key)
            if job.poll or ident in self._commands or self._stopping.is_set():
                return
            self._commands[ident] = job
            self._commands.move_to_end(ident, last=False)

    def _next_job(self) -> Job | None:
        with self._cond:
            while not self._stopping.is_set():
                wait = 1.0
                if self._link_up and self._broken is None:
                    now = time.monotonic()
                    job = self._pick_job(now)
                    if job is not None:
                        return job
                    due = self._next_due(now)
                    if due is not None:
                        wait = min(wait, max(0.001, due - now))
                self._cond.wait(wait)
        return None

    def _pick_job(self, now: float) -> Job | None:
        for ident, job in self._commands.items():
            device = self._devices.get(job.key) if job.key is not None else None
            if device is not None and (device.state == LOST or device.next_try > now):
                continue
            del self._commands[ident]
            return job
        if self.polls_devices:
            for device in self._devices.values():
                if now >= device.next_poll and ("poll", device.key) not in self._polls:
                    self._polls[("poll", device.key)] = Job("poll", device.key, poll=True)
        if self._polls:
            return self._polls.popitem(last=False)[1]
        return None

    def _next_due(self, now: float) -> float | None:
        times = []
        for job in self._commands.values():
            device = self._devices.get(job.key) if job.key is not None else None
            if device is None:
                return now
            if device.state != LOST:
                times.append(device.next_try)
        if self.polls_devices:
            times.extend(d.next_poll for d in self._devices.values())
        return min(times) if times else None

    def _writer_main(self) -> None:
        while True:
            job = self._next_job()
            if job is None:
                return
            try:
                outcome = self._execute(job)
            except LinkBroken as exc:
                self._requeue(job)
                self._mark_broken(str(exc), exc.generation)
                continue
            except Exception:
                log.exception("%s: job %s for %s failed", self.name, job.kind, job.key)
                outcome = DROP
            now = time.monotonic()
            with self._cond:
                device = self._devices.get(job.key) if job.key is not None else None
                if job.poll and device is not None and job.kind == "poll":
                    interval = (self.settings.lost_poll_interval if device.state == LOST
                                else self.settings.poll_interval)
                    device.next_poll = now + interval
                if outcome == RETRY and not job.poll:
                    if device is not None:
                        device.next_try = now + self.settings.poll_interval
                    self._requeue(job)

    def _mark_broken(self, reason: str, generation: int) -> None:
        with self._cond:
            if self._broken is None and self._link_up and generation == self._generation:
                self._broken = reason
                log.warning("%s: link failed while writing: %s", self.name, reason)

    # ------------------------------------------------------------------ talking

    def _transact(self, frame: bytes, accept: Callable[[Any], bool],
                  timeout: float | None = None) -> Any | None:
        """Write ``frame`` and return the first parsed answer ``accept`` takes, or None."""
        with self._lock:
            port = self._port
            generation = self._generation
            if port is None or self._broken is not None or not self._link_up:
                raise LinkBroken("cổng chưa mở")
        with self._rx_lock:
            stale_bytes = bytes(self._rx_buffer)
            self._rx_buffer.clear()
        if stale_bytes:
            with self._lock:
                self._stats["rejected"] += 1
            log.warning("%s: ignored %d unanswered byte(s) before a request: %s", self.name,
                        len(stale_bytes), stale_bytes[:64].hex(" "))
        while True:
            try:
                stale = self._replies.get_nowait()
            except queue.Empty:
                break
            if isinstance(stale, LinkDown) and stale.generation == generation:
                raise LinkBroken("mất kết nối", generation)
        try:
            port.write(frame)
            port.flush()
        except Exception as exc:  # pyserial raises SerialException, OSError, TypeError...
            raise LinkBroken(str(exc) or type(exc).__name__, generation) from exc
        with self._lock:
            self._stats["frames_sent"] += 1
        log.debug("%s: sent %s", self.name, frame.hex(" "))
        echo_pending = self.settings.local_echo
        deadline = time.monotonic() + (timeout or self.settings.reply_timeout)
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            try:
                item = self._replies.get(timeout=remaining)
            except queue.Empty:
                return None
            if isinstance(item, LinkDown):
                if item.generation == generation:
                    raise LinkBroken("mất kết nối", generation)
                continue
            if echo_pending and getattr(item, "raw", None) == frame:
                echo_pending = False
                continue
            if accept(item):
                return item
            log.debug("%s: unexpected answer ignored: %r", self.name, item)

    def _emit(self, fn: Callable[..., Any] | None, *args: Any) -> None:
        """Call a listener on the events thread."""
        self._events.submit(fn, *args)

    # ------------------------------------------------------------------ reader side

    def _open_port(self) -> serial.SerialBase:
        s = self.settings
        return serial.serial_for_url(
            self.url,
            baudrate=s.baudrate,
            bytesize=s.bytesize,
            parity=s.parity,
            stopbits=s.stopbits,
            timeout=s.read_timeout,
            write_timeout=s.write_timeout,
            # a second process opening the same tty fails clearly instead of sharing the bus
            exclusive=True,
        )

    def _reader_main(self) -> None:
        s = self.settings
        backoff = Backoff(s.reconnect_initial, max(s.reconnect_initial, s.reconnect_max))
        while not self._stopping.is_set():
            try:
                port = self._open_port()
            except Exception as exc:  # SerialException, OSError, ValueError (bad URL)
                self._open_failed(exc)
                if backoff.wait(self._stopping):
                    break
                continue
            backoff.reset()
            self._link_opened(port)
            reason = self._read_until_broken(port)
            self._link_closed(reason)
            if self._stopping.wait(self.settings.reconnect_initial):
                break

    def _open_failed(self, exc: Exception) -> None:
        with self._lock:
            self._stats["open_failures"] += 1
            detail = f"Không mở được cổng {self.url}: {exc}; sẽ thử lại"
            if self._ever_up:
                self._set_state(self.name, LOST, detail)
                log.debug("%s: reopen failed: %s", self.name, exc)
                return
            self._set_state(self.name, ERROR, detail)
            for key, device in self._devices.items():
                if device.state == CONNECTING:
                    self._set_device_state(key, ERROR, f"{self._device_label(device)}: {detail}")

    def _link_opened(self, port: serial.SerialBase) -> None:
        with self._rx_lock:
            self._rx_buffer.clear()
        with self._cond:
            if self._ever_up:
                self._stats["reconnects"] += 1
            self._port = port
            self._generation += 1
            self._silent_since = None
            self._link_up = True
            self._ever_up = True
            self._broken = None
            now = time.monotonic()
            for key, device in self._devices.items():
                device.next_poll = now
                device.next_try = now
                device.silent = 0
                if device.state == ERROR:
                    self._set_device_state(key, CONNECTING,
                                           f"{self._device_label(device)}: đang chờ trả lời")
            log.info("%s: port %s open", self.name, self.url)
            self._update_port_state()
            self._cond.notify_all()

    def _read_until_broken(self, port: serial.SerialBase) -> str:
        while not self._stopping.is_set():
            with self._lock:
                if self._broken is not None:
                    return self._broken
                limit = self.settings.reopen_when_silent
                if (limit and self._silent_since is not None
                        and time.monotonic() - self._silent_since >= limit):
                    return f"không thiết bị nào trả lời trong {limit:g} giây, mở lại cổng"
            try:
                data = port.read(1)
                while data and len(data) < 4096:
                    waiting = port.in_waiting
                    if not waiting:
                        break
                    data += port.read(waiting)
            except Exception as exc:  # pyserial raises several undocumented kinds
                return str(exc) or type(exc).__name__
            if data:
                self._receive(data)
            else:
                self._rx_idle()
        return "đã dừng"

    def _link_closed(self, reason: str) -> None:
        with self._cond:
            self._link_up = False
            self._broken = None
        self._close_port()
        with self._lock:
            generation = self._generation
        self._replies.put(LinkDown(generation))
        if self._stopping.is_set():
            return
        log.warning("%s: port %s closed: %s", self.name, self.url, reason)
        with self._lock:
            self._set_state(self.name, LOST,
                            f"Mất kết nối với cổng {self.url}: {reason}; đang thử kết nối lại")
            for key, device in self._devices.items():
                if device.state != LOST:
                    self._set_device_state(
                        key, LOST, f"{self._device_label(device)}: mất kết nối đường truyền")

    def _close_port(self) -> None:
        with self._lock:
            port, self._port = self._port, None
            self._link_up = False
        if port is not None:
            try:
                port.close()
            except Exception as exc:
                log.debug("%s: close failed: %s", self.name, exc)

    def _receive(self, data: bytes) -> None:
        with self._rx_lock:
            self._rx_buffer += data
            frames, rejected, rest = self._parse(bytes(self._rx_buffer))
            self._rx_buffer[:] = rest
        with self._lock:
            self._stats["bytes_received"] += len(data)
            self._stats["frames_received"] += len(frames)
            self._stats["rejected"] += len(rejected)
        for bad in rejected:
            log.warning("%s: ignored %d byte(s) (%s): %s", self.name, len(bad.raw), bad.reason,
                        bad.raw[:64].hex(" "))
        for frame in frames:
            try:
                self._handle_frame(frame)
            except Exception:
                log.exception("%s: frame handling failed: %r", self.name, frame)

    def _rx_idle(self) -> None:
        with self._rx_lock:
            if not self._rx_buffer:
                return
            partial = bytes(self._rx_buffer)
            self._rx_buffer.clear()
        with self._lock:
            self._stats["rejected"] += 1
        log.warning("%s: dropped an unfinished frame after a quiet gap: %s", self.name,
                    partial[:64].hex(" "))

    # ------------------------------------------------------------------ subclass hooks

    def _parse(self, data: bytes) -> tuple[list[Any], list[Any], bytes]:
        """Cut received bytes: ``(frames, rejected, rest)``; rejected items have .raw/.reason."""
        raise NotImplementedError

    def _handle_frame(self, frame: Any) -> None:
        """A frame arrived: by default it is an answer for the writer."""
        self._replies.put(frame)

    def _execute(self, job: Job) -> str:
        """Run one job on the writer thread; return DONE, RETRY or DROP."""
        raise NotImplementedError

    def _make_simulator(self) -> Any:
        """The simulated twin of this bus (not started), for a ``sim://`` URL."""
        raise ValueError(f"{self.name}: sim:// is not available for {type(self).__name__}")
