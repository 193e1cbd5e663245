"""Test images of Code128 barcodes and QR codes, clean or degraded like a camera frame.

The bar pattern comes from python-barcode (``Code128.build()``) and the QR matrix from
segno; both are drawn here at an exact pixel size with numpy and Pillow, so a test knows
the module width it asked for. ``degrade`` then adds what a kiosk camera adds: scaling,
rotation, defocus blur, sensor noise, uneven exposure and JPEG compression.

Everything is deterministic: randomness only comes from a ``numpy.random.Generator``
seeded by the caller.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import barcode
import numpy as np
import segno
from PIL import Image, ImageDraw, ImageFilter

DOSSIER_CODE = "000.17.22.H56-210531-0001"
LOOKUP_URL = "https://dichvucong.example.vn/tra-cuu?MHS=000.17.22.H56-210531-0001"

RGB = tuple[int, int, int]
BLACK: RGB = (0, 0, 0)
WHITE: RGB = (255, 255, 255)
PAPER: RGB = (236, 234, 226)
DESK: RGB = (96, 88, 80)


def code128_modules(text: str) -> str:
    """The Code128 module string ('1' = bar, '0' = space) python-barcode builds for text."""
    return barcode.get_barcode_class("code128")(text, writer=None).build()[0]


def code128_image(
    text: str,
    *,
    module_px: int = 2,
    bar_height_px: int = 80,
    quiet_modules: int = 10,
    ink: RGB = BLACK,
    paper: RGB = WHITE,
) -> Image.Image:
    """An RGB image of a Code128 barcode with a quiet zone on every side."""
    modules = np.frombuffer(code128_modules(text).encode("ascii"), dtype=np.uint8) == ord("1")
    row = np.concatenate(
        [np.zeros(quiet_modules, bool), modules, np.zeros(quiet_modules, bool)]
    ).repeat(module_px)
    margin = quiet_modules * module_px // 2
    bars = np.zeros((bar_height_px + 2 * margin, row.size), dtype=bool)
    bars[margin : margin + bar_height_px] = row
    return _paint(bars, ink, paper)


def qr_image(
    text: str,
    *,
    module_px: int = 4,
    border_modules: int = 4,
    error: str = "m",
    ink: RGB = BLACK,
    paper: RGB = WHITE,
) -> Image.Image:
    """An RGB image of a QR code (text encoded by segno, UTF-8 for non-Latin text)."""
    qr = segno.make_qr(text, error=error)
    matrix = np.array([list(r) for r in qr.matrix], dtype=bool)
    matrix = np.pad(matrix, border_modules)
    return _paint(matrix.repeat(module_px, 0).repeat(module_px, 1), ink, paper)


def _paint(mask: np.ndarray, ink: RGB, paper: RGB) -> Image.Image:
    out = np.empty(mask.shape + (3,), dtype=np.uint8)
    out[...] = paper
    out[mask] = ink
    return Image.fromarray(out, "RGB")


def receipt_frame(
    code: Image.Image,
    size: tuple[int, int] = (640, 480),
    *,
    center: tuple[float, float] = (0.5, 0.5),
    paper: RGB = PAPER,
    desk: RGB = DESK,
    text_lines: bool = True,
) -> Image.Image:
    """A camera-like frame: a sheet of paper on a desk with the code (and some print) on it."""
    width, height = size
    frame = Image.new("RGB", size, desk)
    draw = ImageDraw.Draw(frame)
    cx, cy = int(center[0] * width), int(center[1] * height)
    sheet_w = max(code.width + 40, int(width * 0.8))
    sheet_h = max(code.height + 40, int(height * 0.85))
    draw.rectangle(
        (cx - sheet_w // 2, cy - sheet_h // 2, cx + sheet_w // 2, cy + sheet_h // 2), fill=paper
    )
    if text_lines:
        # Grey strokes standing for the printed receipt text above and below the code.
        step = max(12, height // 30)
        for y in range(cy - sheet_h // 2 + step, cy + sheet_h // 2 - step, step):
            if abs(y - cy) < code.height // 2 + step:
                continue
            length = (y * 7919) % (sheet_w // 2) + sheet_w // 4
            x0 = cx - sheet_w // 2 + 20
            draw.line((x0, y, x0 + length, y), fill=(70, 70, 70), width=max(2, step // 4))
    frame.paste(code, (cx - code.width // 2, cy - code.height // 2))
    return frame


@dataclass(frozen=True)
class Degradation:
    """What the camera does to a frame; the defaults change nothing."""

    scale: float = 1.0
    rotate_deg: float = 0.0
    blur_sigma: float = 0.0
    noise_sigma: float = 0.0
    brightness: float = 0.0  # added to every pixel, -255..255
    contrast: float = 1.0  # multiplies the distance from mid-grey
    jpeg_quality: int | None = None


def degrade(image: Image.Image, d: Degradation, *, seed: int = 0) -> Image.Image:
    """Apply a Degradation; the output has the input's size (scaling happens around the centre)."""
    size = image.size
    out = image
    if d.scale != 1.0 or d.rotate_deg:
        fill = image.getpixel((0, 0))
        if d.scale != 1.0:
            scaled = out.resize(
                (max(1, round(size[0] * d.scale)), max(1, round(size[1] * d.scale))),
                Image.Resampling.BILINEAR,
            )
            canvas = Image.new("RGB", size, fill)
            canvas.paste(scaled, ((size[0] - scaled.width) // 2, (size[1] - scaled.height) // 2))
            out = canvas
        if d.rotate_deg:
            out = out.rotate(d.rotate_deg, resample=Image.Resampling.BILINEAR, fillcolor=fill)
    if d.blur_sigma > 0:
        out = out.filter(ImageFilter.GaussianBlur(d.blur_sigma))
    if d.noise_sigma > 0 or d.brightness or d.contrast != 1.0:
        arr = np.asarray(out, dtype=np.float32)
        arr = (arr - 128.0) * d.contrast + 128.0 + d.brightness
        if d.noise_sigma > 0:
            rng = np.random.default_rng(seed)
            arr += rng.standard_normal(arr.shape, dtype=np.float32) * np.float32(d.noise_sigma)
        out = Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8), "RGB")
    if d.jpeg_quality is not None:
        out = Image.open(io.BytesIO(jpeg_bytes(out, d.jpeg_quality))).convert("RGB")
    return out


