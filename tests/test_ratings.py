"""Satisfaction ratings: the database side (SQLite and PostgreSQL) and the API through a real
`motcua serve` process whose config adds rating devices (the demo sample has none)."""
from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import select

from helpers import KIOSK_TOKEN, Listener, ServerProcess  # noqa: E402

RATING_TOKEN_1 = "test-rating-token-quay-1-0000001"
RATING_TOKEN_2 = "test-rating-token-quay-2-0000002"
PASSWORD = "motcua-demo"
LEVELS = ("very_satisfied", "satisfied", "unsatisfied")


# A config with rating devices, for server tests ---------------------------------------------
def write_rating_config(directory: Path, *, password: str = PASSWORD) -> Path:
    """The commune sample, open at any hour, every account with `password`, plus a rating
    tablet for counters 1 and 2 (the one of counter 2 closes its prompt after 5 s). Returns the TOML file's path."""
    from config import load_config, sample_path
    from motcua.auth import hash_password

    text = sample_path("commune").read_text(encoding="utf-8")
    text = text.replace("always_open = false", "always_open = true", 1)
    # Drop the sample's own rating tablets: this office gets the two below.
    text = re.sub(r'(?ms)^\[\[devices\]\]\nname = "[^"]+"\nkind = "rating"\n.*?(?=^\[\[|\Z)', "", text)
    pw_hash = hash_password(password)
    text = re.sub(r'(?m)^(username = "[a-z0-9_.-]+")$', lambda m: f'{m.group(1)}\npassword_hash = "{pw_hash}"', text)
    text += (
        "\n[[devices]]\nname = \"danh-gia-quay-1\"\nkind = \"rating\"\n"
        f"token = \"{RATING_TOKEN_1}\"\ncounter = 1\n"
        "\n[[devices]]\nname = \"danh-gia-quay-2\"\nkind = \"rating\"\n"
        f"token = \"{RATING_TOKEN_2}\"\ncounter = 2\noptions = {{ timeout_s = 5 }}\n"
    )
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "office-with-rating.toml"
    path.write_text(text, encoding="utf-8")
    load_config(path)  # fails here, clearly, if the sample changed shape
    return path


def start_rating_server(directory: Path) -> ServerProcess:
    cfg = write_rating_config(directory)
    data = directory / "data"
    for sub in ("printer", "camera"):
        (data / sub).mkdir(parents=True, exist_ok=True)
    return ServerProcess(data, args=["serve", "--config", str(cfg)]).start()


# Database side --------------------------------------------------------------------------------
class RecordingHub:
    def __init__(self) -> None:
        self.sent: list[tuple[str, dict, str]] = []

    def emit(self, name: str, payload: dict, audience: str = "public") -> None:
        self.sent.append((name, payload, audience))

    def named(self, name: str) -> list[tuple[dict, str]]:
        return [(p, a) for n, p, a in self.sent if n == name]


@dataclass
class FakeServices:
    config: Any
    store: Any
    engine: Any
    hub: RecordingHub = field(default_factory=RecordingHub)

    def __post_init__(self) -> None:
        self.bus = self.engine.bus  # what the hub would send, recorded from the event bus
        self.bus.subscribe(lambda e: self.hub.emit(e.name, dict(e.payload), e.audience[0]))


@pytest.fixture
def rating_config(office_config):
    from config import DeviceConfig

    dev = DeviceConfig(name="danh-gia-quay-1", kind="rating", token=RATING_TOKEN_1, counter=1)
    others = [d for d in office_config.devices if d.kind != "rating"]
    return office_config.model_copy(update={"devices": [*others, dev]})


@pytest.fixture
def svc(db_url, engine_for, rating_config):
    from motcua.ratings import install_rating_prompts

    store, engine = engine_for(db_url, rating_config)
    s = FakeServices(rating_config, store, engine)
    install_rating_prompts(s)
    install_rating_prompts(s)  # idempotent: still one prompt per finished visit
    return s


