"""The clip library service (motcua/speech/library.py) and its routes: /voice/<name>.wav,
/voice/manifest.json, /api/v1/voice/status and /regenerate, /api/v1/announcements/missed.

The app runs in-process (Flask test client); clips are real espeak-ng WAV files."""
from __future__ import annotations

import array
import io
import math
import shutil
import threading
import wave
from pathlib import Path

import pytest

from motcua.speech import library as voice_mod
from motcua.speech import clip_vocabulary

pytestmark = pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng not installed")


@pytest.fixture(scope="module")
def lib_dir(tmp_path_factory) -> Path:
    """The default library, generated once for the module."""
    from motcua.speech import generate_library

    return generate_library(tmp_path_factory.mktemp("voice-lib") / "voice")


@pytest.fixture
def make_app(tmp_path, office_config, clock):
    from motcua.app import Settings, create_app

    made = []

    def make(*, with_library: Path | None = None, config=None, use_clock: bool = False):
        data = tmp_path / f"data{len(made)}"
        data.mkdir()
        if with_library is not None:
            shutil.copytree(with_library, data / "voice")
        kw = {"clock": clock} if use_clock else {}
        app = create_app(Settings(config=config or office_config, data_dir=data, testing=True, start_devices=False,
                                  background_jobs=False, **kw))
        made.append(app)
        return app

    yield make
    for app in made:
        app.extensions["motcua"].close()


JSON = {"Accept": "application/json"}


def admin_token(app) -> str:
    auth = app.extensions["motcua"].auth
    auth.set_password("admin", "mat-khau-thu")
    return auth.issue_token(auth.login("admin", "mat-khau-thu"))


def tone_wav(seconds: float = 0.3, rate: int = 22050) -> bytes:
    samples = array.array("h", (int(8000 * math.sin(2 * math.pi * 440 * i / rate)) for i in range(int(seconds * rate))))
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(samples.tobytes())
    return buf.getvalue()


def read_wav(data: bytes) -> tuple[int, int, int, int]:
    with wave.open(io.BytesIO(data), "rb") as w:
        return w.getnchannels(), w.getsampwidth(), w.getframerate(), w.getnframes()


# --- background generation ----------------------------------------------------------------


def test_start_voice_library_returns_at_once_and_generates_in_the_background(make_app, monkeypatch):
    app = make_app()
    svc = app.extensions["motcua"]
    release = threading.Event()
    real_generate = voice_mod.generate_in_child_process

    def slow_generate(*a, **kw):
        assert release.wait(60)
        return real_generate(*a, **kw)

    monkeypatch.setattr(voice_mod, "generate_in_child_process", slow_generate)
    client = app.test_client()
    lib = svc.voice
    lib.start_if_enabled()
    # start-up is not held up: the app answers while the library is still being made
    assert lib.state in (voice_mod.CHECKING, voice_mod.GENERATING)
    assert client.get("/healthz").status_code == 200
    assert client.get("/api/v1/voice/status").get_json()["state"] in ("checking", "generating")
    assert client.get("/voice/manifest.json").status_code == 404
    release.set()
    assert lib.wait(120)

    status = client.get("/api/v1/voice/status").get_json()
    assert status["state"] == "ready" and status["complete"] and status["missing"] == []
    assert status["clips"] == len(clip_vocabulary([svc.config.announcements.template]))
    assert lib.directory == svc.settings.data_dir / "voice"
    assert svc.voice is lib

    # A complete library is only checked at the next start, not made again.
    chime = lib.directory / "chime.wav"
    before = chime.stat().st_mtime_ns
    monkeypatch.setattr(voice_mod, "generate_in_child_process", lambda *a, **kw: pytest.fail("regenerated"))
    assert lib.start()
    assert lib.wait(60) and lib.state == "ready"
    assert chime.stat().st_mtime_ns == before


def test_generation_can_be_switched_off(make_app, monkeypatch):
    monkeypatch.setenv("MOTCUA_VOICE_GENERATE", "0")
    app = make_app()
    lib = app.extensions["motcua"].voice
    lib.start_if_enabled()
    assert lib.wait(1) and lib.state == voice_mod.IDLE
    assert "MOTCUA_VOICE_GENERATE=0" in lib.message
    assert not (lib.directory / "manifest.json").exists()


