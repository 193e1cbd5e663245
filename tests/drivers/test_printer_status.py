"""DLE EOT status replies, parsed from the bytes printers send."""

from __future__ import annotations

import pytest

from drivers.printer.status import (
    PrinterStatus,
    encode_status,
    parse_error_cause,
    parse_offline_cause,
    parse_paper_sensor,
    parse_printer_status,
    status_byte,
    status_from_replies,
    status_query,
)


def test_query_bytes_are_dle_eot_n() -> None:
    assert status_query(1) == b"\x10\x04\x01"
    assert status_query(4) == b"\x10\x04\x04"
    with pytest.raises(ValueError):
        status_query(5)


def test_idle_printer_replies_0x12_to_everything() -> None:
    status = status_from_replies(b"\x12", b"\x12", b"\x12", b"\x12")
    assert status.ok
    assert status.online and status.reachable
    assert status.fault is None
    assert status.message_vi == "Máy in sẵn sàng"


def test_printer_status_byte() -> None:
    assert parse_printer_status(b"\x12") == {"online": True, "feed_button": False}
    assert parse_printer_status(b"\x1a") == {"online": False, "feed_button": False}
    assert parse_printer_status(b"\x52")["feed_button"] is True
    # Drawer pin 3 (bit 2) does not matter to a ticket printer.
    assert parse_printer_status(b"\x16") == {"online": True, "feed_button": False}


def test_offline_causes() -> None:
    assert parse_offline_cause(b"\x16")["cover_open"] is True
    assert parse_offline_cause(b"\x32")["paper_out"] is True
    assert parse_offline_cause(b"\x52")["error"] is True
    assert parse_offline_cause(b"\x1a")["feed_button"] is True
    assert not any(parse_offline_cause(b"\x12").values())


def test_error_causes() -> None:
    assert parse_error_cause(b"\x1a") == {
        "cutter_error": True,
        "unrecoverable_error": False,
        "recoverable_error": False,
    }
    assert parse_error_cause(b"\x32")["unrecoverable_error"] is True
    assert parse_error_cause(b"\x52")["recoverable_error"] is True


def test_paper_roll_sensor() -> None:
    assert parse_paper_sensor(b"\x12") == {"paper_near_end": False, "paper_out": False}
    assert parse_paper_sensor(b"\x1e") == {"paper_near_end": True, "paper_out": False}
    assert parse_paper_sensor(b"\x7e") == {"paper_near_end": True, "paper_out": True}


def test_bytes_that_are_not_status_replies_are_refused() -> None:
    for junk in (b"", None, b"\x00", b"\xff", b"0", b"8", b"\x13"):
        assert status_byte(junk) is None
        assert parse_printer_status(junk) is None
    # A stray byte before the reply (e.g. left over from earlier) is skipped.
    assert status_byte(b"\x00\x12") == 0x12


def test_no_reply_means_connection_lost() -> None:
    status = status_from_replies(b"")
    assert not status.reachable and not status.ok
    assert status.message_vi == "Máy in mất kết nối"


def test_paper_out_reported_in_vietnamese() -> None:
    status = status_from_replies(b"\x1a", b"\x32", None, b"\x7e")
    assert status.paper_out and not status.online and not status.ok
    assert status.message_vi == "Máy in hết giấy"


def test_cover_open_reported_in_vietnamese() -> None:
    status = status_from_replies(b"\x1a", b"\x16", None, b"\x12")
    assert status.cover_open and not status.ok
    assert status.message_vi == "Máy in đang mở nắp"


def test_cutter_error_and_near_end() -> None:
    status = status_from_replies(b"\x1a", b"\x52", b"\x1a", b"\x12")
    assert status.error and status.cutter_error and not status.ok
    assert "dao cắt" in status.message_vi
    near = status_from_replies(b"\x12", None, None, b"\x1e")
    assert near.ok and near.paper_near_end
    assert near.message_vi == "Máy in sắp hết giấy"


@pytest.mark.parametrize(
    "status",
    [
        PrinterStatus(),
        PrinterStatus(online=False, paper_out=True, paper_near_end=True),
        PrinterStatus(online=False, cover_open=True),
        PrinterStatus(online=False, error=True, cutter_error=True),
        PrinterStatus(paper_near_end=True),
    ],
)
def test_simulator_replies_parse_back_to_the_same_status(status: PrinterStatus) -> None:
    replies = encode_status(status)
    for reply in replies.values():
        assert len(reply) == 1 and reply[0] & 0x93 == 0x12
    parsed = status_from_replies(replies[1], replies[2], replies[3], replies[4])
    assert parsed.fault == status.fault
    assert parsed.ok == status.ok
    assert parsed.message_vi == status.message_vi
