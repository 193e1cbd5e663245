"""The device registry without a server: a Store, a QueueEngine and an EventBus, with the
simulated drivers (`sim://` keypads, LED boards, rating boxes and scanner, a `virtual://`
printer) speaking their real bytes over loopback."""
from __future__ import annotations

import threading
import time
from typing import Any, Callable

import pytest
from pyzbar.pyzbar import decode as zbar_decode

from config import DeviceConfig
from escpos_decode import decode as escpos_decode
from motcua.devices import DeviceContext, DeviceRegistry
from motcua.events import QUEUE_STATE, Event, EventBus
from motcua.queue import QueueEngine
from motcua.store import Store
from helpers import wait_for  # noqa: E402

DOSSIER = "000.17.22.H56-210531-0001"




class Heard:
    """Every event of the bus, as a screen would receive it."""

    def __init__(self, bus: EventBus):
        self.lock = threading.Lock()
        self.events: list[Event] = []
        bus.subscribe(self._on, label="test-heard")

    def _on(self, event: Event) -> None:
        with self.lock:
            self.events.append(event)

    def named(self, name: str) -> list[dict[str, Any]]:
        with self.lock:
            return [dict(e.payload) for e in self.events if e.name == name]


class FakeDossiers:
    def public_by_code(self, text: str) -> dict[str, Any] | None:
        return {"code": DOSSIER, "status_label": "Đang giải quyết"} if DOSSIER in text else None


@pytest.fixture
def office(office_config, tmp_path):
    devices = [
        DeviceConfig(name="may-in", kind="printer", url=f"virtual://?dir={tmp_path / 'printer'}"),
        DeviceConfig(name="ban-phim", kind="keypad", url="sim://", counters={"1": 1, "2": 2}),
        DeviceConfig(name="bang-led", kind="led", url="sim://", counters={"1": 1, "2": 2},
                     options={"protocol": "modbus"}),
        DeviceConfig(name="hop-danh-gia", kind="rating_box", url="sim://", counters={"1": 1}),
        DeviceConfig(name="may-quet", kind="scanner", url="sim://"),
        DeviceConfig(name="kiosk-1", kind="kiosk", token="k" * 20),
    ]
    cfg = office_config.model_copy(update={"devices": devices})
    store = Store(f"sqlite:///{tmp_path / 'motcua.sqlite3'}")
    store.upgrade()
    bus = EventBus()
    engine = QueueEngine(store, cfg, bus=bus)
    engine.sync_config()
    heard = Heard(bus)
    registry = DeviceRegistry(DeviceContext(config=cfg, store=store, engine=engine, bus=bus,
                                            dossiers=FakeDossiers(), data_dir=tmp_path))
    registry.start()
    wait_for(lambda: all((registry.status_of(n) or {}).get("state") == "ready"
                         for n in ("may-in", "ban-phim", "bang-led", "hop-danh-gia", "may-quet", "ban-phim/2")),
             10, "devices ready")
    yield registry, engine, bus, heard, tmp_path
    registry.stop()
    store.dispose()


def test_states_are_published_with_their_vietnamese_label(office):
    registry, _engine, _bus, heard, _tmp = office
    names = {d["name"] for d in registry.summary()}
    assert {"may-in", "ban-phim", "ban-phim/1", "ban-phim/2", "bang-led/1", "hop-danh-gia/1"} <= names
    assert "kiosk-1" not in names  # a browser, nothing to drive
    pad = registry.status_of("ban-phim/2")
    assert (pad["state"], pad["state_label"], pad["bus"], pad["counter"]) == ("ready", "Sẵn sàng", "ban-phim", 2)
    assert type(pad["state"]) is str
    statuses = heard.named("device:status")
    assert any(s["name"] == "may-in" and s["state"] == "ready" for s in statuses)


def test_a_key_press_calls_the_next_number_through_the_engine(office):
    registry, engine, _bus, _heard, _tmp = office
    ticket = engine.issue("HOTICH", source="kiosk")
    registry.simulate_action("ban-phim", "press", address=1, key="call_next")
    called = wait_for(lambda: (t := engine.get_ticket(ticket["id"]))["status"] == "called" and t, 8, "keypad call")
    assert called["counter"] == 1


def test_the_pause_key_pauses_and_reopens_its_counter(office):
    registry, engine, _bus, _heard, _tmp = office

    def paused() -> bool:
        return engine.views.counter_view(2)["counter"]["paused"]

    assert paused() is False
    registry.simulate_action("ban-phim", "press", address=2, key="pause")
    wait_for(paused, 8, "counter 2 paused from its keypad")
    assert engine.views.counter_view(2)["counter"]["pause_reason"] == "Tạm dừng từ bàn phím quầy"
    registry.simulate_action("ban-phim", "press", address=2, key="pause")
    wait_for(lambda: not paused(), 8, "counter 2 open again")


