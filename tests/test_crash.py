"""kill -9 the server while tickets are being issued: every ticket that got a 201 survives,
and numbering continues after a restart without reusing a number."""
from __future__ import annotations

import threading
import time

import pytest
import requests

from helpers import KIOSK_TOKEN


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_kill_9_loses_no_issued_ticket(server_factory, tmp_path, backend, request):
    env = {}
    if backend == "postgres":
        env["MOTCUA_DATABASE_URL"] = request.getfixturevalue("pg_url")
    data = tmp_path / "office"
    srv = server_factory(data, env=env).start()
    got: list[dict] = []
    lock = threading.Lock()
    stop = threading.Event()

    def issuer(field: str) -> None:
        s = requests.Session()
        while not stop.is_set():
            try:
                r = s.post(srv.url + "/api/v1/tickets", json={"service": field},
                           headers={"Authorization": f"Bearer {KIOSK_TOKEN}"}, timeout=5)
            except requests.RequestException:
                return
            if r.status_code == 201:
                with lock:
                    got.append(r.json())

    threads = [threading.Thread(target=issuer, args=(f,)) for f in ("HOTICH", "HOTICH", "TRAKQ", "TRAKQ")]
    for th in threads:
        th.start()
    deadline = time.monotonic() + 20
    while len(got) < 150 and time.monotonic() < deadline:
        time.sleep(0.05)
    srv.kill9()
    stop.set()
    for th in threads:
        th.join(10)
    assert len(got) >= 50, "the issuers did not get going"

    srv2 = server_factory(data, env=env, port=srv.port).start()
    for tk in got:
        r = requests.get(f"{srv2.url}/api/v1/tickets/{tk['id']}", timeout=5)
        assert r.status_code == 200, f"ticket {tk['number']} that got a 201 is gone"
        assert r.json()["number"] == tk["number"] and r.json()["service"] == tk["service"]
    for field in ("HOTICH", "TRAKQ"):
        before = {int(t["number"]) for t in got if t["service"] == field}
        new = requests.post(srv2.url + "/api/v1/tickets", json={"service": field},
                            headers={"Authorization": f"Bearer {KIOSK_TOKEN}"}, timeout=5).json()
        assert int(new["number"]) > max(before), "a number was reused after the crash"
