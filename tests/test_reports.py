"""Reports from the event rows: exact figures on SQLite and PostgreSQL, the API through a real
server, and the XLSX workbook opened with openpyxl."""
from __future__ import annotations

import io
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
import requests
from openpyxl import load_workbook
from sqlalchemy import select

from helpers import KIOSK_TOKEN
from motcua.errors import MotcuaError
from motcua.reports import (
    MAX_PERIOD_DAYS,
    MAX_REPORT_DAY,
    MIN_REPORT_DAY,
    Period,
    PeriodError,
    build_summary,
    parse_period,
    percentile,
    summary_workbook,
)
from motcua.store import tables as t

HANOI = ZoneInfo("Asia/Ho_Chi_Minh")
DAY1 = date(2026, 11, 23)
DAY2 = date(2026, 11, 24)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _user_ids(store) -> dict[str, int]:
    with store.read() as conn:
        return {r.username: r.id for r in conn.execute(select(t.users.c.username, t.users.c.id))}


def _rate(store, visit_id: int, level: str) -> None:
    """A rating row as the (later) ratings API would write it: copied from the visit."""
    with store.write() as conn:
        v = conn.execute(select(t.visits).where(t.visits.c.id == visit_id)).one()
        conn.execute(t.ratings.insert().values(
            visit_id=v.id, ticket_id=v.ticket_id, business_date=v.business_date, level=level, reasons=None,
            comment="", field=v.field, counter=v.counter, staff_id=v.staff_id, source="test",
            at=v.ended_at or v.called_at))


def _build_two_days(store, eng, clock) -> dict[str, int]:
    """Monday 23/11/2026 from 09:00 (Hanoi), then one visit on Tuesday. See the expected figures
    in test_exact_figures_from_events."""
    users = _user_ids(store)
    q1, q2 = users["quay1"], users["quay2"]
    a = eng.issue("HOTICH")                                     # 09:00
    clock.advance(minutes=5)
    eng.issue("HOTICH")                                         # 09:05 B
    clock.advance(minutes=5)
    assert eng.call_next(1, staff_id=q1)["id"] == a["id"]        # 09:10 A called: wait 600
    clock.advance(minutes=15)
    visit_a = eng.finish(1, staff_id=q1)["visit_id"]             # 09:25 A done: service 900 (no start press)
    eng.call_next(1, staff_id=q1)                                # 09:25 B called: wait 1200
    clock.advance(minutes=5)
    eng.start(1, staff_id=q1)                                    # 09:30 B arrives
    clock.advance(minutes=5)
    visit_b = eng.finish(1, staff_id=q1)["visit_id"]             # 09:35 B done: service 600, serving 300
    clock.advance(minutes=5)
    c = eng.issue("HOTICH")                                     # 09:40 C
    clock.advance(minutes=5)
    eng.call_next(1, staff_id=q1)                                # 09:45 C called: wait 300
    clock.advance(minutes=3)
    eng.skip(1, staff_id=q1)                                     # 09:48 C no-show
    clock.advance(minutes=12)
    eng.reactivate(c["id"], staff_id=q1)                         # 10:00 C back in the queue
    clock.advance(minutes=2)
    assert eng.call_next(1, staff_id=q1)["id"] == c["id"]        # 10:02 C called: wait 120
    clock.advance(minutes=3)
    eng.transfer(1, field_code="DATDAI", staff_id=q1)            # 10:05 C leaves HOTICH for DATDAI
    clock.advance(minutes=10)
    assert eng.call_next(2, staff_id=q2)["id"] == c["id"]        # 10:15 C called at 2: wait 600
    clock.advance(minutes=5)
    visit_c = eng.finish(2, staff_id=q2)["visit_id"]             # 10:20 C done: service 300
    x = eng.issue("XAYDUNG")                                    # 10:20 X
    eng.cancel(x["id"])                                          # X cancelled
    clock.advance(days=1)                                        # Tuesday 10:20
    eng.issue("HOTICH")                                         # D
    clock.advance(minutes=4)
    eng.call_next(1, staff_id=q1)                                # 10:24 wait 240
    clock.advance(minutes=6)
    visit_d = eng.finish(1, staff_id=q1)["visit_id"]             # 10:30 service 360
    _rate(store, visit_a, "very_satisfied")
    _rate(store, visit_b, "satisfied")
    _rate(store, visit_c, "unsatisfied")
    _rate(store, visit_d, "very_satisfied")
    return users


