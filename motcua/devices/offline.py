"""Numbers kept for a device agent's kiosk while its link is down (docs/agents.md).

`top_up`: per kiosk field and business day, the agent always holds at least half a block of
numbers it has not handed back yet; a new block is taken from the field's day counter
(`numbering.reserve_block`), so nobody else ever issues them. `hand_over`: the tickets the
agent issued offline become queue tickets (`queue/handover.py`), each once (by its uid), and
only numbers of this agent's own blocks are accepted.
"""
from __future__ import annotations

import logging
from datetime import date, datetime, timezone
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from ..queue.errors import QueueError
from ..queue.handover import hand_over
from ..queue.numbering import format_number, reserve_block
from ..store import tables as t

log = logging.getLogger(__name__)
MAX_HANDOVER = 500


class OfflineBlocks:
    def __init__(self, ctx: Any):
        self.ctx = ctx

    def _day(self) -> date:
        engine = self.ctx.engine
        return engine.calendar.business_date(engine.clock())

    def top_up(self, agent: str, size: int) -> dict[str, Any]:
        day = self._day()
        cfg = self.ctx.config
        if size <= 0:
            return {"business_date": day.isoformat(), "blocks": []}
        now = datetime.now(timezone.utc)
        with self.ctx.store.write() as conn:
            for f in cfg.fields:
                if not f.kiosk:
                    continue
                granted = conn.execute(select(func.coalesce(func.sum(t.agent_blocks.c.last - t.agent_blocks.c.first + 1), 0))
                                       .where(t.agent_blocks.c.agent == agent, t.agent_blocks.c.field == f.code,
                                              t.agent_blocks.c.business_date == day)).scalar_one()
                used = conn.execute(select(func.count()).select_from(
                    t.agent_handovers.join(t.tickets, t.tickets.c.id == t.agent_handovers.c.ticket_id))
                    .where(t.agent_handovers.c.agent == agent, t.tickets.c.issue_field == f.code,
                           t.tickets.c.business_date == day)).scalar_one()
                if int(granted) - int(used) >= max(1, size // 2):
                    continue
                got = reserve_block(conn, f.code, day, size, f.daily_cap)
                if got is not None:
                    conn.execute(t.agent_blocks.insert().values(agent=agent, field=f.code, business_date=day,
                                                                first=got[0], last=got[1], created_at=now))
            rows = list(conn.execute(select(t.agent_blocks).where(
                t.agent_blocks.c.agent == agent, t.agent_blocks.c.business_date == day).order_by(t.agent_blocks.c.id)))
        blocks = []
        for r in rows:
            fcfg = cfg.field(r.field)
            if fcfg is None:
                continue
            blocks.append({"field": r.field, "business_date": day.isoformat(), "first": r.first, "last": r.last,
                           "numbers": {str(n): format_number(fcfg.numbering, n) for n in range(r.first, r.last + 1)}})
        return {"business_date": day.isoformat(), "blocks": blocks}

    def _in_block(self, agent: str, field: str, day: date, n: int) -> bool:
        with self.ctx.store.read() as conn:
            return conn.execute(select(t.agent_blocks.c.id).where(
                t.agent_blocks.c.agent == agent, t.agent_blocks.c.field == field,
                t.agent_blocks.c.business_date == day, t.agent_blocks.c.first <= n,
                t.agent_blocks.c.last >= n)).first() is not None

    def hand_over(self, agent: str, body: Any) -> dict[str, Any]:
        tickets = body.get("tickets") if isinstance(body, dict) else None
        if not isinstance(tickets, list) or len(tickets) > MAX_HANDOVER:
            return {"ok": False, "error": "bad_request", "results": []}
        results = []
        # In issue order, so the queue and the screens get them as they were issued.
        for tk in sorted((x for x in tickets if isinstance(x, dict)), key=lambda x: str(x.get("issued_at"))):
            uid = str(tk.get("uid") or "")[:40]
            try:
                n = int(tk["n"])
                day = date.fromisoformat(str(tk["business_date"]))
                issued = datetime.fromisoformat(str(tk["issued_at"]))
                if issued.tzinfo is None or not uid:
                    raise ValueError("naive time or no uid")
                field = str(tk["field"])
            except (KeyError, TypeError, ValueError):
                results.append({"uid": uid, "ok": False, "error": "bad_ticket"})
                continue
            if not self._in_block(agent, field, day, n):
                results.append({"uid": uid, "ok": False, "error": "not_in_block"})
                continue
            try:
                out = hand_over(self.ctx.engine, agent=agent, uid=uid, field_code=field, n=n, day=day,
                                issued_at=issued.astimezone(timezone.utc), priority=tk.get("priority") or None)
            except (QueueError, IntegrityError) as exc:
                log.warning("offline ticket %s of %s refused: %s", uid, agent, exc)
                results.append({"uid": uid, "ok": False, "error": "refused"})
                continue
            results.append({"uid": uid, "ok": True, "ticket_id": out["id"], "number": out["number"]})
        return {"ok": True, "results": results}
