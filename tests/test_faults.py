"""Faults of the several-process set-up: two `motcua demo` processes behind nginx on a PostgreSQL
and a Redis of the test's own (started here, stopped and started again here; never the shared
ones other test runs use).

- kill -9 one process: the other keeps serving; the screens of the killed one reconnect
  through nginx to the other and have the current state within 3 s of reconnecting;
- PostgreSQL restarts: no acknowledged ticket lost, no number reused, a 503 with a Vietnamese
  message meanwhile (never a 500), the servers answer again by themselves, the screens are
  current within 3 s;
- Redis restarts: events between the processes resume by themselves, and the screens of
  each process are current within 3 s of Redis returning.
"""
from __future__ import annotations

import threading
import time
import uuid
from collections import Counter, defaultdict

import pytest
import requests
from sqlalchemy import select

from cluster import TEST_CLIENT_HEADER, Cluster, PrivatePostgres, PrivateRedis, Screen, require
from helpers import DISPLAY_TOKEN, KIOSK_TOKEN, wait_for

pytestmark = pytest.mark.slow

RESYNC_S = 3.0


@pytest.fixture
def private_pg():
    if not PrivatePostgres.available():
        require("pg_ctl", "a private PostgreSQL for the fault tests")
    pg = PrivatePostgres()
    try:
        pg.init()
        yield pg
    finally:
        pg.destroy()  # stopped by its data directory's pid file, removed


@pytest.fixture
def private_redis():
    require("redis-server", "a private Redis for the fault tests")
    r = PrivateRedis().start()
    try:
        yield r
    finally:
        r.stop()


@pytest.fixture
def cluster(server_factory, tmp_path, private_pg, private_redis):
    require("nginx", "the reverse proxy of the several-process set-up")
    c = Cluster(server_factory, tmp_path, private_pg.url, private_redis.url).start()
    try:
        yield c
    finally:
        c.stop()


class Kiosks:
    """Kiosks issuing tickets through nginx without pause, from addresses on both processes;
    records every acknowledged (201) ticket and every other answer."""

    def __init__(self, c: Cluster, ips: list[str], fields=("HOTICH", "DATDAI", "LDTBXH", "TRAKQ")):
        self.c, self.ips, self.fields = c, ips, fields
        self.acked: list[dict] = []
        self.sent_at: list[float] = []  # when the request of each acknowledged ticket was sent
        self.other: Counter = Counter()
        self.bodies: dict[int, list[str]] = defaultdict(list)
        self.lock = threading.Lock()
        self.stop_ = threading.Event()
        self.threads = [threading.Thread(target=self._run, args=(i,), daemon=True) for i in range(4)]

    def _run(self, i: int) -> None:
        s = requests.Session()
        k = 0
        while not self.stop_.is_set():
            k += 1
            t0 = time.monotonic()
            try:
                r = s.post(self.c.url + "/api/v1/tickets", json={"service": self.fields[(i + k) % len(self.fields)]},
                           timeout=30, headers={"Authorization": f"Bearer {KIOSK_TOKEN}",
                                                TEST_CLIENT_HEADER: self.ips[(i + k) % len(self.ips)]})
            except requests.RequestException:
                with self.lock:
                    self.other["no answer"] += 1
                continue
            with self.lock:
                if r.status_code == 201:
                    self.acked.append(r.json())
                    self.sent_at.append(t0)
                else:
                    self.other[r.status_code] += 1
                    if len(self.bodies[r.status_code]) < 3:
                        self.bodies[r.status_code].append(r.text[:300])
            if r.status_code != 201:
                time.sleep(0.05)

    def count(self) -> int:
        with self.lock:
            return len(self.acked)

    def start(self) -> "Kiosks":
        for th in self.threads:
            th.start()
        return self

    def stop(self) -> None:
        self.stop_.set()
        for th in self.threads:
            th.join(60)


def _check_tickets(acked: list[dict], db_url: str) -> None:
    """Every acknowledged ticket is in the database; no number was given twice."""
    from motcua.store import Store
    from motcua.store import tables as t

    store = Store(db_url)
    try:
        with store.read() as conn:
            rows = conn.execute(select(t.tickets.c.id, t.tickets.c.number, t.tickets.c.issue_field)).all()
    finally:
        store.dispose()
    in_db = {r.id: r.number for r in rows}
    lost = [tk["number"] for tk in acked if in_db.get(tk["id"]) != tk["number"]]
    assert lost == [], f"acknowledged tickets missing from the database: {lost[:10]}"
    per_field = Counter((r.issue_field, r.number) for r in rows)
    assert max(per_field.values()) == 1, "a number was issued twice"
    numbers = Counter((tk["service"], tk["number"]) for tk in acked)
    assert max(numbers.values()) == 1, "a number was acknowledged twice"


