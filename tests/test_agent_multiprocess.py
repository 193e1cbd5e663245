"""A device agent with several server processes (issue 16): two `motcua serve` processes on
PostgreSQL and one Redis channel behind Debian's nginx, the agent (the real agent code, run in
this test so its simulated LED board and keypad can be read) linked through nginx to one of
them, "the holder"; the kiosk, the counter and the administrator reach the other one.

What a user notices: a ticket taken through the other process prints once on the agent's
printer, its kiosk is told the printer is ready; the administrator's device list, test print,
test call and unplug/replug there work for the agent's devices; a call made there shows on the
agent's LED board and keypad display, a visit finished there lights its rating box; a key press on the agent's
keypad acts on the shared queue; and when the holder dies the agent goes on with the other
process, nothing printed twice."""
from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import pytest
import requests

from cluster import TEST_CLIENT_HEADER, UPSTREAM_HEADER, OfficeCluster, require_proxy_and_redis
from escpos_decode import decode as escpos_decode
from agent_support import agent_office_file, device, printer_and_board
from helpers import KIOSK_TOKEN, REDIS_URL, ROOT, free_port, wait_for

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

AGENT_TOKEN = "agent-token-0002-nhieu-tien-trinh"
PASSWORD = "mat-khau-thu-nghiem"


def _office_file(tmp: Path, printer_dir: Path, local_port: int) -> Path:
    devices = (printer_and_board("may-tram-1", printer_dir, 60)
               + device("ban-phim-quay", "keypad", "may-tram-1", url='"sim://"', counters='{ "1" = 1 }')
               + device("hop-danh-gia", "rating_box", "may-tram-1", url='"sim://"', counters='{ "1" = 1 }'))
    return agent_office_file(tmp, agent="may-tram-1", token=AGENT_TOKEN, local_port=local_port, block=0, devices=devices)


class _Office:
    def __init__(self, cluster: OfficeCluster, printer_dir: Path, agent_dir: Path, local_port: int):
        self.c, self.printer_dir, self.agent_dir, self.local_port = cluster, printer_dir, agent_dir, local_port
        # The agent connects from 127.0.0.1 without any test header: nginx's ip_hash sends it
        # to one process, the holder; the kiosk, the counter and the administrator use the other.
        up = requests.get(cluster.url + "/healthz", timeout=10).headers[UPSTREAM_HEADER]
        self.hold = next(i for i, s in enumerate(cluster.servers) if up.endswith(f":{s.port}"))
        self.other = 1 - self.hold
        self.ip = cluster.ip_for(self.other)
        self.agent = None
        self._thread: threading.Thread | None = None

    def start_agent(self):
        from agent.link import Agent

        self.agent = Agent(self.c.url, AGENT_TOKEN, self.agent_dir, local_port=self.local_port, retry_max_s=2.0)
        self._thread = threading.Thread(target=self.agent.run, name="test-agent", daemon=True)
        self._thread.start()
        return self.agent

    def stop_agent(self):
        if self.agent is not None:
            self.agent.stop()
            self._thread.join(15)

    def h(self, token: str | None = None) -> dict:
        h = {TEST_CLIENT_HEADER: self.ip}
        if token:
            h["Authorization"] = f"Bearer {token}"
        return h

    def token(self, username: str) -> str:
        r = requests.post(self.c.url + "/api/v1/auth/token", json={"username": username, "password": PASSWORD},
                          headers=self.h(), timeout=30)
        r.raise_for_status()
        return r.json()["token"]

    def devices(self, url: str | None = None) -> dict:
        r = requests.get((url or self.c.url) + "/api/v1/devices", headers=self.h(KIOSK_TOKEN), timeout=10)
        return {d["name"]: d for d in r.json()}

    def issue(self) -> dict:
        r = requests.post(self.c.url + "/api/v1/tickets", json={"service": "HOTICH"}, headers=self.h(KIOSK_TOKEN),
                          timeout=30)
        assert r.status_code == 201, r.text
        assert r.headers[UPSTREAM_HEADER].endswith(f":{self.c.servers[self.other].port}")
        return r.json()

    def job_state(self, job_id: str) -> str:
        return requests.get(f"{self.c.url}/api/v1/print-jobs/{job_id}", headers=self.h(KIOSK_TOKEN),
                            timeout=10).json().get("state")

    def printed(self) -> list[str]:
        """The numbers on the papers the agent's printer gave out, in order."""
        import pytesseract

        out = []
        for p in sorted(self.printer_dir.glob("*.bin")) if self.printer_dir.is_dir() else []:
            paper = escpos_decode(p.read_bytes()).paper
            text = pytesseract.image_to_string(paper, config="--psm 11 -c tessedit_char_whitelist=0123456789")
            out.append(" ".join(text.split()))
        return out

    def papers(self) -> int:
        return len(list(self.printer_dir.glob("*.bin"))) if self.printer_dir.is_dir() else 0

    def board(self, unit: int) -> int | None:
        bus = self.agent.hw.buses.get("bang-led-quay") if self.agent else None
        sim = getattr(bus, "simulator", None)
        try:
            return sim.value(unit) if sim is not None else None
        except Exception:  # noqa: BLE001 - the twin is starting
            return None

    def keypad(self) -> tuple[str, int] | None:
        bus = self.agent.hw.buses.get("ban-phim-quay") if self.agent else None
        sim = getattr(bus, "simulator", None)
        return sim.display(1) if sim is not None else None

    def serving(self, counter: int) -> int | None:
        q = requests.get(self.c.url + "/api/v1/queue", headers=self.h(), timeout=10).json()
        c = next(c for c in q["counters"] if c["number"] == counter)
        return (c.get("serving") or {}).get("id")


