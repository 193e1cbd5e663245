"""The devices of this PC, started from the configuration the server gives (or the last one
kept, when the server is down at start), through the same drivers the server uses.

Every driver reports through `on_state(name, state, detail)` (drivers/state.py); key presses,
ratings and codes read go to `on_input`. URLs may be replaced on this PC (`--device
NAME=URL`), e.g. `win32://` for the installed Windows printer (win32.py).

While the link to the server is down (`set_link`), a key press or a code read is dropped: sent
minutes later it would call a citizen, or open a dossier on the kiosk, when nobody expects it.
A rating is kept (at most `agentproto.KEEP_RATING_S`) and sent once the link is back with its
age (`age_s`), so the server rates the visit the box was lit for (docs/agents.md).
"""
from __future__ import annotations

import logging
import threading
import time
from typing import Any, Callable

import agentproto as proto
from drivers.camera import CameraScanner
from drivers.printer import BigText, Cut, Feed, PrintDocument, QRCode, Rule, Text, TicketPrinter, get_profile
from drivers.serialdev import KeypadBus, LedBoardBus, RatingBoxBus, SerialScanner
from drivers.serialdev.sim import act_on_twin, twin_state

log = logging.getLogger(__name__)

OnState = Callable[..., None]  # (device, kind, state, detail, unit on its bus or "", cause=why it is down or "")
OnInput = Callable[[dict[str, Any]], None]
OnJob = Callable[[str, str, "str | None"], None]
LINK_WATCH_S = 0.25


def document_from_wire(title: str, blocks: list[dict[str, Any]]) -> PrintDocument:
    """The protocol's JSON blocks (agentproto.check_blocks) as a print document."""
    out: list[Any] = []
    for b in blocks:
        kind = b["t"]
        if kind == "text":
            out.append(Text(b["text"], size=b.get("size", "normal"), bold=bool(b.get("bold")),
                            align=b.get("align", "center")))
        elif kind == "big":
            out.append(BigText(b["text"]))
        elif kind == "qr":
            out.append(QRCode(b["data"], module_size=int(b.get("module_size", 6)), align=b.get("align", "center")))
        elif kind == "rule":
            out.append(Rule())
        elif kind == "feed":
            out.append(Feed(int(b.get("lines", 1))))
        elif kind == "cut":
            out.append(Cut())
    return PrintDocument(blocks=out, title=title)


def _amap(dev: dict[str, Any]) -> dict[int, int]:
    if dev.get("counters"):
        return {int(a): int(c) for a, c in dev["counters"].items()}
    if dev.get("counter") is not None:
        return {1: int(dev["counter"])}
    return {}


