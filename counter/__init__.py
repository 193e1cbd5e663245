"""The counter console (/counter): staff log in, call, recall, mark no-show, transfer, finish."""
from __future__ import annotations

import hmac
import secrets

from flask import Blueprint, abort, current_app, redirect, render_template, request, session, url_for

bp = Blueprint("counter", __name__, template_folder="templates", static_folder="static",
               static_url_path="/counter/static")


def _services():
    return current_app.extensions["motcua"]


def csrf_token() -> str:
    tok = session.get("csrf")
    if not tok:
        tok = session["csrf"] = secrets.token_urlsafe(24)
    return tok


def check_csrf() -> None:
    sent = request.form.get("csrf", "")
    if not sent or not hmac.compare_digest(sent, session.get("csrf", "")):
        abort(400, "csrf")


def _user():
    uid = session.get("uid")
    if not uid:
        return None
    return _services().auth.principal_for_user_id(int(uid), session.get("tv"))


@bp.app_context_processor
def _inject():
    return {"csrf_token": csrf_token}


@bp.get("/counter")
def counter_home():
    user = _user()
    if user is None:
        return render_template("counter/login.html", office=_services().config.office, error=None,
                               next=request.args.get("next", ""))
    if user.role == "staff" and len(user.counters) == 1:
        return redirect(url_for("counter.console", n=user.counters[0]))
    counters = _services().config.counters
    allowed = [c for c in counters if user.may_act_on_counter(c.number)]
    return render_template("counter/choose.html", office=_services().config.office, user=user, counters=allowed)


@bp.post("/counter/login")
def login():
    from motcua.auth import LoginError

    check_csrf()
    svc = _services()
    username = (request.form.get("username") or "").strip().lower()[:40]
    password = (request.form.get("password") or "")[:200]
    try:
        p = svc.auth.login(username, password, ip=request.remote_addr or "")
    except LoginError as e:
        return render_template("counter/login.html", office=svc.config.office, error=e.message,
                               next=""), e.status
    if p.role not in ("staff", "admin"):
        return render_template("counter/login.html", office=svc.config.office,
                               error="Tài khoản này không dùng được ở quầy.", next=""), 403
    session.clear()
    session["uid"] = p.user_id
    session["tv"] = p.extra.get("token_version")
    csrf_token()
    nxt = request.form.get("next", "")
    if nxt.startswith("/") and not nxt.startswith("//"):
        return redirect(nxt)
    return redirect(url_for("counter.counter_home"))


@bp.post("/counter/logout")
def logout():
    check_csrf()
    session.clear()
    return redirect(url_for("counter.counter_home"))


@bp.get("/counter/<int:n>")
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
    counters = [{"number": c.number, "name": c.label} for c in svc.config.counters]
    return render_template("counter/console.html", office=svc.config.office, user=user, counter=ccfg,
                           api_token=svc.auth.issue_token(user), fields=fields, counters=counters)
