"""On time or late: the rule of QĐ 766/QĐ-TTg, and the quarterly dossier table.

THE RULE (one place; change it here and in docs/dossiers.md together)
----------------------------------------------------------------------
Source: Quyết định 766/QĐ-TTg ngày 23/6/2022 of the Prime Minister (Bộ chỉ số chỉ đạo,
điều hành và đánh giá chất lượng phục vụ người dân, doanh nghiệp), as summarised in
/work/shared/domain.md, gathered 2026; recorded here on 2026-05 (see `RULE_CHECKED`).

* Processing ends at the first of: Đã xử lý xong (9), Đã trả kết quả (10), Dừng xử lý
  (8) or refusal; the caller passes that moment as ``finished_at``.
* Dates are compared by calendar day in the office's local time (the promised date on
  the receipt is a day; a result handed over at 16:45 on that day is on time).
    - finished on a day before the due day        -> trước hạn  (finished_early)
    - finished on the due day                     -> đúng hạn   (finished_on_time)
    - finished on a day after the due day         -> quá hạn    (finished_late)
    - not finished by the report day, due day not yet passed -> trong hạn (in_progress_in_time)
    - not finished by the report day, due day passed         -> quá hạn   (in_progress_overdue)
* The due day is the one first promised (ngày hẹn trả). A new date given in an apology
  letter does not make a late dossier on time, so ``ngay_hen_moi`` is not used here.
* Not applied here (check the decree before adding): time waiting for the citizen's
  supplement is not counted, and asking for a supplement more than once counts as late.
  Callers who track supplement pauses pass a ``due_at`` already moved by the pause.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum

from .status import FINISHED_STATUSES, NOT_RECEIVED_STATUSES

__all__ = [
    "DossierRecord",
    "REPORT_KEYS",
    "RULE_CHECKED",
    "RULE_SOURCE",
    "Timeliness",
    "classify",
    "summarise",
]

RULE_SOURCE = "Quyết định 766/QĐ-TTg ngày 23/6/2022 (Thủ tướng Chính phủ)"
#: When the rule's summary in this module was last compared with its source.
RULE_CHECKED = date(2026, 5, 1)


class Timeliness(str, Enum):
    """Where a dossier stands at a report day. Values are the report's keys."""

    EARLY = "finished_early"
    ON_TIME = "finished_on_time"
    LATE = "finished_late"
    IN_TIME = "in_progress_in_time"
    OVERDUE = "in_progress_overdue"

    @property
    def finished(self) -> bool:
        return self in (Timeliness.EARLY, Timeliness.ON_TIME, Timeliness.LATE)

    @property
    def label_vi(self) -> str:
        return _LABELS_VI[self]


_LABELS_VI = {
    Timeliness.EARLY: "Đã giải quyết trước hạn",
    Timeliness.ON_TIME: "Đã giải quyết đúng hạn",
    Timeliness.LATE: "Đã giải quyết quá hạn",
    Timeliness.IN_TIME: "Đang giải quyết trong hạn",
    Timeliness.OVERDUE: "Đang giải quyết quá hạn",
}

#: Keys of the contract's "dossiers" report block, in table order.
REPORT_KEYS: tuple[str, ...] = ("received",) + tuple(t.value for t in Timeliness)

DateLike = date | datetime


def _day(value: DateLike) -> date:
    """The calendar day of a date or datetime (an aware datetime keeps its own offset:
    convert to the office's zone before calling)."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    raise TypeError(f"expected a date or datetime, got {type(value).__name__}")


def classify(due_at: DateLike, finished_at: DateLike | None, as_of: DateLike) -> Timeliness:
    """Classify one dossier at the report day *as_of* (see the rule above).

    A dossier finished after *as_of* was still in progress on *as_of*.
    """
    due, today = _day(due_at), _day(as_of)
    if finished_at is not None and _day(finished_at) <= today:
        done = _day(finished_at)
        if done < due:
            return Timeliness.EARLY
        if done == due:
            return Timeliness.ON_TIME
        return Timeliness.LATE
    return Timeliness.IN_TIME if today <= due else Timeliness.OVERDUE


@dataclass(frozen=True)
class DossierRecord:
    """The least `summarise` needs to know about a dossier."""

    received_at: DateLike
    due_at: DateLike
    finished_at: DateLike | None = None
    status: int | None = None


def _get(record: object, name: str) -> object:
    if isinstance(record, Mapping):
        return record.get(name)
    return getattr(record, name, None)


def summarise(
    dossiers: Iterable[object],
    period_from: date,
    period_to: date,
    *,
    exclude_statuses: frozenset[int] = NOT_RECEIVED_STATUSES,
) -> dict[str, int]:
    """The quarterly dossier table for the days period_from..period_to (inclusive).

    *dossiers* are `DossierRecord`s, `importer.DossierRow`s, or any objects or mappings
    with ``received_at``, ``due_at``, ``finished_at`` (None if not finished) and,
    optionally, ``status``.

    Counted (``received``): dossiers received in the period (``received_new``) plus those
    received before it and still in progress at its start (``carried_over``: not
    finished before ``period_from``). Dossiers received after the period, and those
    whose status is in *exclude_statuses* (default: 1 Mới đăng ký and 3 Không được
    tiếp nhận, which the office never took in) are left out. Each counted dossier is
    classified at ``period_to``, so ``received == finished + in_progress``.

    A dossier whose status says it is finished but has no ``finished_at`` cannot be
    placed early/on time/late: it is counted in ``finished_date_unknown`` (part of
    ``finished``) when received in the period, and not carried over otherwise.
    """
    start, end = _day(period_from), _day(period_to)
    if start > end:
        raise ValueError("Ngày bắt đầu kỳ báo cáo phải trước hoặc bằng ngày kết thúc.")
    counts = {key: 0 for key in REPORT_KEYS}
    counts.update(received_new=0, carried_over=0, finished_date_unknown=0)
    for record in dossiers:
        received_at, due_at = _get(record, "received_at"), _get(record, "due_at")
        if received_at is None or due_at is None:
            continue
        status = _get(record, "status")
        if status is not None and int(status) in exclude_statuses:
            continue
        received = _day(received_at)
        if received > end:
            continue
        finished_at = _get(record, "finished_at")
        finished_unknown = finished_at is None and status is not None and int(status) in FINISHED_STATUSES
        if received < start:
            if finished_unknown or (finished_at is not None and _day(finished_at) < start):
                continue
            counts["carried_over"] += 1
        else:
            counts["received_new"] += 1
        counts["received"] += 1
        if finished_unknown:
            counts["finished_date_unknown"] += 1
            continue
        counts[classify(due_at, finished_at, end).value] += 1
    counts["finished"] = (
        counts["finished_early"] + counts["finished_on_time"] + counts["finished_late"]
        + counts["finished_date_unknown"]
    )
    counts["in_progress"] = counts["in_progress_in_time"] + counts["in_progress_overdue"]
    return counts
