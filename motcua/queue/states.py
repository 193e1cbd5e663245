"""Ticket states and the transitions allowed between them."""
from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    WAITING = "waiting"
    CALLED = "called"
    SERVING = "serving"
    ON_HOLD = "on_hold"
    DONE = "done"
    NO_SHOW = "no_show"
    CANCELLED = "cancelled"
    EXPIRED = "expired"


# At a counter: the ticket the counter is dealing with right now.
AT_COUNTER = (Status.CALLED, Status.SERVING)
# Left at the end of the business day: these expire.
OPEN_STATES = (Status.WAITING, Status.CALLED, Status.SERVING, Status.ON_HOLD, Status.NO_SHOW)

TRANSITIONS: dict[str, set[str]] = {
    Status.WAITING: {Status.CALLED, Status.CANCELLED, Status.EXPIRED},
    Status.CALLED: {Status.SERVING, Status.NO_SHOW, Status.CANCELLED, Status.WAITING, Status.DONE, Status.EXPIRED},
    Status.SERVING: {Status.DONE, Status.ON_HOLD, Status.WAITING, Status.EXPIRED},
    Status.ON_HOLD: {Status.SERVING, Status.EXPIRED},
    Status.NO_SHOW: {Status.WAITING, Status.EXPIRED},
    Status.DONE: set(),
    Status.CANCELLED: set(),
    Status.EXPIRED: set(),
}

LABELS_VI = {
    Status.WAITING: "Đang chờ",
    Status.CALLED: "Đã đến lượt",
    Status.SERVING: "Đang được phục vụ",
    Status.ON_HOLD: "Tạm dừng (chờ bổ sung)",
    Status.DONE: "Đã xong",
    Status.NO_SHOW: "Vắng mặt khi gọi",
    Status.CANCELLED: "Đã hủy",
    Status.EXPIRED: "Hết hiệu lực (hết ngày làm việc)",
}

PRIORITY_LABELS_VI = {
    "elderly": "Người cao tuổi",
    "disabled": "Người khuyết tật",
    "pregnant": "Phụ nữ mang thai",
    "child": "Người có con nhỏ",
    "merit": "Người có công với cách mạng",
}


def can_move(src: str, dst: str) -> bool:
    return dst in TRANSITIONS.get(src, set())


class IllegalMove(RuntimeError):
    """A status change outside TRANSITIONS: a bug of the engine, never a refusal for a person
    (a refusal is a QueueError, checked before the move)."""


def check_move(src: str, dst: str) -> None:
    """Raise IllegalMove unless the transition table allows src -> dst."""
    if not can_move(src, dst):
        raise IllegalMove(f"ticket status change {src!s} -> {dst!s} is not in the transition table")
