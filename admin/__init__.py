"""The administrator's screen (/admin): devices, staff, reports (one blueprint, like kiosk/, counter/, display/)."""
from __future__ import annotations

from flask import Blueprint, render_template

bp = Blueprint("admin", __name__, template_folder="templates")


@bp.get("/admin")
def admin_page():
    from motcua.web.authz import services

    svc = services()
    return render_template("admin/index.html", office=svc.config.office)
