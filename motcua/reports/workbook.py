"""The report as an XLSX workbook (openpyxl, imported when a workbook is made).

`summary_workbook` turns a `build_summary` body into the sheets the office lead prints:
"Tổng hợp", "Đánh giá", "Hồ sơ", "Theo ngày", "Theo quầy", "Theo cán bộ", "Theo giờ", "Theo thứ
và giờ" (A4
landscape, Times New Roman, times in minutes). docs/reports.md lists the columns.
"""
from __future__ import annotations

import io
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from .period import Period
from .summary import RATING_LABELS_VI, RATING_LEVELS

__all__ = ["XLSX_MIMETYPE", "summary_workbook"]

XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _minutes(seconds: float | None) -> float | None:
    """Seconds to minutes, unrounded: the cell's format shows one decimal (Excel rounds half up)."""
    return None if seconds is None else seconds / 60.0


@dataclass(frozen=True)
class _Column:
    title: str
    number_format: str | None = None


class _SheetWriter:
    """Writes one sheet: the title rows, then tables; sizes the columns at the end."""

    FONT = "Times New Roman"

    def __init__(self, wb: Any, title: str, office_name: str, heading: str, period: Period):
        from openpyxl.styles import Alignment, Font

        self.ws = wb.create_sheet(title)
        self.row = 1
        self.width_hint: dict[int, int] = defaultdict(int)
        self._titles: list[tuple[int, str, Font]] = []
        for text, font in ((office_name.upper(), Font(name=self.FONT, bold=True, size=12)),
                           (heading, Font(name=self.FONT, bold=True, size=14)),
                           (period.label_vi(), Font(name=self.FONT, italic=True, size=12))):
            cell = self.ws.cell(row=self.row, column=1, value=text)
            cell.font = font
            cell.alignment = Alignment(horizontal="center", vertical="center")
            self._titles.append((self.row, text, font))
            self.row += 1
        self.row += 1

    def table(self, columns: Sequence[_Column], rows: Iterable[Sequence[Any]], *,
              groups: Sequence[tuple[str, int]] | None = None, total_row: Sequence[Any] | None = None) -> int:
        """Write a table; *groups* is an optional first header row of (title, span).
        Returns the row number of the (last) header row."""
        from openpyxl.styles import Alignment, Border, Font, PatternFill, Side

        thin = Side(style="thin", color="000000")
        border = Border(left=thin, right=thin, top=thin, bottom=thin)
        head_font = Font(name=self.FONT, bold=True, size=12)
        body_font = Font(name=self.FONT, size=12)
        fill = PatternFill("solid", fgColor="DDE7F0")
        centre = Alignment(horizontal="center", vertical="center", wrap_text=True)
        if groups:
            col = 1
            for title, span in groups:
                cell = self.ws.cell(row=self.row, column=col, value=title)
                if span > 1:
                    self.ws.merge_cells(start_row=self.row, start_column=col, end_row=self.row,
                                        end_column=col + span - 1)
                for c in range(col, col + span):
                    g = self.ws.cell(row=self.row, column=c)
                    g.font, g.alignment, g.border, g.fill = head_font, centre, border, fill
                if span == 1:
                    # A column without a group: its own title spans both header rows.
                    self.ws.merge_cells(start_row=self.row, start_column=col, end_row=self.row + 1, end_column=col)
                    cell.value = columns[col - 1].title
                col += span
            self.row += 1
        header_row = self.row
        for i, column in enumerate(columns, start=1):
            cell = self.ws.cell(row=self.row, column=i)
            if not (groups and self._in_single_group(groups, i)):
                cell.value = column.title
            cell.font, cell.alignment, cell.border, cell.fill = head_font, centre, border, fill
            self._hint(i, column.title, header=True)
        self.ws.row_dimensions[self.row].height = 33
        self.row += 1
        for values in list(rows) + ([total_row] if total_row is not None else []):
            is_total = total_row is not None and values is total_row
            for i, (column, value) in enumerate(zip(columns, values), start=1):
                cell = self.ws.cell(row=self.row, column=i, value=value)
                cell.font = Font(name=self.FONT, size=12, bold=is_total) if is_total else body_font
                cell.border = border
                if column.number_format:
                    cell.number_format = column.number_format
                if isinstance(value, str):
                    cell.alignment = Alignment(vertical="center", wrap_text=len(value) > 45)
                self._hint(i, value)
            self.row += 1
        self.row += 1
        return header_row

    @staticmethod
    def _in_single_group(groups: Sequence[tuple[str, int]], column: int) -> bool:
        col = 1
        for _title, span in groups:
            if span == 1 and col == column:
                return True
            col += span
        return False

    def note(self, text: str) -> None:
        from openpyxl.styles import Font

        cell = self.ws.cell(row=self.row, column=1, value=text)
        cell.font = Font(name=self.FONT, italic=True, size=11)
        self.row += 1

    def _hint(self, column: int, value: Any, *, header: bool = False) -> None:
        if value is None:
            return
        if isinstance(value, float):
            text = f"{value:.1f}"
        elif isinstance(value, date):
            text = "00/00/0000"
        else:
            text = str(value)
        longest = max((len(w) for w in text.split()), default=0) if header else len(text)
        want = max(longest, min(len(text), 16)) if header else min(len(text), 45)
        self.width_hint[column] = max(self.width_hint[column], want)

    def finish(self, freeze_at: str | None = None) -> None:
        from openpyxl.utils import get_column_letter

        ncols = max(self.width_hint) if self.width_hint else 1
        for col in range(1, ncols + 1):
            self.ws.column_dimensions[get_column_letter(col)].width = max(8, self.width_hint[col] + 3)
        for row, _text, _font in self._titles:
            if ncols > 1:
                self.ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=ncols)
            self.ws.row_dimensions[row].height = 20
        if freeze_at:
            self.ws.freeze_panes = freeze_at
        self.ws.page_setup.orientation = "landscape"
        self.ws.page_setup.paperSize = self.ws.PAPERSIZE_A4
        self.ws.page_setup.fitToWidth = 1
        self.ws.page_setup.fitToHeight = 0
        self.ws.sheet_properties.pageSetUpPr.fitToPage = True
        self.ws.print_options.horizontalCentered = True


