"""Turning uploaded bytes into rows of cell values (CSV or XLSX), with row numbers as a
person sees them in a spreadsheet (first line = row 1).

Nothing here raises anything but `ReadError` (a Vietnamese message and a row number,
0 meaning the file as a whole).
"""

from __future__ import annotations

import codecs
import csv
import io
import logging
import warnings
import zipfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Callable

__all__ = ["ReadError", "Sheet", "detect_format", "read_sheets"]

logger = logging.getLogger(__name__)

#: Largest total uncompressed size of an XLSX archive we agree to open (zip bombs).
MAX_XLSX_UNCOMPRESSED = 512 * 1024 * 1024
MAX_XLSX_ENTRIES = 5_000
#: Bytes of the text looked at to choose the CSV delimiter.
SNIFF_CHARS = 64 * 1024
DELIMITERS = (",", ";", "\t")

_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_SAVE_AS_HINT = "Hãy mở tệp bằng Excel và lưu thành .xlsx hoặc “CSV UTF-8 (phân tách bằng dấu phẩy)”."


class ReadError(Exception):
    def __init__(self, row: int, message: str) -> None:
        super().__init__(message)
        self.row = row
        self.message = message


@dataclass
class Sheet:
    name: str
    rows: Callable[[], Iterator[tuple[int, Sequence[object]]]]  # fresh iterator each call


def _hint_says_xlsx(hint: str) -> bool:
    hint = (hint or "").lower()
    return hint.endswith(".xlsx") or hint.endswith(".xlsm") or "spreadsheetml" in hint


def detect_format(data: bytes, hint: str) -> str:
    """"xlsx" or "csv", from the bytes first and the file name / content type second."""
    if not data or not data.strip():
        raise ReadError(0, "Tệp trống, không có dữ liệu.")
    if data.startswith(_ZIP_MAGIC):
        return "xlsx"
    if data.startswith(_OLE_MAGIC):
        raise ReadError(
            0, "Tệp là bảng tính Excel 97–2003 (.xls) hoặc bảng tính có mật khẩu, chưa hỗ trợ. "
            + _SAVE_AS_HINT,
        )
    if data.startswith(b"%PDF"):
        raise ReadError(0, "Tệp là PDF, không phải CSV hay XLSX.")
    if _hint_says_xlsx(hint):
        raise ReadError(0, "Tệp mang tên hoặc kiểu XLSX nhưng nội dung không phải bảng tính XLSX.")
    head = data[:8192]
    if b"\x00" in head and not head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise ReadError(0, "Tệp không phải CSV hay XLSX (có dữ liệu nhị phân). " + _SAVE_AS_HINT)
    return "csv"


@contextmanager
def read_sheets(data: bytes, hint: str) -> Iterator[tuple[str, list[Sheet]]]:
    """``with read_sheets(data, hint) as (kind, sheets):`` kind is "csv" or "xlsx";
    each sheet's ``rows()`` gives a fresh iterator of (row number, cell values)."""
    kind = detect_format(data, hint)
    if kind == "xlsx":
        with _xlsx_sheets(data) as sheets:
            yield kind, sheets
    else:
        yield kind, [_csv_sheet(data)]


# ---------------------------------------------------------------- CSV

def _decode(data: bytes) -> str:
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8):]
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            raise ReadError(0, "Tệp UTF-16 bị hỏng. " + _SAVE_AS_HINT) from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ReadError(
            line,
            f"Tệp CSV không được mã hoá UTF-8 (gặp byte không hợp lệ ở dòng {line}); có thể tệp "
            "đang dùng bảng mã Windows-1258 hoặc TCVN3. " + _SAVE_AS_HINT,
        ) from None


def _choose_delimiter(text: str) -> str:
    sample = text[:SNIFF_CHARS]
    best, best_width = ",", 0
    for delimiter in DELIMITERS:
        width = 0
        try:
            for i, row in enumerate(csv.reader(io.StringIO(sample, newline=""), delimiter=delimiter)):
                width = max(width, len(row))
                if i >= 30:
                    break
        except csv.Error:
            continue
        if width > best_width:
            best, best_width = delimiter, width
    return best


def _csv_sheet(data: bytes) -> Sheet:
    text = _decode(data)
    if not text.strip():
        raise ReadError(0, "Tệp trống, không có dữ liệu.")
    delimiter = _choose_delimiter(text)

    def rows() -> Iterator[tuple[int, Sequence[object]]]:
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        number = 0
        while True:
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                raise ReadError(number + 1, f"Dòng {number + 1} của tệp CSV không đọc được ({exc}).") from None
            number += 1
            yield number, row

    return Sheet(name="CSV", rows=rows)


# ---------------------------------------------------------------- XLSX

def _check_zip(data: bytes) -> None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            infos = archive.infolist()
            names = {info.filename for info in infos}
            if "mimetype" in names and archive.read("mimetype").startswith(b"application/vnd.oasis"):
                raise ReadError(0, "Tệp là bảng tính OpenDocument (.ods), chưa hỗ trợ. " + _SAVE_AS_HINT)
            if "xl/workbook.xml" not in names:
                raise ReadError(0, "Tệp ZIP này không phải bảng tính XLSX.")
            if len(infos) > MAX_XLSX_ENTRIES or sum(i.file_size for i in infos) > MAX_XLSX_UNCOMPRESSED:
                raise ReadError(0, "Tệp XLSX quá lớn khi giải nén; hãy chia nhỏ tệp.")
    except zipfile.BadZipFile:
        raise ReadError(0, "Tệp XLSX bị hỏng (không phải tệp ZIP hợp lệ).") from None


@contextmanager
def _xlsx_sheets(data: bytes) -> Iterator[list[Sheet]]:
    _check_zip(data)
    import openpyxl  # imported here: CSV imports do not need it

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds on a broken file
        logger.info("XLSX rejected: %r", exc)
        raise ReadError(0, "Tệp XLSX bị hỏng hoặc không đọc được.") from None

    def make_rows(sheet_name: str) -> Callable[[], Iterator[tuple[int, Sequence[object]]]]:
        def rows() -> Iterator[tuple[int, Sequence[object]]]:
            number = 0
            try:
                sheet = book[sheet_name]
                sheet.reset_dimensions()  # some writers store a wrong size; read to the end
                iterator = sheet.iter_rows(min_row=1, values_only=True)
            except Exception as exc:
                logger.info("XLSX sheet %r unreadable: %r", sheet_name, exc)
                raise ReadError(0, "Tệp XLSX bị hỏng hoặc không đọc được.") from None
            while True:
                try:
                    values = next(iterator)
                except StopIteration:
                    return
                except Exception as exc:
                    logger.info("XLSX row %d unreadable: %r", number + 1, exc)
                    raise ReadError(number + 1, f"Dòng {number + 1} của tệp XLSX không đọc được.") from None
                number += 1
                yield number, values
        return rows

    try:
        names = list(book.sheetnames)
        if not names:
            raise ReadError(0, "Tệp XLSX không có trang tính nào.")
        yield [Sheet(name=name, rows=make_rows(name)) for name in names]
    finally:
        book.close()
