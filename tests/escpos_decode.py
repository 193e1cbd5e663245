"""An independent ESC/POS reader for tests: rebuilds the paper a printer would produce.

It walks the byte stream command by command and keeps a virtual paper. It knows the
commands a receipt printer needs for tickets: ESC @, ESC a, ESC !, ESC E, ESC J, ESC d,
ESC 2, ESC 3, GS !, GS v 0, GS ( k (QR, cn 49), GS V, LF, printable ASCII and DLE EOT.
Anything else raises :class:`DecodeError`, so a test notices bytes a printer would not
understand. Raster images are placed with their alignment, native text is drawn with
DejaVu Sans Mono scaled to the printer's cells (12x24 dots font A, 9x17 font B) times the
magnification, and native QR codes are re-rendered with segno from the stored data.

This module must not import the driver's encoder: it is the second opinion.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import segno
from PIL import Image, ImageDraw, ImageFont

MONO = "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf"
MONO_BOLD = "/usr/share/fonts/truetype/dejavu/DejaVuSansMono-Bold.ttf"

FONT_A = (12, 24)
FONT_B = (9, 17)
DEFAULT_LINE_SPACING = 30
FEED_AFTER_CUT = 0


class DecodeError(ValueError):
    """Bytes that are not a command this reader (or a plain ESC/POS printer) knows."""


@dataclass
class DecodedText:
    text: str
    align: str
    bold: bool
    font_b: bool
    width_mag: int
    height_mag: int
    y: int


@dataclass
class DecodedImage:
    width: int
    height: int
    align: str
    x: int
    y: int
    ink: np.ndarray = field(repr=False)


@dataclass
class DecodedQR:
    data: str
    module_size: int
    error: str
    align: str
    y: int


@dataclass
class DecodeResult:
    paper: Image.Image
    texts: list[DecodedText]
    images: list[DecodedImage]
    qrs: list[DecodedQR]
    cuts: list[str]
    inits: int
    realtime_queries: list[int]
    warnings: list[str]
    commands: list[str]

    @property
    def qr_payloads(self) -> list[str]:
        return [q.data for q in self.qrs]

    @property
    def text_lines(self) -> list[str]:
        return [t.text for t in self.texts]

    @property
    def cut(self) -> bool:
        return bool(self.cuts)


_ALIGN = {0: "left", 1: "center", 2: "right", 48: "left", 49: "center", 50: "right"}
_QR_ERR = {48: "l", 49: "m", 50: "q", 51: "h"}


class _Fonts:
    def __init__(self) -> None:
        self._cache: dict[tuple[bool, int], ImageFont.FreeTypeFont] = {}

    def get(self, bold: bool, size: int) -> ImageFont.FreeTypeFont:
        key = (bold, size)
        if key not in self._cache:
            self._cache[key] = ImageFont.truetype(MONO_BOLD if bold else MONO, size)
        return self._cache[key]


@dataclass
class _Run:
    text: str
    font_b: bool
    bold: bool
    w: int
    h: int


class _Paper:
    def __init__(self, width: int) -> None:
        self.width = width
        self.y = 0
        self.pieces: list[tuple[int, int, np.ndarray]] = []  # x, y, ink

    def x_for(self, width: int, align: str) -> int:
        if align == "center":
            return max(0, (self.width - width) // 2)
        if align == "right":
            return max(0, self.width - width)
        return 0

    def place(self, ink: np.ndarray, align: str) -> tuple[int, int]:
        x = self.x_for(ink.shape[1], align)
        y = self.y
        self.pieces.append((x, y, ink))
        return x, y

    def render(self, bottom_margin: int = 16) -> Image.Image:
        height = max(self.y, max((y + ink.shape[0] for _, y, ink in self.pieces), default=0))
        canvas = np.zeros((height + bottom_margin, self.width), dtype=bool)
        for x, y, ink in self.pieces:
            h, w = ink.shape
            w = min(w, self.width - x)
            if w > 0:
                canvas[y : y + h, x : x + w] |= ink[:, :w]
        return Image.fromarray(np.where(canvas, 0, 255).astype(np.uint8), mode="L")


class _Decoder:
    def __init__(self, data: bytes, width: int) -> None:
        self.data = data
        self.pos = 0
        self.paper = _Paper(width)
        self.fonts = _Fonts()
        self.texts: list[DecodedText] = []
        self.images: list[DecodedImage] = []
        self.qrs: list[DecodedQR] = []
        self.cuts: list[str] = []
        self.inits = 0
        self.realtime: list[int] = []
        self.warnings: list[str] = []
        self.commands: list[str] = []
        self.qr_store: dict[str, object] = {"data": None, "size": 3, "error": "l"}
        self.line: list[_Run] = []
        self.reset()

    # ---------------------------------------------------------------- state
    def reset(self) -> None:
        self.align = "left"
        self.font_b = False
        self.bold = False
        self.mag_w = 1
        self.mag_h = 1
        self.line_spacing = DEFAULT_LINE_SPACING

    def take(self, n: int) -> bytes:
        if self.pos + n > len(self.data):
            raise DecodeError(f"command cut short at offset {self.pos}")
        chunk = self.data[self.pos : self.pos + n]
        self.pos += n
        return chunk

    # ---------------------------------------------------------------- text
    def add_char(self, ch: str) -> None:
        style = (self.font_b, self.bold, self.mag_w, self.mag_h)
        if self.line and (
            self.line[-1].font_b,
            self.line[-1].bold,
            self.line[-1].w,
            self.line[-1].h,
        ) == style:
            self.line[-1].text += ch
        else:
            self.line.append(_Run(ch, *style))

    def run_ink(self, run: _Run) -> np.ndarray:
        cell_w, cell_h = FONT_B if run.font_b else FONT_A
        out_w = cell_w * run.w * len(run.text)
        out_h = cell_h * run.h
        # Draw at the cell height, then stretch to the magnified cell grid.
        size = max(6, int(cell_h * run.h * 0.82))
        font = self.fonts.get(run.bold, size)
        left, top, right, bottom = font.getbbox(run.text)
        advance = max(1, int(font.getlength(run.text)))
        img = Image.new("L", (advance + 4, int(size * 1.25) + 4), 0)
        ImageDraw.Draw(img).text((2, 2), run.text, font=font, fill=255)
        img = img.resize((out_w, out_h), Image.Resampling.BICUBIC)
        return np.asarray(img) >= 128

    def print_line(self, feed: int | None = None) -> None:
        """Print the line buffer and advance by ``feed`` dots (None: line spacing)."""
        if self.line:
            inks = [self.run_ink(r) for r in self.line]
            height = max(i.shape[0] for i in inks)
            width = sum(i.shape[1] for i in inks)
            ink = np.zeros((height, width), dtype=bool)
            x = 0
            for part in inks:
                # Characters of different heights share the baseline (bottom).
                ink[height - part.shape[0] :, x : x + part.shape[1]] = part
                x += part.shape[1]
            text = "".join(r.text for r in self.line)
            first = self.line[0]
            _, y = self.paper.place(ink, self.align)
            self.texts.append(
                DecodedText(
                    text=text,
                    align=self.align,
                    bold=any(r.bold for r in self.line),
                    font_b=first.font_b,
                    width_mag=max(r.w for r in self.line),
                    height_mag=max(r.h for r in self.line),
                    y=y,
                )
            )
            self.line = []
            advance = max(height, self.line_spacing) if feed is None else max(height, feed)
            self.paper.y += advance
        else:
            self.paper.y += self.line_spacing if feed is None else feed

    # ---------------------------------------------------------------- commands
    def esc(self) -> None:
        cmd = self.take(1)
        if cmd == b"@":
            self.commands.append("ESC @")
            if self.line:
                self.warnings.append("ESC @ discarded unprinted text")
            self.line = []
            self.reset()
            self.inits += 1
        elif cmd == b"a":
            n = self.take(1)[0]
            if n not in _ALIGN:
                raise DecodeError(f"ESC a {n} out of range")
            self.align = _ALIGN[n]
            self.commands.append(f"ESC a {n}")
        elif cmd == b"!":
            n = self.take(1)[0]
            self.font_b = bool(n & 0x01)
            self.bold = bool(n & 0x08)
            self.mag_h = 2 if n & 0x10 else 1
            self.mag_w = 2 if n & 0x20 else 1
            self.commands.append(f"ESC ! {n}")
        elif cmd == b"E":
            n = self.take(1)[0]
            self.bold = bool(n & 0x01)
            self.commands.append(f"ESC E {n}")
        elif cmd == b"J":
            n = self.take(1)[0]
            self.print_line(feed=n)
            self.commands.append(f"ESC J {n}")
        elif cmd == b"d":
            n = self.take(1)[0]
            self.print_line()
            self.paper.y += self.line_spacing * max(0, n - 1)
            self.commands.append(f"ESC d {n}")
        elif cmd == b"2":
            self.line_spacing = DEFAULT_LINE_SPACING
            self.commands.append("ESC 2")
        elif cmd == b"3":
            self.line_spacing = self.take(1)[0]
            self.commands.append(f"ESC 3 {self.line_spacing}")
        else:
            raise DecodeError(f"unknown command ESC {cmd!r} at offset {self.pos - 2}")

    def gs(self) -> None:
        cmd = self.take(1)
        if cmd == b"!":
            n = self.take(1)[0]
            self.mag_w = (n >> 4) + 1
            self.mag_h = (n & 0x0F) + 1
            if self.mag_w > 8 or self.mag_h > 8:
                raise DecodeError(f"GS ! {n:#x} out of range")
            self.commands.append(f"GS ! {n:#04x}")
        elif cmd == b"v":
            self.raster()
        elif cmd == b"(":
            self.gs_paren()
        elif cmd == b"V":
            m = self.take(1)[0]
            if m in (65, 66):
                self.take(1)
            elif m not in (0, 1, 48, 49):
                raise DecodeError(f"GS V {m} out of range")
            if self.line:
                self.print_line()
            kind = "full" if m in (0, 48, 65) else "partial"
            self.cuts.append(kind)
            self.paper.y += FEED_AFTER_CUT
            self.commands.append(f"GS V {m}")
        else:
            raise DecodeError(f"unknown command GS {cmd!r} at offset {self.pos - 2}")

    def raster(self) -> None:
        if self.take(1) != b"0":
            raise DecodeError("only GS v 0 raster images are known")
        m, xl, xh, yl, yh = self.take(5)
        width_bytes = xl + xh * 256
        rows = yl + yh * 256
        if width_bytes == 0 or rows == 0:
            raise DecodeError("GS v 0 with an empty image")
        packed = np.frombuffer(self.take(width_bytes * rows), dtype=np.uint8)
        ink = np.unpackbits(packed.reshape(rows, width_bytes), axis=1).astype(bool)
        mode = m & 0x03
        if mode & 1:
            ink = np.repeat(ink, 2, axis=1)
        if mode & 2:
            ink = np.repeat(ink, 2, axis=0)
        if self.line:
            self.warnings.append("GS v 0 sent with text in the print buffer")
            self.print_line()
        if ink.shape[1] > self.paper.width:
            self.warnings.append(
                f"raster {ink.shape[1]} dots wide on {self.paper.width}-dot paper"
            )
        x, y = self.paper.place(ink, self.align)
        self.images.append(DecodedImage(ink.shape[1], ink.shape[0], self.align, x, y, ink))
        self.paper.y += ink.shape[0]
        self.commands.append(f"GS v 0 {width_bytes * 8}x{rows}")

    def gs_paren(self) -> None:
        sub = self.take(1)
        pl, ph = self.take(2)
        body = self.take(pl + ph * 256)
        if sub != b"k":
            raise DecodeError(f"unknown command GS ( {sub!r}")
        if len(body) < 2:
            raise DecodeError("GS ( k too short")
        cn, fn = body[0], body[1]
        if cn != 49:
            raise DecodeError(f"GS ( k symbol {cn} is not QR")
        if fn == 65:  # model
            pass
        elif fn == 67:
            self.qr_store["size"] = body[2]
        elif fn == 69:
            self.qr_store["error"] = _QR_ERR.get(body[2], "l")
        elif fn == 80:
            self.qr_store["data"] = body[3:].decode("utf-8")
        elif fn == 81:
            self.print_qr()
        else:
            raise DecodeError(f"GS ( k QR function {fn} unknown")
        self.commands.append(f"GS ( k fn {fn}")

    def print_qr(self) -> None:
        data = self.qr_store["data"]
        if data is None:
            self.warnings.append("QR print without stored data")
            return
        if self.line:
            self.warnings.append("QR printed with text in the print buffer")
            self.print_line()
        size = int(self.qr_store["size"])  # type: ignore[arg-type]
        error = str(self.qr_store["error"])
        qr = segno.make_qr(str(data), error=error, boost_error=False)
        matrix = np.array([list(r) for r in qr.matrix], dtype=bool)
        ink = np.kron(matrix, np.ones((size, size), dtype=bool)).astype(bool)
        _, y = self.paper.place(ink, self.align)
        self.qrs.append(DecodedQR(str(data), size, error, self.align, y))
        self.paper.y += ink.shape[0]

    def dle(self) -> None:
        cmd = self.take(1)
        if cmd != b"\x04":
            raise DecodeError(f"unknown command DLE {cmd!r}")
        n = self.take(1)[0]
        self.realtime.append(n)
        self.commands.append(f"DLE EOT {n}")

    def run(self) -> DecodeResult:
        while self.pos < len(self.data):
            byte = self.data[self.pos]
            self.pos += 1
            if byte == 0x1B:
                self.esc()
            elif byte == 0x1D:
                self.gs()
            elif byte == 0x10:
                self.dle()
            elif byte == 0x0A:
                self.print_line()
                self.commands.append("LF")
            elif byte == 0x0D:
                continue  # CR: ignored by most printers when LF follows
            elif 0x20 <= byte < 0x7F:
                self.add_char(chr(byte))
            elif byte >= 0x80:
                self.warnings.append(f"byte {byte:#x} at {self.pos - 1} needs a code page")
                self.add_char("?")
            else:
                raise DecodeError(f"unknown control byte {byte:#04x} at offset {self.pos - 1}")
        if self.line:
            self.warnings.append("text left in the print buffer at the end")
            self.print_line()
        return DecodeResult(
            paper=self.paper.render(),
            texts=self.texts,
            images=self.images,
            qrs=self.qrs,
            cuts=self.cuts,
            inits=self.inits,
            realtime_queries=self.realtime,
            warnings=self.warnings,
            commands=self.commands,
        )


def decode(data: bytes, width_dots: int = 576) -> DecodeResult:
    """Walk ``data`` and rebuild the paper of a ``width_dots``-wide printer."""
    return _Decoder(bytes(data), width_dots).run()
