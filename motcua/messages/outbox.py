"""The messages' tables: opt-ins (`message_subscriptions`), the dossiers they follow
(`message_dossiers`) and the outbox (`message_outbox`), over the app's Store.

An outbox row goes pending -> sending -> sent, or back to pending with a later
`next_try_at` after a failure, and failed after `max_attempts`. Taking a row for sending is
a guarded update (`WHERE status = 'pending'`), so two processes never send one row twice.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any, Callable, Iterable

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from ..store import tables as t

_sub = t.message_subscriptions.c
_dos = t.message_dossiers.c
_box = t.message_outbox.c

PENDING, SENDING, SENT, FAILED = "pending", "sending", "sent", "failed"
STATUSES = (PENDING, SENDING, SENT, FAILED)
STATUS_LABELS_VI = {PENDING: "Đang chờ gửi", SENDING: "Đang gửi", SENT: "Đã gửi", FAILED: "Gửi không được"}


class Outbox:
    def __init__(self, store: Any, clock: Callable[[], datetime]):
        self.store = store
        self.clock = clock

    # Opt-in ----------------------------------------------------------------------------------
    def subscribe(self, ticket_id: int, day: date, phone: str, masked: str, source: str) -> dict[str, Any]:
        """One phone number per ticket: a second opt-in replaces the number."""
        now = self.clock()
        with self.store.write() as conn:
            row = conn.execute(select(t.message_subscriptions).where(_sub.ticket_id == ticket_id)
                               .order_by(_sub.id).limit(1)).first()
            if row is None:
                sid = conn.execute(insert(t.message_subscriptions).values(
                    ticket_id=ticket_id, business_date=day, phone=phone, phone_masked=masked, source=source,
                    near_sent=False, called_sent=False, created_at=now, updated_at=now)).inserted_primary_key[0]
            else:
                sid = row.id
                conn.execute(update(t.message_subscriptions).where(_sub.id == sid).values(
                    phone=phone, phone_masked=masked, source=source, updated_at=now))
        return {"id": sid}

    def phone_count(self, phone: str, day: date) -> int:
        with self.store.read() as conn:
            return conn.execute(select(func.count()).select_from(t.message_subscriptions).where(
                _sub.phone == phone, _sub.business_date == day)).scalar_one()

    def subscriptions_for_ticket(self, ticket_id: int) -> list[Any]:
        with self.store.read() as conn:
            return conn.execute(select(t.message_subscriptions).where(_sub.ticket_id == ticket_id)).all()

    def waiting_for_near(self, day: date) -> list[Any]:
        """Today's opt-ins that have had neither the near-turn nor the called message."""
        with self.store.read() as conn:
            return conn.execute(select(t.message_subscriptions).where(
                _sub.business_date == day, _sub.near_sent.is_(False), _sub.called_sent.is_(False),
                _sub.phone != "").order_by(_sub.id)).all()

    def link_dossiers(self, sub_id: int, codes: Iterable[str]) -> None:
        now = self.clock()
        for code in codes:
            try:
                with self.store.write() as conn:
                    exists = conn.execute(select(_dos.subscription_id).where(
                        _dos.subscription_id == sub_id, _dos.dossier_code == code)).first()
                    if exists is None:
                        conn.execute(insert(t.message_dossiers).values(
                            subscription_id=sub_id, dossier_code=code, ready_sent=False, created_at=now))
            except IntegrityError:  # linked by another process meanwhile
                pass

    def unsent_links(self, code: str | None = None) -> list[Any]:
        """(subscription, dossier code) pairs still owed a ready message (all, or of one code)."""
        q = (select(t.message_subscriptions, _dos.dossier_code)
             .join(t.message_dossiers, _dos.subscription_id == _sub.id)
             .where(_dos.ready_sent.is_(False), _sub.phone != ""))
        if code is not None:
            q = q.where(_dos.dossier_code == code)
        with self.store.read() as conn:
            return conn.execute(q.order_by(_sub.id)).all()

    # Queuing ------------------------------------------------------------------------------------
    def enqueue(self, sub: Any, kind: str, channels: Iterable[str], body: str, data: dict[str, Any],
                *, key: str = "", mark: dict[str, Any] | None = None, dossier: str | None = None) -> int:
        """One outbox row per channel (at most once per subscription, kind, key and channel),
        and the subscription's flags (`mark`) or its dossier link, in one transaction."""
        now = self.clock()
        made = 0
        with self.store.write() as conn:
            for channel in channels:
                dedupe = f"{sub.id}:{kind}:{key}:{channel}"[:120]
                if conn.execute(select(_box.id).where(_box.dedupe == dedupe)).first() is not None:
                    continue
                conn.execute(insert(t.message_outbox).values(
                    subscription_id=sub.id, ticket_id=sub.ticket_id, kind=kind, channel=channel, phone=sub.phone,
                    phone_masked=sub.phone_masked, body=body[:1000], data=data, dedupe=dedupe, status=PENDING,
                    attempts=0, next_try_at=now, last_error="", created_at=now, updated_at=now))
                made += 1
            if mark:
                conn.execute(update(t.message_subscriptions).where(_sub.id == sub.id).values(updated_at=now, **mark))
            if dossier is not None:
                conn.execute(update(t.message_dossiers).where(
                    _dos.subscription_id == sub.id, _dos.dossier_code == dossier).values(ready_sent=True))
        return made

    # Sending ------------------------------------------------------------------------------------
    def due(self, channel: str) -> Any | None:
        """The oldest pending row of a channel whose time has come."""
        with self.store.read() as conn:
            return conn.execute(select(t.message_outbox).where(
                _box.channel == channel, _box.status == PENDING, _box.next_try_at <= self.clock())
                .order_by(_box.id).limit(1)).first()

    def pending_channels(self) -> list[str]:
        with self.store.read() as conn:
            return [c for (c,) in conn.execute(select(_box.channel).where(_box.status == PENDING).distinct())]

    def next_due_at(self) -> datetime | None:
        with self.store.read() as conn:
            return conn.execute(select(func.min(_box.next_try_at)).where(_box.status == PENDING)).scalar()

    def claim(self, row_id: int) -> bool:
        now = self.clock()
        with self.store.write() as conn:
            res = conn.execute(update(t.message_outbox).where(_box.id == row_id, _box.status == PENDING)
                               .values(status=SENDING, attempts=_box.attempts + 1, updated_at=now))
            return res.rowcount == 1

    def sent(self, row_id: int) -> None:
        now = self.clock()
        with self.store.write() as conn:
            conn.execute(update(t.message_outbox).where(_box.id == row_id).values(
                status=SENT, sent_at=now, updated_at=now, last_error=""))

    def failed(self, row_id: int, error: str, *, max_attempts: int, retry_initial_s: float,
               retry_max_s: float) -> str:
        """A failed attempt: pending again after the backoff, or failed for good. The new status."""
        now = self.clock()
        with self.store.write() as conn:
            attempts = conn.execute(select(_box.attempts).where(_box.id == row_id)).scalar() or 0
            if attempts >= max_attempts:
                status, next_try = FAILED, now
            else:
                status = PENDING
                next_try = now + timedelta(seconds=min(retry_initial_s * 2 ** max(0, attempts - 1), retry_max_s))
            conn.execute(update(t.message_outbox).where(_box.id == row_id).values(
                status=status, next_try_at=next_try, last_error=error[:300], updated_at=now))
        return status

    def release_stale(self, older_than_s: float) -> int:
        """Rows left 'sending' by a process that stopped: pending again."""
        cutoff = self.clock() - timedelta(seconds=older_than_s)
        with self.store.write() as conn:
            return conn.execute(update(t.message_outbox).where(
                _box.status == SENDING, _box.updated_at < cutoff).values(status=PENDING)).rowcount

    # Reading -------------------------------------------------------------------------------------
    def listing(self, status: str | None, limit: int) -> tuple[list[Any], dict[str, int]]:
        q = select(t.message_outbox).order_by(_box.id.desc()).limit(limit)
        if status:
            q = q.where(_box.status == status)
        with self.store.read() as conn:
            rows = conn.execute(q).all()
            counts = {s: n for s, n in conn.execute(
                select(_box.status, func.count()).group_by(_box.status))}
        return rows, counts


def erase_older_than(conn: Connection, cutoff: datetime) -> int:
    """Erase the phone numbers and messages of opt-ins made before `cutoff` (an aware
    instant), inside the caller's write transaction: the subscriptions, their dossier links
    and every outbox row created before it are deleted. Returns how many rows went."""
    old = select(_sub.id).where(_sub.created_at < cutoff).scalar_subquery()
    n = conn.execute(delete(t.message_dossiers).where(_dos.subscription_id.in_(old))).rowcount or 0
    n += conn.execute(delete(t.message_outbox).where(_box.created_at < cutoff)).rowcount or 0
    n += conn.execute(delete(t.message_subscriptions).where(_sub.created_at < cutoff)).rowcount or 0
    return n


__all__ = ["FAILED", "Outbox", "PENDING", "SENDING", "SENT", "STATUSES", "STATUS_LABELS_VI", "erase_older_than"]
