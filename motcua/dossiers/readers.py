"""Turning uploaded bytes into rows of cell values (CSV or XLSX), with row numbers as a
person sees them in a spreadsheet (first line = row 1).

Nothing here raises anything but `ReadError` (a Vietnamese message and a row number,
0 meaning the file as a whole).

A CSV is read as a stream: its bytes are decoded a piece at a time and no row is held
longer than MAX_ROW_CHARS, so a file made of one enormous row (or one enormous quoted cell)
is refused at that row without ever being split into millions of cells. A cell longer than
MAX_FIELD_CHARS is refused too (`bounded_csv_rows`, also used by the procedure catalogue).
"""

from __future__ import annotations

import codecs
import csv
import io
import logging
import re
import warnings
import zipfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Callable

from .text import shown

__all__ = ["MAX_FIELD_CHARS", "MAX_ROW_CHARS", "ReadError", "Sheet", "StrLines", "bounded_csv_rows",
           "detect_format", "read_sheets"]

logger = logging.getLogger(__name__)

#: Largest total uncompressed size of an XLSX archive we agree to open (zip bombs).
MAX_XLSX_UNCOMPRESSED = 512 * 1024 * 1024
MAX_XLSX_ENTRIES = 5_000
#: Bytes of the text looked at to choose the CSV delimiter.
SNIFF_CHARS = 64 * 1024
DELIMITERS = (",", ";", "\t")
#: Longest cell and longest row (new lines of quoted cells included) of a CSV, in characters.
MAX_FIELD_CHARS = 4_000
MAX_ROW_CHARS = 64 * 1024
#: Bytes decoded at a time when checking a CSV's encoding.
DECODE_CHUNK = 256 * 1024

_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_SAVE_AS_HINT = "Hãy mở tệp bằng Excel và lưu thành .xlsx hoặc “CSV UTF-8 (phân tách bằng dấu phẩy)”."


class ReadError(Exception):
    def __init__(self, row: int, message: str, detail: str = "") -> None:
        super().__init__(message)
        self.row = row
        self.message = message
        self.detail = detail or message  # the message without "Dòng N của tệp CSV"


@dataclass
class Sheet:
    name: str
    rows: Callable[[], Iterator[tuple[int, Sequence[object]]]]  # fresh iterator each call


def _hint_says_xlsx(hint: str) -> bool:
    hint = (hint or "").lower()
    return hint.endswith(".xlsx") or hint.endswith(".xlsm") or "spreadsheetml" in hint


def detect_format(data: bytes, hint: str) -> str:
    """"xlsx" or "csv", from the bytes first and the file name / content type second."""
    if not data or data.isspace():  # (not data.strip(): that copies the whole upload)
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

def _encoding(data: bytes) -> str:
    if data.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    return "utf-8"


def _check_encoding(data: bytes, encoding: str) -> None:
    """Decode the whole file a piece at a time (nothing kept): a clear error naming the
    line of the first bad byte, or of an empty file."""
    decoder = codecs.getincrementaldecoder(encoding)()
    lines = 0
    blank = True
    for start in range(0, len(data), DECODE_CHUNK):
        piece = data[start:start + DECODE_CHUNK]
        try:
            text = decoder.decode(piece, final=start + DECODE_CHUNK >= len(data))
        except UnicodeDecodeError as exc:
            if encoding == "utf-16":
                raise ReadError(0, "Tệp UTF-16 bị hỏng. " + _SAVE_AS_HINT) from None
            line = lines + piece[: max(0, exc.start)].count(b"\n") + 1
            raise ReadError(
                line,
                f"Tệp CSV không được mã hoá UTF-8 (gặp byte không hợp lệ ở dòng {line}); có thể tệp "
                "đang dùng bảng mã Windows-1258 hoặc TCVN3. " + _SAVE_AS_HINT,
            ) from None
        lines += piece.count(b"\n")
        if blank and text.strip():
            blank = False
    if blank:
        raise ReadError(0, "Tệp trống, không có dữ liệu.")


def _text_stream(data: bytes, encoding: str) -> io.TextIOWrapper:
    return io.TextIOWrapper(io.BytesIO(data), encoding=encoding, newline="")


def _choose_delimiter(sample: str) -> str:
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


class _RowLines:
    """The lines of a text stream for csv.reader, never more than max_row characters for
    one row (a quoted cell may span several lines; `start_row` marks where a row begins)."""

    def __init__(self, stream: io.TextIOBase | StrLines, max_row: int) -> None:
        self.stream = stream
        self.max_row = max_row
        self.used = 0
        self.row = 1

    def start_row(self, number: int) -> None:
        self.row = number
        self.used = 0

    def __iter__(self) -> "_RowLines":
        return self

    def __next__(self) -> str:
        line = self.stream.readline(self.max_row - self.used + 1)
        if not line:
            raise StopIteration
        self.used += len(line)
        if self.used > self.max_row:
            detail = (f"quá dài (hơn {_n(self.max_row)} ký tự): có thể thiếu dấu ngoặc kép đóng ô "
                      "hoặc tệp không phải danh sách dạng bảng")
            raise ReadError(self.row, f"Dòng {self.row} của tệp CSV {detail}.", detail)
        return line


class StrLines:
    """`readline(limit)` over a str already in memory, lines ending in \\n, \\r\\n or \\r like a
    stream opened with newline="" (io.StringIO would copy the text at 4 bytes a character)."""

    _LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)?")

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def readline(self, limit: int = -1) -> str:
        end = len(self.text) if limit < 0 else min(len(self.text), self.pos + limit)
        m = self._LINE.match(self.text, self.pos, end)
        line = m.group() if m else ""
        self.pos += len(line)
        return line


def _n(value: int) -> str:
    return f"{value:,}".replace(",", ".")


def bounded_csv_rows(
    stream: io.TextIOBase | StrLines, delimiter: str, *, max_field: int = MAX_FIELD_CHARS, max_row: int = MAX_ROW_CHARS,
) -> Iterator[tuple[int, list[str]]]:
    """(row number, cells) of a CSV text stream opened with newline="" (or `StrLines`), read one bounded row
    at a time; ReadError naming the row for a row over *max_row* characters, a cell over
    *max_field* characters, or a row the csv module cannot read."""
    lines = _RowLines(stream, max_row)
    reader = csv.reader(lines, delimiter=delimiter)
    number = 0
    while True:
        lines.start_row(number + 1)
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise ReadError(number + 1, f"Dòng {number + 1} của tệp CSV không đọc được ({exc}).",
                            f"không đọc được ({exc})") from None
        number += 1
        for cell in row:
            if len(cell) > max_field:
                detail = f"có một ô dài {_n(len(cell))} ký tự (tối đa {_n(max_field)}): {shown(cell)}"
                raise ReadError(number, f"Dòng {number} của tệp CSV {detail}.", detail)
        yield number, row


def _csv_sheet(data: bytes) -> Sheet:
    encoding = _encoding(data)
    _check_encoding(data, encoding)
    with _text_stream(data, encoding) as head:
        delimiter = _choose_delimiter(head.read(SNIFF_CHARS))

    def rows() -> Iterator[tuple[int, Sequence[object]]]:
        with _text_stream(data, encoding) as stream:
            yield from bounded_csv_rows(stream, delimiter)

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
