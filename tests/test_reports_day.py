"""Issue 12 acceptance: a seeded day of events (a transfer, a no-show, a recall, a ticket that
crosses the lunch break, a cancelled one) gives the hand-computed figures in the JSON summary,
the XLSX (read back with openpyxl) and the CSV alike, on SQLite and PostgreSQL; a staff member
sees only their counter (the page itself: tests/browser/test_admin_reports.py).

The day, Monday 23/11/2026 in Hanoi (commune sample; counter 1 serves HOTICH, counter 2 DATDAI):

  08:00 A issue HOTICH          08:05 B issue HOTICH
  08:10 counter 1 calls A (wait 600)  08:11 recall A  08:12 A arrives  08:20 A done (service 600)
  08:20 counter 1 calls B (wait 900)  08:23 B no-show
  08:30 C issue DATDAI          08:40 D issue HOTICH
  08:45 counter 1 calls D (wait 300)  08:50 D transferred to DATDAI
  09:00 counter 2 calls C (wait 1800) 09:10 C done (service 600)
  09:10 counter 2 calls D (wait 1200, from the transfer)  09:25 D done (service 900)
  11:25 E issue HOTICH (before lunch)  13:35 counter 1 calls E (wait 7800)  13:45 E done (service 600)
  14:00 F issue HOTICH          14:05 F cancelled
  ratings: A very satisfied, C satisfied, E not satisfied ("Thời gian chờ lâu")
  dossiers: one carried over and overdue, one received and finished early that day.

Waits 300, 600, 900, 1200, 1800, 7800 s: mean 2100, median 1050, P90 1800 + 0.5 x 6000 = 4800,
longest 7800. Services 600, 600, 600, 900: mean 675, median 600, P90 600 + 0.7 x 300 = 810.
"""
from __future__ import annotations

import csv
import io
from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from motcua.store import tables as t

HANOI = ZoneInfo("Asia/Ho_Chi_Minh")
DAY = date(2026, 11, 23)
Q = {"from": "2026-11-23", "to": "2026-11-23"}
NEXT_DAY = datetime(2026, 11, 24, 2, 0, tzinfo=timezone.utc)

# The hand-computed figures (seconds).
TOTAL = {"issued": 6, "served": 4, "no_show": 1, "transferred": 1, "cancelled": 1, "recalled": 1, "called": 6}
WAIT = {"mean": 2100.0, "median": 1050.0, "p90": 4800.0, "max": 7800.0}
SERVICE = {"mean": 675.0, "median": 600.0, "p90": 810.0, "max": 900.0}
HOTICH = {"issued": 5, "served": 2, "no_show": 1, "transferred": 1, "cancelled": 1}
HOTICH_WAIT = {"mean": 2400.0, "median": 750.0, "p90": 5730.0, "max": 7800.0}
DATDAI = {"issued": 1, "served": 2, "transferred_in": 1}
DATDAI_WAIT = {"mean": 1500.0, "median": 1500.0, "p90": 1740.0, "max": 1800.0}


def at(hh: int, mm: int) -> datetime:
    return datetime(2026, 11, 23, hh, mm, tzinfo=HANOI).astimezone(timezone.utc)


