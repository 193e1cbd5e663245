"""The device registry: one long-lived driver object per configured device, their states,
and the bus subscriptions that give the devices their work.

Screens never touch devices. The registry subscribes to the event bus: `ticket:issued`
(print the ticket when the event carries a print job), `queue:state` (LED boards and keypad
displays) and `ticket:finished` (rating boxes); routes call it only to plan a print job,
to reprint, to print a checklist and to read the states. Device states are published as
`device:status` to staff and kiosks, print jobs as `print:job` (motcua/devices/print_jobs.py),
codes read as `kiosk:scan` (motcua/devices/bindings.py).

Every device URL goes to its driver as configured: `sim://` (serial devices) and
`virtual://` (printer) start the driver's simulated twin, a `folder://` camera reads files.
A device that fails to start is reported `error`, is retried by its driver, and never
stops the office.

`reconfigure(new_config)` takes a changed office without a restart: on a background thread,
devices whose configuration is unchanged keep running, removed ones are stopped (their states
removed), new ones are started, changed ones are stopped and started again.
"""
from __future__ import annotations

import dataclasses
import logging
import threading
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

from config.schema import DeviceConfig, OfficeConfig
from drivers.camera import CameraScanner
from drivers.printer import TicketPrinter, get_profile
from drivers.serialdev import KeypadBus, LedBoardBus, RatingBoxBus, SerialScanner
from drivers.serialdev.sim import act_on_twin, twin_state
from drivers.state import DeviceState

from ..events import DEVICE_STATUS, QUEUE_STATE, TICKET_FINISHED, TICKET_ISSUED, EventBus
from .bindings import Bindings
from .print_jobs import PrintJobs
from .remote import RemoteAgents, RemoteBus, RemotePrinter

log = logging.getLogger(__name__)

# Vietnamese labels of the states every driver reports (drivers.state), and the registry's own.
UNSUPPORTED = "unsupported"
STATE_VI = {
    DeviceState.READY: "Sẵn sàng", DeviceState.CONNECTING: "Đang kết nối", DeviceState.BUSY: "Đang làm việc",
    DeviceState.ERROR: "Gặp sự cố", DeviceState.LOST: "Mất kết nối", DeviceState.CLOSED: "Đã dừng",
    UNSUPPORTED: "Chưa hỗ trợ",
}
SCREEN_KINDS = ("kiosk", "display", "rating")  # browsers: nothing to drive
STATUS_AUDIENCE = ("staff", "kiosks")


@dataclass(frozen=True)
class DeviceContext:
    """What the device layer needs from the application (no Flask)."""

    config: OfficeConfig
    store: Any  # motcua.store.Store
    engine: Any  # motcua.queue.QueueEngine
    bus: EventBus
    dossiers: Any = None  # the DossierStore (public_by_code), when there is one
    data_dir: Path | None = None

    @classmethod
    def of(cls, services: Any) -> "DeviceContext":
        """The context of the application's `Services`."""
        return cls(config=services.config, store=services.store, engine=services.engine, bus=services.bus,
                   dossiers=services.dossiers, data_dir=Path(services.settings.data_dir))


