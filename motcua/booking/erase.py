"""Personal data retention for bookings (Nghị định 13/2023/NĐ-CP): the name and phone number of
a booking whose appointment is older than the office's retention period are blanked. Called by
the daily retention job (motcua/configure/retention.py) inside its write transaction."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, or_, update

from ..store import tables as t

_bk = t.bookings.c


def erase_older_than(conn: Connection, cutoff: datetime) -> int:
    """Blank the names and phone numbers of bookings whose slot started before `cutoff` (an
    aware instant); the booking itself stays (the reports count it). Returns the rows changed."""
    return conn.execute(update(t.bookings).where(_bk.slot_start < cutoff, or_(_bk.name != "", _bk.phone != ""))
                        .values(name="", phone="")).rowcount or 0
