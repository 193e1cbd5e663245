"""The clip library service: keeps the office's voice clips ready and finds them for the web.

The default library (espeak-ng clips and the chime, see docs/voice.md) lives in
``<data_dir>/voice``. ``create_app`` builds one :class:`VoiceLibrary` with
:meth:`VoiceLibrary.for_app`, keeps it on ``services.voice`` and, when background jobs run,
calls :meth:`VoiceLibrary.start_if_enabled`: the library is checked in a background thread
and whatever is missing is generated, so the server answers at once. The displays fetch
clips from ``/voice/<name>.wav`` (an office recording in ``voice/custom/`` wins over the
generated clip) and ``/voice/manifest.json``.

Generation runs in a child process (``python -m motcua.speech.worker``) that lowers its own
CPU priority (and that of the espeak-ng processes it starts); the serving process keeps its
priority. Under gevent the background "thread" is a greenlet on the main OS thread, so
lowering the priority of "this thread" would slow every request of the office.
"""
from __future__ import annotations

import json
import logging
import os
import re
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from .clips import (
    EspeakNotFoundError,
    LibraryStatus,
    SpeechSynthesisError,
    find_espeak,
    library_status,
    resolve_clip,
)

log = logging.getLogger(__name__)

VOICE_SUBDIR = "voice"
MANIFEST_NAME = "manifest.json"
# Clip names are lower-case ASCII words joined by "_" (docs/voice.md); anything else is refused.
CLIP_NAME = re.compile(r"^[a-z0-9][a-z0-9_]{0,79}$")

GENERATE_ENV = "MOTCUA_VOICE_GENERATE"  # "0": never generate at start-up (serve what is there)

# Generation runs beside a live server: few espeak-ng processes at once, at a low priority,
# in a child process (the nice applies to that process and its espeak-ng children only).
GENERATION_WORKERS = 2
GENERATION_NICE = 10
GENERATION_TIMEOUT_S = 600.0
WORKER_MODULE = "motcua.speech.worker"

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


def _package_root() -> str:
    """The directory holding the ``motcua`` package this process runs (for the child)."""
    return str(Path(__file__).resolve().parents[2])


def generate_in_child_process(directory: Path, *, templates: Iterable[str] = (), force: bool = False,
                              workers: int = GENERATION_WORKERS, nice: int = GENERATION_NICE,
                              timeout: float = GENERATION_TIMEOUT_S) -> None:
    """Run :func:`motcua.speech.clips.generate_library` in a child Python process at a lower
    CPU priority (``nice``), and wait for it. The calling process's priority is never changed.

    Raises EspeakNotFoundError, SpeechSynthesisError or OSError like generate_library would."""
    find_espeak()  # fail fast, with the Vietnamese message, before starting a process
    cmd = [sys.executable, "-m", WORKER_MODULE, str(directory), "--workers", str(workers), "--nice", str(nice)]
    for template in templates:
        cmd += ["--template", template]
    if force:
        cmd.append("--force")
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (_package_root(), env.get("PYTHONPATH", "")) if p)
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=timeout, check=False,
                              stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        raise SpeechSynthesisError(f"tạo thư viện giọng đọc quá {timeout:.0f} giây") from None
    result: dict[str, Any] = {}
    for line in reversed(proc.stdout.splitlines()):
        try:
            result = json.loads(line)
            break
        except ValueError:
            continue
    if proc.returncode == 0 and result.get("ok"):
        return
    message = str(result.get("message") or proc.stderr.strip()[-500:] or f"mã lỗi {proc.returncode}")
    kind = result.get("error")
    if kind == "espeak_missing":
        raise EspeakNotFoundError(message)
    if kind == "invalid":
        raise ValueError(message)
    raise SpeechSynthesisError(message)


@dataclass
class VoiceLibrary:
    """The office's clip library and the state of its background generation."""

    directory: Path
    templates: tuple[str, ...] = ()
    autostart: bool = True  # False: start_if_enabled() never generates (settings.extra)
    state: str = IDLE
    message: str = STATE_MESSAGES[IDLE]
    started_at: float | None = None
    finished_at: float | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _thread: threading.Thread | None = field(default=None, repr=False)

    @classmethod
    def for_app(cls, settings: Any) -> "VoiceLibrary":
        """The library of an app: ``<settings.data_dir>/voice`` with the office's templates.

        Nothing is started: see :meth:`start_if_enabled`. ``settings.extra["voice_library"] =
        False`` switches generation at start-up off (the clips already there are served)."""
        extra = getattr(settings, "extra", None) or {}
        return cls(Path(settings.data_dir) / VOICE_SUBDIR, office_templates(settings.config),
                   autostart=extra.get("voice_library", True) is not False)

    # Background generation --------------------------------------------------------------
    def start_if_enabled(self) -> bool:
        """At start-up: check (and if needed generate) the library in the background, unless
        ``MOTCUA_VOICE_GENERATE=0`` or ``settings.extra["voice_library"] = False``. Returns at
        once; True when a run was started."""
        off_by_env = os.environ.get(GENERATE_ENV, "").strip().lower() in ("0", "off", "false", "no")
        if not self.autostart or off_by_env:
            self.message = (f"Không tự tạo thư viện giọng đọc ({GENERATE_ENV}=0 hoặc "
                            "settings.extra['voice_library'] = False).")
            log.info("voice library generation is off; serving the clips already in %s", self.directory)
            return False
        return self.start()

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
        try:
            if not force:
                st = self.status()
                if st.complete and st.manifest_present:
                    self._set(READY)
                    log.info("Thư viện giọng đọc đã đủ (%d đoạn) trong %s", len(st.available), self.directory)
                    return
            self._set(GENERATING)
            generate_in_child_process(self.directory, templates=self.templates, force=force)
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


def office_templates(config: Any) -> tuple[str, ...]:
    """The announcement templates the office uses (their phrases need clips)."""
    template = config.announcements.template or ""
    return (template,) if template else ()
