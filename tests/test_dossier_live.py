"""The live dossier source (motcua/dossiers/live.py) against a real HTTP server on
127.0.0.1, and its use by the dossier store (live answer saved locally, fallback to local
data, import column mapping from config)."""
from __future__ import annotations

import json
import socket
import threading
import time
from collections import Counter
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace
from urllib.parse import unquote, urlsplit

import pytest
from sqlalchemy import select

from config.schema import DossierSourceConfig, DossiersConfig

MAPPING = {"status": "data.trangThai", "procedure": "data.tenThuTuc", "applicant": "data.chuHoSo",
           "received_at": "data.ngayNhan", "due_at": "data.ngayHenTra", "finished_at": "data.ngayKetThuc"}
READY = "H56-261120-0001"
PROCESSING = "H56-261120-0002"
SLOW_S = 1.0
TIMEOUT_S = 0.3


def _answer(status, finished=None, **extra):
    data = {"trangThai": status, "tenThuTuc": "Đăng ký khai sinh", "chuHoSo": "Nguyễn Văn An",
            "ngayNhan": "20/11/2026", "ngayHenTra": "2026-11-25", "ngayKetThuc": finished, **extra}
    return {"code": 0, "data": data}


class FakeSource:
    """What the provincial system answers, per code, and how often it was asked."""

    def __init__(self):
        self.answers: dict[str, object] = {
            READY: _answer("Đã xử lý xong", "2026-11-24T15:30:00+07:00"),
            PROCESSING: _answer(4),
            "EMPTY": {"data": None},
            "NOSTATUS": {"data": {"tenThuTuc": "Đăng ký khai sinh"}},
            "BADSTATUS": _answer(42),
            "A B/C": _answer("4"),
        }
        self.hits: Counter[str] = Counter()
        self.lock = threading.Lock()

    def handler(self):
        source = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep test output quiet
                pass

            def do_GET(self):
                parts = urlsplit(self.path)
                code = unquote(parts.path.rsplit("/", 1)[-1])
                with source.lock:
                    source.hits[code] += 1
                if self.headers.get("X-Api-Key") != "bi-mat":
                    return self._send(401, b"{}")
                if code == "SLOW":
                    time.sleep(SLOW_S)
                    return self._send(200, json.dumps(_answer(4)).encode())
                if code == "BROKEN":
                    return self._send(200, b'{"data": {"trangThai": 4')
                if code == "BIG":
                    return self._send(200, b'{"pad": "' + b"x" * 1_100_000 + b'"}')
                if code == "ERR500":
                    return self._send(500, b"oops")
                if code in source.answers:
                    return self._send(200, json.dumps(source.answers[code], ensure_ascii=False).encode())
                return self._send(404, b'{"message": "not found"}')

            def _send(self, status, body):
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                try:
                    self.wfile.write(body)
                except OSError:  # the client gave up (timeout)
                    pass

        return Handler


@pytest.fixture
def fake():
    source = FakeSource()
    server = ThreadingHTTPServer(("127.0.0.1", 0), source.handler())
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    source.url = f"http://127.0.0.1:{server.server_address[1]}/api/tra-cuu/{{code}}"
    yield source
    server.shutdown()
    server.server_close()


class Tick:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def _cfg(url, **kw):
    return DossierSourceConfig(url_template=url, timeout_s=TIMEOUT_S, cache_s=kw.pop("cache_s", 60),
                               mapping=MAPPING, headers={"X-Api-Key": "bi-mat"}, **kw)


# --------------------------------------------------------------------------- LiveSource

def test_maps_fields_dates_and_status_labels(fake):
    from motcua.dossiers.live import LiveSource

    live = LiveSource(_cfg(fake.url))
    assert live.fetch(READY) == {
        "status": 9, "procedure": "Đăng ký khai sinh", "applicant": "Nguyễn Văn An",
        "received_at": date(2026, 11, 20), "due_at": date(2026, 11, 25), "finished_at": date(2026, 11, 24)}
    got = live.fetch(PROCESSING)
    assert got["status"] == 4 and "finished_at" not in got
    # The code is URL-encoded into the template (spaces, slashes).
    assert live.fetch("A B/C")["status"] == 4 and fake.hits["A B/C"] == 1


