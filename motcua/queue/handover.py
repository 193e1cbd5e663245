"""Tickets a device agent issued while its link was down, handed over to the queue
(docs/agents.md): one engine transaction per ticket, idempotent on the ticket's `uid`.

The ticket keeps its number (the n the server reserved for that agent, numbering.py), its
issue time (it waits in the queue from then on, so the screens show it in issue order) and
is marked offline in its `issue` event (`detail.offline`). Its `ticket:issued` event goes to
consoles and displays like any other; nothing is printed (the agent printed it).
"""
from __future__ import annotations

import secrets
from datetime import date, datetime
from typing import Any

from sqlalchemy import select

from ..events import TICKET_ISSUED
from ..store import tables as t
from .errors import QueueError
from .states import Status
from .numbering import format_number


def hand_over(engine: Any, *, agent: str, uid: str, field_code: str, n: int, day: date,
              issued_at: datetime, priority: str | None) -> dict[str, Any]:
    """Insert one offline ticket (or find the one this uid made before): its JSON, with
    `handed_over_before` when it was already there."""
    fcfg = engine.config.field(field_code)
    if fcfg is None:
        raise QueueError("unknown_service", f"Không có lĩnh vực mã '{field_code}'.", 404)
    if priority is not None and priority not in engine.config.queue.priority_classes:
        priority = None
    number = format_number(fcfg.numbering, n)

    def body(tx: Any) -> dict[str, Any]:
        conn = tx.conn
        done = conn.execute(select(t.agent_handovers.c.ticket_id).where(t.agent_handovers.c.uid == uid)).first()
        if done is not None:
            row = conn.execute(select(t.tickets).where(t.tickets.c.id == done.ticket_id)).first()
            return {**engine.ticket_json(row), "handed_over_before": True}
        ticket_id = conn.execute(t.tickets.insert().values(
            token=secrets.token_urlsafe(12), business_date=day, issue_field=field_code, seq=n, number=number,
            field=field_code, priority=priority, status=Status.WAITING.value, source="kiosk", dossier_code=None,
            issued_at=issued_at, queued_at=issued_at, recalls=0, updated_at=tx.now,
        ).returning(t.tickets.c.id)).scalar_one()
        conn.execute(t.agent_handovers.insert().values(uid=uid, agent=agent, ticket_id=ticket_id, created_at=tx.now))
        row = conn.execute(select(t.tickets).where(t.tickets.c.id == ticket_id)).first()
        seq = engine._seq(tx)
        conn.execute(t.ticket_events.insert().values(
            ticket_id=ticket_id, seq=seq, at=issued_at, business_date=day, action="issue", from_status=None,
            to_status=Status.WAITING.value, field=field_code, counter=None, staff_id=None, visit_id=None,
            priority=priority, detail={"source": "kiosk", "offline": True, "agent": agent,
                                       "handed_over_at": tx.now.isoformat()}))
        out = engine.ticket_json(row)
        tx.emit(TICKET_ISSUED, {"ticket": {**out, "offline": True}}, ("staff", "displays"))
        return out

    return engine._run(body)
