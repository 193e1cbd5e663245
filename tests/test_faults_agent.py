"""Faults of a device agent and of a kiosk's link (issue 16, docs/agents.md), measured.

A real `motcua serve` and a real agent (`python -m agent`, a virtual printer and a simulated
LED board) whose link to the server goes through a TCP proxy of the test's own
(tests/tcp_proxy.py), which the test cuts and restores. A TV (a Socket.IO display client) and
a counter console (a staff Socket.IO client that reads its counter's view on every state, as
console.js does) watch the server meanwhile.

- The link cut: the kiosk keeps issuing from the agent's numbers (and another kiosk from the
  server) during the cut; when the link is back every ticket is in the server once, no number
  is used twice, the TV and the console show the handed-over tickets in issue order, the
  agent's devices are connected again, and the screens are right within 3 s of the link's
  return (measured, with the link returning just after the agent's last try: the worst case).
- The agent killed (kill -9) with offline tickets not yet handed over, and started again: its
  printer and LED board reconnect by themselves, the waiting print job is printed once, the
  tickets are handed over once; the time from the agent running to the server showing it
  connected and the screens right is measured.

`bench/faults/link_cut.py` runs the same link cut for minutes (docs/performance.md).
The figures of the runs here are printed (pytest -s shows them).
"""
from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable

import pytest
import requests

from cluster import Screen
from agent_support import AgentProcess, agent_office_file, printer_and_board
from helpers import DISPLAY_TOKEN, KIOSK_TOKEN, ROOT, free_port, wait_for
from tcp_proxy import TcpProxy

pytestmark = pytest.mark.slow

RESYNC_S = 3.0
AGENT_TOKEN = "agent-token-0002-thu-nghiem-su-co-mat-ket-noi"
PASSWORD = "mat-khau-thu-nghiem"
KIOSK = {"Authorization": f"Bearer {KIOSK_TOKEN}"}
AGENT_DEVICES = ("may-tram-1", "may-in-ve", "bang-led-quay")
FIELDS = {"HOTICH": 1, "DATDAI": 2}  # the fields issued here and the counter that serves each


# The office: a server, the agent behind a proxy, a TV and a console --------------------------
def office_file(tmp: Path, printer_dir: Path, *, block: int, local_port: int, job_timeout: float = 120) -> Path:
    return agent_office_file(tmp, agent="may-tram-1", token=AGENT_TOKEN, local_port=local_port, block=block,
                        devices=printer_and_board("may-tram-1", printer_dir, job_timeout), display=True)


