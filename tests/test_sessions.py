"""The counter screen's signed session cookie (motcua/web/sessions.py): a staff member signs
in with the form, the cookie carries the sign-in, a forged or stale cookie is nobody, and
kiosks calling the API with a bearer token never get a cookie."""
from __future__ import annotations

import re

import pytest

from helpers import KIOSK_TOKEN
from test_ratings import PASSWORD, write_rating_config


@pytest.fixture
def app(tmp_path):
    from config import load_config
    from motcua.app import Settings, create_app

    cfg = load_config(write_rating_config(tmp_path / "cfg"))
    app = create_app(Settings(config=cfg, data_dir=tmp_path / "data", testing=True, start_devices=False,
                              background_jobs=False))
    yield app
    app.extensions["motcua"].close()


def _sign_in(client, username: str = "quay1", password: str = PASSWORD):
    page = client.get("/counter")
    assert page.status_code == 200
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.get_data(as_text=True)).group(1)
    return client.post("/counter/login", data={"csrf": csrf, "username": username, "password": password})


def test_sign_in_keeps_staff_signed_in_until_the_key_changes(app):
    client = app.test_client()
    assert client.get("/api/v1/counters/1").status_code == 401
    r = _sign_in(client)
    assert r.status_code == 302, r.get_data(as_text=True)
    assert client.get("/api/v1/counters/1").status_code == 200, "the session cookie signs quay1 in"
    assert client.get("/api/v1/counters/2").status_code == 403, "quay1 is not counter 2's staff"

    # The office rotates its secret key, keeping the old one as a fallback: still signed in.
    old = app.secret_key
    app.secret_key = "a-new-secret-key-for-this-office-0001"
    app.config["SECRET_KEY_FALLBACKS"] = [old]
    assert client.get("/api/v1/counters/1").status_code == 200
    # Without the fallback the old cookie is worth nothing.
    app.config["SECRET_KEY_FALLBACKS"] = []
    r = client.get("/api/v1/counters/1")
    assert r.status_code == 401 and r.get_json()["error"] == "unauthorized"


def test_a_forged_cookie_is_nobody(app):
    client = app.test_client()
    _sign_in(client)
    cookie = client.get_cookie("session")
    assert cookie is not None
    value = cookie.value
    forged = value[:-2] + ("AA" if not value.endswith("AA") else "BB")
    client.set_cookie("session", forged)
    assert client.get("/api/v1/counters/1").status_code == 401


def test_wrong_csrf_refuses_sign_in(app):
    client = app.test_client()
    client.get("/counter")
    r = client.post("/counter/login", data={"csrf": "not-the-token", "username": "quay1", "password": PASSWORD})
    assert r.status_code == 400
    assert client.get("/api/v1/counters/1").status_code == 401


def test_bearer_api_calls_get_no_cookie_and_safe_headers(app):
    client = app.test_client()
    for _ in range(3):
        r = client.post("/api/v1/tickets", json={"service": "HOTICH"},
                        headers={"Authorization": f"Bearer {KIOSK_TOKEN}"})
        assert r.status_code == 201
        assert "Set-Cookie" not in r.headers
        # and the usual protective headers, once each
        assert r.headers.getlist("X-Content-Type-Options") == ["nosniff"]
        assert r.headers.getlist("Referrer-Policy") == ["same-origin"]
