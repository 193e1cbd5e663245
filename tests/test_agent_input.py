"""Input from a device agent's devices, end to end (docs/agents.md, "Device input"): the real
agent program (`python -m agent`) in its own process, linked over Socket.IO to a real server
process (`motcua serve`), its keypad, rating box, LED board and serial scanner being the
drivers' simulated twins run by this test (the real serial protocol over loopback TCP, the
agent's drivers opening `socket://`), its camera a watched folder.

What a user notices: a key pressed on the agent's keypad calls, recalls, finishes, marks
absent as the console's buttons do (the TV's events, the ticket's state); a rating lands on
the visit just finished; a scanned code opens the dossier on the kiosks; the board shows the
number; the devices API shows the agent's devices plugged, unplugged and back. While the link
is down, a key press is never replayed later; a rating is kept and lands on its visit."""
from __future__ import annotations

import csv
import io
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import requests

from agent_support import AgentProcess, agent_office_file, device
from helpers import KIOSK_TOKEN, ROOT, Listener, ServerProcess, free_port, wait_for

AGENT_TOKEN = "agent-token-0002-thu-nghiem-nhap-lieu"
KIOSK = {"Authorization": f"Bearer {KIOSK_TOKEN}"}
PASSWORD = "mat-khau-thu-nghiem"
SERIAL = ("ban-phim-quay", "hop-danh-gia", "bang-led-quay", "may-quet")


def _office_file(tmp: Path, twins: dict, camera_dir: Path, local_port: int) -> Path:
    a = "may-tram-quay"
    devices = (device("ban-phim-quay", "keypad", a, url=f'"{twins["keypad"].url}"', counters='{ "1" = 1 }')
               + device("hop-danh-gia", "rating_box", a, url=f'"{twins["box"].url}"', counters='{ "1" = 1 }')
               + device("bang-led-quay", "led", a, url=f'"{twins["board"].url}"', counters='{ "1" = 1 }')
               + device("may-quet", "scanner", a, url=f'"{twins["scanner"].url}"')
               + device("camera-quay", "camera", a, url=f'"folder://{camera_dir}"'))
    return agent_office_file(tmp, agent=a, token=AGENT_TOKEN, local_port=local_port, block=0, devices=devices)


class _NotYet(dict):
    """Falsy, but shows what is not there yet in wait_for's message."""

    def __bool__(self) -> bool:
        return False


class Rig:
    def __init__(self, server, agent, twins, camera_dir):
        self.server, self.agent, self.camera_dir = server, agent, camera_dir
        self.keypad, self.box, self.board, self.scanner = (twins[k] for k in ("keypad", "box", "board", "scanner"))

    @property
    def url(self) -> str:
        return self.server.url

    def token(self, user: str) -> dict:
        r = requests.post(self.url + "/api/v1/auth/token", json={"username": user, "password": PASSWORD}, timeout=10)
        r.raise_for_status()
        return {"Authorization": f"Bearer {r.json()['token']}"}

    def devices(self) -> dict:
        return {d["name"]: d for d in requests.get(self.url + "/api/v1/devices", headers=KIOSK, timeout=5).json()}

    def all_ready(self) -> bool | dict:
        """True once the agent and all its devices are ready (else falsy, naming the others)."""
        devs = self.devices()
        others = {n: devs.get(n, {}).get("state") for n in ("may-tram-quay", *SERIAL, "camera-quay")
                  if devs.get(n, {}).get("state") != "ready"}
        return not others or _NotYet(others)

    def issue(self, service: str = "HOTICH") -> dict:
        r = requests.post(self.url + "/api/v1/tickets", json={"service": service}, headers=KIOSK, timeout=10)
        assert r.status_code == 201, r.text
        return r.json()

    def ticket(self, tid: int) -> dict:
        return requests.get(f"{self.url}/api/v1/tickets/{tid}", timeout=5).json()

    def ratings(self, staff: dict, ticket: dict) -> list:
        """The ratings of that ticket's visits at counter 1."""
        body = requests.get(self.url + "/api/v1/ratings", params={"counter": 1}, headers=staff, timeout=5).json()
        return [r for r in (body["ratings"] if isinstance(body, dict) else body) if r["ticket_id"] == ticket["id"]]


