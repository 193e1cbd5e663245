"""The kiosk's own endpoints and page settings, in process (no browser): printing a procedure's
checklist, the printers' state for a starting kiosk, and the page configuration."""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

import pytest

from kiosk.page_config import build_page_config
from motcua.app import Settings, create_app

KIOSK = "demo-kiosk-token-0001-doi-khi-trien-khai"
AUTH = {"Authorization": f"Bearer {KIOSK}"}


@dataclass
class FakeRegistry:
    """Stands in for the device registry: records checklist jobs, reports one printer."""

    jobs: list[dict[str, Any]] = field(default_factory=list)
    answer: dict[str, Any] | None = None

    def summary(self) -> list[dict[str, Any]]:
        return [{"name": "may-in-ve", "kind": "printer", "state": "paper_out", "detail": "Máy in hết giấy"},
                {"name": "camera-kiosk", "kind": "camera", "state": "ready", "detail": ""}]

    def print_ticket(self, ticket: dict[str, Any], *, reprint: bool = False) -> None:
        return None

    def print_checklist(self, procedure: dict[str, Any]) -> dict[str, Any] | None:
        self.jobs.append(procedure)
        return self.answer


@pytest.fixture
def app(office_config, tmp_path):
    a = create_app(Settings(config=office_config, data_dir=tmp_path / "data", testing=True,
                            start_devices=False, background_jobs=False))
    yield a
    svc = a.extensions["motcua"]
    close = getattr(svc, "close", None)
    if close:
        close()


def test_print_checklist_needs_a_kiosk_or_staff(app):
    c = app.test_client()
    r = c.post("/api/v1/procedures/HT.001/print")
    assert r.status_code == 401 and r.json["message"]


def test_print_checklist_without_a_printer_is_a_plain_409(app):
    c = app.test_client()
    r = c.post("/api/v1/procedures/HT.001/print", headers=AUTH)
    assert r.status_code == 409
    assert r.json == {"error": "no_printer", "message": "Chưa có máy in."}


def test_print_checklist_hands_the_procedure_to_the_registry(app):
    reg = FakeRegistry(answer={"job_id": "j1", "ticket_id": None, "state": "queued", "message": ""})
    app.extensions["motcua"].devices = reg
    c = app.test_client()
    r = c.post("/api/v1/procedures/HT.001/print", headers=AUTH)
    assert r.status_code == 202, r.json
    assert r.json["print_job"]["state"] == "queued"
    assert len(reg.jobs) == 1
    proc = reg.jobs[0]
    assert proc["code"] == "HT.001" and proc["name"] == "Đăng ký khai sinh"
    assert any("Tờ khai đăng ký khai sinh" in d["name"] and d["original"] == 1 for d in proc["documents"])

    assert c.post("/api/v1/procedures/KHONG.CO/print", headers=AUTH).status_code == 404
    assert c.post("/api/v1/procedures/" + "x" * 5000 + "/print", headers=AUTH).status_code == 404
    reg.answer = None
    r = c.post("/api/v1/procedures/HT.001/print", headers=AUTH)
    assert r.status_code == 409 and r.json["message"] == "Chưa có máy in."


def test_kiosk_status_lists_only_printers(app):
    c = app.test_client()
    assert c.get("/api/v1/kiosk/status").status_code == 401
    assert c.get("/api/v1/kiosk/status", headers=AUTH).json == {"printers": []}
    app.extensions["motcua"].devices = FakeRegistry()
    assert c.get("/api/v1/kiosk/status", headers=AUTH).json == {
        "printers": [{"name": "may-in-ve", "state": "paper_out", "detail": "Máy in hết giấy"}]}


def _page_config(html: str) -> dict[str, Any]:
    m = re.search(r"window\.MOTCUA_KIOSK = (\{.*?\});</script>", html)
    assert m, "page config missing"
    return json.loads(m.group(1))


def test_kiosk_page_config_from_device_options_and_url(app):
    c = app.test_client()
    cfg = _page_config(c.get("/kiosk").get_data(as_text=True))
    assert cfg["idleSeconds"] == 20 and cfg["lang"] == "vi" and cfg["scanGapMs"] == 50
    assert cfg["deviceToken"] == ""  # not the demo: the token is never put in the page
    cfg = _page_config(c.get("/kiosk?idle=45&lang=en").get_data(as_text=True))
    assert cfg["idleSeconds"] == 45 and cfg["lang"] == "en"
    cfg = _page_config(c.get("/kiosk?idle=-3&lang=fr").get_data(as_text=True))
    assert cfg["idleSeconds"] == 5 and cfg["lang"] == "vi"


def test_build_page_config_reads_and_clamps_options():
    cfg = build_page_config({"idle_seconds": 30, "browse_idle_seconds": "120", "lang": "en", "scan_gap_ms": 80},
                            {})
    assert (cfg.idle_seconds, cfg.browse_idle_seconds, cfg.lang, cfg.scan_gap_ms) == (30, 120, "en", 80)
    cfg = build_page_config({"idle_seconds": True, "browse_idle_seconds": 99999, "scan_gap_ms": "x"}, {"idle": "abc"})
    assert (cfg.idle_seconds, cfg.browse_idle_seconds, cfg.scan_gap_ms) == (20, 1800, 50)


def test_phone_page_and_qr_for_a_ticket(app):
    c = app.test_client()
    r = c.post("/api/v1/tickets", json={"service": "HOTICH"}, headers=AUTH)
    assert r.status_code == 201, r.json
    token = r.json["token"]
    page = c.get(f"/t/{token}").get_data(as_text=True)
    assert r.json["number"] in page and "Hộ tịch" in page
    qr = c.get(f"/t/{token}/qr.svg")
    assert qr.status_code == 200 and qr.mimetype == "image/svg+xml" and b"<svg" in qr.data
    assert c.get("/t/nope/qr.svg").status_code == 404
    assert c.get("/t/" + "a" * 200).status_code == 404
