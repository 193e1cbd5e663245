"""Several server processes on loopback, for the multi-process, fault and load tests: Debian's
nginx in front (the configuration of docs/deployment.md), a private PostgreSQL and a private
Redis that a test may stop and start (never the shared ones other test runs use), and a
Socket.IO screen that keeps its queue state the way rt.js does.

Every server here is a child process of the test, stopped by its pid; nothing is daemonised.
"""
from __future__ import annotations

import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from contextlib import closing
from glob import glob
from pathlib import Path

import requests

from helpers import IN_CI, free_port

# Test-only lines: every test client comes from 127.0.0.1, and ip_hash would send them all
# to one process. A client names the address it stands for in this header (realip module),
# so the test can put screens on either process; the answer says which process served it.
TEST_CLIENT_HEADER = "X-Test-Client-Ip"
UPSTREAM_HEADER = "X-Motcua-Upstream"


def _wait_port(port: int, timeout: float, proc: subprocess.Popen | None = None, what: str = "server") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"{what} exited early (status {proc.returncode})")
        with closing(socket.socket()) as s:
            s.settimeout(0.5)
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"{what} did not listen on port {port} within {timeout}s")


def _stop(proc: subprocess.Popen | None, sig: int = signal.SIGTERM, timeout: float = 15) -> None:
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(sig)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)


def require(tool: str, why: str) -> str:
    """The path of a system program; a clear skip (a failure in CI) when it is missing."""
    import pytest

    path = shutil.which(tool) or (f"/usr/sbin/{tool}" if os.path.exists(f"/usr/sbin/{tool}") else None)
    if path:
        return path
    msg = f"{tool} is not installed ({why}); scripts/setup.sh --test installs it"
    if IN_CI:
        pytest.fail(msg)
    pytest.skip(msg)


def require_proxy_and_redis() -> None:
    """nginx and the Redis of scripts/test.sh, for the several-process set-up: a clear skip
    (a failure in CI) when one is missing."""
    import pytest

    from helpers import REDIS_URL

    require("nginx", "the reverse proxy of the several-process set-up")
    if not REDIS_URL:
        if IN_CI:
            pytest.fail("MOTCUA_TEST_REDIS_URL is not set in CI: scripts/test.sh must start Redis")
        pytest.skip("Redis not available (run through scripts/test.sh)")


# nginx ------------------------------------------------------------------------------------
NGINX_SITE = """
map $http_upgrade $connection_upgrade {{ default upgrade; '' close; }}
upstream motcua {{ ip_hash; {servers} }}
server {{
    listen 127.0.0.1:{port};
    client_max_body_size 25m;
    # test only (see TEST_CLIENT_HEADER)
    set_real_ip_from 127.0.0.1;
    real_ip_header {client_header};
    add_header {upstream_header} $upstream_addr always;
    location / {{
        proxy_pass http://motcua;
        proxy_http_version 1.1;
        proxy_set_header Host $http_host;
        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
        proxy_set_header X-Forwarded-Proto $scheme;
        proxy_set_header Upgrade $http_upgrade;
        proxy_set_header Connection $connection_upgrade;
        proxy_read_timeout 75s;
    }}
}}
"""