def _serve(svc, field_code: str, counter: int, *, staff_id: int | None = None) -> dict:
    t = svc.engine.issue(field_code)
    called = svc.engine.call_next(counter, staff_id=staff_id)
    assert called["id"] == t["id"]
    return svc.engine.finish(counter, staff_id=staff_id)


def test_a_rating_lands_once_on_the_finished_visit(svc, clock):
    from motcua.ratings import RatingError, record_rating_for_ticket
    from motcua.store import tables as t

    with svc.store.read() as conn:
        staff_id = conn.execute(select(t.users.c.id).where(t.users.c.username == "quay1")).scalar_one()
    done = _serve(svc, "HOTICH", 1, staff_id=staff_id)
    prompts = svc.hub.named("rating:prompt")
    assert len(prompts) == 1
    prompt, room = prompts[0]
    assert room == "rating:1"
    assert prompt["visit_id"] == done["visit_id"] and prompt["ticket_id"] == done["id"]
    assert prompt["number"] == done["number"] == "1001" and prompt["timeout_s"] == 30
    assert prompt["expires_at"].endswith("+07:00")

    clock.advance(seconds=20)
    r = record_rating_for_ticket(svc, done["id"], "very_satisfied", "tablet")
    assert r["visit_id"] == done["visit_id"] and r["level_label"] == "Rất hài lòng"
    with svc.store.read() as conn:
        rows = conn.execute(select(t.ratings)).all()
    assert len(rows) == 1
    row = rows[0]
    assert (row.visit_id, row.ticket_id, row.counter, row.field, row.staff_id, row.level, row.source) == \
        (done["visit_id"], done["id"], 1, "HOTICH", staff_id, "very_satisfied", "tablet")
    assert svc.hub.named("rating:closed")[0] == (
        {"visit_id": done["visit_id"], "ticket_id": done["id"], "counter": 1, "reason": "rated",
         "level": "very_satisfied"}, "rating:1")

    with pytest.raises(RatingError) as err:
        record_rating_for_ticket(svc, done["id"], "unsatisfied", "kiosk")
    assert err.value.status == 409 and err.value.code == "already_rated"
    assert "đã được đánh giá" in err.value.message and "1001" in err.value.message
    with svc.store.read() as conn:
        assert len(conn.execute(select(t.ratings)).all()) == 1


def test_concurrent_ratings_of_one_visit_store_exactly_one(svc):
    from concurrent.futures import ThreadPoolExecutor

    from motcua.ratings import RatingError, record_rating_for_ticket
    from motcua.store import tables as t

    done = _serve(svc, "HOTICH", 1)

    def rate(i: int) -> str:
        try:
            record_rating_for_ticket(svc, done["id"], LEVELS[i % 3], f"tablet-{i}")
            return "ok"
        except RatingError as e:
            return e.code

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(rate, range(8)))
    assert sorted(results) == ["already_rated"] * 7 + ["ok"]
    with svc.store.read() as conn:
        assert len(conn.execute(select(t.ratings).where(t.ratings.c.visit_id == done["visit_id"])).all()) == 1


def test_transferred_ticket_is_rated_at_the_counter_that_finished_it(svc):
    from motcua.ratings import record_rating_for_ticket

    t = svc.engine.issue("DATDAI")
    svc.engine.call_next(2)
    svc.engine.transfer(2, field_code="LDTBXH")
    assert svc.hub.named("rating:prompt") == []  # a transfer is not the end of the citizen's visit
    svc.engine.call_next(3)
    done = svc.engine.finish(3)
    r = record_rating_for_ticket(svc, t["id"], "satisfied", "kiosk")
    assert (r["visit_id"], r["counter"], r["field"]) == (done["visit_id"], 3, "LDTBXH")
    assert [a for _p, a in svc.hub.named("rating:prompt")] == ["rating:3"]


