"""The database handle: engine set-up per dialect, read and write transactions, migrations."""
from __future__ import annotations

import json
import logging
import os
import threading
from contextlib import contextmanager, nullcontext
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence, TypeVar

from sqlalchemy import Connection, create_engine, event, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool

from . import tables as t

log = logging.getLogger(__name__)

T = TypeVar("T")

SQLITE_BUSY_TIMEOUT_MS = 15_000  # how long a writer waits for the SQLite write lock


class Store:
    """One database. `write()` opens a write transaction (BEGIN IMMEDIATE on SQLite, so a
    transaction that reads then writes never deadlocks on a lock upgrade); `read()` a read one."""

    def __init__(self, url: str, *, echo: bool = False, background_checkpoint: bool = False):
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        self.is_postgres = url.startswith("postgresql")
        self._checkpointer: WalCheckpointer | None = None
        if self.is_sqlite:
            path = url.split(":///", 1)[1] if ":///" in url else ""
            if background_checkpoint and path and path != ":memory:":
                self._checkpointer = WalCheckpointer(path)
            self.engine = self._sqlite_engine(url, echo, auto_checkpoint=self._checkpointer is None)
            if self._checkpointer is not None:
                self._checkpointer.start()
        else:
            if url.startswith("postgresql://"):
                url = "postgresql+psycopg://" + url[len("postgresql://"):]
            self.engine = create_engine(
                url, echo=echo, pool_size=10, max_overflow=20, pool_pre_ping=True,
            )
        self._lock = threading.Lock()
        # SQLite allows one writer at a time. Threads of this process queue here, in Python,
        # instead of inside SQLite's busy handler (which sleeps up to 100 ms between tries).
        # Other processes still wait through busy_timeout.
        self._write_lock = threading.Lock() if self.is_sqlite else None

    # Engine set-up ---------------------------------------------------------------------
    @staticmethod
    def _sqlite_engine(url: str, echo: bool, auto_checkpoint: bool = True) -> Engine:
        path = url.split(":///", 1)[1] if ":///" in url else ""
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url, echo=echo, connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
            pool_size=16, max_overflow=32,
        )

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_conn, _record):
            # Take transaction control away from the sqlite3 module: we issue BEGIN ourselves.
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
            cur.execute("PRAGMA foreign_keys=ON")
            if not auto_checkpoint:  # WalCheckpointer does it, off the request path
                cur.execute("PRAGMA wal_autocheckpoint=0")
            cur.close()

        @event.listens_for(engine, "begin")
        def _on_begin(conn: Connection):
            write = conn.get_execution_options().get("motcua_write", False)
            conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

        return engine

    # Transactions ------------------------------------------------------------------------
    @contextmanager
    def write(self) -> Iterator[Connection]:
        if self._write_lock is None:
            with self.engine.connect() as conn:
                conn = conn.execution_options(motcua_write=True)
                with conn.begin():
                    yield conn
            return
        with self._write_lock:
            with self.engine.connect() as conn:
                conn = conn.execution_options(motcua_write=True)
                with conn.begin():
                    yield conn

    def run_raw(self, fn: Callable[["RawTx"], T]) -> T:
        """Run `fn(tx)` in one write transaction on the driver's own connection and return
        its result: for the hottest path (issuing a ticket: six short statements, where
        SQLAlchemy's execution machinery cost twice what the database did). Same locking as
        `write()`: BEGIN IMMEDIATE behind the process write lock on SQLite, READ COMMITTED on
        PostgreSQL. Driver errors come out as SQLAlchemy's DBAPIError subclasses
        (IntegrityError, OperationalError...), like errors from `write()`, so callers retry
        them the same way.

        It runs in the calling greenlet or thread. (Handing the transaction to a native
        thread under gevent was measured: the hand-off, with the write lock held across it,
        cost more than SQLite's GIL-free time gave back: 302-328 against 420-621 tickets/s.)"""
        with self.raw_write() as tx:
            return fn(tx)

    @contextmanager
    def raw_write(self) -> Iterator["RawTx"]:
        """The transaction of `run_raw`, as a context manager."""
        lock = self._write_lock if self._write_lock is not None else nullcontext()
        with lock:
            dbapi_error = self.engine.dialect.loaded_dbapi.Error
            try:
                pooled = self.engine.raw_connection()
            except dbapi_error as exc:  # no connection (database restarting): as from write()
                raise DBAPIError.instance("connect", None, exc, dbapi_error, dialect=self.engine.dialect,
                                          connection_invalidated=True) from exc
            try:
                tx = RawTx(pooled.driver_connection, self.engine.dialect, sqlite=self.is_sqlite)
                tx.begin()
                try:
                    yield tx
                except BaseException:
                    tx.rollback()
                    raise
                tx.commit()
            finally:
                pooled.close()

    @contextmanager
    def read(self) -> Iterator[Connection]:
        with self.engine.connect() as conn:
            if self.is_postgres:
                conn = conn.execution_options(isolation_level="REPEATABLE READ")
            with conn.begin():
                yield conn

    def ping(self) -> bool:
        try:
            with self.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            return True
        except Exception:  # noqa: BLE001 - health check reports, never raises
            log.exception("database ping failed")
            return False

    # Schema ------------------------------------------------------------------------------
    def current_revision(self) -> str | None:
        try:
            with self.engine.connect() as conn:
                return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
        except Exception:  # noqa: BLE001 - no table yet
            return None

    def upgrade(self) -> None:
        """Bring the schema to the newest Alembic revision (creates it on an empty database).
        Alembic itself (slow to import) is loaded only when there is something to do."""
        with self._lock:
            if self.current_revision() != head_revision():
                from alembic import command

                command.upgrade(alembic_config(self.url), "head")
            with self.write() as conn:
                if conn.execute(select(t.office_state.c.id)).first() is None:
                    conn.execute(t.office_state.insert().values(id=1, seq=0))

    def dispose(self) -> None:
        if self._checkpointer is not None:
            self._checkpointer.stop()
        self.engine.dispose()


