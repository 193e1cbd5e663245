"""Print jobs: the `print_jobs` rows, the documents queued on the ticket printer, and each
job's progress published as `print:job`.

Nothing here waits for the printer: a job is a row and a document put in the printer's own
queue (its worker thread renders and sends it); progress comes back through the printer's
`on_job` callback. A ticket is printed when its `ticket:issued` event says so: the route asks
`plan()` for a job id first (no I/O), the engine carries it on the event (`local`), and
`on_ticket_issued` makes the job once the ticket is committed. The ticket's phone page (its
QR code) is the event's `url`; a `{token}` in it is replaced by the ticket's token.
"""
from __future__ import annotations

import logging
import threading
import uuid
from datetime import datetime, timezone
from typing import Any, Callable

from sqlalchemy import update

from drivers.printer import PrintDocument, TicketPrinter
from drivers.state import DeviceState

from ..events import PRINT_JOB, Event
from ..store import tables as t
from .documents import checklist_document, ticket_document

log = logging.getLogger(__name__)

JOB_VI = {"queued": "Đang chờ in", "printing": "Đang in", "done": "Đã in xong", "failed": "In không thành công"}
NO_PRINTER = "Chưa cấu hình máy in vé."
AUDIENCE = ("kiosks", "staff")


class PrintJobs:
    """The ticket printer's jobs. `status_of(name)` gives the printer's row of the status table."""

    def __init__(self, ctx: Any, status_of: Callable[[str], dict[str, Any] | None]):
        self.ctx = ctx
        self._status_of = status_of
        self.printer: TicketPrinter | None = None
        self.printer_name = ""
        self._lock = threading.Lock()
        self._tickets: dict[str, int | None] = {}  # job id -> ticket id, until the job ends

    def attach(self, printer: TicketPrinter, name: str) -> None:
        self.printer, self.printer_name = printer, name

    def detach(self) -> None:
        """The printer was removed or changed by a configuration change (reconfigure)."""
        self.printer, self.printer_name = None, ""

    # Planning (the route) ---------------------------------------------------------------
    def printer_ok(self) -> tuple[bool, str]:
        if self.printer is None:
            return False, "Chưa cấu hình máy in."
        st = self._status_of(self.printer_name) or {}
        ok = st.get("state") in (DeviceState.READY, DeviceState.BUSY)
        return ok, st.get("detail") or ""

    def plan(self) -> dict[str, Any]:
        """A job id and what the kiosk is told now, without any I/O: `{"job_id", "state":
        "queued", "printer_ok", "message"}`, or `{"job_id": None, "state": "failed", ...}`
        without a printer."""
        if self.printer is None:
            return {"job_id": None, "state": "failed", "message": NO_PRINTER}
        ok, detail = self.printer_ok()
        return {"job_id": uuid.uuid4().hex[:20], "state": "queued", "printer_ok": ok,
                "message": "Đang in phiếu" if ok else (detail or "Máy in đang gặp sự cố")}

    # Printing -----------------------------------------------------------------------------
    def on_ticket_issued(self, event: Event) -> None:
        """Bus subscriber: print the ticket when its event carries a print job."""
        job_id = event.local.get("print_job")
        ticket = event.local.get("ticket")
        if not job_id or not ticket:
            return
        if self.printer is None:
            log.warning("ticket %s: print job %s but no printer", ticket.get("number"), job_id)
            return
        url = ticket.get("url") or ""
        if "{token}" in url and ticket.get("token"):  # the route knows the address, not yet the token
            ticket = {**ticket, "url": url.replace("{token}", str(ticket["token"]))}
        doc = ticket_document(self.ctx.config, ticket, tz=self.ctx.engine.calendar.tz)
        self._queue(str(job_id), doc, kind="ticket", ticket_id=ticket.get("id"))

    def print_ticket(self, ticket: dict[str, Any], *, reprint: bool = False) -> dict[str, Any]:
        """Print (or reprint) a ticket now: queues it and returns the plan at once."""
        plan = self.plan()
        if plan["job_id"] is not None:
            doc = ticket_document(self.ctx.config, ticket, reprint=reprint, tz=self.ctx.engine.calendar.tz)
            self._queue(plan["job_id"], doc, kind="reprint" if reprint else "ticket", ticket_id=ticket.get("id"))
        return plan

    def print_checklist(self, procedure: dict[str, Any]) -> dict[str, Any]:
        plan = self.plan()
        if plan["job_id"] is not None:
            self._queue(plan["job_id"], checklist_document(self.ctx.config, procedure), kind="checklist",
                        ticket_id=None)
        return plan

    def _queue(self, job_id: str, doc: PrintDocument, *, kind: str, ticket_id: int | None) -> None:
        assert self.printer is not None
        now = datetime.now(timezone.utc)
        with self.ctx.store.write() as conn:
            conn.execute(t.print_jobs.insert().values(id=job_id, ticket_id=ticket_id, kind=kind,
                                                      device=self.printer_name, state="queued", error="",
                                                      created_at=now, updated_at=now))
        with self._lock:
            self._tickets[job_id] = ticket_id
        self.printer.submit(doc, job_id=job_id)

    # Progress (the printer's worker thread) -----------------------------------------------
    def on_job(self, job_id: str, state: str, error: str | None) -> None:
        now = datetime.now(timezone.utc)
        try:
            with self.ctx.store.write() as conn:
                conn.execute(update(t.print_jobs).where(t.print_jobs.c.id == job_id)
                             .values(state=state, error=(error or "")[:300], updated_at=now))
        except Exception:  # noqa: BLE001 - the job goes on; its row is only a record
            log.exception("print job state not saved")
        with self._lock:
            ticket_id = self._tickets.get(job_id)
            if state in ("done", "failed"):
                self._tickets.pop(job_id, None)
        body = {"job_id": job_id, "ticket_id": ticket_id, "device": self.printer_name, "state": state,
                "message": error or JOB_VI.get(state, state)}
        self.ctx.bus.emit(PRINT_JOB, body, AUDIENCE)

    def job_state(self, job_id: str) -> dict[str, Any] | None:
        if self.printer is None:
            return None
        info = self.printer.job(job_id)
        if info is None:
            return None
        return {"job_id": job_id, "state": info.state, "message": info.error or JOB_VI.get(info.state, "")}
