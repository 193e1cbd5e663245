"""Find barcodes and QR codes in one camera frame (pure functions, no threads, no devices).

A frame is first turned grey: pyzbar hands zbar only the first channel of a colour array
(blue, in OpenCV's BGR order), so ink that is dark in grey but light in blue - a blue
stamp, a red print - would be invisible. ``to_gray`` converts with OpenCV's luma weights.

Then passes run in order, each on the grey frame, stopping at the first that finds a code
(most frames with a code are read by the first):

- "smooth": a box blur 5 px tall and 1 px wide. It averages sensor noise along the bars
  of an upright 1-D code without widening them; a square blur erases the 1.5-2 px bars
  of a Code128 at 640x480.
- "denoise": a 3x3 Gaussian blur, for heavy noise on larger codes and on QR codes.
- "sharpen": the "smooth" image with a horizontal unsharp mask, for slightly defocused
  narrow bars.
- "raw": the grey frame as it is, for codes turned sideways and fine QR modules.

bench/bench_camera.py measures what each pass adds on the noisy test set.

Very large frames are first shrunk (INTER_AREA) so the longest side is at most
``max_side``; rectangles are reported in the coordinates of the frame given.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import cv2
import numpy as np
from pyzbar import pyzbar

log = logging.getLogger(__name__)

# Symbology names accepted in settings -> zbar symbol types. PDF417 and DataMatrix are
# missing on purpose: zbar does not decode them.
SYMBOLOGIES: dict[str, pyzbar.ZBarSymbol] = {
    "code128": pyzbar.ZBarSymbol.CODE128,
    "qrcode": pyzbar.ZBarSymbol.QRCODE,
    "ean13": pyzbar.ZBarSymbol.EAN13,
    "ean8": pyzbar.ZBarSymbol.EAN8,
    "upca": pyzbar.ZBarSymbol.UPCA,
    "upce": pyzbar.ZBarSymbol.UPCE,
    "isbn13": pyzbar.ZBarSymbol.ISBN13,
    "isbn10": pyzbar.ZBarSymbol.ISBN10,
    "code39": pyzbar.ZBarSymbol.CODE39,
    "code93": pyzbar.ZBarSymbol.CODE93,
    "i25": pyzbar.ZBarSymbol.I25,
    "codabar": pyzbar.ZBarSymbol.CODABAR,
    "databar": pyzbar.ZBarSymbol.DATABAR,
    "databar_exp": pyzbar.ZBarSymbol.DATABAR_EXP,
}
_ALIASES = {
    "qr": "qrcode",
    "128": "code128",
    "39": "code39",
    "93": "code93",
    "ean": "ean13",
    "itf": "i25",
    "interleaved2of5": "i25",
}
_NAME_OF_TYPE = {symbol.name: name for name, symbol in SYMBOLOGIES.items()}

DEFAULT_SYMBOLOGIES: tuple[str, ...] = ("code128", "qrcode")
DEFAULT_MAX_SIDE = 1920
PASSES: tuple[str, ...] = ("smooth", "denoise", "sharpen", "raw")
SMOOTH_KERNEL = (1, 5)  # (width, height) of the box blur of the "smooth" pass
SHARPEN_SIGMA = 1.0  # horizontal Gaussian of the "sharpen" pass's unsharp mask, px
SHARPEN_AMOUNT = 0.8


@dataclass(frozen=True)
class Decoded:
    """One code found in a frame."""

    text: str  # the content as text (UTF-8; see bytes_to_text)
    symbology: str  # a key of SYMBOLOGIES, e.g. "code128", "qrcode"
    data: bytes  # the bytes zbar returned
    rect: tuple[int, int, int, int]  # left, top, width, height in the given frame


def normalize_symbology(name: str) -> str:
    """'QR-Code', 'qr', 'Code 128' -> 'qrcode', 'qrcode', 'code128'; ValueError if unknown."""
    key = "".join(ch for ch in name.lower() if ch.isalnum() or ch == "_")
    key = _ALIASES.get(key, key)
    if key not in SYMBOLOGIES:
        known = ", ".join(SYMBOLOGIES)
        raise ValueError(
            f"Loại mã không hỗ trợ: {name!r} (unknown symbology; known: {known})"
        )
    return key


def resolve_symbologies(names: Iterable[str]) -> tuple[str, ...]:
    """Normalised, de-duplicated names in the order given; at least one is required."""
    out: list[str] = []
    for name in names:
        key = normalize_symbology(name)
        if key not in out:
            out.append(key)
    if not out:
        raise ValueError("Cần ít nhất một loại mã (at least one symbology is required)")
    return tuple(out)


def to_gray(frame: np.ndarray) -> np.ndarray:
    """A 2-D uint8 grey image from a grey, BGR or BGRA frame (OpenCV channel order)."""
    if not isinstance(frame, np.ndarray):
        raise TypeError("frame must be a numpy array")
    if frame.dtype != np.uint8:
        if frame.dtype == np.uint16:
            frame = (frame >> 8).astype(np.uint8)
        else:
            raise ValueError(f"unsupported frame dtype {frame.dtype}")
    if frame.ndim == 2:
        return frame
    if frame.ndim == 3 and frame.shape[2] == 1:
        return frame[:, :, 0]
    if frame.ndim == 3 and frame.shape[2] == 3:
        return cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
    if frame.ndim == 3 and frame.shape[2] == 4:
        return cv2.cvtColor(frame, cv2.COLOR_BGRA2GRAY)
    raise ValueError(f"unsupported frame shape {frame.shape}")


def bytes_to_text(data: bytes) -> str:
    """Text of a code's bytes.

    zbar already turns QR byte segments into UTF-8, but it guesses their encoding when the
    code carries no ECI marker, and some Vietnamese UTF-8 (e.g. "Đất đai") is taken for
    Shift-JIS and comes out as katakana. When the text re-encoded as Shift-JIS (or
    Latin-1) is valid UTF-8 with non-ASCII characters, that reading is the intended one.
    """
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")
    if text.isascii():
        return text
    for wrong in ("cp932", "latin-1"):
        try:
            fixed = text.encode(wrong).decode("utf-8")
        except (UnicodeEncodeError, UnicodeDecodeError):
            continue
        if not fixed.isascii():
            return fixed
    return text


def _zbar_symbols(symbologies: Sequence[str]) -> list[pyzbar.ZBarSymbol]:
    return [SYMBOLOGIES[normalize_symbology(name)] for name in symbologies]


def _prepare(gray: np.ndarray, pass_name: str) -> np.ndarray:
    if pass_name == "raw":
        return gray
    if pass_name == "smooth":
        return cv2.blur(gray, SMOOTH_KERNEL)
    if pass_name == "denoise":
        return cv2.GaussianBlur(gray, (3, 3), 0)
    if pass_name == "sharpen":
        smooth = cv2.blur(gray, SMOOTH_KERNEL)
        soft = cv2.GaussianBlur(smooth, (5, 1), SHARPEN_SIGMA)
        return cv2.addWeighted(smooth, 1.0 + SHARPEN_AMOUNT, soft, -SHARPEN_AMOUNT, 0)
    raise ValueError(f"unknown pass {pass_name!r}")


def decode_frame(
    frame: np.ndarray,
    symbologies: Sequence[str] = DEFAULT_SYMBOLOGIES,
    *,
    max_side: int | None = DEFAULT_MAX_SIDE,
    passes: Sequence[str] = PASSES,
) -> list[Decoded]:
    """Every code of the given symbologies found in frame (grey, BGR or BGRA uint8 array).

    Passes run in order until one finds something. Codes are listed once each, in the
    order zbar reports them. An empty list means nothing readable was found.
    """
    symbols = _zbar_symbols(symbologies)
    gray = to_gray(frame)
    factor = 1.0
    if max_side and max(gray.shape) > max_side:
        factor = max(gray.shape) / max_side
        size = (round(gray.shape[1] / factor), round(gray.shape[0] / factor))
        gray = cv2.resize(gray, size, interpolation=cv2.INTER_AREA)
    if not gray.flags.c_contiguous:
        gray = np.ascontiguousarray(gray)
    for pass_name in passes:
        found = pyzbar.decode(_prepare(gray, pass_name), symbols=symbols)
        if found:
            return _collect(found, factor)
    return []


def _collect(found: list, factor: float) -> list[Decoded]:
    out: list[Decoded] = []
    seen: set[tuple[str, bytes]] = set()
    for item in found:
        name = _NAME_OF_TYPE.get(item.type, item.type.lower())
        if (name, item.data) in seen:
            continue
        seen.add((name, item.data))
        left, top, width, height = item.rect
        rect = (
            round(left * factor),
            round(top * factor),
            round(width * factor),
            round(height * factor),
        )
        out.append(Decoded(bytes_to_text(item.data), name, bytes(item.data), rect))
    return out
