"""Reading a procedure catalogue from JSON, CSV or XLSX, with validation.

Every problem is reported with its row (CSV/XLSX: the spreadsheet row, the header
being row 1; JSON: the position of the procedure in the list, from 1) and a Vietnamese
message. ``parse_*`` functions return what they could read together with the problems;
``read_*`` functions raise :class:`CatalogueImportError` when there is any problem, so
an office never loads half a list by mistake.

CSV/XLSX columns (header names are matched without accents or case, so "Mã thủ tục"
and ``ma_thu_tuc`` are the same column; see ``docs/catalogue.md``):

======================  =============================================================
``ma_thu_tuc``          code (required, unique)
``ten_thu_tuc``         name (required)
``ma_linh_vuc``         field code, e.g. HOTICH (required)
``ten_linh_vuc``        field name, e.g. Hộ tịch (required)
``cap_thuc_hien``       xã / tỉnh (empty: xã)
``thanh_phan_ho_so``    documents: items one per line or separated by "; ";
                        each item ``Tên giấy tờ | bản chính | bản sao | ghi chú``
                        (counts optional: 1 original, 0 copies)
``thoi_han_giai_quyet`` time limit as text
``so_ngay``             time limit in days (number, "0,5" accepted; empty: read from
                        the text when it plainly says "N ngày ..." or "Ngay trong ngày")
``phi_le_phi``          fees as text
``noi_nop``             where to submit
``muc_do_truc_tuyen``   toàn trình / một phần / không (empty: không)
``can_cu_phap_ly``      legal basis, items one per line or separated by "; "
``trinh_tu``            steps, same
``ket_qua``             result
``ghi_chu``             notes
``tu_khoa``             extra search words, same list form
======================  =============================================================
"""

from __future__ import annotations

import io
import json
import logging
import os
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from .model import LEVELS, ONLINE_MODES, Document, Procedure
from .textfold import fold

__all__ = [
    "CSV_COLUMNS",
    "REQUIRED_COLUMNS",
    "SAMPLE_PATH",
    "CatalogueImportError",
    "ImportIssue",
    "column_key",
    "days_from_text",
    "parse_csv",
    "parse_json",
    "parse_records",
    "parse_xlsx",
    "procedure_from_dict",
    "read_csv",
    "read_json",
    "read_xlsx",
]

log = logging.getLogger(__name__)

#: The sample catalogue shipped with motcua (to be checked against the provincial list).
SAMPLE_PATH: Final = Path(__file__).with_name("data") / "procedures_sample.json"

#: CSV column -> Procedure attribute, in the documented order.
CSV_COLUMNS: Final[dict[str, str]] = {
    "ma_thu_tuc": "code",
    "ten_thu_tuc": "name",
    "ma_linh_vuc": "field_code",
    "ten_linh_vuc": "field_name",
    "cap_thuc_hien": "level",
    "thanh_phan_ho_so": "documents",
    "thoi_han_giai_quyet": "time_limit",
    "so_ngay": "time_limit_days",
    "phi_le_phi": "fees",
    "noi_nop": "where",
    "muc_do_truc_tuyen": "online",
    "can_cu_phap_ly": "legal_basis",
    "trinh_tu": "steps",
    "ket_qua": "result",
    "ghi_chu": "notes",
    "tu_khoa": "keywords",
}
REQUIRED_COLUMNS: Final = ("ma_thu_tuc", "ten_thu_tuc", "ma_linh_vuc", "ten_linh_vuc")

