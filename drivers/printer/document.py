"""Generic print document model.

The core builds a :class:`PrintDocument` out of these blocks; the printer driver turns it
into ESC/POS bytes (see :mod:`drivers.printer.encoder`). Nothing here knows about
printers, paper widths or byte codes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Union

from PIL import Image

TextSize = Literal["small", "normal", "large", "xlarge"]
Align = Literal["left", "center", "right"]

TEXT_SIZES: tuple[str, ...] = ("small", "normal", "large", "xlarge")
ALIGNMENTS: tuple[str, ...] = ("left", "center", "right")


def _check_align(align: str) -> None:
    if align not in ALIGNMENTS:
        raise ValueError(f"align must be one of {ALIGNMENTS}, not {align!r}")


@dataclass(frozen=True)
class Text:
    """One or more lines of text (``\\n`` separates lines; long lines are wrapped)."""

    text: str
    size: TextSize = "normal"
    bold: bool = False
    align: Align = "center"

    def __post_init__(self) -> None:
        if self.size not in TEXT_SIZES:
            raise ValueError(f"size must be one of {TEXT_SIZES}, not {self.size!r}")
        _check_align(self.align)


@dataclass(frozen=True)
class BigText:
    """The ticket number: printed as large as the paper allows, centred."""

    text: str


@dataclass(frozen=True)
class QRCode:
    """A QR code; ``module_size`` is the width of one QR module in printer dots."""

    data: str
    module_size: int = 6
    align: Align = "center"

    def __post_init__(self) -> None:
        if not 1 <= self.module_size <= 16:
            raise ValueError("module_size must be between 1 and 16 dots")
        if not self.data:
            raise ValueError("QR data must not be empty")
        _check_align(self.align)


@dataclass(frozen=True)
class ImageBlock:
    """A picture (logo...). Scaled down to the paper width if wider; dithered to 1 bit."""

    image: Image.Image
    align: Align = "center"

    def __post_init__(self) -> None:
        _check_align(self.align)


@dataclass(frozen=True)
class Rule:
    """A horizontal line across the paper."""


@dataclass(frozen=True)
class Feed:
    """Blank lines."""

    lines: int = 1

    def __post_init__(self) -> None:
        if not 0 <= self.lines <= 255:
            raise ValueError("lines must be between 0 and 255")


@dataclass(frozen=True)
class Cut:
    """Feed past the cutter and cut the paper (only feeds on printers without a cutter)."""


Block = Union[Text, BigText, QRCode, ImageBlock, Rule, Feed, Cut]


@dataclass
class PrintDocument:
    """What to print, top to bottom. ``title`` is for logs and job lists only."""

    blocks: list[Block] = field(default_factory=list)
    title: str = ""