def test_refusals_unknown_unfinished_expired_no_show(svc, clock):
    from motcua.ratings import RatingError, record_rating_for_ticket

    with pytest.raises(RatingError) as err:
        record_rating_for_ticket(svc, 999_999, "satisfied", "kiosk")
    assert err.value.status == 404 and "Không tìm thấy" in err.value.message

    waiting = svc.engine.issue("HOTICH")
    with pytest.raises(RatingError) as err:
        record_rating_for_ticket(svc, waiting["id"], "satisfied", "kiosk")
    assert (err.value.status, err.value.code) == (409, "not_finished")
    assert "chưa được phục vụ xong" in err.value.message

    svc.engine.call_next(1)
    svc.engine.skip(1)  # no-show: nothing to rate, and no prompt
    assert svc.hub.named("rating:prompt") == []
    with pytest.raises(RatingError) as err:
        record_rating_for_ticket(svc, waiting["id"], "satisfied", "kiosk")
    assert err.value.code == "not_finished"

    late = _serve(svc, "HOTICH", 1)
    clock.advance(minutes=10, seconds=1)
    with pytest.raises(RatingError) as err:
        record_rating_for_ticket(svc, late["id"], "satisfied", "kiosk")
    assert (err.value.status, err.value.code) == (409, "rating_expired")
    assert "10 phút" in err.value.message


def test_rating_device_rates_only_its_counter_and_reasons_are_checked(svc):
    from motcua.ratings import RatingError, record_rating_for_ticket
    from motcua.store import tables as t

    done = _serve(svc, "DATDAI", 2)
    with pytest.raises(RatingError) as err:
        record_rating_for_ticket(svc, done["id"], "satisfied", "tablet", only_counter=1)
    assert err.value.status == 403 and "quầy 2" in err.value.message
    with pytest.raises(RatingError) as err:
        record_rating_for_ticket(svc, done["id"], "khong-biet", "kiosk")
    assert err.value.status == 422 and "Rất hài lòng" in err.value.message
    with pytest.raises(RatingError) as err:
        record_rating_for_ticket(svc, done["id"], "unsatisfied", "kiosk", reasons=["an-dinh"])
    assert err.value.code == "bad_reason"
    with pytest.raises(RatingError) as err:
        record_rating_for_ticket(svc, done["id"], "satisfied", "kiosk", reasons=["wait_long"])
    assert err.value.code == "reasons_only_when_unsatisfied"
    r = record_rating_for_ticket(svc, done["id"], "unsatisfied", "kiosk", reasons=["wait_long", "guidance", "wait_long"],
                                 comment="  Chờ   quá lâu ")
    assert r["reasons"] == ["wait_long", "guidance"] and r["comment"] == "Chờ quá lâu"
    with svc.store.read() as conn:
        row = conn.execute(select(t.ratings)).one()
    assert row.reasons == ["wait_long", "guidance"] and row.comment == "Chờ quá lâu"


def test_box_rates_the_latest_finished_visit_of_its_counter(svc, clock):
    """The serial box path: record_rating(counter=...) within the prompt time, once."""
    from motcua.ratings import RatingError, pending_prompt, record_rating

    with pytest.raises(RatingError) as err:
        record_rating(svc, counter=1, level="satisfied", source="box")
    assert err.value.code == "nothing_to_rate"
    with pytest.raises(RatingError) as err:
        record_rating(svc, counter=42, level="satisfied", source="box")
    assert err.value.status == 404

    first = _serve(svc, "HOTICH", 1)
    second = _serve(svc, "HOTICH", 1)
    assert pending_prompt(svc, 1)["visit_id"] == second["visit_id"]
    clock.advance(seconds=10)
    r = record_rating(svc, counter=1, level="very_satisfied", source="box:hop-1")
    assert r["visit_id"] == second["visit_id"] and r["visit_id"] != first["visit_id"]
    assert pending_prompt(svc, 1) is None
    with pytest.raises(RatingError) as err:  # a second press never falls back to an older visit
        record_rating(svc, counter=1, level="unsatisfied", source="box:hop-1")
    assert err.value.code == "already_rated"

    third = _serve(svc, "HOTICH", 1)
    clock.advance(seconds=40)
    assert pending_prompt(svc, 1) is None  # the prompt closed after 30 s
    with pytest.raises(RatingError) as err:
        record_rating(svc, counter=1, level="satisfied", source="box")
    assert err.value.code == "rating_expired" and third["number"] in err.value.message