class AgentOffice:
    """A server with the agent behind a cuttable proxy; every ticket issued is recorded in
    issue order (`issued`). `make_server(data_dir, args=..., env=...)` makes a ServerProcess
    (the tests' server_factory, or ServerProcess itself in bench/faults/)."""

    def __init__(self, tmp: Path, make_server: Callable[..., Any], *, block: int = 20):
        self.tmp = tmp
        self.printer_dir = tmp / "agent-printer"
        port = free_port()
        cfg = office_file(tmp, self.printer_dir, block=block, local_port=port)
        data = tmp / "data"
        data.mkdir(parents=True, exist_ok=True)
        for user in (["quay1", "--counters", "1"], ["quay2", "--counters", "2"]):
            subprocess.run([sys.executable, "-m", "motcua.cli", "user", "add", *user, "--password", PASSWORD,
                            "--config", str(cfg), "--data", str(data)], check=True, cwd=str(ROOT),
                           capture_output=True)
        self.db_url = f"sqlite:///{data.resolve() / 'motcua.sqlite3'}"
        self.server = make_server(data, args=["serve", "--config", str(cfg)], env={"MOTCUA_VOICE_GENERATE": "0"})
        self.proxy: TcpProxy | None = None
        self.agent: AgentProcess | None = None
        self.agent_port = port
        self.screens: list[Screen] = []
        self.issued: list[dict] = []
        self.staff: dict[str, dict] = {}

    def start(self) -> "AgentOffice":
        self.server.start(timeout=60)
        self.proxy = TcpProxy(self.server.port).start()
        self.agent = AgentProcess(self.proxy.url, AGENT_TOKEN, self.tmp / "agent", self.agent_port, self.tmp / "agent.log")
        self.agent.start()
        wait_for(lambda: self.devices_ready() and self.blocks_held(), 60,
                 "the agent's devices ready and its numbers held")
        for user in ("quay1", "quay2"):
            r = requests.post(self.server.url + "/api/v1/auth/token", json={"username": user, "password": PASSWORD},
                              timeout=30)
            r.raise_for_status()
            self.staff[user] = {"Authorization": f"Bearer {r.json()['token']}"}
        self.tv = self._screen(DISPLAY_TOKEN)
        self.console = self._screen(self.staff["quay1"]["Authorization"].split()[1])
        return self

    def _screen(self, token: str) -> Screen:
        s = Screen(self.server.url, token=token, reconnect=True).connect()
        self.screens.append(s)
        s.wait(lambda x: x.got("queue:snapshot"), 30, "the first snapshot")
        return s

    def close(self) -> None:
        for s in self.screens:
            s.close()
        if self.agent is not None:
            self.agent.stop()
        if self.proxy is not None:
            self.proxy.stop()
        self.server.stop()

    # What the server and the agent say --------------------------------------------------------
    def devices(self) -> dict:
        try:
            r = requests.get(self.server.url + "/api/v1/devices", headers=KIOSK, timeout=10)
            return {d["name"]: d for d in r.json()}
        except (requests.RequestException, ValueError):
            return {}

    def devices_ready(self) -> bool:
        d = self.devices()
        return all(d.get(n, {}).get("state") == "ready" for n in AGENT_DEVICES)

    def blocks_held(self) -> bool:
        rem = {f["code"]: f["remaining"] for f in self.agent.status().get("fields", [])}
        return all(rem.get(f, 0) > 0 for f in FIELDS)

    def printed(self) -> list[Path]:
        return sorted(self.printer_dir.glob("*.bin")) if self.printer_dir.is_dir() else []

    # Issuing ------------------------------------------------------------------------------------
    def issue_online(self, field: str) -> dict:
        r = requests.post(self.server.url + "/api/v1/tickets", json={"service": field}, headers=KIOSK, timeout=30)
        assert r.status_code == 201, r.text
        tk = r.json()
        self.issued.append({"field": field, "number": tk["number"], "id": tk["id"], "offline": False,
                            "print_job": (tk.get("print_job") or {}).get("job_id")})
        return tk

    def issue_offline(self, field: str) -> dict:
        r = requests.post(self.agent.local + "/tickets", json={"service": field}, timeout=30)
        assert r.status_code == 201, r.text
        tk = r.json()
        assert tk["offline"] is True
        self.issued.append({"field": field, "number": tk["number"], "uid": tk["uid"], "offline": True})
        return tk

    def expected_waiting(self) -> dict[str, int]:
        return {f: sum(1 for t in self.issued if t["field"] == f) for f in FIELDS}

    def order(self, field: str) -> list[str]:
        return [t["number"] for t in self.issued if t["field"] == field]

    # Checks ---------------------------------------------------------------------------------------
    def state_right(self, data: Any) -> bool:
        if not isinstance(data, dict) or "services" not in data:
            return False
        waiting = {s["code"]: s["waiting"] for s in data["services"]}
        return all(waiting.get(f) == n for f, n in self.expected_waiting().items())

    def first_right_state(self, screen: Screen, since: float) -> float | None:
        """When the screen first held the right waiting counts after `since`."""
        with screen.cv:
            for at, ev, data in screen.events:
                if at >= since and ev in ("queue:changed", "queue:snapshot") and self.state_right(data):
                    return at
        return None

    def console_view_right(self) -> bool:
        """Counter 1's console lists its waiting tickets in issue order (the first ten)."""
        try:
            r = requests.get(self.server.url + "/api/v1/counters/1", headers=self.staff["quay1"], timeout=10)
            nxt = [t["number"] for t in r.json()["next"]]
        except (requests.RequestException, ValueError, KeyError):
            return False
        return nxt == self.order("HOTICH")[:10]

    def db_check(self) -> dict[str, Any]:
        """Every issued ticket in the server's database once; numbers never used twice."""
        from collections import Counter

        from sqlalchemy import select

        from motcua.store import Store
        from motcua.store import tables as t

        store = Store(self.db_url)
        try:
            with store.read() as conn:
                rows = conn.execute(select(t.tickets.c.id, t.tickets.c.number, t.tickets.c.issue_field)).all()
                handed = conn.execute(select(t.agent_handovers.c.uid, t.agent_handovers.c.ticket_id)).all()
        finally:
            store.dispose()
        by_id = {r.id: (r.issue_field, r.number) for r in rows}
        uids = Counter(h.uid for h in handed)
        ticket_of = {h.uid: h.ticket_id for h in handed}
        lost = []
        for tk in self.issued:
            tid = ticket_of.get(tk["uid"]) if tk["offline"] else tk["id"]
            if by_id.get(tid) != (tk["field"], tk["number"]):
                lost.append(tk["number"])
        numbers = Counter((r.issue_field, r.number) for r in rows)
        return {"lost": lost, "duplicates": sum(n - 1 for n in numbers.values() if n > 1),
                "handed_twice": sum(n - 1 for n in uids.values() if n > 1),
                "handed_over": sum(1 for tk in self.issued if tk["offline"] and tk["uid"] in uids),
                "issued_twice_by_us": sum(n - 1 for n in Counter((t["field"], t["number"]) for t in self.issued)
                                          .values() if n > 1)}

    def call_all(self) -> dict[str, list[str]]:
        """Each field's counter calls (and finishes) every waiting ticket: the numbers in call order."""
        called: dict[str, list[str]] = {}
        for field, counter in FIELDS.items():
            h = self.staff[f"quay{counter}"]
            called[field] = []
            for _ in range(len(self.order(field))):
                r = requests.post(f"{self.server.url}/api/v1/counters/{counter}/call-next", json={}, headers=h,
                                  timeout=30)
                assert r.status_code == 200, r.text
                called[field].append(r.json()["ticket"]["number"])
                r = requests.post(f"{self.server.url}/api/v1/counters/{counter}/finish", json={}, headers=h,
                                  timeout=30)
                assert r.status_code == 200, r.text
        return called

    def tv_calls(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {f: [] for f in FIELDS}
        with self.tv.cv:
            for _, ev, data in self.tv.events:
                if ev == "ticket:called" and not data.get("recall") and data.get("service") in out:
                    out[data["service"]].append(data["number"])
        return out

    def tv_handed_over(self) -> list[tuple[str, str]]:
        with self.tv.cv:
            return [(d["ticket"]["service"], d["ticket"]["number"]) for _, ev, d in self.tv.events
                    if ev == "ticket:issued" and d.get("ticket", {}).get("offline")]


# The link cut (the test and bench/faults/link_cut.py) -------------------------------------------
def link_cut(office: AgentOffice, cut_s: float, *, offline_every: float, online_every: int = 3,
             silent: bool = False, worst_phase: bool = True, say: Callable[[str], None] = lambda _m: None,
             settle_timeout: float = 90) -> dict[str, Any]:
    """Cut the agent's link for `cut_s` seconds while its kiosk keeps issuing (one ticket every
    `offline_every` s, fields in turn) and another kiosk issues from the server (one for every
    `online_every` offline ones); restore it (with `worst_phase`, just after the agent's last
    failed try); measure until everything is right again. Returns the figures."""
    a, proxy = office.agent, office.proxy
    for f in FIELDS:  # before the cut, from the server
        office.issue_online(f)
    tries_before = len(a.retries())
    cut_at = proxy.cut(silent=silent)
    say(f"link cut ({'silent' if silent else 'reset'}) for {cut_s:.0f} s")
    agent_noticed = server_noticed = None
    n_off = n_on = 0
    fields = list(FIELDS)
    while True:
        now = time.monotonic()
        if now - cut_at >= cut_s:
            break
        if now >= cut_at + n_off * offline_every:
            office.issue_offline(fields[n_off % len(fields)])
            n_off += 1
            if online_every and n_off % online_every == 0:
                office.issue_online(fields[n_on % len(fields)])
                n_on += 1
        if agent_noticed is None and a.status().get("linked") is False:
            agent_noticed = time.monotonic() - cut_at
        if server_noticed is None and office.devices().get("may-tram-1", {}).get("state") == "lost":
            server_noticed = time.monotonic() - cut_at
        time.sleep(0.1)  # pacing the kiosks during the cut (its length is the scenario's input)
    if worst_phase and not silent:
        # Restore just after the agent tried and failed: it comes back after its full retry delay.
        seen = len(a.retries())
        wait_for(lambda: len(a.retries()) > seen, 60, "the agent trying the server again")
    retries = a.retries()[tries_before:]
    back = proxy.restore()
    say(f"link back after {back - cut_at:.1f} s; {n_off} offline, {n_on} online tickets issued meanwhile")
    marks: dict[str, float | None] = {"linked": None, "devices": None, "console_view": None}
    deadline = back + settle_timeout
    while time.monotonic() < deadline:
        if marks["linked"] is None and a.status().get("linked"):
            marks["linked"] = time.monotonic()
        if marks["devices"] is None and office.devices_ready():
            marks["devices"] = time.monotonic()
        if marks["console_view"] is None and office.console_view_right():
            marks["console_view"] = time.monotonic()
        tv_at = office.first_right_state(office.tv, back)
        console_at = office.first_right_state(office.console, back)
        if all(marks.values()) and tv_at and console_at:
            break
        time.sleep(0.02)

    def since_back(at: float | None) -> float | None:
        return None if at is None else round(at - back, 2)

    console_at = max(console_at, marks["console_view"]) if console_at and marks["console_view"] else None
    figures = {
        "cut_s": round(back - cut_at, 1), "mode": "silent" if silent else "reset",
        "offline_issued": n_off, "online_issued_during_cut": n_on, "tickets_total": len(office.issued),
        "agent_noticed_s": None if agent_noticed is None else round(agent_noticed, 2),
        "server_noticed_s": None if server_noticed is None else round(server_noticed, 2),
        "retries_during_cut": len(retries), "retry_delay_max_s": max(retries, default=None),
        "agent_linked_s": since_back(marks["linked"]), "devices_ready_s": since_back(marks["devices"]),
        "tv_right_s": since_back(tv_at), "console_right_s": since_back(console_at),
    }
    figures["resync_s"] = (max(figures["tv_right_s"], figures["console_right_s"])
                           if tv_at and console_at else None)
    figures.update(office.db_check())
    figures["tv_handed_over_in_order"] = office.tv_handed_over() == [
        (t["field"], t["number"]) for t in office.issued if t["offline"]]
    called = office.call_all()
    figures["called_in_issue_order"] = all(called[f] == office.order(f) for f in FIELDS)
    office.tv.wait(lambda s: all(len(office.tv_calls()[f]) == len(office.order(f)) for f in FIELDS), 30,
                   "every call on the TV")
    figures["tv_calls_in_issue_order"] = all(office.tv_calls()[f] == office.order(f) for f in FIELDS)
    return figures


def check_link_cut(figures: dict[str, Any], office: AgentOffice) -> None:
    """What issue 16 asks of a link cut."""
    assert figures["offline_issued"] > 0 and figures["online_issued_during_cut"] > 0
    assert figures["lost"] == [], figures
    assert figures["duplicates"] == 0 and figures["handed_twice"] == 0 and figures["issued_twice_by_us"] == 0, figures
    assert figures["handed_over"] == figures["offline_issued"], figures
    assert figures["devices_ready_s"] is not None, f"the agent's devices did not come back: {office.devices()}"
    assert figures["tv_handed_over_in_order"], (office.tv_handed_over(), office.issued)
    assert figures["called_in_issue_order"] and figures["tv_calls_in_issue_order"], (office.tv_calls(), office.issued)
    assert figures["resync_s"] is not None, figures
    assert figures["resync_s"] <= RESYNC_S, f"the screens were right {figures['resync_s']} s after the link came back: " \
                                            f"{figures}"


@pytest.fixture
def agent_office(tmp_path, server_factory):
    office = AgentOffice(tmp_path, server_factory).start()
    try:
        yield office
    finally:
        office.close()


def test_kiosk_link_cut_tickets_kept_and_screens_right_within_3s(agent_office):
    figures = link_cut(agent_office, 30, offline_every=3, say=print)
    print("link cut figures:", figures)
    check_link_cut(figures, agent_office)
    assert figures["retries_during_cut"] >= 3, "the agent did not keep trying during the cut"


def test_agent_killed_with_tickets_pending_comes_back_by_itself(agent_office):
    office = agent_office
    a = office.agent
    office.issue_online("HOTICH")
    # Its paper first: a job still on its way when the link is cut waits for the agent's return.
    wait_for(lambda: len(office.printed()) == 1, 60, "the first ticket printed")
    office.proxy.cut()
    wait_for(lambda: a.status().get("linked") is False, 30, "the agent sees its link gone")
    for f in ("HOTICH", "DATDAI", "HOTICH"):
        office.issue_offline(f)
    wait_for(lambda: len(office.printed()) == 4, 30, "the offline tickets printed")
    a.kill9()  # the three tickets are only in its journal
    wait_for(lambda: office.devices().get("may-in-ve", {}).get("state") == "lost", 30, "the printer shown lost")
    waiting_job = office.issue_online("DATDAI")  # its print job waits for the agent
    assert waiting_job["print_job"]["printer_ok"] is False
    printed_before = len(office.printed())
    office.proxy.restore()
    spawned = time.monotonic()
    running = a.start().running_at  # as its service manager would
    back: dict[str, float] = {}
    deadline = running + 60
    while time.monotonic() < deadline and len(back) < 3:
        if "devices" not in back and office.devices_ready():
            back["devices"] = time.monotonic()
        if "tv" not in back and (at := office.first_right_state(office.tv, spawned)):
            back["tv"] = at
        if "console" not in back and office.console_view_right() and office.first_right_state(office.console,
                                                                                               spawned):
            back["console"] = time.monotonic()
        time.sleep(0.02)
    figures = {"agent_start_s": round(running - spawned, 2),
               **{f"{k}_after_running_s": round(v - running, 2) for k, v in back.items()}}
    print("agent kill -9 figures:", figures)
    assert set(back) == {"devices", "tv", "console"}, (figures, office.devices())
    assert max(back.values()) - running <= RESYNC_S, figures
    # The job that waited is printed once; the agent's tickets are in once, in issue order.
    job = waiting_job["print_job"]["job_id"]
    wait_for(lambda: requests.get(f"{office.server.url}/api/v1/print-jobs/{job}", headers=KIOSK,
                                  timeout=10).json()["state"] == "done", 30, "the waiting job printed")
    assert len(office.printed()) == printed_before + 1
    checked = office.db_check()
    assert checked["lost"] == [] and checked["duplicates"] == 0 and checked["handed_over"] == 3, checked
    called = office.call_all()
    assert all(called[f] == office.order(f) for f in FIELDS), (called, office.issued)
    office.tv.wait(lambda s: all(office.tv_calls()[f] == office.order(f) for f in FIELDS), 30,
                   "the calls on the TV in issue order")
