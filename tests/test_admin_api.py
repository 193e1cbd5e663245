"""The administrator's API and screens (issue 12, Administration): who may, live changes,
refusals that protect waiting citizens, the office file, the audit log, retention."""
from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta, timezone

import pytest

from helpers import DISPLAY_TOKEN, KIOSK_TOKEN, FakeClock
from test_ratings import PASSWORD, write_rating_config

NEW_FIELD = {"code": "CUTRU", "name": "Cư trú", "name_en": "Residence", "numbering": {"mode": "prefix", "prefix": "R"},
             "daily_cap": 200, "icon": "", "kiosk": True}


def _make_app(tmp_path, *, db_url: str = "", clock=None, cfg_path=None, data=None):
    from config import load_config
    from motcua.app import Settings, create_app

    cfg = load_config(cfg_path or write_rating_config(tmp_path / "cfg"))
    kw = {"clock": clock} if clock is not None else {}
    return create_app(Settings(config=cfg, data_dir=data or tmp_path / "data", database_url=db_url, testing=True,
                               start_devices=False, background_jobs=False, **kw))


@pytest.fixture
def app(tmp_path, db_url):
    a = _make_app(tmp_path, db_url=db_url)
    yield a
    a.extensions["motcua"].close()


def _token(client, user: str) -> str:
    r = client.post("/api/v1/auth/token", json={"username": user, "password": PASSWORD})
    assert r.status_code == 200, r.get_data(as_text=True)
    return r.get_json()["token"]


def _admin(app):
    c = app.test_client()
    tok = _token(c, "admin")
    return lambda method, path, **kw: c.open(path, method=method, headers={"Authorization": f"Bearer {tok}"}, **kw)


# Who may ----------------------------------------------------------------------------------------
# Every admin API with a request that works for the administrator, in an order that works.
CALLS = [
    ("GET", "/api/v1/admin/config", None), ("PUT", "/api/v1/admin/office", {"phone": "0210 3846 000"}),
    ("PUT", "/api/v1/admin/hours", {"holidays": ["2026-09-02"], "extra_days": ["2026-05-09"]}),
    ("PUT", "/api/v1/admin/settings", {"privacy": {"retention_days": 365}}),
    ("GET", "/api/v1/admin/fields", None), ("POST", "/api/v1/admin/fields", {**NEW_FIELD, "counters": [3]}),
    ("PUT", "/api/v1/admin/fields/CUTRU", {"daily_cap": 150}), ("GET", "/api/v1/admin/counters", None),
    ("POST", "/api/v1/admin/counters", {"number": 7, "name": "Quầy 7 - Cư trú", "fields": ["CUTRU"]}),
    ("PUT", "/api/v1/admin/counters/7", {"fields": ["CUTRU", "HOTICH"]}),
    ("GET", "/api/v1/admin/staff", None),
    ("POST", "/api/v1/admin/staff", {"username": "quay7", "full_name": "Lê Văn Bảy", "counters": [7],
                                     "password": "mat-khau-quay-7"}),
    ("PUT", "/api/v1/admin/staff/quay7", {"full_name": "Lê Văn Bảy (Cư trú)"}),
    ("POST", "/api/v1/admin/staff/quay7/password", {"password": "mat-khau-moi-7"}),
    ("POST", "/api/v1/admin/staff/quay7/active", {"active": False}),
    ("GET", "/api/v1/admin/devices", None),
    ("PUT", "/api/v1/admin/devices/danh-gia-quay-2", {"options": {"timeout_s": 20}}),
    ("POST", "/api/v1/admin/devices", {"name": "bang-led-moi", "kind": "led", "url": "sim://", "counters": {"1": 3}}),
    ("DELETE", "/api/v1/admin/devices/bang-led-moi", None),
    ("GET", "/api/v1/admin/config.toml", None), ("POST", "/api/v1/admin/config/import?dry_run=1", "EXPORT"),
    ("GET", "/api/v1/admin/audit", None), ("GET", "/api/v1/admin/audit.csv", None),
    ("DELETE", "/api/v1/admin/counters/7", None), ("DELETE", "/api/v1/admin/fields/CUTRU", None),
    ("POST", "/api/v1/admin/config/import", "EXPORT"),
]


