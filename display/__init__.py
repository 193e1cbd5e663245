"""The waiting-room display (/display, /display/<name>): calls, counters, waiting counts,
dossier panels, notices, and the spoken announcement of every call (docs/display.md)."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from flask import Blueprint, abort, current_app, render_template, request, send_file

bp = Blueprint("display", __name__, template_folder="templates", static_folder="static",
               static_url_path="/display/static")

LOGO_NAMES = ("logo.svg", "logo.png", "logo.jpg", "logo.jpeg", "logo.webp")
LOGO_MAX_AGE_S = 3600
_FIELD_CODE = re.compile(r"^[A-Za-z0-9_.-]{1,32}$")


@dataclass
class DisplayOptions:
    """What one screen shows and says (device options, narrowed by the URL's query)."""

    name: str = ""
    counters: list[int] = field(default_factory=list)  # empty: every counter
    fields: list[str] = field(default_factory=list)  # empty: every field
    voice: bool = True  # speak the calls
    chime: bool = True  # a chime before each call

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "counters": self.counters, "fields": self.fields,
                "voice": self.voice, "chime": self.chime}


def _services():
    return current_app.extensions["motcua"]


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        items: Iterable[Any] = value
    else:
        items = str(value).split(",")
    return [str(v).strip() for v in items if str(v).strip()]


def _counters(value: Any) -> list[int]:
    out: list[int] = []
    for v in _as_list(value):
        if v.isdigit() and 0 < int(v) < 10_000 and int(v) not in out:
            out.append(int(v))
    return out


def _fields(value: Any, known: set[str]) -> list[str]:
    out: list[str] = []
    for v in _as_list(value):
        code = v.upper()
        if _FIELD_CODE.fullmatch(code) and code in known and code not in out:
            out.append(code)
    return out


def _flag(value: Any, default: bool) -> bool:
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() not in ("0", "false", "no", "off", "khong", "không")


def display_options(name: str | None, device_options: dict[str, Any], args: Any) -> DisplayOptions:
    """Device options first; ``?counters=1,2``, ``?fields=HOTICH``, ``?voice=0``, ``?chime=0``
    in the URL replace them."""
    svc = _services()
    known = {f.code for f in svc.config.fields}
    opts = DisplayOptions(name=name or "")
    opts.counters = _counters(args.get("counters") if args.get("counters") is not None
                              else device_options.get("counters"))
    opts.fields = _fields(args.get("fields") if args.get("fields") is not None
                          else device_options.get("fields"), known)
    opts.voice = _flag(args.get("voice"), _flag(device_options.get("voice"), True))
    opts.chime = _flag(args.get("chime"), _flag(device_options.get("chime"), True))
    return opts


@bp.get("/display")
@bp.get("/display/<name>")
def display_page(name: str | None = None):
    svc = _services()
    device_options: dict[str, Any] = {}
    if name is not None:
        dev = next((d for d in svc.config.devices if d.kind == "display" and d.name == name), None)
        if dev is None:
            abort(404)
        device_options = dict(dev.options)
    opts = display_options(name, device_options, request.args)
    return render_template("display/index.html", office=svc.config.office, options=opts.to_json())


@bp.get("/display/logo")
def display_logo():
    """The office's logo: ``<data_dir>/logo.svg`` (or .png, .jpg, .webp) if there is one."""
    data_dir = Path(_services().settings.data_dir)
    for fname in LOGO_NAMES:
        path = data_dir / fname
        if path.is_file():
            return send_file(path, max_age=LOGO_MAX_AGE_S, conditional=True)
    static = Path(bp.static_folder or "") / "logo.svg"
    return send_file(static, mimetype="image/svg+xml", max_age=LOGO_MAX_AGE_S, conditional=True)
