"""What the kiosk page needs to know before its first API call: timeouts, language, scanner
timing. Read from the kiosk device's `options` in the office TOML, overridable in the URL.

    [[devices]]
    name = "kiosk-1"
    kind = "kiosk"
    token = "..."
    options = { idle_seconds = 20, browse_idle_seconds = 90, lang = "vi" }

URL overrides (handy when setting a screen up): `/kiosk?idle=30&lang=en`.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Mapping

DEFAULT_IDLE_S = 20
DEFAULT_BROWSE_IDLE_S = 90
DEFAULT_SCAN_GAP_MS = 50
DEFAULT_SCAN_MIN_CHARS = 4
LANGS = ("vi", "en")


@dataclass(frozen=True)
class KioskPageConfig:
    """Settings handed to kiosk.js as `window.MOTCUA_KIOSK`."""

    device_token: str = ""
    # Back to the home screen this long after a ticket is shown (and on the priority step).
    idle_seconds: int = DEFAULT_IDLE_S
    # Back home from the lookup and procedure screens after this long without a touch.
    browse_idle_seconds: int = DEFAULT_BROWSE_IDLE_S
    lang: str = "vi"
    # A keyboard-wedge scanner types faster than this gap between characters.
    scan_gap_ms: int = DEFAULT_SCAN_GAP_MS
    scan_min_chars: int = DEFAULT_SCAN_MIN_CHARS

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        return {"deviceToken": d["device_token"], "idleSeconds": d["idle_seconds"],
                "browseIdleSeconds": d["browse_idle_seconds"], "lang": d["lang"],
                "scanGapMs": d["scan_gap_ms"], "scanMinChars": d["scan_min_chars"]}


def _int(value: object, default: int, lo: int, hi: int) -> int:
    """A whole number within [lo, hi]; anything unreadable gives the default."""
    if isinstance(value, bool):
        return default
    try:
        n = int(str(value).strip()) if isinstance(value, str) else int(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return default
    return max(lo, min(hi, n))


def build_page_config(options: Mapping[str, object], args: Mapping[str, str], *,
                      device_token: str = "") -> KioskPageConfig:
    """Device options first, then URL arguments (`idle`, `browse_idle`, `lang`) on top."""
    idle = _int(options.get("idle_seconds"), DEFAULT_IDLE_S, 5, 600)
    browse = _int(options.get("browse_idle_seconds"), DEFAULT_BROWSE_IDLE_S, 10, 1800)
    lang = str(options.get("lang") or "vi")
    gap = _int(options.get("scan_gap_ms"), DEFAULT_SCAN_GAP_MS, 10, 200)
    min_chars = _int(options.get("scan_min_chars"), DEFAULT_SCAN_MIN_CHARS, 2, 40)
    if "idle" in args:
        idle = _int(args.get("idle"), idle, 5, 600)
    if "browse_idle" in args:
        browse = _int(args.get("browse_idle"), browse, 10, 1800)
    if args.get("lang") in LANGS:
        lang = str(args["lang"])
    if lang not in LANGS:
        lang = "vi"
    return KioskPageConfig(device_token=device_token, idle_seconds=idle, browse_idle_seconds=browse,
                           lang=lang, scan_gap_ms=gap, scan_min_chars=min_chars)
