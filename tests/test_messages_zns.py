"""Issue 15, messages through Zalo ZNS: the adapter posts the office's template with its
access token to the ZNS endpoint (here a small local HTTP server standing for Zalo), and a
refusal or a dead endpoint is retried, then shown as failed. SQLite only: the outbox itself
is tested on both databases in test_messages.py."""
from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from helpers import wait_for

TOKEN = "zalo-oa-access-token-thu"


class FakeZalo:
    """Answers like ZNS: {"error": 0} when accepted; `refuse` answers an error code instead."""

    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.refuse: int | None = None
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])).decode("utf-8"))
                outer.requests.append({"path": self.path, "token": self.headers.get("access_token"), "body": body})
                answer = ({"error": outer.refuse, "message": "Template không hợp lệ"} if outer.refuse
                          else {"error": 0, "message": "Success", "data": {"msg_id": "1"}})
                data = json.dumps(answer).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *a):  # quiet
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/message/template"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def zalo():
    z = FakeZalo()
    yield z
    z.close()


@pytest.fixture
def app(tmp_path, office_config, zalo):
    from config.schema import MessagesConfig, ZnsConfig
    from motcua.app import Settings, create_app

    cfg = office_config.model_copy(update={"devices": [], "messages": MessagesConfig(
        channels=["zns"], near_turn_ahead=1, retry_initial_s=0.1, retry_max_s=0.2, max_attempts=2,
        zns=ZnsConfig(url=zalo.url, access_token=TOKEN, timeout_s=2,
                      templates={"near": "301", "called": "302", "ready": "303"}))})
    app = create_app(Settings(config=cfg, data_dir=tmp_path / "data", testing=True, start_devices=False,
                              background_jobs=False))
    yield app
    app.extensions["motcua"].close()


def test_zns_sends_the_template_with_the_office_token(app, zalo):
    svc = app.extensions["motcua"]
    client = app.test_client()
    first, mine = svc.engine.issue("HOTICH"), svc.engine.issue("HOTICH")
    r = client.post("/api/v1/messages/opt-in", json={"token": mine["token"], "phone": "+84 912 345 678"})
    assert r.status_code == 201 and r.get_json()["phone_masked"] == "09xx xxx 678"
    wait_for(lambda: len(zalo.requests) == 1, 20, "the near-turn template")
    svc.engine.call_next(1)
    svc.engine.finish(1)
    svc.engine.call_next(1)
    wait_for(lambda: len(zalo.requests) == 2, 20, "the called template")
    near, called = zalo.requests
    assert near["token"] == TOKEN and near["path"] == "/message/template"
    assert near["body"]["phone"] == "84912345678" and near["body"]["template_id"] == "301"
    assert near["body"]["template_data"] == {"co_quan": "Trung tâm Phục vụ hành chính công phường Hòa Bình", "so_thu_tu": mine["number"],
                                             "so_nguoi_truoc": "1"}
    assert called["body"]["template_id"] == "302"
    assert called["body"]["template_data"]["quay"] == "1"


def test_zns_refusal_is_retried_then_failed(app, zalo):
    svc = app.extensions["motcua"]
    client = app.test_client()
    zalo.refuse = 132
    mine = svc.engine.issue("HOTICH")
    assert client.post("/api/v1/messages/opt-in", json={"token": mine["token"], "phone": "0912345678"}).status_code == 201
    wait_for(lambda: len(zalo.requests) == 2, 20, "two attempts")
    listing = wait_for(lambda: svc.messages.listing("failed", 10)["items"], 20, "the failure recorded")
    assert listing[0]["attempts"] == 2 and "132" in listing[0]["error"] and listing[0]["channel_label"] == "Zalo"
    zalo.close()  # Zalo unreachable: a clear reason, never a hang
    other = svc.engine.issue("HOTICH")
    client.post("/api/v1/messages/opt-in", json={"token": other["token"], "phone": "0987654321"})
    failed = wait_for(lambda: len(svc.messages.listing("failed", 10)["items"]) == 2 and svc.messages.listing("failed", 10),
                      30, "the second failure")
    assert "Không kết nối được Zalo" in failed["items"][0]["error"]
