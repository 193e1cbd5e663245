"""Dossier lookup and import: through a real `motcua demo` process (HTTP and Socket.IO), and
the store functions on SQLite and PostgreSQL."""
from __future__ import annotations

import csv
import io
import re
import threading
import time
from datetime import date, datetime, timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import openpyxl
import pytest
import requests
import socketio
from sqlalchemy import select

from helpers import KIOSK_TOKEN, Listener, ServerProcess

HANOI = ZoneInfo("Asia/Ho_Chi_Minh")
HEADER = ["ma_ho_so", "thu_tuc", "linh_vuc", "nguoi_nop", "ngay_nhan", "ngay_hen_tra", "trang_thai",
          "ma_tra_cuu", "so_giay_to"]
MASKED = re.compile(r"^\S+( \S\.)+$")  # "Nguyễn V. A."


# Helpers ------------------------------------------------------------------------------------
def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _today() -> date:
    return datetime.now(HANOI).date()


def _record(agency: str, day: date, seq: int, **kw) -> dict[str, object]:
    rec: dict[str, object] = {
        "ma_ho_so": f"{agency}-{day:%y%m%d}-{seq:04d}",
        "thu_tuc": "Đăng ký biến động quyền sử dụng đất, quyền sở hữu tài sản gắn liền với đất",
        "linh_vuc": "Đất đai",
        "nguoi_nop": "Nguyễn Văn An",
        "ngay_nhan": day,
        "ngay_hen_tra": day + timedelta(days=10),
        "trang_thai": 4,
        "ma_tra_cuu": f"K{seq:05d}",
        "so_giay_to": f"0010900{seq:05d}",
    }
    rec.update(kw)
    return rec


def _records(agency: str, count: int, start: date) -> list[dict[str, object]]:
    family = ["Nguyễn", "Trần", "Lê", "Phạm", "Đặng", "Bùi"]
    given = ["Văn An", "Thị Bình", "Đức Chí", "Ngọc Ánh", "Minh Đạt"]
    return [_record(agency, start + timedelta(days=i % 20), i + 1,
                    nguoi_nop=f"{family[i % len(family)]} {given[i % len(given)]}", trang_thai=1 + i % 10)
            for i in range(count)]


def _cell(value: object) -> str:
    return value.strftime("%d/%m/%Y") if isinstance(value, date) else str(value)


def to_csv(records: list[dict[str, object]]) -> bytes:
    buf = io.StringIO(newline="")
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(HEADER)
    for rec in records:
        writer.writerow([_cell(rec.get(h, "")) for h in HEADER])
    return buf.getvalue().encode("utf-8")


def to_xlsx(records: list[dict[str, object]]) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(HEADER)
    for rec in records:
        sheet.append([rec.get(h) for h in HEADER])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """One real demo server for this module (each test uses its own dossier codes)."""
    s = ServerProcess(tmp_path_factory.mktemp("dossiers")).start()
    yield s
    s.stop()


@pytest.fixture(scope="module")
def staff(server) -> dict[str, str]:
    return _auth(server.token("quay1"))


def _import(server, staff, data: bytes, *, filename: str = "hoso.csv", multipart: bool = False,
            content_type: str = "text/csv"):
    url = server.url + "/api/v1/dossiers/import"
    if multipart:
        return requests.post(url, headers=staff, files={"file": (filename, data, content_type)}, timeout=60)
    return requests.post(url, headers={**staff, "Content-Type": content_type}, data=data, timeout=60)


