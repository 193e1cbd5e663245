"""Flask's signed-cookie sessions, without the per-request cost for clients that have none.

Kiosks, displays and other systems call the API with bearer tokens and send no session
cookie. Flask's stock interface still builds a signing serializer (a key derivation) for
each of those requests; here a request without the cookie gets an empty session at once,
and the serializer is built once per secret key. Cookies are signed and read exactly as
Flask does (same salt, digest and serializer)."""
from __future__ import annotations

from flask.sessions import SecureCookieSessionInterface


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
