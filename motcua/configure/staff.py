"""Staff accounts as the administrator sees them: the office file's `[[staff]]` (name, role,
counters, password hash) joined with the database row (active, has a password)."""
from __future__ import annotations

from typing import Any

from sqlalchemy import select, update

from ..store import tables as t


def accounts(auth: Any, cfg: Any) -> list[dict[str, Any]]:
    rows = {u["username"]: u for u in auth.list_users()}
    out = []
    for s in cfg.staff:
        u = rows.pop(s.username, None) or {}
        out.append({"username": s.username, "full_name": s.full_name, "role": s.role, "counters": list(s.counters),
                    "active": bool(u.get("active", True)), "has_password": bool(u.get("has_password"))})
    for u in rows.values():  # accounts made with `motcua user add` only
        out.append({"username": u["username"], "full_name": u["full_name"], "role": u["role"],
                    "counters": list(u["counters"] or []), "active": bool(u["active"]),
                    "has_password": bool(u["has_password"])})
    return sorted(out, key=lambda a: a["username"])


def password_hash(store: Any, username: str) -> str:
    with store.read() as conn:
        return conn.execute(select(t.users.c.password_hash).where(t.users.c.username == username)).scalar() or ""


def set_active(auth: Any, username: str, active: bool) -> bool:
    """Enable or disable an account; disabling ends its sessions and tokens at once."""
    u = t.users.c
    with auth.store.write() as conn:
        uid = conn.execute(select(u.id).where(u.username == username)).scalar()
        if uid is None:
            return False
        conn.execute(update(t.users).where(u.id == uid).values(active=active, token_version=u.token_version + 1))
    auth._revoked(user_id=uid)
    return True
