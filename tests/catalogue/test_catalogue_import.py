"""Loading an office's own list: JSON, CSV and XLSX, good and bad rows."""

from __future__ import annotations

import io
import json
import unicodedata
from pathlib import Path

import pytest
from openpyxl import Workbook

from motcua.catalogue import (
    SAMPLE_PATH,
    Catalogue,
    CatalogueImportError,
    Document,
    days_from_text,
    parse_csv,
    parse_json,
    parse_xlsx,
    procedure_from_dict,
)

GOOD_CSV = """\
ma_thu_tuc,ten_thu_tuc,ma_linh_vuc,ten_linh_vuc,cap_thuc_hien,thanh_phan_ho_so,thoi_han_giai_quyet,so_ngay,phi_le_phi,noi_nop,muc_do_truc_tuyen,can_cu_phap_ly,trinh_tu,ket_qua,ghi_chu,tu_khoa
1.001193,Đăng ký khai sinh,HOTICH,Hộ tịch,xã,"Tờ khai đăng ký khai sinh | 1 | 0; Giấy chứng sinh | 1 | 0 | bản chính do cơ sở y tế cấp; Giấy chứng nhận kết hôn của cha, mẹ | 0 | 0 | xuất trình","Ngay trong ngày tiếp nhận; trường hợp nhận sau 15 giờ thì trả kết quả trong ngày làm việc tiếp theo",0,Miễn lệ phí,Bộ phận Một cửa,toàn trình,"Luật Hộ tịch số 60/2014/QH13; Nghị định số 123/2015/NĐ-CP",Nộp hồ sơ; Kiểm tra; Trả kết quả,Giấy khai sinh,,làm giấy khai sinh
2.000001,Chứng thực chữ ký,chungthuc,Chứng thực,Cấp xã,Giấy tờ cần ký,Theo quy định hiện hành,,10.000 đồng/trường hợp,Bộ phận Một cửa,không,,,,,
TINH.01,Cấp giấy phép xây dựng,XAYDUNG,Xây dựng,tỉnh,"Đơn đề nghị | 1
Bản vẽ thiết kế | 2 | 0 | 02 bộ",15 ngày kể từ ngày nhận đủ hồ sơ hợp lệ,,Theo Nghị quyết của Hội đồng nhân dân tỉnh,,một phần,,,,,
"""


