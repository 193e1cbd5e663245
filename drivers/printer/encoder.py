"""PrintDocument -> ESC/POS bytes.

Rules:
- every job starts with ESC @ (initialise);
- a line with any non-ASCII character (Vietnamese), or every line when the profile says
  ``force_raster`` or not ``native_ascii``, is drawn with a TrueType font into a 1-bit image
  as wide as the text itself, placed with ESC a and sent as GS v 0;
- pure-ASCII lines use the printer's font (ESC ! font, GS ! magnification, ESC E bold),
  the ticket number with a large GS ! magnification;
- QR codes via GS ( k when the profile has ``native_qr``, else a raster image (segno);
- Cut -> feed, then GS V (a document without any Cut gets one at the end when the printer
  has a cutter).
"""

from __future__ import annotations

import logging
import unicodedata
from dataclasses import dataclass

import numpy as np

from .document import BigText, Block, Cut, Feed, ImageBlock, PrintDocument, QRCode, Rule, Text
from .escpos_raster import (
    TextRasterizer,
    image_to_ink,
    ink_to_raster,
    qr_to_ink,
    rasterizer_for,
    rule_ink,
)
from .profile import PrinterProfile

log = logging.getLogger(__name__)

ESC = b"\x1b"
GS = b"\x1d"
LF = b"\n"

INIT = ESC + b"@"
ALIGN_CODES = {"left": 0, "center": 1, "right": 2}

# Printer font cells (dots): font A 12x24, font B 9x17.
FONT_A_WIDTH = 12
FONT_B_WIDTH = 9
# size -> (font B?, GS ! magnification)
NATIVE_SIZES: dict[str, tuple[bool, int]] = {
    "small": (True, 1),
    "normal": (False, 1),
    "large": (False, 2),
    "xlarge": (False, 3),
}
MAX_MAGNIFICATION = 8
BIG_TEXT_MAX_MAGNIFICATION = 7
SIZE_INDEX = {"small": 0, "normal": 1, "large": 2, "xlarge": 3}

# Dots of blank paper above and below a QR code (quiet zone) and around a rule.
QR_QUIET_DOTS = 24
RULE_GAP_DOTS = 8
QR_ERROR_LEVELS = {"l": 48, "m": 49, "q": 50, "h": 51}
QR_ERROR = "m"


def is_ascii_printable(text: str) -> bool:
    return all(0x20 <= ord(ch) < 0x7F for ch in text)


def clean_line(text: str) -> str:
    """NFC (precomposed Vietnamese letters draw best), no control characters, single spaces."""
    text = unicodedata.normalize("NFC", text)
    return " ".join("".join(ch if ch.isprintable() else " " for ch in text).split())


def feed_dots(dots: int) -> bytes:
    """ESC J n: print the buffer and feed ``dots`` dots (in steps of at most 255)."""
    out = bytearray()
    while dots > 0:
        step = min(dots, 255)
        out += ESC + b"J" + bytes((step,))
        dots -= step
    return bytes(out)


def magnification(width: int, height: int) -> bytes:
    """GS ! n with width and height multipliers 1..8."""
    return GS + b"!" + bytes((((width - 1) << 4) | (height - 1),))


def qr_native(data: str, module_size: int, error: str = QR_ERROR) -> bytes:
    """GS ( k: select model 2, module size, error level, store data, print."""
    payload = data.encode("utf-8")
    if len(payload) > 7089:
        raise ValueError("QR data too long")

    def fn(body: bytes) -> bytes:
        size = len(body)
        return GS + b"(k" + bytes((size & 0xFF, size >> 8)) + body

    return (
        fn(b"1A2\x00")  # fn 165: model 2
        + fn(b"1C" + bytes((module_size,)))  # fn 167: module size
        + fn(b"1E" + bytes((QR_ERROR_LEVELS[error],)))  # fn 169: error correction
        + fn(b"1P0" + payload)  # fn 180: store data
        + fn(b"1Q0")  # fn 181: print the stored symbol
    )


