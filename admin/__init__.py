"""The administrator's screens (/admin...): signed-in administrators only.

Anonymous visitors get the sign-in page (401), a staff account or a device a Vietnamese "not
allowed" page (403). Each page is a shell (the shared layout with the left menu); what it shows
and changes goes through the admin API (`/api/v1/admin/...`, motcua/api/admin_routes*.py).

The reports pages (/admin/reports) are another blueprint (admin/reports.py), registered by the
application, not here; the menu links to them."""
from __future__ import annotations

import hmac
from typing import Any

from flask import Blueprint, redirect, render_template, request, session, url_for

from motcua.web.errors import ApiError
from motcua.web.sessions import sign_in, sign_out

bp = Blueprint("admin", __name__, template_folder="templates", static_folder="static",
               static_url_path="/admin/static")

# (endpoint, path, Vietnamese title, English title); "Báo cáo" is the reports blueprint's page,
# "Lịch hẹn hôm nay" the day's bookings (the kiosk blueprint's page, docs/booking.md).
MENU = (
    ("admin.admin_page", "/admin", "Tổng quan", "Overview"),
    ("admin.office_page", "/admin/office", "Văn phòng, giờ làm việc", "Office and hours"),
    ("admin.fields_page", "/admin/fields", "Lĩnh vực", "Fields"),
    ("admin.counters_page", "/admin/counters", "Quầy", "Counters"),
    ("admin.staff_page", "/admin/staff", "Cán bộ", "Staff"),
    ("admin.devices_page", "/admin/devices", "Thiết bị", "Devices"),
    ("admin.notices_page", "/admin/notices", "Thông báo trên TV", "Notices"),
    ("admin.imports_page", "/admin/imports", "Nhập hồ sơ", "Imports"),
    ("admin.voice_page", "/admin/voice", "Giọng đọc", "Voice"),
    ("admin.audit_page", "/admin/audit", "Nhật ký thay đổi", "Audit log"),
    ("kiosk.booking_day_page", "/dat-lich/hom-nay", "Lịch hẹn hôm nay", "Today's bookings"),
    ("reports", "/admin/reports", "Báo cáo", "Reports"),
)


def _services() -> Any:
    from motcua.web.authz import services

    return services()


def _who():
    """The signed-in user (cookie) or the bearer of a token; None when anonymous."""
    from motcua.web.authz import current_principal

    try:
        p = current_principal()
    except ApiError:
        return None
    return None if p.is_anonymous else p


def _login_page(error: str | None = None, status: int = 401, nxt: str = ""):
    svc = _services()
    return render_template("admin/login.html", office=svc.config.office, error=error, next=nxt), status


def _page(template: str, title: str, **extra: Any):
    svc = _services()
    user = _who()
    if user is None:
        return _login_page(nxt=request.path)
    if user.role != "admin":
        return render_template("admin/forbidden.html", office=svc.config.office, user=user), 403
    # The page's realtime connection signs in with a token of the user's session (Socket.IO
    # does not read the cookie): without it the page would hear only what the public hears.
    live = {"token": svc.auth.issue_token(user)}
    return render_template(f"admin/{template}", office=svc.config.office, user=user, menu=MENU, title=title,
                           active=request.endpoint, live=live, **extra)


@bp.get("/admin")
def admin_page():
    return _page("index.html", "Tổng quan")


@bp.get("/admin/office")
def office_page():
    return _page("office.html", "Văn phòng, giờ làm việc")


@bp.get("/admin/fields")
def fields_page():
    return _page("fields.html", "Lĩnh vực")


@bp.get("/admin/counters")
def counters_page():
    return _page("counters.html", "Quầy")


@bp.get("/admin/staff")
def staff_page():
    return _page("staff.html", "Cán bộ")


@bp.get("/admin/devices")
def devices_page():
    return _page("devices.html", "Thiết bị")


@bp.get("/admin/notices")
def notices_page():
    return _page("notices.html", "Thông báo trên TV")


@bp.get("/admin/imports")
def imports_page():
    return _page("imports.html", "Nhập hồ sơ")


@bp.get("/admin/voice")
def voice_page():
    return _page("voice.html", "Giọng đọc")


@bp.get("/admin/audit")
def audit_page():
    return _page("audit.html", "Nhật ký thay đổi")


def _check_csrf() -> bool:
    sent, known = request.form.get("csrf", ""), session.get("csrf", "")
    return bool(sent and known) and hmac.compare_digest(sent.encode(), known.encode())


def _safe_next(nxt: str) -> str:
    """Only one of our admin pages, written plainly."""
    paths = {path for _e, path, _vi, _en in MENU if path.startswith("/admin")}
    return nxt if nxt in paths else "/admin"


@bp.post("/admin/login")
def login():
    from motcua.auth import LoginError

    svc = _services()
    nxt = _safe_next((request.form.get("next") or "")[:100])
    if not _check_csrf():
        return _login_page("Phiên đăng nhập đã hết hạn. Vui lòng nhập lại.", 400, nxt)
    username = (request.form.get("username") or "").strip().lower()[:40]
    password = (request.form.get("password") or "")[:200]
    try:
        p = svc.auth.login(username, password, ip=request.remote_addr or "")
    except LoginError as e:
        return _login_page(e.message, e.status, nxt)
    if p.role != "admin":
        return _login_page("Tài khoản này không phải tài khoản quản trị. Cán bộ quầy đăng nhập ở trang Quầy.",
                           403, nxt)
    sign_in(svc.auth, p)
    return redirect(nxt)


@bp.post("/admin/logout")
def logout():
    if _check_csrf():
        sign_out(_services().auth)
    return redirect(url_for("admin.admin_page"))
