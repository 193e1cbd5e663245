"""Device agents (docs/agents.md): the real agent program (`python -m agent`) talking to a
real server process (`motcua serve`) over Socket.IO, its devices simulated (a virtual
printer, a simulated LED board). Printed tickets are read back from the agent's virtual
printer with the independent ESC/POS decoder.

Faults: the agent killed (kill -9) and started again; a job left past its time; the server
gone while the kiosk keeps issuing from the agent's numbers (offline.py), then back."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import requests

from escpos_decode import decode as escpos_decode
from agent_support import AgentProcess, agent_office_file, device, printer_and_board
from helpers import KIOSK_TOKEN, ROOT, ServerProcess, free_port, wait_for

pytestmark = pytest.mark.slow

AGENT_TOKEN = "agent-token-0001-thu-nghiem-may-tram"
KIOSK = {"Authorization": f"Bearer {KIOSK_TOKEN}"}
PASSWORD = "mat-khau-thu-nghiem"


def office_file(tmp: Path, agent_dir: Path, *, job_timeout: float = 30, local_port: int = 8765) -> Path:
    return agent_office_file(tmp, agent="may-tram-1", token=AGENT_TOKEN, local_port=local_port, block=10,
                        devices=printer_and_board("may-tram-1", agent_dir / "printer", job_timeout)
                        + device("ban-phim-quay", "keypad", "may-tram-1", url='"sim://"', counters='{ "1" = 1 }'))


@pytest.fixture
def office(tmp_path, server_factory):
    """A server process with an agent-owned printer and LED board, and a way to run the agent."""
    agents: list[AgentProcess] = []
    port = free_port()
    agent_dir = tmp_path / "agent"

    def make(job_timeout: float = 30):
        cfg = office_file(tmp_path, agent_dir, job_timeout=job_timeout, local_port=port)
        data = tmp_path / "data"
        data.mkdir(exist_ok=True)
        for user in (["quay1", "--counters", "1"], ["admin", "--role", "admin"]):
            subprocess.run([sys.executable, "-m", "motcua.cli", "user", "add", *user, "--password", PASSWORD,
                            "--config", str(cfg), "--data", str(data)], check=True, cwd=str(ROOT), capture_output=True)
        server = server_factory(data, args=["serve", "--config", str(cfg)]).start()

        def agent() -> AgentProcess:
            a = AgentProcess(server.url, AGENT_TOKEN, agent_dir, port)
            agents.append(a)
            return a
        return server, agent, agent_dir / "printer"

    yield make
    for a in agents:
        a.stop()


def devices(server) -> dict:
    return {d["name"]: d for d in requests.get(server.url + "/api/v1/devices", headers=KIOSK, timeout=5).json()}


def jobs(printer_dir: Path) -> list[Path]:
    return sorted(printer_dir.glob("*.bin")) if printer_dir.is_dir() else []


def issue(server, service="HOTICH") -> dict:
    r = requests.post(server.url + "/api/v1/tickets", json={"service": service}, headers=KIOSK, timeout=10)
    assert r.status_code == 201, r.text
    return r.json()


def job_state(server, job_id) -> dict:
    return requests.get(f"{server.url}/api/v1/print-jobs/{job_id}", headers=KIOSK, timeout=5).json()


def digits(paper) -> list[str]:
    import pytesseract

    return pytesseract.image_to_string(paper, config="--psm 11 -c tessedit_char_whitelist=0123456789").split()


def test_agent_devices_show_and_the_kiosk_ticket_prints_on_the_agent(office):
    server, agent, printer_dir = office()
    # Before the agent comes, its devices are listed, not ready.
    before = wait_for(lambda: devices(server).get("may-in-ve"), 20, "the agent's printer listed")
    assert before["state"] == "lost" and before["agent"] == "may-tram-1" and before["state_label"] == "Mất kết nối"
    agent().start()
    wait_for(lambda: all(devices(server)[n]["state"] == "ready" for n in ("may-tram-1", "may-in-ve", "bang-led-quay")),
             30, "the agent's devices ready on /api/v1/devices")
    assert devices(server)["may-in-ve"]["state_label"] == "Sẵn sàng"
    tk = issue(server)
    assert tk["print_job"]["printer_ok"] is True
    (job,) = wait_for(lambda: jobs(printer_dir), 20, "the ticket printed on the agent's printer")
    paper = escpos_decode(job.read_bytes())
    assert paper.cut and tk["number"] in digits(paper.paper)
    wait_for(lambda: job_state(server, tk["print_job"]["job_id"])["state"] == "done", 20, "job reported done")
    # The agent's twin fails and recovers through the same admin call as a local one.
    admin = _token(server, "admin")
    r = requests.post(server.url + "/api/v1/devices/may-in-ve/simulate", json={"fault": "paper_out"}, headers=admin)
    assert r.status_code == 200, r.text
    st = wait_for(lambda: (d := devices(server)["may-in-ve"])["state"] == "error" and d, 20, "paper out reported")
    assert "giấy" in st["detail"] and st["state_label"] == "Gặp sự cố"
    requests.post(server.url + "/api/v1/devices/may-in-ve/simulate", json={"fault": None}, headers=admin)
    wait_for(lambda: devices(server)["may-in-ve"]["state"] == "ready", 20, "printer ready again")


def test_the_administrator_presses_an_agent_twin_s_key_and_reads_its_board(office):
    """The simulated twins of an agent's PC are driven from the server as the server's own are:
    a key pressed on the agent's keypad calls (through the agent's real keypad driver and link),
    and the agent's board and keypad are read back showing that number."""
    server, agent, _printer_dir = office()
    admin = _token(server, "admin")
    sim = f"{server.url}/api/v1/devices/ban-phim-quay"
    # No agent yet: refused with what to do, at once.
    r = requests.get(sim + "/simulated", headers=admin, timeout=10)
    assert r.status_code == 409 and "may-tram-1" in r.json()["message"], r.text
    agent().start()
    wait_for(lambda: all(devices(server)[n]["state"] == "ready" for n in ("may-tram-1", "ban-phim-quay", "bang-led-quay")),
             30, "the agent's devices ready")
    tk = issue(server)
    r = requests.post(sim + "/simulate", json={"action": "press", "address": 1, "key": "call_next"}, headers=admin,
                      timeout=10)
    assert r.status_code == 200, r.text
    called = wait_for(lambda: (t := requests.get(f"{server.url}/api/v1/tickets/{tk['id']}", timeout=5).json())
                      ["status"] == "called" and t, 20, "the ticket called by the agent's key")
    assert called["counter"] == 1
    number = tk["number"]
    keypad = wait_for(lambda: (b := requests.get(sim + "/simulated", headers=admin, timeout=10).json())
                      .get("displays", {}).get("1", [None])[0] == number and b, 20, "the keypad showing the number")
    assert keypad["agent"] == "may-tram-1" and keypad["name"] == "ban-phim-quay"
    board = wait_for(lambda: (b := requests.get(f"{server.url}/api/v1/devices/bang-led-quay/simulated",
                                                headers=admin, timeout=10).json()).get("values", {}).get("1") == int(number)
                     and b, 20, "the agent's board showing the number")
    assert set(board["values"]) == {"1", "2"}
    # What the twin cannot do is refused in Vietnamese, not a server error.
    r = requests.post(f"{server.url}/api/v1/devices/bang-led-quay/simulate", json={"action": "scan", "code": "x"},
                      headers=admin, timeout=10)
    assert r.status_code == 422 and "thao tác" in r.json()["message"], r.text


