"""A changed office for a running queue engine, without a restart (configure/live.py).

The engine's parts each take the new office through their own `reconfigure`: the business
calendar (shared with the dossier store) gets the new time zone and hours, the ticket JSON
the new field names (removed fields keep theirs on old tickets), the wait estimator and the
commands' look-ups forget what they built from the old office, the read models and the call
announcer take the new settings. The database is written by `engine.sync_config()` after.
"""
from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from config.schema import OfficeConfig


def reconfigure(engine: Any, new: OfficeConfig) -> None:
    """Give `engine` (a QueueEngine) and its parts the office `new`."""
    cal = engine.calendar
    cal.tz, cal.hours, cal.always_open = ZoneInfo(new.office.timezone), new.hours, new.office.always_open
    engine.config = new
    for part in (engine.views, engine.rows, engine.waits, engine.ticket_json):
        part.reconfigure(new)
    announce = engine.announce  # the call announcer, when the app gave one
    if announce is not None and hasattr(announce, "reconfigure"):
        announce.reconfigure(new)
