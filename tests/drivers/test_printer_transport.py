"""Printer links chosen by URL, and the simulated printer's byte handling."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from drivers.printer.device import TicketPrinter
from drivers.printer.encoder import encode_document
from drivers.printer.profile import get_profile
from drivers.printer.sample import sample_ticket
from drivers.printer.transport import (
    EscposTransport,
    NetworkTransport,
    SerialTransport,
    TransportError,
    UsbTransport,
    make_transport,
)
from drivers.printer.virtual import VirtualPrinter, VirtualPrinterServer, VirtualTransport

PROFILE = get_profile("80mm")


def test_urls_pick_the_right_link() -> None:
    assert isinstance(make_transport("usb://04b8:0202"), UsbTransport)
    assert isinstance(make_transport("serial:///dev/ttyUSB0?baudrate=115200"), SerialTransport)
    assert isinstance(make_transport("tcp://127.0.0.1:9100"), NetworkTransport)
    file_link = make_transport("file:///dev/usb/lp0")
    assert isinstance(file_link, EscposTransport) and not file_link.can_read
    virtual = make_transport("virtual")
    assert isinstance(virtual, VirtualTransport) and virtual.printer.directory is None
    with_dir = make_transport("virtual://?dir=/tmp/motcua-test-printer")
    assert with_dir.printer.directory == Path("/tmp/motcua-test-printer")
    for bad in ("lpt://1", "usb://04b8", "tcp://:9100", "serial://"):
        with pytest.raises(ValueError):
            make_transport(bad)


def test_usb_printer_absent_gives_vietnamese_error() -> None:
    link = make_transport("usb://04b8:0202")
    with pytest.raises(TransportError) as err:
        link.open()
    assert "máy in" in str(err.value).lower() or "thư viện" in str(err.value)
    assert not link.is_open


def test_cups_without_pycups_or_queue_fails_cleanly() -> None:
    link = make_transport("cups://TM-T20")
    with pytest.raises(TransportError):
        link.open()


def test_missing_serial_device_fails_cleanly() -> None:
    link = make_transport("serial:///dev/ttyNOPE0")
    with pytest.raises(TransportError) as err:
        link.open()
    assert "/dev/ttyNOPE0" in str(err.value)


def test_file_link_writes_bytes_and_cannot_read(tmp_path: Path) -> None:
    target = tmp_path / "lp0"
    tp = TicketPrinter(f"file://{target}", PROFILE, status_interval=0.1)
    tp.start()
    try:
        job_id = tp.submit(sample_ticket())
        assert tp.wait_job(job_id, 10).state == "done"
        status = tp.status()
        assert status.state == "ready" and not status.printer.known
        assert "không đọc được trạng thái" in status.message_vi
    finally:
        tp.stop()
    assert target.read_bytes() == encode_document(sample_ticket(), PROFILE)


class PtyPrinter:
    """The far end of a pseudo-terminal, answering like a serial receipt printer."""

    def __init__(self) -> None:
        self.master, self.slave = os.openpty()
        self.path = os.ttyname(self.slave)
        self.received = bytearray()
        self.status_reply = b"\x12"
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        import select

        while not self._stop.is_set():
            ready, _, _ = select.select([self.master], [], [], 0.05)
            if not ready:
                continue
            try:
                data = os.read(self.master, 4096)
            except OSError:
                return
            self.received += data
            for n in range(1, 5):
                query = b"\x10\x04" + bytes((n,))
                count = data.count(query)
                if count:
                    os.write(self.master, self.status_reply * count)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(1)
        os.close(self.master)
        os.close(self.slave)


def test_serial_link_reads_status_and_sends_jobs() -> None:
    far = PtyPrinter()
    tp = TicketPrinter(f"serial://{far.path}?baudrate=115200", PROFILE, status_interval=0.1)
    tp.start()
    try:
        assert tp.wait_status(lambda s: s.state == "ready", 5).printer.reachable
        job_id = tp.submit(sample_ticket())
        assert tp.wait_job(job_id, 10).state == "done"
        far.status_reply = b"\x1a"  # offline; cause (DLE EOT 2) 0x1a: feed button...
        status = tp.wait_status(lambda s: not s.printer.online, 3)
        assert not status.printer.online and status.state == "error"
    finally:
        tp.stop()
        far.close()
    assert encode_document(sample_ticket(), PROFILE) in bytes(far.received)


def test_network_link_against_local_simulated_printer(tmp_path: Path) -> None:
    virtual = VirtualPrinter(tmp_path)
    server = VirtualPrinterServer(virtual, idle_job_end=0.2).start()
    tp = TicketPrinter(server.url, PROFILE, status_interval=0.1, reconnect_initial=0.05)
    tp.start()
    try:
        job_id = tp.submit(sample_ticket())
        assert tp.wait_job(job_id, 10).state == "done"
        assert virtual.wait_for_jobs(1, 5)
        assert virtual.jobs == [encode_document(sample_ticket(), PROFILE)]
        virtual.set_fault("paper_out")
        assert tp.wait_status(lambda s: s.printer.paper_out, 3).message_vi == "Máy in hết giấy"
        virtual.set_fault(None)
        assert tp.wait_status(lambda s: s.printer.ok, 3).state == "ready"
    finally:
        tp.stop()
        server.stop()


def test_virtual_printer_answers_status_but_not_inside_image_data(tmp_path: Path) -> None:
    virtual = VirtualPrinter(tmp_path)
    link = VirtualTransport(virtual)
    link.open()
    # A raster image whose data contains 10 04 01: it is image data, not a status query.
    image = b"\x1dv0\x00\x02\x00\x02\x00" + b"\x10\x04\x01\x00"
    job = b"\x1b@" + image + b"\x1dV\x01"
    # Sent in awkward pieces, with a real query between two commands.
    link.write(job[:2])
    assert link.read_status(4) == b"\x12"
    link.write(job[2:7])
    link.write(job[7:13])
    link.write(job[13:])
    assert virtual.read() == b""  # nothing answered the bytes inside the image
    link.end_job()
    assert virtual.jobs == [job]
    files = sorted(tmp_path.glob("*.bin"))
    assert len(files) == 1 and files[0].read_bytes() == job
    assert files[0].name.endswith("-job000001.bin")


def test_virtual_printer_faults_show_in_status_bytes(tmp_path: Path) -> None:
    virtual = VirtualPrinter(tmp_path)
    link = VirtualTransport(virtual)
    link.open()
    virtual.set_fault("paper_out")
    assert link.read_status(1) == b"\x1a"
    assert link.read_status(2) == b"\x32"
    assert link.read_status(4) == b"\x7e"
    virtual.set_fault("cover_open")
    assert link.read_status(2) == b"\x16"
    virtual.set_fault("offline")
    with pytest.raises(TransportError):
        link.read_status(1)
    with pytest.raises(TransportError):
        link.open()
    virtual.set_fault(None)
    link.open()
    assert link.read_status(1) == b"\x12"


def test_jobs_received_during_paper_out_print_when_it_clears(tmp_path: Path) -> None:
    virtual = VirtualPrinter(tmp_path)
    link = VirtualTransport(virtual)
    link.open()
    virtual.set_fault("paper_out")
    link.write(b"\x1b@held\n")
    link.end_job()
    assert virtual.jobs == [] and virtual.held_count == 1
    virtual.set_fault(None)
    assert virtual.jobs == [b"\x1b@held\n"]


def test_job_numbers_continue_after_restart(tmp_path: Path) -> None:
    first = VirtualPrinter(tmp_path)
    link = VirtualTransport(first)
    link.open()
    link.write(b"\x1b@one\n")
    link.write(b"\x1b@two\n")  # a new ESC @ after content completes the previous job
    link.end_job()
    second = VirtualPrinter(tmp_path)
    link2 = VirtualTransport(second)
    link2.open()
    link2.write(b"\x1b@three\n")
    link2.end_job()
    names = sorted(p.name for p in tmp_path.glob("*.bin"))
    assert [n[-10:] for n in names] == ["000001.bin", "000002.bin", "000003.bin"]
    assert [p.read_bytes() for p in sorted(tmp_path.glob("*.bin"))] == [
        b"\x1b@one\n",
        b"\x1b@two\n",
        b"\x1b@three\n",
    ]