@dataclass
class _Encoder:
    profile: PrinterProfile
    rasterizer: TextRasterizer

    def __post_init__(self) -> None:
        self.out = bytearray(INIT)
        self.align: int | None = None

    # -- helpers
    def set_align(self, align: str) -> None:
        code = ALIGN_CODES[align]
        if code != self.align:
            self.out += ESC + b"a" + bytes((code,))
            self.align = code

    def raster(self, ink: np.ndarray, align: str) -> None:
        if ink.size == 0:
            return
        if ink.shape[1] > self.profile.width_dots:
            ink = ink[:, : self.profile.width_dots]
        self.set_align(align)
        self.out += ink_to_raster(ink, self.profile.raster_band_rows)

    def native_allowed(self, text: str) -> bool:
        p = self.profile
        return p.native_ascii and not p.force_raster and is_ascii_printable(text)

    # -- blocks
    def text(self, block: Text) -> None:
        for raw_line in block.text.split("\n"):
            line = clean_line(raw_line)
            if self.native_allowed(line):
                self.native_text(line, block)
            else:
                self.raster_text(line, block)

    def native_text(self, line: str, block: Text) -> None:
        font_b, mag = NATIVE_SIZES[block.size]
        cell = (FONT_B_WIDTH if font_b else FONT_A_WIDTH) * mag
        columns = max(1, self.profile.width_dots // cell)
        chunks = _wrap_columns(line, columns)
        self.set_align(block.align)
        self.out += ESC + b"!" + (b"\x01" if font_b else b"\x00")
        if mag > 1:
            self.out += magnification(mag, mag)
        if block.bold:
            self.out += ESC + b"E\x01"
        for chunk in chunks:
            self.out += chunk.encode("ascii") + LF
        if block.bold:
            self.out += ESC + b"E\x00"
        if mag > 1:
            self.out += magnification(1, 1)
        if font_b:
            self.out += ESC + b"!\x00"

    def raster_text(self, line: str, block: Text) -> None:
        size = self.profile.text_px[SIZE_INDEX[block.size]]
        if not line:
            self.raster(self.rasterizer.render("", size, block.bold), block.align)
            return
        for part in self.rasterizer.wrap(line, size, block.bold, self.profile.width_dots):
            self.raster(self.rasterizer.render(part, size, block.bold), block.align)

    def big_text(self, block: BigText) -> None:
        text = clean_line(block.text)
        if not text:
            return
        width = self.profile.width_dots
        if self.native_allowed(text):
            mag = min(BIG_TEXT_MAX_MAGNIFICATION, width // (FONT_A_WIDTH * len(text)))
            if mag >= 2:
                self.set_align("center")
                self.out += magnification(mag, mag) + ESC + b"E\x01"
                self.out += text.encode("ascii") + LF
                self.out += ESC + b"E\x00" + magnification(1, 1)
                return
        size = self.rasterizer.fit_size(text, self.profile.big_px, True, width)
        self.raster(self.rasterizer.render(text, size, bold=True), "center")

    def qr(self, block: QRCode) -> None:
        self.out += feed_dots(QR_QUIET_DOTS)
        self.set_align(block.align)
        if self.profile.native_qr:
            self.out += qr_native(block.data, block.module_size)
        else:
            ink = qr_to_ink(block.data, block.module_size, QR_ERROR)
            if ink.shape[1] > self.profile.width_dots:
                # Shrink the modules until the symbol fits the paper.
                modules = ink.shape[1] // block.module_size
                ink = qr_to_ink(block.data, max(1, self.profile.width_dots // modules))
            self.raster(ink, block.align)
        self.out += feed_dots(QR_QUIET_DOTS)

    def image(self, block: ImageBlock) -> None:
        self.raster(image_to_ink(block.image, self.profile.width_dots), block.align)

    def rule(self) -> None:
        self.out += feed_dots(RULE_GAP_DOTS)
        self.raster(rule_ink(self.profile.width_dots), "left")
        self.out += feed_dots(RULE_GAP_DOTS)

    def feed(self, block: Feed) -> None:
        self.out += LF * block.lines

    def cut(self) -> None:
        p = self.profile
        if p.feed_before_cut:
            self.out += ESC + b"d" + bytes((p.feed_before_cut,))
        if p.cut:
            self.out += GS + b"V" + (b"\x01" if p.partial_cut else b"\x00")

    def block(self, block: Block) -> None:
        if isinstance(block, Text):
            self.text(block)
        elif isinstance(block, BigText):
            self.big_text(block)
        elif isinstance(block, QRCode):
            self.qr(block)
        elif isinstance(block, ImageBlock):
            self.image(block)
        elif isinstance(block, Rule):
            self.rule()
        elif isinstance(block, Feed):
            self.feed(block)
        elif isinstance(block, Cut):
            self.cut()
        else:
            raise TypeError(f"unknown print block {type(block).__name__}")


def _wrap_columns(text: str, columns: int) -> list[str]:
    """Word wrap for the printer's fixed-width font."""
    words = text.split(" ")
    lines: list[str] = []
    current = ""
    for word in words:
        while len(word) > columns:
            if current:
                lines.append(current)
                current = ""
            lines.append(word[:columns])
            word = word[columns:]
        candidate = f"{current} {word}" if current else word
        if len(candidate) <= columns:
            current = candidate
        else:
            lines.append(current)
            current = word
    lines.append(current)
    return lines


def encode_document(
    doc: PrintDocument,
    profile: PrinterProfile,
    rasterizer: TextRasterizer | None = None,
) -> bytes:
    """The exact ESC/POS bytes that print ``doc`` on a printer described by ``profile``."""
    if rasterizer is None:
        rasterizer = rasterizer_for(profile.font_path, profile.bold_font_path)
    enc = _Encoder(profile, rasterizer)
    for block in doc.blocks:
        enc.block(block)
    if not any(isinstance(b, Cut) for b in doc.blocks):
        enc.cut()
    data = bytes(enc.out)
    log.debug("encoded %r: %d blocks, %d bytes", doc.title, len(doc.blocks), len(data))
    return data
