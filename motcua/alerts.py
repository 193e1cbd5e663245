"""Service-level alerts: a wait over its field's threshold, a counter paused too long, a ticket
printer out of paper.

`AlertMonitor` (one per app, `install_alerts`) decides which alerts hold now and keeps the
``alerts`` table in step: an alert that starts gets a row (``started_at``), one that no longer
holds gets its ``ended_at``. Each change goes on the bus as ``alert:changed`` (audience
``staff`` and ``admins``), with the list of alerts open now, so the counter overview and the
admin home show them live (admin/static/reports-alerts.js).

- Waits and pauses come from the office overview read model (`QueueViews.office_overview`:
  the oldest waiting ticket of each field, counted from when it was taken; each counter's
  pause), checked every ``[alerts] check_interval_s`` by a background loop, and at once when
  asked (`check`).
- Printers report through the bus (``device:status``, kind ``printer``, the driver's sentence
  "Máy in hết giấy"): the monitor follows them as they come; an open paper alert ends only
  when that printer reports something else (after a restart it stays open until it does).
- Thresholds: ``[alerts]`` in the office file (config/schema.py `AlertsConfig`).

Several processes may each run a monitor: the open row of an alert is looked for inside the
write transaction that would add it, so a second process finds it and adds none.
"""
from __future__ import annotations

import logging
import threading
from datetime import datetime, timedelta
from typing import Any, Callable

from sqlalchemy import select, update

from .events import ALERT_CHANGED, DEVICE_STATUS, Event
from .store import tables as t

log = logging.getLogger(__name__)

__all__ = ["AUDIENCE", "KIND_LABELS_VI", "AlertMonitor", "install_alerts", "minutes_vi"]

AUDIENCE = ("staff", "admins")
KIND_LABELS_VI = {
    "wait_long": "Chờ quá lâu",
    "counter_paused": "Quầy tạm dừng quá lâu",
    "printer_paper": "Máy in hết giấy",
}


def minutes_vi(seconds: float | None) -> str:
    """A duration in words: "45 giây", "35 phút", "1 giờ 5 phút"."""
    if seconds is None:
        return ""
    s = max(0, int(round(seconds)))
    if s < 60:
        return f"{s} giây"
    m = s // 60
    if m < 60:
        return f"{m} phút"
    return f"{m // 60} giờ" + (f" {m % 60} phút" if m % 60 else "")


def _threshold_vi(minutes: float) -> str:
    return f"{minutes:g} phút".replace(".", ",")


def _paper_out(status: dict[str, Any]) -> bool:
    detail = str(status.get("detail") or "").casefold()
    return "hết giấy" in detail and "sắp hết giấy" not in detail