def _stats(block: dict) -> tuple:
    return block["mean"], block["median"], block["p90"]


def _by(rows: list[dict], key: str) -> dict:
    return {r[key]: r for r in rows}


# The period ---------------------------------------------------------------------------------
def test_period_defaults_to_today_and_checks_dates():
    today = date(2026, 11, 23)
    assert parse_period(None, None, today) == Period(today, today)
    assert parse_period("", " ", today) == Period(today, today)
    p = parse_period("2026-11-01", "2026-11-30", today)
    assert (p.start, p.end, p.days) == (date(2026, 11, 1), date(2026, 11, 30), 30)
    assert p.label_vi() == "Từ ngày 01/11/2026 đến ngày 30/11/2026"
    assert p.filename() == "bao-cao-2026-11-01_2026-11-30.xlsx"
    assert parse_period("2024-01-01", "2024-12-31", today).days == MAX_PERIOD_DAYS == 366

    cases = [
        (("2026-11-01", None), 400, "Thiếu tham số 'to'"),
        ((None, "2026-11-01"), 400, "Thiếu tham số 'from'"),
        (("01/11/2026", "2026-11-30"), 400, "phải là ngày dạng YYYY-MM-DD"),
        (("20261101", "2026-11-30"), 400, "phải là ngày dạng YYYY-MM-DD"),
        (("2026-02-30", "2026-03-01"), 400, "không tồn tại"),
        (("2026-11-30", "2026-11-01"), 422, "phải trước hoặc bằng"),
        (("2025-01-01", "2026-01-02"), 422, "tối đa 366 ngày"),
    ]
    for (raw_from, raw_to), status, words in cases:
        with pytest.raises(PeriodError) as exc:
            parse_period(raw_from, raw_to, today)
        assert exc.value.status == status and words in exc.value.message, (raw_from, raw_to)


def test_far_dates_are_a_422_not_a_crash(db_url, engine_for):
    """31/12/9999 has no end of day (the next midnight overflows) and 01/01/0001 in Hanoi is
    still year 0 in UTC: both used to end in an OverflowError (a 500). Now a PeriodError."""
    today = date(2026, 11, 23)
    cases = [
        (("9999-12-31", "9999-12-31"), "Tham số 'from' (ngày bắt đầu): ngày 31/12/9999 nằm ngoài"),
        (("9999-12-01", "9999-12-31"), "Tham số 'to' (ngày kết thúc): ngày 31/12/9999 nằm ngoài"),
        (("0001-01-01", "0001-01-01"), "ngày 01/01/0001 nằm ngoài"),
        (("1899-12-31", "1900-01-01"), "ngày 31/12/1899 nằm ngoài"),
        (("2026-11-01", "9999-12-31"), "ngày 31/12/9999 nằm ngoài"),
    ]
    for (raw_from, raw_to), words in cases:
        with pytest.raises(PeriodError) as exc:
            parse_period(raw_from, raw_to, today)
        err = exc.value
        assert isinstance(err, MotcuaError) and (err.status, err.code) == (422, "date_out_of_range"), (raw_from, raw_to)
        assert words in err.message and "01/01/1900 – 30/12/9999" in err.message, err.message

    store, _eng = engine_for(db_url)
    with store.read() as conn:
        with pytest.raises(PeriodError) as exc:
            build_summary(conn, Period(date(9999, 12, 31), date(9999, 12, 31)), tz=HANOI)
        assert exc.value.status == 422 and "31/12/9999" in exc.value.message
        # The first and last supported days still make a report and a workbook.
        for day in (MIN_REPORT_DAY, MAX_REPORT_DAY):
            assert parse_period(day.isoformat(), day.isoformat(), today) == Period(day, day)
            rep = build_summary(conn, Period(day, day), tz=HANOI)
            assert rep["from"] == day.isoformat() and rep["totals"]["issued"] == 0
            assert load_workbook(io.BytesIO(summary_workbook(rep, office_name="X")))["Tổng hợp"]["A1"].value == "X"


def test_percentile_is_linear_like_excel():
    values = [1200, 120, 600, 300]
    assert percentile(values, 0.5) == 450  # MEDIAN(120,300,600,1200)
    assert percentile(values, 0.9) == pytest.approx(1020)  # PERCENTILE.INC(...; 0,9)
    assert percentile([42], 0.9) == 42
    assert percentile([], 0.5) is None