_MIN = "0.0"
_PCT = "0.0%"
_INT = "#,##0"


def _frac(part: int, total: int) -> float | None:
    """A share as a fraction for a "0.0%" cell (None when nothing was counted)."""
    return None if total <= 0 else part / total


def summary_workbook(report: Mapping[str, Any], *, office_name: str) -> bytes:
    """The report (a `build_summary` body) as XLSX bytes: sheets "Tổng hợp", "Đánh giá",
    "Hồ sơ", then "Theo ngày", "Theo quầy", "Theo cán bộ", "Theo giờ". Times in minutes."""
    from openpyxl import Workbook

    period = Period(date.fromisoformat(report["from"]), date.fromisoformat(report["to"]))
    wb = Workbook()
    wb.remove(wb.active)
    wb.properties.title = f"Báo cáo {period.label_vi().lower()}"
    wb.properties.creator = "motcua"

    # Tổng hợp: per field.
    s = _SheetWriter(wb, "Tổng hợp", office_name, "BÁO CÁO TỔNG HỢP TÌNH HÌNH TIẾP ĐÓN CÔNG DÂN", period)
    columns = [_Column("STT"), _Column("Lĩnh vực"), _Column("Số phiếu", _INT), _Column("Đã phục vụ", _INT),
               _Column("Vắng mặt", _INT), _Column("Chuyển", _INT), _Column("Chờ TB (phút)", _MIN),
               _Column("Chờ trung vị (phút)", _MIN), _Column("Chờ P90 (phút)", _MIN),
               _Column("Phục vụ TB (phút)", _MIN), _Column("Phục vụ trung vị (phút)", _MIN),
               _Column("Phục vụ P90 (phút)", _MIN), _Column("Chờ lâu nhất (phút)", _MIN),
               _Column("Phục vụ lâu nhất (phút)", _MIN), _Column("Đã hủy", _INT), _Column("Gọi lại", _INT)]

    def figures(row: Mapping[str, Any]) -> list[Any]:
        w, sv = row["wait_s"], row["service_s"]
        return [row["issued"], row["served"], row["no_show"], row["transferred"],
                _minutes(w["mean"]), _minutes(w["median"]), _minutes(w["p90"]),
                _minutes(sv["mean"]), _minutes(sv["median"]), _minutes(sv["p90"]),
                _minutes(w["max"]), _minutes(sv["max"]), row.get("cancelled", 0), row.get("recalled", 0)]

    rows = [[i, svc["name"], *figures(svc)] for i, svc in enumerate(report["services"], start=1)]
    header = s.table(columns, rows, total_row=["", "Tổng cộng", *figures(report["totals"])])
    s.note("Thời gian chờ: từ khi lấy số (hoặc được chuyển lĩnh vực, gọi lại sau vắng mặt) đến khi được gọi.")
    s.note("Thời gian phục vụ: từ khi quầy gọi số đến khi kết thúc phục vụ. TB: trung bình; "
           "P90: 90% lượt không vượt quá.")
    scope = report.get("scope") or {}
    if scope.get("counters") is not None:
        s.note("Phạm vi: chỉ các lượt tại quầy " + ", ".join(str(n) for n in scope["counters"]) + ".")
    s.finish(freeze_at=f"C{header + 1}")

    # Đánh giá.
    ratings = report["ratings"]
    s = _SheetWriter(wb, "Đánh giá", office_name, "KẾT QUẢ ĐÁNH GIÁ MỨC ĐỘ HÀI LÒNG", period)
    rows = [[RATING_LABELS_VI[level], ratings[level], _frac(ratings[level], ratings["total"])]
            for level in RATING_LEVELS]
    s.table([_Column("Mức độ hài lòng"), _Column("Số lượt đánh giá", _INT), _Column("Tỷ lệ", _PCT)], rows,
            total_row=["Tổng cộng", ratings["total"], 1.0 if ratings["total"] else None])
    s.note("Tỷ lệ hài lòng (Rất hài lòng + Hài lòng): "
           + (f"{ratings['satisfied_percent']:.1f}%".replace(".", ",")
              if ratings["satisfied_percent"] is not None else "chưa có đánh giá") + ".")
    s.row += 1
    by_field = [[svc["name"], svc["ratings"]["very_satisfied"], svc["ratings"]["satisfied"],
                 svc["ratings"]["unsatisfied"], svc["ratings"]["total"],
                 _frac(svc["ratings"]["very_satisfied"] + svc["ratings"]["satisfied"], svc["ratings"]["total"])]
                for svc in report["services"]]
    s.table([_Column("Lĩnh vực"), _Column("Rất hài lòng", _INT), _Column("Hài lòng", _INT),
             _Column("Không hài lòng", _INT), _Column("Tổng số", _INT), _Column("Tỷ lệ hài lòng", _PCT)], by_field)
    reasons = ratings.get("reasons") or []
    if reasons:
        s.table([_Column("Lý do không hài lòng"), _Column("Số lượt", _INT), _Column("Tỷ lệ", _PCT)],
                [[r["label"], r["count"], _frac(r["count"], ratings["unsatisfied"])] for r in reasons])
    s.finish()

    # Hồ sơ.
    dossiers = report["dossiers"]
    s = _SheetWriter(wb, "Hồ sơ", office_name, "TÌNH HÌNH GIẢI QUYẾT HỒ SƠ THỦ TỤC HÀNH CHÍNH", period)
    d_columns = [_Column("Lĩnh vực"), _Column("Tổng số", _INT), _Column("Kỳ trước chuyển sang", _INT),
                 _Column("Mới tiếp nhận", _INT), _Column("Tổng số", _INT), _Column("Trước hạn", _INT),
                 _Column("Đúng hạn", _INT), _Column("Quá hạn", _INT), _Column("Tổng số", _INT),
                 _Column("Trong hạn", _INT), _Column("Quá hạn", _INT)]

    def d_figures(c: Mapping[str, Any]) -> list[Any]:
        return [c["received"], c.get("carried_over"), c.get("received_new"), c.get("finished"),
                c["finished_early"], c["finished_on_time"], c["finished_late"], c.get("in_progress"),
                c["in_progress_in_time"], c["in_progress_overdue"]]

    d_rows = [[row["field"] or "(Không rõ lĩnh vực)", *d_figures(row)] for row in report.get("dossiers_by_field", [])]
    header = s.table(d_columns, d_rows,
                     groups=[("Lĩnh vực", 1), ("Tiếp nhận", 3), ("Đã giải quyết", 4), ("Đang giải quyết", 3)],
                     total_row=["Tổng cộng", *d_figures(dossiers)])
    s.note(f"Đúng hạn/quá hạn theo Quyết định 766/QĐ-TTg, tính đến ngày {period.end:%d/%m/%Y}; "
           "so sánh theo ngày (giờ địa phương) với ngày hẹn trả đầu tiên.")
    if dossiers.get("finished_date_unknown"):
        s.note(f"Có {dossiers['finished_date_unknown']} hồ sơ đã giải quyết nhưng không có ngày kết thúc: "
               "tính vào \"Đã giải quyết - Tổng số\", không xếp được trước hạn/đúng hạn/quá hạn.")
    s.finish(freeze_at=f"B{header + 1}")

    # Theo ngày.
    s = _SheetWriter(wb, "Theo ngày", office_name, "SỐ LIỆU THEO NGÀY", period)
    day_cols = [_Column("Ngày", "DD/MM/YYYY"), _Column("Số phiếu", _INT), _Column("Đã phục vụ", _INT),
                _Column("Vắng mặt", _INT), _Column("Chuyển", _INT), _Column("Chờ TB (phút)", _MIN),
                _Column("Phục vụ TB (phút)", _MIN), _Column("Lượt đánh giá", _INT)]
    day_rows = [[date.fromisoformat(d["date"]), d["issued"], d["served"], d["no_show"], d["transferred"],
                 _minutes(d["wait_s"]["mean"]), _minutes(d["service_s"]["mean"]), d["ratings"]["total"]]
                for d in report.get("days", [])]
    header = s.table(day_cols, day_rows)
    s.finish(freeze_at=f"B{header + 1}")

    # Theo quầy.
    s = _SheetWriter(wb, "Theo quầy", office_name, "SỐ LIỆU THEO QUẦY", period)
    person_cols = [_Column("Lượt gọi", _INT), _Column("Đã phục vụ", _INT), _Column("Vắng mặt", _INT),
                   _Column("Chuyển đi", _INT), _Column("Phục vụ TB (phút)", _MIN),
                   _Column("Lượt đánh giá", _INT), _Column("Tỷ lệ hài lòng", _PCT)]

    def person(r: Mapping[str, Any]) -> list[Any]:
        return [r["called"], r["served"], r["no_show"], r["transferred"], _minutes(r["service_s"]["mean"]),
                r["ratings"]["total"],
                _frac(r["ratings"]["very_satisfied"] + r["ratings"]["satisfied"], r["ratings"]["total"])]

    s.table([_Column("Quầy"), *person_cols], [[c["name"], *person(c)] for c in report.get("counters", [])])
    s.finish()

    # Theo cán bộ.
    s = _SheetWriter(wb, "Theo cán bộ", office_name, "SỐ LIỆU THEO CÁN BỘ", period)
    s.table([_Column("Cán bộ"), _Column("Tài khoản"), *person_cols],
            [[p["full_name"] or p["username"] or f"#{p['staff_id']}", p["username"], *person(p)]
             for p in report.get("staff", [])])
    s.finish()

    # Theo giờ.
    s = _SheetWriter(wb, "Theo giờ", office_name, "SỐ PHIẾU THEO KHUNG GIỜ", period)
    s.table([_Column("Khung giờ"), _Column("Số phiếu", _INT), _Column("Lượt gọi", _INT),
             _Column("Đã phục vụ", _INT), _Column("Chờ TB (phút)", _MIN)],
            [[h["label"], h["issued"], h["called"], h["served"], _minutes(h["wait_s"]["mean"])]
             for h in report.get("hours", [])])
    busiest = report.get("busiest_hour")
    if busiest:
        s.note(f"Khung giờ đông nhất: {busiest['label']} ({busiest['issued']} phiếu).")
    s.finish()

    # Theo thứ và giờ: the arrivals heat map as a table.
    heat = report.get("heatmap") or {}
    s = _SheetWriter(wb, "Theo thứ và giờ", office_name, "SỐ PHIẾU THEO THỨ TRONG TUẦN VÀ KHUNG GIỜ", period)
    hours = heat.get("hours") or []
    s.table([_Column("Thứ"), *[_Column(f"{h:02d}:00", _INT) for h in hours], _Column("Cộng", _INT)],
            [[row["label"], *row["counts"], row["total"]] for row in heat.get("rows", [])])
    s.finish()

    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
