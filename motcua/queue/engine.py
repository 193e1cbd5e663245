"""The queue engine: issuing numbers, calling, serving, transferring, expiring.

Every public method is one database transaction. Each transaction that changes the queue
bumps the office sequence number, writes one event row per ticket transition and, after the
commit, hands its notifications to the publisher (the realtime hub). Nothing here knows Flask.
"""
from __future__ import annotations

import logging
import secrets
import time
from dataclasses import dataclass, field
from datetime import date, datetime
from statistics import mean
from typing import Any, Callable, Iterable, Protocol

from sqlalchemy import Connection, and_, bindparam, case, func, or_, select, update
from sqlalchemy.exc import DBAPIError, IntegrityError

from config.schema import OfficeConfig

from ..clock import BusinessCalendar, Clock, system_clock
from ..store import Store
from ..store.db import RawTx
from ..store import tables as t
from .errors import QueueError
from .numbering import format_number
from .states import AT_COUNTER, LABELS_VI, OPEN_STATES, PRIORITY_LABELS_VI, Status, can_move

log = logging.getLogger(__name__)

WAIT_ESTIMATE_CACHE_S = 30.0
RETRIES_ON_CONFLICT = 5

# Statements on the hot paths, built once (building a statement costs more than running it).
_SEQ_BUMP = (update(t.office_state).where(t.office_state.c.id == 1)
             .values(seq=t.office_state.c.seq + 1).returning(t.office_state.c.seq))
_SEQ_NOW = select(t.office_state.c.seq).where(t.office_state.c.id == 1)
_EVENT_INSERT = t.ticket_events.insert()
_WAITING_BY_FIELD = (select(t.tickets.c.field, t.tickets.c.priority.is_not(None).label("prio"), func.count())
                     .where(t.tickets.c.business_date == bindparam("day"), t.tickets.c.status == "waiting")
                     .group_by(t.tickets.c.field, t.tickets.c.priority.is_not(None)))
_RECENT_DONE_VISITS = (select(t.visits.c.called_at, t.visits.c.ended_at)
                       .where(t.visits.c.business_date == bindparam("day"), t.visits.c.field == bindparam("f"),
                              t.visits.c.outcome == "done")
                       .order_by(t.visits.c.id.desc()).limit(50))
_PAUSED_COUNTERS = select(t.counters.c.number).where(t.counters.c.paused.is_(True))
# The same statements for the raw issue path (Store.raw_write): plain SQL, the same on
# SQLite and PostgreSQL.
_RAW_NUMBER_UPSERT = (
    "INSERT INTO number_counters (field, business_date, last) VALUES (?, ?, 1) "
    "ON CONFLICT (field, business_date) DO UPDATE SET last = number_counters.last + 1 RETURNING last")
_RAW_TICKET_INSERT = (
    "INSERT INTO tickets (token, business_date, issue_field, seq, number, field, priority, status, source, "
    "dossier_code, issued_at, queued_at, recalls, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
    "RETURNING id")
_RAW_SEQ_BUMP = "UPDATE office_state SET seq = seq + 1 WHERE id = 1 RETURNING seq"
_RAW_EVENT_INSERT = (
    "INSERT INTO ticket_events (ticket_id, seq, at, business_date, action, from_status, to_status, field, "
    "counter, staff_id, visit_id, priority, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, {json})")
_RAW_WAITING = "SELECT count(*) FROM tickets WHERE business_date = ? AND status = ? AND field = ?"
_RAW_WAITING_PRIO = _RAW_WAITING + " AND priority IS NOT NULL"
_RAW_PAUSED = "SELECT number FROM counters WHERE paused = ?"
# Counter actions (call next, finish, ...): the fixed statements, built once; PostgreSQL
# variants lock the rows they read (FOR UPDATE).
_COUNTER_ROW = select(t.counters).where(t.counters.c.number == bindparam("n"))
_TICKET_BY_ID = select(t.tickets).where(t.tickets.c.id == bindparam("tid"))
_CURRENT_AT = (select(t.tickets).where(t.tickets.c.counter == bindparam("n"),
                                       t.tickets.c.status.in_([s.value for s in AT_COUNTER]))
               .order_by(t.tickets.c.called_at.desc()))
_LOCKED = {id(stmt): stmt.with_for_update() for stmt in (_COUNTER_ROW, _TICKET_BY_ID, _CURRENT_AT)}
# Guarded update: the SET columns come from the parameters ("_tid"/"_st" name the row).
_TICKET_UPDATE = update(t.tickets).where(t.tickets.c.id == bindparam("_tid"), t.tickets.c.status == bindparam("_st"))
_VISIT_UPDATE = update(t.visits).where(t.visits.c.id == bindparam("_vid"))
_VISIT_INSERT = t.visits.insert().returning(t.visits.c.id)
_RECENT_CALL_PRIORITIES = (select(t.ticket_events.c.priority)
                           .where(t.ticket_events.c.counter == bindparam("n"),
                                  t.ticket_events.c.business_date == bindparam("day"),
                                  t.ticket_events.c.action == "call")
                           .order_by(t.ticket_events.c.id.desc()).limit(bindparam("quota")))
_AT_COUNTERS = select(t.tickets).where(t.tickets.c.status.in_(["called", "serving"]), t.tickets.c.counter.is_not(None))
_ALL_COUNTERS = select(t.counters)


@dataclass
class Notification:
    """One message for the realtime hub. audience: public, staff, kiosks, admins, counter:N."""

    name: str
    payload: dict[str, Any]
    audience: str = "public"


class Publisher(Protocol):
    def publish(self, notifications: list[Notification]) -> None: ...


class _NullPublisher:
    def publish(self, notifications: list[Notification]) -> None:
        return None


@dataclass
class _Tx:
    conn: Connection | None
    now: datetime
    day: date
    notes: list[Notification] = field(default_factory=list)
    changed: bool = False
    seq: int | None = None
    after_commit: list[Callable[[], None]] = field(default_factory=list)
    raw: RawTx | None = None


