"""The read models of the queue, beside the engine (which keeps the commands).

`QueueViews` answers every question asked of the queue without changing it: the public state
and the snapshot, a counter console's view, the office overview, the calls a display missed,
a ticket by id or by token (with its place and wait estimate). Each answer is read in one
read transaction. Routes and screens ask here instead of writing SQL of their own. Nothing
here knows Flask.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any, Callable, Iterable

from sqlalchemy import Connection, and_, bindparam, case, func, or_, select

from config.schema import CounterConfig, OfficeConfig

from ..clock import BusinessCalendar, Clock
from ..store import Store
from ..store import tables as t
from . import booked
from .lookups import counter_config
from .states import AT_COUNTER, LABELS_VI, Status
from .estimate import Floor
from .tickets import TicketJson, WaitEstimator

MISSED_CALL_MAX_AGE_S = 120  # older calls are not announced any more after a reconnect
MISSED_CALL_LIMIT = 20

# What the overview says a counter is doing.
STATE_LABELS_VI = {
    "paused": "Tạm dừng",
    "called": "Đang gọi số",
    "serving": "Đang phục vụ",
    "idle": "Đang rảnh",
}

_tk = t.tickets.c
# Statements read on every change (public_state): built once.
_SEQ_NOW = select(t.office_state.c.seq).where(t.office_state.c.id == 1)
_WAITING_BY_FIELD = (select(_tk.field, _tk.priority.is_not(None).label("prio"), func.count())
                     .where(_tk.business_date == bindparam("day"), _tk.status == "waiting")
                     .group_by(_tk.field, _tk.priority.is_not(None)))
_AT_COUNTERS = select(t.tickets).where(_tk.status.in_(["called", "serving"]), _tk.counter.is_not(None))
_ALL_COUNTERS = select(t.counters)
_TICKET_BY_ID = select(t.tickets).where(_tk.id == bindparam("tid"))
_TICKET_BY_TOKEN = select(t.tickets).where(_tk.token == bindparam("token"))


class QueueViews:
    """Reads of the queue, over the store, the office configuration, its calendar and clock."""

    def __init__(self, store: Store, config: OfficeConfig, calendar: BusinessCalendar, clock: Clock, *,
                 ticket_json: TicketJson | None = None, waits: WaitEstimator | None = None):
        self.store = store
        self.config = config
        self.calendar = calendar
        self.clock = clock
        self.ticket_json = ticket_json if ticket_json is not None else TicketJson(config, calendar)
        self.waits = waits if waits is not None else WaitEstimator(store, config, clock=clock)

    def reconfigure(self, new: OfficeConfig) -> None:
        """A changed office (the calendar, ticket JSON and estimates are the engine's, reconfig.py)."""
        self.config = new

    def _today(self) -> tuple[datetime, date]:
        now = self.clock()
        return now, self.calendar.business_date(now)

    # The public queue ----------------------------------------------------------------------
    def open_state_json(self, now: datetime | None = None) -> dict[str, Any]:
        st = self.calendar.open_state(now or self.clock())
        return {"open": st.open, "code": st.code, "message": st.message,
                "opens_at": st.opens_at.isoformat(timespec="minutes") if st.opens_at else None}

    def queue_state(self, conn: Connection, day: date) -> dict[str, Any]:
        """Services with their waiting counts, counters with what they serve."""
        waiting: dict[str, int] = {}
        waiting_prio: dict[str, int] = {}
        for fcode, prio, n in conn.execute(_WAITING_BY_FIELD, {"day": day}):
            waiting[fcode] = waiting.get(fcode, 0) + n
            if prio:
                waiting_prio[fcode] = waiting_prio.get(fcode, 0) + n
        serving = {r.counter: r for r in conn.execute(_AT_COUNTERS)}
        counter_rows = {r.number: r for r in conn.execute(_ALL_COUNTERS)}
        # The wait of a ticket taken now, per field (null while no ticket can be taken): the floor
        # just read also serves the next issues (WaitEstimator.observe).
        now = self.clock()
        floor = self.waits.observe(day, Floor(now, frozenset(n for n, r in counter_rows.items() if r.paused),
                                              {c: (r.called_at, r.field) for c, r in serving.items() if r.called_at},
                                              waiting, waiting_prio))
        taking = self.calendar.open_state(now).open
        services = []
        for f in self.config.fields:
            services.append({
                "code": f.code, "name": f.name, "name_en": f.name_en, "icon": f.icon,
                "waiting": int(waiting.get(f.code, 0)), "waiting_priority": int(waiting_prio.get(f.code, 0)),
                "kiosk": f.kiosk,
                "returns_results": f.returns_results,
                "counters": self.config.counters_for_field(f.code),
                "estimate": self._new_ticket_wait(conn, f.code, waiting.get(f.code, 0), day, floor) if taking else None,
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

    def _new_ticket_wait(self, conn: Connection, field_code: str, ahead: int, day: date,
                         floor: Floor) -> dict[str, Any] | None:
        e = self.waits.estimate(field_code, int(ahead), day, known=(self.waits.stats(day, conn), floor))
        return e.as_json() if e is not None else None

    def public_state(self) -> dict[str, Any]:
        """The state `queue:changed` carries: services with waiting counts, counters with what
        they serve, and `seq`, read in one transaction. The sequence number is read first, so
        the state includes at least every change up to `seq` (maybe a later one too)."""
        _, day = self._today()
        with self.store.read() as conn:
            seq = conn.execute(_SEQ_NOW).scalar() or 0
            state = self.queue_state(conn, day)
        state["seq"] = seq
        return state

    def snapshot(self) -> dict[str, Any]:
        """The whole public queue state (GET /api/v1/queue and Socket.IO queue:snapshot)."""
        now, day = self._today()
        with self.store.read() as conn:
            seq = conn.execute(_SEQ_NOW).scalar() or 0
            state = self.queue_state(conn, day)
            ev = t.ticket_events.c
            recent = conn.execute(
                select(ev.ticket_id, ev.counter, ev.at, ev.action, _tk.number, _tk.field)
                .join(t.tickets, _tk.id == ev.ticket_id)
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

    def missed_calls(self, after_seq: int) -> dict[str, Any]:
        """The calls of the last minutes with an office sequence number above `after_seq`, so a
        display that was cut off speaks the calls it did not hear; and the current `seq`."""
        now, day = self._today()
        field_names = {f.code: f.name for f in self.config.fields}
        counter_names = {c.number: c.label for c in self.config.counters}
        ev = t.ticket_events.c
        with self.store.read() as conn:
            rows = conn.execute(
                select(ev.seq, ev.ticket_id, ev.counter, ev.at, ev.action, _tk.number, _tk.field)
                .join(t.tickets, _tk.id == ev.ticket_id)
                .where(ev.business_date == day, ev.action.in_(["call", "recall"]), ev.seq > after_seq,
                       ev.at >= now - timedelta(seconds=MISSED_CALL_MAX_AGE_S))
                .order_by(ev.seq, ev.id).limit(MISSED_CALL_LIMIT)
            ).all()
            seq = conn.execute(_SEQ_NOW).scalar() or 0
        calls = [
            {"seq": r.seq, "ticket_id": r.ticket_id, "number": r.number, "service": r.field,
             "service_name": field_names.get(r.field, r.field), "counter": r.counter,
             "counter_name": counter_names.get(r.counter, f"Quầy {r.counter}"), "recall": r.action == "recall",
             "at": self.calendar.local(r.at).isoformat(timespec="seconds")}
            for r in rows
        ]
        return {"calls": calls, "seq": seq}

    # One ticket -----------------------------------------------------------------------------
    def get_ticket(self, ticket_id: int) -> dict[str, Any] | None:
        """A ticket with, while it waits, how many are ahead and the wait estimate."""
        with self.store.read() as conn:
            row = conn.execute(_TICKET_BY_ID, {"tid": ticket_id}).first()
            if row is None:
                return None
            return self._ticket_detail(conn, row)

    def get_ticket_by_token(self, token: str) -> dict[str, Any] | None:
        """The same, found by the token of its phone page (and with the token), with the office
        sequence number `seq` read first (the answer includes every change up to it)."""
        with self.store.read() as conn:
            seq = conn.execute(_SEQ_NOW).scalar() or 0
            row = conn.execute(_TICKET_BY_TOKEN, {"token": token}).first()
            if row is None:
                return None
            out = self._ticket_detail(conn, row)
            out["token"] = row.token
            out["seq"] = seq
            return out

    def ticket_id_by_token(self, token: str) -> int | None:
        with self.store.read() as conn:
            return conn.execute(select(_tk.id).where(_tk.token == token)).scalar()

    def tickets_for_pages(self, ids: Iterable[int], pause: Callable[[], None] | None = None,
                          every: int = 25, unchanged: Callable[[Any, int | None, list[int]], bool] | None = None,
                          ) -> tuple[int, dict[int, dict[str, Any]]]:
        """The tickets that phone pages follow, each as `get_ticket` gives it (never the token),
        read in one transaction with few statements however many there are: the places in line
        come from one ordered read per field that has one of them waiting. Returns `seq` (read
        first) and the tickets by id (a ticket erased meanwhile is absent). `pause` is called
        after every `every` tickets worked out (a wait estimate each): under gevent the caller
        lets the other greenlets run, so a call's fan-out never waits behind a long round.
        `unchanged(row, ahead, paused)`: true when the caller still has this ticket's answer for
        that row, place and paused counters; the ticket is then left out (no estimate worked out)."""
        wanted = sorted({int(i) for i in ids})
        with self.store.read() as conn:
            seq = conn.execute(_SEQ_NOW).scalar() or 0
            rows: list[Any] = []
            for k in range(0, len(wanted), 500):
                rows.extend(conn.execute(select(t.tickets).where(_tk.id.in_(wanted[k:k + 500]))).all())
            groups = {(r.business_date, r.field) for r in rows if r.status == Status.WAITING}
            place: dict[int, int] = {}
            for day, field in groups:
                line = conn.execute(select(_tk.id, _tk.priority, _tk.queued_at).where(
                    _tk.business_date == day, _tk.status == Status.WAITING, _tk.field == field)).all()
                # The order of _ahead (and QueueEngine.call_next): priority first, then queue time, id.
                line.sort(key=lambda r: (r.priority is None, r.queued_at, r.id))
                place.update((r.id, i) for i, r in enumerate(line))
            paused = [r.number for r in conn.execute(_ALL_COUNTERS) if r.paused] if groups else []
            out: dict[int, dict[str, Any]] = {}
            k = 0
            for r in rows:
                ahead = place.get(r.id)
                if unchanged is not None and unchanged(r, ahead, paused):
                    continue
                out[r.id] = self._ticket_detail(conn, r, ahead=ahead, paused=paused)
                k += 1
                if pause is not None and k % every == 0:
                    pause()
            return seq, out

    def ticket_token(self, ticket_id: int) -> str | None:
        """The token of a ticket's phone page (for its QR code on a reprint)."""
        with self.store.read() as conn:
            return conn.execute(select(_tk.token).where(_tk.id == ticket_id)).scalar()

    # The states in which a pickup ticket still holds its dossier (QueueEngine.issue checks
    # the same inside its transaction).
    LIVE_PICKUP = (Status.WAITING, Status.CALLED, Status.SERVING, Status.ON_HOLD)

    def live_pickup_ticket(self, dossier_code: str) -> dict[str, Any] | None:
        """Today's live ticket (waiting, called, serving or on hold) taken for this dossier,
        with its place, wait estimate and token; None when it has none. One dossier has at
        most one ("Lấy số nhận kết quả" twice shows the first number: QueueEngine.issue)."""
        _, day = self._today()
        with self.store.read() as conn:
            row = conn.execute(select(t.tickets).where(
                _tk.dossier_code == dossier_code, _tk.business_date == day,
                _tk.status.in_([s.value for s in self.LIVE_PICKUP])).order_by(_tk.id).limit(1)).first()
            if row is None:
                return None
            out = self._ticket_detail(conn, row)
            out["token"] = row.token
            return out

    def _ticket_detail(self, conn: Connection, row: Any, *, ahead: int | None = None,
                       paused: list[int] | None = None) -> dict[str, Any]:
        """ahead, paused: already read by the caller (tickets_for_pages), else read here."""
        out = self.ticket_json(row)
        if row.status == Status.WAITING:
            out["ahead"] = self._ahead(conn, row) if ahead is None else ahead
            if row.source == booked.BOOKED_SOURCE:  # called ahead of walk-ins: those really before it
                out["ahead"] = self._booked_ahead(conn, row, out["ahead"])
            if paused is None:
                paused = [r.number for r in conn.execute(_ALL_COUNTERS) if r.paused]
            self.waits.fill(out, row.field, row.business_date, priority=row.priority is not None, paused=paused,
                            conn=conn)
        else:
            out["estimate"] = None
        out["counters"] = self.config.counters_for_field(row.field)
        return out

    def _booked_ahead(self, conn: Connection, row: Any, normal_ahead: int) -> int:
        counters = self.config.counters_for_field(row.field)

        def calls_until(at: datetime) -> float:  # calls of the field's counters until `at`
            stats, left = self.waits.stats(row.business_date, conn), (at - self.clock()).total_seconds()
            return sum(max(0.0, left) / max(1.0, stats.turn(row.field, c).mean_s) for c in counters)

        return booked.people_ahead(conn, row, counters, self.config.booking.walk_ins_per_booked, self.clock(),
                                   normal_ahead, calls_until)

    def _ahead(self, conn: Connection, row: Any) -> int:
        # called by queue time, then by id (QueueEngine.call_next): the same order here
        before = or_(_tk.queued_at < row.queued_at, and_(_tk.queued_at == row.queued_at, _tk.id < row.id))
        if row.priority is None:
            before = or_(before, _tk.priority.is_not(None))
        else:
            before = and_(before, _tk.priority.is_not(None))
        return conn.execute(
            select(func.count()).select_from(t.tickets).where(
                _tk.business_date == row.business_date, _tk.status == Status.WAITING,
                _tk.field == row.field, _tk.id != row.id, before,
            )
        ).scalar_one()

    # A counter ------------------------------------------------------------------------------
    @staticmethod
    def _next_in_line(ccfg: CounterConfig, day: date) -> Any:
        """The first ten waiting tickets a counter may call (priority first, then by queue time)."""
        return select(t.tickets).where(
            _tk.business_date == day, _tk.status == Status.WAITING, _tk.field.in_(list(ccfg.fields)),
            or_(_tk.target_counter.is_(None), _tk.target_counter == ccfg.number),
        ).order_by(case((_tk.priority.is_(None), 1), else_=0), _tk.queued_at, _tk.id).limit(10)

    def counter_view(self, counter: int) -> dict[str, Any]:
        """What a counter console shows: current ticket, held tickets, next in line, served today."""
        ccfg = counter_config(self.config, counter)
        _, day = self._today()
        with self.store.read() as conn:
            crow = conn.execute(select(t.counters).where(t.counters.c.number == counter)).first()
            current = conn.execute(select(t.tickets).where(
                _tk.counter == counter, _tk.status.in_([s.value for s in AT_COUNTER]))).first()
            held = conn.execute(select(t.tickets).where(_tk.counter == counter, _tk.status == Status.ON_HOLD)).all()
            nxt = conn.execute(self._next_in_line(ccfg, day)).all()
            v = t.visits.c
            served = conn.execute(
                select(v.id, v.ticket_id, v.field, v.called_at, v.started_at, v.ended_at, v.outcome, _tk.number)
                .join(t.tickets, _tk.id == v.ticket_id)
                .where(v.counter == counter, v.business_date == day, v.ended_at.is_not(None))
                .order_by(v.id.desc()).limit(100)
            ).all()
            waiting = dict(conn.execute(
                select(_tk.field, func.count()).where(_tk.business_date == day, _tk.status == Status.WAITING,
                                                      _tk.field.in_(list(ccfg.fields))).group_by(_tk.field)).all())
            listed = [r.id for r in (current, *held, *nxt) if r is not None]
            moved = self._transferred_from(conn, listed)
            statuses = dict(conn.execute(select(_tk.id, _tk.status).where(
                _tk.id.in_(sorted({r.ticket_id for r in served})))).all()) if served else {}
        local = self.calendar.local

        def ticket(row: Any) -> dict[str, Any]:
            out = self.ticket_json(row)
            origin = moved.get(row.id)
            if origin is not None:  # sent here by a transfer: from which counter and field
                out.update(origin)
            return out

        return {
            "counter": {"number": counter, "name": ccfg.label, "fields": list(ccfg.fields),
                        "paused": bool(crow.paused) if crow else False,
                        "pause_reason": crow.pause_reason if crow else ""},
            "current": ticket(current) if current else None,
            "current_visit_id": current.visit_id if current else None,
            "on_hold": [ticket(r) for r in held],
            "next": [ticket(r) for r in nxt],
            "waiting": [{"code": f, "name": self.ticket_json.service_name(f), "waiting": int(waiting.get(f, 0))}
                        for f in ccfg.fields],
            "served": [{
                "visit_id": r.id, "ticket_id": r.ticket_id, "number": r.number, "service": r.field,
                "outcome": r.outcome, "called_at": local(r.called_at).isoformat(timespec="seconds"),
                "ended_at": local(r.ended_at).isoformat(timespec="seconds") if r.ended_at else None,
                "service_s": int((r.ended_at - (r.started_at or r.called_at)).total_seconds()) if r.ended_at else None,
                "ticket_status": statuses.get(r.ticket_id),  # where the ticket is now (a no-show may come back)
            } for r in served],
        }

    def _transferred_from(self, conn: Connection, ticket_ids: list[int]) -> dict[int, dict[str, Any]]:
        """For tickets sent by a transfer: the counter and field of their last transfer
        (`from_counter`, `from_counter_name`, `from_service`, `from_service_name`)."""
        if not ticket_ids:
            return {}
        ev = t.ticket_events.c
        out: dict[int, dict[str, Any]] = {}
        names = {c.number: c.label for c in self.config.counters}
        for r in conn.execute(select(ev.ticket_id, ev.counter, ev.field)
                              .where(ev.ticket_id.in_(ticket_ids), ev.action == "transfer").order_by(ev.id)):
            out[r.ticket_id] = {  # the last transfer wins
                "from_counter": r.counter, "from_counter_name": names.get(r.counter, f"Quầy {r.counter}"),
                "from_service": r.field, "from_service_name": self.ticket_json.service_name(r.field),
            }
        return out

    def waiting_ticket_id(self, counter: int, number: str) -> int | None:
        """The id of today's waiting ticket with this number: among the counter's next in line
        first, then in the whole queue."""
        ccfg = counter_config(self.config, counter)
        _, day = self._today()
        with self.store.read() as conn:
            for r in conn.execute(self._next_in_line(ccfg, day)):
                if r.number == number:
                    return r.id
            return conn.execute(select(_tk.id).where(
                _tk.business_date == day, _tk.number == number, _tk.status == Status.WAITING)).scalar()

    # The office -----------------------------------------------------------------------------
    def office_overview(self) -> dict[str, Any]:
        """The whole office at a glance: every counter's state and current number, waiting per
        field, the longest wait right now (the oldest waiting ticket, counted from when it was
        issued) and the paused counters with reasons."""
        cfg = self.config
        now, day = self._today()
        local = self.calendar.local
        with self.store.read() as conn:
            crows = {r.number: r for r in conn.execute(select(t.counters))}
            current = {r.counter: r for r in conn.execute(select(t.tickets).where(
                _tk.status.in_([s.value for s in AT_COUNTER]), _tk.counter.is_not(None)))}
            held = dict(conn.execute(select(_tk.counter, func.count()).where(_tk.status == Status.ON_HOLD)
                                     .group_by(_tk.counter)).all())
            waiting = {r.field: r for r in conn.execute(
                select(_tk.field, func.count().label("n"), func.min(_tk.issued_at).label("oldest"))
                .where(_tk.business_date == day, _tk.status == Status.WAITING).group_by(_tk.field))}
            oldest = conn.execute(select(t.tickets).where(_tk.business_date == day, _tk.status == Status.WAITING)
                                  .order_by(_tk.issued_at, _tk.id).limit(1)).first()
            v = t.visits.c
            served = dict(conn.execute(select(v.counter, func.count()).where(
                v.business_date == day, v.outcome == "done").group_by(v.counter)).all())
            r = t.ratings.c
            rated: dict[int, dict[str, int]] = {}
            for row in conn.execute(select(r.counter, r.level, func.count()).where(r.business_date == day)
                                    .group_by(r.counter, r.level)):
                rated.setdefault(row[0], {})[row[1]] = int(row[2])

        def age(at: datetime | None) -> int | None:
            return max(0, int((now - at).total_seconds())) if at else None

        fields = []
        for f in cfg.fields:
            w = waiting.get(f.code)
            fields.append({"code": f.code, "name": f.name, "waiting": int(w.n) if w else 0,
                           "oldest_wait_s": age(w.oldest) if w else None,
                           "counters": cfg.counters_for_field(f.code)})
        counters = []
        for c in cfg.counters:
            crow = crows.get(c.number)
            cur = current.get(c.number)
            paused = bool(crow.paused) if crow else False
            state = "paused" if paused else (cur.status if cur is not None else "idle")
            counters.append({
                "number": c.number, "name": c.label, "fields": list(c.fields),
                "state": state, "state_label": STATE_LABELS_VI.get(state, state),
                "paused": paused, "pause_reason": (crow.pause_reason if crow and paused else ""),
                "paused_for_s": age(crow.paused_at) if crow and paused else None,
                "current": self.ticket_json(cur) if cur is not None else None,
                "current_for_s": age(cur.called_at) if cur is not None else None,
                "on_hold": int(held.get(c.number, 0)),
                "waiting": sum(int(waiting[f].n) for f in c.fields if f in waiting),
                "served_today": int(served.get(c.number, 0)),
                "ratings_today": {lvl: rated.get(c.number, {}).get(lvl, 0)
                                  for lvl in ("very_satisfied", "satisfied", "unsatisfied")},
            })
        longest = None
        if oldest is not None:
            longest = {"ticket_id": oldest.id, "number": oldest.number, "service": oldest.field,
                       "service_name": next((f.name for f in cfg.fields if f.code == oldest.field), oldest.field),
                       "status_label": LABELS_VI.get(oldest.status, oldest.status),
                       "issued_at": local(oldest.issued_at).isoformat(timespec="seconds"),
                       "wait_s": age(oldest.issued_at)}
        return {
            "date": day.isoformat(),
            "now": local(now).isoformat(timespec="seconds"),
            "office": {"name": cfg.office.name},
            "counters": counters,
            "services": fields,
            "waiting_total": sum(f["waiting"] for f in fields),
            "longest_wait": longest,
            "paused": [{"number": c["number"], "name": c["name"], "reason": c["pause_reason"],
                        "paused_for_s": c["paused_for_s"]} for c in counters if c["paused"]],
            "served_today": sum(c["served_today"] for c in counters),
        }