# Through the server ----------------------------------------------------------------------------
def test_seeded_demo_dossiers_are_there(server, staff):
    listing = requests.get(server.url + "/api/v1/dossiers", params={"per_page": 200}, headers=staff).json()
    assert listing["total"] >= 50
    demo = [d for d in listing["items"] if d["source"] == "demo"]
    assert len(demo) >= 50
    assert {d["status"] for d in demo} == set(range(1, 11))
    assert all(d["code"].startswith("000.17.22.H56-") for d in demo)
    assert any(re.search(r"[ăâđêôơưạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹ]", d["applicant"].lower())
               for d in demo)
    assert any(d["late"] and not d["finished"] for d in demo)

    ready = requests.get(server.url + "/api/v1/dossiers/ready").json()["items"]
    assert len(ready) >= 5 and all(r["status"] == 9 and r["ready"] for r in ready)
    assert all(MASKED.match(r["applicant"]) for r in ready), [r["applicant"] for r in ready]
    finished = [r["finished_at"] for r in ready]
    assert finished == sorted(finished, reverse=True)  # newest first

    sorry = requests.get(server.url + "/api/v1/dossiers/apologies").json()["items"]
    assert sorry and all(MASKED.match(r["applicant"]) for r in sorry)
    with_text = [r for r in sorry if r["apology"] and r["new_due_at"]]
    assert with_text and "xin lỗi" in with_text[0]["apology"]
    assert any(r["late"] and r["days_late"] > 0 for r in sorry)

    one = requests.get(server.url + f"/api/v1/dossiers/{ready[0]['code']}").json()
    assert one["status_label"] == "Đã xử lý xong" and "Trả kết quả" in one["next_step"]


def test_masked_by_default_full_name_with_the_secret(server, staff):
    day = _today() - timedelta(days=2)
    rec = _record("000.17.22.H56", day, 9101, nguoi_nop="Nguyễn Văn An", ma_tra_cuu="AB12CD",
                  so_giay_to="001090012345")
    r = _import(server, staff, to_csv([rec]))
    assert r.status_code == 200, r.text
    assert r.json()["imported"] == 1 and r.json()["errors"] == []
    code = rec["ma_ho_so"]

    pub = requests.get(server.url + f"/api/v1/dossiers/{code}")
    assert pub.status_code == 200
    body = pub.json()
    assert body["applicant"] == "Nguyễn V. A." and "Văn An" not in pub.text
    assert "AB12CD" not in pub.text and "001090012345" not in pub.text
    assert body["status"] == 4 and body["status_label"] == "Đang xử lý"
    assert body["received_at"] == day.isoformat() and body["due_at"] == (day + timedelta(days=10)).isoformat()
    assert body["ready"] is False and body["late"] is False and body["next_step"]
    # Lower case and a typographic dash find the same dossier.
    alt = code.lower().replace("-", "–", 1)
    assert requests.get(server.url + f"/api/v1/dossiers/{alt}").json()["code"] == code

    for answer in ({"ma_tra_cuu": "AB12CD"}, {"ma_tra_cuu": "ab12cd"}, {"ma_tra_cuu": "2345"}, {"cccd_4": "2345"}):
        v = requests.post(server.url + f"/api/v1/dossiers/{code}/verify", json=answer)
        assert v.status_code == 200, (answer, v.text)
        assert v.json()["applicant"] == "Nguyễn Văn An" and v.json()["verified"] is True
    unknown = requests.get(server.url + "/api/v1/dossiers/000.17.22.H56-200101-0001")
    assert unknown.status_code == 404 and unknown.json()["error"] == "unknown_dossier"
    assert "Không tìm thấy" in unknown.json()["message"]


def test_wrong_secrets_are_limited_per_code(server, staff):
    day = _today() - timedelta(days=1)
    a = _record("000.17.22.H56", day, 9201, ma_tra_cuu="RIGHT1")
    b = _record("000.17.22.H56", day, 9202, ma_tra_cuu="RIGHT2")
    assert _import(server, staff, to_csv([a, b])).status_code == 200
    url = server.url + f"/api/v1/dossiers/{a['ma_ho_so']}/verify"
    answers = [requests.post(url, json={"ma_tra_cuu": f"WRONG{i}"}) for i in range(5)]
    assert [r.status_code for r in answers] == [403] * 5
    assert [r.json()["tries_left"] for r in answers] == [4, 3, 2, 1, 0]
    assert "không đúng" in answers[0].json()["message"]
    blocked = requests.post(url, json={"ma_tra_cuu": "WRONG9"})
    assert blocked.status_code == 429 and "thử lại" in blocked.json()["message"]
    # Even the right secret waits now; another dossier is not affected.
    assert requests.post(url, json={"ma_tra_cuu": "RIGHT1"}).status_code == 429
    other = requests.post(server.url + f"/api/v1/dossiers/{b['ma_ho_so']}/verify", json={"ma_tra_cuu": "RIGHT2"})
    assert other.status_code == 200 and other.json()["verified"] is True


