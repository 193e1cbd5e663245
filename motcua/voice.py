"""The clip library service: keeps the office's voice clips ready and finds them for the web.

The default library (espeak-ng clips and the chime, see docs/voice.md) lives in
``<data_dir>/voice``. :func:`start_voice_library` checks it in a background thread at start-up
and generates whatever is missing, so the server answers at once; the displays fetch clips
from ``/voice/<name>.wav`` (an office recording in ``voice/custom/`` wins over the generated
clip) and ``/voice/manifest.json``.
"""
from __future__ import annotations

import json
import logging
import os
import re
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .speech import (
    EspeakNotFoundError,
    LibraryStatus,
    SpeechSynthesisError,
    generate_library,
    library_status,
    resolve_clip,
)

log = logging.getLogger(__name__)

VOICE_SUBDIR = "voice"
MANIFEST_NAME = "manifest.json"
# Clip names are lower-case ASCII words joined by "_" (docs/voice.md); anything else is refused.
CLIP_NAME = re.compile(r"^[a-z0-9][a-z0-9_]{0,79}$")

GENERATE_ENV = "MOTCUA_VOICE_GENERATE"  # "0": never generate at start-up (serve what is there)

# Generation runs beside a live server: few espeak-ng processes at once, at a low priority.
GENERATION_WORKERS = 2
GENERATION_NICE = 10

# States of the library, as reported by GET /api/v1/voice/status.
IDLE = "idle"  # not checked yet
CHECKING = "checking"
GENERATING = "generating"
READY = "ready"
FAILED = "failed"  # espeak-ng missing or failing: the screens still show calls, without voice

STATE_MESSAGES = {
    IDLE: "Chưa kiểm tra thư viện giọng đọc.",
    CHECKING: "Đang kiểm tra thư viện giọng đọc...",
    GENERATING: "Đang tạo thư viện giọng đọc bằng espeak-ng (chỉ một lần, vài giây)...",
    READY: "Thư viện giọng đọc sẵn sàng.",
    FAILED: "Không tạo được thư viện giọng đọc.",
}


