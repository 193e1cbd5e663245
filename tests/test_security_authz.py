"""Security review (issue 14), findings 2, 4, 9 and 10, through a real `motcua demo` process
and on the engine and dossier store directly (SQLite and PostgreSQL):

- 2: cancel and reactivate follow the counter rule of every counter action;
- 4: dossier lookups are limited per client (kiosks and staff are not);
- 9: wrong second-factor answers block the guessing client, not the dossier's owner;
- 10: calling a ticket out of order honours a transfer aimed at one counter.

The demo office (config/samples/commune.toml): counter 1 serves HOTICH, counter 2 DATDAI and
XAYDUNG, counter 3 LDTBXH and HKD, counter 4 TRAKQ and HOTICH; staff quay1..quay4 each have
their counter, admin has all of them.
"""
from __future__ import annotations

import csv
import io
import logging
from datetime import date, datetime, timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
import requests

from helpers import KIOSK_TOKEN, ServerProcess

HANOI = ZoneInfo("Asia/Ho_Chi_Minh")
UNKNOWN = "000.99.99.H99-200101-{:04d}"  # well-formed codes of no dossier


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _from(addr: str) -> dict[str, str]:
    """A client at `addr`, as the trusted proxy in front of motcua reports it."""
    return {"X-Forwarded-For": addr}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    s = ServerProcess(tmp_path_factory.mktemp("authz")).start()
    yield s
    s.stop()


@pytest.fixture(scope="module")
def proxied(tmp_path_factory):
    """A demo server behind one trusted proxy: X-Forwarded-For names the client."""
    s = ServerProcess(tmp_path_factory.mktemp("proxied"), env={"MOTCUA_TRUSTED_PROXIES": "1"}).start()
    yield s
    s.stop()


@pytest.fixture(scope="module")
def tokens(server):
    return {u: server.token(u) for u in ("quay1", "quay2", "quay3", "quay4", "admin")}


def _issue(server, service: str) -> dict:
    r = requests.post(server.url + "/api/v1/tickets", json={"service": service}, headers=_auth(KIOSK_TOKEN),
                      timeout=10)
    assert r.status_code == 201, r.text
    return r.json()


def _status(server, ticket_id: int) -> str:
    return requests.get(f"{server.url}/api/v1/tickets/{ticket_id}", timeout=10).json()["status"]


def _post(server, path: str, token: str, body: dict | None = None) -> requests.Response:
    return requests.post(server.url + path, json=body if body is not None else {}, headers=_auth(token), timeout=10)


def _call(server, counter: int, token: str, ticket_id: int) -> dict:
    r = _post(server, f"/api/v1/counters/{counter}/call", token, {"ticket": ticket_id})
    assert r.status_code == 200, r.text
    return r.json()["ticket"]


def _refused_for_counter(r: requests.Response, counter: int | None = None) -> None:
    assert r.status_code == 403, r.text
    body = r.json()
    assert body["error"] == "not_your_counter"
    assert "không thể thao tác trên số này" in body["message"]
    if counter is not None:
        assert f"quầy {counter}" in body["message"]


# Finding 2: cancel and reactivate follow the counter rule -----------------------------------
def test_staff_cannot_cancel_a_ticket_called_at_another_counter(server, tokens):
    a = _issue(server, "HOTICH")
    _call(server, 1, tokens["quay1"], a["id"])
    # Counter 2 serves other fields; counter 4 serves HOTICH too, but the ticket is at counter 1.
    for user in ("quay2", "quay4"):
        _refused_for_counter(_post(server, f"/api/v1/tickets/{a['id']}/cancel", tokens[user]), 1)
        assert _status(server, a["id"]) == "called"
    r = _post(server, f"/api/v1/tickets/{a['id']}/cancel", tokens["quay1"], {"reason": "Công dân bỏ về"})
    assert r.status_code == 200 and r.json()["ticket"]["status"] == "cancelled"


def test_a_waiting_ticket_may_be_cancelled_by_the_counters_of_its_field(server, tokens):
    b = _issue(server, "HOTICH")
    r = _post(server, f"/api/v1/tickets/{b['id']}/cancel", tokens["quay2"])
    _refused_for_counter(r)
    assert "Hộ tịch" in r.json()["message"]
    assert _status(server, b["id"]) == "waiting"
    r = _post(server, f"/api/v1/tickets/{b['id']}/cancel", tokens["quay4"])  # counter 4 serves HOTICH
    assert r.status_code == 200 and r.json()["ticket"]["status"] == "cancelled"