class RawTx:
    """Statements on the driver connection of `Store.raw_write()`.

    SQL is written once with `?` placeholders and `{json}` where a JSON column takes a
    value; values go through `dt()`, `day()` and `json()` so they are stored exactly as
    SQLAlchemy stores them (SQLite: ISO text with microseconds for instants, ISO dates, JSON
    text; PostgreSQL: naive UTC timestamps, dates, json). tests/test_store_raw.py compares
    both paths on both databases.
    """

    def __init__(self, conn: Any, dialect: Any, *, sqlite: bool):
        self.conn = conn
        self.dialect = dialect
        self.sqlite = sqlite
        self._error = dialect.loaded_dbapi.Error

    def begin(self) -> None:
        if self.sqlite:  # psycopg opens its transaction with the first statement
            self.run("BEGIN IMMEDIATE")

    def _end(self, word: str) -> None:
        """COMMIT or ROLLBACK (SQLite: we issued BEGIN ourselves; psycopg: its own methods)."""
        if self.sqlite:
            self.conn.execute(word)
        else:
            (self.conn.commit if word == "COMMIT" else self.conn.rollback)()

    def commit(self) -> None:
        try:
            self._end("COMMIT")
        except self._error as exc:
            raise DBAPIError.instance("COMMIT", None, exc, self._error, dialect=self.dialect) from exc

    def rollback(self) -> None:
        try:
            self._end("ROLLBACK")
        except Exception:  # noqa: BLE001 - the error that caused the rollback is the one to report
            log.exception("rollback failed")

    # SQL as written -> as the driver takes it, per dialect; shared by all transactions.
    _prepared: dict[tuple[bool, str], str] = {}

    def _prepare(self, sql: str) -> str:
        out = RawTx._prepared.get((self.sqlite, sql))
        if out is None:
            if self.sqlite:
                out = sql.replace("{json}", "?")
            else:
                out = sql.replace("%", "%%").replace("{json}", "?::json").replace("?", "%s")
            RawTx._prepared[(self.sqlite, sql)] = out
        return out

    def _execute(self, sql: str, params: Sequence[Any]):
        cur = self.conn.cursor()
        try:
            cur.execute(self._prepare(sql), params)
        except self._error as exc:
            raise DBAPIError.instance(sql, params, exc, self._error, dialect=self.dialect) from exc
        return cur

    def run(self, sql: str, params: Sequence[Any] = ()) -> None:
        self._execute(sql, params).close()

    def one(self, sql: str, params: Sequence[Any] = ()) -> tuple:
        cur = self._execute(sql, params)
        try:
            row = cur.fetchone()
        finally:
            cur.close()
        if row is None:
            raise LookupError(f"no row from: {sql[:60]}")
        return tuple(row)

    def all(self, sql: str, params: Sequence[Any] = ()) -> list[tuple]:
        cur = self._execute(sql, params)
        try:
            return [tuple(r) for r in cur.fetchall()]
        finally:
            cur.close()

    # Values, stored the way the SQLAlchemy column types store them.
    def dt(self, value: datetime | None) -> Any:
        """An aware instant for a UTCDateTime column (stored as naive UTC)."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        naive = value.astimezone(timezone.utc).replace(tzinfo=None)
        return naive.strftime("%Y-%m-%d %H:%M:%S.%f") if self.sqlite else naive

    def day(self, value: date) -> Any:
        return value.isoformat() if self.sqlite else value

    def json(self, value: Any) -> Any:
        return None if value is None else json.dumps(value)


class WalCheckpointer:
    """Copies the SQLite write-ahead log back into the database file in the background.

    By default SQLite checkpoints inside whichever COMMIT pushes the log past 1,000 pages,
    and that commit then waits for the copy and its fsync: on a slow disk a ticket request
    now and then took hundreds of milliseconds (and under gevent, every screen waited with
    it). Here commits only append to the log; this thread checkpoints every `interval`
    seconds on its own connection, in a native thread (motcua_runtime.run_blocking), so a
    slow disk delays nobody. Durability is unchanged: a commit is in the log (WAL,
    synchronous=NORMAL) before it returns, as before.
    """

    def __init__(self, path: str, interval: float = 1.0):
        self.path = path
        self.interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.checkpoints = 0

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="motcua-wal-checkpoint", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def checkpoint(self) -> tuple[int, int, int] | None:
        """One PASSIVE checkpoint: (busy, log pages, pages copied), None on failure."""
        import sqlite3

        try:
            # mode=rw: never create a database that is not there (a removed test directory)
            conn = sqlite3.connect(f"file:{self.path}?mode=rw", uri=True, timeout=1.0, isolation_level=None)
        except sqlite3.Error:
            return None
        try:
            row = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
            self.checkpoints += 1
            return tuple(row) if row else None
        except sqlite3.Error as exc:
            log.debug("wal checkpoint: %s", exc)
            return None
        finally:
            conn.close()

    def _run(self) -> None:
        from motcua_runtime import run_blocking

        while not self._stop.wait(self.interval):
            run_blocking(self.checkpoint)
        run_blocking(self.checkpoint)  # leave a short log behind on a clean stop


def alembic_config(url: str):
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    cfg.attributes["configure_logger"] = False
    return cfg


def head_revision() -> str:
    """The newest revision id, read from the migration files (no Alembic import)."""
    import re

    revs: dict[str, str | None] = {}
    for f in (Path(__file__).parent / "migrations" / "versions").glob("*.py"):
        src = f.read_text(encoding="utf-8")
        rev = re.search(r"^revision\s*=\s*['\"]([^'\"]+)['\"]", src, re.M)
        down = re.search(r"^down_revision\s*=\s*(?:['\"]([^'\"]+)['\"]|None)", src, re.M)
        if rev:
            revs[rev.group(1)] = down.group(1) if down else None
    downs = {d for d in revs.values() if d}
    heads = [r for r in revs if r not in downs]
    if len(heads) != 1:
        raise RuntimeError(f"migrations must have one head, found {heads}")
    return heads[0]


def default_sqlite_url(data_dir: str | os.PathLike) -> str:
    return f"sqlite:///{Path(data_dir).resolve() / 'motcua.sqlite3'}"