# Other header spellings seen in provincial exports, after folding.
_COLUMN_ALIASES: Final[dict[str, str]] = {
    "ma": "ma_thu_tuc",
    "ma_tthc": "ma_thu_tuc",
    "ma_so": "ma_thu_tuc",
    "ten": "ten_thu_tuc",
    "ten_tthc": "ten_thu_tuc",
    "thu_tuc": "ten_thu_tuc",
    "thu_tuc_hanh_chinh": "ten_thu_tuc",
    "linh_vuc": "ten_linh_vuc",
    "cap": "cap_thuc_hien",
    "cap_giai_quyet": "cap_thuc_hien",
    "ho_so": "thanh_phan_ho_so",
    "giay_to": "thanh_phan_ho_so",
    "thoi_han": "thoi_han_giai_quyet",
    "thoi_gian_giai_quyet": "thoi_han_giai_quyet",
    "so_ngay_giai_quyet": "so_ngay",
    "phi": "phi_le_phi",
    "le_phi": "phi_le_phi",
    "phi_va_le_phi": "phi_le_phi",
    "noi_tiep_nhan": "noi_nop",
    "truc_tuyen": "muc_do_truc_tuyen",
    "dich_vu_cong_truc_tuyen": "muc_do_truc_tuyen",
    "can_cu": "can_cu_phap_ly",
    "trinh_tu_thuc_hien": "trinh_tu",
    "ket_qua_thuc_hien": "ket_qua",
}

_LEVEL_WORDS: Final[dict[str, str]] = {
    "xa": "xã",
    "cap xa": "xã",
    "phuong": "xã",
    "xa phuong": "xã",
    "xa phuong dac khu": "xã",
    "dac khu": "xã",
    "ubnd xa": "xã",
    "tinh": "tỉnh",
    "cap tinh": "tỉnh",
    "ubnd tinh": "tỉnh",
}
_ONLINE_WORDS: Final[dict[str, str]] = {
    "toan trinh": "toàn trình",
    "truc tuyen toan trinh": "toàn trình",
    "muc do 4": "toàn trình",
    "mot phan": "một phần",
    "truc tuyen mot phan": "một phần",
    "muc do 3": "một phần",
    "khong": "không",
    "co": "một phần",
}

_FIELD_CODE = re.compile(r"^[A-Z0-9_.\-]{1,32}$")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_MAX_COUNT: Final = 99
# A catalogue's cells (legal bases, steps) run longer than a dossier list's.
CSV_MAX_FIELD_CHARS: Final = 16_000
CSV_MAX_ROW_CHARS: Final = 256 * 1024


@dataclass(frozen=True, slots=True)
class ImportIssue:
    """One problem found while reading a catalogue: the row and what is wrong."""

    row: int
    message: str

    def __str__(self) -> str:
        return f"Dòng {self.row}: {self.message}"


class CatalogueImportError(ValueError):
    """The catalogue source has problems; ``issues`` lists every one of them."""

    def __init__(self, issues: Sequence[ImportIssue]) -> None:
        self.issues: list[ImportIssue] = list(issues)
        shown = "; ".join(str(i) for i in self.issues[:10])
        more = f" (và {len(self.issues) - 10} lỗi khác)" if len(self.issues) > 10 else ""
        super().__init__(f"Danh mục thủ tục có {len(self.issues)} lỗi: {shown}{more}")


# -- small value parsers ---------------------------------------------------------------


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = _CONTROL.sub(" ", str(value))
    return unicodedata.normalize("NFC", text).strip()


def _split_items(value: Any) -> list[str]:
    """A list cell: a JSON list, or text with one item per line or items split by ';'."""
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return [t for t in (_text(v) for v in value) if t]
    text = _text(value)
    if not text:
        return []
    parts = text.splitlines() if "\n" in text or "\r" in text else text.split(";")
    return [p.strip() for p in parts if p.strip()]


def _count(value: Any, what: str, default: int, errors: list[str], where: str) -> int:
    if value is None or (isinstance(value, str) and not value.strip()):
        return default
    number: int | None = None
    if isinstance(value, bool):
        number = None
    elif isinstance(value, int):
        number = value
    elif isinstance(value, float):
        number = int(value) if value.is_integer() else None
    else:
        try:
            number = int(str(value).strip())
        except ValueError:
            number = None
    if number is None:
        errors.append(f"{where}: số {what} '{_text(value)}' không phải là số nguyên")
        return default
    if not 0 <= number <= _MAX_COUNT:
        errors.append(f"{where}: số {what} phải từ 0 đến {_MAX_COUNT}")
        return default
    return number


