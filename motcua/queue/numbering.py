"""Ticket numbers as people read them: a block (1001, 1002...) or a letter prefix (A001), and
the blocks of numbers kept for a device agent's offline issuing (docs/agents.md)."""
from __future__ import annotations

from datetime import date

from sqlalchemy import Connection, text

from config.schema import NumberingConfig

# Takes `size` numbers at once from the field's counter of the day: the server's own issuing
# goes on after them, so a number kept for an agent is never issued by anyone else.
_RESERVE = text(
    "INSERT INTO number_counters (field, business_date, last) VALUES (:f, :d, :size) "
    "ON CONFLICT (field, business_date) DO UPDATE SET last = number_counters.last + :size RETURNING last")


def format_number(cfg: NumberingConfig, n: int) -> str:
    """The n-th ticket of the day (n >= 1) in the field's numbering."""
    if n < 1:
        raise ValueError("ticket sequence starts at 1")
    if cfg.mode == "prefix":
        return f"{cfg.prefix}{n:0{cfg.width}d}"
    return str(cfg.start + n - 1)


def reserve_block(conn: Connection, field: str, day: date, size: int, cap: int | None = None) -> tuple[int, int] | None:
    """Reserve the next `size` n of a field's day inside the caller's transaction: (first, last),
    clipped to the field's daily cap; None when the day's numbers are used up."""
    last = int(conn.execute(_RESERVE, {"f": field, "d": day, "size": size}).scalar_one())
    first = last - size + 1
    if cap is not None:
        last = min(last, cap)
    return (first, last) if first <= last else None