def write(tmp_path: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


# -- CSV ---------------------------------------------------------------------------------------


def test_good_csv_loads_and_searches(tmp_path: Path) -> None:
    cat = Catalogue.from_csv(write(tmp_path, "ds.csv", GOOD_CSV))
    assert len(cat) == 3
    birth = cat.get("1.001193")
    assert birth is not None
    assert birth.documents == [
        Document("Tờ khai đăng ký khai sinh", 1, 0, ""),
        Document("Giấy chứng sinh", 1, 0, "bản chính do cơ sở y tế cấp"),
        Document("Giấy chứng nhận kết hôn của cha, mẹ", 0, 0, "xuất trình"),
    ]
    assert birth.time_limit_days == 0
    assert birth.online == "toàn trình" and birth.level == "xã"
    assert birth.legal_basis == ["Luật Hộ tịch số 60/2014/QH13", "Nghị định số 123/2015/NĐ-CP"]
    assert birth.steps == ["Nộp hồ sơ", "Kiểm tra", "Trả kết quả"]
    assert birth.keywords == ["làm giấy khai sinh"]
    sign = cat.get("2.000001")
    assert sign is not None
    assert sign.field_code == "CHUNGTHUC" and sign.level == "xã" and sign.online == "không"
    assert sign.time_limit_days is None
    # a cell with one item per line (Alt+Enter in Excel)
    permit = cat.get("tinh.01")
    assert permit is not None and permit.level == "tỉnh"
    assert [(d.name, d.original, d.copy) for d in permit.documents] == [
        ("Đơn đề nghị", 1, 0), ("Bản vẽ thiết kế", 2, 0)]
    assert permit.time_limit_days == 15  # read from the text
    assert cat.search("dang ky khai sinh")[0][0] is birth
    assert [f.code for f in cat.fields()] == ["HOTICH", "CHUNGTHUC", "XAYDUNG"]


def test_excel_style_csv_with_bom_semicolons_and_vietnamese_headers() -> None:
    text = (
        "Mã thủ tục;Tên thủ tục;Mã lĩnh vực;Lĩnh vực;Thành phần hồ sơ;Thời hạn;Phí, lệ phí;Ghi chú riêng\r\n"
        "HT-01;Đăng ký kết hôn;HOTICH;Hộ tịch;\"Tờ khai đăng ký kết hôn; Giấy xác nhận tình trạng hôn nhân | 1\";"
        "Ngay trong ngày tiếp nhận;Miễn lệ phí;không dùng\r\n"
    )
    cat = Catalogue.from_csv(b"\xef\xbb\xbf" + text.encode("utf-8"))
    proc = cat.get("HT-01")
    assert proc is not None
    assert proc.name == "Đăng ký kết hôn" and proc.field_name == "Hộ tịch"
    assert [d.name for d in proc.documents] == ["Tờ khai đăng ký kết hôn", "Giấy xác nhận tình trạng hôn nhân"]
    assert proc.fees == "Miễn lệ phí" and proc.time_limit_days == 0
    assert cat.search("DANG KY KET HON")[0][0] is proc


_TONES = {"\u0300", "\u0301", "\u0303", "\u0309", "\u0323"}


def to_cp1258(text: str) -> bytes:
    """Encode as Windows-1258 does: a base letter, then the tone as a combining mark."""
    out = []
    for ch in unicodedata.normalize("NFC", text):
        try:
            out.append(ch.encode("cp1258"))
        except UnicodeEncodeError:
            parts = unicodedata.normalize("NFD", ch)
            base = unicodedata.normalize("NFC", "".join(c for c in parts if c not in _TONES))
            tones = "".join(c for c in parts if c in _TONES)
            out.append(base.encode("cp1258") + tones.encode("cp1258"))
    return b"".join(out)


def test_windows_1258_csv_is_read_and_stored_precomposed() -> None:
    text = "ma_thu_tuc,ten_thu_tuc,ma_linh_vuc,ten_linh_vuc\r\nA1,Đăng ký khai tử,HOTICH,Hộ tịch\r\n"
    raw = to_cp1258(text)
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    cat = Catalogue.from_csv(raw)
    proc = cat.get("A1")
    assert proc is not None
    assert proc.name == "Đăng ký khai tử"  # NFC, whatever the source encoding did
    assert cat.search("khai tu")[0][0] is proc


BAD_CSV = """\
ma_thu_tuc,ten_thu_tuc,ma_linh_vuc,ten_linh_vuc,cap_thuc_hien,thanh_phan_ho_so,so_ngay,muc_do_truc_tuyen
A1,Đăng ký khai sinh,HOTICH,Hộ tịch,xã,Tờ khai | 1 | 0,0,toàn trình
,Thiếu mã,HOTICH,Hộ tịch,,,,
A3,,HOTICH,Hộ tịch,,,,
A4,Sai cấp,HOTICH,Hộ tịch,huyện,,,
A5,Sai số bản,HOTICH,Hộ tịch,,Tờ khai | một | 0,,
A6,Sai số ngày,HOTICH,Hộ tịch,,,ba ngày,
A1,Trùng mã,HOTICH,Hộ tịch,,,,

A9,Sai trực tuyến,HOTICH,Hộ tịch,,,,có lẽ
A10,Mã lĩnh vực có dấu,HỘ TỊCH,Hộ tịch,,,,
A11,Thừa ô,HOTICH,Hộ tịch,,,,,thừa
A12,Số âm,HOTICH,Hộ tịch,,Tờ khai | -1,-2,
"""


def test_bad_rows_are_reported_with_their_row_numbers(tmp_path: Path) -> None:
    procedures, issues = parse_csv(write(tmp_path, "bad.csv", BAD_CSV))
    assert [p.code for p in procedures] == ["A1"]
    by_row: dict[int, list[str]] = {}
    for issue in issues:
        by_row.setdefault(issue.row, []).append(issue.message)
    assert sorted(by_row) == [3, 4, 5, 6, 7, 8, 10, 11, 12, 13]
    assert any("thiếu mã thủ tục" in m for m in by_row[3])
    assert any("thiếu tên thủ tục" in m for m in by_row[4])
    assert any("cấp thực hiện 'huyện'" in m for m in by_row[5])
    assert any("số bản chính 'một' không phải là số nguyên" in m for m in by_row[6])
    assert any("số ngày giải quyết 'ba ngày'" in m for m in by_row[7])
    assert any("trùng với dòng 2" in m for m in by_row[8])
    assert any("mức độ trực tuyến 'có lẽ'" in m for m in by_row[10])
    assert any("mã lĩnh vực" in m for m in by_row[11])
    assert any("ngoài các cột" in m for m in by_row[12])
    assert any("từ 0 đến" in m for m in by_row[13])


def test_any_bad_row_stops_the_whole_import(tmp_path: Path) -> None:
    with pytest.raises(CatalogueImportError) as err:
        Catalogue.from_csv(write(tmp_path, "bad.csv", BAD_CSV))
    assert len(err.value.issues) >= 10
    message = str(err.value)
    assert message.startswith("Danh mục thủ tục có")
    assert "Dòng 3: thiếu mã thủ tục" in message


def test_missing_required_columns_are_named() -> None:
    _, issues = parse_csv("ma_thu_tuc,ten\r\nA,B\r\n".encode())
    assert len(issues) == 1 and issues[0].row == 1
    assert "ma_linh_vuc" in issues[0].message and "ten_linh_vuc" in issues[0].message


def test_empty_and_junk_csv_are_reported_not_raised() -> None:
    assert parse_csv(b"")[1][0].message == "tệp không có dòng tiêu đề"
    _, issues = parse_csv(b"\x00\xff\xfe garbage \x00")
    assert issues and issues[0].row == 1
    _, issues = parse_csv(("ma_thu_tuc,ten_thu_tuc,ma_linh_vuc,ten_linh_vuc\n" + "x" * 10_000).encode())
    assert issues


# -- XLSX -----------------------------------------------------------------------------------------


def test_xlsx_with_the_csv_columns(tmp_path: Path) -> None:
    wb = Workbook()
    ws = wb.active
    ws.append(["Mã thủ tục", "Tên thủ tục", "Mã lĩnh vực", "Tên lĩnh vực", "Thành phần hồ sơ", "Số ngày"])
    ws.append(["HKD-1", "Đăng ký thành lập hộ kinh doanh", "HKD", "Hộ kinh doanh",
               "Giấy đề nghị đăng ký hộ kinh doanh\nBản sao biên bản họp thành viên hộ gia đình | 0 | 1", 3])
    ws.append([None, None, None, None, None, None])
    ws.append(["HKD-2", "Tạm ngừng kinh doanh", "HKD", "Hộ kinh doanh", None, "ba"])
    buf = io.BytesIO()
    wb.save(buf)
    procedures, issues = parse_xlsx(buf.getvalue())
    assert [p.code for p in procedures] == ["HKD-1"]
    assert procedures[0].time_limit_days == 3
    assert procedures[0].documents[1] == Document("Bản sao biên bản họp thành viên hộ gia đình", 0, 1, "")
    assert [(i.row, "số ngày" in i.message) for i in issues] == [(4, True)]
    path = tmp_path / "ds.xlsx"
    path.write_bytes(buf.getvalue())
    with pytest.raises(CatalogueImportError):
        Catalogue.from_xlsx(path)
    assert parse_xlsx(b"not a workbook")[1][0].row == 0


# -- JSON -------------------------------------------------------------------------------------------


def test_json_roundtrip_of_the_sample(tmp_path: Path) -> None:
    sample = Catalogue.load_sample()
    data = {"meta": {"title": "Danh mục xã A"}, "procedures": [p.to_dict() for p in sample]}
    path = tmp_path / "ds.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    again = Catalogue.from_json(path)
    assert list(again) == list(sample)
    assert again.meta == {"title": "Danh mục xã A"}
    for p in sample:
        assert procedure_from_dict(p.to_dict()) == p


def test_json_bare_list_and_bytes() -> None:
    raw = json.dumps([{"code": "X", "name": "Đăng ký giám hộ", "field_code": "hotich",
                       "field_name": "Hộ tịch", "documents": ["Tờ khai đăng ký giám hộ"]}])
    cat = Catalogue.from_json(raw.encode("utf-8"))
    proc = cat.get("X")
    assert proc is not None and proc.field_code == "HOTICH"
    assert proc.documents == [Document("Tờ khai đăng ký giám hộ", 1, 0, "")]


def test_json_errors_name_the_procedure_position() -> None:
    raw = json.dumps({"procedures": [
        {"code": "A", "name": "Một", "field_code": "F", "field_name": "F"},
        {"code": "B", "field_code": "F", "field_name": "F", "documents": [{"name": "", "original": 1}]},
        "không phải đối tượng",
        {"code": "C", "name": "Ba", "field_code": "F", "field_name": "F", "level": "quận",
         "time_limit_days": True},
    ]})
    procedures, issues, _ = parse_json(raw.encode())
    assert [p.code for p in procedures] == ["A"]
    assert {i.row for i in issues} == {2, 3, 4}
    assert parse_json(b"{not json")[1][0].row == 0
    assert "procedures" in parse_json(b'{"meta": {}}')[1][0].message
    with pytest.raises(ValueError, match="thiếu tên thủ tục"):
        procedure_from_dict({"code": "A", "field_code": "F", "field_name": "F"})


def test_sample_file_is_valid_json_marked_as_sample() -> None:
    procedures, issues, meta = parse_json(SAMPLE_PATH)
    assert issues == []
    assert meta["sample"] is True
    assert len(procedures) >= 40
    assert len({p.code for p in procedures}) == len(procedures)


# -- small parsers ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "days"),
    [
        ("Ngay trong ngày tiếp nhận; trường hợp nhận sau 15 giờ thì trả kết quả trong ngày làm việc tiếp theo", 0),
        ("03 ngày làm việc kể từ ngày nhận đủ hồ sơ", 3),
        ("Không quá 02 ngày làm việc", 2),
        ("15 ngày kể từ ngày nhận đủ hồ sơ hợp lệ", 15),
        ("Trong thời hạn 05 ngày làm việc", 5),
        ("Theo quy định hiện hành", None),
        ("Sau khi có kết quả xác minh, 03 ngày làm việc", None),
        ("", None),
    ],
)
def test_days_from_text(text: str, days: float | None) -> None:
    assert days_from_text(text) == days
