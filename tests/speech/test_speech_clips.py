"""The voice clip library: generated with the real espeak-ng into a temporary directory."""
from __future__ import annotations

import json
import shutil
import wave
from pathlib import Path

import pytest

from motcua.speech import (
    CHIME,
    EspeakNotFoundError,
    announcement_clips,
    clip_vocabulary,
    generate_library,
    library_status,
    render_announcement_wav,
    resolve_clip,
)


def _espeak_installed() -> bool:
    return shutil.which("espeak-ng") is not None


needs_espeak = pytest.mark.skipif(
    not _espeak_installed(), reason="espeak-ng is not installed (apt-get install espeak-ng)"
)


def _frames(path: Path) -> int:
    with wave.open(str(path), "rb") as w:
        return w.getnframes()


def _params(path: Path) -> tuple[int, int, int]:
    with wave.open(str(path), "rb") as w:
        return w.getnchannels(), w.getsampwidth(), w.getframerate()


def _mtimes(directory: Path) -> dict[str, int]:
    return {p.name: p.stat().st_mtime_ns for p in directory.iterdir() if p.is_file()}


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not _espeak_installed():
        pytest.skip("espeak-ng is not installed (apt-get install espeak-ng)")
    out = tmp_path_factory.mktemp("voice") / "clips"
    assert generate_library(out) == out
    return out


@needs_espeak
def test_every_clip_is_generated_with_sound(library: Path) -> None:
    manifest = json.loads((library / "manifest.json").read_text(encoding="utf-8"))
    vocab = clip_vocabulary()
    assert set(manifest) == set(vocab)
    for name, text in vocab.items():
        entry = manifest[name]
        assert entry["text"] == text
        assert entry["file"] == f"{name}.wav"
        path = library / entry["file"]
        assert _params(path) == _params(library / "mot.wav")  # one format: clips can be joined
        assert _frames(path) > 0
        assert entry["duration_ms"] > 50, name
        assert entry["source"] == "generated"
    # Spoken words are short once the silence is trimmed, the long phrase is longer.
    assert manifest["mot"]["duration_ms"] < 1000
    assert manifest["xin_moi_cong_dan_co_so_thu_tu"]["duration_ms"] > manifest["mot"]["duration_ms"]


@needs_espeak
def test_clips_are_speech_not_silence(library: Path) -> None:
    import array

    for name in ("lam", "muoi2", "chu_b", "den_quay_so", CHIME):
        with wave.open(str(library / f"{name}.wav"), "rb") as w:
            samples = array.array("h", w.readframes(w.getnframes()))
        assert max(abs(s) for s in samples) > 2000, name


@needs_espeak
def test_second_run_does_no_work_and_force_redoes(library: Path) -> None:
    before = _mtimes(library)
    generate_library(library)
    assert _mtimes(library) == before
    generate_library(library, force=True)
    after = _mtimes(library)
    assert after["mot.wav"] != before["mot.wav"]
    assert after["chime.wav"] != before["chime.wav"]


@needs_espeak
def test_changed_speed_regenerates(tmp_path: Path) -> None:
    out = generate_library(tmp_path / "lib", speed=170)
    first = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    before = _mtimes(out)
    generate_library(out, speed=120)
    second = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert _mtimes(out)["xin_moi_cong_dan_co_so_thu_tu.wav"] != before["xin_moi_cong_dan_co_so_thu_tu.wav"]
    # Slower speech takes longer.
    key = "xin_moi_cong_dan_co_so_thu_tu"
    assert second[key]["duration_ms"] > first[key]["duration_ms"]


