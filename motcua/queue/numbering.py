"""Ticket numbers as people read them: a block (1001, 1002...) or a letter prefix (A001)."""
from __future__ import annotations

from config.schema import NumberingConfig


def format_number(cfg: NumberingConfig, n: int) -> str:
    """The n-th ticket of the day (n >= 1) in the field's numbering."""
    if n < 1:
        raise ValueError("ticket sequence starts at 1")
    if cfg.mode == "prefix":
        return f"{cfg.prefix}{n:0{cfg.width}d}"
    return str(cfg.start + n - 1)