class AlertMonitor:
    def __init__(self, store: Any, bus: Any, *, config: Callable[[], Any], overview: Callable[[], dict],
                 clock: Callable[[], datetime], tz: Any) -> None:
        self.store = store
        self.bus = bus
        self._config = config
        self._overview = overview
        self.clock = clock
        self.tz = tz
        self._lock = threading.Lock()  # one reconciliation at a time in this process
        self._printers: dict[str, bool] = {}  # printer name -> out of paper (as last reported)
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._unsubscribe = bus.subscribe(self._on_device, names=[DEVICE_STATUS], label="alerts")

    # Life cycle ------------------------------------------------------------------------------
    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="motcua-alerts", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._unsubscribe()
        self._stop.set()
        self._wake.set()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.check()
            except Exception:  # noqa: BLE001 - keep the loop alive
                log.exception("alert check failed")
            self._wake.wait(self._config().alerts.check_interval_s)
            self._wake.clear()

    def _on_device(self, event: Event) -> None:
        body = dict(event.payload)
        if body.get("kind") != "printer" or not body.get("name"):
            return
        with self._lock:
            self._printers[str(body["name"])] = _paper_out(body)
        if self._thread is not None:
            self._wake.set()  # the loop reconciles (the device's own thread goes on)
        else:
            self.check()

    # What holds now ------------------------------------------------------------------------
    def _wanted(self) -> tuple[dict[tuple[str, str], tuple[str, dict]], set[tuple[str, str]]]:
        """(alerts that hold now: (kind, subject) -> (message, detail), the (kind, subject)
        pairs this check knows about: an open alert outside them is left as it is)."""
        cfg = self._config()
        rules = cfg.alerts
        wanted: dict[tuple[str, str], tuple[str, dict]] = {}
        known: set[tuple[str, str]] = set()
        if not rules.enabled:
            return wanted, {("*", "*")}
        ov = self._overview()
        for f in ov.get("services", []):
            key = ("wait_long", f["code"])
            known.add(key)
            limit = float(rules.wait_max_min_by_field.get(f["code"], rules.wait_max_min))
            age = f.get("oldest_wait_s")
            if f.get("waiting") and age is not None and age > limit * 60:
                wanted[key] = (f"Lĩnh vực {f['name']}: có công dân chờ quá {_threshold_vi(limit)}.",
                               {"field": f["code"], "wait_s": age, "threshold_min": limit})
        for c in ov.get("counters", []):
            key = ("counter_paused", str(c["number"]))
            known.add(key)
            age = c.get("paused_for_s")
            if c.get("paused") and age is not None and age > rules.pause_max_min * 60:
                reason = f" Lý do: {c['pause_reason']}." if c.get("pause_reason") else ""
                wanted[key] = (f"{c['name']} tạm dừng quá {_threshold_vi(rules.pause_max_min)}.{reason}",
                               {"counter": c["number"], "paused_s": age, "threshold_min": rules.pause_max_min})
        with self._lock:
            printers = dict(self._printers)
        for name, out in printers.items():
            key = ("printer_paper", name)
            known.add(key)
            if out and rules.printer_paper:
                wanted[key] = (f"Máy in {name} hết giấy: hãy thay cuộn giấy mới.", {"device": name})
        return wanted, known

    def check(self) -> list[dict[str, Any]]:
        """Open the alerts that now hold, end those that no longer do; publish each change.
        Returns the changes (``{"change": "started"|"ended", "alert": ...}``)."""
        wanted, known = self._wanted()
        everything = ("*", "*") in known
        changes: list[dict[str, Any]] = []
        with self._lock:
            now = self.clock()
            a = t.alerts.c
            with self.store.write() as conn:
                open_rows = {(r.kind, r.subject): r for r in conn.execute(select(t.alerts).where(a.ended_at.is_(None)))}
                for key, row in open_rows.items():
                    if key not in wanted and (everything or key in known):
                        conn.execute(update(t.alerts).where(a.id == row.id, a.ended_at.is_(None)).values(ended_at=now))
                        changes.append({"change": "ended", "alert": self._json(row, ended_at=now)})
                for (kind, subject), (message, detail) in wanted.items():
                    if (kind, subject) in open_rows:
                        continue
                    new_id = conn.execute(t.alerts.insert().values(
                        kind=kind, subject=subject, message=message[:300], started_at=now, ended_at=None,
                        detail=detail)).inserted_primary_key[0]
                    row = conn.execute(select(t.alerts).where(a.id == new_id)).one()
                    changes.append({"change": "started", "alert": self._json(row)})
        if changes:
            active = self.active()
            for change in changes:
                log.info("alert %s: %s", change["change"], change["alert"]["message"])
                self.bus.emit(ALERT_CHANGED, {**change, "active": active}, AUDIENCE)
        return changes

    # Reading ---------------------------------------------------------------------------------
    def _local(self, at: datetime | None) -> str | None:
        return None if at is None else at.astimezone(self.tz).isoformat(timespec="seconds")

    def _json(self, row: Any, *, ended_at: datetime | None = None) -> dict[str, Any]:
        ended = ended_at or row.ended_at
        now = self.clock()
        return {"id": row.id, "kind": row.kind, "kind_label": KIND_LABELS_VI.get(row.kind, row.kind),
                "subject": row.subject, "message": row.message, "started_at": self._local(row.started_at),
                "ended_at": self._local(ended), "active": ended is None,
                "duration_s": int(((ended or now) - row.started_at).total_seconds()),
                "duration_label": minutes_vi(((ended or now) - row.started_at).total_seconds())}

    def active(self) -> list[dict[str, Any]]:
        a = t.alerts.c
        with self.store.read() as conn:
            rows = conn.execute(select(t.alerts).where(a.ended_at.is_(None)).order_by(a.started_at, a.id)).all()
        return [self._json(r) for r in rows]

    def history(self, *, limit: int = 50, days: int | None = None) -> list[dict[str, Any]]:
        """The latest alerts (open and ended), newest first; *days*: only those started in the
        last *days* days."""
        a = t.alerts.c
        q = select(t.alerts).order_by(a.started_at.desc(), a.id.desc()).limit(limit)
        if days is not None:
            q = q.where(a.started_at >= self.clock() - timedelta(days=days))
        with self.store.read() as conn:
            rows = conn.execute(q).all()
        return [self._json(r) for r in rows]


def install_alerts(services: Any) -> Callable[[], None]:
    """Build the app's monitor (``app.extensions["motcua.alerts"]``), start its loop when the
    app runs background jobs; returns its stop."""
    engine = services.engine
    monitor = AlertMonitor(services.store, services.bus, config=lambda: services.config,
                           overview=engine.views.office_overview, clock=engine.clock, tz=engine.calendar.tz)
    services.alerts = monitor
    if services.settings.background_jobs:
        monitor.start()
    return monitor.stop