@pytest.fixture(scope="module")
def rig(tmp_path_factory):
    """One server and one agent for this module's tests (each test uses its own tickets and
    leaves counter 1 free); the last one stops and starts the server."""
    from drivers.serialdev.sim import SimKeypads, SimModbusBoards, SimRatingBoxes, SimScanner

    tmp = tmp_path_factory.mktemp("agent-input")
    twins = {"keypad": SimKeypads([1]), "box": SimRatingBoxes([1]), "board": SimModbusBoards([1]),
             "scanner": SimScanner()}
    for twin in twins.values():
        twin.start()
    camera_dir = tmp / "camera"
    camera_dir.mkdir()
    port = free_port()
    cfg = _office_file(tmp, twins, camera_dir, port)
    data = tmp / "data"
    data.mkdir()
    subprocess.run([sys.executable, "-m", "motcua.cli", "user", "add", "quay1", "--counters", "1", "--password",
                    PASSWORD, "--config", str(cfg), "--data", str(data)], check=True, cwd=str(ROOT), capture_output=True)
    server = ServerProcess(data, args=["serve", "--config", str(cfg)])
    agent = None
    try:
        server.start()
        agent = AgentProcess(server.url, AGENT_TOKEN, tmp / "agent", port)  # the port the server got
        agent.start()
        r = Rig(server, agent, twins, camera_dir)
        wait_for(r.all_ready, 40, "the agent's devices ready on /api/v1/devices")
        yield r
    finally:
        if agent is not None:
            agent.stop()
        server.stop()
        for twin in twins.values():
            twin.stop()


@pytest.mark.slow
def test_keys_and_ratings_on_an_agent_act_as_the_console_and_its_board_shows_the_number(rig):
    tv = Listener(rig.url)  # what a TV hears (public room)
    staff = rig.token("quay1")
    try:
        first, second = rig.issue(), rig.issue()
        rig.keypad.press(1, "call_next")
        called = tv.wait_for("ticket:called", lambda d: d["ticket"]["id"] == first["id"], 15)
        assert called["counter"] == 1 and called["recall"] is False
        assert rig.ticket(first["id"])["status"] == "called"
        # The board and the keypad's display on the agent's PC show the number called there.
        wait_for(lambda: rig.board.value(1) == int(first["number"]), 15, "the LED board shows the number")
        wait_for(lambda: (rig.keypad.display(1) or ("",))[0] == first["number"], 15, "the keypad shows the number")

        rig.keypad.press(1, "recall")
        again = tv.wait_for("ticket:called", lambda d: d["ticket"]["id"] == first["id"] and d["recall"], 15)
        assert again["counter"] == 1

        rig.keypad.press(1, "finish")
        tv.wait_for("ticket:finished", lambda d: d["ticket"]["id"] == first["id"], 15)
        assert rig.ticket(first["id"])["status"] == "done"
        # The box lights up for the visit just finished; the citizen's press rates it.
        wait_for(lambda: rig.box.is_open(1), 15, "the rating box lights up")
        assert rig.box.press(1, "satisfied")
        (rating,) = wait_for(lambda: rig.ratings(staff, first), 15, "the rating recorded")
        assert rating["ticket_id"] == first["id"] and rating["level"] == "satisfied" and rating["counter"] == 1

        rig.keypad.press(1, "call_next")
        tv.wait_for("ticket:called", lambda d: d["ticket"]["id"] == second["id"], 15)
        wait_for(lambda: rig.board.value(1) == int(second["number"]), 15, "the board shows the next number")
        rig.keypad.press(1, "no_show")
        wait_for(lambda: rig.ticket(second["id"])["status"] == "no_show", 15, "marked absent from the keypad")
        assert not rig.box.is_open(1), "an absent citizen is not asked to rate"
    finally:
        tv.close()