def test_three_bad_rows_among_a_thousand_import_nothing(server, staff):
    records = _records("000.302.36.H05", 1000, date(2026, 3, 2))
    bad = [dict(r) for r in records]
    bad[10]["ngay_nhan"] = "31/02/2026"  # row 12: no such day
    bad[500]["trang_thai"] = "11"  # row 502: no such status
    bad[998]["ma_ho_so"] = "KHONG-PHAI-MA"  # row 1000: not a code
    r = _import(server, staff, to_csv(bad))
    assert r.status_code == 422
    body = r.json()
    assert body["imported"] == 0 and body["error"] == "import_rejected" and body["message"]
    assert [e["row"] for e in body["errors"]] == [12, 502, 1000]
    assert "ngay_nhan" in body["errors"][0]["message"] and "trang_thai" in body["errors"][1]["message"]
    assert "ma_ho_so" in body["errors"][2]["message"]
    first = records[0]["ma_ho_so"]
    assert requests.get(server.url + f"/api/v1/dossiers/{first}").status_code == 404  # nothing imported

    good = _import(server, staff, to_csv(records))
    assert good.status_code == 200, good.text[:500]
    assert good.json()["imported"] == 1000 and good.json()["created"] == 1000 and good.json()["errors"] == []
    listing = requests.get(server.url + "/api/v1/dossiers", headers=staff,
                           params={"q": "000.302.36.H05", "per_page": 100, "page": 3}).json()
    assert listing["total"] == 1000 and len(listing["items"]) == 100 and listing["page"] == 3
    assert requests.get(server.url + f"/api/v1/dossiers/{records[999]['ma_ho_so']}").status_code == 200

    # Importing again updates in place: one status changed, the rest unchanged.
    again = [dict(r) for r in records]
    again[0]["trang_thai"] = 2 if again[0]["trang_thai"] != 2 else 5
    second = _import(server, staff, to_csv(again), multipart=True).json()
    assert (second["imported"], second["created"], second["updated"], second["unchanged"]) == (1000, 0, 1, 999)
    assert requests.get(server.url + f"/api/v1/dossiers/{first}").json()["status"] == again[0]["trang_thai"]


@pytest.mark.parametrize("multipart", [False, True])
def test_xlsx_imports_raw_and_multipart(server, staff, multipart):
    seq0 = 9300 if multipart else 9400
    records = [_record("000.00.12.G22", date(2026, 4, 6), seq0 + i, nguoi_nop="Trần Thị Bích Ngọc")
               for i in range(1, 21)]
    xlsx = to_xlsx(records)
    ctype = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    r = _import(server, staff, xlsx, filename="danh-sach.xlsx", multipart=multipart, content_type=ctype)
    assert r.status_code == 200, r.text
    assert r.json()["imported"] == 20 and r.json()["format"] == "xlsx"
    got = requests.get(server.url + f"/api/v1/dossiers/{records[5]['ma_ho_so']}").json()
    assert got["applicant"] == "Trần T. B. N." and got["received_at"] == "2026-04-06"


def test_csv_as_multipart(server, staff):
    records = [_record("H56", date(2026, 5, 4), i) for i in range(1, 4)]
    r = _import(server, staff, to_csv(records), multipart=True)
    assert r.status_code == 200 and r.json()["imported"] == 3


def test_only_staff_list_and_import(server):
    kiosk = _auth(KIOSK_TOKEN)
    assert requests.get(server.url + "/api/v1/dossiers").status_code == 401
    assert requests.get(server.url + "/api/v1/dossiers", headers=kiosk).status_code == 403
    assert requests.post(server.url + "/api/v1/dossiers/import", data=b"x").status_code == 401
    assert requests.post(server.url + "/api/v1/dossiers/import", headers=kiosk, data=b"x").status_code == 403
    code = "000.17.22.H56-200101-0001"
    assert requests.post(server.url + f"/api/v1/dossiers/{code}/status", json={"status": 9}).status_code == 401
    admin = _auth(server.token("admin"))
    assert requests.get(server.url + "/api/v1/dossiers", headers=admin).status_code == 200


