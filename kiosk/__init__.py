"""The kiosk screen (/kiosk): citizens take a numbered ticket, look up a dossier, read the
procedure catalogue; and the phone page (/t/<token>) a ticket's QR code opens."""
from __future__ import annotations

import hmac
import io
import logging
from typing import Any

from flask import Blueprint, Response, current_app, render_template, request

from motcua.web.request import ticket_url

from .page_config import build_page_config

log = logging.getLogger(__name__)

bp = Blueprint("kiosk", __name__, template_folder="templates", static_folder="static",
               static_url_path="/kiosk/static")

MAX_TOKEN_CHARS = 64


def _services() -> Any:
    return current_app.extensions["motcua"]


def demo_device_token(kind: str) -> str:
    """In the demo office the screens open already bound to their simulated device."""
    svc = _services()
    if not svc.settings.demo:
        return ""
    dev = next((d for d in svc.config.devices if d.kind == kind and d.token), None)
    return dev.token if dev else ""


def _kiosk_device(token: str) -> Any:
    """The kiosk device whose options apply: the one named by its token (?device=...), or the
    office's only kiosk. Tokens are compared in constant time."""
    kiosks = [d for d in _services().config.devices if d.kind == "kiosk"]
    if token:
        for d in kiosks:
            if d.token and hmac.compare_digest(d.token.encode(), token.encode()):
                return d
    return kiosks[0] if len(kiosks) == 1 else None


@bp.get("/kiosk")
def kiosk_page():
    svc = _services()
    demo_token = demo_device_token("kiosk")
    url_token = (request.args.get("device") or "")[:256]
    dev = _kiosk_device(url_token or demo_token)
    cfg = build_page_config(dict(dev.options) if dev is not None else {}, request.args,
                            device_token=demo_token)
    return render_template("kiosk/index.html", office=svc.config.office, page=cfg.to_json())


@bp.get("/t/<token>")
def ticket_page(token: str):
    svc = _services()
    ticket = svc.engine.get_ticket_by_token(token) if len(token) <= MAX_TOKEN_CHARS else None
    if ticket is None:
        return render_template("kiosk/ticket_missing.html", office=svc.config.office), 404
    public = {k: v for k, v in ticket.items() if k != "token"}
    return render_template("kiosk/ticket.html", office=svc.config.office, ticket=public, token=token)


@bp.get("/t/<token>/qr.svg")
def ticket_qr(token: str):
    import segno

    svc = _services()
    if len(token) > MAX_TOKEN_CHARS or svc.engine.get_ticket_by_token(token) is None:
        return Response("", status=404)
    buf = io.BytesIO()
    segno.make(ticket_url(svc.config, token), error="m").save(buf, kind="svg", scale=6, border=2)
    return Response(buf.getvalue(), mimetype="image/svg+xml", headers={"Cache-Control": "max-age=3600"})


# Appointments (docs/booking.md): the public booking page on a phone, a booking's page (the
# address its QR holds: the kiosk reads the code from it), its QR, and the day's list for staff.
@bp.get("/dat-lich")
def booking_page():
    return render_template("kiosk/booking.html", office=_services().config.office, code="")


@bp.get("/dat-lich/hom-nay")
def booking_day_page():
    return render_template("kiosk/booking_day.html", office=_services().config.office)


@bp.get("/dat-lich/<code>")
def booking_manage(code: str):
    from motcua.booking import normal_code, show_code

    found = normal_code(code[:MAX_TOKEN_CHARS])
    return render_template("kiosk/booking.html", office=_services().config.office,
                           code=show_code(found) if found else "")


@bp.get("/dat-lich/<code>/qr.svg")
def booking_qr(code: str):
    import segno

    from motcua.booking import normal_code
    from motcua.web.request import public_base

    found = normal_code(code[:MAX_TOKEN_CHARS])
    if found is None:
        return Response("", status=404)
    buf = io.BytesIO()
    segno.make(f"{public_base(_services().config)}/dat-lich/{found}", error="m").save(
        buf, kind="svg", scale=6, border=2)
    return Response(buf.getvalue(), mimetype="image/svg+xml", headers={"Cache-Control": "max-age=3600"})
