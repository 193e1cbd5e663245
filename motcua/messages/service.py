"""Messages to citizens who gave a phone number: when their turn is near, when they are
called, when a dossier received during their visit is ready for pickup (docs/messages.md).

`MessageService` (one per app, `services.messages`) is a subscriber of the event bus that
never blocks the publisher: `ticket:called`, `ticket:finished`, `queue:state` and
`dossier:updated` only go onto its queue. Its own worker thread does the rest:

- decides which messages are due (near turn: a waiting ticket with at most
  `[messages] near_turn_ahead` people ahead; called: its first call; ready: a dossier linked
  to the ticket by a finished visit turns "ready") and writes one outbox row per enabled
  channel (`outbox.py`), at most once per ticket, kind and channel;
- hands the oldest due row of each channel to that channel (one at a time per channel, so a
  citizen gets them in order): SMS through the modem device (`motcua/devices/modem.py`,
  sending on the modem's own thread), Zalo ZNS through `zns.py`;
- records the answer: sent, or tried again after a growing delay, and failed after
  `max_attempts` (shown to the administrator, `GET /api/v1/messages`).

Issuing and calling never wait for any of it: a missing or unplugged modem only makes
outbox rows fail.
"""
from __future__ import annotations

import logging
import queue
import threading
import time
from datetime import datetime
from typing import Any

from sqlalchemy import select

from ..dossiers.status import is_ready
from ..events import DOSSIER_UPDATED, QUEUE_STATE, TICKET_CALLED, TICKET_FINISHED, Event
from ..errors import MotcuaError
from ..store import tables as t
from . import texts
from .outbox import FAILED, STATUS_LABELS_VI, Outbox
from .phones import mask_phone, normalise_phone
from .zns import ZnsChannel

log = logging.getLogger(__name__)

LABEL = "messages"
IN_FLIGHT_LIMIT_S = 180.0  # a channel that never answered a row: the row fails and is tried again
STALE_SENDING_S = 300.0  # rows left "sending" by a stopped process go back to pending
MAX_PER_PHONE_PER_DAY = 5  # opt-ins per phone number and day (someone else's number is not spammed)
OPEN_FOR_OPT_IN = ("waiting", "called", "serving", "on_hold", "done")
CHANNEL_LABELS_VI = {"sms": "Tin nhắn SMS", "zns": "Zalo"}


class MessageError(MotcuaError):
    pass


