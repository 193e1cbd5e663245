"""The waiting-room display (/display, /display/<name>): calls, counters, waiting counts."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, render_template

bp = Blueprint("display", __name__, template_folder="templates", static_folder="static",
               static_url_path="/display/static")


def _services():
    return current_app.extensions["motcua"]


@bp.get("/display")
@bp.get("/display/<name>")
def display_page(name: str | None = None):
    svc = _services()
    dev = None
    if name is not None:
        dev = next((d for d in svc.config.devices if d.kind == "display" and d.name == name), None)
        if dev is None:
            abort(404)
    opts = dict(dev.options) if dev else {}
    return render_template("display/index.html", office=svc.config.office, name=name or "",
                           fields_filter=opts.get("fields", []), counters_filter=opts.get("counters", []))
