"""Keypads and rating boxes: the real bus driver against the simulated devices, real bytes."""

from __future__ import annotations

import logging
import threading
import time
from typing import Iterator

import pytest

from drivers.serialdev import CounterBus, KeypadBus, RatingBoxBus
from drivers.state import CLOSED, CONNECTING, LOST, READY
from drivers.serialdev.framing import encode_frame
from drivers.serialdev.sim import SimCounterBus, SimKeypads, SimRatingBoxes

from serial_timing import FAST, LOST_BOUND, wait_until


class Recorder:
    """Collects listener calls from the driver's events thread."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.keys: list[tuple[int, str]] = []
        self.ratings: list[tuple[int, str]] = []
        self.states: list[tuple[str, str, str]] = []

    def on_key(self, address: int, key: str) -> None:
        with self.lock:
            self.keys.append((address, key))

    def on_rating(self, address: int, level: str) -> None:
        with self.lock:
            self.ratings.append((address, level))

    def on_state(self, name: str, state: str, detail: str) -> None:
        with self.lock:
            self.states.append((name, state, detail))

    def last_state(self, name: str) -> str | None:
        with self.lock:
            for n, state, _ in reversed(self.states):
                if n == name:
                    return state
        return None

    def saw(self, name: str, state: str) -> bool:
        with self.lock:
            return any(n == name and s == state for n, s, _ in self.states)


@pytest.fixture
def rec() -> Recorder:
    return Recorder()


@pytest.fixture
def keypads() -> Iterator[SimKeypads]:
    sim = SimKeypads([1, 2, 5])
    sim.start()
    yield sim
    sim.stop()


@pytest.fixture
def bus(keypads: SimKeypads, rec: Recorder) -> Iterator[KeypadBus]:
    driver = KeypadBus(keypads.url, [1, 2, 5], on_key=rec.on_key, on_state=rec.on_state, **FAST)
    driver.start()
    assert wait_until(lambda: driver.state == READY)
    yield driver
    driver.stop()


def test_key_press_reaches_on_key_with_the_right_address(keypads: SimKeypads,
                                                         bus: KeypadBus, rec: Recorder) -> None:
    keypads.press(5, "call_next")
    keypads.press(2, "recall")
    keypads.press(5, "finish")
    assert wait_until(lambda: len(rec.keys) == 3)
    assert sorted(rec.keys) == [(2, "recall"), (5, "call_next"), (5, "finish")]
    assert [k for a, k in rec.keys if a == 5] == ["call_next", "finish"]  # in order per keypad
    # every event was acknowledged, so the keypads forgot them
    assert keypads.pending_events(5) == 0 and keypads.pending_events(2) == 0


def test_every_key_of_the_keypad_is_understood(keypads: SimKeypads, bus: KeypadBus,
                                               rec: Recorder) -> None:
    for key in ("call_next", "recall", "no_show", "finish", "transfer", "pause"):
        keypads.press(1, key)
    assert wait_until(lambda: len(rec.keys) == 6)
    assert [k for _, k in rec.keys] == ["call_next", "recall", "no_show", "finish", "transfer",
                                        "pause"]


def test_show_puts_number_and_waiting_count_on_the_keypad(keypads: SimKeypads,
                                                         bus: KeypadBus) -> None:
    bus.show(2, "1005", 12)
    bus.show(5, "a012", 0)
    assert wait_until(lambda: keypads.display(2) == ("1005", 12))
    assert wait_until(lambda: keypads.display(5) == ("A012", 0))
    assert keypads.display(1) is None  # nobody told keypad 1 anything


def test_show_returns_at_once_and_the_newest_number_wins(keypads: SimKeypads,
                                                         rec: Recorder) -> None:
    driver = KeypadBus(keypads.url, [1], on_state=rec.on_state, **FAST)
    # not started: nothing can be sent, yet show() must not wait
    for n in range(1, 51):
        driver.show(1, str(n), n)
    driver.start()
    try:
        assert wait_until(lambda: keypads.display(1) == ("50", 50))
        assert keypads.display_history(1) == [("50", 50)]
    finally:
        driver.stop()


def test_unknown_keypad_or_unshowable_number_is_refused_at_once(bus: KeypadBus) -> None:
    with pytest.raises(ValueError):
        bus.show(9, "1", 1)
    with pytest.raises(ValueError):
        bus.show(1, "1234567", 1)


def test_unplug_reports_lost_and_replug_delivers_the_queued_show(keypads: SimKeypads,
                                                                 bus: KeypadBus,
                                                                 rec: Recorder) -> None:
    keypads.unplug()
    assert wait_until(lambda: bus.state == LOST, LOST_BOUND)
    assert wait_until(lambda: rec.last_state("keypads:keypad:2") == LOST)
    detail = bus.states()["keypads"].detail
    assert "Mất kết nối" in detail
    bus.show(2, "2001", 4)  # queued while the keypad is away
    time.sleep(0.2)
    assert keypads.display(2) is None
    keypads.replug()
    assert wait_until(lambda: keypads.display(2) == ("2001", 4))
    assert wait_until(lambda: bus.state == READY)
    # The states reach the listener on the driver's own event thread: wait for it too.
    assert wait_until(lambda: rec.last_state("keypads:keypad:2") == READY)
    # and keys work again
    keypads.press(2, "no_show")
    assert wait_until(lambda: (2, "no_show") in rec.keys)


def test_silent_bus_is_declared_lost_after_the_configured_polls(keypads: SimKeypads,
                                                                bus: KeypadBus,
                                                                rec: Recorder) -> None:
    keypads.unplug(keep_link=True)  # the port stays open, nobody answers (cut A/B pair)
    assert wait_until(lambda: rec.last_state("keypads:keypad:1") == LOST, LOST_BOUND)
    assert wait_until(lambda: bus.state == LOST, LOST_BOUND)
    detail = bus.states()["keypads:keypad:1"].detail
    assert "không trả lời sau 2 lần hỏi" in detail
    keypads.replug()
    assert wait_until(lambda: bus.state == READY)
    assert wait_until(lambda: rec.last_state("keypads:keypad:1") == READY)


def test_a_port_where_nobody_answers_is_reopened(keypads: SimKeypads, rec: Recorder,
                                                 caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="drivers.serialdev")
    driver = KeypadBus(keypads.url, [1], on_key=rec.on_key, on_state=rec.on_state,
                       **{**FAST, "reopen_when_silent": 0.3})
    driver.start()
    try:
        assert wait_until(lambda: driver.state == READY)
        keypads.unplug(keep_link=True)
        assert wait_until(lambda: driver.stats().get("reconnects", 0) >= 1)
        assert any("mở lại cổng" in r.getMessage() for r in caplog.records)
        keypads.replug()
        assert wait_until(lambda: driver.state == READY)
        keypads.press(1, "pause")
        assert wait_until(lambda: rec.keys == [(1, "pause")])
    finally:
        driver.stop()


def test_one_missing_keypad_is_lost_while_the_others_keep_working(keypads: SimKeypads,
                                                                  bus: KeypadBus,
                                                                  rec: Recorder) -> None:
    keypads.set_present(5, False)
    assert wait_until(lambda: rec.last_state("keypads:keypad:5") == LOST, LOST_BOUND)
    assert bus.state == READY
    bus.show(5, "3001", 1)
    keypads.press(1, "call_next")
    assert wait_until(lambda: (1, "call_next") in rec.keys)
    keypads.set_present(5, True)
    assert wait_until(lambda: keypads.display(5) == ("3001", 1))
    assert rec.last_state("keypads:keypad:5") == READY


def test_keypad_that_restarts_gets_its_display_back(keypads: SimKeypads, bus: KeypadBus) -> None:
    bus.show(1, "1010", 7)
    assert wait_until(lambda: keypads.display(1) == ("1010", 7))
    keypads.power_cycle(1)  # blank display, tells the host on the next poll
    assert keypads.display(1) is None
    assert wait_until(lambda: keypads.display(1) == ("1010", 7))


def test_corrupt_answers_are_ignored_and_a_key_arrives_exactly_once(
        keypads: SimKeypads, bus: KeypadBus, rec: Recorder,
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="drivers.serialdev")
    keypads.mangle_replies(1, only="K")  # the key event's answer gets a bad checksum
    keypads.ignore_frames("A", 1)  # and the first acknowledgement is lost on the way
    keypads.press(2, "finish")
    assert wait_until(lambda: keypads.pending_events(2) == 0)
    time.sleep(0.2)
    assert rec.keys == [(2, "finish")]
    assert any("tổng kiểm tra" in r.getMessage() for r in caplog.records)
    assert bus.stats()["rejected"] >= 1


def test_event_sent_again_after_a_lost_acknowledgement_is_passed_on_once(
        keypads: SimKeypads, bus: KeypadBus, rec: Recorder) -> None:
    keypads.ignore_frames("A", 2)  # both tries of the acknowledgement are lost
    keypads.press(1, "call_next")
    assert wait_until(lambda: keypads.pending_events(1) == 0)
    keypads.press(1, "call_next")  # a real second press is a new event
    assert wait_until(lambda: keypads.pending_events(1) == 0 and len(rec.keys) == 2)
    time.sleep(0.2)
    assert rec.keys == [(1, "call_next"), (1, "call_next")]


def test_noise_on_the_line_is_logged_and_never_stops_the_reader(
        keypads: SimKeypads, bus: KeypadBus, rec: Recorder,
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="drivers.serialdev")
    noise = (b"\x00\xff\x13garbage" + b"\x02" * 3 + b"\x0201Q\x03ZZ"
             + encode_frame(1, "K", "01N")[:-1] + b"0")  # a key event with a bad checksum
    for _ in range(5):
        keypads.inject(noise)
    keypads.press(1, "recall")
    assert wait_until(lambda: (1, "recall") in rec.keys)
    assert rec.keys == [(1, "recall")]  # nothing from the noise
    assert any("ignored" in r.getMessage() for r in caplog.records)
    assert bus.state == READY


def test_a_second_poll_of_the_same_kind_is_dropped(rec: Recorder) -> None:
    driver = KeypadBus("socket://127.0.0.1:9", [1], on_state=rec.on_state, **FAST)
    assert driver.poll_now(1) is True
    assert driver.poll_now(1) is False
    assert driver.stats()["polls_dropped"] == 1
    driver.stop()
    assert driver.state == CLOSED


def test_port_that_cannot_be_opened_reports_error_and_keeps_trying(rec: Recorder,
                                                                   tmp_path) -> None:
    path = str(tmp_path / "ttyUSB9")
    sim = SimKeypads([1], transport="pty", link_path=path)
    driver = KeypadBus(path, [1], on_key=rec.on_key, on_state=rec.on_state, **FAST)
    driver.start()
    try:
        assert wait_until(lambda: driver.state == "error")
        assert "Không mở được cổng" in driver.states()["keypads"].detail
        assert driver.states()["keypads:keypad:1"].state == "error"
        sim.start()  # the adapter is plugged in
        assert wait_until(lambda: driver.state == READY)
        sim.press(1, "call_next")
        assert wait_until(lambda: rec.keys == [(1, "call_next")])
    finally:
        driver.stop()
        sim.stop()


def test_a_second_process_cannot_share_the_same_tty(rec: Recorder, tmp_path) -> None:
    path = str(tmp_path / "ttyUSB3")
    sim = SimKeypads([1], transport="pty", link_path=path)
    sim.start()
    first = KeypadBus(path, [1], **FAST)
    second = KeypadBus(path, [1], name="keypads2", on_state=rec.on_state, **FAST)
    first.start()
    try:
        assert wait_until(lambda: first.state == READY)
        second.start()
        assert wait_until(lambda: second.state == "error")
        assert "Không mở được cổng" in second.states()["keypads2"].detail
        assert first.state == READY
    finally:
        second.stop()
        first.stop()
        sim.stop()


def test_usb_adapter_unplugged_and_back_on_a_tty(rec: Recorder, tmp_path) -> None:
    path = str(tmp_path / "ttyUSB0")
    sim = SimKeypads([1], transport="pty", link_path=path)
    sim.start()
    driver = KeypadBus(path, [1], on_key=rec.on_key, on_state=rec.on_state, **FAST)
    driver.start()
    try:
        assert wait_until(lambda: driver.state == READY)
        sim.unplug()  # /dev/ttyUSB0 disappears
        assert wait_until(lambda: driver.state == LOST, LOST_BOUND)
        driver.show(1, "4004", 2)
        sim.replug()  # ... and comes back (a new pty behind the same path)
        assert wait_until(lambda: sim.display(1) == ("4004", 2))
        assert wait_until(lambda: driver.state == READY)
        assert driver.stats()["reconnects"] >= 1
    finally:
        driver.stop()
        sim.stop()


def test_stop_reports_closed_and_a_listener_error_does_not_break_the_bus(
        keypads: SimKeypads, rec: Recorder) -> None:
    def bad_listener(address: int, key: str) -> None:
        rec.on_key(address, key)
        raise RuntimeError("listener bug")

    driver = KeypadBus(keypads.url, [1], on_key=bad_listener, on_state=rec.on_state, **FAST)
    driver.start()
    keypads.press(1, "call_next")
    keypads.press(1, "finish")
    assert wait_until(lambda: len(rec.keys) == 2)
    driver.stop()
    assert rec.last_state("keypads") == CLOSED
    assert rec.last_state("keypads:keypad:1") == CLOSED
    assert not [t for t in threading.enumerate() if t.name.startswith("serialdev-keypads")]


# ---------------------------------------------------------------- rating boxes


@pytest.fixture
def boxes() -> Iterator[SimRatingBoxes]:
    sim = SimRatingBoxes([1, 2])
    sim.start()
    yield sim
    sim.stop()


def test_rating_prompt_lights_the_box_and_the_choice_arrives_once(boxes: SimRatingBoxes,
                                                                  rec: Recorder) -> None:
    driver = RatingBoxBus(boxes.url, [1, 2], on_rating=rec.on_rating, on_state=rec.on_state,
                          **FAST)
    driver.start()
    try:
        assert boxes.press(2, "satisfied") is False  # not lit: the box ignores the press
        driver.prompt(2, open=True)
        assert wait_until(lambda: boxes.is_open(2))
        assert not boxes.is_open(1)
        assert boxes.press(2, "very_satisfied") is True
        assert boxes.press(2, "unsatisfied") is False  # one choice per prompt
        assert wait_until(lambda: rec.ratings == [(2, "very_satisfied")])
        assert not boxes.is_open(2)
        time.sleep(0.3)  # many polls later, still once
        assert rec.ratings == [(2, "very_satisfied")]
        driver.prompt(1, open=True)
        assert wait_until(lambda: boxes.is_open(1))
        driver.prompt(1, open=False)
        assert wait_until(lambda: not boxes.is_open(1))
    finally:
        driver.stop()


def test_rating_resent_after_a_lost_acknowledgement_is_passed_on_once(
        boxes: SimRatingBoxes, rec: Recorder) -> None:
    driver = RatingBoxBus(boxes.url, [1], on_rating=rec.on_rating, **FAST)
    driver.start()
    try:
        driver.prompt(1)
        assert wait_until(lambda: boxes.is_open(1))
        boxes.ignore_frames("A", 3)  # the box keeps the rating and sends it again
        assert boxes.press(1, "unsatisfied")
        assert wait_until(lambda: rec.ratings == [(1, "unsatisfied")])
        assert wait_until(lambda: boxes.pending_events(0x41) == 0)
        time.sleep(0.2)
        assert rec.ratings == [(1, "unsatisfied")]
        assert len([f for f in boxes.frames if f.command == "A"]) >= 1
    finally:
        driver.stop()


def test_keypads_and_rating_boxes_share_one_cable(rec: Recorder) -> None:
    sim = SimCounterBus(keypads=[1, 2], rating_boxes=[1, 2])
    sim.start()
    driver = CounterBus(sim.url, keypads=[1, 2], rating_boxes=[1, 2], on_key=rec.on_key,
                        on_rating=rec.on_rating, on_state=rec.on_state, **FAST)
    driver.start()
    try:
        driver.show(1, "1001", 3)
        driver.prompt(1)
        assert wait_until(lambda: sim.display(1) == ("1001", 3) and sim.is_open(1))
        assert not sim.is_open(2) and sim.display(2) is None
        sim.press_key(1, "finish")
        sim.press_rating(1, "satisfied")
        assert wait_until(lambda: rec.keys == [(1, "finish")] and rec.ratings == [(1, "satisfied")])
        names = set(driver.states())
        assert {"counter-bus", "counter-bus:keypad:1", "counter-bus:rating:2"} <= names
        assert driver.keypad_name(1) == "counter-bus:keypad:1"
        assert driver.states()[driver.rating_name(2)].state == READY
    finally:
        driver.stop()
        sim.stop()


def test_states_start_connecting_then_ready(keypads: SimKeypads, rec: Recorder) -> None:
    driver = KeypadBus(keypads.url, [1], on_state=rec.on_state, **FAST)
    assert driver.state == CONNECTING
    driver.start()
    try:
        assert wait_until(lambda: rec.last_state("keypads:keypad:1") == READY)
        assert rec.states[0][:2] == ("keypads", CONNECTING)
        assert wait_until(lambda: rec.last_state("keypads") == READY)
    finally:
        driver.stop()
