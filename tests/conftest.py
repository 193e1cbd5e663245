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

sys.path.insert(0, str(Path(__file__).resolve().parent))

from helpers import (  # noqa: E402,F401  (re-exported for older imports)
    DISPLAY_TOKEN, IN_CI, KIOSK_TOKEN, PG_URL, REDIS_URL, ROOT, FakeClock, PgDatabases, ServerProcess, free_port,
)


# Configuration ----------------------------------------------------------------------------
@pytest.fixture
def office_config():
    """The commune sample, open at any hour (like the demo)."""
    from config import load_config, sample_path

    cfg = load_config(sample_path("commune"))
    return cfg.model_copy(update={"office": cfg.office.model_copy(update={"always_open": True})})


# Databases --------------------------------------------------------------------------------
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




# The longest modules first: the suite runs in two processes (scripts/test.sh, a module's tests
# together), and a long module taken last keeps one process busy after the other has finished.
LONG_MODULES_FIRST = (
    "test_multiprocess.py", "test_call_storm.py", "test_agent.py", "test_faults.py", "test_faults_agent.py",
    "test_multiprocess_proxy.py", "test_agent_input.py", "test_agent_multiprocess.py", "browser/test_admin_office.py",
    "test_messages.py", "test_crash.py",
)


def pytest_collection_modifyitems(config, items):
    def rank(item) -> int:
        path = item.nodeid.split("::", 1)[0]
        for i, name in enumerate(LONG_MODULES_FIRST):
            if path == f"tests/{name}":
                return i
        return len(LONG_MODULES_FIRST)

    items.sort(key=rank)  # stable: every other test keeps its place