def test_settings_come_from_the_rating_device_options(office_config):
    from config import DeviceConfig
    from motcua.ratings import rating_settings

    dev = DeviceConfig(name="danh-gia-quay-3", kind="rating", token="x" * 20, counter=3,
                       options={"timeout_s": 45, "accept_within_s": 300})
    cfg = office_config.model_copy(update={"devices": [dev]})
    s3, s1 = rating_settings(cfg, 3), rating_settings(cfg, 1)
    assert (s3.prompt_timeout_s, s3.accept_within_s) == (45, 300)
    assert (s1.prompt_timeout_s, s1.accept_within_s) == (30, 600)


# API through a real server ----------------------------------------------------------------------
@pytest.fixture(scope="module")
def rating_server(tmp_path_factory):
    s = start_rating_server(tmp_path_factory.mktemp("ratings"))
    yield s
    s.stop()


def _auth(tok: str) -> dict:
    return {"Authorization": f"Bearer {tok}"}


def _serve_via_api(server, staff_tok: str, service: str, counter: int) -> dict:
    t = requests.post(server.url + "/api/v1/tickets", json={"service": service}, headers=_auth(KIOSK_TOKEN), timeout=10)
    assert t.status_code == 201, t.text
    c = requests.post(f"{server.url}/api/v1/counters/{counter}/call-next", headers=_auth(staff_tok), timeout=10).json()
    assert c["ticket"]["id"] == t.json()["id"]
    f = requests.post(f"{server.url}/api/v1/counters/{counter}/finish", headers=_auth(staff_tok), timeout=10)
    assert f.status_code == 200, f.text
    return f.json()["ticket"]


def test_api_rating_roles_once_per_visit_and_prompts_over_socketio(rating_server):
    server = rating_server
    staff = server.token("quay1")
    tablet = Listener(server.url, RATING_TOKEN_1)
    other_tablet = Listener(server.url, RATING_TOKEN_2)
    try:
        done = _serve_via_api(server, staff, "HOTICH", 1)
        prompt = tablet.wait_for("rating:prompt", lambda d: d["ticket_id"] == done["id"])
        assert prompt["visit_id"] == done["visit_id"] and prompt["number"] == done["number"] and prompt["counter"] == 1
        assert any(r["code"] == "wait_long" for r in prompt["reasons"])
        pending = requests.get(server.url + "/api/v1/ratings/pending?counter=1", headers=_auth(RATING_TOKEN_1)).json()
        assert pending["prompt"]["visit_id"] == done["visit_id"]
        wrong = requests.get(server.url + "/api/v1/ratings/pending?counter=1", headers=_auth(RATING_TOKEN_2))
        assert wrong.status_code == 403 and "quầy 2" in wrong.json()["message"]

        body = {"ticket": done["id"], "level": "satisfied"}
        r = requests.post(server.url + "/api/v1/ratings", json=body, headers=_auth(staff))
        assert r.status_code == 403 and r.json()["message"] == "Cán bộ không được đánh giá thay công dân."
        r = requests.post(server.url + "/api/v1/ratings", json=body)
        assert r.status_code == 401
        r = requests.post(server.url + "/api/v1/ratings", json=body, headers=_auth(RATING_TOKEN_2))
        assert r.status_code == 403 and "quầy 1" in r.json()["message"]

        r = requests.post(server.url + "/api/v1/ratings", json=body, headers=_auth(RATING_TOKEN_1))
        assert r.status_code == 201, r.text
        assert r.json()["visit_id"] == done["visit_id"] and r.json()["source"] == "tablet:danh-gia-quay-1"
        closed = tablet.wait_for("rating:closed", lambda d: d["visit_id"] == done["visit_id"])
        assert closed["counter"] == 1

        again = requests.post(server.url + "/api/v1/ratings", json={"ticket": done["id"], "level": "unsatisfied"},
                              headers=_auth(KIOSK_TOKEN))
        assert again.status_code == 409 and again.json()["error"] == "already_rated"
        assert "đã được đánh giá" in again.json()["message"]

        bad = requests.post(server.url + "/api/v1/ratings", json={"ticket": 10**8, "level": "satisfied"},
                            headers=_auth(KIOSK_TOKEN))
        assert bad.status_code == 404 and bad.json()["message"]
        bad = requests.post(server.url + "/api/v1/ratings", json={"ticket": done["id"], "level": "5 sao"},
                            headers=_auth(KIOSK_TOKEN))
        assert bad.status_code == 422 and "Rất hài lòng" in bad.json()["message"]

        listed = requests.get(server.url + "/api/v1/ratings?counter=1", headers=_auth(staff)).json()["ratings"]
        assert [(x["visit_id"], x["level"]) for x in listed if x["ticket_id"] == done["id"]] == [(done["visit_id"], "satisfied")]
        assert requests.get(server.url + "/api/v1/ratings", headers=_auth(KIOSK_TOKEN)).status_code == 403
        assert not [e for e, d in other_tablet.events if e == "rating:prompt"]  # counter 2's tablet heard nothing
    finally:
        tablet.close()
        other_tablet.close()