def _documents(value: Any, errors: list[str]) -> list[Document]:
    items: list[Any]
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        items = list(value)
    elif isinstance(value, str):
        items = _split_items(value)
    else:
        errors.append("thành phần hồ sơ phải là danh sách hoặc văn bản")
        return []
    docs: list[Document] = []
    for i, item in enumerate(items, 1):
        where = f"giấy tờ thứ {i} của thành phần hồ sơ"
        if isinstance(item, Mapping):
            name = _text(item.get("name"))
            original, copy, note = item.get("original"), item.get("copy"), _text(item.get("note"))
        elif isinstance(item, str):
            parts = [p.strip() for p in item.split("|")]
            if len(parts) > 4:
                errors.append(f"{where}: có quá 4 phần ngăn bởi '|' (tên | bản chính | bản sao | ghi chú)")
                continue
            parts += [""] * (4 - len(parts))
            name, original, copy, note = _text(parts[0]), parts[1], parts[2], _text(parts[3])
        else:
            errors.append(f"{where}: không đọc được")
            continue
        if not name:
            errors.append(f"{where}: thiếu tên giấy tờ")
            continue
        docs.append(Document(
            name=name,
            original=_count(original, "bản chính", 1, errors, where),
            copy=_count(copy, "bản sao", 0, errors, where),
            note=note,
        ))
    return docs


_DAYS_TEXT = re.compile(
    r"^(?:trong (?:thoi han|vong) |khong qua |toi da )?(\d{1,3}(?: \d{1,2})?) ngay\b"
)


def days_from_text(text: str) -> float | None:
    """The number of days a plain time-limit text states, or ``None``.

    Only texts that start by saying it are read: "05 ngày làm việc ...", "Không quá 03
    ngày làm việc", "Ngay trong ngày ..." (0). Anything else gives ``None``.
    """
    folded = fold(text)
    if not folded:
        return None
    if folded.startswith(("ngay trong ngay", "trong ngay", "giai quyet ngay")):
        return 0.0
    m = _DAYS_TEXT.match(folded)
    if not m:
        return None
    return float(m.group(1).replace(" ", "."))


def _days(value: Any, time_limit: str, errors: list[str]) -> float | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return days_from_text(time_limit)
    if isinstance(value, bool):
        errors.append("số ngày giải quyết phải là một số")
        return None
    if isinstance(value, (int, float)):
        number = float(value)
    else:
        text = str(value).strip().replace(",", ".")
        try:
            number = float(text)
        except ValueError:
            errors.append(f"số ngày giải quyết '{_text(value)}' không phải là một số")
            return None
    if not 0 <= number <= 3650 or number != number:
        errors.append("số ngày giải quyết phải từ 0 đến 3650")
        return None
    return number


def _choice(value: Any, table: Mapping[str, str], allowed: Sequence[str], default: str,
            label: str, errors: list[str]) -> str:
    text = _text(value)
    if not text:
        return default
    key = fold(text)
    if key in table:
        return table[key]
    quoted = ", ".join(f"'{a}'" for a in allowed)
    errors.append(f"{label} '{text}' không hợp lệ (chỉ nhận {quoted})")
    return default


def _check_record(data: Mapping[str, Any]) -> tuple[Procedure | None, list[str]]:
    errors: list[str] = []
    if not isinstance(data, Mapping):
        return None, ["không phải là một bản ghi thủ tục (cần một đối tượng JSON)"]
    code = _text(data.get("code"))
    name = _text(data.get("name"))
    field_code = _text(data.get("field_code")).upper()
    field_name = _text(data.get("field_name"))
    if not code:
        errors.append("thiếu mã thủ tục")
    elif len(code) > 64:
        errors.append("mã thủ tục dài quá 64 ký tự")
    if not name:
        errors.append("thiếu tên thủ tục")
    if not field_code:
        errors.append("thiếu mã lĩnh vực")
    elif not _FIELD_CODE.match(field_code):
        errors.append(
            f"mã lĩnh vực '{field_code}' chỉ được gồm chữ không dấu, chữ số, '.', '-' hoặc '_'"
        )
    if not field_name:
        errors.append("thiếu tên lĩnh vực")
    level = _choice(data.get("level"), _LEVEL_WORDS, LEVELS, "xã", "cấp thực hiện", errors)
    online = _choice(data.get("online"), _ONLINE_WORDS, ONLINE_MODES, "không",
                     "mức độ trực tuyến", errors)
    documents = _documents(data.get("documents"), errors)
    time_limit = _text(data.get("time_limit"))
    days = _days(data.get("time_limit_days"), time_limit, errors)
    if errors:
        return None, errors
    return Procedure(
        code=code,
        name=name,
        field_code=field_code,
        field_name=field_name,
        level=level,
        documents=documents,
        time_limit=time_limit,
        time_limit_days=days,
        fees=_text(data.get("fees")),
        where=_text(data.get("where")),
        online=online,
        legal_basis=_split_items(data.get("legal_basis")),
        steps=_split_items(data.get("steps")),
        result=_text(data.get("result")),
        notes=_text(data.get("notes")),
        keywords=_split_items(data.get("keywords")),
    ), []