def _dossier_code(rig) -> str:
    day = datetime.now(ZoneInfo("Asia/Ho_Chi_Minh")).date()
    code = f"000.17.22.H56-{day:%y%m%d}-0042"
    buf = io.StringIO(newline="")
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(["ma_ho_so", "thu_tuc", "linh_vuc", "nguoi_nop", "ngay_nhan", "ngay_hen_tra", "trang_thai",
                "ma_tra_cuu", "so_giay_to"])
    w.writerow([code, "Đăng ký khai sinh", "Hộ tịch", "Nguyễn Văn An", f"{day:%d/%m/%Y}",
                f"{day + timedelta(days=3):%d/%m/%Y}", 4, "K00042", "001090000042"])
    r = requests.post(rig.url + "/api/v1/dossiers/import", data=buf.getvalue().encode("utf-8"),
                      headers={**rig.token("quay1"), "Content-Type": "text/csv"}, timeout=30)
    assert r.status_code == 200, r.text
    return code


@pytest.mark.slow
def test_codes_read_on_an_agent_open_the_dossier_on_the_kiosks_and_its_devices_report_plugs(rig):
    from barcode_images import code128_image

    code = _dossier_code(rig)
    kiosk, public = Listener(rig.url, KIOSK_TOKEN), Listener(rig.url)
    try:
        assert rig.scanner.scan(code)
        scan = kiosk.wait_for("kiosk:scan", lambda d: d["source"] == "may-quet", 15)
        assert scan["code"] == code and scan["dossier"]["code"] == code and scan["dossier"]["status_label"]
        img = code128_image(code)
        img.save(rig.camera_dir / ".incoming.png")
        (rig.camera_dir / ".incoming.png").rename(rig.camera_dir / "bien-nhan.png")
        cam = kiosk.wait_for("kiosk:scan", lambda d: d["source"] == "camera-quay", 20)
        assert cam["code"] == code and cam["dossier"]["code"] == code
        assert not [e for e, _ in public.events if e == "kiosk:scan"], "codes go to the kiosks only"
    finally:
        kiosk.close()
        public.close()

    # The devices API shows the agent's devices and units as local ones: unplugged, then back.
    devs = rig.devices()
    unit = devs["ban-phim-quay/1"]
    assert unit["counter"] == 1 and unit["agent"] == "may-tram-quay" and unit["state"] == "ready"
    assert devs["bang-led-quay"]["state_label"] == "Sẵn sàng"
    rig.keypad.unplug()
    lost = wait_for(lambda: (d := rig.devices()["ban-phim-quay"])["state"] in ("lost", "error") and d, 20,
                    "the unplugged keypad reported")
    assert lost["state_label"] in ("Mất kết nối", "Gặp sự cố") and lost["agent"] == "may-tram-quay"
    assert rig.devices()["hop-danh-gia"]["state"] == "ready", "the other devices go on"
    rig.keypad.replug()
    wait_for(lambda: rig.devices()["ban-phim-quay"]["state"] == "ready", 30, "the keypad back")
    # ... and it works again.
    tk = rig.issue()
    rig.keypad.press(1, "call_next")
    wait_for(lambda: rig.ticket(tk["id"])["status"] == "called", 15, "called from the replugged keypad")
    rig.keypad.press(1, "no_show")
    wait_for(lambda: rig.ticket(tk["id"])["status"] == "no_show", 15, "counter 1 free again")


