"""Security review (issue 14), the input side, in-process: findings 7 (deep JSON, huge ids),
11 (free text: control characters, escape sequences, bidi overrides, invisible-only text),
13 (a CSV row or field too long is refused while streaming, memory bounded) and 6b (ticket
URLs and their QR code never follow a spoofed Host header)."""
from __future__ import annotations

import io
import re
import sys
import unicodedata
from pathlib import Path

import pytest

from test_ratings import PASSWORD, write_rating_config

sys.path.insert(0, str(Path(__file__).resolve().parent / "dossiers"))  # dossier_samples

VI_DIACRITIC = re.compile(r"[ảạấầẩậắằẳặẽẹếềểệỉịỏọốồổộớờởợủụứừửựỳỵýđơưâêô]")
HUGE = [2**31, 2**63, 10**30]


def _vietnamese(body: dict) -> bool:
    return isinstance(body, dict) and bool(body.get("error")) and bool(VI_DIACRITIC.search(body.get("message", "")))


def _make_app(directory: Path, office_lines: str = ""):
    from config import load_config
    from motcua.app import Settings, create_app

    path = write_rating_config(directory / "cfg")
    if office_lines:
        text = path.read_text(encoding="utf-8").replace("[office]\n", "[office]\n" + office_lines, 1)
        path.write_text(text, encoding="utf-8")
    return create_app(Settings(config=load_config(path), data_dir=directory / "data", testing=True,
                               start_devices=False, background_jobs=False))


@pytest.fixture(scope="module")
def office(tmp_path_factory):
    app = _make_app(tmp_path_factory.mktemp("input"))
    client = app.test_client()
    tokens = {}
    for user in ("admin", "quay1"):
        r = client.post("/api/v1/auth/token", json={"username": user, "password": PASSWORD})
        tokens[user] = {"Authorization": "Bearer " + r.get_json()["token"]}
    yield app, tokens
    app.extensions["motcua"].close()


# Finding 7: nested JSON ----------------------------------------------------------------------
JSON_ROUTES = [
    ("POST", "/api/v1/tickets"), ("POST", "/api/v1/tickets/1/cancel"), ("POST", "/api/v1/counters/1/finish"),
    ("POST", "/api/v1/counters/1/transfer"), ("POST", "/api/v1/counters/1/call"), ("POST", "/api/v1/counters/1/hold"),
    ("POST", "/api/v1/counters/1/resume"), ("POST", "/api/v1/counters/1/pause"), ("POST", "/api/v1/ratings"),
    ("POST", "/api/v1/notices"), ("POST", "/api/v1/auth/token"), ("POST", "/api/v1/voice/regenerate"),
    ("POST", "/api/v1/dossiers/000.17.22.H56-250101-0001/verify"),
    ("POST", "/api/v1/dossiers/000.17.22.H56-250101-0001/status"),
    ("POST", "/api/v1/dossiers/000.17.22.H56-250101-0001/apology"),
    ("POST", "/api/v1/devices/may-in-ve/simulate"),
    # routes that read no body refuse it too, before doing anything
    ("POST", "/api/v1/counters/1/call-next"), ("POST", "/api/v1/counters/1/recall"),
    ("DELETE", "/api/v1/notices/1"),
]


@pytest.mark.parametrize("shape", ["list", "object"])
@pytest.mark.parametrize("method,path", JSON_ROUTES)
def test_json_nested_10000_deep_is_a_vietnamese_400(office, method, path, shape):
    app, tokens = office
    depth = 10_000
    body = "[" * depth + "]" * depth if shape == "list" else '{"a":' * depth + "1" + "}" * depth
    r = app.test_client().open(path, method=method, data=body, content_type="application/json",
                               headers=tokens["admin"])
    assert r.status_code == 400, r.get_data(as_text=True)[:300]
    assert _vietnamese(r.get_json()) and "lồng" in r.get_json()["message"]


def test_json_nesting_within_the_limit_still_parses(office):
    app, tokens = office
    body = '{"service": "HOTICH", "dossier": null}'
    nested = '{"service": ' + "[" * 20 + "]" * 20 + "}"
    client = app.test_client()
    assert client.post("/api/v1/tickets", data=body, content_type="application/json",
                       headers=tokens["admin"]).status_code == 201
    r = client.post("/api/v1/tickets", data=nested, content_type="application/json", headers=tokens["admin"])
    assert r.status_code == 422 and _vietnamese(r.get_json())  # parsed, then refused by the model


