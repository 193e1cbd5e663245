"""Sample data for the demo office: staff passwords, and (when the lookup module is present)
procedures and dossiers."""
from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import select

from .store import tables as t

log = logging.getLogger(__name__)


def seed_demo(services: Any, *, password: str) -> None:
    """Give every demo account without a password the demo password (first run only)."""
    auth = services.auth
    with services.store.read() as conn:
        rows = conn.execute(select(t.users.c.username, t.users.c.password_hash, t.users.c.role,
                                   t.users.c.counters, t.users.c.full_name)).all()
    for r in rows:
        if not r.password_hash:
            auth.add_user(r.username, password, role=r.role, counters=list(r.counters or []), full_name=r.full_name)
    try:
        from .dossiers_store import seed_demo_dossiers
    except ImportError:
        return
    seed_demo_dossiers(services)