@pytest.fixture
def office(server_factory, tmp_path, pg_url):
    require_proxy_and_redis()
    local_port = free_port()
    printer_dir = tmp_path / "agent-printer"
    cfg = _office_file(tmp_path, printer_dir, local_port)
    env = {"MOTCUA_DATABASE_URL": pg_url}
    import os

    for user in (["quay1", "--counters", "1"], ["admin", "--role", "admin"]):
        subprocess.run([sys.executable, "-m", "motcua.cli", "user", "add", *user, "--password", PASSWORD,
                        "--config", str(cfg), "--data", str(tmp_path / "users")], check=True, cwd=str(ROOT),
                       capture_output=True, env={**os.environ, **env})
    c = OfficeCluster(server_factory, tmp_path, pg_url, REDIS_URL, cfg).start()
    o = _Office(c, printer_dir, tmp_path / "agent", local_port)
    yield o
    o.stop_agent()
    c.stop()


def _ready_on(o: _Office, url: str | None = None) -> bool:
    d = o.devices(url)
    return all(d.get(n, {}).get("state") == "ready" for n in ("may-tram-1", "may-in-ve", "bang-led-quay"))


def _call_next(o: _Office, staff: str, counter: int = 1) -> dict:
    requests.post(f"{o.c.url}/api/v1/counters/{counter}/finish", headers=o.h(staff), timeout=30)
    r = requests.post(f"{o.c.url}/api/v1/counters/{counter}/call-next", json={}, timeout=30, headers=o.h(staff))
    assert r.status_code == 200, r.text
    assert r.headers[UPSTREAM_HEADER].endswith(f":{o.c.servers[o.other].port}")
    return r.json()["ticket"]


def _device_action(o: _Office, admin: str, name: str, action: str) -> requests.Response:
    r = requests.post(f"{o.c.url}/api/v1/admin/devices/{name}/test", json={"action": action},
                      headers=o.h(admin), timeout=30)
    assert r.headers[UPSTREAM_HEADER].endswith(f":{o.c.servers[o.other].port}")
    return r