def test_every_admin_api_for_each_role(tmp_path):
    """Administrator 2xx; staff, kiosk, display and rating tokens 403; anonymous 401 (every
    endpoint named api.admin_* is called here)."""
    app = _make_app(tmp_path)
    try:
        c = app.test_client()
        tokens = {"staff": _token(c, "quay1"), "kiosk": KIOSK_TOKEN, "display": DISPLAY_TOKEN}
        admin = _admin(app)
        exported = admin("GET", "/api/v1/admin/config.toml").get_data(as_text=True)
        called = set()
        for method, path, body in CALLS:
            kw = {"json": {"toml": exported}} if body == "EXPORT" else ({"json": body} if body is not None else {})
            for role, tok in tokens.items():
                r = c.open(path, method=method, headers={"Authorization": f"Bearer {tok}"}, **kw)
                assert r.status_code == 403, (role, method, path, r.status_code)
                assert r.get_json()["message"]
            r = c.open(path, method=method, **kw)
            assert r.status_code == 401, (method, path, r.status_code)
            r = admin(method, path, **kw)
            assert 200 <= r.status_code < 300, (method, path, r.status_code, r.get_data(as_text=True)[:500])
            called.add(app.url_map.bind("localhost").match(path.split("?")[0], method=method)[0])
        every = {r.endpoint for r in app.url_map.iter_rules() if r.endpoint.startswith("api.admin_")}
        # Tested below: device tests need running devices, the catalogue import a file.
        assert every - called == {"api.admin_device_test", "api.admin_procedures_import"}
    finally:
        app.extensions["motcua"].close()


def test_admin_pages_need_an_administrator(tmp_path):
    app = _make_app(tmp_path)
    try:
        c = app.test_client()
        r = c.get("/admin")
        assert r.status_code == 401 and "Đăng nhập quản trị" in r.get_data(as_text=True)
        # Staff signed in at the counter: a Vietnamese "not allowed" page, and the API says 403 too.
        page = c.get("/counter").get_data(as_text=True)
        csrf = page.split('name="csrf" value="')[1].split('"')[0]
        r = c.post("/counter/login", data={"csrf": csrf, "username": "quay1", "password": PASSWORD})
        assert r.status_code == 302
        for path in ("/admin", "/admin/fields", "/admin/audit"):
            r = c.get(path)
            assert r.status_code == 403 and "Không có quyền quản trị" in r.get_data(as_text=True), path
        assert c.get("/api/v1/admin/config").status_code == 403
        # An administrator signing in (here or at the counter page) lands on /admin.
        c2 = app.test_client()
        page = c2.get("/admin").get_data(as_text=True)
        csrf = page.split('name="csrf" value="')[1].split('"')[0]
        r = c2.post("/admin/login", data={"csrf": csrf, "username": "admin", "password": PASSWORD, "next": "/admin"})
        assert r.status_code == 302 and r.headers["Location"].endswith("/admin")
        body = c2.get("/admin").get_data(as_text=True)
        assert "Tổng quan" in body and "Báo cáo" in body
        c3 = app.test_client()
        page = c3.get("/counter").get_data(as_text=True)
        csrf = page.split('name="csrf" value="')[1].split('"')[0]
        r = c3.post("/counter/login", data={"csrf": csrf, "username": "admin", "password": PASSWORD})
        assert r.headers["Location"].endswith("/admin")
        # A staff account cannot sign in to the admin page.
        c4 = app.test_client()
        page = c4.get("/admin").get_data(as_text=True)
        csrf = page.split('name="csrf" value="')[1].split('"')[0]
        r = c4.post("/admin/login", data={"csrf": csrf, "username": "quay1", "password": PASSWORD})
        assert r.status_code == 403 and "không phải tài khoản quản trị" in r.get_data(as_text=True)
        # A change with the cookie needs the page's CSRF token.
        assert c2.post("/api/v1/admin/fields", json=NEW_FIELD).status_code == 403
    finally:
        app.extensions["motcua"].close()