# Finding 7: ids above 2^31 / 2^63 -----------------------------------------------------------
def _id_rules(app):
    from werkzeug.routing.converters import NumberConverter

    for rule in app.url_map.iter_rules():
        ints = [name for name, conv in rule._converters.items() if isinstance(conv, NumberConverter)]
        if ints:
            yield rule, ints


def test_no_route_takes_an_unbounded_integer(office):
    app, _ = office
    from werkzeug.routing import IntegerConverter

    found = list(_id_rules(app))
    assert len(found) >= 20  # tickets, counters, notices, the console and the rating tablet
    unbounded = [rule.rule for rule, names in found
                 for name in names if type(rule._converters[name]) is IntegerConverter
                 or rule._converters[name].max is None]
    assert unbounded == [], "use <id:...>, never <int:...>"


def test_every_route_with_an_id_refuses_huge_numbers_with_a_4xx(office):
    app, tokens = office
    client = app.test_client()
    checked = 0
    for rule, names in _id_rules(app):
        for value in HUGE:
            path = rule.rule
            for name in names:
                path = re.sub(r"<[^>]*:" + name + ">", str(value), path)
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                r = client.open(path, method=method, headers=tokens["admin"], json={} if method != "GET" else None)
                assert 400 <= r.status_code < 500, (method, path, r.status_code, r.get_data(as_text=True)[:200])
                if path.startswith("/api/"):
                    assert _vietnamese(r.get_json()), (method, path, r.get_data(as_text=True)[:200])
                checked += 1
    assert checked >= 60


def test_a_number_of_5000_digits_in_a_route_is_a_404(office):
    app, tokens = office
    r = app.test_client().get("/api/v1/tickets/" + "9" * 5000, headers=tokens["admin"])
    assert r.status_code == 404 and _vietnamese(r.get_json())


INT_BODIES = [
    ("/api/v1/counters/1/call", "ticket", {}),
    ("/api/v1/counters/1/resume", "ticket", {}),
    ("/api/v1/ratings", "ticket", {"level": "satisfied"}),
    ("/api/v1/counters/1/transfer", "counter", {}),
    ("/api/v1/devices/may-in-ve/simulate", "address", {"action": "press", "key": "1"}),
]


@pytest.mark.parametrize("value", HUGE + [-(2**63) - 1])
@pytest.mark.parametrize("path,field,rest", INT_BODIES)
def test_int_body_fields_refuse_huge_numbers_with_a_422(office, path, field, rest, value):
    app, tokens = office
    r = app.test_client().post(path, json={**rest, field: value}, headers=tokens["admin"])
    assert r.status_code in (409, 422), (r.status_code, r.get_data(as_text=True)[:300])  # 409: no devices here
    assert _vietnamese(r.get_json())
    if r.status_code == 422:
        assert r.get_json()["fields"][0]["field"] == field


def test_every_int_field_of_every_request_model_has_an_upper_bound():
    import importlib
    import pkgutil

    from pydantic import BaseModel

    import motcua.api

    unbounded = []
    for mod in pkgutil.iter_modules(motcua.api.__path__):
        module = importlib.import_module(f"motcua.api.{mod.name}")
        for obj in vars(module).values():
            if not (isinstance(obj, type) and issubclass(obj, BaseModel) and obj.__module__ == module.__name__):
                continue
            for name, info in obj.model_fields.items():
                if "int" not in str(info.annotation) or "str" in str(info.annotation):
                    continue
                if not _has_upper_bound(info.annotation, info.metadata):
                    unbounded.append(f"{obj.__name__}.{name}")
    assert unbounded == []


def _has_upper_bound(annotation, metadata) -> bool:
    """A bound on the field itself, or inside an Annotated member of its type (`Id | None`)."""
    from typing import get_args

    from pydantic.fields import FieldInfo

    found = list(metadata)
    stack = [annotation]
    while stack:
        tp = stack.pop()
        for m in getattr(tp, "__metadata__", ()):
            found.extend(m.metadata if isinstance(m, FieldInfo) else [m])
        stack.extend(get_args(tp))
    return any(getattr(m, "le", None) is not None or getattr(m, "lt", None) is not None for m in found)