def _queue_seq(c: Cluster, ip: str) -> int:
    r = requests.get(c.url + "/api/v1/queue", headers={TEST_CLIENT_HEADER: ip}, timeout=30)
    assert r.status_code == 200, r.text
    return r.json()["seq"]


def _staff(c: Cluster, ip: str, user: str = "quay1") -> str:
    r = requests.post(c.url + "/api/v1/auth/token", json={"username": user, "password": "motcua-demo"},
                      headers={TEST_CLIENT_HEADER: ip}, timeout=30)
    r.raise_for_status()
    return r.json()["token"]


def _call(c: Cluster, ip: str, token: str, counter: int = 1) -> dict | None:
    h = {"Authorization": f"Bearer {token}", TEST_CLIENT_HEADER: ip}
    requests.post(f"{c.url}/api/v1/counters/{counter}/finish", headers=h, timeout=30)
    r = requests.post(f"{c.url}/api/v1/counters/{counter}/call-next", timeout=30,
                      headers={**h, "Idempotency-Key": uuid.uuid4().hex})
    assert r.status_code == 200, r.text
    return r.json()["ticket"]


def test_kill_9_one_process_the_other_serves_and_screens_move_over(cluster, private_pg):
    ip_a, ip_b = cluster.ip_for(0), cluster.ip_for(1)
    tv_a = Screen(cluster.url, client_ip=ip_a, token=DISPLAY_TOKEN, reconnect=True).connect()
    tv_b = Screen(cluster.url, client_ip=ip_b, token=DISPLAY_TOKEN, reconnect=True).connect()
    kiosks = Kiosks(cluster, [ip_a, ip_b]).start()
    try:
        wait_for(lambda: kiosks.count() >= 20, 60, "tickets issued on both processes")
        cluster.servers[0].kill9()
        killed_at = time.monotonic()
        # tv_a's process is gone: it reconnects through nginx, which now sends it to B.
        tv_a.wait(lambda s: len(s.connects) >= 2, 30, "the reconnection through nginx")
        back = tv_a.connects[1]
        # (the server sends the snapshot from its connect handler: it may arrive just before
        # the client reports itself connected)
        snap = tv_a.wait(lambda s: s.got("queue:snapshot", since=s.disconnects[0]), RESYNC_S + 1,
                         "a snapshot after reconnecting")
        assert snap[0] - back <= RESYNC_S
        n = kiosks.count()
        wait_for(lambda: kiosks.count() >= n + 20, 60, "tickets issued after the kill")
        kiosks.stop()
        # The state both screens show is the office's current one, and calls still reach them.
        staff = _staff(cluster, ip_a)
        called = _call(cluster, ip_a, staff)
        assert called is not None
        seq = _queue_seq(cluster, ip_a)
        for tv in (tv_a, tv_b):
            tv.wait(lambda s: s.got("ticket:called", lambda d: d["ticket_id"] == called["id"]), 10, "the call")
            tv.wait(lambda s: s.seq >= seq, 10, f"the state at seq {seq}")
        assert len(tv_b.connects) == 1, "a screen on the surviving process was disconnected"
        assert time.monotonic() - killed_at < 120
    finally:
        kiosks.stop()
        tv_a.close()
        tv_b.close()
    assert set(kiosks.other) <= {502, "no answer"}, (kiosks.other, dict(kiosks.bodies))
    _check_tickets(kiosks.acked, private_pg.url)


