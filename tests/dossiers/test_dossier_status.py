import re

import pytest

from motcua.dossiers.status import (
    FINISHED_STATUSES,
    NOT_RECEIVED_STATUSES,
    READY_STATUSES,
    STATUSES,
    DossierStatus,
    is_finished,
    is_ready,
    next_step,
    parse_status,
    status_info,
    status_label,
)

EXPECTED_VI = {
    1: "Mới đăng ký",
    2: "Được tiếp nhận",
    3: "Không được tiếp nhận",
    4: "Đang xử lý",
    5: "Yêu cầu bổ sung giấy tờ",
    6: "Yêu cầu thực hiện nghĩa vụ tài chính",
    7: "Công dân yêu cầu rút hồ sơ",
    8: "Dừng xử lý",
    9: "Đã xử lý xong",
    10: "Đã trả kết quả",
}
VIETNAMESE_LETTER = re.compile(r"[ăâđêôơưàáảãạằắẳẵặầấẩẫậèéẻẽẹềếểễệìíỉĩịòóỏõọồốổỗộờớởỡợùúủũụừứửữựỳýỷỹỵ]", re.I)


def test_national_codes_and_labels():
    assert sorted(STATUSES) == list(range(1, 11))
    assert {code: status_label(code) for code in STATUSES} == EXPECTED_VI
    assert [int(s) for s in DossierStatus] == list(range(1, 11))


def test_every_status_has_english_label_and_vietnamese_next_step():
    for code in STATUSES:
        assert status_label(code, "en") and status_label(code, "en") != status_label(code)
        step = next_step(code)
        assert len(step) > 20 and VIETNAMESE_LETTER.search(step), code


def test_next_step_for_ready_and_supplement():
    assert next_step(9) == (
        "Hồ sơ đã có kết quả. Mời ông/bà mang Giấy tiếp nhận hồ sơ và hẹn trả kết quả "
        "đến quầy Trả kết quả để nhận."
    )
    assert "giấy tờ còn thiếu" in next_step(5) and "bổ sung" in next_step(5)


def test_finished_and_ready_sets():
    assert FINISHED_STATUSES == {3, 7, 8, 9, 10}
    assert READY_STATUSES == {9}
    assert NOT_RECEIVED_STATUSES == {1, 3}
    assert [c for c in STATUSES if is_finished(c)] == [3, 7, 8, 9, 10]
    assert [c for c in STATUSES if is_ready(c)] == [9]
    assert status_info(9).ready and status_info(9).finished


@pytest.mark.parametrize("value, code", [(4, 4), ("4", 4), (" 10 ", 10), (9.0, 9), ("9.0", 9),
                                         ("Đang xử lý", 4), ("dang xu ly", 4), ("ĐÃ TRẢ KẾT QUẢ", 10)])
def test_parse_status_accepts_numbers_and_labels(value, code):
    assert parse_status(value) == code


@pytest.mark.parametrize("value", [0, 11, -1, "abc", "4.5", 4.5, True, None, "", "1e1", "٤"])
def test_parse_status_rejects_others(value):
    with pytest.raises(ValueError, match="từ 1 đến 10"):
        parse_status(value)
