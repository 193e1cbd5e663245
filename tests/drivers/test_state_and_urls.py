"""What every driver shares: the device states and their callback, the reconnect delays, and
simulated twins chosen by the URL (``sim://`` for serial buses, ``virtual://`` printers)."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pytest

from drivers.camera import CameraScanner
from drivers.printer import TicketPrinter, get_profile
from drivers.reconnect import Backoff
from drivers.serialdev import KeypadBus, LedBoardBus, RatingBoxBus, SerialScanner, split_serial_url
from drivers.serialdev.sim import SimAsciiBoards, SimKeypads, SimModbusBoards, SimRatingBoxes, SimScanner
from drivers.state import DeviceState

from serial_timing import FAST, LOST_BOUND, wait_until


class States:
    """One recorder for every driver: on_state(name, state, detail)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.seen: list[tuple[str, DeviceState, str]] = []

    def __call__(self, name: str, state: DeviceState, detail: str) -> None:
        with self.lock:
            self.seen.append((name, state, detail))

    def last(self, name: str) -> DeviceState | None:
        with self.lock:
            return next((s for n, s, _ in reversed(self.seen) if n == name), None)


def test_device_state_is_a_plain_string_for_screens():
    assert DeviceState.READY == "ready" and str(DeviceState.LOST) == "lost"
    assert json.dumps({"state": DeviceState.ERROR}) == '{"state": "error"}'
    assert [s.value for s in DeviceState] == ["connecting", "ready", "busy", "error", "lost", "closed"]


def test_backoff_grows_to_its_maximum_and_resets():
    b = Backoff(0.5, 3.0)
    assert [b.next() for _ in range(5)] == [0.5, 1.0, 2.0, 3.0, 3.0]
    assert b.failures == 5 and b.delay == 3.0
    b.reset()
    assert (b.delay, b.failures, b.next()) == (0.5, 0, 0.5)


def test_backoff_jitter_stays_within_its_fraction():
    b = Backoff(1.0, 1.0, jitter=0.2, rng=iter([0.0, 1.0, 0.5]).__next__)
    assert [round(b.next(), 6) for _ in range(3)] == [0.8, 1.2, 1.0]
    with pytest.raises(ValueError):
        Backoff(0, 1)
    with pytest.raises(ValueError):
        Backoff(2, 1)


def test_backoff_wait_returns_at_once_when_stopped():
    stop = threading.Event()
    b = Backoff(0.02, 10.0)
    t0 = time.monotonic()
    assert b.wait(stop) is False and time.monotonic() - t0 >= 0.015
    stop.set()
    t0 = time.monotonic()
    assert b.wait(stop) is True and time.monotonic() - t0 < 0.5


def test_serial_url_carries_its_line_settings():
    assert split_serial_url("/dev/ttyUSB0?baudrate=19200&parity=e&stopbits=1.5") == (
        "/dev/ttyUSB0", {"baudrate": 19200, "parity": "E", "stopbits": 1.5})
    assert split_serial_url("socket://10.0.0.5:4001?logging=debug") == ("socket://10.0.0.5:4001?logging=debug", {})
    assert split_serial_url("sim://") == ("sim://", {})
    with pytest.raises(ValueError, match="không hỗ trợ"):
        split_serial_url("/dev/ttyUSB0?speed=9600")
    bus = KeypadBus("/dev/ttyUSB7?baudrate=19200&parity=E", [1])
    assert bus.url == "/dev/ttyUSB7" and (bus.settings.baudrate, bus.settings.parity) == (19200, "E")


def test_a_sim_keypad_bus_starts_its_own_twin():
    states = States()
    keys: list[tuple[int, str]] = []
    bus = KeypadBus("sim://", [1, 3], name="ban-phim", on_state=states,
                    on_key=lambda a, k: keys.append((a, k)), **FAST)
    assert bus.simulated and bus.simulator is None
    bus.start()
    try:
        sim = bus.simulator
        assert isinstance(sim, SimKeypads) and bus.url == sim.url and bus.url.startswith("socket://")
        assert wait_until(lambda: bus.state == DeviceState.READY)
        assert wait_until(lambda: states.last("ban-phim:keypad:3") == DeviceState.READY)
        sim.press(3, "call_next")
        assert wait_until(lambda: keys == [(3, "call_next")])
        bus.show(1, "1005", 2)
        assert wait_until(lambda: sim.display(1) == ("1005", 2))
        sim.unplug()
        assert wait_until(lambda: states.last("ban-phim") in (DeviceState.LOST, DeviceState.ERROR), LOST_BOUND)
        sim.replug()
        assert wait_until(lambda: states.last("ban-phim") == DeviceState.READY, LOST_BOUND)
    finally:
        bus.stop()
    assert states.last("ban-phim") == DeviceState.CLOSED
    assert not sim.link.plugged


@pytest.mark.parametrize("protocol,twin", [("modbus", SimModbusBoards), ("ascii", SimAsciiBoards)])
def test_a_sim_led_bus_gets_the_twin_of_its_protocol(protocol, twin):
    bus = LedBoardBus("sim://", protocol, units=[2], **FAST)
    bus.start()
    try:
        assert isinstance(bus.simulator, twin)
        bus.show(2, "1042")
        read = (lambda: bus.simulator.value(2)) if protocol == "modbus" else (lambda: bus.simulator.text(2))
        assert wait_until(lambda: str(read()) == "1042")
    finally:
        bus.stop()


def test_sim_rating_boxes_and_scanner():
    boxes = RatingBoxBus("sim://", [4], **FAST)
    codes: list[str] = []
    scanner = SerialScanner("sim://", on_code=codes.append, **FAST)
    boxes.start()
    scanner.start()
    try:
        assert isinstance(boxes.simulator, SimRatingBoxes) and isinstance(scanner.simulator, SimScanner)
        boxes.prompt(4, True)
        assert wait_until(lambda: boxes.simulator.is_open(4))
        assert wait_until(lambda: scanner.state == DeviceState.READY)
        assert wait_until(lambda: scanner.simulator.scan("000.17.22.H56-210531-0001"))
        assert wait_until(lambda: codes == ["000.17.22.H56-210531-0001"])
    finally:
        boxes.stop()
        scanner.stop()


def test_printer_and_camera_report_through_the_same_callback(tmp_path: Path):
    states = States()
    printer = TicketPrinter(f"virtual://?dir={tmp_path / 'p'}", get_profile("80mm"), name="may-in",
                            status_interval=0.05, on_state=states)
    printer.start()
    try:
        assert wait_until(lambda: states.last("may-in") == DeviceState.READY)
        printer.virtual_printer.set_fault("cover_open")
        assert wait_until(lambda: states.last("may-in") == DeviceState.ERROR, 3)
        st = printer.status()
        assert st.printer.fault == "cover_open" and st.device_state == DeviceState.ERROR and st.queued == 0
        assert states.seen[-1][2] == "Máy in đang mở nắp"
    finally:
        printer.stop()
    assert states.last("may-in") == DeviceState.CLOSED

    (tmp_path / "cam").mkdir()
    cam = CameraScanner(f"folder://{tmp_path / 'cam'}", name="camera-kiosk", on_code=lambda c, s: None,
                        on_state=states)
    cam.start()
    try:
        assert wait_until(lambda: states.last("camera-kiosk") == DeviceState.READY)
    finally:
        cam.stop()
    assert states.last("camera-kiosk") == DeviceState.CLOSED
