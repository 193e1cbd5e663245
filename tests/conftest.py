"""Shared fixtures: office configs, databases (SQLite and PostgreSQL), real server processes."""
from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from contextlib import closing
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

import pytest
import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

PG_URL = os.environ.get("MOTCUA_TEST_PG_URL", "")
REDIS_URL = os.environ.get("MOTCUA_TEST_REDIS_URL", "")
IN_CI = os.environ.get("CI") == "true"


def free_port() -> int:
    with closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# Configuration ----------------------------------------------------------------------------
@pytest.fixture
def office_config():
    """The commune sample, open at any hour (like the demo)."""
    from config import load_config, sample_path

    cfg = load_config(sample_path("commune"))
    return cfg.model_copy(update={"office": cfg.office.model_copy(update={"always_open": True})})


# Databases --------------------------------------------------------------------------------
class PgDatabases:
    """Creates throw-away PostgreSQL databases on the test server."""

    def __init__(self, admin_url: str):
        self.admin_url = admin_url
        self.created: list[str] = []

    def _admin(self):
        import psycopg

        return psycopg.connect(self.admin_url, autocommit=True)

    def create(self) -> str:
        name = "motcua_t_" + secrets.token_hex(6)
        with self._admin() as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        self.created.append(name)
        base = self.admin_url.rsplit("/", 1)[0]
        return f"{base}/{name}"

    def drop_all(self) -> None:
        with self._admin() as conn:
            for name in self.created:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self.created.clear()


@pytest.fixture(scope="session")
def pg_databases() -> Iterator[PgDatabases | None]:
    if not PG_URL:
        yield None
        return
    dbs = PgDatabases(PG_URL)
    yield dbs
    dbs.drop_all()


def _require_pg(pg: PgDatabases | None) -> PgDatabases:
    if pg is None:
        if IN_CI:
            pytest.fail("MOTCUA_TEST_PG_URL is not set in CI: scripts/test.sh must start PostgreSQL")
        pytest.skip("PostgreSQL not available (run through scripts/test.sh)")
    return pg


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request, tmp_path, pg_databases) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'motcua.sqlite3'}"
    return _require_pg(pg_databases).create()


@pytest.fixture
def pg_url(pg_databases) -> str:
    return _require_pg(pg_databases).create()


class FakeClock:
    def __init__(self, start: datetime):
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kw) -> None:
        from datetime import timedelta

        self.now = self.now + timedelta(**kw)


@pytest.fixture
def clock() -> FakeClock:
    # Monday 23 Nov 2026, 09:00 in Hanoi.
    return FakeClock(datetime(2026, 11, 23, 2, 0, tzinfo=timezone.utc))


@pytest.fixture
def engine_for(office_config, clock):
    """Build (store, engine) for a database URL and an optional config."""
    from motcua.queue import QueueEngine
    from motcua.store import Store

    made = []

    def make(url: str, cfg=None, use_clock=True):
        store = Store(url)
        store.upgrade()
        eng = QueueEngine(store, cfg or office_config, clock=clock if use_clock else _sys_clock())
        eng.sync_config()
        made.append(store)
        return store, eng

    yield make
    for s in made:
        s.dispose()


def _sys_clock():
    from motcua.clock import system_clock

    return system_clock


# Real server processes ----------------------------------------------------------------------
class ServerProcess:
    """`motcua demo` (or serve) in a child process, on its own port and data directory."""

    def __init__(self, data_dir: Path, *, port: int | None = None, env: dict[str, str] | None = None,
                 args: list[str] | None = None):
        self.data_dir = data_dir
        self.port = port or free_port()
        self.env = dict(os.environ)
        self.env.update(env or {})
        self.env.setdefault("PYTHONUNBUFFERED", "1")
        self.args = args or ["demo"]
        self.proc: subprocess.Popen | None = None
        self.log_path = data_dir / f"server-{self.port}.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30.0) -> "ServerProcess":
        self.data_dir.mkdir(parents=True, exist_ok=True)
        log = open(self.log_path, "ab")
        cmd = [sys.executable, "-m", "motcua.cli", *self.args, "--host", "127.0.0.1", "--port", str(self.port),
               "--data", str(self.data_dir)]
        self.proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=self.env, cwd=str(ROOT),
                                     start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited early:\n{self.log()}")
            try:
                if requests.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"server did not answer /healthz in {timeout}s:\n{self.log()}")

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-4000:]
        except OSError:
            return ""

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)

    def kill9(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(5)

    # HTTP helpers
    def token(self, username: str, password: str = "motcua-demo") -> str:
        r = requests.post(self.url + "/api/v1/auth/token", json={"username": username, "password": password},
                          timeout=10)
        r.raise_for_status()
        return r.json()["token"]


@pytest.fixture
def server_factory(tmp_path) -> Iterator:
    started: list[ServerProcess] = []

    def make(data_dir: Path | None = None, **kw) -> ServerProcess:
        s = ServerProcess(data_dir or tmp_path / "data", **kw)
        started.append(s)
        return s

    yield make
    for s in started:
        s.stop()


@pytest.fixture
def server(server_factory) -> ServerProcess:
    return server_factory().start()


KIOSK_TOKEN = "demo-kiosk-token-0001-doi-khi-trien-khai"
DISPLAY_TOKEN = "demo-display-token-0001-doi-khi-trien-khai"