def test_missing_espeak_is_reported_in_vietnamese(make_app, monkeypatch, tmp_path):
    app = make_app()
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
    lib = app.extensions["motcua"].voice
    lib.start_if_enabled()
    assert lib.wait(30)
    status = app.test_client().get("/api/v1/voice/status").get_json()
    assert status["state"] == "failed"
    assert "Không tìm thấy chương trình espeak-ng" in status["message"]
    assert "apt-get install espeak-ng" in status["message"]


def test_the_office_template_gets_its_own_phrases(make_app, lib_dir, office_config):
    template = "Kính mời công dân số {number} tới quầy {counter}"
    cfg = office_config.model_copy(update={"announcements": office_config.announcements.model_copy(
        update={"template": template, "number_reading": "digits"})})
    app = make_app(with_library=lib_dir, config=cfg)
    client = app.test_client()
    assert client.get("/voice/toi_quay.wav").status_code == 404  # not in the default library
    lib = app.extensions["motcua"].voice
    lib.start_if_enabled()
    assert lib.wait(60) and lib.state == "ready", lib.message
    body = client.get("/api/v1/announcements/preview?number=A012&counter=3").get_json()
    assert body["text"] == "Kính mời công dân số A không một hai tới quầy ba"
    assert body["clips"] == ["kinh_moi_cong_dan_so", "chu_a", "khong", "mot", "hai", "toi_quay", "ba"]
    for name in body["clips"]:
        assert client.get(f"/voice/{name}.wav").status_code == 200, name


# --- serving ------------------------------------------------------------------------------

CASES = ["0", "5", "10", "15", "21", "24", "25", "55", "105", "1005", "1010", "2024", "4001", "9999",
         "10105", "99999", "A012", "B105"]


def test_every_clip_an_announcement_needs_is_served(make_app, lib_dir):
    app = make_app(with_library=lib_dir)
    client = app.test_client()
    manifest = client.get("/voice/manifest.json")
    assert manifest.status_code == 200 and manifest.headers["Cache-Control"] == "no-cache"
    entries = manifest.get_json()
    served: dict[str, bytes] = {}
    for number in CASES:
        for counter in (1, 3, 4, 12, 15):
            body = client.get(f"/api/v1/announcements/preview?number={number}&counter={counter}").get_json()
            # The sentence is the clips' texts joined, and the display plays the chime first.
            assert " ".join(entries[n]["text"] for n in body["clips"]) == body["text"]
            for name in ["chime", *body["clips"]]:
                if name not in served:
                    r = client.get(f"/voice/{name}.wav")
                    assert r.status_code == 200, name
                    assert r.mimetype == "audio/wav"
                    served[name] = r.data
                channels, width, rate, frames = read_wav(served[name])
                assert (channels, width, rate) == (1, 2, 22050) and frames > 0, name
                assert entries[name]["url"] == f"/voice/{name}.wav"
                assert entries[name]["duration_ms"] == round(frames * 1000 / rate)
    assert {"mot_sac", "tu", "lam", "linh", "muoi2", "nghin", "tram", "chu_a", "chu_b"} <= served.keys()
    assert served["chime"] == (lib_dir / "chime.wav").read_bytes()


def test_an_office_recording_takes_priority(make_app, lib_dir):
    app = make_app(with_library=lib_dir)
    client = app.test_client()
    voice_dir = app.extensions["motcua"].settings.data_dir / "voice"
    generated = client.get("/voice/den_quay_so.wav").data
    recording = tone_wav()
    (voice_dir / "custom").mkdir()
    (voice_dir / "custom" / "den_quay_so.wav").write_bytes(recording)

    assert client.get("/voice/den_quay_so.wav").data == recording
    entry = client.get("/voice/manifest.json").get_json()["den_quay_so"]
    assert entry["source"] == "recorded" and entry["file"] == "custom/den_quay_so.wav"
    assert client.get("/api/v1/voice/status").get_json()["recorded"] == ["den_quay_so"]

    # A broken recording is not served; the generated clip still is.
    (voice_dir / "custom" / "den_quay_so.wav").write_bytes(b"RIFF....not a wav")
    assert client.get("/voice/den_quay_so.wav").data == generated
    (voice_dir / "custom" / "den_quay_so.wav").unlink()
    assert client.get("/voice/den_quay_so.wav").data == generated


