"""The demo's simulated camera: every PNG/JPEG file dropped into a folder is one frame.

The folder is listed every ``poll_interval`` seconds (no file-watching package needed).
A file is read once it is completely written: its size and modification time have not
changed for ``settle_time`` and its bytes end like a whole PNG (IEND chunk) or JPEG (EOI
marker). It is then moved to the ``done`` sub-folder, so it is never read twice; if the
move fails it is remembered by name, size and time instead. Files already waiting when
the source opens are read too, oldest first.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from drivers.camera.settings import CameraSettings
from drivers.camera.source_spec import SourceError, SourceLost

log = logging.getLogger(__name__)

IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg"})
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
JPEG_SOI = b"\xff\xd8"
JPEG_EOI = b"\xff\xd9"


def looks_complete(data: bytes) -> bool:
    """True when data is a PNG ending with its IEND chunk or a JPEG ending with EOI."""
    if data.startswith(PNG_SIGNATURE):
        return len(data) >= 12 and data[-8:-4] == b"IEND"
    if data.startswith(JPEG_SOI):
        return data.rstrip(b"\x00\r\n ").endswith(JPEG_EOI)
    return False


def decode_image(data: bytes) -> np.ndarray | None:
    """A BGR frame from PNG/JPEG bytes, or None when they do not decode."""
    if not data:
        return None
    return cv2.imdecode(np.frombuffer(data, dtype=np.uint8), cv2.IMREAD_COLOR)


@dataclass
class _Watch:
    size: int
    mtime_ns: int
    since: float  # clock time this size/mtime was first seen


Signature = tuple[str, int, int]  # name, size, mtime_ns


class FolderSource:
    """A FrameSource over a watched folder (see the module docstring)."""

    def __init__(
        self,
        folder: Path,
        settings: CameraSettings,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._folder = Path(folder)
        self._settings = settings
        self._clock = clock
        self._sleep = sleep
        self._watch: dict[str, _Watch] = {}
        self._remembered: set[Signature] = set()
        self._open = False
        self.last_file: Path | None = None
        """Where the file behind the last frame went (in the done folder, normally)."""

    @property
    def name(self) -> str:
        return str(self._folder)

    @property
    def live(self) -> bool:
        return False

    @property
    def folder(self) -> Path:
        return self._folder

    @property
    def done_folder(self) -> Path:
        return self._folder / self._settings.done_dir

    def open(self) -> None:
        try:
            if self._settings.create_folder:
                self.done_folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise SourceError(f"không tạo được thư mục {self._folder}: {exc.strerror}") from exc
        if not self._folder.is_dir():
            raise SourceError(f"không có thư mục {self._folder}")
        self._watch.clear()
        self._open = True

    def close(self) -> None:
        self._open = False
        self._watch.clear()

    def read(self, timeout: float) -> np.ndarray | None:
        if not self._open:
            raise SourceLost(f"thư mục {self._folder} chưa được mở")
        deadline = self._clock() + max(timeout, 0.0)
        while True:
            frame = self._poll_once()
            if frame is not None:
                return frame
            remaining = deadline - self._clock()
            if remaining <= 0:
                return None
            self._sleep(min(self._settings.poll_interval, remaining))

    def _poll_once(self) -> np.ndarray | None:
        now = self._clock()
        try:
            entries = [
                entry
                for entry in os.scandir(self._folder)
                if entry.is_file()
                and not entry.name.startswith((".", "~"))
                and Path(entry.name).suffix.lower() in IMAGE_SUFFIXES
            ]
        except FileNotFoundError as exc:
            raise SourceLost(f"thư mục {self._folder} không còn") from exc
        except OSError as exc:
            raise SourceLost(f"không đọc được thư mục {self._folder}: {exc.strerror}") from exc

        ready: list[tuple[int, str, _Watch]] = []
        present: set[str] = set()
        for entry in entries:
            try:
                stat = entry.stat()
            except OSError:
                continue  # removed meanwhile
            present.add(entry.name)
            if (entry.name, stat.st_size, stat.st_mtime_ns) in self._remembered:
                continue
            watch = self._watch.get(entry.name)
            if watch is None or (watch.size, watch.mtime_ns) != (stat.st_size, stat.st_mtime_ns):
                self._watch[entry.name] = _Watch(stat.st_size, stat.st_mtime_ns, now)
                continue
            if watch.size > 0 and now - watch.since >= self._settings.settle_time:
                ready.append((watch.mtime_ns, entry.name, watch))
        for name in list(self._watch):
            if name not in present:
                del self._watch[name]
        self._remembered = {sig for sig in self._remembered if sig[0] in present}

        for _mtime, name, watch in sorted(ready, key=lambda item: (item[0], item[1])):
            frame = self._take(name, watch, now)
            if frame is not None:
                return frame
        return None

    def _take(self, name: str, watch: _Watch, now: float) -> np.ndarray | None:
        """The frame in a settled file, or None (not complete yet, or set aside)."""
        path = self._folder / name
        try:
            data = path.read_bytes()
        except OSError:
            return None
        if len(data) != watch.size:
            del self._watch[name]  # still changing; start settling again
            return None
        overdue = now - watch.since >= self._settings.unreadable_after
        if not looks_complete(data) and not overdue:
            return None
        frame = decode_image(data)
        if frame is None:
            if not overdue:
                return None
            log.warning("camera folder: %s is not a readable PNG/JPEG; set aside", path)
        self._finish(name, watch)
        return frame

    def _finish(self, name: str, watch: _Watch) -> None:
        """Move a processed file to the done folder, or remember it."""
        del self._watch[name]
        source = self._folder / name
        target = self._free_name(name)
        try:
            os.replace(source, target)
            self.last_file = target
        except OSError as exc:
            log.warning("camera folder: cannot move %s to %s (%s); remembering it", source, target, exc)
            self._remembered.add((name, watch.size, watch.mtime_ns))
            self.last_file = source

    def _free_name(self, name: str) -> Path:
        done = self.done_folder
        try:
            done.mkdir(exist_ok=True)
        except OSError:
            pass
        target = done / name
        stem, suffix = os.path.splitext(name)
        n = 1
        while target.exists():
            target = done / f"{stem}-{n}{suffix}"
            n += 1
        return target
