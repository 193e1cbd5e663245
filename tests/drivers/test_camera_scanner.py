"""CameraScanner end to end: the watched folder, dedupe, states, reconnects, stop()."""

from __future__ import annotations

import shutil
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from drivers.camera import CameraScanner, CameraSettings, SourceLost
from drivers.state import DeviceState
from drivers.camera.dedupe import CodeDeduper
from drivers.camera.frame_slot import FrameSlot

try:  # tests/conftest.py puts tests/ on sys.path
    import barcode_images as bi
except ImportError:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    import barcode_images as bi

FAST = CameraSettings(poll_interval=0.02, settle_time=0.05, read_wait=0.05, stop_timeout=2.0)
CODE_1 = "000.17.22.H56-210531-0001"
CODE_2 = "000.17.22.H56-210531-0002"
CODE_3 = "000.302.36.H05-250702-0123"


class Recorder:
    """Collects on_code and on_state calls; wait() polls with a deadline."""

    def __init__(self, fail_first_code: bool = False) -> None:
        self.codes: list[tuple[str, str]] = []
        self.states: list[tuple[DeviceState, str]] = []
        self._lock = threading.Lock()
        self._fail = fail_first_code

    def on_code(self, code: str, symbology: str) -> None:
        with self._lock:
            self.codes.append((code, symbology))
            if self._fail:
                self._fail = False
                raise RuntimeError("the kiosk screen was busy")

    def on_state(self, name: str, state: DeviceState, detail: str) -> None:
        with self._lock:
            self.states.append((state, detail))

    def state_names(self) -> list[str]:
        with self._lock:
            return [s.value for s, _ in self.states]

    def code_texts(self) -> list[str]:
        with self._lock:
            return [c for c, _ in self.codes]

    @staticmethod
    def wait(predicate: Callable[[], bool], timeout: float = 10.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():
                return True
            time.sleep(0.01)
        return predicate()


def drop(folder: Path, name: str, image) -> Path:
    """Write an image the way a careful dropper does: to a hidden name, then rename."""
    tmp = bi.save_image(image, folder / f".{name}")  # hidden names are not read
    final = folder / name
    tmp.rename(final)
    return final


@pytest.fixture
def folder(tmp_path) -> Path:
    path = tmp_path / "camera"
    path.mkdir()
    return path


def make_scanner(folder: Path, rec: Recorder, **kwargs) -> CameraScanner:
    kwargs.setdefault("settings", FAST)
    kwargs.setdefault("fps_limit", None)
    return CameraScanner(f"folder://{folder}", on_code=rec.on_code, on_state=rec.on_state, **kwargs)


def test_a_dropped_receipt_image_fires_on_code_once(folder):
    rec = Recorder()
    scanner = make_scanner(folder, rec)
    scanner.start()
    try:
        assert rec.wait(lambda: scanner.state == DeviceState.READY)
        drop(folder, "receipt.png", bi.code128_frame(CODE_1))
        assert rec.wait(lambda: rec.codes)
        assert rec.codes == [(CODE_1, "code128")]
        assert (folder / "done" / "receipt.png").is_file()
        # A later image with another code is read, and the first file is not read again.
        drop(folder, "lookup.jpg", bi.qr_frame(bi.LOOKUP_URL))
        assert rec.wait(lambda: len(rec.codes) >= 2)
        assert rec.codes == [(CODE_1, "code128"), (bi.LOOKUP_URL, "qrcode")]
        stats = scanner.stats()
        assert (stats.frames_read, stats.codes_reported) == (2, 2)
    finally:
        assert scanner.stop() is True
    assert rec.state_names() == ["connecting", "ready", "closed"]
    assert scanner.state == DeviceState.CLOSED
    assert rec.states[1][1] == f"Camera {folder} đã sẵn sàng"


def test_the_same_code_within_the_dedupe_window_is_ignored(folder):
    rec = Recorder()
    scanner = make_scanner(folder, rec, dedupe_seconds=60.0)
    with scanner:
        drop(folder, "1.png", bi.code128_frame(CODE_1))
        drop(folder, "2.jpg", bi.code128_frame(CODE_1))  # same code, another photo
        drop(folder, "3.png", bi.code128_frame(CODE_2))
        assert rec.wait(lambda: CODE_2 in rec.code_texts())
        assert rec.wait(lambda: scanner.stats().frames_decoded == 3)
    assert rec.code_texts() == [CODE_1, CODE_2]
    assert scanner.stats().codes_found == 3


def test_without_dedupe_every_sighting_is_reported(folder):
    rec = Recorder()
    with make_scanner(folder, rec, dedupe_seconds=0.0):
        for i in range(3):
            drop(folder, f"{i}.png", bi.code128_frame(CODE_1))
        assert rec.wait(lambda: len(rec.codes) == 3)


def test_colour_jpeg_and_vietnamese_qr_through_the_folder(folder):
    rec = Recorder()
    text = f"Mã hồ sơ {CODE_3} - Đất đai"
    qr = bi.qr_image(text, module_px=4, ink=(20, 20, 160), paper=(255, 250, 205))
    frame = bi.degrade(bi.receipt_frame(qr, (1280, 720)), bi.Degradation(noise_sigma=8, jpeg_quality=70))
    with make_scanner(folder, rec, symbologies=["QR"]):
        drop(folder, "colour.jpg", frame)
        assert rec.wait(lambda: rec.codes)
    assert rec.codes == [(text, "qrcode")]


def test_a_failing_callback_does_not_stop_the_scanner(folder):
    rec = Recorder(fail_first_code=True)
    with make_scanner(folder, rec):
        drop(folder, "1.png", bi.code128_frame(CODE_1))
        assert rec.wait(lambda: len(rec.codes) == 1)
        drop(folder, "2.png", bi.code128_frame(CODE_2))
        assert rec.wait(lambda: len(rec.codes) == 2)
    assert rec.code_texts() == [CODE_1, CODE_2]


def test_a_missing_device_reports_error_and_stop_does_not_hang():
    rec = Recorder()
    scanner = CameraScanner(
        "/dev/video99",
        on_code=rec.on_code,
        on_state=rec.on_state,
        reconnect_delay=0.05,
        reconnect_max_delay=0.1,
        settings=FAST,
    )
    scanner.start()
    assert rec.wait(lambda: rec.state_names().count("error") >= 3)  # retried with backoff
    assert scanner.stop() is True
    names = rec.state_names()
    assert names[:2] == ["connecting", "error"] and names[-1] == "closed"
    assert "ready" not in names
    error_detail = next(d for s, d in rec.states if s == DeviceState.ERROR)
    assert "không tìm thấy camera /dev/video99" in error_detail and "thử lại sau" in error_detail
    assert rec.codes == []


def test_an_unplugged_folder_camera_is_lost_then_reconnected(folder):
    rec = Recorder()
    scanner = make_scanner(folder, rec, reconnect_delay=0.05, reconnect_max_delay=0.2)
    with scanner:
        assert rec.wait(lambda: scanner.state == DeviceState.READY)
        shutil.rmtree(folder)
        assert rec.wait(lambda: "lost" in rec.state_names())
        assert rec.wait(lambda: rec.state_names()[-1] == "ready" and folder.is_dir())
        drop(folder, "after.png", bi.code128_frame(CODE_2))
        assert rec.wait(lambda: rec.codes)
        assert scanner.stats().reconnects >= 1
    names = rec.state_names()
    lost = names.index("lost")
    assert names[: lost + 1] == ["connecting", "ready", "lost"]
    assert names[lost + 1 : lost + 3] == ["connecting", "ready"]
    assert rec.codes == [(CODE_2, "code128")]
    lost_detail = next(d for s, d in rec.states if s == DeviceState.LOST)
    assert lost_detail.startswith("Mất kết nối camera")


def test_unknown_source_strings_and_symbologies_are_refused_at_once():
    with pytest.raises(ValueError):
        CameraScanner("photo.gif", on_code=lambda c, s: None)
    with pytest.raises(ValueError):
        CameraScanner("0", on_code=lambda c, s: None, symbologies=["aztec"])
    with pytest.raises(ValueError):
        CameraScanner("0", on_code=lambda c, s: None, fps_limit=0)


class ScriptedSource:
    """A stand-in device: gives the frames it is told to, can hang or drop out."""

    def __init__(self, frames: list[np.ndarray], *, hang: threading.Event | None = None) -> None:
        self.frames = list(frames)
        self.hang = hang
        self.opened = 0
        self.closed = 0

    name = "scripted"
    live = True

    def open(self) -> None:
        self.opened += 1

    def read(self, timeout: float):
        if self.hang is not None:
            self.hang.wait()  # a driver call that does not return
            raise SourceLost("unplugged while reading")
        if self.frames:
            return self.frames.pop(0)
        if self.opened == 1:
            raise SourceLost("cáp USB bị rút")
        time.sleep(min(timeout, 0.01))
        return None

    def close(self) -> None:
        self.closed += 1


def test_a_live_device_that_drops_out_is_reopened():
    qr = bi.to_bgr(bi.qr_frame(bi.LOOKUP_URL, (640, 480)))
    source = ScriptedSource([qr, qr])
    rec = Recorder()
    scanner = CameraScanner(
        "0",
        on_code=rec.on_code,
        on_state=rec.on_state,
        reconnect_delay=0.05,
        settings=FAST,
        source_factory=lambda spec, settings: source,
        fps_limit=None,
    )
    with scanner:
        assert rec.wait(lambda: source.opened == 2 and scanner.state == DeviceState.READY)
        assert rec.wait(lambda: scanner.stats().frames_decoded >= 1)
    assert rec.wait(lambda: source.closed >= 2)
    names = rec.state_names()
    assert names[:5] == ["connecting", "ready", "lost", "connecting", "ready"]
    assert "cáp USB bị rút" in rec.states[2][1]


def test_stop_returns_even_when_a_driver_call_hangs():
    release = threading.Event()
    source = ScriptedSource([], hang=release)
    rec = Recorder()
    scanner = CameraScanner(
        "rtsp://127.0.0.1/cam",
        on_code=rec.on_code,
        on_state=rec.on_state,
        settings=FAST,
        source_factory=lambda spec, settings: source,
    )
    scanner.start()
    assert rec.wait(lambda: scanner.state == DeviceState.READY)
    assert scanner.stop(timeout=0.2) is False  # the reader is stuck in read()
    assert scanner.state == DeviceState.CLOSED
    release.set()  # the driver call returns at last
    assert rec.wait(lambda: source.closed >= 1)
    assert rec.state_names() == ["connecting", "ready", "closed"]  # no late "lost"


def test_start_is_idempotent_and_a_scanner_can_be_restarted(folder):
    rec = Recorder()
    scanner = make_scanner(folder, rec)
    scanner.start()
    scanner.start()
    assert rec.wait(lambda: scanner.state == DeviceState.READY)
    assert scanner.stop() and scanner.stop()
    scanner.start()
    drop(folder, "again.png", bi.code128_frame(CODE_3))
    assert rec.wait(lambda: rec.codes)
    assert scanner.stop()
    assert rec.state_names() == ["connecting", "ready", "closed", "connecting", "ready", "closed"]
    assert rec.codes == [(CODE_3, "code128")]


# Building blocks ----------------------------------------------------------------------------
def test_dedupe_window_restarts_at_every_sighting():
    now = [100.0]
    d = CodeDeduper(3.0, clock=lambda: now[0])
    assert d.accept("A")
    now[0] += 2.0
    assert not d.accept("A")  # still in front of the camera
    now[0] += 2.0
    assert not d.accept("A")  # 4 s after the first read, but seen 2 s ago
    assert d.accept("B")
    now[0] += 3.0
    assert d.accept("A")  # away for 3 s
    assert CodeDeduper(0.0, clock=lambda: now[0]).accept("A")
    with pytest.raises(ValueError):
        CodeDeduper(-1.0)


def test_frame_slot_keeps_the_newest_live_frame_and_every_file_frame():
    slot = FrameSlot()
    a, b = np.zeros((1, 1), np.uint8), np.ones((1, 1), np.uint8)
    slot.put(a, live=True)
    slot.put(b, live=True)
    frame, live = slot.take(0.1)
    assert frame is b and live and slot.dropped == 1
    assert slot.take(0.01) is None

    slot.put(a, live=False)
    done = threading.Event()

    def second() -> None:
        slot.put(b, live=False)  # waits for the decoder to take the first
        done.set()

    worker = threading.Thread(target=second)
    worker.start()
    assert not done.wait(0.05)
    assert slot.take(1.0)[0] is a
    assert slot.take(1.0)[0] is b
    worker.join(1.0)
    slot.close()
    assert slot.put(a, live=False) is False
