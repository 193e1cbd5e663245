"""The kiosk with a device agent, in chromium: the server goes away, the kiosk page moves to
the agent's page on 127.0.0.1, a citizen takes a number there (marked issued offline, printed
on the agent's printer), and the page returns to the kiosk when the server is back; the number
is then in the queue (docs/agents.md)."""
from __future__ import annotations

import pytest
import requests

from helpers import wait_for
from test_agent import KIOSK, jobs, office  # noqa: F401  (the fixture)

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_the_kiosk_falls_back_to_the_agent_and_comes_back(office, context_factory):  # noqa: F811
    server, agent, printer_dir = office()
    a = agent().start()
    wait_for(lambda: a.status().get("linked") and all(f["remaining"] > 0 for f in a.status()["fields"]), 30,
             "the agent holds numbers")
    page = context_factory(viewport={"width": 1080, "height": 1920}).new_page()
    page.goto(f"{server.url}/kiosk?agent={a.local_port}")
    server.kill9()
    page.wait_for_url(f"{a.local}/**", timeout=30_000)
    page.get_by_role("button", name="Hộ tịch - Chứng thực").click()
    done = page.locator("#done")
    done.wait_for(state="visible")
    assert "Cấp khi mất kết nối" in done.inner_text()
    number = page.locator("#num").inner_text()
    wait_for(lambda: len(jobs(printer_dir)) == 1, 20, "the offline ticket printed")
    server.start()
    page.wait_for_url(f"{server.url}/kiosk?agent={a.local_port}", timeout=40_000)

    def in_queue():
        q = requests.get(server.url + "/api/v1/queue", timeout=5).json()
        return next(s for s in q["services"] if s["code"] == "HOTICH")["waiting"] == 1
    wait_for(in_queue, 30, "the offline ticket handed over")
    staff = requests.post(server.url + "/api/v1/auth/token", json={"username": "quay1", "password": "mat-khau-thu-nghiem"},
                          timeout=10).json()["token"]
    called = requests.post(server.url + "/api/v1/counters/1/call-next", json={}, timeout=10,
                           headers={"Authorization": f"Bearer {staff}"}).json()["ticket"]
    assert called["number"] == number and KIOSK
