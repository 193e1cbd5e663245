"""Serial device protocols on bytes: framing, keypad/rating payloads, Modbus RTU, ASCII, scanner."""

from __future__ import annotations

import pytest

from drivers.serialdev import counter_protocol as proto
from drivers.serialdev import modbus_rtu as rtu
from drivers.serialdev.ascii_board import (
    board_text,
    parse_reply,
    parse_request,
    query_line,
    show_line,
)
from drivers.serialdev.framing import (
    FrameError,
    checksum,
    decode_frame,
    encode_frame,
    split_frames,
)
from drivers.serialdev.lines import split_lines
from drivers.serialdev.scanner import decode_code, split_codes

# ---------------------------------------------------------------- framed ASCII


def test_poll_frame_is_the_documented_bytes() -> None:
    # STX '0' '1' 'P' ETX, XOR('0','1','P',ETX) = 0x52 -> "52"
    assert proto.poll_frame(1) == bytes.fromhex("02 30 31 50 03 35 32")


def test_display_frame_carries_number_and_waiting_count() -> None:
    frame = proto.display_frame(3, "A012", 5)
    assert frame == b"\x0203DA012,5\x032F"
    decoded = decode_frame(frame)
    assert (decoded.address, decoded.command, decoded.payload) == (3, "D", "A012,5")
    assert proto.parse_display_payload(decoded.payload) == ("A012", 5)


def test_checksum_is_xor_from_address_through_etx() -> None:
    body = b"03K07N\x03"
    assert checksum(body) == 0x02
    assert encode_frame(3, "K", "07N") == b"\x02" + body + b"02"


@pytest.mark.parametrize(
    "raw, reason",
    [
        (b"\x0201P\x0353", "tổng kiểm tra"),  # checksum off by one
        (b"\x0201P\x03zz", "tổng kiểm tra"),  # checksum not hex
        (b"\x02G1P\x03" + b"%02X" % checksum(b"G1P\x03"), "hex"),  # address not hex
        (b"\x0201P", "độ dài"),
    ],
)
def test_decode_rejects_corrupt_frames(raw: bytes, reason: str) -> None:
    with pytest.raises(FrameError, match=reason):
        decode_frame(raw)


def test_split_frames_skips_noise_bad_checksums_and_cut_frames() -> None:
    good1 = encode_frame(1, "Y")
    good2 = encode_frame(2, "K", "10N")
    bad_sum = encode_frame(4, "Y")[:-1] + b"0"
    cut = encode_frame(5, "D", "1005,3")[:6]  # a frame cut off by a new STX
    stream = b"\xff\x00noise" + good1 + bad_sum + cut + good2 + b"\x02" + b"03"
    frames, rejected, rest = split_frames(stream)
    assert [(f.address, f.command, f.payload) for f in frames] == [(1, "Y", ""), (2, "K", "10N")]
    reasons = " | ".join(r.reason for r in rejected)
    assert "nhiễu" in reasons and "tổng kiểm tra" in reasons and "cắt" in reasons
    assert rest == b"\x0203"  # may still become a frame


def test_split_frames_fed_byte_by_byte_gives_the_same_frames() -> None:
    stream = encode_frame(1, "Y") + b"\x13\x37" + encode_frame(2, "V", "2A3")
    buffer = b""
    frames = []
    for byte in stream:
        got, _, buffer = split_frames(buffer + bytes([byte]))
        frames += got
    assert [f.raw for f in frames] == [encode_frame(1, "Y"), encode_frame(2, "V", "2A3")]


def test_over_long_frame_without_etx_is_dropped() -> None:
    frames, rejected, rest = split_frames(b"\x0201D" + b"9" * 60 + encode_frame(1, "Y"))
    assert [f.command for f in frames] == ["Y"]
    assert rejected and len(rest) == 0


def test_encode_refuses_what_the_frame_cannot_carry() -> None:
    with pytest.raises(ValueError):
        encode_frame(1, "D", "x" * 33)
    with pytest.raises(ValueError):
        encode_frame(1, "D", "a\x03b")
    with pytest.raises(ValueError):
        encode_frame(300, "P")


# ---------------------------------------------------------------- keypad / rating payloads


def test_keypad_display_text_rules() -> None:
    assert proto.display_payload(" a012 ", 5) == "A012,5"
    assert proto.display_payload("1005", 5000) == "1005,999"  # three digits on the keypad
    assert proto.display_payload("", 0) == ",0"  # blank display
    with pytest.raises(ValueError):
        proto.display_payload("1234567", 1)
    with pytest.raises(ValueError):
        proto.display_payload("Số 1", 1)


