"""What the ticket printer driver tells about itself: job states and snapshots, and its status."""

from __future__ import annotations

from dataclasses import dataclass

from ..state import BUSY, CLOSED, CONNECTING, ERROR, READY, DeviceState
from .document import PrintDocument
from .status import PrinterStatus

QUEUED = "queued"
PRINTING = "printing"
DONE = "done"
FAILED = "failed"
JOB_STATES = (QUEUED, PRINTING, DONE, FAILED)

STARTING_STATUS = PrinterStatus(online=False, reachable=False, known=False)


@dataclass(frozen=True)
class JobInfo:
    """A snapshot of one print job."""

    id: str
    state: str
    error: str | None = None
    title: str = ""
    size_bytes: int | None = None
    attempts: int = 0
    submitted_at: float = 0.0
    finished_at: float | None = None


@dataclass(frozen=True)
class DeviceStatus:
    """What the printer said last, and what the driver is doing."""

    name: str
    state: DeviceState  # what the driver is doing
    printer: PrinterStatus
    queued: int
    since: float
    cause: str = ""  # why the link is down, as the transport said it (for administrators, not citizens)

    @property
    def device_state(self) -> DeviceState:
        """The state reported through ``on_state``: ``error`` while the printer reports a
        fault, even when the driver is ready or sending a job."""
        if self.printer.fault and self.state in (READY, BUSY):
            return ERROR
        return self.state

    @property
    def message_vi(self) -> str:
        if self.state == CLOSED:
            return "Máy in đã dừng"
        if self.state == CONNECTING:
            return "Đang kết nối máy in"
        if self.state == BUSY:
            return "Máy in đang in"
        return self.printer.message_vi


@dataclass
class Job:
    id: str
    doc: PrintDocument | None
    data: bytes | None
    title: str
    submitted: float  # monotonic
    submitted_wall: float
    state: str = QUEUED
    error: str | None = None
    attempts: int = 0
    size: int | None = None
    finished_wall: float | None = None

    def info(self) -> JobInfo:
        return JobInfo(
            id=self.id,
            state=self.state,
            error=self.error,
            title=self.title,
            size_bytes=self.size,
            attempts=self.attempts,
            submitted_at=self.submitted_wall,
            finished_at=self.finished_wall,
        )