# Finding 11: free text -----------------------------------------------------------------------
VI_ALL = ("àáảãạ ăằắẳẵặ âầấẩẫậ èéẻẽẹ êềếểễệ ìíỉĩị òóỏõọ ôồốổỗộ ơờớởỡợ ùúủũụ ưừứửữự ỳýỷỹỵ đ "
          "ÀÁẢÃẠ ĂẰẮẲẴẶ ÂẦẤẨẪẬ ÈÉẺẼẸ ÊỀẾỂỄỆ ÌÍỈĨỊ ÒÓỎÕỌ ÔỒỐỔỖỘ ƠỜỚỞỠỢ ÙÚỦŨỤ ƯỪỨỬỮỰ ỲÝỶỸỴ Đ")
BAD_TEXTS = {
    "nul": "Nghỉ\x00 giải lao",
    "escape": "Nghỉ \x1b[31mgiải lao\x1b[0m",
    "bell": "Họp\x07",
    "c1": "Họp\x9b31m",
    "bidi_override": "Họp \u202ecông tác",
    "bidi_isolate": "\u2067Họp\u2069",
    "invisible_only": "\u200b\u200b\u2060",
    "blank_lookalikes": "\u3164\u2800 \u115f",
    "spaces_only": " \n\t ",
    "lone_surrogate": "Họp \ud800",
    "zalgo": "Ho\u0301\u0302\u0303\u0309\u0323p",
}
# (path, body builder): every free-text field of the API
FREE_TEXT = [
    ("/api/v1/counters/1/pause", lambda t: {"reason": t}),
    ("/api/v1/counters/1/hold", lambda t: {"reason": t}),
    ("/api/v1/tickets/1/cancel", lambda t: {"reason": t}),
    ("/api/v1/ratings", lambda t: {"ticket": 1, "level": "unsatisfied", "comment": t}),
    ("/api/v1/notices", lambda t: {"text": t}),
    ("/api/v1/dossiers/000.17.22.H56-250101-0001/apology", lambda t: {"new_due_date": "2026-12-31", "text": t}),
    ("/api/v1/dossiers/000.17.22.H56-250101-0001/status", lambda t: {"status": 4, "note": t}),
]


@pytest.mark.parametrize("kind", sorted(BAD_TEXTS))
@pytest.mark.parametrize("path,body", FREE_TEXT, ids=[p for p, _ in FREE_TEXT])
def test_free_text_with_control_bidi_or_invisible_characters_is_refused(office, path, body, kind):
    app, tokens = office
    text = BAD_TEXTS[kind]
    if kind == "spaces_only" and path != "/api/v1/counters/1/pause" and path != "/api/v1/notices":
        pytest.skip("an optional text may be left empty")
    import json

    raw = json.dumps(body(text))  # \ud800 stays an escape: a lone surrogate reaches the parser
    r = app.test_client().post(path, data=raw, content_type="application/json", headers=tokens["admin"])
    assert r.status_code == 422, (r.status_code, r.get_data(as_text=True)[:300])
    assert _vietnamese(r.get_json())


def test_free_text_type_normalises_and_keeps_every_vietnamese_letter():
    from motcua.web.text import clean_free_text

    assert clean_free_text(VI_ALL) == VI_ALL
    nfd = unicodedata.normalize("NFD", VI_ALL)
    assert nfd != VI_ALL and clean_free_text(nfd) == VI_ALL
    assert clean_free_text("  Họp\r\n\n  công\ttác \u00a0 ") == "Họp công tác"
    assert clean_free_text("Mẹ\u200bcon\ufeff") == "Mẹcon"  # stray zero-width characters are dropped
    assert clean_free_text("👨\u200d👩\u200d👧 gia đình") == "👨\u200d👩\u200d👧 gia đình"  # emoji joiners stay
    for kind, bad in BAD_TEXTS.items():
        with pytest.raises(ValueError):
            clean_free_text(bad, required=True)


