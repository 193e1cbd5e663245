"""Who is asking, for every HTTP route: bearer token, else the screen's session, else anonymous.

A change (POST, PUT, PATCH, DELETE) made with the session cookie must carry the page's
token (X-Motcua-CSRF, see sessions.py), else it is refused (403 `csrf`); bearer calls need none."""
from __future__ import annotations

from functools import wraps
from typing import Callable

from flask import current_app, g, request, session

from ..auth import ANONYMOUS, Principal
from .errors import ApiError
from .sessions import page_token_ok, session_principal


def services():
    return current_app.extensions["motcua"]


def current_principal() -> Principal:
    if "principal" in g:
        return g.principal
    auth = services().auth
    header = request.headers.get("Authorization", "")
    principal: Principal | None = None
    if header:
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise ApiError("bad_token", "Tiêu đề Authorization phải có dạng 'Bearer <token>'.", 401)
        principal = auth.principal_for_token(token.strip())
        if principal is None:
            raise ApiError("bad_token", "Token không hợp lệ hoặc đã hết hạn. Vui lòng đăng nhập lại.", 401)
    elif session.get("s"):
        principal = session_principal(auth)
        if principal is not None and not page_token_ok():
            # A change made with the cookie but without the page's token: another origin's page.
            raise ApiError("csrf", "Yêu cầu bị từ chối vì không đến từ màn hình của hệ thống. "
                           "Vui lòng tải lại trang rồi thử lại.", 403)
    g.principal = principal or ANONYMOUS
    return g.principal


def require(*roles: str) -> Callable:
    """Allow only these roles ('anonymous' allows everyone)."""
    def deco(fn: Callable) -> Callable:
        @wraps(fn)
        def wrapper(*a, **kw):
            p = current_principal()
            if "anonymous" in roles or p.role in roles:
                return fn(*a, **kw)
            if p.is_anonymous:
                raise ApiError(status=401)
            raise ApiError("forbidden", "Tài khoản hoặc thiết bị này không có quyền thực hiện thao tác này.", 403)
        return wrapper
    return deco


def require_counter(number: int) -> Principal:
    p = current_principal()
    if p.is_anonymous:
        raise ApiError(status=401)
    if not p.may_act_on_counter(number):
        raise ApiError("not_your_counter", f"Bạn không phải cán bộ của quầy {number}, không thể thao tác trên quầy này.", 403)
    return p