def test_a_ticket_transferred_to_a_counter_belongs_to_that_counter(server, tokens):
    c = _issue(server, "DATDAI")
    _call(server, 2, tokens["quay2"], c["id"])
    moved = _post(server, "/api/v1/counters/2/transfer", tokens["quay2"], {"service": "HOTICH", "counter": 4})
    assert moved.status_code == 200 and moved.json()["ticket"]["status"] == "waiting"
    # Counter 1 serves HOTICH, but the ticket waits for counter 4 only.
    _refused_for_counter(_post(server, f"/api/v1/tickets/{c['id']}/cancel", tokens["quay1"]), 4)
    _refused_for_counter(_post(server, f"/api/v1/tickets/{c['id']}/cancel", tokens["quay2"]), 4)
    assert _status(server, c["id"]) == "waiting"
    r = _post(server, f"/api/v1/tickets/{c['id']}/cancel", tokens["quay4"])
    assert r.status_code == 200 and r.json()["ticket"]["status"] == "cancelled"


def test_reactivate_follows_the_counter_rule(server, tokens):
    d = _issue(server, "HOTICH")
    _call(server, 1, tokens["quay1"], d["id"])
    assert _post(server, "/api/v1/counters/1/skip", tokens["quay1"]).json()["ticket"]["status"] == "no_show"
    for user in ("quay2", "quay3"):
        _refused_for_counter(_post(server, f"/api/v1/tickets/{d['id']}/reactivate", tokens[user]), 1)
        assert _status(server, d["id"]) == "no_show"
    r = _post(server, f"/api/v1/tickets/{d['id']}/reactivate", tokens["quay1"])
    assert r.status_code == 200 and r.json()["ticket"]["status"] == "waiting"


def test_a_no_show_may_be_reactivated_at_another_counter_of_its_field(server, tokens):
    e = _issue(server, "HOTICH")
    _call(server, 1, tokens["quay1"], e["id"])
    _post(server, "/api/v1/counters/1/skip", tokens["quay1"])
    r = _post(server, f"/api/v1/tickets/{e['id']}/reactivate", tokens["quay4"])  # the citizen came back to 4
    assert r.status_code == 200 and r.json()["ticket"]["status"] == "waiting"


def test_an_administrator_may_cancel_and_reactivate_anywhere(server, tokens):
    f = _issue(server, "DATDAI")
    _call(server, 2, tokens["quay2"], f["id"])
    assert _post(server, "/api/v1/counters/2/skip", tokens["quay2"]).status_code == 200
    r = _post(server, f"/api/v1/tickets/{f['id']}/reactivate", tokens["admin"])
    assert r.status_code == 200 and r.json()["ticket"]["status"] == "waiting"
    _call(server, 2, tokens["quay2"], f["id"])
    r = _post(server, f"/api/v1/tickets/{f['id']}/cancel", tokens["admin"])
    assert r.status_code == 200 and r.json()["ticket"]["status"] == "cancelled"


def test_cancel_and_reactivate_still_refuse_devices_and_anonymous(server):
    g = _issue(server, "HOTICH")
    for path in (f"/api/v1/tickets/{g['id']}/cancel", f"/api/v1/tickets/{g['id']}/reactivate"):
        assert requests.post(server.url + path, json={}, timeout=10).status_code == 401
        assert _post(server, path, KIOSK_TOKEN).status_code == 403
    assert _status(server, g["id"]) == "waiting"


# Finding 10: a call out of order honours a transfer to a counter ------------------------------
def test_engine_call_ticket_honours_a_transfer_to_a_counter(db_url, engine_for):
    from motcua.queue import QueueError

    store, eng = engine_for(db_url)
    tk = eng.issue("DATDAI")
    assert eng.call_next(2)["id"] == tk["id"]
    eng.transfer(2, field_code="HOTICH", to_counter=4)
    with pytest.raises(QueueError) as err:
        eng.call_ticket(1, tk["id"])  # counter 1 serves HOTICH, but the ticket waits for counter 4
    assert err.value.status == 409 and err.value.code == "reserved_for_counter"
    assert "quầy 4" in err.value.message and err.value.extra["counter"] == 4
    assert eng.views.get_ticket(tk["id"])["status"] == "waiting"
    called = eng.call_ticket(4, tk["id"])
    assert called["status"] == "called" and called["counter"] == 4


