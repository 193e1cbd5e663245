"""Two server processes on one database (SQLite file, then PostgreSQL): 8 clients issue 1,000
tickets while 4 counters call and finish. No number twice, no ticket called twice, none lost."""
from __future__ import annotations

import itertools
import threading
import time
import uuid
from collections import Counter, defaultdict

import pytest
import requests
from sqlalchemy import func, select

from helpers import KIOSK_TOKEN

# Within the demo office's daily caps; every field is served by some counter.
PLAN = ["HOTICH"] * 300 + ["TRAKQ"] * 250 + ["DATDAI"] * 150 + ["LDTBXH"] * 150 + ["XAYDUNG"] * 75 + ["HKD"] * 75


def _run_office(urls: list[str], staff_tokens: dict[int, str]) -> tuple[list[dict], list[tuple[int, dict]], list[str]]:
    issued: list[dict] = []
    called: list[tuple[int, dict]] = []
    errors: list[str] = []
    lock = threading.Lock()
    plan = list(PLAN)
    chunks = [plan[i::8] for i in range(8)]
    issuing_done = threading.Event()

    def issuer(i: int) -> None:
        s = requests.Session()
        for j, field in enumerate(chunks[i]):
            url = urls[(i + j) % len(urls)]
            r = s.post(url + "/api/v1/tickets", json={"service": field},
                       headers={"Authorization": f"Bearer {KIOSK_TOKEN}"}, timeout=30)
            with lock:
                if r.status_code == 201:
                    issued.append(r.json())
                else:
                    errors.append(f"issue {r.status_code} {r.text[:200]}")

    def counter(n: int) -> None:
        s = requests.Session()
        h = {"Authorization": f"Bearer {staff_tokens[n]}"}
        empty = 0
        for k in itertools.count():
            url = urls[k % len(urls)]
            r = s.post(f"{url}/api/v1/counters/{n}/call-next", headers=h, timeout=30)
            if r.status_code != 200:
                with lock:
                    errors.append(f"call {n} {r.status_code} {r.text[:200]}")
                return
            t = r.json()["ticket"]
            if t is None:
                if issuing_done.is_set():
                    empty += 1
                    if empty >= 3:
                        return
                time.sleep(0.02)
                continue
            empty = 0
            with lock:
                called.append((n, t))
            f = s.post(f"{urls[(k + 1) % len(urls)]}/api/v1/counters/{n}/finish", headers=h, timeout=30)
            if f.status_code != 200:
                with lock:
                    errors.append(f"finish {n} {f.status_code} {f.text[:200]}")

    issuers = [threading.Thread(target=issuer, args=(i,)) for i in range(8)]
    counters = [threading.Thread(target=counter, args=(n,)) for n in (1, 2, 3, 4)]
    for th in issuers + counters:
        th.start()
    for th in issuers:
        th.join(300)
    issuing_done.set()
    for th in counters:
        th.join(300)
    return issued, called, errors


def _check(issued, called, errors, store):
    from motcua.store import tables as t

    assert errors == []
    assert len(issued) == len(PLAN)
    by_field = defaultdict(list)
    for tk in issued:
        by_field[tk["service"]].append(tk["number"])
    for field, numbers in by_field.items():
        assert len(numbers) == len(set(numbers)), f"a number was issued twice in {field}"
    assert Counter(tk["service"] for tk in issued) == Counter(PLAN)
    ids = Counter(tk["id"] for _, tk in called)
    assert max(ids.values()) == 1, "a ticket was called twice"
    assert set(ids) == {tk["id"] for tk in issued}, "some ticket was never called"
    with store.read() as conn:
        assert conn.execute(select(func.count()).select_from(t.tickets)).scalar_one() == len(PLAN)
        statuses = Counter(r[0] for r in conn.execute(select(t.tickets.c.status)))
        assert statuses == {"done": len(PLAN)}
        calls = conn.execute(select(t.ticket_events.c.ticket_id, func.count()).where(
            t.ticket_events.c.action == "call").group_by(t.ticket_events.c.ticket_id)).all()
        assert len(calls) == len(PLAN) and all(c == 1 for _, c in calls)


def _tokens(server) -> dict[int, str]:
    return {n: server.token(f"quay{n}") for n in (1, 2, 3, 4)}


@pytest.mark.slow
def test_two_processes_one_sqlite_file(server_factory, tmp_path):
    from motcua.store import Store

    data = tmp_path / "office"
    a = server_factory(data).start()
    b = server_factory(data).start()
    issued, called, errors = _run_office([a.url, b.url], _tokens(a))
    store = Store(f"sqlite:///{data / 'motcua.sqlite3'}")
    try:
        _check(issued, called, errors, store)
    finally:
        store.dispose()


@pytest.mark.slow
@pytest.mark.postgres
def test_two_processes_on_postgresql(server_factory, tmp_path, pg_url):
    from motcua.store import Store

    env = {"MOTCUA_DATABASE_URL": pg_url}
    a = server_factory(tmp_path / "a", env=env).start()
    b = server_factory(tmp_path / "b", env={**env, "MOTCUA_SECRET_KEY": _secret(tmp_path / "a")}).start()
    issued, called, errors = _run_office([a.url, b.url], _tokens(a))
    store = Store(pg_url)
    try:
        _check(issued, called, errors, store)
    finally:
        store.dispose()


def _secret(data_dir) -> str:
    return (data_dir / "secret_key").read_text().strip()


@pytest.mark.slow
def test_redis_message_queue_shares_events_between_processes(server_factory, tmp_path):
    """A call made on server A reaches a display connected to server B (MOTCUA_MESSAGE_QUEUE)."""
    import socketio as sio_mod

    from helpers import IN_CI, REDIS_URL

    if not REDIS_URL:
        if IN_CI:
            pytest.fail("MOTCUA_TEST_REDIS_URL is not set in CI: scripts/test.sh must start Redis")
        pytest.skip("Redis not available (run through scripts/test.sh)")
    data = tmp_path / "office"
    # Our own channel: another test run sharing this Redis must not reach our display.
    env = {"MOTCUA_MESSAGE_QUEUE": REDIS_URL, "MOTCUA_MESSAGE_QUEUE_CHANNEL": f"motcua-test-{uuid.uuid4().hex}"}
    a = server_factory(data, env=env).start()
    b = server_factory(data, env=env).start()
    got: list[dict] = []
    done = threading.Event()

    def on_called(d):
        got.append(d)
        done.set()

    display = sio_mod.Client(reconnection=False)
    display.on("ticket:called", on_called)
    display.connect(b.url, transports=["websocket"], wait_timeout=10)
    try:
        tk = requests.post(a.url + "/api/v1/tickets", json={"service": "HOTICH"},
                           headers={"Authorization": f"Bearer {KIOSK_TOKEN}"}).json()
        staff = a.token("quay1")
        r = requests.post(a.url + "/api/v1/counters/1/call-next", headers={"Authorization": f"Bearer {staff}"})
        assert r.json()["ticket"]["id"] == tk["id"]
        assert done.wait(5), "the display on server B never heard the call made on server A"
        assert got[0]["ticket_id"] == tk["id"] and got[0]["counter"] == 1
    finally:
        display.disconnect()
