"""The administrator's audit log: who changed what, when, with the before and after (JSON).

Every change made through the administrator's screens (and each erasure of the personal-data
retention job) is one row of `admin_audit`. Read back newest first, as JSON or CSV."""
from __future__ import annotations

import csv
import io
import json
from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from ..clock import Clock, system_clock
from ..store import Store
from ..store import tables as t

SYSTEM_USER = "hệ thống"  # the daily jobs' name in the log
CSV_HEADER = ("Thời gian", "Người thực hiện", "Thao tác", "Đối tượng", "Nội dung", "Trước", "Sau")


class AuditLog:
    def __init__(self, store: Store, clock: Clock = system_clock, tz: Any = None):
        self.store = store
        self.clock = clock
        self.tz = tz  # the office's time zone (ZoneInfo) for the times shown; None: UTC

    def record(self, *, who: str, user_id: int | None, action: str, target: str, summary: str,
               before: Any = None, after: Any = None, conn: Any = None) -> None:
        values = dict(at=self.clock(), user_id=user_id, username=(who or SYSTEM_USER)[:40], action=action[:40],
                      target=str(target)[:120], summary=summary[:500], before=_jsonable(before),
                      after=_jsonable(after))
        if conn is not None:  # inside the caller's transaction
            conn.execute(t.admin_audit.insert().values(**values))
            return
        with self.store.write() as c:
            c.execute(t.admin_audit.insert().values(**values))

    def entries(self, *, limit: int = 200, offset: int = 0, action: str = "") -> tuple[list[dict[str, Any]], int]:
        a = t.admin_audit.c
        q = select(t.admin_audit).order_by(a.at.desc(), a.id.desc())
        n = select(func.count()).select_from(t.admin_audit)
        if action:
            q, n = q.where(a.action == action), n.where(a.action == action)
        with self.store.read() as conn:
            rows = conn.execute(q.limit(limit).offset(offset)).all()
            total = conn.execute(n).scalar_one()
        return [self._json(r) for r in rows], total

    def _local(self, at: datetime) -> datetime:
        return at.astimezone(self.tz) if self.tz is not None else at

    def _json(self, r: Any) -> dict[str, Any]:
        return {"id": r.id, "at": self._local(r.at).isoformat(timespec="seconds"), "user": r.username,
                "action": r.action, "target": r.target, "summary": r.summary, "before": r.before,
                "after": r.after}

    def csv_text(self, *, limit: int = 100_000) -> str:
        rows, _ = self.entries(limit=limit)
        buf = io.StringIO()
        w = csv.writer(buf)
        w.writerow(CSV_HEADER)
        for e in rows:
            w.writerow([e["at"], e["user"], e["action"], e["target"], e["summary"],
                        _cell(e["before"]), _cell(e["after"])])
        return "\ufeff" + buf.getvalue()  # a BOM: spreadsheet programs then read UTF-8 correctly


def _cell(v: Any) -> str:
    text = "" if v is None else json.dumps(v, ensure_ascii=False, sort_keys=True)
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text  # never a formula in a spreadsheet


def _jsonable(v: Any) -> Any:
    if v is None:
        return None
    return json.loads(json.dumps(v, ensure_ascii=False, default=str))