# Figures from the events ----------------------------------------------------------------------
def test_exact_figures_from_events(db_url, engine_for, clock):
    store, eng = engine_for(db_url)
    users = _build_two_days(store, eng, clock)
    with store.read() as conn:
        day1 = build_summary(conn, Period(DAY1, DAY1), tz=HANOI)
        both = build_summary(conn, Period(DAY1, DAY2), tz=HANOI)
        empty = build_summary(conn, Period(date(2026, 11, 1), date(2026, 11, 22)), tz=HANOI)

    assert day1["from"] == day1["to"] == "2026-11-23"
    assert [s["code"] for s in day1["services"]][:3] == ["HOTICH", "DATDAI", "XAYDUNG"]
    svc = _by(day1["services"], "code")
    ho = svc["HOTICH"]
    assert ho["name"] == "Hộ tịch - Chứng thực"
    assert (ho["issued"], ho["served"], ho["no_show"], ho["transferred"]) == (3, 2, 1, 1)
    assert _stats(ho["wait_s"]) == (555.0, 450.0, 1020.0)   # waits 600, 1200, 300, 120
    assert _stats(ho["service_s"]) == (750.0, 750.0, 870.0)  # services 900, 600
    assert _stats(ho["serving_s"]) == (300.0, 300.0, 300.0)  # only B had a start press
    assert ho["called"] == 4 and ho["wait_s"]["count"] == 4
    dat = svc["DATDAI"]
    assert (dat["issued"], dat["served"], dat["no_show"], dat["transferred"], dat["transferred_in"]) == (0, 1, 0, 0, 1)
    assert _stats(dat["wait_s"]) == (600.0, 600.0, 600.0)    # from the transfer to the call at counter 2
    assert _stats(dat["service_s"]) == (300.0, 300.0, 300.0)
    assert _stats(dat["serving_s"]) == (None, None, None)
    xay = svc["XAYDUNG"]
    assert (xay["issued"], xay["served"], xay["cancelled"]) == (1, 0, 1)
    assert _stats(xay["wait_s"]) == (None, None, None) and _stats(xay["service_s"]) == (None, None, None)
    ld = svc["LDTBXH"]
    assert (ld["issued"], ld["served"], ld["wait_s"]["median"]) == (0, 0, None)

    tot = day1["totals"]
    assert (tot["issued"], tot["served"], tot["no_show"], tot["transferred"]) == (4, 3, 1, 1)
    assert _stats(tot["wait_s"]) == (564.0, 600.0, 960.0)
    assert _stats(tot["service_s"]) == (600.0, 600.0, 840.0)

    assert {k: day1["ratings"][k] for k in ("very_satisfied", "satisfied", "unsatisfied", "total")} == \
        {"very_satisfied": 1, "satisfied": 1, "unsatisfied": 1, "total": 3}
    assert day1["ratings"]["percent"]["unsatisfied"] == 33.3 and day1["ratings"]["satisfied_percent"] == 66.7
    assert (ho["ratings"]["very_satisfied"], ho["ratings"]["satisfied"], dat["ratings"]["unsatisfied"]) == (1, 1, 1)

    counters = _by(day1["counters"], "counter")
    assert (counters[1]["called"], counters[1]["served"], counters[1]["no_show"], counters[1]["transferred"]) == (4, 2, 1, 1)
    assert (counters[2]["called"], counters[2]["served"], counters[2]["service_s"]["mean"]) == (1, 1, 300.0)
    staff = _by(day1["staff"], "username")
    assert staff["quay1"]["staff_id"] == users["quay1"] and staff["quay1"]["served"] == 2
    assert staff["quay2"]["served"] == 1 and staff["quay2"]["ratings"]["unsatisfied"] == 1
    hours = _by(day1["hours"], "hour")
    assert hours[9]["issued"] == 3 and hours[10]["issued"] == 1 and hours[9]["label"] == "09:00–10:00"
    assert day1["busiest_hour"]["hour"] == 9
    assert [d["date"] for d in day1["days"]] == ["2026-11-23"]

    # Two days: Tuesday's visit is added; per-day rows split them.
    ho2 = _by(both["services"], "code")["HOTICH"]
    assert (ho2["issued"], ho2["served"]) == (4, 3)
    assert _stats(ho2["wait_s"]) == (492.0, 300.0, 960.0)  # 120, 240, 300, 600, 1200
    assert both["ratings"]["very_satisfied"] == 2 and both["ratings"]["total"] == 4
    days = _by(both["days"], "date")
    assert (days["2026-11-23"]["issued"], days["2026-11-24"]["issued"]) == (4, 1)
    assert _stats(days["2026-11-24"]["service_s"]) == (360.0, 360.0, 360.0)

    # A period without traffic: zeros and nulls, every key still there.
    assert all(s["issued"] == 0 and s["wait_s"]["p90"] is None for s in empty["services"])
    assert empty["ratings"]["total"] == 0 and empty["ratings"]["percent"]["satisfied"] is None
    assert empty["busiest_hour"] is None and len(empty["days"]) == 22


