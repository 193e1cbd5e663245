"""The report as CSV (UTF-8 with a byte order mark, so spreadsheet programs read the accents).

One file, several tables one after the other, each under a title line and separated by an
empty line: the office and the period first, then "Tổng hợp theo lĩnh vực" (with the "Tổng
cộng" line), "Đánh giá", "Lý do không hài lòng", "Hồ sơ", "Theo quầy", "Theo cán bộ", "Theo
ngày", "Theo giờ", "Số phiếu theo thứ và giờ". Times are minutes with one decimal (a dot),
shares are percents; an empty cell means "no value" (no visit to measure).
"""
from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from .period import Period
from .summary import RATING_LABELS_VI, RATING_LEVELS

__all__ = ["CSV_MIMETYPE", "summary_csv", "TIME_COLUMNS"]

CSV_MIMETYPE = "text/csv; charset=utf-8"

#: (title, key, statistic) of the time columns, in minutes.
TIME_COLUMNS = (("Chờ TB (phút)", "wait_s", "mean"), ("Chờ trung vị (phút)", "wait_s", "median"),
                ("Chờ P90 (phút)", "wait_s", "p90"), ("Chờ lâu nhất (phút)", "wait_s", "max"),
                ("Phục vụ TB (phút)", "service_s", "mean"), ("Phục vụ trung vị (phút)", "service_s", "median"),
                ("Phục vụ P90 (phút)", "service_s", "p90"), ("Phục vụ lâu nhất (phút)", "service_s", "max"))
COUNT_COLUMNS = (("Số phiếu", "issued"), ("Đã phục vụ", "served"), ("Vắng mặt", "no_show"),
                 ("Chuyển", "transferred"), ("Đã hủy", "cancelled"), ("Gọi lại", "recalled"))


def _min(seconds: float | None) -> str:
    """Minutes with one decimal, rounded half up (as a spreadsheet shows the XLSX cell)."""
    if seconds is None:
        return ""
    return str(Decimal(repr(round(seconds / 60.0, 9))).quantize(Decimal("0.1"), ROUND_HALF_UP))


def _pct(value: float | None) -> str:
    return "" if value is None else f"{value:.1f}"


def figures(row: Mapping[str, Any]) -> list[Any]:
    return [row.get(key, 0) for _t, key in COUNT_COLUMNS] + [_min(row[k][s]) for _t, k, s in TIME_COLUMNS]


def summary_csv(report: Mapping[str, Any], *, office_name: str) -> bytes:
    period = Period(date.fromisoformat(report["from"]), date.fromisoformat(report["to"]))
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow([office_name])
    w.writerow(["Báo cáo tình hình tiếp đón công dân", period.label_vi()])
    scope = report.get("scope") or {}
    if scope.get("counters") is not None:
        w.writerow(["Phạm vi", "Quầy " + ", ".join(str(n) for n in scope["counters"])])
    w.writerow([])

    head = [t for t, _k in COUNT_COLUMNS] + [t for t, _k, _s in TIME_COLUMNS]
    w.writerow(["Tổng hợp theo lĩnh vực"])
    w.writerow(["STT", "Lĩnh vực", *head])
    for i, svc in enumerate(report["services"], start=1):
        w.writerow([i, svc["name"], *figures(svc)])
    w.writerow(["", "Tổng cộng", *figures(report["totals"])])
    w.writerow([])

    r = report["ratings"]
    w.writerow(["Đánh giá mức độ hài lòng"])
    w.writerow(["Mức độ", "Số lượt", "Tỷ lệ (%)"])
    for level in RATING_LEVELS:
        w.writerow([RATING_LABELS_VI[level], r[level], _pct(r["percent"][level])])
    w.writerow(["Tổng cộng", r["total"], "100.0" if r["total"] else ""])
    w.writerow(["Tỷ lệ hài lòng (%)", _pct(r["satisfied_percent"])])
    w.writerow([])
    w.writerow(["Lý do không hài lòng"])
    w.writerow(["Lý do", "Số lượt", "Tỷ lệ trên số lượt không hài lòng (%)"])
    for reason in r.get("reasons", []):
        w.writerow([reason["label"], reason["count"], _pct(reason["percent"])])
    w.writerow([])

    d = report["dossiers"]
    w.writerow(["Hồ sơ thủ tục hành chính"])
    d_head = ["Lĩnh vực", "Tiếp nhận", "Kỳ trước chuyển sang", "Mới tiếp nhận", "Đã giải quyết", "Trước hạn",
              "Đúng hạn", "Quá hạn", "Đang giải quyết", "Trong hạn", "Quá hạn (đang giải quyết)"]
    w.writerow(d_head)

    def d_row(c: Mapping[str, Any]) -> list[Any]:
        return [c["received"], c.get("carried_over", ""), c.get("received_new", ""), c.get("finished", ""),
                c["finished_early"], c["finished_on_time"], c["finished_late"], c.get("in_progress", ""),
                c["in_progress_in_time"], c["in_progress_overdue"]]

    for row in report.get("dossiers_by_field", []):
        w.writerow([row["field"] or "(Không rõ lĩnh vực)", *d_row(row)])
    w.writerow(["Tổng cộng", *d_row(d)])
    w.writerow([])

    person = ["Lượt gọi", "Đã phục vụ", "Vắng mặt", "Chuyển đi", "Phục vụ TB (phút)", "Lượt đánh giá",
              "Tỷ lệ hài lòng (%)"]

    def p_row(c: Mapping[str, Any]) -> list[Any]:
        return [c["called"], c["served"], c["no_show"], c["transferred"], _min(c["service_s"]["mean"]),
                c["ratings"]["total"], _pct(c["ratings"]["satisfied_percent"])]

    w.writerow(["Theo quầy"])
    w.writerow(["Quầy", *person])
    for c in report.get("counters", []):
        w.writerow([c["name"], *p_row(c)])
    w.writerow([])
    w.writerow(["Theo cán bộ"])
    w.writerow(["Cán bộ", "Tài khoản", *person])
    for p in report.get("staff", []):
        w.writerow([p["full_name"] or p["username"], p["username"], *p_row(p)])
    w.writerow([])

    w.writerow(["Theo ngày"])
    w.writerow(["Ngày", "Số phiếu", "Đã phục vụ", "Vắng mặt", "Chuyển", "Đã hủy", "Chờ TB (phút)",
                "Phục vụ TB (phút)", "Lượt đánh giá"])
    for day in report.get("days", []):
        w.writerow([f"{date.fromisoformat(day['date']):%d/%m/%Y}", day["issued"], day["served"], day["no_show"],
                    day["transferred"], day["cancelled"], _min(day["wait_s"]["mean"]),
                    _min(day["service_s"]["mean"]), day["ratings"]["total"]])
    w.writerow([])

    w.writerow(["Theo giờ"])
    w.writerow(["Khung giờ", "Số phiếu", "Lượt gọi", "Đã phục vụ", "Chờ TB (phút)"])
    for h in report.get("hours", []):
        w.writerow([h["label"], h["issued"], h["called"], h["served"], _min(h["wait_s"]["mean"])])
    w.writerow([])

    heat = report.get("heatmap") or {}
    if heat.get("hours"):
        w.writerow(["Số phiếu theo thứ và giờ"])
        w.writerow(["Thứ", *[f"{h:02d}:00" for h in heat["hours"]], "Cộng"])
        for row in heat["rows"]:
            w.writerow([row["label"], *row["counts"], row["total"]])
    return ("\ufeff" + buf.getvalue()).encode("utf-8")