def test_device_tests_are_queued_for_the_devices(tmp_path):
    """Test print, test call on an LED board, unplug/replug of a simulated twin: 202 for the
    administrator (the device does the work), 403/401 for the others."""
    from config import load_config
    from helpers import wait_for
    from motcua.app import Settings, create_app

    data = tmp_path / "data"
    for sub in ("printer", "camera"):
        (data / sub).mkdir(parents=True, exist_ok=True)
    path = write_rating_config(tmp_path / "cfg")
    path.write_text(path.read_text(encoding="utf-8").replace("{data}", str(data)), encoding="utf-8")
    cfg = load_config(path)
    app = create_app(Settings(config=cfg, data_dir=data, testing=True, background_jobs=False))
    svc = app.extensions["motcua"]
    try:
        admin = _admin(app)
        c = app.test_client()
        staff = _token(c, "quay1")
        path = "/api/v1/admin/devices/bang-led-quay/test"
        assert c.post(path, json={"action": "test_call"}).status_code == 401
        for tok in (staff, KIOSK_TOKEN, DISPLAY_TOKEN):
            assert c.post(path, json={"action": "test_call"}, headers={"Authorization": f"Bearer {tok}"}).status_code == 403
        wait_for(lambda: (svc.devices.status_of("bang-led-quay") or {}).get("state") == "ready", 30, "LED board ready")
        r = admin("POST", path, json={"action": "test_call"})
        assert r.status_code == 202 and "8888" in r.get_json()["message"]
        wait_for(lambda: "8888" in str(svc.devices.simulated_state("bang-led-quay")), 15, "8888 on the board")
        wait_for(lambda: (svc.devices.status_of("may-in-ve") or {}).get("state") == "ready", 30, "printer ready")
        r = admin("POST", "/api/v1/admin/devices/may-in-ve/test", json={"action": "test_print"})
        assert r.status_code == 202, r.get_json()
        job = r.get_json()["job"]["job_id"] if isinstance(r.get_json().get("job"), dict) else None
        if job:
            wait_for(lambda: (svc.devices.job_state(job) or {}).get("state") == "done", 30, "test ticket printed")
        wait_for(lambda: (svc.devices.status_of("ban-phim-quay") or {}).get("state") == "ready", 30, "keypad ready")
        assert admin("POST", "/api/v1/admin/devices/ban-phim-quay/test", json={"action": "unplug"}).status_code == 202
        wait_for(lambda: (svc.devices.status_of("ban-phim-quay") or {}).get("state") != "ready", 30, "keypad lost")
        assert admin("POST", "/api/v1/admin/devices/ban-phim-quay/test", json={"action": "replug"}).status_code == 202
        wait_for(lambda: (svc.devices.status_of("ban-phim-quay") or {}).get("state") == "ready", 60, "keypad back")
        r = admin("POST", "/api/v1/admin/devices/may-in-ve/test", json={"action": "test_call"})
        assert r.status_code == 409 and "không phải bảng LED" in r.get_json()["message"]
        listed = {d["name"]: d for d in admin("GET", "/api/v1/admin/devices").get_json()["devices"]}
        assert listed["ban-phim-quay"]["state_label"] == "Sẵn sàng"
    finally:
        svc.close()


def _app_with_devices(tmp_path):
    """The rating office with its simulated devices (printer, camera, LED board...) running."""
    from config import load_config
    from motcua.app import Settings, create_app

    data = tmp_path / "data"
    for sub in ("printer", "camera"):
        (data / sub).mkdir(parents=True, exist_ok=True)
    path = write_rating_config(tmp_path / "cfg")
    path.write_text(path.read_text(encoding="utf-8").replace("{data}", str(data)), encoding="utf-8")
    return create_app(Settings(config=load_config(path), data_dir=data, testing=True, background_jobs=False))


