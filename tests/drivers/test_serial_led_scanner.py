"""LED counter boards (Modbus-RTU and ASCII) and serial scanners against their simulated twins."""

from __future__ import annotations

import logging
import threading
import time
from typing import Iterator

import pytest

from drivers.serialdev import LedBoardBus, SerialScanner
from drivers.state import CLOSED, LOST, READY
from drivers.serialdev.modbus_rtu import with_crc
from drivers.serialdev.sim import SimAsciiBoards, SimModbusBoards, SimScanner

from serial_timing import FAST, LOST_BOUND, wait_until


class States:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.seen: list[tuple[str, str, str]] = []

    def __call__(self, name: str, state: str, detail: str) -> None:
        with self.lock:
            self.seen.append((name, state, detail))

    def last(self, name: str) -> str | None:
        with self.lock:
            return next((s for n, s, _ in reversed(self.seen) if n == name), None)


# ---------------------------------------------------------------- Modbus boards


@pytest.fixture
def boards() -> Iterator[SimModbusBoards]:
    sim = SimModbusBoards([1, 2, 3])
    sim.start()
    yield sim
    sim.stop()


@pytest.fixture
def led(boards: SimModbusBoards) -> Iterator[LedBoardBus]:
    states = States()
    bus = LedBoardBus(boards.url, "modbus", on_state=states, **FAST)
    bus.start()
    yield bus
    bus.stop()


def test_showing_15_on_unit_1_sends_exactly_the_documented_frame(boards: SimModbusBoards,
                                                                 led: LedBoardBus) -> None:
    led.show(1, "15")
    assert wait_until(lambda: boards.value(1) == 15)
    assert boards.received[0] == bytes.fromhex("01 06 00 00 00 0F C9 CE")
    assert boards.crc_errors == 0


def test_other_units_get_their_own_frames_and_only_their_board_changes(
        boards: SimModbusBoards, led: LedBoardBus) -> None:
    led.show(2, "15")
    led.show(3, "1005")
    assert wait_until(lambda: boards.value(2) == 15 and boards.value(3) == 1005)
    assert bytes.fromhex("02 06 00 00 00 0F C9 FD") in boards.received
    assert bytes.fromhex("03 06 00 00 03 ED 48 95") in boards.received
    assert boards.value(1) == 0


def test_a_number_with_letters_shows_its_digits_on_a_digit_board(boards: SimModbusBoards,
                                                                 led: LedBoardBus) -> None:
    led.show(1, "A012")
    assert wait_until(lambda: boards.value(1) == 12)
    assert led.wanted(1) == 12


def test_board_that_lost_power_gets_its_number_again(boards: SimModbusBoards,
                                                     led: LedBoardBus) -> None:
    led.show(2, "77")
    assert wait_until(lambda: boards.value(2) == 77)
    boards.power_cycle(2)
    assert boards.value(2) == 0
    assert wait_until(lambda: boards.value(2) == 77)  # the read-back poll noticed


def test_unplugged_board_is_lost_and_gets_the_queued_number_when_back(
        boards: SimModbusBoards) -> None:
    states = States()
    bus = LedBoardBus(boards.url, "modbus", units=[1], on_state=states, **FAST)
    bus.start()
    try:
        assert wait_until(lambda: states.last("led:board:1") == READY)
        boards.unplug(keep_link=True)
        assert wait_until(lambda: states.last("led:board:1") == LOST, LOST_BOUND)
        assert wait_until(lambda: bus.state == LOST)
        bus.show(1, "42")
        time.sleep(0.2)
        assert boards.value(1) == 0
        boards.replug()
        assert wait_until(lambda: boards.value(1) == 42)
        assert wait_until(lambda: bus.state == READY and states.last("led:board:1") == READY)
    finally:
        bus.stop()
    assert states.last("led") == CLOSED


def test_exception_answer_is_logged_and_not_retried_forever(
        boards: SimModbusBoards, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.ERROR, logger="drivers.serialdev")
    bus = LedBoardBus(boards.url, "modbus", register=40, **FAST)  # the board has 8 registers
    bus.start()
    try:
        bus.show(1, "5")
        assert wait_until(lambda: any("exception 2" in r.getMessage() for r in caplog.records))
        time.sleep(0.2)
        writes = [f for f in boards.received if f[1] == 6]
        assert len(writes) == 1
    finally:
        bus.stop()


def test_noise_and_bad_crc_from_the_line_never_stop_the_driver(
        boards: SimModbusBoards, led: LedBoardBus, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="drivers.serialdev")
    led.show(1, "1")
    assert wait_until(lambda: boards.value(1) == 1)
    bad = bytearray(with_crc(bytes([1, 3, 2, 0, 99])))
    bad[-2] ^= 0x55
    for _ in range(5):
        boards.inject(b"\xff\x00\x13" + bytes(bad))
    led.show(1, "2")
    assert wait_until(lambda: boards.value(1) == 2)
    assert led.state == READY
    assert any("ignored" in r.getMessage() or "dropped" in r.getMessage()
               for r in caplog.records)


