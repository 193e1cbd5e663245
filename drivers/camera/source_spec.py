"""The frame source interface and the source strings that choose one.

==========================================  ==========  =====================================
Source string                               Kind        Read with
==========================================  ==========  =====================================
``0``, ``1`` ...                            device      cv2.VideoCapture(index)
``/dev/video0``, ``/dev/v4l/by-id/...``     device      cv2.VideoCapture (symlinks resolved)
``rtsp://``, ``http(s)://``, ``rtmp://``... stream      cv2.VideoCapture, FFmpeg, timeouts
``file:///x.mp4`` or an existing file path  file        cv2.VideoCapture (plays in a loop)
``folder:///path``, ``folder://rel/path``,  folder      new PNG/JPEG files, cv2.imdecode
a directory, a path ending in ``/``, or a
path without a suffix
==========================================  ==========  =====================================
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol
from urllib.parse import unquote, urlsplit, urlunsplit

import numpy as np

SourceKind = Literal["device", "stream", "file", "folder"]

STREAM_SCHEMES = frozenset({"rtsp", "rtsps", "rtmp", "http", "https", "udp", "tcp", "srt"})
VIDEO_SUFFIXES = frozenset(
    {".mp4", ".avi", ".mkv", ".mov", ".webm", ".m4v", ".mjpg", ".mjpeg", ".ts", ".mpg", ".wmv"}
)
_DEV_VIDEO = re.compile(r"^/dev/video(\d+)$")


class SourceError(Exception):
    """The source could not be opened (missing device, refused stream, no such file)."""


class SourceLost(Exception):
    """An open source stopped delivering frames (unplugged, stream dropped, folder gone)."""


class FrameSource(Protocol):
    """What the scanner needs from a source. One thread uses a source at a time."""

    @property
    def name(self) -> str:
        """Human-readable name for logs and state details (no passwords)."""
        ...

    @property
    def live(self) -> bool:
        """True when frames come in real time and stale ones may be dropped (cameras,
        streams); False when every frame matters (folder images, video files)."""
        ...

    def open(self) -> None:
        """Open the source; raises SourceError."""
        ...

    def read(self, timeout: float) -> np.ndarray | None:
        """The next BGR frame, or None when none came within about timeout seconds.
        Raises SourceLost when the source is gone."""
        ...

    def close(self) -> None:
        """Release the source; safe to call twice or when not open."""
        ...


@dataclass(frozen=True)
class SourceSpec:
    """A parsed source string."""

    kind: SourceKind
    target: int | str  # device index or path, URL, file path or folder path
    text: str  # the string as given

    @property
    def display_name(self) -> str:
        if self.kind == "device":
            return f"/dev/video{self.target}" if isinstance(self.target, int) else str(self.target)
        if self.kind == "stream":
            return redact_url(str(self.target))
        return str(self.target)


def redact_url(url: str) -> str:
    """The URL with any password replaced by ***."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    user = parts.username or ""
    return urlunsplit(parts._replace(netloc=f"{user}:***@{host}"))


def _strip_scheme(text: str, scheme: str) -> str:
    rest = text[len(scheme) + 1 :]
    if rest.startswith("//"):
        rest = rest[2:]  # folder:///abs -> /abs ; folder://rel/dir -> rel/dir
    return unquote(rest)


def parse_source(text: str) -> SourceSpec:
    """Classify a source string (see the table at the top of this module).

    Raises ValueError for an empty or unrecognisable string.
    """
    raw = text
    text = text.strip()
    if not text:
        raise ValueError("Chưa cấu hình nguồn camera (empty camera source)")
    if text.isdigit():
        return SourceSpec("device", int(text), raw)
    scheme = text.split(":", 1)[0].lower() if ":" in text else ""
    if len(scheme) > 1:  # one letter would be a Windows drive, C:\...
        if scheme in STREAM_SCHEMES:
            return SourceSpec("stream", text, raw)
        if scheme == "folder":
            return SourceSpec("folder", _strip_scheme(text, "folder"), raw)
        if scheme == "file":
            path = _strip_scheme(text, "file")
            kind: SourceKind = "folder" if os.path.isdir(path) or path.endswith("/") else "file"
            return SourceSpec(kind, path, raw)
        if scheme in ("device", "v4l2", "camera"):
            rest = _strip_scheme(text, scheme)
            return parse_source(rest) if rest else SourceSpec("device", 0, raw)
    match = _DEV_VIDEO.match(os.path.realpath(text))  # /dev/v4l/by-id/... are symlinks
    if match:
        return SourceSpec("device", int(match.group(1)), raw)
    if text.startswith("/dev/"):
        return SourceSpec("device", text, raw)
    if os.path.isdir(text) or text.endswith(("/", os.sep)):
        return SourceSpec("folder", text, raw)
    suffix = Path(text).suffix.lower()
    if os.path.isfile(text) or suffix in VIDEO_SUFFIXES:
        return SourceSpec("file", text, raw)
    if not suffix:
        return SourceSpec("folder", text, raw)
    raise ValueError(f"Không nhận ra nguồn camera: {text!r} (unrecognised camera source)")
