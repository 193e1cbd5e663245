"""What a message says (SMS body) and the parameters of its Zalo ZNS template.

Short, plain Vietnamese, with every diacritic: a citizen reads it on a basic phone. An SMS in
UCS-2 carries 70 characters; a longer one is sent in parts and joined by the phone.
"""
from __future__ import annotations

from typing import Any

NEAR, CALLED, READY = "near", "called", "ready"
KINDS = (NEAR, CALLED, READY)
KIND_LABELS_VI = {NEAR: "Sắp đến lượt", CALLED: "Đã được gọi", READY: "Hồ sơ có kết quả"}


def _counters(counters: list[int]) -> str:
    names = [str(c) for c in counters]
    if len(names) < 2:
        return "".join(names)
    return ", ".join(names[:-1]) + " hoặc " + names[-1]


def near_text(office: str, number: str, ahead: int, counters: list[int]) -> str:
    where = f" Xin mời đến gần quầy số {_counters(counters)}." if counters else ""
    if ahead <= 0:
        return f"{office}: Số {number} là người tiếp theo.{where}"
    return f"{office}: Số {number} sắp đến lượt, trước ông/bà còn {ahead} người.{where}"


def called_text(office: str, number: str, counter: int) -> str:
    return f"{office}: Mời công dân có số {number} đến quầy số {counter}."


def ready_text(office: str, code: str) -> str:
    return (f"{office}: Hồ sơ {code} đã có kết quả. "
            f"Mời ông/bà mang giấy hẹn đến bộ phận Một cửa để nhận.")


def template_data(kind: str, office: str, **values: Any) -> dict[str, Any]:
    """The ZNS template's parameters (the office's templates on Zalo use these names)."""
    out: dict[str, Any] = {"co_quan": office}
    if "number" in values:
        out["so_thu_tu"] = str(values["number"])
    if kind == NEAR:
        out["so_nguoi_truoc"] = str(values.get("ahead", 0))
    if kind == CALLED:
        out["quay"] = str(values.get("counter", ""))
    if kind == READY:
        out["ma_ho_so"] = str(values.get("code", ""))
    return out
