"""TicketPrinter against the simulated printer: jobs, faults, slow printers, stop."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from drivers.printer.device import TicketPrinter
from drivers.printer.encoder import encode_document
from drivers.printer.profile import get_profile
from drivers.printer.sample import sample_ticket
from drivers.printer.virtual import VirtualPrinter

from serial_timing import wait_until

PROFILE = get_profile("80mm")
FAULT_REPORT_LIMIT = 3.0  # seconds: faults must show in status() within this


class Recorder:
    """Collects callbacks from the printer's worker thread."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.jobs: list[tuple[str, str, str | None]] = []
        self.statuses: list[tuple[str, str]] = []  # (state, detail) as on_state reported them

    def on_job(self, job_id: str, state: str, error: str | None) -> None:
        with self.lock:
            self.jobs.append((job_id, state, error))

    def on_state(self, name: str, state: str, detail: str) -> None:
        with self.lock:
            self.statuses.append((state, detail))

    def states_of(self, job_id: str) -> list[str]:
        with self.lock:
            return [s for j, s, _ in self.jobs if j == job_id]

    def wait_states(self, job_id: str, count: int, timeout: float = 15.0) -> list[str]:
        """The job's reported states once ``count`` have arrived (callbacks are async)."""
        wait_until(lambda: len(self.states_of(job_id)) >= count, timeout)
        return self.states_of(job_id)


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def printer(tmp_path: Path, recorder: Recorder):
    tp = TicketPrinter(
        f"virtual://?dir={tmp_path / 'printer'}",
        PROFILE,
        name="kiosk-1",
        status_interval=0.1,
        reconnect_initial=0.05,
        reconnect_max=0.2,
        on_job=recorder.on_job,
        on_state=recorder.on_state,
    )
    tp.start()
    yield tp
    tp.stop()


def job_files(directory: Path) -> list[Path]:
    return sorted(directory.glob("*.bin"))


def test_job_file_holds_exactly_the_encoded_bytes(printer: TicketPrinter, tmp_path: Path,
                                                   recorder: Recorder) -> None:
    doc = sample_ticket("1005")
    job_id = printer.submit(doc)
    info = printer.wait_job(job_id, 10)
    assert info is not None and info.state == "done", info
    files = job_files(tmp_path / "printer")
    assert len(files) == 1
    assert files[0].read_bytes() == encode_document(doc, PROFILE)
    assert info.size_bytes == files[0].stat().st_size
    assert not list((tmp_path / "printer").glob("*.tmp"))  # written atomically
    assert recorder.wait_states(job_id, 3) == ["queued", "printing", "done"]
    # Status polls (DLE EOT) went to the printer but are not part of the job file.
    assert b"\x10\x04" not in files[0].read_bytes()[-20:]


def test_reprint_is_submitting_the_same_document_again(printer: TicketPrinter,
                                                       tmp_path: Path) -> None:
    doc = sample_ticket("2001")
    first = printer.submit(doc)
    second = printer.submit(doc)
    assert first != second
    assert printer.wait_job(first, 10).state == "done"
    assert printer.wait_job(second, 10).state == "done"
    files = job_files(tmp_path / "printer")
    assert len(files) == 2
    assert files[0].read_bytes() == files[1].read_bytes()
    assert files[0].name < files[1].name  # names sort in printing order


def test_paper_out_is_reported_and_job_waits_then_prints(printer: TicketPrinter,
                                                         tmp_path: Path) -> None:
    assert printer.wait_status(lambda s: s.state == "ready", 5).state == "ready"
    virtual = printer.virtual_printer
    virtual.set_fault("paper_out")
    status = printer.wait_status(lambda s: s.printer.paper_out, FAULT_REPORT_LIMIT)
    assert status.printer.paper_out and status.state == "error"
    assert status.message_vi == "Máy in hết giấy"

    job_id = printer.submit(sample_ticket("1006"))
    # Several polls later the job still waits and nothing reached the paper.
    still = printer.wait_job(job_id, 5 * printer.status_interval)
    assert still.state == "queued"
    assert job_files(tmp_path / "printer") == []
    assert virtual.held_count == 0  # the driver did not even send it

    virtual.set_fault(None)
    assert printer.wait_job(job_id, 10).state == "done"
    assert len(job_files(tmp_path / "printer")) == 1
    assert printer.status().message_vi == "Máy in sẵn sàng"


