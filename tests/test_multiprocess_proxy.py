"""Two `motcua demo` processes on PostgreSQL and one Redis channel, behind Debian's nginx with
the configuration of docs/deployment.md (ip_hash, WebSocket upgrade, Host $http_host,
X-Forwarded-For; MOTCUA_TRUSTED_PROXIES=1): what a citizen, a TV and a counter see through the
proxy."""
from __future__ import annotations

import threading
import uuid
from collections import Counter, defaultdict

import pytest
import requests
from sqlalchemy import func, select

from cluster import TEST_CLIENT_HEADER, UPSTREAM_HEADER, Cluster, Screen, require_proxy_and_redis
from helpers import DISPLAY_TOKEN, KIOSK_TOKEN, REDIS_URL

pytestmark = [pytest.mark.slow, pytest.mark.postgres]


@pytest.fixture
def cluster(server_factory, tmp_path, pg_url):
    require_proxy_and_redis()
    c = Cluster(server_factory, tmp_path, pg_url, REDIS_URL).start()
    yield c
    c.stop()


def _kiosk(c: Cluster, ip: str, field: str = "HOTICH") -> dict:
    r = requests.post(c.url + "/api/v1/tickets", json={"service": field}, timeout=30,
                      headers={"Authorization": f"Bearer {KIOSK_TOKEN}", TEST_CLIENT_HEADER: ip})
    assert r.status_code == 201, r.text
    return r.json()


def _call_next(c: Cluster, ip: str, counter: int, token: str) -> tuple[dict, str]:
    """Finish the counter's citizen, then call the next (a second call-next within 2 s would
    be taken for a double press)."""
    h = {"Authorization": f"Bearer {token}", TEST_CLIENT_HEADER: ip}
    requests.post(f"{c.url}/api/v1/counters/{counter}/finish", headers=h, timeout=30)
    r = requests.post(f"{c.url}/api/v1/counters/{counter}/call-next", timeout=30,
                      headers={"Authorization": f"Bearer {token}", TEST_CLIENT_HEADER: ip,
                               "Idempotency-Key": uuid.uuid4().hex})  # a fresh press, as the console sends
    assert r.status_code == 200, r.text
    return r.json()["ticket"], r.headers.get(UPSTREAM_HEADER, "")


def _serving(state: dict | None, counter: int):
    for c in (state or {}).get("counters", []):
        if c["number"] == counter:
            return (c.get("serving") or {}).get("id")
    return None


def test_screens_on_both_processes_hear_a_call_made_on_either(cluster):
    ip_a, ip_b = cluster.ip_for(0), cluster.ip_for(1)
    tv_a = Screen(cluster.url, client_ip=ip_a, token=DISPLAY_TOKEN).connect()
    tv_b = Screen(cluster.url, client_ip=ip_b, token=DISPLAY_TOKEN).connect()
    try:
        for tv in (tv_a, tv_b):
            tv.wait(lambda s: s.state is not None, what="the first snapshot")
        staff = requests.post(cluster.url + "/api/v1/auth/token", json={"username": "quay1", "password": "motcua-demo"},
                              headers={TEST_CLIENT_HEADER: ip_a}, timeout=30).json()["token"]
        first, second = _kiosk(cluster, ip_a), _kiosk(cluster, ip_b)
        for ip, want, port in ((ip_a, first, cluster.servers[0].port), (ip_b, second, cluster.servers[1].port)):
            got, upstream = _call_next(cluster, ip, 1, staff)
            assert got["id"] == want["id"] and upstream.endswith(f":{port}")
            for tv in (tv_a, tv_b):
                tv.wait(lambda s: s.got("ticket:called", lambda d: d["ticket_id"] == want["id"]),
                        what=f"the call of {want['number']} made on port {port}")
                tv.wait(lambda s: _serving(s.state, 1) == want["id"], what="the counter's new ticket in the state")
    finally:
        tv_a.close()
        tv_b.close()


def test_a_phone_page_on_one_process_follows_calls_made_on_the_other(cluster):
    """Phone pages follow their own ticket (motcua/ticket_pages.py): each process tells its own
    pages, hearing the other process's queue states through Redis."""
    ip_a, ip_b = cluster.ip_for(0), cluster.ip_for(1)
    staff = requests.post(cluster.url + "/api/v1/auth/token", json={"username": "quay1", "password": "motcua-demo"},
                          headers={TEST_CLIENT_HEADER: ip_a}, timeout=30).json()["token"]
    _call_next(cluster, ip_a, 1, staff)  # whoever waits from before goes first
    tickets = [_kiosk(cluster, ip_a) for _ in range(3)]
    phones = [Screen(cluster.url, client_ip=ip, auth={"ticket": tickets[2]["token"]}).connect() for ip in (ip_a, ip_b)]
    try:
        for phone in phones:
            phone.wait(lambda s: s.got("ticket:update", lambda d: d["id"] == tickets[2]["id"]), 30, "its ticket")
        aheads = {p.got("ticket:update")[1]["ahead"] for p in phones}
        assert len(aheads) == 1
        ahead = aheads.pop()
        assert ahead >= 2
        for k, ip in enumerate((ip_b, ip_a)):  # a call on each process
            _call_next(cluster, ip, 1, staff)
            for phone in phones:
                phone.wait(lambda s: s.got("ticket:update", lambda d: d["ahead"] == ahead - 1 - k), 30,
                           f"the place after call {k + 1}")
        for phone in phones:
            assert not phone.got("queue:changed"), "a phone page gets its ticket, not the whole queue"
    finally:
        for phone in phones:
            phone.close()