LONG = "000.17.22.H56-" + "9" * 10_000
HOSTILE = [
    ("get", "/api/v1/dossiers/" + LONG, {}, 404),
    ("get", "/api/v1/dossiers/%00%01%02", {}, 404),
    ("get", "/api/v1/dossiers/..%2F..%2Fetc%2Fpasswd", {}, 404),
    ("get", "/api/v1/dossiers/%2e%2e", {}, 404),
    ("get", "/api/v1/dossiers/1%27%20OR%20%271%27%3D%271", {}, 404),
    ("get", "/api/v1/dossiers/000.17.22.H56-261399-0001", {}, 404),
    ("get", "/api/v1/dossiers/%F0%9F%92%A9", {}, 404),
    ("post", "/api/v1/dossiers/000.17.22.H56-200101-0001/verify", {"json": {"ma_tra_cuu": "x"}}, 404),
    ("post", "/api/v1/dossiers/" + LONG + "/verify", {"json": {"ma_tra_cuu": "x"}}, 404),
    ("post", "/api/v1/dossiers/000.17.22.H56-200101-0001/verify", {"data": "not json"}, 400),
    ("post", "/api/v1/dossiers/000.17.22.H56-200101-0001/verify",
     {"data": "{bad", "headers": {"Content-Type": "application/json"}}, 400),
    ("post", "/api/v1/dossiers/000.17.22.H56-200101-0001/verify", {"json": {"ma_tra_cuu": "A" * 10_000}}, 422),
    ("post", "/api/v1/dossiers/000.17.22.H56-200101-0001/verify", {"json": {"ma_tra_cuu": ["x"]}}, 422),
    ("post", "/api/v1/dossiers/000.17.22.H56-200101-0001/verify", {"json": [1, 2]}, 400),
    ("get", "/api/v1/lookup/scan", {}, 400),
    ("get", "/api/v1/lookup/scan?text=..%2F..%2Fetc%2Fpasswd", {}, 404),
    ("get", "/api/v1/lookup/scan?text=%00%01", {}, 404),
    ("get", "/api/v1/lookup/scan?text=" + "A" * 10_000, {}, 404),
    ("get", "/api/v1/lookup/scan?text=https%3A%2F%2Fx%2F%3FMHS%3D000.17.22.H56-200101-0001%27--", {}, 404),
    ("get", "/api/v1/lookup/scan?text=DROP%20TABLE%20dossiers%3B", {}, 404),
    ("get", "/api/v1/dossiers/ready?limit=abc", {}, 400),
    ("get", "/api/v1/dossiers/apologies?limit=-1", {}, 400),
]
STAFF_HOSTILE = [
    ("get", "/api/v1/dossiers?status=abc", {}, 400),
    ("get", "/api/v1/dossiers?status=11", {}, 400),
    ("get", "/api/v1/dossiers?per_page=0", {}, 400),
    ("get", "/api/v1/dossiers?page=x", {}, 400),
    ("get", "/api/v1/dossiers?late=maybe", {}, 400),
    ("get", "/api/v1/dossiers?q=" + "x" * 5_000, {}, 400),
    ("post", "/api/v1/dossiers/import", {"data": b""}, 400),
    ("post", "/api/v1/dossiers/import", {"data": b"\x00\x01\x02garbage" * 100}, 422),
    ("post", "/api/v1/dossiers/import", {"data": b"%PDF-1.4 ..."}, 422),
    ("post", "/api/v1/dossiers/import", {"data": b"PK\x03\x04broken zip"}, 422),
    ("post", "/api/v1/dossiers/import", {"data": "ma_ho_so\n../../etc/passwd\n".encode()}, 422),
    ("post", "/api/v1/dossiers/import", {"files": {"other": ("a.csv", b"x")}}, 400),
    ("post", "/api/v1/dossiers/000.17.22.H56-200101-0001/status", {"json": {"status": 9}}, 404),
    ("post", "/api/v1/dossiers/KHONG-CO/status", {"json": {"status": 9}}, 404),
    ("post", "/api/v1/dossiers/000.17.22.H56-200101-0001/status", {"json": {"status": "'; DROP TABLE x"}}, 422),
    ("post", "/api/v1/dossiers/000.17.22.H56-200101-0001/status", {"json": {"status": True}}, 422),
    ("post", "/api/v1/dossiers/000.17.22.H56-200101-0001/status", {"json": {}}, 422),
    ("post", "/api/v1/dossiers/000.17.22.H56-200101-0001/apology",
     {"json": {"new_due_date": "31/02/2027", "text": "x"}}, 422),
    ("post", "/api/v1/dossiers/000.17.22.H56-200101-0001/apology",
     {"json": {"new_due_date": "01/01/2099", "text": "x" * 600}}, 422),
]


