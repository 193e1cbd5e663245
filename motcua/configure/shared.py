"""The running office shared by every server process of one database.

Every change made from the administrator's screens (`LiveConfig.apply`) also stores the office
file in the `office_config` row (id 1, without `[auth] secret_key`, device folders as `{data}`)
and moves its `version` on, in one write transaction. Each process reads that one integer every
second (`LiveConfig.start_watch`); when it has moved past the version the process runs, the
process takes the stored office, hands it to its holders like its own change, keeps it in its
`DATA/office.toml`, and tells its own screens (`config:changed`). No Redis needed: the database
is the one place every process already shares."""
from __future__ import annotations

import tomllib
from datetime import datetime
from typing import Any

from sqlalchemy import select, update

from ..store import tables as t

ROW_ID = 1
_c = t.office_config.c


def read_version(store: Any) -> int:
    """The version of the stored office (0: none stored yet)."""
    with store.read() as conn:
        v = conn.execute(select(_c.version).where(_c.id == ROW_ID)).scalar()
    return int(v or 0)


def read(store: Any) -> tuple[int, str]:
    """(version, office file text); (0, "") when none is stored."""
    with store.read() as conn:
        row = conn.execute(select(_c.version, _c.toml).where(_c.id == ROW_ID)).first()
    return (int(row.version), row.toml) if row is not None else (0, "")


def publish(store: Any, text: str, now: datetime) -> int:
    """Store `text` as the newest office; returns its version."""
    with store.write() as conn:
        v = conn.execute(update(t.office_config).where(_c.id == ROW_ID)
                         .values(version=_c.version + 1, toml=text, updated_at=now).returning(_c.version)).scalar()
        if v is None:
            conn.execute(t.office_config.insert().values(id=ROW_ID, version=1, toml=text, updated_at=now))
            v = 1
    return int(v)


def parse(text: str) -> dict[str, Any]:
    return tomllib.loads(text)
