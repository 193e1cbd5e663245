"""The contract, through a real `motcua demo` process and a real python-socketio client."""
from __future__ import annotations

import json
import subprocess
import sys
import threading
import time

import pytest
import requests
import socketio

from helpers import DISPLAY_TOKEN, KIOSK_TOKEN, ROOT, Listener


def _auth(tok):
    return {"Authorization": f"Bearer {tok}"}


def test_healthz_and_services(shared_server):
    server = shared_server
    h = requests.get(server.url + "/healthz").json()
    assert h["status"] == "ok"
    svcs = requests.get(server.url + "/api/v1/services").json()
    codes = [s["code"] for s in svcs]
    assert codes[:2] == ["HOTICH", "DATDAI"] and all("waiting" in s and "name" in s for s in svcs)
    names = {s["code"]: s["name"] for s in svcs}
    assert names["LDTBXH"] == "Lao động - Thương binh và Xã hội"


def test_auth_token(shared_server):
    server = shared_server
    r = requests.post(server.url + "/api/v1/auth/token", json={"username": "quay1", "password": "motcua-demo"})
    assert r.status_code == 200 and r.json()["token"]
    bad = requests.post(server.url + "/api/v1/auth/token", json={"username": "quay1", "password": "sai"})
    assert bad.status_code == 401 and bad.json()["error"] and "không đúng" in bad.json()["message"]
    me = requests.get(server.url + "/api/v1/auth/me", headers=_auth(r.json()["token"])).json()
    assert me["role"] == "staff" and me["counters"] == [1]


def test_login_attempts_are_rate_limited(shared_server):
    server = shared_server
    codes = [requests.post(server.url + "/api/v1/auth/token", json={"username": "nguoila", "password": f"x{i}"}).status_code
             for i in range(7)]
    assert codes[:5] == [401] * 5 and codes[-1] == 429
    r = requests.post(server.url + "/api/v1/auth/token", json={"username": "nguoila", "password": "motcua-demo"})
    assert r.status_code == 429 and "thử lại" in r.json()["message"]
    assert requests.post(server.url + "/api/v1/auth/token",
                         json={"username": "quay1", "password": "motcua-demo"}).status_code == 200


def test_ticket_flow_with_socket_events(server):
    staff = server.token("quay1")
    display = Listener(server.url, DISPLAY_TOKEN)
    console = Listener(server.url, staff)
    try:
        snap = display.wait_for("queue:snapshot")
        assert {"services", "counters", "seq"} <= set(snap)
        r = requests.post(server.url + "/api/v1/tickets", json={"service": "HOTICH"}, headers=_auth(KIOSK_TOKEN))
        assert r.status_code == 201
        tk = r.json()
        assert tk["status"] == "waiting" and tk["number"] == "1001" and tk["service"] == "HOTICH"
        assert {"id", "ahead", "estimated_wait_s", "issued_at"} <= set(tk)
        assert requests.get(f"{server.url}/api/v1/tickets/{tk['id']}").json()["status"] == "waiting"
        q = requests.get(server.url + "/api/v1/queue").json()
        assert next(s for s in q["services"] if s["code"] == "HOTICH")["waiting"] == 1

        r = requests.post(server.url + "/api/v1/counters/1/call-next", headers=_auth(staff))
        assert r.status_code == 200 and r.json()["ticket"]["id"] == tk["id"]
        ev = display.wait_for("ticket:called", lambda d: d["ticket_id"] == tk["id"])
        assert ev["number"] == "1001" and ev["counter"] == 1 and ev["recall"] is False and ev["service"] == "HOTICH"
        console.wait_for("ticket:called", lambda d: d["ticket_id"] == tk["id"])

        r = requests.post(server.url + "/api/v1/counters/1/recall", headers=_auth(staff))
        assert r.status_code == 200
        display.wait_for("ticket:called", lambda d: d["ticket_id"] == tk["id"] and d["recall"] is True)

        r = requests.post(server.url + "/api/v1/counters/1/finish", headers=_auth(staff))
        assert r.status_code == 200 and r.json()["ticket"]["status"] == "done"
        display.wait_for("ticket:finished", lambda d: d["ticket"]["id"] == tk["id"])
        last = display.wait_for("queue:changed", lambda d: d["seq"] >= snap["seq"] + 4)
        states = [d for e, d in display.events if e == "queue:changed"]
        seqs = [d["seq"] for d in states]
        # Coalesced during bursts, but in order, chained by prev_seq, and the last is current.
        assert seqs == sorted(set(seqs)) and seqs[-1] == snap["seq"] + 4
        assert [d["prev_seq"] for d in states[1:]] == seqs[:-1]
        assert last["counters"][0]["serving"] is None
        assert next(s for s in last["services"] if s["code"] == "HOTICH")["waiting"] == 0
        assert requests.post(server.url + "/api/v1/counters/1/call-next", headers=_auth(staff)).json() == {"ticket": None}
    finally:
        display.close()
        console.close()