def test_answers_and_not_found_are_cached(fake):
    from motcua.dossiers.live import LiveSource

    tick = Tick()
    live = LiveSource(_cfg(fake.url, cache_s=60), clock=tick)
    for _ in range(3):
        assert live.fetch(READY)["status"] == 9
        assert live.fetch("H56-261120-0404") is None
        assert live.fetch("EMPTY") is None
    assert (fake.hits[READY], fake.hits["H56-261120-0404"], fake.hits["EMPTY"]) == (1, 1, 1)
    fake.answers[READY] = _answer(10, "24/11/2026", ngayTra="25/11/2026")
    tick.now += 61
    assert live.fetch(READY)["status"] == 10 and fake.hits[READY] == 2


def test_small_cache_forgets_oldest_code(fake):
    from motcua.dossiers.live import LiveSource

    live = LiveSource(_cfg(fake.url), clock=Tick(), cache_size=1)
    live.fetch(READY)
    live.fetch(PROCESSING)
    live.fetch(READY)
    assert fake.hits[READY] == 2


def test_timeout_backs_off_then_retries(fake):
    from motcua.dossiers.live import UNAVAILABLE, LiveSource

    tick = Tick()
    live = LiveSource(_cfg(fake.url), clock=tick)
    assert live.fetch("SLOW") is UNAVAILABLE
    # The source is considered down: another code is not asked for a while.
    assert live.fetch(READY) is UNAVAILABLE and fake.hits[READY] == 0
    tick.now += 11
    assert live.fetch(READY)["status"] == 9 and fake.hits[READY] == 1


@pytest.mark.parametrize("code", ["BROKEN", "BIG", "ERR500", "NOSTATUS", "BADSTATUS"])
def test_bad_answers_are_unavailable_and_remembered(fake, code, caplog):
    from motcua.dossiers.live import UNAVAILABLE, LiveSource

    tick = Tick()
    live = LiveSource(_cfg(fake.url), clock=tick)
    with caplog.at_level("WARNING", logger="motcua.dossiers.live"):
        assert live.fetch(code) is UNAVAILABLE
    assert "live dossier source" in caplog.text
    assert live.fetch(code) is UNAVAILABLE and fake.hits[code] == 1
    tick.now += 11
    assert live.fetch(code) is UNAVAILABLE and fake.hits[code] == 2


def test_refused_connection_is_unavailable():
    from motcua.dossiers.live import UNAVAILABLE, LiveSource

    live = LiveSource(_cfg(_dead_url()))
    assert live.fetch(READY) is UNAVAILABLE


def _dead_url():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/hoso/{{code}}"


# --------------------------------------------------------------------------- the store

def _svc(tmp_path, engine_for, office_config, clock, dossiers):
    from motcua.auth import Throttle
    from motcua.dossiers.store import DossierStore

    cfg = office_config.model_copy(update={"dossiers": dossiers})
    store, engine = engine_for(f"sqlite:///{tmp_path / 'motcua.db'}", cfg)
    svc = SimpleNamespace(store=store, engine=engine, config=cfg, bus=SimpleNamespace(emit=lambda *a: None),
                          auth=SimpleNamespace(throttle=Throttle(store, clock)), settings=SimpleNamespace(extra={}))
    svc.dossiers = DossierStore.for_app(svc)
    return svc


def _import_local(svc, code, status):
    data = ("ma_ho_so,thu_tuc,linh_vuc,nguoi_nop,ngay_nhan,ngay_hen_tra,trang_thai\r\n"
            f"{code},Đăng ký khai sinh,Hộ tịch,Nguyễn Văn An,20/11/2026,25/11/2026,{status}\r\n").encode()
    body = svc.dossiers.import_file(data, "hoso.csv")
    assert body["imported"] == 1, body


