"""What the engine's commands read inside their write transaction: a counter's configuration
and row (locked), the ticket it is dealing with, a ticket by id, the next ticket it calls, and
the answers remembered for an idempotency key. On PostgreSQL the rows read are locked (FOR
UPDATE); SQLite's write transaction already holds the whole database."""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection

from config.schema import CounterConfig, OfficeConfig

from ..store import Store
from ..store import tables as t
from . import sql
from .booked import BookedTurn
from .errors import QueueError


def counter_config(config: OfficeConfig, number: int) -> CounterConfig:
    """A configured counter, or the refusal `unknown_counter`."""
    c = config.counter(number)
    if c is None:
        raise QueueError("unknown_counter", f"Không có quầy số {number}.", 404)
    return c


class Lookups:
    def __init__(self, store: Store, config: OfficeConfig):
        self.store = store
        self.config = config
        self._next_queries: dict[tuple[int, bool], Any] = {}
        self._booked = BookedTurn(for_update=store.is_postgres)

    def reconfigure(self, new: OfficeConfig) -> None:
        """A changed office: the next-ticket statements built from the old one are made again."""
        self.config = new
        self._next_queries.clear()

    def counter(self, number: int) -> CounterConfig:
        return counter_config(self.config, number)

    def _stmt(self, stmt: Any, lock: bool = True) -> Any:
        """The statement, locking what it reads on PostgreSQL."""
        return sql.LOCKED[id(stmt)] if lock and self.store.is_postgres else stmt

    def ticket(self, conn: Connection, ticket_id: int, *, lock: bool = False) -> Any:
        return conn.execute(self._stmt(sql.TICKET_BY_ID, lock), {"tid": ticket_id}).first()

    def lock_counter(self, conn: Connection, number: int) -> Any:
        row = conn.execute(self._stmt(sql.COUNTER_ROW), {"n": number}).first()
        if row is None:
            raise QueueError("unknown_counter", f"Không có quầy số {number}.", 404)
        return row

    def current(self, conn: Connection, number: int) -> Any:
        """The ticket a counter is dealing with (called or serving), if any."""
        return conn.execute(self._stmt(sql.CURRENT_AT), {"n": number}).first()

    def require_current(self, conn: Connection, number: int) -> Any:
        row = self.current(conn, number)
        if row is None:
            raise QueueError("nothing_serving", f"Quầy {number} chưa gọi số nào.", 409)
        return row

    def next_ticket(self, conn: Connection, ccfg: CounterConfig, day: date, now: datetime | None = None) -> Any:
        """The ticket a counter calls next: a booked citizen whose slot has begun when it is
        their turn (booked.py); else, after `priority_quota` priority calls in a row, a
        normal ticket's turn."""
        if now is not None and self.config.booking.enabled:
            row = self._booked.next(conn, ccfg, day, now, self.config.booking.walk_ins_per_booked)
            if row is not None:
                return row
        quota = self.config.queue.priority_quota
        recent = conn.execute(sql.RECENT_CALL_PRIORITIES, {"n": ccfg.number, "day": day, "quota": quota}).all()
        normal_turn = len(recent) >= quota and all(r.priority is not None for r in recent)
        return conn.execute(self._next_query(ccfg, normal_turn), {"day": day}).first()

    def _next_query(self, ccfg: CounterConfig, normal_turn: bool) -> Any:
        """The query for a counter's next ticket, built once per counter and turn."""
        key = (ccfg.number, normal_turn)
        q = self._next_queries.get(key)
        if q is None:
            q = self._next_queries[key] = sql.next_ticket_query(ccfg, normal_turn, for_update=self.store.is_postgres)
        return q

    # Idempotency keys ------------------------------------------------------------------------
    @staticmethod
    def remembered(conn: Connection, scope: str, key: str) -> Any:
        """The answer already given for this key (a row with `response`), if any."""
        return conn.execute(sql.IDEMPOTENT_RESPONSE, {"scope": scope, "key": key}).first()

    @staticmethod
    def remember(conn: Connection, now: datetime, scope: str, key: str | None, result: dict | None) -> None:
        if key:
            conn.execute(t.idempotency.insert().values(scope=scope, key=key, response={"ticket": result},
                                                       created_at=now))
