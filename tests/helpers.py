"""Test helpers shared by every test file: `from helpers import ...` (never from conftest:
several conftest.py files exist, and `conftest` names whichever pytest loaded last)."""
from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from contextlib import closing
from datetime import datetime
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
PG_URL = os.environ.get("MOTCUA_TEST_PG_URL", "")
REDIS_URL = os.environ.get("MOTCUA_TEST_REDIS_URL", "")
IN_CI = os.environ.get("CI") == "true"


def free_port() -> int:
    with closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]



class PgDatabases:
    """Creates throw-away PostgreSQL databases on the test server, each a copy of one template
    database migrated once (cloning is much faster than migrating every time)."""

    def __init__(self, admin_url: str):
        self.admin_url = admin_url
        self.created: list[str] = []
        self.template: str | None = None

    def _admin(self):
        import psycopg

        return psycopg.connect(self.admin_url, autocommit=True)

    def _url(self, name: str) -> str:
        return f"{self.admin_url.rsplit('/', 1)[0]}/{name}"

    def _make_template(self) -> str:
        from motcua.store import Store

        name = "motcua_tpl_" + secrets.token_hex(4)
        with self._admin() as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        self.created.append(name)
        store = Store(self._url(name))
        store.upgrade()
        store.dispose()
        return name

    def create(self) -> str:
        if self.template is None:
            self.template = self._make_template()
        name = "motcua_t_" + secrets.token_hex(6)
        with self._admin() as conn:
            conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{self.template}"')
        self.created.append(name)
        return self._url(name)

    def drop_all(self) -> None:
        """Drop the test databases, in a process of their own that the test run does not wait
        for: on a busy machine each DROP DATABASE takes a second or two, and a run leaves a
        hundred or more (CI's machine is thrown away anyway; on a workstation they go a few
        minutes later). A database that an autovacuum worker is busy with cannot be forced by
        a role without pg_signal_backend: try again a few times, then leave it."""
        if not self.created:
            return
        subprocess.Popen([sys.executable, "-c", _DROP_SCRIPT, self.admin_url, *reversed(self.created)],
                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                         start_new_session=True, close_fds=True)
        self.created.clear()


_DROP_SCRIPT = """
import sys, time
import psycopg
with psycopg.connect(sys.argv[1], autocommit=True) as conn:
    for name in sys.argv[2:]:
        for attempt in range(20):
            try:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                break
            except Exception:
                time.sleep(0.25)
"""


class FakeClock:
    def __init__(self, start: datetime):
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kw) -> None:
        from datetime import timedelta

        self.now = self.now + timedelta(**kw)



class _PortTaken(Exception):
    pass


class ServerProcess:
    """`motcua demo` (or serve) in a child process, on its own port and data directory."""

    def __init__(self, data_dir: Path, *, port: int | None = None, env: dict[str, str] | None = None,
                 args: list[str] | None = None):
        self.data_dir = data_dir
        self.port = port or free_port()
        # A port picked here may be taken by someone else before the server binds it (another
        # test's server, a client's outgoing connection): the first start then tries another.
        self._may_move = port is None
        self._started = False
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
        for _attempt in range(4):
            try:
                self._start(timeout)
                self._started = True
                return self
            except _PortTaken:
                if self._started or not self._may_move:
                    raise RuntimeError(f"port {self.port} taken:\n{self.log()}") from None
                self.port = free_port()
                self.log_path = self.data_dir / f"server-{self.port}.log"
        raise RuntimeError(f"no free port for the server:\n{self.log()}")

    def _start(self, timeout: float) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        log = open(self.log_path, "ab")
        cmd = [sys.executable, "-m", "motcua.cli", *self.args, "--host", "127.0.0.1", "--port", str(self.port),
               "--data", str(self.data_dir)]
        self.proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=self.env, cwd=str(ROOT),
                                     start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                if f"Address already in use: ('127.0.0.1', {self.port})" in self.log():
                    raise _PortTaken()
                raise RuntimeError(f"server exited early:\n{self.log()}")
            try:
                if requests.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return
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



KIOSK_TOKEN = "demo-kiosk-token-0001-doi-khi-trien-khai"
DISPLAY_TOKEN = "demo-display-token-0001-doi-khi-trien-khai"


class Listener:
    """A python-socketio client (anonymous, or with a user or device token) that records
    every event it receives, for tests that wait for one."""

    def __init__(self, url: str, token: str | None = None):
        import threading

        import socketio

        self.events: list[tuple[str, object]] = []
        self.cv = threading.Condition()
        self.sio = socketio.Client(reconnection=False)
        self.sio.on("*", self._any)
        self.sio.connect(url, auth={"token": token} if token else None, transports=["websocket"], wait_timeout=10)

    def _any(self, event, data=None):
        with self.cv:
            self.events.append((event, data))
            self.cv.notify_all()

    def wait_for(self, name: str, pred=lambda d: True, timeout: float = 5.0):
        timeout = max(timeout, MIN_WAIT_S)
        deadline = time.monotonic() + timeout
        with self.cv:
            while True:
                for ev, data in self.events:
                    if ev == name and pred(data):
                        return data
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"no {name} within {timeout}s; got {[e for e, _ in self.events]}")
                self.cv.wait(left)

    def close(self) -> None:
        self.sio.disconnect()


# The shortest wait for anything a user would notice: a test's own short limit says how soon
# it is expected on a quiet machine, but CI and busy laptops pause processes for seconds.
MIN_WAIT_S = 15.0


def wait_for(fn, timeout: float = 15.0, what: str = "condition"):
    """Wait until fn() is true and return it (polling; generous: the suite runs on busy
    machines), else fail saying what was awaited and what was seen last."""
    timeout = max(timeout, MIN_WAIT_S)
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = fn()
        if last:
            return last
        time.sleep(0.02)
    raise AssertionError(f"{what} not met in {timeout}s (last: {last!r})")
