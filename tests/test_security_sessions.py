"""Security review (issue 14), findings 1, 5, 8 and the sign-in part of 7, kept closed:

1. after the counter sign-in the browser only ever goes to a page of ours, whatever `next`
   says (tabs, newlines, backslashes, encoded forms, `//`, schemes); a newline is no 500 (7);
5. a call that changes something, made with the session cookie, needs the page's own
   `X-Motcua-CSRF` token (another origin cannot read it); bearer calls need nothing;
8. sign-out ends the session on the server (the old cookie and the console's token are
   worth nothing), a session lasts a working day, and a revoked session's sockets are dropped.
"""
from __future__ import annotations

import html
import json
import re
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from urllib.parse import urljoin, urlsplit

import pytest
import requests

from helpers import KIOSK_TOKEN, ROOT, ServerProcess
from test_ratings import PASSWORD, write_rating_config

WORKING_DAY = timedelta(hours=12)


# In-process application (a fake clock for the working day) ---------------------------------
@pytest.fixture
def app(tmp_path, clock):
    from config import load_config
    from motcua.app import Settings, create_app

    cfg = load_config(write_rating_config(tmp_path / "cfg"))
    app = create_app(Settings(config=cfg, data_dir=tmp_path / "data", testing=True, start_devices=False,
                              background_jobs=False, clock=clock))
    yield app
    app.extensions["motcua"].close()