def test_api_overview(rating_server):
    server = rating_server
    admin = server.token("admin")
    quay3 = server.token("quay3")
    assert requests.get(server.url + "/api/v1/overview").status_code == 401
    assert requests.get(server.url + "/api/v1/overview", headers=_auth(KIOSK_TOKEN)).status_code == 403
    first = requests.post(server.url + "/api/v1/tickets", json={"service": "HKD"}, headers=_auth(KIOSK_TOKEN)).json()
    requests.post(server.url + "/api/v1/tickets", json={"service": "HKD"}, headers=_auth(KIOSK_TOKEN))
    requests.post(server.url + "/api/v1/tickets", json={"service": "XAYDUNG"}, headers=_auth(KIOSK_TOKEN))
    r = requests.post(server.url + "/api/v1/counters/3/pause", json={"reason": "Họp giao ban"}, headers=_auth(quay3))
    assert r.status_code == 200
    try:
        ov = requests.get(server.url + "/api/v1/overview", headers=_auth(quay3)).json()
        c3 = next(c for c in ov["counters"] if c["number"] == 3)
        assert c3["state"] == "paused" and c3["pause_reason"] == "Họp giao ban" and c3["state_label"] == "Tạm dừng"
        assert [p["number"] for p in ov["paused"]] == [3] and ov["paused"][0]["reason"] == "Họp giao ban"
        hkd = next(f for f in ov["services"] if f["code"] == "HKD")
        assert hkd["waiting"] >= 2 and hkd["counters"] == [3]
        assert ov["waiting_total"] >= 3
        # the longest wait is the oldest waiting ticket (earlier tests may have left older ones)
        assert ov["longest_wait"]["wait_s"] >= 0 and ov["longest_wait"]["ticket_id"] <= first["id"]
        quay2 = server.token("quay2")
        called = requests.post(server.url + "/api/v1/counters/2/call-next", headers=_auth(quay2)).json()["ticket"]
        ov = requests.get(server.url + "/api/v1/overview", headers=_auth(admin)).json()
        c2 = next(c for c in ov["counters"] if c["number"] == 2)
        assert c2["state"] == "called" and c2["current"]["number"] == called["number"]
    finally:
        requests.post(server.url + "/api/v1/counters/3/unpause", headers=_auth(quay3))