def test_cover_open_makes_waiting_job_fail_with_reason_after_job_timeout(tmp_path: Path,
                                                                       recorder: Recorder) -> None:
    tp = TicketPrinter(
        f"virtual://?dir={tmp_path}",
        PROFILE,
        status_interval=0.1,
        job_timeout=0.5,
        on_job=recorder.on_job,
    )
    tp.virtual_printer.set_fault("cover_open")
    tp.start()
    try:
        assert tp.wait_status(lambda s: s.printer.cover_open, FAULT_REPORT_LIMIT).printer.cover_open
        job_id = tp.submit(sample_ticket())
        info = tp.wait_job(job_id, 10)
        assert info.state == "failed"
        assert "mở nắp" in info.error and "0,5 giây" in info.error
        assert recorder.wait_states(job_id, 2) == ["queued", "failed"]
        assert job_files(tmp_path) == []
    finally:
        tp.stop()


def test_offline_is_reported_and_printer_reconnects_by_itself(printer: TicketPrinter,
                                                             tmp_path: Path) -> None:
    assert printer.wait_status(lambda s: s.state == "ready", 5).state == "ready"
    virtual = printer.virtual_printer
    virtual.set_fault("offline")
    status = printer.wait_status(lambda s: not s.printer.reachable, FAULT_REPORT_LIMIT)
    assert not status.printer.reachable and status.state == "error"
    assert status.message_vi == "Máy in mất kết nối"

    job_id = printer.submit(sample_ticket("1007"))
    assert printer.wait_job(job_id, 5 * printer.status_interval).state == "queued"
    virtual.set_fault(None)
    assert printer.wait_job(job_id, 10).state == "done"
    assert printer.status().state == "ready"
    assert len(job_files(tmp_path / "printer")) == 1


def test_status_callbacks_follow_the_fault(printer: TicketPrinter, recorder: Recorder) -> None:
    printer.wait_status(lambda s: s.state == "ready", 5)
    printer.virtual_printer.set_fault("paper_out")
    printer.wait_status(lambda s: s.printer.paper_out, FAULT_REPORT_LIMIT)
    printer.virtual_printer.set_fault(None)

    def messages() -> list[str]:
        with recorder.lock:
            return [detail for _state, detail in recorder.statuses]

    def recovered() -> bool:
        seen = messages()
        return "Máy in hết giấy" in seen and seen[-1] == "Máy in sẵn sàng"

    assert wait_until(recovered, FAULT_REPORT_LIMIT), messages()
    seen = messages()
    # Each change is reported once, in order: ready -> paper out -> ready.
    assert seen[-2:] == ["Máy in hết giấy", "Máy in sẵn sàng"]


def test_slow_printer_does_not_block_submit_and_stop_is_clean(tmp_path: Path,
                                                             recorder: Recorder) -> None:
    tp = TicketPrinter(
        f"virtual://?dir={tmp_path}",
        PROFILE,
        status_interval=0.1,
        stop_timeout=2.0,
        on_job=recorder.on_job,
    )
    tp.virtual_printer.set_delay(0.5)  # 0.5 s per KiB: a ticket takes ~5 s
    tp.start()
    first = tp.submit(sample_ticket("3001"))
    assert tp.wait_status(lambda s: s.state == "busy", 5).state == "busy"
    second = tp.submit(sample_ticket("3002"))  # returns while the printer is busy
    assert tp.job(first).state == "printing"
    assert tp.job(second).state == "queued"

    tp.stop()
    assert tp.status().state == "closed"
    assert not any(t.name == "printer-printer" for t in threading.enumerate())
    first_info, second_info = tp.job(first), tp.job(second)
    assert first_info.state == "failed" and "đang in" in first_info.error
    assert second_info.state == "failed" and "đã dừng" in second_info.error
    assert recorder.states_of(second) == ["queued", "failed"]
    assert job_files(tmp_path) == []
    # After stop, new jobs are refused with a reason, not lost.
    late = tp.submit(sample_ticket("3003"))
    assert tp.job(late).state == "failed"
    assert not tp.transport.is_open


