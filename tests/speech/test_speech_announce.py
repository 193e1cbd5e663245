"""Announcement sentences and the clip lists that say them."""
from __future__ import annotations

import pytest

from motcua.speech import (
    BUILTIN_TEMPLATES,
    CHIME,
    DEFAULT_TEMPLATE,
    NumberStyle,
    announcement_clips,
    announcement_text,
    clip_vocabulary,
    template_phrases,
    validate_template,
)


def test_default_sentence() -> None:
    assert (
        announcement_text("1005", 3)
        == "Xin mời công dân có số thứ tự một nghìn không trăm linh năm đến quầy số ba"
    )
    assert announcement_text("1005", "3") == announcement_text("1005", 3)


def test_reading_modes_and_prefix() -> None:
    assert (
        announcement_text("1005", 12, number_mode="digits")
        == "Xin mời công dân có số thứ tự một không không năm đến quầy số mười hai"
    )
    assert (
        announcement_text("A012", 12, counter_mode="digits")
        == "Xin mời công dân có số thứ tự A mười hai đến quầy số một hai"
    )
    assert (
        announcement_text("B024", 4, style=NumberStyle(tu_for_four=False))
        == "Xin mời công dân có số thứ tự bê hai mươi bốn đến quầy số bốn"
    )


def test_custom_templates() -> None:
    kinh = "Kính mời công dân có số thứ tự {number} đến quầy số {counter}"
    assert announcement_text("15", 1, template=kinh) == (
        "Kính mời công dân có số thứ tự mười lăm đến quầy số một"
    )
    # Counter first, number twice, punctuation and odd spacing are all fine.
    odd = "Quầy {counter}:   mời số {number}, nhắc lại, số {number}."
    assert announcement_text("21", 2, template=odd) == "Quầy hai: mời số hai mươi mốt, nhắc lại, số hai mươi mốt."
    assert announcement_text("7", 1, template="{number}") == "bảy"


@pytest.mark.parametrize(
    "template,needle",
    [
        ("Mời số {so} đến quầy {counter}", "{so}"),
        ("Mời số {number} đến quầy {quay}", "{quay}"),
        ("Mời số {} đến quầy", "{}"),
        ("Mời số {0} đến quầy", "{0}"),
        ("Mời số {number.real}", "{number.real}"),
    ],
)
def test_unknown_placeholders_are_refused(template: str, needle: str) -> None:
    with pytest.raises(ValueError, match="chỗ trống không hợp lệ") as info:
        validate_template(template)
    assert needle in str(info.value)
    with pytest.raises(ValueError):
        announcement_text("1", 1, template=template)
    with pytest.raises(ValueError):
        announcement_clips("1", 1, template=template)


@pytest.mark.parametrize(
    "template,message",
    [
        ("", "trống"),
        ("Mời quầy số {counter}", "{number}"),
        ("Mời số {number:>5}", "định dạng"),
        ("Mời số {number!r}", "định dạng"),
        ("Mời số {number", "cú pháp"),
        ("Mời số number}", "cú pháp"),
    ],
)
def test_malformed_templates_are_refused(template: str, message: str) -> None:
    with pytest.raises(ValueError, match="Mẫu câu|Chỗ trống") as info:
        validate_template(template)
    assert message in str(info.value)


def test_escaped_braces_are_literal() -> None:
    assert announcement_text("5", 1, template="{{A}} số {number}") == "{A} số năm"


def test_bad_number_or_counter() -> None:
    with pytest.raises(ValueError, match="số thứ tự"):
        announcement_text("12A", 1)
    with pytest.raises(ValueError, match="số quầy"):
        announcement_text("12", "quầy ba")


def test_default_clip_list() -> None:
    assert announcement_clips("1005", 3) == [
        "xin_moi_cong_dan_co_so_thu_tu",
        "mot", "nghin", "khong", "tram", "linh", "nam",
        "den_quay_so",
        "ba",
    ]
    assert announcement_clips("A021", 24, chime=True) == [
        CHIME, "xin_moi_cong_dan_co_so_thu_tu", "chu_a", "hai", "muoi2", "mot_sac",
        "den_quay_so", "hai", "muoi2", "tu",
    ]
    assert announcement_clips("15", 10) == ["xin_moi_cong_dan_co_so_thu_tu", "muoi", "lam", "den_quay_so", "muoi"]


CASES = [
    (number, counter, nmode, cmode, style)
    for number in ("0", "1", "5", "10", "15", "21", "24", "105", "1005", "1010", "2024", "15015",
                   "99999", "1000001", "A012", "Đ105", "XYZ999", "Ă1", "Ư4")
    for counter in (1, 4, 15, 21, "B2")
    for nmode in ("full", "digits")
    for cmode in ("full", "digits")
    for style in (NumberStyle(), NumberStyle(tu_for_four=False, linh_or_le="lẻ", thousand="ngàn"))
]


@pytest.mark.parametrize("template", BUILTIN_TEMPLATES)
def test_clips_say_exactly_the_sentence(template: str) -> None:
    vocab = clip_vocabulary()
    for number, counter, nmode, cmode, style in CASES:
        kwargs = dict(template=template, number_mode=nmode, counter_mode=cmode, style=style)
        text = announcement_text(number, counter, **kwargs)
        clips = announcement_clips(number, counter, **kwargs)
        assert all(name in vocab for name in clips), clips
        assert " ".join(vocab[name] for name in clips) == text


def test_clips_for_an_office_template_are_in_its_vocabulary() -> None:
    template = "Mời công dân số {number} tới quầy {counter}, xin cảm ơn."
    assert template_phrases(template) == ["Mời công dân số", "tới quầy", "xin cảm ơn"]
    clips = announcement_clips("1005", 2, template=template)
    assert clips[0] == "moi_cong_dan_so"
    assert clips[-1] == "xin_cam_on"
    vocab = clip_vocabulary([template])
    assert all(name in vocab for name in clips)
    assert "moi_cong_dan_so" not in clip_vocabulary()


def test_every_number_up_to_99999_has_clips() -> None:
    vocab = clip_vocabulary()
    for n in range(0, 100_000, 7):
        clips = announcement_clips(str(n), 1, template="{number}")
        assert " ".join(vocab[c] for c in clips) == announcement_text(str(n), 1, template="{number}")


def test_default_template_constant() -> None:
    assert DEFAULT_TEMPLATE == BUILTIN_TEMPLATES[0]
    assert template_phrases(DEFAULT_TEMPLATE) == ["Xin mời công dân có số thứ tự", "đến quầy số"]