def test_a_device_added_through_the_admin_api_runs_without_a_restart(tmp_path):
    """Issue 12: a new LED board in a restored office file is started by the running server
    (ready in /api/v1/devices); removed again, it is gone from the list."""
    from helpers import wait_for

    app = _app_with_devices(tmp_path)
    svc = app.extensions["motcua"]
    try:
        admin = _admin(app)

        def listed() -> dict[str, dict]:
            r = admin("GET", "/api/v1/devices")
            assert r.status_code == 200
            return {d["name"]: d for d in r.get_json()}

        wait_for(lambda: (listed().get("bang-led-quay") or {}).get("state") == "ready", 60, "LED board ready")
        exported = admin("GET", "/api/v1/admin/config.toml").get_data(as_text=True)
        board = ('\n[[devices]]\nname = "bang-led-moi"\nkind = "led"\nurl = "sim://"\n'
                 'counters = { "1" = 3 }\noptions = { protocol = "modbus" }\n')
        r = admin("POST", "/api/v1/admin/config/import", json={"toml": exported + board})
        assert r.status_code == 200, r.get_data(as_text=True)
        new = wait_for(lambda: (d := listed().get("bang-led-moi")) and d["state"] == "ready" and d, 60,
                       "the new board ready without a restart")
        assert new["state_label"] == "Sẵn sàng"
        assert listed()["bang-led-quay"]["state"] == "ready"  # the others keep running
        r = admin("POST", "/api/v1/admin/config/import", json={"toml": exported})
        assert r.status_code == 200, r.get_data(as_text=True)
        wait_for(lambda: not any(n.startswith("bang-led-moi") for n in listed()), 60, "the board removed")
    finally:
        svc.close()