def _put_dossier(conn, code: str, received: datetime, due: datetime, status: int,
                 finished: datetime | None = None, field: str = "Hộ tịch") -> None:
    conn.execute(t.dossiers.insert().values(
        code=code, procedure="Đăng ký khai sinh", field=field, received_at=received, due_at=due,
        status=status, finished_at=finished, updated_at=received))


def test_dossier_block_uses_the_on_time_rule_in_local_days(db_url, engine_for):
    store, _eng = engine_for(db_url)

    def local(day: str, hh: int = 9, mm: int = 0) -> datetime:
        return datetime.fromisoformat(day).replace(hour=hh, minute=mm, tzinfo=HANOI)

    with store.write() as conn:
        _put_dossier(conn, "D1", local("2026-11-02"), local("2026-11-10", 17), 10, local("2026-11-09"))  # early
        _put_dossier(conn, "D2", local("2026-11-03"), local("2026-11-12", 17), 9, local("2026-11-12", 16, 45))
        _put_dossier(conn, "D3", local("2026-11-05"), local("2026-11-20", 17), 4)  # overdue at 30/11
        _put_dossier(conn, "D4", local("2026-11-25"), local("2026-12-05", 17), 4, field="Đất đai")  # in time
        _put_dossier(conn, "D5", local("2026-10-20"), local("2026-10-30", 17), 10, local("2026-10-29"))  # before
        _put_dossier(conn, "D6", local("2026-10-25"), local("2026-11-05", 17), 10, local("2026-11-06"))  # carried, late
        _put_dossier(conn, "D7", local("2026-12-01"), local("2026-12-10", 17), 2)  # after the period
        _put_dossier(conn, "D8", local("2026-11-10"), local("2026-11-20", 17), 1)  # never received
        # Finished at 06:00 on 13/11 in Hanoi (still the 12th in UTC): late, by the local day.
        _put_dossier(conn, "D9", local("2026-11-04"), local("2026-11-12", 17), 10,
                     datetime(2026, 11, 12, 23, 0, tzinfo=timezone.utc), field="Đất đai")
    with store.read() as conn:
        rep = build_summary(conn, Period(date(2026, 11, 1), date(2026, 11, 30)), tz=HANOI)
    d = rep["dossiers"]
    assert {k: d[k] for k in ("received", "finished_early", "finished_on_time", "finished_late",
                              "in_progress_in_time", "in_progress_overdue")} == {
        "received": 6, "finished_early": 1, "finished_on_time": 1, "finished_late": 2,
        "in_progress_in_time": 1, "in_progress_overdue": 1}
    assert (d["carried_over"], d["received_new"]) == (1, 5)
    by_field = _by(rep["dossiers_by_field"], "field")
    assert (by_field["Đất đai"]["received"], by_field["Đất đai"]["finished_late"]) == (2, 1)
    assert by_field["Hộ tịch"]["received"] == 4


# The workbook -----------------------------------------------------------------------------------
def _rows(ws) -> list[list]:
    return [list(r) for r in ws.iter_rows(values_only=True)]


def _find_row(ws, first: str) -> list:
    for row in _rows(ws):
        if first in row[:2]:
            return row
    raise AssertionError(f"no row {first!r} in {ws.title}")