@pytest.mark.parametrize("method,path,kw,status", HOSTILE)
def test_hostile_input_gets_a_clear_4xx(server, method, path, kw, status):
    r = getattr(requests, method)(server.url + path, timeout=20, **kw)
    assert r.status_code == status, (path[:80], r.status_code, r.text[:300])
    body = r.json()
    assert body["error"] and body["message"]
    assert "Traceback" not in r.text


@pytest.mark.parametrize("method,path,kw,status", STAFF_HOSTILE)
def test_hostile_staff_input_gets_a_clear_4xx(server, staff, method, path, kw, status):
    kw = dict(kw)
    headers = {**staff, **kw.pop("headers", {})}
    r = getattr(requests, method)(server.url + path, headers=headers, timeout=20, **kw)
    assert r.status_code == status, (path[:80], r.status_code, r.text[:300])
    body = r.json()
    assert body["error"] and (body["message"] or body.get("errors"))


def test_status_changes_show_in_get_lists_and_socket(server, staff):
    day = _today() - timedelta(days=3)
    rec = _record("000.17.22.H56", day, 9501, nguoi_nop="Lê Thị Ánh Tuyết")
    assert _import(server, staff, to_csv([rec])).status_code == 200
    code = rec["ma_ho_so"]
    listener = Listener(server.url)
    try:
        r = requests.post(server.url + f"/api/v1/dossiers/{code}/status", json={"status": 9}, headers=staff)
        assert r.status_code == 200 and r.json()["status"] == 9 and r.json()["applicant"] == "Lê Thị Ánh Tuyết"
        event = listener.wait_for("dossier:updated", lambda d: d.get("code") == code)
        assert event == {"code": code, "status": 9, "ready": True}
        pub = requests.get(server.url + f"/api/v1/dossiers/{code}").json()
        assert pub["ready"] is True and pub["status_label"] == "Đã xử lý xong" and pub["finished_at"] == _today().isoformat()
        ready = requests.get(server.url + "/api/v1/dossiers/ready").json()["items"]
        assert ready[0]["code"] == code and ready[0]["applicant"] == "Lê T. Á. T."

        # A kiosk may now take a "Trả kết quả" ticket for it; not for other fields.
        kiosk = _auth(KIOSK_TOKEN)
        t = requests.post(server.url + "/api/v1/tickets", json={"service": "TRAKQ", "dossier": code.lower()},
                          headers=kiosk)
        assert t.status_code == 201, t.text
        wrong_field = requests.post(server.url + "/api/v1/tickets", json={"service": "HOTICH", "dossier": code},
                                    headers=kiosk)
        assert wrong_field.status_code == 422

        r = requests.post(server.url + f"/api/v1/dossiers/{code}/status", json={"status": "Đã trả kết quả"},
                          headers=staff)
        assert r.status_code == 200 and r.json()["status"] == 10
        listener.wait_for("dossier:updated", lambda d: d.get("code") == code and d.get("status") == 10)
        ready = requests.get(server.url + "/api/v1/dossiers/ready").json()["items"]
        assert code not in [x["code"] for x in ready]
        not_ready = requests.post(server.url + "/api/v1/tickets", json={"service": "TRAKQ", "dossier": code},
                                  headers=_auth(KIOSK_TOKEN))
        assert not_ready.status_code == 409 and "đã được trả" in not_ready.json()["message"]
    finally:
        listener.close()


