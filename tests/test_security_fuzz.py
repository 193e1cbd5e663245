"""Property-based fuzz of the whole HTTP API (hypothesis): whatever a client sends, the answer
is never a 5xx, and every refusal is JSON with a code and a Vietnamese message.

Every route of the app is taken from its URL map (a new route is fuzzed without a line
here), with made-up path parameters (huge and negative numbers, long and odd text, encoded
slashes), query strings and JSON bodies (deep, wide, of every JSON type), as an
administrator (who reaches the most code) and as anonymous. Deterministic (derandomize), so
a failure is reproducible and CI never turns red by chance.
"""
from __future__ import annotations

import json
import re
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from test_ratings import PASSWORD, write_rating_config

SKIP = {"static", "kiosk.static", "counter.static", "display.static", "font", "voice.voice_clip"}
PARAM = re.compile(r"<(?:([a-z]+)(?:\([^)]*\))?:)?([a-z_]+)>")

json_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=40),
    st.sampled_from(["", "HOTICH", "000.17.22.H56-250101-0001", "1001", "\x00", "\u202e", "đ" * 300,
                     "2026-13-45", "9999-12-31", "very_satisfied"]),
)
json_values = st.recursive(json_scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=12), inner, max_size=5)), max_leaves=20)
known_keys = st.sampled_from(["service", "priority", "dossier", "counter", "ticket", "number", "reason", "level",
                              "reasons", "comment", "dossiers", "status", "text", "new_due", "ma_tra_cuu",
                              "username", "password", "fault", "key", "address", "code"])
bodies = st.one_of(json_values, st.dictionaries(known_keys, json_values, max_size=6))
path_values = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.text(min_size=1, max_size=30).map(lambda s: quote(s, safe="")),
    st.sampled_from(["1", "0", "99999999999999999999", "1e3", "%2F..%2F", "may-in-ve", "HOTICH", "x" * 300]),
)
queries = st.dictionaries(st.sampled_from(["from", "to", "q", "status", "number", "counter", "code", "limit",
                                           "page", "print", "late", "day", "service", "date"]),
                          st.one_of(st.text(max_size=20), st.integers(-(2**66), 2**66).map(str)), max_size=3)


@pytest.fixture(scope="module")
def office(tmp_path_factory):
    from config import load_config
    from motcua.app import Settings, create_app

    base = tmp_path_factory.mktemp("fuzz")
    app = create_app(Settings(config=load_config(write_rating_config(base / "cfg")), data_dir=base / "data",
                              testing=True, start_devices=False, background_jobs=False))
    r = app.test_client().post("/api/v1/auth/token", json={"username": "admin", "password": PASSWORD})
    yield app, r.get_json()["token"]
    app.extensions["motcua"].close()


def _routes():
    from config import load_config, sample_path
    from motcua.app import Settings, create_app
    import tempfile
    from pathlib import Path

    d = Path(tempfile.mkdtemp(prefix="motcua-fuzz-routes-"))
    app = create_app(Settings(config=load_config(sample_path("commune")), data_dir=d, testing=True,
                              start_devices=False, background_jobs=False))
    try:
        out = []
        for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
            if rule.endpoint in SKIP:
                continue
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                out.append((method, rule.rule))
        return out
    finally:
        app.extensions["motcua"].close()


ROUTES = _routes()


@pytest.mark.parametrize("method,rule", ROUTES, ids=[f"{m} {r}" for m, r in ROUTES])
def test_no_input_gives_a_server_error(office, method, rule):
    app, admin = office
    client = app.test_client()
    names = [m.group(2) for m in PARAM.finditer(rule)]

    @settings(max_examples=25, derandomize=True, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
    @given(params=st.fixed_dictionaries({n: path_values for n in names}), query=queries, body=bodies,
           as_admin=st.booleans(), raw=st.booleans())
    def check(params, query, body, as_admin, raw):
        path = PARAM.sub(lambda m: params[m.group(2)], rule)
        headers = {"Authorization": f"Bearer {admin}"} if as_admin else {}
        kw = {}
        if method != "GET":
            if raw:  # not JSON at all, or JSON with the wrong type
                kw["data"], kw["content_type"] = json.dumps(body)[:5000].encode()[::-1], "application/json"
            else:
                kw["json"] = body
        r = client.open(path, method=method, headers=headers, query_string=query, **kw)
        assert r.status_code < 500, (method, path, query, body, r.status_code, r.get_data(as_text=True)[:300])
        if r.status_code >= 400 and r.is_json:
            payload = r.get_json()
            assert payload.get("error") and payload.get("message"), (method, path, payload)

    check()


def test_deep_json_is_refused_everywhere(office):
    """10,000 nested arrays: a 4xx with a message, on a JSON route of every kind."""
    app, admin = office
    client = app.test_client()
    deep = "[" * 10_000 + "]" * 10_000
    for path in ("/api/v1/tickets", "/api/v1/ratings", "/api/v1/counters/1/call-next", "/api/v1/notices",
                 "/api/v1/auth/token"):
        r = client.post(path, data=deep, content_type="application/json",
                        headers={"Authorization": f"Bearer {admin}"})
        assert 400 <= r.status_code < 500, (path, r.status_code)
        assert r.get_json()["message"]