def test_events_decode_to_key_and_level_names() -> None:
    key = proto.parse_event(decode_frame(encode_frame(3, "K", "07N")))
    assert key is not None and (key.address, key.kind, key.seq, key.value) == (3, "key", 7, "call_next")
    rating = proto.parse_event(decode_frame(encode_frame(0x42, "V", "2A3")))
    assert rating is not None and (rating.kind, rating.seq, rating.value) == ("rating", 0x2A, "very_satisfied")
    assert proto.parse_event(decode_frame(encode_frame(3, "K", "07Q"))) is None  # unknown key
    assert proto.rating_wire_address(2) == 0x42
    with pytest.raises(ValueError):
        proto.keypad_wire_address(33)


# ---------------------------------------------------------------- Modbus RTU


def test_showing_15_on_unit_1_is_the_documented_frame() -> None:
    assert rtu.write_register_frame(1, 0, 15) == bytes.fromhex("01 06 00 00 00 0F C9 CE")


@pytest.mark.parametrize(
    "unit, value, expected",
    [
        (2, 15, "02 06 00 00 00 0F C9 FD"),
        (3, 1005, "03 06 00 00 03 ED 48 95"),
        (1, 0, "01 06 00 00 00 00 89 CA"),
    ],
)
def test_write_frames_for_other_units(unit: int, value: int, expected: str) -> None:
    frame = rtu.write_register_frame(unit, 0, value)
    assert frame == bytes.fromhex(expected)
    # pymodbus built it; the independent CRC agrees
    assert rtu.crc_ok(frame)


def test_read_request_and_crc_of_well_known_frame() -> None:
    assert rtu.read_registers_frame(1, 0, 1) == bytes.fromhex("01 03 00 00 00 01 84 0A")
    assert rtu.crc16_modbus(bytes.fromhex("01 06 00 00 00 0F")) == 0xCEC9


def test_split_rtu_finds_answers_among_noise_and_bad_crc() -> None:
    read_answer = rtu.with_crc(bytes([1, 3, 2, 0, 15]))
    write_answer = rtu.write_register_frame(2, 0, 7)
    bad = bytearray(rtu.write_register_frame(3, 0, 9))
    bad[-1] ^= 0xFF
    exception = rtu.with_crc(bytes([4, 0x86, 2]))
    frames, rejected, rest = rtu.split_rtu(
        b"\x00\xfe" + read_answer + bytes(bad) + write_answer + exception, "response")
    assert [f.raw for f in frames] == [read_answer, write_answer, exception]
    assert rtu.parse_read_response(frames[0]) == [15]
    assert rtu.exception_code(frames[2]) == 2
    assert sum(len(r.raw) for r in rejected) == 2 + len(bad)
    assert rest == b""


def test_split_rtu_keeps_an_unfinished_frame_for_later() -> None:
    frame = rtu.write_register_frame(1, 0, 15)
    frames, rejected, rest = rtu.split_rtu(frame[:5], "request")
    assert frames == [] and rejected == [] and rest == frame[:5]
    frames, _, rest = rtu.split_rtu(rest + frame[5:], "request")
    assert [f.raw for f in frames] == [frame] and rest == b""


@pytest.mark.parametrize(
    "text, value",
    [("15", 15), ("1005", 1005), ("A012", 12), ("", 0), ("B-0042", 42), ("123456", 3456)],
)
def test_digit_boards_show_only_the_digits(text: str, value: int) -> None:
    assert rtu.modbus_value_for(text) == value


# ---------------------------------------------------------------- ASCII boards, lines, scanner


def test_ascii_board_lines() -> None:
    assert show_line(3, "A012") == b"#03:A012\r\n"
    assert query_line(12) == b"#12?\r\n"
    assert show_line(1, "Quầy số 2 #") == b"#01:Quay so 2\r\n"
    assert board_text("Đ" * 20) == "D" * 16
    request = parse_request(b"#03:A012")
    assert request is not None and (request.address, request.query, request.text) == (3, False, "A012")
    assert parse_reply(b"OK") is not None and parse_reply(b"=A012").text == "A012"  # type: ignore[union-attr]
    assert parse_reply(b"#03:A012") is None  # our own echo


def test_split_lines_accepts_cr_lf_and_both() -> None:
    lines, too_long, rest = split_lines(b"A\r\nB\rC\nD\n\rE", 10)
    assert lines == [b"A", b"B", b"C", b"D"] and rest == b"E" and too_long == []
    lines, too_long, rest = split_lines(b"x" * 12 + b"\r\nok\r\n", 10)
    assert lines == [b"ok"] and too_long == [b"x" * 12]


def test_scanner_codes_from_bytes() -> None:
    codes, rejected, rest = split_codes(
        b"HS-2024-0001\r\n\x02ABC\x03\r\n" + "  Hồ sơ 12  \n".encode() + b"\xff\xfe\r\n8934\r")
    assert codes == ["HS-2024-0001", "ABC", "Hồ sơ 12", "8934"]
    assert len(rejected) == 1 and rest == b""
    assert decode_code(b"\x00\x01") is None
