"""One live pickup ticket per dossier ("Lấy số nhận kết quả").

A dossier has at most one live pickup ticket today (waiting, called, serving or on hold):
asking again answers with that ticket, flagged `already_issued`, never a new number. The
check runs inside the issue transaction (`QueueEngine.issue` calls `guard`), so two requests
at the same moment cannot both pass it: SQLite write transactions are serial (BEGIN
IMMEDIATE), and on PostgreSQL the transaction first takes a transaction-level advisory lock
named after the dossier code, so the second request waits for the first to commit and then,
reading at READ COMMITTED, sees its ticket. Once the ticket is done, absent, cancelled or
expired, the dossier may get a new one.
"""
from __future__ import annotations

import hashlib
from typing import Any

from ..store.db import RawTx
from .errors import QueueError
from .views import QueueViews

_LIVE = tuple(s.value for s in QueueViews.LIVE_PICKUP)
_RAW_LIVE = ("SELECT id FROM tickets WHERE dossier_code = ? AND business_date = ? AND status IN ("
             + ", ".join("?" for _ in _LIVE) + ") ORDER BY id LIMIT 1")
_RAW_PG_LOCK = "SELECT pg_advisory_xact_lock(?)"


class Taken(QueueError):
    """Raised inside the issue transaction (it rolls back): the dossier already has a live
    pickup ticket."""

    def __init__(self, ticket_id: int):
        super().__init__("pickup_exists", "Hồ sơ này đã có số thứ tự nhận kết quả.", 200, ticket_id=ticket_id)


def _lock_key(dossier_code: str) -> int:
    """A signed 64-bit key for PostgreSQL's advisory lock, the same in every process."""
    digest = hashlib.blake2b(b"motcua-pickup:" + dossier_code.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def guard(raw: RawTx, dossier_code: str | None, day: Any) -> None:
    """Inside the issue transaction: raise `Taken` when the dossier already has a live ticket."""
    if not dossier_code:
        return
    if not raw.sqlite:
        raw.all(_RAW_PG_LOCK, (_lock_key(dossier_code),))
    found = raw.all(_RAW_LIVE, (dossier_code, day, *_LIVE))
    if found:
        raise Taken(int(found[0][0]))


def answer(views: QueueViews, taken: Taken) -> dict[str, Any]:
    """The answer to a second request: the ticket the dossier holds, as it is now, with its
    token, flagged `already_issued`."""
    ticket_id = int(taken.extra["ticket_id"])
    found = views.get_ticket(ticket_id)
    if found is None:  # pragma: no cover - tickets are never deleted
        raise QueueError("unknown_ticket", "Không tìm thấy số thứ tự của hồ sơ này.", 404)
    return {**found, "token": views.ticket_token(ticket_id), "already_issued": True}