def test_a_queue_state_shows_the_number_on_the_led_board_and_the_keypad(office):
    registry, engine, bus, _heard, _tmp = office
    ticket = engine.issue("HOTICH", source="kiosk")
    engine.issue("HOTICH", source="kiosk")
    engine.call_next(1)
    bus.publish([Event(QUEUE_STATE, engine.public_state())])
    wait_for(lambda: registry.simulated_state("bang-led")["values"]["1"] == int(ticket["number"]), 8, "LED board")
    # The keypad shows the number served and how many wait for the counter's fields.
    display = wait_for(lambda: registry.simulated_state("ban-phim")["displays"]["1"], 8, "keypad display")
    assert display[0] == ticket["number"] and display[1] >= 1


def test_a_ticket_issued_with_a_print_request_is_printed(office):
    registry, engine, _bus, heard, tmp = office
    plan = registry.plan_print()
    assert plan["state"] == "queued" and plan["printer_ok"] is True and plan["job_id"]
    ticket = engine.issue("LDTBXH", source="kiosk", print_job=plan["job_id"], url="http://motcua.test/t/{token}")
    done = wait_for(lambda: [j for j in heard.named("print:job") if j["state"] == "done"], 10, "print:job done")
    assert done[0] == {"job_id": plan["job_id"], "ticket_id": ticket["id"], "device": "may-in", "state": "done",
                       "message": "Đã in xong"}
    assert [j["state"] for j in heard.named("print:job")] == ["queued", "printing", "done"]
    files = wait_for(lambda: sorted((tmp / "printer").glob("*.bin")), 5, "job file")
    assert len(files) == 1
    paper = escpos_decode(files[0].read_bytes())
    assert paper.cut
    qr = [d.data.decode() for d in zbar_decode(paper.paper.convert("L"))]
    assert qr == [f"http://motcua.test/t/{ticket['token']}"]
    assert registry.job_state(plan["job_id"])["state"] == "done"
    # A ticket without a print request is not printed.
    engine.issue("LDTBXH", source="counter")
    time.sleep(0.3)
    assert len(list((tmp / "printer").glob("*.bin"))) == 1


def test_a_finished_visit_lights_the_rating_box_and_a_press_rates_it(office):
    registry, engine, _bus, heard, _tmp = office
    engine.issue("HOTICH", source="kiosk")
    engine.call_next(1)
    engine.finish(1)
    wait_for(lambda: registry.simulated_state("hop-danh-gia")["open"]["1"] is True, 8, "rating box lit")
    registry.simulate_action("hop-danh-gia", "press", address=1, level="satisfied")
    closed = wait_for(lambda: heard.named("rating:closed"), 8, "rating recorded")
    assert closed[0]["level"] == "satisfied" and closed[0]["counter"] == 1
    wait_for(lambda: registry.simulated_state("hop-danh-gia")["open"]["1"] is False, 8, "rating box off")


def test_a_scanned_code_reaches_the_kiosks(office):
    registry, _engine, _bus, heard, _tmp = office
    registry.simulate_action("may-quet", "scan", code=f"https://dichvucong.example/tra-cuu?MHS={DOSSIER}")
    scan = wait_for(lambda: heard.named("kiosk:scan"), 8, "kiosk:scan")[0]
    assert scan["code"] == DOSSIER and scan["dossier"]["code"] == DOSSIER and scan["source"] == "may-quet"


def test_an_unplugged_device_is_reported_lost_and_comes_back_by_itself(office):
    registry, _engine, _bus, heard, _tmp = office
    registry.simulate("ban-phim", fault="offline")
    wait_for(lambda: registry.status_of("ban-phim")["state"] in ("lost", "error"), 8, "loss reported")
    lost = registry.status_of("ban-phim")
    assert lost["state_label"] in ("Mất kết nối", "Gặp sự cố") and lost["detail"]
    assert any(s["name"] == "ban-phim" and s["state"] == lost["state"] for s in heard.named("device:status"))
    registry.simulate("ban-phim", fault=None)
    wait_for(lambda: registry.status_of("ban-phim")["state"] == "ready", 20, "reconnected")
    wait_for(lambda: registry.status_of("ban-phim/1")["state"] == "ready", 10, "keypad 1 answers again")


def test_printer_faults_and_bad_simulations(office):
    registry, _engine, _bus, _heard, _tmp = office
    registry.simulate("may-in", fault="paper_out")
    st = wait_for(lambda: (s := registry.status_of("may-in"))["state"] == "error" and s, 5, "paper out")
    assert "giấy" in st["detail"] and st["queued"] == 0
    plan = registry.plan_print()
    assert plan["printer_ok"] is False and "giấy" in plan["message"]
    registry.simulate("may-in", fault=None)
    wait_for(lambda: registry.status_of("may-in")["state"] == "ready", 5, "paper back")
    with pytest.raises(KeyError):
        registry.simulate("khong-co", fault=None)
    with pytest.raises(ValueError):
        registry.simulate("ban-phim", fault="chay-no")
    with pytest.raises(KeyError):
        registry.simulated_state("may-in")


