"""The queue engine: issuing numbers, calling, serving, transferring, expiring.

Every public method is one database transaction. Each transaction that changes the queue
bumps the office sequence number, writes one event row per ticket transition and, after the
commit, publishes its events on the event bus (`motcua.events`): the realtime hub, the device
layer and the rating prompts subscribe there. Nothing here knows Flask.
"""
from __future__ import annotations

import logging
import secrets
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Callable, Iterable

from sqlalchemy import Connection, update
from sqlalchemy.exc import DBAPIError, IntegrityError

from config.schema import OfficeConfig

from ..clock import BusinessCalendar, Clock, system_clock
from ..events import (QUEUE_CHANGED, TICKET_CALLED, TICKET_FINISHED, TICKET_ISSUED, TICKET_TRANSFERRED, Event,
                      EventBus)
from ..store import Store
from ..store.db import RawTx
from ..store import tables as t
from . import pickup, sql
from .access import require_callable_at, require_ticket_access
from .errors import QueueError
from .lookups import Lookups
from .numbering import format_number
from .states import LABELS_VI, Status, can_move, check_move
from .sync import sync_config
from .tickets import NewTicket, TicketJson, WaitEstimator
from .views import QueueViews

log = logging.getLogger(__name__)

RETRIES_ON_CONFLICT = 5

# The office sequence number, bumped once per transaction that changes the queue (_seq); the
# other statements of the commands are in sql.py.
_SEQ_BUMP = (update(t.office_state).where(t.office_state.c.id == 1)
             .values(seq=t.office_state.c.seq + 1).returning(t.office_state.c.seq))
_RAW_SEQ_BUMP = "UPDATE office_state SET seq = seq + 1 WHERE id = 1 RETURNING seq"

Announcer = Callable[[str, int], dict[str, Any]]  # (number, counter) -> {"text", "clips"}


@dataclass
class _Tx:
    conn: Connection | None
    now: datetime
    day: date
    changed: bool = False
    seq: int | None = None
    raw: RawTx | None = None
    # (name, payload, audience, local) of the events this transaction publishes after its commit
    pending: list[tuple[str, dict[str, Any], tuple[str, ...], dict[str, Any]]] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)

    def emit(self, name: str, payload: dict[str, Any], audience: tuple[str, ...] = ("public",),
             **local: Any) -> None:
        self.pending.append((name, payload, audience, local))


