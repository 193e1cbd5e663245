"""Tickets encoded to ESC/POS, read back by an independent decoder, OCR and a QR reader."""

from __future__ import annotations

import difflib
import sys
import unicodedata
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

from drivers.printer.document import (
    BigText,
    Cut,
    Feed,
    ImageBlock,
    PrintDocument,
    QRCode,
    Rule,
    Text,
)
from drivers.printer.encoder import encode_document
from drivers.printer.escpos_raster import find_font, rasterizer_for
from drivers.printer.profile import get_profile
from drivers.printer.sample import sample_ticket

try:  # tests/conftest.py puts tests/ on sys.path
    from escpos_decode import DecodeError, decode
except ImportError:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from escpos_decode import DecodeError, decode

URL = "http://127.0.0.1:5000/t/AbCdEf123456"
FIELD = "Hộ tịch - Chứng thực"


def _norm(text: str) -> str:
    return " ".join(unicodedata.normalize("NFC", text).split()).casefold()


def ocr_lines(paper: Image.Image) -> list[str]:
    """Tesseract (Vietnamese) on the rebuilt paper, at full and half size.

    Half size helps with the very large ticket number (tesseract prefers text ~30 px high).
    """
    pytesseract = pytest.importorskip("pytesseract")
    try:
        langs = pytesseract.get_languages()
    except Exception as exc:  # tesseract binary missing
        pytest.skip(f"tesseract not available: {exc}")
    if "vie" not in langs:
        pytest.skip("tesseract-ocr-vie is not installed")
    lines: list[str] = []
    half = paper.resize((paper.width // 2, paper.height // 2), Image.Resampling.LANCZOS)
    for img in (paper, half):
        text = pytesseract.image_to_string(img, lang="vie")
        lines += [_norm(line) for line in text.splitlines() if line.strip()]
    return lines


def best_match(lines: list[str], wanted: str) -> float:
    wanted = _norm(wanted)
    return max((difflib.SequenceMatcher(None, line, wanted).ratio() for line in lines), default=0)


def qr_payloads(paper: Image.Image) -> list[str]:
    pyzbar = pytest.importorskip("pyzbar.pyzbar")
    return [r.data.decode("utf-8") for r in pyzbar.decode(paper) if r.type == "QRCODE"]


PROFILES = {
    "80mm": get_profile("80mm"),
    "80mm-raster": get_profile("80mm", force_raster=True, native_qr=False),
    "58mm": get_profile("58mm"),
    "58mm-raster": get_profile("58mm", force_raster=True, native_qr=False),
}


@pytest.fixture(scope="module")
def decoded() -> dict:
    out = {}
    for key, profile in PROFILES.items():
        data = encode_document(sample_ticket(), profile)
        out[key] = (data, decode(data, profile.width_dots), profile)
    return out


@pytest.mark.parametrize("key", list(PROFILES))
def test_ticket_is_legible_on_rebuilt_paper(decoded: dict, key: str) -> None:
    _, result, _ = decoded[key]
    lines = ocr_lines(result.paper)
    joined = " ".join(lines)
    assert "1005" in joined.replace(" ", ""), lines
    assert best_match(lines, FIELD) >= 0.85, lines
    assert best_match(lines, "SỐ THỨ TỰ") >= 0.75, lines


@pytest.mark.parametrize("key", list(PROFILES))
def test_qr_on_paper_decodes_to_exact_url(decoded: dict, key: str) -> None:
    _, result, profile = decoded[key]
    assert qr_payloads(result.paper) == [URL]
    if profile.native_qr:
        assert result.qr_payloads == [URL]  # sent as GS ( k, printed by the printer
    else:
        assert result.qrs == []  # drawn by us, sent as an image


def test_80mm_ticket_fits_in_16_kb(decoded: dict) -> None:
    data, _, _ = decoded["80mm"]
    assert len(data) <= 16 * 1024


@pytest.mark.parametrize("key", list(PROFILES))
def test_stream_is_clean_escpos(decoded: dict, key: str) -> None:
    data, result, profile = decoded[key]
    assert data.startswith(b"\x1b@")
    assert result.inits == 1
    assert result.warnings == []
    assert result.cuts == ["partial"]
    assert result.realtime_queries == []
    for image in result.images:
        assert image.width <= profile.width_dots


def test_vietnamese_never_goes_through_a_code_page(decoded: dict) -> None:
    _, result, _ = decoded["80mm"]
    # Only pure-ASCII lines are left to the printer's font.
    assert sorted(result.text_lines) == ["1005", "23/11/2026 10:15"]
    for t in result.texts:
        assert all(ord(c) < 0x80 for c in t.text)


def test_all_raster_profile_sends_no_native_text(decoded: dict) -> None:
    _, result, _ = decoded["80mm-raster"]
    assert result.texts == []
    assert len(result.images) >= 9


def test_big_number_uses_large_magnification(decoded: dict) -> None:
    _, result, _ = decoded["80mm"]
    number = next(t for t in result.texts if t.text == "1005")
    assert number.width_mag >= 4 and number.height_mag >= 4
    assert number.align == "center"
    assert number.width_mag * 12 * 4 <= 576


def test_lines_are_cropped_to_their_own_width_and_aligned(decoded: dict) -> None:
    _, result, _ = decoded["80mm"]
    text_images = [i for i in result.images if i.height > 4]
    assert text_images
    narrow = [i for i in text_images if i.width < 576 * 0.8]
    assert len(narrow) >= 4  # "SỐ THỨ TỰ", "Quầy 1, 2", footer... are not full width
    for image in narrow:
        assert image.align == "center"
        centre = image.x + image.width / 2
        assert abs(centre - 288) <= 8


@pytest.mark.parametrize("text", ["Ỗ Ặ Ẫ Ỹ ặ ỗ ẫ", "SỐ THỨ TỰ", "gjpqy Ợ"])
def test_stacked_diacritics_are_not_clipped(text: str) -> None:
    rasterizer = rasterizer_for()
    for size in (18, 26, 48, 120):
        ink = rasterizer.render(text, size, bold=True)
        assert ink.any()
        # Blank rows and columns all around: nothing touches the edge of the band.
        assert not ink[0].any() and not ink[-1].any()
        assert not ink[:, 0].any() and not ink[:, -1].any()


def test_stacked_marks_reach_above_plain_capitals() -> None:
    """'Ỗ' is taller than 'O': the band grows instead of cutting the mark off."""
    rasterizer = rasterizer_for()
    plain = rasterizer.render("O", 40)
    stacked = rasterizer.render("Ỗ", 40)
    assert stacked.shape[0] > plain.shape[0]
    rows_plain = np.flatnonzero(plain.any(axis=1))
    rows_stacked = np.flatnonzero(stacked.any(axis=1))
    assert rows_stacked[-1] - rows_stacked[0] > rows_plain[-1] - rows_plain[0]


def test_font_is_be_vietnam_pro_or_dejavu() -> None:
    path = find_font()
    assert Path(path).is_file()
    assert "BeVietnamPro" in path or "DejaVu" in path


def test_long_lines_wrap_within_the_paper() -> None:
    long_vi = "Trung tâm Phục vụ hành chính công phường Bến Nghé, Quận 1, Thành phố Hồ Chí Minh"
    long_en = "Please keep this ticket until your number is called at the counter " * 2
    profile = get_profile("58mm")
    doc = PrintDocument([Text(long_vi, size="large"), Text(long_en, size="normal", align="left")])
    result = decode(encode_document(doc, profile), profile.width_dots)
    assert result.warnings == []
    assert len([i for i in result.images if i.height > 10]) >= 3  # wrapped raster lines
    assert all(i.width <= 384 for i in result.images)
    assert len(result.texts) >= 3  # wrapped native lines, 32 columns each
    assert all(len(t.text) <= 32 for t in result.texts)
    assert " ".join(t.text for t in result.texts) == " ".join(long_en.split())
    assert all(t.align == "left" for t in result.texts)


def test_sizes_bold_and_alignment_of_native_text() -> None:
    doc = PrintDocument(
        [
            Text("small", size="small", align="left"),
            Text("NORMAL", bold=True, align="right"),
            Text("large", size="large"),
            Text("xlarge", size="xlarge"),
        ]
    )
    result = decode(encode_document(doc, get_profile("80mm")))
    got = [(t.text, t.font_b, t.bold, t.width_mag, t.align) for t in result.texts]
    assert got == [
        ("small", True, False, 1, "left"),
        ("NORMAL", False, True, 1, "right"),
        ("large", False, False, 2, "center"),
        ("xlarge", False, False, 3, "center"),
    ]


def test_image_rule_feed_and_cut() -> None:
    logo = Image.new("RGB", (800, 200), "white")
    ImageDraw.Draw(logo).ellipse((300, 20, 500, 180), fill="black")
    doc = PrintDocument([ImageBlock(logo), Rule(), Feed(2), Text("x"), Cut(), Text("y")])
    profile = get_profile("80mm", cut=True, partial_cut=False)
    result = decode(encode_document(doc, profile))
    logo_img = result.images[0]
    assert logo_img.width == 576 and logo_img.height == 144  # scaled to the paper
    rule = result.images[1]
    assert rule.width == 576 and rule.ink.all()
    assert result.cuts == ["full"]  # explicit Cut only: no extra one at the end
    assert result.text_lines == ["x", "y"]


def test_printer_without_cutter_only_feeds() -> None:
    profile = get_profile("58mm", cut=False)
    data = encode_document(PrintDocument([Text("abc")]), profile)
    result = decode(data, 384)
    assert result.cuts == []
    assert b"\x1dV" not in data
    assert data.endswith(b"\x1bd\x03")


def test_qr_too_wide_for_58mm_is_shrunk() -> None:
    profile = get_profile("58mm", native_qr=False)
    doc = PrintDocument([QRCode(URL * 3, module_size=16)])
    result = decode(encode_document(doc, profile), 384)
    assert result.images[0].width <= 384
    assert qr_payloads(result.paper) == [URL * 3]


def test_big_text_without_native_font_fits_58mm() -> None:
    profile = get_profile("58mm", native_ascii=False)
    result = decode(encode_document(PrintDocument([BigText("A1005")]), profile), 384)
    assert result.texts == []
    assert result.images[0].width <= 384 and result.images[0].height > 80


def test_decomposed_unicode_prints_like_precomposed() -> None:
    """Text pasted from other systems may be NFD (o + combining marks): same output."""
    profile = get_profile("80mm")
    nfc = PrintDocument([Text("Hộ tịch - Chứng thực\tQuầy 1")])
    nfd = PrintDocument([Text(unicodedata.normalize("NFD", "Hộ tịch - Chứng thực  Quầy 1"))])
    assert encode_document(nfd, profile) == encode_document(nfc, profile)


def test_encoding_is_deterministic() -> None:
    profile = get_profile("80mm")
    assert encode_document(sample_ticket(), profile) == encode_document(sample_ticket(), profile)


def test_decoder_refuses_unknown_bytes() -> None:
    with pytest.raises(DecodeError):
        decode(b"\x1b@\x1b\x7f")
    with pytest.raises(DecodeError):
        decode(b"\x1b@\x1dv0\x00\x02\x00\x05\x00\xff")  # image data cut short
