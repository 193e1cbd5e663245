"""Named timeouts and knobs of the camera driver (all times in seconds)."""

from __future__ import annotations

from dataclasses import dataclass

import cv2

from drivers.camera.decoding import DEFAULT_MAX_SIDE


@dataclass(frozen=True)
class CameraSettings:
    """Everything about a frame source that is not the source string itself.

    The scanner's own knobs (symbologies, dedupe window, frame rate, reconnect backoff)
    are arguments of CameraScanner.
    """

    # Device, stream and video-file sources (OpenCV VideoCapture).
    open_timeout: float = 5.0
    """Longest wait for an RTSP/HTTP stream to open (FFmpeg's CAP_PROP_OPEN_TIMEOUT_MSEC).
    Local devices and files open or fail at once."""
    read_timeout: float = 5.0
    """Longest wait for one frame of an RTSP/HTTP stream (CAP_PROP_READ_TIMEOUT_MSEC).
    A V4L2 device read is bounded by OpenCV's select() timeout instead (10 s unless the
    environment variable OPENCV_VIDEOIO_V4L_SELECT_TIMEOUT sets another)."""
    lost_after_failures: int = 5
    """Consecutive failed reads after which an open device or stream is declared lost."""
    failed_read_pause: float = 0.05
    """Pause after a failed read before the next try, so a dead device is not spun on."""
    frame_width: int | None = None
    """Width asked of a local camera (None: the driver's default)."""
    frame_height: int | None = None
    """Height asked of a local camera (None: the driver's default)."""
    api_preference: int = cv2.CAP_ANY
    """OpenCV backend for devices and files (cv2.CAP_V4L2, cv2.CAP_DSHOW...). Streams always
    use FFmpeg, the backend that honours the two timeouts above."""

    # Folder source (the demo's simulated camera).
    poll_interval: float = 0.1
    """How often the watched folder is listed."""
    settle_time: float = 0.1
    """A new file is read once its size and modification time have not changed for this
    long and it ends like a complete PNG/JPEG."""
    unreadable_after: float = 5.0
    """A file that stays unchanged this long but still cannot be decoded is set aside
    (moved to the done folder, logged) so it does not block the folder."""
    done_dir: str = "done"
    """Sub-folder processed files are moved to. If a move fails the file's name, size and
    time are remembered instead, so it is not read twice."""
    create_folder: bool = True
    """Create the watched folder (and the done folder) when it does not exist."""

    # Scanner loop.
    read_wait: float = 0.25
    """Longest single wait for a frame before the reader thread checks for stop()."""
    stop_timeout: float = 2.0
    """How long stop() waits for the background threads. A thread stuck inside a driver
    call is left to end on its own (it is a daemon and closes its source when it returns)."""
    max_decode_side: int | None = DEFAULT_MAX_SIDE
    """Frames whose longest side is larger are shrunk before decoding (None: never)."""
    cycle_passes: bool = True
    """For live sources, run one decoding pass per frame, taking the passes in turn, so
    an empty scene costs one pass per frame; consecutive frames of a camera are nearly the
    same picture. Folder images and video frames always get every pass."""

    def __post_init__(self) -> None:
        for name in (
            "open_timeout",
            "read_timeout",
            "failed_read_pause",
            "poll_interval",
            "settle_time",
            "unreadable_after",
            "read_wait",
            "stop_timeout",
        ):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must not be negative")
        if self.lost_after_failures < 1:
            raise ValueError("lost_after_failures must be at least 1")
        if not self.done_dir or "/" in self.done_dir or "\\" in self.done_dir:
            raise ValueError("done_dir must be a plain folder name")
