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
from concurrent.futures import ThreadPoolExecutor
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
        self.sims: dict[str, Any] = {}  # simulated twins started for `sim://` devices
        self._keypads: list[tuple[Any, dict[int, int]]] = []  # (bus, {address: counter})
        self._boards: list[tuple[Any, dict[int, int]]] = []  # (bus, {unit: counter})
        self._rating_boxes: list[tuple[Any, dict[int, int]]] = []
        self._shown: dict[tuple[str, int], Any] = {}
        self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="motcua-device-action")
        self._timers: dict[tuple[str, int], threading.Timer] = {}
        self._units: dict[str, list[int]] = {}  # device name -> addresses/units on its bus

    # Life cycle -------------------------------------------------------------------------
    def start(self) -> None:
        self.services.engine.add_listener(self._on_notifications)
        self.services.hub.states.add_listener(self._show_counters)
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
        if self._keypads or self._boards:
            try:  # boards and keypads show what each counter serves now (after a restart too)
                self._show_counters(self.services.engine.public_state())
            except Exception:  # noqa: BLE001
                log.exception("showing the counters on start failed")

    def stop(self) -> None:
        for timer in list(self._timers.values()):
            timer.cancel()
        self._pool.shutdown(wait=False, cancel_futures=True)
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
        if self.printer is None:
            return self._submit(None, kind="ticket", ticket_id=ticket.get("id"))
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
        sim = self.sims.get(name)
        if sim is None:
            raise KeyError(name)
        if fault == "offline":
            sim.unplug()
        elif fault is None:
            sim.replug()
        else:
            raise ValueError(fault)

    def simulate_action(self, name: str, action: str, **kw: Any) -> None:
        """Act on a simulated twin as a person would: press a key, rate, scan a code."""
        sim = self.sims.get(name)
        if sim is None:
            raise KeyError(name)
        if action == "press" and "key" in kw:
            sim.press(int(kw["address"]), str(kw["key"]))
        elif action == "press" and "level" in kw:
            sim.press(int(kw["address"]), str(kw["level"]))
        elif action == "scan":
            sim.scan(str(kw["code"]))
        else:
            raise ValueError(action)

    def job_state(self, job_id: str) -> dict[str, Any] | None:
        if self.printer is None:
            return None
        info = self.printer.job(job_id)
        if info is None:
            return None
        return {"job_id": job_id, "state": info.state, "message": info.error or _JOB_VI.get(info.state, "")}


    # Serial devices and cameras --------------------------------------------------------------
    def _url_for(self, dev, make_sim: Callable[[], Any]) -> str:
        """A `sim://` device gets its simulated twin, speaking the same bytes over loopback."""
        if dev.url.startswith("sim://"):
            sim = make_sim()
            sim.start()
            self.sims[dev.name] = sim
            self._stoppers.append(sim.stop)
            return sim.url
        return serial_url(dev.url)[0]

    def _line(self, dev) -> dict[str, Any]:
        """Line settings written in a port path's query, e.g. /dev/ttyUSB0?baudrate=19200&parity=E."""
        return {} if dev.url.startswith("sim://") else serial_url(dev.url)[1]

    def _state_cb(self, dev, kind: str) -> Callable[[str, str, str], None]:
        amap = self._address_map(dev) if (dev.counters or dev.counter is not None) else {}

        def on_state(name: str, state: str, detail: str) -> None:
            if name == dev.name or ":" not in name:
                self._set_status(dev.name, kind, state, detail)
            else:  # one device on a bus, e.g. "keypads:keypad:3": tell which counter it serves
                address = name.rsplit(":", 1)[-1]
                counter = amap.get(int(address)) if address.isdigit() else None
                self._set_status(f"{dev.name}/{address}", kind, state, detail, bus=dev.name, counter=counter)
        return on_state

    def _address_map(self, dev) -> dict[int, int]:
        if dev.counters:
            return {int(a): int(c) for a, c in dev.counters.items()}
        if dev.counter is not None:
            return {1: dev.counter}
        raise ValueError("cần 'counters' (địa chỉ -> số quầy) hoặc 'counter'")

    def _toggle_pause(self, counter: int) -> None:
        """The keypad's pause key: pause the counter (no new calls to it, the screens say so),
        or open it again when it is paused."""
        eng = self.services.engine
        if eng.counter_view(counter)["counter"]["paused"]:
            eng.unpause_counter(counter)
        else:
            eng.pause_counter(counter, reason="Tạm dừng từ bàn phím quầy")

    def _keypad_transfer(self, counter: int) -> None:
        """The transfer key: the citizen being served goes to the counter's configured
        `keypad_transfer` field, keeping the number (a keypad cannot choose a target)."""
        from .queue import QueueError

        ccfg = self.config.counter(counter)
        target = ccfg.keypad_transfer if ccfg is not None else ""
        if not target:
            raise QueueError("no_keypad_transfer", f"Quầy {counter} chưa cấu hình nơi chuyển bằng bàn phím "
                             "(keypad_transfer); hãy chuyển trên màn hình quầy.", 409)
        self.services.engine.transfer(counter, field_code=target)

    def _start_keypad(self, dev) -> None:
        from drivers.serialdev import KeypadBus
        from drivers.serialdev.sim import SimKeypads

        amap = self._address_map(dev)
        self._units[dev.name] = sorted(amap)
        url = self._url_for(dev, lambda: SimKeypads(sorted(amap)))
        bus = KeypadBus(url, sorted(amap), name=dev.name, **self._line(dev), on_state=self._state_cb(dev, "keypad"),
                        on_key=lambda address, key: self._pool.submit(self._keypad_key, dev.name, amap, address, key))
        self.adapters[dev.name] = bus
        self._keypads.append((bus, amap))
        bus.start()
        self._stoppers.append(bus.stop)

    def _keypad_key(self, name: str, amap: dict[int, int], address: int, key: str) -> None:
        from .queue import QueueError

        counter = amap.get(address)
        if counter is None:
            log.warning("%s: key from unknown keypad %s", name, address)
            return
        eng = self.services.engine
        actions = {"call_next": eng.call_next, "recall": eng.recall, "no_show": eng.skip, "finish": eng.finish,
                   "pause": self._toggle_pause, "transfer": self._keypad_transfer}
        fn = actions.get(key)
        if fn is None:
            log.info("%s: key %s at counter %s has no action", name, key, counter)
            return
        try:
            fn(counter)
        except QueueError as exc:
            log.info("%s: %s at counter %s refused: %s", name, key, counter, exc.message)
        except Exception:  # noqa: BLE001
            log.exception("%s: %s at counter %s failed", name, key, counter)

    def _start_led(self, dev) -> None:
        from drivers.serialdev import LedBoardBus
        from drivers.serialdev.sim import SimAsciiBoards, SimModbusBoards

        amap = self._address_map(dev)
        self._units[dev.name] = sorted(amap)
        protocol = str(dev.options.get("protocol", "modbus"))
        make = (lambda: SimModbusBoards(sorted(amap))) if protocol == "modbus" else (lambda: SimAsciiBoards(sorted(amap)))
        url = self._url_for(dev, make)
        bus = LedBoardBus(url, protocol, units=sorted(amap), name=dev.name, **self._line(dev), on_state=self._state_cb(dev, "led"))
        self.adapters[dev.name] = bus
        self._boards.append((bus, amap))
        bus.start()
        self._stoppers.append(bus.stop)

    def _start_rating_box(self, dev) -> None:
        from drivers.serialdev import RatingBoxBus
        from drivers.serialdev.sim import SimRatingBoxes

        amap = self._address_map(dev)
        self._units[dev.name] = sorted(amap)
        url = self._url_for(dev, lambda: SimRatingBoxes(sorted(amap)))
        bus = RatingBoxBus(url, sorted(amap), name=dev.name, **self._line(dev), on_state=self._state_cb(dev, "rating_box"),
                           on_rating=lambda address, level: self._pool.submit(self._box_rating, dev.name, amap,
                                                                              address, level))
        self.adapters[dev.name] = bus
        self._rating_boxes.append((bus, amap))
        bus.start()
        self._stoppers.append(bus.stop)

    def _box_rating(self, name: str, amap: dict[int, int], address: int, level: str) -> None:
        from .queue import QueueError
        from .ratings import record_rating

        counter = amap.get(address)
        if counter is None:
            return
        try:
            record_rating(self.services, counter=counter, level=level, source=f"rating_box:{name}")
        except QueueError as exc:
            log.info("%s: rating at counter %s refused: %s", name, counter, exc.message)
        finally:
            self._close_prompt(name, address)

    def _start_scanner(self, dev) -> None:
        from drivers.serialdev import SerialScanner
        from drivers.serialdev.sim import SimScanner

        url = self._url_for(dev, lambda: SimScanner())
        sc = SerialScanner(url, name=dev.name, **self._line(dev), on_state=self._state_cb(dev, "scanner"),
                           on_code=lambda code: self._pool.submit(self.handle_scan, code, dev.name))
        self.adapters[dev.name] = sc
        sc.start()
        self._stoppers.append(sc.stop)

    def _start_camera(self, dev) -> None:
        from drivers.camera import CameraScanner

        def on_state(state, detail: str) -> None:
            self._set_status(dev.name, "camera", str(state), detail)

        syms = dev.options.get("symbologies") or ("code128", "qrcode")
        cam = CameraScanner(dev.url, on_code=lambda code, _sym: self._pool.submit(self.handle_scan, code, dev.name),
                            on_state=on_state, symbologies=tuple(syms))
        self.adapters[dev.name] = cam
        cam.start()
        self._stoppers.append(cam.stop)

    def handle_scan(self, text: str, source: str) -> None:
        """A scanner or camera read a code: look the dossier up and tell the kiosks."""
        from .dossiers.codes import extract_code

        code = extract_code(text)
        if code is None:
            log.info("%s read %r: not a dossier code", source, text[:80])
            self.services.hub.emit("kiosk:scan", {"code": None, "text": text[:200], "dossier": None,
                                                  "source": source}, "kiosks")
            return
        dossier = None
        try:
            from . import dossiers_store

            dossier = dossiers_store.public_view(self.services, code)
        except (ImportError, AttributeError):
            log.warning("dossier look-up is not available")
        except Exception:  # noqa: BLE001
            log.exception("dossier look-up failed")
        self.services.hub.emit("kiosk:scan", {"code": code, "dossier": dossier, "source": source}, "kiosks")

    # Domain events -> device jobs -------------------------------------------------------------
    def _on_notifications(self, notes: list[Any]) -> None:
        for n in notes:
            if n.name == "ticket:finished" and n.payload.get("ticket", {}).get("status") == "done":
                self._open_prompts(int(n.payload.get("counter") or 0))

    def _show_counters(self, state: dict[str, Any]) -> None:
        waiting = {s["code"]: s["waiting"] for s in state.get("services", [])}
        by_counter = {c["number"]: c for c in state.get("counters", [])}
        for bus, amap in self._keypads:
            for address, counter in amap.items():
                c = by_counter.get(counter)
                if c is None:
                    continue
                number = c["serving"]["number"] if c.get("serving") else ""
                count = sum(waiting.get(f, 0) for f in c["fields"])
                key = (bus.name, address)
                if self._shown.get(key) != (number, count):
                    self._shown[key] = (number, count)
                    bus.show(address, number, count)
        for bus, amap in self._boards:
            for unit, counter in amap.items():
                c = by_counter.get(counter)
                if c is None or not c.get("serving"):
                    continue  # a board keeps showing the last number until the next call
                number = c["serving"]["number"]
                key = (bus.name, unit)
                if self._shown.get(key) != number:
                    self._shown[key] = number
                    bus.show(unit, number)

    def _open_prompts(self, counter: int) -> None:
        for bus, amap in self._rating_boxes:
            for address, c in amap.items():
                if c != counter:
                    continue
                bus.prompt(address, True)
                key = (bus.name, address)
                old = self._timers.pop(key, None)
                if old:
                    old.cancel()
                timer = threading.Timer(RATING_PROMPT_S, self._close_prompt, args=(bus.name, address))
                timer.daemon = True
                self._timers[key] = timer
                timer.start()

    def _close_prompt(self, bus_name: str, address: int) -> None:
        timer = self._timers.pop((bus_name, address), None)
        if timer:
            timer.cancel()
        for bus, _amap in self._rating_boxes:
            if bus.name == bus_name:
                bus.prompt(address, False)

    def simulated_state(self, name: str) -> dict[str, Any]:
        sim = self.sims.get(name)
        if sim is None:
            raise KeyError(name)
        out: dict[str, Any] = {"name": name, "url": sim.url}
        for attr, label in (("display", "displays"), ("value", "values"), ("text", "texts"), ("is_open", "open")):
            fn = getattr(sim, attr, None)
            if callable(fn):
                units = self._units.get(name, [])
                try:
                    out[label] = {str(u): fn(u) for u in units}
                except Exception:  # noqa: BLE001
                    pass
        return out


def serial_url(url: str) -> tuple[str, dict[str, Any]]:
    """Split a device path's query into pyserial line settings. pyserial's own URL schemes
    (socket://, rfc2217://, loop://, spy://) keep their query untouched."""
    from urllib.parse import parse_qsl

    if "://" in url or "?" not in url:
        return url, {}
    path, _, query = url.partition("?")
    out: dict[str, Any] = {}
    for key, value in parse_qsl(query):
        if key in ("baudrate", "bytesize", "stopbits"):
            out[key] = int(value) if key != "stopbits" else float(value) if "." in value else int(value)
        elif key == "parity":
            out[key] = value.upper()[:1]
        else:
            raise ValueError(f"thiết lập cổng nối tiếp không hỗ trợ: {key!r} (dùng baudrate, bytesize, parity, stopbits)")
    return path, out


RATING_PROMPT_S = 30.0  # how long a rating box stays lit after a visit finishes

_JOB_VI = {"queued": "Đang chờ in", "printing": "Đang in", "done": "Đã in xong", "failed": "In không thành công"}