def test_numbers_are_never_shared_when_issuing_through_the_proxy(cluster, pg_url):
    from motcua.store import Store
    from motcua.store import tables as t

    ips = [cluster.ip_for(0), cluster.ip_for(1)]
    plan = ["HOTICH", "TRAKQ", "DATDAI", "LDTBXH"] * 60
    issued: list[dict] = []
    upstreams: Counter = Counter()
    errors: list[str] = []
    lock = threading.Lock()

    def issuer(i: int) -> None:
        s = requests.Session()
        for j, field in enumerate(plan[i::8]):
            r = s.post(cluster.url + "/api/v1/tickets", json={"service": field}, timeout=30,
                       headers={"Authorization": f"Bearer {KIOSK_TOKEN}", TEST_CLIENT_HEADER: ips[(i + j) % 2]})
            with lock:
                upstreams[r.headers.get(UPSTREAM_HEADER)] += 1
                (issued.append(r.json()) if r.status_code == 201 else errors.append(f"{r.status_code} {r.text[:200]}"))

    threads = [threading.Thread(target=issuer, args=(i,)) for i in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(300)
    assert errors == []
    assert len(upstreams) == 2 and min(upstreams.values()) >= len(plan) // 3, upstreams
    by_field = defaultdict(list)
    for tk in issued:
        by_field[tk["service"]].append(tk["number"])
    for field, numbers in by_field.items():
        assert len(numbers) == len(set(numbers)) == plan.count(field), f"a number was shared in {field}"
    store = Store(pg_url)
    try:
        with store.read() as conn:
            assert conn.execute(select(func.count()).select_from(t.tickets)).scalar_one() == len(plan)
    finally:
        store.dispose()


def test_long_polling_through_the_proxy_stays_on_one_process(cluster):
    """Socket.IO's long-polling fallback needs every poll of a session on one process:
    ip_hash keeps it there, and the screen hears a call made on the other process."""
    ip_a = cluster.ip_for(0)
    # python-engineio sends custom headers with its first request only: this screen stands
    # for its address by connecting from it (127.0.i.9), as a browser on the LAN does.
    from_b = cluster.nginx.source_ip_for(cluster.servers[1].port)
    tv = Screen(cluster.url, source_ip=from_b, token=DISPLAY_TOKEN, transports=("polling",)).connect()
    try:
        assert tv.sio.transport() == "polling"
        tv.wait(lambda s: s.state is not None, what="the first snapshot")
        staff = requests.post(cluster.url + "/api/v1/auth/token", json={"username": "quay2", "password": "motcua-demo"},
                              headers={TEST_CLIENT_HEADER: ip_a}, timeout=30).json()["token"]
        calls = []
        for _ in range(3):  # several polls in a row, each answered by the session's process
            want = _kiosk(cluster, ip_a, "DATDAI")
            got, upstream = _call_next(cluster, ip_a, 2, staff)
            assert got["id"] == want["id"] and upstream.endswith(f":{cluster.servers[0].port}")
            tv.wait(lambda s: s.got("ticket:called", lambda d: d["ticket_id"] == want["id"]),
                    what="a call made on the other process, over long-polling")
            calls.append(want["id"])
        assert tv.sio.connected and len(tv.connects) == 1, "the polling session was broken and reconnected"
        tv.wait(lambda s: _serving(s.state, 2) == calls[-1], what="the last call in the state")
    finally:
        tv.close()


def test_callers_address_comes_from_the_proxy_not_from_the_caller(cluster):
    """Anonymous ticket requests are limited per caller address. Through nginx the address is
    the one nginx saw, even when the caller sends its own X-Forwarded-For (here one that would
    make it count as local, never limited)."""
    ip = cluster.ip_for(0)
    codes = []
    for _ in range(40):
        r = requests.post(cluster.url + "/api/v1/tickets", json={"service": "HOTICH"}, timeout=30,
                          headers={TEST_CLIENT_HEADER: ip, "X-Forwarded-For": "127.0.0.1"})
        codes.append(r.status_code)
        if r.status_code == 429:
            assert "quá nhiều số" in r.json()["message"]
            break
    assert codes[0] == 201 and codes[-1] == 429, codes