def _csrf_field(text: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', text).group(1)


def _sign_in(client, username: str = "quay1", password: str = PASSWORD, next_: str | None = None):
    page = client.get("/counter")
    assert page.status_code == 200
    data = {"csrf": _csrf_field(page.get_data(as_text=True)), "username": username, "password": password}
    if next_ is not None:
        data["next"] = next_
    return client.post("/counter/login", data=data)


def _page_token(text: str) -> str:
    return json.loads(re.search(r"window\.MOTCUA_COUNTER = (\{.*?\});</script>", text).group(1))["token"]


def _meta_csrf(text: str) -> str | None:
    m = re.search(r'<meta name="motcua-csrf" content="([^"]+)"', text)
    return html.unescape(m.group(1)) if m else None


def _issue(client) -> dict:
    r = client.post("/api/v1/tickets", json={"service": "HOTICH"}, headers={"Authorization": f"Bearer {KIOSK_TOKEN}"})
    assert r.status_code == 201, r.get_data(as_text=True)
    return r.get_json()


# Finding 8: sign-out ends the session; a working day at most --------------------------------
def test_sign_out_makes_the_old_cookie_and_the_console_token_worthless(app):
    client = app.test_client()
    assert _sign_in(client).status_code == 302
    old_cookie = client.get_cookie("session").value
    console = client.get("/counter/1")
    assert console.status_code == 200
    token = _page_token(console.get_data(as_text=True))
    assert client.get("/api/v1/counters/1").status_code == 200
    assert client.get("/api/v1/counters/1", headers={"Authorization": f"Bearer {token}"}).status_code == 200

    out = client.post("/counter/logout", data={"csrf": _csrf_field(console.get_data(as_text=True))})
    assert out.status_code == 302

    # Someone kept a copy of the cookie (or the console page): it signs nobody in any more.
    replay = app.test_client()
    replay.set_cookie("session", old_cookie)
    r = replay.get("/api/v1/counters/1")
    assert r.status_code == 401, r.get_data(as_text=True)
    r = replay.get("/counter/1")
    assert r.status_code == 302 and "/counter?next=" in r.headers["Location"], "back to the sign-in form"
    assert "Đăng nhập" in replay.get("/counter").get_data(as_text=True)
    r = app.test_client().get("/api/v1/counters/1", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 401 and "đăng nhập lại" in r.get_json()["message"]


def test_signing_out_one_session_leaves_the_same_account_signed_in_elsewhere(app):
    first, second = app.test_client(), app.test_client()
    _sign_in(first)
    _sign_in(second)
    page = first.get("/counter/1").get_data(as_text=True)
    first.post("/counter/logout", data={"csrf": _csrf_field(page)})
    assert first.get("/api/v1/counters/1").status_code == 401
    assert second.get("/api/v1/counters/1").status_code == 200


def test_the_session_cookie_lasts_a_working_day_and_not_longer_on_the_server(app, clock):
    client = app.test_client()
    before = datetime.now(timezone.utc)
    r = _sign_in(client)
    assert r.status_code == 302
    set_cookie = next(h for h in r.headers.getlist("Set-Cookie") if h.startswith("session="))
    assert "HttpOnly" in set_cookie and "SameSite=Lax" in set_cookie
    m = re.search(r"Max-Age=(\d+)", set_cookie)
    e = re.search(r"Expires=([^;]+)", set_cookie)
    assert m or e, f"a signed-in cookie must say when it ends: {set_cookie}"
    if m:
        assert int(m.group(1)) <= WORKING_DAY.total_seconds()
    if e:
        assert parsedate_to_datetime(e.group(1)) <= before + WORKING_DAY + timedelta(minutes=1)

    token = _page_token(client.get("/counter/1").get_data(as_text=True))
    clock.advance(hours=11, minutes=50)
    assert client.get("/api/v1/counters/1").status_code == 200, "still the same working day"
    clock.advance(minutes=11)
    assert client.get("/api/v1/counters/1").status_code == 401, "the cookie outlived the working day"
    r = app.test_client().get("/api/v1/counters/1", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 401, "the console's token ends with its session"


def test_a_password_change_signs_every_session_out(app):
    client = app.test_client()
    _sign_in(client)
    assert client.get("/api/v1/counters/1").status_code == 200
    app.extensions["motcua"].auth.set_password("quay1", "mat-khau-moi-2026")
    assert client.get("/api/v1/counters/1").status_code == 401


# Finding 5: cookie-authenticated changes need the page's token --------------------------------
def test_a_cookie_call_without_the_page_token_is_refused_in_vietnamese(app):
    client = app.test_client()
    _sign_in(client)
    ticket = _issue(client)

    for headers in ({}, {"X-Motcua-CSRF": "khong-phai-ma-cua-trang"}, {"X-Requested-With": "XMLHttpRequest"}):
        r = client.post("/api/v1/counters/1/call-next", headers=headers)  # empty body: no JSON check
        assert r.status_code == 403, (headers, r.get_data(as_text=True))
        body = r.get_json()
        assert body["error"] == "csrf"
        assert "tải lại trang" in body["message"]
    r = client.post("/api/v1/counters/1/pause", json={"reason": "Nghỉ giải lao"})
    assert r.status_code == 403
    view = client.get("/api/v1/counters/1").get_json()  # reading needs no token
    assert view["current"] is None and not view["counter"]["paused"], "a refused call changes nothing"

    token = _meta_csrf(client.get("/counter/1").get_data(as_text=True))
    assert token, "the console page carries the session's token"
    r = client.post("/api/v1/counters/1/call-next", headers={"X-Motcua-CSRF": token})
    assert r.status_code == 200, r.get_data(as_text=True)
    assert r.get_json()["ticket"]["number"] == ticket["number"]


def test_bearer_calls_need_no_page_token(app):
    client = app.test_client()
    _issue(client)
    token = app.extensions["motcua"].auth.issue_token(app.extensions["motcua"].auth.login("quay1", PASSWORD))
    r = client.post("/api/v1/counters/1/call-next", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200, r.get_data(as_text=True)
    # A kiosk page sets no cookie and carries no token.
    page = client.get("/kiosk")
    assert _meta_csrf(page.get_data(as_text=True)) is None
    assert "Set-Cookie" not in page.headers


# Findings 1 and 7: where the browser goes after signing in -----------------------------------
@pytest.fixture(scope="module")
def live(tmp_path_factory):
    s = ServerProcess(tmp_path_factory.mktemp("security") / "data").start()
    yield s
    s.stop()


def _browser_target(base: str, location: str) -> str:
    """Where a browser goes with this Location: it drops tabs and newlines and reads a
    backslash as a slash (WHATWG URL parsing of http URLs)."""
    cleaned = re.sub(r"[\t\n\r]", "", location).strip("\x00- ").replace("\\", "/")
    return urljoin(base + "/", cleaned)


CRAFTED_NEXT = [
    "/\t/evil.example/", "/\n/evil.example/", "/\r\n/evil.example/", "\t//evil.example/", " //evil.example/",
    "//evil.example/", "///evil.example/", "////evil.example/", "/\\evil.example/", "\\\\evil.example/",
    "/\\/evil.example/", "\\/evil.example/", "/%09/evil.example/", "/%2F/evil.example/", "/%5C/evil.example/",
    "/%2f%2fevil.example/", "%2F%2Fevil.example/", "https://evil.example/", "http:evil.example",
    "http:/\\evil.example", "https:\\\\evil.example", "//evil.example@127.0.0.1/", "/counter/1\r\nSet-Cookie: x=1",
    "/counter/1\nLocation: //evil.example", "javascript:alert(1)", "JaVaScRiPt:alert(1)", " javascript:alert(1)",
    "java\tscript:alert(1)", "data:text/html,<script>alert(1)</script>", "evil.example", "/\x00/evil.example",
    "/counter/../..//evil.example/", "/./\t/evil.example", "/\u3002evil.example", "/\uff0f\uff0fevil.example",
    "/counter/1#//evil.example", "/" + "a" * 5000,
]


def _login_page(s: requests.Session, base: str, next_: str) -> tuple[str, str]:
    r = s.get(base + "/counter", params={"next": next_}, allow_redirects=False, timeout=10)
    assert r.status_code == 200, (next_, r.status_code)
    field = re.search(r'name="next" value="([^"]*)"', r.text).group(1)
    return _csrf_field(r.text), html.unescape(field)


def _assert_ours(base: str, location: str, next_: str, home: str = "/counter") -> None:
    target = _browser_target(base, location)
    parts = urlsplit(target)
    assert parts.netloc == urlsplit(base).netloc and parts.scheme == "http", (repr(next_), location)
    assert parts.path == home, (repr(next_), location, "falls back to the counter picker")


def test_sign_in_never_sends_the_browser_to_another_site(live):
    base = live.url
    s = requests.Session()
    for next_ in CRAFTED_NEXT:
        # The link's ?next= never reaches the form as anything but a plain page of ours...
        _, field = _login_page(s, base, next_)
        assert field == "", (repr(next_), field)
    for username, values in (("quay1", CRAFTED_NEXT), ("admin", CRAFTED_NEXT[:4])):
        for next_ in values:  # ... and a tampered form field is ignored
            s = requests.Session()
            csrf, _ = _login_page(s, base, "")
            r = s.post(base + "/counter/login", allow_redirects=False, timeout=10,
                       data={"csrf": csrf, "username": username, "password": PASSWORD, "next": next_})
            assert r.status_code in (302, 303), (repr(next_), r.status_code, r.text[:300])
            _assert_ours(base, r.headers["Location"], next_, "/admin" if username == "admin" else "/counter")


def test_sign_in_still_returns_to_the_page_that_asked(live):
    base = live.url
    for username, next_ in (("quay1", "/counter/1"), ("quay1", "/counter/overview"), ("admin", "/counter/3")):
        s = requests.Session()
        r = s.get(base + next_, allow_redirects=False, timeout=10)
        assert r.status_code == 302
        link = urljoin(base, r.headers["Location"])
        page = s.get(link, allow_redirects=False, timeout=10)
        field = html.unescape(re.search(r'name="next" value="([^"]*)"', page.text).group(1))
        assert field == next_
        r = s.post(base + "/counter/login", allow_redirects=False, timeout=10,
                   data={"csrf": _csrf_field(page.text), "username": username, "password": PASSWORD, "next": field})
        assert r.status_code == 302 and urlsplit(urljoin(base, r.headers["Location"])).path == next_


def test_a_newline_in_the_next_field_is_no_server_error(live):
    s = requests.Session()
    csrf, _ = _login_page(s, live.url, "")
    r = s.post(live.url + "/counter/login", allow_redirects=False, timeout=10,
               data={"csrf": csrf, "username": "quay1", "password": "sai-mat-khau", "next": "/counter/1\n\r"})
    assert r.status_code == 401 and "không đúng" in r.text
    r = s.post(live.url + "/counter/login", allow_redirects=False, timeout=10,
               data={"csrf": csrf, "username": "quay1", "password": PASSWORD, "next": "/counter/1\n"})
    assert r.status_code == 302


# Finding 8: a revoked session's sockets are dropped -----------------------------------------
class _Socket:
    def __init__(self, url: str, token: str):
        import socketio

        self.hello = threading.Event()
        self.gone = threading.Event()
        self.sio = socketio.Client(reconnection=False)
        self.sio.on("hello", lambda *_: self.hello.set())
        self.sio.on("disconnect", lambda *_: self.gone.set())
        self.sio.connect(url, auth={"token": token}, transports=["websocket"], wait_timeout=10)
        assert self.hello.wait(10), "connected and greeted"

    def close(self) -> None:
        if self.sio.connected:
            self.sio.disconnect()


def _browser_sign_in(base: str, username: str, counter: int) -> tuple[requests.Session, str]:
    s = requests.Session()
    csrf, _ = _login_page(s, base, "")
    r = s.post(base + "/counter/login", data={"csrf": csrf, "username": username, "password": PASSWORD}, timeout=10)
    assert r.status_code == 200 and r.url.endswith(f"/counter/{counter}"), r.url
    return s, r.text


def test_the_socket_of_a_signed_out_console_is_dropped(live):
    s, console = _browser_sign_in(live.url, "quay1", 1)
    _, other_console = _browser_sign_in(live.url, "quay3", 3)
    sock = _Socket(live.url, _page_token(console))
    other = _Socket(live.url, _page_token(other_console))
    try:
        r = s.post(live.url + "/counter/logout", data={"csrf": _csrf_field(console)}, timeout=10)
        assert r.status_code == 200
        assert sock.gone.wait(5), "the signed-out console's socket is still connected"
        assert other.sio.connected and not other.gone.is_set(), "another account's console stays connected"
        with pytest.raises(Exception):  # and the token cannot connect again
            _Socket(live.url, _page_token(console))
    finally:
        sock.close()
        other.close()


def test_a_socket_is_dropped_when_its_password_is_changed_from_another_process(live):
    token = live.token("quay2")
    kept = live.token("quay4")
    sock, other = _Socket(live.url, token), _Socket(live.url, kept)
    try:
        started = time.monotonic()
        done = subprocess.run(
            [sys.executable, "-m", "motcua.cli", "user", "add", "quay2", "--password", PASSWORD,
             "--counters", "2", "--data", str(live.data_dir)],
            cwd=str(ROOT), capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        assert sock.gone.wait(10), "the socket of a reset account is still connected"
        assert time.monotonic() - started < 30
        assert other.sio.connected
        r = requests.get(live.url + "/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"}, timeout=10)
        assert r.status_code == 401
    finally:
        sock.close()
        other.close()


# Finding 14: the pages' headers, nonces and cookies ------------------------------------------
SCREENS = ["/", "/kiosk", "/display", "/rate/1", "/admin", "/counter", "/counter/1", "/counter/overview",
           "/counter/login-khong-co", "/t/{token}", "/t/khong-co-phieu-nay"]


def test_every_page_has_a_strict_policy_and_its_inline_scripts_its_nonce(app):
    client = app.test_client()
    _sign_in(client, "admin")
    token = _issue(client)["token"]
    seen = set()
    for path in SCREENS:
        r = client.get(path.format(token=token))
        assert r.status_code in (200, 404), path
        csp = r.headers.get("Content-Security-Policy", "")
        directives = dict((d.strip().split(" ", 1) + [""])[:2] for d in csp.split(";") if d.strip())
        assert directives.get("default-src") == "'self'", (path, csp)
        assert directives.get("frame-ancestors") == "'none'" and r.headers["X-Frame-Options"] == "DENY", path
        assert directives.get("object-src") == "'none'", path
        script = directives.get("script-src", "")
        assert "unsafe-inline" not in script and "unsafe-eval" not in script and "*" not in script, (path, script)
        nonces = re.findall(r"'nonce-([^']+)'", script)
        text = r.get_data(as_text=True)
        for tag in re.findall(r"<(?:script|style)\b[^>]*>", text):
            if "src=" in tag:
                continue
            m = re.search(r'nonce="([^"]+)"', tag)
            assert m and m.group(1) in nonces, (path, tag)
            seen.add(m.group(1))
        assert not re.search(r"<[^>]+\son[a-z]+\s*=", text), (path, "an inline event handler")
        assert "javascript:" not in text, path
    assert len(seen) >= 5, "each answer gets a fresh nonce"


def test_api_answers_cannot_be_framed_or_sniffed(app):
    r = app.test_client().get("/api/v1/counters")
    assert r.headers["X-Frame-Options"] == "DENY" and r.headers["X-Content-Type-Options"] == "nosniff"


def _session_cookie(r) -> str:
    return next(h for h in r.headers.getlist("Set-Cookie") if h.startswith("session="))


def test_cookies_are_secure_over_https_only(app, monkeypatch):
    plain = app.test_client()
    assert "Secure" not in _session_cookie(_sign_in(plain)), "the office LAN over http keeps working"
    tls = app.test_client()
    page = tls.get("/counter", base_url="https://quay.example")
    r = tls.post("/counter/login", base_url="https://quay.example",
                 data={"csrf": _csrf_field(page.get_data(as_text=True)), "username": "quay1", "password": PASSWORD})
    assert "; Secure" in _session_cookie(r)
    # A forwarded header counts only behind a trusted proxy.
    spoof = app.test_client()
    page = spoof.get("/counter", headers={"X-Forwarded-Proto": "https"})
    assert "Secure" not in page.headers.get("Set-Cookie", "")


def test_cookies_are_secure_behind_a_trusted_tls_proxy(tmp_path, monkeypatch):
    from config import load_config
    from motcua.app import Settings, create_app

    monkeypatch.setenv("MOTCUA_TRUSTED_PROXIES", "1")
    cfg = load_config(write_rating_config(tmp_path / "cfg"))
    app = create_app(Settings(config=cfg, data_dir=tmp_path / "data", testing=True, start_devices=False,
                              background_jobs=False))
    try:
        client = app.test_client()
        fwd = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "10.0.0.7"}
        page = client.get("/counter", headers=fwd)
        r = client.post("/counter/login", headers=fwd, data={
            "csrf": _csrf_field(page.get_data(as_text=True)), "username": "quay1", "password": PASSWORD})
        assert r.status_code == 302 and "; Secure" in _session_cookie(r)
    finally:
        app.extensions["motcua"].close()