class QueueEngine:
    def __init__(self, store: Store, config: OfficeConfig, *, clock: Clock = system_clock,
                 bus: EventBus | None = None, announce: Announcer | None = None):
        self.store = store
        self.config = config
        self.clock = clock
        self.bus = bus if bus is not None else EventBus()
        self.announce = announce  # the sentence and clips of a call, carried by ticket:called
        self.calendar = BusinessCalendar(config.office.timezone, config.hours,
                                         always_open=config.office.always_open)
        self.ticket_json = TicketJson(config, self.calendar)  # a ticket row as every answer shows it
        self.waits = WaitEstimator(store, config, clock=clock, bus=self.bus)  # wait estimates (estimate.py)
        # The read models (snapshot, counter view, overview, ticket by token...): views.py.
        self.views = QueueViews(store, config, self.calendar, clock, ticket_json=self.ticket_json, waits=self.waits)
        self.rows = Lookups(store, config)  # what the commands read inside their transaction

    # Set-up ------------------------------------------------------------------------------
    def sync_config(self) -> None:
        """Write the configured fields, counters and staff into the database (keeps pause state)."""
        sync_config(self.store, self.config, self.clock())

    # Transactions --------------------------------------------------------------------------
    def _run(self, body: Callable[[_Tx], Any], *, raw: bool = False) -> Any:
        """Run `body` in a write transaction (retried on conflicts), then publish its events
        on the bus, after the commit and never before. raw=True gives the body the driver
        connection (tx.raw, Store.run_raw) instead of tx.conn."""
        attempt = 0
        while True:
            attempt += 1
            made: list[_Tx] = []
            try:
                if raw:
                    tx, result = self.store.run_raw(lambda r: self._in_tx(body, None, r, made))
                else:
                    with self.store.write() as conn:
                        tx, result = self._in_tx(body, conn, None, made)
                break
            except (IntegrityError, DBAPIError, _Conflict) as exc:
                self._abandon(made)
                if attempt >= RETRIES_ON_CONFLICT or not _retryable(exc):
                    raise
                log.warning("transaction conflict, retrying (%s): %s", attempt, exc.__class__.__name__)
                time.sleep(0.005 * attempt)
            except BaseException:  # a refusal (QueueError) or a failure: rolled back, nothing published
                self._abandon(made)
                raise
        self.bus.publish(tx.events, seq=tx.seq)  # a bus subscriber's failure never undoes the change
        return result

    def _abandon(self, made: list[_Tx]) -> None:
        for tx in made:
            if tx.seq is not None:
                self.bus.abandon(tx.seq)

    def _in_tx(self, body: Callable[[_Tx], Any], conn: Connection | None, raw: RawTx | None,
               made: list[_Tx]) -> tuple[_Tx, Any]:
        now = self.clock()
        tx = _Tx(conn=conn, now=now, day=self.calendar.business_date(now), raw=raw)
        made.append(tx)
        result = body(tx)
        if tx.changed:
            # A marker, not the state: the state broadcaster reads the state once for any
            # number of changes in a burst (public_state(), coalesced).
            self._seq(tx)
            tx.emit(QUEUE_CHANGED, {"seq": tx.seq})
        for name, payload, audience, local in tx.pending:
            if tx.seq is not None:
                payload.setdefault("seq", tx.seq)
            tx.events.append(Event(name, payload, audience, seq=tx.seq, local=local))
        return tx, result

    def _seq(self, tx: _Tx) -> int:
        """The office sequence number of this transaction, taken once, at its first change."""
        if tx.seq is None:
            if tx.raw is not None:
                (tx.seq,) = tx.raw.one(_RAW_SEQ_BUMP)
            else:
                tx.seq = tx.conn.execute(_SEQ_BUMP).scalar_one()
            # Our place in the office's order of events: the sequence row stays locked until
            # commit, so no later transaction can take a smaller seq (EventBus.reserve).
            self.bus.reserve(tx.seq)
        tx.changed = True
        return tx.seq

    def _event(self, tx: _Tx, ticket: Any, action: str, to_status: str, *, counter: int | None = None,
               staff_id: int | None = None, visit_id: int | None = None, detail: dict | None = None,
               from_status: str | None = "__row__", field_code: str | None = None) -> None:
        seq = self._seq(tx)
        tx.conn.execute(sql.EVENT_INSERT, dict(
            ticket_id=ticket.id, seq=seq, at=tx.now, business_date=tx.day, action=action,
            from_status=ticket.status if from_status == "__row__" else from_status,
            to_status=to_status, field=field_code or ticket.field, counter=counter,
            staff_id=staff_id, visit_id=visit_id, priority=ticket.priority, detail=detail,
        ))

    # The reads most callers reach through the engine (the read models: self.views) ----------
    def snapshot(self) -> dict[str, Any]:
        return self.views.snapshot()

    def public_state(self) -> dict[str, Any]:
        return self.views.public_state()

    def get_ticket(self, ticket_id: int) -> dict[str, Any] | None:
        return self.views.get_ticket(ticket_id)

    def get_ticket_by_token(self, token: str) -> dict[str, Any] | None:
        return self.views.get_ticket_by_token(token)

    def open_state_json(self, now: datetime | None = None) -> dict[str, Any]:
        return self.views.open_state_json(now)

    # Issuing -------------------------------------------------------------------------------
    def issue(self, field_code: str, *, priority: str | None = None, source: str = "kiosk",
              dossier_code: str | None = None, staff_id: int | None = None,
              print_job: str | None = None, url: str | None = None) -> dict[str, Any]:
        """Give the next number of a field: the busiest write of an office, so its statements go
        to the database driver directly (Store.run_raw), in one transaction with the same guards.

        print_job: the id of the print job to make for this ticket (the device layer prints on
        `ticket:issued` when the event carries one); url: the ticket's phone page (its QR), with
        `{token}` standing for the ticket's token. dossier_code: a pickup ticket; a dossier
        with a live one gets that one back, flagged `already_issued` (pickup.py)."""
        fcfg = self.config.field(field_code)
        if fcfg is None:
            raise QueueError("unknown_service", f"Không có lĩnh vực mã '{field_code}'.", 404)
        if priority is not None:
            if not self.config.queue.priority_enabled:
                raise QueueError("priority_disabled", "Bộ phận một cửa này không áp dụng số ưu tiên.", 422)
            if priority not in self.config.queue.priority_classes:
                raise QueueError("bad_priority", "Đối tượng ưu tiên không hợp lệ.", 422)
        # Today's figures and the floor change slowly: read (or taken from the cache) outside
        # the write transaction; the people ahead and the paused counters are read inside.
        known = self.waits.prepare(self.calendar.business_date(self.clock()))

        def body(tx: _Tx) -> dict[str, Any]:
            pickup.guard(tx.raw, dossier_code, tx.raw.day(tx.day))
            st = self.calendar.open_state(tx.now)
            if not st.open:
                raise QueueError(st.code or "closed", st.message, 409,
                                 opens_at=st.opens_at.isoformat(timespec="minutes") if st.opens_at else None)
            raw = tx.raw
            day = raw.day(tx.day)
            (last,) = raw.one(sql.RAW_NUMBER_UPSERT, (field_code, day))
            if fcfg.daily_cap is not None and last > fcfg.daily_cap:
                raise QueueError("daily_cap", f"Lĩnh vực {fcfg.name} đã hết số hôm nay "
                                 f"(tối đa {fcfg.daily_cap} số mỗi ngày). Xin mời ông/bà quay lại "
                                 "vào ngày làm việc tiếp theo.", 409)
            number = format_number(fcfg.numbering, last)
            token = secrets.token_urlsafe(12)
            now = raw.dt(tx.now)
            (ticket_id,) = raw.one(sql.RAW_TICKET_INSERT, (
                token, day, field_code, last, number, field_code, priority, Status.WAITING.value, source,
                dossier_code, now, now, 0, now))
            row = NewTicket(id=ticket_id, number=number, field=field_code, issue_field=field_code,
                            status=Status.WAITING.value, priority=priority, counter=None, target_counter=None,
                            recalls=0, dossier_code=dossier_code, business_date=tx.day, issued_at=tx.now,
                            called_at=None)
            seq = self._seq(tx)
            detail = {"source": source, **({"dossier": dossier_code} if dossier_code else {})}
            raw.run(sql.RAW_EVENT_INSERT, (ticket_id, seq, now, day, "issue", None, Status.WAITING.value,
                                        field_code, None, staff_id, None, priority, raw.json(detail)))
            out = self.ticket_json(row)
            # The newest ticket: everyone waiting in its field is ahead of it (for a priority
            # ticket, only the priority ones): one count on the covering index ix_tickets_waiting.
            (waiting,) = raw.one(sql.RAW_WAITING_PRIO if priority else sql.RAW_WAITING,
                                 (day, Status.WAITING.value, field_code))
            out["ahead"] = max(0, int(waiting) - 1)
            counters = self.config.counters_for_field(field_code)
            paused = {n for (n,) in raw.all(sql.RAW_PAUSED, (True,))} if counters else set()
            self.waits.fill(out, field_code, tx.day, priority=priority is not None, paused=paused, known=known)
            out["counters"] = counters
            out["token"] = token
            public = {k: v for k, v in out.items() if k != "token"}
            # Consoles and displays follow new tickets (others: the counts of queue:changed); the
            # device layer prints the ticket when the event says so (local data, never sent).
            tx.emit(TICKET_ISSUED, {"ticket": public}, ("staff", "displays"),
                    ticket={**out, "url": url} if url else dict(out), print_job=print_job)
            return out

        try:
            return self._run(body, raw=True)
        except pickup.Taken as taken:  # the dossier's live pickup ticket, not a new number
            return pickup.answer(self.views, taken)

    # Counter actions -------------------------------------------------------------------------
    def _set(self, tx: _Tx, row: Any, **values: Any) -> Any:
        """The guarded update of a ticket: only from the status it was read in (else _Conflict,
        retried), and a status change only along the transition table (else IllegalMove: a bug
        of the engine, never a refusal for the caller)."""
        if "status" in values and values["status"] != row.status:
            check_move(row.status, values["status"])
        values["updated_at"] = tx.now
        res = tx.conn.execute(sql.TICKET_UPDATE, {"_tid": row.id, "_st": row.status, **values})
        if res.rowcount != 1:
            raise _Conflict()
        return self.rows.ticket(tx.conn, row.id)

    def _set_visit(self, tx: _Tx, visit_id: int, **values: Any) -> None:
        tx.conn.execute(sql.VISIT_UPDATE, {"_vid": visit_id, **values})

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
        tx.emit(TICKET_FINISHED, {"ticket": self.ticket_json(done), "counter": row.counter,
                                  "visit_id": row.visit_id})
        self.waits.forget(row.field)
        return done

    def _call(self, tx: _Tx, row: Any, counter: int, staff_id: int | None, how: str) -> Any:
        visit_id = tx.conn.execute(sql.VISIT_INSERT, dict(
            ticket_id=row.id, business_date=tx.day, field=row.field, counter=counter,
            staff_id=staff_id, called_at=tx.now,
        )).scalar_one()
        called = self._set(tx, row, status=Status.CALLED, counter=counter, called_at=tx.now,
                           staff_id=staff_id, visit_id=visit_id, recalls=0, target_counter=None)
        self._event(tx, row, "call", Status.CALLED, counter=counter, staff_id=staff_id,
                    visit_id=visit_id, detail={"how": how})
        tx.emit(TICKET_CALLED, self._called_payload(called, counter, recall=False))
        return called

    def _called_payload(self, row: Any, counter: int, *, recall: bool) -> dict[str, Any]:
        out = {
            "ticket_id": row.id, "number": row.number, "service": row.field,
            "service_name": self.ticket_json.service_name(row.field), "counter": counter,
            "counter_name": self.rows.counter(counter).label, "recall": recall, "recalls": row.recalls,
            "priority": row.priority, "dossier_code": row.dossier_code,
            "ticket": self.ticket_json(row),
        }
        if self.announce is not None:  # the displays speak it without asking the server
            out["announcement"] = self.announce(row.number, counter)
        return out

    def call_next(self, counter: int, *, staff_id: int | None = None,
                  idempotency_key: str | None = None) -> dict[str, Any] | None:
        ccfg = self.rows.counter(counter)
        scope = f"counter:{counter}:call-next"

        def body(tx: _Tx) -> dict[str, Any] | None:
            crow = self.rows.lock_counter(tx.conn, counter)
            if idempotency_key:
                prev = self.rows.remembered(tx.conn, scope, idempotency_key)
                if prev is not None:
                    return prev.response.get("ticket")
            if crow.paused:
                raise QueueError("counter_paused", f"Quầy {counter} đang tạm dừng ({crow.pause_reason or 'không có lý do'}). "
                                 "Hãy tiếp tục làm việc trước khi gọi số.", 409)
            current = self.rows.current(tx.conn, counter)
            window = self.config.queue.double_press_window_s
            if (current is not None and current.status == Status.CALLED and current.called_at is not None
                    and (tx.now - current.called_at).total_seconds() < window):
                result = self.ticket_json(current)
                self.rows.remember(tx.conn, tx.now, scope, idempotency_key, result)
                return result
            if current is not None:
                self._finish_row(tx, current, staff_id, None, auto=True)
            row = self.rows.next_ticket(tx.conn, ccfg, tx.day, tx.now)
            if row is None:
                self.rows.remember(tx.conn, tx.now, scope, idempotency_key, None)
                return None
            called = self._call(tx, row, counter, staff_id, "next")
            result = self.ticket_json(called)
            self.rows.remember(tx.conn, tx.now, scope, idempotency_key, result)
            return result

        return self._run(body)

    def call_ticket(self, counter: int, ticket_id: int, *, staff_id: int | None = None) -> dict[str, Any]:
        """Call one waiting ticket out of order (Gọi số)."""
        ccfg = self.rows.counter(counter)

        def body(tx: _Tx) -> dict[str, Any]:
            crow = self.rows.lock_counter(tx.conn, counter)
            if crow.paused:
                raise QueueError("counter_paused", f"Quầy {counter} đang tạm dừng.", 409)
            row = self.rows.ticket(tx.conn, ticket_id, lock=True)
            if row is None or row.business_date != tx.day:
                raise QueueError("unknown_ticket", "Không tìm thấy số này trong hàng chờ hôm nay.", 404)
            if row.status != Status.WAITING:
                raise QueueError("not_waiting", f"Số {row.number} không ở trạng thái chờ ({LABELS_VI.get(row.status)}).", 409)
            require_callable_at(row, counter)
            if row.field not in ccfg.fields:
                raise QueueError("wrong_field", f"Quầy {counter} không phục vụ lĩnh vực của số {row.number}.", 409)
            current = self.rows.current(tx.conn, counter)
            if current is not None:
                self._finish_row(tx, current, staff_id, None, auto=True)
            return self.ticket_json(self._call(tx, row, counter, staff_id, "direct"))

        return self._run(body)

    def recall(self, counter: int, *, staff_id: int | None = None) -> dict[str, Any]:
        self.rows.counter(counter)

        def body(tx: _Tx) -> dict[str, Any]:
            self.rows.lock_counter(tx.conn, counter)
            row = self.rows.require_current(tx.conn, counter)
            if row.status != Status.CALLED:
                raise QueueError("already_serving", f"Số {row.number} đang được phục vụ, không cần gọi lại.", 409)
            new = self._set(tx, row, recalls=row.recalls + 1)
            self._event(tx, row, "recall", Status.CALLED, counter=counter, staff_id=staff_id,
                        visit_id=row.visit_id, detail={"recalls": new.recalls})
            tx.emit(TICKET_CALLED, self._called_payload(new, counter, recall=True))
            return self.ticket_json(new)

        return self._run(body)

    def start(self, counter: int, *, staff_id: int | None = None) -> dict[str, Any]:
        """The citizen arrived: called -> serving."""
        self.rows.counter(counter)

        def body(tx: _Tx) -> dict[str, Any]:
            self.rows.lock_counter(tx.conn, counter)
            row = self.rows.require_current(tx.conn, counter)
            if row.status != Status.CALLED:
                return self.ticket_json(row)
            new = self._set(tx, row, status=Status.SERVING)
            self._set_visit(tx, row.visit_id, started_at=tx.now)
            self._event(tx, row, "start", Status.SERVING, counter=counter, staff_id=staff_id, visit_id=row.visit_id)
            return self.ticket_json(new)

        return self._run(body)

    def skip(self, counter: int, *, staff_id: int | None = None) -> dict[str, Any]:
        """No-show (Vắng mặt): the called citizen did not come."""
        self.rows.counter(counter)
        need = self.config.queue.no_show_after_recalls

        def body(tx: _Tx) -> dict[str, Any]:
            self.rows.lock_counter(tx.conn, counter)
            row = self.rows.require_current(tx.conn, counter)
            if row.status != Status.CALLED:
                raise QueueError("already_serving", f"Số {row.number} đang được phục vụ, không thể đánh dấu vắng mặt.", 409)
            if row.recalls < need:
                raise QueueError("recall_first", f"Cần gọi lại số {row.number} thêm {need - row.recalls} lần "
                                 "trước khi đánh dấu vắng mặt.", 409)
            new = self._set(tx, row, status=Status.NO_SHOW)
            self._end_visit(tx, row, "no_show")
            self._event(tx, row, "no_show", Status.NO_SHOW, counter=counter, staff_id=staff_id, visit_id=row.visit_id)
            tx.emit(TICKET_FINISHED, {"ticket": self.ticket_json(new), "counter": counter, "visit_id": row.visit_id})
            return self.ticket_json(new)

        return self._run(body)

    def finish(self, counter: int, *, staff_id: int | None = None,
               dossiers: list[str] | None = None) -> dict[str, Any]:
        self.rows.counter(counter)

        def body(tx: _Tx) -> dict[str, Any]:
            self.rows.lock_counter(tx.conn, counter)
            row = self.rows.require_current(tx.conn, counter)
            done = self._finish_row(tx, row, staff_id, dossiers)
            out = self.ticket_json(done)
            out["visit_id"] = row.visit_id
            return out

        return self._run(body)

    def transfer(self, counter: int, *, field_code: str | None = None, to_counter: int | None = None,
                 staff_id: int | None = None) -> dict[str, Any]:
        """End the visit here and queue the same number at another field (or counter)."""
        self.rows.counter(counter)
        if field_code is None and to_counter is None:
            raise QueueError("bad_transfer", "Hãy chọn lĩnh vực hoặc quầy để chuyển đến.", 422)
        target_counter = None
        if to_counter is not None:
            tc = self.rows.counter(to_counter)
            target_counter = tc.number
            if field_code is None:
                field_code = tc.fields[0]
            elif field_code not in tc.fields:
                raise QueueError("bad_transfer", f"Quầy {to_counter} không phục vụ lĩnh vực {field_code}.", 422)
        fcfg = self.config.field(field_code or "")
        if fcfg is None:
            raise QueueError("unknown_service", f"Không có lĩnh vực mã '{field_code}'.", 404)

        def body(tx: _Tx) -> dict[str, Any]:
            self.rows.lock_counter(tx.conn, counter)
            row = self.rows.require_current(tx.conn, counter)
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
            tx.emit(TICKET_TRANSFERRED, {"ticket": out, "from_counter": counter, "from_service": row.field})
            return out

        return self._run(body)

    def hold(self, counter: int, *, staff_id: int | None = None, reason: str = "") -> dict[str, Any]:
        """serving -> on_hold (the citizen steps away, e.g. to copy a paper)."""
        self.rows.counter(counter)

        def body(tx: _Tx) -> dict[str, Any]:
            self.rows.lock_counter(tx.conn, counter)
            row = self.rows.require_current(tx.conn, counter)
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
        self.rows.counter(counter)

        def body(tx: _Tx) -> dict[str, Any]:
            self.rows.lock_counter(tx.conn, counter)
            row = self.rows.ticket(tx.conn, ticket_id, lock=True)
            if row is None or row.status != Status.ON_HOLD or row.counter != counter:
                raise QueueError("not_on_hold", "Số này không đang tạm dừng tại quầy.", 409)
            if self.rows.current(tx.conn, counter) is not None:
                raise QueueError("busy", "Quầy đang phục vụ một số khác; hãy kết thúc trước khi tiếp tục.", 409)
            new = self._set(tx, row, status=Status.SERVING)
            self._event(tx, row, "resume", Status.SERVING, counter=counter, staff_id=staff_id, visit_id=row.visit_id)
            return self.ticket_json(new)

        return self._run(body)

    def reactivate(self, ticket_id: int, *, staff_id: int | None = None, counters: Iterable[int] | None = None) -> dict[str, Any]:
        """A no-show citizen came back: back in the queue (by issue time). `counters`: the caller's (access.py)."""
        def body(tx: _Tx) -> dict[str, Any]:
            row = self.rows.ticket(tx.conn, ticket_id, lock=True)
            if row is None or row.business_date != tx.day:
                raise QueueError("unknown_ticket", "Không tìm thấy số này trong ngày hôm nay.", 404)
            require_ticket_access(row, self.config, counters)
            if row.status != Status.NO_SHOW:
                raise QueueError("not_no_show", f"Số {row.number} không ở trạng thái vắng mặt.", 409)
            new = self._set(tx, row, status=Status.WAITING, counter=None, visit_id=None, called_at=None,
                            queued_at=row.issued_at, recalls=0)
            self._event(tx, row, "reactivate", Status.WAITING, staff_id=staff_id)
            return self.ticket_json(new)

        return self._run(body)

    def cancel(self, ticket_id: int, *, staff_id: int | None = None, reason: str = "",
               counters: Iterable[int] | None = None) -> dict[str, Any]:
        def body(tx: _Tx) -> dict[str, Any]:
            row = self.rows.ticket(tx.conn, ticket_id, lock=True)
            if row is None:
                raise QueueError("unknown_ticket", "Không tìm thấy số này.", 404)
            require_ticket_access(row, self.config, counters)
            if not can_move(row.status, Status.CANCELLED):
                raise QueueError("cannot_cancel", f"Không thể hủy số {row.number} ({LABELS_VI.get(row.status)}).", 409)
            self._end_visit(tx, row, "cancelled")
            new = self._set(tx, row, status=Status.CANCELLED)
            self._event(tx, row, "cancel", Status.CANCELLED, counter=row.counter, staff_id=staff_id,
                        visit_id=row.visit_id, detail={"reason": reason[:200]} if reason else None)
            return self.ticket_json(new)

        return self._run(body)

    def pause_counter(self, counter: int, *, reason: str, staff_id: int | None = None) -> dict[str, Any]:
        self.rows.counter(counter)
        reason = (reason or "").strip()[:200]
        if not reason:
            raise QueueError("reason_required", "Hãy nhập lý do tạm dừng.", 422)
        return self._set_paused(counter, True, reason)

    def unpause_counter(self, counter: int, *, staff_id: int | None = None) -> dict[str, Any]:
        return self._set_paused(counter, False, "")

    def _set_paused(self, counter: int, paused: bool, reason: str) -> dict[str, Any]:
        self.rows.counter(counter)

        def body(tx: _Tx) -> dict[str, Any]:
            self.rows.lock_counter(tx.conn, counter)
            tx.conn.execute(sql.COUNTER_PAUSE, {"_n": counter, "paused": paused, "pause_reason": reason,
                                                "paused_at": tx.now if paused else None})
            tx.changed = True
            return {"counter": counter, "paused": paused, "pause_reason": reason}

        return self._run(body)

    # End of day ----------------------------------------------------------------------------
    def expire_old(self) -> int:
        """Expire every ticket left open from earlier business days. Returns how many."""
        def body(tx: _Tx) -> int:
            rows = tx.conn.execute(sql.OPEN_BEFORE, {"day": tx.day}).all()
            for row in rows:
                self._end_visit(tx, row, "expired")
                self._set(tx, row, status=Status.EXPIRED, counter=None)
                self._event(tx, row, "expire", Status.EXPIRED, counter=row.counter)
            return len(rows)

        total = 0
        while True:
            n = self._run(body)
            total += n
            if n < sql.EXPIRE_BATCH:
                return total

    def purge_idempotency(self, older_than_s: float = 86_400) -> None:
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
