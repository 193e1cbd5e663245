"""Source strings, the watched-folder source and the VideoCapture source, on real files."""

from __future__ import annotations

import os
import socket
import sys
from contextlib import closing
from pathlib import Path

import cv2
import numpy as np
import pytest

from drivers.camera.capture_source import CaptureSource
from drivers.camera.decoding import decode_frame
from drivers.camera.folder_source import FolderSource, looks_complete
from drivers.camera.settings import CameraSettings
from drivers.camera.source_spec import SourceError, SourceLost, parse_source, redact_url
from drivers.camera.sources import make_source

try:  # tests/conftest.py puts tests/ on sys.path
    import barcode_images as bi
except ImportError:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    import barcode_images as bi

FAST = CameraSettings(poll_interval=0.02, settle_time=0.05)


def closed_port() -> int:
    with closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# Source strings ---------------------------------------------------------------------------
def test_parse_source_kinds(tmp_path):
    video = tmp_path / "demo.avi"
    video.write_bytes(b"x")
    assert (parse_source("0").kind, parse_source("0").target) == ("device", 0)
    assert parse_source(" 2 ").target == 2
    assert parse_source("/dev/video0").target == 0
    assert parse_source("rtsp://10.0.0.5:554/stream1").kind == "stream"
    assert parse_source("http://127.0.0.1:8080/video.mjpg").kind == "stream"
    assert parse_source(f"folder://{tmp_path}").target == str(tmp_path)  # folder:///abs
    assert parse_source("folder://DATA/camera").target == "DATA/camera"
    assert parse_source(str(tmp_path)).kind == "folder"
    assert parse_source("DATA/camera").kind == "folder"  # no suffix: a folder to create
    assert parse_source(f"file://{video}").kind == "file"
    assert parse_source(str(video)).kind == "file"
    assert parse_source("/missing/clip.mp4").kind == "file"
    with pytest.raises(ValueError, match="nguồn camera"):
        parse_source("   ")
    with pytest.raises(ValueError, match="Không nhận ra"):
        parse_source("receipt.png")


def test_device_symlink_is_resolved(tmp_path):
    link = tmp_path / "usb-cam-video-index0"
    link.symlink_to("/dev/video3")
    # Stable names such as /dev/v4l/by-id/usb-...-video-index0 are symlinks to /dev/videoN.
    spec = parse_source(str(link))
    assert (spec.kind, spec.target) == ("device", 3)
    assert parse_source("/dev/video3").target == 3


def test_passwords_are_not_shown():
    assert redact_url("rtsp://admin:s3cret@10.0.0.5:554/live") == "rtsp://admin:***@10.0.0.5:554/live"
    assert redact_url("http://10.0.0.5/x.mjpg") == "http://10.0.0.5/x.mjpg"
    assert "s3cret" not in parse_source("rtsp://admin:s3cret@10.0.0.5/live").display_name


# Folder source ----------------------------------------------------------------------------
def test_a_dropped_png_is_one_frame_and_is_moved_to_done(tmp_path):
    source = FolderSource(tmp_path / "camera", FAST)
    source.open()
    assert (tmp_path / "camera" / "done").is_dir()
    assert source.read(0.1) is None
    bi.save_image(bi.qr_frame(), tmp_path / "camera" / "scan 1.png")
    frame = source.read(2.0)
    assert frame is not None and frame.shape == (480, 640, 3)
    assert [d.text for d in decode_frame(frame)] == [bi.LOOKUP_URL]
    assert not (tmp_path / "camera" / "scan 1.png").exists()
    assert (tmp_path / "camera" / "done" / "scan 1.png").is_file()
    assert source.read(0.2) is None  # not read twice


def test_files_waiting_at_open_are_read_oldest_first_and_done_names_do_not_clash(tmp_path):
    folder = tmp_path / "cam"
    (folder / "done").mkdir(parents=True)
    (folder / "done" / "b.jpg").write_bytes(b"old")
    bi.save_image(bi.code128_frame("000.17.22.H56-210531-0002"), folder / "b.jpg")
    bi.save_image(bi.code128_frame("000.17.22.H56-210531-0001"), folder / "a.png")
    os.utime(folder / "b.jpg", ns=(1_000_000_000, 1_000_000_000))
    source = FolderSource(folder, FAST)
    source.open()
    first, second = source.read(2.0), source.read(2.0)
    assert [d.text for d in decode_frame(first)] == ["000.17.22.H56-210531-0002"]
    assert [d.text for d in decode_frame(second)] == ["000.17.22.H56-210531-0001"]
    assert (folder / "done" / "b.jpg").read_bytes() == b"old"
    assert (folder / "done" / "b-1.jpg").is_file()


