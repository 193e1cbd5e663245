"""The kiosk screen (/kiosk): citizens take a numbered ticket; and the phone page (/t/<token>)."""
from __future__ import annotations

import io

from flask import Blueprint, Response, current_app, render_template, request

bp = Blueprint("kiosk", __name__, template_folder="templates", static_folder="static",
               static_url_path="/kiosk/static")


def _services():
    return current_app.extensions["motcua"]


def demo_device_token(kind: str) -> str:
    """In the demo office the screens open already bound to their simulated device."""
    svc = _services()
    if not svc.settings.demo:
        return ""
    dev = next((d for d in svc.config.devices if d.kind == kind and d.token), None)
    return dev.token if dev else ""


@bp.get("/kiosk")
def kiosk_page():
    svc = _services()
    return render_template("kiosk/index.html", office=svc.config.office, config=svc.config,
                           device_token=demo_device_token("kiosk"))


@bp.get("/t/<token>")
def ticket_page(token: str):
    svc = _services()
    ticket = svc.engine.get_ticket_by_token(token) if len(token) <= 64 else None
    if ticket is None:
        return render_template("kiosk/ticket_missing.html", office=svc.config.office), 404
    return render_template("kiosk/ticket.html", office=svc.config.office, ticket=ticket, token=token)


@bp.get("/t/<token>/qr.svg")
def ticket_qr(token: str):
    import segno

    svc = _services()
    if len(token) > 64 or svc.engine.get_ticket_by_token(token) is None:
        return Response("", status=404)
    base = svc.config.office.base_url.rstrip("/") or request.host_url.rstrip("/")
    buf = io.BytesIO()
    segno.make(f"{base}/t/{token}", error="m").save(buf, kind="svg", scale=6, border=2)
    return Response(buf.getvalue(), mimetype="image/svg+xml", headers={"Cache-Control": "max-age=3600"})