def test_an_administrator_adds_changes_and_removes_a_device(tmp_path):
    """Issue 12, devices: a simulated LED board added on the devices page runs at once (ready in
    /api/v1/devices), its connection can be changed, it can be removed; a wrong kind or address
    is refused in Vietnamese (422), a name already used 409, staff 403; the audit log lists it all."""
    from helpers import wait_for

    app = _app_with_devices(tmp_path)
    svc = app.extensions["motcua"]
    try:
        admin = _admin(app)
        c = app.test_client()
        staff = {"Authorization": f"Bearer {_token(c, 'quay1')}"}

        def listed() -> dict[str, dict]:
            return {d["name"]: d for d in admin("GET", "/api/v1/devices").get_json()}

        board = {"name": "bang-led-quay-3", "kind": "led", "url": "sim://", "counters": {"1": 3},
                 "options": {"protocol": "modbus"}}
        assert c.post("/api/v1/admin/devices", json=board, headers=staff).status_code == 403
        assert c.post("/api/v1/admin/devices", json=board).status_code == 401
        r = admin("POST", "/api/v1/admin/devices", json={**board, "kind": "may-pha-ca-phe"})
        assert r.status_code == 422 and "Loại thiết bị" in r.get_json()["message"] and "Bảng LED" in r.get_json()["message"]
        r = admin("POST", "/api/v1/admin/devices", json={**board, "url": "usb://04b8:0202"})
        assert r.status_code == 422 and "Địa chỉ kết nối" in r.get_json()["message"] and "sim://" in r.get_json()["message"]
        r = admin("POST", "/api/v1/admin/devices", json={**board, "name": "Bảng LED 3"})
        assert r.status_code == 422 and "Tên thiết bị" in r.get_json()["message"]
        r = admin("POST", "/api/v1/admin/devices", json={**board, "counters": {"1": 99}})
        assert r.status_code == 422 and "99" in r.get_json()["message"]
        assert "bang-led-quay-3" not in {d.name for d in svc.config.devices}  # nothing half-applied
        r = admin("POST", "/api/v1/admin/devices", json={**board, "name": "bang-led-quay"})
        assert r.status_code == 409 and "Đã có thiết bị" in r.get_json()["message"]

        r = admin("POST", "/api/v1/admin/devices", json=board)
        assert r.status_code == 201, r.get_data(as_text=True)
        new = wait_for(lambda: (d := listed().get("bang-led-quay-3")) and d["state"] == "ready" and d, 60,
                       "the new board ready without a restart")
        assert new["state_label"] == "Sẵn sàng" and listed()["bang-led-quay"]["state"] == "ready"
        assert 'name = "bang-led-quay-3"' in (svc.settings.data_dir / "office.toml").read_text(encoding="utf-8")
        r = admin("POST", "/api/v1/admin/devices/bang-led-quay-3/test", json={"action": "test_call"})
        assert r.status_code == 202
        wait_for(lambda: "8888" in str(svc.devices.simulated_state("bang-led-quay-3")), 30, "8888 on the new board")

        # A serial address written as on the printer's hint becomes the port the driver opens.
        r = admin("PUT", "/api/v1/admin/devices/bang-led-quay-3", json={"url": "serial:///dev/ttyUSB7"})
        assert r.status_code == 200 and r.get_json()["url"] == "/dev/ttyUSB7"
        wait_for(lambda: (listed().get("bang-led-quay-3") or {}).get("state") not in (None, "ready"), 60,
                 "the board restarted on its new port")
        r = admin("PUT", "/api/v1/admin/devices/bang-led-quay-3", json={"kind": "printer"})
        assert r.status_code == 422 and "Không đổi được" in r.get_json()["message"]
        assert c.delete("/api/v1/admin/devices/bang-led-quay-3", headers=staff).status_code == 403

        # A kiosk gets its token from the server.
        r = admin("POST", "/api/v1/admin/devices", json={"name": "kiosk-2", "kind": "kiosk"})
        assert r.status_code == 201 and len(r.get_json()["token"]) >= 16
        kiosk = {"Authorization": f"Bearer {r.get_json()['token']}"}
        assert c.get("/api/v1/devices", headers=kiosk).status_code == 200

        assert admin("DELETE", "/api/v1/admin/devices/bang-led-quay-3").status_code == 200
        assert admin("DELETE", "/api/v1/admin/devices/kiosk-2").status_code == 200
        wait_for(lambda: not any(n.startswith("bang-led-quay-3") for n in listed()), 60, "the board removed")
        assert c.get("/api/v1/devices", headers=kiosk).status_code == 401  # its token opens nothing now
        assert admin("DELETE", "/api/v1/admin/devices/bang-led-quay-3").status_code == 404
        assert "bang-led-quay-3" not in (svc.settings.data_dir / "office.toml").read_text(encoding="utf-8")

        entries = admin("GET", "/api/v1/admin/audit?limit=20").get_json()["entries"]
        acts = [(e["action"], e["target"]) for e in entries]
        assert ("device.add", "bang-led-quay-3") in acts and ("device.delete", "bang-led-quay-3") in acts
        add = next(e for e in entries if e["action"] == "device.add" and e["target"] == "bang-led-quay-3")
        upd = next(e for e in entries if e["action"] == "device.update")
        gone = next(e for e in entries if e["action"] == "device.delete" and e["target"] == "kiosk-2")
        assert add["after"]["url"] == "sim://" and "Bảng LED" in add["summary"]
        assert upd["before"]["url"] == "sim://" and upd["after"]["url"] == "/dev/ttyUSB7"
        assert gone["before"]["token"] == "(đã đặt)"  # a credential never goes into the log
    finally:
        svc.close()


def test_procedure_catalogue_import_is_all_or_nothing(app):
    import json

    from motcua.catalogue import Catalogue

    admin = _admin(app)
    c = app.test_client()
    procs = [p.to_dict() for p in Catalogue.load_sample().procedures][:3]
    procs[0] = {**procs[0], "name": "Đăng ký thường trú (thử nghiệm nhập danh mục)"}
    good = json.dumps({"procedures": procs}, ensure_ascii=False).encode()
    path = "/api/v1/admin/procedures/import?filename=danh-muc.json"
    staff = _token(c, "quay1")
    assert c.post(path, data=good).status_code == 401
    for tok in (staff, KIOSK_TOKEN, DISPLAY_TOKEN):
        assert c.post(path, data=good, headers={"Authorization": f"Bearer {tok}"}).status_code == 403
    bad = json.dumps({"procedures": [procs[1], {**procs[2], "code": ""}, procs[1]]}, ensure_ascii=False).encode()
    r = admin("POST", path, data=bad)
    assert r.status_code == 422 and r.get_json()["error"] == "import_rejected" and r.get_json()["imported"] == 0
    assert {e["row"] for e in r.get_json()["errors"]} >= {2}
    assert "chưa nhập thủ tục nào" in r.get_json()["message"]
    before = c.get("/api/v1/procedures?q=thử nghiệm nhập danh mục").get_json()
    assert "thử nghiệm nhập danh mục" not in json.dumps(before, ensure_ascii=False)  # nothing changed
    r = admin("POST", path, data=good)
    assert r.status_code == 200 and r.get_json()["imported"] == 3
    found = c.get("/api/v1/procedures?q=thử nghiệm nhập danh mục").get_json()
    assert "thử nghiệm nhập danh mục" in json.dumps(found, ensure_ascii=False)
    assert admin("GET", "/api/v1/admin/audit?action=procedures.import").get_json()["total"] == 1