class DeviceRegistry:
    def __init__(self, ctx: DeviceContext | Any):
        self.ctx = ctx if isinstance(ctx, DeviceContext) else DeviceContext.of(ctx)
        self.config = self.ctx.config
        self._lock = threading.Lock()
        self._status: dict[str, dict[str, Any]] = {}
        self._stoppers: list[Callable[[], None]] = []  # the registry's own (the agents' link)
        self._life = threading.RLock()  # start, reconfigure and stop, one at a time
        self._running: dict[str, DeviceConfig] = {}  # device name -> the configuration it runs with
        self._standby: set[str] = set()  # a second printer or modem: kept in reserve, used when the first goes
        self._dev_stoppers: dict[str, list[Callable[[], None]]] = {}
        self._started = self._stopped = False
        self.adapters: dict[str, Any] = {}  # device name -> driver object
        self.sims: dict[str, Any] = {}  # device name -> simulated twin of a `sim://` device
        self.modem: Any = None  # the SMS modem's channel for the messages' outbox (modem.py)
        self._units: dict[str, list[int]] = {}  # device name -> addresses/units on its bus
        self.bindings = Bindings(self.ctx)
        self.jobs = PrintJobs(self.ctx, self.status_of)
        # Devices on other PCs, driven by device agents (remote.py, docs/agents.md).
        self.remote = RemoteAgents(self.ctx, self._set_status, self.jobs.on_job, self._remote_input)
        self.remote.on_back = self._remote_back
        self.remote.on_request = self._remote_request
        bus = self.ctx.bus
        self._unsubscribe = [
            bus.subscribe(self.jobs.on_ticket_issued, names=[TICKET_ISSUED], label="devices-printing"),
            bus.subscribe(self.bindings.on_queue_state, names=[QUEUE_STATE], label="devices-boards"),
            bus.subscribe(self.bindings.on_ticket_finished, names=[TICKET_FINISHED], label="devices-rating-boxes"),
        ]

    # Life cycle -------------------------------------------------------------------------
    def start(self) -> None:
        """Start every configured device (each connects in its own threads)."""
        with self._life:
            if self._stopped or self._started:
                return
            cfg = self.config
            for dev in cfg.devices:
                if dev.kind not in SCREEN_KINDS:
                    self._start_device(dev)
            self.remote.start()
            self._stoppers.append(self.remote.stop)
            self._started = True
            if self.config is not cfg:  # changed while starting
                self._apply_devices()
            self._show_counters()

    def _start_device(self, dev: DeviceConfig) -> None:
        """Start one device; what stops it is kept under its name (reconfigure stops it alone)."""
        starters = {"printer": self._start_printer, "keypad": self._start_keypad, "led": self._start_led,
                    "rating_box": self._start_rating_box, "scanner": self._start_scanner,
                    "camera": self._start_camera, "modem": self._start_modem}
        self._running[dev.name] = dev
        first = len(self._stoppers)
        try:
            if dev.kind == "agent" or dev.agent:
                self._start_remote(dev)
            elif (starter := starters.get(dev.kind)) is None:
                self._set_status(dev.name, dev.kind, UNSUPPORTED, "Chưa hỗ trợ loại thiết bị này.")
            else:
                starter(dev)
        except Exception as exc:  # noqa: BLE001 - a bad device never stops the office
            log.exception("device %s failed to start", dev.name)
            self._set_status(dev.name, dev.kind, DeviceState.ERROR, f"Không khởi động được: {exc}")
        finally:
            self._dev_stoppers[dev.name] = self._stoppers[first:]
            del self._stoppers[first:]

    def _stop_device(self, name: str) -> None:
        """Stop one device and forget it: its driver, its place in the bindings, its states."""
        dev = self._running.pop(name, None)  # first: the states its driver still reports are ignored
        self._standby.discard(name)
        for fn in reversed(self._dev_stoppers.pop(name, [])):
            try:
                fn()
            except Exception:  # noqa: BLE001
                log.exception("device %s: stop failed", name)
        adapter = self.adapters.pop(name, None)
        self.sims.pop(name, None)
        self._units.pop(name, None)
        self.bindings.forget(name)
        if self.jobs.printer_name == name:
            self.jobs.detach()
        if dev is not None and dev.kind == "modem" and adapter is not None:
            self.modem = None
        if dev is not None and (dev.kind == "agent" or dev.agent):
            self.remote.forget(name)
        with self._lock:
            gone = [k for k, v in self._status.items() if k == name or v.get("bus") == name]
            for k in gone:
                del self._status[k]
        if gone:  # the administrator's screen reads the list again
            self.ctx.bus.emit(DEVICE_STATUS, {"name": name, "kind": "removed", "state": "removed",
                                              "state_label": "Đã gỡ khỏi cấu hình", "detail": "", "removed": True},
                              ("staff",))
        log.info("device %s stopped (no longer configured as it was)", name)

    def _show_counters(self) -> None:
        if self.bindings.keypads or self.bindings.boards:
            try:  # boards and keypads show what each counter serves now (after a restart too)
                self.bindings.show_counters(self.ctx.engine.public_state())
            except Exception:  # noqa: BLE001
                log.exception("showing the counters failed")

    def _alive(self, dev: DeviceConfig) -> bool:
        """Whether `dev` (the very configuration a driver was started with) still runs."""
        return self._running.get(dev.name) is dev

    def reconfigure(self, new: OfficeConfig) -> threading.Thread | None:
        """Take a changed office without a restart. The settings apply at once; the devices
        are started and stopped on a background thread (never on a request's), which is
        returned (None after stop()). It never waits for a device (nor for the lock the
        device work holds)."""
        self.ctx = dataclasses.replace(self.ctx, config=new)
        self.config = new
        for part in (self.bindings, self.jobs, self.remote, self.remote.blocks):
            if hasattr(part, "ctx"):
                part.ctx = self.ctx
        if self._stopped:
            return None
        th = threading.Thread(target=self._apply_devices, name="motcua-devices-reconfigure", daemon=True)
        th.start()
        return th

    def _apply_devices(self) -> None:
        """Bring the running devices to the configured ones (the latest configuration)."""
        with self._life:
            if self._stopped or not self._started:  # start() takes the latest configuration
                return
            wanted = {d.name: d for d in self.config.devices if d.kind not in SCREEN_KINDS}
            stale = [name for name, dev in self._running.items() if wanted.get(name) != dev]
            for name in stale:
                self._stop_device(name)
            self._promote_standby()
            fresh = [dev for name, dev in wanted.items() if name not in self._running]
            for dev in fresh:
                self._start_device(dev)
            self.remote.start()  # a new agent's job sweep (once)
            if stale or fresh:
                log.info("devices reconfigured: %d stopped, %d started", len(stale), len(fresh))
                self.bindings.clear_shown()
                self._show_counters()

    def _promote_standby(self) -> None:
        """A printer or modem kept in reserve takes the place of the one just removed: it is
        forgotten here and started again with the fresh devices (in the configuration's order)."""
        free = {"printer": self.jobs.printer is None, "modem": self.modem is None}
        for name in [n for n in self._standby if n in self._running]:
            dev = self._running[name]
            if not free.get(dev.kind):
                continue
            if dev.agent:  # the agent's side forgets it too
                self._stop_device(name)
            else:  # it never ran: nothing to stop
                self._standby.discard(name)
                self._running.pop(name)
                self._dev_stoppers.pop(name, None)

    def start_in_background(self) -> threading.Thread:
        """start() on its own thread, so the server answers at once."""
        th = threading.Thread(target=self.start, name="motcua-devices-start", daemon=True)
        th.start()
        return th

    def stop(self) -> None:
        with self._life:
            self._stopped = True
            for unsubscribe in self._unsubscribe:
                unsubscribe()
            self.bindings.stop()
            stoppers = [fn for name in self._running for fn in self._dev_stoppers.get(name, [])] + self._stoppers
            for fn in reversed(stoppers):
                try:
                    fn()
                except Exception:  # noqa: BLE001
                    log.exception("device stop failed")
            self._stoppers.clear()
            self._dev_stoppers.clear()

    # Status -------------------------------------------------------------------------------
    def _set_status(self, name: str, kind: str, state: str, detail: str = "", **extra: Any) -> None:
        state = str(state)
        body = {"name": name, "kind": kind, "state": state, "state_label": STATE_VI.get(state, state),
                "detail": detail, "at": datetime.now(timezone.utc).isoformat(timespec="seconds"), **extra}
        with self._lock:
            prev = self._status.get(name)
            self._status[name] = body
        if prev and all(prev.get(k) == body.get(k) for k in ("state", "detail", "cause")):
            return
        log.info("device %s (%s): %s %s", name, kind, state, detail)
        self.ctx.bus.emit(DEVICE_STATUS, body, STATUS_AUDIENCE)

    def summary(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._status.values())

    def status_of(self, name: str) -> dict[str, Any] | None:
        with self._lock:
            return self._status.get(name)

    def _state_cb(self, dev: DeviceConfig, kind: str) -> Callable[[str, DeviceState, str], None]:
        """The drivers' on_state(name, state, detail) -> the status table. A device on a bus
        (driver name "<bus>:<kind>:<address>") is shown as "<bus>/<address>" with its counter."""
        amap = self._address_map(dev) if (dev.counters or dev.counter is not None) else {}

        def on_state(name: str, state: DeviceState, detail: str) -> None:
            if not self._alive(dev):  # removed or replaced by reconfigure()
                return
            if name == dev.name or ":" not in name:
                self._set_status(dev.name, kind, state, detail)
            else:
                address = name.rsplit(":", 1)[-1]
                counter = amap.get(int(address)) if address.isdigit() else None
                self._set_status(f"{dev.name}/{address}", kind, state, detail, bus=dev.name, counter=counter)
        return on_state

    @staticmethod
    def _address_map(dev: DeviceConfig) -> dict[int, int]:
        if dev.counters:
            return {int(a): int(c) for a, c in dev.counters.items()}
        if dev.counter is not None:
            return {1: dev.counter}
        raise ValueError("cần 'counters' (địa chỉ -> số quầy) hoặc 'counter'")

    # Printing (the route plans, the bus prints) ---------------------------------------------
    @property
    def printer(self) -> TicketPrinter | None:
        return self.jobs.printer

    def printer_ok(self) -> tuple[bool, str]:
        return self.jobs.printer_ok()

    def plan_print(self) -> dict[str, Any]:
        """A print job id for a ticket about to be issued, and what to tell the kiosk now
        (no I/O). Pass `job_id` to `engine.issue(print_job=...)`: the job is made when the
        ticket's `ticket:issued` event arrives."""
        return self.jobs.plan()

    def print_ticket(self, ticket: dict[str, Any], *, reprint: bool = False) -> dict[str, Any]:
        return self.jobs.print_ticket(ticket, reprint=reprint)

    def print_checklist(self, procedure: dict[str, Any]) -> dict[str, Any]:
        return self.jobs.print_checklist(procedure)

    def job_state(self, job_id: str) -> dict[str, Any] | None:
        return self.jobs.job_state(job_id)

    # Starting each kind ---------------------------------------------------------------------
    def _start_printer(self, dev: DeviceConfig) -> None:
        if self.jobs.printer is not None:
            self._standby.add(dev.name)
            self._set_status(dev.name, dev.kind, UNSUPPORTED, "Chỉ dùng một máy in vé; máy này để dự phòng.")
            return
        opts = dev.options
        profile = get_profile(opts.profile, force_raster=opts.force_raster)

        def on_state(_name: str, state: DeviceState, detail: str) -> None:
            # The state says whether a fault stops printing; the driver's status() adds the queue.
            if not self._alive(dev):  # removed or replaced by reconfigure()
                return
            st = printer.status()
            cause = {"cause": st.cause} if st.cause else {}  # the driver clears it once the link is open
            self._set_status(dev.name, "printer", state, detail, queued=st.queued, **cause)

        printer = TicketPrinter(dev.url, profile, name=dev.name, on_state=on_state, on_job=self.jobs.on_job,
                                job_timeout=opts.job_timeout)
        self.jobs.attach(printer, dev.name)
        self._set_status(dev.name, "printer", DeviceState.CONNECTING, "Đang kết nối máy in")
        printer.start()
        self._stoppers.append(printer.stop)

    def _start_bus(self, dev: DeviceConfig, bus: Any, units: list[int]) -> None:
        self.adapters[dev.name] = bus
        self._units[dev.name] = units
        bus.start()
        self._stoppers.append(bus.stop)
        if bus.simulator is not None:
            self.sims[dev.name] = bus.simulator

    def _start_keypad(self, dev: DeviceConfig) -> None:
        amap, b = self._address_map(dev), self.bindings
        bus = KeypadBus(dev.url, sorted(amap), name=dev.name, on_state=self._state_cb(dev, "keypad"),
                        on_key=lambda address, key: b.later(b.keypad_key, dev.name, amap, address, key))
        b.keypads.append((bus, amap))
        self._start_bus(dev, bus, sorted(amap))

    def _start_led(self, dev: DeviceConfig) -> None:
        amap = self._address_map(dev)
        bus = LedBoardBus(dev.url, dev.options.protocol, units=sorted(amap), name=dev.name,
                          on_state=self._state_cb(dev, "led"))
        self.bindings.boards.append((bus, amap))
        self._start_bus(dev, bus, sorted(amap))

    def _start_rating_box(self, dev: DeviceConfig) -> None:
        amap, b = self._address_map(dev), self.bindings
        bus = RatingBoxBus(dev.url, sorted(amap), name=dev.name, on_state=self._state_cb(dev, "rating_box"),
                           on_rating=lambda address, level: b.later(b.box_rating, dev.name, amap, address, level))
        b.rating_boxes.append((bus, amap))
        self._start_bus(dev, bus, sorted(amap))

    def _start_scanner(self, dev: DeviceConfig) -> None:
        b = self.bindings
        sc = SerialScanner(dev.url, name=dev.name, on_state=self._state_cb(dev, "scanner"),
                           on_code=lambda code: b.later(b.handle_scan, code, dev.name))
        self._start_bus(dev, sc, [])

    def _start_camera(self, dev: DeviceConfig) -> None:
        b = self.bindings
        cam = CameraScanner(dev.url, name=dev.name, on_state=self._state_cb(dev, "camera"),
                            on_code=lambda code, _sym: b.later(b.handle_scan, code, dev.name),
                            symbologies=tuple(dev.options.symbologies))
        self.adapters[dev.name] = cam
        cam.start()
        self._stoppers.append(cam.stop)

    def _start_modem(self, dev: DeviceConfig) -> None:
        from .modem import ModemChannel, make_modem

        if self.modem is not None:
            self._standby.add(dev.name)
            self._set_status(dev.name, dev.kind, UNSUPPORTED, "Chỉ dùng một modem gửi tin nhắn; modem này để dự phòng.")
            return
        modem = make_modem(dev, self._state_cb(dev, "modem"))
        self.adapters[dev.name] = modem
        modem.start()
        self._stoppers.append(modem.stop)
        if modem.simulator is not None:
            self.sims[dev.name] = modem.simulator
        self.modem = ModemChannel(modem)

    # Devices of device agents (remote.py) -----------------------------------------------------
    def _start_remote(self, dev: DeviceConfig) -> None:
        if dev.kind == "agent":
            self.remote.add_agent(dev)
            return
        self.remote.add_device(dev)
        b = self.bindings
        if dev.kind == "printer":
            if self.jobs.printer is None:
                self.jobs.attach(RemotePrinter(self.remote, dev), dev.name)  # type: ignore[arg-type]
            else:
                self._standby.add(dev.name)
        elif dev.kind in ("keypad", "led", "rating_box"):
            lists = {"keypad": b.keypads, "led": b.boards, "rating_box": b.rating_boxes}
            lists[dev.kind].append((RemoteBus(self.remote, dev), self._address_map(dev)))

    def _remote_back(self, agent: str) -> None:
        """An agent's boards and keypads run again: show what each counter serves now (what
        was shown while it was away never reached them)."""
        names = {d.name for d in self.remote.owned_by(agent)}
        b = self.bindings
        b.clear_shown(names)  # forget what we think they show
        b.show_counters(self.ctx.engine.public_state())

    def _remote_request(self, name: str, action: str) -> None:
        """An administrator's device action asked through another process (agent_links.py)."""
        from .admin_ops import run_test

        run_test(self, name, action, here=True)

    def _remote_input(self, dev: DeviceConfig, body: dict[str, Any]) -> None:
        """A key press, a rating or a code read on an agent's device: as from a local one."""
        b, action = self.bindings, body.get("action")
        try:
            if action == "scan":
                b.later(b.handle_scan, str(body.get("code") or "")[:500], dev.name)
            elif action == "key" and dev.kind == "keypad":
                b.later(b.keypad_key, dev.name, self._address_map(dev), int(body["address"]), str(body["key"])[:20])
            elif action == "rating" and dev.kind == "rating_box":
                b.later(b.box_rating, dev.name, self._address_map(dev), int(body["address"]), str(body["level"])[:20])
        except (KeyError, TypeError, ValueError):
            log.warning("bad input from agent device %s: %r", dev.name, body)

    # Simulated devices (the demo, tests, trying the office without hardware) -----------------
    def simulate(self, name: str, *, fault: str | None, delay_s_per_kb: float | None = None) -> None:
        """Tell a simulated device to fail (or recover), through its real driver path."""
        if name in self.remote.devices:  # a twin on an agent's PC: the agent does it
            self.remote.simulate(name, fault)
            return
        printer = self.jobs.printer
        if printer is not None and name == self.jobs.printer_name:
            vp = printer.virtual_printer
            if vp is None:
                raise KeyError(name)
            vp.set_fault(fault)
            if delay_s_per_kb is not None:
                vp.set_delay(delay_s_per_kb)
            return
        sim = self.sims[name]
        if fault == "offline":
            sim.unplug()
        elif fault is None:
            sim.replug()
        else:
            raise ValueError(fault)

    def simulate_action(self, name: str, action: str, **kw: Any) -> None:
        """Act on a simulated twin as a person would: press a key, rate, scan a code (a twin
        on an agent's PC: the agent does it)."""
        if name in self.remote.devices:
            self.remote.sim_action(name, action, kw)
            return
        act_on_twin(self.sims[name], action, **kw)

    def simulated_state(self, name: str) -> dict[str, Any]:
        """What a simulated twin shows: keypad displays, board values or texts, lit boxes
        (a twin on an agent's PC: asked of the agent)."""
        if name in self.remote.devices:
            return {"name": name, **self.remote.sim_state(name)}
        sim = self.sims[name]
        return {"name": name, "url": sim.url, **twin_state(sim, self._units.get(name, []))}