def procedure_from_dict(data: Mapping[str, Any]) -> Procedure:
    """Build one :class:`Procedure` from its JSON form; ``ValueError`` (Vietnamese
    message) when it is not valid."""
    proc, errors = _check_record(data)
    if proc is None:
        raise ValueError("; ".join(errors))
    return proc


def parse_records(
    records: Iterable[tuple[int, Mapping[str, Any]]],
    row_errors: Mapping[int, list[str]] | None = None,
) -> tuple[list[Procedure], list[ImportIssue]]:
    """Validate ``(row, record)`` pairs (records use the JSON attribute names); codes
    must be unique (compared without case). ``row_errors`` adds problems the caller
    already found in some rows (those rows are then refused too)."""
    procedures: list[Procedure] = []
    issues: list[ImportIssue] = []
    seen: dict[str, int] = {}
    for row, record in records:
        proc, errors = _check_record(record)
        errors = list((row_errors or {}).get(row, ())) + errors
        code = _text(record.get("code")) if isinstance(record, Mapping) else ""
        key = code.casefold()
        if key and key in seen:
            errors.append(f"mã thủ tục '{code}' trùng với dòng {seen[key]}")
        elif key:
            seen[key] = row
        issues.extend(ImportIssue(row, e) for e in errors)
        if proc is not None and not errors:
            procedures.append(proc)
    return procedures, issues


# -- JSON --------------------------------------------------------------------------------


Source = str | os.PathLike[str] | bytes


def _read_bytes(source: Source) -> bytes:
    if isinstance(source, bytes):
        return source
    return Path(source).read_bytes()


