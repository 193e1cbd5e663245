"""The reports page (/admin/reports): figures, charts, print and downloads for the office lead.

Its own blueprint (``admin_reports``), registered by the application next to the other
screens. Administrators see the whole office (or one counter); staff only their own
counter(s): the page offers only those, and the API (`/api/v1/reports/summary[.xlsx|.csv]`)
refuses the others on the server. Without a sign-in the page sends the visitor to the
sign-in page.

Charts are drawn by Chart.js 3.9 from Debian's ``libjs-chart.js`` (scripts/setup.sh installs
it), served by this blueprint: nothing comes from the internet. Without the package the page
still shows every table, without the charts.

The service-level alerts block (`admin/static/reports-alerts.js`, element
``#motcua-alerts``) is for the admin home and the counter overview to include.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Blueprint, abort, redirect, render_template, request, send_file, url_for

bp = Blueprint("admin_reports", __name__, template_folder="templates", static_folder="static",
               static_url_path="/admin/reports/static")

#: Where Debian's libjs-chart.js puts the library.
CHART_JS = Path("/usr/share/javascript/chart.js/chart.min.js")


def _services() -> Any:
    from motcua.web.authz import services

    return services()


def _user():
    from motcua.web.sessions import session_principal

    return session_principal(_services().auth)


@bp.get("/admin/reports")
def reports_page():
    svc = _services()
    user = _user()
    if user is None:
        return redirect(url_for("counter.counter_home", next="/admin/reports"))
    if user.role not in ("admin", "staff"):
        abort(403)
    engine = svc.engine
    today = engine.calendar.business_date(engine.clock())
    if user.role == "admin":
        counters = [{"number": c.number, "name": c.label} for c in svc.config.counters]
    else:
        counters = [{"number": c.number, "name": c.label} for c in svc.config.counters
                    if c.number in user.counters]
    wanted = request.args.get("counter", "")[:4]
    error = ""
    if wanted and not any(str(c["number"]) == wanted.strip() for c in counters):
        error = (f"Bạn chỉ xem được báo cáo của quầy mình; quầy {wanted} không phải quầy của bạn."
                 if user.role == "staff" else f"Không có quầy số {wanted}.")
    page = {
        "error": error,
        "token": svc.auth.issue_token(user),
        "today": today.isoformat(),
        "admin": user.role == "admin",
        "counters": counters,
        "from": request.args.get("from", "")[:10],
        "to": request.args.get("to", "")[:10],
        "counter": request.args.get("counter", "")[:4],
        "chart": CHART_JS.is_file(),
    }
    return render_template("admin/reports.html", office=svc.config.office, user=user, page=page,
                           counters=counters), 403 if error and user.role == "staff" else 404 if error else 200


@bp.get("/admin/reports/chart.js")
def chart_js():
    if not CHART_JS.is_file():
        abort(404)
    return send_file(CHART_JS, mimetype="text/javascript", max_age=86_400 * 30)
