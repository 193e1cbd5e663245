"""Camera barcode/QR scanner driver (OpenCV frames, pyzbar decoding).

Generic: imports nothing from motcua or the screens. States are reported as by every driver
(drivers.state: ``on_state(name, state, detail)``). See docs/hardware-camera.md.
"""

from drivers.camera.decoding import (
    DEFAULT_SYMBOLOGIES,
    SYMBOLOGIES,
    Decoded,
    decode_frame,
    resolve_symbologies,
    to_gray,
)
from drivers.camera.scanner import CameraScanner, ScannerStats
from drivers.camera.settings import CameraSettings
from drivers.camera.source_spec import (
    FrameSource,
    SourceError,
    SourceLost,
    SourceSpec,
    parse_source,
)
from drivers.camera.sources import make_source

__all__ = [
    "DEFAULT_SYMBOLOGIES",
    "SYMBOLOGIES",
    "CameraScanner",
    "CameraSettings",
    "Decoded",
    "FrameSource",
    "ScannerStats",
    "SourceError",
    "SourceLost",
    "SourceSpec",
    "decode_frame",
    "make_source",
    "parse_source",
    "resolve_symbologies",
    "to_gray",
]