def test_bad_crc_towards_the_board_is_ignored_by_the_simulated_slave(
        boards: SimModbusBoards) -> None:
    import socket

    host, port = "127.0.0.1", int(boards.url.rsplit(":", 1)[1])
    with socket.create_connection((host, port), timeout=2) as conn:
        conn.sendall(bytes.fromhex("01 06 00 00 00 0F C9 CF"))  # CRC off by one
        conn.settimeout(0.3)
        with pytest.raises(socket.timeout):
            conn.recv(16)  # a real slave stays quiet
        conn.sendall(bytes.fromhex("01 06 00 00 00 0F C9 CE"))
        conn.settimeout(2)
        assert conn.recv(16) == bytes.fromhex("01 06 00 00 00 0F C9 CE")  # echo = done
    assert boards.value(1) == 15
    assert boards.crc_errors >= 1


def test_modbus_boards_over_a_tty_that_disappears(tmp_path) -> None:
    path = str(tmp_path / "ttyUSB1")
    sim = SimModbusBoards([1], transport="pty", link_path=path)
    sim.start()
    bus = LedBoardBus(path, "modbus", **FAST)
    bus.start()
    try:
        bus.show(1, "15")
        assert wait_until(lambda: sim.value(1) == 15)
        assert sim.received[0] == bytes.fromhex("01 06 00 00 00 0F C9 CE")
        sim.unplug()
        assert wait_until(lambda: bus.state == LOST, LOST_BOUND)
        bus.show(1, "16")
        sim.replug()
        assert wait_until(lambda: sim.value(1) == 16)
        assert wait_until(lambda: bus.state == READY)
    finally:
        bus.stop()
        sim.stop()


# ---------------------------------------------------------------- ASCII boards


def test_ascii_board_shows_letters_and_folds_vietnamese() -> None:
    sim = SimAsciiBoards([3, 4])
    sim.start()
    bus = LedBoardBus(sim.url, "ascii", **FAST)
    bus.start()
    try:
        bus.show(3, "A012")
        bus.show(4, "Quầy 2")
        assert wait_until(lambda: sim.text(3) == "A012" and sim.text(4) == "Quay 2")
        assert b"#03:A012" in sim.lines
        sim.power_cycle(3)
        assert wait_until(lambda: sim.text(3) == "A012")  # "#03?" showed it blank
        with pytest.raises(ValueError):
            bus.show(100, "1")
    finally:
        bus.stop()
        sim.stop()


# ---------------------------------------------------------------- scanner


def test_scanner_delivers_each_code_whatever_the_line_ending() -> None:
    sim = SimScanner()
    sim.start()
    codes: list[str] = []
    states = States()
    scanner = SerialScanner(sim.url, on_code=codes.append, on_state=states, baudrate=115200,
                            **FAST)
    scanner.start()
    try:
        assert wait_until(lambda: scanner.state == READY and sim.link.connected)
        sim.scan("HS-2024-000123")
        sim.scan("8934567890123", b"\r")
        sim.scan("Hồ sơ 7", b"\n")
        assert wait_until(lambda: len(codes) == 3)
        assert codes == ["HS-2024-000123", "8934567890123", "Hồ sơ 7"]
        assert scanner.settings.baudrate == 115200
    finally:
        scanner.stop()
        sim.stop()


def test_scanner_noise_is_dropped_and_the_next_code_still_arrives(
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="drivers.serialdev")
    sim = SimScanner()
    sim.start()
    codes: list[str] = []
    scanner = SerialScanner(sim.url, on_code=codes.append, max_code_length=64, **FAST)
    scanner.start()
    try:
        # bytes sent while the port is still being opened are lost, as on a real line
        assert wait_until(lambda: scanner.state == READY and sim.link.connected)
        sim.inject(b"\xff\xfe\xfd\r\n" + b"Z" * 200 + b"\r\n\x00\x00\r\n")
        sim.scan("ABC-1")
        assert wait_until(lambda: codes == ["ABC-1"])
        assert any("ignored" in r.getMessage() for r in caplog.records)
    finally:
        scanner.stop()
        sim.stop()


def test_scanner_without_suffix_can_end_codes_on_a_quiet_gap() -> None:
    sim = SimScanner(terminator=b"")
    sim.start()
    codes: list[str] = []
    scanner = SerialScanner(sim.url, on_code=codes.append, gap_ends_code=True, code_gap=0.1,
                            **FAST)
    scanner.start()
    try:
        # bytes sent while the port is still being opened are lost, as on a real line
        assert wait_until(lambda: scanner.state == READY and sim.link.connected)
        sim.scan("NOSUFFIX1")
        assert wait_until(lambda: codes == ["NOSUFFIX1"])
    finally:
        scanner.stop()
        sim.stop()


def test_scanner_unplugged_is_lost_and_works_again_when_back(tmp_path) -> None:
    path = str(tmp_path / "ttyACM0")
    sim = SimScanner(transport="pty", link_path=path)
    sim.start()
    codes: list[str] = []
    states = States()
    scanner = SerialScanner(path, on_code=codes.append, on_state=states, **FAST)
    scanner.start()
    try:
        assert wait_until(lambda: scanner.state == READY)
        sim.unplug()
        assert wait_until(lambda: states.last("scanner") == LOST, LOST_BOUND)
        sim.replug()
        assert wait_until(lambda: scanner.state == READY)
        sim.scan("AFTER-REPLUG")
        assert wait_until(lambda: codes == ["AFTER-REPLUG"])
    finally:
        scanner.stop()
        sim.stop()