def test_apology_with_a_new_date(server, staff):
    day = date(2025, 12, 1)  # due before every other dossier here: first among the overdue
    rec = _record("000.17.22.H56", day, 9601, ngay_hen_tra=day + timedelta(days=5), nguoi_nop="Phạm Văn Đồng")
    assert _import(server, staff, to_csv([rec])).status_code == 200
    code = rec["ma_ho_so"]
    pub = requests.get(server.url + f"/api/v1/dossiers/{code}").json()
    assert pub["late"] is True and pub["apology"] is None
    assert pub["days_late"] == (_today() - date(2025, 12, 6)).days
    sorry = requests.get(server.url + "/api/v1/dossiers/apologies", params={"limit": 200}).json()["items"]
    assert code in [s["code"] for s in sorry]

    new_day = _today() + timedelta(days=7)
    r = requests.post(server.url + f"/api/v1/dossiers/{code}/apology", headers=staff,
                      json={"new_due_date": f"{new_day:%d/%m/%Y}", "text": ""})
    assert r.status_code == 200, r.text
    pub = requests.get(server.url + f"/api/v1/dossiers/{code}").json()
    assert pub["new_due_at"] == new_day.isoformat() and "xin lỗi" in pub["apology"]
    assert f"{new_day:%d/%m/%Y}" in pub["next_step"]
    assert pub["late"] is True  # the first promised day still counts (QĐ 766)
    sorry = requests.get(server.url + "/api/v1/dossiers/apologies").json()["items"]
    assert sorry[0]["apology"] and code in [s["code"] for s in sorry if s["apology"]]
    past = requests.post(server.url + f"/api/v1/dossiers/{code}/apology", headers=staff,
                         json={"new_due_date": "01/01/2020"})
    assert past.status_code == 422 and "đã qua" in past.json()["message"]


def test_scan_text_to_dossier(server, staff):
    rec = _record("000.17.22.H56", _today(), 9701)
    assert _import(server, staff, to_csv([rec])).status_code == 200
    code = rec["ma_ho_so"]
    for text in (code, f"\x02{code}\r\n", f"https://dichvucong.example.vn/tra-cuu?MHS={code}", f"MHS: {code.lower()}"):
        r = requests.get(server.url + "/api/v1/lookup/scan", params={"text": text})
        assert r.status_code == 200, (text, r.text)
        assert r.json()["code"] == code and r.json()["applicant"] == "Nguyễn V. A."


# The store on both databases -------------------------------------------------------------------
class RecordingBus:
    def __init__(self):
        self.sent: list[tuple[str, dict, str]] = []

    def emit(self, name, payload, audience="public"):
        self.sent.append((name, payload, audience))


@pytest.fixture
def svc(db_url, engine_for, office_config, clock):
    from motcua.auth import Throttle
    from motcua.dossiers.store import DossierStore

    store, engine = engine_for(db_url)
    svc = SimpleNamespace(store=store, engine=engine, config=office_config, bus=RecordingBus(),
                          auth=SimpleNamespace(throttle=Throttle(store, clock)),
                          settings=SimpleNamespace(extra={}))
    svc.dossiers = DossierStore.for_app(svc)
    return svc


def _csv_rows(records):
    from motcua.dossiers import parse_import

    result = parse_import(to_csv(records), "x.csv")
    assert not result.errors, result.errors
    return result.rows


def _events(svc, code):
    from motcua.store import tables as t

    with svc.store.read() as conn:
        return conn.execute(select(t.dossier_events).where(t.dossier_events.c.code == code)
                            .order_by(t.dossier_events.c.id)).all()


def test_store_seed_is_idempotent(svc):
    from motcua.dossiers.demo import seed_demo_dossiers

    ds = svc.dossiers
    assert seed_demo_dossiers(ds) == 60
    assert seed_demo_dossiers(ds) == 0
    page = ds.list_page(per_page=200)
    assert page["total"] == 60 and {d["status"] for d in page["items"]} == set(range(1, 11))
    assert len(ds.ready_list()) >= 5 and len(ds.apology_list()) >= 3
    assert all(d["finished_at"] for d in page["items"] if d["finished"])