@needs_espeak
def test_office_template_and_own_recordings(tmp_path: Path, library: Path) -> None:
    out = tmp_path / "lib"
    shutil.copytree(library, out)
    template = "Mời công dân số {number} tới quầy {counter}"
    assert "moi_cong_dan_so" in library_status(out, templates=[template]).missing

    # The office records "den_quay_so" itself: a 0.5 s WAV in custom/.
    (out / "custom").mkdir()
    with wave.open(str(library / "den_quay_so.wav"), "rb") as w:
        channels, width, rate = w.getnchannels(), w.getsampwidth(), w.getframerate()
    with wave.open(str(out / "custom" / "den_quay_so.wav"), "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(width)
        w.setframerate(rate)
        w.writeframes(b"\x10\x00" * (rate // 2))

    generate_library(out, templates=[template])
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["den_quay_so"]["file"] == "custom/den_quay_so.wav"
    assert manifest["den_quay_so"]["source"] == "recorded"
    assert manifest["den_quay_so"]["duration_ms"] == 500
    assert manifest["moi_cong_dan_so"]["text"] == "Mời công dân số"
    assert (out / "moi_cong_dan_so.wav").is_file()
    assert resolve_clip(out, "den_quay_so") == out / "custom" / "den_quay_so.wav"

    status = library_status(out, templates=[template])
    assert status.complete and status.manifest_present
    assert status.recorded == ("den_quay_so",)

    # A broken recording is reported, and the generated clip plays instead of it.
    (out / "custom" / "mot.wav").write_bytes(b"not a wav")
    status = library_status(out, templates=[template])
    assert status.invalid == ("mot",) and not status.complete
    assert resolve_clip(out, "mot") == out / "mot.wav"
    generate_library(out, templates=[template])
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["mot"]["file"] == "mot.wav"


def test_status_of_an_empty_or_damaged_directory(tmp_path: Path) -> None:
    status = library_status(tmp_path)
    assert not status.complete
    assert set(status.missing) == set(clip_vocabulary())
    assert not status.manifest_present
    (tmp_path / "mot.wav").write_bytes(b"RIFF not really")
    status = library_status(tmp_path)
    assert "mot" in status.invalid and "mot" not in status.missing


@needs_espeak
def test_render_joins_clips_end_to_end(tmp_path: Path, library: Path) -> None:
    names = announcement_clips("1005", 3, chime=True)
    out = render_announcement_wav(library, names, tmp_path / "calls" / "1005.wav")
    assert out == tmp_path / "calls" / "1005.wav"
    assert _params(out) == _params(library / "mot.wav")
    assert _frames(out) == sum(_frames(library / f"{n}.wav") for n in names)
    # Clip bytes appear in order in the joined file.
    with wave.open(str(out), "rb") as w:
        joined = w.readframes(w.getnframes())
    with wave.open(str(library / "den_quay_so.wav"), "rb") as w:
        part = w.readframes(w.getnframes())
    assert part in joined


@needs_espeak
def test_render_refuses_missing_or_mismatched_clips(tmp_path: Path, library: Path) -> None:
    with pytest.raises(FileNotFoundError, match="Thiếu đoạn âm thanh 'khong_co'"):
        render_announcement_wav(library, ["mot", "khong_co"], tmp_path / "x.wav")
    with pytest.raises(ValueError, match="trống"):
        render_announcement_wav(library, [], tmp_path / "x.wav")
    odd = tmp_path / "odd"
    shutil.copytree(library, odd)
    with wave.open(str(odd / "hai.wav"), "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(44100)
        w.writeframes(b"\x00\x00\x00\x00" * 100)
    with pytest.raises(ValueError, match="khác định dạng"):
        render_announcement_wav(odd, ["mot", "hai"], tmp_path / "x.wav")
    assert not (tmp_path / "x.wav").exists()


def test_missing_espeak_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(EspeakNotFoundError) as info:
        generate_library(tmp_path / "lib", espeak="espeak-ng-not-installed-here")
    message = str(info.value)
    assert "Không tìm thấy chương trình espeak-ng" in message
    assert "espeak-ng was not found" in message
    assert not (tmp_path / "lib").exists()


@needs_espeak
def test_unknown_voice_is_reported(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="espeak-ng không tạo được âm thanh"):
        generate_library(tmp_path / "lib", voice="xx-no-such-voice")