def test_a_job_waits_for_a_dropped_agent_and_is_printed_once(office):
    server, agent, printer_dir = office(job_timeout=60)
    a = agent().start()
    wait_for(lambda: devices(server)["may-in-ve"]["state"] == "ready", 30, "printer ready")
    a.kill9()
    wait_for(lambda: devices(server)["may-in-ve"]["state"] == "lost", 30, "the dropped agent's printer is lost")
    tk = issue(server)
    assert tk["print_job"]["printer_ok"] is False and tk["print_job"]["state"] == "queued"
    job_id = tk["print_job"]["job_id"]
    assert job_state(server, job_id)["state"] == "queued" and jobs(printer_dir) == []
    a2 = agent().start()
    (job,) = wait_for(lambda: jobs(printer_dir), 30, "the waiting job printed when the agent returns")
    assert tk["number"] in digits(escpos_decode(job.read_bytes()).paper)
    wait_for(lambda: job_state(server, job_id)["state"] == "done", 20, "job reported done")
    # Dropped and back once more: the job is finished, so it is never printed again.
    a2.kill9()
    wait_for(lambda: devices(server)["may-tram-1"]["state"] == "lost", 30, "agent lost")
    agent().start()
    wait_for(lambda: devices(server)["may-in-ve"]["state"] == "ready", 30, "printer back")
    second = issue(server)  # printed after anything the server could have sent again
    wait_for(lambda: job_state(server, second["print_job"]["job_id"])["state"] == "done", 30, "second job done")
    printed = [digits(escpos_decode(p.read_bytes()).paper) for p in jobs(printer_dir)]
    assert len(printed) == 2 and tk["number"] in printed[0] and second["number"] in printed[1]


