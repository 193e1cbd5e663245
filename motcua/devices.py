"""The device registry: owns every configured device and turns domain events into device jobs
(ticket issued -> print; ticket called -> LED board and keypad display; scans -> lookups).

Screens never touch devices: routes call this registry, which queues work on each device's
own object (its own thread) and returns at once. Device states reach staff, kiosks and the
admin as Socket.IO `device:status`; print jobs as `print:job`.
"""
from __future__ import annotations

import logging
import threading
import uuid
from datetime import datetime, timezone
from typing import Any, Callable

from sqlalchemy import update

from .store import tables as t

log = logging.getLogger(__name__)

# Device states every adapter reports (the drivers' own names map onto these).
READY, CONNECTING, BUSY, ERROR, LOST, CLOSED = "ready", "connecting", "busy", "error", "lost", "closed"
STATE_VI = {
    READY: "Sẵn sàng", CONNECTING: "Đang kết nối", BUSY: "Đang làm việc", ERROR: "Gặp sự cố",
    LOST: "Mất kết nối", CLOSED: "Đã dừng", "unsupported": "Chưa hỗ trợ",
}


class DeviceRegistry:
    def __init__(self, services: Any):
        self.services = services
        self.config = services.config
        self._lock = threading.Lock()
        self._status: dict[str, dict[str, Any]] = {}
        self._stoppers: list[Callable[[], None]] = []
        self.printer: Any = None
        self.printer_name = ""
        self._job_tickets: dict[str, int | None] = {}
        self.adapters: dict[str, Any] = {}

    # Life cycle -------------------------------------------------------------------------
    def start(self) -> None:
        for dev in self.config.devices:
            if dev.kind in ("kiosk", "display", "rating"):
                continue
            try:
                starter = getattr(self, f"_start_{dev.kind}", None)
                if starter is None:
                    self._set_status(dev.name, dev.kind, "unsupported", "Chưa hỗ trợ loại thiết bị này.")
                    continue
                starter(dev)
            except Exception as exc:  # noqa: BLE001 - a bad device never stops the office
                log.exception("device %s failed to start", dev.name)
                self._set_status(dev.name, dev.kind, ERROR, f"Không khởi động được: {exc}")

    def stop(self) -> None:
        for fn in reversed(self._stoppers):
            try:
                fn()
            except Exception:  # noqa: BLE001
                log.exception("device stop failed")
        self._stoppers.clear()

    # Status -------------------------------------------------------------------------------
    def _set_status(self, name: str, kind: str, state: str, detail: str = "", **extra: Any) -> None:
        body = {"name": name, "kind": kind, "state": state, "state_label": STATE_VI.get(state, state),
                "detail": detail, "at": datetime.now(timezone.utc).isoformat(timespec="seconds"), **extra}
        with self._lock:
            prev = self._status.get(name)
            self._status[name] = body
        if prev and all(prev.get(k) == body.get(k) for k in ("state", "detail")):
            return
        log.info("device %s (%s): %s %s", name, kind, state, detail)
        for audience in ("staff", "kiosks"):
            try:
                self.services.hub.emit("device:status", body, audience)
            except Exception:  # noqa: BLE001
                log.exception("device status emit failed")

    def summary(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._status.values())

    def status_of(self, name: str) -> dict[str, Any] | None:
        with self._lock:
            return self._status.get(name)

    # Printer --------------------------------------------------------------------------------
    def _start_printer(self, dev) -> None:
        from drivers.printer import TicketPrinter, get_profile

        if self.printer is not None:
            self._set_status(dev.name, dev.kind, "unsupported", "Chỉ dùng một máy in vé; thiết bị này bị bỏ qua.")
            return
        opts = dev.options
        profile = get_profile(str(opts.get("profile", "80mm")), force_raster=bool(opts.get("force_raster", False)))
        self.printer_name = dev.name

        def on_status(st) -> None:
            state = {"ready": READY, "busy": BUSY, "connecting": CONNECTING, "error": ERROR,
                     "closed": CLOSED}.get(st.state, st.state)
            fault = getattr(st.printer, "fault", False)
            if fault and state in (READY, BUSY):
                state = ERROR
            self._set_status(dev.name, "printer", state, st.message_vi, queued=st.queued)

        def on_job(job_id: str, state: str, error: str | None) -> None:
            self._job_changed(dev.name, job_id, state, error)

        self.printer = TicketPrinter(dev.url, profile, name=dev.name, on_status=on_status, on_job=on_job,
                                     job_timeout=float(opts.get("job_timeout", 30.0)))
        self._set_status(dev.name, "printer", CONNECTING, "Đang kết nối máy in")
        self.printer.start()
        self._stoppers.append(self.printer.stop)

    def printer_ok(self) -> tuple[bool, str]:
        if self.printer is None:
            return False, "Chưa cấu hình máy in."
        st = self.status_of(self.printer_name) or {}
        ok = st.get("state") in (READY, BUSY)
        return ok, st.get("detail") or ""

    def _job_changed(self, device: str, job_id: str, state: str, error: str | None) -> None:
        now = datetime.now(timezone.utc)
        try:
            with self.services.store.write() as conn:
                conn.execute(update(t.print_jobs).where(t.print_jobs.c.id == job_id)
                             .values(state=state, error=(error or "")[:300], updated_at=now))
        except Exception:  # noqa: BLE001
            log.exception("print job state not saved")
        ticket_id = self._job_tickets.get(job_id)
        if state in ("done", "failed"):
            self._job_tickets.pop(job_id, None)
        body = {"job_id": job_id, "ticket_id": ticket_id, "device": device, "state": state,
                "message": error or _JOB_VI.get(state, state)}
        for audience in ("kiosks", "staff"):
            self.services.hub.emit("print:job", body, audience)

    def _submit(self, doc, *, kind: str, ticket_id: int | None) -> dict[str, Any]:
        if self.printer is None:
            return {"job_id": None, "state": "failed", "message": "Chưa cấu hình máy in vé."}
        job_id = uuid.uuid4().hex[:20]
        now = datetime.now(timezone.utc)
        with self.services.store.write() as conn:
            conn.execute(t.print_jobs.insert().values(id=job_id, ticket_id=ticket_id, kind=kind,
                                                      device=self.printer_name, state="queued", error="",
                                                      created_at=now, updated_at=now))
        self._job_tickets[job_id] = ticket_id
        self.printer.submit(doc, job_id=job_id)
        ok, detail = self.printer_ok()
        out = {"job_id": job_id, "state": "queued", "printer_ok": ok,
               "message": "Đang in phiếu" if ok else (detail or "Máy in đang gặp sự cố")}
        return out

    def print_ticket(self, ticket: dict[str, Any], *, reprint: bool = False) -> dict[str, Any]:
        from .printing import ticket_document

        doc = ticket_document(self.config, ticket, reprint=reprint,
                              tz=self.services.engine.calendar.tz)
        return self._submit(doc, kind="reprint" if reprint else "ticket", ticket_id=ticket.get("id"))

    def print_checklist(self, procedure: dict[str, Any]) -> dict[str, Any]:
        from .printing import checklist_document

        return self._submit(checklist_document(self.config, procedure), kind="checklist", ticket_id=None)

    def simulate(self, name: str, *, fault: str | None, delay_s_per_kb: float | None = None) -> None:
        """Tell a simulated device to fail (or recover), through its real driver path."""
        if self.printer is not None and name == self.printer_name:
            vp = getattr(self.printer, "virtual_printer", None)
            if vp is None:
                raise KeyError(name)
            vp.set_fault(fault)
            if delay_s_per_kb is not None:
                vp.set_delay(delay_s_per_kb)
            return
        sim = getattr(self.adapters.get(name), "simulate", None)
        if sim is None:
            raise KeyError(name)
        sim(fault)

    def job_state(self, job_id: str) -> dict[str, Any] | None:
        if self.printer is None:
            return None
        info = self.printer.job(job_id)
        if info is None:
            return None
        return {"job_id": job_id, "state": info.state, "message": info.error or _JOB_VI.get(info.state, "")}


_JOB_VI = {"queued": "Đang chờ in", "printing": "Đang in", "done": "Đã in xong", "failed": "In không thành công"}