def test_postgresql_restart_503_meanwhile_then_serves_again_by_itself(cluster, private_pg):
    ip_a, ip_b = cluster.ip_for(0), cluster.ip_for(1)
    tvs = [Screen(cluster.url, client_ip=ip, token=DISPLAY_TOKEN, reconnect=True).connect() for ip in (ip_a, ip_b)]
    kiosks = Kiosks(cluster, [ip_a, ip_b]).start()
    try:
        wait_for(lambda: kiosks.count() >= 20, 60, "tickets issued before the fault")
        private_pg.stop("fast")
        stopped = time.monotonic()
        # Meanwhile: a clear refusal that says to try again, never a 500 (both processes).
        for ip in (ip_a, ip_b):
            r = requests.post(cluster.url + "/api/v1/tickets", json={"service": "HOTICH"}, timeout=30,
                              headers={"Authorization": f"Bearer {KIOSK_TOKEN}", TEST_CLIENT_HEADER: ip})
            assert r.status_code == 503, r.text
            assert "thử lại" in r.json()["message"]
            q = requests.get(cluster.url + "/api/v1/queue", headers={TEST_CLIENT_HEADER: ip}, timeout=30)
            assert q.status_code == 503 and "thử lại" in q.json()["message"]
        wait_for(lambda: kiosks.other[503] >= 8, 30, "the kiosks refused while the database is down")
        # A TV switched on during the outage connects, and gets the state once the database is back.
        late = Screen(cluster.url, client_ip=ip_b, token=DISPLAY_TOKEN, reconnect=True).connect()
        tvs.append(late)
        during = kiosks.count()
        private_pg.start()
        restarted = time.monotonic()
        with kiosks.lock:
            assert not [t for t in kiosks.sent_at if stopped < t < restarted - 0.5], \
                "a ticket was acknowledged while the database was down"
        # The servers answer again by themselves: tickets are acknowledged on both processes.
        wait_for(lambda: kiosks.count() >= during + 20, 60, "tickets issued after the database returned")
        seq = _queue_seq(cluster, ip_a)
        returned = time.monotonic()
        for tv in tvs:
            tv.wait(lambda s: s.seq >= seq and s.got("queue:snapshot"), RESYNC_S,
                    f"the state at seq {seq} within {RESYNC_S}s")
        assert time.monotonic() - returned <= RESYNC_S + 0.5
        kiosks.stop()
        assert all(len(tv.connects) == 1 for tv in tvs), "a screen lost its connection"
    finally:
        kiosks.stop()
        for tv in tvs:
            tv.close()
    assert 500 not in kiosks.other, dict(kiosks.bodies)
    assert set(kiosks.other) <= {503}, (kiosks.other, dict(kiosks.bodies))
    _check_tickets(kiosks.acked, private_pg.url)
    for s in cluster.servers:
        assert requests.get(s.url + "/healthz", timeout=10).status_code == 200


def test_redis_restart_events_between_processes_resume_by_themselves(cluster, private_redis):
    ip_a, ip_b = cluster.ip_for(0), cluster.ip_for(1)
    tv_a = Screen(cluster.url, client_ip=ip_a, token=DISPLAY_TOKEN, reconnect=True).connect()
    tv_b = Screen(cluster.url, client_ip=ip_b, token=DISPLAY_TOKEN, reconnect=True).connect()
    try:
        staff = _staff(cluster, ip_a)
        requests.post(cluster.url + "/api/v1/tickets", json={"service": "HOTICH"}, timeout=30,
                      headers={"Authorization": f"Bearer {KIOSK_TOKEN}", TEST_CLIENT_HEADER: ip_a}).raise_for_status()
        first = _call(cluster, ip_a, staff)
        tv_b.wait(lambda s: s.got("ticket:called", lambda d: d["ticket_id"] == first["id"]), 10, "a call before")
        private_redis.stop()
        # Redis is down: a call on A still reaches A's screens; B's cannot hear it yet.
        for _ in range(2):
            requests.post(cluster.url + "/api/v1/tickets", json={"service": "HOTICH"}, timeout=30,
                          headers={"Authorization": f"Bearer {KIOSK_TOKEN}", TEST_CLIENT_HEADER: ip_a}).raise_for_status()
        during = _call(cluster, ip_a, staff)
        tv_a.wait(lambda s: s.got("ticket:called", lambda d: d["ticket_id"] == during["id"]), 10, "the call on A")
        time.sleep(1)  # the outage lasts a moment more
        private_redis.start()
        back = time.monotonic()
        # Without any new change, B's screens catch up with what happened meanwhile.
        seq = _queue_seq(cluster, ip_a)
        tv_b.wait(lambda s: s.seq >= seq, RESYNC_S + 2, f"B's screen at seq {seq} after Redis returned")
        caught_up = time.monotonic() - back
        # And calls made on A reach B again.
        after = _call(cluster, ip_a, staff)
        tv_b.wait(lambda s: s.got("ticket:called", lambda d: d["ticket_id"] == after["id"]), 10,
                  "a call on A heard on B after Redis returned")
        assert caught_up <= RESYNC_S, f"B's screen caught up {caught_up:.1f}s after Redis returned"
        assert len(tv_a.connects) == len(tv_b.connects) == 1
    finally:
        tv_a.close()
        tv_b.close()
