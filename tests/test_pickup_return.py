"""Issue 13: finishing a pickup ticket ("Lấy số nhận kết quả", a ticket taken for a dossier)
returns that dossier (status 10 "Đã trả kết quả") and takes it off the ready list at once,
unless staff say otherwise (`return_dossier: false`). The return is a subscriber of the
event bus: it never undoes the ticket's own transaction."""
from __future__ import annotations

import requests

from helpers import KIOSK_TOKEN, Listener


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _ready_codes(server) -> list[str]:
    return [d["code"] for d in requests.get(server.url + "/api/v1/dossiers/ready", params={"limit": 200},
                                            timeout=10).json()["items"]]


def _pickup(server, code: str) -> dict:
    r = requests.post(server.url + "/api/v1/tickets", json={"service": "TRAKQ", "dossier": code},
                      headers=_auth(KIOSK_TOKEN), timeout=10)
    assert r.status_code == 201, r.text
    return r.json()


def _call(server, staff: dict, ticket: dict) -> None:
    r = requests.post(server.url + "/api/v1/counters/4/call", json={"ticket": ticket["id"]}, headers=staff, timeout=10)
    assert r.status_code == 200, r.text


def _status(server, code: str) -> int:
    return requests.get(f"{server.url}/api/v1/dossiers/{code}", timeout=10).json()["status"]


def test_finishing_a_pickup_ticket_returns_its_dossier_unless_staff_keep_it(server):
    staff = _auth(server.token("quay4"))
    first, second, third = _ready_codes(server)[:3]
    listener = Listener(server.url)
    try:
        # Finished with the default body: the dossier is returned, the ready list drops it,
        # and the screens are told (dossier:updated, status 10).
        t = _pickup(server, first)
        _call(server, staff, t)
        r = requests.post(server.url + "/api/v1/counters/4/finish", json={}, headers=staff, timeout=10)
        assert r.status_code == 200, r.text
        assert r.json()["ticket"]["status"] == "done"
        assert _status(server, first) == 10
        assert first not in _ready_codes(server)
        listener.wait_for("dossier:updated", lambda d: d["code"] == first and d["status"] == 10, timeout=5)
        view = requests.get(f"{server.url}/api/v1/dossiers", params={"q": first}, headers=staff, timeout=10).json()
        assert view["items"][0]["status_label"] == "Đã trả kết quả"

        # Staff say the result was not handed over: the dossier stays ready.
        t = _pickup(server, second)
        _call(server, staff, t)
        r = requests.post(server.url + "/api/v1/counters/4/finish", json={"return_dossier": False},
                          headers=staff, timeout=10)
        assert r.status_code == 200, r.text
        assert _status(server, second) == 9
        assert second in _ready_codes(server)

        # call-next finishing the pickup ticket on its way returns the dossier too.
        t = _pickup(server, third)
        _call(server, staff, t)
        requests.post(server.url + "/api/v1/counters/4/start", headers=staff, timeout=10).raise_for_status()
        other = requests.post(server.url + "/api/v1/tickets", json={"service": "TRAKQ"}, headers=_auth(KIOSK_TOKEN),
                              timeout=10).json()
        nxt = requests.post(server.url + "/api/v1/counters/4/call-next", headers=staff, timeout=10).json()["ticket"]
        assert nxt["id"] == other["id"]
        assert _status(server, third) == 10
    finally:
        listener.close()


def test_a_citizen_marked_absent_keeps_the_dossier_ready(server):
    staff = _auth(server.token("quay4"))
    code = _ready_codes(server)[0]
    t = _pickup(server, code)
    _call(server, staff, t)
    for _ in range(5):
        r = requests.post(server.url + "/api/v1/counters/4/skip", headers=staff, timeout=10)
        if r.status_code == 200:
            break
        assert r.json()["error"] == "recall_first"
        requests.post(server.url + "/api/v1/counters/4/recall", headers=staff, timeout=10).raise_for_status()
    assert requests.get(f"{server.url}/api/v1/tickets/{t['id']}", timeout=10).json()["status"] == "no_show"
    assert _status(server, code) == 9


def test_return_dossier_must_be_true_or_false(server):
    staff = _auth(server.token("quay4"))
    for value in ("không", 1, None, [True]):
        r = requests.post(server.url + "/api/v1/counters/4/finish", json={"return_dossier": value}, headers=staff,
                          timeout=10)
        assert r.status_code == 422, (value, r.text)
        assert "return_dossier" in r.json()["message"] and "true hoặc false" in r.json()["message"]


def test_a_failed_return_never_undoes_the_finished_ticket(tmp_path, office_config, monkeypatch):
    """The dossier store fails while returning: the ticket is finished all the same, the bus
    counts the failure, and the dossier stays as it was."""
    from motcua.app import Settings, create_app
    from motcua.dossiers.store import DossierStore

    app = create_app(Settings(config=office_config, data_dir=tmp_path / "data", testing=True, start_devices=False,
                              background_jobs=False))
    svc = app.extensions["motcua"]
    from motcua.dossiers.demo import seed_demo_dossiers

    seed_demo_dossiers(svc.dossiers)
    ready = svc.dossiers.ready_list(1)
    assert ready, "the demo dossiers include results ready"
    code = ready[0]["code"]

    def broken(*_a, **_k):
        raise RuntimeError("the dossier table is locked")

    monkeypatch.setattr(DossierStore, "return_for_ticket", broken)
    t = svc.engine.issue("TRAKQ", dossier_code=code, source="kiosk")
    svc.engine.call_ticket(4, t["id"])
    done = svc.engine.finish(4)
    assert done["status"] == "done"
    assert svc.engine.views.get_ticket(t["id"])["status"] == "done"
    assert svc.bus.failures().get("dossiers:pickup-return") == 1
    assert svc.dossiers.get(code).status == 9
    svc.close()
