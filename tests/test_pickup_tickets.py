"""One live pickup ticket ("Lấy số nhận kết quả") per dossier, and who may print on the kiosk
printer.

- A dossier has at most one live pickup ticket (waiting, called, serving or on hold): asking
  again answers with that ticket (`already_issued: true`, HTTP 200), never a new number, also
  when two requests arrive at the same moment (engine threads on SQLite and PostgreSQL, and
  parallel HTTP requests to a real server).
- Printing (`?print=1`) is for the kiosk device and staff: an anonymous caller is refused
  with 403 and nothing is issued or printed (security review finding 6a).
"""
from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import requests

from helpers import KIOSK_TOKEN

DOSSIER = "000.17.22.H56-251103-0901"
HEADERS_KIOSK = {"Authorization": f"Bearer {KIOSK_TOKEN}"}


# The engine ---------------------------------------------------------------------------------
def test_a_second_pickup_ticket_for_a_dossier_answers_with_the_first(db_url, engine_for):
    _, eng = engine_for(db_url)
    first = eng.issue("TRAKQ", dossier_code=DOSSIER)
    assert not first.get("already_issued")
    again = eng.issue("TRAKQ", dossier_code=DOSSIER)
    assert again["already_issued"] is True
    assert (again["id"], again["number"], again["dossier_code"]) == (first["id"], first["number"], DOSSIER)
    assert again["token"] and again["status"] == "waiting" and "ahead" in again
    # Another dossier, and a ticket without a dossier, get their own numbers.
    other = eng.issue("TRAKQ", dossier_code="000.17.22.H56-251103-0902")
    plain = eng.issue("TRAKQ")
    assert len({first["number"], other["number"], plain["number"]}) == 3
    assert eng.views.live_pickup_ticket(DOSSIER)["id"] == first["id"]
    assert eng.views.live_pickup_ticket("000.17.22.H56-251103-0999") is None


def test_the_ticket_stays_the_dossiers_while_live_and_frees_it_once_finished(db_url, engine_for):
    _, eng = engine_for(db_url)
    first = eng.issue("TRAKQ", dossier_code=DOSSIER)
    called = eng.call_next(4)
    assert called["id"] == first["id"]
    assert eng.issue("TRAKQ", dossier_code=DOSSIER)["id"] == first["id"]  # called
    eng.start(4)
    eng.hold(4)
    assert eng.issue("TRAKQ", dossier_code=DOSSIER)["id"] == first["id"]  # on hold
    eng.resume(4, ticket_id=first["id"])
    eng.finish(4)
    second = eng.issue("TRAKQ", dossier_code=DOSSIER)
    assert not second.get("already_issued") and second["id"] != first["id"]
    assert second["number"] != first["number"]


def test_taps_at_the_same_moment_give_one_ticket(db_url, engine_for, monkeypatch):
    """Eight requests for one dossier at once (a barrier releases them together) give one
    ticket; the seven others answer with it. One field's number counter is not consumed by
    the refused ones. Each transaction is slowed down right after its check (a busy
    machine), so every request has checked before the first one commits, unless the check
    makes them wait."""
    from motcua.queue import pickup

    checked = pickup.guard

    def slow_guard(*args):
        checked(*args)
        time.sleep(0.2)

    monkeypatch.setattr(pickup, "guard", slow_guard)
    _, eng = engine_for(db_url)
    n = 8
    barrier = threading.Barrier(n)
    out: list[dict] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def tap() -> None:
        try:
            barrier.wait(10)
            t = eng.issue("TRAKQ", dossier_code=DOSSIER)
            with lock:
                out.append(t)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=tap) for _ in range(n)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(30)
    assert not errors, errors
    assert len(out) == n
    assert len({t["id"] for t in out}) == 1, sorted({t["number"] for t in out})
    assert sum(1 for t in out if not t.get("already_issued")) == 1
    # The next pickup ticket of the day follows the first one directly: nothing was used up.
    nxt = eng.issue("TRAKQ", dossier_code="000.17.22.H56-251103-0902")
    assert int(nxt["number"]) == int(out[0]["number"]) + 1