def seed_day(store, eng, clock) -> None:
    """Write the day above through the engine (the clock is moved to each moment)."""
    with store.read() as conn:
        users = {r.username: r.id for r in conn.execute(select(t.users.c.username, t.users.c.id))}
    q1, q2 = users["quay1"], users["quay2"]

    def to(hh: int, mm: int) -> None:
        clock.now = at(hh, mm)

    to(8, 0); eng.issue("HOTICH")                              # A  # noqa: E702
    to(8, 5); eng.issue("HOTICH")                              # B  # noqa: E702
    to(8, 10); a = eng.call_next(1, staff_id=q1)              # noqa: E702
    to(8, 11); eng.recall(1, staff_id=q1)                      # noqa: E702
    to(8, 12); eng.start(1, staff_id=q1)                       # noqa: E702
    to(8, 20); visit_a = eng.finish(1, staff_id=q1)["visit_id"]  # noqa: E702
    eng.call_next(1, staff_id=q1)                              # B
    to(8, 23); eng.skip(1, staff_id=q1)                        # noqa: E702
    to(8, 30); c = eng.issue("DATDAI")                         # noqa: E702
    to(8, 40); d = eng.issue("HOTICH")                         # noqa: E702
    to(8, 45); assert eng.call_next(1, staff_id=q1)["id"] == d["id"]  # noqa: E702
    to(8, 50); eng.transfer(1, field_code="DATDAI", staff_id=q1)  # noqa: E702
    to(9, 0); assert eng.call_next(2, staff_id=q2)["id"] == c["id"]  # noqa: E702
    to(9, 10); visit_c = eng.finish(2, staff_id=q2)["visit_id"]  # noqa: E702
    assert eng.call_next(2, staff_id=q2)["id"] == d["id"]
    to(9, 25); eng.finish(2, staff_id=q2)                      # noqa: E702
    to(11, 25); e = eng.issue("HOTICH")                        # noqa: E702
    to(13, 35); assert eng.call_next(1, staff_id=q1)["id"] == e["id"]  # noqa: E702
    to(13, 45); visit_e = eng.finish(1, staff_id=q1)["visit_id"]  # noqa: E702
    to(14, 0); f = eng.issue("HOTICH")                         # noqa: E702
    to(14, 5); eng.cancel(f["id"])                             # noqa: E702
    assert a["number"] == "1001"
    with store.write() as conn:
        for visit_id, level, reasons in ((visit_a, "very_satisfied", None), (visit_c, "satisfied", None),
                                         (visit_e, "unsatisfied", ["wait_long"])):
            v = conn.execute(select(t.visits).where(t.visits.c.id == visit_id)).one()
            conn.execute(t.ratings.insert().values(
                visit_id=v.id, ticket_id=v.ticket_id, business_date=v.business_date, level=level, reasons=reasons,
                comment="", field=v.field, counter=v.counter, staff_id=v.staff_id, source="test", at=v.ended_at))
        for code, received, due, status, finished in (
                ("000.00.00.H00-261102-0001", at(9, 0).replace(day=2), at(17, 0).replace(day=20), 4, None),
                ("000.00.00.H00-261123-0002", at(8, 0), at(17, 0).replace(day=30), 10, at(15, 0))):
            conn.execute(t.dossiers.insert().values(
                code=code, procedure="Đăng ký khai sinh", field="Hộ tịch - Chứng thực", received_at=received,
                due_at=due, status=status, finished_at=finished, updated_at=received))


def _stats(block: dict) -> dict:
    return {k: block[k] for k in ("mean", "median", "p90", "max")}


def check_json(rep: dict) -> None:
    tot = rep["totals"]
    assert {k: tot[k] for k in TOTAL} == TOTAL
    assert _stats(tot["wait_s"]) == WAIT and _stats(tot["service_s"]) == SERVICE
    svc = {s["code"]: s for s in rep["services"]}
    assert {k: svc["HOTICH"][k] for k in HOTICH} == HOTICH and _stats(svc["HOTICH"]["wait_s"]) == HOTICH_WAIT
    assert {k: svc["DATDAI"][k] for k in DATDAI} == DATDAI and _stats(svc["DATDAI"]["wait_s"]) == DATDAI_WAIT
    assert svc["DATDAI"]["service_s"]["mean"] == 750.0
    r = rep["ratings"]
    assert (r["very_satisfied"], r["satisfied"], r["unsatisfied"], r["total"], r["satisfied_percent"]) == (1, 1, 1, 3, 66.7)
    reasons = {x["code"]: x for x in r["reasons"]}
    assert reasons["wait_long"]["count"] == 1 and reasons["wait_long"]["label"] == "Thời gian chờ lâu"
    assert reasons["wait_long"]["percent"] == 100.0 and reasons["attitude"]["count"] == 0
    d = rep["dossiers"]
    assert (d["received"], d["carried_over"], d["received_new"], d["finished_early"], d["in_progress_overdue"]) == \
        (2, 1, 1, 1, 1)
    counters = {c["counter"]: c for c in rep["counters"]}
    assert (counters[1]["called"], counters[1]["served"], counters[1]["no_show"], counters[1]["transferred"]) == (4, 2, 1, 1)
    assert (counters[2]["called"], counters[2]["served"], counters[2]["service_s"]["mean"]) == (2, 2, 750.0)
    hours = {h["hour"]: h["issued"] for h in rep["hours"]}
    assert (hours[8], hours[11], hours[14]) == (4, 1, 1)
    heat = rep["heatmap"]
    monday = heat["rows"][0]
    assert monday["label"] == "Thứ Hai" and monday["total"] == 6
    assert dict(zip(heat["hours"], monday["counts"]))[8] == 4 and dict(zip(heat["hours"], monday["counts"]))[11] == 1
    assert all(row["total"] == 0 for row in heat["rows"][1:])


