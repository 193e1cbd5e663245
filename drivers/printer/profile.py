"""Printer profiles: what the paper and the printer's firmware can do."""

from __future__ import annotations

from dataclasses import dataclass, replace
from types import MappingProxyType
from typing import Mapping


@dataclass(frozen=True)
class PrinterProfile:
    """Settings of one printer model / paper roll.

    width_dots:      printable dots per line (576 for 80 mm heads, 384 for 58 mm; 203 dpi).
    native_qr:       the firmware prints QR codes itself (GS ( k); otherwise a raster image.
    native_ascii:    pure-ASCII lines may use the printer's own font (fewer bytes).
    force_raster:    render every text line as an image, whatever its characters
                     (QR codes follow native_qr).
    cut:             the printer has an auto-cutter (GS V); otherwise only feed.
    partial_cut:     leave a small bridge (GS V 1) instead of a full cut (GS V 0).
    feed_before_cut: lines fed before cutting so the last line clears the cutter.
    text_px:         raster font sizes (pixels) for small, normal, large, xlarge.
    big_px:          raster font size of the ticket number (shrunk to fit the width).
    font_path / bold_font_path: TTF files for raster text (None: Be Vietnam Pro,
                     falling back to DejaVu Sans).
    raster_band_rows: tallest GS v 0 band sent at once (small printer buffers).
    """

    name: str = "80mm"
    width_dots: int = 576
    native_qr: bool = True
    native_ascii: bool = True
    force_raster: bool = False
    cut: bool = True
    partial_cut: bool = True
    feed_before_cut: int = 4
    text_px: tuple[int, int, int, int] = (20, 26, 36, 48)
    big_px: int = 170
    font_path: str | None = None
    bold_font_path: str | None = None
    raster_band_rows: int = 256

    def __post_init__(self) -> None:
        if self.width_dots <= 0 or self.width_dots % 8:
            raise ValueError("width_dots must be a positive multiple of 8")
        if not 1 <= self.raster_band_rows <= 2303:
            raise ValueError("raster_band_rows must be between 1 and 2303")
        if not 0 <= self.feed_before_cut <= 255:
            raise ValueError("feed_before_cut must be between 0 and 255")

    @property
    def width_bytes(self) -> int:
        return self.width_dots // 8

    def with_options(self, **changes: object) -> "PrinterProfile":
        """A copy with some settings changed (e.g. ``force_raster=True``)."""
        return replace(self, **changes)  # type: ignore[arg-type]


PRESETS: Mapping[str, PrinterProfile] = MappingProxyType(
    {
        "80mm": PrinterProfile(name="80mm", width_dots=576),
        "58mm": PrinterProfile(
            name="58mm",
            width_dots=384,
            text_px=(18, 22, 30, 40),
            big_px=130,
            feed_before_cut=3,
        ),
    }
)


def get_profile(name: str, **changes: object) -> PrinterProfile:
    """The preset called ``name`` ("80mm" or "58mm"), optionally with changes."""
    try:
        profile = PRESETS[name]
    except KeyError:
        raise ValueError(
            f"unknown printer profile {name!r}; known: {', '.join(sorted(PRESETS))}"
        ) from None
    return profile.with_options(**changes) if changes else profile