def _events(svc, code):
    from motcua.store import tables as t

    with svc.store.read() as conn:
        return conn.execute(select(t.dossier_events).where(t.dossier_events.c.code == code)
                            .order_by(t.dossier_events.c.id)).all()


def test_store_live_answer_wins_and_is_saved(fake, tmp_path, engine_for, office_config, clock):
    from motcua.dossiers import DossierError

    svc = _svc(tmp_path, engine_for, office_config, clock, DossiersConfig(live_source=_cfg(fake.url)))
    ds = svc.dossiers
    _import_local(svc, READY, 4)
    view = ds.public_or_none(READY.lower())
    assert view["status"] == 9 and view["ready"] is True and view["source"] == "live"
    assert "live_unavailable" not in view and view["finished_at"] == "2026-11-24"
    row = ds.get(READY)  # the local copy is current
    assert row.status == 9 and row.finished_at is not None
    ev = _events(svc, READY)
    assert [e.action for e in ev] == ["created", "live_sync"] and ev[-1].detail["changes"]["status"] == [4, 9]
    # The same answer again (cache emptied) changes nothing and writes no event.
    ds.live.clear()
    assert ds.public(READY)["source"] == "live"  # what GET /api/v1/dossiers/<code> uses
    assert fake.hits[READY] == 2 and len(_events(svc, READY)) == 2
    # A dossier only the live source knows is created locally; one it does not know is 404.
    assert ds.public_by_code(f"https://dvc.example.vn/tra-cuu?MHS={PROCESSING}")["status"] == 4
    assert ds.get(PROCESSING).source == "live"
    assert [e.action for e in _events(svc, PROCESSING)] == ["live_sync"]
    assert ds.public_or_none("H56-261120-0404") is None
    with pytest.raises(DossierError) as err:
        ds.require("H56-261120-0404")
    assert err.value.status == 404


def test_store_falls_back_to_local_data(tmp_path, engine_for, office_config, clock):
    svc = _svc(tmp_path, engine_for, office_config, clock, DossiersConfig(live_source=_cfg(_dead_url())))
    _import_local(svc, READY, 4)
    view = svc.dossiers.public_or_none(READY)
    assert view["status"] == 4 and view["source"] == "local" and view["live_unavailable"] is True
    assert [e.action for e in _events(svc, READY)] == ["created"]
    assert svc.dossiers.public_or_none(PROCESSING) is None


def test_store_without_live_source_says_local(tmp_path, engine_for, office_config, clock):
    svc = _svc(tmp_path, engine_for, office_config, clock, DossiersConfig())
    _import_local(svc, READY, 4)
    view = svc.dossiers.public_or_none(READY)
    assert view["source"] == "local" and "live_unavailable" not in view


def test_store_import_uses_column_mapping_from_config(tmp_path, engine_for, office_config, clock):
    mapping = {"ma_ho_so": "Số hồ sơ", "nguoi_nop": "Người đứng tên", "trang_thai": "Tình trạng"}
    svc = _svc(tmp_path, engine_for, office_config, clock, DossiersConfig(column_mapping=mapping))
    data = ("Số hồ sơ,thu_tuc,linh_vuc,Người đứng tên,ngay_nhan,ngay_hen_tra,Tình trạng\r\n"
            "H56-261102-0042,Đăng ký kết hôn,Hộ tịch,Võ Thị Sáu,02/11/2026,03/11/2026,Đang xử lý\r\n").encode()
    body = svc.dossiers.import_file(data, "a.csv")
    assert body["imported"] == 1, body
    view = svc.dossiers.public_or_none("h56-261102-0042")
    assert view["applicant"] == "Võ T. S." and view["status"] == 4