def test_work_made_on_the_other_process_reaches_the_agent(office):
    o = office
    holder = o.c.servers[o.hold]
    admin = o.token("admin")
    # Before the agent has linked anywhere, a test call cannot reach its board: said so, not lost.
    r = _device_action(o, admin, "bang-led-quay", "test_call")
    assert r.status_code == 409 and "Máy trạm may-tram-1 chưa kết nối" in r.json()["message"], r.text
    o.start_agent()
    wait_for(lambda: _ready_on(o, holder.url), 60, "the agent's devices ready on the process it is linked to")
    # The administrator's device list, served by the other process, shows them ready too.
    wait_for(lambda: _ready_on(o), 20, "the agent's devices ready on the other process")
    # A ticket taken there: the kiosk is told the printer is ready; it prints once, on the agent.
    tk = o.issue()
    assert tk["print_job"]["printer_ok"] is True, tk["print_job"]
    wait_for(lambda: o.job_state(tk["print_job"]["job_id"]) == "done", 30, "the ticket printed (job done)")
    assert o.papers() == 1 and tk["number"] in o.printed()[0]
    # The administrator's test print, asked there, comes out of the agent's printer.
    r = _device_action(o, admin, "may-in-ve", "test_print")
    assert r.status_code == 202, r.text
    wait_for(lambda: o.papers() == 2, 30, "the test ticket printed on the agent's printer")
    # The test call, asked there, shows 8888 on the agent's board; unplugging the agent's keypad
    # twin there is seen on both processes, and so is plugging it back.
    r = _device_action(o, admin, "bang-led-quay", "test_call")
    assert r.status_code == 202 and "8888" in r.json()["message"], r.text
    wait_for(lambda: o.board(1) == 8888, 20, "8888 on the agent's LED board")
    assert _device_action(o, admin, "ban-phim-quay", "unplug").status_code == 202
    for url in (None, holder.url):
        wait_for(lambda u=url: o.devices(u).get("ban-phim-quay", {}).get("state") not in (None, "ready"), 30,
                 "the unplugged keypad shown not ready")
    assert _device_action(o, admin, "ban-phim-quay", "replug").status_code == 202
    for url in (None, holder.url):
        wait_for(lambda u=url: o.devices(u).get("ban-phim-quay", {}).get("state") == "ready", 30,
                 "the keypad plugged back shown ready")
    # A call made there shows on the agent's LED board; the keypad shows who is served and
    # how many wait.
    staff = o.token("quay1")
    second = o.issue()
    called = _call_next(o, staff)
    assert called["id"] == tk["id"]
    wait_for(lambda: o.board(1) == int(tk["number"]), 20, f"the LED board shows {tk['number']}")
    wait_for(lambda: o.keypad() == (tk["number"], 1), 20, "the keypad shows the number and one waiting")
    # A key press on the agent's keypad (arriving at the holder) acts on the shared queue.
    sim = o.agent.hw.buses["ban-phim-quay"].simulator
    sim.press(1, "finish")
    wait_for(lambda: o.serving(1) is None, 20, "the keypad's finish seen through the other process")
    sim.press(1, "call_next")
    wait_for(lambda: o.serving(1) == second["id"], 20, "the keypad's call seen through the other process")
    wait_for(lambda: o.board(1) == int(second["number"]), 20, f"the LED board shows {second['number']}")
    # The keypad's finish lit the rating box (on the holder); the citizen rates: it goes out.
    box = o.agent.hw.buses["hop-danh-gia"].simulator
    wait_for(lambda: box.is_open(1), 20, "the rating box lit for the visit finished by the keypad")
    box.press(1, "satisfied")
    wait_for(lambda: not box.is_open(1), 20, "the rating box out once rated")
    # A visit finished on the other process lights it again.
    r = requests.post(f"{o.c.url}/api/v1/counters/1/finish", json={}, headers=o.h(staff), timeout=30)
    assert r.status_code == 200, r.text
    wait_for(lambda: box.is_open(1), 20, "the rating box lit for the visit finished on the other process")
    wait_for(lambda: o.job_state(second["print_job"]["job_id"]) == "done", 30, "second ticket printed")
    assert o.papers() == 3, "every ticket printed exactly once"


def test_the_agent_goes_on_with_the_other_process_when_its_own_dies(office):
    o = office
    holder, other = o.c.servers[o.hold], o.c.servers[o.other]
    o.start_agent()
    wait_for(lambda: _ready_on(o, holder.url), 60, "the agent linked to its process")
    first = o.issue()
    wait_for(lambda: o.job_state(first["print_job"]["job_id"]) == "done", 30, "first ticket printed")
    holder.kill9()
    # Taken while the agent is between processes: printed once it is back.
    waiting = o.issue()
    wait_for(lambda: _ready_on(o, other.url) and o.agent.linked.is_set(), 60,
             "the agent linked again, through nginx, to the process still running")
    wait_for(lambda: o.job_state(waiting["print_job"]["job_id"]) == "done", 30, "the waiting ticket printed")
    after = o.issue()
    wait_for(lambda: o.job_state(after["print_job"]["job_id"]) == "done", 30, "a later ticket printed")
    papers = o.printed()
    assert len(papers) == 3, f"nothing printed twice: {papers}"
    for paper, tk in zip(papers, (first, waiting, after)):
        assert tk["number"] in paper
    staff = o.token("quay1")
    called = _call_next(o, staff)
    wait_for(lambda: o.board(1) == int(called["number"]), 20, "the LED board follows the surviving process")
