"""fold() and search_tokens(): every spelling of a Vietnamese phrase meets in one key."""

from __future__ import annotations

import unicodedata

import pytest

from motcua.catalogue.textfold import fold, normalize_token, search_tokens


@pytest.mark.parametrize(
    "text",
    [
        "Đăng ký khai sinh",
        "dang ky khai sinh",
        "DANG KY KHAI SINH",
        "dăng ky khai sinh",
        "ĐĂNG KÝ KHAI SINH",
        "  Đăng   ký\tkhai\nsinh  ",
        "Đăng ký - khai sinh!",
        "Đăng_ký_khai_sinh",
    ],
)
def test_spellings_fold_to_one_key(text: str) -> None:
    assert fold(text) == "dang ky khai sinh"


def test_precomposed_and_decomposed_input_fold_alike() -> None:
    nfc = unicodedata.normalize("NFC", "Chứng thực bản sao từ bản chính")
    nfd = unicodedata.normalize("NFD", "Chứng thực bản sao từ bản chính")
    assert nfc != nfd  # really two different strings
    assert fold(nfc) == fold(nfd) == "chung thuc ban sao tu ban chinh"


def test_old_and_new_tone_placement_fold_alike() -> None:
    assert fold("hoà giải") == fold("hòa giải") == "hoa giai"
    assert fold("thuỷ lợi") == fold("thủy lợi") == "thuy loi"
    assert fold("Khoẻ") == fold("khỏe") == "khoe"


def test_d_with_stroke_and_lookalikes_become_d() -> None:
    assert fold("Đất đai") == "dat dai"
    assert fold("ĐỘNG ĐẤT") == "dong dat"
    # eth, which bad TCVN3/VNI conversions produce instead of đ
    assert fold("\u00d0ăng ký") == "dang ky"
    assert fold("\u00f0ất") == "dat"


def test_every_vietnamese_vowel_with_every_mark_folds_to_its_base() -> None:
    bases = {"a": "aàáảãạăằắẳẵặâầấẩẫậ", "e": "eèéẻẽẹêềếểễệ", "i": "iìíỉĩị",
             "o": "oòóỏõọôồốổỗộơờớởỡợ", "u": "uùúủũụưừứửữự", "y": "yỳýỷỹỵ"}
    for base, letters in bases.items():
        for letter in letters + letters.upper():
            assert fold(letter) == base, letter


def test_punctuation_control_characters_and_spaces_collapse() -> None:
    assert fold("Lao động - Thương binh và Xã hội") == "lao dong thuong binh va xa hoi"
    assert fold("a\x00b\x1b[31mc\u200b d") == "a b 31mc d"
    assert fold("…«Hộ tịch»…") == "ho tich"
    assert fold("1.001193") == "1 001193"


def test_full_width_letters_are_plain_letters() -> None:
    assert fold("ＫＨＡＩ ＳＩＮＨ") == "khai sinh"


@pytest.mark.parametrize("value", ["", "   ", "!!!", "\x00\x01\x02", None, 42, b"dang ky"])
def test_empty_and_non_text_fold_to_empty(value: object) -> None:
    assert fold(value) == ""  # type: ignore[arg-type]


def test_long_junk_folds_without_error() -> None:
    junk = ("\x00\ufffd#@!" * 2600)[:10_240]
    assert fold(junk) == ""


def test_search_tokens_spell_i_and_y_one_way() -> None:
    assert search_tokens("Đăng ký") == search_tokens("đăng kí") == ["dang", "ki"]
    assert search_tokens("lý lịch") == search_tokens("lí lịch")
    assert search_tokens("quý") == ["qui"]
    # y after a vowel, or alone, is left as it is
    assert search_tokens("tuỳ thân") == ["tuy", "than"]
    assert search_tokens("y tế") == ["y", "te"]
    assert normalize_token("ky") == "ki"
    assert normalize_token("kyy") == "kyy"
