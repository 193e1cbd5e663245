"""The per-address limit on public writes: an anonymous caller off this machine gets ten
tickets in ten minutes, then a Vietnamese 429; another caller goes on; the kiosk's own machine
is never limited."""
from __future__ import annotations

import pytest

from motcua.web.limits import SlidingWindowLimiter


@pytest.fixture
def app(tmp_path, office_config):
    from motcua.app import Settings, create_app

    app = create_app(Settings(config=office_config, data_dir=tmp_path / "data", testing=True,
                              start_devices=False, background_jobs=False))
    yield app
    app.extensions["motcua"].close()


def _issue(client, addr: str):
    return client.post("/api/v1/tickets", json={"service": "HOTICH"}, environ_base={"REMOTE_ADDR": addr})


def test_anonymous_tickets_are_limited_per_address(app):
    client = app.test_client()
    answers = [_issue(client, "10.1.2.3").status_code for _ in range(12)]
    assert answers == [201] * 10 + [429] * 2
    refused = _issue(client, "10.1.2.3")
    assert refused.get_json()["error"] == "too_many_tickets"
    assert "quá nhiều số" in refused.get_json()["message"]
    assert _issue(client, "10.9.9.9").status_code == 201  # another phone on the Wi-Fi goes on
    assert all(_issue(client, "127.0.0.1").status_code == 201 for _ in range(12))  # this machine


def test_the_window_slides(monkeypatch):
    now = [1000.0]
    monkeypatch.setattr("motcua.web.limits.time.monotonic", lambda: now[0])
    lim = SlidingWindowLimiter(2, 60)
    assert [lim.allow("a"), lim.allow("a"), lim.allow("a")] == [True, True, False]
    now[0] += 61
    assert lim.allow("a") and lim.allow("a") and not lim.allow("a")
