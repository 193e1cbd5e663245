"""Devices, network streams and video files, read through cv2.VideoCapture."""

from __future__ import annotations

import logging
import os
import sys
import time
from collections.abc import Callable
from typing import Any

import cv2
import numpy as np

from drivers.camera.settings import CameraSettings
from drivers.camera.source_spec import SourceError, SourceLost, SourceSpec

log = logging.getLogger(__name__)

CaptureFactory = Callable[..., Any]  # cv2.VideoCapture or a stand-in with the same methods


class CaptureSource:
    """A FrameSource over cv2.VideoCapture.

    - device: a local camera; frames are live (stale ones may be dropped); the driver is
      asked for a one-frame buffer so the newest picture is decoded.
    - stream: RTSP/HTTP/...; opened with FFmpeg and the open/read timeouts of the settings.
    - file: a video file, played in a loop (it is reopened at its end); not live.

    ``lost_after_failures`` failed reads in a row raise SourceLost.
    """

    def __init__(
        self,
        spec: SourceSpec,
        settings: CameraSettings,
        *,
        capture_factory: CaptureFactory = cv2.VideoCapture,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if spec.kind == "folder":
            raise ValueError("a folder is read by FolderSource")
        self._spec = spec
        self._settings = settings
        self._factory = capture_factory
        self._sleep = sleep
        self._cap: Any = None
        self._failures = 0
        self._frames_since_open = 0

    @property
    def name(self) -> str:
        return self._spec.display_name

    @property
    def live(self) -> bool:
        return self._spec.kind != "file"

    @property
    def spec(self) -> SourceSpec:
        return self._spec

    def open(self) -> None:
        self.close()
        reason = self._missing_reason()
        if reason:
            raise SourceError(reason)
        settings = self._settings
        if self._spec.kind == "stream":
            params = [
                cv2.CAP_PROP_OPEN_TIMEOUT_MSEC,
                int(settings.open_timeout * 1000),
                cv2.CAP_PROP_READ_TIMEOUT_MSEC,
                int(settings.read_timeout * 1000),
            ]
            cap = self._factory(self._spec.target, cv2.CAP_FFMPEG, params)
        else:
            cap = self._factory(self._spec.target, settings.api_preference)
        if not cap.isOpened():
            cap.release()
            raise SourceError(f"không mở được {self._what()} {self.name}")
        if self._spec.kind == "device":
            cap.set(cv2.CAP_PROP_BUFFERSIZE, 1)
            if settings.frame_width:
                cap.set(cv2.CAP_PROP_FRAME_WIDTH, settings.frame_width)
            if settings.frame_height:
                cap.set(cv2.CAP_PROP_FRAME_HEIGHT, settings.frame_height)
        self._cap = cap
        self._failures = 0
        self._frames_since_open = 0
        log.debug("opened %s %s", self._spec.kind, self.name)

    def read(self, timeout: float) -> np.ndarray | None:
        if self._cap is None:
            raise SourceLost(f"{self._what()} {self.name} chưa được mở")
        ok, frame = self._cap.read()
        if ok and frame is not None and frame.size:
            self._failures = 0
            self._frames_since_open += 1
            return frame
        if self._spec.kind == "file" and self._frames_since_open:
            log.debug("end of %s, playing it again", self.name)
            try:
                self.open()
            except SourceError as exc:
                raise SourceLost(str(exc)) from exc
            return None
        self._failures += 1
        if self._failures >= self._settings.lost_after_failures:
            raise SourceLost(
                f"không nhận được hình từ {self._what()} {self.name} "
                f"({self._failures} lần đọc lỗi liên tiếp)"
            )
        self._sleep(min(self._settings.failed_read_pause, max(timeout, 0.0)))
        return None

    def close(self) -> None:
        cap, self._cap = self._cap, None
        if cap is not None:
            try:
                cap.release()
            except Exception:  # a driver error on release must not stop the scanner
                log.exception("error releasing %s", self.name)

    def _what(self) -> str:
        return {"device": "camera", "stream": "luồng video", "file": "tệp video"}[self._spec.kind]

    def _missing_reason(self) -> str | None:
        """A clear reason when a local device or file plainly does not exist."""
        target = self._spec.target
        if self._spec.kind == "file" and not os.path.exists(str(target)):
            return f"không tìm thấy tệp video {target}"
        if self._spec.kind == "device" and sys.platform.startswith("linux"):
            path = f"/dev/video{target}" if isinstance(target, int) else str(target)
            if not os.path.exists(path):
                return f"không tìm thấy camera {path}"
        return None