@dataclass
class _NewTicket:
    """The row of a ticket just inserted on the raw path, as ticket_json reads it."""

    id: int
    number: str
    field: str
    issue_field: str
    status: str
    priority: str | None
    counter: int | None
    target_counter: int | None
    recalls: int
    dossier_code: str | None
    business_date: date
    issued_at: datetime
    called_at: datetime | None


class QueueEngine:
    def __init__(self, store: Store, config: OfficeConfig, *, clock: Clock = system_clock,
                 publisher: Publisher | None = None):
        self.store = store
        self.config = config
        self.clock = clock
        self.publisher: Publisher = publisher or _NullPublisher()
        self.calendar = BusinessCalendar(config.office.timezone, config.hours,
                                         always_open=config.office.always_open)
        self._field_names = {f.code: f.name for f in config.fields}
        self._field_order = {f.code: i for i, f in enumerate(config.fields)}
        self._wait_cache: dict[str, tuple[float, float]] = {}
        self._next_queries: dict[tuple[int, bool], Any] = {}
        self._listeners: list[Callable[[list[Notification]], None]] = []

    # Set-up ------------------------------------------------------------------------------
    def sync_config(self) -> None:
        """Write the configured fields and counters into the database (keeps pause state)."""
        now = self.clock()
        with self.store.write() as conn:
            existing_f = {r.code for r in conn.execute(select(t.fields.c.code))}
            for pos, f in enumerate(self.config.fields):
                values = dict(name=f.name, name_en=f.name_en, position=pos, active=True)
                if f.code in existing_f:
                    conn.execute(update(t.fields).where(t.fields.c.code == f.code).values(**values))
                else:
                    conn.execute(t.fields.insert().values(code=f.code, **values))
            configured = {f.code for f in self.config.fields}
            for code in existing_f - configured:
                conn.execute(update(t.fields).where(t.fields.c.code == code).values(active=False))
            existing_c = {r.number for r in conn.execute(select(t.counters.c.number))}
            for c in self.config.counters:
                values = dict(name=c.label, fields=list(c.fields), active=True)
                if c.number in existing_c:
                    conn.execute(update(t.counters).where(t.counters.c.number == c.number).values(**values))
                else:
                    conn.execute(t.counters.insert().values(number=c.number, paused=False, pause_reason="", **values))
            for n in existing_c - {c.number for c in self.config.counters}:
                conn.execute(update(t.counters).where(t.counters.c.number == n).values(active=False))
            existing_u = {r.username for r in conn.execute(select(t.users.c.username))}
            for s in self.config.staff:
                values = dict(full_name=s.full_name, role=s.role, counters=list(s.counters))
                if s.password_hash:
                    values["password_hash"] = s.password_hash
                if s.username in existing_u:
                    conn.execute(update(t.users).where(t.users.c.username == s.username).values(**values))
                else:
                    values.setdefault("password_hash", "")
                    conn.execute(t.users.insert().values(username=s.username, active=True, token_version=1,
                                                         created_at=now, **values))

    def add_listener(self, fn: Callable[[list[Notification]], None]) -> None:
        """Called after each committed change with its notifications (device registry, ...)."""
        self._listeners.append(fn)

    # Transactions --------------------------------------------------------------------------
    def _run(self, body: Callable[[_Tx], Any], *, raw: bool = False) -> Any:
        """Run `body` in a write transaction (retried on conflicts), then publish what it
        noted. raw=True gives the body the driver connection (tx.raw, Store.run_raw)
        instead of tx.conn."""
        attempt = 0
        while True:
            attempt += 1
            try:
                if raw:
                    tx, result = self.store.run_raw(lambda r: self._in_tx(body, None, r))
                else:
                    with self.store.write() as conn:
                        tx, result = self._in_tx(body, conn, None)
                break
            except QueueError:
                raise
            except (IntegrityError, DBAPIError, _Conflict) as exc:
                if attempt >= RETRIES_ON_CONFLICT or not _retryable(exc):
                    raise
                log.warning("transaction conflict, retrying (%s): %s", attempt, exc.__class__.__name__)
                time.sleep(0.005 * attempt)
        if tx.notes:
            for n in tx.notes:
                if tx.seq is not None:
                    n.payload.setdefault("seq", tx.seq)
            try:
                self.publisher.publish(tx.notes)
            except Exception:  # noqa: BLE001 - a hub failure never undoes a committed change
                log.exception("publishing failed")
            for fn in self._listeners:
                try:
                    fn(tx.notes)
                except Exception:  # noqa: BLE001
                    log.exception("listener failed")
        for fn in tx.after_commit:
            fn()
        return result

    def _in_tx(self, body: Callable[[_Tx], Any], conn: Connection | None, raw: RawTx | None) -> tuple[_Tx, Any]:
        now = self.clock()
        tx = _Tx(conn=conn, now=now, day=self.calendar.business_date(now), raw=raw)
        result = body(tx)
        if tx.changed:
            # A marker, not the state: the realtime hub reads the state once for any number
            # of changes in a burst (public_state(), coalesced).
            self._seq(tx)
            tx.notes.append(Notification("queue:changed", {"seq": tx.seq}, "public"))
        return tx, result

    def _seq(self, tx: _Tx) -> int:
        """The office sequence number of this transaction, taken once, at its first change."""
        if tx.seq is None:
            if tx.raw is not None:
                (tx.seq,) = tx.raw.one(_RAW_SEQ_BUMP)
            else:
                tx.seq = tx.conn.execute(_SEQ_BUMP).scalar_one()
        tx.changed = True
        return tx.seq

    def _event(self, tx: _Tx, ticket: Any, action: str, to_status: str, *, counter: int | None = None,
               staff_id: int | None = None, visit_id: int | None = None, detail: dict | None = None,
               from_status: str | None = "__row__", field_code: str | None = None) -> None:
        seq = self._seq(tx)
        tx.conn.execute(_EVENT_INSERT, dict(
            ticket_id=ticket.id, seq=seq, at=tx.now, business_date=tx.day, action=action,
            from_status=ticket.status if from_status == "__row__" else from_status,
            to_status=to_status, field=field_code or ticket.field, counter=counter,
            staff_id=staff_id, visit_id=visit_id, priority=ticket.priority, detail=detail,
        ))

    # Reading -------------------------------------------------------------------------------
    def _stmt(self, stmt: Any, lock: bool = True) -> Any:
        """The statement, locking what it reads on PostgreSQL (SQLite's write transaction
        already holds the whole database)."""
        return _LOCKED[id(stmt)] if lock and self.store.is_postgres else stmt

    def _ticket_row(self, conn: Connection, ticket_id: int, *, lock: bool = False):
        return conn.execute(self._stmt(_TICKET_BY_ID, lock), {"tid": ticket_id}).first()

    def ticket_json(self, row: Any) -> dict[str, Any]:
        local = self.calendar.local
        return {
            "id": row.id,
            "number": row.number,
            "service": row.field,
            "service_name": self._field_names.get(row.field, row.field),
            "issued_service": row.issue_field,
            "status": row.status,
            "status_label": LABELS_VI.get(row.status, row.status),
            "priority": row.priority,
            "priority_label": PRIORITY_LABELS_VI.get(row.priority) if row.priority else None,
            "counter": row.counter,
            "target_counter": row.target_counter,
            "recalls": row.recalls,
            "dossier_code": row.dossier_code,
            "business_date": row.business_date.isoformat(),
            "issued_at": local(row.issued_at).isoformat(timespec="seconds"),
            "called_at": local(row.called_at).isoformat(timespec="seconds") if row.called_at else None,
        }

    def get_ticket(self, ticket_id: int) -> dict[str, Any] | None:
        with self.store.read() as conn:
            row = self._ticket_row(conn, ticket_id)
            if row is None:
                return None
            return self._ticket_detail(conn, row)

    def get_ticket_by_token(self, token: str) -> dict[str, Any] | None:
        with self.store.read() as conn:
            row = conn.execute(select(t.tickets).where(t.tickets.c.token == token)).first()
            if row is None:
                return None
            out = self._ticket_detail(conn, row)
            out["token"] = row.token
            return out

    def _ticket_detail(self, conn: Connection, row: Any) -> dict[str, Any]:
        out = self.ticket_json(row)
        if row.status == Status.WAITING:
            out["ahead"] = self._ahead(conn, row)
            out["estimated_wait_s"] = self._estimate_wait(conn, row.field, out["ahead"], row.business_date)
        out["counters"] = self.config.counters_for_field(row.field)
        return out

    def _ahead(self, conn: Connection, row: Any) -> int:
        tk = t.tickets.c
        before = tk.queued_at < row.queued_at
        if row.priority is None:
            before = or_(before, tk.priority.is_not(None))
        else:
            before = and_(before, tk.priority.is_not(None))
        return conn.execute(
            select(func.count()).select_from(t.tickets).where(
                tk.business_date == row.business_date, tk.status == Status.WAITING,
                tk.field == row.field, tk.id != row.id, before,
            )
        ).scalar_one()

    def _estimate_wait(self, conn: Connection, field_code: str, ahead: int, day: date) -> int:
        """Seconds until called: ahead x today's mean service time / open counters serving the field."""
        per = self._mean_service_s(field_code, day, conn)
        counters = self.config.counters_for_field(field_code)
        paused = {n for (n,) in conn.execute(_PAUSED_COUNTERS)} if counters else set()
        return self._wait_from(per, ahead, counters, paused)

    def _mean_service_s(self, field_code: str, day: date, conn: Connection | None = None) -> float:
        """Today's mean service time of a field (its last 50 finished visits), cached for
        WAIT_ESTIMATE_CACHE_S; the configured default before the first finished visit."""
        now_m = time.monotonic()
        cached = self._wait_cache.get(field_code)
        if cached and now_m - cached[0] < WAIT_ESTIMATE_CACHE_S:
            return cached[1]
        if conn is None:
            with self.store.read() as rconn:
                rows = rconn.execute(_RECENT_DONE_VISITS, {"day": day, "f": field_code}).all()
        else:
            rows = conn.execute(_RECENT_DONE_VISITS, {"day": day, "f": field_code}).all()
        durations = [(b - a).total_seconds() for a, b in rows if a and b]
        per = mean(durations) if durations else self.config.queue.default_service_min * 60
        self._wait_cache[field_code] = (now_m, per)
        return per

    @staticmethod
    def _wait_from(per_ticket_s: float, ahead: int, counters: list[int], paused: set[int]) -> int:
        open_counters = max(1, len([c for c in counters if c not in paused])) if counters else 1
        return int(round(ahead * per_ticket_s / open_counters))

    def _queue_state(self, conn: Connection, day: date) -> dict[str, Any]:
        waiting: dict[str, int] = {}
        waiting_prio: dict[str, int] = {}
        for fcode, prio, n in conn.execute(_WAITING_BY_FIELD, {"day": day}):
            waiting[fcode] = waiting.get(fcode, 0) + n
            if prio:
                waiting_prio[fcode] = waiting_prio.get(fcode, 0) + n
        serving = {r.counter: r for r in conn.execute(_AT_COUNTERS)}
        counter_rows = {r.number: r for r in conn.execute(_ALL_COUNTERS)}
        services = []
        for f in self.config.fields:
            services.append({
                "code": f.code, "name": f.name, "name_en": f.name_en, "icon": f.icon,
                "waiting": int(waiting.get(f.code, 0)), "waiting_priority": int(waiting_prio.get(f.code, 0)),
                "kiosk": f.kiosk,
                "returns_results": f.returns_results,
                "counters": self.config.counters_for_field(f.code),
            })
        counters = []
        for c in self.config.counters:
            crow = counter_rows.get(c.number)
            srv = serving.get(c.number)
            counters.append({
                "number": c.number, "name": c.label, "fields": list(c.fields),
                "paused": bool(crow.paused) if crow else False,
                "pause_reason": crow.pause_reason if crow else "",
                "serving": self.ticket_json(srv) if srv is not None else None,
            })
        return {"services": services, "counters": counters, "date": day.isoformat()}

    def public_state(self) -> dict[str, Any]:
        """The state `queue:changed` carries: services with waiting counts, counters with what
        they serve, and `seq`, read in one transaction. The sequence number is read first, so
        the state includes at least every change up to `seq` (maybe a later one too)."""
        day = self.calendar.business_date(self.clock())
        with self.store.read() as conn:
            seq = conn.execute(_SEQ_NOW).scalar() or 0
            state = self._queue_state(conn, day)
        state["seq"] = seq
        return state

    def snapshot(self) -> dict[str, Any]:
        """The whole public queue state (GET /api/v1/queue and Socket.IO queue:snapshot)."""
        now = self.clock()
        day = self.calendar.business_date(now)
        with self.store.read() as conn:
            seq = conn.execute(select(t.office_state.c.seq).where(t.office_state.c.id == 1)).scalar() or 0
            state = self._queue_state(conn, day)
            ev = t.ticket_events.c
            recent = conn.execute(
                select(ev.ticket_id, ev.counter, ev.at, ev.action, t.tickets.c.number, t.tickets.c.field)
                .join(t.tickets, t.tickets.c.id == ev.ticket_id)
                .where(ev.business_date == day, ev.action.in_(["call", "recall"]))
                .order_by(ev.id.desc()).limit(12)
            ).all()
        state["seq"] = seq
        state["office"] = {"name": self.config.office.name, "short_name": self.config.office.short_name}
        state["recent_calls"] = [
            {"ticket_id": r.ticket_id, "number": r.number, "service": r.field, "counter": r.counter,
             "recall": r.action == "recall", "at": self.calendar.local(r.at).isoformat(timespec="seconds")}
            for r in recent
        ]
        state["open"] = self.open_state_json(now)
        return state

    def open_state_json(self, now: datetime | None = None) -> dict[str, Any]:
        st = self.calendar.open_state(now or self.clock())
        return {"open": st.open, "code": st.code, "message": st.message,
                "opens_at": st.opens_at.isoformat(timespec="minutes") if st.opens_at else None}

    # Issuing -------------------------------------------------------------------------------
    def issue(self, field_code: str, *, priority: str | None = None, source: str = "kiosk",
              dossier_code: str | None = None, staff_id: int | None = None) -> dict[str, Any]:
        """Give the next number of a field. The busiest write of an office (a queue of people
        at the kiosk at opening time), so its six statements go to the database driver
        directly (Store.raw_write), in one transaction with the same guards as every other."""
        fcfg = self.config.field(field_code)
        if fcfg is None:
            raise QueueError("unknown_service", f"Không có lĩnh vực mã '{field_code}'.", 404)
        if priority is not None:
            if not self.config.queue.priority_enabled:
                raise QueueError("priority_disabled", "Bộ phận một cửa này không áp dụng số ưu tiên.", 422)
            if priority not in self.config.queue.priority_classes:
                raise QueueError("bad_priority", "Đối tượng ưu tiên không hợp lệ.", 422)
        # Today's mean service time changes slowly: read (or take from the cache) outside
        # the write transaction.
        per_ticket_s = self._mean_service_s(field_code, self.calendar.business_date(self.clock()))

        def body(tx: _Tx) -> dict[str, Any]:
            st = self.calendar.open_state(tx.now)
            if not st.open:
                raise QueueError(st.code or "closed", st.message, 409,
                                 opens_at=st.opens_at.isoformat(timespec="minutes") if st.opens_at else None)
            raw = tx.raw
            day = raw.day(tx.day)
            (last,) = raw.one(_RAW_NUMBER_UPSERT, (field_code, day))
            if fcfg.daily_cap is not None and last > fcfg.daily_cap:
                raise QueueError("daily_cap", f"Lĩnh vực {fcfg.name} đã hết số hôm nay "
                                 f"(tối đa {fcfg.daily_cap} số mỗi ngày). Xin mời ông/bà quay lại "
                                 "vào ngày làm việc tiếp theo.", 409)
            number = format_number(fcfg.numbering, last)
            token = secrets.token_urlsafe(12)
            now = raw.dt(tx.now)
            (ticket_id,) = raw.one(_RAW_TICKET_INSERT, (
                token, day, field_code, last, number, field_code, priority, Status.WAITING.value, source,
                dossier_code, now, now, 0, now))
            row = _NewTicket(id=ticket_id, number=number, field=field_code, issue_field=field_code,
                             status=Status.WAITING.value, priority=priority, counter=None, target_counter=None,
                             recalls=0, dossier_code=dossier_code, business_date=tx.day, issued_at=tx.now,
                             called_at=None)
            seq = self._seq(tx)
            detail = {"source": source, **({"dossier": dossier_code} if dossier_code else {})}
            raw.run(_RAW_EVENT_INSERT, (ticket_id, seq, now, day, "issue", None, Status.WAITING.value,
                                        field_code, None, staff_id, None, priority, raw.json(detail)))
            out = self.ticket_json(row)
            # The newest ticket: everyone waiting in its field is ahead of it (for a priority
            # ticket, only the priority ones): one count on the covering index ix_tickets_waiting.
            (waiting,) = raw.one(_RAW_WAITING_PRIO if priority else _RAW_WAITING,
                                 (day, Status.WAITING.value, field_code))
            out["ahead"] = max(0, int(waiting) - 1)
            counters = self.config.counters_for_field(field_code)
            paused = {n for (n,) in raw.all(_RAW_PAUSED, (True,))} if counters else set()
            out["estimated_wait_s"] = self._wait_from(per_ticket_s, out["ahead"], counters, paused)
            out["counters"] = counters
            out["token"] = token
            public = {k: v for k, v in out.items() if k != "token"}
            # Consoles and display screens follow new tickets; anonymous screens only need
            # the counts, which queue:changed carries.
            tx.notes.append(Notification("ticket:issued", {"ticket": public}, "staff"))
            tx.notes.append(Notification("ticket:issued", {"ticket": public}, "displays"))
            return out

        return self._run(body, raw=True)

    # Counter actions -------------------------------------------------------------------------
    def _counter(self, number: int):
        c = self.config.counter(number)
        if c is None:
            raise QueueError("unknown_counter", f"Không có quầy số {number}.", 404)
        return c

    def _lock_counter(self, tx: _Tx, number: int) -> Any:
        row = tx.conn.execute(self._stmt(_COUNTER_ROW), {"n": number}).first()
        if row is None:
            raise QueueError("unknown_counter", f"Không có quầy số {number}.", 404)
        return row

    def _current(self, tx: _Tx, number: int) -> Any:
        return tx.conn.execute(self._stmt(_CURRENT_AT), {"n": number}).first()

    def _require_current(self, tx: _Tx, number: int) -> Any:
        row = self._current(tx, number)
        if row is None:
            raise QueueError("nothing_serving", f"Quầy {number} chưa gọi số nào.", 409)
        return row

    def _set(self, tx: _Tx, row: Any, **values: Any) -> Any:
        values["updated_at"] = tx.now
        res = tx.conn.execute(_TICKET_UPDATE, {"_tid": row.id, "_st": row.status, **values})
        if res.rowcount != 1:
            raise _Conflict()
        return self._ticket_row(tx.conn, row.id)

    def _set_visit(self, tx: _Tx, visit_id: int, **values: Any) -> None:
        tx.conn.execute(_VISIT_UPDATE, {"_vid": visit_id, **values})

    def _end_visit(self, tx: _Tx, row: Any, outcome: str, dossiers: list[str] | None = None) -> None:
        if row.visit_id is None:
            return
        values: dict[str, Any] = {"ended_at": tx.now, "outcome": outcome}
        if dossiers:
            values["dossiers"] = dossiers
        self._set_visit(tx, row.visit_id, **values)

    def _finish_row(self, tx: _Tx, row: Any, staff_id: int | None, dossiers: list[str] | None,
                    auto: bool = False) -> Any:
        if row.status == Status.CALLED:
            row2 = self._set(tx, row, status=Status.SERVING)
            self._set_visit(tx, row.visit_id, started_at=tx.now)
            self._event(tx, row, "start", Status.SERVING, counter=row.counter, staff_id=staff_id,
                        visit_id=row.visit_id, detail={"auto": True})
            row = row2
        done = self._set(tx, row, status=Status.DONE)
        self._end_visit(tx, row, "done", dossiers)
        self._event(tx, row, "finish", Status.DONE, counter=row.counter, staff_id=staff_id,
                    visit_id=row.visit_id, detail={"auto": auto, **({"dossiers": dossiers} if dossiers else {})})
        tx.notes.append(Notification("ticket:finished", {
            "ticket": self.ticket_json(done), "counter": row.counter, "visit_id": row.visit_id,
        }, "public"))
        self._wait_cache.pop(row.field, None)
        return done

    def _call(self, tx: _Tx, row: Any, counter: int, staff_id: int | None, how: str) -> Any:
        visit_id = tx.conn.execute(_VISIT_INSERT, dict(
            ticket_id=row.id, business_date=tx.day, field=row.field, counter=counter,
            staff_id=staff_id, called_at=tx.now,
        )).scalar_one()
        called = self._set(tx, row, status=Status.CALLED, counter=counter, called_at=tx.now,
                           staff_id=staff_id, visit_id=visit_id, recalls=0, target_counter=None)
        self._event(tx, row, "call", Status.CALLED, counter=counter, staff_id=staff_id,
                    visit_id=visit_id, detail={"how": how})
        tx.notes.append(Notification("ticket:called", self._called_payload(called, counter, recall=False), "public"))
        return called

    def _called_payload(self, row: Any, counter: int, *, recall: bool) -> dict[str, Any]:
        return {
            "ticket_id": row.id, "number": row.number, "service": row.field,
            "service_name": self._field_names.get(row.field, row.field), "counter": counter,
            "counter_name": self._counter(counter).label, "recall": recall, "recalls": row.recalls,
            "priority": row.priority, "dossier_code": row.dossier_code,
            "ticket": self.ticket_json(row),
        }

    def call_next(self, counter: int, *, staff_id: int | None = None,
                  idempotency_key: str | None = None) -> dict[str, Any] | None:
        ccfg = self._counter(counter)
        scope = f"counter:{counter}:call-next"

        def body(tx: _Tx) -> dict[str, Any] | None:
            crow = self._lock_counter(tx, counter)
            if idempotency_key:
                prev = tx.conn.execute(select(t.idempotency.c.response).where(
                    t.idempotency.c.scope == scope, t.idempotency.c.key == idempotency_key)).first()
                if prev is not None:
                    return prev.response.get("ticket")
            if crow.paused:
                raise QueueError("counter_paused", f"Quầy {counter} đang tạm dừng ({crow.pause_reason or 'không có lý do'}). "
                                 "Hãy tiếp tục làm việc trước khi gọi số.", 409)
            current = self._current(tx, counter)
            window = self.config.queue.double_press_window_s
            if (current is not None and current.status == Status.CALLED and current.called_at is not None
                    and (tx.now - current.called_at).total_seconds() < window):
                result = self.ticket_json(current)
                self._remember(tx, scope, idempotency_key, result)
                return result
            if current is not None:
                self._finish_row(tx, current, staff_id, None, auto=True)
            row = self._pick_next(tx, ccfg)
            if row is None:
                self._remember(tx, scope, idempotency_key, None)
                return None
            called = self._call(tx, row, counter, staff_id, "next")
            result = self.ticket_json(called)
            self._remember(tx, scope, idempotency_key, result)
            return result

        return self._run(body)

    def _remember(self, tx: _Tx, scope: str, key: str | None, result: dict | None) -> None:
        if key:
            tx.conn.execute(t.idempotency.insert().values(scope=scope, key=key, response={"ticket": result},
                                                          created_at=tx.now))

    def _pick_next(self, tx: _Tx, ccfg) -> Any:
        quota = self.config.queue.priority_quota
        recent = tx.conn.execute(_RECENT_CALL_PRIORITIES, {"n": ccfg.number, "day": tx.day, "quota": quota}).all()
        normal_turn = len(recent) >= quota and all(r.priority is not None for r in recent)
        return tx.conn.execute(self._next_query(ccfg, normal_turn), {"day": tx.day}).first()

    def _next_query(self, ccfg, normal_turn: bool) -> Any:
        """The query for a counter's next ticket (its fields, its order rule), built once per
        counter and turn."""
        key = (ccfg.number, normal_turn)
        q = self._next_queries.get(key)
        if q is None:
            tk = t.tickets.c
            prio_rank = case((tk.priority.is_(None), 0 if normal_turn else 1), else_=1 if normal_turn else 0)
            order = [prio_rank, tk.queued_at, tk.id]
            if ccfg.strict_field_order:
                order.insert(0, case({f: i for i, f in enumerate(ccfg.fields)}, value=tk.field, else_=99))
            q = (select(t.tickets).where(
                tk.business_date == bindparam("day"), tk.status == Status.WAITING.value,
                tk.field.in_(list(ccfg.fields)),
                or_(tk.target_counter.is_(None), tk.target_counter == ccfg.number),
            ).order_by(*order).limit(1))
            if self.store.is_postgres:
                q = q.with_for_update(skip_locked=True)
            self._next_queries[key] = q
        return q

    def call_ticket(self, counter: int, ticket_id: int, *, staff_id: int | None = None) -> dict[str, Any]:
        """Call one waiting ticket out of order (Gọi số)."""
        ccfg = self._counter(counter)

        def body(tx: _Tx) -> dict[str, Any]:
            crow = self._lock_counter(tx, counter)
            if crow.paused:
                raise QueueError("counter_paused", f"Quầy {counter} đang tạm dừng.", 409)
            row = self._ticket_row(tx.conn, ticket_id, lock=True)
            if row is None or row.business_date != tx.day:
                raise QueueError("unknown_ticket", "Không tìm thấy số này trong hàng chờ hôm nay.", 404)
            if row.status != Status.WAITING:
                raise QueueError("not_waiting", f"Số {row.number} không ở trạng thái chờ ({LABELS_VI.get(row.status)}).", 409)
            if row.field not in ccfg.fields:
                raise QueueError("wrong_field", f"Quầy {counter} không phục vụ lĩnh vực của số {row.number}.", 409)
            current = self._current(tx, counter)
            if current is not None:
                self._finish_row(tx, current, staff_id, None, auto=True)
            return self.ticket_json(self._call(tx, row, counter, staff_id, "direct"))

        return self._run(body)

    def recall(self, counter: int, *, staff_id: int | None = None) -> dict[str, Any]:
        self._counter(counter)

        def body(tx: _Tx) -> dict[str, Any]:
            self._lock_counter(tx, counter)
            row = self._require_current(tx, counter)
            if row.status != Status.CALLED:
                raise QueueError("already_serving", f"Số {row.number} đang được phục vụ, không cần gọi lại.", 409)
            new = self._set(tx, row, recalls=row.recalls + 1)
            self._event(tx, row, "recall", Status.CALLED, counter=counter, staff_id=staff_id,
                        visit_id=row.visit_id, detail={"recalls": new.recalls})
            tx.notes.append(Notification("ticket:called", self._called_payload(new, counter, recall=True), "public"))
            return self.ticket_json(new)

        return self._run(body)

    def start(self, counter: int, *, staff_id: int | None = None) -> dict[str, Any]:
        """The citizen arrived: called -> serving."""
        self._counter(counter)

        def body(tx: _Tx) -> dict[str, Any]:
            self._lock_counter(tx, counter)
            row = self._require_current(tx, counter)
            if row.status != Status.CALLED:
                return self.ticket_json(row)
            new = self._set(tx, row, status=Status.SERVING)
            self._set_visit(tx, row.visit_id, started_at=tx.now)
            self._event(tx, row, "start", Status.SERVING, counter=counter, staff_id=staff_id, visit_id=row.visit_id)
            return self.ticket_json(new)

        return self._run(body)

    def skip(self, counter: int, *, staff_id: int | None = None) -> dict[str, Any]:
        """No-show (Vắng mặt): the called citizen did not come."""
        self._counter(counter)
        need = self.config.queue.no_show_after_recalls

        def body(tx: _Tx) -> dict[str, Any]:
            self._lock_counter(tx, counter)
            row = self._require_current(tx, counter)
            if row.status != Status.CALLED:
                raise QueueError("already_serving", f"Số {row.number} đang được phục vụ, không thể đánh dấu vắng mặt.", 409)
            if row.recalls < need:
                raise QueueError("recall_first", f"Cần gọi lại số {row.number} thêm {need - row.recalls} lần "
                                 "trước khi đánh dấu vắng mặt.", 409)
            new = self._set(tx, row, status=Status.NO_SHOW)
            self._end_visit(tx, row, "no_show")
            self._event(tx, row, "no_show", Status.NO_SHOW, counter=counter, staff_id=staff_id, visit_id=row.visit_id)
            tx.notes.append(Notification("ticket:finished", {"ticket": self.ticket_json(new), "counter": counter,
                                                             "visit_id": row.visit_id}, "public"))
            return self.ticket_json(new)

        return self._run(body)

    def finish(self, counter: int, *, staff_id: int | None = None,
               dossiers: list[str] | None = None) -> dict[str, Any]:
        self._counter(counter)

        def body(tx: _Tx) -> dict[str, Any]:
            self._lock_counter(tx, counter)
            row = self._require_current(tx, counter)
            done = self._finish_row(tx, row, staff_id, dossiers)
            out = self.ticket_json(done)
            out["visit_id"] = row.visit_id
            return out

        return self._run(body)

    def transfer(self, counter: int, *, field_code: str | None = None, to_counter: int | None = None,
                 staff_id: int | None = None) -> dict[str, Any]:
        """End the visit here and queue the same number at another field (or counter)."""
        self._counter(counter)
        if field_code is None and to_counter is None:
            raise QueueError("bad_transfer", "Hãy chọn lĩnh vực hoặc quầy để chuyển đến.", 422)
        target_counter = None
        if to_counter is not None:
            tc = self._counter(to_counter)
            target_counter = tc.number
            if field_code is None:
                field_code = tc.fields[0]
            elif field_code not in tc.fields:
                raise QueueError("bad_transfer", f"Quầy {to_counter} không phục vụ lĩnh vực {field_code}.", 422)
        fcfg = self.config.field(field_code or "")
        if fcfg is None:
            raise QueueError("unknown_service", f"Không có lĩnh vực mã '{field_code}'.", 404)

        def body(tx: _Tx) -> dict[str, Any]:
            self._lock_counter(tx, counter)
            row = self._require_current(tx, counter)
            if row.field == fcfg.code and target_counter in (None, counter):
                raise QueueError("same_field", "Số này đang ở đúng lĩnh vực của quầy; hãy chọn nơi khác để chuyển.", 409)
            queued_at = row.issued_at if self.config.queue.transfer_position == "front" else tx.now
            self._end_visit(tx, row, "transferred")
            new = self._set(tx, row, status=Status.WAITING, field=fcfg.code, counter=None, visit_id=None,
                            called_at=None, target_counter=target_counter, queued_at=queued_at, recalls=0)
            self._event(tx, row, "transfer", Status.WAITING, counter=counter, staff_id=staff_id,
                        visit_id=row.visit_id,
                        detail={"from_field": row.field, "to_field": fcfg.code, "to_counter": target_counter})
            out = self.ticket_json(new)
            tx.notes.append(Notification("ticket:transferred", {"ticket": out, "from_counter": counter,
                                                               "from_service": row.field}, "public"))
            return out

        return self._run(body)

    def hold(self, counter: int, *, staff_id: int | None = None, reason: str = "") -> dict[str, Any]:
        """serving -> on_hold (the citizen steps away, e.g. to copy a paper)."""
        self._counter(counter)

        def body(tx: _Tx) -> dict[str, Any]:
            self._lock_counter(tx, counter)
            row = self._require_current(tx, counter)
            if row.status == Status.CALLED:
                row = self._set(tx, row, status=Status.SERVING)
                self._event(tx, row, "start", Status.SERVING, from_status=Status.CALLED, counter=counter,
                            staff_id=staff_id, visit_id=row.visit_id, detail={"auto": True})
            new = self._set(tx, row, status=Status.ON_HOLD)
            self._event(tx, row, "hold", Status.ON_HOLD, counter=counter, staff_id=staff_id,
                        visit_id=row.visit_id, detail={"reason": reason[:200]} if reason else None)
            return self.ticket_json(new)

        return self._run(body)

    def resume(self, counter: int, ticket_id: int, *, staff_id: int | None = None) -> dict[str, Any]:
        self._counter(counter)

        def body(tx: _Tx) -> dict[str, Any]:
            self._lock_counter(tx, counter)
            row = self._ticket_row(tx.conn, ticket_id, lock=True)
            if row is None or row.status != Status.ON_HOLD or row.counter != counter:
                raise QueueError("not_on_hold", "Số này không đang tạm dừng tại quầy.", 409)
            if self._current(tx, counter) is not None:
                raise QueueError("busy", "Quầy đang phục vụ một số khác; hãy kết thúc trước khi tiếp tục.", 409)
            new = self._set(tx, row, status=Status.SERVING)
            self._event(tx, row, "resume", Status.SERVING, counter=counter, staff_id=staff_id, visit_id=row.visit_id)
            return self.ticket_json(new)

        return self._run(body)

    def reactivate(self, ticket_id: int, *, staff_id: int | None = None) -> dict[str, Any]:
        """A no-show citizen came back: back in the queue (by issue time)."""
        def body(tx: _Tx) -> dict[str, Any]:
            row = self._ticket_row(tx.conn, ticket_id, lock=True)
            if row is None or row.business_date != tx.day:
                raise QueueError("unknown_ticket", "Không tìm thấy số này trong ngày hôm nay.", 404)
            if row.status != Status.NO_SHOW:
                raise QueueError("not_no_show", f"Số {row.number} không ở trạng thái vắng mặt.", 409)
            new = self._set(tx, row, status=Status.WAITING, counter=None, visit_id=None, called_at=None,
                            queued_at=row.issued_at, recalls=0)
            self._event(tx, row, "reactivate", Status.WAITING, staff_id=staff_id)
            return self.ticket_json(new)

        return self._run(body)

    def cancel(self, ticket_id: int, *, staff_id: int | None = None, reason: str = "") -> dict[str, Any]:
        def body(tx: _Tx) -> dict[str, Any]:
            row = self._ticket_row(tx.conn, ticket_id, lock=True)
            if row is None:
                raise QueueError("unknown_ticket", "Không tìm thấy số này.", 404)
            if not can_move(row.status, Status.CANCELLED):
                raise QueueError("cannot_cancel", f"Không thể hủy số {row.number} ({LABELS_VI.get(row.status)}).", 409)
            self._end_visit(tx, row, "cancelled")
            new = self._set(tx, row, status=Status.CANCELLED)
            self._event(tx, row, "cancel", Status.CANCELLED, counter=row.counter, staff_id=staff_id,
                        visit_id=row.visit_id, detail={"reason": reason[:200]} if reason else None)
            return self.ticket_json(new)

        return self._run(body)

    def pause_counter(self, counter: int, *, reason: str, staff_id: int | None = None) -> dict[str, Any]:
        self._counter(counter)
        reason = (reason or "").strip()[:200]
        if not reason:
            raise QueueError("reason_required", "Hãy nhập lý do tạm dừng.", 422)

        def body(tx: _Tx) -> dict[str, Any]:
            self._lock_counter(tx, counter)
            tx.conn.execute(update(t.counters).where(t.counters.c.number == counter)
                            .values(paused=True, pause_reason=reason, paused_at=tx.now))
            tx.changed = True
            return {"counter": counter, "paused": True, "pause_reason": reason}

        return self._run(body)

    def unpause_counter(self, counter: int, *, staff_id: int | None = None) -> dict[str, Any]:
        self._counter(counter)

        def body(tx: _Tx) -> dict[str, Any]:
            self._lock_counter(tx, counter)
            tx.conn.execute(update(t.counters).where(t.counters.c.number == counter)
                            .values(paused=False, pause_reason="", paused_at=None))
            tx.changed = True
            return {"counter": counter, "paused": False, "pause_reason": ""}

        return self._run(body)

    def counter_view(self, counter: int) -> dict[str, Any]:
        """What a counter console shows: current ticket, held tickets, next in line, served today."""
        ccfg = self._counter(counter)
        now = self.clock()
        day = self.calendar.business_date(now)
        tk = t.tickets.c
        with self.store.read() as conn:
            crow = conn.execute(select(t.counters).where(t.counters.c.number == counter)).first()
            current = conn.execute(select(t.tickets).where(
                tk.counter == counter, tk.status.in_([s.value for s in AT_COUNTER]))).first()
            held = conn.execute(select(t.tickets).where(tk.counter == counter, tk.status == Status.ON_HOLD)).all()
            nxt = conn.execute(select(t.tickets).where(
                tk.business_date == day, tk.status == Status.WAITING, tk.field.in_(list(ccfg.fields)),
                or_(tk.target_counter.is_(None), tk.target_counter == counter),
            ).order_by(case((tk.priority.is_(None), 1), else_=0), tk.queued_at, tk.id).limit(10)).all()
            v = t.visits.c
            served = conn.execute(
                select(v.id, v.ticket_id, v.field, v.called_at, v.started_at, v.ended_at, v.outcome, tk.number)
                .join(t.tickets, tk.id == v.ticket_id)
                .where(v.counter == counter, v.business_date == day, v.ended_at.is_not(None))
                .order_by(v.id.desc()).limit(100)
            ).all()
            waiting = dict(conn.execute(
                select(tk.field, func.count()).where(tk.business_date == day, tk.status == Status.WAITING,
                                                     tk.field.in_(list(ccfg.fields))).group_by(tk.field)).all())
        local = self.calendar.local
        return {
            "counter": {"number": counter, "name": ccfg.label, "fields": list(ccfg.fields),
                        "paused": bool(crow.paused) if crow else False,
                        "pause_reason": crow.pause_reason if crow else ""},
            "current": self.ticket_json(current) if current else None,
            "current_visit_id": current.visit_id if current else None,
            "on_hold": [self.ticket_json(r) for r in held],
            "next": [self.ticket_json(r) for r in nxt],
            "waiting": [{"code": f, "name": self._field_names[f], "waiting": int(waiting.get(f, 0))}
                        for f in ccfg.fields],
            "served": [{
                "visit_id": r.id, "ticket_id": r.ticket_id, "number": r.number, "service": r.field,
                "outcome": r.outcome, "called_at": local(r.called_at).isoformat(timespec="seconds"),
                "ended_at": local(r.ended_at).isoformat(timespec="seconds") if r.ended_at else None,
                "service_s": int((r.ended_at - (r.started_at or r.called_at)).total_seconds()) if r.ended_at else None,
            } for r in served],
        }

    # End of day ----------------------------------------------------------------------------
    def expire_old(self) -> int:
        """Expire every ticket left open from earlier business days. Returns how many."""
        def body(tx: _Tx) -> int:
            rows = tx.conn.execute(select(t.tickets).where(
                t.tickets.c.business_date < tx.day,
                t.tickets.c.status.in_([s.value for s in OPEN_STATES]),
            ).limit(5000)).all()
            for row in rows:
                self._end_visit(tx, row, "expired")
                self._set(tx, row, status=Status.EXPIRED, counter=None)
                self._event(tx, row, "expire", Status.EXPIRED, counter=row.counter)
            return len(rows)

        total = 0
        while True:
            n = self._run(body)
            total += n
            if n < 5000:
                return total

    def purge_idempotency(self, older_than_s: float = 86_400) -> None:
        from datetime import timedelta

        cutoff = self.clock() - timedelta(seconds=older_than_s)
        with self.store.write() as conn:
            conn.execute(t.idempotency.delete().where(t.idempotency.c.created_at < cutoff))


class _Conflict(Exception):
    """A guarded update found the row changed under it: retry the transaction."""


def _retryable(exc: Exception) -> bool:
    if isinstance(exc, _Conflict):
        return True
    msg = str(getattr(exc, "orig", exc) or exc).lower()
    return any(s in msg for s in ("deadlock", "could not serialize", "database is locked",
                                  "unique", "duplicate key"))


def iter_chunks(seq: list, n: int) -> Iterable[list]:
    for i in range(0, len(seq), n):
        yield seq[i:i + n]