def test_a_registry_without_a_printer_plans_no_job(office_config, tmp_path):
    cfg = office_config.model_copy(update={"devices": []})
    store = Store(f"sqlite:///{tmp_path / 'm.sqlite3'}")
    store.upgrade()
    bus = EventBus()
    engine = QueueEngine(store, cfg, bus=bus)
    engine.sync_config()
    registry = DeviceRegistry(DeviceContext(config=cfg, store=store, engine=engine, bus=bus))
    registry.start()
    try:
        assert registry.plan_print() == {"job_id": None, "state": "failed", "message": "Chưa cấu hình máy in vé."}
        assert registry.summary() == [] and registry.job_state("x") is None
    finally:
        registry.stop()
        store.dispose()


def test_reconfigure_starts_stops_and_keeps_devices_without_a_restart(office):
    """Issue 12: a device added, removed or changed in the configuration applies without a
    restart; the devices not touched keep running (the printer keeps its jobs)."""
    registry, engine, bus, _heard, _tmp = office
    plan = registry.plan_print()
    engine.issue("LDTBXH", source="kiosk", print_job=plan["job_id"])
    wait_for(lambda: (registry.job_state(plan["job_id"]) or {}).get("state") == "done", 10, "printed")
    printer = registry.printer
    cfg = registry.config
    board = DeviceConfig(name="bang-led-2", kind="led", url="sim://", counters={"1": 2},
                         options={"protocol": "modbus"})
    registry.reconfigure(cfg.model_copy(update={"devices": [*cfg.devices, board]}))
    wait_for(lambda: (registry.status_of("bang-led-2") or {}).get("state") == "ready", 15, "new board ready")
    engine.issue("DATDAI", source="kiosk")
    called = engine.call_next(2)
    bus.publish([Event(QUEUE_STATE, engine.public_state())])
    wait_for(lambda: registry.simulated_state("bang-led-2")["values"]["1"] == int(called["number"]), 8,
             "the new board shows the number called at its counter")
    added = registry.adapters["bang-led-2"]
    # Removed: stopped and gone from the states; the untouched printer still knows its job.
    registry.reconfigure(cfg)
    wait_for(lambda: not any(d["name"].startswith("bang-led-2") for d in registry.summary()), 15, "board removed")
    assert "bang-led-2" not in registry.sims and "bang-led-2" not in registry.adapters
    wait_for(lambda: added.state == "closed", 5, "the removed board's driver stopped")
    assert registry.printer is printer and registry.job_state(plan["job_id"])["state"] == "done"
    assert registry.status_of("may-in")["state"] == "ready"
    # Changed (another counter map): stopped and started again with the new settings.
    old_adapter = registry.adapters["bang-led"]
    moved = [d.model_copy(update={"counters": {"1": 2}}) if d.name == "bang-led" else d for d in cfg.devices]
    registry.reconfigure(cfg.model_copy(update={"devices": moved}))
    wait_for(lambda: registry.adapters.get("bang-led") not in (None, old_adapter), 15, "board restarted")
    wait_for(lambda: (registry.status_of("bang-led/1") or {}).get("counter") == 2, 15, "new counter map")
    assert registry.printer is printer


def test_a_second_printer_kept_in_reserve_prints_when_the_first_is_removed(office):
    """Only one ticket printer is used; a second one configured is kept in reserve, and when
    the administrator removes the first, the kiosk's tickets come out of the second."""
    registry, engine, _bus, _heard, tmp = office
    cfg = registry.config
    spare = DeviceConfig(name="may-in-2", kind="printer", url=f"virtual://?dir={tmp / 'printer2'}")
    registry.reconfigure(cfg.model_copy(update={"devices": [*cfg.devices, spare]}))
    wait_for(lambda: "dự phòng" in (registry.status_of("may-in-2") or {}).get("detail", ""), 15,
             "the second printer is shown as the spare")
    first = registry.printer
    registry.reconfigure(cfg.model_copy(update={"devices": [d for d in cfg.devices if d.name != "may-in"] + [spare]}))
    wait_for(lambda: registry.printer not in (None, first), 15, "the spare printer took over")
    wait_for(lambda: (registry.status_of("may-in-2") or {}).get("state") == "ready", 15, "the spare is ready")
    plan = registry.plan_print()
    ticket = engine.issue("LDTBXH", source="kiosk", print_job=plan["job_id"], url="http://motcua.test/t/{token}")
    wait_for(lambda: (registry.job_state(plan["job_id"]) or {}).get("state") == "done", 15, "printed on the spare")
    files = wait_for(lambda: sorted((tmp / "printer2").glob("*.bin")), 5, "the spare's paper")
    assert escpos_decode(files[-1].read_bytes()).qr_payloads == [f"http://motcua.test/t/{ticket['token']}"]