class MessageService:
    def __init__(self, services: Any):
        self.svc = services
        self.outbox = Outbox(services.store, services.settings.clock)
        self._q: queue.Queue[Any] = queue.Queue()
        self._stop = threading.Event()
        self._inflight: dict[str, tuple[int, float]] = {}  # channel -> (outbox id, given at, monotonic)
        self._zns: ZnsChannel | None = None
        self._near_dirty = True
        self._skipped = False  # due rows left for another process (its modem): do not spin on them
        self._unsubscribe = services.bus.subscribe(
            self._on_event, names=[TICKET_CALLED, TICKET_FINISHED, QUEUE_STATE, DOSSIER_UPDATED], label=LABEL)
        self._thread = threading.Thread(target=self._main, name="motcua-messages", daemon=True)
        self._thread.start()

    def _today(self) -> Any:
        return self.svc.engine.calendar.business_date(self.svc.settings.clock())

    # Settings ---------------------------------------------------------------------------------
    @property
    def cfg(self) -> Any:
        return self.svc.config.messages

    @property
    def office(self) -> str:
        # The office's full name, as on paper and the phone page: a short name is often an
        # abbreviation ("TTPVHCC ...") that citizens do not read.
        return self.svc.config.office.name

    def options(self) -> dict[str, Any]:
        chans = list(self.cfg.channels)
        return {"enabled": bool(chans), "channels": chans,
                "channel_labels": [CHANNEL_LABELS_VI[c] for c in chans],
                "near_turn_ahead": self.cfg.near_turn_ahead}

    # The routes' side -------------------------------------------------------------------------
    def opt_in(self, token: str, phone: object, *, source: str) -> dict[str, Any]:
        """The citizen's phone number for the ticket with this token. Quick: one read, one
        write; the messages themselves go from the worker."""
        if not self.cfg.channels:
            raise MessageError("messages_off", "Cơ quan chưa bật nhắn tin báo lượt. / Messages are not offered here.",
                               409)
        number = normalise_phone(phone)
        views = self.svc.engine.views
        ticket = views.get_ticket_by_token(token) if isinstance(token, str) and len(token) <= 64 else None
        if ticket is None:
            raise MessageError("unknown_ticket", "Không tìm thấy phiếu này. / Ticket not found.", 404)
        today = self._today()
        if ticket["business_date"] != today.isoformat() or ticket["status"] not in OPEN_FOR_OPT_IN:
            raise MessageError("ticket_closed", "Số thứ tự này đã hết hiệu lực, không đăng ký nhận tin được. "
                               "/ This number is no longer valid.", 409)
        existing = self.outbox.subscriptions_for_ticket(ticket["id"])
        if not any(s.phone == number for s in existing) and self.outbox.phone_count(number, today) >= MAX_PER_PHONE_PER_DAY:
            raise MessageError("too_many_opt_ins", "Số điện thoại này đã đăng ký nhận tin cho quá nhiều số thứ tự hôm nay. "
                               "/ This phone number has been given too many times today.", 429)
        masked = mask_phone(number)
        self.outbox.subscribe(ticket["id"], today, number, masked, source)
        self._q.put(("opt_in", ticket["id"]))
        return {"ticket": ticket["number"], "phone_masked": masked, **self.options()}

    def listing(self, status: str | None, limit: int) -> dict[str, Any]:
        rows, counts = self.outbox.listing(status, limit)
        local = self.svc.engine.calendar.local

        def at(v: datetime | None) -> str | None:
            return local(v).isoformat(timespec="seconds") if v is not None else None

        items = [{
            "id": r.id, "ticket_id": r.ticket_id, "kind": r.kind, "kind_label": texts.KIND_LABELS_VI.get(r.kind, r.kind),
            "channel": r.channel, "channel_label": CHANNEL_LABELS_VI.get(r.channel, r.channel),
            "phone_masked": r.phone_masked, "text": r.body, "status": r.status,
            "status_label": STATUS_LABELS_VI.get(r.status, r.status), "attempts": r.attempts,
            "error": r.last_error, "created_at": at(r.created_at), "sent_at": at(r.sent_at),
            "next_try_at": at(r.next_try_at) if r.status == "pending" else None,
        } for r in rows]
        return {"items": items, "counts": {s: counts.get(s, 0) for s in STATUS_LABELS_VI}}

    def stop(self) -> None:
        self._unsubscribe()
        self._stop.set()
        self._q.put(None)
        self._thread.join(5.0)
        if self._zns is not None:
            self._zns.stop()

    # The bus (publisher's thread: only queue) ----------------------------------------------------
    def _on_event(self, event: Event) -> None:
        if self.cfg.channels:
            self._q.put(("event", event))

    # The worker ----------------------------------------------------------------------------------
    def _main(self) -> None:
        try:
            self.outbox.release_stale(STALE_SENDING_S)
        except Exception:  # noqa: BLE001
            log.exception("messages: releasing stale rows failed")
        while not self._stop.is_set():
            try:
                item = self._q.get(timeout=self._wait_s())
            except queue.Empty:
                item = ()
            if item is None:
                return
            items = [item]
            while True:  # take everything queued, then act once
                try:
                    more = self._q.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    return
                items.append(more)
            try:
                for it in items:
                    if it:
                        self._handle(it)
                if self._near_dirty:
                    self._near_dirty = False
                    self._check_near()
                self._dispatch()
            except Exception:  # noqa: BLE001 - the worker stays alive; rows stay for the next round
                log.exception("messages: worker round failed")
                self._stop.wait(1.0)

    def _wait_s(self) -> float:
        if not self.cfg.channels:
            return 5.0
        if self._inflight:
            return 0.5
        try:
            nxt = self.outbox.next_due_at()
        except Exception:  # noqa: BLE001
            return 2.0
        if nxt is None:
            return 5.0
        left = (nxt - self.svc.settings.clock()).total_seconds()
        return min(5.0, max(1.0 if self._skipped else 0.02, left))

    def _handle(self, item: tuple[Any, ...]) -> None:
        kind = item[0]
        if kind == "done":
            _, channel, row_id, ok, error = item
            self._record(channel, row_id, ok, error)
        elif kind == "opt_in":
            self._near_dirty = True
            self._link_finished_visits(item[1])
        elif kind == "event":
            ev: Event = item[1]
            if ev.name == TICKET_CALLED:
                self._on_called(ev.payload)
                self._near_dirty = True
            elif ev.name == QUEUE_STATE:
                self._near_dirty = True
            elif ev.name == TICKET_FINISHED:
                ticket = ev.payload.get("ticket") or {}
                if ticket.get("id") is not None:
                    self._link_finished_visits(int(ticket["id"]))
            elif ev.name == DOSSIER_UPDATED:
                self._on_dossier(ev.payload)

    # What is due -------------------------------------------------------------------------------------
    def _on_called(self, p: Any) -> None:
        if p.get("recall") or p.get("ticket_id") is None:
            return
        subs = [s for s in self.outbox.subscriptions_for_ticket(int(p["ticket_id"])) if not s.called_sent and s.phone]
        for sub in subs:
            number, counter = str(p.get("number", "")), p.get("counter")
            self.outbox.enqueue(sub, texts.CALLED, self.cfg.channels, texts.called_text(self.office, number, counter),
                                texts.template_data(texts.CALLED, self.office, number=number, counter=counter),
                                mark={"called_sent": True, "near_sent": True})

    def _check_near(self) -> None:
        today = self._today()
        limit = self.cfg.near_turn_ahead
        for sub in self.outbox.waiting_for_near(today):
            ticket = self.svc.engine.views.get_ticket(sub.ticket_id)
            if ticket is None or ticket["status"] != "waiting":
                continue
            ahead = int(ticket.get("ahead") or 0)
            if ahead > limit:
                continue
            counters = list(ticket.get("counters") or [])
            self.outbox.enqueue(sub, texts.NEAR, self.cfg.channels,
                                texts.near_text(self.office, ticket["number"], ahead, counters),
                                texts.template_data(texts.NEAR, self.office, number=ticket["number"], ahead=ahead),
                                mark={"near_sent": True})

    def _link_finished_visits(self, ticket_id: int) -> None:
        """The dossiers received during this ticket's finished visits follow its opt-in."""
        subs = self.outbox.subscriptions_for_ticket(ticket_id)
        if not subs:
            return
        with self.svc.store.read() as conn:
            lists = conn.execute(select(t.visits.c.dossiers).where(
                t.visits.c.ticket_id == ticket_id, t.visits.c.dossiers.is_not(None))).scalars().all()
        codes = sorted({str(c) for lst in lists if isinstance(lst, list) for c in lst if c})
        if not codes:
            return
        for sub in subs:
            self.outbox.link_dossiers(sub.id, codes)
        for code in codes:  # already ready (recorded after the fact): tell at once
            row = self.svc.dossiers.get(code) if self.svc.dossiers is not None else None
            if row is not None and _is_ready(row.status):
                self._ready(code)

    def _on_dossier(self, p: Any) -> None:
        code = p.get("code")
        if code is None:  # an import changed many: look at every dossier still owed a message
            for link in self.outbox.unsent_links():
                row = self.svc.dossiers.get(link.dossier_code)
                if row is not None and _is_ready(row.status):
                    self._ready(link.dossier_code)
            return
        if p.get("ready"):
            self._ready(str(code))

    def _ready(self, code: str) -> None:
        for link in self.outbox.unsent_links(code):
            self.outbox.enqueue(link, texts.READY, self.cfg.channels, texts.ready_text(self.office, code),
                                texts.template_data(texts.READY, self.office, code=code), key=code, dossier=code)

    # Sending ---------------------------------------------------------------------------------------
    def _channel(self, name: str) -> Any:
        if name == "zns":
            if self._zns is None and self.cfg.zns is not None:
                self._zns = ZnsChannel(self.cfg.zns)
            return self._zns
        if name == "sms":
            devices = self.svc.devices
            return getattr(devices, "modem", None) if devices is not None else None
        return None

    def _dispatch(self) -> None:
        now_m = time.monotonic()
        for channel, (row_id, since) in list(self._inflight.items()):
            if now_m - since > IN_FLIGHT_LIMIT_S:
                self._record(channel, row_id, False, "Kênh gửi không trả lời")
        self._skipped = False
        for channel in self.outbox.pending_channels():
            if channel in self._inflight:
                continue
            sender = self._channel(channel)
            if sender is None and channel == "sms" and self.svc.config.devices_of("modem"):
                # The modem is starting, or belongs to the process that runs the devices.
                self._skipped = True
                continue
            row = self.outbox.due(channel)
            if row is None or not self.outbox.claim(row.id):
                continue
            if sender is None:
                reason = ("Chưa có modem gửi tin nhắn (thiết bị loại 'modem')" if channel == "sms"
                          else "Chưa cấu hình Zalo ([messages.zns])")
                self._inflight[channel] = (row.id, now_m)
                self._record(channel, row.id, False, reason)
                continue
            self._inflight[channel] = (row.id, now_m)
            msg = {"id": row.id, "phone": row.phone, "text": row.body, "kind": row.kind, "data": row.data}
            sender.submit(msg, lambda ok, error, c=channel, rid=row.id: self._q.put(("done", c, rid, ok, error)))

    def _record(self, channel: str, row_id: int, ok: bool, error: str) -> None:
        if self._inflight.get(channel, (None,))[0] == row_id:
            del self._inflight[channel]
        if ok:
            self.outbox.sent(row_id)
            return
        cfg = self.cfg
        status = self.outbox.failed(row_id, error or "Không gửi được", max_attempts=cfg.max_attempts,
                                    retry_initial_s=cfg.retry_initial_s, retry_max_s=cfg.retry_max_s)
        (log.warning if status == FAILED else log.info)("message %s (%s): %s", row_id, channel, error)


def _is_ready(status: Any) -> bool:
    try:
        return bool(is_ready(int(status)))
    except (TypeError, ValueError, KeyError):
        return False