@dataclass
class VoiceLibrary:
    """The office's clip library and the state of its background generation."""

    directory: Path
    templates: tuple[str, ...] = ()
    state: str = IDLE
    message: str = STATE_MESSAGES[IDLE]
    started_at: float | None = None
    finished_at: float | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _thread: threading.Thread | None = field(default=None, repr=False)

    # Background generation --------------------------------------------------------------
    def start(self, *, force: bool = False) -> bool:
        """Check (and if needed generate) the library in a background thread.

        Returns False when a run is already going on (nothing new is started)."""
        with self._lock:
            if self._thread is not None and self._thread.is_alive():
                return False
            self._set(CHECKING)
            self._thread = threading.Thread(target=self._run, args=(force,), name="motcua-voice", daemon=True)
            self._thread.start()
            return True

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for the background run to end; True when it ended (whatever the result)."""
        th = self._thread
        if th is None:
            return True
        th.join(timeout)
        return not th.is_alive()

    def _set(self, state: str, message: str | None = None) -> None:
        self.state = state
        self.message = message or STATE_MESSAGES[state]

    def _run(self, force: bool) -> None:
        self.started_at = time.monotonic()
        _lower_thread_priority()
        try:
            if not force:
                st = self.status()
                if st.complete and st.manifest_present:
                    self._set(READY)
                    log.info("Thư viện giọng đọc đã đủ (%d đoạn) trong %s", len(st.available), self.directory)
                    return
            self._set(GENERATING)
            generate_library(self.directory, templates=self.templates, force=force, workers=GENERATION_WORKERS)
            st = self.status()
            if st.complete:
                self._set(READY)
            else:
                self._set(FAILED, "Thư viện giọng đọc còn thiếu: " + ", ".join((*st.missing, *st.invalid)[:10]))
        except EspeakNotFoundError as exc:
            self._set(FAILED, str(exc))
            log.warning("%s", exc)
        except (SpeechSynthesisError, OSError, ValueError) as exc:
            self._set(FAILED, f"Không tạo được thư viện giọng đọc: {exc}")
            log.exception("voice library generation failed")
        finally:
            self.finished_at = time.monotonic()

    # Reading ---------------------------------------------------------------------------
    def status(self) -> LibraryStatus:
        return library_status(self.directory, templates=self.templates)

    def clip_path(self, name: str) -> Path | None:
        """The file to serve for clip ``name`` (custom recording first), or None."""
        if not isinstance(name, str) or not CLIP_NAME.fullmatch(name):
            return None
        # The name is the only thing a request chooses, and the pattern leaves no room for a
        # path; files (or symlinks) the office itself puts in the library are served as they are.
        path = resolve_clip(self.directory, name)
        return path if path is not None and path.is_file() else None

    def manifest(self) -> dict[str, Any] | None:
        """The manifest written by generate_library, with ``file`` and ``source`` corrected
        for recordings added to custom/ since (the file actually served), or None."""
        try:
            data = json.loads((self.directory / MANIFEST_NAME).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if not isinstance(data, dict):
            return None
        out: dict[str, Any] = {}
        for name, entry in data.items():
            if not isinstance(entry, dict) or not CLIP_NAME.fullmatch(str(name)):
                continue
            entry = {k: v for k, v in entry.items() if k != "generated"}
            path = self.clip_path(name)
            if path is None:
                continue
            entry["file"] = path.relative_to(self.directory).as_posix()
            entry["source"] = "recorded" if path.parent.name == "custom" else "generated"
            entry["url"] = f"/voice/{name}.wav"
            out[name] = entry
        return out

    def status_json(self) -> dict[str, Any]:
        st = self.status()
        return {
            "state": self.state,
            "message": self.message,
            "complete": st.complete,
            "clips": len(st.available),
            "missing": list(st.missing),
            "invalid": list(st.invalid),
            "recorded": list(st.recorded),
        }


def _lower_thread_priority() -> None:
    """Run this thread (and the espeak-ng processes it starts) at a low CPU priority, so
    generating clips never slows the server's answers. Linux applies it per thread."""
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), GENERATION_NICE)
    except (AttributeError, OSError):  # not Linux, or not allowed: run at normal priority
        pass


def office_templates(config: Any) -> tuple[str, ...]:
    """The announcement templates the office uses (their phrases need clips)."""
    template = getattr(getattr(config, "announcements", None), "template", "") or ""
    return (template,) if template else ()


def voice_library(services: Any) -> VoiceLibrary:
    """The app's VoiceLibrary (made on first use, without starting any generation)."""
    lib = getattr(services, "voice_library", None)
    if lib is None:
        lib = VoiceLibrary(Path(services.settings.data_dir) / VOICE_SUBDIR, office_templates(services.config))
        services.voice_library = lib
    return lib


def start_voice_library(services: Any) -> VoiceLibrary:
    """Make sure ``<data_dir>/voice`` holds a complete clip library, in a background thread.

    Call once from create_app: it returns at once (the check and any espeak-ng generation
    run in a daemon thread, at a low priority) and the library object is kept on
    ``services.voice_library``. ``settings.extra["voice_library"] = False`` or the environment
    variable ``MOTCUA_VOICE_GENERATE=0`` skips it (the clips already there are still served)."""
    lib = voice_library(services)
    off_by_setting = getattr(services.settings, "extra", {}).get("voice_library", True) is False
    off_by_env = os.environ.get(GENERATE_ENV, "").strip().lower() in ("0", "off", "false", "no")
    if off_by_setting or off_by_env:
        lib.message = f"Không tự tạo thư viện giọng đọc ({GENERATE_ENV}=0 hoặc settings.extra['voice_library'] = False)."
        log.info("voice library generation is off; serving the clips already in %s", lib.directory)
        return lib
    lib.start()
    return lib
