import unicodedata

import pytest

from motcua.dossiers.masking import id_last4_matches, mask_id, mask_name, mask_phone


@pytest.mark.parametrize(
    "name, masked",
    [
        ("Nguyễn Văn An", "Nguyễn V. A."),
        ("  nguyễn   văn  an ", "Nguyễn V. A."),
        ("NGUYỄN VĂN AN", "Nguyễn V. A."),
        ("đặng đình đức", "Đặng Đ. Đ."),
        ("Trần Thị Minh Khai", "Trần T. M. K."),
        ("Lê Ánh", "Lê Á."),
        ("An", "A."),
        ("đào", "Đ."),
        ("", ""),
        ("   ", ""),
        (None, ""),
    ],
)
def test_mask_name(name, masked):
    assert mask_name(name) == masked


def test_mask_name_decomposed_input_gives_composed_output():
    decomposed = unicodedata.normalize("NFD", "Nguyễn Văn Ánh")
    assert mask_name(decomposed) == "Nguyễn V. Á."


def test_mask_name_never_shows_given_name():
    masked = mask_name("Phạm Thị Hồng Nhung")
    assert "Nhung" not in masked and "Hồng" not in masked and masked.startswith("Phạm ")


def test_mask_phone():
    assert mask_phone("0912 345 678") == "*******678"
    assert mask_phone("+84 912.345.678") == "********678"
    assert mask_phone("12345") == "*****"
    assert mask_phone("") == "" and mask_phone(None) == ""


def test_mask_id_shows_last4_only_when_asked():
    assert mask_id("001090012345") == "************"
    assert mask_id("001090012345", show_last4=True) == "********2345"
    assert mask_id("123456", show_last4=True) == "******"
    assert mask_id(None) == ""


def test_id_last4_second_factor():
    assert id_last4_matches("001090012345", "2345")
    assert id_last4_matches("001 090 012 345", " 2345 ")
    assert not id_last4_matches("001090012345", "2346")
    assert not id_last4_matches("001090012345", "345")
    assert not id_last4_matches(None, "2345")
    assert not id_last4_matches("123", "0123")