def test_store_import_upsert_events_and_finish_dates(svc, clock):
    ds = svc.dossiers

    day = date(2026, 11, 2)
    recs = [_record("000.17.22.H56", day, i, trang_thai=4) for i in range(1, 4)]
    out = ds.import_rows(_csv_rows(recs), staff_id=7)
    assert (out.created, out.updated, out.unchanged) == (3, 0, 0)
    code = recs[0]["ma_ho_so"]
    assert [e.action for e in _events(svc, code)] == ["created"]

    clock.advance(hours=3)
    recs[0]["trang_thai"] = 9
    out = ds.import_rows(_csv_rows(recs), staff_id=7)
    assert (out.created, out.updated, out.unchanged) == (0, 1, 2)
    ev = _events(svc, code)[-1]
    assert ev.action == "updated" and ev.staff_id == 7 and ev.detail["changes"]["status"] == [4, 9]
    assert ev.detail["finished_at_assumed"] is True
    row = ds.get(code)
    assert row.finished_at == clock() and row.status == 9
    # A later import of the same finished dossier keeps the first finish moment.
    clock.advance(days=1)
    recs[0]["trang_thai"] = 10
    ds.import_rows(_csv_rows(recs))
    row = ds.get(code)
    assert row.finished_at == clock() - timedelta(days=1) and row.returned_at == clock()
    assert any(name == "dossier:updated" and p["code"] == code for name, p, aud in svc.bus.sent if aud == "public")


def test_store_import_file_is_all_or_nothing(svc):
    from motcua.store import tables as t

    ds = svc.dossiers
    recs = [_record("000.17.22.H56", date(2026, 10, 5), i) for i in range(1, 6)]
    recs[3]["thu_tuc"] = "Thủ tục " + "rất dài " * 70  # longer than the table's column
    body = ds.import_file(to_csv(recs), "hoso.csv")
    assert body["imported"] == 0 and [e["row"] for e in body["errors"]] == [5]
    with svc.store.read() as conn:
        assert conn.execute(select(t.dossiers.c.code).where(t.dossiers.c.code.like("000.17.22.H56-2610%"))).first() is None
    recs[3]["thu_tuc"] = "Đăng ký khai sinh"
    assert ds.import_file(to_csv(recs), "hoso.csv")["imported"] == 5


def test_store_column_mapping_from_settings(svc):
    ds = svc.dossiers

    svc.settings.extra["dossier_column_mapping"] = {"ma_ho_so": "Số hồ sơ", "nguoi_nop": "Người đứng tên"}
    data = ("Số hồ sơ,thu_tuc,linh_vuc,Người đứng tên,ngay_nhan,ngay_hen_tra,trang_thai\r\n"
            "H56-261102-0042,Đăng ký kết hôn,Hộ tịch,Võ Thị Sáu,02/11/2026,03/11/2026,2\r\n").encode()
    body = ds.import_file(data, "a.csv")
    assert body["imported"] == 1, body
    assert ds.public_or_none("h56-261102-0042")["applicant"] == "Võ T. S."


def test_store_verify_throttle_window(svc, clock):
    from motcua.dossiers import DossierError

    ds = svc.dossiers
    ds.import_rows(_csv_rows([_record("H56", date(2026, 11, 20), 1, ma_tra_cuu="SECRET9")]))
    code = "H56-261120-0001"
    for left in (4, 3, 2, 1, 0):
        with pytest.raises(DossierError) as err:
            ds.verify(code, "nope")
        assert err.value.status == 403 and err.value.extra["tries_left"] == left
    with pytest.raises(DossierError) as err:
        ds.verify(code, "SECRET9")
    assert err.value.status == 429
    clock.advance(minutes=11)
    assert ds.verify(code, "secret9")["applicant"] == "Nguyễn Văn An"


def test_store_list_filters_and_accents(svc, clock):
    ds = svc.dossiers

    recs = [
        _record("H56", date(2026, 11, 2), 1, nguoi_nop="Nguyễn Văn Ước", thu_tuc="Đăng ký khai sinh", trang_thai=4),
        _record("H56", date(2026, 11, 3), 2, nguoi_nop="Trần Thị Lan", thu_tuc="Đăng ký kết hôn", trang_thai=9,
                ngay_hen_tra=date(2026, 11, 30)),
        _record("H56", date(2026, 11, 4), 3, nguoi_nop="Lê Đức Thọ", thu_tuc="Chứng thực di chúc", trang_thai=4,
                ngay_hen_tra=date(2026, 11, 30)),
    ]
    ds.import_rows(_csv_rows(recs))
    codes = lambda page: [d["code"] for d in page["items"]]  # noqa: E731
    assert codes(ds.list_page(q="nguyen van uoc")) == ["H56-261102-0001"]
    assert codes(ds.list_page(q="DANG KY")) == ["H56-261103-0002", "H56-261102-0001"]
    assert codes(ds.list_page(q="chứng thực")) == ["H56-261104-0003"]
    assert codes(ds.list_page(q="h56-261103")) == ["H56-261103-0002"]
    for odd in ("%", "_", "\\", "' OR 1=1 --", "Nguyễn%Ước"):
        assert ds.list_page(q=odd)["total"] == 0, odd
    assert codes(ds.list_page(statuses=[4])) == ["H56-261104-0003", "H56-261102-0001"]
    # Today is 23/11/2026: the first is due 12/11 and not finished; the third is due 30/11.
    late = ds.list_page(late=True)
    assert codes(late) == ["H56-261102-0001"] and late["items"][0]["days_late"] == 11
    page = ds.list_page(per_page=2, page=2)
    assert page["total"] == 3 and page["pages"] == 2 and codes(page) == ["H56-261102-0001"]


