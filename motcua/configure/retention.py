"""Personal data retention (Nghị định 13/2023/NĐ-CP): applicants' names, ID numbers and phone
numbers of dossiers received more than `[privacy] retention_days` ago are erased, once per
business day, by the app's background loop; each erasure is one audit row saying how many."""
from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, update

from ..store import tables as t
from .audit import SYSTEM_USER

log = logging.getLogger(__name__)


def erase_personal_data(store: Any, audit: Any, retention_days: int, now: datetime) -> int:
    """Blank the personal data older than `retention_days` (0: keep); returns the rows erased."""
    if retention_days <= 0:
        return 0
    d = t.dossiers.c
    cutoff = now - timedelta(days=retention_days)
    with store.write() as conn:
        n = conn.execute(update(t.dossiers).where(
            d.received_at < cutoff, or_(d.applicant != "", d.applicant_id != "", d.phone != ""))
            .values(applicant="", applicant_id="", phone="")).rowcount or 0
        if n:
            audit.record(who=SYSTEM_USER, user_id=None, action="privacy.erase", target="dossiers",
                         summary=f"Đã xoá họ tên, số giấy tờ và số điện thoại của {n} hồ sơ nhận trước "
                                 f"{retention_days} ngày (Nghị định 13/2023/NĐ-CP).",
                         after={"rows": n, "retention_days": retention_days, "received_before": cutoff.isoformat()},
                         conn=conn)
    if n:
        log.info("erased the personal data of %d dossiers (older than %d days)", n, retention_days)
    return n


def erase_if_due(services: Any) -> int:
    """The daily job: runs at most once per business day in this process."""
    live = services.live
    now = services.settings.clock()
    day = services.engine.calendar.business_date(now)
    if live is None or getattr(live, "erased_on", None) == day:
        return 0
    n = erase_personal_data(services.store, live.audit, services.config.privacy.retention_days, now)
    live.erased_on = day
    return n
