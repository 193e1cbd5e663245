"""Phone pages follow their own ticket (motcua/ticket_pages.py): a page that connects with its
ticket's token gets the snapshot every client gets, then `ticket:update` with its place in line
whenever that changes, and `ticket:called`; never the whole queue state after each change (the
anonymous screens still get it). Both databases."""
from __future__ import annotations

import pytest

from helpers import wait_for


@pytest.fixture
def app(tmp_path, db_url, office_config):
    from motcua.app import Settings, create_app

    app = create_app(Settings(config=office_config, data_dir=tmp_path / "data", database_url=db_url,
                              testing=True, start_devices=False, background_jobs=False))
    yield app
    app.extensions["motcua"].close()


class Received:
    """What one test socket got so far (get_received() empties the client's list each time)."""

    def __init__(self, client):
        self.client = client
        self.all: list[dict] = []

    def named(self, name: str) -> list:
        self.all.extend(self.client.get_received())
        return [m["args"][0] for m in self.all if m["name"] == name]


def test_a_phone_page_gets_its_own_ticket_not_the_whole_queue(app):
    svc = app.extensions["motcua"]
    first = svc.engine.issue("HOTICH")
    mine = svc.engine.issue("HOTICH")
    phone = Received(svc.socketio.test_client(app, auth={"ticket": mine["token"]}))
    screen = Received(svc.socketio.test_client(app))  # an anonymous screen, as before
    assert phone.client.is_connected() and screen.client.is_connected()

    assert phone.named("queue:snapshot"), "every client gets the snapshot on connect"
    assert phone.named("hello")[0]["role"] == "ticket"
    update = wait_for(lambda: phone.named("ticket:update"), 30, "the page's ticket")[-1]
    assert update["id"] == mine["id"] and update["status"] == "waiting" and update["ahead"] == 1
    assert "token" not in update and update["counters"] == [1, 4] and update["estimated_wait_s"] > 0
    seen = len(phone.named("ticket:update"))

    # The one before is called: the page's place changes, and only this page's ticket comes.
    assert svc.engine.call_next(1)["id"] == first["id"]
    wait_for(lambda: len(phone.named("ticket:update")) > seen, 30, "the new place in line")
    now = phone.named("ticket:update")[-1]
    assert now["ahead"] == 0 and now["seq"] > update["seq"]
    assert any(c["ticket_id"] == first["id"] for c in phone.named("ticket:called"))
    wait_for(lambda: screen.named("queue:changed"), 30, "the anonymous screen's state")
    assert phone.named("queue:changed") == [], "the whole state never goes to a phone page"

    # Its own turn.
    svc.engine.finish(1)
    assert svc.engine.call_next(1)["id"] == mine["id"]
    called = wait_for(lambda: [u for u in phone.named("ticket:update") if u["status"] == "called"], 30, "called")
    assert called[-1]["counter"] == 1
    assert phone.named("queue:changed") == []
    phone.client.disconnect()
    screen.client.disconnect()
    wait_for(lambda: svc.hub.pages.following() == 0, 30, "the page forgotten once gone")


def test_a_page_sees_the_change_made_while_it_was_away_and_a_wrong_ticket_is_refused(app):
    svc = app.extensions["motcua"]
    svc.engine.issue("DATDAI")
    mine = svc.engine.issue("DATDAI")
    phone = Received(svc.socketio.test_client(app, auth={"ticket": mine["token"]}))
    wait_for(lambda: phone.named("ticket:update"), 30, "the page's ticket")
    phone.client.disconnect()
    svc.engine.call_next(2)
    back = Received(svc.socketio.test_client(app, auth={"ticket": mine["token"]}))
    got = wait_for(lambda: back.named("ticket:update"), 30, "the ticket again on reconnecting")
    assert got[-1]["ahead"] == 0
    back.client.disconnect()

    for bad in ("khong-co-phieu-nay", "", "x" * 65, 12):
        refused = svc.socketio.test_client(app, auth={"ticket": bad})
        assert not refused.is_connected(), bad


def test_many_pages_are_read_in_one_round(app):
    """Forty pages in two fields: one call tells the pages of its field their new place, from one
    round of reads however many pages there are; the other field's pages are neither worked out
    again nor told anything."""
    svc = app.extensions["motcua"]
    tickets = [svc.engine.issue("HOTICH" if k % 2 else "LDTBXH") for k in range(40)]
    pages = {t["id"]: Received(svc.socketio.test_client(app, auth={"ticket": t["token"]})) for t in tickets}
    for tid, r in pages.items():
        wait_for(lambda r=r: r.named("ticket:update"), 30, f"page {tid}")
    before = {tid: len(r.named("ticket:update")) for tid, r in pages.items()}
    rounds, worked = svc.hub.pages.rounds, svc.hub.pages.worked_out
    svc.hub.pages.refresh_s = 3600  # (a slow machine: no periodic refresh inside this test)
    svc.engine.call_next(3)  # the first LDTBXH ticket

    ldtbxh = [t["id"] for t in tickets if t["service"] == "LDTBXH"]
    for tid in ldtbxh:
        wait_for(lambda tid=tid: len(pages[tid].named("ticket:update")) > before[tid], 30, f"page {tid} told")
    assert pages[ldtbxh[0]].named("ticket:update")[-1]["status"] == "called"
    assert [pages[tid].named("ticket:update")[-1]["ahead"] for tid in ldtbxh[1:]] == list(range(19))
    assert svc.hub.pages.rounds - rounds <= 3  # one per state (a late state may make another)
    hotich = [t["id"] for t in tickets if t["service"] == "HOTICH"]
    assert [pages[tid].named("ticket:update")[-1]["ahead"] for tid in hotich] == list(range(20))
    # Only the changed line was worked out again: the HOTICH pages' waits were not.
    assert svc.hub.pages.worked_out - worked == len(ldtbxh)
    assert all(len(pages[tid].named("ticket:update")) == before[tid] for tid in hotich)
    for r in pages.values():
        r.client.disconnect()