def jpeg_bytes(image: Image.Image, quality: int = 85) -> bytes:
    buf = io.BytesIO()
    image.convert("RGB").save(buf, "JPEG", quality=quality)
    return buf.getvalue()


def png_bytes(image: Image.Image) -> bytes:
    buf = io.BytesIO()
    image.save(buf, "PNG")
    return buf.getvalue()


def to_bgr(image: Image.Image) -> np.ndarray:
    """The frame as OpenCV hands it over: a HxWx3 uint8 array in BGR order."""
    return np.ascontiguousarray(np.asarray(image.convert("RGB"), dtype=np.uint8)[:, :, ::-1])


def save_image(image: Image.Image, path: Path, *, quality: int = 90) -> Path:
    """Write PNG or JPEG according to the suffix of path."""
    if path.suffix.lower() in (".jpg", ".jpeg"):
        path.write_bytes(jpeg_bytes(image, quality))
    else:
        path.write_bytes(png_bytes(image))
    return path


def code128_frame(
    text: str = DOSSIER_CODE, size: tuple[int, int] = (640, 480), *, module_px: int = 2
) -> Image.Image:
    """A clean frame with a Code128 of text sized for the frame."""
    code = code128_image(text, module_px=module_px, bar_height_px=max(60, size[1] // 5))
    return receipt_frame(code, size)


def qr_frame(
    text: str = LOOKUP_URL, size: tuple[int, int] = (640, 480), *, module_px: int = 4
) -> Image.Image:
    """A clean frame with a QR code of text."""
    return receipt_frame(qr_image(text, module_px=module_px), size)


@dataclass(frozen=True)
class NoisyFrame:
    """One frame of the noisy set, with the answer a decoder should give."""

    index: int
    text: str
    symbology: str  # "code128" or "qrcode"
    size: tuple[int, int]
    code_width_px: int  # width of the code (quiet zone included) before rotation
    degradation: Degradation
    image: Image.Image


def fit_width(image: Image.Image, width: int) -> Image.Image:
    """Resize keeping the aspect ratio; area averaging, as a camera sensor integrates light."""
    height = max(1, round(image.height * width / image.width))
    return image.resize((width, height), Image.Resampling.BOX)


@dataclass(frozen=True)
class NoiseProfile:
    """Ranges (uniform) of the noisy frame set; see noisy_frames."""

    code128_span_640: tuple[float, float]  # barcode width / frame width at 640x480
    code128_span_1280: tuple[float, float]  # the same at 1280x720
    qr_span: tuple[float, float]  # QR width / frame height
    code128_rotation: float  # +- degrees
    qr_rotation: float  # +- degrees
    blur_sigma: tuple[float, float]
    noise_sigma: tuple[float, float]
    brightness: tuple[float, float]
    contrast: tuple[float, float]
    jpeg_quality: tuple[int, int]
    jpeg_share: float


# A receipt held inside the kiosk's placement guide: at 640x480 the Code128 of a dossier
# code must span at least 3/4 of the frame (about 1.5 px per module) to be readable.
NORMAL = NoiseProfile(
    code128_span_640=(0.75, 0.95),
    code128_span_1280=(0.5, 0.95),
    qr_span=(0.30, 0.65),
    code128_rotation=6.0,
    qr_rotation=30.0,
    blur_sigma=(0.0, 1.0),
    noise_sigma=(0.0, 20.0),
    brightness=(-40.0, 30.0),
    contrast=(0.6, 1.0),
    jpeg_quality=(40, 95),
    jpeg_share=2 / 3,
)
# Beyond the guide: smaller codes (down to 1.25 px per module at 640x480) and more blur.
# Reported by the bench for information; no target.
HARSH = NoiseProfile(
    code128_span_640=(0.6, 0.95),
    code128_span_1280=(0.35, 0.95),
    qr_span=(0.22, 0.65),
    code128_rotation=8.0,
    qr_rotation=45.0,
    blur_sigma=(0.0, 1.5),
    noise_sigma=(0.0, 30.0),
    brightness=(-60.0, 40.0),
    contrast=(0.45, 1.0),
    jpeg_quality=(25, 95),
    jpeg_share=2 / 3,
)


def noisy_frames(
    count: int = 200, *, seed: int = 20260101, profile: NoiseProfile = NORMAL
) -> list[NoisyFrame]:
    """A deterministic, varied set of degraded frames: half Code128, half QR.

    Frame sizes alternate between 640x480 and 1280x720. The Code128 holds a dossier code
    (25 characters, 288 modules plus a 10-module quiet zone each side); its bars are a
    quarter as tall as the code is wide. The QR holds a lookup URL (version 5, 45 modules
    with the border). Each frame draws its span, rotation, blur, noise, brightness,
    contrast and JPEG quality from the profile's ranges.
    """
    rng = np.random.default_rng(seed)
    p = profile
    frames: list[NoisyFrame] = []
    for i in range(count):
        size = (640, 480) if i % 4 < 2 else (1280, 720)
        is_qr = i % 2 == 1
        seq = int(rng.integers(1, 9999))
        code_text = f"000.17.22.H56-{int(rng.integers(210101, 251231)):06d}-{seq:04d}"
        if is_qr:
            text = f"https://dichvucong.example.vn/tra-cuu?MHS={code_text}"
            code = qr_image(text, module_px=8)
            width = round(size[1] * float(rng.uniform(*p.qr_span)))
            rotate = float(rng.uniform(-p.qr_rotation, p.qr_rotation))
        else:
            text = code_text
            code = code128_image(text, module_px=4, bar_height_px=308)
            span = p.code128_span_640 if size[0] == 640 else p.code128_span_1280
            width = round(size[0] * float(rng.uniform(*span)))
            rotate = float(rng.uniform(-p.code128_rotation, p.code128_rotation))
        d = Degradation(
            rotate_deg=rotate,
            blur_sigma=float(rng.uniform(*p.blur_sigma)),
            noise_sigma=float(rng.uniform(*p.noise_sigma)),
            brightness=float(rng.uniform(*p.brightness)),
            contrast=float(rng.uniform(*p.contrast)),
            jpeg_quality=(
                int(rng.integers(p.jpeg_quality[0], p.jpeg_quality[1] + 1))
                if rng.random() < p.jpeg_share
                else None
            ),
        )
        base = receipt_frame(fit_width(code, width), size)
        frames.append(
            NoisyFrame(
                index=i,
                text=text,
                symbology="qrcode" if is_qr else "code128",
                size=size,
                code_width_px=width,
                degradation=d,
                image=degrade(base, d, seed=seed + i),
            )
        )
    return frames
