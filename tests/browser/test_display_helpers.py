"""Shared set-up for the display's browser tests (fixtures imported by test_display_*.py).

A real `motcua demo` server whose data directory already holds the espeak-ng clip library
(generated once per test session), plus small helpers to issue and call tickets through the
API and to read the display's announcement log.
"""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import requests

LOG_JS = "els => els.map(e => Object.assign({}, e.dataset))"


@pytest.fixture(scope="session")
def voice_lib(tmp_path_factory) -> Path:
    """The default clip library, generated with espeak-ng once for the session."""
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng not installed")
    from motcua.speech import generate_library

    out = tmp_path_factory.getbasetemp() / "motcua-voice-library"
    generate_library(out)
    return out


def server_process_class(config):
    """tests/conftest.py's ServerProcess (found among the loaded conftest plugins)."""
    for plugin in config.pluginmanager.get_plugins():
        cls = getattr(plugin, "ServerProcess", None)
        if isinstance(cls, type):
            return cls
    raise RuntimeError("tests/conftest.py (ServerProcess) is not loaded")


def start_display_server(config, data_dir: Path, voice_lib: Path, **kw):
    """A demo server whose data directory holds the clip library (as start_voice_library
    leaves it), so the display speaks from the first call."""
    data_dir.mkdir(parents=True, exist_ok=True)
    shutil.copytree(voice_lib, data_dir / "voice", dirs_exist_ok=True)
    return server_process_class(config)(data_dir, **kw).start()


@pytest.fixture(scope="module")
def display_server(request, tmp_path_factory, voice_lib):
    """One demo server for a test module (tests use different counters or read fresh pages)."""
    srv = start_display_server(request.config, tmp_path_factory.mktemp("display") / "data", voice_lib)
    yield srv
    srv.stop()


def _kiosk_token() -> str:
    from config import load_config, sample_path

    return next(d.token for d in load_config(sample_path("commune")).devices if d.kind == "kiosk")


KIOSK_TOKEN = _kiosk_token()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def issue(server, service: str) -> dict:
    r = requests.post(server.url + "/api/v1/tickets", json={"service": service}, headers=bearer(KIOSK_TOKEN),
                      timeout=10)
    assert r.status_code == 201, r.text
    return r.json()


def call_next(server, counter: int, token: str) -> dict:
    r = requests.post(f"{server.url}/api/v1/counters/{counter}/call-next", headers=bearer(token), timeout=10)
    assert r.status_code == 200, r.text
    ticket = r.json()["ticket"]
    assert ticket is not None
    return ticket


def log_entries(page) -> list[dict]:
    return page.eval_on_selector_all("#announce-log li", LOG_JS)


def wait_log(page, count: int, state: str = "done", timeout_ms: int = 30_000) -> list[dict]:
    """Wait until the announcement log holds at least ``count`` entries, all in ``state``."""
    page.wait_for_function(
        """([n, st]) => {
             const li = [...document.querySelectorAll('#announce-log li')];
             return li.length >= n && li.every(e => e.dataset.state === st);
           }""",
        arg=[count, state], timeout=timeout_ms,
    )
    return log_entries(page)


def open_display(context_factory, server, path: str = "/display", **ctx_kw):
    page = context_factory(**ctx_kw).new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(server.url + path)
    # The first snapshot has arrived when the counters are drawn.
    page.wait_for_selector("#counters tbody tr", state="attached", timeout=10_000)
    page.js_errors = errors  # type: ignore[attr-defined]
    return page
