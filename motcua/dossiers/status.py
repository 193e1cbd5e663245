"""National dossier status codes 1..10 (Cổng Dịch vụ công quốc gia) and what each
means for the citizen.

"Late" is not a status: it is derived from dates (see `timeliness`).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from types import MappingProxyType
from typing import Mapping

from .text import fold

__all__ = [
    "DossierStatus",
    "FINISHED_STATUSES",
    "NOT_RECEIVED_STATUSES",
    "READY_STATUSES",
    "STATUSES",
    "StatusInfo",
    "is_finished",
    "is_ready",
    "next_step",
    "parse_status",
    "status_info",
    "status_label",
]


class DossierStatus(IntEnum):
    NEW = 1  # Mới đăng ký (submitted online, not yet accepted)
    ACCEPTED = 2  # Được tiếp nhận
    NOT_ACCEPTED = 3  # Không được tiếp nhận
    PROCESSING = 4  # Đang xử lý
    SUPPLEMENT_REQUESTED = 5  # Yêu cầu bổ sung giấy tờ
    PAYMENT_REQUESTED = 6  # Yêu cầu thực hiện nghĩa vụ tài chính
    WITHDRAWN = 7  # Công dân yêu cầu rút hồ sơ
    STOPPED = 8  # Dừng xử lý
    DONE = 9  # Đã xử lý xong (result ready, awaiting pickup)
    RETURNED = 10  # Đã trả kết quả


@dataclass(frozen=True)
class StatusInfo:
    code: int
    key: str  # stable English identifier, e.g. "processing"
    label_vi: str
    label_en: str
    next_step_vi: str  # plain Vietnamese: what the citizen should do now
    finished: bool  # processing has ended (the on-time rule's end point)
    ready: bool  # a result waits at the Trả kết quả counter


def _info(
    status: DossierStatus, label_vi: str, label_en: str, next_step_vi: str,
    *, finished: bool = False, ready: bool = False,
) -> StatusInfo:
    return StatusInfo(
        code=int(status), key=status.name.lower(), label_vi=label_vi, label_en=label_en,
        next_step_vi=next_step_vi, finished=finished, ready=ready,
    )


_TABLE = (
    _info(
        DossierStatus.NEW, "Mới đăng ký", "Newly registered",
        "Hồ sơ đã được đăng ký và đang chờ cán bộ kiểm tra để tiếp nhận. "
        "Ông/bà chưa cần làm gì thêm; nếu cần bổ sung, cơ quan sẽ báo cho ông/bà.",
    ),
    _info(
        DossierStatus.ACCEPTED, "Được tiếp nhận", "Accepted",
        "Hồ sơ đã được tiếp nhận và sẽ được chuyển xử lý. "
        "Ông/bà chờ đến ngày hẹn trả kết quả ghi trên Giấy tiếp nhận hồ sơ và hẹn trả kết quả.",
    ),
    _info(
        DossierStatus.NOT_ACCEPTED, "Không được tiếp nhận", "Not accepted",
        "Hồ sơ không được tiếp nhận. Mời ông/bà đến quầy tiếp nhận hoặc xem thông báo "
        "của cơ quan để biết lý do và cách chuẩn bị lại hồ sơ.",
        finished=True,
    ),
    _info(
        DossierStatus.PROCESSING, "Đang xử lý", "Being processed",
        "Hồ sơ đang được giải quyết. Ông/bà chưa cần làm gì thêm; "
        "mời ông/bà quay lại vào ngày hẹn trả kết quả.",
    ),
    _info(
        DossierStatus.SUPPLEMENT_REQUESTED, "Yêu cầu bổ sung giấy tờ", "Documents requested",
        "Hồ sơ cần bổ sung giấy tờ. Mời ông/bà mang các giấy tờ còn thiếu theo thông báo "
        "của cơ quan và Giấy tiếp nhận hồ sơ đến quầy tiếp nhận để bổ sung.",
    ),
    _info(
        DossierStatus.PAYMENT_REQUESTED, "Yêu cầu thực hiện nghĩa vụ tài chính",
        "Payment of fees or taxes requested",
        "Ông/bà cần nộp phí, lệ phí hoặc thuế theo thông báo của cơ quan. "
        "Sau khi nộp, mời ông/bà giữ biên lai và mang đến quầy nếu được yêu cầu.",
    ),
    _info(
        DossierStatus.WITHDRAWN, "Công dân yêu cầu rút hồ sơ", "Withdrawn at the citizen's request",
        "Hồ sơ đã được rút theo yêu cầu của ông/bà. "
        "Nếu cần, mời ông/bà đến quầy tiếp nhận để nhận lại giấy tờ đã nộp.",
        finished=True,
    ),
    _info(
        DossierStatus.STOPPED, "Dừng xử lý", "Processing stopped",
        "Hồ sơ đã dừng xử lý. Mời ông/bà xem thông báo của cơ quan hoặc hỏi tại quầy "
        "tiếp nhận để biết lý do.",
        finished=True,
    ),
    _info(
        DossierStatus.DONE, "Đã xử lý xong", "Result ready for pickup",
        "Hồ sơ đã có kết quả. Mời ông/bà mang Giấy tiếp nhận hồ sơ và hẹn trả kết quả "
        "đến quầy Trả kết quả để nhận.",
        finished=True, ready=True,
    ),
    _info(
        DossierStatus.RETURNED, "Đã trả kết quả", "Result returned",
        "Kết quả đã được trả cho ông/bà. Hồ sơ đã hoàn tất, ông/bà không cần làm gì thêm.",
        finished=True,
    ),
)

#: Every status by code, read-only.
STATUSES: Mapping[int, StatusInfo] = MappingProxyType({info.code: info for info in _TABLE})
#: Statuses that end processing (QĐ 766: Đã xử lý xong, Đã trả kết quả, Dừng xử lý,
#: refusal; a withdrawal also ends it).
FINISHED_STATUSES: frozenset[int] = frozenset(i.code for i in _TABLE if i.finished)
#: Statuses whose result waits at the Trả kết quả counter.
READY_STATUSES: frozenset[int] = frozenset(i.code for i in _TABLE if i.ready)
#: Statuses of dossiers the office never took in (left out of the quarterly table).
NOT_RECEIVED_STATUSES: frozenset[int] = frozenset(
    {int(DossierStatus.NEW), int(DossierStatus.NOT_ACCEPTED)}
)


def parse_status(value: object) -> int:
    """A status code from 4, "4", 4.0, " 4 " or a label ("Đang xử lý", "dang xu ly",
    "processing"), else ValueError (Vietnamese message)."""
    if isinstance(value, str) and not value.strip().replace(".", "").isdigit():
        wanted = fold(value)
        for info in _TABLE:
            if wanted in (fold(info.label_vi), info.key, fold(info.label_en)):
                return info.code
        raise ValueError("Trạng thái phải là số nguyên từ 1 đến 10.")
    if isinstance(value, bool):
        raise ValueError("Trạng thái phải là số nguyên từ 1 đến 10.")
    if isinstance(value, float):
        if not value.is_integer():
            raise ValueError("Trạng thái phải là số nguyên từ 1 đến 10.")
        value = int(value)
    if isinstance(value, str):
        text = value.strip()
        if text.endswith(".0"):
            text = text[:-2]
        if not (text.isascii() and text.isdigit()) or len(text) > 3:
            raise ValueError("Trạng thái phải là số nguyên từ 1 đến 10.")
        value = int(text)
    if not isinstance(value, int) or value not in STATUSES:
        raise ValueError("Trạng thái phải là số nguyên từ 1 đến 10.")
    return int(value)


def status_info(code: int) -> StatusInfo:
    """The row for *code* (1..10); ValueError for anything else."""
    try:
        return STATUSES[parse_status(code)]
    except (KeyError, TypeError):  # pragma: no cover - parse_status guards
        raise ValueError("Trạng thái phải là số nguyên từ 1 đến 10.") from None


def status_label(code: int, lang: str = "vi") -> str:
    """Label in Vietnamese ("vi", default) or English ("en")."""
    info = status_info(code)
    return info.label_en if lang.lower().startswith("en") else info.label_vi


def next_step(code: int) -> str:
    """What the citizen should do now, in plain Vietnamese."""
    return status_info(code).next_step_vi


def is_finished(code: int) -> bool:
    return status_info(code).finished


def is_ready(code: int) -> bool:
    return status_info(code).ready