def test_skip_and_transfer(server):
    staff1, staff2 = server.token("quay1"), server.token("quay2")
    a = requests.post(server.url + "/api/v1/tickets", json={"service": "HOTICH"}, headers=_auth(KIOSK_TOKEN)).json()
    b = requests.post(server.url + "/api/v1/tickets", json={"service": "HOTICH"}, headers=_auth(KIOSK_TOKEN)).json()
    assert requests.post(server.url + "/api/v1/counters/1/call-next", headers=_auth(staff1)).json()["ticket"]["id"] == a["id"]
    r = requests.post(server.url + "/api/v1/counters/1/skip", headers=_auth(staff1))
    assert r.status_code == 200 and r.json()["ticket"]["status"] == "no_show"
    time.sleep(0.1)
    assert requests.post(server.url + "/api/v1/counters/1/call-next", headers=_auth(staff1)).json()["ticket"]["id"] == b["id"]
    r = requests.post(server.url + "/api/v1/counters/1/transfer", json={"service": "DATDAI"}, headers=_auth(staff1))
    assert r.status_code == 200 and r.json()["ticket"]["service"] == "DATDAI" and r.json()["ticket"]["number"] == b["number"]
    got = requests.post(server.url + "/api/v1/counters/2/call-next", headers=_auth(staff2)).json()["ticket"]
    assert got["id"] == b["id"] and got["number"] == b["number"]


def test_idempotency_key_header(server):
    staff = server.token("quay3")
    for _ in range(2):
        requests.post(server.url + "/api/v1/tickets", json={"service": "HKD"}, headers=_auth(KIOSK_TOKEN))
    h = {**_auth(staff), "Idempotency-Key": "press-42"}
    a = requests.post(server.url + "/api/v1/counters/3/call-next", headers=h).json()["ticket"]
    time.sleep(2.5)  # past the double-press window: only the key prevents a second call
    b = requests.post(server.url + "/api/v1/counters/3/call-next", headers=h).json()["ticket"]
    assert a["id"] == b["id"]


