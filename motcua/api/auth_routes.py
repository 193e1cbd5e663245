"""POST /api/v1/auth/token and GET /api/v1/auth/me."""
from __future__ import annotations

from flask import jsonify, request
from pydantic import BaseModel, ConfigDict, Field

from ..web.authz import current_principal, require, services
from ..web.request import json_body, parse
from .blueprint import bp


class TokenIn(BaseModel):
    model_config = ConfigDict(extra="ignore")
    username: str = Field(min_length=1, max_length=40)
    password: str = Field(min_length=1, max_length=200)


@bp.post("/auth/token")
def token():
    body = parse(TokenIn, json_body())
    svc = services()
    principal = svc.auth.login(body.username.strip().lower(), body.password, ip=request.remote_addr or "")
    return jsonify({
        "token": svc.auth.issue_token(principal), "token_type": "Bearer",
        "expires_in": int(svc.config.auth.token_ttl_hours * 3600),
        "username": principal.name, "full_name": principal.full_name, "role": principal.role,
        "counters": list(principal.counters),
    })


@bp.get("/auth/me")
@require("admin", "staff", "kiosk", "display", "rating")
def me():
    p = current_principal()
    return jsonify({"username": p.name, "full_name": p.full_name, "role": p.role,
                    "counters": list(p.counters), "device": p.device})