def test_clip_names_are_checked(make_app, lib_dir, tmp_path):
    """Only clip names are served: no way out of the library directory."""
    app = make_app(with_library=lib_dir)
    client = app.test_client()
    data_dir = app.extensions["motcua"].settings.data_dir
    secret = (data_dir / "secret_key").read_bytes()
    (tmp_path / "ngoai_thu_vien.wav").write_bytes(tone_wav())  # next to data_dir, outside the library
    bad = ["../secret_key", "..%2Fsecret_key", "%2e%2e%2fsecret_key", "..%5Csecret_key", "custom/den_quay_so",
           "custom%2Fden_quay_so", "CHIME", "Chime", ".chime", "_chime", "chime.wav", "chime%00", "a" * 200,
           "khong_co_clip_nay", "../../ngoai_thu_vien", "..%2F..%2Fngoai_thu_vien", "manifest", "%20chime"]
    for name in bad:
        r = client.get(f"/voice/{name}.wav", headers=JSON)
        assert r.status_code == 404, name
        assert secret not in r.data
        assert r.get_json()["error"] in ("clip_not_found", "not_found"), name
    r = client.get("/voice/khong_co_clip_nay.wav", headers=JSON)
    assert r.get_json()["message"] == "Không có đoạn âm thanh 'khong_co_clip_nay' trong thư viện giọng đọc."
    assert client.get("/voice/").status_code == 404
    assert client.post("/voice/chime.wav").status_code == 405


def test_without_a_library_nothing_is_served_and_the_status_says_so(make_app):
    app = make_app()
    client = app.test_client()
    r = client.get("/voice/manifest.json", headers=JSON)
    assert r.status_code == 404 and r.get_json()["error"] == "voice_not_ready"
    assert client.get("/voice/chime.wav").status_code == 404
    status = client.get("/api/v1/voice/status").get_json()
    assert status["complete"] is False and "chime" in status["missing"] and status["state"] == "idle"


def test_regenerate_is_for_administrators(make_app, lib_dir):
    app = make_app(with_library=lib_dir)
    client = app.test_client()
    assert client.post("/api/v1/voice/regenerate", json={}).status_code == 401
    token = admin_token(app)
    auth = {"Authorization": f"Bearer {token}"}
    r = client.post("/api/v1/voice/regenerate", json={"force": "yes"}, headers=auth)
    assert r.status_code == 422 and "force" in r.get_json()["message"]
    r = client.post("/api/v1/voice/regenerate", headers=auth)
    assert r.status_code == 202 and r.get_json()["started"] is True
    lib = app.extensions["motcua"].voice
    assert lib.wait(60) and lib.state == "ready"


# --- calls a display missed ---------------------------------------------------------------


def test_missed_calls_are_listed_after_a_sequence_number(make_app, clock):
    app = make_app(use_clock=True)
    svc = app.extensions["motcua"]
    client = app.test_client()
    start = client.get("/api/v1/announcements/missed?after_seq=0").get_json()
    assert start["calls"] == []
    svc.engine.issue("HOTICH")
    svc.engine.issue("LDTBXH")
    svc.engine.call_next(1)
    svc.engine.call_next(3)
    svc.engine.recall(1)

    calls = client.get("/api/v1/announcements/missed?after_seq=0").get_json()["calls"]
    assert [(c["number"], c["counter"], c["recall"]) for c in calls] == [
        ("1001", 1, False), ("4001", 3, False), ("1001", 1, True)]
    assert calls[0]["counter_name"] == "Quầy 1 - Hộ tịch, Chứng thực"
    assert calls[1]["service_name"] == "Lao động - Thương binh và Xã hội"
    seqs = [c["seq"] for c in calls]
    assert seqs == sorted(seqs) and len(set(seqs)) == 3
    later = client.get(f"/api/v1/announcements/missed?after_seq={seqs[1]}").get_json()
    assert [(c["number"], c["recall"]) for c in later["calls"]] == [("1001", True)]
    assert later["seq"] >= seqs[2]

    # Calls older than two minutes are not announced any more.
    clock.advance(minutes=3)
    assert client.get("/api/v1/announcements/missed?after_seq=0").get_json()["calls"] == []
    r = client.get("/api/v1/announcements/missed?after_seq=abc")
    assert r.status_code == 400 and "after_seq" in r.get_json()["message"]