class Nginx:
    """Debian's nginx as a foreground child process (`daemon off`) with its own prefix directory."""

    def __init__(self, directory: Path, backends: list[int], *, port: int | None = None,
                 worker_connections: int = 4096, workers: str = "1"):
        self.dir = Path(directory)
        self.workers = workers  # "auto": one per core, as Debian's /etc/nginx/nginx.conf has it
        self.backends = backends
        self.port = port or free_port()
        self.worker_connections = worker_connections
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def config(self) -> str:
        d = self.dir
        servers = " ".join(f"server 127.0.0.1:{p};" for p in self.backends)
        temps = "\n".join(f"    {k}_temp_path {d / k};" for k in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
        user = "user root root;\n" if os.geteuid() == 0 else ""
        return (f"{user}daemon off;\nmaster_process on;\nworker_processes {self.workers};\nworker_rlimit_nofile 20000;\n"
                f"pid {d / 'nginx.pid'};\nerror_log {d / 'error.log'} warn;\n"
                f"events {{ worker_connections {self.worker_connections}; }}\n"
                f"http {{\n    access_log off;\n{temps}\n"
                + NGINX_SITE.format(servers=servers, port=self.port, client_header=TEST_CLIENT_HEADER,
                                    upstream_header=UPSTREAM_HEADER) + "}\n")

    def start(self) -> "Nginx":
        exe = shutil.which("nginx") or "/usr/sbin/nginx"
        self.dir.mkdir(parents=True, exist_ok=True)
        conf = self.dir / "nginx.conf"
        conf.write_text(self.config(), encoding="utf-8")
        log = open(self.dir / "stderr.log", "ab")
        self.proc = subprocess.Popen([exe, "-p", str(self.dir), "-c", str(conf), "-e", str(self.dir / "error.log")],
                                     stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            _wait_port(self.port, 15, self.proc, "nginx")
        except Exception:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        _stop(self.proc, signal.SIGQUIT)

    def log(self) -> str:
        try:
            return (self.dir / "error.log").read_text(errors="replace")[-3000:]
        except OSError:
            return ""

    def client_ip_for(self, backend_port: int, exclude: set[str] = frozenset()) -> str:
        """An address (sent in TEST_CLIENT_HEADER) that ip_hash maps to this backend."""
        for i in range(1, 250):
            ip = f"10.0.{i}.9"
            if ip in exclude:
                continue
            r = requests.get(self.url + "/healthz", headers={TEST_CLIENT_HEADER: ip}, timeout=10)
            if r.headers.get(UPSTREAM_HEADER, "").endswith(f":{backend_port}"):
                return ip
        raise AssertionError(f"no client address maps to backend {backend_port}")

    def source_ip_for(self, backend_port: int) -> str:
        """A loopback address to connect from (127.0.i.9) that ip_hash maps to this backend: for
        clients that send their own headers only with the first request (python-engineio's
        long-polling), where TEST_CLIENT_HEADER cannot hold a session on one process."""
        for i in range(1, 250):
            ip = f"127.0.{i}.9"
            r = bound_session(ip).get(self.url + "/healthz", timeout=10)
            if r.headers.get(UPSTREAM_HEADER, "").endswith(f":{backend_port}"):
                return ip
        raise AssertionError(f"no source address maps to backend {backend_port}")


def bound_session(source_ip: str) -> requests.Session:
    """A requests session whose connections leave from `source_ip` (any 127.x.y.z on Linux)."""
    from requests.adapters import HTTPAdapter

    class _Bound(HTTPAdapter):
        def init_poolmanager(self, *a, **kw):
            kw["source_address"] = (source_ip, 0)
            return super().init_poolmanager(*a, **kw)

    s = requests.Session()
    s.mount("http://", _Bound())
    return s


# PostgreSQL, private ------------------------------------------------------------------------
class PrivatePostgres:
    """A PostgreSQL cluster of our own (initdb in a temporary directory, pg_ctl on a free port),
    so a test may stop and start it without touching the cluster other test runs share."""

    def __init__(self):
        bins = sorted(glob("/usr/lib/postgresql/*/bin/pg_ctl"))
        if not bins:
            raise FileNotFoundError("pg_ctl")
        self.bin = Path(bins[-1]).parent
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="motcua-pg-"))
        self.data = self.dir / "data"
        self.user: str | None = None
        if os.geteuid() == 0:  # initdb refuses root: run the cluster as postgres
            self.user = "postgres"
            pw = pwd.getpwnam("postgres")
            os.chown(self.dir, pw.pw_uid, pw.pw_gid)

    @staticmethod
    def available() -> bool:
        return bool(glob("/usr/lib/postgresql/*/bin/pg_ctl"))

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        cmd = [str(self.bin / args[0]), *args[1:]]
        if self.user:
            cmd = ["runuser", "-u", self.user, "--", *cmd]
        return subprocess.run(cmd, capture_output=True, text=True, check=check, timeout=120)

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/motcua"

    def init(self) -> "PrivatePostgres":
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync")
        with open(self.data / "postgresql.conf", "a") as f:
            f.write(f"\nport = {self.port}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '{self.dir}'\n"
                    "fsync = off\nmax_connections = 200\nshared_buffers = 32MB\n")
        self.start()
        import psycopg

        with psycopg.connect(f"postgresql://postgres@127.0.0.1:{self.port}/postgres", autocommit=True) as c:
            c.execute("CREATE DATABASE motcua")
        return self

    def start(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.dir / "server.log"), "-w", "-t", "60", "start")

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t", "60", "stop", check=False)

    def destroy(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self.stop("immediate")
        shutil.rmtree(self.dir, ignore_errors=True)


# Redis, private -----------------------------------------------------------------------------
class PrivateRedis:
    """redis-server of our own on a free port, in the foreground, no persistence."""

    def __init__(self):
        self.port = free_port()
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> "PrivateRedis":
        exe = shutil.which("redis-server") or "/usr/bin/redis-server"
        self.proc = subprocess.Popen([exe, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                                      "--appendonly", "no", "--daemonize", "no"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        try:
            _wait_port(self.port, 15, self.proc, "redis-server")
        except Exception:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        _stop(self.proc, signal.SIGKILL)


# A screen ----------------------------------------------------------------------------------
class Screen:
    """A Socket.IO client that keeps the public queue state as rt.js does (snapshot first,
    `queue:changed` by seq, resync on a gap) and records what it got and when."""

    def __init__(self, url: str, *, client_ip: str | None = None, token: str | None = None,
                 transports: tuple[str, ...] = ("websocket",), reconnect: bool = False,
                 source_ip: str | None = None, auth: dict | None = None):
        import socketio

        self.url = url
        self.headers = {TEST_CLIENT_HEADER: client_ip} if client_ip else {}
        self.token = token
        self.auth = auth if auth is not None else ({"token": token} if token else None)
        self.transports = list(transports)
        self.cv = threading.Condition()
        self.events: list[tuple[float, str, object]] = []
        self.seq = -1
        self.state: dict | None = None
        self.connects: list[float] = []
        self.disconnects: list[float] = []
        self.sio = socketio.Client(reconnection=reconnect, reconnection_delay=0.5, reconnection_delay_max=3,
                                   randomization_factor=0.2,
                                   http_session=bound_session(source_ip) if source_ip else None)
        self.sio.on("connect", self._on_connect)
        self.sio.on("disconnect", self._on_disconnect)
        self.sio.on("*", self._any)

    def connect(self) -> "Screen":
        self.sio.connect(self.url, headers=self.headers, auth=self.auth,
                         transports=self.transports, wait_timeout=15)
        return self

    def _on_connect(self):
        with self.cv:
            self.connects.append(time.monotonic())
            self.cv.notify_all()

    def _on_disconnect(self, *_a):
        with self.cv:
            self.disconnects.append(time.monotonic())
            self.cv.notify_all()

    def _any(self, event, data=None):
        now = time.monotonic()
        resync = False
        with self.cv:
            self.events.append((now, event, data))
            if event == "queue:snapshot":
                self.seq, self.state = data["seq"], data
            elif event == "queue:changed":
                if self.seq >= 0 and isinstance(data.get("prev_seq"), int) and data["prev_seq"] > self.seq:
                    resync = True
                elif data["seq"] > self.seq:
                    self.seq, self.state = data["seq"], data
            self.cv.notify_all()
        if resync:
            try:
                self.sio.emit("queue:resync")
            except Exception:  # noqa: BLE001 - socketio.exceptions.BadNamespaceError
                pass  # the link dropped meanwhile: the reconnection brings a fresh snapshot

    def wait(self, pred, timeout: float = 10.0, what: str = "condition"):
        """Wait until pred(self) is true (under the lock); returns its value."""
        deadline = time.monotonic() + timeout
        with self.cv:
            while True:
                got = pred(self)
                if got:
                    return got
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"screen: {what} not seen in {timeout}s; events "
                                         f"{[e for _, e, _ in self.events][-20:]}")
                self.cv.wait(min(left, 0.2))

    def got(self, name: str, pred=lambda d: True, since: float = 0.0):
        for at, ev, data in self.events:
            if ev == name and at >= since and pred(data):
                return at, data
        return None

    def close(self) -> None:
        try:
            self.sio.disconnect()
        except Exception:  # noqa: BLE001 - already gone
            pass


# A cluster: N `motcua demo` processes on one database and one Redis channel, nginx in front ----
class Cluster:
    def __init__(self, server_factory, tmp_path: Path, db_url: str, redis_url: str, n: int = 2,
                 extra_env: dict[str, str] | None = None):
        import secrets
        import uuid

        self.env = {"MOTCUA_DATABASE_URL": db_url, "MOTCUA_MESSAGE_QUEUE": redis_url,
                    # our own channel: another test run sharing this Redis must not hear us
                    "MOTCUA_MESSAGE_QUEUE_CHANNEL": f"motcua-test-{uuid.uuid4().hex}",
                    "MOTCUA_SECRET_KEY": secrets.token_hex(32), "MOTCUA_TRUSTED_PROXIES": "1",
                    "MOTCUA_VOICE_GENERATE": "0", **(extra_env or {})}
        self.servers = [server_factory(tmp_path / f"proc{i}", env=dict(self.env)) for i in range(n)]
        self.nginx = Nginx(tmp_path / "nginx", [s.port for s in self.servers])

    def start(self) -> "Cluster":
        try:
            self.servers[0].start(timeout=60)  # the first one migrates the database
            for s in self.servers[1:]:
                s.start(timeout=60)
            self.nginx.backends = [s.port for s in self.servers]  # a server may have moved to another port
            self.nginx.start()
        except Exception:
            self.stop()
            raise
        return self

    @property
    def url(self) -> str:
        return self.nginx.url

    def ip_for(self, i: int) -> str:
        """A client address that nginx sends to server i."""
        return self.nginx.client_ip_for(self.servers[i].port)

    def stop(self) -> None:
        self.nginx.stop()
        for s in self.servers:
            s.stop()


class OfficeCluster(Cluster):
    """A cluster of `motcua serve --config <office file>` processes (an office of the test's
    own, e.g. with device agents), on one database and one Redis channel, nginx in front."""

    def __init__(self, server_factory, tmp_path: Path, db_url: str, redis_url: str, config: Path, n: int = 2,
                 extra_env: dict[str, str] | None = None):
        def make(data_dir: Path, env: dict[str, str]):
            return server_factory(data_dir, env=env, args=["serve", "--config", str(config)])

        super().__init__(make, tmp_path, db_url, redis_url, n=n, extra_env=extra_env)