def check_xlsx(data: bytes, office: str) -> None:
    wb = load_workbook(io.BytesIO(data))
    ws = wb["Tổng hợp"]
    rows = [list(r) for r in ws.iter_rows(values_only=True)]
    assert rows[0][0] == office.upper() and rows[2][0] == "Từ ngày 23/11/2026 đến ngày 23/11/2026"
    header = next(r for r in rows if "Lĩnh vực" in r[:2])
    col = {name: i for i, name in enumerate(header) if name}
    total = next(r for r in rows if "Tổng cộng" in r[:2])
    ho = next(r for r in rows if "Hộ tịch - Chứng thực" in r[:2])
    assert [total[col[k]] for k in ("Số phiếu", "Đã phục vụ", "Vắng mặt", "Chuyển", "Đã hủy", "Gọi lại")] == [6, 4, 1, 1, 1, 1]
    for name, seconds in (("Chờ TB (phút)", 2100), ("Chờ trung vị (phút)", 1050), ("Chờ P90 (phút)", 4800),
                          ("Chờ lâu nhất (phút)", 7800), ("Phục vụ TB (phút)", 675), ("Phục vụ P90 (phút)", 810)):
        assert total[col[name]] == pytest.approx(seconds / 60), name
    assert ho[col["Số phiếu"]] == 5 and ho[col["Chờ P90 (phút)"]] == pytest.approx(5730 / 60)
    rated = {r[0]: r[1] for r in wb["Đánh giá"].iter_rows(values_only=True) if r and r[0]}
    assert (rated["Rất hài lòng"], rated["Hài lòng"], rated["Không hài lòng"], rated["Thời gian chờ lâu"]) == (1, 1, 1, 1)
    heat = [list(r) for r in wb["Theo thứ và giờ"].iter_rows(values_only=True)]
    head = next(r for r in heat if r[0] == "Thứ")
    monday = next(r for r in heat if r[0] == "Thứ Hai")
    assert monday[head.index("08:00")] == 4 and monday[head.index("Cộng")] == 6


def check_csv(data: bytes, office: str) -> None:
    assert data.startswith(b"\xef\xbb\xbf")  # a BOM: spreadsheet programs then read UTF-8
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0] == [office] and rows[1][1] == "Từ ngày 23/11/2026 đến ngày 23/11/2026"
    start = rows.index(["Tổng hợp theo lĩnh vực"])
    header = rows[start + 1]
    table = {r[1]: dict(zip(header, r)) for r in rows[start + 2:] if len(r) > 2}
    total, ho = table["Tổng cộng"], table["Hộ tịch - Chứng thực"]
    assert [total[k] for k in ("Số phiếu", "Đã phục vụ", "Vắng mặt", "Chuyển", "Đã hủy", "Gọi lại")] == \
        ["6", "4", "1", "1", "1", "1"]
    assert [total[k] for k in ("Chờ TB (phút)", "Chờ trung vị (phút)", "Chờ P90 (phút)", "Chờ lâu nhất (phút)")] == \
        ["35.0", "17.5", "80.0", "130.0"]
    assert [total[k] for k in ("Phục vụ TB (phút)", "Phục vụ trung vị (phút)", "Phục vụ P90 (phút)")] == \
        ["11.3", "10.0", "13.5"]
    assert ho["Số phiếu"] == "5" and ho["Chờ P90 (phút)"] == "95.5"
    ratings = {r[0]: r for r in rows if len(r) >= 2}
    assert ratings["Rất hài lòng"][1:] == ["1", "33.3"] and ratings["Không hài lòng"][1] == "1"
    assert ratings["Thời gian chờ lâu"][1:] == ["1", "100.0"]
    heat_at = rows.index(["Số phiếu theo thứ và giờ"])
    head, monday = rows[heat_at + 1], rows[heat_at + 2]
    assert monday[0] == "Thứ Hai" and monday[head.index("08:00")] == "4" and monday[-1] == "6"


# The tests -----------------------------------------------------------------------------------
@pytest.fixture
def day_app(db_url, tmp_path, clock):
    """An app on *db_url* (SQLite or PostgreSQL) holding the seeded day, and its test client with
    bearer headers for the administrator and the staff of counters 1 and 2."""
    from config import load_config
    from motcua.app import Settings, create_app
    from test_ratings import PASSWORD, write_rating_config

    cfg = load_config(write_rating_config(tmp_path / "cfg"))
    app = create_app(Settings(config=cfg, data_dir=tmp_path / "data", database_url=db_url, testing=True,
                              start_devices=False, background_jobs=False, clock=clock))
    svc = app.extensions["motcua"]
    seed_day(svc.store, svc.engine, clock)
    clock.now = NEXT_DAY  # the report is read the day after: the seeded day is a past day
    client = app.test_client()
    heads = {}
    for user in ("admin", "quay1", "quay2"):
        r = client.post("/api/v1/auth/token", json={"username": user, "password": PASSWORD})
        heads[user] = {"Authorization": f"Bearer {r.get_json()['token']}"}
    yield app, client, heads
    svc.close()


