from datetime import date

import pytest

from motcua.dossiers.codes import (
    DossierCode,
    extract_code,
    is_dossier_code,
    normalise_code,
    parse_dossier_code,
)

CODE = "000.17.22.H56-210531-0001"


def test_parses_documented_example():
    parsed = parse_dossier_code(CODE)
    assert parsed == DossierCode(org="000.17.22.H56", received_date=date(2021, 5, 31), seq=1, text=CODE)
    assert str(parsed) == CODE


@pytest.mark.parametrize(
    "text, org, day, seq",
    [
        ("000.302.36.H05-250702-0012", "000.302.36.H05", date(2025, 7, 2), 12),
        ("H56-240229-0001", "H56", date(2024, 2, 29), 1),
        ("000.00.12.G22-251231-12345", "000.00.12.G22", date(2025, 12, 31), 12345),
        ("1.2.3.4.5.6.ABC-200101-9999", "1.2.3.4.5.6.ABC", date(2020, 1, 1), 9999),
    ],
)
def test_agency_codes_of_any_length_split_from_the_right(text, org, day, seq):
    parsed = parse_dossier_code(text)
    assert (parsed.org, parsed.received_date, parsed.seq) == (org, day, seq)


def test_normalises_case_spaces_and_dashes():
    assert normalise_code("  000.17.22.h56-210531-0001\n") == CODE
    assert parse_dossier_code("000.17.22.h56 – 210531 – 0001").text == CODE
    # full-width digits typed through an IME
    assert parse_dossier_code("０００.17.22.H56-210531-0001").text == CODE


@pytest.mark.parametrize(
    "text, words",
    [
        ("000.17.22.H56-210230-0001", "không phải ngày có thật"),
        ("000.17.22.H56-230229-0001", "không phải ngày có thật"),  # 2023 is not a leap year
        ("000.17.22.H56-211301-0001", "không phải ngày có thật"),
        ("000.17.22.H56-210500-0001", "không phải ngày có thật"),
        ("000.17.22.H56-210531-001", "ít nhất 4 chữ số"),
        ("000.17.22.H56-210531-0000", "lớn hơn 0"),
        ("000.17.22.H56-21053-0001", "6 chữ số"),
        ("000.17.22.H56-2105310001", "không đúng dạng"),
        ("-210531-0001", "không đúng dạng"),
        ("000..22.H56-210531-0001", "mã cơ quan"),
        (".H56-210531-0001", "mã cơ quan"),
        ("ĐN56-210531-0001", "mã cơ quan"),
        ("000/17-210531-0001", "mã cơ quan"),
        ("", "trống"),
        ("   ", "trống"),
        ("X" * 10_000, "quá dài"),
    ],
)
def test_rejects_with_vietnamese_message(text, words):
    with pytest.raises(ValueError) as info:
        parse_dossier_code(text)
    assert words in str(info.value)
    assert not is_dossier_code(text)


def test_error_message_quotes_value_truncated():
    with pytest.raises(ValueError) as info:
        parse_dossier_code("A" * 60 + "-1")
    message = str(info.value)
    assert "…" in message and len(message) < 200


@pytest.mark.parametrize(
    "scanned",
    [
        CODE,
        f"  {CODE}\r\n",
        f"\x02{CODE}\x03",
        f"\ufeff{CODE}\t",
        CODE.lower(),
        f"]C0{CODE}",
        f"https://dichvucong.example.vn/tra-cuu?MHS={CODE}",
        f"https://dichvucong.example.vn/tra-cuu?mhs={CODE}&lang=vi",
        f"https://motcua.example.vn/hoso?foo=1&MaHoSo={CODE}",
        f"http://example.vn/lookup?ma_ho_so={CODE.replace('-', '%2D').replace('.', '%2E')}",
        f"https://example.vn/x?code={CODE}",
        f"https://example.vn/search?q={CODE}",
        f"https://example.vn/tra-cuu/{CODE}",
        f"https://example.vn/tra-cuu/{CODE}/",
        f"https://example.vn/#/tra-cuu?maHoSo={CODE}",
        f"example.vn/tra-cuu?MHS={CODE}",
        f"MHS: {CODE}",
        f"Mã hồ sơ: {CODE}; Ngày hẹn: 03/06/2021",
    ],
)
def test_extracts_code_from_what_scanners_read(scanned):
    assert extract_code(scanned) == CODE


@pytest.mark.parametrize(
    "scanned",
    [
        "",
        "   \r\n",
        "hello world",
        "https://example.vn/tra-cuu?MHS=abc",
        "https://example.vn/tra-cuu?id=7f3a9c2e-41d0-4b1e",  # an opaque id
        "https://example.vn/tra-cuu?MHS=000.17.22.H56-210230-0001",  # 30 February
        "000.17.22.H56-210230-0001",
        "X" * 10_000,
        CODE + " " + "x" * 10_000,
        f"https://example.vn/tra-cuu?MHS={CODE}&pad=" + "a" * 200,  # longer than 200 chars
        f"000.17.22.H56-2105\x0031-0001",  # NUL inside
        f"{CODE[:10]}\x1b[2J{CODE[10:]}",  # terminal escape inside
        f"../{CODE}",
        f"https://example.vn/a/../{CODE}",
        f"https://example.vn/a/%2e%2e/{CODE}",
        f"https://example.vn/a/%252e%252e/{CODE}",
        f"https://example.vn/tra-cuu?MHS=..%2F..%2F{CODE}",
        f"..\\..\\{CODE}",
        f"https://example.vn/./{CODE}",
        f"{CODE} {CODE.replace('0001', '0002')}",  # two different codes: ambiguous
    ],
)
def test_refuses_garbage_long_and_tricky_input(scanned):
    assert extract_code(scanned) is None


def test_refuses_non_strings():
    assert extract_code(None) is None  # type: ignore[arg-type]
    assert extract_code(CODE.encode()) is None  # type: ignore[arg-type]


def test_extracted_code_always_parses():
    for scanned in (CODE, f"https://x.vn/?MHS={CODE.lower()}", f"https://x.vn/h/{CODE}"):
        found = extract_code(scanned)
        assert found is not None
        assert parse_dossier_code(found).text == found