BAD_INPUTS = [
    ("post", "/api/v1/tickets", {"data": "{not json", "headers": {"Content-Type": "application/json"}}, 400),
    ("post", "/api/v1/tickets", {"json": {"service": "KHONGCO"}}, 404),
    ("post", "/api/v1/tickets", {"json": {"service": 12}}, 422),
    ("post", "/api/v1/tickets", {"json": {"service": "HOTICH", "priority": "vip"}}, 422),
    ("post", "/api/v1/tickets", {"json": ["HOTICH"]}, 400),
    ("post", "/api/v1/tickets", {"data": "service=HOTICH", "headers": {"Content-Type": "application/x-www-form-urlencoded"}}, 415),
    ("post", "/api/v1/tickets", {"data": b"\xff\xfe\x00", "headers": {"Content-Type": "application/json"}}, 400),
    ("post", "/api/v1/tickets", {"data": "{\"service\": \"" + "A" * 200_000 + "\"}", "headers": {"Content-Type": "application/json"}}, 413),
    ("get", "/api/v1/tickets/999999", {}, 404),
    ("get", "/api/v1/tickets/abc", {}, 404),
    ("post", "/api/v1/counters/1/call-next", {}, 401),
    ("post", "/api/v1/counters/1/call-next", {"headers": {"Authorization": "Bearer nonsense"}}, 401),
    ("post", "/api/v1/counters/1/call-next", {"headers": {"Authorization": "Basic abc"}}, 401),
    ("post", "/api/v1/counters/99/call-next", {"headers": {"Authorization": f"Bearer {KIOSK_TOKEN}"}}, 404),
    ("post", "/api/v1/counters/1/call-next", {"headers": {"Authorization": f"Bearer {KIOSK_TOKEN}"}}, 403),
    ("post", "/api/v1/tickets", {"json": {"service": "HOTICH"}, "headers": {"Authorization": f"Bearer {DISPLAY_TOKEN}"}}, 403),
    ("post", "/api/v1/counters/1/transfer", {"json": {"service": 5}, "headers": {"Authorization": f"Bearer {KIOSK_TOKEN}"}}, 403),
    ("post", "/api/v1/auth/token", {"json": {"username": 1}}, 422),
    ("delete", "/api/v1/queue", {}, 405),
    ("get", "/api/v1/announcements/preview?number=../../etc&counter=1", {}, 400),
]


@pytest.fixture(scope="module")
def shared_server(tmp_path_factory):
    from helpers import ServerProcess

    s = ServerProcess(tmp_path_factory.mktemp("shared")).start()
    yield s
    s.stop()


@pytest.mark.parametrize("method,path,kw,status", BAD_INPUTS)
def test_bad_input_gets_a_vietnamese_4xx(shared_server, method, path, kw, status):
    r = getattr(requests, method)(shared_server.url + path, timeout=10, **kw)
    assert r.status_code == status, r.text[:300]
    body = r.json()
    assert set(body) >= {"error", "message"}
    assert any(ch in body["message"] for ch in "ảạấầẩậắằẳặẽẹếềểệỉịỏọốồổộớờởợủụứừửựỳỵýđơưâêô"), body["message"]


def test_staff_of_another_counter_is_refused(shared_server):
    server = shared_server
    staff2 = server.token("quay2")
    for path in ("call-next", "recall", "skip", "finish"):
        r = requests.post(f"{server.url}/api/v1/counters/1/{path}", headers=_auth(staff2))
        assert r.status_code == 403 and r.json()["error"] == "not_your_counter" and "quầy 1" in r.json()["message"]
    r = requests.post(f"{server.url}/api/v1/counters/1/transfer", json={"service": "DATDAI"}, headers=_auth(staff2))
    assert r.status_code == 403
    admin = server.token("admin")
    requests.post(server.url + "/api/v1/tickets", json={"service": "HOTICH"}, headers=_auth(KIOSK_TOKEN))
    assert requests.post(f"{server.url}/api/v1/counters/1/call-next", headers=_auth(admin)).status_code == 200


def test_counter_action_without_a_ticket_is_a_409(shared_server):
    server = shared_server
    staff = server.token("quay4")
    r = requests.post(f"{server.url}/api/v1/counters/4/finish", headers=_auth(staff))
    assert r.status_code == 409 and "chưa gọi" in r.json()["message"]


def test_socket_refuses_a_bad_token_and_serves_anonymous(shared_server):
    server = shared_server
    bad = socketio.Client(reconnection=False)
    with pytest.raises(socketio.exceptions.ConnectionError):
        bad.connect(server.url, auth={"token": "not-a-token"}, transports=["websocket"], wait_timeout=5)
    anon = Listener(server.url)
    try:
        assert "counters" in anon.wait_for("queue:snapshot")
        anon.sio.emit("queue:resync")
        deadline = time.monotonic() + 5
        while sum(1 for e, _ in anon.events if e == "queue:snapshot") < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert sum(1 for e, _ in anon.events if e == "queue:snapshot") == 2
        ack = anon.sio.call("counter:watch", {"counter": 1}, timeout=5)
        assert ack["ok"] is False and ack["error"] == "forbidden"
    finally:
        anon.close()


