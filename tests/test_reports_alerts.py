"""Service-level alerts (motcua/alerts.py): a wait over its field's threshold, a counter paused
too long, a printer out of paper; each starts and ends in the `alerts` list, goes out live as
`alert:changed`, and is listed by GET /api/v1/alerts. Thresholds come from `[alerts]`."""
from __future__ import annotations

import pytest
from pydantic import ValidationError

from motcua.events import ALERT_CHANGED, DEVICE_STATUS


@pytest.fixture
def office(db_url, tmp_path, clock):
    from config import load_config
    from config.schema import AlertsConfig
    from motcua.app import Settings, create_app
    from test_ratings import PASSWORD, write_rating_config

    cfg = load_config(write_rating_config(tmp_path / "cfg"))
    cfg = cfg.model_copy(update={"alerts": AlertsConfig(wait_max_min=10, wait_max_min_by_field={"DATDAI": 60},
                                                        pause_max_min=20)})
    app = create_app(Settings(config=cfg, data_dir=tmp_path / "data", database_url=db_url, testing=True,
                              start_devices=False, background_jobs=False, clock=clock))
    svc = app.extensions["motcua"]
    seen: list[dict] = []
    svc.bus.subscribe(lambda ev: seen.append(dict(ev.payload, audience=ev.audience)), names=[ALERT_CHANGED])
    client = app.test_client()
    token = client.post("/api/v1/auth/token", json={"username": "quay1", "password": PASSWORD}).get_json()["token"]
    yield svc, client, {"Authorization": f"Bearer {token}"}, seen
    svc.close()


def test_a_long_wait_starts_and_ends_an_alert(office, clock):
    svc, client, staff, seen = office
    svc.engine.issue("HOTICH")
    svc.engine.issue("DATDAI")
    clock.advance(minutes=9)
    assert svc.alerts.check() == []
    clock.advance(minutes=2)  # 11 min: over HOTICH's 10, under DATDAI's own 60
    started = svc.alerts.check()
    assert [c["change"] for c in started] == ["started"]
    alert = started[0]["alert"]
    assert (alert["kind"], alert["subject"], alert["active"]) == ("wait_long", "HOTICH", True)
    assert alert["message"] == "Lĩnh vực Hộ tịch - Chứng thực: có công dân chờ quá 10 phút."
    assert alert["started_at"].endswith("+07:00") and alert["kind_label"] == "Chờ quá lâu"
    assert seen[-1]["change"] == "started" and seen[-1]["audience"] == ("staff", "admins")
    assert [a["subject"] for a in seen[-1]["active"]] == ["HOTICH"]
    assert svc.alerts.check() == []  # still holding: no second row

    clock.advance(minutes=5)
    svc.engine.call_next(1)
    ended = svc.alerts.check()
    assert [(c["change"], c["alert"]["subject"]) for c in ended] == [("ended", "HOTICH")]
    assert ended[0]["alert"]["duration_s"] == 300 and ended[0]["alert"]["duration_label"] == "5 phút"
    body = client.get("/api/v1/alerts", headers=staff).get_json()
    assert body["active"] == []
    assert [(a["kind"], a["active"]) for a in body["recent"]] == [("wait_long", False)]
    assert body["recent"][0]["ended_at"] and body["thresholds"]["wait_max_min_by_field"] == {"DATDAI": 60}


def test_a_long_pause_and_a_printer_without_paper(office, clock):
    svc, client, staff, seen = office
    svc.engine.pause_counter(2, reason="Họp, công tác")
    clock.advance(minutes=21)
    changes = svc.alerts.check()
    assert [(c["alert"]["kind"], c["alert"]["subject"]) for c in changes] == [("counter_paused", "2")]
    assert "Quầy 2" in changes[0]["alert"]["message"] and "Lý do: Họp, công tác" in changes[0]["alert"]["message"]

    # A printer reporting "near the end" is no alert; "out of paper" is, until it reports otherwise.
    status = {"name": "may-in-ve", "kind": "printer", "state": "ready", "detail": "Máy in sắp hết giấy"}
    svc.bus.emit(DEVICE_STATUS, status, ("staff", "kiosks"))
    assert [a["kind"] for a in svc.alerts.active()] == ["counter_paused"]
    svc.bus.emit(DEVICE_STATUS, {**status, "state": "error", "detail": "Máy in hết giấy"}, ("staff", "kiosks"))
    assert sorted(a["kind"] for a in svc.alerts.active()) == ["counter_paused", "printer_paper"]
    assert seen[-1]["alert"]["message"] == "Máy in may-in-ve hết giấy: hãy thay cuộn giấy mới."
    svc.bus.emit(DEVICE_STATUS, {**status, "detail": "Máy in sẵn sàng"}, ("staff", "kiosks"))
    svc.engine.unpause_counter(2)
    svc.alerts.check()
    assert svc.alerts.active() == []
    recent = client.get("/api/v1/alerts?limit=5", headers=staff).get_json()["recent"]
    assert {(a["kind"], a["active"]) for a in recent} == {("counter_paused", False), ("printer_paper", False)}
    assert client.get("/api/v1/alerts?limit=0", headers=staff).status_code == 400
    assert client.get("/api/v1/alerts").status_code == 401


def test_thresholds_are_checked_in_the_office_file():
    from config import load_config, sample_path
    from config.schema import OfficeConfig

    base = load_config(sample_path("commune")).model_dump()
    with pytest.raises(ValidationError) as exc:
        OfficeConfig.model_validate({**base, "alerts": {"wait_max_min_by_field": {"KHONGCO": 20}}})
    assert "không có lĩnh vực mã 'KHONGCO'" in str(exc.value)
    with pytest.raises(ValidationError):
        OfficeConfig.model_validate({**base, "alerts": {"pause_max_min": 0}})
