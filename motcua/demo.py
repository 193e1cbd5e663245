"""Sample data for the demo office: staff passwords and dossiers."""
from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import select, update

from .auth import hash_password
from .dossiers.demo import seed_demo_dossiers
from .store import tables as t

log = logging.getLogger(__name__)


def seed_demo(services: Any, *, password: str) -> None:
    """Give every demo account without a password the demo password, and put the sample
    dossiers in an empty dossier table (first run only)."""
    with services.store.read() as conn:
        rows = conn.execute(select(t.users.c.username, t.users.c.password_hash, t.users.c.role,
                                   t.users.c.counters, t.users.c.full_name)).all()
    missing = [r.username for r in rows if not r.password_hash]
    if missing:
        # One argon2 hash for all of them (each costs ~0.15 s of the first start): the demo
        # accounts share the one public demo password anyway.
        pw_hash = hash_password(password)
        with services.store.write() as conn:
            conn.execute(update(t.users).where(t.users.c.username.in_(missing), t.users.c.password_hash == "")
                         .values(password_hash=pw_hash))
    seed_demo_dossiers(services.dossiers)