def test_cli_check_config(tmp_path):
    ok = subprocess.run([sys.executable, "-m", "motcua.cli", "check-config", str(ROOT / "config/samples/province.toml")],
                        capture_output=True, text=True)
    assert ok.returncode == 0 and "20 quầy" in ok.stdout
    bad = tmp_path / "bad.toml"
    bad.write_text('[office]\nname = "X"\n[[fields]]\ncode = "HOTICH"\nname = "Hộ tịch"\n'
                   '[[counters]]\nnumber = 1\nfields = ["DATDAI"]\n', encoding="utf-8")
    r = subprocess.run([sys.executable, "-m", "motcua.cli", "check-config", str(bad)], capture_output=True, text=True)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert str(bad) in r.stderr and "DATDAI" in r.stderr
    bad.write_text('[office]\nname = "X"\n[[fields]]\ncode = "HOTICH"\nname = "Hộ tịch"\n'
                   '[[counters]]\nnumber = 1\nfields = ["HOTICH"]\nkeypad_transfer = "TRAKQ"\n', encoding="utf-8")
    r = subprocess.run([sys.executable, "-m", "motcua.cli", "check-config", str(bad)], capture_output=True, text=True)
    assert r.returncode == 2 and "keypad_transfer" in r.stderr and "TRAKQ" in r.stderr and "Traceback" not in r.stderr
    broken = tmp_path / "broken.toml"
    broken.write_text("[office\nname=", encoding="utf-8")
    r = subprocess.run([sys.executable, "-m", "motcua.cli", "serve", "--config", str(broken), "--data", str(tmp_path)],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and "TOML" in r.stderr and "Traceback" not in r.stderr


def test_cli_user_add_and_db_upgrade(tmp_path):
    data = tmp_path / "d"
    r = subprocess.run([sys.executable, "-m", "motcua.cli", "db", "upgrade", "--data", str(data)],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    r = subprocess.run([sys.executable, "-m", "motcua.cli", "user", "add", "lan", "--counters", "1,2",
                        "--password", "mat-khau-rat-dai", "--data", str(data)], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    from motcua.auth import Auth
    from motcua.store import Store
    from config import load_config, sample_path

    store = Store(f"sqlite:///{data / 'motcua.sqlite3'}")
    p = Auth(store, load_config(sample_path("commune")), "k").login("lan", "mat-khau-rat-dai")
    assert p.role == "staff" and p.counters == (1, 2)
    store.dispose()


def test_demo_stops_cleanly_on_sigterm(server):
    server.stop()
    assert server.proc.returncode == 0, server.log()


@pytest.mark.parametrize("q", ["dang ky khai sinh", "Đăng ký khai sinh", "DANG KY KHAI SINH", "dăng ky khai sinh"])
def test_procedure_search_accents_optional(shared_server, q):
    r = requests.get(shared_server.url + "/api/v1/procedures", params={"q": q})
    assert r.status_code == 200
    assert r.json()[0]["name"] == "Đăng ký khai sinh"
    detail = requests.get(shared_server.url + "/api/v1/procedures/" + r.json()[0]["code"]).json()
    assert detail["documents"], "a procedure lists the papers to bring"


def test_an_absurdly_long_request_line_gets_a_json_414(server):
    """Past 64 KiB the HTTP server itself refuses, still with a JSON message in Vietnamese."""
    import json
    import socket

    host, port = server.url.rsplit("/", 1)[-1].split(":")
    with socket.create_connection((host, int(port)), timeout=10) as s:
        s.sendall(b"GET /api/v1/lookup/scan?text=" + b"A" * 70_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n")
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 414")
    assert json.loads(body) == {"error": "uri_too_long", "message": "Địa chỉ yêu cầu quá dài."}
