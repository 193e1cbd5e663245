"""The counter screen's session: Flask's signed cookie, ended on the server.

- The cookie carries the sign-in's server-side session id (`Auth.start_session`): sign-out
  ends that session (`Auth.end_session`), so a copy of the cookie, or a console token issued
  for it, is worth nothing afterwards. The cookie lasts a working day (`Auth.session_ttl`,
  the app's PERMANENT_SESSION_LIFETIME), is HttpOnly, SameSite=Lax, and Secure when the page
  came over HTTPS (directly, or through a trusted proxy's X-Forwarded-Proto).
- A change made with the cookie needs the session's own token in `X-Motcua-CSRF`
  (`check_page_token`): the pages get it in `<meta name="motcua-csrf">` and the shared JS
  (`MotcuaApi.request`) sends it; another origin cannot read it.
- Kiosks, displays and other systems call the API with bearer tokens and send no session
  cookie. Flask's stock interface still builds a signing serializer (a key derivation) for
  each of those requests; here a request without the cookie gets an empty session at once,
  and the serializer is built once per secret key. Cookies are signed and read exactly as
  Flask does (same salt, digest and serializer)."""
from __future__ import annotations

import hmac
import secrets
from typing import TYPE_CHECKING

from flask import has_request_context, request, session
from flask.sessions import SecureCookieSessionInterface

if TYPE_CHECKING:
    from ..auth import Auth, Principal

CSRF_HEADER = "X-Motcua-CSRF"
SAFE_METHODS = frozenset(("GET", "HEAD", "OPTIONS"))


class LeanCookieSessions(SecureCookieSessionInterface):
    def __init__(self) -> None:
        self._serializer = None
        self._serializer_key: object = None

    def get_signing_serializer(self, app):  # type: ignore[override]
        key = (app.secret_key, tuple(app.config.get("SECRET_KEY_FALLBACKS") or ()))
        if self._serializer is None or self._serializer_key != key:
            self._serializer = super().get_signing_serializer(app)
            self._serializer_key = key
        return self._serializer

    def open_session(self, app, request):  # type: ignore[override]
        if not app.secret_key:
            return None
        if request.cookies.get(self.get_cookie_name(app)) is None:
            return self.session_class()
        return super().open_session(app, request)

    def get_cookie_secure(self, app) -> bool:  # type: ignore[override]
        """Secure when configured so, or when this request came over HTTPS."""
        return bool(app.config["SESSION_COOKIE_SECURE"]) or (has_request_context() and request.is_secure)


def csrf_token() -> str:
    """The session's anti-forgery token (made on first use): the sign-in and sign-out forms
    carry it in a hidden field, the pages' API calls in the X-Motcua-CSRF header."""
    tok = session.get("csrf")
    if not tok:
        tok = session["csrf"] = secrets.token_urlsafe(24)
    return tok


def page_csrf() -> str:
    """The token for a page's scripts: only for a signed-in session (no cookie for kiosks)."""
    return csrf_token() if session.get("s") else ""


def sign_in(auth: "Auth", principal: "Principal") -> "Principal":
    """A fresh session for this user (ending the browser's previous one, if any)."""
    if session.get("s"):
        auth.end_session(session.get("s"))
    session.clear()
    p = auth.start_session(principal)
    session["uid"] = p.user_id
    session["s"] = p.extra["session"]
    session.permanent = True  # the cookie says when it ends: PERMANENT_SESSION_LIFETIME
    csrf_token()
    return p


def sign_out(auth: "Auth") -> None:
    auth.end_session(session.get("s"))
    session.clear()


def session_principal(auth: "Auth") -> "Principal | None":
    """The signed-in user of this browser's cookie, None if it is no live session."""
    sid, uid = session.get("s"), session.get("uid")
    if not sid or not isinstance(uid, int):
        return None
    return auth.principal_for_session(sid, uid)


def page_token_ok() -> bool:
    """A call made with the cookie either only reads, or carries the session's token."""
    if request.method in SAFE_METHODS:
        return True
    sent, known = request.headers.get(CSRF_HEADER, ""), session.get("csrf") or ""
    return bool(sent and known) and hmac.compare_digest(sent.encode(), known.encode())
