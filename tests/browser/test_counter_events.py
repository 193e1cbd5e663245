"""The console hears what concerns its counter: a citizen transferred to it, and the rating of
the visit it just finished (events `ticket:transferred` and `rating:closed`)."""
from __future__ import annotations

import pytest
import requests
from playwright.sync_api import expect

from console_support import sign_in  # noqa: E402
from test_ratings import KIOSK_TOKEN, start_rating_server  # noqa: E402  (tests/ is on sys.path)


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    s = start_rating_server(tmp_path_factory.mktemp("console-events"))
    yield s
    s.stop()


def _token(srv, username: str) -> str:
    r = requests.post(srv.url + "/api/v1/auth/token", json={"username": username, "password": "motcua-demo"},
                      timeout=10)
    assert r.status_code == 200, r.text
    return r.json()["token"]


def _post(srv, path: str, tok: str, body: dict | None = None) -> dict:
    r = requests.post(srv.url + path, json=body or {}, headers={"Authorization": f"Bearer {tok}"}, timeout=10)
    assert r.status_code in (200, 201), r.text
    return r.json()


def _console(context_factory, srv, username: str, counter: int):
    page = sign_in(context_factory, srv.url, username, counter)
    expect(page.locator("#b-pause")).to_be_enabled()  # connected and loaded
    return page


def test_the_target_counter_is_told_who_was_transferred_to_it(srv, context_factory):
    target = _console(context_factory, srv, "quay2", 2)
    other = _console(context_factory, srv, "quay3", 3)
    t = _post(srv, "/api/v1/tickets", KIOSK_TOKEN, {"service": "HOTICH"})
    q1 = _token(srv, "quay1")
    _post(srv, "/api/v1/counters/1/call-next", q1)
    _post(srv, "/api/v1/counters/1/transfer", q1, {"counter": 2})
    toast = target.locator(".toast", has_text=f"Số {t['number']} được chuyển đến từ quầy 1")
    expect(toast).to_be_visible(timeout=10_000)
    expect(toast).to_contain_text("(Đất đai)")  # the field it now waits in, in words, not its code
    # Counter 3 serves other fields: it is not told.
    expect(other.locator(".toast", has_text=f"Số {t['number']}")).to_have_count(0)


def test_the_console_sees_the_rating_of_its_visit(srv, context_factory):
    console = _console(context_factory, srv, "quay1", 1)
    t = _post(srv, "/api/v1/tickets", KIOSK_TOKEN, {"service": "HOTICH"})
    q1 = _token(srv, "quay1")
    _post(srv, "/api/v1/counters/1/call-next", q1)
    _post(srv, "/api/v1/counters/1/finish", q1)
    _post(srv, "/api/v1/ratings", KIOSK_TOKEN, {"ticket": t["id"], "level": "satisfied"})
    expect(console.locator(".toast", has_text="Công dân vừa đánh giá lượt phục vụ: Hài lòng.")).to_be_visible(
        timeout=10_000)