@pytest.mark.slow
def test_while_the_link_is_down_a_key_is_not_replayed_and_a_rating_is_kept(rig):
    from drivers.serialdev.counter_protocol import keypad_wire_address, rating_wire_address

    staff = rig.token("quay1")
    served = rig.issue()
    rig.keypad.press(1, "call_next")
    wait_for(lambda: rig.ticket(served["id"])["status"] == "called", 15, "called")
    rig.keypad.press(1, "finish")
    wait_for(lambda: rig.box.is_open(1), 15, "the rating box lights up")
    waiting = rig.issue()

    rig.server.kill9()
    wait_for(lambda: rig.agent.linked() is False, 30, "the agent sees the link gone")
    rig.keypad.press(1, "call_next")  # nobody can be called now: never later either
    wait_for(lambda: rig.keypad.pending_events(keypad_wire_address(1)) == 0, 15, "the agent read the key")
    assert rig.box.press(1, "very_satisfied")
    wait_for(lambda: rig.box.pending_events(rating_wire_address(1)) == 0, 15, "the agent read the rating")

    rig.server.start()
    wait_for(lambda: rig.agent.linked(), 30, "the agent is linked again")
    (rating,) = wait_for(lambda: rig.ratings(staff, served), 20, "the kept rating recorded")
    assert rating["ticket_id"] == served["id"] and rating["level"] == "very_satisfied"
    wait_for(rig.all_ready, 30, "the agent's devices ready again")
    assert rig.ticket(waiting["id"])["status"] == "waiting", "the key pressed while offline was not replayed"
    # The keypad works again at once.
    rig.keypad.press(1, "call_next")
    wait_for(lambda: rig.ticket(waiting["id"])["status"] == "called", 15, "called after the link came back")


def test_a_kept_rating_lands_on_the_visit_the_box_was_lit_for(db_url, engine_for, office_config, clock):
    """Server side, both databases: a rating the agent kept while its link was down comes with
    its age; it rates the visit that ended last before the press, not one finished since, and
    none when the press came long after (a box left lit while the link was down)."""
    from sqlalchemy import select

    from config.schema import DeviceConfig
    from motcua.devices.remote import RemoteAgents
    from motcua.store import tables as t

    box = DeviceConfig(name="hop-danh-gia", kind="rating_box", url="sim://", agent="may-tram-1", counters={"1": 1})
    cfg = office_config.model_copy(update={"devices": [
        DeviceConfig(name="may-tram-1", kind="agent", token=AGENT_TOKEN), box]})
    store, eng = engine_for(db_url, cfg)

    class Ctx:
        config, engine, bus = cfg, eng, eng.bus

    Ctx.store = store
    passed_on = []
    remote = RemoteAgents(Ctx, lambda *a, **k: None, lambda *a: None, lambda dev, body: passed_on.append(body))
    remote.add_device(box)

    def serve_one() -> dict:
        tk = eng.issue("HOTICH")
        eng.call_next(1)
        clock.advance(seconds=60)
        eng.finish(1)
        return tk

    def rated() -> dict:
        with store.read() as conn:
            return {r.ticket_id: r.level for r in conn.execute(select(t.ratings))}

    first = serve_one()
    clock.advance(seconds=8)  # the citizen presses now; the link is down
    clock.advance(seconds=20)
    second = serve_one()  # the counter went on (from its console) meanwhile
    clock.advance(seconds=5)
    press = {"device": "hop-danh-gia", "action": "rating", "address": 1, "level": "satisfied"}
    remote.on_input("may-tram-1", {**press, "age_s": 85.0})
    assert rated() == {first["id"]: "satisfied"}
    # Pressed 40 s after the second visit ended (the box stayed lit: its prompt time is 30 s).
    clock.advance(seconds=40)
    remote.on_input("may-tram-1", {**press, "level": "very_satisfied", "age_s": 0.5})
    remote.on_input("may-tram-1", {**press, "level": "very_satisfied", "age_s": 5000})  # kept too long
    remote.on_input("other-agent", {**press, "age_s": 1.0})  # not this agent's device
    assert rated() == {first["id"]: "satisfied"}
    assert [b.get("age_s") for b in passed_on] == [], "kept ratings never take the live path"
    # A live press (no age) goes the local devices' way (the registry's bindings).
    remote.on_input("may-tram-1", press)
    assert passed_on == [press]