def test_seeded_day_same_figures_in_json_xlsx_and_csv(day_app):
    app, client, heads = day_app
    office = app.extensions["motcua"].config.office.name
    r = client.get("/api/v1/reports/summary", query_string=Q, headers=heads["admin"])
    assert r.status_code == 200, r.get_data(as_text=True)
    check_json(r.get_json())
    # Twice: the second answer comes from the cells kept for the (past) day, and is the same.
    check_json(client.get("/api/v1/reports/summary", query_string=Q, headers=heads["admin"]).get_json())
    x = client.get("/api/v1/reports/summary.xlsx", query_string=Q, headers=heads["admin"])
    assert x.status_code == 200 and 'filename="bao-cao-2026-11-23_2026-11-23.xlsx"' in x.headers["Content-Disposition"]
    check_xlsx(x.data, office)
    c = client.get("/api/v1/reports/summary.csv", query_string=Q, headers=heads["admin"])
    assert c.status_code == 200 and c.mimetype == "text/csv"
    assert 'filename="bao-cao-2026-11-23_2026-11-23.csv"' in c.headers["Content-Disposition"]
    check_csv(c.data, office)


def test_a_late_event_for_a_past_day_is_counted(day_app):
    """The kept cells of a past day are used only while that day's events are unchanged."""
    app, client, heads = day_app
    svc = app.extensions["motcua"]
    assert client.get("/api/v1/reports/summary", query_string=Q, headers=heads["admin"]).get_json()["totals"]["issued"] == 6
    svc.settings.clock.now = at(15, 0)
    svc.engine.issue("HOTICH")  # an event of the 23rd written after its report was made
    svc.settings.clock.now = NEXT_DAY
    again = client.get("/api/v1/reports/summary", query_string=Q, headers=heads["admin"]).get_json()
    assert again["totals"]["issued"] == 7


def test_staff_see_only_their_counter_in_every_format(day_app):
    _app, client, heads = day_app
    mine = client.get("/api/v1/reports/summary", query_string=Q, headers=heads["quay1"]).get_json()
    assert mine["scope"] == {"whole_office": False, "counters": [1]}
    tot = mine["totals"]
    # Counter 1: A, B, D, E, F taken in its field; A, B, D, E called there; C and counter 2 left out.
    assert (tot["issued"], tot["called"], tot["served"], tot["no_show"], tot["transferred"], tot["cancelled"]) == \
        (5, 4, 2, 1, 1, 1)
    assert _stats(tot["wait_s"]) == HOTICH_WAIT
    assert [c["counter"] for c in mine["counters"]] == [1]
    assert [s["code"] for s in mine["services"]] == ["HOTICH"]
    assert (mine["ratings"]["total"], mine["ratings"]["very_satisfied"], mine["ratings"]["unsatisfied"]) == (2, 1, 1)
    assert {s["username"] for s in mine["staff"]} == {"quay1"}

    other = client.get("/api/v1/reports/summary", query_string={**Q, "counter": "2"}, headers=heads["quay1"])
    assert other.status_code == 403 and "không phải quầy của bạn" in other.get_json()["message"]
    for ext in (".xlsx", ".csv"):
        assert client.get(f"/api/v1/reports/summary{ext}", query_string={**Q, "counter": "2"},
                          headers=heads["quay1"]).status_code == 403
    csv_rows = client.get("/api/v1/reports/summary.csv", query_string=Q, headers=heads["quay1"]).data.decode("utf-8-sig")
    assert "Phạm vi,Quầy 1" in csv_rows and "Đất đai" not in csv_rows.split("Hồ sơ thủ tục")[0]

    two = client.get("/api/v1/reports/summary", query_string=Q, headers=heads["quay2"]).get_json()
    assert (two["totals"]["called"], two["totals"]["served"], two["totals"]["issued"]) == (2, 2, 1)

    # The administrator: the whole office, or one counter on request.
    one = client.get("/api/v1/reports/summary", query_string={**Q, "counter": "2"}, headers=heads["admin"]).get_json()
    assert one["scope"]["counters"] == [2] and one["totals"]["served"] == 2
    for bad, status in (("hai", 400), ("99", 404)):
        r = client.get("/api/v1/reports/summary", query_string={**Q, "counter": bad}, headers=heads["admin"])
        assert r.status_code == status and r.get_json()["message"], bad
