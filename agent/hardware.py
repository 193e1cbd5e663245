"""The devices of this PC, started from the configuration the server gives (or the last one
kept, when the server is down at start), through the same drivers the server uses.

Every driver reports through `on_state(name, state, detail)` (drivers/state.py); key presses,
ratings and codes read go to `on_input`. URLs may be replaced on this PC (`--device
NAME=URL`), e.g. `win32://` for the installed Windows printer (win32.py).
"""
from __future__ import annotations

import logging
from typing import Any, Callable

from drivers.camera import CameraScanner
from drivers.printer import BigText, Cut, Feed, PrintDocument, QRCode, Rule, Text, TicketPrinter, get_profile
from drivers.serialdev import KeypadBus, LedBoardBus, RatingBoxBus, SerialScanner

log = logging.getLogger(__name__)

OnState = Callable[[str, str, str, str, str], None]  # (device, kind, state, detail, unit on its bus or "")
OnInput = Callable[[dict[str, Any]], None]
OnJob = Callable[[str, str, "str | None"], None]


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

    def running(self) -> bool:
        return bool(self.kinds)

    def start(self, devices: list[dict[str, Any]]) -> None:
        """Start the devices (a new configuration restarts them; the same one keeps them)."""
        if devices == self.config and self.running():
            return
        self.stop()
        self.config = devices
        for dev in devices:
            try:
                self._start(dev)
            except Exception as exc:  # noqa: BLE001 - a bad device never stops the others
                log.exception("device %s failed to start", dev.get("name"))
                self.on_state(dev["name"], dev.get("kind", ""), "error", f"Không khởi động được: {exc}", "")

    def _state_cb(self, dev: dict[str, Any]) -> Callable[[str, Any, str], None]:
        def cb(name: str, state: Any, detail: str) -> None:
            # A unit on a bus reports as "<bus>:<kind>:<address>" (drivers/state.py).
            unit = name.rsplit(":", 1)[-1] if ":" in name and name != dev["name"] else ""
            self.on_state(dev["name"], dev["kind"], str(state), detail, unit)
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
                                 on_key=lambda a, k: self.on_input({"device": name, "action": "key", "address": a,
                                                                    "key": k}))
        elif kind == "led":
            bus = LedBoardBus(url, opts.get("protocol", "modbus"), units=sorted(amap), name=name,
                              on_state=self._state_cb(dev))
        elif kind == "rating_box":
            bus = RatingBoxBus(url, sorted(amap), name=name, on_state=self._state_cb(dev),
                               on_rating=lambda a, lv: self.on_input({"device": name, "action": "rating",
                                                                      "address": a, "level": lv}))
        elif kind == "scanner":
            bus = SerialScanner(url, name=name, on_state=self._state_cb(dev),
                                on_code=lambda code: self.on_input({"device": name, "action": "scan", "code": code}))
        elif kind == "camera":
            bus = CameraScanner(url, name=name, on_state=self._state_cb(dev),
                                on_code=lambda code, _sym: self.on_input({"device": name, "action": "scan",
                                                                          "code": code}),
                                symbologies=tuple(opts.get("symbologies") or ("code128", "qrcode")))
        else:
            self.on_state(name, kind, "error", "Máy trạm chưa hỗ trợ loại thiết bị này.", "")
            return
        self.buses[name] = bus
        bus.start()

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
