"""CameraScanner: one long-lived object that reads a frame source and reports codes.

Two background threads per running scanner:

- the reader opens the source, reads frames and hands them over (FrameSlot); it owns
  the state machine and reconnects with a growing delay (drivers.reconnect);
- the decoder takes frames at most ``fps_limit`` times a second, decodes them
  (decoding.decode_frame), drops codes seen within ``dedupe_seconds`` and calls
  ``on_code``.

States (drivers.state.DeviceState): connecting -> ready; a failed open -> error (retried
after the backoff delay); a source that stops delivering -> lost (reopened after the backoff
delay); stop() -> closed. Each change is logged and passed to ``on_state(name, state,
detail)``, the contract of every driver, with a Vietnamese detail for the screens. Callbacks run on the scanner's threads: keep them
short and thread-safe (hand the code to a queue or an emit, do not block).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from motcua_runtime import run_blocking

from drivers.reconnect import Backoff
from drivers.state import DeviceState, StateCallback, log_level
from drivers.camera.decoding import DEFAULT_SYMBOLOGIES, PASSES, decode_frame, resolve_symbologies
from drivers.camera.dedupe import CodeDeduper
from drivers.camera.frame_slot import FrameSlot
from drivers.camera.settings import CameraSettings
from drivers.camera.source_spec import FrameSource, SourceError, SourceLost, SourceSpec, parse_source
from drivers.camera.sources import make_source

log = logging.getLogger(__name__)

CodeCallback = Callable[[str, str], None]
SourceFactory = Callable[[SourceSpec, CameraSettings], FrameSource]

DEFAULT_DEDUPE_SECONDS = 3.0
DEFAULT_FPS_LIMIT = 10.0
DEFAULT_RECONNECT_DELAY = 0.5
DEFAULT_RECONNECT_MAX_DELAY = 10.0


@dataclass(frozen=True)
class ScannerStats:
    """Counters since start()."""

    frames_read: int = 0
    frames_decoded: int = 0
    frames_dropped: int = 0  # live frames replaced by a newer one before decoding
    codes_found: int = 0  # every code decoded, duplicates included
    codes_reported: int = 0  # on_code calls
    reconnects: int = 0  # opens after the first


@dataclass
class _Run:
    """One start()..stop() period; a thread only acts for its own run."""

    stop: threading.Event = field(default_factory=threading.Event)
    slot: FrameSlot = field(default_factory=FrameSlot)
    threads: list[threading.Thread] = field(default_factory=list)
    counters: dict[str, int] = field(
        default_factory=lambda: dict.fromkeys(
            ("frames_read", "frames_decoded", "codes_found", "codes_reported", "reconnects"), 0
        )
    )

    def count(self, name: str, n: int = 1) -> None:
        self.counters[name] += n


def _seconds(value: float) -> str:
    """0.5 -> '0,5' (Vietnamese decimal comma)."""
    return f"{value:g}".replace(".", ",")


class CameraScanner:
    """Reads codes from a camera, stream, video file or watched folder in the background.

    ``source`` is a source string (see drivers.camera.source_spec); an unrecognisable one
    raises ValueError here, while a source that merely cannot be opened yet is reported
    through on_state and retried.
    """

    def __init__(
        self,
        source: str,
        *,
        on_code: CodeCallback,
        on_state: StateCallback | None = None,
        name: str = "camera",
        symbologies: Sequence[str] = DEFAULT_SYMBOLOGIES,
        dedupe_seconds: float = DEFAULT_DEDUPE_SECONDS,
        fps_limit: float | None = DEFAULT_FPS_LIMIT,
        reconnect_delay: float = DEFAULT_RECONNECT_DELAY,
        reconnect_max_delay: float = DEFAULT_RECONNECT_MAX_DELAY,
        settings: CameraSettings | None = None,
        source_factory: SourceFactory = make_source,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if fps_limit is not None and fps_limit <= 0:
            raise ValueError("fps_limit must be positive or None")
        if reconnect_delay <= 0 or reconnect_max_delay < reconnect_delay:
            raise ValueError("need 0 < reconnect_delay <= reconnect_max_delay")
        self._spec = parse_source(source)
        self.name = name
        self._on_code = on_code
        self._on_state = on_state
        self._symbologies = resolve_symbologies(symbologies)
        self._deduper = CodeDeduper(dedupe_seconds, clock)
        self._fps_limit = fps_limit
        self._reconnect_delay = reconnect_delay
        self._reconnect_max_delay = reconnect_max_delay
        self._settings = settings or CameraSettings()
        self._factory = source_factory
        self._clock = clock
        self._lock = threading.Lock()  # guards _run, _state, _detail
        self._notify_lock = threading.RLock()  # keeps on_state calls in order
        self._run: _Run | None = None
        self._state = DeviceState.CLOSED
        self._detail = ""

    # ------------------------------------------------------------------ public

    @property
    def source(self) -> SourceSpec:
        return self._spec

    @property
    def symbologies(self) -> tuple[str, ...]:
        return self._symbologies

    @property
    def state(self) -> DeviceState:
        with self._lock:
            return self._state

    @property
    def detail(self) -> str:
        with self._lock:
            return self._detail

    @property
    def running(self) -> bool:
        with self._lock:
            return self._run is not None and not self._run.stop.is_set()

    def stats(self) -> ScannerStats:
        with self._lock:
            run = self._run
            counters = dict(run.counters) if run else {}
            dropped = run.slot.dropped if run else 0
        return ScannerStats(frames_dropped=dropped, **counters)

    def start(self) -> None:
        """Start the background threads (no-op when already running). Returns at once."""
        with self._lock:
            if self._run is not None and not self._run.stop.is_set():
                return
            run = _Run()
            self._run = run
        self._deduper.clear()
        tag = self._spec.display_name
        run.threads = [
            threading.Thread(target=self._read_loop, args=(run,), name=f"camera-read {tag}", daemon=True),
            threading.Thread(target=self._decode_loop, args=(run,), name=f"camera-decode {tag}", daemon=True),
        ]
        for thread in run.threads:
            thread.start()

    def stop(self, timeout: float | None = None) -> bool:
        """Stop reading and release the source; returns within timeout (default
        settings.stop_timeout). False when a thread was still stuck in a driver call (it
        ends on its own later). The state becomes closed either way."""
        with self._lock:
            run = self._run
            if run is None or run.stop.is_set():
                return True
            run.stop.set()
            run.slot.close()
        limit = self._settings.stop_timeout if timeout is None else timeout
        deadline = time.monotonic() + limit
        current = threading.current_thread()
        for thread in run.threads:
            if thread is not current:
                thread.join(max(0.0, deadline - time.monotonic()))
        stuck = [t.name for t in run.threads if t.is_alive() and t is not current]
        if stuck:
            log.warning("camera threads still busy after %.1f s: %s", limit, ", ".join(stuck))
        self._set_state(run, DeviceState.CLOSED, f"Đã tắt camera {self._spec.display_name}", final=True)
        return not stuck

    def __enter__(self) -> CameraScanner:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ----------------------------------------------------------------- threads

    def _set_state(self, run: _Run, state: DeviceState, detail: str, *, final: bool = False) -> None:
        acquired = self._notify_lock.acquire(timeout=self._settings.stop_timeout if final else -1)
        try:
            with self._lock:
                if run is not self._run or (run.stop.is_set() and not final):
                    return
                if (state, detail) == (self._state, self._detail):
                    return
                self._state, self._detail = state, detail
            log.log(log_level(state), "camera %s: %s - %s", self._spec.display_name, state.value, detail)
            if self._on_state is not None:
                try:
                    self._on_state(self.name, state, detail)
                except Exception:
                    log.exception("camera on_state callback failed")
        finally:
            if acquired:
                self._notify_lock.release()

    def _read_loop(self, run: _Run) -> None:
        name = self._spec.display_name
        backoff = Backoff(self._reconnect_delay, self._reconnect_max_delay)
        source: FrameSource | None = None
        opens = 0
        try:
            source = self._factory(self._spec, self._settings)
            while not run.stop.is_set():
                self._set_state(run, DeviceState.CONNECTING, f"Đang kết nối camera {name}…")
                try:
                    source.open()
                except Exception as exc:  # SourceError, or a driver surprise
                    if not isinstance(exc, SourceError):
                        log.exception("camera %s: unexpected error while opening", name)
                    self._set_state(
                        run,
                        DeviceState.ERROR,
                        f"Không mở được camera: {exc}; thử lại sau {_seconds(backoff.delay)} giây",
                    )
                    if backoff.wait(run.stop):
                        break
                    continue
                if opens:
                    run.count("reconnects")
                opens += 1
                self._set_state(run, DeviceState.READY, f"Camera {name} đã sẵn sàng")
                opened_at = self._clock()
                delivered = False
                reason = ""
                try:
                    while not run.stop.is_set():
                        frame = run_blocking(source.read, self._settings.read_wait)
                        if frame is None:
                            continue
                        delivered = True
                        run.count("frames_read")
                        if not run.slot.put(frame, live=source.live):
                            break
                except SourceLost as exc:
                    reason = str(exc)
                except Exception as exc:
                    log.exception("camera %s: unexpected error while reading", name)
                    reason = str(exc) or type(exc).__name__
                finally:
                    source.close()
                if run.stop.is_set():
                    break
                if delivered or self._clock() - opened_at >= self._reconnect_max_delay:
                    backoff.reset()
                self._set_state(
                    run,
                    DeviceState.LOST,
                    f"Mất kết nối camera: {reason}; thử lại sau {_seconds(backoff.delay)} giây",
                )
                if backoff.wait(run.stop):
                    break
        except Exception:
            log.exception("camera %s: reader thread failed", name)
            self._set_state(run, DeviceState.ERROR, f"Lỗi trình điều khiển camera {name}")
        finally:
            if source is not None:
                source.close()

    def _decode_loop(self, run: _Run) -> None:
        interval = 1.0 / self._fps_limit if self._fps_limit else 0.0
        next_at = 0.0
        pass_index = 0
        while not run.stop.is_set():
            wait = next_at - time.monotonic()
            if wait > 0 and run.stop.wait(wait):
                break
            item = run.slot.take(self._settings.read_wait)
            if item is None:
                continue
            frame, live = item
            next_at = time.monotonic() + interval
            if live and self._settings.cycle_passes:
                passes: tuple[str, ...] = (PASSES[pass_index % len(PASSES)],)
            else:
                passes = PASSES
            try:
                found = run_blocking(
                    decode_frame, frame, self._symbologies, max_side=self._settings.max_decode_side, passes=passes
                )
            except Exception:
                log.exception("camera: decoding a frame failed")
                continue
            run.count("frames_decoded")
            if not found:
                pass_index += 1  # stay on a pass that reads the code in view
                continue
            run.count("codes_found", len(found))
            for code in found:
                if run.stop.is_set():
                    return
                if not self._deduper.accept(code.text):
                    continue
                run.count("codes_reported")
                log.info("camera read %s %r", code.symbology, code.text)
                try:
                    self._on_code(code.text, code.symbology)
                except Exception:
                    log.exception("camera on_code callback failed")
