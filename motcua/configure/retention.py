"""Personal data retention (Nghị định 13/2023/NĐ-CP), once per business day, by the app's
background loop:

* dossiers received more than `[privacy] retention_days` ago: the applicant's name, ID number
  and phone number are blanked;
* bookings whose appointment is older than `[privacy] retention_days`: name and phone number
  blanked (motcua/booking/erase.py);
* messages: the opt-ins (phone numbers), their dossier links and the outbox rows older than
  `[messages] retention_days` are deleted (`motcua.messages.erase_older_than`).

`[privacy] retention_days = 0` keeps dossiers and bookings; messages always have a period (at
least a day). Each kind with something erased is one audit row (`privacy.erase`, user
"hệ thống", target `dossiers` / `bookings` / `messages`) saying how many rows."""
from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, update

from ..store import tables as t
from .audit import SYSTEM_USER

log = logging.getLogger(__name__)

_LAW = "(Nghị định 13/2023/NĐ-CP)"


def _erase_dossiers(conn: Any, cutoff: datetime) -> int:
    d = t.dossiers.c
    return conn.execute(update(t.dossiers).where(
        d.received_at < cutoff, or_(d.applicant != "", d.applicant_id != "", d.phone != ""))
        .values(applicant="", applicant_id="", phone="")).rowcount or 0


def erase_personal_data(store: Any, audit: Any, retention_days: int, now: datetime,
                        messages_days: int | None = None) -> int:
    """Erase the personal data past its period (`retention_days`, 0: keep dossiers and
    bookings; `messages_days`, None: keep messages); returns the rows erased, all kinds."""
    from ..booking.erase import erase_older_than as erase_bookings
    from ..messages import erase_older_than as erase_messages

    counts: dict[str, tuple[int, int, datetime]] = {}
    with store.write() as conn:
        if retention_days > 0:
            cutoff = now - timedelta(days=retention_days)
            counts["dossiers"] = (_erase_dossiers(conn, cutoff), retention_days, cutoff)
            counts["bookings"] = (erase_bookings(conn, cutoff), retention_days, cutoff)
        if messages_days:
            cutoff = now - timedelta(days=messages_days)
            counts["messages"] = (erase_messages(conn, cutoff), messages_days, cutoff)
        for kind, (n, days, cutoff) in counts.items():
            if not n:
                continue
            summary = {
                "dossiers": f"Đã xoá họ tên, số giấy tờ và số điện thoại của {n} hồ sơ nhận trước {days} ngày {_LAW}.",
                "bookings": f"Đã xoá họ tên và số điện thoại của {n} lịch hẹn đã qua {days} ngày {_LAW}.",
                "messages": f"Đã xoá {n} bản ghi số điện thoại và tin nhắn cũ hơn {days} ngày {_LAW}.",
            }[kind]
            audit.record(who=SYSTEM_USER, user_id=None, action="privacy.erase", target=kind, summary=summary,
                         after={"kind": kind, "rows": n, "retention_days": days, "before": cutoff.isoformat(),
                                **({"received_before": cutoff.isoformat()} if kind == "dossiers" else {})},
                         conn=conn)
    total = sum(n for n, _d, _c in counts.values())
    for kind, (n, days, _c) in counts.items():
        if n:
            log.info("erased the personal data of %d %s (older than %d days)", n, kind, days)
    return total


def erase_if_due(services: Any) -> int:
    """The daily job: runs at most once per business day in this process."""
    live = services.live
    now = services.settings.clock()
    day = services.engine.calendar.business_date(now)
    if live is None or getattr(live, "erased_on", None) == day:
        return 0
    cfg = services.config
    n = erase_personal_data(services.store, live.audit, cfg.privacy.retention_days, now,
                            messages_days=cfg.messages.retention_days)
    live.erased_on = day
    return n
