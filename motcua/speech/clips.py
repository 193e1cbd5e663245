"""The offline voice clip library: generation with espeak-ng, status, and joining clips.

Layout of a library directory (see docs/voice.md)::

    <dir>/manifest.json        {name: {"file", "text", "duration_ms", "source", ...}}
    <dir>/<name>.wav           generated clips (espeak-ng; chime made here)
    <dir>/custom/<name>.wav    the office's own recordings; they win over generated clips

Generation never writes into ``custom/``. espeak-ng is always given words, never digits
(it reads "15" as "mười năm").
"""
from __future__ import annotations

import array
import json
import logging
import math
import os
import shutil
import subprocess
import sys
import tempfile
import wave
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

from .announce import template_phrases
from .vocabulary import BUILTIN_TEMPLATES, CHIME, LETTER_CLIPS, WORD_CLIPS, phrase_clip_name

log = logging.getLogger(__name__)

MANIFEST = "manifest.json"
CUSTOM_DIR = "custom"
DEFAULT_VOICE = "vi"
DEFAULT_SPEED = 150  # espeak-ng words per minute (its own default is 175)

# Silence kept around the speech when trimming a generated clip, so joined words breathe.
LEAD_MS = 30
TAIL_MS = 70
SILENCE_THRESHOLD = 300  # 16-bit amplitude counted as sound (about 1 % of full scale)

# Chime: two tones, high then low, each with a soft attack and exponential decay.
CHIME_TONES_HZ = (880.0, 659.25)
CHIME_TONE_MS = 380
CHIME_FALLBACK_RATE = 22050

ESPEAK_MISSING = (
    "Không tìm thấy chương trình espeak-ng để tạo giọng đọc; cài bằng: apt-get install espeak-ng. "
    "(espeak-ng was not found; install it with: apt-get install espeak-ng)"
)


class EspeakNotFoundError(RuntimeError):
    """espeak-ng is not installed (message in Vietnamese and English)."""


class SpeechSynthesisError(RuntimeError):
    """espeak-ng ran but did not produce a usable clip."""


@dataclass(frozen=True)
class WavFormat:
    channels: int
    sample_width: int
    frame_rate: int


@dataclass(frozen=True)
class LibraryStatus:
    """Which clips of the vocabulary a library directory holds."""

    directory: Path
    available: tuple[str, ...]
    missing: tuple[str, ...]
    recorded: tuple[str, ...]  # available from custom/ (the office's own voice)
    invalid: tuple[str, ...]  # a file is there but is not a readable, non-empty WAV (custom/ or generated)
    manifest_present: bool

    @property
    def complete(self) -> bool:
        return not self.missing and not self.invalid


def clip_vocabulary(templates: Iterable[str] = ()) -> dict[str, str]:
    """Every clip name -> the Vietnamese text it says (the chime's text is "").

    Holds the number words, the letter names, and the phrases of the built-in templates plus
    those of ``templates`` (the office's configured announcement templates).
    """
    vocab: dict[str, str] = {CHIME: ""}
    vocab.update(WORD_CLIPS)
    vocab.update(LETTER_CLIPS)
    for template in (*BUILTIN_TEMPLATES, *templates):
        for phrase in template_phrases(template):
            name = phrase_clip_name(phrase)
            if name in vocab and vocab[name] != phrase:
                if name in WORD_CLIPS or name in LETTER_CLIPS:
                    raise ValueError(
                        f"Cụm từ '{phrase}' trùng tên đoạn âm thanh '{name}' của một từ đọc số; "
                        "hãy đổi mẫu câu"
                    )
                continue  # same words, other capitals: the first spelling is kept
            vocab[name] = phrase
    return vocab


# --- WAV helpers -----------------------------------------------------------------------


def wav_format(path: Path) -> WavFormat:
    with wave.open(str(path), "rb") as w:
        return WavFormat(w.getnchannels(), w.getsampwidth(), w.getframerate())


def wav_frames(path: Path) -> int:
    with wave.open(str(path), "rb") as w:
        return w.getnframes()


def wav_duration_ms(path: Path) -> int:
    with wave.open(str(path), "rb") as w:
        return round(w.getnframes() * 1000 / w.getframerate())


def _write_wav_atomic(path: Path, fmt: WavFormat, frames: bytes) -> None:
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".wav", dir=path.parent)
    os.close(fd)
    try:
        with wave.open(tmp, "wb") as w:
            w.setnchannels(fmt.channels)
            w.setsampwidth(fmt.sample_width)
            w.setframerate(fmt.frame_rate)
            w.writeframes(frames)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _samples(frames: bytes) -> array.array:
    samples = array.array("h", frames)
    if sys.byteorder == "big":
        samples.byteswap()
    return samples


def _sample_bytes(samples: array.array) -> bytes:
    if sys.byteorder == "big":
        samples = array.array("h", samples)
        samples.byteswap()
    return samples.tobytes()


