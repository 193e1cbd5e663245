"""Turning text, QR codes and pictures into 1-bit raster bands (ESC/POS ``GS v 0``).

Internally a picture is an "ink" array: a 2-D numpy bool array, True where the printer
burns a dot. Text is drawn with a TrueType font, cropped to the text's own width, and
measured with ``font.getbbox`` so stacked Vietnamese marks (Ỗ, Ặ, ẫ...) are never clipped.
"""

from __future__ import annotations

import functools
import logging
import os
import threading
from dataclasses import dataclass, field

import numpy as np
import segno
from PIL import Image, ImageDraw, ImageFont, ImageOps

log = logging.getLogger(__name__)

GS = b"\x1d"

DEJAVU_REGULAR = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
DEJAVU_BOLD = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"

# Grey level (0..255 of ink coverage) from which an anti-aliased pixel becomes a dot.
INK_THRESHOLD = 110
# Blank dots kept around a rendered line (left/right and above/below the marks).
TEXT_PAD_X = 2
TEXT_PAD_Y = 3


def find_font(bold: bool = False) -> str:
    """Path of the TrueType font for raster text: Be Vietnam Pro, else DejaVu Sans."""
    weight = 700 if bold else 500
    try:
        import fontpkg  # the installer package of fontpkg-be-vietnam-pro

        path = fontpkg.path("Be Vietnam Pro", weight, nearest=True)
        if path.is_file():
            return str(path)
    except Exception as exc:  # not installed, or a broken install
        log.debug("Be Vietnam Pro not found through fontpkg: %s", exc)
    try:
        import fontpkg_be_vietnam_pro as bvp

        name = "BeVietnamPro-Bold.ttf" if bold else "BeVietnamPro-Medium.ttf"
        path = bvp.ROOT / "files" / name
        if path.is_file():
            return str(path)
    except Exception as exc:
        log.debug("fontpkg_be_vietnam_pro not importable: %s", exc)
    fallback = DEJAVU_BOLD if bold else DEJAVU_REGULAR
    if os.path.isfile(fallback):
        return fallback
    raise FileNotFoundError(
        "Không tìm thấy phông chữ tiếng Việt (Be Vietnam Pro hoặc DejaVu Sans) để in vé"
    )


# ---------------------------------------------------------------- raster bytes


def ink_to_raster(ink: np.ndarray, band_rows: int = 256) -> bytes:
    """``GS v 0`` commands printing ``ink`` (True = dot), split into bands of rows."""
    if ink.ndim != 2 or ink.shape[0] == 0 or ink.shape[1] == 0:
        return b""
    packed = np.packbits(ink.astype(bool), axis=1)  # rows padded with 0 = no dot
    height, width_bytes = packed.shape
    out = bytearray()
    for top in range(0, height, band_rows):
        band = packed[top : top + band_rows]
        rows = band.shape[0]
        out += GS + b"v0\x00"
        out += bytes((width_bytes & 0xFF, width_bytes >> 8, rows & 0xFF, rows >> 8))
        out += band.tobytes()
    return bytes(out)


def image_to_ink(image: Image.Image, max_width: int) -> np.ndarray:
    """A picture (dark = ink) as an ink array, scaled down to ``max_width`` if wider."""
    img = image
    if img.mode in ("RGBA", "LA", "P"):
        img = img.convert("RGBA")
        background = Image.new("RGBA", img.size, (255, 255, 255, 255))
        img = Image.alpha_composite(background, img)
    img = img.convert("L")
    if img.width > max_width:
        height = max(1, round(img.height * max_width / img.width))
        img = img.resize((max_width, height), Image.Resampling.LANCZOS)
    # Floyd-Steinberg dithering for photos and logos; pure black/white stays exact.
    bw = ImageOps.invert(img).convert("1")
    return np.asarray(bw, dtype=bool)


def qr_to_ink(data: str, module_size: int, error: str = "m") -> np.ndarray:
    """The QR symbol of ``data`` (no quiet zone), one module = ``module_size`` dots."""
    qr = segno.make_qr(data, error=error, boost_error=False)
    matrix = np.array([list(row) for row in qr.matrix], dtype=bool)
    block = np.ones((module_size, module_size), dtype=bool)
    return np.kron(matrix, block).astype(bool)


