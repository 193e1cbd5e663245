"""Who is asking, for every HTTP route: bearer token, else the screen's session, else anonymous."""
from __future__ import annotations

from functools import wraps
from typing import Callable

from flask import current_app, g, request, session

from ..auth import ANONYMOUS, Principal
from .errors import ApiError


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
    elif session.get("uid"):
        principal = auth.principal_for_user_id(int(session["uid"]), session.get("tv"))
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