class Hardware:
    def __init__(self, on_state: OnState, on_input: OnInput, on_job: OnJob, overrides: dict[str, str] | None = None):
        self.on_state, self.on_input, self.on_job = on_state, on_input, on_job
        self.overrides = overrides or {}
        self.printer: TicketPrinter | None = None
        self.printer_name = ""
        self.buses: dict[str, Any] = {}
        self.kinds: dict[str, str] = {}
        self.config: list[dict[str, Any]] = []
        self._link_up: Callable[[], bool] | None = None
        self._kept: list[tuple[float, dict[str, Any]]] = []  # (monotonic time pressed, rating) while offline
        self._kept_lock = threading.Lock()
        self._last_states: dict[tuple[str, str], tuple[str, str, str, str]] = {}  # -> (kind, state, detail, cause)

    def running(self) -> bool:
        return bool(self.kinds)

    def start(self, devices: list[dict[str, Any]]) -> None:
        """Start the devices (a new configuration restarts them; the same one keeps them)."""
        if devices == self.config and self.running():
            return
        self.stop()
        with self._kept_lock:
            self._last_states.clear()
        self.config = devices
        for dev in devices:
            try:
                self._start(dev)
            except Exception as exc:  # noqa: BLE001 - a bad device never stops the others
                log.exception("device %s failed to start", dev.get("name"))
                self._report(dev["name"], dev.get("kind", ""), "error", f"Không khởi động được: {exc}", "")

    def _state_cb(self, dev: dict[str, Any]) -> Callable[[str, Any, str], None]:
        def cb(name: str, state: Any, detail: str) -> None:
            # A unit on a bus reports as "<bus>:<kind>:<address>" (drivers/state.py).
            unit = name.rsplit(":", 1)[-1] if ":" in name and name != dev["name"] else ""
            status = getattr(self.buses.get(dev["name"]), "status", None)  # a printer says why its link is down
            cause = getattr(status(), "cause", "") if callable(status) else ""  # "" while the link is open
            self._report(dev["name"], dev["kind"], str(state), detail, unit, cause)
        return cb

    def _start(self, dev: dict[str, Any]) -> None:
        name, kind = dev["name"], dev["kind"]
        url = self.overrides.get(name) or dev.get("url") or ""
        opts = dev.get("options") or {}
        self.kinds[name] = kind
        if kind == "printer":
            transport = None
            if url.startswith("win32:"):
                from .win32 import Win32Transport  # Windows only: imported when asked for

                transport = Win32Transport(url)
            profile = get_profile(opts.get("profile", "80mm"), force_raster=bool(opts.get("force_raster")))
            printer = TicketPrinter(url, profile, name=name, on_state=self._state_cb(dev), on_job=self.on_job,
                                    job_timeout=float(opts.get("job_timeout", 30)), transport=transport)
            self.printer, self.printer_name = printer, name
            self.buses[name] = printer
            printer.start()
            return
        amap = _amap(dev)
        if kind == "keypad":
            bus: Any = KeypadBus(url, sorted(amap), name=name, on_state=self._state_cb(dev),
                                 on_key=lambda a, k: self._input({"device": name, "action": "key", "address": a,
                                                                    "key": k}))
        elif kind == "led":
            bus = LedBoardBus(url, opts.get("protocol", "modbus"), units=sorted(amap), name=name,
                              on_state=self._state_cb(dev))
        elif kind == "rating_box":
            bus = RatingBoxBus(url, sorted(amap), name=name, on_state=self._state_cb(dev),
                               on_rating=lambda a, lv: self._input({"device": name, "action": "rating",
                                                                      "address": a, "level": lv}))
        elif kind == "scanner":
            bus = SerialScanner(url, name=name, on_state=self._state_cb(dev),
                                on_code=lambda code: self._input({"device": name, "action": "scan", "code": code}))
        elif kind == "camera":
            bus = CameraScanner(url, name=name, on_state=self._state_cb(dev),
                                on_code=lambda code, _sym: self._input({"device": name, "action": "scan",
                                                                          "code": code}),
                                symbologies=tuple(opts.get("symbologies") or ("code128", "qrcode")))
        else:
            self._report(name, kind, "error", "Máy trạm chưa hỗ trợ loại thiết bị này.", "")
            return
        self.buses[name] = bus
        bus.start()

    # The link: input while it is down, states when it is back -----------------------------------
    def set_link(self, is_up: Callable[[], bool]) -> None:
        """How to know whether the server link is up (the agent's `linked`). Without it every
        input is handed on at once. With it: while the link is down, key presses and codes read
        are dropped, ratings kept; when it is back, the kept ratings are sent with their age and
        every device's state is told again (a state that changed while the link was being set
        up would otherwise never reach the server)."""
        self._link_up = is_up
        threading.Thread(target=self._watch_link, name="agent-link-watch", daemon=True).start()

    def _input(self, body: dict[str, Any]) -> None:
        if self._link_up is None or self._link_up():
            self.on_input(body)
            return
        if body.get("action") != "rating":
            log.warning("link to the server is down: %s on %s dropped", body.get("action"), body.get("device"))
            return
        with self._kept_lock:
            self._kept.append((time.monotonic(), body))
            del self._kept[:-proto.KEEP_RATINGS]
        log.info("link to the server is down: rating on %s kept", body.get("device"))

    def _watch_link(self) -> None:
        was_up = False
        while True:
            time.sleep(LINK_WATCH_S)
            up = bool(self._link_up and self._link_up())
            if up and not was_up:
                with self._kept_lock:
                    states = list(self._last_states.items())
                for (name, unit), (kind, state, detail, cause) in states:
                    self.on_state(name, kind, state, detail, unit, cause)
            was_up = up
            if up:
                self._send_kept()

    def _send_kept(self) -> None:
        with self._kept_lock:
            kept, self._kept = self._kept, []
        now = time.monotonic()
        for pressed, body in kept:
            age = now - pressed
            if age > proto.KEEP_RATING_S:
                log.info("rating on %s kept too long (%.0f s): dropped", body.get("device"), age)
                continue
            self.on_input({**body, "age_s": round(age, 1)})

    def _report(self, name: str, kind: str, state: str, detail: str, unit: str, cause: str = "") -> None:
        with self._kept_lock:
            self._last_states[(name, unit)] = (kind, state, detail, cause)
        self.on_state(name, kind, state, detail, unit, cause)

    def stop(self) -> None:
        for name, bus in list(self.buses.items()):
            try:
                bus.stop()
            except Exception:  # noqa: BLE001
                log.exception("stopping %s failed", name)
        self.buses.clear()
        self.kinds.clear()
        self.printer, self.printer_name = None, ""

    # Work from the server ------------------------------------------------------------------
    def print(self, job_id: str, doc: PrintDocument) -> bool:
        if self.printer is None:
            return False
        self.printer.submit(doc, job_id=job_id)
        return True

    def call(self, device: str, method: str, args: list[Any]) -> None:
        """An LED board's or keypad's display, a rating box's light (only these methods)."""
        bus = self.buses.get(device)
        if bus is None or method not in ("show", "prompt") or not hasattr(bus, method):
            return
        getattr(bus, method)(*args)

    def simulate_action(self, device: str, action: str, kw: dict[str, Any]) -> str | None:
        """A person at a simulated twin (press a key or a button, scan a code); the error in
        Vietnamese, or None when done."""
        sim = getattr(self.buses.get(device), "simulator", None)
        if sim is None:
            return "không phải thiết bị mô phỏng"
        try:
            act_on_twin(sim, action, **kw)
        except (ValueError, TypeError, KeyError):
            return f"thiết bị không có thao tác {action!r} với {sorted(kw)}"
        return None

    def simulated_state(self, device: str) -> dict[str, Any] | None:
        """What a simulated twin shows (None: not a twin)."""
        sim = getattr(self.buses.get(device), "simulator", None)
        if sim is None:
            return None
        dev = next((d for d in self.config if d.get("name") == device), {})
        return {"url": getattr(sim, "url", ""), **twin_state(sim, sorted(_amap(dev)))}

    def simulate(self, device: str, fault: str | None) -> bool:
        """A simulated twin fails or recovers (tests, trying without hardware)."""
        bus = self.buses.get(device)
        if bus is None:
            return False
        vp = getattr(bus, "virtual_printer", None)
        if vp is not None:
            vp.set_fault(fault)
            return True
        sim = getattr(bus, "simulator", None)
        if sim is None:
            return False
        if fault is None:
            sim.replug()
        else:
            sim.unplug()
        return True
