"""Open the right frame source for a source string (see source_spec for the strings)."""

from __future__ import annotations

from pathlib import Path

from drivers.camera.capture_source import CaptureSource
from drivers.camera.folder_source import FolderSource
from drivers.camera.settings import CameraSettings
from drivers.camera.source_spec import FrameSource, SourceSpec, parse_source


def make_source(source: str | SourceSpec, settings: CameraSettings | None = None) -> FrameSource:
    """A closed FrameSource for a source string or parsed spec; ValueError if unrecognised."""
    spec = source if isinstance(source, SourceSpec) else parse_source(source)
    settings = settings or CameraSettings()
    if spec.kind == "folder":
        return FolderSource(Path(str(spec.target)), settings)
    return CaptureSource(spec, settings)
