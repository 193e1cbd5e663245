"""The protective headers of every answer, and the pages' nonce.

Every asset is served by motcua itself, so the pages run under a strict Content-Security-
Policy: scripts and style sheets from this origin only; the few inline `<script>` blocks
(each page's settings) carry the response's nonce (`{{ csp_nonce() }}` in templates); no
inline event handlers, no eval; inline `style="..."` attributes and `data:` images (the
kiosk's empty icon) are allowed: neither can load anything from elsewhere (images, fonts and
connections are this origin only). No page may be framed
(`frame-ancestors 'none'` and `X-Frame-Options: DENY`), forms post only here."""
from __future__ import annotations

import secrets

from flask import Flask, Response, g

from .sessions import csrf_token, page_csrf

_POLICY = ("default-src 'self'; script-src 'self'{n}; style-src 'self'{n}; style-src-attr 'unsafe-inline'; "
           "img-src 'self' data:; font-src 'self'; media-src 'self'; connect-src 'self'; object-src 'none'; "
           "base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
_POLICY_NO_NONCE = _POLICY.format(n="")


def csp_nonce() -> str:
    """This response's nonce (made on first use), for an inline <script> or <style>."""
    nonce = g.get("csp_nonce")
    if nonce is None:
        nonce = g.csp_nonce = secrets.token_urlsafe(18)
    return nonce


def add_headers(resp: Response) -> Response:
    # (not headers.setdefault: that raises and catches a KeyError per missing header)
    h = resp.headers
    if "X-Content-Type-Options" not in h:
        h["X-Content-Type-Options"] = "nosniff"
    if "Referrer-Policy" not in h:
        h["Referrer-Policy"] = "same-origin"
    if "X-Frame-Options" not in h:
        h["X-Frame-Options"] = "DENY"
    if "Content-Security-Policy" not in h and resp.mimetype != "application/json":
        nonce = g.get("csp_nonce")
        h["Content-Security-Policy"] = _POLICY.format(n=f" 'nonce-{nonce}'") if nonce else _POLICY_NO_NONCE
    return resp


def install(app: Flask) -> None:
    """Template helpers: `csp_nonce()`, `csrf_token()` (forms), `page_csrf()` (pages' scripts)."""
    app.context_processor(lambda: {"csp_nonce": csp_nonce, "csrf_token": csrf_token, "page_csrf": page_csrf})