# Live changes ------------------------------------------------------------------------------------
def test_a_new_field_and_counter_apply_at_once(app):
    svc = app.extensions["motcua"]
    admin = _admin(app)
    sock = svc.socketio.test_client(app, auth={"token": KIOSK_TOKEN})
    sock.get_received()
    r = admin("POST", "/api/v1/admin/fields", json=NEW_FIELD)
    assert r.status_code == 201, r.get_json()
    assert any(m["name"] == "config:changed" for m in sock.get_received())
    r = admin("POST", "/api/v1/admin/counters", json={"number": 7, "name": "Quầy 7 - Cư trú", "fields": ["CUTRU"]})
    assert r.status_code == 201, r.get_json()
    q = app.test_client().get("/api/v1/queue").get_json()
    assert "CUTRU" in [s["code"] for s in q["services"]] and 7 in [c["number"] for c in q["counters"]]
    r = app.test_client().post("/api/v1/tickets", json={"service": "CUTRU"},
                               headers={"Authorization": f"Bearer {KIOSK_TOKEN}"})
    assert r.status_code in (200, 201), r.get_json()
    assert r.get_json()["number"] == "R001"
    called = admin("POST", "/api/v1/counters/7/call-next", json={})
    assert called.status_code == 200 and called.get_json()["ticket"]["number"] == "R001"
    sock.disconnect()


def test_changes_are_checked_like_check_config(app):
    admin = _admin(app)
    r = admin("POST", "/api/v1/admin/fields", json={**NEW_FIELD, "numbering": {"mode": "prefix", "prefix": "r1"}})
    assert r.status_code == 422
    body = r.get_json()
    assert body["error"] == "invalid_config"
    assert any("chữ cái in hoa" in p["message"] for p in body["problems"])
    r = admin("POST", "/api/v1/admin/counters", json={"number": 8, "fields": ["KHONGCO"]})
    assert r.status_code == 422 and "lĩnh vực không có" in r.get_json()["message"]
    r = admin("PUT", "/api/v1/admin/hours", json={"sessions": [["11:30", "07:30"]]})
    assert r.status_code == 422 and "phải trước giờ đóng cửa" in r.get_json()["message"]


def test_removing_a_field_with_people_waiting_is_refused_or_moves_them(app):
    svc = app.extensions["motcua"]
    admin = _admin(app)
    assert admin("POST", "/api/v1/admin/fields", json={**NEW_FIELD, "counters": [3]}).status_code == 201
    t1, t2 = svc.engine.issue("CUTRU"), svc.engine.issue("CUTRU")
    r = admin("DELETE", "/api/v1/admin/fields/CUTRU")
    assert r.status_code == 409
    body = r.get_json()
    assert body["error"] == "field_has_waiting" and "còn 2 người đang chờ" in body["message"]
    assert "HOTICH" in body["move_to"]
    assert "CUTRU" in [s["code"] for s in svc.engine.public_state()["services"]]  # nothing changed
    r = admin("DELETE", "/api/v1/admin/fields/CUTRU?move_to=HOTICH")
    assert r.status_code == 200, r.get_json()
    st = {s["code"]: s["waiting"] for s in svc.engine.public_state()["services"]}
    assert "CUTRU" not in st and st["HOTICH"] == 2
    called = admin("POST", "/api/v1/counters/1/call-next", json={}).get_json()["ticket"]
    assert called["id"] == t1["id"] and called["number"] == t1["number"]  # same number, same place
    assert {s["code"]: s["waiting"] for s in svc.engine.public_state()["services"]}["HOTICH"] == 1
    assert t2["number"] != t1["number"]


