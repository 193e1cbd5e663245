"""Vietnamese number reading: hand-checked tables and properties over 0..99 999."""
from __future__ import annotations

import re

import pytest

from motcua.speech import NumberStyle, digits_to_words, number_to_words, ticket_number_words
from motcua.speech.numbers_vi import NUMBER_VOCABULARY, split_ticket_number

# Hand-checked formal (Northern) readings, default options: "tư" after mươi, "linh", "nghìn".
KNOWN = {
    0: "không",
    1: "một",
    2: "hai",
    3: "ba",
    4: "bốn",
    5: "năm",
    6: "sáu",
    7: "bảy",
    8: "tám",
    9: "chín",
    10: "mười",
    11: "mười một",
    12: "mười hai",
    14: "mười bốn",
    15: "mười lăm",
    19: "mười chín",
    20: "hai mươi",
    21: "hai mươi mốt",
    22: "hai mươi hai",
    24: "hai mươi tư",
    25: "hai mươi lăm",
    30: "ba mươi",
    31: "ba mươi mốt",
    44: "bốn mươi tư",
    45: "bốn mươi lăm",
    50: "năm mươi",
    55: "năm mươi lăm",
    91: "chín mươi mốt",
    99: "chín mươi chín",
    100: "một trăm",
    101: "một trăm linh một",
    104: "một trăm linh bốn",
    105: "một trăm linh năm",
    110: "một trăm mười",
    111: "một trăm mười một",
    114: "một trăm mười bốn",
    115: "một trăm mười lăm",
    120: "một trăm hai mươi",
    121: "một trăm hai mươi mốt",
    124: "một trăm hai mươi tư",
    125: "một trăm hai mươi lăm",
    200: "hai trăm",
    305: "ba trăm linh năm",
    515: "năm trăm mười lăm",
    999: "chín trăm chín mươi chín",
    1000: "một nghìn",
    1001: "một nghìn không trăm linh một",
    1004: "một nghìn không trăm linh bốn",
    1005: "một nghìn không trăm linh năm",
    1010: "một nghìn không trăm mười",
    1011: "một nghìn không trăm mười một",
    1014: "một nghìn không trăm mười bốn",
    1015: "một nghìn không trăm mười lăm",
    1020: "một nghìn không trăm hai mươi",
    1021: "một nghìn không trăm hai mươi mốt",
    1024: "một nghìn không trăm hai mươi tư",
    1025: "một nghìn không trăm hai mươi lăm",
    1050: "một nghìn không trăm năm mươi",
    1100: "một nghìn một trăm",
    1105: "một nghìn một trăm linh năm",
    1115: "một nghìn một trăm mười lăm",
    1500: "một nghìn năm trăm",
    1999: "một nghìn chín trăm chín mươi chín",
    2000: "hai nghìn",
    2001: "hai nghìn không trăm linh một",
    2024: "hai nghìn không trăm hai mươi tư",
    2025: "hai nghìn không trăm hai mươi lăm",
    3015: "ba nghìn không trăm mười lăm",
    5555: "năm nghìn năm trăm năm mươi lăm",
    9009: "chín nghìn không trăm linh chín",
    10000: "mười nghìn",
    10001: "mười nghìn không trăm linh một",
    10005: "mười nghìn không trăm linh năm",
    10010: "mười nghìn không trăm mười",
    10105: "mười nghìn một trăm linh năm",
    11000: "mười một nghìn",
    14000: "mười bốn nghìn",
    15000: "mười lăm nghìn",
    15015: "mười lăm nghìn không trăm mười lăm",
    20000: "hai mươi nghìn",
    21000: "hai mươi mốt nghìn",
    21021: "hai mươi mốt nghìn không trăm hai mươi mốt",
    24024: "hai mươi tư nghìn không trăm hai mươi tư",
    25005: "hai mươi lăm nghìn không trăm linh năm",
    50505: "năm mươi nghìn năm trăm linh năm",
    100000: "một trăm nghìn",
    105000: "một trăm linh năm nghìn",
    99999: "chín mươi chín nghìn chín trăm chín mươi chín",
}

BIG = {
    1_000_000: "một triệu",
    1_000_001: "một triệu không trăm linh một",
    1_000_500: "một triệu năm trăm",
    1_001_000: "một triệu không trăm linh một nghìn",
    1_010_015: "một triệu không trăm mười nghìn không trăm mười lăm",
    21_000_000: "hai mươi mốt triệu",
    999_999_999: "chín trăm chín mươi chín triệu chín trăm chín mươi chín nghìn chín trăm chín mươi chín",
    1_000_000_000: "một tỷ",
    2_000_000_024: "hai tỷ không trăm hai mươi tư",
    1_234_567_891: "một tỷ hai trăm ba mươi tư triệu năm trăm sáu mươi bảy nghìn tám trăm chín mươi mốt",
}


def test_table_is_large_enough() -> None:
    assert len(KNOWN) >= 60


@pytest.mark.parametrize("n,expected", sorted(KNOWN.items()))
def test_known_readings(n: int, expected: str) -> None:
    assert number_to_words(n) == expected


@pytest.mark.parametrize("n,expected", sorted(BIG.items()))
def test_millions_and_billions(n: int, expected: str) -> None:
    assert number_to_words(n) == expected