def test_api_call_honours_a_transfer_to_a_counter(server, tokens):
    h = _issue(server, "DATDAI")
    _call(server, 2, tokens["quay2"], h["id"])
    assert _post(server, "/api/v1/counters/2/transfer", tokens["quay2"],
                 {"service": "HOTICH", "counter": 4}).status_code == 200
    for body in ({"ticket": h["id"]}, {"number": h["number"]}):
        r = _post(server, "/api/v1/counters/1/call", tokens["quay1"], body)
        assert r.status_code == 409, r.text
        assert r.json()["error"] == "reserved_for_counter" and "quầy 4" in r.json()["message"]
        assert _status(server, h["id"]) == "waiting"
    r = _post(server, "/api/v1/counters/4/call", tokens["quay4"], {"number": h["number"]})
    assert r.status_code == 200 and r.json()["ticket"]["id"] == h["id"] and r.json()["ticket"]["counter"] == 4


# Finding 4: dossier lookups are limited per client -------------------------------------------
def _lookup(session, server, code: str, headers: dict[str, str]) -> requests.Response:
    return session.get(f"{server.url}/api/v1/dossiers/{code}", headers=headers, timeout=10)


def _known_code(server) -> str:
    items = requests.get(server.url + "/api/v1/dossiers/ready", headers=_auth(KIOSK_TOKEN), timeout=10).json()["items"]
    return items[0]["code"]


def _blocked(r: requests.Response) -> None:
    assert r.status_code == 429, r.text
    body = r.json()
    assert body["error"] == "too_many_lookups"
    assert "thử lại sau" in body["message"] and "phút" in body["message"] and "quầy" in body["message"]
    assert 0 < body["retry_after_s"] <= 600


def test_anonymous_guesses_hit_429_and_another_client_goes_on(proxied):
    known = _known_code(proxied)
    s = requests.Session()
    guesser, other = _from("198.51.100.7"), _from("198.51.100.8")
    codes = [_lookup(s, proxied, UNKNOWN.format(i), guesser).status_code for i in range(1, 26)]
    assert codes[:20] == [404] * 20 and codes[20:] == [429] * 5
    _blocked(_lookup(s, proxied, UNKNOWN.format(99), guesser))
    # Blocked for every lookup now: a real code, a scan, a second-factor answer.
    _blocked(_lookup(s, proxied, known, guesser))
    _blocked(s.get(proxied.url + "/api/v1/lookup/scan", params={"text": known}, headers=guesser, timeout=10))
    _blocked(s.post(f"{proxied.url}/api/v1/dossiers/{known}/verify", json={"ma_tra_cuu": "X1"}, headers=guesser,
                    timeout=10))
    # Another client is counted on its own.
    assert _lookup(s, proxied, UNKNOWN.format(1), other).status_code == 404
    assert _lookup(s, proxied, known, other).status_code == 200


def test_finding_dossiers_costs_less_than_guessing(proxied):
    known = _known_code(proxied)
    s = requests.Session()
    reader = _from("198.51.100.20")
    assert {_lookup(s, proxied, known, reader).status_code for _ in range(40)} == {200}
    scans = {s.get(proxied.url + "/api/v1/lookup/scan", params={"text": f"MHS: {known}"}, headers=reader,
                   timeout=10).status_code for _ in range(10)}
    assert scans == {200}
    misses = [_lookup(s, proxied, UNKNOWN.format(i), reader).status_code for i in range(1, 22)]
    assert misses[:20] == [404] * 20 and misses[20] == 429


def test_a_kiosk_scans_all_day(proxied):
    known = _known_code(proxied)
    s = requests.Session()
    kiosk = {**_auth(KIOSK_TOKEN), **_from("198.51.100.30")}
    answers = []
    for i in range(1, 501):
        if i % 10 == 0:
            r = s.get(proxied.url + "/api/v1/lookup/scan", params={"text": known}, headers=kiosk, timeout=10)
        else:
            r = _lookup(s, proxied, UNKNOWN.format(i), kiosk)
        answers.append(r.status_code)
    assert answers.count(429) == 0 and answers.count(200) == 50 and answers.count(404) == 450