def parse_json(source: Source) -> tuple[list[Procedure], list[ImportIssue], dict[str, Any]]:
    """Read a JSON catalogue: ``{"meta": {...}, "procedures": [...]}`` or a bare list.

    ``source`` is a path, or the file's bytes. Returns (procedures, issues, meta); the
    row of an issue is the procedure's position in the list (from 1), 0 for the file.
    """
    try:
        data = json.loads(_read_bytes(source).decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        return [], [ImportIssue(0, f"tệp JSON không đọc được ({exc})")], {}
    meta: dict[str, Any] = {}
    if isinstance(data, Mapping):
        meta = dict(data.get("meta") or {})
        data = data.get("procedures")
    if not isinstance(data, list):
        return [], [ImportIssue(0, "tệp JSON phải có danh sách 'procedures'")], meta
    procedures, issues = parse_records(enumerate(data, 1))
    return procedures, issues, meta


def read_json(source: Source) -> tuple[list[Procedure], dict[str, Any]]:
    """Like :func:`parse_json`, but raise :class:`CatalogueImportError` on any issue."""
    procedures, issues, meta = parse_json(source)
    if issues:
        raise CatalogueImportError(issues)
    return procedures, meta


# -- CSV and XLSX --------------------------------------------------------------------------


def column_key(header: Any) -> str:
    """The canonical column name for a header cell ("Mã thủ tục" -> ``ma_thu_tuc``)."""
    key = fold(_text(header)).replace(" ", "_")
    return _COLUMN_ALIASES.get(key, key)


def _parse_rows(rows: Iterable[Sequence[Any]]) -> tuple[list[Procedure], list[ImportIssue]]:
    """Rows of cells, the first non-empty one being the header."""
    iterator = iter(enumerate(rows, 1))
    header: list[str] | None = None
    header_row = 0
    for row_no, cells in iterator:
        if any(_text(c) for c in cells):
            header = [column_key(c) for c in cells]
            header_row = row_no
            break
    if header is None:
        return [], [ImportIssue(1, "tệp không có dòng tiêu đề")]
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        return [], [ImportIssue(header_row, "thiếu cột bắt buộc: " + ", ".join(missing))]
    duplicated = sorted({h for h in header if h and header.count(h) > 1})
    if duplicated:
        return [], [ImportIssue(header_row, "cột bị lặp: " + ", ".join(duplicated))]
    unknown = [h for h in header if h and h not in CSV_COLUMNS]
    if unknown:
        log.info("catalogue import: ignoring columns %s", ", ".join(unknown))

    width = len(header)
    records: list[tuple[int, Mapping[str, Any]]] = []
    row_errors: dict[int, list[str]] = {}
    for row_no, cells in iterator:
        if not any(_text(c) for c in cells):
            continue
        record: dict[str, Any] = {}
        for col, value in zip(header, cells):
            attr = CSV_COLUMNS.get(col)
            if attr is not None:
                record[attr] = value
        extra = [c for c in cells[width:] if _text(c)]
        if extra:
            row_errors[row_no] = [f"có {len(extra)} ô có dữ liệu nằm ngoài các cột của dòng tiêu đề"]
        records.append((row_no, record))
    return parse_records(records, row_errors)


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        log.warning("catalogue CSV is not UTF-8; reading it as Windows-1258")
        return data.decode("cp1258", errors="replace")


def _delimiter(text: str) -> str:
    first = text[:65536].split("\n", 1)[0]
    counts = {d: first.count(d) for d in (",", ";", "\t")}
    return max(counts, key=lambda d: counts[d]) if any(counts.values()) else ","


def parse_csv(source: Source) -> tuple[list[Procedure], list[ImportIssue]]:
    """Read a CSV catalogue (path, or the file's bytes). UTF-8 with or without BOM
    (Windows-1258 as a fallback); comma, semicolon or tab separated (taken from the
    header line). Read one bounded row at a time: a cell over CSV_MAX_FIELD_CHARS or a row
    over CSV_MAX_ROW_CHARS is an issue naming its row, never millions of cells in memory."""
    from ..dossiers.readers import ReadError, StrLines, bounded_csv_rows

    text = _decode(_read_bytes(source))
    rows = bounded_csv_rows(StrLines(text), _delimiter(text),
                            max_field=CSV_MAX_FIELD_CHARS, max_row=CSV_MAX_ROW_CHARS)
    try:
        return _parse_rows(cells for _, cells in rows)
    except ReadError as exc:
        return [], [ImportIssue(exc.row, exc.detail)]


def read_csv(source: Source) -> list[Procedure]:
    """Like :func:`parse_csv`, but raise :class:`CatalogueImportError` on any issue."""
    procedures, issues = parse_csv(source)
    if issues:
        raise CatalogueImportError(issues)
    return procedures


def parse_xlsx(source: Source) -> tuple[list[Procedure], list[ImportIssue]]:
    """Read the first sheet of an XLSX workbook laid out like the CSV."""
    from openpyxl import load_workbook  # a dependency of motcua; imported when used

    data = _read_bytes(source)
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a bad file
        return [], [ImportIssue(0, f"tệp Excel không đọc được ({exc.__class__.__name__})")]
    try:
        sheet = workbook.worksheets[0]
        return _parse_rows(sheet.iter_rows(values_only=True))
    finally:
        workbook.close()


def read_xlsx(source: Source) -> list[Procedure]:
    """Like :func:`parse_xlsx`, but raise :class:`CatalogueImportError` on any issue."""
    procedures, issues = parse_xlsx(source)
    if issues:
        raise CatalogueImportError(issues)
    return procedures