def test_pause_reason_is_shown_normalised(office):
    app, tokens = office
    client = app.test_client()
    reason = unicodedata.normalize("NFD", "Hỗ trợ  quầy\nkhác, Đảng ủy")
    r = client.post("/api/v1/counters/2/pause", json={"reason": reason}, headers=tokens["admin"])
    assert r.status_code == 200, r.get_data(as_text=True)
    try:
        counters = client.get("/api/v1/counters").get_json()
        shown = next(c for c in counters if c["number"] == 2)
        assert "Hỗ trợ quầy khác, Đảng ủy" in str(shown)
    finally:
        client.post("/api/v1/counters/2/unpause", headers=tokens["admin"])


def test_notice_in_nfd_is_stored_in_nfc(office):
    app, tokens = office
    client = app.test_client()
    text = unicodedata.normalize("NFD", "Ngày mai nghỉ lễ Quốc khánh")
    r = client.post("/api/v1/notices", json={"text": text}, headers=tokens["admin"])
    assert r.status_code == 201 and r.get_json()["text"] == "Ngày mai nghỉ lễ Quốc khánh"
    client.delete(f"/api/v1/notices/{r.get_json()['id']}", headers=tokens["admin"])


# Finding 13: CSV rows and fields are bounded while streaming -----------------------------------
def _traced(fn):
    import tracemalloc

    tracemalloc.start()
    try:
        result = fn()
        return result, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_csv_header_row_of_8_mb_is_refused_naming_the_row_with_bounded_memory():
    from motcua.dossiers.importer import parse_import

    header = ",".join(f"cot_{i}" for i in range(800_000))
    data = (header + "\r\n" + "a,b\r\n").encode()
    assert len(data) > 8_000_000
    result, peak = _traced(lambda: parse_import(data, "ho-so.csv"))
    assert result.rows == [] and len(result.errors) == 1, result.errors
    err = result.errors[0]
    assert err["row"] == 1 and "Dòng 1" in err["message"] and VI_DIACRITIC.search(err["message"])
    assert peak < 4_000_000, f"peak {peak / 1e6:.1f} MB while refusing an 8 MB row"


def test_csv_field_over_4000_characters_is_refused_naming_its_row():
    from dossier_samples import HEADER, make_records, to_csv

    from motcua.dossiers.importer import parse_import

    records = make_records(5)
    records[2]["ghi_chu"] = "Ghi chú " + "rất dài " * 600  # a column the import does not even use
    result = parse_import(to_csv(records, columns=HEADER + ["ghi_chu"]), "ho-so.csv")
    assert result.rows == [] and result.errors[0]["row"] == 4, result.errors
    assert "Dòng 4" in result.errors[0]["message"] and "4.000" in result.errors[0]["message"]


def test_csv_multiline_cell_making_a_row_over_the_limit_is_refused():
    from dossier_samples import HEADER, make_records, to_csv

    from motcua.dossiers.importer import parse_import

    records = make_records(3)
    records[1]["ghi_chu"] = "dòng\n" * 20_000  # 100,000 characters in one quoted cell
    data = to_csv(records, columns=HEADER + ["ghi_chu"])
    result, peak = _traced(lambda: parse_import(data, "ho-so.csv"))
    assert result.rows == [] and result.errors[0]["row"] == 3, result.errors
    assert "Dòng 3" in result.errors[0]["message"]
    assert peak < 4_000_000


def test_csv_within_the_limits_still_imports():
    from dossier_samples import HEADER, make_records, to_csv

    from motcua.dossiers.importer import parse_import

    records = make_records(50)
    records[3]["ghi_chu"] = "Ghi chú " + "x" * 3990  # a column the import does not use
    result = parse_import(to_csv(records, columns=HEADER + ["ghi_chu"], bom=True), "ho-so.csv")
    assert result.errors == [] and len(result.rows) == 50


def test_catalogue_csv_with_a_huge_row_is_refused_naming_it():
    from motcua.catalogue import parse_csv

    header = "ma_thu_tuc,ten_thu_tuc,ma_linh_vuc,ten_linh_vuc"
    data = (header + "\r\nA1,Khai sinh,HOTICH,Hộ tịch\r\nA2," + "x," * 3_000_000 + "\r\n").encode()
    (procedures, issues), peak = _traced(lambda: parse_csv(data))
    assert procedures == [] and issues and issues[0].row == 3, issues
    assert "quá dài" in issues[0].message or "dài hơn" in issues[0].message
    assert peak < 20_000_000  # the file's text, not millions of cells