def test_a_forged_forwarded_address_does_not_make_a_new_client(server):
    """Without MOTCUA_TRUSTED_PROXIES, X-Forwarded-For is the client's own word: ignored."""
    s = requests.Session()
    codes = [_lookup(s, server, UNKNOWN.format(i), _from(f"203.0.113.{i}")).status_code for i in range(1, 23)]
    assert codes[:20] == [404] * 20 and codes[20:] == [429] * 2


# Finding 9: wrong second-factor answers block the guesser, not the owner ----------------------
HEADER = ["ma_ho_so", "thu_tuc", "linh_vuc", "nguoi_nop", "ngay_nhan", "ngay_hen_tra", "trang_thai",
          "ma_tra_cuu", "so_giay_to"]


def _dossier_csv(codes_and_secrets: list[tuple[str, str]]) -> bytes:
    day = datetime.now(HANOI).date() - timedelta(days=2)
    buf = io.StringIO(newline="")
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(HEADER)
    for code, secret in codes_and_secrets:
        w.writerow([code, "Đăng ký khai sinh", "Hộ tịch", "Trần Thị Bình", f"{day:%d/%m/%Y}",
                    f"{day + timedelta(days=5):%d/%m/%Y}", 4, secret, "001090054321"])
    return buf.getvalue().encode("utf-8")


def test_a_guesser_is_blocked_but_the_owner_still_gets_in(proxied):
    day = datetime.now(HANOI).date() - timedelta(days=2)
    code = f"000.17.22.H56-{day:%y%m%d}-9301"
    staff = _auth(proxied.token("quay1"))
    r = requests.post(proxied.url + "/api/v1/dossiers/import", data=_dossier_csv([(code, "OWNER7")]),
                      headers={**staff, "Content-Type": "text/csv"}, timeout=30)
    assert r.status_code == 200 and r.json()["imported"] == 1, r.text
    url = f"{proxied.url}/api/v1/dossiers/{code}/verify"
    attacker, owner = _from("192.0.2.66"), _from("192.0.2.77")
    wrong = [requests.post(url, json={"ma_tra_cuu": f"GUESS{i}"}, headers=attacker, timeout=10) for i in range(5)]
    assert [w.status_code for w in wrong] == [403] * 5
    assert [w.json()["tries_left"] for w in wrong] == [4, 3, 2, 1, 0]
    blocked = requests.post(url, json={"ma_tra_cuu": "GUESS9"}, headers=attacker, timeout=10)
    assert blocked.status_code == 429 and "quá nhiều lần" in blocked.json()["message"]
    assert "thử lại sau" in blocked.json()["message"]
    # The guesser stays blocked, even with the right answer; the owner, elsewhere, gets in.
    assert requests.post(url, json={"ma_tra_cuu": "OWNER7"}, headers=attacker, timeout=10).status_code == 429
    ok = requests.post(url, json={"ma_tra_cuu": "owner7"}, headers=owner, timeout=10)
    assert ok.status_code == 200 and ok.json()["verified"] is True and ok.json()["applicant"] == "Trần Thị Bình"
    assert requests.post(url, json={"cccd_4": "4321"}, headers=_from("192.0.2.78"), timeout=10).status_code == 200


# The store on both databases --------------------------------------------------------------------
@pytest.fixture
def ds(db_url, engine_for, office_config, clock):
    from motcua.auth import Throttle
    from motcua.dossiers import parse_import
    from motcua.dossiers.store import DossierStore

    store, engine = engine_for(db_url)
    svc = SimpleNamespace(store=store, engine=engine, config=office_config,
                          bus=SimpleNamespace(emit=lambda *a, **k: None),
                          auth=SimpleNamespace(throttle=Throttle(store, clock)), settings=SimpleNamespace(extra={}))
    dossiers = DossierStore.for_app(svc)
    rows = _dossier_csv([(f"H56-{date(2026, 11, 20):%y%m%d}-{i:04d}", f"SECRET{i}") for i in range(1, 8)])
    result = parse_import(rows, "x.csv")
    assert not result.errors, result.errors
    dossiers.import_rows(result.rows)
    return dossiers


