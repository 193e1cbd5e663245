"""Writes the office file's fields, counters and staff into the database (at start-up)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update

from config.schema import OfficeConfig

from ..store import Store
from ..store import tables as t


def sync_config(store: Store, config: OfficeConfig, now: datetime) -> None:
    """Configured fields and counters become active (a counter keeps its pause state); those
    no longer configured become inactive. Staff
    accounts are created or updated (a password hash only when the file gives one)."""
    with store.write() as conn:
        existing_f = {r.code for r in conn.execute(select(t.fields.c.code))}
        for pos, f in enumerate(config.fields):
            values = dict(name=f.name, name_en=f.name_en, position=pos, active=True)
            if f.code in existing_f:
                conn.execute(update(t.fields).where(t.fields.c.code == f.code).values(**values))
            else:
                conn.execute(t.fields.insert().values(code=f.code, **values))
        configured = {f.code for f in config.fields}
        for code in existing_f - configured:
            conn.execute(update(t.fields).where(t.fields.c.code == code).values(active=False))
        existing_c = {r.number for r in conn.execute(select(t.counters.c.number))}
        for c in config.counters:
            values = dict(name=c.label, fields=list(c.fields), active=True)
            if c.number in existing_c:
                conn.execute(update(t.counters).where(t.counters.c.number == c.number).values(**values))
            else:
                conn.execute(t.counters.insert().values(number=c.number, paused=False, pause_reason="", **values))
        for n in existing_c - {c.number for c in config.counters}:
            conn.execute(update(t.counters).where(t.counters.c.number == n).values(active=False))
        existing_u = {r.username for r in conn.execute(select(t.users.c.username))}
        for s in config.staff:
            values = dict(full_name=s.full_name, role=s.role, counters=list(s.counters))
            if s.password_hash:
                values["password_hash"] = s.password_hash
            if s.username in existing_u:
                conn.execute(update(t.users).where(t.users.c.username == s.username).values(**values))
            else:
                values.setdefault("password_hash", "")
                conn.execute(t.users.insert().values(username=s.username, active=True, token_version=1,
                                                     created_at=now, **values))
