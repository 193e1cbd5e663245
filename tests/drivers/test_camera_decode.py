"""decode_frame on generated camera frames: clean, noisy, rotated, JPEG, colour."""

from __future__ import annotations

import sys
from pathlib import Path

import barcode
import cv2
import numpy as np
import pytest
from PIL import Image
from pyzbar import pyzbar

from drivers.camera.decoding import (
    DEFAULT_SYMBOLOGIES,
    bytes_to_text,
    decode_frame,
    normalize_symbology,
    resolve_symbologies,
    to_gray,
)

try:  # tests/conftest.py puts tests/ on sys.path
    import barcode_images as bi
except ImportError:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    import barcode_images as bi

CODE = bi.DOSSIER_CODE
URL = bi.LOOKUP_URL


def texts(found) -> list[tuple[str, str]]:
    return [(d.text, d.symbology) for d in found]


@pytest.mark.parametrize("size", [(640, 480), (1280, 720)])
def test_clean_code128_dossier_code(size):
    frame = bi.to_bgr(bi.code128_frame(CODE, size, module_px=2))
    assert texts(decode_frame(frame)) == [(CODE, "code128")]


@pytest.mark.parametrize("size", [(640, 480), (1280, 720)])
def test_clean_qr_lookup_url(size):
    frame = bi.to_bgr(bi.qr_frame(URL, size, module_px=4))
    assert texts(decode_frame(frame)) == [(URL, "qrcode")]


@pytest.mark.parametrize(
    "degradation",
    [
        bi.Degradation(noise_sigma=15.0),
        bi.Degradation(blur_sigma=0.8, noise_sigma=8.0),
        bi.Degradation(rotate_deg=4.0, noise_sigma=5.0),
        bi.Degradation(rotate_deg=-4.0, jpeg_quality=50),
        bi.Degradation(scale=0.85, contrast=0.6, brightness=-30, jpeg_quality=60),
    ],
    ids=["noisy", "blurred", "rotated+4", "rotated-4-jpeg50", "small-dim-jpeg60"],
)
def test_degraded_code128(degradation):
    code = bi.code128_image(CODE, module_px=2, bar_height_px=150)
    base = bi.receipt_frame(code, (640, 480))
    frame = bi.to_bgr(bi.degrade(base, degradation, seed=7))
    assert texts(decode_frame(frame)) == [(CODE, "code128")]


@pytest.mark.parametrize(
    "degradation",
    [
        bi.Degradation(noise_sigma=20.0),
        bi.Degradation(blur_sigma=1.0, noise_sigma=10.0),
        bi.Degradation(rotate_deg=25.0),
        bi.Degradation(rotate_deg=-12.0, jpeg_quality=40),
    ],
    ids=["noisy", "blurred", "rotated25", "rotated-jpeg40"],
)
def test_degraded_qr(degradation):
    base = bi.qr_frame(URL, (640, 480), module_px=4)
    frame = bi.to_bgr(bi.degrade(base, degradation, seed=11))
    assert texts(decode_frame(frame)) == [(URL, "qrcode")]


def test_jpeg_file_round_trip(tmp_path):
    path = bi.save_image(bi.code128_frame(CODE), tmp_path / "frame.jpg", quality=70)
    frame = cv2.imread(str(path), cv2.IMREAD_COLOR)
    assert texts(decode_frame(frame)) == [(CODE, "code128")]


def test_code_turned_sideways():
    frame = bi.code128_frame(CODE, (640, 480)).rotate(90, expand=True)
    assert texts(decode_frame(bi.to_bgr(frame))) == [(CODE, "code128")]


def test_blue_ink_is_read_in_grey_although_the_first_channel_shows_nothing():
    # Blue ink on white paper: bright in the blue channel (the one pyzbar would take from a
    # colour array), dark in grey.
    ink = (20, 20, 250)  # RGB
    code = bi.code128_image(CODE, module_px=2, bar_height_px=120, ink=ink)
    frame = bi.to_bgr(bi.receipt_frame(code, (640, 480), paper=bi.WHITE))
    assert pyzbar.decode(frame) == []  # the trap decode_frame avoids
    assert texts(decode_frame(frame)) == [(CODE, "code128")]


def test_red_qr_on_yellow_paper_and_bgra_frames():
    qr = bi.qr_image(URL, module_px=4, ink=(170, 20, 20), paper=(250, 235, 120))
    rgb = bi.receipt_frame(qr, (640, 480), paper=(250, 235, 120))
    bgr = bi.to_bgr(rgb)
    bgra = cv2.cvtColor(bgr, cv2.COLOR_BGR2BGRA)
    assert texts(decode_frame(bgr)) == [(URL, "qrcode")]
    assert texts(decode_frame(bgra)) == [(URL, "qrcode")]
    assert texts(decode_frame(to_gray(bgr))) == [(URL, "qrcode")]


