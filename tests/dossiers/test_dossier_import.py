import io
import random
import zipfile
from datetime import date

import openpyxl
import pytest

from dossier_samples import HEADER, make_records, to_csv, to_xlsx
from motcua.dossiers.importer import DossierRow, ImportResult, parse_import


def _canonical(rows: list[DossierRow]) -> list[dict]:
    return [{k: v for k, v in row.as_canonical().items()} for row in rows]


def _expected(records: list[dict]) -> list[dict]:
    out = []
    for r in records:
        out.append({
            "ma_ho_so": r["ma_ho_so"], "thu_tuc": r["thu_tuc"], "linh_vuc": r["linh_vuc"],
            "nguoi_nop": r["nguoi_nop"], "ngay_nhan": r["ngay_nhan"], "ngay_hen_tra": r["ngay_hen_tra"],
            "trang_thai": r["trang_thai"], "ma_tra_cuu": r["ma_tra_cuu"], "so_giay_to": None,
            "dien_thoai": None, "ngay_hoan_thanh": None, "ngay_tra": None, "ngay_hen_moi": None,
        })
    return out


def _error_rows(result: ImportResult) -> list[int]:
    return sorted({e["row"] for e in result.errors})


# ---------------------------------------------------------------- whole files

def test_good_csv_of_1000_rows_imports_fully():
    records = make_records(1000)
    result = parse_import(to_csv(records), "ho-so.csv")
    assert result.errors == []
    assert result.ok and result.format == "csv" and result.checked == 1000
    assert [row.row for row in result.rows] == list(range(2, 1002))
    assert _canonical(result.rows) == _expected(records)


def test_same_list_as_xlsx_imports_the_same():
    records = make_records(1000)
    from_csv = parse_import(to_csv(records), "text/csv")
    from_xlsx = parse_import(to_xlsx(records), "ho-so.xlsx")
    assert from_xlsx.errors == [] and from_xlsx.format == "xlsx" and from_xlsx.sheet == "Hồ sơ"
    assert len(from_xlsx.rows) == 1000
    assert from_xlsx.rows == from_csv.rows