def test_workbook_sheets_and_numbers(tmp_path, engine_for, clock):
    store, eng = engine_for(f"sqlite:///{tmp_path / 'r.sqlite3'}")
    _build_two_days(store, eng, clock)
    with store.write() as conn:
        _put_dossier(conn, "D1", datetime(2026, 11, 2, 2, tzinfo=timezone.utc),
                     datetime(2026, 11, 30, 10, tzinfo=timezone.utc), 10, datetime(2026, 11, 23, 3, tzinfo=timezone.utc))
        _put_dossier(conn, "D2", datetime(2026, 11, 3, 2, tzinfo=timezone.utc),
                     datetime(2026, 11, 20, 10, tzinfo=timezone.utc), 4)
    with store.read() as conn:
        rep = build_summary(conn, Period(DAY1, DAY1), tz=HANOI)
    office = "Trung tâm Phục vụ hành chính công phường Hòa Bình"
    wb = load_workbook(io.BytesIO(summary_workbook(rep, office_name=office)))
    assert wb.sheetnames[:3] == ["Tổng hợp", "Đánh giá", "Hồ sơ"]

    ws = wb["Tổng hợp"]
    assert ws["A1"].value == office.upper()
    assert ws["A3"].value == "Từ ngày 23/11/2026 đến ngày 23/11/2026"
    header = _find_row(ws, "Lĩnh vực")
    assert header[1:7] == ["Lĩnh vực", "Số phiếu", "Đã phục vụ", "Vắng mặt", "Chuyển", "Chờ TB (phút)"]
    ho = _find_row(ws, "Hộ tịch - Chứng thực")
    col = {name: i for i, name in enumerate(header)}
    assert [ho[col[k]] for k in ("Số phiếu", "Đã phục vụ", "Vắng mặt", "Chuyển")] == [3, 2, 1, 1]
    assert ho[col["Chờ TB (phút)"]] == pytest.approx(9.25)   # 555 s
    assert ho[col["Chờ trung vị (phút)"]] == pytest.approx(7.5)  # 450 s
    assert ho[col["Chờ P90 (phút)"]] == pytest.approx(17.0)  # 1020 s
    assert ho[col["Phục vụ TB (phút)"]] == pytest.approx(12.5)  # 750 s
    assert _find_row(ws, "Xây dựng")[col["Chờ TB (phút)"]] is None
    total = _find_row(ws, "Tổng cộng")
    assert total[col["Số phiếu"]] == 4 and total[col["Phục vụ TB (phút)"]] == pytest.approx(10.0)
    assert ws.column_dimensions["B"].width >= len("Lao động - Thương binh và Xã hội")
    assert ws.column_dimensions["A"].width < 15 and ws.freeze_panes is not None

    ws = wb["Đánh giá"]
    rows = {r[0]: r for r in _rows(ws) if r[0] in ("Rất hài lòng", "Hài lòng", "Không hài lòng", "Tổng cộng")}
    assert [rows[k][1] for k in ("Rất hài lòng", "Hài lòng", "Không hài lòng", "Tổng cộng")] == [1, 1, 1, 3]
    assert rows["Hài lòng"][2] == pytest.approx(1 / 3)
    pct_cell = next(c for c in ws["C"] if c.value == rows["Hài lòng"][2])
    assert pct_cell.number_format == "0.0%"
    assert any("66,7%" in str(r[0]) for r in _rows(ws) if r[0])

    ws = wb["Hồ sơ"]
    flat = [v for r in _rows(ws) for v in r if v is not None]
    for words in ("Tiếp nhận", "Đã giải quyết", "Đang giải quyết", "Trước hạn", "Đúng hạn", "Trong hạn", "Quá hạn"):
        assert words in flat
    total = _find_row(ws, "Tổng cộng")
    # received, carried over, new, finished, early, on time, late, in progress, in time, overdue
    assert total[1:11] == [2, 2, 0, 1, 1, 0, 0, 1, 0, 1]

    days = wb["Theo ngày"]
    first = _find_row(days, "Ngày")
    row = next(r for r in _rows(days) if isinstance(r[0], datetime))
    assert row[0].date() == DAY1 and row[1] == 4 and first[1] == "Số phiếu"


