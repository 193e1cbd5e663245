"""Generated dossier lists (canonical columns) as CSV and XLSX bytes, for the tests."""

from __future__ import annotations

import csv
import io
import random
from datetime import date, timedelta

import openpyxl

HEADER = ["ma_ho_so", "thu_tuc", "linh_vuc", "nguoi_nop", "ngay_nhan", "ngay_hen_tra", "trang_thai", "ma_tra_cuu"]
FIELDS = ["Đất đai", "Hộ tịch", "Chứng thực", "Xây dựng", "Bảo trợ xã hội", "Người có công"]
PROCEDURES = [
    "Đăng ký khai sinh",
    "Chứng thực bản sao từ bản chính giấy tờ, văn bản",
    "Đăng ký biến động quyền sử dụng đất, quyền sở hữu tài sản gắn liền với đất",
    "Cấp giấy phép xây dựng nhà ở riêng lẻ",
]
FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Đặng", "Đỗ", "Bùi", "Võ"]
MIDDLE = ["Văn", "Thị", "Đức", "Minh", "Ngọc", "Quang"]
GIVEN = ["An", "Bình", "Chi", "Dũng", "Đào", "Hà", "Khánh", "Ánh", "Yến"]
AGENCIES = ["000.17.22.H56", "000.302.36.H05", "H56", "000.00.12.G22"]


def make_records(count: int, seed: int = 7) -> list[dict[str, object]]:
    """*count* valid dossiers with unique codes; dates are `date` objects."""
    rng = random.Random(seed)
    records: list[dict[str, object]] = []
    per_day: dict[tuple[str, date], int] = {}
    start = date(2025, 7, 1)
    for _ in range(count):
        agency = rng.choice(AGENCIES)
        received = start + timedelta(days=rng.randrange(0, 180))
        seq = per_day.get((agency, received), 0) + 1
        per_day[(agency, received)] = seq
        records.append({
            "ma_ho_so": f"{agency}-{received:%y%m%d}-{seq:04d}",
            "thu_tuc": rng.choice(PROCEDURES),
            "linh_vuc": rng.choice(FIELDS),
            "nguoi_nop": f"{rng.choice(FAMILY)} {rng.choice(MIDDLE)} {rng.choice(GIVEN)}",
            "ngay_nhan": received,
            "ngay_hen_tra": received + timedelta(days=rng.randrange(0, 30)),
            "trang_thai": rng.randint(1, 10),
            "ma_tra_cuu": "".join(rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZ23456789") for _ in range(6)),
        })
    return records


def _cell_text(value: object) -> str:
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    return "" if value is None else str(value)


def to_csv(
    records: list[dict[str, object]],
    *,
    header: list[str] | None = None,
    columns: list[str] | None = None,
    delimiter: str = ",",
    bom: bool = False,
    encoding: str = "utf-8",
) -> bytes:
    """CSV bytes; *columns* picks record keys, *header* renames them in the file."""
    columns = columns or HEADER
    header = header or columns
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(header)
    for record in records:
        writer.writerow([_cell_text(record.get(name)) for name in columns])
    data = buffer.getvalue().encode(encoding)
    return (b"\xef\xbb\xbf" + data) if bom else data


def to_xlsx(
    records: list[dict[str, object]],
    *,
    header: list[str] | None = None,
    columns: list[str] | None = None,
    title_rows: list[str] | None = None,
    dates_as_text: bool = False,
) -> bytes:
    """XLSX bytes with real Excel dates (or dd/mm/yyyy text) and numeric statuses."""
    columns = columns or HEADER
    header = header or columns
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Hồ sơ"
    for line in title_rows or []:
        sheet.append([line])
    sheet.append(header)
    for record in records:
        row = []
        for name in columns:
            value = record.get(name)
            if isinstance(value, date) and dates_as_text:
                value = value.strftime("%d/%m/%Y")
            row.append(value)
        sheet.append(row)
    if not dates_as_text:
        for column_cells in sheet.iter_cols(min_row=len(title_rows or []) + 2):
            for cell in column_cells:
                if isinstance(cell.value, date):
                    cell.number_format = "DD/MM/YYYY"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