def rule_ink(width: int, thickness: int = 2) -> np.ndarray:
    return np.ones((thickness, width), dtype=bool)


# ---------------------------------------------------------------- text


@dataclass
class TextRasterizer:
    """Draws lines of text as ink arrays. Keeps its loaded fonts (one per size).

    Safe to share between threads (several printers in one process): FreeType faces are
    used under one lock.
    """

    regular_path: str
    bold_path: str
    _fonts: dict[tuple[bool, int], ImageFont.FreeTypeFont] = field(
        default_factory=dict, repr=False
    )
    _lock: threading.RLock = field(default_factory=threading.RLock, repr=False)

    def font(self, size: int, bold: bool = False) -> ImageFont.FreeTypeFont:
        key = (bold, size)
        with self._lock:
            font = self._fonts.get(key)
            if font is None:
                font = ImageFont.truetype(self.bold_path if bold else self.regular_path, size)
                self._fonts[key] = font
            return font

    def text_width(self, text: str, size: int, bold: bool = False) -> int:
        font = self.font(size, bold)
        with self._lock:
            left, _, right, _ = font.getbbox(text, anchor="ls")
        return int(right - min(left, 0)) + 2 * TEXT_PAD_X

    def wrap(self, text: str, size: int, bold: bool, max_width: int) -> list[str]:
        """Greedy word wrap so every rendered line fits in ``max_width`` dots."""
        words = text.split()
        if not words:
            return [""]
        if self.text_width(" ".join(words), size, bold) <= max_width:
            return [" ".join(words)]
        lines: list[str] = []
        current = ""
        for word in words:
            candidate = f"{current} {word}" if current else word
            if self.text_width(candidate, size, bold) <= max_width:
                current = candidate
                continue
            if current:
                lines.append(current)
            # A single word wider than the paper is broken by characters.
            current = ""
            for ch in word:
                if current and self.text_width(current + ch, size, bold) > max_width:
                    lines.append(current)
                    current = ch
                else:
                    current += ch
        if current:
            lines.append(current)
        return lines

    def render(self, text: str, size: int, bold: bool = False) -> np.ndarray:
        """One line as an ink array, exactly as wide as the text plus a small margin.

        The height is the font's ascent + descent, grown where the line's own marks reach
        higher or lower (stacked diacritics), so nothing is clipped; lines of one size
        without such marks share one height.
        """
        font = self.font(size, bold)
        with self._lock:
            ascent, descent = font.getmetrics()
            if not text.strip():
                return np.zeros((ascent + descent + 2 * TEXT_PAD_Y, 8), dtype=bool)
            left, top, right, bottom = font.getbbox(text, anchor="ls")
            top = min(top, -ascent)
            bottom = max(bottom, descent)
            left = min(left, 0)
            width = int(right - left) + 2 * TEXT_PAD_X
            height = int(bottom - top) + 2 * TEXT_PAD_Y
            canvas = Image.new("L", (width, height), 0)
            ImageDraw.Draw(canvas).text(
                (TEXT_PAD_X - left, TEXT_PAD_Y - top), text, font=font, fill=255, anchor="ls"
            )
        return np.asarray(canvas) >= INK_THRESHOLD

    def fit_size(self, text: str, size: int, bold: bool, max_width: int) -> int:
        """The largest size <= ``size`` at which ``text`` fits on one line."""
        width = self.text_width(text, size, bold)
        if width <= max_width:
            return size
        size = max(8, int(size * max_width / width))
        while size > 8 and self.text_width(text, size, bold) > max_width:
            size -= 1
        return size


@functools.lru_cache(maxsize=8)
def _rasterizer_for(regular_path: str, bold_path: str) -> TextRasterizer:
    return TextRasterizer(regular_path, bold_path)


def rasterizer_for(regular_path: str | None = None, bold_path: str | None = None) -> TextRasterizer:
    """A shared rasterizer for these font files (default: :func:`find_font`)."""
    return _rasterizer_for(regular_path or find_font(False), bold_path or find_font(True))