def test_store_ticket_checks(svc):
    from motcua.dossiers import DossierError, clean_codes

    ds = svc.dossiers
    ds.import_rows(_csv_rows([_record("H56", date(2026, 11, 20), 1, trang_thai=9),
                              _record("H56", date(2026, 11, 20), 2, trang_thai=4)]))
    assert ds.ready_dossier_for_ticket(" h56-261120-0001 ", "TRAKQ") == "H56-261120-0001"
    for code, field, status in (("H56-261120-0002", "TRAKQ", 409), ("H56-261120-0003", "TRAKQ", 404),
                                ("rác", "TRAKQ", 422), ("H56-261120-0001", "HOTICH", 422)):
        with pytest.raises(DossierError) as err:
            ds.ready_dossier_for_ticket(code, field)
        assert err.value.status == status and err.value.message
    assert clean_codes(["h56-261120-0001", "H56-261120-0001", "000.17.22.h56 – 210531 – 0001"]) == [
        "H56-261120-0001", "000.17.22.H56-210531-0001"]
    with pytest.raises(DossierError) as err:
        clean_codes(["H56-261120-0001", "../../etc"])
    assert err.value.status == 422 and "Mã hồ sơ" in err.value.message


def test_store_public_by_code_reads_scans(svc):
    ds = svc.dossiers
    ds.import_rows(_csv_rows([_record("H56", date(2026, 11, 20), 1)]))
    for text in ("H56-261120-0001", " h56–261120–0001\r\n", "https://dvc.example.vn/tra-cuu?MHS=H56-261120-0001"):
        view = ds.public_by_code(text)
        assert view is not None and view["code"] == "H56-261120-0001" and view["applicant_masked"] is True, text
    for text in ("H56-261120-0002", "xin chào", "", None, "../../etc/passwd"):
        assert ds.public_by_code(text) is None, text


def test_store_status_and_apology_record_events(svc, clock):
    from motcua.dossiers import DossierError

    ds = svc.dossiers
    ds.import_rows(_csv_rows([_record("H56", date(2026, 11, 2), 5, ngay_hen_tra=date(2026, 11, 6))]))
    code = "H56-261102-0005"
    view = ds.record_apology(code, date(2026, 11, 27), "Xin lỗi ông/bà, hồ sơ cần xác minh thêm.", staff_id=3)
    assert view["new_due_at"] == "2026-11-27" and view["late"] is True and view["days_late"] == 17
    assert [i["code"] for i in ds.apology_list()] == [code]
    with pytest.raises(DossierError) as err:
        ds.record_apology(code, date(2026, 11, 5))
    assert err.value.status == 422
    view = ds.set_status(code, 9, staff_id=3)
    assert view["ready"] and view["finished_at"] == "2026-11-23" and view["timeliness"] == "finished_late"
    assert ds.apology_list() == [] and [i["code"] for i in ds.ready_list()] == [code]
    assert [(e.action, e.staff_id) for e in _events(svc, code)] == [("created", None), ("apology", 3), ("status", 3)]
    assert svc.bus.sent[-1] == ("dossier:updated", {"code": code, "status": 9, "ready": True}, "public")
    with pytest.raises(DossierError) as err:
        ds.record_apology(code, date(2026, 12, 1))
    assert err.value.status == 409