# Finding 6b: ticket URLs and QR codes never follow a spoofed Host ------------------------------
def _issue(client, host: str, headers) -> dict:
    r = client.post("/api/v1/tickets", json={"service": "HOTICH"}, headers={**headers, "Host": host})
    assert r.status_code == 201, r.get_data(as_text=True)
    return r.get_json()


def _qr_svg(url: str) -> bytes:
    import segno

    buf = io.BytesIO()
    segno.make(url, error="m").save(buf, kind="svg", scale=6, border=2)
    return buf.getvalue()


def test_spoofed_host_gets_the_configured_base_url_in_url_and_qr(tmp_path):
    app = _make_app(tmp_path, 'base_url = "http://192.168.1.10:5000"\n')
    try:
        client = app.test_client()
        t = _issue(client, "evil.example", {})
        assert t["url"] == f"http://192.168.1.10:5000/t/{t['token']}"
        qr = client.get(f"/t/{t['token']}/qr.svg", headers={"Host": "evil.example"})
        assert qr.status_code == 200 and qr.data == _qr_svg(t["url"])
    finally:
        app.extensions["motcua"].close()


def test_allowed_hosts_keep_a_listed_host_and_replace_any_other(tmp_path):
    app = _make_app(tmp_path, 'allowed_hosts = ["motcua.ubnd-hoabinh.vn", "192.168.1.10:5000"]\n')
    try:
        client = app.test_client()
        t = _issue(client, "192.168.1.10:5000", {})
        assert t["url"] == f"http://192.168.1.10:5000/t/{t['token']}"
        t = _issue(client, "MOTCUA.ubnd-hoabinh.vn", {})
        assert t["url"] == f"http://motcua.ubnd-hoabinh.vn/t/{t['token']}"
        t = _issue(client, "evil.example", {})
        assert t["url"] == f"http://motcua.ubnd-hoabinh.vn/t/{t['token']}"
        qr = client.get(f"/t/{t['token']}/qr.svg", headers={"Host": "evil.example"})
        assert qr.data == _qr_svg(t["url"])
    finally:
        app.extensions["motcua"].close()


def test_without_settings_only_lan_addresses_and_this_machine_are_trusted(office):
    import socket

    app, tokens = office
    client = app.test_client()
    t = _issue(client, "192.168.1.10:5000", tokens["quay1"])
    assert t["url"] == f"http://192.168.1.10:5000/t/{t['token']}"
    t = _issue(client, "localhost:5000", tokens["quay1"])
    assert t["url"] == f"http://localhost:5000/t/{t['token']}"
    own = socket.gethostname().lower()
    t = _issue(client, own + ":5000", tokens["quay1"])
    assert t["url"] == f"http://{own}:5000/t/{t['token']}"
    for spoofed in ("evil.example", "evil.example:5000", "8.8.8.8", "[2001:4860::8888]:80"):
        t = _issue(client, spoofed, tokens["quay1"])
        assert "evil" not in t["url"] and "8.8.8.8" not in t["url"] and "2001" not in t["url"], t["url"]
        qr = client.get(f"/t/{t['token']}/qr.svg", headers={"Host": spoofed})
        assert qr.data == _qr_svg(t["url"])


@pytest.mark.parametrize("hosts,words", [
    (["http://motcua.vn"], "tên máy"), (["motcua.vn/duong-dan"], "tên máy"), (["motcua.vn:99999"], "cổng"),
    (["bad host"], "tên máy"), ([""], "tên máy"),
])
def test_allowed_hosts_are_checked_in_the_config(hosts, words):
    from config.schema import OfficeInfo
    from pydantic import ValidationError

    with pytest.raises(ValidationError) as err:
        OfficeInfo(name="UBND", allowed_hosts=hosts)
    assert words in str(err.value)
    ok = OfficeInfo(name="UBND", allowed_hosts=["MotCua.vn", "192.168.1.10:5000", "[fe80::1]:8080"])
    assert ok.allowed_hosts == ["motcua.vn", "192.168.1.10:5000", "[fe80::1]:8080"]