def test_two_codes_in_one_frame_are_both_returned():
    frame = bi.receipt_frame(Image.new("RGB", (10, 10), bi.PAPER), (1280, 720))
    frame.paste(bi.code128_image(CODE, module_px=2), (20, 40))
    frame.paste(bi.qr_image(URL, module_px=4), (800, 300))
    found = decode_frame(bi.to_bgr(frame))
    assert sorted(texts(found)) == sorted([(CODE, "code128"), (URL, "qrcode")])
    qr = next(d for d in found if d.symbology == "qrcode")
    left, top, width, height = qr.rect
    assert 800 <= left < 850 and 300 <= top < 350
    assert abs(width - 37 * 4) <= 4  # version 5: 37 modules of 4 px


def test_only_the_symbologies_in_use_are_reported():
    frame = bi.receipt_frame(Image.new("RGB", (10, 10), bi.PAPER), (1280, 720))
    frame.paste(bi.code128_image(CODE, module_px=2), (20, 40))
    frame.paste(bi.qr_image(URL, module_px=4), (800, 300))
    bgr = bi.to_bgr(frame)
    assert texts(decode_frame(bgr, ["qrcode"])) == [(URL, "qrcode")]
    assert texts(decode_frame(bgr, ["code128"])) == [(CODE, "code128")]
    assert decode_frame(bgr, ["ean13"]) == []


def _linear_code(kind: str, text: str) -> np.ndarray:
    modules = barcode.get_barcode_class(kind)(text, writer=None).build()[0]
    row = np.array([c == "1" for c in "0" * 12 + modules + "0" * 12]).repeat(3)
    mask = np.tile(row, (100, 1))
    img = np.where(mask, 0, 255).astype(np.uint8)
    return cv2.copyMakeBorder(img, 40, 40, 40, 40, cv2.BORDER_CONSTANT, value=255)


def test_other_configured_symbologies():
    ean = _linear_code("ean13", "893123456789")  # check digit added: 8931234567897
    assert texts(decode_frame(ean, ["ean13"])) == [("8931234567897", "ean13")]
    assert decode_frame(ean) == []  # not in the default set
    c39 = _linear_code("code39", "HS-0001")
    assert [d.symbology for d in decode_frame(c39, ["code39"])] == ["code39"]
    assert decode_frame(c39, ["code39"])[0].text.startswith("HS-0001")


def test_frame_without_a_code():
    frame = bi.to_bgr(bi.receipt_frame(Image.new("RGB", (10, 10), bi.PAPER), (640, 480)))
    assert decode_frame(frame) == []
    noise = np.random.default_rng(3).integers(0, 256, (480, 640, 3), dtype=np.uint8)
    assert decode_frame(noise) == []


def test_very_large_frame_is_shrunk_and_rects_stay_in_frame_coordinates():
    frame = bi.receipt_frame(Image.new("RGB", (10, 10), bi.PAPER), (3840, 2160))
    frame.paste(bi.qr_image(URL, module_px=12), (2400, 1000))
    bgr = bi.to_bgr(frame)
    found = decode_frame(bgr, max_side=1920)
    assert texts(found) == [(URL, "qrcode")]
    left, top, width, _ = found[0].rect
    assert abs(left - (2400 + 48)) <= 6 and abs(top - (1000 + 48)) <= 6
    assert abs(width - 37 * 12) <= 8


def test_vietnamese_text_in_a_qr_without_eci_comes_back_as_utf8():
    # zbar guesses Shift-JIS for these UTF-8 bytes when the QR has no ECI marker.
    for text in ["https://x.vn/tra-cuu?linh-vuc=Đất đai", "Hồ sơ 000.17.22.H56-210531-0001"]:
        frame = bi.to_bgr(bi.receipt_frame(bi.qr_image(text, module_px=4), (640, 480)))
        assert texts(decode_frame(frame, ["qrcode"])) == [(text, "qrcode")]


def test_bytes_to_text():
    assert bytes_to_text(b"000.17.22.H56-210531-0001") == "000.17.22.H56-210531-0001"
    assert bytes_to_text("Đất đai".encode()) == "Đất đai"
    assert bytes_to_text("café".encode()) == "café"
    mojibake = "Đất".encode().decode("cp932").encode()  # what zbar hands back
    assert bytes_to_text(mojibake) == "Đất"
    assert bytes_to_text(b"\xff\xfeabc") == "\xff\xfeabc"  # not UTF-8: Latin-1


def test_symbology_names():
    assert DEFAULT_SYMBOLOGIES == ("code128", "qrcode")
    assert normalize_symbology("QR-Code") == "qrcode"
    assert normalize_symbology("Code 128") == "code128"
    assert normalize_symbology("EAN13") == "ean13"
    assert resolve_symbologies(["qr", "qrcode", "code39"]) == ("qrcode", "code39")
    with pytest.raises(ValueError, match="Loại mã không hỗ trợ"):
        normalize_symbology("datamatrix")
    with pytest.raises(ValueError):
        resolve_symbologies([])


def test_bad_frames_are_refused():
    with pytest.raises(ValueError):
        decode_frame(np.zeros((10, 10, 2), np.uint8))
    with pytest.raises(ValueError):
        decode_frame(np.zeros((10, 10), np.float32))
    with pytest.raises(TypeError):
        decode_frame(b"not an array")  # type: ignore[arg-type]
