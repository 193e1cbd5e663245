"""Results at the counter (issue 6): staff mark a dossier "result ready" from the console; the
citizen's results ticket shows the returns counter which dossier to fetch before they arrive;
staff then mark it returned."""
from __future__ import annotations


import requests
from playwright.sync_api import expect

from helpers import KIOSK_TOKEN
from console_support import sign_in  # noqa: E402


def test_ready_then_returned_from_the_console(server, context_factory):
    staff = {"Authorization": f"Bearer {server.token('quay4')}"}
    listing = requests.get(server.url + "/api/v1/dossiers", params={"status": 4, "per_page": 1}, headers=staff).json()
    code = listing["items"][0]["code"]

    page = sign_in(context_factory, server.url, "quay4", 4)

    page.get_by_test_id("result-code").fill(code)
    page.get_by_test_id("result-ready").click()
    expect(page.get_by_test_id("result-msg")).to_have_attribute("data-status", "9")
    assert requests.get(f"{server.url}/api/v1/dossiers/{code}").json()["ready"] is True

    r = requests.post(server.url + "/api/v1/tickets", json={"service": "TRAKQ", "dossier": code},
                      headers={"Authorization": f"Bearer {KIOSK_TOKEN}"})
    assert r.status_code == 201, r.text
    waiting = page.locator(f"#next button[data-dossier='{code}']")
    expect(waiting).to_contain_text(code)  # the counter sees which dossier to fetch

    page.locator("#b-next").click()
    expect(page.get_by_test_id("current-number")).to_have_text(r.json()["number"])
    expect(page.locator("#cur-info")).to_contain_text(code)
    expect(page.get_by_test_id("result-code")).to_have_value(code)
    page.get_by_test_id("result-returned").click()
    expect(page.get_by_test_id("result-msg")).to_have_attribute("data-status", "10")
    assert requests.get(f"{server.url}/api/v1/dossiers/{code}").json()["status"] == 10