def test_xlsx_with_dates_as_text_and_title_rows():
    records = make_records(20)
    data = to_xlsx(records, dates_as_text=True, title_rows=["DANH SÁCH HỒ SƠ", "Quý III/2025"])
    result = parse_import(data, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    assert result.errors == []
    assert result.rows[0].row == 4  # two title rows, header on row 3
    assert _canonical(result.rows) == _expected(records)


def test_1000_rows_with_exactly_three_bad_ones():
    records = make_records(1000)
    records[99]["ma_ho_so"] = "KHONG-PHAI-MA"  # row 101
    records[499]["ngay_nhan"] = "31/02/2025"  # row 501
    records[899]["trang_thai"] = 11  # row 901
    result = parse_import(to_csv(records), "ho-so.csv")
    assert _error_rows(result) == [101, 501, 901]
    assert len(result.errors) == 3
    assert result.rows == [] and not result.ok
    messages = {e["row"]: e["message"] for e in result.errors}
    assert "ma_ho_so" in messages[101] and "KHONG-PHAI-MA" in messages[101]
    assert "ngay_nhan" in messages[501] and "31/02/2025" in messages[501]
    assert "trang_thai" in messages[901] and '"11"' in messages[901]


def test_same_three_bad_rows_in_xlsx():
    records = make_records(1000)
    records[99]["ma_ho_so"] = "KHONG-PHAI-MA"
    records[499]["ngay_nhan"] = "31/02/2025"
    records[899]["trang_thai"] = 11
    result = parse_import(to_xlsx(records), "ho-so.xlsx")
    assert _error_rows(result) == [101, 501, 901] and result.rows == []


def test_bom_is_ignored():
    records = make_records(5)
    result = parse_import(to_csv(records, bom=True), "ho-so.csv")
    assert result.errors == [] and _canonical(result.rows) == _expected(records)


def test_semicolon_delimiter_is_sniffed():
    records = make_records(50)
    result = parse_import(to_csv(records, delimiter=";", bom=True), "ho-so.csv")
    assert result.errors == [] and _canonical(result.rows) == _expected(records)


def test_tab_delimited_utf16_from_excel_unicode_text():
    records = make_records(5)
    data = to_csv(records, delimiter="\t", encoding="utf-16")
    result = parse_import(data, "ho-so.txt")
    assert result.errors == [] and _canonical(result.rows) == _expected(records)


def test_column_mapping_reads_other_layouts():
    records = make_records(30)
    file_headers = ["Số hồ sơ", "Tên thủ tục", "Lĩnh vực", "Người đứng tên", "Ngày tiếp nhận",
                    "Hẹn trả", "Mã trạng thái", "Mã bí mật"]
    mapping = dict(zip(HEADER, file_headers))
    # other column order, too
    order = [5, 0, 2, 1, 7, 3, 4, 6]
    columns = [HEADER[i] for i in order]
    headers = [file_headers[i] for i in order]
    result = parse_import(to_csv(records, columns=columns, header=headers), "x.csv", mapping=mapping)
    assert result.errors == [] and _canonical(result.rows) == _expected(records)
    xlsx = parse_import(to_xlsx(records, columns=columns, header=headers), "x.xlsx", mapping=mapping)
    assert xlsx.errors == [] and xlsx.rows == result.rows


def test_vietnamese_headers_found_without_mapping():
    records = make_records(3)
    headers = ["Mã hồ sơ", "Thủ tục", "Lĩnh vực", "Người nộp", "Ngày nhận", "Ngày hẹn trả", "Trạng thái", "Mã tra cứu"]
    result = parse_import(to_csv(records, header=headers), "x.csv")
    assert result.errors == [] and len(result.rows) == 3


def test_mapped_header_missing_is_one_error_naming_it():
    records = make_records(3)
    result = parse_import(to_csv(records), "x.csv", mapping={"ngay_hen_tra": "Hẹn trả"})
    assert len(result.errors) == 1
    assert result.errors[0]["row"] == 1
    assert "Hẹn trả" in result.errors[0]["message"] and "ngay_hen_tra" in result.errors[0]["message"]


def test_bad_mapping_is_reported_not_raised():
    result = parse_import(to_csv(make_records(2)), "x.csv", mapping={"ma_hoso": "Số HS"})
    assert len(result.errors) == 1 and "ma_hoso" in result.errors[0]["message"]


def test_missing_column_is_one_error_naming_it():
    records = make_records(100)
    columns = [c for c in HEADER if c != "ngay_hen_tra"]
    result = parse_import(to_csv(records, columns=columns), "x.csv")
    assert result.errors == [{"row": 1, "message": "Thiếu cột bắt buộc ngay_hen_tra (ngày hẹn trả) trong dòng tiêu đề."}]


def test_lookup_secret_column_is_optional():
    records = make_records(4)
    columns = [c for c in HEADER if c != "ma_tra_cuu"]
    result = parse_import(to_csv(records, columns=columns), "x.csv")
    assert result.errors == [] and all(row.lookup_secret is None for row in result.rows)


def test_column_present_twice():
    data = (",".join(HEADER + ["ma_ho_so"]) + "\n").encode() + to_csv(make_records(1)).split(b"\r\n", 1)[1]
    result = parse_import(data, "x.csv")
    assert len(result.errors) == 1 and "nhiều lần" in result.errors[0]["message"]
    assert "A, I" in result.errors[0]["message"]


def test_blank_lines_are_skipped_but_keep_spreadsheet_numbering():
    records = make_records(3)
    lines = to_csv(records).split(b"\r\n")
    data = b"\r\n".join(lines[:2] + [b"", b",,,,,,,"] + lines[2:])
    result = parse_import(data, "x.csv")
    assert result.errors == []
    assert [row.row for row in result.rows] == [2, 5, 6]


# ---------------------------------------------------------------- rows

def _one(record_changes: dict, **kwargs) -> ImportResult:
    record = make_records(1)[0]
    record.update(record_changes)
    columns = HEADER + [k for k in record_changes if k not in HEADER]
    return parse_import(to_csv([record], columns=columns), "x.csv", **kwargs)


@pytest.mark.parametrize(
    "changes, column, words",
    [
        ({"ma_ho_so": ""}, "ma_ho_so", "thiếu mã hồ sơ"),
        ({"ma_ho_so": "000.17.22.H56-250230-0001"}, "ma_ho_so", "không phải ngày có thật"),
        ({"ngay_nhan": "2025/07/01"}, "ngay_nhan", "dd/mm/yyyy"),
        ({"ngay_nhan": "32/07/2025"}, "ngay_nhan", "không phải ngày có thật"),
        ({"ngay_nhan": "01/07/1925"}, "ngay_nhan", "2000"),
        ({"ngay_hen_tra": ""}, "ngay_hen_tra", "thiếu ngày hẹn trả"),
        ({"ngay_nhan": date(2025, 7, 10), "ngay_hen_tra": date(2025, 7, 9)}, "ngay_hen_tra", "trước ngày nhận"),
        ({"trang_thai": "0"}, "trang_thai", "từ 1 đến 10"),
        ({"trang_thai": "4.5"}, "trang_thai", "từ 1 đến 10"),
        ({"trang_thai": ""}, "trang_thai", "thiếu trạng thái"),
        ({"nguoi_nop": "A" * 201}, "nguoi_nop", "tối đa 200"),
        ({"nguoi_nop": ""}, "nguoi_nop", "thiếu tên người nộp"),
        ({"linh_vuc": "Đ" * 201}, "linh_vuc", "tối đa 200"),
        ({"thu_tuc": "x" * 501}, "thu_tuc", "tối đa 500"),
        ({"ma_tra_cuu": "AB1"}, "ma_tra_cuu", "4–32"),
        ({"ma_tra_cuu": "A" * 33}, "ma_tra_cuu", "4–32"),
        ({"ma_tra_cuu": "AB 12"}, "ma_tra_cuu", "4–32"),
        ({"ma_tra_cuu": "mãtracứu"}, "ma_tra_cuu", "4–32"),
        ({"so_giay_to": "12-ab!"}, "so_giay_to", "không hợp lệ"),
        ({"dien_thoai": "call me"}, "dien_thoai", "không hợp lệ"),
        ({"ngay_hoan_thanh": "01/01/2025"}, "ngay_hoan_thanh", "trước ngày nhận"),
        ({"nguoi_nop": "Lê\x07An"}, "nguoi_nop", "ký tự điều khiển"),
    ],
)
def test_row_errors_name_the_column(changes, column, words):
    result = _one(changes)
    assert _error_rows(result) == [2], result.errors
    message = result.errors[0]["message"]
    assert f"Cột {column}" in message and words in message, message


def test_bad_values_are_quoted_short_and_safe():
    result = _one({"ma_ho_so": "<script>" + "X" * 5000 + "\x1b[2J"})
    message = result.errors[0]["message"]
    assert len(message) < 300 and "…" in message and "\x1b" not in message


def test_id_number_is_not_echoed_whole():
    result = _one({"so_giay_to": "0010900123!45"})
    assert "0010900123" not in result.errors[0]["message"]


def test_duplicate_codes_name_both_rows():
    records = make_records(10)
    records[7]["ma_ho_so"] = records[2]["ma_ho_so"].lower()
    result = parse_import(to_csv(records), "x.csv")
    assert _error_rows(result) == [9]
    assert "trùng với dòng 4" in result.errors[0]["message"]


def test_known_fields_match_with_or_without_accents():
    known = {"Đất đai", "Hộ tịch", "Chứng thực"}
    ok = _one({"linh_vuc": "dat  DAI"}, known_fields=known)
    assert ok.errors == [] and ok.rows[0].field == "Đất đai"
    bad = _one({"linh_vuc": "Thuế"}, known_fields=known)
    assert _error_rows(bad) == [2] and '"Thuế"' in bad.errors[0]["message"]


def test_optional_columns():
    result = _one({
        "trang_thai": 10, "so_giay_to": "001 090 012 345", "dien_thoai": "0912.345.678",
        "ngay_nhan": date(2025, 7, 1), "ngay_hen_tra": date(2025, 7, 10),
        "ngay_hoan_thanh": date(2025, 7, 9), "ngay_tra": date(2025, 7, 11), "ngay_hen_moi": "",
    })
    assert result.errors == []
    row = result.rows[0]
    assert (row.id_number, row.phone) == ("001090012345", "0912345678")
    assert (row.finished_at, row.returned_at, row.new_due_at) == (date(2025, 7, 9), date(2025, 7, 11), None)


def test_cccd_alias_and_returned_date_as_finish():
    result = _one({"cccd": "079123456789", "trang_thai": 10, "ngay_nhan": date(2025, 7, 1),
                   "ngay_hen_tra": date(2025, 7, 3), "ngay_tra": date(2025, 7, 2)})
    assert result.errors == []
    assert result.rows[0].id_number == "079123456789" and result.rows[0].finished_at == date(2025, 7, 2)


def test_finish_date_on_unfinished_status_is_a_warning_and_ignored():
    result = _one({"trang_thai": 4, "ngay_nhan": date(2025, 7, 1), "ngay_hen_tra": date(2025, 7, 3),
                   "ngay_hoan_thanh": date(2025, 7, 2)})
    assert result.errors == [] and result.rows[0].finished_at is None
    assert result.warnings and result.warnings[0]["row"] == 2


def test_xlsx_numbers_lose_leading_zeros_and_are_restored():
    record = make_records(1)[0]
    record.update(so_giay_to=1090012345, dien_thoai=912345678, ma_tra_cuu=123456, trang_thai=9.0)
    columns = HEADER + ["so_giay_to", "dien_thoai"]
    result = parse_import(to_xlsx([record], columns=columns), "x.xlsx")
    assert result.errors == []
    row = result.rows[0]
    assert (row.id_number, row.phone, row.lookup_secret, row.status) == ("001090012345", "0912345678", "123456", 9)


def test_xlsx_serial_number_dates():
    record = make_records(1)[0]
    record.update(ngay_nhan=45839, ngay_hen_tra=45840)  # 2025-07-01, 2025-07-02 typed as numbers
    record["ma_ho_so"] = "H56-250701-0001"
    result = parse_import(to_xlsx([record]), "x.xlsx")
    assert result.errors == []
    assert (result.rows[0].received_at, result.rows[0].due_at) == (date(2025, 7, 1), date(2025, 7, 2))


def test_code_date_differing_from_received_date_is_a_warning():
    result = _one({"ma_ho_so": "H56-250101-0001", "ngay_nhan": date(2025, 1, 2), "ngay_hen_tra": date(2025, 1, 5)})
    assert result.errors == [] and "khác ngày nhận" in result.warnings[0]["message"]


def test_too_many_rows():
    result = parse_import(to_csv(make_records(10)), "x.csv", max_rows=5)
    assert len(result.errors) == 1 and "tối đa 5" in result.errors[0]["message"] and result.rows == []


def test_error_list_is_capped():
    records = make_records(50)
    for r in records:
        r["trang_thai"] = 99
    result = parse_import(to_csv(records), "x.csv", max_errors=10)
    assert len(result.errors) == 11 and "40 lỗi khác" in result.errors[-1]["message"]


# ---------------------------------------------------------------- bad bytes

def _single_file_error(result: ImportResult) -> str:
    assert result.rows == [] and len(result.errors) == 1, result.errors
    return result.errors[0]["message"]


def test_non_utf8_csv_is_one_clear_error():
    text = (
        "ma_ho_so,thu_tuc,linh_vuc,nguoi_nop,ngay_nhan,ngay_hen_tra,trang_thai\n"
        "H56-250701-0001,Khai sinh,Hà,Đào Văn Hà,01/07/2025,02/07/2025,4\n"
    )
    legacy = text.encode("cp1258")  # what an old Vietnamese Windows setup saves
    message = _single_file_error(parse_import(legacy, "x.csv"))
    assert "UTF-8" in message and "dòng 2" in message
    assert parse_import(text.encode("utf-8"), "x.csv").errors == []


@pytest.mark.parametrize(
    "data, hint, words",
    [
        (b"", "x.csv", "trống"),
        (b"   \r\n\r\n", "x.csv", "trống"),
        (b"PK\x03\x04" + b"\x00" * 100, "x.xlsx", "hỏng"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600, "x.xls", ".xls"),
        (b"%PDF-1.7\n...", "x.pdf", "PDF"),
        (b"ma_ho_so,thu_tuc\n", "x.xlsx", "không phải bảng tính XLSX"),
    ],
)
def test_bad_files_give_a_clear_error(data, hint, words):
    assert words in _single_file_error(parse_import(data, hint))


def test_zip_that_is_not_xlsx():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("readme.txt", "xin chào")
    assert "không phải bảng tính XLSX" in _single_file_error(parse_import(out.getvalue(), "x.xlsx"))


def test_xlsx_with_broken_sheet_xml():
    good = to_xlsx(make_records(3))
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(good)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            body = src.read(info)
            if info.filename.startswith("xl/worksheets/"):
                body = body[: len(body) // 2]
            dst.writestr(info, body)
    result = parse_import(out.getvalue(), "x.xlsx")
    assert result.rows == [] and result.errors


def test_header_only_files():
    header = ",".join(HEADER).encode() + b"\r\n"
    message = _single_file_error(parse_import(header, "x.csv"))
    assert "không có dòng dữ liệu" in message
    book = openpyxl.Workbook()
    book.active.append(HEADER)
    out = io.BytesIO()
    book.save(out)
    assert "không có dòng dữ liệu" in _single_file_error(parse_import(out.getvalue(), "x.xlsx"))


def test_empty_xlsx():
    out = io.BytesIO()
    openpyxl.Workbook().save(out)
    assert "không có dữ liệu" in _single_file_error(parse_import(out.getvalue(), "x.xlsx"))


@pytest.mark.parametrize("seed", range(25))
def test_random_bytes_never_raise(seed):
    rng = random.Random(seed)
    size = rng.choice([1, 10, 500, 5000])
    data = bytes(rng.randrange(256) for _ in range(size))
    if seed % 5 == 0:
        data = b"PK\x03\x04" + data
    result = parse_import(data, rng.choice(["x.csv", "x.xlsx", "", "application/octet-stream"]))
    assert result.rows == [] and result.errors
    assert all(isinstance(e["row"], int) and e["message"] for e in result.errors)


def test_random_text_gives_missing_columns():
    result = parse_import("xin chào\nthế giới\n".encode(), "x.csv")
    assert result.rows == [] and any("ma_ho_so" in e["message"] for e in result.errors)


def test_giant_csv_field_is_an_error_not_an_exception():
    data = (",".join(HEADER) + "\n" + '"' + "x" * 300_000 + '",a\n').encode()
    result = parse_import(data, "x.csv")
    assert result.rows == [] and result.errors


def test_lookup_secret_is_not_echoed():
    result = _one({"ma_tra_cuu": "SECRET-123"})
    assert "SECRET" not in result.errors[0]["message"]


def test_validate_mapping_for_config_checks():
    from motcua.dossiers.columns import validate_mapping

    assert validate_mapping({"ma_ho_so": "Số hồ sơ"}) == []
    problems = validate_mapping({"ma_ho_so": "", "ten": "Tên"})
    assert len(problems) == 2 and any('"ten"' in p for p in problems)


def test_csv_title_line_above_header():
    records = make_records(3)
    data = "DANH SÁCH HỒ SƠ QUÝ III\r\n".encode() + to_csv(records)
    result = parse_import(data, "x.csv")
    assert result.errors == [] and [row.row for row in result.rows] == [3, 4, 5]
