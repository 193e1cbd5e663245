"""What the devices do in the office, both ways.

Devices -> domain: a keypad key acts on its counter through the queue engine (call next,
recall, skip, finish, pause, transfer), a rating box press rates the counter's latest visit
(`motcua.ratings.record_rating`), a scanner or camera code is looked up
(`dossiers.public_by_code`) and sent to the kiosks as `kiosk:scan`.

Domain -> devices (bus subscribers): `queue:state` shows each counter's number on its LED
board and its keypad's display (with the number of people waiting); `ticket:finished` as
done lights the rating boxes of that counter for the counter's prompt time.

Device callbacks arrive on the drivers' threads; what may take time (a transaction) runs on
a small pool, so a bus never waits for the database.
"""
from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from ..errors import MotcuaError
from ..events import KIOSK_SCAN, Event
from ..queue.errors import QueueError
from ..ratings import rating_settings, record_rating

log = logging.getLogger(__name__)

PAUSE_REASON = "Tạm dừng từ bàn phím quầy"


class Bindings:
    def __init__(self, ctx: Any):
        self.ctx = ctx
        self.keypads: list[tuple[Any, dict[int, int]]] = []  # (bus, {address: counter})
        self.boards: list[tuple[Any, dict[int, int]]] = []  # (bus, {unit: counter})
        self.rating_boxes: list[tuple[Any, dict[int, int]]] = []
        self._shown: dict[tuple[str, int], Any] = {}
        self._timers: dict[tuple[str, int], threading.Timer] = {}
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="motcua-device-action")

    def stop(self) -> None:
        with self._lock:
            timers, self._timers = list(self._timers.values()), {}
        for timer in timers:
            timer.cancel()
        self._pool.shutdown(wait=False, cancel_futures=True)

    def forget(self, name: str) -> None:
        """A device stopped by a configuration change: no more work for it."""
        with self._lock:
            for devices in (self.keypads, self.boards, self.rating_boxes):
                devices[:] = [(bus, amap) for bus, amap in devices if bus.name != name]
            timers = [self._timers.pop(k) for k in [k for k in self._timers if k[0] == name]]
        for timer in timers:
            timer.cancel()
        self.clear_shown({name})

    def clear_shown(self, names: Any = None) -> None:
        """Forget what the boards and keypads of `names` (all when None) are thought to show:
        the next state is shown to them again."""
        with self._lock:
            for key in [k for k in self._shown if names is None or k[0] in names]:
                del self._shown[key]

    def later(self, fn: Any, *args: Any) -> None:
        """Run fn(*args) on the device action pool (never on a driver's thread)."""
        try:
            self._pool.submit(fn, *args)
        except RuntimeError:  # stopping: the pool takes no more work
            log.info("device action dropped while stopping: %s", getattr(fn, "__name__", fn))

    # Keypads ------------------------------------------------------------------------------
    def keypad_key(self, name: str, amap: dict[int, int], address: int, key: str) -> None:
        counter = amap.get(address)
        if counter is None:
            log.warning("%s: key from unknown keypad %s", name, address)
            return
        eng = self.ctx.engine
        actions = {"call_next": eng.call_next, "recall": eng.recall, "no_show": eng.skip, "finish": eng.finish,
                   "pause": self._toggle_pause, "transfer": self._keypad_transfer}
        fn = actions.get(key)
        if fn is None:
            log.info("%s: key %s at counter %s has no action", name, key, counter)
            return
        try:
            fn(counter)
        except MotcuaError as exc:
            log.info("%s: %s at counter %s refused: %s", name, key, counter, exc.message)
        except Exception:  # noqa: BLE001 - a key press never stops the keypads
            log.exception("%s: %s at counter %s failed", name, key, counter)

    def _toggle_pause(self, counter: int) -> None:
        """The pause key: pause the counter (no new calls to it, the screens say so), or open
        it again when it is paused."""
        eng = self.ctx.engine
        if eng.views.counter_view(counter)["counter"]["paused"]:
            eng.unpause_counter(counter)
        else:
            eng.pause_counter(counter, reason=PAUSE_REASON)

    def _keypad_transfer(self, counter: int) -> None:
        """The transfer key: the citizen being served goes to the counter's configured
        `keypad_transfer` field, keeping the number (a keypad cannot choose a target)."""
        ccfg = self.ctx.config.counter(counter)
        target = ccfg.keypad_transfer if ccfg is not None else ""
        if not target:
            raise QueueError("no_keypad_transfer", f"Quầy {counter} chưa cấu hình nơi chuyển bằng bàn phím "
                             "(keypad_transfer); hãy chuyển trên màn hình quầy.", 409)
        self.ctx.engine.transfer(counter, field_code=target)

    # Rating boxes ---------------------------------------------------------------------------
    def box_rating(self, name: str, amap: dict[int, int], address: int, level: str) -> None:
        counter = amap.get(address)
        if counter is None:
            return
        try:
            record_rating(self.ctx, counter=counter, level=level, source=f"rating_box:{name}")
        except MotcuaError as exc:
            log.info("%s: rating at counter %s refused: %s", name, counter, exc.message)
        finally:
            self.close_prompt(name, address)

    def on_ticket_finished(self, event: Event) -> None:
        """Bus subscriber: a visit ended as done: light its counter's rating boxes."""
        p = event.payload
        if (p.get("ticket") or {}).get("status") == "done" and p.get("counter"):
            self.open_prompts(int(p["counter"]))

    def open_prompts(self, counter: int) -> None:
        seconds = rating_settings(self.ctx.config, counter).prompt_timeout_s
        for bus, amap in self.rating_boxes:
            for address, c in amap.items():
                if c != counter:
                    continue
                bus.prompt(address, True)
                timer = threading.Timer(seconds, self.close_prompt, args=(bus.name, address))
                timer.daemon = True
                with self._lock:
                    old = self._timers.pop((bus.name, address), None)
                    self._timers[(bus.name, address)] = timer
                if old:
                    old.cancel()
                timer.start()

    def close_prompt(self, bus_name: str, address: int) -> None:
        with self._lock:
            timer = self._timers.pop((bus_name, address), None)
        if timer:
            timer.cancel()
        for bus, _amap in self.rating_boxes:
            if bus.name == bus_name:
                bus.prompt(address, False)

    # Scanners and cameras -------------------------------------------------------------------
    def handle_scan(self, text: str, source: str) -> None:
        """A scanner or camera read a code: look the dossier up and tell the kiosks."""
        from ..dossiers.codes import extract_code

        code = extract_code(text)
        if code is None:
            log.info("%s read %r: not a dossier code", source, text[:80])
            self.ctx.bus.emit(KIOSK_SCAN, {"code": None, "text": text[:200], "dossier": None, "source": source},
                              "kiosks")
            return
        dossier = None
        if self.ctx.dossiers is None:
            log.warning("dossier look-up is not available")
        else:
            try:
                dossier = self.ctx.dossiers.public_by_code(text)
            except Exception:  # noqa: BLE001 - the kiosk still hears of the scan
                log.exception("dossier look-up failed")
        self.ctx.bus.emit(KIOSK_SCAN, {"code": code, "dossier": dossier, "source": source}, "kiosks")

    # LED boards and keypad displays -------------------------------------------------------------
    def on_queue_state(self, event: Event) -> None:
        """Bus subscriber: the whole public state after changes (coalesced)."""
        self.show_counters(event.payload)

    def show_counters(self, state: Any) -> None:
        waiting = {s["code"]: s["waiting"] for s in state.get("services", [])}
        by_counter = {c["number"]: c for c in state.get("counters", [])}
        for bus, amap in self.keypads:
            for address, counter in amap.items():
                c = by_counter.get(counter)
                if c is None:
                    continue
                number = c["serving"]["number"] if c.get("serving") else ""
                count = sum(waiting.get(f, 0) for f in c["fields"])
                if self._changed((bus.name, address), (number, count)):
                    self._show(bus, address, number, count)
        for bus, amap in self.boards:
            for unit, counter in amap.items():
                c = by_counter.get(counter)
                if c is None or not c.get("serving"):
                    continue  # a board keeps showing the last number until the next call
                number = c["serving"]["number"]
                if self._changed((bus.name, unit), number):
                    self._show(bus, unit, number)

    @staticmethod
    def _show(bus: Any, address: int, *what: Any) -> None:
        try:
            bus.show(address, *what)
        except ValueError as exc:  # a number this device cannot show: the others still get theirs
            log.warning("%s/%s cannot show %r: %s", bus.name, address, what[0], exc)

    def _changed(self, key: tuple[str, int], value: Any) -> bool:
        with self._lock:
            if self._shown.get(key) == value:
                return False
            self._shown[key] = value
            return True
