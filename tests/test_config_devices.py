"""Device options are typed per kind: a typo in the office file is a Vietnamese error at
`motcua check-config`, like every other setting, instead of a setting silently ignored."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from config import ConfigError, DeviceConfig, load_config, load_config_text, sample_path
from config.schema import (CameraOptions, DisplayOptions, KioskOptions, LedOptions, NoOptions, PrinterOptions,
                           RatingOptions)

ROOT = Path(__file__).resolve().parents[1]


def _commune(**replace: str) -> str:
    text = sample_path("commune").read_text(encoding="utf-8")
    for old, new in replace.items():
        assert old in text, old
        text = text.replace(old, new)
    return text


def _problems(text: str) -> dict[str, str]:
    with pytest.raises(ConfigError) as err:
        load_config_text(text)
    return dict(err.value.problems)


@pytest.mark.parametrize("name", ["commune", "province"])
def test_samples_pass_with_typed_options(name):
    cfg = load_config(sample_path(name))
    kinds = {type(d.options) for d in cfg.devices}
    assert PrinterOptions in kinds and LedOptions in kinds and NoOptions in kinds
    printer = cfg.devices_of("printer")[0].options
    assert (printer.profile, printer.force_raster, printer.job_timeout) == ("80mm", False, 30.0)
    assert cfg.devices_of("led")[0].options.protocol == "modbus"


def test_defaults_per_kind():
    cam = DeviceConfig(name="cam", kind="camera", url="folder:///tmp/x")
    assert isinstance(cam.options, CameraOptions) and cam.options.symbologies == ["code128", "qrcode"]
    box = DeviceConfig(name="box", kind="rating_box", url="sim://", counters={"1": 1})
    assert isinstance(box.options, RatingOptions) and box.options.timeout_s is None


def test_options_still_read_as_a_mapping():
    """Screens read their device's options with .get() and dict() (kiosk, display, ratings)."""
    kiosk = DeviceConfig(name="k", kind="kiosk", token="t" * 20, options={"idle_seconds": 30, "lang": "en"})
    assert isinstance(kiosk.options, KioskOptions)
    assert kiosk.options.get("idle_seconds") == 30 and kiosk.options.get("scan_gap_ms") is None
    assert kiosk.options.get("nope", 7) == 7
    assert dict(kiosk.options)["lang"] == "en"
    tv = DeviceConfig(name="tv", kind="display", token="d" * 20,
                      options={"counters": ["5", "6"], "fields": ["DATDAI"], "voice": False})
    assert isinstance(tv.options, DisplayOptions) and tv.options.get("counters") == [5, 6]
    assert tv.options.get("voice") is False and tv.options.get("chime", True) is True


def test_a_typo_in_printer_options_is_refused_in_vietnamese():
    problems = _problems(_commune(**{'options = { profile = "80mm" }': 'options = { profle = "58mm" }'}))
    (key, msg), = problems.items()
    assert key.endswith(".options.profle"), key
    assert "mục không được hỗ trợ (kiểm tra chính tả)" in msg
    assert "thiết bị loại 'printer' nhận: profile, force_raster, job_timeout" in msg


@pytest.mark.parametrize("old,new,key,words", [
    ('options = { profile = "80mm" }', 'options = { profile = "76mm" }', "options.profile",
     ["giá trị không hợp lệ", "'80mm' hoặc '58mm'", "'76mm'"]),
    ('options = { profile = "80mm" }', 'options = { job_timeout = "lâu" }', "options.job_timeout", ["phải là số"]),
    ('options = { protocol = "modbus" }', 'options = { protocol = "rs485" }', "options.protocol",
     ["'modbus' hoặc 'ascii'"]),
    ('kind = "keypad"', 'kind = "keypad"\noptions = { baudrate = 19200 }', "options.baudrate",
     ["kiểm tra chính tả", "loại 'keypad' không có mục options nào"]),
    ('kind = "rating_box"', 'kind = "rating_box"\noptions = { timeout_s = 2 }', "options.timeout_s",
     ["quá nhỏ (ít nhất 5)"]),
    ('kind = "rating_box"', 'kind = "rating_box"\noptions = { timeout = 40 }', "options.timeout",
     ["loại 'rating_box' nhận: timeout_s, accept_within_s"]),
])
def test_wrong_options_are_refused(old, new, key, words):
    problems = _problems(_commune(**{old: new}))
    (got, msg), = problems.items()
    assert got.startswith("devices[") and got.endswith(key), got
    for w in words:
        assert w in msg, msg


def test_check_config_reports_the_typo(tmp_path):
    bad = tmp_path / "office.toml"
    bad.write_text(_commune(**{'options = { protocol = "modbus" }': 'options = { protocl = "modbus" }'}),
                   encoding="utf-8")
    r = subprocess.run([sys.executable, "-m", "motcua.cli", "check-config", str(bad)], capture_output=True,
                       text=True, cwd=ROOT)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert "options.protocl" in r.stderr and "kiểm tra chính tả" in r.stderr
    assert "thiết bị loại 'led' nhận: protocol" in r.stderr