# Through a real server ------------------------------------------------------------------------
def test_api_summary_and_xlsx_through_the_server(server):
    url = server.url + "/api/v1/reports/summary"
    staff = _auth(server.token("quay1"))
    r = requests.post(server.url + "/api/v1/tickets", json={"service": "HOTICH"}, headers=_auth(KIOSK_TOKEN), timeout=10)
    assert r.status_code == 201, r.text
    ticket = r.json()
    called = requests.post(server.url + "/api/v1/counters/1/call-next", headers=staff, timeout=10).json()["ticket"]
    assert called["id"] == ticket["id"]
    done = requests.post(server.url + "/api/v1/counters/1/finish", headers=staff, timeout=10)
    assert done.status_code == 200, done.text

    body = requests.get(url, headers=staff, timeout=10)
    assert body.status_code == 200, body.text
    rep = body.json()
    assert rep["from"] == rep["to"] == ticket["business_date"]  # no dates: today
    ho = _by(rep["services"], "code")["HOTICH"]
    assert (ho["issued"], ho["served"], ho["no_show"], ho["transferred"]) == (1, 1, 0, 0)
    assert 0 <= ho["wait_s"]["mean"] < 60 and ho["wait_s"]["median"] == ho["wait_s"]["p90"] == ho["wait_s"]["mean"]
    assert 0 <= ho["service_s"]["mean"] < 60
    for key in ("from", "to", "services", "ratings", "dossiers"):
        assert key in rep
    assert set(rep["ratings"]) >= {"very_satisfied", "satisfied", "unsatisfied"}
    assert set(rep["dossiers"]) >= {"received", "finished_early", "finished_on_time", "finished_late",
                                    "in_progress_in_time", "in_progress_overdue"}
    assert rep["office"]["name"]

    day = ticket["business_date"]
    admin = _auth(server.token("admin"))
    same = requests.get(url, params={"from": day, "to": day}, headers=admin, timeout=10).json()
    assert _by(same["services"], "code")["HOTICH"]["served"] == 1
    before = (date.fromisoformat(day) - timedelta(days=7)).isoformat()
    old = requests.get(url, params={"from": before, "to": before}, headers=staff, timeout=10).json()
    assert _by(old["services"], "code")["HOTICH"]["issued"] == 0

    assert requests.get(url, timeout=10).status_code == 401
    assert requests.get(url + ".xlsx", timeout=10).status_code == 401
    kiosk = requests.get(url, headers=_auth(KIOSK_TOKEN), timeout=10)
    assert kiosk.status_code == 403 and kiosk.json()["message"]
    assert requests.get(url + ".xlsx", headers=_auth(KIOSK_TOKEN), timeout=10).status_code == 403

    for params, status, words in (
        ({"from": "2026-13-01", "to": "2026-12-01"}, 400, "ngày"),
        ({"from": "hôm qua", "to": "2026-12-01"}, 400, "YYYY-MM-DD"),
        ({"from": "2026-11-01"}, 400, "Thiếu tham số 'to'"),
        ({"from": "2026-11-30", "to": "2026-11-01"}, 422, "Ngày bắt đầu"),
        ({"from": "2024-01-01", "to": "2026-01-01"}, 422, "tối đa 366 ngày"),
        ({"from": "9999-12-31", "to": "9999-12-31"}, 422, "nằm ngoài khoảng lập được báo cáo"),
        ({"from": "0001-01-01", "to": "0001-01-01"}, 422, "nằm ngoài khoảng lập được báo cáo"),
    ):
        bad = requests.get(url, params=params, headers=staff, timeout=10)
        assert bad.status_code == status and words in bad.json()["message"], (params, bad.text)
    assert requests.get(url + ".xlsx", params={"from": "x", "to": "y"}, headers=staff, timeout=10).status_code == 400
    far = requests.get(url + ".xlsx", params={"from": "9999-12-31", "to": "9999-12-31"}, headers=staff, timeout=10)
    assert far.status_code == 422 and far.json()["error"] == "date_out_of_range", far.text

    x = requests.get(url + ".xlsx", params={"from": day, "to": day}, headers=staff, timeout=20)
    assert x.status_code == 200 and x.headers["Content-Type"] == XLSX
    assert f'filename="bao-cao-{day}_{day}.xlsx"' in x.headers["Content-Disposition"]
    wb = load_workbook(io.BytesIO(x.content))
    ws = wb["Tổng hợp"]
    assert ws["A1"].value == rep["office"]["name"].upper()
    d = date.fromisoformat(day)
    assert ws["A3"].value == f"Từ ngày {d:%d/%m/%Y} đến ngày {d:%d/%m/%Y}"
    header = _find_row(ws, "Lĩnh vực")
    ho_row = _find_row(ws, "Hộ tịch - Chứng thực")
    assert ho_row[header.index("Số phiếu")] == 1 and ho_row[header.index("Đã phục vụ")] == 1
    assert {"Đánh giá", "Hồ sơ"} <= set(wb.sheetnames)