def test_a_job_past_its_time_is_reported_failed_and_never_printed(office):
    server, agent, printer_dir = office(job_timeout=3)
    tk = issue(server)  # the agent never came
    job_id = tk["print_job"]["job_id"]
    st = wait_for(lambda: (s := job_state(server, job_id))["state"] == "failed" and s, 20, "job failed")
    assert "mất kết nối với máy trạm may-tram-1" in st["message"] and "3 giây" in st["message"]
    agent().start()
    wait_for(lambda: devices(server)["may-in-ve"]["state"] == "ready", 30, "printer ready")
    later = issue(server)
    wait_for(lambda: job_state(server, later["print_job"]["job_id"])["state"] == "done", 30, "later job done")
    (only,) = jobs(printer_dir)
    assert later["number"] in digits(escpos_decode(only.read_bytes()).paper)


def _token(server, username: str) -> dict:
    r = requests.post(server.url + "/api/v1/auth/token", json={"username": username, "password": PASSWORD}, timeout=10)
    r.raise_for_status()
    return {"Authorization": f"Bearer {r.json()['token']}"}


def _staff(server) -> dict:
    return _token(server, "quay1")


def test_the_kiosk_keeps_issuing_offline_and_hands_over_in_issue_order(office):
    server, agent, printer_dir = office()
    a = agent().start()
    wait_for(lambda: a.status().get("linked") and next(f for f in a.status()["fields"] if f["code"] == "HOTICH")[
        "remaining"] == 10, 30, "the agent holds a block of numbers")
    before = issue(server)  # issued by the server, before the outage
    wait_for(lambda: len(jobs(printer_dir)) == 1, 20, "first ticket printed")
    server.kill9()
    wait_for(lambda: a.status().get("linked") is False, 30, "the agent sees the server gone")
    offline = []
    for _ in range(3):
        r = requests.post(a.local + "/tickets", json={"service": "HOTICH"}, timeout=10)
        assert r.status_code == 201, r.text
        offline.append(r.json())
    numbers = [t["number"] for t in offline]
    assert len(set(numbers + [before["number"]])) == 4 and all(t["offline"] for t in offline)
    wait_for(lambda: len(jobs(printer_dir)) == 4, 20, "offline tickets printed")
    import pytesseract

    paper = escpos_decode(jobs(printer_dir)[1].read_bytes()).paper
    assert numbers[0] in digits(paper)
    text = " ".join(pytesseract.image_to_string(paper, lang="vie").split())
    assert "khi mất kết nối" in text, text  # the mark "Cấp khi mất kết nối"
    # Refused, never a number twice: no field, bad body.
    assert requests.post(a.local + "/tickets", json={"service": "KHONGCO"}, timeout=5).status_code == 404
    assert requests.post(a.local + "/tickets", data="x", timeout=5).status_code == 415

    server.start()  # the same data: the server is back
    wait_for(lambda: a.status().get("linked"), 30, "the agent is linked again")
    staff = _staff(server)

    def handed():
        q = requests.get(server.url + "/api/v1/queue", timeout=5).json()
        return next(s for s in q["services"] if s["code"] == "HOTICH")["waiting"] == 4
    wait_for(handed, 30, "the offline tickets handed over")
    after = issue(server)
    assert after["number"] not in numbers + [before["number"]]
    called = []
    for _ in range(5):  # call, then finish (a call-next right after a call is a double press)
        r = requests.post(server.url + "/api/v1/counters/1/call-next", json={}, headers=staff, timeout=10)
        assert r.status_code == 200, r.text
        called.append(r.json()["ticket"]["number"])
        assert requests.post(server.url + "/api/v1/counters/1/finish", json={}, headers=staff,
                             timeout=10).status_code == 200
    assert called == [before["number"], *numbers, after["number"]]
    # Agent restarted: nothing handed over twice.
    a.stop()
    agent().start()
    wait_for(lambda: devices(server)["may-tram-1"]["state"] == "ready", 30, "agent back")
    q = requests.get(server.url + "/api/v1/queue", timeout=5).json()
    assert next(s for s in q["services"] if s["code"] == "HOTICH")["waiting"] == 0


def test_the_agent_runs_without_the_server_core():
    """The agent's modules load with drivers/ and agentproto only: nothing of motcua or config."""
    code = ("import sys, agent.link, agent.main, agent.localweb, agent.hardware, agent.offline, agent.win32; "
            "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('motcua', 'config', 'kiosk', 'counter', "
            "'display', 'admin')); print(bad); sys.exit(1 if bad else 0)")
    r = subprocess.run([sys.executable, "-c", code], cwd=str(ROOT), capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
