"""The SMS modem driver (drivers/modem) against its simulated twin speaking AT over a real
byte link: Vietnamese arrives exactly (UCS-2 PDUs), long texts go in concatenated parts,
refusals (+CMS ERROR) and a silent or unplugged modem fail the message without hanging,
and the driver reconnects by itself."""
from __future__ import annotations

import threading
import unicodedata

import pytest

from drivers.modem import ModemSettings, PduError, SmsModem, decode_submit, encode_submit, split_parts
from drivers.modem.sim import SimModem
from drivers.state import DeviceState

VIETNAMESE = "Mời công dân có số 1023 đến quầy số 4. Hồ sơ đã được tiếp nhận, xin cảm ơn ông/bà!"
FAST = ModemSettings(command_timeout=1.5, send_timeout=2.0, check_interval=0.3, reconnect_initial=0.1,
                     reconnect_max=0.5)


class Results:
    def __init__(self) -> None:
        self.items: list = []
        self.cv = threading.Condition()

    def __call__(self, result) -> None:
        with self.cv:
            self.items.append(result)
            self.cv.notify_all()

    def wait(self, count: int, timeout: float = 15.0):
        with self.cv:
            assert self.cv.wait_for(lambda: len(self.items) >= count, timeout), f"{len(self.items)} results"
            return self.items[count - 1]


@pytest.fixture(params=["tcp", "pty"])
def rig(request):
    sim = SimModem(transport=request.param).start()
    states: list[tuple[DeviceState, str]] = []
    modem = SmsModem(sim.url, name="modem", settings=FAST, on_state=lambda n, s, d: states.append((s, d)))
    modem.start()
    yield sim, modem, states
    modem.stop()
    sim.stop()


def _wait_state(modem, state, timeout=15.0):
    import time

    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if modem.state == state:
            return
        time.sleep(0.02)
    raise AssertionError(f"modem state {modem.state}, expected {state}")


def test_pdu_round_trip_keeps_vietnamese_exactly():
    (octets, hex_pdu), = encode_submit("0912 345 678", "Xin chào, số 1001 sắp đến lượt")
    pdu = decode_submit(hex_pdu)
    assert pdu.number == "+84912345678" and pdu.text == "Xin chào, số 1001 sắp đến lượt"
    assert octets == len(hex_pdu) // 2 - 1
    # Decomposed input (a keyboard that types tone marks apart) arrives composed (NFC).
    decomposed = unicodedata.normalize("NFD", "Hồ sơ đã xong")
    assert decode_submit(encode_submit("0912345678", decomposed)[0][1]).text == "Hồ sơ đã xong"


def test_long_text_is_split_in_parts_that_never_cut_a_character():
    text = VIETNAMESE * 2 + " 😀"
    parts = split_parts(text)
    assert len(parts) > 1 and "".join(parts) == unicodedata.normalize("NFC", text)
    assert all(len(p.encode("utf-16-be")) // 2 <= 67 for p in parts)
    pdus = [decode_submit(h) for _, h in encode_submit("0987654321", text, ref=7)]
    assert [(p.ref, p.total, p.index) for p in pdus] == [(7, len(parts), i + 1) for i in range(len(parts))]
    with pytest.raises(PduError):
        encode_submit("12", "x")
    with pytest.raises(PduError):
        split_parts("x" * 67 * 9)


def test_driver_sends_vietnamese_and_multipart_through_the_twin(rig):
    sim, modem, states = rig
    _wait_state(modem, DeviceState.READY)
    done = Results()
    modem.send("0912345678", "Số 1005 sắp đến lượt, trước ông/bà còn 2 người.", done)
    modem.send("+84 987 654 321", VIETNAMESE * 2, done)
    first, second = done.wait(1), done.wait(2)
    assert first.ok and first.parts == 1 and second.ok and second.parts == 3
    assert [(m.number, m.text, m.parts) for m in sim.messages] == [
        ("+84912345678", "Số 1005 sắp đến lượt, trước ông/bà còn 2 người.", 1),
        ("+84987654321", VIETNAMESE * 2, 3),
    ]
    assert "AT+CMGF=0" in sim.commands and "ATE0" in sim.commands
    assert (DeviceState.BUSY, "Đang gửi tin nhắn") in states


def test_refusal_fails_the_message_and_the_next_one_goes(rig):
    sim, modem, _ = rig
    _wait_state(modem, DeviceState.READY)
    sim.fail_next(1, 512)
    done = Results()
    modem.send("0912345678", "một", done)
    modem.send("0912345678", "hai", done)
    refused, sent = done.wait(1), done.wait(2)
    assert not refused.ok and "512" in refused.error and "mạng từ chối" in refused.error
    assert sent.ok and sim.texts() == ["hai"]
    assert modem.state == DeviceState.READY


def test_no_sim_card_is_an_error_state_with_a_reason():
    sim = SimModem().start()
    sim.sim_ready = False
    modem = SmsModem(sim.url, name="modem", settings=FAST)
    try:
        modem.start()
        _wait_state(modem, DeviceState.ERROR)
        assert "SIM" in modem.detail
        done = Results()
        modem.send("0912345678", "x", done)
        assert not done.wait(1).ok
        sim.sim_ready = True
        _wait_state(modem, DeviceState.READY)
    finally:
        modem.stop()
        sim.stop()


def test_silent_modem_times_out_and_unplugged_modem_reconnects(rig):
    sim, modem, _ = rig
    _wait_state(modem, DeviceState.READY)
    done = Results()
    sim.unplug(keep_link=True)  # hangs: answers nothing
    modem.send("0912345678", "không tới", done)
    hung = done.wait(1)
    assert not hung.ok and "không trả lời" in hung.error
    sim.replug()
    _wait_state(modem, DeviceState.READY)
    sim.unplug()  # the cable is pulled
    _wait_state(modem, DeviceState.LOST)
    modem.send("0912345678", "cũng không tới", done)
    assert not done.wait(2).ok
    sim.replug()
    _wait_state(modem, DeviceState.READY)
    modem.send("0912345678", "Đã kết nối lại", done)
    assert done.wait(3).ok
    assert sim.texts() == ["Đã kết nối lại"]


def test_sim_url_starts_the_twin():
    modem = SmsModem("sim://", name="modem", settings=FAST)
    modem.start()
    try:
        _wait_state(modem, DeviceState.READY)
        done = Results()
        modem.send("0912345678", "Xin chào", done)
        assert done.wait(1).ok
        assert modem.simulator.texts() == ["Xin chào"]
    finally:
        modem.stop()


def test_a_message_sent_while_the_modem_waits_to_reconnect_fails_at_once():
    """The outbox retries later; a message must not sit in the driver for the whole reconnect
    delay (up to 30 s in an office, several such waits per message)."""
    slow_retry = ModemSettings(command_timeout=1.5, send_timeout=2.0, check_interval=0.3,
                               reconnect_initial=60.0, reconnect_max=60.0)
    sim = SimModem().start()
    modem = SmsModem(sim.url, name="modem", settings=slow_retry)
    modem.start()
    try:
        _wait_state(modem, DeviceState.READY)
        sim.unplug()  # the cable is pulled: the next check finds it gone, then a minute's wait
        _wait_state(modem, DeviceState.LOST)
        done = Results()
        modem.send("0912345678", "trong lúc chờ kết nối lại", done)
        failed = done.wait(1, timeout=30)  # well before the minute is up
        assert not failed.ok and "modem" in failed.error.lower()
        modem.send("0912345678", "lần nữa", done)
        assert not done.wait(2, timeout=30).ok
    finally:
        modem.stop()
        sim.stop()
