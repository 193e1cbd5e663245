"""The counter screens.

- `/counter`: staff log in and land on their counter's console (several counters: pick one).
- `/counter/<n>`: the console (call next, recall, no-show, finish with dossier codes, transfer,
  pause, call a number out of order), kept in step with the queue through Socket.IO.
- `/counter/overview`: the whole office for the lead (any staff or administrator).
- `/rate/<n>`: the citizen's satisfaction tablet at counter n (a rating device's token).
"""
from __future__ import annotations

import hmac
import re
from typing import Any

from flask import Blueprint, abort, current_app, redirect, render_template, request, session, url_for
from werkzeug.exceptions import HTTPException

from motcua.web.sessions import csrf_token, session_principal, sign_in, sign_out

bp = Blueprint("counter", __name__, template_folder="templates", static_folder="static",
               static_url_path="/counter/static")

PAUSE_REASONS = ("Nghỉ giải lao", "Họp, công tác", "Hỗ trợ quầy khác", "Sự cố máy tính, mạng")


def _services() -> Any:
    return current_app.extensions["motcua"]


def check_csrf() -> None:
    sent, known = request.form.get("csrf", ""), session.get("csrf", "")
    if not sent or not known or not hmac.compare_digest(sent.encode(), known.encode()):
        abort(400, "csrf")


def _user():
    return session_principal(_services().auth)


# Where sign-in may return to: a page of ours, written plainly. Nothing a browser could read
# as another site gets through (tabs and newlines it drops, backslashes it reads as slashes,
# `//`, schemes, encoded forms, dot segments): only letters, digits, `-`, `_` and single
# slashes, and the path must be one of these pages. Anything else: the counter picker.
_NEXT_SHAPE = re.compile(r"(?:/[A-Za-z0-9_-]+)+")
_NEXT_PAGES = frozenset(("counter.console", "counter.overview", "admin.admin_page", "admin_reports.reports_page"))


def _safe_next(nxt: object) -> str | None:
    if not isinstance(nxt, str) or len(nxt) > 100 or not _NEXT_SHAPE.fullmatch(nxt):
        return None
    try:
        endpoint, _ = current_app.url_map.bind("localhost").match(nxt, method="GET")
    except HTTPException:  # no such page (or werkzeug would redirect it elsewhere)
        return None
    return nxt if endpoint in _NEXT_PAGES else None


@bp.app_context_processor
def _inject():
    return {"csrf_token": csrf_token}


@bp.get("/counter")
def counter_home():
    svc = _services()
    user = _user()
    if user is None:
        return render_template("counter/login.html", office=svc.config.office, error=None,
                               next=_safe_next(request.args.get("next", "")) or "")
    if user.role == "staff" and len(user.counters) == 1:
        return redirect(url_for("counter.console", n=user.counters[0]))
    allowed = [c for c in svc.config.counters if user.may_act_on_counter(c.number)]
    return render_template("counter/choose.html", office=svc.config.office, user=user, counters=allowed)


@bp.post("/counter/login")
def login():
    from motcua.auth import LoginError

    check_csrf()
    svc = _services()
    username = (request.form.get("username") or "").strip().lower()[:40]
    password = (request.form.get("password") or "")[:200]
    nxt = _safe_next(request.form.get("next", "")) or ""
    try:
        p = svc.auth.login(username, password, ip=request.remote_addr or "")
    except LoginError as e:
        return render_template("counter/login.html", office=svc.config.office, error=e.message, next=nxt), e.status
    if p.role not in ("staff", "admin"):
        return render_template("counter/login.html", office=svc.config.office,
                               error="Tài khoản này không dùng được ở quầy.", next=nxt), 403
    sign_in(svc.auth, p)
    if nxt:
        return redirect(nxt)
    if p.role == "admin":  # the office lead lands on their own screens
        return redirect(url_for("admin.admin_page"))
    return redirect(url_for("counter.counter_home"))


@bp.post("/counter/logout")
def logout():
    check_csrf()
    sign_out(_services().auth)
    return redirect(url_for("counter.counter_home"))


@bp.get("/counter/<id:n>")
def console(n: int):
    svc = _services()
    user = _user()
    if user is None:
        return redirect(url_for("counter.counter_home", next=f"/counter/{n}"))
    ccfg = svc.config.counter(n)
    if ccfg is None:
        abort(404)
    if not user.may_act_on_counter(n):
        abort(403)
    fields = [{"code": f.code, "name": f.name} for f in svc.config.fields]
    counters = [{"number": c.number, "name": c.label, "fields": list(c.fields)}
                for c in svc.config.counters if c.number != n]
    my_counters = [c for c in svc.config.counters if user.may_act_on_counter(c.number)]
    page = {
        "counter": n, "token": svc.auth.issue_token(user), "fields": fields, "counters": counters,
        "noShowAfterRecalls": svc.config.queue.no_show_after_recalls,
        "pauseReasons": list(PAUSE_REASONS),
    }
    return render_template("counter/console.html", office=svc.config.office, user=user, counter=ccfg,
                           page=page, fields=fields, counters=counters, my_counters=my_counters,
                           pause_reasons=PAUSE_REASONS)


@bp.get("/counter/overview")
def overview():
    svc = _services()
    user = _user()
    if user is None:
        return redirect(url_for("counter.counter_home", next="/counter/overview"))
    return render_template("counter/overview.html", office=svc.config.office, user=user,
                           page={"token": svc.auth.issue_token(user)})


@bp.get("/rate/<id:n>")
def rate(n: int):
    """The rating tablet. Its device token comes from `?device=<token>` (kept in the tablet's
    localStorage) or, in the demo office, from the configured rating device of counter n."""
    from motcua.ratings import LEVEL_LABELS_VI, REASONS, rating_devices_for, rating_settings

    svc = _services()
    ccfg = svc.config.counter(n)
    if ccfg is None:
        abort(404)
    demo_token = ""
    if svc.settings.demo:
        dev = next((d for d in rating_devices_for(svc.config, n) if d.kind == "rating" and d.token), None)
        demo_token = dev.token if dev else ""
    page = {
        "counter": n, "demoToken": demo_token,
        "timeoutS": rating_settings(svc.config, n).prompt_timeout_s,
        "levels": [{"code": k, "label": v} for k, v in LEVEL_LABELS_VI.items()],
        "reasons": [{"code": k, "label": v} for k, v in REASONS.items()],
    }
    return render_template("counter/rate.html", office=svc.config.office, counter=ccfg, page=page)