@pytest.mark.parametrize("suffix", [".png", ".jpg"])
def test_a_file_still_being_written_is_not_read_until_complete(tmp_path, suffix):
    folder = tmp_path / "cam"
    source = FolderSource(folder, FAST)
    source.open()
    image = bi.code128_frame()
    data = bi.png_bytes(image) if suffix == ".png" else bi.jpeg_bytes(image, 90)
    assert looks_complete(data) and not looks_complete(data[: len(data) // 2])
    target = folder / f"receipt{suffix}"
    target.write_bytes(data[: len(data) // 2])  # the writer stalls half-way
    assert source.read(0.4) is None  # settled in size, but not a whole image
    assert target.exists()
    with target.open("ab") as f:
        f.write(data[len(data) // 2 :])
    frame = source.read(2.0)
    assert frame is not None
    assert [d.text for d in decode_frame(frame)] == [bi.DOSSIER_CODE]


def test_other_files_are_ignored_and_unreadable_images_are_set_aside(tmp_path):
    folder = tmp_path / "cam"
    settings = CameraSettings(poll_interval=0.02, settle_time=0.02, unreadable_after=0.2)
    source = FolderSource(folder, settings)
    source.open()
    (folder / "notes.txt").write_text("không phải ảnh")
    (folder / ".hidden.png").write_bytes(bi.png_bytes(bi.qr_frame()))
    (folder / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 100 + b"IEND\0\0\0\0")
    assert source.read(0.6) is None
    assert (folder / "done" / "broken.png").is_file()
    assert (folder / "notes.txt").is_file() and (folder / ".hidden.png").is_file()


def test_when_the_done_folder_cannot_be_used_files_are_remembered(tmp_path):
    folder = tmp_path / "cam"
    source = FolderSource(folder, FAST)
    source.open()
    (folder / "done").rmdir()
    (folder / "done").write_text("a file where the folder should be")
    bi.save_image(bi.qr_frame(), folder / "x.png")
    assert source.read(2.0) is not None
    assert (folder / "x.png").is_file()  # could not be moved
    assert source.read(0.3) is None  # but it is not read again
    bi.save_image(bi.code128_frame(), folder / "x.png")  # a new file of the same name is new
    assert source.read(2.0) is not None


def test_a_vanished_folder_is_lost_and_reopening_creates_it(tmp_path):
    folder = tmp_path / "cam"
    source = FolderSource(folder, FAST)
    source.open()
    (folder / "done").rmdir()
    folder.rmdir()
    with pytest.raises(SourceLost, match="không còn"):
        source.read(0.2)
    source.open()
    assert folder.is_dir()


def test_a_folder_that_cannot_be_created_is_an_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(SourceError, match="không tạo được thư mục"):
        FolderSource(blocker / "cam", FAST).open()
    with pytest.raises(SourceError, match="không có thư mục"):
        FolderSource(tmp_path / "absent", CameraSettings(create_folder=False)).open()


# VideoCapture source ----------------------------------------------------------------------
def write_video(path: Path, frames: list[np.ndarray], fps: float = 10.0) -> Path:
    height, width = frames[0].shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, (width, height))
    assert writer.isOpened()
    for frame in frames:
        writer.write(frame)
    writer.release()
    return path


def test_video_file_frames_are_read_and_the_file_loops(tmp_path):
    blank = bi.to_bgr(bi.receipt_frame(bi.code128_image("X", module_px=1), (320, 240)))
    qr = bi.to_bgr(bi.qr_frame(bi.LOOKUP_URL, (320, 240), module_px=3))
    video = write_video(tmp_path / "clip.avi", [blank, qr, blank])
    source = make_source(str(video), FAST)
    assert not source.live
    source.open()
    frames = [source.read(1.0) for _ in range(8)]
    source.close()
    got = [f for f in frames if f is not None]
    assert len(got) >= 5  # 3 frames, then the file played again
    assert sum(bool(decode_frame(f, ["qrcode"])) for f in got) >= 2


def test_missing_video_file_and_device_fail_to_open_at_once(tmp_path):
    with pytest.raises(SourceError, match="không tìm thấy tệp video"):
        make_source(str(tmp_path / "none.mp4"), FAST).open()
    device = make_source("/dev/video99", FAST)
    assert device.live
    with pytest.raises(SourceError, match="video99"):
        device.open()
    device.close()


def test_unreachable_stream_fails_to_open(tmp_path):
    settings = CameraSettings(open_timeout=2.0, read_timeout=2.0)
    source = make_source(f"http://127.0.0.1:{closed_port()}/video.mjpg", settings)
    with pytest.raises(SourceError, match="luồng video"):
        source.open()


class FlakyCapture:
    """Stands in for cv2.VideoCapture: delivers n frames, then every read fails."""

    def __init__(self, target, api, params=None, *, frames: int = 2):
        self.left = frames
        self.released = False

    def isOpened(self) -> bool:
        return True

    def set(self, prop, value) -> bool:
        return True

    def read(self):
        if self.left > 0:
            self.left -= 1
            return True, np.zeros((4, 4, 3), np.uint8)
        return False, None

    def release(self) -> None:
        self.released = True


def test_a_device_that_stops_delivering_is_lost_after_the_set_number_of_failures():
    settings = CameraSettings(lost_after_failures=3, failed_read_pause=0.0)
    spec = parse_source("rtsp://127.0.0.1/cam")
    made: list[FlakyCapture] = []

    def factory(*args):
        made.append(FlakyCapture(*args))
        return made[-1]

    source = CaptureSource(spec, settings, capture_factory=factory)
    source.open()
    assert source.read(0.1) is not None and source.read(0.1) is not None
    assert source.read(0.1) is None and source.read(0.1) is None
    with pytest.raises(SourceLost, match="3 lần đọc lỗi"):
        source.read(0.1)
    source.close()
    assert made[0].released