def test_bon_instead_of_tu() -> None:
    assert number_to_words(24, tu_for_four=False) == "hai mươi bốn"
    assert number_to_words(2024, tu_for_four=False) == "hai nghìn không trăm hai mươi bốn"
    assert number_to_words(14, tu_for_four=False) == "mười bốn"


def test_le_instead_of_linh() -> None:
    assert number_to_words(105, linh_or_le="lẻ") == "một trăm lẻ năm"
    assert number_to_words(1005, linh_or_le="lẻ") == "một nghìn không trăm lẻ năm"
    assert number_to_words(1010, linh_or_le="lẻ") == "một nghìn không trăm mười"


def test_ngan_instead_of_nghin() -> None:
    assert number_to_words(1005, thousand="ngàn") == "một ngàn không trăm linh năm"
    assert number_to_words(15000, thousand="ngàn") == "mười lăm ngàn"


def test_reading_empty_groups() -> None:
    assert number_to_words(1_000_001, read_empty_groups=True) == "một triệu không nghìn không trăm linh một"
    assert number_to_words(1_000_000, read_empty_groups=True) == "một triệu"
    assert number_to_words(1_000_500, read_empty_groups=True) == "một triệu không nghìn năm trăm"
    # Nothing changes below a million: there is no group to leave empty.
    for n in (1005, 10005, 99999):
        assert number_to_words(n, read_empty_groups=True) == number_to_words(n)


def test_bad_numbers_and_options() -> None:
    with pytest.raises(ValueError, match="ngoài khoảng"):
        number_to_words(-1)
    with pytest.raises(ValueError):
        number_to_words(10**12)
    with pytest.raises(TypeError):
        number_to_words("15")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        number_to_words(True)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="linh"):
        NumberStyle(linh_or_le="linhh")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="nghìn"):
        NumberStyle(thousand="ngin")  # type: ignore[arg-type]


ALL = [(n, number_to_words(n)) for n in range(100_000)]


def test_every_reading_is_clean_and_in_vocabulary() -> None:
    for n, text in ALL:
        assert text == text.strip() and "  " not in text, (n, text)
        words = text.split(" ")
        assert set(words) <= NUMBER_VOCABULARY, (n, text)


def test_mot_tu_lam_only_where_they_belong() -> None:
    for n, text in ALL:
        words = text.split(" ")
        assert words[0] != "lăm", (n, text)
        for prev, word in zip(words, words[1:]):
            if word == "mốt":
                assert prev == "mươi", (n, text)
            if word == "tư":
                assert prev == "mươi", (n, text)
            if word == "lăm":
                assert prev in ("mười", "mươi"), (n, text)
        assert words[0] not in ("mốt", "tư", "linh", "trăm", "nghìn", "mươi"), (n, text)


def test_readings_are_unique() -> None:
    # Two numbers never sound the same: a listener can always tell which ticket was called.
    seen: dict[str, int] = {}
    for n, text in ALL:
        assert text not in seen, (n, seen.get(text), text)
        seen[text] = n


def test_structure_matches_digits() -> None:
    for n, text in ALL:
        if n >= 1000 and n % 1000:
            # A non-empty thousands remainder always says its hundreds place.
            assert re.search(r"nghìn \S+ trăm", text), (n, text)
        if n % 100 and n % 100 < 10 and n >= 100:
            assert "linh" in text, (n, text)
        if n % 1000 == 0 and n:
            assert text.endswith("nghìn"), (n, text)


def test_digits_to_words() -> None:
    assert digits_to_words("1005") == "một không không năm"
    assert digits_to_words("0042") == "không không bốn hai"
    assert digits_to_words("15") == "một năm"
    assert digits_to_words(2024) == "hai không hai bốn"
    for bad in ("", "12a", "1 2", "-5", "١٢"):
        with pytest.raises(ValueError, match="chữ số"):
            digits_to_words(bad)


def test_ticket_numbers_full_and_digits() -> None:
    assert ticket_number_words("1005") == "một nghìn không trăm linh năm"
    assert ticket_number_words("1005", "digits") == "một không không năm"
    assert ticket_number_words(1005) == "một nghìn không trăm linh năm"
    assert ticket_number_words("A012") == "A mười hai"
    assert ticket_number_words("A012", "digits") == "A không một hai"
    assert ticket_number_words("B015") == "bê mười lăm"
    assert ticket_number_words("C001") == "xê một"
    assert ticket_number_words("D021") == "dê hai mươi mốt"
    assert ticket_number_words("Đ024") == "đê hai mươi tư"
    assert ticket_number_words("a-105") == "A một trăm linh năm"
    assert ticket_number_words("AB7") == "A bê bảy"
    assert ticket_number_words("K000") == "ca không"
    assert ticket_number_words("L5", style=NumberStyle()) == "e-lờ năm"
    assert ticket_number_words("A024", style=NumberStyle(tu_for_four=False)) == "A hai mươi bốn"


def test_bad_ticket_numbers() -> None:
    for bad in ("", "A", "12A", "A1B2", "#12", "A--12", "Ж12"):
        with pytest.raises(ValueError, match="không hợp lệ"):
            ticket_number_words(bad)
    with pytest.raises(ValueError, match="full"):
        ticket_number_words("12", "slow")  # type: ignore[arg-type]
    assert split_ticket_number(" A 012 ").prefix == "A"
    assert split_ticket_number("A.012").digits == "012"