def test_a_counter_in_service_cannot_be_removed(app):
    svc = app.extensions["motcua"]
    admin = _admin(app)
    svc.engine.issue("LDTBXH")
    assert admin("POST", "/api/v1/counters/3/call-next", json={}).status_code == 200
    r = admin("DELETE", "/api/v1/admin/counters/3")
    assert r.status_code == 409 and r.get_json()["error"] == "counter_in_service"
    assert "Quầy 3 đang phục vụ" in r.get_json()["message"]
    assert 3 in [c["number"] for c in svc.engine.public_state()["counters"]]
    # Serving a field nobody else serves: taking that field off the only counter is refused too.
    svc.engine.issue("HKD")
    r = admin("PUT", "/api/v1/admin/counters/3", json={"fields": ["LDTBXH"]})
    assert r.status_code == 409 and r.get_json()["error"] == "field_unserved"


def test_the_running_office_survives_a_restart(tmp_path):
    app = _make_app(tmp_path)
    admin = _admin(app)
    assert admin("POST", "/api/v1/admin/fields", json={**NEW_FIELD, "counters": [3]}).status_code == 201
    app.extensions["motcua"].close()
    again = _make_app(tmp_path)  # started with the original file: the data folder's office wins
    try:
        cfg = again.extensions["motcua"].config
        assert cfg.field("CUTRU") is not None and cfg.counters_for_field("CUTRU") == [3]
    finally:
        again.extensions["motcua"].close()


# The office file, staff, audit --------------------------------------------------------------------
def test_export_passes_check_config_and_restores_the_same_office(tmp_path):
    from config import load_config_text

    app = _make_app(tmp_path)
    admin = _admin(app)
    admin("POST", "/api/v1/admin/fields", json={**NEW_FIELD, "counters": [3]})
    admin("POST", "/api/v1/admin/staff", json={"username": "quay7", "full_name": "Lê Văn Bảy", "counters": [3],
                                                "password": "mat-khau-quay-7"})
    text = admin("GET", "/api/v1/admin/config.toml").get_data(as_text=True)
    exported = load_config_text(text)
    assert exported.field("CUTRU") is not None and "quay7" in [s.username for s in exported.staff]
    assert "secret_key" not in text
    bad = text.replace('prefix = "R"', 'prefix = "r9"')
    r = admin("POST", "/api/v1/admin/config/import?dry_run=1", json={"toml": bad})
    assert r.status_code == 422 and r.get_json()["problems"][0]["key"].startswith("fields[")
    r = admin("POST", "/api/v1/admin/config/import?dry_run=1", json={"toml": "[office\nname="})
    assert r.status_code == 422 and "lỗi cú pháp TOML" in r.get_json()["message"]
    app.extensions["motcua"].close()
    (tmp_path / "restored").mkdir()
    path = tmp_path / "restored" / "office.toml"
    path.write_text(text, encoding="utf-8")
    fresh = _make_app(tmp_path / "fresh", cfg_path=path, data=tmp_path / "fresh-data")
    try:
        cfg = fresh.extensions["motcua"].config
        assert cfg.fields == exported.fields and cfg.counters == exported.counters and cfg.staff == exported.staff
        r = fresh.test_client().post("/api/v1/auth/token", json={"username": "quay7", "password": "mat-khau-quay-7"})
        assert r.status_code == 200  # the account came with its password
    finally:
        fresh.extensions["motcua"].close()


