"""GET /api/v1/overview: the whole office at a glance, for the lead (staff and administrators).

Every counter's state and current number, waiting per field, the longest wait right now (the
oldest waiting ticket, counted from when it was issued) and the paused counters with reasons.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import jsonify
from sqlalchemy import func, select

from ..queue.states import AT_COUNTER, LABELS_VI, Status
from ..store import tables as t
from ..web.authz import require, services
from . import bp

STATE_LABELS_VI = {
    "paused": "Tạm dừng",
    "called": "Đang gọi số",
    "serving": "Đang phục vụ",
    "idle": "Đang rảnh",
}


def office_overview(svc: Any) -> dict[str, Any]:
    engine = svc.engine
    cfg = svc.config
    now: datetime = engine.clock()
    day = engine.calendar.business_date(now)
    local = engine.calendar.local
    tk = t.tickets.c
    with svc.store.read() as conn:
        crows = {r.number: r for r in conn.execute(select(t.counters))}
        current = {r.counter: r for r in conn.execute(select(t.tickets).where(
            tk.status.in_([s.value for s in AT_COUNTER]), tk.counter.is_not(None)))}
        held = dict(conn.execute(select(tk.counter, func.count()).where(tk.status == Status.ON_HOLD)
                                 .group_by(tk.counter)).all())
        waiting = {r.field: r for r in conn.execute(
            select(tk.field, func.count().label("n"), func.min(tk.issued_at).label("oldest"))
            .where(tk.business_date == day, tk.status == Status.WAITING).group_by(tk.field))}
        oldest = conn.execute(select(t.tickets).where(tk.business_date == day, tk.status == Status.WAITING)
                              .order_by(tk.issued_at, tk.id).limit(1)).first()
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
            "current": engine.ticket_json(cur) if cur is not None else None,
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


@bp.get("/overview")
@require("staff", "admin")
def overview():
    return jsonify(office_overview(services()))