def _code(i: int) -> str:
    return f"H56-261120-{i:04d}"


def _client(addr: str):
    from motcua.dossiers.limits import LookupClient

    return LookupClient(f"ip:{addr}")


def test_store_distributed_guessing_meets_a_cap_per_dossier_and_is_logged(ds, clock, caplog):
    from motcua.dossiers import DossierError
    from motcua.dossiers.limits import VERIFY_DOSSIER_LIMIT

    caplog.set_level(logging.WARNING, logger="motcua.dossiers")
    for i in range(VERIFY_DOSSIER_LIMIT):
        with pytest.raises(DossierError) as err:
            ds.verify(_code(1), "nope", client=_client(f"10.{i // 200}.{i % 200}.1"))
        assert err.value.status == 403
    with pytest.raises(DossierError) as err:
        ds.verify(_code(1), "SECRET1", client=_client("10.200.0.1"))  # a fresh client, the right answer
    assert err.value.status == 429 and err.value.code == "too_many_attempts"
    assert "quầy" in err.value.message
    assert any(_code(1) in r.getMessage() and r.levelno == logging.WARNING for r in caplog.records)
    # Another dossier is not affected; the cap lifts after a day.
    assert ds.verify(_code(2), "SECRET2", client=_client("10.200.0.1"))["verified"] is True
    clock.advance(hours=24, minutes=1)
    assert ds.verify(_code(1), "SECRET1", client=_client("10.200.0.1"))["verified"] is True


def test_store_one_client_guessing_many_dossiers_is_blocked(ds, clock):
    from motcua.dossiers import DossierError
    from motcua.dossiers.limits import VERIFY_CLIENT_LIMIT, VERIFY_LIMIT

    guesser = _client("10.9.9.9")
    tries = 0
    blocked_at = None
    for i in range(1, 8):
        for _ in range(VERIFY_LIMIT - 1):  # never 5 wrong answers on one dossier
            try:
                ds.verify(_code(i), "0000", client=guesser)
            except DossierError as exc:
                if exc.status == 429:
                    blocked_at = tries
                    break
                tries += 1
        if blocked_at is not None:
            break
    assert blocked_at == VERIFY_CLIENT_LIMIT
    # Someone else answering right is not affected.
    assert ds.verify(_code(7), "SECRET7", client=_client("10.9.9.10"))["verified"] is True
    clock.advance(minutes=11)
    with pytest.raises(DossierError) as err:
        ds.verify(_code(7), "0000", client=guesser)
    assert err.value.status == 403


def test_store_lookups_without_a_client_are_not_counted(ds):
    """Scanners and cameras (the device layer) and the kiosk read without limits."""
    from motcua.dossiers.limits import LookupClient

    kiosk = LookupClient("device:kiosk-1", trusted=True)
    for i in range(100, 160):
        assert ds.public_by_code(UNKNOWN.format(i)) is None
        with pytest.raises(Exception) as err:
            ds.public(UNKNOWN.format(i), client=kiosk)
        assert getattr(err.value, "status", None) == 404


def test_store_a_patient_guesser_meets_a_daily_cap(ds, clock):
    from motcua.dossiers import DossierError
    from motcua.dossiers.limits import LOOKUP_MISS_DAILY_LIMIT, LOOKUP_MISS_LIMIT

    guesser = _client("10.7.7.7")
    guessed = iter(range(1, 10_000))
    for _ in range(LOOKUP_MISS_DAILY_LIMIT // LOOKUP_MISS_LIMIT):
        for _ in range(LOOKUP_MISS_LIMIT):
            with pytest.raises(DossierError) as err:
                ds.public(UNKNOWN.format(next(guessed)), client=guesser)
            assert err.value.status == 404
        clock.advance(minutes=11)  # each 10-minute window lets it go, but the day does not
    with pytest.raises(DossierError) as err:
        ds.public(UNKNOWN.format(next(guessed)), client=guesser)
    assert err.value.status == 429 and err.value.code == "too_many_lookups"
    assert "ngày" in err.value.message and 3600 < err.value.extra["retry_after_s"] <= 86_400
    assert ds.public(_code(1), client=_client("10.7.7.8"))["code"] == _code(1)