# Over HTTP ------------------------------------------------------------------------------------
def _import_ready_dossier(server, code: str = DOSSIER) -> None:
    staff = {"Authorization": f"Bearer {server.token('quay4')}"}
    csv = ("ma_ho_so,thu_tuc,linh_vuc,nguoi_nop,ngay_nhan,ngay_hen_tra,trang_thai,ma_tra_cuu\n"
           f"{code},Đăng ký khai sinh,Hộ tịch,Trần Thị Minh Anh,03/11/2025,05/11/2025,9,K7Q2XA\n")
    r = requests.post(server.url + "/api/v1/dossiers/import", data=csv.encode("utf-8"),
                      headers={**staff, "Content-Type": "text/csv"}, params={"filename": "t.csv"}, timeout=10)
    assert r.status_code == 200 and r.json()["imported"] == 1, r.text


def test_the_kiosk_gets_the_same_pickup_ticket_twice_and_it_is_printed_once(server):
    _import_ready_dossier(server)
    body = {"service": "TRAKQ", "dossier": DOSSIER}
    first = requests.post(server.url + "/api/v1/tickets", json=body, headers=HEADERS_KIOSK, timeout=10)
    assert first.status_code == 201, first.text
    assert first.json()["print_job"]["job_id"] and not first.json().get("already_issued")
    # The same dossier typed in lower case, with spaces: still the same dossier.
    again = requests.post(server.url + "/api/v1/tickets", json={"service": "TRAKQ", "dossier": f" {DOSSIER.lower()} "},
                          headers=HEADERS_KIOSK, timeout=10)
    assert again.status_code == 200, again.text
    a, b = first.json(), again.json()
    assert b["already_issued"] is True
    assert (b["id"], b["number"], b["dossier_code"]) == (a["id"], a["number"], DOSSIER)
    assert b["url"] == a["url"] and "print_job" not in b
    assert "ahead" in b and b["counters"] == [4]

    # Six at once give one number.
    _import_ready_dossier(server, "000.17.22.H56-251103-0905")
    body = {"service": "TRAKQ", "dossier": "000.17.22.H56-251103-0905"}
    with ThreadPoolExecutor(6) as pool:
        answers = list(pool.map(lambda _: requests.post(server.url + "/api/v1/tickets", json=body,
                                                          headers=HEADERS_KIOSK, timeout=15), range(6)))
    assert sorted(r.status_code for r in answers) == [200] * 5 + [201], [r.text for r in answers]
    assert len({r.json()["number"] for r in answers}) == 1
    # Printed once each: two dossiers, two slips.
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and len(list((server.data_dir / "printer").glob("*.bin"))) < 2:
        time.sleep(0.1)
    time.sleep(1.0)  # a duplicate print would follow within the printer's poll interval
    assert len(list((server.data_dir / "printer").glob("*.bin"))) == 2


# Printing: the kiosk device and staff only (security review 6a) -------------------------------
def _jobs(server) -> int:
    return len(list((server.data_dir / "printer").glob("*.bin")))


def test_anonymous_callers_cannot_print_on_the_kiosk_printer(server):
    before = requests.get(server.url + "/api/v1/services", timeout=5).json()
    r = requests.post(server.url + "/api/v1/tickets?print=1", json={"service": "HOTICH"}, timeout=10)
    assert r.status_code == 403, r.text
    assert r.json()["error"] == "print_forbidden"
    assert "máy lấy số" in r.json()["message"] and "cán bộ" in r.json()["message"]
    after = requests.get(server.url + "/api/v1/services", timeout=5).json()
    assert [s["waiting"] for s in after] == [s["waiting"] for s in before], "nothing was issued"
    # An anonymous ticket without ?print=1 is still given, and not printed.
    plain = requests.post(server.url + "/api/v1/tickets", json={"service": "HOTICH"}, timeout=10)
    assert plain.status_code == 201 and "print_job" not in plain.json()
    # The kiosk device prints; staff may ask for it.
    kiosk = requests.post(server.url + "/api/v1/tickets", json={"service": "HOTICH"}, headers=HEADERS_KIOSK, timeout=10)
    assert kiosk.status_code == 201 and kiosk.json()["print_job"]["job_id"]
    staff = {"Authorization": f"Bearer {server.token('quay1')}"}
    by_staff = requests.post(server.url + "/api/v1/tickets?print=1", json={"service": "HOTICH"}, headers=staff,
                             timeout=10)
    assert by_staff.status_code == 201 and by_staff.json()["print_job"]["job_id"]
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and _jobs(server) < 2:
        time.sleep(0.1)
    time.sleep(1.0)
    assert _jobs(server) == 2