def test_stop_after_work_closes_everything(printer: TicketPrinter, recorder: Recorder) -> None:
    job_id = printer.submit(sample_ticket())
    assert printer.wait_job(job_id, 10).state == "done"
    printer.stop()
    assert printer.status().state == "closed"
    assert recorder.statuses[-1][0] == "closed"
    assert not printer.transport.is_open
    printer.stop()  # a second stop is harmless
    with pytest.raises(RuntimeError):
        printer.start()


def test_duplicate_active_job_id_is_refused(tmp_path: Path) -> None:
    tp = TicketPrinter(f"virtual://?dir={tmp_path}", PROFILE)  # not started: jobs wait
    tp.submit(sample_ticket(), job_id="ticket-42")
    with pytest.raises(ValueError):
        tp.submit(sample_ticket(), job_id="ticket-42")
    assert tp.job("ticket-42").state == "queued"
    assert tp.job("nope") is None
    tp.stop()
    assert tp.job("ticket-42").state == "failed"


def test_same_virtual_printer_can_be_shared(tmp_path: Path) -> None:
    """A caller may pass its own link (e.g. a simulated printer it controls)."""
    from drivers.printer.virtual import VirtualTransport

    virtual = VirtualPrinter(tmp_path)
    tp = TicketPrinter("virtual", PROFILE, transport=VirtualTransport(virtual), status_interval=0.1)
    tp.start()
    try:
        raw = b"\x1b@hello\n\x1dV\x01"
        job_id = tp.submit_raw(raw, title="test page")
        assert tp.wait_job(job_id, 10).state == "done"
        assert virtual.jobs == [raw]
        assert tp.virtual_printer is virtual
    finally:
        tp.stop()


def test_ticket_caught_by_paper_out_fails_and_is_not_printed_when_paper_returns(tmp_path: Path,
                                                                               recorder: Recorder) -> None:
    """Paper runs out while the printer is taking a ticket in: the citizen never got it, so the
    kiosk must hear "failed", and the printer must not print it hours later when paper returns
    (the driver clears the printer's buffers, DLE DC4 8, while it is still out of paper)."""
    tp = TicketPrinter(f"virtual://?dir={tmp_path}", PROFILE, status_interval=0.1, on_job=recorder.on_job)
    virtual = tp.virtual_printer
    tp.start()
    try:
        assert tp.wait_status(lambda s: s.state == "ready", 10).state == "ready"
        virtual.set_delay(0.2)  # 0.2 s per KiB: the ticket takes ~2 s to go in
        job_id = tp.submit(sample_ticket("4001"))
        wait_until(lambda: virtual.received_bytes > 0, 10)
        virtual.set_fault("paper_out")  # the roll ends while the ticket is still coming in
        info = tp.wait_job(job_id, 30)
        assert info.state == "failed", info
        assert "hết giấy" in info.error
        wait_until(lambda: virtual.held_count == 0, 10)  # the driver emptied the printer's buffer
        virtual.set_delay(0)
        virtual.set_fault(None)  # the staff put a new roll in
        assert virtual.completed_count == 0 and job_files(tmp_path) == []
        # The printer goes on with the next citizen's ticket as usual.
        after = tp.submit(sample_ticket("4002"))
        assert tp.wait_job(after, 20).state == "done"
        assert virtual.completed_count == 1
    finally:
        tp.stop()


def test_a_printed_ticket_is_done_only_once_the_printer_is_seen_without_fault(tmp_path: Path,
                                                                             recorder: Recorder) -> None:
    """The job is reported done after a status poll shows the printer fine after the last byte."""
    tp = TicketPrinter(f"virtual://?dir={tmp_path}", PROFILE, status_interval=0.1, on_job=recorder.on_job)
    tp.start()
    try:
        job_id = tp.submit(sample_ticket("4003"))
        assert tp.wait_job(job_id, 20).state == "done"
        assert recorder.wait_states(job_id, 3) == ["queued", "printing", "done"]
        assert len(job_files(tmp_path)) == 1
    finally:
        tp.stop()
