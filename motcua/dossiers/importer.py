"""Checking an uploaded list of dossiers (CSV or XLSX) row by row.

`parse_import` never raises on bad input: every problem becomes an error
``{"row": n, "message": "<Vietnamese>"}`` with *n* the row number a person sees in a
spreadsheet (header = row 1 when it is the first line, first data row = row 2; 0 = the
file as a whole). When there is any error, ``rows`` is empty: the caller imports all
rows or none.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field as dc_field
from datetime import date, datetime
from typing import Any

from .codes import parse_dossier_code
from .columns import COLUMNS, HeaderMatch, match_header, missing_message, validate_mapping
from .masking import mask_id
from .readers import ReadError, Sheet, read_sheets
from .status import FINISHED_STATUSES, parse_status
from .text import clean_cell, fold, has_control_chars, shown

__all__ = ["DossierRow", "ImportResult", "parse_import", "MAX_NAME_CHARS", "MAX_PROCEDURE_CHARS"]

logger = logging.getLogger(__name__)

MAX_NAME_CHARS = 200  # nguoi_nop, linh_vuc
MAX_PROCEDURE_CHARS = 500  # thu_tuc: statutory procedure names run long
MAX_CELL_CHARS = 10_000  # anything longer is refused before any other check
#: Rows scanned for the header (title lines above it are allowed).
HEADER_SCAN_ROWS = 20
#: Years accepted in dates (the code's yymmdd means 20yy).
MIN_YEAR, MAX_YEAR = 2000, 2099
LOOKUP_SECRET = re.compile(r"^[A-Za-z0-9]{4,32}$")
ID_NUMBER = re.compile(r"^[A-Z0-9]{6,20}$")

_DMY = re.compile(r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4})(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$")
_ISO = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$")
# Excel day serials for 2000-01-01 .. 2099-12-31 (cells typed as numbers, not dates).
_SERIAL_MIN, _SERIAL_MAX = 36526, 73050


@dataclass(frozen=True)
class DossierRow:
    """One checked row. Dates are calendar days. ``finished_at`` is the end of
    processing: the earlier of ngay_hoan_thanh and ngay_tra (None if neither, or if the
    status is not a finished one)."""

    row: int
    code: str  # ma_ho_so, normalised
    procedure: str  # thu_tuc
    field: str  # linh_vuc (the known spelling when known_fields was given)
    applicant: str  # nguoi_nop, full name (mask before showing)
    received_at: date  # ngay_nhan
    due_at: date  # ngay_hen_tra
    status: int  # trang_thai 1..10
    lookup_secret: str | None = None  # ma_tra_cuu
    id_number: str | None = None  # so_giay_to / cccd
    phone: str | None = None  # dien_thoai, digits (and a leading +)
    finished_at: date | None = None  # ngay_hoan_thanh (or ngay_tra)
    returned_at: date | None = None  # ngay_tra
    new_due_at: date | None = None  # ngay_hen_moi

    def as_canonical(self) -> dict[str, Any]:
        """The row under the canonical column names (dates as date objects)."""
        return {
            "ma_ho_so": self.code, "thu_tuc": self.procedure, "linh_vuc": self.field,
            "nguoi_nop": self.applicant, "ngay_nhan": self.received_at,
            "ngay_hen_tra": self.due_at, "trang_thai": self.status,
            "ma_tra_cuu": self.lookup_secret, "so_giay_to": self.id_number,
            "dien_thoai": self.phone, "ngay_hoan_thanh": self.finished_at,
            "ngay_tra": self.returned_at, "ngay_hen_moi": self.new_due_at,
        }


@dataclass
class ImportResult:
    rows: list[DossierRow]
    errors: list[dict[str, Any]]
    warnings: list[dict[str, Any]] = dc_field(default_factory=list)
    checked: int = 0  # data rows read (blank rows not counted)
    format: str = ""  # "csv" or "xlsx" ("" when the file could not be read)
    sheet: str = ""  # worksheet used (XLSX)

    @property
    def ok(self) -> bool:
        return not self.errors and bool(self.rows)


class _Errors:
    """Collects row errors up to a limit, counting the rest."""

    def __init__(self, limit: int) -> None:
        self.items: list[dict[str, Any]] = []
        self.limit = limit
        self.dropped = 0

    def add(self, row: int, message: str) -> None:
        if len(self.items) < self.limit:
            self.items.append({"row": row, "message": message})
        else:
            self.dropped += 1

    def __bool__(self) -> bool:
        return bool(self.items)

    def final(self) -> list[dict[str, Any]]:
        if self.dropped:
            return self.items + [{"row": 0, "message": f"Còn {self.dropped} lỗi khác không được liệt kê."}]
        return self.items


def _failed(row: int, message: str, fmt: str = "") -> ImportResult:
    return ImportResult(rows=[], errors=[{"row": row, "message": message}], format=fmt)


# ------------------------------------------------------------------ cell converters

class _Bad(ValueError):
    """A cell problem; the message is completed with the column name by the caller."""


def _text(raw: object) -> str:
    if raw is None:
        return ""
    if isinstance(raw, float) and raw.is_integer():
        raw = int(raw)
    if isinstance(raw, datetime):
        raw = raw.strftime("%d/%m/%Y %H:%M") if (raw.hour, raw.minute) != (0, 0) else raw.strftime("%d/%m/%Y")
    elif isinstance(raw, date):
        raw = raw.strftime("%d/%m/%Y")
    text = str(raw)
    if len(text) > MAX_CELL_CHARS:
        raise _Bad(f"giá trị quá dài ({len(text)} ký tự)")
    text = clean_cell(text)
    if has_control_chars(text):
        raise _Bad(f"giá trị {shown(text)} chứa ký tự điều khiển")
    return text


def _date(raw: object, xlsx: bool) -> date | None:
    """None when empty; _Bad when not a real dd/mm/yyyy date."""
    if raw is None:
        return None
    if isinstance(raw, datetime):
        value = raw.date()
    elif isinstance(raw, date):
        value = raw
    elif xlsx and isinstance(raw, (int, float)) and not isinstance(raw, bool):
        if not _SERIAL_MIN <= raw <= _SERIAL_MAX:
            raise _Bad(f"giá trị {shown(raw)} không phải ngày dd/mm/yyyy")
        from openpyxl.utils.datetime import from_excel

        value = from_excel(raw).date()
    else:
        text = _text(raw)
        if not text:
            return None
        if match := _DMY.match(text):
            day, month, year = (int(g) for g in match.groups())
        elif match := _ISO.match(text):
            year, month, day = (int(g) for g in match.groups())
        else:
            raise _Bad(f"giá trị {shown(text)} không đúng dạng ngày dd/mm/yyyy")
        try:
            value = date(year, month, day)
        except ValueError:
            raise _Bad(f"ngày {shown(text)} không phải ngày có thật") from None
    if not MIN_YEAR <= value.year <= MAX_YEAR:
        raise _Bad(f"ngày {value:%d/%m/%Y} có năm ngoài khoảng {MIN_YEAR}–{MAX_YEAR}")
    return value


def _digits_from_number(raw: object) -> str | None:
    """Digits of a numeric cell (Excel drops leading zeros of numbers typed in)."""
    if isinstance(raw, bool) or not isinstance(raw, (int, float)):
        return None
    if isinstance(raw, float) and not raw.is_integer():
        return None
    return str(int(raw))


# ------------------------------------------------------------------ one row

@dataclass
class _Context:
    match: HeaderMatch
    mapping: Mapping[str, str] | None
    known: dict[str, str] | None  # folded -> spelling
    xlsx: bool


def _column(ctx: _Context, name: str) -> str:
    header = ctx.match.headers.get(name, name)
    return f"Cột {name}" if header == name else f"Cột {shown(header)} ({name})"


def _check_row(
    ctx: _Context, number: int, values: Sequence[object], errors: _Errors, warnings: list[dict[str, Any]]
) -> tuple[DossierRow | None, str]:
    """The checked row (None if it has errors) and its code ("" if unreadable)."""
    before = len(errors.items) + errors.dropped
    cells: dict[str, object] = {}
    for name, index in ctx.match.positions.items():
        raw = values[index] if index < len(values) else None
        if isinstance(raw, str) and not raw.strip():
            raw = None
        cells[name] = raw

    def fail(name: str, message: str) -> None:
        errors.add(number, f"{_column(ctx, name)}: {message}.")

    def text(name: str, label: str, limit: int, required: bool) -> str:
        try:
            value = _text(cells.get(name))
        except _Bad as bad:
            fail(name, str(bad))
            return ""
        if required and not value:
            fail(name, f"thiếu {label}")
        elif len(value) > limit:
            fail(name, f"{label} dài {len(value)} ký tự (tối đa {limit}): {shown(value)}")
        return value

    def day(name: str, label: str, required: bool) -> date | None:
        try:
            value = _date(cells.get(name), ctx.xlsx)
        except _Bad as bad:
            fail(name, str(bad))
            return None
        if value is None and required:
            fail(name, f"thiếu {label}")
        return value

    # ma_ho_so
    code = ""
    code_date: date | None = None
    raw_code = text("ma_ho_so", "mã hồ sơ", MAX_CELL_CHARS, True)
    if raw_code:
        try:
            parsed = parse_dossier_code(raw_code)
            code, code_date = parsed.text, parsed.received_date
        except ValueError as exc:
            fail("ma_ho_so", str(exc).rstrip("."))

    procedure = text("thu_tuc", "tên thủ tục", MAX_PROCEDURE_CHARS, True)
    field_name = text("linh_vuc", "lĩnh vực", MAX_NAME_CHARS, True)
    if field_name and ctx.known is not None:
        spelling = ctx.known.get(fold(field_name))
        if spelling is None:
            examples = "; ".join(sorted(ctx.known.values())[:5])
            fail("linh_vuc", f"lĩnh vực {shown(field_name)} không có trong danh sách lĩnh vực của cơ quan"
                 + (f" (ví dụ: {examples})" if examples else ""))
        else:
            field_name = spelling
    applicant = text("nguoi_nop", "tên người nộp", MAX_NAME_CHARS, True)

    received = day("ngay_nhan", "ngày nhận", True)
    due = day("ngay_hen_tra", "ngày hẹn trả", True)
    if received and due and due < received:
        fail("ngay_hen_tra", f"ngày hẹn trả {due:%d/%m/%Y} trước ngày nhận {received:%d/%m/%Y}")

    status = 0
    raw_status = cells.get("trang_thai")
    if raw_status is None:
        fail("trang_thai", "thiếu trạng thái (số từ 1 đến 10)")
    else:
        try:
            status = parse_status(raw_status if not isinstance(raw_status, str) else clean_cell(raw_status))
        except ValueError:
            fail("trang_thai", f"trạng thái {shown(raw_status)} không hợp lệ, phải là số nguyên từ 1 đến 10")

    secret: str | None = None
    if "ma_tra_cuu" in cells and cells["ma_tra_cuu"] is not None:
        raw = cells["ma_tra_cuu"]
        value = _digits_from_number(raw) or (raw.strip() if isinstance(raw, str) else str(raw))
        if LOOKUP_SECRET.match(value):
            secret = value
        else:
            fail("ma_tra_cuu", f"mã tra cứu phải gồm 4–32 chữ cái không dấu hoặc chữ số, "
                 f"không có khoảng trắng (giá trị đang có {len(value)} ký tự)")

    id_number: str | None = None
    if cells.get("so_giay_to") is not None:
        raw = cells["so_giay_to"]
        digits = _digits_from_number(raw)
        if digits is not None:  # a number cell lost its leading zeros: CCCD has 12, CMND 9
            value = digits.zfill(12) if len(digits) in (10, 11) else digits.zfill(9) if len(digits) == 8 else digits
        else:
            value = re.sub(r"[\s.\-]", "", str(raw)).upper()
        if ID_NUMBER.match(value):
            id_number = value
        else:
            fail("so_giay_to", f"số giấy tờ {shown(mask_id(value, show_last4=True))} không hợp lệ "
                 "(6–20 chữ số hoặc chữ cái)")

    phone: str | None = None
    if cells.get("dien_thoai") is not None:
        raw = cells["dien_thoai"]
        digits = _digits_from_number(raw)
        if digits is not None:
            value = "0" + digits if len(digits) == 9 else digits
        else:
            value = re.sub(r"[\s.\-()]", "", str(raw))
        body = value[1:] if value.startswith("+") else value
        if body.isascii() and body.isdigit() and 8 <= len(body) <= 15:
            phone = value
        else:
            fail("dien_thoai", f"số điện thoại {shown(value)} không hợp lệ")

    finished = day("ngay_hoan_thanh", "ngày hoàn thành", False)
    returned = day("ngay_tra", "ngày trả kết quả", False)
    new_due = day("ngay_hen_moi", "ngày hẹn mới", False)
    if received:
        for name, label, value in (("ngay_hoan_thanh", "ngày hoàn thành", finished), ("ngay_tra", "ngày trả", returned)):
            if value and value < received:
                fail(name, f"{label} {value:%d/%m/%Y} trước ngày nhận {received:%d/%m/%Y}")
    if finished and returned and returned < finished:
        fail("ngay_tra", f"ngày trả {returned:%d/%m/%Y} trước ngày hoàn thành {finished:%d/%m/%Y}")
    if due and new_due and new_due < due:
        fail("ngay_hen_moi", f"ngày hẹn mới {new_due:%d/%m/%Y} trước ngày hẹn trả {due:%d/%m/%Y}")

    if len(errors.items) + errors.dropped > before:
        return None, code

    ended = min((d for d in (finished, returned) if d), default=None)
    if ended and status not in FINISHED_STATUSES:
        warnings.append({"row": number, "message": (
            f"Hồ sơ {code} có ngày hoàn thành/ngày trả nhưng trạng thái {status} chưa kết thúc; "
            "ngày đó không được tính.")})
        ended = None
    if code_date and received and code_date != received:
        warnings.append({"row": number, "message": (
            f"Ngày trong mã hồ sơ {code} ({code_date:%d/%m/%Y}) khác ngày nhận {received:%d/%m/%Y}.")})
    assert received is not None and due is not None
    return DossierRow(
        row=number, code=code, procedure=procedure, field=field_name, applicant=applicant,
        received_at=received, due_at=due, status=status, lookup_secret=secret,
        id_number=id_number, phone=phone, finished_at=ended, returned_at=returned, new_due_at=new_due,
    ), code


# ------------------------------------------------------------------ whole file

def _is_blank(values: Sequence[object]) -> bool:
    return all(v is None or (isinstance(v, str) and not v.strip()) for v in values)


def _find_header(
    rows: Iterator[tuple[int, Sequence[object]]], mapping: Mapping[str, str] | None
) -> tuple[int, HeaderMatch] | None:
    """The header row: the first of the first HEADER_SCAN_ROWS rows naming at least
    three canonical columns, else the first non-blank row. None if all are blank."""
    first: tuple[int, HeaderMatch] | None = None
    wanted = min(3, len(COLUMNS))
    for number, values in rows:
        if _is_blank(values):
            if number >= HEADER_SCAN_ROWS:
                break
            continue
        match = match_header(values, mapping)
        if match.found >= wanted:
            return number, match
        if first is None:
            first = (number, match)
        if number >= HEADER_SCAN_ROWS:
            break
    return first


def _choose_sheet(
    sheets: list[Sheet], mapping: Mapping[str, str] | None
) -> tuple[Sheet, int, HeaderMatch] | None:
    fallback: tuple[Sheet, int, HeaderMatch] | None = None
    for sheet in sheets:
        iterator = sheet.rows()
        try:
            found = _find_header(iterator, mapping)
        finally:
            close = getattr(iterator, "close", None)
            if close:
                close()
        if found is None:
            continue
        number, match = found
        if match.found >= min(3, len(COLUMNS)):
            return sheet, number, match
        if fallback is None:
            fallback = (sheet, number, match)
    return fallback


def parse_import(
    data: bytes,
    filename_or_content_type: str,
    *,
    mapping: dict[str, str] | None = None,
    known_fields: set[str] | None = None,
    max_rows: int = 200_000,
    max_errors: int = 1_000,
) -> ImportResult:
    """Read and check a dossier list (CSV UTF-8 or XLSX). See the module docstring.

    *mapping* is ``{canonical_name: header_in_file}``; *known_fields* the office's
    field names (linh_vuc must match one, accents and case optional, and takes its
    spelling); at most *max_rows* data rows; at most *max_errors* errors are listed.
    """
    try:
        return _parse(data, filename_or_content_type or "", mapping, known_fields, max_rows, max_errors)
    except ReadError as exc:
        return _failed(exc.row, exc.message)
    except Exception:  # last line of defence: a bad upload must never become a 500
        logger.exception("dossier import failed unexpectedly")
        return _failed(0, "Không đọc được tệp do lỗi không mong đợi. Hãy kiểm tra tệp hoặc báo quản trị viên.")


def _parse(
    data: bytes,
    hint: str,
    mapping: dict[str, str] | None,
    known_fields: set[str] | None,
    max_rows: int,
    max_errors: int,
) -> ImportResult:
    if not isinstance(data, (bytes, bytearray, memoryview)):
        return _failed(0, "Dữ liệu tải lên không hợp lệ.")
    data = bytes(data)
    problems = validate_mapping(mapping)
    if problems:
        return ImportResult(rows=[], errors=[{"row": 0, "message": p} for p in problems])
    with read_sheets(data, hint) as (kind, sheets):
        return _check_sheets(kind, sheets, mapping, known_fields, max_rows, max_errors)


def _check_sheets(
    kind: str,
    sheets: list[Sheet],
    mapping: dict[str, str] | None,
    known_fields: set[str] | None,
    max_rows: int,
    max_errors: int,
) -> ImportResult:
    chosen = _choose_sheet(sheets, mapping)
    if chosen is None:
        return _failed(0, "Tệp không có dữ liệu (chỉ toàn dòng trống).", kind)
    sheet, header_row, match = chosen

    errors = _Errors(max(1, max_errors))
    if match.missing or match.duplicates:
        for name in match.missing:
            errors.add(header_row, missing_message(name, mapping))
        for message in match.duplicates:
            errors.add(header_row, message)
        return ImportResult(rows=[], errors=errors.final(), format=kind, sheet=sheet.name)

    known = None
    if known_fields is not None:
        known = {fold(name): name for name in known_fields if isinstance(name, str) and fold(name)}
    ctx = _Context(match=match, mapping=mapping, known=known, xlsx=(kind == "xlsx"))
    rows: list[DossierRow] = []
    warnings: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    checked = 0
    iterator = sheet.rows()
    try:
        for number, values in iterator:
            if number <= header_row or _is_blank(values):
                continue
            checked += 1
            if checked > max_rows:
                limit = f"{max_rows:,}".replace(",", ".")
                return _failed(0, f"Tệp có hơn {limit} dòng dữ liệu (tối đa {limit}); hãy chia nhỏ tệp.", kind)
            row, code = _check_row(ctx, number, values, errors, warnings)
            if code and code in seen:
                errors.add(number, f"{_column(ctx, 'ma_ho_so')}: mã hồ sơ {code} trùng với dòng {seen[code]}.")
                continue
            if code:
                seen[code] = number
            if row is not None:
                rows.append(row)
    finally:
        close = getattr(iterator, "close", None)
        if close:
            close()

    if checked == 0:
        return ImportResult(rows=[], errors=[{"row": header_row, "message": "Tệp chỉ có dòng tiêu đề, không có dòng dữ liệu nào."}],
                            format=kind, sheet=sheet.name)
    if errors:
        return ImportResult(rows=[], errors=errors.final(), warnings=warnings, checked=checked,
                            format=kind, sheet=sheet.name)
    return ImportResult(rows=rows, errors=[], warnings=warnings, checked=checked, format=kind, sheet=sheet.name)