def _trim_silence(src: Path, dst: Path) -> None:
    """Copy a 16-bit mono WAV, cutting leading/trailing silence down to LEAD_MS/TAIL_MS."""
    with wave.open(str(src), "rb") as w:
        fmt = WavFormat(w.getnchannels(), w.getsampwidth(), w.getframerate())
        frames = w.readframes(w.getnframes())
    if fmt.sample_width != 2 or fmt.channels != 1:
        _write_wav_atomic(dst, fmt, frames)
        return
    samples = _samples(frames)
    loud = [i for i, v in enumerate(samples) if abs(v) > SILENCE_THRESHOLD]
    if loud:
        start = max(0, loud[0] - fmt.frame_rate * LEAD_MS // 1000)
        end = min(len(samples), loud[-1] + 1 + fmt.frame_rate * TAIL_MS // 1000)
        samples = samples[start:end]
    _write_wav_atomic(dst, fmt, _sample_bytes(samples))


def chime_frames(frame_rate: int) -> bytes:
    """A two-tone chime (16-bit mono PCM at ``frame_rate``)."""
    out = array.array("h")
    per_tone = frame_rate * CHIME_TONE_MS // 1000
    attack = max(1, frame_rate * 8 // 1000)
    for freq in CHIME_TONES_HZ:
        for i in range(per_tone):
            t = i / frame_rate
            envelope = min(1.0, i / attack) * math.exp(-4.0 * t / (CHIME_TONE_MS / 1000))
            # A little of the octave above makes it sound like a bell rather than a beep.
            value = math.sin(2 * math.pi * freq * t) + 0.3 * math.sin(4 * math.pi * freq * t)
            out.append(int(max(-1.0, min(1.0, 0.45 * envelope * value)) * 32767))
    return _sample_bytes(out)


# --- generation ------------------------------------------------------------------------


def find_espeak(program: str = "espeak-ng") -> str:
    """Path of the espeak-ng program, or EspeakNotFoundError."""
    found = shutil.which(program)
    if not found:
        raise EspeakNotFoundError(ESPEAK_MISSING)
    return found


def _espeak_clip(espeak: str, voice: str, speed: int, text: str, dst: Path) -> None:
    fd, raw = tempfile.mkstemp(prefix=".raw-", suffix=".wav", dir=dst.parent)
    os.close(fd)
    try:
        proc = subprocess.run(
            [espeak, "-v", voice, "-s", str(speed), "-w", raw, "--", text],
            capture_output=True, text=True, timeout=60, check=False,
        )
        if proc.returncode != 0 or Path(raw).stat().st_size <= 44:
            raise SpeechSynthesisError(
                f"espeak-ng không tạo được âm thanh cho '{text}' (giọng '{voice}'): "
                f"{proc.stderr.strip() or 'mã lỗi ' + str(proc.returncode)} "
                f"(espeak-ng failed for this text)"
            )
        _trim_silence(Path(raw), dst)
    finally:
        Path(raw).unlink(missing_ok=True)


def _load_manifest(out_dir: Path) -> dict[str, dict]:
    try:
        data = json.loads((out_dir / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _readable(path: Path) -> bool:
    try:
        return path.is_file() and wav_frames(path) > 0
    except (OSError, wave.Error, EOFError):
        return False


def _is_current(entry: object, path: Path, want: dict) -> bool:
    if not isinstance(entry, dict) or not _readable(path):
        return False
    generated = entry.get("generated")
    return isinstance(generated, dict) and all(generated.get(k) == v for k, v in want.items())


def generate_library(
    out_dir: Path,
    *,
    voice: str = DEFAULT_VOICE,
    speed: int = DEFAULT_SPEED,
    force: bool = False,
    templates: Iterable[str] = (),
    espeak: str = "espeak-ng",
    workers: int | None = None,
) -> Path:
    """Generate (or bring up to date) the clip library in ``out_dir``; returns ``out_dir``.

    One WAV per clip of :func:`clip_vocabulary` (``templates`` adds the phrases of the
    office's own templates), a chime, and ``manifest.json``. A clip whose text, voice and
    speed are unchanged and whose file is still there is not generated again (unless
    ``force``). Recordings in ``out_dir/custom/`` are never touched; the manifest points to
    them instead of the generated file.
    """
    out_dir = Path(out_dir)
    vocab = clip_vocabulary(templates)
    espeak_path = find_espeak(espeak)
    out_dir.mkdir(parents=True, exist_ok=True)
    old = _load_manifest(out_dir)

    todo: list[tuple[str, str]] = []
    for name, text in vocab.items():
        if name == CHIME:
            continue
        want = {"engine": "espeak-ng", "text": text, "voice": voice, "speed": speed}
        if force or not _is_current(old.get(name), out_dir / f"{name}.wav", want):
            todo.append((name, text))
    if todo:
        log.info("Tạo %d đoạn âm thanh bằng espeak-ng (giọng %s) trong %s", len(todo), voice, out_dir)
        with ThreadPoolExecutor(max_workers=workers or min(8, os.cpu_count() or 2)) as pool:
            futures = [
                pool.submit(_espeak_clip, espeak_path, voice, speed, text, out_dir / f"{name}.wav")
                for name, text in todo
            ]
            for f in futures:
                f.result()

    # The chime takes the format of the spoken clips so they can be joined into one file.
    sample_clip = out_dir / f"{next(n for n in vocab if n != CHIME)}.wav"
    rate = wav_format(sample_clip).frame_rate if _readable(sample_clip) else CHIME_FALLBACK_RATE
    chime_want = {"engine": "chime", "frame_rate": rate, "tones": list(CHIME_TONES_HZ), "tone_ms": CHIME_TONE_MS}
    chime_path = out_dir / f"{CHIME}.wav"
    if force or not _is_current(old.get(CHIME), chime_path, chime_want):
        _write_wav_atomic(chime_path, WavFormat(1, 2, rate), chime_frames(rate))

    manifest: dict[str, dict] = {}
    for name, text in vocab.items():
        generated = (
            chime_want if name == CHIME
            else {"engine": "espeak-ng", "text": text, "voice": voice, "speed": speed}
        )
        custom = out_dir / CUSTOM_DIR / f"{name}.wav"
        if _readable(custom):
            path, source = custom, "recorded"
        else:
            path, source = out_dir / f"{name}.wav", "generated"
        manifest[name] = {
            "file": path.relative_to(out_dir).as_posix(),
            "text": text,
            "duration_ms": wav_duration_ms(path),
            "source": source,
            "generated": generated,
        }
    _write_manifest(out_dir, manifest)
    log.info("Thư viện giọng đọc sẵn sàng: %d đoạn trong %s", len(manifest), out_dir)
    return out_dir


def _write_manifest(out_dir: Path, manifest: dict) -> None:
    body = json.dumps(manifest, ensure_ascii=False, indent=1, sort_keys=True) + "\n"
    path = out_dir / MANIFEST
    try:
        if path.read_text(encoding="utf-8") == body:
            return  # unchanged: leave the file (and its mtime) alone
    except OSError:
        pass
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".json", dir=out_dir)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(body)
    os.replace(tmp, path)


# --- status and joining ----------------------------------------------------------------


def resolve_clip(clips_dir: Path, name: str) -> Path | None:
    """The file that says clip ``name``: the office's recording if it is a readable WAV,
    else the generated one; None if there is neither."""
    if not name or "/" in name or "\\" in name or name.startswith("."):
        return None
    custom = Path(clips_dir) / CUSTOM_DIR / f"{name}.wav"
    if _readable(custom):
        return custom
    generated = Path(clips_dir) / f"{name}.wav"
    return generated if generated.is_file() else None


def library_status(clips_dir: Path, *, templates: Iterable[str] = ()) -> LibraryStatus:
    """Tell which clips of the vocabulary (built-in plus ``templates``) are missing."""
    clips_dir = Path(clips_dir)
    available: list[str] = []
    missing: list[str] = []
    recorded: list[str] = []
    invalid: list[str] = []
    for name in clip_vocabulary(templates):
        custom = clips_dir / CUSTOM_DIR / f"{name}.wav"
        path = resolve_clip(clips_dir, name)
        if custom.exists() and path != custom:
            invalid.append(name)  # the office's recording is broken (the generated clip still plays)
        elif path is None:
            missing.append(name)
        elif not _readable(path):
            invalid.append(name)
        else:
            available.append(name)
            if path == custom:
                recorded.append(name)
    return LibraryStatus(
        directory=clips_dir,
        available=tuple(available),
        missing=tuple(missing),
        recorded=tuple(recorded),
        invalid=tuple(invalid),
        manifest_present=(clips_dir / MANIFEST).is_file(),
    )


def render_announcement_wav(clips_dir: Path, clip_names: Sequence[str], out_path: Path) -> Path:
    """Join the clips, in order, into one WAV at ``out_path`` (all clips must share a format)."""
    if not clip_names:
        raise ValueError("Danh sách đoạn âm thanh trống (no clips to join)")
    out_path = Path(out_path)
    paths: list[Path] = []
    for name in clip_names:
        path = resolve_clip(Path(clips_dir), name)
        if path is None:
            raise FileNotFoundError(
                f"Thiếu đoạn âm thanh '{name}' trong {clips_dir} (clip '{name}' is missing)"
            )
        paths.append(path)
    fmt: WavFormat | None = None
    chunks: list[bytes] = []
    for path in paths:
        with wave.open(str(path), "rb") as w:
            this = WavFormat(w.getnchannels(), w.getsampwidth(), w.getframerate())
            if fmt is None:
                fmt = this
            elif this != fmt:
                raise ValueError(
                    f"Đoạn âm thanh {path.name} khác định dạng ({this.channels} kênh, "
                    f"{this.sample_width * 8} bit, {this.frame_rate} Hz) so với các đoạn khác "
                    f"({fmt.channels} kênh, {fmt.sample_width * 8} bit, {fmt.frame_rate} Hz); "
                    "hãy chuyển về cùng định dạng (clips differ in format)"
                )
            chunks.append(w.readframes(w.getnframes()))
    assert fmt is not None
    out_path.parent.mkdir(parents=True, exist_ok=True)
    _write_wav_atomic(out_path, fmt, b"".join(chunks))
    return out_path