def test_staff_accounts_create_reset_disable(app):
    admin = _admin(app)
    c = app.test_client()
    r = admin("POST", "/api/v1/admin/staff", json={"username": "quay7", "full_name": "Lê Văn Bảy", "counters": [3],
                                                    "password": "mat-khau-quay-7"})
    assert r.status_code == 201 and r.get_json()["has_password"]
    tok = c.post("/api/v1/auth/token", json={"username": "quay7", "password": "mat-khau-quay-7"}).get_json()["token"]
    me = c.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {tok}"}).get_json()
    assert me["role"] == "staff" and me["counters"] == [3]
    assert admin("POST", "/api/v1/admin/staff/quay7/password", json={"password": "ngan"}).status_code == 422
    assert admin("POST", "/api/v1/admin/staff/quay7/password", json={"password": "mat-khau-moi-77"}).status_code == 200
    assert c.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {tok}"}).status_code == 401  # sessions ended
    assert c.post("/api/v1/auth/token", json={"username": "quay7", "password": "mat-khau-moi-77"}).status_code == 200
    # Another change later must not bring the old password back.
    assert admin("PUT", "/api/v1/admin/staff/quay7", json={"counters": [2, 3]}).status_code == 200
    assert c.post("/api/v1/auth/token", json={"username": "quay7", "password": "mat-khau-moi-77"}).status_code == 200
    assert admin("POST", "/api/v1/admin/staff/quay7/active", json={"active": False}).get_json()["active"] is False
    assert c.post("/api/v1/auth/token", json={"username": "quay7", "password": "mat-khau-moi-77"}).status_code == 401
    r = admin("POST", "/api/v1/admin/staff/admin/active", json={"active": False})
    assert r.status_code == 409


def test_audit_log_lists_changes_with_before_and_after(app):
    admin = _admin(app)
    admin("POST", "/api/v1/admin/fields", json=NEW_FIELD)
    admin("PUT", "/api/v1/admin/fields/CUTRU", json={"daily_cap": 150})
    entries = admin("GET", "/api/v1/admin/audit").get_json()["entries"]
    upd, add = entries[0], entries[1]
    assert add["action"] == "field.add" and add["user"] == "admin" and add["after"]["code"] == "CUTRU"
    assert upd["action"] == "field.update" and upd["before"]["daily_cap"] == 200 and upd["after"]["daily_cap"] == 150
    assert upd["at"].endswith("+07:00")
    text = admin("GET", "/api/v1/admin/audit.csv").get_data(as_text=True)
    table = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert table[0][:3] == ["Thời gian", "Người thực hiện", "Thao tác"] and len(table) == 3
    assert "Sửa lĩnh vực Cư trú" in table[1][4]


# Personal data retention ----------------------------------------------------------------------------
def test_retention_erases_old_personal_data_once_a_day(tmp_path, db_url):
    from sqlalchemy import select

    from motcua.configure.retention import erase_if_due
    from motcua.store import tables as t

    clock = FakeClock(datetime(2026, 11, 23, 2, 0, tzinfo=timezone.utc))
    app = _make_app(tmp_path, db_url=db_url, clock=clock)
    svc = app.extensions["motcua"]
    try:
        old, new = clock() - timedelta(days=400), clock()
        with svc.store.write() as conn:
            for code, at in (("H-OLD-1", old), ("H-NEW-1", new)):
                conn.execute(t.dossiers.insert().values(code=code, procedure="Đăng ký khai sinh", applicant="Nguyễn Văn A",
                                                         applicant_id="001099000001", phone="0912345678",
                                                         received_at=at, due_at=at, status=1, updated_at=at))
        assert erase_if_due(svc) == 0  # [privacy] retention_days = 0: kept
        admin = _admin(app)
        assert admin("PUT", "/api/v1/admin/settings", json={"privacy": {"retention_days": 365}}).status_code == 200
        svc.live.erased_on = None
        assert erase_if_due(svc) == 1
        assert erase_if_due(svc) == 0  # once per business day
        with svc.store.read() as conn:
            rows = {r.code: r for r in conn.execute(select(t.dossiers))}
        assert (rows["H-OLD-1"].applicant, rows["H-OLD-1"].phone, rows["H-OLD-1"].applicant_id) == ("", "", "")
        assert rows["H-NEW-1"].applicant == "Nguyễn Văn A" and rows["H-NEW-1"].phone == "0912345678"
        e = admin("GET", "/api/v1/admin/audit?action=privacy.erase").get_json()["entries"]
        assert len(e) == 1 and e[0]["after"]["rows"] == 1 and "1 hồ sơ" in e[0]["summary"]
        clock.advance(days=40)  # the new one is now 40 days old: kept; a day later the job runs again
        assert erase_if_due(svc) == 0
    finally:
        svc.close()
