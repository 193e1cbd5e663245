"""The console shows its own counter's devices (issue 4): a keypad unplugged and plugged back
is reported on the console as it happens."""
from __future__ import annotations

import re

import requests
from playwright.sync_api import expect
from console_support import sign_in  # noqa: E402


def test_console_shows_the_keypad_state(server, context_factory):
    page = sign_in(context_factory, server.url, "quay1", 1)
    keypad = page.locator("#devices li[data-device='ban-phim-quay/1']")
    expect(keypad).to_have_attribute("data-state", "ready", timeout=10_000)
    expect(keypad).to_contain_text("Bàn phím gọi số")
    expect(page.locator("#devices li[data-device='ban-phim-quay/2']")).to_have_count(0)

    h = {"Authorization": f"Bearer {server.token('admin')}"}
    requests.post(server.url + "/api/v1/devices/ban-phim-quay/simulate", json={"fault": "offline"}, headers=h)
    expect(keypad).not_to_have_attribute("data-state", "ready", timeout=10_000)
    expect(keypad).to_have_class(re.compile("device-problem"))
    requests.post(server.url + "/api/v1/devices/ban-phim-quay/simulate", json={"fault": None}, headers=h)
    expect(keypad).to_have_attribute("data-state", "ready", timeout=15_000)
