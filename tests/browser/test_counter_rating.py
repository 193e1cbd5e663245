"""The citizen's rating tablet (/rate/<counter>) in Debian's chromium, against one real
`motcua serve` whose config has rating tablets for counters 1 and 2 (counter 2's closes after 5 s)."""
from __future__ import annotations

import re

import pytest
import requests
from playwright.sync_api import expect


from test_ratings import KIOSK_TOKEN, RATING_TOKEN_1, RATING_TOKEN_2, start_rating_server  # noqa: E402  (tests/ is on sys.path)


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    s = start_rating_server(tmp_path_factory.mktemp("rating"))
    yield s
    s.stop()


def _auth(tok: str) -> dict:
    return {"Authorization": f"Bearer {tok}"}


def serve_one(srv, service: str, counter: int, staff: str) -> dict:
    """Issue a ticket, call it and finish it at `counter` through the API; the finished ticket."""
    tok = srv.token(staff)
    t = requests.post(srv.url + "/api/v1/tickets", json={"service": service}, headers=_auth(KIOSK_TOKEN)).json()
    called = requests.post(f"{srv.url}/api/v1/counters/{counter}/call-next", headers=_auth(tok)).json()["ticket"]
    assert called["id"] == t["id"]
    done = requests.post(f"{srv.url}/api/v1/counters/{counter}/finish", headers=_auth(tok)).json()["ticket"]
    assert done["status"] == "done"
    return done


def open_tablet(context_factory, srv, counter: int, token: str, *, drop_closed: bool = False):
    ctx = context_factory(viewport={"width": 1280, "height": 800})
    if drop_closed:
        # This tablet misses every rating:closed message (as if it arrived during a network blip).
        def route(ws):
            server = ws.connect_to_server()
            server.on_message(lambda m: None if isinstance(m, str) and "rating:closed" in m else ws.send(m))
        ctx.route_web_socket(re.compile(r".*/socket\.io/.*"), route)
    page = ctx.new_page()
    page.goto(f"{srv.url}/rate/{counter}?device={token}")
    expect(page).to_have_url(re.compile(rf"/rate/{counter}$"))  # the token left the address bar
    expect(page.get_by_test_id("rate-idle")).to_be_visible()
    return page


def test_a_tablet_rating_lands_once_on_the_right_visit(srv, context_factory):
    a = open_tablet(context_factory, srv, 1, RATING_TOKEN_1)
    b = open_tablet(context_factory, srv, 1, RATING_TOKEN_1)
    late = open_tablet(context_factory, srv, 1, RATING_TOKEN_1, drop_closed=True)
    a.reload()  # the token is kept in the tablet's storage
    expect(a.get_by_test_id("rate-idle")).to_be_visible()
    done = serve_one(srv, "HOTICH", 1, "quay1")
    for page in (a, b, late):
        expect(page.get_by_test_id("rate-number")).to_have_text(done["number"])

    a.get_by_role("button", name=re.compile("Không hài lòng")).click()
    expect(a.get_by_test_id("rate-reasons")).to_be_visible()
    a.get_by_role("button", name="Thời gian chờ lâu").click()
    a.fill("#comment", "Chờ gần một tiếng")
    a.get_by_role("button", name="Gửi đánh giá").click()
    expect(a.get_by_test_id("rate-thanks")).to_be_visible()
    expect(b.get_by_test_id("rate-idle")).to_be_visible()  # the other tablet closed its prompt

    staff = srv.token("quay1")
    rows = requests.get(srv.url + "/api/v1/ratings?counter=1", headers=_auth(staff)).json()["ratings"]
    assert [(r["ticket_id"], r["visit_id"], r["level"], r["reasons"], r["comment"], r["field"]) for r in rows] == \
        [(done["id"], done["visit_id"], "unsatisfied", ["wait_long"], "Chờ gần một tiếng", "HOTICH")]

    # The tablet that missed the close still shows the prompt: its rating is refused, clearly.
    expect(late.get_by_test_id("rate-ask")).to_be_visible()
    late.get_by_role("button", name=re.compile("^Hài lòng")).click()
    expect(late.get_by_test_id("rate-error-text")).to_contain_text("đã được đánh giá")
    again = requests.post(srv.url + "/api/v1/ratings", json={"ticket": done["id"], "level": "very_satisfied"},
                          headers=_auth(RATING_TOKEN_1))
    assert again.status_code == 409 and "Mỗi lượt phục vụ chỉ được đánh giá một lần" in again.json()["message"]
    rows = requests.get(srv.url + "/api/v1/ratings?counter=1", headers=_auth(staff)).json()["ratings"]
    assert len(rows) == 1


def test_prompt_closes_after_its_timeout_and_misconfigured_tablets_say_so(srv, context_factory):
    tablet = open_tablet(context_factory, srv, 2, RATING_TOKEN_2)  # closes after 5 s (device option)
    done = serve_one(srv, "DATDAI", 2, "quay2")
    expect(tablet.get_by_test_id("rate-number")).to_have_text(done["number"])
    expect(tablet.get_by_test_id("rate-idle")).to_be_visible(timeout=10_000)
    staff = srv.token("quay2")
    assert requests.get(srv.url + "/api/v1/ratings?counter=2", headers=_auth(staff)).json()["ratings"] == []

    no_token = context_factory().new_page()
    no_token.goto(srv.url + "/rate/3")
    expect(no_token.get_by_test_id("rate-setup")).to_contain_text("Chưa có mã thiết bị")
    wrong = context_factory().new_page()
    wrong.goto(f"{srv.url}/rate/1?device={RATING_TOKEN_2}")
    expect(wrong.get_by_test_id("rate-setup")).to_contain_text("quầy 2")
