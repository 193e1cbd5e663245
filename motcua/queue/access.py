"""The counter rule for commands that name a ticket rather than a counter (cancel, reactivate)
and for a call out of order (docs/api.md#the-counter-rule).

Staff may act on a ticket only where it is:

* waiting, aimed at one counter by a transfer: that counter;
* waiting: any counter that serves its field;
* called, being served or on hold: the counter it is at;
* a no-show (or finished): the counter that called it, or any counter that serves its field
  (reactivating puts it back in that field's queue, and the citizen may come back to any of
  those counters).

Administrators act anywhere (the engine is given ``counters=None``). These checks run inside
the command's transaction, on the row it has locked, so the ticket cannot move between the
check and the change."""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from config.schema import OfficeConfig

from .errors import QueueError
from .states import Status

_AT_A_COUNTER = (Status.CALLED, Status.SERVING, Status.ON_HOLD)


def _serve_field(config: OfficeConfig, counters: set[int], field: str) -> bool:
    return any((c := config.counter(n)) is not None and field in c.fields for n in counters)


def require_ticket_access(row: Any, config: OfficeConfig, counters: Iterable[int] | None) -> None:
    """Refuse (403 `not_your_counter`) when staff of `counters` may not act on the ticket
    `row`; `counters=None` (an administrator) may act on every ticket."""
    if counters is None:
        return
    mine = set(counters)
    field = config.field(row.field)
    field_name = field.name if field is not None else row.field
    if row.status == Status.WAITING and row.target_counter is not None:
        ok, where = row.target_counter in mine, f"đang chờ quầy {row.target_counter}"
    elif row.status == Status.WAITING:
        ok, where = _serve_field(config, mine, row.field), f"đang chờ ở lĩnh vực {field_name}"
    elif row.status in _AT_A_COUNTER:
        ok, where = row.counter in mine, f"đang ở quầy {row.counter}"
    else:
        ok = row.counter in mine or _serve_field(config, mine, row.field)
        where = (f"thuộc quầy {row.counter} (lĩnh vực {field_name})" if row.counter is not None
                 else f"thuộc lĩnh vực {field_name}")
    if not ok:
        raise QueueError("not_your_counter", f"Số {row.number} {where}, không thuộc quầy của bạn; "
                         "bạn không thể thao tác trên số này.", 403,
                         counter=row.target_counter if row.status == Status.WAITING else row.counter)


def require_callable_at(row: Any, counter: int) -> None:
    """A waiting ticket aimed at another counter by a transfer is called only there (409
    `reserved_for_counter`, naming that counter), as `call_next` already does."""
    target = row.target_counter
    if target is not None and target != counter:
        raise QueueError("reserved_for_counter", f"Số {row.number} đã được chuyển đến quầy {target}; chỉ quầy "
                         f"{target} gọi được số này.", 409, counter=target)
